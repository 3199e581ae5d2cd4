-- user_nodes_spec.lua: a new user's own mass types, nodes and networks, and
-- the messages their mistakes get (session 16, brief T1): each message at the
-- script's line, naming the object and the value, saying what is allowed
-- (neuromass run without a script too); and what docs/reference.md says of
-- them (local coupling in a node, a white noise channel, describe's counts,
-- the columns of output.csv).
local h = require "helpers"

teardown(h.remove_scratch)

local preamble = [[
local nm = require "neuromass"
local Osc = nm.mass { name = "Osc", label = "OscMass", state = { x = 0.1, y = 0, order = { "x", "y" } },
  params = { a = 0.1, w = 0.06 }, inputs = { "net_x" }, noise = 1,
  derivatives = function(s, p, u)
    return { x = (p.a - s.x^2) * s.x - p.w * s.y + u.net_x + u.input_0, y = p.w * s.x } end }
local m = nm.model(nm.node { label = "OscNode", masses = { Osc() } })
]]
local _, preamble_lines = preamble:gsub("\n", "")

-- Runs `code` after the preamble as the chunk "u.lua": ok, message.
local function run_case(code)
  local chunk = assert(load(preamble .. code .. "\n", "@u.lua"))
  return pcall(chunk)
end

-- Asserts that `code` fails at its last line with every word of `words` in the message.
local function fails_with(code, words)
  local ok, err = run_case(code)
  assert.is_false(ok, "no error for: " .. code)
  local _, n = code:gsub("\n", "")
  local want = "u.lua:" .. (preamble_lines + n + 1) .. ": "
  assert.are.equal(want, err:sub(1, #want), err)
  for _, w in ipairs(words) do assert.is_truthy(err:find(w, 1, true), "'" .. w .. "' missing from: " .. err) end
  return err
end

describe("model.params and model.init take finite numbers only, as docs/reference.md says", function()
  it("refuses an infinite parameter at the assignment, naming it and the value", function()
    fails_with("m.params['*.a'] = 1/0", { "'*.a'", "finite number", "inf" })
    fails_with("m.params['*.a'] = -1/0", { "'*.a'", "finite number", "-inf" })
    fails_with("m.params['*.a'] = { 1/0 }", { "'*.a'", "element 1", "finite number", "inf" })
  end)
  it("refuses NaN saying what is allowed", function()
    fails_with("m.params['*.w'] = 0/0", { "'*.w'", "finite number", "NaN" })
  end)
  it("refuses an infinite initial state", function()
    fails_with("m.init['*.x'] = 1/0", { "'*.x'", "finite number", "inf" })
  end)
  it("still takes a finite number", function()
    local ok, err = run_case("m.params['*.a'] = 1e300; m.init['*.x'] = -1e300")
    assert.is_true(ok, err)
  end)
end)

describe("a parameter or state name that matches nothing", function()
  it("suggests the nearest name when one is near", function()
    fails_with("m.params['*.aa'] = 1", { "unknown parameter '*.aa'", "did you mean 'a'?" })
  end)
  it("lists the names there are when none is near (README: the error says what is allowed)", function()
    fails_with("m.params['*.omega'] = 1", { "unknown parameter '*.omega'", "the names end in", "a, ", "w" })
    fails_with("print(m.params['*.omega'])", { "unknown parameter '*.omega'", "the names end in" })
    fails_with("m.init['*.velocity'] = 1", { "unknown state variable '*.velocity'", "the names end in x, y" })
  end)
end)

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

describe("a stimulus given a parameter it does not have", function()
  it("names the parameters it takes when no name is near", function()
    fails_with("nm.stimulus.StepInput { step_size = 1, frequency = 2 }",
               { "StepInput: unknown parameter 'frequency'; StepInput takes duration, end, n, seed, start, step_size" })
  end)
  it("suggests the nearest one when one is near", function()
    fails_with("nm.stimulus.StepInput { step_sise = 1 }", { "unknown parameter 'step_sise'; did you mean 'step_size'?" })
  end)
end)

describe("the \"what is allowed\" part of an unknown-name error (check.suggest_or_list, the one wording)", function()
  local check = require "neuromass._check"
  it("is the nearest name, else the names sorted (the first 12, then how many)", function()
    assert.equal("; did you mean 'tau'?", check.suggest_or_list("tua", { "tau", "sigma" }, "X takes"))
    assert.equal("; X takes a, b", check.suggest_or_list("zzzzzz", { "b", "a" }, "X takes"))
    local many = {}
    for i = 1, 14 do many[i] = string.format("n%02d", i) end
    assert.equal("; the fields are n01, n02, n03, n04, n05, n06, n07, n08, n09, n10, n11, n12, ... (14 in all; see X)",
                 check.suggest_or_list("qqqqqqqq", many, "the fields are", "see X"))
    assert.equal("", check.suggest_or_list("a", {}, "X takes"))
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
  it("refuses local connectivity over a mass without type EXC or INH, naming it", function()
    fails_with("nm.node { masses = { Osc(), Osc() }, connectivity = { { 0, 1 }, { 1, 0 } } }",
               { "local connectivity needs every mass typed EXC or INH", "mass 'Osc' has no type",
                 'type = "EXC"' })
  end)
end)

describe("a white noise channel (docs/reference.md, nm.mass noise)", function()
  it("integrates to a Wiener process of variance sigma^2 t", function()
    -- x' = input_0 with sigma = 1: x(100 ms) has variance 100; over 400 seeds the estimate's
    -- standard error is 100 * sqrt(2 / 400) = 7.1: within 4 of them (28)
    local ok, err = run_case([[
local W = nm.mass { name = "W", state = { x = 0 }, noise = { { kind = "white", sigma = 1 } },
                    derivatives = function(s, p, u) return { x = u.input_0 } end }
local mw = nm.model(nm.node { masses = { W() } })
local s2 = 0
for seed = 1, 400 do s2 = s2 + mw:run { duration = 100, dt = 0.1, sampling_dt = 100, seed = seed }:get("x")[1] ^ 2 end
assert(math.abs(s2 / 400 - 100) < 28, s2 / 400)]])
    assert.is_true(ok, err)
  end)
end)

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

describe("a slow mass's derivatives", function()
  it("giving a value for a name that is not a state variable is refused, as a symbolic mass's", function()
    fails_with("local B = nm.mass { name = 'B', slow = true, state = { x = 0 }, " ..
               "derivatives = function(s, p, u) return { x = 1, velocity = 2 } end }; " ..
               "nm.model(nm.node { masses = { B() } }):run { duration = 1 }",   -- (at the function's line)
               { "slow mass 'B'", "'velocity', which is not a state variable" })
  end)
end)

describe("neuromass run without a script", function()
  it("names the command and shows its usage", function()
    local status, _, err = h.sh(h.q(h.exe) .. " run")
    assert.are.equal(1, status)
    assert.matches("^neuromass: run: missing script %(usage: neuromass run %[OPTIONS%] SCRIPT%.lua %[ARGS%.%.%.%]%)\n", err)
    status, _, err = h.sh(h.q(h.exe) .. " info --quiet")
    assert.are.equal(1, status)
    assert.matches("^neuromass: info: missing script %(usage: neuromass info ", err)
  end)
end)

describe("a stimulus or series assigned to a matrix of the model", function()
  local net = "local net = nm.network { label = 'Net', nodes = nm.replicate(nm.node { label = 'OscNode', " ..
              "masses = { Osc() } }, 2), connectivity = { { 0, 1 }, { 1, 0 } }, delays = { { 0, 2 }, { 2, 0 } }, " ..
              "sync = function(net) return { net_x = net:additive('x') } end }; local mn = nm.model(net)\n"
  it("is refused naming the matrix and what was given", function()
    fails_with(net .. "mn.params['Net.delays'] = nm.stimulus.StepInput { step_size = 1 }",
               { "'Net.delays' is fixed for a run", "cannot be driven by a stimulus" })
    fails_with(net .. "mn.params['Net.connectivity'] = nm.series { 1, 2 }",
               { "'Net.connectivity' is fixed for a run", "cannot be driven by a series" })
  end)
end)

describe("output = { csv = ... } (docs/reference.md, model:run)", function()
  it("writes the columns of record when given, else every variable, and keeps rows only with record", function()
    local dir = h.scratch()
    local ok, err = run_case(string.format([[
local r = m:run { duration = 1, dt = 0.1, output = { csv = %q } }
assert(r:rows() == 0, r:rows())
r = m:run { duration = 1, dt = 0.1, record = { "y" }, output = { csv = %q } }
assert(r:rows() == 10, r:rows())]], dir .. "/all.csv", dir .. "/y.csv"))
    assert.is_true(ok, err)
    assert.are.equal("t,x.0,y.0", h.read(dir .. "/all.csv"):match("^[^\n]*"))
    assert.are.equal("t,y.0", h.read(dir .. "/y.csv"):match("^[^\n]*"))
  end)
end)
