-- explore_read_spec.lua: explore/table.lua's reader refuses a results table
-- (results.csv, a task's or a worker's part) that was cut short or edited by
-- hand, naming the file, the line, the column and the value, rather than
-- joining a row whose status or numbers are not what the writer writes (a
-- status "o" was kept as a failed point, a metric "abc" dropped, a point
-- given twice silently replaced); and `neuromass explore --merge` of such a
-- part fails, joining nothing.
local h = require "helpers"
local tbl = require "neuromass.explore.table"

local q = h.q

local HEADER = "point,a,seed,m,status\n"

describe("explore/table.read", function()
  local dir
  before_each(function() dir = h.scratch() end)
  after_each(function() h.remove_scratch() end)

  -- The result of reading `text` as a table.
  local function read(text)
    h.write(dir .. "/t.csv", text)
    return tbl.read(dir .. "/t.csv")
  end

  -- Writes the parts { NAME = rows after the header } under x/parts and merges x: the
  -- command's status, stdout and stderr.
  local function merge(parts)
    assert.equals(0, (h.sh("mkdir -p " .. q(dir .. "/x/parts"))))
    for name, rows in pairs(parts) do h.write(dir .. "/x/parts/" .. name, HEADER .. rows) end
    return h.sh(q(h.exe) .. " explore --merge " .. q(dir .. "/x"))
  end

  it("reads what table.write writes: numbers, nan and inf, failed statuses with commas and quotes", function()
    local rows = { [1] = tbl.row(1, { "a" }, { a = 0.5 }, 17, { m = 0.25 }, "ok"),
                   [2] = tbl.row(2, { "a" }, { a = -1 }, 18, nil, tbl.failed('boom, "q"')),
                   [3] = tbl.row(3, { "a" }, { a = math.huge }, 19, { m = 0 / 0 }, "ok") }
    assert.is_true(tbl.write(dir .. "/t.csv", { "a" }, rows))
    assert.equals(HEADER .. '1,0.5,17,0.25,ok\n2,-1,18,,"failed: boom, ""q"""\n3,inf,19,nan,ok\n',
                  h.read(dir .. "/t.csv"))
    local t = assert(tbl.read(dir .. "/t.csv"))
    assert.same({ "a" }, t.names)
    assert.equals('failed: boom, "q"', t.rows[2].status)
    assert.equals("nan", t.rows[3].metrics.m)
    -- (saved again with CRLF line ends, as an editor may: the same rows)
    assert.same(t, read((h.read(dir .. "/t.csv"):gsub("\n", "\r\n"))))
  end)

  it("refuses a row whose status, numbers or point are not the writer's, naming the line, column and value",
     function()
    local cases = {
      { "1,0.5,17,0.25,o\n", "line 2: status 'o' is neither ok nor failed: <message>" },
      { "1,0.5,17,0.25,\n", "line 2: status '' is neither ok nor failed: <message>" },
      { "1,0.5,17,0.25,okay\n", "line 2: status 'okay' is neither ok nor failed: <message>" },
      { "1,0.5,17,0.0.25,ok\n", "line 2: m = '0.0.25' is not a number" },
      { "1,0.5,17,abc,ok\n", "line 2: m = 'abc' is not a number" },
      { "1,x,17,0.25,ok\n", "line 2: a = 'x' is not a number" },
      { "1,,17,0.25,ok\n", "line 2: a = '' is not a number" },
      { "1,0.5,1.5,0.25,ok\n", "line 2: seed = '1.5' is not a whole number from 0 to 2^63 - 1" },
      { "1,0.5,-2,0.25,ok\n", "line 2: seed = '-2' is not a whole number from 0 to 2^63 - 1" },
      { "1,0.5,17,0.25,ok\n1,0.5,17,0.5,ok\n", "line 3 repeats point 1 (line 2)" },
    }
    for _, c in ipairs(cases) do
      local t, err = read(HEADER .. c[1])
      assert.is_nil(t, c[1])
      assert.equals(string.format("'%s/t.csv' %s: the file was cut short or edited (mend or remove the row, or " ..
                                  "remove the file)", dir, c[2]), err)
    end
  end)

  it("refuses a header that names a column twice, and a file cut short in its last line", function()
    local t, err = read("point,a,a,seed,status\n1,1,2,3,ok\n")
    assert.is_nil(t)
    assert.equals(string.format("'%s/t.csv' names the column 'a' twice in its header: the file was edited " ..
                                "(remove it)", dir), err)
    -- (cut inside a failed status: every cell still reads; only the missing line break tells)
    t, err = read(HEADER .. "1,0.5,17,,failed: bo")
    assert.is_nil(t)
    assert.equals(string.format("'%s/t.csv' line 2 has no line break at its end: the file was cut short (mend or " ..
                                "remove the row, or remove the file)", dir), err)
  end)

  it("explore --merge refuses two computed rows of one point whose metrics differ (another evaluate or model)",
     function()
    -- (two arrays of one space and seed run in one folder, the script changed between them: the
    -- merge kept the first part's row of each point, silently, a table of both explorations)
    local s, out, e = merge { ["task-0-of-1.csv"] = "1,0.5,17,0.25,ok\n2,0.5,18,0.5,ok\n",
                              ["task-1-of-2.csv"] = "2,0.5,18,1,ok\n" }
    assert.equals(1, s, out)
    assert.equals(string.format("neuromass: explore: '%s/x/parts/task-0-of-1.csv' holds m = 0.5 at point 2, " ..
                                "'%s/x/parts/task-1-of-2.csv' m = 1: they are parts of different explorations " ..
                                "(another evaluate, model or run)\n", dir, dir), e)
    assert.is_nil(io.open(dir .. "/x/results.csv"))
    -- the same rows twice (a part left beside the table it was joined into), and a failed row
    -- beside a computed one (the computed wins), join
    s, out, e = merge { ["task-1-of-2.csv"] = "2,0.5,18,0.5,ok\n", ["task-0-of-2.csv"] = "1,0.5,17,,failed: boom\n" }
    assert.equals(0, s, e)
    assert.truthy(out:find("/x/results.csv: 2 rows (3 parts joined)", 1, true), out)
    assert.equals(HEADER .. "1,0.5,17,0.25,ok\n2,0.5,18,0.5,ok\n", h.read(dir .. "/x/results.csv"))
  end)

  it("an incomplete explore --merge joins an older results.csv into results.partial.csv, leaving one table",
     function()
    -- (an older neuromass kept the rows done so far under results.csv; a merge that left it beside the
    -- partial table it wrote made a folder of two tables, one of them named as a whole one)
    assert.equals(0, (h.sh("mkdir -p " .. q(dir .. "/x"))))
    h.write(dir .. "/x/results.csv", HEADER .. "1,0.5,17,0.25,ok\n")
    local s, out, e = merge { ["task-2-of-3.csv"] = "3,0.5,19,0.75,ok\n" }
    assert.equals(1, s, out .. e)
    assert.truthy((out .. e):find("missing: point", 1, true), out .. e)
    assert.equals(HEADER .. "1,0.5,17,0.25,ok\n3,0.5,19,0.75,ok\n", h.read(dir .. "/x/results.partial.csv"))
    assert.is_nil(io.open(dir .. "/x/results.csv"))
    assert.truthy(io.open(dir .. "/x/parts/task-2-of-3.csv"))          -- (kept: the tasks' layout)
    s, out, e = merge { ["task-0-of-3.csv"] = "1,0.5,17,0.25,ok\n", ["task-1-of-3.csv"] = "2,0.5,18,0.5,ok\n" }
    assert.equals(0, s, out .. e)
    assert.equals(HEADER .. "1,0.5,17,0.25,ok\n2,0.5,18,0.5,ok\n3,0.5,19,0.75,ok\n", h.read(dir .. "/x/results.csv"))
    assert.is_nil(io.open(dir .. "/x/results.partial.csv"))
  end)

  it("explore --merge refuses a points.txt that is not the tasks' (edited), or whose count the rows pass", function()
    -- (before: rows past its count were joined, and a points.txt that does not read was taken for none:
    -- "holds no points.txt (parts of an older neuromass)")
    local parts = { ["task-0-of-2.csv"] = "1,0.5,4630328204109920689,0.25,ok\n",
                    ["task-1-of-2.csv"] = "2,0.5,3610338450994394856,0.5,ok\n" }
    assert.equals(0, (h.sh("mkdir -p " .. q(dir .. "/x/parts"))))
    h.write(dir .. "/x/parts/points.txt", "1 17\n")
    local s, out, e = merge(parts)
    assert.equals(1, s, out)
    assert.equals(string.format("neuromass: explore: '%s/x/parts/task-1-of-2.csv' holds point 2, past the 1 point of " ..
                                "the tasks (parts/points.txt): it is another exploration's; nothing joined\n", dir), e)
    h.write(dir .. "/x/parts/points.txt", "two 17\n")
    s, out, e = merge(parts)
    assert.equals(1, s, out)
    assert.equals(string.format("neuromass: explore: '%s/x/parts/points.txt' does not read as the count of points " ..
                                "and the base seed ('two 17'): it was edited (mend or remove it)\n", dir), e)
    assert.is_nil(io.open(dir .. "/x/results.csv"))
    h.write(dir .. "/x/parts/points.txt", "2 17\n")
    s, out, e = merge(parts)
    assert.equals(0, s, e)
    assert.truthy(out:find("/x/results.csv: 2 rows (2 parts joined)", 1, true), out)
    -- an Evolution's: its evaluations and restarts in restarts.txt, every row of the run seed
    assert.equals(0, (h.sh("rm -r " .. q(dir .. "/x"))))
    assert.equals(0, (h.sh("mkdir -p " .. q(dir .. "/x/parts"))))
    h.write(dir .. "/x/parts/restarts.txt", "2 1 17\n")
    s, out, e = merge { ["task-0-of-1.csv"] = "1,0.5,17,0.25,ok\n2,0.5,17,0.5,ok\n3,0.5,17,0.5,ok\n" }
    assert.equals(1, s, out)
    assert.equals(string.format("neuromass: explore: '%s/x/parts/task-0-of-1.csv' holds point 3, past the 2 " ..
                                "evaluations of the tasks (parts/restarts.txt): it is another exploration's; nothing " ..
                                "joined\n", dir), e)
  end)

  it("explore --merge of a part edited by hand fails naming it, joining nothing", function()
    local s, out, e = merge { ["task-0-of-2.csv"] = "1,0.5,17,0.25,o\n", ["task-1-of-2.csv"] = "2,0.5,18,0.25,ok\n" }
    assert.equals(1, s, out)
    assert.equals(string.format("neuromass: explore: '%s/x/parts/task-0-of-2.csv' line 2: status 'o' is neither ok " ..
                                "nor failed: <message>: the file was cut short or edited (mend or remove the row, or " ..
                                "remove the file)\n", dir), e)
    assert.is_nil(io.open(dir .. "/x/results.csv"))
    assert.is_nil(io.open(dir .. "/x/results.partial.csv"))
  end)
end)
