--- Stimuli: neurolib's stimulus library (neurolib/utils/stimulus.py) with its
-- class names, parameter names and defaults, on neurolib's time grid
-- (../shared/spec/stimulus.md; our deviations are in docs/stimulus.md).
--
-- A stimulus is a table with the metatable `S`: its parameters read and
-- write as fields (`s.amplitude`, `s["end"]`), kept in its table `_f` so
-- that every assignment is checked; composites hold their parts (`inputs`,
-- and `length_ratios`).  `+` sums
-- (`__add`) and `&` concatenates (`__band`), flattening as neurolib does.
-- The parts an operator flattens go into a list shared along a chain
-- (`s = s + x` appends to it), so a chain of any length takes linear time; a
-- composite copies out its own list when it is first looked at.  Nothing is
-- evaluated in Lua: a stimulus is flattened into a node list that the engine
-- compiles into a tree of generators (src/engine/stim.c), rendered in chunks
-- for as_array and while a model runs.
--
-- Every rule on the user's values is checked here and reported at the user's
-- line; the engine reports only what depends on a request (a start against
-- the duration, tau against dt, sizes), and this file words it.
local core = require "neuromass.core"
local check = require "neuromass._check"

local type, error, ipairs, pairs, setmetatable, getmetatable, rawget, rawset, string, table,
      tostring, tonumber, math, select, debug =
      type, error, ipairs, pairs, setmetatable, getmetatable, rawget, rawset, string, table,
      tostring, tonumber, math, select, debug

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
M.is_stimulus = is_stimulus

-- Every leaf gets a serial number: as_array draws a seedless leaf's noise from
-- a stream of its own, so two seedless objects are independent and one object
-- gives the same array every time.
local serial = 0

--- "file:line" of the first caller outside the library: where the user made
-- the stimulus, for errors found later (at as_array or at a run).
local function user_site()
  for level = 3, 40 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.what ~= "C" and not info.source:find("lua/neuromass/", 1, true) then
      return info.short_src .. ":" .. (info.currentline or 0)
    end
  end
  return "?"
end

-- A number as the shortest text that reads back as it.
local function num(v)
  if math.type(v) == "integer" then return tostring(v) end
  if type(v) ~= "number" then return tostring(v) end
  if v ~= v then return "nan" end
  if v == math.huge or v == -math.huge then return v > 0 and "inf" or "-inf" end
  for digits = 15, 17 do
    local s = string.format("%." .. digits .. "g", v)
    if tonumber(s) == v then return s end
  end
end

local function type_name(self)
  local cls = rawget(self, "_class")
  return cls.display or cls.name
end
M.type_name = type_name

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
  -- depend on it (used when the stimulus drives a model, API.md "continue").
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

local function unknown(cls, k)
  return string.format("unknown parameter '%s'%s", tostring(k), check.suggest(tostring(k), known_names(cls)))
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

-- ---------------------------------------------------------------------
-- Validation: every rule on the user's values.  Each returns the problem
-- as text (nil when valid); callers report it at the user's line.
-- ---------------------------------------------------------------------

-- One field of a leaf on its own (nil allowed unless required).
local function field_problem(cls, k, v)
  if v == nil then
    if cls.is_required[k] then return "missing parameter '" .. k .. "'" end
    if k ~= "n" then return nil end
  end
  if k == "n" then
    if math.type(v) ~= "integer" or v < 1 then return "n (channels) must be a positive integer, got " .. show(v) end
  elseif k == "seed" then
    if math.type(v) ~= "integer" or v < 0 then return "seed must be a non-negative integer, got " .. show(v) end
  elseif k == "dc_bias" then
    if type(v) ~= "boolean" then return "dc_bias must be true or false, got " .. show(v) end
  elseif k == "exp_type" then
    if v ~= "rise" and v ~= "decay" then return "exp_type must be \"rise\" or \"decay\", got " .. show(v) end
  elseif cls.kind == "array" and k ~= "start" and k ~= "end" and k ~= "duration" then
    return nil   -- a user-defined type's own parameters are whatever its generator reads
  elseif not finite(v) then
    return string.format("%s must be a finite number, got %s", k, show(v))
  elseif k == "duration" and v <= 0 then
    return "duration must be a positive number (ms), got " .. show(v)
  elseif k == "tau" and v <= 0 then
    return "tau must be positive, got " .. num(v) .. " ms"
  elseif k == "sigma" and v < 0 then
    return "sigma must not be negative, got " .. num(v)
  elseif k == "ramp_length" and v <= 0 then
    return "ramp_length must be positive (ms), got " .. num(v)
  elseif k == "end" and v <= 0 then
    -- Nothing would be on (neurolib reads end = 0 as "no end").
    return string.format("end = %s ms leaves nothing on (samples are at dt, 2 dt, ...); to have no end, " ..
                         "leave end out (neurolib reads end = 0 as no end)", num(v))
  end
end

local function leaf_problem(self)
  local cls = rawget(self, "_class")
  for _, p in ipairs(cls.required) do
    if field(self, p) == nil then return "missing parameter '" .. p .. "'" end
  end
  for _, k in ipairs(cls.order) do
    local msg = field_problem(cls, k, field(self, k))
    if msg then return msg end
  end
  -- An empty window would make the stimulus zero throughout (neurolib
  -- gives zeros for start >= end).
  local s, e = field(self, "start"), field(self, "end")
  if e ~= nil and s ~= nil and e <= s then
    return string.format("end = %s ms is not after start = %s ms: the stimulus would be zero throughout",
                         num(e), num(s))
  end
end

-- A composite's fields on their own: the parts, the ratios, the duration.
local function composite_field_problem(k, v)
  if k == "inputs" then
    if type(v) ~= "table" or getmetatable(v) ~= nil or #v == 0 then
      return "needs a non-empty list of stimuli, got " .. show(v)
    end
    for i = 1, #v do
      if not is_stimulus(v[i]) then return string.format("input %d is %s, not a stimulus", i, show(v[i])) end
    end
  elseif k == "length_ratios" then
    if type(v) ~= "table" or getmetatable(v) ~= nil then return "length_ratios must be a list, got " .. show(v) end
    for i = 1, #v do
      if not (finite(v[i]) and v[i] > 0) then
        return string.format("length ratio %d must be a positive number, got %s", i, show(v[i]))
      end
    end
  elseif k == "duration" and v ~= nil and not (finite(v) and v > 0) then
    return "duration must be a positive number (ms), got " .. show(v)
  end
end

-- The composite itself (not its parts' own fields): parts, ratios, n.
local function composite_problem(self)
  local cls = rawget(self, "_class")
  local inputs, ratios = parts(self)
  local msg = composite_field_problem("inputs", inputs) or composite_field_problem("duration", field(self, "duration"))
  if msg then return msg end
  local n
  for i = 1, #inputs do
    local cn = first_n(inputs[i])
    if n and cn ~= n then
      return string.format("its inputs have different numbers of channels (input %d has n = %s, " ..
                           "input 1 has n = %s)", i, show(cn), show(n))
    end
    n = n or cn
  end
  if cls == CONCAT then
    if type(ratios) ~= "table" or #ratios ~= #inputs then
      return string.format("needs one length ratio per input (%d inputs, %s)", #inputs,
                           type(ratios) == "table" and (#ratios .. " ratios") or show(ratios))
    end
    return composite_field_problem("length_ratios", ratios)
  end
end

--[[ A whole tree, as it is now (fields may have changed since it was made):
returns nil, or the offending stimulus and the problem.  The walk is bounded
by the limits, so a composite that was made to contain itself is reported,
not followed. ]]
local function problem(self, depth, count)
  count.nodes = count.nodes + 1
  local too = limits_problem(depth, count.nodes)
  if too then return self, too end
  if not is_composite(self) then
    local msg = leaf_problem(self)
    if msg then return self, msg end
    return nil
  end
  local msg = composite_problem(self)
  if msg then return self, msg end
  for _, c in ipairs((parts(self))) do
    local o, m = problem(c, depth + 1, count)
    if o then return o, m end
  end
end

-- The text of a problem of stimulus `o`; errors found after it was made
-- also say where it was made.
local function explain(o, msg)
  local where = rawget(o, "_where")
  local tail = (rawget(o, "_built") and where ~= "?") and (" (stimulus defined at " .. where .. ")") or ""
  return type_name(o) .. ": " .. msg .. tail
end

local function bad(o, msg, level) error(explain(o, msg), level + 1) end

--- Checks a whole tree; errors at `level` name the offending stimulus.
local function validate(self, level)
  local o, msg = problem(self, 1, { nodes = 0 })
  if o then bad(o, msg, level + 1) end
end

--- The common n of a stimulus, or nil and why not.
local function channels(self)
  local o, msg = problem(self, 1, { nodes = 0 })
  if o then return nil, explain(o, msg) end
  return first_n(self)
end

-- Methods called with something else than a stimulus (s.as_array(...)).
local function check_self(self, name)
  if not is_stimulus(self) then
    check.error(string.format("%s: call it on a stimulus, as s:%s(...) (got %s)", name, name, show(self)), 3)
  end
end

-- ---------------------------------------------------------------------
-- Construction
-- ---------------------------------------------------------------------

-- Stores field k of a leaf as given (a whole float count as an integer).
local function put(self, k, v)
  if k == "n" or k == "seed" then v = whole(v) end
  store(self, k, v)
end

local function new_leaf(cls, args, level)
  local self = { _class = cls, _where = user_site(), _f = { n = 1 } }
  serial = serial + 1
  self._serial = serial
  for k, v in pairs(cls.defaults) do self._f[k] = v end
  for k, v in pairs(args) do
    if type(k) ~= "string" or not cls.known[k] then
      error((cls.display or cls.name) .. ": " .. unknown(cls, k), level + 1)
    end
    put(self, k, v)
  end
  setmetatable(self, S)
  local msg = leaf_problem(self)
  if msg then bad(self, msg, level + 1) end
  rawset(self, "_built", true)
  return self
end

-- Leaf constructors take a table ({ step_size = 1 }) or neurolib's positional
-- arguments (StepInput(1, nil, nil, 2)).  `level` is that of the user's call.
local function make_leaf(cls, level, ...)
  local first = ...
  local args
  if type(first) == "table" and getmetatable(first) == nil then
    if select("#", ...) > 1 then
      error((cls.display or cls.name) .. ": give the parameters in one table", level + 1)
    end
    args = first
  else
    args = {}
    local packed = table.pack(...)
    if packed.n > #cls.params then
      error(string.format("%s: takes at most %d arguments (%s), got %d", cls.name, #cls.params,
                          table.concat(cls.params, ", "), packed.n), level + 1)
    end
    for i = 1, packed.n do args[cls.params[i]] = packed[i] end
  end
  local self = new_leaf(cls, args, level + 1)
  return self
end

local function leaf_constructor(cls)
  -- (not a tail call: the error levels count this frame)
  return function(...) local s = make_leaf(cls, 2, ...); return s end
end

local function new_composite(cls, inputs, ratios, level)
  local self = setmetatable({ _class = cls, _where = user_site(), _f = { inputs = inputs } }, S)
  if cls == CONCAT then
    if ratios == nil and type(inputs) == "table" then
      ratios = {}
      for i = 1, #inputs do ratios[i] = 1 end
    end
    store(self, "length_ratios", ratios)
  end
  -- Unlike neurolib, a composite checks that its inputs agree on n now (P14).
  local msg = composite_problem(self) or measure(self)
  if msg then bad(self, msg, level + 1) end
  rawset(self, "_built", true)
  return self
end

local function list_arg(name, list, what, level)
  if type(list) ~= "table" or getmetatable(list) ~= nil then
    error(string.format("%s: expected a list of %s, got %s", name, what, show(list)), level + 1)
  end
  local copy = {}
  for i = 1, #list do copy[i] = list[i] end
  return copy
end

-- The list argument of a composite constructor: a list, or { inputs = ... }.
local function plain(t) return type(t) == "table" and getmetatable(t) == nil end

--- SummedStimulus({ a, b, ... }) or SummedStimulus{ inputs = { ... } }
function M.SummedStimulus(list)
  if plain(list) and list.inputs then list = list.inputs end
  local s = new_composite(SUM, list_arg("SummedStimulus", list, "stimuli", 2), nil, 2)
  return s
end

--- ConcatenatedStimulus({ a, b }, { 2, 5 }) or ConcatenatedStimulus{ inputs = ..., length_ratios = ... }
function M.ConcatenatedStimulus(list, ratios)
  if plain(list) and list.inputs then list, ratios = list.inputs, list.length_ratios end
  local r
  if ratios ~= nil then r = list_arg("ConcatenatedStimulus", ratios, "length ratios", 2) end
  local s = new_composite(CONCAT, list_arg("ConcatenatedStimulus", list, "stimuli", 2), r, 2)
  return s
end

for _, name in ipairs { "ZeroInput", "WienerProcess", "OrnsteinUhlenbeckProcess", "StepInput",
                        "SinusoidalInput", "SquareInput", "LinearRampInput", "ExponentialInput" } do
  M[name] = leaf_constructor(classes[name])
end

--- RectifiedInput(amplitude, n): neurolib's fixed concatenation for probing
-- bistability: -A, then relaxing from -A to 0, +A, relaxing from +A to 0, 0.
function M.RectifiedInput(amplitude, n)
  if plain(amplitude) then
    check.fields(amplitude, { amplitude = true, n = true }, "RectifiedInput", 2)
    amplitude, n = amplitude.amplitude, amplitude.n
  end
  if not finite(amplitude) then
    error("RectifiedInput: amplitude must be a finite number, got " .. show(amplitude), 2)
  end
  n = whole(n or 1)
  if math.type(n) ~= "integer" or n < 1 then
    error("RectifiedInput: n (channels) must be a positive integer, got " .. show(n), 2)
  end
  local function L(cls, args) args.n = n; local leaf = new_leaf(classes[cls], args, 3); return leaf end
  local s = new_composite(CONCAT, {
    L("StepInput", { step_size = -amplitude }),
    new_composite(SUM, { L("ExponentialInput", { inp_max = amplitude, exp_type = "rise", exp_coef = 12.5 }),
                         L("StepInput", { step_size = -amplitude }) }, nil, 2),
    L("StepInput", { step_size = amplitude }),
    L("ExponentialInput", { inp_max = amplitude, exp_type = "decay", exp_coef = 7.5 }),
    L("StepInput", { step_size = 0.0 }),
  }, { 0.5, 2.5, 0.5, 1.5, 1.0 }, 2)
  return s
end

--[[ A user-defined stimulus type.  `generate(self, duration, dt)` returns the
raw samples on the grid t_k = dt + k*dt, k = 0 .. N-1 (M.times gives it; N =
M.length(duration, dt)): one array (every channel alike) or one array per
channel.  Everything else (start/end trimming, + and &, as_array, to_model,
get_params/update_params, driving a model) comes from the library.  It is
called once per request, so a model run holds its samples in memory. ]]
function M.define(spec)
  check.fields(spec, { name = true, params = true, defaults = true, generate = true, stochastic = true },
               "stimulus.define", 2)
  if type(spec.name) ~= "string" then error("stimulus.define: 'name' must be a string, got " .. show(spec.name), 2) end
  if type(spec.generate) ~= "function" then
    error("stimulus.define: 'generate' must be a function, got " .. show(spec.generate), 2)
  end
  if classes[spec.name] then error("stimulus.define: a stimulus type '" .. spec.name .. "' exists", 2) end
  if spec.params ~= nil and not plain(spec.params) then
    error("stimulus.define: 'params' must be a list of names, got " .. show(spec.params), 2)
  end
  if spec.defaults ~= nil and not plain(spec.defaults) then
    error("stimulus.define: 'defaults' must be a table, got " .. show(spec.defaults), 2)
  end
  local params, required = {}, {}
  local defaults = spec.defaults or {}
  for _, p in ipairs(spec.params or {}) do
    if type(p) ~= "string" then error("stimulus.define: parameter names are strings, got " .. show(p), 2) end
    params[#params + 1] = p
    if defaults[p] == nil then required[#required + 1] = p end
  end
  local cls = class { name = spec.name, kind = "array", params = with(params, TRIM), required = required,
                      defaults = defaults, trimmed = true, generate = spec.generate }
  return setmetatable({ name = spec.name }, { __call = function(_, ...) local s = make_leaf(cls, 2, ...); return s end,
                                              __name = "neuromass.StimulusType" })
end

--- A one-off user-defined stimulus: custom(function(self, duration, dt) ... end, { n =, start =, ... }).
function M.custom(generate, opts)
  if type(generate) ~= "function" then error("stimulus.custom: expected a function, got " .. show(generate), 2) end
  if opts ~= nil and not plain(opts) then error("stimulus.custom: options must be a table, got " .. show(opts), 2) end
  serial = serial + 1
  local cls = class { name = "CustomStimulus#" .. serial, kind = "array", params = TRIM, trimmed = true,
                      generate = generate }
  cls.display = "CustomStimulus"
  local s = new_leaf(cls, opts or {}, 2)
  return s
end

-- ---------------------------------------------------------------------
-- Fields: reading n and parts of composites; setting checked fields
-- ---------------------------------------------------------------------

-- Sets n on every leaf of a composite (s.n = 5).
local function set_n(self, n, depth)
  if depth > MAX_DEPTH then return limits_problem(depth, 0) end
  if not is_composite(self) then store(self, "n", n); return nil end
  for _, c in ipairs((parts(self))) do
    if is_stimulus(c) then
      local msg = set_n(c, n, depth + 1)
      if msg then return msg end
    end
  end
end

--[[ s.k = v as the user writes it: a known name, and a value that is valid
on its own (else nothing changes).  Rules between fields (start before end,
a ratio per part, parts agreeing on n) are checked whenever the stimulus is
used (as_array, a run), so fields can be changed in any order.  Returns the
problem. ]]
local function set(self, k, v)
  local cls = rawget(self, "_class")
  if not cls.known[k] then return unknown(cls, k) end
  v = whole(v)
  if not cls.composite then
    local msg = field_problem(cls, k, v)
    if msg then return msg end
    put(self, k, v)
    return nil
  end
  if k == "n" then
    if math.type(v) ~= "integer" or v < 1 then return "n (channels) must be a positive integer, got " .. show(v) end
    return set_n(self, v, 1)
  end
  local msg = composite_field_problem(k, v)
  if msg then return msg end
  materialise(self)
  local old = field(self, k)
  store(self, k, v)
  if k == "inputs" then
    msg = measure(self)
    if msg then store(self, k, old); measure(self) end
    return msg
  end
end

S.__index = function(self, k)
  if is_composite(self) then
    if k == "n" then
      local n, why = channels(self)
      if not n then error(why, 2) end
      return n
    end
    if k == "inputs" then return (parts(self)) end
    if k == "length_ratios" and rawget(self, "_class") == CONCAT then return select(2, parts(self)) end
    if math.type(k) == "integer" then return (parts(self))[k] end
  end
  local cls = rawget(self, "_class")
  if cls.known[k] then return field(self, k) end
  if methods[k] == nil then error(type_name(self) .. ": " .. unknown(cls, k), 2) end
  return methods[k]
end

S.__newindex = function(self, k, v)
  local msg = set(self, k, v)
  if msg then error(type_name(self) .. ": " .. msg, 2) end
end

S.__len = function(self)
  if not is_composite(self) then return 0 end
  local _, _, lo, hi = range(self)
  return hi - lo + 1
end

-- The text of a stimulus (what tostring gives), nested at most MAX_DEPTH.
local function describe(self, depth)
  local cls = rawget(self, "_class")
  if cls.composite then
    if depth > MAX_DEPTH then return type_name(self) .. "(...)" end
    local inputs, ratios = parts(self)
    local texts = {}
    for i, c in ipairs(inputs) do texts[i] = is_stimulus(c) and describe(c, depth + 1) or show(c) end
    local s = type_name(self) .. "(" .. table.concat(texts, ", ")
    if cls == CONCAT and type(ratios) == "table" then
      local r = {}
      for i, w in ipairs(ratios) do r[i] = num(w) end
      s = s .. "; length_ratios = {" .. table.concat(r, ", ") .. "}"
    end
    return s .. ")"
  end
  local texts = {}
  for _, p in ipairs(cls.params) do
    local v = field(self, p)
    if v ~= nil and not (p == "n" and v == 1) and not (cls.defaults[p] ~= nil and v == cls.defaults[p]) then
      texts[#texts + 1] = (p == "end" and '["end"]' or p) .. " = " ..
                          (type(v) == "string" and ('"' .. v .. '"') or num(v))
    end
  end
  return type_name(self) .. "{" .. table.concat(texts, ", ") .. "}"
end

S.__tostring = function(self) return describe(self, 1) end

-- ---------------------------------------------------------------------
-- Operators: + sums, & concatenates, flattening as neurolib does
-- ---------------------------------------------------------------------

local function operand(v, pos, op)
  if is_stimulus(v) then return v end
  local hint = type(v) == "number"
               and "; numbers are not turned into stimuli: write StepInput{ step_size = ... }" or ""
  error(string.format("bad operand #%d to '%s' (stimulus expected, got %s%s)", pos, op, type(v), hint), 4)
end

--[[ a op b for the composite class `cls`: an operand of that class is
spliced in (with its ratios), anything else is one part of ratio 1.  When a
is a view ending its store, b's parts are appended there; when b is a view
starting its store, a's parts are prepended; else the parts go to a new
store.  So s = s + x (or x & s) costs the parts added, not the parts so far. ]]
local function combine(cls, a, b, op)
  operand(a, 1, op)
  operand(b, 2, op)
  local na, nb = first_n(a), first_n(b)
  if na ~= nb then
    error(string.format("bad operands to '%s': the stimuli have different numbers of channels " ..
                        "(n = %s and n = %s); neurolib does not broadcast", op, show(na), show(nb)), 3)
  end
  local concat = cls == CONCAT
  local one = { 1 }
  local function side(x)
    if rawget(x, "_class") ~= cls then return { x }, one, 1, 1, nil, depth_of(x), nodes_of(x) end
    local items, ratios, lo, hi = range(x)
    return items, ratios, lo, hi, rawget(x, "_store"), depth_of(x) - 1, nodes_of(x) - 1
  end
  local ia, ra, alo, ahi, sa, da, ca = side(a)
  local ib, rb, blo, bhi, sb, db, cb = side(b)
  local too = limits_problem(1 + math.max(da, db), 1 + ca + cb)
  if too then error(cls.name .. ": " .. too, 3) end
  local st, lo, hi
  if sa and ahi == sa.hi then
    st, lo = sa, alo
    for k = blo, bhi do
      st.hi = st.hi + 1
      st.items[st.hi] = ib[k]
      if concat then st.ratios[st.hi] = rb[k] end
    end
    hi = st.hi
  elseif sb and blo == sb.lo then
    st, hi = sb, bhi
    for k = ahi, alo, -1 do
      st.lo = st.lo - 1
      st.items[st.lo] = ia[k]
      if concat then st.ratios[st.lo] = ra[k] end
    end
    lo = st.lo
  else
    st = { items = {}, ratios = concat and {} or nil, lo = 1, hi = 0 }
    for _, r in ipairs { { ia, ra, alo, ahi }, { ib, rb, blo, bhi } } do
      local items, ratios = r[1], r[2]
      for k = r[3], r[4] do
        st.hi = st.hi + 1
        st.items[st.hi] = items[k]
        if concat then st.ratios[st.hi] = ratios[k] end
      end
    end
    lo, hi = 1, st.hi
  end
  return setmetatable({ _class = cls, _where = user_site(), _f = {}, _store = st, _lo = lo, _hi = hi,
                        _depth = 1 + math.max(da, db), _nodes = 1 + ca + cb, _built = true }, S)
end

-- a + b: a sum on either side is spliced in; a concatenation is not.
S.__add = function(a, b) local s = combine(SUM, a, b, "+"); return s end

-- a & b: a concatenation on either side is spliced in with its ratios, so
-- `a & b & c` is three equal parts however it is parenthesised.
S.__band = function(a, b) local s = combine(CONCAT, a, b, "&"); return s end

-- Other operators say what there is instead.
local function no_operator(op, hint)
  return function() error(string.format("stimuli have no '%s': %s", op, hint), 2) end
end
S.__sub = no_operator("-", "add a stimulus with the opposite sign (e.g. StepInput{ step_size = -1 })")
S.__unm = no_operator("-", "give the stimulus the opposite amplitude or step_size")
S.__mul = no_operator("*", "scale its amplitude (or step_size, inp_max, mu and sigma) instead")
S.__div = S.__mul
S.__concat = no_operator("..", "concatenate stimuli in time with &")

-- ---------------------------------------------------------------------
-- Parameters
-- ---------------------------------------------------------------------

-- get_params of a tree, nested at most MAX_DEPTH (the user's call is
-- depth + 2 levels up from here).
local function params_of(self, depth)
  local cls = rawget(self, "_class")
  local p = { type = type_name(self) }
  if cls.composite then
    if depth > MAX_DEPTH then error("get_params: " .. limits_problem(depth, 0), depth + 2) end
    local inputs, ratios = parts(self)
    for i, c in ipairs(inputs) do p["input_" .. (i - 1)] = is_stimulus(c) and params_of(c, depth + 1) or c end
    -- neurolib leaves the ratios out, so its parameters do not round-trip (P12).
    if cls == CONCAT then
      p.length_ratios = {}
      for i, w in ipairs(ratios) do p.length_ratios[i] = w end
    end
  else
    for _, name in ipairs(cls.params) do p[name] = field(self, name) end
    p.x0 = field(self, "x0")
  end
  p.duration = field(self, "duration")
  return p
end

--- The parameters as a table: { type = class name, <param> = value, ... };
-- composites: { type =, input_0 = ..., input_1 = ..., length_ratios = ... }.
function methods.get_params(self)
  check_self(self, "get_params")
  local p = params_of(self, 1)
  return p
end

--[[ Applies update_params' table `d` to `self`, noting every old value in
`journal` so that a refused update is undone whole.  Returns nil, or the
problem (its text names the stimulus). ]]
local function update(self, d, journal, depth)
  local cls = rawget(self, "_class")
  if not plain(d) then return string.format("%s: expected a table, got %s", type_name(self), show(d)) end
  if depth > MAX_DEPTH then return limits_problem(depth, 0) end
  local function note(k) journal[#journal + 1] = { self, k, field(self, k) } end
  local function refused(k, names)
    table.sort(names)
    return string.format("%s has no parameter '%s'%s", type_name(self), tostring(k),
                         check.suggest(tostring(k), names))
  end
  if cls.composite then
    local inputs = parts(self)
    for k, v in pairs(d) do
      local i = type(k) == "string" and tonumber(k:match("^input_(%d+)$"))
      if i and is_stimulus(inputs[i + 1]) then
        local msg = update(inputs[i + 1], v, journal, depth + 1)
        if msg then return msg end
      elseif k == "length_ratios" and cls == CONCAT then
        if not plain(v) then
          return string.format("%s: length_ratios must be a list of numbers, got %s", type_name(self), show(v))
        end
        note(k)
        store(self, k, table.move(v, 1, #v, 1, {}))
      elseif k == "duration" then
        note(k)
        store(self, k, v ~= "None" and v or nil)
      elseif k ~= "type" then
        local names = { "duration" }
        for j = 1, #inputs do names[#names + 1] = "input_" .. (j - 1) end
        if cls == CONCAT then names[#names + 1] = "length_ratios" end
        return refused(k, names)
      end
    end
    local msg = composite_problem(self)
    if msg then return type_name(self) .. ": " .. msg end
    return nil
  end
  for k, v in pairs(d) do
    if cls.known[k] then
      if v == "None" then v = nil end
      if k == "n" and v == nil then v = 1 end
      note(k)
      put(self, k, v)
    elseif k ~= "type" then
      return refused(k, known_names(cls))
    end
  end
  local msg = leaf_problem(self)
  if msg then return type_name(self) .. ": " .. msg end
end

--- Sets parameters from a table shaped like get_params' result ("None" means
-- absent, as in neurolib); an unknown name or a bad value is an error
-- (neurolib ignores unknown names), and then nothing is changed.
function methods.update_params(self, d)
  check_self(self, "update_params")
  local journal = {}
  local msg = update(self, d, journal, 1)
  if msg then
    for i = #journal, 1, -1 do store(journal[i][1], journal[i][2], journal[i][3]) end
    error("update_params: " .. msg, 2)
  end
  return self
end

-- ---------------------------------------------------------------------
-- Compiling for the engine
-- ---------------------------------------------------------------------

local function check_request(duration, dt, what, level)
  if not finite(duration) or duration <= 0 then
    error(string.format("%s: duration must be a positive number of ms, got %s", what, show(duration)), level + 1)
  end
  if not finite(dt) or dt <= 0 then
    error(string.format("%s: dt must be a positive number of ms, got %s", what, show(dt)), level + 1)
  end
end

-- Why a duration at dt has no count of samples (core.stim_length gave 0):
-- too many to count, or fewer than one.
local function length_problem(d, dt)
  return string.format("duration = %s ms at dt = %s ms is %.3g samples, %s", num(d), num(dt), d / dt,
                       d / dt < 1 and "fewer than one (make the duration at least dt)"
                       or "more than the 2^53 a stimulus can count")
end

-- The samples of a request (engine's count), or an error when there is no count.
local function request_length(duration, dt, what, level)
  check_request(duration, dt, what, level + 1)
  local N = core.stim_length(duration, dt)
  if N == 0 then error(what .. ": " .. length_problem(duration, dt), level + 1) end
  return N
end

--- Samples on the grid of a request (duration, dt): D/dt for a whole
-- multiple (neurolib sometimes adds one, spec P2), else ceil(D/dt).
function M.length(duration, dt)
  local N = request_length(duration, dt, "stimulus.length", 2)
  return N
end

--- The grid times t_k = dt + k*dt of a request, as neurolib computes them.
function M.times(duration, dt)
  local t = {}
  for k = 0, request_length(duration, dt, "stimulus.times", 2) - 1 do t[k + 1] = dt + k * dt end
  return t
end

-- Calls a user-defined generator and checks its rows: returns them, or nil
-- and the problem.
local function generated_rows(self, D, dt, channels_n)
  local cls = rawget(self, "_class")
  local N = core.stim_length(D, dt)
  local out = cls.generate(self, D, dt)
  local function row_problem(row, what)
    if type(row) ~= "table" or #row ~= N then
      return string.format("the generate function returned %s with %s values for duration %s ms, " ..
                           "dt %s ms; it must give %d (one per grid time, stimulus.times)", what,
                           type(row) == "table" and #row or show(row), num(D), num(dt), N)
    end
    for k = 1, N do
      if not finite(row[k]) then
        return string.format("the generate function returned %s at sample %d of %s", show(row[k]), k, what)
      end
    end
  end
  if type(out) == "table" and type(out[1]) == "number" then
    local msg = row_problem(out, "a row")
    if msg then return nil, msg end
    return { out }
  end
  if type(out) ~= "table" or (#out ~= 1 and #out ~= channels_n) then
    return nil, string.format("the generate function must return one array, or one array per channel " ..
                              "(%d), got %s", channels_n, type(out) == "table" and (#out .. " arrays") or show(out))
  end
  for i, row in ipairs(out) do
    local msg = row_problem(row, "row " .. i)
    if msg then return nil, msg end
  end
  return out
end

--[[ Flattens a (validated) stimulus into the engine's preorder node list.
ctx: dt; seed (the base of seedless leaves); key(leaf, index) (their stream
key); n (forces every leaf's channel count: to_model).  `objs[i]` is the
object of node i, for error messages.  Returns nil, or the offending
stimulus and the problem. ]]
local function flatten(self, D, ctx, list, objs)
  local cls = rawget(self, "_class")
  local i = #list + 1
  local node = { kind = cls.composite and (cls == SUM and "sum" or "concat") or cls.kind }
  list[i], objs[i] = node, self
  if cls.composite then
    local inputs, ratios = parts(self)
    node.children = #inputs
    local total = 0.0
    if cls == CONCAT then
      node.ratios = ratios
      for _, w in ipairs(ratios) do total = total + w end
    end
    for j, c in ipairs(inputs) do
      -- The same arithmetic as the engine's, for user-defined leaves' requests.
      local Dj = cls == CONCAT and D * (ratios[j] / total) or D
      local o, msg = flatten(c, Dj, ctx, list, objs)
      if o then return o, msg end
    end
    return nil
  end
  local n = ctx.n or field(self, "n")
  node.channels = n
  for j, p in ipairs(engine_params[cls.kind]) do node["p" .. j] = field(self, p) end
  if cls.trimmed then
    node.start, node["end"] = field(self, "start"), field(self, "end")
  end
  node.dc_bias = field(self, "dc_bias") and true or nil
  node.decay = field(self, "exp_type") == "decay" or nil
  node.x0 = field(self, "x0")
  if cls.stochastic then
    local seed = field(self, "seed")
    if seed then node.seed, node.key = seed, 0          -- its own seed, whatever runs it
    else node.seed, node.key = ctx.seed, ctx.key(self, i) end
  end
  if cls.kind == "array" then
    local rows, msg = generated_rows(self, D, ctx.dt, n)
    if not rows then return self, msg end
    node.values = rows
  end
end

local function size_text(bytes) return string.format("%.3g GB", bytes / 1e9) end

-- The engine's reasons, in words: (stimulus, its request's duration, is it
-- the root, dt, bytes needed, bytes allowed).
local why_text = {
  start = function(o, d, top)
    return string.format("start = %s ms must be before the end of %s (%s ms)", num(o.start),
                         top and "the stimulus" or "its segment of the concatenation", num(d))
  end,
  ["end"] = function(o, d, _, dt)
    return string.format("end = %s ms is after %s + dt (%s ms)", num(o["end"]), "its duration", num(d + dt))
  end,
  tau = function(o, _, _, dt)
    return string.format("tau = %s ms must be larger than dt = %s ms (the Euler-Maruyama recursion " ..
                         "oscillates for dt/tau > 1 and diverges past 2)", num(o.tau), num(dt))
  end,
  channels = function() return "its inputs have different numbers of channels (n)" end,
  duration = function(_, d) return "the duration must be positive, got " .. num(d) .. " ms" end,
  length = function(_, d, _, dt) return length_problem(d, dt) end,
  depth = function() return limits_problem(MAX_DEPTH + 1, 0) end,
  size = function(o, _, _, _, bytes, limit)
    return string.format("n = %s channels need %s, more than this machine's memory (%s)", show(first_n(o)),
                         size_text(bytes), size_text(limit))
  end,
  memory = function() return "the machine ran out of memory while compiling it" end,
  array = function() return "the generated samples do not fit the request" end,
  tree = function() return "malformed stimulus" end,
}

--- Compiles a validated stimulus for a request: the engine object, or nil,
-- the offending stimulus and the problem.
local function compile(self, D, ctx)
  local list, objs = {}, {}
  local o, msg = flatten(self, D, ctx, list, objs)
  if o then return nil, o, msg end
  local st, node, why, nd, bytes, limit = core.stimulus(list, D, ctx.dt)
  if not st then
    o = objs[node] or self
    return nil, o, why_text[why](o, nd, node == 1, ctx.dt, bytes, limit)
  end
  return st
end

-- Validates and compiles; errors at `level` name the offending stimulus.
local function compiled(self, D, ctx, level)
  validate(self, level + 1)
  local st, o, msg = compile(self, D, ctx)
  if not st then bad(o, msg, level + 1) end
  return st
end

-- The next `count` samples of a compiled stimulus as Lua tables, or an error
-- saying they do not fit in memory.
local function rendered(st, count, self, what, level)
  local ok, a, _, bytes, limit = pcall(st.render, st, count)
  if not ok then error(what .. ": " .. explain(self, tostring(a)), level + 1) end   -- a non-finite sample
  if a then return a end
  error(string.format("%s: %s: %s channels × %d samples need %s, more than this machine's memory (%s); " ..
                      "take fewer at a time with s:chunks(duration, dt, size)", what, type_name(self),
                      num(st:channels()), count, size_text(bytes), size_text(limit)), level + 1)
end

local function standalone_ctx(dt, n)
  return { dt = dt, seed = 0, n = n, key = function(leaf) return rawget(leaf, "_serial") end }
end

--- The stimulus on neurolib's grid: a[channel][k] (both 1-based), sample k
-- labelled k*dt.  A seedless stochastic leaf draws from a stream of its own
-- (the same array every call; neurolib reseeds from the OS).
function methods.as_array(self, duration, dt)
  check_self(self, "as_array")
  local N = request_length(duration, dt, "as_array", 2)
  local st = compiled(self, duration, standalone_ctx(dt), 2)
  local a = rendered(st, N, self, "as_array", 2)
  return a
end

--- The samples of as_array(duration, dt) in blocks of `size` (default 65536),
-- without holding them all: `for first, block in s:chunks(D, dt) do ... end`,
-- block[channel][j] being sample first + j - 1 (1-based).  Same bits as as_array.
function methods.chunks(self, duration, dt, size)
  check_self(self, "chunks")
  local N = request_length(duration, dt, "chunks", 2)
  size = whole(size or 65536)
  if math.type(size) ~= "integer" or size < 1 then
    error("chunks: size must be a positive integer, got " .. show(size), 2)
  end
  local st = compiled(self, duration, standalone_ctx(dt), 2)
  local done = 0
  return function()
    if done >= N then return nil end
    local m = math.min(size, N - done)
    local first = done + 1
    local block = rendered(st, m, self, "chunks", 2)
    done = done + m
    return first, block
  end
end

--- as_array with one channel per node of `model`, for `duration` and `dt`
-- (ms; default: the model's defaults, as neurolib reads params.duration and
-- params.dt).  neurolib sets n permanently; the object is left alone here (P16).
function methods.to_model(self, model, duration, dt)
  check_self(self, "to_model")
  if type(model) ~= "table" or type(model.net) ~= "table" or type(model.net.nodes) ~= "table" then
    error("to_model: expected a model, got " .. show(model), 2)
  end
  duration, dt = duration or model.default_duration, dt or model.default_dt
  if not duration then
    error("to_model: the model has no default duration; use to_model(model, duration)", 2)
  end
  local N = request_length(duration, dt, "to_model", 2)
  local st = compiled(self, duration, standalone_ctx(dt, #model.net.nodes), 2)
  local a = rendered(st, N, self, "to_model", 2)
  return a
end

-- ---------------------------------------------------------------------
-- Driving a model
-- ---------------------------------------------------------------------

local Binding = { __name = "neuromass.StimulusBinding" }
Binding.__index = Binding
M.Binding = Binding

--[[ How a stimulus drives `count` targets matched by `key`: all from its one
channel (true), or channel i for target i (false); nil and the problem for
any other n.  Checked at the assignment and again at every run, since n may
have changed in between. ]]
local function drives_all(self, count, key)
  local n, why = channels(self)
  if not n then return nil, why end
  if n == 1 then return true end
  if n == count then return false end
  local fix = count == 1 and "give n = 1" or string.format("give n = %d, or n = 1 to drive all alike", count)
  return nil, string.format("the stimulus for '%s' has n = %s channels, but '%s' matches %d target%s " ..
                            "(one per node): %s", key, show(n), key, count, count == 1 and "" or "s", fix)
end

--- params.spread's extension point: one binding per matched slot (target i
-- of n): channel i - 1, or channel 0 for every slot when n = 1.
function methods.series_for(self, n, key, level)
  validate(self, level + 1)
  local _, why = drives_all(self, n, key)
  if why then error(why, level + 1) end
  local list = {}
  for i = 1, n do list[i] = setmetatable({ stimulus = self, index = i, count = n, key = key }, Binding) end
  return list
end

-- A canonical text of everything a compiled tree depends on, so a continued
-- run reuses the compiled (and advanced) tree only when nothing changed.
local function signature(self, out)
  local cls = rawget(self, "_class")
  out[#out + 1] = cls.name
  if cls.composite then
    local inputs, ratios = parts(self)
    for _, w in ipairs(ratios or {}) do out[#out + 1] = num(w) end
    for _, c in ipairs(inputs) do signature(c, out) end
    out[#out + 1] = ")"
  else
    out[#out + 1] = tostring(rawget(self, "_serial"))
    for _, p in ipairs(cls.params) do out[#out + 1] = tostring(field(self, p)) end
    out[#out + 1] = tostring(field(self, "x0"))
  end
  return out
end

-- Does the tree hold user-defined (finite) samples?
local function has_array(self)
  local cls = rawget(self, "_class")
  if cls.kind == "array" then return true end
  if not cls.composite then return false end
  for _, c in ipairs((parts(self))) do if has_array(c) then return true end end
  return false
end

--[[ The stimulus drivers of a run.  targets: list of { kind = "param" |
"input", slot =, binding = }.  run: { fresh = bool (a new simulation), steps
= steps taken before this run, n_steps, dt, seed, n_param, name_of(kind,
slot) }.  Each stimulus object is checked again as it is now (it may have
changed since it was assigned), compiled once per simulation for the
duration of the run it was first attached for (or its own `duration`), and
kept, advanced, for continued runs: its samples are on the model's absolute
time axis.  Returns the list for sim:run{ stimuli = ... }. ]]
function M.drivers(model, targets, run, level)
  if run.fresh or not model._stim_cache then model._stim_cache = {} end
  local cache = model._stim_cache
  local groups, order = {}, {}
  for _, t in ipairs(targets) do
    local s = t.binding.stimulus
    local g = groups[s]
    if not g then
      g = { stimulus = s, kind = {}, slot = {}, binding = {}, id = math.huge }
      groups[s] = g
      order[#order + 1] = g
    end
    g.kind[#g.kind + 1] = t.kind
    g.slot[#g.slot + 1] = t.slot
    g.binding[#g.binding + 1] = t.binding
    -- The stimulus' identity in the model: its first target, which does not
    -- depend on the order of assignments in the script.
    local id = t.kind == "param" and t.slot or run.n_param + t.slot
    if id < g.id then g.id = id end
  end
  table.sort(order, function(a, b) return a.id < b.id end)
  local out = {}
  local end_step = run.steps + run.n_steps
  for _, g in ipairs(order) do
    local s = g.stimulus
    local name = run.name_of(g.kind[1], g.slot[1])
    local o, why = problem(s, 1, { nodes = 0 })
    if o then error(string.format("run: '%s': %s", name, explain(o, why)), level + 1) end
    local channel = {}
    for j, b in ipairs(g.binding) do
      local all
      all, why = drives_all(s, b.count, b.key)
      if why then error("run: " .. why .. " (n changed after the assignment)", level + 1) end
      channel[j] = all and 0 or b.index - 1
    end
    local entry = cache[s]
    local D = field(s, "duration") or (entry and entry.D) or end_step * run.dt
    local id = g.id
    local ctx = { dt = run.dt, seed = run.seed,
                  key = function(_, index) return id * 1048576 + index end }
    local sig = table.concat(signature(s, { num(D), num(run.dt), tostring(run.seed), tostring(id) }), "\1")
    if not entry or entry.sig ~= sig then
      local st
      st, o, why = compile(s, D, ctx)
      if not st then
        if not field(s, "duration") and (why:find("start =", 1, true) or why:find("end =", 1, true)) then
          why = why .. string.format("; a stimulus driving a model spans the run it first drives " ..
                                     "(%s ms here): give it duration = ... to span more", num(D))
        end
        error(string.format("run: '%s': %s", name, explain(o, why)), level + 1)
      end
      entry = { st = st, sig = sig, D = D }
      cache[s] = entry
    end
    if has_array(s) and end_step - 1 > core.stim_length(D, run.dt) then
      error(string.format("run: '%s': a stimulus with generated samples covers %s ms, the run goes to %s ms; " ..
                          "give it duration = %s", name, num(D), num(end_step * run.dt),
                          num(end_step * run.dt)), level + 1)
    end
    out[#out + 1] = { stim = entry.st, kind = g.kind, slot = g.slot, channel = channel }
  end
  return out
end

M.methods = methods
return M
