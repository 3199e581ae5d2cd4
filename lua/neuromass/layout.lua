--- Layout: where every signal, parameter and input of a model lives in the
-- engine's flat arrays.  Identical mass types across nodes form a group whose
-- lanes are the nodes, stored structure-of-arrays (variable k of lane l at
-- base + k*L + l), so one compiled program serves the whole group.
local core = require "neuromass.core"

local ipairs, pairs, table, math = ipairs, pairs, table, math

local M = {}

--- Lays out a network: returns the layout table described below.
function M.build(net)
  local groups, group_of_type = {}, {}
  for i, nd in ipairs(net.nodes) do
    for j, m in ipairs(nd.masses) do
      local g = group_of_type[m.type]
      if not g then
        g = { type = m.type, lanes = {} }
        groups[#groups + 1] = g
        group_of_type[m.type] = g
      end
      g.lanes[#g.lanes + 1] = { node = i, mass = j, inst = m }
    end
  end
  local L = {
    groups = groups,
    n_state = 0, n_aux = 0, n_param = 0, n_input = 0,
    sig = {},       -- sig[i][j][local name] = signal index (0-based)
    lane_of = {},   -- lane_of[i][j] = { group, lane (0-based) }
  }
  for i, nd in ipairs(net.nodes) do
    L.sig[i], L.lane_of[i] = {}, {}
    for j in ipairs(nd.masses) do L.sig[i][j] = {} end
  end
  -- State variables first (the integrated vector), then algebraic outputs.
  for _, g in ipairs(groups) do
    local n = #g.lanes
    g.L = n
    g.state_base = L.n_state
    L.n_state = L.n_state + n * #g.type.state_names
    for l, lane in ipairs(g.lanes) do L.lane_of[lane.node][lane.mass] = { g, l - 1 } end
  end
  for _, g in ipairs(groups) do
    g.aux_base = L.n_state + L.n_aux
    L.n_aux = L.n_aux + g.L * #g.type.output_names
  end
  for _, g in ipairs(groups) do
    local t = g.type
    for l, lane in ipairs(g.lanes) do
      local s = L.sig[lane.node][lane.mass]
      for k, v in ipairs(t.state_names) do s[v] = g.state_base + (k - 1) * g.L + (l - 1) end
      for k, v in ipairs(t.output_names) do s[v] = g.aux_base + (k - 1) * g.L + (l - 1) end
    end
    -- Parameters: the mass's own, then three per noise channel (mu, sigma, tau).
    g.param_base = L.n_param
    g.param_index = {}
    for k, p in ipairs(t.param_names) do g.param_index[p] = k - 1 end
    local np = #t.param_names
    for c = 1, #t.noise do
      for f, field in ipairs { "mu", "sigma", "tau" } do
        g.param_index["input_" .. (c - 1) .. "." .. field] = np + (c - 1) * 3 + (f - 1)
      end
    end
    g.n_params = np + 3 * #t.noise
    L.n_param = L.n_param + g.n_params * g.L
    -- Inputs: one block per input name.
    g.input_base = L.n_input
    g.input_index = {}
    for k, name in ipairs(t.all_inputs) do g.input_index[name] = k - 1 end
    L.n_input = L.n_input + #t.all_inputs * g.L
    -- A slow mass reads its inputs after their gains are applied: one more block.
    if t.slow then
      g.resolved_base = L.n_input
      L.n_input = L.n_input + #t.all_inputs * g.L
    end
  end
  -- Network-level parameters get one slot each.
  L.global = {}
  local names = {}
  for k in pairs(net.params) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    L.global[k] = L.n_param
    L.n_param = L.n_param + 1
  end
  return L
end

--- Gives every network-level parameter one slot per lane of every group
-- (g.lane_global[name] = the slot of lane 0, lane l at + l), after all the
-- others: compile.lua then reads a gain of the network's sums per lane.  The
-- networks of a batch (explore/batch.lua), each block with its own value.
function M.lane_globals(L)
  local names = {}
  for k in pairs(L.global) do names[#names + 1] = k end
  table.sort(names)
  for _, g in ipairs(L.groups) do
    g.lane_global = {}
    for _, k in ipairs(names) do
      g.lane_global[k] = L.n_param
      L.n_param = L.n_param + g.L
    end
  end
end

--- The parameter slot of (group, name, lane).
function M.param_slot(g, name, lane)
  return g.param_base + g.param_index[name] * g.L + lane
end

--- The input slot of (group, input name, lane).
function M.input_slot(g, name, lane)
  return g.input_base + g.input_index[name] * g.L + lane
end

--- numpy's rounding (half to even) of a delay in ms to whole steps: an
-- integer, or a float when it is not one (inf, NaN, beyond 2^63).  The rule
-- is the engine binding's (core.delay_steps, src/bind/l_matrix.c), which
-- also turns whole delay matrices into coupling rows.
function M.delay_steps(ms, dt)
  local r = core.delay_steps(ms, dt)
  return math.tointeger(r) or r
end

return M
