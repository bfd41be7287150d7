#!/usr/bin/env bash
# Installs the system tools the test suites need when they are missing.
# Idempotent; quiet when everything is present.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have wbxml2xml || need+=(libwbxml2-utils)
have dbus-daemon || need+=(dbus)
have valgrind || need+=(valgrind)
have javac || need+=(openjdk-17-jdk-headless)
have python3 || need+=(python3)
have pkg-config || need+=(pkg-config)
# SQLCipher against the platform's libcrypto (scripts/test.d/20-system-libcrypto.sh).
[[ -e /usr/include/openssl/evp.h ]] || need+=(libssl-dev)
have gcc || need+=(gcc)
have ip || need+=(iproute2)
have sqlite3 || need+=(sqlite3)
have openssl || need+=(openssl)
have nm || need+=(binutils)
have curl || need+=(curl)
have unzip || need+=(unzip)
have ofonod || need+=(ofono)
have tshark || need+=(tshark)
[[ -e /usr/share/java/junit4.jar ]] || need+=(junit4)
# Screenshots of the trace SVGs (scripts/hardening/trace_svg.py); without
# recommends chromium brings no font, and the labels would not be drawn.
have chromium || need+=(chromium)
[[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || need+=(fonts-dejavu-core)
if ((${#need[@]})); then
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # wireshark-common asks whether non-root users may capture: answer no.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    # shellcheck source=scripts/lib/apt.sh
    source "$(dirname "$0")/lib/apt.sh"
    apt_retry apt-get update -qq
    apt_retry apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
