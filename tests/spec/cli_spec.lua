-- cli_spec.lua: the `neuromass` executable: commands and options, and bad
-- input.  Every failure must say what went wrong on stderr (with the script's
-- file and line where there is one), exit non-zero and leave no file under
-- its final name and no temporary file behind.
local h = require "helpers"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- Runs the executable with arguments (each quoted); returns status, stdout, stderr.
local function nm(...)
  local parts = { q(h.exe) }
  for _, a in ipairs { ... } do parts[#parts + 1] = q(a) end
  return h.sh(table.concat(parts, " "))
end

local function tmpdir()
  local _, out = h.sh("mktemp -d")
  return (out:gsub("%s+$", ""))
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

--- The names in a directory (empty when it does not exist).
local function listing(dir)
  local _, out = h.sh("ls -A " .. q(dir))
  local names = {}
  for name in out:gmatch("[^\n]+") do names[#names + 1] = name end
  return names
end

--- Asserts that `dir` holds no CSV file and no temporary file.
local function assert_no_output(dir)
  for _, name in ipairs(listing(dir)) do
    assert.is_nil(name:match("%.csv") or name:match("%.tmp"), "unexpected file " .. dir .. "/" .. name)
  end
end

local example = h.top .. "/examples/fhn_network.lua"

-- A one-variable mass whose network input network_x must come from a sync rule.
local preamble = [[
local nm = require "neuromass"
local Osc = nm.mass { name = "Osc", label = "Osc", state = { x = 0.1 }, params = { k = 1 },
  inputs = { "network_x" },
  derivatives = function(s, p, u) return { x = -p.k * s.x + u.network_x } end }
local node = nm.node { label = "N", masses = { Osc() } }
]]

local dirs = {}
local function scratch()
  local d = tmpdir()
  dirs[#dirs + 1] = d
  return d
end

teardown(function()
  for _, d in ipairs(dirs) do h.sh("rm -rf " .. q(d)) end
end)

describe("neuromass command line", function()
  it("prints its usage with --help and exits 0", function()
    local status, out = nm("--help")
    assert.equals(0, status)
    assert.matches("usage: neuromass", out)
    assert.matches("run SCRIPT%.lua", out)
    assert.matches("info SCRIPT%.lua", out)
  end)

  -- A new user reads the help on an 80-column terminal, and README's summary first.
  it("help texts fit 80 columns; README's command summary names every command of --help", function()
    for _, cmd in ipairs { "help", "run", "info", "sonify", "plot", "explore" } do
      local status, out = nm("help", cmd)
      assert.equals(0, status)
      for line in out:gmatch("[^\n]+") do
        assert.is_true(#line <= 80, cmd .. ": " .. #line .. " columns: " .. line)
      end
    end
    local f = assert(io.open(h.top .. "/README.md"))
    local summary = f:read("a"):match("## Command line\n\n```\n(.-)```")
    f:close()
    assert.truthy(summary)
    local _, out = nm("--help")
    for cmd in out:gmatch("\n  (%l+) ") do
      assert.truthy(summary:find("neuromass " .. cmd .. " ", 1, true), "README's summary lacks " .. cmd)
    end
  end)

  -- "Both commands first run scripts/deps.sh" followed a list of three.
  it("README's getting-started targets each run scripts/deps.sh first, as it says", function()
    local f = assert(io.open(h.top .. "/README.md"))
    local text = f:read("a")
    f:close()
    local block, after = text:match("## Getting started\n\n```sh\n(.-)```\n\n([^\n]+)")
    assert.truthy(block)
    assert.truthy(after:find("Each of them first runs `scripts/deps.sh`", 1, true), after)
    f = assert(io.open(h.top .. "/Makefile"))
    local makefile = f:read("a")
    f:close()
    local n = 0
    for target in block:gmatch("make (%w+)") do
      n = n + 1
      assert.truthy(makefile:find("\n" .. target .. ": deps\n", 1, true), target)
    end
    assert.equals(3, n)
  end)

  it("prints its version with --version and exits 0", function()
    local status, out = nm("--version")
    assert.equals(0, status)
    assert.matches("^neuromass %d+%.%d+%.%d+", out)
  end)

  it("rejects an unknown command", function()
    local status, _, err = nm("frobnicate", example)
    assert.is_not.equals(0, status)
    assert.matches("unknown command 'frobnicate'", err)
  end)

  it("rejects a missing command or script", function()
    local status, _, err = nm()
    assert.is_not.equals(0, status)
    assert.matches("usage", err)
    status, _, err = nm("run")
    assert.is_not.equals(0, status)
    assert.matches("missing script", err)
  end)

  -- A usage error points at the help that lists the command's options: its own (run, info,
  -- sonify, plot, explore), the list of commands for a command that is none or for help itself;
  -- a failure that is no usage error (a file that cannot be read) gets no such line.
  it("ends a usage error with the command's own help to try", function()
    local cases = {
      { { "run", "--sedd", "1", "x.lua" }, "run: unknown option '%-%-sedd'", "run" },
      { { "run", "--seed" }, "option '%-%-seed' needs a value", "run" },
      -- (run's and info's values were refused without the command's name, which sonify's and plot's bear)
      { { "run", "--workers", "0", "x.lua" }, "run: %-%-workers needs a whole number", "run" },
      { { "run", "--seed", "x", "x.lua" }, "run: %-%-seed needs an integer", "run" },
      { { "info" }, "info: missing script", "info" },
      { { "info", "--task", "x", "s.lua" }, "info: %-%-task needs a task number", "info" },
      { { "sonify", "r.csv", "--sped", "4" }, "sonify: unknown option '%-%-sped'", "sonify" },
      { { "sonify", "r.csv" }, "sonify: sonify needs %-o OUT%.wav", "sonify" },
      { { "sonify", "r.csv", "-o", "x.wav", "--speedup", "abc" }, "%-%-speedup needs a number, got 'abc'", "sonify" },
      { { "plot", "r.csv", "-o", "f.png", "--colour", "red" }, "plot: unknown option '%-%-colour'", "plot" },
      { { "plot", "-o", "f.png" }, "plot: which CSV%?", "plot" },
      { { "explore", "--bogus" }, "explore: unknown option '%-%-bogus'", "explore" },
      { { "explore" }, "explore: nothing to do", "explore" },
      { { "plt" }, "unknown command 'plt'", nil },
      { { "help", "run", "x" }, "help: one command at most", nil },
    }
    for _, c in ipairs(cases) do
      local status, _, err = nm(table.unpack(c[1]))
      assert.equals(1, status, err)
      local try = c[3] and "neuromass " .. c[3] .. " %-%-help" or "neuromass %-%-help"
      assert.matches("^neuromass: [^\n]*" .. c[2] .. "[^\n]*\n%(try '" .. try .. "'%)\n$", err)
    end
    local status, _, err = nm("sonify", "nothere.csv", "-o", "x.wav")
    assert.equals(1, status)
    assert.matches("^neuromass: sonify: cannot read 'nothere%.csv'[^\n]*\n$", err)
  end)

  it("says when the script cannot be opened", function()
    local dir = scratch()
    local status, _, err = nm("run", dir .. "/nothere.lua", "--out", dir .. "/out")
    assert.is_not.equals(0, status)
    assert.matches("cannot open .*nothere%.lua", err)
    assert_no_output(dir .. "/out")
  end)
end)

describe("errors in a script", function()
  it("report a syntax error with the script's file and line", function()
    local dir = scratch()
    write(dir .. "/syntax.lua", "local nm = require 'neuromass'\nlocal x = = 2\n")
    local status, _, err = nm("run", dir .. "/syntax.lua", "--out", dir .. "/out")
    assert.is_not.equals(0, status)
    assert.matches("^neuromass: .*syntax%.lua:2: ", err)
    assert_no_output(dir .. "/out")
  end)

  it("report a runtime error with the script's file and line", function()
    local dir = scratch()
    write(dir .. "/runtime.lua", "local nm = require 'neuromass'\nlocal t = nil\nprint(t.field)\n")
    local status, _, err = nm("run", dir .. "/runtime.lua")
    assert.is_not.equals(0, status)
    assert.matches("^neuromass: .*runtime%.lua:3: attempt to index a nil value", err)
  end)

  it("blame a library call on the script's line, not on the library", function()
    local dir = scratch()
    write(dir .. "/typo.lua", "local nm = require 'neuromass'\n\n" ..
          "nm.mass { name = 'M', state = { x = 0 }, derivativs = function() end }\n")
    local status, _, err = nm("run", dir .. "/typo.lua")
    assert.is_not.equals(0, status)
    assert.matches("typo%.lua:3: mass: unknown field 'derivativs'; did you mean 'derivatives'%?", err)
  end)

  it("report error(nil), error({...}) and an object with __tostring readably, at the raising line",
     function()
    local dir = scratch()
    for text, want in pairs {
      ["local x = 1\nerror(nil)\n"] = "e%.lua:2: error raised with nil instead of a message " ..
                                      "%(give error%(%) a string%)\n$",
      ["local function f() error({ code = 3 }) end\n\nf()\n"] =
        "e%.lua:1: error raised with a table value instead of a message %(give error%(%) a " ..
        "string%)\n$",
      ["error(setmetatable({}, { __tostring = function() return 'disk on fire' end }))\n"] =
        "e%.lua:1: disk on fire\n$",
    } do
      write(dir .. "/e.lua", text)
      local status, _, err = nm("run", dir .. "/e.lua")
      assert.are.equal(1, status)
      assert.matches("^neuromass: [^\n]*" .. want, err)
    end
  end)

  it("that crossed coroutine.wrap keep one position, the raising line", function()
    local dir = scratch()
    write(dir .. "/co.lua", "local co = coroutine.wrap(function()\n  error('boom')\nend)\nco()\n")
    local status, _, err = nm("run", dir .. "/co.lua")
    assert.are.equal(1, status)
    assert.matches("^neuromass: [^:]*co%.lua:2: boom\n$", err)
  end)

  it("keep a message's own 'file:N: ' text after the script's position", function()
    local dir = scratch()
    write(dir .. "/m.lua", "error('data.csv:3: bad row')\n")
    local _, _, err = nm("run", dir .. "/m.lua")
    assert.matches("^neuromass: [^:]*m%.lua:1: data%.csv:3: bad row\n$", err)
  end)

  it("os.exit inside a slow mass's derivatives stops the run: no temporary file, the complete " ..
     "rows kept, exit status 1, at the os.exit line", function()
    local dir = scratch()
    write(dir .. "/x.lua", [[
local nm = require "neuromass"
local M = nm.mass { label = "A", slow = true, state = { x = 1 }, params = { k = 1 },
  derivatives = function(s) if s.x < 0.5 then os.exit(0) end return { x = -s.x } end }
nm.model(nm.node { masses = { M() } }):run { duration = 10, dt = 0.001, output = { csv = "s.csv" } }
]])
    local status, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run x.lua")
    assert.are.equal(1, status)
    assert.matches("x%.lua:3: slow mass 'A': os%.exit%(0%) was called during model:run: the run " ..
                   "stops there, and the script with it; kept what was done in '[^']*s%.partial%.csv'",
                   err)
    local left = listing(dir)
    table.sort(left)
    assert.are.same({ "s.partial.csv", "x.lua" }, left)
  end)

  -- ulimit -v cannot hold AddressSanitizer's reserved address space: not under check-asan
  local it_limited = h.ASAN and pending or it
  it_limited("running out of memory says what ran out: a slow mass at the run's line, the script " ..
             "by name", function()
    local dir = scratch()
    write(dir .. "/m.lua", [[
local nm = require "neuromass"
local hog = {}
local M = nm.mass { label = "A", slow = true, state = { x = 1 }, params = { k = 1 },
  derivatives = function(s) hog[#hog + 1] = string.rep("x", 1e7) .. #hog return { x = -s.x } end }
nm.model(nm.node { masses = { M() } }):run { duration = 1e4, dt = 0.1, output = { csv = "s.csv" } }
]])
    write(dir .. "/o.lua", "local t = {}\nfor i = 1, 1e9 do t[i] = ('x'):rep(1e7) .. i end\n")
    local status, _, err = h.sh("ulimit -v 600000; cd " .. q(dir) .. " && " .. q(h.exe) .. " run m.lua")
    assert.are.equal(1, status)
    assert.matches("^neuromass: m%.lua:5: slow mass 'A': Lua ran out of memory %(%d+ bytes %([%d.]+ GB%) " ..
                   "in use by Lua%); kept what was done in 's%.partial%.csv'\n$", err)
    status, _, err = h.sh("ulimit -v 600000; cd " .. q(dir) .. " && " .. q(h.exe) .. " run o.lua")
    assert.are.equal(1, status)
    assert.matches("^neuromass: o%.lua: Lua ran out of memory %(%d+ bytes in use by Lua%)\n$", err)
  end)

  it("os.exit outside a run exits with its status", function()
    local dir = scratch()
    write(dir .. "/x.lua", "io.write('before') os.exit(7) print('after')\n")
    local status, out = nm("run", dir .. "/x.lua")
    assert.are.equal(7, status)
    assert.are.equal("before", out)
  end)
end)

describe("neuromass run examples/fhn_network.lua", function()
  local default_csv
  local function default_run()
    if not default_csv then
      local dir = scratch()
      local status, out, err = nm("run", example, "--out", dir)
      assert.equals(0, status, err)
      assert.matches("fhn_network%.csv", out)
      default_csv = dir .. "/fhn_network.csv"
    end
    return default_csv
  end

  it("writes DIR/fhn_network.csv: t, x.0 ... x.79 and 2000 rows", function()
    local path = default_run()
    local csv = h.read_csv(path)
    assert.equals(81, #csv.header)
    assert.same({ "t", "x.0", "x.1" }, { csv.header[1], csv.header[2], csv.header[3] })
    assert.equals("x.79", csv.header[81])
    assert.equals(2000, csv.rows)
    assert.equals(1, csv.cols.t[1])
    assert.equals(2000, csv.cols.t[2000])
    local dir = path:match("^(.*)/")
    assert.same({ "fhn_network.csv" }, listing(dir))   -- no temporary file left
  end)

  it("applies --set NAME=VALUE to every run", function()
    local dir = scratch()
    local status, _, err = nm("run", example, "--out", dir, "--set", "*.tau=25")
    assert.equals(0, status, err)
    local a, b = h.read_csv(default_run()), h.read_csv(dir .. "/fhn_network.csv")
    assert.equals(a.rows, b.rows)
    local worst = h.compare(a.cols["x.5"], b.cols["x.5"])
    assert.is_true(worst > 1e-3, "--set *.tau=25 left x.5 unchanged")
  end)

  it("rejects --set of an unknown name and suggests the nearest one", function()
    local dir = scratch()
    local status, _, err = nm("run", example, "--out", dir, "--set", "*.tua=2")
    assert.is_not.equals(0, status)
    assert.matches("fhn_network%.lua:%d+: .*'%*%.tua'.*did you mean 'tau'%?", err)
    assert_no_output(dir)
  end)

  it("rejects --set with a value that is not a number, or without '='", function()
    local dir = scratch()
    local status, _, err = nm("run", example, "--out", dir, "--set", "*.tau=fast")
    assert.is_not.equals(0, status)
    assert.matches("%-%-set %*%.tau=fast: the value is not a finite number", err)
    status, _, err = nm("run", example, "--out", dir, "--set", "tau")
    assert.is_not.equals(0, status)
    assert.matches("NAME=VALUE", err)
    assert_no_output(dir)
  end)

  it("passes what follows '--' to the script's arg, options included", function()
    local dir = scratch()
    write(dir .. "/a.lua", "print(#arg, table.concat(arg, ' '))\n")
    local status, out = nm("run", dir .. "/a.lua", "x", "--quiet", "--", "--seed", "3", "--")
    assert.are.equal(0, status)
    assert.are.equal("4\tx --seed 3 --\n", out)
  end)

  -- A misspelt option after the script once went silently to the script's arg.
  it("warns once when an argument after the script is near one of its options, and passes it on", function()
    local dir = scratch()
    write(dir .. "/a.lua", "print(#arg, table.concat(arg, ' '))\n")
    local status, out, err = nm("run", dir .. "/a.lua", "--seeed", "3", "--out", dir .. "/o8", "--seeed",
                                "--sets=2", "--verbose", "--outdir", "-x", "--", "--sedd")
    assert.equals(0, status, err)
    assert.are.equal("8\t--seeed 3 --seeed --sets=2 --verbose --outdir -x --sedd\n", out)
    assert.are.equal("neuromass: warning: '--seeed' after the script is no option of 'run' (did you mean " ..
                     "'--seed'?): it was passed to the script, in its arg\n" ..
                     "neuromass: warning: '--sets=2' after the script is no option of 'run' (did you mean " ..
                     "'--set'?): it was passed to the script, in its arg\n", err)
    -- one word with and without a value: one warning (before: one for each spelling)
    status, out, err = nm("run", dir .. "/a.lua", "--seeed=3", "--sett", "x", "--seeed", "4")
    assert.equals(0, status, err)
    assert.are.equal("5\t--seeed=3 --sett x --seeed 4\n", out)
    assert.are.equal(1, select(2, err:gsub("'%-%-seeed", "")), err)
    status, out, err = nm("info", dir .. "/a.lua", "--quite")
    assert.equals(0, status, err)
    assert.truthy(out:find("--quite", 1, true), out)
    assert.truthy(err:find("'--quite' after the script is no option of 'info' (did you mean '--quiet'?)", 1, true), err)
  end)

  it("accepts --seed N and --quiet", function()
    local dir = scratch()
    local status, _, err = nm("run", example, "--out", dir, "--seed", "7", "--quiet")
    assert.equals(0, status, err)
    assert.is_true(exists(dir .. "/fhn_network.csv"))
    status, _, err = nm("run", example, "--out", dir, "--seed", "seven")
    assert.is_not.equals(0, status)
    assert.matches("%-%-seed needs an integer", err)
  end)

  -- GNU's long-option spelling: after the script, --seed=7 once went silently to the
  -- script's arg (the run kept its own seed).
  it("reads --NAME=VALUE as --NAME VALUE, before or after the script (not after '--')", function()
    local dir = scratch()
    write(dir .. "/s.lua", [[
local nm = require "neuromass"
local m = nm.models.fhn.native {}
m.params.sigma_ou = 0.1
local r = m:run { duration = 10, seed = 5 }
io.stderr:write(string.format("x=%.17g x_ext=%g args=%s\n", r:get("x", 0)[10], m.params.x_ext,
                              table.concat(arg, " ")))
r:write_csv("s.csv")
]])
    local _, _, plain = nm("run", dir .. "/s.lua", "--seed", "7", "--set", "x_ext=2", "--out", dir .. "/a")
    local status, _, err = nm("run", dir .. "/s.lua", "--seed=7", "--set=x_ext=2", "--out=" .. dir .. "/b")
    assert.equals(0, status, err)
    assert.equals(plain, err)
    assert.matches("x_ext=2 args=\n", err)
    assert.is_true(exists(dir .. "/b/s.csv"))
    local _, _, seed7 = nm("run", "--seed", "7", dir .. "/s.lua", "--out", dir .. "/c")
    status, _, err = nm("run", "--seed=7", dir .. "/s.lua", "--out", dir .. "/c")
    assert.equals(0, status, err)
    assert.equals(seed7, err)
    status, _, err = nm("run", dir .. "/s.lua", "--out", dir .. "/d", "--", "--seed=7")
    assert.equals(0, status, err)
    assert.matches("args=%-%-seed=7\n", err)
    assert.not_equals(plain:match("x=%S+"), err:match("x=%S+"))
    for _, cmd in ipairs { "run", "info" } do
      local _, help = nm("help", cmd)
      assert.truthy(help:find("A value may also follow '='", 1, true), help)
    end
    status, _, err = nm("run", dir .. "/s.lua", "--seed=x")
    assert.equals(1, status)
    assert.matches("%-%-seed needs an integer from 0 to 9223372036854775807, got 'x'", err)
  end)

  it("sonify, plot and explore read --NAME=VALUE as run does (they said 'unknown option')", function()
    local dir = scratch()
    write(dir .. "/r.csv", "t,x.0,x.1\n0,0,1\n0.1,0.5,0.25\n0.2,1,0\n0.3,0.5,0.25\n")
    local status, out, err = nm("plot", dir .. "/r.csv", "--output=" .. dir .. "/f.png", "--var=x", "--nodes=1")
    assert.equals(0, status, err)
    assert.matches("f%.png: x of 1 node from", out)
    status, out, err = nm("sonify", dir .. "/r.csv", "--output=" .. dir .. "/s.wav", "--speedup=0.01")
    assert.equals(0, status, err)
    assert.matches("s%.wav: .*speed%-up 0%.01", out)
    local merged, _, merge_err = nm("explore", "--merge=" .. dir .. "/none")
    assert.equals(1, merged)
    assert.matches("'[^']*/none' is not a directory", merge_err)
  end)

  -- sonify and plot kept the last of a repeated option (-o a.wav -o b.wav wrote b.wav), run
  -- refused it; a flag given a value (--quiet=1) was an "unknown option" (after run's script,
  -- an argument of the script's, the progress bar not silenced).
  it("one rule of options for every command: a value option given twice, a flag given a value", function()
    local dir = scratch()
    write(dir .. "/r.csv", "t,x.0,x.1\n0,0,1\n0.1,0.5,0.25\n0.2,1,0\n0.3,0.5,0.25\n")
    local csv, wav, png = dir .. "/r.csv", dir .. "/a.wav", dir .. "/a.png"
    local cases = {
      { { "run", example, "--seed", "1", "--seed=2" }, "run: option '%-%-seed' is given twice" },
      { { "info", "--workers", "1", example, "--workers", "2" }, "info: option '%-%-workers' is given twice" },
      -- (--set is given once per parameter: the same NAME twice kept the last value)
      { { "info", example, "--set", "*.tau=25", "--set=*.tau=30" }, "info: %-%-set %*%.tau is given twice %(25, then 30%)" },
      { { "sonify", csv, "-o", wav, "-o", dir .. "/b.wav" }, "sonify: option '%-o' is given twice" },
      { { "sonify", csv, "-o", wav, "--output=" .. dir .. "/b.wav" },
        "sonify: option '%-%-output' is given twice %(first as '%-o'%)" },
      { { "sonify", csv, "-o", wav, "--speedup", "0.01", "--speedup", "0.02" },
        "sonify: option '%-%-speedup' is given twice" },
      { { "plot", csv, "-o", png, "--var", "x", "--variable", "x" },
        "plot: option '%-%-variable' is given twice %(first as '%-%-var'%)" },
      { { "plot", csv, "-o", png, "--skip", "1", "--skip", "2" }, "plot: option '%-%-skip' is given twice" },
      { { "explore", "--merge", dir, "--merge=" .. dir }, "explore: option '%-%-merge' is given twice" },
      { { "run", "--quiet=1", example }, "run: option '%-%-quiet' takes no value, got '%-%-quiet=1'" },
      { { "run", example, "--quiet=yes" }, "run: option '%-%-quiet' takes no value, got '%-%-quiet=yes'" },
      { { "info", example, "--help=1" }, "info: option '%-%-help' takes no value, got '%-%-help=1'" },
      { { "sonify", csv, "-o", wav, "--quiet=1" }, "sonify: option '%-%-quiet' takes no value" },
      { { "sonify", csv, "-o", wav, "--help=" }, "sonify: option '%-%-help' takes no value, got '%-%-help='" },
      { { "plot", csv, "-o", png, "--zscore=1" }, "plot: option '%-%-zscore' takes no value, got '%-%-zscore=1'" },
      { { "plot", csv, "-o", png, "--quiet=0" }, "plot: option '%-%-quiet' takes no value" },
      { { "explore", "--merge", dir, "--quiet=1" }, "explore: option '%-%-quiet' takes no value" },
    }
    for _, c in ipairs(cases) do
      local status, _, err = nm(table.unpack(c[1]))
      assert.equals(1, status, table.concat(c[1], " ") .. ": " .. err)
      assert.matches("^neuromass: " .. c[2] .. "[^\n]*\n%(try 'neuromass %a+ %-%-help'%)\n$", err)
    end
    assert.same({ "r.csv" }, listing(dir))                              -- nothing written
    -- a flag given twice is the flag; after '--' everything is the script's
    local status, _, err = nm("plot", csv, "-o", png, "--zscore", "--zscore", "--quiet", "--quiet")
    assert.equals(0, status, err)
    write(dir .. "/a.lua", "io.stderr:write(#arg, '\\t', table.concat(arg, ' '), '\\n')\n")
    status, _, err = nm("run", dir .. "/a.lua", "--", "--quiet=1", "--seed", "1", "--seed", "2")
    assert.equals(0, status, err)
    assert.equals("5\t--quiet=1 --seed 1 --seed 2\n", err)
  end)

  -- A word that is an option's value is not an option: main.c scanned every word of sonify,
  -- plot and explore for --quiet and --help (plot --title --quiet drew the title '--quiet'
  -- and printed no report; --title -h printed the help and drew nothing; a --quiet after
  -- '--' silenced the report), and split a value that looked like --NAME=VALUE (run --out
  -- --seed=3 ran the script '3'; plot --title --var=x took --var's value 'x' as a CSV).
  it("a word that is an option's value is read as that value, never as an option", function()
    local dir = scratch()
    write(dir .. "/r.csv", "t,x.0,x.1\n0,0,1\n0.1,0.5,0.25\n0.2,1,0\n0.3,0.5,0.25\n")
    local csv = dir .. "/r.csv"
    local status, out, err = nm("plot", csv, "-o", dir .. "/a.png", "--title", "--quiet")
    assert.equals(0, status, err)
    assert.matches("a%.png: x of 2 nodes from", out)                   -- not quiet
    status, out, err = nm("plot", csv, "-o", dir .. "/b.png", "--title", "-h")
    assert.equals(0, status, err)
    assert.matches("^[^\n]*b%.png: x of 2 nodes from", out)             -- drawn, no help
    assert.truthy(exists(dir .. "/b.png"))
    status, out, err = nm("plot", csv, "-o", dir .. "/c.png", "--title", "--var=x")
    assert.equals(0, status, err)
    assert.matches("c%.png: x of 2 nodes from", out)
    write(dir .. "/--quiet", "t,x.0,x.1\n0,0,1\n0.1,0.5,0.25\n0.2,1,0\n")   -- a CSV named '--quiet'
    status, out, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " plot -o d.png -- --quiet")
    assert.equals(0, status, err)
    assert.matches("d%.png: x of 2 nodes from %-%-quiet", out)
    write(dir .. "/s.lua", "io.stderr:write(require('neuromass').context().out, '\\n')\n")
    local ran, _, said = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run --out --seed=3 s.lua")
    assert.equals(0, ran, said)
    assert.equals("--seed=3\n", said)
  end)

  -- The long spelling of -o is --output (the help texts named only -o); --out, run's directory,
  -- listed every option instead of suggesting it.  sonify --output - printed its report into
  -- the WAV on stdout (only "-o -" sent it to stderr).
  it("sonify and plot: -o and --output, named in the help; --out suggests --output", function()
    for _, cmd in ipairs { "sonify", "plot" } do
      local _, out = nm(cmd, "--help")
      assert.matches("\n  %-o, %-%-output ", out)
      local status, _, err = nm(cmd, "r.csv", "--out", "x.wav")
      assert.equals(1, status)
      assert.matches("^neuromass: " .. cmd .. ": unknown option '%-%-out'; did you mean '%-%-output'%?\n", err)
    end
    local dir = scratch()
    write(dir .. "/r.csv", "t,x.0,x.1\n0,0,1\n0.1,0.5,0.25\n0.2,1,0\n0.3,0.5,0.25\n")
    for _, out in ipairs { { "--output", "-" }, { "--output=-" }, { "-o", "-" } } do
      local status, wav, err = nm("sonify", dir .. "/r.csv", "--speedup", "0.01", table.unpack(out))
      assert.equals(0, status, err)
      assert.equals("RIFF", wav:sub(1, 4))
      assert.is_nil(wav:find("speed-up", 1, true), table.concat(out, " ") .. ": the report went into the WAV")
      assert.matches("%-: 0%.040 s, 2 channels", err)
    end
  end)

  it("refuses a --seed that is out of range, negative or not an integer, naming it", function()
    for _, v in ipairs { "99999999999999999999", "-1", "1.5", "9223372036854775808", "", "+5", " 5", "5 " } do
      local status, _, err = nm("run", example, "--seed", v)
      assert.equals(1, status)
      assert.matches("%-%-seed needs an integer from 0 to 9223372036854775807, got '" ..
                     v:gsub("%p", "%%%0") .. "'", err)
    end
    local status, _, err = nm("info", example, "--seed", "9223372036854775807")
    assert.equals(0, status, err)
  end)

  -- It was refused at the script's first write, after the run (make study: minutes).
  -- It was refused at the first model:run, or, with none, as "never applied".
  it("refuses a --set whose value is not a finite number before the script runs", function()
    local dir = scratch()
    write(dir .. "/s.lua", "io.stderr:write('ran\\n')\n")
    for _, v in ipairs { "abc", "inf", "nan", "1e400", "" } do
      local status, _, err = nm("run", dir .. "/s.lua", "--set", "*.tau=" .. v)
      assert.equals(1, status)
      assert.matches("^neuromass: run: %-%-set %*%.tau=" .. v:gsub("%p", "%%%0") .. ": the value is not a finite number\n", err)
      assert.is_nil(err:find("ran", 1, true))
    end
  end)

  it("refuses an --out that is a file, or under one, before the script runs", function()
    local dir = scratch()
    write(dir .. "/s.lua", "io.stderr:write('ran\\n')\n")
    write(dir .. "/f", "")
    for _, out in ipairs { dir .. "/f", dir .. "/f/sub" } do
      local status, _, err = nm("run", dir .. "/s.lua", "--out", out)
      assert.equals(1, status)
      assert.matches("^neuromass: run: %-%-out needs a directory, got '" .. out:gsub("%p", "%%%0") .. "': a ", err)
      assert.is_nil(err:find("ran", 1, true))
    end
    local status, _, err = nm("run", dir .. "/s.lua", "--out", dir .. "/new/deep")
    assert.equals(0, status, err)
  end)

  it("refuses an option given twice and an empty --out", function()
    local status, _, err = nm("run", example, "--seed", "1", "--seed", "2")
    assert.equals(1, status)
    assert.matches("option '%-%-seed' is given twice", err)
    status, _, err = nm("run", example, "--out", "a", "--out", "b")
    assert.equals(1, status)
    assert.matches("option '%-%-out' is given twice", err)
    status, _, err = nm("run", example, "--out", "")
    assert.equals(1, status)
    assert.matches("%-%-out needs a directory", err)
  end)

  it("refuses a --set value that is not finite", function()
    local status, _, err = nm("info", example, "--set", "K_gl=1e999")
    assert.equals(1, status)
    assert.matches("%-%-set K_gl=1e999: the value is not a finite number", err)
  end)

  it("fails when no model:run applied a --set", function()
    local dir = scratch()
    write(dir .. "/norun.lua", preamble .. "local model = nm.model(node)\n")
    local status, _, err = nm("run", dir .. "/norun.lua", "--set", "k=2", "--set", "x=1")
    assert.equals(1, status)
    assert.matches("%-%-set k=2 was never applied: the script ran no model", err)
    status, _, err = nm("run", dir .. "/norun.lua")
    assert.equals(0, status, err)
  end)
end)

describe("--seed", function()
  it("overrides the script's seed: same seed, same numbers; another seed, others", function()
    local dir = scratch()
    write(dir .. "/noisy.lua", [[
local nm = require "neuromass"
local M = nm.mass { name = "OU", state = { x = 0 }, params = { k = 0.1 }, noise = 1,
  derivatives = function(s, p, u) return { x = -p.k * s.x + u.input_0 } end }
local model = nm.model(nm.node { masses = { M() } })
model.params["*.input_0.sigma"] = 0.5
model:run { duration = 50, seed = 1 }:write_csv("noisy.csv")
]])
    local function run(seed, sub)
      local status, _, err = nm("run", dir .. "/noisy.lua", "--out", dir .. "/" .. sub, "--seed", seed)
      assert.equals(0, status, err)
      return h.read_csv(dir .. "/" .. sub .. "/noisy.csv").cols["x.0"]
    end
    local a, b, c = run("3", "a"), run("3", "b"), run("4", "c")
    assert.same(a, b)
    assert.is_true(h.compare(a, c) > 0)
  end)
end)

describe("bad input", function()
  -- Runs `body` (after the preamble) as a script with --out DIR/out; returns
  -- status, stderr and the output directory.
  local function script(name, body)
    local dir = scratch()
    write(dir .. "/" .. name, preamble .. body)
    local status, _, err = nm("run", dir .. "/" .. name, "--out", dir .. "/out")
    return status, err, dir .. "/out"
  end
  local line = select(2, preamble:gsub("\n", "")) + 1   -- the first line after the preamble

  it("a connectivity matrix of the wrong shape", function()
    local status, err, out = script("shape.lua", [[
local net = nm.network { nodes = nm.replicate(node, 2), connectivity = { { 0, 1, 2 }, { 1, 0, 2 } },
  sync = function(net) return { network_x = net:additive("x") } end }
nm.model(net):run { duration = 10 }:write_csv("out.csv")
]])
    assert.is_not.equals(0, status)
    assert.matches("shape%.lua:" .. line .. ": network 'Net': connectivity must be a 2x2 matrix", err)
    assert_no_output(out)
  end)

  it("a negative delay", function()
    local status, err, out = script("delay.lua", [[
local net = nm.network { nodes = nm.replicate(node, 2), connectivity = { { 0, 1 }, { 1, 0 } },
  delays = { { 0, -5 }, { 5, 0 } }, sync = function(net) return { network_x = net:additive("x") } end }
nm.model(net):run { duration = 10 }:write_csv("out.csv")
]])
    assert.is_not.equals(0, status)
    assert.matches("delay%.lua:" .. line .. ": network 'Net': delays%[1%]%[2%] must not be negative, got %-5", err)
    assert_no_output(out)
  end)

  it("a required coupling input that no sync rule provides", function()
    local status, err, out = script("nosync.lua", [[
local net = nm.network { nodes = nm.replicate(node, 2), connectivity = { { 0, 1 }, { 1, 0 } } }
nm.model(net):run { duration = 10 }:write_csv("out.csv")
]])
    assert.is_not.equals(0, status)
    assert.matches("nosync%.lua:" .. (line + 1) .. ": .*mass 'Osc': required input 'network_x' " ..
                   "is not provided by any sync rule", err)
    assert_no_output(out)
  end)

  local good_net = [[
local net = nm.network { nodes = nm.replicate(node, 2), connectivity = { { 0, 1 }, { 1, 0 } },
  sync = function(net) return { network_x = net:additive("x") } end }
local model = nm.model(net)
]]

  it("an output path under a directory that does not exist", function()
    local status, err, out = script("nodir.lua", good_net ..
                                    "model:run { duration = 10 }:write_csv('/nonexistent-dir/out.csv')\n")
    assert.is_not.equals(0, status)
    assert.matches("nodir%.lua:%d+: write_csv: '/nonexistent%-dir/out%.csv': the directory " ..
                   "'/nonexistent%-dir' does not exist", err)
    assert.is_false(exists("/nonexistent-dir/out.csv"))
    assert_no_output(out)
  end)

  it("an output path whose '..' goes through a directory that does not exist, or through a link", function()
    -- The system resolves "sub/.." only when sub is there, and "link/.." to the
    -- parent of the link's target: the checks follow it, not the text.
    local dir = scratch()
    os.execute("mkdir -p '" .. dir .. "/far/deep' && ln -s '" .. dir .. "/far/deep' '" .. dir .. "/link'")
    write(dir .. "/dots.lua", preamble .. good_net ..
          "model:run { duration = 10, output = { csv = arg[1] } }\n")
    local status, _, err = nm("run", dir .. "/dots.lua", dir .. "/sub/../a.csv")
    assert.is_not.equals(0, status)
    assert.matches("dots%.lua:%d+: run: output%.csv '.*/sub/%.%./a%.csv': the directory '" ..
                   dir:gsub("%p", "%%%0") .. "/sub' does not exist", err)
    assert.is_false(exists(dir .. "/a.csv"))
    status, _, err = nm("run", dir .. "/dots.lua", dir .. "/link/../b.csv")
    assert.equals(0, status, err)
    assert.is_true(exists(dir .. "/far/b.csv"))
    assert.is_false(exists(dir .. "/b.csv"))
  end)

  it("an output path whose directory is a file", function()
    local dir = scratch()
    write(dir .. "/afile", "")
    write(dir .. "/asdir.lua", preamble .. good_net ..
          "model:run { duration = 10 }:write_csv(arg[1])\n" ..
          "model:run { duration = 10, output = { csv = arg[2] } }\n")
    local status, _, err = nm("run", dir .. "/asdir.lua", dir .. "/ok.csv", dir .. "/ok.csv")
    assert.equals(0, status, err)                     -- the script itself is sound
    status, _, err = nm("run", dir .. "/asdir.lua", dir .. "/afile/out.csv", dir .. "/x.csv")
    assert.is_not.equals(0, status)
    assert.matches("asdir%.lua:%d+: write_csv: '.*/afile/out%.csv': '.*/afile' is not a directory", err)
    status, _, err = nm("run", dir .. "/asdir.lua", dir .. "/ok.csv", dir .. "/afile/out.csv")
    assert.is_not.equals(0, status)
    assert.matches("asdir%.lua:%d+: run: output%.csv '.*/afile/out%.csv': '.*/afile' is not a directory",
                   err)
    assert.same({ "afile", "asdir.lua", "ok.csv" }, (function()
      local l = listing(dir); table.sort(l); return l end)())
  end)

  it("an --out directory that is a file", function()
    local dir = scratch()
    write(dir .. "/afile", "")
    write(dir .. "/outfile.lua", preamble .. good_net .. "model:run { duration = 10 }:write_csv('out.csv')\n")
    local status, _, err = nm("run", dir .. "/outfile.lua", "--out", dir .. "/afile")
    assert.is_not.equals(0, status)
    assert.matches("%-%-out needs a directory, got '.*/afile': a file", err)
    assert.same({ "afile", "outfile.lua" }, (function()
      local l = listing(dir); table.sort(l); return l end)())
  end)

  it("a simulation that blows up while streaming its CSV keeps its rows as a partial file", function()
    local status, err, out = script("blowup.lua", [[
local B = nm.mass { name = "Blow", state = { x = 1e-3 }, params = { k = 1 },
  derivatives = function(s, p, u) return { x = p.k * s.x * s.x } end }
nm.model(nm.node { masses = { B() } }):run { duration = 2000, output = { csv = "blow.csv" } }
]])
    assert.equals(1, status)
    assert.matches("blowup%.lua:" .. (line + 2) .. ": run: the simulation produced a NaN or " ..
                   "infinite value at t = [%d.]+ ms %(node 0, variable 'x' of mass 'Blow'%); " ..
                   "kept what was done in '.*/out/blow%.partial%.csv'", err)
    assert.same({ "blow.partial.csv" }, listing(out))
    local rows = h.read_csv(out .. "/blow.partial.csv")
    assert.is_true(rows.rows > 5000)
    assert.near(rows.rows * 0.1, rows.cols.t[rows.rows], 1e-9)   -- every row up to the last
  end)

  it("a full disk (file size limit) keeps the complete rows and says why", function()
    local dir = scratch()
    write(dir .. "/big.lua", preamble .. [[
nm.model(node):run { duration = 100000, output = { csv = "big.csv" } }
]])
    local status, _, err = h.sh("ulimit -f 64; " .. q(h.exe) .. " run " .. q(dir .. "/big.lua") ..
                                " --out " .. q(dir .. "/out"))
    assert.equals(1, status)
    assert.matches("big%.lua:" .. line .. ": run: output%.csv 'big%.csv': cannot write it %(as " ..
                   "'.*/out/big%.csv'%): writing: File " ..
                   "too large; kept what was done in '.*/out/big%.partial%.csv'", err)
    assert.same({ "big.partial.csv" }, listing(dir .. "/out"))
    local rows = h.read_csv(dir .. "/out/big.partial.csv")
    assert.is_true(rows.rows > 100)
    for i = 1, rows.rows do                               -- complete rows only
      assert(rows.cols.t[i] and rows.cols["x.0"][i], "row " .. i .. " is incomplete")
    end
  end)
end)

-- The audio streamed beside it was rendered as <stem>.partial.wav on the same full disk, which
-- failed, and was dropped without a word: the message said only where the CSV's rows were kept.
describe("a full disk during a run that streams a CSV and audio", function()
  -- Runs `run` (after the preamble) as dir/NAME.lua --out dir/out, files limited to `blocks`
  -- (sh's ulimit -f: 512-byte blocks); returns dir, status, stderr.
  local function limited(name, run, blocks, before)
    local dir = scratch()
    write(dir .. "/" .. name .. ".lua", preamble .. run)
    if before then before(dir) end
    local status, _, err = h.sh("ulimit -f " .. blocks .. "; " .. q(h.exe) .. " run " .. q(dir .. "/" .. name ..
                                ".lua") .. " --out " .. q(dir .. "/out"))
    return dir, status, err
  end

  it("says that the audio's frames could not be kept, and why, beside where the rows are", function()
    local dir, status, err = limited("both", [[
nm.model(node):run { duration = 2000, output = { csv = "big.csv", audio = { path = "big.wav", speedup = 0.1 } } }
]], 64)
    assert.equals(1, status)
    assert.matches("both%.lua:6: run: output%.csv 'big%.csv': cannot write it %(as '.*/out/big%.csv'%): " ..
                   "writing: File too large; kept what was done in '.*/out/big%.partial%.csv'; the audio's " ..
                   "frames were not kept: output%.audio: .*File too large", err)
    assert.same({ "big.partial.csv" }, listing(dir .. "/out"))       -- no temporary file either
  end)

  -- Before: "...: writing its temporary spool: File too large; the audio's frames were not kept:
  -- output.audio: cannot write '.../big.wav': writing its temporary spool: File too large".
  it("gives the reason once when the audio itself failed and its frames could not be kept", function()
    local dir, status, err = limited("alone", [[
nm.model(node):run { duration = 2000, output = { audio = { path = "big.wav", speedup = 0.1 } } }
]], 64)
    assert.equals(1, status)
    assert.matches("^neuromass: [^\n]*alone%.lua:6: run: output%.audio: cannot write '.*/out/big%.wav': writing its " ..
                   "temporary spool: File too large; the audio's frames were not kept %(the same reason%)\n$", err)
    assert.same({}, listing(dir .. "/out"))
  end)

  -- A run that completed, its audio failing at the end: the complete CSV, held, is kept as
  -- big.partial.csv; when even that failed (here a directory holds the name) it went without a word.
  it("says so when the held CSV cannot be kept either", function()
    -- (the spool, 4 bytes a frame, fits under the limit; the WAV, 8 bytes a frame, does not)
    local dir, status, err = limited("held", [[
nm.model(node):run { duration = 200, sampling_dt = 1, output = { csv = "big.csv",
  audio = { path = "big.wav", speedup = 0.01, bits = "float", layout = "stereo" } } }
]], 10000, function(d) h.sh("mkdir -p " .. q(d .. "/out/big.partial.csv")) end)
    assert.equals(1, status)
    assert.matches("held%.lua:6: run: output%.audio: cannot write '.*/out/big%.wav': .*File too large.*; the " ..
                   "CSV's rows %(complete%) were not kept as '.*/out/big%.partial%.csv': keeping the partial file: Is a " ..
                   "directory", err)
    assert.same({ "big.partial.csv" }, listing(dir .. "/out"))       -- (the directory) no temporary file
  end)

  -- The disk really full (ENOSPC), on a small tmpfs: as root only (mount), unmounted in any case.
  it("on a full tmpfs (as root): the same, with the system's reason", function()
    local _, uid = h.sh("id -u")
    if uid:match("^0") == nil then return end
    local dir = scratch()
    local small = dir .. "/small"
    h.sh("mkdir -p " .. q(small))
    local mounted = h.sh("mount -t tmpfs -o size=2m tmpfs " .. q(small)) == 0
    if not mounted then return end                                   -- (a container without mount rights)
    finally(function() h.sh("umount " .. q(small)) end)
    -- the CSV (80 nodes) fills the disk the audio's space was checked on at the start
    write(dir .. "/full.lua", [[
local nm = require "neuromass"
local hcp = nm.datasets.load("hcp")
nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat }:run { duration = 3000, sampling_dt = 1,
  output = { csv = "big.csv", audio = { path = "a.wav", variable = "x", nodes = { 0, 1 } } } }
]])
    local status, _, err = nm("run", dir .. "/full.lua", "--out", small)
    assert.equals(1, status)
    assert.matches("full%.lua:3: run: output%.csv 'big%.csv': cannot write it %(as '.*/small/big%.csv'%): " ..
                   "writing: No space left on device; kept what was done in '.*/small/big%.partial%.csv'; the " ..
                   "audio's frames were not kept: output%.audio: cannot write '.*/small/a%.wav': writing its " ..
                   "temporary spool: No space left on device", err)
    assert.same({ "big.partial.csv" }, listing(small))
  end)
end)

describe("neuromass info", function()
  it("prints the model and writes no CSV", function()
    local dir = scratch()
    local status, out, err = nm("info", example, "--out", dir)
    assert.equals(0, status, err)
    assert.matches("80 nodes", out)
    assert.matches("variables x, y", out)
    assert.matches("\n  tau = 20\n", out)
    assert.matches("\n  K_gl = 0%.6\n", out)
    assert.matches("\n  x_ext = 1\n", out)
    assert_no_output(dir)
  end)

  it("does not create the --out directory (info writes nothing), yet checks outputs as a run would", function()
    local dir = scratch()
    local script = dir .. "/outs.lua"
    write(script, [[
local nm = require "neuromass"
local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 10 }, { 10, 0 } } }
local r = m:run { duration = 10, output = { csv = "x.csv" } }
r:write_csv("y.csv")
print(nm.plot.fc({ { 1, 0 }, { 0, 1 } }, { out = "f.png" }))
nm.plot.fc({ { 1, 0 }, { 0, 1 } }, { out = "sub/f.png" })
]])
    local status, out, err = nm("info", script, "--out", dir .. "/made/by/run")
    assert.equals(1, status)
    assert.matches(dir .. "/made/by/run/f.png\n", out, 1, true)
    assert.matches("outs.lua:6: plot.fc: 'sub/f.png': the directory '" .. dir .. "/made/by/run/sub' does not exist",
                   err, 1, true)
    assert.same({ "outs.lua" }, listing(dir))
  end)

  it("says in its help that --out is checked, not created (run's help: created when needed)", function()
    local status, out = nm("info", "--help")
    assert.equals(0, status)
    assert.matches("\n  %-%-out DIR +where relative output paths would go %(checked, not created:\n" ..
                   " +info writes nothing%)\n", out)
    status, out = nm("run", "--help")
    assert.equals(0, status)
    assert.matches("\n  %-%-out DIR +where relative output paths go %(created when needed%)\n", out)
  end)

  -- info promises the run's checks without the integration: what run refuses before its
  -- first step, info refuses at the same line with the same message.
  it("refuses what run refuses before integrating (stimuli, outputs, integrators, memory)", function()
    local dir = scratch()
    local cases = {
      { "m.params.x_ext = nm.stimulus.StepInput { step_size = 1, start = 500, [\"end\"] = 600 }\n" ..
        "m:run { duration = 100 }", ":4: run: 'x_ext': StepInput: start = 500 ms must be before the end" },
      { "m:run { duration = 10, output = { csv = 'nodir/x.csv' } }",
        ":3: run: output.csv 'nodir/x.csv': the directory '" .. dir .. "/nodir' does not exist" },
      { "m:run { duration = 10, integrator = 'rkf45' }", ":3: run: integrator 'rkf45' cannot integrate delays" },
      { "m:run { duration = 0.5, sampling_dt = 1, output = { csv = 'x.csv' } }", ":3: run: this run records no row to write" },
      { "m:run { duration = 10, seed = 1.5 }", ":3: run: 'seed' must be a whole number" },
      { "m.params.sigma_ou = nm.series { 0.1, -1 }\nm:run { duration = 0.2, dt = 0.1 }",
        ":4: run: 'sigma_ou' is a noise sigma: it must be >= 0, got -1 (sample 2" },
    }
    for i, c in ipairs(cases) do
      local script = dir .. "/c" .. i .. ".lua"
      write(script, "local nm = require 'neuromass'\n" ..
            "local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 10 }, { 10, 0 } } }\n" ..
            c[1] .. "\n")
      local s1, _, e1 = nm("run", script, "--out", dir)
      local s2, _, e2 = nm("info", script, "--out", dir)
      assert.equals(1, s1, "run passed case " .. i .. ": " .. c[1])
      assert.matches("c" .. i .. ".lua" .. c[2], e1, 1, true)
      assert.equals(1, s2, "info passed case " .. i .. ": " .. c[1])
      assert.equals(e1, e2)
    end
    -- a continued run is checked too, and a continuation of an info run is no error
    local script = dir .. "/cont.lua"
    write(script, "local nm = require 'neuromass'\n" ..
          "local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 10 }, { 10, 0 } } }\n" ..
          "m:run { duration = 10 }\nm:run { duration = 10, continue = true }\n" ..
          "m:run { duration = 10, dt = 0.05, continue = true }\n")
    local s1, _, e1 = nm("run", script)
    local s2, _, e2 = nm("info", script)
    assert.equals(1, s1)
    assert.matches("cont.lua:5: run: cannot continue with another dt", e1, 1, true)
    assert.equals(1, s2)
    assert.equals(e1, e2)
    assert.same({ "c1.lua", "c2.lua", "c3.lua", "c4.lua", "c5.lua", "c6.lua", "cont.lua" }, listing(dir))
  end)

  it("shows --set values", function()
    local status, out, err = nm("info", example, "--set", "K_gl=0.25")
    assert.equals(0, status, err)
    assert.matches("\n  K_gl = 0%.25\n", out)
  end)
end)

describe("help", function()
  it("neuromass help, and each command's --help, print their usage and exit 0", function()
    local status, out = nm("help")
    assert.equals(0, status)
    assert.matches("usage: neuromass COMMAND", out, 1, true)
    for _, cmd in ipairs { "run", "info", "sonify" } do
      local s1, o1 = nm("help", cmd)
      local s2, o2 = nm(cmd, "--help")
      assert.equals(0, s1)
      assert.equals(0, s2)
      assert.matches("usage: neuromass " .. cmd, o1, 1, true)
      assert.equals(o1, o2)
    end
    local _, run_help = nm("run", "-h")
    assert.matches("--seed N", run_help, 1, true)
    local _, sonify_help = nm("sonify", "--help")
    assert.matches("--speedup K", sonify_help, 1, true)
  end)

  -- The environment variables the docs describe (docs/jit.md, docs/reference.md "Vector
  -- paths") are listed where a user looks first: `neuromass --help`.
  it("--help names the environment that changes a run (native code, its cache, vector paths)", function()
    local status, out = nm("--help")
    assert.equals(0, status)
    for _, name in ipairs { "NEUROMASS_JIT", "NEUROMASS_CC", "XDG_CACHE_HOME", "NEUROMASS_SIMD",
                            "NEUROMASS_LUA_DIR", "NEUROMASS_DEBUG" } do
      assert.matches(name, out, 1, true)
    end
  end)

  it("refuses help for an unknown command", function()
    local status, _, err = nm("help", "rn")
    assert.equals(1, status)
    assert.matches("unknown command 'rn'; did you mean 'run'?", err, 1, true)
  end)

  it("refuses an argument after help's command", function()
    local status, out, err = nm("help", "run", "extra")
    assert.equals(1, status)
    assert.equals("", out)
    assert.matches("neuromass: help: one command at most, got 'extra' after 'run'", err, 1, true)
  end)

  -- The host's own flags follow the rule of every command's: '--version extra' printed the
  -- version, '--help extra' the usage, and '--help=1' was an unknown command.
  it("--help COMMAND is help COMMAND; --version takes nothing; neither takes a value", function()
    local status, out, err = nm("--help", "plot")
    assert.equals(0, status, err)
    assert.matches("^usage: neuromass plot ", out)
    status, out = nm("-h", "run")
    assert.equals(0, status)
    assert.matches("^usage: neuromass run ", out)
    status, out, err = nm("--help", "plot", "extra")
    assert.equals(1, status)
    assert.equals("", out)
    assert.matches("neuromass: help: one command at most, got 'extra' after 'plot'", err, 1, true)
    status, out, err = nm("--version", "extra")
    assert.equals(1, status)
    assert.equals("", out)
    assert.equals("neuromass: option '--version' takes no argument, got 'extra'\n(try 'neuromass --help')\n", err)
    for _, flag in ipairs { "--help", "--version" } do
      status, out, err = nm(flag .. "=1")
      assert.equals(1, status)
      assert.equals("", out)
      assert.equals("neuromass: option '" .. flag .. "' takes no value, got '" .. flag .. "=1'\n" ..
                    "(try 'neuromass --help')\n", err)
    end
  end)

  -- 'help --help' said "unknown command '--help'; did you mean 'help'?" (exit 1): help is a
  -- command, and every command's --help (or -h) prints its usage.
  it("help --help and help -h are help help: the usage, exit 0", function()
    local _, usage = nm("help", "help")
    for _, flag in ipairs { "--help", "-h" } do
      local status, out, err = nm("help", flag)
      assert.equals(0, status, err)
      assert.equals(usage, out)
    end
  end)

  it("suggests the nearest command for a misspelt one, for every command", function()
    for typo, cmd in pairs { plt = "plot", rn = "run", inf = "info", sonfy = "sonify", hlep = "help",
                                explroe = "explore" } do
      local status, _, err = nm(typo)
      assert.equals(1, status)
      assert.matches("neuromass: unknown command '" .. typo .. "'; did you mean '" .. cmd .. "'?", err, 1, true)
    end
    -- the one rule of options too (check.suggest_word): a word that begins one command only
    -- names it ('son' suggested 'run', 'expl' listed the commands)
    for typo, cmd in pairs { son = "sonify", expl = "explore", hel = "help" } do
      local status, _, err = nm(typo, "x")
      assert.equals(1, status)
      assert.matches("neuromass: unknown command '" .. typo .. "'; did you mean '" .. cmd .. "'?", err, 1, true)
      status, _, err = nm("help", typo)
      assert.equals(1, status)
      assert.matches("neuromass: help: unknown command '" .. typo .. "'; did you mean '" .. cmd .. "'?", err, 1, true)
    end
    local status, _, err = nm("frobnicate")
    assert.equals(1, status)
    assert.matches("unknown command 'frobnicate' (commands: run, info, sonify, plot, explore, help)", err, 1, true)
  end)

  it("run's help says a run's WAV to '-' streams while write_audio's is copied once complete", function()
    local _, out = nm("help", "run")
    assert.matches("and so does a run's WAV (output = { audio =\n{ path = \"-\" } }", out, 1, true)
    assert.matches("res:write_audio(\"-\") and a\nnormalised run's WAV are copied there once complete", out, 1, true)
    assert.matches("print() to stdout would corrupt a CSV or WAV streamed to \"-\"", out, 1, true)
  end)
end)

describe("options", function()
  it("go before or after the script; other arguments after it reach `arg`", function()
    local dir = scratch()
    local script = dir .. "/args.lua"
    write(script, [[
local nm = require "neuromass"
local ctx = nm.context()
print(ctx.mode, ctx.seed, ctx.out, #arg, arg[1], arg[2], arg[3])
]])
    local status, out, err = nm("run", "--seed", "7", script, "a", "--out", dir, "--x", "--", "--seed")
    assert.equals(0, status, err)
    assert.equals("run\t7\t" .. dir .. "\t3\ta\t--x\t--seed\n", out)
  end)

  it("an unknown option before the script is an error", function()
    local status, _, err = nm("run", "--sed", "1", example)
    assert.equals(1, status)
    assert.matches("run: unknown option '--sed'", err, 1, true)
  end)

  -- '--ntasks 1000001' said "needs a number of tasks from 1", which it is: the bound was unsaid;
  -- '--workers 2000000' said "a whole number of processes from 1" instead of the bound per core.
  it("a --task, --ntasks or --workers above its bound names the bound", function()
    for _, case in ipairs {
      { "--ntasks", "1000001", "run: --ntasks 1000001 is more than 1000000 tasks" },
      { "--ntasks", "99999999999999999999", "run: --ntasks 99999999999999999999 is more than 1000000 tasks" },
      { "--task", "1000000", "run: --task 1000000 is more than 999999: at most 1000000 tasks, numbered 0 to 999999" },
      { "--workers", "2000000", "run: --workers 2000000 is more than 8 worker processes per core" },
    } do
      local status, _, err = nm("run", example, "--out", scratch(), case[1], case[2])   -- (a miss runs it there)
      assert.equals(1, status, err)
      assert.matches("neuromass: " .. case[3], err, 1, true)
    end
  end)

  -- Every command suggests the option meant: run and info (src/main.c), sonify and plot (their Lua).
  it("a misspelt option of any command is an error with a suggestion; a far one lists the options", function()
    for _, case in ipairs({ { "run", "--hlep" }, { "info", "--hlep" }, { "sonify", "--hepl" },
                            { "plot", "--hepl" } }) do
      local status, _, err = nm(case[1], case[2], example)
      assert.equals(1, status, err)
      assert.matches(case[1] .. ": unknown option '" .. case[2] .. "'; did you mean '--help'?", err, 1, true)
    end
    -- One rule of suggestion for all (check.unknown_option, which main.c asks): the option
    -- that a word begins, when it is the only one (run --work listed every option), else the
    -- nearest, else the sorted list.
    for _, case in ipairs({ { "run", "--work", "--workers" }, { "info", "--nta", "--ntasks" },
                            { "run", "--qui", "--quiet" }, { "plot", "--vie", "--view" },
                            { "sonify", "--speed", "--speedup" }, { "explore", "--mer", "--merge" } }) do
      local status, _, err = nm(case[1], case[2], "2", example)
      assert.equals(1, status, err)
      assert.equals("neuromass: " .. case[1] .. ": unknown option '" .. case[2] .. "'; did you mean '" .. case[3] ..
                    "'?\n(try 'neuromass " .. case[1] .. " --help')\n", err)
    end
    -- A word that begins several options names them: sonify --no suggested '-o' (the nearest by
    -- distance), run --se '--set' alone.
    for _, case in ipairs({ { "plot", "--n", "'--names' or '--nodes'" }, { "run", "--se", "'--seed' or '--set'" },
                            { "sonify", "--no", "'--nodes' or '--normalize'" },
                            { "plot", "--v", "'--var', '--variable' or '--view'" } }) do
      local status, _, err = nm(case[1], case[2], "2", example)
      assert.equals(1, status, err)
      assert.equals("neuromass: " .. case[1] .. ": unknown option '" .. case[2] .. "'; did you mean " .. case[3] ..
                    "?\n(try 'neuromass " .. case[1] .. " --help')\n", err)
    end
    local status, _, err = nm("run", "--zzzzzz", example)
    assert.equals(1, status)
    assert.matches("run: unknown option '--zzzzzz'; the options are --help, --ntasks, --out, --quiet, --seed, " ..
                   "--set, --task, --workers\n", err, 1, true)
    -- sonify and plot: check.unknown_option's list (check.suggest_or_list), sorted, the first 12
    status, _, err = nm("plot", "--zzzzzz", example)
    assert.equals(1, status)
    assert.matches("plot: unknown option '--zzzzzz'; the options are --help, --names, --nodes, --output, --quiet, --skip, " ..
                   "--title, --var, --variable, --view, --zscore, -o\n", err, 1, true)
    status, _, err = nm("sonify", "--zzzzzz", example)
    assert.equals(1, status)
    assert.matches("sonify: unknown option '--zzzzzz'; the options are --bits, --carrier, ", err, 1, true)
    assert.matches("%(%d+ in all%)\n", err)
  end)
end)

describe("the host context", function()
  it("is nil in a plain Lua, and set_context checks its fields", function()
    local nm_lib = require "neuromass"
    assert.is_nil(nm_lib.context())
    assert.has_error(function() nm_lib.set_context { mdoe = "run" } end, "set_context: unknown field 'mdoe'")
    assert.has_error(function() nm_lib.set_context { quiet = 1 } end,
                     "set_context: field 'quiet' must be a boolean, got number")
    assert.is_nil(nm_lib.context())
  end)
end)

describe("neuromass info", function()
  it("collapses runs of identical nodes into one line", function()
    local _, out = nm("info", example)
    assert.matches("\n  nodes 0%-79 'FHN': FHN; variables x, y\n", out)
    assert.is_nil(out:find("\n  node 1 ", 1, true))
  end)

  -- (before: every node's initial state and parameters on a line each: 1769 lines for an 80-node
  -- Jansen-Rit network)
  it("groups the initial state and parameters of nodes of one label, listing what differs", function()
    local dir = scratch()
    local script = dir .. "/net80.lua"
    write(script, preamble .. [[
local C = {}
for i = 1, 80 do C[i] = {} for j = 1, 80 do C[i][j] = i ~= j and 0.01 or 0 end end
local m = nm.model(nm.network { nodes = nm.replicate(node, 80), connectivity = C, params = { G = 2 },
  sync = function(net) return { network_x = net:additive("x", { gain = net.p.G }) } end })
m.params["Net.N_3.Osc_0.k"] = 4
m.params["Net.N_1*.Osc_0.k"] = 7
local v = {}
for i = 1, 80 do v[i] = i / 8 end
m.init["Net.N_*.Osc_0.x"] = v
m:run { duration = 1 }
local solo = nm.model(node)
solo.params["N_0.Osc_0.k"] = 2
solo:run { duration = 1 }
]])
    local status, out, err = nm("info", script)
    assert.equals(0, status, err)
    local values = {}
    for i = 1, 80 do values[i] = tostring(i / 8):gsub("%.0$", "") end
    assert.equals("model 'Net': 80 nodes, 80 state variables, 0 algebraic outputs\n" ..
                  "  nodes 0-79 'N': Osc; variables x\n" ..
                  "initial state:\n" ..
                  "  Net.N_*.Osc_0.x = { " .. table.concat(values, ", ") .. " } (per node 0-79)\n" ..
                  "parameters:\n" ..
                  "  Net.N_*.Osc_0.k = 1 (nodes 0, 2, 4-9, 20-79); nodes 1, 10-19: 7; node 3: 4\n" ..
                  "  Net.G = 2\n" ..
                  "  Net.connectivity = <80x80 matrix>\n" ..
                  "  Net.delays = <80x80 matrix>\n" ..
                  "model 'N': 1 node, 1 state variable, 0 algebraic outputs\n" ..
                  "  node 0 'N': Osc; variables x\n" ..
                  "initial state:\n" ..
                  "  N_0.Osc_0.x = 0.1\n" ..
                  "parameters:\n" ..
                  "  N_0.Osc_0.k = 2\n", out)
  end)

  -- (before: <2x2 matrix>, "THLMnode_1.local_delays = nil", each noise channel twice (input_0 and
  -- input_0.type), and "wrote thalamocortical.csv" though nothing was written)
  it("on the thalamocortical example: small matrices' numbers, no nil, a channel once, no claimed write", function()
    local dir = scratch()
    local status, out, err = nm("info", h.top .. "/examples/thalamocortical.lua", "--out", dir .. "/o")
    assert.equals(0, status, err)
    assert.truthy(out:find("\n  ALNThlmNet.connectivity = { { 0, 0.15 }, { 1.2, 0 } }\n" ..
                           "  ALNThlmNet.delays = { { 0, 13 }, { 13, 0 } }\n", 1, true), out)
    assert.truthy(out:find("\n  ALNThlmNet.THLMnode_1.local_connectivity = { { 0, 5 }, { 3, 25 } }\n", 1, true), out)
    assert.is_nil(out:find("= nil", 1, true), out)
    assert.is_nil(out:find(".type =", 1, true), out)
    -- four channels (ALN E and I, TCR, TRN), each on one line
    assert.equals(4, select(2, out:gsub("%.input_0 = OrnsteinUhlenbeckProcess\n", "")), out)
    assert.truthy(out:find("\n  ALNThlmNet.THLMnode_1.TCR_0.input_0 = OrnsteinUhlenbeckProcess\n", 1, true), out)
    assert.equals(0, select(2, out:gsub("wrote ", "")), out)
    assert.truthy(out:find("\nwould write " .. dir .. "/o/thalamocortical.csv\n", 1, true), out)
    assert_no_output(dir .. "/o")
  end)

  it("runs scripts that read their results: runs return empty results", function()
    local dir = scratch()
    local script = dir .. "/reads.lua"
    write(script, preamble .. [[
local m = nm.model(nm.network { nodes = { node, node }, connectivity = { { 0, 1 }, { 1, 0 } },
  sync = function(net) return { network_x = net:additive("x") } end })
local res = m:run { duration = 10, dt = 0.1, output = { csv = "a.csv", audio = { path = "a.wav" } } }
print(res:rows(), #res:time(), #res:get("x", 1), res.audio.frames)
local path, rep = m:run { duration = 10, dt = 0.1 }:write_audio("b.wav")
print(path:match("b%.wav$"), rep.duration, #rep.warnings)
]])
    local status, out, err = nm("info", script, "--out", dir)
    assert.equals(0, status, err)
    assert.matches("\n0\t0\t0\t0\n", out)
    assert.matches("\nb.wav\t0\t0\n", out, 1, true)
    assert_no_output(dir)
    assert.is_nil(exists(dir .. "/a.wav") or exists(dir .. "/b.wav") or nil)
  end)
end)

describe("the progress bar", function()
  it("reaches 100 % and clears its line", function()
    local dir = scratch()
    local script = dir .. "/long.lua"
    -- The bar shows from half a second on: a slow mass that takes at least
    -- 1 ms per step makes the run last 1 s however fast the engine is.
    write(script, [[
local nm = require "neuromass"
local M = nm.mass { label = "A", slow = true, state = { x = 1 }, params = { k = 1 },
  derivatives = function(s)
    local t0 = os.clock()
    repeat until os.clock() - t0 >= 0.001
    return { x = -s.x }
  end }
nm.model(nm.node { masses = { M() } }):run { duration = 100, dt = 0.1, progress = true }
io.stderr:write("after\n")
]])
    local status, _, err = nm("run", script)
    assert.equals(0, status, err)
    assert.matches("%] 100%%  ETA", err)
    assert.matches("\r +\rafter\n$", err)
  end)
end)

describe("the output path '-'", function()
  it("streams a run's CSV and write_csv's to stdout, after what the script printed", function()
    local dir = scratch()
    local script = dir .. "/stdout.lua"
    write(script, preamble .. [[
local m = nm.model(node)
print("first")
m:run { duration = 0.3, dt = 0.1, output = { csv = "-" } }
m:run { duration = 0.2, dt = 0.1, record = "x" }:write_csv("-")
io.stderr:write("done\n")
]])
    local status, out, err = nm("run", script, "--out", dir .. "/out")
    assert.equals(0, status, err)
    assert.equals("done\n", err)
    assert.matches("^first\nt,x%.0\n0%.1,[^\n]+\n0%.2,[^\n]+\n0%.3,[^\n]+\nt,x%.0\n0%.1,[^\n]+\n0%.2,[^\n]+\n$", out)
    assert.is_false(exists(dir .. "/out/-"))
  end)

  it("is one output of a call at most", function()
    local dir = scratch()
    local script = dir .. "/two.lua"
    write(script, preamble .. [[
nm.model(node):run { duration = 1, dt = 0.1, output = { csv = "-", audio = { path = "-" } } }
]])
    local status, _, err = nm("run", script)
    assert.equals(1, status)
    assert.matches("two%.lua:%d+: run: output%.audio '%-' is also output%.csv", err)
  end)

  it("writes a run's audio, write_audio's and sonify's WAV to stdout once complete", function()
    local core = require "neuromass.core"
    local dir = scratch()
    local script = dir .. "/wav.lua"
    write(script, preamble .. [[
local m = nm.model(node)
local mode = arg[1]
if mode == "run" then
  local res = m:run { duration = 2000, dt = 0.1, output = { audio = { path = "-", speedup = 10 } } }
  io.stderr:write("frames ", res.audio.frames, "\n")
else
  local res = m:run { duration = 2000, dt = 0.1, record = "x", output = { csv = "rec.csv" } }
  local _, rep = res:write_audio("-", { speedup = 10 })
  io.stderr:write("frames ", rep.frames, "\n")
end
]])
    for _, mode in ipairs { "run", "write_audio" } do
      local status, out, err = nm("run", script, mode, "--out", dir)
      assert.equals(0, status, err)
      assert.matches("^frames 8820\n$", err)
      h.write(dir .. "/" .. mode .. ".wav", out)
      local info = core.audio_read(dir .. "/" .. mode .. ".wav")
      assert.equals(8820, info.frames)
    end
    local status, out, err = nm("sonify", dir .. "/rec.csv", "-o", "-", "--speedup", "10")
    assert.equals(0, status, err)
    assert.matches("^%-: 0%.200 s, 1 channel, 44100 Hz", err)
    h.write(dir .. "/sonify.wav", out)
    assert.equals(8820, core.audio_read(dir .. "/sonify.wav").frames)
    for _, name in ipairs(listing(dir)) do assert.is_nil(name:match("^%-"), name) end
  end)

  it("streams a run's WAV to stdout while the run runs (`| aplay` plays as it goes)", function()
    local core = require "neuromass.core"
    local dir = scratch()
    -- A slow mass that, halfway through the run, waits (30 s at most) for the
    -- reader to have received the header and 1000 bytes of samples.
    write(dir .. "/live.lua", [[
local nm = require "neuromass"
local n = 0
local M = nm.mass { label = "A", slow = true, state = { x = 0.5, y = 0 }, params = { w = 0.05 },
  derivatives = function(s, p)
    n = n + 1
    if n == 100000 then
      local deadline = os.time() + 30
      while not io.open("got") do
        if os.time() > deadline then io.open("timeout", "w"):close() break end
      end
    end
    return { x = -p.w * s.y, y = p.w * s.x }
  end }
local function run(audio)
  return nm.model(nm.node { masses = { M() } }):run { duration = 2e4, dt = 0.1, record = "x",
                                                      integrator = "heun", output = { audio = audio } }
end
local res = run { path = "-", speedup = 10 }
io.stderr:write("frames ", res.audio.frames, "\n")
-- the same audio made whole, for comparison
run { path = "whole.wav", speedup = 10, normalize = "none", dc = false }
]])
    local status, _, err = h.sh("cd " .. q(dir) .. " && mkfifo pipe && (" .. q(h.exe) ..
                                " run live.lua > pipe 2> err & pid=$!; { head -c 1044 > got.part; " ..
                                "mv got.part got; cat > rest; } < pipe; wait $pid)")
    local e = assert(io.open(dir .. "/err")):read("a")
    assert.equals(0, status, err .. e)
    assert.is_false(exists(dir .. "/timeout"), "the bytes came only after the run")
    local got = assert(io.open(dir .. "/got", "rb")):read("a")
    assert.equals(1044, #got)
    assert.equals("RIFF\255\255\255\255WAVEfmt ", got:sub(1, 16))     -- sizes unknown: a stream
    assert.equals("data\255\255\255\255", got:sub(37, 44))
    local rest = assert(io.open(dir .. "/rest", "rb")):read("a")
    write(dir .. "/live.wav", got .. rest)
    local frames = tonumber(e:match("frames (%d+)"))
    assert.equals(88200, frames)                                  -- 2 s of audio at speed-up 10
    local info, ch = core.audio_read(dir .. "/live.wav")
    assert.equals(frames, info.frames)
    local peak = 0
    for i = 1, info.frames do peak = math.max(peak, math.abs(ch[1][i])) end
    assert.is_true(peak > 0.4 and peak < 0.6, "the signal as it is (x in -0.5 .. 0.5): " .. peak)
    local _, whole = core.audio_read(dir .. "/whole.wav")
    assert.are.same(whole[1], ch[1])               -- the same samples as the file made whole
  end)
end)

describe("neuromass run without a script", function()
  it("names the command and shows its usage", function()
    local status, _, err = h.sh(h.q(h.exe) .. " run")
    assert.are.equal(1, status)
    assert.matches("^neuromass: run: missing script %(usage: neuromass run %[OPTIONS%] SCRIPT%.lua %[ARGS%.%.%.%]%)\n", err)
    status, _, err = h.sh(h.q(h.exe) .. " info --quiet")
    assert.are.equal(1, status)
    assert.matches("^neuromass: info: missing script %(usage: neuromass info ", err)
  end)
end)
