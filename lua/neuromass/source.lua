--- The user's source, read for messages: the lines of a function, and the
-- names that read nil in the expression of the user's code running now (its
-- line, and the lines it goes on over: what an expression's operator got as
-- nil: an undefined global, a local never set).
local check = require "neuromass._check"

local type, ipairs, string, table, debug, io, rawget, math = type, ipairs, string, table, debug, io, rawget, math

local M = {}

--- The lines of the source of function `fn` (a file's, or a chunk loaded
-- from a string), or nil when they cannot be read.
function M.lines(fn)
  local src = debug.getinfo(fn, "S").source
  local text = src
  if src:sub(1, 1) == "@" then
    local f = io.open(src:sub(2), "r")
    if not f then return nil end
    text = f:read("a")
    f:close()
  elseif src:sub(1, 1) == "=" then
    return nil
  end
  local lines = {}
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  return lines
end

local keywords = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat return " ..
          "then true until while"):gmatch("%a+") do keywords[w] = true end

-- The names a line of code reads as variables (not fields after '.' or ':',
-- not a table's keys `k = `, not keywords), its strings and comment aside.
local function names_read(line)
  line = line:gsub("%-%-.*$", ""):gsub('"[^"]*"', '""'):gsub("'[^']*'", "''")
  local found, seen = {}, {}
  for at, w, after in line:gmatch("()([%a_][%w_]*)()") do
    local before = line:sub(1, at - 1):match("(%.*:?)%s*$")
    local field = before:match("^%.$") or before:match(":$")
    local key = line:sub(after):match("^%s*=[^=]") or line:sub(after):match("^%s*=$")
    local number = at > 1 and line:sub(at - 1, at - 1):match("[%w_]")     -- (1e5, 0x1f)
    if not keywords[w] and not field and not key and not number and not seen[w] then
      seen[w] = true
      found[#found + 1] = w
    end
  end
  return found
end

-- A line's code: its comment and the insides of its strings left out.
local function code_of(line)
  return (line:gsub("%-%-.*$", ""):gsub('"[^"]*"', '""'):gsub("'[^']*'", "''"))
end

-- (brackets opened) - (closed) on a line of code: '(' and '[', a call's or an
-- index's (a table constructor's '{' spans entries: not an expression's)
local function depth_of(code)
  local _, open = code:gsub("[%(%[]", "")
  local _, close = code:gsub("[%)%]]", "")
  return open - close
end

-- A line of code that an expression goes on after: ends with an operator
-- or `=` (an entry's value on the next line), or with `and` / `or` / `not`
-- (a ',' ends an entry, unless a bracket is open: depth_of); and one that
-- goes on an expression above: begins with an operator (a statement never
-- does: a '-' there is a binary minus), `and` or `or`.
local function goes_on(code)
  return code:match("[%+%-%*/%^%%<>=~%.]%s*$") ~= nil or code:match("%f[%w_]and%s*$") ~= nil or
         code:match("%f[%w_]or%s*$") ~= nil or code:match("%f[%w_]not%s*$") ~= nil
end
local function goes_on_above(code)
  return code:match("^%s*[%+%-%*/%^%%<>=~%.]") ~= nil or code:match("^%s*and%f[^%w_]") ~= nil or
         code:match("^%s*or%f[^%w_]") ~= nil
end

-- The lines (first, last) of the expression that line `at` of `lines`
-- runs, within the function's lines `from`..`to`: an operator or a call
-- running at one line of an expression written over several may have read
-- nil at another (Lua gives an operator the line of its operator, a call the
-- line of its function).  Up to MAX_SPAN lines each way; at itself when the
-- lines around it are no part of it.
local MAX_SPAN = 30
local function span(lines, at, from, to)
  local first, last = at, at
  local depth = depth_of(code_of(lines[at]))
  -- up: while this line goes on the one above, or a bracket it closes opened above
  while first > from and at - first < MAX_SPAN do
    local above = code_of(lines[first - 1])
    if not (goes_on_above(code_of(lines[first])) or goes_on(above) or depth < 0) then break end
    first = first - 1
    depth = depth + depth_of(above)
  end
  -- down: while a bracket is open, or this line goes on below, or the next goes on this one
  depth = 0
  for l = first, at do depth = depth + depth_of(code_of(lines[l])) end
  while last < to and last - at < MAX_SPAN do
    local below = code_of(lines[last + 1])
    if not (depth > 0 or goes_on(code_of(lines[last])) or goes_on_above(below)) then break end
    last = last + 1
    depth = depth + depth_of(below)
  end
  return first, last
end

--- ": global 'a' is nil (undefined: a typo, or a missing local?)": what
-- reads nil in the expression running now in the first frame of the user's
-- code (neither the library's nor C), for an operator that got nil there: its
-- globals (the function's _ENV) and its locals and upvalues that are nil, by
-- the names the lines of that expression read (span: the line running and
-- those it goes on over); "" when none is found (a field read nil, or the
-- source cannot be read).
function M.nil_reads()
  local info, level = check.user_info("lf")
  if not info then return "" end
  local lines = M.lines(info.func)
  local line = lines and lines[info.currentline]
  if not line then return "" end
  local locals, upvalues, env = {}, {}, nil
  for i = 1, math.huge do
    local name, v = debug.getlocal(level, i)
    if not name then break end
    locals[name] = { v }
  end
  for i = 1, math.huge do
    local name, v = debug.getupvalue(info.func, i)
    if not name then break end
    if name == "_ENV" then env = v else upvalues[name] = { v } end
  end
  local from = info.linedefined > 0 and info.linedefined or 1
  local to = info.lastlinedefined > 0 and info.lastlinedefined or #lines
  local first, last = span(lines, info.currentline, from, math.min(to, #lines))
  local read, seen = {}, {}
  for l = first, last do
    for _, w in ipairs(names_read(lines[l])) do
      if not seen[w] then seen[w] = true; read[#read + 1] = w end
    end
  end
  local globals, unset = {}, {}
  for _, w in ipairs(read) do
    local l = locals[w] or upvalues[w]
    if l then
      if l[1] == nil then unset[#unset + 1] = "'" .. w .. "'" end
    elseif type(env) == "table" and rawget(env, w) == nil and env[w] == nil then
      globals[#globals + 1] = "'" .. w .. "'"
    end
  end
  local parts = {}
  if #globals > 0 then
    parts[1] = string.format("%s %s %s nil (undefined: a typo, or a missing local?)",
                             #globals == 1 and "global" or "globals", table.concat(globals, ", "),
                             #globals == 1 and "is" or "are")
  end
  if #unset > 0 then
    parts[#parts + 1] = string.format("%s %s %s nil (never given a value?)",
                                      #unset == 1 and "local" or "locals", table.concat(unset, ", "),
                                      #unset == 1 and "is" or "are")
  end
  return #parts > 0 and ": " .. table.concat(parts, "; ") or ""
end

return M
