#!/usr/bin/env bash
# dmnonced's ofono push agent against the real ofonod (phonesim plugin, a
# minimal AT modem): registration, WAP push over SMS -> ReceiveNotification
# -> the daemon's intake (scripts/ofono-phonesim.sh). Needs root (a private
# mount namespace for ofono's state); CI runs as root. Without root it says
# so and skips; the stand-in ofono tests in rust/daemon/tests cover the agent.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_name 62-ofono-phonesim
if [[ $EUID -ne 0 ]]; then
    say "skipped (needs root for a private mount namespace)"
    exit 0
fi
bash scripts/ofono-phonesim.sh
