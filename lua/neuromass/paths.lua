--- Output paths: relative paths go under the command line's --out DIR
-- (created when needed); absolute paths are left alone.
local core = require "neuromass.core"
local package, error, type = package, error, type

local M = {}

function M.resolve(path)
  if type(path) ~= "string" or path == "" then error("output path must be a non-empty string", 3) end
  local h = package.loaded["neuromass._host"]
  local dir = h and h.out
  if not dir or path:sub(1, 1) == "/" then return path end
  if not h.out_made then
    local ok, err = core.mkdir_p(dir)
    if not ok then error("--out: cannot create directory '" .. dir .. "': " .. err, 3) end
    h.out_made = true
  end
  return dir:gsub("/+$", "") .. "/" .. path
end

return M
