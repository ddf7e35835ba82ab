# resetd: build, run, test.
#
#   make          build build/resetd
#   make run      install what is missing, build, serve on the defaults
#   make test     install what the tests need, build with sanitizers, run
#                 the unit and black-box tests
#   make format   reformat the sources; make check-format checks them

CC      ?= cc
PKGS     = libmicrohttpd jansson libsodium sqlite3 libutf8proc
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wsign-compare -Werror
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Isrc -Ibuild/gen \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libzxcvbn ships no pkg-config file.
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lzxcvbn -lm -lpthread
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined

SRCS     = $(shell find src -name '*.c' | sort)
LIB_SRCS = $(filter-out src/main.c,$(SRCS))
TEMPLATES = $(shell find templates -type f | sort)
GEN      = build/gen/templates.c
UNIT_SRCS = $(wildcard tests/unit/test_*.c)

OBJS     = $(SRCS:src/%.c=build/obj/%.o) build/obj/gen/templates.o
SAN_OBJS = $(SRCS:src/%.c=build/san/obj/%.o) build/san/obj/gen/templates.o
SAN_LIB_OBJS = $(filter-out build/san/obj/main.o,$(SAN_OBJS))
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=build/san/tests/%)

# Quiet by default; make V=1 shows the commands.
ifneq ($(V),1)
say = @printf '  %-6s %s\n' $(1) $(2);
endif

.PHONY: all deps run test unit e2e clean format check-format
all: build/resetd

deps:
	@scripts/deps.sh build

build/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

$(GEN): build/tools/embed $(TEMPLATES)
	@mkdir -p $(@D)
	$(call say,EMBED,$@)build/tools/embed templates $(TEMPLATES) > $@.tmp && mv $@.tmp $@

build/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

build/obj/gen/templates.o: $(GEN)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/resetd: $(OBJS)
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $(OBJS) $(LIBS)

# The sanitizer build that the tests run.
build/san/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -MMD -MP -c -o $@ $<

build/san/obj/gen/templates.o: $(GEN)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c -o $@ $<

build/san/resetd: $(SAN_OBJS)
	$(call say,LD,$@)$(CC) $(SAN) -o $@ $(SAN_OBJS) $(LIBS)

build/san/tests/%: tests/unit/%.c $(SAN_LIB_OBJS) tests/unit/unit.h
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -Itests/unit -o $@ $< $(SAN_LIB_OBJS) \
	    $(LIBS) -lcmocka

run: deps build/resetd
	@mkdir -p var
	build/resetd serve --demo

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory build/resetd build/san/resetd $(UNIT_BINS)
	@tests/run $(UNIT_BINS)

unit: build/san/resetd $(UNIT_BINS)
	@tests/run --unit-only $(UNIT_BINS)

e2e: build/san/resetd
	@tests/run --e2e-only

format:
	clang-format -i $(SRCS) $(UNIT_SRCS) tools/embed.c

check-format:
	clang-format --dry-run --Werror $(SRCS) $(UNIT_SRCS) tools/embed.c

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(SAN_OBJS:.o=.d)

.PHONY: bench
bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory build/resetd
	@bench/run $(BENCH_ARGS)
