--- Two-dimensional lookup tables for the expression language: a grid of
-- precomputed values (raw float64 files, loaded by the engine in
-- milliseconds) looked up with bilinear interpolation and clamping at the
-- edges, exactly as neurolib's ALN (neurolib/models/aln/timeIntegration.py).
local expr = require "neuromass.expr"
local check = require "neuromass._check"

local io, string, setmetatable, type, tostring, package, getmetatable, ipairs =
      io, string, setmetatable, type, tostring, package, getmetatable, ipairs
local error = check.error            -- reported at the user's line

local M = {}

local Table = {}
Table.__index = Table
Table.__name = "neuromass.Table2D"

--- Reads a raw little-endian float64 file into an array.
function M.read_f64(path)
  local f, err = io.open(path, "rb")
  if not f then error("table: cannot open '" .. path .. "': " .. tostring(err), 3) end
  local data = f:read("a")
  f:close()
  if #data % 8 ~= 0 then error("table: '" .. path .. "' is not a whole number of float64 values", 3) end
  local v, pos = {}, 1
  for i = 1, #data // 8 do v[i], pos = string.unpack("<d", data, pos) end
  return v
end

local function axis(values, what, path)
  if #values < 2 then error(string.format("table %s: the %s axis needs 2 values or more", path, what), 3) end
  return { values[1], values[2] - values[1], values[#values] }
end

--- A table over (row axis, column axis): `file` holds #rows * #cols float64
-- values, row-major; `rows` and `cols` are the axes' values (the grid steps
-- are taken from their first two values, as neurolib does).
function M.load(opts)
  if type(opts) ~= "table" or type(opts.file) ~= "string" or type(opts.rows) ~= "table" or
     type(opts.cols) ~= "table" then
    error("table: expected { file = path, rows = {...}, cols = {...} }", 2)
  end
  for _, key in ipairs { "rows", "cols" } do
    for i = 1, #opts[key] do
      if not check.finite(opts[key][i]) then
        error(string.format("table '%s': %s[%d] must be a finite number, got %s", opts.file, key, i,
                            check.show(opts[key][i])), 2)
      end
    end
  end
  -- Check the file now, so that a missing or truncated table is reported where it is loaded.
  local f, err = io.open(opts.file, "rb")
  if not f then error("table: cannot open '" .. opts.file .. "': " .. tostring(err), 2) end
  local size = f:seek("end")
  f:close()
  local want = 8 * #opts.rows * #opts.cols
  if size ~= want then
    error(string.format("table: '%s' has %d bytes, expected %d (%d x %d float64 values): " ..
                        "truncated or not this table", opts.file, size, want, #opts.rows,
                        #opts.cols), 2)
  end
  return setmetatable({ name = opts.name or opts.file, file = opts.file,
                        n_rows = #opts.rows, n_cols = #opts.cols,
                        row_axis = axis(opts.rows, "row", opts.file),
                        col_axis = axis(opts.cols, "column", opts.file) }, Table)
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

--- The directory of the data shipped with the library.
function M.data_dir()
  local here = package.searchpath("neuromass.tables", package.path)
  if not here then error("cannot locate the neuromass Lua library", 2) end
  return (here:gsub("[^/]*$", "")) .. "data/"
end

M.Table = Table
return M
