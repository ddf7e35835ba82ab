# resetd: build, run, test.
#
#   make          build build/resetd
#   make run      install what is missing, build, serve on the defaults
#   make test     install what the tests need, build with sanitizers, run
#                 the unit and black-box tests
#   make fuzz     run every fuzz driver with libFuzzer (clang) for
#                 FUZZ_SECONDS each (with tests/fuzz/NAME.dict when there
#                 is one); new inputs and crashes land in
#                 build/fuzz/found/NAME (copy the useful ones to the corpus)
#   make format   reformat the sources; make check-format checks them
#   make install  install the binary, man pages, sample config and systemd
#                 unit under PREFIX (/usr/local), below DESTDIR when set;
#                 make uninstall removes them (a config file stays)

CC      ?= cc
PKGS     = libmicrohttpd jansson libsodium sqlite3 libpq libcurl libutf8proc \
           libcrypto libxcrypt
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
OPENAPI  = $(wildcard docs/openapi/*.json)
GEN      = build/gen/templates.c
UNIT_SRCS = $(wildcard tests/unit/test_*.c)

OBJS     = $(SRCS:src/%.c=build/obj/%.o) build/obj/gen/templates.o
SAN_OBJS = $(SRCS:src/%.c=build/san/obj/%.o) build/san/obj/gen/templates.o
SAN_LIB_OBJS = $(filter-out build/san/obj/main.o,$(SAN_OBJS))
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=build/san/tests/%)
# Fuzz drivers: replayed on their corpora by make test (any compiler, with
# the sanitizers), run with libFuzzer by make fuzz (clang).
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY = $(FUZZ_SRCS:tests/fuzz/%.c=build/san/fuzz/%)
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_SAN = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
FUZZ_OBJS = $(SRCS:src/%.c=build/fuzz/obj/%.o) build/fuzz/obj/gen/templates.o
FUZZ_LIB_OBJS = $(filter-out build/fuzz/obj/main.o,$(FUZZ_OBJS))

# Quiet by default; make V=1 shows the commands.
ifneq ($(V),1)
say = @printf '  %-6s %s\n' $(1) $(2);
endif

.PHONY: all deps run test unit e2e fuzz fuzz-replay clean format check-format \
	install uninstall
all: build/resetd

deps:
	@scripts/deps.sh build

build/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

$(GEN): build/tools/embed $(TEMPLATES) $(OPENAPI)
	@mkdir -p $(@D)
	$(call say,EMBED,$@)build/tools/embed templates $(TEMPLATES) $(OPENAPI) > $@.tmp && mv $@.tmp $@

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

build/san/tests/%: tests/unit/%.c $(SAN_LIB_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -Itests/unit -o $@ $< $(SAN_LIB_OBJS) \
	    $(LIBS) -lcmocka

build/san/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(wildcard tests/fuzz/*.h) $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -Itests/fuzz -o $@ $< \
	    tests/fuzz/replay.c $(SAN_LIB_OBJS) $(LIBS)

# libFuzzer builds: the library instrumented for coverage, the driver linked
# with libFuzzer's main.
build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(FUZZ_CC) $(ALL_CFLAGS) -O1 -g $(FUZZ_SAN) \
	    -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/obj/gen/templates.o: $(GEN)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(FUZZ_CC) $(ALL_CFLAGS) -O1 -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(FUZZ_CC) $(ALL_CFLAGS) -O1 -g $(FUZZ_SAN) \
	    -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(FUZZ_LIB_OBJS) $(LIBS)

# Keep the instrumented objects between runs.
.SECONDARY: $(FUZZ_OBJS)

fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		n=$${f#build/fuzz/fuzz_}; \
		mkdir -p tests/fuzz/corpus/$$n build/fuzz/found/$$n; \
		echo "fuzz $$n for $(FUZZ_SECONDS) s"; \
		dict=; [ -f tests/fuzz/$$n.dict ] && dict=-dict=tests/fuzz/$$n.dict; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		    -artifact_prefix=build/fuzz/found/$$n/ $$dict \
		    build/fuzz/found/$$n tests/fuzz/corpus/$$n \
		    >build/fuzz/$$n.log 2>&1 || { tail -40 build/fuzz/$$n.log; exit 1; }; \
		tail -1 build/fuzz/$$n.log; \
	done

fuzz-replay: $(FUZZ_REPLAY)
	@tests/run --fuzz-only $(FUZZ_REPLAY)

run: deps build/resetd
	@mkdir -p -m 700 var
	build/resetd serve --demo

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory build/resetd build/san/resetd $(UNIT_BINS) \
	    $(FUZZ_REPLAY)
	@tests/include-graph --self-test && tests/include-graph
	@$(MAKE) --no-print-directory check-format
	@tests/run $(UNIT_BINS) $(FUZZ_REPLAY)

unit: build/san/resetd $(UNIT_BINS)
	@tests/run --unit-only $(UNIT_BINS)

e2e: build/san/resetd
	@tests/run --e2e-only

# Every C file the project writes: sources, headers, tests, tools.
FORMAT_SRCS = $(shell find src tests/unit tests/fuzz tools -name '*.[ch]' | sort)

format:
	clang-format -i $(FORMAT_SRCS)

check-format:
	@clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf build

# Installation.  SYSCONFDIR is /etc for PREFIX=/usr, PREFIX/etc otherwise.
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/resetd
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install

# The configuration is installed only where there is none: an upgrade never
# overwrites an operator's file.  The sample always is, beside the docs.
install: build/resetd
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/resetd $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 755 build/resetd $(DESTDIR)$(SBINDIR)/resetd
	$(INSTALL) -m 644 man/resetd.8 $(DESTDIR)$(MANDIR)/man8/resetd.8
	$(INSTALL) -m 644 man/resetd.conf.5 $(DESTDIR)$(MANDIR)/man5/resetd.conf.5
	$(INSTALL) -m 644 etc/resetd.conf.sample $(DESTDIR)$(DOCDIR)/resetd.conf.sample
	test -e $(DESTDIR)$(SYSCONFDIR)/resetd/resetd.conf || \
	    $(INSTALL) -m 644 etc/resetd.conf.sample \
	    $(DESTDIR)$(SYSCONFDIR)/resetd/resetd.conf
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    contrib/resetd.service.in > $(DESTDIR)$(UNITDIR)/resetd.service.tmp
	chmod 644 $(DESTDIR)$(UNITDIR)/resetd.service.tmp
	mv $(DESTDIR)$(UNITDIR)/resetd.service.tmp $(DESTDIR)$(UNITDIR)/resetd.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/resetd $(DESTDIR)$(MANDIR)/man8/resetd.8 \
	    $(DESTDIR)$(MANDIR)/man5/resetd.conf.5 \
	    $(DESTDIR)$(DOCDIR)/resetd.conf.sample \
	    $(DESTDIR)$(UNITDIR)/resetd.service
	-rmdir $(DESTDIR)$(DOCDIR)

-include $(OBJS:.o=.d) $(SAN_OBJS:.o=.d)

.PHONY: bench
bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory build/resetd
	@bench/run $(BENCH_ARGS)
