-- bench_neurolib_spec.lua: neurolib's column of `make bench` when neurolib is absent, the fast
-- pieces only: scripts/neurolib-env.sh (shared with `make bench-study`) says why and leaves no
-- interpreter to run; bench/lib.lua's cells then say "not run: <why>" with no verdict, and a
-- measured time gives the "neurolib / neuromass" ratio against its target; the kernel times are
-- read from the JSON line bench/neurolib/kernels.py prints.
local h = require "helpers"
local lib = dofile(h.top .. "/bench/lib.lua")
local q = h.q

local function secs(t) return string.format("%.3f s", t) end

describe("make bench's neurolib column", function()
  it("is skipped with the reason when neurolib is not where NEUROLIB_SRC says", function()
    local status, out, err = h.sh("NEUROLIB_SRC=/nowhere NM_NEUROLIB_WHO=bench.sh sh -euc " ..
      q(". " .. q(h.top .. "/scripts/neurolib-env.sh") ..
        '; printf "python=[%s]\\nskip=[%s]\\n" "$NM_NEUROLIB_PYTHON" "$NM_NEUROLIB_SKIP"'))
    assert.equal(0, status, out .. err)
    assert.is_truthy(out:find("python=[]", 1, true), out)
    assert.is_truthy(out:find("skip=[neurolib not found in /nowhere (set NEUROLIB_SRC", 1, true), out)
    assert.is_truthy(err:find("bench.sh: skipping neurolib's column: neurolib not found in /nowhere",
                              1, true), err)
  end)

  it("says why in the measured cell and gives no verdict", function()
    local cell, met = lib.neurolib_cells("neurolib not found in /nowhere", 0.12, 2, secs)
    assert.equal("not run: neurolib not found in /nowhere", cell)
    assert.equal("–", met)
  end)

  it("divides neurolib's time by neuromass's and checks the target", function()
    local cell, met = lib.neurolib_cells(0.3, 0.1, 2, secs)
    assert.equal("3.00× (neurolib 0.300 s vs 0.100 s)", cell)
    assert.equal("yes", met)
    cell, met = lib.neurolib_cells(1.5, 0.5, 6, secs)
    assert.equal("3.00× (neurolib 1.500 s vs 0.500 s)", cell)
    assert.equal("**no**", met)
  end)

  it("reads the kernel times of kernels.py's JSON line", function()
    assert.same({ 0.337, 0.3, 1e-3 }, lib.neurolib_times(
      'warning\n{"case": "aln1", "n_nodes": 1, "warmup_s": 4.088, "kernel_s": [0.337, 0.3, 1e-3]}\n'))
    assert.is_nil(lib.neurolib_times("Traceback (most recent call last):\n"))
    assert.is_nil(lib.neurolib_times('{"kernel_s": []}'))
  end)
end)
