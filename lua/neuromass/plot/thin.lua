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

--- thin.columns(width) -> how many bins a panel `width` pixels wide takes
-- (its pixel columns; a fraction of a pixel rounds down, at least 1).
function M.columns(width)
  return math.max(1, math.floor(width))
end

local finite = check.finite

--- thin.folder(T, width) -> f: the rule applied to one series of T samples
-- as they come, without holding them (a CSV read in chunks, plot/cli.lua):
-- f.add(k, x, v) for k = 1, ..., T in order (x its time or frequency, v its
-- value), then f.result() -> { pts = the line's points { { x, v }, ... }
-- (every sample when T <= 2 × columns, else each bin's lowest and highest
-- finite sample in time order, one point when they are the same sample, a
-- gap { x of its first, NaN } when it has none), image = { { x_first,
-- x_last, mean }, ... } (min(T, columns) bins, the mean of each one's finite
-- samples, NaN when none), n (finite samples), lo, hi (their range), mean,
-- sd (their mean and standard deviation, of the population: zscore) }.
function M.folder(T, width)
  local n = M.columns(width)
  local whole, ni = T <= 2 * n, math.min(T, n)
  local pts, img = {}, {}
  local elast, eb, first_x, lo_k, lo_x, lo_v, hi_k, hi_x, hi_v = 0, 0, nil, nil, nil, nil, nil, nil, nil
  local ilast, ib, isum, icount, ifirst, ix = 0, 0, 0, 0, nil, nil
  local count, vmin, vmax, mean, m2 = 0, math.huge, -math.huge, 0, 0
  local function flush_line()
    if not lo_k then
      pts[#pts + 1] = { first_x, 0 / 0 }
    elseif lo_k == hi_k then
      pts[#pts + 1] = { lo_x, lo_v }
    elseif lo_k < hi_k then
      pts[#pts + 1] = { lo_x, lo_v }
      pts[#pts + 1] = { hi_x, hi_v }
    else
      pts[#pts + 1] = { hi_x, hi_v }
      pts[#pts + 1] = { lo_x, lo_v }
    end
  end
  local function flush_image() img[#img + 1] = { ifirst, ix, icount > 0 and isum / icount or 0 / 0 } end
  local f = {}
  function f.add(k, x, v)
    local fin = finite(v)
    if fin then
      count = count + 1
      if v < vmin then vmin = v end
      if v > vmax then vmax = v end
      local d = v - mean
      mean = mean + d / count
      m2 = m2 + d * (v - mean)
    end
    if whole then
      pts[k] = { x, v }
    else
      if k > elast then
        if eb > 0 then flush_line() end
        eb = eb + 1
        elast, first_x, lo_k, hi_k = eb * T // n, x, nil, nil
      end
      if fin then
        if not lo_k or v < lo_v then lo_k, lo_x, lo_v = k, x, v end
        if not hi_k or v > hi_v then hi_k, hi_x, hi_v = k, x, v end
      end
    end
    if k > ilast then
      if ib > 0 then flush_image() end
      ib = ib + 1
      ilast, isum, icount, ifirst = ib * T // ni, 0, 0, x
    end
    if fin then isum, icount = isum + v, icount + 1 end
    ix = x
  end
  function f.result()
    if not whole and eb > 0 then flush_line() end
    if ib > 0 then flush_image() end
    return { pts = pts, image = img, n = count, lo = vmin, hi = vmax, mean = mean,
             sd = count > 0 and math.sqrt(m2 / count) or 0 }
  end
  return f
end

--- thin.fold(x, v, T, width) -> folder(T, width)'s result for the series v
-- (T samples at abscissae x), its mean and sd in two passes (the folder's,
-- in one, may differ in the last digits).
function M.fold(x, v, T, width)
  local f = M.folder(T, width)
  local add = f.add
  for k = 1, T do add(k, x[k], v[k]) end
  local r = f.result()
  if r.n > 0 then
    local sum, ss = 0, 0
    for k = 1, T do if finite(v[k]) then sum = sum + v[k] end end
    r.mean = sum / r.n
    for k = 1, T do if finite(v[k]) then ss = ss + (v[k] - r.mean) ^ 2 end end
    r.sd = math.sqrt(ss / r.n)
  end
  return r
end

--- thin.envelope(x, v, T, width) -> the points of series v (T samples at
-- abscissae x: times or frequencies) drawn as a line on a panel `width`
-- pixels wide: thin.fold's pts.
function M.envelope(x, v, T, width)
  return M.fold(x, v, T, width).pts
end

return M
