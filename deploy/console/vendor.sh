#!/usr/bin/env bash
# Copies the browser build of MQTT.js into the console (vendor/mqtt.min.js),
# from the npm package pinned in package-lock.json. Run at install time (it is
# the only step that downloads anything: npm ci, when node_modules is missing);
# the page itself loads nothing from outside.
# Usage: bash deploy/console/vendor.sh [DESTDIR]   (default: deploy/console/vendor)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/vendor}
if [ ! -f "$here/node_modules/mqtt/dist/mqtt.min.js" ]; then
	(cd "$here" && timeout 600 npm ci --no-audit --no-fund --loglevel=error)
fi
want=$(node -p 'require(process.argv[1]).packages["node_modules/mqtt"].version' "$here/package-lock.json")
have=$(node -p 'require(process.argv[1]).version' "$here/node_modules/mqtt/package.json")
if [ "$want" != "$have" ]; then
	echo "vendor.sh: node_modules has mqtt $have, package-lock.json pins $want: run npm ci in $here" >&2
	exit 1
fi
mkdir -p "$dest"
install -m 0644 "$here/node_modules/mqtt/dist/mqtt.min.js" "$dest/mqtt.min.js"
install -m 0644 "$here/node_modules/mqtt/LICENSE.md" "$dest/mqtt.LICENSE.md" 2>/dev/null || true
echo "$have" >"$dest/mqtt.version"
echo "vendor.sh: MQTT.js $have -> $dest/mqtt.min.js"
