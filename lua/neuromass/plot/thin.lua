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
-- "Finite" here is what gnuplot can draw (gnuplot.drawable): not NaN, within
-- ±1e300 (beyond, gnuplot's axis overflows and draws nothing).
local math = math
local drawable = require("neuromass.plot.gnuplot").drawable

local M = {}

local UP, DOWN, STEP = 2.0 ^ 200, 2.0 ^ -200, 2.0 ^ 200

-- unit(a) -> the power of two c that brings a * c (a >= 0) within 2^-200 ..
-- 2^200, 1 when a is 0 or already there: the sums of (x * c)^2 for |x| <= a
-- neither overflow (x near 1e200) nor underflow (near 1e-200), and the
-- scaling is exact, so ordinary data's sums are untouched to the bit.
local function unit(a)
  local c = 1.0
  if a == 0 then return c end
  while a * c > UP do c = c / STEP end
  while a * c < DOWN do c = c * STEP end
  return c
end

--- thin.columns(width) -> how many bins a panel `width` pixels wide takes
-- (its pixel columns; a fraction of a pixel rounds down, at least 1).
function M.columns(width)
  return math.max(1, math.floor(width))
end

--- thin.folder(T, width, kind) -> f: the rule applied to one series of T
-- samples as they come, without holding them (a CSV read in chunks,
-- plot/cli.lua), for a line (kind "line": pts) or an image ("image"):
-- f.add(k0, x, v, m) for samples k0 + 1, ..., k0 + m (x[j] the time or
-- frequency of sample k0 + j, v[j] its value), chunk after chunk in order,
-- then f.result() -> { pts (a line's) = its points { { x, v }, ... } (every
-- sample when T <= 2 × columns, else each bin's lowest and highest finite
-- sample in time order, one point when they are the same sample, a gap
-- { x of its first, NaN } when it has none), image (an image's) = { { x_first, x_last,
-- mean }, ... } (min(T, columns) bins, the mean of each one's finite
-- samples, NaN when none), n (finite samples), lo, hi (their range), beyond
-- ({ k, value }: the first finite sample that is not drawable, or nil), mean,
-- sd (their mean and standard deviation, of the population, from sums
-- shifted by the first finite sample and scaled by a power of two when
-- beyond 2^±200: zscore) }.
function M.folder(T, width, kind)
  local n = M.columns(width)
  local line = kind == "line"
  local whole, ni = T <= 2 * n, math.min(T, n)
  local huge = math.huge
  local pts, img = {}, {}
  -- the line's bin: its number, last sample, first x; its lowest and highest finite sample
  local eb, elast, first_x, lo_k, lo_x, lo_v, hi_k, hi_x, hi_v = 0, 0, nil, nil, nil, nil, nil, nil, nil
  -- the image's bin: its number, last sample, sum and count of finite samples, first and last x
  local ib, ilast, isum, icount, ifirst, ix = 0, 0, 0, 0, nil, nil
  -- the finite samples: count, range, sums shifted by the first one, of the
  -- shifted values times c = unit(dmax), dmax their largest magnitude so far
  local count, vmin, vmax, shift, s1, s2, c, dmax = 0, huge, -huge, nil, 0, 0, 1.0, 0
  local beyond = nil   -- the first finite sample beyond ±LIMIT: { k, value }
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
  function f.add(k0, x, v, m)
    for j = 1, m do
      local k, s, t = k0 + j, v[j], x[j]
      local fin = drawable(s)
      if not fin and not beyond and s == s and s > -huge and s < huge then beyond = { k, s } end
      if fin then
        count = count + 1
        if s < vmin then vmin = s end
        if s > vmax then vmax = s end
        if not shift then shift = s end
        local d = s - shift
        if math.abs(d) > dmax then
          dmax = math.abs(d)
          local nc = unit(dmax)
          if nc ~= c then s1, s2, c = s1 / c * nc, s2 / c / c * nc * nc, nc end
        end
        d = d * c
        s1, s2 = s1 + d, s2 + d * d
      end
      if not line then
        if k > ilast then
          if ib > 0 then flush_image() end
          ib = ib + 1
          ilast, isum, icount, ifirst = ib * T // ni, 0, 0, t
        end
        if fin then isum, icount = isum + s, icount + 1 end
        ix = t
      elseif whole then
        pts[k] = { t, s }
      else
        if k > elast then
          if eb > 0 then flush_line() end
          eb = eb + 1
          elast, first_x, lo_k, hi_k = eb * T // n, t, nil, nil
        end
        if fin then
          if not lo_k or s < lo_v then lo_k, lo_x, lo_v = k, t, s end
          if not hi_k or s > hi_v then hi_k, hi_x, hi_v = k, t, s end
        end
      end
    end
  end
  function f.result()
    if line and not whole and eb > 0 then flush_line() end
    if ib > 0 then flush_image() end
    local mean, var = 0, 0
    if count > 0 then
      mean = shift + s1 / count / c
      var = math.max(0, (s2 - s1 * s1 / count) / count)
    end
    return { pts = line and pts or nil, image = not line and img or nil, n = count, lo = vmin, hi = vmax,
             mean = mean, sd = math.sqrt(var) / c, beyond = beyond }
  end
  return f
end

--- thin.fold(x, v, T, width, kind) -> folder(T, width, kind)'s result for
-- the series v (T samples at abscissae x), its mean and sd in two passes
-- (the folder's, in one, may differ in the last digits).
function M.fold(x, v, T, width, kind)
  local f = M.folder(T, width, kind)
  f.add(0, x, v, T)
  local r = f.result()
  if r.n > 0 then
    local sum, ss, c = 0, 0, unit(math.max(math.abs(r.lo), math.abs(r.hi)))
    for k = 1, T do
      local s = v[k]
      if drawable(s) then sum = sum + s * c end
    end
    local mean = sum / r.n / c
    c = unit(math.max(r.hi - mean, mean - r.lo))
    for k = 1, T do
      local s = v[k]
      if drawable(s) then ss = ss + ((s - mean) * c) ^ 2 end
    end
    r.mean, r.sd = mean, math.sqrt(ss / r.n) / c
  end
  return r
end

--- thin.envelope(x, v, T, width) -> the points of series v (T samples at
-- abscissae x: times or frequencies) drawn as a line on a panel `width`
-- pixels wide: thin.fold's pts.
function M.envelope(x, v, T, width)
  local f = M.folder(T, width, "line")
  f.add(0, x, v, T)
  return f.result().pts
end

return M
