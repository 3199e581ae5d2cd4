--- Stimuli: neurolib's stimulus library (neurolib/utils/stimulus.py) with its
-- class names, parameter names and defaults, on neurolib's time grid (our
-- deviations are in docs/stimulus.md).
--
-- A stimulus is a table with the metatable `S`: its parameters read and
-- write as fields (`s.amplitude`, `s["end"]`), kept in its table `_f` so
-- that every assignment is checked; composites hold their parts (`inputs`,
-- and `length_ratios`).  `+` sums (`__add`) and `&` concatenates (`__band`),
-- flattening as neurolib does.  Nothing is evaluated in Lua: a stimulus is
-- flattened into a node list that the engine compiles into a tree of
-- generators (src/engine/stim.c), rendered in chunks for as_array and while
-- a model runs.  Every rule on the user's values is checked in Lua and
-- reported at the user's line; the engine refuses only sizes and malformed
-- trees.
--
-- This module gathers the parts, one file per phase, in lua/neuromass/stimulus/:
--   class.lua      the representation: metatable, classes, fields, composites' parts, limits
--   validate.lua   the rules on the user's values (problems as text)
--   build.lua      construction: leaf constructors, composites, RectifiedInput, define, custom
--   fields.lua     reading and writing fields, tostring, get_params / update_params
--   operators.lua  + and &
--   compile.lua    requests (length, times), flattening for the engine, its refusals in words
--   render.lua     as_array, chunks, to_model
--   drive.lua      bindings to a model's parameters and inputs, and a run's drivers
local class = require "neuromass.stimulus.class"
local build = require "neuromass.stimulus.build"
local compile = require "neuromass.stimulus.compile"
local drive = require "neuromass.stimulus.drive"
require "neuromass.stimulus.fields"
require "neuromass.stimulus.operators"
require "neuromass.stimulus.render"

local check = require "neuromass._check"
local pairs = pairs

local M = {}

for k, v in pairs(build) do M[k] = v end       -- the constructors, define, custom

M.is_stimulus = class.is_stimulus

--- type_name(stim) -> its class name ("StepInput", a define'd name, "CustomStimulus").
-- Errors: stim not a stimulus.
function M.type_name(stim)
  if not class.is_stimulus(stim) then
    check.error("stimulus.type_name: expected a stimulus, got " .. class.show(stim), 2)
  end
  return class.type_name(stim)
end

M.methods = class.methods
M.length = compile.length
M.times = compile.times
M.Binding = drive.Binding
M.drivers = drive.drivers

-- A misspelt name (nm.stimulus.StepInptu) is an error with a suggestion, not a nil to call.
-- Extra arguments (s:as_array(100, 0.1, 5), nm.stimulus.times(d, dt, x)) are refused, not dropped.
for k, f in pairs(class.methods) do class.methods[k] = check.counted(f, k, true) end
check.strict_module(check.counted_module(M, "nm.stimulus"), "neuromass.stimulus")

return M
