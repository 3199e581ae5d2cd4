--- `neuromass explore --merge DIR`: joins the parts an exploration's tasks
-- wrote (a Slurm array, --task I --ntasks N) into DIR/results.csv
-- (merge.lua); returns the lines to print.
local merge = require "neuromass.explore.merge"

local error, string = error, string

local M = {}

--- cli.run(args) -> lines: args = { "--merge", DIR[, "--quiet"] }.
function M.run(args)
  local dir
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--merge" then
      if not args[i + 1] then error("--merge needs a directory", 0) end
      if dir then error("--merge is given twice", 0) end
      dir = args[i + 1]
      i = i + 2
    elseif a == "--quiet" then i = i + 1
    else error(string.format("unknown argument '%s' (usage: neuromass explore --merge DIR)", a), 0) end
  end
  if not dir then error("nothing to do: give --merge DIR", 0) end
  local rows, parts = merge.dir(dir)
  if not rows then error(parts, 0) end
  return { string.format("%s/results.csv: %d rows (%d parts joined)", dir:gsub("/+$", ""), rows, parts) }
end

return M
