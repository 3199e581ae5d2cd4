-- nan_spelling_spec.lua: a NaN reaches the user as "nan", whatever its sign
-- bit (0.0 / 0.0 sets it on x86, which Lua's tostring and %g show as "-nan"):
-- the engine's values crossing to Lua (nmL_pushvalue, src/bind/bind.h), the
-- library's own NaN (check.NAN), the messages' format (check.number) and a
-- metric "nan" read back from results.csv (explore/table.lua).  The CSV
-- writer's spelling: tests/c/test_csv.c.
local nm = require "neuromass"
local check = require "neuromass._check"
local tbl = require "neuromass.explore.table"

local negative = 0 / 0
if string.format("%g", negative) ~= "-nan" then negative = -negative end   -- (a NaN with its sign bit set)

describe("a NaN shown to the user", function()
  it("is the test's premise: a NaN with its sign bit prints -nan", function()
    assert.are.equal("-nan", tostring(negative))
  end)

  it("from an analysis of constant series prints nan (matrix_correlation, weighted_correlation)", function()
    local flat = { { 1, 1, 1 }, { 1, 1, 1 }, { 1, 1, 1 } }
    local other = { { 1, 2, 3 }, { 2, 1, 4 }, { 3, 4, 1 } }
    local r = nm.func.matrix_correlation(flat, other)
    assert.is_true(r ~= r)
    assert.are.equal("nan", tostring(r))
    assert.are.equal("nan", string.format("%g", r))
    local w = nm.func.weighted_correlation({ 1, 2, 3 }, { 3, 1, 2 }, { 0, 0, 0 })
    assert.is_true(w ~= w)
    assert.are.equal("nan", tostring(w))
  end)

  it("is the library's NaN, check.NAN, and check.number's word for any NaN", function()
    assert.is_true(check.NAN ~= check.NAN)
    assert.are.equal("nan", tostring(check.NAN))
    assert.are.equal("nan", check.number(negative))
    assert.are.equal("nan", check.number(-negative))
  end)

  it("read back from results.csv prints nan", function()
    local v = tbl.values({ point = 1, params = { "1" }, seed = "0", metrics = { fit = "nan" }, status = "ok" },
                         { "K" })
    assert.is_true(v.metrics.fit ~= v.metrics.fit)
    assert.are.equal("nan", tostring(v.metrics.fit))
  end)
end)
