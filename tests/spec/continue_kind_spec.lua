-- continue_kind_spec.lua: continue = true goes on only with the dt,
-- sampling_dt and kind of integrator of the run it continues (fixed-step
-- integrators may replace each other, an adaptive one only continues
-- itself); a refusal names what changed and both values, at the user's line.
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
    err = refusal(function() a:run { duration = 10, dt = 0.1, sampling_dt = 1, continue = true } end)
    assert.matches("'rkf45' %-> 'euler'", err)
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
end)
