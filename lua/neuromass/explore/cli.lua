--- `neuromass explore --merge DIR`: joins the parts an exploration's tasks
-- wrote (a Slurm array, --task I --ntasks N) into DIR/results.csv
-- (merge.lua); returns the lines to print: the rows, and the points
-- missing below the largest (tasks that have not run).
local merge = require "neuromass.explore.merge"
local usage = require("neuromass._check").usage

local error, string, table, math, ipairs = error, string, table, math, ipairs

-- The missing points a merge names at most.
local MAX_SHOWN = 10

local M = {}

--- cli.run(args) -> lines: args = { "--merge", DIR[, "--quiet"] }.
function M.run(args)
  local dir
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--merge" then
      if not args[i + 1] then usage("--merge needs a directory") end
      if dir then usage("--merge is given twice") end
      dir = args[i + 1]
      i = i + 2
    elseif a == "--quiet" then i = i + 1
    else usage(string.format("unknown argument '%s' (usage: neuromass explore --merge DIR)", a)) end
  end
  if not dir then usage("nothing to do: give --merge DIR") end
  local rows, parts, missing, absent = merge.dir(dir)
  if not rows then error(parts, 0) end
  local lines = { string.format("%s/results.csv: %d rows (%d part%s joined)", dir:gsub("/+$", ""), rows, parts,
                                parts == 1 and "" or "s") }
  if #missing > 0 then
    local shown = table.concat(missing, ", ", 1, math.min(#missing, MAX_SHOWN))
    lines[2] = string.format("missing: point%s %s%s (their tasks wrote no part yet: run them, or the script, " ..
                             "then merge again)", #missing == 1 and "" or "s", shown,
                             #missing > MAX_SHOWN and string.format(" and %d more", #missing - MAX_SHOWN) or "")
  end
  for _, a in ipairs(absent) do
    local tasks = a.tasks
    lines[#lines + 1] = #tasks == 1 and
      string.format("no part from task %d of %d (--task %d --ntasks %d): its points are missing", tasks[1], a.n,
                    tasks[1], a.n) or
      string.format("no part from tasks %s of %d: their points are missing",
                    table.concat(tasks, ", ", 1, math.min(#tasks, MAX_SHOWN)) ..
                    (#tasks > MAX_SHOWN and string.format(" and %d more", #tasks - MAX_SHOWN) or ""), a.n)
  end
  return lines
end

return M
