--- The channels of a sonification: mono, stereo (panned by index, by the
-- regions' hemispheres or x coordinates, or per node) or one channel per
-- signal, as routes { out, in, weight } from signals to channels.
local acheck = require "neuromass.audio.check"
local check = require "neuromass._check"

local type, ipairs, pairs, math, string, pcall, require =
      type, ipairs, pairs, math, string, pcall, require
local fail, one_of = acheck.fail, acheck.one_of

local M = {}

local function load_regions(what, level, regions)
  if regions == nil then return nil end
  if type(regions) == "string" then
    local ok, ds = pcall(require("neuromass.datasets").load, regions)
    if not ok then fail(what, level, "regions: unknown dataset '%s' (available: gw, hcp)", regions) end
    return ds
  end
  if type(regions) ~= "table" or (regions.hemisphere == nil and regions.coords == nil) then
    fail(what, level, "'regions' must be a dataset (nm.datasets.load \"hcp\") or its name")
  end
  return regions
end

-- Pan positions in [-1, 1] for the chosen inputs.
local function pan_positions(what, level, opts, inputs, regions, kind)
  local pan = opts.pan
  if pan == nil then pan = regions and "hemisphere" or "index" end
  local pos = {}
  if type(pan) == "table" then
    for k, c in ipairs(inputs) do
      local v = pan[c.node + 1]
      if v == nil then
        fail(what, level, "pan: node %d has no position (the list has %d, pan[i] for node i - 1): give one " ..
             "per node, in [-1, 1] or 'L'/'R'", c.node, #pan)
      end
      if v == "L" or v == "l" then v = -1 elseif v == "R" or v == "r" then v = 1
      elseif v == "C" or v == "c" or v == "M" then v = 0 end
      if type(v) ~= "number" or not (v >= -1 and v <= 1) then
        fail(what, level, "pan: node %d needs a position in [-1, 1] or 'L'/'R' (got %s)", c.node, check.show(v))
      end
      pos[k] = v
    end
    return pos, "given"
  end
  pan = one_of(what, level + 1, "pan", pan)
  if pan == "index" then
    for k = 1, #inputs do pos[k] = #inputs == 1 and 0 or -1 + 2 * (k - 1) / (#inputs - 1) end
    return pos, pan
  end
  if not regions then
    fail(what, level, "pan = \"%s\" needs the regions' labels: give %s", pan,
         kind == "csv" and "--regions hcp|gw (the dataset whose regions the CSV's nodes are)"
                        or "regions = \"hcp\" or \"gw\" (a dataset's name, or nm.datasets.load \"hcp\")")
  end
  if pan == "hemisphere" then
    if not regions.hemisphere then fail(what, level, "the regions have no hemisphere labels") end
    for k, c in ipairs(inputs) do
      local h = regions.hemisphere[c.node + 1]
      pos[k] = h == "L" and -1 or h == "R" and 1 or 0
    end
    return pos, pan
  end
  if not regions.coords then fail(what, level, "the regions have no coordinates") end
  local lo, hi = math.huge, -math.huge
  for i, xyz in ipairs(regions.coords) do
    local x = type(xyz) == "table" and xyz[1]
    if type(x) ~= "number" or x ~= x or x == math.huge or x == -math.huge then
      fail(what, level, "regions: node %d's x coordinate is %s (pan = 'position' needs finite numbers)",
           i - 1, check.show(x))
    end
    lo, hi = math.min(lo, x), math.max(hi, x)
  end
  for k, c in ipairs(inputs) do
    pos[k] = hi > lo and 2 * (regions.coords[c.node + 1][1] - lo) / (hi - lo) - 1 or 0
  end
  return pos, pan
end

-- Regions describe the model's nodes, one per node in order: a dataset of
-- another size is refused (n_nodes: the model's nodes, or a CSV's: its
-- highest node + 1; nil when unknown), and so is a chosen node beyond the dataset.
local function check_regions(what, level, regions, inputs, n_nodes, kind)
  local n_regions = #(regions.hemisphere or regions.coords)
  local name = type(regions.name) == "string" and ("'" .. regions.name .. "' ") or ""
  if n_nodes and n_nodes ~= n_regions then
    local csv = kind == "csv"
    fail(what, level, "regions: the dataset %shas %s but the %s has %s%s: %s", name,
         check.nouns(n_regions, "region"), csv and "CSV" or "model", check.nouns(n_nodes, "node"),
         csv and string.format(" (0 to %d)", n_nodes - 1) or "",
         csv and "the regions label a CSV of their nodes, one per region in order; leave --regions out " ..
                 "(--pan index spreads the nodes by number)"
              or "give the regions of the model's nodes (one per node, in order)")
  end
  for _, c in ipairs(inputs) do
    if c.node >= n_regions then
      fail(what, level, "node %d has no region in the dataset %s(%s)", c.node, name,
           check.nouns(n_regions, "region"))
    end
  end
end

--- pan.layout(what, level, opts, inputs, layout, src) -> routes,
-- channels, pans, regions (src: plan's source; its n_nodes and kind are read).
-- Output channels: { routes = {{out, in, weight}}, channels = {{name, inputs = {k, ...}}} }.
function M.layout(what, level, opts, inputs, layout, src)
  local regions = load_regions(what, level + 1, opts.regions)
  if regions then check_regions(what, level + 1, regions, inputs, src.n_nodes, src.kind) end
  if opts.pan ~= nil and layout ~= "stereo" then
    fail(what, level, "'pan' applies to layout = \"stereo\"; this layout is \"%s\"%s", layout,
         opts.layout == nil and " (the default for one signal): add layout = \"stereo\"" or "")
  end
  local routes, channels, pans = {}, {}, nil
  if layout == "mono" then
    channels[1] = { name = "mono" }
    for k = 1, #inputs do routes[#routes + 1] = { 0, k - 1, 1.0 } end
  elseif layout == "multichannel" then
    for k, c in ipairs(inputs) do
      channels[k] = { name = c.name }
      routes[#routes + 1] = { k - 1, k - 1, 1.0 }
    end
  else
    channels[1], channels[2] = { name = "left" }, { name = "right" }
    local pan_kind
    pans, pan_kind = pan_positions(what, level + 1, opts, inputs, regions, src.kind)
    for k, p in ipairs(pans) do
      local theta = (p + 1) * math.pi / 4                  -- equal-power pan law
      local l, r = math.cos(theta), math.sin(theta)
      if l > 1e-12 then routes[#routes + 1] = { 0, k - 1, l } end
      if r > 1e-12 then routes[#routes + 1] = { 1, k - 1, r } end
    end
    channels.pan = pan_kind
  end
  -- A mix is never louder than its loudest signal: the weights of the fullest
  -- channel sum to 1 (normalisation sets the level afterwards anyway).
  local sums = {}
  for _, r in ipairs(routes) do sums[r[1]] = (sums[r[1]] or 0) + r[3] end
  local biggest = 0
  for _, s in pairs(sums) do biggest = math.max(biggest, s) end
  for _, r in ipairs(routes) do r[3] = r[3] / biggest end
  return routes, channels, pans, regions
end

return M
