# Sourced by scripts/cross-build.sh and scripts/emulated-device.sh: the
# Debian toolchain that cross-builds dmnonce for the ARM targets a device
# runs, and the environment cargo needs to use it.
#
# Why Debian's rustc and not rustup's: rustup on these machines has only the
# x86-64 standard library and cannot fetch another target, while Debian ships
# the standard library of each architecture as a package
# (libstd-rust-web-dev:arm64 / :armhf, matching rustc-web). The host build
# keeps the rustup toolchain; both are at or above the workspace's
# rust-version, so the MSRV stays buildable by either.

# target triple -> Debian architecture, GNU triplet of the cross gcc
cross_arch_of() {
    case "$1" in
        aarch64-unknown-linux-gnu) echo arm64 ;;
        armv7-unknown-linux-gnueabihf) echo armhf ;;
        *) echo "unsupported target: $1 (aarch64-unknown-linux-gnu or armv7-unknown-linux-gnueabihf)" >&2; return 2 ;;
    esac
}
cross_gnu_of() {
    case "$1" in
        aarch64-unknown-linux-gnu) echo aarch64-linux-gnu ;;
        armv7-unknown-linux-gnueabihf) echo arm-linux-gnueabihf ;;
    esac
}

# device architecture (scripts/emulated-device.sh --arch) -> target triple;
# the reverse is the triple's first field.
cross_target_of() {
    case "$1" in
        aarch64) echo aarch64-unknown-linux-gnu ;;
        armv7) echo armv7-unknown-linux-gnueabihf ;;
        *) echo "unknown architecture: $1 (aarch64 or armv7)" >&2; return 2 ;;
    esac
}

# shellcheck source=scripts/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

# cargo_target_dir: cargo's target directory (CARGO_TARGET_DIR honoured).
# shellcheck source=scripts/lib/target-dir.sh
source "$(dirname "${BASH_SOURCE[0]}")/target-dir.sh"

# Adds bookworm-backports when the machine lacks it (qemu-system and the
# kernels are taken from there so that they match each other).
cross_enable_backports() {
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        cat >/etc/apt/sources.list.d/dmnonce-bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        CROSS_APT_UPDATED=
    fi
}

# A failed update is not the end: apt keeps the indexes it could fetch, and
# the pinned install below says whether what is needed was among them.
cross_apt_update() {
    if [[ -z "${CROSS_APT_UPDATED:-}" ]]; then
        apt_retry apt-get update -qq ||
            echo "warning: apt-get update failed; the package indexes it could fetch are used" >&2
        CROSS_APT_UPDATED=1
    fi
}

# Installs the cross toolchain of TARGET when something is missing.
cross_install_toolchain() {
    local target=$1 arch gnu
    arch=$(cross_arch_of "$target") || return
    gnu=$(cross_gnu_of "$target")
    if [[ -x /usr/bin/rustc && -d /usr/lib/rustlib/$target/lib && -e /usr/lib/$gnu/libcrypto.so &&
        -e /usr/lib/$gnu/libtomcrypt.a ]] &&
        command -v "$gnu-gcc" >/dev/null; then
        return 0
    fi
    echo "installing the Debian cross toolchain for $target"
    export DEBIAN_FRONTEND=noninteractive
    dpkg --print-foreign-architectures | grep -qx "$arch" || { dpkg --add-architecture "$arch"; CROSS_APT_UPDATED=; }
    cross_apt_update
    apt_retry apt-get install -y -qq --no-install-recommends rustc-web cargo-web >/dev/null
    # The target's standard library must be the compiler's own release: an
    # index that lacks it (a mirror whose security suite for one
    # architecture is broken) must fail here, not install an older one that
    # rustc refuses crate by crate.
    local rust_version
    rust_version=$(dpkg-query -W -f '${Version}' rustc-web)
    # (Not tried again: a version missing from the index stays missing.)
    apt-get install -y -qq --no-install-recommends "libstd-rust-web-dev:$arch=$rust_version" \
        "gcc-$gnu" "libc6-dev-$arch-cross" "libssl-dev:$arch" "libtomcrypt-dev:$arch" >/dev/null
}

# cross_ready_arches SUITE ARCH...: prints the device architectures whose
# cross toolchain is installed or could be installed now; says on stderr
# which could not, and why it is not the code's fault. Fails when none is
# left, so a suite never passes without a device.
cross_ready_arches() {
    local suite=$1 arch ready=()
    shift
    for arch in "$@"; do
        if (cross_install_toolchain "$(cross_target_of "$arch")") >&2; then
            ready+=("$arch")
        else
            echo "$suite: $arch SKIPPED: its Debian cross toolchain cannot be installed on this machine (apt's errors above); scripts/device-tests.sh $arch runs it where it can" >&2
        fi
    done
    ((${#ready[@]})) || { echo "$suite: no device architecture can be built here" >&2; return 1; }
    echo "${ready[*]}"
}

# Exports what cargo needs to build for TARGET with Debian's rustc.
cross_export_env() {
    local target=$1 gnu up
    gnu=$(cross_gnu_of "$target")
    up=$(echo "$target" | tr 'a-z-' 'A-Z_')
    export RUSTC=/usr/bin/rustc
    export CROSS_CARGO=/usr/bin/cargo
    export "CARGO_TARGET_${up}_LINKER=$gnu-gcc"
    export "CC_${target//-/_}=$gnu-gcc"
    export "AR_${target//-/_}=$gnu-ar"
    # rustup's proxies must not answer for rustc/rustdoc inside build scripts.
    export RUSTDOC=/usr/bin/rustdoc
    # SQLCipher's headers from the target's packages: libcrypto's
    # (libssl-dev:ARCH, for the system-libcrypto backend), which Debian
    # splits between /usr/include/openssl and the multiarch
    # /usr/include/GNU/openssl, and libtomcrypt's (libtomcrypt-dev:ARCH, for
    # the device's libtomcrypt backend). libsqlite3-sys takes one include
    # directory, so they are joined by symlinks in one (adding /usr/include
    # itself would put the host's C headers before the cross sysroot's).
    local inc=${CROSS_OPENSSL_INCLUDE_ROOT:-/tmp/dmnonce-cross-openssl}/$gnu
    if [[ ! -e $inc/openssl/configuration.h || ! -e $inc/tomcrypt.h ]]; then
        mkdir -p "$inc/openssl"
        ln -sf /usr/include/openssl/*.h "$inc/openssl/"
        ln -sf "/usr/include/$gnu/openssl/"*.h "$inc/openssl/"
        ln -sf /usr/include/tomcrypt*.h "$inc/"
    fi
    export "${up}_OPENSSL_INCLUDE_DIR=$inc" "${up}_OPENSSL_LIB_DIR=/usr/lib/$gnu"
    # The device backend (rust/store/Cargo.toml, feature libtomcrypt).
    export LIBSQLITE3_FLAGS=-DSQLCIPHER_CRYPTO_LIBTOMCRYPT DMNONCE_TOMCRYPT_LIB_DIR=/usr/lib/$gnu
}
