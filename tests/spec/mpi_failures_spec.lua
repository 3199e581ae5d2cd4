-- mpi_failures_spec.lua: what a demanding user does wrong under mpirun
-- (issue 13): ranks whose scripts build different explorations are refused
-- on every rank before computing; a rank whose point errors or calls
-- os.exit keeps every rank's rows done (rank 0 writes them), fails naming
-- the rank and point, and a rerun computes only the rest, to the table of
-- one process bit for bit; a failed point names its rank; a rank whose
-- script ends or fails before anything of nm.explore ends the job, naming
-- it, and a script without nm.explore ends well (a `neuromass run` it
-- starts is no rank); ranks stopped by SIGTERM
-- make mpirun exit 143.  Pending when mpirun or neuromass.mpi is
-- missing.
local h = require "helpers"

local q, scratch = h.q, h.scratch

teardown(h.remove_scratch)

local MPIRUN, mpi_missing = h.MPIRUN, h.mpi_missing

local script = h.script

-- Asserts that a job failed (`what` names the case): a status that is not
-- 0, nor timeout's (124: the job hung), and no rank went on after it.
local function failed_job(status, out, err, what)
  assert.not_equals(0, status, what .. ": " .. err)
  assert.not_equals(124, status, what .. ": " .. err)
  assert.not_matches("went on", out, 1, true)
end

-- Runs script `s` with `env` (a shell prefix "NAME=VALUE ") on 2 ranks, or
-- in one process when `np` is 1, exploring into `dir`: status, out, err.
local function run(s, dir, env, np)
  local launcher = np == 1 and "" or MPIRUN
  return h.sh((env or "") .. launcher .. q(h.exe) .. " run " .. q(s) .. " " .. q(dir))
end

-- A BoxSearch of 8 points into arg[1] whose settings on rank 1 differ as
-- the environment's WHAT says, and whose evaluate at x_ext = 0.5 (point 6,
-- rank 1's) does what FAIL says: "exit" os.exit(3), "bad" returns a
-- string metric (a script error), "error" raises (a failed point), "kill"
-- kills rank 1 outright (SIGKILL) after a point 4 of 2.2 s (which lets
-- its part be written: every 2 s).
local SEARCH = [=[
local nm = require "neuromass"
local rank = tonumber(os.getenv("OMPI_COMM_WORLD_RANK") or "0")
local what, fail = os.getenv("WHAT") or "", os.getenv("FAIL") or ""
local xs = { 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7 }
if what == "space" and rank == 1 then xs[8] = 0.75 end
local run = { duration = 1, dt = 0.1, seed = (what == "seed" and rank == 1) and 2 or 1 }
if what == "duration" and rank == 1 then run.duration = 2 end
nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace { x_ext = xs }, run = run,
  evaluate = function(res, p)
    if p.x_ext == 0.5 then
      if fail == "exit" then os.exit(3) elseif fail == "bad" then return { m = "x" }
      elseif fail == "kill" then os.execute("kill -KILL " .. require("neuromass.core").pid())
      elseif fail == "error" then error("no luck") end
    end
    if p.x_ext == 0.3 and fail == "kill" then local t = os.time() + 2.2 while os.time() < t do end end
    local x = res:get("x", 0)
    return { m = p.x_ext * 2, last = x[#x] }
  end,
  out = (what == "out" and rank == 1) and arg[1] .. "_other" or arg[1] }:run()
print("rank " .. rank .. " went on")
]=]

describe("mpirun -np 2 explorations that users get wrong", function()
  it("refuses ranks that build different explorations, on every rank, naming what differs, computing nothing", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script(SEARCH)
    local cases = { space = "space x_ext { 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7 } on rank 0, " ..
                            "{ 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75 } on rank 1",
                    seed = "seed 1 on rank 0, 2 on rank 1",
                    duration = "run duration 1 on rank 0, 2 on rank 1" }
    for what, differs in pairs(cases) do
      local dir = scratch() .. "/o"
      local status, out, err = run(s, dir, "WHAT=" .. what .. " ")
      failed_job(status, out, err, what)
      assert.matches("s.lua:8: BoxSearch: the ranks of this mpirun build different explorations: rank 1's " ..
                     "differs from rank 0's (", err, 1, true)
      assert.matches(differs, err, 1, true)
      assert.matches("nothing was computed", err, 1, true)
      assert.is_nil(io.open(dir .. "/results.csv"), what)
    end
  end)

  it("keeps every rank's rows when a rank's point errors or calls os.exit, names rank and point; a rerun ends it", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script(SEARCH)
    local one = scratch() .. "/one"
    assert.equals(0, (run(s, one, "", 1)))
    local whole = h.read(one .. "/results.csv")
    local said = { exit = "BoxSearch: rank 1 called os.exit(3) at point 6; the points done are kept in ",
                   bad = "BoxSearch: rank 1 failed at point 6: " }
    for fail, text in pairs(said) do
      local dir = scratch() .. "/o"
      local status, out, err = run(s, dir, "FAIL=" .. fail .. " ")
      failed_job(status, out, err, fail)
      assert.matches("s.lua:8: " .. text, err, 1, true)
      assert.matches("/o/results.partial.csv: run again to compute the rest", err, 1, true)
      -- every point but 6 (rank 1's failure) and 8 (rank 1's, after it), rank 0's included
      assert.is_nil(io.open(dir .. "/results.csv"))
      local t = h.read(dir .. "/results.partial.csv")
      assert.equals("point|1|2|3|4|5|7|", (t:gsub("\n", "|"):gsub("(%d+),[^|]*", "%1"):gsub("^point[^|]*", "point")))
      status, out, err = run(s, dir)
      assert.equals(0, status, err)
      assert.matches("rank 0 went on", out, 1, true)
      assert.equals(whole, h.read(dir .. "/results.csv"), fail)
    end
  end)

  -- Before: the ranks' rows went to rank 0 at the end alone, so a rank killed outright (a node
  -- lost) lost every rank's rows: mpirun ends the job.
  it("keeps the rows of a job whose rank was killed outright in the ranks' parts; a merge or rerun joins them",
     function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script(SEARCH)
    local one = scratch() .. "/one"
    assert.equals(0, (run(s, one, "", 1)))
    local dir = scratch() .. "/o"
    local status, out, err = run(s, dir, "FAIL=kill ")
    failed_job(status, out, err, "kill")
    assert.is_nil(io.open(dir .. "/results.csv"))
    -- rank 0's slice (1, 3, 5, 7), written when it was done; rank 1's up to its slow point 4
    local function points(path) return (h.read(path):gsub("\n", "|"):gsub("(%d+),[^|]*", "%1"):gsub("^point[^|]*", "")) end
    assert.equals("|1|3|5|7|", points(dir .. "/parts/task-0-of-2.csv"))
    assert.equals("|2|4|", points(dir .. "/parts/task-1-of-2.csv"))
    status, out, err = h.sh(h.q(h.exe) .. " explore --merge " .. h.q(dir))
    assert.equals(1, status, out .. err)
    assert.matches("missing: points 6, 8 (", out .. err, 1, true)
    assert.equals("|1|2|3|4|5|7|", points(dir .. "/results.partial.csv"))
    local again, _, again_err = run(s, dir)
    assert.equals(0, again, again_err)
    assert.equals(h.read(one .. "/results.csv"), h.read(dir .. "/results.csv"))
    assert.is_nil(io.open(dir .. "/results.partial.csv"))
    assert.is_nil(io.open(dir .. "/parts"))
  end)

  -- Before: every rank printed them, so -np K showed each K times.
  it("prints an error every rank raises alike once (rank 0's); a rank's own error still prints", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s, count = script(SEARCH), h.count
    for env, said in pairs { ["WHAT=seed "] = "the ranks of this mpirun build different explorations",
                             ["FAIL=bad "] = "BoxSearch: rank 1 failed at point 6: " } do
      local status, out, err = run(s, scratch() .. "/o", env)
      failed_job(status, out, err, env)
      assert.equals(1, count(err, said), err)
      assert.equals(1, count(err, "neuromass: "), err)
    end
    -- a rank whose script ended: the rank that began the exploration says so, at its line, once
    local early = script([[
local nm = require "neuromass"
if nm.explore.is_main() == (os.getenv("EARLY") == "0") then return end   -- (rank EARLY's script ends here)
nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace { x_ext = { 0, 0.1 } }, run = { duration = 1, dt = 0.1 },
  evaluate = function(_, p) return { m = p.x_ext } end, out = arg[1] }:run()
]])
    for _, env in ipairs { "EARLY=0 ", "EARLY=1 " } do
      local status, out, err = run(early, scratch() .. "/o", env)
      failed_job(status, out, err, env)
      assert.equals(1, count(err, "s.lua:3: BoxSearch: the ranks of this mpirun ran different explorations"), err)
      assert.equals(1, count(err, "neuromass: "), err)
    end
  end)

  it("a failed point is recorded, and its line names the rank that ran it", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local dir = scratch() .. "/o"
    local status, _, err = run(script(SEARCH), dir, "FAIL=error ")
    assert.equals(0, status, err)
    assert.matches("explore: rank 1: point 6 failed: ", err, 1, true)
    assert.matches("\n6,0.5,[^\n]*,failed: [^\n]*no luck\n", h.read(dir .. "/results.csv"))
  end)

  it("an Evolution keeps every rank's evaluations when a rank calls os.exit or is killed; resumes to one process's table",
     function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script([[
local nm = require "neuromass"
local rank = tonumber(os.getenv("OMPI_COMM_WORLD_RANK") or "0")
local n = 0
nm.explore.Evolution { model = function() return nm.models.fhn.native {} end,
  parameters = { x_ext = { 0, 1 } }, run = { duration = 1, dt = 0.1, seed = 1 },
  fitness = function(_, p)
    n = n + 1
    if rank == 1 and n == 3 and os.getenv("FAIL") then os.exit(3) end
    if rank == 1 and n == 2 and os.getenv("KILL") then local t = os.time() + 2.2 while os.time() < t do end end
    if rank == 1 and n == 3 and os.getenv("KILL") then os.execute("kill -KILL " .. require("neuromass.core").pid()) end
    return -p.x_ext
  end, evaluations = 8, restarts = 2, out = arg[1] }:run()
print("rank " .. rank .. " went on")
]])
    local one = scratch() .. "/one"
    assert.equals(0, (run(s, one, "", 1)))
    local dir = scratch() .. "/o"
    local status, out, err = run(s, dir, "FAIL=1 ")
    failed_job(status, out, err, "Evolution")
    assert.matches("s.lua:4: Evolution: rank 1 called os.exit(3); the evaluations done are kept in ", err, 1, true)
    local _, kept = h.read(dir .. "/results.partial.csv"):gsub("\n", "")
    assert.is_true(kept > 4, "rank 0's restart and rank 1's first evaluations kept: " .. kept - 1 .. " rows")
    status, _, err = run(s, dir)
    assert.equals(0, status, err)
    assert.equals(h.read(one .. "/results.csv"), h.read(dir .. "/results.csv"))
    -- Killed outright (SIGKILL, after a slow evaluation 2 that lets its part be written): the ranks'
    -- parts keep their evaluations (before, the job lost them all), which a rerun replays.
    dir = scratch() .. "/k"
    status, out, err = run(s, dir, "KILL=1 ")
    failed_job(status, out, err, "Evolution killed")
    assert.is_nil(io.open(dir .. "/results.csv"))
    local function rows(path) return select(2, h.read(path):gsub("\n", "")) - 1 end
    assert.equals(4, rows(dir .. "/parts/task-0-of-2.csv"))        -- (rank 0's restart: evaluations 1 to 4)
    assert.equals(2, rows(dir .. "/parts/task-1-of-2.csv"))        -- (rank 1's first two: 5 and 6)
    assert.truthy(io.open(dir .. "/parts/restarts.txt"))
    status, _, err = run(s, dir)
    assert.equals(0, status, err)
    assert.equals(h.read(one .. "/results.csv"), h.read(dir .. "/results.csv"))
    assert.is_nil(io.open(dir .. "/parts"))
  end)

  it("a rank whose script ends while another begins an exploration fails the job, naming both, none hanging", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script([[
local nm = require "neuromass"
local rank = tonumber(os.getenv("OMPI_COMM_WORLD_RANK"))
local function search(out)
  return nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end,
    space = nm.explore.ParameterSpace { x_ext = { 0, 0.1, 0.2 } }, run = { duration = 1, dt = 0.1 },
    evaluate = function(_, p) return { m = p.x_ext } end, out = out }
end
search(arg[1] .. "/a"):run()
if rank == tonumber(os.getenv("EARLY")) then
  if os.getenv("EXIT") then os.exit(0) end
  return
end
search(arg[1] .. "/b"):run()
print("rank " .. rank .. " went on")
]])
    for _, env in ipairs { "EARLY=1 ", "EARLY=0 ", "EARLY=1 EXIT=1 " } do
      local dir = scratch()
      local status, out, err = run(s, dir, env)
      failed_job(status, out, err, env)
      local early = env:match("EARLY=(%d)")
      assert.matches("BoxSearch: the ranks of this mpirun ran different explorations: the script of rank " .. early ..
                     " ended while rank " .. (1 - early) .. " began a BoxSearch (out \"" .. dir .. "/b\")", err, 1, true)
      assert.matches("s.lua:13: BoxSearch: the ranks", err, 1, true)
      assert.is_not_nil(io.open(dir .. "/a/results.csv"), env)
    end
  end)

  -- A script whose rank EARLY ends before anything of nm.explore: it fails (FAIL), calls os.exit(EXIT)
  -- or returns; the others explore into arg[1], with an Evolution when EVOLUTION is set.
  local EARLY = [[
local nm = require "neuromass"
local rank = os.getenv("OMPI_COMM_WORLD_RANK")
if rank == os.getenv("EARLY") then
  if os.getenv("FAIL") then error("rank " .. rank .. " gives up") end
  if os.getenv("EXIT") then os.exit(tonumber(os.getenv("EXIT"))) end
  return
end
local model, run = function() return nm.models.fhn.native {} end, { duration = 1, dt = 0.1, seed = 1 }
if os.getenv("EVOLUTION") then
  nm.explore.Evolution { model = model, parameters = { x_ext = { 0, 1 } }, run = run,
    fitness = function(_, p) return -p.x_ext end, evaluations = 4, restarts = 2, out = arg[1] }:run()
else
  nm.explore.BoxSearch { model = model, space = nm.explore.ParameterSpace { x_ext = { 0, 0.1 } }, run = run,
    evaluate = function(_, p) return { m = p.x_ext } end, out = arg[1] }:run()
end
print("rank " .. rank .. " went on")
]]

  -- Before: a rank whose script ended before calling anything of nm.explore had never started MPI,
  -- so it met no end-of-script check, and the other ranks waited for it forever.
  it("a rank whose script ends before anything of nm.explore (its rank from os.getenv) fails the job, named", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script(EARLY)
    for _, env in ipairs { "EARLY=1 ", "EARLY=0 ", "EARLY=1 EXIT=0 ", "EARLY=1 EXIT=3 ", "EARLY=0 EVOLUTION=1 " } do
      local dir = scratch() .. "/o"
      local status, out, err = run(s, dir, env)
      failed_job(status, out, err, env)
      local early = env:match("EARLY=(%d)")
      local what = env:find("EVOLUTION") and { 10, "an Evolution" } or { 13, "a BoxSearch" }
      assert.equals(1, h.count(err, "s.lua:" .. what[1] .. ": " .. what[2]:match("%S+$") .. ": the ranks of this " ..
                                    "mpirun ran different explorations: the script of rank " .. early .. " ended " ..
                                    "while rank " .. (1 - early) .. " began " .. what[2] .. " (out \"" .. dir ..
                                    "\")"), env .. err)
      assert.equals(1, h.count(err, "neuromass: "), err)
      assert.is_nil(io.open(dir .. "/results.csv"), env)
    end
  end)

  it("a rank whose script fails before anything of nm.explore ends the job with its message, none hanging", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script(EARLY)
    for _, early in ipairs { "1", "0" } do
      local status, out, err = run(s, scratch() .. "/o", "EARLY=" .. early .. " FAIL=1 ")
      failed_job(status, out, err, early)
      assert.equals(1, status, err)
      assert.equals(1, h.count(err, "s.lua:4: rank " .. early .. " gives up"), err)
      assert.equals(1, h.count(err, "neuromass: "), err)
      -- (rank 0's error is the job's; another rank's names the rank)
      assert.equals(1, h.count(err, "neuromass: " .. (early == "1" and "rank 1: " or "") .. s .. ":4: "), err)
    end
  end)

  -- Before: a mistake of the script outside an exploration (here an unknown parameter) failed
  -- every rank alike, and each printed it: -np K said it K times.
  it("prints once (rank 0's) an error every rank's script raises outside an exploration", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script([[
local nm = require "neuromass"
local model = nm.models.fhn.native { K_gll = 0.5 }
]])
    local status, out, err = run(s, scratch() .. "/o")
    failed_job(status, out, err, "typo")
    assert.equals(1, status, err)
    assert.equals(1, h.count(err, "neuromass: "), err)
    assert.equals(1, h.count(err, "neuromass: " .. s .. ":2: unknown parameter 'K_gll'"), err)
  end)

  -- MPI starts as every rank's script ends, for the end-of-script check: here every rank agrees.
  -- A `neuromass run` that a rank's script starts (HOW=child) inherits the launcher's variables but
  -- is no rank: it runs as a plain process, MPI not started (before, it failed in MPI_Init).
  it("a script that calls nothing of nm.explore on any rank ends well under mpirun, silently", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script([[
local rank, how = os.getenv("OMPI_COMM_WORLD_RANK"), os.getenv("HOW")
local mpi = how ~= "" and how ~= "nested" and require "neuromass.mpi"
if how == "init" and rank == "0" then mpi.init() end             -- (the binding's own, on one rank)
if how == "finalize" then mpi.init(); mpi.finalize() end
if how == "child" then assert(os.execute("HOW=nested " .. os.getenv("EXE") .. " run " .. arg[0])) end
if how == "nested" then
  print("nested in rank " .. rank .. ": " .. tostring(require("neuromass").explore.is_main()) .. " " ..
        tostring(package.loaded["neuromass.mpi"] ~= nil))
  return
end
print("rank " .. rank .. " done")
if how == "exit" then os.exit(0) elseif how == "exit3" then os.exit(3) end
]])
    for how, code in pairs { [""] = 0, exit = 0, init = 0, finalize = 0, exit3 = 3, child = 0 } do
      local status, out, err = run(s, scratch() .. "/o", "EXE=" .. q(h.exe) .. " HOW=" .. how .. " ")
      assert.equals(code, status, how .. ": " .. err)
      assert.matches("rank 0 done", out, 1, true)
      assert.matches("rank 1 done", out, 1, true)
      if code == 0 then assert.equals("", err, how) end
      if how == "child" then
        for r = 0, 1 do assert.matches("nested in rank " .. r .. ": true false", out, 1, true) end
      end
    end
  end)

  it("mpirun exits 143, as a shell does, when SIGTERM stops its ranks", function()
    local why = mpi_missing()
    if why then return pending(why) end
    local s = script([[
local nm = require "neuromass"
nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace { x_ext = { 0, 0.2, 0.4, 0.6 } }, run = { duration = 1, dt = 0.1 },
  evaluate = function(_, p)
    if p.x_ext >= 0.4 then
]] .. h.STOP_SELF .. [[
    end
    return { m = p.x_ext }
  end, out = arg[1] }:run()
print("went on")
]])
    local dir = scratch() .. "/o"
    local status, out, err = run(s, dir)
    assert.equals(143, status, err)
    assert.matches("interrupted by SIGTERM; the points done are kept in ", err, 1, true)
    assert.not_matches("went on", out, 1, true)
    -- every rank was stopped by the same signal: the message is printed once (before: once a rank)
    assert.equals(1, h.count(err, "interrupted by SIGTERM; the points done are kept in "), err)
    assert.matches("\n2,", h.read(dir .. "/results.partial.csv"))
  end)
end)
