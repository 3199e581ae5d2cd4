-- tvb_g2d.lua: a first script for a user of The Virtual Brain (TVB).  A
-- connectivity in TVB's layout (weights.txt, tract_lengths.txt, centres.txt),
-- TVB's Generic2dOscillator written as a mass, Linear coupling with delays
-- from the tract lengths at a conduction speed, Heun with additive noise,
-- a temporal average, BOLD and its FC; then Difference coupling without
-- noise.  docs/porting.md ("Coming from TVB") has the names side by side.
--   neuromass run examples/tvb_g2d.lua [DIR]
-- DIR holds an unzipped TVB connectivity (connectivity_76.zip's files); without
-- it the script writes hcp's 80 regions in that layout to a temporary directory.
local nm = require "neuromass"

local dir = arg and arg[1]
local made
if not dir then                            -- hcp's matrices in TVB's layout
  made = os.tmpname()
  os.remove(made)
  assert(os.execute("mkdir " .. made))
  dir = made
  local hcp = nm.datasets.load("hcp")
  for file, m in pairs { ["weights.txt"] = hcp.Cmat, ["tract_lengths.txt"] = hcp.Dmat } do
    local f = assert(io.open(dir .. "/" .. file, "w"))
    for _, row in ipairs(m) do f:write(table.concat(row, " "), "\n") end
    f:close()
  end
  local f = assert(io.open(dir .. "/centres.txt", "w"))
  for i, name in ipairs(hcp.names) do f:write(name, " ", table.concat(hcp.coords[i], " "), "\n") end
  f:close()
end

-- TVB's Connectivity: weights [to][from] (TVB's w_ij: i receives from j), tract lengths (mm),
-- and the region labels of centres.txt (a label, then x y z, on every row: not a matrix)
local weights = nm.datasets.read_matrix(dir .. "/weights.txt")
local tract_lengths = nm.datasets.read_matrix(dir .. "/tract_lengths.txt")
local labels = {}
for line in io.lines(dir .. "/centres.txt") do labels[#labels + 1] = line:match("^%s*(%S+)") end
if made then os.remove(dir .. "/weights.txt"); os.remove(dir .. "/tract_lengths.txt")
             os.remove(dir .. "/centres.txt"); os.remove(dir) end

-- TVB's Generic2dOscillator (its defaults), coupled through c_0; its
-- additive noise (nsig) is a white channel per state variable, sigma = sqrt(2 nsig)
local G2D = nm.mass {
  name = "Generic2dOscillator", label = "G2D",
  state = { V = 0.1, W = 0.1, order = { "V", "W" } },
  params = { tau = 1, I = 0, a = -2, b = -10, c = 0, d = 0.02, e = 3, f = 1, g = 0,
             alpha = 1, beta = 1, gamma = 1 },
  inputs = { "c_0" },
  noise = { { kind = "white", sigma = 0 }, { kind = "white", sigma = 0 } },
  coupling = "V",                                               -- TVB's cvar
  derivatives = function(s, p, u)                               -- TVB's dfun
    return {
      V = p.d * p.tau * (p.alpha * s.W - p.f * s.V ^ 3 + p.e * s.V ^ 2 + p.g * s.V
                         + p.gamma * p.I + p.gamma * u.c_0) + u.input_0,
      W = p.d / p.tau * (p.a + p.b * s.V + p.c * s.V ^ 2 - p.beta * s.W) + u.input_1,
    }
  end,
}
local node = nm.node { label = "Region", masses = { G2D() } }

local function network(rule, a)                                 -- rule: "additive" | "diffusive"
  return nm.network {
    label = "Net", nodes = nm.replicate(node, #weights),
    connectivity = weights, lengths = tract_lengths, signal_speed = 3.0,   -- conduction_speed, mm/ms
    sync = function(net) return { c_0 = net[rule](net, "V", { gain = a }) } end,
  }
end

-- Linear(a = 0.0042) with HeunStochastic, nsig = 1e-4 on V and W; Raw at dt, BOLD of V
local model = nm.model(network("additive", 0.0042))
model.params["*.input_*.sigma"] = math.sqrt(2 * 1e-4)
local dt = 0.5
local res = model:run { duration = 30000, dt = dt, integrator = "heun", seed = 1, record = "V",
                        bold = { variable = "V" } }
if res:rows() == 0 then                    -- neuromass info integrates nothing
  print("neuromass info: no rows, no BOLD, no FC")
  return
end

-- TVB's TemporalAverage(period = 5 ms): the mean of each 5 ms of rows at dt
local period = 5
local per = math.floor(period / dt + 0.5)
local avg = {}
for i, row in ipairs(res:matrix("V")) do
  avg[i] = {}
  for k = 1, #row // per do
    local sum = 0
    for q = (k - 1) * per + 1, k * per do sum = sum + row[q] end
    avg[i][k] = sum / per
  end
end
print(string.format("%d regions (%s ... %s); TemporalAverage(%g ms): %d samples a region",
                    #avg, labels[1], labels[#labels], period, #avg[1]))

-- BOLD (Balloon-Windkessel, every 2 s) and its FC after the first 10 s
local fc = nm.func.fc(res.BOLD, { skip = 5 })
print(string.format("Linear, HeunStochastic: %d BOLD samples; FC vs hcp subject 1: %.3f", #res.BOLD[1],
                    nm.func.matrix_correlation(fc, nm.datasets.load("hcp").FCs[1])))

-- Difference(a = 0.1) with HeunDeterministic: the same mass, sigma 0
local diff = nm.model(network("diffusive", 0.1))
local res2 = diff:run { duration = 2000, dt = dt, integrator = "heun", record = "V", sampling_dt = 5 }
local v = res2:get("V", 0)
print(string.format("Difference, HeunDeterministic: V of %s at 2 s = %.4f", labels[1], v[#v]))
