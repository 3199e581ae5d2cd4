--- keyorder: a stated order for the keys of a Lua table.  pairs() walks a
-- table in its hash order, which changes from process to process (Lua seeds
-- its string hash per process), so whatever a user sees that is built by
-- walking a table (a description, the bad key an error names, a file) walks
-- it through here: numbers first, in numeric order, then strings, in byte
-- order, then booleans (false first), then any other key by its text.  Where
-- the user gave an order (a list, a mass's `order`), that order is used instead.
local type, tostring, table, next = type, tostring, table, next

local M = {}

-- The rank of a key's type in the order.
local RANK = { number = 1, string = 2, boolean = 3 }

--- Is key `a` before key `b`?
function M.before(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (RANK[ta] or 4) < (RANK[tb] or 4) end
  if ta == "number" or ta == "string" then return a < b end
  if ta == "boolean" then return not a and b end
  return tostring(a) < tostring(b)
end

--- keyorder.keys(t) -> the keys of t (a table), as a list in the order above.
function M.keys(t)
  local keys = {}
  for k in next, t do keys[#keys + 1] = k end
  table.sort(keys, M.before)
  return keys
end

--- keyorder.pairs(t): for k, v in keyorder.pairs(t) walks t as pairs() does
-- (its raw fields), in the order above.  The keys are read when it starts.
function M.pairs(t)
  local keys, i = M.keys(t), 0
  return function()
    i = i + 1
    local k = keys[i]
    if k ~= nil then return k, t[k] end
  end
end

return M
