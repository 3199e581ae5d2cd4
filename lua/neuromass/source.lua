--- The user's source, read for messages: the lines of a function, and the
-- names that read nil on the line of the user's code running now (what an
-- expression's operator got as nil: an undefined global, a local never set).
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

--- ": global 'a' is nil (undefined: a typo, or a missing local?)": what
-- reads nil on the line running now in the first frame of the user's code
-- (neither the library's nor C), for an operator that got nil there: its
-- globals (the function's _ENV) and its locals and upvalues that are nil, by
-- the names the line reads; "" when none is found (a field read nil, or the
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
  local globals, unset = {}, {}
  for _, w in ipairs(names_read(line)) do
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
