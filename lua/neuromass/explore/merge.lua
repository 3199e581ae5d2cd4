--- Joining an exploration's tables: DIR/results.csv (a whole exploration's
-- table), DIR/results.partial.csv (the rows of one not finished: stopped,
-- failed, or still running) and the parts its tasks wrote
-- (DIR/parts/task-I-of-N.csv: slice I of N) or its worker processes
-- (DIR/parts/worker-I-of-N.csv: the points each claimed; any other file
-- there is not a part) into one table, rows by point (a computed row wins
-- over a failed one), written whole and renamed under the name that says
-- whether it is whole (M.table: this file owns that rule); the parts are
-- removed once joined.  Used before and after a run with workers, when a run
-- resumes, and by `neuromass explore --merge DIR`, which writes an incomplete
-- join as DIR/results.partial.csv and keeps the parts, judging each
-- part by the layout it was written with: a task's part stands for its slice,
-- a worker's for the rows it holds and the restarts its claims mark finished.
local core = require "neuromass.core"
local tbl = require "neuromass.explore.table"
local spread = require "neuromass.explore.spread"
local leftovers = require "neuromass.explore.leftovers"
local nouns = require("neuromass._check").nouns

local io, os, ipairs, pairs, table, string, next, math =
      io, os, ipairs, pairs, table, string, next, math

local M = {}

--- The table of a finished exploration (every point of a BoxSearch's space
-- has its row, computed or failed; an Evolution's fit ran to its end), and
-- that of one not finished: the rows done so far, under a name that says so.
-- A folder holds one of the two (M.write, M.promote).
M.RESULTS = "results.csv"
M.PARTIAL = "results.partial.csv"

--- merge.table(dir, whole) -> the path of the exploration's table in dir:
-- DIR/results.csv when `whole` (the exploration is finished), else
-- DIR/results.partial.csv.
function M.table(dir, whole)
  return dir .. "/" .. (whole and M.RESULTS or M.PARTIAL)
end

--- merge.whole(rows, n) -> true when every point 1..n has a row in `rows`
-- (point -> row): a BoxSearch of n points is then finished.
function M.whole(rows, n)
  for i = 1, n do if not rows[i] then return false end end
  return true
end

--- merge.wrote(dir, whole): after the table M.table(dir, whole) is written,
-- the other name removed (a whole table replaces the rows done before it; a
-- table of the rows done so far, results.csv of an older neuromass that was
-- not whole).
function M.wrote(dir, whole)
  os.remove(M.table(dir, not whole))
end

--- merge.promote(dir) -> true | nil, message: an exploration that finished
-- with its rows in DIR/results.partial.csv (written as it ran) renames it
-- DIR/results.csv; nothing to do when there is no such table.
function M.promote(dir)
  local from = M.table(dir, false)
  if not core.path_info(from).exists then return true end
  local ok, err = os.rename(from, M.table(dir, true))
  if not ok then return nil, string.format("cannot rename '%s' to %s: %s", from, M.RESULTS, err) end
  return true
end

--- The count of the exploration's points, written beside the parts by its
-- tasks (BoxSearch's), so that a merge knows every point, those after the
-- largest row too, and which tasks have none.
local POINTS = "/parts/points.txt"

--- An Evolution's layout, written beside the parts by its tasks: its
-- evaluations E, restarts R, run seed and MARKS = 1 ("E R seed 1"), so that
-- a merge knows each restart's block of rows (restart r: from (r - 1) *
-- ceil(E / R) + 1, the last to E) and the task of N that runs it ((r - 1)
-- mod N).  A restart may stop before its budget (NLopt's stopping
-- criteria): its block then has rows at its start alone, and the rest is no
-- missing point; so its task marks it finished (spread.finished) once its
-- rows are saved, and a restart not marked is not: its task was stopped or
-- killed midway.  (MARKS absent: a file of an older neuromass, whose tasks
-- marked nothing: a task's part stood for all its restarts.)
local RESTARTS = "/parts/restarts.txt"


--- merge.parts(dir) -> the paths of the parts under dir/parts (task-I-of-N.csv and
-- worker-I-of-N.csv: spread.part), sorted; the other .csv files there (not parts: never read),
-- sorted | nil, message when dir/parts cannot be listed (no folder: no parts).
function M.parts(dir)
  local out, other = {}, {}
  local names, err = core.list_dir(dir .. "/parts")
  if not names then return nil, string.format("cannot list '%s/parts': %s", dir, err.message) end
  for _, name in ipairs(names) do
    if spread.part_of(name) then
      out[#out + 1] = dir .. "/parts/" .. name
    elseif name:match("%.csv$") then other[#other + 1] = dir .. "/parts/" .. name end
  end
  table.sort(out)
  table.sort(other)
  return out, other
end

--- merge.read(dir[, names]) -> names (nil when no file), rows (point -> row), the parts,
-- the files read, the .csv files under parts/ that are not parts (merge.parts) | nil, message:
-- results.csv, results.partial.csv and the parts joined (not written).  `names`: the parameters
-- expected (default: those of the first file with rows, else of the first
-- file; a file of no rows, a header alone, is neither joined nor refused).
function M.read(dir, names)
  local rows, files, first = {}, {}, nil
  local all = { M.table(dir, true), M.table(dir, false) }
  local parts, skipped = M.parts(dir)
  if not parts then return nil, skipped end
  for _, p in ipairs(parts) do all[#all + 1] = p end
  for _, path in ipairs(all) do
    local t, err = tbl.read(path)
    if err then return nil, err end
    if t then
      first = first or t.names
      -- A table of no rows (a header: a run stopped by a mistake of the
      -- script before its first point) holds nothing to join or to refuse.
      if next(t.rows) ~= nil then
        names = names or t.names
        local bad = tbl.join(rows, names, t, "'" .. path .. "'")
        if bad then return nil, bad end
      end
      files[#files + 1] = path
    end
  end
  return names or first, rows, parts, files, skipped
end

--- merge.not_folder(dir) -> nil when dir is a directory, else the message
-- that says what it is instead ("'DIR' is not a directory (a file)", "(it
-- does not exist)"): the one check of `explore --merge` and nm.explore.load.
function M.not_folder(dir)
  local info = core.path_info(dir)
  if info.is_dir then return nil end
  return string.format("'%s' is not a directory (%s)", dir,
                       info.exists and "a " .. (info.kind or "file") or "it does not exist")
end

--- merge.write(dir, names, rows, parts, whole) -> true | nil, message: the table
-- M.table(dir, whole) written (results.csv when the exploration is finished,
-- else results.partial.csv), then the other name, and the parts, removed.
function M.write(dir, names, rows, parts, whole)
  local path = M.table(dir, whole)
  local ok, err = tbl.write(path, names, rows)
  if not ok then return nil, "cannot write '" .. path .. "': " .. err end
  M.wrote(dir, whole)
  for _, p in ipairs(parts) do os.remove(p) end
  if #parts > 0 then M.clear_layout(dir) end
  return true
end

--- merge.clear_layout(dir): removes what the tasks and workers write beside
-- their parts (the claims, points.txt, restarts.txt) and DIR/parts when
-- that leaves it empty: once the parts are joined, or by a run that holds
-- the folder (spread.lock) and finds what a killed run's workers left
-- without a part.
function M.clear_layout(dir)
  spread.clear_claims(dir)
  os.remove(dir .. POINTS); os.remove(dir .. RESTARTS); os.remove(dir .. "/parts")
end

-- The tasks' parts by their names (task-I-of-N.csv; a worker's part,
-- worker-I-of-N.csv, is no slice): wrote[N][I] = true, and the counts N, sorted.
local function by_count(parts)
  local wrote, counts = {}, {}
  for _, p in ipairs(parts) do
    local kind, i, n = spread.part_of(p)
    if kind == "task" then
      if not wrote[n] then wrote[n] = {}; counts[#counts + 1] = n end
      wrote[n][i] = true
    end
  end
  table.sort(counts)
  return wrote, counts
end

-- Writes `text` to DIR .. file (whole and renamed): true | nil, message.
local function write_beside(dir, file, text)
  local pending, failure = core.write_temp(dir .. file, text)
  if pending then pending, failure = pending:commit() end
  if not pending then
    return nil, string.format("cannot write '%s%s': %s", dir, file, failure.message)
  end
  return true
end

--- merge.write_points(dir, n, base) -> true | nil, message: DIR/parts/points.txt = "n base", the
-- count of points and the base seed (every task writes the same, whole and renamed).
function M.write_points(dir, n, base)
  return write_beside(dir, POINTS, string.format("%d %d\n", n, base))
end

--- merge.write_restarts(dir, evaluations, restarts, seed) -> true | nil, message: an Evolution's
-- layout, DIR/parts/restarts.txt = "E R seed 1" (every task writes the same, whole and renamed;
-- 1: its tasks mark the restarts they finish, RESTARTS above).
function M.write_restarts(dir, evaluations, restarts, seed)
  return write_beside(dir, RESTARTS, string.format("%d %d %d 1\n", evaluations, restarts, seed))
end

-- The whole numbers of the file DIR .. file (up to `count`), or nil when there is none.
local function read_beside(dir, file, count)
  local f = io.open(dir .. file, "r")
  if not f then return nil end
  local out = {}
  for k = 1, count do out[k] = math.tointeger(f:read("n")) end
  f:close()
  return table.unpack(out, 1, count)
end

--- merge.restarts(dir) -> E, R, seed, marks: the evaluations, restarts and the run's seed (nil in
-- a file written before it held one) of DIR/parts/restarts.txt, and whether its tasks mark the
-- restarts they finish (true; nil in a file written before they did), or nil (none: a
-- BoxSearch's parts, or an Evolution's written before the file was).
function M.restarts(dir)
  local e, r, seed, marks = read_beside(dir, RESTARTS, 4)
  if not (e and r and r >= 1 and e >= r) then return nil end
  return e, r, seed, marks == 1 or nil
end

--- merge.missing_restarts(parts, rows, E, R[, claims[, marks]]) -> missing,
-- absent: an Evolution's restarts (E evaluations, R restarts) that no part
-- holds: a restart is run when its claim is marked finished (`claims`:
-- spread.claims; the workers of --workers, the tasks of an array and the
-- ranks of mpirun mark each restart they finish, spread.finished), or, when
-- the tasks marked none (`marks` nil: a layout of an older neuromass), when
-- a task's part says so by its name (task-I-of-N.csv runs the restarts r
-- with (r - 1) mod N = I; a task that wrote its part then ran them all,
-- however early they stopped).
-- `missing`: the points of the other restarts' blocks without a row in
-- `rows`, sorted; `absent`: the tasks of each N that wrote no part and run
-- one of them, as merge.absent_tasks gives them (none when no task wrote; a
-- task whose part lacks a mark stopped midway: its restarts are missing).
function M.missing_restarts(parts, rows, E, R, claims, marks)
  local wrote, counts = by_count(parts)
  local share, lost = (E + R - 1) // R, {}
  local missing = {}
  for r = 1, R do
    local ran = claims ~= nil and claims[r] == "done"
    for _, n in ipairs(counts) do ran = ran or (not marks and wrote[n][(r - 1) % n] == true) end
    if not ran then
      lost[#lost + 1] = r
      for i = (r - 1) * share + 1, r == R and E or r * share do
        if not rows[i] then missing[#missing + 1] = i end
      end
    end
  end
  local absent = {}
  for _, n in ipairs(counts) do
    local tasks, seen = {}, {}
    for _, r in ipairs(lost) do
      local task = (r - 1) % n
      if not seen[task] and not wrote[n][task] then seen[task] = true; tasks[#tasks + 1] = task end
    end
    table.sort(tasks)
    if #tasks > 0 then absent[#absent + 1] = { n = n, tasks = tasks } end
  end
  return missing, absent
end

--- merge.points(dir) -> n, base: the count of points and the base seed (nil in a file written
-- before it held one) DIR/parts/points.txt holds, or nil (none: an Evolution's parts, whose
-- restarts may stop before their budget).
function M.points(dir)
  return read_beside(dir, POINTS, 2)
end

-- The first row of `rows` (by point) whose seed is not that of the tasks
-- that wrote the layout file `file`: their base seed `base`, a point's
-- seed nm.explore.seed(base, i) (BoxSearch), or `base` at every row
-- (Evolution: `each` true): a message naming the file it came from, or nil.
local function foreign_seed(rows, base, each, file)
  local seed_of = require("neuromass.explore.search").seed    -- (search.lua requires this file)
  local points = {}
  for i in pairs(rows) do points[#points + 1] = i end
  table.sort(points)
  for _, i in ipairs(points) do
    local want = string.format("%d", each and base or seed_of(base, i))
    if rows[i].seed ~= want then
      local whose = each and string.format("the run seed of the tasks (parts/%s)", file) or
                    string.format("the seed of point %d for the base seed %d of the tasks (parts/%s)", i, base, file)
      return string.format("%s holds seed %s at point %d, not %s, %s: it is another exploration's; nothing joined",
                           rows[i].from or "a file", rows[i].seed, i, want, whose)
    end
  end
end

-- The message for DIR .. file (a layout file the tasks write) when it is there but does not
-- read as `what` (it was edited: the tasks write it whole), or nil.
local function unread(dir, file, what)
  local f = io.open(dir .. file, "r")
  if not f then return nil end
  local text = f:read("a") or ""
  f:close()
  return string.format("'%s%s' does not read as %s ('%s'): it was edited (mend or remove it)", dir, file, what,
                       (text:gsub("%s+$", "")))
end

-- The message for the first row of `rows` (by point) past `total`, the
-- count of NOUNs (points, an Evolution's evaluations) the tasks wrote in
-- parts/FILE, or nil.
local function past_count(rows, total, noun, file)
  local past
  for i in pairs(rows) do if i > total and (not past or i < past) then past = i end end
  if not past then return nil end
  return string.format("%s holds point %d, past the %s of the tasks (parts/%s): it is another " ..
                       "exploration's; nothing joined", rows[past].from or "a file", past, nouns(total, noun), file)
end

--- merge.absent_tasks(parts, rows[, total]) -> { { n = N, tasks = { I, ... } }, ... }:
-- for each count N of the parts' names (task-I-of-N.csv), the tasks I of N
-- that wrote no part and have points: with the `total` count of points
-- (BoxSearch's tasks write it), those whose slice, the points i <= total
-- with (i - 1) mod N = I, has a point without a row in `rows`; without it
-- (an Evolution's tasks, whose restarts are sliced so, not the points), every
-- task without a part.  A task with no point (its first point, I + 1, past
-- `total`, or past what a part of no rows shows: that task's first point
-- does not exist) is not named.  Every task writes its part, a header when
-- it has no point, and an incomplete merge keeps the parts: a task absent
-- here has not run.
function M.absent_tasks(parts, rows, total)
  local wrote, counts = by_count(parts)
  local out = {}
  for _, n in ipairs(counts) do
    local has = {}
    for i in pairs(rows) do has[(i - 1) % n] = true end
    local last = total or math.huge     -- the points are at most `last`
    for task in pairs(wrote[n]) do
      if not has[task] and task < last then last = task end   -- an empty part: no point task + 1
    end
    local absent = {}
    for task = 0, n - 1 do
      local lacks = not total
      for i = task + 1, total or 0, n do lacks = lacks or not rows[i] end
      if not wrote[n][task] and task + 1 <= last and lacks then absent[#absent + 1] = task end
    end
    if #absent > 0 then out[#out + 1] = { n = n, tasks = absent } end
  end
  return out
end

-- merge.dir's work, under the folder's lock.
local function join(dir)
  local names, rows, parts, files, skipped = M.read(dir)
  if not files then return nil, rows end
  if #files == 0 then
    return nil, string.format("'%s' holds no results.csv and no parts/task-I-of-N.csv", dir)
  end
  local total, base = M.points(dir)
  local E, R, seed, marks = M.restarts(dir)
  local edited = (not total and unread(dir, POINTS, "the count of points and the base seed"))
                 or (not E and unread(dir, RESTARTS, "the evaluations, restarts and run seed of a fit"))
  if edited then return nil, edited end
  local foreign = (total and base and foreign_seed(rows, base, false, "points.txt"))
                  or (not total and E and seed and foreign_seed(rows, seed, true, "restarts.txt"))
                  or (total and past_count(rows, total, "point", "points.txt"))
                  or (not total and E and past_count(rows, E, "evaluation", "restarts.txt"))
  if foreign then return nil, foreign end
  local n, last, missing, absent = 0, total or 0, {}
  for i in pairs(rows) do n = n + 1; if not total and i > last then last = i end end
  local claims = spread.claims(dir)     -- (a killed --workers run's: the restarts its workers finished)
  if E and not total then
    missing, absent = M.missing_restarts(parts, rows, E, R, claims, marks)
  else
    absent = M.absent_tasks(parts, rows, total)    -- (the tasks' parts alone: a worker's is no slice)
    for i = 1, last do if not rows[i] then missing[#missing + 1] = i end end
  end
  local tasks = next((by_count(parts))) ~= nil    -- (a task wrote a part)
  local path = M.table(dir, true)
  if #missing == 0 and #absent == 0 then
    local ok, err = M.write(dir, names, rows, parts, true)
    if not ok then return nil, err end
  else
    path = M.table(dir, false)
    local ok, err = tbl.write(path, names, rows)
    if not ok then return nil, "cannot write '" .. path .. "': " .. err end
    M.wrote(dir, false)      -- (a results.csv there, an older neuromass's: its rows are in this one)
  end
  -- Parts without points.txt nor restarts.txt (an older neuromass's): the largest row is all
  -- that says how many points there are, and no seed is known to check the rows against.
  local unchecked = #parts > 0 and not total and not E and last or nil
  return { rows = n, parts = #parts, missing = missing, absent = absent, skipped = skipped, path = path,
           unchecked = unchecked, workers = claims ~= nil and not tasks }
end

--- merge.dir(dir) -> { rows = the number of rows, parts = of parts joined, missing = the
-- points missing (a sorted list: of all when the tasks wrote their count, or an Evolution's
-- layout, merge.missing_restarts; else those below the largest), absent = the tasks that wrote
-- no part (merge.absent_tasks, merge.missing_restarts), workers = true when the parts are those
-- of a --workers run whose script's process was killed (spread.claims) and no task wrote one
-- (else the tasks' layout names what to run), skipped = the .csv files
-- under parts/ that are not parts, path = the table written, unchecked = the largest point when
-- the parts came without points.txt or restarts.txt (older ones: nothing after it is known, no
-- seed checked), else nil } | nil, message.  Complete (nothing
-- missing or absent): results.csv written, the parts and a stale results.partial.csv removed
-- (M.write).  Otherwise the rows go to DIR/results.partial.csv (a results.csv there, which an older
-- neuromass wrote for rows done so far, removed: its rows are in it), and the parts stay as they
-- were, so that the script's next run (or task) still reads every row and computes only what is
-- missing.  Refused while a run, its workers or an array's tasks
-- explore DIR (spread.try_lock: they are still writing the parts, and a
-- join then would be partial, or remove a part a task is about to write);
-- holding it, removes what killed processes left (leftovers.clear).
function M.dir(dir)
  local bad = M.not_folder(dir)
  if bad then return nil, bad end
  local lock, busy = spread.try_lock(dir)
  if lock == false then return nil, busy .. ", then merge again" end
  -- (held alone, as a run's script's process holds it: every earlier writer is gone)
  if lock then leftovers.clear(dir, { kind = "single" }, lock) end
  local out, err = join(dir)
  if lock then lock:release() end
  return out, err
end

return M
