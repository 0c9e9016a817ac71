#!/usr/bin/env bash
# The test command: installs what is missing, builds with -Werror, runs the
# unit tests (CTest), the schema examples and the integration tests.
# Works as root on a fresh Debian; bounded; leaves no processes behind.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD=${BUILD_DIR:-$REPO/build}
PYTHON=/usr/bin/python3   # Debian's, which has pytest and paho-mqtt; not a pyenv one
export DEBIAN_FRONTEND=noninteractive PYTHONDONTWRITEBYTECODE=1

step() { printf '\n== %s\n' "$*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
	local pkgs=(build-essential cmake pkg-config libpaho-mqtt-dev libsqlite3-dev libcjson-dev
		libinih-dev libsystemd-dev mosquitto mosquitto-clients python3 python3-pytest
		python3-paho-mqtt clang)
	# node and npm may come from elsewhere (e.g. NodeSource); keep what works
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		pkgs+=(nodejs npm)
	fi
	local missing=() p
	for p in "${pkgs[@]}"; do
		if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		step "installing ${missing[*]}"
		as_root timeout 600 apt-get update -q
		as_root timeout 1200 apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
}

install_missing

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
