--- Networks: nodes coupled by a structural connectivity matrix ([to, from])
-- with per-connection delays, and the `sync` rules that say which variable of
-- the sending nodes drives which input of the receiving masses.
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local core = require "neuromass.core"
local expr = require "neuromass.expr"
local nodemod = require "neuromass.node"
local massmod = require "neuromass.mass"
local bold = require "neuromass.run.bold"
local view = require "neuromass.view"

local type, ipairs, pairs, setmetatable, string, getmetatable, tostring, table, math, rawequal =
      type, ipairs, pairs, setmetatable, string, getmetatable, tostring, table, math, rawequal

-- Every error of this file is reported at the user's line (_check.lua).
local error = check.error

local M = {}

local Network = {}
Network.__index = Network
Network.__name = "neuromass.Network"

local net_fields = { name = true, label = true, nodes = true, connectivity = true,
                     delays = true, lengths = true, signal_speed = true, sync = true,
                     params = true, bold = true }

-- TVB's words for a network's fields (its Connectivity and Simulator): what ours are.
local speed_hint = "is signal_speed here (mm/ms), with lengths (mm)"
local tvb_fields = {
  weights = "; TVB's weights are connectivity here (n x n, [to][from], as TVB's simulator reads w_ij: " ..
            "node i receives from node j)",
  tract_lengths = "; TVB's tract_lengths are lengths here (mm), with signal_speed (mm/ms)",
  conduction_speed = "; TVB's conduction_speed " .. speed_hint,
  speed = "; TVB's speed " .. speed_hint,
  coupling = "; TVB's coupling is the sync function here: sync = function(net) return { input = rule } end, " ..
             "where net:additive(var, { gain = a }) is Linear(a) and net:diffusive(var, { gain = a }) is " ..
             "Difference(a) (docs/porting.md, \"Coming from TVB\")",
}

local zeros = core.matrix_zeros

--- Checks a signal speed in mm/ms (a network's signal_speed, a native
-- model's signalV): a finite number > 0, or 0 for no delays (neurolib's
-- signalV = 0), or an error naming `what`.
function M.check_speed(v, what, level)
  if v ~= 0 and (not check.finite(v) or v < 0) then
    error(string.format("%s must be a finite number > 0 (mm/ms), or 0 for no delays, got %s", what,
                        check.show(v)), level + 1)
  end
  return v
end

--- The first entry [i][j] of the n x n lengths L (mm) whose delay L[i][j] /
-- speed (mm/ms) is not finite, a speed that small: i, j, L[i][j]; nil when
-- there is none.  (A native model's Dmat and signalV, a network's lengths and
-- signal_speed.)
function M.infinite_delay(L, n, speed)
  for i = 1, n do
    local row = L[i]
    for j = 1, type(row) == "table" and n or 0 do
      local l = row[j]
      if type(l) == "number" and not check.finite(l / speed) then return i, j, l end
    end
  end
end

-- The error of a signal_speed (mm/ms) that makes the delay lengths[i][j] / speed infinite.
-- (A lengths matrix read from a file: the entry's line and column in it.)
local function infinite_delay_error(self, i, j, l, lengths)
  error(string.format("network '%s': signal_speed = %s (mm/ms) makes delays[%d][%d] = lengths[%d][%d] / " ..
                      "signal_speed = %s / %s infinite%s; use a larger signal_speed", self.label,
                      check.show(self.signal_speed), i, j, i, j, check.show(l), check.show(self.signal_speed),
                      check.matrix_origin_text(lengths, { i, j })), 3)
end

-- What a nodes[i] that is not a node probably is, and what to write instead.
local function not_a_node_hint(v)
  local mt = getmetatable(v)
  if mt == massmod.Mass or mt == massmod.MassType then
    return " (a mass: put masses in a node, nm.node { masses = { ... } })"
  elseif type(v) == "table" and getmetatable(v[1]) == nodemod.Node then
    return " (a list of nodes, as nm.replicate returns: put its nodes in the list itself, e.g. " ..
           "local nodes = nm.replicate(a, 3); nodes[4] = b)"
  end
  return ""
end

--- nil when the function `fn` takes at most `n` parameters (or is a vararg
-- one), else its parameters as messages name them: "2 parameters (net, i)".
-- (A sync function is called with the sync object alone, a custom rule with
-- the node's index alone: their other parameters would be nil.)
function M.extra_params(fn, n)
  local info = debug.getinfo(fn, "u")
  if info.isvararg or info.nparams <= n then return nil end
  local names = {}
  for k = 1, info.nparams do names[k] = debug.getlocal(fn, k) end
  return string.format("%s (%s)", check.nouns(info.nparams, "parameter"), table.concat(names, ", "))
end

-- The one form of a custom rule, for messages.
local CUSTOM_FORM = "function(i) return <expression> end, i the 0-based index of the receiving node " ..
                    "(read the senders inside it: net:weight(i, j) * net:delayed(j, \"x\") for j = 0 .. net.n - 1)"

-- A custom rule `fn` taking more than one parameter: the message, else nil.
-- `what` names the rule ("custom coupling 'net_x'", "net:custom").
local function rule_arity(fn, what)
  local params = M.extra_params(fn, 1)
  return params and string.format("%s: a custom rule is called with the receiving node's index alone: " ..
                                  "%s; this one takes %s: all but the first would be nil", what, CUSTOM_FORM,
                                  params)
end

--- Makes a network (docs/reference.md): nodes, connectivity [to][from], delays (ms)
-- or lengths (mm) with signal_speed (mm/ms), params, sync.  Every matrix is
-- n x n of finite numbers (lengths and delays >= 0); n <= check.MAX_NODES.
function M.network(def)
  check.fields(def, net_fields, "network", 2, tvb_fields)
  local label = check.label(def, "network", "Net")
  local nodes = def.nodes
  if type(nodes) ~= "table" or #nodes == 0 then
    error(string.format("network '%s': 'nodes' must be a non-empty list of nodes", label), 2)
  end
  local bad = check.list_problem(nodes, "'nodes'")     -- ({ [0] = a, b }: a unseen)
  if bad then error(string.format("network '%s': %s", label, bad), 2) end
  check.count(#nodes, string.format("network '%s': the number of nodes", label), check.MAX_NODES, 2)
  for i, nd in ipairs(nodes) do
    if getmetatable(nd) ~= nodemod.Node then
      error(string.format("network '%s': nodes[%d] is not a node, got %s%s", label, i, check.show(nd),
                          not_a_node_hint(nd)), 2)
    end
  end
  local n = #nodes
  local self = setmetatable({ name = def.name or label, label = label, nodes = {} }, Network)
  for i, nd in ipairs(nodes) do self.nodes[i] = nd:copy() end
  local what = "network '" .. label .. "': "
  self.connectivity = check.matrix(def.connectivity or zeros(n), n, what .. "connectivity", 2)
  if def.delays and def.lengths then
    error(what .. "give either 'delays' (ms) or 'lengths' (mm) with 'signal_speed', not both", 2)
  end
  if def.lengths then
    local lengths, packed = check.matrix(def.lengths, n, what .. "lengths", 2, true, true)
    if def.signal_speed == nil then
      error(what .. "'lengths' needs 'signal_speed' (mm/ms)", 2)
    end
    M.check_speed(def.signal_speed, what .. "signal_speed", 2)
    -- signal_speed = 0: no delays, as a native model's signalV = 0 (the lengths checked, then unused).
    if def.signal_speed ~= 0 then
      self.lengths, self.signal_speed = lengths, def.signal_speed
      if not select(2, core.matrix_derive(packed, n, "div", def.signal_speed)) then   -- (finite?)
        local i, j, l = M.infinite_delay(lengths, n, def.signal_speed)
        infinite_delay_error(self, i, j, l, def.lengths)
      end
    end
  elseif def.delays then
    if def.signal_speed ~= nil then   -- (a Dmat of lengths given as delays would run slow, silently)
      error(string.format("%s'signal_speed' = %s goes with 'lengths' (mm); 'delays' are in ms already: give " ..
                          "lengths = ..., signal_speed = ... (delays = lengths / signal_speed), or delays alone",
                          what, check.show(def.signal_speed)), 2)
    end
    self.fixed_delays = check.matrix(def.delays, n, what .. "delays", 2, true)
  elseif def.signal_speed ~= nil then
    error(what .. "'signal_speed' needs 'lengths' (mm)", 2)
  end
  self.params = {}
  check.table_field(def, "params", what:sub(1, -3))
  for k, v in keyorder.pairs(def.params or {}) do
    if type(v) ~= "number" or v ~= v then
      error(string.format("%sparameter '%s' must be a number, got %s", what, tostring(k),
                          check.show(v)), 2)
    end
    self.params[k] = v
  end
  if def.sync ~= nil and type(def.sync) ~= "function" then
    error(what .. "'sync' must be a function(net) returning { input = coupling }", 2)
  end
  if def.sync ~= nil then
    local params = M.extra_params(def.sync, 1)
    if params then
      error(string.format("%s'sync' is called once, with the sync object alone: sync = function(net) " ..
                          "return { input = rule } end; this one takes %s: all but the first would be nil " ..
                          "(a rule per node is a function(i) inside it: { input = function(i) ... end })",
                          what, params), 2)
    end
  end
  self.sync = def.sync
  -- The BOLD input a model of this network feeds with `bold = true` (nm.model's own wins).
  if def.bold ~= nil then self.default_bold = bold.declaration(def.bold, what .. "bold", 2) end
  return self
end

-- The user's matrices of the network, each { matrix, name, size, nonneg }: a
-- model builder's sources first (self.sources(), e.g. a native model's Cmat
-- and Dmat, from which self.derive() makes connectivity and delays), then
-- connectivity, lengths or delays, and each node's local connectivity and
-- delays (only these when `own`).  A matrix derived from checked ones that
-- cannot change (check.is_known: a view of a pack) is left out.
local function user_matrices(self, own)
  local n, what = #self.nodes, "network '" .. self.label .. "': "
  local list = not own and self.sources and self.sources() or {}
  local function add(m, name, nonneg)
    if not check.is_known(m, n, nonneg) then list[#list + 1] = { m, what .. name, n, nonneg } end
  end
  add(self.connectivity, "connectivity")
  if self.lengths then add(self.lengths, "lengths", true) end
  if self.fixed_delays then add(self.fixed_delays, "delays", true) end
  for i, nd in ipairs(self.nodes) do
    local m, nw = #nd.masses, string.format("node %d ('%s'): ", i - 1, nd.label)
    if nd.connectivity then list[#list + 1] = { nd.connectivity, nw .. "connectivity", m } end
    if nd.delays then list[#list + 1] = { nd.delays, nw .. "delays", m, true } end
  end
  return list
end

-- The entries of each matrix of `list` (user_matrices) packed as doubles
-- (core.matrix_check), or false for one that is no longer an n x n matrix of
-- finite numbers; prev[k], an earlier pack, is reused when the entries are
-- the same: rawequal packs mean unchanged matrices.  A table listed twice
-- (a native model's Cmat as its connectivity) is read once.
local function pack_all(list, prev)
  local packs, seen = {}, {}
  for k, e in ipairs(list) do
    local m, n = e[1], e[3]
    local done = seen[m]
    if done and done.n == n then
      packs[k] = done.packed
    else
      local ok, packed = core.matrix_check(m, n, false, prev and prev[k] or true)
      packs[k] = ok and packed
      if type(m) == "table" then seen[m] = { n = n, packed = packs[k] } end
    end
  end
  return packs
end

local function same_packs(a, b)
  if #a ~= #b then return false end
  for k = 1, #a do if not rawequal(a[k], b[k]) then return false end end
  return true
end

-- Networks whose matrices a model builder (the zoo's native flavours) has
-- just checked and derived: nm.model does not check them again.
local checked_now = setmetatable({}, { __mode = "k" })

--- Marks `net`'s matrices as checked just now, for the next nm.model of it.
function M.checked_now(net) checked_now[net] = true end

--- Whether `net` was marked by checked_now (which this forgets).
function M.take_checked(net)
  local c = checked_now[net]
  checked_now[net] = nil
  return c
end

--- Checks the network's matrices again, at the user's line: they are the
-- user's tables, which may have been edited in place since they were given
-- (connectivity, lengths or delays, each node's local connectivity and
-- delays, and a model builder's sources, from which connectivity and delays
-- are derived again when they changed).  Called by nm.model and before every
-- build of the engine model.  Returns a snapshot of the matrices (for
-- same_matrices, changed_matrices): their entries packed, one string each,
-- and (snap.tables, snap.names) the tables they were read from and their names.
--- net:run(...): an error saying what to run (a network is run through its
-- model: nm.model(net):run{...}); without it Lua said "attempt to call a nil value".
-- Whatever it is given (a vararg: not refused as extra arguments, _check.counted).
function Network:run(...) -- luacheck: no unused args
  error(string.format("network '%s' has no run: make a model of it and run that, " ..
                      "nm.model(net):run { duration = ..., ... }", self.label), 2)
end

function Network:check_matrices(level)
  local snap, prev = { tables = {}, names = {} }, self.packs or {}
  -- A table checked already in this call (a native model's connectivity is
  -- its Cmat when that has a zero diagonal) is not read again: its pack.
  local seen = {}
  local function check_one(e, earlier)
    local m, n, nonneg = e[1], e[3], e[4]
    local done = seen[m]
    if done and done.n == n and (done.nonneg or not nonneg) then return done.packed end
    local _, packed = check.matrix(m, n, e[2], level + 2, nonneg, earlier or true)
    if type(m) == "table" then seen[m] = { n = n, nonneg = nonneg, packed = packed } end
    return packed
  end
  self.pack_of = setmetatable({}, { __mode = "k" })
  if self.sources then
    local from = self.derived_from or {}
    for k, e in ipairs(self.sources()) do
      snap[k], snap.tables[k], snap.names[k] = check_one(e, from[k]), e[1], e[2]
    end
    if not (self.derived_from and same_packs(snap, self.derived_from)) then
      self.derive(snap)
      self.derived_from = table.move(snap, 1, #snap, 1, {})
    end
  end
  for _, e in ipairs(user_matrices(self, true)) do
    local k = #snap + 1
    snap[k], snap.tables[k], snap.names[k] = check_one(e, prev[k]), e[1], e[2]
  end
  for m, done in pairs(seen) do self.pack_of[m] = done.packed end
  self.packs = snap
  return snap
end

--- The pack (core.matrix_check) of matrix m taken by the last check_matrices
-- (a view's own pack: view.lua), or m itself when it was not one of the
-- network's matrices then: what core.matrix_rows reads without going
-- through the table again.
function Network:packed(m)
  return view.pack(m) or self.pack_of and self.pack_of[m] or m
end

--- Whether the matrices still hold the values of `snap` (check_matrices):
-- an edit of the user's tables after a build must rebuild the coupling.
function Network:same_matrices(snap)
  return same_packs(pack_all(user_matrices(self), snap), snap)
end

-- How many of the nodes hold each local matrix table (nm.replicate's copies
-- share the one given), counted when first asked.
local function local_users(self)
  if not self.local_users then
    local users = setmetatable({}, { __mode = "k" })
    for _, nd in ipairs(self.nodes) do
      for _, f in ipairs { "connectivity", "delays" } do
        if nd[f] then users[nd[f]] = (users[nd[f]] or 0) + 1 end
      end
    end
    self.local_users, self.copy_of = users, setmetatable({}, { __mode = "k" })
  end
  return self.local_users
end

--- Node nd's local matrix `f` ("connectivity" or "delays") as its own table:
-- one it shares with other nodes is copied for it first, so that an edit in
-- place through its name (model.params) changes that node only, while the
-- others keep reading the table given.  The copy stands for that table in
-- changed_matrices (an edit of it is an edit in place).
function Network:local_matrix(nd, f)
  local users, t = local_users(self), nd[f]
  if t and (users[t] or 0) > 1 then
    users[t] = users[t] - 1
    local c = {}
    for r, row in ipairs(t) do c[r] = table.move(row, 1, #row, 1, {}) end
    nd[f], users[c], self.copy_of[c] = c, 1, t
  end
  return nd[f]
end

--- Puts table v as node nd's local matrix `f` (checked by the caller).
function Network:set_local_matrix(nd, f, v)
  local users = local_users(self)
  if nd[f] and users[nd[f]] then users[nd[f]] = users[nd[f]] - 1 end
  nd[f] = v
  if v then users[v] = (users[v] or 0) + 1 end
end

--- The names of the matrices edited in place since `snap` (check_matrices),
-- in messages' words ("network 'Net': connectivity", "Cmat"): the same
-- table, other values.  A table put in place of another (through
-- model.params, which names it) is no edit in place; a table serving as two
-- matrices (a native model's Cmat as its connectivity) is named once, first.
function Network:changed_matrices(snap)
  local names, at, seen = {}, {}, {}
  for k, name in ipairs(snap.names) do at[name] = k end
  for _, e in ipairs(user_matrices(self)) do
    local k, m = at[e[2]], e[1]
    local was = snap.tables[k]
    if k and (rawequal(was, m) or rawequal(self.copy_of and self.copy_of[m], was)) and not seen[m] then
      seen[m] = true
      local ok, packed = core.matrix_check(m, e[3], false, snap[k])
      if not (ok and rawequal(packed, snap[k])) then names[#names + 1] = e[2] end
    end
  end
  return names
end

--- The delay matrix in ms: the fixed delays, or a read-only view
-- (view.lua) of lengths / signal_speed, read from the pack of the lengths
-- that the last check_matrices took, or of zeros.
function Network:delay_matrix()
  if self.fixed_delays then return self.fixed_delays end
  local n, p, finite, nonneg = #self.nodes
  if self.lengths then
    p, finite, nonneg = core.matrix_derive(self:packed(self.lengths), n, "div", self.signal_speed)
    if not finite then
      local i, j, l = M.infinite_delay(self.lengths, n, self.signal_speed)
      if i then infinite_delay_error(self, i, j, l, self.lengths) end
    end
  else
    p, finite, nonneg = core.matrix_derive(nil, n, "zeros")
  end
  local delays = view.new(p, n, finite, nonneg, "network '" .. self.label .. "': delays",
                          "the delays are lengths / signal_speed (ms); edit lengths (mm), or set the delays whole")
  return check.same_origin(delays, self.lengths)   -- (a too long delay names the file: compile.lua)
end

--- The delay matrix (ms) model.params gives: a model builder's own
-- (self.for_user, a native model's view of Dmat / signalV), the delays table
-- itself, or, with lengths, a view (view.live) of lengths / signal_speed that
-- follows an edit of the lengths and whose entries cannot be set (such an
-- edit would be lost): an error at the user's line says to edit the lengths
-- or set the delays whole.
function Network:delays_for_user()
  if self.for_user then return self.for_user.delays() end
  if not self.lengths then return self:delay_matrix() end
  local n, L, speed, made = #self.nodes, self.lengths, self.signal_speed, self.user_delays
  if made and made[1] == L and made[2] == speed then return made[3] end   -- (one view a table and speed)
  local v = view.live(n, function(i, j)
    local l = type(L[i]) == "table" and L[i][j]
    return type(l) == "number" and l / speed or l
  end, "network '" .. self.label .. "': delays", function(at)
    return "the delays are lengths / signal_speed (ms); edit lengths" .. at .. " (mm), or set the delays whole"
  end)
  self.user_delays = { L, speed, v }
  return v
end

--- The connectivity model.params gives: a model builder's own (self.for_user,
-- a native model's Cmat with a zero diagonal), else the connectivity table.
function Network:connectivity_for_user()
  if self.for_user then return self.for_user.connectivity() end
  return self.connectivity
end

--- Sets the matrix `name` ("connectivity" or "delays", ms) whole through
-- model.params, checked (n x n, finite; delays >= 0), or an error at the
-- user's line where a model builder derives it (self.for_user.refuse(name)).
function Network:set_matrix(name, v, level)
  if self.for_user then check.error(self.for_user.refuse(name), level + 1) end
  local n, what = #self.nodes, "network '" .. self.label .. "': " .. name
  if name == "connectivity" then
    self.connectivity = check.matrix(v, n, what, level + 1)
  else
    self.fixed_delays, self.lengths = check.matrix(v, n, what, level + 1, true), nil
  end
end

-- ---------------------------------------------------------------------
-- The object handed to a `sync` function
-- ---------------------------------------------------------------------

local Sync = {}
local sync_methods = { "additive", "diffusive", "none", "custom", "weight", "delay", "delayed", "now" }
-- A misspelt method (net:additve) is an error with a suggestion, not "attempt to call a nil value".
Sync.__index = function(_, k)
  local m = Sync[k]
  if m == nil then
    check.error(string.format("the sync object has no field '%s'%s (it has: %s, n, p, C)",
                              tostring(k), check.suggest(tostring(k), sync_methods),
                              table.concat(sync_methods, ", ")), 2)
  end
  return m
end

-- Node j (0-based) of the network, or an error at the user's line naming the
-- call `what` ("net:now").
local function node_at(self, j, level, what)
  local nd = math.type(j) and self.net.nodes[j + 1]
  if not nd then
    error(string.format("%s: no node %s in network '%s' (nodes are 0 .. %d)", what, check.show(j),
                        self.net.label, #self.net.nodes - 1), level + 1)
  end
  return nd
end

-- A matrix option of a coupling: nil, an n x n matrix, or (matrix only) "square".
local function coupling_matrix(self, m, what, level, nonneg)
  if m == nil or (m == "square" and not nonneg) then return m end
  if type(m) == "string" then
    error(string.format("%s must be \"square\" or a %dx%d matrix, got \"%s\"", what, self.n,
                        self.n, m), level + 1)
  end
  return check.matrix(m, self.n, what, level + 1, nonneg)
end

--- A coupling sum over the connectivity: options gain (number or expression),
-- matrix ("square" for C squared element-wise, or an n x n matrix), delays
-- (n x n, ms).  `var` must be a variable of some node (diffusive: of every node).
local function coupling(mode)
  return function(self, var, opts)
    opts = opts or {}
    local what = "net:" .. mode
    if type(opts) == "number" or expr.is_expr(opts) then   -- (a gain given in the options' place)
      error(string.format("%s: the options are a table: %s(%q, { gain = %s }), not %s", what, what,
                          tostring(var), type(opts) == "number" and check.number(opts) or tostring(opts),
                          check.show(opts)), 2)
    end
    check.fields(opts, { gain = true, matrix = true, delays = true }, what, 2)
    if type(var) ~= "string" then
      error(string.format("%s: the variable name must be a string, got %s%s", what, check.show(var),
                          expr.is_expr(var) and string.format(" (%s takes the name of the senders' variable " ..
                          "and sums over the senders itself: %s(\"x\"))", what, what) or ""), 2)
    end
    local known, seen = {}, {}
    for i, nd in ipairs(self.net.nodes) do
      if nd:find(var) then known = nil
      elseif mode == "diffusive" then
        error(string.format("%s: node %d ('%s') has no variable '%s'%s", what, i - 1, nd.label, var,
                            check.suggest_or_list(var, nd:variables(), "its variables are")), 2)
      end
      for _, v in ipairs(known and nd:variables() or {}) do
        if not seen[v] then seen[v] = true; known[#known + 1] = v end
      end
    end
    if known then
      error(string.format("%s: no node has a variable '%s'%s", what, var,
                          check.suggest_or_list(var, known, "the variables are")), 2)
    end
    local gain = opts.gain or 1
    if not expr.is_expr(gain) and not check.finite(gain) then
      error(string.format("%s: gain must be a finite number or an expression, got %s", what,
                          check.show(gain)), 2)
    end
    return { kind = "sum", mode = mode, var = var, gain = gain,
             matrix = coupling_matrix(self, opts.matrix, what .. ": matrix", 2),
             delays = coupling_matrix(self, opts.delays, what .. ": delays", 2, true) }
  end
end

Sync.additive = coupling("additive")
Sync.diffusive = coupling("diffusive")

--- No coupling: the input is 0 (neurolib's "none").
function Sync.none() return { kind = "zero" } end

--- Per-node custom coupling: `fn(i)` (0-based node index) returns an expression
-- built from net:delayed(j, var) / net:now(j, var) / net:weight(i, j).
function Sync.custom(_, fn)
  if type(fn) ~= "function" then error("net:custom: expected a function(i)", 2) end
  local bad = rule_arity(fn, "net:custom")
  if bad then error(bad, 2) end
  return { kind = "custom", fn = fn }
end

--- The connectivity weight from node j to node i (0-based).
function Sync:weight(i, j)
  node_at(self, i, 2, "net:weight")
  node_at(self, j, 2, "net:weight")
  return self.net.connectivity[i + 1][j + 1]
end

--- The delay in ms from node j to node i (0-based).
function Sync:delay(i, j)
  node_at(self, i, 2, "net:delay")
  node_at(self, j, 2, "net:delay")
  return self.delays[i + 1][j + 1]
end

local function node_var(self, j, var, level, what)
  local nd = node_at(self, j, level + 1, what)
  if type(var) ~= "string" then
    error(string.format("%s: variable names are strings, got %s", what, check.show(var)), level + 1)
  elseif not nd:find(var) then
    error(string.format("%s: node %d ('%s') has no variable '%s'%s", what, j, nd.label, var,
                        check.suggest_or_list(var, nd:variables(), "its variables are")), level + 1)
  end
end

--- Node j's variable `var` delayed by `delay_ms` (default: the delay from j to
-- the node whose input the expression becomes, taken from the network's delay
-- matrix when that expression is compiled for its node).
function Sync:delayed(j, var, delay_ms)
  node_var(self, j, var, 2, "net:delayed")
  if delay_ms ~= nil and not (check.finite(delay_ms) and delay_ms >= 0) then
    error(string.format("net:delayed: the delay must be a finite number >= 0 (ms), got %s",
                        check.show(delay_ms)), 2)
  end
  return expr.leaf("hist", var, { node = j, delay_ms = delay_ms })
end

--- Node j's variable `var` now (no delay).
function Sync:now(j, var)
  node_var(self, j, var, 2, "net:now")
  return expr.leaf("hist", var, { node = j, delay_ms = 0 })
end

-- The rule-making methods of the sync object, as a call of each is written.
local method_forms = { additive = "net:additive(\"x\", { gain = ... })",
                       diffusive = "net:diffusive(\"x\", { gain = ... })",
                       none = "net:none()", custom = "net:custom(function(i) return ... end)" }

-- The name of the sync object's method `fn` (net.additive given as a rule, uncalled), or nil.
local function method_name(fn)
  for k in keyorder.pairs(method_forms) do
    if rawequal(Sync[k], fn) then return k end
  end
  return nil
end

-- Runs a sync function or a custom rule: errors at the user's line, with hints (use nm.sin).
local call_rule = check.user_caller(nil, expr.explain)

-- The inputs the masses of a network declare: name -> true, and a sorted list.
local function declared_inputs(net)
  local set, list = {}, {}
  for _, nd in ipairs(net.nodes) do
    for _, m in ipairs(nd.masses) do
      for _, a in ipairs(m.type.inputs) do
        if not set[a] then set[a] = true; list[#list + 1] = a end
      end
    end
  end
  table.sort(list)
  return set, list
end

-- Evaluates a custom rule for every node with a mass that takes `input`:
-- rule.exprs[i + 1] (0-based node i) is an expression or a number.
local function eval_custom(self, input, rule)
  rule.exprs = {}
  for i, nd in ipairs(self.nodes) do
    local takes = false
    for _, m in ipairs(nd.masses) do
      for _, a in ipairs(m.type.inputs) do takes = takes or a == input end
    end
    if takes then
      local e = call_rule(rule.fn, i - 1)
      if type(e) == "table" and (e.kind == "sum" or e.kind == "zero") and not expr.is_expr(e) then
        check.error_at(rule.fn, string.format("custom coupling '%s' for node %d returned a whole rule " ..
          "(%s), not an expression: net:additive, net:diffusive and net:none make the rule of every " ..
          "node at once; give it as the input's rule, { %s = net:%s(...) }, not from a function(i)",
          input, i - 1, e.kind == "sum" and "net:" .. e.mode .. "(\"" .. e.var .. "\")" or "net:none()",
          input, e.kind == "sum" and e.mode or "none"))
      elseif type(e) ~= "number" and not expr.is_expr(e) then
        check.error_at(rule.fn, string.format("custom coupling '%s' for node %d returned %s, not an " ..
                                              "expression or a number", input, i - 1, check.show(e)))
      elseif not expr.depth(e) then
        check.error_at(rule.fn, string.format("custom coupling '%s' for node %d: the expression is " ..
                                              "nested deeper than %d operations", input, i - 1,
                                              expr.MAX_DEPTH))
      end
      rule.exprs[i] = e
    end
  end
end

-- The terms of a sum (an expression's tree of additions; numbers 0 left out),
-- appended to `list`.
local function sum_terms(e, list)
  if type(e) == "table" and e.op == "add" then
    sum_terms(e[1], list)
    sum_terms(e[2], list)
  elseif not (type(e) == "number" and e == 0 or expr.is_expr(e) and e.op == "const" and e.value == 0) then
    list[#list + 1] = e
  end
  return list
end

-- w · h or h · w of a term (w a number, h a delayed read net:delayed gives
-- with the network's delay): h and w; a bare read is 1 · h; else nil.
local function weighted_read(term, delays, i)
  local function read(x)
    return x.op == "hist" and (x.delay_ms == nil or x.delay_ms == delays[i][x.node + 1]) and x or nil
  end
  if read(term) then return term, 1 end
  if term.op ~= "mul" then return nil end
  for k = 1, 2 do
    local h, w = read(term[k]), term[3 - k]
    if h and w.op == "const" then return h, w.value end
  end
  return nil
end

-- When custom rule `rule` (evaluated: rule.exprs) is, at every node i taking
-- it, [gain ·] Σ_j C[i][j] · var_j(t − D[i][j]) (one term per sender with a
-- weight, that weight; the gain a number or a network parameter, the same at
-- every node), the net:additive call that computes it as a coupling sum; else nil.
local function additive_form(self, rule, delays)
  local var, gain
  for i, e in pairs(rule.exprs) do
    if not expr.is_expr(e) then return nil end
    local g = nil
    if e.op == "mul" then            -- an outer gain: (Σ ...) · g or g · (Σ ...)
      for k = 1, 2 do
        local x = e[k]
        if (x.op == "const" or x.op == "gpar") and e[3 - k].op == "add" then g, e = x, e[3 - k] end
      end
    end
    local key = g and (g.op == "const" and check.number(g.value) or "net.p." .. g.name) or "1"
    if gain and gain ~= key then return nil end
    gain = key
    local seen, row = {}, self.connectivity[i]
    for _, term in ipairs(sum_terms(e, {})) do
      if not expr.is_expr(term) then return nil end
      local h, w = weighted_read(term, delays, i)
      if not h or seen[h.node] or (var and h.name ~= var) or w ~= row[h.node + 1] then return nil end
      var, seen[h.node] = h.name, true
    end
    for j = 1, #self.nodes do
      if row[j] ~= 0 and not seen[j - 1] then return nil end
    end
  end
  if not var then return nil end
  return string.format("net:additive(%q%s)", var, gain ~= "1" and ", { gain = " .. gain .. " }" or "")
end

--- The hint for a custom rule for `input` that is a plain coupling sum
-- (rule.additive, set by resolve_sync): what to write instead, and why.
function M.additive_hint(self, input, rule)
  local info = debug.getinfo(rule.fn, "S")
  return string.format("network '%s': the custom coupling '%s' (%s:%d) is Σ_j C[i][j] · %s_j(t − D[i][j]) " ..
                       "at every node; { %s = %s } computes the same as one coupling sum over compressed " ..
                       "rows, where a custom rule compiles a program per node", self.label, input,
                       info.short_src, info.linedefined, rule.additive:match('^net:additive%("([^"]*)"'),
                       input, rule.additive)
end

--- Resolves the network's sync rules: input name -> coupling description.
-- Every rule is for an input some mass declares; custom rules are evaluated
-- for every node taking their input (their expressions in rule.exprs).
function Network:resolve_sync()
  local s = setmetatable({ net = self, n = #self.nodes, delays = self:delay_matrix(), p = {} }, Sync)
  for k in pairs(self.params) do s.p[k] = expr.leaf("gpar", k) end
  local gnames = {}
  for k in pairs(self.params) do gnames[#gnames + 1] = k end
  setmetatable(s.p, { __index = function(_, k)
    error(string.format("network '%s' has no parameter '%s'%s", self.label, tostring(k),
                        #gnames > 0 and check.suggest_or_list(tostring(k), gnames, "its parameters are")
                        or "; it has none (give them as nm.network { params = { name = value } })"), 2)
  end })
  s.C = self.connectivity
  if not self.sync then return {}, s end
  local rules = call_rule(self.sync, s)
  if type(rules) ~= "table" then
    check.error_at(self.sync, string.format("network '%s': sync must return a table " ..
                                            "{ input = coupling }, got %s", self.label, check.show(rules)))
  end
  local declared, list = declared_inputs(self)
  for name, rule in keyorder.pairs(rules) do
    if not declared[name] then
      check.error_at(self.sync, string.format("network '%s': sync gives a rule for input '%s', which " ..
        "no mass of the network declares%s (declared: %s)", self.label, tostring(name),
        check.suggest(tostring(name), list, true),
        #list > 0 and table.concat(list, ", ") or "none"))
    end
    local method = type(rule) == "function" and method_name(rule)
    if method then
      check.error_at(self.sync, string.format("network '%s': the rule for '%s' is the method net.%s " ..
        "itself, not a coupling: call it, %s", self.label, tostring(name), method, method_forms[method]))
    elseif type(rule) == "function" then
      local bad = rule_arity(rule, string.format("network '%s': custom coupling '%s'", self.label,
                                                 tostring(name)))
      if bad then check.error_at(rule, bad) end
      rules[name] = { kind = "custom", fn = rule }
    elseif type(rule) ~= "table" or not rule.kind then
      check.error_at(self.sync, string.format("network '%s': sync rule for '%s' is %s, not a coupling " ..
                                              "(use net:additive, net:diffusive or a function(i))",
                                              self.label, tostring(name), check.show(rule)))
    end
  end
  for name, rule in keyorder.pairs(rules) do
    if rule.kind == "custom" then
      eval_custom(self, name, rule)
      rule.additive = additive_form(self, rule, s.delays)
    end
  end
  return rules, s
end

M.Network = Network
M.Sync = Sync          -- the object `net` a sync rule receives (docs/reference.md)
return M
