-- explore_spec.lua: nm.explore (issue 13 items 1 and 2): ParameterSpace's
-- grid and sequence orders, BoxSearch's results.csv (the contract's header
-- and rows), per-point seeds, failed points, resume, and the same table bit
-- for bit from 1 worker, 2 workers and a 3-task Slurm array merged (a range, a
-- stepped range; a list array and half of Slurm's variables refused).
local h = require "helpers"
local nm = require "neuromass"

local q = h.q

local read = h.read
-- The lines of a text.
local function text_lines(text)
  local out = {}
  for l in text:gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

-- A script exploring a single FHN node over K_gl x sigma_ou (2 x 3 points);
-- each evaluation appends a line to evals.txt (counted by the specs); the
-- point { x_ext = 0.75, sigma_ou = 0.05 } raises an error.
local SCRIPT = [[
local nm = require "neuromass"
local dir = arg[1]
local space = nm.explore.ParameterSpace({ { "x_ext", { 0.5, 0.75 } }, { "sigma_ou", { 0, 0.05, 0.1 } } })
local search = nm.explore.BoxSearch {
  model = function(point) return nm.models.fhn.native {} end,
  space = space,
  run = { duration = 50, dt = 0.1, seed = 3 },
  evaluate = function(res, point)
    local f = assert(io.open(dir .. "/evals.txt", "a")); f:write(point.x_ext, " ", point.sigma_ou, " ", io.open("/proc/self/stat"):read("n"), "\n"); f:close()
    if point.x_ext == 0.75 and point.sigma_ou == 0.05 then error("boom at this point") end
    local x, s, top = res:matrix("x")[1], 0, -math.huge
    for _, v in ipairs(x) do s = s + v; top = math.max(top, v) end
    return { mean_x = s / #x, max_x = top, samples = #x }
  end,
  out = "sweep",
}
local r = search:run()
io.stdout:write(#r.rows, " rows\n")
]]

-- A script exploring one FHN node at x_ext = 0, 0.5, 1, 1.5 into the folder
-- `out`, with the evaluate function of the source `evaluate` (BoxSearch on line 2).
local function four_points(out, evaluate)
  return 'local nm = require "neuromass"\n' ..
         'nm.explore.BoxSearch { space = nm.explore.ParameterSpace { x_ext = { 0, 0.5, 1, 1.5 } }, out = "' ..
         out .. '",\n  model = function() return nm.models.fhn.native {} end, run = { duration = 1, dt = 0.1 },\n' ..
         '  evaluate = ' .. evaluate .. ' }:run()\n'
end

-- Runs sweep.lua in `dir` (from there: its messages name "sweep.lua", the
-- same in every folder).
local function run(dir, opts, env)
  return h.sh("cd " .. q(dir) .. " && " .. (env or "") .. " " .. q(h.exe) .. " run sweep.lua " ..
              (opts or "") .. " --quiet -- .")
end

-- The evaluations the runs in `dir` made, and the processes that made them.
local function evals(dir)
  local f = io.open(dir .. "/evals.txt", "r")
  if not f then return 0, 0 end
  local n, pids, np = 0, {}, 0
  for line in f:lines() do
    n = n + 1
    local pid = line:match("(%d+)$")
    if not pids[pid] then pids[pid] = true; np = np + 1 end
  end
  f:close()
  return n, np
end

describe("nm.explore.ParameterSpace", function()
  it("a grid: every combination, the first parameter slowest; a sequence: element i of each list", function()
    local g = nm.explore.ParameterSpace({ { "b", { 1, 2 } }, { "a", { 10, 20, 30 } } }, { kind = "grid" })
    assert.same({ "b", "a" }, g.names)
    assert.equals(6, g.n)
    assert.same({ b = 1, a = 10 }, g:point(1))
    assert.same({ b = 1, a = 20 }, g:point(2))
    assert.same({ b = 2, a = 10 }, g:point(4))
    assert.same({ b = 2, a = 30 }, g:point(6))
    local s = nm.explore.ParameterSpace({ { "b", { 1, 2 } }, { "a", { 10, 20 } } }, { kind = "sequence" })
    assert.equals(2, s.n)
    assert.same({ b = 2, a = 20 }, s:point(2))
    -- a plain table's names are sorted
    assert.same({ "K_gl", "sigma_ou" }, nm.explore.ParameterSpace({ sigma_ou = { 0 }, K_gl = { 1 } }).names)
  end)

  it("a bad space is an error at the user's line, naming what is wrong", function()
    local function err(...)
      local ok, e = pcall(nm.explore.ParameterSpace, ...)
      assert.is_false(ok)
      assert.truthy(tostring(e):find("explore_spec.lua:%d+: ParameterSpace: "), e)
      return e
    end
    assert.truthy(err({ a = { 1, 2 }, b = { 1 } }, { kind = "sequence" }):find("lists of one length", 1, true))
    assert.truthy(err({ a = {} }):find("'a' must be a non-empty list of numbers", 1, true))
    assert.truthy(err({ a = { 1, 0 / 0 } }):find("'a' value 2 must be a finite number", 1, true))
    assert.truthy(err({ a = { 1 } }, { kind = "grd" }):find("did you mean 'grid'", 1, true))
    assert.truthy(err({ seed = { 1 } }):find("cannot name a parameter", 1, true))
    local huge = {}                 -- 2^64 points: the count wrapped around to 0 (an empty exploration)
    for j = 1, 64 do huge[j] = { "p" .. j, { 1, 2 } } end
    assert.truthy(err(huge):find("a grid of more than 2^63 - 1 points", 1, true))
  end)

  it("space:point(i) refuses an i outside 1 .. space.n at the caller's line (no wrapped-around point)", function()
    local g = nm.explore.ParameterSpace({ { "a", { 1, 2 } }, { "b", { 10, 20, 30 } } })
    assert.same({ a = 2, b = 30 }, g:point(6.0))
    for _, i in ipairs { 0, 7, 1.5, "1" } do
      local ok, e = pcall(g.point, g, i)
      assert.is_false(ok)
      assert.truthy(tostring(e):find("explore_spec.lua:%d+: ParameterSpace: point%(i%): i must be a whole number " ..
                                     "from 1 to 6"), e)
    end
  end)

  it("seeds: splitmix64 of (run seed, point), in 0 .. 2^63 - 1, distinct for neighbours", function()
    local seen = {}
    for i = 1, 100 do
      local s = nm.explore.seed(1, i)
      assert.is_true(math.type(s) == "integer" and s >= 0)
      assert.is_nil(seen[s])
      seen[s] = true
    end
    assert.are_not.equal(nm.explore.seed(1, 2), nm.explore.seed(2, 1))
    assert.equals(nm.explore.seed(3, 2), nm.explore.seed(3.0, 2.0))
  end)

  it("seeds: a base or a point that is not a whole number in range is an error at the user's line", function()
    -- (before: "a" raised in explore/search.lua, -1 and 1.5 gave seeds)
    for _, c in ipairs { { "a", 1, "the base seed must be a whole number, got \"a\" (a string)" },
                         { -1, 1, "the base seed must be between 0 and 9223372036854775807, got -1" },
                         { 1.5, 1, "the base seed must be a whole number, got 1.5" },
                         { 1, 0, "the point i (from 1) must be between 1 and 9223372036854775807, got 0" } } do
      local e = h.error_of(function() local _ = nm.explore.seed(c[1], c[2]) end)
      assert.truthy(e:find("^[^:]*explore_spec%.lua:%d+: explore%.seed: " .. c[3]:gsub("%p", "%%%0")), e)
    end
  end)
end)

describe("nm.explore.BoxSearch", function()
  teardown(h.remove_scratch)

  local function fresh()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", SCRIPT)
    return dir
  end

  local one = fresh()
  local status, stdout, err = run(one, "--workers 1")
  local table1 = read(one .. "/sweep/results.csv")

  it("results.csv: the contract's header, one row per point in point order, failures recorded", function()
    assert.equals(0, status, err)
    assert.equals("6 rows\n", stdout)
    local lines = {}
    for l in table1:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equals(7, #lines)
    assert.equals("point,x_ext,sigma_ou,seed,max_x,mean_x,samples,status", lines[1])
    local want = { { "0.5", "0" }, { "0.5", "0.05" }, { "0.5", "0.1" }, { "0.75", "0" }, { "0.75", "0.05" }, { "0.75", "0.1" } }
    for i = 1, 6 do
      local c = {}
      for cell in (lines[i + 1] .. ","):gmatch("(.-),") do c[#c + 1] = cell end
      assert.equals(tostring(i), c[1])
      assert.same(want[i], { c[2], c[3] })
      assert.equals(string.format("%d", nm.explore.seed(3, i)), c[4])
      if i == 5 then
        assert.equals("", c[5])
        assert.truthy(lines[6]:find(',failed: sweep.lua:%d+: boom at this point$'), lines[6])
      else
        assert.equals("500", c[7])
        assert.equals("ok", c[8])
        assert.equals(tonumber(c[5]), tonumber(string.format("%.17g", tonumber(c[5]))))
      end
    end
    assert.equals(6, evals(one))
  end)

  -- Runs the 3 tasks of a Slurm array (in the order `order`, default 0, 1, 2; env(task): the
  -- variables Slurm sets for task I), each writing its part task-I-of-3.csv; merged, the table
  -- is table1 bit for bit.
  local function array_merged(env, order)
    local arr = fresh()
    for _, task in ipairs(order or { 0, 1, 2 }) do
      local s, out, e = run(arr, "", env(task))
      assert.equals(0, s, e)
      assert.equals("", out)       -- a task ends the script after its part
      local part = string.format("%s/sweep/parts/task-%d-of-3.csv", arr, task)
      assert.truthy(io.open(part, "r"), part)
    end
    assert.equals(6, evals(arr))
    local sm, out, em = h.sh(q(h.exe) .. " explore --merge " .. q(arr .. "/sweep"))
    assert.equals(0, sm, em)
    assert.truthy(out:find("6 rows (3 parts joined)", 1, true), out)
    assert.equals(table1, read(arr .. "/sweep/results.csv"))
    assert.is_nil(io.open(arr .. "/sweep/parts/task-0-of-3.csv", "r"))
  end

  it("2 workers, and a 3-task Slurm array merged, give the same table bit for bit", function()
    local two = fresh()
    local s2, _, e2 = run(two, "--workers 2")
    assert.equals(0, s2, e2)
    assert.equals(table1, read(two .. "/sweep/results.csv"))
    local n, processes = evals(two)
    assert.equals(6, n)                  -- each point once, by whichever worker took it
    assert.is_true(processes <= 2)
    array_merged(function(task) return "SLURM_ARRAY_TASK_ID=" .. (task + 1) .. " SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=3" end)
  end)

  -- sbatch --array=0-8:4: the tasks are numbered 0, 4, 8 (SLURM_ARRAY_TASK_STEP=4); task
  -- (ID - MIN) / STEP of COUNT. Before, ID - MIN = 4 was refused as "task 4 is not one of 0 to 2".
  it("a stepped Slurm array (--array=0-8:4) of 3 tasks, merged, gives the same table bit for bit", function()
    array_merged(function(task) return "SLURM_ARRAY_TASK_ID=" .. (4 * task) .. " SLURM_ARRAY_TASK_MIN=0" ..
                                        " SLURM_ARRAY_TASK_MAX=8 SLURM_ARRAY_TASK_STEP=4 SLURM_ARRAY_TASK_COUNT=3" end,
                 { 2, 0, 1 })
  end)

  it("a Slurm array task with SLURM_ARRAY_TASK_ID but no COUNT (or the reverse), or of a list array, is refused",
     function()
    local dir = fresh()
    -- before: ID alone fell back to workers, every array task computing the whole sweep into one table
    for _, env in ipairs { "SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=3" } do
      local s, out, e = run(dir, "", env)
      assert.equals(1, s, e)
      assert.equals("", out)
      assert.truthy(e:find("sweep.lua:%d+: explore: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT go together"), e)
      assert.truthy(e:find("got only " .. env, 1, true), e)
    end
    -- --array=1,5,7: Slurm sets MIN=1, MAX=7, COUNT=3; no STEP makes 1, 5, 7 a range
    for _, step in ipairs { "", " SLURM_ARRAY_TASK_STEP=1", " SLURM_ARRAY_TASK_STEP=3" } do
      local s, _, e = run(dir, "", "SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=7" ..
                                   " SLURM_ARRAY_TASK_COUNT=3" .. step)
      assert.equals(1, s, e)
      assert.truthy(e:find("sweep.lua:%d+: explore: the Slurm array task SLURM_ARRAY_TASK_ID=5 is not one of a range"),
                    e)
      assert.truthy(e:find("submit a plain range (--array=0-2) or give --task I --ntasks N", 1, true), e)
    end
    assert.equals(0, evals(dir))
    assert.is_nil(io.open(dir .. "/sweep/results.csv", "r"))
  end)

  it("mpirun -np 2 gives the same table bit for bit, and resumes", function()
    local why = h.mpi_missing()
    if why then return pending(why) end
    local mpirun = h.MPIRUN
    local dir = fresh()
    local s, out, e = run(dir, "", mpirun)
    assert.equals(0, s, e)
    assert.equals("6 rows\n6 rows\n", out)       -- every rank returns the whole table
    assert.equals(table1, read(dir .. "/sweep/results.csv"))
    local n, processes = evals(dir)
    assert.equals(6, n)
    assert.equals(2, processes)
    s, out, e = run(dir, "", mpirun)             -- complete: nothing computed
    assert.equals(0, s, e)
    assert.equals("6 rows\n6 rows\n", out)
    assert.equals(6, (evals(dir)))
    s, out, e = run(dir, "--workers 2", mpirun)
    assert.equals("", out)
    assert.not_equals(0, s)
    assert.truthy(e:find("under mpirun the ranks spread the points", 1, true), e)
  end)

  it("resumes: a rerun computes only the missing points, and failed rows are kept", function()
    local dir = fresh()
    h.sh("mkdir -p " .. q(dir .. "/sweep"))
    local kept = {}
    for l in table1:gmatch("[^\n]+") do
      if not (l:match("^2,") or l:match("^6,")) then kept[#kept + 1] = l end
    end
    h.write(dir .. "/sweep/results.csv", table.concat(kept, "\n") .. "\n")
    local s, _, e = run(dir, "--workers 2")
    assert.equals(0, s, e)
    assert.equals(2, evals(dir))
    assert.equals(table1, read(dir .. "/sweep/results.csv"))
    s, _, e = run(dir, "--workers 1")      -- complete: nothing computed
    assert.equals(0, s, e)
    assert.equals(2, evals(dir))
  end)

  it("resumes from the parts an interrupted run left (workers, tasks): joined, then the rest computed", function()
    local dir = fresh()
    h.sh("mkdir -p " .. q(dir .. "/sweep/parts"))
    local lines = {}
    for l in table1:gmatch("[^\n]+") do lines[#lines + 1] = l end
    h.write(dir .. "/sweep/results.csv", table.concat({ lines[1], lines[2], lines[3] }, "\n") .. "\n")
    h.write(dir .. "/sweep/parts/task-1-of-3.csv", table.concat({ lines[1], lines[5], lines[6] }, "\n") .. "\n")
    local s, _, e = run(dir, "--workers 1")
    assert.equals(0, s, e)
    assert.equals(2, evals(dir))          -- points 3 and 6
    assert.equals(table1, read(dir .. "/sweep/results.csv"))
    assert.is_nil(io.open(dir .. "/sweep/parts/task-1-of-3.csv", "r"))
  end)

  -- A run killed with its workers before they wrote a part (kill -9 of all,
  -- a job's time limit) leaves their claims and the count of points alone.
  it("a complete run removes the claims a killed run's workers left without a part (1 worker, and 2)", function()
    for _, workers in ipairs { "1", "2" } do
      local dir = fresh()
      h.sh("mkdir -p " .. q(dir .. "/sweep/parts/claims") .. " && touch " .. q(dir .. "/sweep/parts/claims/1") .. " " ..
           q(dir .. "/sweep/parts/claims/2"))
      h.write(dir .. "/sweep/parts/points.txt", "6 3\n")
      local s, _, e = run(dir, "--workers " .. workers)
      assert.equals(0, s, e)
      assert.equals(table1, read(dir .. "/sweep/results.csv"))
      -- (before, with 1 worker: parts/claims/1, 2 and parts/points.txt left beside the complete table)
      assert.is_nil(io.open(dir .. "/sweep/parts", "r"), workers)
    end
  end)

  it("a script of two explorations on 2 workers: each point evaluated once, failures not retried by workers", function()
    local dir = h.scratch()
    h.write(dir .. "/two.lua", [[
local nm = require "neuromass"
local function search(out, vals)
  return nm.explore.BoxSearch {
    model = function() return nm.models.fhn.native {} end,
    space = nm.explore.ParameterSpace { x_ext = vals },
    run = { duration = 20, dt = 0.1 }, retry_failed = true,
    evaluate = function(res, p)
      local f = io.open("evals.txt", "a"); f:write(out, " ", p.x_ext, "\n"); f:close()
      if p.x_ext == 0.5 then error("no") end
      return { one = 1 }
    end,
    out = out }:run()
end
local a = search("first", { 0.5, 0.6, 0.7 })
if nm.explore.is_main() then local f = io.open("between.txt", "a"); f:write("once\n"); f:close() end
if arg[1] == "skip" and os.getenv("NEUROMASS_EXPLORE_WORKER") then return end
local b = search("second", { 1, 2, 3, 4 })
print(#a.rows, #b.rows, a.rows[1].ok, b.rows[4].ok)
]])
    local s, out, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run two.lua --workers 2 --quiet")
    assert.equals(0, s, e)
    assert.equals("3\t4\tfalse\ttrue\n", out)
    assert.equals(7, evals(dir))
    -- is_main() is false in the workers (of the second exploration): what it guards runs once
    assert.equals("once\n", read(dir .. "/between.txt"))
    -- a worker whose script skips its exploration computed nothing: an error naming the points
    os.remove(dir .. "/second/results.csv")
    s, out, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run two.lua --workers 2 --quiet skip")
    assert.are_not.equal(0, s)
    assert.equals("", out)
    assert.truthy(e:find("two.lua:17: BoxSearch: the worker processes ended without computing 4 points " ..
                         "(1, 2, 3, 4)", 1, true), e)
  end)

  -- A new user's costly prelude (a target FC) ran once per worker plus once, which the docs said
  -- only under nm.explore.is_main() in the reference: README's exploration section and
  -- docs/explore.md now say it by their first example, with the is_main() pattern.
  it("the code before the exploration runs in the script's process and each worker; is_main() keeps it to one",
     function()
    local dir = h.scratch()
    h.write(dir .. "/prelude.lua", [[
local nm = require "neuromass"
local f = io.open("prelude.txt", "a"); f:write(nm.explore.is_main() and "main\n" or "worker\n"); f:close()
nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end, out = "p",
  space = nm.explore.ParameterSpace { x_ext = { 0, 1, 2 } }, run = { duration = 1, dt = 0.1 },
  evaluate = function() return { one = 1 } end }:run()
]])
    local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run prelude.lua --quiet --workers 2")
    assert.equals(0, s, e)
    local lines = read(dir .. "/prelude.txt")
    assert.equals(1, select(2, lines:gsub("main\n", "")), lines)
    assert.equals(2, select(2, lines:gsub("worker\n", "")), lines)
    -- what the docs say, near their first example (before the space's section)
    local readme = read(h.top .. "/README.md")
    local section = readme:match("\n## Exploring parameters\n(.-)\n### ")
    assert.truthy(section:find("runs again in each worker process", 1, true))
    assert.truthy(section:find("if nm.explore.is_main() then", 1, true))
    local first = read(h.top .. "/docs/explore.md"):match("^(.-)\n## The space\n")
    assert.truthy(first:find("**your script run again**", 1, true))
    assert.truthy(first:find("if nm.explore.is_main() then", 1, true))
  end)

  it("a point failed by an error value that is not a string: its status shows the value, never an address", function()
    local dir = h.scratch()
    local obj = setmetatable({}, { __tostring = function() return "my error" end })
    local r = nm.explore.BoxSearch {
      model = function() return nm.models.fhn.native {} end,
      space = nm.explore.ParameterSpace { x_ext = { 0.5, 0.6, 0.7 } },
      run = { duration = 1, dt = 0.1 }, progress = false,
      evaluate = function(_, p)
        if p.x_ext == 0.5 then error({ code = 1 }) elseif p.x_ext == 0.6 then error(obj) end
        error(42)
      end,
      out = dir .. "/objects" }:run()
    assert.same({ "failed: { code = 1 }", "failed: my error", "failed: 42" },
                { r.rows[1].status, r.rows[2].status, r.rows[3].status })
  end)

  it("out through '..': the folder the system makes (beside a link's target), as output files", function()
    -- 'link/../fit' is the parent of the link's target as mkdir -p takes it (before: ./fit,
    -- the lexical reading), and nm.explore.load finds it there
    local dir = h.scratch()
    os.execute("mkdir -p '" .. dir .. "/far/deep' && ln -s '" .. dir .. "/far/deep' '" .. dir .. "/link'")
    local r = nm.explore.BoxSearch {
      model = function() return nm.models.fhn.native {} end,
      space = nm.explore.ParameterSpace { x_ext = { 0.5 } },
      run = { duration = 1, dt = 0.1 }, progress = false,
      evaluate = function() return { one = 1 } end,
      out = dir .. "/link/../fit" }:run()
    assert.equals(dir .. "/far/fit", r.dir)
    assert.truthy(read(dir .. "/far/fit/results.csv"))
    assert.is_nil(io.open(dir .. "/fit/results.csv"))
    assert.equals(1, #nm.explore.load(dir .. "/link/../fit").rows)
  end)

  it("a value of the space that its parameter refuses is an error before any point runs", function()
    -- (it was raised at its point, after the points before it ran: their rows, of a space the user
    -- must now change, kept in a table the changed space refuses)
    local dir, calls = h.scratch(), 0
    local ok, e = pcall(function()
      return nm.explore.BoxSearch {
        model = function() return nm.models.fhn.native {} end,
        space = nm.explore.ParameterSpace({ { "x_ext", { 0.5, 0.6 } }, { "sigma_ou", { 0, 0.05, -1 } } }),
        run = { duration = 1, dt = 0.1 }, progress = false,
        evaluate = function() calls = calls + 1; return { one = 1 } end,
        out = dir .. "/sweep" }:run()
    end)
    assert.is_false(ok)
    assert.matches("explore_spec%.lua:%d+: BoxSearch: the space's parameter 'sigma_ou' = %-1 %(value 3 of its list%): " ..
                   "'sigma_ou' is a noise sigma: it must be >= 0, got %-1$", e)
    assert.equals(0, calls)
  end)

  it("explore.load of a file or a missing folder says so (it said: cannot list '.../parts')", function()
    local dir = h.scratch()
    h.write(dir .. "/afile", "not a folder\n")
    local ok, msg = pcall(nm.explore.load, dir .. "/afile")
    assert.is_false(ok)
    assert.matches("explore%.load: '[^']*/afile' is not a directory %(a file%)$", msg)
    ok, msg = pcall(nm.explore.load, dir .. "/none")
    assert.is_false(ok)
    assert.matches("explore%.load: '[^']*/none' is not a directory %(it does not exist%)$", msg)
  end)

  it("results.csv: a subnormal number in its shortest exact form", function()
    local dir = h.scratch()
    nm.explore.BoxSearch {
      model = function() return nm.models.fhn.native {} end,
      space = nm.explore.ParameterSpace { x_ext = { 0.5 } },
      run = { duration = 1, dt = 0.1 },
      evaluate = function() return { tiny = 1e-320, least = -5e-324 } end,
      out = dir .. "/sub" }:run()
    assert.truthy(read(dir .. "/sub/results.csv"):find(",-5e-324,1e-320,ok\n", 1, true))
  end)

  it("save = { \"csv\", \"bold\", \"fc\" }: each point's files under out/points/<i>/, the same from 2 workers", function()
    local texts = {}
    for _, workers in ipairs { 1, 2 } do
      local dir = h.scratch()
      h.write(dir .. "/save.lua", [[
local nm = require "neuromass"
nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 5 }, { 5, 0 } } } end,
  space = nm.explore.ParameterSpace { K_gl = { 0.2, 0.4 } },
  run = { duration = 6000, dt = 0.1, sampling_dt = 10, bold = true, seed = 1 },
  evaluate = function(res) return { n_bold = #res.t_BOLD } end,
  save = { "csv", "bold", "fc" }, out = "saved",
}:run()
]])
      local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run save.lua --quiet --workers " .. workers)
      assert.equals(0, s, e)
      local bold = h.read_csv(dir .. "/saved/points/2/bold.csv")
      assert.same({ "t_BOLD", "BOLD_0", "BOLD_1" }, bold.header)
      assert.equals(3, bold.rows)
      local fc = nm.func.fc({ bold.cols.BOLD_0, bold.cols.BOLD_1 })
      local lines = {}
      for l in read(dir .. "/saved/points/2/fc.csv"):gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.equals(2, #lines)
      for r = 1, 2 do
        local c = 0
        for cell in lines[r]:gmatch("[^,]+") do c = c + 1; assert.equals(fc[r][c], tonumber(cell)) end
        assert.equals(2, c)
      end
      assert.same({ "t", "x.0", "x.1", "y.0", "y.1" }, h.read_csv(dir .. "/saved/points/1/result.csv").header)
      texts[workers] = read(dir .. "/saved/results.csv") .. read(dir .. "/saved/points/1/result.csv") ..
                       read(dir .. "/saved/points/2/fc.csv")
    end
    assert.equals(texts[1], texts[2])
  end)

  it("save = { fc = { skip = N } } drops BOLD's first N samples from the saved FC, as nm.func.fc's skip", function()
    local dir = h.scratch()
    h.write(dir .. "/skip.lua", [[
local nm = require "neuromass"
nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 5 }, { 5, 0 } } } end,
  space = nm.explore.ParameterSpace { K_gl = { 0.4 } },
  run = { duration = 10000, dt = 0.1, sampling_dt = 10, bold = true, seed = 1 },
  evaluate = function(res) return { n_bold = #res.t_BOLD } end,
  save = { "bold", fc = { skip = 2 } }, out = "saved",
}:run()
]])
    local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run skip.lua --quiet --workers 1")
    assert.equals(0, s, e)
    local bold = h.read_csv(dir .. "/saved/points/1/bold.csv")
    assert.equals(5, bold.rows)
    local cols = { bold.cols.BOLD_0, bold.cols.BOLD_1 }
    local want, whole = nm.func.fc(cols, { skip = 2 }), nm.func.fc(cols)
    assert.are_not.equal(whole[1][2], want[1][2])        -- (the skip matters here)
    local r = 0
    for l in read(dir .. "/saved/points/1/fc.csv"):gmatch("[^\n]+") do
      r = r + 1
      local c = 0
      for cell in l:gmatch("[^,]+") do c = c + 1; assert.equals(want[r][c], tonumber(cell)) end
    end
    assert.equals(2, r)
  end)

  it("save's fc skip that leaves no BOLD sample is an error at the user's line before any point runs", function()
    -- (it was nm.func.fc's error after each point's run, from every worker, the points' runs lost)
    local dir = h.scratch()
    h.write(dir .. "/skip.lua", [[
local nm = require "neuromass"
local search = nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 5 }, { 5, 0 } } } end,
  space = nm.explore.ParameterSpace { K_gl = { 0.2, 0.4 } },
  run = { duration = tonumber(arg[1]), dt = 0.1, sampling_dt = 10, bold = true, seed = 1 },
  evaluate = function(res) return { n_bold = #res.t_BOLD } end,
  save = { "bold", fc = { skip = 4 } }, out = "saved",
}
search:run()
]])
    for _, workers in ipairs { 1, 2 } do
      local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run skip.lua 8000 --quiet --workers " .. workers)
      assert.are_not.equal(0, s)
      assert.equals("neuromass: skip.lua:9: BoxSearch: save's fc = { skip = 4 } drops every BOLD sample of the " ..
                    "run: it has 4 (one every 2 s from t = 0.1 ms: duration = 8000 ms, dt = 0.1 ms); skip fewer\n", e)
      assert.falsy(io.open(dir .. "/saved/points/1/bold.csv"))
    end
    -- a run with no BOLD sample at all (0.1 ms) is refused as well; 10000 ms leave one
    local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run skip.lua 0.1 --quiet --workers 1")
    assert.are_not.equal(0, s)
    assert.truthy(e:find("drops every BOLD sample of the run: it has 0 (", 1, true), e)
    s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run skip.lua 10000 --quiet --workers 1")
    assert.equals(0, s, e)
  end)

  it("save = { \"csv\" } keeps the result in memory too: evaluate reads its variables as without save", function()
    local dir = h.scratch()
    h.write(dir .. "/savecsv.lua", [==[
local nm = require "neuromass"
nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 0 }, { 0, 0 } } } end,
  space = nm.explore.ParameterSpace { K_gl = { 0.2, 0.4 } },
  run = { duration = 20, dt = 0.1, seed = 1 },
  evaluate = function(res) local x = res:matrix("x"); return { last_x = x[2][#x[2]], n = #x[1] } end,
  save = { arg[1] ~= "none" and "csv" or nil }, out = "saved",
}:run()
]==])
    local texts = {}
    for _, mode in ipairs { "csv", "none" } do
      local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run savecsv.lua --quiet --workers 1 " .. mode ..
                           " && mv saved saved-" .. mode)
      assert.equals(0, s, e)
      texts[mode] = read(dir .. "/saved-" .. mode .. "/results.csv")
    end
    assert.truthy(texts.csv:find(",200,ok\n", 1, true), texts.csv)
    assert.equals(texts.none, texts.csv)
    local csv = h.read_csv(dir .. "/saved-csv/points/2/result.csv")
    assert.same({ "t", "x.0", "x.1", "y.0", "y.1" }, csv.header)
    assert.equals(200, csv.rows)
  end)

  it("a stop signal (Ctrl-C) stops the exploration: the points done are kept, none recorded as failed", function()
    local dir = h.scratch()
    h.write(dir .. "/stop.lua", [[
local nm = require "neuromass"
nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace { x_ext = { 0.1, 0.2, 0.3, 0.4, 0.5 } },
  run = { duration = 20, dt = 0.1 },
  evaluate = function(res, p)
    local f = io.open("evals.txt", "a"); f:write(p.x_ext, " 0\n"); f:close()
    if p.x_ext == 0.3 and not io.open("stopped", "r") then
      io.open("stopped", "w"):close()
]] .. h.STOP_SELF .. [[
    end
    return { one = 1 }
  end,
  out = "stop" }:run()
]])
    local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run stop.lua --workers 1 --quiet")
    assert.equals(143, s, e)
    assert.truthy(e:find("stop.lua:%d+: BoxSearch: interrupted by SIGTERM; the points done are kept in [^\n]*" ..
                         "/stop/results%.partial%.csv: run again to compute the rest\n"), e)
    -- (the rows done under a name that says they are not all: no results.csv)
    assert.is_nil(io.open(dir .. "/stop/results.csv"))
    local t = read(dir .. "/stop/results.partial.csv")
    assert.is_nil(t:find("failed", 1, true), t)
    assert.equals(3, select(2, t:gsub("\n", "")))           -- the header and points 1, 2
    s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run stop.lua --workers 1 --quiet")
    assert.equals(0, s, e)
    assert.equals(6, evals(dir))                              -- 1, 2, 3 (stopped), then 3, 4, 5
    assert.equals(6, select(2, read(dir .. "/stop/results.csv"):gsub("\n", "")))
    assert.is_nil(io.open(dir .. "/stop/results.partial.csv"))   -- (whole now: the one table)
  end)

  -- Workers share the points out as they go (spread.claim), not by fixed
  -- slices: a worker held by a slow point leaves the rest to the others.
  -- Point 1 waits (up to 30 s) until point 3 is done: the worker that took
  -- point 1 would have point 3 too in a fixed slice of two (points 1, 3),
  -- and would wait for itself.
  it("workers share the points as they go: one held by a slow point leaves the rest to the other", function()
    local dir = h.scratch()
    h.write(dir .. "/slow.lua", four_points("slow", [[function(_, p)
    local f = assert(io.open("evals.txt", "a"))
    f:write(p.x_ext, " ", io.open("/proc/self/stat"):read("n"), "\n"); f:close()
    if p.x_ext == 0 then
      for _ = 1, 600 do
        local done = io.open("point3.done")
        if done then done:close(); return { m = 0 } end
        os.execute("sleep 0.05")
      end
      error("point 3 was not done in 30 s")
    end
    if p.x_ext == 1 then assert(io.open("point3.done", "w")):close() end
    return { m = p.x_ext }
  end]]))
    local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run slow.lua --quiet --workers 2")
    assert.equals(0, s, e)
    assert.equals("point,x_ext,seed,m,status|1,0|2,0.5|3,1|4,1.5|",
                  (read(dir .. "/slow/results.csv"):gsub(",%d+,[%d.]+,ok\n", "|"):gsub("\n", "|")))
    local by = {}
    for x, pid in read(dir .. "/evals.txt"):gmatch("(%S+) (%d+)\n") do by[tonumber(x)] = pid end
    assert.not_equals(by[0], by[0.5])            -- point 1's worker did point 1 alone
    assert.equals(by[0.5], by[1])
    assert.equals(by[0.5], by[1.5])
    assert.is_nil(io.open(dir .. "/slow/parts", "r"))     -- the claims removed with the parts
  end)

  -- With batch = K a worker takes no more than its share of the points
  -- left (1/N of them): counted from the first point it takes, not from
  -- where it stood, which counted the points the others had taken.  Here a
  -- worker of 2 starts with points 1 to 12 of 16 taken: 2 points left
  -- each, so its batches are 13 and 14, then 15, then 16.
  it("batch = K: a worker that starts late takes its share of the points left, not of those it skipped", function()
    local dir = h.scratch()
    h.write(dir .. "/late.lua", [[
local nm = require "neuromass"
local function log(what, p)
  local f = assert(io.open("evals.txt", "a")); f:write(what, math.floor(p.x_ext), " "); f:close()
end
nm.explore.BoxSearch { space = nm.explore.ParameterSpace { x_ext = nm.explore.linspace(1, 16, 16) }, out = "late",
  model = function(p) log("m", p); return nm.models.fhn.native {} end, run = { duration = 1, dt = 0.1 }, batch = 8,
  evaluate = function(_, p) log("e", p); return { m = p.x_ext } end }:run()
]])
    h.sh("mkdir -p " .. q(dir .. "/late/parts/claims") .. " && cd " .. q(dir .. "/late/parts/claims") ..
         " && touch 1 2 3 4 5 6 7 8 9 10 11 12")
    local s, _, e = h.sh("cd " .. q(dir) .. " && NEUROMASS_EXPLORE_WORKER=1 " .. q(h.exe) ..
                         " run --task 0 --ntasks 2 --quiet late.lua >/dev/null")
    assert.equals(0, s, e)
    -- (before: m13 m14 m15 m16 e13 e14 e15 e16, one batch of the 4 points left)
    assert.equals("m13 m14 e13 e14 m15 e15 m16 e16 ", read(dir .. "/evals.txt"))
  end)

  -- Two runs exploring one folder at once cleared each other's claims and
  -- overwrote each other's parts (task-I-of-N.csv: the same names), computed
  -- points twice, and the second failed saying its script must not return
  -- early; an Evolution there removed the table.  One run at a time now:
  -- while point 1 runs in a worker of 2, another BoxSearch and an
  -- Evolution in the same folder are refused at their line.
  it("a second run exploring the folder while the workers run is refused, the first one's table whole", function()
    local dir = h.scratch()
    h.write(dir .. "/other.lua", [[
local nm = require "neuromass"
if arg[1] == "box" then
  nm.explore.BoxSearch { space = nm.explore.ParameterSpace { x_ext = { 0, 0.5 } }, out = "busy",
    model = function() return nm.models.fhn.native {} end, run = { duration = 1, dt = 0.1 },
    evaluate = function() return { m = 1 } end }:run()
else
  nm.explore.Evolution { model = function() return nm.models.fhn.native {} end, run = { duration = 1, dt = 0.1 },
    parameters = { x_ext = { 0, 1 } }, evaluations = 2, fitness = function() return 1 end, out = "busy" }:run()
end
]])
    h.write(dir .. "/busy.lua", four_points("busy", [[function(_, p)
    if p.x_ext == 0 then
      for _, kind in ipairs { "box", "fit" } do
        os.execute("env -u NEUROMASS_EXPLORE_WORKER \"$OTHER_EXE\" run other.lua --quiet -- " .. kind ..
                   " 2>> other.txt; echo $? >> other.txt")
      end
    end
    return { m = p.x_ext }
  end]]))
    local s, _, e = h.sh("cd " .. q(dir) .. " && OTHER_EXE=" .. q(h.exe) .. " " .. q(h.exe) ..
                         " run busy.lua --quiet --workers 2")
    assert.equals(0, s, e)
    local other = read(dir .. "/other.txt")
    -- (before: 0 for the BoxSearch, which ran its points into the folder, then the Evolution's 0)
    assert.equals("1\n1\n", (other:gsub("[^\n]*another run is exploring '[^']*/busy' %(held by its script's " ..
                                           "process %d+ %(running%) and its worker processes %d+ and %d+ %([^)]*running%)" ..
                                           "%): wait for it to end or stop it %(kill [%d ]+%), or choose another " ..
                                           "out\n", "")), other)
    assert.truthy(other:find("other.lua:3: BoxSearch: another run", 1, true), other)
    assert.truthy(other:find("other.lua:7: Evolution: another run", 1, true), other)
    assert.equals("point,x_ext,seed,m,status|1,0|2,0.5|3,1|4,1.5|",
                  (read(dir .. "/busy/results.csv"):gsub(",%d+,[%d.]+,ok\n", "|"):gsub("\n", "|")))
  end)

  -- The script's process killed (kill -9), its workers still finishing
  -- their points hold the folder: the second run's message named no
  -- process, so the user could not tell what to wait for or stop.  The
  -- lock's record (busy/explore.lock) names them, and whether they run.
  it("a run refused a folder that a killed script's workers hold names their processes, and the script's as ended",
     function()
    local dir = h.scratch()
    h.write(dir .. "/other.lua", [[
local nm = require "neuromass"
nm.explore.BoxSearch { space = nm.explore.ParameterSpace { x_ext = { 0, 0.5 } }, out = "busy",
  model = function() return nm.models.fhn.native {} end, run = { duration = 1, dt = 0.1 },
  evaluate = function() return { m = 1 } end }:run()
]])
    -- point 1's worker kills the script's process, then runs other.lua; point 2's waits for it to end
    h.write(dir .. "/busy.lua", "if require('neuromass').explore.is_main() then local f = io.open('script.pid', " ..
            "'w'); f:write(io.open('/proc/self/stat'):read('n')); f:close() end\n" .. four_points("busy", [[function(_, p)
    local me = io.open("/proc/self/stat"):read("n")
    if p.x_ext == 0 then
      os.execute("kill -9 $(cat script.pid); sleep 0.2")
      os.execute("env -u NEUROMASS_EXPLORE_WORKER \"$OTHER_EXE\" run other.lua --quiet 2> other.txt; a=$?; " ..
                 "env -u NEUROMASS_EXPLORE_WORKER \"$OTHER_EXE\" run other.lua --quiet --task 0 --ntasks 2 " ..
                 "2>> other.txt; echo $a $? " .. me .. " > other.done")
    elseif p.x_ext == 0.5 then
      os.execute("while [ ! -e other.done ]; do sleep 0.05; done; echo " .. me .. " > second.pid")
    end
    return { m = p.x_ext }
  end]]))
    local s = h.sh("cd " .. q(dir) .. " && OTHER_EXE=" .. q(h.exe) .. " " .. q(h.exe) ..
                   " run busy.lua --quiet --workers 2")
    assert.equals(137, s)
    for _ = 1, 200 do                   -- (the workers, in a session of their own, go on)
      if io.open(dir .. "/second.pid") then break end
      h.sh("sleep 0.05")
    end
    local refused, task_refused, first = read(dir .. "/other.done"):match("^(%d+) (%d+) (%d+)")
    local second, script = read(dir .. "/second.pid"):match("%d+"), read(dir .. "/script.pid")
    local other = read(dir .. "/other.txt")
    assert.equals("1", refused, other)
    assert.equals("1", task_refused, other)       -- (an array task too: it would compute the workers' points)
    -- (before: "(its script's process or its workers hold the folder)", no process named)
    local function said(a, b)         -- (the workers in the order they started: either took point 1)
      local line = "other.lua:2: BoxSearch: another run is exploring '" .. dir .. "/busy' (held by its " ..
                   "script's process " .. script .. " (ended) and its worker processes " .. a .. " and " .. b ..
                   " (running)): wait for it to end or stop it (kill " .. a .. " " .. b .. "), or choose " ..
                   "another out\n"
      local _, times = other:gsub(line:gsub("%p", "%%%0"), "")
      return times == 2
    end
    assert.truthy(said(first, second) or said(second, first), other)
  end)

  -- Runs task 0 of 2 of a four-point sweep into DIR/busy, whose evaluate of
  -- point 1 runs the shell `command` (OTHER_EXE: the neuromass executable)
  -- in DIR: sh's status, stdout, stderr.
  local function during_task(dir, command)
    h.write(dir .. "/busy.lua", four_points("busy", string.format([[function(_, p)
    if p.x_ext == 0 then os.execute(%q) end
    return { m = p.x_ext }
  end]], command)))
    return h.sh("cd " .. q(dir) .. " && OTHER_EXE=" .. q(h.exe) .. " " .. q(h.exe) ..
                " run busy.lua --quiet --task 0 --ntasks 2")
  end

  -- The tasks of an array share the folder, and hold it against a run: a
  -- run there while a task computes would join and remove its part and
  -- compute its points again.
  it("a run exploring the folder while an array task computes is refused; the other tasks are not", function()
    local dir = h.scratch()
    h.write(dir .. "/other.lua", [[
local nm = require "neuromass"
nm.explore.BoxSearch { space = nm.explore.ParameterSpace { x_ext = { 0, 0.5, 1, 1.5 } }, out = "busy",
  model = function() return nm.models.fhn.native {} end, run = { duration = 1, dt = 0.1 },
  evaluate = function() return { m = 1 } end }:run()
]])
    local s, _, e = during_task(dir, "\"$OTHER_EXE\" run other.lua --quiet --workers 1 2> other.txt; a=$?; " ..
                                "\"$OTHER_EXE\" run other.lua --quiet --task 1 --ntasks 2 2>> other.txt; " ..
                                "echo $a $? > other.done")
    assert.equals(0, s, e)
    local other = read(dir .. "/other.txt")
    -- (before: 0 0, the run joining task 0's part, which had no row yet, and computing its points)
    assert.equals("1 0\n", read(dir .. "/other.done"), other)
    assert.truthy(other:find("other.lua:2: BoxSearch: another run is exploring '" .. dir .. "/busy' (its script's " ..
                             "process or its workers, or the tasks of an array (--task), hold the folder): wait for " ..
                             "it to end, or choose another out\n", 1, true), other)
    s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/busy"))
    assert.equals(0, s, e)
  end)

  -- A merge while an array's tasks (or a run) still explore the folder
  -- joined what was there: a table short of the points being computed, or
  -- a part removed that its task then wrote again.  It is refused, as a run is.
  it("explore --merge is refused while a task explores the folder, naming who holds it", function()
    local dir = h.scratch()
    local s, _, e = during_task(dir, "\"$OTHER_EXE\" explore --merge busy > merge.txt 2>&1; echo $? > merge.done")
    assert.equals(0, s, e)
    local said = read(dir .. "/merge.txt")
    -- (before: "'busy' holds no results.csv and no parts/task-I-of-N.csv", or a partial join once the
    -- task had written its part, with no word of the task still running)
    assert.equals("1\n", read(dir .. "/merge.done"), said)
    assert.truthy(said:find("another run is exploring 'busy' (its script's process or its workers, " ..
                            "or the tasks of an array (--task), hold the folder): wait for it to end, then merge " ..
                            "again\n", 1, true), said)
    assert.is_nil(io.open(dir .. "/busy/results.partial.csv"))
    s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run busy.lua --quiet --task 1 --ntasks 2 && " ..
                   q(h.exe) .. " explore --merge busy")
    assert.equals(0, s, e)
  end)

  -- A process killed outright (kill -9) during a point with save = { "csv" }
  -- left points/<i>/result.csv.tmp-PID for good: no later run removed it.
  describe("the temporary files killed processes left", function()
    local core = require "neuromass.core"
    local host = core.temp_name("x"):match("^x%.tmp%-%d+%.(.+)$")
    local LONG = [[
local nm = require "neuromass"
nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end,
  run = { duration = tonumber(os.getenv("DUR")), dt = 0.1 }, save = { "csv" },
  space = nm.explore.ParameterSpace { x_ext = { 0, 1, 2, 3 } }, out = "sw",
  evaluate = function() return { m = 1 } end }:run()
]]
    -- The temporary files under DIR/sw, sorted.
    local function temps(dir)
      local _, out = h.sh("cd " .. q(dir) .. " && find sw -name '*.tmp-*' | sort")
      return out
    end
    local function dead_pid()
      local _, out = h.sh("sh -c 'echo $$'")
      return out:match("%d+")
    end

    it("are removed by the next run, which holds the folder alone", function()
      local dir = h.scratch()
      h.write(dir .. "/long.lua", LONG)
      local s = h.sh("cd " .. q(dir) .. " && (DUR=1e7 " .. q(h.exe) .. " run long.lua --quiet --workers 1 & " ..
                     "pid=$!; n=0; until ls sw/points/1/result.csv.tmp-* >/dev/null 2>&1 || [ $n -gt 400 ]; do " ..
                     "sleep 0.05; n=$((n+1)); done; kill -9 $pid; wait $pid)")
      assert.equals(137, s)
      assert.matches("^sw/points/1/result%.csv%.tmp%-%d+%." .. host:gsub("%p", "%%%0") .. "\n$", temps(dir))
      -- (and what processes of other machines, or of this one, left beside the table)
      h.write(dir .. "/sw/results.csv.tmp-12.elsewhere", "")
      h.write(dir .. "/sw/results.csv.tmp-" .. dead_pid() .. "." .. host, "")
      -- (a child the killed process started, such as the JIT's compiler, may hold the folder's lock a moment)
      local _, _, e = h.sh("cd " .. q(dir) .. " && n=0; until flock -n sw true || [ $n -gt 400 ]; do sleep 0.05; " ..
                           "n=$((n+1)); done; DUR=1 " .. q(h.exe) .. " run long.lua --quiet --workers 1")
      -- (before: the three files were still there)
      assert.equals("", temps(dir), e)
      assert.equals(5, #text_lines(read(dir .. "/sw/results.csv")))
    end)

    it("the write test's file is write-test.tmp-PID.HOST, and a killed run's is removed by the next", function()
      local common = require "neuromass.explore.common"
      local dir = h.scratch()
      assert(core.mkdir_p(dir .. "/sw"))
      local temps_made, write_temp = {}, core.write_temp
      finally(function() core.write_temp = write_temp end)
      core.write_temp = function(path, text)
        local p, failure = write_temp(path, text)
        if p then temps_made[#temps_made + 1] = p:temp() end
        return p, failure
      end
      common.folder("BoxSearch", dir .. "/sw")
      core.write_temp = write_temp
      assert.same({ string.format("%s/sw/write-test.tmp-%d.%s", dir, core.pid(), host) }, temps_made)
      assert.equals("", temps(dir))                                   -- (removed at once)
      -- what a run killed during its write test left (before: results.csv.tmp-PID.HOST)
      h.write(dir .. "/long.lua", LONG)
      h.write(dir .. "/sw/write-test.tmp-" .. dead_pid() .. "." .. host, "")
      local s, _, e = h.sh("cd " .. q(dir) .. " && DUR=1 " .. q(h.exe) .. " run long.lua --quiet --task 0 --ntasks 2")
      assert.equals(0, s, e)
      assert.equals("", temps(dir))
    end)

    it("an array task removes its slice's, and beside the parts only those of its machine's ended processes",
       function()
      local dir = h.scratch()
      h.write(dir .. "/long.lua", LONG)
      local dead = dead_pid()
      for _, path in ipairs { "points/1/result.csv.tmp-12.elsewhere", "points/2/result.csv.tmp-12.elsewhere",
                              "parts/points.txt.tmp-12.elsewhere", "parts/points.txt.tmp-" .. dead .. "." .. host } do
        assert(core.mkdir_p(dir .. "/sw/" .. path:match("^(.*)/")))
        h.write(dir .. "/sw/" .. path, "")
      end
      local s, _, e = h.sh("cd " .. q(dir) .. " && DUR=1 " .. q(h.exe) .. " run long.lua --quiet --task 0 --ntasks 2")
      assert.equals(0, s, e)
      -- (point 2 is task 1's, which may be computing it on another machine; so may the other machine's task
      -- that writes points.txt)
      assert.equals("sw/parts/points.txt.tmp-12.elsewhere\nsw/points/2/result.csv.tmp-12.elsewhere\n", temps(dir))
      -- (a merge holds the folder alone: what it leaves is gone; the points' files are the next run's)
      assert.equals(1, (h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " explore --merge sw")))
      assert.equals("sw/points/2/result.csv.tmp-12.elsewhere\n", temps(dir))
    end)

    -- Under mpirun rank 0 alone removed any: a folder on a disk of rank 1's
    -- machine (node-local; here a folder of rank 1's own, "sw1") kept what a
    -- process killed there left, for good.
    it("an MPI rank other than 0 removes its machine's ended processes' and its slice's points'", function()
      local why = h.mpi_missing()
      if why then return pending(why) end
      local dir = h.scratch()
      h.write(dir .. "/ranks.lua", (LONG:gsub('tonumber%(os.getenv%("DUR"%)%)', "1")
                                        :gsub('out = "sw"', 'out = "sw" .. (os.getenv("OMPI_COMM_WORLD_RANK") == "1" and "1" or "")')))
      local dead = dead_pid()
      for _, path in ipairs { "points/1/result.csv.tmp-" .. dead .. "." .. host,   -- rank 0's point
                              "points/2/result.csv.tmp-12.elsewhere",                -- rank 1's
                              "results.csv.tmp-12.elsewhere", "results.csv.tmp-" .. dead .. "." .. host } do
        assert(core.mkdir_p((dir .. "/sw1/" .. path):match("^(.*)/")))
        h.write(dir .. "/sw1/" .. path, "")
      end
      local s, _, e = h.sh("cd " .. q(dir) .. " && " .. h.MPIRUN .. q(h.exe) .. " run ranks.lua --quiet")
      assert.equals(0, s, e)
      assert.equals(5, #text_lines(read(dir .. "/sw/results.csv")))
      local _, left = h.sh("cd " .. q(dir) .. " && find sw1 -name '*.tmp-*' | sort")
      -- (before: all four)
      assert.equals("sw1/points/1/result.csv.tmp-" .. dead .. "." .. host .. "\nsw1/results.csv.tmp-12.elsewhere\n", left)
    end)
  end)

  it("a worker that ends itself (os.exit in evaluate) fails the run, naming the worker and its exit status", function()
    local dir = h.scratch()
    -- (point 4 ends the process of the worker that took it)
    h.write(dir .. "/quit.lua", four_points("quit",
      "function(_, p) if p.x_ext == 1.5 then os.exit(3) end return { m = p.x_ext } end"))
    local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run quit.lua --quiet --workers 2")
    assert.equals(1, s)
    assert.truthy(e:find("quit.lua:2: BoxSearch: 1 of the 2 worker processes failed %(worker [01]: exit status 3; " ..
                         "their messages, if any, above%); the points done are kept in"), e)
    -- ... and they are: those the worker did before its os.exit (before: lost, its part not yet written)
    assert.equals("point,x_ext,seed,m,status|1,0|2,0.5|3,1|",
                  (read(dir .. "/quit/results.partial.csv"):gsub(",%d+,[%d.]+,ok\n", "|"):gsub("\n", "|")))
    -- in the script's own process: the points before it kept, the exit status the script's
    -- (before: no table at all)
    h.sh("rm -r " .. q(dir .. "/quit"))
    s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run quit.lua --quiet --workers 1")
    assert.equals(3, s, e)
    assert.equals("point,x_ext,seed,m,status|1,0|2,0.5|3,1|",
                  (read(dir .. "/quit/results.partial.csv"):gsub(",%d+,[%d.]+,ok\n", "|"):gsub("\n", "|")))
  end)

  it("a stop signal sent to the script's process alone (kill PID) stops its workers too", function()
    local dir = h.scratch()
    h.write(dir .. "/stop.lua", [[
local nm = require "neuromass"
]] .. h.SAVE_PID .. [[
nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace { x_ext = nm.explore.linspace(0.1, 1, 10) },
  run = { duration = 20000, dt = 0.1, jit = false },
  evaluate = function(res, p)
    local f = io.open("evals.txt", "a"); f:write(p.x_ext, " ", io.open("/proc/self/stat"):read("n"), "\n"); f:close()
    if p.x_ext == 0.1 then
]] .. h.KILL_SCRIPT .. [[
    end
    return { one = 1 }
  end,
  out = "stop" }:run()
]])
    local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run stop.lua --workers 2 --quiet")
    assert.equals(143, s, e)
    assert.truthy(e:find("stop.lua:%d+: BoxSearch: the worker processes were stopped %(signal 15%)"), e)
    -- said once, by the script's process (before: each worker added its own "interrupted by SIGTERM")
    assert.equals(1, select(2, e:gsub("neuromass: ", "")), e)
    assert.is_nil(e:find("interrupted", 1, true), e)
    -- (before: the workers went on to the last point, the script's process waiting for them)
    assert.is_true(evals(dir) < 10, e)
    -- the workers reaped before the script's process ended (before: left to init, <defunct>)
    for pid in read(dir .. "/evals.txt"):gmatch("(%d+)\n") do
      local f = io.open("/proc/" .. pid .. "/stat")
      assert.is_nil(f and f:read("a"), "worker process " .. pid .. " is still there")
    end
    local t = read(dir .. "/stop/results.partial.csv")
    assert.is_nil(t:find("failed", 1, true), t)
    assert.is_true(select(2, t:gsub("\n", "")) < 10, t)
    assert.is_nil(io.open(dir .. "/stop/results.csv"))
  end)

  it("the rows of another space or seed are refused at the user's line", function()
    local dir = fresh()
    h.sh("mkdir -p " .. q(dir .. "/sweep"))
    h.write(dir .. "/sweep/results.csv", (table1:gsub("\n1,0.5,", "\n1,0.25,")))
    local s, _, e = run(dir, "--workers 1")
    assert.are_not.equal(0, s)
    assert.truthy(e:find("sweep.lua:%d+: BoxSearch: '[^']*' holds x_ext = 0.25 at point 1, the space 0.5"), e)
    h.write(dir .. "/sweep/results.csv", table1)
    s, _, e = run(dir, "--workers 1 --seed 4")
    assert.are_not.equal(0, s)
    assert.truthy(e:find("holds seed", 1, true), e)
  end)

  -- Before, boxsearch.txt was not written: a rerun with another duration or --set returned the rows
  -- of the first run as its own, silently.
  it("rows of other run options or --set are refused, naming what differs (1 process, 2 workers, a task)", function()
    local dir = fresh()
    local s, _, e = run(dir, "--workers 1")
    assert.equals(0, s, e)
    assert.equals("seed = 3\nrun dt = 0.1\nrun duration = 50\n", read(dir .. "/sweep/boxsearch.txt"))
    h.write(dir .. "/sweep.lua", (SCRIPT:gsub("duration = 50", "duration = 40")))
    for _, opts in ipairs { "--workers 1", "--workers 2", "--task 0 --ntasks 2" } do
      s, _, e = run(dir, opts)
      assert.equals(1, s)
      assert.truthy(e:find("sweep.lua:%d+: BoxSearch: '[^']*/sweep' holds the points of a search with other " ..
                           "settings %(its boxsearch%.txt%): run duration 50 there, 40 here%. A rerun resumes a " ..
                           "search only with its settings: choose another out for this one, or remove the folder"), e)
    end
    h.write(dir .. "/sweep.lua", SCRIPT)
    s, _, e = run(dir, "--workers 1 --set tau=25")
    assert.equals(1, s)
    assert.truthy(e:find("(its boxsearch.txt): --set tau (none) there, 25 here.", 1, true), e)
    s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " info sweep.lua --set tau=25 -- .")
    assert.equals(1, s)
    assert.truthy(e:find("--set tau (none) there, 25 here.", 1, true), e)
    assert.equals(table1, read(dir .. "/sweep/results.csv"))       -- the files kept
    assert.equals(6, (evals(dir)))
    -- the same settings (--seed 3 is run.seed's 3; threads change no number): resumed, nothing computed
    s, _, e = run(dir, "--workers 2 --seed 3")
    assert.equals(0, s, e)
    assert.equals(6, (evals(dir)))
    -- a folder of no rows takes this run's settings
    os.remove(dir .. "/sweep/results.csv")
    s, _, e = run(dir, "--workers 1 --set tau=25")
    assert.equals(0, s, e)
    assert.equals("seed = 3\nrun dt = 0.1\nrun duration = 50\n--set tau = 25\n", read(dir .. "/sweep/boxsearch.txt"))
  end)

  it("an older neuromass's folder (exploration.txt alone) resumes with a warning, its settings recorded then",
     function()
    local dir = fresh()
    h.sh("mkdir -p " .. q(dir .. "/sweep"))
    local kept = {}
    for l in table1:gmatch("[^\n]+") do if not l:match("^6,") then kept[#kept + 1] = l end end
    h.write(dir .. "/sweep/results.csv", table.concat(kept, "\n") .. "\n")
    h.write(dir .. "/sweep/exploration.txt", "BoxSearch\n")
    -- rows of another base seed are refused as before, with no word of resuming them
    local s, _, e = run(dir, "--workers 2 --seed 4")
    assert.equals(1, s)
    assert.truthy(e:find("holds seed", 1, true), e)
    assert.is_nil(e:find("warning", 1, true), e)
    assert.is_nil(io.open(dir .. "/sweep/boxsearch.txt"))
    s, _, e = run(dir, "--workers 2")
    assert.equals(0, s, e)
    assert.truthy(e:find("neuromass: warning: BoxSearch: '[^']*/sweep' holds points but no boxsearch%.txt %(written " ..
                         "by an older neuromass%): they are resumed as this run's"), e)
    local _, n = e:gsub("holds points but no", "")
    assert.equals(1, n)                                             -- once, the workers saying nothing
    assert.equals(1, (evals(dir)))
    assert.equals(table1, read(dir .. "/sweep/results.csv"))
    assert.equals("seed = 3\nrun dt = 0.1\nrun duration = 50\n", read(dir .. "/sweep/boxsearch.txt"))
    s, _, e = run(dir, "--workers 1")
    assert.equals(0, s, e)
    assert.falsy(e:find("warning", 1, true), e)
  end)

  -- A value edited by hand in a task's part: the merge (which knows no
  -- space) joined it and removed the parts; the next run refused the whole
  -- table and said to remove it, the one copy of every computed point.
  it("a row edited by hand is named with the file and how to mend it, not the whole table to remove", function()
    local dir = h.scratch()
    h.write(dir .. "/sw.lua", four_points("sw", "function() return { m = 1 } end"))
    local function neuromass(args) return h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " " .. args) end
    assert.equals(0, (neuromass("run sw.lua --quiet --task 0 --ntasks 2")))
    assert.equals(0, (neuromass("run sw.lua --quiet --task 1 --ntasks 2")))
    local part = dir .. "/sw/parts/task-1-of-2.csv"
    h.write(part, (read(part):gsub("\n2,0%.5,", "\n2,0.55,")))
    assert.equals(0, (neuromass("explore --merge sw")))
    local s, _, e = neuromass("run sw.lua --quiet")
    assert.equals(1, s)
    -- (before: "'DIR' holds x_ext = 0.55 at point 2, the space 0.5: it is another exploration's (remove it, ...")
    assert.truthy(e:find("sw.lua:2: BoxSearch: '" .. dir .. "/sw/results.csv' holds x_ext = 0.55 at point 2, the " ..
                         "space 0.5; 1 of the 4 rows differs from the space (point 2): edited by hand? Mend the row " ..
                         "(point i's values are the space's point i) or delete it alone, and its point is computed " ..
                         "again; the other rows are this exploration's\n", 1, true), e)
    local t = read(dir .. "/sw/results.csv")
    h.write(dir .. "/sw/results.csv", (t:gsub("\n2,0%.55,[^\n]*", "")))
    s, _, e = neuromass("run sw.lua --quiet")
    assert.equals(0, s, e)
    assert.equals(t:gsub("0%.55", "0.5"), read(dir .. "/sw/results.csv"))
    -- (every row another's: another exploration's table, not rows to mend)
    h.write(dir .. "/sw/results.csv", (t:gsub("\n(%d),[%d.]+,", "\n%1,7,")))
    s, _, e = neuromass("run sw.lua --quiet")
    assert.equals(1, s)
    assert.truthy(e:find("holds x_ext = 7 at point 1, the space 0; no row of it is this exploration's (4 rows): it " ..
                         "is another exploration's table: choose another out, or move it away\n", 1, true), e)
  end)

  it("rows of another exploration written into the folder while the workers ran are refused too", function()
    -- Two explorations writing one folder at once (another seed, a larger space): each one's
    -- parts under parts/, which the other joined after its workers, unchecked: its table and
    -- its results then held rows of both, and it ended well.  Here a worker writes the part
    -- of the other exploration (point 5 of a space of 4).
    local dir = h.scratch()
    h.write(dir .. "/two.lua", four_points("two", [[function(_, p)
    if p.x_ext == 0 then
      local f = assert(io.open("two/parts/task-4-of-5.csv", "w"))
      f:write("point,x_ext,seed,m,status\n5,2,1,7,ok\n"); f:close()
    end
    return { m = p.x_ext }
  end]]))
    local s, out, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run two.lua --quiet --workers 2")
    assert.equals(1, s, out)
    assert.truthy(e:find("two.lua:2: BoxSearch: '[^']*/two' holds point 5, but the space has 4 points: the table " ..
                         "belongs to another space %(this one's before it changed, or another exploration's%)"), e)
    assert.is_nil(io.open(dir .. "/two/results.csv"))          -- (before: its 4 rows and the other's)
  end)

  it("an unknown parameter is an error at the user's line with a suggestion, once under workers", function()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", (SCRIPT:gsub('"sigma_ou", {', '"sigma_uo", {')))
    local line = 0
    for l in SCRIPT:gmatch("[^\n]*\n") do line = line + 1; if l:find("search:run()", 1, true) then break end end
    for _, workers in ipairs { 1, 2 } do
      local s, _, e = run(dir, "--workers " .. workers)
      assert.are_not.equal(0, s)
      assert.truthy(e:find("sweep.lua:" .. line .. ": BoxSearch: the space's parameter 'sigma_uo' (point 1): unknown " ..
                           "parameter 'sigma_uo'; did you mean 'sigma_ou'?", 1, true), e)
      -- (with workers: checked in the script's process before any starts, so said once)
      assert.equals(1, select(2, e:gsub("unknown parameter 'sigma_uo'", "")), e)
      assert.is_nil(e:find("worker", 1, true), e)
    end
    assert.equals(0, (evals(dir)))
    assert.is_nil(io.open(dir .. "/sweep/parts"))
    -- no table of a header alone, which would look like a finished run of no points
    assert.is_nil(io.open(dir .. "/sweep/results.csv"))
    -- the name corrected, the run goes on
    h.write(dir .. "/sweep.lua", SCRIPT)
    local s, _, e = run(dir, "--workers 1")
    assert.equals(0, s, e)
    assert.equals(6, (evals(dir)))
  end)

  it("evaluate returning something else than { NAME = number } is an error at the user's line; rows kept", function()
    local function error_of(bad)
      local dir = h.scratch()
      local ok, e = pcall(function()
        nm.explore.BoxSearch {
          model = function() return nm.models.fhn.native {} end,
          space = nm.explore.ParameterSpace { x_ext = { 0.5, 0.6, 0.7 } },
          run = { duration = 10, dt = 0.1 }, out = dir .. "/bad",
          evaluate = function(_, point) if point.x_ext == 0.7 then return bad end return { one = 1 } end,
        }:run()
      end)
      assert.is_false(ok)
      assert.equals("point,x_ext,seed,one,status\n1,0.5,", read(dir .. "/bad/results.partial.csv"):sub(1, 34))
      assert.equals(3, select(2, read(dir .. "/bad/results.partial.csv"):gsub("\n", "")))   -- points 1 and 2
      return tostring(e)
    end
    local e = error_of({ one = "1" })
    assert.truthy(e:find('explore_spec.lua:%d+: BoxSearch: evaluate%(res, point%) of point 3 returned one = "1" ' ..
                         '%(a string%): a metric is a number'), e)
    e = error_of(3)
    assert.truthy(e:find("of point 3 returned 3, not a table { NAME = number, ... }", 1, true), e)
    e = error_of({ x_ext = 1 })
    assert.truthy(e:find("of point 3 returned a metric named 'x_ext', a parameter's name: rename the metric", 1, true), e)
    e = error_of({ seed = 1 })
    assert.truthy(e:find("a metric named 'seed', a column of the results table", 1, true), e)
    e = error_of({ ["a,b"] = 1 })
    assert.truthy(e:find([[a metric named "a,b" (a string): a metric's name is a non-empty string without ',']], 1, true), e)
  end)

  it("an out folder that cannot be written is an error before any point runs; the check leaves nothing", function()
    local dir = fresh()
    -- (as root, permissions do not stop writes: the immutable attribute does, where the file system has it)
    local locked = h.sh("cd " .. q(dir) .. " && mkdir sweep && chmod 555 sweep && " ..
                        "{ test \"$(id -u)\" != 0 || chattr +i sweep; }") == 0
    if not locked then return pending("cannot make a folder unwritable here (root without chattr)") end
    local s, _, e = run(dir, "--workers 1")
    h.sh("chattr -i " .. q(dir .. "/sweep") .. " 2>/dev/null; chmod 755 " .. q(dir .. "/sweep"))
    assert.equals(1, s)
    assert.truthy(e:find("sweep.lua:%d+: BoxSearch: cannot write in the folder '[^']*/sweep': "), e)
    assert.equals(0, (evals(dir)))
    s, _, e = run(dir, "--workers 1")
    assert.equals(0, s, e)
    local _, listing = h.sh("LC_ALL=C ls -A " .. q(dir .. "/sweep"))
    -- (the kind of folder, BoxSearch, and the settings of its rows)
    assert.equals("boxsearch.txt\nexploration.txt\nresults.csv\n", listing)
  end)

  it("an out folder on a full disk is an error before any point runs (here: no room for 4 KiB)", function()
    local dir = fresh()
    -- (a file size limit of 512 bytes stands in for a full disk: writes beyond it fail, EFBIG)
    local s, _, e = run(dir, "--workers 1", "ulimit -f 1;")
    assert.equals(1, s)
    assert.truthy(e:find("sweep.lua:%d+: BoxSearch: cannot write in the folder '[^']*/sweep': File too large\n"), e)
    assert.equals(0, (evals(dir)))
    local _, listing = h.sh("ls -A " .. q(dir .. "/sweep"))
    assert.equals("", listing)
  end)

  it("a NaN blow-up is a failed point; the progress line counts points and failures", function()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", [[
local nm = require "neuromass"
local r = nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace { alpha = { 3, 1e30 } },
  run = { duration = 20, dt = 0.1 }, evaluate = function() return { one = 1 } end,
  out = "blow", progress = true,
}:run()
assert(r.rows[1].ok and not r.rows[2].ok and r.rows[1].metrics.one == 1)
]])
    local s, _, e = h.sh(q(h.exe) .. " run " .. q(dir .. "/sweep.lua") .. " --out " .. q(dir) .. " --workers 1")
    assert.equals(0, s, e)
    local t = read(dir .. "/blow/results.csv")
    assert.truthy(t:find('\n2,1e%+30,%d+,,"failed: run: the simulation produced a NaN or infinite value'), t)
    assert.truthy(e:find("explore: 2/2 points (1 failed)", 1, true), e)
    assert.truthy(e:find("explore: point 2 failed: run: the simulation produced a NaN", 1, true), e)
  end)
end)

describe("explore/common.table_writer", function()
  -- The table is written whole every 2 s; a large one (10^5 rows: about 0.4 s a write) every ten
  -- times as long as its writing took, so that writing stays within a tenth of the time (before:
  -- every 2 s whatever it took, a third of a 10^5-point sweep of short runs).  The clocks and
  -- the writing stand in: each write takes `cost` s of CPU.
  local common = require "neuromass.explore.common"
  local tbl = require "neuromass.explore.table"
  local time, clock, write = os.time, os.clock, tbl.write
  after_each(function() os.time, os.clock, tbl.write = time, clock, write end)   -- luacheck: ignore 122

  it("writes every 2 s, or every ten times as long as a write took", function()
    local now, cpu, writes = 1000, 0, 0
    os.time = function() return now end      -- luacheck: ignore 122
    os.clock = function() return cpu end     -- luacheck: ignore 122
    for _, case in ipairs { { cost = 0.01, every = 2 }, { cost = 0.5, every = 5 } } do
      tbl.write = function() writes = writes + 1; cpu = cpu + case.cost; return true end
      local save, tick = common.table_writer("BoxSearch", "x.csv", {}, {})
      save()
      local at = {}
      for s = 1, 12 do now = now + 1; local before = writes; tick(); if writes > before then at[#at + 1] = s end end
      local want = {}
      for s = case.every, 12, case.every do want[#want + 1] = s end
      assert.same(want, at)
    end
  end)
end)

describe("the progress line", function()
  it("on a terminal, a failed point's line starts on a cleared line, not after the progress line's text", function()
    local progress = require "neuromass.explore.progress"
    local out, saved = {}, io.stderr
    local function write(self, ...) for _, s in ipairs { ... } do out[#out + 1] = s end return self end
    io.stderr = { write = write, flush = function() end }  -- luacheck: ignore 122 (put back below)
    local report = progress.reporter({ tty = true }, { kind = "single" }, nil, 3, 0, "explore: point")
    report(1, "ok"); report(2, "failed: boom"); report(3, "ok")
    io.stderr = saved  -- luacheck: ignore 122
    local text = table.concat(out)
    -- (no ETA in the first 2 s: before, "ETA 0 s" after 1 point in 0 s)
    assert.truthy(text:find("^\rexplore: 1/3 points, %d+ s elapsed\27%[K\r\27%[Kexplore: point 2 failed: " ..
                            "boom\n"), text)
    assert.truthy(text:find("explore: 3/3 points %(1 failed%), %d+ s elapsed\27%[K\n"), text)
  end)

  -- With 3 workers, 3 points run at once: the first to end, 10 s in, says
  -- 3 points take 10 s (before: 1 point, an ETA three times too long).
  it("with P workers the ETA counts P points running at once until P are done", function()
    local progress = require "neuromass.explore.progress"
    local out, saved, time = {}, io.stderr, os.time
    local now = 1000
    local function write(self, ...) out[#out + 1] = table.concat { ... }; return self end
    io.stderr = { write = write, flush = function() end }  -- luacheck: ignore 122 (put back below)
    os.time = function() return now end     -- luacheck: ignore 122
    local p, one = progress.new(12, 0, false, 3), progress.new(12, 0, false)
    now = 1010; p:step()                     -- 1 of 12 after 10 s: 11 left at 3 per 10 s
    now = 1011; p:step(); p:step()           -- 2 shown (once a second): 10 left at 3 per 11 s
    now = 1020; p:step()                     -- 4 after 20 s: 8 left at 4 per 20 s
    now = 1030; one:step()                   -- one at a time: 1 of 12 after 30 s
    io.stderr, os.time = saved, time  -- luacheck: ignore 122
    assert.same({ "explore: 1/12 points, 10 s elapsed, ETA 37 s\n", "explore: 2/12 points, 11 s elapsed, ETA 37 s\n",
                  "explore: 4/12 points, 20 s elapsed, ETA 40 s\n", "explore: 1/12 points, 30 s elapsed, ETA 5 min 30 s\n" },
                out)
  end)
end)

describe("nm.plot.exploration", function()
  teardown(h.remove_scratch)
  -- a 3 x 2 grid of a, b with metric m = 10 a + b; point 4 failed
  local function results(extra)
    local rows = {}
    for i, ab in ipairs { { 1, 1 }, { 1, 2 }, { 2, 1 }, { 2, 2 }, { 3, 1 }, { 3, 2 } } do
      rows[i] = { point = i, values = { a = ab[1], b = ab[2] }, metrics = { m = 10 * ab[1] + ab[2] },
                  ok = i ~= 4, status = i ~= 4 and "ok" or "failed: x" }
    end
    if extra then rows[#rows + 1] = extra end
    return { params = { "a", "b" }, metrics = { "m" }, rows = rows, n = #rows }
  end

  it("places each point at its (x, y) cell, failed points blank", function()
    local grid = require "neuromass.plot.exploration".grid
    local xs, ys, m = grid(results().rows, "a", "b", "m")
    assert.same({ 1, 2, 3 }, xs)
    assert.same({ 1, 2 }, ys)
    assert.same({ 11, 21, 31 }, m[1])
    assert.equals(12, m[2][1])
    assert.is_true(m[2][2] ~= m[2][2])       -- point 4 (a = 2, b = 2) failed
    assert.equals(32, m[2][3])
  end)

  it("draws a PNG; an unknown metric or a third varying parameter is an error at the user's line", function()
    local dir = h.scratch()
    local path = nm.plot.exploration(results(), { metric = "m", out = dir .. "/m.png" })
    local f = assert(io.open(path, "rb"))
    assert.equals("\137PNG", f:read(4))
    f:close()
    local ok, e = pcall(nm.plot.exploration, results(), { metric = "mm", out = dir .. "/x.png" })
    assert.is_false(ok)
    assert.truthy(e:find("explore_spec.lua:%d+: plot.exploration: 'metric' must be one of m, got \"mm\".*did you mean 'm'"), e)
    ok, e = pcall(nm.plot.exploration, results { point = 7, values = { a = 1, b = 1 }, metrics = {}, ok = true },
                  { metric = "m", out = dir .. "/x.png" })
    assert.is_false(ok)
    assert.truthy(e:find("points 1 and 7 both have a = 1 and b = 1", 1, true), e)
  end)

  it("draws one slice of a third parameter with at = { name = value }, and names that parameter when it varies", function()
    local dir = h.scratch()
    -- the 3 x 2 grid of a, b at c = 0.1 and again at c = 1/3 (metric m + 100 c)
    local r = results()
    r.params = { "a", "b", "c" }
    local n = #r.rows
    for i = 1, n do
      local row = r.rows[i]
      row.values.c = 0.1
      r.rows[n + i] = { point = n + i, values = { a = row.values.a, b = row.values.b, c = 1 / 3 },
                        metrics = { m = row.metrics.m + 100 / 3 }, ok = true, status = "ok" }
    end
    local ok, e = pcall(nm.plot.exploration, r, { metric = "m", out = dir .. "/x.png" })
    assert.is_false(ok)
    assert.truthy(e:find("explore_spec.lua:%d+: plot.exploration: " .. ("points 1 and 7 both have a = 1 and b = 1: " ..
                         "the exploration varies 'c' too: choose one slice with at = { c = ... } " ..
                         "(0.1, 0.3333333333333333)"):gsub("%p", "%%%0") .. "$"), e)
    local rows, text = require "neuromass.plot.exploration".slice(r, { c = 1 / 3 }, "a", "b")
    assert.equals(6, #rows)
    assert.equals("c = 0.333333", text)
    local xs, ys, m = require "neuromass.plot.exploration".grid(rows, "a", "b", "m")
    assert.same({ 1, 2, 3 }, xs)
    assert.same({ 1, 2 }, ys)
    assert.equals(22 + 100 / 3, m[2][2])      -- point 10, ok in this slice
    local path = nm.plot.exploration(r, { metric = "m", out = dir .. "/c.png", at = { c = 0.1 } })
    local f = assert(io.open(path, "rb"))
    assert.equals("\137PNG", f:read(4))
    f:close()
    for _, case in ipairs {
      { { c = 0.2 }, "at.c = 0.2 is not a value of the exploration's points (0.1, 0.3333333333333333)" },
      { { sigma_ou = 0.1 }, "'at' names 'sigma_ou', not a parameter of the exploration; its parameters are a, b, c" },
      { { a = 1 }, "'at' names 'a', the heat map's x axis" },
      { 0.1, "'at' must be a table { name = value, ... } of parameters other than x and y, got 0.1" },
    } do
      ok, e = pcall(nm.plot.exploration, r, { metric = "m", out = dir .. "/y.png", at = case[1] })
      assert.is_false(ok)
      assert.truthy(e:find("explore_spec.lua:%d+: plot.exploration: " .. case[2]:gsub("%p", "%%%0")), e)
    end
  end)

  it("names the axes and the colour bar as xlabel, ylabel and cblabel say (units), else by the names", function()
    local dir = h.scratch()
    local path = nm.plot.exploration(results(), { metric = "m", out = dir .. "/m.png", xlabel = "a (mV/ms)",
                                                  ylabel = "b (mV/ms)", cblabel = "m (Hz)" })
    assert.equals(dir .. "/m.png", path)
    local script = require "neuromass.plot.exploration".script
    local text = table.concat(script({ 1, 2 }, { 1 }, { { 1, 2 } }, { x = "a", y = "b", metric = "m",
                                     xlabel = "a (mV/ms)", ylabel = "b (mV/ms)", cblabel = "m (Hz)" }), "\n")
    for _, want in ipairs { "set xlabel 'a (mV/ms)'", "set ylabel 'b (mV/ms)'", "set cblabel 'm (Hz)'" } do
      assert.truthy(text:find(want, 1, true), text)
    end
    text = table.concat(script({ 1, 2 }, { 1 }, { { 1, 2 } }, { x = "a", y = "b", metric = "m" }), "\n")
    for _, want in ipairs { "set xlabel 'a'", "set ylabel 'b'", "set cblabel 'm'" } do
      assert.truthy(text:find(want, 1, true), text)
    end
    -- docs/plotting.md, the pictures' page, names both pictures of explorations
    local doc = read("docs/plotting.md")
    assert.truthy(doc:find("## Explorations: `nm.plot.exploration` and `nm.plot.evolution`", 1, true))
  end)
end)

describe("the command line of explorations", function()
  teardown(h.remove_scratch)

  it("refuses bad --workers, --task and --ntasks values, and --task without --ntasks", function()
    local s, _, e = h.sh(q(h.exe) .. " run --workers 0 x.lua")
    assert.equals(1, s)
    assert.truthy(e:find("--workers needs a whole number of processes from 1, or 'all', got '0'", 1, true), e)
    s, _, e = h.sh(q(h.exe) .. " run --task -1 --ntasks 2 x.lua")
    assert.equals(1, s)
    assert.truthy(e:find("--task needs a task number from 0, got '-1'", 1, true), e)
    -- more than 8 worker processes per core: refused before the script runs (before, every
    -- missing point got a process of its own), naming the value and the cores this process may
    -- run on (nproc: its CPU affinity); 8 per core runs
    local _, online = h.sh("nproc")
    local cores = assert(math.tointeger(tonumber(online)), online)
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", SCRIPT)
    h.write(dir .. "/plain.lua", "print('ran')\n")
    for _, n in ipairs { 8 * cores + 1, 100000 } do
      s, _, e = run(dir, "--workers " .. n)
      assert.equals(1, s)
      assert.truthy(e:find(string.format("--workers %d is more than 8 worker processes per core (%d cores this " ..
                                         "process may run on: at most %d)", n, cores, 8 * cores), 1, true), e)
    end
    assert.is_nil(io.open(dir .. "/sweep", "r"))
    local out
    s, out, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run --workers " .. 8 * cores .. " plain.lua")
    assert.equals(0, s, e)
    assert.equals("ran\n", out)
    -- --task/--ntasks mistakes are usage errors as the command line is read, before the script
    -- runs (before: at its exploration, after its prelude had run)
    s, _, e = run(dir, "--task 1")
    assert.equals(1, s)
    assert.truthy(e:find("neuromass: run: --task I needs --ntasks N (and --ntasks N needs --task I)\n(try " ..
                         "'neuromass run --help')", 1, true), e)
    for _, opts in ipairs { "--task 2 --ntasks 2", "--ntasks 2", "--workers 2 --task 0 --ntasks 2" } do
      s, out, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run plain.lua " .. opts)
      assert.equals(1, s)
      assert.equals("", out)                                         -- the script did not run
      assert.truthy(e:find("^neuromass: run: "), e)
    end
    s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " info plain.lua --task 3 --ntasks 2")
    assert.equals(1, s)
    assert.truthy(e:find("neuromass: info: task 3 is not one of 0 to 1 (of --ntasks 2)", 1, true), e)
    s, _, e = run(dir, "--workers 1 --set x_ext=1")
    assert.equals(1, s)
    assert.truthy(e:find("sweep.lua:%d+: BoxSearch: %-%-set x_ext=1 fixes a parameter the exploration varies"), e)
    s, _, e = run(dir, "--task 2 --ntasks 2")
    assert.equals(1, s)
    assert.truthy(e:find("task 2 is not one of 0 to 1", 1, true), e)
    -- --workers in a Slurm array task: the message names the array task, not a --task never given
    s, _, e = run(dir, "--workers 2", "SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2")
    assert.equals(1, s)
    assert.truthy(e:find("sweep.lua:%d+: explore: %-%-workers in a Slurm array task %(SLURM_ARRAY_TASK_ID=1: task 1 " ..
                         "of 2%), which computes its slice in its one process: drop %-%-workers"), e)
    s, _, e = run(dir, "--workers 2 --task 0 --ntasks 2")
    assert.equals(1, s)
    assert.truthy(e:find("give --workers or --task/--ntasks, not both", 1, true), e)
  end)

  -- Before: --workers 2 for a script without an exploration was taken silently.
  it("--workers N for a script that ran no exploration is a warning, once, at its end; the status its own", function()
    local dir = h.scratch()
    h.write(dir .. "/plain.lua", "print('ran')\n")
    h.write(dir .. "/quit.lua", "print('ran') os.exit(0)\n")
    h.write(dir .. "/sweep.lua", SCRIPT)
    local warning = "neuromass: warning: --workers 2: the script ran no exploration (nm.explore), which is what " ..
                    "they spread\n"
    for _, script in ipairs { "plain.lua", "quit.lua" } do
      local s, out, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run " .. script .. " --workers 2")
      assert.equals(0, s, e)
      assert.equals("ran\n", out)
      assert.equals(warning, e)
      s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run " .. script)     -- (not asked: no warning)
      assert.equals(0, s, e)
      assert.equals("", e)
    end
    local s, _, e = run(dir, "--workers 2")
    assert.equals(0, s, e)
    assert.is_nil(e:find("warning", 1, true), e)
  end)

  -- Before: a --set the space varies, given to a finished search's folder, was refused as settings
  -- other than the rows' ("choose another out"), and a new folder refusing it kept boxsearch.txt
  -- and exploration.txt.
  it("a --set the space varies is refused as that before the folder's settings are compared or written", function()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", SCRIPT)
    local s, _, e = run(dir, "--set x_ext=1")                     -- a new folder
    assert.equals(1, s)
    assert.truthy(e:find("sweep.lua:%d+: BoxSearch: %-%-set x_ext=1 fixes a parameter the exploration varies"), e)
    assert.is_nil(io.open(dir .. "/sweep/boxsearch.txt"))
    assert.is_nil(io.open(dir .. "/sweep/exploration.txt"))
    s, _, e = run(dir, "")                                          -- the search, whole
    assert.equals(0, s, e)
    s, _, e = run(dir, "--set x_ext=1")                             -- every point done: still named as that
    assert.equals(1, s)
    assert.truthy(e:find("sweep.lua:%d+: BoxSearch: %-%-set x_ext=1 fixes a parameter the exploration varies"), e)
    assert.is_nil(e:find("other settings", 1, true), e)
  end)

  it("--set is checked once before any point runs, globs included; one that passes counts as applied under workers",
     function()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", SCRIPT)
    local s, _, e = run(dir, "--workers 1 --set '*x_ext=1'")       -- before: every point ran at x_ext = 1
    assert.equals(1, s)
    assert.truthy(e:find("sweep.lua:%d+: BoxSearch: %-%-set %*x_ext=1 fixes a parameter the exploration varies " ..
                         "%('x_ext'%)"), e)
    s, _, e = run(dir, "--workers 2 --set 'FHN*.alpha=3'")         -- before: every point recorded as failed
    assert.equals(1, s)
    assert.truthy(e:find("sweep.lua:%d+: BoxSearch: %-%-set FHN%*%.alpha=3 names no parameter of the model: " ..
                         "unknown parameter 'FHN%*%.alpha'; did you mean 'alpha'%?"), e)
    assert.equals(0, (evals(dir)))
    s, _, e = run(dir, "--workers 2 --set alpha=3.5")              -- before: "never applied", exit 1
    assert.equals(0, s, e)
    assert.equals(6, (evals(dir)))
    h.write(dir .. "/fit.lua", [[
local nm = require "neuromass"
nm.explore.Evolution { model = function() return nm.models.fhn.native {} end, run = { duration = 5, dt = 0.1 },
  parameters = { x_ext = { 0, 1 } }, fitness = function() return 0 end, evaluations = 2, out = "fit" }:run()
]])
    s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run fit.lua --quiet --set '*.x_ext=1'")
    assert.equals(1, s)
    assert.truthy(e:find("fit.lua:2: Evolution: --set *.x_ext=1 fixes a parameter the exploration varies ('x_ext')",
                         1, true), e)
  end)

  -- A task computes its slice of the first exploration and ends the script there (common.end_task):
  -- what `neuromass run --help` and docs/reference.md both say.
  it("--task I --ntasks N computes slice I of the first exploration only, then ends the script", function()
    local dir = h.scratch()
    h.write(dir .. "/two.lua", [[
local nm = require "neuromass"
local function search(out)
  return nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end,
    space = nm.explore.ParameterSpace { x_ext = { 0.5, 0.75, 1 } }, run = { duration = 5, dt = 0.1 },
    evaluate = function(res) return { n = res:rows() } end, out = out }
end
search("first"):run()
print("after the first")
search("second"):run()
]])
    local s, out, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run two.lua --task 1 --ntasks 2 --quiet")
    assert.equals(0, s, e)
    assert.equals("", out)
    local part = read(dir .. "/first/parts/task-1-of-2.csv")
    assert.truthy(part and part:find("\n2,0.75,", 1, true), part)
    assert.is_nil(io.open(dir .. "/second", "r"))
    local _, help = h.sh(q(h.exe) .. " run --help")
    assert.truthy(help:find("slice I %(0 to N%-1%) of the first\n%s+exploration, writes it as a part and ends the script"),
                  help)
    local ref = read("docs/reference.md")
    assert.truthy(ref:find("computes slice I (0 to N − 1) of N of the first\n  exploration, writes it as " ..
                          "`out/parts/task-I-of-N.csv` and ends the script", 1, true))
  end)

  it("explore --merge: points missing -> results.partial.csv, the parts kept, exit 1; complete -> results.csv, exit 0",
     function()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", SCRIPT)
    local function merged(status)
      local s, out, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
      assert.equals(status, s, e)
      return status == 0 and out or e
    end
    -- task I of 3 computes the points i with (i - 1) mod 3 = I: task 0 points 1 and 4
    assert.equals(0, (run(dir, "--task 0 --ntasks 3")))
    local e = merged(1)
    assert.truthy(e:find("/sweep/results.partial.csv: 2 rows (1 part joined); incomplete: results.csv not " ..
                         "written, the parts kept\nmissing: points 2, 3, 5, 6 (", 1, true), e)
    assert.truthy(e:find("\nno part from tasks 1, 2 of 3: their points are missing\n", 1, true), e)
    assert.is_nil(io.open(dir .. "/sweep/results.csv"))
    assert.truthy(read(dir .. "/sweep/parts/task-0-of-3.csv"))
    local partial = text_lines(read(dir .. "/sweep/results.partial.csv"))
    assert.equals(3, #partial)
    assert.truthy(partial[2]:find("^1,") and partial[3]:find("^4,"), partial[2])
    assert.equals(0, (run(dir, "--task 1 --ntasks 3")))
    e = merged(1)
    assert.truthy(e:find("/sweep/results.partial.csv: 4 rows (2 parts joined); incomplete", 1, true), e)
    assert.truthy(e:find("\nmissing: points 3, 6 (", 1, true), e)
    assert.truthy(e:find("\nno part from task 2 of 3 (--task 2 --ntasks 3): its points are missing\n", 1, true), e)
    assert.equals(4, (evals(dir)))
    -- the script's next run reads the parts and computes only the 2 points missing
    assert.equals(0, (run(dir)))
    assert.equals(6, (evals(dir)))
    assert.truthy(merged(0):find("/sweep/results.csv: 6 rows %(0 parts joined%)\n$"))
    assert.is_nil(io.open(dir .. "/sweep/results.partial.csv"))
    assert.is_nil(io.open(dir .. "/sweep/parts"))
  end)

  it("explore --merge: the last task's stale partial table is removed once complete; a task with no point is " ..
     "not named", function()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", SCRIPT)
    -- 6 points over 8 tasks: tasks 6 and 7 have none
    assert.equals(0, (run(dir, "--task 0 --ntasks 8")))
    local s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(1, s, e)
    assert.truthy(e:find("/sweep/results.partial.csv: 1 row (1 part joined); incomplete", 1, true), e)   -- (not "1 rows")
    assert.truthy(e:find("\nno part from tasks 1, 2, 3, 4, 5 of 8: their points are missing\n", 1, true), e)
    assert.truthy(e:find("missing: points 2, 3, 4, 5, 6 (", 1, true), e)
    assert.truthy(read(dir .. "/sweep/results.partial.csv"))
    for task = 1, 5 do assert.equals(0, (run(dir, "--task " .. task .. " --ntasks 8"))) end
    local out
    s, out, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(0, s, e)
    assert.truthy(out:find("/sweep/results.csv: 6 rows %(6 parts joined%)\n$"), out)
    assert.is_nil(io.open(dir .. "/sweep/results.partial.csv"))
    assert.equals(7, #text_lines(read(dir .. "/sweep/results.csv")))
  end)

  it("explore --merge names the .csv files under parts/ that it skips (not task-I-of-N.csv)", function()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", SCRIPT)
    for task = 0, 1 do assert.equals(0, (run(dir, "--task " .. task .. " --ntasks 2"))) end
    h.write(dir .. "/sweep/parts/task-2-of-2.old.csv", "point,x\n")
    h.write(dir .. "/sweep/parts/notes.txt", "not a table\n")
    local s, out, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(0, s, e)
    assert.truthy(out:find("/sweep/results.csv: 6 rows (2 parts joined)\nwarning: skipped " .. dir ..
                           "/sweep/parts/task-2-of-2.old.csv: not a task's part (parts/task-I-of-N.csv)\n", 1, true),
                  out)
    local _, help = h.sh(q(h.exe) .. " explore --help")
    assert.truthy(help:find("DIR/parts/task-I-of-N.csv; other .csv files there are skipped", 1, true), help)
    assert.truthy(help:find("DIR/results.partial.csv", 1, true), help)
  end)

  it("explore --merge of parts without points.txt (an older neuromass's) says what it cannot check", function()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", SCRIPT)
    for task = 0, 1 do assert.equals(0, (run(dir, "--task " .. task .. " --ntasks 3"))) end
    assert.truthy(os.remove(dir .. "/sweep/parts/points.txt"))
    -- task 2's points 3 and 6: 3 is below the largest row, 5, and named; 6 is not known
    local s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(1, s, e)
    assert.truthy(e:find("\nmissing: point 3 (", 1, true), e)
    assert.truthy(e:find("\nwarning: " .. dir .. "/sweep/parts holds no points.txt nor restarts.txt (parts of an older neuromass): " ..
                         "the points after point 5, if any, and the rows' seeds are not checked; the script's next " ..
                         "run checks every row and computes what is missing\n", 1, true), e)
  end)

  it("an array task says what it wrote and how to join the parts (1 point, 2 points)", function()
    for ntasks, said in pairs { [6] = "(1 point)", [3] = "(2 points)" } do
      local dir = h.scratch()
      h.write(dir .. "/sweep.lua", SCRIPT)
      local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run sweep.lua --task 0 --ntasks " .. ntasks ..
                           " -- .")
      assert.equals(0, s, e)
      assert.truthy(e:find("explore: task 0 of " .. ntasks .. " wrote " .. dir .. "/sweep/parts/task-0-of-" .. ntasks ..
                           ".csv " .. said .. "; join the parts with: neuromass explore --merge " .. dir .. "/sweep\n",
                           1, true), e)
    end
  end)

  -- The parts a --workers run leaves when its script's process is killed
  -- (kill -9): each worker's holds the points it claimed, not a slice, so
  -- no task is to be run again for the missing points, and a worker killed
  -- before it wrote its part is no task "that has not run".  Here worker 1
  -- of 2 ends at its third point, as if killed; worker 0 never wrote.
  it("explore --merge of the parts of a killed --workers run names the points missing, no task to run", function()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", (SCRIPT:gsub("if point.x_ext == 0.75 and point.sigma_ou == 0.05 then .- end",
                                             "if point.x_ext == 0.75 and os.getenv('QUIT') then os.exit(3) end")))
    assert.equals(3, (run(dir, "--task 1 --ntasks 2 >/dev/null", "QUIT=1 NEUROMASS_EXPLORE_WORKER=1")))
    local s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(1, s, e)
    assert.truthy(e:find("/sweep/results.partial.csv: 3 rows (1 part joined); incomplete", 1, true), e)
    assert.truthy(e:find("\nmissing: points 4, 5, 6 (left by the worker processes of a run that was stopped: " ..
                         "run the script again)", 1, true), e)
    -- (before: "no part from task 0 of 2 (--task 0 --ntasks 2): its points are missing", a slice of points it never had)
    assert.is_nil(e:find("no part from", 1, true), e)
    assert.equals(0, (run(dir, "--workers 2")))
    assert.equals(7, (evals(dir)))               -- 1, 2, 3, 4 (cut short), then 4, 5, 6
    assert.is_nil(io.open(dir .. "/sweep/parts"))
  end)

  -- Then array tasks in that folder: a worker's part was named as a task's
  -- (task-1-of-2.csv), so task 1 of 2 wrote its slice over it (points 1 and
  -- 3, done by the worker, lost and computed again by task 0), and the merge,
  -- seeing the claims, named no absent task.  A worker's part is now
  -- worker-I-of-N.csv, the tasks' rows judged by the tasks' layout.
  it("array tasks after a killed --workers run keep the workers' points; the merge names the absent task", function()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", (SCRIPT:gsub("if point.x_ext == 0.75 and point.sigma_ou == 0.05 then .- end",
                                             "if point.x_ext == 0.75 and os.getenv('QUIT') then os.exit(3) end")))
    assert.equals(3, (run(dir, "--task 1 --ntasks 2 >/dev/null", "QUIT=1 NEUROMASS_EXPLORE_WORKER=1")))
    assert.equals(4, (evals(dir)))               -- 1, 2, 3 done; 4 claimed, cut short
    assert.equals(0, (run(dir, "--task 1 --ntasks 2")))      -- slice 2, 4, 6: 4 and 6 computed
    assert.equals(6, (evals(dir)))
    local s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(1, s, e)
    assert.truthy(e:find("/sweep/results.partial.csv: 5 rows (2 parts joined); incomplete", 1, true), e)
    assert.truthy(e:find("\nmissing: point 5 (their tasks wrote no part yet, or stopped: run them, or the " ..
                         "script, then merge again)", 1, true), e)
    assert.truthy(e:find("\nno part from task 0 of 2 (--task 0 --ntasks 2): its points are missing", 1, true), e)
    assert.equals(0, (run(dir, "--task 0 --ntasks 2")))      -- slice 1, 3, 5: 5 alone computed
    assert.equals(7, (evals(dir)))
    local out
    s, out, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(0, s, e)
    assert.truthy(out:find("/sweep/results.csv: 6 rows (3 parts joined)\n", 1, true), out)
    assert.equals(7, #text_lines(read(dir .. "/sweep/results.csv")))
    assert.is_nil(io.open(dir .. "/sweep/parts"))
  end)

  it("explore --merge: a parts/ that cannot be listed (here a file) is said, not taken for no parts", function()
    local dir = h.scratch()
    h.write(dir .. "/sweep.lua", SCRIPT)
    assert.equals(0, (run(dir, "--task 0 --ntasks 2")))
    assert.truthy(os.rename(dir .. "/sweep/parts/task-0-of-2.csv", dir .. "/sweep/results.csv"))
    assert.truthy(os.remove(dir .. "/sweep/parts/points.txt"))
    assert.truthy(os.remove(dir .. "/sweep/parts"))
    h.write(dir .. "/sweep/parts", "a file where the folder of parts goes\n")
    local s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(1, s, e)
    assert.truthy(e:find("cannot list '" .. dir .. "/sweep/parts': Not a directory", 1, true), e)
    assert.is_nil(io.open(dir .. "/sweep/results.partial.csv"))
  end)

  -- A folder where task `mine` (its options) of SCRIPT ran, and the part `part` that task `theirs`
  -- (another base seed) wrote in a folder of its own, moved there.
  local function foreign_part(mine, theirs, part)
    local dir, other = h.scratch(), h.scratch()
    h.write(dir .. "/sweep.lua", SCRIPT)
    h.write(other .. "/sweep.lua", SCRIPT)
    assert.equals(0, (run(dir, mine)))
    assert.equals(0, (run(other, theirs)))
    assert.truthy(os.rename(other .. "/sweep/parts/" .. part, dir .. "/sweep/parts/" .. part))
    return dir
  end

  it("explore --merge refuses parts whose rows of one point differ (another space or base seed)", function()
    local dir = foreign_part("--task 0 --ntasks 3", "--task 0 --ntasks 2 --seed 4", "task-0-of-2.csv")
    local before = read(dir .. "/sweep/parts/task-0-of-3.csv")
    local s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(1, s)
    assert.truthy(e:find("task%-0%-of%-2%.csv' holds seed = %d+ at point 1, '[^']*task%-0%-of%-3%.csv' seed = " ..
                         "%d+: they are parts of different explorations"), e)
    assert.equals(before, read(dir .. "/sweep/parts/task-0-of-3.csv"))
    assert.is_nil(io.open(dir .. "/sweep/results.csv"))
  end)

  it("explore --merge refuses a part of another base seed that shares no point (the tasks' seed in points.txt)",
     function()
    -- (an array of --seed 4 writing the same folder, or its part copied there; before: joined, exit 0)
    local dir = foreign_part("--task 0 --ntasks 2", "--task 1 --ntasks 2 --seed 4", "task-1-of-2.csv")
    local s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(1, s, e)
    assert.truthy(e:find("task%-1%-of%-2%.csv' holds seed %d+ at point 2, not %d+, the seed of point 2 for the " ..
                         "base seed 3 of the tasks %(parts/points%.txt%): it is another exploration's; nothing joined"),
                  e)
    assert.is_nil(io.open(dir .. "/sweep/results.csv"))
    assert.is_nil(io.open(dir .. "/sweep/results.partial.csv"))
    -- the part of this exploration's task 1 instead: joined
    assert.truthy(os.remove(dir .. "/sweep/parts/task-1-of-2.csv"))
    assert.equals(0, (run(dir, "--task 1 --ntasks 2")))
    s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(0, s, e)
  end)

  it("explore --merge: a folder without a table is an error; --help lists the options", function()
    local dir = h.scratch()
    local s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir))
    assert.equals(1, s)
    assert.truthy(e:find("holds no results.csv and no parts/task-I-of-N.csv", 1, true), e)
    -- a results.csv that is a folder: said, as a file that cannot be read (it raised inside the library)
    assert.truthy(os.execute("mkdir " .. q(dir .. "/results.csv")))
    s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir))
    assert.equals(1, s)
    assert.truthy(e:find("explore: cannot read '" .. dir .. "/results.csv': Is a directory\n", 1, true), e)
    assert.falsy(e:find("attempt to", 1, true), e)
    local out
    s, out = h.sh(q(h.exe) .. " explore --help")
    assert.equals(0, s)
    assert.truthy(out:find("usage: neuromass explore --merge DIR", 1, true), out)
  end)
end)

-- BoxSearch and Evolution share one owner for the fields they both take
-- (common.check_common), the setting of a point on the model
-- (common.set_point) and the run of one point (common.run_point).
describe("what BoxSearch and Evolution share", function()
  teardown(h.remove_scratch)

  local function both(over)
    local function def(extra)
      local d = { model = function() return nm.models.fhn.native {} end, run = { duration = 10, dt = 0.1 },
                  out = "x" }
      for k, v in pairs(extra) do d[k] = v end
      for k, v in pairs(over) do d[k] = v end
      return d
    end
    local msgs = {}
    for _, what in ipairs { "BoxSearch", "Evolution" } do
      local ok, e = pcall(nm.explore[what], def(what == "BoxSearch"
        and { space = nm.explore.ParameterSpace { x_ext = { 0.5 } }, evaluate = function() return {} end }
        or { parameters = { x_ext = { 0, 1 } }, fitness = function() return 0 end, evaluations = 2 }))
      assert.is_false(ok, what)
      e = tostring(e)
      assert.truthy(e:find("^[^\n]*explore_spec.lua:%d+: " .. what .. ": "), e)
      msgs[#msgs + 1] = e:gsub("^.-: " .. what .. ": ", ""):gsub(": give save = .*", "")
    end
    assert.equals(msgs[1], msgs[2])
    return msgs[1]
  end

  -- Before: a model shared by model(point) was left with the last point's values on one core,
  -- the first missing point's with 2 workers (the parent's check), the bounds' midpoint after a
  -- fit, and as it was on a resume.
  it("put a shared model's values back as the exploration ends: 1 and 2 workers, a resume, info", function()
    local dir = h.scratch()
    h.write(dir .. "/shared.lua", [[
local nm = require "neuromass"
local m = nm.models.fhn.native {}
m.params.x_ext, m.params.alpha = 0.25, 3.25
nm.explore.BoxSearch { model = function() return m end,
  space = nm.explore.ParameterSpace { x_ext = { 0.5, 1, 1.5 } }, run = { duration = 1, dt = 0.1 },
  evaluate = function(_, p) assert(m.params.x_ext == p.x_ext); return { one = 1 } end, out = "s" }:run()
print(m.params.x_ext, m.params.alpha)
nm.explore.Evolution { model = function() return m end, run = { duration = 1, dt = 0.1 },
  parameters = { ["x_*"] = { 0, 1 }, alpha = 3 }, fitness = function() return 0 end,
  evaluations = 4, restarts = 2, out = "f" }:run()
print(m.params.x_ext, m.params.alpha)
]])
    local function go(cmd) return h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " " .. cmd .. " --quiet") end
    -- (1 worker; again, the search complete and the fit replayed; the search computed by 2 workers;
    -- info, which builds the first point's model and the bounds' midpoint's)
    for k, cmd in ipairs { "run shared.lua --workers 1", "run shared.lua --workers 1", "run shared.lua --workers 2",
                           "info shared.lua" } do
      local s, out, e = go(cmd)
      assert.equals(0, s, e)
      local want = "0.25\t3.25\n0.25\t3.25\n"
      assert.equals(want, cmd:find("^info") and out:sub(-#want) or out, cmd)   -- (info: the models described first)
      if k == 2 then os.remove(dir .. "/s/results.csv") end
    end
  end)

  it("check model, out, run and run.seed alike, at the user's line", function()
    assert.truthy(both({ model = 3 }):find("'model' must be a function(point) returning a model, got 3", 1, true))
    assert.truthy(both({ out = "" }):find("'out' must be a folder's name, got \"\"", 1, true))
    assert.truthy(both({ run = 5 }):find("'run' must be a table of model:run options, got 5", 1, true))
    assert.truthy(both({ run = { output = { csv = "a.csv" } } }):find("'run' cannot name outputs", 1, true))
    assert.truthy(both({ run = { seed = 1.5 } }):find("run.seed must be a whole number from 0 to 9223372036854775807 (2^63 - 1), got 1.5", 1, true))
    assert.truthy(both({ run = { seed = -1 } }):find("got -1", 1, true))
  end)

  it("check the run options that need no model before any point runs (not every point failed)", function()
    assert.truthy(both({ run = { duraton = 10 } }):find("run: unknown field 'duraton'; did you mean 'duration'?", 1, true))
    assert.truthy(both({ run = { duration = 10, threads = 0 } }):find("run: 'threads' must be a whole number", 1, true))
    assert.truthy(both({ run = { duration = 10, jit = "sometimes" } }):find("run: 'jit' must be", 1, true))
    assert.truthy(both({ run = { duration = 10, integrator = "rk5" } }):find("run: unknown integrator 'rk5'", 1, true))
    assert.truthy(both({ run = { duration = 10.05, dt = 0.1 } }):find("not a whole multiple of dt", 1, true))
    assert.truthy(both({ run = { duration = 10, dt = -1 } }):find("run: 'dt' must be a positive", 1, true))
    assert.truthy(both({ run = { duration = 10, dt = 0.1, sampling_dt = 0 } }):find(
                  "run: 'sampling_dt' = 0 ms must be at least dt = 0.1 ms", 1, true))
  end)

  it("--seed is the base seed of both: their tables equal those of run.seed, and the host's seed is kept", function()
    local text = [[
local nm = require "neuromass"
local ctx = require("neuromass.context").get()
local run = { duration = 20, dt = 0.1, seed = SEED }
local function model() return nm.models.fhn.native { sigma_ou = 0.1 } end
local function last(res) local x = res:matrix("x")[1]; return x[#x] end
nm.explore.BoxSearch { model = model, run = run, space = nm.explore.ParameterSpace { x_ext = { 0.5, 0.6 } },
  evaluate = function(res) return { last = last(res) } end, out = "box" }:run()
assert(ctx.seed == HOST, "the host's seed after BoxSearch: " .. tostring(ctx.seed))
nm.explore.Evolution { model = model, run = run, parameters = { x_ext = { 0, 1 } }, evaluations = 4,
  fitness = function(res) return last(res) end, out = "fit" }:run()
assert(ctx.seed == HOST, "the host's seed after Evolution: " .. tostring(ctx.seed))
]]
    local given, flag = h.scratch(), h.scratch()
    h.write(given .. "/s.lua", (text:gsub("SEED", "4"):gsub("HOST", "nil")))
    h.write(flag .. "/s.lua", (text:gsub("SEED", "nil"):gsub("HOST", "4")))
    local s, _, e = h.sh("cd " .. q(given) .. " && " .. q(h.exe) .. " run s.lua --workers 1 --quiet")
    assert.equals(0, s, e)
    s, _, e = h.sh("cd " .. q(flag) .. " && " .. q(h.exe) .. " run s.lua --workers 1 --quiet --seed 4")
    assert.equals(0, s, e)
    -- run.seed = 4.0 is 4, as for model:run
    local float = h.scratch()
    h.write(float .. "/s.lua", (text:gsub("SEED", "4.0"):gsub("HOST", "nil")))
    s, _, e = h.sh("cd " .. q(float) .. " && " .. q(h.exe) .. " run s.lua --workers 1 --quiet")
    assert.equals(0, s, e)
    for _, t in ipairs { "box/results.csv", "fit/results.csv" } do
      assert.equals(read(given .. "/" .. t), read(flag .. "/" .. t))
      assert.equals(read(given .. "/" .. t), read(float .. "/" .. t))
    end
    assert.truthy(read(flag .. "/fit/results.csv"):find("\n1,[^,]+,4,", 1), read(flag .. "/fit/results.csv"))
    assert.truthy(read(flag .. "/box/results.csv"):find("\n1,0.5," .. string.format("%d", nm.explore.seed(4, 1)),
                                                         1, true))
  end)
end)

describe("nm.explore.linspace", function()
  it("gives numpy's points, both ends included, and refuses bad arguments at the user's line", function()
    assert.same({ 0, 0.75, 1.5, 2.25, 3 }, nm.explore.linspace(0, 3, 5))
    assert.same({ 1, -1 }, nm.explore.linspace(1, -1, 2))
    local ok, err = pcall(function() nm.explore.linspace(0, 1, 1) end)
    assert.is_false(ok)
    assert.matches("explore_spec.lua:%d+: explore.linspace: n must be a whole number, 2 or more, got 1", err)
    ok, err = pcall(function() nm.explore.linspace(0, "1", 3) end)
    assert.is_false(ok)
    assert.matches("lo and hi must be numbers", err)
  end)
end)

describe("an exploration's model with a seed of its own", function()
  -- Before: native{ seed = 5 } (what seeds a plain model:run) was silently
  -- unused inside an exploration, whose points' seeds derive from --seed,
  -- else run.seed, else 0.
  local OWN = [[
local nm = require "neuromass"
local seed, run_seed = tonumber(arg[2]), tonumber(arg[3])
local fhn = function() return nm.models.fhn.native { seed = seed } end
if arg[1] == "box" then
  nm.explore.BoxSearch { model = fhn, space = nm.explore.ParameterSpace { x_ext = { 0.5, 0.6, 0.7 } },
    run = { duration = 5, dt = 0.1, seed = run_seed }, evaluate = function() return { one = 1 } end,
    out = arg[4] }:run()
else
  nm.explore.Evolution { model = fhn, run = { duration = 5, dt = 0.1, seed = run_seed }, restarts = 2,
    parameters = { x_ext = { 0, 1 } }, fitness = function(_, p) return -p.x_ext end, evaluations = 4,
    out = arg[4] }:run()
end
]]
  local function warning(what, base)
    return "neuromass: warning: " .. what .. ": the model's own seed 5 (its constructor's 'seed', which seeds " ..
           "a plain model:run's noise) does not seed the points' runs: their seeds derive from the exploration's " ..
           "base seed, here " .. base .. " (--seed, else run.seed, else 0); give run = { seed = 5 } (or --seed 5) " ..
           "to explore from it\n"
  end

  it("is a warning, once, naming the base seed used and how to explore from it", function()
    local dir = h.scratch()
    h.write(dir .. "/own.lua", OWN)
    local function run_own(args, opts)
      return h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run own.lua --quiet " .. (opts or "") .. " -- " .. args)
    end
    local n = 0
    for _, what in ipairs { "box", "fit" } do
      local name = what == "box" and "BoxSearch" or "Evolution"
      for _, c in ipairs {
        { "5 nil", "", warning(name, 0) },
        { "5 nil", "--workers 2", warning(name, 0) },
        { "5 2", "", warning(name, 2) },
        { "5 nil", "--seed 7", warning(name, 7) },
        { "5 5", "", "" },                 -- the model's seed is the base: nothing unused
        { "5 nil", "--seed 5", "" },
        { "nil nil", "", "" },             -- no seed of its own
        { "0 nil", "", "" },               -- 0, the default base
      } do
        n = n + 1
        local s, _, e = run_own(what .. " " .. c[1] .. " out" .. n, c[2])
        assert.equals(0, s, e)
        assert.equals(c[3], e, what .. " " .. c[1] .. " " .. c[2])
      end
    end
  end)

  -- Before: each rank of mpirun wrote its own one-time warnings (this one twice).
  it("is written once by mpirun -np 2 too", function()
    local why = h.mpi_missing()
    if why then return pending(why) end
    local dir = h.scratch()
    h.write(dir .. "/own.lua", OWN)
    for _, c in ipairs { { "box", "BoxSearch" }, { "fit", "Evolution" } } do
      local s, _, e = h.sh("cd " .. q(dir) .. " && " .. h.MPIRUN .. q(h.exe) .. " run own.lua --quiet -- " ..
                           c[1] .. " 5 nil out_" .. c[1])
      assert.equals(0, s, e)
      assert.equals(warning(c[2], 0), e)
    end
  end)
end)

describe("nm.plot.exploration and nm.plot.evolution under neuromass info", function()
  -- Before, they returned `out` as given ("sweep/m.png"), where a run returns it under --out.
  it("return the path a run would write, under --out, and draw nothing", function()
    local dir = h.scratch()
    h.write(dir .. "/p.lua", [[
local nm = require "neuromass"
local search = nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace({ { "x_ext", { 0.5, 0.75 } } }),
  run = { duration = 10, dt = 0.1 },
  evaluate = function(res) return { m = res:matrix("x")[1][1] } end,
  out = "sweep",
}
local r = search:run()
print(nm.plot.exploration(r, { metric = "m", out = "sweep/m.png" }))
local best = nm.explore.Evolution {
  model = function() return nm.models.fhn.native {} end, run = { duration = 10, dt = 0.1 },
  parameters = { x_ext = { 0, 1 } }, fitness = function(res) return res:matrix("x")[1][1] end,
  evaluations = 4, out = "fit",
}:run()
print(nm.plot.evolution(best, { out = "fit/f.png" }))
]])
    local s, out, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " info p.lua --out o --quiet")
    assert.equals(0, s, e)
    assert.truthy(out:find("\no/sweep/m%.png\n"), out)
    assert.truthy(out:find("\no/fit/f%.png\n$"), out)
    assert.is_nil(io.open(dir .. "/o"))
    h.remove_scratch()
  end)
end)
