-- audio_pan_spec.lua: a pan list (one position per node, pan[i] for node
-- i - 1) shorter than the nodes chosen says which node has none, and how many
-- the list has (it said "needs a position ... (got nil)").
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
    assert.matches("audio_pan_spec%.lua:%d+: write_audio: pan: node 2 has no position %(the list has 2, pan%[i%] " ..
                   "for node i %- 1%): give one per node, in %[%-1, 1%] or 'L'/'R'", err)
  end)
end)
