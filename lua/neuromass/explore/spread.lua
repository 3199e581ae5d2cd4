--- How an exploration's points are spread over processes: the one seam
-- between an exploration and where it runs.  A process runs its points in
-- one of three ways:
--   single   all the missing points here, one after the other;
--   workers  --workers N (default: one per core, from the host's command
--            line): N worker processes of the same script (workers.lua),
--            each a task of N, whose parts are then joined here;
--   task     --task I --ntasks N, or a Slurm array task (SLURM_ARRAY_TASK_ID
--            - SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT): slice I of N,
--            written as the part DIR/parts/task-I-of-N.csv; the parts are
--            joined by `neuromass explore --merge DIR` (or the next run).
-- Slice I holds the points i with (i - 1) % N == I: fixed by (I, N) alone,
-- so a task computes the same points however the others went.  A point's
-- numbers depend only on its index (its seed: search.lua), never on the
-- process that ran it.  A fourth way, asked first: under mpirun, rank I of
-- N computes slice I and rank 0 writes the table (explore/mpi.lua).
local check = require "neuromass._check"
local mpi = require "neuromass.explore.mpi"

local os, math, string, tonumber = os, math, string, tonumber

local M = {}

--- The environment variable that marks a worker process: the ordinal of
-- the exploration (the K-th search:run of the script) it computes a slice of.
M.WORKER_ENV = "NEUROMASS_EXPLORE_WORKER"

-- A whole number from the environment variable `name`, or nil when unset.
local function env_integer(name)
  local v = os.getenv(name)
  if v == nil or v == "" then return nil end
  local n = math.tointeger(tonumber(v))
  if not n then check.error(string.format("explore: %s must be a whole number, got '%s'", name, v), 2) end
  return n
end

--- spread.plan(h, ordinal) -> { kind = "single" } | { kind = "workers", n }
-- | { kind = "task", task, ntasks, worker (true in a worker process) } |
-- { kind = "load" } (in a worker, an earlier exploration: computes nothing), for
-- the `ordinal`-th exploration of the script under the host context `h`
-- (nil in a plain Lua: single).  Errors at the user's line: --task without
-- --ntasks (or the reverse), a task outside 0..N-1, --workers with --task.
function M.plan(h, ordinal)
  local ranks = mpi.plan()           -- under mpirun: rank I of N (explore/mpi.lua)
  if ranks then
    if h and (h.workers or h.task) then
      check.error("explore: under mpirun the ranks spread the points: give neither --workers nor --task/--ntasks", 2)
    end
    return ranks
  end
  local worker = env_integer(M.WORKER_ENV)
  if worker and h and h.task then
    if ordinal == worker then return { kind = "task", task = h.task, ntasks = h.ntasks, worker = true } end
    return { kind = "load" }         -- an earlier exploration: the parent ran it; its table is read only
  end
  local task, ntasks = h and h.task, h and h.ntasks
  if task == nil and ntasks == nil then
    local id, count = env_integer("SLURM_ARRAY_TASK_ID"), env_integer("SLURM_ARRAY_TASK_COUNT")
    if id and count then task, ntasks = id - (env_integer("SLURM_ARRAY_TASK_MIN") or 0), count end
  end
  if (task == nil) ~= (ntasks == nil) then
    check.error("explore: --task I needs --ntasks N (and --ntasks N needs --task I)", 2)
  end
  if task then
    if task < 0 or task >= ntasks then
      check.error(string.format("explore: task %d is not one of 0 to %d (of --ntasks %d)", task, ntasks - 1, ntasks), 2)
    end
    if h and h.workers then check.error("explore: give --workers or --task/--ntasks, not both", 2) end
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

--- spread.part(dir, task, ntasks) -> the path of a task's part.
function M.part(dir, task, ntasks)
  return string.format("%s/parts/task-%d-of-%d.csv", dir, task, ntasks)
end

return M
