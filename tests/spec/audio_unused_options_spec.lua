-- audio_unused_options_spec.lua: write_audio and sonify refuse an option the
-- sound would not use, naming it and what would use it (they were taken and
-- ignored): 'pitch' with drive = "amplitude" (the sidecar even recorded a
-- pitch range), 'carrier' with drive = "pitch" or "both"; a 'pitch' range
-- that is reversed or empty; fades longer than the file are warned of (they
-- were cut silently); `sonify --carrier` takes a comma list, one per signal,
-- as the Lua option does (it said "--carrier needs a number").
local nm = require "neuromass"
local h = require "helpers"

local function two_nodes()
  local C = { { 0, 1 }, { 1, 0 } }
  return nm.models.hopf.native { Cmat = C, Dmat = { { 0, 20 }, { 20, 0 } }, a = 1 }
    :run { duration = 100, dt = 0.1, record = { "x" } }
end

describe("write_audio with mode = \"mapping\"", function()
  teardown(h.remove_scratch)

  it("refuses 'pitch' with drive = \"amplitude\" and 'carrier' with drive = \"pitch\" or \"both\"", function()
    local res, dir = two_nodes(), h.scratch()
    local err = h.error_of(function()
      local _ = res:write_audio(dir .. "/m.wav", { mode = "mapping", pitch = { 200, 800 } })
    end)
    assert.matches("audio_unused_options_spec%.lua:%d+: write_audio: 'pitch' is the range of the tone of " ..
                   "drive = \"pitch\" or drive = \"both\"; with drive = \"amplitude\" %(the default%) each " ..
                   "signal plays at its 'carrier' and 'pitch' would go unused: add drive = \"pitch\" %(or " ..
                   "drive = \"both\"%), or drop 'pitch'", err)
    for _, drive in ipairs { "pitch", "both" } do
      err = h.error_of(function()
        local _ = res:write_audio(dir .. "/m.wav", { mode = "mapping", drive = drive, carrier = 440 })
      end)
      assert.matches("write_audio: 'carrier' is the fixed tone of drive = \"amplitude\"; with drive = \"" ..
                     drive .. "\" the signal sets the tone, within 'pitch', and 'carrier' would go unused: " ..
                     "drop 'carrier', or use drive = \"amplitude\"", err, 1, true)
    end
    assert.is_nil(io.open(dir .. "/m.wav"))
  end)

  it("refuses a reversed or empty pitch range", function()
    local res, dir = two_nodes(), h.scratch()
    for _, pitch in ipairs { { 800, 200 }, { 400, 400 } } do
      local err = h.error_of(function()
        local _ = res:write_audio(dir .. "/m.wav", { mode = "mapping", drive = "pitch", pitch = pitch })
      end)
      assert.matches(string.format("write_audio: 'pitch' = { %d, %d } must be { low, high } with low < high (Hz)",
                                   pitch[1], pitch[2]), err, 1, true)
    end
  end)

  it("records in the sidecar only the frequencies the sound uses", function()
    local res, dir = two_nodes(), h.scratch()
    res:write_audio(dir .. "/a.wav", { mode = "mapping" })
    local side = h.read(dir .. "/a.wav.json")
    assert.is_nil(side:find("pitch_hz", 1, true))
    assert.truthy(side:find("carrier_hz", 1, true))
    res:write_audio(dir .. "/p.wav", { mode = "mapping", drive = "pitch" })
    side = h.read(dir .. "/p.wav.json")
    assert.truthy(side:find("pitch_hz", 1, true))
    assert.is_nil(side:find("carrier_hz", 1, true))
  end)
end)

describe("a fade longer than the file", function()
  teardown(h.remove_scratch)

  it("is warned of, with the lengths asked and given", function()
    local res, dir = two_nodes(), h.scratch()
    local _, rep = res:write_audio(dir .. "/f.wav", { fade = 10, speedup = 1 })
    assert.are.same({ "'fade' asked 10 s in and 10 s out, more than the 0.1 s file holds: the fades were " ..
                      "shortened to 0.05 s and 0.05 s (the file shared between them in proportion); give a " ..
                      "shorter 'fade'" }, rep.warnings)
    _, rep = res:write_audio(dir .. "/g.wav", { speedup = 1 })
    assert.are.same({}, rep.warnings)
    assert.truthy(h.read(dir .. "/f.wav.json"):find('"fade_in_s": 0.05', 1, true))
  end)
end)

describe("neuromass sonify --carrier", function()
  teardown(h.remove_scratch)

  it("takes one frequency per signal as a comma list", function()
    local dir = h.scratch()
    local rows = { "t,x.0,x.1" }
    for i = 1, 400 do rows[#rows + 1] = string.format("%d,%g,%g", i, math.sin(i / 10), math.cos(i / 7)) end
    h.write(dir .. "/r.csv", table.concat(rows, "\n") .. "\n")
    local s, _, e = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) ..
                         " sonify r.csv -o c.wav --mode mapping --carrier 220,330")
    assert.equals(0, s, e)
    local side = h.read(dir .. "/c.wav.json")
    assert.truthy(side:find('"carrier_hz": 220', 1, true), side)
    assert.truthy(side:find('"carrier_hz": 330', 1, true), side)
    s, _, e = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " sonify r.csv -o d.wav --mode mapping --carrier 220,x")
    assert.equals(1, s)
    assert.matches("--carrier needs a frequency (Hz) or a comma list of them, one per signal (e.g. 220,330), " ..
                   "got '220,x'", e, 1, true)
    s, _, e = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " sonify r.csv -o d.wav --mode mapping --drive pitch " ..
                   "--carrier 220")
    assert.equals(1, s)
    assert.matches("--carrier is the fixed tone of --drive amplitude", e, 1, true)
    s, _, e = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " sonify r.csv -o d.wav --mode mapping --pitch 200:800")
    assert.equals(1, s)
    assert.matches("--pitch is the range of the tone of --drive pitch or --drive both; with --drive amplitude " ..
                   "(the default) each signal plays at its --carrier", e, 1, true)
  end)
end)
