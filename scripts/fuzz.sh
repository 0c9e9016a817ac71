#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan+UBSan) in build-fuzz/ and runs
# each for SECONDS (default 20) on a fresh copy of its seed corpus. Exits
# non-zero if any harness crashes, leaks, breaks an invariant or hangs; the
# crashing inputs are kept in build-fuzz/artifacts/<harness>/.
# Usage: bash scripts/fuzz.sh [SECONDS] [--runs N] [HARNESS...]
#   --runs N   stop each harness after N executions instead (SECONDS, if given, is then a cap);
#              the soak of docs/testing.md is --runs 10000000; harnesses run one at a time,
#              each as a single in-process job (what -jobs=1 asks for, without its fuzz-N.log)
#   HARNESS    only these (fuzz_report fuzz_command fuzz_config fuzz_time fuzz_vendor)
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
usage() { echo "usage: $0 [SECONDS] [--runs N] [HARNESS...]" >&2; exit 2; }
SECS="" RUNS=0 PICK=()
while [ $# -gt 0 ]; do
	case $1 in
	--runs) shift; RUNS=${1:-}; case $RUNS in '' | *[!0-9]*) usage ;; esac ;;
	fuzz_*) PICK+=("$1") ;;
	'' | *[!0-9]*) usage ;;
	*) SECS=$1 ;;
	esac
	shift
done
if [ -z "$SECS" ]; then
	if [ "$RUNS" -gt 0 ]; then SECS=86400; else SECS=20; fi
fi
[ "$SECS" -ge 1 ] || { echo "usage: $0 [SECONDS]  (at least 1)" >&2; exit 2; }
BUILD=$REPO/build-fuzz
HARNESSES=(fuzz_report fuzz_command fuzz_config fuzz_time fuzz_vendor)
[ ${#PICK[@]} -eq 0 ] || HARNESSES=("${PICK[@]}")

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
missing=()
for p in clang libclang-rt-14-dev; do
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "fuzz: installing ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -q >/dev/null
	as_root env DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

echo "fuzz: building in build-fuzz/"
mkdir -p "$BUILD"
if ! { timeout 600 cmake -S "$REPO" -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSB_FUZZ=ON -DSB_WERROR=ON &&
	timeout 1200 cmake --build "$BUILD" -j"$(nproc)" --target "${HARNESSES[@]}"; } >"$BUILD/build.log" 2>&1; then
	tail -n 40 "$BUILD/build.log"
	echo "fuzz: build FAILED (log: build-fuzz/build.log)"
	exit 1
fi

# Leaks count as failures; a hung input is one that takes over 10 s.
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for h in "${HARNESSES[@]}"; do
	corpus=$BUILD/corpus/$h
	artifacts=$BUILD/artifacts/$h
	log=$BUILD/$h.log
	rm -rf "$corpus"
	mkdir -p "$corpus" "$artifacts"
	cp -R "$BUILD/tests/fuzz/seeds/$h/." "$corpus/"
	cp -R "$REPO/tests/fuzz/regressions/$h/." "$corpus/"
	# timeout is a backstop only: libFuzzer stops itself at -max_total_time.
	rc=0
	t0=$(date +%s)
	timeout -k 10 $((SECS + 120)) "$BUILD/tests/fuzz/$h" "$corpus" \
		-dict="$REPO/tests/fuzz/dict/$h.dict" -max_total_time="$SECS" -rss_limit_mb=2048 \
		-runs="$([ "$RUNS" -gt 0 ] && echo "$RUNS" || echo -1)" \
		-timeout=10 -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/" \
		>"$log" 2>&1 || rc=$?
	took=$(($(date +%s) - t0))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ $rc -ne 0 ]; then
		status=1
		echo "fuzz: $h FAILED (exit $rc); log: build-fuzz/$h.log"
		grep -E '^(==[0-9]+==|SUMMARY|.*invariant broken|.*runtime error)' "$log" | head -n 20 || true
		grep -E 'Test unit written to' "$log" | head -n 5 || true
	else
		echo "fuzz: $h ok (${runs:-?} runs in ${took}s)"
	fi
done
if [ $status -ne 0 ]; then
	echo "fuzz: FAILED; reproduce with build-fuzz/tests/fuzz/<harness> <crash file>," \
		"and keep the input in tests/fuzz/regressions/<harness>/ once fixed"
else
	echo "fuzz: all harnesses ok"
fi
exit $status
