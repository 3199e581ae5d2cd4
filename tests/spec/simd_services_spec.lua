-- simd_services_spec.lua: the step's services take AVX-512 or AVX2 paths where
-- the processor has them (the noise draws, the clamps, the non-finite check,
-- the Euler update; README "make bench"); whole runs give the same bits with every path narrowed
-- off (NEUROMASS_SIMD=off, avx2) as with the widest (avx512, empty or unset): WC-80 with noise
-- (clamped to [0, 1], its activities hit the bounds), ALN-80 with noise
-- (variances clamped at 0), Hopf-80 with noise (its diffusive sum gathered in
-- SIMD blocks, or staged by coupling_ahead.c where the processor's gathers are
-- slow: simd.c nm_simd_stages; summed lane by lane without), on one thread and on two; one
-- ALN node with noise; the BOLD of 80 FHN nodes (its powers, bold_pow.c); WC's
-- exp over lanes (exp_lanes.c: libm's calls, AVX2, AVX-512 when named).  A bad
-- NEUROMASS_SIMD is refused by an exploration before any point runs (core.simd_check), as is
-- a bad NEUROMASS_JIT (core.jit_check).
local h = require "helpers"

local SCRIPT = [[
local nm = require "neuromass"
local hcp = nm.datasets.load("hcp")
local out = {}
local models = {
  wc = function() return nm.models.wc.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, sigma_ou = 0.5,
                                                exc_ext = 0.9, seed = 7 } end,
  aln = function() return nm.models.aln.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, sigma_ou = 0.1,
                                                  seed = 7 } end,
  hopf = function() return nm.models.hopf.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, sigma_ou = 0.05,
                                                    seed = 7 } end,
}
local record = { wc = "exc", aln = "rates_exc", hopf = "x" }
for _, name in ipairs { "wc", "aln", "hopf" } do
  for _, threads in ipairs { 1, 2 } do
    local var = record[name]
    local res = models[name]():run { duration = 100, dt = 0.1, record = { var }, threads = threads }
    for _, row in ipairs(res:matrix(var)) do
      for _, v in ipairs(row) do out[#out + 1] = string.format("%a", v) end
    end
    if name == "wc" then
      -- the clamps acted: some activity sits on a bound
      local bound = 0
      for _, row in ipairs(res:matrix(var)) do
        for _, v in ipairs(row) do if v == 0 or v == 1 then bound = bound + 1 end end
      end
      out[#out + 1] = "bound " .. bound
    end
  end
end
-- one ALN node with noise: a node's few states and signals (the short AVX2 Euler
-- update and non-finite check), every variable
local node = nm.models.aln.native { sigma_ou = 0.1, seed = 7 }
local vars = { "mufe", "mufi", "IA", "seem", "seim", "siem", "siim", "seev", "seiv", "siev", "siiv",
               "rates_exc", "rates_inh" }
local res = node:run { duration = 100, dt = 0.1, record = vars }
for _, var in ipairs(vars) do
  for _, v in ipairs(res:get(var)) do out[#out + 1] = string.format("%a", v) end
end
-- BOLD of 80 FHN nodes past its second row (2000.1 ms): its powers (bold_pow.c)
local fhn = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, sigma_ou = 0.01, seed = 7 }
res = fhn:run { duration = 2100, dt = 0.1, record = {}, bold = true }
out[#out + 1] = "bold rows " .. #res.t_BOLD
for _, series in ipairs(res.BOLD) do
  for _, v in ipairs(series) do out[#out + 1] = string.format("%a", v) end
end
io.write(table.concat(out, "\n"), "\n")
]]

describe("the step's SIMD services", function()
  local dir, script

  setup(function()
    dir = h.scratch()
    script = dir .. "/bits.lua"
    h.write(script, SCRIPT)
  end)

  teardown(function() h.remove_scratch() end)

  local function run(simd)
    local env = simd and ("NEUROMASS_SIMD=" .. simd .. " ") or ""
    local status, out, err = h.sh(env .. h.q(h.exe) .. " run --quiet " .. h.q(script))
    assert(status == 0, "the run failed: " .. err)
    return out
  end

  it("give the same bits as the plain code over whole noisy, clamped runs", function()
    local widest, off, avx2 = run(nil), run("off"), run("avx2")
    local bound = tonumber(widest:match("bound (%d+)"))
    assert.is_true(bound and bound > 0, "WC's activities should reach a bound")
    assert.is_true(#widest > 100000, "the runs record values")
    assert.truthy(widest:find("bold rows 2", 1, true), "BOLD gives its rows at 0.1 and 2000.1 ms")
    assert.is_true(widest == off, "NEUROMASS_SIMD=off changes the results")
    assert.is_true(widest == avx2, "NEUROMASS_SIMD=avx2 changes the results")
    assert.is_true(widest == run("avx512"), "NEUROMASS_SIMD=avx512 changes the results")
    assert.is_true(widest == run("''"), "an empty NEUROMASS_SIMD changes the results")
    assert.is_true(widest == run("auto"), "NEUROMASS_SIMD=auto changes the results")
    assert.is_true(widest == run("0"), "NEUROMASS_SIMD=0 (off) changes the results")
  end)

  it("another value of NEUROMASS_SIMD is an error at the run's line, naming it and the values allowed", function()
    local bad = dir .. "/bad_simd.lua"
    h.write(bad, 'local nm = require "neuromass"\nnm.models.fhn.native {}:run { duration = 1 }\n')
    for _, value in ipairs { "AVX2", "none", "sse9" } do
      local status, _, err = h.sh("NEUROMASS_SIMD=" .. value .. " " .. h.q(h.exe) .. " run --quiet " .. h.q(bad))
      assert.is_true(status ~= 0, "NEUROMASS_SIMD=" .. value .. " ran")
      assert.truthy(err:find('bad_simd.lua:2: run: NEUROMASS_SIMD="' .. value .. '" in the environment: it must be ' ..
                              "off (or 0), avx2, avx512 or auto", 1, true), err)
    end
  end)

  -- An exploration refuses it when it is made, at the user's line, before any point runs: no
  -- table of failed rows, a non-zero exit (with workers, and with one process); the same
  -- reading as the engine's (core.simd_check).
  it("an exploration (BoxSearch, Evolution) refuses a bad NEUROMASS_SIMD or NEUROMASS_JIT before any point runs",
     function()
    local sweep = dir .. "/sweep_simd.lua"
    h.write(sweep, [[
local nm = require "neuromass"
local search = nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace({ { "x_ext", { 0.5, 0.75 } } }),
  run = { duration = 5, dt = 0.1 }, evaluate = function() return { n = 1 } end, out = "sweep_simd" }
search:run()
]])
    local fit = dir .. "/fit_simd.lua"
    h.write(fit, [[
local nm = require "neuromass"
nm.explore.Evolution {
  model = function() return nm.models.fhn.native {} end,
  run = { duration = 5, dt = 0.1 }, parameters = { x_ext = { 0, 1 } }, evaluations = 4,
  fitness = function() return 0 end, out = "fit_simd" }:run()
]])
    -- NEUROMASS_JIT likewise (core.jit_check): a bad value had every point's row failed, exit 0.
    local envs = { { "NEUROMASS_SIMD=AVX2", 'NEUROMASS_SIMD="AVX2" in the environment: it must be off (or 0), ' ..
                     "avx2, avx512 or auto" },
                   { "NEUROMASS_JIT=no", 'NEUROMASS_JIT="no" in the environment: it must be off (or 0: no ' ..
                     "native code), on (or 1) or unset" } }
    for _, case in ipairs { { sweep, "sweep_simd", "BoxSearch" }, { fit, "fit_simd", "Evolution" } } do
      for _, env in ipairs(envs) do
        for _, workers in ipairs { "1", "2" } do
          local status, _, err = h.sh("cd " .. h.q(dir) .. " && " .. env[1] .. " " .. h.q(h.exe) ..
                                      " run --quiet " .. h.q(case[1]) .. " --workers " .. workers)
          assert.is_true(status ~= 0, case[3] .. " ran with " .. env[1])
          assert.truthy(err:find(case[2] .. '.lua:2: ' .. case[3] .. ': ' .. env[2], 1, true), err)
          assert.is_nil(io.open(dir .. "/" .. case[2] .. "/results.csv", "r"), "a table was written")
        end
      end
    end
    local core = require "neuromass.core"
    local level = core.simd_check()
    assert.truthy(level == "off" or level == "avx2" or level == "avx512", tostring(level))
    assert.are.equal(true, core.jit_check())
  end)
end)
