--- The options of a sonification, planned once: every option of
-- res:write_audio, run{ output = { audio = ... } } and `neuromass sonify` is
-- checked and given its default here, and turned into the engine's options
-- (`c`, which core.audio_writer reads as they are) and the plan of the file
-- (`p`: the chosen signals, channels, pans, warnings, sidecar).
local core = require "neuromass.core"
local outputs = require "neuromass.outputs"
local check = require "neuromass._check"
local acheck = require "neuromass.audio.check"
local select = require "neuromass.audio.select"
local pan = require "neuromass.audio.pan"
local sidecar_of = require("neuromass.audio.sidecar").name

local type, ipairs, string, math = type, ipairs, string, math
local fail, one_of, positive, non_negative, below_nyquist =
      acheck.fail, acheck.one_of, acheck.positive, acheck.non_negative, acheck.below_nyquist

local M = {}

local fields = {
  variable = true, nodes = true, column = true, mode = true, speedup = true, map = true,
  rate = true, bits = true, layout = true, pan = true, regions = true, skip = true, dc = true,
  highpass = true, normalize = true, headroom = true, gain = true, fade = true,
  quality = true, drive = true, carrier = true, pitch = true, envelope = true, sidecar = true,
}
-- The options of which false is a value (off); any other given false would
-- read as its default (`opts.rate or 44100`): refused (check.not_false).
local takes_false = { normalize = true, dc = true, fade = true, highpass = true, envelope = true, sidecar = true }
local rates = { lo = 8000, hi = 192000 }      -- any whole number of Hz in between
-- (a streamed run that records no row is refused before this, by run/plan.lua)
local empty_source = { result = "the result holds no rows", csv = "the CSV holds no rows" }
local formats = require "neuromass.audio.formats"
local extensions, max_channels = formats.container, formats.max_channels

-- Audio above this is inaudible (the upper limit of human hearing): a
-- recording that cannot fill the audio band only up there is not warned of.
local AUDIBLE_HZ = 20000

-- v rounded down (up) to three significant digits, for advice that must hold.
local function down3(v)
  local e = 10 ^ (math.floor(math.log(v, 10)) - 2)
  return math.floor(v / e + 1e-9) * e
end
local function up3(v)
  local e = 10 ^ (math.floor(math.log(v, 10)) - 2)
  return math.ceil(v / e - 1e-9) * e
end
local function short(v) return check.number(tonumber(string.format("%.3g", v))) end

-- coverage_warning(rate, k, interval, src) -> warning | nil, for audify.
-- The audio at speed-up k shows simulated frequencies up to rate / (2 k); a
-- recording every `interval` ms carries them up to 1000 / (2 interval) Hz.
-- Warned of when what it cannot carry reaches below AUDIBLE_HZ of audio;
-- the advice is one the user can follow: a sampling_dt that is a whole
-- multiple of the run's dt (when known), else the speed-up that is needed.
local function coverage_warning(rate, k, interval, src)
  local in_rate = 1000 / interval
  local top = math.min(rate / 2, AUDIBLE_HZ)          -- the audio worth filling (Hz)
  local carried = in_rate / 2 * k                     -- the audio the recording fills (Hz)
  if carried >= top * (1 - 1e-9) then return nil end
  local decimated = src.dt and interval > src.dt * (1 + 1e-9)
  if src.dt and not decimated then return nil end     -- every step recorded: nothing more to have
  local max_sdt = 1000 * k / (2 * top)                -- the coarsest recording that fills it (ms)
  local min_k = short(up3(2 * top / in_rate))
  local stream = ", or stream the audio while integrating: run{ output = { audio = {...} } }"
  local speedup = string.format(", or use a speed-up of at least %s", min_k)
  local fix
  if src.kind == "csv" then
    fix = string.format("re-record the CSV at sampling_dt <= %s ms (a whole multiple of the run's dt), or " ..
                        "give --speedup %s or more", short(down3(max_sdt)), min_k)
  elseif not src.dt then
    fix = string.format("record at sampling_dt <= %s ms (a whole multiple of dt)%s%s", short(down3(max_sdt)),
                        stream, speedup)
  else
    local steps = math.floor(max_sdt / src.dt + 1e-9)
    if steps >= 1 then
      fix = string.format("record at sampling_dt = %s ms (%s) or finer%s%s", check.time(steps * src.dt),
                          steps == 1 and "dt itself" or string.format("%d steps of dt = %s ms", steps,
                          check.number(src.dt)), stream, speedup)
    else
      fix = string.format("no sampling_dt can (even every step, dt = %s ms, is too coarse): use a speed-up " ..
                          "of at least %s", check.number(src.dt), short(up3(2 * top * src.dt / 1000)))
    end
  end
  local lead = string.format("the recording (every %s ms, %s Hz) carries simulated activity up to %s Hz, " ..
                             "which speed-up %s puts at %s Hz of audio, short of %s Hz (%s)",
                             check.number(interval), short(in_rate), short(in_rate / 2),
                             check.number(k), short(carried), check.number(top),
                             top == AUDIBLE_HZ and "the limit of hearing" or "half the audio rate")
  if decimated then
    return string.format("%s; sampling_dt > dt decimated it without a filter, so simulated activity above %s Hz " ..
                         "has folded into it; %s", lead, short(in_rate / 2), fix)
  end
  return string.format("%s; if the run recorded at a sampling_dt coarser than dt, faster activity has folded " ..
                       "into it; %s", lead, fix)
end

--- plan.plan(what, level, path, opts, src) -> c, p.  Checks `opts` against a
-- source and returns the engine's options and a plan.
-- src = { cols = { {name, var, node, col} ... } or candidates = (see candidates_of),
--         interval = ms between samples,
--         dt = ms of the integration step when known, samples = count when known,
--         n_nodes = the model's nodes when known,
--         kind = "result" | "run" | "csv" }
function M.plan(what, level, path, opts, src)
  if type(path) ~= "string" or path == "" then
    fail(what, level, "expected a file name (.wav, .flac or .ogg), got " .. check.show(path))
  end
  opts = opts or {}
  check.fields(opts, fields, what, level + 1)
  check.not_false(opts, takes_false, what, level + 1)
  local ext = path:match("%.([%w]+)$")
  local container = outputs.is_stdout(path) and "wav" or ext and extensions[ext:lower()]
  if not container then
    local bad_name = outputs.name_problem(path, "wav")   -- ('q/': a directory, rather than no format)
    if bad_name then fail(what, level, "'%s'%s", path, bad_name) end
    fail(what, level, "cannot tell the format of '%s' (use .wav, .flac or .ogg)", path)
  end
  local mode = one_of(what, level + 1, "mode", opts.mode, "audify")
  local k
  if opts.map ~= nil then
    local m = opts.map
    if opts.speedup ~= nil then
      fail(what, level, "'speedup' and 'map' both set the speed-up ('map' = { from = Hz, to = Hz } is " ..
           "speedup = to / from): give one of them")
    end
    if mode ~= "audify" then
      local ok = type(m) == "table" and check.finite(m.from) and check.finite(m.to) and m.from > 0 and m.to > 0
      local speedup = ok and check.number(m.to / m.from) or "to / from"
      fail(what, level, "'map' and mode = \"mapping\" clash: 'map' = { from = Hz, to = Hz } sets the speed-up " ..
           "of mode = \"audify\" (%s), where the signal is the waveform; with mode = \"mapping\" the signals " ..
           "drive carriers ('drive', 'carrier', 'pitch', 'envelope') and time runs 'speedup' times faster " ..
           "(default 1): give speedup = %s instead of 'map', or drop mode = \"mapping\" to audify",
           ok and "to / from = " .. speedup or "to / from", speedup)
    end
    if type(m) ~= "table" then fail(what, level, "'map' must be { from = Hz, to = Hz }") end
    check.fields(m, { from = true, to = true }, what .. ": map", level + 1)
    k = positive(what, level + 1, "map.to", m.to) / positive(what, level + 1, "map.from", m.from)
  elseif opts.speedup ~= nil then
    k = positive(what, level + 1, "speedup", opts.speedup)
  else
    k = mode == "audify" and 40 or 1
  end
  local rate = opts.rate or 44100
  local whole = type(rate) == "number" and rate == math.floor(rate)
  if not (whole and rate >= rates.lo and rate <= rates.hi) then
    fail(what, level, "'rate' must be a whole number of Hz from %d to %d (such as 44100, 48000 or " ..
         "96000), got %s", rates.lo, rates.hi, check.show(rate))
  end
  rate = math.tointeger(rate)
  if opts.map ~= nil then below_nyquist(what, level + 1, "map.to", opts.map.to, rate) end
  -- Vorbis codes no samples of a depth: a 'bits' there would go unused.
  if container == "ogg" and opts.bits ~= nil then
    fail(what, level, "'bits' = %s applies to WAV and FLAC: Ogg Vorbis ('%s') stores no bit depth; " ..
         "leave 'bits' out, or use .wav or .flac", check.show(opts.bits), path)
  end
  local bits = opts.bits or 16
  local encoding = bits == 16 and "pcm16" or bits == 24 and "pcm24"
                   or (bits == "float" or bits == 32) and "float" or nil
  if not encoding then fail(what, level, "'bits' must be 16, 24 or \"float\" (got %s)", check.show(bits)) end
  if container == "flac" and encoding == "float" then
    fail(what, level, "FLAC stores 16- or 24-bit samples; use .wav for float")
  end
  -- A run's audio to stdout ("-") streams while the run runs (a WAV to
  -- `| aplay`): its levels cannot wait for the end, so by default it is not
  -- normalised (normalize = "none": the signal times 'gain') and keeps its
  -- mean (dc = false); asked to normalise or remove the mean, it is written
  -- once complete instead.
  local live = outputs.is_stdout(path) and src.kind == "run"
  local normalize = opts.normalize
  if normalize == false then normalize = "none" end
  normalize = one_of(what, level + 1, "normalize", normalize, live and "none" or "peak")
  local dc = opts.dc ~= false
  if opts.dc == nil and live then dc = false end
  if opts.gain ~= nil and normalize ~= "none" then
    fail(what, level, "'gain' applies with normalize = \"none\"; normalize = \"%s\"%s sets the level " ..
         "itself: add normalize = \"none\" to set it by 'gain', or drop 'gain'", normalize,
         opts.normalize == nil and " (the default)" or "")
  end
  local fade_in, fade_out = 0.01, 0.01
  if type(opts.fade) == "table" then
    fade_in = non_negative(what, level + 1, "fade[1]", opts.fade[1] or opts.fade["in"])
    fade_out = non_negative(what, level + 1, "fade[2]", opts.fade[2] or opts.fade.out)
  elseif opts.fade ~= nil then
    fade_in = non_negative(what, level + 1, "fade", opts.fade == false and 0 or opts.fade)
    fade_out = fade_in
  end
  local highpass = opts.highpass
  if highpass == nil then highpass = 0 end   -- the mean is removed anyway (dc)
  if highpass == false then highpass = 0 end
  non_negative(what, level + 1, "highpass", highpass)
  below_nyquist(what, level + 1, "highpass", highpass, rate)
  local interval = src.interval
  local in_rate = 1000 / interval
  local skip = non_negative(what, level + 1, "skip", opts.skip or 0)
  local skip_n = math.floor(skip / interval + 0.5)
  if skip_n > 2 ^ 53 then
    fail(what, level, "'skip' = %s ms is %.4g samples of %s ms, more than can be counted", check.number(skip),
         skip_n, check.number(interval))
  end
  skip_n = math.tointeger(skip_n)
  if src.samples == 0 then fail(what, level, "%s: there is nothing to sonify", empty_source[src.kind]) end
  if src.samples and skip_n >= src.samples then
    fail(what, level, "'skip' = %s ms leaves nothing of %s ms", check.number(skip),
         check.number(src.samples * interval))
  end
  -- The selection is counted, and its channels and working memory checked,
  -- before anything is built per signal (a CSV may have 10^6 columns).
  local cand = src.candidates or select.candidates_of(src.cols)
  local chosen = select.select(what, level + 1, opts, cand)
  local n_in = #chosen
  local layout = one_of(what, level + 1, "layout", opts.layout, n_in == 1 and "mono" or "stereo")
  local n_out = layout == "mono" and 1 or layout == "stereo" and 2 or n_in
  if n_out > max_channels[container] then
    fail(what, level, "%s holds at most %d channels (this layout has %d); use .wav",
         container:upper(), max_channels[container], n_out)
  end
  local fits, why = core.audio_check_memory {
    mode = mode, normalize = normalize, rate = rate, in_rate = in_rate, speedup = k,
    n_in = n_in, n_out = n_out, n_routes = layout == "stereo" and 2 * n_in or n_in,   -- at most
  }
  if not fits then fail(what, level, "%s", why.message) end
  local inputs = {}
  for i, ci in ipairs(chosen) do inputs[i] = cand.entry(ci) end
  local routes, channels, pans, regions = pan.layout(what, level + 1, opts, inputs, layout, src)
  local c = {
    container = container, encoding = encoding, mode = mode, normalize = normalize,
    quality = one_of(what, level + 1, "quality", opts.quality, "medium"), rate = rate,
    in_rate = in_rate, speedup = k, n_in = #inputs, n_out = #channels, routes = routes,
    skip = skip_n, dc = dc, highpass = highpass,
    headroom = non_negative(what, level + 1, "headroom", opts.headroom or 1),
    gain = opts.gain ~= nil and positive(what, level + 1, "gain", opts.gain) or 1,
    fade_in = fade_in, fade_out = fade_out, expected = src.samples or 0, names = {},
    -- the engine reads every field (it has no defaults): these are its "none"
    -- (rf64_above 0: WAV turns RF64 past 4 GiB), set below for mapping
    rf64_above = 0, drive = "none", pitch_lo = 0, pitch_hi = 0, carrier = false, envelope = 0,
    stream = live and mode == "audify" and normalize == "none" and not dc,
  }
  for i, inp in ipairs(inputs) do c.names[i] = inp.name end
  local warnings = {}
  if mode == "mapping" then
    c.drive = one_of(what, level + 1, "drive", opts.drive, "amplitude")
    -- drive = "amplitude" plays each signal at its carrier; "pitch" and
    -- "both" set the tone from the signal within 'pitch': the other option
    -- would go unused, and is refused.
    local by_pitch = c.drive ~= "amplitude"
    local drive_text = string.format("drive = \"%s\"%s", c.drive, opts.drive == nil and " (the default)" or "")
    if opts.pitch ~= nil and not by_pitch then
      fail(what, level, "'pitch' is the range of the tone of drive = \"pitch\" or drive = \"both\"; with %s " ..
           "each signal plays at its 'carrier' and 'pitch' would go unused: add drive = \"pitch\" (or " ..
           "drive = \"both\"), or drop 'pitch'", drive_text)
    end
    if opts.carrier ~= nil and by_pitch then
      fail(what, level, "'carrier' is the fixed tone of drive = \"amplitude\"; with %s the signal sets " ..
           "the tone, within 'pitch', and 'carrier' would go unused: drop 'carrier', or use " ..
           "drive = \"amplitude\"", drive_text)
    end
    if by_pitch then
      local pitch = opts.pitch or { 220, 880 }
      if type(pitch) ~= "table" then fail(what, level, "'pitch' must be { low, high } in Hz") end
      for i, field in ipairs { "pitch_lo", "pitch_hi" } do
        local key = "pitch[" .. i .. "]"
        c[field] = below_nyquist(what, level + 1, key, positive(what, level + 1, key, pitch[i]), rate)
      end
      if not (c.pitch_lo < c.pitch_hi) then
        fail(what, level, "'pitch' = { %s, %s } must be { low, high } with low < high (Hz): the signal's " ..
             "lowest value plays at low, its highest at high", check.number(c.pitch_lo), check.number(c.pitch_hi))
      end
    else
      local carrier = opts.carrier
      if carrier == nil then
        carrier = {}
        for i = 1, #inputs do   -- spread over two octaves from 220 Hz (440 Hz for one signal)
          carrier[i] = #inputs == 1 and 440 or 220 * 4 ^ ((i - 1) / (#inputs - 1))
        end
      elseif type(carrier) == "number" then
        positive(what, level + 1, "carrier", carrier)
        local f = carrier
        carrier = {}
        for i = 1, #inputs do carrier[i] = f end
      elseif type(carrier) ~= "table" or #carrier ~= #inputs then
        fail(what, level, "'carrier' must be a frequency or one per signal (%d)", #inputs)
      end
      for i = 1, #inputs do
        positive(what, level + 1, "carrier", carrier[i])
        below_nyquist(what, level + 1, "carrier", carrier[i], rate)
      end
      c.carrier = carrier
    end
    local env = opts.envelope
    if env == true then env = 2 end
    if env ~= nil and env ~= false then
      positive(what, level + 1, "envelope", env)
      if env >= in_rate / 2 then
        fail(what, level, "'envelope' = %s Hz must be below %s Hz (half the signal's sampling rate)",
             check.number(env), check.number(in_rate / 2))
      end
      c.envelope = env
    end
  else
    for _, key in ipairs { "drive", "carrier", "pitch", "envelope" } do
      if opts[key] ~= nil then
        fail(what, level, "'%s' applies to mode = \"mapping\" (the signals driving carriers); this mode is " ..
             "\"audify\"%s, where the signal is the waveform: add mode = \"mapping\", or drop '%s'", key,
             opts.mode == nil and " (the default)" or "", key)
      end
    end
    local warning = coverage_warning(rate, k, interval, src)
    if warning then warnings[#warnings + 1] = warning end
  end
  local sidecar, sidecar_auto = opts.sidecar, opts.sidecar == nil or opts.sidecar == true
  if opts.sidecar == true and outputs.is_stdout(path) then
    fail(what, level, "sidecar = true: audio written to stdout ('-') has no file to put a sidecar " ..
         "beside; give 'sidecar' a path, or leave it out")
  end
  if sidecar_auto and outputs.is_stdout(path) then sidecar, sidecar_auto = false, false
  elseif sidecar_auto then sidecar = sidecar_of(path)
  elseif sidecar ~= false and type(sidecar) ~= "string" then
    fail(what, level, "'sidecar' must be true, false or a path")
  end
  return c, { inputs = inputs, layout = layout, channels = channels, pans = pans,
              regions = regions, warnings = warnings, sidecar = sidecar,
              sidecar_auto = sidecar_auto, skip_ms = skip, fade_given = opts.fade ~= nil,
              interval = interval, container = container, src = src }
end

return M
