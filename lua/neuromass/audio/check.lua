--- The audio options' vocabulary of checks, shared by the files of audio/
-- (one owner for each choice's list and for the wording of refusals).
-- Level discipline: a helper given `level` (as seen from its caller) raises
-- with fail(what, level, ...) and passes level + 1 to the helpers it calls.
local check = require "neuromass._check"

local type, ipairs, string, table, tostring, math =
      type, ipairs, string, table, tostring, math

local M = {}

--- The allowed values of each option that is a choice.
M.choices = {
  mode = { "audify", "mapping" },
  layout = { "mono", "stereo", "multichannel" },
  normalize = { "peak", "rms", "relative", "none" },
  quality = { "fast", "medium", "best" },
  drive = { "amplitude", "pitch", "both" },
  pan = { "index", "hemisphere", "position" },
}
local choices = M.choices

--- fail(what, level, fmt, ...): raises "what: <message>" at `level`.
function M.fail(what, level, fmt, ...)
  check.error(what .. ": " .. string.format(fmt, ...), level + 2)   -- at the user's line
end

--- one_of(what, level, key, value, dflt) -> value (dflt when nil), one of choices[key].
function M.one_of(what, level, key, value, dflt)
  if value == nil then return dflt end
  for _, c in ipairs(choices[key]) do if c == value then return value end end
  M.fail(what, level, "unknown %s '%s' (use %s)%s", key, tostring(value),
       table.concat(choices[key], ", "), check.suggest(tostring(value), choices[key]))
end

--- positive(what, level, key, v) -> v, a positive finite number.
function M.positive(what, level, key, v)
  if type(v) ~= "number" or not (v > 0) or v == math.huge then
    M.fail(what, level, "'%s' must be a positive number (got %s)", key, check.show(v))
  end
  return v
end

--- below_nyquist(what, level, key, f, rate) -> f, a frequency (Hz) the audio
-- can hold at `rate` (Hz): below rate / 2 (above, the resampler filters it
-- out of audification; a synthesised tone aliases).
function M.below_nyquist(what, level, key, f, rate)
  if f >= rate / 2 then
    M.fail(what, level, "'%s' = %s Hz must be below %s Hz, half the audio rate (%d Hz)", key,
           check.number(f), check.number(rate / 2), rate)
  end
  return f
end

--- non_negative(what, level, key, v) -> v, a finite number >= 0.
function M.non_negative(what, level, key, v)
  if type(v) ~= "number" or not (v >= 0) or v == math.huge then
    M.fail(what, level, "'%s' must be a number >= 0 (got %s)", key, check.show(v))
  end
  return v
end

return M
