-- output_level_spec.lua: the output checks (outputs.check, paths.resolve)
-- raise at the user's line found on the stack, as the library's other checks
-- (check.error).  They counted levels from the check, which under
-- pcall(obj.method, obj, ...) or after a tail call (`return m:run{...}`)
-- points at C: "output.audio '-' is also output.csv" lost its script:LINE.
-- The running script, refused as an output, was found the same way: under
-- pcall(m.run, m, ...) it was not found, and a run overwrote it.
local nm = require "neuromass"
local h = require "helpers"

describe("an output refused under pcall", function()
  teardown(h.remove_scratch)

  it("names the user's line, called by pcall or through a tail call", function()
    local m = nm.models.hopf.native { a = 1 }
    local dir = h.scratch()
    for _, out in ipairs {
      { { csv = "-", audio = "-" }, "run: output.audio '-' is also output.csv" },
      { { csv = dir .. "/nothere/a.csv" }, "run: output.csv '" .. dir .. "/nothere/a.csv': the directory" },
      { { csv = dir .. "/" }, "run: output.csv '" .. dir .. "/' names a directory" },
      { { csv = "" }, "run: output.csv must be a non-empty path, got ''" },
    } do
      local opts = { duration = 10, dt = 0.1, output = out[1] }
      local ok, err = pcall(m.run, m, opts)
      assert.is_false(ok)
      assert.matches("^.-output_level_spec%.lua:%d+: ", err)
      assert.truthy(err:find(out[2], 1, true), err)
      ok, err = pcall(function() return m:run(opts) end)
      assert.is_false(ok)
      assert.matches("^.-output_level_spec%.lua:%d+: ", err)
    end
  end)

  it("refuses the running script as an output under pcall(m.run, m, ...)", function()
    local dir = h.scratch()
    local script = "local nm = require 'neuromass'\n" ..
                   "local m = nm.models.hopf.native { a = 1 }\n" ..
                   "print(select(2, pcall(m.run, m, { duration = 10, dt = 0.1, output = { csv = 's.lua' } })))\n"
    h.write(dir .. "/s.lua", script)
    local s, out = h.sh("cd " .. h.q(dir) .. " && " .. h.q(h.exe) .. " run s.lua")
    assert.equals(0, s)
    assert.equals("s.lua:3: run: output.csv 's.lua' is the running script: it would be overwritten\n", out)
    assert.equals(script, h.read(dir .. "/s.lua"))
  end)
end)
