-- plot_util.lua: what the plot specs share (plot_spec, plot_bold_nodes_spec,
-- plot_names_spec): a file's bytes, the texts an SVG shows, and the 12-node
-- FHN ring they draw.
local nm = require "neuromass"

local M = {}

--- M.slurp(path) -> the file's bytes, or nil when it cannot be read.
function M.slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- M.shows(svg, text): whether the SVG shows `text` (gnuplot writes each
-- label's text between > and <, tic labels with a leading space; & and <
-- escaped as &amp; and &lt;).
function M.shows(svg, text)
  text = text:gsub("&", "&amp;"):gsub("<", "&lt;")
  return svg:find(">%s*" .. text:gsub("%p", "%%%0") .. "<") ~= nil
end

--- M.fhn_ring() -> the result of a 12-node FHN network (a ring) run for 300 ms.
function M.fhn_ring()
  local n = 12
  local C, D = {}, {}
  for i = 1, n do
    C[i], D[i] = {}, {}
    for j = 1, n do
      C[i][j] = (math.abs(i - j) == 1 or math.abs(i - j) == n - 1) and 0.5 or 0
      D[i][j] = math.abs(i - j) * 2
    end
  end
  return nm.models.fhn.native { Cmat = C, Dmat = D }:run { duration = 300, dt = 0.1 }
end

return M
