#!/usr/bin/env bash
# Installs libdmnonce (shared and static library, header, pkg-config file).
#   PREFIX=/usr/local scripts/install.sh        (defaults shown)
# Variables: PREFIX (/usr/local), LIBDIR ($PREFIX/lib), INCLUDEDIR
# ($PREFIX/include), DESTDIR (staging root, for packagers), PROFILE
# (release; the test suite uses debug).
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
PROFILE=${PROFILE:-release}
DESTDIR=${DESTDIR:-}

case "$PROFILE" in
    release) cargo build --release --locked -p dmnonce-client ;;
    debug) cargo build --locked -p dmnonce-client ;;
    *) echo "PROFILE must be release or debug" >&2; exit 2 ;;
esac
out=target/$PROFILE
pkgid=$(cargo pkgid -p dmnonce-client)
version=${pkgid##*[#@]}

install -d "$DESTDIR$LIBDIR/pkgconfig" "$DESTDIR$INCLUDEDIR"
install -m 0755 "$out/libdmnonce.so" "$DESTDIR$LIBDIR/libdmnonce.so"
install -m 0644 "$out/libdmnonce.a" "$DESTDIR$LIBDIR/libdmnonce.a"
install -m 0644 include/dmnonce.h "$DESTDIR$INCLUDEDIR/dmnonce.h"
# Libs.private: what the Rust staticlib needs from the C library
# (`rustc --print native-static-libs` on Linux/glibc), for `pkg-config --static`.
cat > "$DESTDIR$LIBDIR/pkgconfig/dmnonce.pc" <<PC
prefix=$PREFIX
libdir=$LIBDIR
includedir=$INCLUDEDIR

Name: dmnonce
Description: Client library of dmnonced (OMA DM nonce resynchronisation)
Version: $version
Libs: -L\${libdir} -ldmnonce
Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
Cflags: -I\${includedir}
PC
echo "installed libdmnonce $version into $DESTDIR$PREFIX"
# Refresh the loader cache for a system-wide install.
if [[ -z "$DESTDIR" && $(id -u) == 0 ]] && command -v ldconfig >/dev/null; then
    ldconfig
fi
