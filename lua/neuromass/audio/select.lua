--- Which signals a sonification takes: the candidate columns of a result, a
-- run or a CSV (VAR.NODE names), and the choice among them by `variable` and
-- `nodes` or by `column` (the library's globs, as for model.params:
-- params.matcher).
local check = require "neuromass._check"
local params = require "neuromass.params"
local matcher = params.matcher
local fail = require("neuromass.audio.check").fail

local type, ipairs, table, tonumber, math = type, ipairs, table, tonumber, math

local M = {}

-- "VAR.NODE" -> "VAR", NODE (an integer); nil for other names.
local function split_name(name)
  local var, node = name:match("^(.+)%.(%d+)$")
  if var then return var, math.tointeger(tonumber(node)) end
end

-- Candidate signals as select_inputs reads them: { n, get(k) -> name, var,
-- node (var nil when the column is no VAR.NODE signal), entry(k) -> the
-- input's table }.  From a list of { name, var, node, ... } entries:
local function candidates_of(list)
  return { n = #list, entry = function(k) return list[k] end,
           get = function(k) local c = list[k]; return c.name, c.var, c.node end }
end

--- select.select(what, level, opts, cand): the signals chosen from the candidate
-- columns `cand` (see candidates_of); returns the chosen candidates' indices, in order.  Nothing is built per
-- candidate, so that a selection can be counted (and refused by its size)
-- before its entries are made.
function M.select(what, level, opts, cand)
  local n, get = cand.n, cand.get
  local out = {}
  local any = false
  for k = 1, n do
    local _, var = get(k)
    if var then any = true; break end
  end
  if not any then fail(what, level, "no variable was recorded (no column is a VAR.NODE signal): nothing to play") end
  if opts.column ~= nil then
    if opts.variable ~= nil or opts.nodes ~= nil then
      fail(what, level, "give either 'column' or 'variable'/'nodes', not both")
    end
    local globs = type(opts.column) == "table" and opts.column or { opts.column }
    if check.not_list_key(globs) then
      fail(what, level, "'column' must be a glob such as 'x.*' or a list of them, got %s", check.show(globs))
    end
    if #globs == 0 then fail(what, level, "'column' = {} names no column: give a glob such as 'x.*'") end
    local matches = {}
    for i, g in ipairs(globs) do
      if type(g) ~= "string" then fail(what, level, "'column' must be a glob such as 'x.*'") end
      local bad = params.filter_problem(g)
      if bad then fail(what, level, "'column' glob %s", bad) end
      matches[i] = matcher(g)
    end
    for k = 1, n do
      local name, var = get(k)
      if var then
        for _, match in ipairs(matches) do
          if match(name) then out[#out + 1] = k; break end
        end
      end
    end
    if #out == 0 then
      local names = {}
      for k = 1, n do
        local name, var = get(k)
        if var then names[#names + 1] = name end
        if #names > 6 then break end
      end
      local hints = {}
      for _, g in ipairs(globs) do hints[#hints + 1] = params.no_glob_hint(g) end
      fail(what, level, "no recorded column matches '%s'%s (columns: %s%s)", table.concat(globs, "', '"),
           table.concat(hints), table.concat(names, ", ", 1, math.min(#names, 6)), #names > 6 and ", ..." or "")
    end
    return out
  end
  local vars, seen = {}, {}
  for k = 1, n do
    local _, v = get(k)
    if v and not seen[v] then seen[v] = true; vars[#vars + 1] = v end
  end
  local var = opts.variable or vars[1]
  if type(var) ~= "string" then fail(what, level, "'variable' must be a variable name") end
  if not seen[var] then
    fail(what, level, "'%s' was not recorded (recorded: %s)%s", var, table.concat(vars, ", "),
         check.suggest(var, vars))
  end
  local nodes = opts.nodes
  if nodes == nil then
    for k = 1, n do
      local _, v = get(k)
      if v == var then out[#out + 1] = k end
    end
    return out
  end
  if math.type(nodes) == "integer" then nodes = { nodes } end
  if type(nodes) ~= "table" or check.not_list_key(nodes) then
    fail(what, level, "'nodes' must be a list of node indices (0-based), got %s", check.show(nodes))
  end
  if #nodes == 0 then
    fail(what, level, "'nodes' = {} names no node: give node indices (0-based), or leave 'nodes' out " ..
         "for every node that has '%s'", var)
  end
  local wanted = {}
  for _, i in ipairs(nodes) do
    if math.type(i) ~= "integer" then fail(what, level, "'nodes' must be a list of node indices (0-based)") end
    if wanted[i] == false then fail(what, level, "'nodes' names node %d twice", i) end   -- (played twice)
    wanted[i] = false
  end
  for k = 1, n do
    local _, v, node = get(k)
    if v == var and wanted[node] == false then wanted[node] = k end
  end
  for _, i in ipairs(nodes) do
    if not wanted[i] then fail(what, level, "node %d has no recorded '%s'", i, var) end
    out[#out + 1] = wanted[i]
  end
  return out
end

-- Candidate columns of a result or CSV: { name, var, node, col } for VAR.NODE names.
local function columns_of(names)
  local cols = {}
  for i, name in ipairs(names) do
    local var, node = split_name(name)
    if var and i > 1 then cols[#cols + 1] = { name = name, var = var, node = node, col = i - 1 } end
  end
  return cols
end

-- The candidates of a CSV (see candidates_of), read from its header one name
-- at a time: nothing is built for the columns that are not chosen.
local function csv_candidates(reader)
  return {
    n = reader:columns() - 1,
    get = function(k) local name = reader:name(k); return name, split_name(name) end,
    entry = function(k)
      local name = reader:name(k)
      local var, node = split_name(name)
      return { name = name, var = var, node = node, col = k }
    end,
  }
end

--- select.node_count(cand) -> the nodes a source's VAR.NODE signals cover:
-- its highest node + 1 (as neuromass plot counts a CSV's nodes), 0 when none.
function M.node_count(cand)
  local count = 0
  for k = 1, cand.n do
    local _, var, node = cand.get(k)
    if var then count = math.max(count, node + 1) end
  end
  return count
end

M.candidates_of = candidates_of
M.columns_of = columns_of
M.csv_candidates = csv_candidates
return M
