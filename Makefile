# Makefile - builds every toa program into bin/, runs tests, demo, benchmarks.
# Layout: each component folder (common proto peer sim worker scorer broker
# client) compiles its .c files, and those of its subfolders (broker/method,
# broker/state, broker/fleet), except main.c into build/lib/libtoa_<folder>.a;
# main.c of a program folder links with all libraries into bin/<program>.
# Unit tests: tests/unit/test_*.c, one binary each, linked with every library.

BUILD   ?= build
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)
BIN     ?= bin
CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
PKGS    := libzmq libczmq libcurl msgpack hiredis jansson libmicrohttpd
# The libraries' flags (PKG_CFLAGS, PKG_LIBS) come from $(BUILD)/pkg.mk, made
# before anything else: it installs what is missing (deploy/install-deps.sh),
# then asks pkg-config; make then starts over with the flags read, so the
# first `make` on a machine without the -dev packages builds in one go.
ifneq ($(MAKECMDGOALS),clean)
include $(BUILD)/pkg.mk
endif
CFLAGS  := -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
           -I. $(PKG_CFLAGS) $(OPT) $(SAN) $(EXTRA_CFLAGS)
LDFLAGS := $(SAN) $(EXTRA_LDFLAGS)
LDLIBS  := $(PKG_LIBS) -lm -lpthread

# Lower layers last: static libraries are searched in a group anyway.
COMPONENTS := client broker scorer worker peer sim proto common
PROGRAMS   := broker:toa-broker worker:toa-worker scorer:toa-scorer client:toa sim:toa-simllm

lib_srcs = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c $(1)/*/*.c))
lib_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(call lib_srcs,$(1)))
LIBS     := $(foreach c,$(COMPONENTS),$(BUILD)/lib/libtoa_$(c).a)
HEADERS  := $(wildcard $(addsuffix /*.h,$(COMPONENTS)) $(addsuffix /*/*.h,$(COMPONENTS)))
# A program is built once its folder has a main.c.
PROG_BINS := $(foreach p,$(PROGRAMS),$(if $(wildcard $(word 1,$(subst :, ,$(p)))/main.c),$(BIN)/$(word 2,$(subst :, ,$(p)))))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TEST_SUPPORT := $(wildcard tests/unit/support/*.c)

.PHONY: all deps deps-check test asan demo bench fuzz chaos clean unit-tests compose-test
all: deps-check $(PROG_BINS) $(UNIT_BINS)

deps-check:
	@deploy/install-deps.sh --check >/dev/null 2>&1 || deploy/install-deps.sh

$(BUILD)/pkg.mk: Makefile deploy/install-deps.sh
	@deploy/install-deps.sh --check >/dev/null 2>&1 || deploy/install-deps.sh
	@mkdir -p $(dir $@)
	@cflags=$$(pkg-config --cflags $(PKGS) cmocka) && libs=$$(pkg-config --libs $(PKGS)) \
	  && printf 'PKG_CFLAGS := %s\nPKG_LIBS := %s\n' "$$cflags" "$$libs" >$@.tmp && mv $@.tmp $@ \
	  || { echo "make: pkg-config does not know $(PKGS) cmocka (deploy/install-deps.sh installs them)" >&2; exit 1; }

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

define LIB_RULE
$(BUILD)/lib/libtoa_$(1).a: $(call lib_objs,$(1))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$(Q)ar rcs $$@ $$^
endef
$(foreach c,$(COMPONENTS),$(eval $(call LIB_RULE,$(c))))

define PROG_RULE
$(BIN)/$(2): $(BUILD)/obj/$(1)/main.o $(LIBS)
	@mkdir -p $(BIN)
	@echo "  LINK    $$@"
	$(Q)$(CC) $(LDFLAGS) -o $$@ $$< -Wl,--start-group $(LIBS) -Wl,--end-group $(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call PROG_RULE,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

$(BUILD)/tests/%: tests/unit/%.c $(TEST_SUPPORT) $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(TEST_SUPPORT) $(LDFLAGS) -Wl,--start-group $(LIBS) -Wl,--end-group $(LDLIBS) -lcmocka

unit-tests: $(UNIT_BINS)

# make test [T=pattern]: unit tests, integration tests, brief fuzzing.
test: all
	@tests/run.sh --build $(BUILD) --bin $(BIN) $(T)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/bin \
	  OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  TOA_SANITIZED=1 tests/run.sh --build build/asan --bin build/asan/bin $(T)

FUZZ_SECONDS ?= 60
fuzz:
	@tests/fuzz/run.sh --seconds $(FUZZ_SECONDS)

# make compose-test: deploy/docker-compose.yml run for real with podman on an
# image built here, a job through it (tests/compose/compose_test.sh; not part
# of make test). Installs podman and debootstrap first (install-deps --compose).
# Exit 77 from the script means skipped (this machine cannot run containers):
# reported as SKIPPED, not as passed; make itself then succeeds.
compose-test: $(PROG_BINS)
	@deploy/install-deps.sh --check --compose >/dev/null 2>&1 || deploy/install-deps.sh --compose || true
	@TOA_BIN=$(BIN) bash tests/compose/compose_test.sh; rc=$$?; \
	  case $$rc in 0) echo "compose-test: passed" ;; \
	    77) echo "compose-test: SKIPPED (not passed; the reason is above)" ;; \
	    *) echo "compose-test: FAILED (exit $$rc)"; exit 1 ;; esac

demo: all
	@deploy/demo.sh

bench: all
	@deploy/install-deps.sh --check --bench >/dev/null 2>&1 || deploy/install-deps.sh --bench
	@tests/bench/run.sh

chaos: all
	@TOA_CHAOS_LONG=1 tests/run.sh --build $(BUILD) --bin $(BIN) chaos

clean:
	rm -rf build bin

# Test harnesses: tests/harness/*.c, one program each (no cmocka), linked
# like unit tests; integration tests run them from $(BUILD)/harness/.
HARNESS_SRCS := $(wildcard tests/harness/*.c)
HARNESS_BINS := $(patsubst tests/harness/%.c,$(BUILD)/harness/%,$(HARNESS_SRCS))
all: $(HARNESS_BINS)
$(BUILD)/harness/%: tests/harness/%.c $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HARNESS $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -Wl,--start-group $(LIBS) -Wl,--end-group $(LDLIBS)

# Benchmark programs: tests/bench/*.c, one program each, linked like the
# harnesses; tests/bench/bench_*.sh run them from $(BUILD)/bench/.
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
all: $(BENCH_BINS)
$(BUILD)/bench/%: tests/bench/%.c $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -Wl,--start-group $(LIBS) -Wl,--end-group $(LDLIBS)
