--- Writing a planned sonification: the engine's writer opened, then finished
-- (rendered, the sidecar beside it, both renamed into place together, or kept
-- as <stem>.partial.<ext> after a failed run), its warnings emitted.
local core = require "neuromass.core"
local outputs = require "neuromass.outputs"
local sidecar_file = require "neuromass.audio.sidecar"
local fail = require("neuromass.audio.check").fail

local ipairs, string, os, math = ipairs, string, os, math
local check = require "neuromass._check"
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

-- Under the executable warnings go to stderr (unless --quiet), as the run's
-- own; in a plain Lua they go through warn() (off unless the user turns it on):
-- check.warning, the one wording.
-- Either way they are also returned in the report.
local function emit_warnings(what, list)
  for _, w in ipairs(list) do check.warning(what, w) end
end

--- write.finish(what, level, writer, path, c, p[, partial, commit_also]) -> report.
-- The file and its sidecar appear together or not at all: the audio is
-- rendered under a temporary name, the sidecar written to a temporary name,
-- then both renamed (a failed rename of the sidecar takes the audio back).
-- `partial`: a failed run's frames, kept under <stem>.partial.<ext> instead.
-- `commit_also` (optional): renames the call's other outputs into place last
-- -> true | nil, message; when it fails the audio and sidecar are taken back.
function M.finish(what, level, writer, path, c, p, partial, commit_also)
  local rep, err = writer:render()
  if not rep then writer:close(); fail(what, level, "%s", err.message) end
  if rep.limited_db > 0.1 then
    p.warnings[#p.warnings + 1] = string.format(
      "the limiter lowered peaks by up to %.1f dB to stay within full scale (normalize = \"none\", " ..
      "gain = %s): lower 'gain' or normalise", rep.limited_db, check.number(c.gain))
  end
  if rep.silent > 0 then
    p.warnings[#p.warnings + 1] = string.format(
      "%d of %s %s", rep.silent, check.nouns(c.n_in, "signal"),
      rep.silent == 1 and "does not vary and is silent" or "do not vary and are silent")
  end
  if (rep.filtered or 0) > 0 then
    p.warnings[#p.warnings + 1] = string.format(
      "%d of %s lost more than 99 %% of %s variance above the audio band (simulated " ..
      "activity above %.4g Hz at speed-up %s is filtered out): lower the speed-up", rep.filtered,
      check.nouns(c.n_in, "signal"), rep.filtered == 1 and "its" or "their", c.rate / (2 * c.speedup),
      check.number(c.speedup))
  end
  -- fades asked longer than the file are shortened by the engine (the file
  -- shared between them in proportion, au_plan_fades): said when asked
  local asked_in, asked_out = math.floor(c.fade_in * c.rate + 0.5), math.floor(c.fade_out * c.rate + 0.5)
  if p.fade_given and (rep.fade_in < asked_in or rep.fade_out < asked_out) then
    p.warnings[#p.warnings + 1] = string.format(
      "'fade' asked %s s in and %s s out, more than the %s s file holds: the fades were shortened to " ..
      "%s s and %s s (the file shared between them in proportion); give a shorter 'fade'",
      check.number(c.fade_in), check.number(c.fade_out), check.number(rep.frames / c.rate),
      check.number(rep.fade_in / c.rate), check.number(rep.fade_out / c.rate))
  end
  if rep.peak == 0 then p.warnings[#p.warnings + 1] = "the audio is silent" end
  local final, sidecar = path, p.sidecar
  if partial then
    final = outputs.partial_name(path)
    sidecar = p.sidecar_auto and sidecar_file.name(final) or p.sidecar and outputs.partial_name(p.sidecar)
  end
  local side_pending
  if sidecar then
    local serr
    side_pending, serr = sidecar_file.write(final, c, p, rep, partial, sidecar)
    if not side_pending then writer:close(); fail(what, level, "cannot write '%s': %s", sidecar, serr.message) end
  end
  local ok, cerr = writer:commit(final)
  writer:close()
  if not ok then
    if side_pending then side_pending:discard() end
    fail(what, level, "%s", cerr.message)
  end
  if side_pending then
    local renamed, rerr = side_pending:commit()
    if not renamed then
      os.remove(final)
      fail(what, level, "cannot write '%s': %s (so '%s' was not kept either)", sidecar, rerr.message, final)
    end
  end
  if commit_also then
    local done, aerr = commit_also()
    if not done then
      if sidecar then os.remove(sidecar) end
      os.remove(final)
      error(aerr .. " (so '" .. final .. "' was not kept either)", level + 1)
    end
  end
  if not partial then emit_warnings(what, p.warnings) end
  rep.path, rep.sidecar, rep.warnings = final, sidecar or nil, p.warnings
  rep.speedup, rep.rate, rep.channels = c.speedup, c.rate, c.n_out
  rep.duration = rep.frames / c.rate
  return rep
end

--- audio.dry_report([path, c, p]) -> the report of an audio file that a dry
-- run (`neuromass info`) planned and did not write: no frames, no warnings.
function M.dry_report(path, c, p)
  return { dry = true, path = path, sidecar = p and p.sidecar or nil, warnings = {}, frames = 0,
           duration = 0, peak = 0, silent = 0, limited_db = 0, speedup = c and c.speedup,
           rate = c and c.rate, channels = c and c.n_out }
end

--- write.open(what, level, path, c) -> the engine's writer for options c (plan.lua).
function M.open(what, level, path, c)
  local w, err = core.audio_writer(path, c)
  if not w then fail(what, level, "%s", err.message) end
  return w
end


--- write.files(role, path, full, p, level): the files of a plan: the audio at
-- `full` and its sidecar (resolved like it),
-- as outputs.check takes them.
function M.files(what_role, path, full, p, level)
  if p.sidecar_auto then p.sidecar = sidecar_file.name(full)
  elseif p.sidecar then p.sidecar = outputs.resolve(p.sidecar, level + 1) end
  local list = { { role = what_role, path = full, given = path } }
  if p.sidecar then
    -- (written last, after the audio: not probed; a failure there keeps the partial files)
    list[2] = { role = (what_role or "the audio") .. "'s sidecar", path = p.sidecar, probe = false, sidecar = true }
  end
  return list
end

return M
