--- An exploration's results table, the one owner of its format:
-- results.csv (and each task's part, the same format) has the header
-- point,<parameters in space order>,seed,<metric names sorted>,status and
-- one row per point in point order; numbers in the library's one shortest
-- exact form (check.number), so a row's text never depends on which process
-- computed it; status "ok" or "failed: <message>".  Written whole under a
-- temporary name and renamed (core.write_temp); read back by column name,
-- and rows of several files joined by point.
local core = require "neuromass.core"
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"

local io, ipairs, pairs, string, table, tonumber, math, type, tostring, getmetatable =
      io, ipairs, pairs, string, table, tonumber, math, type, tostring, getmetatable

-- check.number's words for the numbers tonumber does not read.
local WORDS = { nan = check.NAN, inf = math.huge, ["-inf"] = -math.huge }

local M = {}

-- The number a cell's text holds, or nil: "-0" is -0.0 (tonumber reads it
-- as the integer 0, which has no sign), nan and inf as check.number writes them.
local function number_of(v)
  if type(v) ~= "string" then return nil end     -- (a metric one row lacks)
  local x = tonumber(v)
  if x == 0 and math.type(x) == "integer" and v:find("^%s*%-") then return -0.0 end
  return x or WORDS[v]
end

--- table.same(a, b) -> whether the cells a and b (texts of the table's
-- numbers) hold the same double: "0.05", "0.050000000000000003" (17
-- digits, another tool's) and "5e-2" do; "0" and "-0" do not.  The one rule
-- by which a row read back is compared with the space's point, an asked
-- evaluation or another file's row of its point: never as text.
function M.same(a, b)
  if a == b then return true end
  local x, y = number_of(a), number_of(b)
  return x ~= nil and y ~= nil and string.pack("<d", x) == string.pack("<d", y)
end

-- A number's cell read back, in the form the writer gives it (check.number:
-- "0.050000000000000003" is "0.05"), so that a table rewritten with kept
-- rows is in one form whoever wrote them; another text as it is.
local function canonical(v)
  local x = number_of(v)
  return x and check.number(x) or v
end

--- A row: { point = i, params = { text, ... } (space order), seed = text,
-- metrics = { NAME = text }, status = "ok" | "failed: ..." }.
function M.row(i, names, point, seed, metrics, status)
  local params = {}
  for j, name in ipairs(names) do params[j] = check.number(point[name]) end
  local texts = {}
  for k, v in pairs(metrics or {}) do texts[k] = check.number(v) end
  return { point = i, params = params, seed = string.format("%d", seed), metrics = texts, status = status }
end

--- table.failed(err) -> the status "failed: <message>" of a point whose
-- model, run or evaluation raised `err`: a string (or number) as it is, an
-- object by its __tostring, any other value as check.show writes it ({ code
-- = 1 }, not "table: 0x...", an address that would differ from one process
-- to the next).
function M.failed(err)
  local t = type(err)
  local mt = t ~= "string" and t ~= "number" and getmetatable(err)
  if t == "string" or t == "number" or (type(mt) == "table" and mt.__tostring) then
    return "failed: " .. tostring(err)
  end
  return "failed: " .. check.show(err)
end

-- A cell: quoted when it holds ',', '"' or a line break (line breaks become spaces).
local function cell(s)
  s = s:gsub("[\r\n]+", " ")
  if s:find("[,\"]") then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- The cells of one CSV line (quoted cells as cell() writes them).
local function cells(line)
  local out, pos = {}, 1
  while true do
    if line:sub(pos, pos) == '"' then
      local text, stop = {}, pos + 1
      while true do
        local q = line:find('"', stop, true)
        if not q then return nil end
        text[#text + 1] = line:sub(stop, q - 1)
        if line:sub(q + 1, q + 1) == '"' then text[#text + 1] = '"'; stop = q + 2
        else pos = q + 1; break end
      end
      out[#out + 1] = table.concat(text)
    else
      local c = line:find(",", pos, true) or #line + 1
      out[#out + 1] = line:sub(pos, c - 1)
      pos = c
    end
    if pos > #line then return out end
    if line:sub(pos, pos) ~= "," then return nil end
    pos = pos + 1
    if pos > #line then out[#out + 1] = ""; return out end
  end
end

--- The metric names of `rows` (a table point -> row), sorted.
function M.metric_names(rows)
  local seen, names = {}, {}
  for _, r in pairs(rows) do
    for k in pairs(r.metrics) do
      if not seen[k] then seen[k] = true; names[#names + 1] = k end
    end
  end
  table.sort(names)
  return names
end

--- table.text(names, rows) -> the CSV text of `rows` (point -> row), in point order.
function M.text(names, rows)
  local metrics = M.metric_names(rows)
  local header = { "point" }
  for _, n in ipairs(names) do header[#header + 1] = n end
  header[#header + 1] = "seed"
  for _, n in ipairs(metrics) do header[#header + 1] = n end
  header[#header + 1] = "status"
  local points = {}
  for i in pairs(rows) do points[#points + 1] = i end
  table.sort(points)
  local lines = { table.concat(header, ",") }
  for _, i in ipairs(points) do
    local r = rows[i]
    local line = { string.format("%d", i) }
    for _, p in ipairs(r.params) do line[#line + 1] = p end
    line[#line + 1] = r.seed
    for _, m in ipairs(metrics) do line[#line + 1] = r.metrics[m] or "" end
    line[#line + 1] = cell(r.status)
    lines[#lines + 1] = table.concat(line, ",")
  end
  return table.concat(lines, "\n") .. "\n"
end

--- table.write(path, names, rows) -> true | nil, message: the table
-- written under a temporary name and renamed to `path`.
function M.write(path, names, rows)
  local pending, failure = core.write_temp(path, M.text(names, rows))
  if not pending then return nil, failure.message end
  local ok, cfail = pending:commit()
  if not ok then return nil, cfail.message end
  return true
end

--- table.read(path) -> { names = parameter names, metrics = names, rows =
-- point -> row } | nil when there is no file | nil, message when it is not
-- a results table or cannot be read (a folder).
-- table.is_header(names): do the column names `names` head a results table
-- (point first, status last)?  The one rule of what a results table looks
-- like, for its readers and for the commands that refuse one.
function M.is_header(names)
  return names ~= nil and names[1] == "point" and names[#names] == "status"
end

function M.read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local text, err = f:read("a")            -- (a folder opens, and is not read)
  f:close()
  if not text then return nil, string.format("cannot read '%s': %s", path, tostring(err)) end
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line:gsub("\r$", "") end   -- (a table saved with CRLF)
  local header = lines[1] and cells(lines[1])
  if not M.is_header(header) then
    return nil, string.format("'%s' is not a results table (its header must be point,...,seed,...,status)", path)
  end
  local seed_at, seen = nil, {}
  for j, h in ipairs(header) do
    if seen[h] then
      return nil, string.format("'%s' names the column '%s' twice in its header: the file was edited (remove it)",
                                path, h)
    end
    seen[h] = true
    if h == "seed" then seed_at = j end
  end
  if not seed_at then return nil, string.format("'%s' has no 'seed' column", path) end
  local names, metrics = {}, {}
  for j = 2, seed_at - 1 do names[#names + 1] = header[j] end
  for j = seed_at + 1, #header - 1 do metrics[#metrics + 1] = header[j] end
  -- A row the writer did not write (a file cut short, or edited): where and what, or nil.
  local function edited(l, fmt, ...)
    return nil, string.format("'%s' line %d" .. fmt .. ": the file was cut short or edited (mend or remove the " ..
                              "row, or remove the file)", path, l, ...)
  end
  -- (every line ends with a line break: one cut inside a failed status still has all its cells)
  if text:sub(-1) ~= "\n" then
    return nil, string.format("'%s' line %d has no line break at its end: the file was cut short (mend or " ..
                              "remove the row, or remove the file)", path, #lines)
  end
  local rows, at = {}, {}
  for l = 2, #lines do
    local c = cells(lines[l])
    local i = c and math.tointeger(tonumber(c[1]))
    if not c or #c ~= #header or not i or i < 1 then
      return nil, string.format("'%s' line %d is not a row of the table (%d cells, point, ..., status)",
                                path, l, #header)
    end
    if at[i] then return edited(l, " repeats point %d (line %d)", i, at[i]) end
    at[i] = l
    for j = 2, #header - 1 do
      local v = c[j]
      if j == seed_at then
        if not (v:match("^%d+$") and math.tointeger(tonumber(v))) then
          return edited(l, ": seed = '%s' is not a whole number from 0 to 2^63 - 1", v)
        end
      elseif not (tonumber(v) or WORDS[v]) and (j < seed_at or v ~= "") then
        return edited(l, ": %s = '%s' is not a number", header[j], v)
      end
    end
    if c[#c] ~= "ok" and c[#c]:sub(1, 8) ~= "failed: " then
      return edited(l, ": status '%s' is neither ok nor failed: <message>", c[#c])
    end
    -- (numbers in the writer's form, the seed a whole number's: "007" is "7")
    local r = { point = i, params = {}, seed = string.format("%d", math.tointeger(tonumber(c[seed_at]))),
                metrics = {}, status = c[#c] }
    for j = 2, seed_at - 1 do r.params[#r.params + 1] = canonical(c[j]) end
    for j = seed_at + 1, #header - 1 do
      if c[j] ~= "" then r.metrics[header[j]] = canonical(c[j]) end
    end
    rows[i] = r
  end
  return { names = names, metrics = metrics, rows = rows }
end

-- What differs between two rows of one point, as "NAME = a at point i, what
-- NAME = b", and its likely cause, or nil: their parameter values or seed
-- (another space or base seed), or, both computed, a metric (another
-- evaluate, model or run: a point's row never depends on where it ran).
local function differs(have, r, names, what)
  local function text(name, a, b)
    return string.format("%s = %s at point %d, %s %s = %s", name, a, r.point, what, name, b)
  end
  local OTHER = "another space or base seed"
  for j, name in ipairs(names) do
    if not M.same(have.params[j], r.params[j]) then return text(name, have.params[j], r.params[j]), OTHER end
  end
  if have.seed ~= r.seed then return text("seed", have.seed, r.seed), OTHER end   -- (both "%d")
  if have.status ~= "ok" or r.status ~= "ok" then return nil end
  local all = {}
  for k in pairs(have.metrics) do all[#all + 1] = k end
  for k in pairs(r.metrics) do if have.metrics[k] == nil then all[#all + 1] = k end end
  table.sort(all)
  for _, k in ipairs(all) do
    if not M.same(have.metrics[k], r.metrics[k]) then
      return text(k, have.metrics[k] or "(none)", r.metrics[k] or "(none)"), "another evaluate, model or run"
    end
  end
end

--- table.join(into, t, what) -> nil | message: t's rows (table.read) added
-- to `into` (point -> row); a row already there wins unless it failed and
-- t's is ok.  Both must have the same parameters (names, in order), and two
-- rows of one point the same parameter values and seed, and when both are
-- computed ("ok") the same metrics (else the files are parts of different
-- explorations: the message names both).
function M.join(into, names, t, what)
  if table.concat(t.names, ",") ~= table.concat(names, ",") then
    return string.format("%s holds the parameters %s, not %s", what, table.concat(t.names, ","),
                         table.concat(names, ","))
  end
  for i, r in keyorder.pairs(t.rows) do
    local have = into[i]
    local why, cause
    if have then why, cause = differs(have, r, names, what) end
    if why then
      return string.format("%s holds %s: they are parts of different explorations (%s)", have.from or "a file", why,
                           cause)
    end
    r.from = what
    if not have or (have.status ~= "ok" and r.status == "ok") then into[i] = r end
  end
end

--- table.values(row, names) -> the row as numbers: { point, seed, values = {NAME = number},
-- metrics = {NAME = number}, status, ok }.
function M.values(r, names)
  local values, metrics = {}, {}
  for j, name in ipairs(names) do values[name] = number_of(r.params[j]) end
  for k, v in pairs(r.metrics) do metrics[k] = number_of(v) end
  return { point = r.point, seed = math.tointeger(tonumber(r.seed)), values = values, metrics = metrics,
           status = r.status, ok = r.status == "ok" }
end

return M
