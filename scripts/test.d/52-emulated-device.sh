#!/usr/bin/env bash
# dmnonce on emulated ARM devices (scripts/emulated-device.sh), aarch64 and
# armv7, one boot per scenario, the DM server (the host-built
# dmnonce-testserver) on the host's loopback, reached from the device
# through the one forwarded port:
#   case1  the change request's case 1 (scripts/device/case1.sh): the device
#          lost its nonces; stored-nonce notification rejected, default-nonce
#          one starts the resync session, the next stored-nonce one is an
#          alert; the server's record shows the completed resync;
#   initd  dmnonced started by an init script (scripts/device/dmnonced.init,
#          scripts/device/initd.sh): its own uid, state directory, socket and
#          /etc configuration; allowed and refused peer uids;
#   c      the cross-compiled C agent tests/c/example_agent.c and the offline C
#          test against the device's dmnonced (scripts/device/c-agent.sh); the
#          server's record shows the resync the agent waited for.
# DMNONCE_DEVICE_ARCHES="aarch64" limits the architectures;
# DMNONCE_DEVICE_NO_BUILD=1 takes the binaries as they are (no cargo run,
# for iterating on the scenarios). Durations:
# docs/field-test.md ("On an emulated device").
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_init 52-emulated-device
work=$H_WORK
failed=()

# Architecture, target and cross gcc names: scripts/lib/cross-env.sh.
source scripts/lib/cross-env.sh
ready=$(cross_ready_arches 52-emulated-device ${DMNONCE_DEVICE_ARCHES:-aarch64 armv7})
read -r -a arches <<<"$ready"

# ------------------------------------------------------------ the server
start_server() { # start_server DIR -> PORT, BASE; its log (the timeline) DIR/err
    harness_start_testserver "$1" --server-id dmnonce-test --fallback-after-ms 1500 || exit 1
    BASE=$H_BASE PORT=$H_PORT
}
admin() { curl -sS -f --max-time 30 -X POST -H 'Content-Type: application/json' --data "$2" "$BASE$1"; }
server_device() { curl -sS -f --max-time 30 "$BASE/admin/devices/$1"; }
field() { python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[sys.argv[1]]))' "$1"; }

# One device account on both sides, random secrets and bootstrap nonces;
# the device's copy goes to the share (FILE), with or without the nonces.
provision() { # provision CLIENT FILE with-nonces|without-nonces
    local spw cpw sn cn
    spw=$(openssl rand -hex 12) cpw=$(openssl rand -hex 12)
    sn=$(openssl rand -base64 12) cn=$(openssl rand -base64 12)
    admin /admin/devices "{\"client_name\":\"$1\",\"server_password\":\"$spw\",\"client_password\":\"$cpw\",\"auth_scheme\":\"md5\",\"encoding\":\"xml\",\"server_nonce_b64\":\"$sn\",\"client_nonce_b64\":\"$cn\"}" >/dev/null
    if [[ $3 == with-nonces ]]; then
        printf '{"server_password":"%s","client_password":"%s","server_nonce_b64":"%s","client_nonce_b64":"%s"}' "$spw" "$cpw" "$sn" "$cn" >"$2"
    else
        printf '{"server_password":"%s","client_password":"%s"}' "$spw" "$cpw" >"$2"
    fi
    chmod 600 "$2"
}

# ------------------------------------------------------------ the checks
# expect_server CLIENT FIELD VALUE: the server's record of CLIENT.
expect_server() {
    local got
    got=$(server_device "$1" | field "$2")
    if [[ $got == "$3" ]]; then
        say "ok: server: $1 $2 = $got"
    else
        say "FAIL: server: $1 $2 = $got, expected $3"
        return 1
    fi
}
# device ARCH NAME OPTION... -- COMMAND: one boot; its output prefixed, kept in a log.
device() {
    local arch=$1 name=$2 rc=0 t0
    shift 2
    t0=$(date +%s)
    scripts/emulated-device.sh --arch "$arch" --timeout 300 "$@" 2>&1 |
        tee "$work/$arch-$name.log" | sed "s/^/  [$arch $name] /" || rc=$? # pipefail: the device's status
    say "$arch $name: device exit $rc after $(($(date +%s) - t0)) s"
    return "$rc"
}
scenario_case1() { # scenario_case1 ARCH
    device "$1" case1 --forward "$PORT" --share "$share" -- sh /share/case1.sh &&
        grep -q "^device: case1 passed on $2" "$work/$1-case1.log" &&
        expect_server field-device resyncs_completed 1 &&
        expect_server field-device sessions_completed 0 &&
        expect_server field-device last_error null &&
        expect_server field-device session_active false &&
        expect_server field-device notification_pending false &&
        grep -q 'session .* opened by field-device: resync' "$server_dir/err"
}
scenario_initd() {
    device "$1" initd --share "$share" -- sh /share/initd.sh &&
        grep -q "^device: initd passed on $2" "$work/$1-initd.log"
}
scenario_c() {
    device "$1" c --forward "$PORT" --share "$share" \
        --bin "$work/$1/example_agent" --bin "$work/$1/test_offline" -- sh /share/c-agent.sh &&
        grep -q "^device: c-agent passed on $2" "$work/$1-c.log" &&
        expect_server c-agent resyncs_completed 1 &&
        expect_server c-agent last_error null
}

# ------------------------------------------------------------ the run
build=${DMNONCE_DEVICE_NO_BUILD:+no}
if [[ $build != no ]]; then
    # The debug build, as the other suites use (30-c built it already);
    # the server's speed does not matter next to the emulated device's.
    say "building dmnonce-testserver for the host"
    cargo build --locked -q -p dmnonce-testserver
fi
cflags=(-std=c11 -O1 -g -Wall -Wextra -Werror -pthread -I"$root/include")
for arch in "${arches[@]}"; do
    target=$(cross_target_of "$arch")
    [[ -n $target ]] || { say "unknown architecture $arch"; exit 1; }
    if [[ $build != no ]]; then
        say "cross-building for $target (scripts/cross-build.sh)"
        scripts/cross-build.sh "$target"
    fi
    out=$(cargo_target_dir)/$target/release
    mkdir -p "$work/$arch"
    for prog in example_agent test_offline; do
        "$(cross_gnu_of "$target")-gcc" "${cflags[@]}" "tests/c/$prog.c" -L"$out" -ldmnonce -o "$work/$arch/$prog"
    done
done

declare -A seconds
for arch in "${arches[@]}"; do
    t_arch=$(date +%s)
    uname_m=$([[ $arch == aarch64 ]] && echo aarch64 || echo armv7l)
    server_dir=$work/$arch/server
    start_server "$server_dir"
    share=$work/$arch/share
    mkdir -p "$share"
    cp scripts/device/*.sh scripts/device/dmnonced.init "$share/"
    provision field-device "$share/wiped-secrets.json" without-nonces
    provision c-agent "$share/agent-secrets.json" with-nonces
    cat >"$share/env" <<EOF
PORT=$PORT
SERVER_ID=dmnonce-test
CLIENT=field-device
AGENT_CLIENT=c-agent
FALLBACK_MS=1500
EOF
    say "$arch: DM server $BASE (forwarded to the device as 10.0.2.100:$PORT)"
    for s in case1 initd c; do
        if "scenario_$s" "$arch" "$uname_m"; then
            say "PASS $arch $s"
        else
            say "FAIL $arch $s"
            failed+=("$arch-$s")
            sed 's/^/  [server] /' "$server_dir/err" | tail -n 20
        fi
    done
    harness_stop "$H_TESTSERVER_PID"
    seconds[$arch]=$(($(date +%s) - t_arch))
done

for arch in "${arches[@]}"; do say "$arch: three boots in ${seconds[$arch]} s"; done
if ((${#failed[@]})); then
    say "FAILED: ${failed[*]}"
    exit 1
fi
say "all emulated-device scenarios passed"
