--- The command `neuromass plot RESULT.csv -o FIG.png|svg|pdf [options]`: a
-- CSV that neuromass wrote, drawn as nm.plot draws a result.  A result CSV
-- (header t,VAR.NODE,...; t in ms) gives the time series of one variable; a
-- BOLD CSV (header t_BOLD,BOLD_0,...; t_BOLD in ms) gives the BOLD traces
-- (--skip K: after the first K samples).  --names FILE labels the nodes by
-- name: a text file of one name per line (line k + 1: node k), e.g. a
-- dataset's region names.
local traces = require "neuromass.plot.traces"
local args = require "neuromass.plot.args"
local check = require "neuromass._check"
local core = require "neuromass.core"

local error, string, table, tonumber, math, ipairs, pairs, tostring, pcall, io =
      error, string, table, tonumber, math, ipairs, pairs, tostring, pcall, io

local M = {}

local WHAT = "plot"

--- The options that take a value, each with its key in nm.plot's options (args.lua's, which
-- names them in nm.plot's errors), and --skip; the flag --zscore (--quiet and --help: the host's).
local VALUES = { ["--skip"] = "skip" }
for k, v in pairs(args.CLI_OPTIONS) do VALUES[k] = v end
local FLAGS = { ["--zscore"] = true }

-- "--nodes 0,3,5" -> { 0, 3, 5 }; an empty item ("0,,1", "0,") is refused.
local function node_list(v)
  local list = {}
  for item in (v .. ","):gmatch("([^,]*),") do
    local i = math.tointeger(tonumber(item))
    if not i or i < 0 then
      check.usage(string.format("--nodes needs 0-based node numbers such as 0,3,5, got '%s'%s", v,
                                item == "" and " (an empty item)" or " ('" .. item .. "')"))
    end
    list[#list + 1] = i
  end
  return list
end

-- The CSV at `path` (its first column t or t_BOLD; LF or CRLF line ends;
-- no name twice in its header): its header's names and its columns (arrays
-- of numbers).  The rows are read by the engine's CSV reader (core.csv_reader,
-- the one sonify reads with): its rules and messages for a malformed row.
local function read_csv(path)
  local reader, failure = core.csv_reader(path)
  if not reader then error(failure.message, 0) end
  local names, seen = {}, {}
  for c = 0, reader:columns() - 1 do
    local name = reader:name(c)
    if seen[name] then
      reader:close()
      error(string.format("'%s': the header names column '%s' twice (columns %d and %d): each column must " ..
                          "have its own name", path, name, seen[name], c + 1), 0)
    end
    names[c + 1], seen[name] = name, c + 1
  end
  if names[1] ~= "t" and names[1] ~= "t_BOLD" then
    reader:close()
    error(string.format("'%s' does not look like a neuromass CSV (its first column is '%s', expected " ..
                        "'t' or 't_BOLD')", path, tostring(names[1])), 0)
  end
  local cols, err = reader:read_columns()
  reader:close()
  if not cols then error(path .. ": " .. err.message, 0) end
  if #cols[1] == 0 then error("'" .. path .. "' has no rows to draw", 0) end
  return names, cols
end

-- The series of a result CSV: variable `var` (default the first), its nodes in order.
local function result_series(path, names, cols, var)
  local vars, seen, found = {}, {}, {}
  for c = 2, #names do
    local v, node = names[c]:match("^(.+)%.(%d+)$")
    if v then
      if not seen[v] then seen[v] = true; vars[#vars + 1] = v end
      found[#found + 1] = { var = v, node = math.tointeger(tonumber(node)), col = cols[c] }
    end
  end
  if #vars == 0 then error("'" .. path .. "' has no VAR.NODE columns to draw", 0) end
  var = var or vars[1]
  if not seen[var] then
    error(string.format("variable '%s' is not in '%s' (it has: %s)%s", var, path, table.concat(vars, ", "),
                        check.suggest(var, vars)), 0)
  end
  local src = { rows = {}, nodes = {}, t = cols[1], variable = var }
  table.sort(found, function(a, b) return a.node < b.node end)
  for _, e in ipairs(found) do
    if e.var == var then src.rows[#src.rows + 1], src.nodes[#src.nodes + 1] = e.col, e.node end
  end
  return src
end

-- The series of a BOLD CSV: every column after t_BOLD, its node from the name's number.
local function bold_series(names, cols)
  local src = { rows = {}, nodes = {}, t = cols[1] }
  for c = 2, #names do
    src.rows[c - 1] = cols[c]
    src.nodes[c - 1] = math.tointeger(tonumber(names[c]:match("(%d+)$"))) or c - 2
  end
  return src
end

-- The names in the text file at `path` (--names): one per line, line k + 1
-- node k's, as many as the CSV's `count` nodes (its highest node + 1).  A file
-- as people write them reads right: LF, CRLF or CR line ends, a UTF-8
-- byte-order mark, spaces and tabs around a name (dropped), blank lines at
-- the end (ignored); a blank line before the last name is refused, naming it.
local function read_names(path, count)
  local f, err = io.open(path, "rb")
  if not f then
    local why = tostring(err)
    if why:sub(1, #path + 2) == path .. ": " then why = why:sub(#path + 3) end
    error(string.format("--names: cannot read '%s': %s", path, why), 0)
  end
  local text = f:read("a")
  f:close()
  text = text:gsub("^\239\187\191", ""):gsub("\r\n?", "\n")
  local names = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do names[#names + 1] = line:match("^[ \t]*(.-)[ \t]*$") end
  while names[#names] == "" do names[#names] = nil end
  for k, name in ipairs(names) do
    if name == "" then
      error(string.format("--names '%s': line %d is blank (line k + 1 names node k: each node needs a name)",
                          path, k), 0)
    end
  end
  if #names ~= count then
    error(string.format("--names '%s' holds %d name%s (one per line), the CSV's nodes 0 to %d need %d: line k + 1 " ..
                        "names node k", path, #names, #names == 1 and "" or "s", count - 1, count), 0)
  end
  return names
end

--- cli.run(argv) -> the lines to print: the command `neuromass plot`; argv =
-- the arguments after "plot".  Errors are messages without a position.
function M.run(argv)
  local got, words = check.read_options(argv, VALUES, FLAGS)
  if #words > 1 then
    check.usage(string.format("unexpected argument '%s' (one CSV file, then -o FIG.png)", words[2]))
  end
  local input, opts = words[1], {}
  for key, v in pairs(got) do
    if not FLAGS[key] then opts[key] = v end
  end
  opts.zscore = got["--zscore"]
  if opts.nodes then opts.nodes = node_list(opts.nodes) end
  if opts.skip then
    local v = opts.skip
    opts.skip = math.tointeger(tonumber(v))
    if not opts.skip or opts.skip < 0 then
      check.usage(string.format("--skip needs a whole number of BOLD samples, got '%s'", v))
    end
  end
  if not input then check.usage("which CSV? neuromass plot RESULT.csv -o FIG.png") end
  if not opts.out then check.usage("-o FIG.png (or .svg, .pdf) is missing") end
  local names, cols = read_csv(input)
  local src, axes
  if names[1] == "t_BOLD" then
    if opts.variable and opts.variable ~= "BOLD" then
      error(string.format("'%s' holds BOLD (header t_BOLD,...): --var %s does not apply", input, opts.variable), 0)
    end
    src, axes = bold_series(names, cols), { xlabel = "t (s)", ylabel = "BOLD", tname = "t_BOLD", time_scale = 1e-3,
                                          series = "the BOLD of '" .. input .. "'" }
  elseif opts.skip then
    error(string.format("--skip applies to a BOLD CSV (header t_BOLD,...), not to '%s'", input), 0)
  else
    src = result_series(input, names, cols, opts.variable)
    axes = { xlabel = "t (ms)", ylabel = src.variable, series = "'" .. src.variable .. "' of '" .. input .. "'" }
  end
  opts.variable = nil
  if opts.names then opts.names = read_names(opts.names, args.name_count(src)) end
  axes.inputs = { { role = "the input CSV", path = input } }
  local ok, full = pcall(function()
    src = args.skip(WHAT, src, opts.skip)
    opts.skip = nil
    return traces.figure(WHAT, src, opts, axes)
  end)
  if not ok then error((tostring(full):gsub("^[^:]*:%d+: ", ""):gsub("^plot: ", "")), 0) end
  return { string.format("%s: %s of %d node%s from %s", full, src.variable or "BOLD",
                         opts.nodes and #opts.nodes or #src.rows,
                         (opts.nodes and #opts.nodes or #src.rows) == 1 and "" or "s", input) }
end

return M
