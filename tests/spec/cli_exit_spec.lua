-- cli_exit_spec.lua: how the `neuromass` executable ends: a script that
-- cannot be loaded is named.
local h = require "helpers"

local q = h.q

local dir
setup(function() dir = h.scratch() end)
teardown(h.remove_scratch)

--- Writes the file `name` of the scratch directory; returns its path.
local function write(name, text)
  h.write(dir .. "/" .. name, text)
  return dir .. "/" .. name
end

describe("a script that cannot be loaded", function()
  -- Before: "neuromass: attempt to load a binary chunk (mode is 't')", no file named.
  it("is named with the reason", function()
    local script = write("compiled.lua", "\27Lua\84\0")
    local status, _, err = h.sh(q(h.exe) .. " run " .. q(script))
    assert.are.equal(1, status)
    assert.are.equal("neuromass: " .. script .. ": attempt to load a binary chunk (mode is 't')\n", err)
  end)
end)
