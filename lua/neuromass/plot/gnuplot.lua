--- The plotting engine: gnuplot (Debian package gnuplot-nox), driven
-- through a pipe.  A figure is a gnuplot script whose data travel inline as
-- datablocks; it is drawn into a temporary file beside the output (PNG by
-- the pngcairo terminal, SVG by svg, PDF by pdfcairo), renamed into place
-- only when gnuplot finished without error, so no half-written figure is
-- ever left under the output's name.
local core = require "neuromass.core"
local check = require "neuromass._check"

local io, os, string, table, ipairs, math, tostring, tonumber, utf8 = io, os, string, table, ipairs, math, tostring,
                                                                 tonumber, utf8

local M = {}

--- The Debian package that provides gnuplot with the cairo terminals.
M.PACKAGE = "gnuplot-nox"

--- The formats and their terminals; `size` is in pixels (PDF: 100 px to the inch).
local TERMINALS = {
  png = function(w, h) return string.format("set terminal pngcairo size %d,%d noenhanced font ',11'", w, h) end,
  svg = function(w, h)
    return string.format("set terminal svg size %d,%d noenhanced font 'sans,11' background '#ffffff'", w, h)
  end,
  pdf = function(w, h)
    return string.format("set terminal pdfcairo size %gin,%gin noenhanced font ',9'", w / 100, h / 100)
  end,
}
M.FORMATS = { "png", "svg", "pdf" }

-- How a complete file of each format ends (a pattern on its last bytes):
-- PNG's IEND chunk, SVG's closing tag, PDF's end-of-file marker.
local ENDINGS = { png = "IEND\174B`\130$", svg = "</svg>%s*$", pdf = "%%%%EOF%s*$" }

-- Whether the file at `path` ends as a complete `format` file does.
-- gnuplot (cairo) does not report a failed write: on a full disk, or past
-- the file-size limit (ulimit -f; SIGXFSZ is ignored, and gnuplot inherits
-- that), it exits 0 leaving a truncated file.
local function complete(path, format)
  local f = io.open(path, "rb")
  if not f then return false end
  local size = f:seek("end")
  local tail = size and f:seek("set", math.max(0, size - 64)) and f:read(64)
  f:close()
  return tail ~= nil and tail:find(ENDINGS[format]) ~= nil
end

--- gnuplot.find() -> the path of the gnuplot executable on PATH, or nil.
function M.find()
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local path = dir .. "/gnuplot"
    local f = io.open(path, "r")
    if f then f:close(); return path end
  end
end

--- A string as a gnuplot single-quoted string ('' stands for '; a line
-- break, which would end the command, becomes a space).
function M.quote(s)
  return "'" .. tostring(s):gsub("%c", " "):gsub("'", "''") .. "'"
end

--- A file's path as a gnuplot double-quoted string that names exactly that
-- file: control characters (a line break would end the command; M.quote
-- turns them into spaces), the backslash, the double quote and the backquote
-- (gnuplot runs `...` as a command even inside double quotes) are written as
-- octal escapes, which gnuplot decodes after it has looked for backquotes.
function M.quote_path(s)
  return '"' .. tostring(s):gsub('[%c\\"`]', function(c) return string.format("\\%03o", c:byte()) end) .. '"'
end

local shell_quote = check.shell_word   -- (a command's words: one owner of the shell's quoting)

--- What a figure can draw: values of magnitude up to LIMIT.  Beyond it
-- (1e308 and -1e308 in one series) gnuplot's axis range overflows and it
-- draws an empty frame, unsaid; such values are left out as NaN and the
-- infinities are, with the same warning.  gnuplot.drawable(v): v is a
-- number within ±LIMIT (not NaN).
M.LIMIT, M.LIMIT_TEXT = 1e300, "1e300"
function M.drawable(v)
  return v == v and v >= -M.LIMIT and v <= M.LIMIT
end

-- A number as gnuplot reads it, exactly (the shortest of 15 and 17 digits
-- that reads back as v: 9 digits made 1000 + 1e-9 k one value, a flat line):
-- NaN (an undefined point, a gap) for what cannot be drawn (M.drawable: NaN,
-- the infinities, beyond ±LIMIT).
local function num(v)
  if not M.drawable(v) then return "NaN" end
  if math.type(v) == "integer" then return string.format("%d", v) end
  local s = string.format("%.15g", v)
  if tonumber(s) ~= v then s = string.format("%.17g", v) end
  return s
end
M.num = num

--- gnuplot.datablock(name, rows) -> the text of the datablock $name holding
-- `rows` (each an array of numbers, one line each; an empty table gives a
-- blank line, which separates scans).
function M.datablock(name, rows)
  local out = { "$" .. name .. " << EOD" }
  for _, row in ipairs(rows) do
    local cells = {}
    for k = 1, #row do cells[k] = num(row[k]) end
    out[#out + 1] = table.concat(cells, " ")
  end
  out[#out + 1] = "EOD"
  return table.concat(out, "\n")
end

--- Node names on an axis (the `names` option): a small font, and the
-- pixels one name needs across its line (pngcairo at that font; the other
-- terminals are drawn at the same scale) and per character along it.
M.NAME_FONT, M.NAME_LINE_PX, M.NAME_CHAR_PX = ",8", 11, 6.3

--- A name longer than NAME_MAX characters is drawn shortened to its first
-- NAME_MAX - 1 and "…" (a margin holding it would leave no room for the plot).
M.NAME_MAX = 24

--- gnuplot.short_name(s) -> s, or its first NAME_MAX - 1 characters and
-- "…" when longer (characters of UTF-8; bytes when s is not UTF-8).
function M.short_name(s)
  local n = utf8.len(s)
  if not n then return #s > M.NAME_MAX and s:sub(1, M.NAME_MAX - 1) .. "…" or s end
  if n <= M.NAME_MAX then return s end
  return s:sub(1, utf8.offset(s, M.NAME_MAX) - 1) .. "…"
end

--- gnuplot.name_step(n, px) -> k: every k-th of n names fits on an axis of
-- `px` pixels without overlapping (1: every name).  k is odd: the datasets
-- list their regions left, right, left, ... (AAL2), and an even step would
-- name one hemisphere only.
function M.name_step(n, px)
  local fit = math.max(1, px // M.NAME_LINE_PX)
  local step = math.max(1, -(-n // fit))
  return step % 2 == 0 and step + 1 or step
end

--- gnuplot.tic_list(tics) -> "('name' pos, ...)": explicit tic labels for
-- set xtics / set ytics; tics = { { text, position }, ... }, each text
-- quoted (drawn literally: the terminals are noenhanced) and its % doubled
-- (gnuplot reads an explicit tic label as a format of its position: "%s"
-- would be drawn "2.000000", "%d" fail).
function M.tic_list(tics)
  local out = {}
  for i, tic in ipairs(tics) do out[i] = M.quote((tic[1]:gsub("%%", "%%%%"))) .. " " .. num(tic[2]) end
  return "(" .. table.concat(out, ", ") .. ")"
end

local MAX_ERROR_LINES, MAX_LINE = 4, 200

--- gnuplot.errors_of(stderr) -> gnuplot's own error lines ("line 9: ...",
-- warnings) from what it wrote to stderr, at most MAX_ERROR_LINES of at
-- most MAX_LINE characters: never its echo of the script or of the data.
-- With no such line, the last lines (cut likewise); "" for none.
function M.errors_of(stderr)
  local all, picked = {}, {}
  for line in stderr:gmatch("[^\n]+") do
    if line:find("%S") then all[#all + 1] = line end
  end
  for _, line in ipairs(all) do
    if line:find("line %d+:") or line:find("^%s*[Ww]arning") or line:find("^%s*gnuplot") then
      picked[#picked + 1] = line
    end
  end
  if #picked == 0 then picked = all end
  local out = {}
  for i = math.max(1, #picked - MAX_ERROR_LINES + 1), #picked do
    local line = picked[i]:gsub("^%s+", "")
    if #line > MAX_LINE then line = line:sub(1, MAX_LINE) .. " ..." end
    out[#out + 1] = line
  end
  return table.concat(out, "\n")
end

--- gnuplot.render(path, format, size, script) -> nil, or the error text, or
-- nil and the number of the stop signal (Ctrl-C...) that stopped the
-- drawing: draws `script` (lines of gnuplot commands, data inline) as
-- `format` ("png", "svg" or "pdf") of size = { width, height } pixels into
-- `path`, written under a temporary name and renamed when complete (never
-- when stopped or failed).  Fails (text) when gnuplot is not installed
-- (naming the package) or reports an error (its error lines only).
function M.render(path, format, size, script)
  local exe = M.find()
  if not exe then
    return string.format("gnuplot was not found on PATH: install the Debian package %s " ..
                         "(apt-get install %s)", M.PACKAGE, M.PACKAGE)
  end
  -- gnuplot draws into the output's temporary name (the engine's one
  -- temp-then-rename way, atomic_file.c); committed when the figure is complete.
  local pending, failure = core.write_temp(path, "")
  if not pending then return "cannot write '" .. path .. "': " .. failure.message end
  local tmp, scriptfile = pending:temp(), os.tmpname()
  local text = table.concat({ TERMINALS[format](size[1], size[2]), "set output " .. M.quote_path(tmp),
                              table.concat(script, "\n"), "unset output", "" }, "\n")
  local function cleanup() os.remove(scriptfile) end
  -- gnuplot reads the script from a file named as its argument: no pipe is
  -- written, so a stop signal that kills gnuplot (Ctrl-C reaches the process
  -- group) cannot turn into SIGPIPE here.  Not on its standard input: gnuplot
  -- reads that one byte per system call (5 MB of data, 5 million reads: 20 s
  -- and more for an 80-trace figure); its standard input is /dev/null.
  local sf, werr = io.open(scriptfile, "w")
  local wrote = false
  if sf then
    wrote, werr = sf:write(text)
    local closed, cerr = sf:close()
    if wrote and not closed then wrote, werr = false, cerr end
  end
  if not wrote then
    pending:discard()
    cleanup()
    return "cannot write gnuplot's script to '" .. scriptfile .. "': " .. tostring(werr)
  end
  -- Its messages come back through the pipe (its standard output draws
  -- nothing: the figure goes to `set output`), never through a file: on a full
  -- disk a file would lose the line that says why.
  local pipe, perr = io.popen(string.format("%s %s </dev/null 2>&1", shell_quote(exe), shell_quote(scriptfile)),
                              "r")
  if not pipe then
    pending:discard()
    cleanup()
    return "cannot start gnuplot: " .. tostring(perr)
  end
  local messages = pipe:read("a") or ""
  local ok, how, code = pipe:close()
  cleanup()
  -- A stop not yet reported (during gnuplot, or before it: `neuromass plot`
  -- reading a large CSV) leaves no figure; one a run reported, which the
  -- script caught, does not stop a figure drawn after it.
  local signo = core.stop_signal()
  if signo and (core.stop_pending() or how == "signal") then
    pending:discard()                               -- no half-drawn figure
    return nil, signo
  end
  if not ok then
    pending:discard()
    local why = M.errors_of(messages)
    if why == "" then why = how == "signal" and ("stopped by signal " .. tostring(code))
                            or ("exit status " .. tostring(code)) end
    if why:find("unknown or ambiguous terminal", 1, true) then
      why = why .. "\n(this gnuplot lacks the cairo terminals: install the Debian package " .. M.PACKAGE .. ")"
    end
    return "gnuplot failed: " .. why
  end
  if not complete(tmp, format) then
    pending:discard()
    return "gnuplot stopped short of the end of '" .. path .. "' and said nothing (a full disk, or the " ..
           "file-size limit, ulimit -f?): no figure written"
  end
  local committed, cfail = pending:commit()
  if not committed then
    return "cannot rename the finished figure into place: " .. cfail.message
  end
end

return M
