-- interrupt_spec.lua: SIGINT, SIGTERM, SIGHUP and SIGQUIT stop a long streamed
-- run between steps: the script fails at its own line, exits with 128 + the
-- signal's number, leaves nothing under the output's name and no temporary
-- file, and keeps the complete rows as <stem>.partial.csv, saying where.
local h = require "helpers"

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
until [ "$(cat %s/out/fhn.csv.tmp-$pid 2>/dev/null | wc -c)" -gt 200000 ] || [ $n -gt 400 ]; do
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
      assert.are.same({ "fhn.partial.csv" }, left)     -- no fhn.csv, no fhn.csv.tmp-PID
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
