-- stimulus_layout_spec.lua: docs/stimulus.md, "Duration": a stimulus that
-- depends on the request's duration is laid out over each fresh run it
-- drives, a continued run keeps the layout of the run it continues, its own
-- `duration` fixes the layout, and a part's own `duration` is not used.
local nm = require "neuromass"
local S = nm.stimulus

local Probe = nm.mass { name = "Probe", state = { x = 0 }, params = { I = 0 },
                        derivatives = function() return { x = 0 } end,
                        outputs = function(_, p) return { u = p.I } end }

-- The row (1-based) where u first changes: row k holds sample k - 1, so a
-- concatenation of two steps switching after sample j changes at row j + 2.
local function switch_row(res)
  local u = res:get("u")
  for k = 2, #u do if u[k] ~= u[k - 1] then return k end end
end

describe("the layout of a duration-dependent stimulus", function()
  it("follows each fresh run, and is kept by a continued run", function()
    local model = nm.model(nm.node { label = "P", masses = { Probe() } })
    model.params["*.I"] = S.StepInput { step_size = 1 } & S.StepInput { step_size = 2 }
    assert.are.equal(502, switch_row(model:run { duration = 100, dt = 0.1, record = { "u" } }))
    assert.are.equal(1002, switch_row(model:run { duration = 200, dt = 0.1, record = { "u" } }))
    assert.are.equal(2002, switch_row(model:run { duration = 200, dt = 0.05, record = { "u" } }))
    assert.are.equal(502, switch_row(model:run { duration = 100, dt = 0.1, record = { "u" } }))
    local more = model:run { duration = 100, dt = 0.1, record = { "u" }, continue = true }
    assert.are.equal(2, more:get("u")[1])          -- the second half of the 100 ms layout goes on
  end)

  it("is fixed by the assigned stimulus's duration; a part's duration is not used", function()
    local model = nm.model(nm.node { label = "P", masses = { Probe() } })
    local s = S.StepInput { step_size = 1 } & S.StepInput { step_size = 2 }
    s.duration = 60
    model.params["*.I"] = s
    assert.are.equal(302, switch_row(model:run { duration = 200, dt = 0.1, record = { "u" } }))
    model.params["*.I"] = S.StepInput { step_size = 1, duration = 60 } & S.StepInput { step_size = 2 }
    assert.are.equal(1002, switch_row(model:run { duration = 200, dt = 0.1, record = { "u" } }))
  end)
end)

-- docs/stimulus.md, "When a window is on": (start, end] on the samples labelled dt, 2 dt, ...,
-- and a window longer than a test run is refused unless the stimulus has a duration of its own.
describe("a stimulus window", function()
  it("is on at the samples labelled start + dt to end; a shorter run takes it with its own duration", function()
    local a = S.StepInput { step_size = 1, start = 10, ["end"] = 20 }:as_array(30, 1)[1]
    local on = {}
    for k, v in ipairs(a) do if v ~= 0 then on[#on + 1] = k end end
    assert.same({ 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 }, on)
    local model = nm.model(nm.node { label = "P", masses = { Probe() } })
    model.params["*.I"] = S.StepInput { step_size = 1, start = 5, ["end"] = 2000 }
    local ok, err = pcall(function() model:run { duration = 100, dt = 0.1, record = { "u" } } end)
    assert.is_false(ok)
    assert.matches("StepInput: end = 2000 ms is after its duration %+ dt %(100%.1 ms%).*give it duration = ", err)
    model.params["*.I"] = S.StepInput { step_size = 1, start = 5, ["end"] = 2000, duration = 3000 }
    assert.are.equal(52, switch_row(model:run { duration = 100, dt = 0.1, record = { "u" } }))  -- row 52: sample 51
  end)
end)
