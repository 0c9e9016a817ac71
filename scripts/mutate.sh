#!/usr/bin/env bash
# The mutation check: plants each bug of tests/mutations/ alone in a copy of
# this tree (build-mutate/src, with uncommitted changes), builds it
# (build-mutate/build), runs the tests named for that bug and prints which
# mutants survived, i.e. which bugs the suite let through. Not part of CI
# (minutes per mutant); see docs/testing.md.
#
# Usage: bash scripts/mutate.sh [--all] [--with NAME,...] [--no-baseline] [--list] [MUTANT...]
#   MUTANT       number or file name part (e.g. 01 or outbox); default: every mutant
#   --with NAMES also run the mutants whose "Needs:" names one of these merged branches
#   --all        also run every mutant that needs another branch (after the lead merged them all)
#   --no-baseline  skip the run of the selected tests on the unmutated copy
#   --only KIND  run only the Tests lines of one kind (ctest or pytest): which
#                bugs the unit tests alone, or the integration tests alone, catch
#   --list       print the mutants and exit
# A mutant file is NN-name.patch (a unified diff, -p1) or NN-name.sed (a sed
# script for the file named by "File:"). Its header, before the first blank
# line, says:
#   Mutant: what the planted bug is
#   Needs:  - (applies now) or the branch whose fix makes it killable (link, store, engine, ...)
#   Tests:  ctest REGEX | pytest ARGS...    (one or more lines; run in that order)
#   File:   path (.sed only; several File: lines = the same script over each)
# Exit status: 0 when no mutant that was run survived and every one applied and built.
set -uo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
WORK=${SB_MUTATE_DIR:-$REPO/build-mutate}
SRC=$WORK/src
BLD=$WORK/build
LOGS=$WORK/logs
MUT=$REPO/tests/mutations
PYTHON=/usr/bin/python3
TEST_TIMEOUT=${SB_MUTATE_TEST_TIMEOUT:-900}

all=0 baseline=1 list=0 with="" only="" picks=()
while [ $# -gt 0 ]; do
	case $1 in
	--all) all=1 ;;
	--with) shift; with=",${1:-},"; ;;
	--no-baseline) baseline=0 ;;
	--only) shift; only=${1:-}; case $only in ctest | pytest) ;; *) echo "--only ctest|pytest" >&2; exit 2 ;; esac ;;
	--list) list=1 ;;
	-h | --help) sed -n '2,22p' "$0"; exit 0 ;;
	-*) echo "unknown option $1" >&2; exit 2 ;;
	*) picks+=("$1") ;;
	esac
	shift
done

field() { # file key -> values of "key:" lines of the header, one per line
	awk -v k="$2:" 'NF == 0 { exit } $1 == k { sub(/^[^:]*: */, ""); print }' "$1"
}

mutants=()
for f in "$MUT"/[0-9][0-9]-*.patch "$MUT"/[0-9][0-9]-*.sed; do
	[ -f "$f" ] || continue
	b=$(basename "$f")
	if [ ${#picks[@]} -gt 0 ]; then
		hit=0
		for p in "${picks[@]}"; do case $b in "$p"-* | *"$p"*) hit=1 ;; esac; done
		[ $hit -eq 1 ] || continue
	fi
	mutants+=("$f")
done
IFS=$'\n' mutants=($(printf '%s\n' "${mutants[@]}" | sort)); unset IFS
[ ${#mutants[@]} -gt 0 ] || { echo "mutate: no mutants match" >&2; exit 2; }

runnable() { # file -> 0 if it is to be run now
	local needs
	needs=$(field "$1" Needs)
	[ -z "$needs" ] || [ "$needs" = "-" ] || [ $all -eq 1 ] || case $with in *",$needs,"*) true ;; *) false ;; esac
}

if [ $list -eq 1 ]; then
	printf '%-34s %-8s %s\n' MUTANT NEEDS "WHAT"
	for f in "${mutants[@]}"; do
		printf '%-34s %-8s %s\n' "$(basename "$f")" "$(field "$f" Needs)" "$(field "$f" Mutant)"
	done
	exit 0
fi

mkdir -p "$WORK" "$LOGS"
# The copy is a git repository of its own, so that each mutant starts from the
# same files with unchanged times (the build stays incremental).
echo "mutate: copying the tree to ${SRC#"$REPO"/}"
rm -rf "$SRC"
mkdir -p "$SRC"
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$SRC"
[ -d tests/schema/node_modules ] && [ ! -e "$SRC/tests/schema/node_modules" ] &&
	ln -s "$REPO/tests/schema/node_modules" "$SRC/tests/schema/node_modules"
git -C "$SRC" init -q && git -C "$SRC" add -A && git -C "$SRC" -c user.name=mutate -c user.email=mutate@localhost \
	commit -qm pristine || { echo "mutate: cannot snapshot the copy" >&2; exit 2; }
reset_copy() { git -C "$SRC" checkout -q -- . && git -C "$SRC" clean -fdq; }

build() { # log
	{ timeout 600 cmake -S "$SRC" -B "$BLD" -DSB_WERROR=OFF -DSB_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
		timeout 1200 cmake --build "$BLD" -j"$(nproc)"; } >>"$1" 2>&1
}

run_tests() { # file log -> 0 all passed; prints the first failing selection
	local line kind rest
	while IFS= read -r line; do
		kind=${line%% *}
		rest=${line#* }
		[ -z "$only" ] || [ "$kind" = "$only" ] || continue
		echo "---- $line" >>"$2"
		case $kind in
		ctest)
			timeout -k 10 "$TEST_TIMEOUT" ctest --test-dir "$BLD" --output-on-failure -R "$rest" >>"$2" 2>&1 ||
				{ echo "$line"; return 1; } ;;
		pytest)
			# shellcheck disable=SC2086 # ARGS are words
			(cd "$SRC" && SEALBRIDGE_BIN=$BLD/sealbridge SEALBRIDGE_PLAIN_BIN=$BLD/sealbridge \
				timeout -k 10 "$TEST_TIMEOUT" "$PYTHON" -m pytest -q -x $rest) >>"$2" 2>&1 ||
				{ echo "$line"; return 1; } ;;
		*) echo "bad Tests line: $line"; return 2 ;;
		esac
	done < <(field "$1" Tests)
	return 0 # (with --only, a mutant with no test of that kind survives: that kind is blind to it)
}

plant() { # file log -> 0 planted
	local f=$1 target
	case $f in
	*.patch) patch -d "$SRC" -p1 --forward --no-backup-if-mismatch -s <"$f" >>"$2" 2>&1 ;;
	*.sed)
		# the script (after the header) goes over every File: that exists;
		# the mutant applies if it changed at least one of them
		sed -n '/^$/,$p' "$f" >"$WORK/script.sed"
		local changed=1
		while IFS= read -r target; do
			[ -f "$SRC/$target" ] || { echo "no file $target" >>"$2"; continue; }
			cp "$SRC/$target" "$WORK/before"
			sed -i -f "$WORK/script.sed" "$SRC/$target" >>"$2" 2>&1 || return 1
			cmp -s "$WORK/before" "$SRC/$target" || changed=0
		done < <(field "$f" File)
		return $changed ;;
	esac
}

run=() skipped=()
for f in "${mutants[@]}"; do
	if runnable "$f"; then run+=("$f"); else skipped+=("$f"); fi
done

echo "mutate: building the unmutated copy"
if ! build "$LOGS/baseline.log"; then
	tail -n 30 "$LOGS/baseline.log"
	echo "mutate: the unmutated tree does not build"
	exit 2
fi
if [ $baseline -eq 1 ] && [ ${#run[@]} -gt 0 ]; then
	echo "mutate: baseline (every selected test on the unmutated copy must pass)"
	for f in "${run[@]}"; do
		if ! why=$(run_tests "$f" "$LOGS/baseline.log"); then
			echo "mutate: baseline FAILED for $(basename "$f"): $why (log: ${LOGS#"$REPO"/}/baseline.log)"
			echo "mutate: fix the suite first; a mutant killed by a failing test means nothing"
			exit 2
		fi
	done
fi

status=0 nk=0 ns=0 nx=0
results=()
for f in "${run[@]}"; do
	b=$(basename "$f")
	log=$LOGS/${b%.*}.log
	: >"$log"
	reset_copy
	t0=$(date +%s)
	if ! plant "$f" "$log"; then
		r="DOES NOT APPLY (refresh the mutant)"; nx=$((nx + 1)); status=1
	elif ! build "$log"; then
		r="BUILD FAILED (fix the mutant)"; nx=$((nx + 1)); status=1
	elif why=$(run_tests "$f" "$log"); then
		r="SURVIVED"; ns=$((ns + 1)); status=1
	else
		r="killed by: $why"; nk=$((nk + 1))
	fi
	results+=("$(printf '%-34s %s  (%ss)' "$b" "$r" $(($(date +%s) - t0)))")
	echo "mutate: ${results[-1]}"
done
reset_copy
build "$LOGS/baseline.log" || true # leave build-mutate/build unmutated

echo
echo "== mutation check: ${#run[@]} run, $nk killed, $ns survived, $nx broken; ${#skipped[@]} not run (need another branch)"
for r in "${results[@]}"; do echo "  $r"; done
for f in "${skipped[@]}"; do
	printf '  %-34s not run: needs %s (run with --with %s or --all after the merge)\n' "$(basename "$f")" \
		"$(field "$f" Needs)" "$(field "$f" Needs)"
done
[ $ns -eq 0 ] || echo "SURVIVED: the suite let these bugs through; add tests that catch them"
exit $status
