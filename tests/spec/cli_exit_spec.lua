-- cli_exit_spec.lua: how the `neuromass` executable ends: a script's
-- os.exit that reports success still answers for the command line's --set,
-- a script that cannot be loaded is named, and output lost on a full or
-- closed standard output fails the command (as GNU's close_stdout).
local h = require "helpers"

local q = h.q

local dir
setup(function() dir = h.scratch() end)
teardown(h.remove_scratch)

--- Writes the file `name` of the scratch directory; returns its path.
local function write(name, text)
  h.write(dir .. "/" .. name, text)
  return dir .. "/" .. name
end

describe("os.exit outside a run", function()
  -- Before: exit status 0, the --set silently unused (only a script that ended
  -- by itself was checked).
  it("reporting success fails the command when a --set was never applied", function()
    for _, call in ipairs { "os.exit()", "os.exit(0)", "os.exit(true)", "os.exit(0, true)" } do
      local script = write("quit.lua", "io.stderr:write('before\\n') " .. call .. "\n")
      local status, _, err = h.sh(q(h.exe) .. " run " .. q(script) .. " --set K_gl=1")
      assert.are.equal(1, status, call)
      assert.are.equal("before\nneuromass: --set K_gl=1 was never applied: the script ran no model " ..
                       "(model:run applies --set)\n", err, call)
      status = h.sh(q(h.exe) .. " run " .. q(script))
      assert.are.equal(0, status, call)
    end
  end)

  it("reporting failure keeps its status, --set or not", function()
    local script = write("quit3.lua", "os.exit(3)\n")
    local status, _, err = h.sh(q(h.exe) .. " run " .. q(script) .. " --set K_gl=1")
    assert.are.equal(3, status)
    assert.are.equal("", err)
  end)
end)

describe("a script that cannot be loaded", function()
  -- Before: "neuromass: attempt to load a binary chunk (mode is 't')", no file named.
  it("is named with the reason", function()
    local script = write("compiled.lua", "\27Lua\84\0")
    local status, _, err = h.sh(q(h.exe) .. " run " .. q(script))
    assert.are.equal(1, status)
    assert.are.equal("neuromass: " .. script .. ": attempt to load a binary chunk (mode is 't')\n", err)
  end)
end)

describe("a standard output that cannot be written", function()
  -- Before: each exited 0 with its text lost.
  local full = io.open("/dev/full", "w") and true
  it("fails the command that wrote to it, naming the reason", function()
    if not full then return end
    local script = write("say.lua", "print('hello')\n")
    local quits = write("quits.lua", "io.write('hello') os.exit(0)\n")   -- (os.exit flushes stdout)
    for _, cmd in ipairs { "--version", "--help", "help run", "run --help", "plot --help",
                           "run " .. q(script), "info " .. q(script), "run " .. q(quits) } do
      local status, out, err = h.sh("(" .. q(h.exe) .. " " .. cmd .. " >/dev/full)")
      assert.are.equal(1, status, cmd)
      assert.are.equal("", out, cmd)
      -- (a script's print flushes at once, its error then gone: the reason is unknown at the end)
      local reason = cmd:match("say") and "an earlier write failed %(print flushes at once%): the output is incomplete"
                     or "No space left on device"
      assert.matches("^neuromass: cannot write to the standard output: " .. reason .. "\n$", err, nil, false, cmd)
    end
  end)

  it("fails when closed, and a pipe that a reader closed is SIGPIPE's (141)", function()
    local status, _, err = h.sh("(" .. q(h.exe) .. " --version >&-)")
    assert.are.equal(1, status)
    assert.are.equal("neuromass: cannot write to the standard output: Bad file descriptor\n", err)
    local script = write("many.lua", "for i = 1, 200000 do print(i) end\n")
    status = h.sh("bash -c " .. q(q(h.exe) .. " run " .. q(script) .. " | head -1 >/dev/null; exit ${PIPESTATUS[0]}"))
    assert.are.equal(141, status)
  end)
end)
