-- stop_startup_spec.lua: a stop signal that comes while the executable loads
-- the library, before the library has told the stop hook where its files are
-- (the registry's "neuromass.libsrc", set by _check.lua), stops the script at
-- the user's line as any other stop: "s.lua:1: interrupted by SIGTERM", exit
-- 143; an exploration's worker says nothing.  The moment is chosen, not timed:
-- the library is run from a copy (symbolic links to this checkout's files,
-- NEUROMASS_LUA_DIR) in which one file sends SIGTERM to its own process on
-- its first line.  (Before: "lua/neuromass/_check.lua:1: interrupted by
-- SIGTERM", a line of the library's, said by workers too.)  The commands that
-- run no script (plot, sonify) say their own message.
local h = require "helpers"

local q = h.q

teardown(h.remove_scratch)

-- A copy of the library in dir/lua whose `file` stops its own process (SIGTERM;
-- os.execute returns once the signal is noted) at its first line, before its own
-- code; the lines keep their numbers.  Returns the environment that runs it.
local function stopping_library(dir, file)
  local lib = dir .. "/lua/neuromass"
  h.sh("mkdir -p " .. q(lib) .. " && ln -s " .. q(h.top) .. "/lua/neuromass/* " .. q(lib) ..
       " && rm " .. q(lib .. "/" .. file))
  h.write(lib .. "/" .. file, 'os.execute("kill -TERM " .. io.open("/proc/self/stat"):read("n")) ' ..
          h.read(h.top .. "/lua/neuromass/" .. file))
  return "NEUROMASS_LUA_DIR=" .. q(dir .. "/lua") .. " "
end

local SCRIPT = 'local nm = require "neuromass"\nprint("the script went on")\n'

describe("a stop signal while the library loads", function()
  -- the files `neuromass run` loads before _check.lua has registered the library's prefix
  for _, file in ipairs { "_check.lua", "keyorder.lua", "paths.lua", "context.lua" } do
    it("(in " .. file .. ") stops the script at its first line: exit 143, the user's line named", function()
      local dir = h.scratch()
      local env = stopping_library(dir, file)
      h.write(dir .. "/s.lua", SCRIPT)
      local s, out, err = h.sh("cd " .. q(dir) .. " && env --default-signal=TERM " .. env .. q(h.exe) ..
                               " run s.lua")
      assert.equals(143, s, err)
      assert.equals("", out)
      assert.equals("neuromass: s.lua:1: interrupted by SIGTERM\n", err)
    end)

    it("(in " .. file .. ") stops an exploration's worker, which says nothing: exit 143", function()
      local dir = h.scratch()
      local env = stopping_library(dir, file)
      h.write(dir .. "/s.lua", SCRIPT)
      local s, out, err = h.sh("cd " .. q(dir) .. " && env --default-signal=TERM NEUROMASS_EXPLORE_WORKER=1 " ..
                               env .. q(h.exe) .. " run s.lua --quiet")
      assert.equals(143, s, err)
      assert.equals("", out)
      assert.equals("", err)
    end)
  end

  -- plot, sonify and explore load the library from init.lua, and ran it from a chunk of the
  -- host's, which the hook took for the user's: '[string "return require(...)..."]:1:'
  for _, case in ipairs {
    { "plot in.csv -o f.png", "^neuromass: plot: interrupted by SIGTERM %(no figure written%)\n$" },
    { "sonify in.csv -o f.wav", "^neuromass: sonify: in.csv: interrupted by SIGTERM after line %d+ " ..
                                "%(nothing was written%)\n$" },
  } do
    it("(in init.lua) stops `neuromass " .. case[1] .. "` with its own message, writing nothing: exit 143", function()
      local dir = h.scratch()
      local env = stopping_library(dir, "init.lua")
      h.write(dir .. "/in.csv", "t,x.0\n0,1\n0.1,2\n")
      local s, out, err = h.sh("cd " .. q(dir) .. " && env --default-signal=TERM " .. env .. q(h.exe) ..
                               " " .. case[1])
      assert.equals(143, s, err)
      assert.equals("", out)
      assert.matches(case[2], err)
      local _, listing = h.sh("ls -A " .. q(dir))
      assert.equals("in.csv\nlua\n", listing)
    end)
  end

  it("(in init.lua) lets `neuromass explore --merge` join the parts, then says it was stopped: exit 143", function()
    -- (explore --merge stops nowhere: before, its success line, then exit 143 unexplained)
    local dir = h.scratch()
    h.write(dir .. "/sw.lua", [[
local nm = require "neuromass"
local space = nm.explore.ParameterSpace { x_ext = { 0, 0.5 } }
nm.explore.BoxSearch { out = "sw", space = space, run = { duration = 10, jit = false },
  model = function() return nm.models.fhn.native {} end, evaluate = function(_, p) return { m = p.x_ext } end }:run()
]])
    local s, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run sw.lua --task 0 --ntasks 1 --quiet")
    assert.equals(0, s, err)
    local env = stopping_library(dir, "init.lua")
    local out
    s, out, err = h.sh("cd " .. q(dir) .. " && env --default-signal=TERM " .. env .. q(h.exe) .. " explore --merge sw")
    assert.equals(143, s, err)
    assert.equals("sw/results.csv: 2 rows (1 part joined)\n", out)
    assert.equals("neuromass: explore: interrupted by SIGTERM once its work was done\n", err)
    assert.equals(3, select(2, h.read(dir .. "/sw/results.csv"):gsub("\n", "")))
  end)
end)
