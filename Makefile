# confidential-enclave: one Makefile for every binary, test and tool.
#
#   make            build/enclaved, enclavectl, enclave-gateway, kmstool-dev
#   make test       build and run every test (unit, sanitizers, integration)
#   make demo       start a daemon on TCP with kmstool-dev and process a sample
#   make bench      enclaved against the original design (docs/bench.md)
#   make fuzz       every libFuzzer harness (tests/fuzz/README.md)
#   make box        the enclave image booted under QEMU (docs/box.md)
#   make install-client PREFIX=...   the client library for other programs
#   make SAN=1      the same tree built with ASan + UBSan into build-san/
#
# Sources are found by directory, so a new file in a folder joins its binary
# without touching this file.

# --- compiler, flags and Debian packages ----------------------------------
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
            -fPIE -ffile-prefix-map=$(CURDIR)=. \
            $(OPTFLAGS) -Iinclude -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS  := -pie -Wl,-z,relro,-z,now -Wl,-z,pack-relative-relocs -Wl,-z,noexecstack -Wl,--build-id=sha1 $(LDSAN) $(EXTRA_LDFLAGS)
LDLIBS   := $(PKG_LIBS) -lpthread -lm
# enclaved carries OpenSSL and libseccomp inside it: loading libcrypto.so
# alone costs 1.5 MiB of resident pages in relocations, and the enclave
# image then needs fewer shared objects (docs/bench.md, idle RSS).
ENCLAVED_LDLIBS := -Wl,--as-needed -Wl,-Bstatic -lssl -lcrypto -lseccomp \
                   -Wl,-Bdynamic -lcjson -lcbor -lpthread -ldl -lm

# --- libraries and the programs: enclaved, enclavectl, kmstool-dev ---------
# libcommon.a (src/common/) is what every binary may link, enclaved
# included; libverify.a (src/verify/) holds the verifiers only the host and
# the tests run, and enclaved never links it (docs/architecture.md).
COMMON_SRC   := $(sort $(wildcard src/common/*.c))
VERIFY_SRC   := $(sort $(wildcard src/verify/*.c))
ENCLAVE_SRC  := $(sort $(filter-out src/enclave/main.c, \
                  $(wildcard src/enclave/*.c src/enclave/*/*.c src/enclave/*/*/*.c)))
CLIENT_SRC   := $(sort $(wildcard src/client/*.c))
CTL_SRC      := $(sort $(wildcard src/host/enclavectl/*.c))
KMSDEV_SRC   := $(sort $(wildcard src/standins/kmstool-dev/*.c))
UNIT_SRC     := $(sort $(wildcard tests/unit/test_*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON  := $(BUILD)/lib/libcommon.a
LIBVERIFY  := $(BUILD)/lib/libverify.a
LIBENCLAVE := $(BUILD)/lib/libenclave.a
LIBCLIENT  := $(BUILD)/lib/libenclaveclient.a
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

BINS := $(BUILD)/enclaved $(BUILD)/enclavectl $(BUILD)/kmstool-dev \
        $(BUILD)/enclave-gateway $(BUILD)/enclave-eif

.PHONY: all deps test unit integration sanitize demo clean reproducible-check
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
$(LIBVERIFY): $(call obj,$(VERIFY_SRC))
$(LIBENCLAVE): $(call obj,$(ENCLAVE_SRC))
$(LIBCLIENT): $(call obj,$(CLIENT_SRC))
$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcsD $@ $^

# Every step object is linked, not only those something refers to: steps
# register themselves (src/enclave/steps/step.h).
STEP_SRC     := $(sort $(wildcard src/enclave/steps/*.c))
$(BUILD)/enclaved: $(call obj,src/enclave/main.c $(STEP_SRC)) $(LIBENCLAVE) $(LIBCOMMON)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(ENCLAVED_LDLIBS)
$(BUILD)/enclavectl: $(call obj,$(CTL_SRC)) $(LIBCLIENT) $(LIBVERIFY) $(LIBCOMMON)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/kmstool-dev: $(call obj,$(KMSDEV_SRC)) $(LIBCOMMON)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(LIBENCLAVE) $(LIBCLIENT) $(LIBVERIFY) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# --- tests (make unit, integration, sanitize, test), demo, clean ----------
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
# Public test vectors live in the repository (tests/vectors/README.md);
# VECTORS=/elsewhere runs the tests against another copy.
export VECTORS ?= $(abspath $(CURDIR)/tests/vectors)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: all $(BUILD)/bench/loadgen
	BUILD_DIR=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -rs tests/integration \
	    $(if $(filter 1,$(SAN)),,$(wildcard tests/deploy))

sanitize:
	$(MAKE) -j$(JOBS) SAN=1 unit
	$(MAKE) -j$(JOBS) SAN=1 integration

# The Debian packages everything here needs (apt-get; a no-op when present).
deps:
	@./scripts/install-deps.sh

# Builds use every core; the tests themselves run one at a time.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

test: deps
	$(MAKE) -j$(JOBS) all unit
	$(MAKE) sanitize
	$(MAKE) integration

demo: deps
	$(MAKE) all
	./scripts/demo.sh $(BUILD)

# Build enclaved twice in two directories and compare (docs/operations.md);
# and enclave.eif too when AWS's blobs are there (NITRO_BLOBS, make eif).
reproducible-check:
	NITRO_BLOBS=$(NITRO_BLOBS) ./scripts/reproducible-check.sh \
	    $(if $(wildcard $(NITRO_BLOBS)/cmdline),--eif)

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# --- benchmarks: make bench, make bench-gateway (docs/bench.md) -----------
# make bench: enclaved + kmstool-dev, the C load generator and the Python
# baseline of the original design, over TCP loopback; prints one table.
# BENCH_RUNS (default 3) rounds, medians reported; BENCH_DURATION seconds
# per workload.
BENCH_SRC := $(sort $(wildcard bench/loadgen/*.c))
$(BUILD)/bench/loadgen: $(call obj,$(BENCH_SRC)) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: bench
bench: $(BUILD)/enclaved $(BUILD)/kmstool-dev $(BUILD)/bench/loadgen
	PYTHON=/usr/bin/python3 ./bench/run.sh $(BUILD)

# Requests/s through the gateway with several clients (wrk); docs/bench.md.
.PHONY: bench-gateway
bench-gateway: $(BUILD)/enclaved $(BUILD)/kmstool-dev $(BUILD)/enclavectl $(BUILD)/enclave-gateway
	./bench/gateway-bench.sh $(BUILD)

# A fleet on this machine: HAProxy (deploy/haproxy/haproxy.cfg) in front of
# three gateways with two daemons each, under kill -9, a gateway restart, a
# rolling image upgrade, a key rotation and a HAProxy reload; fails when a
# request is lost (tests/fleet/fleet.py, docs/operations.md). The smoke is
# the same with shorter phases, for CI.
.PHONY: fleet-test fleet-smoke
fleet-test: $(BUILD)/enclaved $(BUILD)/kmstool-dev $(BUILD)/enclave-gateway
	BUILD_DIR=$(abspath $(BUILD)) $(PYTHON) tests/fleet/fleet.py
fleet-smoke: $(BUILD)/enclaved $(BUILD)/kmstool-dev $(BUILD)/enclave-gateway
	BUILD_DIR=$(abspath $(BUILD)) $(PYTHON) tests/fleet/fleet.py --smoke

# --- fuzzing (libFuzzer; see tests/fuzz/README.md and docs/security.md) ----
#   make fuzz             every harness for FUZZ_SECONDS (default 60) each
#   make fuzz-smoke       every harness briefly (about a minute in total)
#   make fuzz-build       just build build-fuzz/fuzz_*
#   make fuzz FUZZ_ONLY=frame FUZZ_SECONDS=600    one harness, longer
# The project's sources (src/common, src/verify, src/enclave but main.c)
# are compiled with the harnesses' flags, so coverage and sanitizers reach
# every line.
# Seeds in tests/fuzz/corpus/<name>/ are read only; what a run discovers
# goes to build-fuzz/corpus/<name>/, crashes to build-fuzz/artifacts/.
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_BUILD    := build-fuzz
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_JOBS_ARGS ?=
FUZZ_SANFLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                 -fno-omit-frame-pointer -g -O1
FUZZ_CFLAGS   := -std=c17 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
                 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
                 -Werror=implicit-function-declaration \
                 $(FUZZ_SANFLAGS) \
                 -Iinclude -Isrc -Itests/fuzz $(PKG_CFLAGS)
FUZZ_SRC      := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES    := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_ONLY     ?= $(FUZZ_NAMES)
FUZZ_BINS     := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_NAMES))
FUZZ_LIB_OBJ  := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(COMMON_SRC) $(VERIFY_SRC) $(ENCLAVE_SRC))
FUZZ_RUN_ARGS := -print_final_stats=1 -timeout=10 -rss_limit_mb=2560 -max_len=65536

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-clean
.SECONDARY: $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_SRC))
fuzz-build: $(FUZZ_BINS)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/lib/libfuzztarget.a: $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcsD $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/lib/libfuzztarget.a
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_SANFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

# One harness: seeds (read only) + the run's own corpus; stats at the end.
define fuzz_run
	@mkdir -p $(FUZZ_BUILD)/corpus/$(1) $(FUZZ_BUILD)/artifacts
	@echo "== fuzz_$(1) for $(2) s"
	$(Q)$(FUZZ_BUILD)/fuzz_$(1) $(FUZZ_RUN_ARGS) -max_total_time=$(2) \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$(1)- \
	    $(if $(wildcard tests/fuzz/fuzz_$(1).dict),-dict=tests/fuzz/fuzz_$(1).dict) \
	    $(FUZZ_JOBS_ARGS) $(FUZZ_BUILD)/corpus/$(1) tests/fuzz/corpus/$(1) \
	    2>$(FUZZ_BUILD)/fuzz_$(1).log || { tail -40 $(FUZZ_BUILD)/fuzz_$(1).log; \
	    echo "fuzz_$(1) FAILED (log: $(FUZZ_BUILD)/fuzz_$(1).log)"; echo $(1) >> $(FUZZ_BUILD)/failed; }
	@grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
	    $(FUZZ_BUILD)/fuzz_$(1).log | tr '\n' ' '; echo

endef

# Every harness runs even after one fails; the target fails at the end.
define fuzz_verdict
	@if [ -s $(FUZZ_BUILD)/failed ]; then echo "fuzzing FAILED:" $$(cat $(FUZZ_BUILD)/failed); exit 1; fi
endef

fuzz: fuzz-build
	@rm -f $(FUZZ_BUILD)/failed
	$(foreach n,$(FUZZ_ONLY),$(call fuzz_run,$(n),$(FUZZ_SECONDS)))
	$(fuzz_verdict)

fuzz-smoke: fuzz-build
	@rm -f $(FUZZ_BUILD)/failed
	$(foreach n,$(FUZZ_ONLY),$(call fuzz_run,$(n),$(FUZZ_SMOKE_SECONDS)))
	$(fuzz_verdict)

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)

# --- enclave-gateway and the host's credentials (libhost, libgateway) ------
# libhost.a: IMDSv2 / environment credentials, linked by enclavectl and the
# gateway. The gateway's sources but main.c go to libgateway.a so the unit
# tests (tests/unit/test_gateway_*.c, test_host_*.c) link its modules. libmicrohttpd and
# libcurl come through pkg-config and only into the host binaries.
HOST_PKGS      := libmicrohttpd libcurl
HOST_PKG_CFLAGS := $(shell pkg-config --cflags $(HOST_PKGS) 2>/dev/null)
HOST_PKG_LIBS  := $(shell pkg-config --libs $(HOST_PKGS) 2>/dev/null || echo -lmicrohttpd -lcurl)
HOSTCRED_SRC   := $(sort $(wildcard src/host/credentials/*.c))
GATEWAY_SRC    := $(sort $(filter-out src/host/gateway/main.c, $(wildcard src/host/gateway/*.c)))
LIBHOST        := $(BUILD)/lib/libhost.a
LIBGATEWAY     := $(BUILD)/lib/libgateway.a
$(call obj,$(HOSTCRED_SRC) $(GATEWAY_SRC) src/host/gateway/main.c): CFLAGS += $(HOST_PKG_CFLAGS)
$(LIBHOST): $(call obj,$(HOSTCRED_SRC))
$(LIBGATEWAY): $(call obj,$(GATEWAY_SRC))
$(BUILD)/enclavectl: $(LIBHOST)
# libhost comes last in enclavectl's $$^, so libcommon follows it again.
$(BUILD)/enclavectl: LDLIBS += $(LIBCOMMON) $(HOST_PKG_LIBS)
$(BUILD)/enclave-gateway: $(call obj,src/host/gateway/main.c) $(LIBGATEWAY) $(LIBHOST) $(LIBCLIENT) $(LIBCOMMON)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(HOST_PKG_LIBS)
.SECONDARY: $(call obj,$(wildcard tests/unit/test_gateway_*.c))
$(BUILD)/tests/test_gateway_%: $(call obj,tests/unit/test_gateway_%.c) $(LIBGATEWAY) $(LIBHOST) $(LIBCLIENT) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(HOST_PKG_LIBS) -lcmocka
.SECONDARY: $(call obj,$(wildcard tests/unit/test_host_*.c))
$(BUILD)/tests/test_host_%: $(call obj,tests/unit/test_host_%.c) $(LIBHOST) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(HOST_PKG_LIBS) -lcmocka

# --- the image builder: enclave-eif, make eif (docs/operations.md) --------
# A host tool that writes the Enclave Image File without Docker or
# nitro-cli; its modules but main.c go to libeif.a for the unit tests
# (tests/unit/test_eif_*.c). It reads EIFs back with src/verify/eif_read.c,
# the reader enclavectl describe-eif uses.
EIF_SRC  := $(sort $(filter-out src/host/eif/main.c, $(wildcard src/host/eif/*.c)))
LIBEIF   := $(BUILD)/lib/libeif.a
$(LIBEIF): $(call obj,$(EIF_SRC))
$(BUILD)/enclave-eif: $(call obj,src/host/eif/main.c) $(LIBEIF) $(LIBVERIFY) $(LIBCOMMON)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
.SECONDARY: $(call obj,$(wildcard tests/unit/test_eif_*.c))
$(BUILD)/tests/test_eif_%: $(call obj,tests/unit/test_eif_%.c) $(LIBEIF) $(LIBVERIFY) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# make eif: build/enclave.eif and build/measurements.json from the staged
# rootfs and AWS's blobs (NITRO_BLOBS, default the aws-nitro-enclaves-cli
# package's folder); KMS_BACKEND=native (default) or kmstool (KMSTOOL_DIR);
# KMS_KEY_IDS="ARN ..." pins the KMS keys (enclaved --kms-key-id, measured).
NITRO_BLOBS ?= /usr/share/nitro_enclaves/blobs
KMS_KEY_IDS ?=
KMS_BACKEND ?= native
KMSTOOL_DIR ?=
.PHONY: eif
eif: $(BUILD)/enclaved $(BUILD)/enclave-eif $(BUILD)/enclavectl
	NITRO_BLOBS=$(NITRO_BLOBS) KMS_BACKEND=$(KMS_BACKEND) KMSTOOL_DIR=$(KMSTOOL_DIR) \
	    KMS_KEY_IDS="$(KMS_KEY_IDS)" ./scripts/make-eif.sh $(BUILD)

# --- the client library for other programs: make install-client -----------
# make install-client PREFIX=/usr/local installs one libenclaveclient.a
# (the client and the common code it uses), its header
# (enclaveclient/client.h) and enclaveclient.pc.
PREFIX ?= /usr/local
$(BUILD)/lib/dist/libenclaveclient.a: $(call obj,$(CLIENT_SRC) $(COMMON_SRC))
$(BUILD)/lib/pkgconfig/enclaveclient.pc: Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	    'Name: enclaveclient' 'Description: confidential-enclave protocol v1 client library' \
	    'Version: 1.0.0' 'Requires: libssl libcrypto libcjson libcbor' \
	    'Libs: -L$${libdir} -lenclaveclient -lpthread' \
	    'Cflags: -I$${includedir}' > $@
.PHONY: install-client
install-client: $(BUILD)/lib/dist/libenclaveclient.a $(BUILD)/lib/pkgconfig/enclaveclient.pc
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/enclaveclient
	install -m 644 $(BUILD)/lib/dist/libenclaveclient.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/enclaveclient/client.h $(DESTDIR)$(PREFIX)/include/enclaveclient/
	install -m 644 $(BUILD)/lib/pkgconfig/enclaveclient.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/

# --- the enclave box: make box, box-shell, box-test (docs/box.md) ---------
# build/box.eif: the enclave's application ramdisk, byte for byte the one
# make eif writes (scripts/make-eif.sh stages both), beside a bootstrap
# ramdisk of the box's own (its init, the vsock modules, the host-side
# tools) and Debian's kernel, booted in QEMU (microvm, TCG): enclaved
# serves over real AF_VSOCK inside a real Linux guest.
#   make box-eif     build $(BUILD)/box.eif (box-image: the same)
#   make box         build it and boot it: the flow runs, the box powers off
#   make box-shell   boot it with a shell on the console
#   make box-test    boot it and check everything (tests/box/test_box.py)
# BOX_ACCEL=tcg|kvm|auto and BOX_TIMEOUT (s) go to scripts/box/run.sh.
BOX        := $(BUILD)/box
BOX_ACCEL  ?= tcg
BOX_TIMEOUT ?= 600
BOX_RUN    := ./scripts/box/run.sh --accel $(BOX_ACCEL) --timeout $(BOX_TIMEOUT)
.PHONY: box box-eif box-image box-shell box-test box-deps

box-deps:
	@./scripts/install-deps.sh --box

# PID 1 runs before anything else: linked statically, needing nothing.
$(BOX)/init: src/box/init.c src/box/boot.c src/box/boot.h
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -static-pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack -o $@ $(filter %.c,$^)

# The KMS tool stand-in the box's bootstrap mounts over the image's
# kmstool_enclave_cli (src/box/init.c): static, since the image holds only
# the libraries of what it ships.
$(BOX)/kmstool-dev: $(call obj,$(KMSDEV_SRC)) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) -static -s -Wl,-z,relro,-z,now -Wl,-z,noexecstack -o $@ $^ -lcrypto -lpthread

# Downloaded once, kept in $(BOX)/kernel (make clean removes it).
$(BOX)/kernel/vmlinuz:
	./scripts/box/fetch-kernel.sh $(BOX)/kernel

$(BUILD)/box.eif: $(BUILD)/enclaved $(BUILD)/enclavectl $(BUILD)/enclave-gateway $(BUILD)/enclave-eif \
    $(BUILD)/bench/loadgen $(BOX)/init $(BOX)/kmstool-dev $(BOX)/kernel/vmlinuz \
    scripts/box/build.sh scripts/box/flow.sh scripts/box/shell.sh scripts/make-eif.sh \
    enclave/stage-rootfs.sh enclave/cmd-kmstool enclave/env
	./scripts/box/build.sh $(BUILD)

box-eif box-image: box-deps
	$(MAKE) $(BUILD)/box.eif

box: box-image
	$(BOX_RUN) --run flow $(BUILD)/box.eif

box-shell: box-image
	$(BOX_RUN) --run shell $(BUILD)/box.eif

box-test: box-image
	BUILD_DIR=$(abspath $(BUILD)) BOX_ACCEL=$(BOX_ACCEL) $(PYTHON) -m pytest -q -s tests/box
