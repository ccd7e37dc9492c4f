# nis — top-level driver.  `make` builds build/libnis.a and build/nis; `make test` runs the test suite;
# `make asan` builds and runs the tests under AddressSanitizer + UndefinedBehaviorSanitizer;
# `make demo` trains a small MLP (loss falling), then a DFT sampler on the donut target (runs/demo/samples.png).
BUILD ?= build
JOBS ?= 2
# NATIVE=1: tune for this machine's CPU (-march=native; not portable).  The bench builds that way in build-native.
NATIVE ?= 0
NATIVE_FLAG := $(if $(filter 1 ON on yes,$(NATIVE)),-DNIS_NATIVE=ON,-DNIS_NATIVE=OFF)

.PHONY: all setup test asan demo bench toy2d clean

all: setup
	@mkdir -p $(BUILD) && cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(NATIVE_FLAG) > $(BUILD)/cmake.log 2>&1 || (cat $(BUILD)/cmake.log; exit 1)
	@cmake --build $(BUILD) -j $(JOBS) > $(BUILD)/build.log 2>&1 || (grep -v -E '^\[ *[0-9]+%\]' $(BUILD)/build.log | tail -60; exit 1)

setup:
	@bash scripts/setup.sh

test: all
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: setup
	@mkdir -p build-asan && cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DNIS_SANITIZE=ON > build-asan/cmake.log 2>&1 || (cat build-asan/cmake.log; exit 1)
	@cmake --build build-asan -j $(JOBS) > build-asan/build.log 2>&1 || (grep -v -E '^\[ *[0-9]+%\]' build-asan/build.log | tail -60; exit 1)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

demo: all
	@$(BUILD)/nis demo --steps 1000
	@mkdir -p runs
	@echo "nis train --target donut --method dft --out runs/demo"
	@$(BUILD)/nis train --target donut --method dft --out runs/demo
	@echo "wrote runs/demo/sampler.safetensors, config.json, metrics.json and samples.png"

# Long experiments (never run by the tests); each writes its table to docs/.
bench:
	@bench/run_bench.sh

toy2d: all
	@bench/toy2d

clean:
	rm -rf $(BUILD) build-asan
