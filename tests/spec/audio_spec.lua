-- audio_spec.lua: sonification, measured on the sound: files are read back
-- with libsndfile (core.audio_read) and their spectra, levels and envelopes
-- checked against what the simulation put in.
local nm = require "neuromass"
local core = require "neuromass.core"
local h = require "helpers"
local dsp = require "dsp"

local TWO_PI = 2 * math.pi

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local err_of = h.error_of   -- the message of a call that must fail

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

-- A mass whose output x is a given function of time (nm.t, in ms), per node
-- through its parameters a (amplitude), f (Hz), b (offset), m (modulation
-- depth) and fm (modulation frequency, Hz).
local Tone = nm.mass {
  label = "Tone", state = { z = 0 }, outputs_at = "after",
  params = { a = 1, f = 10, b = 0, m = 0, fm = 0.25 },
  outputs = function(_, p)
    local s = nm.t / 1000
    return { x = p.b + p.a * (1 + p.m * nm.sin(TWO_PI * p.fm * s)) * nm.sin(TWO_PI * p.f * s) }
  end,
  derivatives = function() return { z = 0 } end,
}

local function tones(n, params)
  local node = nm.node { masses = { Tone() } }
  local model
  if n == 1 then
    model = nm.model(node)
  else
    local C = {}
    for i = 1, n do C[i] = {} for j = 1, n do C[i][j] = 0 end end
    model = nm.model(nm.network { nodes = nm.replicate(node, n), connectivity = C })
  end
  for k, v in pairs(params or {}) do model.params["*." .. k] = v end
  return model
end

-- Hopf normal form on its limit cycle at 10 Hz (w in rad/ms).
local function alpha_hopf()
  return nm.models.hopf.native { a = 1, w = TWO_PI * 0.010, xs_init = 1, ys_init = 0 }
end

describe("sonification", function()
  local dir
  setup(function()
    local _, out = h.sh("mktemp -d")
    dir = out:gsub("%s+$", "")
  end)
  teardown(function() h.sh("rm -rf " .. q(dir)) end)

  it("plays a 10 Hz rhythm at speed-up 40 with its spectral peak at 400 Hz (+- 1 %)", function()
    local res = alpha_hopf():run { duration = 12000, dt = 0.1 }
    local path = res:write_audio(dir .. "/alpha.wav", { variable = "x", speedup = 40 })
    local info, ch = core.audio_read(path)
    local f = dsp.peak_frequency(ch[1], info.rate)
    assert.is_true(math.abs(f - 400) <= 4, "peak at " .. f .. " Hz")
  end)

  it("derives the speed-up from map = { from, to }", function()
    local res = alpha_hopf():run { duration = 10000, dt = 0.1 }
    local path, rep = res:write_audio(dir .. "/map.wav", { map = { from = 10, to = 440 } })
    assert.are.equal(44, rep.speedup)
    local info, ch = core.audio_read(path)
    local f = dsp.peak_frequency(ch[1], info.rate)
    assert.is_true(math.abs(f - 440) <= 4.4, "peak at " .. f .. " Hz")
  end)

  it("makes the audio last the simulated time divided by the speed-up", function()
    local res = tones(1):run { duration = 5000, dt = 0.1, sampling_dt = 0.5, record = { "x" } }
    local cases = {
      { { speedup = 40, rate = 48000 }, 5.0 / 40 * 48000 },
      { { speedup = 25, rate = 96000, skip = 1000 }, 4.0 / 25 * 96000 },
      { { speedup = 40, rate = 44100 }, 5.0 / 40 * 44100 },
      { { speedup = 8, rate = 44100, bits = "float" }, 5.0 / 8 * 44100 },
    }
    for i, c in ipairs(cases) do
      local path, rep = res:write_audio(dir .. "/len" .. i .. ".wav", c[1])
      local info = core.audio_read(path)
      assert.are.equal(math.floor(c[2] + 0.5), info.frames)
      assert.are.equal(info.frames, rep.frames)
      assert.are.equal(c[1].rate, info.rate)
    end
  end)

  it("gives one channel per node in node order, L then R, or one mono channel", function()
    local res = tones(3, { f = { 5, 10, 20 } }):run { duration = 10000, dt = 0.1, record = { "x" } }
    local path = res:write_audio(dir .. "/multi.wav", { layout = "multichannel", speedup = 40 })
    local info, ch = core.audio_read(path)
    assert.are.equal(3, info.channels)
    for c, f in ipairs { 200, 400, 800 } do
      local got = dsp.peak_frequency(ch[c], info.rate)
      assert.is_true(math.abs(got - f) <= f * 0.01, "channel " .. c .. ": " .. got .. " Hz")
    end
    path = res:write_audio(dir .. "/stereo.wav", { speedup = 40 })   -- default: stereo, by index
    info, ch = core.audio_read(path)
    assert.are.equal(2, info.channels)
    assert.is_true(math.abs(dsp.peak_frequency(ch[1], info.rate) - 200) <= 2)   -- node 0: left
    assert.is_true(math.abs(dsp.peak_frequency(ch[2], info.rate) - 800) <= 8)   -- node 2: right
    path = res:write_audio(dir .. "/picked.wav", { nodes = { 2, 0 }, layout = "multichannel" })
    info, ch = core.audio_read(path)
    assert.is_true(math.abs(dsp.peak_frequency(ch[1], info.rate) - 800) <= 8)
    assert.is_true(math.abs(dsp.peak_frequency(ch[2], info.rate) - 200) <= 2)
    path = res:write_audio(dir .. "/glob.wav", { column = { "x.1", "x.2" }, layout = "multichannel" })
    assert.are.equal(2, core.audio_read(path).channels)
    path = res:write_audio(dir .. "/mono.wav", { layout = "mono" })
    assert.are.equal(1, core.audio_read(path).channels)
    assert.are.equal(1, core.audio_read(res:write_audio(dir .. "/one.wav", { nodes = 1 })).channels)
  end)

  it("peak and rms bring each varying signal to the same level, however far below the loudest", function()
    -- node 1 swings 1e-13 of node 0 (a partial run whose node 0 blew up to 1e38 is the same):
    -- it varies, so it is not "silent" (before: gain 0 and "1 of 2 signals do not vary")
    local res = tones(2, { a = { 1, 1e-13 }, f = { 10, 15 } }):run { duration = 2000, dt = 0.1, record = { "x" } }
    for _, norm in ipairs { "peak", "rms" } do
      local path, rep = res:write_audio(dir .. "/far.wav", { layout = "multichannel", normalize = norm })
      local _, ch = core.audio_read(path)
      local r = dsp.rms(ch[2]) / dsp.rms(ch[1])
      assert.is_true(math.abs(r - 1) < 0.01, norm .. ": node 1 / node 0 = " .. r)
      assert.are.same({}, rep.warnings)
    end
    -- a constant signal beside a varying one is still silent, and one varying by rounding
    -- (5 + 1e-14 sin), audified or driving a tone (before: mapped onto its full range)
    for _, a in ipairs { 0, 1e-14 } do
      res = tones(2, { a = { 1, a }, b = { 0, 5 } }):run { duration = 2000, dt = 0.1, record = { "x" } }
      for _, mode in ipairs { "audify", "mapping" } do
        local path, rep = res:write_audio(dir .. "/still.wav", { layout = "multichannel", mode = mode })
        assert.are.same({ "1 of 2 signals does not vary and is silent" }, rep.warnings)
        local _, ch = core.audio_read(path)
        assert.are.equal(0, dsp.rms(ch[2]), mode .. ", a = " .. a)
      end
    end
  end)

  it("warns when a signal's rhythm, sped up, lies above the audio band and is filtered out", function()
    -- 10 Hz at speed-up 3000 is 30 kHz, above 22.05 kHz: what is left is the filter's residue
    -- (before: normalised to full scale, no warning)
    local res = tones(2, { f = { 10, 1 } }):run { duration = 4000, dt = 0.1, record = { "x" } }
    -- (the speed-up as the user wrote it: %.4g said "3000")
    local _, rep = res:write_audio(dir .. "/above.wav", { speedup = 3000.5, layout = "multichannel" })
    assert.are.same({ "1 of 2 signals lost more than 99 % of its variance above the audio band " ..
                      "(simulated activity above 7.349 Hz at speed-up 3000.5 is filtered out): lower the speed-up" },
                    rep.warnings)
    _, rep = res:write_audio(dir .. "/within.wav", { speedup = 1000, layout = "multichannel" })
    assert.are.same({}, rep.warnings)
  end)

  it("band-limits: 10 Hz + 3 kHz at dt 0.01 ms, k = 100 leaves nothing >= -60 dB outside 1 kHz +- 1 %", function()
    -- Plain decimation would fold the 3 kHz tone (300 kHz of audio) to 8.7 kHz.
    -- Fades are off: with 0.1 s of audio (10 Hz bins) +- 1 % is +- 1 bin, so the
    -- tone is measured with a rectangular window over exactly 100 periods.
    local Two = nm.mass {
      label = "Two", state = { z = 0 }, outputs_at = "after",
      outputs = function()
        local s = nm.t / 1000
        return { x = nm.sin(TWO_PI * 10 * s) + nm.sin(TWO_PI * 3000 * s) }
      end,
      derivatives = function() return { z = 0 } end,
    }
    local res = nm.model(nm.node { masses = { Two() } }):run { duration = 10000, dt = 0.01, record = { "x" } }
    local path, rep = res:write_audio(dir .. "/tones.wav", { speedup = 100, rate = 44100,
                                                            normalize = "none", fade = 0 })
    local info, ch = core.audio_read(path)
    assert.are.equal(4410, info.frames)
    local mag = dsp.spectrum(ch[1])
    local peak, worst, worst_hz = mag[101], 0, 0
    for k = 0, #mag - 1 do
      local hz = k * info.rate / info.frames
      if math.abs(hz - 1000) > 10 + 1e-9 and mag[k + 1] > worst then worst, worst_hz = mag[k + 1], hz end
    end
    local db = dsp.db(worst / peak)
    assert.is_true(db <= -60, string.format("worst %.1f dB at %g Hz", db, worst_hz))
    assert.is_true(dsp.max_abs(ch[1]) <= 1)
    assert.is_true(rep.frames == 4410)
  end)

  it("parameter mapping: the audio's envelope follows the driving signal", function()
    -- the signal itself drives the amplitude of a 440 Hz carrier, no speed-up
    local res = tones(1, { b = 0.5, a = 0.4, f = 0.5 }):run { duration = 8000, dt = 0.5, record = { "x" } }
    local path, rep = res:write_audio(dir .. "/pm.wav", { mode = "mapping", rate = 22050 })
    assert.are.equal(1, rep.speedup)
    local info, ch = core.audio_read(path)
    assert.are.equal(8 * 22050, info.frames)
    local x = res:get("x")
    local env, drive = {}, {}
    local win = 441                                   -- 20 ms windows
    for w = 0, info.frames // win - 1 do
      env[#env + 1] = dsp.rms(ch[1], w * win + 1, (w + 1) * win)
      local t_ms = (w + 0.5) * win / info.rate * 1000
      drive[#drive + 1] = x[math.max(1, math.floor(t_ms / 0.5 + 0.5))]
    end
    local r = dsp.correlation(env, drive)
    assert.is_true(r >= 0.9, "correlation " .. r)
    assert.is_true(math.abs(dsp.peak_frequency(ch[1], info.rate) - 440) < 2)
  end)

  it("parameter mapping: the band-limited envelope of an alpha rhythm drives the amplitude", function()
    -- 10 Hz whose amplitude waxes and wanes at 0.25 Hz: the tone follows the waxing
    local res = tones(1, { f = 10, m = 0.8, fm = 0.25 }):run { duration = 12000, dt = 0.5, record = { "x" } }
    local path = res:write_audio(dir .. "/pm_env.wav", { mode = "mapping", envelope = 2, rate = 22050,
                                                         carrier = 330 })
    local info, ch = core.audio_read(path)
    local env, drive = {}, {}
    local win = 1103                                  -- 50 ms
    for w = 0, info.frames // win - 1 do
      env[#env + 1] = dsp.rms(ch[1], w * win + 1, (w + 1) * win)
      local s = (w + 0.5) * win / info.rate
      drive[#drive + 1] = 1 + 0.8 * math.sin(TWO_PI * 0.25 * s)
    end
    local r = dsp.correlation(env, drive)
    assert.is_true(r >= 0.9, "correlation " .. r)
  end)

  it("parameter mapping: a rising signal raises the pitch", function()
    local Ramp = nm.mass { label = "Ramp", state = { x = 0 }, derivatives = function() return { x = 1 } end }
    local res = nm.model(nm.node { masses = { Ramp() } }):run { duration = 2000, dt = 1 }
    local path = res:write_audio(dir .. "/pitch.wav", { mode = "mapping", drive = "pitch",
                                                        pitch = { 200, 800 }, rate = 22050 })
    local info, ch = core.audio_read(path)
    local first, last = {}, {}
    for i = 1, 4410 do first[i], last[i] = ch[1][i + 2205], ch[1][info.frames - 6615 + i] end
    local f1, f2 = dsp.peak_frequency(first, info.rate), dsp.peak_frequency(last, info.rate)
    assert.is_true(f1 > 190 and f1 < 260, "start " .. f1)
    assert.is_true(f2 > 600 and f2 < 810, "end " .. f2)
  end)

  it("pans a signal in the left hemisphere's nodes only >= 20 dB to the left", function()
    -- AAL2 order: node 0 Precentral_L, 1 Precentral_R, 2 Frontal_Sup_2_L, 3 Frontal_Sup_2_R
    local res = tones(4, { a = { 1, 0, 0.7, 0 }, f = { 10, 10, 12, 12 } })
                :run { duration = 8000, dt = 0.1, record = { "x" } }
    local hcp = nm.datasets.load("hcp")
    local ds = { hemisphere = table.move(hcp.hemisphere, 1, 4, 1, {}) }   -- one region per node
    for _, opts in ipairs {
      { pan = "hemisphere", regions = ds },
      { pan = ds.hemisphere },
      { regions = ds },
    } do
      local path = res:write_audio(dir .. "/lr.wav", opts)
      local info, ch = core.audio_read(path)
      assert.are.equal(2, info.channels)
      local l, r = dsp.rms(ch[1]), dsp.rms(ch[2])
      local ratio = dsp.db(l / math.max(r, 1e-300))
      assert.is_true(ratio >= 20, "L/R = " .. ratio .. " dB")
    end
    -- and the other way round
    local path = res:write_audio(dir .. "/lr2.wav", { pan = { "R", "L", "R", "L" } })
    local _, ch = core.audio_read(path)
    assert.is_true(dsp.db(dsp.rms(ch[2]) / math.max(dsp.rms(ch[1]), 1e-300)) >= 20)
  end)

  it("never writes a sample above full scale", function()
    local res = tones(2, { a = { 5, 3 } }):run { duration = 4000, dt = 0.1, record = { "x" } }
    for _, opts in ipairs {
      { normalize = "none" },
      { normalize = "none", gain = 4.0000001, bits = "float" },
      { normalize = "peak", headroom = 0 },
      { normalize = "rms" },
      { normalize = "relative", layout = "mono" },
    } do
      local path, rep = res:write_audio(dir .. "/fs.wav", opts)
      local _, ch = core.audio_read(path)
      for _, c in ipairs(ch) do assert.is_true(dsp.max_abs(c) <= 1, "max " .. dsp.max_abs(c)) end
      if opts.normalize == "none" then
        assert.is_true(rep.limited_db > 1)
        assert.matches("limiter", rep.warnings[1])
        if opts.gain then assert.matches("gain = 4%.0000001%)", rep.warnings[1]) end   -- (%g: "4")
      end
    end
    local path = res:write_audio(dir .. "/peak.wav", { bits = "float", headroom = 3 })
    local _, ch = core.audio_read(path)
    local m = math.max(dsp.max_abs(ch[1]), dsp.max_abs(ch[2]))
    assert.is_true(math.abs(m - 10 ^ (-3 / 20)) < 1e-6, "peak " .. m)
  end)

  it("decodes FLAC and WAV (16- and 24-bit PCM) to equal samples", function()
    local res = alpha_hopf():run { duration = 6000, dt = 0.1, seed = 3 }
    for _, bits in ipairs { 16, 24 } do
      local _, wav = core.audio_read(res:write_audio(dir .. "/eq.wav", { bits = bits, variable = "x" }))
      local info, flac = core.audio_read(res:write_audio(dir .. "/eq.flac", { bits = bits, variable = "x" }))
      assert.are.equal("flac", info.format)
      assert.are.equal(bits == 16 and "pcm16" or "pcm24", info.encoding)
      assert.are.equal(#wav[1], #flac[1])
      for i = 1, #wav[1] do
        if wav[1][i] ~= flac[1][i] then error("sample " .. i .. " differs") end
      end
    end
  end)

  it("writes OGG Vorbis", function()
    local res = alpha_hopf():run { duration = 6000, dt = 0.1 }
    local info, ch = core.audio_read(res:write_audio(dir .. "/a.ogg", { variable = "x" }))
    assert.are.equal("ogg", info.format)
    assert.is_true(math.abs(dsp.peak_frequency(ch[1], info.rate) - 400) <= 4)
  end)

  it("fades inside the length and records the mapping in a JSON sidecar", function()
    local res = tones(2, { a = { 1, 0.5 } }):run { duration = 4000, dt = 0.1, record = { "x" } }
    local path, rep = res:write_audio(dir .. "/side.wav", { speedup = 40, fade = 0.02, bits = "float" })
    local _, ch = core.audio_read(path)
    assert.are.equal(4.0 / 40 * 44100, #ch[1])
    assert.is_true(math.abs(ch[1][1]) < 1e-3 and math.abs(ch[1][#ch[1]]) < 1e-3)
    local f = assert(io.open(rep.sidecar))
    local text = f:read("a")
    f:close()
    assert.matches('"speedup": 40', text)
    assert.matches('"rate": 44100', text)
    assert.matches('"name": "left"', text)
    assert.matches('"column": "x.1"', text)
    assert.matches('"normalize": "peak"', text)
  end)

  it("writes audio while integrating, from the full-rate signal, whatever the recording", function()
    local streamed = alpha_hopf():run { duration = 10000, dt = 0.1, sampling_dt = 2,
                                        output = { audio = { path = dir .. "/live.wav", speedup = 40,
                                                             variable = "x" } } }
    assert.are.equal(0, streamed:rows())
    assert.are.equal(0, #streamed.audio.warnings)
    local full = alpha_hopf():run { duration = 10000, dt = 0.1 }
    local _, a = core.audio_read(dir .. "/live.wav")
    local _, b = core.audio_read(full:write_audio(dir .. "/full.wav", { speedup = 40, variable = "x" }))
    assert.are.equal(#b[1], #a[1])
    for i = 1, #a[1] do
      if a[1][i] ~= b[1][i] then error("sample " .. i .. " differs") end
    end
    -- the coarse recording itself warns: it cannot carry what the audio needs
    local coarse = alpha_hopf():run { duration = 10000, dt = 0.1, sampling_dt = 2 }
    local _, rep = coarse:write_audio(dir .. "/coarse.wav", { speedup = 40.0000001, variable = "x" })
    assert.are.equal(1, #rep.warnings)
    -- (the user's numbers: %g said "speed-up 40")
    assert.matches("the recording %(every 2 ms, 500 Hz%) carries simulated activity up to 250 Hz, which " ..
                   "speed%-up 40%.0000001 puts at 10000 Hz of audio", rep.warnings[1])
    assert.matches("record at sampling_dt = 1 ms (10 steps of dt = 0.1 ms) or finer", rep.warnings[1], 1, true)
  end)

  it("streams with a CSV and keeps what 'record' asks for", function()
    local res = alpha_hopf():run { duration = 2000, dt = 0.1, sampling_dt = 1, record = { "y" },
                                   output = { csv = dir .. "/live.csv",
                                              audio = { path = dir .. "/live2.flac", speedup = 20 } } }
    assert.are.equal(2000, res:rows())
    assert.are.equal(2000, h.read_csv(dir .. "/live.csv").rows)
    local info = core.audio_read(dir .. "/live2.flac")
    assert.are.equal(2.0 / 20 * 44100, info.frames)
  end)

  it("gives clear errors for bad options, at the caller's line", function()
    local res = tones(2):run { duration = 1000, dt = 0.1, record = { "x" } }
    local cases = {
      { { speedup = 0 }, "'speedup' must be a positive number %(got 0%)" },
      { { speedup = -40 }, "'speedup' must be a positive number" },
      { { map = { from = 0, to = 400 } }, "'map.from' must be a positive number" },
      { { layout = "quad" }, "unknown layout 'quad' %(use mono, stereo, multichannel%)" },
      { { variable = "v" }, "'v' was not recorded %(recorded: x%)" },
      { { nodes = { 7 } }, "node 7 has no recorded 'x'" },
      { { nodes = {} }, "'nodes' = {} names no node: give node indices %(0%-based%), or leave 'nodes' out " ..
                        "for every node that has 'x'" },
      { { column = {} }, "'column' = {} names no column: give a glob such as 'x%.%*'" },
      { { column = "x.*|" }, "'column' glob 'x%.%*|': the text after '|' is empty" },
      { { column = { "x.0", "x.*|x.1|x.2" } }, "'column' glob 'x%.%*|x%.1|x%.2': one '|' filter per name" },
      { { speedp = 40 }, "unknown field 'speedp'; did you mean 'speedup'%?" },
      { { rate = 1000 }, "'rate' must be a whole number of Hz from 8000 to 192000 %(such as 44100, " ..
                         "48000 or 96000%), got 1000" },
      { { rate = 192001 }, "'rate' must be a whole number of Hz from 8000 to 192000 .*got 192001" },
      { { rate = 44100.5 }, "'rate' must be a whole number of Hz .*got 44100%.5" },
      { { bits = 12 }, "'bits' must be 16, 24 or \"float\"" },
      { { normalize = "loud" }, "unknown normalize 'loud'" },
      { { pan = "hemisphere" }, "pan = \"hemisphere\" needs the regions' labels: give regions = \"hcp\" or \"gw\"" },
      -- options that clash: which, and what to write (before: "'map' derives the speed-up of
      -- audification", "'envelope' applies to mode = \"mapping\"", no fix given)
      { { gain = 2 }, "'gain' applies with normalize = \"none\"; normalize = \"peak\" %(the default%) sets the " ..
                      "level itself: add normalize = \"none\" to set it by 'gain', or drop 'gain'$" },
      { { envelope = 2 }, "'envelope' applies to mode = \"mapping\" %(the signals driving carriers%); this mode " ..
                          "is \"audify\" %(the default%), where the signal is the waveform: add mode = " ..
                          "\"mapping\", or drop 'envelope'$" },
      { { mode = "mapping", envelope = 2, map = { from = 10, to = 440 } },
        "'map' and mode = \"mapping\" clash: 'map' = { from = Hz, to = Hz } sets the speed%-up of mode = " ..
        "\"audify\" %(to / from = 44%), where the signal is the waveform; with mode = \"mapping\" the signals " ..
        "drive carriers .* time runs 'speedup' times faster %(default 1%): give speedup = 44 instead of 'map', " ..
        "or drop mode = \"mapping\" to audify$" },
      { { speedup = 40, map = { from = 10, to = 440 } }, "'speedup' and 'map' both set the speed%-up %('map' = " ..
                                                         "{ from = Hz, to = Hz } is speedup = to / from%): give one of them$" },
      -- frequencies the audio cannot hold (before: map.to filtered away, then the residue
      -- normalised to full scale; a pitch above it aliased), as a carrier's
      { { map = { from = 10, to = 30000 } }, "'map%.to' = 30000 Hz must be below 22050 Hz, half the " ..
                                             "audio rate %(44100 Hz%)" },
      { { map = { from = 10, to = 4000 }, rate = 8000 }, "'map%.to' = 4000 Hz must be below 4000 Hz" },
      { { mode = "mapping", drive = "pitch", pitch = { 200, 25000 } }, "'pitch%[2%]' = 25000 Hz must be below 22050 Hz" },
      { { mode = "mapping", carrier = 30000 }, "'carrier' = 30000 Hz must be below 22050 Hz" },
      -- the user's own number (with %g: "22050.2 Hz must be below 22050 Hz")
      { { mode = "mapping", carrier = 22050.25 }, "'carrier' = 22050%.25 Hz must be below 22050 Hz" },
    }
    for _, c in ipairs(cases) do
      local msg = err_of(function() res:write_audio(dir .. "/bad.wav", c[1]) end)
      assert.matches("audio_spec%.lua:%d+: write_audio: " .. c[2], msg)
    end
    assert.matches("cannot tell the format of 'x%.mp3'", err_of(function() res:write_audio("x.mp3") end))
    local ten = tones(10):run { duration = 200, dt = 0.1, record = { "x" } }
    assert.matches("FLAC holds at most 8 channels %(this layout has 10%)",
                   err_of(function() ten:write_audio(dir .. "/ten.flac", { layout = "multichannel" }) end))
    assert.is_false(exists(dir .. "/bad.wav"))
  end)

  it("an envelope at or above half the signal's rate is refused with its number and the exact bound", function()
    -- (%g said "'envelope' must be below 1666.67 Hz" of envelope = 1666.67, the bound 1666.666...)
    local res = tones(1):run { duration = 300, dt = 0.1, sampling_dt = 0.3, record = { "x" } }
    local msg = err_of(function() res:write_audio(dir .. "/env.wav", { mode = "mapping", envelope = 1666.67 }) end)
    assert.matches("audio_spec%.lua:%d+: write_audio: 'envelope' = 1666%.67 Hz must be below " ..
                   "1666%.6666666666665 Hz %(half the signal's sampling rate%)$", msg)
    assert.is_false(exists(dir .. "/env.wav"))
  end)

  it("fails cleanly on an unwritable path and leaves no file", function()
    local res = tones(1):run { duration = 1000, dt = 0.1, record = { "x" } }
    local msg = err_of(function() res:write_audio("/nonexistent-dir/x.wav") end)
    assert.matches("audio_spec%.lua:%d+: write_audio: '/nonexistent%-dir/x%.wav': the directory " ..
                   "'/nonexistent%-dir' does not exist", msg)
    msg = err_of(function()
      tones(1):run { duration = 100, dt = 0.1, output = { audio = "/nonexistent-dir/y.wav" } }
    end)
    assert.matches("audio_spec%.lua:%d+: run: output%.audio '/nonexistent%-dir/y%.wav': the directory " ..
                   "'/nonexistent%-dir' does not exist", msg)
    -- a run that fails midway leaves no audio behind
    local Boom = nm.mass { label = "Boom", state = { x = 1 }, derivatives = function(s) return { x = s.x * s.x } end }
    msg = err_of(function()
      nm.model(nm.node { masses = { Boom() } }):run { duration = 100, dt = 0.1,
                                                       output = { audio = dir .. "/boom.wav" } }
    end)
    assert.matches("NaN or infinite", msg)
    assert.is_false(exists(dir .. "/boom.wav"))
    local _, listing = h.sh("ls -A " .. q(dir))
    assert.is_nil(listing:find("tmp%-"), listing)
    assert.is_nil(listing:find("spool"), listing)
  end)

  it("neuromass sonify turns a recorded CSV into audio, with the same options", function()
    local res = tones(3, { f = { 5, 10, 20 } }):run { duration = 6000, dt = 0.1, sampling_dt = 0.2,
                                                      record = { "x" } }
    res:write_csv(dir .. "/rec.csv")
    local status, out, err = h.sh(q(h.exe) .. " sonify " .. q(dir .. "/rec.csv") .. " -o " ..
                                  q(dir .. "/cli.wav") .. " --speedup 40 --layout multichannel --rate 48000")
    assert.are.equal(0, status, err)
    assert.matches("cli%.wav: 0%.150 s, 3 channels, 48000 Hz", out)
    local info, ch = core.audio_read(dir .. "/cli.wav")
    assert.are.equal(3, info.channels)
    assert.are.equal(7200, info.frames)
    assert.is_true(math.abs(dsp.peak_frequency(ch[3], info.rate) - 800) <= 8)
    assert.is_true(exists(dir .. "/cli.wav.json"))
    -- the same as res:write_audio
    local _, ch2 = core.audio_read(res:write_audio(dir .. "/lua.wav", { speedup = 40, rate = 48000,
                                                                       layout = "multichannel" }))
    for i = 1, #ch[1] do
      if ch[1][i] ~= ch2[1][i] then error("sample " .. i .. " differs") end
    end
    status, _, err = h.sh(q(h.exe) .. " sonify " .. q(dir .. "/rec.csv") .. " -o " ..
                          q(dir .. "/cli2.wav") .. " --speedup 0")
    assert.are_not.equal(0, status)
    assert.matches("neuromass: sonify: %-%-speedup must be a positive number %(got 0%)", err)
    -- (the checks of write_audio in the words of the command's flags)
    for flags, said in pairs {
      ["--map 10:30000"] = "sonify: %-%-map's HIGH = 30000 Hz must be below 22050 Hz",
      ["--mode mapping --drive pitch --pitch 10:30000"] = "sonify: %-%-pitch's HIGH = 30000 Hz must be below",
      ["--carrier 300"] = "sonify: %-%-carrier applies to %-%-mode mapping",
      ["--layout foo"] = "sonify: unknown %-%-layout 'foo'",
      ["--layout mono --pan hemisphere"] = "%-%-pan applies to %-%-layout stereo",
    } do
      status, _, err = h.sh(q(h.exe) .. " sonify " .. q(dir .. "/rec.csv") .. " -o " .. q(dir .. "/cli3.wav") ..
                            " " .. flags)
      assert.are_not.equal(0, status)
      assert.matches(said, err)
    end
    -- the summary gives the speed-up as the user wrote it (%g said "speed-up 1234.57")
    status, out, err = h.sh(q(h.exe) .. " sonify " .. q(dir .. "/rec.csv") .. " -o " ..
                            q(dir .. "/cli4.wav") .. " --speedup 1234.5678")
    assert.are.equal(0, status, err)
    assert.matches("; speed%-up 1234%.5678; 3 signals from ", out)
    status, _, err = h.sh(q(h.exe) .. " sonify " .. q(dir .. "/rec.csv") .. " -o " ..
                          q(dir .. "/cli2.wav") .. " --sped 40")
    assert.are_not.equal(0, status)
    assert.matches("unknown option '%-%-sped'", err)
    status, _, err = h.sh(q(h.exe) .. " sonify " .. q(dir .. "/none.csv") .. " -o " .. q(dir .. "/x.wav"))
    assert.are_not.equal(0, status)
    assert.matches("cannot read", err)
    -- a CSV of times only (no VAR.NODE column) has nothing to play, whatever selects
    h.write(dir .. "/times.csv", "t\n0.1\n0.2\n")
    for _, sel in ipairs({ "", " --variable x", " --column 'x.*'" }) do
      status, _, err = h.sh(q(h.exe) .. " sonify " .. q(dir .. "/times.csv") .. " -o " .. q(dir .. "/x.wav") .. sel)
      assert.are_not.equal(0, status)
      assert.matches("sonify: no variable was recorded %(no column is a VAR%.NODE signal%): nothing to play", err)
    end
    assert.is_false(exists(dir .. "/x.wav"))
    assert.is_false(exists(dir .. "/cli2.wav"))
  end)

  -- Trust (issue 9): every output checked before anything is written; no
  -- crash or silent wrong result on odd input; a failed run keeps its frames.
  describe("trust", function()
    local write_file = h.write
    local function sonify(args)
      return h.sh(q(h.exe) .. " sonify " .. args)
    end

    it("sonifies a finite signal of any magnitude (1e-300 ... 1e300) as the same normalised sine", function()
      local function samples(path)
        local _, ch = core.audio_read(path)
        return ch[1]
      end
      local ref_res = tones(1, { a = 1 }):run { duration = 1000, dt = 0.1, record = { "x" } }
      local ref = samples(ref_res:write_audio(dir .. "/m1.wav", { speedup = 10 }))
      local ref_map = samples(ref_res:write_audio(dir .. "/mm1.wav", { speedup = 10, mode = "mapping" }))
      local ref_rel_path, ref_rel = ref_res:write_audio(dir .. "/mr1.wav", { speedup = 10, normalize = "relative" })
      local ref_rel_samples = samples(ref_rel_path)
      for _, amp in ipairs { 1e-300, 1e30, 1e100, 1e300 } do
        local res = tones(1, { a = amp }):run { duration = 1000, dt = 0.1, record = { "x" } }
        local path, rep = res:write_audio(dir .. "/m.wav", { speedup = 10 })
        local got, worst = samples(path), 0
        assert.are.equal(#ref, #got)
        for i = 1, #ref do worst = math.max(worst, math.abs(got[i] - ref[i])) end
        assert.is_true(worst <= 1 / 32768, string.format("amplitude %g: differs by %g", amp, worst))
        assert.are.same({}, rep.warnings)
        assert.is_true(rep.peak > 0)
        local mapped = samples(res:write_audio(dir .. "/mm.wav", { speedup = 10, mode = "mapping" }))
        worst = 0
        for i = 1, #ref_map do worst = math.max(worst, math.abs(mapped[i] - ref_map[i])) end
        assert.is_true(worst <= 1 / 32768, string.format("mapping, amplitude %g: differs by %g", amp, worst))
        -- relative (mixed before resampling): the same audio, its peak and gain in the signal's units
        local rel_path, rel = res:write_audio(dir .. "/mr.wav", { speedup = 10, normalize = "relative" })
        got, worst = samples(rel_path), 0
        for i = 1, #ref_rel_samples do worst = math.max(worst, math.abs(got[i] - ref_rel_samples[i])) end
        assert.is_true(worst <= 1 / 32768, string.format("relative, amplitude %g: differs by %g", amp, worst))
        assert.is_true(math.abs(rel.peak / (amp * ref_rel.peak) - 1) < 1e-6, "peak " .. rel.peak)   -- floats: 6e-8
        assert.is_true(math.abs(rel.gain * amp / ref_rel.gain - 1) < 1e-6, "gain " .. rel.gain)
        local _, none = res:write_audio(dir .. "/mn.wav", { speedup = 10, normalize = "none", gain = 1 / amp })
        assert.are.equal(1 / amp, none.gain)
        assert.is_true(none.limited_db < 0.1, "limited by " .. none.limited_db)
        if amp == 1e100 then    -- the same through a CSV
          res:write_csv(dir .. "/m.csv")
          local status, _, err = sonify(q(dir .. "/m.csv") .. " -o " .. q(dir .. "/ms.wav") .. " --speedup 10")
          assert.are.equal(0, status, err)
          got, worst = samples(dir .. "/ms.wav"), 0
          for i = 1, #ref do worst = math.max(worst, math.abs(got[i] - ref[i])) end
          assert.is_true(worst <= 1 / 32768, "sonify, amplitude 1e100: differs by " .. worst)
        end
      end
    end)

    it("parameter mapping with one range for all (relative) measures every signal in its own units", function()
      -- node 0 swings around 0, node 1 around 10: one range -1 .. 11, so node 1 drives ~10x louder
      -- (each signal was measured from its own first value: both seemed to span -1 .. 1)
      local res = tones(2, { a = 1, b = { 0, 10 } }):run { duration = 2000, dt = 0.1, record = { "x" } }
      local path = res:write_audio(dir .. "/rel.wav", { mode = "mapping", normalize = "relative",
                                                        layout = "multichannel", speedup = 1 })
      local _, ch = core.audio_read(path)
      local ratio = dsp.rms(ch[2]) / dsp.rms(ch[1])
      assert.is_true(ratio > 5, "node 1 / node 0 = " .. ratio)
    end)

    it("refuses a streamed signal growing beyond 1e51 times its start, naming it; the partial audio is the signal", function()
      local Grow = nm.mass { label = "Grow", state = { x = 1, y = 0 },
                             derivatives = function(s) return { x = 0.2 * s.x + s.y, y = -s.x } end }
      local msg = err_of(function()
        nm.model(nm.node { masses = { Grow() } }):run {
          duration = 1500, dt = 0.1, output = { audio = { path = dir .. "/grow.wav", speedup = 1, variable = "x" } } }
      end)
      -- (said "reaches 1.1e+51 after starting at 1.02: a range of more than 1e51", a range that is a ratio)
      assert.matches("audio_spec%.lua:%d+: run: output%.audio: .*'x%.0' went from 1%.02 to 1%.%d+e%+51, a change " ..
                     "of 1%.%d+e%+51 times its start: more than audio can hold %(about 1e51 times; ", msg)
      local _, ch = core.audio_read(dir .. "/grow.partial.wav")
      local top, full = 0, 0
      for _, v in ipairs(ch[1]) do
        top = math.max(top, math.abs(v))
        if math.abs(v) >= 32767 / 32768 then full = full + 1 end
      end
      assert.are.equal(0, full)                  -- was: every sample +32767, "silent"
      assert.is_true(top > 0.8)
      local f = assert(io.open(dir .. "/grow.partial.wav.json"))
      local text = f:read("a")
      f:close()
      assert.is_nil(text:find("silent"), text)
    end)

    it("a streamed audio that refuses the signal leaves the CSV every row the run reached", function()
      -- (before: the CSV lost the chunk of rows in which the audio failed, the rows since 409.6 ms)
      local Grow = nm.mass { label = "Grow", state = { x = 1, y = 0 },
                             derivatives = function(s) return { x = 0.2 * s.x + s.y, y = -s.x } end }
      local msg = err_of(function()
        nm.model(nm.node { masses = { Grow() } }):run {
          duration = 1500, dt = 0.1, record = { "x" },
          output = { csv = dir .. "/grow2.csv", audio = { path = dir .. "/grow2.wav", speedup = 1, variable = "x" } } }
      end)
      assert.matches("went from 1%.02 to 1%.%d+e%+51, a change of ", msg)
      local rows = h.read_csv(dir .. "/grow2.partial.csv").cols
      local last = #rows.t
      assert.is_true(math.abs(rows["x.0"][last]) > 1e51, "the CSV ends at t = " .. rows.t[last] .. " ms")
    end)

    it("takes any whole rate from 8000 to 192000 Hz, as its message says (12345 Hz too)", function()
      local res = tones(1):run { duration = 200, dt = 0.1, record = { "x" } }
      for _, rate in ipairs { 8000, 12345, 192000 } do
        local path = res:write_audio(dir .. "/r" .. rate .. ".wav", { rate = rate, speedup = 10 })
        assert.are.equal(rate, core.audio_read(path).rate)
      end
      res:write_csv(dir .. "/r.csv")
      local status, _, err = sonify(q(dir .. "/r.csv") .. " -o " .. q(dir .. "/rs.flac") .. " --rate 12345")
      assert.are.equal(0, status, err)
      assert.are.equal(12345, core.audio_read(dir .. "/rs.flac").rate)
    end)

    it("says that an empty result holds no rows (not that a skip the user never gave leaves nothing)", function()
      local res = tones(1):run { duration = 0, dt = 0.1, record = { "x" } }
      local msg = err_of(function() res:write_audio(dir .. "/e.wav") end)
      assert.matches("audio_spec%.lua:%d+: write_audio: the result holds no rows: there is nothing to sonify", msg)
      msg = err_of(function()
        tones(1):run { duration = 0, dt = 0.1, output = { audio = dir .. "/e.wav" } }
      end)
      -- (a streamed run that records no row is refused before the audio is planned: run/plan.lua)
      assert.matches("audio_spec%.lua:%d+: run: this run records no row to write: 'duration' = 0 ms", msg)
      assert.is_nil(msg:find("skip"), msg)
      assert.is_false(exists(dir .. "/e.wav"))
    end)

    it("refuses regions that are not the model's nodes, and a pan without stereo", function()
      local hcp = nm.datasets.load("hcp")
      local two = tones(2):run { duration = 200, dt = 0.1, record = { "x" } }
      local one = tones(1):run { duration = 200, dt = 0.1, record = { "x" } }
      local msg = err_of(function()
        two:write_audio(dir .. "/g.wav", { regions = hcp, pan = "position", layout = "stereo" })
      end)
      assert.matches("audio_spec%.lua:%d+: write_audio: regions: the dataset 'hcp' has 80 regions but the " ..
                     "model has 2 nodes: give the regions of the model's nodes %(one per node, in order%)", msg)
      msg = err_of(function()
        one:write_audio(dir .. "/g.wav", { regions = "hcp", pan = "hemisphere", layout = "stereo" })
      end)
      assert.matches("write_audio: regions: the dataset 'hcp' has 80 regions but the model has 1 node:", msg)
      msg = err_of(function()
        tones(2):run { duration = 10, dt = 0.1, output = { audio = { path = dir .. "/g.wav", regions = hcp } } }
      end)
      assert.matches("audio_spec%.lua:%d+: run: output%.audio: regions: the dataset 'hcp' has 80 regions " ..
                     "but the model has 2 nodes", msg)
      msg = err_of(function() one:write_audio(dir .. "/g.wav", { pan = "hemisphere" }) end)
      assert.matches("audio_spec%.lua:%d+: write_audio: 'pan' applies to layout = \"stereo\"; this layout " ..
                     "is \"mono\" %(the default for one signal%): add layout = \"stereo\"", msg)
      msg = err_of(function() two:write_audio(dir .. "/g.wav", { pan = "index", layout = "multichannel" }) end)
      assert.matches("'pan' applies to layout = \"stereo\"; this layout is \"multichannel\"$", msg)
      assert.is_false(exists(dir .. "/g.wav"))
      -- a CSV's nodes are its highest node + 1 (as neuromass plot counts them): 91 or 3 are not hcp's 80
      -- (a 3-node CSV was labelled with hcp's first three regions)
      write_file(dir .. "/n90.csv", "t,x.0,x.90\n0.1,0,1\n0.2,1,0\n0.3,0,1\n")
      local status, _, err = sonify(q(dir .. "/n90.csv") .. " -o " .. q(dir .. "/n90.wav") ..
                                    " --regions hcp --layout multichannel")
      assert.are_not.equal(0, status)
      assert.matches("sonify: regions: the dataset 'hcp' has 80 regions but the CSV has 91 nodes %(0 to 90%)", err)
      write_file(dir .. "/n3.csv", "t,x.0,x.1,x.2\n0.1,0,1,0\n0.2,1,0,1\n0.3,0,1,0\n")
      status, _, err = sonify(q(dir .. "/n3.csv") .. " -o " .. q(dir .. "/n3.wav") ..
                              " --regions hcp --pan hemisphere")
      assert.are_not.equal(0, status)
      assert.equals("neuromass: sonify: regions: the dataset 'hcp' has 80 regions but the CSV has 3 nodes " ..
                    "(0 to 2): the regions label a CSV of their nodes, one per region in order; leave --regions " ..
                    "out (--pan index spreads the nodes by number)\n", err)
      assert.is_false(exists(dir .. "/n3.wav"))
    end)

    it("sonify checks every row's time against the grid: the file, the real line and the values", function()
      write_file(dir .. "/back.csv", "t,x.0\n0,1\n0.1,2\n0.2,3\n0.15,4\n0.3,5\n")
      local status, _, err = sonify(q(dir .. "/back.csv") .. " -o " .. q(dir .. "/back.wav"))
      assert.are_not.equal(0, status)
      assert.matches("back%.csv: line 5: t = 0%.15 follows 0%.2 %(a step of %-0%.05%d*%); the rows " ..
                     "must be evenly spaced by 0%.1 %(to within a millionth of it%): time goes back", err)
      write_file(dir .. "/irr.csv", "t,x.0\n0,1\n0.1,2\n0.2,3\n0.3,4\n0.45,5\n0.55,6\n")
      status, _, err = sonify(q(dir .. "/irr.csv") .. " -o " .. q(dir .. "/irr.wav"))
      assert.are_not.equal(0, status)
      assert.matches("irr%.csv: line 6: t = 0%.45 follows 0%.3", err)
      assert.is_false(exists(dir .. "/back.wav") or exists(dir .. "/irr.wav"))
    end)

    it("sonify names the real line of a malformed row or a NaN (the header is line 1)", function()
      write_file(dir .. "/bad3.csv", "t,x.0\n0,1\n0.1,zz\n0.2,3\n")
      local _, _, err = sonify(q(dir .. "/bad3.csv") .. " -o " .. q(dir .. "/b.wav"))
      assert.matches("bad3%.csv: line 3: column 2 %(x%.0%) is 'zz'", err)
      local rows = { "t,x.0" }
      for i = 0, 2999 do rows[#rows + 1] = string.format("%g,%g", i * 0.1, math.sin(i)) end
      rows[2501] = "249.9,nan"
      write_file(dir .. "/nan.csv", table.concat(rows, "\n") .. "\n")
      _, _, err = sonify(q(dir .. "/nan.csv") .. " -o " .. q(dir .. "/b.wav"))
      assert.matches("nan%.csv: line 2501: column 2 %(x%.0%) is NaN", err)
      assert.is_false(exists(dir .. "/b.wav"))
    end)

    it("sonify refuses a CSV whose first column is not t, naming it; a BOLD CSV as BOLD (2 s samples), an " ..
       "exploration's table as one", function()
      write_file(dir .. "/bold.csv", "t_BOLD,BOLD_0,BOLD_1\n0.1,0,1\n2000.1,0.5,0.7\n")
      local status, _, err = sonify(q(dir .. "/bold.csv") .. " -o " .. q(dir .. "/bold.wav"))
      assert.equals(1, status)
      assert.matches("neuromass: sonify: '[^']*bold%.csv' holds BOLD %(its first column is 't_BOLD'%), one " ..
                     "sample every 2 s: too slow to hear; sonify expects a result CSV %(first column 't' in ms", err)
      write_file(dir .. "/time.csv", "time,x.0\n0,1\n0.1,2\n")
      status, _, err = sonify(q(dir .. "/time.csv") .. " -o " .. q(dir .. "/time.wav"))
      assert.equals(1, status)
      assert.matches("neuromass: sonify: '[^']*time%.csv' does not look like a neuromass CSV %(its first " ..
                     "column is 'time', expected 't'%)\n", err)
      -- (an exploration's table said "does not look like a neuromass CSV", as neuromass plot's did)
      write_file(dir .. "/results.csv", "point,K_gl,seed,m,status\n1,0.1,7,2,ok\n")
      status, _, err = sonify(q(dir .. "/results.csv") .. " -o " .. q(dir .. "/results.wav"))
      assert.equals(1, status)
      assert.matches("'[^']*results%.csv' is an exploration's results table %(columns point, %.%.%., status%), " ..
                     "not a run's CSV: sonify a point's own run, which a BoxSearch with save = { \"csv\" } writes " ..
                     "as points/<i>/result%.csv in its folder", err)
      assert.is_false(exists(dir .. "/bold.wav") or exists(dir .. "/time.wav") or exists(dir .. "/results.wav"))
    end)

    it("refuses outputs that are one file, before writing anything", function()
      local model = tones(1)
      local msg = err_of(function()
        model:run { duration = 100, dt = 0.1, output = { csv = dir .. "/o.wav", audio = dir .. "/o.wav" } }
      end)
      assert.matches("audio_spec%.lua:%d+: run: output%.audio '.*/o%.wav' is also output%.csv", msg)
      assert.is_false(exists(dir .. "/o.wav"))
      -- the same file by another spelling
      msg = err_of(function()
        model:run { duration = 100, dt = 0.1, output = { csv = dir .. "/o.csv",
                                                         audio = { path = dir .. "/./o.wav",
                                                                   sidecar = dir .. "/../" ..
                                                                     dir:match("[^/]+$") .. "/o.csv" } } }
      end)
      assert.matches("run: output%.audio's sidecar '.*o%.csv' is also output%.csv", msg)
      local res = model:run { duration = 100, dt = 0.1, record = { "x" } }
      msg = err_of(function() res:write_audio(dir .. "/s.wav", { sidecar = dir .. "/s.wav" }) end)
      assert.matches("audio_spec%.lua:%d+: write_audio: the audio's sidecar '.*/s%.wav' is also another output", msg)
      assert.is_false(exists(dir .. "/o.csv") or exists(dir .. "/s.wav"))
      -- sonify: the output, or its sidecar, is the input CSV
      res:write_csv(dir .. "/in.csv")
      local status, _, err = sonify(q(dir .. "/in.csv") .. " -o " .. q(dir .. "/x.wav") .. " --sidecar " ..
                                    q(dir .. "/in.csv"))
      assert.are_not.equal(0, status)
      assert.matches("sonify: the output's sidecar '.*/in%.csv' is the input CSV", err)
      assert.is_false(exists(dir .. "/x.wav"))
      assert.are.equal(1000, h.read_csv(dir .. "/in.csv").rows)
    end)

    it("refuses an output that is the running script", function()
      local script = dir .. "/self.lua"
      write_file(script, "local nm = require 'neuromass'\n" ..
                 "local m = nm.model(nm.node { masses = { nm.mass { label = 'M', state = { x = 0 }, " ..
                 "derivatives = function() return { x = 1 } end }() } })\n" ..
                 "m:run { duration = 1, dt = 0.1 }:write_csv(arg[0])\n")
      local status, _, err = h.sh(q(h.exe) .. " run " .. q(script))
      assert.are_not.equal(0, status)
      assert.matches("self%.lua:3: write_csv: '.*self%.lua' is the running script", err)
      local f = assert(io.open(script))
      assert.matches("^local nm", f:read("a"))
      f:close()
    end)

    it("refuses an unusable --out before integrating", function()
      write_file(dir .. "/afile", "")
      local script = dir .. "/boom_out.lua"
      write_file(script, "local nm = require 'neuromass'\n" ..
                 "local B = nm.mass { label = 'B', state = { x = 1 }, derivatives = function(s) " ..
                 "return { x = s.x * s.x } end }\n" ..
                 "nm.model(nm.node { masses = { B() } }):run { duration = 100, dt = 0.1, " ..
                 "output = { audio = 'a.wav' } }\n")
      local status, _, err = h.sh(q(h.exe) .. " run " .. q(script) .. " --out " .. q(dir .. "/afile"))
      assert.are_not.equal(0, status)
      assert.matches("%-%-out needs a directory, got '.*/afile': a file", err)
      assert.is_nil(err:find("NaN"))
    end)

    it("refuses a NaN pan position or coordinate, naming the node and the value", function()
      local res = tones(2):run { duration = 200, dt = 0.1, record = { "x" } }
      local msg = err_of(function() res:write_audio(dir .. "/p.wav", { pan = { 0 / 0, 1 } }) end)
      assert.matches("audio_spec%.lua:%d+: write_audio: pan: node 0 needs a position in %[%-1, 1%] .*got %-?nan", msg)
      local regions = { coords = { { 0 / 0, 0, 0 }, { 1, 0, 0 } } }
      msg = err_of(function() res:write_audio(dir .. "/p.wav", { pan = "position", regions = regions }) end)
      assert.matches("audio_spec%.lua:%d+: write_audio: regions: node 0's x coordinate is %-?nan", msg)
      regions.coords[1][1] = math.huge
      msg = err_of(function() res:write_audio(dir .. "/p.wav", { pan = "position", regions = regions }) end)
      assert.matches("node 0's x coordinate is inf", msg)
      assert.is_false(exists(dir .. "/p.wav"))
    end)

    it("takes a fade of 1e300 s (no overflow) and refuses a skip beyond counting", function()
      local res = tones(1):run { duration = 500, dt = 0.1, record = { "x" } }
      local path, rep = res:write_audio(dir .. "/f.wav", { fade = 1e300, speedup = 10 })
      assert.are.equal(math.floor(0.5 / 10 * 44100 + 0.5), core.audio_read(path).frames)
      assert.are.equal(rep.frames, core.audio_read(path).frames)
      res:write_csv(dir .. "/f.csv")
      local status, _, err = sonify(q(dir .. "/f.csv") .. " -o " .. q(dir .. "/g.wav") .. " --skip 1e300")
      assert.are_not.equal(0, status)
      assert.matches("%-%-skip = 1e%+300 ms is .* samples of 0%.1 ms, more than can be counted", err)
    end)

    it("a failed run keeps its audio as <stem>.partial.wav with its sidecar <stem>.partial.wav.json, and says where", function()
      local Boom = nm.mass { label = "Boom", state = { x = 1 },
                             derivatives = function(s) return { x = s.x * s.x } end }
      local msg = err_of(function()
        nm.model(nm.node { masses = { Boom() } }):run { duration = 100, dt = 0.001,
                                                         output = { audio = { path = dir .. "/beta.wav",
                                                                              speedup = 1 } } }
      end)
      assert.matches("audio_spec%.lua:%d+: run: the simulation produced a NaN.*; kept what was done in " ..
                     "'.*/beta%.partial%.wav', '.*/beta%.partial%.wav%.json'", msg)
      assert.is_false(exists(dir .. "/beta.wav") or exists(dir .. "/beta.wav.json"))
      assert.is_false(exists(dir .. "/beta.wav.partial.json"))
      local info = core.audio_read(dir .. "/beta.partial.wav")
      assert.is_true(info.frames > 0)
      local f = assert(io.open(dir .. "/beta.partial.wav.json"))   -- the sidecar of X is X.json
      local text = f:read("a")
      f:close()
      assert.matches('"partial": true', text)
      assert.matches('"file": "beta.partial.wav"', text)
    end)

    it("names the temporary file of audio for stdout when $TMPDIR cannot take it", function()
      -- Before: "cannot write '-': No such file or directory", as if "-" were the missing file.
      local res = tones(1):run { duration = 200, dt = 0.1, record = { "x" } }
      res:write_csv(dir .. "/tmpdir.csv")
      local env = "TMPDIR=" .. q(dir .. "/none") .. " "
      local status, out, err = h.sh(env .. q(h.exe) .. " sonify " .. q(dir .. "/tmpdir.csv") .. " -o -")
      assert.are.equal(1, status)
      assert.are.equal("", out)
      assert.matches("^neuromass: sonify: cannot write '%-': its temporary file '[^']*/none/neuromass%-stdout%.tmp%-%d+%.[^']+' " ..
                     "%(in %$TMPDIR%): No such file or directory\n$", err)
    end)

    it("writes the audio and its sidecar together or not at all", function()
      local res = tones(1):run { duration = 200, dt = 0.1, record = { "x" } }
      assert(os.execute("mkdir " .. q(core.temp_name(dir .. "/t.wav.json"))))   -- the sidecar cannot be written
      local msg = err_of(function() res:write_audio(dir .. "/t.wav") end)
      assert.matches("write_audio: cannot write '.*/t%.wav%.json'", msg)
      assert.is_false(exists(dir .. "/t.wav"))
      local _, listing = h.sh("ls -A " .. q(dir))
      assert.is_nil(listing:find("t%.wav%.tmp"), listing)
    end)

    it("a run's CSV and audio appear together: when the audio cannot be finished the CSV is partial", function()
      assert(os.execute("mkdir " .. q(core.temp_name(dir .. "/u.wav.json"))))
      -- a file already under the final name: the failed run never writes there
      write_file(dir .. "/u.csv", "the previous run\n")
      local msg = err_of(function()
        tones(1):run { duration = 200, dt = 0.1, output = { csv = dir .. "/u.csv", audio = dir .. "/u.wav" } }
      end)
      assert.matches("audio_spec%.lua:%d+: run: output%.audio: cannot write '.*/u%.wav%.json'.*; kept what " ..
                     "was done in '.*/u%.partial%.csv'", msg)
      local f = assert(io.open(dir .. "/u.csv"))
      assert.are.equal("the previous run\n", f:read("a"))
      f:close()
      assert.is_false(exists(dir .. "/u.wav"))
      assert.are.equal(2000, h.read_csv(dir .. "/u.partial.csv").rows)
      local _, listing = h.sh("ls -A " .. q(dir))
      assert.is_nil(listing:find("u%.csv%.tmp") or listing:find("u%.wav%.tmp"), listing)
      -- and when it can, the CSV, the audio and the sidecar are all in place
      os.execute("rmdir " .. q(core.temp_name(dir .. "/u.wav.json")))
      tones(1):run { duration = 200, dt = 0.1, output = { csv = dir .. "/u.csv", audio = dir .. "/u.wav" } }
      assert.are.equal(2000, h.read_csv(dir .. "/u.csv").rows)
      assert.is_true(exists(dir .. "/u.wav") and exists(dir .. "/u.wav.json"))
    end)

    it("a run's BOLD CSV appears with its audio too: partial when the audio cannot be finished", function()
      -- Before: bold.csv was renamed into place as the integration ended, so a run that failed
      -- (or was stopped) while its audio was rendered left bold.csv final beside w.partial.csv.
      assert(os.execute("mkdir " .. q(core.temp_name(dir .. "/w.wav.json"))))
      write_file(dir .. "/wb.csv", "the previous run\n")
      local function run()
        tones(2):run { duration = 4000, dt = 0.1, bold = { variable = "x" },
                              output = { csv = dir .. "/w.csv", bold = dir .. "/wb.csv", audio = dir .. "/w.wav" } }
      end
      local msg = err_of(run)
      assert.matches("audio_spec%.lua:%d+: run: output%.audio: cannot write '.*/w%.wav%.json'.*; kept what " ..
                     "was done in '.*/w%.partial%.csv', '.*/wb%.partial%.csv'$", msg)
      assert.are.equal("the previous run\n", h.read(dir .. "/wb.csv"))
      assert.are.equal(2, h.read_csv(dir .. "/wb.partial.csv").rows)
      assert.is_false(exists(dir .. "/w.csv") or exists(dir .. "/w.wav"))
      local _, listing = h.sh("ls -A " .. q(dir))
      assert.is_nil(listing:find("w%.csv%.tmp") or listing:find("wb%.csv%.tmp") or listing:find("w%.wav%.tmp"), listing)
      -- without output.csv, the BOLD CSV waits for the audio all the same
      msg = err_of(function()
        tones(2):run { duration = 4000, dt = 0.1, bold = { variable = "x" }, record = {},
                       output = { bold = dir .. "/wb.csv", audio = dir .. "/w.wav" } }
      end)
      assert.matches("; kept what was done in '.*/wb%.partial%.csv'$", msg)
      assert.are.equal("the previous run\n", h.read(dir .. "/wb.csv"))
      os.execute("rmdir " .. q(core.temp_name(dir .. "/w.wav.json")))
      run()
      assert.are.equal(2, h.read_csv(dir .. "/wb.csv").rows)
      assert.is_true(exists(dir .. "/w.csv") and exists(dir .. "/w.wav") and exists(dir .. "/w.wav.json"))
    end)

    it("a run's CSV that cannot be put in place takes its audio and sidecar back, and is kept as partial", function()
      -- a slow mass puts a directory where the CSV goes, after the outputs were checked
      local made = false
      local Maker = nm.mass { label = "Maker", state = { x = 0 }, slow = true,
                              derivatives = function()
                                if not made then
                                  made = os.execute("mkdir " .. q(dir .. "/v.csv") .. " && touch " ..
                                                    q(dir .. "/v.csv/in_the_way"))
                                end
                                return { x = 1 }
                              end }
      local msg = err_of(function()
        nm.model(nm.node { masses = { Maker() } }):run {
          duration = 20, dt = 0.1, output = { csv = dir .. "/v.csv", audio = dir .. "/v.wav" } }
      end)
      assert.is_true(made)
      assert.matches("audio_spec%.lua:%d+: run: output%.csv: cannot write '.*/v%.csv': renaming: .* %(the " ..
                     "complete rows written are kept in '.*/v%.partial%.csv'%) %(so '.*/v%.wav' was not kept " ..
                     "either%)$", msg)   -- (before: then "; the CSV's rows (complete) were not kept as ...")
      assert.is_false(exists(dir .. "/v.wav") or exists(dir .. "/v.wav.json"))
      assert.are.equal(200, h.read_csv(dir .. "/v.partial.csv").rows)
    end)

    it("writes WAVE_FORMAT_EXTENSIBLE for 3 channels or 24 bits, plain WAV for 16-bit stereo", function()
      local res = tones(3):run { duration = 300, dt = 0.1, record = { "x" } }
      local _, rep = res:write_audio(dir .. "/c3.wav", { layout = "multichannel" })
      assert.are.equal("wavex", core.audio_read(dir .. "/c3.wav").container)
      assert.are.equal("wavex", rep.container)
      res:write_audio(dir .. "/c1.wav", { layout = "mono", bits = 24 })
      assert.are.equal("wavex", core.audio_read(dir .. "/c1.wav").container)
      res:write_audio(dir .. "/c2.wav", { layout = "stereo" })
      assert.are.equal("wav", core.audio_read(dir .. "/c2.wav").container)
    end)

    it("refuses, with the size, audio of a result that could never fit", function()
      local res = tones(1):run { duration = 100, dt = 0.1, record = { "x" } }
      local msg = err_of(function() res:write_audio(dir .. "/huge.wav", { speedup = 1e-8 }) end)
      assert.matches("audio_spec%.lua:%d+: write_audio: 1000 input rows make 4%.41e%+11 audio frames: " ..
                     "[%d.e+]+ GB on disk %(the spool of 1 signals and the file%), but '.*' has [%d.e+]+ GB free",
                     msg)
      assert.is_false(exists(dir .. "/huge.wav"))
    end)

    it("sonify counts the CSV's rows first: a skip beyond them or audio that could never fit is refused up front", function()
      local rows = { "t,x.0" }
      for i = 0, 999 do rows[#rows + 1] = string.format("%g,%g", i * 0.1, math.sin(i)) end
      write_file(dir .. "/len.csv", table.concat(rows, "\n") .. "\n\n")   -- a blank line is no row
      local status, _, err = sonify(q(dir .. "/len.csv") .. " -o " .. q(dir .. "/len.wav") .. " --skip 100")
      assert.are_not.equal(0, status)
      assert.matches("sonify: %-%-skip = 100 ms leaves nothing of 100 ms", err)
      status, _, err = sonify(q(dir .. "/len.csv") .. " -o " .. q(dir .. "/len.wav") .. " --skip 100.0000001")
      assert.are_not.equal(0, status)
      assert.matches("sonify: %-%-skip = 100%.0000001 ms leaves nothing of 100 ms", err)   -- (%g: "100 ms")
      -- (the file size is capped: had it started writing, it would stop at 50 MB)
      status, _, err = h.sh("ulimit -f 100000; " .. q(h.exe) .. " sonify " .. q(dir .. "/len.csv") .. " -o " ..
                            q(dir .. "/len.wav") .. " --speedup 1e-8")
      assert.are_not.equal(0, status)
      assert.matches("sonify: 1000 input rows make 4%.41e%+11 audio frames: [%d.e+]+ GB on disk %(the spool " ..
                     "of 1 signals and the file%), but '.*' has [%d.e+]+ GB free", err)
      local _, listing = h.sh("ls -A " .. q(dir))
      assert.is_nil(listing:find("len%.wav"), listing)
    end)

    it("sonify stops between chunks of rows on SIGTERM: exit 143, where it stopped, no file left", function()
      local csv, out = dir .. "/sig.csv", dir .. "/sig.wav"
      assert(os.execute("awk 'BEGIN { print \"t,x.0\"; for (i = 0; i < 4000000; i++) " ..
                        "printf \"%.1f,%.6f\\n\", i * 0.1, sin(i * 0.01) }' > " .. q(csv)))
      -- the signal comes once the output's temporary file exists (the rows are being fed:
      -- 4 s of them here)
      local script = q(h.exe) .. " sonify " .. q(csv) .. " -o " .. q(out) .. " & p=$!; " ..
                     "while [ -z \"$(ls " .. q(dir) .. " | grep 'sig.wav.tmp')\" ]; do sleep 0.02; done; sleep 0.2; " ..
                     "kill -TERM $p; wait $p"
      local status, _, err = h.sh("sh -c " .. q(script))
      assert.are.equal(143, status)
      local line = tonumber(err:match("sonify: .*sig%.csv: interrupted by SIGTERM after line (%d+) %(nothing was written%)"))
      assert.is_truthy(line, err)
      assert.is_true(line < 4000001, "stopped before the end")
      local _, listing = h.sh("ls -A " .. q(dir))
      assert.is_nil(listing:find("sig%.wav"), listing)
      os.remove(csv)
    end)

    it("refuses up front, with the size, a CSV of 10^6 signals it could not hold (in < 400 MB)", function()
      local n = 1000000
      local f = assert(io.open(dir .. "/wide.csv", "w"))
      local head, r1, r2 = { "t" }, { "0" }, { "0.1" }
      for i = 0, n - 1 do head[#head + 1] = "x." .. i; r1[#r1 + 1] = "0"; r2[#r2 + 1] = "1" end
      f:write(table.concat(head, ","), "\n", table.concat(r1, ","), "\n", table.concat(r2, ","), "\n")
      f:close()
      head, r1, r2 = nil, nil, nil      -- luacheck: ignore (frees the big rows before the run)
      -- The refusal must come before anything is built per column: the command
      -- runs with its address space capped (not under ASan, whose shadow memory
      -- needs more); building the columns' tables first took 700 MB.
      local cap = h.ASAN and "" or "ulimit -v 400000; "
      local status, _, err = h.sh(cap .. q(h.exe) .. " sonify " .. q(dir .. "/wide.csv") .. " -o " ..
                                  q(dir .. "/wide.wav"))
      assert.are_not.equal(0, status)
      assert.matches("sonify: sonifying 1000000 signals into 2 channels .* needs [%d.]+ GB of working " ..
                     "memory %(the limit is [%d.]+ GB%)", err)
      assert.is_false(exists(dir .. "/wide.wav"))
      os.remove(dir .. "/wide.csv")
    end)
  end)
end)
