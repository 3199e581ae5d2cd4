-- stimulus_messages_spec.lua: the messages of stimulus errors found when a
-- stimulus is used (as_array, to_model, a run) name the stimulus at fault
-- and where it sits: a leaf of a sum is not "a segment of a concatenation",
-- and a composite made to contain itself is reported as that composite.
local nm = require "neuromass"
local h = require "helpers"
local S = nm.stimulus

local fails = h.error_of   -- the message of a call that must fail

describe("request errors of a leaf", function()
  it("inside a sum speak of the stimulus's own duration, not of a concatenation", function()
    local s = S.StepInput { step_size = 0.5, start = 50 } + S.SinusoidalInput { amplitude = 0.2, frequency = 10 }
    local err = fails(function() s:as_array(50, 0.1) end)
    assert.matches("StepInput: start = 50 ms must be before the end of the stimulus %(50 ms%)", err)
    assert.not_matches("concatenation", err)
    local model = nm.models.fhn.native {}
    err = fails(function() s:to_model(model, 50) end)
    assert.matches("StepInput: start = 50 ms must be before the end of the stimulus %(50 ms%)", err)
  end)

  it("inside a concatenation (also under a sum) name the segment", function()
    local c = S.StepInput { step_size = 1 } & (S.StepInput { step_size = 2, start = 500 } + S.ZeroInput())
    assert.matches("StepInput: start = 500 ms must be before the end of its segment of the concatenation %(500 ms%)",
                   fails(function() c:as_array(1000, 0.1) end))
    local e = S.ZeroInput() & S.StepInput { step_size = 2, ["end"] = 600 }
    assert.matches("StepInput: end = 600 ms is after the end of its segment of the concatenation %+ dt %(500%.1 ms%)",
                   fails(function() e:as_array(1000, 0.1) end))
    local top = S.StepInput { step_size = 2, ["end"] = 600 } + S.ZeroInput()
    assert.matches("StepInput: end = 600 ms is after its duration %+ dt %(500%.1 ms%)",
                   fails(function() top:as_array(500, 0.1) end))
  end)
end)

describe("a composite made to contain itself", function()
  it("is reported as that composite, not as its first leaf", function()
    local c = S.StepInput { step_size = 1 } & S.ZeroInput()
    c.inputs[2] = c
    local err = fails(function() c:as_array(1, 0.1) end)
    assert.matches("ConcatenatedStimulus: stimuli nested 101 deep, more than the 100 levels allowed", err)
    assert.matches("does a composite contain itself%?", err)
    local s = S.StepInput { step_size = 1 } + S.ZeroInput()
    s.inputs[1] = s
    assert.matches("SummedStimulus: stimuli nested 101 deep", fails(function() s:as_array(1, 0.1) end))
  end)
end)

describe("composites of nothing", function()
  it("say the list is empty", function()
    assert.matches("SummedStimulus: needs a non%-empty list of stimuli, got an empty list",
                   fails(function() local _ = S.SummedStimulus({}) end))
    assert.matches("ConcatenatedStimulus: needs a non%-empty list of stimuli, got an empty list",
                   fails(function() local _ = S.ConcatenatedStimulus({}, {}) end))
    local c = S.StepInput { step_size = 1 } & S.ZeroInput()
    assert.matches("needs a non%-empty list of stimuli, got an empty list", fails(function() c.inputs = {} end))
  end)
end)

describe("a stimulus driving several masses of each node", function()
  -- Two nodes of two masses, each mass showing its parameter I as output u.
  local function two_by_two()
    local function mass(t)
      return nm.mass { name = "M" .. t, type = t, state = { x = 0 }, params = { I = 0 },
                       derivatives = function() return { x = 0 } end,
                       outputs = function(_, p) return { u = p.I } end }
    end
    local E, I = mass("EXC"), mass("INH")
    local nodes = {}
    for k = 1, 2 do nodes[k] = nm.node { label = "N", masses = { E(), I() } } end
    return nm.model(nm.network { label = "Net", nodes = nodes })
  end

  it("maps channel i onto the i-th target, node by node and mass by mass", function()
    local model = two_by_two()
    model.params["*.I"] = S.custom(function(_, D, dt)
      local rows = {}
      for c = 1, 4 do rows[c] = {} for k = 1, S.length(D, dt) do rows[c][k] = c end end
      return rows
    end, { n = 4, duration = 1 })
    local res = model:run { duration = 1, dt = 0.1, record = { "u_EXC", "u_INH" } }
    assert.are.same({ 1, 2, 3, 4 }, { res:get("u_EXC", 0)[5], res:get("u_INH", 0)[5],
                                     res:get("u_EXC", 1)[5], res:get("u_INH", 1)[5] })
  end)

  it("refuses another n saying how the targets are counted, not 'one per node'", function()
    local model = two_by_two()
    local err = fails(function() model.params["*.I"] = S.StepInput { step_size = 1, n = 2 } end)
    assert.matches("the stimulus for '%*%.I' has n = 2 channels, but '%*%.I' matches 4 targets %(channel i " ..
                   "drives the i%-th, node by node and mass by mass%): give n = 4, or n = 1 to drive all alike", err)
  end)
end)
