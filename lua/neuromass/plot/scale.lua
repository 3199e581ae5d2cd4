--- How values reach a gnuplot axis or colour bar: gnuplot's colour bar
-- fails or draws one flat colour for values beyond about 1e30 and below
-- about 1e-30 (an image of 1e299 drawn over [-10:10], one of 1e-200 all
-- zero), and its tics print 6 digits, so values that differ only past them
-- (1000 + 1e-9 k) show as one.  A scale maps such values to ordinary
-- numbers, v -> (v - offset) / 10^exp, and the axis's label says so:
-- "value (×1e35)", "fitness - 0.9999 (×1e-7)", as matplotlib's offset and
-- multiplier do.
local string, math, ipairs = string, math, ipairs

local M = {}

--- Magnitudes drawn as they are: from SMALL (inclusive) to LARGE (exclusive).
M.SMALL, M.LARGE = 1e-4, 1e6

--- Values whose span is below OFFSET_SPAN times their magnitude get an
-- offset (their differences would fall past gnuplot's 6 tic digits).
M.OFFSET_SPAN = 1e-4

--- The scale that leaves values as they are.
local IDENTITY = { offset = 0, exp = 0 }
M.IDENTITY = IDENTITY

-- The largest power of ten not above `a` (a > 0): its exponent.
local function decade(a)
  local e = math.floor(math.log(a, 10))
  if 10.0 ^ (e + 1) <= a then e = e + 1 elseif 10.0 ^ e > a then e = e - 1 end   -- (log's rounding)
  return e
end

-- v / 10^e without over- or underflowing 10^e (e down to about -340).
local function shift(v, e)
  if e < -300 then return (v * 1e300) / 10.0 ^ (e + 300) end
  return v / 10.0 ^ e
end

--- scale.of(lo, hi) -> the scale { offset, exp, offset_text } of values from
-- lo to hi (finite, lo <= hi; lo > hi, no values, or an infinity gives the identity): an
-- offset when their span is below OFFSET_SPAN of their magnitude (lo
-- rounded down at the span's leading digit, offset_text its decimal
-- form), then a power of ten when what is left lies outside SMALL to LARGE.
function M.of(lo, hi)
  if not (lo <= hi) or lo == -math.huge or hi == math.huge then return IDENTITY end
  local offset, text = 0, nil
  local span, mag = hi - lo, math.max(math.abs(lo), math.abs(hi))
  if span > 0 and span < mag * M.OFFSET_SPAN then
    local k = decade(span) + 1
    local o = math.floor(shift(lo, k)) * 10.0 ^ k
    text = string.format("%." .. math.max(1, decade(math.abs(o)) - k + 1) .. "g", o)   -- (its digits down to 10^k)
    offset = tonumber(text)
    lo, hi = lo - offset, hi - offset
    mag = math.max(math.abs(lo), math.abs(hi))
  end
  local exp = 0
  if mag > 0 and (mag < M.SMALL or mag >= M.LARGE) then exp = decade(mag) end
  if offset == 0 and exp == 0 then return IDENTITY end
  return { offset = offset, exp = exp, offset_text = text }
end

--- scale.apply(s, v) -> v on scale s: (v - offset) / 10^exp (NaN stays NaN).
function M.apply(s, v)
  if s.offset == 0 and s.exp == 0 then return v end
  return shift(v - s.offset, s.exp)
end

--- scale.label(s, text) -> the axis label `text` naming scale s: "text -
-- offset (×1eN)", the parts it has ("text (×1e35)"); text itself for the identity.
function M.label(s, text)
  text = text or ""
  if s.offset ~= 0 then
    local o = s.offset_text
    text = text .. (o:sub(1, 1) == "-" and " + " .. o:sub(2) or " - " .. o)
  end
  if s.exp ~= 0 then text = text .. string.format(" (×1e%d)", s.exp) end
  return text
end

--- scale.range(values, limit[, lo, hi[, col]]) -> lo, hi: the least and
-- greatest of `values` (an array of numbers; of points when `col` is given,
-- each point's entry `col`, points without one skipped) that are within
-- ±limit (the largest drawable magnitude; not NaN), and of lo and hi when
-- given (a range grown row by row); lo > hi when there is none.
function M.range(values, limit, lo, hi, col)
  lo, hi = lo or math.huge, hi or -math.huge
  for k = 1, #values do
    local v = values[k]
    if col then v = v[col] end
    if v ~= nil and v == v and v >= -limit and v <= limit then
      if v < lo then lo = v end
      if v > hi then hi = v end
    end
  end
  return lo, hi
end

-- v on scale s when it is drawable (within ±limit, not NaN), else v as it
-- is: a value beyond the limit stays one that is not drawn.
local function drawn(s, v, limit)
  if v == v and v >= -limit and v <= limit then return M.apply(s, v) end
  return v
end

--- scale.points(s, pts, limit) -> the points pts ({ x, v } each; a gap,
-- {}, kept) with their values v on scale s (M.apply; v beyond ±limit or
-- NaN left as it is): a copy, or pts itself for the identity.
function M.points(s, pts, limit)
  if s == IDENTITY then return pts end
  local out = {}
  for k, p in ipairs(pts) do out[k] = p[2] == nil and p or { p[1], drawn(s, p[2], limit) } end
  return out
end

--- scale.matrix(s, m, limit[, from]) -> the matrix m (rows of numbers) with
-- its cells on scale s (values beyond ±limit or NaN left as they are), the
-- rows and columns before `from` (default 1: none) copied as they are (a
-- gnuplot nonuniform matrix's coordinates): a copy, or m itself for the identity.
function M.matrix(s, m, limit, from)
  if s == IDENTITY then return m end
  from = from or 1
  local out = {}
  for i, row in ipairs(m) do
    out[i] = {}
    for j, v in ipairs(row) do out[i][j] = (i < from or j < from) and v or drawn(s, v, limit) end
  end
  return out
end

return M
