-- doc_blocks_spec.lua: every ```lua block of README.md and docs/*.md runs
-- through the executable and exits 0, so that a function, option or field
-- renamed in the library fails here rather than in a reader's hands.  A
-- block that goes on from an earlier one (its `res`, `model`, `ds`, ...) is
-- given that context as a preamble; long runs are made short by exact
-- substitutions, each of which must match the block once (an edit of the
-- block then shows up here).  A block without a case, or a case without its
-- block, fails: add or mend the case.
local h = require "helpers"
local q = h.q

-- The ```lua blocks of a page, in order: { { text = ..., line = n }, ... }.
local function blocks_of(page)
  local found, current = {}, nil
  local n = 0
  for line in (h.read(h.top .. "/" .. page) .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    if current then
      if line:match("^```") then
        found[#found + 1] = current
        current = nil
      else
        current.text = current.text .. line .. "\n"
      end
    elseif line:match("^```lua%s*$") then
      current = { text = "", line = n + 1 }
    end
  end
  return found
end

local pages = { "README.md" }
do
  local _, listing = h.sh("ls " .. q(h.top .. "/docs"))
  for name in listing:gmatch("[^\n]+") do
    if name:match("%.md$") then pages[#pages + 1] = "docs/" .. name end
  end
end

local blocks = {}          -- "PAGE:K" -> { text, line }
for _, page in ipairs(pages) do
  for k, b in ipairs(blocks_of(page)) do blocks[page .. ":" .. k] = b end
end

-- `text` with each { from, to } replaced, every `from` found exactly once.
local function substituted(text, subs, key)
  for _, s in ipairs(subs or {}) do
    local a, b = text:find(s[1], 1, true)
    assert(a, key .. ": the substitution's text is not in the block any more: " .. s[1])
    assert(not text:find(s[1], b + 1, true), key .. ": the substitution's text is in the block twice: " .. s[1])
    text = text:sub(1, a - 1) .. s[2] .. text:sub(b + 1)
  end
  return text
end

-- A block's text as a case uses it (for a preamble that repeats it).
local function block(key, subs)
  assert(blocks[key], "no block " .. key)
  return substituted(blocks[key].text, subs, key)
end

local NM = 'local nm = require "neuromass"\n'
local HCP = NM .. 'local hcp = nm.datasets.load("hcp")\n'
local FHN80 = HCP .. 'local model = nm.models.fhn.native { Cmat = hcp.Cmat, Dmat = hcp.Dmat, K_gl = 0.6 }\n'
-- 12 regions of hcp, for the figures that do not need all 80 (gnuplot
-- takes seconds to draw 80 stacked traces).
local FHN12 = HCP .. [[
local C, D = {}, {}
for i = 1, 12 do C[i], D[i] = table.move(hcp.Cmat[i], 1, 12, 1, {}), table.move(hcp.Dmat[i], 1, 12, 1, {}) end
local model = nm.models.fhn.native { Cmat = C, Dmat = D, K_gl = 0.6 }
]]
local MODEL_SCRIPT = function() return block("README.md:1", { { "duration = 2000", "duration = 500" } }) end

-- Each case: pre (the context the block goes on from), subs (shorter runs),
-- post (a check that the block did what its comment says).
local cases = {
  ["README.md:1"] = { post = 'assert(#x3 == 2000 and #res:matrix("x") == 80)\n' },
  ["README.md:2"] = { pre = HCP, subs = { { "duration = 1000", "duration = 200" } },
                      post = 'assert(#res:get("y", 79) == 2000)\n' },
  ["README.md:3"] = { pre = NM .. "local aln, thalamus = nm.models.aln, nm.models.thalamus\n",
                      post = "assert(nm.model(net):run { duration = 10 }:rows() > 0)\n" },
  ["README.md:4"] = { pre = MODEL_SCRIPT, subs = { { "duration = 60000", "duration = 1000" } } },
  ["README.md:5"] = {
    pre = function()
      return MODEL_SCRIPT() .. [[
local ds = nm.datasets.load("gw")
local f, P = nm.func.getMeanPowerSpectrum(res:matrix("x"), 1.0)
local fc = nm.func.fc(res:matrix("x"))
local r = nm.func.matrix_correlation(fc, ds.FCs[1])
res = model:run { duration = 4000, dt = 0.1, sampling_dt = 1.0, record = { "x" }, bold = { variable = "x" } }
]]
    end },
  ["README.md:6"] = { pre = NM, subs = { { "duration = 300000", "duration = 14000" } } },   -- skip 5 leaves 2
  ["README.md:7"] = { pre = NM, subs = { { "duration = 2000", "duration = 200" } } },
  ["README.md:8"] = {
    pre = HCP .. "local ds = hcp\n" .. [[
local target = nm.models.fhn.native { Cmat = ds.Cmat, Dmat = ds.Dmat, K_gl = 0.6 }
local fc = nm.func.fc(target:run { duration = 200, dt = 0.1, seed = 7 }:matrix("x"))
]],
    subs = { { "duration = 1000", "duration = 200" }, { "evaluations = 30", "evaluations = 4" } } },
  ["docs/bold.md:1"] = { pre = HCP, subs = { { "duration = 300000", "duration = 4000" } },
                         post = "assert(#res.t_BOLD == 2 and res.t_BOLD[1] == 0.1)\n" },
  ["docs/explore.md:1"] = { subs = { { "duration = 2000", "duration = 200" } },
                            post = 'assert(results.n == 6 and results.rows[6].ok)\n' },
  ["docs/explore.md:2"] = { pre = NM, subs = { { "linspace(0, 3, 8), nm.explore.linspace(0, 3, 8)",
                                                 "linspace(0, 3, 2), nm.explore.linspace(0, 3, 2)" },
                                               { "duration = 2000", "duration = 200" } } },
  ["docs/explore.md:3"] = { subs = { { "duration = 1000", "duration = 200" }, { "evaluations = 30", "evaluations = 4" } } },
  ["docs/reference.md:1"] = { post = 'local x = res:get("x", 0)[2000]\n' ..
                                     'assert(math.abs(x - 1.4011860116214172) < 1e-6, x)\n' },
  ["docs/mpi.md:1"] = { pre = NM .. [[
local m = nm.models.fhn.native {}
local search = nm.explore.BoxSearch {
  model = function() return m end, out = "sweep", run = { duration = 100 },
  space = nm.explore.ParameterSpace({ { "x_ext", { 0, 1 } }, { "K_gl", { 0, 1 } } }),
  evaluate = function(res) return { max_rate = math.max(table.unpack(res:get("x"))) } end,
}
]] },
  ["docs/plotting.md:1"] = { pre = FHN12, subs = { { "duration = 2000", "duration = 200" } } },
  ["docs/plotting.md:2"] = { pre = FHN12, subs = { { "duration = 300000", "duration = 4000" } } },
  ["docs/plotting.md:3"] = { pre = FHN12 .. [[
local res = model:run { duration = 2000 }
local _, P0 = nm.func.getPowerSpectrum(res:get("x", 0), res.sampling_dt, { maxfr = 40 })
local _, P1 = nm.func.getPowerSpectrum(res:get("x", 1), res.sampling_dt, { maxfr = 40 })
]] },
  ["docs/plotting.md:4"] = { pre = NM .. 'local res = { BOLD = nm.datasets.load("gw").BOLDs[2] }\n' },
  ["docs/plotting.md:5"] = { pre = NM .. 'local res = { BOLD = nm.datasets.load("gw").BOLDs[2] }\n' },
  ["docs/plotting.md:6"] = { pre = FHN80 .. 'local ds = nm.datasets.load("gw")\n',
                             subs = { { "duration = 300000", "duration = 14000" } } },
  ["docs/plotting.md:7"] = { pre = FHN80 .. "local res = model:run { duration = 4000, bold = true }\n" },
  ["docs/stimulus.md:1"] = { post = "assert(#a == 2 and #a[1] == 10000)\n" },
  ["docs/stimulus.md:2"] = { pre = function() return block("docs/stimulus.md:1") end,
                             post = "assert(#once:as_array(10, 1) == 2 and #s:as_array(100, 1)[1] == 100)\n" },
  ["docs/stimulus.md:3"] = {
    -- A model with every mass the block drives: FHN's x_ext, two ALN nodes
    -- (conc has 2 channels) and two WC nodes (ou has 2).
    pre = function()
      return block("docs/stimulus.md:1") .. [[
local M = nm.models
local model = nm.model(nm.network {
  label = "Mixed", nodes = { M.fhn.node(), M.aln.node(), M.aln.node(), M.wc.node(), M.wc.node() },
  sync = function(net)
    return { network_x = net:none(), network_y = net:none(), network_exc_exc = net:none(),
             network_exc_exc_sq = net:none(), network_inh_exc = net:none() }
  end,
})
]]
    end,
    post = "assert(model:run { duration = 2000 }:rows() == 20000)\n" },
}

-- Runs every case's script, three at a time (most of their time is gnuplot's
-- and the engine's on other cores), each in a folder of its own: the
-- statuses and messages by key.
local function run_all(keys)
  local root = h.scratch()
  local list, results = {}, {}
  for i, key in ipairs(keys) do
    local case, dir = cases[key], root .. "/" .. i
    local ok, script = pcall(function()
      local pre = type(case.pre) == "function" and case.pre() or case.pre or ""
      return pre .. block(key, case.subs) .. (case.post or "")
    end)
    if not ok then
      results[key] = { status = "not run", err = tostring(script) }    -- a substitution that no longer matches
    elseif blocks[key] then
      h.sh("mkdir " .. q(dir))
      h.write(dir .. "/block.lua", script)
      h.write(dir .. "/run.sh", "cd " .. q(dir) .. " && " .. q(h.exe) ..
              " run block.lua --quiet --workers 1 >out 2>err; echo $? >rc\n")
      list[#list + 1] = dir
    end
  end
  h.write(root .. "/list", table.concat(list, "\n") .. "\n")
  h.sh("xargs -P 3 -I DIR sh DIR/run.sh <" .. q(root .. "/list"))
  for i, key in ipairs(keys) do
    local dir = root .. "/" .. i
    local rc = io.open(dir .. "/rc")
    if rc then
      results[key] = { status = tonumber(rc:read("a")), err = h.read(dir .. "/err") }
      rc:close()
    end
  end
  return results
end

describe("the documentation's Lua blocks", function()
  teardown(h.remove_scratch)

  it("each has a case here, and each case a block", function()
    for key in pairs(blocks) do assert.truthy(cases[key], key .. " (line " .. blocks[key].line .. ") has no case") end
    for key in pairs(cases) do assert.truthy(blocks[key], "case " .. key .. " has no block any more") end
  end)

  local keys = {}
  for key in pairs(cases) do keys[#keys + 1] = key end
  table.sort(keys)
  local results
  for _, key in ipairs(keys) do
    it(key .. " runs", function()
      assert.truthy(blocks[key], "no block " .. key)
      results = results or run_all(keys)
      local r = assert(results[key], key .. ": its script did not run")
      assert.equals(0, r.status, key .. " (line " .. blocks[key].line .. "): " .. r.err)
    end)
  end
end)
