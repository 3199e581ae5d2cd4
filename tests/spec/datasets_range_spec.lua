-- datasets_range_spec.lua: ds.BOLDs and ds.FCs refuse an index that is no
-- subject's, at the user's line, naming the range; ipairs, # and
-- table.unpack still see a plain array.
local nm = require "neuromass"

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
