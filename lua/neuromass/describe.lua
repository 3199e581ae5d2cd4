--- model:describe: a readable description of a model (nodes, masses, state
-- variables, initial state, parameters), as `neuromass info` prints it.
local params = require "neuromass.params"
local stimulus = require "neuromass.stimulus"
local check = require "neuromass._check"
local Model = require("neuromass.model").Model

local type, ipairs, string, table, tostring = type, ipairs, string, table, tostring

-- A value of the description: numbers in their shortest exact form,
-- stimuli as they print, matrices and series by their size.
local function fmt(v)
  if stimulus.is_stimulus(v) then return tostring(v) end
  if type(v) == "number" then return check.number(v) end
  if type(v) == "table" and #v > 0 then
    if type(v[1]) == "table" then return string.format("<%dx%d matrix>", #v, #v[1]) end
    return string.format("<%d values>", #v)
  end
  return tostring(v)
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
  add("initial state:")
  for _, e in ipairs(self.init_registry.list) do
    add("  %s = %s", e.name, fmt(params.read(self.init_registry, e.name, self.v0)))
  end
  add("parameters:")
  for _, e in ipairs(self.registry.list) do
    add("  %s = %s", e.name, fmt(params.read(self.registry, e.name, self.values, self.drive)))
  end
  return table.concat(out, "\n")
end

return Model
