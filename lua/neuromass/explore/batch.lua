--- Batches of an exploration (BoxSearch's `batch = K`): the points of a
-- native model (nm.models.X.native, one node or a network of N) integrated
-- together as one model of K x N nodes whose coupling is block-diagonal
-- (each point's network its own block, with its own gains: layout.lane_globals),
-- which the engine runs as the lanes of one compiled program (layout.lua),
-- then split into K results, each what a separate run of its point gives,
-- bit for bit: every lane runs the operations a separate run does, on its
-- point's parameters and initial state, every coupling row sums its block's
-- terms in the separate run's order, and each lane's noise channels draw the
-- streams the separate run would (core.sim's per-channel stream seeds:
-- core.noise_stream_seed(point seed, channel)).  Points of one batch share
-- their structure (Cmat, Dmat, signalV, structural values); a batch holds as
-- many points as its delay history and recorded output allow (M.capacity).
-- What cannot batch (M.refusal) runs separately (search.lua).
local core = require "neuromass.core"
local keyorder = require "neuromass.keyorder"
local layout = require "neuromass.layout"
local result = require "neuromass.result"
local native = require "neuromass.models._native"
local options = require "neuromass.run.options"
local plan = require "neuromass.run.plan"

local ipairs, pairs, rawget, rawequal, setmetatable, string, table, tostring, tonumber, next, pcall, math, type =
      ipairs, pairs, rawget, rawequal, setmetatable, string, table, tostring, tonumber, next, pcall, math, type

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
-- run in a batch, or nil: not a zoo native model, a network with a custom
-- coupling (it sees the whole network: Kuramoto's), a time-varying input or
-- stimulus, a slow mass (a Lua callback), or a parameter of the space
-- (`names`) that is not a plain value (a structural value or an initial
-- state: it would change the model's structure).
function M.refusal(m, names)
  local spec = rawget(m, "native_spec")
  if not spec then return "the model is not a native model of nm.models" end
  if #m.net.nodes > 1 then
    for a, rule in keyorder.pairs(m.rules) do
      if rule.kind == "custom" then return "the network's coupling '" .. a .. "' is a custom rule" end
    end
  end
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

-- The structure of model `m` the points of one batch share, as one string:
-- its label, mass types, nodes, coupling rules (kind, mode, variable: FHN's
-- coupling option), signalV and structural values (Cmat and Dmat are
-- compared apart, as packs: Batch:add).
local function structure_key(m)
  local parts = { m.native_spec.label, #m.net.nodes }
  for _, g in ipairs(m.layout.groups) do parts[#parts + 1] = tostring(g.type) end
  local inputs = {}
  for a in pairs(m.rules) do inputs[#inputs + 1] = a end
  table.sort(inputs)
  for _, a in ipairs(inputs) do
    local r = m.rules[a]
    parts[#parts + 1] = a .. ":" .. tostring(r.kind) .. ":" .. tostring(r.mode) .. ":" .. tostring(r.var)
  end
  parts[#parts + 1] = "signalV=" .. string.format("%a", m.params.signalV)
  for _, kv in ipairs(structural_of(m)) do parts[#parts + 1] = kv[1] .. "=" .. string.format("%a", kv[2]) end
  return table.concat(parts, ";")
end

-- The bytes a batch may give the delay history: beyond about what one
-- core's cache keeps at hand, the coupling sums of all the blocks read a
-- ring that no longer stays in cache, and the batch runs slower than its
-- points one by one (FHN on HCP, 80 nodes, 245760 bytes a point at dt = 0.1
-- ms: 2 points in one batch took 1.12-1.15 x the time of separate runs).
M.HISTORY_BYTES = 256 * 1024

-- The nodes a batch may have: its model is built with dense K N x K N
-- matrices (Cmat, Dmat and what derives from them), checked and compiled in
-- time and memory that grow as (K N)^2; and a network of many nodes gains
-- nothing (its coupling sums, N^2 terms a point, dominate the steps: 64
-- points of FHN on HCP without delays took 1.5 x the time of separate runs).
M.MAX_NODES = 512

--- batch.capacity(m, run, K) -> how many points like model `m` (its point's
-- values set) one batch of at most K holds for the run options `run`:
-- K, capped so that the batch's K x N nodes stay within M.MAX_NODES, its
-- delay history's ring (K times one point's) within M.HISTORY_BYTES, and
-- what it holds in memory (K times one point's delay history at its peak
-- and recorded output: the points' results are views of the batch's,
-- Batch:run) within a quarter of the memory the process may take
-- (core.memory()).  One point's needs are the run's own memory model
-- (run/plan.lua memory_need, on the point's engine model, built for run's
-- dt when it is not yet).  At least 1 (a point on its own).
function M.capacity(m, run, K)
  local n = #m.net.nodes
  local cap = math.min(K, M.MAX_NODES // n)
  local ok, o = pcall(options.read, m, run, nil, 1)
  local built, cm = false, nil
  if ok then built, cm = pcall(plan.engine_model, m, o.dt, false, 1) end
  if not built then return 1 end                   -- (its own run reports the error)
  local _, peak, ring, rows = plan.memory_need(cm, 0, o.n_steps, o.n_steps // o.every, 1 + #o.cols.sigs)
  if ring > 0 then cap = math.min(cap, M.HISTORY_BYTES // ring) end
  if peak + rows > 0 then cap = math.min(cap, math.floor(core.memory() / 4 / (peak + rows))) end
  return math.max(1, math.tointeger(cap) or 1)
end

-- Whether the n x n matrix `m` has the entries packed in `pack` (core.matrix_check).
local function same(m, n, nonneg, pack)
  local ok, p = core.matrix_check(m, n, nonneg, pack)
  return ok and rawequal(p, pack)
end

-- The batched models built so far (the last few): { key, C, D (packs), K, model }.
local built = {}
local KEEP_BUILT = 4

-- The block-diagonal K N x K N matrix of K copies of the n x n matrix `m`
-- (integer zeros elsewhere).
local function blocks(m, n, K)
  local out = core.matrix_zeros(K * n)
  for k = 0, K - 1 do
    for i = 1, n do
      local row, from = out[k * n + i], m[i]
      for j = 1, n do row[k * n + j] = from[j] end
    end
  end
  return out
end

-- The model of K blocks of the batch's structure (built once per structure
-- and K, among the last few): one network-level parameter slot per lane.
local function batched(self, K)
  for _, e in ipairs(built) do
    if e.key == self.key and e.K == K and same(self.C, self.n, false, e.C) and same(self.D, self.n, true, e.D) then
      return e.model
    end
  end
  local B = native.build(self.first.native_spec, { Cmat = blocks(self.C, self.n, K), Dmat = blocks(self.D, self.n, K),
                                                   signalV = self.V }, 1)
  layout.lane_globals(B.layout)
  -- its matrices are the batch's own, never edited: no check of their (K N)^2
  -- entries before every run (Network:same_matrices, for a user's tables)
  B.net.same_matrices = function() return true end
  for _, kv in ipairs(self.structural) do B.params[kv[1]] = kv[2] end
  table.insert(built, 1, { key = self.key, C = self.C_pack, D = self.D_pack, K = K, model = B })
  built[KEEP_BUILT + 1] = nil
  return B
end

-- Loads the values and initial state of model `m` (n nodes) into block k of `B`.
local function load(B, k, m, n)
  local LB, Lm = B.layout, m.layout
  for i = 1, n do
    local b = (k - 1) * n + i
    for j in ipairs(m.net.nodes[i].masses) do
      local gm, lm = Lm.lane_of[i][j][1], Lm.lane_of[i][j][2]
      local gb, lb = LB.lane_of[b][j][1], LB.lane_of[b][j][2]
      local t = gm.type
      for _, p in ipairs(t.param_names) do
        B.values[layout.param_slot(gb, p, lb)] = m.values[layout.param_slot(gm, p, lm)]
      end
      for name, slot in pairs(gb.lane_global) do B.values[slot + lb] = m.values[Lm.global[name]] end
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
        for _, v in ipairs(list) do B.v0[LB.sig[b][j][v]] = m.v0[Lm.sig[i][j][v]] end
      end
    end
  end
end

-- What M.capacity reads of the run options `run` and of model `m`'s
-- defaults, as one string.
local function sizes_key(run, m)
  local record = run.record or m.default_record
  if type(record) == "table" then record = table.concat(record, ",") end
  return table.concat({ tostring(run.dt or m.default_dt), tostring(run.duration or m.default_duration),
                        tostring(run.sampling_dt), tostring(record), tostring(run.output) }, ";")
end

-- The capacities found so far (M.capacity): { key, D (Dmat's pack), K, cap }, the last few.
local capacities = {}

-- The capacity of batch `self`, whose first point is model `m`.
local function capacity_of(self, m)
  local key = self.key .. ";" .. sizes_key(self.run_opts, m)
  for _, e in ipairs(capacities) do
    if e.key == key and e.K == self.K and same(m.params.Dmat, self.n, true, e.D) then return e.cap end
  end
  local cap = M.capacity(m, self.run_opts, self.K)
  table.insert(capacities, 1, { key = key, D = self.D_pack, K = self.K, cap = cap })
  capacities[KEEP_BUILT + 1] = nil
  return cap
end

--- batch.new(K, run, auto) -> an empty batch of at most K points for the
-- run options `run` (`auto`: batch = "auto", which batches one-node models
-- only: a network's points measured no faster batched, see docs/explore.md);
-- batch:add(m, seed) adds model `m` (its point's values set: taken now, so
-- a shared model may change after) as the next block, with the point's run
-- seed; false when it cannot join (another structure, or the
-- batch is full: batch:full()).
local Batch = {}
Batch.__index = Batch

function M.new(K, run, auto)
  return setmetatable({ K = K, run_opts = run or {}, auto = auto, models = {}, seeds = {}, snap = {} },
                      Batch)
end

function Batch:add(m, seed)
  if self:full() then return false end
  local key = structure_key(m)
  local n = #m.net.nodes
  if self.key then
    if key ~= self.key then return false end
    if not (same(m.params.Cmat, n, false, self.C_pack) and same(m.params.Dmat, n, true, self.D_pack)) then
      return false
    end
  else
    local okC, C = core.matrix_check(m.params.Cmat, n, false, true)
    local okD, D = core.matrix_check(m.params.Dmat, n, true, true)
    if not (okC and okD) then return false end
    -- the structure now: the matrices (checked against their packs when the batch runs)
    self.key, self.n, self.first, self.structural = key, n, m, structural_of(m)
    self.C, self.D, self.C_pack, self.D_pack, self.V = m.params.Cmat, m.params.Dmat, C, D, m.params.signalV
    self.cap = (self.auto and n > 1) and 1 or capacity_of(self, m)
  end
  local k = #self.models + 1
  -- the point's values now (a shared model is set to the next point before the batch runs)
  local snap = { values = {}, v0 = {}, noise_x0 = {} }
  for field, t in pairs(snap) do
    for s, x in pairs(m[field]) do t[s] = x end
  end
  self.snap[k] = snap
  self.models[k], self.seeds[k] = m, seed
  return true
end

--- batch:full() -> whether the batch holds as many points as it can.
function Batch:full() return self.cap ~= nil and #self.models >= self.cap end

function Batch:size() return #self.models end

--- batch:run(opts) -> a list of results, one per lane, each as model:run
-- of that lane's model with { opts, seed = its seed } gives; or nil and the
-- error (the points then run separately).
function Batch:run(opts)
  local K, n = #self.models, self.n
  local first = self.first
  if not (same(self.C, n, false, self.C_pack) and same(self.D, n, true, self.D_pack)) then
    return nil, "Cmat or Dmat changed after the batch's first point joined it"
  end
  local B = batched(self, K)
  for k, m in ipairs(self.models) do
    local view = setmetatable({ values = self.snap[k].values, v0 = self.snap[k].v0,
                                noise_x0 = self.snap[k].noise_x0 }, { __index = function(_, f) return m[f] end })
    load(B, k, view, n)
  end
  for name, slot in pairs(B.layout.global) do B.values[slot] = self.snap[1].values[first.layout.global[name]] end
  -- each block's channels draw the streams of its point's separate run
  local local_index = {}
  for c, ch in ipairs(channels(first)) do local_index[ch.node .. "/" .. ch.mass .. "/" .. ch.c] = c - 1 end
  local streams = {}
  for c, ch in ipairs(channels(B)) do
    local k, i = (ch.node - 1) // n + 1, (ch.node - 1) % n + 1
    streams[c] = core.noise_stream_seed(self.seeds[k], local_index[i .. "/" .. ch.mass .. "/" .. ch.c])
  end
  B.noise_streams = streams
  local ok, res = pcall(B.run, B, opts)
  B.noise_streams = nil
  if not ok then return nil, res end
  M.stats.runs, M.stats.lanes = M.stats.runs + 1, M.stats.lanes + K
  -- block k's columns, in the batch's order (variable-major, node order): a separate run's
  local names, cols = {}, {}
  for k = 1, K do names[k], cols[k] = { res.columns[1] }, { 0 } end
  for c = 2, #res.columns do
    local var, node = res.columns[c]:match("^(.*)%.(%d+)$")
    node = tonumber(node)
    local k = node // n + 1
    names[k][#names[k] + 1] = var .. "." .. (node % n)
    cols[k][#cols[k] + 1] = c - 1
  end
  -- (views of the batch's rows, not copies: l_result.c's split)
  local data = rawget(res, "data")
  local lanes = data and data:split(cols) or {}
  local out = {}
  for k, m in ipairs(self.models) do
    local r = result.new(m, { names = names[k], vars = res.variables }, lanes[k], res.sampling_dt)
    r.dt, r.duration = res.dt, res.duration
    out[k] = r
  end
  return out
end

return M
