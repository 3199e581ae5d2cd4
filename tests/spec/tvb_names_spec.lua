-- tvb_names_spec.lua: a script written with The Virtual Brain's words
-- (Connectivity.weights, tract_lengths, conduction_speed, nsig, a monitor's
-- period, HeunStochastic, a model's dfun and cvar) is refused at its line
-- naming what neuromass calls the thing; and the numbers a TVB user checks
-- first hold: TVB's connectivity files read back, delays in whole steps of
-- lengths / speed / dt (half to even, as numpy's rint), Linear and Difference
-- coupling on two nodes, HeunStochastic's scheme with additive noise.
local nm = require "neuromass"
local helpers = require "helpers"

local err = helpers.error_of

-- A one-variable mass: x' = -k x + c (c the coupling input).
local Lin = nm.mass { name = "Lin", state = { x = 0 }, params = { k = 1 }, inputs = { "c" },
  derivatives = function(s, p, u) return { x = -p.k * s.x + u.c } end }
local lin_node = nm.node { label = "N", masses = { Lin() } }

local function two_nodes(def)
  def.label, def.nodes = "Net", nm.replicate(lin_node, 2)
  def.connectivity = def.connectivity or { { 0, 1 }, { 1, 0 } }
  def.sync = def.sync or function(net) return { c = net:additive("x") } end
  return nm.network(def)
end

describe("TVB's words", function()
  it("a network's weights, tract_lengths, conduction_speed and coupling name ours", function()
    local C, L = { { 0, 1 }, { 1, 0 } }, { { 0, 3 }, { 3, 0 } }
    local function net_err(def)
      def.nodes = nm.replicate(lin_node, 2)
      return err(function() nm.network(def) end)
    end
    local e = net_err { weights = C }
    assert.matches("^tests/spec/tvb_names_spec.lua:%d+: network: unknown field 'weights'; ", e)
    assert.matches("TVB's weights are connectivity here (n x n, [to][from]", e, nil, true)
    assert.matches("network: unknown field 'tract_lengths'; TVB's tract_lengths are lengths here (mm)",
                   net_err { connectivity = C, tract_lengths = L, signal_speed = 3 }, nil, true)
    for _, k in ipairs { "conduction_speed", "speed" } do
      assert.matches("network: unknown field '" .. k .. "'; TVB's " .. k .. " is signal_speed here (mm/ms)",
                     net_err { connectivity = C, lengths = L, [k] = 3 }, nil, true)
    end
    e = net_err { connectivity = C, coupling = "Linear" }
    assert.matches("network: unknown field 'coupling'; TVB's coupling is the sync function here", e, nil, true)
    assert.matches("net:additive(var, { gain = a }) is Linear(a)", e, nil, true)
    assert.matches("net:diffusive(var, { gain = a }) is Difference(a)", e, nil, true)
  end)

  it("a run's nsig, period, monitors, simulation_length and TVB's integrators name ours", function()
    local m = nm.model(two_nodes {})
    local function run_err(opts) return err(function() m:run(opts) end) end
    local e = run_err { duration = 1, nsig = 0.01 }
    assert.matches("^tests/spec/tvb_names_spec.lua:%d+: run: unknown field 'nsig'; ", e)
    assert.matches("TVB's nsig is a mass's noise here: noise = { { kind = \"white\", sigma = " ..
                   "math.sqrt(2 * nsig) } }", e, nil, true)
    assert.matches("run: unknown field 'noise'; TVB's nsig is a mass's noise here",
                   run_err { duration = 1, noise = 0.01 }, nil, true)
    e = run_err { duration = 1, period = 1 }
    assert.matches("run: unknown field 'period'; TVB's monitor period is sampling_dt here (ms)", e, nil, true)
    assert.matches("not averaged", e, nil, true)
    assert.matches("run: unknown field 'monitors'; TVB's monitors are record = { var, ... } with sampling_dt",
                   run_err { duration = 1, monitors = {} }, nil, true)
    assert.matches("run: unknown field 'simulation_length'; TVB's simulation_length is duration here (ms)",
                   run_err { simulation_length = 1 }, nil, true)
    assert.matches("run: unknown field 'conduction_speed'; TVB's conduction_speed is the network's " ..
                   "signal_speed here", run_err { duration = 1, conduction_speed = 3 }, nil, true)
    assert.matches("run: unknown field 'initial_conditions'; TVB's initial_conditions are model.init here",
                   run_err { duration = 1, initial_conditions = {} }, nil, true)
    for tvb, ours in pairs { HeunDeterministic = "heun", HeunStochastic = "heun", EulerDeterministic = "euler",
                             EulerStochastic = "euler", RungeKutta4thOrderDeterministic = "rk4" } do
      e = run_err { duration = 1, integrator = tvb }
      assert.matches("^tests/spec/tvb_names_spec.lua:%d+: run: unknown integrator '" .. tvb .. "'", e)
      assert.matches(string.format("TVB's %s is %s here", tvb, ours), e, nil, true)
      assert.are.equal(tvb:find("Stochastic") ~= nil,
                       e:find("the noise is the masses' (noise channels", 1, true) ~= nil)
    end
  end)

  it("a mass's dfun, cvar, state_variables, variables_of_interest and a channel's nsig name ours", function()
    local function mass_err(extra)
      local def = { name = "X", state = { x = 0 }, derivatives = function(s) return { x = -s.x } end }
      for k, v in pairs(extra) do def[k] = v end
      return err(function() nm.mass(def) end)
    end
    local e = mass_err { dfun = function() end }
    assert.matches("^tests/spec/tvb_names_spec.lua:%d+: mass: unknown field 'dfun'; TVB's dfun is " ..
                   "derivatives here", e)
    assert.matches("mass: unknown field 'cvar'; TVB's cvar is coupling here",
                   mass_err { cvar = { 0 } }, nil, true)
    assert.matches("mass: unknown field 'state_variables'; TVB's state_variables are state here",
                   mass_err { state_variables = { "x" } }, nil, true)
    assert.matches("mass: unknown field 'state_variable_range'; TVB draws the initial history from " ..
                   "state_variable_range; here state gives", mass_err { state_variable_range = {} }, nil, true)
    assert.matches("mass: unknown field 'variables_of_interest'; TVB's variables_of_interest are " ..
                   "model:run{ record = { ... } } here", mass_err { variables_of_interest = { "x" } }, nil, true)
    local nsig_hint = "TVB's nsig (additive noise, dx = f dt + sqrt(2 nsig) dW) is kind = \"white\" with " ..
                      "sigma = math.sqrt(2 * nsig)"
    e = mass_err { noise = { { nsig = 0.01 } } }
    assert.matches("^tests/spec/tvb_names_spec.lua:%d+: mass 'X': noise channel 0: unknown field 'nsig'; ", e)
    assert.matches(nsig_hint, e, nil, true)
    local T = nm.mass { name = "Y", state = { x = 0 }, noise = 1,
                        derivatives = function(s, _, u) return { x = -s.x + u.input_0 } end }
    e = err(function() T { noise = { { nsig = 0.01 } } } end)
    assert.matches("^tests/spec/tvb_names_spec.lua:%d+: mass 'Y': noise channel 0: unknown field 'nsig'; ", e)
    assert.matches(nsig_hint, e, nil, true)
  end)

  it("model.params' conduction_speed, weights, tract_lengths and nsig name ours", function()
    local m = nm.model(two_nodes { lengths = { { 0, 3 }, { 3, 0 } }, signal_speed = 3 })
    for _, k in ipairs { "conduction_speed", "speed", "signal_speed", "*.conduction_speed" } do
      local e = err(function() m.params[k] = 3 end)
      assert.matches("^tests/spec/tvb_names_spec.lua:%d+: '" .. k:gsub("^%*%.", "") ..
                     "' is not a parameter: the signal speed is the network's", e)
      assert.matches("model.params[\"*.delays\"] = a matrix of lengths / speed (ms)", e, nil, true)
    end
    assert.matches("'weights' is not a parameter: TVB's weights are model.params[\"*.connectivity\"] here",
                   err(function() return m.params.weights end), nil, true)
    assert.matches("'tract_lengths' is not a parameter: TVB's tract_lengths enter as the network's lengths",
                   err(function() return m.params.tract_lengths end), nil, true)
    for _, k in ipairs { "nsig", "*.nsig" } do
      assert.matches("is not a parameter: TVB's nsig is a white noise channel's sigma here, " ..
                     "math.sqrt(2 * nsig): model.params[\"*.input_0.sigma\"]",
                     err(function() m.params[k] = 0.01 end), nil, true)
    end
    -- a name the model has is still found, glob or not
    m.params["*.k"] = 2
    assert.are.same({ ["Net.N_0.Lin_0.k"] = 2, ["Net.N_1.Lin_0.k"] = 2 }, m.params["*.k"])
  end)

  it("TVB's Simulator(...) given to nm.model, its fields and sim.configure() name ours", function()
    local net = two_nodes {}
    local e = err(function() nm.model { model = lin_node, connectivity = { { 0 } }, coupling = 1 } end)
    assert.matches("^tests/spec/tvb_names_spec.lua:%d+: model: expected a node or a network, got table; ", e)
    assert.matches("TVB's Simulator(model=, connectivity=, coupling=, ...) is nm.network { nodes = " ..
                   "nm.replicate(node, n), connectivity =, lengths =, signal_speed =, sync = }, then " ..
                   "nm.model(net)", e, nil, true)
    assert.is_nil(err(function() nm.model { 1 } end):find("TVB", 1, true))
    for k, want in pairs { integrator = "TVB's integrator is an option of the run here: model:run{ integrator = ",
                           monitors = "TVB's monitors are options of the run here: model:run{ record = ",
                           simulation_length = "TVB's simulation_length is model:run{ duration = ",
                           coupling = "TVB's coupling is the network's sync function here",
                           conduction_speed = "TVB's conduction_speed is the network's signal_speed here" } do
      e = err(function() nm.model(net, { [k] = 1 }) end)
      assert.matches("^tests/spec/tvb_names_spec.lua:%d+: model: unknown field '" .. k .. "'; ", e)
      assert.matches(want, e, nil, true)
    end
    e = err(function() nm.model(net):configure() end)
    assert.matches("^tests/spec/tvb_names_spec.lua:%d+: model 'Net' has no field 'configure'; TVB's " ..
                   "simulator.configure%(%) has no counterpart: nm.model checks the network at once", e)
  end)

  -- (they listed the library's first twelve fields: abs, atan2, context, ...)
  it("TVB's Simulator, Connectivity, integrators, coupling, monitors and models read from nm name ours", function()
    for k, want in pairs {
      Simulator = "; TVB's Simulator(model=, connectivity=, coupling=, ...) is nm.network { nodes = ",
      Connectivity = "; TVB's Connectivity is a matrix here: nm.datasets.read_matrix(path) of its weights.txt " ..
                     "and tract_lengths.txt, given to nm.network { connectivity =, lengths =, signal_speed = }",
      integrators = "; TVB's integrator is an option of the run here: model:run{ integrator = \"heun\", dt = ... }",
      coupling = "; TVB's coupling is the network's sync function here",
      monitors = "; TVB's monitors are options of the run here: model:run{ record = ",
      noise = "; TVB's noise belongs to a mass here: nm.mass { noise = { { kind = \"white\" } } }",
    } do
      local e = err(function() local v = nm[k]; return v end)
      assert.matches("^tests/spec/tvb_names_spec.lua:%d+: neuromass has no field '" .. k .. "'; ", e)
      assert.matches(want, e, nil, true)
    end
    local e = err(function() local v = nm.models.Generic2dOscillator; return v end)
    assert.matches("^tests/spec/tvb_names_spec.lua:%d+: neuromass.models: no model 'Generic2dOscillator'", e)
    assert.matches("; TVB's models are masses you write: nm.mass { ... } (examples/tvb_g2d.lua writes the " ..
                   "Generic2dOscillator, examples/custom_mass.lua Jansen-Rit)", e, nil, true)
  end)

  it("datasets.load of a TVB connectivity file points to read_matrix", function()
    for _, name in ipairs { "connectivity_76.zip", "conn/weights.txt" } do
      local e = err(function() nm.datasets.load(name) end)
      assert.matches("^tests/spec/tvb_names_spec.lua:%d+: datasets.load: unknown dataset", e)
      assert.matches("your own matrices (TVB's weights.txt, tract_lengths.txt; unzip a TVB " ..
                     "connectivity first) are nm.datasets.read_matrix(path)", e, nil, true)
    end
    assert.matches("; did you mean 'hcp'?", err(function() nm.datasets.load("hpc") end), nil, true)
  end)
end)

describe("TVB's numbers", function()
  local tmp = os.tmpname()
  after_each(function() os.remove(tmp) end)

  it("TVB's weights.txt and tract_lengths.txt (space-separated) read back as the matrices", function()
    local hcp = nm.datasets.load("hcp")
    for _, M in ipairs { hcp.Cmat, hcp.Dmat } do
      local f = assert(io.open(tmp, "w"))
      for _, row in ipairs(M) do
        local cells = {}
        for j, v in ipairs(row) do cells[j] = string.format("%.17g", v) end
        f:write(table.concat(cells, " "), "\n")
      end
      f:close()
      assert.are.same(M, nm.datasets.read_matrix(tmp))
    end
  end)

  it("TVB's centres.txt (a label on every row) is named as such, not as a header", function()
    local f = assert(io.open(tmp, "w"))
    f:write("Precentral_L 71.32 133.91 173.29\nPrecentral_R 173.96 130.63 168.66\n")
    f:close()
    local e = err(function() nm.datasets.read_matrix(tmp) end)
    assert.matches("column 1: bad number 'Precentral_L' (every row starts with a name: a label column, " ..
                   "as TVB's centres.txt, is not a matrix", e, nil, true)
    assert.is_nil(e:find("header", 1, true))
  end)

  it("delays are round(length / speed / dt) steps, half to even as TVB's numpy.rint", function()
    -- node 1 ramps (x1 = t), node 0 integrates x1 delayed by d steps: Euler at dt = 1
    -- gives x0(n) = sum_{k=0}^{n-1} x1(k - d) = (n - d - 1)(n - d) / 2
    local Ramp = nm.mass { name = "Ramp", state = { x = 0 }, params = { r = 0 }, inputs = { "c" },
      derivatives = function(_, p, u) return { x = p.r + u.c } end }
    local rn = nm.node { label = "R", masses = { Ramp() } }
    local n = 20
    for len, steps in pairs { [3] = 1, [6] = 2, [7.5] = 2, [4.5] = 2, [7.6] = 3, [1.5] = 0, [0.75] = 0 } do
      local net = nm.network { label = "Net", nodes = nm.replicate(rn, 2),
        connectivity = { { 0, 1 }, { 0, 0 } }, lengths = { { 0, len }, { len, 0 } }, signal_speed = 3,
        sync = function(s) return { c = s:additive("x") } end }
      local m = nm.model(net)
      m.params["Net.R_1.*.r"] = 1
      local x0 = m:run { duration = n, dt = 1, record = "x" }:get("x", 0)[n]
      assert.are.equal((n - steps - 1) * (n - steps) / 2, x0)
    end
  end)

  it("Linear and Difference coupling of two nodes: one way, [to][from], as TVB's w_ij", function()
    -- x1' = -x1 (x1 = e^-t); node 0 gets 2 * 0.5 * x1 (Linear): x0 = t e^-t, or
    -- 2 * 0.5 * (x1 - x0) (Difference): x0 = e^-t - e^-2t
    for kind, want in pairs { additive = function(t) return t * math.exp(-t) end,
                              diffusive = function(t) return math.exp(-t) - math.exp(-2 * t) end } do
      local m = nm.model(two_nodes { connectivity = { { 0, 0.5 }, { 0, 0 } },
        sync = function(net) return { c = net[kind](net, "x", { gain = 2 }) } end })
      m.init = { 0, 1 }
      local res = m:run { duration = 2, dt = 0.001, integrator = "rk4", record = "x" }
      assert.is_true(math.abs(res:get("x", 1)[2000] - math.exp(-2)) < 1e-13)
      assert.is_true(math.abs(res:get("x", 0)[2000] - want(2)) < 1e-13)
    end
  end)

  it("heun with a white channel is TVB's HeunStochastic: one draw per step in both stages", function()
    -- x' = -x + sigma xi / sqrt(dt).  Euler: e' = (1 - dt) e + eta with eta = sigma sqrt(dt) xi;
    -- TVB's Heun with the same draws: h' = (1 - dt + dt^2 / 2) h + (1 - dt / 2) eta
    local Noisy = nm.mass { name = "Noisy", state = { x = 0.5 }, noise = { { kind = "white", sigma = 0.3 } },
      derivatives = function(s, _, u) return { x = -s.x + u.input_0 } end }
    local m = nm.model(nm.node { label = "N", masses = { Noisy() } })
    local dt = 0.1
    local e = m:run { duration = 50, dt = dt, integrator = "euler", record = "x", seed = 7 }:get("x", 0)
    local h = m:run { duration = 50, dt = dt, integrator = "heun", record = "x", seed = 7 }:get("x", 0)
    local pe, ph, worst = 0.5, 0.5, 0
    for k = 1, #e do
      local want = (1 - dt + dt * dt / 2) * ph + (1 - dt / 2) * (e[k] - (1 - dt) * pe)
      worst = math.max(worst, math.abs(h[k] - want))
      pe, ph = e[k], h[k]
    end
    assert.are.equal(500, #h)
    assert.is_true(worst < 1e-14, "worst " .. worst)
  end)
end)
