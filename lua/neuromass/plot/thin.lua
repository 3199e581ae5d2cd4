--- How much of a long series reaches gnuplot: the one rule for every figure
-- that draws a series over time or frequency (time series, BOLD, the study's
-- BOLD panel, spectra).  What is drawn scales with what can be seen, the
-- panel's width in pixels, never with the length of the data:
--   * a line gets at most two points per pixel column: the samples are cut
--     into as many bins as the panel is pixels wide, and each bin gives its
--     lowest and its highest finite sample, in time order, so a peak or a
--     spike of a single sample is always drawn; a bin with no finite sample
--     leaves a gap.  A series of at most two samples per column is drawn
--     whole, every sample as it is (its figure is the one drawn before the
--     rule);
--   * an image (node × time) gets at most one column per pixel column, each
--     the mean of its bin's finite samples (a colour shows one value).
local check = require "neuromass._check"

local math = math

local M = {}

--- thin.bins(T, n) -> an array of { first, last }: [1, T] cut into min(T, n)
-- bins of consecutive samples, as even as can be.
function M.bins(T, n)
  n = math.max(1, math.min(T, n))
  local out = {}
  for b = 1, n do out[b] = { (b - 1) * T // n + 1, b * T // n } end
  return out
end

--- thin.columns(width) -> how many bins a panel `width` pixels wide takes
-- (its pixel columns; a fraction of a pixel rounds down, at least 1).
function M.columns(width)
  return math.max(1, math.floor(width))
end

local finite = check.finite

--- thin.envelope(x, v, T, width) -> { { x, v }, ... }: the points of series
-- v (T samples at abscissae x: times or frequencies) on a panel `width`
-- pixels wide: every sample when T <= 2 × columns, else each bin's lowest
-- and highest finite sample in time order (one point when they are the
-- same sample; { x of the bin's first, NaN }, a gap, when it has none).
function M.envelope(x, v, T, width)
  local n = M.columns(width)
  local pts = {}
  if T <= 2 * n then
    for k = 1, T do pts[k] = { x[k], v[k] } end
    return pts
  end
  for b = 1, n do
    local first, last = (b - 1) * T // n + 1, b * T // n
    local lo, hi
    for k = first, last do
      local s = v[k]
      if finite(s) then
        if not lo or s < v[lo] then lo = k end
        if not hi or s > v[hi] then hi = k end
      end
    end
    if not lo then
      pts[#pts + 1] = { x[first], 0 / 0 }
    else
      local a, c = math.min(lo, hi), math.max(lo, hi)
      pts[#pts + 1] = { x[a], v[a] }
      if c ~= a then pts[#pts + 1] = { x[c], v[c] } end
    end
  end
  return pts
end

--- thin.mean(v, bin) -> the mean of v's finite samples in bin = { first,
-- last }, NaN when it has none (a blank cell).
function M.mean(v, bin)
  local s, n = 0, 0
  for k = bin[1], bin[2] do
    local x = v[k]
    if finite(x) then s, n = s + x, n + 1 end
  end
  return n > 0 and s / n or 0 / 0
end

return M
