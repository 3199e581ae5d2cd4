--- model:run: integrates a model, in phases, one file each (lua/neuromass/run/):
--   options   the options of a run checked, defaults and --set applied (options.lua)
--   plan      the engine model, the simulation, the drivers, memory checks (plan.lua)
--   outputs   output.csv and output.audio resolved, checked and opened (below)
--   drive     the engine integrates, recording on the sampling_dt grid (below)
--   collect   the result, or the error of a failed run (collect.lua)
-- The command line's options (--set, --seed, --out, info mode) come from host().
local result = require "neuromass.result"
local audio = require "neuromass.audio"
local outputs = require "neuromass.outputs"
local options = require "neuromass.run.options"
local plan_of = require "neuromass.run.plan"
local collect = require "neuromass.run.collect"
local bold = require "neuromass.run.bold"
local warnings = require "neuromass.run.warnings"
local Model = require("neuromass.model").Model
require "neuromass.describe"         -- model:describe, which info mode prints

local ipairs, tostring, io, setmetatable, table = ipairs, tostring, io, setmetatable, table
local check = require "neuromass._check"
local error = check.error   -- (at the user's line, whatever the call's depth)

-- The host's options (main.c hands them over: neuromass.context), or nil when
-- the library runs in a plain Lua: the one place run reads them.
local host = require("neuromass.context").get

-- Runs at least this many steps long show a progress bar on a terminal.
local PROGRESS_STEPS = 100000

-- Outputs: output.csv resolved (under --out), output.audio planned, every
-- output checked before anything is opened or integrated, then opened (not
-- when dry, under neuromass info: out.au_plan is the audio's plan).
-- Audio is fed every step (the full-rate signal), while the CSV and the
-- result keep every `every`-th row of the recorded columns.  Returns { csv =
-- path or nil, au = the audio stream or nil, record = the signals to record,
-- audio_cols = the audio's columns among them, bold_csv = output.bold's path or nil,
-- header = the CSV's column names, csv_from = where its signals start among the rows' columns }.
local function open_outputs(self, o, plan, level, dry)
  local output = plan.output
  local csv = output.csv and outputs.resolve(output.csv, level + 1, "run: output.csv")
  local au_plan = output.audio and audio.stream_plan(self, output.audio, plan.sim_dt, plan.sim_steps,
                                                     level + 1)
  local files = { csv and { role = "output.csv", path = csv, given = output.csv } or nil }
  local bold_csv = output.bold and outputs.resolve(output.bold, level + 1, "run: output.bold")
  if bold_csv then files[#files + 1] = { role = "output.bold", path = bold_csv, given = output.bold } end
  for _, f in ipairs(au_plan and au_plan.outputs or {}) do files[#files + 1] = f end
  outputs.check("run", level + 1, files)
  -- A continued run writes its own files: those of the runs it continues
  -- (since the last fresh run: model.chain_outputs, a set of outputs.file_id)
  -- hold their rows, which a same path would replace.
  if not (plan.continuing and self.chain_outputs) then self.chain_outputs = {} end
  for _, f in ipairs(files) do
    if plan.continuing and not outputs.is_stdout(f.path) and self.chain_outputs[outputs.file_id(f.path)] then
      error(string.format("run: %s '%s' holds the rows of the run this one continues: a continued " ..
                          "run writes its own file; name another", f.role or "output",
                          f.given or f.path), level + 1)
    end
  end
  for _, f in ipairs(files) do self.chain_outputs[outputs.file_id(f.path)] = true end
  if dry then return { au_plan = au_plan } end
  local au = au_plan and au_plan.open(level + 1)
  -- The result's columns, then the CSV's own (output.csv.record), then the audio's.
  local record, audio_cols = o.cols.sigs, nil
  local header, csv_from = o.cols.names, 1
  if plan.csv_cols then
    record, header, csv_from = table.move(plan.csv_cols.sigs, 1, #plan.csv_cols.sigs, #record + 1,
                                          table.move(record, 1, #record, 1, {})),
                               plan.csv_cols.names, 1 + #o.cols.sigs
  end
  if au then record, audio_cols = au.columns(record) end
  return { csv = csv, au = au, record = record, audio_cols = audio_cols, bold_csv = bold_csv,
           header = header, csv_from = csv_from }
end

-- Clears model.running when the drive ends, however it ends.
local running_guard = { __close = function(g) g.model.running = false end }

-- Drive: the engine integrates the planned run; returns what sim:run returns
-- (the kept rows, or nil and the failure; with audio, then the held CSV).
local function drive(self, o, plan, out, h)
  local opts, adaptive, au = o.opts, o.adaptive, out.au
  local progress = opts.progress
  if progress == nil then progress = h and h.tty and not h.quiet and o.n_steps >= PROGRESS_STEPS end
  -- More threads than cores wait on each other at every step's barriers
  -- (FHN-80, threads = 64 on 2 cores: 70 times slower): said once per model.
  local threads = opts.threads and math.tointeger(opts.threads)
  if threads and h and h.cores and threads > h.cores then
    warnings.once(self, "threads over cores", string.format("run: threads = %d is more than the " ..
      "%s this process may run on: the threads wait on each other at every step (a run can be many times slower " ..
      "than on one thread; the same bits); give at most %d, or leave threads out (automatic)",
      threads, check.nouns(h.cores, "core"), h.cores))
  end
  -- Tolerances given to a fixed-step integrator do nothing: said once per model.
  if h and not adaptive and (opts.rtol ~= nil or opts.atol ~= nil) then
    warnings.once(self, "tolerances of fixed steps", string.format("run: rtol and atol are the " ..
      "tolerances of the adaptive integrators (%s); integrator '%s' takes fixed steps of dt and " ..
      "does not use them (a smaller dt makes it more accurate)", table.concat(options.adaptive_names, ", "),
      o.method))
  end
  self.running = true
  local _ <close> = setmetatable({ model = self }, running_guard)
  -- Every field is given (the binding has no defaults): 0 threads is
  -- automatic; false is no csv, no audio.
  local r, failure = self.sim:run {
    n_steps = plan.sim_steps,
    every = au and 1 or o.every,
    method = o.method, rtol = o.rtol, atol = o.atol, record = out.record,
    drivers = plan.drv, stimuli = plan.stims,
    keep = plan.keep, csv = out.csv or false, header = out.header, csv_from = out.csv_from,
    progress = progress and true or false, threads = threads or 0, jit = o.jit,
    audio = au and au.writer or false, audio_cols = out.audio_cols or {},
    keep_cols = 1 + #o.cols.sigs,
    decimate = au and o.every or 1,
    hold_csv = au ~= nil,     -- the CSV waits for the audio (run/collect.lua)
    bold = plan.bold or false, bold_csv = out.bold_csv or false,
    bold_header = o.bold and bold.header(o.bold) or false,
  }
  collect.warn_clamped(self, self.cm)
  return r, failure
end

--- model:run(opts) -> a result (see result.lua).  opts: duration, dt,
-- sampling_dt (ms), integrator, record, output = { csv =, audio =, bold = },
-- seed, continue, rtol, atol, threads, progress, bold (run/bold.lua), jit
-- (docs/jit.md); run/options.lua reads them.
-- Errors at the caller's line.
function Model:run(opts)
  if self.running then
    error("run: model '" .. tostring(self.label) .. "' is already running: a slow mass's " ..
          "derivatives cannot run the model they belong to", 2)
  end
  local h = host()
  local o = options.read(self, opts or {}, h, 2)
  if h and h.mode == "info" then
    if not self.described then io.write(self:describe(), "\n"); self.described = true end
    -- planned and checked as a run would be (outputs too); nothing made, opened or written
    local plan = plan_of.make(self, o, h, 2, true)
    local out = open_outputs(self, o, plan, 2, true)
    local res = result.new(self, o.cols, nil, o.dt * o.every, true)
    if out.au_plan then res.audio = out.au_plan.dry_report() end
    -- The fields a real run has (collect.finish), with what is known unintegrated.
    res.dt, res.duration = plan.sim_dt, o.duration
    if o.bold then res.BOLD, res.t_BOLD, res.BOLD_nodes = {}, {}, o.bold.nodes end
    return res
  end
  local plan = plan_of.make(self, o, h, 2)
  local out = open_outputs(self, o, plan, 2)
  local r, failure = drive(self, o, plan, out, h)
  local res = collect.finish(self, o, plan, out, r, failure, 2)
  return res
end

return Model
