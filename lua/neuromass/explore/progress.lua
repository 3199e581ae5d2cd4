--- An exploration's progress line on stderr: points done of the total,
-- failures, elapsed time and ETA (once 2 s have passed: M.ETA_AFTER; from the rate of the points done here;
-- with P worker processes, P points run at once: until P are done, the
-- rate counts P, not the few that ended first).  Redrawn in place (\r) on a terminal, else one line per update;
-- updated at most once a second, and once at the end.  progress.reporter:
-- what an exploration shows as its points end (the line, failed points).
local io, os, string, math, setmetatable = io, os, string, math, setmetatable

local M = {}

-- No ETA before this many seconds have passed: os.time counts whole seconds,
-- and a rate measured over less says nothing (1 point done in "0 s" read
-- "ETA 0 s" whatever was left).
M.ETA_AFTER = 2

local Progress = {}
Progress.__index = Progress

-- A duration in s as "1 h 02 min", "3 min 05 s" or "12 s".
local function span(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return string.format("%d h %02d min", s // 3600, s % 3600 // 60) end
  if s >= 60 then return string.format("%d min %02d s", s // 60, s % 60) end
  return string.format("%d s", s)
end

--- progress.new(total, done, tty[, parallel, label]) -> a progress line for
-- `total` points of which `done` were done before (kept from an earlier
-- run); `tty`: redraw in place; `parallel`: how many points run at once
-- (the worker processes; default 1); `label`: what the line says after
-- "explore: " (an MPI rank's "rank 1: ").
function M.new(total, done, tty, parallel, label)
  return setmetatable({ total = total, done = done, before = done, failed = 0, tty = tty, label = label or "",
                        parallel = parallel or 1, start = os.time(), shown = -1 }, Progress)
end

--- progress:step(failed): one more point done (failed: true when it failed).
function Progress:step(failed)
  self.done = self.done + 1
  if failed then self.failed = self.failed + 1 end
  local now = os.time()
  if now ~= self.shown or self.done == self.total then self:show(now) end
end

--- progress:stop(skipped, why): a piece of the work (an Evolution's
-- restart) ended before its budget: its `skipped` points will not run (the
-- total counts them no more), and the line says why from now on ("...;
-- stopped: WHY"; the latest reason).
function Progress:stop(skipped, why)
  self.total = self.total - skipped
  self.why = why
  self:show(os.time())
end

function Progress:show(now)
  self.shown = now
  local elapsed, here = now - self.start, self.done - self.before
  local eta = here > 0 and elapsed >= M.ETA_AFTER and elapsed / math.max(here, self.parallel) * (self.total - self.done)
              or nil
  local line = string.format("explore: %s%d/%d points%s, %s elapsed%s%s", self.label, self.done, self.total,
                             self.failed > 0 and string.format(" (%d failed)", self.failed) or "",
                             span(elapsed), self.done < self.total and eta and (", ETA " .. span(eta)) or "",
                             self.why and "; stopped: " .. self.why or "")
  if self.tty then
    io.stderr:write("\r", line, "\27[K", self.done == self.total and "\n" or "")
  else
    io.stderr:write(line .. "\n")     -- (one write: under mpirun, another rank's lines come between writes)
  end
  io.stderr:flush()
end

--- progress.reporter(h, plan, show, total, done, what[, parallel]) ->
-- report(i, status), stopped(skipped, why): report, to call as each point
-- ends; stopped, as a piece of the work ends early (Progress:stop).  A failed point's line
-- "WHAT I failed: ..." on stderr (not under --quiet), and the progress line
-- of `total` points, `done` of them before, when `show` (true|false; nil: on
-- a terminal without --quiet), `parallel` of them running at once (M.new).
-- h: the host context (context.get()) or nil; plan: spread.plan's (a worker
-- process shows neither: its parent does; an array task or an MPI rank,
-- its slice's: `total` counts those, and a rank's line names it).
function M.reporter(h, plan, show, total, done, what, parallel)
  if show == nil then show = h and h.tty and not h.quiet or false end
  local label = plan.kind == "mpi" and string.format("rank %d: ", plan.task) or nil
  local bar = show and not plan.worker and M.new(total, done, h and h.tty, parallel, label)
  return function(i, status)
    if status ~= "ok" and not (h and h.quiet) and not plan.worker then
      -- (on a terminal, from the start of a cleared line: not after the progress line's text)
      -- (under mpirun, naming the rank: "explore: rank 1: point 6 failed: ...")
      io.stderr:write((bar and bar.tty and "\r\27[K" or "") ..     -- (one write, as the progress line's)
                      string.format("%s %d %s\n", label and what:gsub("^(%w+: )", "%1" .. label) or what, i, status))
    end
    if bar then bar:step(status ~= "ok") end
  end, function(skipped, why)
    if bar then bar:stop(skipped, why) end
  end
end

return M
