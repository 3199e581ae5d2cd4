-- fidelity_fhn_spec.lua: FitzHugh-Nagumo against neurolib's own trajectories
-- (tests/fixtures, from neurolib's native FHNModel; see its README).
-- Tolerance: max |error| <= 1e-9 x the signal's range over the whole run.
local nm = require "neuromass"
local h = require "helpers"
local fhn = nm.models.fhn

local TOL = 1e-9

describe("FitzHugh-Nagumo matches neurolib", function()
  it("single node, default parameters", function()
    local ref = h.read_csv(h.fixture("fhn_single_default.csv"))
    local res = fhn.native { xs_init = 0.025, ys_init = 0.025 }:run { duration = 2000, dt = 0.1 }
    assert.are.equal(ref.rows, res:rows())
    h.assert_close(res:get("x"), ref.cols.x, TOL, "x")
    h.assert_close(res:get("y"), ref.cols.y, TOL, "y")
  end)

  it("single node, step input on x_ext", function()
    local ref = h.read_csv(h.fixture("fhn_single_step.csv"))
    local model = fhn.native { xs_init = 0.025, ys_init = 0.025 }
    model.params.x_ext = nm.series(ref.cols["input:x_ext"])
    local res = model:run { duration = 2000, dt = 0.1 }
    h.assert_close(res:get("x"), ref.cols.x, TOL, "x")
    h.assert_close(res:get("y"), ref.cols.y, TOL, "y")
  end)

  local hcp = nm.datasets.load("hcp")
  local ics = h.read_ics(h.fixture("fhn_net80_hcp_ics.csv"))
  local ref = h.read_csv(h.fixture("fhn_net80_hcp.csv"))

  it("80-node HCP network with delays (native flavour)", function()
    local model = fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat,
                               xs_init = ics.xs_init, ys_init = ics.ys_init }
    local res = model:run { duration = 2000, dt = 0.1, sampling_dt = 1.0, record = { "x" } }
    assert.are.equal(2000, res:rows())
    for i = 0, 79 do h.assert_close(res:get("x", i), ref.cols["x_" .. i], TOL, "x." .. i) end
  end)

  it("80-node HCP network with delays (MultiModel flavour)", function()
    -- MultiModel has no K_gl: the connectivity is K_gl * Cmat, delays Dmat / signalV (ms).
    local C, D = {}, {}
    for i = 1, 80 do
      C[i], D[i] = {}, {}
      for j = 1, 80 do C[i][j] = 0.6 * hcp.Cmat[i][j]; D[i][j] = hcp.Dmat[i][j] / 20.0 end
    end
    local model = nm.model(fhn.network(C, D))
    model.init["*.x"] = ics.xs_init
    model.init["*.y"] = ics.ys_init
    local res = model:run { duration = 2000, dt = 0.1, sampling_dt = 1.0, record = { "x" } }
    for i = 0, 79 do h.assert_close(res:get("x", i), ref.cols["x_" .. i], TOL, "x." .. i) end
  end)
end)
