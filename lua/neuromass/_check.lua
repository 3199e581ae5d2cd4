--- Argument checking and friendly errors shared by the library's constructors.
local type, error, pairs, string, table, math, ipairs = type, error, pairs, string, table, math, ipairs

local M = {}

--- Edit distance counting a swap of neighbours as one edit (optimal string
-- alignment), for "did you mean" suggestions: 'tua' is one edit from 'tau'.
function M.distance(a, b)
  local la, lb = #a, #b
  local d = {}
  for i = 0, la do d[i] = { [0] = i } end
  for j = 0, lb do d[0][j] = j end
  for i = 1, la do
    for j = 1, lb do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:sub(i, i) == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == b:sub(j, j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[la][lb]
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
