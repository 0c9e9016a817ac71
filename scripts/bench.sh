#!/usr/bin/env bash
# shellcheck disable=SC2059,SC2317 # our own table format; cleanup runs from a trap
# Benchmarks sealbridge against a bare subscriber (the ceiling) on one private
# Mosquitto, side by side in one run, and prints a table of ratios. Numbers
# are noisy on a small machine: compare the ratios, not the absolutes.
#   scripts/bench.sh [--seals S] [--messages N] [--state-messages M] [--probes P]
#                    [--burst B] [--burst-silence SECONDS] [--burst-spread MS] [--repeat K] [--idle SECONDS]
#                    [--rounds R] [--flips F] [--steady SECONDS] [--steady-rate N]
#                    [--results FILE] [--keep] [--quick]
# --repeat: run each throughput measurement K times and keep the best (noise).
# --burst: B seals (default 10000, 0: no such phase) fall silent in the same second
#   (silence_after SECONDS, default 15) under background heartbeats; their alerts are
#   timed from each seal's deadline. --burst-spread: over how many ms their last
#   heartbeats go out (default 1000; 0: as fast as the broker takes them).
# --rounds/--flips: the users' workload on a second, empty database: the roster of
#   S households built through admit/install/permit commands (each waits for its
#   reply), then R rounds (default 3) of F door flips (default 500000) inside the
#   permits, each round beside a ceiling round; WAL/main file/RSS after every round.
# --steady: then SECONDS of door flips at --steady-rate/s (default 2000), one sample a minute.
# --quick: tiny sizes, about a minute, for the test command.
# Exit status: 0 unless a tool or the daemon crashed or a phase measured nothing
# (a missed target is not a failure).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)
BUILD=${BUILD_DIR:-$REPO/build}
MOSQUITTO=${MOSQUITTO_BIN:-/usr/sbin/mosquitto}
SEALS=100000 MESSAGES=200000 STATE_MESSAGES='' PROBES=200 REPEAT=1 IDLE_S=10 BG_RATE=5000 KEEP=0 RESULTS=''
BURST=10000 BURST_SILENCE_S=15 BURST_SPREAD_MS=1000
ROUNDS=3 FLIPS=500000 STEADY_S=0 STEADY_RATE=2000 DB_FILE=roster.db

usage() {
	sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
num() {
	if ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		echo "bench: bad $1 '$2'" >&2
		exit 2
	fi
}
while [ $# -gt 0 ]; do
	case "$1" in
	--seals) num --seals "${2:-}" 1 10000000; SEALS=$2; shift 2 ;;
	--messages) num --messages "${2:-}" 1 100000000; MESSAGES=$2; shift 2 ;;
	--state-messages) num --state-messages "${2:-}" 1 100000000; STATE_MESSAGES=$2; shift 2 ;;
	--probes) num --probes "${2:-}" 1 250; PROBES=$2; shift 2 ;;
	--idle) num --idle "${2:-}" 1 600; IDLE_S=$2; shift 2 ;;
	--burst) num --burst "${2:-}" 0 100000; BURST=$2; shift 2 ;;
	--burst-silence) num --burst-silence "${2:-}" 1 3600; BURST_SILENCE_S=$2; shift 2 ;;
	--burst-spread) num --burst-spread "${2:-}" 0 60000; BURST_SPREAD_MS=$2; shift 2 ;;
	--repeat) num --repeat "${2:-}" 1 20; REPEAT=$2; shift 2 ;;
	--rounds) num --rounds "${2:-}" 0 100; ROUNDS=$2; shift 2 ;;
	--flips) num --flips "${2:-}" 1 100000000; FLIPS=$2; shift 2 ;;
	--steady) num --steady "${2:-}" 0 86400; STEADY_S=$2; shift 2 ;;
	--steady-rate) num --steady-rate "${2:-}" 1 1000000; STEADY_RATE=$2; shift 2 ;;
	--results) RESULTS=${2:?}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--quick) SEALS=2000 MESSAGES=20000 PROBES=40 IDLE_S=3 BURST=200 BURST_SILENCE_S=5 FLIPS=10000; shift ;;
	*) usage ;;
	esac
done
# State changes cost a commit each: keep that run to a size that ends.
[ -n "$STATE_MESSAGES" ] || STATE_MESSAGES=$(( MESSAGES < 100000 ? MESSAGES : 100000 ))

say() { printf '== %s\n' "$*" >&2; }
warn() { printf 'bench: WARNING: %s\n' "$*" >&2; }
CRASHED=0 BROKEN=0
# A tool that died of a signal is a crash; anything else is a measurement that failed.
check_rc() {
	local what=$1 rc=$2
	if [ "$rc" -ge 128 ] && [ "$rc" -ne 143 ]; then
		warn "$what crashed (status $rc)"
		CRASHED=1
	elif [ "$rc" -ne 0 ]; then
		warn "$what failed (status $rc)"
	fi
}
# A phase that must yield a figure and did not: the run fails, loudly.
need() { # what value
	if [ -z "$2" ]; then
		warn "PHASE BROKEN: $1 measured nothing"
		BROKEN=1
	fi
}

# ---- build ------------------------------------------------------------------
TOOLS="sealbridge bench_loadgen bench_sink bench_alertlat bench_burst bench_startwatch bench_mkroster bench_nodelay bench_cmdgen bench_echo"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	timeout 600 cmake -S "$REPO" -B "$BUILD" >/dev/null || exit 1
fi
# shellcheck disable=SC2086
timeout 1200 cmake --build "$BUILD" -j"$(nproc)" --target $TOOLS >/dev/null || { echo "bench: build failed" >&2; exit 1; }
B=$BUILD/tests/bench
DAEMON=$BUILD/sealbridge
SHIM=$B/libbench_nodelay.so

# ---- processes and clean-up -------------------------------------------------
WORK=$(mktemp -d /tmp/sealbridge-bench.XXXXXX)
BROKER_PID='' DAEMON_PID='' BG_PID=''
cleanup() {
	local p
	for p in $BG_PID $DAEMON_PID ${WAL_SAMPLER:-}; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $BG_PID $DAEMON_PID; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "$BROKER_PID" ] && kill -KILL "$BROKER_PID" 2>/dev/null
	wait 2>/dev/null
	if [ "$KEEP" = 1 ]; then echo "bench: work files kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_file() { # path timeout_s
	for _ in $(seq $(( $2 * 20 ))); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
kv() { # key file: the value of key=value in the file's last matching line
	sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$2" 2>/dev/null | tail -1
}
calc() { awk "BEGIN { x = $1; printf \"%.${2:-1}f\", x }" 2>/dev/null; }

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URI=tcp://127.0.0.1:$PORT
CLK_TCK=$(getconf CLK_TCK)

start_broker() {
	cat >"$WORK/mosquitto.conf" <<-EOF
	listener $PORT 127.0.0.1
	allow_anonymous true
	persistence false
	max_queued_messages 1000000
	max_inflight_messages 0
	set_tcp_nodelay true
	log_dest file $WORK/mosquitto.log
	log_type error
	log_type warning
	log_type notice
	log_type information
	EOF
	"$MOSQUITTO" -c "$WORK/mosquitto.conf" >/dev/null 2>&1 &
	BROKER_PID=$!
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: mosquitto does not listen on $PORT" >&2
	exit 1
}

cpu_ticks() { # utime+stime of a pid
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
mem_kb() { # VmRSS or VmHWM of a pid
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null
}
lg_timeout() { echo $(( $1 / 2000 + 60 )); }

# (a) ceiling: the sink receives what loadgen sends. Rate from loadgen's first
# publish to the sink's last message, as for the daemon.
# With a root (not the daemon's), the ceiling can run while the daemon runs.
ceiling() { # mode n tag [root] -> RATE
	local mode=$1 n=$2 tag=$3 root=${4:-seal}
	RATE=
	rm -f "$WORK/ready"
	"$B/bench_sink" -u "$URI" -n "$n" -t "$root/dev/+/report" -r "$WORK/ready" -T "$(lg_timeout "$n")" \
		>"$WORK/$tag.sink" &
	local sp=$!
	wait_file "$WORK/ready" 15 || warn "sink not subscribed"
	"$B/bench_loadgen" -u "$URI" -n "$n" -s "$SEALS" -m "$mode" -R "$root" -T "$(lg_timeout "$n")" >"$WORK/$tag.gen"
	check_rc "loadgen ($tag)" $?
	wait "$sp"
	check_rc "sink ($tag)" $?
	local f0 f1
	f0=$(kv first_ns "$WORK/$tag.gen") f1=$(kv last_ns "$WORK/$tag.sink")
	if [ -n "$f0" ] && [ -n "$f1" ] && [ "$f1" != 0 ]; then RATE=$(calc "$n / (($f1 - $f0) / 1e9)" 0); fi
}

# (b)/(c) the daemon: the same stream, ended by a door opening of a marker seal;
# its alert arriving means every report before it was processed.
MARK=0
# State mode also times the marker's household state: states trail behind
# alerts in a flood (they have a smaller window), so the marker's alert says
# every report was committed, and its state says every state before it went out
# (a state not yet sent takes the newer one of its household in its place).
through_daemon() { # mode n tag [base] -> RATE, CPU_US (daemon CPU per report, microseconds), STATE_RATE
	local mode=$1 n=$2 tag=$3 base=${4:-0} mark rc ssp='' SSP_RC=0
	RATE='' STATE_RATE=''
	mark=$(printf 'mark-%04d' "$MARK")
	MARK=$((MARK + 1))
	rm -f "$WORK/ready" "$WORK/ready.state"
	"$B/bench_sink" -u "$URI" -t 'seal/alert/community/#' -m "\"$mark\"" -l -n 1 -r "$WORK/ready" \
		-T "$(( $(lg_timeout "$n") * 4 ))" >"$WORK/$tag.alert" &
	local sp=$!
	if [ "$mode" = state ]; then
		# The marker's household state queues behind every state before it.
		"$B/bench_sink" -u "$URI" -t "seal/state/household/hm-${mark#mark-}" -l -n 1 -r "$WORK/ready.state" \
			-T "$(( $(lg_timeout "$n") * 4 ))" >"$WORK/$tag.state" &
		ssp=$!
		wait_file "$WORK/ready.state" 15 || warn "state watcher not subscribed"
	fi
	wait_file "$WORK/ready" 15 || warn "alert watcher not subscribed"
	local c0 c1
	c0=$(cpu_ticks "$DAEMON_PID")
	"$B/bench_loadgen" -u "$URI" -n "$n" -s "$SEALS" -m "$mode" -b "$base" -k "$mark" -T "$(lg_timeout "$n")" \
		>"$WORK/$tag.gen"
	check_rc "loadgen ($tag)" $?
	wait "$sp"
	rc=$?
	check_rc "alert watcher ($tag: the daemon did not alert on $mark)" $rc
	# With states, the CPU counts until the last state went out too.
	[ -z "$ssp" ] || { wait "$ssp"; SSP_RC=$?; }
	c1=$(cpu_ticks "$DAEMON_PID")
	CPU_US=$(calc "($c1 - $c0) * 1e6 / $CLK_TCK / $n" 1)
	local f0 f1 f2
	f0=$(kv first_ns "$WORK/$tag.gen") f1=$(kv last_ns "$WORK/$tag.alert")
	if [ "$rc" = 0 ] && [ -n "$f0" ] && [ -n "$f1" ]; then RATE=$(calc "$n / (($f1 - $f0) / 1e9)" 0); fi
	if [ -n "$ssp" ]; then
		check_rc "state watcher ($tag: no state for the marker)" "$SSP_RC"
		f2=$(kv last_ns "$WORK/$tag.state")
		if [ -n "$f0" ] && [ -n "$f2" ] && [ "$f2" != 0 ]; then STATE_RATE=$(calc "$n / (($f2 - $f0) / 1e9)" 0); fi
	fi
}

start_daemon() { # tag [preload] -> DAEMON_PID, START_MS
	local tag=$1 preload=${2:-}
	cat >"$WORK/sealbridge.ini" <<-EOF
	[mqtt]
	uri = $URI
	client_id = sealbridge-bench
	[store]
	path = $WORK/$DB_FILE
	[log]
	level = info
	file = $WORK/sealbridge.log
	EOF
	rm -f "$WORK/$tag.start"
	if [ -n "$preload" ]; then
		LD_PRELOAD=$preload "$B/bench_startwatch" -u "$URI" -o "$WORK/$tag.start" -T 300 -- \
			"$DAEMON" -c "$WORK/sealbridge.ini" &
	else
		"$B/bench_startwatch" -u "$URI" -o "$WORK/$tag.start" -T 300 -- "$DAEMON" -c "$WORK/sealbridge.ini" &
	fi
	DAEMON_PID=$!
	if ! wait_file "$WORK/$tag.start" 310 || [ -z "$(kv startup_ms "$WORK/$tag.start")" ]; then
		warn "the daemon did not come online: $(cat "$WORK/$tag.start" 2>/dev/null)"
		tail -20 "$WORK/sealbridge.log" >&2
		kill -0 "$DAEMON_PID" 2>/dev/null || { CRASHED=1; exit 1; }
	fi
	START_MS=$(kv startup_ms "$WORK/$tag.start")
}

stop_daemon() { # -> STOP_MS (SIGTERM to exit; empty when it had to be killed)
	local rc t0 killed=0
	t0=$(date +%s%N)
	kill -TERM "$DAEMON_PID" 2>/dev/null
	for _ in $(seq 1200); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
	STOP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
	if kill -KILL "$DAEMON_PID" 2>/dev/null; then
		warn "the daemon did not stop within 60 s of SIGTERM; killed"
		killed=1 STOP_MS=''
	fi
	wait "$DAEMON_PID"
	rc=$?
	[ "$killed" = 1 ] || check_rc "sealbridge" "$rc"
	DAEMON_PID=''
}

LAT_NEXT=0
latency() { # tag background(0|1) -> LAT="p50 p90 p99 max lost"
	local tag=$1 bg=$2 dur rc
	dur=$(( PROBES * 50 / 1000 + 3 ))
	if [ "$bg" = 1 ]; then
		"$B/bench_loadgen" -u "$URI" -n $(( BG_RATE * (dur + 2) )) -s "$SEALS" -r "$BG_RATE" -T $(( dur + 30 )) \
			>"$WORK/$tag.bg" &
		BG_PID=$!
		sleep 1
	fi
	"$B/bench_alertlat" -u "$URI" -n "$PROBES" -o "$LAT_NEXT" -W 10 -v "$WORK/$tag.samples" >"$WORK/$tag.lat"
	check_rc "alertlat ($tag)" $?
	LAT_NEXT=$((LAT_NEXT + PROBES))
	if [ -n "$BG_PID" ]; then
		kill -TERM "$BG_PID" 2>/dev/null
		wait "$BG_PID" 2>/dev/null
		BG_PID=
		# Let the daemon drain what the broker still holds for it.
		through_daemon hb 1 "$tag.drain"
	fi
	local f=$WORK/$tag.lat
	LAT="$(kv p50_ms "$f") $(kv p90_ms "$f") $(kv p99_ms "$f") $(kv max_ms "$f") $(kv lost "$f")"
}

# "A city": BURST seals fall silent in the same second while BG_RATE heartbeats/s
# go on to the other seals. The roster stores the burst seals as silent already,
# so the daemon arms no silence timer for them before this phase; bench_burst's
# one heartbeat each (spread over a second) brings them back and starts their
# silence_after from then. The daemon counts silence from max(last seen, last
# (re)connect): it has been online since its start, long before the heartbeats,
# unless it lost the broker meanwhile, which is checked in its log.
BURST_WAIT_S=15
burst() { # tag -> BST="p50 p90 p99 max first lost"
	local tag=$1 dur lost0 lost1
	dur=$(( 1 + BURST_SILENCE_S + BURST_WAIT_S ))
	lost0=$(grep -c 'connection to .* lost' "$WORK/sealbridge.log" 2>/dev/null)
	"$B/bench_loadgen" -u "$URI" -n $(( BG_RATE * (dur + 2) )) -s "$SEALS" -r "$BG_RATE" -T $(( dur + 30 )) \
		>"$WORK/$tag.bg" &
	BG_PID=$!
	sleep 1
	"$B/bench_burst" -u "$URI" -n "$BURST" -S $(( BURST_SILENCE_S * 1000 )) -d "$BURST_SPREAD_MS" -W "$BURST_WAIT_S" \
		-v "$WORK/$tag.samples" >"$WORK/$tag.out"
	check_rc "burst ($tag)" $?
	kill -TERM "$BG_PID" 2>/dev/null
	wait "$BG_PID" 2>/dev/null
	BG_PID=
	lost1=$(grep -c 'connection to .* lost' "$WORK/sealbridge.log" 2>/dev/null)
	[ "${lost1:-0}" = "${lost0:-0}" ] ||
		warn "the daemon lost the broker during the burst: its silence deadlines moved (see $WORK/sealbridge.log)"
	# Let the daemon drain what the broker still holds for it.
	through_daemon hb 1 "$tag.drain"
	local f=$WORK/$tag.out
	BST="$(kv p50_ms "$f") $(kv p90_ms "$f") $(kv p99_ms "$f") $(kv max_ms "$f") $(kv first_ms "$f") $(kv lost "$f")"
	if [ "$(kv early "$f")" != 0 ] || [ "$(kv bad_since "$f")" != 0 ]; then
		warn "burst: $(kv early "$f") alerts before the heartbeat, $(kv bad_since "$f") with an unreadable since"
	fi
}

# ---- the run ----------------------------------------------------------------
say "roster: $SEALS seals (+$((PROBES * 4)) latency probes, 100 markers, $BURST burst seals)"
"$B/bench_mkroster" -f "$WORK/roster.db" -s "$SEALS" -l $((PROBES * 4)) -k 100 -b "$BURST" \
	-S $(( BURST_SILENCE_S * 1000 )) >"$WORK/mkroster.out" || exit 1
ROSTER_S=$(kv elapsed_s "$WORK/mkroster.out")
start_broker

say "ceiling: sink receives $MESSAGES heartbeats, $STATE_MESSAGES state reports"
# Best of REPEAT runs: noise from other work on the machine only ever slows a run down.
best() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print b; else if (b == "" || a + 0 >= b + 0) print a; else print b }'; }
least() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print b; else if (b == "" || a + 0 <= b + 0) print a; else print b }'; }
C_HB='' C_ST='' D_HB='' D_ST='' D_SP='' CPU_HB='' CPU_ST='' STATE_BASE=0
for r in $(seq "$REPEAT"); do
	ceiling hb "$MESSAGES" "c-hb.$r"
	C_HB=$(best "$C_HB" "$RATE")
	ceiling state "$STATE_MESSAGES" "c-state.$r"
	C_ST=$(best "$C_ST" "$RATE")
done

say "daemon: start-up on $SEALS seals"
start_daemon start1
START1_MS=$START_MS
RSS_LOAD=$(mem_kb "$DAEMON_PID" VmRSS)

say "daemon: $MESSAGES heartbeats"
for r in $(seq "$REPEAT"); do
	through_daemon hb "$MESSAGES" "d-hb.$r"
	D_HB=$(best "$D_HB" "$RATE") CPU_HB=$(least "$CPU_HB" "$CPU_US")
done
RSS_ALL=$(mem_kb "$DAEMON_PID" VmRSS) HWM_ALL=$(mem_kb "$DAEMON_PID" VmHWM)

say "daemon: $STATE_MESSAGES state changes"
for r in $(seq "$REPEAT"); do
	# Goes on where the last run ended, so that every report changes the battery.
	through_daemon state "$STATE_MESSAGES" "d-state.$r" "$STATE_BASE"
	STATE_BASE=$((STATE_BASE + STATE_MESSAGES))
	D_ST=$(best "$D_ST" "$RATE") CPU_ST=$(least "$CPU_ST" "$CPU_US") D_SP=$(best "$D_SP" "$STATE_RATE")
done

say "daemon: alert latency, idle and under $BG_RATE heartbeats/s ($PROBES probes each)"
latency lat-idle 0
read -r L_I50 L_I90 L_I99 L_IMAX L_ILOST <<<"$LAT"
latency lat-bg 1
read -r L_B50 L_B90 L_B99 L_BMAX L_BLOST <<<"$LAT"

S_50='' S_90='' S_99='' S_MAX='' S_FIRST='' S_LOST=''
if [ "$BURST" -gt 0 ]; then
	say "daemon: $BURST seals silent in the same second (silence_after $BURST_SILENCE_S s), under $BG_RATE heartbeats/s"
	burst burst
	read -r S_50 S_90 S_99 S_MAX S_FIRST S_LOST <<<"$BST"
fi

say "daemon: idle CPU over $IDLE_S s"
sleep 1
c0=$(cpu_ticks "$DAEMON_PID")
sleep "$IDLE_S"
c1=$(cpu_ticks "$DAEMON_PID")
IDLE_PCT=$(calc "($c1 - $c0) * 100 / $CLK_TCK / $IDLE_S" 2)
RSS_END=$(mem_kb "$DAEMON_PID" VmRSS) HWM_END=$(mem_kb "$DAEMON_PID" VmHWM)
stop_daemon
STOP1_MS=$STOP_MS

say "daemon with TCP_NODELAY (LD_PRELOAD shim): start-up and alert latency"
start_daemon start2 "$SHIM"
START2_MS=$START_MS
latency nd-idle 0
read -r N_I50 N_I90 N_I99 N_IMAX N_ILOST <<<"$LAT"
latency nd-bg 1
read -r N_B50 N_B90 N_B99 N_BMAX N_BLOST <<<"$LAT"
stop_daemon

# ---- the users' workload ----------------------------------------------------
# As the issue measured it from outside: a roster built through the command
# topics, every household with a permit, then rounds of door flips inside the
# permits (each a state change with an audit row, committed before its PUBACK),
# each round beside a ceiling round, on a database that starts empty.
file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }
WAL_SAMPLER=''
wal_sampler_start() { # samples the WAL's size every 0.2 s into $WORK/wal.samples
	: >"$WORK/wal.samples"
	( while :; do file_size "$WORK/$DB_FILE-wal" >>"$WORK/wal.samples"; sleep 0.2; done ) &
	WAL_SAMPLER=$!
}
wal_sampler_max() { # -> the largest sample since the last call, in bytes
	local m
	m=$(sort -n "$WORK/wal.samples" 2>/dev/null | tail -1)
	: >"$WORK/wal.samples"
	echo "${m:-0}"
}
mib() { calc "${1:-0} / 1048576" 1; }
rss_mb() { local k; k=$(mem_kb "$DAEMON_PID" VmRSS); [ -n "$k" ] && calc "$k / 1024" 1 || echo -; }
W_ROSTER_RATE='' W_ROSTER_CPU='' C_ROSTER_RATE='' W_WAL_MAX=0 W_ROWS=() W_FIRST='' W_MINRATIO='' W_WORST='' ST_ROWS=()
if [ "$ROUNDS" -gt 0 ]; then
	say "users' workload: $SEALS households through admit/install/permit commands, then $ROUNDS rounds of $FLIPS door flips inside permits"
	# The ceiling for commands: a bare client that answers each with a reply and
	# a retained state, on its own root, for at most 20,000 households.
	n_echo=$(( SEALS < 20000 ? SEALS : 20000 ))
	rm -f "$WORK/ready.echo"
	"$B/bench_echo" -u "$URI" -R sealx -r "$WORK/ready.echo" -T $(( n_echo / 100 + 300 )) >"$WORK/wl-echo.out" &
	BG_PID=$!
	wait_file "$WORK/ready.echo" 15 || warn "echo not subscribed"
	"$B/bench_cmdgen" -u "$URI" -n "$n_echo" -R sealx -T $(( n_echo / 100 + 120 )) >"$WORK/wl-roster-ceiling.out"
	check_rc "cmdgen (roster ceiling)" $?
	kill -TERM "$BG_PID" 2>/dev/null
	wait "$BG_PID"
	check_rc "echo" $?
	BG_PID=
	C_ROSTER_RATE=$(kv rate "$WORK/wl-roster-ceiling.out")
	need "roster ceiling" "$C_ROSTER_RATE"
	DB_FILE=workload.db
	start_daemon wl-start
	wal_sampler_start
	# Markers first (no permit: their door opening raises the alert that ends a round).
	"$B/bench_cmdgen" -u "$URI" -n 100 -d mark- -H hm- -D 4 -C c-probe -P 0 >"$WORK/wl-marks.out"
	check_rc "cmdgen (markers)" $?
	c0=$(cpu_ticks "$DAEMON_PID")
	"$B/bench_cmdgen" -u "$URI" -n "$SEALS" -T $(( SEALS / 100 + 120 )) >"$WORK/wl-roster.out"
	check_rc "cmdgen (roster)" $?
	c1=$(cpu_ticks "$DAEMON_PID")
	W_ROSTER_RATE=$(kv rate "$WORK/wl-roster.out")
	[ "$(kv ok "$WORK/wl-roster.out")" = $(( SEALS * 3 )) ] || W_ROSTER_RATE=''
	need "roster through commands" "$W_ROSTER_RATE"
	W_ROSTER_CPU=$(calc "($c1 - $c0) * 1e6 / $CLK_TCK / ($SEALS * 3)" 1)
	W_ROSTER_WAL=$(wal_sampler_max)
	W_WAL_MAX=$W_ROSTER_WAL
	FLIP_BASE=0
	for r in $(seq "$ROUNDS"); do
		# Its own topic root: the daemon, subscribed meanwhile, does not see it.
		ceiling door "$FLIPS" "wl-c.$r" sealx
		c_rate=$RATE
		need "ceiling, round $r" "$c_rate"
		through_daemon door "$FLIPS" "wl-d.$r" "$FLIP_BASE"
		FLIP_BASE=$((FLIP_BASE + FLIPS))
		need "door flips, round $r" "$RATE"
		w=$(wal_sampler_max)
		W_WAL_MAX=$(awk -v a="$W_WAL_MAX" -v b="$w" 'BEGIN { print (b > a ? b : a) }')
		ratio_r=$( [ -n "$c_rate" ] && [ -n "$RATE" ] && calc "$RATE / $c_rate" 3 || echo '')
		[ -n "$W_FIRST" ] || W_FIRST=${RATE:-0}
		rel=$(calc "${RATE:-0} / ($W_FIRST + 1e-9)" 2)
		W_MINRATIO=$(least "$W_MINRATIO" "$ratio_r")
		W_WORST=$(least "$W_WORST" "$rel")
		W_ROWS+=("$r ${c_rate:--} ${RATE:--} ${ratio_r:--} ${CPU_US:--} $(mib "$w") $(mib "$(file_size "$WORK/$DB_FILE-wal")") $(mib "$(file_size "$WORK/$DB_FILE")") $(rss_mb) $rel")
		say "round $r: ceiling ${c_rate:--}/s, daemon ${RATE:--}/s (${ratio_r:--}x), ${CPU_US:--} us CPU each, WAL max $(mib "$w") MiB"
	done
	if [ "$STEADY_S" -gt 0 ]; then
		say "steady run: door flips at $STEADY_RATE/s for $STEADY_S s, one sample a minute"
		"$B/bench_loadgen" -u "$URI" -n $(( STEADY_RATE * STEADY_S )) -s "$SEALS" -m door -b "$FLIP_BASE" \
			-r "$STEADY_RATE" -T $(( STEADY_S + 120 )) >"$WORK/wl-steady.gen" &
		BG_PID=$!
		t_end=$(( $(date +%s) + STEADY_S ))
		c0=$(cpu_ticks "$DAEMON_PID") m=0 ts0=$(date +%s%N)
		while [ "$(date +%s)" -lt "$t_end" ] && kill -0 "$BG_PID" 2>/dev/null; do
			left=$(( t_end - $(date +%s) ))
			sleep $(( left < 60 ? (left > 0 ? left : 1) : 60 ))
			m=$((m + 1))
			c1=$(cpu_ticks "$DAEMON_PID") ts1=$(date +%s%N)
			w=$(wal_sampler_max)
			W_WAL_MAX=$(awk -v a="$W_WAL_MAX" -v b="$w" 'BEGIN { print (b > a ? b : a) }')
			ST_ROWS+=("$m $(calc "($c1 - $c0) * 1e6 / $CLK_TCK / ($STEADY_RATE * ($ts1 - $ts0) / 1e9)" 1) $(rss_mb) $(mib "$w") $(mib "$(file_size "$WORK/$DB_FILE")")")
			c0=$c1 ts0=$ts1
		done
		wait "$BG_PID"
		check_rc "loadgen (steady)" $?
		BG_PID=
	fi
	kill "$WAL_SAMPLER" 2>/dev/null
	wait "$WAL_SAMPLER" 2>/dev/null
	WAL_SAMPLER=''
	stop_daemon
	DB_FILE=roster.db
fi

DROPS=$(grep -ci 'dropp' "$WORK/mosquitto.log" 2>/dev/null)

# ---- report -----------------------------------------------------------------
ratio() { [ -n "$1" ] && [ -n "$2" ] && calc "$2 / $1" 2 || echo "-"; }
verdict() { [ -n "$1" ] && awk "BEGIN { exit !($1) }" 2>/dev/null && echo ok || echo MISS; }
mb() { [ -n "$1" ] && calc "$1 / 1024" 1 || echo "-"; }
R_HB=$(ratio "$C_HB" "$D_HB") R_ST=$(ratio "$C_ST" "$D_ST") R_SP=$(ratio "$C_ST" "$D_SP")

printf '\nsealbridge benchmark: %s seals, %s heartbeats, %s state reports, best of %s; %s probes; %s cores; roster built in %s s\n' \
	"$SEALS" "$MESSAGES" "$STATE_MESSAGES" "$REPEAT" "$PROBES" "$(nproc)" "$ROSTER_S"
fmt='%-60s %10s %10s %7s %-16s %s\n'
printf "$fmt" metric ceiling daemon ratio target verdict
printf "$fmt" "heartbeats/s" "${C_HB:--}" "${D_HB:--}" "$R_HB" ">=0.8x" "$(verdict "$R_HB >= 0.8")"
printf "$fmt" "state changes/s (committed)" "${C_ST:--}" "${D_ST:--}" "$R_ST" ">=0.45x" "$(verdict "$R_ST >= 0.45")"
printf "$fmt" "  their household states published/s" "${C_ST:--}" "${D_SP:--}" "$R_SP" - -
printf "$fmt" "daemon CPU per heartbeat (us)" - "${CPU_HB:--}" - - -
printf "$fmt" "daemon CPU per state change (us)" - "${CPU_ST:--}" - - -
printf "$fmt" "alert latency idle p50/p99 ms" - "$L_I50/$L_I99" - "<=1/<=5" "$(verdict "$L_I50 <= 1 && $L_I99 <= 5")"
printf "$fmt" "  p90/max ms, lost" - "$L_I90/$L_IMAX" - - "lost $L_ILOST"
printf "$fmt" "alert latency, ${BG_RATE} hb/s, p50/p99 ms" - "$L_B50/$L_B99" - "<=1/<=5" "$(verdict "$L_B50 <= 1 && $L_B99 <= 5")"
printf "$fmt" "  p90/max ms, lost" - "$L_B90/$L_BMAX" - - "lost $L_BLOST"
printf "$fmt" "daemon with TCP_NODELAY: idle p50/p99 ms" - "$N_I50/$N_I99" - "<=1/<=5" "$(verdict "$N_I50 <= 1 && $N_I99 <= 5")"
printf "$fmt" "  p90/max ms, lost" - "$N_I90/$N_IMAX" - - "lost $N_ILOST"
printf "$fmt" "daemon with TCP_NODELAY: ${BG_RATE} hb/s p50/p99" - "$N_B50/$N_B99" - "<=1/<=5" "$(verdict "$N_B50 <= 1 && $N_B99 <= 5")"
printf "$fmt" "  p90/max ms, lost" - "$N_B90/$N_BMAX" - - "lost $N_BLOST"
if [ "$BURST" -gt 0 ]; then
	printf "$fmt" "$BURST silent in one second: alert after deadline p50/p99 ms" - "$S_50/$S_99" - "p99<=100" \
		"$(verdict "${S_LOST:-1} == 0 && ${S_99:-1e9} <= 100")"
	printf "$fmt" "  first/max ms, lost" - "$S_FIRST/$S_MAX" - - "lost ${S_LOST:--}"
fi
printf "$fmt" "RSS after load (MB)" - "$(mb "$RSS_LOAD")" - - -
printf "$fmt" "RSS/HWM after every seal reported (MB)" - "$(mb "$RSS_ALL")/$(mb "$HWM_ALL")" - "<=300 at 1M" \
	"$(verdict "${HWM_ALL:-1e9} / 1024 <= 300")"
# Not a target: the state-change and burst phases queue messages for a while.
printf "$fmt" "RSS/HWM at the end (MB)" - "$(mb "$RSS_END")/$(mb "$HWM_END")" - - -
printf "$fmt" "start-up to status online (ms)" - "${START1_MS:--}" - "<=5000" "$(verdict "${START1_MS:-1e9} <= 5000")"
printf "$fmt" "  second start (with shim)" - "${START2_MS:--}" - - -
printf "$fmt" "stop after the runs, SIGTERM to exit (ms)" - "${STOP1_MS:->60000}" - - -
printf "$fmt" "idle CPU over ${IDLE_S} s (%)" - "${IDLE_PCT:--}" - "~0" "$(verdict "${IDLE_PCT:-100} < 1")"
printf "$fmt" "broker log lines about dropped messages" - "${DROPS:-0}" - "0" "$(verdict "${DROPS:-0} == 0")"
echo "(heartbeats with \"{}\" to ids seal-NNNNNN round robin; state: battery 81/80 alternating; latency: door"
echo " openings of fresh seals every 50 ms timed to the raised alert at a subscriber; TCP_NODELAY on the"
if [ "$BURST" -gt 0 ]; then
	echo " bench clients always; the daemon's own socket only in the shim rows, as Paho C cannot set it;"
	echo " burst: one heartbeat to each burst seal within one second under $BG_RATE hb/s, each alert's arrival"
	echo " timed from its deadline, since + silence_after $BURST_SILENCE_S s; ok needs p99<=100 and none lost)"
else
	echo " bench clients always; the daemon's own socket only in the shim rows, as Paho C cannot set it)"
fi

if [ "$ROUNDS" -gt 0 ]; then
	printf '\nusers'"'"' workload: roster of %s households through commands, %s rounds of %s door flips inside permits\n' \
		"$SEALS" "$ROUNDS" "$FLIPS"
	printf "$fmt" "roster through commands (commands/s, replies awaited)" "${C_ROSTER_RATE:--}" "${W_ROSTER_RATE:--}" \
		"$(ratio "$C_ROSTER_RATE" "$W_ROSTER_RATE")" ">=10000" \
		"$(verdict "${W_ROSTER_RATE:-0} >= 10000")"
	printf "$fmt" "  daemon CPU per command (us)" - "${W_ROSTER_CPU:--}" - - -
	rfmt='%-6s %10s %10s %7s %10s %9s %9s %10s %8s %8s\n'
	printf "$rfmt" round ceiling daemon ratio "CPU us" "WAL max" "WAL end" "main MiB" "RSS MB" "vs r1"
	for row in "${W_ROWS[@]}"; do
		# shellcheck disable=SC2086
		printf "$rfmt" $row
	done
	printf "$fmt" "state changes, worst round vs ceiling" - "${W_MINRATIO:--}" - ">=0.45x" "$(verdict "${W_MINRATIO:-0} >= 0.45")"
	printf "$fmt" "state changes, worst round vs round 1" - "${W_WORST:--}" - ">=0.8x" "$(verdict "${W_WORST:-0} >= 0.8")"
	printf "$fmt" "WAL, largest sample (MiB)" - "$(mib "$W_WAL_MAX")" - "<=64" "$(verdict "$W_WAL_MAX <= 67108864")"
	if [ "${#ST_ROWS[@]}" -gt 0 ]; then
		printf '\nsteady run at %s door flips/s:\n' "$STEADY_RATE"
		printf '%-8s %14s %8s %12s %10s\n' minute "CPU us/change" "RSS MB" "WAL max MiB" "main MiB"
		for row in "${ST_ROWS[@]}"; do
			# shellcheck disable=SC2086
			printf '%-8s %14s %8s %12s %10s\n' $row
		done
	fi
fi

if [ -n "$RESULTS" ]; then
	echo "seals=$SEALS messages=$MESSAGES state_messages=$STATE_MESSAGES c_hb=$C_HB d_hb=$D_HB c_state=$C_ST" \
		"d_state=$D_ST d_state_pub=$D_SP cpu_hb_us=$CPU_HB cpu_state_us=$CPU_ST lat_idle_p50=$L_I50 lat_idle_p99=$L_I99" \
		"lat_bg_p50=$L_B50 lat_bg_p99=$L_B99 nd_idle_p50=$N_I50 nd_idle_p99=$N_I99 nd_bg_p50=$N_B50" \
		"nd_bg_p99=$N_B99 rss_load_kb=$RSS_LOAD rss_all_kb=$RSS_ALL hwm_end_kb=$HWM_END start_ms=$START1_MS" \
		"start2_ms=$START2_MS stop_ms=$STOP1_MS idle_cpu_pct=$IDLE_PCT roster_s=$ROSTER_S drops=$DROPS" \
		"burst=$BURST burst_silence_s=$BURST_SILENCE_S burst_p50=$S_50 burst_p90=$S_90 burst_p99=$S_99" \
		"burst_first=$S_FIRST burst_max=$S_MAX burst_lost=$S_LOST rounds=$ROUNDS flips=$FLIPS" \
		"roster_cmd_ceiling=$C_ROSTER_RATE roster_cmd_rate=$W_ROSTER_RATE roster_cmd_cpu_us=$W_ROSTER_CPU door_worst_ratio=$W_MINRATIO" \
		"door_worst_vs_first=$W_WORST wal_max_bytes=$W_WAL_MAX" >>"$RESULTS"
fi
[ "$BROKEN" = 0 ] || echo "bench: a phase measured nothing (see the warnings above)" >&2
[ "$CRASHED" = 0 ] && [ "$BROKEN" = 0 ]
