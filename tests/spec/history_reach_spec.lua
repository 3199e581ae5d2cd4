-- history_reach_spec.lua: the delay history holds what a run can read.  A
-- run reads back no further than its own length (before t = 0 the history
-- is the initial state), so a short run of a network with very long delays
-- allocates a short history, grown for the runs that continue it
-- (src/engine/sim.c nm_sim_reserve), with the bits of a history holding the
-- longest delay from the start: in pieces, on threads, interpreted.
local nm = require "neuromass"
local h = require "helpers"
local q = h.q

-- FHN on HCP-80 whose pair 1-2 is `ms` apart (20 mm/ms), the others HCP's lengths.
local function model(ms)
  local hcp = nm.datasets.load("hcp")
  local D = {}
  for i = 1, 80 do
    D[i] = {}
    for j = 1, 80 do D[i][j] = hcp.Dmat[i][j] end
  end
  D[2][3], D[3][2] = ms * 20, ms * 20
  return nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = D, xs_init = 0.02, ys_init = 0.01 }
end

-- The first 6 lines of a script: FHN on HCP-80 as `m`, its lengths times `scale`, then `edit`
-- (a line of Lua changing D).  Additive coupling: its sums go ahead, with the staged copy of
-- the history, on every processor (a diffusive sum is staged only where the gathers are slow:
-- src/engine/simd.c nm_simd_stages).
local function script_head(scale, edit)
  return string.format([[
local nm = require "neuromass"
local hcp = nm.datasets.load("hcp")
local D = {}
for i = 1, 80 do D[i] = {} for j = 1, 80 do D[i][j] = hcp.Dmat[i][j] * %s end end
%s
local m = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = D, coupling = "additive" }
]], scale, edit)
end

describe("the delay history of a short run", function()
  -- (its address space capped: not under check-asan, h.ASAN)
  local it_limited = h.ASAN and pending or it
  it_limited("is as long as the run, not as the longest delay (a 10 ms run beside a 10^5 ms delay)", function()
    local dir = h.scratch()
    -- 10^5 ms at 20 mm/ms: 10^6 steps of 0.1 ms
    h.write(dir .. "/long.lua", script_head(1, "D[2][3], D[3][2] = 2e6, 2e6") ..
                                "print(#m:run { duration = 10, dt = 0.1 }:time())\n")
    -- 80 signals over 2^20 steps are 2 GB (and as much again staged): more than this allows
    local status, out, err = h.sh("ulimit -v 1500000; " .. q(h.exe) .. " run " .. q(dir .. "/long.lua"))
    h.remove_scratch()
    assert.equals(0, status, err)
    assert.equals("100\n", out)
  end)

  it("gives the bits of a whole history: in pieces, on 2 threads, interpreted", function()
    local opts = { duration = 300, dt = 0.1, sampling_dt = 1, record = "x" }
    -- 400 ms (4000 steps): a history held whole from the start; 10^5 ms: one held as runs need
    local whole = model(400):run(opts):get("x", 2)
    local lazy = model(1e5)
    local function same(x, what)
      for k = 1, 300 do assert.are.equal(whole[k], x[k], what .. " at row " .. k) end
    end
    same(lazy:run(opts):get("x", 2), "one run")
    local a = lazy:run { duration = 10, dt = 0.1, sampling_dt = 1, record = "x" }:get("x", 2)
    local b = lazy:run { duration = 200, dt = 0.1, sampling_dt = 1, record = "x", continue = true }:get("x", 2)
    local c = lazy:run { duration = 90, dt = 0.1, sampling_dt = 1, record = "x", continue = true }:get("x", 2)
    local pieces = {}
    for _, part in ipairs { a, b, c } do for _, v in ipairs(part) do pieces[#pieces + 1] = v end end
    same(pieces, "10 + 200 + 90 ms")
    same(model(1e5):run { duration = 300, dt = 0.1, sampling_dt = 1, record = "x", threads = 2 }:get("x", 2),
         "2 threads")
    same(model(1e5):run { duration = 300, dt = 0.1, sampling_dt = 1, record = "x", jit = false }:get("x", 2),
         "interpreted")
    local hw = model(400):run { duration = 300, dt = 0.1, sampling_dt = 1, record = "x", integrator = "rk4" }:get("x", 2)
    local hl = model(1e5):run { duration = 300, dt = 0.1, sampling_dt = 1, record = "x", integrator = "rk4" }:get("x", 2)
    for k = 1, 300 do assert.are.equal(hw[k], hl[k], "rk4 at row " .. k) end
  end)
end)

describe("a continued run that grows the delay history", function()
  -- FHN on HCP-80 with a delay of 10^9 steps (2 TB of history): a 10 ms run holds a short one
  local script = script_head(1, "D[2][3] = 2e9") .. [[
m:run { duration = 10, record = {} }
m:run { duration = 1e8, record = {}, continue = true }
]]

  it("is refused by run's memory check, as a fresh run of that length, at the script's line", function()
    local dir = h.scratch()
    h.write(dir .. "/grow.lua", script)
    for _, mode in ipairs { "run", "info" } do
      local status, _, err = h.sh(q(h.exe) .. " " .. mode .. " " .. q(dir .. "/grow.lua"))
      assert.is_not.equal(0, status, mode)
      assert.truthy(err:find("grow.lua:8: run: the delay history needs 2061584302080 bytes", 1, true), mode .. ": " .. err)
      assert.truthy(err:find("more than this machine's memory", 1, true), mode .. ": " .. err)
    end
    h.remove_scratch()
  end)
end)

describe("run's memory check under a limit on the address space (ulimit -v)", function()
  -- FHN on HCP-80 with delays 1000 x HCP's (124173 steps of 0.1 ms): a 20 s run holds them all,
  -- 252 MB of ring and (where the sums go ahead) 168 MB staged; a 100 ms run holds 1010 steps
  local function script(first, second)
    return script_head(1000, "") .. string.format([[
m:run { duration = %s, record = {} }
print("first")
m:run { duration = %s, record = {}, continue = true }
]], first, second)
  end

  local it_limited = h.ASAN and pending or it
  it_limited("refuses what the limit leaves no room for before the run, also under neuromass info", function()
    local dir = h.scratch()
    h.write(dir .. "/fresh.lua", script(20000, 10))
    h.write(dir .. "/grow.lua", script(100, 20000))
    local limit = "ulimit -v 300000; "
    for _, mode in ipairs { "run", "info" } do
      for name, line in pairs { fresh = 7, grow = 9 } do
        local status, out, err = h.sh(limit .. q(h.exe) .. " " .. mode .. " " .. q(dir .. "/" .. name .. ".lua"))
        local what = mode .. " " .. name .. ": " .. err
        assert.is_not.equal(0, status, what)
        assert.truthy(err:find(name .. ".lua:" .. line .. ": run: the delay history needs ", 1, true), what)
        assert.truthy(err:find("more than what this process's address-space limit (ulimit -v) leaves", 1, true), what)
        assert.equals(name == "grow", out:find("first", 1, true) ~= nil, what)   -- (the first run kept)
      end
    end
    h.remove_scratch()
  end)

  it_limited("counts the history the model's simulation holds: fresh runs one after another, continued ones", function()
    -- delays 300 x HCP's: a 4 s run holds them all, 210 MB; the limit holds one such history, not two
    local dir = h.scratch()
    h.write(dir .. "/again.lua", script_head(300, "") .. [[
for k = 1, 2 do
  m:run { duration = 4000, record = {} }
  m:run { duration = 100, record = {}, continue = true, threads = 2 }
  print(k)
end
]])
    local status, out, err = h.sh("ulimit -v 350000; " .. q(h.exe) .. " run " .. q(dir .. "/again.lua"))
    h.remove_scratch()
    assert.equals(0, status, err)
    assert.equals("1\n2\n", out)
  end)
end)

describe("run's memory check counts a growing history at its peak", function()
  local core = require "neuromass.core"
  local memory = core.memory
  after_each(function() core.memory = memory end)

  -- FHN on HCP-80 with delays 120 x HCP's (14901 steps of 0.1 ms): after 500 ms the ring
  -- holds 5010 steps (15.7 MB); grown for 2500 ms it is 52.4 MB with the staged copy, and
  -- 68.2 MB while the old ring is still held beside it
  it("refuses a continued run that fits once grown but not while it grows, giving both", function()
    local D = {}
    local hcp = nm.datasets.load("hcp")
    for i = 1, 80 do D[i] = {} for j = 1, 80 do D[i][j] = hcp.Dmat[i][j] * 120 end end
    local m = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = D, coupling = "additive" }   -- (script_head)
    m:run { duration = 500, record = {} }
    local grown, _, peak = m.cm:history_bytes(25000, 5000, select(2, m.sim:history_bytes()))
    assert.equals(52433928, grown)
    assert.equals(52433928 + 15728640, peak)    -- the old ring (ring and derivatives) beside it
    core.memory = function() return 60e6, "this machine's memory" end
    local ok, err = pcall(m.run, m, { duration = 2000, record = {}, continue = true })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("run: the delay history needs 52433928 bytes (0.0524 GB) once " ..
                                     "grown but 68162568 bytes (0.0682 GB) at its peak", 1, true), err)
    assert.truthy(tostring(err):find("more than this machine's memory, 60000000 bytes", 1, true), err)
    assert.truthy(tostring(err):find("history_reach_spec.lua", 1, true), err)
    -- the same steps in a fresh run grow a ring of a few steps: it fits
    assert.equals(2500, #m:run({ duration = 2500, sampling_dt = 1, record = "x" }):time())
    -- and with room for the peak the continued run goes on
    m:run { duration = 500, sampling_dt = 1, record = {} }
    core.memory = function() return 70e6, "this machine's memory" end
    assert.equals(2000, #m:run({ duration = 2000, sampling_dt = 1, record = "x", continue = true }):time())
  end)
end)

describe("run's memory check counts the threads' copies of the history", function()
  local core = require "neuromass.core"
  local plan = require "neuromass.run.plan"
  local memory = core.memory
  after_each(function() core.memory = memory end)

  -- FHN on HCP-80 (delays up to 124 steps of 0.1 ms): a ring of 256 rows, 245760 bytes with
  -- its derivatives; each thread beyond the first copies its 163840 bytes of values (64-byte
  -- aligned, 64 more), and the threads share a row of the 80 signals (640 bytes, 64 more)
  local function fhn80()
    local hcp = nm.datasets.load("hcp")
    local m = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat }
    m:run { duration = 10, record = {} }
    return m
  end

  it("grows the estimate by a ring per thread beyond the first, as much as the simulation holds", function()
    local m = fhn80()
    local function need(method, threads)
      return m.cm:history_bytes(1000, 0, nil, nil, { method = method, threads = threads })
    end
    local one, ring = need("euler", 1)
    local copy, row = ring * 2 // 3 + 64, 80 * 8 + 64
    assert.equals(one, m.cm:history_bytes(1000))
    assert.equals(one + copy + row, need("euler", 2))
    assert.equals(one + 3 * copy + row, need("euler", 4))
    local _, _, peak, threads = need("euler", 4)
    assert.equals(one + 3 * copy + row, peak)
    assert.equals(4, threads)
    -- rk4 steps on one thread whatever 'threads' says; FHN-80's 80 lanes take one thread when automatic
    assert.equals(one, need("rk4", 4))
    assert.equals(1, select(4, need("rk4", 4)))
    assert.equals(one, need("euler", 0))
    local history, _, _, _, copies, n = plan.memory_need(m.cm, 0, 1000, 0, 1, nil, nil,
                                                           { method = "euler", threads = 4 })
    assert.same({ one + 3 * copy + row, 3 * copy + row, 4 }, { history, copies, n })
    -- what a run on 2 threads holds, as the engine counts its allocations
    m:run { duration = 100, record = {}, threads = 2 }
    assert.equals(m.cm:history_bytes(1100, 0, nil, nil, { method = "euler", threads = 2 }),
                  m.sim:history_bytes())
  end)

  it("refuses a run whose threads' copies do not fit, naming them and fewer threads", function()
    local m = fhn80()
    local one, ring = m.cm:history_bytes(1000)
    local copy, row = ring * 2 // 3 + 64, 80 * 8 + 64
    core.memory = function() return one + 2 * copy, "this machine's memory" end
    local ok, err = pcall(m.run, m, { duration = 100, record = {}, threads = 4 })
    assert.is_false(ok)
    err = tostring(err)
    assert.truthy(err:find(string.format("run: the delay history needs %d bytes (", one + 3 * copy + row),
                           1, true), err)
    assert.truthy(err:find(string.format("GB), with %d bytes (", 3 * copy + row), 1, true), err)
    assert.truthy(err:find("GB) for the copies its 4 threads make (the longest delay is 124 steps", 1, true), err)
    assert.truthy(err:find("use a larger dt, fewer threads or shorter delays", 1, true), err)
    assert.truthy(err:find("history_reach_spec.lua", 1, true), err)
    assert.equals(100, #m:run({ duration = 100, sampling_dt = 1, record = "x", threads = 2 }):time())
  end)
end)
