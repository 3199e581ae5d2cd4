--- Symbolic expressions: the values a mass's `derivatives` function computes with.
-- Arithmetic on them (`+ - * / % ^ //`, unary minus) builds a graph instead of a number;
-- `neuromass.core` compiles that graph into a flat program.  Comparisons are
-- functions (`lt`, `gt`, ...): Lua converts the result of `__lt`/`__eq` to a
-- boolean, so overloading them could not build a graph.
local core = require "neuromass.core"
local check = require "neuromass._check"
local source = require "neuromass.source"

local getmetatable, setmetatable, type, select, rawequal, rawlen =
      getmetatable, setmetatable, type, select, rawequal, rawlen
local math, string, table, pairs, ipairs = math, string, table, pairs, ipairs
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

local E = {}          -- the metatable of every expression node
E.__name = "neuromass.expression"

local function is_expr(v) return getmetatable(v) == E end
M.is_expr = is_expr

local function node(t) return setmetatable(t, E) end

local function const(v) return node { op = "const", value = v } end

--- Turns a number or expression into an expression; anything else is an error.
local function coerce(v, opname, pos)
  if is_expr(v) then return v end
  if type(v) == "number" then return const(v) end
  error(string.format("bad operand #%d to '%s' (expression or number expected, got %s)%s",
                      pos, opname, type(v), v == nil and source.nil_reads() or ""), 3)
end
M.coerce = function(v) return coerce(v, "expression", 1) end

-- Folding numbers here keeps `2 * 3` a number-valued constant; anything that
-- involves a symbol is left to the compiler in C (which also merges equal
-- subexpressions).  Numbers are folded by the engine's own definition of each
-- operation (core.apply), so a folded constant is what a run would compute.
local apply = core.apply

local function binary(op, symbol)
  return function(a, b)
    local x, y = coerce(a, symbol, 1), coerce(b, symbol, 2)
    if x.op == "const" and y.op == "const" then return const(apply(op, x.value, y.value)) end
    return node { op = op, x, y }
  end
end

E.__add = binary("add", "+")
E.__sub = binary("sub", "-")
E.__mul = binary("mul", "*")
E.__div = binary("div", "/")
E.__pow = binary("pow", "^")
E.__mod = function(a, b)
  return node { op = "mod", coerce(a, "%", 1), coerce(b, "%", 2) }
end
E.__unm = function(a)
  if a.op == "const" then return const(apply("neg", a.value)) end
  return node { op = "neg", a }
end
-- Floor division means what it means for numbers: floor(a / b).
local quotient = binary("div", "//")
E.__idiv = function(a, b)
  local q = quotient(a, b)
  if q.op == "const" then return const(math.floor(q.value)) end
  return node { op = "floor", q }
end

local function refuse(names)
  return function() error("expressions cannot be compared with " .. names .. " (Lua would make " ..
                          "the result true or false once, not an equation): use the functions " ..
                          "nm.lt, nm.le, nm.gt, nm.ge, and nm.ifelse(nm.gt(a, b), x, y) for a " ..
                          "branch (math.max and math.min compare too: use nm.max, nm.min)", 2) end
end
E.__lt = refuse("< or >")
E.__le = refuse("<= or >=")
-- Lua calls __eq only when both sides are tables: `e == 0` is false without
-- asking (README: use nm.eq), but `e1 == e2` and `e1 ~= e2` are refused here.
-- The library compares expressions by identity with rawequal.
E.__eq = function() error("expressions cannot be compared with == or ~= (Lua would make the " ..
                          "result true or false once, not an equation; and `e == 0` is always " ..
                          "false): use nm.eq(a, b) or nm.ne(a, b), and nm.ifelse(nm.eq(a, b), x, y) " ..
                          "for a branch", 2) end
E.__len = function() error("an expression has no length ('#'): it stands for one number", 2) end
local function no_bitwise(symbol)
  return function() error("expressions have no bitwise operator '" .. symbol .. "' (they are real " ..
                          "numbers, not integers); floor division '//' and nm.floor are supported", 2) end
end
E.__band, E.__bor, E.__bxor = no_bitwise("&"), no_bitwise("|"), no_bitwise("~")
E.__shl, E.__shr, E.__bnot = no_bitwise("<<"), no_bitwise(">>"), no_bitwise("~")
E.__concat = function() error("expressions cannot be concatenated with '..' (print them with " ..
                              "tostring(e))", 2) end
E.__call = function() error("an expression is not a function", 2) end

local prec = { add = 1, sub = 1, mul = 2, div = 2, mod = 2, neg = 3, pow = 4 }
local infix = { add = " + ", sub = " - ", mul = " * ", div = " / ", mod = " % ", pow = "^" }

local function show(e, outer)
  local op = e.op
  if op == "const" then
    return check.number(e.value)
  elseif e.name then
    return e.name
  elseif infix[op] then
    local s = show(e[1], prec[op]) .. infix[op] .. show(e[2], prec[op] + (op == "pow" and 0 or 1))
    if outer and outer > prec[op] then s = "(" .. s .. ")" end
    return s
  elseif op == "neg" then
    return "-" .. show(e[1], prec.neg)
  end
  local args = {}
  for i = 1, rawlen(e) do args[i] = show(e[i]) end
  return op .. "(" .. table.concat(args, ", ") .. ")"
end
E.__tostring = function(e) return show(e) end

--- Leaves.  `kind` is "var", "par" or "in" (a mass's own state, parameter or
-- input) or one of the engine-level kinds the model builder uses.
function M.leaf(kind, name, extra)
  local t = { op = kind, name = name }
  if extra then for k, v in pairs(extra) do t[k] = v end end
  return node(t)
end

M.const = const
M.time = node { op = "time", name = "t" }

-- Functions of one argument: plain numbers give plain numbers (the engine's).
for _, f in ipairs { "exp", "log", "sqrt", "tanh", "sin", "cos", "abs", "floor" } do
  M[f] = function(x)
    if type(x) == "number" then return apply(f, x) end
    return node { op = f, coerce(x, "nm." .. f, 1) }
  end
end

for _, f in ipairs { "min", "max", "atan2" } do
  M[f] = function(a, b, ...)
    if select("#", ...) > 0 then return M[f](M[f](a, b), ...) end
    if f ~= "atan2" and type(a) == "number" and type(b) == "number" then return apply(f, a, b) end
    return node { op = f, coerce(a, "nm." .. f, 1), coerce(b, "nm." .. f, 2) }
  end
end

for _, f in ipairs { "lt", "le", "gt", "ge", "eq", "ne" } do
  M[f] = function(a, b) return node { op = f, coerce(a, "nm." .. f, 1), coerce(b, "nm." .. f, 2) } end
end

--- nm.ifelse(cond, a, b) -> an expression: a where cond is non-zero, else b
-- (cond usually nm.lt, nm.eq, ...; numbers or expressions; an expression
-- even on numbers).  Errors: an argument that is neither.
function M.ifelse(c, a, b)
  return node { op = "ifelse", coerce(c, "nm.ifelse", 1), coerce(a, "nm.ifelse", 2),
                coerce(b, "nm.ifelse", 3) }
end

--- nm.table2d(tbl, row, col) -> an expression: the bilinear lookup of a table
-- made by nm.load_table at (row, col) (numbers or expressions, in the axes'
-- units), clamped to the grid's edges (a warning after the run counts them);
-- the compiler gives it the table's slot.  Errors: tbl not such a table.
function M.table2d(tbl, row, col)
  return node { op = "table2d", tbl = tbl, coerce(row, "table2d", 2), coerce(col, "table2d", 3) }
end

--- The deepest nesting an expression may have (a chain of 10,000 operations):
-- the library walks expressions recursively, so deeper graphs are refused.
M.MAX_DEPTH = 10000

--- The nesting depth of expression `e` (a number: 0), or nil and the depth
-- reached when it exceeds M.MAX_DEPTH.  Iterative (an explicit stack that
-- holds one path from the root), so any depth is measured safely.
function M.depth(e)
  if not is_expr(e) then return 0 end
  local depth = {}                     -- node -> depth, once all its children are done
  local stack, top = { e }, 1
  while top > 0 do
    local x = stack[top]
    if depth[x] then
      top = top - 1
    else
      local d, ready = 0, true
      for i = 1, rawlen(x) do
        local c = depth[x[i]]
        if c then
          if c > d then d = c end
        else                           -- descend into one child at a time: the stack is a path
          ready = false
          top = top + 1
          stack[top] = x[i]
          if top > M.MAX_DEPTH then return nil, top end
          break
        end
      end
      if ready then depth[x] = d + 1; top = top - 1 end
    end
  end
  return depth[e]
end

--- The hint for an error raised while building equations: math.sin on a
-- symbol says to use nm.sin; Lua's "a nil value (global 'a')" says it is
-- undefined (an operator on an expression and nil names it itself: coerce).
function M.explain(msg)
  local f = msg:match("bad argument #%d+ to '([%w_]+)' %(number expected, got neuromass%.expression%)")
  if f and M[f] then
    return string.format(" (math.%s takes numbers, not expressions: use nm.%s)", f, f)
  end
  local g = msg:match("a nil value %(global '([%w_]+)'%)$")
  if g then return string.format(": global '%s' is undefined (a typo, or a missing local?)", g) end
  return ""
end

--- Replaces leaves: `f(leaf)` returns a replacement expression or nil to keep it.
-- Shared subgraphs stay shared.
function M.substitute(e, f, memo)
  memo = memo or {}
  local done = memo[e]
  if done then return done end
  local out
  if rawlen(e) == 0 then
    out = f(e) or e
  else
    local args, changed = {}, false
    for i = 1, rawlen(e) do
      args[i] = M.substitute(e[i], f, memo)
      changed = changed or not rawequal(args[i], e[i])
    end
    if changed then
      local t = {}
      for k, v in pairs(e) do if type(k) ~= "number" then t[k] = v end end
      for i = 1, #args do t[i] = args[i] end
      out = node(t)
    else
      out = e
    end
  end
  memo[e] = out
  return out
end

--- Flattens graphs into the parallel arrays neuromass.core's add_program takes.
-- `roots` is a list of { expr, sink, slot }; `slot_of(leaf)` gives a leaf's
-- engine op and slot (and delay for history reads).
function M.serialize(roots, slot_of)
  local g = { op = {}, a = {}, b = {}, c = {}, value = {}, slot = {}, delay = {},
              root_node = {}, root_sink = {}, root_slot = {} }
  local index = {}
  local n = 0
  local function emit(e)
    local i = index[e]
    if i then return i end
    local a, b, c = -1, -1, -1
    if e[1] then a = emit(e[1]) end
    if e[2] then b = emit(e[2]) end
    if e[3] then c = emit(e[3]) end
    local op, slot, delay, value = e.op, e.slot or 0, 0, 0
    if op == "const" then
      value = e.value
    elseif rawlen(e) == 0 then
      op, slot, delay = slot_of(e)
    end
    n = n + 1
    g.op[n], g.a[n], g.b[n], g.c[n] = op, a, b, c
    g.value[n], g.slot[n], g.delay[n] = value, slot, delay or 0
    index[e] = n - 1
    return n - 1
  end
  for r, root in ipairs(roots) do
    g.root_node[r] = emit(coerce(root[1], "root", 1))
    g.root_sink[r], g.root_slot[r] = root[2], root[3]
  end
  return g
end

return M
