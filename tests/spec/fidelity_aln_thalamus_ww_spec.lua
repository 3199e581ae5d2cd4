-- fidelity_aln_thalamus_ww_spec.lua: ALN, thalamus and Wong-Wang against
-- neurolib (tests/fixtures): the native flavours against ALNModel,
-- ThalamicMassModel and WWModel, and the MultiModel flavour against
-- MultiModel's own thalamocortical network.  Tolerance: max |error| <= 1e-9 x
-- the signal's range, except the 80-node ALN network, which amplifies rounding
-- (a 1e-12 change of the initial state grows to 1.6e-7, MANIFEST.md): 1e-6 x range.
local nm = require "neuromass"
local h = require "helpers"

local TOL = 1e-9

local aln_ics = { mufe_init = 1.0, mufi_init = 1.0, IA_init = 50.0, seem_init = 0.25,
                  seim_init = 0.25, siem_init = 0.25, siim_init = 0.25, seev_init = 0.0005,
                  seiv_init = 0.0005, siev_init = 0.005, siiv_init = 0.005,
                  rates_exc_init = 0.005, rates_inh_init = 0.005 }

local function with(t, extra)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(extra or {}) do out[k] = v end
  return out
end

local function check(res, ref, vars, tol)
  for _, v in ipairs(vars) do h.assert_close(res:get(v), ref.cols[v], tol or TOL, v) end
end

describe("ALN (native) matches neurolib", function()
  it("single node, default parameters", function()
    local ref = h.read_csv(h.fixture("aln_single_default.csv"))
    local res = nm.models.aln.native(aln_ics):run { duration = 2000, dt = 0.1 }
    assert.are.equal(ref.rows, res:rows())
    check(res, ref, { "rates_exc", "rates_inh", "IA" })
  end)

  it("single node, mue_ext_mean = 1.0", function()
    local ref = h.read_csv(h.fixture("aln_single_mue1.0.csv"))
    local res = nm.models.aln.native(with(aln_ics, { mue_ext_mean = 1.0 })):run { duration = 2000 }
    check(res, ref, { "rates_exc", "rates_inh", "IA" })
  end)

  it("single node, step input on ext_exc_current", function()
    local ref = h.read_csv(h.fixture("aln_single_step.csv"))
    local model = nm.models.aln.native(aln_ics)
    model.params.ext_exc_current = nm.series(ref.cols["input:ext_exc_current"])
    check(model:run { duration = 2000, dt = 0.1 }, ref, { "rates_exc", "rates_inh", "IA" })
  end)

  it("80-node HCP network with delays", function()
    local hcp = nm.datasets.load("hcp")
    local ics = h.read_ics(h.fixture("aln_net80_hcp_ics.csv"))
    local args = { Cmat = hcp.Cmat, Dmat = hcp.Dmat }
    for name in pairs(aln_ics) do args[name] = ics[name] end
    local res = nm.models.aln.native(args):run { duration = 2000, dt = 0.1, sampling_dt = 1.0,
                                                 record = { "rates_exc" } }
    local ref = h.read_csv(h.fixture("aln_net80_hcp.csv"))
    for i = 0, 79 do
      h.assert_close(res:get("rates_exc", i), ref.cols["rates_exc_" .. i], 1e-6, "rates_exc." .. i)
    end
  end)
end)

describe("thalamus (native) matches neurolib", function()
  it("single node, default parameters, dt 0.01 ms", function()
    local ref = h.read_csv(h.fixture("thalamus_single_default.csv"))
    local model = nm.models.thalamus.native { V_t_init = -65.0, V_r_init = -65.0, Ca_init = 2.4e-4 }
    local res = model:run { duration = 2000, dt = 0.01, sampling_dt = 0.1 }
    check(res, ref, { "V_t", "V_r", "Q_t", "Q_r" })
  end)
end)

describe("Wong-Wang (native) matches neurolib", function()
  it("single node, default parameters", function()
    local ref = h.read_csv(h.fixture("ww_single_default.csv"))
    local res = nm.models.ww.native { ses_init = 0.025, sis_init = 0.025 }:run { duration = 2000 }
    check(res, ref, { "r_exc", "r_inh", "se", "si" })
  end)

  -- tests/fixtures/net80 (make_refs.py): WWModel on HCP from its own random initial state (seed 42),
  -- 1000 ms, se of every node every 1 ms.  Tolerance: max |error| <= 1e-9 x the range of each node's se.
  it("80-node HCP network with delays", function()
    local hcp = nm.datasets.load("hcp")
    local ics = h.read_ics(h.fixture("net80/ww_net80_hcp_ics.csv"))
    local ref = h.read_csv(h.fixture("net80/ww_net80_hcp.csv"))
    local model = nm.models.ww.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat,
                                        ses_init = ics.ses_init, sis_init = ics.sis_init }
    local res = model:run { duration = 1000, dt = 0.1, sampling_dt = 1.0, record = { "se" } }
    assert.are.equal(ref.rows, res:rows())
    for i = 0, 79 do h.assert_close(res:get("se", i), ref.cols["se_" .. i], 1e-9, "se." .. i) end
  end)
end)

describe("the MultiModel thalamocortical network matches neurolib", function()
  it("ALN node + thalamic node, constant inputs, dt 0.01 ms", function()
    local aln, thalamus = nm.models.aln, nm.models.thalamus
    local net = nm.network {
      label = "ALNThlmNet", nodes = { aln.node(), thalamus.node() },
      connectivity = { { 0.0, 0.15 }, { 1.2, 0.0 } }, delays = { { 0, 13 }, { 13, 0 } },
      sync = function(n)
        local rate = n:additive("r_mean_EXC")
        return { network_exc_exc = rate, network_inh_exc = rate,
                 network_exc_exc_sq = n:additive("r_mean_EXC", { matrix = "square" }) }
      end,
    }
    local model = nm.model(net)
    model.params["*g_LK"] = 0.032
    model.params["ALNThlmNet.ALNNode_0.ALNMassEXC_0.a"] = 0.0
    model.params["ALNThlmNet.ALNNode_0.ALNMassEXC_0.b"] = 15.0
    model.params["*tauA"] = 1000.0
    model.params["*EXC*input_0.mu|THLM"] = 3.4   -- the OU inputs, constant at their means
    model.params["*INH*input_0.mu|THLM"] = 3.5
    local ics = h.read_csv(h.fixture("mm_thalamocortical_ics.csv")).cols.initial_value
    model.init = ics
    local res = model:run { duration = 2000, dt = 0.01, sampling_dt = 0.1,
                            record = { "r_mean_EXC", "r_mean_INH", "I_A_EXC" } }
    local ref = h.read_csv(h.fixture("mm_thalamocortical.csv"))
    assert.are.equal(ref.rows, res:rows())
    for _, c in ipairs { { "r_mean_EXC", 0 }, { "r_mean_EXC", 1 }, { "r_mean_INH", 0 },
                         { "r_mean_INH", 1 }, { "I_A_EXC", 0 } } do
      local name = c[1] .. "_node" .. c[2]
      h.assert_close(res:get(c[1], c[2]), ref.cols[name], TOL, name)
    end
  end)
end)
