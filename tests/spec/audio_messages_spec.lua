-- audio_messages_spec.lua: audio errors that say what to change.  A pan list
-- (one position per node, pan[i] for node i - 1) shorter than the nodes chosen
-- says which node has none and how many the list has (it said "needs a
-- position ... (got nil)"); a signal too short for one audio frame gives its
-- samples, rates and speed-up (it said only that it was too short); audio on
-- stdout refuses sidecar = true (it wrote none without a word); sonify of a
-- pipe says it reads its CSV more than once (it said "Illegal seek"), and a
-- folder given as the CSV is said to be one; a CSV whose second row goes back
-- in time says so (it said it needs two rows, having three); sonify --help
-- gives the defaults; 'bits' for an Ogg Vorbis file, which has no bit depth,
-- is refused naming the file (it was taken and unused).
local nm = require "neuromass"
local h = require "helpers"

describe("a pan list", function()
  it("too short says which node has no position and how many the list has", function()
    local C = { { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 } }
    local model = nm.models.hopf.native { Cmat = C, Dmat = C, a = 1 }
    local res = model:run { duration = 1000, dt = 0.1, record = { "x" } }
    local dir = h.scratch()
    local ok, err = pcall(function() local _ = res:write_audio(dir .. "/p.wav", { pan = { -1, 1 } }) end)
    h.remove_scratch()
    assert.is_false(ok)
    assert.matches("audio_messages_spec%.lua:%d+: write_audio: pan: node 2 has no position %(the list has 2, pan%[i%] " ..
                   "for node i %- 1%): give one per node, in %[%-1, 1%] or 'L'/'R'", err)
  end)
end)

describe("a signal shorter than one audio frame", function()
  it("is refused with its samples, the rates and the speed-up, and what to change", function()
    local res = nm.models.hopf.native { a = 1 }:run { duration = 1, dt = 0.1, record = { "x" } }
    local dir = h.scratch()
    local ok, err = pcall(function() local _ = res:write_audio(dir .. "/s.wav", { speedup = 1e6 }) end)
    h.remove_scratch()
    assert.is_false(ok)
    assert.matches("audio_messages_spec%.lua:%d+: write_audio: cannot write '.*/s%.wav': the signal is shorter " ..
                   "than one audio frame %(10 samples at 10000 Hz, 1 ms simulated, make 4%.41e%-05 frames at " ..
                   "44100 Hz with speed%-up 1e%+06%): lower the speed%-up or simulate longer", err)
  end)
end)

describe("audio on stdout", function()
  it("refuses sidecar = true (no file to put it beside) before writing anything", function()
    -- (before: the sidecar asked for was silently not written)
    local res = nm.models.hopf.native { a = 1 }:run { duration = 1000, dt = 0.1, record = { "x" } }
    local err = h.error_of(function() local _ = res:write_audio("-", { sidecar = true }) end)
    assert.matches("audio_messages_spec%.lua:%d+: write_audio: sidecar = true: audio written to stdout %('%-'%) " ..
                   "has no file to put a sidecar beside; give 'sidecar' a path, or leave it out", err)
  end)
end)

describe("a sidecar path", function()
  teardown(h.remove_scratch)

  -- (before: sidecar = "a.wav" wrote JSON over the WAV a.wav, exit 0; "c.flac" made a JSON named .flac)
  it("named as an audio or CSV file is refused, the file of that name kept; a .json one is taken", function()
    local res = nm.models.hopf.native { a = 1 }:run { duration = 1000, dt = 0.1, record = { "x" } }
    local dir = h.scratch()
    res:write_audio(dir .. "/a.wav")
    local wav = h.read(dir .. "/a.wav")
    for _, name in ipairs { "a.wav", "c.FLAC", "d.ogg", "e.csv" } do
      local err = h.error_of(function() local _ = res:write_audio(dir .. "/b.wav", { sidecar = dir .. "/" .. name }) end)
      local kind = name == "e.csv" and "a CSV" or "an audio"
      assert.matches("audio_messages_spec%.lua:%d+: write_audio: the audio's sidecar '[^']*/" ..
                     name:gsub("%.", "%%.") .. "' is a name for " .. kind .. " file %(%." .. name:match("%w+$") ..
                     "%), and the sidecar is JSON: give it a path ending in %.json, or leave 'sidecar' out %(it is " ..
                     "then the audio file's name %+ %.json%)", err)
    end
    assert.equals(wav, h.read(dir .. "/a.wav"))
    assert.is_nil(io.open(dir .. "/b.wav"))
    res:write_audio(dir .. "/b.wav", { sidecar = dir .. "/meta.json" })
    assert.matches('"file": "b.wav"', h.read(dir .. "/meta.json"))
  end)
end)

describe("neuromass sonify of a pipe or a folder", function()
  teardown(h.remove_scratch)

  -- (a folder was "cannot read 'DIR': no header line"; plot reads with the same reader)
  it("a folder given as the CSV is said to be one, by sonify and plot", function()
    local dir = h.scratch()
    for _, cmd in ipairs { "sonify . -o x.wav", "plot . -o x.png" } do
      local s, _, e = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " " .. cmd)
      assert.equals(1, s)
      assert.equals("neuromass: " .. cmd:match("^%a+") .. ": cannot read '.': Is a directory\n", e)
    end
  end)
  it("says the CSV is read more than once, to save it to a file first; nothing written", function()
    local dir = h.scratch()
    h.write(dir .. "/r.csv", "t,x.0\n0.1,0\n0.2,1\n0.3,0\n")
    local s, _, e = h.sh("cd " .. h.q(dir) .. " && cat r.csv | " .. h.q(h.exe) .. " sonify /dev/stdin -o x.wav")
    assert.equals(1, s)
    assert.equals("neuromass: sonify: /dev/stdin: a pipe cannot be read twice, and the CSV is (its rows are " ..
                  "counted first): save it to a file first\n", e)
    assert.is_nil(io.open(dir .. "/x.wav"))
  end)
end)

describe("neuromass sonify of a CSV whose times do not increase", function()
  teardown(h.remove_scratch)

  -- Before: "'r.csv' needs at least two rows with increasing times" for both (it has 3),
  -- while the same fault at a later row named its line.
  it("names the line where time goes back or repeats, and the rows when too few", function()
    local dir = h.scratch()
    for text, msg in pairs {
      ["t,x.0\n2,1\n1,2\n3,4\n"] = "r.csv: the second row's t = 1 follows the first's 2: time goes back or repeats",
      ["t,x.0\n1,1\n1,2\n3,4\n"] = "r.csv: the second row's t = 1 follows the first's 1: time goes back or repeats",
      -- (by row, not line: a blank line may lie between; "line 3" named the blank line's neighbour)
      ["t,x.0\n\n2,1\n1,2\n"] = "r.csv: the second row's t = 1 follows the first's 2: time goes back or repeats",
      ["t,x.0\n1,1\n"] = "'r.csv' needs at least two rows with increasing times (it has 1)",
      ["t,x.0\n"] = "'r.csv' needs at least two rows with increasing times (it has 0)",
    } do
      h.write(dir .. "/r.csv", text)
      local s, _, e = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " sonify r.csv -o x.wav")
      assert.equals(1, s)
      assert.equals("neuromass: sonify: " .. msg .. "\n", e)
      assert.is_nil(io.open(dir .. "/x.wav"))
    end
  end)
end)

describe("neuromass sonify --help", function()
  -- Before: it named the options and no default, and docs/reference.md gave none for rate,
  -- quality, normalize and fade: a new user could not tell what a bare sonify writes.
  it("gives the defaults of the options that have one, those a bare sonify writes with", function()
    local s, help = h.sh(h.q(h.exe) .. " sonify --help")
    assert.equals(0, s)
    for _, text in ipairs { "--speedup K (default 40)", "--rate HZ (default 44100)", "(default 16)",
                            "--quality fast|medium|best (default medium)", "(default peak)",
                            "--headroom DB (default 1)", "--fade S (default 0.01)", "(default audify)" } do
      assert.truthy(help:find(text, 1, true), text)
    end
    local dir = h.scratch()
    local rows = { "t,x.0" }
    for i = 1, 200 do rows[#rows + 1] = string.format("%d,%g", i, math.sin(i / 10)) end
    h.write(dir .. "/r.csv", table.concat(rows, "\n") .. "\n")
    local _, out = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " sonify r.csv -o x.wav")
    assert.matches("^x%.wav: [%d.]+ s, 1 channel, 44100 Hz, pcm16; speed%-up 40;", out)
    local f = assert(io.open(dir .. "/x.wav.json"))
    local side = f:read("a")
    f:close()
    for _, key in ipairs { '"normalize": "peak"', '"headroom_db": 1', '"converter": "sinc medium"', '"mode": "audify"' } do
      assert.truthy(side:find(key, 1, true), key .. " in " .. side)
    end
    local ref = assert(io.open(h.top .. "/docs/reference.md")):read("a")
    for _, text in ipairs { "`rate` (Hz, default 44100", "`quality = \"fast\" | \"medium\" | \"best\"` (default medium)",
                            "(default peak)", "`fade` (s, default 0.01" } do
      assert.truthy(ref:find(text, 1, true), "docs/reference.md: " .. text)
    end
  end)
end)

describe("'bits' for an Ogg Vorbis file", function()
  it("is refused naming the format, from write_audio, a run's output.audio and sonify", function()
    local model = nm.models.hopf.native { a = 1 }
    local res = model:run { duration = 500, dt = 0.1, record = { "x" } }
    local dir = h.scratch()
    for _, bits in ipairs { 24, 16, "float" } do
      local err = h.error_of(function() res:write_audio(dir .. "/b.ogg", { bits = bits }) end)
      assert.matches("^tests/spec/audio_messages_spec%.lua:%d+: write_audio: 'bits' = ", err)
      assert.truthy(err:find(" applies to WAV and FLAC: Ogg Vorbis ('" .. dir .. "/b.ogg') stores no bit depth",
                             1, true), err)
      assert.is_nil(io.open(dir .. "/b.ogg"), "nothing written")
    end
    local err = h.error_of(function()
      model:run { duration = 500, dt = 0.1, output = { audio = { path = dir .. "/r.OGG", bits = 24 } } }
    end)
    assert.truthy(err:find("'bits' = 24 applies to WAV and FLAC: Ogg Vorbis", 1, true), err)
    local csv = dir .. "/x.csv"
    res:write_csv(csv)
    local status, _, serr = h.sh(h.q(h.exe) .. " sonify " .. h.q(csv) .. " -o " .. h.q(dir .. "/s.ogg") ..
                                 " --bits 24")
    assert.are_not.equal(0, status)
    assert.truthy(serr:find("--bits = 24 applies to WAV and FLAC: Ogg Vorbis", 1, true), serr)
    assert.are.equal(dir .. "/b.ogg", (res:write_audio(dir .. "/b.ogg")))   -- (without bits: written)
    h.remove_scratch()
  end)
end)

describe("neuromass sonify's and plot's refusals", function()
  -- Before: --pan hemisphere without --regions said `give regions = nm.datasets.load "hcp"`, --map with
  -- --speedup `'map' = { from = Hz, to = Hz } is speedup = to / from`, a reversed --pitch `'pitch' =
  -- { 400, 100 } must be { low, high }`: Lua, on the command line.  Each now names the flags.
  it("speak in flags, not Lua", function()
    local dir = h.scratch()
    local rows = { "t,x.0,x.1,x.2" }
    for i = 1, 200 do rows[#rows + 1] = string.format("%d,%g,%g,%g", i, math.sin(i / 10), math.cos(i / 7), i % 3) end
    h.write(dir .. "/three.csv", table.concat(rows, "\n") .. "\n")
    local cases = {
      { "--pan hemisphere", "--pan hemisphere needs the regions' labels: give --regions hcp|gw (the dataset " ..
                            "whose regions the CSV's nodes are)" },
      { "--speedup 10 --map 1:100", "--speedup and --map both set the speed-up (--map LOW:HIGH (Hz) is --speedup " ..
                                    "HIGH / LOW): give one of them" },
      { "--mode mapping --map 1:100", "give --speedup 100 instead of --map, or drop --mode mapping to audify" },
      { "--mode mapping --drive pitch --pitch 400:100", "--pitch 400:100 must be LOW:HIGH with LOW < HIGH (Hz): " ..
                                                        "the signal's lowest value plays at LOW, its highest at HIGH" },
      { "--regions gw", "the dataset 'gw' has 80 regions but the CSV has 3 nodes (0 to 2)" },
      -- (plot said "'view' must be one of lines, stacked, image, got \"imag\" (a string)")
      { "--view imag", "--view must be one of lines, stacked, image, got 'imag'; did you mean 'image'?", "plot" },
    }
    for _, case in ipairs(cases) do
      local command = case[3] == "plot" and " plot three.csv -o x.png " or " sonify three.csv -o x.wav "
      local s, _, e = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. command .. case[1])
      assert.are_not.equal(0, s, case[1])
      assert.truthy(e:find(case[2], 1, true), case[1] .. ": " .. e)
      for _, lua in ipairs { "nm.", "= {", "{ ", "speedup =", "regions =", "pan =", "'pitch'", "'map'", "'view'",
                             "(a string)" } do
        assert.falsy(e:find(lua, 1, true), case[1] .. " speaks Lua (" .. lua .. "): " .. e)
      end
    end
    h.remove_scratch()
  end)
end)
