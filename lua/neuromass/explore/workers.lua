--- Worker processes on one machine (--workers N): the same executable runs
-- the same script again N times, each as task I of N of the exploration
-- (spread.lua: the environment variable spread.WORKER_ENV names which one),
-- started together by one shell and waited for.  A worker writes its part
-- (parts/worker-I-of-N.csv) and, after each point, one line on its standard
-- output, read here for the progress line, and one line for each one-time
-- warning (run/warnings.lua), which the parent writes once for all workers,
-- and one for each run's counted warning, which the parent sums;
-- the script's other output of a worker is dropped (the parent's own shows).  Their error messages reach
-- stderr as they are.  They run in a session of their own, to which a stop
-- signal of the script's process is passed on, as SIGTERM (core.forward_stop_signals);
-- the shell that started them reaps them then too, killing those that are
-- not gone after M.GRACE s, before the script's process goes on.
local spread = require "neuromass.explore.spread"
local warnings = require "neuromass.run.warnings"
local core = require "neuromass.core"

local io, string, table, tonumber, tostring, math, pcall, error, pairs =
      io, string, table, tonumber, tostring, math, pcall, error, pairs

local M = {}

--- The line a worker writes after point i (status: "ok" or "failed: ...").
M.MARK = "\1neuromass-explore\t"
function M.report(i, status)
  io.stdout:write(M.MARK, string.format("%d", i), "\t", status:gsub("\n", " "), "\n")
  io.stdout:flush()
end

--- The line a worker writes when a piece of its work (an Evolution's
-- restart) ends before its budget: `skipped` points will not run, and why
-- (the parent's progress line, progress.reporter's stopped).
function M.report_stop(skipped, why)
  io.stdout:write(M.MARK, "stop\t", string.format("%d", skipped), "\t", (why:gsub("[\t\n]", " ")), "\n")
  io.stdout:flush()
end

--- The line a worker writes for a one-time warning of kind `key` (the
-- `pass` of warnings.exploration in a worker).
function M.report_warning(key, text)
  io.stdout:write(M.MARK, "warning\t", key:gsub("[\t\n]", " "), "\t", text:gsub("\n", " "), "\n")
  io.stdout:flush()
end

--- The line a worker writes for a counted warning of one run (the
-- `pass_tally` of warnings.exploration in a worker): its kind, then each
-- name and its count ({ NAME = count }).
function M.report_tally(kind, counts)
  local fields = { M.MARK .. "tally", (kind:gsub("[\t\n]", " ")) }
  for name, count in pairs(counts) do
    fields[#fields + 1] = (name:gsub("[\t\n]", " "))
    fields[#fields + 1] = string.format("%d", count)
  end
  io.stdout:write(table.concat(fields, "\t"), "\n")
  io.stdout:flush()
end

--- What ended worker `task` with shell exit status `code` (> 128: the
-- signal code - 128, as the shell reports it; the worker, stopped, says nothing).
function M.exit_text(task, code)
  if code > 128 then return string.format("worker %s: stopped by signal %d", task, code - 128) end
  return string.format("worker %s: exit status %d", task, code)
end

--- How long (in seconds) the workers may take to end after a stop signal
-- before they are killed (SIGKILL): the script's process waits at most so
-- long for them.
M.GRACE = 5

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- workers.run(h, ordinal, plan, jobs, on_point[, on_start]) -> true | nil, message:
-- runs exploration `ordinal` of the script as min(plan.n, jobs) worker
-- processes (plan: spread.plan's, kind "workers", n the --workers asked;
-- jobs: how many pieces of work there are to share, so that no worker is
-- left without one; the host context `h`: its executable and command
-- line), calling on_start(task, pid) as worker `task` starts as process
-- `pid` (the holders of the folder's lock: spread.held_by) and on_point(i,
-- status) as each worker finishes point i; fails when a worker failed.
function M.run(h, ordinal, plan, jobs, on_point, on_start, on_stop)
  local n = math.min(plan.n, jobs)
  local args = {}
  -- (h.argv: the command line as the executable read it, less the options that spread it)
  for i = 2, #h.argv do args[#args + 1] = quote(h.argv[i]) end
  local rest = table.concat(args, " ")
  local sh = {}
  for task = 0, n - 1 do
    -- (a shell starts a background command with SIGINT and SIGQUIT ignored:
    -- env gives them back, so that Ctrl-C stops the workers as it stops the script)
    sh[#sh + 1] = string.format("%s=%d env --default-signal=INT,QUIT %s run --task %d --ntasks %d --quiet %s " ..
                                "</dev/null & p%d=$!; echo '%spid	%d	'$!", spread.WORKER_ENV, ordinal, quote(h.exe),
                                task, n, rest, task, M.MARK, task)
  end
  sh[#sh + 1] = "s=0; t=0"
  -- Waits for worker $2 (process $1), so that this shell reaps it, and
  -- says its exit status when not 0.  A stop signal this shell traps (the
  -- one its group is sent: first line) interrupts `wait`: the worker, sent
  -- the same signal, is then waited for polling (each sleep lets the shell
  -- reap its ended children), and killed (SIGKILL) when the workers are not
  -- all gone GRACE s after the stop (t counts the polls of all of them).
  sh[#sh + 1] = string.format("w() { c=0; [ -n \"$stop\" ] || { wait $1; c=$?; }; if [ -n \"$stop\" ]; then " ..
                              "while kill -0 $1 2>/dev/null; do t=$((t + 1)); " ..
                              "[ $t -lt %d ] || kill -KILL $1 2>/dev/null; sleep 0.1; done; wait $1; c=$?; fi; " ..
                              "[ $c -eq 0 ] || { s=$((s + 1)); echo '%sexit	'$2'	'$c; }; }",
                              math.max(1, math.floor(M.GRACE * 10 + 0.5)), M.MARK)
  for task = 0, n - 1 do sh[#sh + 1] = string.format("w $p%d %d", task, task) end
  sh[#sh + 1] = "exit $s"
  -- The workers run in a session (and process group) of their own, which
  -- the shell names first: a stop signal this process receives is passed on
  -- to that group (core.forward_stop_signals), so that `kill PID` of the
  -- script stops its workers as Ctrl-C does.  (setsid -w: the shell's status.)
  -- The shell traps the stop it is sent with its workers, rather than end
  -- at once: it waits for them (w), so that they are reaped before the
  -- script's process goes on or exits, not left to init as <defunct>
  -- processes.  (A trapped signal is set back to its default in the
  -- workers' subshells.)
  local group = "trap 'stop=1' TERM INT HUP\necho '" .. M.MARK .. "group\t'$$\n" .. table.concat(sh, "\n")
  -- Engine threads may be alive here: a JIT compile job still building a
  -- model's code in the background (jit_job.c, never joined before this),
  -- a BOLD run's writer (sink_async.c, idle on its condition variable once
  -- the run has waited for it, until the run's userdata is collected), the
  -- OpenMP pool.  Starting the workers cannot deadlock on a lock one of them
  -- holds (stdio, malloc, the loader's): io.popen's child runs nothing of
  -- this process but the exec of /bin/sh (POSIX popen in a threaded process:
  -- only async-signal-safe calls before the exec; glibc's popen is a
  -- posix_spawn, a vfork-like clone that execs at once).  Only a fork without
  -- exec would copy the threads' locks; the library makes none (jit_job.c
  -- resets its own in such a child, for a user's fork).
  local pipe, err = io.popen("exec setsid -w sh -c " .. quote(group), "r")
  if not pipe then return nil, "cannot start the worker processes: " .. tostring(err) end
  -- on_point may raise (a progress callback of the user's): the pipe is
  -- closed (a worker's next line then ends it, SIGPIPE) and the forwarding
  -- undone on that path too, before the error goes on.
  local exits = {}                   -- "worker I: exit status S", of those that failed
  local read, raised = pcall(function()
    for line in pipe:lines() do
      -- (a mark ends its line, and may follow a worker's own text without a line break: io.write)
      local at = line:find(M.MARK, 1, true)
      if at then
        local tail = line:sub(at + #M.MARK)
        local pgid = tail:match("^group\t(%d+)$")
        local i, status = tail:match("^(%d+)\t(.*)$")
        local key, text = tail:match("^warning\t([^\t]*)\t(.*)$")
        local task, status_code = tail:match("^exit\t(%d+)\t(%d+)$")
        local started, pid = tail:match("^pid\t(%d+)\t(%d+)$")
        local kind, counts = tail:match("^tally\t([^\t]*)\t(.*)$")
        local skipped, why = tail:match("^stop\t(%d+)\t(.*)$")
        if skipped then
          if on_stop then on_stop(math.tointeger(tonumber(skipped)), why) end
        elseif task then exits[#exits + 1] = M.exit_text(task, math.tointeger(tonumber(status_code)))
        elseif started then
          if on_start then on_start(math.tointeger(tonumber(started)), math.tointeger(tonumber(pid))) end
        elseif pgid then core.forward_stop_signals(math.tointeger(tonumber(pgid)))
        elseif i then on_point(math.tointeger(tonumber(i)), status)
        elseif key then warnings.once(nil, key, text)        -- (in the exploration's scope: once for all)
        elseif kind then                                      -- (summed there, written as it ends)
          local by_name = {}
          for name, count in counts:gmatch("([^\t]+)\t(%d+)") do by_name[name] = math.tointeger(tonumber(count)) end
          warnings.tally(nil, kind, by_name)
        end
      end
    end
  end)
  local ok, how, code = pipe:close()
  core.forward_stop_signals(nil)
  if not read then error(raised, 0) end
  if not ok and core.stop_signal() then
    return nil, string.format("the worker processes were stopped (signal %d)", core.stop_signal())
  end
  if not ok then
    if how == "exit" then
      return nil, string.format("%d of the %d worker processes failed (%s; their messages, if any, above)", code,
                                n, table.concat(exits, ", "))
    end
    return nil, string.format("the worker processes were stopped (signal %s)", tostring(code))
  end
  return true
end

return M
