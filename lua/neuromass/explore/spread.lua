--- How an exploration's points are spread over processes: the one seam
-- between an exploration and where it runs.  A process runs its points in
-- one of three ways:
--   single   all the missing points here, one after the other;
--   workers  --workers N (default: one per core, from the host's command
--            line): N worker processes of the same script (workers.lua),
--            each a task of N, whose parts are then joined here; a
--            BoxSearch's workers share the points out as they go (each
--            takes the next point none has claimed: M.claim), so a faster
--            core, or cheaper points, take more of them;
--   task     --task I --ntasks N, or a Slurm array task of a range
--            (--array=MIN-MAX[:STEP]: I = (SLURM_ARRAY_TASK_ID - MIN) / STEP,
--            N = SLURM_ARRAY_TASK_COUNT; M.slurm): slice I of N,
--            written as the part DIR/parts/task-I-of-N.csv (a worker's:
--            worker-I-of-N.csv, its claimed points); the parts are
--            joined by `neuromass explore --merge DIR` (or the next run).
-- Slice I holds the points i with (i - 1) % N == I: fixed by (I, N) alone,
-- so a task computes the same points however the others went.  A point's
-- numbers depend only on its index (its seed: search.lua), never on the
-- process that ran it.  A fourth way, asked first: under mpirun, rank I of
-- N computes slice I and rank 0 writes the table (explore/mpi.lua).
local check = require "neuromass._check"
local mpi = require "neuromass.explore.mpi"
local core = require "neuromass.core"

local io, os, math, string, table, tonumber, ipairs, setmetatable =
      io, os, math, string, table, tonumber, ipairs, setmetatable

local M = {}

--- The environment variable that marks a worker process: the ordinal of
-- the exploration (the K-th search:run of the script) it computes a slice of.
M.WORKER_ENV = "NEUROMASS_EXPLORE_WORKER"

--- spread.digits(text) -> true when `text` is written in digits alone
-- ("0", "12", "007"), else false ("1.5", "1a", "-1", "+1", " 1", "1e3",
-- "0x10", ""): the one rule of a count of processes, a task's number, a
-- count of tasks and a seed, for the command line's --workers, --task,
-- --ntasks and --seed (src/main.c asks it) and the Slurm array's variables (env_integer).
function M.digits(text)
  return type(text) == "string" and text:find("^%d+$") ~= nil
end

-- The whole number (0 or more) the environment variable `name` holds
-- (M.digits), or nil when unset.  Errors at the user's line, naming the
-- variable and its value: set but empty, not digits alone, beyond 2^63 - 1.
local function env_integer(name)
  local v = os.getenv(name)
  if v == nil then return nil end
  local n = M.digits(v) and math.tointeger(tonumber(v))
  if not n then
    check.error(string.format("explore: %s must be a whole number written in digits alone (0 to 2^63 - 1), " ..
                              "got '%s'", name, v), 2)
  end
  return n
end

--- spread.worker() -> the ordinal in spread.WORKER_ENV (this process is a
-- worker of --workers, computing a slice of that exploration), or nil.
function M.worker()
  -- (our own variable, not the user's: a BoxSearch's ordinal 1, 2, ..., an Evolution's -1, -2, ...)
  local v = os.getenv(M.WORKER_ENV)
  if v == nil then return nil end
  local n = v:find("^%-?%d+$") and math.tointeger(tonumber(v))
  if not n then check.error(string.format("explore: %s must be a whole number, got '%s'", M.WORKER_ENV, v), 2) end
  return n
end

--- spread.slurm() -> I, N: the slice of a Slurm array task, or nil outside
-- an array (neither SLURM_ARRAY_TASK_ID nor SLURM_ARRAY_TASK_COUNT set).
-- Slurm numbers the tasks of --array=MIN-MAX:STEP by their index (ID), and
-- sets SLURM_ARRAY_TASK_MIN, _MAX, _STEP (1 when unset) and _COUNT: task
-- I = (ID - MIN) / STEP of N = COUNT, a fixed slice whatever ran before.
-- Errors at the user's line: one of ID and COUNT without the other, and an
-- array that is not such a range (a list, --array=1,5,7: its IDs are not
-- MIN + I x STEP with MAX = MIN + (COUNT - 1) x STEP, so no ID gives its
-- task number; the message says to use --array=0-N or --task/--ntasks).
function M.slurm()
  local id, count = env_integer("SLURM_ARRAY_TASK_ID"), env_integer("SLURM_ARRAY_TASK_COUNT")
  if id == nil and count == nil then return nil end
  if id == nil or count == nil then
    check.error(string.format("explore: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT go together (a Slurm " ..
                              "array task has both), got only %s=%d: set both, or give --task I --ntasks N",
                              id and "SLURM_ARRAY_TASK_ID" or "SLURM_ARRAY_TASK_COUNT", id or count), 2)
  end
  local min = env_integer("SLURM_ARRAY_TASK_MIN") or 0
  local step = env_integer("SLURM_ARRAY_TASK_STEP") or 1
  local max = env_integer("SLURM_ARRAY_TASK_MAX")
  if count < 1 or step < 1 then
    check.error(string.format("explore: SLURM_ARRAY_TASK_COUNT=%d and SLURM_ARRAY_TASK_STEP=%d must be 1 or more",
                              count, step), 2)
  end
  if id < min or (id - min) % step ~= 0 or (id - min) // step >= count
     or (max and max ~= min + (count - 1) * step) then
    check.error(string.format("explore: the Slurm array task SLURM_ARRAY_TASK_ID=%d is not one of a range " ..
                              "MIN-MAX:STEP of COUNT tasks (SLURM_ARRAY_TASK_MIN=%d, SLURM_ARRAY_TASK_MAX=%s, " ..
                              "SLURM_ARRAY_TASK_STEP=%d, SLURM_ARRAY_TASK_COUNT=%d), so it has no task number " ..
                              "(a list array such as --array=1,5,7?): submit a plain range (--array=0-%d) or give " ..
                              "--task I --ntasks N", id, min, max and string.format("%d", max) or "unset", step,
                              count, count - 1), 2)
  end
  return (id - min) // step, count
end

--- spread.ranks([h]) -> mpi.plan()'s { kind = "mpi", task = rank, ntasks =
-- size } under an MPI launcher (MPI started), else nil; nil too for a
-- launcher of one rank in a Slurm array task (srun's PMI may set
-- PMI_SIZE=1 in each task: the array's task, MPI not started).  Error at
-- the user's line: more than one rank in a Slurm array task (each task's
-- ranks would spread the whole exploration), unless --task (h.task) is
-- given, which M.plan refuses under mpirun.
function M.ranks(h)
  local launched = mpi.launched()
  local array = os.getenv("SLURM_ARRAY_TASK_ID") or os.getenv("SLURM_ARRAY_TASK_COUNT")
  if launched and launched > 1 and array and not (h and h.task) then
    check.error(string.format("explore: under mpirun (%d ranks) in a Slurm array task (SLURM_ARRAY_TASK_ID=%s, " ..
                              "SLURM_ARRAY_TASK_COUNT=%s): the ranks spread the whole exploration, so every task " ..
                              "of the array would compute it all; use one of the two: an MPI job that is not an " ..
                              "array (one table), or an array of single processes without mpirun (parts joined " ..
                              "by neuromass explore --merge)", launched, os.getenv("SLURM_ARRAY_TASK_ID") or "unset",
                              os.getenv("SLURM_ARRAY_TASK_COUNT") or "unset"), 2)
  end
  if launched == 1 and array then return nil end
  return mpi.plan()
end

--- spread.task_mistake(task, ntasks, workers) -> nil, or what is wrong
-- with a process's slice: task I (0-based) of N (--task, --ntasks; each nil
-- when not given) with --workers (nil when not given): one of I and N
-- without the other, I outside 0 .. N - 1, --workers beside them.  The one
-- rule of the command line's --task/--ntasks, which the executable checks
-- as it reads it (src/main.c: before the script's prelude runs), and of the
-- slice a Slurm array task derives (M.plan).
function M.task_mistake(task, ntasks, workers)
  if (task == nil) ~= (ntasks == nil) then return "--task I needs --ntasks N (and --ntasks N needs --task I)" end
  if task == nil then return nil end
  if task < 0 or task >= ntasks then
    return string.format("task %d is not one of 0 to %d (of --ntasks %d)", task, ntasks - 1, ntasks)
  end
  if workers then return "give --workers or --task/--ntasks, not both" end
  return nil
end

--- spread.plan(h, ordinal) -> { kind = "single" } | { kind = "workers", n }
-- | { kind = "task", task, ntasks, worker (true in a worker process) } |
-- { kind = "load" } (in a worker, an earlier exploration: computes nothing), for
-- the `ordinal`-th exploration of the script under the host context `h`
-- (nil in a plain Lua: single), which it marks `explored`.  Errors at the user's line: --task without
-- --ntasks (or the reverse), a task outside 0..N-1, --workers with --task,
-- mpirun of more than one rank in a Slurm array task (M.ranks).
function M.plan(h, ordinal)
  if h then h.explored = true end    -- (the host's warning at the script's end: --workers that served nothing)
  local ranks = M.ranks(h)           -- under mpirun: rank I of N (explore/mpi.lua)
  if ranks then
    if h and (h.workers or h.task) then
      check.error("explore: under mpirun the ranks spread the points: give neither --workers nor --task/--ntasks", 2)
    end
    return ranks
  end
  local worker = M.worker()
  if worker and h and h.task then
    if ordinal == worker then return { kind = "task", task = h.task, ntasks = h.ntasks, worker = true } end
    return { kind = "load" }         -- an earlier exploration: the parent ran it; its table is read only
  end
  local task, ntasks = h and h.task, h and h.ntasks
  local from_slurm = task == nil and ntasks == nil
  if from_slurm then task, ntasks = M.slurm() end
  if task and h and h.workers and from_slurm then
    check.error(string.format("explore: --workers in a Slurm array task (SLURM_ARRAY_TASK_ID=%s: task %d of %d), " ..
                              "which computes its slice in its one process: drop --workers (for more cores, " ..
                              "submit more array tasks)", os.getenv("SLURM_ARRAY_TASK_ID"), task, ntasks), 2)
  end
  local mistake = M.task_mistake(task, ntasks, h and h.workers)
  if mistake then check.error("explore: " .. mistake, 2) end
  if task then
    if h and not from_slurm then h.task_taken = true end   -- (the host's check at the script's end)
    return { kind = "task", task = task, ntasks = ntasks }
  end
  local n = h and h.exe and h.mode == "run" and (h.workers or h.cores) or 1
  if n > 1 then return { kind = "workers", n = n } end
  return { kind = "single" }
end

--- spread.mine(i, task, ntasks) -> true when point i is in slice `task` of `ntasks`.
function M.mine(i, task, ntasks)
  return (i - 1) % ntasks == task
end

-- The folder of an exploration's claims (DIR/parts/claims), and the claim of point (or restart) i.
local function claims_dir(dir) return dir .. "/parts/claims" end
local function claim_path(dir, i) return string.format("%s/%d", claims_dir(dir), i) end

--- spread.claim(dir, i) -> true when this process takes point i of the
-- exploration in DIR: it created DIR/parts/claims/I, which no other worker
-- had (core.claim: one step of the file system, so two workers trying the
-- same point at once never both take it); false when another took it.
-- Errors at the user's line: the folder or the file cannot be created.
function M.claim(dir, i)
  local claims = claims_dir(dir)
  local took, err = core.claim(claim_path(dir, i))
  if took == nil then                -- no folder yet (the search's first claim): made, and tried again
    local made, merr = core.mkdir_p(claims)
    if not made then check.error(string.format("explore: cannot create '%s': %s", claims, merr.message), 2) end
    took, err = core.claim(claim_path(dir, i))
  end
  if took == nil then
    check.error(string.format("explore: cannot claim point %d in '%s': %s", i, claims, err.message), 2)
  end
  return took
end

--- spread.finished(dir, i): marks the claim of restart i of the Evolution
-- in DIR finished (its rows saved in the part of the worker, task or rank
-- that ran it; a task or rank, which claims nothing, makes the claim), so
-- that a merge of the parts a killed or stopped run left tells a restart
-- that stopped before its budget from one cut short (M.claims).  A claim
-- that cannot be marked leaves the restart unfinished for such a merge (a
-- rerun replays it): not an error.
function M.finished(dir, i)
  core.mkdir_p(claims_dir(dir))
  local f = io.open(claim_path(dir, i), "w")
  if f then f:write("done\n"); f:close() end
end

--- spread.claims(dir) -> nil when DIR/parts/claims does not exist (parts,
-- if any, of tasks: fixed slices), else { [i] = "done" (M.finished) or true
-- (claimed: computed, or cut short) }: what the workers of a run whose
-- script's process was killed left (a run that ends removes them).
function M.claims(dir)
  local claims = claims_dir(dir)
  if not core.path_info(claims).is_dir then return nil end
  local out = {}
  for _, name in ipairs(core.list_dir(claims) or {}) do
    local i = math.tointeger(tonumber(name))
    if i then
      local f = io.open(claims .. "/" .. name, "r")
      out[i] = f and f:read("l") == "done" and "done" or true
      if f then f:close() end
    end
  end
  return out
end

--- spread.clear_claims(dir): removes DIR/parts/claims (the claims of the
-- workers that ran, or of interrupted ones: taken again by the next run).
function M.clear_claims(dir)
  local claims = claims_dir(dir)
  for _, name in ipairs(core.list_dir(claims) or {}) do os.remove(claims .. "/" .. name) end
  os.remove(claims)
end

-- The record of who holds a folder's lock (M.lock): DIR/explore.lock, lines
-- "script PID" (the run that took it) and "worker I PID" (its workers,
-- which hold the lock with it: M.held_by), removed when the lock is released.
local HOLDERS = "/explore.lock"

-- The holders a record names, for the message of a run refused the folder:
-- "its script's process 12 (ended) and its worker processes 14 and 15
-- (running)", and the ids of those running; nil when there is no record
-- (an older neuromass's run, or one between its lock and its record) or
-- none of its processes runs (a killed run's: array tasks hold the folder).
local function holders(dir)
  local f = io.open(dir .. HOLDERS, "r")
  if not f then return nil end
  local script, workers, running = nil, {}, {}
  for line in f:lines() do
    local pid = math.tointeger(tonumber(line:match("^script (%d+)$")))
    local wpid = math.tointeger(tonumber(line:match("^worker %d+ (%d+)$")))
    if pid then script = pid elseif wpid then workers[#workers + 1] = wpid end
  end
  f:close()
  if not script then return nil end
  local any = core.alive(script)
  for _, pid in ipairs(workers) do any = any or core.alive(pid) end
  if not any then return nil end      -- (a killed run's record: not who holds the folder now)
  local function state(pids)
    local alive = 0
    for _, pid in ipairs(pids) do
      if core.alive(pid) then alive = alive + 1; running[#running + 1] = string.format("%d", pid) end
    end
    return alive == #pids and "running" or alive == 0 and "ended" or string.format("%d of them running", alive)
  end
  local text = string.format("its script's process %d (%s)", script, state { script })
  if #workers > 0 then
    local ids = {}
    for k, pid in ipairs(workers) do ids[k] = string.format("%d", pid) end
    text = string.format("%s and its worker process%s %s (%s)", text, #ids == 1 and "" or "es",
                         #ids == 1 and ids[1] or table.concat(ids, ", ", 1, #ids - 1) .. " and " .. ids[#ids],
                         state(workers))
  end
  return text, running
end

-- A lock of the folder (core.lock_dir's) and its record: closed, both go.
local Held = {}
Held.__index = Held
function Held.release(self)
  if self.lock then
    if self.dir then os.remove(self.dir .. HOLDERS) end
    self.lock:release()
    self.lock = nil
  end
end
Held.__close = Held.release
Held.__gc = Held.release

--- spread.try_lock(dir[, shared]) -> the lock of the folder DIR
-- (core.lock_dir: exclusive, or `shared` as an array task's) | nil on a
-- file system without locks | false, why: another holds it, "another run is
-- exploring 'DIR' (held by ...): wait for it to end[ or stop it (kill
-- PID ...)]", naming its processes from the record of the lock (M.lock's)
-- and whether they run.  The one refusal of spread.lock and of `neuromass
-- explore --merge` (merge.dir), which must not join parts that tasks or
-- workers are still writing.
function M.try_lock(dir, shared)
  local lock = core.lock_dir(dir, shared)
  if lock ~= false then return lock or nil end
  local who, running = holders(dir)
  if not who then        -- (no record of a process still running: array tasks hold it, or an older neuromass)
    return false, string.format("another run is exploring '%s' (its script's process or its workers%s hold the " ..
                                "folder): wait for it to end", dir,
                                shared and "" or ", or the tasks of an array (--task),")
  end
  return false, string.format("another run is exploring '%s' (held by %s): wait for it to end%s", dir, who,
                              #running > 0 and string.format(" or stop it (kill %s)", table.concat(running, " "))
                              or "")
end

--- spread.lock(dir, plan, what) -> the lock of the folder DIR (core.lock_dir),
-- which the script's process holds while its exploration of DIR runs (and
-- its workers with it, the lock inherited), for a plan (M.plan) of kind
-- "single" or "workers", and rank 0 of an MPI job (the one that reads and
-- writes the folder: its error aborts the job); shared for a task of an
-- array (not a worker: the tasks share the folder by slices, and hold it
-- together against a run); nil for the other MPI ranks and on a file system
-- without locks.  A run's holders
-- are recorded in DIR/explore.lock (this process; its workers: M.held_by),
-- removed when the lock is released (lock:release(), or as a to-be-closed
-- value).  Error at the user's line (`what`: "BoxSearch", "Evolution"):
-- another run holds it (two runs exploring one folder at once would clear
-- each other's claims, overwrite each other's parts and compute the same
-- points twice; a task would compute points a run's workers have claimed),
-- naming its processes from the record and whether they run (a killed
-- script's workers hold the folder until their points end).
function M.lock(dir, plan, what)
  local task = plan.kind == "task" and not plan.worker
  local rank0 = plan.kind == "mpi" and plan.task == 0       -- (the one rank that reads and writes the folder)
  if plan.kind ~= "single" and plan.kind ~= "workers" and not task and not rank0 then return nil end
  local lock, busy = M.try_lock(dir, task)
  if lock == false then check.error(string.format("%s: %s, or choose another out", what, busy), 2) end
  if not lock then return nil end
  if task then return setmetatable({ lock = lock }, Held) end    -- (a task's share: recorded by no one)
  local f = io.open(dir .. HOLDERS, "w")   -- (a record that cannot be written: the message names no process)
  if f then f:write(string.format("script %d\n", core.pid())); f:close() end
  return setmetatable({ lock = lock, dir = dir }, Held)
end

--- spread.held_by(dir, task, pid): records worker `task`'s process id `pid`
-- in the record of DIR's lock (M.lock), which it holds with the script's process.
function M.held_by(dir, task, pid)
  local f = io.open(dir .. HOLDERS, "a")
  if f then f:write(string.format("worker %d %d\n", task, pid)); f:close() end
end

--- spread.part(dir, task, ntasks[, worker]) -> the path of a task's part,
-- DIR/parts/task-I-of-N.csv, or of a worker's of --workers (`worker` true),
-- DIR/parts/worker-I-of-N.csv: a worker's part holds the points it claimed,
-- not a slice, so that a task of an array run later in the folder (after
-- the script's process was killed) neither writes over it nor is taken for
-- it by a merge (merge.lua).
function M.part(dir, task, ntasks, worker)
  return string.format("%s/parts/%s-%d-of-%d.csv", dir, worker and "worker" or "task", task, ntasks)
end

--- spread.part_of(name) -> "task" | "worker", I, N for the file name (or
-- path) of a part M.part writes, nil for any other.
function M.part_of(name)
  local kind, i, n = name:match("([^/]*)$"):match("^(%a+)%-(%d+)%-of%-(%d+)%.csv$")
  if kind == "task" or kind == "worker" then
    return kind, math.tointeger(tonumber(i)), math.tointeger(tonumber(n))
  end
end

return M
