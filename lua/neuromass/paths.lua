--- Output paths: relative paths go under the command line's --out DIR
-- (created when needed); absolute paths, and "-" (standard output), are left
-- alone.  The checks of output paths (distinct, writable, not an input) are
-- outputs.lua's.
local core = require "neuromass.core"
local context = require "neuromass.context"
local error, type = error, type

local M = {}

--- The output path that means standard output.
M.STDOUT = "-"

local made = nil      -- the --out directory already created

--- paths.resolve(path[, level]) -> the path to write; raises at `level`
-- (default: the caller's caller) when --out cannot be created.
function M.resolve(path, level)
  level = level or 2
  if type(path) ~= "string" or path == "" then error("output path must be a non-empty string", level + 1) end
  local h = context.get()
  local dir = h and h.out
  if not dir or path:sub(1, 1) == "/" or path == M.STDOUT then return path end
  if made ~= dir then
    local ok, err = core.mkdir_p(dir)
    if not ok then error("--out: cannot create directory '" .. dir .. "': " .. err, level + 1) end
    made = dir
  end
  return dir:gsub("/+$", "") .. "/" .. path
end

return M
