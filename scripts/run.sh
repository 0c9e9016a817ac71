#!/usr/bin/env bash
# Runs sealbridge for real: installs what is missing, builds, and starts the
# daemon in the foreground. With no settings file it uses deploy/sealbridge.ini
# (broker tcp://127.0.0.1:1883, database ./sealbridge.db); when nothing listens
# on 127.0.0.1:1883 it starts a local Mosquitto there for the daemon's lifetime,
# with deploy/mosquitto.conf's settings (scripts/local-broker-conf.sh). Beside
# it, websockify serves the web console (deploy/console) on
# 127.0.0.1:$SB_CONSOLE_PORT (default 8080) and carries its MQTT to the broker.
# Usage: bash scripts/run.sh [SETTINGS.ini]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=deps.sh
. "$here/scripts/deps.sh"
node_pkgs=()
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then node_pkgs=(nodejs npm); fi
sb_install_deps websockify "${node_pkgs[@]}"

cfg=${1:-$here/deploy/sealbridge.ini}
build=${BUILD_DIR:-$here/build}
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target sealbridge sealctl 2>/dev/null ||
	cmake --build "$build" -j"$(nproc)" --target sealbridge
"$build/sealbridge" -t -c "$cfg"

uri=$(sed -n 's/^[[:space:]]*uri[[:space:]]*=[[:space:]]*//p' "$cfg" | tail -n 1)
broker_pid=
if [ "$uri" = "tcp://127.0.0.1:1883" ] && ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
	rundir=$(mktemp -d /tmp/sealbridge-broker.XXXXXX)
	bash "$here/scripts/local-broker-conf.sh" "$rundir" 1883 >"$rundir/mosquitto.conf"
	echo "== starting a local Mosquitto on 127.0.0.1:1883 (config $rundir/mosquitto.conf)"
	/usr/sbin/mosquitto -c "$rundir/mosquitto.conf" >"$rundir/mosquitto.log" 2>&1 &
	broker_pid=$!
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.1; done
fi
console_pid=
console_port=${SB_CONSOLE_PORT:-8080}
if [ "$uri" = "tcp://127.0.0.1:1883" ]; then
	bash "$here/deploy/console/vendor.sh" >/dev/null
	if (exec 3<>"/dev/tcp/127.0.0.1/$console_port") 2>/dev/null; then
		echo "== 127.0.0.1:$console_port is taken: no console (set SB_CONSOLE_PORT)"
	else
		consolelog=$(mktemp /tmp/sealbridge-console.XXXXXX.log)
		websockify --web "$here/deploy/console" "127.0.0.1:$console_port" 127.0.0.1:1883 >"$consolelog" 2>&1 &
		console_pid=$!
		echo "== console: http://127.0.0.1:$console_port/  (websockify to 127.0.0.1:1883, log $consolelog)"
		echo "   e.g. http://127.0.0.1:$console_port/?unit=community/c-1"
	fi
fi
cleanup() {
	[ -n "$console_pid" ] && kill "$console_pid" 2>/dev/null
	[ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'kill -TERM "$daemon" 2>/dev/null' INT TERM
echo "== sealbridge -c $cfg   (Ctrl-C stops it)"
"$build/sealbridge" -c "$cfg" &
daemon=$!
wait "$daemon" || wait "$daemon"
