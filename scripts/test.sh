#!/usr/bin/env bash
# Sets up and runs the whole test suite: installs missing Debian packages, builds the
# sanitizer (ASan + UBSan) Debug configuration with -Werror, runs every unit,
# integration and stress test through ctest; then builds an optimised configuration
# (RelWithDebInfo, no sanitizers, in build/test-opt) and runs the same tests, except the
# package test, again (OPT_TESTS=0 skips it); then builds the libFuzzer targets (clang,
# in build/fuzz) and runs each for FUZZ_SECONDS (default 45) over its seed corpus:
# a crash fails the run (tests/fuzz/README.md; FUZZ_SECONDS=0 skips it). This is exactly
# what CI runs (.ci/run). Arguments go to both ctest runs (e.g. -R 'fuse core').
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

build=build/test
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DMUSICFS_SANITIZE=ON -DMUSICFS_WERROR=ON -DMUSICFS_TESTING=ON >/dev/null
cmake --build "$build" -j"$(nproc)"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 300 "$@"

# Why a second build: a race that corrupts memory through libc (a mutex unlocked inside
# an object another thread just freed) is invisible to ASan, whose quarantine also
# keeps freed memory from being reused, and shows only at optimised speed.
if [[ "${OPT_TESTS:-1}" != 0 ]]; then
  opt=build/test-opt
  # No -Werror here: the Debug build above enforces warnings, and GCC 12's -O2-only
  # ones (-Wrestrict inside libstdc++'s char_traits) are false positives.
  cmake -S . -B "$opt" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUSICFS_TESTING=ON >/dev/null
  cmake --build "$opt" -j"$(nproc)"
  ctest --test-dir "$opt" --output-on-failure -j"$(nproc)" --timeout 300 -LE package "$@"
fi

# FUZZ_SECONDS=0 skips the fuzz step (e.g. while running a few tests with -R).
if [[ "${FUZZ_SECONDS:-45}" != 0 ]]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-45} ./tests/fuzz/run
fi
