--- The plotting engine: gnuplot (Debian package gnuplot-nox), driven
-- through a pipe.  A figure is a gnuplot script whose data travel inline as
-- datablocks; it is drawn into a temporary file beside the output (PNG by
-- the pngcairo terminal, SVG by svg, PDF by pdfcairo), renamed into place
-- only when gnuplot finished without error, so no half-written figure is
-- ever left under the output's name.
local core = require "neuromass.core"

local io, os, string, table, ipairs, math, tostring = io, os, string, table, ipairs, math, tostring

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

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- A number as gnuplot reads it: NaN (an undefined point, a gap) for NaN and
-- the infinities.
local function num(v)
  if v ~= v or v == math.huge or v == -math.huge then return "NaN" end
  return string.format("%.9g", v)
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

--- gnuplot.render(path, format, size, script) -> nil, or the error text:
-- draws `script` (lines of gnuplot commands, data inline) as `format`
-- ("png", "svg" or "pdf") of size = { width, height } pixels into `path`,
-- written under a temporary name and renamed when complete.  Fails (text)
-- when gnuplot is not installed (naming the package) or reports an error.
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
  local tmp, errfile = pending:temp(), os.tmpname()
  local text = table.concat({ TERMINALS[format](size[1], size[2]), "set output " .. M.quote(tmp),
                              table.concat(script, "\n"), "unset output", "" }, "\n")
  -- Should gnuplot quit before reading everything, `cat` drains the rest, so
  -- that writing it never meets a closed pipe (SIGPIPE would stop the host).
  local pipe, perr = io.popen(string.format("%s 2>%s; s=$?; cat >/dev/null; exit $s", shell_quote(exe),
                                            shell_quote(errfile)), "w")
  if not pipe then
    pending:discard()
    os.remove(errfile)
    return "cannot start gnuplot: " .. tostring(perr)
  end
  local wrote, werr = pipe:write(text)
  local ok, _, code = pipe:close()
  local f = io.open(errfile, "r")
  local messages = f and f:read("a") or ""
  if f then f:close() end
  os.remove(errfile)
  if not wrote or not ok then
    pending:discard()
    local why = messages:gsub("%s+$", "")
    if why == "" then why = werr or ("exit status " .. tostring(code)) end
    if why:find("unknown or ambiguous terminal", 1, true) then
      why = why .. "\n(this gnuplot lacks the cairo terminals: install the Debian package " .. M.PACKAGE .. ")"
    end
    return "gnuplot failed: " .. why
  end
  local committed, cfail = pending:commit()
  if not committed then
    return "cannot rename the finished figure into place: " .. cfail.message
  end
end

return M
