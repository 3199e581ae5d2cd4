-- explore_array_mix_spec.lua: a Slurm array task (issue 13) that finds in
-- its out folder the parts of an array of another space says so and writes
-- nothing, rather than replacing the count of points the merge reads (a
-- silent mix of two explorations); the array's own tasks then merge to the
-- table of one process, bit for bit.
local h = require "helpers"

local q, scratch = h.q, h.scratch

teardown(h.remove_scratch)

-- A BoxSearch of NPTS points (6 by default) into arg[1].
local SCRIPT = [[
local nm = require "neuromass"
local xs = {}
for i = 1, tonumber(os.getenv("NPTS") or "6") do xs[i] = i / 10 end
nm.explore.BoxSearch { model = function() return nm.models.fhn.native {} end,
  space = nm.explore.ParameterSpace { x_ext = xs }, run = { duration = 1, dt = 0.1, seed = 1 },
  evaluate = function(res, p) return { m = p.x_ext * 2, last = res.x[1][#res.x[1] ] } end, out = arg[1] }:run()
]]

-- Runs the script as task `task` of 3 of a Slurm array (env: a shell prefix): status, out, err.
local function task(s, dir, t, env)
  return h.sh((env or "") .. "SLURM_ARRAY_TASK_ID=" .. t .. " SLURM_ARRAY_TASK_COUNT=3 " .. q(h.exe) .. " run " ..
              q(s) .. " " .. q(dir))
end

describe("a Slurm array task in a folder of another array's parts", function()
  it("is refused, naming the other exploration's count of points, and the parts stay the array's", function()
    local s = h.script(SCRIPT)
    local dir = scratch() .. "/o"
    assert.equals(0, (task(s, dir, 0)))
    local status, _, err = task(s, dir, 1, "NPTS=7 ")
    assert.equals(1, status, err)
    assert.matches("s.lua:4: BoxSearch: '" .. dir .. "/parts' holds the parts of another exploration: a search of 6 " ..
                   "points with run seed 1 (parts/points.txt), this task's (1 of 3) is of 7 with run seed 1: join " ..
                   "them first (neuromass explore --merge " .. dir .. ")", err, 1, true)
    assert.equals("6 1\n", h.read(dir .. "/parts/points.txt"))
    assert.is_nil(io.open(dir .. "/parts/task-1-of-3.csv"))
    for t = 1, 2 do assert.equals(0, (task(s, dir, t))) end
    local merged, _, merr = h.sh(q(h.exe) .. " explore --merge " .. q(dir))
    assert.equals(0, merged, merr)
    local one = scratch() .. "/one"
    assert.equals(0, (h.sh(q(h.exe) .. " run " .. q(s) .. " " .. q(one))))
    assert.equals(h.read(one .. "/results.csv"), h.read(dir .. "/results.csv"))
  end)
end)

-- Before: "join the parts with: neuromass explore --merge /tmp/arr dir", which a pasted command splits in two.
describe("an array task's hint to join the parts", function()
  it("quotes a folder that a shell would split, and the pasted command joins them", function()
    local s = h.script(SCRIPT)
    local dir = scratch() .. "/arr dir"
    local hint
    for t = 0, 2 do
      local status, _, err = task(s, dir, t)
      assert.equals(0, status, err)
      hint = err:match("join the parts with: ([^\n]*)")
    end
    assert.equals("neuromass explore --merge '" .. dir .. "'", hint)
    local merged, _, merr = h.sh(q(h.exe) .. hint:gsub("^neuromass", ""))
    assert.equals(0, merged, merr)
    local one = scratch() .. "/one"
    assert.equals(0, (h.sh(q(h.exe) .. " run " .. q(s) .. " " .. q(one))))
    assert.equals(h.read(one .. "/results.csv"), h.read(dir .. "/results.csv"))
  end)

  it("leaves a plain folder as it is", function()
    local check = require "neuromass._check"
    assert.equals("/tmp/a-b_c.d/e", check.shell_word("/tmp/a-b_c.d/e"))
    assert.equals("'/tmp/a b'", check.shell_word("/tmp/a b"))
    assert.equals("'it'\\''s'", check.shell_word("it's"))
    assert.equals("''", check.shell_word(""))
  end)
end)
