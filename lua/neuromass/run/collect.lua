--- model:run, last phase: what a run hands back.  Its result (result.lua)
-- with the audio's report, a warning about table lookups clamped at a grid's
-- edge, or the error of a failed run: why, in the user's words (node,
-- variable, mass), and where the complete rows and frames it had are kept.
local result = require "neuromass.result"
local outputs = require "neuromass.outputs"
local bold = require "neuromass.run.bold"
local warnings = require "neuromass.run.warnings"
local check = require "neuromass._check"

local error, ipairs, string, table, tostring, pcall, pairs, math =
      error, ipairs, string, table, tostring, pcall, pairs, math

local M = {}

-- Where node and variable a signal belongs to, for error messages.
local function describe_signal(self, sig)
  for i, nd in ipairs(self.net.nodes) do
    for j, m in ipairs(nd.masses) do
      for local_name, s in pairs(self.layout.sig[i][j]) do
        if s == sig then return i - 1, nd.names[j][local_name], m.type.name end
      end
    end
  end
end

-- The engine's "cannot write '<path>': <detail>" for a file of output.csv or
-- output.bold, named as the preflight (outputs.lua) names outputs: the role
-- and the user's path ("output.bold '/proc/b.csv': cannot write it: ...").
local function io_reason(why, out, given)
  for _, o in ipairs { { "output.csv", out.csv, given.csv }, { "output.bold", out.bold_csv, given.bold } } do
    local role, path, spelt = o[1], o[2], o[3]
    local prefix = path and "cannot write '" .. path .. "': "
    if prefix and why:sub(1, #prefix) == prefix then
      return string.format("%s '%s': cannot write it%s: %s", role, spelt,
                           spelt ~= path and " (as '" .. path .. "')" or "", why:sub(#prefix + 1))
    end
  end
  return why
end

-- What a failed run says: why, and where the complete rows and frames it had
-- are kept (<stem>.partial.<ext>).  Signals exit the host with 128 + signo.
-- `out` and `given` (plan.output) name the output files.
local function fail_run(self, failure, out, given, o, dt, level)
  local method = o.method
  local au = out.au
  local kept, lost = { failure.csv_partial }, nil
  kept[#kept + 1] = failure.bold_partial
  if au and au.abort_partial then     -- the audio's complete frames, and its sidecar
    local paths
    paths, lost = au.abort_partial()
    for _, path in ipairs(paths) do kept[#kept + 1] = path end
  elseif au then
    au.writer:close()
  end
  local note = #kept == 0 and "" or "; kept what was done in '" .. table.concat(kept, "', '") .. "'"
  local kind, why = failure.kind, failure.message
  if lost then       -- (a full disk; said once when it is the run's own failure)
    note = note .. "; the audio's frames were not kept" ..
           ((kind == "audio" and lost == "output.audio: " .. why) and " (the same reason)" or ": " .. lost)
  end
  if kind == "nonfinite" and failure.bold then
    local node, var = describe_signal(self, failure.signal)
    why = string.format("simulated BOLD: %s (node %s feeds it %s of variable '%s')",
                        failure.message, tostring(node), self.bold_key or "?", tostring(var))
    if dt >= bold.LARGE_DT then
      why = why .. string.format("; the Balloon-Windkessel model is integrated with the model's " ..
                                 "dt: it diverges at dt = %s ms (use a dt of a few ms or less)", check.number(dt))
    end
    self.failed_at = { t = failure.t, why = "the simulated BOLD of node " .. tostring(node) ..
                                            " became NaN or infinite" }
  elseif kind == "nonfinite" then
    local node, var, massname = describe_signal(self, failure.signal)
    why = string.format("the simulation produced a NaN or infinite value at t = %s ms (node %s, " ..
                        "variable '%s' of mass '%s')", check.time(failure.t), tostring(node), tostring(var),
                        tostring(massname))
    if failure.t and failure.t <= 1.5 * dt then    -- (at once: an equation's value, rather than a blow-up)
      why = why .. "; at the first step, this is an equation's value more often than a blow-up: a division " ..
            "by a parameter that is 0, or the square root or log of a negative number (nm.mass declares the " ..
            "parameters that must not be 0 as nonzero = { ... }, those that must be > 0 as positive = { ... }: " ..
            "they are then checked before a run)"
    end
    self.failed_at = { t = failure.t, why = string.format("a NaN or infinite value in node %s, " ..
                                                          "variable '%s'", tostring(node), tostring(var)) }
  elseif kind == "step" then
    local node, var, massname = describe_signal(self, failure.signal)
    why = string.format("integrator '%s' could not go on past t = %s ms: node %s, variable '%s' " ..
                        "of mass '%s' changes too fast there for rtol = %s, atol = %s (a blow-up, a " ..
                        "system too stiff for it%s, or tolerances tighter than it can meet)", method,
                        check.time(failure.t), tostring(node), tostring(var), tostring(massname),
                        check.number(o.rtol), check.number(o.atol), method ~= "msbdf" and ": try msbdf" or "")
  elseif kind == "interrupted" then
    why = "interrupted by " .. why
    outputs.note_stop_kept(kept)         -- (for the host, should a pcall catch this message)
  elseif kind == "audio" then why = "output.audio: " .. why
  elseif kind == "io" then why = io_reason(why, out, given)
  elseif kind == "callback" then
    error(why .. note, 0)    -- a slow mass's message starts at the user's line
  end
  error("run: " .. why .. note, level + 1)
end

-- "N lookups in tables 'A', 'B' fell outside the grid and were clamped to its edge"
local function clamped_text(count, names)
  return string.format("%s in table%s %s fell outside the grid and %s clamped to its edge",
                       check.nouns(count, "lookup"), #names == 1 and "" or "s", table.concat(names, ", "),
                       count == 1 and "was" or "were")
end

-- What the clamping means for the user, after the count: ALN's tables (the
-- names models/aln.lua gives) are neurolib's, which clamps the same lookups
-- silently.  No option silences the warning; nm.table2d's entry says so.
local WHERE = "(docs/reference.md, nm.table2d; no option silences this warning)"
local function clamped_note(names)
  for _, name in ipairs(names) do
    if not name:find("^'ALN ") then
      return ": the lookups' arguments left the grid, and its edge's values stood in for the function " ..
             "the table samples: widen the grid or keep the arguments within it " .. WHERE
    end
  end
  return ": the inputs took the model outside the range of its precomputed transfer functions (rows: the " ..
         "mean input mu, columns: its spread sigma), and the edge's values stood in; neurolib clamps the " ..
         "same lookups, silently, so the results are as neurolib's " .. WHERE
end

-- An exploration's: each table's lookups summed over its runs; the count
-- said is the largest table's (tables looked up at the same arguments, as
-- ALN's, clamp together: a run's count is its first table's, the same).
warnings.summary("clamped", function(counts)
  local names, most = {}, 0
  for name, count in pairs(counts) do names[#names + 1] = name; most = math.max(most, count) end
  table.sort(names)
  return clamped_text(most, names) .. " in the exploration's runs" .. clamped_note(names)
end)

--- Lookups outside a table's grid are clamped, as neurolib does: says so on
-- stderr, once per model (the first run's count, in its first table that
-- clamped, and where) or, summed table by table, once per exploration
-- (run/warnings.lua's tally; the engine model `cm` counts them per run, in each table).
function M.warn_clamped(self, cm)
  local clamped, counts, first_count, first_row, first_col = {}, {}, 0, 0, 0
  for slot, tbl in ipairs(self.table_list or {}) do
    local count, row, col = cm:table_clamped(slot - 1)
    if count > 0 then
      clamped[#clamped + 1] = "'" .. tbl.name .. "'"
      counts[clamped[#clamped]] = (counts[clamped[#clamped]] or 0) + count
      if first_count == 0 then first_count, first_row, first_col = count, row, col end
    end
  end
  if #clamped > 0 then
    warnings.tally(self, "clamped", counts, string.format("%s (first at row value %s, column value %s)%s",
                   clamped_text(first_count, clamped), check.number(first_row), check.number(first_col),
                   clamped_note(clamped)))
  end
end

--[[ M.finish(model, o, plan, out, r, failure, level) -> the result of a run:
`r` and `failure` are what sim:run returned, `o` the options
(run/options.lua), `plan` run/plan.lua's, `out` the outputs (csv and
bold_csv paths, au the audio stream or nil).  A failure is an error at
`level`; so is audio that cannot be finished, the CSV files (output.csv,
output.bold) held under their temporary names then kept as
<stem>.partial.csv (the run's outputs appear together).  With audio,
`failure` is the held CSV files when the run succeeded. ]]
function M.finish(self, o, plan, out, r, failure, level)
  if not r then fail_run(self, failure, out, plan.output or {}, o, plan.sim_dt, level + 1) end
  local res = result.new(self, o.cols, plan.keep and r or nil, o.dt * o.every)
  res.dt, res.duration = plan.sim_dt, o.duration
  if plan.bold then
    local t_BOLD, rows, kept = plan.bold:take()   -- this run's rows (run/bold.lua)
    res.t_BOLD, res.BOLD = t_BOLD, rows and result.bold_rows(rows)
    res.bold_data = kept                          -- (for res:write_bold)
    res.BOLD_nodes = o.bold.nodes
  end
  if out.au then
    -- The run's outputs appear together or not at all: the CSV files wait
    -- (complete) under their temporary names while the audio and its sidecar
    -- are rendered, and are renamed into place with them.  When the audio
    -- cannot be finished they are kept as <stem>.partial.csv instead, and
    -- the error says where.
    local held, settled = failure, false
    local commit_csv = held and function()
      settled = true                    -- (a failed commit keeps the files as partial itself)
      local ok, commit_failure = held:commit()
      if not ok then
        local role = commit_failure.path == out.bold_csv and "output.bold" or "output.csv"
        local msg = commit_failure.message:gsub("^cannot write '[^']*': ", "")
        local kept = #commit_failure.kept > 0 and
                     " (the complete rows written are kept in '" .. table.concat(commit_failure.kept, "', '") .. "')"
        return nil, string.format("run: %s: cannot write '%s': %s%s", role, commit_failure.path, msg, kept or "")
      end
      return true
    end
    local ok, rep = pcall(out.au.finish, 1, commit_csv)
    if not ok then
      local msg = tostring(rep):gsub("^[^:]*:%d+: ", "")
      local kept, perr = {}, nil
      if held and not settled then kept, perr = held:keep_partial() end
      if kept and #kept > 0 then msg = msg .. "; kept what was done in '" .. table.concat(kept, "', '") .. "'" end
      if perr then
        msg = msg .. string.format("; the CSV's rows (complete) were not kept as '%s': %s",
                                   outputs.partial_name(perr.path), (perr.message:gsub("^cannot write '[^']*': ", "")))
      end
      error(msg, level + 1)
    end
    res.audio = rep
  end
  return res
end

return M
