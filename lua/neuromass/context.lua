--- The host context: the options a host program hands the library once,
-- before the user's script runs (the `neuromass` executable: its command and
-- command-line options).  The library reads them through context.get() only;
-- in a plain Lua there is none and get() returns nil.
local type, error, pairs, tostring = type, error, pairs, tostring

local M = {}

-- The fields a host may set, and their types.
local fields = {
  mode = "string",     -- "run", "info" (build and describe, integrate nothing), "sonify" or "plot"
  sets = "table",      -- --set NAME=VALUE: { {NAME, VALUE}, ... }; model:run marks each `applied`
  out = "string",      -- --out DIR: where relative output paths go
  seed = "number",     -- --seed N: overrides every run's seed
  quiet = "boolean",   -- --quiet: no progress bar, no audio warnings on stderr
  tty = "boolean",     -- stderr is a terminal (the progress bar may show)
  -- explorations (lua/neuromass/explore/spread.lua):
  workers = "number",  -- --workers N (all: the number of cores)
  task = "number",     -- --task I (0-based) and --ntasks N: this process's slice
  ntasks = "number",
  argv = "table",      -- the command line from the command on, as read, less --workers, --task
                       -- and --ntasks with their values (a worker starts it again)
  exe = "string",      -- the executable's path
  cores = "number",    -- online cores
}

local current = nil

--- context.set(ctx): makes `ctx` (a table with the fields above, all
-- optional) the host context.  Raises on an unknown field or a wrong type.
function M.set(ctx)
  if type(ctx) ~= "table" then error("set_context: expected a table, got " .. type(ctx), 2) end
  for k, v in pairs(ctx) do
    local want = fields[k]
    if not want then error("set_context: unknown field '" .. tostring(k) .. "'", 2) end
    if type(v) ~= want then
      error("set_context: field '" .. k .. "' must be a " .. want .. ", got " .. type(v), 2)
    end
  end
  current = ctx
end

--- context.get() -> the host context, or nil outside a host.
function M.get() return current end

return M
