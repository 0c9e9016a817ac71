#!/usr/bin/env bash
# Runs sealbridge for real: installs what is missing, builds, and starts the
# daemon in the foreground. With no settings file it uses deploy/sealbridge.ini
# (broker tcp://127.0.0.1:1883, database ./sealbridge.db); when nothing listens
# on 127.0.0.1:1883 it starts a local Mosquitto there for the daemon's lifetime.
# Usage: bash scripts/run.sh [SETTINGS.ini]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=deps.sh
. "$here/scripts/deps.sh"
sb_install_deps

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
	cat >"$rundir/mosquitto.conf" <<CONF
listener 1883 127.0.0.1
allow_anonymous true
persistence true
persistence_location $rundir/
autosave_interval 60
max_queued_messages 100000
set_tcp_nodelay true
CONF
	echo "== starting a local Mosquitto on 127.0.0.1:1883 (config $rundir/mosquitto.conf)"
	/usr/sbin/mosquitto -c "$rundir/mosquitto.conf" >"$rundir/mosquitto.log" 2>&1 &
	broker_pid=$!
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.1; done
fi
cleanup() { [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'kill -TERM "$daemon" 2>/dev/null' INT TERM
echo "== sealbridge -c $cfg   (Ctrl-C stops it)"
"$build/sealbridge" -c "$cfg" &
daemon=$!
wait "$daemon" || wait "$daemon"
