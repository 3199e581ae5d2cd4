--- Joining an exploration's tables: DIR/results.csv and the parts its
-- tasks wrote (DIR/parts/task-I-of-N.csv) into DIR/results.csv, rows by
-- point (a computed row wins over a failed one), written whole and renamed;
-- the parts are removed once joined.  Used before and after a run with
-- workers, when a run resumes, and by `neuromass explore --merge DIR`.
local core = require "neuromass.core"
local tbl = require "neuromass.explore.table"

local io, os, ipairs, pairs, table, string, next, tonumber = io, os, ipairs, pairs, table, string, next, tonumber

local M = {}

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

--- merge.parts(dir) -> the paths of the parts under dir/parts, sorted.
function M.parts(dir)
  local out = {}
  local p = io.popen("ls -1 " .. quote(dir .. "/parts") .. " 2>/dev/null")
  if not p then return out end
  for name in p:lines() do
    if name:match("^task%-%d+%-of%-%d+%.csv$") then out[#out + 1] = dir .. "/parts/" .. name end
  end
  p:close()
  table.sort(out)
  return out
end

--- merge.read(dir[, names]) -> names (nil when no file), rows (point -> row), the parts,
-- the files read | nil, message:
-- results.csv and the parts joined (not written).  `names`: the parameters
-- expected (default: those of the first file with rows, else of the first
-- file; a file of no rows, a header alone, is neither joined nor refused).
function M.read(dir, names)
  local rows, files, first = {}, {}, nil
  local all = { dir .. "/results.csv" }
  local parts = M.parts(dir)
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
  return names or first, rows, parts, files
end

--- merge.write(dir, names, rows, parts) -> true | nil, message: results.csv
-- written, then the parts removed.
function M.write(dir, names, rows, parts)
  local ok, err = tbl.write(dir .. "/results.csv", names, rows)
  if not ok then return nil, "cannot write '" .. dir .. "/results.csv': " .. err end
  for _, p in ipairs(parts) do os.remove(p) end
  if #parts > 0 then os.remove(dir .. "/parts") end
  return true
end

--- merge.absent_tasks(parts, rows) -> { { n = N, tasks = { I, ... } }, ... }:
-- for each count N of the parts' names (task-I-of-N.csv), the tasks I of N
-- that wrote no part and have no row in `rows` (point -> row): their slices,
-- the points i with (i - 1) mod N = I, are missing, those after the largest
-- row too (which no table names).  A task with no point writes its part
-- (a header), so a task absent here has not run.
function M.absent_tasks(parts, rows)
  local wrote, counts = {}, {}
  for _, p in ipairs(parts) do
    local i, n = p:match("task%-(%d+)%-of%-(%d+)%.csv$")
    i, n = tonumber(i), tonumber(n)
    if not wrote[n] then wrote[n] = {}; counts[#counts + 1] = n end
    wrote[n][i] = true
  end
  table.sort(counts)
  local out = {}
  for _, n in ipairs(counts) do
    local has = {}
    for i in pairs(rows) do has[(i - 1) % n] = true end
    local absent = {}
    for task = 0, n - 1 do
      if not wrote[n][task] and not has[task] then absent[#absent + 1] = task end
    end
    if #absent > 0 then out[#out + 1] = { n = n, tasks = absent } end
  end
  return out
end

--- merge.dir(dir) -> the number of rows, of parts joined, the points
-- missing below the largest (a sorted list: tasks that wrote no part yet),
-- the tasks that wrote no part (merge.absent_tasks) | nil, message.
function M.dir(dir)
  if not core.path_info(dir).is_dir then return nil, string.format("'%s' is not a directory", dir) end
  local names, rows, parts, files = M.read(dir)
  if not files then return nil, rows end
  if #files == 0 then return nil, string.format("'%s' holds no results.csv and no parts/task-I-of-N.csv", dir) end
  local absent = M.absent_tasks(parts, rows)
  local ok, err = M.write(dir, names, rows, parts)
  if not ok then return nil, err end
  local n, last, missing = 0, 0, {}
  for i in pairs(rows) do n = n + 1; if i > last then last = i end end
  for i = 1, last do if not rows[i] then missing[#missing + 1] = i end end
  return n, #parts, missing, absent
end

return M
