-- output_mode_spec.lua: every output written under a temporary name and
-- renamed into place (atomic_file.c) keeps the permission bits of a file it
-- replaces, and a new one has 0666 less the umask: CSV (run's output.csv,
-- res:write_csv), BOLD, WAV and FLAC (libsndfile's own 0644 not), PNG.
local h = require "helpers"

local SCRIPT = [[
local nm = require "neuromass"
local dir = arg[1]
local m = nm.models.hopf.native {}
local res = m:run { duration = 2100, dt = 0.1, sampling_dt = 1, bold = true, record = { "x" },
                    output = { csv = dir .. "/run.csv", bold = dir .. "/bold.csv",
                               audio = { path = dir .. "/run.wav" } } }
res:write_csv(dir .. "/res.csv")
res:write_audio(dir .. "/res.flac")
nm.plot.timeseries(res, { out = dir .. "/fig.png", size = { 320, 200 } })
]]
local FILES = { "run.csv", "bold.csv", "run.wav", "res.csv", "res.flac", "fig.png" }

local function run(dir, umask)
  local status, _, err = h.sh("umask " .. umask .. " && " .. h.q(h.exe) .. " run " .. h.q(dir .. "/s.lua") ..
                              " " .. h.q(dir))
  assert.are.equal(0, status, err)
end

local function modes(dir)
  local out = {}
  for _, f in ipairs(FILES) do
    local p = io.popen("stat -c %a " .. h.q(dir .. "/" .. f))
    out[f] = p:read("l")
    p:close()
  end
  return out
end

local function all(mode)
  local out = {}
  for _, f in ipairs(FILES) do out[f] = mode end
  return out
end

describe("an output file's permission bits", function()
  it("are 0666 less the umask for a new file, and those of the file it replaces", function()
    local dir = h.scratch()
    h.write(dir .. "/s.lua", SCRIPT)
    run(dir, "002")
    assert.are.same(all("664"), modes(dir))
    for _, f in ipairs(FILES) do os.remove(dir .. "/" .. f) end
    run(dir, "027")
    assert.are.same(all("640"), modes(dir))
    for i, f in ipairs(FILES) do
      assert.are.equal(0, (h.sh("chmod " .. (i % 2 == 0 and "600" or "604") .. " " .. h.q(dir .. "/" .. f))))
    end
    run(dir, "000")
    local kept = {}
    for i, f in ipairs(FILES) do kept[f] = i % 2 == 0 and "600" or "604" end
    assert.are.same(kept, modes(dir))
    for _, f in ipairs(FILES) do                  -- rewritten, not left as they were
      local size = io.open(dir .. "/" .. f, "rb"):seek("end")
      assert.is_true(size > 0, f)
    end
  end)
end)
