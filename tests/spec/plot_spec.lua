-- plot_spec.lua: nm.plot, res:plot and `neuromass plot` draw real figures
-- with gnuplot: PNG (signature, the requested size in its header), SVG
-- (the axis labels, the view: lines or an image) and PDF files; the output
-- format comes from the extension; the study figure (fc_compare with bold)
-- has three panels; errors are reported at the user's line;
-- a missing gnuplot names its package; a failed drawing leaves neither a
-- file nor a temporary one (an older figure under the name is kept).
local h = require "helpers"
local nm = require "neuromass"
local util = require "plot_util"

local q = h.q
local slurp, shows, fhn_result = util.slurp, util.shows, util.fhn_ring

teardown(h.remove_scratch)

-- The width and height in a PNG's IHDR chunk (after the signature, length and type).
local function png_size(data)
  return string.unpack(">I4", data, 17), string.unpack(">I4", data, 21)
end

local function assert_png(path, w, hgt)
  local data = assert(slurp(path), path .. " was not written")
  assert.equals("\137PNG\r\n\26\n", data:sub(1, 8))
  assert.is_true(#data > 5000, path .. ": only " .. #data .. " bytes")
  if w then
    local pw, ph = png_size(data)
    assert.same({ w, hgt }, { pw, ph })
  end
  return data
end

local function assert_svg(path)
  local data = assert(slurp(path), path .. " was not written")
  assert.truthy(data:find("<svg", 1, true), path .. " is not an SVG")
  assert.truthy(data:find("</svg>%s*$"), path .. " is not complete")
  assert.is_true(#data > 5000)
  return data
end

local function assert_pdf(path)
  local data = assert(slurp(path), path .. " was not written")
  assert.equals("%PDF-", data:sub(1, 5))
  assert.truthy(data:find("%%EOF%s*$"), path .. " is not complete")
  assert.is_true(#data > 3000)
  return data
end

local function files_in(dir)
  local _, out = h.sh("ls -A " .. q(dir))
  local list = {}
  for name in out:gmatch("[^\n]+") do list[#list + 1] = name end
  table.sort(list)
  return list
end

local function spectrum_data()
  local f, P, P2 = {}, {}, {}
  for k = 1, 200 do
    f[k] = k * 0.25
    P[k] = 1 / (1 + (f[k] - 10) ^ 2)
    P2[k] = 0.5 / (1 + (f[k] - 20) ^ 2)
  end
  return f, P, P2
end

describe("nm.plot", function()
  local dir = h.scratch()
  local res = fhn_result()
  local gw = nm.datasets.load("gw")

  it("timeseries: more than 8 nodes by default as an image (node × time), axes t (ms), node, the variable", function()
    local out = nm.plot.timeseries(res, { out = dir .. "/all.svg", title = "FHN ring" })
    assert.equals(dir .. "/all.svg", out)
    local svg = assert_svg(out)
    assert.truthy(svg:find("<image", 1, true), "no image element")
    for _, text in ipairs { "t (ms)", "node", "x", "FHN ring" } do assert.is_true(shows(svg, text), text) end
  end)

  it("timeseries: chosen nodes as lines with a key per node; PNG of the requested size, PDF", function()
    local svg = assert_svg(nm.plot.timeseries(res, { out = dir .. "/three.svg", nodes = { 0, 4, 11 },
                                                     variable = "y" }))
    assert.is_nil(svg:find("<image", 1, true))
    for _, text in ipairs { "node 0", "node 4", "node 11", "y", "t (ms)" } do assert.is_true(shows(svg, text), text) end
    assert.is_false(shows(svg, "node 5"))
    assert_png(nm.plot.timeseries(res, { out = dir .. "/three.png", nodes = { 0, 4 }, size = { 640, 360 } }), 640, 360)
    assert_pdf(nm.plot.timeseries(res, { out = dir .. "/three.pdf", nodes = { 1 } }))
  end)

  it("timeseries: stacked traces, and an array of rows with times every dt ms", function()
    local svg = assert_svg(nm.plot.timeseries(res, { out = dir .. "/stack.svg", view = "stacked" }))
    assert.truthy(svg:find("each trace scaled to its range", 1, true))
    local rows = res:matrix("x")
    svg = assert_svg(nm.plot.timeseries({ rows[1], rows[2] }, { out = dir .. "/rows.svg", dt = 0.1 }))
    assert.is_true(shows(svg, "t (ms)") and shows(svg, "node 1"))
    svg = assert_svg(nm.plot.timeseries(rows[3], { out = dir .. "/one.svg" }))
    assert.is_true(shows(svg, "sample"))
  end)

  it("spectrum: power over frequency (Hz), one line per spectrum with its label, a log axis on request", function()
    local f, P, P2 = spectrum_data()
    local svg = assert_svg(nm.plot.spectrum(f, { P, P2 }, { out = dir .. "/spec.svg", labels = { "a", "b" },
                                                            logy = true }))
    for _, text in ipairs { "frequency (Hz)", "power (signal units²)", "a", "b" } do assert.is_true(shows(svg, text), text) end
    assert_png(nm.plot.spectrum(f, P, { out = dir .. "/spec.png" }), 800, 500)
    -- ylabel names the power's unit (a normalised spectrum is relative)
    svg = assert_svg(nm.plot.spectrum(f, P, { out = dir .. "/spec_rel.svg", ylabel = "relative power" }))
    assert.is_true(shows(svg, "relative power") and not shows(svg, "signal units"))
  end)

  it("fc: a heat map with node axes and a colour bar from -1 to 1", function()
    local svg = assert_svg(nm.plot.fc(gw.FCs[1], { out = dir .. "/fc.svg", title = "NAP_001" }))
    assert.truthy(svg:find("<image", 1, true))
    for _, text in ipairs { "node", "correlation", "-1", "1", "NAP_001", "70" } do
      assert.is_true(shows(svg, text), text)
    end
    assert_png(nm.plot.fc(gw.FCs[1], { out = dir .. "/fc.png" }), 720, 600)
    -- a title with a quote and a line break is drawn, not taken as gnuplot commands
    assert_png(nm.plot.fc(gw.FCs[1], { out = dir .. "/fc2.png", title = "it's\nset output \"" .. dir .. "/x.png\"" }),
               720, 600)
    assert.is_nil(slurp(dir .. "/x.png"))
  end)

  it("fc: xlabel and ylabel name the axes (an FCD's windows)", function()
    local svg = assert_svg(nm.plot.fc(gw.FCs[1], { out = dir .. "/fcd.svg", xlabel = "window", ylabel = "window j" }))
    assert.is_true(shows(svg, "window") and shows(svg, "window j"))
    assert.is_false(shows(svg, "node"))
  end)

  -- Before: a NaN correlation was refused, though matrix_correlation gives it for 2 x 2 FCs (one entry
  -- above the diagonal): the figure of such a study could not be drawn.
  it("fc_compare: a NaN correlation (2 x 2 FCs) is drawn as r = nan", function()
    local a, b = { { 1, 0.3 }, { 0.3, 1 } }, { { 1, -0.2 }, { -0.2, 1 } }
    local r = nm.func.matrix_correlation(a, b)
    assert.is_true(r ~= r)
    local svg = assert_svg(nm.plot.fc_compare(a, b, { out = dir .. "/nan.svg", correlation = r }))
    assert.is_true(shows(svg, "simulated vs empirical FC (correlation r = nan)"))
  end)

  it("fc_compare: simulated and empirical side by side, the correlation in the title", function()
    local svg = assert_svg(nm.plot.fc_compare(gw.FCs[2], gw.FCs[1], { out = dir .. "/cmp.svg", correlation = 0.51234 }))
    local _, images = svg:gsub("<image", "")
    assert.equals(2, images)
    for _, text in ipairs { "simulated FC", "empirical FC", "simulated vs empirical FC (correlation r = 0.512)" } do
      assert.is_true(shows(svg, text), text)
    end
    assert_pdf(nm.plot.fc_compare(gw.FCs[2], gw.FCs[1], { out = dir .. "/cmp.pdf" }))
  end)

  it("fc_compare with bold: the study figure, simulated FC | empirical FC | BOLD (t in s) after skip samples", function()
    local t = {}
    for k = 1, 355 do t[k] = (k - 1) * 2000 end
    local bold = { t_BOLD = t, BOLD = gw.BOLDs[1] }
    local svg = assert_svg(nm.plot.fc_compare(gw.FCs[2], gw.FCs[1], { out = dir .. "/study.svg", bold = bold,
                                                                      zscore = true, correlation = 0.3 }))
    local _, images = svg:gsub("<image", "")
    assert.equals(3, images)                        -- two heat maps and 80 BOLD rows as an image
    for _, text in ipairs { "simulated FC", "empirical FC", "BOLD", "t (s)", "BOLD (z-score)", "node",
                            "simulated vs empirical FC (correlation r = 0.300)", "100" } do
      assert.is_true(shows(svg, text), text)
    end
    -- skip = 300 samples: the panel starts at 600 s (tics 600, 620, ...; no 100 s tic left)
    svg = assert_svg(nm.plot.fc_compare(gw.FCs[2], gw.FCs[1], { out = dir .. "/study_skip.svg", bold = bold,
                                                                skip = 300 }))
    assert.is_true(shows(svg, "620") and not shows(svg, "100"))
    assert_png(nm.plot.fc_compare(gw.FCs[2], gw.FCs[1], { out = dir .. "/study.png", bold = bold }), 1800, 600)
    -- a real run with bold = true, two nodes as lines
    local m = nm.models.hopf.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 1 }, { 1, 0 } } }
    local r = m:run { duration = 8000, record = {}, bold = true }
    local fc = nm.func.fc(r.BOLD, { skip = 1 })
    svg = assert_svg(nm.plot.fc_compare(fc, fc, { out = dir .. "/study_run.svg", bold = r, skip = 1,
                                                  view = "lines" }))
    for _, text in ipairs { "node 0", "node 1", "t (s)" } do assert.is_true(shows(svg, text), text) end
    assert_pdf(nm.plot.fc_compare(fc, fc, { out = dir .. "/study_run.pdf", bold = r, nodes = { 1 } }))
  end)

  it("bold: traces over t in s (default) or ms, from t_BOLD (ms) and rows, or from a result's BOLD", function()
    local t = {}
    for k = 1, 355 do t[k] = (k - 1) * 2000 end
    local svg = assert_svg(nm.plot.bold(t, gw.BOLDs[1], { out = dir .. "/bold.svg", nodes = { 0, 1 } }))
    for _, text in ipairs { "t (s)", "BOLD", "node 1" } do assert.is_true(shows(svg, text), text) end
    assert.is_true(shows(svg, "700") and not shows(svg, "700000"), "the time axis is not in seconds")
    -- skip = 300 samples (as nm.func.fc's skip): drawn from 600 s on
    svg = assert_svg(nm.plot.bold(t, gw.BOLDs[1], { out = dir .. "/bold_skip.svg", nodes = { 0 }, skip = 300 }))
    assert.is_true(shows(svg, "620") and not shows(svg, "100"))
    svg = assert_svg(nm.plot.bold(t, gw.BOLDs[1], { out = dir .. "/bold_ms.svg", time_unit = "ms" }))
    assert.is_true(shows(svg, "t (ms)"))
    assert.truthy(svg:find("<image", 1, true))
    local r = fhn_result()
    r.BOLD, r.t_BOLD = { gw.BOLDs[1][1], gw.BOLDs[1][2] }, t     -- as a run with bold = true leaves them
    svg = assert_svg(r:plot { variable = "BOLD", out = dir .. "/res_bold.svg" })
    assert.is_true(shows(svg, "BOLD") and shows(svg, "t (s)"))
    -- a table { t_BOLD =, BOLD = }, as fc_compare's bold takes it
    svg = assert_svg(nm.plot.bold({ t_BOLD = t, BOLD = gw.BOLDs[1] }, { out = dir .. "/tbl_bold.svg", nodes = { 0, 1 } }))
    for _, text in ipairs { "t (s)", "BOLD", "node 1" } do assert.is_true(shows(svg, text), text) end
  end)

  it("res:plot of a run that recorded only BOLD (record = {}, bold = true) draws its BOLD", function()
    local m = nm.models.hopf.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 1 }, { 1, 0 } } }
    local r = m:run { duration = 6000, record = {}, bold = true }
    local svg = assert_svg(r:plot { out = dir .. "/only_bold.svg" })
    for _, text in ipairs { "BOLD", "t (s)", "node 1" } do assert.is_true(shows(svg, text), text) end
  end)

  it("zscore = true draws each row as z-scores, so rows of different levels share one colour scale", function()
    local svg = assert_svg(nm.plot.bold({ 0, 2000, 4000, 6000 }, { { 1e4, 1e4 + 2, 1e4, 1e4 + 2 }, { 5, 7, 5, 7 } },
                                        { out = dir .. "/z.svg", zscore = true, view = "lines" }))
    assert.is_true(shows(svg, "BOLD (z-score)"))
    -- each row becomes -1, 1, -1, 1: the value axis spans about ±1, not 5 … 10002
    assert.is_true(shows(svg, "0.5") and not shows(svg, "10000"))
    local ok, err = pcall(function() nm.plot.timeseries({ { 1, 2 } }, { out = dir .. "/z.png", zscore = 1 }) end)
    assert.is_false(ok)
    assert.matches("plot_spec%.lua:%d+: plot.timeseries: 'zscore' must be true or false", err)
  end)

  it("res:plot draws the result's variable as timeseries does", function()
    local svg = assert_svg(res:plot { out = dir .. "/res.svg", variable = "y", nodes = { 2 } })
    assert.is_true(shows(svg, "y") and shows(svg, "node 2"))
  end)

  it("replaces an existing figure, and leaves no temporary file", function()
    h.write(dir .. "/old.png", "old")
    assert_png(nm.plot.fc(gw.FCs[1], { out = dir .. "/old.png" }))
    for _, name in ipairs(files_in(dir)) do assert.is_nil(name:find("tmp", 1, true), name) end
  end)

  it("draws into exactly the file named, whatever its characters (line break, quotes, backslash, backquotes)", function()
    local odd = h.scratch()
    local names = { "line\nbreak.png", "it's \"q\".png", "back\\slash.png", "`echo hi`.png", "tab\there.png" }
    for _, name in ipairs(names) do assert_png(nm.plot.fc(gw.FCs[1], { out = odd .. "/" .. name })) end
    -- nothing else in the folder (no figure under a name with a space for the line break)
    local _, count = h.sh("find " .. q(odd) .. " -mindepth 1 -printf x | wc -c")
    assert.equals(#names, tonumber(count))
  end)
end)

describe("an image's colour bar and its label inside the picture", function()
  -- BOLD of small values (tics such as -0.00045) as an image (12 nodes): gnuplot's automatic right
  -- margin left the colour bar's label past the right edge (cut off, or not drawn at all)
  local t, B, fc = {}, {}, {}
  for k = 1, 50 do t[k] = 2000 * k end
  for i = 1, 12 do
    B[i], fc[i] = {}, {}
    for k = 1, 50 do B[i][k] = -0.000123 * math.sin(0.1 * k * i) - 0.00031 end
    for j = 1, 12 do fc[i][j] = i == j and 1 or 0.1 end
  end
  -- The x of the (rotated, centred) label's baseline and the font size, and the picture's width.
  local function label_x(path, label)
    local svg = slurp(path)
    local width = tonumber(svg:match('<svg[^>]-width="(%d+)"'))
    local x, size = svg:match('translate%(([%d.]+),[%d.]+%) rotate%(270%)[^>]-font%-size="([%d.]+)"[^>]*>%s*' ..
                              '<text>' .. label .. '</text>')
    return tonumber(x), tonumber(size), width
  end
  it("in fc_compare's BOLD panel and in nm.plot.bold's image", function()
    local dir = h.scratch()
    nm.plot.fc_compare(fc, fc, { out = dir .. "/cmp.svg", bold = { t_BOLD = t, BOLD = B } })
    nm.plot.fc_compare(fc, fc, { out = dir .. "/cmpz.svg", bold = { t_BOLD = t, BOLD = B }, zscore = true })
    nm.plot.bold(t, B, { out = dir .. "/bold.svg" })
    for file, label in pairs { ["cmp.svg"] = "BOLD", ["cmpz.svg"] = "BOLD %(z%-score%)", ["bold.svg"] = "BOLD" } do
      local x, size, width = label_x(dir .. "/" .. file, label)
      assert.truthy(x, file)
      -- the rotated label spans about one font size across, to the right of its baseline
      assert.is_true(x + size <= width, string.format("%s: label at x = %s, size %s, width %s", file, x, size, width))
    end
  end)
end)

describe("nm.plot errors, at the user's line", function()
  local dir = h.scratch()
  local res = fhn_result()
  local f, P = spectrum_data()
  local fc = nm.datasets.load("gw").FCs[1]
  local cases = {
    { "an extension that is no figure format", function() nm.plot.fc(fc, { out = dir .. "/a.jpg" }) end,
      "plot.fc: out '.-/a.jpg': the format comes from the extension, which must be .png, .svg or .pdf %(got '.jpg'%)" },
    { "no extension", function() nm.plot.fc(fc, { out = dir .. "/a" }) end, "%(it has none%)" },
    { "no out", function() nm.plot.spectrum(f, P, {}) end, "plot.spectrum: needs out = \"FILE.png\"" },
    { "an unknown variable", function() res:plot { out = dir .. "/a.png", variable = "z" } end,
      "plot.timeseries: variable 'z' was not recorded %(recorded: x, y%); did you mean 'x'%?" },
    { "a node not in the data", function() res:plot { out = dir .. "/a.png", nodes = { 12 } } end,
      "node 12 is not in the data %(nodes: 0 to 11%)" },
    { "an unknown option", function() nm.plot.fc(fc, { out = dir .. "/a.png", titel = "x" }) end,
      "unknown option 'titel'.*did you mean 'title'%?" },
    { "the command line's --var as an option", function()
        nm.plot.timeseries(res, { out = dir .. "/a.png", var = "x" }) end,
      "plot.timeseries: unknown option 'var'; did you mean 'variable'%? %(the command line's %-%-var%)" },
    { "an unknown option far from every one: the options listed", function()
        nm.plot.fc(fc, { out = dir .. "/a.png", colours = "x" }) end,
      "plot.fc: unknown option 'colours'; the options are names, out, range, size, title, xlabel, ylabel$" },
    { "an unknown view", function() res:plot { out = dir .. "/a.png", view = "stack" } end,
      "'view' must be one of lines, stacked, image.*did you mean 'stacked'%?" },
    { "a matrix that is not square", function() nm.plot.fc({ { 1, 0 } }, { out = dir .. "/a.png" }) end,
      "plot.fc: the matrix must be a square matrix %(N rows of N numbers%), got 1 row of 2$" },
    { "a ragged matrix: its short row's count, in the singular", function()
        nm.plot.fc({ { 1, 0 }, { 1 } }, { out = dir .. "/a.png" }) end, "plot.fc: the matrix%[2%] has 1 value, expected 2$" },
    { "P of another length than f", function() nm.plot.spectrum(f, { 1, 2 }, { out = dir .. "/a.png" }) end,
      "P has 2 values, expected 200" },
    { "a value that is not a number", function() nm.plot.timeseries({ { 1, "a" } }, { out = dir .. "/a.png" }) end,
      "the series%[1%]%[2%] is \"a\"" },
    { "a result without BOLD", function() nm.plot.bold(res, { out = dir .. "/a.png" }) end,
      "plot.bold: the result holds no BOLD: run the model with bold = true" },
    { "a result whose BOLD holds no sample", function()
        local r = fhn_result()
        r.BOLD, r.t_BOLD = { {}, {} }, {}           -- a run shorter than one BOLD sample
        nm.plot.bold(r, { out = dir .. "/a.png" })
      end, "plot.bold: the result's BOLD holds no sample" },
    { "a correlation that is not a number", function()
        nm.plot.fc_compare(fc, fc, { out = dir .. "/a.png", correlation = "high" }) end,
      "'correlation' must be a number, NaN included %(as nm%.func%.matrix_correlation gives%), got \"high\"" },
    { "fc_compare: a BOLD panel option without bold", function()
        nm.plot.fc_compare(fc, fc, { out = dir .. "/a.png", zscore = true }) end,
      "plot.fc_compare: 'zscore' is an option of the BOLD panel: give bold = res as well" },
    { "fc_compare: a bold that is neither a result nor t_BOLD and BOLD", function()
        nm.plot.fc_compare(fc, fc, { out = dir .. "/a.png", bold = { 1, 2 } }) end,
      "'bold' must be a result run with bold = true, or { t_BOLD = {...}, BOLD = {...} }, got" },
    { "fc_compare: a bold result without BOLD", function()
        nm.plot.fc_compare(fc, fc, { out = dir .. "/a.png", bold = res }) end,
      "plot.fc_compare: 'bold' %(the result%) holds no BOLD: run the model with bold = true" },
    { "fc_compare: a skip that leaves nothing to draw", function()
        nm.plot.fc_compare(fc, fc, { out = dir .. "/a.png", bold = { t_BOLD = { 0, 2000 }, BOLD = { { 1, 2 } } },
                                     skip = 2 }) end,
      "'skip' must be a whole number of BOLD samples from 0 to 0 %(a line needs at least 2 samples left of the " ..
      "2%), got 2" },
    { "bold: a skip that is not a whole number", function()
        nm.plot.bold({ 0, 2000 }, { { 1, 2 } }, { out = dir .. "/a.png", skip = 0.5 }) end,
      "plot.bold: 'skip' must be a whole number of BOLD samples from 0 to 0 %(a line needs at least 2 samples " ..
      "left of the 2%), got 0.5" },
    { "fc_compare: BOLD rows and t_BOLD of different lengths", function()
        nm.plot.fc_compare(fc, fc, { out = dir .. "/a.png", bold = { t_BOLD = { 0 }, BOLD = { { 1, 2 } } } }) end,
      "t_BOLD has 1 value, expected 2" },
    { "a result that kept nothing", function()
        local m = nm.models.hopf.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 1 }, { 1, 0 } } }
        m:run({ duration = 10, output = { csv = dir .. "/streamed.csv" } }):plot { out = dir .. "/a.png" }
      end, "plot.timeseries: nothing was kept in memory %(the run streamed its output to files" },
    { "a variable of a result that recorded none (record = {})", function()
        local m = nm.models.hopf.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 1 }, { 1, 0 } } }
        nm.plot.timeseries(m:run { duration = 10, record = {} }, { out = dir .. "/a.png", variable = "x" })
      end, "plot.timeseries: nothing was kept in memory %(the run recorded no variable: record = {}" },
    { "timeseries of a result that recorded no variable, only BOLD", function()
        local m = nm.models.hopf.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 1 }, { 1, 0 } } }
        nm.plot.timeseries(m:run { duration = 4000, record = {}, bold = true }, { out = dir .. "/a.png" })
      end, "plot.timeseries: the result recorded no variable %(record = {}%): its BOLD is drawn by " ..
           "nm.plot.bold%(res%) or res:plot{ variable = \"BOLD\" }" },
    { "res.plot with a dot", function() res.plot { out = dir .. "/a.png" } end, "with a colon" },
    -- issue 11 tester: no blank figure, no silent mismatch, values shown, our own words before gnuplot's
    { "fc of a 1 × 1 matrix (a blank picture)", function() nm.plot.fc({ { 1 } }, { out = dir .. "/a.png" }) end,
      "plot.fc: the matrix is 1 × 1: a heat map needs N × N with N >= 2 %(the FC of one node is 1%)" },
    { "fc of {} (fcd of a series shorter than its window) says why it is empty",
      function() nm.plot.fc(nm.func.fcd({ { 1, 2, 3 }, { 3, 1, 2 } }, { windowsize = 30, stepsize = 5 }),
                            { out = dir .. "/a.png" }) end,
      "plot.fc: the matrix is empty {}: nothing to draw %(nm.func.fcd returns {} when the series is shorter " ..
      "than one window" },
    { "fc of nil asks for an N × N matrix", function() nm.plot.fc(nil, { out = dir .. "/a.png" }) end,
      "plot.fc: the matrix must be an N × N matrix %(N rows of N numbers, as nm.func.fc returns%), got nil" },
    { "fc of all NaN", function() nm.plot.fc({ { 0 / 0, 0 / 0 }, { 0 / 0, 0 / 0 } }, { out = dir .. "/a.png" }) end,
      "plot.fc: the matrix holds no finite value %(all NaN or infinite%): nothing to draw" },
    { "fc_compare of matrices of different sizes", function()
        nm.plot.fc_compare({ { 1, 0 }, { 0, 1 } }, fc, { out = dir .. "/a.png" }) end,
      "plot.fc_compare: the simulated FC is 2 × 2, the empirical FC 80 × 80: both must be N × N for the same N" },
    { "a size shown with its values and limits", function()
        nm.plot.fc(fc, { out = dir .. "/a.png", size = { 50, 50 } }) end,
      "'size' must be { width, height } in pixels, integers from 100 to 10000, got { 50, 50 }" },
    { "a range shown with its values", function() nm.plot.fc(fc, { out = dir .. "/a.png", range = { 1, -1 } }) end,
      "'range' must be { lo, hi } with finite lo < hi, got { 1, %-1 }" },
    { "labels shown with their values", function() nm.plot.spectrum(f, P, { out = dir .. "/a.png", labels = { "a", "b" } }) end,
      "'labels' must be a list of 1 name %(one per spectrum%), got { \"a\", \"b\" }" },
    { "spectrum of empty arrays", function() nm.plot.spectrum({}, {}) end,
      "plot.spectrum: f must be a non%-empty array of numbers, got {}" },
    { "timeseries of an empty array", function() nm.plot.timeseries({}) end,
      "plot.timeseries: the series must be an array of rows %(N × T%) or of numbers, got {}" },
    { "bold of a string", function() nm.plot.bold("x") end,
      "plot.bold: expected a result run with bold = true, or t_BOLD %(ms%) and BOLD %(N rows%), got \"x\" %(a string%)" },
    { "a series all NaN or infinite", function()
        nm.plot.timeseries({ { 1, 2 }, { 0 / 0, math.huge } }, { out = dir .. "/a.png" }) end,
      "plot.timeseries: node 1's value holds no finite value %(all 2 are NaN or infinite%): nothing to draw" },
    { "a spectrum all NaN", function() nm.plot.spectrum({ 1, 2 }, { 0 / 0, 0 / 0 }, { out = dir .. "/a.png" }) end,
      "plot.spectrum: P holds no finite value" },
    { "bold with a NaN t_BOLD", function() nm.plot.bold({ 0, 0 / 0 }, { { 1, 2 } }, { out = dir .. "/a.png" }) end,
      "plot.bold: t_BOLD%[2%] is nan: it must be finite" },
    { "bold with a decreasing t_BOLD", function() nm.plot.bold({ 2000, 0 }, { { 1, 2 } }, { out = dir .. "/a.png" }) end,
      "plot.bold: t_BOLD must increase: t_BOLD%[2%] = 0 follows 2000" },
    { "timeseries with both t and dt", function()
        nm.plot.timeseries({ 1, 2 }, { out = dir .. "/a.png", t = { 0, 1 }, dt = 1 }) end,
      "plot.timeseries: give the times as 't' %(ms, one per sample%) or 'dt' %(ms between samples%), not both: pick one" },
    -- issue 11, second tester: one sample draws an empty picture; a log axis of no positive value;
    -- the title "r = nan" of an FC of too few samples
    { "bold: a skip leaving one sample of 5", function()
        nm.plot.bold({ 0, 2000, 4000, 6000, 8000 }, { { 1, 2, 3, 4, 5 } }, { out = dir .. "/a.png", skip = 4 }) end,
      "plot.bold: 'skip' must be a whole number of BOLD samples from 0 to 3 %(a line needs at least 2 samples " ..
      "left of the 5%), got 4" },
    { "timeseries of one sample", function() nm.plot.timeseries({ 5 }, { out = dir .. "/a.png" }) end,
      "plot.timeseries: the series needs at least 2 samples to draw a line %(got 1%)" },
    { "timeseries of rows of one sample", function()
        nm.plot.timeseries({ { 5 }, { 6 } }, { out = dir .. "/a.png", variable = "r" }) end,
      "plot.timeseries: 'r' needs at least 2 samples to draw a line %(got 1%)" },
    { "bold of one sample", function() nm.plot.bold({ 0 }, { { 1 } }, { out = dir .. "/a.png" }) end,
      "plot.bold: BOLD needs at least 2 samples to draw a line %(got 1%)" },
    { "spectrum with logy of a P all zero", function()
        nm.plot.spectrum({ 1, 2, 3 }, { 0, 0, 0 }, { out = dir .. "/a.png", logy = true }) end,
      "plot.spectrum: P holds no positive value %(all 3 are 0, negative or not finite%): a log axis %(logy = " ..
      "true%) cannot show it; draw it without logy" },
    { "spectrum with logy: the second spectrum is named", function()
        nm.plot.spectrum({ 1, 2 }, { { 1, 2 }, { -1, 0 } }, { out = dir .. "/a.png", logy = true }) end,
      "plot.spectrum: P%[2%] holds no positive value" },
    { "spectrum with a logy that is no boolean", function()
        nm.plot.spectrum({ 1, 2 }, { 1, 2 }, { out = dir .. "/a.png", logy = "yes" }) end,
      "plot.spectrum: 'logy' must be true or false, got \"yes\"" },
    { "fc_compare with an infinite correlation", function()
        nm.plot.fc_compare(fc, fc, { out = dir .. "/a.png", correlation = -math.huge }) end,
      "plot.fc_compare: 'correlation' must be a number, NaN included .*got %-inf" },
    { "fc of a list of matrices (a dataset's FCs)", function()
        nm.plot.fc(nm.datasets.load("gw").FCs, { out = dir .. "/a.png" }) end,
      "plot.fc: the matrix is a list of matrices, not a matrix: pass one of them %(e%.g%. the first, %[1%]%)" },
    { "bold of a list of matrices (a dataset's BOLDs)", function()
        nm.plot.bold({ 0, 2000 }, nm.datasets.load("gw").BOLDs, { out = dir .. "/a.png" }) end,
      "plot.bold: BOLD is a list of matrices, not a matrix" },
    { "spectrum with a ylabel that is no string", function()
        nm.plot.spectrum(f, P, { out = dir .. "/a.png", ylabel = true }) end,
      "plot.spectrum: 'ylabel' must be a string, got true" },
    { "fc with an xlabel that is no string", function()
        nm.plot.fc(fc, { out = dir .. "/a.png", xlabel = 1 }) end, "plot.fc: 'xlabel' must be a string, got 1" },
    { "fc_compare with a BOLD of other nodes than the FCs'", function()
        nm.plot.fc_compare(fc, fc, { out = dir .. "/a.png", bold = { t_BOLD = { 0, 2000 }, BOLD = { { 1, 2 } } } }) end,
      "plot.fc_compare: 'bold' holds 1 BOLD rows, the FCs are 80 × 80: give the BOLD the simulated FC was computed from" },
    { "bold of a table { t_BOLD, BOLD } without samples", function()
        nm.plot.bold({ t_BOLD = {}, BOLD = { {} } }, { out = dir .. "/a.png" }) end,
      "plot.bold: the table's BOLD holds no sample" },
    { "timeseries of a result's BOLD points to nm.plot.bold", function()
        nm.plot.timeseries(res, { out = dir .. "/a.png", variable = "BOLD" }) end,
      "plot.timeseries: BOLD is no recorded variable: draw it with nm.plot.bold%(res%)" },
  }
  for _, case in ipairs(cases) do
    it(case[1], function()
      local ok, err = pcall(case[2])
      assert.is_false(ok)
      assert.matches("plot_spec%.lua:%d+: ", err)
      assert.matches(case[3], err)
    end)
  end
  it("leaves no figure behind", function()
    assert.same({ "streamed.csv" }, files_in(dir))
  end)
end)

describe("gnuplot missing or failing (through the executable)", function()
  local function run_script(env, dir, body)
    local script = dir .. "/s.lua"
    h.write(script, "local nm = require 'neuromass'\n" .. body .. "\n")
    return h.sh("cd " .. q(dir) .. " && env " .. env .. " " .. q(h.exe) .. " run s.lua")
  end

  it("without gnuplot on PATH, the error names the package to install", function()
    local dir = h.scratch()
    local status, _, err = run_script("PATH=" .. q(dir .. "/nothing"), dir,
      "nm.plot.fc({ { 1, 0 }, { 0, 1 } }, { out = 'fc.png' })")
    assert.is_not.equals(0, status)
    assert.matches("s.lua:2: plot.fc: gnuplot was not found on PATH: install the Debian package gnuplot%-nox", err)
    assert.same({ "s.lua" }, files_in(dir))
  end)

  -- fc.png drawn over an older one by a stand-in gnuplot that runs `body` (sh, with $out the
  -- figure's temporary path); the draw must fail with `message` and leave the older figure alone.
  local function older_kept(body, message)
    local dir, bin = h.scratch(), h.scratch()
    h.write(bin .. "/gnuplot", "#!/bin/sh\nout=$(sed -n 's/^set output \"\\(.*\\)\"$/\\1/p' \"$1\" | head -n 1)\n" ..
                               body)
    h.sh("chmod +x " .. q(bin .. "/gnuplot"))
    h.write(dir .. "/fc.png", "older")
    local status, _, err = run_script("PATH=" .. q(bin) .. ":\"$PATH\"", dir,
      "nm.plot.fc({ { 1, 0 }, { 0, 1 } }, { out = 'fc.png' })")
    assert.is_not.equals(0, status)
    assert.matches(message, err)
    assert.equals("older", slurp(dir .. "/fc.png"))
    assert.same({ "fc.png", "s.lua" }, files_in(dir))
  end

  it("a gnuplot that fails half-way leaves the older figure and no temporary file", function()
    -- a stand-in gnuplot: writes half a figure to the output it is given, then fails
    older_kept("printf 'half' > \"$out\"\necho 'line 9: simulated failure' >&2\nexit 1\n",
               "s.lua:2: plot.fc: gnuplot failed: line 9: simulated failure")
  end)

  -- Before: gnuplot's stderr went to a file under /tmp; on a full /tmp its error line was lost and the
  -- draw said only "gnuplot failed: exit status 1".  A line its file-size limit (0) keeps out of any
  -- file stands for that; through a pipe it arrives.
  it("a gnuplot whose error line no file could hold (a full /tmp) is still quoted", function()
    older_kept("( trap '' XFSZ; ulimit -f 0; echo 'line 9: No space left on device' >&2 )\nexit 1\n",
               "s.lua:2: plot.fc: gnuplot failed: line 9: No space left on device")
  end)

  it("a gnuplot that stops short of the figure's end and exits 0 (a full disk, ulimit -f) leaves the older figure", function()
    -- gnuplot (cairo) does not report a failed write: past `ulimit -f` it left a truncated SVG, which
    -- was renamed into place and reported as drawn (before: exit 0, 'fc.png' holding the stub)
    older_kept("printf '\\211PNG\\r\\n\\032\\n' > \"$out\"\nexit 0\n",
               "s.lua:2: plot.fc: gnuplot stopped short of the end of 'fc.png' and said nothing %(a full disk, " ..
               "or the file%-size limit, ulimit %-f%?%): no figure written")
  end)

  it("under neuromass info, nm.plot and res:plot check their arguments, return the path and draw nothing", function()
    local dir = h.scratch()
    local status, out, err = run_script("", dir,
      "local m = nm.models.hopf.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 1 }, { 1, 0 } } }\n" ..
      "print('path', m:run { duration = 10 }:plot { out = 'x.png' })\n" ..
      "print('path', nm.plot.fc({ { 1, 0 }, { 0, 1 } }, { out = 'fc.svg' }))\n" ..
      "nm.plot.fc({ { 1, 0 }, { 0, 1 } }, { out = 'fc.gif' })")
    assert.is_not.equals(0, status)
    assert.matches("path\tx.png\npath\tfc.svg\n", out)
    assert.matches("s.lua:5: plot.fc: out 'fc.gif'", err)
    assert.same({ "fc.svg", "s.lua", "x.png" }, files_in(dir))
    os.remove(dir .. "/x.png")
    os.remove(dir .. "/fc.svg")
    status, out, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " info s.lua")
    assert.is_not.equals(0, status)
    assert.matches("path\tx.png\npath\tfc.svg\n", out)
    assert.matches("s.lua:5: plot.fc: out 'fc.gif'", err)
    assert.same({ "s.lua" }, files_in(dir))
  end)
end)

describe("neuromass plot", function()
  local dir = h.scratch()
  local csv = dir .. "/r.csv"
  fhn_result():write_csv(csv)
  local bold = dir .. "/b.csv"
  h.write(bold, "t_BOLD,BOLD_0,BOLD_1,BOLD_2\n0.1,0,0.5,1\n2000.1,0.1,0.4,0.8\n4000.1,0.3,0.2,0.9\n6000.1,0.2,0.1,0.7\n")

  local function plot(args)
    return h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " plot " .. args)
  end

  it("draws a result CSV: the first variable of every node, or --var and --nodes", function()
    local status, out, err = plot("r.csv -o all.png")
    assert.equals(0, status, err)
    assert.equals("all.png: x of 12 nodes from r.csv\n", out)
    assert_png(dir .. "/all.png", 1000, 600)
    status, out, err = plot("r.csv -o some.svg --var y --nodes 3,5 --title 'two nodes' --zscore")
    assert.equals(0, status, err)
    assert.matches("some.svg: y of 2 nodes", out)
    local svg = assert_svg(dir .. "/some.svg")
    for _, text in ipairs { "node 3", "node 5", "y (z-score)", "t (ms)", "two nodes" } do
      assert.is_true(shows(svg, text), text)
    end
    local _
    status, _, err = plot("r.csv -o some.pdf --view stacked")
    assert.equals(0, status, err)
    assert_pdf(dir .. "/some.pdf")
  end)

  it("draws a BOLD CSV (header t_BOLD) as BOLD over t in s", function()
    local status, out, err = plot("b.csv -o bold.svg")
    assert.equals(0, status, err)
    assert.matches("bold.svg: BOLD of 3 nodes from b.csv", out)
    local svg = assert_svg(dir .. "/bold.svg")
    for _, text in ipairs { "t (s)", "BOLD", "node 2" } do assert.is_true(shows(svg, text), text) end
    assert.is_true(shows(svg, "2") and not shows(svg, "4.5"))
    -- --skip 2: from t_BOLD = 4000.1 ms on (tics 4.5, 5, 5.5, 6 s; no 2 s tic)
    status, out, err = plot("b.csv -o bold_skip.svg --skip 2")
    assert.equals(0, status, err)
    assert.matches("bold_skip.svg: BOLD of 3 nodes from b.csv", out)
    svg = assert_svg(dir .. "/bold_skip.svg")
    assert.is_true(shows(svg, "4.5") and not shows(svg, "2"))
  end)

  it("refuses what it cannot draw, naming it", function()
    local cases = {
      { "r.csv -o fig.jpg", "neuromass: plot: out 'fig.jpg': the format comes from the extension, which must be " ..
                            ".png, .svg or .pdf %(got '.jpg'%)" },
      { "r.csv -o fig.png --var z", "variable 'z' is not in 'r.csv' %(it has: x, y%); did you mean 'x'%?" },
      { "r.csv -o fig.png --nodes 40", "node 40 is not in the data %(nodes: 0 to 11%)" },
      { "r.csv -o fig.png --nodes a", "--nodes needs 0%-based node numbers" },
      { "r.csv -o fig.png --nodes 0,,1", "%-%-nodes needs 0%-based node numbers such as 0,3,5, got '0,,1' " ..
                                         "%(an empty item%)" },
      { "r.csv -o fig.png --nodes 0,", "%-%-nodes needs .*got '0,' %(an empty item%)" },
      { "one.csv -o fig.png", "neuromass: plot: 'x' of 'one.csv' needs at least 2 samples to draw a line %(got 1%)" },
      { "one_b.csv -o fig.png", "the BOLD of 'one_b.csv' needs at least 2 samples to draw a line %(got 1%)" },
      { "r.csv", "%-o FIG.png %(or .svg, .pdf%) is missing" },
      { "-o fig.png", "which CSV%?" },
      { "r.csv -o fig.png --colour red", "unknown option '%-%-colour'" },
      { "nothere.csv -o fig.png", "cannot read 'nothere%.csv': No such file" },
      { "b.csv -o fig.png --var x", "holds BOLD" },
      { "b.csv -o fig.png --skip 3", "%-%-skip must be a whole number of BOLD samples from 0 to 2 %(a line needs " ..
                                     "at least 2 samples left of the 4%), got 3" },   -- (it said 'skip')
      { "b.csv -o fig.png --skip -1", "%-%-skip needs a whole number of BOLD samples, got '%-1'" },
      { "r.csv -o fig.png --skip 1", "%-%-skip applies to a BOLD CSV %(header t_BOLD,...%), not to 'r.csv'" },
      { "s.lua -o fig.png", "does not look like a neuromass CSV" },
    }
    h.write(dir .. "/dup.csv", "t,x.0,x.0\n1,2,3\n2,3,4\n")
    cases[#cases + 1] = { "dup.csv -o fig.png", "neuromass: plot: 'dup.csv': the header names column 'x.0' twice " ..
                                                "%(columns 2 and 3%): each column must have its own name" }
    h.write(dir .. "/back.csv", "t,x.0\n1,2\n1,3\n0,1\n")
    cases[#cases + 1] = { "back.csv -o fig.png", "neuromass: plot: t must increase: t%[2%] = 1 follows 1" }
    -- a row of another length than the header is refused as such (as sonify's reader does)
    h.write(dir .. "/long.csv", "t,x.0\n0,1\n0.1,0.2,0.3\n")
    cases[#cases + 1] = { "long.csv -o fig.png", "neuromass: plot: .*long%.csv: line 3 has 3 values, the header 2\n" }
    h.write(dir .. "/short.csv", "t,x.0,x.1\n0,1,2\n0.1,0.2\n")
    cases[#cases + 1] = { "short.csv -o fig.png", "neuromass: plot: .*short%.csv: line 3 has 2 values, the header 3\n" }
    h.write(dir .. "/cell.csv", "t,x.0,x.1\n0,1,2\n0.1,,3\n")
    cases[#cases + 1] = { "cell.csv -o fig.png", "cell%.csv: line 3: column 2 %(x%.0%) is '': expected a number" }
    -- (an exploration's table said "does not look like a neuromass CSV"; it is one, of another kind)
    h.sh("mkdir -p " .. q(dir .. "/explore"))
    h.write(dir .. "/explore/results.csv", "point,a,b,seed,mean_x,status\n1,0.1,0.2,0,3,ok\n")
    cases[#cases + 1] = { "explore/results.csv -o fig.png", "neuromass: plot: 'explore/results%.csv' is an " ..
                          "exploration's results table %(columns point, %.%.%., status%), not a run's CSV: draw one of its " ..
                          "metrics over two parameters in a script, nm%.plot%.exploration%(nm%.explore%.load%(\"explore\"%), " ..
                          "{ metric = \"mean_x\", out = \"FIG%.png\" }%) %(an Evolution's progress: nm%.plot%.evolution%(" }
    h.write(dir .. "/s.lua", "print(1)\nprint(2)\n")
    h.write(dir .. "/one.csv", "t,x.0,x.1\n0.1,2,3\n")
    h.write(dir .. "/one_b.csv", "t_BOLD,BOLD_0\n0.1,2\n")
    for _, case in ipairs(cases) do
      local status, _, err = plot(case[1])
      assert.equals(1, status, case[1])
      assert.matches(case[2], err)
    end
    assert.is_nil(slurp(dir .. "/fig.png"))
  end)

  it("reads CRLF line ends: every column drawn (the last one too)", function()
    h.write(dir .. "/crlf.csv", "t,x.0,x.1\r\n0,2,3\r\n1,3,4\r\n2,1,5\r\n")
    local status, out, err = plot("crlf.csv -o crlf.svg")
    assert.equals(0, status, err)
    assert.equals("crlf.svg: x of 2 nodes from crlf.csv\n", out)
    local svg = assert_svg(dir .. "/crlf.svg")
    assert.is_true(shows(svg, "node 0") and shows(svg, "node 1"))
  end)

  it("has --help, and `neuromass help` lists it", function()
    local status, out = plot("--help")
    assert.equals(0, status)
    assert.matches("usage: neuromass plot RESULT.csv %-o FIG.png|FIG.svg|FIG.pdf", out)
    status, out = h.sh(q(h.exe) .. " help")
    assert.equals(0, status)
    assert.matches("\n  plot RESULT.csv %-o FIG.png", out)
  end)
end)

describe("core.csv_reader's read_columns (neuromass plot's reading)", function()
  local core = require "neuromass.core"
  it("reads every row across its chunks of 1024, in header order, blank lines skipped", function()
    local dir = h.scratch()
    local lines = { "t,x.0,x.1" }
    for i = 1, 2500 do
      lines[#lines + 1] = string.format("%g,%g,%g", i * 0.1, i, -i)
      if i == 1024 then lines[#lines + 1] = "" end
    end
    h.write(dir .. "/long.csv", table.concat(lines, "\r\n") .. "\r\n")
    local reader = assert(core.csv_reader(dir .. "/long.csv"))
    local cols = assert(reader:read_columns())
    reader:close()
    assert.equals(3, #cols)
    assert.equals(2500, #cols[1])
    assert.equals(250, cols[1][2500])
    assert.equals(1025, cols[2][1025])
    assert.equals(-2500, cols[3][2500])
  end)

  it("refuses a row of another length, naming its line, as sonify's reading does", function()
    local dir = h.scratch()
    h.write(dir .. "/bad.csv", "t,x.0\n0.1,1\n0.2,2,3\n")
    local reader = assert(core.csv_reader(dir .. "/bad.csv"))
    local cols, failure = reader:read_columns()
    reader:close()
    assert.is_nil(cols)
    assert.equals("io", failure.kind)
    assert.equals("line 3 has 3 values, the header 2", failure.message)
  end)
end)
