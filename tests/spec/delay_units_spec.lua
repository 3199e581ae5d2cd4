-- delay_units_spec.lua: delays given but all rounded to 0 steps of dt (lengths
-- in m, delays in s) warn once, naming the network, the longest delay, dt and
-- the likely cause, and change no number; an adaptive integrator takes such
-- delays and refuses real ones naming their source and what removes them
-- (lua/neuromass/run/delay_units.lua, compile.lua, run/plan.lua).
local nm = require "neuromass"
local h = require "helpers"

local C = { { 0, 1 }, { 1, 0 } }

-- The warnings written while f runs (io.stderr captured), and f's results.
local warned = h.warned

local function fhn(Dmat, signalV)
  return nm.models.fhn.native { Cmat = C, Dmat = Dmat, signalV = signalV, sigma_ou = 0 }
end

describe("a network's signal_speed = 0", function()
  -- (before: refused, "must be a finite number > 0", while a native model's signalV = 0 is no delays)
  it("is no delays, as a native model's signalV = 0: the run of a network without lengths", function()
    local Osc = nm.mass { name = "Osc", state = { x = 1 }, inputs = { "net_x" },
                          derivatives = function(s, _, u) return { x = -s.x + u.net_x } end }
    local node = nm.node { masses = { Osc() } }
    local function run(fields)
      local def = { nodes = nm.replicate(node, 2), connectivity = C,
                    sync = function(net) return { net_x = net:additive("x") } end }
      for k, v in pairs(fields) do def[k] = v end
      local m = nm.model(nm.network(def))
      m.init["Net.Node_1.Osc_0.x"] = 0
      return m, m:run { duration = 10, dt = 0.1 }
    end
    local L = { { 0, 30 }, { 30, 0 } }
    local zero, res = run { lengths = L, signal_speed = 0 }
    local _, none = run {}
    local _, slow = run { lengths = L, signal_speed = 10 }
    assert.are.same(none:get("x", 1), res:get("x", 1))
    assert.are_not.same(slow:get("x", 1), res:get("x", 1))
    assert.are.same({ { 0, 0 }, { 0, 0 } }, { { zero.params["Net.delays"][1][1], zero.params["Net.delays"][1][2] },
                                              { zero.params["Net.delays"][2][1], zero.params["Net.delays"][2][2] } })
  end)
end)

describe("delays that all round to 0 steps", function()
  it("warn once, for a native model's Dmat given in m, naming the model, the longest, dt, the units", function()
    local m = fhn({ { 0, 0.002 }, { 0.001, 0 } }, 20)     -- (0.0001 ms)
    local text, res = warned(function() return m:run { duration = 5, dt = 0.1 } end)
    assert.truthy(text:find("neuromass: warning: FHNModel: the delays Dmat / signalV are all at most " ..
                            "half a step: the longest, 0.0001 ms, rounds to 0 steps of dt = 0.1 ms", 1, true), text)
    assert.truthy(text:find("Dmat is in mm and signalV in m/s (= mm/ms): was Dmat given in m", 1, true), text)
    -- the numbers are those of no delays (neurolib's rounding kept)
    local zero = fhn({ { 0, 0 }, { 0, 0 } }, 20):run { duration = 5, dt = 0.1 }
    assert.are.same(zero:get("x", 1), res:get("x", 1))
    assert.are.equal("", (warned(function() return m:run { duration = 5, dt = 0.1 } end)))
  end)

  it("warn for a network's delays given in s and for lengths in m, naming the network", function()
    local text = warned(function()
      return nm.model(nm.models.wc.network(C, { { 0, 0.012 }, { 0.012, 0 } })):run { duration = 2 }
    end)
    assert.truthy(text:find("network 'WCnet': the delays are all at most half a step: the longest, " ..
                            "0.012 ms, rounds to 0 steps of dt = 0.1 ms", 1, true), text)
    assert.truthy(text:find("delays are in ms: were they given in s?", 1, true), text)
    local net = nm.models.wc.network(C, nil)
    local lengths = nm.network { label = "Metres", nodes = net.nodes, connectivity = C, sync = net.sync,
                                 lengths = { { 0, 0.9 }, { 0.9, 0 } }, signal_speed = 20 }
    text = warned(function() return nm.model(lengths):run { duration = 2 } end)
    assert.truthy(text:find("network 'Metres': the delays lengths / signal_speed are all at most half " ..
                            "a step: the longest, 0.045 ms", 1, true), text)
  end)

  it("warn for a sync rule's own delays (ALN's local de, di given in s)", function()
    local text = warned(function() return nm.models.aln.native { de = 0.004, di = 0.002 }:run { duration = 1 } end)
    assert.truthy(text:find("ALNModel: the delays of coupling 'self_exc' (its sync rule's own) are all at most " ..
                            "half a step: the longest, 0.004 ms", 1, true), text)
    assert.truthy(text:find("ALNModel: the delays of coupling 'self_inh'", 1, true), text)
    assert.are.equal("", (warned(function() return nm.models.aln.native {}:run { duration = 1 } end)))
  end)

  -- (before: a stand-alone node's warning named "network 'JR'", a network the user never made, and
  -- the refusal said "local delays of 0 removes them")
  it("warn for a node's local delays, naming a stand-alone node as a node, a network's node in it", function()
    local E = nm.mass { name = "E", type = "EXC", state = { x = 0.1 }, inputs = { "node_exc_inh" },
                        derivatives = function(s, _, u) return { x = -s.x + u.node_exc_inh } end }
    local I = nm.mass { name = "I", type = "INH", state = { x = 0.2 }, inputs = { "node_inh_exc" },
                        derivatives = function(s, _, u) return { x = -s.x + u.node_inh_exc } end }
    local function node(d)
      return nm.node { label = "JR", masses = { E(), I() }, connectivity = C, delays = { { 0, d }, { d, 0 } } }
    end
    local text = warned(function() return nm.model(node(0.01)):run { duration = 1 } end)
    assert.truthy(text:find("neuromass: warning: node 'JR': its local delays are all at most half a step: the " ..
                            "longest, 0.01 ms", 1, true), text)
    assert.falsy(text:find("network", 1, true), text)
    text = warned(function() return nm.model(nm.network { nodes = { node(0.01) } }):run { duration = 1 } end)
    assert.truthy(text:find("neuromass: warning: network 'Net': the local delays of node 'JR' are all at most " ..
                            "half a step", 1, true), text)
    local ok, err = pcall(function() nm.model(node(10)):run { duration = 1, integrator = "rkf45" } end)
    assert.is_false(ok)
    assert.matches("cannot integrate delays %(node 'JR': its local delays reach 10 ms, 100 steps of dt = 0%.1 " ..
                   "ms; setting them to 0 removes them%)", err)
    ok, err = pcall(function() nm.model(nm.network { nodes = { node(10) } }):run { duration = 1, integrator = "rkf45" } end)
    assert.is_false(ok)
    assert.matches("%(network 'Net': the local delays of node 'JR' reach 10 ms, 100 steps of dt = 0%.1 ms; " ..
                   "setting the local delays of node 'JR' to 0 removes them%)", err)
  end)

  it("warn at exactly half a step, which rounds to 0 (halves to even)", function()
    local text = warned(function() return fhn({ { 0, 10 }, { 0, 0 } }, 20):run { duration = 5, dt = 1 } end)
    assert.truthy(text:find("the longest, 0.5 ms, rounds to 0 steps of dt = 1 ms", 1, true), text)
    assert.are.equal("", (warned(function() return fhn({ { 0, 30 }, { 0, 0 } }, 20):run { duration = 5, dt = 1 } end)))
  end)

  it("do not warn when every delay is 0, or when one of them is a step or more", function()
    assert.are.equal("", (warned(function() return fhn({ { 0, 0 }, { 0, 0 } }, 20):run { duration = 2 } end)))
    assert.are.equal("", (warned(function() return fhn({ { 0, 2 }, { 0.001, 0 } }, 20):run { duration = 2 } end)))
    assert.are.equal("", (warned(function() return fhn({ { 0, 5 }, { 5, 0 } }, 0):run { duration = 2 } end)))
  end)

  it("are taken by an adaptive integrator, which refuses delays of a step and says what removes them", function()
    local text = warned(function()
      return fhn({ { 0, 0.002 }, { 0.002, 0 } }, 20):run { duration = 2, integrator = "rkf45" }
    end)
    assert.truthy(text:find("rounds to 0 steps", 1, true), text)
    local ok, err = pcall(function() fhn({ { 0, 200 }, { 200, 0 } }, 20):run { duration = 2, integrator = "rkf45" } end)
    assert.is_false(ok)
    assert.matches("delay_units_spec.lua:%d+: run: integrator 'rkf45' cannot integrate delays %(FHNModel: the " ..
                   "delays Dmat / signalV reach 10 ms, 100 steps of dt = 0%.1 ms; signalV = 0 removes them%); " ..
                   "use euler, heun or rk4", err)
  end)
end)

-- Before: lengths given in m that still took a step or more (a small dt, a
-- slow speed) ran with delays a thousand times too short, silently.
describe("lengths whose longest is at most 0.3 mm (lengths in m)", function()
  it("warn once, naming the longest fibre and the delays, though some delays take steps", function()
    local m = fhn({ { 0, 0.25 }, { 0.12, 0 } }, 1)          -- (a human's longest tract, in m, at 1 m/s)
    local text = warned(function() return m:run { duration = 5, dt = 0.1 } end)
    assert.are.equal("neuromass: warning: FHNModel: the delays Dmat / signalV: the longest fibre is 0.25 mm, " ..
                     "shorter than any brain's longest tract between regions in mm (the delays reach 0.25 ms, 2 " ..
                     "steps of dt = 0.1 ms): Dmat's lengths are in mm: were they given in m?\n", text)
    assert.are.equal("", (warned(function() return m:run { duration = 5, dt = 0.1 } end)))
    local net = nm.models.wc.network(C, nil)
    local metres = nm.network { label = "Metres", nodes = net.nodes, connectivity = C, sync = net.sync,
                                lengths = { { 0, 0.2 }, { 0.2, 0 } }, signal_speed = 2 }
    text = warned(function() return nm.model(metres):run { duration = 2, dt = 0.01 } end)
    assert.truthy(text:find("network 'Metres': the delays lengths / signal_speed: the longest fibre is 0.2 mm, " ..
                            "shorter than any brain's longest tract between regions in mm (the delays reach 0.1 " ..
                            "ms, 10 steps of dt = 0.01 ms): the lengths are in mm: were they given in m?", 1, true),
                  text)
  end)

  it("do not warn for lengths in mm: a toy network's, the shipped connectomes' at any speed and dt", function()
    assert.are.equal("", (warned(function() return fhn({ { 0, 0.9 }, { 0.9, 0 } }, 0.1):run { duration = 2 } end)))
    assert.are.equal("", (warned(function() return fhn({ { 0, 0.31 }, { 0, 0 } }, 0.1):run { duration = 2 } end)))
    for _, name in ipairs { "gw", "hcp" } do
      local ds = nm.datasets.load(name)
      for _, v in ipairs { 1, 100 } do
        for _, dt in ipairs { 0.01, 1 } do
          local model = nm.models.fhn.native { Cmat = ds.Cmat, Dmat = ds.Dmat, signalV = v }
          assert.are.equal("", (warned(function() return model:run { duration = 1, dt = dt } end)), name)
        end
      end
    end
  end)
end)
