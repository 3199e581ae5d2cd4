--- The study figure (nm.plot.fc_compare with bold =): simulated FC |
-- empirical FC | BOLD over time, in one row under one title.  The two heat
-- maps are heatmap.panel's, the BOLD panel traces.panel's; this file only
-- places them (gnuplot multiplot, each panel at its own origin and size).
local gnuplot = require "neuromass.plot.gnuplot"
local heatmap = require "neuromass.plot.heatmap"

local string, table, ipairs = string, table, ipairs

local M = {}

--- The default size in pixels: two square heat maps and a wider BOLD panel.
M.SIZE = { 1800, 600 }

-- The panels' left edges and widths (fractions of the figure), and the
-- height they leave for the figure's title.
local LEFT, WIDTH, HEIGHT = { 0, 0.29, 0.58 }, { 0.29, 0.29, 0.42 }, 0.92

--- study.panel_height(size) -> the height in pixels of the panels of a figure of size = { w, h }.
function M.panel_height(size)
  return size[2] * HEIGHT
end

--- study.bold_width(size) -> the width in pixels of the BOLD panel of a figure of size = { w, h }.
function M.bold_width(size)
  return size[1] * WIDTH[3]
end

local function append(script, lines)
  table.move(lines, 1, #lines, #script + 1, script)
end

--- study.script(fcs, bold, opts) -> the gnuplot commands: fcs = { { m, title },
-- { m, title } } (the simulated and the empirical FC, N × N), bold = the
-- BOLD panel's commands (traces.panel), opts = { title, range = { lo, hi },
-- cblabel, names (or nil), nodes (or nil: as heatmap.panel's), size = { w, h } (the figure's
-- pixels) } for the heat maps.
function M.script(fcs, bold, opts)
  local script = { "unset grid", "set multiplot title " .. gnuplot.quote(opts.title or "") }
  for i, p in ipairs(fcs) do
    script[#script + 1] = string.format("set origin %g,0", LEFT[i])
    script[#script + 1] = string.format("set size %g,%g", WIDTH[i], HEIGHT)
    local size = opts.size or M.SIZE
    append(script, heatmap.panel("m" .. i, p.m, { title = p.title, range = opts.range, cblabel = opts.cblabel,
                                                  names = opts.names, nodes = opts.nodes,
                                                  px = { size[1] * WIDTH[i], size[2] * HEIGHT } }))
  end
  -- The heat maps' settings (ratio, ranges, tics, palette) must not reach the traces.
  append(script, { "reset", string.format("set origin %g,0", LEFT[3]),
                   string.format("set size %g,%g", WIDTH[3], HEIGHT) })
  append(script, bold)
  script[#script + 1] = "unset multiplot"
  return script
end

return M
