-- plot_bold_nodes_spec.lua: the BOLD figures pick and label rows by node
-- number (res.BOLD_nodes: a heterogeneous network feeds BOLD only from the
-- nodes that have its variable), in nm.plot.bold, fc_compare's BOLD panel
-- and `neuromass plot` of a BOLD CSV; a node not in the data is refused
-- with the nodes there are.
local h = require "helpers"
local nm = require "neuromass"
local util = require "plot_util"

local q = h.q
local slurp, shows = util.slurp, util.shows

teardown(h.remove_scratch)

-- A result whose BOLD rows are nodes 0, 2, 4 of a 5-node network (as a run
-- of nodes {NA, NB, NA, NB, NA} with bold = { variable = "s" } leaves them,
-- s only in NA): row i holds 100 * node + a small wave, so the y tics show
-- which row was drawn.
local function het_result()
  local res = nm.models.fhn.native { Cmat = { { 0 } }, Dmat = { { 0 } } }:run { duration = 10, dt = 0.1 }
  local t, rows = {}, {}
  for k = 1, 50 do t[k] = (k - 1) * 2000 end
  for i, node in ipairs { 0, 2, 4 } do
    rows[i] = {}
    for k = 1, 50 do rows[i][k] = 100 * node + 0.5 * math.sin(k) end
  end
  res.t_BOLD, res.BOLD, res.BOLD_nodes = t, rows, { 0, 2, 4 }
  return res
end

describe("BOLD rows by node number", function()
  local dir = h.scratch()
  local res = het_result()

  it("nm.plot.bold labels the lines node 0, 2, 4 and draws the row of the node asked for", function()
    local svg = slurp(nm.plot.bold(res, { out = dir .. "/all.svg" }))
    for _, text in ipairs { "node 0", "node 2", "node 4" } do assert.is_true(shows(svg, text), text) end
    assert.is_false(shows(svg, "node 1"))
    svg = slurp(nm.plot.bold(res, { out = dir .. "/two.svg", nodes = { 2 } }))
    assert.is_true(shows(svg, "node 2"))
    assert.is_true(shows(svg, "200") and not shows(svg, "400"), "node 2's row (about 200) was not drawn")
    svg = slurp(nm.plot.bold(res, { out = dir .. "/four.svg", nodes = { 2, 4 } }))
    assert.is_true(shows(svg, "node 2") and shows(svg, "node 4"))
    local ok, err = pcall(nm.plot.bold, res, { out = dir .. "/x.svg", nodes = { 1 } })
    assert.is_false(ok)
    assert.matches("node 1 is not in the data %(nodes: 0, 2, 4%)", err)
  end)

  it("fc_compare's BOLD panel picks and labels by node number too", function()
    local fc = { { 1, 0.5, 0.2 }, { 0.5, 1, 0.3 }, { 0.2, 0.3, 1 } }
    local svg = slurp(nm.plot.fc_compare(fc, fc, { out = dir .. "/cmp.svg", bold = res, nodes = { 4 } }))
    assert.is_true(shows(svg, "node 4") and shows(svg, "400") and not shows(svg, "200"))
    svg = slurp(nm.plot.fc_compare(fc, fc, { out = dir .. "/cmp2.svg", nodes = { 2, 4 }, view = "lines",
                                             bold = { t_BOLD = res.t_BOLD, BOLD = res.BOLD,
                                                      BOLD_nodes = res.BOLD_nodes } }))
    assert.is_true(shows(svg, "node 2") and shows(svg, "node 4"))
  end)

  -- The FCs computed from this BOLD are 3 x 3, one row per BOLD row: their axes were numbered
  -- 0, 1, 2 while the BOLD panel said node 0, 2, 4; names (one per FC row) were refused by the
  -- panel, which wanted one per network node (5), and 5 names by the heat maps.
  it("fc_compare's heat maps number and name the FC rows by the BOLD rows' nodes", function()
    local fc = { { 1, 0.5, 0.2 }, { 0.5, 1, 0.3 }, { 0.2, 0.3, 1 } }
    local script
    local gnuplot = require "neuromass.plot.gnuplot"
    local render = gnuplot.render
    gnuplot.render = function(path, format, size, s) script = table.concat(s, "\n"); return render(path, format, size, s) end
    local ok, err = pcall(nm.plot.fc_compare, fc, fc, { out = dir .. "/nums.svg", bold = res })
    gnuplot.render = render
    assert(ok, err)
    local _, n_tics = script:gsub("set xtics %('0' 0, '2' 1, '4' 2%)", "")
    assert.equals(2, n_tics, script)
    local svg = slurp(nm.plot.fc_compare(fc, fc, { out = dir .. "/named.svg", bold = res, view = "lines",
                                                   names = { "V1", "V2", "MT" } }))
    for _, name in ipairs { "V1", "V2", "MT" } do assert.is_true(shows(svg, name), name) end
    assert.is_false(shows(svg, "node 2"))
    ok, err = pcall(nm.plot.fc_compare, fc, fc, { out = dir .. "/five.svg", bold = res,
                                                  names = { "a", "b", "c", "d", "e" } })
    assert.is_false(ok)
    assert.matches("plot_bold_nodes_spec%.lua:%d+: plot%.fc_compare: 'names' must be a list of 3 strings, one per " ..
                   "FC row %(the BOLD rows' nodes 0, 2, 4: names%[i%] for row i%), got { \"a\", .* %(5 names%)", err)
  end)

  it("neuromass plot of BOLD_0,BOLD_2,BOLD_4 lists the nodes there are", function()
    h.write(dir .. "/hb.csv", "t_BOLD,BOLD_0,BOLD_2,BOLD_4\n0,1,2,3\n2000,2,3,1\n4000,3,1,2\n")
    local status, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " plot hb.csv -o x.png --nodes 1")
    assert.equals(1, status)
    assert.matches("node 1 is not in the data %(nodes: 0, 2, 4%)", err)
    status, _, err = h.sh("cd " .. q(dir) .. " && " .. q(h.exe) .. " plot hb.csv -o y.svg --nodes 2,4")
    assert.equals(0, status, err)
    local svg = slurp(dir .. "/y.svg")
    assert.is_true(shows(svg, "node 2") and shows(svg, "node 4"))
  end)
end)
