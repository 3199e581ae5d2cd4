--- The command `neuromass plot RESULT.csv -o FIG.png|svg|pdf [options]`: a
-- CSV that neuromass wrote, drawn as nm.plot draws a result.  A result CSV
-- (header t,VAR.NODE,...; t in ms) gives the time series of one variable; a
-- BOLD CSV (header t_BOLD,BOLD_0,...; t_BOLD in ms) gives the BOLD traces
-- (--skip K: after the first K samples).  --names FILE labels the nodes by
-- name: a text file of one name per line (line k + 1: node k), e.g. a
-- dataset's region names.  A result CSV is read in chunks, each folded by
-- plot/thin.lua's rule as it comes: only the drawn columns' thinned points
-- are kept, so a CSV of gigabytes draws in a few megabytes of memory.
local traces = require "neuromass.plot.traces"
local thin = require "neuromass.plot.thin"
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

-- The CSV at `path` (its first column t or t_BOLD; LF or CRLF line ends;
-- no name twice in its header): the engine's CSV reader on it (core.csv_reader,
-- the one sonify reads with: its rules and messages for a malformed row) and
-- its header's names.
local function open_csv(path)
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
  if require("neuromass.explore.table").is_header(names) then
    reader:close()
    local dir, metric = path:match("^(.*)/[^/]*$") or ".", "NAME"
    for c = 2, #names - 2 do                  -- point, the parameters, seed, the metrics, status
      if names[c] == "seed" then metric = names[c + 1] end
    end
    error(string.format("'%s' is an exploration's results table (columns point, ..., status), not a run's CSV: " ..
                        "draw one of its metrics over two parameters in a script, nm.plot.exploration(" ..
                        "nm.explore.load(%q), { metric = %q, out = \"FIG.png\" }) (an Evolution's progress: " ..
                        "nm.plot.evolution(evolution:run(), { out = \"FIG.png\" }))", path, dir, metric), 0)
  end
  if names[1] ~= "t" and names[1] ~= "t_BOLD" then
    reader:close()
    error(string.format("'%s' does not look like a neuromass CSV (its first column is '%s', expected " ..
                        "'t' or 't_BOLD')", path, tostring(names[1])), 0)
  end
  return reader, names
end

-- Every column of the CSV (reader, at `path`) as arrays of numbers; the reader closed.
local function read_columns(path, reader)
  local cols, err = reader:read_columns()
  reader:close()
  if not cols then error(path .. ": " .. err.message, 0) end
  if #cols[1] == 0 then error("'" .. path .. "' has no rows to draw", 0) end
  return cols
end

-- nm.plot's option keys as this command's flags (--view for 'view'), for its messages.
local FLAG_OF = { skip = "--skip", zscore = "--zscore" }
for flag, key in pairs(args.CLI_OPTIONS) do
  if flag:sub(1, 2) == "--" and (not FLAG_OF[key] or #flag > #FLAG_OF[key]) then FLAG_OF[key] = flag end
end
FLAG_OF.out = "-o"

-- pcall's results: the value, or nm.plot's error as a message of the
-- command (without the script position and the "plot: " of nm.plot), in
-- the words of its flags.
local function strip(ok, v)
  if not ok then error(check.as_flags((tostring(v):gsub("^[^:]*:%d+: ", ""):gsub("^plot: ", "")), FLAG_OF), 0) end
  return v
end

-- A stop signal (Ctrl-C, SIGTERM) while a CSV is read: no figure.
local function check_stop()
  if core.stop_pending() then
    error(string.format("interrupted by %s (no figure written)", core.signal_name(core.stop_signal())), 0)
  end
end

-- The columns `want` (1-based) of the CSV (reader, at `path`, T rows),
-- read in chunks and folded as they come (thin.folder, on `width` pixel
-- columns, for a `kind` of figure), the times checked as they come
-- (finite, increasing): one fold per column of want; the reader closed.
local function fold_columns(path, reader, T, want, width, kind)
  local folders, cols = {}, { 0 }
  for i, c in ipairs(want) do folders[i], cols[i + 1] = thin.folder(T, width, kind), c - 1 end
  local chunk_rows = math.max(1, math.min(4096, (1 << 20) // reader:columns()))
  local k, prev = 0, nil
  local ok, err = pcall(function()
    while true do
      check_stop()
      local chunk, got = reader:read_chunk(cols, chunk_rows)
      if not chunk then error(path .. ": " .. got.message, 0) end
      if got == 0 or k + got > T then k = k + got; break end
      local t = chunk[1]
      for j = 1, got do
        args.time(WHAT, "t", k + j, t[j], prev)
        prev = t[j]
      end
      for i = 1, #want do folders[i].add(k, t, chunk[i + 1], got) end
      k = k + got
    end
  end)
  reader:close()
  strip(ok, err)
  if k ~= T then error(string.format("'%s' changed while it was read (%d rows, then %d)", path, T, k), 0) end
  local out = {}
  for i = 1, #want do out[i] = folders[i].result() end
  return out
end

-- The series of a result CSV (its header `names`): variable `var` (default
-- the first): its columns (1-based) and their nodes, in the nodes' order,
-- and the variable.
local function result_series(path, names, var)
  local vars, seen, found = {}, {}, {}
  for c = 2, #names do
    local v, node = names[c]:match("^(.+)%.(%d+)$")
    if v then
      if not seen[v] then seen[v] = true; vars[#vars + 1] = v end
      found[#found + 1] = { var = v, node = math.tointeger(tonumber(node)), col = c }
    end
  end
  if #vars == 0 then error("'" .. path .. "' has no VAR.NODE columns to draw", 0) end
  var = var or vars[1]
  if not seen[var] then
    error(string.format("variable '%s' is not in '%s' (it has: %s)%s", var, path, table.concat(vars, ", "),
                        check.suggest(var, vars)), 0)
  end
  local want, nodes = {}, {}
  table.sort(found, function(a, b) return a.node < b.node end)
  for _, e in ipairs(found) do
    if e.var == var then want[#want + 1], nodes[#nodes + 1] = e.col, e.node end
  end
  return want, nodes, var
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
  local text
  if f then                                 -- (a folder opens, and is not read)
    text, err = f:read("a")
    f:close()
  end
  if not text then
    local why = tostring(err)
    if why:sub(1, #path + 2) == path .. ": " then why = why:sub(#path + 3) end
    error(string.format("--names: cannot read '%s': %s", path, why), 0)
  end
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
    error(string.format("--names '%s' holds %s (one per line), the CSV's nodes 0 to %d need %d: line k + 1 " ..
                        "names node k", path, check.nouns(#names, "name"), count - 1, count), 0)
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
  if opts.nodes then opts.nodes = check.node_list(opts.nodes) end
  if opts.skip then
    local v = opts.skip
    opts.skip = math.tointeger(tonumber(v))
    if not opts.skip or opts.skip < 0 then
      check.usage(string.format("--skip needs a whole number of BOLD samples, got '%s'", v))
    end
  end
  if not input then check.usage("which CSV? neuromass plot RESULT.csv -o FIG.png") end
  if not opts.out then check.usage("-o FIG.png (or .svg, .pdf) is missing") end
  local reader, names = open_csv(input)
  local src, axes
  if names[1] == "t_BOLD" then
    local cols = read_columns(input, reader)
    if opts.variable and opts.variable ~= "BOLD" then
      error(string.format("'%s' holds BOLD (header t_BOLD,...): --var %s does not apply", input, opts.variable), 0)
    end
    src, axes = bold_series(names, cols), { xlabel = "t (s)", ylabel = "BOLD", tname = "t_BOLD", time_scale = 1e-3,
                                          series = "the BOLD of '" .. input .. "'" }
  elseif opts.skip then
    error(string.format("--skip applies to a BOLD CSV (header t_BOLD,...), not to '%s'", input), 0)
  else
    local want, nodes, var = result_series(input, names, opts.variable)
    local T = reader:count_rows()          -- nil for a pipe: read whole
    if T == 0 then reader:close(); error("'" .. input .. "' has no rows to draw", 0) end
    if T then                              -- only the drawn nodes' columns, folded as they stream
      local chosen = strip(pcall(args.nodes, WHAT, opts, nodes))
      local fw, fn, count = {}, {}, 0
      for i, r in ipairs(chosen) do fw[i], fn[i] = want[r], nodes[r] end
      for _, node in ipairs(nodes) do count = math.max(count, node + 1) end
      local view = strip(pcall(args.choice, WHAT, opts, "view", traces.VIEWS))
      local kind = traces.fold_kind(traces.view(view, #chosen))
      src = { folded = fold_columns(input, reader, T, fw, traces.SIZE[1], kind), T = T, nodes = fn, t = true,
              variable = var, count = count }
    else
      local cols = read_columns(input, reader)
      src = { rows = {}, nodes = nodes, t = cols[1], variable = var }
      for i, c in ipairs(want) do src.rows[i] = cols[c] end
    end
    axes = { xlabel = "t (ms)", ylabel = var, series = "'" .. var .. "' of '" .. input .. "'" }
  end
  opts.variable = nil
  if opts.names then opts.names = read_names(opts.names, args.name_count(src)) end
  axes.inputs = { { role = "the input CSV", path = input } }
  local full = strip(pcall(function()
    src = args.skip(WHAT, src, opts.skip)
    opts.skip = nil
    return traces.figure(WHAT, src, opts, axes)
  end))
  local drawn = opts.nodes and #opts.nodes or #src.nodes
  return { string.format("%s: %s of %s from %s", full, src.variable or "BOLD", check.nouns(drawn, "node"),
                         input) }
end

return M
