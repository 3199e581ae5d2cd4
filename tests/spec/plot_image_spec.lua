-- plot_image_spec.lua: the colour bars of FC heat maps (nm.plot.fc,
-- fc_compare) and of node × time images (view = "image") draw values of any
-- magnitude gnuplot can be given (up to ±1e300, down to 1e-300) on the scale
-- their label names ("×1eN", an offset), never failing nor one flat colour;
-- and numbers reach gnuplot in full precision (plot/scale.lua, gnuplot.num).
local nm = require "neuromass"
local h = require "helpers"
local util = require "plot_util"
local scale = require "neuromass.plot.scale"
local gnuplot = require "neuromass.plot.gnuplot"

-- An n × n matrix of s · (i - j) / n.
local function matrix(n, s)
  local m = {}
  for i = 1, n do
    m[i] = {}
    for j = 1, n do m[i][j] = s * (i - j) / n end
  end
  return m
end

-- n rows of T samples, s · sin(i + k / 5).
local function rows(n, T, s)
  local r = {}
  for i = 1, n do
    r[i] = {}
    for k = 1, T do r[i][k] = s * math.sin(i + k / 5) end
  end
  return r
end

describe("a colour bar of any magnitude", function()
  teardown(h.remove_scratch)

  it("scale.of: a power of ten beyond 1e-4 to 1e6, an offset for values within 1e-4 of their size", function()
    local s = scale.of(1e35, 4e35)
    assert.same({ 0, 35 }, { s.offset, s.exp })
    assert.equals(4, scale.apply(s, 4e35))
    assert.equals("v (×1e35)", scale.label(s, "v"))
    s = scale.of(1e-300, 3e-300)
    assert.equals(-300, s.exp)
    assert.near(3, scale.apply(s, 3e-300), 1e-12)
    s = scale.of(5e-324, 1e-323)                   -- denormals (10^-324 is 0: no division by it)
    local v = scale.apply(s, 1e-323)
    assert.is_true(v > 0.5 and v <= 1, tostring(v))
    s = scale.of(1000 + 1e-9, 1000 + 5e-8)
    assert.equals("v - 1000 (×1e-8)", scale.label(s, "v"))
    assert.near(5, scale.apply(s, 1000 + 5e-8), 1e-4)
    s = scale.of(-1000 - 5e-8, -1000)
    assert.equals("v + 1000.0000001 (×1e-8)", scale.label(s, "v"))
    for _, c in ipairs { { -1, 1 }, { 0, 0 }, { 5, 5 }, { 0.02, 150 }, { 1 / 0, -1 / 0 } } do
      assert.equals(scale.IDENTITY, scale.of(c[1], c[2]), c[1] .. " " .. c[2])
    end
  end)

  -- Before: a range of 1e-200 drew one flat colour (gnuplot's colour bar took it for zero), 1e299 a
  -- bar of [-10:10] in two colours; an FC within 1e-12 of 1 failed ("empty cb range").
  it("nm.plot.fc and fc_compare draw 1e35, 1e-35, 1e299 and 1e-200 on the scale the label names", function()
    local dir = h.scratch()
    for _, c in ipairs { { 1e35, "×1e35" }, { 1e-35, "×1e-35" }, { 1e299, "×1e299" }, { 1e-200, "×1e-200" } } do
      local path = nm.plot.fc(matrix(4, c[1]), { out = dir .. "/fc.svg", range = { -c[1], c[1] } })
      local svg = util.slurp(path)
      assert.truthy(util.shows(svg, "correlation (" .. c[2] .. ")"), c[2])
      assert.truthy(util.shows(svg, "-1") and util.shows(svg, "0.5"), c[2])   -- the bar's tics, scaled
    end
    local close = {}
    for i = 1, 3 do
      close[i] = {}
      for j = 1, 3 do close[i][j] = 1 - (i + j) * 1e-12 end
    end
    local svg = util.slurp(nm.plot.fc(close, { out = dir .. "/close.svg", range = { 1 - 7e-12, 1 } }))
    assert.truthy(util.shows(svg, "correlation - 0.99999999999 (×1e-11)"), svg)
    svg = util.slurp(nm.plot.fc_compare(matrix(3, 1e40), matrix(3, 2e40),
                                        { out = dir .. "/cmp.svg", range = { -2e40, 2e40 } }))
    assert.truthy(util.shows(svg, "correlation (×1e40)"), svg)
    assert.truthy(util.shows(svg, "2"), svg)
  end)

  it("an image of nodes over time draws 1e299 and 1e-200 on a named scale, values 1e-9 apart on an offset", function()
    local dir = h.scratch()
    for _, c in ipairs { { 1e299, "value (×1e298)" }, { 1e-200, "value (×1e-201)" } } do
      local svg = util.slurp(nm.plot.timeseries(rows(10, 50, c[1]), { out = dir .. "/i.svg", view = "image" }))
      assert.truthy(util.shows(svg, c[2]), svg)
      assert.truthy(util.shows(svg, "-8") and util.shows(svg, "8"), c[2])   -- the bar's tics, not ±1 nor ±10
    end
    local r = {}
    for k = 1, 50 do r[k] = 1000 + k * 1e-9 end
    local svg = util.slurp(nm.plot.timeseries({ r, r, r, r, r, r, r, r, r, r }, { out = dir .. "/o.svg",
                                                                                 view = "image" }))
    assert.truthy(util.shows(svg, "value - 1000 (×1e-8)"), svg)
  end)

  -- Before: "%.9g": 1000 + 1e-9 k all read 1000, a flat line; then tics of 1000.00000004 twice.
  it("hands gnuplot numbers in full precision; lines of values 1e-9 apart on an offset", function()
    local dir = h.scratch()
    local r = {}
    for k = 1, 50 do r[k] = 1000 + k * 1e-9 end
    local svg = util.slurp(nm.plot.timeseries({ r }, { out = dir .. "/l.svg" }))
    assert.truthy(util.shows(svg, "value - 1000 (×1e-8)"), svg)
    assert.truthy(util.shows(svg, "4.5"), svg)
    local got = gnuplot.datablock("d", { { 1000 + 1e-9, 0.1, 3, 1 / 3 } })
    assert.equals("$d << EOD\n1000.000000001 0.1 3 0.33333333333333331\nEOD", got)
    for _, v in ipairs { 1000 + 1e-9, 0.1, 1 / 3, 1e-300, -2.5e299, 2 ^ 53 + 2 } do
      assert.equals(v, tonumber(gnuplot.datablock("d", { { v } }):match("\n(%S+)\n")))
    end
  end)
end)
