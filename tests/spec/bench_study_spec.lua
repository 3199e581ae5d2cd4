-- bench_study_spec.lua: the driver of `make bench-study` (bench/study.lua) with neurolib
-- absent: neurolib's column gives the reason instead of failing the driver, each neuromass
-- run shows its time or why it failed (and the exit status says whether one failed), and
-- the driver's block replaces its previous version in the results file, leaving the rest
-- as it was, between the markers `make bench` carries over (bench/lib.lua's study_block).
-- A 2 s run stands in for the study's 5 minutes.
local h = require "helpers"
local lib = dofile(h.top .. "/bench/lib.lua")
local q = h.q

describe("make bench-study's driver (bench/study.lua)", function()
  local dir

  setup(function()
    dir = h.scratch()
    local status, _, err = h.sh(string.format(
      "cc -std=c11 -O2 -o %s %s && cc -std=c11 -O2 -fPIC -shared $(pkg-config --cflags lua5.4) -o %s %s",
      q(dir .. "/runstat"), q(h.top .. "/bench/tools/runstat.c"), q(dir .. "/bench_clock.so"),
      q(h.top .. "/bench/tools/clock.c")))
    assert(status == 0, "cannot build runstat and bench_clock.so: " .. err)
  end)

  teardown(h.remove_scratch)

  it("skips neurolib with the reason and rewrites only its own block", function()
    local results = dir .. "/RESULTS.md"
    h.write(results, "# Benchmark results\n\nbefore the block\n\n" .. lib.study_begin ..
                     "\nstale figures\n" .. lib.study_end .. "\n\nafter the block\n")
    local env = string.format("NM_BENCH_EXE=%s NM_BENCH_BIN=%s NM_BENCH_OUT=%s NM_STUDY_PYTHON= " ..
                              "NM_STUDY_SKIP='neurolib not found in /nowhere' NM_STUDY_DURATION=2000",
                              q(h.exe), q(dir), q(results))
    local status, out, err = h.sh(env .. " " .. q(h.exe) .. " run " .. q(h.top .. "/bench/study.lua") ..
                                  " --quiet")
    local f = assert(io.open(results))
    local text = f:read("a")
    f:close()

    local block = lib.study_block(text)
    assert.is_truthy(block, "no study block in:\n" .. text)
    assert.is_nil(text:find("stale figures", 1, true))
    assert.is_truthy(text:find("# Benchmark results\n\nbefore the block\n\n" .. lib.study_begin, 1, true))
    assert.is_truthy(text:find(lib.study_end .. "\n\nafter the block\n", 1, true))
    assert.equal(1, select(2, text:gsub(lib.study_begin:gsub("%p", "%%%0"), "")))
    assert.is_truthy(block:find("2 s simulated", 1, true))

    -- Every row of the table: neurolib's cell says why it was not run.
    local rows = 0
    for line in block:gmatch("\n(| [^\n]*)") do
      if not line:find("^| case |") then
        rows = rows + 1
        local cells = {}
        for c in line:gmatch("| ([^|]*) ") do cells[#cells + 1] = c end
        assert.equal("not run: neurolib not found in /nowhere", cells[3], line)
      end
    end
    assert.equal(8, rows)
    -- The run without BOLD needs nothing new: its neuromass cell is a time.
    local kernel = block:match("\n| ALN%-80 gw, 2 s simulated at dt 0.1 ms, no BOLD: [^|]*| ([^|]*) |")
    assert.is_truthy(kernel and kernel:match("^[%d.]+ s$"), "no time for the run without BOLD: " ..
                     tostring(kernel) .. "\n" .. out .. err)
    -- With BOLD: a time, or the reason it failed; the exit status agrees.
    local with = block:match("\n| ALN%-80 gw, 2 s simulated at dt 0.1 ms, BOLD: [^|]*| ([^|]*) |")
    assert.is_truthy(with and (with:match("^[%d.]+ s %(CPU [%d.]+ s%)$") or with:match("^failed: .+")),
                     tostring(with))
    assert.equal(block:find("| failed: ", 1, true) and 1 or 0, status, out .. err)
  end)
end)
