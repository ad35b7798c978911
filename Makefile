# Tacet: the two commands of the quick start are `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
DATA_DIR ?= ./var

ASAN_DIR ?= build-asan
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all deps configure build run demo test test-asan fuzz bench format clean

all: build

deps:
	@tools/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The main job: tacetd in the foreground with config/tacet.toml on ./var
# (socket ./var/tacet.sock). Ctrl-C drains and stops it. `make demo` walks
# through the RPO cycle with the CLI on the embedded store instead.
run: build
	@$(BUILD_DIR)/daemon/tacetd --config config/tacet.toml --data-dir $(DATA_DIR)

demo: build
	@TACET=$(BUILD_DIR)/tools/tacet/tacet DATA_DIR=$(DATA_DIR) tools/demo.sh

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The whole test suite built with AddressSanitizer and UndefinedBehaviorSanitizer
# (g++, system malloc) in $(ASAN_DIR).
test-asan: deps
	@cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTACET_SANITIZE=address,undefined >/dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS)
	@cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# Every libFuzzer target of tests/fuzz (clang, ASan, UBSan) in $(FUZZ_DIR), each
# for FUZZ_SECONDS from its seed corpus in tests/fuzz/corpus.
fuzz: deps
	@cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DTACET_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS)
	@tools/run-fuzzers.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

bench: build
	@$(BUILD_DIR)/tools/bench/tacet-bench

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	@rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
