# confidential-enclave: one Makefile for every binary, test and tool.
#
#   make            build/enclaved, build/enclavectl, build/kmstool-dev
#   make test       build and run every test (unit, sanitizers, integration)
#   make demo       start a daemon on TCP with kmstool-dev and process a sample
#   make SAN=1      the same tree built with ASan + UBSan into build-san/
#
# Sources are found by directory, so a new file in a room joins its binary
# without touching this file.

CC       ?= cc
PKGS     := libssl libcrypto libcjson libcbor libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lssl -lcrypto -lcjson -lcbor -lseccomp)

SAN ?= 0
ifeq ($(SAN),1)
BUILD    ?= build-san
OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN    := -fsanitize=address,undefined
else
BUILD    ?= build
OPTFLAGS := -O2 -g -D_FORTIFY_SOURCE=2
LDSAN    :=
endif

# Hardening and reproducibility: no absolute build paths in the binary,
# position independent, full RELRO, stack protector and clash protection.
CFLAGS   := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 \
            -Wvla -Wstrict-prototypes -Wmissing-prototypes \
            -fstack-protector-strong -fstack-clash-protection -fcf-protection \
            -fPIE -ffile-prefix-map=$(CURDIR)/= \
            $(OPTFLAGS) -Iinclude -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS  := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--build-id=sha1 $(LDSAN) $(EXTRA_LDFLAGS)
LDLIBS   := $(PKG_LIBS) -lpthread

COMMON_SRC   := $(sort $(wildcard src/common/*.c))
ENCLAVE_SRC  := $(sort $(filter-out src/enclave/main.c, \
                  $(wildcard src/enclave/*.c src/enclave/*/*.c)))
CLIENT_SRC   := $(sort $(wildcard src/client/*.c))
CTL_SRC      := $(sort $(wildcard src/host/enclavectl/*.c))
KMSDEV_SRC   := $(sort $(wildcard src/tools/kmstool-dev/*.c))
UNIT_SRC     := $(sort $(wildcard tests/unit/test_*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON  := $(BUILD)/lib/libcommon.a
LIBENCLAVE := $(BUILD)/lib/libenclave.a
LIBCLIENT  := $(BUILD)/lib/libenclaveclient.a
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

BINS := $(BUILD)/enclaved $(BUILD)/enclavectl $(BUILD)/kmstool-dev

.PHONY: all deps test unit integration sanitize demo clean
all: $(BINS)

V ?= 0
ifeq ($(V),0)
Q := @
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBENCLAVE): $(call obj,$(ENCLAVE_SRC))
$(LIBCLIENT): $(call obj,$(CLIENT_SRC))
$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcsD $@ $^

$(BUILD)/enclaved: $(call obj,src/enclave/main.c) $(LIBENCLAVE) $(LIBCOMMON)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/enclavectl: $(call obj,$(CTL_SRC)) $(LIBCLIENT) $(LIBCOMMON)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/kmstool-dev: $(call obj,$(KMSDEV_SRC)) $(LIBCOMMON)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(LIBENCLAVE) $(LIBCLIENT) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# --- tests --------------------------------------------------------------
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
export VECTORS ?= $(abspath $(CURDIR)/../shared/vectors)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: all
	BUILD_DIR=$(abspath $(BUILD)) $(PYTHON) -m pytest -q tests/integration $(wildcard tests/deploy)

sanitize:
	$(MAKE) SAN=1 unit
	$(MAKE) SAN=1 integration

# The Debian packages everything here needs (apt-get; a no-op when present).
deps:
	@./scripts/install-deps.sh

test: deps
	$(MAKE) all unit
	$(MAKE) sanitize
	$(MAKE) integration

demo: deps
	$(MAKE) all
	./scripts/demo.sh $(BUILD)

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
