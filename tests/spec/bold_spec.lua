-- bold_spec.lua: simulated BOLD (run{ bold = ... }, docs/bold.md) against
-- neurolib's references (tests/fixtures/bold/, MANIFEST "BOLD" section):
-- single FHN, Hopf and WC nodes to 1e-13 relative (we reach bit-exact: the
-- same feed, the same order of operations, C pow), continued and chunked runs
-- equal one long run bit for bit, the chaotic ALN-80 HCP network tightly for
-- its first rows and loosely after; the custom form equals the declared one;
-- the errors, the NaN stop, and the BOLD CSV (with its partial file).
local nm = require "neuromass"
local h = require "helpers"

local function ref_rows(name)
  local t = h.read_csv(h.fixture("bold/" .. name))
  return t
end

-- max over every value of |a - b| / |b|
local function max_rel(a, b)
  local worst = 0
  for i = 1, #b do
    local d = math.abs(a[i] - b[i]) / math.abs(b[i])
    if d ~= d then d = math.huge end
    if d > worst then worst = d end
  end
  return worst
end

-- Asserts that fn raises `msg` (plain text) at a line of this spec: the user's line.
local function raises_here(fn, msg)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.matches("^[^\n]*bold_spec%.lua:%d+: ", err)
  assert.is_truthy(err:find(msg, 1, true), err)
end

local function fhn()
  local m = nm.models.fhn.native {}
  m.params.xs_init, m.params.ys_init = 0.025, 0.025
  return m
end

local function check_single(res, name, tol)
  local ref = ref_rows(name)
  assert.equals(ref.rows, #res.t_BOLD)
  assert.equals(1, #res.BOLD)
  for i = 1, ref.rows do
    assert.is_true(math.abs(res.t_BOLD[i] - ref.cols.t_BOLD[i]) <= 1e-9 * ref.cols.t_BOLD[i])
  end
  local err = max_rel(res.BOLD[1], ref.cols.BOLD_0)
  assert.is_true(err <= tol, string.format("%s: max relative error %.3g > %.3g", name, err, tol))
end

describe("simulated BOLD of single nodes matches neurolib (1e-13 relative)", function()
  it("FitzHugh-Nagumo, 50 x", function()
    local res = fhn():run { duration = 20000, bold = true }
    check_single(res, "bold_fhn_single.csv", 1e-13)
    -- the labels are g * dt: 20001 * 0.1
    assert.equals(20001 * 0.1, res.t_BOLD[2])
    assert.same({ 0 }, res.BOLD_nodes)
  end)

  it("Hopf, 4 (x + 1)", function()
    local m = nm.models.hopf.native {}
    m.params.xs_init, m.params.ys_init = 0.25, -0.1
    check_single(m:run { duration = 20000, bold = true }, "bold_hopf_single.csv", 1e-13)
  end)

  it("Wilson-Cowan, 50 exc, exc_ext = 1.5", function()
    local m = nm.models.wc.native { exc_init = 0.025, inh_init = 0.025, exc_ext = 1.5 }
    check_single(m:run { duration = 20000, bold = true }, "bold_wc_single.csv", 1e-13)
  end)

  it("the custom form equals the declared one, bit for bit", function()
    local a = fhn():run { duration = 4000, bold = true }
    local b = fhn():run { duration = 4000, bold = { variable = "x", scale = 50 } }
    assert.same(a.BOLD, b.BOLD)
    assert.same(a.t_BOLD, b.t_BOLD)
    local c = fhn():run { duration = 4000, bold = { variable = "x", scale = 50, offset = 1 } }
    assert.are_not.same(a.BOLD, c.BOLD)
  end)
end)

describe("BOLD across runs", function()
  it("bold.samples (what explorations check a skip against) counts the rows a run gives", function()
    local samples = require("neuromass.run.bold").samples
    for _, c in ipairs { { 0.1, 0.1 }, { 0.2, 0.1 }, { 2000.1, 0.1 }, { 2000.2, 0.1 }, { 8000, 0.1 }, { 2500, 500 }, { 3000, 500 },
                         { 4000, 2000 } } do
      local m = nm.models.hopf.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 0 }, { 0, 0 } } }
      m.init["*.x"], m.init["*.y"] = 0, 0        -- (x and BOLD at rest: finite at any dt)
      local res = m:run { duration = c[1], dt = c[2], bold = { variable = "x" }, record = {} }
      assert.equals(#res.t_BOLD, samples(c[2], math.floor(c[1] / c[2] + 0.5)), c[1] .. " ms at dt " .. c[2])
    end
  end)

  it("10 s + 10 s continued gives the rows of one 20 s run, each result its own", function()
    local one = fhn():run { duration = 20000, bold = true }
    local m = fhn()
    local r1 = m:run { duration = 10000, bold = true }
    local r2 = m:run { duration = 10000, bold = true, continue = true }
    assert.same({ 0.1, 2000.1000000000001, 4000.1000000000004, 6000.1, 8000.1 }, r1.t_BOLD)
    assert.equals(5, #r2.t_BOLD)
    for i = 1, 5 do
      assert.equals(one.BOLD[1][i], r1.BOLD[1][i])
      assert.equals(one.BOLD[1][i + 5], r2.BOLD[1][i])
      assert.equals(one.t_BOLD[i + 5], r2.t_BOLD[i])
    end
  end)

  it("runs of 3 s (neurolib's chunks of 30000) append every row; its 2 rows are ours", function()
    local m, t, b = fhn(), {}, {}
    for k = 1, 7 do
      local r = m:run { duration = k < 7 and 3000 or 2000, bold = true, continue = k > 1 }
      for i = 1, #r.t_BOLD do t[#t + 1], b[#b + 1] = r.t_BOLD[i], r.BOLD[1][i] end
    end
    assert.equals(10, #t)
    local one = fhn():run { duration = 20000, bold = true }
    assert.same(one.BOLD[1], b)
    local quirk = ref_rows("bold_fhn_single_chunk30000.csv")
    assert.equals(2, quirk.rows)
    assert.equals(quirk.cols.BOLD_0[1], b[9])      -- 16000.1
    assert.equals(quirk.cols.BOLD_0[2], b[10])     -- 18000.1
  end)

  it("a run shorter than 2 s still feeds BOLD (neurolib drops it)", function()
    local m = fhn()
    local r1 = m:run { duration = 1999.9, bold = true }
    assert.equals(1, #r1.t_BOLD)                 -- the row at 0.1 ms
    local r2 = m:run { duration = 18000.1, bold = true, continue = true }
    local one = fhn():run { duration = 20000, bold = true }
    for i = 1, 9 do assert.equals(one.BOLD[1][i + 1], r2.BOLD[1][i]) end
  end)

  it("record = {} keeps no trajectory, not even the times: only BOLD grows with duration", function()
    local m = fhn()
    local res = m:run { duration = 4000, record = {}, bold = true }
    assert.equals(0, res:rows())                 -- 40000 steps, none kept
    assert.equals(2, #res.t_BOLD)
    raises_here(function() local _ = res:time() end, "the run recorded no variable: record = {}")
    local kept = fhn():run { duration = 4000, bold = true }
    assert.equals(40000, kept:rows())            -- the default keeps every variable
    assert.same(kept.BOLD, res.BOLD)             -- and BOLD does not depend on it
  end)

  it("a continued run feeds BOLD as the run it continues", function()
    -- without 'bold' it takes the run's (neurolib keeps bold in params); it was refused
    local whole = fhn():run { duration = 4100, bold = true }
    local m = fhn()
    m:run { duration = 2100, bold = true }
    local r = m:run { duration = 2000, continue = true }
    assert.same({ whole.t_BOLD[3] }, r.t_BOLD)        -- (0.1, 2000.1, then 4000.1)
    assert.same({ whole.BOLD[1][3] }, r.BOLD[1])
    raises_here(function() m:run { duration = 100, continue = true, bold = false } end,
      "run: 'continue = true' with no bold, but the run it continues had " ..
      "bold 50*(x+0): BOLD integrates every step since t = 0, so a continued run feeds it as " ..
      "the first one did: drop 'bold' (a continued run takes the run's bold) or give the same, or start " ..
      "a fresh run (without continue)")
  end)
end)

describe("BOLD feeds", function()
  it("the same bits on several threads as on one (80 FHN nodes)", function()
    local hcp = nm.datasets.load("hcp")
    local function run(threads)
      local m = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, seed = 3 }
      return m:run { duration = 4100, bold = true, threads = threads, record = "x", sampling_dt = 100 }
    end
    local one, two = run(1), run(2)
    assert.equals(80, #one.BOLD)
    assert.same(one.BOLD, two.BOLD)
  end)

  it("a MultiModel network: every node's r_mean_EXC (kHz) scaled to Hz", function()
    local aln, thalamus = nm.models.aln, nm.models.thalamus
    local net = nm.network {
      label = "ALNThlmNet", nodes = { aln.node(), thalamus.node() },
      connectivity = { { 0.0, 0.15 }, { 1.2, 0.0 } }, delays = { { 0, 13 }, { 13, 0 } },
      sync = function(n)
        local rate = n:additive("r_mean_EXC")
        return { network_exc_exc = rate, network_inh_exc = rate,
                 network_exc_exc_sq = n:additive("r_mean_EXC", { matrix = "square" }) }
      end,
    }
    local res = nm.model(net):run { duration = 2100, dt = 0.1, record = "r_mean_EXC",
                                    bold = { variable = "r_mean_EXC", scale = 1000 } }
    assert.same({ 0, 1 }, res.BOLD_nodes)     -- ALN's and the thalamus's excitatory rates
    assert.equals(2, #res.BOLD)
    for i = 1, 2 do
      assert.equals(2, #res.BOLD[i])
      assert.is_true(res.BOLD[i][2] > 0 and res.BOLD[i][2] < 0.1)
    end
  end)

  it("the zoo's MultiModel networks declare neurolib's default output (ALN's r_mean_EXC in Hz)", function()
    -- (before: bold = true on them said they declare no BOLD input)
    local C, D = { { 0, 0.5 }, { 0.5, 0 } }, { { 0, 4 }, { 4, 0 } }
    for name, decl in pairs { aln = { variable = "r_mean_EXC", scale = 1000 }, fhn = { variable = "x" },
                              hopf = { variable = "x" }, wc = { variable = "q_mean_EXC" },
                              ww = { variable = "S_EXC" }, rww = { variable = "S" },
                              kuramoto = { variable = "theta" } } do
      local m = nm.model(nm.models[name].network(C, D))
      local declared = m:run { duration = 2100, bold = true }
      local named = m:run { duration = 2100, bold = decl }
      assert.same({ 0, 1 }, declared.BOLD_nodes, name)
      assert.same(named.BOLD, declared.BOLD, name)
    end
  end)

  it("rww.native (ours: neurolib has no native reduced Wong-Wang) feeds S, as rww.network does", function()
    local C, D = { { 0, 0.5 }, { 0.5, 0 } }, { { 0, 4 }, { 4, 0 } }
    local m = nm.models.rww.native { Cmat = C, Dmat = D, seed = 3 }
    local declared = m:run { duration = 2100, bold = true }
    assert.same({ 0, 1 }, declared.BOLD_nodes)
    assert.same(m:run({ duration = 2100, bold = { variable = "S" } }).BOLD, declared.BOLD)
  end)

  it("a network declares its BOLD input (nm.network's bold); nm.model's own wins", function()
    local net = nm.network { label = "Pair", nodes = nm.replicate(nm.models.fhn.node { seed = 1 }, 2),
                             connectivity = { { 0, 1 }, { 1, 0 } }, bold = { variable = "y", scale = 50 },
                             sync = function(n) return { network_x = n:diffusive("x"), network_y = n:none() } end }
    local from_net = nm.model(net):run { duration = 2100, bold = true }
    local named = nm.model(net):run { duration = 2100, bold = { variable = "y", scale = 50 } }
    assert.same(named.BOLD, from_net.BOLD)
    local own = nm.model(net, { bold = { variable = "x", scale = 50 } }):run { duration = 2100, bold = true }
    local x50 = nm.model(net):run { duration = 2100, bold = { variable = "x", scale = 50 } }
    assert.same(x50.BOLD, own.BOLD)
    raises_here(function() nm.network { nodes = { nm.models.fhn.node {} }, bold = { variable = "x", scale = "2" } } end,
                "network 'Net': bold: 'scale' must be a finite number (got \"2\" (a string))")
    raises_here(function() nm.network { nodes = { nm.models.fhn.node {} }, bold = true } end,
                "network 'Net': bold must be a table { variable = NAME, scale = 1, offset = 0 } (got true)")
    local bad = nm.network { nodes = { nm.models.fhn.node {} }, bold = { variable = "xx" } }
    raises_here(function() nm.model(bad) end, "model: bold: unknown variable 'xx'; did you mean 'x'?")
  end)

  -- (it fed BOLD at every sampling_dt, then BOLD's dt: t_BOLD 0.5, 2000.5)
  it("an adaptive integrator feeds BOLD at every dt, as a fixed-step one", function()
    local res = fhn():run { duration = 4000, integrator = "rkf45", sampling_dt = 0.5, bold = true }
    local euler = fhn():run { duration = 4000, sampling_dt = 0.5, bold = true }
    assert.same(euler.t_BOLD, res.t_BOLD)
    assert.same({ 0.1, 2000.1 }, { res.t_BOLD[1], tonumber(string.format("%.10g", res.t_BOLD[2])) })
  end)
end)

describe("BOLD of the ALN 80-node HCP network matches neurolib", function()
  -- The network is chaotic (MANIFEST: ICs x (1 + 1e-12) move row 3 by 2e-5 of
  -- max |BOLD|).  We reach 0, 1.2e-15, 5.1e-13, 7.5e-9 for rows 0-3 (our ALN
  -- steps differ from neurolib's in the last bits only, so the growth starts
  -- far below 1e-12), then 1.3e-5, 1.5e-3 and 5e-3 .. 7e-3 from row 5 on (the
  -- chaos's own spread): bounds 10x above what we reach, 1e-2 for the rest.
  it("rows 0-3 to 1e-15 .. 1e-7 of max |BOLD|, the chaotic rest to 1e-2", function()
    local hcp = nm.datasets.load("hcp")
    local ics = h.read_ics(h.fixture("aln_net80_hcp_ics.csv"))
    local args = { Cmat = hcp.Cmat, Dmat = hcp.Dmat }
    for name, values in pairs(ics) do
      if name:match("_init$") then args[name] = values end
    end
    local res = nm.models.aln.native(args):run { duration = 20000, dt = 0.1, bold = true,
                                                  record = "rates_exc", sampling_dt = 1000 }
    local ref = ref_rows("bold_aln_net80_hcp.csv")
    assert.equals(10, #res.t_BOLD)
    assert.equals(80, #res.BOLD)
    local max = 0
    for i = 0, 79 do
      for _, v in ipairs(ref.cols["BOLD_" .. i]) do max = math.max(max, math.abs(v)) end
    end
    local worst = {}
    for row = 1, 10 do
      worst[row] = 0
      for i = 0, 79 do
        local d = math.abs(res.BOLD[i + 1][row] - ref.cols["BOLD_" .. i][row]) / max
        if d ~= d then d = math.huge end
        worst[row] = math.max(worst[row], d)
      end
    end
    local tight = { 1e-15, 1e-14, 1e-11, 1e-7 }
    for row = 1, 4 do
      assert.is_true(worst[row] <= tight[row], string.format("row %d: %.3g of max |BOLD|", row - 1,
                                                             worst[row]))
    end
    for row = 5, 10 do
      assert.is_true(worst[row] <= 1e-2, string.format("row %d: %.3g of max |BOLD|", row - 1, worst[row]))
    end
  end)
end)

describe("BOLD errors", function()
  it("bold = true on a model that declares no BOLD input says how to name one", function()
    local m = nm.model(nm.models.fhn.node { seed = 1 })
    raises_here(function() m:run { duration = 10, bold = true } end,
      "run: 'bold = true': model 'FHNnode' declares no BOLD input; name the " ..
      "variable to feed, e.g. bold = { variable = \"x\", scale = 1, offset = 0 } (BOLD sees " ..
      "scale * (x + offset) per node; variables: x, y)")
  end)

  it("on masses with r_mean_EXC (kHz) suggests what docs/bold.md advises: r_mean_EXC, scale = 1000", function()
    -- (before: the first variable, I_mu_EXC, scale = 1)
    local aln, thalamus = nm.models.aln, nm.models.thalamus
    local net = nm.network { name = "ALN + thalamus", label = "Mixed", nodes = { aln.node { seed = 0 }, thalamus.node() },
                             connectivity = { { 0, 0 }, { 0, 0 } },
                             sync = function(n)
                               local rate = n:additive("r_mean_EXC")
                               return { network_exc_exc = rate, network_inh_exc = rate,
                                        network_exc_exc_sq = n:additive("r_mean_EXC", { matrix = "square" }) }
                             end }
    local m = nm.model(net)
    raises_here(function() m:run { duration = 10, bold = true } end,
      "run: 'bold = true': model 'Mixed' declares no BOLD input; name the variable to feed, e.g. " ..
      "bold = { variable = \"r_mean_EXC\", scale = 1000 } (its rate in kHz, fed in Hz as aln.network does) " ..
      "(BOLD sees scale * (x + offset) per node; variables: I_mu_EXC, ")
    -- the suggestion runs, on both nodes, and is what aln.network declares
    local res = m:run { duration = 2100, dt = 0.1, record = {}, bold = { variable = "r_mean_EXC", scale = 1000 } }
    assert.same({ 0, 1 }, res.BOLD_nodes)
    local declared = nm.model(aln.network({ { 0 } }, { { 0 } })).default_bold
    assert.same({ variable = "r_mean_EXC", scale = 1000, offset = 0 }, declared)
  end)

  it("names a misspelt variable, a bad scale, an unknown key", function()
    local m = fhn()
    raises_here(function() m:run { duration = 10, bold = { variable = "xx" } } end,
                "run: bold: unknown variable 'xx'; did you mean 'x'?")
    raises_here(function() m:run { duration = 10, bold = { variable = "x", scale = 0 / 0 } } end,
                "run: bold: 'scale' must be a finite number (got nan)")
    raises_here(function() m:run { duration = 10, bold = { variable = "x", scael = 2 } } end,
                "run: bold: unknown field 'scael'; did you mean 'scale'?")
    raises_here(function() m:run { duration = 10, bold = 1 } end,
      "run: 'bold' must be true, false or { variable = NAME, scale =, offset = } (got 1)")
    raises_here(function() m:run { duration = 10, output = { bold = "b.csv" } } end,
      "run: 'output.bold' needs simulated BOLD: add bold = true (or bold = " ..
      "{ variable = NAME, scale =, offset = })")
  end)

  it("a model declares its own BOLD input", function()
    local m = nm.model(nm.models.fhn.node { seed = 1 }, { bold = { variable = "x", scale = 50 } })
    local res = m:run { duration = 2100, bold = true }
    assert.equals(2, #res.t_BOLD)
    assert.has_error(function() nm.model(nm.models.fhn.node {}, { bold = { varable = "x" } }) end)
  end)

  it("NaN or infinity reaching BOLD stops the run with the time and node", function()
    local m = fhn()
    -- x * 1.797e308 overflows once x passes 1 (at 1.3 ms)
    raises_here(function() m:run { duration = 2000, bold = { variable = "x", scale = 1.7976931348623157e308 } } end,
      "run: simulated BOLD: the BOLD input of node 0 became inf at t = 1.3 ms (node 0 feeds it " ..
      "1.7976931348623157e+308*(x+0) of variable 'x')")
  end)
end)

describe("BOLD output", function()
  after_each(h.remove_scratch)

  it("output.bold streams t_BOLD, BOLD_0 .. as the result holds them", function()
    local dir = h.scratch()
    local hcp = nm.datasets.load("hcp")
    local C, D = {}, {}
    for i = 1, 3 do
      C[i], D[i] = {}, {}
      for j = 1, 3 do C[i][j], D[i][j] = hcp.Cmat[i][j], hcp.Dmat[i][j] end
    end
    local m = nm.models.fhn.native { Cmat = C, Dmat = D }
    local res = m:run { duration = 4100, bold = true, output = { bold = dir .. "/b.csv" } }
    local csv = h.read_csv(dir .. "/b.csv")
    assert.same({ "t_BOLD", "BOLD_0", "BOLD_1", "BOLD_2" }, csv.header)
    assert.equals(3, csv.rows)
    for i = 0, 2 do assert.same(res.BOLD[i + 1], csv.cols["BOLD_" .. i]) end
    assert.same({ 0.1, 2000.1, 4000.1 }, csv.cols.t_BOLD)
  end)

  it("res:write_bold writes a kept BOLD byte for byte as output.bold; after record = {} too", function()
    -- (before: a BOLD-only run's BOLD could not be saved: write_csv said "nothing was kept")
    local dir = h.scratch()
    local m = fhn()
    local res = m:run { duration = 4100, record = {}, bold = true, output = { bold = dir .. "/streamed.csv" } }
    assert.equals(dir .. "/kept.csv", res:write_bold(dir .. "/kept.csv"))
    assert.equals(h.read(dir .. "/streamed.csv"), h.read(dir .. "/kept.csv"))
    assert.same({ "t_BOLD", "BOLD_0" }, h.read_csv(dir .. "/kept.csv").header)
    assert.equals(3, h.read_csv(dir .. "/kept.csv").rows)
    raises_here(function() res:write_csv(dir .. "/x.csv") end,
                "result: nothing was kept in memory (the run recorded no variable: record = {}; name the " ..
                "variables to keep in 'record'; its BOLD is res.BOLD, written by res:write_bold(path))")
    -- each result keeps its own run's rows: a continued run's are the next ones
    local more = m:run { duration = 2000, continue = true, record = {}, bold = true }
    more:write_bold(dir .. "/more.csv")
    assert.same({ 6000.1 }, h.read_csv(dir .. "/more.csv").cols.t_BOLD)
    res:write_bold(dir .. "/again.csv")
    assert.equals(h.read(dir .. "/streamed.csv"), h.read(dir .. "/again.csv"))
    raises_here(function() m:run { duration = 10 }:write_bold(dir .. "/no.csv") end,
                "write_bold: the run computed no BOLD (run{ bold = true }")
    raises_here(function() res:write_bold(3) end, "write_bold: expected a path, got 3")
    raises_here(function() res:write_bold(dir .. "/none/b.csv") end, "write_bold")
    assert.is_nil(io.open(dir .. "/none/b.csv"))
  end)

  it("a failed run keeps the complete BOLD rows as <stem>.partial.csv", function()
    local dir = h.scratch()
    local m = fhn()
    local ok, err = pcall(m.run, m, { duration = 2000, output = { bold = dir .. "/b.csv" },
                                      bold = { variable = "x", scale = 1.7976931348623157e308 } })
    assert.is_false(ok)
    assert.matches("kept what was done in '[^']*b%.partial%.csv'", err)
    local csv = h.read_csv(dir .. "/b.partial.csv")
    assert.equals(1, csv.rows)
    assert.is_nil(io.open(dir .. "/b.csv"))
  end)

  it("appears with output.csv: a CSV that cannot be put in place keeps both as <stem>.partial.csv", function()
    -- Before: b.csv was renamed into place, and named as what the failed run "kept".
    local dir = h.scratch()
    local made = false
    local Maker = nm.mass { label = "Maker", state = { x = 0 }, slow = true,
                            derivatives = function()   -- a directory where the CSV goes, once checked
                              if not made then made = os.execute("mkdir " .. h.q(dir .. "/a.csv")) end
                              return { x = 1 }
                            end }
    local m = nm.model(nm.node { masses = { Maker() } })
    local ok, err = pcall(m.run, m, { duration = 4000, bold = { variable = "x" },
                                      output = { csv = dir .. "/a.csv", bold = dir .. "/b.csv" } })
    assert.is_false(ok)
    assert.matches("output%.csv '[^']*a%.csv': cannot write it: renaming: .*; kept what was done in " ..
                   "'[^']*a%.partial%.csv', '[^']*b%.partial%.csv'$", err)
    assert.equals(2, h.read_csv(dir .. "/b.partial.csv").rows)
    assert.is_nil(io.open(dir .. "/b.csv"))
  end)

  it("neuromass info: a dry run has empty BOLD", function()
    local dir = h.scratch()
    local script = dir .. "/dry.lua"
    h.write(script, [[
local nm = require "neuromass"
local res = nm.models.fhn.native {}:run { duration = 4000, bold = true, output = { bold = "b.csv" } }
print(#res.BOLD, #res.t_BOLD)
]])
    local status, out, err = h.sh(h.q(h.exe) .. " info " .. h.q(script) .. " --out " .. h.q(dir))
    assert.equals(0, status, err)
    assert.matches("\n0\t0\n$", out)
    assert.is_nil(io.open(dir .. "/b.csv"))
  end)
end)

describe("issue 11: BOLD declarations, large steps, failed runs, dry runs", function()
  it("a model's declared BOLD variable is checked where nm.model declares it", function()
    local osc = nm.mass { label = "M", state = { x = 0 }, derivatives = function(s) return { x = -s.x } end }
    raises_here(function() nm.model(nm.node { masses = { osc() } }, { bold = { variable = "xx" } }) end,
                "model: bold: unknown variable 'xx'; did you mean 'x'?")
  end)

  it("refuses BOLD with a step over 4000 ms (NDt = round(2000 / dt) would be 0)", function()
    raises_here(function() nm.models.hopf.native {}:run { duration = 10000, dt = 5000, bold = true } end,
                "dt = 5000 ms is too large for simulated BOLD: BOLD is sampled every 2 s")
  end)

  it("a BOLD blow-up at a large dt prints nan (never -nan) and names the step as the cause", function()
    local M = nm.mass { label = "L", state = { x = 0 }, params = { tau = 1000 },
      derivatives = function(s, p) return { x = (1 - s.x) / p.tau / 10 } end }
    local m = nm.model(nm.node { masses = { M() } })
    local ok, err = pcall(m.run, m, { duration = 40000, dt = 1000, bold = { variable = "x" } })
    assert.is_false(ok)
    assert.is_truthy(err:find("became nan at t = 4000 ms", 1, true), err)
    assert.is_truthy(err:find("it diverges at dt = 1000 ms", 1, true), err)
  end)

  it("continue = true after a run that failed on a NaN is refused (its state is not finite)", function()
    local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 10 }, { 10, 0 } } }
    m:run { duration = 4000, bold = true }
    m.params.K_gl = 1e300
    assert.is_false(pcall(m.run, m, { duration = 4000, bold = true, continue = true }))
    m.params.K_gl = 0.6
    raises_here(function() m:run { duration = 4000, bold = true, continue = true } end,
                "the last run of this model failed at t = 4000.2 ms (a NaN or infinite value in " ..
                "node 0, variable 'x'): its state is not finite; start a fresh run (without continue)")
    -- a fresh run is fine, and can be continued again
    m:run { duration = 10, bold = true }
    assert.equals(2, #m:run { duration = 10, continue = true, bold = true }.BOLD)
  end)

  it("neuromass info: a dry BOLD run has every field a real one has (BOLD_nodes, dt, duration)", function()
    local real = nm.models.fhn.native {}:run { duration = 4000, bold = true }
    local names = {}
    for k in pairs(real) do
      if k ~= "data" and k ~= "bold_data" then names[#names + 1] = k end   -- (the rows)
    end
    table.sort(names)
    local dir = h.scratch()
    local script = dir .. "/dry.lua"
    h.write(script, [[
local nm = require "neuromass"
local res = nm.models.fhn.native {}:run { duration = 4000, bold = true }
local names = {}
for k in pairs(res) do names[#names + 1] = k end
table.sort(names)
print(table.concat(names, " "))
print(table.concat(res.BOLD_nodes, " "), res.dt, res.duration)
]])
    local status, out, err = h.sh(h.q(h.exe) .. " info " .. h.q(script))
    assert.equals(0, status, err)
    assert.is_truthy(out:find(table.concat(names, " ") .. "\n0\t0.1\t4000\n", 1, true), out)
  end)
end)
