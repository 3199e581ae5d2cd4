-- callback_spec.lua: the slow path (masses with slow = true, whose derivatives
-- the engine calls back in Lua) and the safety of neuromass.core used
-- directly.  `make check-valgrind` runs this file under valgrind: each case
-- here once crashed or read freed memory.
local nm = require "neuromass"
local h = require "helpers"
local core = require "neuromass.core"
local R = require("helpers").run_opts

local err_of = h.error_of   -- the message of a call that must fail

-- The line after the call.
local function next_line() return debug.getinfo(2, "l").currentline + 1 end

local function slow_model(derivatives)
  local M = nm.mass { label = "Slow", state = { v = 1.0 }, params = { tau = 10.0 }, slow = true,
                      derivatives = derivatives }
  return nm.model(nm.node { masses = { M() } })
end

local function decay(s, p) return { v = -s.v / p.tau } end

describe("the slow path", function()
  it("runs on the thread that runs the model, not on a collected coroutine", function()
    local m = slow_model(decay)
    local co = coroutine.wrap(function() return m:run { duration = 5, dt = 0.1 } end)
    local first = co():get("v")
    co = nil -- luacheck: ignore (let it be collected)
    collectgarbage()
    collectgarbage()
    local again = m:run { duration = 5, dt = 0.1 }:get("v")
    assert.are.same(first, again)
    assert.near(0.99 ^ 50, again[#again], 1e-12)       -- Euler, dt = tau / 100
  end)

  it("refuses a model:run of the running model from its derivatives, at that line", function()
    local m, nested = nil, true
    local line = next_line()
    m = slow_model(function(s, p) if nested then m:run { duration = 1 } end return decay(s, p) end)
    local msg = err_of(m.run, m, { duration = 1, dt = 0.1 })
    assert.matches("callback_spec%.lua:" .. line .. ": slow mass 'Slow': run: model '[^']*' is already running: " ..
                   "a slow mass's derivatives cannot run the model they belong to", msg)
    nested = false                                  -- and the model runs again afterwards
    assert.are.equal(10, #m:run({ duration = 1, dt = 0.1 }):get("v"))
  end)

  it("reports an error object that is a table at the line that raised it", function()
    local line = next_line()
    local m = slow_model(function() error({ code = 42 }) end)
    local msg = err_of(m.run, m, { duration = 1 })
    assert.matches("^[^\n]*callback_spec%.lua:" .. line .. ": slow mass 'Slow': error raised with a table " ..
                   "{ code = 42 } instead of a message %(give error%(%) a string%)", msg)
  end)

  it("uses an error object's __tostring", function()
    local line = next_line()
    local m = slow_model(function() error(setmetatable({}, { __tostring = function() return "custom" end })) end)
    assert.matches("callback_spec%.lua:" .. line .. ": slow mass 'Slow': custom$", err_of(m.run, m, { duration = 1 }))
  end)

  it("says in plain words, at one line, that derivatives cannot yield", function()
    local line = next_line()
    local m = slow_model(function() coroutine.yield(1) return { v = 0 } end)
    local co = coroutine.wrap(function() return select(2, pcall(m.run, m, { duration = 1 })) end)
    local msg = co()
    assert.matches("^[^\n]*callback_spec%.lua:" .. line .. ": slow mass 'Slow': its derivatives " ..
                   "cannot yield %(coroutine%.yield%): the engine calls them in the middle of a step$",
                   msg)
    assert.not_matches("callback_spec%.lua:%d+:.*callback_spec%.lua:%d+:", msg)
  end)

  it("reports a string error at the user's line", function()
    local line = next_line()
    local m = slow_model(function() error("the cell burst") end)
    assert.matches("^callback_spec%.lua:" .. line .. ": slow mass 'Slow': the cell burst$",
                   (err_of(m.run, m, { duration = 1 }):gsub("^.-(callback_spec)", "%1")))
  end)

  it("reports derivatives that return no table, or no number, at the derivatives' line", function()
    local line = next_line()
    local m = slow_model(function() return 3 end)
    assert.matches("callback_spec%.lua:" .. line .. ": slow mass 'Slow': derivatives returned " ..
                   "3, not a table", err_of(m.run, m, { duration = 1 }))
    line = next_line()
    m = slow_model(function() return { v = "fast" } end)
    assert.matches("callback_spec%.lua:" .. line .. ": slow mass 'Slow': derivatives gave " ..
                   "\"fast\" %(a string%) for 'v', not a number", err_of(m.run, m, { duration = 1 }))
  end)

  it("keeps the complete rows of a streamed run that a slow mass stops", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(core.mkdir_p(dir))
    local m = slow_model(function(s, p, _, t)
      if t > 50 then error("stop here") end
      return decay(s, p)
    end)
    local msg = err_of(m.run, m, { duration = 100, dt = 0.1, output = { csv = dir .. "/v.csv" } })
    local f = io.open(dir .. "/v.partial.csv")
    local rows = 0
    if f then for _ in f:lines() do rows = rows + 1 end f:close() end
    local final = io.open(dir .. "/v.csv")
    os.execute("rm -rf " .. dir)
    assert.matches("stop here; kept what was done in '[^']*/v%.partial%.csv'", msg)
    assert.is_nil(final)
    assert.is_true(rows > 1)
  end)

  -- A failing callback fails the step it ran in before that step changes the state:
  -- continuing then gives the rows of the run that never failed, bit for bit (the
  -- failed step's row included), with each fixed-step integrator.
  for _, integrator in ipairs { "euler", "heun", "rk4" } do
    it("leaves the state of the last whole step when a slow mass fails (" .. integrator .. "): " ..
       "continuing goes on from there", function()
      local fail = false
      local function model()
        local M = nm.mass { label = "Slow", slow = true, state = { x = 0.3, y = 0.1, order = { "x", "y" } },
                            params = { a = 0.5 },
                            derivatives = function(s, p, _, t)
                              if fail and t >= 5 then fail = false; error("fails at t >= 5") end
                              return { x = -p.a * s.x + s.y, y = -s.x }
                            end }
        return nm.model(nm.node { masses = { M() } })
      end
      local whole = model():run { duration = 6, dt = 0.1, integrator = integrator }
      local m = model()
      fail = true
      local msg = err_of(m.run, m, { duration = 6, dt = 0.1, integrator = integrator })
      assert.matches("fails at t >= 5", msg)
      local rest = m:run { duration = 1, dt = 0.1, integrator = integrator, continue = true }
      local t, x, y = whole:get("t"), whole:get("x"), whole:get("y")
      local t2, x2, y2 = rest:get("t"), rest:get("x"), rest:get("y")
      -- The failed step is the first whose stages reach t = 5 (Euler's: 5.0 to 5.1; Heun's
      -- and RK4's last stage: 4.9 to 5.0); its row is the first the continued run gives.
      local k0 = integrator == "euler" and 51 or 50        -- (rows from t = 0.1)
      assert.are.equal(string.format("%.17g", t[k0]), string.format("%.17g", t2[1]))
      for j = 1, #t2 do
        assert.are.equal(string.format("%a %a", x[k0 + j - 1], y[k0 + j - 1]),
                         string.format("%a %a", x2[j], y2[j]), "row " .. j)
      end
    end)
  end
end)

describe("neuromass.core used directly", function()
  local function model()
    local m = core.model { n_state = 1, n_aux = 0, n_param = 2, n_input = 1 }
    m:set_initial { 1.0 }
    return m
  end
  local function spec(kind, idx)
    return { read_kind = { kind }, read_idx = { idx }, write_kind = { 0 }, write_idx = { 0 } }
  end
  local function d0() return { 0 } end

  it("refuses parameter and input reads outside the model", function()
    local m = model()
    assert.matches("read_idx%[1%] = 2 is not a parameter of the model %(0 to 1%)",
                   err_of(m.add_callback, m, d0, spec(1, 2)))
    assert.matches("read_idx%[1%] = 1 is not a input of the model %(0 to 0%)",
                   err_of(m.add_callback, m, d0, spec(2, 1)))
    assert.matches("read_kind%[1%] is 7; allowed", err_of(m.add_callback, m, d0, spec(7, 0)))
    assert.matches("write_idx%[1%] = 5 is not a state variable",
                   err_of(m.add_callback, m, d0, { read_kind = {}, read_idx = {},
                                                   write_kind = { 0 }, write_idx = { 5 } }))
    assert.matches("set_param: no parameter slot %-1", err_of(m.set_param, m, -1, 0))
  end)

  it("keeps a model alive while a simulation uses it, and refuses to free or change it", function()
    local m = model()
    m:add_callback(function(v) return { -v[1] } end, spec(0, 0))
    local s = core.sim(m, 0.1, 0)
    assert.matches("free: the model is used by 1 simulation", err_of(m.free, m))
    assert.matches("clamp: the model is used by 1 simulation", err_of(m.add_clamp, m, 0, 0, 1))
    assert.matches("add_callback: the model is used", err_of(m.add_callback, m, d0, spec(0, 0)))
    m = nil -- luacheck: ignore (let it be collected)
    collectgarbage()
    collectgarbage()
    local r = assert(s:run(R { n_steps = 10, record = { 0 }, keep = true }))
    assert.near(0.9 ^ 10, r:value(9, 1), 1e-12)
  end)

  it("refuses a simulation step that is not a positive finite number, and a negative seed", function()
    local m = model()
    assert.matches("sim: dt must be a positive finite number %(ms%), got %-?nan", err_of(core.sim, m, 0 / 0))
    assert.matches("got inf", err_of(core.sim, m, math.huge))
    assert.matches("got %-0%.1", err_of(core.sim, m, -0.1))
    assert.matches("the seed must not be negative, got %-3", err_of(core.sim, m, 0.1, -3))
  end)

  it("refuses a userdata of the wrong type", function()
    local m = model()
    local s = core.sim(m, 0.1, 0)
    assert.matches("neuromass%.Model expected, got neuromass%.Simulation", err_of(core.sim, s, 0.1))
    assert.matches("neuromass%.Simulation expected, got neuromass%.Model", err_of(s.run, m, {}))
    assert.matches("neuromass%.Model expected, got neuromass%.Simulation",
                   err_of(m.add_callback, s, d0, spec(0, 0)))
  end)

  it("frees a model once its simulations are freed", function()
    local m = model()
    local s = core.sim(m, 0.1, 0)
    s:free()
    s:free()                                        -- twice is harmless
    m:free()
    assert.matches("freed model", err_of(m.set_param, m, 0, 0))
    assert.matches("freed model", err_of(core.sim, m, 0.1))
  end)

  it("refuses to free a simulation, or run its model again, from inside its run", function()
    local m = model()
    local s
    local seen = {}
    m:add_callback(function(v)
      if #seen == 0 then
        seen[1] = select(2, pcall(s.free, s))
        seen[2] = select(2, s:run(R { n_steps = 1, record = {} }))
      end
      return { -v[1] }
    end, spec(0, 0))
    s = core.sim(m, 0.1, 0)
    assert(s:run(R { n_steps = 3, record = { 0 } }))
    assert.matches("free: the simulation is running", seen[1])
    assert.are.equal("busy", seen[2].kind)
  end)

  it("reports a failing callback as a failure, not a raised error", function()
    local m = model()
    m:add_callback(function() error("bad") end, spec(0, 0))
    local s = core.sim(m, 0.1, 0)
    local r, failure = s:run(R { n_steps = 3, record = { 0 } })
    assert.is_nil(r)
    assert.are.equal("callback", failure.kind)
    assert.matches("callback_spec%.lua:%d+: bad", failure.message)
  end)
end)
