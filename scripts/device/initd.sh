# dmnonced started as a device's init script would (/share/dmnonced.init as
# /etc/init.d/dmnonced): its own unprivileged user, state directory
# /var/lib/dmnonce, socket /run/dmnonce/dmnonced.sock, configuration in
# /etc/dmnonce. Checked: it becomes ready, runs as that user, its files have
# the owner and modes the configuration documents, an allowed uid is
# served, a uid outside allowed_uids is refused, a restart keeps the store,
# and a stop removes the socket.
set -eu
. /share/lib.sh

# The users (busybox has no useradd here): the daemon's, the DM client's
# (allowed on the socket) and one that is not allowed.
cat >>/etc/passwd <<'PW'
dmnonce:x:100:100:dmnonce daemon:/var/lib/dmnonce:/bin/false
dmclient:x:1001:1001:DM client:/tmp:/bin/sh
other:x:1002:1002:another app:/tmp:/bin/sh
PW
cat >>/etc/group <<'GR'
dmnonce:x:100:
dmclient:x:1001:
other:x:1002:
GR
mkdir -p /etc/dmnonce /etc/init.d
cat >/etc/dmnonce/dmnonced.toml <<'TOML'
socket = "/run/dmnonce/dmnonced.sock"
allowed_uids = [0, 1001]
[ofono]
enabled = false
TOML
cp /share/dmnonced.init /etc/init.d/dmnonced
chmod 0755 /etc/init.d/dmnonced
SOCK=/run/dmnonce/dmnonced.sock
LOG=/var/log/dmnonce/dmnonced.log
as() { u=$1; shift; su -s /bin/sh "$u" -c "$*"; }
mode_of() { stat -c '%U:%G %a %F' "$1"; }

/etc/init.d/dmnonced start
check "ready line in the log" wait_for ready 60 grep -q "dmnonced ready socket=$SOCK" "$LOG"
pid=$(cat /run/dmnonced.pid)
check "pid file names a running dmnonced" grep -q dmnonced "/proc/$pid/cmdline"
say "process: $(grep -E '^(Uid|Gid)' "/proc/$pid/status" | tr -s '\t' ' ' | tr '\n' ' ')"
check "runs as uid 100 (real, effective, saved, fs)" grep -Eq '^Uid:[[:space:]]+100[[:space:]]+100[[:space:]]+100[[:space:]]+100$' "/proc/$pid/status"
check "and gid 100" grep -Eq '^Gid:[[:space:]]+100[[:space:]]+100[[:space:]]+100[[:space:]]+100$' "/proc/$pid/status"
for f in /var/lib/dmnonce /var/lib/dmnonce/store.key /var/lib/dmnonce/dmnonce.db "$SOCK"; do say "$f: $(mode_of "$f")"; done
check "state directory dmnonce:dmnonce 0700" [ "$(mode_of /var/lib/dmnonce)" = "dmnonce:dmnonce 700 directory" ]
check "key file dmnonce:dmnonce 0600" [ "$(mode_of /var/lib/dmnonce/store.key)" = "dmnonce:dmnonce 600 regular file" ]
check "store owned by dmnonce, not readable by others" [ "$(stat -c '%U %A' /var/lib/dmnonce/dmnonce.db | cut -c1-15)" = "dmnonce -rw----" ]
# 0666 because allowed_uids names other users: the uid check is the gate.
check "socket dmnonce 0666" [ "$(mode_of "$SOCK")" = "dmnonce:dmnonce 666 socket" ]
if as other "cat /var/lib/dmnonce/store.key" >/dev/null 2>&1; then fail "uid 1002 read the key file"; fi
say "ok: uid 1002 cannot read the key file"

# A DM client with an allowed uid is served (it provisions an account),
# another uid is refused by the daemon (SO_PEERCRED), although the socket's
# mode lets it connect.
printf '{"server_password":"srv-%s","client_password":"cli-%s"}' "$$" "$$" >/tmp/secrets.json
chown dmclient /tmp/secrets.json
chmod 600 /tmp/secrets.json
check "uid 1001 (allowed) provisions an account" as dmclient "dmnoncectl --socket $SOCK account add --server-id dm.example.net --server-url http://10.0.2.100:1/dm --client-name IMEI:490154203237518 --secrets-file /tmp/secrets.json >/dev/null"
out=$(as dmclient "dmnoncectl --socket $SOCK --json status")
check "uid 1001 reads the status" [ "$(json_str server_id "$out")" = dm.example.net ]
if out=$(as other "dmnoncectl --socket $SOCK status" 2>&1); then fail "uid 1002 was served: $out"; fi
say "uid 1002: $out"
case $out in
*ermission*) say "ok: uid 1002 (not in allowed_uids) is refused" ;;
*) fail "uid 1002 refused for another reason" ;;
esac
check "root (uid 0, allowed) is served" sh -c "dmnoncectl --socket $SOCK status >/dev/null"

# The store belongs to the daemon's user across restarts.
/etc/init.d/dmnonced restart
check "ready again after a restart" wait_for ready 60 sh -c "[ \$(grep -c 'dmnonced ready' $LOG) -ge 2 ]"
out=$(ctl --json status)
check "the account survived the restart" [ "$(json_str server_id "$out")" = dm.example.net ]

pid=$(cat /run/dmnonced.pid)
/etc/init.d/dmnonced stop
check "stopped: no process" [ ! -d "/proc/$pid" ]
check "stopped: the socket is gone" [ ! -e "$SOCK" ]
if ctl status >/dev/null 2>&1; then fail "status answered after the stop"; fi
say "initd passed on $(uname -m)"
