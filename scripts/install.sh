#!/usr/bin/env bash
# Installs libdmnonce: shared library (libdmnonce.so.VERSION with the
# .so.MAJOR and .so symlinks), static library, header, pkg-config files.
#   PREFIX=/usr/local scripts/install.sh        (defaults shown)
# Variables: PREFIX (/usr/local), LIBDIR ($PREFIX/lib), INCLUDEDIR
# ($PREFIX/include), DESTDIR (staging root, for packagers), PROFILE
# (release; the test suite uses debug). Build output is found through
# cargo, so CARGO_TARGET_DIR is honoured.
#
# pkg-config: `dmnonce` links the shared library (with --static its
# Libs.private serve a program linked -static as a whole); `dmnonce-static`
# links libdmnonce.a into an otherwise dynamic program. One .pc cannot do
# both: with the .so and the .a side by side, -ldmnonce always finds the .so
# unless the whole link is -static.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/target-dir.sh
source scripts/lib/target-dir.sh
# shellcheck source=scripts/lib/libdmnonce.sh
source scripts/lib/libdmnonce.sh
PREFIX=${PREFIX:-/usr/local}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
PROFILE=${PROFILE:-release}
DESTDIR=${DESTDIR:-}

case "$PROFILE" in
    release) cargo_profile=(--release) ;;
    debug) cargo_profile=() ;;
    *) echo "PROFILE must be release or debug" >&2; exit 2 ;;
esac
out=$(cargo_target_dir)/$PROFILE
version=$(libdmnonce_version)

install_lib() {
    cargo build "${cargo_profile[@]}" --locked -p dmnonce-client
    local lib=$DESTDIR$LIBDIR stage
    stage=$(mktemp -d)
    libdmnonce_package "$out" "$stage" "$version"
    install -d "$lib/pkgconfig" "$DESTDIR$INCLUDEDIR"
    install -m 0755 "$stage/libdmnonce.so.$version" "$lib/"
    # The symlinks as libdmnonce_package made them (.so.MAJOR, .so).
    cp -P "$stage"/libdmnonce.so.[0-9] "$stage/libdmnonce.so" "$lib/"
    install -m 0644 "$stage/libdmnonce.a" "$lib/"
    rm -rf "$stage"
    install -m 0644 include/dmnonce.h "$DESTDIR$INCLUDEDIR/dmnonce.h"
    local common
    common="prefix=$PREFIX
libdir=$LIBDIR
includedir=$INCLUDEDIR

Version: $version
Cflags: -I\${includedir}"
    cat > "$lib/pkgconfig/dmnonce.pc" <<PC
$common
Name: dmnonce
Description: Client library of dmnonced (OMA DM nonce resynchronisation)
Libs: -L\${libdir} -ldmnonce
Libs.private: ${LIBDMNONCE_NATIVE_LIBS[*]}
PC
    cat > "$lib/pkgconfig/dmnonce-static.pc" <<PC
$common
Name: dmnonce-static
Description: Client library of dmnonced, linked statically (libdmnonce.a)
Libs: \${libdir}/libdmnonce.a ${LIBDMNONCE_NATIVE_LIBS[*]}
PC
    echo "installed libdmnonce $version into $DESTDIR$PREFIX"
}

install_lib

# Refresh the loader cache for a system-wide install.
if [[ -z "$DESTDIR" && $(id -u) == 0 ]] && command -v ldconfig >/dev/null; then
    ldconfig
fi
