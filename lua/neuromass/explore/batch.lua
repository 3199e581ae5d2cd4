--- Batches of an exploration (BoxSearch's `batch = K`): the points of a
-- single-node native model (nm.models.X.native without Cmat) integrated
-- together as the K uncoupled nodes of one model, which the engine runs as
-- the lanes of one compiled program (layout.lua), then split into K results,
-- each what a separate run of its point gives, bit for bit: every lane runs
-- the operations a separate run does, on its point's parameters and initial
-- state, and its noise channels draw the streams the separate run would
-- (core.sim's per-channel stream seeds: core.noise_stream_seed(point seed,
-- channel)).  What cannot batch (M.refusal) runs separately (search.lua).
local core = require "neuromass.core"
local layout = require "neuromass.layout"
local result = require "neuromass.result"
local native = require "neuromass.models._native"

local ipairs, pairs, rawget, setmetatable, string, table, tostring, tonumber, next, pcall =
      ipairs, pairs, rawget, setmetatable, string, table, tostring, tonumber, next, pcall

local M = {}

--- The batch size "auto" asks for.
M.AUTO = 64

--- The batched runs made so far and the lanes they ran (for tests and benches).
M.stats = { runs = 0, lanes = 0 }

-- Integrators that choose their own steps (over every lane at once): they
-- cannot give the steps of a separate run.
local ADAPTIVE = { rkf45 = true, rk8pd = true, msbdf = true }

--- batch.run_refusal(run, save) -> why runs of these options cannot batch,
-- or nil: BOLD, per-point files, continued runs, adaptive integrators.
function M.run_refusal(run, save)
  if run.bold then return "run.bold (BOLD is computed per run)" end
  if next(save) then return "save (per-point files are written by each run)" end
  if run.continue then return "run.continue" end
  if run.integrator and ADAPTIVE[run.integrator] then
    return "integrator = \"" .. tostring(run.integrator) .. "\" (adaptive steps)"
  end
  return nil
end

--- batch.refusal(m, names) -> why model `m` (its point's values set) cannot
-- run in a batch, or nil: not a zoo native model, several nodes, a
-- time-varying input or stimulus, a slow mass (a Lua callback), or a
-- parameter of the space (`names`) that is not a plain value (a structural
-- value or an initial state: it would change the model's structure).
function M.refusal(m, names)
  local spec = rawget(m, "native_spec")
  if not spec then return "the model is not a native model of nm.models" end
  if #m.net.nodes ~= 1 then return "the model has " .. #m.net.nodes .. " nodes (one-node models batch)" end
  if next(m.drive) then return "the model has a time-varying input or a stimulus" end
  for _, g in ipairs(m.layout.groups) do
    if g.type.slow then return "the model has a slow mass (a Lua callback)" end
  end
  for _, name in ipairs(names) do
    for _, e in ipairs(m.registry:match(name)) do
      if not e.slots then return "'" .. name .. "' is not a plain parameter (structural or an initial state)" end
    end
  end
  return nil
end

-- The noise channels of model `m` in the engine's order (compile.lua's):
-- { node, mass, c } each.
local function channels(m)
  local list = {}
  for _, g in ipairs(m.layout.groups) do
    for _, lane in ipairs(g.lanes) do
      for c = 1, #g.type.noise do list[#list + 1] = { node = lane.node, mass = lane.mass, c = c } end
    end
  end
  return list
end

-- The structural values of a native model (ALN's de, di), as a list.
local function structural_of(m)
  local out = {}
  local names = {}
  for k in pairs(m.native_spec.structural or {}) do names[#names + 1] = k end
  table.sort(names)
  for j, k in ipairs(names) do out[j] = { k, m.params[k] } end
  return out
end

-- The kind of a native model: its label and mass types (a model built
-- anew for each point is of the same kind as the others).
local function kind_of(m)
  local parts = { m.native_spec.label }
  for _, g in ipairs(m.layout.groups) do parts[#parts + 1] = tostring(g.type) end
  return table.concat(parts, " ")
end

-- The batched models built so far: kind -> { [K] = the K-node model }.
local built = {}

-- The K-node model of m's kind (built once per kind and size).
local function batched(m, K)
  local kind = kind_of(m)
  local per = built[kind]
  if not per then per = {}; built[kind] = per end
  if not per[K] then per[K] = native.build(m.native_spec, { Cmat = core.matrix_zeros(K) }, 1) end
  return per[K]
end

-- Loads the values and initial state of one-node model `m` into node k of `B`.
local function load(B, k, m)
  local LB, Lm = B.layout, m.layout
  for j in ipairs(m.net.nodes[1].masses) do
    local gm, lm = Lm.lane_of[1][j][1], Lm.lane_of[1][j][2]
    local gb, lb = LB.lane_of[k][j][1], LB.lane_of[k][j][2]
    local t = gm.type
    for _, p in ipairs(t.param_names) do
      B.values[layout.param_slot(gb, p, lb)] = m.values[layout.param_slot(gm, p, lm)]
    end
    for c = 1, #t.noise do
      local name = "input_" .. (c - 1)
      for _, f in ipairs { ".mu", ".sigma", ".tau" } do
        B.values[layout.param_slot(gb, name .. f, lb)] = m.values[layout.param_slot(gm, name .. f, lm)]
      end
      -- where the channel's process starts: compiled into the model (a rebuild when it changes)
      local xb, xm = layout.input_slot(gb, name, lb), layout.input_slot(gm, name, lm)
      if B.noise_x0[xb] ~= m.noise_x0[xm] then B.noise_x0[xb] = m.noise_x0[xm]; B.dirty = true end
    end
    for _, list in ipairs { t.state_names, t.output_names } do
      for _, v in ipairs(list) do B.v0[LB.sig[k][j][v]] = m.v0[Lm.sig[1][j][v]] end
    end
  end
end

-- The network-level values and structural values of `m`, as one string:
-- the points of one batch must agree on them.
local function shared_key(m)
  local parts = { kind_of(m) }
  local names = {}
  for k in pairs(m.layout.global) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do parts[#parts + 1] = k .. "=" .. string.format("%a", m.values[m.layout.global[k]]) end
  for _, kv in ipairs(structural_of(m)) do parts[#parts + 1] = kv[1] .. "=" .. string.format("%a", kv[2]) end
  return table.concat(parts, ";")
end
M.shared_key = shared_key

--- batch.new() -> an empty batch; batch:add(m, seed) loads model `m` (one
-- node, its point's values set: taken now, so a shared model may change
-- after) as the next lane, with the point's run seed; false when it cannot
-- join (another model kind, other network-level or structural values).
local Batch = {}
Batch.__index = Batch

function M.new(K) return setmetatable({ K = K, models = {}, seeds = {}, snap = {} }, Batch) end

function Batch:add(m, seed)
  local key = shared_key(m)
  if self.key and key ~= self.key then return false end
  self.key = self.key or key
  local k = #self.models + 1
  if k == 1 then self.first = m; self.structural = structural_of(m) end
  -- the point's values now (a shared model is set to the next point before the batch runs)
  local snap = { values = {}, v0 = {}, noise_x0 = {} }
  for field, t in pairs(snap) do
    for s, x in pairs(m[field]) do t[s] = x end
  end
  self.snap[k] = snap
  self.models[k], self.seeds[k] = m, seed
  return true
end

function Batch:size() return #self.models end

--- batch:run(opts) -> a list of results, one per lane, each as model:run
-- of that lane's model with { opts, seed = its seed } gives; or nil and the
-- error (the points then run separately).
function Batch:run(opts)
  local K = #self.models
  local first = self.first
  local B = batched(first, K)
  for _, kv in ipairs(self.structural) do
    if B.params[kv[1]] ~= kv[2] then B.params[kv[1]] = kv[2] end
  end
  for k, m in ipairs(self.models) do
    local view = setmetatable({ values = self.snap[k].values, v0 = self.snap[k].v0,
                                noise_x0 = self.snap[k].noise_x0 }, { __index = function(_, f) return m[f] end })
    load(B, k, view)
  end
  for name, slot in pairs(B.layout.global) do B.values[slot] = self.snap[1].values[first.layout.global[name]] end
  -- each lane's channels draw the streams of its point's separate run
  local local_index = {}
  for n, ch in ipairs(channels(first)) do local_index[ch.mass .. "/" .. ch.c] = n - 1 end
  local streams = {}
  for n, ch in ipairs(channels(B)) do
    streams[n] = core.noise_stream_seed(self.seeds[ch.node], local_index[ch.mass .. "/" .. ch.c])
  end
  B.noise_streams = streams
  local ok, res = pcall(B.run, B, opts)
  B.noise_streams = nil
  if not ok then return nil, res end
  M.stats.runs, M.stats.lanes = M.stats.runs + 1, M.stats.lanes + K
  local out = {}
  for k, m in ipairs(self.models) do
    local names, cols = { res.columns[1] }, { 0 }
    for c = 2, #res.columns do
      local var, node = res.columns[c]:match("^(.*)%.(%d+)$")
      if node and tonumber(node) == k - 1 then
        names[#names + 1] = var .. ".0"
        cols[#cols + 1] = c - 1
      end
    end
    local data = rawget(res, "data")
    local r = result.new(m, { names = names, vars = res.variables }, data and data:select(cols) or nil,
                         res.sampling_dt)
    r.dt, r.duration = res.dt, res.duration
    out[k] = r
  end
  return out
end

return M
