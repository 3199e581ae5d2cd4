-- hash_order_spec.lua: what a user sees does not depend on the order in which
-- pairs() walks a table, which changes from process to process (Lua seeds
-- its string hash per process).  One script (descriptions of every native
-- model and of a user's network, pairs over model.params and a dataset, the
-- errors naming the first of several bad keys, or the first entry past a
-- hole) runs in several processes, which print the same bytes; and the order
-- is the stated one (keyorder.lua: names sorted where no order was declared).
-- (Before: `m:describe()` listed sigma_ou, y_ou, coupling, ... in another
-- order in each process, and an error named whichever bad key pairs() or
-- lua_next gave first: entry 9 past a hole at 4, not 5.)
local h = require "helpers"

local q = h.q

teardown(h.remove_scratch)

local SCRIPT = [==[
local nm = require "neuromass"
local out = {}
local function say(s) out[#out + 1] = tostring(s) end
local function err(f) local ok, e = pcall(f); say(ok and "no error" or e) end
-- descriptions of the zoo's native models (registries: aliases, structural values, OU states)
for _, name in ipairs { "aln", "fhn", "hopf", "kuramoto", "rww", "thalamus", "wc", "ww" } do
  say(nm.models[name].native { seed = 3 }:describe())
end
-- pairs(model.params) and pairs(dataset)
local m = nm.models.fhn.native {}
for k in pairs(m.params) do say(k) end
-- a user's mass and network with many names
local Osc = nm.mass {
  name = "Osc", state = { x = 0, y = 0, order = { "x", "y" } },
  params = { a1 = 1, a2 = 2, a3 = 3, a4 = 4, a5 = 5 }, inputs = { "net" },
  derivatives = function(s, p, u) return { x = -s.x * p.a1 + u.net, y = s.x - s.y * p.a2 } end,
}
local node = nm.node { label = "N", masses = { Osc() } }
local net = nm.network { label = "Net", nodes = nm.replicate(node, 2), connectivity = { { 0, 1 }, { 1, 0 } },
  params = { g1 = 1, g2 = 2, g3 = 3, g4 = 4 },
  sync = function(n) return { net = n:additive("x") } end }
say(nm.model(net):describe())
-- errors naming the first of several bad keys
err(function() Osc { params = { b1 = 1, b2 = 2, b3 = 3, b4 = 4, b5 = 5 } } end)
err(function() Osc { init = { z1 = 1, z2 = 2, z3 = 3, z4 = 4, z5 = 5 } } end)
err(function() Osc { o1 = 1, o2 = 2, o3 = 3, o4 = 4, o5 = 5 } end)
err(function() nm.network { label = "B", nodes = { node }, params = { h1 = "a", h2 = "b", h3 = "c", h4 = "d" } } end)
err(function() nm.mass { name = "M", state = { x = 0 }, c1 = 1, c2 = 2, c3 = 3, c4 = 4,
                         derivatives = function(s) return { x = s.x } end } end)
err(function() nm.mass { name = "M", state = { x = 0 }, clamp = { q1 = { 0, 1 }, q2 = { 0, 1 }, q3 = { 0, 1 } },
                         derivatives = function(s) return { x = s.x } end } end)
err(function() nm.model(nm.network { label = "B", nodes = nm.replicate(node, 2), connectivity = { { 0, 1 }, { 1, 0 } },
  sync = function(n) return { net = n:additive("x"), w1 = n:additive("x"), w2 = n:additive("x"), w3 = n:additive("x") } end }) end)
err(function() m:run { duration = 1, r1 = 1, r2 = 2, r3 = 3, r4 = 4 } end)
err(function() nm.stimulus.StepInput { s1 = 1, s2 = 2, s3 = 3, s4 = 4 } end)
err(function() nm.func.fcd({ { 1, 2 }, { 3, 4 } }, { f1 = 1, f2 = 2, f3 = 3, f4 = 4 }) end)
err(function() m.params["*tau*"] = { t1 = 1, t2 = 2, t3 = 3, t4 = 4 } end)
err(function() nm.explore.ParameterSpace({ x_ext = { 1, 2 } }, { k1 = 1, k2 = 2, k3 = 3 }) end)
-- a hole in an array: the first entry set past it (read in C, and in Lua)
err(function() nm.func.fc { { 1, 2, 3, [9] = 1, [5] = 1 }, { 1, 2, 3 } } end)
err(function() nm.func.getPowerSpectrum({ 1, 2, 3, [9] = 1, [5] = 1 }, 0.1) end)
-- a table raised as an error by the user's code: its first 8 fields
err(function()
  nm.mass { name = "Bad", state = { x = 0 }, derivatives = function()
    error { e1 = 1, e2 = 2, e3 = 3, e4 = 4, e5 = 5, e6 = 6, e7 = 7, e8 = 8, e9 = 9, e10 = 10 } end }
end)
for k in pairs(nm.datasets.load("hcp")) do say(k) end
io.write(table.concat(out, "\n"), "\n")
]==]

describe("what a user sees", function()
  it("is the same, byte for byte, in every process, in the stated order", function()
    local dir = h.scratch()
    h.write(dir .. "/s.lua", SCRIPT)
    local first
    for i = 1, 6 do
      local s, out, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run s.lua")
      assert.equals(0, s, err)
      if i == 1 then first = out else assert.equals(first, out, "process " .. i) end
    end
    -- the stated order: flat aliases, then OU states, then structural values, each sorted
    assert.truthy(first:find("  K_gl = 0.6\n  sigma_ou = 0\n  tau_ou = 5\n  x_ou_mean = 0\n  y_ou_mean = 0\n" ..
                             "  xs_init = [^\n]*\n  ys_init = [^\n]*\n  x_ou = 0\n  y_ou = 0\n" ..
                             "  connectivity = { { 0 } }\n  delays = { { 0 } }\n  Cmat = { { 0 } }\n" ..
                             "  Dmat = { { 0 } }\n  coupling = diffusive\n  lengthMat = { { 0 } }\n" ..
                             "  signalV = 20\n"), first)
    -- each error names the first bad key in that order
    for _, said in ipairs {
      "unknown parameter 'b1'", "unknown state variable 'z1'", "unknown field 'o1'", "parameter 'h1' must be",
      "unknown field 'c1'", "unknown state variable 'q1'", "rule for input 'w1'", "run: unknown field 'r1'",
      "unknown parameter 's1'", "unknown option 'f1'", "('t1', ...", "unknown option 'k1'",
      "ts[1] has a hole: entry 4 is nil but entry 5 is set", "x has a hole: entry 4 is nil but entry 5 is set",
      "{ e1 = 1, e10 = 10, e2 = 2, e3 = 3, e4 = 4, e5 = 5, e6 = 6, e7 = 7, ... }",
    } do
      assert.truthy(first:find(said, 1, true), said .. " in\n" .. first)
    end
    assert.truthy(first:find("\nBOLDs\nCmat\nDmat\nFCs\ncoords\n", 1, true), first)
  end)
end)
