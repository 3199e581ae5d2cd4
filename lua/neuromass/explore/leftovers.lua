--- The temporary files that processes killed outright (kill -9, the
-- out-of-memory killer, a node lost) leave in an exploration's folder:
-- every writer writes "<name>.tmp-<pid>.<host>" (core.temp_name) and renames
-- it when complete, so a process that cannot tidy up leaves that name for
-- good.  The next exploration of the folder removes those whose process it
-- can tell is gone (M.clear).
local core = require "neuromass.core"
local spread = require "neuromass.explore.spread"
local mpi = require "neuromass.explore.mpi"

local ipairs, math, tonumber, os, string = ipairs, math, tonumber, os, string

local M = {}

--- The name of the file that proves an exploration's folder writable
-- before it computes (common.folder): written as
-- "write-test.tmp-<pid>.<host>" (core.write_temp) and removed at once, so
-- that what a process killed meanwhile leaves is a temporary name of its
-- own, not one beside results.csv, which M.clear removes as any other.
M.PROBE = "write-test"

-- The process id and machine of a temporary name ("x.tmp-12.node7"; an
-- older neuromass's "x.tmp-12" has no machine), or nil for any other name.
local function temp_of(name)
  local pid, host = name:match("%.tmp%-(%d+)%.([%w%._%-]+)$")
  if not pid then pid = name:match("%.tmp%-(%d+)$") end
  return math.tointeger(tonumber(pid)), host
end

-- Removes the temporary files of folder `path` (none when it does not
-- exist) of processes that are gone: every one when `all`, else those of
-- this machine (`host`) whose process no longer runs.  This process's own
-- are kept.
local function clear_in(path, all, host)
  local me = core.pid()
  for _, name in ipairs(core.list_dir(path) or {}) do
    local pid, of = temp_of(name)
    if pid and not (pid == me and of == host)
       and (all or (of == host and not core.alive(pid))) then
      os.remove(path .. "/" .. name)
    end
  end
end

-- M.clear's removals, for one process (below).
local function remove(dir, plan, lock, points)
  local rank = plan.kind == "mpi" and plan.task ~= 0
  local task = (plan.kind == "task" and not plan.worker) or rank
  local alone = plan.kind == "single" or plan.kind == "workers" or (plan.kind == "mpi" and plan.task == 0)
  if not (task or alone) then return end
  local host = core.temp_name("x"):match("^x%.tmp%-%d+%.(.+)$")
  clear_in(dir, alone and lock ~= nil, host)
  clear_in(dir .. "/parts", alone and lock ~= nil, host)
  if points and #points > 0 and core.path_info(dir .. "/points").is_dir then
    for _, i in ipairs(points) do
      if not rank or spread.mine(i, plan.task, plan.ntasks) then
        clear_in(string.format("%s/points/%d", dir, i), true, host)
      end
    end
  end
end

--- leftovers.clear(dir, plan, lock[, points]): removes the temporary files
-- killed processes left in the exploration's folder DIR, for a process of
-- `plan` (spread.plan) that took DIR's lock `lock` (spread.lock's; nil on a
-- file system without locks): held alone (a run's script's process, rank 0
-- of an MPI job), it proves every earlier writer gone, so all of DIR's and
-- DIR/parts' are removed; shared by an array's tasks, which may be writing
-- theirs now on other machines (or no lock), only those of this machine
-- whose process no longer runs.  In DIR/points/<i> (BoxSearch's save) of
-- each point i of `points` (the missing points it is about to compute,
-- which no other live process computes: a task's slice, or all before the
-- workers start), every one is removed.  An MPI rank other than 0 removes,
-- as a task does, those of its machine whose process has ended, and every
-- one in the folders of the points of `points` in its slice: its folder may
-- be on a disk of its own machine (node-local), which rank 0 never sees.  A
-- worker removes none.  Under MPI every rank calls it (collective): the
-- ranks meet before rank 0 clears, so that what another rank of the job is
-- writing then (its write test, exploration.txt) is complete, not taken for
-- a leftover; and again after, so that no rank writes a point's files
-- before the folder is cleared.
function M.clear(dir, plan, lock, points)
  local ranks = plan.kind == "mpi"
  if ranks then mpi.barrier() end
  remove(dir, plan, lock, points)
  if ranks then mpi.barrier() end
end

return M
