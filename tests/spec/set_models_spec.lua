-- set_models_spec.lua: the command line's --set applies to each model of a
-- script that has its name (run/options.lua); a later model without it is
-- left as is, said once per model on stderr, while a name that no model
-- took so far is an error at once, before the run's work.
local h = require "helpers"

-- Runs `script` (Lua text) under `neuromass run` with the arguments after it.
local function run(script, ...)
  local dir = h.scratch()
  h.write(dir .. "/s.lua", script)
  local cmd = { h.q(h.exe), "run", h.q(dir .. "/s.lua"), "--out", h.q(dir) }
  for _, a in ipairs { ... } do cmd[#cmd + 1] = h.q(a) end
  local status, out, err = h.sh(table.concat(cmd, " ") .. " 2>&1 >" .. h.q(dir .. "/stdout"))
  return status, err .. out, dir
end

local fhn_then_wc = [[
local nm = require "neuromass"
local f = nm.models.fhn.native {}
f:run { duration = 10 }:write_csv("fhn.csv")
io.stderr:write("fhn tau = ", f.params.tau, "\n")
local w = nm.models.wc.native {}
w:run { duration = 10 }
w:run { duration = 10 }
io.stderr:write("wc tau_exc = ", w.params.tau_exc, "\n")
]]

describe("--set over several models", function()
  it("applies to the models that have the name and leaves the others, said once per model", function()
    local status, err, dir = run(fhn_then_wc, "--set", "tau=10")
    assert.are.equal(0, status, err)
    assert.truthy(err:find("fhn tau = 10", 1, true), err)
    assert.truthy(err:find("wc tau_exc = 2.5", 1, true), err)
    local note = "neuromass: warning: model 'WCModel' has no parameter named by --set tau=10: left as is"
    local at = err:find(note, 1, true)
    assert.truthy(at, err)
    assert.falsy(err:find(note, at + 1, true), "said once: " .. err)
    assert.truthy(io.open(dir .. "/fhn.csv"), "the FHN run's output is written")
  end)

  it("is an error at the first model's run when no model so far has the name (a typo)", function()
    local status, err, dir = run(fhn_then_wc, "--set", "tua=10")
    assert.are.equal(1, status)
    assert.truthy(err:find("s.lua:3: --set tua: unknown parameter 'tua'", 1, true), err)
    assert.falsy(io.open(dir .. "/fhn.csv"), "nothing was written")
  end)

  it("is an error at a model without it when it is the first model run", function()
    local wc_then_fhn = [[
local nm = require "neuromass"
nm.models.wc.native {}:run { duration = 10 }
nm.models.fhn.native {}:run { duration = 10 }
]]
    local status, err = run(wc_then_fhn, "--set", "tau=10")
    assert.are.equal(1, status)
    assert.truthy(err:find("s.lua:2: --set tau: unknown parameter 'tau'", 1, true), err)
    -- (before: the message read as if no model had 'tau'; it says how to set a later model's)
    assert.truthy(err:find("(a --set must name a parameter of the first model the script runs; for one that " ..
                           "only a later model has, set it in the script: model.params[\"tau\"] = ", 1, true), err)
  end)
end)
