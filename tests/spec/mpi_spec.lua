-- mpi_spec.lua: the MPI layer of an exploration (issue 13 item 3):
-- neuromass.explore.mpi's slices, the clear error of a build without MPI
-- under a launcher, a plain run that never initialises MPI, and
-- `mpirun -np 2 neuromass run` (rank and size, strings gathered to rank 0 and
-- broadcast, the slices, a failing rank that ends the job) when mpirun and
-- the module neuromass.mpi are present (pending otherwise).
local h = require "helpers"
local emp = require "neuromass.explore.mpi"

local q, scratch = h.q, h.scratch

teardown(h.remove_scratch)

local MPIRUN, mpi_missing = h.MPIRUN, h.mpi_missing

local script = h.script

-- Runs the script `text` on 2 ranks with a scratch folder as arg[1] (where
-- each rank writes rank<r>.txt); asserts it succeeded; returns rank r's file.
local function two_ranks(text)
  local dir, s = scratch(), script(text)
  local status, _, err = h.sh(MPIRUN .. q(h.exe) .. " run " .. q(s) .. " " .. q(dir))
  assert.equals(0, status, err)
  return function(r) return h.read(dir .. "/rank" .. r .. ".txt") end
end

describe("neuromass.explore.mpi slices", function()
  it("gives each rank the points i with (i - 1) % size == rank, every point to exactly one rank", function()
    assert.same({ 1, 3, 5, 7 }, emp.slice(7, 0, 2))
    assert.same({ 2, 4, 6 }, emp.slice(7, 1, 2))
    assert.same({ 3 }, emp.slice(4, 2, 3))
    assert.same({}, emp.slice(2, 2, 3))
    for _, n in ipairs({ 1, 5, 12 }) do
      for size = 1, 4 do
        local seen = {}
        for rank = 0, size - 1 do
          for _, i in ipairs(emp.slice(n, rank, size)) do
            assert.is_nil(seen[i], "point " .. i .. " twice")
            assert.is_true(emp.mine(i, rank, size))
            seen[i] = rank
          end
        end
        for i = 1, n do assert.is_not_nil(seen[i], "point " .. i .. " of " .. n .. " missing") end
      end
    end
  end)
end)

describe("neuromass run without mpirun", function()
  it("never loads neuromass.mpi nor initialises MPI", function()
    local s = script([[
local emp = require "neuromass.explore.mpi"
print("launched", emp.launched(), emp.plan())
print("loaded", package.loaded["neuromass.mpi"] ~= nil)
]])
    local status, out, err = h.sh("env -u OMPI_COMM_WORLD_SIZE -u PMI_SIZE " .. q(h.exe) .. " run " .. q(s))
    assert.equals(0, status, err)
    assert.equals("launched\tnil\tnil\nloaded\tfalse\n", out)
  end)

  it("nm.explore.is_main() is true without mpirun, and MPI is not initialised for it", function()
    local s = script([[
local nm = require "neuromass"
print(nm.explore.is_main(), package.loaded["neuromass.mpi"] ~= nil)
]])
    local status, out, err = h.sh("env -u OMPI_COMM_WORLD_SIZE -u PMI_SIZE " .. q(h.exe) .. " run " .. q(s))
    assert.equals(0, status, err)
    assert.equals("true\tfalse\n", out)
  end)

  -- srun with PMI in a Slurm array task sets PMI_SIZE=1: the task took
  -- MPI's one rank for the whole job and computed every point.
  it("a launcher of one rank in a Slurm array task computes the task's slice, without MPI", function()
    local dir = scratch()
    local s = script([[
local nm = require "neuromass"
print(nm.explore.is_main(), package.loaded["neuromass.mpi"] ~= nil)
nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end, run = { duration = 1, dt = 0.1 },
  space = nm.explore.ParameterSpace { x_ext = { 0, 1, 2, 3, 4, 5 } }, out = arg[1],
  evaluate = function() return { m = 1 } end }:run()
]])
    local status, out, err = h.sh("PMI_SIZE=1 SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3 " .. q(h.exe) ..
                                  " run " .. q(s) .. " --quiet " .. q(dir))
    assert.equals(0, status, err)
    assert.equals("true\tfalse\n", out)     -- (is_main() follows the same rule: MPI not started for it)
    assert.is_nil(io.open(dir .. "/results.csv"))
    -- (points 2 and 5: slice 1 of 3)
    assert.equals("point,x_ext,seed,m,status|2,1|5,4|",
                  (h.read(dir .. "/parts/task-1-of-3.csv"):gsub(",%d+,1,ok\n", "|"):gsub("\n", "|")))
  end)

  it("under a launcher, a build without MPI is an error at the script's line naming the package", function()
    -- the executable alone in a folder: no lua/neuromass/mpi.so beside it
    local bin = scratch()
    assert.equals(0, (h.sh("cp " .. q(h.exe) .. " " .. q(bin .. "/neuromass"))))
    local s = script("local emp = require 'neuromass.explore.mpi'\nlocal plan = emp.plan()\n")
    local status, _, err = h.sh("env -u LUA_CPATH OMPI_COMM_WORLD_SIZE=2 NEUROMASS_LUA_DIR=" .. q(h.top .. "/lua") ..
                                " " .. q(bin .. "/neuromass") .. " run " .. q(s))
    assert.not_equals(0, status)
    assert.matches("s.lua:2: explore: this process runs under mpirun, but this neuromass was built without MPI",
                   err, 1, true)
    assert.matches("install Debian's libopenmpi-dev and openmpi-bin, then rebuild with `make MPI=1`", err, 1, true)
  end)
end)

describe("mpirun -np 2 neuromass run", function()
  it("gives rank and size, gathers strings and rows to rank 0, broadcasts, slices deterministically", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local written = two_ranks([[
local mpi = require "neuromass.mpi"
local emp = require "neuromass.explore.mpi"
local plan = emp.plan()
assert(mpi.initialized() and not mpi.finalized())
assert(plan.task == mpi.rank() and plan.ntasks == mpi.size())
local rows = {}
for _, i in ipairs(emp.slice(9, plan.task, plan.ntasks)) do
  rows[i] = string.format("%d,%d,x\nsecond line of %d", i, plan.task, i)
end
local all = emp.gather_rows(rows)
local names = mpi.gather("rank " .. plan.task .. " of " .. plan.ntasks)
local shared = emp.share(plan.task == 0 and "from rank 0" or nil)
emp.barrier()
local f = assert(io.open(arg[1] .. "/rank" .. plan.task .. ".txt", "w"))
f:write("shared=", shared, "\n")
if plan.task == 0 then
  f:write(table.concat(names, ";"), "\n")
  for i = 1, 9 do f:write(all[i], "\n") end
else
  f:write(tostring(all), " ", tostring(names), "\n")
end
f:close()
]])
    local want = { "shared=from rank 0", "rank 0 of 2;rank 1 of 2" }
    for i = 1, 9 do want[#want + 1] = string.format("%d,%d,x\nsecond line of %d", i, (i - 1) % 2, i) end
    assert.equals(table.concat(want, "\n") .. "\n", written(0))
    assert.equals("shared=from rank 0\nnil nil\n", written(1))
  end)

  it("nm.explore.is_main() is true on rank 0 alone", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local written = two_ranks([[
local nm = require "neuromass"
local mpi = require "neuromass.mpi"
local main = nm.explore.is_main()
local f = assert(io.open(arg[1] .. "/rank" .. mpi.rank() .. ".txt", "w"))
f:write(tostring(main), "\n")
f:close()
]])
    assert.equals("true\n", written(0))
    assert.equals("false\n", written(1))
  end)

  it("runs an exploration's points: rank 0's table shared, each rank its slice, every row on every rank", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local written = two_ranks([[
local emp = require "neuromass.explore.mpi"
local plan = emp.plan()
-- rank 0 holds points 2 (ok) and 5 (failed, retried); the others see no table
local held = plan.task == 0 and { [2] = { status = "ok", by = "before" }, [5] = { status = "failed: x" } } or {}
local computed, known, finished = {}, 0, 0
local all = emp.run(plan, 7, held, function(_, row) return row == nil or row.status ~= "ok" end,
  function(i) return { status = "ok", by = "rank " .. plan.task, params = { tostring(i / 4), "n" }, nan = 0 / 0 } end,
  { point = function(i) computed[#computed + 1] = i end,
    known = function(rows) for _ in pairs(rows) do known = known + 1 end end,
    finished = function() finished = finished + #computed end })
local f = assert(io.open(arg[1] .. "/rank" .. plan.task .. ".txt", "w"))
f:write("computed ", table.concat(computed, " "), "; known ", known, ", finished after ", finished, "\n")
for i = 1, 7 do
  local r = all[i]
  f:write(i, " ", r.status, " ", r.by, " ", r.params and table.concat(r.params, ";") or "-",
          " ", tostring(r.nan ~= r.nan), "\n")
end
f:close()
]])
    local rows = "1 ok rank 0 0.25;n true\n2 ok before - false\n3 ok rank 0 0.75;n true\n4 ok rank 1 1.0;n true\n" ..
                 "5 ok rank 0 1.25;n true\n6 ok rank 1 1.5;n true\n7 ok rank 0 1.75;n true\n"
    assert.equals("computed 1 3 5 7; known 2, finished after 4\n" .. rows, written(0))
    assert.equals("computed 4 6; known 2, finished after 2\n" .. rows, written(1))
  end)

  it("ends the whole job when one rank fails (rank 0 waiting in a gather), with the script's line", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script([[
local emp = require "neuromass.explore.mpi"
local plan = emp.plan()
if plan.task == 1 then error("rank one gives up") end
emp.gather_rows({})
print("rank 0 went on")
]])
    local status, out, err = h.sh(MPIRUN .. q(h.exe) .. " run " .. q(s))
    assert.not_equals(0, status)
    assert.not_equals(124, status)          -- timeout's status: the job hung
    assert.matches("s.lua:3: rank one gives up", err, 1, true)
    assert.not_matches("rank 0 went on", out, 1, true)
  end)

  -- A script exploring into arg[1] with a BoxSearch (2 points) or an Evolution (`kind`: 4
  -- evaluations, 2 restarts) of 2 ranks, each scored by the function of the source `score`, with
  -- the fields of the source `more`; it prints "rank R went on" after.
  local function explore_kind(kind, score, more)
    return script([[
local nm = require "neuromass"
local rank = tonumber(os.getenv("OMPI_COMM_WORLD_RANK"))
local score = ]] .. score .. [[

local model = function() return nm.models.fhn.native {} end
local run = { duration = 1, dt = 0.1 }
if "]] .. kind .. [[" == "BoxSearch" then
  nm.explore.BoxSearch { model = model, space = nm.explore.ParameterSpace { x_ext = { 0, 1 } }, run = run,
                         evaluate = score, out = arg[1], ]] .. (more or "") .. [[ }:run()
else
  nm.explore.Evolution { model = model, parameters = { x_ext = { 0, 1 } }, run = run, fitness = score,
                         evaluations = 4, restarts = 2, out = arg[1], ]] .. (more or "") .. [[ }:run()
end
print("rank " .. rank .. " went on")
]])
  end

  it("fails the whole job, its rows kept, when a rank's evaluate or fitness calls os.exit (none waits for ever)", function()
    local why = mpi_missing()
    if why then return pending(why) end
    for _, kind in ipairs { "BoxSearch", "Evolution" } do
      local s = explore_kind(kind, "function() if rank == 1 then os.exit(3) end return { m = 1, fitness = 1 } end")
      local status, out, err = h.sh(MPIRUN .. q(h.exe) .. " run " .. q(s) .. " " .. q(scratch() .. "/out"))
      assert.not_equals(0, status, kind)
      assert.not_equals(124, status, kind)    -- timeout's status: the job hung
      assert.matches(kind .. ": rank 1 called os.exit(3)", err, 1, true)
      assert.not_matches("went on", out, 1, true)
    end
  end)

  it("each rank's progress line counts its own points, and says which rank it is", function()
    -- (before: each rank counted its points against the whole exploration's, and ended at 1/2)
    local why = mpi_missing()
    if why then return pending(why) end
    for kind, n in pairs { BoxSearch = 1, Evolution = 2 } do
      local s = explore_kind(kind, "function() return { m = 1, fitness = 1 } end", "progress = true")
      local status, _, err = h.sh(MPIRUN .. q(h.exe) .. " run " .. q(s) .. " " .. q(scratch() .. "/out"))
      assert.equals(0, status, err)
      for r = 0, 1 do
        assert.matches(string.format("explore: rank %d: %d/%d points, ", r, n, n), err, 1, true)
      end
      assert.not_matches("/" .. 2 * n .. " points", err, 1, true)
    end
  end)

  -- Rank 0 clears the folder of what killed runs left (leftovers.clear),
  -- holding its lock alone.  Rank 1 did not wait for it: what it was
  -- writing in the folder at that moment (its write test, exploration.txt)
  -- was taken for a leftover and removed under it, "Evolution: cannot
  -- write '.../exploration.txt': No such file or directory" (seen under the
  -- sanitizers' slower start).  Here rank 1 stretches such a write to 4 s
  -- before its exploration starts: a temporary file of its own that it
  -- removes itself, as a commit would, after watching it that long; rank 0,
  -- its model compiled, starts exploring as soon as the file is there.
  it("rank 0's clearing of leftovers never removes what another rank of the job is still writing", function()
    local why = mpi_missing()
    if why then return pending(why) end
    for _, kind in ipairs { "BoxSearch", "Evolution" } do
      local dir = scratch()
      local s = script([[
local nm = require "neuromass"
local core = require "neuromass.core"
local rank, dir = tonumber(os.getenv("OMPI_COMM_WORLD_RANK")), arg[1]
local function exists(path) local f = io.open(path) if f then f:close() end return f ~= nil end
local inflight = dir .. "/inflight.tmp-" .. core.pid() .. "." .. core.temp_name("x"):match("^x%.tmp%-%d+%.(.+)$")
local model = function() return nm.models.fhn.native {} end
local run = { duration = 1, dt = 0.1 }
model():run(run)           -- (compiled, so that rank 0 then gets to its exploration at once)
require("neuromass.mpi").init()    -- (not at the exploration's start: MPI_Init waits for every rank)
if rank == 1 then
  io.open(inflight, "w"):close()
  for _ = 1, 80 do
    if not exists(inflight) then error("rank 1's file in flight was removed") end
    os.execute("sleep 0.05")
  end
  os.remove(inflight)
else
  repeat os.execute("sleep 0.05") until #core.list_dir(dir) > 0
end
local score = function() return { m = 1, fitness = 1 } end
if "]] .. kind .. [[" == "BoxSearch" then
  nm.explore.BoxSearch { model = model, space = nm.explore.ParameterSpace { x_ext = { 0, 1 } }, run = run,
                         evaluate = score, out = dir }:run()
else
  nm.explore.Evolution { model = model, parameters = { x_ext = { 0, 1 } }, run = run, fitness = score,
                         evaluations = 4, restarts = 2, out = dir }:run()
end
]])
      local status, _, err = h.sh(MPIRUN .. q(h.exe) .. " run " .. q(s) .. " " .. q(dir))
      assert.equals(0, status, kind .. ": " .. err)
      assert.is_not_nil(io.open(dir .. "/results.csv"), kind)
    end
  end)

  -- Runs a 2-rank job of explore_kind(kind, ...) on a new scratch folder DIR,
  -- `before` (a shell prefix; DIR in it as %s) put before mpirun; asserts that
  -- it failed without hanging and that no rank went on: DIR and stderr.
  local function refused_job(kind, before, setup)
    local s = explore_kind(kind, "function() return { m = 1, fitness = 1 } end")
    local dir = scratch()
    if setup then setup(dir) end
    local status, out, err = h.sh(before:format(q(dir)) .. MPIRUN .. q(h.exe) .. " run " .. q(s) .. " " .. q(dir))
    assert.not_equals(0, status, kind)
    assert.not_equals(124, status, kind)    -- timeout's status: the job hung
    assert.not_matches("went on", out, 1, true)
    return dir, err
  end

  -- mpirun in a Slurm array task: the ranks spread the whole sweep, so
  -- every task of the array computed it all (12 rows from each of 3 tasks).
  it("mpirun in a Slurm array task is refused at the script's line, computing nothing", function()
    local why = mpi_missing()
    if why then return pending(why) end
    for _, kind in ipairs { "BoxSearch", "Evolution" } do
      -- (before: status 0, each rank "went on" with the whole table written to results.csv)
      local dir, err = refused_job(kind, "SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3 ")
      assert.matches("s.lua:%d+: explore: under mpirun %(2 ranks%) in a Slurm array task " ..
                     "%(SLURM_ARRAY_TASK_ID=1, SLURM_ARRAY_TASK_COUNT=3%)", err)
      assert.is_nil(io.open(dir .. "/results.csv"))
    end
  end)

  it("an mpirun job is refused a folder that another run explores (holds its lock), as any run is", function()
    -- (before: rank 0 took no lock, and the job computed every point again beside a run of the
    -- script with workers, and an Evolution's rank 0 removed that run's table as it started)
    local why = mpi_missing()
    if why then return pending(why) end
    for _, kind in ipairs { "BoxSearch", "Evolution" } do
      -- (flock(1) holds the folder's lock while the job runs, as another run's script does)
      local dir, err = refused_job(kind, "flock %s ",
                                   function(d) h.write(d .. "/results.csv", "point,x_ext,seed,status\n") end)
      assert.matches("s.lua:%d+: " .. kind .. ": another run is exploring '" .. dir:gsub("%p", "%%%0") .. "'", err)
      assert.equals("point,x_ext,seed,status\n", h.read(dir .. "/results.csv"))
    end
  end)

  -- A sweep of 6 FHN points on 2 ranks whose rank `rank` stops itself (SIGTERM) at its
  -- point `x` (its second): the job's status, stdout and stderr (the job ended, not hung),
  -- and the points of its table.
  local function stopped_sweep(rank, x)
    local s = script([[
local nm = require "neuromass"
local rank = tonumber(os.getenv("OMPI_COMM_WORLD_RANK"))
nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace { x_ext = { 0, 0.2, 0.4, 0.6, 0.8, 1 } }, run = { duration = 1, dt = 0.1 },
  evaluate = function(_, p)
    if rank == ]] .. rank .. [[ and p.x_ext == ]] .. x .. [[ then
]] .. h.STOP_SELF .. [[
    end
    return { m = p.x_ext }
  end, out = arg[1] }:run()
print("rank " .. rank .. " went on")
]])
    local dir = scratch()
    local status, out, err = h.sh(MPIRUN .. q(h.exe) .. " run " .. q(s) .. " " .. q(dir))
    assert.not_equals(0, status, err)
    assert.not_equals(124, status, err)      -- timeout's status: the job hung
    assert.is_nil(io.open(dir .. "/results.csv"))      -- (stopped: the rows done, under a name that says so)
    local t = h.read(dir .. "/results.partial.csv")
    return out, err, dir, (t:gsub("\n", "|"):gsub("(%d+),[^|]*", "%1"):gsub("^point[^|]*", "point"))
  end

  it("a stop signal to a rank records none of its points as failed by it: the rows done are kept", function()
    -- (mpirun passes Ctrl-C on to the ranks as SIGTERM; before: the point in progress and every
    -- later point of the rank, each failed at once by the stop, were written as failed rows,
    -- which the next run keeps)
    local why = mpi_missing()
    if why then return pending(why) end
    local out, err, dir, points = stopped_sweep(0, 0.4)
    assert.not_matches("rank 0 went on", out, 1, true)
    assert.matches("s.lua:3: BoxSearch: interrupted by SIGTERM; the points done are kept in " .. dir ..
                   "/results.partial.csv: run again to compute the rest", err, 1, true)
    -- rank 0's point 1 and rank 1's points 2, 4, 6; not 3 (stopped) nor 5 (after the stop)
    assert.equals("point|1|2|4|6|", points)
  end)

  it("a stop signal to one rank alone fails the exploration on every rank, naming it: none goes on", function()
    -- (before: rank 0's search:run() returned the table without rank 1's later points, and its
    -- script went on, printing and drawing an incomplete sweep, until rank 1's stop aborted the job)
    local why = mpi_missing()
    if why then return pending(why) end
    local out, err, dir, points = stopped_sweep(1, 0.6)
    assert.not_matches("went on", out, 1, true)
    assert.matches("s.lua:3: BoxSearch: rank 1 was stopped by signal 15; the points done are kept in " .. dir ..
                   "/results.partial.csv: run again to compute the rest", err, 1, true)
    -- rank 0's points 1, 3, 5 and rank 1's point 2; not 4 (stopped) nor 6 (after the stop)
    assert.equals("point|1|2|3|5|", points)
  end)

  it("reports MPI's misuse as a clear error (a collective before init)", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script("local mpi = require 'neuromass.mpi'\nmpi.barrier()\n")
    local status, _, err = h.sh(q(h.exe) .. " run " .. q(s))
    assert.not_equals(0, status)
    assert.matches("s.lua:2: mpi.barrier: MPI is not initialised (call mpi.init() first)", err, 1, true)
  end)
end)
