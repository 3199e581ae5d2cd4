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

describe("a sync function or rule of the wrong shape, refused where it is written", function()
  it("sync = function(net, i): called once with the sync object; says how to write a rule per node", function()
    local ok, err = net_case("function(net, i) return { net_x = net:additive('x') } end")
    failed_at(ok, err, line(1), { "network 'Net': 'sync' is called once, with the sync object alone",
                                  "sync = function(net) return { input = rule } end",
                                  "takes 2 parameters (net, i)", "{ input = function(i) ... end }" })
  end)
  -- (each rule written on the case's 4th line)
  for _, c in ipairs {
    { "a rule function(i, j): at the rule's line, naming the input and the form function(i)",
      "function(i, j) return net:weight(i, j) * net:now(j, 'x') end",
      { "network 'Net': custom coupling 'net_x'", "called with the receiving node's index alone",
        "function(i) return <expression> end", "takes 2 parameters (i, j)" } },
    { "net:custom(function(n, i)): at the call, with the form function(i)",
      "net:custom(function(n, i) return 0 end)",
      { "net:custom: a custom rule is called with the receiving node's index alone",
        "function(i) return <expression> end", "takes 2 parameters (n, i)" } },
  } do
    it(c[1], function()
      local ok, err = net_case("function(net) return { net_x =\n  " .. c[2] .. " } end")
      failed_at(ok, err, line(4), c[3])
    end)
  end
  it("the right shapes, and a vararg, are taken", function()
    assert.is_true(net_case("function(net) return { net_x = function(i) return net:now(1 - i, 'x') end } end"))
    assert.is_true(net_case("function(net) return { net_x = net:custom(function(i) return 0 end) } end"))
    assert.is_true(net_case("function(...) return { net_x = (...):additive('x') } end"))
  end)
end)
