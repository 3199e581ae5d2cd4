--- Figures of signals over time (nm.plot.timeseries, nm.plot.bold): a few
-- nodes as lines, many as stacked traces or as an image (node × time, the
-- value in colour).  Long series are thinned before they go to gnuplot by
-- plot/thin.lua's rule (the panel's pixel columns, not the data's length).
local gnuplot = require "neuromass.plot.gnuplot"
local args = require "neuromass.plot.args"
local check = require "neuromass._check"
local thin = require "neuromass.plot.thin"
local axis_scale = require "neuromass.plot.scale"

local string, table, math, ipairs = string, table, math, ipairs
local host = require("neuromass.context").get

local M = {}

local SIZE = { 1000, 600 }   -- a figure of its own, pixels
M.SIZE = SIZE

--- Views: up to LINES_MAX nodes are drawn as lines by default, more as an image.
M.LINES_MAX = 8
M.VIEWS = { "lines", "stacked", "image" }
local COLORBOX_CHARS = 7       -- an image's right margin, in characters: the gap and the colour bar,
local CBLABEL_CHARS = 4        -- and the gap and the (rotated) label after the bar's tics

local VIRIDIS = "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', " ..
                "0.75 '#5ec962', 1 '#fde725')"

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

-- Lines: one datablock per trace (its fold's points), a key naming the
-- nodes ("node K", or its name); the values axis named `ylabel`, on the
-- scale it names when the values need one (scale.lua: 1000 + 1e-9 k).
local function lines(script, src, chosen, folds, names, ylabel)
  local lo, hi = math.huge, -math.huge
  for _, r in ipairs(chosen) do lo, hi = axis_scale.range(folds[r].pts, gnuplot.LIMIT, lo, hi, 2) end
  local sc = axis_scale.of(lo, hi)
  script[#script + 1] = "set ylabel " .. gnuplot.quote(axis_scale.label(sc, ylabel))
  local plots = {}
  for i, r in ipairs(chosen) do
    script[#script + 1] = gnuplot.datablock("d" .. i, axis_scale.points(sc, folds[r].pts, gnuplot.LIMIT))
    plots[#plots + 1] = string.format("$d%d using 1:2 with lines lw 1.2 title %s", i,
                                      gnuplot.quote(names and label(src, r, names) or "node " .. src.nodes[r]))
  end
  script[#script + 1] = "set key outside right top"
  script[#script + 1] = "plot " .. table.concat(plots, ", ")
end

-- Stacked: each trace (its fold's points) scaled to its own range and drawn
-- at its own height; `px`: the rows' axis in pixels.
local function stacked(script, src, chosen, folds, ylabel, names, px)
  local plots = {}
  for i, r in ipairs(chosen) do
    local fold = folds[r]
    local lo, hi = fold.lo, fold.hi
    local scale = hi > lo and 0.85 / (hi - lo) or 0
    local pts = {}
    for k, p in ipairs(fold.pts) do pts[k] = { p[1], (i - 1) + (p[2] - lo) * scale + (scale == 0 and 0.425 or 0) } end
    script[#script + 1] = gnuplot.datablock("d" .. i, pts)
    plots[#plots + 1] = string.format("$d%d using 1:2 with lines lc rgb '#1f4e79' lw 0.8 notitle", i)
  end
  row_tics(script, src, chosen, names, math.max(1, #chosen // 20), px, function(i) return i - 1 + 0.425 end)
  script[#script + 1] = string.format("set yrange [-0.2:%g]", #chosen)
  script[#script + 1] = "set ylabel " .. gnuplot.quote("node (" .. ylabel .. ", each trace scaled to its range)")
  script[#script + 1] = "plot " .. table.concat(plots, ", ")
end

-- Image: node × time, each column's mean in colour (the folds' image bins;
-- a nonuniform matrix: the first line holds the times, each next line a
-- node and its values); `px`: the rows' axis in pixels.
local function image(script, src, chosen, folds, ylabel, names, px)
  local cols = folds[chosen[1]].image
  local head = { #cols }
  for j, c in ipairs(cols) do head[j + 1] = (c[1] + c[2]) / 2 end
  local rows = { head }
  for i, r in ipairs(chosen) do
    local row = { i - 1 }
    for j, c in ipairs(folds[r].image) do row[j + 1] = c[3] end
    rows[#rows + 1] = row
  end
  -- values beyond gnuplot's colour bar (1e35, 1e-35) on the scale the bar's label names (scale.lua)
  local vlo, vhi = math.huge, -math.huge
  for i = 2, #rows do vlo, vhi = axis_scale.range(table.move(rows[i], 2, #rows[i], 1, {}), gnuplot.LIMIT, vlo, vhi) end
  local sc = axis_scale.of(vlo, vhi)
  script[#script + 1] = gnuplot.datablock("m", axis_scale.matrix(sc, rows, gnuplot.LIMIT, 2))
  script[#script + 1] = VIRIDIS
  row_tics(script, src, chosen, names, math.max(1, #chosen // 16), px, function(i) return i - 1 end)
  script[#script + 1] = string.format("set yrange [%g:-0.5]", #chosen - 0.5)
  script[#script + 1] = "set ylabel " .. (names and "''" or "'node'")   -- names say what the rows are
  script[#script + 1] = "set cblabel " .. gnuplot.quote(axis_scale.label(sc, ylabel))
  -- gnuplot's automatic right margin holds the colour bar and its tics but not its label, which the
  -- picture's edge then cuts: the margin set (in characters) to the bar, its widest tic and the label.
  local lo, hi = axis_scale.apply(sc, vlo), axis_scale.apply(sc, vhi)
  local tic = vlo <= vhi and math.max(#string.format("%.2g", lo), #string.format("%.2g", hi)) or 4
  script[#script + 1] = string.format("set rmargin %d", COLORBOX_CHARS + tic + CBLABEL_CHARS)
  script[#script + 1] = "plot $m nonuniform matrix with image notitle"
end

-- A fold's values as z-scores (minus the mean of its finite samples, over
-- their standard deviation; all zeros when that is 0; NaN stays NaN): the
-- transform is affine and increasing, so the thinned points and column
-- means are those of the z-scored series.
local function zscored(fold)
  local mean, sd = fold.mean, fold.sd
  local function z(v) return v ~= v and v or sd > 0 and (v - mean) / sd or 0 end
  local pts, img = fold.pts and {}, fold.image and {}
  for k, p in ipairs(fold.pts or {}) do pts[k] = { p[1], gnuplot.drawable(p[2]) and z(p[2]) or 0 / 0 } end
  for j, c in ipairs(fold.image or {}) do img[j] = { c[1], c[2], z(c[3]) } end
  return { pts = pts, image = img, n = fold.n, lo = z(fold.lo), hi = z(fold.hi) }
end

--- traces.view(view, n) -> the view that draws n rows: `view` (the user's
-- option, or nil: lines for up to LINES_MAX rows, else an image).
function M.view(view, n)
  return view or (n <= M.LINES_MAX and "lines" or "image")
end

--- traces.fold_kind(view) -> what thin.folder keeps for `view`: "image" or "line".
function M.fold_kind(view)
  return view == "image" and "image" or "line"
end

-- The folds (plot/thin.lua) of the chosen rows for `view`: src.folded's (a
-- source read as it streamed, for that view: times unscaled, scaled here)
-- or the rows' own, on `cols` pixel columns; z-scored on request.
local function folds_of(what, src, chosen, view, cols, scale, zscore)
  local folds = {}
  if src.folded then
    for _, r in ipairs(chosen) do
      local f = src.folded[r]
      local pts, img = f.pts and {}, f.image and {}
      for k, p in ipairs(f.pts or {}) do pts[k] = { p[1] * scale, p[2] } end
      for j, c in ipairs(f.image or {}) do img[j] = { c[1] * scale, c[2] * scale, c[3] } end
      folds[r] = { pts = pts, image = img, n = f.n, lo = f.lo, hi = f.hi, mean = f.mean, sd = f.sd }
    end
  else
    local T = src.T or #src.rows[chosen[1]]
    local t = {}
    for k = 1, T do t[k] = src.t and src.t[k] * scale or k - 1 end
    for _, r in ipairs(chosen) do
      args.stop(what)
      folds[r] = thin.fold(t, src.rows[r], T, cols, M.fold_kind(view))
    end
  end
  if zscore then
    for _, r in ipairs(chosen) do folds[r] = zscored(folds[r]) end
  end
  return folds
end

-- The gnuplot commands of a time-series figure.  src = { rows, nodes, t
-- (times or nil: sample numbers) } or { folded (one thin.fold result per
-- row, times in ms), T, nodes, t = true }; chosen = the 1-based rows to
-- draw; opts = { what (the figure, named by a stop), view = "lines" |
-- "stacked" | "image" (default: lines for up to LINES_MAX rows, else image),
-- title, xlabel, ylabel, time_scale (the times are multiplied by it), names
-- (node k's at [k + 1], or nil: numbers), height and width (the panel's
-- pixels), zscore }.
local function script_of(src, chosen, opts)
  local view = M.view(opts.view, #chosen)
  local folds = folds_of(opts.what, src, chosen, view, opts.width or SIZE[1], opts.time_scale or 1, opts.zscore)
  local script = { "set grid", "set border lw 1", "set autoscale xfix" }
  if opts.title then script[#script + 1] = "set title " .. gnuplot.quote(opts.title) end
  script[#script + 1] = "set xlabel " .. gnuplot.quote(src.t and opts.xlabel or "sample")
  if view == "lines" then
    lines(script, src, chosen, folds, opts.names, opts.ylabel)
  else
    -- the rows' axis: the panel's height less the title's, the time axis's and the margins' (about 110 px)
    local px = (opts.height or SIZE[2]) - 110
    if view == "stacked" then
      stacked(script, src, chosen, folds, opts.ylabel, opts.names, px)
    else
      script[1] = "unset grid"
      image(script, src, chosen, folds, opts.ylabel, opts.names, px)
    end
  end
  return script
end

-- The drawn rows' values that are not finite (a run that diverged): gnuplot
-- leaves gaps, which the figure alone does not tell from a quiet stretch, so
-- a warning per node says how many: on stderr under the executable (unless
-- --quiet), as sonify's, through warn() in a plain Lua.
local function warn_gaps(what, src, chosen, ylabel)
  local h = host()
  if h and h.quiet then return end
  for _, r in ipairs(chosen) do
    args.stop(what)
    local bad, total, beyond = 0, src.T or #src.rows[r], nil
    if src.folded then
      bad, beyond = total - src.folded[r].n, src.folded[r].beyond   -- (folded as read: its drawable values)
    else
      local row = src.rows[r]
      for _, v in ipairs(row) do
        if not gnuplot.drawable(v) then bad = bad + 1 end
      end
      if bad > 0 then beyond = args.beyond(row) end
    end
    if bad > 0 then
      local w = string.format("node %d's %s: %d of its %s %s %s, not drawn (gaps in its line)",
                              src.nodes[r], ylabel, bad, check.nouns(total, "value"), bad == 1 and "is" or "are",
                              args.not_drawn(beyond))
      check.warning(what, w)
    end
  end
end

--- traces.panel(what, src, opts, axes) -> the gnuplot commands drawing
-- src = { rows (N × T), nodes (0-based, one per row), t (ms, or nil: sample
-- numbers) } with the user's options opts = { nodes, view, zscore }
-- (checked here, with the times, finite and increasing, and each chosen row
-- holding a finite value; errors name `what`) and axes = { title, xlabel,
-- ylabel, time_scale, tname (the times' name in messages, default "t"),
-- series (the series' name in messages, default ylabel), height (the
-- panel's pixels, for how many names fit), width (the panel's pixels: how
-- many columns a trace is thinned to, plot/thin.lua) }; opts.names (args.names: one
-- per node of src.count nodes, default the highest node + 1) labels the
-- rows by name.  A series of
-- fewer than 2 samples is refused (one draws an empty picture).
-- zscore = true draws each row as z-scores (rows of very different levels,
-- such as measured BOLD, side by side).  A figure of its
-- own (traces.figure) or a panel of a larger one (plot/study.lua).
function M.panel(what, src, opts, axes)
  args.samples(what, src.T or #src.rows[1], axes.series or axes.ylabel)
  local chosen = args.nodes(what, opts, src.nodes)
  local names = args.names(what, opts, args.name_count(src))
  if src.t and not src.folded then args.times(what, src.t, axes.tname or "t") end   -- (folded: checked as read)
  for _, r in ipairs(chosen) do
    args.stop(what)
    local name = string.format("node %d's %s", src.nodes[r], axes.ylabel)
    if src.folded then args.finite_count(what, src.folded[r].n, src.T, name, src.folded[r].beyond)
    else args.some_finite(what, src.rows[r], name) end
  end
  warn_gaps(what, src, chosen, axes.ylabel)
  local ylabel = axes.ylabel
  if opts.zscore ~= nil and opts.zscore ~= false then
    if opts.zscore ~= true then args.fail(what, "'zscore' must be true or false, got %s", check.show(opts.zscore)) end
    ylabel = ylabel .. " (z-score)"
  end
  local view = args.choice(what, opts, "view", M.VIEWS)
  return script_of(src, chosen, { what = what, view = view, title = axes.title, xlabel = axes.xlabel,
                                  ylabel = ylabel, time_scale = axes.time_scale, names = names,
                                  height = axes.height, width = axes.width, zscore = opts.zscore == true })
end

--- traces.figure(what, src, opts, axes) -> the path written: traces.panel's
-- drawing as a figure of its own, with opts.title, opts.size and opts.out
-- (axes.inputs: files the output must not overwrite).
function M.figure(what, src, opts, axes)
  local title = args.text(what, opts, "title")
  local size = args.size(what, opts, SIZE)
  local script = M.panel(what, src, opts, { title = title, xlabel = axes.xlabel, ylabel = axes.ylabel,
                                            time_scale = axes.time_scale, tname = axes.tname,
                                            series = axes.series, height = size[2], width = size[1] })
  local full, format = args.output(what, opts, axes.inputs)
  return args.draw(what, full, format, size, script)
end

return M
