#!/usr/bin/env bash
# Every step of the container image (deploy/Containerfile calls this script),
# kept here so that it can run, and be tested, without a container runtime:
# on a brand-new Debian bookworm root, e.g. with the fresh-machine tool,
#   fresh-machine.sh . -- 'bash deploy/container-build.sh selftest'
#
#   container-build.sh build OUT     install the build packages, build with
#                                    -Werror, install into the tree OUT
#   container-build.sh runtime OUT   install the runtime packages, create the
#                                    sealbridge user and its state directory,
#                                    copy OUT's files into place (run as root,
#                                    in the image's final stage)
#   container-build.sh check         what the image's entry point needs works:
#                                    the binaries start and the settings check
#                                    passes as the sealbridge user
#   container-build.sh selftest      build, runtime and check in this root
#                                    (changes the system: a throw-away root only)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export DEBIAN_FRONTEND=noninteractive

BUILD_PKGS=(build-essential cmake pkg-config libpaho-mqtt-dev libssl-dev libsqlite3-dev libcjson-dev
	libinih-dev libsystemd-dev)
RUNTIME_PKGS=(libpaho-mqtt1.3 libssl3 libsqlite3-0 libcjson1 libinih1 libsystemd0 ca-certificates)

apt_install() {
	apt-get update -q
	apt-get install -y -q --no-install-recommends "$@"
	rm -rf /var/lib/apt/lists/*
}

do_build() {
	local out=$1 build
	apt_install "${BUILD_PKGS[@]}"
	build=$(mktemp -d /tmp/sealbridge-build.XXXXXX)
	cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSB_WERROR=ON -DSB_BENCH=OFF \
		-DCMAKE_INSTALL_PREFIX=/usr >/dev/null
	cmake --build "$build" -j"$(nproc)" --target sealbridge sealctl
	DESTDIR=$out cmake --install "$build" >/dev/null
	rm -rf "$build"
	test -x "$out/usr/bin/sealbridge" && test -x "$out/usr/bin/sealctl"
	echo "container-build: built into $out"
}

do_runtime() {
	local out=$1
	apt_install "${RUNTIME_PKGS[@]}"
	getent group sealbridge >/dev/null || groupadd --system sealbridge
	getent passwd sealbridge >/dev/null ||
		useradd --system --gid sealbridge --home-dir /var/lib/sealbridge --shell /usr/sbin/nologin sealbridge
	install -d -m 0700 -o sealbridge -g sealbridge /var/lib/sealbridge
	install -d -m 0755 /etc/sealbridge /usr/share/sealbridge
	install -m 0755 "$out/usr/bin/sealbridge" "$out/usr/bin/sealctl" /usr/bin/
	cp -a "$out/usr/share/sealbridge/." /usr/share/sealbridge/
	# holds the broker password: readable by the daemon's group only
	install -m 0640 -o root -g sealbridge "$out/etc/sealbridge/sealbridge.ini" /etc/sealbridge/sealbridge.ini
	echo "container-build: runtime in place"
}

do_check() {
	# the image runs: sealbridge -c /etc/sealbridge/sealbridge.ini as sealbridge in /var/lib/sealbridge
	local as=(setpriv --reuid=sealbridge --regid=sealbridge --init-groups)
	(cd /var/lib/sealbridge && "${as[@]}" /usr/bin/sealbridge --version)
	(cd /var/lib/sealbridge && "${as[@]}" /usr/bin/sealbridge -t -c /etc/sealbridge/sealbridge.ini)
	"${as[@]}" /usr/bin/sealctl --help >/dev/null
	test -f /usr/share/sealbridge/schemas/alert.schema.json
	echo "container-build: check passed"
}

case ${1:-} in
build) do_build "${2:?usage: container-build.sh build OUT}" ;;
runtime) do_runtime "${2:?usage: container-build.sh runtime OUT}" ;;
check) do_check ;;
selftest)
	out=$(mktemp -d /tmp/sealbridge-out.XXXXXX)
	do_build "$out"
	do_runtime "$out"
	do_check
	rm -rf "$out"
	;;
*)
	sed -n '2,17s/^# \{0,1\}//p' "$0" >&2
	exit 2
	;;
esac
