#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-asan/ (clang if present, else gcc; -Werror), runs the unit tests, then
# the integration tests against the sanitized daemon: any memory error,
# undefined behaviour or leak, in a test or in the daemon at exit, fails.
# Usage: bash scripts/sanitize.sh
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD=$REPO/build-asan
PYTHON=/usr/bin/python3
CC_SAN=${CC_SAN:-$(command -v clang || command -v gcc)}

step() { printf '\n== %s\n' "$*"; }
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

step "build (sanitized, $(basename "$CC_SAN")) in build-asan/"
timeout 600 cmake -S "$REPO" -B "$BUILD" -DCMAKE_C_COMPILER="$CC_SAN" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSB_SANITIZE=ON -DSB_WERROR=ON >/dev/null
timeout 1800 cmake --build "$BUILD" -j"$(nproc)"

# detect_leaks is on by default on x86_64 Linux; said anyway, as it is the point.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0

step "unit tests (sanitized)"
timeout -k 10 1200 ctest --test-dir "$BUILD" --output-on-failure || status=1

if [ -d tests/integration ] && installed python3-pytest; then
	step "integration tests (sanitized daemon)"
	# The daemon must exit 0 after SIGTERM: a report makes it exit 1 instead of
	# aborting, so the harness names the exit code and shows the report from
	# the daemon's log.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=1:detect_stack_use_after_return=1 \
		SEALBRIDGE_BIN="$BUILD/sealbridge" PYTHONDONTWRITEBYTECODE=1 \
		timeout -k 10 1800 "$PYTHON" -m pytest -q tests/integration -x || status=1
else
	# A check that cannot run fails.
	step "integration tests cannot run (no tests/integration or python3-pytest): FAILED"
	status=1
fi

if [ $status -ne 0 ]; then
	step "sanitized run FAILED"
else
	step "sanitized run passed"
fi
exit $status
