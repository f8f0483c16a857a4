# The two commands a new user needs: `make run` and `make test`.
BUILD_DIR ?= build/release
JOBS ?= $(shell nproc)
DB ?= build/run/polyhost.db
RUN_FEED ?= recordings/sample.jsonl
FUZZ_SECONDS ?= 60

.PHONY: setup configure build run test bench asan fuzz clean

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake --preset release >/dev/null

build: configure
	@cmake --build --preset release -j $(JOBS)

run: build
	@bash scripts/run_default.sh $(BUILD_DIR)/host/polyhost $(RUN_FEED) $(DB)

test: build
	@bash scripts/test.sh $(BUILD_DIR)

bench: build
	@bash bench/run.sh $(BUILD_DIR)

asan: setup
	@cmake --preset asan >/dev/null && cmake --build --preset asan -j $(JOBS) && bash scripts/test.sh build/asan

# libFuzzer harnesses (fuzz/), built with clang in build/fuzz, FUZZ_SECONDS each.
fuzz: setup
	@FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) bash fuzz/run.sh

clean:
	rm -rf build
