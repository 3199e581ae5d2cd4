--- Argument checking and friendly errors shared by the library's constructors.
local type, error, pairs, string, table, math, ipairs = type, error, pairs, string, table, math, ipairs

local M = {}

--- Edit distance, for "did you mean" suggestions.
function M.distance(a, b)
  local la, lb = #a, #b
  local prev, cur = {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    cur[0] = i
    for j = 1, lb do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev, cur = cur, prev
  end
  return prev[lb]
end

--- The candidate nearest to `name`, if it is near enough to be a likely typo.
function M.nearest(name, candidates)
  local best, bd
  for _, c in ipairs(candidates) do
    local d = M.distance(name, c)
    if not bd or d < bd or (d == bd and c < best) then best, bd = c, d end
  end
  if best and bd <= math.max(2, #name // 3) then return best end
end

function M.suggest(name, candidates)
  local near = M.nearest(name, candidates)
  return near and string.format("; did you mean '%s'?", near) or ""
end

--- Rejects unknown keys of an option table (level: as for error()).
function M.fields(t, allowed, what, level)
  if type(t) ~= "table" then
    error(string.format("%s expects a table, got %s", what, type(t)), level + 1)
  end
  local names = {}
  for k in pairs(allowed) do names[#names + 1] = k end
  table.sort(names)
  for k in pairs(t) do
    if type(k) ~= "string" or not allowed[k] then
      error(string.format("%s: unknown field '%s'%s", what, tostring(k),
                          M.suggest(tostring(k), names)), level + 1)
    end
  end
end

--- A square matrix (array of rows) of size n, or an error naming `what`.
function M.matrix(m, n, what, level)
  if type(m) ~= "table" or #m ~= n then
    error(string.format("%s must be a %dx%d matrix (got %s rows)", what, n, n,
                        type(m) == "table" and #m or type(m)), level + 1)
  end
  for i = 1, n do
    if type(m[i]) ~= "table" or #m[i] ~= n then
      error(string.format("%s must be a %dx%d matrix (row %d has %s entries)", what, n, n, i,
                          type(m[i]) == "table" and #m[i] or "no"), level + 1)
    end
    for j = 1, n do
      if type(m[i][j]) ~= "number" or m[i][j] ~= m[i][j] then
        error(string.format("%s[%d][%d] is not a number", what, i, j), level + 1)
      end
    end
  end
  return m
end

return M
