-- euler_node_spec.lua: Euler's loop for a model of at most 16 state variables
-- (system.c's nm_sim_run_euler, a node's services inline) gives the bits of the
-- generic loop (sim.c's run_serial): the same node inside an uncoupled network
-- of more than 16 state variables takes the generic loop, and its node 0 (whose
-- noise streams are the single node's: stream i is the model's process i) must
-- equal the single node bit for bit, noise, clamps, wraps, stimuli, drivers and
-- row bookkeeping included.
local nm = require "neuromass"

local WHOLE = 16          -- sim.h's NM_EULER_WHOLE

local function zeros(n)
  local z = {}
  for i = 1, n do
    z[i] = {}
    for j = 1, n do z[i][j] = 0 end
  end
  return z
end

-- Every recorded column of node 0 of `a` equals node `node` of `b`, bit for bit.
local function same_node(a, b, node)
  assert.are.same(a:time(), b:time())
  for _, var in ipairs(a.variables) do
    local x, y = a:get(var, 0), b:get(var, node)
    assert.are.equal(#x, #y)
    for k = 1, #x do
      if string.format("%a", x[k]) ~= string.format("%a", y[k]) then
        error(string.format("%s row %d: single node %a, node %d of the network %a", var, k, x[k],
                            node, y[k]))
      end
    end
  end
end

-- The two loops are the ones meant: the single node's states fit, the network's do not.
local function paths(single, net)
  assert.is_true(#single:state_order() <= WHOLE)
  assert.is_true(#net:state_order() > WHOLE)
end

-- A zoo model: one node, and n uncoupled copies with the single node's initial state.
local function zoo_pair(name, n, extra)
  local function make(k)
    local def = { Cmat = zeros(k), Dmat = zeros(k) }
    for key, v in pairs(extra or {}) do def[key] = v end
    return nm.models[name].native(def)
  end
  local one, net = make(1), make(n)
  local names = one:variables()
  for _, v in ipairs(names) do
    local ok, x = pcall(function() return one.init[v] end)      -- (outputs have no init)
    if ok then net.init[v] = x end
  end
  paths(one, net)
  return one, net
end

describe("Euler's loop for a node", function()
  local zoo = { aln = 2, fhn = 9, hopf = 9, wc = 9, ww = 9, rww = 17, kuramoto = 17 }
  for name, n in pairs(zoo) do
    it(name .. " as one node equals node 0 of an uncoupled network, with noise", function()
      local one, net = zoo_pair(name, n, { sigma_ou = 0.05 })
      local opts = { duration = 200, dt = 0.1, sampling_dt = 0.3, seed = 7 }
      same_node(one:run(opts), net:run(opts), 0)
    end)
    it(name .. " without noise equals every node of the network", function()
      local one, net = zoo_pair(name, n)
      local opts = { duration = 100.5, dt = 0.1, sampling_dt = 1.0 }
      local a, b = one:run(opts), net:run(opts)
      same_node(a, b, 0)
      same_node(a, b, n - 1)
    end)
  end

  local Osc = nm.mass {
    name = "osc", label = "Osc",
    state = { x = 0.3, y = -0.2, ph = 6.0, c = 0.5, order = { "x", "y", "ph", "c" } },
    params = { w = 0.3, a = 0.5, g = 2.0, drive = 0.1 },
    noise = { { mu = 0.1, sigma = 0.05, tau = 3, kind = "ou" }, { mu = 0, sigma = 0.02, kind = "white" } },
    outputs = function(s) return { e = s.x * s.x + s.y * s.y, r = nm.sin(s.ph) } end,
    output_order = { "e", "r" },
    derivatives = function(s, p, u)
      return { x = p.a * s.x - p.w * s.y - s.x * (s.x * s.x + s.y * s.y) + u.input_0 + p.drive,
               y = p.w * s.x + p.a * s.y - s.y * (s.x * s.x + s.y * s.y) + u.input_1,
               ph = p.g + s.x, c = 3 * s.x - 0.2 * s.c }
    end,
    clamp = { c = { -0.4, 0.4 } }, wrap = { ph = 2 * math.pi },
  }
  local function osc_pair()
    local one = nm.model(nm.node { masses = { Osc() } })
    local net = nm.model(nm.network { nodes = nm.replicate(nm.node { masses = { Osc() } }, 5) })
    paths(one, net)
    return one, net
  end

  it("keeps a custom mass's clamps, wraps, OU and white noise, rows every 7 steps", function()
    local one, net = osc_pair()
    local opts = { duration = 300.5, dt = 0.1, sampling_dt = 0.7, seed = 3 }
    same_node(one:run(opts), net:run(opts), 0)
  end)

  it("keeps a parameter's series, a stimulus on an input and one on a parameter", function()
    local one, net = osc_pair()
    local v = {}
    for k = 1, 2000 do v[k] = 0.1 * math.sin(k / 50) end
    for _, m in ipairs { one, net } do
      m.params["*.w"] = nm.series(v)
      m.params["*.input_1"] = nm.stimulus.StepInput { step_size = 0.5, start = 50, ["end"] = 120, n = 1 }
      m.params["*.drive"] = nm.stimulus.OrnsteinUhlenbeckProcess { mu = 0.1, sigma = 0.2, tau = 4,
                                                                   n = 1, seed = 11 }
    end
    local opts = { duration = 200, dt = 0.1, seed = 3 }
    same_node(one:run(opts), net:run(opts), 0)
  end)

  it("continues from where it stopped as the generic loop does", function()
    local one, net = zoo_pair("aln", 2, { sigma_ou = 0.05, de = 3.3, di = 1.7 })
    for _, m in ipairs { one, net } do m:run { duration = 50, dt = 0.1, seed = 9 } end
    local opts = { duration = 50, dt = 0.1, seed = 9, continue = true }
    same_node(one:run(opts), net:run(opts), 0)
  end)

  it("couples a small network (16 states) as inside a larger one with an isolated node", function()
    local r = require("neuromass.models._native").rng(5)
    local C, D = zeros(8), zeros(8)
    local C9, D9 = zeros(9), zeros(9)
    for i = 1, 8 do
      for j = 1, 8 do
        if i ~= j then C[i][j], D[i][j] = 0.5 * r(), 20 * r() end
        C9[i][j], D9[i][j] = C[i][j], D[i][j]
      end
    end
    local small = nm.models.fhn.native { Cmat = C, Dmat = D, sigma_ou = 0.05, xs_init = 0.1 }
    local large = nm.models.fhn.native { Cmat = C9, Dmat = D9, sigma_ou = 0.05, xs_init = 0.1 }
    small.init["y"], large.init["y"] = 0.05, 0.05
    paths(small, large)
    local opts = { duration = 200, dt = 0.1, seed = 6 }
    local a, b = small:run(opts), large:run(opts)
    for i = 0, 7 do
      for _, var in ipairs { "x", "y" } do assert.are.same(a:get(var, i), b:get(var, i)) end
    end
  end)

  it("names the same time, node and variable when a value blows up", function()
    local Blow = nm.mass {
      name = "blow", label = "Blow", state = { u = 0.5, v = 0.2, order = { "u", "v" } },
      params = { a = 3 },
      derivatives = function(s, p) return { u = p.a * s.u * s.u, v = -s.v } end,
    }
    local one = nm.model(nm.node { masses = { Blow() } })
    local net = nm.model(nm.network { nodes = nm.replicate(nm.node { masses = { Blow() } }, 9) })
    paths(one, net)
    local _, e1 = pcall(one.run, one, { duration = 100, dt = 0.1 })
    local _, e2 = pcall(net.run, net, { duration = 100, dt = 0.1 })
    local where = "at t = ([%d.]+) ms %(node 0, variable 'u'"
    assert.is_truthy(tostring(e1):match(where))
    assert.are.equal(tostring(e1):match(where), tostring(e2):match(where))
  end)
end)
