--- JSON text from Lua values (the audio sidecar's writer): numbers with the
-- fewest digits that read back exactly (NaN and infinities as null), strings
-- escaped, arrays of scalars on one line, objects with their keys in the
-- order given by json.ordered (else sorted).
--
-- Why not Debian's lua-dkjson: it writes numbers through tostring, which in
-- Lua 5.4 keeps 14 significant digits (0.1 + 0.2 comes out as 0.3, 1/3 as
-- 0.33333333333333), and a sidecar's sample rate or an exploration's best
-- fitness must read back as the number that was computed.
local type, tostring, string, math, table, tonumber, ipairs, pairs, next =
      type, tostring, string, math, table, tonumber, ipairs, pairs, next

local M = {}

local NULL = setmetatable({}, { __name = "json.null", __newindex = function() error("json.null is read-only", 2) end })

local function json(v, indent)
  indent = indent or ""
  local t = type(v)
  if t == "nil" or v == NULL then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if math.type(v) == "integer" then return string.format("%d", v) end
    for digits = 15, 17 do
      local s = string.format("%." .. digits .. "g", v)
      if tonumber(s) == v then return s end
    end
  end
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(ch)
      local map = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t" }
      return map[ch] or string.format("\\u%04x", ch:byte())
    end) .. '"'
  end
  local inner = indent .. "  "
  if #v > 0 or next(v) == nil then
    local simple = true
    for _, x in ipairs(v) do if type(x) == "table" then simple = false end end
    local parts = {}
    for i, x in ipairs(v) do parts[i] = json(x, inner) end
    if simple then return "[" .. table.concat(parts, ", ") .. "]" end
    return "[\n" .. inner .. table.concat(parts, ",\n" .. inner) .. "\n" .. indent .. "]"
  end
  local keys = {}
  for key in pairs(v) do keys[#keys + 1] = key end
  table.sort(keys, function(a, b)
    local oa, ob = v.__order and v.__order[a], v.__order and v.__order[b]
    if oa and ob then return oa < ob end
    if oa or ob then return oa ~= nil end
    return a < b
  end)
  local parts = {}
  for _, key in ipairs(keys) do
    if key ~= "__order" then parts[#parts + 1] = json(key) .. ": " .. json(v[key], inner) end
  end
  if #parts == 0 then return "{}" end        -- (an ordered table with no keys: json.ordered's own)
  return "{\n" .. inner .. table.concat(parts, ",\n" .. inner) .. "\n" .. indent .. "}"
end

local function ordered(t, keys)
  local o = {}
  for i, key in ipairs(keys) do o[key] = i end
  t.__order = o
  return t
end

--- json.encode(v) -> text; v is nil, a boolean, a number, a string, an array
-- or a table with string keys (json.ordered fixes their order).
M.encode = json
--- json.ordered(t, keys) -> t, whose keys json.encode writes in the order of
-- the list `keys` (then any others, sorted).
M.ordered = ordered
--- json.null: a value written as null (a key kept where nil would drop it).
M.null = NULL
return M
