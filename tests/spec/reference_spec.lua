-- reference_spec.lua: docs/reference.md against the library.  Every name the
-- library exports (nm.*, the datasets, stimuli and their methods, the zoo,
-- models, results, the sync object, the commands and their options) has an
-- entry, and every entry names something that exists.  Nothing in the
-- repository points at documents that live outside it.
local h = require "helpers"
local nm = require "neuromass"
local stimulus = require "neuromass.stimulus"
local Model = require("neuromass.model").Model
local Result = require("neuromass.result").Result
local Sync = require("neuromass.network").Sync

local q = h.q

local read = h.read

local doc = read(h.top .. "/docs/reference.md")

-- The documented names: the leading name of a heading's first code span
-- ("### `nm.mass(def)`" -> nm.mass), and of a list item's when it starts with nm.
local documented, order = {}, {}
for line in doc:gmatch("[^\n]+") do
  local span = line:match("^#+ `([^`]+)`") or line:match("^%- `(nm%.[^`]+)`")
  local name = span and (span:match("^neuromass %a+") or span:match("^[%w_%.:]+"))
  if name and not documented[name] then
    documented[name] = true
    order[#order + 1] = name
  end
end

-- Plain tables' own keys, metamethods left out.
local function names(t)
  local list = {}
  for k in pairs(t) do
    if type(k) == "string" and not k:match("^__") then list[#list + 1] = k end
  end
  table.sort(list)
  return list
end

local function zoo()
  local _, out = h.sh("ls " .. q(h.top .. "/lua/neuromass/models"))
  local list = {}
  for file in out:gmatch("[^\n]+") do
    local m = file:match("^([%a][%w_]*)%.lua$")
    if m then list[#list + 1] = m end
  end
  return list
end

local function commands()
  local _, out = h.sh(q(h.exe) .. " --help")
  local list = {}
  for cmd in out:gmatch("\n  (%l+) ") do list[#list + 1] = cmd end
  return list
end

-- Every exported name, as the reference spells it.
local function exported()
  local list = {}
  local function add(prefix, keys) for _, k in ipairs(keys) do list[#list + 1] = prefix .. k end end
  local top = {}
  for k in next, nm do top[#top + 1] = k end            -- (nm's __index raises on a missing name)
  table.sort(top)
  add("nm.", top)
  add("nm.datasets.", names(nm.datasets))
  add("nm.plot.", names(nm.plot))
  add("nm.explore.", names(nm.explore))
  add("search:", names(require("neuromass.explore.search").Search))
  add("evolution:", names(require("neuromass.explore.evolution").Class))
  add("nlopt.", names(require("neuromass.nlopt")))
  add("nm.stimulus.", names(stimulus))
  add("nm.func.", names(nm.func))
  add("stim:", names(stimulus.methods))
  add("net:", names(Sync))
  add("model:", names(Model))
  add("model.", { "params", "init" })
  add("res:", names(Result))
  for _, m in ipairs(zoo()) do
    list[#list + 1] = "nm.models." .. m
    add("nm.models." .. m .. ".", names(nm.models[m]))
  end
  add("neuromass ", commands())
  -- the MPI layer (issue 13): the binding when built (make MPI=1), and its Lua side
  local built, mpi = pcall(require, "neuromass.mpi")
  if built then add("mpi.", names(mpi)) end
  add("explore.mpi.", names(require "neuromass.explore.mpi"))
  return list
end

-- Whether a documented name exists.
local function exists(name)
  local cmd = name:match("^neuromass (%a+)$")
  if cmd then
    local status = h.sh(q(h.exe) .. " help " .. q(cmd))
    return status == 0
  end
  local prefix, key = name:match("^(%a+)[:.](.+)$")
  if prefix == "stim" then return stimulus.methods[key] ~= nil end
  if prefix == "net" then return rawget(Sync, key) ~= nil end
  if prefix == "res" then return rawget(Result, key) ~= nil end
  if prefix == "search" then return rawget(require("neuromass.explore.search").Search, key) ~= nil end
  if prefix == "evolution" then return rawget(require("neuromass.explore.evolution").Class, key) ~= nil end
  if prefix == "nlopt" then return require("neuromass.nlopt")[key] ~= nil end
  if prefix == "model" and name:find(":", 1, true) then return rawget(Model, key) ~= nil end
  if prefix == "model" then return key == "params" or key == "init" end
  if prefix == "mpi" then                    -- not built (make MPI=0): the names cannot be checked
    local built, mpi = pcall(require, "neuromass.mpi")
    return not built or rawget(mpi, key) ~= nil
  end
  if prefix == "explore" and key:match("^mpi%.") then return rawget(require "neuromass.explore.mpi", key:sub(5)) ~= nil end
  if prefix ~= "nm" then return false end
  local t = nm
  for part in key:gmatch("[^.]+") do
    if type(t) ~= "table" then return false end
    local ok, v = pcall(function() return t[part] end)
    if not ok or v == nil then return false end
    t = v
  end
  return true
end

describe("docs/reference.md", function()
  it("documents every exported name", function()
    local missing = {}
    for _, name in ipairs(exported()) do
      if not documented[name] then missing[#missing + 1] = name end
    end
    assert.same({}, missing)
  end)

  it("documents only names that exist", function()
    assert.is_true(#order > 100)
    local unknown = {}
    for _, name in ipairs(order) do
      if not exists(name) then unknown[#unknown + 1] = name end
    end
    assert.same({}, unknown)
  end)

  it("documents every option of every command", function()
    local missing = {}
    for _, cmd in ipairs(commands()) do
      local _, out = h.sh(q(h.exe) .. " help " .. q(cmd))
      for opt in out:gmatch("%-%-[%l][%l-]*") do
        if not doc:find("`" .. opt, 1, true) and not doc:find(" " .. opt .. "`", 1, true) then
          missing[#missing + 1] = cmd .. " " .. opt
        end
      end
    end
    assert.same({}, missing)
  end)
end)

describe("the repository", function()
  it("points at no document outside it", function()
    -- (the patterns are split so that this file does not match itself)
    local patterns = { "API" .. "%.md", "%.%./" .. "shared", "[^/]spec/%a+" .. "%.md", "BASE" .. "LINE",
                       "spec " .. "§", "spec " .. "%d", "spec " .. "P%d" }
    local status, files = h.sh("cd " .. q(h.top) .. " && git ls-files")
    assert.equals(0, status)
    local hits = {}
    for path in files:gmatch("[^\n]+") do
      if path:match("%.lua$") or path:match("%.md$") or path:match("%.[ch]$") or path:match("%.sh$")
         or path:match("Makefile$") or path:match("%.rockspec$") then
        local n = 0
        for line in read(h.top .. "/" .. path):gmatch("([^\n]*)\n?") do
          n = n + 1
          for _, p in ipairs(patterns) do
            if (" " .. line):find(p) then hits[#hits + 1] = path .. ":" .. n .. ": " .. line end
          end
        end
      end
    end
    assert.same({}, hits)
  end)
end)
