--- Sonification: listen to a run.  Adds `res:write_audio(path, opts)` to
-- results, serves `run{ output = { audio = {...} } }` (audio written while
-- integrating, from the full-rate signal) and the command `neuromass sonify`.
-- The work is done in C (src/engine/audio.c); this file checks the options,
-- chooses the signals, lays out the channels and writes the JSON sidecar.
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
-- `neuromass sonify` checks every row's time
-- against the grid of the first two rows; it counts the rows and the chosen
-- columns first, so that the length, the working memory and the disk space
-- are checked before anything is built or written.
local core = require "neuromass.core"
local outputs = require "neuromass.outputs"
local check = require "neuromass._check"
local Result = require("neuromass.result").Result

local type, error, ipairs, pairs, string, table, tostring, tonumber, math, io, os,
      warn, pcall, require, next =
      type, error, ipairs, pairs, string, table, tostring, tonumber, math, io, os,
      warn, pcall, require, next

local M = {}

local fields = {
  variable = true, nodes = true, column = true, mode = true, speedup = true, map = true,
  rate = true, bits = true, layout = true, pan = true, regions = true, skip = true, dc = true,
  highpass = true, normalize = true, headroom = true, gain = true, fade = true,
  quality = true, drive = true, carrier = true, pitch = true, envelope = true, sidecar = true,
}
local rates = { lo = 8000, hi = 192000 }      -- any whole number of Hz in between
local empty_source = { result = "the result holds no rows", run = "the run takes no steps",
                       csv = "the CSV holds no rows" }
local extensions = { wav = "wav", wave = "wav", flac = "flac", ogg = "ogg", oga = "ogg" }
local max_channels = { wav = 1024, flac = 8, ogg = 255 }
local choices = {
  mode = { "audify", "mapping" },
  layout = { "mono", "stereo", "multichannel" },
  normalize = { "peak", "rms", "relative", "none" },
  quality = { "fast", "medium", "best" },
  drive = { "amplitude", "pitch", "both" },
  pan = { "index", "hemisphere", "position" },
}

-- Level discipline: a helper given `level` (as seen from its caller) raises
-- with fail(what, level, ...) and passes level + 1 to the helpers it calls.
-- The one rule for a sidecar's default name: the sidecar of X is X.json (that
-- of the partial file big.partial.wav is big.partial.wav.json).
local function sidecar_of(path) return path .. ".json" end

local function fail(what, level, fmt, ...)
  error(what .. ": " .. string.format(fmt, ...), level + 2)
end

local function one_of(what, level, key, value, dflt)
  if value == nil then return dflt end
  for _, c in ipairs(choices[key]) do if c == value then return value end end
  fail(what, level, "unknown %s '%s' (use %s)%s", key, tostring(value),
       table.concat(choices[key], ", "), check.suggest(tostring(value), choices[key]))
end

local function positive(what, level, key, v)
  if type(v) ~= "number" or not (v > 0) or v == math.huge then
    fail(what, level, "'%s' must be a positive number (got %s)", key, tostring(v))
  end
  return v
end

local function non_negative(what, level, key, v)
  if type(v) ~= "number" or not (v >= 0) or v == math.huge then
    fail(what, level, "'%s' must be a number >= 0 (got %s)", key, tostring(v))
  end
  return v
end

local function glob_pattern(glob)
  return "^" .. glob:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
end

-- "VAR.NODE" -> "VAR", NODE (an integer); nil for other names.
local function split_name(name)
  local var, node = name:match("^(.+)%.(%d+)$")
  if var then return var, math.tointeger(tonumber(node)) end
end

-- Candidate signals as select_inputs reads them: { n, get(k) -> name, var,
-- node (var nil when the column is no VAR.NODE signal), entry(k) -> the
-- input's table }.  From a list of { name, var, node, ... } entries:
local function candidates_of(list)
  return { n = #list, entry = function(k) return list[k] end,
           get = function(k) local c = list[k]; return c.name, c.var, c.node end }
end

-- The signals chosen from the candidate columns `cand` (see candidates_of):
-- returns the chosen candidates' indices, in order.  Nothing is built per
-- candidate, so that a selection can be counted (and refused by its size)
-- before its entries are made.
local function select_inputs(what, level, opts, cand)
  local n, get = cand.n, cand.get
  local out = {}
  if opts.column ~= nil then
    if opts.variable ~= nil or opts.nodes ~= nil then
      fail(what, level, "give either 'column' or 'variable'/'nodes', not both")
    end
    local globs = type(opts.column) == "table" and opts.column or { opts.column }
    local patterns = {}
    for i, g in ipairs(globs) do
      if type(g) ~= "string" then fail(what, level, "'column' must be a glob such as 'x.*'") end
      patterns[i] = glob_pattern(g)
    end
    for k = 1, n do
      local name, var = get(k)
      if var then
        for _, pat in ipairs(patterns) do
          if name:find(pat) then out[#out + 1] = k; break end
        end
      end
    end
    if #out == 0 then
      local names = {}
      for k = 1, n do
        local name, var = get(k)
        if var then names[#names + 1] = name end
        if #names > 6 then break end
      end
      fail(what, level, "no recorded column matches '%s' (columns: %s%s)", table.concat(globs, "', '"),
           table.concat(names, ", ", 1, math.min(#names, 6)), #names > 6 and ", ..." or "")
    end
    return out
  end
  local vars, seen = {}, {}
  for k = 1, n do
    local _, v = get(k)
    if v and not seen[v] then seen[v] = true; vars[#vars + 1] = v end
  end
  local var = opts.variable or vars[1]
  if type(var) ~= "string" then fail(what, level, "'variable' must be a variable name") end
  if not seen[var] then
    fail(what, level, "'%s' was not recorded (recorded: %s)%s", var, table.concat(vars, ", "),
         check.suggest(var, vars))
  end
  local nodes = opts.nodes
  if nodes == nil then
    for k = 1, n do
      local _, v = get(k)
      if v == var then out[#out + 1] = k end
    end
    return out
  end
  if math.type(nodes) == "integer" then nodes = { nodes } end
  if type(nodes) ~= "table" or #nodes == 0 then
    fail(what, level, "'nodes' must be a list of node indices (0-based)")
  end
  local wanted = {}
  for _, i in ipairs(nodes) do
    if math.type(i) ~= "integer" then fail(what, level, "'nodes' must be a list of node indices (0-based)") end
    wanted[i] = false
  end
  for k = 1, n do
    local _, v, node = get(k)
    if v == var and wanted[node] == false then wanted[node] = k end
  end
  for _, i in ipairs(nodes) do
    if not wanted[i] then fail(what, level, "node %d has no recorded '%s'", i, var) end
    out[#out + 1] = wanted[i]
  end
  return out
end

local function load_regions(what, level, regions)
  if regions == nil then return nil end
  if type(regions) == "string" then
    local ok, ds = pcall(require("neuromass.datasets").load, regions)
    if not ok then fail(what, level, "regions: unknown dataset '%s' (available: gw, hcp)", regions) end
    return ds
  end
  if type(regions) ~= "table" or (regions.hemisphere == nil and regions.coords == nil) then
    fail(what, level, "'regions' must be a dataset (nm.datasets.load \"hcp\") or its name")
  end
  return regions
end

-- Pan positions in [-1, 1] for the chosen inputs.
local function pan_positions(what, level, opts, inputs, regions)
  local pan = opts.pan
  if pan == nil then pan = regions and "hemisphere" or "index" end
  local pos = {}
  if type(pan) == "table" then
    for k, c in ipairs(inputs) do
      local v = pan[c.node + 1]
      if v == "L" or v == "l" then v = -1 elseif v == "R" or v == "r" then v = 1
      elseif v == "C" or v == "c" or v == "M" then v = 0 end
      if type(v) ~= "number" or not (v >= -1 and v <= 1) then
        fail(what, level, "pan: node %d needs a position in [-1, 1] or 'L'/'R' (got %s)", c.node, tostring(v))
      end
      pos[k] = v
    end
    return pos, "given"
  end
  pan = one_of(what, level + 1, "pan", pan)
  if pan == "index" then
    for k = 1, #inputs do pos[k] = #inputs == 1 and 0 or -1 + 2 * (k - 1) / (#inputs - 1) end
    return pos, pan
  end
  if not regions then
    fail(what, level, "pan = '%s' needs the regions' labels: give regions = nm.datasets.load \"hcp\"", pan)
  end
  if pan == "hemisphere" then
    if not regions.hemisphere then fail(what, level, "the regions have no hemisphere labels") end
    for k, c in ipairs(inputs) do
      local h = regions.hemisphere[c.node + 1]
      pos[k] = h == "L" and -1 or h == "R" and 1 or 0
    end
    return pos, pan
  end
  if not regions.coords then fail(what, level, "the regions have no coordinates") end
  local lo, hi = math.huge, -math.huge
  for i, xyz in ipairs(regions.coords) do
    local x = type(xyz) == "table" and xyz[1]
    if type(x) ~= "number" or x ~= x or x == math.huge or x == -math.huge then
      fail(what, level, "regions: node %d's x coordinate is %s (pan = 'position' needs finite numbers)",
           i - 1, tostring(x))
    end
    lo, hi = math.min(lo, x), math.max(hi, x)
  end
  for k, c in ipairs(inputs) do
    pos[k] = hi > lo and 2 * (regions.coords[c.node + 1][1] - lo) / (hi - lo) - 1 or 0
  end
  return pos, pan
end

-- Regions describe the model's nodes, one per node in order: a dataset of
-- another size is refused (n_nodes: the model's nodes, nil when unknown, as
-- for a CSV), and so is a chosen node beyond the dataset.
local function check_regions(what, level, regions, inputs, n_nodes)
  local n_regions = #(regions.hemisphere or regions.coords)
  local name = type(regions.name) == "string" and ("'" .. regions.name .. "' ") or ""
  if n_nodes and n_nodes ~= n_regions then
    fail(what, level, "regions: the dataset %shas %d regions but the model has %d node%s: give the " ..
         "regions of the model's nodes (one per node, in order)", name, n_regions, n_nodes,
         n_nodes == 1 and "" or "s")
  end
  for _, c in ipairs(inputs) do
    if c.node >= n_regions then
      fail(what, level, "node %d has no region in the dataset %s(%d regions)", c.node, name, n_regions)
    end
  end
end

-- Output channels: { routes = {{out, in, weight}}, channels = {{name, inputs = {k, ...}}} }.
local function layout_channels(what, level, opts, inputs, layout, n_nodes)
  local regions = load_regions(what, level + 1, opts.regions)
  if regions then check_regions(what, level + 1, regions, inputs, n_nodes) end
  if opts.pan ~= nil and layout ~= "stereo" then
    fail(what, level, "'pan' applies to layout = \"stereo\"; this layout is \"%s\"%s", layout,
         opts.layout == nil and " (the default for one signal): add layout = \"stereo\"" or "")
  end
  local routes, channels, pans = {}, {}, nil
  if layout == "mono" then
    channels[1] = { name = "mono" }
    for k = 1, #inputs do routes[#routes + 1] = { 0, k - 1, 1.0 } end
  elseif layout == "multichannel" then
    for k, c in ipairs(inputs) do
      channels[k] = { name = c.name }
      routes[#routes + 1] = { k - 1, k - 1, 1.0 }
    end
  else
    channels[1], channels[2] = { name = "left" }, { name = "right" }
    local pan_kind
    pans, pan_kind = pan_positions(what, level + 1, opts, inputs, regions)
    for k, p in ipairs(pans) do
      local theta = (p + 1) * math.pi / 4                  -- equal-power pan law
      local l, r = math.cos(theta), math.sin(theta)
      if l > 1e-12 then routes[#routes + 1] = { 0, k - 1, l } end
      if r > 1e-12 then routes[#routes + 1] = { 1, k - 1, r } end
    end
    channels.pan = pan_kind
  end
  -- A mix is never louder than its loudest signal: the weights of the fullest
  -- channel sum to 1 (normalisation sets the level afterwards anyway).
  local sums = {}
  for _, r in ipairs(routes) do sums[r[1]] = (sums[r[1]] or 0) + r[3] end
  local biggest = 0
  for _, s in pairs(sums) do biggest = math.max(biggest, s) end
  for _, r in ipairs(routes) do r[3] = r[3] / biggest end
  return routes, channels, pans, regions
end

--- Checks `opts` against a source and returns the engine's options and a plan.
-- src = { cols = { {name, var, node, col} ... } or candidates = (see candidates_of),
--         interval = ms between samples,
--         dt = ms of the integration step when known, samples = count when known,
--         n_nodes = the model's nodes when known,
--         kind = "result" | "run" | "csv" }
local function plan(what, level, path, opts, src)
  if type(path) ~= "string" or path == "" then fail(what, level, "expected a file name") end
  opts = opts or {}
  check.fields(opts, fields, what, level + 1)
  local ext = path:match("%.([%w]+)$")
  local container = outputs.is_stdout(path) and "wav" or ext and extensions[ext:lower()]
  if not container then
    fail(what, level, "cannot tell the format of '%s' (use .wav, .flac or .ogg)", path)
  end
  local mode = one_of(what, level + 1, "mode", opts.mode, "audify")
  local k
  if opts.map ~= nil then
    if opts.speedup ~= nil then fail(what, level, "give either 'speedup' or 'map', not both") end
    if mode ~= "audify" then fail(what, level, "'map' derives the speed-up of audification") end
    local m = opts.map
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
         "96000), got %s", rates.lo, rates.hi, tostring(rate))
  end
  rate = math.tointeger(rate)
  local bits = opts.bits or 16
  local encoding = bits == 16 and "pcm16" or bits == 24 and "pcm24"
                   or (bits == "float" or bits == 32) and "float" or nil
  if not encoding then fail(what, level, "'bits' must be 16, 24 or \"float\" (got %s)", tostring(bits)) end
  if container == "flac" and encoding == "float" then
    fail(what, level, "FLAC stores 16- or 24-bit samples; use .wav for float")
  end
  local normalize = opts.normalize
  if normalize == false then normalize = "none" end
  normalize = one_of(what, level + 1, "normalize", normalize, "peak")
  if opts.gain ~= nil and normalize ~= "none" then
    fail(what, level, "'gain' applies with normalize = \"none\" (normalisation sets the level)")
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
  if highpass >= rate / 2 then fail(what, level, "'highpass' must be below %g Hz", rate / 2) end
  local interval = src.interval
  local in_rate = 1000 / interval
  local skip = non_negative(what, level + 1, "skip", opts.skip or 0)
  local skip_n = math.floor(skip / interval + 0.5)
  if skip_n > 2 ^ 53 then
    fail(what, level, "'skip' = %g ms is %.4g samples of %g ms, more than can be counted", skip, skip_n,
         interval)
  end
  skip_n = math.tointeger(skip_n)
  if src.samples == 0 then fail(what, level, "%s: there is nothing to sonify", empty_source[src.kind]) end
  if src.samples and skip_n >= src.samples then
    fail(what, level, "'skip' = %g ms leaves nothing of %g ms", skip, src.samples * interval)
  end
  -- The selection is counted, and its channels and working memory checked,
  -- before anything is built per signal (a CSV may have 10^6 columns).
  local cand = src.candidates or candidates_of(src.cols)
  local chosen = select_inputs(what, level + 1, opts, cand)
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
  if not fits then fail(what, level, "%s", why) end
  local inputs = {}
  for i, ci in ipairs(chosen) do inputs[i] = cand.entry(ci) end
  local routes, channels, pans, regions = layout_channels(what, level + 1, opts, inputs, layout,
                                                           src.n_nodes)
  local c = {
    container = container, encoding = encoding, mode = mode, normalize = normalize,
    quality = one_of(what, level + 1, "quality", opts.quality, "medium"), rate = rate,
    in_rate = in_rate, speedup = k, n_in = #inputs, n_out = #channels, routes = routes,
    skip = skip_n, dc = opts.dc ~= false, highpass = highpass,
    headroom = non_negative(what, level + 1, "headroom", opts.headroom or 1),
    gain = opts.gain ~= nil and positive(what, level + 1, "gain", opts.gain) or 1,
    fade_in = fade_in, fade_out = fade_out, expected = src.samples, names = {},
  }
  for i, inp in ipairs(inputs) do c.names[i] = inp.name end
  local warnings = {}
  if mode == "mapping" then
    c.drive = one_of(what, level + 1, "drive", opts.drive, "amplitude")
    local pitch = opts.pitch or { 220, 880 }
    if type(pitch) ~= "table" then fail(what, level, "'pitch' must be { low, high } in Hz") end
    c.pitch_lo = positive(what, level + 1, "pitch[1]", pitch[1])
    c.pitch_hi = positive(what, level + 1, "pitch[2]", pitch[2])
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
      if carrier[i] >= rate / 2 then fail(what, level, "a carrier must be below %g Hz", rate / 2) end
    end
    c.carrier = carrier
    local env = opts.envelope
    if env == true then env = 2 end
    if env ~= nil and env ~= false then
      positive(what, level + 1, "envelope", env)
      if env >= in_rate / 2 then
        fail(what, level, "'envelope' must be below %g Hz (half the signal's sampling rate)", in_rate / 2)
      end
      c.envelope = env
    end
  else
    for _, key in ipairs { "drive", "carrier", "pitch", "envelope" } do
      if opts[key] ~= nil then fail(what, level, "'%s' applies to mode = \"mapping\"", key) end
    end
    -- The audio shows simulated frequencies up to rate / (2 k); a recording
    -- decimated (sampling_dt > dt, no filter) below that rate has folded the
    -- faster part of the simulation into what is heard.
    local needed = rate / k
    if in_rate < needed * (1 - 1e-9) then
      local fix = string.format("record at sampling_dt <= %.4g ms, or stream the audio while " ..
                                "integrating: run{ output = { audio = {...} } }", 1000 / needed)
      if src.dt and interval > src.dt * (1 + 1e-9) then
        warnings[#warnings + 1] = string.format(
          "the recording (every %g ms, %g Hz) cannot carry what %g Hz audio at speed-up %g needs " ..
          "(%g Hz of simulated signal): sampling_dt > dt decimated it without a filter, so " ..
          "simulated activity above %g Hz has folded into it; %s", interval, in_rate, rate, k,
          needed, in_rate / 2, fix)
      elseif not src.dt then
        warnings[#warnings + 1] = string.format(
          "the recording's rate (%g Hz) is below what %g Hz audio at speed-up %g needs " ..
          "(%g Hz): the audio has nothing above %g Hz, and if the run recorded at a " ..
          "sampling_dt coarser than dt, faster activity has folded into it; %s", in_rate, rate,
          k, needed, in_rate / 2 * k, fix)
      end
    end
  end
  local sidecar, sidecar_auto = opts.sidecar, opts.sidecar == nil or opts.sidecar == true
  if sidecar_auto and outputs.is_stdout(path) then sidecar, sidecar_auto = false, false
  elseif sidecar_auto then sidecar = sidecar_of(path)
  elseif sidecar ~= false and type(sidecar) ~= "string" then
    fail(what, level, "'sidecar' must be true, false or a path")
  end
  return c, { inputs = inputs, layout = layout, channels = channels, pans = pans,
              regions = regions, warnings = warnings, sidecar = sidecar,
              sidecar_auto = sidecar_auto, skip_ms = skip,
              interval = interval, container = container, src = src }
end


-- ---------------------------------------------------------------------
-- The JSON sidecar
-- ---------------------------------------------------------------------

local function json(v, indent)
  indent = indent or ""
  local t = type(v)
  if t == "nil" then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if math.type(v) == "integer" then return string.format("%d", v) end
    for digits = 15, 17 do
      local s = string.format("%." .. digits .. "g", v)
      if tonumber(s) == v then return s end
    end
  end
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(ch)
      local map = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t" }
      return map[ch] or string.format("\\u%04x", ch:byte())
    end) .. '"'
  end
  local inner = indent .. "  "
  if #v > 0 or next(v) == nil then
    local simple = true
    for _, x in ipairs(v) do if type(x) == "table" then simple = false end end
    local parts = {}
    for i, x in ipairs(v) do parts[i] = json(x, inner) end
    if simple then return "[" .. table.concat(parts, ", ") .. "]" end
    return "[\n" .. inner .. table.concat(parts, ",\n" .. inner) .. "\n" .. indent .. "]"
  end
  local keys = {}
  for key in pairs(v) do keys[#keys + 1] = key end
  table.sort(keys, function(a, b)
    local oa, ob = v.__order and v.__order[a], v.__order and v.__order[b]
    if oa and ob then return oa < ob end
    if oa or ob then return oa ~= nil end
    return a < b
  end)
  local parts = {}
  for _, key in ipairs(keys) do
    if key ~= "__order" then parts[#parts + 1] = json(key) .. ": " .. json(v[key], inner) end
  end
  return "{\n" .. inner .. table.concat(parts, ",\n" .. inner) .. "\n" .. indent .. "}"
end

local function ordered(t, keys)
  local o = {}
  for i, key in ipairs(keys) do o[key] = i end
  t.__order = o
  return t
end

-- Writes the sidecar of `path` to a temporary name beside `sidecar`; returns
-- that name (finish renames it once the audio is in place) or nil, error.
local function write_sidecar(path, c, p, rep, _sidecar, partial, tmp)
  local channels = {}
  local premix = c.mode == "audify" and (c.normalize == "relative" or c.normalize == "none")
  for ch, desc in ipairs(p.channels) do
    channels[ch] = ordered({ index = ch - 1, name = desc.name, inputs = {} },
                           { "index", "name", "inputs" })
  end
  for _, r in ipairs(c.routes) do
    local k = r[2] + 1
    local inp = p.inputs[k]
    local gain = r[3] * rep.gain * (premix and 1 or rep.input_gains[k])
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
                             fade_in_s = c.fade_in, fade_out_s = c.fade_out,
                             file_gain = rep.gain, peak_before_gain = rep.peak,
                             limiter_reduction_db = rep.limited_db },
                           { "dc", "highpass_hz", "normalize", "headroom_db", "fade_in_s",
                             "fade_out_s", "file_gain", "peak_before_gain",
                             "limiter_reduction_db" }),
    mapping = c.mode == "mapping" and ordered({ drive = c.drive, pitch_hz = { c.pitch_lo, c.pitch_hi },
                                                envelope_hz = c.envelope or false },
                                              { "drive", "pitch_hz", "envelope_hz" }) or nil,
    channel_map = channels,
    warnings = p.warnings,
  }, { "file", "partial", "format", "container", "encoding", "rate", "channels", "frames", "duration_s", "mode",
       "speedup", "layout", "pan", "source", "resampler", "conditioning", "mapping",
       "channel_map", "warnings" })
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  local ok, werr = f:write(json(doc), "\n")
  local closed = f:close()
  if not ok or not closed then os.remove(tmp); return nil, werr or "write error" end
  return tmp
end


-- ---------------------------------------------------------------------
-- Finishing: report, sidecar, warnings
-- ---------------------------------------------------------------------

local host = require("neuromass.context").get

-- Under the executable warnings go to stderr (unless --quiet), as the run's
-- own; in a plain Lua they go through warn() (off unless the user turns it on).
-- Either way they are also returned in the report.
local function emit_warnings(what, list)
  local h = host()
  if h and h.quiet then return end
  for _, w in ipairs(list) do
    if h then io.stderr:write("neuromass: warning: ", what, ": ", w, "\n")
    else warn(what .. ": " .. w) end
  end
end

-- The file and its sidecar appear together or not at all: the audio is
-- rendered under a temporary name, the sidecar written to a temporary name,
-- then both renamed (a failed rename of the sidecar takes the audio back).
-- `partial`: a failed run's frames, kept under <stem>.partial.<ext> instead.
-- `commit_also` (optional): renames the call's other outputs into place last
-- -> true | nil, message; when it fails the audio and sidecar are taken back.
local function finish(what, level, writer, path, c, p, partial, commit_also)
  local rep, err = writer:render()
  if not rep then writer:close(); fail(what, level, "%s", err) end
  if rep.limited_db > 0.1 then
    p.warnings[#p.warnings + 1] = string.format(
      "the limiter lowered peaks by up to %.1f dB to stay within full scale (normalize = \"none\", " ..
      "gain = %g): lower 'gain' or normalise", rep.limited_db, c.gain)
  end
  if rep.silent > 0 then
    p.warnings[#p.warnings + 1] = string.format(
      "%d of %d signals do not vary and are silent", rep.silent, c.n_in)
  end
  if rep.peak == 0 then p.warnings[#p.warnings + 1] = "the audio is silent" end
  local final, sidecar = path, p.sidecar
  if partial then
    final = outputs.partial_name(path)
    sidecar = p.sidecar_auto and sidecar_of(final) or p.sidecar and outputs.partial_name(p.sidecar)
  end
  local side_tmp
  if sidecar then
    local serr
    side_tmp, serr = write_sidecar(final, c, p, rep, sidecar, partial, core.temp_name(sidecar))
    if not side_tmp then writer:close(); fail(what, level, "cannot write '%s': %s", sidecar, tostring(serr)) end
  end
  local ok, cerr = writer:commit(final)
  writer:close()
  if not ok then
    if side_tmp then os.remove(side_tmp) end
    fail(what, level, "%s", cerr)
  end
  if side_tmp then
    local renamed, rerr = os.rename(side_tmp, sidecar)
    if not renamed then
      os.remove(side_tmp)
      os.remove(final)
      fail(what, level, "cannot write '%s': %s (so '%s' was not kept either)", sidecar, tostring(rerr), final)
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
local function dry_report(path, c, p)
  return { dry = true, path = path, sidecar = p and p.sidecar or nil, warnings = {}, frames = 0,
           duration = 0, peak = 0, silent = 0, limited_db = 0, speedup = c and c.speedup,
           rate = c and c.rate, channels = c and c.n_out }
end

local function open_writer(what, level, path, c)
  local w, err = core.audio_writer(path, c)
  if not w then fail(what, level, "%s", err) end
  return w
end

-- Candidate columns of a result or CSV: { name, var, node, col } for VAR.NODE names.
local function columns_of(names)
  local cols = {}
  for i, name in ipairs(names) do
    local var, node = split_name(name)
    if var and i > 1 then cols[#cols + 1] = { name = name, var = var, node = node, col = i - 1 } end
  end
  return cols
end

-- The candidates of a CSV (see candidates_of), read from its header one name
-- at a time: nothing is built for the columns that are not chosen.
local function csv_candidates(reader)
  return {
    n = reader:columns() - 1,
    get = function(k) local name = reader:name(k); return name, split_name(name) end,
    entry = function(k)
      local name = reader:name(k)
      local var, node = split_name(name)
      return { name = name, var = var, node = node, col = k }
    end,
  }
end


-- The files of a plan: the audio at `full` and its sidecar (resolved like it),
-- as outputs.check takes them.
local function files_of(what_role, path, full, p, level)
  if p.sidecar_auto then p.sidecar = sidecar_of(full)
  elseif p.sidecar then p.sidecar = outputs.resolve(p.sidecar, level + 1) end
  local list = { { role = what_role, path = full, given = path } }
  if p.sidecar then
    list[2] = { role = (what_role or "the audio") .. "'s sidecar", path = p.sidecar }
  end
  return list
end

--- res:write_audio(path, opts) -> full path, report (frames, duration, gain,
-- warnings, ...).  Streams the result's rows through the C engine in chunks.
-- The file and its sidecar are checked (outputs.lua) before anything is
-- written, and appear together.
function Result:write_audio(path, opts)
  local what = "write_audio"
  if self.dry then
    local c, p = plan(what, 2, path, opts, { cols = columns_of(self.columns), interval = self.sampling_dt,
                                             kind = "result", n_nodes = #self.model.net.nodes })
    local full = outputs.resolve(path, 2)
    return full, dry_report(full, c, p)
  end
  if not self.data then
    fail(what, 2, "nothing was kept in memory (the run streamed its output to files; pass " ..
         "'record' to keep variables, or stream audio with run{ output = { audio = {...} } })")
  end
  local rows = self.data:size()
  local c, p = plan(what, 2, path, opts, { cols = columns_of(self.columns), interval = self.sampling_dt,
                                           dt = self.dt, samples = rows, kind = "result",
                                           n_nodes = #self.model.net.nodes })
  local full = outputs.resolve(path, 2)
  outputs.check(what, 2, files_of(nil, path, full, p, 2))
  local w <close> = open_writer(what, 2, full, c)
  local cols = {}
  for k, inp in ipairs(p.inputs) do cols[k] = inp.col end
  local ok, err = w:feed_result(self.data, cols)
  if not ok then check.error(what .. ": " .. err, 2) end   -- e.g. "interrupted by SIGINT"
  return full, finish(what, 2, w, full, c, p)
end


--- For model:run, in two steps so that every output of the run is checked
-- before anything is opened: audio.stream_plan(model, spec, sim_dt, n_steps,
-- level) -> { outputs = {...} for outputs.check, open = function(level) ->
-- { writer, columns(record), finish(level[, commit_also]) -> report, abort_partial() ->
-- paths } }.  abort_partial (after a failed run) keeps the frames fed so far
-- as <stem>.partial.<ext> with its sidecar <stem>.partial.<ext>.json and
-- returns the paths kept ({} when nothing could be kept).
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
  local files = files_of("output.audio", path, full, p, level + 1)
  return {
    outputs = files,
    open = function(lvl)
      local w = open_writer(what, lvl + 1, full, c)
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
        finish = function(l, commit_also) return finish(what, l + 1, w, full, c, p, nil, commit_also) end,
        abort_partial = function()
          if outputs.is_stdout(full) then w:close(); return {} end   -- nothing to keep
          local ok, rep = pcall(finish, what, 1, w, full, c, p, true)
          w:close()
          if not ok then return {} end
          return { rep.path, rep.sidecar }
        end,
      }
    end,
  }
end


-- ---------------------------------------------------------------------
-- neuromass sonify RESULT.csv -o OUT [options]
-- ---------------------------------------------------------------------

local cli_options = {
  ["--column"] = "column", ["--variable"] = "variable", ["--nodes"] = "nodes",
  ["--speedup"] = "speedup", ["--map"] = "map", ["--rate"] = "rate", ["--bits"] = "bits",
  ["--layout"] = "layout", ["--pan"] = "pan", ["--regions"] = "regions", ["--skip"] = "skip",
  ["--highpass"] = "highpass", ["--normalize"] = "normalize", ["--headroom"] = "headroom",
  ["--gain"] = "gain", ["--fade"] = "fade", ["--quality"] = "quality", ["--mode"] = "mode",
  ["--drive"] = "drive", ["--carrier"] = "carrier", ["--pitch"] = "pitch",
  ["--envelope"] = "envelope", ["--sidecar"] = "sidecar",
}
local numeric = { speedup = true, rate = true, skip = true, highpass = true, headroom = true,
                  gain = true, fade = true, envelope = true, carrier = true }

local function cli_value(key, v)
  if key == "map" or key == "pitch" then
    local a, b = v:match("^([^:]+):([^:]+)$")
    if not (tonumber(a) and tonumber(b)) then
      error(string.format("--%s needs LOW:HIGH in Hz (e.g. 10:440), got '%s'", key, v), 0)
    end
    if key == "map" then return { from = tonumber(a), to = tonumber(b) } end
    return { tonumber(a), tonumber(b) }
  end
  if key == "nodes" then
    local list = {}
    for item in v:gmatch("[^,]+") do
      local i = math.tointeger(tonumber(item))
      if not i then error("--nodes needs node indices such as 0,3,5, got '" .. v .. "'", 0) end
      list[#list + 1] = i
    end
    return list
  end
  if key == "bits" then return v == "float" and "float" or tonumber(v) or v end
  if key == "normalize" and v == "off" then return "none" end
  if key == "highpass" and (v == "off" or v == "0") then return false end
  if key == "sidecar" then
    if v == "off" or v == "no" then return false end
    return v
  end
  if numeric[key] then
    local n = tonumber(v)
    if not n then error(string.format("--%s needs a number, got '%s'", key, v), 0) end
    return math.tointeger(n) or n
  end
  return v
end

--- The command `neuromass sonify`; argv = the arguments after "sonify".
-- Returns the lines to print (the host prints them unless --quiet).
function M.cli(argv)
  local input, out, opts = nil, nil, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-o" or a == "--output" then
      out = argv[i + 1]
      if not out then error("-o needs a file name", 0) end
      i = i + 2
    elseif a == "--quiet" then     -- the host's (context.quiet)
      i = i + 1
    elseif cli_options[a] then
      local v = argv[i + 1]
      if v == nil then error(string.format("option '%s' needs a value", a), 0) end
      opts[cli_options[a]] = cli_value(cli_options[a], v)
      i = i + 2
    elseif a:sub(1, 1) == "-" and #a > 1 then
      local names = {}
      for k in pairs(cli_options) do names[#names + 1] = k end
      table.sort(names)
      error(string.format("unknown option '%s'%s", a, check.suggest(a, names)), 0)
    elseif not input then
      input = a
      i = i + 1
    else
      error(string.format("unexpected argument '%s' (one CSV file, then -o OUT)", a), 0)
    end
  end
  if not input then error("sonify needs a CSV file: neuromass sonify RESULT.csv -o OUT.wav", 0) end
  if not out then error("sonify needs -o OUT.wav (or .flac, .ogg)", 0) end
  local reader, err = core.csv_reader(input)
  if not reader then error(err, 0) end
  if reader:name(0) ~= "t" then
    reader:close()
    error(string.format("'%s' does not look like a neuromass CSV (its first column is '%s', " ..
                        "expected 't')", input, tostring(reader:name(0))), 0)
  end
  -- the rows are counted first (one fast pass): the length, the skip and the
  -- disk space are checked before anything is written
  local rows, rerr = reader:count_rows()
  if not rows then reader:close(); error(input .. ": " .. rerr, 0) end
  local t, terr = reader:times(2)
  if not t then reader:close(); error(input .. ": " .. terr, 0) end
  if #t < 2 or not (t[2] > t[1]) then
    reader:close()
    error(string.format("'%s' needs at least two rows with increasing times", input), 0)
  end
  -- every row's time is checked against this grid while the file is fed
  local interval = t[2] - t[1]
  local function clean(e) return (tostring(e):gsub("^[^:]*:%d+: ", ""):gsub("^sonify: ", "")) end
  local ok, c, p = pcall(plan, "sonify", 1, out, opts, { candidates = csv_candidates(reader),
                                                         interval = interval, samples = rows,
                                                         kind = "csv", file = input })
  if not ok then reader:close(); error(clean(c), 0) end
  local cok, cerr = pcall(outputs.check, "sonify", 1, files_of("the output", out, out, p, 1),
                          { { role = "the input CSV", path = input } })
  if not cok then reader:close(); error(clean(cerr), 0) end
  local w, werr = core.audio_writer(out, c)
  if not w then reader:close(); error(werr, 0) end
  local cols = {}
  for k, inp in ipairs(p.inputs) do cols[k] = inp.col end
  reader:grid(interval)
  local fed, ferr = w:feed_csv(reader, cols)
  reader:close()
  if not fed then w:close(); error(input .. ": " .. ferr, 0) end
  local fok, rep = pcall(finish, "sonify", 1, w, out, c, p)
  if not fok then error(clean(rep), 0) end
  return {
    string.format("%s: %.3f s, %d channel%s, %d Hz, %s; speed-up %g; %d signal%s from %s",
                  out, rep.duration, rep.channels, rep.channels == 1 and "" or "s", rep.rate,
                  c.container == "ogg" and "vorbis" or c.encoding, rep.speedup, c.n_in,
                  c.n_in == 1 and "" or "s", input),
  }
end

M.plan = plan
M.json = json
M.dry_report = dry_report
return M
