-- csv_columns_spec.lua: output.csv = { path =, record = } chooses the CSV's
-- columns apart from what 'record' keeps in memory (run/plan.lua, run.lua,
-- the engine's recorder: a sink taking columns from a given one), so that a
-- long run streams some variables with nothing kept.
local nm = require "neuromass"
local h = require "helpers"

local function model()
  return nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 10 }, { 10, 0 } },
                                sigma_ou = 0.05 }
end

describe("output.csv with columns of its own", function()
  local dir
  before_each(function() dir = h.scratch() end)

  it("streams every row of a long run while the result keeps none", function()
    local path = dir .. "/x.csv"
    local res = model():run { duration = 100000, dt = 0.1, sampling_dt = 1, seed = 3, record = {},
                              output = { csv = { path = path, record = { "x" } } } }
    assert.are.equal(0, res:rows())
    local csv = h.read_csv(path)
    assert.are.same({ "t", "x.0", "x.1" }, csv.header)
    assert.are.equal(100000, csv.rows)
    assert.are.equal(100000, csv.cols.t[100000])
  end)

  it("writes the CSV's columns and keeps the result's, each as a plain run records them", function()
    local plain = model():run { duration = 50, dt = 0.1, sampling_dt = 0.5, seed = 3 }
    local path = dir .. "/x.csv"
    local res = model():run { duration = 50, dt = 0.1, sampling_dt = 0.5, seed = 3, record = { "y" },
                              output = { csv = { path = path, record = { "x" } } } }
    assert.are.same({ "t", "y.0", "y.1" }, res.columns)
    assert.are.same(plain:get("y", 1), res:get("y", 1))
    local csv = h.read_csv(path)
    assert.are.same({ "t", "x.0", "x.1" }, csv.header)
    assert.are.same(plain:get("t"), csv.cols.t)
    assert.are.same(plain:get("x", 0), csv.cols["x.0"])
    assert.are.same(plain:get("x", 1), csv.cols["x.1"])
  end)

  it("keeps them apart beside a streamed audio (rows recorded at every step)", function()
    local plain = model():run { duration = 200, dt = 0.1, sampling_dt = 0.5, seed = 3 }
    local path = dir .. "/x.csv"
    local res = model():run { duration = 200, dt = 0.1, sampling_dt = 0.5, seed = 3, record = { "y" },
                              output = { csv = { path = path, record = { "x" } },
                                         audio = { path = dir .. "/a.wav", speedup = 1, variable = "y" } } }
    assert.are.same(plain:get("y", 0), res:get("y", 0))
    local csv = h.read_csv(path)
    assert.are.same({ "t", "x.0", "x.1" }, csv.header)
    assert.are.same(plain:get("x", 1), csv.cols["x.1"])
  end)

  it("a path alone still writes what 'record' keeps", function()
    local path = dir .. "/y.csv"
    local res = model():run { duration = 10, dt = 0.1, record = { "y" }, output = { csv = { path = path } } }
    assert.are.equal(100, res:rows())
    assert.are.same({ "t", "y.0", "y.1" }, h.read_csv(path).header)
  end)
end)

describe("a result too large for memory", function()
  it("is refused saying how to stream its variables and keep none", function()
    local err = h.error_of(function() model():run { duration = 1e11, dt = 0.1 } end)
    assert.matches("the result would keep", err, 1, true)
    assert.matches("output.csv = { path = ..., record = { ... } } with 'record' naming only what to keep " ..
                   "in memory (record = {}: nothing)", err, 1, true)
  end)
end)
