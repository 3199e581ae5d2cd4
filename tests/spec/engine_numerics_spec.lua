-- engine_numerics_spec.lua: numerics the engine must not break silently:
-- wrapped phases under delayed RK4 reads, the sampling grid of continued
-- runs, sizes that cannot be represented or kept, adaptive blow-ups, and
-- run options that are out of range.
local nm = require "neuromass"
local h = require "helpers"

local TWO_PI = 2 * math.pi

local failure = h.error_of   -- the message of a call that must fail

-- This file's name as it prefixes errors raised at its lines.
local here = debug.getinfo(1, "S").short_src

-- 2 Kuramoto oscillators, Dmat 40 mm at 20 mm/ms (2 ms delays), written
-- without wrapping: a mass whose phase is never reduced mod 2 pi.
local function unwrapped_kuramoto(k, omega, theta0)
  local plain = nm.mass {
    name = "unwrapped phase", label = "Phase", state = { theta = 0.0 }, params = { omega = 1.0 },
    inputs = { "network_theta" }, coupling = "theta",
    derivatives = function(_, p, u) return { theta = p.omega + u.network_theta } end,
  }
  local nodes = {}
  for i = 1, 2 do
    nodes[i] = nm.node { name = "phase node", label = "Node",
                         masses = { plain { params = { omega = omega[i] },
                                            init = { theta = theta0[i] } } } }
  end
  return nm.model(nm.network {
    name = "unwrapped Kuramoto", label = "Net", nodes = nodes,
    connectivity = { { 0, 1 }, { 1, 0 } }, delays = { { 0, 2 }, { 2, 0 } }, params = { k = k },
    sync = function(net)
      return { network_theta = net:custom(function(i)
        local j = 1 - i
        return net.p.k / 2 * nm.sin(net:delayed(j, "theta") - net:now(i, "theta"))
      end) }
    end,
  })
end

-- The largest angle between two phase series, on the circle.
local function worst_angle(a, b)
  assert.are.equal(#a, #b)
  local worst = 0
  for i = 1, #a do
    local d = math.abs(math.atan(math.sin(a[i] - b[i]), math.cos(a[i] - b[i])))
    if d > worst then worst = d end
  end
  return worst
end

describe("engine numerics", function()
  it("wrapping never changes the dynamics: native Kuramoto equals an unwrapped copy, every integrator", function()
    local k, omega, theta0 = 1.6, { 1.3, 1.1 }, { 0.3, 5.9 }
    for _, method in ipairs { "euler", "heun", "rk4" } do
      local wrapped = nm.models.kuramoto.native {
        Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 40 }, { 40, 0 } }, k = k, omega = omega,
        theta_init = theta0 }
      local a = wrapped:run { duration = 100, dt = 0.1, integrator = method }
      local b = unwrapped_kuramoto(k, omega, theta0):run { duration = 100, dt = 0.1,
                                                           integrator = method }
      local crossed = false
      for node = 0, 1 do
        local ta, tb = a:get("theta", node), b:get("theta", node)
        for i = 1, #ta do crossed = crossed or tb[i] > TWO_PI end
        -- Both compute the same numbers but for a multiple of 2 pi in the
        -- phases: rounding only, ~5e-13 (interpolating across the wrap gave 0.6 rad).
        local w = worst_angle(ta, tb)
        assert.is_true(w < 1e-11, method .. ", node " .. node .. ": phases differ by " .. w .. " rad")
      end
      assert.is_true(crossed, "the phases cross 2 pi during the run")
    end
  end)

  it("continued runs stay on one sampling grid: their rows concatenate to one long run's", function()
    local function model() return nm.models.fhn.native { xs_init = 0.1, ys_init = 0.05 } end
    local whole = model():run { duration = 6, dt = 0.1, sampling_dt = 0.3 }
    local t_whole, x_whole = whole:time(), whole:get("x")
    for _, split in ipairs { { 3, 3 }, { 1, 5 }, { 0.3, 2.9, 2.8 }, { 0.1, 0.1, 0.4, 5.4 },
                             { 2.1, 3.9 } } do
      local m, t, x = model(), {}, {}
      for i, d in ipairs(split) do
        local r = m:run { duration = d, dt = 0.1, sampling_dt = 0.3, continue = i > 1 }
        for _, v in ipairs(r:time()) do t[#t + 1] = v end
        for _, v in ipairs(r:get("x")) do x[#x + 1] = v end
      end
      local what = "split " .. table.concat(split, " + ")
      assert.are.equal(#t_whole, #t, what)
      for i = 1, #t do
        assert.is_true(math.abs(t[i] - t_whole[i]) < 1e-9, what .. ": row " .. i .. " at " .. t[i])
        assert.are.equal(x_whole[i], x[i], what)
      end
    end
  end)

  it("a continued run with streamed audio keeps the decimated rows on the grid", function()
    local out = os.tmpname()
    local function model() return nm.models.fhn.native { xs_init = 0.1, ys_init = 0.05 } end
    local whole = model():run { duration = 60, dt = 0.1, sampling_dt = 0.3 }
    local m = model()
    local a = m:run { duration = 30.1, dt = 0.1, sampling_dt = 0.3 }
    local b = m:run { duration = 29.9, dt = 0.1, sampling_dt = 0.3, continue = true,
                      record = "x", output = { audio = { path = out .. ".wav", variable = "x" } } }
    os.remove(out); os.remove(out .. ".wav"); os.remove(out .. ".wav.json")
    local tw, ta, tb = whole:time(), a:time(), b:time()
    assert.are.equal(#tw, #ta + #tb)
    for i = 1, #tb do assert.is_true(math.abs(tb[i] - tw[#ta + i]) < 1e-9, "row at " .. tb[i]) end
  end)

  it("refuses a delay whose steps cannot be represented, with its size, at the user's line", function()
    -- 2^32 + 46 steps of 0.1 ms: cast to int it acted as 46 steps.
    local m = nm.models.kuramoto.native { Cmat = { { 0, 1 }, { 1, 0 } },
                                          Dmat = { { 0, (2^32 + 46) * 0.1 * 20 }, { 1, 0 } } }
    local err = failure(function() m:run { duration = 1, dt = 0.1 } end)
    assert.matches(here .. ":%d+: ", err)
    assert.matches("4294967342 steps", err, 1, true)
    assert.matches("at most 2147483647", err, 1, true)
  end)

  -- (the history holds what the run reads: history_reach_spec.lua; a short run of the same
  -- model holds a few steps and runs)
  it("refuses a delay history that could never fit in memory, with its size in bytes", function()
    local n, C, L = 200, {}, {}
    for i = 1, n do
      C[i], L[i] = {}, {}
      for j = 1, n do C[i][j], L[i][j] = i == j and 0 or 1, i == j and 0 or 2^30 * 0.1 * 20 end
    end
    local m = nm.models.kuramoto.native { Cmat = C, Dmat = L }
    local err = failure(function() m:run { duration = 1e8, dt = 0.1, record = {} } end)
    assert.matches(here .. ":%d+: ", err)
    assert.matches("delay history", err, 1, true)
    assert.matches("bytes", err, 1, true)
    assert.equals(10, #m:run({ duration = 1, dt = 0.1 }):time())
  end)

  it("refuses a run whose kept result could never fit in memory, and says how to avoid it", function()
    local m = nm.models.fhn.native {}
    local err = failure(function() m:run { duration = 1e14, dt = 0.1 } end)
    assert.matches(here .. ":%d+: ", err)
    assert.matches("bytes", err, 1, true)
    assert.matches("sampling_dt", err, 1, true)
    assert.matches("output.csv", err, 1, true)
  end)

  it("names the time, node and variable when an adaptive stepper meets a blow-up", function()
    local blow = nm.mass { name = "blow-up", label = "B", state = { q = 1.0 },
                           derivatives = function(s) return { q = s.q * s.q } end }
    for _, method in ipairs { "rkf45", "rk8pd", "msbdf" } do
      local m = nm.model(nm.node { name = "n", label = "N", masses = { blow {} } })
      local err = failure(function() m:run { duration = 2, dt = 0.1, integrator = method } end)
      assert.matches(here .. ":%d+: ", err)
      local t = tonumber(err:match("could not go on past t = ([%d%.e%-]+) ms"))
      assert.is_true(t and t > 0.99 and t < 1.01, err)   -- q = 1 / (1 - t) blows up at t = 1
      assert.matches("node 0, variable 'q'", err, 1, true)
    end
  end)

  -- x' = -1e9 (x - cos t) needs explicit steps of a few 1e-9 ms: rkf45 and rk8pd ground on
  -- for hours in silence; more than 100,000 steps within one dt now fail at once, naming the
  -- time and suggesting msbdf, which integrates it.
  it("stops an explicit adaptive stepper that a stiff model holds to tiny steps, naming msbdf", function()
    local stiff = nm.mass { label = "Stiff", state = { x = 0 }, params = { k = 1e9 },
                            derivatives = function(s, p) return { x = -p.k * (s.x - nm.cos(nm.t)) } end }
    local function model() return nm.model(nm.node { label = "N", masses = { stiff() } }) end
    for _, method in ipairs { "rkf45", "rk8pd" } do
      local err = failure(function() model():run { duration = 100, dt = 1, integrator = method } end)
      assert.matches(here .. ":%d+: run: integrator '" .. method .. "' could not go on past t = ", err)
      assert.matches("node 0, variable 'x' of mass 'Stiff' changes too fast there for rtol = 1e-06, " ..
                     "atol = 1e-09 (a blow-up, a system too stiff for it: try msbdf, or tolerances " ..
                     "tighter than it can meet)", err, 1, true)
    end
    -- tolerances no step can meet are named as such (they were blamed on the model alone)
    local err = failure(function()
      nm.models.fhn.native { sigma_ou = 0 }:run { duration = 10, integrator = "rkf45", rtol = 1e-300, atol = 1e-300 }
    end)
    assert.matches("for rtol = 1e-300, atol = 1e-300 (a blow-up", err, 1, true)
    assert.matches("tolerances tighter than it can meet", err, 1, true)
    local x = model():run({ duration = 100, dt = 1, integrator = "msbdf" }):get("x", 0)
    assert.is_true(math.abs(x[100] - math.cos(100)) < 1e-6, tostring(x[100]))
  end)

  -- Hopf-3 with delays of 1, 1.5 and 2 ms (whole steps at every dt below): halving dt from
  -- 0.05 ms shrinks the error at t = 20 ms against rk4 at dt/32 by 2^order (measured
  -- 1.00, 2.03, 4.05). A stage that read the history or the coupling of the step's start
  -- would fall to first order.
  it("euler, heun and rk4 keep their orders on a network with delays", function()
    local function final(method, dt)
      local m = nm.models.hopf.native {
        Cmat = { { 0, 0.6, 0.2 }, { 0.3, 0, 0.9 }, { 0.5, 0.4, 0 } },
        Dmat = { { 0, 20, 40 }, { 20, 0, 30 }, { 40, 30, 0 } }, signalV = 20, K_gl = 0.8,
        xs_init = { 0.3, -0.2, 0.5 }, ys_init = { 0.1, 0.4, -0.3 } }
      local r = m:run { duration = 20, dt = dt, sampling_dt = 20, integrator = method }
      local v = {}
      for _, var in ipairs { "x", "y" } do
        for i = 0, 2 do v[#v + 1] = r:get(var, i)[1] end
      end
      return v
    end
    local ref = final("rk4", 0.05 / 32)
    local function err(v)
      local worst = 0
      for i = 1, #v do worst = math.max(worst, math.abs(v[i] - ref[i])) end
      return worst
    end
    for method, order in pairs { euler = 1, heun = 2, rk4 = 4 } do
      local measured = math.log(err(final(method, 0.05)) / err(final(method, 0.025)), 2)
      assert.is_true(math.abs(measured - order) < 0.15, method .. ": order " .. measured)
    end
  end)

  -- An adaptive stepper stopped only at samples: the outputs (held between stops) moved at
  -- every sampling_dt, so recording every 5 ms instead of every 0.1 ms moved x(10) from
  -- -0.0995 to -0.0833.
  it("an adaptive run's dynamics do not depend on sampling_dt", function()
    local M = nm.mass { label = "M", state = { x = 0.5, y = 0.1, order = { "x", "y" } },
                        inputs = { "net" }, coupling = "r", outputs_at = "after",
                        outputs = function(s) return { r = s.x * s.x } end,
                        derivatives = function(s, _, u) return { x = -s.y + u.net, y = s.x - 0.3 * s.y } end }
    for _, method in ipairs { "rkf45", "msbdf" } do
      local x = {}
      for _, sampling_dt in ipairs { 0.1, 5 } do
        local nodes = { nm.node { label = "A", masses = { M { init = { r = 0.25 } } } },
                        nm.node { label = "B", masses = { M { init = { x = -0.2, r = 0.04 } } } } }
        local m = nm.model(nm.network { label = "Net", nodes = nodes,
                                        connectivity = { { 0, 0.8 }, { 0.5, 0 } },
                                        sync = function(net) return { net = net:additive("r") } end })
        local r = m:run { duration = 10, dt = 0.1, sampling_dt = sampling_dt, integrator = method }
        local s = r:get("x", 0)
        x[#x + 1] = s[#s]
      end
      assert.are.equal(x[1], x[2])
    end
  end)

  -- Since it stops at every dt, an adaptive run takes any duration a fixed-step run takes (it
  -- refused one that was not whole samples: "'duration' (1 ms) must be a whole multiple of
  -- sampling_dt (0.3 ms)"), with the same rows.
  it("an adaptive run's rows are a fixed-step run's, for a duration that is not whole samples", function()
    local times = {}
    for _, method in ipairs { "euler", "rkf45" } do
      local r = nm.models.fhn.native {}:run { duration = 1, dt = 0.1, sampling_dt = 0.3, integrator = method }
      times[method] = r:time()
    end
    assert.are.same(times.euler, times.rkf45)
    assert.are.equal(3, #times.rkf45)
  end)

  -- Van der Pol at mu = 1000 from (2, 0): rk8pd's first trial step (0.1 ms) overflowed, GSL's
  -- error control passed over the NaN estimate, and the run failed at t = 1 ms blaming a NaN
  -- of the model, whose solution stays within |u| <= 2.
  it("an explicit adaptive stepper whose trial step overflows tries a shorter one", function()
    local vdp = nm.mass { label = "VdP", state = { u = 2, v = 0, order = { "u", "v" } },
                          params = { mu = 1000 },
                          derivatives = function(s, p)
                            return { u = s.v, v = p.mu * (1 - s.u * s.u) * s.v - s.u }
                          end }
    local u = {}
    for _, method in ipairs { "rkf45", "rk8pd", "msbdf" } do
      local m = nm.model(nm.node { label = "N", masses = { vdp() } })
      u[method] = m:run({ duration = 300, dt = 1, integrator = method }):get("u", 0)[300]
    end
    assert.is_true(math.abs(u.rk8pd - u.rkf45) < 1e-6, u.rk8pd .. " vs " .. u.rkf45)
    assert.is_true(math.abs(u.rk8pd - u.msbdf) < 1e-4, u.rk8pd .. " vs " .. u.msbdf)
  end)

  it("neuromass.core refuses array lengths and table sizes that cannot be allocated", function()
    local core = require "neuromass.core"
    local m = core.model { n_state = 1, n_aux = 0, n_param = 1, n_input = 0 }
    for _, len in ipairs { -1, math.maxinteger } do
      local arr = setmetatable({}, { __len = function() return len end })
      local err = failure(function() m:set_initial(arr) end)
      assert.matches("length of " .. len .. " elements, which cannot be allocated", err, 1, true)
    end
    local err = failure(function()
      m:add_table { rows = 2^40, cols = 2^40, row_axis = { 0, 1, 1 }, col_axis = { 0, 1, 1 },
                    values = {} }
    end)
    assert.matches("1099511627776 x 1099511627776 values cannot be allocated", err, 1, true)
    local d = { op = { "hist" }, a = { -1 }, b = { -1 }, c = { -1 }, value = { 0 }, slot = { 0 },
                delay = { 2^32 + 46 }, root_node = { 0 }, root_slot = { 0 }, root_sink = { "deriv" } }
    err = failure(function() m:add_program("rhs", d, 1) end)
    assert.matches("delay 4294967342 steps; at most 2147483647", err, 1, true)
  end)

  it("refuses out-of-range run options at the user's line, naming the value", function()
    local cases = {
      { { rtol = -1 }, "'rtol' must be a positive finite number (got -1)" },
      { { atol = 0 / 0 }, "'atol' must be a positive finite number" },
      { { threads = -1 }, "'threads' must be a whole number from 1 to" },
      { { threads = 1.5 }, "(got 1.5)" },
      { { threads = 2^70 }, "(got 1.1805916207174113e+21)" },
      { { threads = 0 }, "(got 0)" },
      { { duration = math.huge }, "'duration' must be a finite number of ms (got inf)" },
      { { duration = 1e300 }, "is 1e+301 steps of dt = 0.1 ms; fewer than 2^53 steps can be counted" },
      { { dt = math.huge }, "'dt' must be a positive finite number of ms (got inf)" },
      { { dt = 0 / 0 }, "'dt' must be a positive finite number of ms" },
      { { sampling_dt = 0 / 0 }, "'sampling_dt' must be a finite number of ms" },
      -- (said "is not a whole multiple of dt": it is below dt, which is what must change)
      { { sampling_dt = 0.05 }, "'sampling_dt' = 0.05 ms must be at least dt = 0.1 ms (the output is kept every " ..
                                "step or every few steps, never between them)" },
      { { sampling_dt = 0.15 }, "'sampling_dt' = 0.15 ms is not a whole multiple of dt = 0.1 ms" },
      { { record = 42 }, "'record' must be a variable name or a list of names (got 42)" },
    }
    for _, c in ipairs(cases) do
      local opts = { duration = 10, dt = 0.1 }
      for k, v in pairs(c[1]) do opts[k] = v end
      local err = failure(function() nm.models.fhn.native {}:run(opts) end)
      assert.matches(here .. ":%d+: run: ", err)
      assert.matches(c[2], err, 1, true)
    end
  end)
end)
