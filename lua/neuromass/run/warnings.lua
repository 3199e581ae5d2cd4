--- The one-time warnings of runs (lookups clamped at a table's grid, ...):
-- "neuromass: warning: ..." on stderr once per model and kind, or, while an
-- exploration runs (warnings.exploration), once per exploration and kind,
-- whichever point's model gave it; a worker process of --workers passes
-- them to the script's process (explore/workers.lua), which writes each
-- kind once for all its workers.
local io, setmetatable = io, setmetatable

local M = {}

-- The exploration running in this process: { seen = { key = true }, pass =
-- function(key, text) or nil (a worker's: to the script's process) }, or nil.
local scope = nil

--- warnings.once(model, key, text): writes warning `text` unless one of
-- kind `key` (a string) was written already for `model` (a table: the
-- model whose run gave it; nil for a warning of no model, a worker's passed
-- on: then only the exploration's scope holds it back), or in this
-- exploration while one runs.
function M.once(model, key, text)
  local seen = {}
  if scope then seen = scope.seen
  elseif model then
    seen = model.warned or seen
    model.warned = seen
  end
  if seen[key] then return end
  seen[key] = true
  if scope and scope.pass then scope.pass(key, text)
  else io.stderr:write("neuromass: warning: " .. text .. "\n") end   -- (one piece, as before)
end

local closing = { __close = function(t) scope = t.outer end }

--- warnings.exploration(pass) -> a to-be-closed value (`local _ <close> =
-- ...`): until it closes, warnings.once writes each kind once for the
-- exploration; pass(key, text), when given (a worker process), takes them
-- instead of stderr.
function M.exploration(pass)
  local outer = scope
  scope = { seen = {}, pass = pass }
  return setmetatable({ outer = outer }, closing)
end

return M
