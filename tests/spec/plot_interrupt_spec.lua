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

  it("stopped while its rows are checked and thinned, before gnuplot: exit 143 at once, gnuplot never started", function()
    -- 20 rows of 400 000 samples take seconds of Lua work before gnuplot starts; the signal
    -- (SIGTERM to the process alone: a background job ignores SIGINT) came in it.  (Before: that work went on to its end, gnuplot drew
    -- the figure, and only then was the stop reported: 13 s late for 80 rows of 600 000.)
    local dir, env = setup("touch started\n")
    h.write(dir .. "/long.lua", "local nm = require 'neuromass'\nlocal rows = {}\n" ..
      "for i = 1, 20 do local r = {}; for k = 1, 400000 do r[k] = math.sin(k * 0.001 * i) end; rows[i] = r end\n" ..
      "io.open('ready', 'w'):close()\nnm.plot.timeseries(rows, { out = 'long.png', dt = 0.1 })\n")
    local status, _, err = h.sh("({ " .. env .. "exec " .. q(h.exe) .. " run long.lua; } & p=$!; " ..
                                "while [ ! -e " .. q(dir .. "/ready") .. " ]; do sleep 0.02; done; kill -TERM $p; wait $p)")
    assert.equals(143, status, err)
    assert.matches("^neuromass: long%.lua:5: plot%.timeseries: interrupted by SIGTERM %(no figure written%)\n$", err)
    assert.is_nil(io.open(dir .. "/started"), "gnuplot was started")
    os.remove(dir .. "/ready")
    os.remove(dir .. "/long.lua")
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
