-- study_aln_gw.lua: from simulation to functional connectivity, as neurolib's
-- first examples do.  ALN on the gw connectome (80 cortical regions) for
-- 5 minutes with simulated BOLD; FC of the BOLD after the first 10 s; its
-- correlation with each gw subject's empirical FC; and a figure
-- (simulated FC | empirical FC | BOLD) written as study_aln_gw.png.
--   neuromass run examples/study_aln_gw.lua --out out          (make study)
--   neuromass run examples/study_aln_gw.lua --out out 60       (a quick look: 60 s simulated)
local nm = require "neuromass"

-- The simulated time in s: the script's argument, else 5 minutes.  BOLD has
-- one sample per 2 s (t_BOLD = 0.1, 2000.1, ... ms) and those up to 10 s are
-- dropped; an FC (a correlation) needs at least 3 samples after them (of 2,
-- every correlation is +-1; of 1, none is defined and fc gives zeros): at
-- least (10 / 2 + 3) * 2 = 16 s.
local BOLD_STEP, SKIP, FC_SAMPLES = 2, 10, 3
local MIN_SECONDS = (SKIP // BOLD_STEP + FC_SAMPLES) * BOLD_STEP
local seconds = 300
if arg and arg[1] then
  seconds = tonumber(arg[1])
  if not seconds or seconds < MIN_SECONDS or seconds ~= seconds // 1 then
    error(string.format("the argument is the simulated time, a whole number of seconds from %d on (BOLD, " ..
                        "one sample per %d s, before %d s is dropped; an FC needs %d samples after it), got '%s'",
                        MIN_SECONDS, BOLD_STEP, SKIP, FC_SAMPLES, tostring(arg[1])))
  end
end

local gw = nm.datasets.load("gw")
local model = nm.models.aln.native { Cmat = gw.Cmat, Dmat = gw.Dmat, seed = 42 }

-- BOLD is computed while integrating, from every step's excitatory rate (Hz);
-- the neural trajectory itself is not kept (record = {}): only BOLD, one
-- sample per 2 s.
local res = model:run { duration = seconds * 1000, dt = 0.1, record = {}, bold = true }

-- Drop the first 10 s of BOLD (the haemodynamic transient): keep t_BOLD > 10000 ms.
local skip = 0
while res.t_BOLD[skip + 1] and res.t_BOLD[skip + 1] <= 10000 do skip = skip + 1 end
local sim_fc = nm.func.fc(res.BOLD, { skip = skip })

-- Under `neuromass info` nothing is integrated: no BOLD sample, so no FC to
-- report, and the figure's arguments are checked but nothing is drawn.
local dry = #res.t_BOLD == 0
if dry then
  print(string.format("ALN on gw, %d s: neuromass info integrates nothing: no BOLD, no FC, no figure", seconds))
else
  print(string.format("ALN on gw, %d s: %d BOLD samples per region, FC of the %d after t = 10 s",
                      seconds, #res.t_BOLD, #res.t_BOLD - skip))
end
local best, best_r, sum = 1, -math.huge, 0
for i, subject in ipairs(gw.subjects) do
  local r = nm.func.matrix_correlation(sim_fc, gw.FCs[i])
  if not dry then print(string.format("  subject %-8s FC correlation %.3f", subject, r)) end
  sum = sum + r
  if r > best_r then best, best_r = i, r end
end
if not dry then print(string.format("  mean over %d subjects: %.3f", #gw.subjects, sum / #gw.subjects)) end

local figure = nm.plot.fc_compare(sim_fc, gw.FCs[best], {
  bold = res, skip = skip, zscore = true, correlation = best_r, out = "study_aln_gw.png",
  names = gw.names,                                 -- the AAL2 regions on the axes (every k-th that fits)
  labels = { "simulated FC", "empirical FC, subject " .. gw.subjects[best] },
  title = string.format("ALN on gw, %d s with BOLD", seconds) })
if not dry then print("wrote " .. figure) end
