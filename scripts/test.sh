#!/usr/bin/env bash
# Sets up the machine, builds, and runs the whole test suite:
#   release build: every test (ctest)
#   asan build (AddressSanitizer + UndefinedBehaviorSanitizer): unit and fast tests
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
