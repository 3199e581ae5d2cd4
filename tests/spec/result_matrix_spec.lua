-- result_matrix_spec.lua: res:matrix(var), a recorded variable as an N × T
-- array of rows (one per node that recorded it, in node order, with the
-- node numbers), the same values as res:get; unknown variables are errors
-- at the user's line with a suggestion; "BOLD" reads res.BOLD (its nodes
-- res.BOLD_nodes); res:matrix is one result, so nm.func.fc(res:matrix("x"))
-- works; res:nodes(var) lists the rows' nodes.
local nm = require "neuromass"

local function fhn3()
  local Cmat = { { 0, 1, 0 }, { 1, 0, 1 }, { 0, 1, 0 } }
  local Dmat = { { 0, 2, 4 }, { 2, 0, 2 }, { 4, 2, 0 } }
  return nm.models.fhn.native { Cmat = Cmat, Dmat = Dmat }
end

describe("res:matrix", function()
  local res = fhn3():run { duration = 20, dt = 0.1 }

  it("is N rows of T values, row i = node i - 1's series, for every recorded variable", function()
    for _, var in ipairs(res.variables) do
      local m, nodes = res:matrix(var), res:nodes(var)
      assert.same({ 0, 1, 2 }, nodes)
      assert.equals(3, #m)
      for i = 1, 3 do
        assert.equals(res:rows(), #m[i])
        assert.same(res:get(var, i - 1), m[i])
      end
    end
  end)

  it("refuses an unknown variable at the user's line, naming what was recorded and the nearest", function()
    local ok, err = pcall(function() return res:matrix("xx") end)
    assert.is_false(ok)
    assert.matches("result_matrix_spec.lua:%d+: res:matrix: variable 'xx' was not recorded %(recorded: x, y%)" ..
                   "; did you mean 'x'%?", err)
    ok, err = pcall(function() return res:matrix(3) end)
    assert.is_false(ok)
    assert.matches("result_matrix_spec.lua:%d+: res:matrix: expected a variable name", err)
  end)

  it("reads res.BOLD for \"BOLD\", and says how to get it when the run computed none", function()
    local ok, err = pcall(function() return res:matrix("BOLD") end)
    assert.is_false(ok)
    assert.matches("result_matrix_spec.lua:%d+: .*no BOLD.*bold = true", err)
    local r2 = fhn3():run { duration = 5, dt = 0.1 }
    r2.BOLD = { { 1, 2 }, { 3, 4 }, { 5, 6 } }        -- as a run with bold = true leaves it
    local m, nodes = r2:matrix("BOLD"), r2:nodes("BOLD")
    assert.equals(r2.BOLD, m)
    assert.same({ 0, 1, 2 }, nodes)
    r2.BOLD_nodes = { 0, 2, 4 }                          -- a heterogeneous network's BOLD rows
    assert.same({ 0, 2, 4 }, r2:nodes("BOLD"))
  end)

  it("of a run that recorded only BOLD: an unknown name lists none recorded, BOLD held, and suggests it for 'bold'",
     function()
    local r = fhn3():run { duration = 4000, dt = 0.1, record = {}, bold = true }
    local ok, err = pcall(function() return r:matrix("bold") end)
    assert.is_false(ok)
    assert.matches("result_matrix_spec.lua:%d+: res:matrix: variable 'bold' was not recorded " ..
                   "%(recorded: none; also BOLD%); did you mean 'BOLD'%?", err)
    local m = r:matrix("BOLD")
    assert.equals(3, #m)
    assert.equals(#r.t_BOLD, #m[1])
  end)

  it("res:get(\"BOLD\", node) says where BOLD is (no recorded variable), whether or not variables were kept",
     function()
    for _, record in ipairs { {}, "x" } do
      local r = fhn3():run { duration = 4000, dt = 0.1, record = record, bold = true }
      local ok, err = pcall(function() local s = r:get("BOLD", 1); return s end)
      assert.is_false(ok)
      assert.matches("result_matrix_spec.lua:%d+: result: BOLD is no recorded variable %(its samples are 2 s " ..
                     "apart, at res.t_BOLD%): node res.BOLD_nodes%[i%]'s series is res.BOLD%[i%]", err)
    end
  end)

  it("keeps the rows of a variable that only some nodes have, with their node numbers", function()
    local osc = nm.mass { label = "Osc", state = { x = 1 }, derivatives = function(s) return { x = -s.x } end }
    local leak = nm.mass { label = "Leak", state = { u = 2 }, derivatives = function(s) return { u = -0.5 * s.u } end }
    local net = nm.network { nodes = { nm.node { masses = { osc() } }, nm.node { masses = { leak() } },
                                       nm.node { masses = { osc() } } } }
    local r = nm.model(net):run { duration = 1, dt = 0.1 }
    local m, nodes = r:matrix("x"), r:nodes("x")
    assert.same({ 0, 2 }, nodes)
    assert.same(r:get("x", 2), m[2])
    m, nodes = r:matrix("u"), r:nodes("u")
    assert.same({ 1 }, nodes)
    assert.same(r:get("u", 1), m[1])
  end)

  it("is one result, so nm.func.fc(res:matrix(\"x\")) and every nm.func of a matrix take it last", function()
    assert.equals(1, select("#", res:matrix("x")))
    local fc = nm.func.fc(res:matrix("x"))
    assert.same(nm.func.fc(res, "x"), fc)
    assert.same(nm.func.fcd(res, "x"), nm.func.fcd(res:matrix("x")))
    assert.same({ nm.func.kuramoto(res, "x") }, { nm.func.kuramoto(res:matrix("x")) })
    assert.equals(nm.func.ts_kolmogorov(res, "x", res, "y"), nm.func.ts_kolmogorov(res:matrix("x"), res:matrix("y")))
    -- a list where the options go is named as what it is
    local ok, err = pcall(function() return nm.func.fc(res:matrix("x"), res:nodes("x")) end)
    assert.is_false(ok)
    assert.matches("result_matrix_spec.lua:%d+: nm.func.fc: the last argument is a table of options %(skip%), " ..
                   "got a list { 0, 1, 2 }", err)
  end)

  it("res:nodes refuses as res:matrix does, naming itself", function()
    local ok, err = pcall(function() return res:nodes("xx") end)
    assert.is_false(ok)
    assert.matches("result_matrix_spec.lua:%d+: res:nodes: variable 'xx' was not recorded", err)
  end)
end)

describe("res:get", function()
  local h = require "helpers"
  local res = fhn3():run { duration = 5, dt = 0.1, record = { "x" } }

  it("names the nodes a variable was recorded for when the node is not among them", function()
    -- (before: "'x.3' was not recorded (recorded: x); did you mean 'x.0'?")
    assert.matches("result_matrix_spec%.lua:%d+: result: 'x' was recorded for nodes 0 to 2, not node 3",
                   h.error_of(function() local _ = res:get("x", 3) end))
  end)

  it("refuses a node that is not a whole number and a variable that is not a name, at the user's line", function()
    assert.matches("result_matrix_spec%.lua:%d+: result: get%(\"x\", node%): 'node' must be a whole number " ..
                   "%(from 0%), got 1%.5", h.error_of(function() local _ = res:get("x", 1.5) end))
    -- (the arguments swapped: before, "'0.x' was not recorded")
    assert.matches("result_matrix_spec%.lua:%d+: result: get%(var, node%): 'var' must be the name of a " ..
                   "recorded variable %(x%), got 0; did you mean get%(\"x\", 0%)%?",
                   h.error_of(function() local _ = res:get(0, "x") end))
    assert.matches("result_matrix_spec%.lua:%d+: write_csv: expected a path, got 5",
                   h.error_of(function() local _ = res:write_csv(5) end))
  end)
end)
