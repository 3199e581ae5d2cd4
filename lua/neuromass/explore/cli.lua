--- `neuromass explore --merge DIR`: joins the parts an exploration's tasks
-- wrote (a Slurm array, --task I --ntasks N: DIR/parts/task-I-of-N.csv)
-- into DIR/results.csv (merge.lua); returns the lines to print: the rows,
-- the .csv files under parts/ skipped (not parts).  Points missing (tasks
-- that have not run or stopped): the rows go to DIR/results.partial.csv
-- instead, and the report, naming the missing points and tasks, is raised
-- as an error (exit status 1).
local merge = require "neuromass.explore.merge"
local check = require "neuromass._check"
local usage = check.usage

local error, string, table, math, ipairs = error, string, table, math, ipairs

-- The missing points a merge names at most.
local MAX_SHOWN = 10

local M = {}

--- cli.run(args) -> lines: args = { "--merge", DIR[, "--quiet"] }.
function M.run(args)
  local got, words = check.read_options(args, { ["--merge"] = "merge" })
  if words[1] then usage(string.format("unknown argument '%s' (usage: neuromass explore --merge DIR)", words[1])) end
  local dir = got.merge
  if not dir then usage("nothing to do: give --merge DIR") end
  local m, err = merge.dir(dir)
  if not m then error(err, 0) end
  local complete = #m.missing == 0 and #m.absent == 0
  local lines = { string.format("%s: %d row%s (%d part%s joined)%s", m.path:gsub("//+", "/"), m.rows,
                                m.rows == 1 and "" or "s", m.parts, m.parts == 1 and "" or "s", complete and "" or
                                "; incomplete: results.csv not written, the parts kept") }
  for _, path in ipairs(m.skipped) do
    lines[#lines + 1] = string.format("warning: skipped %s: not a task's part (parts/task-I-of-N.csv)", path)
  end
  if m.unchecked then
    lines[#lines + 1] = string.format("warning: %s/parts holds no points.txt nor restarts.txt (parts of an older " ..
                                      "neuromass): the points after point %d, if any, and the rows' seeds are not " ..
                                      "checked; the script's next run checks every row and computes what is missing",
                                      dir:gsub("/+$", ""), m.unchecked)
  end
  local missing = m.missing
  if #missing > 0 then
    local shown = table.concat(missing, ", ", 1, math.min(#missing, MAX_SHOWN))
    lines[#lines + 1] = string.format("missing: point%s %s%s (%s)", #missing == 1 and "" or "s", shown,
                                      #missing > MAX_SHOWN and string.format(" and %d more", #missing - MAX_SHOWN)
                                      or "", m.workers and "left by the worker processes of a run that was " ..
                                      "stopped: run the script again" or "their tasks wrote no part yet, or " ..
                                      "stopped: run them, or the script, then merge again")
  end
  for _, a in ipairs(m.absent) do
    local tasks = a.tasks
    lines[#lines + 1] = #tasks == 1 and
      string.format("no part from task %d of %d (--task %d --ntasks %d): its points are missing", tasks[1], a.n,
                    tasks[1], a.n) or
      string.format("no part from tasks %s of %d: their points are missing",
                    table.concat(tasks, ", ", 1, math.min(#tasks, MAX_SHOWN)) ..
                    (#tasks > MAX_SHOWN and string.format(" and %d more", #tasks - MAX_SHOWN) or ""), a.n)
  end
  -- An incomplete merge is a failure (exit status 1), so that a pipeline chained on it stops.
  if not complete then error(table.concat(lines, "\n"), 0) end
  return lines
end

return M
