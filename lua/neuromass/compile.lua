--- Compilation: turns a model's layout, equations and sync rules into an
-- engine model (neuromass.core): one program per group of identical masses,
-- coupling sums in compressed rows, per-node sync programs for custom
-- couplings, constraints and noise processes.  Delays become whole steps here,
-- so an engine model is built for one dt.
local core = require "neuromass.core"
local expr = require "neuromass.expr"
local layout = require "neuromass.layout"
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local mass = require "neuromass.mass"
local delay_units = require "neuromass.run.delay_units"

local ipairs, string, type, tostring, rawlen, setmetatable, table =
      ipairs, string, type, tostring, rawlen, setmetatable, table
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

-- Where input `a` of mass j of node i comes from: "local", "rule", "zero" or nil.
local function source_kind(model, i, j, a, syncs_of)
  local nd = model.net.nodes[i]
  syncs_of[nd] = syncs_of[nd] or nd:local_syncs()
  if syncs_of[nd][j][a] then return "local" end
  if model.rules[a] then return "rule" end
  if model.standalone then return "zero" end
end

-- Why node nd (a node of the network) gives no local input `a`,
-- node_<to>_<from>[_sq], to its mass `m`: its missing local connectivity, or
-- mass type, or m's own type; "" for another name.
local function local_input_text(nd, m, a)
  local to, from = a:match("^node_(%a+)_(%a+)")
  if not to or not (a == "node_" .. to .. "_" .. from or a == "node_" .. to .. "_" .. from .. "_sq") then
    return ""
  end
  local lead = string.format(" ('%s' is a local coupling input: what %s %s mass receives from the %s masses of " ..
                             "its node, through the node's connectivity)", a, to:match("^[aeiou]") and "an" or "a",
                             to:upper(), from:upper())
  local mine = (m.type.type or ""):lower()
  if mine ~= to then
    return string.format("%s; mass '%s' is %s, so its local inputs are node_%s_<from>", lead, m.type.name,
                         m.type.type and "typed " .. m.type.type or "untyped (type = \"EXC\" or \"INH\")",
                         mine ~= "" and mine or "<type>")
  elseif not nd.connectivity then
    return string.format("%s; node '%s' has no local connectivity: give nm.node { connectivity = ... }, " ..
                         "%d x %d over its masses, [to][from]", lead, nd.label, #nd.masses, #nd.masses)
  end
  local types = {}
  for _, x in ipairs(nd.masses) do types[#types + 1] = string.format("'%s' (%s)", x.type.name, x.type.type) end
  return string.format("%s; node '%s' has no %s mass (its masses: %s)", lead, nd.label, from:upper(),
                       table.concat(types, ", "))
end

-- The nodes (0-based) of `lanes` (a group's lanes), for messages: "0 ('A')",
-- "0 ('A'), 2 ('A')", the first 8 then "... (N in all)".
local function node_list(model, lanes)
  local items = {}
  for k, lane in ipairs(lanes) do
    if k > 8 then items[#items + 1] = string.format("... (%d in all)", #lanes); break end
    items[k] = string.format("%d ('%s')", lane.node - 1, model.net.nodes[lane.node].label)
  end
  return table.concat(items, ", ")
end

--- Resolves every required input of every mass; a missing one is an error
-- naming the nodes that miss it, the mass and the input (a local coupling
-- input, node_<to>_<from>, with why the node gives none).
function M.check_inputs(model, level)
  local syncs_of = {}
  for _, g in ipairs(model.layout.groups) do
    g.sources = {}
    for _, a in ipairs(g.type.inputs) do
      local kind
      local missing = {}
      for _, lane in ipairs(g.lanes) do
        if not source_kind(model, lane.node, lane.mass, a, syncs_of) then missing[#missing + 1] = lane end
      end
      if missing[1] then
        local nd = model.net.nodes[missing[1].node]
        error(string.format("%s %s, mass '%s': required input '%s' is not provided by any sync rule of " ..
                            "network '%s'%s", #missing > 1 and "nodes" or "node", node_list(model, missing),
                            g.type.name, a, model.net.label,
                            local_input_text(nd, nd.masses[missing[1].mass], a)), level + 1)
      end
      for _, lane in ipairs(g.lanes) do
        local k = source_kind(model, lane.node, lane.mass, a, syncs_of)
        if kind and k ~= kind then
          error(string.format("mass '%s': input '%s' comes from different kinds of coupling in " ..
                              "different nodes", g.type.name, a), level + 1)
        end
        kind = k
      end
      g.sources[a] = kind
    end
  end
end

local function slot_of(leaf)
  if leaf.op == "var" or leaf.op == "par" or leaf.op == "in" or leaf.op == "gpar" then
    error("internal: unresolved symbol '" .. tostring(leaf.name) .. "'", 0)
  end
  return leaf.op, leaf.slot or 0, leaf.delay or 0
end

local function engine_leaf(op, slot, delay)
  return expr.leaf(op, nil, { slot = slot, delay = delay })
end

-- Replaces network-parameter leaves by global parameter slots, or, where
-- the layout gives a parameter one slot per lane of group g (layout.lane_globals:
-- the networks of a batch), by lane `lane`'s slot (a program's own lane: 0).
local function resolve_globals(e, L, g, lane)
  if type(e) == "number" then return expr.const(e) end
  return expr.substitute(e, function(leaf)
    if leaf.op == "gpar" then
      local per_lane = g and g.lane_global and g.lane_global[leaf.name]
      if per_lane then return engine_leaf("param", per_lane + (lane or 0)) end
      return engine_leaf("gparam", L.global[leaf.name])
    end
  end)
end

-- A delay in ms as whole steps of dt, refused (at `level`, as for error())
-- when the engine cannot represent that many steps; string.format(fmt, ...)
-- names the delay.
local function delay_of(ms, dt, level, fmt, ...)
  local steps = layout.delay_steps(ms, dt)
  if not (steps <= core.max_delay) then          -- NaN and infinite delays too
    error(string.format(fmt, ...) .. string.format(", %s ms, is %s steps of dt = %s ms; at " ..
                        "most %d steps can be represented (use a larger dt or a shorter delay)",
                        check.show(ms), check.show(steps), check.number(dt), core.max_delay), level + 1)
  end
  return steps
end

local function index_of(list, name)
  for k, v in ipairs(list) do if v == name then return k - 1 end end
end

-- The expression that stands for input `a` of group g.
local function input_expr(model, g, a)
  local L = model.layout
  local slot = layout.input_slot(g, a, 0)
  if a:match("^input_%d+$") then return engine_leaf("input", slot) end
  local kind = g.sources[a]
  if kind == "zero" or (kind == "rule" and model.rules[a].kind == "zero") then
    return expr.const(0)
  end
  local raw = engine_leaf("input", slot)
  if kind == "rule" and model.rules[a].kind == "sum" then
    return resolve_globals(model.rules[a].gain, L, g) * raw
  end
  return raw
end

-- Gives every table2d node of the roots its table's slot in the engine model,
-- adding each table once.
local function assign_tables(model, cm, roots)
  local seen = {}
  local function walk(e)
    if seen[e] then return end
    seen[e] = true
    if e.op == "table2d" then
      local slot = model.table_slots[e.tbl]
      if not slot then
        cm:add_table(e.tbl:spec())
        slot = model.n_tables
        model.table_slots[e.tbl], model.table_list[slot + 1] = slot, e.tbl
        model.n_tables = slot + 1
      end
      e.slot = slot
    end
    for i = 1, rawlen(e) do walk(e[i]) end   -- (an expression's # is an error)
  end
  for _, r in ipairs(roots) do walk(r[1]) end
end

-- The engine calls a slow mass's derivatives from C, in the middle of a step:
-- Lua's "attempt to yield across a C-call boundary" said in plain words.
local function explain_slow(msg)
  if msg:find("attempt to yield", 1, true) then
    return "", "its derivatives cannot yield (coroutine.yield): the engine calls them in the " ..
               "middle of a step"
  end
  return ""
end

-- The slow path: a program resolves the inputs, then a Lua function computes
-- the derivatives of every lane from plain numbers.
local function slow_group(model, cm, g)
  local t, Lanes = g.type, g.L
  local roots = {}
  for a_idx, a in ipairs(t.all_inputs) do
    roots[#roots + 1] = { input_expr(model, g, a), "input", g.resolved_base + (a_idx - 1) * Lanes }
  end
  if #roots > 0 then cm:add_program("rhs", expr.serialize(roots, slot_of), Lanes) end
  local spec = { read_kind = {}, read_idx = {}, write_kind = {}, write_idx = {} }
  local function read(kind, idx)
    spec.read_kind[#spec.read_kind + 1], spec.read_idx[#spec.read_idx + 1] = kind, idx
  end
  for l = 0, Lanes - 1 do
    for k = 0, #t.state_names - 1 do read(0, g.state_base + k * Lanes + l) end
    for k = 0, #t.param_names - 1 do read(1, g.param_base + k * Lanes + l) end
    for k = 0, #t.all_inputs - 1 do read(2, g.resolved_base + k * Lanes + l) end
    for k = 0, #t.state_names - 1 do
      spec.write_kind[#spec.write_kind + 1] = 0
      spec.write_idx[#spec.write_idx + 1] = g.state_base + k * Lanes + l
    end
  end
  local ns, np, ni = #t.state_names, #t.param_names, #t.all_inputs
  local user, out = t.derivatives, {}
  local call = check.user_caller(string.format("slow mass '%s': ", t.name), explain_slow)
  -- (a name the mass does not have, s.tua for s.tau, is an error with the nearest, not a nil)
  local function strict(names, what, lead)
    return setmetatable({}, { __index = function(_, k)
      error(string.format("unknown %s '%s'%s", what, tostring(k),
                          mass.unknown_hint(what == "input", k, names, lead)), 2)
    end })
  end
  local s = strict(t.state_names, "state variable", "the state variables are")
  local p = strict(t.param_names, "parameter", "the parameters are")
  local u = strict(t.all_inputs, "input", "the inputs are")
  -- (the first call's names are checked as a symbolic mass's are: no value for a name it does not have)
  local is_state, checked = {}, false
  for _, v in ipairs(t.state_names) do is_state[v] = true end
  cm:add_callback(function(values, time)
    local at = 0
    for l = 0, Lanes - 1 do
      for k = 1, ns do s[t.state_names[k]] = values[at + k] end
      at = at + ns
      for k = 1, np do p[t.param_names[k]] = values[at + k] end
      at = at + np
      for k = 1, ni do u[t.all_inputs[k]] = values[at + k] end
      at = at + ni
      -- (errors, whatever their kind, come back as text at the user's line)
      local d = call(user, s, p, u, time)
      if type(d) ~= "table" then
        check.error_at(user, string.format("slow mass '%s': derivatives returned %s, not a table",
                                           t.name, check.show(d)))
      end
      if not checked then
        for k in keyorder.pairs(d) do
          if not is_state[k] then
            check.error_at(user, string.format("slow mass '%s': derivatives gave a value for '%s', which " ..
                                               "is not a state variable%s", t.name, tostring(k),
                                               check.suggest_or_list(tostring(k), t.state_names,
                                                                     "the state variables are")))
          end
        end
        checked = true
      end
      for k = 1, ns do
        local v = d[t.state_names[k]]
        if type(v) ~= "number" then
          check.error_at(user, string.format("slow mass '%s': derivatives gave %s for '%s', not a " ..
                                             "number", t.name, check.show(v), t.state_names[k]))
        end
        out[l * ns + k] = v
      end
    end
    return out
  end, spec)
end

-- Programs computing the derivatives and algebraic outputs of group g.
local function group_programs(model, cm, g)
  if g.type.slow then return slow_group(model, cm, g) end
  local t, Lanes = g.type, g.L
  local d, out = t:equations()
  local inputs = {}
  local function repl(leaf)
    if leaf.op == "var" then
      local k = index_of(t.state_names, leaf.name)
      if k then return engine_leaf("signal", g.state_base + k * Lanes) end
      return engine_leaf("signal", g.aux_base + index_of(t.output_names, leaf.name) * Lanes)
    elseif leaf.op == "par" then
      return engine_leaf("param", g.param_base + g.param_index[leaf.name] * Lanes)
    elseif leaf.op == "in" then
      inputs[leaf.name] = inputs[leaf.name] or input_expr(model, g, leaf.name)
      return inputs[leaf.name]
    end
  end
  local memo = {}
  local function sub(e) return expr.substitute(expr.coerce(e), repl, memo) end
  local roots, after = {}, {}
  for k, v in ipairs(t.state_names) do
    roots[#roots + 1] = { sub(d[v]), "deriv", g.state_base + (k - 1) * Lanes }
  end
  for k, v in ipairs(t.output_names) do
    local r = { sub(out[v]), "signal", g.aux_base + (k - 1) * Lanes }
    if t.outputs_at == "after" then after[#after + 1] = r else roots[#roots + 1] = r end
  end
  assign_tables(model, cm, roots)
  assign_tables(model, cm, after)
  cm:add_program("rhs", expr.serialize(roots, slot_of), Lanes)
  if #after > 0 then cm:add_program("after", expr.serialize(after, slot_of), Lanes) end
end

-- Weight matrix of a sum rule, as core.matrix_rows reads it: the pack of the
-- connectivity that check_matrices took (net:packed), the connectivity squared
-- read from that pack ("square"), or the rule's own matrix.
local function rule_matrix(net, rule)
  local C = net.connectivity
  if rule.matrix == nil then return net:packed(C) end
  if rule.matrix == "square" then return (core.matrix_derive(net:packed(C), #C, "square")) end
  return rule.matrix
end

-- Compressed rows for network sum rule `rule` feeding input `a` of group g.
local function rule_rows(model, g, a, rule, dt, level)
  local net = model.net
  local W = rule_matrix(net, rule)
  local D = rule.delays or model.sync.delays
  local source = rule.delays and ("rule:" .. a) or "net"
  local c = { mode = rule.mode, dst = {}, self = {} }
  local n, signal = #net.nodes, {}       -- signal[j]: node j's rule.var, or false
  for j = 1, n do signal[j] = model:signal(j - 1, rule.var) or false end
  local rows = {}
  for l, lane in ipairs(g.lanes) do
    local i = lane.node
    rows[l] = i
    c.dst[l] = layout.input_slot(g, a, l - 1)
    if rule.mode == "diffusive" then c.self[l] = signal[i] or nil end
  end
  -- The entries of W in C (core.matrix_rows), from the packs check_matrices
  -- took of them just now when it did; a delay it cannot take is refused
  -- here, with delay_of's message.  The rows stay in C (m:add_coupling takes them).
  local crs, i, j = core.matrix_rows(W, net:packed(D), rows, signal, dt, core.max_delay)
  if crs then delay_units.note(model.delay_reach, source, i) end     -- (i: the longest delay taken)
  if not crs then
    delay_of(D[i][j], dt, level + 1, "network '%s': the delay from node %d to node %d%s", net.label,
             j - 1, i - 1, check.matrix_origin_text(D, { i, j }, "its length"))
  end
  c.rows = crs
  return c
end

-- Compressed rows for the node-local coupling helper `a` of group g.
local function local_rows(model, g, a, dt, level)
  local c = { mode = "additive", dst = {}, row_ptr = { 0 }, src = {}, delay = {}, weight = {} }
  for l, lane in ipairs(g.lanes) do
    local nd = model.net.nodes[lane.node]
    c.dst[l] = layout.input_slot(g, a, l - 1)
    for _, term in ipairs(nd:local_syncs()[lane.mass][a]) do
      if term.weight ~= 0 then
        local from = nd.masses[term.from]
        c.src[#c.src + 1] = model.layout.sig[lane.node][term.from][from.type.coupling[1]]
        c.delay[#c.delay + 1] = delay_of(term.delay, dt, level + 1, "node %d ('%s'): the local " ..
                                         "delay of input '%s'", lane.node - 1, nd.label, a)
        delay_units.note(model.delay_reach, "local:" .. nd.label, term.delay)
        c.weight[#c.weight + 1] = term.weight
      end
    end
    c.row_ptr[l + 1] = #c.src
  end
  return c
end

-- Per-node programs for a custom sync rule feeding input `a` of group g.
local function custom_programs(model, cm, g, a, rule, dt, level)
  local sync = model.sync
  for l, lane in ipairs(g.lanes) do
    local i = lane.node - 1
    local e = rule.exprs[i + 1]           -- evaluated and checked by resolve_sync
    local too_long
    e = expr.substitute(resolve_globals(e, model.layout, g, l - 1), function(leaf)
      if leaf.op == "hist" and not leaf.slot then
        local ms = leaf.delay_ms or sync.delays[i + 1][leaf.node + 1]
        delay_units.note(model.delay_reach, leaf.delay_ms and ("rule:" .. a) or "net", ms)
        local steps = layout.delay_steps(ms, dt)
        if not (steps <= core.max_delay) then too_long = too_long or { ms = ms, from = leaf.node } end
        return engine_leaf("hist", model:signal(leaf.node, leaf.name), steps)
      end
    end)
    if too_long then
      delay_of(too_long.ms, dt, level + 1, "custom coupling '%s': the delay from node %d to node %d",
               a, too_long.from, i)
    end
    cm:add_program("sync", expr.serialize({ { e, "input", layout.input_slot(g, a, l - 1) } },
                                          slot_of), 1)
  end
end

--- Builds the engine model (a neuromass.core model) for time step dt (ms);
-- errors at `level` (as for error()).  model.delay_reach: the longest delay
-- (ms) of each source of delays the coupling takes (run/delay_units.lua).
function M.build(model, dt, level)
  local L, net = model.layout, model.net
  model.delay_reach = {}
  model.matrix_snapshot = net:check_matrices(3)
  model.rules, model.sync = net:resolve_sync()
  M.check_inputs(model, level + 1)
  local cm = core.model { n_state = L.n_state, n_aux = L.n_aux, n_param = L.n_param,
                          n_input = L.n_input }
  model.table_slots, model.table_list, model.n_tables = {}, {}, 0
  for _, g in ipairs(L.groups) do
    group_programs(model, cm, g)
    local t = g.type
    for _, a in ipairs(t.inputs) do
      local kind = g.sources[a]
      if kind == "local" then
        cm:add_coupling(local_rows(model, g, a, dt, level + 1))
      elseif kind == "rule" then
        local rule = model.rules[a]
        if rule.kind == "sum" then cm:add_coupling(rule_rows(model, g, a, rule, dt, level + 1))
        elseif rule.kind == "custom" then custom_programs(model, cm, g, a, rule, dt, level + 1) end
      end
    end
    for l in ipairs(g.lanes) do
      for v, range in keyorder.pairs(t.clamp) do
        cm:add_clamp(g.state_base + index_of(t.state_names, v) * g.L + l - 1, range[1], range[2])
      end
      for v, period in keyorder.pairs(t.wrap) do
        cm:add_wrap(g.state_base + index_of(t.state_names, v) * g.L + l - 1, period)
      end
      for c = 1, #t.noise do
        local name = "input_" .. (c - 1)
        cm:add_noise(layout.input_slot(g, name, l - 1), layout.param_slot(g, name .. ".mu", l - 1),
                     layout.param_slot(g, name .. ".sigma", l - 1),
                     layout.param_slot(g, name .. ".tau", l - 1),
                     model.noise_x0[layout.input_slot(g, name, l - 1)] or 0 / 0,
                     t.noise[c].kind == "white")
      end
    end
  end
  return cm
end

return M
