-- helpers.lua: shared by the specs: locating fixtures, reading files and CSV files,
-- comparing trajectories with a tolerance relative to the signal's range.
local M = {}

local top = (debug.getinfo(1, "S").source:match("^@(.*)/tests/spec/helpers%.lua$")) or "."
M.top = top

function M.fixture(name) return top .. "/tests/fixtures/" .. name end

--- The options of a direct core sim:run (the binding has no defaults: every
-- field given), those in `over` replacing the plain run's.
function M.run_opts(over)
  local o = { n_steps = 1, every = 1, method = "euler", rtol = 0, atol = 0, threads = 0,
              record = {}, drivers = {}, stimuli = {}, keep = false, csv = false, csv_from = 1, header = {},
              hold_csv = false, progress = false, audio = false, audio_cols = {}, decimate = 1,
              bold = false, bold_csv = false, bold_header = false, jit = 0 }
  for k, v in pairs(over) do o[k] = v end
  if over.keep_cols == nil then o.keep_cols = 1 + #o.record end
  return o
end

--- Writes `text` to the file `path`.
function M.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

--- Writes `text` as a script s.lua in a new scratch folder and returns its path.
function M.script(text)
  local path = M.scratch() .. "/s.lua"
  M.write(path, text)
  return path
end

--- The whole text of the file `path`.
function M.read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

--- Reads a CSV with a header: { header = {names}, cols = { name = {values} }, rows = n }
function M.read_csv(path)
  local f = assert(io.open(path, "r"))
  local header = {}
  for name in f:read("l"):gmatch("[^,]+") do header[#header + 1] = name end
  local cols = {}
  for _, h in ipairs(header) do cols[h] = {} end
  local n = 0
  for line in f:lines() do
    n = n + 1
    local c = 0
    for cell in line:gmatch("[^,]+") do
      c = c + 1
      cols[header[c]][n] = tonumber(cell)
    end
  end
  f:close()
  return { header = header, cols = cols, rows = n }
end

--- Worst |a - b| and the range of b (its max - min).
function M.compare(a, b)
  assert(#a == #b, string.format("lengths differ: %d vs %d", #a, #b))
  local worst, lo, hi = 0, math.huge, -math.huge
  for i = 1, #b do
    local d = math.abs(a[i] - b[i])
    if d ~= d then d = math.huge end
    if d > worst then worst = d end
    if b[i] < lo then lo = b[i] end
    if b[i] > hi then hi = b[i] end
  end
  return worst, hi - lo
end

--- Asserts max|a - b| <= rel * range(b) (or rel when the range is 0); returns the ratio.
function M.assert_close(a, b, rel, what)
  local worst, range = M.compare(a, b)
  local scale = range > 0 and range or 1
  assert(worst <= rel * scale, string.format("%s: max |error| %.3g exceeds %.3g x range %.3g",
                                             what, worst, rel, range))
  return worst / scale
end

--- Reads the per-node initial conditions file: { column = {values by node} }
function M.read_ics(path)
  local t = M.read_csv(path)
  return t.cols
end

--- What f() wrote on io.stderr (the library's warnings), and its result;
-- f must succeed.
function M.warned(f)
  local got, saved = {}, io.stderr
  io.stderr = { write = function(_, ...) got[#got + 1] = table.concat({ ... }) end }  -- luacheck: ignore 122
  local ok, a = pcall(f)
  io.stderr = saved  -- luacheck: ignore 122 (put back)
  assert(ok, a)
  return table.concat(got), a
end

--- The message of f(...), which must fail (as text).
function M.error_of(f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("expected an error", 2) end
  return tostring(err)
end

--- Asserts that the message `err` of a call that failed is at a line of the
-- spec file `file` (a pattern of its name, e.g. "time_constants_spec%.lua")
-- and holds each of `words` (plain text).  (The spec calls pcall itself: the
-- line named is that of the call's first frame outside the library.)
function M.assert_message(err, file, words)
  err = tostring(err)
  assert(err:find(file .. ":%d+: "), "not at the spec's line: " .. err)
  for _, w in ipairs(words) do assert(err:find(w, 1, true), "no '" .. w .. "' in: " .. err) end
end

function M.sh(cmd)
  local out, err = os.tmpname(), os.tmpname()
  local ok, _, status = os.execute(cmd .. " >" .. out .. " 2>" .. err)
  local function slurp(p) local f = io.open(p); local s = f:read("a"); f:close(); os.remove(p); return s end
  return ok and 0 or status, slurp(out), slurp(err)
end

M.exe = os.getenv("NEUROMASS_EXE") or (top .. "/build/neuromass")

--- True under `make check-asan` (its LD_PRELOAD of the sanitizers): a limit on
-- the address space (ulimit -v, RLIMIT_AS) cannot hold AddressSanitizer's
-- reserved shadow memory, so the cases that set one do not run there.
M.ASAN = (os.getenv("LD_PRELOAD") or ""):find("libasan", 1, true) ~= nil

--- A string quoted for the shell.
function M.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- The lines of a text (empty ones left out).
function M.lines(text)
  local out = {}
  for l in text:gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

--- The times `part` (plain text) occurs in `text`, overlaps counted.
function M.count(text, part)
  local n, at = 0, 1
  while true do
    at = text:find(part, at, true)
    if not at then return n end
    n, at = n + 1, at + 1
  end
end

--- Runs `script` (Lua text) under `neuromass run`, from a new scratch
-- directory, with `extra` (shell words) after it; asserts exit status 0 and
-- returns its stdout and stderr.
function M.run_script(script, extra)
  local dir = M.scratch()
  M.write(dir .. "/s.lua", script)
  local status, out, err = M.sh(M.q(M.exe) .. " run " .. M.q(dir .. "/s.lua") .. (extra or ""))
  require("luassert").are.equal(0, status, err)
  return out, err
end

--- mpirun as the issue's tests start it: as root in containers, 2 ranks on
-- fewer cores.  `timeout` so that a hung job fails instead of hanging.
-- Under `make check-asan` the sanitizers are preloaded into the ranks
-- (neuromass) only, not into mpirun itself: Debian's Open MPI 4.1 launcher
-- frees a message its PMIx thread still reads (orte_rml_send_callback /
-- pmix_server_log_fn, a heap-use-after-free AddressSanitizer reports in
-- mpirun, which aborts the job).
M.MPIRUN = "timeout 120 mpirun --allow-run-as-root --oversubscribe -np 2 "
if M.ASAN then
  M.MPIRUN = "env -u LD_PRELOAD " .. M.MPIRUN .. "-x LD_PRELOAD=" .. M.q(os.getenv("LD_PRELOAD")) .. " "
end

--- nil when the MPI tests can run (mpirun and the module neuromass.mpi are
-- there), else why not (for pending).
function M.mpi_missing()
  if M.sh("command -v mpirun") ~= 0 then
    return "mpirun not found: install openmpi-bin and libopenmpi-dev (scripts/deps.sh), then rebuild"
  end
  if not package.searchpath("neuromass.mpi", package.cpath) then
    return "neuromass.mpi not built (no MPI found at build time): install libopenmpi-dev, then make MPI=1"
  end
  return nil
end

--- Lua lines for a script run by M.exe that stop it as Ctrl-C would: SIGTERM
-- to its own process (system(), behind os.execute, ignores SIGINT in the
-- caller while the command runs), then a loop where the stop is raised.
M.STOP_SELF = [[
os.execute("kill -TERM " .. io.open("/proc/self/stat"):read("n"))
for _ = 1, 1e6 do local _ = math.sin(1) end        -- (the stop is raised here)
]]

--- Lua lines for a script run by M.exe with worker processes: the script's
-- own process (not a worker) writes its pid to script.pid, for KILL_SCRIPT.
M.SAVE_PID = [[
if not os.getenv("NEUROMASS_EXPLORE_WORKER") then
  local f = io.open("script.pid", "w"); f:write(io.open("/proc/self/stat"):read("n")); f:close()
end
]]

--- Lua lines, run in a worker, that send SIGTERM to the script's process
-- alone (SAVE_PID's), then a loop where a stop of this worker is raised.
M.KILL_SCRIPT = [[
os.execute("kill -TERM " .. io.open("script.pid"):read("a"))
for _ = 1, 1e6 do local _ = math.sin(1) end
]]

--- The work f(...) does, in thousands of Lua VM instructions (a count, not a
-- time: the same on any machine, under ASan, beside other processes); what
-- it returns follows.  A call into C counts as one instruction, so this
-- measures the Lua side of a computation (how a cost grows with its size).
function M.work(f, ...)
  local count = 0
  local hook, mask, every = debug.gethook()
  debug.sethook(function() count = count + 1 end, "", 1000)
  local res = table.pack(pcall(f, ...))
  debug.sethook(hook, mask, every)
  if not res[1] then error(res[2], 0) end
  return count, table.unpack(res, 2, res.n)
end

local scratch_dirs = {}

--- A new temporary directory, removed by M.remove_scratch() (a spec's teardown).
function M.scratch()
  local _, out = M.sh("mktemp -d")
  local d = out:gsub("%s+$", "")
  scratch_dirs[#scratch_dirs + 1] = d
  return d
end

--- Removes the directories M.scratch() made.
function M.remove_scratch()
  for _, d in ipairs(scratch_dirs) do M.sh("rm -rf " .. M.q(d)) end
  scratch_dirs = {}
end

--- A new user's script (user_nodes_spec and the specs its cases moved to):
-- M.osc_preamble (a user's mass Osc and a model m of one node of it), then a
-- case's code, run as the chunk "u.lua".  Returns run_case(code) -> ok,
-- message; and fails_with(code, words), which asserts that `code` fails at
-- its last line with every word of `words` (plain text) in the message, and
-- returns the message.
M.osc_preamble = [[
local nm = require "neuromass"
local Osc = nm.mass { name = "Osc", label = "OscMass", state = { x = 0.1, y = 0, order = { "x", "y" } },
  params = { a = 0.1, w = 0.06 }, inputs = { "net_x" }, noise = 1,
  derivatives = function(s, p, u)
    return { x = (p.a - s.x^2) * s.x - p.w * s.y + u.net_x + u.input_0, y = p.w * s.x } end }
local m = nm.model(nm.node { label = "OscNode", masses = { Osc() } })
]]
function M.user_script()
  local luassert = require "luassert"
  local preamble = M.osc_preamble
  local _, preamble_lines = preamble:gsub("\n", "")
  local function run_case(code)
    local chunk = assert(load(preamble .. code .. "\n", "@u.lua"))
    return pcall(chunk)
  end
  local function fails_with(code, words)
    local ok, err = run_case(code)
    luassert.is_false(ok, "no error for: " .. code)
    local _, n = code:gsub("\n", "")
    local want = "u.lua:" .. (preamble_lines + n + 1) .. ": "
    luassert.are.equal(want, err:sub(1, #want), err)
    for _, w in ipairs(words) do luassert.is_truthy(err:find(w, 1, true), "'" .. w .. "' missing from: " .. err) end
    return err
  end
  return run_case, fails_with
end

return M
