-- stimulus_as_data_spec.lua: a stimulus passed where nm.func or nm.plot expect
-- data (a series, a matrix, a result) is refused as a stimulus, with how to
-- render it, whichever argument it is; no message shows a stimulus's
-- internal fields (_class, _serial).
-- Before: "StepInput: unknown parameter '1'; did you mean 'n'?" (the data
-- were indexed) or "got a table with no rows (it has the field _class)".
local nm = require "neuromass"

local stim = nm.stimulus.StepInput { step_size = 1, start = 10 }
local M2 = { { 1, 0.5 }, { 0.5, 1 } }
local RENDER = " is a stimulus %(StepInput%): render it with s:as_array%(duration, dt%) first$"

local function refused(fn, prefix, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  assert.matches("^[^:]*:%d+: " .. prefix .. RENDER, err)
  assert.is_nil(err:find("_class", 1, true))
  assert.is_nil(err:find("_serial", 1, true))
end

describe("a stimulus where data are expected", function()
  it("is refused by every nm.func function, naming the argument", function()
    refused(nm.func.fc, "nm%.func%.fc: ts", stim)
    refused(nm.func.fcd, "nm%.func%.fcd: ts", stim)
    refused(nm.func.kuramoto, "nm%.func%.kuramoto: ts", stim)
    refused(nm.func.getPowerSpectrum, "nm%.func%.getPowerSpectrum: x", stim, 0.1)
    refused(nm.func.getMeanPowerSpectrum, "nm%.func%.getMeanPowerSpectrum: ts", stim, 0.1)
    refused(nm.func.matrix_correlation, "nm%.func%.matrix_correlation: M2", M2, stim)
    refused(nm.func.matrix_kolmogorov, "nm%.func%.matrix_kolmogorov: m1", stim, M2)
    refused(nm.func.weighted_correlation, "nm%.func%.weighted_correlation: w", { 1, 2 }, { 1, 2 }, stim)
    refused(nm.func.ts_kolmogorov, "nm%.func%.ts_kolmogorov: ts2", M2, stim)
  end)

  it("is refused by every nm.plot function, naming the argument", function()
    local out = { out = "st.png" }   -- (refused before any output is checked or written)
    refused(nm.plot.timeseries, "plot%.timeseries: the series", stim, out)
    refused(nm.plot.bold, "plot%.bold: the BOLD", stim, out)
    refused(nm.plot.spectrum, "plot%.spectrum: f", stim, { 1, 2 }, out)
    refused(nm.plot.spectrum, "plot%.spectrum: P", { 1, 2 }, stim, out)
    refused(nm.plot.fc, "plot%.fc: the matrix", stim, out)
    refused(nm.plot.fc_compare, "plot%.fc_compare: the empirical FC", M2, stim, out)
    refused(nm.plot.fc_compare, "plot%.fc_compare: 'bold'", M2, M2, { out = out.out, bold = stim })
    refused(nm.plot.exploration, "plot%.exploration: results", stim, out)
    refused(nm.plot.evolution, "plot%.evolution: best", stim, out)
  end)

  it("an object of the library's other than a stimulus is named by its class, not its fields", function()
    local ok, err = pcall(nm.func.fc, setmetatable({ _private = 1 }, { __name = "neuromass.Thing" }))
    assert.is_false(ok)
    assert.matches("nm%.func%.fc: ts must be a matrix %(an array of rows%), got a neuromass%.Thing$", err)
    ok, err = pcall(nm.func.fc, { _private = 1 })
    assert.is_false(ok)
    assert.matches("nm%.func%.fc: ts must be a matrix %(an array of rows%), got a table with no rows$", err)
  end)
end)
