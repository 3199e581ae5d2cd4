--- Read-only n x n matrices that a network derives from the user's checked
-- matrices (a native model's connectivity and delays from Cmat, Dmat and
-- signalV; delays from lengths and a speed) without a Lua table of their n^2
-- entries.  A view reads as an array of rows: `#v`, `v[i][j]`, ipairs and
-- pairs (rows 1..n in order, entries 1..n), no other keys.  A write is an
-- error at the user's line saying where the values come from.
--   new(pack, ...)   reads a pack (core.matrix_derive): what the engine reads;
--   live(n, ...)     reads f(i, j) when asked: what model.params gives, which
--                    follows an edit of the user's tables before the next run.
-- Not part of the public API.
local core = require "neuromass.core"
local check = require "neuromass._check"

local setmetatable, string, math, type = setmetatable, string, math, type

local M = {}

-- view -> its pack (weak keys)
local pack_of = setmetatable({}, { __mode = "k" })

-- The index k as a row or column number of an n x n matrix, or nil (a string
-- "1", 0, 1.5 or n + 1 is no key of an array of n).
local function index(k, n)
  local i = type(k) == "number" and math.tointeger(k)
  if i and i >= 1 and i <= n then return i end
  return nil
end

-- pairs over t as over an array of n: 1, t[1] ... n, t[n].
local function array_pairs(n)
  local function step(t, i)
    i = i + 1
    if i <= n then return i, t[i] end
  end
  return function(t) return step, t, 0 end
end

-- A read-only array of n rows; row(i) makes row i (a read-only array of n)
-- when first read.  refuse(at, v) raises the error of a write at `at`.
local function rows_of(n, row, refuse, live)
  local rows = {}
  local v = setmetatable({}, {
    __index = function(_, k)
      local i = index(k, n)
      if not i then return nil end
      local r = rows[i]
      if r == nil then r = row(i); rows[i] = r; check.mark_view(r) end
      return r
    end,
    __len = function() return n end,
    __pairs = array_pairs(n),
    __newindex = function(_, k, x) refuse("[" .. check.show(k) .. "]", x) end,
  })
  check.mark_view(v, live)
  return v
end

-- The error of a write to `name` at `at`, at the user's line; `why` says where the
-- values come from (a string, or a function of `at`).
local function refuser(name, why)
  return function(at, v)
    check.error(string.format("%s%s cannot be set to %s: %s", name, at, check.show(v),
                              type(why) == "function" and why(at) or why), 3)
  end
end

-- Row i of a view, entry j read as get(j) (j a whole number 1 .. n).
local function row_reader(i, n, get, refuse)
  return setmetatable({}, {
    __index = function(_, k) local j = index(k, n); if j then return get(j) end end,
    __len = function() return n end,
    __pairs = array_pairs(n),
    __newindex = function(_, j, x) refuse(string.format("[%d][%s]", i, check.show(j)), x) end,
  })
end

--- A view of `pack` (an n x n matrix's pack, derived or not); `finite` and
-- `nonneg` as core.matrix_derive says of its entries; `name` names it in
-- errors ("FHNModel: delays") and `why` says where its values come from and
-- what to edit instead.
function M.new(pack, n, finite, nonneg, name, why)
  local refuse = refuser(name, why)
  local v = rows_of(n, function(i)
    local values = core.matrix_row(pack, n, i)
    return row_reader(i, n, function(j) return values[j] end, refuse)
  end, refuse)
  pack_of[v] = pack
  if finite then check.known(v, n, nonneg) end
  return v
end

--- A view whose entry [i][j] is f(i, j), called at each read (so it follows
-- what f reads: the user's tables, edited in place); `name` and `why` (a
-- string, or a function of the entry's "[i][j]") as for M.new.  Given whole
-- as a matrix (check.matrix), it is copied.
function M.live(n, f, name, why)
  local refuse = refuser(name, why)
  return rows_of(n, function(i)
    return row_reader(i, n, function(j) return f(i, j) end, refuse)
  end, refuse, true)
end

--- The pack a view reads, or nil when `m` is not a view of a pack.
function M.pack(m) return pack_of[m] end


return M
