#!/usr/bin/env bash
# dmnonced's ofono push agent against the real ofono: ofonod (Debian package
# `ofono`) on a private dbus-daemon, its phonesim plugin driving a minimal AT
# modem (scripts/ofono/at_modem.py). ofono powers the modem, exposes
# org.ofono.PushNotification, dmnonced registers its agent; an SMS-DELIVER
# carrying a WAP push with a Package #0 is injected as +CMT; ofono
# reassembles it and calls the agent's ReceiveNotification; the daemon must
# answer with an alert event (stored nonce) and, for a second push, a
# push-rejected event (wrong secret).
#
# Needs root (ofonod keeps state in /var/lib/ofono, which is replaced by a
# temporary directory inside a private mount namespace: `unshare -m`).
# Usage: scripts/ofono-phonesim.sh [--no-build]. Prints "ofono-phonesim: N
# passed, M failed"; exit 1 on a failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
[[ ${1:-} == --no-build ]] || cargo build -q -p dmnonced -p dmnoncectl
if [[ $EUID -ne 0 ]] || ! command -v ofonod >/dev/null || [[ ! -d /var/lib/ofono ]]; then
    echo "ofono-phonesim: needs root and ofonod (scripts/ci-deps.sh installs ofono)" >&2
    exit 1
fi
harness_init ofono
W=$H_WORK BIN=$H_BIN
# The secrets and password files: dmnoncectl warns about group-readable ones.
umask 077
ts() { date +%H:%M:%S.%3N; }
# The timeline: "TIME WHO: WHAT".
tl() { echo "$(ts) $1: $2"; }
fail() { echo "ofono-phonesim: $1" >&2; tail -n 15 "$W/ofono.log" "$W/daemon.log" >&2 || true; echo "ofono-phonesim: 0 passed, 1 failed"; exit 1; }

# The bus, the modem, ofono.
dbus-daemon --session --nofork --print-address >"$W/bus" 2>/dev/null &
harness_track $!
harness_wait_until 3 test -s "$W/bus" || fail "dbus-daemon did not start"
BUS=$(head -n1 "$W/bus")
python3 scripts/ofono/at_modem.py --dir "$W" >"$W/port" &
harness_track $!
harness_wait_until 3 test -s "$W/port" || fail "the AT modem did not start"
printf '[phonesim]\nDriver=phonesim\nAddress=127.0.0.1\nPort=%s\n' "$(cat "$W/port")" >"$W/phonesim.conf"
mkdir "$W/varlib"
unshare -m sh -c "mount --bind '$W/varlib' /var/lib/ofono && exec env DBUS_SYSTEM_BUS_ADDRESS='$BUS' \
    OFONO_PHONESIM_CONFIG='$W/phonesim.conf' ofonod -n -d" >"$W/ofono.log" 2>&1 &
harness_track $!
tl ofono "ofonod started on a private bus, phonesim modem on port $(cat "$W/port")"
bctl() { busctl --address="$BUS" "$@"; }
modem_listed() { bctl call org.ofono / org.ofono.Manager GetModems 2>/dev/null | grep -q /phonesim; }
push_interface() { bctl call org.ofono /phonesim org.ofono.Modem GetProperties 2>/dev/null | grep -q org.ofono.PushNotification; }
harness_wait_until 10 modem_listed || true
bctl call org.ofono /phonesim org.ofono.Modem SetProperty sv Powered b true >/dev/null || fail "modem did not power up"
harness_wait_until 10 push_interface || true
bctl call org.ofono /phonesim org.ofono.Modem GetProperties | grep -q org.ofono.PushNotification ||
    fail "ofono did not expose org.ofono.PushNotification"
tl ofono "modem /phonesim powered; org.ofono.PushNotification present"

# The daemon, its agent, an account.
SOCK=$W/dmnonced.sock
printf 'state_dir = "%s"\nsocket = "%s"\n[ofono]\nenabled = true\nbus = "%s"\n' "$W/state" "$SOCK" "$BUS" >"$W/dmnonced.toml"
"$BIN/dmnonced" --config "$W/dmnonced.toml" 2>"$W/daemon.log" &
harness_track $!
harness_wait_for "$W/daemon.log" "agent registered with modem /phonesim" 10 ||
    fail "dmnonced did not register its agent with ofono"
tl device "dmnonced's push agent registered with ofono's modem /phonesim"
ctl() { "$BIN/dmnoncectl" --socket "$SOCK" "$@"; }
SECRET=$(openssl rand -hex 12)
NONCE_HEX=$(openssl rand -hex 8)
NONCE_B64=$(python3 -c 'import base64, sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$NONCE_HEX")
printf '{"server_password":"%s","client_password":"c","server_nonce_b64":"%s"}' "$SECRET" "$NONCE_B64" >"$W/secrets.json"
ctl account add --server-id ofono.test --server-url http://127.0.0.1:9/dm --client-name dev \
    --secrets-file "$W/secrets.json" >/dev/null
printf '%s' "$SECRET" >"$W/pw"

# push SECRET_FILE SESSION: Package #0 -> WSP push -> SMS-DELIVER -> +CMT.
push() {
    "$BIN/dmnoncectl" pkg0 build --server-id ofono.test --password-file "$1" --nonce-hex "$NONCE_HEX" \
        --session-id "$2" -o "$W/pkg0"
    { printf '\x01\x06\x03\xc4\xaf\x87'; cat "$W/pkg0"; } >"$W/wsp"
    python3 scripts/hardening/dmn.py cmt "$W/wsp" >"$W/inject.tmp"
    mv "$W/inject.tmp" "$W/inject.hex"
}
passed=0 failed=0
check_event() { # check_event NAME KIND SECRET_FILE SESSION
    ctl --json events --count 1 --timeout 15 >"$W/event" 2>&1 &
    local ev=$!
    sleep 0.3
    push "$3" "$4"
    tl modem "+CMT: SMS-DELIVER to port 2948 with a WAP push (Package #0, session $4)"
    if wait $ev && grep -q "\"kind\":\"$2\"" "$W/event"; then
        tl device "event $2 (session $4 via ofono)"
        passed=$((passed + 1))
    else
        tl device "$1: expected event $2, got: $(cat "$W/event")"
        failed=$((failed + 1))
    fi
}
check_event "stored-nonce push" alert "$W/pw" 4660
printf 'not-the-secret' >"$W/wrong"
check_event "push with a wrong secret" push-rejected "$W/wrong" 4661
if grep -qF -- "$SECRET" "$W/daemon.log"; then
    tl check "the secret appears in the daemon's log"
    failed=$((failed + 1))
fi
echo "ofono-phonesim: $passed passed, $failed failed"
((failed == 0))
