--- The JSON sidecar of a sonification: what the file holds (format, source,
-- resampler, conditioning, mapping, channel map with each signal's gain and
-- region, warnings), and the one rule for its default name.
local json = require "neuromass.json"
local core = require "neuromass.core"
local formats = require "neuromass.audio.formats"

local ipairs = ipairs
local ordered = json.ordered

local M = {}

--- sidecar.name(path): the sidecar of X is X.json (that of the partial file
-- big.partial.wav is big.partial.wav.json).
function M.name(path) return path .. ".json" end

--- sidecar.audio_of(path) -> the audio file whose default sidecar `path` is
-- (X for X.json, X an audio file's name: 'b.wav' for 'b.wav.json', '.WAV'
-- too), or nil: outputs.lua refuses such a name for another output, which
-- would replace a sidecar, or be replaced by one, under a name that says JSON.
function M.audio_of(path)
  local audio, ext = path:match("^(.*[^/]%.(%w+))%.[jJ][sS][oO][nN]$")
  if audio and formats.container[ext:lower()] then return audio end
  return nil
end

--- sidecar.write(path, c, p, rep, partial, sidecar): writes the sidecar of
-- the audio file `path` under the temporary name of `sidecar` (the engine's
-- one way, core.write_temp); returns the pending file (write.finish commits
-- it once the audio is in place, or discards it) or nil, error.
function M.write(path, c, p, rep, partial, sidecar)
  local channels = {}
  for ch, desc in ipairs(p.channels) do
    channels[ch] = ordered({ index = ch - 1, name = desc.name, inputs = {} },
                           { "index", "name", "inputs" })
  end
  for _, r in ipairs(c.routes) do
    local k = r[2] + 1
    local inp = p.inputs[k]
    local gain = r[3] * rep.gain * rep.input_gains[k]      -- 1 when the engine premixed
    local e = ordered({ column = inp.name, variable = inp.var, node = inp.node, weight = r[3],
                        gain = gain, pan = p.pans and p.pans[k] or nil,
                        carrier_hz = c.carrier and c.carrier[k] or nil },
                      { "column", "variable", "node", "region", "hemisphere", "pan", "weight",
                        "carrier_hz", "gain" })
    if p.regions then
      e.region = p.regions.names and p.regions.names[inp.node + 1]
      e.hemisphere = p.regions.hemisphere and p.regions.hemisphere[inp.node + 1]
    end
    local list = channels[r[1] + 1].inputs
    list[#list + 1] = e
  end
  local doc = ordered({
    file = path:match("[^/]*$"), partial = partial or nil, format = c.container,
    container = rep.container, encoding = c.container == "ogg" and "vorbis"
    or c.encoding, rate = c.rate, channels = c.n_out, frames = rep.frames,
    duration_s = rep.frames / c.rate, mode = c.mode, speedup = c.speedup, layout = p.layout,
    pan = p.channels.pan,
    source = ordered({ kind = p.src.kind, file = p.src.file, interval_ms = p.interval,
                       rate_hz = c.in_rate, dt_ms = p.src.dt, samples = rep.samples_in,
                       skip_ms = p.skip_ms, simulated_ms = rep.samples_in * p.interval },
                     { "kind", "file", "interval_ms", "rate_hz", "dt_ms", "skip_ms", "samples",
                       "simulated_ms" }),
    resampler = ordered({ library = "libsamplerate", converter = "sinc " .. c.quality,
                          ratio = rep.ratio, stages = rep.stages,
                          fir_decimation = rep.decimation > 1 and rep.decimation or nil },
                        { "library", "converter", "ratio", "fir_decimation", "stages" }),
    conditioning = ordered({ dc = c.mode == "audify" and c.dc or nil,
                             highpass_hz = c.mode == "audify" and c.highpass or nil,
                             normalize = c.normalize, headroom_db = c.headroom,
                             fade_in_s = rep.fade_in / c.rate, fade_out_s = rep.fade_out / c.rate,
                             file_gain = rep.gain, peak_before_gain = rep.peak,
                             limiter_reduction_db = rep.limited_db },
                           { "dc", "highpass_hz", "normalize", "headroom_db", "fade_in_s",
                             "fade_out_s", "file_gain", "peak_before_gain",
                             "limiter_reduction_db" }),
    mapping = c.mode == "mapping" and ordered({ drive = c.drive,
                                                pitch_hz = c.pitch_hi > 0 and { c.pitch_lo, c.pitch_hi } or nil,
                                                envelope_hz = c.envelope > 0 and c.envelope or false },
                                              { "drive", "pitch_hz", "envelope_hz" }) or nil,
    channel_map = channels,
    warnings = p.warnings,
  }, { "file", "partial", "format", "container", "encoding", "rate", "channels", "frames", "duration_s", "mode",
       "speedup", "layout", "pan", "source", "resampler", "conditioning", "mapping",
       "channel_map", "warnings" })
  return core.write_temp(sidecar, json.encode(doc) .. "\n")
end

return M
