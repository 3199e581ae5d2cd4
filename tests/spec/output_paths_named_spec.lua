-- output_paths_named_spec.lua: a refused output path names the option and
-- the value given (run's output.bold / output.csv, write_csv, write_audio),
-- at the user's line; a directory that refuses new files (/proc) is refused
-- with the reason of the call that failed (creating the temporary file),
-- before anything is integrated.
local nm = require "neuromass"

local function refusal(f)
  local ok, err = pcall(f)
  assert.is_false(ok)
  return err
end

describe("output paths, named", function()
  local m = nm.models.fhn.native {}
  local res = m:run { duration = 10, dt = 0.1 }

  it("an empty path names the option and the value", function()
    local line = "^[^:]*output_paths_named_spec%.lua:%d+: "
    assert.matches(line .. "run: output%.bold must be a non%-empty path, got ''$",
                   refusal(function() m:run { duration = 10, bold = true, output = { bold = "" } } end))
    assert.matches(line .. "run: output%.csv must be a non%-empty path, got ''$",
                   refusal(function() m:run { duration = 10, output = { csv = "" } } end))
    assert.matches(line .. "write_csv's path must be a non%-empty path, got ''$",
                   refusal(function() res:write_csv("") end))
    assert.matches(line .. "write_audio: expected a file name %(%.wav, %.flac or %.ogg%), got \"\" %(a string%)",
                   refusal(function() res:write_audio("") end))
    assert.matches(line .. "run: output%.audio: expected a file name .*got \"\"",
                   refusal(function() m:run { duration = 10, output = { audio = { path = "" } } } end))
  end)

  it("a directory that takes no new file (/proc) gives the failing call's reason, before the run", function()
    local line = "^[^:]*output_paths_named_spec%.lua:%d+: "
    -- (before: the name printed as '/proc/version.tmp-PID.HOST', its placeholders unfilled)
    local temp = require("neuromass.core").temp_name("/proc/version")
    assert.matches("^/proc/version%.tmp%-%d+%.[^.]", temp)
    local why = "cannot create a file in '/proc' %(creating its temporary file '" .. temp:gsub("%p", "%%%0") ..
                "' failed: No such file or directory%)$"
    assert.matches(line .. "run: output%.bold '/proc/version': " .. why,
                   refusal(function() m:run { duration = 10, bold = true, output = { bold = "/proc/version" } } end))
    assert.matches(line .. "run: output%.csv '/proc/version': " .. why,
                   refusal(function() m:run { duration = 10, output = { csv = "/proc/version" } } end))
    assert.matches(line .. "write_csv: '/proc/version': " .. why,
                   refusal(function() res:write_csv("/proc/version") end))
  end)
end)
