-- plot_names_spec.lua: the `names` option of nm.plot (and `neuromass plot
-- --names FILE`): the gnuplot script carries the names as tics at their
-- nodes' positions (heat maps on both axes, x rotated; image and stacked
-- rows; the lines' key), every k-th (k odd) when they do not all fit;
-- names are drawn literally (quotes, backslashes, @, &, _ in PNG and SVG),
-- a long one shortened;
-- a list of the wrong length, a non-string entry and names = true are
-- errors at the user's line naming the option and the value.
local h = require "helpers"
local nm = require "neuromass"
local gnuplot = require "neuromass.plot.gnuplot"
local util = require "plot_util"

local q = h.q
local slurp, shows, fhn_result = util.slurp, util.shows, util.fhn_ring

teardown(h.remove_scratch)

-- f() run with gnuplot.render watched: the scripts it drew (each one string), in order.
local function scripts_of(f)
  local render, seen = gnuplot.render, {}
  gnuplot.render = function(path, format, size, script)
    seen[#seen + 1] = table.concat(script, "\n")
    return render(path, format, size, script)
  end
  local ok, err = pcall(f)
  gnuplot.render = render
  assert(ok, err)
  return seen
end

-- The `set AXIS (...)` line of a script (the first, or the n-th), parsed:
-- { { label, position }, ... } and the rest of the line after the list.
local function tics(script, axis, n)
  local found = 0
  for line in script:gmatch("[^\n]+") do
    local list, rest = line:match("^set " .. axis .. " (%b())(.*)$")
    if list then
      found = found + 1
      if found == (n or 1) then
        -- the quoted labels ('' stands for ') and their positions, read by hand
        local out = {}
        local i = 2
        while i <= #list do
          local label = {}
          assert(list:sub(i, i) == "'", "a tic label is not quoted: " .. list:sub(i, i + 20))
          i = i + 1
          while true do
            local c = list:sub(i, i)
            if c == "'" and list:sub(i + 1, i + 1) == "'" then label[#label + 1] = "'"; i = i + 2
            elseif c == "'" then i = i + 1; break
            else label[#label + 1] = c; i = i + 1 end
          end
          local pos, after = list:match("^ ([-%d.e]+)()", i)
          out[#out + 1] = { table.concat(label), tonumber(pos) }
          i = after + 2                                  -- past ", " (or the closing parenthesis)
        end
        return out, rest
      end
    end
  end
  error("no 'set " .. axis .. " (...)' line in the script")
end

local function ring_names()
  local names = {}
  for i = 1, 12 do names[i] = "region_" .. string.char(64 + i) end   -- region_A ... region_L
  return names
end

describe("nm.plot names", function()
  local dir = h.scratch()
  local gw = nm.datasets.load("gw")
  local res = fhn_result()

  it("name_step: every name when they fit, else every k-th with k odd (both hemispheres of L, R, L, ...)", function()
    assert.equals(1, gnuplot.name_step(80, 80 * gnuplot.NAME_LINE_PX))
    assert.equals(3, gnuplot.name_step(80, 40 * gnuplot.NAME_LINE_PX))   -- 2 would do: odd, 3
    assert.equals(3, gnuplot.name_step(80, 27 * gnuplot.NAME_LINE_PX))
    assert.equals(5, gnuplot.name_step(80, 20 * gnuplot.NAME_LINE_PX))   -- 4: odd, 5
    assert.equals(3, gnuplot.name_step(3, 5))                              -- too small for one: the first only
  end)

  it("fc: the names on both axes at their nodes (x rotated, small font), every k-th; all in a tall figure", function()
    local s = scripts_of(function() nm.plot.fc(gw.FCs[1], { out = dir .. "/fc.png", names = gw.names }) end)[1]
    local x, xrest = tics(s, "xtics")
    local y, yrest = tics(s, "ytics")
    assert.same(x, y)
    assert.matches("rotate by 90 right", xrest)
    assert.matches("font ',8'", yrest)
    local step = x[2][2] - x[1][2]
    assert.is_true(step > 1 and step % 2 == 1, "step " .. step)        -- 80 names do not fit in 600 px
    assert.equals(math.ceil(80 / step), #x)
    for k, tic in ipairs(x) do
      assert.same({ gw.names[(k - 1) * step + 1], (k - 1) * step }, tic)   -- node i's name at position i
    end
    assert.is_nil(s:find("set xlabel 'node'", 1, true))                -- the names say what the axes are
    -- a figure tall enough shows every name
    s = scripts_of(function()
      nm.plot.fc(gw.FCs[1], { out = dir .. "/fc_tall.png", names = gw.names, size = { 1600, 1600 } })
    end)[1]
    y = tics(s, "ytics")
    assert.equals(80, #y)
    assert.same({ "Temporal_Inf_R", 79 }, y[80])
    local data = slurp(dir .. "/fc_tall.png")
    assert.equals("\137PNG\r\n\26\n", data:sub(1, 8))
  end)

  it("names are drawn literally: quotes, backslashes, @, &, _ and ^ (script, SVG text, PNG, PDF)", function()
    local odd = { "it's \"q\" a\\b", "x@y & _s^2 <b>", "{x}" }
    local m = { { 1, 0.5, 0 }, { 0.5, 1, 0.2 }, { 0, 0.2, 1 } }
    local s = scripts_of(function()
      nm.plot.fc(m, { out = dir .. "/odd.svg", names = odd })
      nm.plot.fc(m, { out = dir .. "/odd.png", names = odd })
      nm.plot.fc(m, { out = dir .. "/odd.pdf", names = odd })
    end)
    assert.same({ { odd[1], 0 }, { odd[2], 1 }, { odd[3], 2 } }, tics(s[1], "ytics"))
    assert.truthy(s[1]:find("'it''s \"q\" a\\b' 0", 1, true))
    local svg = slurp(dir .. "/odd.svg")
    for _, name in ipairs(odd) do assert.is_true(shows(svg, name), name) end
    assert.equals("\137PNG\r\n\26\n", slurp(dir .. "/odd.png"):sub(1, 8))
    assert.equals("%PDF-", slurp(dir .. "/odd.pdf"):sub(1, 5))
  end)

  it("a % in a name is drawn as typed, not read as a gnuplot format (heat map, image rows, stacked rows)", function()
    local pct = { "50%_L", "a%sb", "%d%%" }
    local m = { { 1, 0.5, 0 }, { 0.5, 1, 0.2 }, { 0, 0.2, 1 } }
    nm.plot.fc(m, { out = dir .. "/pct.svg", names = pct })
    local ring = ring_names()
    ring[1], ring[2] = "a%sb", "%g%%"
    nm.plot.timeseries(res, { out = dir .. "/pct_image.svg", view = "image", names = ring })
    nm.plot.timeseries(res, { out = dir .. "/pct_stacked.svg", view = "stacked", names = ring })
    for _, file in ipairs({ "pct.svg", "pct_image.svg", "pct_stacked.svg" }) do
      local svg = slurp(dir .. "/" .. file)
      local names = file == "pct.svg" and pct or { ring[1], ring[2] }
      for _, name in ipairs(names) do assert.is_true(shows(svg, name), file .. ": " .. name) end
    end
  end)

  it("a name longer than 24 characters is drawn shortened (its first 23 and …), keeping the plot's room", function()
    local long = string.rep("Gyrus_", 6) .. "L"                        -- 37 characters
    local s = scripts_of(function()
      nm.plot.fc({ { 1, 0 }, { 0, 1 } }, { out = dir .. "/long.png", names = { long, "Ä_ü" } })
      nm.plot.timeseries({ { 1, 2, 3 }, { 3, 2, 1 } }, { out = dir .. "/long_lines.png", names = { "a", long } })
    end)
    assert.same({ { "Gyrus_Gyrus_Gyrus_Gyrus…", 0 }, { "Ä_ü", 1 } }, tics(s[1], "ytics"))
    assert.equals("Gyrus_Gyrus_Gyrus_Gyrus…", gnuplot.short_name(long))
    assert.equals(string.rep("é", 23) .. "…", gnuplot.short_name(string.rep("é", 30)))   -- characters, not bytes
    assert.equals(string.rep("é", 24), gnuplot.short_name(string.rep("é", 24)))
    assert.truthy(s[2]:find("title 'Gyrus_Gyrus_Gyrus_Gyrus…'", 1, true))
  end)

  it("timeseries: image rows, stacked rows and the lines' key by name (node k's name at names[k + 1])", function()
    local names = ring_names()
    local s = scripts_of(function()
      nm.plot.timeseries(res, { out = dir .. "/img.svg", names = names })
      nm.plot.timeseries(res, { out = dir .. "/stack.svg", names = names, view = "stacked", nodes = { 2, 5, 7 } })
      nm.plot.timeseries(res, { out = dir .. "/lines.svg", names = names, nodes = { 0, 11 } })
    end)
    local rows = tics(s[1], "ytics")
    assert.equals(12, #rows)                              -- 12 rows fit in 600 px: every name
    for i = 1, 12 do assert.same({ names[i], i - 1 }, rows[i]) end
    assert.same({ { "region_C", 0.425 }, { "region_F", 1.425 }, { "region_H", 2.425 } }, tics(s[2], "ytics"))
    assert.truthy(s[3]:find("title 'region_A'", 1, true))
    assert.truthy(s[3]:find("title 'region_L'", 1, true))
    local svg = slurp(dir .. "/lines.svg")
    assert.is_true(shows(svg, "region_A") and shows(svg, "region_L") and not shows(svg, "node 0"))
    svg = slurp(dir .. "/img.svg")
    assert.is_true(shows(svg, "region_G"))
    -- without names: node numbers, as before
    s = scripts_of(function() nm.plot.timeseries(res, { out = dir .. "/img0.svg" }) end)
    assert.same({ "0", 0 }, tics(s[1], "ytics")[1])
  end)

  it("an image of 80 rows in 600 px: every k-th name, k odd; all of them at 1200 px", function()
    local t = {}
    for k = 1, 355 do t[k] = (k - 1) * 2000 end
    local s = scripts_of(function()
      nm.plot.bold(t, gw.BOLDs[1], { out = dir .. "/bold.png", names = gw.names, zscore = true })
      nm.plot.bold(t, gw.BOLDs[1], { out = dir .. "/bold_tall.png", names = gw.names, size = { 1000, 1200 } })
    end)
    local rows = tics(s[1], "ytics")
    local step = rows[2][2] - rows[1][2]
    assert.is_true(step > 1 and step % 2 == 1 and #rows * gnuplot.NAME_LINE_PX <= 600, "step " .. step)
    assert.same({ gw.names[step + 1], step }, rows[2])
    assert.equals(80, #tics(s[2], "ytics"))
  end)

  it("fc_compare and the study figure: both heat maps and the BOLD rows by name", function()
    local t = {}
    for k = 1, 355 do t[k] = (k - 1) * 2000 end
    local s = scripts_of(function()
      nm.plot.fc_compare(gw.FCs[2], gw.FCs[1], { out = dir .. "/cmp.png", names = gw.names })
      nm.plot.fc_compare(gw.FCs[2], gw.FCs[1], { out = dir .. "/study.svg", names = gw.names, zscore = true,
                                                 bold = { t_BOLD = t, BOLD = gw.BOLDs[1] } })
    end)
    assert.same(tics(s[1], "ytics", 1), tics(s[1], "ytics", 2))
    assert.same({ "Precentral_L", 0 }, tics(s[1], "xtics", 2)[1])
    for n = 1, 3 do                                       -- simulated FC, empirical FC, BOLD
      local rows = tics(s[2], "ytics", n)
      local step = rows[2][2] - rows[1][2]
      assert.same({ gw.names[step + 1], step }, rows[2])
    end
    assert.is_true(shows(slurp(dir .. "/study.svg"), "Precentral_L"))
  end)

  it("nm.plot.bold of a result, and res:plot, take names of the network's nodes", function()
    local m = nm.models.hopf.native { Cmat = { { 0, 1 }, { 1, 0 } }, Dmat = { { 0, 1 }, { 1, 0 } } }
    local r = m:run { duration = 8000, record = {}, bold = true }
    local s = scripts_of(function()
      nm.plot.bold(r, { out = dir .. "/hopf.png", names = { "left", "right" } })
      r:plot { out = dir .. "/hopf2.png", names = { "left", "right" } }
    end)
    assert.truthy(s[1]:find("title 'left'", 1, true) and s[1]:find("title 'right'", 1, true))
    assert.truthy(s[2]:find("title 'right'", 1, true))
  end)
end)

describe("nm.plot names errors, at the user's line", function()
  local dir = h.scratch()
  local gw = nm.datasets.load("gw")
  local res = fhn_result()
  local short = table.move(gw.names, 1, 79, 1, {})
  local cases = {
    { "a list one short", function() nm.plot.fc(gw.FCs[1], { out = dir .. "/a.png", names = short }) end,
      "plot.fc: 'names' must be a list of 80 strings, one per node %(node k's at names%[k %+ 1%], as a " ..
      "dataset's names%), got { \"Precentral_L\", .* %(79 names%)" },
    { "a result's node count", function() res:plot { out = dir .. "/a.png", names = { "a", "b" } } end,
      "plot.timeseries: 'names' must be a list of 12 strings.*%(2 names%)" },
    { "a number among the names", function()
        nm.plot.fc({ { 1, 0 }, { 0, 1 } }, { out = dir .. "/a.png", names = { "a", 7 } }) end,
      "plot.fc: 'names'%[2%] %(node 1's name%) is 7, not a string" },
    { "a string, not a list", function()
        nm.plot.fc({ { 1, 0 }, { 0, 1 } }, { out = dir .. "/a.png", names = "a,b" }) end,
      "plot.fc: 'names' must be a list of 2 strings.*got \"a,b\" %(a string%)$" },
    { "names = true (the data carry no names)", function()
        nm.plot.fc_compare(gw.FCs[1], gw.FCs[2], { out = dir .. "/a.png", names = true }) end,
      "plot.fc_compare: 'names' must be a list of 80 strings %(one per node%): the data carry no region names, " ..
      "pass the dataset's, e.g. names = ds.names" },
    { "bold's names, one short", function()
        nm.plot.bold({ 0, 2000, 4000 }, { { 1, 2, 3 }, { 3, 2, 1 } }, { out = dir .. "/a.png", names = { "a" } }) end,
      "plot.bold: 'names' must be a list of 2 strings" },
  }
  for _, case in ipairs(cases) do
    it(case[1], function()
      local ok, err = pcall(case[2])
      assert.is_false(ok)
      assert.matches("plot_names_spec%.lua:%d+: ", err)
      assert.matches(case[3], err)
    end)
  end
  it("leaves no figure behind", function()
    local _, out = h.sh("ls -A " .. q(dir))
    assert.equals("", out)
  end)
end)

describe("neuromass plot --names FILE", function()
  local dir = h.scratch()
  h.write(dir .. "/b.csv", "t_BOLD,BOLD_0,BOLD_1,BOLD_2\n0.1,0,0.5,1\n2000.1,0.1,0.4,0.8\n4000.1,0.3,0.2,0.9\n")
  h.write(dir .. "/three.txt", "Precentral_L\r\nit's & @\r\nback\\slash\r\n")
  h.write(dir .. "/two.txt", "a\nb\n")

  local function plot(args)
    return h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " plot " .. args)
  end

  it("labels the nodes by the file's lines (CRLF too), drawn literally", function()
    local status, out, err = plot("b.csv -o b.svg --names three.txt")
    assert.equals(0, status, err)
    assert.equals("b.svg: BOLD of 3 nodes from b.csv\n", out)
    local svg = slurp(dir .. "/b.svg")
    for _, name in ipairs { "Precentral_L", "it's & @", "back\\slash" } do assert.is_true(shows(svg, name), name) end
    assert.is_false(shows(svg, "node 0"))
  end)

  -- A blank last line (an editor's extra line end) was counted as a name ("holds 4 names"), and
  -- so were trailing spaces and a byte-order mark, drawn as part of the name.
  it("reads a file as people write them: blank last lines, spaces around a name, CR, a BOM", function()
    local files = {
      ["blank.txt"] = "Precentral_L\nit's & @\nback\\slash\n\n",
      ["spaces.txt"] = "Precentral_L  \n\tit's & @\nback\\slash \r\n  \n\t\n",
      ["bom.txt"] = "\239\187\191Precentral_L\r\nit's & @\r\nback\\slash",
      ["cr.txt"] = "Precentral_L\rit's & @\rback\\slash\r",
    }
    for name, text in pairs(files) do
      h.write(dir .. "/" .. name, text)
      local status, out, err = plot("b.csv -o " .. name .. ".svg --names " .. name)
      assert.equals(0, status, name .. ": " .. err)
      assert.equals(name .. ".svg: BOLD of 3 nodes from b.csv\n", out)
      local svg = slurp(dir .. "/" .. name .. ".svg")
      for _, n in ipairs { "Precentral_L", "it's & @", "back\\slash" } do assert.is_true(shows(svg, n), name .. ": " .. n) end
    end
  end)

  it("refuses a blank line before the last name, naming it, and a file of blank lines", function()
    h.write(dir .. "/gap.txt", "a\n\nb\nc\n")
    local status, _, err = plot("b.csv -o g.png --names gap.txt")
    assert.equals(1, status)
    assert.matches("plot: %-%-names 'gap%.txt': line 2 is blank %(line k %+ 1 names node k: each node needs a " ..
                   "name%)", err)
    h.write(dir .. "/empty.txt", "\n  \n")
    status, _, err = plot("b.csv -o g.png --names empty.txt")
    assert.equals(1, status)
    assert.matches("plot: %-%-names 'empty%.txt' holds 0 names %(one per line%), the CSV's nodes 0 to 2 need 3", err)
    assert.is_nil(io.open(dir .. "/g.png"))
  end)

  it("refuses a file of another count and a missing file, naming them", function()
    local status, _, err = plot("b.csv -o b.png --names two.txt")
    assert.is_not.equals(0, status)
    assert.matches("neuromass: plot: %-%-names 'two.txt' holds 2 names %(one per line%), the CSV's nodes 0 to 2 " ..
                   "need 3", err)
    status, _, err = plot("b.csv -o b.png --names nothere.txt")
    assert.is_not.equals(0, status)
    assert.matches("%-%-names: cannot read 'nothere.txt': No such file", err)
    -- a folder opens but cannot be read (it raised inside the library)
    status, _, err = plot("b.csv -o b.png --names .")
    assert.is_not.equals(0, status)
    assert.matches("%-%-names: cannot read '%.': Is a directory\n", err)
    status, _, err = plot("b.csv -o b.png --names")
    assert.is_not.equals(0, status)
    assert.matches("option '%-%-names' needs a value", err)
  end)
end)
