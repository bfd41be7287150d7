# The cross-compiled C agent (tests/c/example_agent.c, on PATH as
# example_agent) inside the device, against the device's own dmnonced, for
# the DM server on the host. Three pushes: a stored-nonce notification
# (alert: the agent gets its credential), a default-nonce one (the daemon
# resynchronises with the server while the agent waits for the event, then
# signs), and a stored-nonce one again (alert with the new nonces). Also
# runs the offline C test (test_offline: libdmnonce without a daemon).
# Needs /share/env (PORT, SERVER_ID, AGENT_CLIENT) and
# /share/agent-secrets.json (AuthSecrets and the bootstrap nonces the
# server holds too).
set -eu
. /share/env
. /share/lib.sh

mkdir -p /tmp/offline
check "test_offline (libdmnonce without a daemon)" test_offline /tmp/offline

start_daemon /tmp/agent
ctl account add --server-id "$SERVER_ID" --server-url "$BASE/dm" --client-name "$AGENT_CLIENT" \
    --auth-scheme md5 --encoding xml --policy allow --secrets-file /share/agent-secrets.json >/dev/null
say "account $SERVER_ID provisioned with the server's bootstrap nonces"

# agent NONCE EXPECTED_LINE...: the server's NONCE notification handed to the agent.
agent() {
    nonce=$1; shift
    notify "$nonce" "/tmp/agent/$nonce.wsp" "$AGENT_CLIENT" >/dev/null
    rc=0
    example_agent "/tmp/agent/$nonce.wsp" "$SOCK" >/tmp/agent/out 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        cat /tmp/agent/out
        fail "example_agent exited $rc on the $nonce-nonce notification"
    fi
    sed 's/^/  example_agent: /' /tmp/agent/out
    for line in "$@"; do
        check "$nonce nonce: agent says \"$line\"" grep -q "^$line" /tmp/agent/out
    done
}
agent stored "alert from $SERVER_ID, session " "session with $SERVER_ID: Cred credential ready"
agent text "nonces out of step: dmnonced resynchronises with $SERVER_ID" \
    "resync finished; running the session" "session with $SERVER_ID: Cred credential ready"
agent stored "alert from $SERVER_ID, session " "session with $SERVER_ID: Cred credential ready"
check "the daemon counts one resync and two alerts" [ "$(counter resyncs_finished)/$(counter alerts)" = 1/2 ]
kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
say "c-agent passed on $(uname -m)"
