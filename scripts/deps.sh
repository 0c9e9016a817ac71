# Sourced by run.sh and test.sh: installs the Debian packages sealbridge needs,
# only those that are missing (apt-get update runs only then).
# Usage: sb_install_deps [extra packages...]
sb_install_deps() {
	local pkgs=(build-essential cmake pkg-config libpaho-mqtt-dev libssl-dev libsqlite3-dev libcjson-dev
		libinih-dev libsystemd-dev mosquitto mosquitto-clients tzdata "$@") # tzdata: timing.timezone (daily permits)
	local missing=() p
	for p in "${pkgs[@]}"; do
		if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	printf '\n== installing %s\n' "${missing[*]}"
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	DEBIAN_FRONTEND=noninteractive timeout 600 "${sudo[@]}" apt-get update -q
	DEBIAN_FRONTEND=noninteractive timeout 1200 "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}
