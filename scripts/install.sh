#!/usr/bin/env bash
# Installs dmnonce. Parts (all when none is named):
#   lib      libdmnonce: shared library (libdmnonce.so.VERSION with the
#            .so.MAJOR and .so symlinks), static library, header,
#            pkg-config files
#   service  dmnonced and dmnoncectl, the systemd units, sysusers.d and
#            tmpfiles.d files, the configuration (kept when present), the
#            documentation the units point at, dmnoncectl's man pages and
#            its bash, zsh and fish completions
#   PREFIX=/usr/local scripts/install.sh [lib] [service]   (defaults shown)
# Variables: PREFIX (/usr/local), BINDIR ($PREFIX/bin), LIBDIR
# ($PREFIX/lib), INCLUDEDIR ($PREFIX/include), DOCDIR
# ($PREFIX/share/doc/dmnonce), DATADIR ($PREFIX/share: man/man1 and the
# shells' completion directories below it), SYSCONFDIR (/etc for PREFIX=/usr, else
# $PREFIX/etc), SYSTEMDDIR ($PREFIX/lib: systemd/system, sysusers.d,
# tmpfiles.d below it), DESTDIR (staging root, for packagers), PROFILE
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
BINDIR=${BINDIR:-$PREFIX/bin}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
DOCDIR=${DOCDIR:-$PREFIX/share/doc/dmnonce}
DATADIR=${DATADIR:-$PREFIX/share}
if [[ $PREFIX == /usr ]]; then SYSCONFDIR=${SYSCONFDIR:-/etc}; else SYSCONFDIR=${SYSCONFDIR:-$PREFIX/etc}; fi
SYSTEMDDIR=${SYSTEMDDIR:-$PREFIX/lib}
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

install_service() {
    cargo build "${cargo_profile[@]}" --locked -p dmnonced -p dmnoncectl
    install -d "$DESTDIR$BINDIR" "$DESTDIR$DOCDIR" "$DESTDIR$SYSCONFDIR/dmnonce" \
        "$DESTDIR$SYSTEMDDIR/systemd/system" "$DESTDIR$SYSTEMDDIR/sysusers.d" \
        "$DESTDIR$SYSTEMDDIR/tmpfiles.d"
    install -m 0755 "$out/dmnonced" "$out/dmnoncectl" "$DESTDIR$BINDIR/"
    # The units name the /usr, /etc layout; map it to this installation's.
    local unit
    for unit in dmnonced.service dmnonced.socket; do
        sed -e "s|/usr/bin/|$BINDIR/|g" -e "s|/etc/dmnonce/|$SYSCONFDIR/dmnonce/|g" \
            -e "s|file:///usr/share/doc/dmnonce/|file://$DOCDIR/|g" "packaging/$unit" \
            > "$DESTDIR$SYSTEMDDIR/systemd/system/$unit"
        chmod 0644 "$DESTDIR$SYSTEMDDIR/systemd/system/$unit"
    done
    install -m 0644 packaging/dmnonce.sysusers "$DESTDIR$SYSTEMDDIR/sysusers.d/dmnonce.conf"
    install -m 0644 packaging/dmnonce.tmpfiles "$DESTDIR$SYSTEMDDIR/tmpfiles.d/dmnonce.conf"
    # An operator's edited configuration survives a reinstall.
    if [[ ! -e $DESTDIR$SYSCONFDIR/dmnonce/dmnonced.toml ]]; then
        install -m 0644 packaging/dmnonced.toml "$DESTDIR$SYSCONFDIR/dmnonce/dmnonced.toml"
    fi
    # docs/*.md link to each other, so all of them (Documentation= names
    # configuration.md).
    install -m 0644 docs/*.md "$DESTDIR$DOCDIR/"
    install -m 0644 packaging/README.md "$DESTDIR$DOCDIR/packaging.md"
    # Man pages and completions come from dmnoncectl's own definitions
    # (rust/cli/src/generate.rs), so they match its --help.
    local gen data=$DESTDIR$DATADIR
    gen=$(mktemp -d)
    "$out/dmnoncectl" generate "$gen"
    install -d "$data/man/man1" "$data/bash-completion/completions" \
        "$data/zsh/vendor-completions" "$data/fish/vendor_completions.d"
    install -m 0644 "$gen"/man1/*.1 "$data/man/man1/"
    install -m 0644 "$gen/completions/dmnoncectl.bash" "$data/bash-completion/completions/dmnoncectl"
    install -m 0644 "$gen/completions/_dmnoncectl" "$data/zsh/vendor-completions/_dmnoncectl"
    install -m 0644 "$gen/completions/dmnoncectl.fish" "$data/fish/vendor_completions.d/dmnoncectl.fish"
    rm -rf "$gen"
    echo "installed dmnonced, dmnoncectl and their service files into $DESTDIR$PREFIX"
}

parts=("$@")
((${#parts[@]})) || parts=(lib service)
for part in "${parts[@]}"; do
    case "$part" in
        lib) install_lib ;;
        service) install_service ;;
        *) echo "unknown part: $part (lib, service)" >&2; exit 2 ;;
    esac
done

# Refresh the loader cache for a system-wide install.
if [[ -z "$DESTDIR" && $(id -u) == 0 ]] && command -v ldconfig >/dev/null; then
    ldconfig
fi
