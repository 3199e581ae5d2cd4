--- An exploration over MPI ranks (`mpirun -np K neuromass run SCRIPT.lua`):
-- whether this process was started by mpirun, this rank's slice of the
-- points, and the rows of every rank gathered to rank 0.  The MPI calls are
-- the optional C module neuromass.mpi (src/mpi/l_mpi.c, built when MPI is
-- found or with `make MPI=1`); it is loaded and MPI initialised only when
-- the environment says mpirun started the process, so a plain `neuromass
-- run` never touches MPI.  The seam that picks how points are spread
-- (explore/spread.lua) asks M.plan() first.
local check = require "neuromass._check"
local warnings = require "neuromass.run.warnings"

local os, pairs, ipairs, type, string, table, math, tonumber, require, pcall, setmetatable, tostring, io, debug =
  os, pairs, ipairs, type, string, table, math, tonumber, require, pcall, setmetatable, tostring, io, debug

local M = {}

--- The environment variables an MPI launcher sets in every rank: OpenMPI's
-- mpirun (OMPI_COMM_WORLD_SIZE), MPICH's Hydra and Slurm's PMI (PMI_SIZE).
M.LAUNCH_ENV = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE" }

--- The environment variable that marks a rank's process (its pid), set by
-- the host as a rank's script starts (M.script_start): a `neuromass run`
-- that a rank's script starts (os.execute) inherits the launcher's
-- variables but is no rank (MPI would not start there), and knows it by this
-- mark of another process.
M.RANK_ENV = "NEUROMASS_MPI_RANK_PID"

--- mpi.launched() -> the number of ranks (an integer >= 1) when an MPI
-- launcher started this process (M.LAUNCH_ENV), else nil; nil too in a
-- process that a rank's process started (M.RANK_ENV names another pid).
function M.launched()
  local rank_pid = os.getenv(M.RANK_ENV)
  if rank_pid and rank_pid ~= string.format("%d", require("neuromass.core").pid()) then return nil end
  for _, name in ipairs(M.LAUNCH_ENV) do
    local v = os.getenv(name)
    local n = v and math.tointeger(tonumber(v))
    if n and n >= 1 then return n end
  end
  return nil
end

-- The C module, loaded once; a clear error naming the package when this
-- neuromass was built without MPI.
local binding
local function mpi()
  if binding then return binding end
  local ok, mod = pcall(require, "neuromass.mpi")
  if not ok then
    check.error("explore: this process runs under mpirun, but this neuromass was built without MPI " ..
                "(module neuromass.mpi not found): install Debian's libopenmpi-dev and openmpi-bin, " ..
                "then rebuild with `make MPI=1`", 3)
  end
  binding = mod
  return binding
end

--- mpi.start() -> rank, size: initialises MPI (MPI_Init_thread, FUNNELED;
-- once, later calls return the same; finalised at exit) and returns this
-- process's 0-based rank and the number of ranks.  Error at the user's line
-- when neuromass was built without MPI.  At the end of the script, a last
-- collective checks that no other rank still runs an exploration
-- (M.check_ranks); os.exit then closes the Lua state, for that check.
local closer, at_close   -- (M.start's: its __gc runs at_close, below, as the script's Lua state closes)

function M.start()
  local rank, size = mpi().init()
  if not closer then
    closer = setmetatable({}, { __gc = at_close })
    -- An os.exit after the explorations closes the state, so that the
    -- closer runs (without it, the process would finalise MPI while another
    -- rank waits in an exploration for it).
    local exit = os.exit
    os.exit = function(code) return exit(code, true) end     -- luacheck: ignore 122
  end
  return rank, size
end

--- mpi.script_start() -> M.RANK_ENV and this process's pid (strings) when
-- an MPI launcher started it (M.launched), else nothing: the host
-- (src/main.c) sets that variable as every script of `neuromass run`
-- starts, for the processes the script starts (M.launched).
function M.script_start()
  if M.launched() then return M.RANK_ENV, string.format("%d", require("neuromass.core").pid()) end
end

--- mpi.script_end() -> true when MPI runs in this process as its script
-- ends, false when not: the host (src/main.c) calls it as every script of
-- `neuromass run` ends (by itself, by an error or by os.exit), before its
-- Lua state closes, which it must then do (for M.start's closer).  A process
-- that an MPI launcher of more than one rank started (M.launched) and whose
-- script never started MPI (it called nothing of nm.explore: e.g. it
-- returned early on a rank read from OMPI_COMM_WORLD_RANK) starts it now
-- (M.start), so that it takes part in what every rank's script ends with:
-- the last M.check_ranks (a rank that begins an exploration then fails the
-- job, naming this one, instead of waiting for it forever in a collective),
-- or the abort of a failed script (which ends the job under any launcher).
-- Starts nothing without a launcher, with a launcher of one rank, when MPI
-- was finalised, or in a neuromass built without MPI (no rank can have
-- started it: a script that uses mpirun only to start its processes runs as
-- before).  Errors: MPI cannot start (MPI's own text).
function M.script_end()
  local n = M.launched()
  if not n or n < 2 then return false end
  local built, mod = pcall(require, "neuromass.mpi")
  if not built or mod.finalized() then return false end
  M.start()
  return true
end

--- The environment variables that give a rank's number before MPI starts:
-- OpenMPI's mpirun (OMPI_COMM_WORLD_RANK), MPICH's Hydra and Slurm's PMI
-- (PMI_RANK).
M.RANK_NUMBER_ENV = { "OMPI_COMM_WORLD_RANK", "PMI_RANK" }

--- How long (ms) a rank other than 0 holds its script's error once MPI has
-- started (M.held_error): the time rank 0's abort of the job takes to reach
-- it, when rank 0 failed too.
M.HOLD_MS = 3000

--- mpi.held_error(message) -> this process's rank (an integer >= 1) and
-- M.HOLD_MS when the host must hold the error `message` that ended its
-- script: a rank other than 0 of an
-- mpirun job of more than one rank (M.launched, M.RANK_NUMBER_ENV) in a
-- neuromass built with MPI, and not the rank that M.said_once chose to say
-- `message`; else nil (the host prints the error at once).
-- A mistake in a script fails every rank alike (a typo, a missing file, an
-- unknown parameter), and each printed it: the job said it once per rank.
-- The host (src/main.c) now prints rank 0's at once, and holds another
-- rank's until MPI has started (M.script_end) and for M.HOLD_MS more.  If
-- rank 0 failed too, its abort of the job stops this process meanwhile (a
-- stop signal): the error is then not printed.  Else the host prints it,
-- as "rank K: MESSAGE".  Rank 0's error is then the job's one line: a
-- different error of another rank shows once rank 0's is mended.
function M.held_error(message)
  if message ~= nil and debug.getregistry()["neuromass.said_here"] == message then return nil end
  local n = M.launched()
  if not n or n < 2 or not pcall(require, "neuromass.mpi") then return nil end
  for _, name in ipairs(M.RANK_NUMBER_ENV) do
    local rank = math.tointeger(tonumber(os.getenv(name) or ""))
    if rank then
      if rank >= 1 then return rank, M.HOLD_MS end
      return nil
    end
  end
  return nil
end

--- mpi.plan() -> nil when no MPI launcher started this process, else
-- { kind = "mpi", task = rank, ntasks = size }: rank `task` computes the
-- points of slice `task` of `ntasks` (M.slice), rank 0 gathers the rows
-- (M.gather_rows) and writes the one table.  Initialises MPI.
function M.plan()
  if not M.launched() then return nil end
  local rank, size = M.start()
  return { kind = "mpi", task = rank, ntasks = size }
end

--- mpi.mine(i, rank, size) -> true when point i (1-based) is in slice
-- `rank` of `size`: the rule of every way of spreading (spread.mine, its
-- one owner; required here, not at the top, as spread requires this file),
-- so a point's rank depends on (rank, size) alone.
function M.mine(i, rank, size)
  return require("neuromass.explore.spread").mine(i, rank, size)
end

--- mpi.slice(n, rank, size) -> { i, ... }: the points of 1..n in slice
-- `rank` of `size` (M.mine), in increasing order.
function M.slice(n, rank, size)
  local out = {}
  for i = 1, n do
    if M.mine(i, rank, size) then out[#out + 1] = i end
  end
  return out
end

-- Values crossing ranks: strings, numbers, booleans and tables of them
-- (rows of the results table: explore/table.lua's records, all strings),
-- packed to one string and back.
local function pack(v, out)
  local t = type(v)
  if t == "string" then out[#out + 1] = "s" .. string.pack("<s8", v)
  elseif math.type(v) == "integer" then out[#out + 1] = "i" .. string.pack("<i8", v)
  elseif t == "number" then out[#out + 1] = "n" .. string.pack("<d", v)
  elseif t == "boolean" then out[#out + 1] = v and "T" or "F"
  elseif t == "table" then
    out[#out + 1] = "{"
    for k, x in pairs(v) do pack(k, out); pack(x, out) end
    out[#out + 1] = "}"
  else
    check.error(string.format("explore: a %s cannot be sent to another rank (strings, numbers, booleans " ..
                              "and tables of them can)", t), 3)
  end
  return out
end

local function unpack(blob, pos)
  local tag = blob:sub(pos, pos)
  pos = pos + 1
  if tag == "s" then return string.unpack("<s8", blob, pos) end
  if tag == "i" then return string.unpack("<i8", blob, pos) end
  if tag == "n" then return string.unpack("<d", blob, pos) end
  if tag == "T" or tag == "F" then return tag == "T", pos end
  local t = {}
  while blob:sub(pos, pos) ~= "}" do
    local k, x
    k, pos = unpack(blob, pos)
    x, pos = unpack(blob, pos)
    t[k] = x
  end
  return t, pos + 1
end

--- mpi.gather_rows(rows) -> on rank 0 the rows of every rank, { [i] = row }
-- (each rank's `rows` is { [i] = row } for its points i; a row is a string,
-- a number, a boolean or a table of them, e.g. a record of the results
-- table); nil on the other ranks.  Collective: every rank calls it.  Error
-- when two ranks send the same point.
function M.gather_rows(rows)
  local all = mpi().gather(table.concat(pack(rows, {})))
  if not all then return nil end
  local out, from = {}, {}
  for r, blob in pairs(all) do
    for i, row in pairs((unpack(blob, 1))) do
      if out[i] ~= nil then
        check.error(string.format("explore: point %d came from ranks %d and %d", i, from[i], r - 1), 2)
      end
      out[i], from[i] = row, r - 1
    end
  end
  return out
end

--- mpi.share(value) -> rank 0's `value` on every rank (a string, number,
-- boolean or table of them; the other ranks' `value` is not read).
-- Collective.
function M.share(value)
  local rank = mpi().rank()
  local blob = mpi().bcast(rank == 0 and table.concat(pack(value, {})) or nil)
  return (unpack(blob, 1))
end

--- mpi.run(plan, n, rows, needs, compute[, hooks]) -> every row, on every
-- rank, and the text of the ranks that failed (M.failures: nil when none
-- did): the MPI case of an exploration's run (plan from M.plan).  `rows` is
-- the table rank 0 holds ({ [i] = row }, the other ranks' is not read: they
-- need not see its files), shared with every rank first; needs(i,
-- row_or_nil) says whether point i must be computed; rank `plan.task`
-- computes compute(i) -> row (or nil: no row, e.g. after a stop signal) for
-- the points of its slice (M.slice) that need it, under M.guarded: a rank
-- whose compute raises an error or calls os.exit computes no more, and its
-- rows done go to rank 0 with the others'.  `hooks` (each optional):
-- known(rows) with every row known before the run, point(i, row) after each
-- row (within M.guarded), finished() once the rank's slice is done or given
-- up, before it waits for the others.  The rows are joined on rank 0 and
-- shared with every rank.  Rank 0 then writes the table (and each rank
-- raises the failures, once it is written).  Collective: every rank calls it.
function M.run(plan, n, rows, needs, compute, hooks)
  hooks = hooks or {}
  local known = M.share(plan.task == 0 and rows or nil)
  if hooks.known then hooks.known(known) end
  local mine = {}
  local failure = M.guarded(function(at)
    for _, i in ipairs(M.slice(n, plan.task, plan.ntasks)) do
      if needs(i, known[i]) then
        at.point = i
        local row = compute(i)
        if at.exited ~= nil then return end      -- (os.exit in its evaluate: the point is not recorded)
        mine[i] = row
        if hooks.point and row then hooks.point(i, row) end
      end
    end
    at.point = nil
  end)
  if hooks.finished then failure = M.guarded(hooks.finished) or failure end
  local got = M.gather_rows(mine)
  if got then for i, row in pairs(got) do known[i] = row end end
  return M.share(plan.task == 0 and known or nil), M.failures(plan, failure)
end

-- Raised by os.exit within M.guarded, to unwind to it.
local EXITED = setmetatable({}, { __tostring = function() return "os.exit during the exploration" end })

--- mpi.guarded(fn) -> nil, or the text of why this rank's share of an
-- exploration failed: calls fn(at) (at.point: set by fn to the point it
-- computes, for the text) with errors caught and os.exit raising one, so
-- that the rank goes on to the collectives that follow (the gather of its
-- rows): a rank that left by an error or by os.exit (in the script's
-- evaluate, fitness or model) would abort the job and lose every rank's rows
-- done.  An os.exit sets at.exited (its code) and raises an error that
-- unwinds to here, or to a pcall of the exploration, which records the
-- point as failed: fn must then record no row and return as it sees
-- at.exited.  The text: "rank 1 failed at point 6: MESSAGE", "rank 1 called
-- os.exit(3) at point 6" (", evaluation 6" for an Evolution: `noun`).
function M.guarded(fn, noun)
  local at = {}
  local exit = os.exit
  os.exit = function(code)           -- luacheck: ignore 122
    at.exited = code == nil and true or code
    error(EXITED, 0)
  end
  local ok, err = pcall(fn, at)
  os.exit = exit                     -- luacheck: ignore 122
  local rank = mpi().rank()
  local where = at.point and string.format(" at %s %d", noun or "point", at.point) or ""
  if at.exited ~= nil then return string.format("rank %d called os.exit(%s)%s", rank, tostring(at.exited), where) end
  if not ok then
    return string.format("rank %d failed%s: %s", rank, where, type(err) == "string" and err or check.show(err))
  end
  return nil
end

--- mpi.failures(plan, failure) -> on every rank, the texts of the ranks
-- whose `failure` (M.guarded's) is not nil, joined by "; ", or nil when none
-- failed.  Collective.
function M.failures(plan, failure)
  local all = M.share(M.gather_rows({ [plan.task + 1] = failure or false }))
  local out = {}
  for r = 1, plan.ntasks do
    if all[r] then out[#out + 1] = all[r] end
  end
  return #out > 0 and table.concat(out, "; ") or nil
end

--- mpi.said_once(fn[, by]): calls fn(), which raises an error whose message
-- every rank that calls it raises the same (after a collective that gave
-- each the same text: M.failures', M.check_ranks'), so that only rank `by`
-- (default 0) prints it: another rank files the message in the registry
-- ("neuromass.said_by_rank_0", which src/main.c reads: a script that fails
-- with that very message prints nothing), and fails as rank `by` does;
-- rank `by` files it as its own to say ("neuromass.said_here": the host
-- prints it at once, M.held_error).  Any other error still prints.
function M.said_once(fn, by)
  local ok, err = pcall(fn)
  if ok then return end
  if type(err) == "string" then
    debug.getregistry()[mpi().rank() ~= (by or 0) and "neuromass.said_by_rank_0" or "neuromass.said_here"] = err
  end
  error(err, 0)
end

-- A rank's entry in the collective of M.check_ranks at the end of its
-- script (M.start's closer), instead of an exploration's.
local ENDED = { ended = true }

local function ranks_list(t)
  local s = #t == 1 and t[1] or table.concat(t, ", ", 1, #t - 1) .. " and " .. t[#t]
  return (#t == 1 and "rank " or "ranks ") .. s
end

-- Rank 0's verdict on the entries `all` of every rank (rank r + 1's at
-- all[r + 1]: { kind, out, text } or ENDED): false when they agree, else
-- why not.  The out folders are not compared: ranks on machines that share
-- no file system may each name their own (rank 0's holds the table).
local function verdict(all)
  local ended, running, others = {}, {}, {}
  for r = 1, #all do
    if all[r].ended then ended[#ended + 1] = string.format("%d", r - 1)
    else running[#running + 1] = r end
    if r > 1 and (all[r].kind ~= all[1].kind or all[r].text ~= all[1].text) then others[#others + 1] = r - 1 end
  end
  if #running == 0 or #others == 0 then return false end
  local settings = require "neuromass.explore.settings"
  local first = all[running[1]]
  local what = first.kind
  if #ended > 0 then
    local names = {}
    for _, r in ipairs(running) do names[#names + 1] = string.format("%d", r - 1) end
    return string.format("%s: the ranks of this mpirun ran different explorations: the script of %s ended while " ..
                         "%s began %s %s (out %s): every rank must run the same explorations in the same order; a " ..
                         "script that stops early on some ranks (if not nm.explore.is_main() then return end) must " ..
                         "do so after its last exploration", what, ranks_list(ended), ranks_list(names),
                         what:find("^[AEIOU]") and "an" or "a", what,
                         settings.value(first.out))
  end
  local r = others[1]
  local function text(entry) return "kind = " .. entry.kind .. "\n" .. entry.text end
  return string.format("%s: the ranks of this mpirun build different explorations: rank %d's differs from " ..
                       "rank 0's (%s)%s; every rank must build the same one: a value the script reads from " ..
                       "os.getenv, or one that depends on the rank, must be the same on every rank (pass it on " ..
                       "the command line: --set, --seed); nothing was computed", what, r,
                       settings.diff(text(all[1]), text(all[r + 1]), "on rank 0", "on rank " .. r),
                       #others > 1 and string.format(", and %d other rank%s differ%s", #others - 1,
                                                     #others > 2 and "s" or "", #others > 2 and "" or "s") or "")
end

-- Gathers this rank's `entry` to rank 0 and shares its verdict: false, or
-- why not and the first rank that began the exploration (the ranks that
-- did raise the message at the script's line: that one prints it).
local function agree(entry)
  local all = M.gather_rows({ [mpi().rank() + 1] = entry })
  local why, first = all and verdict(all), 0
  while all and all[first + 1] and all[first + 1].ended do first = first + 1 end
  local shared = M.share(all and { why = why or false, first = first } or nil)
  return shared.why, shared.first
end

--- mpi.check_ranks(what, dir, text) -> true: the settings `text` of this
-- rank's exploration `what` (settings.ranks_text), whose folder is `dir`,
-- compared over the ranks, before any computes.  Ranks whose scripts built
-- explorations that differ (a space, run option or seed read from
-- os.getenv, or depending on the rank; not the out folder, which may
-- differ) would compute points of different explorations into one table:
-- an error on every rank, at the user's line, naming the first rank that
-- differs from rank 0 and what differs (settings.diff).  A rank whose
-- script ended (M.start's closer) while others begin an exploration would
-- leave them waiting for it forever: the same error, naming the ranks.
-- Collective.
function M.check_ranks(what, dir, text)
  local why, first = agree({ kind = what, out = dir, text = text })
  if why then M.said_once(function() check.error(why, 3) end, first) end
  return true
end

-- M.start's closer: at the end of the script (lua_close, before
-- neuromass.mpi finalises), unless it failed (the job is then aborted), the
-- last M.check_ranks: a rank that ends while others begin an exploration
-- fails the job (the registry's "neuromass.exit_ok", read by l_mpi.c, with
-- status 1) instead of leaving them waiting for it.
at_close = function()
  local reg = debug.getregistry()
  if reg["neuromass.exit_ok"] == false or not (binding and binding.initialized()) then return end
  local ok, why = pcall(agree, ENDED)
  if ok and not why then return end
  -- (the first rank that began an exploration says why, at its line; one write: another rank writes meanwhile)
  if not ok then io.stderr:write("neuromass: " .. tostring(why) .. "\n") end
  reg["neuromass.exit_ok"], reg["neuromass.exit_code"] = false, 1
end

-- The one-time warnings this rank's runs gave in the exploration running
-- (rank 1 and up: M.warning_pass), { { key, text } }, until gathered.
local held = {}

--- mpi.warning_pass(plan) -> for an MPI rank other than 0, the `pass` of
-- warnings.exploration: it holds the rank's one-time warnings for
-- M.gather_warnings, so that rank 0 writes each kind once for the job; nil
-- for rank 0 or another plan (which write their own).
function M.warning_pass(plan)
  if plan.kind ~= "mpi" or plan.task == 0 then return nil end
  held = {}
  return function(key, text) held[#held + 1] = { key, text } end
end

--- mpi.gather_warnings(plan): the counted warnings of every rank's runs
-- (run/warnings.lua: warnings.take) added to rank 0's, which writes their
-- sum as its exploration ends (the other ranks write none): the same line
-- as from one process; and the one-time warnings the other ranks held
-- (M.warning_pass), which rank 0 writes unless it wrote that kind already.
-- Collective.
function M.gather_warnings(plan)
  local mine = { tallies = warnings.take(), once = held }
  held = {}
  local all = M.gather_rows({ [plan.task + 1] = mine })
  if not all then return end
  for _, t in pairs(all) do
    warnings.add(t.tallies)
    for _, kt in ipairs(t.once) do warnings.once(nil, kt[1], kt[2]) end
  end
end

--- mpi.stopped(plan) -> the text naming the other ranks that received a stop
-- signal ("rank 2 was stopped by signal 15", "ranks 1 and 2 were stopped by
-- signals 15 and 2"), on every rank, or nil when none did: a rank stopped
-- alone (`kill` of its process) computes no more and its rows go to rank 0
-- with the others', and the other ranks, which returned from the gather with
-- its later points missing, must not go on with the script.  Collective
-- (every rank calls it after rank 0 has written the table).  Also returns
-- true when every rank received this rank's signal (mpirun passes Ctrl-C or
-- SIGTERM on to all): their "interrupted by" message is then the same on
-- every rank (M.said_once).
function M.stopped(plan)
  local all = M.share(M.gather_rows({ [plan.task + 1] = require("neuromass.core").stop_signal() or false }))
  local alike = true
  for r = 1, plan.ntasks do alike = alike and all[r] ~= nil and all[r] == all[plan.task + 1] end
  local ranks, signals = {}, {}
  for r = 1, plan.ntasks do
    if all[r] and r - 1 ~= plan.task then
      ranks[#ranks + 1] = string.format("%d", r - 1)
      signals[#signals + 1] = string.format("%d", all[r])
    end
  end
  if #ranks == 0 or alike then return nil, alike end
  local function list(t) return #t == 1 and t[1] or table.concat(t, ", ", 1, #t - 1) .. " and " .. t[#t] end
  return string.format("rank%s %s %s stopped by signal%s %s", #ranks == 1 and "" or "s", list(ranks),
                       #ranks == 1 and "was" or "were", #ranks == 1 and "" or "s", list(signals))
end

--- mpi.barrier(): waits for every rank.  Collective.
function M.barrier()
  mpi().barrier()
end

return M
