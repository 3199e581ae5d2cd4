--- FitzHugh-Nagumo (FitzHugh 1961; Nagumo et al. 1962): an excitable
-- two-variable oscillator, x the fast "voltage", y the slow recovery.
-- Time in ms.  Two flavours as neurolib (built by models/_xy.lua):
--   MultiModel: fhn.mass (FHNmass), fhn.node(opts) (FHNnode, initial state
--               0.05 U(-1, 1) seeded by opts.seed), fhn.network(Cmat, delays_ms, opts)
--               (FHNnet: diffusive coupling of x; no global gain, scale Cmat)
--   native:     fhn.native{ Cmat = ..., Dmat = ..., K_gl = ..., ... } (FHNModel):
--               Cmat (diagonal ignored), Dmat (mm), K_gl, signalV, coupling =
--               "diffusive" | "additive", sigma_ou, tau_ou, x_ou_mean, y_ou_mean,
--               xs_init, ys_init (default 0.05 U(0, 1), seeded by `seed`)
local xy = require "neuromass.models._xy"

return xy.model {
  name = "FitzHugh-Nagumo", mass_label = "FHNmass", node_label = "FHNnode", net_label = "FHNnet",
  native_label = "FHNModel", native_node = "FHN",
  params = { alpha = 3.0, beta = 4.0, gamma = -1.5, delta = 0.0, epsilon = 0.5, tau = 20.0,
             x_ext = 1.0, y_ext = 0.0 },
  time_constants = { "tau" },
  equations = function(s, p, u, coupling_x, coupling_y)
    return {
      x = -p.alpha * s.x ^ 3 + p.beta * s.x ^ 2 + p.gamma * s.x - s.y + coupling_x + u.input_0
          + p.x_ext,
      y = (s.x - p.delta - p.epsilon * s.y) / p.tau + coupling_y + u.input_1 + p.y_ext,
    }
  end,
  init_scale = 0.05,
  native_draw = function(r) return 0.05 * r() end,
  native_bold = { variable = "x", scale = 50 },          -- neurolib: BOLD sees 50 x
}
