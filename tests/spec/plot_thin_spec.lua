-- plot_thin_spec.lua: what reaches gnuplot scales with the figure (its pixels
-- across, its traces), not with the data (plot/thin.lua's rule): at most two
-- points per pixel column per trace, a spike of one sample always drawn, a
-- short series drawn whole as before; and gnuplot reads its script from a
-- file named as its argument (on its standard input it reads a byte per
-- system call: an 80-trace figure took 20 s and more).
local nm = require "neuromass"
local h = require "helpers"
local gnuplot = require "neuromass.plot.gnuplot"

-- The real gnuplot, which the stand-ins below hand the script to.
local REAL = assert(gnuplot.find(), "gnuplot is not on PATH")

local q = h.q

teardown(h.remove_scratch)

-- The gnuplot script a figure call would draw (not drawn): its lines.
local function script_of(f, ...)
  local render, got = gnuplot.render, nil
  gnuplot.render = function(_, _, _, s) got = table.concat(s, "\n") end
  local ok, err = pcall(f, ...)
  gnuplot.render = render
  assert(ok, err)
  return got
end

-- The datablocks of a script: { name = { { x, y }, ... } } (the image's
-- matrix as its rows of numbers).
local function blocks(script)
  local out, cur = {}, nil
  for line in script:gmatch("[^\n]+") do
    local name = line:match("^%$(%w+) << EOD$")
    if name then
      cur = {}
      out[name] = cur
    elseif line == "EOD" then
      cur = nil
    elseif cur then
      local row = {}
      for v in line:gmatch("%S+") do row[#row + 1] = tonumber(v) or (v == "NaN" and 0 / 0) end
      cur[#cur + 1] = row
    end
  end
  return out
end

-- n rows of T samples of a slow sine; row i has a one-sample spike of 50 at
-- sample spike(i) and a one-sample dip of -50 at dip(i).
local function rows_with_spikes(n, T)
  local rows = {}
  for i = 1, n do
    local r = {}
    for k = 1, T do r[k] = math.sin(k * 0.001 * i) end
    r[(i * 7919) % T + 1] = 50
    r[(i * 104729) % T + 1] = -50
    rows[i] = r
  end
  return rows
end

local function extremes(pts)
  local lo, hi = math.huge, -math.huge
  for _, p in ipairs(pts) do
    if p[2] == p[2] then lo, hi = math.min(lo, p[2]), math.max(hi, p[2]) end
  end
  return lo, hi
end

describe("a long series reaches gnuplot thinned to the figure's pixel columns", function()
  local T = 100000                               -- 10 s at dt 0.1 ms
  local rows = rows_with_spikes(12, T)

  it("lines: at most 2 points per pixel column per trace, each spike and dip drawn", function()
    local s = script_of(nm.plot.timeseries, { rows[1], rows[2] }, { out = "l.svg", dt = 0.1, size = { 600, 400 } })
    local b = blocks(s)
    for i = 1, 2 do
      assert.is_true(#b["d" .. i] <= 2 * 600, #b["d" .. i])
      assert.is_true(#b["d" .. i] >= 600)
      local lo, hi = extremes(b["d" .. i])
      assert.equals(-50, lo)
      assert.equals(50, hi)
    end
    -- in time order, the spike at its own time
    local spike_t = ((1 * 7919) % T) * 0.1
    local found = false
    for k, p in ipairs(b.d1) do
      if k > 1 then assert.is_true(p[1] > b.d1[k - 1][1]) end
      if p[2] == 50 then found = math.abs(p[1] - spike_t) < 1e-6 end
    end
    assert.is_true(found)
  end)

  it("stacked: 12 traces of 100000 samples send at most 2 × 1000 points each, spikes kept", function()
    local b = blocks(script_of(nm.plot.timeseries, rows, { out = "s.pdf", dt = 0.1, view = "stacked" }))
    for i = 1, 12 do
      local pts = b["d" .. i]
      assert.is_true(#pts <= 2000, #pts)
      local lo, hi = extremes(pts)            -- scaled into the row's band: the extremes are its edges
      assert.near(i - 1, lo, 1e-6)
      assert.near(i - 1 + 0.85, hi, 1e-6)
    end
  end)

  it("image: at most one column per pixel column (the figure's width)", function()
    local b = blocks(script_of(nm.plot.timeseries, rows, { out = "i.png", dt = 0.1, size = { 700, 500 } }))
    assert.equals(13, #b.m)                     -- the times' line and 12 rows
    assert.equals(700, b.m[1][1])               -- nonuniform matrix: its first number counts the columns
    assert.equals(701, #b.m[2])
  end)

  it("the study's BOLD panel is thinned to its own width", function()
    local fc = { { 1, 0.5 }, { 0.5, 1 } }
    local t = {}
    for k = 1, T do t[k] = k * 1.0 end
    local b = blocks(script_of(nm.plot.fc_compare, fc, fc, { out = "st.png", view = "lines",
                                                             bold = { t_BOLD = t, BOLD = { rows[1], rows[2] } } }))
    assert.is_true(#b.d1 <= 2 * 1800 * 0.42, #b.d1)
    local lo, hi = extremes(b.d1)
    assert.equals(-50, lo)
    assert.equals(50, hi)
  end)

  it("spectra: a peak of one frequency bin is kept, at most 2 points per pixel column", function()
    local f, P = {}, {}
    for k = 1, T do f[k], P[k] = k * 0.01, 1 / k end
    P[77777] = 1e3
    local b = blocks(script_of(nm.plot.spectrum, f, P, { out = "p.svg" }))
    assert.is_true(#b.s1 <= 2 * 800, #b.s1)
    local _, hi = extremes(b.s1)
    assert.equals(1e3, hi)
  end)

  it("a bin of NaN and finite samples draws its finite extremes; one of NaN only leaves a gap", function()
    local v = {}
    for k = 1, 4000 do v[k] = k % 2 == 0 and 0 / 0 or math.sin(k) end
    v[1] = 0 / 0                                  -- the first bin starts with NaN: its peak is still drawn
    v[3] = 7
    for k = 2001, 2100 do v[k] = 0 / 0 end        -- a stretch of NaN
    local b = blocks(script_of(nm.plot.timeseries, v, { out = "n.svg", size = { 1000, 600 } }))
    local _, hi = extremes(b.d1)
    assert.equals(7, hi)
    local gaps = 0
    for _, p in ipairs(b.d1) do if p[2] ~= p[2] then gaps = gaps + 1 end end
    assert.equals(25, gaps)                       -- the 100 NaN samples: 25 bins of 4, each a gap
  end)

  it("zscore leaves a NaN sample out instead of turning the whole row into NaN", function()
    local v = { 1, 2, 0 / 0, 3, 4 }
    local b = blocks(script_of(nm.plot.timeseries, { v }, { out = "z.svg", zscore = true }))
    local finite = 0
    for _, p in ipairs(b.d1) do if p[2] == p[2] then finite = finite + 1 end end
    assert.equals(4, finite)
  end)

  it("zscore draws data near 1e200 or 1e-200 as the same data near 1 (no overflowing squares)", function()
    for _, len in ipairs { 5, 4000 } do           -- drawn whole, and thinned
      local function zs(scale)
        local v = {}
        for k = 1, len do v[k] = (k % 7 + math.sin(k)) * scale end
        return blocks(script_of(nm.plot.timeseries, { v }, { out = "z.svg", zscore = true })).d1
      end
      local want = zs(1)
      for _, scale in ipairs { 1e200, 1e-200, 1e-310 } do
        local got = zs(scale)
        assert.equals(#want, #got)
        for k, p in ipairs(want) do
          assert.is_true(math.abs(got[k][2] - p[2]) < 1e-9, string.format("len = %d, scale %g, point %d: %s, want %s",
                         len, scale, k, tostring(got[k][2]), tostring(p[2])))
        end
      end
    end
    -- the folder of a streamed CSV (one pass, chunk by chunk) likewise
    local thin = require "neuromass.plot.thin"
    local sd = {}
    for i, scale in ipairs { 1, 1e200, 1e-200, 1e-310 } do
      local f, x, v = thin.folder(4000, 1000, "line"), {}, {}
      for k = 1, 4000 do x[k], v[k] = k, (k % 7 + math.sin(k)) * scale end
      f.add(0, x, v, 2000)
      f.add(2000, table.move(x, 2001, 4000, 1, {}), table.move(v, 2001, 4000, 1, {}), 2000)
      sd[i] = f.result().sd / scale
    end
    for i = 2, 4 do assert.is_true(math.abs(sd[i] - sd[1]) < 1e-9 * sd[1], tostring(sd[i])) end
  end)
end)

describe("a short series is drawn whole, as before the rule", function()
  it("up to 2 samples per pixel column: every sample, in order, NaN as a gap", function()
    local v = {}
    for k = 1, 2000 do v[k] = math.sin(k * 0.1) end
    v[10] = 0 / 0
    local b = blocks(script_of(nm.plot.timeseries, { v }, { out = "w.svg", dt = 0.5 }))
    assert.equals(2000, #b.d1)
    for k = 1, 2000 do
      assert.near((k - 1) * 0.5, b.d1[k][1], 1e-9)
      if k ~= 10 then assert.near(v[k], b.d1[k][2], 1e-8) end
    end
    assert.is_true(b.d1[10][2] ~= b.d1[10][2])
    local img = blocks(script_of(nm.plot.timeseries, { v, v }, { out = "w.png", dt = 0.5, view = "image",
                                                                size = { 2000, 600 } }))
    assert.equals(2000, img.m[1][1])             -- one column per sample
  end)
end)

describe("gnuplot", function()
  it("reads its script from a file named as its argument, not from its standard input", function()
    local dir, bin = h.scratch(), h.scratch()
    -- a stand-in gnuplot: notes its arguments and what its standard input held, then has the real
    -- one draw the script (a figure that stops short of its end is refused)
    h.write(bin .. "/gnuplot", "#!/bin/sh\nprintf '%s\\n' \"$#\" > " .. q(dir .. "/args") ..
                               "\ngrep -c '^set output' \"$1\" >> " .. q(dir .. "/args") ..
                               "\nwc -c | tr -d ' ' > " .. q(dir .. "/stdin") ..
                               "\nexec " .. q(REAL) .. " \"$1\" </dev/null\n")
    h.sh("chmod +x " .. q(bin .. "/gnuplot"))
    h.write(dir .. "/s.lua", "local nm = require 'neuromass'\nnm.plot.fc({ { 1, 0 }, { 0, 1 } }, { out = 'fc.png' })\n")
    local status, _, err = h.sh("cd " .. q(dir) .. " && PATH=" .. q(bin) .. ":\"$PATH\" " .. q(h.exe) ..
                                " run s.lua </dev/null")
    assert.equals(0, status, err)
    assert.equals("1\n1\n", h.read(dir .. "/args"))
    assert.equals("0\n", h.read(dir .. "/stdin"))
  end)
end)

describe("neuromass plot on a long CSV", function()
  -- A stand-in gnuplot that keeps the script it is given as dir/script.N (N = 1, 2, ...), then
  -- has the real one draw it.
  local function setup()
    local dir, bin = h.scratch(), h.scratch()
    h.write(bin .. "/gnuplot", "#!/bin/sh\nn=$(ls " .. q(dir) .. " | grep -c '^script')\ncp \"$1\" " ..
                               q(dir) .. "/script.$((n + 1))\nexec " .. q(REAL) .. " \"$1\"\n")
    h.sh("chmod +x " .. q(bin .. "/gnuplot"))
    local rows = { "t,x.0,x.1,x.2,y.0,y.1,y.2" }
    for k = 1, 20000 do
      local x1 = k == 12345 and 50 or math.sin(k * 0.002)
      rows[#rows + 1] = string.format("%.1f,%.6f,%.6f,%.6f,1,2,3", (k - 1) * 0.1, math.cos(k * 0.001), x1, k % 7)
    end
    h.write(dir .. "/big.csv", table.concat(rows, "\n") .. "\n")
    return dir, "cd " .. q(dir) .. " && PATH=" .. q(bin) .. ":\"$PATH\" " .. q(h.exe) .. " plot "
  end

  it("is read in chunks and folded as it streams: the figure is the one of the CSV read whole", function()
    local dir, plot = setup()
    -- a regular file is folded as it streams; through a pipe it is read whole
    for _, how in ipairs { "big.csv", "/dev/stdin < big.csv" } do
      local status, out, err = h.sh(plot .. how .. " -o f.svg --nodes 2,1 --view stacked --zscore")
      assert.equals(0, status, err)
      assert.matches("f%.svg: x of 2 nodes from", out)
    end
    local streamed, whole = h.read(dir .. "/script.1"), h.read(dir .. "/script.2")
    assert.equals(whole:gsub('set output "[^"]*"', ""), (streamed:gsub('set output "[^"]*"', "")))
    local b = blocks(streamed)
    assert.is_true(#b.d1 <= 2000 and #b.d2 <= 2000, #b.d1 .. ", " .. #b.d2)
    local _, hi = extremes(b.d2)                   -- node 1's spike of one sample: the top of its band
    assert.near(1 + 0.85, hi, 1e-6)
  end)

  it("refuses a time that does not increase, naming its row, as when read whole", function()
    local dir, plot = setup()
    local text = h.read(dir .. "/big.csv"):gsub("\n1000%.0,", "\n999.8,")
    h.write(dir .. "/bad.csv", text)
    for _, how in ipairs { "bad.csv", "/dev/stdin < bad.csv" } do
      local status, _, err = h.sh(plot .. how .. " -o f.png")
      assert.equals(1, status)
      assert.equals("neuromass: plot: t must increase: t[10001] = 999.8 follows 999.9\n", err)
    end
  end)
end)
