--- Heat maps of node × node matrices (nm.plot.fc, nm.plot.fc_compare): the
-- matrix as an image with node numbers on both axes (row 0 at the top, as
-- the matrix is written), a diverging palette centred on 0 and a colour bar.
local gnuplot = require "neuromass.plot.gnuplot"
local scale = require "neuromass.plot.scale"

local string, table, ipairs, tostring, math, utf8 = string, table, ipairs, tostring, math, utf8

local M = {}

local DIVERGING = "set palette defined (0 '#2166ac', 0.25 '#92c5de', 0.5 '#f7f7f7', " ..
                  "0.75 '#f4a582', 1 '#b2182b')"

-- A tic step of 1, 2 or 5 times a power of ten giving at most 10 tics for n nodes.
local function tic_step(n)
  local step = 1
  while n / step > 10 do
    step = (tostring(step):sub(1, 1) == "2") and step * 5 // 2 or step * 2
  end
  return step
end

-- The axes' commands: tics, labels (default "node") and, for names, the
-- margins.  Without names: node numbers every tic_step.  With names: every
-- k-th name, as many as fit on the square's side, in the small font, x
-- names rotated; no axis label unless given (the names say what the axes
-- are), and the margins set to the longest name (gnuplot sizes the margin
-- of rotated tics by the terminal's larger font: the square shrank).  The
-- side is estimated from the panel's pixels px = { w, h } less the margins,
-- the colour bar's and the title's.
local function axes(n, opts)
  local names, xlabel, ylabel = opts.names, opts.xlabel, opts.ylabel
  if not names and opts.nodes then                -- row i is node opts.nodes[i]: its number, every step-th
    local step, list = tic_step(n), {}
    for i = 1, n, step do list[#list + 1] = { tostring(opts.nodes[i]), i - 1 } end
    local tics = gnuplot.tic_list(list)
    return { "set xtics " .. tics .. " out nomirror", "set ytics " .. tics .. " out nomirror",
             "set xlabel " .. gnuplot.quote(xlabel or "node"), "set ylabel " .. gnuplot.quote(ylabel or "node") }
  end
  if not names then
    local step = tic_step(n)
    return { string.format("set xtics 0,%d out nomirror", step), string.format("set ytics 0,%d out nomirror", step),
             "set xlabel " .. gnuplot.quote(xlabel or "node"), "set ylabel " .. gnuplot.quote(ylabel or "node") }
  end
  local px = opts.px or { 720, 600 }
  local short, longest = {}, 0
  for i = 1, n do
    short[i] = gnuplot.short_name(names[i])
    longest = math.max(longest, utf8.len(short[i]) or #short[i])
  end
  local name_px = longest * gnuplot.NAME_CHAR_PX + 12        -- a name and its tic
  local side = math.min(px[1] - name_px - (ylabel and 20 or 0) - 130, px[2] - name_px - (xlabel and 20 or 0) - 60)
  local step = gnuplot.name_step(n, math.max(side, gnuplot.NAME_LINE_PX))
  local list = {}
  for i = 1, n, step do list[#list + 1] = { short[i], i - 1 } end
  local font = " font '" .. gnuplot.NAME_FONT .. "'"
  -- margins in the terminal's characters (pngcairo's 11 pt: about 9 px wide, 17 px high)
  return { "set xtics " .. gnuplot.tic_list(list) .. " out nomirror rotate by 90 right" .. font,
           "set ytics " .. gnuplot.tic_list(list) .. " out nomirror" .. font,
           "set xlabel " .. gnuplot.quote(xlabel or ""), "set ylabel " .. gnuplot.quote(ylabel or ""),
           string.format("set lmargin %d", math.ceil(name_px / 9) + (ylabel and 3 or 1)),
           string.format("set bmargin %d", math.ceil(name_px / 17) + (xlabel and 2 or 1)) }
end

--- heatmap.panel(name, m, opts) -> gnuplot commands drawing matrix `m`
-- (N × N) from the datablock $name: opts = { title, range = { lo, hi },
-- cblabel, xlabel, ylabel (default "node"; none with names), names (node
-- k's at [k + 1]: the axes' tics, as many as fit; nil: node numbers), nodes
-- (without names: row i's node number at [i], when the rows are not nodes
-- 0 to N - 1, e.g. the FC of a BOLD fed by some nodes only; nil: 0 to N - 1),
-- px = { w, h } (the panel's pixels, for how many names fit) }.
function M.panel(name, m, opts)
  local n = #m
  -- (a range beyond gnuplot's colour bar, 1e35 or 1e-35, drawn on a scale its label names: scale.lua)
  local sc = scale.of(opts.range[1], opts.range[2])
  local script = {
    gnuplot.datablock(name, scale.matrix(sc, m, gnuplot.LIMIT)),
    DIVERGING,
    string.format("set cbrange [%s:%s]", gnuplot.num(scale.apply(sc, opts.range[1])),
                  gnuplot.num(scale.apply(sc, opts.range[2]))),
    "set cblabel " .. gnuplot.quote(scale.label(sc, opts.cblabel)),
    "set size ratio -1",
    string.format("set xrange [-0.5:%g]", n - 0.5),
    string.format("set yrange [%g:-0.5]", n - 0.5),
  }
  local lines = axes(n, opts)
  table.move(lines, 1, #lines, #script + 1, script)
  script[#script + 1] = "set title " .. gnuplot.quote(opts.title or "")
  script[#script + 1] = string.format("plot $%s matrix with image notitle", name)
  return script
end

--- heatmap.script(panels, opts) -> the commands of a figure of one or more
-- panels side by side (each as heatmap.panel takes: { m, title }), under
-- opts.title (a multiplot's title when there are several panels), with
-- opts.range, cblabel, xlabel, ylabel, names and nodes for every panel, in a
-- figure of opts.size = { w, h } pixels.
function M.script(panels, opts)
  local script = { "unset grid" }
  if #panels > 1 then
    script[#script + 1] = string.format("set multiplot layout 1,%d title %s", #panels,
                                        gnuplot.quote(opts.title or ""))
  end
  for i, p in ipairs(panels) do
    local title = #panels > 1 and p.title or (opts.title or p.title)
    local lines = M.panel("m" .. i, p.m, { title = title, range = opts.range, cblabel = opts.cblabel,
                                           xlabel = opts.xlabel, ylabel = opts.ylabel, names = opts.names,
                                           nodes = opts.nodes,
                                           px = opts.size and { opts.size[1] // #panels, opts.size[2] } })
    table.move(lines, 1, #lines, #script + 1, script)
  end
  if #panels > 1 then script[#script + 1] = "unset multiplot" end
  return script
end

return M
