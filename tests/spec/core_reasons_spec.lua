-- core_reasons_spec.lua: neuromass.core used directly with bad arguments.
-- Every refusal says what and which (the object, the index or value, the
-- limit), at the caller's line: never a bare "invalid argument", never
-- "bad argument #-1 to '?'".
local core = require "neuromass.core"
local R = require("helpers").run_opts

-- The message of the error `f` raises when called from this file's line `line`.
local function refusal(f)
  local line = debug.getinfo(2, "l").currentline
  local ok, err = pcall(function() return f() end)
  assert.is_false(ok, "expected an error")
  err = tostring(err)
  assert.is_nil(err:find("invalid argument", 1, true), err)
  assert.is_nil(err:find("bad argument #%-"), err)
  assert.matches("^[^:]*core_reasons_spec%.lua:" .. line .. ": ", err)
  return err
end

-- 2 state variables, 1 algebraic output, 3 parameters, 2 inputs.
local function small() return core.model { n_state = 2, n_aux = 1, n_param = 3, n_input = 2 } end

-- A stimulus leaf node with every field the binding reads, those in `over` replacing them.
local function leaf(over)
  local d = { kind = "step", channels = 1, p1 = 0, p2 = 0, p3 = 0, dc_bias = false, decay = false,
              seed = 0, key = 0 }
  for k, v in pairs(over) do d[k] = v end
  return d
end

-- A one-node graph (a leaf) stored by one root, with fields replaced by `over`.
local function graph(over)
  local g = { op = { "signal" }, a = { -1 }, b = { -1 }, c = { -1 }, value = { 0 }, slot = { 0 },
              delay = { 0 }, root_node = { 0 }, root_sink = { "deriv" }, root_slot = { 0 } }
  for k, v in pairs(over or {}) do g[k] = v end
  return g
end

local function coupling(over)
  local c = { mode = "additive", dst = { 0 }, row_ptr = { 0, 1 }, src = { 0 }, delay = { 0 },
              weight = { 1 } }
  for k, v in pairs(over or {}) do c[k] = v end
  return c
end

describe("neuromass.core refusals", function()
  it("name the clamp, wrap and noise, the index or value, and the model's limit", function()
    local m = small()
    assert.matches("clamp: signal 5 is not a state variable %(the model has 2",
                   refusal(function() m:add_clamp(5, 0, 1) end))
    assert.matches("clamp of signal 0: the range %[1, %-1%]", refusal(function() m:add_clamp(0, 1, -1) end))
    assert.matches("wrap of signal 1: the period is %-1", refusal(function() m:add_wrap(1, -1) end))
    assert.matches("wrap of signal 0: the period is inf", refusal(function() m:add_wrap(0, math.huge) end))
    assert.matches("wrap: signal 2 is not a state variable", refusal(function() m:add_wrap(2, 1) end))
    assert.matches("noise: input 9 does not exist %(the model has 2",
                   refusal(function() m:add_noise(9, 0, 1, 2, 0) end))
    assert.matches("the tau parameter slot 7 does not exist %(the model has 3",
                   refusal(function() m:add_noise(0, 0, 1, 7, 0) end))
    assert.matches("the sigma parameter slot 7 does not exist",
                   refusal(function() m:add_noise(0, 0, 7, 0, 0, true) end))
  end)

  it("name the coupling's row, term or field and the value", function()
    local m = small()
    assert.matches("coupling: row 0 writes input 5, but the model has 2 inputs",
                   refusal(function() m:add_coupling(coupling { dst = { 5 } }) end))
    assert.matches("coupling: term 0 reads signal 9, but the model has 3 signals",
                   refusal(function() m:add_coupling(coupling { src = { 9 } }) end))
    assert.matches("coupling: row 0 reads its own signal 7",
                   refusal(function() m:add_coupling(coupling { mode = "diffusive", self = { 7 } }) end))
    assert.matches("coupling: row_ptr%[0%] is 1, it must be 0",
                   refusal(function() m:add_coupling(coupling { row_ptr = { 1, 1 } }) end))
    assert.matches("coupling: field 'mode' is 'sideways'; allowed: additive or diffusive",
                   refusal(function() m:add_coupling(coupling { mode = "sideways" }) end))
    assert.matches("coupling: 'src', 'delay' and 'weight' have 1, 1 and 2 entries",
                   refusal(function() m:add_coupling(coupling { weight = { 1, 2 } }) end))
    assert.matches("coupling: row_ptr%[1%] is 5; it must be 0 to the number of terms %(1%)",
                   refusal(function() m:add_coupling(coupling { row_ptr = { 0, 5 } }) end))
    assert.matches("field 'weight': element 1 is 'one', not a number",
                   refusal(function() m:add_coupling(coupling { weight = { "one" } }) end))
    assert.matches("field 'src': element 1 is 0.5, not an integer",
                   refusal(function() m:add_coupling(coupling { src = { 0.5 } }) end))
  end)

  it("name the program's node, root or slot and the model's size", function()
    local m = small()
    assert.matches("program: reads parameter 5, but the model has 3 parameters",
                   refusal(function() m:add_program("rhs", graph { op = { "param" }, slot = { 5 } }, 1) end))
    assert.matches("program: writes the derivative of state variable 9, but the model has 2",
                   refusal(function() m:add_program("rhs", graph { root_slot = { 9 } }, 1) end))
    assert.matches("program: root 0 stores node 4, but the graph has 1 nodes",
                   refusal(function() m:add_program("rhs", graph { root_node = { 4 } }, 1) end))
    assert.matches("program: node 0 %(operation %d+%): operand a is node 3",
                   refusal(function() m:add_program("rhs", graph { op = { "neg" }, a = { 3 } }, 1) end))
    assert.matches("program: node 0's operation is 'parm'; allowed: const, signal",
                   refusal(function() m:add_program("rhs", graph { op = { "parm" } }, 1) end))
    assert.matches("program: root 0's sink is 'derivative'; allowed: deriv, signal or input",
                   refusal(function() m:add_program("rhs", graph { root_sink = { "derivative" } }, 1) end))
    assert.matches("add_program: the stage is 'rhs2'; allowed: sync, rhs or after",
                   refusal(function() m:add_program("rhs2", graph(), 1) end))
    assert.matches("add_program: lanes must be at least 1, got 0",
                   refusal(function() m:add_program("rhs", graph(), 0) end))
  end)

  it("refuse graph arrays of different lengths (they were read past their end)", function()
    local m = small()
    assert.matches("program: field 'b' has 0 entries; it needs one per node %(1%)",
                   refusal(function() m:add_program("rhs", graph { b = {} }, 1) end))
    assert.matches("program: field 'root_slot' has 0 entries; it needs one per root %(1%)",
                   refusal(function() m:add_program("rhs", graph { root_slot = {} }, 1) end))
    assert.matches("program: root 0 stores node 4294967296",
                   refusal(function() m:add_program("rhs", graph { root_node = { 1 << 32 } }, 1) end))
  end)

  it("name the table's axis and its values", function()
    local m = small()
    local function tbl(row_axis) return { rows = 2, cols = 2, row_axis = row_axis, col_axis = { 0, 1, 1 },
                                         values = { 1, 2, 3, 4 } } end
    assert.matches("table: the row axis %(first 0, step 0, last 1%) needs finite values, a positive step",
                   refusal(function() m:add_table(tbl { 0, 0, 1 }) end))
    assert.matches("table: the row axis %(first %-?nan", refusal(function() m:add_table(tbl { 0 / 0, 1, 1 }) end))
    assert.matches("table: expected 4 values %(2 x 2%), got 3",
                   refusal(function() m:add_table { rows = 2, cols = 2, row_axis = { 0, 1, 1 },
                                                    col_axis = { 0, 1, 1 }, values = { 1, 2, 3 } } end))
  end)

  it("say which initial values, dt and run fields are wrong", function()
    local m = small()
    assert.matches("initial values: 1 given, the model has 3 signals",
                   refusal(function() m:set_initial { 1 } end))
    assert.matches("sim: dt must be a positive finite number %(ms%), got %-1",
                   refusal(function() core.sim(m, -1) end))
    assert.matches("sim: dt must be a positive finite number %(ms%), got inf",
                   refusal(function() core.sim(m, math.huge) end))
    local s = core.sim(m, 0.1)
    assert.matches("run: field 'method' is 'rk5'; allowed: euler, heun, rk4, rkf45, rk8pd or msbdf",
                   refusal(function() s:run(R { n_steps = 1, record = {}, method = "rk5" }) end))
    assert.matches("run: field 'n_steps' must be an integer, got 1.5",
                   refusal(function() s:run(R { n_steps = 1.5, record = {} }) end))
    assert.matches("run: field 'rtol' must be a number, got 'tight'",
                   refusal(function() s:run(R { n_steps = 1, record = {}, rtol = "tight" }) end))
    assert.matches("run: threads must be 0 %(automatic%) to %d+, got 1099511627776",
                   refusal(function() s:run(R { n_steps = 1, record = {}, threads = 1 << 40 }) end))
    assert.matches("run: keep_cols is 7; it must be 1 to 2",
                   refusal(function() s:run(R { n_steps = 1, record = { 0 }, keep_cols = 7 }) end))
    assert.matches("run: field 'stimuli' must be an array of { stim =, slot =, channel =, kind = }, got a nil",
                   refusal(function() local o = R { n_steps = 1 }; o.stimuli = nil; return s:run(o) end))
    assert.matches("run: field 'drivers' must be an array of { slot =, values = }, got a number",
                   refusal(function() s:run(R { n_steps = 1, record = {}, drivers = 42 }) end))
    assert.matches("run: drivers%[1%] must be a table { slot =, values = }, got a string",
                   refusal(function() s:run(R { n_steps = 1, record = {}, drivers = { "p" } }) end))
    assert.matches("run: decimate is 0; it must be at least 1",
                   refusal(function() s:run(R { n_steps = 1, record = { 0 }, decimate = 0 }) end))
    assert.matches("model: field 'n_state' must not be negative, got %-1",
                   refusal(function() core.model { n_state = -1 } end))
    assert.matches("model: field 'n_aux' must be an integer, got 0.5",
                   refusal(function() core.model { n_state = 1, n_aux = 0.5, n_param = 0, n_input = 0 } end))
    -- the binding has no defaults: the library passes every field
    assert.matches("model: field 'n_input' is missing %(internal error",
                   refusal(function() core.model { n_state = 1, n_aux = 0, n_param = 0 } end))
    local no_every = R { n_steps = 1 }
    no_every.every = nil
    assert.matches("run: field 'every' is missing %(internal error", refusal(function() s:run(no_every) end))
    local no_csv = R { n_steps = 1 }
    no_csv.csv = nil
    assert.matches("run: field 'csv' must be a path or false, got a nil %(internal error",
                   refusal(function() s:run(no_csv) end))
    assert.matches("run: unknown option 'n_step' %(known: n_steps, every,",
                   refusal(function() s:run(R { n_step = 1, record = {} }) end))
    assert.matches("model: unknown option 'nstate'", refusal(function() core.model { nstate = 1 } end))
    assert.matches("coupling: unknown option 1 %(known: mode, dst", refusal(function() small():add_coupling { 1 } end))
    s:free()
  end)

  it("name the result's row or column, the table index and callback kinds, with the values", function()
    local m = small()
    local s = core.sim(m, 0.1)
    local r = s:run(R { n_steps = 3, record = { 0 }, keep = true })
    assert.matches("result: no column 2 %(it has 2, from 0; 0 is the time%)",
                   refusal(function() r:column(2) end))
    assert.matches("result: no row 3 %(it has 3, from 0%)", refusal(function() r:value(3, 0) end))
    assert.matches("result: no column %-1", refusal(function() r:value(0, -1) end))
    assert.matches("table_clamped: no table 0 %(the model has 0, from 0%)",
                   refusal(function() m:table_clamped(0) end))
    local function spec(rk, wk) return { read_kind = { rk }, read_idx = { 0 }, write_kind = { wk },
                                        write_idx = { 0 } } end
    s:free()                                        -- a model used by a simulation cannot change
    local d0 = function() end
    assert.matches("read_kind%[1%] is 4294967296; allowed",             -- it showed 0
                   refusal(function() m:add_callback(d0, spec(1 << 32, 0)) end))
    assert.matches("write_kind%[1%] is %-4294967295; allowed",
                   refusal(function() m:add_callback(d0, spec(0, 1 - (1 << 32))) end))
  end)

  it("name the stimulus node, its field and the value (they said 'bad argument #-1')", function()
    assert.matches("stimulus: node 1: field 'kind' is 'steps'; allowed: zero, wiener, .* or concat",
                   refusal(function() core.stimulus({ { kind = "steps" } }, 10, 0.1) end))
    assert.matches("stimulus: node 1: field 'seed' must be an integer, got 1.5",
                   refusal(function() core.stimulus({ leaf { kind = "ou", p3 = 5, seed = 1.5 } }, 10, 0.1) end))
    assert.matches("stimulus: node 1: field 'channels' is %-1; it must not be negative",
                   refusal(function() core.stimulus({ leaf { kind = "step", channels = -1 } }, 10, 0.1) end))
    assert.matches("stimulus: node 1: field 'p1' must be a number, got 'x'",
                   refusal(function() core.stimulus({ leaf { kind = "step", p1 = "x" } }, 10, 0.1) end))
    local no_decay = leaf {}
    no_decay.decay = nil
    assert.matches("stimulus: node 1: field 'decay' is missing %(internal error",
                   refusal(function() core.stimulus({ no_decay }, 10, 0.1) end))
    assert.matches("stimulus: node 1: unknown option 'amplitude' %(known: kind,",
                   refusal(function() core.stimulus({ { kind = "sin", amplitude = 1 } }, 10, 0.1) end))
    assert.matches("stimulus: node 2 is a number, not a table",
                   refusal(function() core.stimulus({ leaf { kind = "zero" }, 5 }, 10, 0.1) end))
    local ragged = { leaf { kind = "array", values = { { 1, 2 }, { 1 } } } }
    assert.matches("stimulus: node 1: values%[2%] has 1 samples, values%[1%] has 2",
                   refusal(function() core.stimulus(ragged, 10, 0.1) end))
    local concat = { { kind = "concat", children = 2, ratios = { 1 } } }
    assert.matches("stimulus: node 1: 1 ratios for 2 children",
                   refusal(function() core.stimulus(concat, 10, 0.1) end))
  end)

  it("refuse a negative length of the stimulus nodes or samples (n + 1 wrapped)", function()
    local negative = setmetatable({}, { __len = function() return -1 end })
    assert.matches("field 'nodes' has a length of %-1 elements",
                   refusal(function() core.stimulus(negative, 10, 0.1) end))
    assert.matches("field 'values' has a length of %-1 elements",
                   refusal(function() core.stimulus({ leaf { kind = "array", values = negative } }, 10, 0.1) end))
  end)

  it("name a stimulus render's count, and refuse a size that cannot be counted", function()
    local st = core.stimulus({ leaf { channels = 2, p1 = 1 } }, 10, 0.1)
    assert.matches("render: count is %-1; it must be 0 or more", refusal(function() st:render(-1) end))
    local a, failure = st:render(1 << 62)
    assert.is_nil(a)
    assert.are.equal("size", failure.kind)
    assert.are.equal(2 * 2 ^ 62 * 24, failure.bytes)
    assert.are.same({ { 1, 1 }, { 1, 1 } }, st:render(2))
    assert.matches("stim_stream_seed: channel is %-1",
                   refusal(function() core.stim_stream_seed(1, 0, -1) end))
  end)

  it("name the run's stimulus driver, its field and the value", function()
    local m = small()
    local st = core.stimulus({ leaf { p1 = 1 } }, 10, 0.1)
    local s = core.sim(m, 0.1)
    -- The options of a run driven by one stimulus driver, its fields replaced by `over`.
    local function drv(over)
      local d = { stim = st, slot = { 0 }, channel = { 0 }, kind = { "param" } }
      for k, v in pairs(over) do d[k] = v end
      return R { n_steps = 1, record = {}, stimuli = { d } }
    end
    assert.matches("run: stimuli%[1%] is a string, not a table",
                   refusal(function() s:run(R { n_steps = 1, record = {}, stimuli = { "st" } }) end))
    assert.matches("run: stimuli%[1%]%.stim is a number, not a stimulus",
                   refusal(function() s:run(drv { stim = 3 }) end))
    assert.matches("run: stimuli%[1%]%.kind%[1%] is 'parameter'; allowed: param or input",
                   refusal(function() s:run(drv { kind = { "parameter" } }) end))
    assert.matches("run: stimuli%[1%]%.kind is a boolean, not an array",
                   refusal(function() s:run(drv { kind = false }) end))
    assert.matches("run: stimuli%[1%]%.channel%[1%] is %-2; channels count from 0",
                   refusal(function() s:run(drv { channel = { -2 } }) end))
    assert.matches("run: stimuli%[1%]: slot, channel and kind have 1, 1 and 2 entries",
                   refusal(function() s:run(drv { kind = { "param", "input" } }) end))
    s:free()
  end)
  it("hand failures back in one shape: nil and { kind =, message =, ... }", function()
    local st, f = core.stimulus({ leaf { channels = 2 }, leaf { channels = 3 } }, 10, 0.1)
    assert.is_nil(st)
    assert.are.same({ "stimulus", 2, "tree" }, { f.kind, f.node, f.why })    -- a node left over
    assert.matches("stimulus: node 1 %(a request of 10 ms at dt = 0.1 ms%): a malformed tree", f.message)
    local r, rf = core.csv_reader("/nonexistent/in.csv")
    assert.is_nil(r)
    assert.are.equal("io", rf.kind)
    assert.matches("cannot read '/nonexistent/in.csv': No such file", rf.message)
    -- a whole file written the one way: nothing is left when it cannot be written
    local p, pf = core.write_temp("/nonexistent/side.json", "{}")
    assert.is_nil(p)
    assert.are.same({ "io", "No such file or directory" }, { pf.kind, pf.message })
    local dir = os.tmpname()
    os.remove(dir)
    assert(core.mkdir_p(dir))
    local pending = assert(core.write_temp(dir .. "/side.json", "{}\n"))
    assert.is_nil(io.open(dir .. "/side.json"))
    assert.is_true(pending:commit())
    local f2 = assert(io.open(dir .. "/side.json"))
    assert.are.equal("{}\n", f2:read("a"))
    f2:close()
    local again = assert(core.write_temp(dir .. "/other.json", "{}"))
    again:discard()
    os.remove(dir .. "/side.json")
    assert.is_true(os.remove(dir))                  -- empty: the discarded file left nothing
    local mk, mf = core.mkdir_p("/proc/version/x")
    assert.is_nil(mk)
    assert.are.equal("io", mf.kind)
  end)

  -- Array tasks of several machines write one shared folder (an
  -- exploration's parts/points.txt, each its part, per-point saves): two
  -- processes of the same id there wrote the same temporary file, and
  -- one's rename took the other's half-written text.
  it("a temporary file's name holds the process id and the machine's name (core.temp_name, write_temp's)", function()
    local host = assert(io.popen("hostname")):read("l"):gsub("[^%w%._%-]", "_")
    local pid = assert(io.open("/proc/self/stat")):read("n")
    local dir = os.tmpname()
    os.remove(dir)
    assert(core.mkdir_p(dir))
    assert.are.equal(dir .. "/p.txt.tmp-" .. pid .. "." .. host, core.temp_name(dir .. "/p.txt"))
    local pending = assert(core.write_temp(dir .. "/p.txt", "1\n"))
    assert.are.equal(core.temp_name(dir .. "/p.txt"), pending:temp())
    assert.truthy(io.open(core.temp_name(dir .. "/p.txt")))
    pending:discard()
    assert.is_true(os.remove(dir))
  end)

  it("core.claim: true for the call that creates the file, false once it exists; a missing folder is an io failure",
     function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(core.mkdir_p(dir))
    assert.is_true(core.claim(dir .. "/7"))
    assert.is_false(core.claim(dir .. "/7"))
    assert.are.equal("", assert(io.open(dir .. "/7")):read("a"))
    local c, cf = core.claim(dir .. "/none/7")
    assert.is_nil(c)
    assert.are.same({ "io", "No such file or directory" }, { cf.kind, cf.message })
    os.remove(dir .. "/7")
    assert.is_true(os.remove(dir))
  end)

  it("core.lock_dir: a lock of a folder; false while another holds it; released by release() or __close",
     function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(core.mkdir_p(dir))
    local lock = assert(core.lock_dir(dir))
    assert.is_false(core.lock_dir(dir))
    lock:release()
    do
      local _ <close> = assert(core.lock_dir(dir))
      assert.is_false(core.lock_dir(dir))
    end
    assert.truthy(core.lock_dir(dir))
    local l, lf = core.lock_dir(dir .. "/none")
    assert.is_nil(l)
    assert.are.same({ "io", "No such file or directory" }, { lf.kind, lf.message })
    assert.is_true(os.remove(dir))
  end)

  it("core.list_dir: the names of a folder's entries; a missing folder has none; a file is an io failure", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(core.mkdir_p(dir .. "/sub"))
    local f = assert(io.open(dir .. "/a b.csv", "w"))
    f:close()
    local names = assert(core.list_dir(dir))
    table.sort(names)
    assert.are.same({ "a b.csv", "sub" }, names)
    assert.are.same({}, core.list_dir(dir .. "/none"))
    local l, lf = core.list_dir(dir .. "/a b.csv")
    assert.is_nil(l)
    assert.are.same({ "io", "Not a directory" }, { lf.kind, lf.message })
    os.remove(dir .. "/a b.csv")
    os.remove(dir .. "/sub")
    assert.is_true(os.remove(dir))
  end)
end)
