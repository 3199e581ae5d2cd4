-- plot_interrupt_spec.lua: a stop signal (Ctrl-C reaches the whole process
-- group, gnuplot too) while a figure is drawn stops the script with
-- "interrupted by SIGINT" and exit status 130, leaving no figure and no
-- temporary file (so does a stop that comes before gnuplot starts, while
-- `neuromass plot` reads its CSV); a failing gnuplot's message holds its own error lines,
-- a few at most, never its echo of the script's data.
local h = require "helpers"

local q = h.q

teardown(h.remove_scratch)

-- What dir holds: only the script (no figure, no temporary file).
local function only_script(dir)
  local _, out = h.sh("ls -A " .. q(dir))
  assert.equals("s.lua\n", out)
end

-- A stand-in gnuplot on PATH (bin) running `body`, and a script drawing fc.png in dir.
local function setup(body)
  local dir, bin = h.scratch(), h.scratch()
  h.write(bin .. "/gnuplot", "#!/bin/sh\n" .. body)
  h.sh("chmod +x " .. q(bin .. "/gnuplot"))
  h.write(dir .. "/s.lua", "local nm = require 'neuromass'\nnm.plot.fc({ { 1, 0 }, { 0, 1 } }, { out = 'fc.png' })\n")
  return dir, "cd " .. q(dir) .. " && PATH=" .. q(bin) .. ":\"$PATH\" "
end

describe("drawing a figure", function()
  it("stopped by SIGINT (to the process group): exit 130, 'interrupted by SIGINT', no figure left", function()
    -- gnuplot takes the script, then is slow: SIGINT comes while it draws
    local dir, env = setup("cat >/dev/null\nsleep 5\n")
    local status, _, err = h.sh(env .. "timeout --preserve-status -s INT 1 " .. q(h.exe) .. " run s.lua")
    assert.equals(130, status, err)
    assert.matches("^neuromass: s%.lua:2: plot%.fc: interrupted by SIGINT %(no figure written%)\n$", err)
    only_script(dir)
  end)

  it("a failing gnuplot: its error lines only, never its echo of the data", function()
    local echo = {}
    for k = 1, 400 do echo[#echo + 1] = string.format("%d 0.%d 0.5 0.25 0.125", k, k) end
    local dir, env = setup("cat >/dev/null\ncat >&2 <<'EOF'\n" .. table.concat(echo, "\n") ..
                           "\n   plot $d1 using 1:2 with lines\n        ^\nline 9: simulated failure\nEOF\nexit 1\n")
    local status, _, err = h.sh(env .. q(h.exe) .. " run s.lua")
    assert.equals(1, status)
    assert.equals("neuromass: s.lua:2: plot.fc: gnuplot failed: line 9: simulated failure\n", err)
    only_script(dir)
  end)
end)

describe("neuromass plot", function()
  it("stopped while it reads its CSV (SIGTERM to it alone): no figure, the stop said, exit 143", function()
    -- The CSV comes through a FIFO whose writer pauses: the signal comes before
    -- gnuplot starts.  (Before: the figure was drawn and its success line printed,
    -- then exit 143.)
    local dir = h.scratch()
    local status, out, err = h.sh("(cd " .. q(dir) .. " && mkfifo in.csv && " ..
      "{ { printf 't,x.0\\n0,1\\n0.1,2\\n'; sleep 1; printf '0.2,3\\n0.3,1\\n'; } > in.csv & } && " ..
      q(h.exe) .. " plot in.csv -o f.png & p=$!; sleep 0.4; kill -TERM $p; wait $p)")
    assert.equals(143, status, err)
    assert.equals("", out)
    assert.matches("^neuromass: plot: interrupted by SIGTERM %(no figure written%)\n$", err)
    local _, listing = h.sh("ls -A " .. q(dir))
    assert.equals("in.csv\n", listing)
  end)
end)
