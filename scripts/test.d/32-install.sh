#!/usr/bin/env bash
# What a distribution ships: scripts/install.sh into a fresh PREFIX (with
# the caller's CARGO_TARGET_DIR, wherever it points) and into a DESTDIR
# staging root installs the shared library with its SONAME, symbol versions
# and symlinks, the trimmed static library, the header and both pkg-config
# files; a C program compiled through each .pc links the intended library
# and runs (tests/c/test_offline.c: no daemon needed). The service part:
# binaries, units pointing at this installation (their Documentation=
# exists), sysusers.d and tmpfiles.d files that systemd-sysusers and
# systemd-tmpfiles apply to an image root, and the unit's
# `systemd-analyze security` exposure not above 1.4 (its score when issue
# 18 was filed).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=scripts/lib/libdmnonce.sh
source scripts/lib/libdmnonce.sh
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_init 32-install
work=$H_WORK
fail() { say "FAIL: $*"; exit 1; }

prefix=$work/prefix
PREFIX=$prefix PROFILE=debug scripts/install.sh > "$work/install.log" 2>&1 ||
    { cat "$work/install.log"; fail "install.sh into PREFIX"; }
version=$(sed -n 's/^installed libdmnonce \([^ ]*\) into.*/\1/p' "$work/install.log")
[[ -n $version ]] || fail "install.sh did not report a version"
lib=$prefix/lib

for f in "$lib/libdmnonce.so.$version" "$lib/libdmnonce.a" "$prefix/include/dmnonce.h" \
    "$lib/pkgconfig/dmnonce.pc" "$lib/pkgconfig/dmnonce-static.pc"; do
    [[ -f $f && ! -L $f ]] || fail "missing $f"
done
[[ $(readlink "$lib/libdmnonce.so.0") == "libdmnonce.so.$version" ]] || fail "libdmnonce.so.0 symlink"
[[ $(readlink "$lib/libdmnonce.so") == libdmnonce.so.0 ]] || fail "libdmnonce.so symlink"
cmp -s include/dmnonce.h "$prefix/include/dmnonce.h" || fail "installed header differs"
say "files: libdmnonce.so.$version, .so.0 and .so links, .a, header, dmnonce.pc, dmnonce-static.pc"

so=$lib/libdmnonce.so.$version
[[ $(libdmnonce_soname "$so") == libdmnonce.so.0 ]] || fail "SONAME is '$(libdmnonce_soname "$so")'"
readelf -d "$so" | grep -q 'Library soname: \[libdmnonce.so.0\]' || fail "readelf -d shows no SONAME"
# Every exported symbol is a declared dmnonce_* function at version DMNONCE_0
# (the ABS symbol is the version definition itself).
grep -o 'dmnonce_[a-z_]*(' include/dmnonce.h | tr -d '(' | sort -u > "$work/declared"
readelf --dyn-syms -W "$so" | awk '$7 != "UND" && $7 != "ABS" && ($5 == "GLOBAL" || $5 == "WEAK") {print $8}' |
    sort > "$work/so-exports"
grep -v '@@DMNONCE_0$' "$work/so-exports" > "$work/unversioned" && {
    cat "$work/unversioned"; fail "exports without version DMNONCE_0"
}
sed 's/@@DMNONCE_0$//' "$work/so-exports" | diff -u "$work/declared" - || fail ".so exports differ from the header"
libdmnonce_defined_globals "$lib/libdmnonce.a" | diff -u "$work/declared" - ||
    fail ".a defines globals besides the header's functions"
say "SONAME libdmnonce.so.0; $(wc -l < "$work/declared") functions at DMNONCE_0; the .a defines only those"

export PKG_CONFIG_PATH=$lib/pkgconfig
cflags=(-std=c11 -Wall -Wextra -Werror -pthread)
# shellcheck disable=SC2046
gcc "${cflags[@]}" tests/c/test_offline.c -Itests/c $(pkg-config --cflags --libs dmnonce) \
    -o "$work/shared"
readelf -d "$work/shared" | grep -q 'NEEDED.*\[libdmnonce.so.0\]' || fail "program does not need libdmnonce.so.0"
readelf -V "$work/shared" | grep -q 'Name: DMNONCE_0' || fail "program does not bind version DMNONCE_0"
LD_LIBRARY_PATH=$lib "$work/shared" "$work" > "$work/shared.log" 2>&1 ||
    { cat "$work/shared.log"; fail "shared program"; }
say "pkg-config dmnonce: NEEDED libdmnonce.so.0, binds DMNONCE_0, runs: $(tail -n 1 "$work/shared.log")"

# shellcheck disable=SC2046
gcc "${cflags[@]}" tests/c/test_offline.c -Itests/c $(pkg-config --static --cflags --libs dmnonce-static) \
    -o "$work/static"
if readelf -d "$work/static" | grep -q 'NEEDED.*libdmnonce'; then fail "static program needs libdmnonce.so"; fi
env -u LD_LIBRARY_PATH "$work/static" "$work" > "$work/static.log" 2>&1 ||
    { cat "$work/static.log"; fail "static program"; }
say "pkg-config --static dmnonce-static: libdmnonce.a linked in, runs: $(tail -n 1 "$work/static.log")"

# The service part.
sd=$prefix/lib
for f in "$prefix/bin/dmnonced" "$prefix/bin/dmnoncectl"; do [[ -x $f ]] || fail "missing $f"; done
unit=$sd/systemd/system/dmnonced.service
for f in "$unit" "$sd/systemd/system/dmnonced.socket" "$sd/sysusers.d/dmnonce.conf" \
    "$sd/tmpfiles.d/dmnonce.conf" "$prefix/etc/dmnonce/dmnonced.toml"; do
    [[ -f $f ]] || fail "missing $f"
done
grep -qx "ExecStart=$prefix/bin/dmnonced --config $prefix/etc/dmnonce/dmnonced.toml --state-dir /var/lib/dmnonce" \
    "$unit" || fail "ExecStart does not name the installed daemon and configuration"
grep -qx 'Type=notify' "$unit" || fail "the service is not Type=notify"
for u in "$unit" "$sd/systemd/system/dmnonced.socket"; do
    doc=$(sed -n 's|^Documentation=file://||p' "$u")
    [[ -n $doc && -f $doc ]] || fail "$(basename "$u"): Documentation= points at '$doc', not installed"
done
say "service: binaries, units (ExecStart, Type=notify, Documentation= installed), sysusers.d, tmpfiles.d, configuration"
# dmnoncectl's man pages and completions, generated from its definitions.
man=$prefix/share/man/man1
for page in dmnoncectl dmnoncectl-push dmnoncectl-account; do
    grep -q '^\.TH' "$man/$page.1" 2>/dev/null || fail "no man page $man/$page.1"
done
grep -qF -- '\-\-socket' "$man/dmnoncectl.1" || fail "the man page does not document --socket"
bash -c "source '$prefix/share/bash-completion/completions/dmnoncectl' && complete -p dmnoncectl" >/dev/null ||
    fail "the bash completion does not register for dmnoncectl"
grep -q '#compdef dmnoncectl' "$prefix/share/zsh/vendor-completions/_dmnoncectl" || fail "no zsh completion"
grep -q 'complete -c dmnoncectl' "$prefix/share/fish/vendor_completions.d/dmnoncectl.fish" || fail "no fish completion"
say "service: $(ls "$man" | wc -l) man pages, bash/zsh/fish completions"
if [[ $(id -u) == 0 ]] && command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
    image=$work/image
    mkdir -p "$image/etc"
    systemd-sysusers --root="$image" "$sd/sysusers.d/dmnonce.conf" > "$work/sysusers.log" 2>&1 ||
        { cat "$work/sysusers.log"; fail "systemd-sysusers"; }
    uid=$(awk -F: '$1 == "dmnonce" {print $3}' "$image/etc/passwd")
    [[ -n $uid ]] || fail "systemd-sysusers created no user dmnonce"
    awk -F: '$1 == "dmnonce" {exit !($6 == "/var/lib/dmnonce" && $7 == "/usr/sbin/nologin")}' "$image/etc/passwd" ||
        fail "user dmnonce: wrong home or shell"
    grep -q '^dmnonce:' "$image/etc/group" || fail "systemd-sysusers created no group dmnonce"
    systemd-tmpfiles --root="$image" --create "$sd/tmpfiles.d/dmnonce.conf" > "$work/tmpfiles.log" 2>&1 ||
        { cat "$work/tmpfiles.log"; fail "systemd-tmpfiles"; }
    [[ $(stat -c '%a %u' "$image/var/lib/dmnonce") == "700 $uid" ]] ||
        fail "tmpfiles: /var/lib/dmnonce is $(stat -c '%a %u' "$image/var/lib/dmnonce"), want 700 $uid"
    say "systemd-sysusers and systemd-tmpfiles on an image root: user dmnonce (uid $uid), /var/lib/dmnonce 0700"
else
    say "SKIPPED systemd-sysusers/systemd-tmpfiles on an image root (needs root and systemd)"
fi
if command -v systemd-analyze >/dev/null; then
    score=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
        sed -n 's/.*Overall exposure level for dmnonced.service: \([0-9.]*\).*/\1/p')
    [[ -n $score ]] || fail "systemd-analyze security gave no score"
    awk -v s="$score" 'BEGIN {exit !(s <= 1.4)}' || fail "exposure $score, above 1.4"
    say "systemd-analyze security --offline: exposure $score (at most 1.4)"
else
    say "SKIPPED systemd-analyze security (systemd-analyze missing)"
fi

# A packager's staging install: files under DESTDIR, paths in the .pc without it.
stage=$work/stage
DESTDIR=$stage PREFIX=/usr PROFILE=debug scripts/install.sh > "$work/destdir.log" 2>&1 ||
    { cat "$work/destdir.log"; fail "install.sh with DESTDIR"; }
[[ -f $stage/usr/lib/libdmnonce.so.$version && -f $stage/usr/include/dmnonce.h ]] || fail "DESTDIR layout"
[[ -f $stage/etc/dmnonce/dmnonced.toml && -x $stage/usr/bin/dmnonced ]] || fail "DESTDIR layout (service)"
grep -qx 'Documentation=file:///usr/share/doc/dmnonce/configuration.md' \
    "$stage/usr/lib/systemd/system/dmnonced.service" || fail "DESTDIR leaked into the unit"
grep -qx 'libdir=/usr/lib' "$stage/usr/lib/pkgconfig/dmnonce.pc" || fail "DESTDIR leaked into dmnonce.pc"
say "DESTDIR=… PREFIX=/usr: staged under DESTDIR, .pc names /usr"
say "PASS (install from $root with target dir $(cd "$root" && source scripts/lib/target-dir.sh && cargo_target_dir))"
