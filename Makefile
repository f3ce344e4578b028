# vigil — build, test, run, install.
#   make            the optimized ./vigil
#   make run        start the daemon in the foreground on embedded defaults (its Unix
#                   socket var/vigil.sock alone: TCP only with --listen)
#   make test       sanitizer build, unit and end-to-end tests, short fuzz runs
#   make install    the binary, the shipped rules and scripts, the man page, bash
#                   completion, an example configuration and the systemd unit, under
#                   $(DESTDIR)$(PREFIX) (the configuration under SYSCONFDIR);
#                   make uninstall takes them away again (but the configuration)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
# The binary finds its rules as <its directory>/../share/vigil (core/paths.h):
# DATADIR follows PREFIX, and BINDIR is best left at $(PREFIX)/bin.
DATADIR = $(PREFIX)/share/vigil
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
CC ?= cc
PKGS := lua5.4 libuv sqlite3 libcjson libxxhash libpcre2-8 libcurl libxml-2.0 libsystemd libnats libcrypto libzip

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcsv (RFC 4180 cells) ships no pkg-config file.
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv
# llhttp, Node's HTTP parser: Debian's node-llhttp ships its C sources (three files),
# built here with their own flags beside vigil's.
LLHTTP_DIR := /usr/share/llhttp
LLHTTP_INC := /usr/share/include/llhttp
LLHTTP := api http llhttp
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -g -MMD -MP $(WARN) -Icore -Ibuild -I$(LLHTTP_INC) $(PKG_CFLAGS)
LLHTTP_CFLAGS = -std=c11 -g -Wall -I$(LLHTTP_INC)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRCS := $(wildcard core/*.c)
LIB_SRCS := $(filter-out core/main.c,$(SRCS))
MIGRATIONS := $(sort $(wildcard db/[0-9]*.sql))
LUA_SCRIPTS := $(sort $(wildcard scripts/*.lua scripts/digests/*.lua))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
PAGES := scripts/dashboard.html

GEN := migrations scripts pages
VENDOR := $(LLHTTP:%=llhttp_%)
REL_OBJS := $(patsubst core/%.c,build/release/%.o,$(SRCS)) $(GEN:%=build/release/%.o) \
  $(VENDOR:%=build/release/%.o)
SAN_LIB_OBJS := $(patsubst core/%.c,build/asan/%.o,$(LIB_SRCS)) $(GEN:%=build/asan/%.o) \
  $(VENDOR:%=build/asan/%.o)
UNIT_BINS := $(patsubst tests/unit/%.c,build/asan/%,$(UNIT_SRCS))

.PHONY: all deps test-deps run test unit e2e install uninstall clean
all: vigil

deps:
	@scripts/deps.sh build
test-deps:
	@scripts/deps.sh test

build/migrations.c: scripts/embed.sh $(MIGRATIONS) | build
	sh scripts/embed.sh vg_migrations $(MIGRATIONS) > $@.tmp && mv $@.tmp $@
build/scripts.c: scripts/embed.sh $(LUA_SCRIPTS) | build
	sh scripts/embed.sh vg_scripts $(LUA_SCRIPTS) > $@.tmp && mv $@.tmp $@
build/pages.c: scripts/embed.sh scripts/csp.sh $(PAGES) | build
	{ sh scripts/embed.sh vg_pages $(PAGES) && sh scripts/csp.sh scripts/dashboard.html; } \
	  > $@.tmp && mv $@.tmp $@

build build/release build/asan:
	mkdir -p $@

# The vendored sources come with their package: deps.sh installs it.
$(LLHTTP:%=$(LLHTTP_DIR)/%.c):
	@scripts/deps.sh build

build/release/llhttp_%.o: $(LLHTTP_DIR)/%.c | build/release deps
	$(CC) $(LLHTTP_CFLAGS) -O2 -c $< -o $@
build/asan/llhttp_%.o: $(LLHTTP_DIR)/%.c | build/asan test-deps
	$(CC) $(LLHTTP_CFLAGS) -O1 $(SAN) -c $< -o $@
build/plain/llhttp_%.o: $(LLHTTP_DIR)/%.c | build/plain test-deps
	$(CC) $(LLHTTP_CFLAGS) -O1 -c $< -o $@

build/release/%.o: core/%.c | build/release deps
	$(CC) $(BASE_CFLAGS) -O2 -c $< -o $@
build/release/%.o: build/%.c | build/release
	$(CC) $(BASE_CFLAGS) -O2 -c $< -o $@
vigil: $(REL_OBJS)
	$(CC) -o $@ $^ $(PKG_LIBS) -lm

build/asan/%.o: core/%.c | build/asan test-deps
	$(CC) $(BASE_CFLAGS) -O1 $(SAN) -c $< -o $@
build/asan/%.o: build/%.c | build/asan
	$(CC) $(BASE_CFLAGS) -O1 $(SAN) -c $< -o $@
build/asan/vigil: $(SAN_LIB_OBJS) build/asan/main.o
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS) -lm
# The end-to-end tests' JetStream client (no sanitizer: it is a test tool).
build/asan/natstool: tests/e2e/natstool.c | build/asan test-deps
	$(CC) $(BASE_CFLAGS) -O1 -o $@ $< $(PKG_LIBS)
build/asan/test_%: tests/unit/test_%.c $(SAN_LIB_OBJS) | test-deps
	$(CC) $(BASE_CFLAGS) -O1 $(SAN) -o $@ $< $(SAN_LIB_OBJS) $(PKG_LIBS) -lcmocka -lm

run: vigil
	mkdir -p var
	./vigil run

# The fuzz harnesses run FUZZ_SECONDS each (0 skips them).
FUZZ_SECONDS ?= 15
test: build/asan/vigil build/asan/natstool $(UNIT_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh build/asan

# The unit names the installed paths; $(SYSUSERS) makes its user from the
# sysusers.d file at once when installing as root on this machine (no
# DESTDIR); SYSUSERS= leaves that to the next boot.
D = $(DESTDIR)
SYSUSERS ?= systemd-sysusers
install: vigil
	install -d "$(D)$(BINDIR)" "$(D)$(DATADIR)/rules" "$(D)$(DATADIR)/scripts/digests" \
	  "$(D)$(SYSCONFDIR)/vigil" "$(D)$(MANDIR)/man1" "$(D)$(COMPLETIONDIR)" \
	  "$(D)$(UNITDIR)" "$(D)$(SYSUSERSDIR)"
	install -m 755 vigil "$(D)$(BINDIR)/vigil"
	install -m 644 rules/*.lua "$(D)$(DATADIR)/rules/"
	install -m 644 scripts/*.lua "$(D)$(DATADIR)/scripts/"
	install -m 644 scripts/digests/*.lua "$(D)$(DATADIR)/scripts/digests/"
	install -m 644 scripts/dist/vigil.conf "$(D)$(DATADIR)/vigil.conf.example"
	[ -e "$(D)$(SYSCONFDIR)/vigil/vigil.conf" ] || \
	  install -m 644 scripts/dist/vigil.conf "$(D)$(SYSCONFDIR)/vigil/vigil.conf"
	install -m 644 scripts/dist/vigil.1 "$(D)$(MANDIR)/man1/vigil.1"
	install -m 644 scripts/dist/vigil.bash "$(D)$(COMPLETIONDIR)/vigil"
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	  scripts/dist/vigil.service.in > "$(D)$(UNITDIR)/vigil.service.tmp"
	mv "$(D)$(UNITDIR)/vigil.service.tmp" "$(D)$(UNITDIR)/vigil.service"
	chmod 644 "$(D)$(UNITDIR)/vigil.service"
	install -m 644 scripts/dist/vigil.sysusers "$(D)$(SYSUSERSDIR)/vigil.conf"
	@if [ -z "$(D)" ] && [ -n "$(SYSUSERS)" ] && [ "$$(id -u)" -eq 0 ] && \
	  command -v "$(SYSUSERS)" >/dev/null; then "$(SYSUSERS)" "$(SYSUSERSDIR)/vigil.conf"; fi

uninstall:
	rm -f "$(D)$(BINDIR)/vigil" "$(D)$(MANDIR)/man1/vigil.1" "$(D)$(COMPLETIONDIR)/vigil" \
	  "$(D)$(UNITDIR)/vigil.service" "$(D)$(SYSUSERSDIR)/vigil.conf"
	rm -rf "$(D)$(DATADIR)"
	@echo "kept: $(D)$(SYSCONFDIR)/vigil/vigil.conf, and the user vigil if it was made"

clean:
	rm -rf build vigil

-include $(wildcard build/*/*.d)

# make bench: throughput, latency and memory of ./vigil on 1M generated
# entries, checked against an independent reference and compared with SEC
# (tests/bench/bench.sh); the table goes to bench/results.txt.
.PHONY: bench
bench: vigil
	@bash tests/bench/bench.sh

# make soak: an hour of `vigil run` at 20,000 entries/s with the shipped rules,
# printing memory and descriptors once a minute (SOAK_MINUTES, SOAK_RATE).
.PHONY: soak
soak: vigil
	@bash tests/bench/soak.sh

# make fuzz: builds the libFuzzer harnesses in tests/fuzz with clang and runs
# each for SECONDS seconds (default 30); fails on any crash.
.PHONY: fuzz
fuzz: vigil
	bash tests/fuzz/run.sh

# The unit tests without sanitizers, under valgrind's memcheck: no leak, no error.
PLAIN_LIB_OBJS := $(patsubst core/%.c,build/plain/%.o,$(LIB_SRCS)) $(GEN:%=build/plain/%.o) \
  $(VENDOR:%=build/plain/%.o)
PLAIN_UNIT_BINS := $(patsubst tests/unit/%.c,build/plain/%,$(UNIT_SRCS))
build/plain:
	mkdir -p $@
build/plain/%.o: core/%.c | build/plain test-deps
	$(CC) $(BASE_CFLAGS) -O1 -c $< -o $@
build/plain/%.o: build/%.c | build/plain
	$(CC) $(BASE_CFLAGS) -O1 -c $< -o $@
build/plain/test_%: tests/unit/test_%.c $(PLAIN_LIB_OBJS) | test-deps
	$(CC) $(BASE_CFLAGS) -O1 -o $@ $< $(PLAIN_LIB_OBJS) $(PKG_LIBS) -lcmocka -lm
.PHONY: test-valgrind
.SECONDARY: $(PLAIN_LIB_OBJS)
test-valgrind: $(PLAIN_UNIT_BINS)
	@command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install -y valgrind"; exit 1; }
	@fail=0; for t in $(PLAIN_UNIT_BINS); do \
	  printf '%-28s ' "$$(basename $$t)"; \
	  if VIGIL_UNDER_VALGRIND=1 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	       --error-exitcode=99 --trace-children=no $$t > build/plain/$$(basename $$t).log 2>&1; \
	  then echo clean; else echo "errors (build/plain/$$(basename $$t).log)"; fail=1; fi; \
	done; exit $$fail
