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

# Everything a test needs, so that none has a reason to skip on a new machine
# (a missing tool fails its test). clang's sanitizer and fuzzer runtimes are
# only a Recommends of clang; valgrind, openssl, iproute2 (ss), mount (util-linux)
# serve the leak, TLS and fault tests; systemd (systemd-analyze), dpkg-dev and file
# (cpack -G DEB runs dpkg-shlibdeps, which needs file) the unit and packaging tests;
# chromium, websockify and a CJK font (for its screenshots) the console test.
extra=(python3 python3-pytest python3-paho-mqtt clang libclang-rt-14-dev valgrind openssl iproute2 util-linux
	procps systemd dpkg-dev file chromium websockify fonts-wqy-microhei ca-certificates)
# go-dqlite ships dqlite-demo and the dqlite shell: the dqlite client's cluster check (CTest
# dqlite_cluster) runs against three of them and fails without them.
extra+=(go-dqlite)
# node and npm may come from elsewhere (e.g. NodeSource); keep what works
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	extra+=(nodejs npm)
fi
sb_install_deps "${extra[@]}"

for d in tests/schema deploy/console tests/console; do
	step "npm ci ($d)"
	(cd "$d" && timeout 600 npm ci --no-audit --no-fund --loglevel=error)
done
step "vendor MQTT.js into the console"
bash deploy/console/vendor.sh

step "build"
timeout 600 cmake -S "$REPO" -B "$BUILD" -DSB_WERROR=ON
timeout 1200 cmake --build "$BUILD" -j"$(nproc)"

status=0 passed=0 failed=0
pass_step() { passed=$((passed + 1)); }
fail_step() { failed=$((failed + 1)); status=1; }

step "unit tests"
timeout -k 10 900 ctest --test-dir "$BUILD" --output-on-failure && pass_step || fail_step

step "schema examples"
timeout -k 10 120 node tests/schema/validate.mjs --examples && pass_step || fail_step

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
# (brokers, daemons) if it hangs. paho-asan.supp matches only Paho's own race
# on link loss (its allocation and its free); every error of ours stays fatal.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=1:detect_stack_use_after_return=1:suppressions=$REPO/tests/integration/paho-asan.supp \
	LSAN_OPTIONS=suppressions=$REPO/tests/integration/paho-lsan.supp \
	SEALBRIDGE_BIN="$SAN/sealbridge" SEALBRIDGE_PLAIN_BIN="$BUILD/sealbridge" \
	timeout -k 10 1500 "$PYTHON" -m pytest -q -rs tests/integration 2>&1 | tee "$BUILD/pytest.log" &&
	pass_step || fail_step
# A test that skips could not run: that is a failure of the test command, not a pass.
if grep -qE '^SKIPPED|[0-9]+ skipped' "$BUILD/pytest.log"; then
	echo "integration tests were skipped (see SKIPPED above): each is a missing install step or a broken check"
	fail_step
fi

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
