--- Stimuli, driving a model: bindings of a stimulus to parameters or inputs
-- (series_for, params.spread's extension point) and the drivers of a run,
-- compiled once per simulation and kept, advanced, for continued runs.
-- Part of neuromass.stimulus.
local core = require "neuromass.core"
local C = require "neuromass.stimulus.class"
local V = require "neuromass.stimulus.validate"
local K = require "neuromass.stimulus.compile"

local ipairs, setmetatable, rawget, string, table, tostring, math, pcall =
      ipairs, setmetatable, rawget, string, table, tostring, math, pcall

local field, methods, num, parts, show, type_name = C.field, C.methods, C.num, C.parts, C.show, C.type_name
local channels, explain, problem, validate = V.channels, V.explain, V.problem, V.validate
local compile = K.compile
local check = require "neuromass._check"
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

local Binding = { __name = "neuromass.StimulusBinding" }
Binding.__index = Binding
M.Binding = Binding

--[[ How a stimulus drives `count` targets matched by `key`: all from its one
channel (true), or channel i for target i (false); nil and the problem for
any other n.  Checked at the assignment and again at every run, since n may
have changed in between. ]]
local function drives_all(self, count, key)
  local n, why = channels(self)
  if not n then return nil, why end
  if n == 1 then return true end
  if n == count then return false end
  local fix = count == 1 and "give n = 1" or string.format("give n = %d, or n = 1 to drive all alike", count)
  return nil, string.format("the stimulus for '%s' has n = %s channels, but '%s' matches %s " ..
                            "(channel i drives the i-th, node by node and mass by mass): %s", key, show(n), key,
                            check.nouns(count, "target"), fix)
end

--- params.spread's extension point: one binding per matched slot (target i
-- of n): channel i - 1, or channel 0 for every slot when n = 1.
function methods.series_for(self, n, key, level)
  validate(self, level + 1)
  local _, why = drives_all(self, n, key)
  if why then error(why, level + 1) end
  local list = {}
  for i = 1, n do list[i] = setmetatable({ stimulus = self, index = i, count = n, key = key }, Binding) end
  return list
end

-- A canonical text of everything a compiled tree depends on, so a continued
-- run reuses the compiled (and advanced) tree only when nothing changed.
local function signature(self, out)
  local cls = rawget(self, "_class")
  out[#out + 1] = cls.name
  if cls.composite then
    local inputs, ratios = parts(self)
    for _, w in ipairs(ratios or {}) do out[#out + 1] = num(w) end
    for _, c in ipairs(inputs) do signature(c, out) end
    out[#out + 1] = ")"
  else
    out[#out + 1] = tostring(rawget(self, "_serial"))
    for _, p in ipairs(cls.params) do out[#out + 1] = tostring(field(self, p)) end
    out[#out + 1] = tostring(field(self, "x0"))
  end
  return out
end

-- Does the tree hold user-defined (finite) samples?
local function has_array(self)
  local cls = rawget(self, "_class")
  if cls.kind == "array" then return true end
  if not cls.composite then return false end
  for _, c in ipairs((parts(self))) do if has_array(c) then return true end end
  return false
end

-- Samples rendered at a time by check_bounds.
local CHUNK = 65536

--[[ Refuses, before any step, a sample the run reads that breaks the bounds
of a parameter group `g` drives (run.bound(slot): params.bound_check's rule,
nil for a slot without bounds; a noise sigma >= 0, a tau > 0), as a number
assigned is refused.  A copy compiled as the run's was (the same seed and
stream keys: the same samples) is rendered up to the run's last sample; the
step from t = g*dt reads sample g - 1, the first step sample 0 (system.c
stimulate).  The copy is kept in the stimulus' cache `entry` (entry.check:
{ st, at = samples rendered, key = the slots and channels checked}) and
advanced by continued runs, so that a chain of them renders each sample
once (not the whole past again at every run); a refusal drops it.  A
non-finite sample is left to the run, which reports it. ]]
local function check_bounds(s, g, channel, entry, ctx, run, level)
  local checks, keys = {}, {}
  for j, kind in ipairs(g.kind) do
    local bound = kind == "param" and run.bound(g.slot[j])
    if bound then
      checks[#checks + 1] = { target = j, bound = bound }
      keys[#keys + 1] = g.slot[j] .. ":" .. channel[j]
    end
  end
  if #checks == 0 then return end
  local key = table.concat(keys, ",")
  local c = entry.check
  if not c or c.key ~= key then
    if c then c.st:free() end
    local st = compile(s, entry.D, ctx)
    entry.check = st and { st = st, at = 0, key = key } or nil
    if not st then return end
    c = entry.check
  end
  local function drop() c.st:free(); entry.check = nil end
  local first = run.steps > 0 and run.steps - 1 or 0
  local last = math.max(first, run.steps + run.n_steps - 2)
  while c.at <= last do
    local count = math.min(CHUNK, last + 1 - c.at)
    local ok, a = pcall(c.st.render, c.st, count)
    if not ok or not a then drop(); return end
    for _, ck in ipairs(checks) do
      local row = a[channel[ck.target] + 1]
      for k = math.max(first - c.at, 0) + 1, count do
        local why = ck.bound(row[k])
        if why then
          local t = (c.at + k) * run.dt
          drop()
          error(string.format("run: '%s' is %s (sample at t = %.10g ms of the %s stimulus driving it)",
                              run.name_of("param", g.slot[ck.target]), why, t, type_name(s)), level + 1)
        end
      end
    end
    c.at = c.at + count
  end
end

--[[ The stimulus drivers of a run.  targets: list of { kind = "param" |
"input", slot =, binding = }.  run: { fresh = bool (a new simulation), steps
= steps taken before this run, n_steps, dt, seed, n_param, name_of(kind,
slot), bound(slot) (the rule of a parameter's values: check_bounds) }.
Each stimulus object is checked again as it is now (it may have changed
since it was assigned), compiled once per simulation for the
duration of the run it was first attached for (or its own `duration`), and
kept, advanced, for continued runs: its samples are on the model's absolute
time axis.  Returns the list for sim:run{ stimuli = ... }. ]]
function M.drivers(model, targets, run, level)
  if run.fresh or not model._stim_cache then model._stim_cache = {} end
  local cache = model._stim_cache
  local groups, order = {}, {}
  for _, t in ipairs(targets) do
    local s = t.binding.stimulus
    local g = groups[s]
    if not g then
      g = { stimulus = s, kind = {}, slot = {}, binding = {}, id = math.huge }
      groups[s] = g
      order[#order + 1] = g
    end
    g.kind[#g.kind + 1] = t.kind
    g.slot[#g.slot + 1] = t.slot
    g.binding[#g.binding + 1] = t.binding
    -- The stimulus' identity in the model: its first target, which does not
    -- depend on the order of assignments in the script.
    local id = t.kind == "param" and t.slot or run.n_param + t.slot
    if id < g.id then g.id = id end
  end
  table.sort(order, function(a, b) return a.id < b.id end)
  local out = {}
  local end_step = run.steps + run.n_steps
  for _, g in ipairs(order) do
    local s = g.stimulus
    local name = run.name_of(g.kind[1], g.slot[1])
    local o, why = problem(s, 1, { nodes = 0 })
    if o then error(string.format("run: '%s': %s", name, explain(o, why)), level + 1) end
    local channel = {}
    for j, b in ipairs(g.binding) do
      local all
      all, why = drives_all(s, b.count, b.key)
      if why then error("run: " .. why .. " (n changed after the assignment)", level + 1) end
      channel[j] = all and 0 or b.index - 1
    end
    local entry = cache[s]
    local D = field(s, "duration") or (entry and entry.D) or end_step * run.dt
    local id = g.id
    local ctx = { dt = run.dt, seed = run.seed,
                  key = function(_, index) return id * 1048576 + index end }
    local sig = table.concat(signature(s, { num(D), num(run.dt), tostring(run.seed), tostring(id) }), "\1")
    if not entry or entry.sig ~= sig then
      local st
      st, o, why = compile(s, D, ctx)
      if not st then
        if not field(s, "duration") and (why:find("start =", 1, true) or why:find("end =", 1, true)) then
          why = why .. string.format("; a stimulus driving a model spans the run it first drives " ..
                                     "(%s ms here): give it duration = ... to span more", num(D))
        end
        error(string.format("run: '%s': %s", name, explain(o, why)), level + 1)
      end
      entry = { st = st, sig = sig, D = D }
      cache[s] = entry
    end
    -- a continued run renders on past the request: an exponential may grow on
    if end_step * run.dt > entry.D then K.warn_growth_past(s, entry.D, run.dt, end_step * run.dt) end
    if has_array(s) and end_step - 1 > core.stim_length(D, run.dt) then
      error(string.format("run: '%s': a stimulus with generated samples covers %s ms, the run goes to %s ms; " ..
                          "give it duration = %s", name, num(D), num(end_step * run.dt),
                          num(end_step * run.dt)), level + 1)
    end
    check_bounds(s, g, channel, entry, ctx, run, level + 1)
    out[#out + 1] = { stim = entry.st, kind = g.kind, slot = g.slot, channel = channel }
  end
  return out
end

return M
