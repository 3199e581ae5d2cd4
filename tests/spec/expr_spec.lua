-- expr_spec.lua: the symbolic expression DSL (lua/neuromass/expr.lua).
local nm = require "neuromass"
local expr = require "neuromass.expr"

describe("neuromass.expr", function()
  local x, y = expr.leaf("var", "x"), expr.leaf("var", "y")

  it("builds graphs with the arithmetic operators and prints them infix", function()
    local e = -2.5 * x ^ 3 + (x - y) / 4
    assert.are.equal("-2.5 * x^3 + (x - y) / 4", tostring(e))
  end)

  it("folds number-only subexpressions at construction", function()
    local e = expr.const(2) * 3 + 1
    assert.are.equal("const", e.op)
    assert.are.equal(7, e.value)
  end)

  it("gives plain numbers for functions of plain numbers", function()
    assert.are.equal(math.exp(2.385), nm.exp(2.385))
    assert.are.equal(2, nm.max(1, 2))
    assert.is_true(expr.is_expr(nm.exp(x)))
  end)

  it("refuses < and <= on expressions, pointing to the comparison functions", function()
    assert.has_error(function() return x < y end)
    local ok, err = pcall(function() return x < y end)
    assert.is_false(ok)
    assert.matches("nm%.lt", (err:gsub("neuromass", "nm")))
  end)

  it("names the bad operand of an arithmetic operator", function()
    local ok, err = pcall(function() return x + {} end)
    assert.is_false(ok)
    assert.matches("bad operand #2 to '%+' %(expression or number expected, got table%)", err)
  end)

  it("makes // floor division, as for numbers: floor(a / b)", function()
    assert.are.equal("floor(x / 2)", tostring(x // 2))
    assert.are.equal("floor(7 / y)", tostring(7 // y))
    local c = expr.const(7) // 2
    assert.are.equal("const", c.op)
    assert.are.equal(3, c.value)
    -- in a run: x' = (t + 5) // 2 is 2 for t in [0, 1), so Euler gives x(1) = 2
    local M = nm.mass { label = "A", state = { x = 0 }, params = { k = 1 },
                        derivatives = function(s) return { x = (nm.t + 5) // 2 } end }
    local r = nm.model(nm.node { label = "N", masses = { M() } }):run { duration = 1, dt = 0.1 }
    local xs = r:get("x", 0)
    assert.is_true(math.abs(xs[#xs] - 2) < 1e-12, tostring(xs[#xs]))
  end)

  it("refuses == and ~= between expressions (a constant true or false), pointing to nm.eq", function()
    local ok, err = pcall(function() return x == y end)
    assert.is_false(ok)
    assert.matches("nm%.eq", err)
    ok, err = pcall(function() return x ~= y end)
    assert.is_false(ok)
    assert.matches("nm%.ne", err)
    -- identity is still rawequal, and a table key
    assert.is_true(rawequal(x, x))
    assert.are.equal(1, ({ [x] = 1 })[x])
  end)

  it("keeps comparisons and ifelse as graph nodes", function()
    local e = nm.ifelse(nm.lt(x, 0), -x, x)
    assert.are.equal("ifelse", e.op)
    assert.are.equal("lt", e[1].op)
  end)

  it("serializes a shared subexpression once", function()
    local s = x * y
    local g = expr.serialize({ { s + s, "deriv", 0 } }, function(leaf) return "signal", 0, 0 end)
    -- x, y, x*y, (x*y)+(x*y): four nodes, the product emitted once
    assert.are.equal(4, #g.op)
  end)
end)
