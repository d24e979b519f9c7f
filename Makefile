# netlab: libnetlab as a plain C library (static, shared, pkg-config), plus the
# project's two front doors: `make demo` and `make test` (see README.md, CONTRIBUTING.md).
#
#   make                 build build/libnetlab.a, build/libnetlab.so, build/netlab.pc
#   make install         install headers, libraries and netlab.pc under PREFIX (default /usr/local)
#   make examples        build examples/ against an installed libnetlab through pkg-config
#   make demo            install what is missing, then `swift run injector` on the bundled sample
#   make test            install what is missing, then run every test (scripts/test.sh)

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
# The chat dissector (wireshark/netlab_chat.lua). Wireshark reads Lua plugins from its global folder and from
# ~/.local/lib/wireshark/plugins: WIRESHARK_PLUGINDIR=$$HOME/.local/lib/wireshark/plugins installs it for you alone.
WIRESHARK_PLUGINDIR ?= $(LIBDIR)/wireshark/plugins
DESTDIR    ?=
CC         ?= cc
CFLAGS     ?= -O2 -g
VERSION    := 0.1.0
SOVERSION  := 0

# Link flags for libnet, libpcap and libcsv live here and in Package.swift only.
# Debian's libnet1-dev and libcsv-dev ship no pkg-config file, so they are plain -l flags.
# hiredis (the chat cluster through Redis, nl_redis.c) is linked but only used with --cluster.
DEP_LIBS   := -lnet -lpcap -lcsv -lhiredis -lpthread
# libnetlab is laid out by half (docs/ARCHITECTURE.md): CSources/netlab/<half>/. Internal headers
# (nl_internal.h, nl_analysis.h, ...) are found through one -I per half folder.
NL_HALVES  := base wire pcap craft analyze apps lab
NL_CFLAGS  := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -fPIC -fvisibility=hidden -Iinclude \
              $(addprefix -ICSources/netlab/,$(NL_HALVES))

SRCS := $(wildcard CSources/netlab/*.c CSources/netlab/*/*.c)
OBJS := $(SRCS:CSources/netlab/%.c=build/obj/%.o)
HDRS := $(wildcard include/netlab/*.h) include/netlab.h

.PHONY: all lib install uninstall examples clean demo test deps fuzz bench FORCE
FORCE:

all: lib
lib: build/libnetlab.a build/libnetlab.so build/netlab.pc

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

install: lib
	install -d $(DESTDIR)$(INCLUDEDIR)/netlab $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 include/netlab.h $(DESTDIR)$(INCLUDEDIR)/netlab.h
	install -m 644 include/netlab/*.h $(DESTDIR)$(INCLUDEDIR)/netlab/
	install -m 644 build/libnetlab.a $(DESTDIR)$(LIBDIR)/libnetlab.a
	install -m 755 build/libnetlab.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnetlab.so.$(VERSION)
	ln -sf libnetlab.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnetlab.so.$(SOVERSION)
	ln -sf libnetlab.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnetlab.so
	install -m 644 build/netlab.pc $(DESTDIR)$(LIBDIR)/pkgconfig/netlab.pc
	install -d $(DESTDIR)$(WIRESHARK_PLUGINDIR)
	install -m 644 wireshark/netlab_chat.lua $(DESTDIR)$(WIRESHARK_PLUGINDIR)/netlab_chat.lua

uninstall:
	rm -rf $(DESTDIR)$(INCLUDEDIR)/netlab $(DESTDIR)$(INCLUDEDIR)/netlab.h
	rm -f $(DESTDIR)$(LIBDIR)/libnetlab.* $(DESTDIR)$(LIBDIR)/pkgconfig/netlab.pc
	rm -f $(DESTDIR)$(WIRESHARK_PLUGINDIR)/netlab_chat.lua

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

demo: deps
	swift run injector

test: deps
	scripts/test.sh
