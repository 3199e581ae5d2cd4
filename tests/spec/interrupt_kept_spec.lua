-- interrupt_kept_spec.lua: a run stopped by SIGINT inside a pcall: the stop
-- ends the script at another line (the pcall's), and the message still says
-- which files the run kept ("kept what was done in 'b.partial.csv'"), once;
-- without pcall the run's own message says it, not repeated; a run writing
-- audio too keeps it as NAME.partial.wav (core.keep_stopped).
local h = require "helpers"

local q = h.q

teardown(h.remove_scratch)

-- Runs `body` (a script) in a new folder, sends SIGINT once the temporary
-- file of `file` (default b.csv, the BOLD's) holds more than `bytes` (default
-- 0); returns the exit status, stderr and the folder.
local function interrupted(body, file, bytes)
  local dir = h.scratch()
  h.write(dir .. "/i4.lua", body)
  local cmd = string.format([[cd %s || exit 9
env --default-signal=INT %s run i4.lua &
pid=$!; (sleep 60; kill -KILL $pid) 2>/dev/null & wd=$!
n=0
until [ "$(cat %s.tmp-$pid.* 2>/dev/null | wc -c)" -gt %d ] || [ $n -gt 400 ]; do sleep 0.05; n=$((n+1)); done
kill -INT $pid; wait $pid; st=$?; kill $wd; exit $st]], q(dir), q(h.exe), file or "b.csv", bytes or 0)
  local status, _, err = h.sh("(" .. cmd .. ")")
  return status, err, dir
end

local RUN = [[m:run { duration = 2e7, dt = 0.1, record = {}, bold = true, output = { bold = "b.csv" } }]]

describe("a run stopped by SIGINT", function()
  it("inside pcall: the message ending the script names the file kept", function()
    local status, err, dir = interrupted("local nm = require 'neuromass'\nlocal m = nm.models.fhn.native {}\n" ..
                                         "local ok = pcall(function()\n  return " .. RUN .. "\nend)\n" ..
                                         "print('caught', ok)\n")
    assert.equals(130, status, err)
    assert.matches("^neuromass: i4%.lua:%d+: interrupted by SIGINT.*; kept what was done in '[^']*b%.partial%.csv'\n$",
                   err)
    local f = assert(io.open(dir .. "/b.partial.csv"))
    f:close()
  end)

  it("without pcall: the run's own message names it, once", function()
    local status, err = interrupted("local nm = require 'neuromass'\nlocal m = nm.models.fhn.native {}\n" .. RUN .. "\n")
    assert.equals(130, status, err)
    assert.matches("^neuromass: i4%.lua:3: run: interrupted by SIGINT; kept what was done in '[^']*b%.partial%.csv'\n$",
                   err)
  end)
end)

describe("a run with output = { csv, audio } stopped by SIGINT", function()
  it("keeps the audio it had as NAME.partial.wav with its sidecar, beside NAME.partial.csv " ..
     "(README: a streamed run that stops early keeps OUT.partial.wav)", function()
    local status, err, dir = interrupted("local nm = require 'neuromass'\nlocal m = nm.models.fhn.native {}\n" ..
      "m:run { duration = 1e8, dt = 0.1, output = { csv = 'a.csv', audio = { path = 'a.wav' } } }\n",
      "a.csv", 100000)
    assert.equals(130, status, err)
    assert.matches("^neuromass: i4%.lua:3: run: interrupted by SIGINT; kept what " ..
                   "was done in 'a%.partial%.csv', 'a%.partial%.wav', 'a%.partial%.wav%.json'\n$", err)
    local info = require("neuromass.core").audio_read(dir .. "/a.partial.wav")
    assert.is_true(info.frames > 0)
    assert.matches('"partial": true', h.read(dir .. "/a.partial.wav.json"))
    local _, listing = h.sh("ls -A " .. q(dir))
    assert.is_nil(listing:find("tmp"), listing)
    assert.is_nil(listing:find("a%.wav"), listing)
  end)
end)

describe("an exploration stopped before its first row", function()
  -- Before: "the points done are kept in .../results.csv", a table that was never written.
  it("says that no point was done and no table written", function()
    local dir = h.scratch()
    h.write(dir .. "/none.lua", [[
local nm = require "neuromass"
local core = require "neuromass.core"
nm.explore.BoxSearch {
  model = function() io.popen("kill -INT " .. core.pid()):close(); return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace({ { "x_ext", { 0, 0.1 } } }), run = { duration = 10, dt = 0.1 },
  evaluate = function() return {} end, out = "none",
}:run()
]])
    local status, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run none.lua --workers 1")
    assert.equals(130, status, err)
    assert.equals("neuromass: none.lua:3: BoxSearch: interrupted by SIGINT; no point was done, and " .. dir ..
                  "/none/results.partial.csv was not written: run again to compute them\n", err)
    assert.is_nil(io.open(dir .. "/none/results.csv"))
    assert.is_nil(io.open(dir .. "/none/results.partial.csv"))
  end)
end)

-- Before: a stopped exploration kept its rows in results.csv, the name of a
-- finished one, so a pipeline waiting for it (or a plot of the grid) took
-- the rows of a part of the space for the whole.
describe("an exploration stopped part-way", function()
  it("keeps its rows as results.partial.csv, which nm.explore.load reads with a warning; the run that ends it " ..
     "writes results.csv", function()
    local dir = h.scratch()
    h.write(dir .. "/part.lua", [[
local nm = require "neuromass"
local core = require "neuromass.core"
nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace({ { "x_ext", { 0, 0.1, 0.2, 0.3 } } }), run = { duration = 10, dt = 0.1 },
  evaluate = function(_, p)
    if p.x_ext == 0.2 and arg[1] == "stop" then io.popen("kill -INT " .. core.pid()):close() end
    return { m = p.x_ext }
  end, out = "part",
}:run()
]])
    h.write(dir .. "/load.lua", [[
local nm = require "neuromass"
local r = nm.explore.load("part")
print(#r.rows, r.file:match("[^/]+$"))
]])
    local function run(script, args)
      return h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run " .. script .. " --quiet " .. args)
    end
    local status, _, err = run("part.lua", "--workers 1 -- stop")
    assert.equals(130, status, err)
    assert.equals("neuromass: part.lua:3: BoxSearch: interrupted by SIGINT; the points done are kept in " .. dir ..
                  "/part/results.partial.csv: run again to compute the rest\n", err)
    assert.is_nil(io.open(dir .. "/part/results.csv"))
    assert.equals(3, #h.read(dir .. "/part/results.partial.csv"):gsub("[^\n]", ""))   -- the header, points 1, 2
    local out
    status, out, err = run("load.lua", "")
    assert.equals(0, status, err)
    assert.equals("2\tresults.partial.csv\n", out)
    assert.equals("neuromass: warning: explore.load: '" .. dir .. "/part/results.partial.csv' holds the 2 rows of " ..
                  "an exploration that did not finish (it was stopped, or failed, or is running): its script, run " ..
                  "again, computes the rest\n", err)
    status, _, err = run("part.lua", "--workers 1")
    assert.equals(0, status, err)
    assert.is_nil(io.open(dir .. "/part/results.partial.csv"))
    assert.equals(5, #h.read(dir .. "/part/results.csv"):gsub("[^\n]", ""))
    status, out, err = run("load.lua", "")
    assert.equals(0, status, err)
    assert.equals("4\tresults.csv\n", out)
    assert.equals("", err)
  end)
end)
