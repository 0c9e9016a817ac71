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

extra=(python3 python3-pytest python3-paho-mqtt clang)
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

status=0

step "unit tests"
timeout -k 10 900 ctest --test-dir "$BUILD" --output-on-failure || status=1

if [ -f tests/schema/validate.mjs ] && [ -d tests/schema/node_modules ]; then
	step "schema examples"
	timeout -k 10 120 node tests/schema/validate.mjs --examples || status=1
fi

step "integration tests"
# timeout runs pytest in its own process group and kills the whole group
# (brokers, daemons) if it hangs.
SEALBRIDGE_BIN="$BUILD/sealbridge" timeout -k 10 900 "$PYTHON" -m pytest -q tests/integration || status=1

if [ $status -ne 0 ]; then
	step "FAILED"
else
	step "all tests passed"
fi
exit $status
