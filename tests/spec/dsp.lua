-- dsp.lua: measuring sound in the specs: a mixed-radix FFT (any length; the
-- specs' lengths have small prime factors), magnitude spectra, levels and
-- correlation.
local M = {}

local cos, sin, pi, sqrt, log = math.cos, math.sin, math.pi, math.sqrt, math.log

local function smallest_factor(n)
  if n % 2 == 0 then return 2 end
  local f = 3
  while f * f <= n do
    if n % f == 0 then return f end
    f = f + 2
  end
  return n
end

-- Recursive decimation in time over the smallest prime factor p of n:
-- X[k + m q] = sum_r W_n^(r (k + m q)) Y_r[k], Y_r the DFT of x[r], x[r + p], ...
local function fft(re, im, n, start, stride)
  if n == 1 then return { re[start] }, { im[start] } end
  local p = smallest_factor(n)
  local m = n // p
  local Xr, Xi = {}, {}
  if p == n then
    for k = 0, n - 1 do
      local sr, si = 0, 0
      for j = 0, n - 1 do
        local a = -2 * pi * k * j / n
        local xr, xi = re[start + j * stride], im[start + j * stride]
        sr = sr + xr * cos(a) - xi * sin(a)
        si = si + xr * sin(a) + xi * cos(a)
      end
      Xr[k + 1], Xi[k + 1] = sr, si
    end
    return Xr, Xi
  end
  local Yr, Yi = {}, {}
  for r = 0, p - 1 do
    Yr[r], Yi[r] = fft(re, im, m, start + r * stride, stride * p)
  end
  for q = 0, p - 1 do
    for k = 0, m - 1 do
      local idx = k + m * q
      local sr, si = 0, 0
      for r = 0, p - 1 do
        local a = -2 * pi * r * idx / n
        local c, s = cos(a), sin(a)
        local yr, yi = Yr[r][k + 1], Yi[r][k + 1]
        sr = sr + yr * c - yi * s
        si = si + yr * s + yi * c
      end
      Xr[idx + 1], Xi[idx + 1] = sr, si
    end
  end
  return Xr, Xi
end

--- |X[k]| for k = 0 .. n/2 (index k + 1), rectangular window.
function M.spectrum(x)
  local n = #x
  local im = {}
  for i = 1, n do im[i] = 0 end
  local Xr, Xi = fft(x, im, n, 1, 1)
  local mag = {}
  for k = 0, n // 2 do mag[k + 1] = sqrt(Xr[k + 1] ^ 2 + Xi[k + 1] ^ 2) end
  return mag
end

--- The frequency (Hz) of the largest bin, refined by a parabola through its neighbours.
function M.peak_frequency(x, rate)
  local mag = M.spectrum(x)
  local best = 2
  for k = 2, #mag do if mag[k] > mag[best] then best = k end end
  local shift = 0
  if best > 1 and best < #mag then
    local a, b, c = log(mag[best - 1] + 1e-300), log(mag[best]), log(mag[best + 1] + 1e-300)
    shift = 0.5 * (a - c) / (a - 2 * b + c)
  end
  return (best - 1 + shift) * rate / #x, mag
end

function M.rms(x, from, to)
  from, to = from or 1, to or #x
  local s = 0
  for i = from, to do s = s + x[i] * x[i] end
  return sqrt(s / (to - from + 1))
end

function M.max_abs(x)
  local m = 0
  for i = 1, #x do if math.abs(x[i]) > m then m = math.abs(x[i]) end end
  return m
end

function M.correlation(a, b)
  local n = #a
  local ma, mb = 0, 0
  for i = 1, n do ma, mb = ma + a[i], mb + b[i] end
  ma, mb = ma / n, mb / n
  local sab, saa, sbb = 0, 0, 0
  for i = 1, n do
    local da, db = a[i] - ma, b[i] - mb
    sab, saa, sbb = sab + da * db, saa + da * da, sbb + db * db
  end
  return sab / sqrt(saa * sbb)
end

function M.db(ratio) return 20 * math.log(ratio, 10) end

return M
