#!/usr/bin/env bash
# The test command: installs what is missing, builds with -Werror, runs the
# unit tests (CTest), the schema examples and the integration tests.
# Works as root on a fresh Debian; bounded; leaves no processes behind.
set -euo pipefail

# Run in a session of our own, so that whatever a test leaves running (a broker
# a killed unit test started, a daemon) can be found and ended on exit.
if [ -z "${SB_TEST_SESSION:-}" ] && command -v setsid >/dev/null; then
	exec setsid --wait env SB_TEST_SESSION=child bash "$0" "$@"
fi
if [ "${SB_TEST_SESSION:-}" = child ]; then
	export SB_TEST_SESSION=$$
	end_leftovers() {
		local d stat f
		for d in /proc/[0-9]*; do
			[ "${d#/proc/}" = "$$" ] && continue
			read -r stat <"$d/stat" 2>/dev/null || continue
			read -r -a f <<<"${stat##*) }" # state ppid pgrp session ...
			if [ "${f[3]:-}" = "$$" ]; then kill -KILL "${d#/proc/}" 2>/dev/null || true; fi
		done
	}
	trap end_leftovers EXIT
fi

cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD=${BUILD_DIR:-$REPO/build}
PYTHON=/usr/bin/python3   # Debian's, which has pytest and paho-mqtt; not a pyenv one
export DEBIAN_FRONTEND=noninteractive PYTHONDONTWRITEBYTECODE=1

step() { printf '\n== %s\n' "$*"; }

# shellcheck source=deps.sh
. "$REPO/scripts/deps.sh"

# clang's sanitizer and fuzzer runtimes are only a Recommends of clang; valgrind, openssl,
# iproute2 (ss) and dpkg-dev (cpack) serve the leak, TLS, fault and packaging tests.
extra=(python3 python3-pytest python3-paho-mqtt clang libclang-rt-14-dev valgrind openssl iproute2 dpkg-dev)
# node and npm may come from elsewhere (e.g. NodeSource); keep what works
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	extra+=(nodejs npm)
fi
sb_install_deps "${extra[@]}"

if [ -f tests/schema/package-lock.json ]; then
	step "npm ci (tests/schema)"
	(cd tests/schema && timeout 600 npm ci --no-audit --no-fund --loglevel=error)
fi

step "build"
timeout 600 cmake -S "$REPO" -B "$BUILD" -DSB_WERROR=ON
timeout 1200 cmake --build "$BUILD" -j"$(nproc)"

status=0 passed=0 failed=0
pass_step() { passed=$((passed + 1)); }
fail_step() { failed=$((failed + 1)); status=1; }

step "unit tests"
timeout -k 10 900 ctest --test-dir "$BUILD" --output-on-failure && pass_step || fail_step

step "schema examples"
# A check that cannot run fails: no validator or no node_modules (npm ci) is a failed step.
if [ -f tests/schema/validate.mjs ] && [ -d tests/schema/node_modules ]; then
	timeout -k 10 120 node tests/schema/validate.mjs --examples && pass_step || fail_step
else
	echo "schema examples cannot run: tests/schema/validate.mjs or tests/schema/node_modules missing (npm ci)"
	fail_step
fi

# The integration tests run once, against the ASan/UBSan build of the daemon:
# every scenario is then also a sanitizer check (a leak or error at exit fails
# the test). The valgrind leak test needs the plain build.
SAN=${SAN_BUILD_DIR:-$REPO/build-asan}
CC_SAN=$(command -v clang || command -v gcc)
step "build (ASan + UBSan, $(basename "$CC_SAN")) in $(basename "$SAN")/"
timeout 600 cmake -S "$REPO" -B "$SAN" -DCMAKE_C_COMPILER="$CC_SAN" -DSB_SANITIZE=ON -DSB_WERROR=ON \
	-DSB_BENCH=OFF >/dev/null
timeout 1200 cmake --build "$SAN" -j"$(nproc)"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

step "unit tests (sanitized)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
	timeout -k 10 900 ctest --test-dir "$SAN" --output-on-failure && pass_step || fail_step

step "integration tests (sanitized daemon; valgrind leak check on the plain one)"
# timeout runs pytest in its own process group and kills the whole group
# (brokers, daemons) if it hangs.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=1:detect_stack_use_after_return=1 \
	SEALBRIDGE_BIN="$SAN/sealbridge" SEALBRIDGE_PLAIN_BIN="$BUILD/sealbridge" \
	timeout -k 10 1500 "$PYTHON" -m pytest -q tests/integration && pass_step || fail_step

step "fuzzing (a short bounded run of each harness)"
timeout -k 10 600 bash scripts/fuzz.sh 10 && pass_step || fail_step

step "benchmark smoke run (numbers are not checked here)"
BUILD_DIR="$BUILD" timeout -k 10 300 bash scripts/bench.sh --quick && pass_step || fail_step

if [ $status -ne 0 ]; then
	step "FAILED"
else
	step "all tests passed"
fi
# The last line, one a CI reader can count: each check above (a test suite, a fuzz or bench run) is one.
printf 'checks: %d passed, %d failed\n' "$passed" "$failed"
exit $status
