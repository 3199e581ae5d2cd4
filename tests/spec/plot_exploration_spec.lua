-- plot_exploration_spec.lua: nm.plot.exploration for every shape of result
-- a user produces: grids of any shape (1 x 1, 3 x 1, 1 x N, uneven values)
-- drawn as one box per cell, metrics from 1e-300 to 1e200 on a named scale,
-- points with no value drawn as missing and counted (a warning), every point
-- failed a clear error, one parameter a line; and nm.plot.evolution of what
-- nm.explore.load returns for a fit's folder.  Each figure is checked in the
-- SVG gnuplot writes: the texts it shows and the colours of its cells.
local nm = require "neuromass"
local h = require "helpers"
local util = require "plot_util"
local exploration = require "neuromass.plot.exploration"

local q = h.q

-- The message of f(...), which must fail (called here: the message is at this file's line).
local function error_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok)
  return tostring(e)
end

-- The results of a grid over a (x) and b (y): metric m = f(a, b); f returning
-- false makes that point a failed one.
local function results(as, bs, f, params)
  local rows = {}
  for _, a in ipairs(as) do
    for _, b in ipairs(bs) do
      local v = f(a, b)
      rows[#rows + 1] = { point = #rows + 1, values = { a = a, b = b }, metrics = { m = v or nil }, ok = v ~= false,
                          status = v == false and "failed: boom" or "ok" }
    end
  end
  return { params = params or { "a", "b" }, metrics = { "m" }, rows = rows, n = #rows }
end

-- The fill colours of the boxes an SVG of gnuplot's draws, as a set
-- { ["rgb( 33, 145, 140)"] = true } and their count: each box a polygon,
-- the colour bar's (drawn after them) those at the last polygon's left edge.
local function colours(svg)
  local polys = {}
  for fill, x in svg:gmatch("<polygon fill = '(rgb%([^)]*%))' points = '([%d.]+),") do polys[#polys + 1] = { fill, x } end
  local bar = polys[#polys] and polys[#polys][2]
  local set, n = {}, 0
  for _, p in ipairs(polys) do
    if p[2] ~= bar and not set[p[1]] then set[p[1]], n = true, n + 1 end
  end
  return set, n
end

-- The palette's ends and middle (viridis: #440154, #21918c, #fde725).
local LOW, MID, HIGH = "rgb( 68,   1,  84)", "rgb( 33, 145, 140)", "rgb(253, 231,  37)"

-- The datablock $name of a script (lines), as rows of numbers.
local function block(script, name)
  local text = table.concat(script, "\n")
  local body = text:match("%$" .. name .. " << EOD\n(.-)EOD")
  local rows = {}
  for line in body:gmatch("[^\n]+") do
    local row = {}
    for v in line:gmatch("%S+") do row[#row + 1] = tonumber(v) end
    rows[#rows + 1] = row
  end
  return rows
end

local function draw(r, opts)
  opts.metric = opts.metric or "m"
  local path = nm.plot.exploration(r, opts)
  return util.slurp(path)
end

describe("nm.plot.exploration draws grids of every shape", function()
  teardown(h.remove_scratch)

  -- Before: `matrix with image` drew an empty frame for a grid with one row or one column.
  it("draws a box per cell: 1 x 1, 3 x 1, 1 x 5 and uneven values", function()
    local dir = h.scratch()
    local svg = draw(results({ 1 }, { 2 }, function() return 3 end), { out = dir .. "/one.svg" })
    local set, n = colours(svg)
    assert.equals(1, n)
    assert.truthy(set[MID], svg)              -- a constant: the palette's middle, the range widened around it
    local script = exploration.script({ 1 }, { 2 }, { { 3 } }, { x = "a", y = "b", metric = "m" })
    assert.same({ { 0, 0, 3 } }, block(script, "m"))
    assert.truthy(table.concat(script, "\n"):find("set cbrange [1.5:4.5]", 1, true))

    svg = draw(results({ 1, 2, 3 }, { 1 }, function(a) return a end), { out = dir .. "/row.svg" })
    set, n = colours(svg)
    assert.equals(3, n)
    assert.truthy(set[LOW] and set[MID] and set[HIGH], svg)
    for _, t in ipairs { "1", "2", "3", "a", "b" } do assert.truthy(util.shows(svg, t), t) end

    svg = draw(results({ 1 }, { 1, 2, 3, 4, 5 }, function(_, b) return b end), { out = dir .. "/col.svg" })
    set, n = colours(svg)
    assert.equals(5, n)
    assert.truthy(set[LOW] and set[MID] and set[HIGH], svg)

    -- uneven values: evenly spaced cells, each labelled with its value
    svg = draw(results({ 0.001, 0.01, 1, 100 }, { 1, 2, 10 }, function(a, b) return a * b end), { out = dir .. "/u.svg" })
    for _, t in ipairs { "0.001", "0.01", "1", "100", "10" } do assert.truthy(util.shows(svg, t), t) end
    local m = block(exploration.script({ 0.001, 0.01, 1, 100 }, { 1, 2, 10 },
                                       { { 1, 2, 3, 4 }, { 5, 6, 7, 8 }, { 9, 10, 11, 12 } },
                                       { x = "a", y = "b", metric = "m" }), "m")
    assert.equals(12, #m)
    assert.same({ 3, 2, 12 }, m[12])           -- cell (c, r) = (4, 3) at indices (3, 2)
  end)

  it("labels values that differ past 3 digits with as many digits as tell them apart", function()
    local dir = h.scratch()
    local svg = draw(results({ 1, 1 + 1e-12, 1 + 2e-12 }, { 1, 2 }, function(a, b) return a + b end),
                     { out = dir .. "/close.svg" })
    for _, t in ipairs { "1", "1.000000000001", "1.000000000002" } do assert.truthy(util.shows(svg, t), t) end
  end)

  -- Before: values of 1e200 and 1e-300 went to gnuplot as they were: one colour, or none.
  it("draws metrics from 1e-300 to 1e200 on the scale the colour bar's label names", function()
    local dir = h.scratch()
    local svg = draw(results({ 1, 2 }, { 1, 2 }, function(a) return a == 1 and 1e-300 or 1e200 end),
                     { out = dir .. "/wide.svg" })
    assert.truthy(util.shows(svg, "m (×1e200)"), svg)
    local set, n = colours(svg)
    assert.equals(2, n)
    assert.truthy(set[LOW] and set[HIGH])
    svg = draw(results({ 1, 2 }, { 1, 2 }, function(a, b) return a * b * 1e-300 end), { out = dir .. "/tiny.svg" })
    assert.truthy(util.shows(svg, "m (×1e-300)"), svg)
    n = select(2, colours(svg))
    assert.equals(3, n)                       -- 1, 2 (twice) and 4 (× 1e-300): three colours, not one
    svg = draw(results({ 1, 2 }, { 1, 2 }, function(a, b) return -a * b * 1e35 end), { out = dir .. "/neg.svg" })
    assert.truthy(util.shows(svg, "m (×1e35)"), svg)
    assert.truthy(util.shows(svg, "-4"), svg)
    -- a range given is scaled as the values are
    svg = draw(results({ 1, 2 }, { 1, 2 }, function(a, b) return a * b * 1e35 end),
               { out = dir .. "/range.svg", range = { 0, 8e35 } })
    assert.truthy(util.shows(svg, "m (×1e35)"), svg)
    assert.truthy(util.shows(svg, "8"), svg)
    -- values within 1e-9 of each other: an offset
    svg = draw(results({ 1, 2 }, { 1, 2 }, function(a, b) return 0.5 + a * b * 1e-10 end), { out = dir .. "/off.svg" })
    assert.truthy(util.shows(svg, "m - 0.5 (×1e-10)"), svg)
    n = select(2, colours(svg))
    assert.equals(3, n)
  end)

  it("draws a huge grid, and negative and constant metrics", function()
    local dir = h.scratch()
    local xs = {}
    for k = 1, 120 do xs[k] = k / 7 end
    local path = nm.plot.exploration(results(xs, xs, function(a, b) return math.sin(a) * b end),
                                     { metric = "m", out = dir .. "/big.png" })
    assert.equals("\137PNG", util.slurp(path):sub(1, 4))
    -- more than IMAGE_CELLS a side: an image (boxes of a pixel blended into a moiré), its missing cells
    -- NaN in it and hatched boxes over it; fewer, or one row: boxes
    local wide, row = {}, {}
    for k = 1, exploration.IMAGE_CELLS + 1 do wide[k], row[k] = k, k == 3 and 0 / 0 or k end
    local text = table.concat(exploration.script(wide, { 1, 2 }, { row, row }, { x = "a", y = "b", metric = "m",
                              missing = { cells = { { 3, 1 }, { 3, 2 } }, failed = 0, undrawn = 2, absent = 0 } }), "\n")
    assert.truthy(text:find("\nplot $m using 1:2:3 with image notitle, $holes ", 1, true), text)
    assert.truthy(text:find("\n2 0 NaN\n", 1, true), text)
    text = table.concat(exploration.script(wide, { 1 }, { row }, { x = "a", y = "b", metric = "m" }), "\n")
    -- (boxes 1.5 px wider than their cells on each side: antialiasing drew seams where they only touched)
    assert.truthy(text:find("\nplot %$m using 1:2:%(0%.[56]%d*%):%(0%.[56]%d*%):3 with boxxyerror"), text)
    local svg = draw(results({ 1, 2 }, { 1, 2 }, function() return -7 end), { out = dir .. "/const.svg" })
    local set = colours(svg)
    assert.truthy(set[MID])
    assert.truthy(util.shows(svg, "-7"), svg)
  end)
end)

describe("nm.plot.exploration's points with no value", function()
  teardown(h.remove_scratch)

  it("draws failed, NaN and infinite points as hatched cells, counted in the key", function()
    local dir = h.scratch()
    local r = results({ 1, 2, 3 }, { 1, 2 }, function(a, b)
      if a == 1 and b == 1 then return false end
      if a == 2 and b == 2 then return 0 / 0 end
      if a == 3 and b == 1 then return math.huge end
      return a + b
    end)
    local svg = draw(r, { out = dir .. "/holes.svg" })
    assert.truthy(util.shows(svg, "no value: 1 failed, 2 NaN or infinite"), svg)
    local xs, ys, m, missing = exploration.grid(r.rows, "a", "b", "m")
    assert.same({ 1, 2, 3 }, xs)
    assert.same({ 1, 2 }, ys)
    assert.equals(3, #missing.cells)
    assert.is_true(m[1][1] ~= m[1][1])
    assert.same({ 1, 1 }, missing.cells[1])   -- (point 1: a = 1, b = 1)
    assert.equals(1, missing.failed)
    assert.equals(2, missing.undrawn)
  end)

  it("warns how many points have no value; every point failed or none with a value is a clear error", function()
    local dir = h.scratch()
    h.write(dir .. "/p.lua", [[
local nm = require "neuromass"
local rows = {}
for i = 1, 4 do
  rows[i] = { point = i, values = { a = i, b = 1 }, metrics = { m = i == 2 and 0 / 0 or i }, ok = i ~= 3,
              status = i == 3 and "failed: boom" or "ok" }
end
nm.plot.exploration({ params = { "a", "b" }, metrics = { "m" }, rows = rows }, { metric = "m", out = "p.png" })
]])
    local s, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run p.lua")
    assert.equals(0, s, err)
    assert.equals("neuromass: warning: plot.exploration: metric 'm' has no value at 2 of the 4 points (1 failed, " ..
                  "1 NaN or infinite): drawn as missing (hatched grey cells)\n", err)
    local failed = results({ 1, 2 }, { 1, 2 }, function() return false end)
    failed.metrics, failed.dir = {}, "/x/explore"
    local e = error_of(nm.plot.exploration, failed, { metric = "m", out = dir .. "/f.png" })
    h.assert_message(e, "plot_exploration_spec%.lua", { "plot.exploration: every one of the exploration's 4 points " ..
                     "failed (point 1: failed: boom): nothing to draw; see the status column of /x/explore/results.csv" })
    e = error_of(nm.plot.exploration, results({ 1, 2 }, { 1, 2 }, function() return 0 / 0 end),
                   { metric = "m", out = dir .. "/n.png" })
    h.assert_message(e, "plot_exploration_spec%.lua", { "metric 'm' has no value at any of the 4 points " ..
                     "(4 NaN or infinite): nothing to draw" })
    e = error_of(nm.plot.exploration, results({ 1, 2 }, { 1, 2 }, function() return 1e305 end),
                   { metric = "m", out = dir .. "/b.png" })
    h.assert_message(e, "plot_exploration_spec%.lua", { "(4 NaN, infinite or beyond ±1e300 (point 1: 1e+305))" })
    e = error_of(nm.plot.exploration, { params = { "a", "b" }, metrics = {}, rows = {} },
                   { metric = "m", out = dir .. "/e.png" })
    h.assert_message(e, "plot_exploration_spec%.lua", { "the exploration holds no point: nothing to draw" })
    assert.is_nil(io.open(dir .. "/f.png"))
  end)
end)

describe("nm.plot.exploration of scattered points", function()
  teardown(h.remove_scratch)

  -- Points at values of their own (an Evolution's evaluations, a sequence). Before: a heat map of as many
  -- rows and columns as distinct values, nearly all blank, its axes spaced by rank, not by value.
  local function scattered(pts)
    local rows = {}
    for k, p in ipairs(pts) do
      rows[k] = { point = k, values = { a = p[1], b = p[2], c = p[4] or 0 }, metrics = { m = p[3] or nil },
                  ok = p[3] ~= false, status = p[3] == false and "failed: boom" or "ok" }
    end
    return { params = { "a", "b", "c" }, metrics = { "m" }, rows = rows, n = #rows }
  end

  it("draws them as dots where they lie, on axes of the values, coloured by the metric", function()
    local dir = h.scratch()
    -- 5 points over 5 x 5 distinct values: a fifth of their grid
    local r = scattered { { 0, 0, 1 }, { 0.01, 0.3, 2 }, { 0.02, 0.35, 3 }, { 0.5, 0.9, 4 }, { 1, 1, 5 } }
    assert.is_true(exploration.sparse(r.rows, "a", "b"))
    local svg = draw(r, { out = dir .. "/dots.svg" })
    for _, t in ipairs { "0.2", "0.4", "0.6", "0.8", "a", "b", "m" } do assert.truthy(util.shows(svg, t), t) end
    assert.is_falsy(util.shows(svg, "0.35"))           -- (no cell labels: tics of a linear axis)
    local dots = exploration.scatter(r.rows, "a", "b", "m")
    local script = exploration.scatter_script(dots, { x = "a", y = "b", metric = "m" })
    assert.same({ { 0, 0, 1 }, { 0.01, 0.3, 2 }, { 0.02, 0.35, 3 }, { 0.5, 0.9, 4 }, { 1, 1, 5 } }, block(script, "p"))
    local text = table.concat(script, "\n")
    assert.truthy(text:find("set xrange [-0.03:1.03]", 1, true), text)
    assert.truthy(text:find("set cbrange [1:5]", 1, true), text)
    -- a grid with half of its cells or more keeps its boxes
    local half = results({ 1, 2 }, { 1, 2 }, function(a, b) return a == 2 and b == 2 and false or a + b end)
    table.remove(half.rows)
    assert.is_false(exploration.sparse(half.rows, "a", "b"))
  end)

  it("draws points that share x and y each, and those with no value as grey crosses", function()
    local dir = h.scratch()
    local r = scattered { { 0, 0, 1, 1 }, { 0, 0, 2, 2 }, { 0.4, 0.1, false }, { 0.6, 0.9, 0 / 0 }, { 1, 1, 3 },
                          { 0.2, 0.7, 4 } }
    local dots, missing = exploration.scatter(r.rows, "a", "b", "m")
    assert.equals(4, #dots)
    assert.same({ { 0.4, 0.1 }, { 0.6, 0.9 } }, missing.cells)
    h.write(dir .. "/d.lua", [[
local nm = require "neuromass"
local rows = {}
for k, p in ipairs { { 0, 0, 1, 1 }, { 0, 0, 2, 2 }, { 0.4, 0.1 }, { 0.6, 0.9, 0 / 0 }, { 1, 1, 3 }, { 0.2, 0.7, 4 } } do
  rows[k] = { point = k, values = { a = p[1], b = p[2], c = p[4] or 0 }, metrics = { m = p[3] }, ok = k ~= 3,
              status = k == 3 and "failed: boom" or "ok" }
end
nm.plot.exploration({ params = { "a", "b", "c" }, metrics = { "m" }, rows = rows }, { metric = "m", out = "d.svg" })
]])
    local s, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run d.lua")
    assert.equals(0, s, err)
    assert.equals("neuromass: warning: plot.exploration: metric 'm' has no value at 2 of the 6 points (1 failed, " ..
                  "1 NaN or infinite): drawn as missing (grey crosses)\n", err)
    assert.truthy(util.shows(util.slurp(dir .. "/d.svg"), "no value: 1 failed, 1 NaN or infinite"))
    -- a value the axis cannot place is named
    local e = error_of(nm.plot.exploration, scattered { { 0, 0, 1 }, { 1e305, 1, 2 }, { 0.5, 0.5, 3 } },
                       { metric = "m", out = dir .. "/x.png" })
    h.assert_message(e, "plot_exploration_spec%.lua", { "point 2 has a = 1e+305: a dot's axis cannot place it " ..
                     "(beyond ±1e300)" })
  end)

  it("draws an Evolution's evaluations as dots", function()
    local dir = h.scratch()
    h.write(dir .. "/fit.lua", [[
local nm = require "neuromass"
nm.explore.Evolution { model = function() return nm.models.fhn.native {} end, run = { duration = 20, dt = 0.1 },
  parameters = { x_ext = { 0, 1 }, sigma_ou = { 0, 0.1 } }, evaluations = 20, out = "fit", progress = false,
  fitness = function(res) return -math.abs(res:get("x", 0)[1] - 0.3) end }:run()
local r = nm.explore.load("fit")
print(require("neuromass.plot.exploration").sparse(r.rows, "x_ext", "sigma_ou"))
nm.plot.exploration(r, { metric = "fitness", x = "x_ext", y = "sigma_ou", out = "fit.svg" })
]])
    local s, out, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run fit.lua")
    assert.equals(0, s, err)
    assert.equals("true\n", out)
    local svg = util.slurp(dir .. "/fit.svg")
    for _, t in ipairs { "x_ext", "sigma_ou", "fitness", "0.5" } do assert.truthy(util.shows(svg, t), t) end
  end)
end)

describe("nm.plot.exploration of results edited or built by hand", function()
  teardown(h.remove_scratch)

  -- Before: Lua's own errors inside the library ("table index is NaN", "attempt to compare number with string").
  it("names the point whose parameter or metric is not a number", function()
    local dir = h.scratch()
    local function r(a, m)
      local t = results({ 1, 2 }, { 1 }, function(x) return x end)
      t.rows[2].values.a, t.rows[2].metrics.m = a, m
      return t
    end
    for _, c in ipairs {
      { r(nil, 2), "point 2 has a = nil: a cell needs a number" },
      { r(0 / 0, 2), "point 2 has a = nan: a cell needs a number" },
      { r(2, "x"), "point 2's metric 'm' is \"x\" (a string), not a number" },
    } do
      h.assert_message(error_of(nm.plot.exploration, c[1], { metric = "m", out = dir .. "/x.png" }),
                       "plot_exploration_spec%.lua", { c[2] })
    end
    local line = { params = { "a" }, metrics = { "m" }, rows = {
      { point = 1, values = { a = 1 }, metrics = { m = 1 }, ok = true, status = "ok" },
      { point = 2, values = { a = math.huge }, metrics = { m = 2 }, ok = true, status = "ok" } } }
    h.assert_message(error_of(nm.plot.exploration, line, { metric = "m", out = dir .. "/x.png" }),
                     "plot_exploration_spec%.lua", { "point 2 has a = inf: a line's axis cannot place it" })
    local three = { params = { "a", "b", "c" }, metrics = { "m" }, rows = {
      { point = 1, values = { a = 1, b = 1, c = 0 / 0 }, metrics = { m = 1 }, ok = true, status = "ok" } } }
    h.assert_message(error_of(nm.plot.exploration, three, { metric = "m", at = { c = 0 / 0 }, out = dir .. "/x.png" }),
                     "plot_exploration_spec%.lua", { "at.c = nan is not a value of the exploration's points " ..
                     "(none has a number there)" })
    assert.is_nil(io.open(dir .. "/x.png"))
  end)
end)

describe("nm.plot.exploration of a space of one parameter", function()
  teardown(h.remove_scratch)

  local function line(vals, xs)
    local rows = {}
    for k, v in ipairs(vals) do
      rows[k] = { point = k, values = { a = xs and xs[k] or k }, metrics = { m = v or nil }, ok = v ~= false,
                  status = v == false and "failed: x" or "ok" }
    end
    return { params = { "a" }, metrics = { "m" }, rows = rows }
  end

  -- Before: "a heat map needs two parameters, the exploration has 1 (a)".
  it("draws the metric over the parameter as a line, the points with no value marked", function()
    local dir = h.scratch()
    local svg = draw(line({ 1, 4, false, 0 / 0, 2 }), { out = dir .. "/l.svg", ylabel = "m (Hz)" })
    assert.truthy(util.shows(svg, "m (Hz)"), svg)
    assert.truthy(util.shows(svg, "no value: 1 failed, 1 NaN or infinite"), svg)
    local script = exploration.line_script({ 1, 2, 3 }, { 1, 0 / 0, 3 }, { x = "a", metric = "m",
                                           missing = { cells = { { 2, 1 } }, failed = 0, undrawn = 1, absent = 0 } })
    local d = block(script, "d")
    assert.equals(3, #d)
    assert.is_nil(d[2][2])                    -- NaN: a gap in the line (gnuplot reads "NaN" as no value)
    assert.truthy(table.concat(script, "\n"):find("\n2 NaN\n", 1, true))
    assert.equals(1, #block(script, "marks"))
    -- one point; parameter values 1e-12 apart and a metric of 1e-250: both axes on named scales
    assert.equals(dir .. "/one.png", nm.plot.exploration(line({ 5 }), { metric = "m", out = dir .. "/one.png" }))
    svg = draw(line({ 1e-250, 2e-250, 3e-250 }, { 1 + 1e-12, 1 + 2e-12, 1 + 3e-12 }), { out = dir .. "/s.svg" })
    assert.truthy(util.shows(svg, "m (×1e-250)"), svg)
    assert.truthy(util.shows(svg, "a - 1 (×1e-12)"), svg)
    local e = error_of(nm.plot.exploration, line({ 1, 2 }), { metric = "m", y = "b", out = dir .. "/y.png" })
    h.assert_message(e, "plot_exploration_spec%.lua", { "plot.exploration: 'y' has no use here: the exploration has " ..
                     "one parameter (a), drawn as a line of 'm' over it" })
    e = error_of(nm.plot.exploration, { params = { "a", "a2" }, metrics = { "m" }, rows = line({ 1 }).rows },
                   { metric = "m", x = "a", y = "a", out = dir .. "/y.png" })
    h.assert_message(e, "plot_exploration_spec%.lua", { "x and y are both 'a'" })
    e = error_of(nm.plot.exploration, line({ 1, 2 }), { metric = "m", at = { a = 1 }, out = dir .. "/y.png" })
    h.assert_message(e, "plot_exploration_spec%.lua", { "'at' names 'a', the line's x axis" })
  end)
end)

describe("nm.plot.evolution of a fit's folder", function()
  teardown(h.remove_scratch)

  -- Before: "expected the result of an Evolution (evolution:run())" for nm.explore.load(dir).
  it("draws what nm.explore.load returns for it, as the live result; another folder is refused", function()
    local dir = h.scratch()
    h.write(dir .. "/fit.lua", [[
local nm = require "neuromass"
local function model() return nm.models.fhn.native {} end
local best = nm.explore.Evolution { model = model, run = { duration = 20, dt = 0.1, seed = 3 },
  parameters = { x_ext = { 0, 1 } }, fitness = function(res) return -math.abs(res:get("x", 0)[1] - 0.3) end,
  evaluations = 8, restarts = 2, out = "fit", progress = false }:run()
nm.plot.evolution(best, { out = "live.svg" })
nm.plot.evolution(nm.explore.load("fit"), { out = "loaded.svg" })
nm.explore.BoxSearch { model = model, space = nm.explore.ParameterSpace({ x_ext = { 0, 1 } }),
  run = { duration = 20, dt = 0.1 }, evaluate = function() return { m = 1 } end, out = "box", progress = false }:run()
local ok, e = pcall(nm.plot.evolution, nm.explore.load("box"), { out = "box.png" })
print(e)
]])
    local s, out, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run fit.lua")
    assert.equals(0, s, err)
    local live, loaded = util.slurp(dir .. "/live.svg"), util.slurp(dir .. "/loaded.svg")
    assert.truthy(live and #live > 0)
    assert.equals(live, loaded)
    assert.truthy(out:find("fit.lua:10: plot.evolution: '" .. dir .. "/box' is a BoxSearch's folder " ..
                           "(its exploration.txt), not an Evolution's: draw a BoxSearch's table with " ..
                           "nm.plot.exploration", 1, true), out)
    assert.is_nil(io.open(dir .. "/box.png"))
  end)

  it("says why there is nothing to draw: no evaluation, every one failed", function()
    local dir = h.scratch()
    local rows = { { point = 1, values = {}, metrics = {}, ok = false, status = "failed: boom" } }
    local e = error_of(nm.plot.evolution, { results = { rows = rows }, share = 1 }, { out = dir .. "/x.png" })
    h.assert_message(e, "plot_exploration_spec%.lua", { "plot.evolution: no evaluation of the evolution's 1 " ..
                     "evaluation has a finite fitness (evaluation 1: failed: boom): nothing to draw" })
    e = error_of(nm.plot.evolution, { results = { rows = {} }, share = 1 }, { out = dir .. "/x.png" })
    h.assert_message(e, "plot_exploration_spec%.lua", { "the evolution holds no evaluation" })
    e = error_of(nm.plot.evolution, { params = { "a" }, rows = {}, dir = dir }, { out = dir .. "/x.png" })
    h.assert_message(e, "plot_exploration_spec%.lua", { "holds no evolution.txt: not an Evolution's folder" })
  end)

  it("draws fitnesses within 1e-9 of 1 on an offset scale", function()
    local dir = h.scratch()
    local rows = {}
    for k, v in ipairs { 1 - 5e-10, 1 - 3e-10, 1 - 4e-10, 1 - 1e-10 } do
      rows[k] = { point = k, values = {}, metrics = { fitness = v }, ok = true, status = "ok" }
    end
    local svg = util.slurp(nm.plot.evolution({ results = { rows = rows }, share = 4 }, { out = dir .. "/e.svg" }))
    assert.truthy(util.shows(svg, "fitness - 0.999999999 (×1e-10)"), svg)
    -- a few evaluations: whole numbers on the axis (one evaluation had tics at 0.995 and 1.005)
    svg = util.slurp(nm.plot.evolution({ results = { rows = { rows[1] } }, share = 1 }, { out = dir .. "/one.svg" }))
    assert.truthy(util.shows(svg, "1") and util.shows(svg, "2"), svg)
    assert.is_false(util.shows(svg, "0.995"))
  end)
end)
