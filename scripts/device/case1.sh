# Change request case 1, run on the device: it has lost its nonces (data
# wipe, firmware update) and the DM server on the host still holds the
# ones they last agreed. The server notifies with its stored nonce (the
# device cannot verify it: rejected, no session), then, having seen no
# session, with the default nonce; the device verifies that one, runs the
# resync session (Pkg#1-#4) over HTTP to the server; the server's next
# stored-nonce notification is accepted (alert).
# Needs /share/env (PORT, SERVER_ID, CLIENT, FALLBACK_MS) and
# /share/wiped-secrets.json (the AuthSecrets, no nonces).
set -eu
. /share/env
. /share/lib.sh

start_daemon /tmp/device
# As after a factory reset: the account comes back from provisioning with
# its secrets but without nonces.
ctl account add --server-id "$SERVER_ID" --server-url "$BASE/dm" --client-name "$CLIENT" \
    --auth-scheme md5 --encoding xml --policy allow --secrets-file /share/wiped-secrets.json >/dev/null
say "account $SERVER_ID provisioned without nonces; server at $BASE"
ctl --json events >/tmp/device/events.jsonl 2>/dev/null &
sleep 0.3

# 1. The server's first notification: signed with its stored nonce.
nonce=$(notify auto /tmp/device/n1.wsp "$CLIENT")
check "the server's first notification is signed with its stored nonce ($nonce)" [ "$nonce" = stored ]
out=$(ctl --json push /tmp/device/n1.wsp || true)
say "push: $out"
check "the device rejects it (outcome rejected)" [ "$(json_str outcome "$out")" = rejected ]
check "no session started" [ "$(counter resyncs_finished)" = 0 ]

# 2. No session came: after its fallback time the server signs with the
# default nonce.
sleep $(((FALLBACK_MS + 999) / 1000 + 1))
nonce=$(notify auto /tmp/device/n2.wsp "$CLIENT")
check "the server's second notification is signed with the default nonce ($nonce)" [ "$nonce" = default-text ]
out=$(ctl --json push /tmp/device/n2.wsp)
say "push: $out"
check "the device verifies it with the default nonce (verdict default-nonce-text)" [ "$(json_str verdict "$out")" = default-nonce-text ]
check "the device starts the resync session (outcome resync_started)" [ "$(json_str outcome "$out")" = resync_started ]
check "resync-finished event" wait_for resync-finished 60 grep -q '"resync-finished"' /tmp/device/events.jsonl
check "no resync-failed event" [ "$(grep -c '"resync-failed"' /tmp/device/events.jsonl || true)" = 0 ]
check "account in-sync" [ "$(account_state "$SERVER_ID")" = in-sync ]
check "one resync finished, one fallback, one rejection" [ "$(counter resyncs_finished)/$(counter fallbacks)/$(counter rejected)" = 1/1/1 ]

# 3. Both sides hold the same fresh nonces: a normal notification passes.
nonce=$(notify stored /tmp/device/n3.wsp "$CLIENT")
out=$(ctl --json push /tmp/device/n3.wsp)
say "push: $out"
check "the next stored-nonce notification is accepted (outcome alert)" [ "$(json_str outcome "$out")" = alert ]
check "alert event" wait_for alert 10 grep -q '"alert"' /tmp/device/events.jsonl

# The forward is the only way out: the host's loopback is not reachable
# through QEMU's usual host alias 10.0.2.2 (restrict=on).
if timeout 5 nc 10.0.2.2 "$PORT" </dev/null >/dev/null 2>&1; then fail "10.0.2.2:$PORT reachable"; fi
say "ok: 10.0.2.2:$PORT (the host outside the forward) is not reachable"
kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
say "case1 passed on $(uname -m)"
