--- Stimuli, validation: every rule on the user's values that does not depend
-- on a request, as text naming the problem (nil when valid); callers report
-- it at the user's line.  Part of neuromass.stimulus.
local C = require "neuromass.stimulus.class"
local check = require "neuromass._check"

local type, ipairs, getmetatable, rawget, string, math = type, ipairs, getmetatable, rawget, string, math

local CONCAT, field, finite, first_n, is_composite, is_stimulus, limits_problem, num, parts, show,
      type_name =
      C.CONCAT, C.field, C.finite, C.first_n, C.is_composite, C.is_stimulus, C.limits_problem, C.num,
      C.parts, C.show, C.type_name
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

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
  elseif k == "frequency" and v <= 0 then
    -- neurolib takes any number: a negative frequency flips the waveform
    -- (sin(-x) = -sin(x)), zero leaves it flat.
    return string.format("frequency must be positive (Hz), got %s%s", num(v),
                         v < 0 and " (it would flip the waveform: for that, negate the amplitude)"
                         or " (the waveform would be flat)")
  elseif k == "start" and v < 0 then
    -- A stimulus is defined from t = 0 on (its samples at dt, 2 dt, ...);
    -- neurolib takes a negative start as 0.
    return string.format("start = %s ms is before the stimulus begins (t = 0; samples are at dt, 2 dt, ...): " ..
                         "write start = 0, or leave start out", num(v))
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
      return "needs a non-empty list of stimuli, got " ..
             ((type(v) == "table" and getmetatable(v) == nil) and "an empty list" or show(v))
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
      return string.format("needs one length ratio per input (%s, %s)", check.nouns(#inputs, "input"),
                           type(ratios) == "table" and check.nouns(#ratios, "ratio") or show(ratios))
    end
    return composite_field_problem("length_ratios", ratios)
  end
end

--[[ A whole tree, as it is now (fields may have changed since it was made):
returns nil, or the offending stimulus and the problem.  The walk is bounded
by the limits, so a composite that was made to contain itself is reported,
not followed: a leaf beyond them is reported as the composite that holds it
(`parent`), not as whichever leaf came first. ]]
local function problem(self, depth, count, parent)
  count.nodes = count.nodes + 1
  local too = limits_problem(depth, count.nodes)
  if too then return (parent and not is_composite(self)) and parent or self, too end
  if not is_composite(self) then
    local msg = leaf_problem(self)
    if msg then return self, msg end
    return nil
  end
  local msg = composite_problem(self)
  if msg then return self, msg end
  for _, c in ipairs((parts(self))) do
    local o, m = problem(c, depth + 1, count, self)
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

M.bad = bad
M.channels = channels
M.check_self = check_self
M.composite_field_problem = composite_field_problem
M.composite_problem = composite_problem
M.explain = explain
M.field_problem = field_problem
M.leaf_problem = leaf_problem
M.problem = problem
M.validate = validate

return M
