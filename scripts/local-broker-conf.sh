#!/usr/bin/env bash
# Prints the configuration of the local Mosquitto that scripts/run.sh starts:
# every setting of deploy/mosquitto.conf that applies on one machine (queues,
# in-flight window, TCP_NODELAY, message size, persistence, logging), taken
# from that file so the two cannot drift apart, with a plain anonymous
# listener on 127.0.0.1:PORT instead of its loopback and TLS listeners, logins
# and ACL. Usage: local-broker-conf.sh RUNDIR [PORT]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rundir=$1
port=${2:-1883}
# Keys of deploy/mosquitto.conf that belong to the production host: its
# listeners and TLS, its accounts, its paths. Everything else is copied.
awk '
BEGIN {
	split("listener cafile capath certfile keyfile tls_version require_certificate crlfile ciphers " \
	      "use_identity_as_username use_subject_as_username use_username_as_clientid allow_anonymous " \
	      "password_file acl_file pid_file persistence_location log_dest user", skip, " ")
	for (i in skip) drop[skip[i]] = 1
}
/^[[:space:]]*(#|$)/ { next }
{ if (!($1 in drop)) print }
' "$here/deploy/mosquitto.conf"
# user: Mosquitto started as root would switch to "mosquitto", which cannot
# write a run directory made by someone else.
cat <<CONF
user $(id -un)
listener $port 127.0.0.1
allow_anonymous true
persistence_location $rundir/
log_dest stdout
CONF
