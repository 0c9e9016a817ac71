#!/usr/bin/env bash
# The demo: one simulated district (1,333 households under home quarantine, a
# door seal on each) against the real daemon, with a fast clock so that alerts
# are raised and escalate within a minute. Installs what is missing, builds,
# starts a private Mosquitto on a free loopback port and the daemon, runs
# deploy/demo/simulate.py, and cleans everything up after SECONDS (default 90)
# or Ctrl-C. DEMO_KEEP=1 keeps the work directory (logs, database).
# Usage: bash scripts/demo.sh [SECONDS]
set -euo pipefail
secs=${1:-90}
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 10 ] || [ "$secs" -gt 3600 ]; then
	echo "usage: $0 [SECONDS]   (10-3600, default 90)" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3 # Debian's, with python3-paho-mqtt; not a pyenv one

# shellcheck source=scripts/deps.sh
. "$here/scripts/deps.sh"
sb_install_deps python3 python3-paho-mqtt

build=${BUILD_DIR:-$here/build}
echo "== building sealbridge in $build"
timeout 600 cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
timeout 1200 cmake --build "$build" -j"$(nproc)" --target sealbridge >/dev/null

work=$(mktemp -d /tmp/sealbridge-demo.XXXXXX)
broker_pid="" daemon_pid="" sim_pid=""
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e # whatever has already gone (Ctrl-C stops the broker too), clean up the rest
	[ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -TERM "$daemon_pid" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$daemon_pid" 2>/dev/null && echo "== sealbridge ignored SIGTERM for 10 s: killed"
	fi
	[ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null
	wait 2>/dev/null || true
	if [ "$rc" -ne 0 ] && [ -s "$work/sealbridge.log" ]; then
		echo "== last lines of the daemon's log"
		tail -n 15 "$work/sealbridge.log"
	fi
	if [ "${DEMO_KEEP:-}" = 1 ]; then
		echo "== kept $work (broker and daemon logs, database)"
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
# Ctrl-C reaches the daemon and the broker too (they stop by themselves); the
# simulator runs in the background, where bash ignores SIGINT: pass it on, so
# that it prints its summary.
interrupted=
# shellcheck disable=SC2317 # called from the INT and TERM traps
on_signal() {
	interrupted=1
	if [ -n "$sim_pid" ]; then kill -TERM "$sim_pid" 2>/dev/null || true; else exit 130; fi
}
trap on_signal INT TERM

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
max_inflight_messages 1000
set_tcp_nodelay true
log_dest stderr
CONF
/usr/sbin/mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "mosquitto did not start on port $port:" >&2
	cat "$work/mosquitto.log" >&2 || true
	exit 1
fi

# The fast clock: minutes become seconds.
cat >"$work/sealbridge.ini" <<INI
[mqtt]
uri = tcp://127.0.0.1:$port
client_id = sealbridge-demo
topic_root = seal
[store]
path = $work/sealbridge.db
[timing]
silence_after = 20
unmonitored_after = 30
battery_low = 20
stats_interval = 5
[escalation]
street_after = 10
district_after = 10
[log]
level = info
file = $work/sealbridge.log
[model.ds-200]
battery_low = 20
INI
"$build/sealbridge" -t -c "$work/sealbridge.ini" >/dev/null
"$build/sealbridge" -c "$work/sealbridge.ini" &
daemon_pid=$!
echo "== Mosquitto on 127.0.0.1:$port, sealbridge (silence_after 20 s, street_after 10 s, district_after 10 s)"
echo "== watch it yourself: mosquitto_sub -p $port -t 'seal/alert/#' -v"
echo "== running for $secs s; Ctrl-C ends it sooner"

# The simulator ends itself after $secs (and prints a summary on Ctrl-C or
# SIGTERM); timeout is the backstop.
status=0
timeout -k 5 $((secs + 30)) "$PY" -u "$here/deploy/demo/simulate.py" --port "$port" --seconds "$secs" \
	--silence-after 20 --street-after 10 --district-after 10 &
sim_pid=$!
# A trapped signal interrupts wait; wait again until the simulator is done.
while :; do
	rc=0
	wait "$sim_pid" || rc=$?
	kill -0 "$sim_pid" 2>/dev/null || break
done
status=$rc
sim_pid=
# Field operations: a dying gateway, a testing round, the daily rubbish run.
if [ -z "$interrupted" ] && [ "$status" = 0 ] && kill -0 "$daemon_pid" 2>/dev/null; then
	timeout -k 5 120 "$PY" -u "$here/deploy/demo/field_ops.py" --port "$port" || status=$?
fi
if [ -z "$interrupted" ] && ! kill -0 "$daemon_pid" 2>/dev/null; then
	echo "== sealbridge exited during the demo" >&2
	status=1
fi
exit "$status"
