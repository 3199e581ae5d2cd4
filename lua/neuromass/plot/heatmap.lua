--- Heat maps of node × node matrices (nm.plot.fc, nm.plot.fc_compare): the
-- matrix as an image with node numbers on both axes (row 0 at the top, as
-- the matrix is written), a diverging palette centred on 0 and a colour bar.
local gnuplot = require "neuromass.plot.gnuplot"

local string, table, ipairs, tostring = string, table, ipairs, tostring

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

--- heatmap.panel(name, m, opts) -> gnuplot commands drawing matrix `m`
-- (N × N) from the datablock $name: opts = { title, range = { lo, hi },
-- cblabel, xlabel, ylabel (default "node") }.
function M.panel(name, m, opts)
  local n = #m
  local step = tic_step(n)
  local script = {
    gnuplot.datablock(name, m),
    DIVERGING,
    string.format("set cbrange [%s:%s]", gnuplot.num(opts.range[1]), gnuplot.num(opts.range[2])),
    "set cblabel " .. gnuplot.quote(opts.cblabel),
    "set size ratio -1",
    string.format("set xrange [-0.5:%g]", n - 0.5),
    string.format("set yrange [%g:-0.5]", n - 0.5),
    string.format("set xtics 0,%d out nomirror", step),
    string.format("set ytics 0,%d out nomirror", step),
    "set xlabel " .. gnuplot.quote(opts.xlabel or "node"),
    "set ylabel " .. gnuplot.quote(opts.ylabel or "node"),
    "set title " .. gnuplot.quote(opts.title or ""),
    string.format("plot $%s matrix with image notitle", name),
  }
  return script
end

--- heatmap.script(panels, opts) -> the commands of a figure of one or more
-- panels side by side (each as heatmap.panel takes: { m, title }), under
-- opts.title (a multiplot's title when there are several panels), with
-- opts.range, cblabel, xlabel and ylabel for every panel.
function M.script(panels, opts)
  local script = { "unset grid" }
  if #panels > 1 then
    script[#script + 1] = string.format("set multiplot layout 1,%d title %s", #panels,
                                        gnuplot.quote(opts.title or ""))
  end
  for i, p in ipairs(panels) do
    local title = #panels > 1 and p.title or (opts.title or p.title)
    local lines = M.panel("m" .. i, p.m, { title = title, range = opts.range, cblabel = opts.cblabel,
                                           xlabel = opts.xlabel, ylabel = opts.ylabel })
    table.move(lines, 1, #lines, #script + 1, script)
  end
  if #panels > 1 then script[#script + 1] = "unset multiplot" end
  return script
end

return M
