--- FitzHugh-Nagumo (FitzHugh 1961; Nagumo et al. 1962): an excitable
-- two-variable oscillator, x the fast "voltage", y the slow recovery.
-- Time in ms.  Two flavours as neurolib:
--   MultiModel: fhn.mass, fhn.node(opts), fhn.network(Cmat, delays_ms, opts)
--   native:     fhn.native{ Cmat = ..., Dmat = ..., K_gl = ..., ... }  (FHNModel)
local nm_mass = require "neuromass.mass"
local nm_node = require "neuromass.node"
local nm_network = require "neuromass.network"
local native = require "neuromass.models._native"

local M = {}

local params = { alpha = 3.0, beta = 4.0, gamma = -1.5, delta = 0.0, epsilon = 0.5, tau = 20.0,
                 x_ext = 1.0, y_ext = 0.0 }

local function equations(s, p, u, coupling_x, coupling_y)
  return {
    x = -p.alpha * s.x ^ 3 + p.beta * s.x ^ 2 + p.gamma * s.x - s.y + coupling_x + u.input_0 + p.x_ext,
    y = (s.x - p.delta - p.epsilon * s.y) / p.tau + coupling_y + u.input_1 + p.y_ext,
  }
end

--- MultiModel's FHNmass (spec/multimodel.md 3.1).
M.mass = nm_mass.mass {
  name = "FitzHugh-Nagumo mass", label = "FHNmass",
  state = { x = 0.0, y = 0.0, order = { "x", "y" } },
  params = params,
  inputs = { "network_x", "network_y" },
  noise = 2,
  coupling = { "x", "y" },
  derivatives = function(s, p, u) return equations(s, p, u, u.network_x, u.network_y) end,
}

--- MultiModel's FHNnode; opts.seed draws the initial state 0.05 U(-1, 1).
function M.node(opts)
  opts = opts or {}
  local r = native.rng(opts.seed or 0)
  local m = M.mass { params = opts.params,
                     init = opts.init or { x = 0.05 * (2 * r() - 1), y = 0.05 * (2 * r() - 1) } }
  return nm_node.node { name = "FitzHugh-Nagumo node", label = "FHNnode", masses = { m } }
end

--- MultiModel's FHNnet: diffusive coupling of x through `Cmat` ([to, from]),
-- delays in ms; no global gain (scale Cmat).
function M.network(Cmat, delays, opts)
  local nodes = native.seeded_nodes(M.node, #Cmat, opts)
  return nm_network.network {
    name = "FitzHugh-Nagumo network", label = "FHNnet", nodes = nodes, connectivity = Cmat,
    delays = delays,
    sync = function(net) return { network_x = net:diffusive("x"), network_y = net:none() } end,
  }
end

--- The mass of the native FHNModel: noise enters through Ornstein-Uhlenbeck
-- inputs (x_ou, y_ou); only x is coupled.
M.native_mass = nm_mass.mass {
  name = "FitzHugh-Nagumo (native)", label = "FHN",
  state = { x = 0.0, y = 0.0, order = { "x", "y" } },
  params = params,
  inputs = { "network_x" },
  noise = 2,
  coupling = "x",
  derivatives = function(s, p, u) return equations(s, p, u, u.network_x, 0) end,
}

--- neurolib's FHNModel: Cmat (diagonal ignored), Dmat (mm), K_gl, signalV,
-- coupling = "diffusive" | "additive", sigma_ou, tau_ou, x_ou_mean, y_ou_mean,
-- xs_init, ys_init (default 0.05 U(0, 1), seeded by `seed`).
function M.native(args)
  return native.xy_oscillator("FHNModel", M.native_mass, "FHN", function(r) return 0.05 * r() end,
                              args, 2)
end

return M
