-- params_spec.lua: parameter and state names, globs, per-node values and
-- suggestions (lua/neuromass/params.lua through model.params / model.init).
local nm = require "neuromass"

describe("model.params", function()
  local wc = nm.models.wc

  it("names MultiModel parameters hierarchically, as neurolib", function()
    local model = nm.model(wc.node())
    assert.are.equal(2.5, model.params["WCnode_0.WCmassEXC_0.tau"])
    assert.are.equal(3.75, model.params["WCnode_0.WCmassINH_1.tau"])
    local net = nm.model(wc.network({ { 0, 1 }, { 1, 0 } }, { { 0, 5 }, { 5, 0 } }))
    assert.are.equal(2.5, net.params["WCnet.WCnode_1.WCmassEXC_0.tau"])
  end)

  it("matches globs across dots, with '|word' excluding names", function()
    local model = nm.model(wc.node())
    local all = model.params["*tau"]
    local n = 0
    for _ in pairs(all) do n = n + 1 end
    assert.are.equal(4, n)   -- two mass taus and two input_0.tau, as neurolib
    local masses_only = model.params["*tau|input"]
    n = 0
    for k in pairs(masses_only) do n = n + 1; assert.is_nil(k:find("input")) end
    assert.are.equal(2, n)
  end)

  it("sets every match, or one value per matched node", function()
    local model = nm.model(wc.network({ { 0, 1 }, { 1, 0 } }, nil))
    model.params["*EXC*.tau"] = 3.1
    assert.are.equal(3.1, model.params["WCnet.WCnode_0.WCmassEXC_0.tau"])
    assert.are.equal(3.1, model.params["WCnet.WCnode_1.WCmassEXC_0.tau"])
    model.params["*EXC*.ext_drive"] = { 0.2, 0.7 }
    assert.are.equal(0.7, model.params["WCnet.WCnode_1.WCmassEXC_0.ext_drive"])
  end)

  it("lets '*.x' reach the native flavours' flat names", function()
    local model = nm.models.fhn.native {}
    model.params["*.tau"] = 25
    assert.are.equal(25, model.params.tau)
  end)

  it("rejects an unknown name with a suggestion, at the caller's line", function()
    local model = nm.models.fhn.native {}
    local ok, err = pcall(function() model.params["*.tua"] = 2 end)
    assert.is_false(ok)
    assert.matches("params_spec.lua:%d+: unknown parameter '%*%.tua'; did you mean 'tau'%?", err)
  end)

  it("rejects a table of the wrong length and NaN", function()
    local model = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } } }
    assert.has_error(function() model.params.x_ext = { 1, 2, 3 } end)
    assert.has_error(function() model.params.tau = 0 / 0 end)
  end)

  it("addresses initial states by the same names (and neurolib's *_init aliases)", function()
    local model = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, xs_init = { 0.1, 0.2 } }
    assert.are.same({ 0.1, 0.2 }, model.init.x)
    model.init["*.y"] = 0.3
    assert.are.equal(0.3, model.init.ys_init)
  end)
end)
