# nis — top-level driver.  `make` builds build/libnis.a and build/nis; `make test` runs the test suite;
# `make asan` builds and runs the tests under AddressSanitizer + UndefinedBehaviorSanitizer;
# `make demo` trains a small MLP (loss falling), then a DFT sampler on the donut target (runs/demo/samples.png).
# `make ubsan-clang` runs the tests built by clang with UBSan (float-cast-overflow included); `make fuzz` runs each
# libFuzzer target of tests/fuzz for a few seconds, `make fuzz-long` (bench/fuzz) for a million inputs each
# (docs/fuzzing.md).  These three install clang from Debian's packages first.
BUILD ?= build
JOBS ?= 2
# NATIVE=1: tune for this machine's CPU (-march=native; not portable).  The bench builds that way in build-native.
NATIVE ?= 0
NATIVE_FLAG := $(if $(filter 1 ON on yes,$(NATIVE)),-DNIS_NATIVE=ON,-DNIS_NATIVE=OFF)

.PHONY: all setup setup-test test asan demo bench toy2d clean ubsan-clang fuzz fuzz-long

all: setup
	@mkdir -p $(BUILD) && cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(NATIVE_FLAG) > $(BUILD)/cmake.log 2>&1 || (cat $(BUILD)/cmake.log; exit 1)
	@cmake --build $(BUILD) -j $(JOBS) > $(BUILD)/build.log 2>&1 || (grep -v -E '^\[ *[0-9]+%\]' $(BUILD)/build.log | tail -60; exit 1)

setup:
	@bash scripts/setup.sh

# (OpenMPI first, so that the build finds it: NIS_MPI=AUTO; docs/scaling.md)
test: setup-test all
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

setup-test:
	@bash scripts/setup.sh torch mpi

asan: setup
	@mkdir -p build-asan && cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DNIS_SANITIZE=ON > build-asan/cmake.log 2>&1 || (cat build-asan/cmake.log; exit 1)
	@cmake --build build-asan -j $(JOBS) > build-asan/build.log 2>&1 || (grep -v -E '^\[ *[0-9]+%\]' build-asan/build.log | tail -60; exit 1)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# clang's UndefinedBehaviorSanitizer (with float-cast-overflow, which GCC's -fsanitize=undefined leaves out) over the
# whole test suite, in build-ubsan-clang.
ubsan-clang:
	@bash scripts/setup.sh clang
	@mkdir -p build-ubsan-clang && cmake -S . -B build-ubsan-clang -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DNIS_UBSAN_CLANG=ON > build-ubsan-clang/cmake.log 2>&1 || (cat build-ubsan-clang/cmake.log; exit 1)
	@cmake --build build-ubsan-clang -j $(JOBS) > build-ubsan-clang/build.log 2>&1 || (grep -v -E '^\[ *[0-9]+%\]' build-ubsan-clang/build.log | tail -60; exit 1)
	@cd build-ubsan-clang && UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# The fuzz targets (clang, libFuzzer + ASan + UBSan) in build-fuzz, each run for NIS_FUZZ_SECONDS (3) from its seeds.
fuzz:
	@bash scripts/setup.sh clang
	@JOBS=$(JOBS) bash tests/fuzz/build.sh $(CURDIR) build-fuzz clang > /dev/null
	@cd build-fuzz && ctest -L fuzz --output-on-failure -j $(JOBS)

# A million executions per target and the parsers' line coverage (bench/fuzz; about a minute per target).
fuzz-long:
	@bench/fuzz

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
	rm -rf $(BUILD) build-asan build-ubsan-clang build-fuzz build-fuzz-cov
