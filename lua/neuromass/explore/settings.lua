--- The settings an exploration's rows depend on, recorded in its folder
-- (BoxSearch: boxsearch.txt; Evolution: evolution.txt), and the one rule
-- of both kinds: a rerun resumes the rows a folder holds only with the same
-- settings; otherwise it is refused, naming what differs and what to do.
-- Each kind says which of its own fields are settings (search.lua,
-- evolution.lua); the run's seed, its run options and the command line's
-- --set values are recorded here, the same for both.
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local core = require "neuromass.core"
local run_options = require "neuromass.run.options"
local warnings = require "neuromass.run.warnings"

local type, ipairs, string, table, tostring, getmetatable, math, io =
      type, ipairs, string, table, tostring, getmetatable, math, io

local M = {}

-- The file of each kind's folder that records its settings.
M.FILE = { BoxSearch = "boxsearch.txt", Evolution = "evolution.txt" }

-- The run options that change no number of a run (not recorded); the seed
-- is recorded as the exploration's base seed (M.base).
local UNRECORDED_RUN = { progress = true, threads = true, jit = true, seed = true }

--- settings.value(v) -> a setting's value as text: numbers in the shortest
-- exact form, a string quoted, a table by its entries (keys sorted), an
-- object by its class.
function M.value(v)
  if type(v) == "number" then return check.number(v) end
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "boolean" then return tostring(v) end
  local mt = getmetatable(v)
  if type(mt) == "table" and type(mt.__name) == "string" then return "a " .. mt.__name end
  if type(v) ~= "table" then return "a " .. type(v) end
  local items = {}
  for i = 1, #v do items[#items + 1] = M.value(v[i]) end
  for k, x in keyorder.pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= #v) then
      items[#items + 1] = tostring(k) .. " = " .. M.value(x)
    end
  end
  return "{ " .. table.concat(items, ", ") .. " }"
end

--- settings.new() -> a list of settings: list:add(key, text) appends the
-- line "KEY = TEXT", list:text() -> the lines, each ended by a line break.
function M.new()
  local lines = {}
  return {
    add = function(_, key, text) lines[#lines + 1] = key .. " = " .. text end,
    text = function() return table.concat(lines, "\n") .. "\n" end,
  }
end

--- settings.base(list, base): the line of the exploration's base seed
-- (run.seed, or --seed): "seed = N".
function M.base(list, base) list:add("seed", string.format("%d", base)) end

--- settings.runs(list, run, h): the lines of the run options `run` that
-- change numbers (all but progress, threads, jit and seed), keys sorted, then
-- the command line's --set NAME=VALUE (h.sets of the host context h), as
-- the runs take them (0.30 is 0.3).
function M.runs(list, run, h)
  for k, v in keyorder.pairs(run) do
    if not UNRECORDED_RUN[k] then list:add("run " .. k, M.value(v)) end
  end
  for _, kv in ipairs(h and h.sets or {}) do
    list:add("--set " .. kv[1], M.value(run_options.set_value(kv) or kv[2]))
  end
end

--- settings.ranks_text(fields, text) -> the settings of one rank's
-- exploration that every rank of an mpirun job must share (mpi.check_ranks):
-- the kind's `fields` ({ NAME = value }: the space or parameters, ...;
-- M.value of each, names sorted) and its settings `text` (the folder's
-- file: seed, run options, --set).
function M.ranks_text(fields, text)
  local list = M.new()
  for k, v in keyorder.pairs(fields) do list:add(k, M.value(v)) end
  return list:text() .. text
end

-- The settings text as { keys in order, [key] = value }.
local function parsed(text)
  local out = { keys = {} }
  for line in text:gmatch("[^\n]+") do
    local key, value = line:match("^(.-) = (.*)$")
    if key and out[key] == nil then out.keys[#out.keys + 1] = key; out[key] = value end
  end
  return out
end

--- settings.diff(was, is[, there, here]) -> what differs between the
-- settings texts `was` (the folder's) and `is` (this run's): "evaluations
-- 25 there, 30 here; run duration 20 there, (none) here", the first few;
-- `there` and `here` name the two (default "there" and "here": under
-- mpirun, "on rank 0" and "on rank 1").
function M.diff(was, is, there, here)
  there, here = there or "there", here or "here"
  local a, b, out, seen = parsed(was), parsed(is), {}, {}
  local keys = {}
  for _, k in ipairs(a.keys) do keys[#keys + 1] = k; seen[k] = true end
  for _, k in ipairs(b.keys) do if not seen[k] then keys[#keys + 1] = k end end
  for _, k in ipairs(keys) do
    if a[k] ~= b[k] then
      out[#out + 1] = string.format("%s %s %s, %s %s", k, a[k] or "(none)", there, b[k] or "(none)", here)
    end
  end
  if #out > 4 then out = { out[1], out[2], out[3], string.format("and %d more", #out - 3) } end
  return table.concat(out, "; ")
end

-- Each kind's rows, and the exploration they belong to.
local NOUN = { BoxSearch = "points", Evolution = "evaluations" }
local ONE = { BoxSearch = "search", Evolution = "fit" }

--- settings.check(what, dir, want, held, writes[, grows]) -> true: DIR/FILE (FILE =
-- M.FILE[what]) and the settings text `want` of this run of `what`
-- ("BoxSearch" or "Evolution").  When the folder holds rows (`held`), FILE
-- must be `want`: another text is an error at the user's line naming what
-- differs and what to do (another out, or remove the folder), the files
-- kept, unless `grows` (the caller found the rows to be a prefix of this
-- run's: an Evolution given a larger budget), when `want` replaces it; no
-- FILE at all is an Evolution's error (a fit of an older neuromass, or a
-- table copied there), while a BoxSearch (an older
-- neuromass wrote no boxsearch.txt: its exploration.txt named the kind
-- alone) resumes its rows with a warning (when `writes`), recording this
-- run's settings.  `writes`: FILE is then
-- written as `want` when it is not already, exclusively (a new one claimed,
-- core.claim_file; another run's replaced only when no row of it is kept,
-- and only if no other process replaced it first, core.reclaim_file): of two
-- processes starting in one folder at once, one writes it, and the other
-- goes on only when it holds its own settings (another task of one array),
-- else is refused naming what differs.
function M.check(what, dir, want, held, writes, grows)
  local file = M.FILE[what]
  local path = dir .. "/" .. file
  local f = io.open(path, "r")
  local have = f and f:read("a")
  if f then f:close() end
  if held and not have then
    if what ~= "BoxSearch" then
      check.error(string.format("%s: '%s' holds %s but no %s (the settings of their %s: a %s of an older " ..
                                "neuromass, or a table copied there), so this run cannot resume them: remove the " ..
                                "folder to start again, or choose another out", what, dir, NOUN[what], file,
                                ONE[what], ONE[what]), 2)
    end
    if writes then                    -- (once the folder's rows passed the kind's own checks)
      warnings.once(nil, "settings " .. path,
                    string.format("%s: '%s' holds %s but no %s (written by an older neuromass): they are " ..
                                  "resumed as this run's, whose settings are recorded now; if its run options, " ..
                                  "seed or --set differed, remove the folder to start again", what, dir, NOUN[what],
                                  file))
    end
  elseif held and have ~= want and not grows then
    check.error(string.format("%s: '%s' holds the %s of a %s with other settings (its %s): %s. A rerun resumes " ..
                              "a %s only with its settings: choose another out for this one, or remove the folder " ..
                              "to start again (its %s are lost)", what, dir, NOUN[what], ONE[what], file,
                              M.diff(have, want), ONE[what], NOUN[what]), 2)
  end
  if not writes or have == want then return true end
  local claimed, failure
  if have == nil then claimed, failure = core.claim_file(path, want)
  else claimed, failure = core.reclaim_file(path, have, want) end
  if not claimed and failure.kind ~= "exists" then
    check.error(string.format("%s: cannot write '%s': %s", what, path, failure.message), 2)
  end
  f = not claimed and io.open(path, "r")
  have = f and f:read("a") or want
  if f then f:close() end
  if have ~= want then
    check.error(string.format("%s: '%s' was claimed by another %s as this one started (another process wrote " ..
                              "its %s first): %s. Choose another out for this one, or run them one after the other",
                              what, dir, ONE[what], file, M.diff(have, want)), 2)
  end
  return true
end

return M
