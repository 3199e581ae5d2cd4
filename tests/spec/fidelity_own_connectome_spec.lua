-- fidelity_own_connectome_spec.lua: a user's own 7-region connectome, read
-- from files as a spreadsheet and numpy write them, against neurolib's
-- FHNModel and HopfModel on it (tests/fixtures/own_connectome/make_refs.py):
-- asymmetric weights with zeros and a diagonal, lengths of 0 mm and of half
-- a dt step at signalV = 2.5 mm/ms, noise off.  Tolerance: max |error| <=
-- 1e-12 x the signal's range (a delay one step off is about 1e-3).
local nm = require "neuromass"
local h = require "helpers"

local TOL = 1e-12
local dir = "own_connectome/"
local C = nm.datasets.read_matrix(h.fixture(dir .. "Cmat.csv"))      -- (BOM, CRLF, 1e-01)
local L = nm.datasets.read_matrix(h.fixture(dir .. "lengths.txt"))   -- (spaces, a # header)
local init = nm.datasets.read_matrix(h.fixture(dir .. "init.csv"))

-- Every x and y of `res` against the reference `name`, at t = 1, 2, ... ms.
local function holds(res, name)
  local ref = h.read_csv(h.fixture(dir .. name .. ".csv"))
  assert.are.equal(ref.rows, res:rows())
  h.assert_close(res:time(), ref.cols.t, 0, "t")
  for _, var in ipairs { "x", "y" } do
    for i = 0, 6 do h.assert_close(res:get(var, i), ref.cols[var .. "." .. i], TOL, var .. "." .. i) end
  end
end

describe("a connectome of one's own matches neurolib", function()
  for _, case in ipairs { { "fhn", "diffusive" }, { "hopf", "additive" } } do
    it(case[1] .. " (" .. case[2] .. "), native flavour, signalV = 2.5", function()
      local m = nm.models[case[1]].native { Cmat = C, Dmat = L, signalV = 2.5, K_gl = 0.35,
                                            coupling = case[2], xs_init = init[1], ys_init = init[2] }
      holds(m:run { duration = 300, dt = 0.1, sampling_dt = 1 }, case[1])
    end)
  end

  it("fhn as a network of lengths and signal_speed, the diagonal left out as neurolib does", function()
    local K = {}
    for i = 1, 7 do
      K[i] = {}
      for j = 1, 7 do K[i][j] = i == j and 0 or 0.35 * C[i][j] end
    end
    local net = nm.network { label = "Own", nodes = nm.replicate(nm.models.fhn.node(), 7), connectivity = K,
                             lengths = L, signal_speed = 2.5,
                             sync = function(n) return { network_x = n:diffusive("x"), network_y = n:none() } end }
    local m = nm.model(net)
    m.init["*.x"], m.init["*.y"] = init[1], init[2]
    holds(m:run { duration = 300, dt = 0.1, sampling_dt = 1 }, "fhn")
  end)
end)
