-- audio_coverage_spec.lua: the warning that a recording cannot fill the audio
-- band.  It is given only when what is missing reaches below 20 kHz of audio
-- (the limit of hearing; the default recording every 1 ms at speed-up 40
-- fills 20 kHz of 44.1 kHz audio and was warned of, for 20-22 kHz no one
-- hears), and its advice can be followed: a sampling_dt that is a whole
-- multiple of the run's dt (it said "sampling_dt <= 0.907 ms", no multiple of
-- dt = 0.1), or the speed-up needed when no sampling_dt can do; under
-- `neuromass sonify` it says to re-record the CSV (it suggested run{ output =
-- { audio = ... } }, which a CSV's user has no run to give).
local nm = require "neuromass"
local h = require "helpers"

local function recorded(dt, sampling_dt, duration)
  return nm.models.hopf.native { a = 1 }:run { duration = duration or 1800, dt = dt, sampling_dt = sampling_dt,
                                               record = { "x" } }
end

describe("the audio band warning", function()
  teardown(h.remove_scratch)

  it("is not given when only audio above 20 kHz is missing (the default workflow)", function()
    local dir = h.scratch()
    local _, rep = recorded(0.1, 1):write_audio(dir .. "/a.wav")
    assert.are.same({}, rep.warnings)
    _, rep = recorded(0.1, 1):write_audio(dir .. "/b.wav", { rate = 48000 })
    assert.are.same({}, rep.warnings)
  end)

  it("advises a sampling_dt that is a whole multiple of dt, or the speed-up needed", function()
    local dir = h.scratch()
    local _, rep = recorded(0.3, 1.2):write_audio(dir .. "/c.wav")
    assert.are.same({ "the recording (every 1.2 ms, 833 Hz) carries simulated activity up to 417 Hz, which " ..
                      "speed-up 40 puts at 16700 Hz of audio, short of 20000 Hz (the limit of hearing); " ..
                      "sampling_dt > dt decimated it without a filter, so simulated activity above 417 Hz has " ..
                      "folded into it; record at sampling_dt = 0.9 ms (3 steps of dt = 0.3 ms) or finer, or " ..
                      "stream the audio while integrating: run{ output = { audio = {...} } }, or use a speed-up " ..
                      "of at least 48" }, rep.warnings)
    _, rep = recorded(0.5, 1):write_audio(dir .. "/d.wav", { speedup = 1 })
    assert.are.equal(1, #rep.warnings)
    assert.matches("no sampling_dt can (even every step, dt = 0.5 ms, is too coarse): use a speed-up of at least 20",
                   rep.warnings[1], 1, true)
    -- below 40 kHz audio, half the rate is the limit
    _, rep = recorded(0.1, 2):write_audio(dir .. "/e.wav", { rate = 8000, speedup = 4 })
    assert.matches("short of 4000 Hz (half the audio rate)", rep.warnings[1], 1, true)
    assert.matches("record at sampling_dt = 0.5 ms (5 steps of dt = 0.1 ms) or finer", rep.warnings[1], 1, true)
  end)

  it("under neuromass sonify says to re-record the CSV, and is not given at 1 ms and speed-up 40", function()
    local dir = h.scratch()
    for _, step in ipairs { 1, 2 } do
      local rows = { "t,x.0" }
      for i = 1, 2000 do rows[#rows + 1] = string.format("%d,%g", i * step, math.sin(i / 10)) end
      h.write(dir .. "/r" .. step .. ".csv", table.concat(rows, "\n") .. "\n")
    end
    local s, _, e = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " sonify r1.csv -o a.wav")
    assert.equals(0, s)
    assert.equals("", e)
    s, _, e = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " sonify r2.csv -o b.wav")
    assert.equals(0, s)
    assert.matches("re-record the CSV at sampling_dt <= 1 ms (a whole multiple of the run's dt), or give " ..
                   "--speedup 80 or more\n", e, 1, true)
    assert.is_nil(e:find("output = {", 1, true))
  end)
end)
