--- The command `neuromass sonify RESULT.csv -o OUT [options]`: the options
-- of res:write_audio as flags, the CSV streamed through the engine with every
-- row's time checked against the grid of its first two rows.  The rows and
-- the chosen columns are counted first, so that the length, the working
-- memory and the disk space are checked before anything is written.
local core = require "neuromass.core"
local outputs = require "neuromass.outputs"
local check = require "neuromass._check"
local select = require "neuromass.audio.select"
local write = require "neuromass.audio.write"
local plan = require("neuromass.audio.plan").plan

local error, ipairs, pairs, string, table, tostring, tonumber, math, pcall =
      error, ipairs, pairs, string, table, tostring, tonumber, math, pcall

local M = {}

local cli_options = {
  ["--column"] = "column", ["--variable"] = "variable", ["--nodes"] = "nodes",
  ["--speedup"] = "speedup", ["--map"] = "map", ["--rate"] = "rate", ["--bits"] = "bits",
  ["--layout"] = "layout", ["--pan"] = "pan", ["--regions"] = "regions", ["--skip"] = "skip",
  ["--highpass"] = "highpass", ["--normalize"] = "normalize", ["--headroom"] = "headroom",
  ["--gain"] = "gain", ["--fade"] = "fade", ["--quality"] = "quality", ["--mode"] = "mode",
  ["--drive"] = "drive", ["--carrier"] = "carrier", ["--pitch"] = "pitch",
  ["--envelope"] = "envelope", ["--sidecar"] = "sidecar",
}
-- Every option that takes a value (-o and --output: the output; the flags --quiet and
-- --help are the host's, check.read_options); KEYS: the options' keys in a fixed order
-- (their messages' order).
local VALUES = { ["-o"] = "out", ["--output"] = "out" }
local KEYS = {}
for name, key in pairs(cli_options) do VALUES[name], KEYS[#KEYS + 1] = key, key end
table.sort(KEYS)
local numeric = { speedup = true, rate = true, skip = true, highpass = true, headroom = true,
                  gain = true, fade = true, envelope = true, carrier = true }

local function cli_value(key, v)
  if key == "map" or key == "pitch" then
    local a, b = v:match("^([^:]+):([^:]+)$")
    if not (tonumber(a) and tonumber(b)) then
      check.usage(string.format("--%s needs LOW:HIGH in Hz (e.g. 10:440), got '%s'", key, v))
    end
    if key == "map" then return { from = tonumber(a), to = tonumber(b) } end
    return { tonumber(a), tonumber(b) }
  end
  if key == "nodes" then return check.node_list(v) end
  if key == "bits" then return v == "float" and "float" or tonumber(v) or v end
  if key == "normalize" and v == "off" then return "none" end
  if key == "highpass" and (v == "off" or v == "0") then return false end
  if key == "sidecar" then
    if v == "off" or v == "no" then return false end
    return v
  end
  if key == "carrier" and v:find(",", 1, true) then   -- one frequency per signal, as the Lua option's list
    local list = {}
    for item in (v .. ","):gmatch("([^,]*),") do
      local n = tonumber(item)
      if not n then
        check.usage(string.format("--carrier needs a frequency (Hz) or a comma list of them, one per signal " ..
                                  "(e.g. 220,330), got '%s'", v))
      end
      list[#list + 1] = math.tointeger(n) or n
    end
    return list
  end
  if numeric[key] then
    local n = tonumber(v)
    if not n then check.usage(string.format("--%s needs a number, got '%s'", key, v)) end
    return math.tointeger(n) or n
  end
  return v
end

-- A message of res:write_audio's checks in the words of this command's
-- flags: 'speedup' is --speedup, layout = "stereo" is --layout stereo,
-- 'map.to' and 'pitch[2]' are --map's and --pitch's HIGH (LOW:HIGH),
-- "unknown mode" is "unknown --mode".
local FLAG_OF = {}
for flag, key in pairs(cli_options) do FLAG_OF[key] = flag end
local ENDS = { from = "LOW", to = "HIGH" }
-- Lua tables and assignments the checks name, as the flags spell them (plain text, in order).
local PHRASES = {
  { "'map' = { from = Hz, to = Hz }", "--map LOW:HIGH (Hz)" },
  { "speedup = to / from", "--speedup HIGH / LOW" }, { "to / from", "HIGH / LOW" },
  { "must be { low, high } with low < high (Hz): the signal's lowest value plays at low, its highest at high",
    "must be LOW:HIGH with LOW < HIGH (Hz): the signal's lowest value plays at LOW, its highest at HIGH" },
}
local function as_flags(msg)
  for _, ph in ipairs(PHRASES) do
    local at = msg:find(ph[1], 1, true)
    while at do
      msg = msg:sub(1, at - 1) .. ph[2] .. msg:sub(at + #ph[1])
      at = msg:find(ph[1], at + #ph[2], true)
    end
  end
  msg = msg:gsub("'pitch' = { ([%d.e+-]+), ([%d.e+-]+) }", "--pitch %1:%2")
  msg = msg:gsub("(%a+) = ([%d.e+-]+)(%f[^%w.])", function(k, v, rest)    -- speedup = 100: --speedup 100
    if FLAG_OF[k] and tonumber(v) then return FLAG_OF[k] .. " " .. v .. rest end
  end)
  msg = msg:gsub("'(%a+)%.(%a+)'", function(k, part)
    if FLAG_OF[k] and ENDS[part] then return FLAG_OF[k] .. "'s " .. ENDS[part] end
  end)
  msg = msg:gsub("'(%a+)%[([12])%]'", function(k, i)
    if FLAG_OF[k] then return FLAG_OF[k] .. "'s " .. (i == "1" and "LOW" or "HIGH") end
  end)
  msg = check.as_flags(msg, FLAG_OF)
  msg = msg:gsub("unknown (%a+) '", function(k) if FLAG_OF[k] then return "unknown " .. FLAG_OF[k] .. " '" end end)
  return msg
end

--- sonify.run(argv): the command `neuromass sonify`; argv = the arguments after "sonify".
-- Returns the lines to print (the host prints them unless --quiet; to stderr when
-- the field to_stderr is true: the audio went to stdout, -o -).
function M.run(argv)
  local got, words = check.read_options(argv, VALUES)
  if #words > 1 then
    check.usage(string.format("unexpected argument '%s' (one CSV file, then -o OUT)", words[2]))
  end
  local input, out, opts = words[1], got.out, {}
  for _, key in ipairs(KEYS) do
    if got[key] ~= nil then opts[key] = cli_value(key, got[key]) end
  end
  if not input then check.usage("sonify needs a CSV file: neuromass sonify RESULT.csv -o OUT.wav") end
  if not out then check.usage("sonify needs -o OUT.wav (or .flac, .ogg)") end
  local reader, err = core.csv_reader(input)
  if not reader then error(err.message, 0) end
  local first = reader:name(0)
  if first ~= "t" then
    local names = {}         -- (the reader answers nothing once closed: its names are read before)
    for c = 0, reader:columns() - 1 do names[c + 1] = reader:name(c) end
    reader:close()
    if first == "t_BOLD" then
      error(string.format("'%s' holds BOLD (its first column is 't_BOLD'), one sample every 2 s: too slow " ..
                          "to hear; sonify expects a result CSV (first column 't' in ms, then VAR.NODE " ..
                          "columns, e.g. from output = { csv = ... }); draw BOLD with neuromass plot", input), 0)
    end
    if require("neuromass.explore.table").is_header(names) then
      error(string.format("'%s' is an exploration's results table (columns point, ..., status), not a run's " ..
                          "CSV: sonify a point's own run, which a BoxSearch with save = { \"csv\" } writes as " ..
                          "points/<i>/result.csv in its folder", input), 0)
    end
    error(string.format("'%s' does not look like a neuromass CSV (its first column is '%s', " ..
                        "expected 't')", input, tostring(first)), 0)
  end
  -- the rows are counted first (one fast pass): the length, the skip and the
  -- disk space are checked before anything is written
  local rows, rerr = reader:count_rows()
  if not rows then
    reader:close()
    error(input .. ": " .. rerr.message .. (rerr.kind == "pipe" and ", and the CSV is (its rows are counted " ..
                                            "first): save it to a file first" or ""), 0)
  end
  local t, terr = reader:times(2)
  if not t then reader:close(); error(input .. ": " .. terr.message, 0) end
  if #t < 2 then
    reader:close()
    error(string.format("'%s' needs at least two rows with increasing times (it has %d)", input, #t), 0)
  end
  if not (t[2] > t[1]) then     -- (as the grid's check words it for a later row, by row: blank lines may lie between)
    reader:close()
    error(string.format("%s: the second row's t = %s follows the first's %s: time goes back or repeats",
                        input, check.time(t[2]), check.time(t[1])), 0)
  end
  -- every row's time is checked against this grid while the file is fed
  local interval = t[2] - t[1]
  local function clean(e) return as_flags((tostring(e):gsub("^[^:]*:%d+: ", ""):gsub("^sonify: ", ""))) end
  local candidates = select.csv_candidates(reader)
  local ok, c, p = pcall(plan, "sonify", 1, out, opts, { candidates = candidates, interval = interval,
                                                         samples = rows, n_nodes = select.node_count(candidates),
                                                         kind = "csv", file = input })
  if not ok then reader:close(); error(clean(c), 0) end
  local cok, cerr = pcall(outputs.check, "sonify", 1, write.files("the output", out, out, p, 1),
                          { { role = "the input CSV", path = input } })
  if not cok then reader:close(); error(clean(cerr), 0) end
  local w, werr = core.audio_writer(out, c)
  if not w then reader:close(); error(werr.message, 0) end
  local cols = {}
  for k, inp in ipairs(p.inputs) do cols[k] = inp.col end
  reader:grid(interval)
  local fed, ferr = w:feed_csv(reader, cols)
  reader:close()
  if not fed then w:close(); error(input .. ": " .. ferr.message, 0) end
  local fok, rep = pcall(write.finish, "sonify", 1, w, out, c, p)
  if not fok then error(clean(rep), 0) end
  return {
    to_stderr = out == "-" or nil,      -- (the host prints the report there: stdout holds the audio)
    string.format("%s: %.3f s, %s, %d Hz, %s; speed-up %s; %s from %s",
                  out, rep.duration, check.nouns(rep.channels, "channel"), rep.rate,
                  c.container == "ogg" and "vorbis" or c.encoding, check.number(rep.speedup),
                  check.nouns(c.n_in, "signal"), input),
  }
end

return M
