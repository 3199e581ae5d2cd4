-- batch_spec.lua: BoxSearch's batches (issue 13 item 4, explore/batch.lua):
-- the points of a native model (one node, or a network as one block of a
-- block-diagonal network) run as the lanes of one model give the results of
-- separate runs bit for bit (every column, name and time; with and without
-- noise; a batch size that does not divide the points; a failed point;
-- batches capped by the delay history), what cannot batch runs separately
-- with the same table, and the
-- engine's per-channel stream seeds (core.sim's streams) are those of a
-- separate run.
local h = require "helpers"
local nm = require "neuromass"
local core = require "neuromass.core"
local batches = require "neuromass.explore.batch"

-- Runs a BoxSearch of `def` (model, space, run) with `batch` into a new
-- folder: the text of its results.csv and every result's columns by point
-- ({ names, columns = { {values}, ... } }).
local function explore(def, batch)
  local dir = h.scratch()
  local seen = {}
  local search = nm.explore.BoxSearch {
    model = def.model, space = def.space, run = def.run, batch = batch, out = dir .. "/x",
    evaluate = function(res, point)
      if def.fail and def.fail(point) then error("boom") end
      local cols = {}
      for c = 1, #res.columns do cols[c] = res.data:column(c - 1) end
      local key = {}
      for _, name in ipairs(def.space.names) do key[#key + 1] = point[name] end
      seen[table.concat(key, ",")] = { names = res.columns, vars = res.variables, columns = cols,
                                       dt = res.dt, duration = res.duration, sampling_dt = res.sampling_dt }
      local x = res:matrix(def.metric)[1]
      local s, top = 0, -math.huge
      for _, v in ipairs(x) do s = s + v; top = math.max(top, v) end
      return { mean = s / #x, top = top, last = x[#x], t_last = res:time()[#x] }
    end,
  }
  search:run()
  return h.read(dir .. "/x/results.csv"), seen
end

local function same_bits(a, b)
  return string.pack("<d", a) == string.pack("<d", b)
end

-- Asserts that two explorations saw the same results, bit for bit.
local function assert_same_results(one, many)
  local n = 0
  for key, r in pairs(one) do
    n = n + 1
    local b = many[key]
    assert.is_not_nil(b, key)
    assert.same(r.names, b.names)
    assert.same(r.vars, b.vars)
    assert.equals(r.dt, b.dt); assert.equals(r.duration, b.duration); assert.equals(r.sampling_dt, b.sampling_dt)
    for c, col in ipairs(r.columns) do
      assert.equals(#col, #b.columns[c])
      for k, v in ipairs(col) do
        if not same_bits(v, b.columns[c][k]) then
          error(string.format("point %s: column %s row %d: %.17g vs %.17g", key, r.names[c], k, v, b.columns[c][k]))
        end
      end
    end
  end
  assert.is_true(n > 0)
end

-- Asserts that the search `def` with batch = K batches `lanes` points (in
-- `runs` batched runs, when given) and gives the table and results of
-- separate runs (batch = 1), bit for bit.
local function same_as_separate(def, K, lanes, runs)
  local t1, r1 = explore(def, 1)
  local lanes0, runs0 = batches.stats.lanes, batches.stats.runs
  local tk, rk = explore(def, K)
  assert.equals(lanes, batches.stats.lanes - lanes0)
  if runs then assert.equals(runs, batches.stats.runs - runs0) end
  assert.equals(t1, tk)
  assert_same_results(r1, rk)
end

local function aln_space()
  return nm.explore.ParameterSpace({ { "mue_ext_mean", { 0.5, 1.5, 2.5 } }, { "mui_ext_mean", { 0.5, 2 } },
                                     { "sigma_ou", { 0, 0.1 } } })
end

describe("BoxSearch batch = K", function()
  teardown(h.remove_scratch)

  it("one-node ALN, with and without noise: the same results.csv and results as separate runs, bit for bit", function()
    local aln = nm.models.aln.native { seed = 42 }
    local def = { model = function() return aln end, space = aln_space(), metric = "rates_exc",
                  run = { duration = 100, dt = 0.1, sampling_dt = 0.5, seed = 5 },
                  fail = function(p) return p.mue_ext_mean == 1.5 and p.sigma_ou == 0.1 and p.mui_ext_mean == 2 end }
    local lanes = batches.stats.lanes
    local t1, r1 = explore(def, 1)
    assert.equals(lanes, batches.stats.lanes)
    for _, K in ipairs { 5, 12, "auto" } do         -- 12 points: batches of 5, 5, 2; one of 12
      lanes = batches.stats.lanes
      local tk, rk = explore(def, K)
      assert.equals(12, batches.stats.lanes - lanes)
      assert.equals(t1, tk)
      assert_same_results(r1, rk)
    end
    assert.truthy(t1:find("failed: ", 1, true))
    assert.truthy(t1:find(",ok\n", 1, true))
  end)

  it("a new model per point, FHN with noise, another record and integrator: the same table", function()
    local space = nm.explore.ParameterSpace({ { "x_ext", { 0.2, 0.6, 1.0, 1.4 } }, { "sigma_ou", { 0.02, 0.05 } } })
    local def = { model = function() return nm.models.fhn.native { seed = 3 } end, space = space, metric = "y",
                  run = { duration = 60, dt = 0.05, seed = 11, record = { "x", "y" }, integrator = "heun" } }
    same_as_separate(def, 4, 8)
  end)

  it("what cannot batch runs separately, giving the same table: a structural parameter, a custom coupling", function()
    local fhn2 = function() return nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 5 }, { 5, 0 } } } end
    local def = { model = fhn2, metric = "x", space = nm.explore.ParameterSpace({ signalV = { 2, 5, 10 } }),
                  run = { duration = 40, dt = 0.1, seed = 1 } }
    local lanes = batches.stats.lanes
    assert.equals((explore(def, 1)), (explore(def, 3)))
    local aln = function() return nm.models.aln.native { seed = 1 } end
    def = { model = aln, metric = "rates_exc", space = nm.explore.ParameterSpace({ de = { 1, 4, 6 } }),
            run = { duration = 40, dt = 0.1, seed = 1 } }
    assert.equals((explore(def, 1)), (explore(def, 3)))
    local kuramoto = function()
      return nm.models.kuramoto.native { Cmat = { { 0, 1, 2 }, { 1, 0, 1 }, { 0.5, 1, 0 } }, seed = 2 }
    end
    def = { model = kuramoto, metric = "theta", space = nm.explore.ParameterSpace({ k = { 0.5, 1, 2 } }),
            run = { duration = 20, dt = 0.1, seed = 1 } }
    assert.equals((explore(def, 1)), (explore(def, 3)))
    assert.equals(lanes, batches.stats.lanes)       -- none batched
  end)

  it("a bad batch, or a batch with BOLD or per-point files, is an error at the user's line", function()
    local function err(batch, run, save)
      local ok, e = pcall(nm.explore.BoxSearch, { model = function() end, space = aln_space(), batch = batch,
                                                  run = run, save = save, evaluate = function() end, out = "x" })
      assert.is_false(ok)
      assert.truthy(tostring(e):find("batch_spec.lua:%d+: "), tostring(e))
      return tostring(e)
    end
    assert.truthy(err(0):find("'batch' must be a whole number, 1 or more, or \"auto\", got 0", 1, true))
    assert.truthy(err("all"):find("got \"all\"", 1, true))
    assert.truthy(err(2.5):find("got 2.5", 1, true))
    assert.truthy(err("8"):find("got \"8\" (a string)", 1, true))
    -- a whole float (2^3, n / 2) is that number
    local s = nm.explore.BoxSearch { model = function() end, space = aln_space(), batch = 2 ^ 3,
                                     evaluate = function() end, out = "x" }
    assert.equals(8, s.batch)
    assert.equals("integer", math.type(s.batch))
    assert.truthy(err(2 ^ 3, { bold = true, duration = 100 }):find("batch = 8 cannot be used with run.bold", 1, true))
    assert.truthy(err(8, { bold = true, duration = 100 }):find("batch = 8 cannot be used with run.bold", 1, true))
    assert.truthy(err(8, {}, { "csv" }):find("cannot be used with save", 1, true))
    -- "auto" with BOLD: every point its own run
    assert.has_no.errors(function()
      nm.explore.BoxSearch { model = function() end, space = aln_space(), batch = "auto", run = { bold = true },
                             evaluate = function() end, out = "x" }
    end)
  end)

  it("core.sim's per-channel stream seeds: noise_stream_seed(seed, i) are the seed's own, others differ", function()
    local m = nm.models.aln.native { seed = 42, sigma_ou = 0.2 }
    local a = m:run { duration = 20, dt = 0.1, seed = 9 }
    m.noise_streams = { core.noise_stream_seed(9, 0), core.noise_stream_seed(9, 1) }
    local b = m:run { duration = 20, dt = 0.1, seed = 123 }
    m.noise_streams = { core.noise_stream_seed(9, 1), core.noise_stream_seed(9, 0) }
    local c = m:run { duration = 20, dt = 0.1, seed = 9 }
    m.noise_streams = nil
    assert.same(a:get("rates_exc"), b:get("rates_exc"))
    assert.are_not.same(a:get("rates_exc"), c:get("rates_exc"))
    assert.has_error(function() m.noise_streams = { 1 }; m:run { duration = 1 } end,
                     "run: streams has 1 seeds, the model 2 noise channels")
    m.noise_streams = nil
  end)

  it("a result's rows split into lanes (data:split): each list's columns in its order; bad lists refused", function()
    local m = nm.models.aln.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 2 }, { 2, 0 } } }
    local opts = { duration = 5, dt = 0.1, sampling_dt = 1, record = { "rates_exc", "rates_inh" } }
    local held = { res = m:run(opts) }              -- (dropped below)
    local res = held.res
    local lists = { { 0, 3 }, { 4, 1, 0 }, { 2 } }
    held.lanes = res.data:split(lists)
    assert.equals(3, #held.lanes)
    local dir = h.scratch()
    for k, cols in ipairs(lists) do
      local lane = held.lanes[k]
      assert.same({ (res.data:size()), #cols }, { lane:size() })
      local names = {}
      for j, c in ipairs(cols) do
        assert.same(res.data:column(c), lane:column(j - 1))
        assert.equals(res.data:value(3, c), lane:value(3, j - 1))
        names[j] = res.columns[c + 1]
      end
      -- its CSV (whole rows) holds its columns of the source's rows
      assert.is_true(lane:write_csv(dir .. "/lane.csv", names))
      local rows = {}
      for line in io.lines(dir .. "/lane.csv") do rows[#rows + 1] = line end
      assert.equals(table.concat(names, ","), rows[1])
      assert.equals(1 + res.data:size(), #rows)
    end
    -- a lane of a lane reads the same rows; a lane keeps the rows it views alive
    local inner = held.lanes[2]:split { { 2, 0 } }[1]
    assert.same(res.data:column(0), inner:column(0))
    assert.same(res.data:column(4), inner:column(1))
    local want = res.data:column(4)
    local source = setmetatable({ res.data }, { __mode = "v" })
    held.res, held.lanes, res = nil, nil, m:run(opts)
    collectgarbage(); collectgarbage()
    assert.is_not_nil(source[1])
    assert.same(want, inner:column(1))
    assert.same({}, res.data:split {})
    assert.has_error(function() res.data:split { { 0 }, {} } end, "split: list 2 names no column")
    assert.has_error(function() res.data:split { 3 } end, "split: list 1 is not a list of columns")
    assert.has_error(function() res.data:split { { 0, 5 } } end, "result: no column 5 (it has 5, from 0; 0 is the time)")
  end)
end)

-- A random n x n matrix (entries in [0, scale), some 0), seeded.
local function random_matrix(n, seed, scale)
  local r = require("neuromass.models._native").rng(seed)
  local m = {}
  for i = 1, n do
    m[i] = {}
    for j = 1, n do
      local v = r()
      m[i][j] = (v < 0.3 or i == j) and 0 or scale * r()
    end
  end
  return m
end

describe("BoxSearch batch = K of networks (block-diagonal coupling)", function()
  teardown(h.remove_scratch)

  local C5, D5 = random_matrix(5, 1, 1), random_matrix(5, 2, 60)

  it("FHN on 5 nodes with delays, with and without noise, K not dividing the points: the same table and results", function()
    local space = nm.explore.ParameterSpace({ { "K_gl", { 0, 0.2, 0.5, 0.8, 1.2 } }, { "sigma_ou", { 0, 0.05 } } })
    local def = { model = function() return nm.models.fhn.native { Cmat = C5, Dmat = D5, seed = 7 } end,
                  space = space, metric = "x", run = { duration = 80, dt = 0.1, seed = 3 } }
    local t1, r1 = explore(def, 1)
    for _, K in ipairs { 4, 16, "auto" } do           -- 10 points: batches of 4, 4, 2; one of 10; none
      local lanes, runs = batches.stats.lanes, batches.stats.runs
      local tk, rk = explore(def, K)
      -- "auto" batches one-node models only: a network's points run one by one
      assert.equals(K == "auto" and 0 or 10, batches.stats.lanes - lanes)
      assert.equals(K == 4 and 3 or K == 16 and 1 or 0, batches.stats.runs - runs)
      assert.equals(t1, tk)
      assert_same_results(r1, rk)
    end
    -- the interpreter (jit = false) on 2 threads: the same bits again
    def.run = { duration = 80, dt = 0.1, seed = 3, jit = false, threads = 2 }
    local tj, rj = explore(def, 4)
    assert.equals(t1, tj)
    assert_same_results(r1, rj)
  end)

  it("ALN (C and C squared, local delays) and WC on 4 nodes, a shared model, noise: the same table", function()
    local C4, D4 = random_matrix(4, 3, 0.5), random_matrix(4, 4, 40)
    local aln = nm.models.aln.native { Cmat = C4, Dmat = D4, seed = 5, sigma_ou = 0.05 }
    local def = { model = function() return aln end, metric = "rates_exc",
                  space = nm.explore.ParameterSpace({ { "mue_ext_mean", { 0.5, 1.5, 2.5 } }, { "b", { 0, 20 } } }),
                  run = { duration = 40, dt = 0.1, sampling_dt = 0.5, seed = 9 } }
    same_as_separate(def, 4, 6, 2)
    def = { model = function() return nm.models.wc.native { Cmat = C4, Dmat = D4, seed = 1, sigma_ou = 0.01 } end,
            metric = "exc", space = nm.explore.ParameterSpace({ K_gl = { 0.3, 0.6, 1.2 }, exc_ext = { 0.5, 1 } }),
            run = { duration = 40, dt = 0.1, seed = 2, integrator = "rk4" } }
    same_as_separate(def, 6, 6, 1)
  end)

  it("FHN on HCP (80 nodes): a few points, with noise, the same results; the delay history caps K", function()
    local hcp = nm.datasets.load("hcp")
    local space = nm.explore.ParameterSpace({ { "K_gl", { 0.2, 0.6, 1.0 } }, { "sigma_ou", { 0, 0.02 } } })
    local def = { model = function() return nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, seed = 1 } end,
                  space = space, metric = "x", run = { duration = 30, dt = 0.2, seed = 4, record = "x" } }
    -- one point's ring: 80 columns (x) x 64 rows (the longest delay, 62 steps, + 2) x 24 bytes
    -- = 122880 bytes; 256 KiB holds 2 of them: batches of 2
    same_as_separate(def, 6, 6, 3)
    def.run.dt = 0.1                               -- 245760 bytes a point: no batch
    same_as_separate(def, 6, 0, 0)
  end)

  it("points of another structure (Cmat) form their own batch; a batch of one runs alone", function()
    local other = random_matrix(5, 9, 1)
    local def = { model = function(p) return nm.models.fhn.native { Cmat = p.K_gl > 0.4 and other or C5, Dmat = D5 } end,
                  space = nm.explore.ParameterSpace({ K_gl = { 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.35 } }),
                  metric = "x", run = { duration = 40, dt = 0.1, seed = 1 } }
    local t1 = explore(def, 1)
    local lanes, runs = batches.stats.lanes, batches.stats.runs
    assert.equals(t1, (explore(def, 7)))
    assert.equals(7, batches.stats.lanes - lanes)
    assert.equals(2, batches.stats.runs - runs)
    lanes, runs = batches.stats.lanes, batches.stats.runs
    -- points 1-4, then 5-7: batches {0.1, 0.2, 0.3} and {0.7, 0.9}; 0.5 and 0.35 alone
    assert.equals(t1, (explore(def, 4)))
    assert.equals(5, batches.stats.lanes - lanes)
    assert.equals(2, batches.stats.runs - runs)
    lanes = batches.stats.lanes
    def.space = nm.explore.ParameterSpace({ K_gl = { 0.1, 0.5 } })
    assert.equals((explore(def, 1)), (explore(def, 2)))
    assert.equals(lanes, batches.stats.lanes)       -- two batches of one: separate runs
  end)

  it("batch.capacity: the nodes, the delay history and the recorded output cap K", function()
    local hcp = nm.datasets.load("hcp")
    local m = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat }
    -- one point's ring as the engine counts it (245760 bytes at dt = 0.1 ms, half at 0.4: 64 rows)
    for _, dt in ipairs { 0.1, 0.4 } do
      m:run { duration = dt, dt = dt }
      local _, ring = m.cm:history_bytes(100)
      assert.equals(batches.HISTORY_BYTES // ring, batches.capacity(m, { duration = 10, dt = dt }, 16))
    end
    assert.equals(1, batches.capacity(m, { duration = 10, dt = 0.1 }, 16))
    assert.equals(2, batches.capacity(m, { duration = 10, dt = 0.4 }, 16))
    m.params.signalV = 0                                                     -- no delays: no ring
    assert.equals(6, batches.capacity(m, { duration = 10, dt = 0.1 }, 16))  -- 512 nodes at most
    assert.equals(3, batches.capacity(m, { duration = 10, dt = 0.1 }, 3))
    local small = nm.models.fhn.native { Cmat = random_matrix(5, 1, 1), Dmat = random_matrix(5, 2, 60) }
    assert.equals(64, batches.capacity(small, { duration = 10, dt = 0.1 }, 64))
    -- a delay of 10^6 steps, 125 MB of ring held whole: a 10 ms run holds 128 steps (sim.c), 16 to a batch
    local D = random_matrix(5, 2, 60)
    D[1][2] = 2e6
    local far = nm.models.fhn.native { Cmat = random_matrix(5, 1, 1), Dmat = D }
    far:run { duration = 10, dt = 0.1 }
    local _, ring = far.cm:history_bytes(100)
    assert.equals(5 * 128 * 24, ring)
    assert.equals(16, batches.capacity(far, { duration = 10, dt = 0.1 }, 16))
    assert.equals(1, batches.capacity(far, { duration = 1e5, dt = 0.1 }, 16))   -- (held whole: one point)
    local memory = core.memory()
    if memory < math.huge then
      -- rows x (1 + 10 columns) x 8 bytes (the points' results are views): a quarter of
      -- the memory holds 3 points
      local rows = math.ceil(memory / 4 / 3.5 / (8 * 11))
      assert.equals(3, batches.capacity(small, { duration = rows * 0.1, dt = 0.1 }, 16))
      assert.equals(16, batches.capacity(small, { duration = rows * 0.1, dt = 0.1, sampling_dt = 10 }, 16))
    end
    assert.equals(1, batches.capacity(m, { duration = -1 }, 16))            -- its own run reports it
  end)

  it("batch.capacity counts a point's memory as its own run does: the history at its peak, staged copy too", function()
    -- a delay of 10^6 steps: a 10 ms run (100 steps, 100 rows of 1 + 5 columns) holds 128 steps of
    -- ring, the copy the sums going ahead stage, and the few steps a new simulation makes first
    -- (additive: its sums go ahead on every processor; a diffusive one only where it is staged)
    local D = random_matrix(5, 2, 60)
    D[1][2] = 2e6
    local far = nm.models.fhn.native { Cmat = random_matrix(5, 1, 1), Dmat = D, coupling = "additive" }
    local run = { duration = 10, dt = 0.1, record = "x" }
    assert.equals(16, batches.capacity(far, run, 16))        -- (the model built for run's dt)
    local history, ring, peak = far.cm:history_bytes(100, 0)
    assert.equals(5 * 128 * 24, ring)
    assert.is_true(history > ring and peak > history)
    local rows = 100 * 6 * 8
    local memory = core.memory
    finally(function() core.memory = memory end)
    core.memory = function() return 4 * 3.5 * (peak + rows), "this machine's memory" end
    assert.equals(3, batches.capacity(far, run, 16))
    -- counted on the ring alone, 3 points would fit in less
    core.memory = function() return 4 * 3 * (ring + rows), "this machine's memory" end
    assert.equals(1, batches.capacity(far, run, 16))
  end)
end)

describe("BoxSearch batch = K under neuromass run", function()
  teardown(h.remove_scratch)

  it("2 workers with batches, and --seed: the table of 1 worker without, bit for bit", function()
    local script = [[
local nm = require "neuromass"
local batch = tonumber(arg[1])
local aln = nm.models.aln.native { seed = 4 }
nm.explore.BoxSearch {
  model = function() return aln end,
  space = nm.explore.ParameterSpace({ { "mue_ext_mean", { 0.5, 1, 1.5, 2, 2.5 } }, { "sigma_ou", { 0, 0.05 } } }),
  run = { duration = 50, dt = 0.1, seed = 1 }, batch = batch,
  evaluate = function(res) local r = res:get("rates_exc"); return { last = r[#r], n = #r } end,
  out = "sweep",
}:run()
]]
    local tables = {}
    for k, opts in ipairs { "--workers 1 --seed 7 -- 1", "--workers 2 --seed 7 -- 3" } do
      local dir = h.scratch()
      h.write(dir .. "/sweep.lua", script)
      local status, _, err = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " run sweep.lua --quiet " .. opts)
      assert.equals(0, status, err)
      tables[k] = h.read(dir .. "/sweep/results.csv")
    end
    assert.equals(tables[1], tables[2])
    assert.equals(11, select(2, tables[1]:gsub("\n", "")))
  end)
end)

describe("BoxSearch batch = K keeps the rows made before an error or a stop", function()
  teardown(h.remove_scratch)

  -- Before: the rows of a batch were recorded only once all its points were evaluated, so an error
  -- of evaluate (a bad metric, os.exit) or a stop signal part-way lost the rows evaluated before it.
  -- arg[1]: the batch; arg[2]: what evaluate does at point 5 ("metric", "exit", "stop": SIGINT to itself).
  local script = [[
local nm = require "neuromass"
local core = require "neuromass.core"
local fhn = nm.models.fhn.native {}
nm.explore.BoxSearch {
  model = function() return fhn end, batch = arg[1] == "auto" and "auto" or tonumber(arg[1]), out = "sweep",
  space = nm.explore.ParameterSpace({ { "x_ext", { 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7 } } }),
  run = { duration = 10, dt = 0.1, seed = 1 },
  evaluate = function(res, p)
    if p.x_ext == 0.4 then
      if arg[2] == "metric" then return { m = "bad" } end
      if arg[2] == "exit" then os.exit(3) end
      if arg[2] == "stop" then io.popen("kill -INT " .. core.pid()):close() end   -- (os.execute ignores SIGINT)
    end
    local x = res:get("x")
    return { m = x[#x] }
  end,
}:run()
]]
  local function run(batch, what)
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", script)
    local status, _, err = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " run sweep.lua --quiet --workers 1 -- " ..
                                batch .. " " .. what)
    local f = io.open(dir .. "/sweep/results.partial.csv")   -- (stopped before its end: the rows done)
    local text = f and f:read("a")
    if f then f:close() end
    return status, text, err
  end

  it("an evaluate's mistake, os.exit and Ctrl-C: the rows before it, as points one by one keep them", function()
    for _, what in ipairs { "metric", "exit", "stop" } do
      local s1, one, err1 = run("1", what)
      local sk, many, errk = run("auto", what)
      assert.equals(s1, sk, errk)
      assert.equals(what == "metric" and 1 or what == "exit" and 3 or 130, s1, err1)
      assert.truthy(one, err1)
      assert.equals(one, many)
      -- points 1 to 4 are kept (point 5's evaluate failed, or the stop failed it: not recorded)
      assert.equals(4, select(2, one:gsub("\n", "")) - 1, one)
    end
  end)
end)
