--- Results of a run: the recorded columns (t, then VAR.NODE), read as Lua
-- arrays with res:get(var, node) or res:matrix(var), written with
-- res:write_csv(path) (the BOLD with res:write_bold(path)), sonified with res:write_audio(path, opts) (audio.lua)
-- or drawn with res:plot(opts) (plot.lua).
local outputs = require "neuromass.outputs"
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local audio = require "neuromass.audio"

local setmetatable, string, tostring, ipairs, table, type, pairs, math, tonumber, pcall, rawget =
      setmetatable, string, tostring, ipairs, table, type, pairs, math, tonumber, pcall, rawget
local getmetatable, rawlen, debug = getmetatable, rawlen, debug
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

local Result = {}
Result.__name = "neuromass.Result"

-- Fields only some runs have (BOLD, audio, kept rows): nil when absent.
local OPTIONAL = { BOLD = true, t_BOLD = true, BOLD_nodes = true, audio = true, data = true,
                   dt = true, duration = true }
local optional_names = {}
for k in pairs(OPTIONAL) do optional_names[#optional_names + 1] = k end

-- Is `k` a variable of the run's model (recorded or not)?
local function model_variable(self, k)
  for _, v in ipairs(rawget(self, "variables") or {}) do if v == k then return true end end
  local model = rawget(self, "model")
  local ok, vars = pcall(function() return model:variables() end)
  if ok and type(vars) == "table" then
    for _, v in ipairs(vars) do if v == k then return true end end
  end
  return false
end

-- neurolib's fields of a model after a run, read from a result: where they are here.
local NEUROLIB_FIELD = {
  t = "; the times (ms, neurolib's model.t) are res:time()",
}
for _, k in ipairs { "outputs", "output", "xr", "getOutput", "getOutputs" } do
  NEUROLIB_FIELD[k] = string.format("; neurolib's model.%s: here a variable is res:get(var, node) " ..
                                    "(a node's series) or res:matrix(var) (N x T)", k)
end

-- A misspelt method (res:matrx) or a field no run gives, read by the user's
-- code, is an error with a suggestion (_check.lua's missing); a variable of
-- the model read as a field (res.x, neurolib's habit) points to res:get and
-- res:matrix.  A result is a plain table otherwise: fields the user assigns
-- (even to nil) read back, optional ones are nil.
Result.__index = function(self, k)
  local v = Result[k]
  if v == nil and not OPTIONAL[k] then
    check.missing(k, "result", function()
      if type(k) == "string" and model_variable(self, k) then
        return string.format("; '%s' is a variable of the model: read it with res:get(\"%s\", node) " ..
                             "(a node's series) or res:matrix(\"%s\") (N x T)", k, k, k)
      end
      return NEUROLIB_FIELD[k] or check.field_names(Result, self, optional_names)
    end, 1, self)
  end
  return v
end
Result.__newindex = check.assign

-- res.BOLD is the rows themselves: neurolib's model.BOLD.BOLD and
-- model.BOLD.t_BOLD, ported as res.BOLD.BOLD, are errors saying so (a name
-- read from the rows; their entries read as from any array), and so is a
-- read of row 0 (check.zero_first).
local BOLD_ROWS = { __index = function(rows, k)
  if type(k) == "string" then
    check.error(string.format("res.BOLD is the BOLD itself (N rows of samples 2 s apart: neurolib's " ..
                              "model.BOLD.BOLD): it has no field '%s'%s", k,
                              k == "t_BOLD" and "; its times (ms) are res.t_BOLD" or ""), 2)
  end
  -- (a port's model.BOLD.BOLD[0], node 0's row; the library's and C's reads find nil)
  local caller = debug.getinfo(2, "S")
  if not caller or caller.what == "C" or check.in_library(caller.source) then return nil end
  local why = check.index_text("res.BOLD", k, rawlen(rows), ", one row per BOLD node")
  if why then check.error(why, 2) end
end }

--- The rows of a run's BOLD (N arrays of samples) as res.BOLD: `rows` itself,
-- whose fields read by name are errors (BOLD_ROWS), as are reads out of
-- range of it or of its rows (check.index_text).
function M.bold_rows(rows)
  for i = 1, rawlen(rows) do check.numbered(rows[i], string.format("res.BOLD[%d]", i)) end
  return setmetatable(rows, BOLD_ROWS)
end

--- A result; `dry` marks the result of `neuromass info`, which integrates
-- nothing: it has no rows and its writers write nothing.  Scripts read it
-- as res.dry (true or false) to say so rather than claim a file written.
function M.new(model, cols, data, sampling_dt, dry)
  local self = setmetatable({ model = model, columns = cols.names, variables = cols.vars,
                              data = data, sampling_dt = sampling_dt, index = {}, dry = dry == true },
                            Result)
  for c, name in ipairs(cols.names) do self.index[name] = c - 1 end
  return self
end

--- Number of recorded rows (0 for a streamed run that kept nothing).
function Result:rows()
  if not self.data then return 0 end
  return (self.data:size())
end

--- Why a result holds no rows (nil when it does, or is a dry run's): the
-- one wording of "nothing was kept in memory", for record = {} and for a
-- run that streamed its output to files.
function M.no_data_reason(self)
  if rawget(self, "data") or rawget(self, "dry") then return nil end
  local bold = rawget(self, "BOLD") ~= nil and "; its BOLD is res.BOLD, written by res:write_bold(path)" or ""
  if #self.columns == 1 then
    return "nothing was kept in memory (the run recorded no variable: record = {}; " ..
           "name the variables to keep in 'record'" .. bold .. ")"
  end
  return "nothing was kept in memory (the run streamed its output to files; pass " ..
         "'record' to keep variables too" .. bold .. ")"
end

local function need_data(self, level)
  local why = M.no_data_reason(self)
  if why then error("result: " .. why, level + 1) end
end

--- res:time() -> the times of the rows (ms), an array ({} under neuromass info).
-- Errors: a run that kept nothing in memory (record = {}, or streamed).
function Result:time()
  need_data(self, 2)
  if self.dry then return {} end
  return self.data:column(0)
end

--- Node `node`'s (0-based, default 0) series of variable `var`.  "BOLD"
-- (no recorded variable: its own times) is an error saying where it is.
-- The columns "var.<node>" of the result: their indices in self.columns
-- and their nodes (0-based), in column order.
local function var_columns(self, var)
  local cols, nodes, prefix = {}, {}, var .. "."
  for c = 2, #self.columns do
    local name = self.columns[c]
    local node = name:sub(1, #prefix) == prefix and name:sub(#prefix + 1):match("^%d+$")
    if node then cols[#cols + 1], nodes[#nodes + 1] = c, math.tointeger(tonumber(node)) end
  end
  return cols, nodes
end

-- Nodes as a message shows them: "0 to 79" when consecutive, else the list.
local function node_list(nodes)
  local consecutive = true
  for k = 2, #nodes do consecutive = consecutive and nodes[k] == nodes[k - 1] + 1 end
  if consecutive and #nodes > 2 then return string.format("%d to %d", nodes[1], nodes[#nodes]) end
  local shown = {}
  for k = 1, math.min(#nodes, 12) do shown[k] = string.format("%d", nodes[k]) end
  return table.concat(shown, ", ") .. (#nodes > 12 and string.format(", ... (%d in all)", #nodes) or "")
end

--- res:get(var[, node]) -> node `node`'s (0-based, default 0) series of the
-- recorded variable `var` as a Lua array, one value per row of res:time();
-- var = "t" gives the times (ms).  Under neuromass info, {}.  Errors at the
-- caller's line: `var` not a string, `node` not a whole number, a variable
-- not recorded (the recorded ones listed, the nearest suggested), a node the
-- variable was not recorded for (its nodes named), "BOLD" (res.BOLD holds
-- it), a run that kept nothing in memory.
function Result:get(var, node)
  local recorded = self.index and self.index["BOLD." .. tostring(node or 0)]
  if var == "BOLD" and rawget(self, "BOLD") ~= nil and not recorded then
    error("result: BOLD is no recorded variable (its samples are 2 s apart, at res.t_BOLD): node " ..
          "res.BOLD_nodes[i]'s series is res.BOLD[i]; res:matrix(\"BOLD\") is every row", 2)
  end
  need_data(self, 2)
  if self.dry then return {} end
  if var == "t" then return self.data:column(0) end
  node = node or 0
  if type(var) ~= "string" then
    error(string.format("result: get(var, node): 'var' must be the name of a recorded variable (%s), got %s%s",
                        table.concat(self.variables, ", "), check.show(var),
                        type(node) == "string" and string.format("; did you mean get(\"%s\", %s)?", node,
                                                                 check.show(var)) or ""), 2)
  end
  if not check.whole(node) then
    error(string.format("result: get(\"%s\", node): 'node' must be a whole number (from 0), got %s", var,
                        check.show(node)), 2)
  end
  local name = var .. "." .. string.format("%d", node)
  local c = self.index[name]
  if c then return self.data:column(c) end
  local _, nodes = var_columns(self, var)
  if #nodes > 0 then
    table.sort(nodes)
    error(string.format("result: '%s' was recorded for node%s %s, not node %d", var, #nodes == 1 and "" or "s",
                        node_list(nodes), node), 2)
  end
  local known = {}
  for i = 2, #self.columns do known[#known + 1] = self.columns[i] end
  error(string.format("result: '%s' was not recorded (recorded: %s)%s", name,
                      table.concat(self.variables, ", "), check.suggest(name, known)), 2)
end

-- Results kept as fields rather than columns, read by res:matrix(name) when
-- no recorded variable has that name: res.BOLD (N rows of n values, from
-- run{ bold = ... }).  Each entry: the field, and how to get it when absent.
local MATRIX_FIELDS = {
  BOLD = { field = "BOLD", absent = "the run computed no BOLD (run{ bold = true })" },
}

-- The rows of `var` and their nodes (0-based), for res:matrix and
-- res:nodes (`who` names the method in messages; `level`: the caller's).
-- Without `with_rows` (res:nodes) no column is copied: each row is `true`.
local function rows_of(self, var, who, level, with_rows)
  if #self.columns > 1 then need_data(self, level + 1) end   -- (record = {}: only fields such as BOLD)
  if type(var) ~= "string" then
    check.error(string.format("%s: expected a variable name (recorded: %s), got %s", who,
                              table.concat(self.variables, ", "), check.show(var)), 2)
  end
  local cols, nodes = var_columns(self, var)
  local rows = {}
  for k, c in ipairs(cols) do rows[k] = not with_rows or (self.dry and {} or self.data:column(c - 1)) end
  if #rows > 0 then return rows, nodes end
  local extra = MATRIX_FIELDS[var]
  if extra then
    local m = self[extra.field]
    if m == nil then check.error(who .. "('" .. var .. "'): " .. extra.absent, 2) end
    nodes = {}
    for i = 1, #m do nodes[i] = self.BOLD_nodes and self.BOLD_nodes[i] or i - 1 end
    return m, nodes
  end
  -- What there is: the recorded variables and the fields this result holds
  -- (BOLD of a run with bold), a name differing only in case suggested first.
  local known, held = table.move(self.variables, 1, #self.variables, 1, {}), {}
  for name, f in keyorder.pairs(MATRIX_FIELDS) do
    known[#known + 1] = name
    if rawget(self, f.field) ~= nil then held[#held + 1] = name end
  end
  local hint = check.suggest(var, known)
  for _, name in ipairs(known) do
    if name:lower() == var:lower() then hint = string.format("; did you mean '%s'?", name) end
  end
  check.error(string.format("%s: variable '%s' was not recorded (recorded: %s%s)%s", who, var,
                            #self.variables > 0 and table.concat(self.variables, ", ") or "none",
                            #held > 0 and "; also " .. table.concat(held, ", ") or "", hint), 2)
end

--- res:matrix(var) -> rows: variable `var` as an N × T array of rows
-- (rows[i][k] = node res:nodes(var)[i]'s value at row k of res:time()), one
-- row per node that recorded it, in node order.  One result, so that
-- nm.func.fc(res:matrix("x")) passes the matrix alone.  res:matrix("BOLD")
-- is res.BOLD (N rows of n values, times res.t_BOLD in ms) when no variable
-- is named BOLD.  Errors (at the caller's line): a variable that was not
-- recorded (lists what was, suggests the nearest), a run that kept nothing
-- in memory.
function Result:matrix(var)
  local rows, nodes = rows_of(self, var, "res:matrix", 2, true)
  if getmetatable(rows) ~= nil then return rows end                -- (res.BOLD)
  -- (a port's model.x[0][1] read as res:matrix("x")[0][1]: an error naming the nodes of the rows)
  local n, name = #nodes, string.format("res:matrix(\"%s\")", var)
  local what = n > 0 and nodes[n] - nodes[1] == n - 1 and string.format(", nodes %d to %d", nodes[1], nodes[n])
               or string.format(", the nodes res:nodes(\"%s\")", var)
  return check.numbered_rows(rows, name, what)
end

--- res:nodes(var) -> the nodes (0-based, in order) of res:matrix(var)'s rows:
-- those that recorded `var` (a heterogeneous network: only the nodes that
-- have it); for "BOLD", res.BOLD_nodes.  Errors as res:matrix.
function Result:nodes(var)
  local _, nodes = rows_of(self, var, "res:nodes", 2)
  return nodes
end

-- Writes the rows `data` (an engine result) under `header` to the user's
-- `path` for method `what` (its name in messages): resolved against --out,
-- the outputs checked, nothing written under neuromass info.  Errors at `level`.
local function written(self, what, path, data, header, level)
  local full = outputs.resolve(path, level + 1, what .. "'s path")
  if self.dry then return full end
  outputs.check(what, level + 1, { { path = full, given = path } })
  local ok, failure = data:write_csv(full, header)
  if not ok then error(what .. ": " .. outputs.failure_text(failure), level + 1) end
  return full
end

--- res:write_csv(path) -> the path written: the recorded columns as CSV
-- (header t,VAR.NODE,...; t in ms with 12 digits, values to round-trip),
-- written under a temporary name and renamed when complete.  `path` is a
-- string, relative to --out when given; "-" is stdout.  Errors at the
-- caller's line: a path that is not a string, a run that recorded no row
-- (duration < sampling_dt) or kept nothing in memory, the output checks of
-- model:run (folder missing or not writable, a path in use), a write error
-- (the complete rows kept as NAME.partial.csv, which the message names).
function Result:write_csv(path)
  need_data(self, 2)
  if type(path) ~= "string" then error("write_csv: expected a path, got " .. check.show(path), 2) end
  if not self.dry and self:rows() == 0 then
    error(string.format("write_csv: the run recorded no row ('duration' = %s ms is shorter than " ..
                        "'sampling_dt' = %s ms), so there is nothing to write", check.show(self.duration),
                        check.show(self.sampling_dt)), 2)
  end
  local full = written(self, "write_csv", path, self.data, self.columns, 2)   -- (not a tail call: levels)
  return full
end

--- res:write_bold(path) -> the path written: the BOLD the run kept (res.t_BOLD,
-- res.BOLD) as the CSV output.bold streams (header t_BOLD,BOLD_<node>,...;
-- t_BOLD in ms with 12 digits, values to round-trip), written as write_csv
-- writes (path relative to --out, "-" stdout, a temporary name renamed when
-- complete).  Errors at the caller's line: a path that is not a string, a
-- run without BOLD, one shorter than BOLD's first sample, and write_csv's.
function Result:write_bold(path)
  if type(path) ~= "string" then error("write_bold: expected a path, got " .. check.show(path), 2) end
  if rawget(self, "BOLD") == nil then
    error("write_bold: the run computed no BOLD (run{ bold = true }, or bold = { variable = ... })", 2)
  end
  if not self.dry and #self.t_BOLD == 0 then
    error(string.format("write_bold: the run gave no BOLD sample ('duration' = %s ms; BOLD is sampled every " ..
                        "2 s), so there is nothing to write", check.show(self.duration)), 2)
  end
  local header = require("neuromass.run.bold").header { nodes = self.BOLD_nodes }
  local full = written(self, "write_bold", path, rawget(self, "bold_data"), header, 2)
  return full
end

--- res:write_audio(path, opts) -> full path, report (frames, duration, gain,
-- warnings, ...): the recorded signals as an audio file (WAV, FLAC or Ogg by
-- the extension) and its JSON sidecar; the options are those of
-- docs/reference.md (audio.lua lists them).  Errors at the caller's line.
function Result:write_audio(path, opts)
  local full, report = audio.write_result(self, path, opts, 2)
  return full, report
end

--- res:plot(opts) -> the path written: a picture of the result (gnuplot;
-- PNG, SVG or PDF by the extension of opts.out), as nm.plot.timeseries(res,
-- opts) — variable, nodes, view, title, size — or, for variable = "BOLD"
-- (and by default when the run recorded only BOLD: record = {}, bold =
-- true), nm.plot.bold(res, opts).  Errors at the caller's line (see plot.lua).
function Result:plot(opts)
  local plot = require "neuromass.plot"
  local recorded = false
  for _, v in ipairs(self.variables) do recorded = recorded or v == "BOLD" end
  local only_bold = #self.variables == 0 and rawget(self, "BOLD") ~= nil
  if type(opts) == "table" and (opts.variable == "BOLD" or opts.variable == nil and only_bold) and not recorded then
    local o = {}
    for k, v in pairs(opts) do if k ~= "variable" then o[k] = v end end
    local full = plot.bold(self, o)
    return full
  end
  local full = plot.timeseries(self, opts)
  return full
end

M.Result = Result
return M
