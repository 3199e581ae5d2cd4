-- custom_mass.lua: a new node type in a few lines.  The Jansen-Rit model
-- (Jansen & Rit 1995): pyramidal cells (y0), excitatory (y1) and inhibitory
-- (y2) postsynaptic potentials in mV, y3..y5 their time derivatives; time in
-- ms, firing rates in kHz.  Two nodes excite each other through the firing
-- rate of their pyramidal cells, delayed by 10 ms; 1 s is written to
-- jansen_rit.csv (v = y1 - y2, the EEG-like signal, and the rate).
--   neuromass run examples/custom_mass.lua --out out
local nm = require "neuromass"

-- Sigmoid: mean membrane potential (mV) -> mean firing rate (kHz).
local function S(v, p) return p.v_max / (1 + nm.exp(p.r * (p.v0 - v))) end

local JansenRit = nm.mass {
  name = "Jansen-Rit", label = "JRMass", type = "EXC",
  state = { y0 = 0, y1 = 0, y2 = 0, y3 = 0, y4 = 0, y5 = 0,
            order = { "y0", "y1", "y2", "y3", "y4", "y5" } },
  params = { A = 3.25, B = 22, a = 0.1, b = 0.05, v0 = 6, v_max = 0.005, r = 0.56, C = 135,
             p = 0.22 },                              -- p: external input (kHz)
  inputs = { "network_rate" },
  outputs = function(s, p) return { v = s.y1 - s.y2, rate = S(s.y1 - s.y2, p) } end,
  output_order = { "v", "rate" },
  coupling = "rate",                                  -- what it offers: the sync rule reads it
  derivatives = function(s, p, u)
    local C1, C2, C3, C4 = p.C, 0.8 * p.C, 0.25 * p.C, 0.25 * p.C
    return {
      y0 = s.y3, y1 = s.y4, y2 = s.y5,
      y3 = p.A * p.a * S(s.y1 - s.y2, p) - 2 * p.a * s.y3 - p.a ^ 2 * s.y0,
      y4 = p.A * p.a * (p.p + u.network_rate + C2 * S(C1 * s.y0, p))
           - 2 * p.a * s.y4 - p.a ^ 2 * s.y1,
      y5 = p.B * p.b * C4 * S(C3 * s.y0, p) - 2 * p.b * s.y5 - p.b ^ 2 * s.y2,
    }
  end,
}

local node = nm.node { label = "JRNode", masses = { JansenRit() } }
local net = nm.network {
  label = "JRNet", nodes = nm.replicate(node, 2),
  connectivity = { { 0, 1 }, { 1, 0 } }, delays = { { 0, 10 }, { 10, 0 } },   -- [to, from], ms
  sync = function(net) return { network_rate = net:additive("rate", { gain = 20 }) } end,
}

local model = nm.model(net)
model.params["*JRNode_1*.p"] = 0.12                   -- the second node gets less input
local res = model:run { duration = 1000, dt = 0.1, sampling_dt = 1.0, record = { "v", "rate" } }
-- (under neuromass info, res.dry: the path is checked, nothing is written)
print((res.dry and "would write " or "wrote ") .. res:write_csv("jansen_rit.csv"))
