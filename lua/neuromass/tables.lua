--- Two-dimensional lookup tables for the expression language: a grid of
-- precomputed values (raw float64 files, loaded by the engine in
-- milliseconds) looked up with bilinear interpolation and clamping at the
-- edges, exactly as neurolib's ALN (neurolib/models/aln/timeIntegration.py).
local expr = require "neuromass.expr"
local check = require "neuromass._check"
local paths = require "neuromass.paths"

local io, string, setmetatable, type, tostring, getmetatable =
      io, string, setmetatable, type, tostring, getmetatable
local error = check.error            -- reported at the user's line

local M = {}

local Table = {}
Table.__index = Table
Table.__name = "neuromass.Table2D"

--- Reads a raw little-endian float64 file into an array.
function M.read_f64(path)
  local f, err = io.open(path, "rb")
  if not f then error("table: cannot open '" .. path .. "': " .. tostring(err), 3) end
  local data, rerr = f:read("a")
  f:close()
  if not data then error("table: cannot read '" .. path .. "': " .. tostring(rerr), 3) end
  if #data % 8 ~= 0 then error("table: '" .. path .. "' is not a whole number of float64 values", 3) end
  local v, pos = {}, 1
  for i = 1, #data // 8 do v[i], pos = string.unpack("<d", data, pos) end
  return v
end

-- Grid positions are (x - first) / step, converted to an index: the engine
-- refuses an axis spanning more steps than a double counts exactly.
local MAX_STEPS = 2 ^ 53

-- The engine's {first, step, last} of axis `key` ("rows" or "cols") of the
-- table in `file`: at least 2 finite numbers, each above the one before; the
-- step is the first two values' difference (neurolib's rule).
local function axis(values, key, file)
  local function refuse(fmt, ...)
    error(string.format("table '%s': " .. fmt, file, ...), 2)
  end
  if #values < 2 then refuse("%s has %d values; an axis needs 2 or more", key, #values) end
  for i = 1, #values do
    local v = values[i]
    if not check.finite(v) then refuse("%s[%d] must be a finite number, got %s", key, i, check.show(v)) end
    if i > 1 and not (v > values[i - 1]) then
      refuse("%s[%d] is %s, not above %s[%d] (%s): an axis must increase", key, i, check.show(v), key, i - 1,
             check.show(values[i - 1]))
    end
  end
  local first, step, last = values[1], values[2] - values[1], values[#values]
  if not (step > 0 and (last - first) / step <= MAX_STEPS) then
    refuse("%s spans %s to %s in steps of %s: more than 2^53 steps", key, check.show(first), check.show(last),
           check.show(step))
  end
  return { first, step, last }
end

--- A table over (row axis, column axis): `file` holds #rows * #cols float64
-- values, row-major; `rows` and `cols` are the axes' values (the grid steps
-- are taken from their first two values, as neurolib does), each at least 2
-- finite numbers, increasing, spanning at most 2^53 steps; `name` (a string,
-- default the file) names the table in warnings.  Errors name the file, the
-- axis and the value, at the caller's line.
function M.load(opts)
  if type(opts) ~= "table" or type(opts.file) ~= "string" or type(opts.rows) ~= "table" or
     type(opts.cols) ~= "table" then
    error("table: expected { file = path, rows = {...}, cols = {...} }", 2)
  end
  if opts.name ~= nil and type(opts.name) ~= "string" then
    error(string.format("table '%s': name must be a string, got %s", opts.file, check.show(opts.name)), 2)
  end
  local row_axis, col_axis = axis(opts.rows, "rows", opts.file), axis(opts.cols, "cols", opts.file)
  -- Check the file now, so that a missing or truncated table is reported where it is loaded.
  local f, err = io.open(opts.file, "rb")
  if not f then
    error("table: cannot open '" .. opts.file .. "': " .. tostring(err) .. paths.beside_script(opts.file), 2)
  end
  -- (a folder opens, and seeks to no file's size: reading it says what it is)
  local _, rerr = f:read(0)
  local size = f:seek("end")
  f:close()
  if rerr then error("table: cannot read '" .. opts.file .. "': " .. tostring(rerr), 2) end
  local want = 8 * #opts.rows * #opts.cols
  if size ~= want then
    error(string.format("table: '%s' has %d bytes, expected %d (%d x %d float64 values): " ..
                        "truncated or not this table", opts.file, size, want, #opts.rows,
                        #opts.cols), 2)
  end
  return setmetatable({ name = opts.name or opts.file, file = opts.file,
                        n_rows = #opts.rows, n_cols = #opts.cols,
                        row_axis = row_axis, col_axis = col_axis }, Table)
end

--- The spec neuromass.core's add_table takes.
function Table:spec()
  return { rows = self.n_rows, cols = self.n_cols, row_axis = self.row_axis,
           col_axis = self.col_axis, file = self.file }
end

--- table2d(tbl, row_value, col_value): the interpolated value (an expression).
function M.lookup(tbl, row, col)
  if getmetatable(tbl) ~= Table then error("table2d: the first argument must be a loaded table", 2) end
  return expr.table2d(tbl, row, col)
end

M.Table = Table       -- its methods are checked for a colon call (init.lua)
return M
