-- evolution_spec.lua: fitting with NLopt (issue 13 item 5): the binding
-- neuromass.nlopt (bounds, exact budget, seeds, errors of the objective),
-- nm.explore.Evolution (results.csv in BoxSearch's format, best.json,
-- failures logged, errors at the user's line), nm.plot.evolution, and the
-- recovery of FHN-80's coupling K_gl on HCP from the FC of a run made with it.
local h = require "helpers"
local nm = require "neuromass"
local nlopt = require "neuromass.nlopt"

local q = h.q

local read = h.read

local lines = h.lines

teardown(h.remove_scratch)

describe("neuromass.nlopt", function()
  local function bowl(x) return (x[1] - 0.3) ^ 2 + (x[2] + 0.2) ^ 2 end

  it("minimises and maximises within the bounds, spending exactly maxeval, for each algorithm", function()
    for _, alg in ipairs { "GN_CRS2_LM", "GN_ISRES", "GN_ESCH", "LN_BOBYQA", "LN_SBPLX" } do
      local calls, outside = 0, 0
      local r = nlopt.minimize { algorithm = alg, lower = { -1, -1 }, upper = { 1, 1 }, maxeval = 200, seed = 1,
                                 f = function(x)
                                   calls = calls + 1
                                   for _, v in ipairs(x) do if v < -1 or v > 1 then outside = outside + 1 end end
                                   return bowl(x)
                                 end }
      assert.equals(0, outside, alg)
      assert.is_true(calls <= 200, alg)
      assert.equals(calls, r.evaluations, alg)
      -- the global ones are random searches: within 0.05 of the optimum (0.3, -0.2) in
      -- 200 evaluations, ESCH (an evolution strategy, the slowest to close in) within 0.1
      local tol = alg == "GN_ESCH" and 0.1 or 0.05
      assert.is_true(math.abs(r.x[1] - 0.3) < tol and math.abs(r.x[2] + 0.2) < tol, alg .. " " .. r.x[1] .. " " .. r.x[2])
      assert.is_true(r.f <= 2 * tol ^ 2, alg)
      if alg:sub(1, 2) == "GN" then assert.equals(200, calls, alg); assert.equals("MAXEVAL_REACHED", r.result) end
    end
    local r = nlopt.maximize { lower = { 0 }, upper = { 2 }, maxeval = 100, seed = 2,
                               f = function(x) return -(x[1] - 1.5) ^ 2 end }
    assert.is_true(math.abs(r.x[1] - 1.5) < 0.05, r.x[1])
    assert.is_true(r.f <= 0 and r.f > -0.0025)
  end)

  it("the same seed asks for the same points; another seed for others", function()
    local function trace(seed)
      local xs = {}
      nlopt.minimize { lower = { 0 }, upper = { 1 }, maxeval = 30, seed = seed, algorithm = "GN_ISRES",
                       f = function(x) xs[#xs + 1] = x[1]; return (x[1] - 0.5) ^ 2 end }
      return xs
    end
    assert.same(trace(5), trace(5))
    assert.are_not.same(trace(5), trace(6))
  end)

  it("an error of the objective stops NLopt and is raised again as it was", function()
    local calls = 0
    local ok, e = pcall(nlopt.maximize, { lower = { 0 }, upper = { 1 }, maxeval = 50,
                                          f = function() calls = calls + 1; if calls == 3 then error("boom here") end
                                                         return calls end })
    assert.is_false(ok)
    assert.truthy(tostring(e):find("evolution_spec.lua:%d+: boom here"), e)
    assert.equals(3, calls)
    local obj = { why = "an object" }
    ok, e = pcall(nlopt.minimize, { lower = { 0 }, upper = { 1 }, f = function() error(obj) end })
    assert.is_false(ok)
    assert.equals(obj, e)
    ok, e = pcall(nlopt.minimize, { lower = { 0 }, upper = { 1 }, f = function() return "x" end })
    assert.is_false(ok)
    assert.truthy(tostring(e):find("the objective returned string, not a number", 1, true), e)
  end)

  it("refuses bad options, naming them", function()
    local f = function() return 0 end
    local function err(opts)
      opts.f = opts.f or f
      local ok, e = pcall(nlopt.minimize, opts)
      assert.is_false(ok)
      return tostring(e)
    end
    assert.truthy(err { lower = { 2 }, upper = { 1 } }:find("bound 1: lower 2 is not <= upper 1", 1, true))
    assert.truthy(err { lower = { 0, 0 }, upper = { 1 } }:find("same length", 1, true))
    assert.truthy(err { lower = { 0 }, upper = { 1 }, algorithm = "GN_CRS3" }:find("unknown algorithm 'GN_CRS3'", 1, true))
    assert.truthy(err { lower = { 0 }, upper = { 1 }, algorithm = "LD_MMA" }:find("needs derivatives", 1, true))
    assert.truthy(err { lower = { 0 }, upper = { 1 }, maxeval = "many" }:find("'maxeval' must be a number", 1, true))
    assert.truthy(err { lower = { 0 }, upper = { 1 }, f = 3 }:find("'f' must be a function", 1, true))
    -- a criterion below 0 or NaN, a population not a whole number: refused (NLopt took them as "not set"),
    -- by nlopt.check too (it configures the optimiser without running it)
    local function refused(opts)
      opts.lower, opts.upper = { 0 }, { 1 }
      local ok, e = pcall(nlopt.check, opts)
      assert.is_false(ok)
      return tostring(e)
    end
    for _, bad in ipairs { { "xtol_rel", -1 }, { "ftol_abs", 0 / 0 }, { "maxtime", -1 }, { "xtol_abs", -1e-3 },
                           { "ftol_rel", 1 / 0 } } do
      local e = refused { [bad[1]] = bad[2] }
      assert.truthy(e:find("nlopt: option '" .. bad[1] .. "' must be a finite number >= 0 (0: not used), got ", 1, true), e)
    end
    for _, bad in ipairs { 0.5, -2, 2 ^ 40 } do
      local e = refused { population = bad }
      assert.truthy(e:find("nlopt: option 'population' must be a whole number from 0 (NLopt's default) to " ..
                           "2147483647, got ", 1, true), e)
    end
    assert.truthy(refused { stopval = 0 / 0 }:find("'stopval' must be a number, not NaN", 1, true))
    -- maxeval and seed whole numbers too (2.5 ran 2 evaluations; a seed below 0 seeded from the clock)
    for _, bad in ipairs { { "maxeval", 2.5 }, { "maxeval", -1 }, { "seed", -5 }, { "seed", 0.5 }, { "seed", 2 ^ 64 } } do
      local e = refused { [bad[1]] = bad[2] }
      assert.truthy(e:find("nlopt: option '" .. bad[1] .. "' must be a whole number from 0 to ", 1, true), e)
    end
    -- shown as given, the library's number format (Lua's %.14g said "got 123456", "got 12345678901235",
    -- "got -nan")
    for _, bad in ipairs { { "maxeval", 123456.0000000001, "123456.0000000001" },
                           { "seed", 12345678901234.56, "12345678901234.56" }, { "ftol_abs", 0 / 0, "nan" },
                           { "population", 2 ^ 40 + 0.5, "1099511627776.5" } } do
      local e = refused { [bad[1]] = bad[2] }
      assert.truthy(e:find(", got " .. bad[3] .. "$"), e)
    end
    assert.is_true(nlopt.check { lower = { 0 }, upper = { 1 }, xtol_rel = 0, population = 0, stopval = -1 / 0 })
  end)

  it("refuses an unknown option and extra arguments at the caller's line (maxevals ran with no budget)", function()
    local f = function(x) return x[1] end
    local ok, e = pcall(function()
      local r = nlopt.minimize { lower = { 0 }, upper = { 1 }, f = f, maxeval = 5, xtol = 1e-3 }; return r end)
    assert.is_false(ok)
    assert.matches("^tests/spec/evolution_spec.lua:%d+: nlopt: unknown option 'xtol' %(the options: f, lower, " ..
                   "upper, x0, algorithm, maxeval, maxtime, stopval, ftol_rel, ftol_abs, xtol_rel, xtol_abs, " ..
                   "population, seed%)$", e)
    ok, e = pcall(function() local r = nlopt.check({ lower = { 0 }, upper = { 1 }, maxeval = 5 }, 3); return r end)
    assert.is_false(ok)
    assert.matches("^tests/spec/evolution_spec.lua:%d+: nlopt.check: takes at most 1 argument, got 2$", e)
    ok, e = pcall(function() local v = nlopt.version(4); return v end)
    assert.is_false(ok)
    assert.matches("^tests/spec/evolution_spec.lua:%d+: nlopt.version: takes no argument, got 1$", e)
    ok, e = pcall(function() local v = nlopt.algorithm("GN_ISRES", 2, 3); return v end)
    assert.is_false(ok)
    assert.matches("^tests/spec/evolution_spec.lua:%d+: nlopt.algorithm: takes at most 2 arguments, got 3$", e)
    assert.is_true(nlopt.algorithm("GN_ISRES", 2, nil))
    -- a field the module lacks (British spelling) is said where it is read, not as a nil called later
    ok, e = pcall(function() local f2 = nlopt.minimise; return f2 end)
    assert.is_false(ok)
    assert.matches("^tests/spec/evolution_spec.lua:%d+: neuromass.nlopt has no field 'minimise' %(its fields: " ..
                   "algorithm, check, maximize, minimize, version%)$", e)
  end)

  it("nlopt.algorithm(name): true for a derivative-free algorithm, else nil and minimize's reason", function()
    assert.is_true(nlopt.algorithm("GN_CRS2_LM"))
    assert.is_true(nlopt.algorithm("LN_BOBYQA"))
    local ok, why = nlopt.algorithm("GN_CRS3")
    assert.is_nil(ok)
    assert.truthy(why:find("^nlopt: unknown algorithm 'GN_CRS3'"), why)
    ok, why = nlopt.algorithm("LD_MMA")
    assert.is_nil(ok)
    assert.truthy(why:find("^nlopt: algorithm 'LD_MMA' needs derivatives"), why)
  end)

  it("nlopt.algorithm(name, n) and nlopt.check(opts) refuse what NLopt would refuse once it ran", function()
    assert.is_true(nlopt.algorithm("LN_NEWUOA"))
    assert.is_true(nlopt.algorithm("LN_NEWUOA", 2))
    local ok, why = nlopt.algorithm("LN_NEWUOA", 1)
    assert.is_nil(ok)
    assert.truthy(why:find("^nlopt: algorithm 'LN_NEWUOA' needs 2 dimensions or more"), why)
    for _, name in ipairs { "GN_MLSL", "GN_MLSL_LDS", "LN_AUGLAG", "LN_AUGLAG_EQ" } do
      ok, why = nlopt.algorithm(name)
      assert.is_nil(ok)
      assert.truthy(why:find("^nlopt: algorithm '" .. name .. "' needs a local optimiser"), why)
    end
    assert.is_true(nlopt.check { lower = { 0, 0 }, upper = { 1, 1 }, algorithm = "LN_NEWUOA", maxeval = 5 })
    local function err(opts)
      local fine, e = pcall(nlopt.check, opts)
      assert.is_false(fine)
      return tostring(e)
    end
    assert.truthy(err { lower = { 0 }, upper = { 1 }, algorithm = "LN_NEWUOA" }:find("needs 2 dimensions", 1, true))
    assert.truthy(err { lower = { 2 }, upper = { 1 } }:find("bound 1: lower 2 is not <= upper 1", 1, true))
    assert.truthy(err { lower = { 0 }, upper = { 1 }, f = 3 }:find("'f' must be a function", 1, true))
    -- minimize asks the same rule: NLopt never sees NEWUOA in 1-D
    local fine, e = pcall(nlopt.minimize, { lower = { 0 }, upper = { 1 }, algorithm = "LN_NEWUOA",
                                            f = function(x) return x[1] end })
    assert.is_false(fine)
    assert.truthy(tostring(e):find("needs 2 dimensions", 1, true), tostring(e))
  end)
end)

describe("nm.explore.Evolution", function()
  -- A single FHN node (20 ms): the fitness peaks at x_ext = 0.4; sigma_ou is fixed.
  local function evolution(dir, over)
    local def = {
      model = function() return nm.models.fhn.native {} end,
      run = { duration = 20, dt = 0.1, seed = 3 },
      parameters = { x_ext = { 0, 1 }, sigma_ou = 0 },
      fitness = function(res, point) return { fitness = -(point.x_ext - 0.4) ^ 2, samples = #res:matrix("x")[1] } end,
      evaluations = 25, out = dir .. "/fit", progress = false,
    }
    for k, v in pairs(over or {}) do def[k] = v end
    return nm.explore.Evolution(def)
  end

  -- A fit of 25 evaluations in DIR/fit, whose evolution.txt another fit's process took first (its
  -- text `theirs`): refused at its line, naming what differs (`diff`, a pattern), theirs kept and
  -- nothing computed.
  local function refused_as_claimed(dir, theirs, diff)
    local made, err = pcall(function() evolution(dir):run() end)
    assert.is_false(made)
    assert.truthy(tostring(err):find("evolution_spec.lua:%d+: Evolution: '" .. (dir .. "/fit"):gsub("%p", "%%%0") ..
                                     "' was claimed by another fit as this one started %(another process wrote " ..
                                     "its evolution.txt first%): " .. diff), err)
    assert.equals(theirs, read(dir .. "/fit/evolution.txt"))
    assert.is_nil(io.open(dir .. "/fit/results.csv"))
  end

  it("claims evolution.txt exclusively: of two fits starting in one new folder, the second is refused", function()
    local core = require "neuromass.core"
    local dir = h.scratch()
    -- the claim itself: the first writes, the second finds it taken, the text the first's, nothing else left
    local path = dir .. "/claimed.txt"
    assert.is_true(core.claim_file(path, "first\n"))
    local ok, failure = core.claim_file(path, "second\n")
    assert.is_nil(ok)
    assert.equals("exists", failure.kind)
    assert.equals("'" .. path .. "' exists already", failure.message)
    assert.equals("first\n", read(path))
    assert.equals("claimed.txt\n", select(2, h.sh("ls -A " .. q(dir))))   -- (no temporary file)
    -- another fit's process claims the folder between this fit's reading it (empty) and its claim
    evolution(dir .. "/other", { evaluations = 4 }):run()
    local theirs = read(dir .. "/other/fit/evolution.txt")
    local claim = core.claim_file
    finally(function() core.claim_file = claim end)
    core.claim_file = function(p, text)
      assert.is_true(claim(p, theirs))
      return claim(p, text)
    end
    refused_as_claimed(dir, theirs, "evaluations")
    -- the same fit's settings (another task of its array): it goes on
    local mine = read(dir .. "/other/fit/evolution.txt")
    os.remove(dir .. "/fit/evolution.txt")
    theirs = mine
    assert.equals(4, evolution(dir, { evaluations = 4 }):run().evaluations)
  end)

  it("replaces another fit's evolution.txt (no evaluation kept) exclusively: of two fits at once, one goes on", function()
    local core = require "neuromass.core"
    local dir = h.scratch()
    -- the replacement itself: the first replaces what both read, the second finds it taken, nothing else left
    local path = dir .. "/settings.txt"
    local f = assert(io.open(path, "w"))
    f:write("old\n")
    f:close()
    assert.is_true(core.reclaim_file(path, "old\n", "first\n"))
    local ok, failure = core.reclaim_file(path, "old\n", "second\n")
    assert.is_nil(ok)
    assert.equals("exists", failure.kind)
    assert.equals("first\n", read(path))
    assert.equals("settings.txt\n", select(2, h.sh("ls -A " .. q(dir))))   -- (no temporary file)
    assert.is_true(core.reclaim_file(dir .. "/gone.txt", "old\n", "new\n"))  -- (none there: claimed)
    assert.equals("new\n", read(dir .. "/gone.txt"))
    -- a folder holding another fit's evolution.txt and no evaluation (4 of them, the table removed)
    evolution(dir .. "/four", { evaluations = 4 }):run()
    evolution(dir .. "/six", { evaluations = 6 }):run()
    local four, six = read(dir .. "/four/fit/evolution.txt"), read(dir .. "/six/fit/evolution.txt")
    local function folder(text)
      h.sh("rm -rf " .. q(dir .. "/fit") .. " && mkdir " .. q(dir .. "/fit"))
      local g = assert(io.open(dir .. "/fit/evolution.txt", "w"))
      g:write(text)
      g:close()
    end
    -- a fit of 6 evaluations replaces it between this fit's reading it and its own replacement
    folder(four)
    local reclaim = core.reclaim_file
    finally(function() core.reclaim_file = reclaim end)
    local theirs = six
    core.reclaim_file = function(p, old, text)
      assert.is_true(reclaim(p, old, theirs))
      return reclaim(p, old, text)
    end
    refused_as_claimed(dir, six, "evaluations 6 there, 25 here")
    -- the same fit's settings (another task of its array): it goes on
    folder(four)
    assert.equals(6, evolution(dir, { evaluations = 6 }):run().evaluations)
    -- on its own, a fit replaces another's settings
    core.reclaim_file = reclaim
    folder(four)
    assert.equals(6, evolution(dir, { evaluations = 6 }):run().evaluations)
    assert.equals(six, read(dir .. "/fit/evolution.txt"))
  end)

  it("logs every evaluation as a row of results.csv, within the bounds and the budget; writes best.json", function()
    local dir = h.scratch()
    local best = evolution(dir):run()
    local t = lines(read(dir .. "/fit/results.csv"))
    assert.equals("point,sigma_ou,x_ext,seed,fitness,samples,status", t[1])
    assert.equals(26, #t)                       -- the header and 25 evaluations, no more
    for i = 2, #t do
      local p, s, x, seed, status = t[i]:match("^(%d+),([^,]+),([^,]+),(%d+),[^,]+,[^,]+,(.*)$")
      assert.equals(i - 1, tonumber(p))
      assert.equals("0", s)
      assert.is_true(tonumber(x) >= 0 and tonumber(x) <= 1, t[i])
      assert.equals("3", seed)
      assert.equals("ok", status)
    end
    assert.equals(25, best.evaluations)
    assert.is_true(math.abs(best.point.x_ext - 0.4) < 0.05, best.point.x_ext)
    assert.equals(0, best.point.sigma_ou)
    local row = best.results.rows[best.evaluation]
    assert.equals(best.fitness, row.metrics.fitness)
    for _, r in ipairs(best.results.rows) do assert.is_true(r.metrics.fitness <= best.fitness) end
    local j = read(dir .. "/fit/best.json")
    assert.truthy(j:find('"fitness": ', 1, true), j)
    assert.truthy(j:find('"evaluation": ' .. best.evaluation, 1, true), j)
    assert.truthy(j:find('"algorithm": "GN_CRS2_LM"', 1, true), j)
    -- the same seed gives the same table, bit for bit
    local again = h.scratch()
    evolution(again):run()
    assert.equals(read(dir .. "/fit/results.csv"), read(again .. "/fit/results.csv"))
  end)

  it("restarts share the budget, each from its own block of rows and its own seed", function()
    local dir = h.scratch()
    local best = evolution(dir, { restarts = 2, evaluations = 21, algorithm = "GN_ISRES" }):run()
    assert.equals(11, best.share)
    assert.equals(21, best.evaluations)
    local first, second = {}, {}
    for _, r in ipairs(best.results.rows) do
      if r.point <= 11 then first[#first + 1] = r.values.x_ext else second[#second + 1] = r.values.x_ext end
    end
    assert.equals(11, #first)
    assert.equals(10, #second)
    assert.equals(0.5, first[1])                -- ISRES starts at the middle of the bounds, then draws
    assert.are_not.equal(first[2], second[2])
  end)

  it("a failing or NaN fitness is logged as a failed row and scores -inf; the search goes on", function()
    local dir = h.scratch()
    local calls = 0
    local best = evolution(dir, { evaluations = 30, fitness = function(_, point)
      calls = calls + 1
      if point.x_ext > 0.7 then error("too strong here") end
      if point.x_ext < 0.1 then return 0 / 0 end
      return -(point.x_ext - 0.4) ^ 2
    end }):run()
    assert.equals(30, calls)
    local failed, nan = 0, 0
    for _, l in ipairs(lines(read(dir .. "/fit/results.csv"))) do
      if l:find(",failed: [^,]*evolution_spec.lua:%d+: too strong here$") then failed = failed + 1 end
      if l:find(",failed: fitness is NaN %(not a finite number%)$") then nan = nan + 1 end
    end
    assert.is_true(failed > 0 and nan > 0, failed .. " " .. nan)
    assert.is_true(math.abs(best.point.x_ext - 0.4) < 0.05, best.point.x_ext)
    -- every evaluation failing: the result says so
    local none = evolution(h.scratch(), { evaluations = 5, fitness = function() error("never") end }):run()
    assert.equals(-math.huge, none.fitness)
    assert.is_nil(none.point)
  end)

  it("errors at the user's line: unknown parameter, bad bounds, bad fields", function()
    local dir = h.scratch()
    local function err(over, run_it)
      local ok, e = pcall(function()
        local evo = evolution(dir, over)
        if run_it then evo:run() end
      end)
      assert.is_false(ok)
      return tostring(e)
    end
    local e = err({ parameters = { x_ext = { 1, 0 } } })
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: parameter 'x_ext' = { 1, 0 }: bounds must be " ..
                         "{ lower, upper }, two finite numbers with lower < upper"), e)
    e = err({ parameters = { x_ext = { 0, 1 / 0 } } })
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: parameter 'x_ext'"), e)
    e = err({ parameters = { x_ext = "wide" } })
    assert.truthy(e:find("give { lower, upper } to search it or a number to fix it", 1, true), e)
    e = err({ parameters = { sigma_ou = 0 } })
    assert.truthy(e:find("nothing to search", 1, true), e)
    -- ParameterSpace's list of pairs is not Evolution's form: the entry is shown, not its index alone
    e = err({ parameters = { { "x_ext", { 0, 1 } } } })
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: 'parameters' is a table by name, " ..
                         "{ NAME = { lower, upper } or value, ... }, not a list: entry 1 is { \"x_ext\", { 0, 1 } }"), e)
    e = err({ evaluations = 0 })
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: 'evaluations' must be a whole number from 1 to 10%^9"), e)
    -- beyond NLopt's cap the message named nlopt's maxeval, not the user's field
    e = err({ evaluations = 2000000000 })
    assert.truthy(e:find("Evolution: 'evaluations' must be a whole number from 1 to 10^9 (the budget of model runs), " ..
                         "got 2000000000", 1, true), e)
    e = err({ evalutions = 3 })
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: unknown field 'evalutions'.*evaluations"), e)
    e = err({ batch = 4 })      -- no near name: the fields are listed
    assert.truthy(e:find("Evolution: unknown field 'batch'; the fields are ", 1, true), e)
    assert.truthy(e:find("evaluations", 1, true) and e:find("fitness", 1, true), e)
    -- every restart gets evaluations: 5 over 4 restarts takes 2, 2, 1, and would leave restart 4 none
    e = err({ evaluations = 5, restarts = 4 })
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: 'restarts' = 4 leaves restart 4 no evaluation"), e)
    e = err({ options = { xtol = 1 } })
    assert.truthy(e:find("unknown NLopt criterion \"xtol\"", 1, true), e)
    -- a bound the parameter refuses is a mistake of the script, as a BoxSearch's value (it was each
    -- evaluation beyond it recorded as failed, the search going on)
    e = err({ parameters = { x_ext = { 0, 1 }, sigma_ou = { -1, 1 } } }, true)
    assert.truthy(e:find("^[^\n]*evolution_spec.lua:%d+: Evolution: parameter 'sigma_ou' = { %-1, 1 }: its lower bound " ..
                         "%-1 is refused: 'sigma_ou' is a noise sigma: it must be >= 0, got %-1$"), e)
    assert.is_nil(io.open(dir .. "/fit/results.csv"))
    e = err({ parameters = { x_etx = { 0, 1 } } }, true)
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: parameter 'x_etx': unknown parameter 'x_etx'; " ..
                         "did you mean 'x_ext'%?"), e)
    -- a misspelt algorithm is refused by Evolution{} itself: an earlier fit's table stays
    assert.truthy(require("neuromass.core").mkdir_p(dir .. "/fit"))
    h.write(dir .. "/fit/results.csv", "earlier\n")
    e = err({ algorithm = "GN_CRS" })
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: nlopt: unknown algorithm 'GN_CRS'"), e)
    e = err({ algorithm = "LD_MMA" })
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: nlopt: algorithm 'LD_MMA' needs derivatives"), e)
    -- NLopt's MLSL and AUGLAG run a local optimiser that Evolution does not give: refused (before, NLopt
    -- crashed the process, a segmentation fault in nlopt_set_xtol_abs under nlopt_optimize)
    for _, name in ipairs { "GN_MLSL", "GN_MLSL_LDS", "LN_AUGLAG", "LN_AUGLAG_EQ" } do
      e = err({ algorithm = name })
      assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: nlopt: algorithm '" .. name .. "' needs a local " ..
                           "optimiser"), e)
    end
    assert.equals("earlier\n", read(dir .. "/fit/results.csv"))
  end)

  it("an algorithm NLopt would refuse at run time is refused by Evolution{}: the earlier table kept byte for byte",
     function()
    local dir = h.scratch()
    evolution(dir, { evaluations = 3 }):run()
    local before, best = read(dir .. "/fit/results.csv"), read(dir .. "/fit/best.json")
    assert.truthy(before:find("\n3,", 1, true), before)
    local function refused(over, pattern)
      local ok, e = pcall(function() evolution(dir, over):run() end)
      assert.is_false(ok)
      e = tostring(e)
      assert.truthy(e:find("^[^\n]*evolution_spec.lua:%d+: Evolution: nlopt: " .. pattern), e)
      assert.equals(before, read(dir .. "/fit/results.csv"))
      assert.equals(best, read(dir .. "/fit/best.json"))
      return e
    end
    -- NEWUOA takes 2 dimensions or more (NLopt: "dimension 1 must be >= 2", once the fit ran)
    local e = refused({ algorithm = "LN_NEWUOA" }, "algorithm 'LN_NEWUOA' needs 2 dimensions or more")
    assert.truthy(e:find("LN_BOBYQA", 1, true), e)
    refused({ algorithm = "LN_NEWUOA_BOUND" }, "algorithm 'LN_NEWUOA_BOUND' needs 2 dimensions")
    -- AGS is C++ in NLopt, left out of a build without it (Debian's): its run returned INVALID_ARGS, in 2-D too
    local two = { x_ext = { 0, 1 }, sigma_ou = { 0, 0.01 } }
    if nlopt.algorithm("GN_AGS") then
      evolution(h.scratch(), { algorithm = "GN_AGS", parameters = two, evaluations = 3 }):run()
    else
      e = refused({ algorithm = "GN_AGS", parameters = two }, "algorithm 'GN_AGS' is not in the NLopt library linked")
      assert.truthy(e:find("GN_CRS2_LM", 1, true), e)
    end
    refused({ algorithm = "GN_MLSL" }, "algorithm 'GN_MLSL' needs a local optimiser")
    -- in 2 dimensions NEWUOA runs
    local fit = evolution(h.scratch(), { algorithm = "LN_NEWUOA_BOUND", parameters = two, evaluations = 4 }):run()
    assert.equals(4, fit.evaluations)
  end)

  it("an out holding another exploration's table (a BoxSearch's, a file not a table) is refused, the table kept",
     function()
    -- (a run removes its own earlier table; it removed a BoxSearch's too, silently)
    local dir = h.scratch()
    nm.explore.BoxSearch {
      model = function() return nm.models.fhn.native {} end,
      space = nm.explore.ParameterSpace { x_ext = { 0.5 } }, run = { duration = 1, dt = 0.1 }, progress = false,
      evaluate = function() return { mean_x = 1 } end, out = dir .. "/fit" }:run()
    local before = read(dir .. "/fit/results.csv")
    local ok, e = pcall(function() evolution(dir, { evaluations = 2 }):run() end)
    assert.is_false(ok)
    assert.truthy(tostring(e):find("evolution_spec.lua:%d+: Evolution: '[^']*/fit' is a BoxSearch's folder"), tostring(e))
    -- a folder written before exploration.txt: its table's metrics tell
    os.remove(dir .. "/fit/exploration.txt")
    ok, e = pcall(function() evolution(dir, { evaluations = 2 }):run() end)
    assert.is_false(ok)
    assert.truthy(tostring(e):find("^[^\n]*evolution_spec.lua:%d+: Evolution: '[^']*/fit/results.csv' is another " ..
                                   "exploration's table %(no fitness column; its metrics: mean_x%): remove it, " ..
                                   "or choose another out"), tostring(e))
    assert.equals(before, read(dir .. "/fit/results.csv"))
    h.write(dir .. "/fit/results.csv", "my notes\n")
    ok, e = pcall(function() evolution(dir, { evaluations = 2 }):run() end)
    assert.is_false(ok)
    assert.truthy(tostring(e):find("Evolution: '[^']*/fit/results.csv' is not a results table"), tostring(e))
    assert.equals("my notes\n", read(dir .. "/fit/results.csv"))
    -- a fit's own table is replaced, even one whose evaluations all failed (no fitness column)
    evolution(dir, { evaluations = 2, fitness = function() error("never") end, out = dir .. "/own" }):run()
    -- whose best.json says there is no best (before: "point": { <blank line> }, no fitness key)
    assert.equals('{\n  "fitness": null,\n  "point": null,\n  "evaluation": null,\n  "evaluations": 2,\n',
                  read(dir .. "/own/best.json"):match("^.-\"evaluations\": 2,\n"))
    assert.equals(2, evolution(dir, { evaluations = 2, out = dir .. "/own" }):run().evaluations)
  end)

  it("an out holding a BoxSearch's parts or partial merge is refused, the files kept (their points not lost)",
     function()
    -- (a run removed them with its own earlier parts, silently: an array's computed points gone)
    local dir = h.scratch()
    local part = "point,x_ext,seed,mean_x,status\n1,0.5,17,0.25,ok\n"
    assert.equals(0, (h.sh("mkdir -p " .. h.q(dir .. "/fit/parts"))))
    local function refused(what)
      local ok, e = pcall(function() evolution(dir, { evaluations = 2 }):run() end)
      assert.is_false(ok)
      assert.truthy(tostring(e):find("^[^\n]*evolution_spec.lua:%d+: Evolution: " .. what), tostring(e))
    end
    -- an array's part, with the count of points its tasks write beside it
    h.write(dir .. "/fit/parts/task-0-of-2.csv", part)
    h.write(dir .. "/fit/parts/points.txt", "2 17\n")
    refused("'[^']*/fit/parts' holds a BoxSearch's parts %(parts/points.txt%): join them %(neuromass explore " ..
            "%-%-merge '[^']*/fit'%) or remove them, or choose another out")
    -- a part alone, then an incomplete merge's table alone
    os.remove(dir .. "/fit/parts/points.txt")
    refused("'[^']*/fit/parts/task%-0%-of%-2.csv' is another exploration's table %(no fitness column; its " ..
            "metrics: mean_x%): remove it, or choose another out")
    assert.equals(part, read(dir .. "/fit/parts/task-0-of-2.csv"))
    os.rename(dir .. "/fit/parts/task-0-of-2.csv", dir .. "/fit/results.partial.csv")
    refused("'[^']*/fit/results.partial.csv' is another exploration's table")
    assert.equals(part, read(dir .. "/fit/results.partial.csv"))
  end)

  -- A BoxSearch whose every point failed has no metric column, as a fit whose every evaluation
  -- failed: the folder's exploration.txt says which kind wrote it.
  it("an out of a BoxSearch whose every point failed is refused too (exploration.txt), and the other way", function()
    local dir = h.scratch()
    local function box(out)
      return nm.explore.BoxSearch {
        model = function() return nm.models.fhn.native {} end,
        space = nm.explore.ParameterSpace { x_ext = { 0.5 } }, run = { duration = 1, dt = 0.1 }, progress = false,
        evaluate = function() error("no metric") end, out = out }:run()
    end
    box(dir .. "/fit")
    local before = read(dir .. "/fit/results.csv")
    assert.equals("BoxSearch\n", read(dir .. "/fit/exploration.txt"))
    local ok, e = pcall(function() evolution(dir, { evaluations = 2 }):run() end)
    assert.is_false(ok)
    assert.truthy(tostring(e):find("^[^\n]*evolution_spec.lua:%d+: Evolution: '[^']*/fit' is a BoxSearch's folder " ..
                                   "%(its exploration%.txt%): remove it, or choose another out"), tostring(e))
    assert.equals(before, read(dir .. "/fit/results.csv"))
    -- a fit's folder says so, and a BoxSearch refuses it
    evolution(dir, { evaluations = 2, out = dir .. "/own" }):run()
    assert.equals("Evolution\n", read(dir .. "/own/exploration.txt"))
    ok, e = pcall(function() box(dir .. "/own") end)
    assert.is_false(ok)
    assert.truthy(tostring(e):find("evolution_spec.lua:%d+: BoxSearch: '[^']*/own' is an Evolution's folder " ..
                                   "%(its exploration%.txt%)"), tostring(e))
    -- each runs again in its own folder
    box(dir .. "/fit")
    assert.equals(2, evolution(dir, { evaluations = 2, out = dir .. "/own" }):run().evaluations)
  end)

  -- `neuromass info` passed what `run` refuses (before: exit 0 for all three, nothing said)
  it("neuromass info says what run would: another kind's folder (both ways), another fit's settings, a file",
     function()
    local dir = h.scratch()
    h.write(dir .. "/both.lua", [[
local nm = require "neuromass"
local fhn = function() return nm.models.fhn.native {} end
if arg[1] == "box" then
  nm.explore.BoxSearch { model = fhn, space = nm.explore.ParameterSpace { x_ext = { 0.5, 0.6 } },
    run = { duration = 5, dt = 0.1 }, evaluate = function() return { one = 1 } end, out = arg[2] }:run()
else
  nm.explore.Evolution { model = fhn, run = { duration = 5, dt = 0.1 }, parameters = { x_ext = { 0, 1 } },
    fitness = function(_, p) return -p.x_ext end, evaluations = tonumber(arg[3]), out = arg[2] }:run()
end
]])
    local function nm_(cmd, args)
      return h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " " .. cmd .. " both.lua --quiet -- " .. args)
    end
    assert.equals(0, (nm_("run", "box boxes")))
    assert.equals(0, (nm_("run", "fit fit 4")))
    h.write(dir .. "/afile", "")
    local listing = select(2, h.sh("ls -R " .. q(dir)))
    for _, c in ipairs {
      { "fit boxes 4", "both.lua:7: Evolution: '" .. dir .. "/boxes' is a BoxSearch's folder (its exploration.txt)" },
      { "box fit", "both.lua:4: BoxSearch: '" .. dir .. "/fit' is an Evolution's folder (its exploration.txt)" },
      { "fit fit 3", "both.lua:7: Evolution: '" .. dir .. "/fit' holds the evaluations of a fit with other " ..
                     "settings (its evolution.txt): evaluations 4 there, 3 here." },
      { "fit afile 4", "both.lua:7: Evolution: cannot create '" .. dir .. "/afile': not a directory" },
      { "box afile", "both.lua:4: BoxSearch: cannot create '" .. dir .. "/afile': not a directory" },
    } do
      local si, _, ei = nm_("info", c[1])
      local sr, _, er = nm_("run", c[1])
      assert.equals(1, sr, er)
      assert.truthy(er:find(c[2], 1, true), er)
      assert.equals(1, si, c[1] .. ": " .. ei)
      assert.truthy(ei:find(c[2], 1, true), ei)
    end
    assert.equals(0, (nm_("info", "fit fit 4")))
    assert.equals(0, (nm_("info", "fit new 4")))
    assert.is_nil(io.open(dir .. "/new"))                     -- info writes nothing
    assert.equals(listing, select(2, h.sh("ls -R " .. q(dir))))
  end)

  it("a fitness returning something else than a number is an error at the user's line; the rows before are kept",
     function()
    local function err(fitness)
      local dir = h.scratch()
      local ok, e = pcall(function()
        evolution(dir, { evaluations = 6, fitness = function(_, point)
          if point.x_ext < 0 then return 0 end       -- (never: the bounds are 0 .. 1)
          local f = io.open(dir .. "/n", "a"); f:write("x"); f:close()
          if #read(dir .. "/n") < 3 then return -(point.x_ext - 0.4) ^ 2 end
          return fitness
        end }):run()
      end)
      assert.is_false(ok)
      local t = lines(read(dir .. "/fit/results.partial.csv"))
      assert.equals(3, #t, table.concat(t, "\n"))             -- the header and evaluations 1 and 2
      assert.truthy(t[3]:find(",ok$"), t[3])
      return tostring(e)
    end
    local e = err("high")
    assert.truthy(e:find('evolution_spec.lua:%d+: Evolution: fitness%(res, point%) of evaluation 3 returned "high" ' ..
                         '%(a string%): return the number to maximise, or { fitness = number, NAME = number, ... }'), e)
    e = err({ fit = 1 })
    assert.truthy(e:find("of evaluation 3 returned { fit = 1 }: return the number to maximise", 1, true), e)
    e = err({ fitness = 1, x_ext = 2 })
    assert.truthy(e:find("of evaluation 3 returned a metric named 'x_ext', a parameter's name: rename the metric",
                         1, true), e)
    e = err({ fitness = 1, status = 2 })
    assert.truthy(e:find("a metric named 'status', a column of the results table", 1, true), e)
    e = err({ fitness = 1, rate = "fast" })
    assert.truthy(e:find('returned rate = "fast" (a string): a metric is a number', 1, true), e)
  end)

  it("a stop signal ends the fit: the evaluations done are kept, none failed, no best.json; a rerun resumes it",
     function()
    local dir = h.scratch()
    h.write(dir .. "/fit.lua", [[
local nm = require "neuromass"
]] .. h.SAVE_PID .. [[
local best = nm.explore.Evolution {
  model = function() return nm.models.fhn.native {} end,
  run = { duration = 20, dt = 0.1 }, parameters = { x_ext = { 0, 1 } }, evaluations = 12,
  restarts = arg[1] and arg[1]:find("^workers") and 2 or 1,
  fitness = function(res, point)
    local f = io.open("n", "a"); f:write("x"); f:close()
    f = io.open("n"); local n = #f:read("a"); f:close()
    if n == 5 and arg[1] == "stop" then
]] .. h.STOP_SELF .. [[
    -- (>= 5: two workers append and read "n" at once, and may both read past 5)
    elseif n >= 5 and arg[1] == "workers" then     -- the script's process stopped, its workers with it
]] .. h.KILL_SCRIPT .. [[
    end
    return -(point.x_ext - 0.4) ^ 2
  end,
  out = "fit" }:run()
print(best.evaluations)
]])
    local function run(opts)
      return h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run fit.lua --quiet " .. opts)
    end
    local function calls() return #read(dir .. "/n") end
    local s, out, e = run("")
    assert.equals(0, s, e)
    assert.equals("12\n", out)
    local whole, best = read(dir .. "/fit/results.csv"), read(dir .. "/fit/best.json")
    s, out, e = run("-- stop")             -- (the table complete: replayed, nothing computed, no stop)
    assert.equals(0, s, e)
    assert.equals("12\n", out)
    assert.equals(12, calls())
    assert.equals(whole, read(dir .. "/fit/results.csv"))
    assert.equals(best, read(dir .. "/fit/best.json"))
    s, out, e = h.sh("cd " .. q(dir) .. " && rm -r n fit && " .. q(h.exe) .. " run fit.lua --quiet -- stop")
    assert.equals(143, s, e)
    assert.equals("", out)                                   -- the script stopped at the fit
    -- (before: "Evolution: nm.func.fc: interrupted by SIGINT", or whichever step the signal
    -- interrupted, and no word of what was kept: now as a BoxSearch's, one message for both)
    assert.truthy(e:find("fit.lua:5: Evolution: interrupted by SIGTERM; the evaluations done are kept in " .. dir ..
                         "/fit/results.partial.csv: run again to resume the fit\n", 1, true), e)
    assert.is_nil(io.open(dir .. "/fit/results.csv"))         -- (the fit did not end: no whole table)
    local t = read(dir .. "/fit/results.partial.csv")
    assert.is_nil(t:find("failed", 1, true), t)
    assert.equals(5, select(2, t:gsub("\n", "")))           -- the header and evaluations 1 to 4
    assert.is_nil(io.open(dir .. "/fit/best.json"))
    -- the rerun replays evaluations 1 to 4 and computes 5 to 12 alone: the table of the whole run
    -- (before: it started again, 12 more calls of the fitness)
    s, out, e = run("")
    assert.equals(0, s, e)
    assert.equals("12\n", out)
    assert.equals(5 + 8, calls())
    assert.equals(whole, read(dir .. "/fit/results.csv"))
    assert.is_nil(io.open(dir .. "/fit/results.partial.csv"))
    assert.equals(best, read(dir .. "/fit/best.json"))
    -- 2 restarts on 2 workers: the evaluations done are joined into results.csv (they stayed in parts/)
    -- (a --set recorded as the runs take it: 3.10 is 3.1; another value is another fit)
    s, out, e = h.sh("cd " .. q(dir) .. " && rm -r n fit && " .. q(h.exe) .. " run fit.lua --quiet --set alpha=3.10")
    assert.equals(0, s, e)
    assert.equals("12\n", out)
    assert.truthy(read(dir .. "/fit/evolution.txt"):find("\n%-%-set alpha = 3%.1\n"))
    s, out, e = run("--set alpha=3.1")
    assert.equals(0, s, e)
    assert.equals("12\n", out)
    assert.equals(12, calls())                               -- (nothing computed)
    for _, c in ipairs { { "--set alpha=3.2", "3.2" }, { "", "(none)" } } do
      s, out, e = run(c[1])
      assert.equals(1, s, e)
      assert.equals("", out)
      assert.truthy(e:find("(its evolution.txt): --set alpha 3.1 there, " .. c[2] .. " here.", 1, true), e)
    end
    s, out, e = h.sh("cd " .. q(dir) .. " && rm -r n fit && " .. q(h.exe) .. " run fit.lua --quiet")
    assert.equals(0, s, e)
    assert.equals("12\n", out)
    assert.equals(whole, read(dir .. "/fit/results.csv"))
    -- (another fit: 2 restarts; refused in this folder, its settings named)
    s, out, e = run("--workers 2 -- workers2")
    assert.equals(1, s, e)
    assert.equals("", out)
    assert.truthy(e:find("fit.lua:5: Evolution: '" .. dir .. "/fit' holds the evaluations of a fit with other " ..
                         "settings (its evolution.txt): restarts 1 there, 2 here. A rerun resumes a fit only with " ..
                         "its settings: choose another out for this one, or remove the folder to start again", 1,
                         true), e)
    assert.equals(whole, read(dir .. "/fit/results.csv"))
    s, out, e = h.sh("cd " .. q(dir) .. " && rm -r n fit && " .. q(h.exe) .. " run fit.lua --quiet --workers 2 -- workers2")
    assert.equals(0, s, e)
    assert.equals("12\n", out)
    local whole2, best2 = read(dir .. "/fit/results.csv"), read(dir .. "/fit/best.json")
    s, out, e = h.sh("cd " .. q(dir) .. " && rm -r n fit && " .. q(h.exe) .. " run fit.lua --quiet --workers 2 -- workers")
    assert.equals(143, s, e)
    assert.equals("", out)
    assert.truthy(e:find("fit.lua:%d+: Evolution: the worker processes were stopped %(signal 15%); the evaluations " ..
                         "done are kept in [^\n]*/fit/results%.partial%.csv: run again to resume the fit\n"), e)
    t = read(dir .. "/fit/results.partial.csv")
    assert.is_nil(t:find("failed", 1, true), t)
    local kept = select(2, t:gsub("\n", "")) - 1
    assert.is_true(kept >= 3, t)                             -- at least 3 of the first 4
    assert.is_nil(io.open(dir .. "/fit/parts/task-0-of-2.csv"))
    assert.is_nil(io.open(dir .. "/fit/best.json"))
    local before = calls()
    s, out, e = run("--workers 2 -- workers2")
    assert.equals(0, s, e)
    assert.equals("12\n", out)
    assert.equals(before + 12 - kept, calls())               -- only the evaluations the table lacked
    assert.equals(whole2, read(dir .. "/fit/results.csv"))
    assert.equals(best2, read(dir .. "/fit/best.json"))
  end)

  -- A rerun replays the evaluations its table holds (NLopt asks for the same
  -- points in the same order) and computes only from the first it lacks.
  it("a rerun replays the logged evaluations, computing the rest; a row not of the point asked, a row past its " ..
     "restart's end, other settings and a table without its settings are refused, the table kept", function()
    local dir = h.scratch()
    local calls = 0
    local function fit(over)
      local def = { evaluations = 10, fitness = function(_, point) calls = calls + 1; return -(point.x_ext - 0.4) ^ 2 end }
      for k, v in pairs(over or {}) do def[k] = v end
      return evolution(dir, def)
    end
    local path = dir .. "/fit/results.csv"
    local best = fit():run()
    local whole, json = read(path), read(dir .. "/fit/best.json")
    assert.equals(10, calls)
    local t = lines(whole)
    h.write(path, table.concat(t, "\n", 1, 5) .. "\n")        -- the header and evaluations 1 to 4
    os.remove(dir .. "/fit/best.json")
    calls = 0
    local again = fit():run()
    assert.equals(6, calls)                                    -- (before: 10, the fit started again)
    assert.equals(whole, read(path))
    assert.equals(json, read(dir .. "/fit/best.json"))
    assert.equals(best.fitness, again.fitness)
    assert.equals(best.evaluation, again.evaluation)
    assert.equals(10, again.evaluations)
    calls = 0
    fit():run()                                                -- complete: nothing computed
    assert.equals(0, calls)
    assert.equals(whole, read(path))
    local function refused(over)
      calls = 0
      local before = read(path)
      local ok, e = pcall(function() fit(over):run() end)
      assert.is_false(ok)
      assert.equals(0, calls)
      assert.equals(before, read(path))                        -- the table kept as it was
      return tostring(e)
    end
    -- evaluation 3 edited by hand: x_ext changed in its last digit
    local x3 = t[4]:match("^3,0,([^,]+),")
    local edited = x3:sub(1, -2) .. (x3:sub(-1) == "1" and "2" or "1")
    h.write(path, (whole:gsub("\n3,0," .. x3:gsub("%.", "%%.") .. ",", "\n3,0," .. edited .. ",")))
    local e = refused()
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: row 3 of '" .. path:gsub("%p", "%%%0") .. "' holds " ..
                         "x_ext = " .. edited:gsub("%p", "%%%0") .. " where this fit asks for x_ext = " ..
                         x3:gsub("%p", "%%%0") .. " at evaluation 3: the table was edited, or the model or fitness " ..
                         "changed since it was written; mend or delete that row"), e)
    -- other settings: named, whatever the rows
    h.write(path, whole)
    e = refused({ evaluations = 12, run = { duration = 30, dt = 0.1, seed = 3 } })
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: '" .. dir:gsub("%p", "%%%0") .. "/fit' holds the " ..
                         "evaluations of a fit with other settings %(its evolution.txt%): evaluations 10 there, 12 " ..
                         "here; run duration 20 there, 30 here%. A rerun resumes a fit only with its settings"), e)
    -- no settings beside the table (an older neuromass's fit)
    os.rename(dir .. "/fit/evolution.txt", dir .. "/settings")
    e = refused()
    assert.truthy(e:find("Evolution: '" .. dir .. "/fit' holds evaluations but no evolution.txt", 1, true), e)
    os.rename(dir .. "/settings", dir .. "/fit/evolution.txt")
    -- a restart that stops early (BOBYQA's xtol_rel): a row after its last evaluation was never asked
    os.remove(path)
    local early = { algorithm = "LN_BOBYQA", options = { xtol_rel = 0.1 }, evaluations = 20 }
    fit(early):run()
    local short = read(path)
    local last = #lines(short) - 1
    assert.is_true(last < 20, short)
    h.write(path, short .. string.format("%d", last + 1) .. short:match("\n%d+(,[^\n]*\n)$"))
    e = refused(early)
    assert.truthy(e:find("Evolution: row " .. (last + 1) .. " of '" .. path .. "' is an evaluation of restart 1, " ..
                         "which asked for none after evaluation " .. last, 1, true), e)
  end)

  -- Before: a fit given more evaluations was refused as "other settings", its log lost to a
  -- fresh start; NLopt asks the same points whatever its budget, so the log is the start of it.
  it("a larger budget goes on from the fit's log, to the table of a fit run with it from the start", function()
    for _, algorithm in ipairs { "GN_CRS2_LM", "LN_BOBYQA" } do
      local dir, fresh = h.scratch(), h.scratch()
      local calls = 0
      local function fit(d, evaluations, restarts)
        return evolution(d, { evaluations = evaluations, restarts = restarts, algorithm = algorithm,
                              fitness = function(_, point) calls = calls + 1; return -(point.x_ext - 0.4) ^ 2 end })
      end
      fit(dir, 10):run()
      calls = 0
      local best = fit(dir, 18):run()
      assert.equals(8, calls, algorithm)                         -- (before: refused, or 18 from a fresh start)
      local whole = fit(fresh, 18):run()
      assert.equals(read(fresh .. "/fit/results.csv"), read(dir .. "/fit/results.csv"))
      assert.equals(read(fresh .. "/fit/best.json"), read(dir .. "/fit/best.json"))
      assert.equals(read(fresh .. "/fit/evolution.txt"), read(dir .. "/fit/evolution.txt"))
      assert.equals(whole.fitness, best.fitness)
      assert.equals(18, best.evaluations)
    end
    -- a smaller budget: the rows past it are named; with restarts, each restart's block would move
    local dir = h.scratch()
    evolution(dir, { evaluations = 12, restarts = 2 }):run()
    local ok, e = pcall(function() evolution(dir, { evaluations = 16, restarts = 2 }):run() end)
    assert.is_false(ok)
    assert.truthy(e:find("evolution_spec.lua:%d+: Evolution: '" .. dir:gsub("%p", "%%%0") .. "/fit' holds a fit " ..
                         "of 12 evaluations in 2 restarts, this one is of 16: a larger budget goes on from a fit of " ..
                         "one restart only"), e)
    ok, e = pcall(function() evolution(dir, { evaluations = 8, restarts = 2 }):run() end)
    assert.is_false(ok)
    assert.truthy(e:find("evaluations 12 there, 8 here", 1, true), e)
  end)

  it("os.exit in the fitness ends the script with its status, the evaluations before it kept", function()
    local dir = h.scratch()
    h.write(dir .. "/fit.lua", [[
local nm = require "neuromass"
local n = 0
nm.explore.Evolution {
  model = function() return nm.models.fhn.native {} end,
  run = { duration = 20, dt = 0.1 }, parameters = { x_ext = { 0, 1 } }, evaluations = 12,
  fitness = function(_, point)
    n = n + 1
    if n == 5 then os.exit(4) end
    return -(point.x_ext - 0.4) ^ 2
  end,
  out = "fit" }:run()
]])
    local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run fit.lua --quiet")
    assert.equals(4, s, e)
    -- the header and evaluations 1 to 4 (before: no table, the rows not yet written)
    local t = h.read(dir .. "/fit/results.partial.csv")
    assert.equals(5, select(2, t:gsub("\n", "")), t)
    assert.is_nil(t:find("failed", 1, true), t)
    assert.is_nil(io.open(dir .. "/fit/best.json"))
  end)

  -- A process killed outright while writing left best.json.tmp-PID.HOST
  -- (and results.csv's) for good; the next run holds the folder alone.
  it("a run removes the temporary files that killed processes left in its folder", function()
    local dir = h.scratch()
    assert(require("neuromass.core").mkdir_p(dir .. "/fit/parts"))
    for _, name in ipairs { "best.json.tmp-12.elsewhere", "results.csv.tmp-13", "parts/restarts.txt.tmp-12.b" } do
      h.write(dir .. "/fit/" .. name, "")
    end
    evolution(dir, { evaluations = 4 }):run()
    local _, left = h.sh("cd " .. q(dir) .. " && find fit -name '*.tmp-*'")
    assert.equals("", left)      -- (before: the three files)
    assert.truthy(io.open(dir .. "/fit/best.json"))
  end)

  it("nm.plot.evolution draws the fitness over evaluations", function()
    local dir = h.scratch()
    local best = evolution(dir, { evaluations = 12 }):run()
    local path = nm.plot.evolution(best, { out = dir .. "/fit.png" })
    assert.equals(dir .. "/fit.png", path)
    assert.equals("\137PNG", read(path):sub(1, 4))
    local ok, e = pcall(nm.plot.evolution, { rows = {} }, { out = dir .. "/x.png" })
    assert.is_false(ok)
    assert.truthy(tostring(e):find("evolution_spec.lua:%d+: plot.evolution: expected the result of an Evolution"), e)
    -- the key beside the plot: inside it, it hid the poor evaluations a search draws at the bottom
    local script = table.concat(require("neuromass.plot.evolution").script({ { 1, 0.1 } }, { { 1, 0.1 } }, {}), "\n")
    assert.truthy(script:find("\nset key outside right top\n", 1, true), script)
  end)
end)

describe("nm.explore.Evolution spread over processes", function()
  -- 3 restarts of 8 evaluations on a single FHN node; each evaluation
  -- appends its process id to evals.txt; a BoxSearch before it.
  local SCRIPT = [==[
local nm = require "neuromass"
local boxes = nm.explore.BoxSearch {
  model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace { x_ext = { 0.5, 0.6, 0.7 } }, run = { duration = 20, dt = 0.1 },
  evaluate = function() local f = io.open("evals.txt", "a"); f:write("box\n"); f:close(); return { one = 1 } end,
  out = "boxes" }:run()
local best = nm.explore.Evolution {
  model = function() return nm.models.fhn.native {} end,
  run = { duration = 20, dt = 0.1, seed = 5 }, parameters = { x_ext = { 0, 1 } }, restarts = 3,
  fitness = function(res, point)
    local f = io.open("evals.txt", "a"); f:write(io.open("/proc/self/stat"):read("n"), "\n"); f:close()
    return { fitness = -(point.x_ext - 0.4) ^ 2, last_x = res:matrix("x")[1][#res:matrix("x")[1]] }
  end,
  evaluations = 24, out = "fit" }:run()
print(#boxes.rows, best.evaluations, string.format("%.17g", best.point.x_ext))
]==]

  local function count(dir)
    local f = io.open(dir .. "/evals.txt", "r")
    local box, n, pids, np = 0, 0, {}, 0
    for l in f:lines() do
      if l == "box" then box = box + 1
      else
        n = n + 1
        if not pids[l] then pids[l] = true; np = np + 1 end
      end
    end
    f:close()
    return box, n, np
  end

  it("1 worker, 2 workers and a 3-task Slurm array merged give the same table bit for bit", function()
    local one, two, arr = h.scratch(), h.scratch(), h.scratch()
    for _, d in ipairs { one, two } do h.write(d .. "/fit.lua", SCRIPT) end
    -- a task ends the script after its part: the array's script holds the Evolution alone
    h.write(arr .. "/fit.lua", (SCRIPT:gsub("local boxes = .-:run%(%)", "local boxes = { rows = {} }")))
    local function run(d, opts, env)
      return h.sh("cd " .. q(d) .. " && " .. (env or "") .. " " .. q(h.exe) .. " run fit.lua --quiet " .. opts)
    end
    local s1, out1, e1 = run(one, "--workers 1")
    assert.equals(0, s1, e1)
    local s2, out2, e2 = run(two, "--workers 2")
    assert.equals(0, s2, e2)
    assert.equals(out1, out2)
    assert.truthy(out1:find("^3\t24\t"), out1)
    local table1 = read(one .. "/fit/results.csv")
    assert.equals(table1, read(two .. "/fit/results.csv"))
    assert.equals(25, #lines(table1))
    assert.equals(read(one .. "/fit/best.json"), read(two .. "/fit/best.json"))
    local box, n, np = count(two)
    assert.equals(3, box)          -- the BoxSearch's points once each, not again in the Evolution's workers
    assert.equals(24, n)
    -- (each restart in whichever worker claimed it: one may take both before the other starts)
    assert.is_true(np >= 1 and np <= 2, np)
    for task = 0, 2 do
      local s, _, e = run(arr, "", "SLURM_ARRAY_TASK_ID=" .. task .. " SLURM_ARRAY_TASK_COUNT=3")
      assert.equals(0, s, e)
      if task == 1 then      -- task 2's restart missing: the merge is incomplete, exit 1
        local sm, _, em = h.sh(q(h.exe) .. " explore --merge " .. q(arr .. "/fit"))
        assert.equals(1, sm, em)
        assert.truthy(em:find("/fit/results.partial.csv: 16 rows (2 parts joined); incomplete", 1, true), em)
        assert.truthy(em:find("\nno part from task 2 of 3 (--task 2 --ntasks 3): its points are missing", 1, true), em)
        -- its points named: restart 3's, 17 to 24 (before: none, past the largest row)
        assert.truthy(em:find("\nmissing: points 17, 18, 19, 20, 21, 22, 23, 24 (", 1, true), em)
        assert.is_nil(io.open(arr .. "/fit/results.csv"))
      end
    end
    local sm, _, em = h.sh(q(h.exe) .. " explore --merge " .. q(arr .. "/fit"))
    assert.equals(0, sm, em)
    assert.equals(table1, read(arr .. "/fit/results.csv"))
    assert.is_nil(io.open(arr .. "/fit/results.partial.csv"))
  end)

  -- An interrupted fit, resumed as an array of 3 tasks (each replaying what
  -- its restarts logged), or by mpirun: the table and best.json of an
  -- uninterrupted run, the fitness called only for the evaluations missing.
  it("an interrupted fit resumed by a 3-task array (+ merge) or mpirun -np 2: the uninterrupted run's table", function()
    -- (STOP=K: os.exit at this process's K-th evaluation)
    local script = SCRIPT:gsub("local boxes = .-:run%(%)", "local n, stop = 0, tonumber(os.getenv('STOP'))")
                         :gsub("fitness = function%(res, point%)\n",
                               "%0    n = n + 1; if n == stop then os.exit(3) end\n")
                         :gsub("print%(#boxes.rows, ", "print(")
    local one, arr, ranks = h.scratch(), h.scratch(), h.scratch()
    for _, d in ipairs { one, arr, ranks } do h.write(d .. "/fit.lua", script) end
    local function run(d, opts, env)
      return h.sh("cd " .. q(d) .. " && " .. (env or "") .. " " .. q(h.exe) .. " run fit.lua --quiet " .. opts)
    end
    local s, _, e = run(one, "--workers 1")
    assert.equals(0, s, e)
    local whole, json = read(one .. "/fit/results.csv"), read(one .. "/fit/best.json")
    -- task 1 of 3 (restart 2) ends at its 5th evaluation: 4 rows in its part
    s, _, e = run(arr, "--task 1 --ntasks 3", "STOP=5")
    assert.equals(3, s, e)
    assert.equals(5, #lines(read(arr .. "/fit/parts/task-1-of-3.csv")))
    for task = 0, 2 do
      s, _, e = run(arr, "--task " .. task .. " --ntasks 3")
      assert.equals(0, s, e)
    end
    local _, n = count(arr)
    assert.equals(4 + 8 + 4 + 8, n)                -- (before: restart 2's first 4 evaluated again)
    s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(arr .. "/fit"))
    assert.equals(0, s, e)
    assert.equals(whole, read(arr .. "/fit/results.csv"))
    -- rerun where the merge left it: the complete table replayed, nothing computed, best.json written
    s, _, e = run(arr, "--workers 1")
    assert.equals(0, s, e)
    assert.equals(24, select(2, count(arr)))
    assert.equals(whole, read(arr .. "/fit/results.csv"))
    assert.equals(json, read(arr .. "/fit/best.json"))
    local why = h.mpi_missing()
    if why then return pending(why) end
    s, _, e = run(ranks, "--workers 1", "STOP=11")  -- restart 1 and 2 evaluations of restart 2
    assert.are_not.equal(0, s, e)
    assert.equals(11, #lines(read(ranks .. "/fit/results.partial.csv")))
    s, _, e = h.sh("cd " .. q(ranks) .. " && " .. h.MPIRUN .. q(h.exe) .. " run fit.lua --quiet")
    assert.equals(0, s, e)
    assert.equals(10 + 14, select(2, count(ranks)))     -- (before: 10 + 24)
    assert.equals(whole, read(ranks .. "/fit/results.csv"))
    assert.equals(json, read(ranks .. "/fit/best.json"))
  end)

  -- A fit of x_ext in [0, 1] to -x_ext with `settings` (its last entries: evaluations, ...).
  local function progress_fit(settings)
    return [[
local nm = require "neuromass"
nm.explore.Evolution { model = function() return nm.models.fhn.native {} end, run = { duration = 1, dt = 0.1 },
  parameters = { x_ext = { 0, 1 } }, fitness = function(_, p) return -p.x_ext end,
  ]] .. settings .. " }:run()\n"
  end

  it("an array task's progress line counts the evaluations of its own restarts", function()
    -- (before: every task counted against the fit's whole budget, and ended at 8/12)
    local dir = h.scratch()
    h.write(dir .. "/fit.lua", progress_fit('evaluations = 12, restarts = 3, out = "fit", progress = true'))
    -- task 0 of 2: restarts 1 and 3, 4 evaluations each
    local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run fit.lua --task 0 --ntasks 2")
    assert.equals(0, s, e)
    assert.truthy(e:find("explore: 8/8 points, ", 1, true), e)
    assert.falsy(e:find("/12 points", 1, true), e)
  end)

  -- A fit of 16 evaluations in 2 restarts on 2 ranks whose fitness stops its rank (SIGTERM)
  -- when `stop` (Lua: rank, n = the rank's evaluations so far) holds, and a fit of the same on
  -- one process: the folders (one's, the ranks'), and the job's status, stdout and stderr.
  local function stopped_fit(stop)
    local one, ranks = h.scratch(), h.scratch()
    local script = [[
local nm = require "neuromass"
local rank, n = tonumber(os.getenv("OMPI_COMM_WORLD_RANK")), 0
local best = nm.explore.Evolution {
  model = function() return nm.models.fhn.native {} end, run = { duration = 5, dt = 0.1, seed = 5 },
  parameters = { x_ext = { 0, 1 } }, evaluations = 16, restarts = 2, out = "fit",
  fitness = function(_, point)
    local f = io.open("evals.txt", "a"); f:write("x\n"); f:close()
    n = n + 1
    if ]] .. stop .. [[ and os.getenv("STOP") then
]] .. h.STOP_SELF .. [[
    end
    return -(point.x_ext - 0.4) ^ 2
  end }:run()
print(best.evaluations)
]]
    for _, d in ipairs { one, ranks } do h.write(d .. "/fit.lua", script) end
    local s, _, e = h.sh("cd " .. q(one) .. " && " .. q(h.exe) .. " run fit.lua --quiet --workers 1")
    assert.equals(0, s, e)
    local out
    s, out, e = h.sh("cd " .. q(ranks) .. " && STOP=1 " .. h.MPIRUN .. q(h.exe) .. " run fit.lua --quiet")
    assert.are_not.equal(0, s, e)
    assert.are_not.equal(124, s, e)                      -- (timeout's: the job hung)
    assert.equals("", out)
    return one, ranks, e
  end

  -- Run again after stopped_fit: the rerun computes only what the table lacks, its table and
  -- best.json the one process's; `stopped`: the ranks stopped (each in an evaluation not recorded).
  local function resumed(one, ranks, stopped)
    local s, out, e = h.sh("cd " .. q(ranks) .. " && " .. h.MPIRUN .. q(h.exe) .. " run fit.lua --quiet")
    assert.equals(0, s, e)
    assert.equals("16\n16\n", out)
    assert.equals(16 + stopped, select(2, read(ranks .. "/evals.txt"):gsub("\n", "")))
    assert.equals(read(one .. "/fit/results.csv"), read(ranks .. "/fit/results.csv"))
    assert.equals(read(one .. "/fit/best.json"), read(ranks .. "/fit/best.json"))
    assert.is_nil(io.open(ranks .. "/fit/results.partial.csv"))   -- (renamed results.csv as the fit ended)
  end

  -- Under mpirun a stopped fit's evaluations were lost: each rank raised its
  -- stop at once, and rank 0 wrote no table (nothing to resume from).
  it("mpirun: a rank stopped keeps the evaluations done in results.partial.csv, naming it; the rerun resumes the fit",
     function()
    local why = h.mpi_missing()
    if why then return pending(why) end
    local one, ranks, e = stopped_fit("rank == 1 and n == 3")
    assert.truthy(e:find("fit.lua:3: Evolution: rank 1 was stopped by signal 15; the evaluations done are kept " ..
                         "in " .. ranks .. "/fit/results.partial.csv: run again to resume the fit", 1, true), e)
    -- restart 1 on rank 0 whole, restart 2's first 2 evaluations on rank 1 (before: no table)
    assert.is_nil(io.open(ranks .. "/fit/results.csv"))
    local t = lines(read(ranks .. "/fit/results.partial.csv"))
    assert.equals(11, #t, table.concat(t, "\n"))
    assert.is_nil(io.open(ranks .. "/fit/best.json"))
    resumed(one, ranks, 1)
  end)

  -- (docs/mpi.md said a fit's rows were lost when mpirun passed a stop on to every rank)
  it("mpirun: every rank stopped (Ctrl-C to mpirun) keeps the evaluations done, as docs/mpi.md says", function()
    local why = h.mpi_missing()
    if why then return pending(why) end
    local one, ranks, e = stopped_fit("n == 2")
    assert.truthy(e:find("fit.lua:3: Evolution: interrupted by SIGTERM; the evaluations done are kept in " .. ranks ..
                         "/fit/results.partial.csv: run again to resume the fit", 1, true), e)
    -- each rank's first evaluation (restart 1 on rank 0, restart 2 on rank 1), the second stopped
    assert.equals("point|1|9|", (read(ranks .. "/fit/results.partial.csv"):gsub("\n", "|"):gsub("(%d+),[^|]*", "%1")
                                   :gsub("^point[^|]*", "point")))
    resumed(one, ranks, 2)
    local doc = read(h.top .. "/docs/mpi.md"):gsub("%s+", " ")
    assert.falsy(doc:find("rows are lost", 1, true))
    assert.truthy(doc:find("a `BoxSearch`'s points done and an `Evolution`'s evaluations done alike", 1, true))
  end)

  it("the progress line says why NLopt stopped a restart early, alone and with workers", function()
    -- (before: the line stayed at 1/12, never reaching its total, and said nothing of the stop)
    local dir = h.scratch()
    h.write(dir .. "/fit.lua",
            progress_fit("evaluations = 12, restarts = 2, out = arg[1], progress = true, options = { stopval = -0.9 }"))
    local why = "after 1 of 6 evaluations: target reached (a fitness of stopval = -0.9 or more)"
    for _, workers in ipairs { "1", "2" } do
      local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run fit.lua --workers " .. workers ..
                           " -- fit" .. workers)
      assert.equals(0, s, e)
      assert.truthy(e:find("\nexplore: 2/2 points, [^\n]*; stopped: restart %d " .. why:gsub("[%(%)%.%-]", "%%%0") ..
                           "\n$"), e)
      for r = 1, 2 do assert.truthy(e:find("stopped: restart " .. r .. " " .. why, 1, true), e) end
    end
  end)

  it("a resumed fit's progress line counts the evaluations replayed as done", function()
    local dir = h.scratch()
    h.write(dir .. "/fit.lua", [[
local nm = require "neuromass"
local n, stop = 0, tonumber(os.getenv("STOP"))
nm.explore.Evolution { model = function() return nm.models.fhn.native {} end, run = { duration = 1, dt = 0.1 },
  parameters = { x_ext = { 0, 1 } }, evaluations = 12, out = "fit", progress = true,
  fitness = function(_, p) n = n + 1; if n == stop then os.exit(3) end return -p.x_ext end }:run()
]])
    local s, _, e = h.sh("cd " .. q(dir) .. " && STOP=6 " .. q(h.exe) .. " run fit.lua")
    assert.equals(3, s, e)
    s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run fit.lua")
    assert.equals(0, s, e)
    -- (before: the fit started again, "explore: 1/12 points")
    assert.truthy(e:find("^explore: 6/12 points, "), e)
    assert.truthy(e:find("\nexplore: 12/12 points, [^\n]*\n$"), e)
  end)

  it("restarts that stop before their budget (NLopt's xtol_rel) merge complete from a 3-task array", function()
    -- BOBYQA stops each restart after a few of its 20 evaluations: the rows have gaps, which are no
    -- missing points (before: the merge named them, and stayed incomplete, exit 1, whatever ran)
    local one, arr = h.scratch(), h.scratch()
    local script = SCRIPT:gsub("local boxes = .-:run%(%)", "local boxes = { rows = {} }")
                         :gsub("restarts = 3,", "restarts = 3, algorithm = \"LN_BOBYQA\", options = { xtol_rel = 0.1 },")
                         :gsub("evaluations = 24", "evaluations = 60")
    for _, d in ipairs { one, arr } do h.write(d .. "/fit.lua", script) end
    local s, _, e = h.sh("cd " .. q(one) .. " && " .. q(h.exe) .. " run fit.lua --quiet --workers 1")
    assert.equals(0, s, e)
    local table1 = read(one .. "/fit/results.csv")
    assert.is_nil(table1:find("\n20,", 1, true), table1)           -- restart 1 stopped early
    for task = 0, 2 do
      s, _, e = h.sh("cd " .. q(arr) .. " && " .. q(h.exe) .. " run fit.lua --quiet --task " .. task .. " --ntasks 3")
      assert.equals(0, s, e)
    end
    -- task 2's part from a fit of another seed: refused by the seed the tasks wrote (parts/restarts.txt)
    local other = h.scratch()
    h.write(other .. "/fit.lua", script)
    s, _, e = h.sh("cd " .. q(other) .. " && " .. q(h.exe) .. " run fit.lua --quiet --task 2 --ntasks 3 --seed 9")
    assert.equals(0, s, e)
    local mine = read(arr .. "/fit/parts/task-2-of-3.csv")
    h.write(arr .. "/fit/parts/task-2-of-3.csv", read(other .. "/fit/parts/task-2-of-3.csv"))
    s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(arr .. "/fit"))
    assert.equals(1, s, e)
    assert.truthy(e:find("task-2-of-3.csv' holds seed 9 at point 41, not 5, the run seed of the tasks " ..
                         "(parts/restarts.txt): it is another exploration's; nothing joined", 1, true), e)
    h.write(arr .. "/fit/parts/task-2-of-3.csv", mine)
    s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(arr .. "/fit"))
    assert.equals(0, s, e)
    assert.equals(table1, read(arr .. "/fit/results.csv"))
    assert.is_nil(io.open(arr .. "/fit/parts"))
  end)

  -- Before: a task's part stood for all its restarts, so a task stopped midway (the SIGTERM of a
  -- Slurm time limit) left a part that the merge took as whole: results.csv, exit 0, evaluations
  -- missing.  Each task now marks the restarts it finished (as --workers' workers do).
  it("a task stopped midway leaves its restart unfinished for the merge (exit 1); its rerun ends the fit", function()
    local one, arr = h.scratch(), h.scratch()
    local script = [[
local nm = require "neuromass"
local n = 0
nm.explore.Evolution {
  model = function() return nm.models.fhn.native {} end, run = { duration = 5, dt = 0.1, seed = 5 },
  parameters = { x_ext = { 0, 1 } }, evaluations = 16, restarts = 2, out = "fit",
  fitness = function(_, point)
    n = n + 1
    if n == 3 and os.getenv("STOP") then
]] .. h.STOP_SELF .. [[
    end
    return -(point.x_ext - 0.4) ^ 2
  end }:run()
]]
    for _, d in ipairs { one, arr } do h.write(d .. "/fit.lua", script) end
    local s, _, e = h.sh("cd " .. q(one) .. " && " .. q(h.exe) .. " run fit.lua --quiet --workers 1")
    assert.equals(0, s, e)
    local function task(i, env)
      return h.sh("cd " .. q(arr) .. " && " .. (env or "") .. q(h.exe) .. " run fit.lua --quiet --task " .. i ..
                  " --ntasks 2")
    end
    s, _, e = task(0)
    assert.equals(0, s, e)
    s, _, e = task(1, "STOP=1 ")
    assert.equals(143, s, e)
    assert.truthy(e:find("interrupted by SIGTERM; the evaluations done are kept in " .. arr ..
                         "/fit/parts/task-1-of-2.csv", 1, true), e)
    local out
    s, out, e = h.sh(q(h.exe) .. " explore --merge " .. q(arr .. "/fit"))
    assert.equals(1, s, out .. e)
    assert.truthy((out .. e):find("missing: points 11, 12, 13, 14, 15, 16 (", 1, true), out .. e)
    assert.is_nil(io.open(arr .. "/fit/results.csv"))
    s, _, e = task(1)
    assert.equals(0, s, e)
    s, out, e = h.sh(q(h.exe) .. " explore --merge " .. q(arr .. "/fit"))
    assert.equals(0, s, out .. e)
    assert.equals(read(one .. "/fit/results.csv"), read(arr .. "/fit/results.csv"))
  end)

  -- Workers take the restarts none has claimed: one whose script returns
  -- early leaves its share to the others; when every worker does, nothing
  -- is computed, an error naming each restart's first evaluation.
  it("workers whose script ends before its Evolution (an early return): the others take the restarts, else an error",
     function()
    local dir = h.scratch()
    local function script(skip)
      return [[
local nm = require "neuromass"
local task = require("neuromass.context").get().task
if ]] .. skip .. [[ then return end   -- a worker that skips the fit
nm.explore.Evolution {
  model = function() return nm.models.fhn.native {} end,
  run = { duration = 5, dt = 0.1 }, parameters = { x_ext = { 0, 1 } }, evaluations = 4, restarts = 2,
  fitness = function(res, point) return -point.x_ext end, out = "fit" }:run()
]]
    end
    h.write(dir .. "/fit.lua", script("task == 1"))
    local s, out, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run fit.lua --workers 2 --quiet")
    assert.equals(0, s, e)
    assert.equals("", out)
    local t = read(dir .. "/fit/results.csv")
    assert.truthy(t:find("\n1,") and t:find("\n3,"), t)    -- both restarts' first evaluations
    h.write(dir .. "/fit.lua", script("task ~= nil"))
    s, out, e = h.sh("cd " .. q(dir) .. " && rm -r fit && " .. q(h.exe) .. " run fit.lua --workers 2 --quiet")
    assert.are_not.equal(0, s)
    assert.equals("", out)
    assert.truthy(e:find("fit.lua:4: Evolution: the worker processes ended without computing 2 points (1, 3)", 1,
                         true), e)
  end)

  -- The parts a --workers run leaves when its script's process is killed
  -- (kill -9: nothing joins them): a worker's part holds the restarts it
  -- claimed, not a slice, so the merge cannot take a part for its slice's
  -- restarts run.  Here a worker's process (task 0 of 1) ends inside
  -- restart 2, as if killed: its part holds restart 1 and two rows of 2.
  it("explore --merge of the parts of a killed --workers run: restarts not finished are missing (exit 1)", function()
    local dir = h.scratch()
    local function script(extra)
      return [[
local nm = require "neuromass"
local n = 0
nm.explore.Evolution {
  model = function() return nm.models.fhn.native {} end, run = { duration = 5, dt = 0.1, seed = 5 },
  parameters = { x_ext = { 0, 1 } }, evaluations = 24, restarts = 3, ]] .. extra .. [[

  fitness = function(res, point) n = n + 1; if n == STOP then os.exit(3) end return -(point.x_ext - 0.4) ^ 2 end,
  out = "fit" }:run()
]]
    end
    local function worker(d)
      return h.sh("cd " .. q(d) .. " && NEUROMASS_EXPLORE_WORKER=-1 " .. q(h.exe) ..
                  " run --task 0 --ntasks 1 --quiet fit.lua >/dev/null")
    end
    h.write(dir .. "/fit.lua", (script(""):gsub("STOP", "11")))
    assert.equals(3, (worker(dir)))
    local s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/fit"))
    -- (before: "fit/results.csv: 10 rows (1 part joined)", exit 0, the parts removed)
    assert.equals(1, s, e)
    assert.truthy(e:find("/fit/results.partial.csv: 10 rows (1 part joined); incomplete", 1, true), e)
    assert.truthy(e:find("\nmissing: points 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 and 4 more (left by the " ..
                         "worker processes of a run that was stopped: run the script again)", 1, true), e)
    assert.is_nil(e:find("no part from", 1, true), e)
    assert.is_nil(io.open(dir .. "/fit/results.csv"))
    -- restarts that stop before their budget (NLopt's xtol_rel), all finished: complete
    local early = h.scratch()
    h.write(early .. "/fit.lua", (script("algorithm = \"LN_BOBYQA\", options = { xtol_rel = 0.1 },")
                                    :gsub("STOP", "-1")))
    assert.equals(0, (worker(early)))
    assert.is_nil(read(early .. "/fit/parts/worker-0-of-1.csv"):find("\n8,", 1, true))   -- restart 1 stopped early
    s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(early .. "/fit"))
    assert.equals(0, s, e)
    assert.is_nil(io.open(early .. "/fit/parts"))
  end)

  -- Then array tasks in that folder (2 tasks: task 0 runs restarts 1 and 3,
  -- task 1 restart 2).  The merge judged the restarts by the workers' claims
  -- alone: restart 2, which task 1 ran whole, and no absent task named; task
  -- 0 ran restart 1 again, which the worker had finished.  Now a restart is
  -- run by a finished claim or by its task's part, the absent tasks are
  -- named, and a task takes a finished restart's rows from the workers' part.
  it("array tasks after a killed --workers run: the merge names the absent task; a finished restart not rerun",
     function()
    local dir = h.scratch()
    h.write(dir .. "/fit.lua", [[
local nm = require "neuromass"
local n = 0
nm.explore.Evolution {
  model = function() return nm.models.fhn.native {} end, run = { duration = 5, dt = 0.1, seed = 5 },
  parameters = { x_ext = { 0, 1 } }, evaluations = 24, restarts = 3,
  fitness = function(res, point)
    local f = assert(io.open("evals.txt", "a")); f:write(point.x_ext, "\n"); f:close()
    n = n + 1; if n == 11 and os.getenv("QUIT") then os.exit(3) end return -(point.x_ext - 0.4) ^ 2 end,
  out = "fit" }:run()
]])
    local function evaluations()
      return select(2, read(dir .. "/evals.txt"):gsub("\n", ""))
    end
    local function task(opts, env)
      return (h.sh("cd " .. q(dir) .. " && " .. (env or "") .. " " .. q(h.exe) .. " run " .. opts ..
                   " --quiet fit.lua >/dev/null"))
    end
    assert.equals(3, task("--task 0 --ntasks 1", "QUIT=1 NEUROMASS_EXPLORE_WORKER=-1"))   -- restart 1, 2 rows of 2
    assert.equals(11, evaluations())
    -- restart 2: its 2 rows in the worker's part replayed, the 6 after them computed (before: 8, all again)
    assert.equals(0, task("--task 1 --ntasks 2"))
    assert.equals(17, evaluations())
    local s, _, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/fit"))
    assert.equals(1, s, e)
    assert.truthy(e:find("/fit/results.partial.csv: 16 rows (2 parts joined); incomplete", 1, true), e)
    assert.truthy(e:find("\nmissing: points 17, 18, 19, 20, 21, 22, 23, 24 (their tasks wrote no part yet", 1, true),
                  e)
    assert.truthy(e:find("\nno part from task 0 of 2 (--task 0 --ntasks 2): its points are missing", 1, true), e)
    assert.equals(0, task("--task 0 --ntasks 2"))                                         -- restart 3 alone
    assert.equals(25, evaluations())
    local out
    s, out, e = h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/fit"))
    assert.equals(0, s, e)
    assert.truthy(out:find("/fit/results.csv: 24 rows (3 parts joined)\n", 1, true), out)
    assert.is_nil(io.open(dir .. "/fit/parts"))
  end)

  -- A task of another fit's layout wrote its restarts.txt over the folder's,
  -- and the merge then judged the other fit's parts by it.
  it("a task refuses a folder whose parts are another fit's, naming the folder and both layouts", function()
    local dir = h.scratch()
    local function fit(restarts)
      h.write(dir .. "/fit.lua", [[
local nm = require "neuromass"
nm.explore.Evolution {
  model = function() return nm.models.fhn.native {} end, run = { duration = 5, dt = 0.1, seed = 5 },
  parameters = { x_ext = { 0, 1 } }, evaluations = 12, restarts = ]] .. restarts .. [[,
  fitness = function(res, point) return -(point.x_ext - 0.4) ^ 2 end, out = "fit" }:run()
]])
    end
    fit(3)
    local s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run --task 0 --ntasks 2 --quiet fit.lua")
    assert.equals(0, s, e)
    local part = read(dir .. "/fit/parts/task-0-of-2.csv")
    fit(2)
    s, _, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run --task 1 --ntasks 2 --quiet fit.lua")
    assert.are_not.equal(0, s)
    assert.truthy(e:find("fit.lua:2: Evolution: '" .. dir .. "/fit/parts' holds the parts of a fit of 12 " ..
                         "evaluations in 3 restarts with run seed 5 (parts/restarts.txt), this task's is of 12 in 2 " ..
                         "with run seed 5: join them first (neuromass explore --merge " .. dir .. "/fit) or remove " ..
                         "them, or choose another out", 1, true), e)
    assert.equals("12 3 5 1\n", read(dir .. "/fit/parts/restarts.txt"))
    assert.equals(part, read(dir .. "/fit/parts/task-0-of-2.csv"))
  end)

  it("mpirun -np 2: the ranks share the restarts, rank 0 writes the same table and best.json", function()
    local why = h.mpi_missing()
    if why then return pending(why) end
    local one, ranks = h.scratch(), h.scratch()
    for _, d in ipairs { one, ranks } do h.write(d .. "/fit.lua", SCRIPT) end
    local s1, out1, e1 = h.sh("cd " .. q(one) .. " && " .. q(h.exe) .. " run fit.lua --quiet --workers 1")
    assert.equals(0, s1, e1)
    local s2, out2, e2 = h.sh("cd " .. q(ranks) .. " && " .. h.MPIRUN .. q(h.exe) .. " run fit.lua --quiet")
    assert.equals(0, s2, e2)
    assert.equals(out1 .. out1, out2)              -- every rank returns the best
    assert.equals(read(one .. "/fit/results.csv"), read(ranks .. "/fit/results.csv"))
    assert.equals(read(one .. "/fit/best.json"), read(ranks .. "/fit/best.json"))
    local box, n, np = count(ranks)
    assert.equals(3, box)
    assert.equals(24, n)                           -- each evaluation once, not once per rank
    assert.equals(2, np)
  end)
end)

describe("fitting FHN-80's K_gl on HCP", function()
  -- The target: the FC of a 1 s run with K_gl = 0.6 (sigma_ou 0.01, seed 7);
  -- the fit searches K_gl in [0, 1] with GN_CRS2_LM, 30 evaluations, every
  -- run with the same seed as the target (the fitness, the correlation of the
  -- two FCs, is then a function of K_gl alone).  Recovered within 5 %.
  it("recovers K_gl = 0.6 within 5 % from the FC of a run made with it", function()
    local dir = h.scratch()
    h.write(dir .. "/fit.lua", [[
local nm = require "neuromass"
local ds = nm.datasets.load("hcp")
local run = { duration = 1000, dt = 0.1, seed = 7 }
local function model() return nm.models.fhn.native { Cmat = ds.Cmat, Dmat = ds.Dmat, sigma_ou = 0.01 } end
local target = model()
target.params.K_gl = 0.6
local fc = nm.func.fc((target:run(run):matrix("x")))
local best = nm.explore.Evolution {
  model = model, run = run, parameters = { K_gl = { 0, 1 } },
  fitness = function(res) return nm.func.matrix_correlation(nm.func.fc((res:matrix("x"))), fc) end,
  evaluations = 30, out = "fit",
}:run()
print(string.format("%.17g %.17g %d", best.point.K_gl, best.fitness, best.evaluations))
]])
    local s, out, e = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " run fit.lua --quiet")
    assert.equals(0, s, e)
    local K, f, n = out:match("^(%S+) (%S+) (%d+)")
    K, f = tonumber(K), tonumber(f)
    assert.equals("30", n)
    assert.is_true(math.abs(K - 0.6) <= 0.05 * 0.6, "K_gl = " .. tostring(K))
    assert.is_true(f > 0.999, "fitness " .. tostring(f))
    assert.equals(31, #lines(read(dir .. "/fit/results.csv")))
  end)
end)
