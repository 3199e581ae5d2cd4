-- examples_spec.lua: every examples/*.lua runs through the executable and
-- exits 0 (outputs go to a temporary --out directory, removed afterwards).
local h = require "helpers"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local _, listing = h.sh("ls " .. q(h.top .. "/examples"))
local examples = {}
for name in listing:gmatch("[^\n]+") do
  if name:match("%.lua$") then examples[#examples + 1] = name end
end

describe("examples", function()
  local _, dir = h.sh("mktemp -d")
  dir = dir:gsub("%s+$", "")
  teardown(function() h.sh("rm -rf " .. q(dir)) end)

  it("there are some", function()
    assert.is_true(#examples > 0)
  end)

  for _, name in ipairs(examples) do
    it(name .. " runs and exits 0", function()
      local out = dir .. "/" .. name:gsub("%.lua$", "")
      local status, _, err = h.sh(q(h.exe) .. " run " .. q(h.top .. "/examples/" .. name) ..
                                  " --out " .. q(out) .. " --quiet")
      assert.equals(0, status, err)
    end)
  end
end)
