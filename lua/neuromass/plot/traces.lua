--- Figures of signals over time (nm.plot.timeseries, nm.plot.bold): a few
-- nodes as lines, many as stacked traces or as an image (node × time, the
-- value in colour).  Long series are thinned before they go to gnuplot:
-- lines keep each bin's minimum and maximum (the envelope survives), images
-- each bin's mean.
local gnuplot = require "neuromass.plot.gnuplot"
local args = require "neuromass.plot.args"
local check = require "neuromass._check"

local string, table, math, ipairs = string, table, math, ipairs

local M = {}

local SIZE = { 1000, 600 }   -- a figure of its own, pixels

--- Views: up to LINES_MAX nodes are drawn as lines by default, more as an image.
M.LINES_MAX = 8
M.VIEWS = { "lines", "stacked", "image" }
local MAX_LINE_BINS = 2000     -- bins per trace (two points each)
local MAX_IMAGE_COLUMNS = 1000 -- time columns of an image
local COLORBOX_CHARS = 7       -- an image's right margin, in characters: the gap and the colour bar,
local CBLABEL_CHARS = 4        -- and the gap and the (rotated) label after the bar's tics

local VIRIDIS = "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', " ..
                "0.75 '#5ec962', 1 '#fde725')"

-- Bins of [1, T] (at most `max` of them): an array of { first, last }.
local function bins(T, max)
  local n = math.min(T, max)
  local out = {}
  for b = 1, n do
    out[b] = { (b - 1) * T // n + 1, b * T // n }
  end
  return out
end

-- One trace thinned to its bins' extremes, in time order: { {t, v}, ... }.
local function envelope(t, v, T)
  local pts = {}
  for _, bin in ipairs(bins(T, MAX_LINE_BINS)) do
    local lo, hi = bin[1], bin[1]
    for k = bin[1], bin[2] do
      if v[k] < v[lo] then lo = k end
      if v[k] > v[hi] then hi = k end
    end
    local a, b = math.min(lo, hi), math.max(lo, hi)
    pts[#pts + 1] = { t[a], v[a] }
    if b ~= a then pts[#pts + 1] = { t[b], v[b] } end
  end
  return pts
end

-- The traces' range: lo, hi (finite values only; 0, 1 when there are none).
local function range(v)
  local lo, hi = math.huge, -math.huge
  for k = 1, #v do
    local x = v[k]
    if x == x and x ~= math.huge and x ~= -math.huge then
      if x < lo then lo = x end
      if x > hi then hi = x end
    end
  end
  if lo > hi then return 0, 1 end
  return lo, hi
end

-- Row r's label: its node's name (opts.names, node k's at [k + 1]; a long
-- one shortened) or number.
local function label(src, r, names)
  local node = src.nodes[r]
  return names and gnuplot.short_name(names[node + 1]) or tostring(node)
end

-- The y tics of `chosen` rows, row i at height pos(i): every `step`-th row's
-- label (a name or a node number); names in the small font, as many as
-- fit on an axis of `px` pixels.
local function row_tics(script, src, chosen, names, step, px, pos)
  if names then step = gnuplot.name_step(#chosen, px) end
  local tics = {}
  for i = 1, #chosen, step do tics[#tics + 1] = { label(src, chosen[i], names), pos(i) } end
  local font = names and " font '" .. gnuplot.NAME_FONT .. "'" or ""
  script[#script + 1] = "set ytics " .. gnuplot.tic_list(tics) .. font
end

-- Lines: one datablock per trace, a key naming the nodes ("node K", or its name).
local function lines(script, src, chosen, t, T, names)
  local plots = {}
  for i, r in ipairs(chosen) do
    script[#script + 1] = gnuplot.datablock("d" .. i, envelope(t, src.rows[r], T))
    plots[#plots + 1] = string.format("$d%d using 1:2 with lines lw 1.2 title %s", i,
                                      gnuplot.quote(names and label(src, r, names) or "node " .. src.nodes[r]))
  end
  script[#script + 1] = "set key outside right top"
  script[#script + 1] = "plot " .. table.concat(plots, ", ")
end

-- Stacked: each trace scaled to its own range and drawn at its own height.
local function stacked(script, src, chosen, t, T, ylabel, names, px)
  local plots = {}
  for i, r in ipairs(chosen) do
    local v = src.rows[r]
    local lo, hi = range(v)
    local scale = hi > lo and 0.85 / (hi - lo) or 0
    local pts = envelope(t, v, T)
    for _, p in ipairs(pts) do p[2] = (i - 1) + (p[2] - lo) * scale + (scale == 0 and 0.425 or 0) end
    script[#script + 1] = gnuplot.datablock("d" .. i, pts)
    plots[#plots + 1] = string.format("$d%d using 1:2 with lines lc rgb '#1f4e79' lw 0.8 notitle", i)
  end
  row_tics(script, src, chosen, names, math.max(1, #chosen // 20), px, function(i) return i - 1 + 0.425 end)
  script[#script + 1] = string.format("set yrange [-0.2:%g]", #chosen)
  script[#script + 1] = "set ylabel " .. gnuplot.quote("node (" .. ylabel .. ", each trace scaled to its range)")
  script[#script + 1] = "plot " .. table.concat(plots, ", ")
end

-- Image: node × time, each bin's mean in colour (a nonuniform matrix: the
-- first line holds the times, each next line a node and its values).
local function image(script, src, chosen, t, T, ylabel, names, px)
  local b = bins(T, MAX_IMAGE_COLUMNS)
  local head = { #b }
  for j, bin in ipairs(b) do head[j + 1] = (t[bin[1]] + t[bin[2]]) / 2 end
  local rows = { head }
  for i, r in ipairs(chosen) do
    local v, row = src.rows[r], { i - 1 }
    for j, bin in ipairs(b) do
      local s = 0
      for k = bin[1], bin[2] do s = s + v[k] end
      row[j + 1] = s / (bin[2] - bin[1] + 1)
    end
    rows[#rows + 1] = row
  end
  script[#script + 1] = gnuplot.datablock("m", rows)
  script[#script + 1] = VIRIDIS
  row_tics(script, src, chosen, names, math.max(1, #chosen // 16), px, function(i) return i - 1 end)
  script[#script + 1] = string.format("set yrange [%g:-0.5]", #chosen - 0.5)
  script[#script + 1] = "set ylabel " .. (names and "''" or "'node'")   -- names say what the rows are
  script[#script + 1] = "set cblabel " .. gnuplot.quote(ylabel)
  -- gnuplot's automatic right margin holds the colour bar and its tics but not its label, which the
  -- picture's edge then cuts: the margin set (in characters) to the bar, its widest tic and the label.
  local lo, hi = math.huge, -math.huge
  for i = 2, #rows do
    for j = 2, #rows[i] do
      local v = rows[i][j]
      if v == v then lo, hi = math.min(lo, v), math.max(hi, v) end
    end
  end
  local tic = lo <= hi and math.max(#string.format("%.2g", lo), #string.format("%.2g", hi)) or 4
  script[#script + 1] = string.format("set rmargin %d", COLORBOX_CHARS + tic + CBLABEL_CHARS)
  script[#script + 1] = "plot $m nonuniform matrix with image notitle"
end

-- The gnuplot commands of a time-series figure.  src = { rows, nodes, t
-- (times or nil: sample numbers) }; chosen = the 1-based rows to draw; opts = { view = "lines" | "stacked" | "image"
-- (default: lines for up to LINES_MAX rows, else image), title, xlabel,
-- ylabel, time_scale (the times are multiplied by it), names (node k's at
-- [k + 1], or nil: numbers), height (the panel's height in pixels) }.
local function script_of(src, chosen, opts)
  local T = #src.rows[chosen[1]]
  local t = {}
  local scale = opts.time_scale or 1
  for k = 1, T do t[k] = src.t and src.t[k] * scale or k - 1 end
  local script = { "set grid", "set border lw 1", "set autoscale xfix" }
  if opts.title then script[#script + 1] = "set title " .. gnuplot.quote(opts.title) end
  script[#script + 1] = "set xlabel " .. gnuplot.quote(src.t and opts.xlabel or "sample")
  local view = opts.view or (#chosen <= M.LINES_MAX and "lines" or "image")
  if view == "lines" then
    script[#script + 1] = "set ylabel " .. gnuplot.quote(opts.ylabel)
    lines(script, src, chosen, t, T, opts.names)
  else
    -- the rows' axis: the panel's height less the title's, the time axis's and the margins' (about 110 px)
    local px = (opts.height or SIZE[2]) - 110
    if view == "stacked" then
      stacked(script, src, chosen, t, T, opts.ylabel, opts.names, px)
    else
      script[1] = "unset grid"
      image(script, src, chosen, t, T, opts.ylabel, opts.names, px)
    end
  end
  return script
end

-- Row v as z-scores: minus its mean, over its standard deviation (of the
-- population); a constant row becomes zeros.
local function zscored(v)
  local n, mean, ss = #v, 0, 0
  for k = 1, n do mean = mean + v[k] end
  mean = mean / n
  for k = 1, n do ss = ss + (v[k] - mean) ^ 2 end
  local sd, out = math.sqrt(ss / n), {}
  for k = 1, n do out[k] = sd > 0 and (v[k] - mean) / sd or 0 end
  return out
end

--- traces.panel(what, src, opts, axes) -> the gnuplot commands drawing
-- src = { rows (N × T), nodes (0-based, one per row), t (ms, or nil: sample
-- numbers) } with the user's options opts = { nodes, view, zscore }
-- (checked here, with the times, finite and increasing, and each chosen row
-- holding a finite value; errors name `what`) and axes = { title, xlabel,
-- ylabel, time_scale, tname (the times' name in messages, default "t"),
-- series (the series' name in messages, default ylabel), height (the
-- panel's pixels, for how many names fit) }; opts.names (args.names: one
-- per node of src.count nodes, default the highest node + 1) labels the
-- rows by name.  A series of
-- fewer than 2 samples is refused (one draws an empty picture).
-- zscore = true draws each row as z-scores (rows of very different levels,
-- such as measured BOLD, side by side).  A figure of its
-- own (traces.figure) or a panel of a larger one (plot/study.lua).
function M.panel(what, src, opts, axes)
  args.samples(what, #src.rows[1], axes.series or axes.ylabel)
  local chosen = args.nodes(what, opts, src.nodes)
  local names = args.names(what, opts, args.name_count(src))
  if src.t then args.times(what, src.t, axes.tname or "t") end
  for _, r in ipairs(chosen) do
    args.some_finite(what, src.rows[r], string.format("node %d's %s", src.nodes[r], axes.ylabel))
  end
  local ylabel = axes.ylabel
  if opts.zscore ~= nil and opts.zscore ~= false then
    if opts.zscore ~= true then args.fail(what, "'zscore' must be true or false, got %s", check.show(opts.zscore)) end
    local rows = {}
    for _, r in ipairs(chosen) do rows[r] = zscored(src.rows[r]) end
    src, ylabel = { rows = rows, nodes = src.nodes, t = src.t, count = src.count }, ylabel .. " (z-score)"
  end
  local view = args.choice(what, opts, "view", M.VIEWS)
  return script_of(src, chosen, { view = view, title = axes.title, xlabel = axes.xlabel,
                                  ylabel = ylabel, time_scale = axes.time_scale, names = names,
                                  height = axes.height })
end

--- traces.figure(what, src, opts, axes) -> the path written: traces.panel's
-- drawing as a figure of its own, with opts.title, opts.size and opts.out
-- (axes.inputs: files the output must not overwrite).
function M.figure(what, src, opts, axes)
  local title = args.text(what, opts, "title")
  local size = args.size(what, opts, SIZE)
  local script = M.panel(what, src, opts, { title = title, xlabel = axes.xlabel, ylabel = axes.ylabel,
                                            time_scale = axes.time_scale, tname = axes.tname,
                                            series = axes.series, height = size[2] })
  local full, format = args.output(what, opts, axes.inputs)
  return args.draw(what, full, format, size, script)
end

return M
