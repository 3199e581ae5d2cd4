-- outputs_spec.lua: the output preflight (lua/neuromass/outputs.lua) refuses an
-- existing output path that is not a regular file -- a named pipe, a symlink,
-- a device -- before anything is written: the atomic write (temp file +
-- rename) would put a regular file in its place.  Every special file here is
-- made inside a scratch directory; no system file is ever an output path.
local nm = require "neuromass"
local h = require "helpers"
local q = h.q

local err_of = h.error_of   -- the message of a call that must fail

-- What `path` itself is (not followed), as stat(1) says it.
local function kind(path)
  local _, out = h.sh("stat -c %F " .. q(path))
  return (out:gsub("%s+$", ""))
end

local read = h.read

local function model()
  return nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 10 }, { 10, 0 } } }
end

describe("output paths that are not regular files", function()
  local dir
  before_each(function()
    dir = h.scratch()
    assert.are.equal(0, (h.sh("mkfifo " .. q(dir .. "/fifo.csv") .. " && mkdir " .. q(dir .. "/real") ..
                              " && echo old > " .. q(dir .. "/real/target.csv") ..
                              " && ln -s real/target.csv " .. q(dir .. "/link.csv"))))
  end)
  after_each(h.remove_scratch)

  -- the fifo and the symlink are still what they were, and the link's target is untouched
  local function untouched()
    assert.are.equal("fifo", kind(dir .. "/fifo.csv"))
    assert.are.equal("symbolic link", kind(dir .. "/link.csv"))
    assert.are.equal("old\n", read(dir .. "/real/target.csv"))
  end

  it("write_csv refuses a named pipe and a symlink at the user's line, naming what they are", function()
    local res = model():run { duration = 10, record = "x" }
    local msg = err_of(function() res:write_csv(dir .. "/fifo.csv") end)
    assert.matches("outputs_spec%.lua:%d+: write_csv: '.*/fifo%.csv' is a named pipe %(FIFO%), not a " ..
                   "regular file: .*use \"%-\" for standard output, or the path of a regular file", msg)
    msg = err_of(function() res:write_csv(dir .. "/link.csv") end)
    assert.matches("outputs_spec%.lua:%d+: write_csv: '.*/link%.csv' is a symbolic link, not a regular " ..
                   "file: writing it would replace the link %(not its target%)", msg)
    untouched()
    res:write_csv(dir .. "/real/target.csv")     -- a regular file is still replaced
    assert.are.equal(100, h.read_csv(dir .. "/real/target.csv").rows)
  end)

  it("run's output.csv, output.audio and the audio's sidecar are refused before the run", function()
    assert.are.equal(0, (h.sh("cd " .. q(dir) .. " && mkfifo fifo.wav && ln -s real/target.csv link.wav")))
    local m = model()
    local msg = err_of(function() m:run { duration = 10, record = "x", output = { csv = dir .. "/fifo.csv" } } end)
    assert.matches("outputs_spec%.lua:%d+: run: output%.csv '.*/fifo%.csv' is a named pipe", msg)
    msg = err_of(function()
      m:run { duration = 10, record = "x", output = { audio = { path = dir .. "/link.wav" } } }
    end)
    assert.matches("outputs_spec%.lua:%d+: run: output%.audio '.*/link%.wav' is a symbolic link", msg)
    msg = err_of(function()
      m:run { duration = 10, record = "x",
              output = { audio = { path = dir .. "/a.wav", sidecar = dir .. "/link.csv" } } }
    end)
    assert.matches("run: output%.audio's sidecar '.*/link%.csv' is a symbolic link", msg)
    -- the automatic sidecar (<audio>.json) too
    assert.are.equal(0, (h.sh("ln -s real/target.csv " .. q(dir .. "/b.wav.json"))))
    msg = err_of(function() m:run { duration = 10, record = "x", output = { audio = dir .. "/b.wav" } } end)
    assert.matches("run: output%.audio's sidecar '.*/b%.wav%.json' is a symbolic link", msg)
    local res = m:run { duration = 10, record = "x" }
    msg = err_of(function() res:write_audio(dir .. "/fifo.wav") end)
    assert.matches("outputs_spec%.lua:%d+: write_audio: '.*/fifo%.wav' is a named pipe", msg)
    untouched()
    assert.are.equal("fifo", kind(dir .. "/fifo.wav"))
    assert.are.equal("symbolic link", kind(dir .. "/link.wav"))
    assert.is_nil(io.open(dir .. "/a.wav"))
    assert.is_nil(io.open(dir .. "/b.wav"))
  end)

  it("the command line's --out and sonify -o go through the same check", function()
    local script = dir .. "/p.lua"
    h.write(script, "local nm = require 'neuromass'\n" ..
            "local m = nm.models.fhn.native { Cmat = {{0,1},{1,0}}, Dmat = {{0,10},{10,0}} }\n" ..
            "m:run { duration = 10, record = 'x' }:write_csv(arg[1])\n")
    local status, _, err = h.sh(q(h.exe) .. " run " .. q(script) .. " fifo.csv --out " .. q(dir))
    assert.are_not.equal(0, status)
    assert.matches("p%.lua:3: write_csv: 'fifo%.csv' is a named pipe", err)
    status, _, err = h.sh(q(h.exe) .. " run " .. q(script) .. " link.csv --out " .. q(dir))
    assert.are_not.equal(0, status)
    assert.matches("p%.lua:3: write_csv: 'link%.csv' is a symbolic link", err)
    model():run { duration = 10, record = "x" }:write_csv(dir .. "/in.csv")
    assert.are.equal(0, (h.sh("mkfifo " .. q(dir .. "/fifo.wav"))))
    status, _, err = h.sh(q(h.exe) .. " sonify " .. q(dir .. "/in.csv") .. " -o " .. q(dir .. "/fifo.wav"))
    assert.are_not.equal(0, status)
    assert.matches("sonify: the output '.*/fifo%.wav' is a named pipe", err)
    assert.are.equal("fifo", kind(dir .. "/fifo.wav"))
    untouched()
    -- "-" (standard output) stays allowed
    local out
    status, out = h.sh(q(h.exe) .. " run " .. q(script) .. " -")
    assert.are.equal(0, status)
    assert.matches("^t,", out)
  end)

  it("refuses a character device (made with mknod when running as root)", function()
    local _, uid = h.sh("id -u")
    if uid:gsub("%s+$", "") ~= "0" then
      pending("mknod needs root")
      return
    end
    local dev = dir .. "/null.csv"
    assert.are.equal(0, (h.sh("mknod " .. q(dev) .. " c 1 3")))
    local res = model():run { duration = 10, record = "x" }
    local msg = err_of(function() res:write_csv(dev) end)
    assert.matches("outputs_spec%.lua:%d+: write_csv: '.*/null%.csv' is a device, not a regular file", msg)
    assert.are.equal("character special file", kind(dev))
  end)
end)

describe("an output whose file name is only an extension", function()
  local dir
  before_each(function() dir = h.scratch() end)
  after_each(h.remove_scratch)

  -- the files in dir, hidden ones too, one string
  local function listing()
    local _, out = h.sh("LC_ALL=C ls -A " .. q(dir))
    return (out:gsub("%s+$", ""))
  end

  it("plot -o .png, sonify -o .wav and write_csv('.csv') are refused, naming the path; nothing written", function()
    local res = model():run { duration = 10, record = "x" }
    res:write_csv(dir .. "/in.csv")
    local msg = err_of(function() res:write_csv(dir .. "/.csv") end)
    assert.matches("outputs_spec%.lua:%d+: write_csv: '.*/%.csv': the file name is only an extension", msg)
    local status, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " plot in.csv -o .png")
    assert.are_not.equal(0, status)
    assert.matches("plot: '%.png': the file name is only an extension %(name the file, as in 'out%.png'%)", err)
    status, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " plot in.csv -o sub/.svg")
    assert.are_not.equal(0, status)
    assert.matches("plot: 'sub/%.svg': the file name is only an extension", err)
    status, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " sonify in.csv -o .wav")
    assert.are_not.equal(0, status)
    assert.matches("sonify: the output '%.wav': the file name is only an extension", err)
    msg = err_of(function() model():run { duration = 10, record = "x", output = { csv = dir .. "/.csv" } } end)
    assert.matches("outputs_spec%.lua:%d+: run: output%.csv '.*/%.csv': the file name is only an extension", msg)
    assert.are.equal("in.csv", listing())
    -- a name with a stem, even a hidden one, is still written
    res:write_csv(dir .. "/.x.csv")
    assert.are.equal(".x.csv\nin.csv", listing())
  end)

  -- Before, '..png' (dots before the extension) was written as a hidden file by plot,
  -- sonify, write_csv and run, and 'q/' was told "the format comes from the extension ...
  -- (it has none)" by plot and "cannot tell the format" by sonify (outputs.name_problem).
  it("'..png' is refused as '.png' is, and 'q/', '.' or '..' is told it names a directory", function()
    local res = model():run { duration = 10, record = "x" }
    res:write_csv(dir .. "/in.csv")
    local function cli(args)
      local status, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " " .. args)
      assert.are_not.equal(0, status)
      return err
    end
    assert.matches("plot: '..png': the file name is only dots and an extension (name the file, as in 'out.png')",
                   cli("plot in.csv -o ..png"), nil, true)
    assert.matches("sonify: the output 'sub/..wav': the file name is only dots and an extension",
                   cli("sonify in.csv -o sub/..wav"), nil, true)
    local msg = err_of(function() res:write_csv(dir .. "/..csv") end)
    assert.matches("outputs_spec%.lua:%d+: write_csv: '.*/%.%.csv': the file name is only dots and an extension", msg)
    msg = err_of(function() model():run { duration = 10, record = "x", output = { csv = dir .. "/...csv" } } end)
    assert.matches("run: output.csv '.*/%.%.%.csv': the file name is only dots and an extension", msg)
    assert.matches("plot: 'q/' names a directory (it ends in '/'), not a file: give the file's name (as in " ..
                   "'q/out.png')", cli("plot in.csv -o q/"), nil, true)
    assert.matches("sonify: 'q/' names a directory (it ends in '/'), not a file: give the file's name (as in " ..
                   "'q/out.wav')", cli("sonify in.csv -o q/"), nil, true)
    assert.matches("plot: '..' names a directory, not a file: give the file's name (as in '../out.png')",
                   cli("plot in.csv -o .."), nil, true)
    msg = err_of(function() res:write_csv(dir .. "/") end)
    assert.matches("write_csv: '.*/' names a directory %(it ends in '/'%), not a file", msg)
    msg = err_of(function() model():run { duration = 10, record = "x", output = { audio = dir .. "/." } } end)
    assert.matches("run: output.audio: '.*/%.' names a directory, not a file", msg)
    assert.are.equal("in.csv", listing())
  end)
end)

-- Before: write_csv("b.wav.json") replaced b.wav's sidecar with a CSV (and the next
-- write_audio("b.wav") the CSV with a sidecar), under a name that says JSON.
describe("an output named as an audio file's sidecar", function()
  local dir
  before_each(function() dir = h.scratch() end)
  after_each(h.remove_scratch)

  it("is refused for write_csv, run's output.csv and output.bold, before anything is written", function()
    local res = model():run { duration = 10, record = "x", output = { audio = { path = dir .. "/b.wav" } } }
    local sidecar = read(dir .. "/b.wav.json")
    local SIDE = "is the name of an audio file's sidecar %(the JSON written beside '.*/b%.wav'%): it would " ..
                 "replace that sidecar, or be replaced by it; name the output otherwise$"
    assert.matches("outputs_spec%.lua:%d+: write_csv: '.*/b%.wav%.json' " .. SIDE,
                   err_of(function() res:write_csv(dir .. "/b.wav.json") end))
    assert.matches("outputs_spec%.lua:%d+: run: output%.csv '.*/b%.wav%.json' " .. SIDE,
                   err_of(function() model():run { duration = 10, output = { csv = dir .. "/b.wav.json" } } end))
    assert.are.equal(sidecar, read(dir .. "/b.wav.json"))
    -- any audio extension, any case; the sidecar beside an audio file of its own name is no output's
    for _, name in ipairs { "c.flac.json", "c.OGG.Json", "c.wave.json" } do
      assert.matches("write_csv: '.*/" .. name:gsub("%.", "%%.") .. "' is the name of an audio file's sidecar",
                     err_of(function() res:write_csv(dir .. "/" .. name) end))
    end
    assert.matches("run: output%.bold '.*/d%.wav%.json' is the name of an audio file's sidecar",
                   err_of(function()
                     model():run { duration = 10, bold = true, output = { bold = dir .. "/d.wav.json" } }
                   end))
    -- names that are not a sidecar's are written; a sidecar given its own name is taken
    res:write_csv(dir .. "/e.json")
    res:write_csv(dir .. "/e.csv.json")
    res:write_audio(dir .. "/f.wav", { sidecar = dir .. "/g.wav.json" })
    local _, out = h.sh("LC_ALL=C ls " .. q(dir))
    assert.are.equal("b.wav\nb.wav.json\ne.csv.json\ne.json\nf.wav\ng.wav.json\n", out)
  end)
end)
