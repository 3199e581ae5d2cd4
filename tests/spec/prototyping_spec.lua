-- prototyping_spec.lua: the mistakes of someone writing a new node type in
-- minutes (a mass in Lua, a network's sync rules), and the messages they get:
-- each at the script's line (or at the line of the function at fault), naming
-- the mass, rule, input or output, and saying what form is expected.
local h = require "helpers"

local run_case = h.user_script()

-- A network of two nodes of the preamble's Osc (input net_x), then `code`.
local function net_case(sync_src)
  return run_case("local net = nm.network { nodes = nm.replicate(nm.node { masses = { Osc() } }, 2),\n" ..
                  "  connectivity = { { 0, 1 }, { 1, 0 } },\n" ..
                  "  sync = " .. sync_src .. " }\n" ..
                  "nm.model(net)")
end

-- Asserts that a case failed at u.lua:<line> with every one of `words`.
local function failed_at(ok, err, line, words)
  assert.is_false(ok, "no error")
  local want = "u.lua:" .. line .. ": "
  assert.are.equal(want, err:sub(1, #want), err)
  for _, w in ipairs(words) do assert.is_truthy(err:find(w, 1, true), "'" .. w .. "' missing from: " .. err) end
end

-- The line of the preamble's last line + k (the k-th line of a case).
local _, preamble_lines = h.osc_preamble:gsub("\n", "")
local function line(k) return preamble_lines + k end

-- Cases { title, rule, words[, k] }: a sync function returning { net_x = <rule> },
-- the rule written on the case's 4th line, failing there (or on line k) with every word.
local function rule_cases(cases)
  for _, c in ipairs(cases) do
    it(c[1], function()
      local ok, err = net_case("function(net) return { net_x =\n  " .. c[2] .. " } end")
      failed_at(ok, err, line(c[4] or 4), c[3])
    end)
  end
end

describe("a sync function or rule of the wrong shape, refused where it is written", function()
  it("sync = function(net, i): called once with the sync object; says how to write a rule per node", function()
    local ok, err = net_case("function(net, i) return { net_x = net:additive('x') } end")
    failed_at(ok, err, line(1), { "network 'Net': 'sync' is called once, with the sync object alone",
                                  "sync = function(net) return { input = rule } end",
                                  "takes 2 parameters (net, i)", "{ input = function(i) ... end }" })
  end)
  rule_cases {
    { "a rule function(i, j): at the rule's line, naming the input and the form function(i)",
      "function(i, j) return net:weight(i, j) * net:now(j, 'x') end",
      { "network 'Net': custom coupling 'net_x'", "called with the receiving node's index alone",
        "function(i) return <expression> end", "takes 2 parameters (i, j)" } },
    { "net:custom(function(n, i)): at the call, with the form function(i)",
      "net:custom(function(n, i) return 0 end)",
      { "net:custom: a custom rule is called with the receiving node's index alone",
        "function(i) return <expression> end", "takes 2 parameters (n, i)" } },
  }
  it("the right shapes, and a vararg, are taken", function()
    assert.is_true(net_case("function(net) return { net_x = function(i) return 0.5 * net:now(1 - i, 'x') end } end"))
    assert.is_true(net_case("function(net) return { net_x = net:custom(function(i) return 0 end) } end"))
    assert.is_true(net_case("function(...) return { net_x = (...):additive('x') } end"))
  end)
end)

describe("a coupling that net:additive makes, or net:additive misused: the message names the right form", function()
  rule_cases {
    { "a gain in the options' place: the table form with it", "net:additive('x', 0.5)",
      { "net:additive: the options are a table", "net:additive(\"x\", { gain = 0.5 })" } },
    { "an expression instead of the variable's name: the name form", "net:additive(net:delayed(1, 'x'))",
      { "net:additive: the variable name must be a string", "sums over the senders itself: net:additive(\"x\")" } },
    { "the method given uncalled (net.additive): says to call it", "net.additive",
      { "network 'Net': the rule for 'net_x' is the method net.additive itself",
        "call it, net:additive(\"x\", { gain = ... })" }, 3 },     -- (the sync function's line)
    { "net:additive returned from a function(i): give it as the input's rule",
      "function(i) return net:additive('x') end",
      { "custom coupling 'net_x' for node 0 returned a whole rule (net:additive(\"x\"))",
        "{ net_x = net:additive(...) }, not from a function(i)" } },
  }

  -- A script of three coupled Osc nodes whose input net_x is `rule` (a network
  -- parameter K = 0.3), writing x to out.csv: the exit status, stderr, the CSV.
  local function osc_net(rule)
    local dir = h.scratch()
    h.write(dir .. "/s.lua", h.osc_preamble .. [[
local net = nm.network { nodes = nm.replicate(nm.node { masses = { Osc() } }, 3),
  connectivity = { { 0, 1, 2 }, { 1, 0, 0 }, { 0.5, 0, 0.25 } }, delays = { { 0, 2, 3 }, { 2, 0, 0 }, { 3, 0, 1 } },
  params = { K = 0.3 },
  sync = function(net) return { net_x = ]] .. rule .. [[ } end }
local m = nm.model(net)
m:run { duration = 200, dt = 0.1, record = { "x" } }:write_csv("out.csv")
]])
    local status, _, err = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " run s.lua")
    return status, err, status == 0 and h.read_csv(dir .. "/out.csv")
  end
  teardown(h.remove_scratch)
  local sum_rule = [[function(i)
    local sum = 0
    for j = 0, net.n - 1 do sum = sum + net:weight(i, j) * net:delayed(j, "x") end
    return net.p.K * sum end]]

  it("a custom rule that is Σ_j C[i][j] x_j(t - D[i][j]): a warning names net:additive, which runs the same", function()
    local status, err, custom = osc_net(sum_rule)
    assert.are.equal(0, status, err)
    assert.is_truthy(err:find("warning: network 'Net': the custom coupling 'net_x' (s.lua:10) is " ..
                              "Σ_j C[i][j] · x_j(t − D[i][j]) at every node; { net_x = net:additive(\"x\", " ..
                              "{ gain = net.p.K }) } computes the same as one coupling sum", 1, true), err)
    local _, err2, additive = osc_net('net:additive("x", { gain = net.p.K })')
    assert.are.equal("", err2)
    -- (the same terms summed in another order: equal to rounding)
    for _, c in ipairs { "x.0", "x.1", "x.2" } do h.assert_close(custom.cols[c], additive.cols[c], 1e-12, c) end
  end)
  it("custom rules that are no plain sum get no such warning", function()
    for _, rule in ipairs {
      (sum_rule:gsub('net:delayed%(j, "x"%)', 'nm.sin(net:delayed(j, "x"))')),           -- not linear
      (sum_rule:gsub("for j = 0,", "for j = 1,")),                                       -- a sender left out
      (sum_rule:gsub('net:weight%(i, j%)', '0.5')),                                       -- not C's weights
      (sum_rule:gsub('net:delayed%(j, "x"%)', 'net:delayed(j, i == 0 and "x" or "y")')), -- two variables
    } do
      local status, err = osc_net(rule)
      assert.are.equal(0, status, err)
      assert.are.equal("", err, rule)
    end
  end)
end)

describe("an output that reads an output (circular), refused at the line that reads it", function()
  local function outputs(body)
    return "nm.mass { name = 'Ring', state = { x = 0.1 },\n" ..
           "  outputs = function(s) return " .. body .. " end,\n" ..
           "  derivatives = function(s) return { x = -s.x } end }"
  end
  it("its own value: names the mass and the output, says it is circular", function()
    local ok, err = run_case(outputs("{ r = 2 * s.x + s.r }"))
    failed_at(ok, err, line(2), { "mass 'Ring': output 'r' reads its own value, s.r: it is circular",
                                  "the derivatives may read s.r" })
  end)
  it("another output: names both, and what to write instead", function()
    local ok, err = run_case(outputs("{ r = 2 * s.x,\n    v = s.r + 1 }"))
    failed_at(ok, err, line(3), { "mass 'Ring': output 'v' reads output 'r' (s.r)",
                                  "a local variable both outputs use" })
  end)
  it("a misspelt state variable is still unknown, with the nearest", function()
    local ok, err = run_case(outputs("{ r = 2 * s.xx }"))
    failed_at(ok, err, line(2), { "mass 'Ring': unknown state variable 'xx'; did you mean 'x'?" })
  end)
  it("the derivatives may read an output (its value from before the step)", function()
    assert.is_true(run_case("nm.mass { name = 'Ring', state = { x = 0.1 }, outputs = function(s) return " ..
                            "{ r = 2 * s.x } end, derivatives = function(s) return { x = -s.r } end }"))
  end)
end)

describe("a Lua error inside a mass's equations names the mass and the variable, at the user's line", function()
  teardown(h.remove_scratch)
  -- Runs `src` from a file (its lines are read back to find the variable): ok, message.
  local function from_file(src)
    local path = h.scratch() .. "/jr.lua"
    h.write(path, "local nm = require 'neuromass'\n" .. src)
    local chunk = assert(loadfile(path))
    local ok, err = pcall(chunk)
    return ok, err and err:gsub("^.*/jr%.lua", "jr.lua")
  end
  for _, c in ipairs {
    { "in a derivative's expression: 'derivative of y4', at its line", [[
local M = nm.mass { name = "JR", state = { y1 = 0, y4 = 0 }, params = { A = 3.25 },
  derivatives = function(s, p, u)
    return {
      y1 = s.y4,
      y4 = p.A * s.y1
           - a ^ 2 * s.y1,          -- (p. forgotten: a is a nil global)
    }
  end }]],
      "jr.lua:7: mass 'JR', derivative of 'y4': attempt to perform arithmetic on a nil value " ..
        "(global 'a'): global 'a' is undefined (a typo, or a missing local?)" },
    -- (before: "bad operand #2 to '*' (expression or number expected, got nil)", no name)
    { "an operator on an expression and a nil global: the global named", [[
local M = nm.mass { name = "JR", state = { y1 = 0, y3 = 0 }, params = { A = 3.25 },
  derivatives = function(s, p, u)
    return {
      y1 = s.y3,
      y3 = p.A * a - s.y1 * 1e3,    -- (p. forgotten: a is a nil global)
    }
  end }]],
      "jr.lua:6: mass 'JR', derivative of 'y3': bad operand #2 to '*' (expression or number expected, " ..
        "got nil): global 'a' is nil (undefined: a typo, or a missing local?)" },
    { "a function of nm on nil globals and a nil local: each named", [[
local k
local M = nm.mass { name = "JR", state = { y1 = 0 },
  derivatives = function(s)
    return { y1 = nm.exp(bb) + s.y1 * k + cc }
  end }]],
      "jr.lua:5: mass 'JR', derivative of 'y1': bad operand #1 to 'nm.exp' (expression or number " ..
        "expected, got nil): globals 'bb', 'cc' are nil (undefined: a typo, or a missing local?); local " ..
        "'k' is nil (never given a value?)" },
    { "in a helper the derivative calls: the helper's line, the derivative it was computing", [[
local function S(v, p) return p.v_max / (1 + math.exp(p.r * (p.v0 - v))) end
local M = nm.mass { name = "JR", state = { y0 = 0, y3 = 0 }, params = { v_max = 0.005, r = 0.56, v0 = 6 },
  derivatives = function(s, p, u)
    return { y0 = s.y3,
             y3 = S(s.y0, p) - s.y3 }
  end }]],
      "jr.lua:2: mass 'JR', derivative of 'y3': bad argument #1 to 'exp' (number expected, got " ..
        "neuromass.expression) (math.exp takes numbers, not expressions: use nm.exp)" },
    { "in an output (output_order given): 'output rate'", [[
local M = nm.mass { name = "JR", state = { y1 = 0, y2 = 0 }, output_order = { "v", "rate" },
  outputs = function(s, p)
    local lim = nil
    return { v = s.y1 - s.y2,
             rate = lim.max * (s.y1 - s.y2) }
  end,
  derivatives = function(s) return { y1 = -s.y1, y2 = -s.y2 } end }]],
      "jr.lua:6: mass 'JR', output 'rate': attempt to index a nil value (local 'lim')" },
    -- (before: nothing named when the nil global was on another line of the expression
    -- than its operator's or its call's, which is the line Lua gives)
    { "an expression over lines: a nil global on the line above the operator is named", [[
local M = nm.mass { name = "JR", state = { y1 = 0, y3 = 0 }, params = { A = 3.25 },
  derivatives = function(s, p, u)
    return {
      y1 = (c or 1) * s.y3,         -- (c: a nil global read on another entry, not named)
      y3 = p.A * s.y1 - a
           * s.y1,
    }
  end }]],
      "jr.lua:7: mass 'JR', derivative of 'y3': bad operand #1 to '*' (expression or number expected, " ..
        "got nil): global 'a' is nil (undefined: a typo, or a missing local?)" },
    { "an expression over lines: a nil global as a call's argument on the next line is named", [[
local k
local M = nm.mass { name = "JR", state = { y1 = 0, y3 = 0 }, params = { A = 3.25 },
  derivatives = function(s, p, u)
    return {
      y3 = p.A * s.y1 - s.y1 * nm.exp(
             a),
      y1 = s.y3 + k,                -- (k: a nil local read on another entry, not named)
    }
  end }]],
      "jr.lua:6: mass 'JR', derivative of 'y3': bad operand #1 to 'nm.exp' (expression or number " ..
        "expected, got nil): global 'a' is nil (undefined: a typo, or a missing local?)" },
    { "before the table of derivatives: the mass and 'derivatives'", [[
local M = nm.mass { name = "JR", state = { y1 = 0 },
  derivatives = function(s, p, u)
    local y1 = s.y1 + {}
    return { y1 = y1 }
  end }]],
      "jr.lua:4: mass 'JR', derivatives: bad operand #2 to '+' (expression or number expected, got " ..
        "table)" },
  } do
    it(c[1], function()
      local ok, err = from_file(c[2])
      assert.is_false(ok)
      assert.are.equal(c[3], err)
    end)
  end
end)

describe("a mass's coupling field of the wrong shape, refused at its line (docs/reference.md, nm.mass)", function()
  local function mass(coupling, slow)
    return "nm.mass { name = 'Rate', state = { x = 0 }, outputs = " ..
           (slow and "nil, slow = true" or "function(s) return { r = 2 * s.x } end") .. ", coupling = " .. coupling ..
           ", derivatives = function(s) return { x = -s.x } end }"
  end
  for _, c in ipairs {
    { "5", { "mass 'Rate': 'coupling' must be the name of a state variable or output, or a non-empty list",
             "coupling = \"x\" or { \"x\", ... }", "got 5" } },
    { "{}", { "non-empty list", "got {}" } },
    { "{ 'r', 3 }", { "mass 'Rate': coupling[2] must be a name (a string), got 3" } },
    { "'rr'", { "mass 'Rate': coupling variable 'rr' is not a state variable or output; did you mean 'r'?" } },
  } do
    it("coupling = " .. c[1] .. ": says what is expected", function()
      local ok, err = run_case(mass(c[1]))
      failed_at(ok, err, line(1), c[2])
    end)
  end
  it("a slow mass's coupling is checked too", function()
    local ok, err = run_case(mass("'qqqq'", true))
    failed_at(ok, err, line(1), { "mass 'Rate': coupling variable 'qqqq' is not a state variable or output; " ..
                                  "the state variables are x" })
  end)
  it("a name or a list of the mass's variables is taken", function()
    assert.is_true(run_case(mass("'r'")))
    assert.is_true(run_case(mass("{ 'r', 'x' }")))
  end)
end)

describe("a local coupling input node_<to>_<from> that no node gives: the input, the nodes, and why", function()
  -- A network of `n` nodes of masses `masses` (with `conn`, the node's local
  -- connectivity), mass E (EXC) reading node_exc_inh, I (INH), F (EXC).
  local function local_case(masses, conn, n)
    return run_case([[
local E = nm.mass { name = "E", type = "EXC", state = { e = 0.1 }, inputs = { "node_exc_inh" },
  derivatives = function(s, p, u) return { e = -s.e + u.node_exc_inh } end }
local I = nm.mass { name = "I", type = "INH", state = { i = 0.1 }, inputs = { "node_exc_inh" },
  derivatives = function(s, p, u) return { i = -s.i + u.node_exc_inh } end }
local F = nm.mass { name = "F", type = "EXC", state = { f = 0.1 }, derivatives = function(s) return { f = -s.f } end }
local nd = nm.node { label = "Col", masses = { ]] .. masses .. " }" .. (conn and ", connectivity = " .. conn or "") .. [[ }
nm.model(nm.network { label = "Brain", nodes = nm.replicate(nd, ]] .. n .. [[) })]])
  end
  local lead = "required input 'node_exc_inh' is not provided by any sync rule of network 'Brain' ('node_exc_inh' " ..
               "is a local coupling input: what an EXC mass receives from the INH masses of its node"
  it("a node without local connectivity: names every node and says to give it", function()
    local ok, err = local_case("E()", nil, 2)
    failed_at(ok, err, line(7), { "nodes 0 ('Col'), 1 ('Col'), mass 'E': " .. lead,
                                  "node 'Col' has no local connectivity: give nm.node { connectivity = ... }, 1 x 1" })
  end)
  it("a node without a mass of the sending type: lists its masses and their types", function()
    local ok, err = local_case("E(), F()", "{ { 0, 1 }, { 1, 0 } }", 1)
    failed_at(ok, err, line(7), { "node 0 ('Col'), mass 'E': " .. lead,
                                  "node 'Col' has no INH mass (its masses: 'E' (EXC), 'F' (EXC))" })
  end)
  it("a mass of another type reading it: says which local inputs that type gets", function()
    local ok, err = local_case("I()", nil, 1)
    failed_at(ok, err, line(7), { "node 0 ('Col'), mass 'I': required input 'node_exc_inh'",
                                  "mass 'I' is typed INH, so its local inputs are node_inh_<from>" })
  end)
end)

describe("a misspelt name in a slow mass's derivatives: the nearest, at the line that reads it", function()
  -- A slow mass whose derivative of x is `rhs`, run for one step in a node.
  local function slow_case(rhs)
    return run_case([[
local S = nm.mass { name = "Leak", slow = true, state = { x = 1 }, params = { tau = 2 }, inputs = { "drive" },
  derivatives = function(s, p, u, t)
    return { x = ]] .. rhs .. [[ }
  end }
nm.model(nm.node { masses = { S() } }):run { duration = 0.1, dt = 0.1 }]])
  end
  for _, c in ipairs {
    { "p.tua", "slow mass 'Leak': unknown parameter 'tua'; did you mean 'tau'?" },
    { "-s.xx / p.tau", "slow mass 'Leak': unknown state variable 'xx'; did you mean 'x'?" },
    { "u.driev - s.x", "slow mass 'Leak': unknown input 'driev'; did you mean 'drive'?" },
    { "u.ext - s.x", "slow mass 'Leak': unknown input 'ext'; the inputs are drive (declare the coupling " ..
                     "inputs the mass reads: inputs = { 'ext' })" },
  } do
    it(c[1] .. ": " .. c[2]:match("unknown %a+"), function()
      local ok, err = slow_case(c[1])
      failed_at(ok, err, line(3), { c[2] })
    end)
  end
  it("the names it has read as numbers", function()
    assert.is_true(slow_case("(u.drive - s.x) / p.tau + 0 * t"))
  end)
end)
