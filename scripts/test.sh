#!/usr/bin/env bash
# Sets up the machine, builds, and runs the whole test suite:
#   release build: every test (ctest)
#   asan build (AddressSanitizer + UndefinedBehaviorSanitizer): unit and fast tests
#   fuzz build (clang, libFuzzer, ASan + UBSan): every fuzz target for 20 s (docs/fuzzing.md)
#   tsan build (ThreadSanitizer): the engine, jobs, control plane, exporters and monitors tests
# Usage: scripts/test.sh            (as root on Debian 12, or with the packages installed)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

jobs=$(nproc)
export CCACHE_DIR=${CCACHE_DIR:-$PWD/build/.ccache}
export CTEST_OUTPUT_ON_FAILURE=1

echo "== release build"
cmake --preset release >/dev/null
cmake --build build/release -j "$jobs"
echo "== release tests"
ctest --test-dir build/release -j "$jobs" --timeout 180

echo "== asan+ubsan build"
cmake --preset asan >/dev/null
cmake --build build/asan -j "$jobs"
echo "== asan+ubsan tests (unit and fast)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan -j "$jobs" --timeout 300 -LE slow

echo "== fuzz targets (libFuzzer, ASan + UBSan): 20 s each"
bash scripts/fuzz.sh --seconds 20 --jobs "$jobs"

echo "== tsan build (the modules of the tsan preset)"
cmake --preset tsan >/dev/null
mapfile -t tsan_modules < <(cmake -L -N build/tsan | sed -n 's/^TRAFFICSIM_TEST_MODULES:STRING=//p' | tr ';' '\n')
cmake --build build/tsan -j "$jobs" --target "${tsan_modules[@]}"
echo "== tsan tests"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build/tsan -j "$jobs" --timeout 300 -LE slow
