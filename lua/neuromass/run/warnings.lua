--- The one-time warnings of runs (lookups clamped at a table's grid, ...):
-- "neuromass: warning: ..." on stderr once per model and kind, or, while an
-- exploration runs (warnings.exploration), once per exploration and kind,
-- whichever point's model gave it; a worker process of --workers passes
-- them to the script's process (explore/workers.lua), which writes each
-- kind once for all its workers.  A counted warning (warnings.tally: the
-- lookups clamped) is summed over the exploration's runs instead and written
-- when it ends, so that what is printed does not depend on how the points
-- were spread over workers and batches.
local io, setmetatable, pairs, ipairs, table = io, setmetatable, pairs, ipairs, table

local M = {}

-- The exploration running in this process: { seen = { key = true }, pass =
-- function(key, text) or nil (a worker's: to the script's process), pass_tally
-- = function(kind, counts) or nil (likewise), tallies = { kind = { NAME =
-- count } } }, or nil.
local scope = nil

-- kind -> function(counts) -> the text of a counted warning summed over an
-- exploration ({ NAME = count }), given by the owner of the warning.
local summaries = {}

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

--- warnings.summary(kind, text_of): text_of(counts) -> the text of the
-- counted warning `kind` over an exploration: counts = { NAME = count }, each
-- name's count summed over its runs.
function M.summary(kind, text_of)
  summaries[kind] = text_of
end

--- warnings.tally(model, kind, counts[, text]): a counted warning of one
-- run: of kind `kind`, counts = { NAME = count } (whole numbers, e.g. by
-- table).  Outside an exploration it is warnings.once(model, kind and the
-- names, text); in one, each name's count is added to the exploration's
-- (passed to the script's process by a worker), written when the
-- exploration ends (warnings.summary's text): the same sums however the
-- points were spread.
function M.tally(model, kind, counts, text)
  if not scope then
    local names = {}
    for name in pairs(counts) do names[#names + 1] = name end
    table.sort(names)
    return M.once(model, kind .. " " .. table.concat(names, ", "), text)
  end
  if scope.pass_tally then return scope.pass_tally(kind, counts) end
  local t = scope.tallies[kind] or {}
  scope.tallies[kind] = t
  for name, count in pairs(counts) do t[name] = (t[name] or 0) + count end
end

--- warnings.flush(): writes the counted warnings of the exploration running
-- (their sums so far, by kind in byte order) and clears them: when it ends,
-- or before an array task ends its script (os.exit).
function M.flush()
  if not scope then return end
  local kinds = {}
  for kind in pairs(scope.tallies) do kinds[#kinds + 1] = kind end
  table.sort(kinds)
  for _, kind in ipairs(kinds) do
    io.stderr:write("neuromass: warning: " .. summaries[kind](scope.tallies[kind]) .. "\n")
  end
  scope.tallies = {}
end

--- warnings.take() -> the counted warnings of the exploration running ({
-- kind = { NAME = count } }, strings and numbers: they may cross
-- processes), which no longer belong to it; {} outside one.
function M.take()
  if not scope then return {} end
  local t = scope.tallies
  scope.tallies = {}
  return t
end

--- warnings.add(tallies): adds what warnings.take gave (another process's
-- runs: an MPI rank's) to the counted warnings of the exploration running.
function M.add(tallies)
  for kind, counts in pairs(tallies) do M.tally(nil, kind, counts) end
end

--- warnings.exploring() -> true while an exploration gathers the one-time
-- warnings (warnings.exploration is open).
function M.exploring()
  return scope ~= nil
end

local closing = { __close = function(t) M.flush(); scope = t.outer end }

--- warnings.exploration([pass, pass_tally]) -> a to-be-closed value (`local _
-- <close> = ...`): until it closes, warnings.once writes each kind once for
-- the exploration and warnings.tally sums the counts, written as it closes;
-- pass(key, text) and pass_tally(kind, counts), when given (a worker
-- process), take them instead.
function M.exploration(pass, pass_tally)
  local outer = scope
  scope = { seen = {}, pass = pass, pass_tally = pass_tally, tallies = {} }
  return setmetatable({ outer = outer }, closing)
end

return M
