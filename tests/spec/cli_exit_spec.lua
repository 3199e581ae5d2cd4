-- cli_exit_spec.lua: how the `neuromass` executable ends: a script's
-- os.exit that reports success still answers for the command line's --set,
-- a script that cannot be loaded is named, and output lost on a full or
-- closed standard output fails the command (as GNU's close_stdout); and
-- sonify and plot read --nodes by one rule.
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

describe("--task I --ntasks N in a script without an exploration", function()
  -- Before: exit 0 and nothing said, so each task of a Slurm array given them ran the whole
  -- script onto the same outputs.
  it("fails the command, ended by itself or by os.exit(0); info and a script with one take them", function()
    local plain = write("plain.lua", "io.stderr:write('ran\\n')\n")
    local quit = write("quit0.lua", "os.exit(0)\n")
    for _, script in ipairs { plain, quit } do
      -- (a lone --task 0 is refused as the command line is read: explore_spec)
      for _, flags in ipairs { "--task 1 --ntasks 3", "--task 0 --ntasks 1" } do
        local status, _, err = h.sh(q(h.exe) .. " run " .. q(script) .. " " .. flags)
        assert.are.equal(1, status, script .. " " .. flags)
        assert.truthy(err:find("neuromass: " .. flags .. " was never used: the script ran no exploration " ..
                               "(nm.explore), so every task would run all of it\n", 1, true), err)
      end
    end
    assert.are.equal(0, (h.sh(q(h.exe) .. " info " .. q(plain) .. " --task 1 --ntasks 3")))
    write("box.lua", [[
local nm = require "neuromass"
nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace { x_ext = { 0, 1 } }, run = { duration = 1 },
  evaluate = function() return { a = 1 } end, out = "box" }:run()
]])
    local status, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run box.lua --quiet --task 1 --ntasks 2")
    assert.are.equal(0, status, err)
  end)
end)

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

  it("fails audio written to it with one message naming the reason", function()
    -- Before: a WAV streamed by a run said "cannot write to stdout" with no reason, and one
    -- copied there once complete (write_audio, sonify) was followed by a second message,
    -- "cannot write to the standard output: an earlier write failed (print flushes at once)".
    if not full then return end
    local script = write("au.lua", [[
local nm = require "neuromass"
local m = nm.models.hopf.native {}
local res = m:run { duration = 200, record = "x",
                    output = arg[1] == "run" and { audio = { path = "-", speedup = 1 } } or nil }
if arg[1] == "write" then res:write_audio("-", { speedup = 1 }) end
]])
    local csv = write("au.csv", "t,x.0\n0.1,0\n0.2,1\n0.3,0\n0.4,-1\n0.5,0\n")
    for _, case in ipairs { { "run " .. q(script) .. " run", "au%.lua:%d+: run: output%.audio: " },
                            { "run " .. q(script) .. " write", "au%.lua:%d+: write_audio: " },
                            { "sonify " .. q(csv) .. " -o - --speedup 1", "sonify: " } } do
      local status, out, err = h.sh("(" .. q(h.exe) .. " " .. case[1] .. " >/dev/full)")
      assert.are.equal(1, status, case[1])
      assert.are.equal("", out, case[1])
      assert.matches("^neuromass: [^\n]*" .. case[2] .. "cannot write to stdout: No space left on device\n$", err,
                     nil, false, case[1])
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

describe("--nodes of sonify and plot", function()
  -- Before: sonify dropped an empty item ("0,,1" played nodes 0 and 1, exit 0), took
  -- "" as the Lua table `--nodes = {}`, and refused "-1" as a node with no recording.
  it("is one rule: an empty item or a negative number is a usage error naming the value", function()
    local csv = write("r.csv", "t,x.0,x.1\n1,0.1,0.2\n2,0.2,0.3\n3,0.3,0.4\n")
    for _, cmd in ipairs { "sonify", "plot" } do
      local out = dir .. (cmd == "plot" and "/n.png" or "/n.wav")
      for v, why in pairs { ["0,,1"] = "(an empty item)", ["0,"] = "(an empty item)", [""] = "(an empty item)",
                            ["-1"] = "('-1')", ["0,x"] = "('x')" } do
        local status, _, err = h.sh(q(h.exe) .. " " .. cmd .. " " .. q(csv) .. " -o " .. q(out) .. " --nodes " .. q(v))
        assert.are.equal(1, status, cmd .. " " .. v)
        assert.are.equal("neuromass: " .. cmd .. ": --nodes needs 0-based node numbers such as 0,3,5, got '" .. v ..
                         "' " .. why .. "\n(try 'neuromass " .. cmd .. " --help')\n", err, cmd .. " " .. v)
        assert.is_nil(io.open(out), cmd .. " " .. v)
      end
    end
  end)
end)
