-- stimulus_dt_spec.lua: composite stimuli at other time steps than the shared
-- references' 0.1 ms (0.05, 1, 0.3 and 0.01 ms) and at durations that are not
-- whole multiples of dt, against neurolib's own arrays (tests/fixtures/
-- stimulus_dt, made by its make_fixtures.py from neurolib/utils/stimulus.py):
-- as_array to 1e-12 (relative, at least 1e-12 absolute: glibc's sin/exp), and
-- the samples a run reads (a mass whose output is its driven parameter) equal
-- to as_array bit for bit, row t_k holding sample k - 1 (docs/stimulus.md,
-- "Time alignment").
local nm = require "neuromass"
local h = require "helpers"
local S = nm.stimulus

local TOL = 1e-12

local function sin(a, f, o) o = o or {} o.amplitude, o.frequency = a, f return S.SinusoidalInput(o) end

-- name -> { stimulus maker, duration, dt, samples }: the trees of make_fixtures.py.
local CASES = {
  { "D01_concat_sum_dt0.05", function()
      return (sin(1.3, 37, { start = 3.3, n = 2 }) + S.StepInput { step_size = 0.4, start = 7, ["end"] = 30, n = 2 })
           & S.SquareInput { amplitude = 0.3, frequency = 123, n = 2, dc_bias = true }
           & (S.LinearRampInput { inp_max = 2, ramp_length = 11, n = 2 }
              + S.ExponentialInput { inp_max = 1.5, exp_type = "decay", exp_coef = 7, n = 2 })
    end, 100, 0.05, 2000 },
  { "D02_nested_ratios_dt1", function()
      return S.ConcatenatedStimulus({ S.StepInput { step_size = 1 },
                                      S.ConcatenatedStimulus({ sin(1, 3), S.ZeroInput() }, { 3, 1 }) }, { 0.7, 1.9 })
    end, 2000, 1.0, 2000 },
  { "D03_offgrid_D123.4_dt0.3", function()
      return S.SquareInput { amplitude = 2, frequency = 41, start = 1.25, ["end"] = 97.5 }
           + S.ExponentialInput { inp_max = -1, exp_coef = 3, start = 10 }
    end, 123.4, 0.3, 412 },
  { "D04_rectified_concat_dt0.01", function() return S.RectifiedInput(0.8) & sin(1, 40) end, 250, 0.01, 25000 },
  { "D05_sum_of_concats_D77.7", function()
      return (S.StepInput { step_size = 1 } & S.StepInput { step_size = 2 })
           + (S.StepInput { step_size = 3 } & S.StepInput { step_size = 4 } & S.StepInput { step_size = 5 })
           + S.LinearRampInput { inp_max = 1, ramp_length = 33.3, start = 5 }
    end, 77.7, 0.1, 777 },
}

describe("composite stimuli at other time steps, against neurolib", function()
  for _, case in ipairs(CASES) do
    local name, make, D, dt, n_full = table.unpack(case)
    it(name .. ": as_array", function()
      local ref = h.read_csv(h.fixture("stimulus_dt/" .. name .. ".csv"))
      local a = make():as_array(D, dt)
      assert.are.equal(#ref.header - 1, #a, "channels")
      assert.are.equal(n_full, #a[1], "samples")
      for r = 1, ref.rows do
        local k = math.floor(ref.cols.t_ms[r] / dt + 0.5)          -- 1-based sample index
        for c = 1, #a do
          local want = ref.cols["ch" .. (c - 1)][r]
          assert(math.abs(a[c][k] - want) <= TOL * math.max(1, math.abs(want)),
                 string.format("%s: channel %d, sample %d: got %.17g, want %.17g", name, c - 1, k, a[c][k], want))
        end
      end
    end)
  end
end)

describe("the samples a run reads", function()
  local Probe = nm.mass { name = "Probe", state = { x = 0 }, params = { I = 0 },
                          derivatives = function() return { x = 0 } end,
                          outputs = function(_, p) return { u = p.I } end }

  for _, case in ipairs(CASES) do
    local name, make, D, dt = table.unpack(case)
    it(name .. ": are as_array's, row t_k holding sample k - 1", function()
      local st = make()
      local n = st.n
      local nodes = {}
      for i = 1, n do nodes[i] = nm.node { label = "P", masses = { Probe() } } end
      local model = nm.model(n == 1 and nodes[1] or nm.network { label = "Net", nodes = nodes })
      model.params["*.I"] = st
      st.duration = D                          -- laid out as the request of as_array(D, dt)
      local steps = math.floor(D / dt + 1e-9)  -- a run is a whole number of steps
      local res = model:run { duration = steps * dt, dt = dt, record = { "u" }, jit = false }
      local a = st:as_array(D, dt)
      for c = 1, n do
        local u = res:get("u", c - 1)
        assert.are.equal(steps, #u)
        for k = 2, steps do
          if u[k] ~= a[c][k - 1] then
            error(string.format("%s: node %d, row %d: %.17g, sample %d is %.17g", name, c - 1, k, u[k], k - 1,
                                a[c][k - 1]))
          end
        end
      end
    end)
  end
end)
