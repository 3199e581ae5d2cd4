--- Output paths: relative paths go under the command line's --out DIR
-- (created when needed); absolute paths, and "-" (standard output), are left
-- alone.  The checks of output paths (distinct, writable, not an input) are
-- outputs.lua's.  Also where the library itself lives: its Lua files and
-- shipped data; and where a missing input of the user's is (inputs are
-- relative to the current directory).
local core = require "neuromass.core"
local context = require "neuromass.context"
local error, type, debug, io, string = error, type, debug, io, string

local M = {}

--- The directory holding the library's Lua files ("<dir>/neuromass/", with
-- the slash), or nil when they were not loaded from files.
M.library_dir = debug.getinfo(1, "S").source:match("^@(.*/)paths%.lua$")

--- The directory of the data shipped with the library ("<dir>/neuromass/data/");
-- an error (at `level`, as for error(); default: the caller's caller) when
-- the library was not loaded from files.
function M.data_dir(level)
  if not M.library_dir then error("cannot locate the neuromass library's data files", (level or 2) + 1) end
  return M.library_dir .. "data/"
end

--- What the message of an input file `path` (a user's matrix or table)
-- that could not be opened adds when `path` is relative and the user's
-- script (the first calling frame outside the library) has a file of that
-- name in its folder, as a script run from elsewhere (neuromass run
-- study/sim.lua) does: where it is; else "".
function M.beside_script(path)
  if type(path) ~= "string" or path:sub(1, 1) == "/" then return "" end
  local lib, l = M.library_dir and "@" .. M.library_dir, 2
  while true do
    local info = debug.getinfo(l, "S")
    if not info then return "" end
    if info.what ~= "C" and not (lib and info.source:sub(1, #lib) == lib) then
      local dir = info.source:match("^@(.*/)[^/]*$")
      local f = dir and io.open(dir .. path, "rb")
      if not f then return "" end
      f:close()
      return string.format(" (paths are relative to the current directory; the script's folder has it: " ..
                           "write '%s')", dir .. path)
    end
    l = l + 1
  end
end

--- The output path that means standard output.
M.STDOUT = "-"

local made = nil      -- the --out directory already created

--- paths.resolve(path[, level[, role]]) -> the path to write; raises at
-- `level` (default: the caller's caller) when `path` is no non-empty string
-- (naming `role`, e.g. "run: output.csv", and the value) or --out cannot be
-- created (under `neuromass info` it is not created: info writes nothing).
function M.resolve(path, level, role)
  level = level or 2
  if type(path) ~= "string" or path == "" then
    local check = require "neuromass._check"   -- (loaded by then; it requires this file)
    check.error(string.format("%s must be a non-empty path, got %s", role or "output path",
                              type(path) == "string" and "''" or check.show(path)), level + 1)
  end
  local h = context.get()
  local dir = h and h.out
  if not dir or path:sub(1, 1) == "/" or path == M.STDOUT then return path end
  if made ~= dir and h.mode ~= "info" then   -- neuromass info writes nothing, not even --out
    local ok, err = core.mkdir_p(dir)
    if not ok then
      require("neuromass._check").error("--out: cannot create directory '" .. dir .. "': " .. err.message, level + 1)
    end
    made = dir
  end
  return dir:gsub("/+$", "") .. "/" .. path
end

--- paths.folder(path) -> the absolute path of folder `path` (as resolve
-- returned it) as the system finds it: through a '..' the system goes back
-- from what is there ("link/../fit" is beside the link's target, as mkdir -p
-- makes it), so a path holding '..' that exists is its real path; any other,
-- its lexical absolute path (a link in it kept as written).  No trailing '/'.
function M.folder(path)
  local info = core.path_info(path)
  local dots = ("/" .. path .. "/"):find("/%.%./") ~= nil
  return ((dots and info.real) or info.absolute):gsub("/+$", "")
end

--- paths.in_unmade_out(path) -> true when `path` (as resolve returned it)
-- lies directly in the --out directory that `neuromass info` did not create
-- (a run would): the output checks take that directory as there.
function M.in_unmade_out(path)
  local h = context.get()
  if not (h and h.mode == "info" and h.out) or made == h.out then return false end
  local dir = h.out:gsub("/+$", "")
  local rest = path:sub(#dir + 2)
  return path:sub(1, #dir + 1) == dir .. "/" and rest ~= "" and not rest:find("/", 1, true)
end

return M
