--- Wong-Wang (Wong & Wang 2006; Deco et al. 2014): excitatory and inhibitory
-- pools whose NMDA (S_E) and GABA (S_I) gating variables follow the pools'
-- rates r(I) = (a I - b) / (1 - exp(-d (a I - b))).  Units: ms, nA, kHz.
--   MultiModel: ww.exc_mass, ww.inh_mass, ww.node(opts), ww.network(Cmat, delays_ms, opts)
--   native:     ww.native{ Cmat = ..., Dmat = ..., K_gl = ..., ... }  (WWModel)
-- For the reduced (one-pool) model see neuromass.models.rww.
local nm = require "neuromass"
local native = require "neuromass.models._native"

local M = {}

--- The pool's rate (kHz) at input current I (nA); the removable singularity at
-- a I = b takes its limit 1/d.
function M.rate(I, a, b, d)
  local x = a * I - b
  return nm.ifelse(nm.eq(x, 0), 1 / d, x / (1 - nm.exp(-d * x)))
end
local rate = M.rate

-- ---------------------------------------------------------------------
-- MultiModel flavour (neurolib's multimodel/builder/wong_wang.py)
-- ---------------------------------------------------------------------

M.exc_mass = nm.mass {
  name = "Wong-Wang excitatory mass", label = "WWmassEXC", type = "EXC",
  state = { S = 0, q_mean = 0, order = { "S", "q_mean" } },
  params = { a = 0.31, b = 0.125, d = 160.0, tau = 100.0, gamma = 0.641, W = 1.0,
             exc_current = 0.382, J_NMDA = 0.15, J_I = 1.0, lambda = 10.0 },
  inputs = { "node_exc_exc", "node_exc_inh", "network_exc_exc" },
  noise = 1,
  coupling = "S",
  time_constants = { "tau" },
  nonzero = { "d" },   -- (the rate is x / (1 - exp(-d x)))
  derivatives = function(s, p, u)
    local I = p.W * p.exc_current + p.J_NMDA * u.node_exc_exc + p.J_NMDA * u.network_exc_exc
              - p.J_I * u.node_exc_inh
    local r = rate(I, p.a, p.b, p.d)
    return { S = -s.S / p.tau + (1 - s.S) * p.gamma * r + u.input_0,
             q_mean = -p.lambda * (s.q_mean - r) }
  end,
}

M.inh_mass = nm.mass {
  name = "Wong-Wang inhibitory mass", label = "WWmassINH", type = "INH",
  state = { S = 0, q_mean = 0, order = { "S", "q_mean" } },
  params = { a = 0.615, b = 0.177, d = 87.0, tau = 10.0, W = 0.7, exc_current = 0.382,
             J_NMDA = 0.15, lambda = 10.0 },
  inputs = { "node_inh_exc", "node_inh_inh", "network_inh_exc" },
  noise = 1,
  coupling = "S",
  time_constants = { "tau" },
  nonzero = { "d" },   -- (the rate is x / (1 - exp(-d x)))
  derivatives = function(s, p, u)
    local I = p.W * p.exc_current + p.J_NMDA * u.node_inh_exc - u.node_inh_inh
              + p.J_NMDA * u.network_inh_exc
    local r = rate(I, p.a, p.b, p.d)
    return { S = -s.S / p.tau + r + u.input_0, q_mean = -p.lambda * (s.q_mean - r) }
  end,
}

-- The options of a node (and of a network, for each of its nodes).
local NODE_OPTIONS = { "seed", "connectivity" }

--- MultiModel's WWnode: local connectivity [to, from] (E, I) = [[1.4, 1], [1, 1]];
-- opts.seed draws each mass's state as U(0, 1) * [1, 0.01].
function M.node(opts)
  opts = native.options(opts, "ww.node", NODE_OPTIONS)
  local r = native.rng(opts.seed or 0)
  local ce, ci = r(), r()
  return nm.node {
    name = "Wong-Wang node", label = "WWnode",
    masses = { M.exc_mass { init = { S = ce, q_mean = 0.01 * ce } },
               M.inh_mass { init = { S = ci, q_mean = 0.01 * ci } } },
    connectivity = opts.connectivity or { { 1.4, 1.0 }, { 1.0, 1.0 } },
  }
end

--- MultiModel's WWnet: S_EXC couples additively to both pools of every node.
function M.network(Cmat, delays, opts)
  local nodes = native.seeded_nodes(M.node, Cmat, delays, opts, "ww.network", NODE_OPTIONS)
  return nm.network {
    name = "Wong-Wang network", label = "WWnet", nodes = nodes, connectivity = Cmat,
    delays = delays, bold = { variable = "S_EXC" },          -- neurolib's default output
    sync = function(net)
      local e = net:additive("S_EXC")
      return { network_exc_exc = e, network_inh_exc = e }
    end,
  }
end

-- ---------------------------------------------------------------------
-- Native flavour (neurolib's WWModel)
-- ---------------------------------------------------------------------

local function native_currents(s, p, u)
  local I_E = p.w_exc * (p.exc_current_baseline + p.exc_current) + p.w_ee * p.J_NMDA * s.se
              - p.J_I * s.si + p.J_NMDA * u.network_exc
  local I_I = p.w_inh * (p.inh_current_baseline + p.inh_current) + p.J_NMDA * s.se - s.si
  return rate(I_E, p.a_exc, p.b_exc, p.d_exc), rate(I_I, p.a_inh, p.b_inh, p.d_inh)
end

M.native_mass = nm.mass {
  name = "Wong-Wang (native)", label = "WW",
  state = { se = 0, si = 0, order = { "se", "si" } },
  params = { a_exc = 0.31, b_exc = 0.125, d_exc = 160.0, tau_exc = 100.0, gamma_exc = 0.641,
             w_exc = 1.0, exc_current_baseline = 0.382, a_inh = 0.615, b_inh = 0.177,
             d_inh = 87.0, tau_inh = 10.0, w_inh = 0.7, inh_current_baseline = 0.382,
             J_NMDA = 0.15, J_I = 1.0, w_ee = 1.4, exc_current = 0.0, inh_current = 0.0 },
  inputs = { "network_exc" },
  noise = 2,
  coupling = "se",
  -- Rates (kHz) of the state before the step, as neurolib writes them.
  outputs = function(s, p, u)
    local r_e, r_i = native_currents(s, p, u)
    return { r_exc = r_e, r_inh = r_i }
  end,
  output_order = { "r_exc", "r_inh" },
  time_constants = { "tau_exc", "tau_inh" },
  nonzero = { "d_exc", "d_inh" },   -- (the rates are x / (1 - exp(-d x)))
  derivatives = function(s, p, u)
    local r_e, r_i = native_currents(s, p, u)
    return { se = -s.se / p.tau_exc + (1 - s.se) * p.gamma_exc * r_e + u.input_0,
             si = -s.si / p.tau_inh + r_i + u.input_1 }
  end,
}

--- neurolib's WWModel: Cmat, Dmat (mm), K_gl, signalV (long-range input to the
-- excitatory pool only), sigma_ou, tau_ou, exc_ou_mean, inh_ou_mean, ses_init,
-- sis_init (default 0.05 U(0, 1), seeded by `seed`); outputs r_exc, r_inh (kHz), se, si.
function M.native(args)
  return native.build({
    label = "WWModel",
    node = native.single(M.native_mass, "WW"),
    net_params = { K_gl = 0.6 },
    sync = function(net) return { network_exc = net:additive("se", { gain = net.p.K_gl }) } end,
    aliases = { sigma_ou = { "input_0.sigma", "input_1.sigma" },
                tau_ou = { "input_0.tau", "input_1.tau" },
                exc_ou_mean = { "input_0.mu" }, inh_ou_mean = { "input_1.mu" } },
    init_aliases = { ses_init = "se", sis_init = "si" },
    ou_aliases = { exc_ou = "input_0", inh_ou = "input_1" },
    random_init = function(r, N)
      local se, si = {}, {}
      for i = 1, N do se[i] = 0.05 * r() end
      for i = 1, N do si[i] = 0.05 * r() end
      return { ses_init = se, sis_init = si }
    end,
    record = { "r_exc", "r_inh", "se", "si" },
    bold = { variable = "r_exc" },                         -- neurolib: rates in kHz
  }, args, 2)
end

return M
