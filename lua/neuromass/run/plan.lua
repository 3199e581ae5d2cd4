--- model:run, second phase: the plan.  The engine model (built again when
-- the network or dt changed), the simulation (new, or the one a `continue`
-- goes on with), what the run keeps in memory, and the drivers of
-- parameters and inputs (time series, stimuli).  Everything the machine
-- cannot hold is refused before it is allocated.
local core = require "neuromass.core"
local compile = require "neuromass.compile"
local params = require "neuromass.params"
local stimulus = require "neuromass.stimulus"
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local bold = require "neuromass.run.bold"
local options = require "neuromass.run.options"
local delay_units = require "neuromass.run.delay_units"
local warnings = require "neuromass.run.warnings"

local ipairs, pairs, string, table, math, type, rawget = ipairs, pairs, string, table, math, type, rawget
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

-- The name of the entry holding a parameter or input slot, for messages:
-- the model's alias when it has one (a zoo model's neurolib name, tau_ou,
-- rather than the channel field input_0.tau it stands for); then the
-- entry's slots.
local function name_of_slot(self, kind, slot)
  local first, slots
  for _, e in ipairs(self.registry.list) do
    if (kind == "input") == (e.input == true) then
      for _, s in ipairs(e.slots or {}) do
        if s == slot then
          if e.alias then return e.name, e.slots end
          if not first then first, slots = e.name, e.slots end
        end
      end
    end
  end
  return first or "?", slots
end

-- A parameter slot's name for a refusal of its value, with its place when
-- the name matches several slots that do not all hold that value (one per
-- node, as the user gave them: "'tau_exc' (value 3 of 80)"; `word` for
-- "value": "'x_ext' (series 2 of 2)" of a series given per node).
local function value_name(self, slot, word)
  local name, slots = name_of_slot(self, "param", slot)
  local at, same = nil, true
  for k, s in ipairs(slots or {}) do
    if s == slot then at = k end
    same = same and self.values[s] == self.values[slot] and self.drive[s] == self.drive[slot]
  end
  if same or not at then return "'" .. name .. "'" end
  return string.format("'%s' (%s %d of %d)", name, word or "value", at, #slots)
end

-- The run's dt for params.bound_check of `slot`: a noise tau's bound depends
-- on it while its channel draws noise (its sigma non-zero, or driven), a
-- mass's time constant's (per_dt = true) under a fixed-step method (an
-- adaptive one takes its own steps), else nil.
local function bound_dt(self, slot, dt, adaptive)
  local b = self.registry.bounds and self.registry.bounds[slot]
  local on = b and b.per_dt
  if on == true then return not adaptive and dt or nil end
  if on and (self.drive[on] or self.values[on] ~= 0) then return dt end
end

-- Time series driving parameters, checked against the run's length and
-- each sample the run reads against the parameter's bounds (a noise sigma
-- >= 0, a tau > dt: params.bound_check, the rule of a number assigned), as
-- the numbers whose bounds depend on dt; and
-- the targets of stimuli (parameters, and input channels in drive.inputs),
-- which stimulus.drivers compiles once the simulation exists.
-- A series longer than the run is end-aligned (params.series_first, as
-- neurolib's adjustArrayShape keeps an input's last samples): said once a
-- model and parameter name (warnings.once; a loop of runs warns at its
-- first), one warning for the series of all its matches.  `long` = { name =
-- { list of sample counts } }.
local function long_series(self, long, n_steps, dt)
  for name, counts in keyorder.pairs(long) do
    local lo, hi = math.min(table.unpack(counts)), math.max(table.unpack(counts))
    local samples = lo == hi and tostring(lo) or string.format("%d to %d", lo, hi)
    local d_lo, d_hi = params.series_first(lo, n_steps) - 1, params.series_first(hi, n_steps) - 1
    local dropped = d_lo == d_hi and tostring(d_lo) or string.format("%d to %d", d_lo, d_hi)
    local one = #counts == 1
    warnings.once(self, "long series " .. name, string.format("run: %s driving '%s' %s %s samples%s, the run " ..
                  "of %d steps keeps %s last %d%s, the last labelled the run's end (t = %s ms), as neurolib's " ..
                  "adjustArrayShape keeps the last samples of a longer input: %s first %s sample%s dropped",
                  one and "the series" or #counts .. " series", name, one and "has" or "have", samples,
                  one and "" or (lo == hi and " each" or ""), n_steps, one and "its" or "the", n_steps + 1,
                  one and "" or " of each",
                  check.show(n_steps * dt), one and "its" or "their", dropped,
                  (d_hi == 1) and " is" or "s are"))
  end
end

local function drivers(self, n_steps, dt, adaptive, level)
  local list, targets, long = {}, {}, {}
  for slot, series in keyorder.pairs(self.drive) do
    if slot == "inputs" then
      for u, b in keyorder.pairs(series) do targets[#targets + 1] = { kind = "input", slot = u, binding = b } end
      goto next
    end
    if series.stimulus then
      targets[#targets + 1] = { kind = "param", slot = slot, binding = series }
      goto next
    end
    local values = series.values
    if series.render then values = series:render(n_steps, dt, self.sim_time or 0) end
    local why = params.series_problem(values, n_steps)
    if why then
      error(string.format("run: the series driving %s: %s", value_name(self, slot, "series"), why), level + 1)
    end
    local first = params.series_first(#values, n_steps)
    if first > 1 then
      local name = name_of_slot(self, "param", slot)
      long[name] = long[name] or {}
      table.insert(long[name], #values)
    end
    local bound = params.bound_check(self.registry, slot, bound_dt(self, slot, dt, adaptive), self.values,
                                     self.drive)
    for k = first, bound and #values or 0 do
      why = bound(values[k])
      if why then
        error(string.format("run: %s is %s (sample %d of the series driving it)",
                            value_name(self, slot), why, k), level + 1)
      end
    end
    list[#list + 1] = { slot = slot, values = values }
    ::next::
  end
  long_series(self, long, n_steps, dt)
  -- the numbers no series or stimulus replaces, against the bounds that depend on dt
  for slot, b in keyorder.pairs(self.registry.bounds or {}) do
    local at = b.per_dt and not self.drive[slot] and bound_dt(self, slot, dt, adaptive)
    local why = at and params.bound_check(self.registry, slot, at)(self.values[slot])
    if why then
      error(string.format("run: %s is %s", value_name(self, slot), why), level + 1)
    end
  end
  return list, targets
end

local bytes_text = check.bytes       -- "N bytes (x GB)"

-- Says once per model (warnings.once) when a run from step `done` over
-- n_steps more records no row, or ends at a time that is no row: rows fall
-- at multiples of sampling_dt (`every` steps of dt) since t = 0, so a
-- duration that is no multiple of it ends short of its last row (as
-- neurolib's subsampling does: it keeps the numbers) and one shorter than
-- it records none (the first piece of a run continued later may).
local function sampling_note(self, done, n_steps, every, dt)
  local last = (done + n_steps) // every
  if last - done // every == 0 then
    warnings.once(self, "no row", string.format("run: this run (to t = %s ms) records no row: rows " ..
      "fall at multiples of 'sampling_dt' = %s ms, the next at t = %s ms (a continue = true run " ..
      "carries on to it)", check.number((done + n_steps) * dt), check.number(every * dt),
      check.number((done // every + 1) * every * dt)))
  elseif (done + n_steps) % every ~= 0 then
    warnings.once(self, "end no row", string.format("run: the run ends at t = %s ms, which is no " ..
      "row: rows fall at multiples of 'sampling_dt' = %s ms, the last at t = %s ms (a 'duration' " ..
      "that is a multiple of 'sampling_dt' ends on a row)", check.number((done + n_steps) * dt),
      check.number(every * dt), check.number(last * every * dt)))
  end
end

--- M.memory_need(cm, done, n_steps, rows, cols[, reach, kept[, run]]) ->
-- history, peak, ring, result, copies, threads: the bytes a run of engine
-- model `cm` from step `done` over n_steps more, keeping `rows` rows of
-- `cols` columns, holds: its delay history once grown, with the copy the
-- coupling sums stage and the copies its threads make, and at its peak
-- while it grows (cm:history_bytes, the engine's rule: sim.c,
-- step_threads.c; `reach`, `kept`: a continued simulation's,
-- sim:history_bytes(); nil: the ring a run to `done` makes; `run` { method
-- = integrator's name, threads = the option, 0 automatic }, nil: one
-- thread), the ring's part of the history, the kept result (8-byte
-- numbers), the threads' copies' part of the history, and the threads the
-- run takes.  The one memory model of a run: check_memory and a batch's
-- capacity (explore/batch.lua) read it.
function M.memory_need(cm, done, n_steps, rows, cols, reach, kept, run)
  local history, ring, peak, threads = cm:history_bytes(done + n_steps, done, reach, kept, run)
  local alone = run and threads > 1 and cm:history_bytes(done + n_steps, done, reach, kept) or history
  return history, peak, ring, rows * cols * 8, history - alone, threads
end

--- M.engine_model(self, dt, continuing, level) -> model.cm for time step dt
-- (ms): the one built before, or built again (compile.build) when the model,
-- its matrices (the user's tables: an edit since the build) or dt changed;
-- a continued run cannot have it built again (errors at `level`).
function M.engine_model(self, dt, continuing, level)
  if self.dirty or self.built_dt ~= dt or not self.net:same_matrices(self.matrix_snapshot) then
    if continuing then
      error("run: cannot continue after changing " .. M.changes(self, dt) .. " (the engine " ..
            "model is built again for that: start a fresh run, without continue)", level + 1)
    end
    self.cm = compile.build(self, dt, level + 1)
    self.built_dt, self.dirty = dt, false
    delay_units.warn_rounded(self, self.delay_reach, dt)   -- (delays meant, none taken: once)
  end
  return self.cm
end

-- Refuses, before anything is allocated, a delay history or a kept result
-- larger than the memory the process may take (core.memory: the machine's,
-- or what a limit on its address space leaves, with the `held` bytes of the
-- model's simulation's history, which a fresh run frees and a continued one
-- grows).  The history is what the simulation holds once this run, from
-- step `done`, is reserved: no longer than the runs read (a continued run
-- may grow it: sim.c nm_sim_reserve), with the copy the coupling sums stage;
-- and at its peak, while it grows, the ring it replaces as well (`reach`,
-- `kept`: the continued simulation's, sim:history_bytes(); nil: the ring a
-- run to `done` makes), which must fit too; with the copies of it the run's
-- threads make (`run`: memory_need's).
local function check_memory(cm, done, n_steps, rows, cols, dt, held, reach, kept, run, level)
  local memory, what = core.memory(held)
  local history, peak, _, result, copies, threads =
    M.memory_need(cm, done, n_steps, rows, cols, reach, kept, run)
  if history > memory then
    local theirs = copies > 0 and string.format(", with %s for the copies its %d threads make",
                                                 bytes_text(copies), threads) or ""
    error(string.format("run: the delay history needs %s%s (the longest delay is %d steps of " ..
                        "dt = %s ms), more than %s, %s; use a larger dt%s or " ..
                        "shorter delays", bytes_text(history), theirs, cm:max_delay(),
                        check.number(dt), what, bytes_text(memory),
                        copies > 0 and ", fewer threads" or ""), level + 1)
  end
  if peak > memory then      -- (the threads' copies are made once the one replaced is freed)
    error(string.format("run: the delay history needs %s once grown but %s at its peak, while " ..
                        "the grown one is made beside the %s it replaces (the longest delay is " ..
                        "%d steps of dt = %s ms), more than %s, %s; start a fresh run of the " ..
                        "whole duration, use a larger dt or shorter delays",
                        bytes_text(history), bytes_text(peak), bytes_text(peak - (history - copies)),
                        cm:max_delay(), check.number(dt), what, bytes_text(memory)), level + 1)
  end
  if result > memory - history then
    error(string.format("run: the result would keep %.0f rows of %d columns, %s, more than %s, " ..
                        "%s; use a larger sampling_dt, record fewer variables, or stream " ..
                        "them to output.csv = { path = ..., record = { ... } } with 'record' naming " ..
                        "only what to keep in memory (record = {}: nothing)",
                        rows, cols, bytes_text(result), what, bytes_text(memory)), level + 1)
  end
end

-- The integrators that can take everything (delays, inputs, noise), for messages.
local able = {}
for _, info in ipairs(core.integrators()) do
  if info.delays and info.inputs and info.noise then able[#able + 1] = info.name end
end
local able_text = table.concat(able, ", ", 1, #able - 1) .. " or " .. able[#able]

-- Refuses what the integrator (`stepper`, from core.integrators()) cannot
-- integrate in this run: delays of a step or more (those that round to 0
-- steps of dt are none: it takes them), naming their sources and what
-- removes them; time-varying inputs; noise.
local function check_stepper(self, cm, stepper, drv, stim_targets, level)
  local why
  if not stepper.delays and cm:max_delay() > 0 then
    why = "cannot integrate delays" .. delay_units.refusal(self, self.delay_reach, self.built_dt)
  elseif not stepper.inputs and (#drv > 0 or #stim_targets > 0) then
    why = "cannot take time-varying inputs"
  elseif not stepper.noise then
    local on = {}   -- (the slots in order, for the same message each time)
    for slot in pairs(self.noise_sigma_slots) do
      if self.values[slot] ~= 0 then on[#on + 1] = slot end
    end
    table.sort(on)
    if on[1] then
      why = string.format("cannot integrate noise (%s = %s)", name_of_slot(self, "param", on[1]),
                          check.number(self.values[on[1]]))
    end
  end
  if why then
    error("run: integrator '" .. stepper.name .. "' " .. why .. "; use " .. able_text, level + 1)
  end
end

local function initial_vector(self)
  local v, n = {}, self.layout.n_state + self.layout.n_aux
  for s = 0, n - 1 do v[s + 1] = self.v0[s] end
  return v
end

--- What changed since the engine model was built, for the message refusing
-- a continuation: dt, structural values set through model.params (their
-- names), matrices edited in place (their names); a matrix edited in place
-- and then set back through model.params ("FHNModel: Cmat" and "Cmat") is
-- named once, with both.
function M.changes(self, dt)
  local what = {}
  if self.built_dt ~= dt then
    what[#what + 1] = string.format("dt (from %s to %s ms)", check.number(self.built_dt),
                                    check.number(dt))
  end
  -- (a matrix by its last word: "FHNModel: Cmat" and "Cmat", "network 'Net': connectivity"
  -- and "Net.connectivity")
  local function key(name) return name:match("[:%.]%s*([^:%.]+)$") or name end
  local edited, is_edited, is_dirty = self.net:changed_matrices(self.matrix_snapshot), {}, {}
  for _, name in ipairs(edited) do is_edited[key(name)] = true end
  for _, name in ipairs(type(self.dirty) == "table" and self.dirty or {}) do
    is_dirty[key(name)] = true
    what[#what + 1] = string.format("'%s' (%sset through model.params)", name,
                                    is_edited[key(name)] and "edited in place, then " or "")
  end
  for _, name in ipairs(edited) do
    if not is_dirty[key(name)] then what[#what + 1] = name .. " (edited in place)" end
  end
  if #what == 0 then return "the network's structure" end
  return table.concat(what, ", ")
end

--- M.same_kind(kind, o, level): refuses (at `level`) a continuation whose
-- options `o` change what the engine's state was made on: `kind` = { dt,
-- sampling_dt, method, adaptive } of the fresh run it continues.  The rule
-- (docs/reference.md, continue): the same dt and sampling_dt; the
-- integrator may change between the fixed-step ones (euler, heun, rk4: the
-- state is the state), an adaptive one (rkf45, rk8pd, msbdf: its own
-- steps) only continues itself, and a fixed-step run no adaptive one.
function M.same_kind(kind, o, level)
  local changed, given = {}, {}
  local function note(name, from, to, key)
    changed[#changed + 1] = string.format("%s changed (%s -> %s)", name, from, to)
    given[#given + 1] = "'" .. key .. "'"
  end
  if kind.dt ~= o.dt then note("dt", check.number(kind.dt) .. " ms", check.number(o.dt) .. " ms", "dt") end
  if kind.sampling_dt ~= o.dt * o.every and o.opts.sampling_dt ~= nil then
    note("sampling_dt", check.number(kind.sampling_dt) .. " ms", check.number(o.dt * o.every) .. " ms",
         "sampling_dt")
  end
  if kind.method ~= o.method and (kind.adaptive or o.adaptive) then
    note("the integrator", "'" .. kind.method .. "'", "'" .. o.method .. "'", "integrator")
  end
  if #changed == 0 then return end
  -- (every change, each once)
  error(string.format("run: cannot continue with another dt, sampling_dt or kind of integrator: %s; " ..
                      "continue = true needs the dt, sampling_dt and kind of integrator " ..
                      "of the run it continues (the integrator may change only between fixed-step ones: " ..
                      "%s): drop %s (a continued run takes those of the run it continues) or give the same, or " ..
                      "start a fresh run (without continue) for new ones", table.concat(changed, ", "),
                      table.concat(options.fixed_names, ", "), table.concat(given, ", ")), level + 1)
end

--- M.kind_of(o) -> what a fresh run with options `o` leaves for the runs
-- that continue it: { dt, sampling_dt, method, adaptive, bold (the run's
-- option as given), rtol, atol }, the options they take over
-- (options.continued) and, but for the tolerances, may not change
-- (M.same_kind, bold.stage).
function M.kind_of(o)
  return { dt = o.dt, sampling_dt = o.dt * o.every, method = o.method, adaptive = o.adaptive, bold = o.opts.bold,
           rtol = o.rtol, atol = o.atol }
end

--- M.engine_step(o) -> sim_dt, sim_steps: the engine's step (ms) and how
-- many it takes in a run with options `o` (run/options.lua): dt and n_steps,
-- for every method.  An adaptive stepper takes its own steps within each dt:
-- the outputs, clamps, wraps and noise processes move at every dt, as under
-- a fixed-step method (stopped only at samples, they moved at every
-- sampling_dt, and what was recorded changed the dynamics).
function M.engine_step(o)
  return o.dt, o.n_steps
end

-- output.csv as a path, or { path =, record = }: the CSV's own columns,
-- apart from what 'record' keeps in memory.  Returns `output` with csv the
-- path (a copy when it was a table) and the CSV's own columns or nil.
local function csv_of(self, output, level)
  local csv = output.csv
  if type(csv) ~= "table" then return output, nil end
  check.fields(csv, { path = true, record = true }, "run: output.csv", level + 1)
  if type(csv.path) ~= "string" then
    error(string.format("run: 'output.csv.path' must be a path (got %s)", check.show(csv.path)), level + 1)
  end
  local cols = nil
  if csv.record ~= nil then
    cols = options.columns(self, csv.record, level + 1, "output.csv.record")
    if #cols.sigs == 0 then
      error("run: 'output.csv.record' = {} names no variable, so output.csv would hold only the " ..
            "times: name the variables to write", level + 1)
    end
  end
  local copy = {}
  for k, v in pairs(output) do copy[k] = v end
  copy.csv = csv.path
  return copy, cols
end

--[[ M.make(model, o, h, level) -> the plan of the run whose options are `o`
(run/options.lua; `h`: the host's options, for --seed): { continuing,
sim_dt, sim_steps (M.engine_step), keep (the
result is kept in memory), output (opts.output, checked, its csv a path),
csv_cols (the CSV's own columns, options.columns, or nil: the result's), drv (series
drivers), stims (stimulus drivers), bold (the BOLD stage, run/bold.lua) }.  Builds model.cm when needed and makes
model.sim for a fresh run.  Errors at `level`.  dry (neuromass info): every
check, but no simulation is made; the time its runs would reach is kept
(model.dry_time) for the runs that continue them. ]]
function M.make(self, o, h, level, dry)
  local opts, dt, n_steps, every = o.opts, o.dt, o.n_steps, o.every
  -- The time the run continues from (ms), nil without an earlier run.
  local function now()
    if self.sim then return self.sim:time() end
    return dry and self.dry_time or nil
  end
  local continuing = opts.continue and now() ~= nil
  if opts.continue and not continuing then
    error("run: 'continue' needs an earlier run of this model", level + 1)
  end
  -- A run that failed on a non-finite value left that state behind (the
  -- engine keeps no earlier one): a continuation would fail at once.  A run
  -- stopped by a signal left a finite state: continuing it is fine.
  if continuing and self.failed_at then
    error(string.format("run: 'continue = true': the last run of this model failed at t = %s ms " ..
                        "(%s): its state is not finite; start a fresh run (without continue)",
                        check.time(self.failed_at.t), self.failed_at.why), level + 1)
  end
  local sim_dt, sim_steps = M.engine_step(o)
  if continuing then M.same_kind(self.sim_kind, o, level + 1) end
  local cm = M.engine_model(self, dt, continuing, level + 1)
  for slot, v in pairs(self.values) do cm:set_param(slot, v) end
  local output = opts.output or {}
  check.fields(output, { csv = true, audio = true, bold = true }, "run: output", level + 1)
  local csv_cols
  output, csv_cols = csv_of(self, output, level + 1)
  if output.bold ~= nil and not o.bold then
    error("run: 'output.bold' needs simulated BOLD: add bold = true (or bold = { variable = " ..
          "NAME, scale =, offset = })", level + 1)
  end
  if output.bold ~= nil and type(output.bold) ~= "string" then
    error(string.format("run: 'output.bold' must be a path (got %s)", check.show(output.bold)),
          level + 1)
  end
  -- Rows fall on multiples of sampling_dt since the first run: a run shorter
  -- than that records none (a later continue = true run carries on); streaming
  -- such a run would leave files without data.
  local done = continuing and math.floor(now() / dt + 0.5) or 0
  if (done + n_steps) // every - done // every == 0 and (output.csv or output.audio) then
    error(string.format("run: this run records no row to write: 'duration' = %s ms is shorter " ..
                        "than the next sample at 'sampling_dt' = %s ms", check.show(o.duration),
                        check.show(dt * every)), level + 1)
  end
  sampling_note(self, done, n_steps, every, dt)
  -- A CSV gets its own columns (output.csv.record) or the recorded ones:
  -- record = {} would leave one of times only.
  if output.csv and not csv_cols and #o.cols.sigs == 0 then
    error("run: 'record' = {} keeps nothing in memory and names no column for output.csv: name " ..
          "the CSV's columns in output.csv = { path = ..., record = { ... } } (or leave 'record' " ..
          "out: the CSV then has every variable recorded by default, and memory stays flat)", level + 1)
  end
  -- Kept in memory: what 'record' names (all variables when it is absent and
  -- nothing is streamed); record = {} keeps nothing, not even the times, so a
  -- run that wants only BOLD holds memory independent of its duration.
  local keep = #o.cols.sigs > 0 and not ((output.csv or output.audio) and opts.record == nil)
  local held, reach, kept = 0, nil, nil
  if not dry and self.sim then held, reach, kept = self.sim:history_bytes() end
  if not continuing then reach, kept = nil, nil end     -- (a fresh run makes its own)
  local run = { method = o.method, threads = math.tointeger(opts.threads) or 0 }
  check_memory(cm, done, n_steps, keep and n_steps // every or 0, 1 + #o.cols.sigs, dt, held,
               reach, kept, run, level + 1)
  local drv, stim_targets = drivers(self, n_steps, dt, o.adaptive, level + 1)
  check_stepper(self, cm, o.stepper, drv, stim_targets, level + 1)
  -- --seed, else the run's, else the model's (native{ seed }), else, for a
  -- fresh run, the count of the model's fresh runs seeded so before it
  -- (0, 1, 2, ...: the first keeps seed 0, each next draws other noise, the
  -- same in every process; a continued run goes on with its streams)
  local unseeded = ((h and h.seed) or opts.seed or self.default_seed) == nil
  local given = (h and h.seed) or opts.seed or self.default_seed
                or (continuing and self.sim_seed) or rawget(self, "unseeded_runs") or 0
  local seed = options.seed(given)    -- 3.0 is 3
  if not seed then
    error(string.format("run: 'seed' must be %s (got %s)", options.SEED_RANGE, check.show(given)), level + 1)
  end
  -- A continued run draws on from the noise streams it continues: another seed
  -- given would go unused.
  if continuing and ((h and h.seed) or opts.seed) ~= nil and seed ~= self.sim_seed then
    error(string.format("run: 'continue = true' carries on the noise streams of the run it " ..
                        "continues (seed %d): 'seed' = %d would not be used; leave 'seed' out " ..
                        "(or give %d), or start a fresh run (without continue)", self.sim_seed,
                        seed, self.sim_seed), level + 1)
  end
  local bold_stage = bold.stage(self, o.bold, continuing, sim_dt, level + 1)
  if dry then     -- (what a fresh run records of itself, without its simulation)
    if not continuing then
      self.sim_kind = M.kind_of(o)
      self.sim_seed, self.dry_time = seed, 0
      if unseeded then self.unseeded_runs = seed + 1 end
    end
  elseif not continuing then
    cm:set_initial(initial_vector(self))
    -- the simulation a fresh run replaces goes first, so that the two are
    -- never held at once (check_memory counted its memory as free)
    if self.sim then
      self.sim:free()
      self.sim = nil
    end
    -- (noise_streams: a batch's per-channel stream seeds, explore/batch.lua)
    -- the engine's refusals (NEUROMASS_SIMD naming no level, memory) at the user's line
    local made, sim = pcall(core.sim, cm, sim_dt, seed, rawget(self, "noise_streams"))
    if not made then
      error("run: " .. tostring(sim):gsub("^[^\n]-:%d+: ", ""):gsub("^sim: ", ""), level + 1)
    end
    self.sim = sim
    self.sim_kind = M.kind_of(o)
    self.failed_at = nil
    self.sim_seed = seed
    if unseeded then self.unseeded_runs = seed + 1 end
  end
  -- Stimuli run on the simulation's time axis, seeded by its seed.
  local stims = stimulus.drivers(self, stim_targets, {
    fresh = not continuing, steps = done, n_steps = n_steps,
    dt = dt, seed = self.sim_seed, n_param = self.layout.n_param,
    name_of = function(kind, slot) return (name_of_slot(self, kind, slot)) end,
    bound = function(slot)
      return params.bound_check(self.registry, slot, bound_dt(self, slot, dt, o.adaptive), self.values, self.drive)
    end,
  }, level + 1)
  if dry then self.dry_time = (done + n_steps) * dt end
  return { continuing = continuing, sim_dt = sim_dt, sim_steps = sim_steps, keep = keep, output = output,
           csv_cols = csv_cols, drv = drv, stims = stims, bold = bold_stage }
end

return M
