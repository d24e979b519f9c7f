# netlab: the tools (one `netlab` binary, the Swift standard library linked in), libnetlab as a
# plain C library, and the project's front doors. CONTRIBUTING.md says which target to run when.
#
#   make                 build everything `make install` installs (the default goal): build/bin/netlab,
#                        its manual pages and shell completions, build/libnetlab.{a,so}, build/netlab.pc
#   make install         install all of it under PREFIX (default /usr/local; DESTDIR for staging)
#   make uninstall       remove exactly what `make install` installed (same PREFIX and DESTDIR)
#   make deb             build/netlab_VERSION_ARCH.deb (dpkg-deb; dependencies from dpkg-shlibdeps)
#   make lib             only the C library; make install-lib installs only it (headers, .pc, dissector)
#   make examples        build examples/ against an installed libnetlab through pkg-config
#   make demo            install what is missing, build every tool, then `netlab inject` on the bundled sample
#   make check           the inner loop: build, then the fast tests (no root-only, no fuzzing; under 2 minutes)
#   make test            install what is missing, then every test (scripts/test.sh; CI runs this)
.DEFAULT_GOAL := all

PREFIX     ?= /usr/local
# netlab finds its data beside its executable, PREFIX/bin/../share/netlab (Sources/NetlabCLI/Front.swift),
# so these two follow PREFIX.
BINDIR     := $(PREFIX)/bin
DATADIR    := $(PREFIX)/share/netlab
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/netlab
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
# The chat dissector (wireshark/netlab_chat.lua). Wireshark reads Lua plugins from its global folder and from
# ~/.local/lib/wireshark/plugins: WIRESHARK_PLUGINDIR=$$HOME/.local/lib/wireshark/plugins installs it for you alone.
WIRESHARK_PLUGINDIR ?= $(LIBDIR)/wireshark/plugins
DESTDIR    ?=
CC         ?= cc
CFLAGS     ?= -O2 -g
SWIFT      ?= swift
# The version is written once, in Sources/NetlabCLI/Version.swift (`netlab --version` prints it).
VERSION    := $(shell sed -n 's/^let netlabVersion = "\(.*\)"/\1/p' Sources/NetlabCLI/Version.swift)
SOVERSION  := 0

# Link flags for libnet, libpcap, libcsv, hiredis and zlib: written here, and nowhere else but the list in
# Package.swift (SwiftPM needs its own), which scripts/check-link-flags.sh compares with this one.
# Scripts that link libnetlab's sources themselves read it with `make -s dep-libs`; C users get it
# from netlab.pc. Debian's libnet1-dev and libcsv-dev ship no pkg-config file: plain -l flags.
# hiredis (the chat cluster through Redis, nl_redis.c) is linked but only used with --cluster;
# zlib unpacks the deflate entries of submitted zips (nl_zip.c, netlab grade).
DEP_LIBS   := -lnet -lpcap -lcsv -lhiredis -lz -lpthread
# libnetlab is laid out by half (docs/ARCHITECTURE.md): CSources/netlab/<half>/. Internal headers
# (nl_internal.h, nl_analysis.h, ...) are found through one -I per half folder.
NL_HALVES  := base wire pcap craft analyze apps lab prove
NL_CFLAGS  := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -fPIC -fvisibility=hidden -Iinclude \
              $(addprefix -ICSources/netlab/,$(NL_HALVES))

SRCS := $(wildcard CSources/netlab/*.c CSources/netlab/*/*.c)
OBJS := $(SRCS:CSources/netlab/%.c=build/obj/%.o)
HDRS := $(wildcard include/netlab/*.h) include/netlab.h

.PHONY: all lib tools man completions install install-lib install-tools uninstall uninstall-lib deb \
        examples clean demo check test deps dep-libs FORCE
FORCE:

all: lib tools man completions

lib: build/libnetlab.a build/libnetlab.so build/netlab.pc

dep-libs:
	@echo $(DEP_LIBS)

build/obj/%.o: CSources/netlab/%.c $(HDRS) $(wildcard CSources/netlab/*.h CSources/netlab/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NL_CFLAGS) $(CFLAGS) -c $< -o $@

build/libnetlab.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

build/libnetlab.so: $(OBJS)
	$(CC) -shared -Wl,-soname,libnetlab.so.$(SOVERSION) -o build/libnetlab.so.$(VERSION) $^ $(DEP_LIBS)
	ln -sf libnetlab.so.$(VERSION) build/libnetlab.so.$(SOVERSION)
	ln -sf libnetlab.so.$(VERSION) $@

# Regenerated every time: it records PREFIX, which may differ from the last run.
build/netlab.pc: netlab.pc.in FORCE
	@mkdir -p build
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@DEP_LIBS@|$(DEP_LIBS)|g' $< > $@

# The tools: one binary holding every command, release, with the Swift standard library and
# Foundation linked statically, so an installed netlab needs no Swift toolchain. `make` always
# asks SwiftPM (it knows what changed); `make install` alone only builds it when it is missing
# (under sudo, swift may not be on PATH). build/bin/netlab keeps its time when nothing changed.
define build_netlab
	$(SWIFT) build -c release --static-swift-stdlib --product netlab
	@mkdir -p build/bin
	@bin="$$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path)/netlab"; \
	  cmp -s "$$bin" build/bin/netlab || install -m 755 "$$bin" build/bin/netlab
endef
tools: FORCE
	$(build_netlab)
build/bin/netlab:
	$(build_netlab)

# Manual pages (netlab.1, netlab-analyze.1, netlab-chat-server.1, ...) and bash, zsh and fish
# completions, generated from the argument parser of build/bin/netlab.
man: build/man/netlab.1
build/man/netlab.1: build/bin/netlab scripts/manpages.sh
	scripts/manpages.sh build/bin/netlab build/man

COMPLETIONS := build/completions/netlab.bash build/completions/_netlab build/completions/netlab.fish
completions: $(COMPLETIONS)
build/completions/netlab.bash: build/bin/netlab
	@mkdir -p $(dir $@)
	build/bin/netlab --generate-completion-script bash | sed '1{/^#!/d}' > $@
build/completions/_netlab: build/bin/netlab
	@mkdir -p $(dir $@)
	build/bin/netlab --generate-completion-script zsh > $@
build/completions/netlab.fish: build/bin/netlab
	@mkdir -p $(dir $@)
	build/bin/netlab --generate-completion-script fish > $@

# What `make install` installs beside the C library: the binary, the data it finds beside itself,
# the manual pages, the completions, the guide. The lists below are also what uninstall removes.
SAMPLES := $(notdir $(wildcard samples/*))
DOCS    := README.md $(wildcard docs/*.md) docs/answer-sheet.png

install: install-lib install-tools

install-tools: build/bin/netlab man completions
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/samples $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)/docs \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 build/bin/netlab $(DESTDIR)$(BINDIR)/netlab
	install -m 644 $(addprefix samples/,$(SAMPLES)) $(DESTDIR)$(DATADIR)/samples/
	for m in build/man/*.1; do gzip -9n < $$m > $(DESTDIR)$(MANDIR)/man1/$$(basename $$m).gz; done
	install -m 644 build/completions/netlab.bash $(DESTDIR)$(BASHCOMPDIR)/netlab
	install -m 644 build/completions/_netlab $(DESTDIR)$(ZSHCOMPDIR)/_netlab
	install -m 644 build/completions/netlab.fish $(DESTDIR)$(FISHCOMPDIR)/netlab.fish
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 644 $(filter docs/%,$(DOCS)) $(DESTDIR)$(DOCDIR)/docs/

install-lib: lib
	install -d $(DESTDIR)$(INCLUDEDIR)/netlab $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(WIRESHARK_PLUGINDIR)
	install -m 644 include/netlab.h $(DESTDIR)$(INCLUDEDIR)/netlab.h
	install -m 644 include/netlab/*.h $(DESTDIR)$(INCLUDEDIR)/netlab/
	install -m 644 build/libnetlab.a $(DESTDIR)$(LIBDIR)/libnetlab.a
	install -m 644 build/libnetlab.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnetlab.so.$(VERSION)
	ln -sf libnetlab.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnetlab.so.$(SOVERSION)
	ln -sf libnetlab.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnetlab.so
	install -m 644 build/netlab.pc $(DESTDIR)$(LIBDIR)/pkgconfig/netlab.pc
	install -m 644 wireshark/netlab_chat.lua $(DESTDIR)$(WIRESHARK_PLUGINDIR)/netlab_chat.lua

# Removes every file install put there, then the folders that are netlab's alone, and the
# completion, dissector and pkg-config folders if install left them empty (never bin, lib,
# include, share or man: they belong to the system).
uninstall: uninstall-lib
	rm -f $(DESTDIR)$(BINDIR)/netlab
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(MANDIR)/man1/netlab.1.gz $(DESTDIR)$(MANDIR)/man1/netlab-*.1.gz
	rm -f $(DESTDIR)$(BASHCOMPDIR)/netlab $(DESTDIR)$(ZSHCOMPDIR)/_netlab $(DESTDIR)$(FISHCOMPDIR)/netlab.fish
	-rmdir --ignore-fail-on-non-empty $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) 2>/dev/null
	-rmdir --ignore-fail-on-non-empty $(dir $(DESTDIR)$(BASHCOMPDIR)) $(dir $(DESTDIR)$(ZSHCOMPDIR)) \
	    $(dir $(DESTDIR)$(FISHCOMPDIR)) 2>/dev/null

uninstall-lib:
	rm -rf $(DESTDIR)$(INCLUDEDIR)/netlab $(DESTDIR)$(INCLUDEDIR)/netlab.h
	rm -f $(DESTDIR)$(LIBDIR)/libnetlab.a $(DESTDIR)$(LIBDIR)/libnetlab.so $(DESTDIR)$(LIBDIR)/libnetlab.so.$(SOVERSION) \
	    $(DESTDIR)$(LIBDIR)/libnetlab.so.$(VERSION) $(DESTDIR)$(LIBDIR)/pkgconfig/netlab.pc
	rm -f $(DESTDIR)$(WIRESHARK_PLUGINDIR)/netlab_chat.lua
	-rmdir --ignore-fail-on-non-empty $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(WIRESHARK_PLUGINDIR) 2>/dev/null
	-rmdir --ignore-fail-on-non-empty $(dir $(DESTDIR)$(WIRESHARK_PLUGINDIR)) 2>/dev/null

# The Debian package: everything `make install` installs, under /usr, as Debian lays it out.
deb: all
	scripts/mkdeb.sh

# Built against an *installed* libnetlab: PKG_CONFIG_PATH must find netlab.pc.
EXAMPLES := $(patsubst examples/%.c,build/examples/%,$(wildcard examples/*.c))
examples: $(EXAMPLES)
build/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wall -Wextra -o $@ $< $$(pkg-config --cflags --libs netlab)

clean:
	rm -rf build

deps:
	scripts/install-deps.sh

# Every tool (the README's next step is `netlab lab`), then the first one on the bundled sample.
demo: deps
	$(SWIFT) build
	@echo '+ netlab inject    (the bundled samples/group01_chat_input.csv)'
	"$$($(SWIFT) build --show-bin-path)/netlab" inject
	@echo
	@echo "Every tool is in $$($(SWIFT) build --show-bin-path): export PATH=\"$$($(SWIFT) build --show-bin-path):\$$PATH\""
	@echo "to type netlab ... from any folder, or install it: make && sudo make install (README.md, docs/install.md)."

check:
	scripts/check.sh

test: deps
	scripts/test.sh
