--- Models: a node or a network made runnable.  A model owns its parameter
-- values (`model.params`), initial state (`model.init`), the compiled engine
-- model (rebuilt only when the structure or dt changes, never for a
-- parameter) and the simulation that `continue` resumes.
local layout = require "neuromass.layout"
local params = require "neuromass.params"
local netmod = require "neuromass.network"
local nodemod = require "neuromass.node"
local compile = require "neuromass.compile"
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local mass = require "neuromass.mass"
local stimclass = require "neuromass.stimulus.class"
local is_stimulus = stimclass.is_stimulus
local bold = require "neuromass.run.bold"
local options = require "neuromass.run.options"
local warnings = require "neuromass.run.warnings"

local type, ipairs, pairs, setmetatable, string, table, getmetatable, rawget, tostring =
      type, ipairs, pairs, setmetatable, string, table, getmetatable, rawget, tostring

-- Every error of this file is reported at the user's line (_check.lua).
local error = check.error

local M = {}

local Model = {}
Model.__name = "neuromass.Model"

local model_opts = { naming = true, aliases = true, init_aliases = true, ou_aliases = true, input_vars = true,
                     structural = true, record = true, dt = true, duration = true, label = true,
                     describe = true, info = true, bold = true, hints = true, seed = true }
-- TVB's Simulator(...) fields given to nm.model: where they are here.
local tvb_sim_fields = {
  integrator = "; TVB's integrator is an option of the run here: model:run{ integrator = \"heun\", dt = ... }",
  monitors = "; TVB's monitors are options of the run here: model:run{ record = { var, ... }, " ..
             "sampling_dt = ..., bold = ... }",
  simulation_length = "; TVB's simulation_length is model:run{ duration = ... } here (ms)",
  coupling = "; TVB's coupling is the network's sync function here: nm.network { sync = function(net) " ..
             "return { input = net:additive(var, { gain = a }) } end } (Linear; net:diffusive is Difference)",
  conduction_speed = "; TVB's conduction_speed is the network's signal_speed here: " ..
                     "nm.network { lengths = ..., signal_speed = ... } (mm/ms)",
}
-- TVB's Simulator(...) itself, as a table given to nm.model.
local TVB_SIMULATOR = "; TVB's Simulator(model=, connectivity=, coupling=, ...) is nm.network { nodes = " ..
  "nm.replicate(node, n), connectivity =, lengths =, signal_speed =, sync = }, then nm.model(net); " ..
  "its integrator and monitors are options of model:run{...}"
-- (init.lua's facade names them too, for nm.Simulator, nm.monitors, nm.coupling)
M.TVB_SIMULATOR, M.tvb_sim_fields = TVB_SIMULATOR, tvb_sim_fields

-- Names that are options of model:run, not parameters (neurolib keeps them in params).
local run_option_hint = {}
for _, k in ipairs { "duration", "dt", "sampling_dt", "seed", "integrator" } do
  run_option_hint[k] = string.format("'%s' is an option of model:run, not a parameter: " ..
                                     "model:run{ %s = ... }", k, k)
end
run_option_hint.duration = run_option_hint.duration ..
  " (a stimulus shapes to a duration with stim:to_model(model, duration))"
run_option_hint.backend = "'backend' (neurolib MultiModel's numba or jitcdde) is not a parameter: " ..
  "neuromass has one engine; the scheme is model:run{ integrator = ... } (euler, as numba's)"
run_option_hint.N = "'N' (neurolib's number of nodes) cannot be set: the network fixes it (a native " ..
  "model's #model.params.Cmat); model.params.N reads it"
-- TVB's names of what is not a parameter here, or is one under another name
for _, k in ipairs { "conduction_speed", "speed", "signal_speed" } do
  run_option_hint[k] = string.format("'%s' is not a parameter: the signal speed is the network's, " ..
    "nm.network { lengths = ..., signal_speed = ... } (mm/ms); to change it, set " ..
    "model.params[\"*.delays\"] = a matrix of lengths / speed (ms)", k)
end
run_option_hint.weights = "'weights' is not a parameter: TVB's weights are model.params[\"*.connectivity\"] " ..
  "here (n x n, [to][from])"
run_option_hint.tract_lengths = "'tract_lengths' is not a parameter: TVB's tract_lengths enter as the " ..
  "network's lengths (mm), nm.network { lengths = ..., signal_speed = ... }, and model.params[\"*.delays\"] " ..
  "holds lengths / signal_speed (ms)"
run_option_hint.nsig = "'nsig' is not a parameter: TVB's nsig is a white noise channel's sigma here, " ..
  "math.sqrt(2 * nsig): model.params[\"*.input_0.sigma\"] (nm.mass { noise = { { kind = \"white\" } } })"
-- A Python dict's methods (neurolib's params is a dict): what does their job here.
local DICT_METHODS = {
  update = "set each name, model.params[name] = value (a glob sets many: model.params['*.tau'] = 5)",
  keys = "pairs(model.params) gives each name and value; neuromass info lists every name",
  get = "read model.params[name] (a glob reads one value per match); a name that matches nothing is an error",
  copy = "model.params is the model's own: read model.params[name], set model.params[name] = value",
}
DICT_METHODS.values, DICT_METHODS.items = DICT_METHODS.keys, DICT_METHODS.keys
DICT_METHODS.pop, DICT_METHODS.setdefault, DICT_METHODS.clear = DICT_METHODS.copy, DICT_METHODS.copy, DICT_METHODS.copy
for k, say in pairs(DICT_METHODS) do
  run_option_hint[k] = string.format("'%s' (a Python dict's method) is not a parameter: %s", k, say)
end

-- The class name a noise channel's own process reads as (<mass>.input_k.type):
-- neurolib's for an OU channel; a white channel (mu + sigma * xi / sqrt(dt)) has
-- no neurolib class (its WienerProcess is scaled otherwise), so it names its own.
local PROCESS_CLASS = { ou = "OrnsteinUhlenbeckProcess", white = "WhiteNoise" }

-- Why a bound follows the run's dt (params.bound_check): an OU channel's
-- tau while it draws noise, a mass's time constant under a fixed-step method.
local OU_DT = "the Euler-Maruyama recursion oscillates for dt/tau >= 1 and diverges past 2"
local TAU_DT = "a fixed step must be shorter than the relaxation it resolves: Euler overshoots for " ..
               "dt/tau >= 1 and diverges past 2"

-- Registers the parameter, initial-state and structural names of a model.
local function register_names(self, opts)
  local net, L = self.net, self.layout
  local flat = self.naming == "flat"
  local reg, ireg = params.registry("parameter"), params.registry("state variable")
  local values, v0, sigma_slots = {}, {}, {}
  -- Parameters with a range (noise sigma >= 0, tau > 0, a mass's time constants and
  -- positive parameters > 0, signed divisors not 0):
  -- slot -> { lower, strict, what, per_dt =, dt_why = } or { nonzero = true, what = } or
  -- { partner = slot, what = } (not_both_zero: both 0 is refused)
  -- (params.bound_check).
  local bounds = {}
  local top = (not self.standalone) and net.label or nil
  for i, nd in ipairs(net.nodes) do
    local node_prefix = (top and (top .. ".") or "") .. nodemod.part_name(nd.label, i)
    for j, m in ipairs(nd.masses) do
      local g, lane = L.lane_of[i][j][1], L.lane_of[i][j][2]
      local prefix = node_prefix .. "." .. nodemod.part_name(m.type.label, j)
      local function add(local_name, slot, value)
        reg:add_slot(flat and local_name or (prefix .. "." .. local_name), slot)
        values[slot] = value
      end
      for _, p in ipairs(m.type.param_names) do
        local slot = layout.param_slot(g, p, lane)
        add(p, slot, m.params[p])
        -- (a time constant: also longer than a fixed-step run's dt, params.bound_check)
        if m.type.time_constants[p] then
          bounds[slot] = { 0, true, mass.TIME_CONSTANT, per_dt = true, dt_why = TAU_DT }
        elseif m.type.positive[p] then
          bounds[slot] = { 0, true, mass.POSITIVE }
        elseif m.type.nonzero[p] then
          bounds[slot] = { nonzero = true, what = mass.NONZERO }
        elseif m.type.pair_of[p] then    -- (not_both_zero: the partner's slot in this mass)
          local q = m.type.pair_of[p]
          bounds[slot] = { partner = layout.param_slot(g, q[1], lane), what = mass.both_zero_text(q[1], q[2]) }
        end
      end
      for c, ch in ipairs(m.noise) do
        local sigma_slot
        for _, f in ipairs { "mu", "sigma", "tau" } do
          local name = "input_" .. (c - 1) .. "." .. f
          local slot = layout.param_slot(g, name, lane)
          add(name, slot, ch[f])
          if f == "sigma" then
            sigma_slots[slot], sigma_slot = true, slot
            bounds[slot] = { 0, false, "a noise sigma" }
          end
          -- (an OU channel's tau must also exceed the run's dt while it draws noise:
          -- params.bound_check, run/plan.lua)
          if f == "tau" then
            bounds[slot] = { 0, true, "a noise time constant (ms)",
                             per_dt = m.type.noise[c].kind ~= "white" and sigma_slot or nil, dt_why = OU_DT }
          end
        end
        -- The channel itself (an input slot): a stimulus set here replaces its process.
        local name = "input_" .. (c - 1)
        local chan, islot = flat and name or (prefix .. "." .. name), layout.input_slot(g, name, lane)
        local process = PROCESS_CLASS[m.type.noise[c].kind]
        if reg.by_name[chan] then reg:add_slot(chan, islot)
        else reg:add(chan, { slots = { islot }, input = true, process = process }) end
        -- neurolib's <mass>.input_k.type: the class of what drives the channel
        -- (a flat name: of its first node's, made once).
        local function class_of()
          local b = self.drive and self.drive.inputs and self.drive.inputs[islot]
          return b and stimclass.type_name(b.stimulus) or process
        end
        if not reg.by_name[chan .. ".type"] then reg:add(chan .. ".type", {
          descriptor = true,
          get = class_of,
          set = function(v, level)
            local now = class_of()
            if v == now then return end
            error(string.format("'%s.type' is the class of the channel's process (%s), which a name cannot " ..
                                "change: assign a stimulus to '%s' (e.g. nm.stimulus.ZeroInput {}), or nil " ..
                                "for its own process (got %s)", chan, now, chan, check.show(v)), level + 1)
          end }) end
      end
      for _, v in ipairs(m.type.state_names) do
        local sig = L.sig[i][j][v]
        ireg:add_slot(flat and v or (prefix .. "." .. v), sig)
        v0[sig] = m.init[v]
      end
      for _, v in ipairs(m.type.output_names) do
        local sig = L.sig[i][j][v]
        ireg:add_slot(flat and v or (prefix .. "." .. v), sig)
        v0[sig] = m.init[v] or 0
      end
    end
  end
  for k, slot in keyorder.pairs(L.global) do
    reg:add(flat and k or (net.label .. "." .. k), { slots = { slot } })
    values[slot] = net.params[k]
  end
  for alias, targets in keyorder.pairs(opts.aliases or {}) do
    local slots = {}
    for _, t in ipairs(targets) do
      local e = reg.by_name[t]
      if not e then error("model: alias '" .. alias .. "' names unknown parameter '" .. t .. "'", 3) end
      for _, s in ipairs(e.slots) do slots[#slots + 1] = s end
    end
    reg:add(alias, { slots = slots, alias = true })   -- (the name run's messages give these slots)
  end
  for alias, target in keyorder.pairs(opts.init_aliases or {}) do
    local e = ireg.by_name[target]
    if not e then error("model: init alias '" .. alias .. "' names unknown variable '" .. target .. "'", 3) end
    ireg:add(alias, { slots = { table.unpack(e.slots) } })
    -- neurolib keeps initial states in params too: model.params.xs_init reads and sets them.
    reg:add(alias, { get = function() return params.read(ireg, alias, v0) end,
                     set = function(v, level) params.assign(ireg, alias, v, v0, nil, level + 1) end })
  end
  -- Structural values: changing them rebuilds the coupling, not the equations.
  -- (a structural value is fixed for a run: a stimulus or series cannot drive it)
  -- save() -> undo: what a refused assignment of several puts back (params.assign,
  -- --set): the raw state of what `set` changes, with one rebuild for every name
  -- sharing that save (a native model's Cmat, Dmat and signalV); nil: get, then set.
  local function structural(name, get, set, save)
    reg:add(name, { get = get, save = save, set = function(v, level)
      if params.is_series(v) or is_stimulus(v) then
        error(string.format("'%s' is fixed for a run (it shapes the model): it cannot be driven by %s; " ..
                            "give it a value", name, params.is_series(v) and "a series" or "a stimulus"),
              level + 1)
      end
      set(v, level + 1)
      -- (the names set since the last build, once each, for the message refusing a continuation)
      local names = type(self.dirty) == "table" and self.dirty or {}
      if not names[name] then names[#names + 1], names[name] = name, true end
      self.dirty = names
    end })
  end
  -- neurolib's OU states (x_ou = "input_0"): where each noise channel's process
  -- starts (default: at its mean), one value or one per node.
  local ou0 = {}
  for alias, channel in keyorder.pairs(opts.ou_aliases or {}) do
    local e = reg.by_name[channel] or error("model: OU alias '" .. alias .. "' names no channel", 3)
    local mu = reg.by_name[channel .. ".mu"].slots
    structural(alias, function()
      local list, same = {}, true
      for i, s in ipairs(e.slots) do
        list[i] = ou0[s] or values[mu[i]]
        same = same and list[i] == list[1]
      end
      return same and list[1] or list
    end, function(v, level)
      local at = params.spread(v, #e.slots, alias, level + 1)
      for i, s in ipairs(e.slots) do
        local x = at(i)
        if type(x) ~= "number" then error(string.format("'%s' must be numbers", alias), level + 1) end
        ou0[s] = x
      end
    end)
  end
  self.noise_x0 = ou0
  if not self.standalone then
    local function save()      -- (the matrices as they are: lengths and speed, or delays)
      local was = { net.connectivity, net.fixed_delays, net.lengths, net.signal_speed }
      return function()
        net.connectivity, net.fixed_delays, net.lengths, net.signal_speed = was[1], was[2], was[3], was[4]
      end
    end
    structural(flat and "connectivity" or (net.label .. ".connectivity"),
      function() return net:connectivity_for_user() end,
      function(v, level) net:set_matrix("connectivity", v, level + 1) end, save)
    structural(flat and "delays" or (net.label .. ".delays"),
      function() return net:delays_for_user() end,
      function(v, level) net:set_matrix("delays", v, level + 1) end, save)
  end
  for i, nd in ipairs(net.nodes) do
    if nd.connectivity and not flat then
      local node_prefix = (top and (top .. ".") or "") .. nodemod.part_name(nd.label, i)
      local nm = #nd.masses
      local function save()    -- (the node's tables as they are; none for delays it has not)
        local c, d = nd.connectivity, nd.delays
        return function()
          net:set_local_matrix(nd, "connectivity", c)
          net:set_local_matrix(nd, "delays", d)
        end
      end
      structural(node_prefix .. ".local_connectivity", function() return net:local_matrix(nd, "connectivity") end,
        function(v, level)
          v = check.matrix(v, nm, node_prefix .. ".local_connectivity", level + 1)
          net:set_local_matrix(nd, "connectivity", nd.rescale and nd.rescale(v, nd.masses) or v)
        end, save)
      structural(node_prefix .. ".local_delays", function() return net:local_matrix(nd, "delays") end,
        function(v, level)
          net:set_local_matrix(nd, "delays", check.matrix(v, nm, node_prefix .. ".local_delays", level + 1, true))
        end, save)
    end
  end
  for name, s in keyorder.pairs(opts.structural or {}) do
    structural(name, s.get, s.set, s.save)
  end
  -- reg.keep(entries) -> undo(): puts back what setting the structural
  -- `entries` changes, each save once (one rebuild however many of its names
  -- were set), an entry without one through its set, and which names the
  -- model holds changed since its build (self.dirty, for a continued run).
  reg.keep = function(entries)
    local undo, seen = {}, {}
    for _, e in ipairs(entries) do
      if e.save then
        if not seen[e.save] then seen[e.save] = true; undo[#undo + 1] = e.save() end
      elseif e.get and e.set then
        local was = e.get()
        undo[#undo + 1] = function() e.set(was, 1) end
      end
    end
    local dirty = self.dirty
    if type(dirty) == "table" then dirty = table.move(dirty, 1, #dirty, 1, {}) end
    return function()
      for k = #undo, 1, -1 do undo[k]() end
      if type(dirty) == "table" then for _, n in ipairs(dirty) do dirty[n] = true end end
      self.dirty = dirty
    end
  end
  -- a native model's own hints (neurolib's names it does not take) before the run options'
  local own = opts.hints or {}
  reg.hints = setmetatable({}, { __index = function(_, k) return own[k] or run_option_hint[k] end })
  -- neurolib's params['N'], the number of nodes, read by ported scripts: read-only (params.proxy)
  reg.readonly = { N = function() return #net.nodes end }
  reg.bounds = bounds
  self.registry, self.init_registry = reg, ireg
  self.values, self.v0, self.drive = values, v0, {}
  self.noise_sigma_slots = sigma_slots
end

--- nm.model(node_or_network[, opts]) -> a model, which owns the parameter
-- values (model.params) and the initial state (model.init), and runs
-- (model:run, run.lua).  Errors at the caller's line: not a node or network,
-- an unknown option, a matrix edited into bad values since the network was
-- made, a required input no sync rule provides (naming the mass and input),
-- a rule for an input no mass declares or of a variable no node has, a BOLD
-- declaration naming no variable.  (neurolib's MultiModel(network).)
-- opts (used by the zoo's native flavours): naming = "flat", aliases = { name
-- = {params...} }, init_aliases = { xs_init = "x" }, structural = { name =
-- {get, set} }, record = default recorded variables, dt, duration defaults;
-- seed = the default seed of its runs (a whole number >= 0: a native{ seed }
-- seeds the noise, as neurolib's params.seed; run{ seed } and --seed override it);
-- bold = { variable =, scale =, offset = }: the BOLD input `run{ bold = true }`
-- feeds (run/bold.lua; any model may declare one); hints = { name = message }:
-- the error for a name the model does not have (neurolib's, kept elsewhere);
-- ou_aliases = { x_ou = "input_0" } (neurolib's OU states), input_vars = { names }
-- (neurolib's input_vars: the parameters that are its inputs; model:describe
-- lists them apart from the noise channels).
-- What nm.model was given instead of a node or a network, and what to write.
local function not_a_net_hint(obj, mt)
  if mt == Model then
    return " (a model already, as native{} makes it: call its :run{ ... })"
  elseif mt == mass.MassType then
    return string.format(" (a mass type: put an instance in a node, nm.model(nm.node { masses = { %s() } }))",
                         obj.label)
  elseif mt == mass.Mass then
    return " (a mass: put it in a node, nm.model(nm.node { masses = { m } }))"
  elseif type(obj) == "table" and rawget(obj, "node") and rawget(obj, "native") then
    return string.format(" (a zoo model's module: nm.model(module.node())%s, or module.native{ ... }, a " ..
                         "model already)", rawget(obj, "network") and
                         " or nm.model(module.network(Cmat, delays_ms))" or "")
  end
  return ""
end

function M.model(obj, opts)
  opts = opts or {}
  check.fields(opts, model_opts, "model", 2, tvb_sim_fields)
  for _, k in ipairs { "aliases", "init_aliases", "ou_aliases", "input_vars", "structural", "hints" } do
    check.table_field(opts, k, "model")
  end
  local seed = opts.seed ~= nil and options.seed(opts.seed) or nil     -- (run's rule: 4.0 is 4)
  if opts.seed ~= nil and not seed then
    error(string.format("model: 'seed' must be %s (got %s)", options.SEED_RANGE, check.show(opts.seed)), 2)
  end
  local mt = getmetatable(obj)
  local net, standalone
  if mt == nodemod.Node then
    net = netmod.network { label = obj.label, nodes = { obj } }
    standalone = true
  elseif mt == netmod.Network then
    net = obj
  else
    local tvb = not mt and type(obj) == "table" and (obj.model or obj.connectivity or obj.coupling) ~= nil
    error("model: expected a node or a network, got " .. (mt and mt.__name or type(obj)) ..
          (tvb and TVB_SIMULATOR or not_a_net_hint(obj, mt)), 2)
  end
  local self = setmetatable({
    net = net, standalone = standalone, naming = opts.naming or "hierarchical",
    default_record = opts.record, default_dt = opts.dt or 0.1,
    default_duration = opts.duration, default_seed = seed, label = opts.label or net.label,
    describe_extra = opts.describe, info_extra = opts.info,
    -- (what model:describe says of inputs: neurolib's input_vars, the OU states' and channels' names)
    input_vars = opts.input_vars, ou_aliases = opts.ou_aliases, param_aliases = opts.aliases,
    default_bold = opts.bold ~= nil and bold.declaration(opts.bold, "model: bold", 2) or net.default_bold,
  }, Model)
  if not netmod.take_checked(net) then net:check_matrices(2) end
  self.layout = layout.build(net)
  if self.default_bold then bold.nodes(self, self.default_bold, "model: bold", 2) end
  register_names(self, opts)
  self.dirty = true
  -- Check the sync rules now, so that a missing coupling is reported at the
  -- line that builds the model.
  self.rules, self.sync = net:resolve_sync()
  compile.check_inputs(self, 2)
  for name, rule in keyorder.pairs(self.rules) do      -- (a custom rule that is a coupling sum)
    if rule.additive then warnings.once(self, "additive:" .. name, netmod.additive_hint(net, name, rule)) end
  end
  self._params = params.proxy(self.registry, self.values, self.drive)
  self._init = params.proxy(self.init_registry, self.v0, nil)
  return self
end

--- Variable names at node level, in node order, with the nodes that have them.
function Model:variables()
  local order, nodes_of = {}, {}
  for i, nd in ipairs(self.net.nodes) do
    for _, v in ipairs(nd:variables()) do
      if not nodes_of[v] then order[#order + 1] = v; nodes_of[v] = {} end
      nodes_of[v][#nodes_of[v] + 1] = i - 1
    end
  end
  return order, nodes_of
end

--- The signal index of node i's (0-based) variable `var`, or nil.
function Model:signal(i, var)
  if not check.whole(i) then
    check.error(string.format("model:signal: the node must be a whole number (from 0), got %s", check.show(i)), 2)
  end
  if type(var) ~= "string" then
    check.error(string.format("model:signal: the variable must be a name, got %s", check.show(var)), 2)
  end
  local nd = self.net.nodes[i + 1]
  if not nd then return nil end
  local j, local_name = nd:find(var)
  if not j then return nil end
  return self.layout.sig[i + 1][j][local_name]
end

--- The state variables in neurolib's MultiModel global order: node by node,
-- mass by mass, each mass's variables in its order.  Returns signal indices.
function Model:state_order()
  local order = {}
  for i, nd in ipairs(self.net.nodes) do
    for j, m in ipairs(nd.masses) do
      for _, v in ipairs(m.type.state_names) do order[#order + 1] = self.layout.sig[i][j][v] end
    end
  end
  return order
end

-- neurolib's (and TVB's) fields of a model, read here: where they are in neuromass.
local NEUROLIB_FIELD = {}
for _, k in ipairs { "outputs", "output", "t", "xr", "getOutput", "getOutputs" } do
  NEUROLIB_FIELD[k] = string.format("; neurolib's model.%s is the result here: res = model:run{...}, " ..
                                    "then res:get(var, node), res:matrix(var), res:time()", k)
end
NEUROLIB_FIELD.BOLD = "; neurolib's model.BOLD is the result here: res = model:run{ bold = true, ... }, " ..
                      "then res.BOLD (N rows, 2 s apart) at res.t_BOLD (ms)"
for _, k in ipairs { "state_vars", "output_vars", "init_vars" } do
  NEUROLIB_FIELD[k] = string.format("; neurolib's model.%s: model:variables() lists the variables, " ..
                                    "model:describe() every name", k)
end

NEUROLIB_FIELD.configure = "; TVB's simulator.configure() has no counterpart: nm.model checks the network " ..
                           "at once, and model:run{...} runs it"
NEUROLIB_FIELD.default_output = "; neurolib's model.default_output: model:variables() lists the variables, " ..
                                "res:get(var, node) reads one"
NEUROLIB_FIELD.getMaxDelay = "; neurolib's model.getMaxDelay(): the delays (ms) are model.params[\"*.delays\"] " ..
                             "(lengths / signal speed)"
NEUROLIB_FIELD.randomICs = "; neurolib's model.randomICs(): a native model draws its initial state from " ..
                           "native{ seed = ... }; model.init sets it"
NEUROLIB_FIELD.clearModelState = "; neurolib's model.clearModelState(): a fresh run starts from model.init and " ..
                                 "keeps nothing of the last one (continue = true goes on from it)"

-- What the error for a missing field `k` of model `self` adds: neurolib's
-- way to that, or the model's fields.
local function missing_hint(self, k)
  if k == "name" then
    return string.format("; neurolib's model.name is model.label here ('%s')", tostring(rawget(self, "label")))
  end
  if NEUROLIB_FIELD[k] then return NEUROLIB_FIELD[k] end
  if type(k) == "string" then
    -- neurolib keeps each output on the model after a run (model.rates_exc)
    local ok, vars = pcall(Model.variables, self)
    for _, name in ipairs(ok and vars or {}) do
      if name == k then
        return string.format("; neurolib's model.%s is the result here: res = model:run{...}, then " ..
                             "res:get(\"%s\", node) (a node's series) or res:matrix(\"%s\") (N x T)", k, k, k)
      end
    end
  end
  return check.field_names(Model, {}, { "params", "init" })
end

-- A misspelt method or field read by the user's code (m:rn{}) is an error
-- with a suggestion (_check.lua's missing); the library's own reads get nil.
Model.__index = function(self, k)
  if k == "params" then return rawget(self, "_params") end
  if k == "init" then return rawget(self, "_init") end
  local v = Model[k]
  if v == nil then
    check.missing(k, "model '" .. tostring(rawget(self, "label")) .. "'", function() return missing_hint(self, k) end,
                  1, self)
  end
  return v
end

--- `model.init = { ... }` sets the whole initial state, in neurolib's order
-- (all or nothing: a refused value leaves the state as it was).
Model.__newindex = function(self, k, v)
  if k == "init" then
    local order = self:state_order()
    if type(v) ~= "table" or #v ~= #order then
      error(string.format("model.init: a full initial state has %d values (got %s)", #order,
                          type(v) == "table" and #v or type(v)), 2)
    end
    for n = 1, #order do       -- (every value checked before any is kept: all or nothing)
      if not check.finite(v[n]) then
        error(string.format("model.init: value %d must be a finite number, got %s", n, check.show(v[n])), 2)
      end
    end
    for n, sig in ipairs(order) do self.v0[sig] = v[n] end
    return
  elseif k == "params" then
    error("model.params cannot be replaced; assign its entries (model.params[name] = value)", 2)
  end
  check.assign(self, k, v)
end

M.Model = Model
return M
