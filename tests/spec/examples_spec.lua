-- examples_spec.lua: every examples/*.lua runs through the executable and
-- exits 0 (outputs go to a temporary --out directory, removed afterwards);
-- the study (study_aln_gw.lua, 5 minutes by default: `make study`) runs 16 s
-- of simulated time, its printed lines and its figure checked.
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
    if name == "study_aln_gw.lua" or name == "explore_aln.lua" then goto next end
    it(name .. " runs and exits 0", function()
      local out = dir .. "/" .. name:gsub("%.lua$", "")
      local status, _, err = h.sh(q(h.exe) .. " run " .. q(h.top .. "/examples/" .. name) ..
                                  " --out " .. q(out) .. " --quiet")
      assert.equals(0, status, err)
    end)
    ::next::
  end

  -- neuromass info builds and describes, integrates nothing and writes no
  -- file: every example (the study too, whose FC is then of no sample) runs
  -- through on the empty results, and says nothing was written (before:
  -- sonify_alpha printed "wrote .../alpha_audified.wav: 0.00 s", explore_aln
  -- "wrote explore_aln/max_rate.png" and its table, fhn_network, custom_mass and
  -- stimulus "wrote ..." of files not written).
  for _, name in ipairs(examples) do
    it(name .. " runs under neuromass info, writing nothing", function()
      local out = dir .. "/info-" .. name:gsub("%.lua$", "")
      local status, stdout, err = h.sh(q(h.exe) .. " info " .. q(h.top .. "/examples/" .. name) ..
                                       " --out " .. q(out) .. " --quiet")
      assert.equals(0, status, err)
      local _, files = h.sh("ls -A " .. q(out) .. " 2>/dev/null")
      assert.equals("", files)
      assert.is_nil(stdout:find("wrote", 1, true), stdout)
      assert.is_nil(stdout:find("results.csv", 1, true), stdout)
      if name == "study_aln_gw.lua" then       -- (issue 11: it claims no FC and no figure it did not make)
        assert.truthy(stdout:find("neuromass info integrates nothing: no BOLD, no FC, no figure", 1, true), stdout)
        assert.is_nil(stdout:find("FC correlation", 1, true), stdout)
        assert.is_nil(stdout:find("wrote", 1, true), stdout)
      end
    end)
  end

  -- explore_aln.lua's default grid (8 x 8, some 20 s a core) is made 3 x 3 here.
  it("explore_aln.lua 3: a 3 x 3 grid on 2 workers, its table and its two heat maps", function()
    local out = dir .. "/explore"
    local status, stdout, err = h.sh(q(h.exe) .. " run " .. q(h.top .. "/examples/explore_aln.lua") ..
                                     " --out " .. q(out) .. " --quiet --workers 2 3")
    assert.equals(0, status, err)
    assert.truthy(stdout:find("ALN on gw: 9 points (0 failed)", 1, true), stdout)
    local csv = h.read_csv(out .. "/explore_aln/results.csv")
    assert.same({ "point", "mue_ext_mean", "mui_ext_mean", "seed", "dominant_frequency", "max_rate", "status" },
                csv.header)
    assert.equals(9, csv.rows)
    assert.same({ 0, 0, 0, 1.5, 1.5, 1.5, 3, 3, 3 }, csv.cols.mue_ext_mean)
    for _, png in ipairs { "max_rate.png", "dominant_frequency.png" } do
      local f = assert(io.open(out .. "/explore_aln/" .. png, "rb"))
      assert.equals("\137PNG", f:read(4))
      f:close()
    end
  end)

  -- Its header promises another noise realisation with --seed 7: the OU stimulus had a seed of its
  -- own (kept whatever the run's seed), so the CSV was the same bit for bit.
  it("stimulus.lua --seed 7: another noise realisation, as its header says; --seed 1 is the default", function()
    local function csv(opts)
      local out = dir .. "/stimulus-seed" .. opts:gsub("%W", "")
      local status, _, err = h.sh(q(h.exe) .. " run " .. q(h.top .. "/examples/stimulus.lua") ..
                                  " --out " .. q(out) .. " --quiet " .. opts)
      assert.equals(0, status, err)
      local f = assert(io.open(out .. "/stimulus.csv"))
      local text = f:read("a")
      f:close()
      return text
    end
    local default, seven = csv(""), csv("--seed 7")
    assert.not_equals(default, seven)
    assert.equals(default, csv("--seed 1"))
  end)

  -- A mistyped duration ran the default 40 s silently.
  it("sonify_alpha.lua: an argument that is no duration is refused at the script's line", function()
    for _, given in ipairs({ "400s", "x", "0", "-5", "0.00005" }) do
      local status, _, err = h.sh(q(h.exe) .. " run " .. q(h.top .. "/examples/sonify_alpha.lua") ..
                                  " --out " .. q(dir .. "/bad") .. " --quiet " .. given)
      assert.equals(1, status, given)
      assert.truthy(err:find("sonify_alpha.lua:%d+: the argument is the simulated time, a positive number of " ..
                             "seconds %(whole ms%), got '" .. given:gsub("%p", "%%%0") .. "'"), err)
    end
  end)

  it("study_aln_gw.lua 16: the FC of BOLD after 10 s against each gw subject, and the figure", function()
    local out = dir .. "/study"
    local status, stdout, err = h.sh(q(h.exe) .. " run " .. q(h.top .. "/examples/study_aln_gw.lua") ..
                                     " --out " .. q(out) .. " --quiet 16")
    assert.equals(0, status, err)
    local lines = {}
    for line in stdout:gmatch("[^\n]+") do lines[#lines + 1] = line end
    -- t_BOLD = 0.1, 2000.1, ..., 14000.1 ms: the 5 samples up to 10 s are dropped, 3 are kept.
    assert.equals("ALN on gw, 16 s: 8 BOLD samples per region, FC of the 3 after t = 10 s", lines[1])
    local ds = require("neuromass").datasets.load("gw")
    local sum = 0
    for i, subject in ipairs(ds.subjects) do
      local r = lines[i + 1]:match("^  subject " .. subject .. " +FC correlation (%-?%d%.%d%d%d)$")
      assert.truthy(r, lines[i + 1])
      assert.is_true(math.abs(tonumber(r)) < 1)
      sum = sum + tonumber(r)
    end
    local mean = lines[#ds.subjects + 2]:match("^  mean over 5 subjects: (%-?%d%.%d%d%d)$")
    assert.truthy(mean, lines[#ds.subjects + 2])
    assert.is_true(math.abs(tonumber(mean) - sum / #ds.subjects) <= 0.0005 + 1e-12)
    assert.equals("wrote " .. out .. "/study_aln_gw.png", lines[#ds.subjects + 3])
    assert.equals(#ds.subjects + 3, #lines)
    local f = assert(io.open(out .. "/study_aln_gw.png", "rb"))
    local png = f:read("a")
    f:close()
    assert.equals("\137PNG\r\n\26\n", png:sub(1, 8))
    assert.same({ 1800, 600 }, { (string.unpack(">I4", png, 17)), (string.unpack(">I4", png, 21)) })
    assert.is_true(#png > 20000, #png .. " bytes")
  end)

  -- 12 s leaves 1 BOLD sample after 10 s (an FC of NaN, a blank figure): 16 s leave the 3 an FC needs.
  it("study_aln_gw.lua: an argument that is no duration, or too short for an FC, is refused at the script's line",
     function()
    for _, given in ipairs({ "5", "12", "15", "16.5", "x" }) do
      local status, _, err = h.sh(q(h.exe) .. " run " .. q(h.top .. "/examples/study_aln_gw.lua") ..
                                  " --out " .. q(dir .. "/bad") .. " --quiet " .. given)
      assert.equals(1, status, given)
      assert.truthy(err:find("study_aln_gw.lua:%d+: the argument is the simulated time, a whole number of " ..
                             "seconds from 16 on %(BOLD, one sample per 2 s, before 10 s is dropped; an FC " ..
                             "needs 3 samples after it%), got '" .. given:gsub("%p", "%%%0") .. "'"), err)
    end
  end)
end)
