-- plot_nan_spec.lua: `neuromass plot` of a CSV with NaN or infinite cells (a
-- run that diverged) draws the finite values, the others leaving gaps, and
-- says so on stderr (a warning, as sonify's; none under --quiet): the figure
-- alone does not tell a gap from a quiet stretch.
local h = require "helpers"

local q = h.q

describe("neuromass plot of a CSV with NaN or infinite cells", function()
  teardown(h.remove_scratch)

  -- Before: the figure was written with the gaps, exit 0, not a word.
  it("draws the rest and warns, per node, how many values it left out", function()
    local dir = h.scratch()
    h.write(dir .. "/r.csv", "t,x.0,x.1\n1,nan,0.1\n2,0.5,0.2\n3,inf,0.3\n4,0.4,0.2\n")
    for _, how in ipairs { "", "cat r.csv | " } do   -- (a file is folded as it is read, a pipe read whole)
      local csv = how == "" and "r.csv" or "/dev/stdin"
      local s, out, err = h.sh("cd " .. q(dir) .. " && " .. how .. q(h.exe) .. " plot -o f.png " .. csv)
      assert.equals(0, s, err)
      assert.matches("^f%.png: x of 2 nodes from ", out)
      assert.equals("neuromass: warning: plot: node 0's x: 2 of its 4 values are NaN or infinite, not drawn " ..
                    "(gaps in its line)\n", err, how)
      s, out, err = h.sh("cd " .. q(dir) .. " && " .. how .. q(h.exe) .. " plot -o g.png --quiet " .. csv)
      assert.equals(0, s, err)
      assert.equals("", out .. err, how)
    end
  end)
end)

-- Runs `command` (the executable's arguments) in dir: status, stderr.
local function run_in(dir, command)
  local s, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " " .. command)
  return s, err
end

-- Writes `body` (after requiring neuromass) as dir/NAME and runs it: status, stderr.
local function run_script(dir, name, body)
  h.write(dir .. "/" .. name, "local nm = require 'neuromass'\n" .. body .. "\n")
  return run_in(dir, "run " .. name)
end

-- A run that succeeded with `text` (one warning) and nothing else on stderr.
local function warned(s, err, text)
  assert.equals(0, s, err)
  assert.equals("neuromass: warning: " .. text .. "\n", err)
end

describe("nm.plot of rows with NaN under neuromass run", function()
  teardown(h.remove_scratch)

  it("warns on stderr, as the command does; run --quiet silences it", function()
    local dir = h.scratch()
    local s, err = run_script(dir, "p.lua", "nm.plot.timeseries({ { 1, 0 / 0, 2, 3 } }, { dt = 1, out = 'p.png' })")
    warned(s, err, "plot.timeseries: node 0's value: 1 of its 4 values is NaN or infinite, not drawn (gaps in its line)")
    s, err = run_in(dir, "run --quiet p.lua")
    assert.equals(0, s, err)
    assert.equals("", err)
  end)
end)

-- Before: finite values near the largest double (1e308 and -1e308 in one series) went to gnuplot,
-- whose axis range overflowed: an empty frame, exit 0, not a word.
describe("values beyond ±1e300 (where gnuplot cannot scale an axis)", function()
  teardown(h.remove_scratch)

  -- The texts of an SVG figure (its tics' labels among them), joined by spaces.
  local function ytics(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("a")
    f:close()
    local tics = {}
    for t in s:gmatch("<text>%s*([^<]-)%s*</text>") do tics[#tics + 1] = t end
    return table.concat(tics, " ")
  end

  it("are left out as NaN is, the warning naming the first; a series of nothing else is refused", function()
    local dir = h.scratch()
    local s, err = run_script(dir, "p.lua", "nm.plot.timeseries({ { 1e308, -1e308, 1e308, 0, 1, 2 } }, { out = 'p.svg' })")
    warned(s, err, "plot.timeseries: node 0's value: 3 of its 6 values are NaN, infinite or beyond ±1e300 " ..
                   "(gnuplot cannot scale an axis to 1e+308, entry [1]), not drawn (gaps in its line)")
    -- the rest is drawn: its y axis runs over 0 to 2 (an empty frame's runs over -1 to 1)
    assert.matches(" 2 ", " " .. ytics(dir .. "/p.svg") .. " ")
    assert.is_nil((" " .. ytics(dir .. "/p.svg") .. " "):find(" %-1 "))
    s, err = run_script(dir, "q.lua", "nm.plot.timeseries({ { 1e308, -1e308, 1e308, 0 / 0 } }, { out = 'q.svg' })")
    assert.is_not.equal(0, s)
    assert.matches("q%.lua:2: plot%.timeseries: node 0's value holds no drawable value %(all 4 are NaN, infinite " ..
                   "or beyond ±1e300 %(gnuplot cannot scale an axis to 1e%+308, entry %[1%]%)%): nothing to draw", err)
    assert.is_nil(io.open(dir .. "/q.svg"))
    -- a CSV folded as it is read says the same, and a heat map of nothing drawable is refused
    h.write(dir .. "/r.csv", "t,x.0\n1,1e308\n2,0.5\n3,-1e305\n4,0.4\n")
    s, err = run_in(dir, "plot -o r.png r.csv")
    warned(s, err, "plot: node 0's x: 2 of its 4 values are NaN, infinite or beyond ±1e300 (gnuplot cannot scale an " ..
                   "axis to 1e+308, entry [1]), not drawn (gaps in its line)")
    local nm = require "neuromass"
    local ok, msg = pcall(nm.plot.fc, { { 1e308, 1e302 }, { 1e302, 0 / 0 } }, { out = dir .. "/m.png" })
    assert.is_false(ok)
    assert.matches("plot%.fc: the matrix holds no drawable value %(all NaN, infinite or beyond ±1e300 %(gnuplot " ..
                   "cannot scale an axis to 1e%+308%)%): nothing to draw", msg)
  end)
end)
