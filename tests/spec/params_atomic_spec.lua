-- params_atomic_spec.lua: setting parameters and initial states is all or
-- nothing: a glob given one value per match, model.init given a whole state,
-- and the command line's several --set leave the model as it was when one
-- value is refused (lua/neuromass/params.lua's assign, model.lua's init,
-- run/options.lua's --set).
local nm = require "neuromass"
local h = require "helpers"

local q = h.q

local TAUS = "*EXC_0.tau"
local function taus(m)
  local t = m.params[TAUS]
  return { t["WCnet.WCnode_0.WCmassEXC_0.tau"], t["WCnet.WCnode_1.WCmassEXC_0.tau"],
           t["WCnet.WCnode_2.WCmassEXC_0.tau"] }
end

describe("model.params[glob] = one value per match", function()
  local function net()
    return nm.model(nm.models.wc.network({ { 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 0 } }, nil))
  end

  it("sets none when a later value is refused by its bound", function()
    -- before: the first two were kept, the third refused
    local m = net()
    local ok, err = pcall(function() m.params[TAUS] = { 4, 5, -1 } end)
    assert.is_false(ok)
    assert.matches("params_atomic_spec.lua:%d+: '%*EXC_0%.tau' is a time constant %(ms%): it must be > 0, got %-1", err)
    assert.are.same({ 2.5, 2.5, 2.5 }, taus(m))
    m.params[TAUS] = { 4, 5, 6 }
    assert.are.same({ 4, 5, 6 }, taus(m))
  end)

  it("sets none when a later value is not a number", function()
    local m = net()
    local ok, err = pcall(function() m.params[TAUS] = { 4, 5, "six" } end)
    assert.is_false(ok)
    assert.matches("element 3 must be a finite number", err)
    assert.are.same({ 2.5, 2.5, 2.5 }, taus(m))
  end)

  it("checks a pair not both 0 against the values it is about to take", function()
    local m = nm.models.thalamus.native {}
    local ok, err = pcall(function() m.params["k*"] = 0 end)
    assert.is_false(ok)
    assert.matches("'k%*' is 0, as 'k2' is", err)
    assert.are.equal(25000000.0, m.params.k1)
    assert.are.equal(0.0004, m.params.k2)
    assert.are.equal(0.1, m.params.k3)
  end)
end)

describe("model.params[glob] matching several matrices", function()
  it("sets none when a later one refuses the value (a native model's Cmat, then Dmat)", function()
    local C, D = { { 0, 1 }, { 1, 0 } }, { { 0, 10 }, { 10, 0 } }
    local m = nm.models.fhn.native { Cmat = C, Dmat = D }
    local ok, err = pcall(function() m.params["*mat"] = { { 0, -1 }, { 1, 0 } } end)
    assert.is_false(ok)
    assert.matches("params_atomic_spec.lua:%d+: '%*mat' matches 'Dmat': FHNModel: Dmat%[1%]%[2%] must not be " ..
                   "negative, got %-1", err)
    assert.is_true(rawequal(C, m.params.Cmat))            -- before: Cmat was the refused value
    assert.is_true(rawequal(D, m.params.Dmat))
    assert.are.equal(1.0, m.params.connectivity[1][2])
    assert.are.equal(0.5, m.params.delays[1][2])
    m.params["*mat"] = { { 0, 2 }, { 2, 0 } }
    assert.are.equal(2.0, m.params.connectivity[1][2])
  end)

  it("sets none when a later node refuses it (local matrices of nodes of 2 and 3 masses)", function()
    local E = nm.mass { label = "E", type = "EXC", state = { x = 0 }, derivatives = function(s) return { x = -s.x } end }
    local I = nm.mass { label = "I", type = "INH", state = { y = 0 }, derivatives = function(s) return { y = -s.y } end }
    local J = nm.mass { label = "J", type = "INH", state = { z = 0 }, derivatives = function(s) return { z = -s.z } end }
    local two = { { 0, 1 }, { 1, 0 } }
    local nodes = { nm.node { label = "A", masses = { E(), I() }, connectivity = two },
                    nm.node { label = "B", masses = { E(), I(), J() },
                              connectivity = { { 0, 1, 1 }, { 1, 0, 0 }, { 1, 0, 0 } } } }
    local m = nm.model(nm.network { label = "Net", nodes = nodes, connectivity = { { 0, 0 }, { 0, 0 } } })
    local ok, err = pcall(function() m.params["*.local_connectivity"] = { { 0, 5 }, { 5, 0 } } end)
    assert.is_false(ok)
    assert.matches("'%*%.local_connectivity' matches 'Net%.B_1%.local_connectivity'", err)
    assert.are.equal(1, m.params["Net.A_0.local_connectivity"][1][2])
  end)
end)

describe("putting values back", function()
  local dir
  setup(function() dir = h.scratch() end)
  teardown(h.remove_scratch)

  it("derives a native model's delays once for a refused --set of signalV (none to check it first)", function()
    -- (the delays derived from Dmat / signalV: core.matrix_derive's "div", counted by the script)
    h.write(dir .. "/d.lua", [[
local nm = require "neuromass"
local core = require "neuromass.core"
local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 10 }, { 10, 0 } } }
local n, derive = 0, core.matrix_derive
core.matrix_derive = function(p, k, how, ...) if how == "div" then n = n + 1 end return derive(p, k, how, ...) end
local ok, err = pcall(m.run, m, { duration = 1 })
print(ok, err)
print("derived", n, m.params.signalV, m.params.delays[1][2])
]])
    local _, out = h.sh(q(h.exe) .. " run " .. q(dir .. "/d.lua") .. " --quiet --set signalV=5 --set tau=-1")
    assert.truthy(out:find("none of the 2 --set was applied", 1, true), out)
    -- one to apply signalV = 5, one to put back 20 (before: 2 and 2, checked then derived)
    assert.truthy(out:find("\nderived\t2\t20.0\t0.5\n", 1, true), out)
  end)
end)

describe("model.init = a whole state", function()
  it("keeps the state as it was when a later value is refused", function()
    local m = nm.models.fhn.native {}
    local x, y = m.init.x, m.init.y
    local ok, err = pcall(function() m.init = { 1, 0 / 0 } end)
    assert.is_false(ok)
    assert.matches("model.init: value 2 must be a finite number", err)
    assert.are.equal(x, m.init.x)
    assert.are.equal(y, m.init.y)
    m.init = { 1, 2 }
    assert.are.equal(1, m.init.x)
    assert.are.equal(2, m.init.y)
  end)
end)

describe("several --set", function()
  local dir
  setup(function() dir = h.scratch() end)
  teardown(h.remove_scratch)

  -- The script catches the run's error and prints what the model holds after it.
  local SCRIPT = [[
local nm = require "neuromass"
local m = nm.models.fhn.native {}
local ok, err = pcall(m.run, m, { duration = 1 })
print(ok, err)
print("after", m.params.alpha, m.params.signalV, m.params.tau, m.params["input_0.sigma"])
]]

  local function run(sets)
    h.write(dir .. "/s.lua", SCRIPT)
    local _, out = h.sh(q(h.exe) .. " run " .. q(dir .. "/s.lua") .. " --quiet " .. sets)
    return out
  end

  it("apply none when one is refused by its bound, even after others were set", function()
    local out = run("--set alpha=7 --set signalV=5 --set input_0.sigma=0.1 --set tau=-1")
    assert.truthy(out:find("--set tau: 'tau' is a time constant (ms): it must be > 0, got -1 " ..
                           "(none of the 4 --set was applied)", 1, true), out)
    assert.truthy(out:find("\nafter\t3.0\t20.0\t20.0\t0.0\n", 1, true), out)
  end)

  it("apply none when one names nothing, whatever its place", function()
    local out = run("--set alpha=7 --set bogus=2")
    assert.truthy(out:find("--set bogus: unknown parameter 'bogus'", 1, true), out)
    assert.truthy(out:find("\nafter\t3.0\t20.0\t20.0\t0.0\n", 1, true), out)
  end)

  it("apply all when every one is taken", function()
    local out = run("--set alpha=7 --set signalV=5 --set tau=30")
    assert.truthy(out:find("^true\t"), out)
    assert.truthy(out:find("\nafter\t7\t5\t30\t0.0\n", 1, true), out)
  end)
end)
