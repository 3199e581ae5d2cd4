--- Sonification: listen to a run.  Does the work of `res:write_audio(path,
-- opts)` (declared in result.lua), serves `run{ output = { audio = {...} } }` (audio written while
-- integrating, from the full-rate signal) and the command `neuromass sonify`.
-- The work is done in C (src/engine/audio.c and the audio_*.c files); the
-- Lua side is one file per job (lua/neuromass/audio/):
--   check    the options' choices and the wording of refusals
--   plan     every option checked and defaulted once: the engine's options
--   select   which signals (variable/nodes, or the library's column globs)
--   pan      the channels: layout, panning, regions
--   sidecar  the JSON beside the file (json.lua writes it)
--   write    the writer opened and finished, the file and sidecar together
--   sonify   the command `neuromass sonify`
-- This file is the entry: a result's rows, the streamed audio of model:run,
-- and the command.
--
-- Options (all optional; docs/reference.md, res:write_audio):
--   variable = "x", nodes = {0, 3} | column = "x.1*"   which signals (default: the
--       first recorded variable, every node that has it)
--   mode = "audify" | "mapping"     audification (default) or parameter mapping
--   speedup = 40 | map = { from = 10, to = 440 }       audification: 10 Hz -> 400 Hz
--   rate = 44100 (any whole number of Hz from 8000 to 192000), bits = 16 | 24 | "float"; format by extension
--       (.wav, .flac, .ogg)
--   layout = "mono" | "stereo" | "multichannel"   (default: mono for one signal,
--       stereo otherwise); pan = "index" | "hemisphere" | "position" | {per node},
--       regions = a dataset (nm.datasets.load "hcp") or its name
--   skip = ms of transient dropped; dc = true (remove the mean); highpass = Hz of audio
--       (a 2nd-order Butterworth against slow drifts; default off)
--   normalize = "peak" | "rms" | "relative" | "none"; headroom = 1 (dB); gain (none)
--   fade = 0.01 (s) or { in, out }; quality = "fast" | "medium" | "best"
--   mapping: drive = "amplitude" | "pitch" | "both", carrier = Hz | {per signal},
--       pitch = { lo, hi } (Hz), envelope = Hz (band of the driving envelope) | true
--   sidecar = true | false | path      the JSON beside the file (default: path .. ".json";
--       none for "-", a WAV on stdout)
--
-- Every output (the file, its sidecar) is checked by outputs.lua before
-- anything is written; the file and its sidecar appear together.  A run that
-- fails keeps the frames it had as <stem>.partial.<ext>, with the sidecar of
-- that file (<stem>.partial.<ext>.json; a sidecar given by path: <its stem>.partial.json).
local core = require "neuromass.core"
local outputs = require "neuromass.outputs"
local plan = require("neuromass.audio.plan").plan
local select = require "neuromass.audio.select"
local write = require "neuromass.audio.write"
local fail = require("neuromass.audio.check").fail

local type, ipairs, pairs, table, pcall, require = type, ipairs, pairs, table, pcall, require

local M = {}

--- audio.write_result(res, path, opts, level) -> full path, report (frames,
-- duration, gain, warnings, ...): res:write_audio(path, opts), errors at
-- `level` (2: the caller of res:write_audio).  Streams the result's rows
-- through the C engine in chunks.  The file and its sidecar are checked
-- (outputs.lua) before anything is written, and appear together.
function M.write_result(res, path, opts, level)
  local what = "write_audio"
  if res.dry then
    local c, p = plan(what, level + 1, path, opts, { cols = select.columns_of(res.columns),
                                                     interval = res.sampling_dt, dt = res.dt,
                                                     kind = "result", n_nodes = #res.model.net.nodes })
    local full = outputs.resolve(path, level + 1)
    return full, write.dry_report(full, c, p)
  end
  if not res.data then   -- (result.lua owns the wording: record = {} or a streamed run)
    fail(what, level + 1, require("neuromass.result").no_data_reason(res) ..
         "; or stream audio with run{ output = { audio = {...} } }")
  end
  local rows = res.data:size()
  local c, p = plan(what, level + 1, path, opts, { cols = select.columns_of(res.columns),
                                                   interval = res.sampling_dt, dt = res.dt,
                                                   samples = rows, kind = "result",
                                                   n_nodes = #res.model.net.nodes })
  local full = outputs.resolve(path, level + 1)
  outputs.check(what, level + 1, write.files(nil, path, full, p, level + 1))
  local w <close> = write.open(what, level + 1, full, c)
  local cols = {}
  for k, inp in ipairs(p.inputs) do cols[k] = inp.col end
  local ok, err = w:feed_result(res.data, cols)
  if not ok then fail(what, level + 1, "%s", err.message) end
  return full, write.finish(what, level + 1, w, full, c, p)
end


--- For model:run, in two steps so that every output of the run is checked
-- before anything is opened: audio.stream_plan(model, spec, sim_dt, n_steps,
-- level) -> { outputs = {...} for outputs.check, open = function(level) ->
-- { writer, columns(record), finish(level[, commit_also]) -> report, abort_partial() ->
-- paths[, why] } }.  abort_partial (after a failed run) keeps the frames fed so far
-- as <stem>.partial.<ext> with its sidecar <stem>.partial.<ext>.json and
-- returns the paths kept; {} when there is nothing to keep (the audio went
-- to stdout), or {} and why when keeping failed (a full disk).
function M.stream_plan(model, spec, sim_dt, n_steps, level)
  local what = "run: output.audio"
  local path, opts = spec, {}
  if type(spec) == "table" then
    path, opts = spec.path or spec[1], {}
    for key, v in pairs(spec) do if key ~= "path" and key ~= 1 then opts[key] = v end end
  end
  if type(path) ~= "string" then fail(what, level, "needs a file name: audio = { path = \"x.wav\", ... }") end
  local order, nodes_of = model:variables()
  local cols = {}
  for _, var in ipairs(order) do
    for _, i in ipairs(nodes_of[var]) do
      cols[#cols + 1] = { name = var .. "." .. i, var = var, node = i, sig = model:signal(i, var) }
    end
  end
  if opts.variable == nil and opts.column == nil and model.default_record then
    opts.variable = type(model.default_record) == "string" and model.default_record
                    or model.default_record[1]
  end
  local c, p = plan(what, level + 1, path, opts, { cols = cols, interval = sim_dt, dt = sim_dt,
                                                   samples = n_steps, kind = "run",
                                                   n_nodes = #model.net.nodes })
  local full = outputs.resolve(path, level + 1)
  local files = write.files("output.audio", path, full, p, level + 1)
  return {
    outputs = files,
    -- the report of the file this plan would write, for a dry run (neuromass info)
    dry_report = function() return write.dry_report(full, c, p) end,
    open = function(lvl)
      local w = write.open(what, lvl + 1, full, c)
      local sigs = {}
      for k, inp in ipairs(p.inputs) do sigs[k] = inp.sig end
      return {
        writer = w,
        -- the run records `sigs` then the audio's signals; the writer reads the latter
        columns = function(record)
          local all, at = table.move(record, 1, #record, 1, {}), {}
          for k, sig in ipairs(sigs) do all[#all + 1] = sig; at[k] = #all end
          return all, at
        end,
        finish = function(l, commit_also) return write.finish(what, l + 1, w, full, c, p, nil, commit_also) end,
        abort_partial = function()
          if outputs.is_stdout(full) then w:close(); return {} end   -- nothing to keep
          -- (not stopped by the signal that stopped the run, if one did: core.keep_stopped)
          local ok, rep = pcall(core.keep_stopped, write.finish, what, 1, w, full, c, p, true)
          w:close()
          if not ok then return {}, (tostring(rep):gsub("^[^:]*:%d+: ", ""):gsub("^run: ", "")) end
          return { rep.path, rep.sidecar }
        end,
      }
    end,
  }
end


--- audio.cli(argv): the command `neuromass sonify` (audio/sonify.lua).
function M.cli(argv) return require("neuromass.audio.sonify").run(argv) end

return M
