--- bench/lib.lua: helpers shared by the benchmark (bench/bench.lua) and the spec
-- of the hand-written ALN loop (tests/spec/bench_aln_loop_spec.lua): the
-- initial-state file that bench/limit/aln_net.c reads, reading its rates CSV,
-- and the worst error of the engine's rates relative to their range.
local M = {}

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

return M
