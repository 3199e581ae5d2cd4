-- jit_spec.lua: native code for programs (docs/jit.md) gives the
-- interpreter's results bit for bit: every zoo model as one node, the
-- 80-node HCP networks of FHN and ALN, 64 uncoupled ALN nodes (an explore
-- batch; its clamped lookups warned alike), MultiModel-style networks of
-- several masses per node, a custom mass using every operation, and exp
-- over a sweep of arguments on 331, 9 and 1 lanes (also against math.exp); the
-- cache across processes (a second process loads, compiles nothing), no
-- compiler on PATH, NEUROMASS_JIT=0 (and its unknown values); damaged
-- objects and FIFOs in the cache; a full disk's compile; the option's errors.  The compiles go
-- to the suite's XDG_CACHE_HOME (scripts/run-tests.sh makes a temporary one).
local h = require "helpers"
local nm = require "neuromass"
local core = require "neuromass.core"

local q = h.q

-- Every recorded column of two results, compared as bits (NaN = NaN).
local function assert_same(a, b, what)
  assert.are.equal(#a.columns, #b.columns)
  assert.is_true(a:rows() > 10, what .. ": too few rows to compare")
  for c = 0, #a.columns - 1 do
    local x, y = a.data:column(c), b.data:column(c)
    assert.are.equal(#x, #y)
    for i = 1, #x do
      if string.pack("d", x[i]) ~= string.pack("d", y[i]) then
        error(string.format("%s: column %s row %d: interpreter %.17g, native %.17g", what,
                            a.columns[c + 1], i, x[i], y[i]), 2)
      end
    end
  end
end

-- Runs `make()`'s model with the interpreter, then natively (required), from
-- the same start; every variable recorded.
local function both(make, opts, what)
  local n0 = core.jit_stats().native
  local runs = {}
  for k, jit in ipairs { false, "require" } do
    local m = make()
    local o = { jit = jit }
    for key, v in pairs(opts) do o[key] = v end
    runs[k] = m:run(o)
  end
  assert.is_true(core.jit_stats().native > n0, what .. ": no program ran natively")
  assert_same(runs[1], runs[2], what)
end

local ZOO = { "aln", "fhn", "hopf", "kuramoto", "rww", "thalamus", "wc", "ww" }

describe("native code", function()
  it("gives the interpreter's bits for every zoo model as one node", function()
    for _, name in ipairs(ZOO) do
      both(function() return nm.models[name].native { seed = 3 } end,
           { duration = 200, dt = 0.1 }, name)
    end
  end)

  it("gives the interpreter's bits for 80-node HCP networks with noise, on 1 and 2 threads", function()
    local hcp = nm.datasets.load("hcp")
    for _, name in ipairs { "fhn", "aln" } do
      for _, threads in ipairs { 1, 2 } do
        both(function()
          return nm.models[name].native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, seed = 42, sigma_ou = 0.05 }
        end, { duration = 20, dt = 0.1, seed = 7, threads = threads },
        string.format("%s-80 on %d threads", name, threads))
      end
    end
  end)

  -- 11 nodes: native code runs lanes in blocks of 8 (docs/jit.md), so these
  -- networks take both the blocked form and the lane-by-lane rest.
  local function matrices(n)
    local C, D = {}, {}
    for i = 1, n do
      C[i], D[i] = {}, {}
      for j = 1, n do
        local k = (i * 7 + j * 3) % 11
        C[i][j] = (i ~= j and k < 6) and 0.05 * k or 0
        D[i][j] = C[i][j] ~= 0 and (i + 2 * j) % 6 or 0
      end
    end
    return C, D
  end

  -- The shape of an explore batch (docs/jit.md): 64 uncoupled ALN nodes, their
  -- table lookups in vectorised blocks; strong noise takes lanes outside the
  -- tables' grid, so the clamped lanes are counted in blocks too.
  it("gives the interpreter's bits for 64 uncoupled ALN nodes", function()
    local zero = {}
    for i = 1, 64 do
      zero[i] = {}
      for j = 1, 64 do zero[i][j] = 0 end
    end
    -- Each run warns once on stderr: the interpreter's warning, then the native one.
    local warned, stderr = {}, io.stderr
    io.stderr = { write = function(_, text) warned[#warned + 1] = text end }  -- luacheck: ignore (captured)
    local ok, err = pcall(both, function()
      return nm.models.aln.native { Cmat = zero, Dmat = zero, seed = 11, sigma_ou = 1.5 }
    end, { duration = 50, dt = 0.1, seed = 3 }, "ALN x 64")
    io.stderr = stderr  -- luacheck: ignore (restored)
    assert(ok, err)
    assert.are.equal(2, #warned)
    assert.is_truthy(warned[1]:find("lookups in tables 'ALN tau_mu_exp'", 1, true))
    assert.are.equal(warned[1], warned[2])
  end)

  it("gives the interpreter's bits for networks of several masses per node", function()
    local C, D = matrices(11)
    for _, name in ipairs { "aln", "wc", "ww", "kuramoto", "rww" } do
      both(function() return nm.model(nm.models[name].network(C, D, { seed = 5 })) end,
           { duration = 100, dt = 0.1, integrator = "heun" }, name .. " network")
    end
    both(function() return nm.model(nm.models.thalamus.node {}) end,
         { duration = 100, dt = 0.05, integrator = "rk4" }, "thalamus node")
  end)

  it("gives the interpreter's bits for a custom mass using every operation", function()
    local M = nm.mass {
      name = "every op", label = "Every",
      state = { x = 0.3, y = -0.2, order = { "x", "y" } },
      params = { a = 1.3, b = 0.7 },
      inputs = { "net" },
      outputs = function(s) return { z = nm.atan2(s.x, s.y) } end,
      coupling = "z",
      derivatives = function(s, p, u)
        local e = nm.exp(-s.x ^ 2) + nm.log(1 + nm.abs(s.y)) + nm.sqrt(nm.abs(s.x)) +
                  nm.tanh(s.y) * nm.sin(s.x) - nm.cos(s.y) + nm.floor(s.x * 3) / 3 +
                  nm.min(s.x, s.y) * nm.max(s.x, p.a) + (s.y % 0.25) + (s.x % -0.3) +
                  nm.abs(s.y) ^ p.b +
                  nm.lt(s.x, s.y) + nm.le(s.x, 0) - nm.gt(s.y, 0) + nm.ge(s.x, s.y) +
                  nm.eq(nm.floor(s.x), 0) - nm.ne(s.y, 0) + nm.ifelse(nm.gt(s.x, 0), s.y, -s.y) +
                  0.01 * nm.sin(nm.t) + u.net
        return { x = -s.x + 0.1 * nm.tanh(e), y = -p.b * s.y + 0.2 * nm.cos(e) }
      end,
    }
    local node = nm.node { label = "N", masses = { M() } }
    local C, D = matrices(11)
    both(function()
      return nm.model(nm.network { nodes = nm.replicate(node, 11), connectivity = C, delays = D,
                                   sync = function(net) return { net = net:additive("z") } end })
    end, { duration = 100, dt = 0.1, integrator = "rk4" }, "every op")
  end)

  -- exp over lanes (src/engine/exp_lanes.c: the interpreter's lanes, native
  -- code's blocks of 8; lanes one by one, native code's rest of a block and
  -- its single nodes, the same step compiled into the object: jit_emit.c
  -- exp_one_of), each lane's argument a + k t + c / b: 331 nodes (41 blocks
  -- and 3 lanes more) sweeping [-746, 711] over the run, and the edges (the
  -- step's limits 2^-54 and 512, overflow, subnormal and zero results, +-0,
  -- +-inf and NaN from c / b); then 9 nodes (a block and one lane more) and
  -- single nodes, each a sweep of 20000 arguments over [-746, 711] and the
  -- edges.  x' = min(exp(.), 1e300) keeps the state finite (inf and NaN
  -- become 1e300).  Native code equals the interpreter bit for bit, and both
  -- equal Euler's sum of Lua's math.exp (the C library's), computed here
  -- with the same operations.
  describe("exp over a sweep of arguments", function()
    local M = nm.mass {
      name = "exp sweep", label = "Sweep",
      state = { x = 0 },
      params = { a = 0, k = 0, c = 0, b = 1 },
      derivatives = function(s, p)
        return { x = nm.min(nm.exp(p.a + p.k * nm.t + p.c / p.b), 1e300) + 0 * s.x }
      end,
    }
    local edges = { 0.0, -0.0, 2^-54, -2^-54, 2^-54 * (1 - 2^-53), 2^-60, 1e-300, 4.9e-324, 512.0,
                    -512.0, 511.99999999999994, 709.782712893384, 709.7827128933841, 710.0,
                    -708.3964185322641, -708.39641853226421, -745.1332191019411,
                    -745.1332191019412, -744.44007192138122, -746.0, 1000.0, -1000.0, 1.0, -1.0 }
    local specials = {}
    for _, e in ipairs(edges) do specials[#specials + 1] = { a = e, k = 0, c = 0, b = 1 } end
    for _, cb in ipairs { { 1, 0 }, { -1, 0 }, { 0, 0 } } do   -- +inf, -inf, NaN
      specials[#specials + 1] = { a = 0, k = 0, c = cb[1], b = cb[2] }
    end
    specials[#specials + 1] = { a = -3, k = 1e-17, c = 0, b = 1 }    -- 2^-54 .. near 0 steps
    specials[#specials + 1] = { a = 511.5, k = 0.0625, c = 0, b = 1 } -- across 512
    specials[#specials + 1] = { a = 709.5, k = 0.03125, c = 0, b = 1 } -- across overflow
    specials[#specials + 1] = { a = -744.5, k = -0.03125, c = 0, b = 1 } -- into zero

    -- The nodes of `specs` (one each) run `steps` steps of dt 1, natively and
    -- interpreted; each node's x against math.exp's sum.
    local function sweep(specs, steps, what)
      local n = #specs
      local zero = {}
      for i = 1, n do
        zero[i] = {}
        for j = 1, n do zero[i][j] = 0 end
      end
      local function make()
        if n == 1 then return nm.model(nm.node { label = "N", masses = { M { params = specs[1] } } }) end
        local nodes = {}
        for i, p in ipairs(specs) do nodes[i] = nm.node { label = "N", masses = { M { params = p } } } end
        return nm.model(nm.network { nodes = nodes, connectivity = zero, delays = zero })
      end
      local opts = { duration = steps, dt = 1, integrator = "euler" }
      both(make, opts, what)
      local res = make():run(opts)
      assert.are.equal(n + 1, #res.columns)       -- t, then x of each node
      local rows = res:rows()
      assert.are.equal(steps, rows)               -- t = 1 .. steps
      for c = 1, n do
        local p, col, x = specs[c], res.data:column(c), 0.0
        for r = 1, rows do
          local t = (r - 1) * 1.0                 -- row r: after the step from t = r - 1
          local e = math.exp(p.a + p.k * t + p.c / p.b)
          x = x + 1.0 * (e < 1e300 and e or 1e300)  -- nm.min's rule (a < b ? a : b): NaN gives 1e300
          if string.pack("d", col[r]) ~= string.pack("d", x) then
            error(string.format("%s: node %d row %d: engine %a, math.exp's sum %a", what, c, r, col[r], x))
          end
        end
      end
    end

    it("on 331 nodes gives the interpreter's bits and the C library's", function()
      local specs = {}
      for i = 0, 299 do     -- 300 lanes starting across [-746, 696], 0.37 per ms
        specs[#specs + 1] = { a = -746 + i * 1442 / 299, k = 0.37, c = 0, b = 1 }
      end
      for _, p in ipairs(specials) do specs[#specs + 1] = p end
      assert.are.equal(331, #specs)
      sweep(specs, 40, "exp sweep, 331 nodes")
    end)

    -- 20000 steps: each lane's argument from -746 (plus its offset) up by 0.0729 a step.
    local STEPS, K = 20000, 1457 / 20000

    it("on 9 nodes (a block and one lane more) gives the interpreter's bits and the C library's", function()
      local specs = {}
      for i = 0, 8 do specs[#specs + 1] = { a = -746 + i * K / 9, k = K, c = 0, b = 1 } end
      sweep(specs, STEPS, "exp sweep, 9 nodes")
      -- the edges, 9 to a network (single nodes below take each one alone)
      for i0 = 1, #specials, 8 do
        specs = {}
        for i = i0, i0 + 8 do specs[#specs + 1] = specials[(i - 1) % #specials + 1] end
        sweep(specs, 40, "exp edges, 9 nodes from " .. i0)
      end
    end)

    it("on single nodes gives the interpreter's bits and the C library's", function()
      sweep({ { a = -746, k = K, c = 0, b = 1 } }, STEPS, "exp sweep, one node")
      for i, p in ipairs(specials) do sweep({ p }, 40, "exp edge " .. i .. ", one node") end
    end)
  end)

  it("refuses a bad jit option at the script's line", function()
    local m = nm.models.fhn.native {}
    local ok, err = pcall(function() m:run { duration = 1, jit = "yes" } end)
    assert.is_false(ok)
    assert.matches("jit_spec.lua:%d+: run: 'jit' must be true", err)
    assert.matches('"yes"', err, 1, true)
  end)

  -- Before: jit = "require" on a model of slow masses passed, its derivatives all Lua (a network's
  -- inputs, summed by a compiled program, even counted as native code).
  it("jit = \"require\" refuses a model whose masses are all slow, naming them; \"always\" runs it", function()
    local function slow(label, inputs)
      return nm.mass { label = label, state = { v = 1.0 }, params = { tau = 10.0 }, slow = true, inputs = inputs,
                       derivatives = function(s, p, u) return { v = -s.v / p.tau + (inputs and u.net or 0) } end }
    end
    local A, B = slow("SlowA"), slow("SlowB", { "net" })
    local one = nm.model(nm.node { label = "One", masses = { A() } })
    local net = nm.model(nm.network { label = "Net", nodes = nm.replicate(nm.node { label = "N", masses = { B() } }, 3),
                                      connectivity = { { 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 0 } },
                                      sync = function(n) return { net = n:diffusive("v", { gain = 0.1 }) } end })
    local two = nm.model(nm.node { label = "Two", masses = { A(), B() } })
    for _, case in ipairs { { one, "model 'One' has nothing to compile to native code: its mass 'SlowA' is slow" },
                            { net, "model 'Net' has nothing to compile to native code: its mass 'SlowB' is slow" },
                            { two, "its masses 'SlowA', 'SlowB' are all slow = true" } } do
      local m, why = case[1], case[2]
      local ok, err = pcall(function() m:run { duration = 1, jit = "require" } end)
      assert.is_false(ok)
      assert.matches('jit_spec.lua:%d+: run: jit = "require": ', err)
      assert.matches(why, err, 1, true)
      -- as jit = "always" runs a model it cannot compile: interpreted, silently, the bits of jit = false
      assert.are.equal(m:run { duration = 1, jit = false }.data:column(1)[11],
                       m:run { duration = 1, jit = "always" }.data:column(1)[11])
    end
    -- A compiled mass beside a slow one: its code is native, the slow one stays Lua.
    local Fast = nm.mass { label = "Fast", state = { x = 0.5 }, params = { k = 0.1 },
                           derivatives = function(s, p) return { x = -p.k * s.x } end }
    local n0 = core.jit_stats().native
    nm.model(nm.node { label = "Mixed", masses = { Fast(), A() } }):run { duration = 1, jit = "require" }
    assert.is_true(core.jit_stats().native > n0)
  end)
end)

describe("the native code cache", function()
  after_each(h.remove_scratch)

  -- A script printing the stats and the bits of the last state, run by the
  -- host in a fresh process with `env` before it.
  local script = [[
local nm = require "neuromass"
local core = require "neuromass.core"
local m = nm.models.aln.native { seed = 9 }
local r = m:run { duration = 1000, dt = 0.1, jit = JIT }
local s = core.jit_stats()
local col = r.data:column(1)
io.write(string.format("compiled=%d loaded=%d refused=%d failed=%d native=%d last=%a\n",
  s.compiled, s.loaded, s.refused, s.failed, s.native, col[#col]))
]]
  local function run(dir, env, jit)
    h.write(dir .. "/s.lua", (script:gsub("JIT", jit)))
    local status, out, err = h.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(dir .. "/cache") ..
                                  " " .. env .. " " .. q(h.exe) .. " run s.lua")
    assert.are.equal(0, status, err)
    local t = {}
    for k, v in out:gmatch("(%a+)=(%S+)") do t[k] = tonumber(v) or v end
    return t
  end

  it("compiles once; a second process loads; a corrupt file is rebuilt", function()
    local dir = h.scratch()
    local ref = run(dir, "", "false")
    assert.are.equal(0, ref.compiled + ref.loaded + ref.native)
    local first = run(dir, "", '"always"')
    assert.is_true(first.compiled > 0 and first.native > 0)
    assert.are.equal(ref.last, first.last)
    -- The default mode: a run of 10,000 steps is long enough to load, not to compile.
    local second = run(dir, "", "true")
    assert.are.equal(0, second.compiled)
    assert.are.equal(first.compiled, second.loaded)
    assert.are.equal(ref.last, second.last)
    local status = h.sh("cd " .. q(dir .. "/cache/neuromass") ..
                        " && for f in *.so; do head -c 100 \"$f\" > x && mv x \"$f\"; done")
    assert.are.equal(0, status)
    local third = run(dir, "", '"always"')
    assert.are.equal(first.compiled, third.refused)
    assert.are.equal(first.compiled, third.compiled)
    assert.are.equal(ref.last, third.last)
  end)

  it("runs interpreted without a compiler, or with NEUROMASS_JIT=0", function()
    local dir = h.scratch()
    local ref = run(dir, "", "false")
    local nocc = run(dir, "PATH=/nonexistent", '"always"')
    assert.is_true(nocc.failed > 0)
    assert.are.equal(0, nocc.native)
    assert.are.equal(ref.last, nocc.last)
    local off = run(dir, "NEUROMASS_JIT=0", '"always"')
    assert.are.equal(0, off.compiled + off.native + off.failed)
    local _, _, err = h.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(dir .. "/c2") ..
                           " PATH=/nonexistent " .. q(h.exe) .. " run s.lua")
    assert.are.equal("", err)
    h.write(dir .. "/s.lua", (script:gsub("JIT", '"require"')))
    local status, _, err2 = h.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(dir .. "/c3") ..
                                 " PATH=/nonexistent " .. q(h.exe) .. " run s.lua")
    assert.are_not.equal(0, status)
    assert.matches("cannot run the C compiler 'cc'", err2, 1, true)
    assert.matches('s.lua:4: run: jit = "require": ', err2, 1, true)
    -- NEUROMASS_JIT=0 turns native code off: a run that requires it fails, naming both.
    local status3, _, err3 = h.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(dir .. "/c3") ..
                                  " NEUROMASS_JIT=0 " .. q(h.exe) .. " run s.lua")
    assert.are_not.equal(0, status3)
    assert.matches('s.lua:4: run: jit = "require": native code is turned off by NEUROMASS_JIT',
                   err3, 1, true)
  end)

  it("refuses a NEUROMASS_JIT that is not off, 0, on or 1, naming it", function()
    local dir = h.scratch()
    local ref = run(dir, "", "false")
    assert.are.equal(ref.last, run(dir, "NEUROMASS_JIT=on", "true").last)
    assert.are.equal(0, run(dir, "NEUROMASS_JIT=1", "false").native)
    h.write(dir .. "/s.lua", (script:gsub("JIT", "true")))
    for _, v in ipairs { "OFF", "false", "no" } do
      local status, _, err = h.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(dir .. "/cache") ..
                                  " NEUROMASS_JIT=" .. v .. " " .. q(h.exe) .. " run s.lua")
      assert.are_not.equal(0, status)
      assert.matches('s.lua:4: run: NEUROMASS_JIT="' .. v .. '" in the environment: it must be off (or 0: ' ..
                     "no native code), on (or 1) or unset", err, 1, true)
    end
  end)

  it("runs interpreted with an unwritable cache; jit = \"require\" then names the directory and why", function()
    local dir = h.scratch()
    h.write(dir .. "/file", "")                    -- a file where the cache would go (root writes anywhere else)
    local ref = run(dir, "", "false")
    local quiet = run(dir, "XDG_CACHE_HOME=" .. q(dir .. "/file"), "true")
    assert.are.equal(0, quiet.compiled + quiet.native)
    assert.are.equal(ref.last, quiet.last)
    h.write(dir .. "/s.lua", (script:gsub("JIT", '"require"')))
    local status, _, err = h.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(dir .. "/file") .. " " ..
                                q(h.exe) .. " run s.lua")
    assert.are_not.equal(0, status)
    assert.matches('s.lua:4: run: jit = "require": no writable cache directory: ' .. dir ..
                   "/file/neuromass: Not a directory (XDG_CACHE_HOME chooses another)", err, 1, true)
  end)

  -- Before: a read-only cache (filled beforehand: a container image, a site's install) was never read,
  -- every run interpreted, and jit = "require" said "no writable cache directory" with the object there.
  it("loads the objects of a read-only cache; a program it lacks runs interpreted, \"require\" naming why", function()
    local dir = h.scratch()
    local ref = run(dir, "", "false")
    local first = run(dir, "", '"always"')
    assert.is_true(first.compiled > 0, "compiled into the cache")
    -- read-only for the process: root writes anywhere, so a root's run is made without the capabilities
    -- that override file modes (it still reads the checkout, wherever that is, as its owner)
    local root = h.sh("test \"$(id -u)\" = 0") == 0
    local as = root and "setpriv --bounding-set -dac_override,-dac_read_search" or ""
    assert.are.equal(0, h.sh("chmod -R a+rX,a-w " .. q(dir .. "/cache")))
    local ro = run(dir, as, '"require"')
    assert.are.equal(first.compiled, ro.loaded)
    assert.are.equal(0, ro.compiled + ro.failed)
    assert.is_true(ro.native > 0)
    assert.are.equal(ref.last, ro.last)
    -- a program the cache lacks (another seed's model is the same program: the cache emptied instead)
    assert.are.equal(0, h.sh("chmod u+w " .. q(dir .. "/cache/neuromass") .. " && rm -f " ..
                             q(dir .. "/cache/neuromass") .. "/*.so && chmod a-w " .. q(dir .. "/cache/neuromass")))
    local quiet = run(dir, as, "true")
    assert.are.equal(0, quiet.native + quiet.loaded)
    assert.are.equal(ref.last, quiet.last)
    h.write(dir .. "/s.lua", (script:gsub("JIT", '"require"')))
    local status, _, err = h.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(dir .. "/cache") .. " " .. as ..
                                " " .. q(h.exe) .. " run s.lua")
    assert.are_not.equal(0, status)
    assert.matches('s.lua:4: run: jit = "require": no writable cache directory: ' .. dir .. "/cache/neuromass: " ..
                   "Permission denied (it holds no object of this program to load; XDG_CACHE_HOME chooses another)",
                   err, 1, true)
    assert.are.equal(0, h.sh("chmod -R u+w " .. q(dir .. "/cache")))     -- (for the scratch's removal)
  end)

  -- `s.lua` with jit = "require" in a fresh process, `env` before it: status, stderr.
  local function required(dir, env)
    h.write(dir .. "/s.lua", (script:gsub("JIT", '"require"')))
    local status, _, err = h.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(dir .. "/cache") ..
                                " " .. env .. " " .. q(h.exe) .. " run s.lua")
    return status, err
  end

  it("names the cache directory's fault: a file in its place, a relative XDG_CACHE_HOME; " ..
     "creates missing parents", function()
    local dir = h.scratch()
    assert.are.equal(0, h.sh("mkdir " .. q(dir .. "/c1") .. " && touch " ..
                             q(dir .. "/c1/neuromass")))
    local status, err = required(dir, "XDG_CACHE_HOME=" .. q(dir .. "/c1"))
    assert.are_not.equal(0, status)
    assert.matches('s.lua:4: run: jit = "require": no writable cache directory: ' .. dir ..
                   "/c1/neuromass: Not a directory", err, 1, true)
    -- XDG's rule: a relative path is ignored; the message says so (HOME has no .cache here).
    status, err = required(dir, "HOME=" .. q(dir .. "/nohome") .. " XDG_CACHE_HOME=rel")
    assert.are_not.equal(0, status)
    assert.matches(dir .. "/nohome/.cache/neuromass: No such file or directory " ..
                   '(XDG_CACHE_HOME="rel" is ignored: not an absolute path)', err, 1, true)
    -- XDG's rule too: missing directories are made.
    status, err = required(dir, "XDG_CACHE_HOME=" .. q(dir .. "/a/b/c"))
    assert.are.equal(0, status, err)
    assert.are.equal(0, h.sh("ls " .. q(dir .. "/a/b/c/neuromass") .. "/*.so"))
  end)

  -- Before: "a program has no native code (an earlier attempt failed)", the reason printed nowhere.
  it("jit = \"require\" after a failed attempt in the same process names that attempt's reason", function()
    local dir = h.scratch()
    h.write(dir .. "/s.lua", [=[
local nm = require "neuromass"
local m = nm.models.aln.native {}
m:run { duration = 10, jit = "always" }
m:run { duration = 10, jit = "require" }
]=])
    local status, _, err = h.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(dir .. "/cache") ..
                                " NEUROMASS_CC=" .. q(dir .. "/none") .. " " .. q(h.exe) .. " run s.lua")
    assert.are_not.equal(0, status)
    assert.matches('s.lua:4: run: jit = "require": an earlier attempt at this program\'s native code in this ' ..
                   "process failed: cannot run the C compiler '" .. dir .. "/none' (No such file or directory)",
                   err, 1, true)
  end)

  it("names the signal that stopped the C compiler", function()
    local dir = h.scratch()
    h.write(dir .. "/cc", "#!/bin/sh\nkill -SEGV $$\n")
    assert.are.equal(0, h.sh("chmod +x " .. q(dir .. "/cc")))
    local status, err = required(dir, "NEUROMASS_CC=" .. q(dir .. "/cc"))
    assert.are_not.equal(0, status)
    assert.matches("the C compiler '" .. dir .. "/cc' was stopped by signal 11 (Segmentation fault) " ..
                   "without a message", err, 1, true)
  end)

  -- A compiler that exits 0 with something else than the program's object (a text, an object
  -- of another source) gets a reason, and its output never lands under the object's name.
  it("refuses what a compiler made that is not the program's object, naming why, " ..
     "and files none of it in the cache", function()
    local dir = h.scratch()
    local out = 'while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done\n'
    h.write(dir .. "/text", "#!/bin/sh\n" .. out .. 'echo garbage > "$out"\n')
    h.write(dir .. "/other", "#!/bin/sh\n" .. out .. "echo 'int f(void) { return 0; }' > " ..
            q(dir .. "/f.c") .. '\nexec cc -shared -fPIC -o "$out" ' .. q(dir .. "/f.c") .. "\n")
    assert.are.equal(0, h.sh("chmod +x " .. q(dir .. "/text") .. " " .. q(dir .. "/other")))
    for cc, why in pairs { text = "not a complete ELF shared object",
                           other = "it lacks nm_jit_main or nm_jit_key" } do
      local status, err = required(dir, "NEUROMASS_CC=" .. q(dir .. "/" .. cc))
      assert.are_not.equal(0, status)
      assert.matches("the C compiler '" .. dir .. "/" .. cc .. "' made no loadable object: " .. why,
                     err, 1, true)
      local _, files = h.sh("ls " .. q(dir .. "/cache/neuromass"))
      assert.is_nil(files:find("%.so"), files)
    end
  end)

  -- The cached objects' paths (one per compiled program).
  local function objects(dir)
    local _, out = h.sh("ls " .. q(dir .. "/cache/neuromass") .. "/*.so")
    local t = {}
    for f in out:gmatch("%S+") do t[#t + 1] = f end
    return t
  end

  it("refuses an object whose code was changed in place (a vmulsd made vaddsd)", function()
    local dir = h.scratch()
    local ref = run(dir, "", "false")
    local first = run(dir, "", '"always"')
    assert.are.equal(ref.last, first.last)
    local flipped = 0
    for _, f in ipairs(objects(dir)) do
      -- The first VEX multiply (C5 xx 59) of .text becomes an add (58): structure and key intact.
      local _, sections = h.sh("readelf -SW " .. q(f))
      local off, size = sections:match("%.text%s+PROGBITS%s+%x+%s+(%x+)%s+(%x+)")
      local bytes = h.read(f)
      local text = bytes:sub(tonumber(off, 16) + 1, tonumber(off, 16) + tonumber(size, 16))
      local at = text:find("\xC5.\x59")
      if at then
        local i = tonumber(off, 16) + at + 2
        h.write(f, bytes:sub(1, i - 1) .. "\x58" .. bytes:sub(i + 1))
        flipped = flipped + 1
      end
    end
    assert.is_true(flipped > 0, "no vmul in the objects' code")
    local damaged = run(dir, "", "true")
    assert.are.equal(0, damaged.loaded)
    assert.are.equal(flipped, damaged.refused)
    assert.are.equal(ref.last, damaged.last)
    local rebuilt = run(dir, "", '"always"')
    assert.are.equal(flipped, rebuilt.refused)
    assert.are.equal(first.compiled, rebuilt.compiled + rebuilt.loaded)
    assert.are.equal(ref.last, rebuilt.last)
    assert.are.equal(first.compiled, run(dir, "", "true").loaded)
  end)

  it("refuses a FIFO at an object's or a log's path instead of waiting on it", function()
    local dir = h.scratch()
    local ref = run(dir, "", "false")
    local first = run(dir, "", '"always"')
    for _, f in ipairs(objects(dir)) do
      assert.are.equal(0, h.sh("rm " .. q(f) .. " && mkfifo " .. q(f) .. " && mkfifo " ..
                               q(f:gsub("%.so$", ".log"))))
    end
    -- Under `timeout` (status 124 when it hangs): interpreted, then recompiled over the FIFO.
    local function timed(jit)
      h.write(dir .. "/s.lua", (script:gsub("JIT", jit)))
      local status, out, err = h.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(dir .. "/cache") ..
                                    " timeout -s KILL 60 " .. q(h.exe) .. " run s.lua")
      assert.are.equal(0, status, err)
      local t = {}
      for k, v in out:gmatch("(%a+)=(%S+)") do t[k] = tonumber(v) or v end
      return t
    end
    local looked = timed("true")
    assert.are.equal(first.compiled, looked.refused)
    assert.are.equal(0, looked.native)
    assert.are.equal(ref.last, looked.last)
    local rebuilt = timed('"always"')
    assert.are.equal(first.compiled, rebuilt.compiled)
    assert.are.equal(ref.last, rebuilt.last)
  end)

  -- Before: the compiler wrote its messages into the log file itself; on a full disk the linker's
  -- "No space left on device" failed to get in (the disk had no room yet), collect2's summary line did
  -- (the linker had removed its half-written object), and the run said only "failed (status 1): see
  -- <log>", the log holding "collect2: error: ld returned 1 exit status".  A compiler whose first line
  -- cannot be written to a file (its file-size limit 0, as a full disk) stands for that linker.
  local full_cc = "#!/bin/sh\n" ..
    "( trap '' XFSZ; ulimit -f 0; echo '/usr/bin/ld: final link failed: No space left on device' >&2 )\n" ..
    "echo 'collect2: error: ld returned 1 exit status' >&2\nexit 1\n"
  local ld_line = "/usr/bin/ld: final link failed: No space left on device"

  it("on a full disk, jit = \"require\" quotes the line that says so, not collect2's summary", function()
    local dir = h.scratch()
    h.write(dir .. "/cc", full_cc)
    assert.are.equal(0, h.sh("chmod +x " .. q(dir .. "/cc")))
    local status, err = required(dir, "TMPDIR=/tmp NEUROMASS_CC=" .. q(dir .. "/cc"))
    assert.are_not.equal(0, status)
    local _, log = h.sh("ls " .. q(dir .. "/cache/neuromass") .. "/*.log")
    log = log:gsub("%s+$", "")
    assert.matches('s.lua:4: run: jit = "require": the C compiler \'' .. dir .. "/cc' failed (status 1): " ..
                   ld_line .. " (a disk is full: the cache's, " .. dir .. "/cache/neuromass, or that of the " ..
                   "compiler's temporary files, /tmp); all its messages: " .. log, err, 1, true)
    assert.are.equal(ld_line .. "\ncollect2: error: ld returned 1 exit status\n", h.read(log))
  end)

  it("when the compiler's messages cannot be written to the cache either, says why and still quotes them",
     function()
    local dir = h.scratch()
    -- 300 kB of warnings before the linker's line: a log over the file-size limit (64 blocks:
    -- 32 kB) the engine runs under, which the program's source (about 20 kB) is not.
    h.write(dir .. "/cc", full_cc:gsub("\n", "\ni=0; while [ $i -lt 3000 ]; do echo 'cc1: warning: " ..
            string.rep("w", 80) .. "' >&2; i=$((i + 1)); done\n", 1))
    assert.are.equal(0, h.sh("chmod +x " .. q(dir .. "/cc")))
    h.write(dir .. "/s.lua", (script:gsub("JIT", '"require"')))
    local status, _, err = h.sh("cd " .. q(dir) .. " && ulimit -f 64 && env XDG_CACHE_HOME=" ..
                                q(dir .. "/cache") .. " NEUROMASS_CC=" .. q(dir .. "/cc") .. " " .. q(h.exe) ..
                                " run s.lua")
    assert.are_not.equal(0, status)
    assert.matches("failed (status 1): " .. ld_line .. " (a disk is full: ", err, 1, true)
    assert.matches("; its messages cannot be written to " .. dir:gsub("%p", "%%%0") .. "/cache/neuromass/" ..
                   string.rep("%x", 32) ..
                   "%.log %(File too large%)", err)
    -- Nothing half-written: the source alone, no log, no temporary file.
    local _, files = h.sh("ls -a " .. q(dir .. "/cache/neuromass"))
    assert.matches("^%.\n%.%.\n" .. string.rep("%x", 32) .. "%.c\n$", files)
  end)

  it("on a full disk, jit = \"require\" says so, whether or not the log had room", function()
    local dir = h.scratch()
    local mnt = dir .. "/full"
    assert.are.equal(0, h.sh("mkdir " .. q(mnt)))
    -- A tmpfs of 20 kB (no room for the log) and of 28 kB (room for collect2's line once the
    -- linker has removed its object): only root can mount one.
    for _, size in ipairs { "20k", "28k" } do
      local mounted = h.sh("mount -t tmpfs -o size=" .. size .. " tmpfs " .. q(mnt) .. " 2>/dev/null") == 0
      if not mounted then return pending("mounting a tmpfs needs root") end
      local ok, err = pcall(function()
        h.write(dir .. "/s.lua", (script:gsub("JIT", '"require"')))
        local status, _, e = h.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(mnt) .. " " ..
                                  q(h.exe) .. " run s.lua")
        assert.are_not.equal(0, status)
        assert.matches('s.lua:4: run: jit = "require": ', e, 1, true)
        assert.matches("No space left on device (a disk is full: the cache's, " .. mnt .. "/neuromass, ", e, 1, true)
      end)
      h.sh("umount " .. q(mnt))
      assert(ok, err)
    end
  end)
end)

describe("a compile beside the run", function()
  after_each(h.remove_scratch)

  -- A compiler that, by NM_SPEC_CC (its pid in cc.pid first): "slow" sleeps
  -- half a second, then compiles; "fail" writes half an object, then fails;
  -- "hang" sleeps for a minute.
  local cc = [[#!/bin/sh
echo $$ > "$(dirname "$0")/cc.pid"
case "$NM_SPEC_CC" in
  slow) sleep 0.5; exec cc "$@" ;;
  fail) while [ $# -gt 0 ]; do [ "$1" = -o ] && printf '\177ELF half' > "$2"; shift; done; exit 1 ;;
  hang) sleep 60 ;;
esac
]]

  -- 40 nodes of a fast mass (compiled) and one slow mass whose derivatives,
  -- the first time a compile is in flight, wait for it to end: the run
  -- switches at its next step.  Writes the bits of three signals' every row and
  -- of every signal's last value to out.bin.
  local script = [[
local nm = require "neuromass"
local core = require "neuromass.core"
local Fast = nm.mass { name = "fast", label = "Fast", state = { x = 0.3, y = -0.2, order = { "x", "y" } },
  params = { b = 0.7 }, inputs = { "net" }, coupling = "x",
  derivatives = function(s, p, u)
    local e = nm.exp(-s.x ^ 2) + nm.tanh(s.y) * nm.sin(s.x) - nm.cos(s.y) + u.net
    return { x = -s.x + 0.1 * nm.tanh(e), y = -p.b * s.y + 0.2 * nm.cos(e) }
  end }
local waited = false
local Slow = nm.mass { label = "Slow", state = { v = 1.0 }, params = { tau = 10.0 }, slow = true,
  derivatives = function(s, p)
    if WAIT and not waited and core.jit_stats().compiling > 0 then
      waited = true
      local t0 = os.time()
      while core.jit_stats().compiling > 0 and os.time() - t0 < 60 do end
    end
    return { v = -s.v / p.tau }
  end }
local nodes = nm.replicate(nm.node { label = "F", masses = { Fast() } }, 40)
nodes[#nodes + 1] = nm.node { label = "S", masses = { Slow() } }
local C = {}
for i = 1, #nodes do
  C[i] = {}
  for j = 1, #nodes do C[i][j] = (i ~= j and i < #nodes and j < #nodes) and 0.01 or 0 end
end
local m = nm.model(nm.network { nodes = nodes, connectivity = C,
                                sync = function(net) return { net = net:additive("x") } end })
local r = m:run { duration = 10000, dt = 0.1, jit = JIT }
local f = assert(io.open("out.bin", "wb"))
for c = 0, #r.columns - 1 do
  local col = r.data:column(c)
  if c <= 1 or c == #r.columns - 1 then               -- two fast signals and the slow one, every row
    for _, v in ipairs(col) do f:write(string.pack("d", v)) end
  end
  f:write(string.pack("d", col[#col]))                -- and every signal's last value
end
f:close()
local s = core.jit_stats()
io.write(string.format("compiled=%d failed=%d native=%d switched=%d compiling=%d waited=%s\n",
  s.compiled, s.failed, s.native, s.switched, s.compiling, tostring(waited)))
if EXIT then os.exit(0) end
]]

  -- Runs the script with jit = `jit` in dir, its compiler in mode `mode`; the
  -- stats it printed, the bits it wrote and the seconds it took.
  local function run(dir, jit, mode, wait, exit)
    h.write(dir .. "/cc", cc)
    h.write(dir .. "/s.lua", (script:gsub("JIT", jit):gsub("WAIT", tostring(wait)):gsub("EXIT", tostring(exit))))
    local t0 = os.time()
    local status, out, err = h.sh("cd " .. q(dir) .. " && chmod +x cc && rm -f out.bin && env XDG_CACHE_HOME=" ..
                                  q(dir .. "/cache") .. " NEUROMASS_CC=" .. q(dir .. "/cc") .. " NM_SPEC_CC=" ..
                                  mode .. " " .. q(h.exe) .. " run s.lua")
    assert.are.equal(0, status, err)
    local t = { seconds = os.time() - t0 }
    for k, v in out:gmatch("(%a+)=(%S+)") do t[k] = tonumber(v) or v end
    local f = assert(io.open(dir .. "/out.bin", "rb"))
    t.bits = f:read("a")
    f:close()
    return t
  end

  -- The cache's files: names and count.
  local function cache_files(dir)
    local _, out = h.sh("ls -a " .. q(dir .. "/cache/neuromass") .. " 2>/dev/null")
    return out
  end

  it("switches midway to native code with the bits of jit = false and jit = \"always\"", function()
    local dir = h.scratch()
    local off = run(dir, "false", "slow", false, false)
    local auto = run(dir, "true", "slow", true, false)
    assert.are.equal("true", auto.waited)
    assert.are.equal(1, auto.switched)
    assert.are.equal(1, auto.compiled)
    assert.is_true(#off.bits > 8 * 3 * 100000)
    assert.is_true(off.bits == auto.bits, "a run that switched midway differs from jit = false")
    h.sh("rm -rf " .. q(dir .. "/cache"))
    local always = run(dir, '"always"', "slow", false, false)
    assert.are.equal(0, always.switched)
    assert.is_true(always.native > 0)
    assert.is_true(off.bits == always.bits, "jit = \"always\" differs from jit = false")
  end)

  it("leaves no object, complete or half-written, when the compiler fails", function()
    local dir = h.scratch()
    local off = run(dir, "false", "slow", false, false)
    local auto = run(dir, "true", "fail", true, false)
    assert.are.equal(1, auto.failed)
    assert.are.equal(0, auto.switched)
    assert.is_true(off.bits == auto.bits)
    local files = cache_files(dir)
    assert.is_nil(files:match("%.so"), files)
    assert.is_nil(files:match("tmp%-"), files)
    assert.matches("%x+%.c\n", files)                  -- the source and the log stay, to read
    assert.matches("%x+%.log\n", files)
  end)

  it("exits at once while a compile is in flight, killing the compiler and its files", function()
    local dir = h.scratch()
    local auto = run(dir, "true", "hang", false, true)
    assert.are.equal(1, auto.compiling)
    assert.is_true(auto.seconds < 20, "the process waited for the compiler")
    local pid = assert(tonumber(io.open(dir .. "/cc.pid"):read("a")))
    assert.are_not.equal(0, (h.sh("kill -0 " .. pid)), "the compiler outlived the process")
    local files = cache_files(dir)
    assert.is_nil(files:match("tmp%-"), files)
    assert.is_nil(files:match("%.so"), files)
  end)
end)
