-- run_spec.lua: model:run options: the output grid, integrators, seeds,
-- continue, streamed CSV, and NaN reporting.
local nm = require "neuromass"
local h = require "helpers"

local function small_net(extra)
  local args = { Cmat = { { 0, 0.7, 0.2 }, { 0.4, 0, 0.9 }, { 0.3, 0.5, 0 } },
                 Dmat = { { 0, 30, 45 }, { 30, 0, 25 }, { 45, 25, 0 } },
                 xs_init = { 0.1, 0.2, 0.3 }, ys_init = { 0.0, 0.1, 0.2 } }
  for k, v in pairs(extra or {}) do args[k] = v end
  return nm.models.fhn.native(args)
end

describe("model:run", function()
  it("samples at t = k * sampling_dt, without a t = 0 row", function()
    local res = small_net():run { duration = 100, dt = 0.1, sampling_dt = 2.5 }
    local t = res:time()
    assert.are.equal(40, #t)
    assert.are.equal(2.5, t[1])
    assert.is_true(math.abs(t[40] - 100) < 1e-9)
  end)

  it("rejects a sampling_dt that is not a whole multiple of dt", function()
    assert.has_error(function() small_net():run { duration = 100, dt = 0.1, sampling_dt = 0.25 } end)
  end)

  it("gives bit-identical output for the same seed, different output for another", function()
    local function go(seed)
      return small_net { sigma_ou = 0.05 }:run { duration = 200, dt = 0.1, seed = seed }:get("x", 1)
    end
    assert.are.same(go(7), go(7))
    assert.are_not.same(go(7), go(8))
  end)

  -- 2^63 is a whole number 0 or more: the message must say the range (the --seed option's).
  it("refuses a seed out of range saying the range, a list of non-names in record naming the entry", function()
    local m = small_net()
    for _, seed in ipairs { 2^63, -1, 1.5 } do
      local ok, err = pcall(m.run, m, { duration = 10, seed = seed })
      assert.is_false(ok)
      assert.truthy(err:find("run: 'seed' must be a whole number from 0 to 9223372036854775807 (2^63 - 1) (got ",
                             1, true), err)
    end
    local ok, err = pcall(m.run, m, { duration = 10, record = { "x", 5 } })
    assert.is_false(ok)
    assert.truthy(err:find("run: 'record' must be a variable name or a list of names: entry 2 is 5 (a number)",
                           1, true), err)
  end)

  it("takes a whole seed written as a float (3.0) as that integer", function()
    local a = small_net { sigma_ou = 0.05 }:run { duration = 20, dt = 0.1, seed = 3 }:get("x", 1)
    local b = small_net { sigma_ou = 0.05 }:run { duration = 20, dt = 0.1, seed = 3.0 }:get("x", 1)
    assert.are.same(a, b)
  end)

  it("takes an edit of the network's matrices (the user's tables) at the next run", function()
    local M = nm.mass { label = "A", state = { x = 1 }, inputs = { "in" },
                        derivatives = function(s, _, u) return { x = -s.x + u["in"] } end }
    local C = { { 0, 0 }, { 0, 0 } }
    local m = nm.model(nm.network { nodes = nm.replicate(nm.node { label = "N", masses = { M() } }, 2),
                                    connectivity = C, sync = function(net) return { ["in"] = net:additive("x") } end })
    local before = m:run { duration = 1, dt = 0.1 }:get("x", 0)
    C[1][2] = 5
    local after = m:run { duration = 1, dt = 0.1 }:get("x", 0)
    local fresh = nm.model(nm.network { nodes = nm.replicate(nm.node { label = "N", masses = { M() } }, 2),
                                        connectivity = C, sync = function(net) return { ["in"] = net:additive("x") } end })
    assert.are_not.same(before, after)
    assert.are.same(fresh:run { duration = 1, dt = 0.1 }:get("x", 0), after)
    C[2] = "row"
    local ok, err = pcall(function() return m:run { duration = 1, dt = 0.1 } end)
    assert.is_false(ok)
    assert.matches("run_spec%.lua:%d+: network 'Net': connectivity must be a 2x2 matrix %(row 2", err)
  end)

  it("continues a run exactly: 100 ms + 100 ms equals 200 ms, with delays and noise", function()
    local whole = small_net { sigma_ou = 0.05 }:run { duration = 200, dt = 0.1, seed = 3 }
    local m = small_net { sigma_ou = 0.05 }
    local a = m:run { duration = 100, dt = 0.1, seed = 3 }
    local b = m:run { duration = 100, dt = 0.1, continue = true }
    local x, xa, xb = whole:get("x", 2), a:get("x", 2), b:get("x", 2)
    for k = 1, 1000 do assert.are.equal(x[k], xa[k]) end
    for k = 1, 1000 do assert.are.equal(x[1000 + k], xb[k]) end
    assert.are.equal(200, b:time()[1000] // 1)
  end)

  it("integrates with heun and rk4, and with adaptive GSL steppers when there are no delays", function()
    local ref = nm.models.fhn.native { xs_init = 0.025, ys_init = 0.025 }:run {
      duration = 200, dt = 0.001, integrator = "rk4", sampling_dt = 1 }:get("x")
    for _, method in ipairs { "heun", "rk4", "rk8pd", "rkf45" } do
      local opts = { duration = 200, dt = 0.01, sampling_dt = 1, integrator = method,
                     rtol = 1e-10, atol = 1e-12 }
      local x = nm.models.fhn.native { xs_init = 0.025, ys_init = 0.025 }:run(opts):get("x")
      local worst, range = h.compare(x, ref)
      assert.is_true(worst < 1e-5 * range, method .. ": " .. worst)
    end
  end)

  -- (an adaptive stepper stops at every dt, not at every sampling_dt: engine_numerics_spec.lua)
  it("takes the engine's step from the plan (run/plan.lua engine_step): dt, adaptive or not", function()
    local plan = require "neuromass.run.plan"
    assert.same({ 0.1, 1000 }, { plan.engine_step { adaptive = false, dt = 0.1, every = 10, n_steps = 1000 } })
    assert.same({ 0.05, 2000 }, { plan.engine_step { adaptive = true, dt = 0.05, every = 10, n_steps = 2000 } })
    local m = nm.models.fhn.native { xs_init = 0.025, ys_init = 0.025 }
    assert.equal(0.01, m:run({ duration = 20, dt = 0.01, sampling_dt = 1 }).dt)
    local res = m:run { duration = 20, dt = 0.01, sampling_dt = 1, integrator = "rkf45" }
    assert.equal(0.01, res.dt)
    assert.equal(20, #res:time())
  end)

  it("refuses an adaptive stepper for a model with delays", function()
    local ok, err = pcall(function() small_net():run { duration = 10, integrator = "rk8pd" } end)
    assert.is_false(ok)
    assert.matches("cannot integrate delays", err)
  end)

  it("streams CSV while integrating and keeps only what 'record' asks for", function()
    local dir = os.tmpname()
    os.remove(dir)
    local path = dir .. ".csv"
    local res = small_net():run { duration = 50, dt = 0.1, sampling_dt = 1, output = { csv = path } }
    local t = h.read_csv(path)
    os.remove(path)
    assert.are.same({ "t", "x.0", "x.1", "x.2", "y.0", "y.1", "y.2" }, t.header)
    assert.are.equal(50, t.rows)
    assert.are.equal(0, res:rows())
    assert.has_error(function() res:get("x") end)
  end)

  it("stops at a NaN or infinity and says when, where and in which variable", function()
    local m = nm.models.fhn.native { xs_init = 3, alpha = -3 }
    local ok, err = pcall(function() m:run { duration = 100, dt = 0.1 } end)
    assert.is_false(ok)
    assert.matches("NaN or infinite value at t = [%d%.]+ ms %(node 0, variable 'x'", err)
    assert.is_nil(err:find("at the first step", 1, true), err)         -- (a blow-up, later)
  end)

  -- (before: the same message as a blow-up, with no word of the 1 / 0 that made it)
  it("at the first step, names the equation's likely causes and the declarations that catch them", function()
    local F = nm.mass { name = "F", state = { v = 0 }, params = { a = 0 },
                        derivatives = function(_, p) return { v = 1 / p.a } end }
    local ok, err = pcall(function() nm.model(nm.node { masses = { F() } }):run { duration = 10, dt = 0.1 } end)
    assert.is_false(ok)
    assert.matches("NaN or infinite value at t = 0.1 ms (node 0, variable 'v' of mass 'F'); at the first step, " ..
                   "this is an equation's value more often than a blow-up: a division by a parameter that is 0, " ..
                   "or the square root or log of a negative number (nm.mass declares the parameters that must not " ..
                   "be 0 as nonzero = { ... }", err, 1, true)
    -- declared, the 0 is refused before the run
    local G = nm.mass { name = "G", state = { v = 0 }, params = { a = 1 }, nonzero = { "a" },
                        derivatives = function(_, p) return { v = 1 / p.a } end }
    ok, err = pcall(function()
      local m = nm.model(nm.node { masses = { G() } })
      m.params["*.a"] = 0
      m:run { duration = 10, dt = 0.1 }
    end)
    assert.is_false(ok)
    assert.matches("'*.a' is a signed divisor", err, 1, true)
  end)

  -- A clamp bounds finite values: an infinity is a blow-up (clamped, WC with tau_exc = 0 ran on as
  -- exc = 0, 1, 0, 1, ... with exit 0).  One node: the scalar clamps; 80: the vector ones.  (A
  -- time constant of 0 is refused now: an OU input at 1.7e308, started at its mean, over
  -- tau_exc = 0.5 ms, overflows the derivative to infinity at the first step.)
  it("stops at an infinity that a clamp would have bounded", function()
    local hcp = nm.datasets.load("hcp")
    local big = { exc_ou_mean = 1.7e308, tau_exc = 0.5 }
    for _, m in ipairs { nm.models.wc.native(big),
                         nm.models.wc.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, exc_ou_mean = big.exc_ou_mean,
                                               tau_exc = big.tau_exc } } do
      local ok, err = pcall(function() m:run { duration = 10, dt = 0.1, threads = 1 } end)
      assert.is_false(ok)
      assert.matches("NaN or infinite value at t = 0.1 ms (node 0, variable 'exc'", err, 1, true)
    end
  end)

  -- %g's six digits made 1000000.05 read "1e+06 ms is not a whole multiple of dt" and a
  -- failure late in a long run "at t = 1.23457e+06 ms".
  it("names a duration, a sampling_dt and the time of a failure exactly, however large", function()
    local function err_of(m, opts)
      local ok, err = pcall(m.run, m, opts)
      assert.is_false(ok)
      return err
    end
    local m = small_net()
    assert.matches("'duration' = 1000000.05 ms is not a whole multiple of dt = 0.1 ms",
                   err_of(m, { duration = 1e6 + 0.05, dt = 0.1 }), 1, true)
    assert.matches("'sampling_dt' = 99999.95 ms is not a whole multiple of dt = 0.1 ms",
                   err_of(m, { duration = 1e5, dt = 0.1, sampling_dt = 1e5 - 0.05 }), 1, true)
    -- x goes infinite in the step from t = 1234567.5 ms (dt = 0.5): the failure is at 1234568 ms.
    local late = nm.mass { label = "Late", state = { x = 1 },
                           derivatives = function(s)
                             return { x = nm.ifelse(nm.gt(nm.t, 1234567.25), s.x * 1e308 * 10, 0) }
                           end }
    local lm = nm.model(nm.node { label = "N", masses = { late() } })
    assert.matches("NaN or infinite value at t = 1234568 ms (node 0, variable 'x'",
                   err_of(lm, { duration = 2e6, dt = 0.5, record = {} }), 1, true)
    -- q = 1 / (1234567.3 - t) blows up at t = 1234567.3 ms.
    local blow = nm.mass { label = "Blow", state = { q = 1 / 1234567.3 },
                           derivatives = function(s) return { q = s.q * s.q } end }
    local bm = nm.model(nm.node { label = "N", masses = { blow() } })
    local err = err_of(bm, { duration = 2e6, dt = 1, sampling_dt = 1000, integrator = "rkf45", record = {} })
    local t = tonumber(err:match("could not go on past t = ([%d%.e%+]+) ms"))
    assert.is_true(t and math.abs(t - 1234567.3) < 0.01, err)
  end)

  -- The rounding allowed is a billionth of the value, but never a step's thousandth: a
  -- billionth of 1e8 ms is a whole step of 0.1 ms, which took 1e8 + 0.05 ms as 1e9 + 1 steps.
  it("refuses a long duration or sampling_dt half a step off the grid, takes k * dt computed", function()
    local m = small_net()
    local ok, err = pcall(m.run, m, { duration = 10, dt = 0.1, sampling_dt = 1e8 + 0.05 })
    assert.is_false(ok)
    assert.matches("'sampling_dt' = 100000000.05 ms is not a whole multiple of dt = 0.1 ms", err, 1, true)
    ok, err = pcall(m.run, m, { duration = 10, dt = 0.1, sampling_dt = 1e6 + 0.0004 })
    assert.is_false(ok)
    assert.matches("'sampling_dt' = 1000000.0004 ms is not a whole multiple", err, 1, true)
    for _, k in ipairs { 3, 7, 1e7 + 1, 3e9 + 7 } do
      local res = m:run { duration = 0.1, dt = 0.1, sampling_dt = k * 0.1 }
      assert.are.equal(0, res:rows())
    end
  end)

  it("fails cleanly on an unwritable CSV path and leaves no file", function()
    local ok, err = pcall(function()
      small_net():run { duration = 5, output = { csv = "/nonexistent-dir/x.csv" } }
    end)
    assert.is_false(ok)
    assert.matches("run_spec%.lua:%d+: run: output%.csv '/nonexistent%-dir/x%.csv': the directory " ..
                   "'/nonexistent%-dir' does not exist", err)
  end)
end)

describe("a result is a plain table with strict methods (issue 11)", function()
  it("keeps fields the user adds; optional fields a run did not give read nil", function()
    local res = small_net():run { duration = 10 }
    res.note = "mine"
    assert.are.equal("mine", res.note)
    assert.is_nil(res.BOLD)
    assert.is_nil(res.t_BOLD)
    assert.is_nil(res.BOLD_nodes)
    assert.is_nil(res.audio)
    assert.are.equal(0.1, res.dt)
  end)

  it("a missing field the library reads stays nil to it (res:rows() of a streamed result)", function()
    local dir = h.scratch()
    local res = small_net():run { duration = 10, output = { csv = dir .. "/r.csv" } }
    assert.are.equal(0, res:rows())
  end)
end)

describe("results dropped by a script that runs again and again", function()
  -- Their rows live outside Lua's heap; the binding makes the collector
  -- step in proportion to them (src/bind/l_sim.c), or a loop of runs piles
  -- them up until Lua's own heap grows enough to start a cycle.  A fresh
  -- process, as a user's script is (the suite's own heap would delay any
  -- cycle, whatever the runs did).
  it("are collected as the runs go", function()
    local dir = h.scratch()
    h.write(dir .. "/loop.lua", [[
local nm = require "neuromass"
local hcp = nm.datasets.load("hcp")
local m = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat }
local alive = setmetatable({}, { __mode = "k" })
for _ = 1, 20 do alive[m:run { duration = 200, dt = 0.1 }] = true end   -- 2000 rows x 160 each
local n = 0
for _ in pairs(alive) do n = n + 1 end
print(n)
]])
    local status, out, err = h.sh(h.q(h.exe) .. " run " .. h.q(dir .. "/loop.lua"))
    assert.are.equal(0, status, err)
    local n = tonumber(out)
    -- Here 1 stays held with the step, 8 without it.
    assert.is_true(n <= 3, string.format("%s of 20 dropped results still held", tostring(n)))
  end)

  -- The step is in proportion: a run of a few rows (under 1 KiB) is no
  -- reason for a step of its own.  Forcing one per run kept the collector
  -- going around a script's whole heap again and again: an exploration of
  -- 10^5 short points spent most of its time there, more per point the
  -- more rows its table held.  Counted: the cycles ended (a finalizer
  -- that sets itself up again) during 500 runs of 2 rows over a live heap
  -- of 200000 small tables, in the executable's collector mode.
  it("without a collection cycle per few runs of a small result", function()
    local dir = h.scratch()
    h.write(dir .. "/cycles.lua", [[
local nm = require "neuromass"
local m = nm.models.fhn.native {}
local keep = {}
for i = 1, 200000 do keep[i] = { i } end
collectgarbage("collect")
local cycles, on = 0, true
local function sentinel()
  setmetatable({}, { __gc = function() if on then cycles = cycles + 1; sentinel() end end })
end
sentinel()
for _ = 1, 500 do m:run { duration = 0.2, dt = 0.1 } end
on = false
print(cycles, #keep)
]])
    local status, out, err = h.sh(h.q(h.exe) .. " run " .. h.q(dir .. "/cycles.lua"))
    assert.are.equal(0, status, err)
    local cycles = tonumber(out:match("^(%d+)"))
    -- Here 0 in proportion, 42 with a step forced per run.
    assert.is_true(cycles and cycles <= 2, string.format("%s collection cycles in 500 small runs", tostring(cycles)))
  end)
end)

-- (cases on a new user's script, moved from user_nodes_spec: helpers.user_script)
local run_case = require("helpers").user_script()
teardown(h.remove_scratch)

describe("output = { csv = ... } (docs/reference.md, model:run)", function()
  it("writes the columns of record when given, else every variable, and keeps rows only with record", function()
    local dir = h.scratch()
    local ok, err = run_case(string.format([[
local r = m:run { duration = 1, dt = 0.1, output = { csv = %q } }
assert(r:rows() == 0, r:rows())
r = m:run { duration = 1, dt = 0.1, record = { "y" }, output = { csv = %q } }
assert(r:rows() == 10, r:rows())]], dir .. "/all.csv", dir .. "/y.csv"))
    assert.is_true(ok, err)
    assert.are.equal("t,x.0,y.0", h.read(dir .. "/all.csv"):match("^[^\n]*"))
    assert.are.equal("t,y.0", h.read(dir .. "/y.csv"):match("^[^\n]*"))
  end)
end)
