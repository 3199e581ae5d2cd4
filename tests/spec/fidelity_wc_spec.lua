-- fidelity_wc_spec.lua: Wilson-Cowan against neurolib's native WCModel
-- (tests/fixtures).  Tolerance: max |error| <= 1e-9 x the signal's range; the
-- 80-node network is chaotic after about 1.6 s (a 1e-12 change of the initial
-- state grows past 1e-6 at 1661 ms, MANIFEST.md), so there: <= 1e-6 x range up
-- to t = 1500 ms.
local nm = require "neuromass"
local h = require "helpers"
local wc = nm.models.wc

local TOL = 1e-9

describe("Wilson-Cowan matches neurolib", function()
  it("single node, default parameters (fixed point)", function()
    local ref = h.read_csv(h.fixture("wc_single_default.csv"))
    local res = wc.native { exc_init = 0.025, inh_init = 0.025 }:run { duration = 2000, dt = 0.1 }
    h.assert_close(res:get("exc"), ref.cols.exc, TOL, "exc")
    h.assert_close(res:get("inh"), ref.cols.inh, TOL, "inh")
  end)

  it("single node, step input on exc_ext starts a limit cycle", function()
    local ref = h.read_csv(h.fixture("wc_single_step.csv"))
    local model = wc.native { exc_init = 0.025, inh_init = 0.025 }
    model.params.exc_ext = nm.series(ref.cols["input:exc_ext"])
    local res = model:run { duration = 2000, dt = 0.1 }
    h.assert_close(res:get("exc"), ref.cols.exc, TOL, "exc")
    h.assert_close(res:get("inh"), ref.cols.inh, TOL, "inh")
  end)

  it("80-node HCP network with delays, up to t = 1500 ms", function()
    local hcp = nm.datasets.load("hcp")
    local ics = h.read_ics(h.fixture("wc_net80_hcp_ics.csv"))
    local ref = h.read_csv(h.fixture("wc_net80_hcp.csv"))
    local model = wc.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, K_gl = 3.15, exc_ext = 0.65,
                              exc_init = ics.exc_init, inh_init = ics.inh_init }
    local res = model:run { duration = 2000, dt = 0.1, sampling_dt = 1.0, record = { "exc" } }
    for i = 0, 79 do
      local ours, theirs = res:get("exc", i), ref.cols["exc_" .. i]
      h.assert_close(table.move(ours, 1, 1500, 1, {}), table.move(theirs, 1, 1500, 1, {}), 1e-6,
                     "exc." .. i)
    end
  end)
end)
