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

describe("nm.plot of rows with NaN under neuromass run", function()
  teardown(h.remove_scratch)

  it("warns on stderr, as the command does; run --quiet silences it", function()
    local dir = h.scratch()
    h.write(dir .. "/p.lua", "local nm = require 'neuromass'\n" ..
                             "nm.plot.timeseries({ { 1, 0 / 0, 2, 3 } }, { dt = 1, out = 'p.png' })\n")
    local s, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run p.lua")
    assert.equals(0, s, err)
    assert.equals("neuromass: warning: plot.timeseries: node 0's value: 1 of its 4 values is NaN or infinite, " ..
                  "not drawn (gaps in its line)\n", err)
    s, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run --quiet p.lua")
    assert.equals(0, s, err)
    assert.equals("", err)
  end)
end)
