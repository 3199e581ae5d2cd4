-- user_nodes_spec.lua: a new user's own mass types and nodes, and the
-- messages their mistakes get (session 16, brief T1): each message at the
-- script's line, naming the object and the value, saying what is allowed;
-- and what docs/reference.md says of them (local coupling in a node).  The
-- cases of other modules that started here live in their modules' specs
-- (params_spec, stimulus_spec, errors_spec, white_noise_spec, model_spec,
-- cli_spec, run_spec), on the same script (helpers.user_script).
local h = require "helpers"

local run_case, fails_with = h.user_script()

describe("a mass's derivatives returning the wrong shape", function()
  local function mass(body)
    return "local B = nm.mass { name = 'B', state = { x = 0, y = 0, order = { 'x', 'y' } }, " ..
           "derivatives = function(s, p, u) " .. body .. " end }"   -- (derivatives run here, once)
  end
  it("one expression instead of a table: says so, and what to return", function()
    fails_with(mass("return -s.x"), { "mass 'B'", "derivatives must return a table of one expression per name",
                                      "{ x = ..., ... }", "got a single expression" })
  end)
  it("a number: says so", function()
    fails_with(mass("return 1"), { "mass 'B'", "derivatives must return a table", "got 1" })
  end)
  it("values by position: asks for names", function()
    fails_with(mass("return { -s.x, -s.y }"), { "mass 'B'", "derivatives returned its values by position",
                                                 "by name", "{ x = ..., ... }" })
  end)
  it("outputs returning one expression, or nothing: says so", function()
    fails_with("nm.mass { name = 'B', state = { x = 0 }, outputs = function(s) return s.x^2 end, " ..
               "derivatives = function(s) return { x = -s.x } end }",
               { "mass 'B'", "outputs must return a table of one expression per name", "got a single expression" })
    local ok, err = run_case("nm.mass { name = 'B', state = { x = 0 }, outputs = function(s) return {} end, " ..
                             "derivatives = function(s) return { x = -s.x } end }")
    assert.is_true(ok, err)
  end)
  it("a missing variable: names it", function()
    fails_with(mass("return { x = -s.x }"), { "mass 'B'", "gives no value for 'y'" })
  end)
end)

describe("a node of two masses with local coupling (docs/reference.md, nm.node)", function()
  it("feeds C[to][from] times the sender's first variable to node_<to>_<from>: the fixed point", function()
    -- r_E' = (-r_E + 0.5 r_E - 1.0 r_I + 1) / 10, r_I' = (-r_I + 2.0 r_E) / 5: r_E = 0.4, r_I = 0.8
    local ok, err = run_case([[
local E = nm.mass { name = "E", type = "EXC", state = { r = 0.1 }, inputs = { "node_exc_exc", "node_exc_inh" },
  derivatives = function(s, p, u) return { r = (-s.r + u.node_exc_exc - u.node_exc_inh + 1) / 10 } end }
local I = nm.mass { name = "I", type = "INH", state = { r = 0.1 }, inputs = { "node_inh_exc" },
  derivatives = function(s, p, u) return { r = (-s.r + u.node_inh_exc) / 5 } end }
local node = nm.node { label = "EI", masses = { E(), I() }, connectivity = { { 0.5, 1.0 }, { 2.0, 0 } },
                       delays = { { 0, 1 }, { 1, 0 } } }
local r = nm.model(node):run { duration = 5000, dt = 0.1, sampling_dt = 100 }
assert(math.abs(r:get("r_EXC")[50] - 0.4) < 1e-9 and math.abs(r:get("r_INH")[50] - 0.8) < 1e-9,
       r:get("r_EXC")[50] .. " " .. r:get("r_INH")[50])]])
    assert.is_true(ok, err)
  end)
  it("gives each of two masses of one type its own row of C (a Jansen-Rit column)", function()
    -- masses P (EXC), E (EXC), I (INH) hold 0.1, 2 and 3; C[to][from] = { { 0, 1, -1 }, { 135, 0, 0 },
    -- { 33.75, 0, 0 } }: P's node_exc_exc is 1 * 2 (not E's 135 * 0.1 too), E's is 135 * 0.1
    local ok, err = run_case([[
local function M(label, typ, v, inputs)
  return nm.mass { name = label, type = typ, state = { [v] = 0 }, inputs = inputs,
    outputs = function(s, p, u) local o = {} for _, i in ipairs(inputs) do o[v .. "_" .. i] = u[i] end return o end,
    derivatives = function(s) return { [v] = 0 * s[v] } end }
end
local node = nm.node { label = "JR", masses = { M("P", "EXC", "a", { "node_exc_exc", "node_exc_inh" })(),
  M("E", "EXC", "b", { "node_exc_exc" })(), M("I", "INH", "c", { "node_inh_exc" })() },
  connectivity = { { 0, 1, -1 }, { 135, 0, 0 }, { 33.75, 0, 0 } } }
local m = nm.model(node)
m.init["*.a"], m.init["*.b"], m.init["*.c"] = 0.1, 2, 3
local r = m:run { duration = 0.2, dt = 0.1 }
local got = { r:get("a_node_exc_exc")[2], r:get("a_node_exc_inh")[2], r:get("b_node_exc_exc")[2],
              r:get("c_node_inh_exc")[2] }
assert(got[1] == 2 and got[2] == -3 and got[3] == 13.5 and got[4] == 3.375, table.concat(got, " "))]])
    assert.is_true(ok, err)
  end)
  it("refuses local connectivity over a mass without type EXC or INH, naming it", function()
    fails_with("nm.node { masses = { Osc(), Osc() }, connectivity = { { 0, 1 }, { 1, 0 } } }",
               { "local connectivity needs every mass typed EXC or INH", "mass 'Osc' has no type",
                 'type = "EXC"' })
  end)
end)

describe("a mass reading an input it does not declare", function()
  it("says where inputs are declared, with the name read", function()
    -- (before: "unknown input 'net_q'" and nothing else when the mass declared none)
    fails_with("nm.mass { name = 'Q', state = { x = 0 }, derivatives = function(s, p, u) return { x = u.net_q } end }",
               { "mass 'Q': unknown input 'net_q'", "declare the coupling inputs the mass reads: inputs = { 'net_q' }" })
    fails_with("nm.mass { name = 'Q', state = { x = 0 }, inputs = { 'a_in' }, " ..
               "derivatives = function(s, p, u) return { x = u.net_q + u.a_in } end }",
               { "unknown input 'net_q'; the inputs are a_in", "inputs = { 'net_q' }" })
  end)
end)

describe("a slow mass's derivatives", function()
  it("giving a value for a name that is not a state variable is refused, as a symbolic mass's", function()
    fails_with("local B = nm.mass { name = 'B', slow = true, state = { x = 0 }, " ..
               "derivatives = function(s, p, u) return { x = 1, velocity = 2 } end }; " ..
               "nm.model(nm.node { masses = { B() } }):run { duration = 1 }",   -- (at the function's line)
               { "slow mass 'B'", "'velocity', which is not a state variable" })
  end)
end)
