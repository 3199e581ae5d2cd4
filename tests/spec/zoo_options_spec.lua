-- zoo_options_spec.lua: the options of the zoo's MultiModel builders (node(opts),
-- network(Cmat, delays, opts)). Before, an unknown or misspelt option was ignored
-- (fhn.node{ sead = 1 } drew seed 0; aln.network's exc_params and wc.network's params
-- changed nothing), and a seed that was not a number failed inside the library.
local nm = require "neuromass"
local h = require "helpers"

local C = { { 0, 0.5 }, { 0.8, 0 } }
local D = { { 0, 5 }, { 5, 0 } }

-- (the second value of pcall: the message, or what f returned, which holds no spec line)
local function refused(f, words) h.assert_message(select(2, pcall(f)), "zoo_options_spec%.lua", words) end

describe("the zoo's node and network options", function()
  it("refuse an unknown option, with the nearest one", function()
    local M = nm.models
    refused(function() return M.fhn.node { sead = 1 } end, { "unknown field 'sead'; did you mean 'seed'?" })
    refused(function() return M.hopf.network(C, D, { K_gl = 1 }) end, { "unknown field 'K_gl'" })
    refused(function() return M.aln.node { exc_param = {} } end, { "did you mean 'exc_params'?" })
    refused(function() return M.thalamus.node { tcr_param = {} } end, { "did you mean 'tcr_params'?" })
    refused(function() return M.wc.network(C, D, { params = { tau = 3 } }) end, { "unknown field 'params'" })
    refused(function() return M.ww.node { params = {} } end, { "unknown field 'params'" })
    refused(function() return M.rww.node { init = {} } end, { "unknown field 'init'" })
    refused(function() return M.kuramoto.network(C, D, { kk = 1 }) end, { "did you mean 'k'?" })
  end)

  it("refuse a seed that is not a whole number >= 0, naming it", function()
    refused(function() return nm.models.fhn.node { seed = "x" } end,
            { "seed must be a non-negative integer, got \"x\"" })
    refused(function() return nm.models.aln.node { seed = -1 } end, { "seed must be a non-negative integer" })
    refused(function() return nm.models.wc.node { seed = 2.5 } end, { "seed must be a non-negative integer, got 2.5" })
  end)

  it("take a whole seed written as a float as that integer, as run's seed (3.0 is 3)", function()
    -- (the rule was run's alone: a zoo node refused 3.0 saying 'must be a non-negative integer, got 3')
    local M = nm.models
    local function init(node) return nm.model(node).init end
    assert.are.same(init(M.fhn.node { seed = 3 }), init(M.fhn.node { seed = 3.0 }))
    assert.are.same(init(M.aln.node { seed = 3 }), init(M.aln.node { seed = 6 / 2 }))
    assert.are.same(nm.model(M.wc.network(C, D, { seed = 2 })).init, nm.model(M.wc.network(C, D, { seed = 2.0 })).init)
    assert.are.same(M.fhn.native { Cmat = C, seed = 1 }.init, M.fhn.native { Cmat = C, seed = 1.0 }.init)
  end)

  it("refuse a network's seed whose nodes' seeds (seed + i) pass 2^63 - 1, naming it", function()
    -- (node 2's seed wrapped round: 'seed must be a non-negative integer, got -9223372036854775808')
    refused(function() return nm.models.fhn.network(C, D, { seed = math.maxinteger }) end,
            { "FitzHugh-Nagumo network: seed = 9223372036854775807", "2 nodes" })
  end)

  it("name a network given the native flavour's table of fields for its Cmat", function()
    -- (said 'Cmat must be a non-empty square matrix, got an empty table')
    refused(function() return nm.models.wc.network { Cmat = C, Dmat = D } end,
            { "wc.network: Cmat must be a non-empty square matrix, got a table of fields (Cmat, Dmat)",
              "a MultiModel network takes (Cmat, delays in ms, opts)" })
  end)

  -- Before, a bad Cmat or delays was named as the network's own fields, which the caller
  -- never wrote: "network 'ALNNet': delays must be a 2x2 matrix (got 1 row)".
  it("name a bad Cmat or delays_ms as passed (network(Cmat, delays_ms)), not as the network's fields", function()
    local M = nm.models
    refused(function() return M.aln.network(C, { { 0, 1 } }) end, { "aln.network: delays_ms must be a 2x2 matrix (got 1 row of 2 entries)" })
    refused(function() return M.wc.network({ { 0, 0 / 0 }, { 1, 0 } }, D) end,
            { "wc.network: Cmat[1][2] must be a finite number, got nan" })
    refused(function() return M.rww.network({ { 0, 1 }, { 1 } }, D) end,
            { "rww.network: Cmat must be a 2x2 matrix (row 2 has 1 entry, expected 2)" })
    refused(function() return M.hopf.network(C, { { 0, -1 }, { 1, 0 } }) end,
            { "Hopf network: delays_ms[1][2] must not be negative, got -1" })
    refused(function() return M.ww.network(C, { [0] = { 0, 1 }, { 1, 0 } }) end,
            { "ww.network: delays_ms must be a 2x2 matrix (got 1 row of 2 entries); it has an entry at [0]" })
    refused(function() return M.kuramoto.network({ [0] = { 0, 1 }, { 1, 0 } }, D) end,
            { "kuramoto.network: Cmat must be a 1x1 matrix (row 1 has 2 entries, expected 1); it has an entry at [0]" })
    -- (no delays: none)
    assert.are.same({ { 0, 0 }, { 0, 0 } }, nm.model(M.fhn.network(C)).params["FHNnet.delays"])
  end)

  it("pass a network's parameters on to its nodes", function()
    local net = nm.models.aln.network(C, D, { exc_params = { tauA = 500 }, inh_params = { tau_si = 4 } })
    local m = nm.model(net)
    assert.are.equal(500, m.params["ALNNet.ALNNode_1.ALNMassEXC_0.tauA"])
    assert.are.equal(4, m.params["ALNNet.ALNNode_0.ALNMassINH_1.tau_si"])
    local k = nm.model(nm.models.kuramoto.network(C, D, { k = 3, params = { omega = 2 } }))
    assert.are.equal(2, k.params["KuramotoNet.KuramotoNode_1.KuramotoMass_0.omega"])
  end)
end)
