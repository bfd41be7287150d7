#!/usr/bin/env bash
# dmnonced's ofono push agent against the real ofonod (phonesim plugin, a
# minimal AT modem): registration, WAP push over SMS -> ReceiveNotification
# -> the daemon's intake (scripts/ofono-phonesim.sh). Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/ofono-phonesim.sh
