# SPDX-License-Identifier: GPL-2.0
#
# Keel: the 82576 driver kit. The two commands a newcomer needs:
#   make demo    set up, build, boot a guest and show keel moving traffic
#   make check   set up, build and run every check and test

SHELL := /bin/bash
BUILD := build

.PHONY: all setup kernel daemon demo check check-upstream check-daemon \
	check-asan check-fuzz check-selftests check-mutants upstream-check \
	bench bench-keeld stress clean

all: kernel daemon

setup:
	@scripts/setup

kernel:
	@$(MAKE) -s -C kernel

# As root, the daemon's integration tests (veth pairs in network
# namespaces) are registered too.
ROOT_TESTS := $(if $(filter 0,$(shell id -u)),ON,OFF)

daemon:
	@cmake -S daemon -B $(BUILD)/daemon -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DKEEL_ROOT_TESTS=$(ROOT_TESTS) > /dev/null
	@cmake --build $(BUILD)/daemon -j2

demo: setup kernel
	@scripts/demo

upstream-check: setup
	@scripts/upstream-check

check-upstream: upstream-check

check-daemon: setup daemon
	@ctest --test-dir $(BUILD)/daemon --output-on-failure

# keeld's unit tests under ASan, LeakSanitizer and UBSan (build/daemon-asan)
check-asan: setup
	@scripts/check-asan

# keeld's fuzz targets over their seed corpora, 30 s each; fuzz longer
# with e.g. KEEL_FUZZ_SECONDS=600 make check-fuzz
check-fuzz: setup
	@scripts/check-fuzz

check-selftests: setup kernel
	@scripts/run-selftests

# Every mutant of selftests/mutants must be caught (make check runs three)
check-mutants: setup kernel
	@scripts/check-mutants

# Every stage runs even when an earlier one fails; the summary says which.
check: setup
	@scripts/check

# On the debug kernel: the datapath feature selftests make check runs
# there only on the stock kernel, then the stress and fault suite with
# larger counts
stress: setup kernel
	@scripts/run-selftests stress

# The guest driver benchmark, then keeld's (both run; either failing
# fails make bench)
bench: setup kernel daemon
	@rc=0; scripts/bench || rc=$$?; scripts/bench-keeld || rc=$$?; exit $$rc

# keeld next to prometheus-node-exporter at 1,000 veths (issue 11): CPU
# per sweep, peak RSS, archive growth, status latency against their
# targets; exit status 0 unless KEEL_BENCH_STRICT=1
bench-keeld: setup daemon
	@scripts/bench-keeld

clean:
	@$(MAKE) -s -C kernel clean
	rm -rf $(BUILD)
