--- Read-only n x n matrices read from a pack (core.matrix_derive): what a
-- network derives from the user's checked matrices (a native model's
-- connectivity and delays from Cmat, Dmat and signalV; delays from lengths
-- and a speed) without a Lua table of their n^2 entries.  A view reads as an
-- array of rows (`#v`, `v[i][j]`, ipairs); a row is made when first read.
-- A write is an error at the user's line saying where the values come from.
-- Not part of the public API.
local core = require "neuromass.core"
local check = require "neuromass._check"

local setmetatable, string, math = setmetatable, string, math

local M = {}

-- view -> its pack (weak keys)
local pack_of = setmetatable({}, { __mode = "k" })

--- A view of `pack` (an n x n matrix's pack, derived or not); `finite` and
-- `nonneg` as core.matrix_derive says of its entries; `name` names it in
-- errors ("FHNModel: delays") and `why` says where its values come from and
-- what to edit instead.
function M.new(pack, n, finite, nonneg, name, why)
  local rows = {}
  local function refuse(at, v)
    check.error(string.format("%s%s cannot be set to %s: %s", name, at, check.show(v), why), 2)
  end
  local function row(i)
    local values = core.matrix_row(pack, n, i)
    return setmetatable({}, {
      __index = values, __len = function() return n end,
      __newindex = function(_, j, v) refuse(string.format("[%d][%s]", i, check.show(j)), v) end,
    })
  end
  local v = setmetatable({}, {
    __index = function(_, k)
      local i = math.tointeger(k)
      if not i or i < 1 or i > n then return nil end
      local r = rows[i]
      if r == nil then r = row(i); rows[i] = r end
      return r
    end,
    __len = function() return n end,
    __newindex = function(_, k, x) refuse("[" .. check.show(k) .. "]", x) end,
  })
  pack_of[v] = pack
  if finite then check.known(v, n, nonneg) end
  return v
end

--- The pack a view reads, or nil when `m` is not a view.
function M.pack(m) return pack_of[m] end

return M
