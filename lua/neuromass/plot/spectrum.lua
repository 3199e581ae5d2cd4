--- The figure of power spectra (nm.plot.spectrum): power over frequency, one
-- line per spectrum, as nm.func.getPowerSpectrum / getMeanPowerSpectrum
-- return them (f in Hz, P); a long spectrum thinned by plot/thin.lua's rule
-- (its peaks kept).
local gnuplot = require "neuromass.plot.gnuplot"
local thin = require "neuromass.plot.thin"

local string, table, ipairs = string, table, ipairs

local M = {}

--- spectrum.script(f, spectra, opts) -> the gnuplot commands: f the
-- frequencies (Hz), spectra an array of power arrays (each #f long); opts =
-- { title, labels = { one per spectrum } or nil, logy = true for a
-- logarithmic power axis, ylabel = the power axis's label or nil (its default),
-- width = the figure's pixels across (thin.envelope's columns) }.
function M.script(f, spectra, opts)
  local script = { "set grid", "set xlabel 'frequency (Hz)'",
                   "set ylabel " .. gnuplot.quote(opts.ylabel or "power (signal units²)") }
  if opts.title then script[#script + 1] = "set title " .. gnuplot.quote(opts.title) end
  if opts.logy then script[#script + 1] = "set logscale y" end
  local plots = {}
  for i, P in ipairs(spectra) do
    script[#script + 1] = gnuplot.datablock("s" .. i, thin.envelope(f, P, #f, opts.width))
    local label = opts.labels and opts.labels[i]
    plots[#plots + 1] = string.format("$s%d using 1:2 with lines lw 1.5 %s", i,
                                      label and ("title " .. gnuplot.quote(label)) or "notitle")
  end
  script[#script + 1] = "plot " .. table.concat(plots, ", ")
  return script
end

return M
