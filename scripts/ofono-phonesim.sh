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
# shellcheck source=scripts/lib/target-dir.sh
source "$ROOT/scripts/lib/target-dir.sh"
BIN=$(cd "$ROOT" && cargo_target_dir)/debug
[[ ${1:-} == --no-build ]] || (cd "$ROOT" && cargo build -q -p dmnonced -p dmnoncectl)
if [[ $EUID -ne 0 ]] || ! command -v ofonod >/dev/null || [[ ! -d /var/lib/ofono ]]; then
    echo "ofono-phonesim: needs root and ofonod (scripts/ci-deps.sh installs ofono)" >&2
    exit 1
fi
W=$(mktemp -d /tmp/dmnonce-ofono.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.2
    rm -rf "$W"
}
trap cleanup EXIT
ts() { date +%H:%M:%S.%3N; }
say() { echo "$(ts) $1: $2"; }
fail() { echo "ofono-phonesim: $1" >&2; tail -n 15 "$W/ofono.log" "$W/daemon.log" >&2 || true; echo "ofono-phonesim: 0 passed, 1 failed"; exit 1; }

# The bus, the modem, ofono.
dbus-daemon --session --nofork --print-address >"$W/bus" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 50); do [[ -s $W/bus ]] && break; sleep 0.05; done
BUS=$(head -n1 "$W/bus")
python3 "$ROOT/scripts/ofono/at_modem.py" --dir "$W" >"$W/port" &
PIDS+=($!)
for _ in $(seq 50); do [[ -s $W/port ]] && break; sleep 0.05; done
printf '[phonesim]\nDriver=phonesim\nAddress=127.0.0.1\nPort=%s\n' "$(cat "$W/port")" >"$W/phonesim.conf"
mkdir "$W/varlib"
unshare -m sh -c "mount --bind '$W/varlib' /var/lib/ofono && exec env DBUS_SYSTEM_BUS_ADDRESS='$BUS' \
    OFONO_PHONESIM_CONFIG='$W/phonesim.conf' ofonod -n -d" >"$W/ofono.log" 2>&1 &
PIDS+=($!)
say ofono "ofonod started on a private bus, phonesim modem on port $(cat "$W/port")"
bctl() { busctl --address="$BUS" "$@"; }
for _ in $(seq 100); do bctl call org.ofono / org.ofono.Manager GetModems 2>/dev/null | grep -q /phonesim && break; sleep 0.1; done
bctl call org.ofono /phonesim org.ofono.Modem SetProperty sv Powered b true >/dev/null || fail "modem did not power up"
for _ in $(seq 100); do
    bctl call org.ofono /phonesim org.ofono.Modem GetProperties 2>/dev/null | grep -q org.ofono.PushNotification && break
    sleep 0.1
done
bctl call org.ofono /phonesim org.ofono.Modem GetProperties | grep -q org.ofono.PushNotification ||
    fail "ofono did not expose org.ofono.PushNotification"
say ofono "modem /phonesim powered; org.ofono.PushNotification present"

# The daemon, its agent, an account.
SOCK=$W/dmnonced.sock
printf 'state_dir = "%s"\nsocket = "%s"\n[ofono]\nenabled = true\nbus = "%s"\n' "$W/state" "$SOCK" "$BUS" >"$W/dmnonced.toml"
"$BIN/dmnonced" --config "$W/dmnonced.toml" 2>"$W/daemon.log" &
PIDS+=($!)
for _ in $(seq 100); do grep -q "agent registered with modem /phonesim" "$W/daemon.log" 2>/dev/null && break; sleep 0.1; done
grep -q "agent registered with modem /phonesim" "$W/daemon.log" || fail "dmnonced did not register its agent with ofono"
say device "dmnonced's push agent registered with ofono's modem /phonesim"
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
    python3 "$ROOT/scripts/ofono/sms_deliver.py" "$W/wsp" >"$W/inject.tmp"
    mv "$W/inject.tmp" "$W/inject.hex"
}
passed=0 failed=0
check_event() { # check_event NAME KIND SECRET_FILE SESSION
    ctl --json events --count 1 --timeout 15 >"$W/event" 2>&1 &
    local ev=$!
    sleep 0.3
    push "$3" "$4"
    say modem "+CMT: SMS-DELIVER to port 2948 with a WAP push (Package #0, session $4)"
    if wait $ev && grep -q "\"kind\":\"$2\"" "$W/event"; then
        say device "event $2 (session $4 via ofono)"
        passed=$((passed + 1))
    else
        say device "$1: expected event $2, got: $(cat "$W/event")"
        failed=$((failed + 1))
    fi
}
check_event "stored-nonce push" alert "$W/pw" 4660
printf 'not-the-secret' >"$W/wrong"
check_event "push with a wrong secret" push-rejected "$W/wrong" 4661
if grep -qF -- "$SECRET" "$W/daemon.log"; then
    say check "the secret appears in the daemon's log"
    failed=$((failed + 1))
fi
echo "ofono-phonesim: $passed passed, $failed failed"
((failed == 0))
