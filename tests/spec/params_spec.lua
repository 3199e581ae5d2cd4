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

  it("reads '?' and '[seq]' in a glob as neurolib's fnmatch does", function()
    -- neurolib's star_dotdict matches its flat dotted names with fnmatchcase:
    -- '?' one character, '[01]' / '[!0]' one character in / not in the set
    local net = nm.model(wc.network({ { 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 0 } }, nil))
    net.params["*WCnode_[02].WCmassEXC_?.tau"] = 4.5
    assert.are.same({ 4.5, 2.5, 4.5 }, { net.params["WCnet.WCnode_0.WCmassEXC_0.tau"],
      net.params["WCnet.WCnode_1.WCmassEXC_0.tau"], net.params["WCnet.WCnode_2.WCmassEXC_0.tau"] })
    net.params["*WCnode_[!0].WCmass???_0.tau"] = 6
    assert.are.same({ 4.5, 6, 6 }, { net.params["WCnet.WCnode_0.WCmassEXC_0.tau"],
      net.params["WCnet.WCnode_1.WCmassEXC_0.tau"], net.params["WCnet.WCnode_2.WCmassEXC_0.tau"] })
    net.params["*WCnode_[1-2].WCmassINH_1.tau"] = 7
    assert.are.equal(7, net.params["WCnet.WCnode_2.WCmassINH_1.tau"])
    assert.are.equal(3.75, net.params["WCnet.WCnode_0.WCmassINH_1.tau"])
    -- a '[' without its ']' is itself, as in fnmatch: it names nothing here
    assert.is_false(pcall(function() net.params["*WCnode_[0.*tau"] = 1 end))
    -- without a '*', '?' and '[...]' are themselves (neurolib globs only keys with '*'), and the
    -- error says so (before: "unknown parameter ...; did you mean ...?" alone); sonify's columns
    -- read them alike (before: 'x.1?' was a glob there)
    local ok, err = pcall(function() net.params["WCnet.WCnode_?.WCmassEXC_0.tau"] = 1 end)
    assert.is_false(ok)
    assert.matches("unknown parameter 'WCnet.WCnode_?.WCmassEXC_0.tau' ('?' and '[...]' are wildcards only in " ..
                   "a key that holds a '*', as neurolib reads names: without one, 'WCnet.WCnode_?.WCmassEXC_0.tau' " ..
                   "is one name)", err, 1, true)
    local res = net:run { duration = 100, dt = 0.1, record = { "q_mean_EXC" } }
    ok, err = pcall(function() res:write_audio("/nonexistent-dir/a.wav", { column = "q_mean_EXC.[01]" }) end)
    assert.is_false(ok)
    assert.matches("no recorded column matches 'q_mean_EXC.[01]' ('?' and '[...]' are wildcards only", err, 1, true)
  end)

  it("refuses a '|' filter that could exclude nothing: empty, a second '|', or a '*'", function()
    -- neurolib allows one filter; a name holds no '|' or '*', so such a filter
    -- would silently leave every match in (and set them all)
    local model = nm.model(wc.node())
    for _, key in ipairs { "*tau|", "*tau|input|EXC", "*tau|*", "*tau|in*" } do
      local ok, err = pcall(function() return model.params[key] end)
      assert.is_false(ok, key)
      assert.matches("params_spec.lua:%d+: .*'" .. key:gsub("%p", "%%%0") .. "'", err)
      ok, err = pcall(function() model.params[key] = 7 end)
      assert.is_false(ok, key)
      assert.matches("params_spec.lua:%d+: ", err)
      assert.are.equal(2.5, model.params["WCnode_0.WCmassEXC_0.tau"])
    end
    assert.is_false(pcall(function() return model.init["*|"] end))
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

-- (cases on a new user's script, moved from user_nodes_spec: helpers.user_script)
local run_case, fails_with = require("helpers").user_script()

describe("model.params and model.init take finite numbers only, as docs/reference.md says", function()
  it("refuses an infinite parameter at the assignment, naming it and the value", function()
    fails_with("m.params['*.a'] = 1/0", { "'*.a'", "finite number", "inf" })
    fails_with("m.params['*.a'] = -1/0", { "'*.a'", "finite number", "-inf" })
    fails_with("m.params['*.a'] = { 1/0 }", { "'*.a'", "element 1", "finite number", "inf" })
  end)
  it("refuses NaN saying what is allowed", function()
    fails_with("m.params['*.w'] = 0/0", { "'*.w'", "finite number", "NaN" })
  end)
  it("refuses an infinite initial state", function()
    fails_with("m.init['*.x'] = 1/0", { "'*.x'", "finite number", "inf" })
  end)
  it("still takes a finite number", function()
    local ok, err = run_case("m.params['*.a'] = 1e300; m.init['*.x'] = -1e300")
    assert.is_true(ok, err)
  end)
end)

describe("a parameter or state name that matches nothing", function()
  it("suggests the nearest name when one is near, as a key that works", function()
    fails_with("m.params['*.aa'] = 1", { "unknown parameter '*.aa'", "did you mean '*.a'?" })
  end)
  it("a key missing the network's label: suggests it with the label's glob, not every node's name", function()
    -- (before: 'OscNode_1.*.a', 'Net.OscNode_1.*.a' without 'Net.', suggested '*.a', which sets every node)
    local code = "local net = nm.network { label = 'Net', nodes = nm.replicate(nm.node { label = 'OscNode', " ..
                 "masses = { Osc() } }, 3), sync = function(n) return { net_x = n:none() } end }; " ..
                 "local m3 = nm.model(net); "
    fails_with(code .. "m3.params['OscNode_1.*.a'] = 1", { "unknown parameter 'OscNode_1.*.a'; did you mean '*.OscNode_1.*.a'?" })
    fails_with(code .. "m3.init['OscNode_2.OscMass_0.x'] = 1",
               { "unknown state variable 'OscNode_2.OscMass_0.x'; did you mean 'Net.OscNode_2.OscMass_0.x'?" })
  end)
  it("names the flat names the key begins first (neurolib's sigma_ou for 'sigma'), then the glob", function()
    for _, set in ipairs { function() return nm.models.fhn.native { sigma = 1 } end,
                           function() nm.models.fhn.native {}.params.sigma = 1 end } do
      local ok, err = pcall(set)
      assert.is_false(ok)
      assert.truthy(tostring(err):find("unknown parameter 'sigma'; did you mean 'sigma_ou' or '*.sigma'?", 1, true),
                    tostring(err))
    end
  end)
  it("lists the names there are when none is near (README: the error says what is allowed)", function()
    fails_with("m.params['*.omega'] = 1", { "unknown parameter '*.omega'", "the names end in", "a, ", "w" })
    fails_with("print(m.params['*.omega'])", { "unknown parameter '*.omega'", "the names end in" })
    fails_with("m.init['*.velocity'] = 1", { "unknown state variable '*.velocity'", "the names end in x, y" })
  end)
end)

describe("a stimulus or series assigned to a matrix of the model", function()
  local net = "local net = nm.network { label = 'Net', nodes = nm.replicate(nm.node { label = 'OscNode', " ..
              "masses = { Osc() } }, 2), connectivity = { { 0, 1 }, { 1, 0 } }, delays = { { 0, 2 }, { 2, 0 } }, " ..
              "sync = function(net) return { net_x = net:additive('x') } end }; local mn = nm.model(net)\n"
  it("is refused naming the matrix and what was given", function()
    fails_with(net .. "mn.params['Net.delays'] = nm.stimulus.StepInput { step_size = 1 }",
               { "'Net.delays' is fixed for a run", "cannot be driven by a stimulus" })
    fails_with(net .. "mn.params['Net.connectivity'] = nm.series { 1, 2 }",
               { "'Net.connectivity' is fixed for a run", "cannot be driven by a series" })
  end)
end)

describe("an input channel's process, neurolib's <mass>.input_k.type", function()
  local error_of = require("helpers").error_of
  it("reads the process's class name; the same name written back is kept; another is refused", function()
    local model = nm.model(nm.models.wc.node())
    local key = "WCnode_0.WCmassEXC_0.input_0"
    assert.are.equal("OrnsteinUhlenbeckProcess", model.params[key .. ".type"])
    model.params[key .. ".type"] = "OrnsteinUhlenbeckProcess"     -- neurolib's params written back
    local err = error_of(function() model.params[key .. ".type"] = "ZeroInput" end)
    assert.matches("params_spec%.lua:%d+: '" .. key:gsub("%.", "%%.") .. "%.type' is the class of the " ..
                   "channel's process %(OrnsteinUhlenbeckProcess%), which a name cannot change: assign a " ..
                   "stimulus to '" .. key:gsub("%.", "%%.") .. "' %(e%.g%. nm%.stimulus%.ZeroInput", err)
    model.params[key] = nm.stimulus.ZeroInput {}
    assert.are.equal("ZeroInput", model.params[key .. ".type"])
    assert.are.same({ [key .. ".type"] = "ZeroInput", ["WCnode_0.WCmassINH_1.input_0.type"] =
                      "OrnsteinUhlenbeckProcess" }, model.params["*.type"])
    model.params[key] = nil
    assert.are.equal("OrnsteinUhlenbeckProcess", model.params[key .. ".type"])
    local glob = error_of(function() model.params["*.input_0.type"] = "WienerProcess" end)
    assert.matches("'WCnode_0.WCmassEXC_0.input_0.type' is the class of the channel's process", glob, nil, true)
    model.params["*EXC*input_0*"] = 0.5             -- a glob over a channel's fields: mu, sigma, tau
    assert.are.equal(0.5, model.params[key .. ".sigma"])
  end)

  it("a white channel is neither an OU process nor read as one", function()
    local W = nm.mass { name = "W", state = { x = 0 }, noise = { { kind = "white", sigma = 1 } },
                        derivatives = function(_, _, u) return { x = u.input_0 } end }
    local model = nm.model(nm.node { masses = { W() } })
    assert.are.equal("WhiteNoise", model.params["*.input_0.type"][next(model.params["*.input_0.type"])])
    assert.are.equal("WhiteNoise", model.params["Node_0.W_0.input_0"])
  end)
end)

describe("a value of the wrong shape", function()
  -- Before: "series for 'K_gl' has 3 channels, 'K_gl' matches 1 values (give 1 or 1)" for a
  -- matrix given to a scalar, and "matches 1 values ... give a number or 1 numbers".
  it("is named as the user gave it, with counts in words", function()
    local C = { { 0, 1, 0.5 }, { 1, 0, 0.2 }, { 0.3, 0.4, 0 } }
    local m = nm.models.hopf.native { Cmat = C }
    local function err(f) local ok, e = pcall(f); assert.is_false(ok); return tostring(e) end
    assert.matches("params_spec%.lua:%d+: 'K_gl' matches 1 value, got a table of 3 rows %(a matrix%?%): " ..
                   "give a number, or a series of samples %(one row%)$",
                   err(function() m.params.K_gl = C end))
    assert.matches("'x_ext' matches 3 values, got a table of 2 rows: give a number, 3 numbers, or a " ..
                   "series of samples per match %(3 rows, or one for all%)$",
                   err(function() m.params.x_ext = { { 1, 2 }, { 3, 4 } } end))
    assert.matches("'K_gl' matches 1 value, got a table of 3 %(give a number or 1 number%)$",
                   err(function() m.params.K_gl = { 1, 2, 3 } end))
    assert.matches("'x_ext' matches 3 values, got a table of 2 %(give a number or 3 numbers%)$",
                   err(function() m.params.x_ext = { 1, 2 } end))
    assert.matches("series for 'x_ext' has 2 channels, 'x_ext' matches 3 values %(give 3 or 1%)$",
                   err(function() m.params.x_ext = nm.series { { 1, 2 }, { 3, 4 } } end))
  end)

  -- Before, "cannot set 'K_gl' to a string": neurolib's habit of a quoted number, unshown.
  it("shows the value of a type it cannot take (a string, a boolean), as other refusals do", function()
    local function err(f) local ok, e = pcall(f); assert.is_false(ok); return e end
    local m = nm.models.hopf.native {}
    assert.matches("params_spec%.lua:%d+: cannot set 'K_gl' to \"0%.6\" %(a string%) %(expected a number",
                   err(function() m.params.K_gl = "0.6" end))
    assert.matches("cannot set 'x_ext' to true %(expected", err(function() m.params.x_ext = true end))
    assert.matches("cannot set 'x_ext' to a function %(expected", err(function() m.params.x_ext = print end))
  end)
end)

describe("a glob whose value is refused", function()
  local function err(f) local ok, e = pcall(f); assert.is_false(ok); return e end

  -- Before: "'*EXC_0.tau' is a time constant (ms): it must be > 0, got -1", not saying which match.
  it("names the glob, the match that refused it and which value of a list it was", function()
    local m = nm.model(nm.models.wc.network({ { 0, 1 }, { 1, 0 } }, nil))
    assert.matches("params_spec%.lua:%d+: '%*EXC_0%.tau' is a time constant %(ms%): it must be > 0, got %-1, " ..
                   "at 'WCnet%.WCnode_1%.WCmassEXC_0%.tau' %(value 2 of the 2%)$",
                   err(function() m.params["*EXC_0.tau"] = { 5, -1 } end))
    assert.matches("'%*EXC_0%.tau' is a time constant %(ms%): it must be > 0, got 0, " ..
                   "at 'WCnet%.WCnode_0%.WCmassEXC_0%.tau'$", err(function() m.params["*EXC_0.tau"] = 0 end))
    -- a name of its own is not repeated; a list over its nodes says which value
    local f = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 1 }, { 1, 0 } } }
    assert.matches("'tau' is a time constant %(ms%): it must be > 0, got %-2 %(value 2 of the 2%)$",
                   err(function() f.params.tau = { 3, -2 } end))
    assert.matches("'tau' is a time constant %(ms%): it must be > 0, got %-2$", err(function() f.params.tau = -2 end))
  end)

  -- Before: "network 'WCnet': connectivity must be a 2x2 matrix (got a number)", the glob unsaid.
  it("names the glob when a structural value it matches refuses it", function()
    local m = nm.model(nm.models.wc.network({ { 0, 1 }, { 1, 0 } }, nil))
    assert.matches("params_spec%.lua:%d+: '%*|x' matches 'WCnet%.connectivity': network 'WCnet': connectivity " ..
                   "must be a 2x2 matrix %(got a number%)$", err(function() m.params["*|x"] = 1 end))
    assert.are.equal(2.5, m.params["WCnet.WCnode_0.WCmassEXC_0.tau"])
  end)

  it("that matches nothing is named with its suggestion", function()
    local m = nm.model(nm.models.wc.network({ { 0, 1 }, { 1, 0 } }, nil))
    assert.matches("unknown parameter '%*EXC_0%.tua'; did you mean '%*%.tau'%?$",
                   err(function() m.params["*EXC_0.tua"] = 1 end))
  end)
end)

describe("input rows of the wrong length", function()
  local function err(f) local ok, e = pcall(f); assert.is_false(ok); return e end
  local C2 = { { 0, 1 }, { 1, 0 } }

  -- Before: "(row 2 has 3 entries)" and "(got 3 rows)", the length wanted or given unsaid.
  it("a connectome's row names the entries it has and those expected, a wrong count of rows their length", function()
    assert.matches("FHNModel: Cmat must be a 2x2 matrix %(row 2 has 3 entries, expected 2%)$",
                   err(function() return nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0, 1 } } } end))
    assert.matches("FHNModel: Dmat must be a 2x2 matrix %(got 3 rows of 3 entries%)$",
                   err(function() return nm.models.fhn.native { Cmat = C2, Dmat = { { 0, 1, 2 }, { 1, 0, 3 }, { 1, 1, 1 } } } end))
    assert.matches("FHNModel: Dmat must be a 2x2 matrix %(got 3 rows%)$",   -- (rows of several lengths: no length)
                   err(function() return nm.models.fhn.native { Cmat = C2, Dmat = { { 0, 1 }, { 1, 0, 3 }, { 1 } } } end))
  end)

  -- Before: no word of the shape being the transpose (numpy's (T, N) of an input where (N, T) is meant).
  it("per match, given with the transposed shape, says transposed? and the shape wanted", function()
    local m = nm.models.fhn.native { Cmat = C2 }
    local T3 = { { 1, 2 }, { 2, 3 }, { 3, 4 } }
    assert.matches("params_spec%.lua:%d+: 'x_ext' matches 2 values, got a table of 3 rows: .*; transposed%? it is 3 " ..
                   "rows of 2 samples: give 2 rows %(one per match%) of 3 samples$", err(function() m.params.x_ext = T3 end))
    assert.matches("series for 'x_ext' has 3 channels, 'x_ext' matches 2 values %(give 2 or 1%); transposed%? it is " ..
                   "3 rows of 2 samples: give 2 rows %(one per match%) of 3 samples$",
                   err(function() m.params.x_ext = nm.series(T3) end))
    -- not the transpose: no such word
    local e = err(function() m.params.x_ext = { { 1, 2, 3 }, { 2, 3 }, { 3, 4 } } end)
    assert.is_nil(e:find("transposed", 1, true), e)
    m.params.x_ext = { { 1, 2, 3 }, { 2, 3, 4 } }     -- the shape wanted is taken
  end)
end)

describe("reading a glob", function()
  -- (before: print(model.params["*TCR*.ext_current"]) printed "table: 0x...")
  it("gives { name = value } that prints its entries in match order, a stimulus as it prints", function()
    local wc = nm.models.wc
    local model = nm.model(wc.network({ { 0, 1 }, { 1, 0 } }, { { 0, 5 }, { 5, 0 } }))
    local step = nm.stimulus.StepInput { step_size = 1, start = 5 }
    model.params["*EXC*.ext_drive"] = step
    local one = model.params["*WCnode_1.*EXC*.ext_drive"]
    assert.equals(step, one["WCnet.WCnode_1.WCmassEXC_0.ext_drive"])
    assert.equals('{ ["WCnet.WCnode_1.WCmassEXC_0.ext_drive"] = StepInput{step_size = 1, start = 5} }', tostring(one))
    assert.equals('{ ["WCnet.WCnode_0.WCmassEXC_0.tau"] = 2.5, ["WCnet.WCnode_1.WCmassEXC_0.tau"] = 2.5 }',
                  tostring(model.params["*EXC_0.tau"]))
    assert.equals('{ ["WCnet.delays"] = { { 0, 5 }, { 5, 0 } } }', tostring(model.params["*.delays"]))
    local n = 0
    for name, v in pairs(model.params["*EXC*.ext_drive"]) do
      n = n + 1
      assert.equals(step, v, name)
    end
    assert.equals(2, n)
    -- given back, it is still refused as what reading a glob gives
    local ok, e = pcall(function() model.params["*EXC_0.tau"] = model.params["*EXC_0.tau"] end)
    assert.is_false(ok)
    assert.truthy(e:find("got a table keyed by names ('WCnet.WCnode_0.WCmassEXC_0.tau', ...: what reading a glob " ..
                         "gives)", 1, true), e)
  end)
end)

describe("print(model.params)", function()
  -- Before: "neuromass.parameters: 0x55...", though pairs() listed every name and value.
  it("lists its names and values compactly, a long list shortened with how many more", function()
    local hopf = nm.models.hopf.native {}
    hopf.params.a = nm.series { 1, 2, 3 }
    local text = tostring(hopf.params)
    local n = 0
    for _ in pairs(hopf.params) do n = n + 1 end
    assert.truthy(n > 16)
    local head = string.format("neuromass.parameters (%d): { a = <series of 3 values>, w = 0.2, x_ext = 0, ", n)
    assert.equals(head, text:sub(1, #head))
    local tail = string.format(", ... and %d more (pairs() lists them all, neuromass info too) }", n - 16)
    assert.equals(tail, text:sub(-#tail), text)
    local hcp = nm.datasets.load("hcp")
    local fhn = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat }
    fhn.params.x_ext = nm.stimulus.StepInput { step_size = 1, n = 80 }
    local taus = {}
    for i = 1, 80 do taus[i] = 20 + i end
    fhn.params.tau = taus
    text = tostring(fhn.params)
    assert.truthy(text:find("tau = <80 values>, x_ext = StepInput{step_size = 1, n = 80}", 1, true), text)
    assert.is_nil(text:find("0x", 1, true), text)
    -- a short list is shown whole
    local M = nm.mass { label = "M", state = { z = 0 }, params = { k = 0.25, name_of = 2 },
                        derivatives = function(st, p) return { z = -p.k * st.z } end }
    local whole = tostring(nm.model(nm.node { label = "N", masses = { M() } }).params)
    assert.equals("neuromass.parameters (2): { N_0.M_0.k = 0.25, N_0.M_0.name_of = 2 }", whole)
  end)
end)
