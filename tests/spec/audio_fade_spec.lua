-- audio_fade_spec.lua: the sidecar reports the fades as applied.  A file too
-- short for the fades asked shares its length between them (audio_render.c,
-- au_plan_fades); its sidecar gives those shortened fades, in s, not the
-- request (fade = 100 s on a 0.25 s file was reported as 100 s).
local nm = require "neuromass"
local h = require "helpers"

local function sidecar_fades(path)
  local text = h.read(path .. ".json")
  return tonumber(text:match('"fade_in_s": *([-%d.e]+)')), tonumber(text:match('"fade_out_s": *([-%d.e]+)'))
end

describe("an audio file's sidecar", function()
  local dir, res
  setup(function()
    dir = h.scratch()
    local model = nm.models.hopf.native { a = 1, w = 2 * math.pi * 0.010, xs_init = 1, ys_init = 0 }
    res = model:run { duration = 10000, dt = 0.1, record = { "x" } }   -- 0.25 s of audio at speed-up 40
  end)
  teardown(h.remove_scratch)

  it("gives the fades asked for when the file holds them", function()
    local path, rep = res:write_audio(dir .. "/a.wav", { fade = { 0.02, 0.05 } })
    assert.are.equal(11025, rep.frames)
    local fin, fout = sidecar_fades(path)
    assert.are.equal(882 / 44100, fin)             -- 0.02 s = 882 frames
    assert.are.equal(2205 / 44100, fout)           -- 0.05 s = 2205 frames
  end)

  it("gives the shortened fades of a file too short for them, each within a frame of its share", function()
    local path, rep = res:write_audio(dir .. "/b.wav", { fade = 100 })
    local fin, fout = sidecar_fades(path)
    assert.is_true(math.abs(fin - rep.frames / 2 / 44100) <= 1 / 44100, "fade in " .. fin)
    assert.is_true(math.abs(fout - rep.frames / 2 / 44100) <= 1 / 44100, "fade out " .. fout)
    path, rep = res:write_audio(dir .. "/c.wav", { fade = { 3, 1 } })
    fin, fout = sidecar_fades(path)
    assert.is_true(math.abs(fin - 0.75 * rep.frames / 44100) <= 1 / 44100, "fade in " .. fin)
    assert.is_true(math.abs(fout - 0.25 * rep.frames / 44100) <= 1 / 44100, "fade out " .. fout)
    -- fades whose length in frames overflows share the file all the same
    path, rep = res:write_audio(dir .. "/d.wav", { fade = { 1e308, 1e308 / 3 } })
    fin, fout = sidecar_fades(path)
    assert.is_true(math.abs(fin - 0.75 * rep.frames / 44100) <= 1 / 44100, "fade in " .. fin)
    assert.is_true(math.abs(fout - 0.25 * rep.frames / 44100) <= 1 / 44100, "fade out " .. fout)
    assert.is_true(rep.peak > 0)
  end)
end)
