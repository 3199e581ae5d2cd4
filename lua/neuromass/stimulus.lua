--- Stimuli: neurolib's stimulus library (neurolib/utils/stimulus.py) with its
-- class names, parameter names and defaults, on neurolib's time grid
-- (../shared/spec/stimulus.md; our deviations are in docs/stimulus.md).
--
-- A stimulus is a table with the metatable `S`: its parameters are plain
-- fields (`s.amplitude`, `s["end"]`), composites hold `inputs` (and
-- `length_ratios`).  `+` sums (`__add`) and `&` concatenates (`__band`),
-- flattening as neurolib does.  Nothing is evaluated in Lua: a stimulus is
-- flattened into a node list that the engine compiles into a tree of
-- generators (src/engine/stim.c), rendered in chunks for as_array and while a
-- model runs.
local core = require "neuromass.core"
local check = require "neuromass._check"

local type, error, ipairs, pairs, setmetatable, getmetatable, rawget, rawset, string, table,
      tostring, tonumber, math, select, debug, pcall =
      type, error, ipairs, pairs, setmetatable, getmetatable, rawget, rawset, string, table,
      tostring, tonumber, math, select, debug, pcall

local M = {}

local S = { __name = "neuromass.Stimulus" }   -- the metatable of every stimulus
local methods = {}
local classes = {}

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

local function num(v)
  if math.type(v) == "integer" then return tostring(v) end
  if type(v) ~= "number" then return tostring(v) end
  for digits = 15, 17 do
    local s = string.format("%." .. digits .. "g", v)
    if tonumber(s) == v then return s end
  end
end

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
  spec.known = set
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

-- ---------------------------------------------------------------------
-- Validation: types and ranges, at construction and again before every
-- generation (fields are plain and may have been changed since).
-- ---------------------------------------------------------------------

-- Errors found after construction also say where the stimulus was made.
local function bad(self, msg, level)
  local where = rawget(self, "_where")
  local tail = (rawget(self, "_built") and where ~= "?") and (" (stimulus defined at " .. where .. ")") or ""
  local cls = rawget(self, "_class")
  error((cls.display or cls.name) .. ": " .. msg .. tail, level + 1)
end

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end

local function validate_leaf(self, level)
  local cls = rawget(self, "_class")
  level = level + 1
  for _, p in ipairs(cls.required) do
    if self[p] == nil then bad(self, "missing parameter '" .. p .. "'", level) end
  end
  local n = rawget(self, "n")
  if math.type(n) ~= "integer" or n < 1 then
    bad(self, "n (channels) must be a positive integer, got " .. tostring(n), level)
  end
  local seed = rawget(self, "seed")
  if seed ~= nil and (math.type(seed) ~= "integer" or seed < 0) then
    bad(self, "seed must be a non-negative integer, got " .. tostring(seed), level)
  end
  for _, p in ipairs(cls.params) do
    local v = rawget(self, p)
    if p == "dc_bias" then
      if type(v) ~= "boolean" then bad(self, "dc_bias must be true or false", level) end
    elseif p == "exp_type" then
      if v ~= "rise" and v ~= "decay" then
        bad(self, "exp_type must be \"rise\" or \"decay\", got " .. tostring(v), level)
      end
    elseif cls.kind == "array" and p ~= "start" and p ~= "end" then
      -- A user-defined type's own parameters are whatever its generator reads.
    elseif p ~= "n" and p ~= "seed" and v ~= nil and not finite(v) then
      bad(self, string.format("%s must be a finite number, got %s", p, tostring(v)), level)
    end
  end
  if cls.name == "OrnsteinUhlenbeckProcess" then
    if not (self.tau > 0) then bad(self, "tau must be positive, got " .. num(self.tau) .. " ms", level) end
    if self.sigma < 0 then bad(self, "sigma must not be negative, got " .. num(self.sigma), level) end
    local x0 = rawget(self, "x0")
    if x0 ~= nil and not finite(x0) then bad(self, "x0 must be a finite number", level) end
  elseif cls.name == "LinearRampInput" and self.ramp_length == 0 then
    bad(self, "ramp_length must not be 0", level)
  end
  local d = rawget(self, "duration")
  if d ~= nil and not (finite(d) and d > 0) then
    bad(self, "duration must be a positive number (ms), got " .. tostring(d), level)
  end
end

local validate

local function child_n(self, level)
  local n
  for i, c in ipairs(rawget(self, "inputs")) do
    local cn = c.n
    if n and cn ~= n then
      bad(self, string.format("its inputs have different numbers of channels (input %d has n = %d, " ..
                              "input 1 has n = %d)", i, cn, n), level + 1)
    end
    n = cn
  end
  return n
end

local function validate_composite(self, level)
  local inputs = rawget(self, "inputs")
  if type(inputs) ~= "table" or #inputs == 0 then bad(self, "needs a non-empty list of stimuli", level + 1) end
  for i, c in ipairs(inputs) do
    if not is_stimulus(c) then
      bad(self, string.format("input %d is a %s, not a stimulus", i, type(c)), level + 1)
    end
    validate(c, level + 1)
  end
  if rawget(self, "_class") == CONCAT then
    local r = rawget(self, "length_ratios")
    if type(r) ~= "table" or #r ~= #inputs then
      bad(self, string.format("needs one length ratio per input (%d inputs, %s ratios)", #inputs,
                              type(r) == "table" and #r or "no"), level + 1)
    end
    for i, w in ipairs(r) do
      if not (finite(w) and w > 0) then
        bad(self, string.format("length ratio %d must be a positive number, got %s", i, tostring(w)),
            level + 1)
      end
    end
  end
  local d = rawget(self, "duration")
  if d ~= nil and not (finite(d) and d > 0) then
    bad(self, "duration must be a positive number (ms), got " .. tostring(d), level + 1)
  end
  child_n(self, level + 1)
end

validate = function(self, level)
  if rawget(self, "_class").composite then validate_composite(self, level + 1)
  else validate_leaf(self, level + 1) end
end

-- ---------------------------------------------------------------------
-- Construction
-- ---------------------------------------------------------------------

local function new_leaf(cls, args, level)
  local self = { _class = cls, _where = user_site(), n = 1 }
  serial = serial + 1
  self._serial = serial
  for k, v in pairs(cls.defaults) do self[k] = v end
  for k, v in pairs(args) do
    if type(k) ~= "string" or not cls.known[k] then
      local names = {}
      for name in pairs(cls.known) do names[#names + 1] = name end
      table.sort(names)
      error(string.format("%s: unknown parameter '%s'%s", cls.name, tostring(k),
                          check.suggest(tostring(k), names)), level + 1)
    end
    self[k] = v
  end
  setmetatable(self, S)
  validate_leaf(self, level + 1)
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
      error(string.format("%s: takes at most %d arguments (%s)", cls.name, #cls.params,
                          table.concat(cls.params, ", ")), level + 1)
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
  local self = setmetatable({ _class = cls, _where = user_site(), inputs = inputs }, S)
  if cls == CONCAT then
    if ratios == nil and type(inputs) == "table" then
      ratios = {}
      for i = 1, #inputs do ratios[i] = 1 end
    end
    rawset(self, "length_ratios", ratios)
  end
  -- Unlike neurolib, a composite checks that its inputs agree on n now (P14).
  validate_composite(self, level + 1)
  rawset(self, "_built", true)
  return self
end

local function list_arg(name, list, level)
  if type(list) ~= "table" or getmetatable(list) ~= nil then
    error(string.format("%s: expected a list of stimuli, got %s", name,
                        is_stimulus(list) and "a stimulus" or type(list)), level + 1)
  end
  local copy = {}
  for i, v in ipairs(list) do copy[i] = v end
  return copy
end

--- SummedStimulus({ a, b, ... }) or SummedStimulus{ inputs = { ... } }
function M.SummedStimulus(list)
  if type(list) == "table" and list.inputs then list = list.inputs end
  local s = new_composite(SUM, list_arg("SummedStimulus", list, 2), nil, 2)
  return s
end

--- ConcatenatedStimulus({ a, b }, { 2, 5 }) or ConcatenatedStimulus{ inputs = ..., length_ratios = ... }
function M.ConcatenatedStimulus(list, ratios)
  if type(list) == "table" and list.inputs then list, ratios = list.inputs, list.length_ratios end
  local r
  if ratios ~= nil then r = list_arg("ConcatenatedStimulus", ratios, 2) end
  local s = new_composite(CONCAT, list_arg("ConcatenatedStimulus", list, 2), r, 2)
  return s
end

for _, name in ipairs { "ZeroInput", "WienerProcess", "OrnsteinUhlenbeckProcess", "StepInput",
                        "SinusoidalInput", "SquareInput", "LinearRampInput", "ExponentialInput" } do
  M[name] = leaf_constructor(classes[name])
end

--- RectifiedInput(amplitude, n): neurolib's fixed concatenation for probing
-- bistability: -A, then relaxing from -A to 0, +A, relaxing from +A to 0, 0.
function M.RectifiedInput(amplitude, n)
  if type(amplitude) == "table" then
    check.fields(amplitude, { amplitude = true, n = true }, "RectifiedInput", 2)
    amplitude, n = amplitude.amplitude, amplitude.n
  end
  if not finite(amplitude) then error("RectifiedInput: amplitude must be a finite number", 2) end
  n = n or 1
  if math.type(n) ~= "integer" or n < 1 then
    error("RectifiedInput: n (channels) must be a positive integer, got " .. tostring(n), 2)
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
  if type(spec.name) ~= "string" then error("stimulus.define: 'name' must be a string", 2) end
  if type(spec.generate) ~= "function" then error("stimulus.define: 'generate' must be a function", 2) end
  if classes[spec.name] then error("stimulus.define: a stimulus type '" .. spec.name .. "' exists", 2) end
  local params, required = {}, {}
  local defaults = spec.defaults or {}
  for _, p in ipairs(spec.params or {}) do
    if type(p) ~= "string" then error("stimulus.define: parameter names are strings", 2) end
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
  if type(generate) ~= "function" then error("stimulus.custom: expected a function", 2) end
  serial = serial + 1
  local cls = class { name = "CustomStimulus#" .. serial, kind = "array", params = TRIM, trimmed = true,
                      generate = generate }
  cls.display = "CustomStimulus"
  local s = new_leaf(cls, opts or {}, 2)
  return s
end

-- ---------------------------------------------------------------------
-- Reading and writing n on composites; children by index
-- ---------------------------------------------------------------------

S.__index = function(self, k)
  local cls = rawget(self, "_class")
  if cls.composite then
    if k == "n" then local n = child_n(self, 2); return n end
    if math.type(k) == "integer" then return rawget(self, "inputs")[k] end
  end
  return methods[k]
end

S.__newindex = function(self, k, v)
  if k == "n" and rawget(self, "_class").composite then
    if math.type(v) ~= "integer" or v < 1 then error("n (channels) must be a positive integer", 2) end
    for _, c in ipairs(rawget(self, "inputs")) do c.n = v end
    return
  end
  rawset(self, k, v)
end

S.__len = function(self)
  local inputs = rawget(self, "inputs")
  return inputs and #inputs or 0
end

local function type_name(self)
  local cls = rawget(self, "_class")
  return cls.display or cls.name
end
M.type_name = type_name

S.__tostring = function(self)
  local cls = rawget(self, "_class")
  if cls.composite then
    local parts = {}
    for i, c in ipairs(rawget(self, "inputs")) do parts[i] = tostring(c) end
    local s = type_name(self) .. "(" .. table.concat(parts, ", ")
    if cls == CONCAT then
      local r = {}
      for i, w in ipairs(rawget(self, "length_ratios")) do r[i] = num(w) end
      s = s .. "; length_ratios = {" .. table.concat(r, ", ") .. "}"
    end
    return s .. ")"
  end
  local parts = {}
  for _, p in ipairs(cls.params) do
    local v = rawget(self, p)
    if v ~= nil and not (p == "n" and v == 1) and not (cls.defaults[p] ~= nil and v == cls.defaults[p]) then
      parts[#parts + 1] = (p == "end" and '["end"]' or p) .. " = " ..
                          (type(v) == "string" and ('"' .. v .. '"') or num(v))
    end
  end
  return type_name(self) .. "{" .. table.concat(parts, ", ") .. "}"
end

-- ---------------------------------------------------------------------
-- Operators: + sums, & concatenates, flattening as neurolib does
-- ---------------------------------------------------------------------

local function operand(v, pos, op)
  if is_stimulus(v) then return v end
  local hint = type(v) == "number"
               and "; numbers are not turned into stimuli: write StepInput{ step_size = ... }" or ""
  error(string.format("bad operand #%d to '%s' (stimulus expected, got %s%s)", pos, op, type(v), hint), 3)
end

local function same_n(a, b, op)
  local na, nb = a.n, b.n
  if na ~= nb then
    error(string.format("bad operands to '%s': the stimuli have different numbers of channels " ..
                        "(n = %d and n = %d); neurolib does not broadcast", op, na, nb), 3)
  end
end

-- a + b: a sum on either side is spliced in; a concatenation is not.
S.__add = function(a, b)
  operand(a, 1, "+")
  operand(b, 2, "+")
  same_n(a, b, "+")
  local list = {}
  for _, x in ipairs { a, b } do
    if rawget(x, "_class") == SUM then
      for _, c in ipairs(rawget(x, "inputs")) do list[#list + 1] = c end
    else
      list[#list + 1] = x
    end
  end
  local s = new_composite(SUM, list, nil, 2)
  return s
end

-- a & b: a concatenation on either side is spliced in with its ratios, so
-- `a & b & c` is three equal parts however it is parenthesised.
S.__band = function(a, b)
  operand(a, 1, "&")
  operand(b, 2, "&")
  same_n(a, b, "&")
  local list, ratios = {}, {}
  for _, x in ipairs { a, b } do
    if rawget(x, "_class") == CONCAT then
      for i, c in ipairs(rawget(x, "inputs")) do
        list[#list + 1] = c
        ratios[#ratios + 1] = rawget(x, "length_ratios")[i]
      end
    else
      list[#list + 1] = x
      ratios[#ratios + 1] = 1
    end
  end
  local s = new_composite(CONCAT, list, ratios, 2)
  return s
end

-- ---------------------------------------------------------------------
-- Parameters
-- ---------------------------------------------------------------------

--- The parameters as a table: { type = class name, <param> = value, ... };
-- composites: { type =, input_0 = ..., input_1 = ..., length_ratios = ... }.
function methods.get_params(self)
  local cls = rawget(self, "_class")
  local p = { type = type_name(self) }
  if cls.composite then
    for i, c in ipairs(rawget(self, "inputs")) do p["input_" .. (i - 1)] = c:get_params() end
    -- neurolib leaves the ratios out, so its parameters do not round-trip (P12).
    if cls == CONCAT then
      p.length_ratios = {}
      for i, w in ipairs(rawget(self, "length_ratios")) do p.length_ratios[i] = w end
    end
  else
    for _, name in ipairs(cls.params) do p[name] = rawget(self, name) end
    p.x0 = rawget(self, "x0")
  end
  p.duration = rawget(self, "duration")
  return p
end

--- Sets parameters from a table shaped like get_params' result ("None" means
-- absent, as in neurolib); an unknown name is an error (neurolib ignores it).
function methods.update_params(self, d)
  if type(d) ~= "table" then error("update_params: expected a table", 2) end
  local cls = rawget(self, "_class")
  local function unknown(k, names)
    table.sort(names)
    error(string.format("update_params: %s has no parameter '%s'%s", type_name(self), tostring(k),
                        check.suggest(tostring(k), names)), 3)
  end
  if cls.composite then
    local inputs = rawget(self, "inputs")
    for k, v in pairs(d) do
      local i = type(k) == "string" and tonumber(k:match("^input_(%d+)$"))
      if i and inputs[i + 1] then
        inputs[i + 1]:update_params(v)
      elseif k == "length_ratios" and cls == CONCAT then
        rawset(self, "length_ratios", list_arg("update_params", v, 2))
      elseif k == "duration" then
        rawset(self, "duration", v ~= "None" and v or nil)
      elseif k ~= "type" then
        local names = { "duration" }
        for j = 1, #inputs do names[#names + 1] = "input_" .. (j - 1) end
        if cls == CONCAT then names[#names + 1] = "length_ratios" end
        unknown(k, names)
      end
    end
    validate_composite(self, 2)
  else
    for k, v in pairs(d) do
      if cls.known[k] then
        if v == "None" then v = nil end
        if k == "n" and v == nil then v = 1 end
        rawset(self, k, v)
      elseif k ~= "type" then
        local names = {}
        for name in pairs(cls.known) do names[#names + 1] = name end
        unknown(k, names)
      end
    end
    validate_leaf(self, 2)
  end
  return self
end

-- ---------------------------------------------------------------------
-- Compiling for the engine
-- ---------------------------------------------------------------------

--- Samples on the grid of a request (duration, dt): D/dt for a whole
-- multiple (neurolib sometimes adds one, spec P2), else ceil(D/dt).
function M.length(duration, dt) return core.stim_length(duration, dt) end

--- The grid times t_k = dt + k*dt of a request, as neurolib computes them.
function M.times(duration, dt)
  local t = {}
  for k = 0, core.stim_length(duration, dt) - 1 do t[k + 1] = dt + k * dt end
  return t
end

-- Calls a user-defined generator and checks its rows.
local function generated_rows(self, D, dt, channels, level)
  local cls = rawget(self, "_class")
  local N = core.stim_length(D, dt)
  local out = cls.generate(self, D, dt)
  local function check_row(row, what)
    if type(row) ~= "table" or #row ~= N then
      bad(self, string.format("the generate function returned %s with %s values for duration %s ms, " ..
                              "dt %s ms; it must give %d (one per grid time, stimulus.times)", what,
                              type(row) == "table" and #row or type(row), num(D), num(dt), N), level + 1)
    end
    for k = 1, N do
      if not finite(row[k]) then
        bad(self, string.format("the generate function returned a non-number at sample %d of %s", k, what),
            level + 1)
      end
    end
    return row
  end
  if type(out) == "table" and type(out[1]) == "number" then return { check_row(out, "a row") } end
  if type(out) ~= "table" or (#out ~= 1 and #out ~= channels) then
    bad(self, string.format("the generate function must return one array, or one array per channel " ..
                            "(%d), got %s", channels, type(out) == "table" and (#out .. " arrays") or type(out)),
        level + 1)
  end
  for i, row in ipairs(out) do check_row(row, "row " .. i) end
  return out
end

--[[ Flattens a stimulus into the engine's preorder node list.  ctx: dt; seed
(the base of seedless leaves); key(leaf, index) (their stream key); n (forces
every leaf's channel count: to_model).  `objs[i]` is the object of node i,
for error messages. ]]
local function flatten(self, D, ctx, list, objs, level)
  local cls = rawget(self, "_class")
  local i = #list + 1
  local node = { kind = cls.composite and (cls == SUM and "sum" or "concat") or cls.kind }
  list[i], objs[i] = node, self
  if cls.composite then
    local inputs = rawget(self, "inputs")
    node.children = #inputs
    local total, ratios = 0.0, nil
    if cls == CONCAT then
      ratios = rawget(self, "length_ratios")
      node.ratios = ratios
      for _, w in ipairs(ratios) do total = total + w end
    end
    for j, c in ipairs(inputs) do
      -- The same arithmetic as the engine's, for user-defined leaves' requests.
      local Dj = ratios and D * (ratios[j] / total) or D
      flatten(c, Dj, ctx, list, objs, level + 1)
    end
    return
  end
  local n = ctx.n or rawget(self, "n")
  node.channels = n
  for j, p in ipairs(engine_params[cls.kind]) do node["p" .. j] = rawget(self, p) end
  if cls.trimmed then
    node.start, node["end"] = rawget(self, "start"), rawget(self, "end")
  end
  node.dc_bias = rawget(self, "dc_bias") and true or nil
  node.decay = rawget(self, "exp_type") == "decay" or nil
  node.x0 = rawget(self, "x0")
  if cls.stochastic then
    local seed = rawget(self, "seed")
    if seed then node.seed, node.key = seed, 0          -- its own seed, whatever runs it
    else node.seed, node.key = ctx.seed, ctx.key(self, i) end
  end
  if cls.kind == "array" then node.values = generated_rows(self, D, ctx.dt, n, level + 1) end
end

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
  ramp = function() return "ramp_length must not be 0" end,
  sigma = function() return "sigma must not be negative" end,
  duration = function(_, d) return "the duration must be positive, got " .. num(d) .. " ms" end,
  array = function() return "the generated samples do not fit the request" end,
  tree = function() return "malformed stimulus" end,
}

--- Compiles `self` for a request; errors name the offending stimulus and
-- where it was made.  Returns the engine object.
local function compile(self, D, ctx, level)
  validate(self, level + 1)
  local list, objs = {}, {}
  flatten(self, D, ctx, list, objs, level + 1)
  local st, node, why, nd = core.stimulus(list, D, ctx.dt)
  if not st then
    local o = objs[node] or self
    bad(o, why_text[why](o, nd, node == 1, ctx.dt), level + 1)
  end
  return st, list
end

local function check_request(duration, dt, what, level)
  if not finite(duration) or duration <= 0 then
    error(string.format("%s: duration must be a positive number of ms, got %s", what, tostring(duration)),
          level + 1)
  end
  if not finite(dt) or dt <= 0 then
    error(string.format("%s: dt must be a positive number of ms, got %s", what, tostring(dt)), level + 1)
  end
end

local function standalone_ctx(dt, n)
  return { dt = dt, seed = 0, n = n, key = function(leaf) return rawget(leaf, "_serial") end }
end

--- The stimulus on neurolib's grid: a[channel][k] (both 1-based), sample k
-- labelled k*dt.  A seedless stochastic leaf draws from a stream of its own
-- (the same array every call; neurolib reseeds from the OS).
function methods.as_array(self, duration, dt)
  check_request(duration, dt, "as_array", 2)
  local st = compile(self, duration, standalone_ctx(dt), 2)
  return st:render(core.stim_length(duration, dt))
end

--- The samples of as_array(duration, dt) in blocks of `size` (default 65536),
-- without holding them all: `for first, block in s:chunks(D, dt) do ... end`,
-- block[channel][j] being sample first + j - 1 (1-based).  Same bits as as_array.
function methods.chunks(self, duration, dt, size)
  check_request(duration, dt, "chunks", 2)
  size = size or 65536
  if math.type(size) ~= "integer" or size < 1 then error("chunks: size must be a positive integer", 2) end
  local st = compile(self, duration, standalone_ctx(dt), 2)
  local N, done = core.stim_length(duration, dt), 0
  return function()
    if done >= N then return nil end
    local m = math.min(size, N - done)
    local first = done + 1
    done = done + m
    return first, st:render(m)
  end
end

--- as_array with one channel per node of `model`, for `duration` and `dt`
-- (ms; default: the model's defaults, as neurolib reads params.duration and
-- params.dt).  neurolib sets n permanently; the object is left alone here (P16).
function methods.to_model(self, model, duration, dt)
  if type(model) ~= "table" or not model.net or not model.net.nodes then
    error("to_model: expected a model", 2)
  end
  duration, dt = duration or model.default_duration, dt or model.default_dt
  if not duration then
    error("to_model: the model has no default duration; use to_model(model, duration)", 2)
  end
  check_request(duration, dt, "to_model", 2)
  local st = compile(self, duration, standalone_ctx(dt, #model.net.nodes), 2)
  return st:render(core.stim_length(duration, dt))
end

-- ---------------------------------------------------------------------
-- Driving a model
-- ---------------------------------------------------------------------

local Binding = { __name = "neuromass.StimulusBinding" }
Binding.__index = Binding
M.Binding = Binding

--- params.spread's extension point: one binding per matched slot, channel c
-- onto slot c, or channel 0 onto every slot when n = 1.
function methods.series_for(self, n, key, level)
  validate(self, level + 1)
  local sn = self.n
  if sn ~= n and sn ~= 1 then
    error(string.format("the stimulus for '%s' has n = %d channels, but '%s' matches %d targets " ..
                        "(one per node): give n = %d, or n = 1 to drive all alike", key, sn, key, n, n),
          level + 1)
  end
  local list = {}
  for i = 1, n do list[i] = setmetatable({ stimulus = self, channel = sn == 1 and 0 or i - 1 }, Binding) end
  return list
end

-- A canonical text of everything a compiled tree depends on, so a continued
-- run reuses the compiled (and advanced) tree only when nothing changed.
local function signature(self, out)
  local cls = rawget(self, "_class")
  out[#out + 1] = cls.name
  if cls.composite then
    for _, w in ipairs(rawget(self, "length_ratios") or {}) do out[#out + 1] = num(w) end
    for _, c in ipairs(rawget(self, "inputs")) do signature(c, out) end
    out[#out + 1] = ")"
  else
    out[#out + 1] = tostring(rawget(self, "_serial"))
    for _, p in ipairs(cls.params) do out[#out + 1] = tostring(rawget(self, p)) end
    out[#out + 1] = tostring(rawget(self, "x0"))
  end
  return out
end

-- Does the tree hold user-defined (finite) samples?
local function has_array(self)
  local cls = rawget(self, "_class")
  if cls.kind == "array" then return true end
  for _, c in ipairs(rawget(self, "inputs") or {}) do if has_array(c) then return true end end
  return false
end

--[[ The stimulus drivers of a run.  targets: list of { kind = "param" |
"input", slot =, binding = }.  run: { fresh = bool (a new simulation), steps
= steps taken before this run, n_steps, dt, seed, n_param, name_of(kind,
slot) }.  Each stimulus object is compiled once per simulation for the
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
      g = { stimulus = s, kind = {}, slot = {}, channel = {}, id = math.huge }
      groups[s] = g
      order[#order + 1] = g
    end
    g.kind[#g.kind + 1] = t.kind
    g.slot[#g.slot + 1] = t.slot
    g.channel[#g.channel + 1] = t.binding.channel
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
    local entry = cache[s]
    local D = rawget(s, "duration") or (entry and entry.D) or end_step * run.dt
    local id = g.id
    local ctx = { dt = run.dt, seed = run.seed,
                  key = function(_, index) return id * 1048576 + index end }
    local sig = table.concat(signature(s, { num(D), num(run.dt), tostring(run.seed), tostring(id) }), "\1")
    if not entry or entry.sig ~= sig then
      local ok, st = pcall(compile, s, D, ctx, 1)
      if not ok then
        local msg = tostring(st):gsub("^[^:]*:%d+: ", "")
        if not rawget(s, "duration") and (msg:find("start =", 1, true) or msg:find("end =", 1, true)) then
          msg = msg .. string.format("; a stimulus driving a model spans the run it first drives " ..
                                     "(%s ms here): give it duration = ... to span more", num(D))
        end
        error(string.format("run: '%s': %s", run.name_of(g.kind[1], g.slot[1]), msg), level + 1)
      end
      entry = { st = st, sig = sig, D = D }
      cache[s] = entry
    end
    if has_array(s) and end_step - 1 > core.stim_length(D, run.dt) then
      error(string.format("run: '%s': a stimulus with generated samples covers %s ms, the run goes to %s ms; " ..
                          "give it duration = %s", run.name_of(g.kind[1], g.slot[1]), num(D),
                          num(end_step * run.dt), num(end_step * run.dt)), level + 1)
    end
    out[#out + 1] = { stim = entry.st, kind = g.kind, slot = g.slot, channel = g.channel }
  end
  return out
end

M.methods = methods
return M
