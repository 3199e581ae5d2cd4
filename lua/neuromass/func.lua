--- nm.func: neurolib's analysis functions (neurolib.utils.functions), with its
-- names, defaults and calling convention: positional arguments, keyword
-- arguments as a trailing options table (unknown keys are refused).  The
-- numbers are computed in the engine (src/engine/analysis_*.c) as numpy 1.24
-- and scipy 1.10 compute them.  A series is an array of numbers; a matrix an
-- array of rows (N x T, a row per node, a column per sample); results likewise.
-- Where a matrix is expected, a result and a variable name, (res, "x"), stand
-- for res:matrix("x").  Decisions on neurolib's quirks: docs/analysis.md.
local core = require "neuromass.core"
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local context = require "neuromass.context"

local C = core.func
local type, select, pcall, string, getmetatable, rawget, math, pairs, ipairs, tostring, table =
      type, select, pcall, string, getmetatable, rawget, math, pairs, ipairs, tostring, table

local M = {}

local function fail(name, msg)
  check.error(string.format("nm.func.%s: %s", name, msg), 2)
end

-- A result object: the library's Result, or any object whose class (its
-- metatable's __index table) has a matrix method; read raw, so that an object
-- whose missing fields raise (a model) is no result rather than an error here.
local function is_result(v)
  local mt = type(v) == "table" and getmetatable(v)
  if not mt then return false end
  local class = rawget(mt, "__index")
  return mt.__name == "neuromass.Result"
         or (type(class) == "table" and type(rawget(class, "matrix")) == "function")
end

-- neurolib's keyword arguments that Python also takes by position, in its
-- order, after the data arguments (`data` of them: fcd(ts, 300, 100)).
local POSITIONAL = {
  fcd = { data = "ts", "windowsize", "stepsize" },
  kuramoto = { data = "ts", "smoothing", "distance", "prominence" },
  getPowerSpectrum = { data = "x, dt", "maxfr", "spectrum_windowsize", "normalize" },
  getMeanPowerSpectrum = { data = "ts, dt", "maxfr", "spectrum_windowsize", "normalize" },
}

-- "; neurolib's positional arguments go by name: fcd(ts, { windowsize = 300 })"
-- for `values`, given where the options table goes; "" when they are not
-- such arguments (a table among them, or more than neurolib takes).
local function by_name(name, values)
  local order = POSITIONAL[name]
  if not order or #values == 0 or #values > #order then return "" end
  local parts = {}
  for k, v in ipairs(values) do
    if type(v) ~= "number" and type(v) ~= "boolean" then return "" end
    parts[k] = string.format("%s = %s", order[k], type(v) == "number" and check.number(v) or tostring(v))
  end
  return string.format("; neurolib's positional arguments go by name: %s(%s, { %s })", name, order.data,
                       table.concat(parts, ", "))
end

-- The data arguments of each function (the first ones; docs/reference.md's names).
local DATA = { fc = { "ts" }, fcd = { "ts" }, kuramoto = { "ts" }, getPowerSpectrum = { "x" },
               getMeanPowerSpectrum = { "ts" }, matrix_correlation = { "M1", "M2" },
               weighted_correlation = { "x", "y", "w" }, matrix_kolmogorov = { "m1", "m2" },
               ts_kolmogorov = { "ts1", "ts2" } }

-- The arguments with each (result, "var") pair replaced by result:matrix("var");
-- at most `max` of them.  Also returns, per argument so replaced, { res, var }.
local function arguments(name, max, ...)
  local n, a = select("#", ...), { ... }
  local out, from, k, i = {}, {}, 0, 1
  while i <= n do
    local v = a[i]
    if is_result(v) then
      local var = a[i + 1]
      if type(var) ~= "string" then
        fail(name, string.format("argument %d is a result: follow it with the name of a variable, " ..
                                 "e.g. (res, \"x\"), got %s", i, check.show(var)))
      end
      if type(v.matrix) ~= "function" then
        fail(name, "this result has no matrix method (res:matrix): pass an N x T array of rows instead")
      end
      -- (res:matrix's refusals are this function's: "nm.func.fc: ...", at the user's line)
      local ok, m = pcall(v.matrix, v, var)
      if not ok then
        fail(name, (tostring(m):gsub("^.-:%d+: ", ""):gsub("^res:matrix[^:]*: ", "")))
      end
      out[k + 1] = m
      from[k + 1] = { res = v, var = var }
      i = i + 2
    else
      out[k + 1] = v
      i = i + 1
    end
    k = k + 1
  end
  if k > max then
    fail(name, string.format("takes at most %s (the last one a table of options), got %d%s",
                             check.nouns(max, "argument"), k, by_name(name, table.move(out, max, k, 1, {}))))
  end
  -- data keyed from 0 (Python's habit): # counts from 1, and entry 0 would be dropped unsaid
  for d, arg in ipairs(DATA[name]) do
    local stim = check.stimulus_as_data(out[d], arg)
    if stim then fail(name, stim) end
    local zero = check.zero_based(out[d], true, arg)
    if zero ~= "" then fail(name, (zero:gsub("^; ", ""))) end
  end
  return out, from
end

-- The options table (nil: none) checked against `defaults`; a copy with the defaults filled in.
local function options(name, opts, defaults, allowed)
  local o = {}
  if opts == nil then opts = {} end
  if type(opts) ~= "table" or getmetatable(opts) ~= nil then
    fail(name, string.format("the last argument is a table of options (%s), got %s%s", allowed,
                             check.show(opts), by_name(name, { opts })))
  end
  local names = {}
  for k in allowed:gmatch("[%w_]+") do names[#names + 1] = k end
  if opts[1] ~= nil then   -- a list where the options go: e.g. a second result of a call spread in
    fail(name, string.format("the last argument is a table of options (%s), got a list %s", allowed,
                             check.show(opts)))
  end
  for k in keyorder.pairs(opts) do
    local known = false
    for _, n in ipairs(names) do known = known or n == k end
    if not known then
      fail(name, string.format("unknown option '%s' (known: %s)%s", tostring(k), allowed,
                               check.suggest(tostring(k), names)))
    end
  end
  for _, k in ipairs(names) do
    local v = opts[k]
    if v == nil then v = defaults[k] end
    o[k] = v
  end
  return o
end

-- A whole number >= min (option `key`).
local function whole(name, key, v, min)
  if v == nil then return nil end
  if not (check.finite(v) and v % 1 == 0 and v >= min and v <= 2^53) then
    fail(name, string.format("%s must be a whole number >= %d, got %s", key, min, check.show(v)))
  end
  return math.tointeger(v)
end

-- windowsize >= 2: a window of 1 sample has no variance, so its FC, and the
-- whole FCD, is NaN whatever the data.
local function windowsize(name, v)
  v = whole(name, "windowsize", v, 1)
  if v == 1 then
    fail(name, "windowsize must be at least 2 samples, got 1: a window of one sample has no variance, " ..
               "so every window FC (and the FCD) would be NaN")
  end
  return v
end

-- A number (option or argument `key`) that passes `ok`, else `rule` is what is allowed.
local function number(name, key, v, ok, rule)
  if type(v) ~= "number" or not ok(v) then
    fail(name, string.format("%s must be %s, got %s", key, rule, check.show(v)))
  end
  return v
end

local function positive(v) return v > 0 and v < math.huge end
local function not_nan(v) return v == v end

-- Is v the data of a dry run (`neuromass info` integrates nothing, so its
-- results hold no sample): an empty array, or rows of no value?
local function empty(v)
  return type(v) == "table" and (v[1] == nil or type(v[1]) == "table" and v[1][1] == nil)
end

-- Under `neuromass info`, a function given the empty data of a dry run has
-- checked its options and answers with an empty value of its kind (NaN for a
-- number), so that the script runs through; elsewhere empty data are refused.
-- Only empty tables are excused: another data argument that is not a table
-- (nil, a string) is refused as on a real run.
local dry_answer = { fc = "matrix", fcd = "matrix", kuramoto = "matrix", getPowerSpectrum = "pair",
                     getMeanPowerSpectrum = "pair" }
local function dry(name, ...)
  local ctx = context.get()
  if not (ctx and ctx.mode == "info") then return false end
  local names, any = DATA[name], false
  for i = 1, #names do any = any or empty((select(i, ...))) end
  if not any then return false end
  for i, arg in ipairs(names) do
    local v = select(i, ...)
    if type(v) ~= "table" then
      fail(name, string.format("%s must be %s, got %s", arg,
                               name == "weighted_correlation" and "an array of numbers"
                               or "a matrix (an array of rows)", check.show(v)))
    end
  end
  local kind = dry_answer[name]
  if kind == "matrix" then return true, {} end
  if kind == "pair" then return true, {}, {} end
  return true, check.NAN     -- (a NaN that prints as "nan")
end

-- What the engine's reasons start with for each core.func function: the
-- Lua side owns the prefix ("nm.func.NAME: "), so this one is dropped.
local ENGINE_PREFIX = { power_spectrum = "power spectrum: " }

-- Calls core.func[fn], its refusals raised at the user's line.
local function call(name, fn, ...)
  local is_dry, x, y = dry(name, ...)
  if is_dry then return x, y end
  local ok, a, b = pcall(C[fn], ...)
  if not ok then
    local prefix = ENGINE_PREFIX[fn] or (fn .. ": ")
    if type(a) == "string" and a:sub(1, #prefix) == prefix then a = a:sub(#prefix + 1) end
    fail(name, a)
  end
  return a, b
end

-- Is m an array of rows (its first entry a table)?
local function rows_of(m) return type(m) == "table" and type(m[1]) == "table" end


-- The matrix `m` that function `name` computed (fc, fcd) numbered
-- (_check.lua): a port's fc(ts)[0][1] is an error naming it, its range and
-- that Lua counts from 1, not "attempt to index a nil value".  A number
-- (fc of one row) as it is.
local function numbered(name, m)
  if type(m) ~= "table" then return m end
  return check.numbered_rows(m, name .. "(ts)")
end

--- fc(ts[, {skip = 0}]) -> N x N: functional connectivity, the Pearson matrix
-- of the rows of ts (N x T, any units) with NaN set to 0 (neurolib's fc):
-- a constant row gives a row and column of zeros, its diagonal included.
-- skip drops the first samples (e.g. BOLD's transient).  One row gives the
-- number 1.0 (0.0 if constant), not a 1 x 1 matrix, as neurolib does.
function M.fc(...)
  local a = arguments("fc", 2, ...)
  local o = options("fc", a[2], { skip = 0 }, "skip")
  return numbered("fc", call("fc", "fc", a[1], whole("fc", "skip", o.skip, 0)))
end

--- fcd(ts[, {windowsize = 30, stepsize = 5, skip = 0}]) -> n x n: FC dynamics
-- (neurolib's fcd): the FC (Pearson, no NaN cleaning) of windows of
-- `windowsize` samples starting every `stepsize` samples strictly below
-- T - windowsize, correlated pairwise as flat vectors of all N*N entries.
-- T <= windowsize gives an empty matrix {}.  A series (not a matrix) gives 0
-- and the reason, as neurolib's fcd returns 0 on a 1-D input.
function M.fcd(...)
  local a = arguments("fcd", 2, ...)
  local o = options("fcd", a[2], { windowsize = 30, stepsize = 5, skip = 0 },
                    "windowsize, stepsize, skip")
  local ts = a[1]
  if type(ts) == "table" and type(ts[1]) == "number" then
    return 0, "nm.func.fcd: ts is a series, not a matrix (N x T): neurolib's fcd returns 0"
  end
  return numbered("fcd", call("fcd", "fcd", ts, windowsize("fcd", o.windowsize),
                              whole("fcd", "stepsize", o.stepsize, 1), whole("fcd", "skip", o.skip, 0)))
end

-- A function of `nargs` arrays and no options: core.func[name].
local function plain(name, nargs)
  return function(...)
    local a = arguments(name, nargs, ...)
    return (call(name, name, table.unpack(a, 1, nargs)))
  end
end

-- The one value of every entry above the diagonal of the n x n matrix m (a
-- table of rows), or nil when they differ, one is NaN, or m is no such table.
local function constant_upper(m, n)
  if not rows_of(m) then return nil end
  local v = m[1][2]
  if v ~= v then return nil end
  for i = 1, n - 1 do
    for j = i + 1, n do
      if m[i][j] ~= v then return nil end
    end
  end
  return v
end

--- matrix_correlation(M1, M2) -> number: the Pearson correlation of the
-- entries strictly above the diagonal (row-major) of two square matrices of
-- the same size, as neurolib's code does (its docstring says "lower").
-- Matrices of 2 x 2 or less hold fewer than 2 such entries, and a matrix
-- whose entries above the diagonal are all one value has no variance: the
-- result is NaN, as neurolib's, with a warning saying why.
function M.matrix_correlation(...)
  local a = arguments("matrix_correlation", 2, ...)
  local r = call("matrix_correlation", "matrix_correlation", a[1], a[2])
  local n = rows_of(a[1]) and #a[1] or 0            -- (0: the empty data of a dry run)
  if r ~= r and n >= 1 and n <= 2 then
    check.warning("nm.func.matrix_correlation", string.format("M1 and M2 are %d x %d: %s above the diagonal, " ..
                  "and a correlation needs at least 2: the result is NaN", n, n,
                  n == 2 and "1 entry" or "no entry"))
  elseif r ~= r and n > 2 then
    for k, m in ipairs { a[1], a[2] } do
      local v = constant_upper(m, n)
      if v then
        check.warning("nm.func.matrix_correlation", string.format("M%d's entries above the diagonal are all %s: " ..
                      "they have no variance, so the result is NaN", k, check.number(v)))
      end
    end
  end
  return r
end

--- weighted_correlation(x, y, w) -> number: the w-weighted Pearson
-- coefficient of the series x and y (equal lengths; a negative weight is an
-- error naming the first, neurolib takes it; sum(w) = 0 gives NaN).
M.weighted_correlation = plain("weighted_correlation", 3)

--- matrix_kolmogorov(m1, m2) -> number: the two-sample Kolmogorov-Smirnov
-- statistic D (scipy.stats.ks_2samp, no p-value) between the entries strictly
-- above the diagonal of the square matrices m1 and m2 (sizes may differ).
M.matrix_kolmogorov = plain("matrix_kolmogorov", 2)

-- What would give ts_kolmogorov's FCD 2 windows or more when a series of T
-- samples, `skip` of them dropped, gives fewer: windows start every `s`
-- samples strictly below T - skip - w, so 2 need T - skip >= w + s + 1; a
-- window needs 2 samples (w >= 2) for its FC not to be NaN, so the least
-- that works is w = 2, s = 1 on 4 samples.
local function two_windows(T, w, s, skip)
  local left = T - skip
  if skip > 0 and T >= w + s + 1 then
    local most = T - w - s - 1
    return most == 0 and "no skip (skip = 0) would leave them"
           or string.format("a skip of at most %d would leave them", most)
  end
  local with_skip = skip > 0 and " with this skip" or ""
  if left < 4 then
    return string.format("%d samples%s are too few for any FCD to compare: the smallest, windowsize 2 and " ..
                         "stepsize 1, takes 4", math.max(left, 0), skip > 0 and " after the skip" or "")
  end
  local ways = {}
  if left - s - 1 >= 2 then ways[#ways + 1] = string.format("a windowsize of at most %d", left - s - 1) end
  if left - w - 1 >= 1 then ways[#ways + 1] = string.format("a stepsize of at most %d", left - w - 1) end
  if #ways == 0 then
    return string.format("windowsize + stepsize of at most %d would give them%s (windowsize >= 2), " ..
                         "e.g. { windowsize = %d, stepsize = 1 }", left - 1, with_skip, left - 2)
  end
  return table.concat(ways, ", or ") .. " would give them" .. with_skip
end

-- The reason ts_kolmogorov refuses the FCD `f` of `ts` (windows of w samples
-- every s, after `skip`) when it holds NaN, or nil: a window whose FC has a
-- constant (or NaN-holding) row makes its row and column of the FCD NaN, and
-- the KS statistic of NaN is undefined (scipy sorts NaN last).
local function nan_window(i, ts, f, w, s, skip)
  for a = 1, #f do
    if f[a][a] ~= f[a][a] then
      local first = skip + (a - 1) * s + 1
      for r = 1, #ts do
        local row, v0, same = ts[r], ts[r][first], true
        for t = first, first + w - 1 do
          if row[t] ~= row[t] then
            return string.format("ts%d's FCD window %d (samples %d to %d) has NaN in row %d (sample %d): " ..
                                 "that window's FC, hence the FCD, holds NaN, and the KS statistic of NaN " ..
                                 "is undefined", i, a, first, first + w - 1, r, t)
          end
          same = same and row[t] == v0
        end
        if same then
          return string.format("ts%d's FCD window %d (samples %d to %d) has a constant row %d (%s " ..
                               "throughout): that window's FC, hence the FCD, holds NaN, and the KS " ..
                               "statistic of NaN is undefined", i, a, first, first + w - 1, r,
                               check.number(v0))
        end
      end
      return string.format("ts%d's FCD window %d (samples %d to %d) has an FC whose entries are all equal " ..
                           "(with windowsize %d every pair of nodes correlates alike): its FCD row holds NaN, " ..
                           "and the KS statistic of NaN is undefined", i, a, first, first + w - 1, w)
    end
  end
  return nil
end

--- ts_kolmogorov(ts1, ts2[, {windowsize = 30, stepsize = 5, skip = 0}]) -> number:
-- matrix_kolmogorov of the FCD matrices of the two N x T series (fcd with
-- these options: neurolib passes its keyword arguments on to fcd; skip drops
-- the first samples, e.g. BOLD's transient).  Each FCD must have 2 windows or
-- more: a series too short for them (after the skip) is refused saying which
-- skip, windowsize or stepsize would do.
function M.ts_kolmogorov(...)
  local a = arguments("ts_kolmogorov", 3, ...)
  local o = options("ts_kolmogorov", a[3], { windowsize = 30, stepsize = 5, skip = 0 }, "windowsize, stepsize, skip")
  local w, s = windowsize("ts_kolmogorov", o.windowsize),
               whole("ts_kolmogorov", "stepsize", o.stepsize, 1)
  local skip = whole("ts_kolmogorov", "skip", o.skip, 0)
  if dry("ts_kolmogorov", a[1], a[2]) then return check.NAN end
  local f = {}
  for i = 1, 2 do
    if not rows_of(a[i]) and type(a[i]) == "table" and type(a[i][1]) == "number" then
      fail("ts_kolmogorov", string.format("ts%d is a series, not a matrix (N x T): its fcd is " ..
                                          "neurolib's 0, which has no upper triangle", i))
    end
    -- (the engine checks the data first, unless the skip leaves none of it)
    local T = rows_of(a[i]) and #a[i][1]
    if not (T and skip >= T) then f[i] = call("ts_kolmogorov", "fcd", a[i], w, s, skip, "ts" .. i) end
    if not f[i] or #f[i] < 2 then
      fail("ts_kolmogorov", string.format("ts%d gives %s (T = %d%s, windowsize %d, stepsize %d): at least 2 " ..
                                          "are needed, which take windowsize + stepsize + 1 = %d samples; %s", i,
                                          check.nouns(f[i] and #f[i] or 0, "FCD window"), T,
                                          skip > 0 and string.format(", skip %d leaves %d", skip, math.max(T - skip, 0))
                                          or "", w, s, w + s + 1, two_windows(T, w, s, skip)))
    end
    local nan = nan_window(i, a[i], f[i], w, s, skip)
    if nan then fail("ts_kolmogorov", nan) end
  end
  return (call("ts_kolmogorov", "matrix_kolmogorov", f[1], f[2]))
end

--- kuramoto(ts[, {smoothing = 0, distance = 10, prominence = 5}]) -> R:
-- the Kuramoto order parameter over time (length T) from the peaks of each
-- row of ts (N x T): the phase runs from 0 to 2π between consecutive peaks
-- (scipy's find_peaks with distance in samples and prominence in the data's
-- units, on a copy smoothed by a Gaussian of `smoothing` samples when > 0).
-- When a row has no peak it returns 0 and the reason, as neurolib does.
function M.kuramoto(...)
  local a = arguments("kuramoto", 2, ...)
  local o = options("kuramoto", a[2], { smoothing = 0, distance = 10, prominence = 5 },
                    "smoothing, distance, prominence")
  number("kuramoto", "smoothing", o.smoothing, function(v) return v >= 0 and v <= 1e6 end,
         "a number of samples from 0 to 1e6")      -- (the engine's Gaussian filter's limit)
  number("kuramoto", "distance", o.distance, function(v) return v >= 1 and v < math.huge end,
         "a number of samples >= 1")
  number("kuramoto", "prominence", o.prominence, not_nan, "a number")
  local R, row = call("kuramoto", "kuramoto", a[1], o.smoothing, o.distance, o.prominence)
  if R == 0 then
    return 0, string.format("nm.func.kuramoto: trace %d (row %d) has no peak of prominence >= %s " ..
                            "(distance %s, smoothing %s): neurolib returns 0", row, row + 1,
                            check.number(o.prominence), check.number(o.distance),
                            check.number(o.smoothing))
  end
  return R
end

local spectrum_defaults = { maxfr = 70, spectrum_windowsize = 1.0, normalize = false }
local spectrum_keys = "maxfr, spectrum_windowsize, normalize"

local function spectrum_options(name, dt, opts)
  if type(dt) == "table" and type(dt.dt) == "number" then   -- neurolib's dt=0.1, made an option
    fail(name, string.format("dt must be a positive number of ms, got %s; dt is the second argument, not " ..
                             "an option: %s(%s, %s, { maxfr = ... })", check.show(dt), name,
                             POSITIONAL[name].data:match("^%w+"), check.number(dt.dt)))
  end
  local o = options(name, opts, spectrum_defaults, spectrum_keys)
  number(name, "dt", dt, positive, "a positive number of ms")
  number(name, "maxfr", o.maxfr, function(v) return v > 0 end,
         "a positive number of Hz (the frequencies below it are kept)")
  number(name, "spectrum_windowsize", o.spectrum_windowsize, positive, "a positive number of s")
  if o.spectrum_windowsize * 1000 / dt < 1 then   -- (the engine's nperseg: needs no data)
    fail(name, string.format("spectrum_windowsize %s s is shorter than one sample of dt = %s ms",
                             check.number(o.spectrum_windowsize), check.number(dt)))
  end
  if type(o.normalize) ~= "boolean" then
    fail(name, string.format("normalize must be true or false, got %s", check.show(o.normalize)))
  end
  return o
end

-- The sampling step (ms) of the data read from a result (`src`, arguments'
-- { res, var }) when dt is not given: its sampling_dt, or for "BOLD" the
-- engine's BOLD step at the run's dt (NDt * dt: the difference of two
-- t_BOLD, g * dt apart, can be an ulp off, 2000.0000000000002, and then
-- int(spectrum_windowsize * 1000 / dt) is a sample short), else the spacing
-- of res.t_BOLD.
local function result_dt(name, src)
  local res, var = src.res, src.var
  if var == "BOLD" then
    local step = rawget(res, "dt")
    if type(step) == "number" and step > 0 and step <= 4000 then return core.bold_step(step) end
    local t = rawget(res, "t_BOLD")
    if type(t) ~= "table" or type(t[2]) ~= "number" then
      fail(name, "dt is not given and the result's BOLD has fewer than 2 samples to take it from: give dt " ..
                 "(ms between BOLD samples)")
    end
    return t[2] - t[1]
  end
  local dt = rawget(res, "sampling_dt")
  if type(dt) ~= "number" then
    fail(name, "dt is not given and the result does not say its sampling_dt: give dt (ms between samples)")
  end
  return dt
end

-- The data, dt and options of a spectrum function: (data, dt[, opts]), or,
-- when the data came from a result, (res, var[, opts]) with dt the result's
-- sampling step (result_dt).
local function spectrum_arguments(name, ...)
  local a, from = arguments(name, 3, ...)
  local dt = a[2]
  if from[1] and (dt == nil or type(dt) == "table" and getmetatable(dt) == nil and dt.dt == nil) then
    if a[3] ~= nil then
      fail(name, string.format("takes (res, var, dt[, options]) or (res, var[, options]), got a table " ..
                               "where dt goes, then %s", check.show(a[3])))
    end
    return a[1], result_dt(name, from[1]), dt
  end
  return a[1], dt, a[3]
end

-- Warns when spectrum_windowsize (s) holds more samples of dt than the
-- series' T: the segment is shrunk to the series, as scipy does (with its
-- warning; the engine's nm_spectrum_nperseg).
local function window_longer(name, T, dt, ws)
  local m = math.floor(ws * 1000 / dt)
  if T and m > T then
    check.warning("nm.func." .. name, string.format("spectrum_windowsize %s s is %d samples of dt = %s ms, " ..
                  "longer than the series' %d samples: the window is shrunk to %d samples (%s s), as scipy's " ..
                  "welch does", check.number(ws), m, check.number(dt), T, T, check.number(T * dt / 1000)))
  end
end

--- getPowerSpectrum(x, dt[, {maxfr = 70, spectrum_windowsize = 1.0,
-- normalize = false}]) -> f, P: Welch's power spectrum of the series x (or a
-- 1 x T matrix) sampled every dt ms: segments of spectrum_windowsize s (at
-- most the series), Hann window, 50 % overlap, "spectrum" scaling (units of
-- x squared); frequencies f (Hz) below maxfr; normalize divides by the peak.
function M.getPowerSpectrum(...)
  local x, dt, opts = spectrum_arguments("getPowerSpectrum", ...)
  if type(x) ~= "table" then
    fail("getPowerSpectrum", string.format("x must be a series (an array of numbers) or a 1 x T " ..
                                           "matrix, got %s", check.show(x)))
  end
  local o = spectrum_options("getPowerSpectrum", dt, opts)
  local series = false
  if rows_of(x) then
    if #x ~= 1 then
      fail("getPowerSpectrum", string.format("x must be one series (or a 1 x T matrix), got %d rows: " ..
                                             "use getMeanPowerSpectrum", #x))
    end
  elseif not dry("getPowerSpectrum", x) then
    -- a series: checked here, so that messages name x[k], not the row it is wrapped in
    local n = #x
    if n == 0 then
      fail("getPowerSpectrum", "x has no samples: it is an empty table {}")
    end
    for k = 1, n do
      if x[k] == nil then
        fail("getPowerSpectrum", string.format("x has a hole: entry %d is nil (arrays must have no holes)", k))
      elseif type(x[k]) ~= "number" then
        fail("getPowerSpectrum", string.format("x[%d] must be a number, got %s", k, check.show(x[k])))
      end
    end
    local beyond                          -- (the first entry set past the hole, whatever pairs' order)
    for k in pairs(x) do
      if math.type(k) == "integer" and k > n and (not beyond or k < beyond) then beyond = k end
    end
    if beyond then
      fail("getPowerSpectrum", string.format("x has a hole: entry %d is nil but entry %d is set " ..
                                             "(arrays must have no holes)", n + 1, beyond))
    end
    x = { x }
    series = true
  end
  local f, P = call("getPowerSpectrum", "power_spectrum", x, dt, o.maxfr, o.spectrum_windowsize, o.normalize,
                    "x", series)
  window_longer("getPowerSpectrum", rows_of(x) and #x[1], dt, o.spectrum_windowsize)   -- (none: a dry run)
  return f, P
end

--- getMeanPowerSpectrum(ts, dt[, same options]) -> f, P: the mean of the
-- power spectra of the rows of ts (N x T), then normalised if asked.
function M.getMeanPowerSpectrum(...)
  local ts, dt, opts = spectrum_arguments("getMeanPowerSpectrum", ...)
  local o = spectrum_options("getMeanPowerSpectrum", dt, opts)
  local f, P = call("getMeanPowerSpectrum", "power_spectrum", ts, dt, o.maxfr, o.spectrum_windowsize,
                    o.normalize)
  window_longer("getMeanPowerSpectrum", rows_of(ts) and #ts[1], dt, o.spectrum_windowsize)
  return f, P
end

-- A misspelt name (nm.func.FC) is an error with a suggestion.
return check.strict_module(M, "nm.func")
