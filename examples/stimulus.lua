-- stimulus.lua: neurolib's composable stimuli driving a model.  Two
-- Wilson-Cowan nodes (neurolib's WCModel, weakly coupled) get one channel each
-- of `ou & sq & sin`: a third of the run of Ornstein-Uhlenbeck noise, a third
-- of a 1.7 Hz square wave, a third of a 1 Hz sinusoid, added to their
-- excitatory input on top of a constant baseline that puts them near the
-- onset of oscillations.  3 s are written to stimulus.csv (exc and inh of both
-- nodes, every ms).
--   neuromass run examples/stimulus.lua --out out
--   neuromass run examples/stimulus.lua --out out --seed 7     (another noise realisation)
local nm = require "neuromass"
local stim = nm.stimulus

-- The noise's seed: --seed N on the command line (nm.context().seed), else 1.  A
-- stimulus with a seed of its own keeps it whatever the run's seed, so it is passed here.
local seed = (nm.context() or {}).seed or 1
local ou  = stim.OrnsteinUhlenbeckProcess { mu = 0.1, sigma = 0.04, tau = 2.0, n = 2, seed = seed }
local sq  = stim.SquareInput     { amplitude = 0.2, frequency = 1.7, n = 2 }   -- frequency in Hz
local sin = stim.SinusoidalInput { amplitude = 0.7, frequency = 1.0, n = 2 }
local input = ou & sq & sin                  -- three equal parts (Lua 5.4's & is __band)
print("input: " .. tostring(input))

local model = nm.models.wc.native { Cmat = { { 0, 0.5 }, { 0.5, 0 } }, Dmat = { { 0, 20 }, { 20, 0 } },
                                    exc_ext_baseline = 1.0, seed = 3 }
model.params.exc_ext = input                 -- channel i drives node i

local duration, dt = 3000, 0.1
local res = model:run { duration = duration, dt = dt, sampling_dt = 1.0 }
local path = res:write_csv("stimulus.csv")   -- (under neuromass info, res.dry: checked, not written)
print(res.dry and "would write " .. path or string.format("wrote %s: %d rows", path, res:rows()))

-- The stimulus itself, on neurolib's grid (sample k labelled k * dt, used by
-- the step from that time): the mean of each third of channel 0.
local a = input:as_array(duration, dt)
local third = #a[1] // 3
for part, name in ipairs { "ou", "square", "sine" } do
  local sum = 0
  for k = (part - 1) * third + 1, part * third do sum = sum + a[1][k] end
  print(string.format("  %-6s mean input %.4f", name, sum / third))
end
