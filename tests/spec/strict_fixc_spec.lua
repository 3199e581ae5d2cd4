-- strict_fixc_spec.lua: issue 11, second new-user tester (FIX-C): fields the
-- user assigned read back (even nil), pairs over a dataset, res.x pointing to
-- res:get/res:matrix, nm.func's argument names, dry path, prefixes and holes,
-- and the record = {} wording of write_audio.
local h = require "helpers"
local nm = require "neuromass"

-- Calls fn, which must fail at the line after the caller's; the message must
-- match `pattern` (Lua pattern) after "<this file>:<line>: ".
local function fails(fn, pattern)
  local line = debug.getinfo(2, "l").currentline
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.matches("^[^:]*strict_fixc_spec%.lua:" .. line .. ": " .. pattern, err)
end

describe("strict objects: a field the user assigned reads back", function()
  local m = nm.models.fhn.native {}
  local res = m:run { duration = 10 }

  it("a result's field assigned nil (directly or from a function) reads nil", function()
    res.extra = nil
    assert.is_nil(res.extra)
    local function f() return nil end
    res.peak = f()
    assert.is_nil(res.peak)
    res.kept = 3
    assert.equal(3, res.kept)
    -- a field never assigned is still a misspelling
    fails(function() return res.extar end, "result has no field 'extar'; did you mean 'extra'%?")
  end)

  it("reads through a proxy (setmetatable({}, { __index = res })) of assigned fields", function()
    res.note = nil
    local proxy = setmetatable({}, { __index = res })
    assert.is_nil(proxy.note)
    fails(function() return proxy.nte end, "result has no field 'nte'")
  end)

  it("models and datasets follow the same rule", function()
    m.mine = nil
    assert.is_nil(m.mine)
    fails(function() return m.mien end, "model '.-' has no field 'mien'")
    local ds = nm.datasets.load("gw")
    ds.mine = nil
    assert.is_nil(ds.mine)
    fails(function() return ds.mien end, "dataset 'gw' has no field 'mien'")
  end)

  it("res.x, a variable of the model, points to res:get and res:matrix", function()
    fails(function() return res.x end,
          "result has no field 'x'; 'x' is a variable of the model: read it with " ..
          "res:get%(\"x\", node%) %(a node's series%) or res:matrix%(\"x\"%) %(N x T%)")
    -- (y is not recorded by default, but is the model's: the same pointer)
    fails(function() return res.y end, "result has no field 'y'; 'y' is a variable of the model")
  end)
end)

describe("pairs over a dataset", function()
  it("lists every documented field, the lazy BOLDs, FCs and subjects too", function()
    local seen = {}
    for k in pairs(nm.datasets.load("gw")) do seen[k] = true end
    for _, k in ipairs { "name", "Cmat", "Dmat", "names", "hemisphere", "coords", "subjects", "BOLDs", "FCs" } do
      assert.is_true(seen[k] == true, k)
    end
  end)
end)

describe("write_audio after record = {}", function()
  it("says the run recorded no variable (result.lua's wording), not that it streamed to files", function()
    local res = nm.models.fhn.native {}:run { duration = 10, record = {} }
    fails(function() res:write_audio(os.tmpname() .. ".wav") end,
          "write_audio: nothing was kept in memory %(the run recorded no variable: record = {}; name " ..
          "the variables to keep in 'record'%)")
  end)
end)

describe("nm.func: argument names, values, prefixes and holes", function()
  it("getPowerSpectrum names x and shows the value (nil, a string, an empty table)", function()
    fails(function() nm.func.getPowerSpectrum(nil, 2000) end,
          "nm%.func%.getPowerSpectrum: x must be a series %(an array of numbers%) or a 1 x T matrix, got nil$")
    fails(function() nm.func.getPowerSpectrum("abc", 1) end,
          "nm%.func%.getPowerSpectrum: x must be a series .-, got \"abc\" %(a string%)$")
    fails(function() nm.func.getPowerSpectrum({}, 1) end,
          "nm%.func%.getPowerSpectrum: x has no samples: it is an empty table {}$")
    fails(function() nm.func.getPowerSpectrum({ 1, 2, "a" }, 1) end,
          "nm%.func%.getPowerSpectrum: x%[3%] must be a number, got \"a\" %(a string%)$")
    fails(function() nm.func.getPowerSpectrum({ { 1, "a" } }, 1) end,
          "nm%.func%.getPowerSpectrum: x%[1%]%[2%] must be a number")
  end)

  it("names every function's arguments as docs/reference.md does", function()
    fails(function() nm.func.fc(nil) end, "nm%.func%.fc: ts must be a matrix %(an array of rows%), got nil$")
    fails(function() nm.func.fcd(nil) end, "nm%.func%.fcd: ts must be")
    fails(function() nm.func.kuramoto(nil) end, "nm%.func%.kuramoto: ts must be")
    fails(function() nm.func.getMeanPowerSpectrum(nil, 1) end, "nm%.func%.getMeanPowerSpectrum: ts must be")
    fails(function() nm.func.matrix_correlation({ { 1, 0 }, { 0, 1 } }, nil) end, "nm%.func%.matrix_correlation: M2 must be")
    fails(function() nm.func.matrix_kolmogorov(nil, nil) end, "nm%.func%.matrix_kolmogorov: m1 must be")
    fails(function() nm.func.ts_kolmogorov("b", { { 1, 2 } }) end,
          "nm%.func%.ts_kolmogorov: ts1 must be a matrix %(an array of rows%), got \"b\" %(a string%)$")
    fails(function() nm.func.ts_kolmogorov({ { 1, "a" } }, { { 1, 2 } }) end,
          "nm%.func%.ts_kolmogorov: ts1%[1%]%[2%] must be a number")
    fails(function() nm.func.weighted_correlation({ 1 }, { 1 }, "w") end,
          "nm%.func%.weighted_correlation: w must be an array of numbers, got \"w\" %(a string%)$")
    -- the names checked against the reference's headings
    local f = io.open(h.top .. "/docs/reference.md"); local doc = f:read("a"); f:close()
    for _, heading in ipairs { "fc(ts", "fcd(ts", "kuramoto(ts", "getPowerSpectrum(x, dt", "getMeanPowerSpectrum(ts, dt",
                               "matrix_correlation(M1, M2)", "matrix_kolmogorov(m1, m2)",
                               "weighted_correlation(x, y, w)", "ts_kolmogorov(ts1, ts2" } do
      assert.truthy(doc:find("### `nm.func." .. heading, 1, true), heading)
    end
  end)

  it("one prefix: the engine's reason does not repeat the function's name", function()
    fails(function() nm.func.matrix_kolmogorov({ { 1 } }, { { 1 } }) end,
          "nm%.func%.matrix_kolmogorov: the matrices must be at least 2 x 2")
    fails(function() nm.func.getMeanPowerSpectrum({ { 1 } }, 1) end,
          "nm%.func%.getMeanPowerSpectrum: needs a series of at least 2 samples")
  end)

  it("an error of res:matrix called through (res, \"z\") is the function's", function()
    local res = nm.models.fhn.native {}:run { duration = 10 }
    fails(function() nm.func.fc(res, "z") end, "nm%.func%.fc: variable 'z' was not recorded")
  end)

  it("refuses a matrix or a series with a hole (# is undefined then)", function()
    fails(function() nm.func.fc({ [1] = { 1, 2, 3 }, [3] = { 1, 2, 3 } }) end,
          "nm%.func%.fc: ts has a hole: entry 2 is nil but entry 3 is set")
    fails(function() nm.func.fc({ { 1, 2, 3 }, { 1, 2, [4] = 3 } }) end, "nm%.func%.fc: ts%[2%] has a hole")
    fails(function() nm.func.weighted_correlation({ 1, 2 }, { 1, 2 }, { [1] = 1, [3] = 2 }) end,
          "nm%.func%.weighted_correlation: w has a hole")
    fails(function() nm.func.getPowerSpectrum({ [1] = 1, [2] = 2, [4] = 3 }, 1) end,
          "nm%.func%.getPowerSpectrum: x has a hole: entry 3 is nil")
  end)
end)

describe("nm.func under neuromass info", function()
  after_each(h.remove_scratch)
  -- Runs `body` under `neuromass info`; returns status, stderr.
  local function info(body)
    local dir = h.scratch()
    local script = dir .. "/s.lua"
    h.write(script, "local nm = require 'neuromass'\n" .. body .. "\n")
    local status, _, err = h.sh(h.q(h.exe) .. " info " .. h.q(script))
    return status, err
  end

  it("excuses empty data only: nil, a string and data-free option checks are refused", function()
    local status = info("local f, P = nm.func.getPowerSpectrum({}, 1)\nlocal c = nm.func.fc({})")
    assert.equal(0, status)
    local s1, e1 = info("local f, P = nm.func.getPowerSpectrum(nil, 1)")
    assert.is_not.equal(0, s1)
    assert.matches("s%.lua:2: nm%.func%.getPowerSpectrum: x must be .-, got nil", e1)
    local s2, e2 = info("local r = nm.func.matrix_correlation({}, 'abc')")
    assert.is_not.equal(0, s2)
    assert.matches("s%.lua:2: nm%.func%.matrix_correlation: M2 must be a matrix %(an array of rows%), " ..
                   "got \"abc\" %(a string%)", e2)
    local s3, e3 = info("local f, P = nm.func.getPowerSpectrum({}, 2000, { spectrum_windowsize = 1 })")
    assert.is_not.equal(0, s3)
    assert.matches("s%.lua:2: nm%.func%.getPowerSpectrum: spectrum_windowsize 1 s is shorter than one " ..
                   "sample of dt = 2000 ms", e3)
  end)
end)

describe("run outputs: the role and the path (items 6 and 7)", function()
  after_each(h.remove_scratch)

  it("an output.bold or output.csv that cannot be created is named by its role and path", function()
    local m = nm.models.fhn.native {}
    for _, role in ipairs { "bold", "csv" } do
      local ok, err = pcall(function() m:run { duration = 10, bold = true, output = { [role] = "/proc/b.csv" } } end)
      assert.is_false(ok)
      assert.matches("run: output%." .. role .. " '/proc/b%.csv'", err, 1, false)
    end
  end)

  it("a continued run refuses the output file of the run it continues (any spelling)", function()
    local dir = h.scratch()
    local m = nm.models.fhn.native {}
    m:run { duration = 2000, bold = true, output = { bold = dir .. "/o.csv", csv = dir .. "/x.csv" } }
    fails(function() m:run { duration = 2000, bold = true, continue = true, output = { bold = dir .. "/o.csv" } } end,
          "run: output%.bold '.-/o%.csv' holds the rows of the run this one continues: a continued run " ..
          "writes its own file; name another")
    fails(function() m:run { duration = 2000, bold = true, continue = true, output = { csv = dir .. "/./x.csv" } } end,
          "run: output%.csv '.-/x%.csv' holds the rows of the run this one continues")
    -- its own file is fine, and a fresh run may replace the files
    m:run { duration = 2000, bold = true, continue = true, output = { bold = dir .. "/p.csv" } }
    fails(function() m:run { duration = 2000, bold = true, continue = true, output = { bold = dir .. "/p.csv" } } end,
          "run: output%.bold '.-/p%.csv' holds the rows")
    m:run { duration = 2000, bold = true, output = { bold = dir .. "/o.csv" } }
  end)
end)
