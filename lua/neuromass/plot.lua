--- nm.plot: pictures of runs and analyses, drawn by gnuplot (Debian package
-- gnuplot-nox) into PNG, SVG or PDF files chosen by the output's extension.
-- Time series of nodes (lines, stacked traces or a node × time image), BOLD,
-- power spectra, FC heat maps and simulated-vs-empirical FC side by side;
-- res:plot{...} (result.lua) and `neuromass plot` (plot/cli.lua) draw
-- through the same figures.  Arguments
-- are checked in plot/args.lua, figures built in plot/traces.lua,
-- plot/spectrum.lua and plot/heatmap.lua, drawn by plot/gnuplot.lua.
local args = require "neuromass.plot.args"
local traces = require "neuromass.plot.traces"
local spectrum = require "neuromass.plot.spectrum"
local heatmap = require "neuromass.plot.heatmap"
local check = require "neuromass._check"

local type, string, math = type, string, math

local M = {}

local fail = args.fail

local SPECTRUM_SIZE, FC_SIZE, COMPARE_SIZE = { 800, 500 }, { 720, 600 }, { 1300, 600 }

--- nm.plot.timeseries(src, opts) -> the path written.  src: a result (with
-- opts.variable, default its first recorded variable; times in ms) or an N × T
-- array of rows / one series (times opts.t in ms or every opts.dt ms, else
-- sample numbers).  opts: out = "fig.png" | ".svg" | ".pdf" (required; under
-- --out when relative), nodes = { 0-based node numbers } (default all),
-- view = "lines" | "stacked" | "image" (default: lines up to 8 nodes, else
-- an image of node × time), zscore = true (each row as z-scores), title,
-- size = { width, height } px.  Axes:
-- "t (ms)" and the variable's name.  Errors (at the caller's line): an
-- unknown option, variable or node, a bad extension, a missing gnuplot
-- (names the package gnuplot-nox), gnuplot's own error.
function M.timeseries(src, opts)
  local what = "plot.timeseries"
  opts = args.options(what, opts, { "out", "title", "size", "variable", "nodes", "view", "t", "dt",
                                    "zscore" })
  if args.is_result(src) and src.dry then return (args.output(what, opts)) end   -- neuromass info draws nothing
  local s = args.trace_source(what, src, opts)
  return traces.figure(what, s, opts, { xlabel = "t (ms)", ylabel = s.variable or "value" })
end

local BOLD_OPTIONS = { "out", "title", "size", "nodes", "view", "time_unit", "zscore" }

--- nm.plot.bold(res[, opts]) or nm.plot.bold(t_BOLD, BOLD[, opts]) -> the
-- path written: BOLD over time, from a result run with bold (res.t_BOLD in
-- ms, res.BOLD N rows of n values) or given.  opts: out (required), nodes,
-- view, zscore (as timeseries), time_unit = "s" (default) | "ms", title, size.
-- Errors as timeseries; a result without BOLD.  Under `neuromass info`
-- (a result of no rows) nothing is drawn: both return the path only.
function M.bold(a, b, c)
  local what = "plot.bold"
  local t, B, opts
  if args.is_result(a) then
    t, B, opts = a.t_BOLD, a.BOLD, b
    if a.dry then return (args.output(what, args.options(what, opts, BOLD_OPTIONS))) end
    if B == nil then fail(what, "the result holds no BOLD: run the model with bold = true") end
    if type(B) == "table" and (#B == 0 or type(B[1]) == "table" and #B[1] == 0) then
      fail(what, "the result's BOLD holds no sample: the run was too short for one")
    end
  else
    t, B, opts = a, b, c
  end
  opts = args.options(what, opts, BOLD_OPTIONS)
  local rows = args.rows(what, B, "BOLD")
  args.series(what, t, "t_BOLD", #rows[1])
  local unit = args.choice(what, opts, "time_unit", { "s", "ms" }) or "s"
  local nodes = {}
  for i = 1, #rows do nodes[i] = i - 1 end
  return traces.figure(what, { rows = rows, t = t, nodes = nodes }, opts,
                       { xlabel = "t (" .. unit .. ")", ylabel = "BOLD", time_scale = unit == "s" and 1e-3 or 1 })
end

--- nm.plot.spectrum(f, P[, opts]) -> the path written: power over frequency,
-- as nm.func.getPowerSpectrum returns them (f in Hz; P one array of #f
-- values, or an array of such arrays for several spectra).  opts: out
-- (required), labels = { one per spectrum }, logy = true (a log power
-- axis), title, size.  Axes "frequency (Hz)" and "power".
function M.spectrum(f, P, opts)
  local what = "plot.spectrum"
  opts = args.options(what, opts, { "out", "title", "size", "labels", "logy" })
  args.series(what, f, "f")
  local spectra = args.rows(what, P, "P", #f)
  if opts.labels ~= nil then
    if type(opts.labels) ~= "table" or #opts.labels ~= #spectra then
      fail(what, "'labels' must be a list of %d names (one per spectrum), got %s", #spectra, check.show(opts.labels))
    end
    for i = 1, #spectra do args.text(what, opts.labels, i) end
  end
  local full, format = args.output(what, opts)
  return args.draw(what, full, format, args.size(what, opts, SPECTRUM_SIZE),
                   spectrum.script(f, spectra, { title = args.text(what, opts, "title"), labels = opts.labels,
                                                 logy = opts.logy == true }))
end

-- opts.range: { lo, hi } (default { -1, 1 }).
local function colour_range(what, opts)
  local r = opts.range
  if r == nil then return { -1, 1 } end
  if type(r) ~= "table" or #r ~= 2 or type(r[1]) ~= "number" or type(r[2]) ~= "number" or not (r[1] < r[2])
     or r[1] == -math.huge or r[2] == math.huge then
    fail(what, "'range' must be { lo, hi } with finite lo < hi, got %s", check.show(r))
  end
  return r
end

--- nm.plot.fc(m[, opts]) -> the path written: an N × N matrix (an FC, as
-- nm.func.fc returns it) as a heat map, node numbers on both axes (row 0 at
-- the top), colour bar over range = { -1, 1 } (default).  opts: out
-- (required), title, range, size.
function M.fc(m, opts)
  local what = "plot.fc"
  opts = args.options(what, opts, { "out", "title", "size", "range" })
  args.square(what, m, "the matrix")
  local range = colour_range(what, opts)
  local full, format = args.output(what, opts)
  return args.draw(what, full, format, args.size(what, opts, FC_SIZE),
                   heatmap.script({ { m = m, title = args.text(what, opts, "title") or "functional connectivity" } },
                                  { range = range, cblabel = "correlation" }))
end

--- nm.plot.fc_compare(sim, emp[, opts]) -> the path written: simulated and
-- empirical FC (N × N each) side by side, one colour range.  opts: out
-- (required), correlation = r (a number, shown in the title: e.g.
-- nm.func.matrix_correlation(sim, emp)), labels = { "simulated FC",
-- "empirical FC" }, title, range, size.
function M.fc_compare(sim, emp, opts)
  local what = "plot.fc_compare"
  opts = args.options(what, opts, { "out", "title", "size", "range", "correlation", "labels" })
  args.square(what, sim, "the simulated FC")
  args.square(what, emp, "the empirical FC")
  local range = colour_range(what, opts)
  local r = opts.correlation
  if r ~= nil and type(r) ~= "number" then
    fail(what, "'correlation' must be a number, got %s", check.show(r))
  end
  local labels = opts.labels or { "simulated FC", "empirical FC" }
  if type(labels) ~= "table" or #labels ~= 2 then
    fail(what, "'labels' must be two names { simulated, empirical }, got %s", check.show(labels))
  end
  local title = args.text(what, opts, "title") or "simulated vs empirical FC"
  if r then title = string.format("%s (correlation r = %.3f)", title, r) end
  local full, format = args.output(what, opts)
  return args.draw(what, full, format, args.size(what, opts, COMPARE_SIZE),
                   heatmap.script({ { m = sim, title = args.text(what, labels, 1) },
                                    { m = emp, title = args.text(what, labels, 2) } },
                                  { title = title, range = range, cblabel = "correlation" }))
end

return M
