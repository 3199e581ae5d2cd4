-- check-long.lua: `make check-long`, the promises of long streamed runs that
-- `make test` is too short to see (README, "Where results go"; docs/bold.md,
-- "Across runs, and memory").  FitzHugh-Nagumo on the 80-node HCP connectome
-- runs streamed to files (CSV, BOLD CSV, WAV or FLAC) for 10 s and for 1000 s
-- (100 s with audio) and 7 ms, each in its own process, which reports its
-- peak resident memory (VmHWM) and what it wrote.  Checked: the peak stays under 50 MB and grows by
-- less than 8 MB from the short run to the long one; the CSV's last row is at
-- the last multiple of sampling_dt (no drift of t after 10^7 steps); the BOLD
-- CSV has the rows of its grid (g mod round(2000/dt) = 1); the audio has
-- duration / speedup * rate frames.  About 2 minutes on 2 cores.
--   NEUROMASS_EXE=build/neuromass build/neuromass run scripts/check-long.lua [SCALE]
-- (SCALE multiplies the long durations; default 1; without NEUROMASS_EXE, the
-- neuromass on the PATH runs the cases).
local nm = require "neuromass"
local core = require "neuromass.core"

local DT, SAMPLING, SPEEDUP, RATE = 0.1, 10, 40, 44100
local LIMIT_KB, GROWTH_KB = 50 * 1024, 8 * 1024

--- The process's peak resident memory, in kB (Linux's VmHWM).
local function peak_kb()
  local f = assert(io.open("/proc/self/status"))
  local kb = f:read("a"):match("VmHWM:%s*(%d+)")
  f:close()
  return tonumber(kb)
end

--- The first field of the last line of a file.
local function last_time(path)
  local f = assert(io.open(path, "rb"))
  local size = f:seek("end")
  f:seek("set", math.max(0, size - 65536))
  local tail = f:read("a")
  f:close()
  return tail:match("([^\n,]+),[^\n]*\n$")
end

--- The number of lines of a file, its header included.
local function lines(path)
  local n = 0
  for _ in io.lines(path) do n = n + 1 end
  return n
end

-- One case, in its own process: runs, then prints "key=value ..." on stdout.
if arg[1] == "case" then
  local duration, what, dir = tonumber(arg[2]), arg[3], arg[4]
  local hcp = nm.datasets.load("hcp")
  local model = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, K_gl = 0.6, seed = 1 }
  model.params.sigma_ou = 0.01
  local out = { bold = dir .. "/bold.csv" }
  if what:find("csv") then out.csv = dir .. "/x.csv" end
  local audio = what:match("wav") or what:match("flac")
  if audio then out.audio = { path = dir .. "/x." .. audio, variable = "x", speedup = SPEEDUP, rate = RATE } end
  local res = model:run { duration = duration, dt = DT, sampling_dt = SAMPLING, bold = true, output = out,
                          record = not out.csv and {} or nil, progress = false }
  local report = { peak = peak_kb(), bold_rows = lines(out.bold) - 1 }
  if out.csv then report.last_t = last_time(out.csv) end
  if audio then report.frames, report.file_frames = res.audio.frames, core.audio_read(res.audio.path).frames end
  local keys = {}
  for k, v in pairs(report) do keys[#keys + 1] = k .. "=" .. tostring(v) end
  table.sort(keys)
  print(table.concat(keys, " "))
  os.exit(0)
end

local scale = tonumber(arg[1] or "1")
local exe = os.getenv("NEUROMASS_EXE") or "neuromass"
local script = debug.getinfo(1, "S").source:sub(2)
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local scratch = io.popen("mktemp -d"):read("l")
local failures = 0

local function check(ok, text)
  print((ok and "PASS " or "FAIL ") .. text)
  if not ok then failures = failures + 1 end
end

--- Runs one case for `duration` ms; returns its report.
local function run(duration, what)
  local dir = scratch .. "/" .. what .. "-" .. duration
  os.execute("mkdir -p " .. q(dir))
  local p = io.popen(q(exe) .. " run " .. q(script) .. " case " .. string.format("%.17g", duration) .. " " ..
                     what .. " " .. q(dir) .. " --quiet")
  local line = p:read("a")
  local ok = p:close()
  local report = {}
  for k, v in line:gmatch("([%w_]+)=(%S+)") do report[k] = tonumber(v) or v end
  os.execute("rm -rf " .. q(dir))
  assert(ok and report.peak, what .. " for " .. duration .. " ms failed: " .. line)
  return report
end

for _, case in ipairs { { "csv", 10000, 1000007 }, { "csv+wav", 10000, 100007 }, { "flac", 10000, 100007 } } do
  local function scaled(ms) return math.floor(ms * scale / DT + 0.5) * DT end    -- (on the dt grid)
  local what, short, long = case[1], case[2], scaled(case[3])    -- (the short run's buffers all in use)
  local a, b = run(short, what), run(long, what)
  local steps = math.floor(long / DT + 0.5)
  local ndt = math.floor(2000 / DT + 0.5)
  check(b.peak < LIMIT_KB and b.peak - a.peak < GROWTH_KB,
        string.format("%s + bold: peak memory %.1f MB for %g s, %.1f MB for %g s (under 50 MB, growth under 8 MB)",
                      what, a.peak / 1024, short / 1000, b.peak / 1024, long / 1000))
  local rows = steps > 1 and (steps - 2) // ndt + 1 or 0
  check(b.bold_rows == rows, string.format("%s: %d BOLD rows for %g s (its grid has %d)", what, b.bold_rows,
                                           long / 1000, rows))
  if b.last_t then
    local want = string.format("%.12g", math.floor(long / SAMPLING + 1e-9) * SAMPLING)
    check(b.last_t == tonumber(want), string.format("%s: the last row at t = %s after %d steps (%s)", what,
                                                    b.last_t, steps, want))
  end
  if b.frames then
    local want = math.floor(long / 1000 / SPEEDUP * RATE + 0.5)
    check(b.frames == want and b.file_frames == want, string.format("%s: %d frames (report), %d (file) for %g s " ..
          "at speed-up %d (%d)", what, b.frames, b.file_frames, long / 1000, SPEEDUP, want))
  end
end
os.execute("rm -rf " .. q(scratch))
print(string.format("check-long: %d failed", failures))
os.exit(failures == 0 and 0 or 1)
