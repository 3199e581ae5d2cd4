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

  it("folds numbers exactly as a run computes them (the engine's definition of each function)", function()
    assert.are.equal(1, nm.tanh(400))
    assert.are.equal(-1, nm.tanh(-400))
    local inf, nan = math.huge, 0 / 0
    local cases = {
      { "tanh", 400 }, { "tanh", -400 }, { "tanh", 20 }, { "tanh", -0.0 }, { "tanh", 1e-300 },
      { "tanh", inf }, { "tanh", nan }, { "exp", 710 }, { "exp", -746 }, { "exp", 1 },
      { "log", 0 }, { "log", -1 }, { "log", inf }, { "log", 10 }, { "sqrt", -1 }, { "sqrt", -0.0 },
      { "sqrt", 2 }, { "sin", 1e22 }, { "sin", inf }, { "cos", 1e22 }, { "cos", 3 },
      { "abs", -0.0 }, { "abs", -inf }, { "floor", -0.0 }, { "floor", -0.5 }, { "floor", 2.5 },
      { "floor", 1e300 }, { "min", nan, 1 }, { "min", 1, nan }, { "min", 0.0, -0.0 },
      { "max", nan, 1 }, { "max", 1, nan }, { "max", -0.0, 0.0 }, { "add", 1e308, 1e308 },
      { "sub", inf, inf }, { "mul", 0, inf }, { "div", 1, 0 }, { "div", 0, 0 }, { "div", -1, -0.0 },
      { "pow", 0, -1 }, { "pow", -8, 1 / 3 }, { "pow", 2, 1024 }, { "pow", 1.1, 3 }, { "neg", 0 },
    }
    local ops = { add = "__add", sub = "__sub", mul = "__mul", div = "__div", pow = "__pow" }
    local function eval(f, a, b)       -- nm.f, or an operator on expressions
      if f == "neg" then return -a end
      if ops[f] then return getmetatable(expr.const(0))[ops[f]](a, b) end
      return b == nil and nm[f](a) or nm[f](a, b)
    end
    local folded, params, names = {}, { inf = inf }, {}
    for i, c in ipairs(cases) do
      local wrap = (ops[c[1]] or c[1] == "neg") and expr.const or function(value) return value end
      local v = eval(c[1], wrap(c[2]), c[3] and wrap(c[3]))
      folded[i] = expr.is_expr(v) and v.value or v
      params["a" .. i], params["b" .. i] = c[2] == c[2] and c[2] or 0, c[3] == c[3] and c[3] or 0
      names[i] = "y" .. i
    end
    local function matches(v, c)       -- 1 where the run's value v is c bit for bit (any NaN for NaN)
      if c ~= c then return nm.ne(v, v) end
      if c == 0 then return nm.eq(1 / v, 1 / c) end
      return nm.eq(v, c)
    end
    local m = nm.mass {
      label = "Fold", state = { x = 0 }, params = params, output_order = names,
      derivatives = function() return { x = 0 } end,
      outputs = function(_, p)
        local out = {}
        local function operand(value, name)  -- a parameter; NaN (not a parameter's value) as inf - inf
          if value == nil then return nil end
          return value == value and p[name] or p.inf - p.inf
        end
        for i, c in ipairs(cases) do
          out[names[i]] = matches(eval(c[1], operand(c[2], "a" .. i), operand(c[3], "b" .. i)), folded[i])
        end
        return out
      end,
    }
    local res = nm.model(nm.node { masses = { m() } }):run { duration = 1, dt = 1, record = names }
    for i, c in ipairs(cases) do
      assert(res:get(names[i])[1] == 1, string.format("%s(%s, %s): folded %s, the run differs", c[1],
             tostring(c[2]), tostring(c[3]), tostring(folded[i])))
    end
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

  it("names the bad operand of a function of nm as nm.<function>", function()
    -- (before: "bad operand #1 to 'min'", a name the user never wrote)
    for _, c in ipairs { { function() local _ = nm.min() end, "bad operand #1 to 'nm%.min' %(expression or number " ..
                           "expected, got nil%)" },
                         { function() local _ = nm.max(1, "a") end, "bad operand #2 to 'nm%.max'" },
                         { function() local _ = nm.exp({}) end, "bad operand #1 to 'nm%.exp'" },
                         { function() local _ = nm.ifelse(1, 2) end, "bad operand #3 to 'nm%.ifelse'" } } do
      local ok, err = pcall(c[1])
      assert.is_false(ok)
      assert.matches("expr_spec%.lua:%d+: " .. c[2], err)
    end
  end)

  it("makes // floor division, as for numbers: floor(a / b)", function()
    assert.are.equal("floor(x / 2)", tostring(x // 2))
    assert.are.equal("floor(7 / y)", tostring(7 // y))
    local c = expr.const(7) // 2
    assert.are.equal("const", c.op)
    assert.are.equal(3, c.value)
    -- in a run: x' = (t + 5) // 2 is 2 for t in [0, 1), so Euler gives x(1) = 2
    local M = nm.mass { label = "A", state = { x = 0 }, params = { k = 1 },
                        derivatives = function() return { x = (nm.t + 5) // 2 } end }
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
    local g = expr.serialize({ { s + s, "deriv", 0 } }, function() return "signal", 0, 0 end)
    -- x, y, x*y, (x*y)+(x*y): four nodes, the product emitted once
    assert.are.equal(4, #g.op)
  end)
end)
