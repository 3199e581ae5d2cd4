-- interrupt_spec.lua: SIGINT, SIGTERM, SIGHUP and SIGQUIT stop a long streamed
-- run between steps: the script fails at its own line, exits with 128 + the
-- signal's number, leaves nothing under the output's name and no temporary
-- file, and keeps the complete rows as <stem>.partial.csv, saying where.
local h = require "helpers"
local q = h.q

local script_text = [[
local nm = require "neuromass"
local m = nm.models.fhn.native {}
m:run { duration = 2e7, sampling_dt = 0.1, output = { csv = "fhn.csv" } }
]]

-- Starts the script in the background with the four signals at their default
-- (a background job, or a test runner, may have them ignored), waits until its
-- temporary CSV holds some rows, sends `sig`; returns the exit status, stderr
-- and the files left.  A watchdog kills a run that outlives it by 60 s.
-- With `env` = "nohup", sends SIGTERM half a second later, and stderr ends
-- with "alive" if the process outlived `sig`.
local function interrupt(sig, env)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/out"))
  local script = dir .. "/long.lua"
  local f = assert(io.open(script, "w"))
  f:write(script_text)
  f:close()
  local cmd = string.format([[env --default-signal=INT,QUIT,HUP,TERM %s %s run %s --out %s/out &
pid=$!; (sleep 60; kill -KILL $pid) 2>/dev/null & wd=$!
n=0
until [ "$(cat %s/out/fhn.csv.tmp-$pid.* 2>/dev/null | wc -c)" -gt 200000 ] || [ $n -gt 400 ]; do
  sleep 0.05; n=$((n+1)); done
kill -%s $pid
if [ -n "%s" ]; then sleep 0.5; kill -0 $pid && alive=1; kill -TERM $pid; fi
wait $pid; st=$?; kill $wd; [ -n "$alive" ] && echo alive >&2; exit $st]], env or "", h.exe, script, dir,
                            dir, sig, env or "")
  local status, _, err = h.sh("(" .. cmd .. ")")
  local p = io.popen("ls -A " .. dir .. "/out")
  local left = {}
  for name in p:lines() do left[#left + 1] = name end
  p:close()
  return status, err, left, dir
end

-- Every line after the header holds t and two numbers, t rising by 0.1.
local function complete_rows(path)
  local f = assert(io.open(path))
  assert.are.equal("t,x.0,y.0", f:read("l"))
  local n, last = 0, nil
  for line in f:lines() do
    local t, x, y = line:match("^([^,]+),([^,]+),([^,]+)$")
    assert(t and tonumber(t) and tonumber(x) and tonumber(y), "incomplete row: " .. line)
    if last then assert(math.abs(tonumber(t) - last - 0.1) < 1e-6, "a row is missing before " .. t) end
    last, n = tonumber(t), n + 1
  end
  f:close()
  return n
end

describe("a streamed run stopped by a signal", function()
  for _, case in ipairs { { "INT", 2 }, { "TERM", 15 }, { "HUP", 1 }, { "QUIT", 3 } } do
    local sig, n = case[1], case[2]
    it("SIG" .. sig .. ": exits 128+" .. n .. ", keeps the complete rows as fhn.partial.csv, " ..
       "no debris", function()
      local status, err, left, dir = interrupt(sig)
      local rows = #left == 1 and left[1] == "fhn.partial.csv" and
                   complete_rows(dir .. "/out/fhn.partial.csv")
      os.execute("rm -rf " .. dir)
      assert.are.equal(128 + n, status)
      assert.are.same({ "fhn.partial.csv" }, left)     -- no fhn.csv, no fhn.csv.tmp-PID.HOST
      assert.is_true(rows > 1000)
      assert.matches("long%.lua:3: run: interrupted by SIG" .. sig .. "; kept what was done in " ..
                     "'[^']*/out/fhn%.partial%.csv'", err)
    end)
  end

  it("keeps ignoring a signal the process was started ignoring (nohup)", function()
    local status, err, left, dir = interrupt("HUP", "nohup")
    os.execute("rm -rf " .. dir)
    assert.matches("alive\n$", err)                  -- SIGHUP did not stop it, SIGTERM did
    assert.are.equal(128 + 15, status)
    assert.are.same({ "fhn.partial.csv" }, left)
  end)
end)

-- Runs `text` as s.lua in a fresh directory (the child with the stop signals
-- at their default), waits until the shell test `ready` holds there (or 20 s),
-- sends `sig`; returns the exit status, stderr, the files left (without s.lua)
-- and the directory.  A watchdog kills a child that outlives it by 60 s.
local function stop_script(text, ready, sig)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local f = assert(io.open(dir .. "/s.lua", "w"))
  f:write(text)
  f:close()
  local cmd = string.format([[cd %s && { env --default-signal=INT,QUIT,HUP,TERM %s run s.lua &
pid=$!; (sleep 60; kill -KILL $pid) 2>/dev/null & wd=$!
n=0; until %s || [ $n -gt 400 ]; do sleep 0.05; n=$((n+1)); done
kill -%s $pid; wait $pid; st=$?; kill $wd; exit $st; }]], dir, h.exe, ready, sig)
  local status, _, err = h.sh("(" .. cmd .. ")")
  local p = io.popen("ls -A " .. dir)
  local left = {}
  for name in p:lines() do if name ~= "s.lua" then left[#left + 1] = name end end
  p:close()
  table.sort(left)
  return status, err, left, dir
end

-- stop_script's SIGINT `wait` seconds after the script creates "started":
-- its exit status, stderr and how long after the signal it ended (nil when
-- the signal was not sent).
local function stop_after(text, wait)
  local status, err, _, dir = stop_script(text, "{ [ -e started ] && sleep " .. wait ..
                                          " && date +%s.%N > sent; }", "INT")
  local f = io.open(dir .. "/sent")
  local t0 = f and tonumber(f:read("l"))
  if f then f:close() end
  local now = tonumber(io.popen("date +%s.%N"):read("l"))
  os.execute("rm -rf " .. dir)
  return status, err, t0 and now - t0
end

describe("a stop signal outside a run", function()
  for _, case in ipairs { { "INT", 2, "while true do end" }, { "TERM", 15, "while true do end" },
                          { "INT", 2, "while true do os.clock() end" } } do
    local sig, n, loop = case[1], case[2], case[3]
    it("SIG" .. sig .. " stops a busy loop of the script (" .. loop .. ") at its line, exit 128+" ..
       n, function()
      local status, err, _, dir = stop_script("io.open('started', 'w'):close()\n" .. loop .. "\n",
                                              "{ [ -e started ] && sleep 0.3; }", sig)
      os.execute("rm -rf " .. dir)
      assert.are.equal(128 + n, status)
      assert.matches("^neuromass: s%.lua:2: interrupted by SIG" .. sig .. "\n$", err)
    end)
  end

  it("SIGINT while res:write_csv writes a kept result: the complete rows as w.partial.csv, " ..
     "no w.csv, exit 130, at the user's line", function()
    local status, err, left, dir = stop_script([[
local nm = require "neuromass"
local r = nm.models.fhn.native {}:run { duration = 3e5, dt = 0.1 }
r:write_csv("w.csv")
]], [=[[ "$(cat w.csv.tmp-$pid.* 2>/dev/null | wc -c)" -gt 200000 ]]=], "INT")
    local rows = #left == 1 and complete_rows(dir .. "/w.partial.csv")
    os.execute("rm -rf " .. dir)
    assert.are.equal(130, status)
    assert.are.same({ "w.partial.csv" }, left)
    assert.is_true(rows > 1000)
    assert.matches("^neuromass: s%.lua:3: write_csv: interrupted by SIGINT; kept the complete " ..
                   "rows written in '[^']*w%.partial%.csv'\n$", err)
  end)
end)

describe("res:write_audio stopped by a signal", function()
  it("SIGINT while it feeds or renders: no w.wav, no sidecar, no temporary file, exit 130, " ..
     "at the user's line", function()
    local status, err, left, dir = stop_script([[
local nm = require "neuromass"
local r = nm.models.fhn.native {}:run { duration = 3e5, dt = 0.1 }
r:write_audio("w.wav", { speedup = 1 })
]], "ls w.wav.tmp-* >/dev/null 2>&1", "INT")
    os.execute("rm -rf " .. dir)
    assert.are.equal(130, status)
    assert.are.same({}, left)
    assert.matches("^neuromass: s%.lua:3: write_audio: interrupted by SIGINT\n$", err)
  end)
end)

describe("a slow mass stuck in Lua", function()
  it("is stopped by SIGTERM: the run fails as interrupted at the user's line, keeps its " ..
     "complete rows, no debris, exit 143", function()
    local status, err, left, dir = stop_script([[
local nm = require "neuromass"
local n = 0
local M = nm.mass { label = "A", slow = true, state = { x = 1 }, params = { k = 1 },
  derivatives = function(s)
    n = n + 1
    if n == 5000 then io.open("stuck", "w"):close() while true do end end
    return { x = -s.x }
  end }
nm.model(nm.node { masses = { M() } }):run { duration = 1e4, dt = 0.1, output = { csv = "s.csv" } }
]], "[ -e stuck ]", "TERM")
    os.execute("rm -rf " .. dir)
    assert.are.equal(143, status)
    assert.are.same({ "s.partial.csv", "stuck" }, left)
    assert.matches("^neuromass: s%.lua:9: run: interrupted by SIGTERM; kept what was done in " ..
                   "'[^']*s%.partial%.csv'\n$", err)
  end)
end)

-- Runs the script `src` as s.lua in a new folder, its standard output piped
-- to `reader` ("head -1"): its exit status, what the reader printed, its
-- stderr and the names left in the folder (sorted); the folder is removed.
local function piped(src, reader)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  h.write(dir .. "/s.lua", src)
  local _, out, err = h.sh(string.format("(cd %s && { env --default-signal=PIPE %s run s.lua; " ..
                                         "echo $? >status; } | %s)", dir, h.exe, reader))
  local status = io.open(dir .. "/status"):read("n")
  local p = io.popen("ls -A " .. dir)
  local left = {}
  for name in p:lines() do left[#left + 1] = name end
  p:close()
  table.sort(left)
  os.execute("rm -rf " .. dir)
  return status, out, err, left
end

describe("a closed standard output (SIGPIPE)", function()
  it("stops the run like a signal: exit 141, the complete rows kept, no debris", function()
    local status, out, err, left = piped([[
local nm = require "neuromass"
local n = 0
local M = nm.mass { label = "A", slow = true, state = { x = 1 }, params = { k = 1 },
  derivatives = function(s)
    n = n + 1
    if n > 50000 then print(s.x) end        -- once the CSV holds rows
    return { x = -s.x }
  end }
nm.model(nm.node { masses = { M() } }):run { duration = 1e5, dt = 0.1, output = { csv = "s.csv" } }
]], "head -1")
    assert.matches("^[%d.e-]+\n$", out)
    assert.are.equal(141, status)
    assert.are.same({ "s.lua", "s.partial.csv", "status" }, left)   -- no s.csv, no s.csv.tmp-PID.HOST
    assert.matches("^neuromass: s%.lua:9: run: interrupted by SIGPIPE %(its output was closed%); " ..
                   "kept what was done in '[^']*s%.partial%.csv'\n$", err)
  end)
end)

describe("a closed standard output while writing audio", function()
  -- before: "write_audio: cannot write to stdout: Broken pipe", where a run, write_csv and
  -- print say "interrupted by SIGPIPE (its output was closed)" of the same event
  it("says what a run says of it: interrupted by SIGPIPE, exit 141", function()
    local status, _, err, left = piped([[
local nm = require "neuromass"
local res = nm.models.fhn.native {}:run { duration = 2000 }
res:write_audio("-", { variable = "x", speedup = 1 })   -- (176 kB: more than a pipe holds)
]], "head -c 100 >/dev/null")
    assert.are.equal(141, status)
    assert.are.same({ "s.lua", "status" }, left)
    assert.matches("^neuromass: s%.lua:3: write_audio: interrupted by SIGPIPE %(its output was closed%)\n$", err)
  end)
end)

describe("a stop signal the script catches with pcall", function()
  it("SIGINT in a pcall'd run of a sweep stops the script: exit 130, the interrupted run's " ..
     "rows kept, the later points not run, at the user's line", function()
    local status, err, left, dir = stop_script([[
local nm = require "neuromass"
for k = 1, 3 do   -- a parameter sweep that skips failing points
  local m = nm.models.fhn.native { K_gl = 0.1 * k }
  local ok, e = pcall(m.run, m, { duration = 2e7, sampling_dt = 0.1, output = { csv = "sweep" .. k .. ".csv" } })
  if not ok then io.stderr:write("point ", k, " failed: ", tostring(e), "\n") end
end
io.open("done", "w"):close()
]], [=[[ "$(cat sweep1.csv.tmp-$pid.* 2>/dev/null | wc -c)" -gt 200000 ]]=], "INT")
    local rows = #left == 1 and complete_rows(dir .. "/sweep1.partial.csv")
    os.execute("rm -rf " .. dir)
    assert.are.equal(130, status)
    assert.are.same({ "sweep1.partial.csv" }, left)    -- no sweep2, sweep3, done
    assert.is_true(rows > 1000)
    assert.matches("^neuromass: s%.lua:4: interrupted by SIGINT; kept what was done in " ..
                   "'[^']*sweep1%.partial%.csv'\n$", err)        -- (issue 11: the kept file survives the pcall)
  end)

  it("SIGINT in a busy loop under pcall: the code after the pcall does not run, exit 130",
     function()
    local status, err, left, dir = stop_script([[
io.open("started", "w"):close()
local ok = pcall(function() while true do end end)
io.open("after " .. tostring(ok), "w"):close()
while true do end
]], "{ [ -e started ] && sleep 0.3; }", "INT")
    os.execute("rm -rf " .. dir)
    assert.are.equal(130, status)
    assert.are.same({ "started" }, left)
    assert.matches("^neuromass: s%.lua:2: interrupted by SIGINT\n$", err)
  end)
end)

describe("a long nm.func analysis or stimulus render stopped by a signal (issue 11)", function()
  -- fcd of 80 x 5000, stepsize 1: about 25 s of work; the engine polls the
  -- stop flag between windows and rows, so SIGINT stops it at once.
  -- A sum of 40 OU processes over 2e7 samples: about 10 s of rendering.  Before, as_array
  -- ran to its end whatever the signal (the engine's render loop polled nothing).
  local cases = {
    { "fcd", "nm%.func%.fcd", 1.5, [[
local nm = require "neuromass"
local ts = {}
for i = 1, 80 do ts[i] = {} for k = 1, 5000 do ts[i][k] = math.sin(k * 0.01 * i) + (k * i % 7) end end
io.open("started", "w"):close()
local f = nm.func.fcd(ts, { stepsize = 1 })
]] },
    { "a stimulus's render (as_array)", "as_array", 1, [[
local nm = require "neuromass"
local s = nm.stimulus.OrnsteinUhlenbeckProcess { mu = 0.1, sigma = 0.04, tau = 2.0, seed = 1 }
for i = 2, 40 do s = s + nm.stimulus.OrnsteinUhlenbeckProcess { mu = 0.1, sigma = 0.04, tau = 2.0, seed = i } end
io.open("started", "w"):close()
local a = s:as_array(2e6, 0.1)
]] },
  }
  for _, case in ipairs(cases) do
    it("SIGINT during " .. case[1] .. ": exit 130 within 2 s, at the user's line", function()
      local status, err, after = stop_after(case[4], case[3])
      assert.are.equal(130, status)
      assert.matches("^neuromass: s%.lua:5: " .. case[2] .. ": interrupted by SIGINT\n$", err)
      assert.is_truthy(after, "the signal was not sent")
      assert.is_true(after < 2, string.format("stopped %.2f s after SIGINT", after))
    end)
  end

  -- Outside the host (plain lua5.4) a pcall may catch the stop: the render's own
  -- failure, then the iterator refuses to go on from a stimulus moved past its samples.
  it("SIGINT while chunks renders a block in plain Lua: a caught failure, then the next block refused", function()
    local dir = h.scratch()
    h.write(dir .. "/c.lua", [[
local nm = require "neuromass"
local s = nm.stimulus.OrnsteinUhlenbeckProcess { mu = 0.1, sigma = 0.04, tau = 2.0, seed = 1 }
for i = 2, 40 do s = s + nm.stimulus.OrnsteinUhlenbeckProcess { mu = 0.1, sigma = 0.04, tau = 2.0, seed = i } end
local next_block = s:chunks(2e6, 0.1, 20000000)
os.execute("(sleep 1; kill -INT $PPID) &")
local t0 = os.time()
print(pcall(next_block))
print(pcall(next_block))
print(os.time() - t0 < 5)
]])
    local status, out, err = h.sh("env --default-signal=INT lua5.4 " .. q(dir .. "/c.lua"))
    h.remove_scratch()
    assert.are.equal(0, status, err)
    assert.are.equal("false\t" .. dir .. "/c.lua:7: chunks: interrupted by SIGINT\n" ..
                     "false\t" .. dir .. "/c.lua:8: chunks: an earlier block failed (chunks: interrupted by " ..
                     "SIGINT); start again with s:chunks()\ntrue\n", out)
  end)
end)
