-- fidelity_hopf_spec.lua: the Hopf oscillator against neurolib's native HopfModel
-- (tests/fixtures).  Tolerance: max |error| <= 1e-9 x the signal's range.
local nm = require "neuromass"
local h = require "helpers"
local hopf = nm.models.hopf

local TOL = 1e-9

describe("Hopf matches neurolib", function()
  it("single node, default parameters (limit cycle)", function()
    local ref = h.read_csv(h.fixture("hopf_single_default.csv"))
    local res = hopf.native { xs_init = 0.25, ys_init = -0.1 }:run { duration = 2000, dt = 0.1 }
    assert.are.equal(ref.rows, res:rows())
    h.assert_close(res:get("x"), ref.cols.x, TOL, "x")
    h.assert_close(res:get("y"), ref.cols.y, TOL, "y")
  end)

  it("single node, step input on x_ext quenches the oscillation", function()
    local ref = h.read_csv(h.fixture("hopf_single_step.csv"))
    local model = hopf.native { xs_init = 0.25, ys_init = -0.1 }
    model.params.x_ext = nm.series(ref.cols["input:x_ext"])
    local res = model:run { duration = 2000, dt = 0.1 }
    h.assert_close(res:get("x"), ref.cols.x, TOL, "x")
    h.assert_close(res:get("y"), ref.cols.y, TOL, "y")
  end)

  it("80-node HCP network with delays", function()
    local hcp = nm.datasets.load("hcp")
    local ics = h.read_ics(h.fixture("hopf_net80_hcp_ics.csv"))
    local ref = h.read_csv(h.fixture("hopf_net80_hcp.csv"))
    local model = hopf.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat,
                                xs_init = ics.xs_init, ys_init = ics.ys_init }
    local res = model:run { duration = 2000, dt = 0.1, sampling_dt = 1.0, record = { "x" } }
    for i = 0, 79 do h.assert_close(res:get("x", i), ref.cols["x_" .. i], TOL, "x." .. i) end
  end)
end)
