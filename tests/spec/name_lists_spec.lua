-- name_lists_spec.lua: lists of names and nodes.  run{ record = ... } takes
-- a name or a list of names; a name given twice (which made two columns
-- 'x.0', a CSV that neuromass plot refuses) and a table that is not a list
-- ({ x = true }, a Python set's habit, which recorded nothing) are errors at
-- the user's line.  A node named twice in a figure's or a sound's `nodes`
-- (drawn or played twice, "x of 2 nodes" for one) is an error too.
local nm = require "neuromass"

-- The message of f(), which must fail.  (pcall here, not in helpers.lua: the
-- error of a tail call, `return m:run{...}`, is placed at pcall's caller.)
local function err(f)
  local ok, e = pcall(f)
  if ok then error("expected an error", 2) end
  return tostring(e)
end

describe("run{ record = ... }", function()
  local m = nm.models.fhn.native {}

  it("refuses a name given twice", function()
    assert.matches("^tests/spec/name_lists_spec.lua:%d+: run: 'record' names 'x' twice %(entries 1 and 3%)$",
                   err(function() return m:run { duration = 1, record = { "x", "y", "x" } } end))
  end)

  it("refuses a table that is not a list of names", function()
    assert.matches("name_lists_spec.lua:%d+: run: 'record' must be a variable name or a list of names: " ..
                   "it has the key x %(a list's keys are 1, 2, ...%)$",
                   err(function() return m:run { duration = 1, record = { x = true } } end))
    assert.matches("name_lists_spec.lua:%d+: run: 'record' must be a variable name or a list of names: " ..
                   "it has the key 3 ",
                   err(function() return m:run { duration = 1, record = { "x", [3] = "y" } } end))
  end)

  it("refuses false (read as 'the default', every variable), saying that {} keeps nothing", function()
    assert.matches("name_lists_spec.lua:%d+: run: 'record' = false is no value of it: leave it out for the " ..
                   "default %(every variable%); record = {} keeps nothing$",
                   err(function() return m:run { duration = 1, record = false } end))
  end)

  it("and so is any option given false that takes no false (it read as absent: seed = false ran seed 0)", function()
    for _, k in ipairs { "seed", "dt", "sampling_dt", "integrator", "output", "duration", "rtol" } do
      assert.matches("name_lists_spec.lua:%d+: run: '" .. k .. "' = false is no value of it: leave it out for " ..
                     "the default$", err(function() return m:run { duration = 1, [k] = false } end))
    end
    assert.equals(10, m:run { duration = 1, jit = false, progress = false, bold = false, continue = false }:rows())
  end)

  it("records each name of a list once, in its order", function()
    local res = m:run { duration = 1, record = { "y", "x" } }
    assert.same({ "t", "y.0", "x.0" }, res.columns)
    assert.equals(0, m:run { duration = 1, record = {} }:rows())
  end)
end)

describe("nodes = { ... } of a figure or a sound", function()
  local res = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } } }:run { duration = 5 }

  it("refuses a node named twice", function()
    assert.matches("^tests/spec/name_lists_spec.lua:%d+: plot.timeseries: 'nodes' names node 1 twice$",
                   err(function() return res:plot { out = "never.png", nodes = { 1, 0, 1 } } end))
    assert.matches("^tests/spec/name_lists_spec.lua:%d+: write_audio: 'nodes' names node 0 twice$",
                   err(function() return res:write_audio("never.wav", { nodes = { 0, 0 } }) end))
    assert.is_nil(io.open("never.png"))
    assert.is_nil(io.open("never.wav"))
  end)

  it("refuses a table that is not a list (entries ipairs would not see)", function()
    assert.matches("name_lists_spec.lua:%d+: plot.timeseries: 'nodes' must be a list of 0%-based node numbers, " ..
                   "got { 0, %[5%] = 1 }$", err(function() return res:plot { out = "never.png", nodes = { 0, [5] = 1 } } end))
    assert.matches("name_lists_spec.lua:%d+: write_audio: 'nodes' must be a list of node indices %(0%-based%), " ..
                   "got { x = 1 }$", err(function() return res:write_audio("never.wav", { nodes = { x = 1 } }) end))
    assert.matches("name_lists_spec.lua:%d+: write_audio: 'column' must be a glob such as 'x.%*' or a list of " ..
                   "them, got { x = 1 }$", err(function() return res:write_audio("never.wav", { column = { x = 1 } }) end))
    assert.is_nil(io.open("never.png"))
    assert.is_nil(io.open("never.wav"))
  end)
end)

describe("an option given false that takes no false", function()
  local res = nm.models.fhn.native {}:run { duration = 5 }

  it("is refused by write_audio (rate = false played at 44100 Hz), which takes false for its switches", function()
    for _, k in ipairs { "rate", "bits", "skip", "headroom", "variable" } do
      assert.matches("name_lists_spec.lua:%d+: write_audio: '" .. k .. "' = false is no value of it: leave it " ..
                     "out for the default$", err(function() return res:write_audio("never.wav", { [k] = false }) end))
    end
    assert.is_nil(io.open("never.wav"))
  end)

  it("is refused by ParameterSpace's kind (false made a grid)", function()
    assert.matches("name_lists_spec.lua:%d+: ParameterSpace: kind must be \"grid\" or \"sequence\", got false$",
                   err(function() return nm.explore.ParameterSpace({ { "x_ext", { 0 } } }, { kind = false }) end))
  end)
end)

describe("an exploration's save = { ... }", function()
  it("refuses a table that is not a list ({ csv = true } saved nothing)", function()
    local m = nm.models.fhn.native {}
    assert.matches("name_lists_spec.lua:%d+: BoxSearch: 'save' must be a list of \"csv\", \"bold\", \"fc\" " ..
                   "%(and fc = { skip = N }%), got { csv = true } %(the key csv%)$",
                   err(function()
                     return nm.explore.BoxSearch { model = function() return m end, run = { duration = 1 },
                                                   space = nm.explore.ParameterSpace({ { "x_ext", { 0 } } }),
                                                   evaluate = function() return { a = 1 } end, out = "never",
                                                   save = { csv = true } }
                   end))
  end)
  it("takes fc = { skip = N } (nm.func.fc's options) and refuses bad ones at the user's line", function()
    local m = nm.models.fhn.native {}
    local function box(save)
      return nm.explore.BoxSearch { model = function() return m end, run = { duration = 1, bold = true },
                                    space = nm.explore.ParameterSpace({ { "x_ext", { 0 } } }),
                                    evaluate = function() return { a = 1 } end, out = "never", save = save }
    end
    assert.are.same({ bold = true, fc = { skip = 5 } }, box({ "bold", fc = { skip = 5 } }).save)
    assert.are.same({ fc = { skip = 0 } }, box({ "fc" }).save)
    assert.matches("name_lists_spec.lua:%d+: BoxSearch: save's fc = { skip = %-1 }: 'skip' must be a whole " ..
                   "number >= 0 %(BOLD samples dropped before the FC%), got %-1$",
                   err(function() return box({ fc = { skip = -1 } }) end))
    assert.matches("name_lists_spec.lua:%d+: BoxSearch: save's fc has no option 'skp'; did you mean 'skip'",
                   err(function() return box({ fc = { skp = 1 } }) end))
    assert.matches("name_lists_spec.lua:%d+: BoxSearch: 'save' must be a list of \"csv\", \"bold\", \"fc\" " ..
                   "%(and fc = { skip = N }%), got { bold = true } %(the key bold%)$",
                   err(function() return box({ bold = true }) end))
    assert.matches("name_lists_spec.lua:%d+: BoxSearch: save = { \"fc\" } and fc = { %.%.%. } at once",
                   err(function() return box({ "fc", fc = { skip = 1 } }) end))
  end)
end)
