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
