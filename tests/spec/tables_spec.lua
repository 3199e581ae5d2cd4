-- tables_spec.lua: the two-dimensional lookup primitive (nm.table2d) and the
-- shipped ALN tables: neurolib's reference values (models/aln/timeIntegration.py),
-- edge clamping, and the errors for missing or truncated table files.
local nm = require "neuromass"
local tables = require "neuromass.tables"

-- Evaluates the ALN transfer functions at (mu, sigma) through a one-mass model
-- whose outputs are the three lookups.
local function lookup(mu, sigma)
  local aln = nm.models.aln
  local probe = nm.mass {
    label = "Probe", state = { z = 0 }, params = { mu = mu, sigma = sigma },
    outputs = function(_, p)
      local r, V, tau = aln.transfer(p.mu, p.sigma)
      return { r = r, V = V, tau = tau }
    end,
    derivatives = function() return { z = 0 } end,
  }
  local res = nm.model(nm.node { masses = { probe() } }):run { duration = 0.1, dt = 0.1 }
  return res:get("r")[1], res:get("V")[1], res:get("tau")[1]
end

describe("table2d", function()
  it("reproduces neurolib's ALN lookups bit for bit", function()
    local cases = {
      { 3.2, 1.7, 0.09444942503533124, -56.70455755705249, 0.4487499999999963 },
      { 0.0, 1.0, 1.0002400481264964e-8, -65.0043639922724, 24.584750000000085 },
      { 1.0, 1.5, 0.024463458506008427, -56.62057731227676, 2.505999999999975 },
      { 2.0, 2.0, 0.05921274616167893, -57.07443221933837, 0.8734999999999948 },
    }
    for _, c in ipairs(cases) do
      local r, V, tau = lookup(c[1], c[2])
      assert.are.equal(c[3], r)
      assert.are.equal(c[4], V)
      assert.are.equal(c[5], tau)
    end
  end)

  it("clamps outside the grid to the edge values", function()
    local r_corner = lookup(100, 100)
    assert.are.equal(0.1783589602664116, r_corner)     -- [349][63], the last entry
    local r_low = lookup(-50, 0.1)
    assert.are.equal(3.731597100406975e-130, r_low)    -- [0][0]
  end)

  it("reports a missing or truncated table file where it is loaded", function()
    local ok, err = pcall(tables.load, { file = "/nonexistent.f64", rows = { 1, 2 }, cols = { 1, 2 } })
    assert.is_false(ok)
    assert.matches("cannot open '/nonexistent%.f64'", err)
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(string.pack("<ddd", 1, 2, 3))
    f:close()
    ok, err = pcall(tables.load, { file = path, rows = { 1, 2 }, cols = { 1, 2 } })
    os.remove(path)
    assert.is_false(ok)
    assert.matches("has 24 bytes, expected 32 .* truncated", err)
    -- a folder opens, its size is no file's (it said 9223372036854775807 bytes)
    ok, err = pcall(tables.load, { file = "/", rows = { 1, 2 }, cols = { 1, 2 } })
    assert.is_false(ok)
    assert.matches("table: cannot read '/': Is a directory$", err)
  end)
end)

describe("nm.load_table", function()
  -- The message of the error loading a 2 x 3 table with these axes raises,
  -- checked to be at the line calling nm.load_table.
  local function refusal(rows, cols, name)
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(string.pack("<dddddd", 1, 2, 3, 4, 5, 6))
    f:close()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() return nm.load_table { file = path, rows = rows, cols = cols,
                                                            name = name } end)
    os.remove(path)
    assert.is_false(ok, "expected an error")
    assert.matches("^[^:]*tables_spec%.lua:" .. line .. ": table '", err)
    return err
  end

  it("refuses bad axes where the table is loaded, naming the axis and the value", function()
    assert.matches("rows%[2%] is 0, not above rows%[1%] %(1%): an axis must increase",
                   refusal({ 1, 0 }, { 1, 2, 3 }))
    assert.matches("cols%[3%] is 2, not above cols%[2%] %(2%)", refusal({ 1, 2 }, { 1, 2, 2 }))
    -- a zero step
    assert.matches("cols%[2%] is 1, not above cols%[1%] %(1%)", refusal({ 0, 1 }, { 1, 1, 2 }))
    assert.matches("rows%[2%] must be a finite number, got nan", refusal({ 0, 0 / 0 }, { 1, 2, 3 }))
    assert.matches("cols%[1%] must be a finite number, got \"a\" %(a string%)",
                   refusal({ 0, 1 }, { "a", 2, 3 }))
    assert.matches("rows has 1 values; an axis needs 2 or more", refusal({ 0 }, { 1, 2, 3, 4, 5, 6 }))
    assert.matches("cols spans 0 to 1e%+300 in steps of 1: more than 2%^53 steps",
                   refusal({ 0, 1 }, { 0, 1, 1e300 }))
    assert.matches("name must be a string, got true", refusal({ 0, 1 }, { 1, 2, 3 }, true))
  end)

  it("loads increasing axes as {first, step, last}", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(string.pack("<dddddd", 1, 2, 3, 4, 5, 6))
    f:close()
    local t = nm.load_table { file = path, rows = { 0, 0.5 }, cols = { 1, 2, 3 } }
    os.remove(path)
    assert.are.same({ rows = 2, cols = 3, row_axis = { 0, 0.5, 0.5 }, col_axis = { 1, 1, 3 }, file = path },
                    t:spec())
  end)
end)

describe("a parameter outside a table's range", function()
  it("is clamped as neurolib does and reported once per model", function()
    local h = require "helpers"
    local dir = os.tmpname()
    os.remove(dir)
    local script = dir .. ".lua"
    local f = assert(io.open(script, "w"))
    f:write([[
local nm = require "neuromass"
local m = nm.models.aln.native { mue_ext_mean = 20 }
m:run { duration = 50 }
m:run { duration = 50, continue = true }
]])
    f:close()
    local status, _, err = h.sh(h.exe .. " run " .. script)
    os.remove(script)
    assert.are.equal(0, status)
    local n = 0
    for _ in err:gmatch("clamped") do n = n + 1 end
    assert.are.equal(1, n)
    assert.matches("warning: %d+ lookups in tables 'ALN", err)
  end)

  it("says one lookup in the singular", function()
    local h = require "helpers"
    local script = os.tmpname() .. ".lua"
    local f = assert(io.open(script, "w"))
    -- (ALN at mue_ext_mean 20 leaves the grid at its 4th step: one lookup in 0.4 ms)
    f:write('local m = require("neuromass").models.aln.native { mue_ext_mean = 20 }\n' ..
            'm:run { duration = 0.4, dt = 0.1 }\n')
    f:close()
    local status, _, err = h.sh(h.exe .. " run " .. script)
    os.remove(script)
    assert.are.equal(0, status)
    assert.matches("warning: 1 lookup in tables 'ALN tau_mu_exp', 'ALN V_mean_ss', 'ALN r_ss' fell outside the " ..
                   "grid and was clamped to its edge", err, nil, true)
  end)

  -- Before, it said only the count: neurolib's example-0 inputs (mue_ext_mean = 2, mui_ext_mean = 2.5)
  -- gave millions of clamped lookups with no word of what that means or where it is documented.
  it("says what clamping means: as neurolib's for ALN, and where it is documented", function()
    local h = require "helpers"
    local dir = h.scratch()
    h.write(dir .. "/aln.lua", 'local m = require("neuromass").models.aln.native { mue_ext_mean = 2.0, ' ..
                               'mui_ext_mean = 2.5 }\nm:run { duration = 50 }\n')
    local values = {}
    for i = 1, 6 do values[i] = i end
    local bytes = {}
    for i = 1, 6 do bytes[i] = string.pack("<d", values[i]) end
    h.write(dir .. "/t.f64", table.concat(bytes))
    h.write(dir .. "/own.lua", [[
local nm = require "neuromass"
local t = nm.load_table { file = "t.f64", rows = { 0, 1 }, cols = { 0, 1, 2 }, name = "own" }
local probe = nm.mass { label = "P", state = { z = 0 }, params = { a = 5 },
  outputs = function(_, p) return { y = nm.table2d(t, p.a, 0) } end, derivatives = function() return { z = 0 } end }
nm.model(nm.node { masses = { probe() } }):run { duration = 0.2, dt = 0.1 }
]])
    local status, _, err = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " run aln.lua")
    assert.are.equal(0, status, err)
    assert.matches("^neuromass: warning: %d+ lookups in tables 'ALN [^\n]* clamped to its edge %(first at row " ..
                   "value [-%d.]+, column value [%d.]+%): the inputs took the model outside the range of its " ..
                   "precomputed transfer functions %(rows: the mean input mu, columns: its spread sigma%), and " ..
                   "the edge's values stood in; neurolib clamps the same lookups, silently, so the results are " ..
                   "as neurolib's %(docs/reference%.md, nm%.table2d; no option silences this warning%)\n$", err)
    status, _, err = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " run own.lua")
    h.remove_scratch()
    assert.are.equal(0, status, err)
    assert.matches("in table 'own' fell outside the grid and w%a+ clamped to its edge %(first at row " ..
                   "value 5, column value 0%): the lookups' arguments left the grid, and its edge's values " ..
                   "stood in for the function the table samples: widen the grid or keep the arguments within " ..
                   "it %(docs/reference%.md, nm%.table2d; no option silences this warning%)\n$", err)
    local ref = assert(io.open(h.top .. "/docs/reference.md")):read("a")
    assert.truthy(ref:find("No option silences it", 1, true), "docs/reference.md, nm.table2d")
  end)
end)
