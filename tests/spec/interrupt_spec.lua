-- interrupt_spec.lua: Ctrl-C (SIGINT) stops a long run between steps; the
-- script fails at its own line and no output file is left behind.
local h = require "helpers"

describe("an interrupted run", function()
  it("exits non-zero, names the script line and leaves no file", function()
    local dir = os.tmpname()
    os.remove(dir)
    local script = dir .. ".lua"
    local f = assert(io.open(script, "w"))
    f:write([[
local nm = require "neuromass"
local hcp = nm.datasets.load("hcp")
local m = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat }
m:run { duration = 2000000, sampling_dt = 1, output = { csv = "long.csv" } }
]])
    f:close()
    local cmd = string.format("(%s run %s --out %s & pid=$!; sleep 1; kill -INT $pid; wait $pid)",
                              h.exe, script, dir)
    local status, _, err = h.sh(cmd)
    os.remove(script)
    local p = io.popen("ls -A " .. dir .. " 2>/dev/null")
    local left = p:read("a")
    p:close()
    os.execute("rm -rf " .. dir)
    assert.are_not.equal(0, status)
    assert.matches("%.lua:4: run: interrupted", err)
    assert.are.equal("", left)
  end)
end)
