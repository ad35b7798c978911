# Tacet: the two commands of the quick start are `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
DATA_DIR ?= ./var

.PHONY: all deps configure build run demo test bench format clean

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

bench: build
	@$(BUILD_DIR)/tools/bench/tacet-bench

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	@rm -rf $(BUILD_DIR)
