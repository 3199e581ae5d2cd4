-- threads_spec.lua: Euler on several threads gives exactly the bits of one
-- thread (coupling rows, lanes and noise channels are split, never a sum).
local nm = require "neuromass"

local function random_network(N, seed)
  local r = require("neuromass.models._native").rng(seed)
  local C, D = {}, {}
  for i = 1, N do
    C[i], D[i] = {}, {}
    for j = 1, N do
      local on = i ~= j and r() < 0.1
      C[i][j], D[i][j] = on and r() or 0, on and 150 * r() or 0
    end
  end
  return C, D
end

describe("threads", function()
  -- FHN on a random 300-node network (300 lanes) for `duration` ms on `threads`
  -- threads (nil: the automatic mode), against one thread: x and y bit for bit.
  local function same_as_one_thread(threads, duration)
    local C, D = random_network(300, 11)
    local function go(th)
      local m = nm.models.fhn.native { Cmat = C, Dmat = D, coupling = "additive", K_gl = 0.05,
                                       sigma_ou = 0.05, seed = 4 }
      return m:run { duration = duration, dt = 0.1, sampling_dt = 0.5, seed = 9, threads = th }
    end
    local a, b = go(1), go(threads)
    for _, var in ipairs { "x", "y" } do
      for i = 0, 299 do assert.are.same(a:get(var, i), b:get(var, i)) end
    end
  end

  it("give bit-identical results on 1 and 2 threads (300 nodes, noise, delays)", function()
    same_as_one_thread(2, 100)
  end)

  -- A count computed in Lua is often a float (4 / 2 is 2.0): a whole number is a whole number,
  -- as for `seed` and nm.func's window sizes.
  it("take a whole count given as a float (threads = 4 / 2), with the bits of one thread", function()
    same_as_one_thread(4 / 2, 20)
  end)

  it("give bit-identical results in the automatic mode, which switches between 1 and 2", function()
    -- The automatic mode times 250 steps on one thread, then tries threads
    -- under that pace (src/engine/sim.c run_balanced); tests/c/test_threads.c
    -- stops them at every step.
    same_as_one_thread(nil, 150)
  end)

  -- Threads other than the first sum their rows from copies of the delay history
  -- (src/engine/step_threads.c), which must be taken again at the start of every
  -- threaded stretch: a serial run in between writes only the shared history.  FHN
  -- (the threads push the history) and Wilson-Cowan (clamped: thread 0 pushes it).
  it("give the bits of one thread when threaded and serial runs take turns (continue = true)",
     function()
    local C, D = random_network(300, 3)
    for _, name in ipairs { "fhn", "wc" } do
      local function make()
        return nm.models[name].native { Cmat = C, Dmat = D, K_gl = 0.3, sigma_ou = 0.05, seed = 1 }
      end
      local function go(counts)
        local m, parts = make(), {}
        for k, th in ipairs(counts) do
          parts[k] = m:run { duration = 10, dt = 0.1, seed = 5, threads = th, continue = k > 1 }
        end
        return parts
      end
      local a, b = go { 1, 1, 1 }, go { 2, 1, 2 }
      for k = 1, 3 do
        for _, var in ipairs(a[k].variables) do
          for i = 0, 299 do assert.are.same(a[k]:get(var, i), b[k]:get(var, i), name .. " run " .. k) end
        end
      end
    end
  end)

  -- Threads write the next step's inputs of their own noise channels; a stimulus
  -- replacing a channel (every node's input_0 here, input_1 keeping its process) is
  -- applied after them, on thread 0, as on one thread.
  it("give the bits of one thread when a stimulus replaces a noise channel", function()
    local C, D = random_network(300, 7)
    local function go(threads, stimulated)
      local m = nm.models.fhn.native { Cmat = C, Dmat = D, K_gl = 0.3, sigma_ou = 0.05, seed = 3 }
      if stimulated then
        m.params["*.input_0"] = nm.stimulus.SinusoidalInput { amplitude = 0.5, frequency = 40 }
      end
      return m:run { duration = 30, dt = 0.1, seed = 8, threads = threads }
    end
    local a, b, free = go(1, true), go(2, true), go(2, false)
    for _, var in ipairs { "x", "y" } do
      for i = 0, 299 do assert.are.same(a:get(var, i), b:get(var, i)) end
    end
    assert.are_not.same(free:get("x", 0), b:get("x", 0))
  end)

  it("give bit-identical results for a heterogeneous network with outputs and tables", function()
    local C, D = random_network(40, 5)
    local function go(threads)
      local m = nm.models.aln.native { Cmat = C, Dmat = D, sigma_ou = 0.1, seed = 2 }
      return m:run { duration = 50, dt = 0.1, threads = threads, seed = 1 }
    end
    local a, b = go(1), go(2)
    for i = 0, 39 do
      assert.are.same(a:get("rates_exc", i), b:get("rates_exc", i))
      assert.are.same(a:get("IA", i), b:get("IA", i))
    end
  end)
end)

-- More threads than cores wait on each other at every step's barriers (FHN-80 with
-- threads = 64 on 2 cores: 70 times slower than one thread): the run says so, once
-- per model, and gives the same bits.
describe("threads over the machine's cores", function()
  local h = require "helpers"
  teardown(h.remove_scratch)

  it("warn once per model, naming the count and the cores, with the bits of one thread", function()
    local dir = h.scratch()
    h.write(dir .. "/over.lua", [[
local nm = require "neuromass"
local cores = nm.context().cores
local m = nm.models.fhn.native { Cmat = { { 0, 1, 0 }, { 1, 0, 1 }, { 0, 1, 0 } },
                                 Dmat = { { 0, 5, 0 }, { 5, 0, 5 }, { 0, 5, 0 } }, seed = 3 }
local a = m:run { duration = 20, threads = 1 }
local b = m:run { duration = 20, threads = cores + 1 }
local c = m:run { duration = 20, threads = cores + 1 }
for i = 0, 2 do
  local x, y, z = a:get("x", i), b:get("x", i), c:get("x", i)
  for k = 1, #x do assert(x[k] == y[k] and x[k] == z[k]) end
end
io.stderr:write("cores=", cores, "\n")
]])
    local status, _, err = h.sh(h.q(h.exe) .. " run " .. h.q(dir .. "/over.lua"))
    assert.equals(0, status, err)
    local cores = tonumber(err:match("cores=(%d+)"))
    local warning = string.format("neuromass: warning: run: threads = %d is more than the " ..
                                  "%d cores", cores + 1, cores)
    local first = err:find(warning, 1, true)
    assert.truthy(first, err)
    assert.falsy(err:find(warning, first + 1, true))
  end)

  -- The cores are those the process may run on (its CPU affinity: taskset, a
  -- cgroup's cpuset, Slurm's --cpus-per-task), not the machine's: before, a
  -- process held to one core counted 2 and its threads spun waiting for each other.
  it("are the cores the process may run on (taskset -c 0: one)", function()
    local dir = h.scratch()
    h.write(dir .. "/held.lua", [[
local nm = require "neuromass"
local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 5 }, { 5, 0 } }, seed = 3 }
local a, b = m:run { duration = 5, threads = 1 }, m:run { duration = 5, threads = 2 }
for k, v in ipairs(a:get("x", 0)) do assert(v == b:get("x", 0)[k]) end
io.stderr:write("cores=", nm.context().cores, "\n")
]])
    local status, _, err = h.sh("taskset -c 0 " .. h.q(h.exe) .. " run " .. h.q(dir .. "/held.lua"))
    assert.equals(0, status, err)
    assert.truthy(err:find("cores=1\n", 1, true), err)
    assert.truthy(err:find("run: threads = 2 is more than the 1 core this process may run on", 1, true), err)
  end)
end)
