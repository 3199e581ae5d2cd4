-- install_spec.lua: neuromass installs like any Lua library.  `luarocks make`
-- in a copy of the clone installs it into a fresh tree where a stock lua5.4
-- runs `require "neuromass"` and the examples; `make install DESTDIR=...` puts
-- the files where lua5.4 looks by default under PREFIX, and the installed
-- executable finds its library.
local h = require "helpers"

local q, scratch = h.q, h.scratch

-- Builds run without the sanitizers' preloads (`make check-asan` sets them for the specs).
local plain = "env -u LD_PRELOAD -u LUA_PATH -u LUA_CPATH "

-- The examples a plain lua5.4 runs (sonify_alpha.lua, slower, runs in examples_spec).
local examples = { "custom_mass.lua", "fhn_network.lua", "stimulus.lua", "thalamocortical.lua" }

teardown(h.remove_scratch)

describe("luarocks make", function()
  it("installs the clone into a tree where lua5.4 requires neuromass and runs the examples", function()
    local src, tree, work = scratch(), scratch(), scratch()
    -- the files a clone has (tracked, or new and not ignored; outside git: all but the builds)
    local status, _, err = h.sh("cd " .. q(h.top) .. " && if git rev-parse 2>/dev/null; then " ..
                                "git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t " .. q(src) ..
                                "; else tar -c --exclude='./build*' --exclude=./out . | tar -x -C " .. q(src) ..
                                "; fi")
    assert.equals(0, status, err)
    status, _, err = h.sh("cd " .. q(src) .. " && " .. plain ..
                          "luarocks --lua-version 5.4 make --tree " .. q(tree))
    assert.equals(0, status, err)
    local env = "eval \"$(luarocks --lua-version 5.4 path --tree " .. q(tree) .. ")\" && cd " .. q(work) .. " && "
    local out
    status, out, err = h.sh(plain .. "sh -c " .. q(env .. "lua5.4 -e " ..
      q("local nm = require 'neuromass'; print(nm.version, package.searchpath('neuromass.core', package.cpath)); " ..
        "print('subjects', #nm.datasets.load('gw').BOLDs, #nm.datasets.load('hcp').FCs)")))
    assert.equals(0, status, err)
    assert.matches(tree .. "/lib/lua/5.4/neuromass/core.so", out, 1, true)
    assert.matches("subjects\t5\t7", out)         -- the empirical data are installed too
    for _, name in ipairs(examples) do
      status, _, err = h.sh(plain .. "sh -c " .. q(env .. "lua5.4 " .. q(h.top .. "/examples/" .. name)))
      assert.equals(0, status, name .. ": " .. err)
    end
    -- the tree's executable finds the tree's library
    status, out, err = h.sh(q(tree .. "/bin/neuromass") .. " info " .. q(h.top .. "/examples/custom_mass.lua"))
    assert.equals(0, status, err)
    assert.matches("model '", out, 1, true)
  end)
end)

describe("make install", function()
  it("puts the library on lua5.4's default paths under PREFIX, and bin/neuromass finds it", function()
    local dest = scratch()
    local build = h.exe:match("^(.*)/neuromass$")
    local status, _, err = h.sh("cd " .. q(h.top) .. " && " .. plain .. "make -s install DESTDIR=" .. q(dest) ..
                                " PREFIX=/usr/local BUILD=" .. q(build))
    assert.equals(0, status, err)
    -- lua5.4's own default paths, with /usr/local moved under DESTDIR
    local _, paths = h.sh(plain .. "lua5.4 -e 'print(package.path); print(package.cpath)'")
    local lpath, cpath = paths:match("^([^\n]*)\n([^\n]*)")
    local function under(p) return (p:gsub("/usr/local/", (dest:gsub("%%", "%%%%")) .. "/usr/local/")) end
    assert.is_truthy(package.searchpath("neuromass", under(lpath)))
    assert.is_truthy(package.searchpath("neuromass.models.fhn", under(lpath)))
    assert.is_truthy(package.searchpath("neuromass.core", under(cpath)))
    -- the empirical data (nm.datasets.load(name).BOLDs, FCs) go with the library
    local lib = package.searchpath("neuromass", under(lpath)):match("^(.*/)init%.lua$")
    for _, file in ipairs { "gw/subjects.csv", "gw/bold_NAP_013.csv", "hcp/fc_102816.csv" } do
      assert.is_truthy(io.open(lib .. "data/datasets/" .. file), file)
    end
    local out
    status, out, err = h.sh(q(dest .. "/usr/local/bin/neuromass") .. " info " ..
                            q(h.top .. "/examples/custom_mass.lua"))
    assert.equals(0, status, err)
    assert.matches("model '", out, 1, true)
    status, _, err = h.sh("cd " .. q(h.top) .. " && " .. plain .. "make -s uninstall DESTDIR=" .. q(dest) ..
                          " PREFIX=/usr/local")
    assert.equals(0, status, err)
    assert.is_nil(package.searchpath("neuromass", under(lpath)))
  end)
end)
