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
