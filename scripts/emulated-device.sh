#!/usr/bin/env bash
# An emulated ARM device: boots a real Debian Linux kernel under QEMU (TCG,
# `-M virt`) with a busybox userland and the cross-built dmnonce binaries of
# that target on PATH, runs one command as root in it, prints the command's
# output, powers off and exits with the command's status. See
# docs/field-test.md ("On an emulated device").
set -euo pipefail

usage() {
    cat <<'EOF'
usage: scripts/emulated-device.sh --arch aarch64|armv7 [OPTION]... -- COMMAND...

Boots a Linux kernel under qemu-system-aarch64 / qemu-system-arm -M virt with
dmnonced, dmnoncectl, dmnonce-testserver and libdmnonce.so of the target
(scripts/cross-build.sh TARGET), runs COMMAND with sh as root (the words are
joined with spaces and run by sh, as ssh does; stdin is /dev/null), prints
its output (stdout and stderr) as it comes, powers off and exits with
COMMAND's status.

  --arch aarch64|armv7   aarch64-unknown-linux-gnu or armv7-unknown-linux-gnueabihf
  --forward PORT         the host's 127.0.0.1:PORT is 10.0.2.100:PORT in the
                         guest (repeatable); nothing else is reachable
  --share DIR            a copy of DIR at /share in the guest (read-only)
  --bin FILE             FILE on the guest's PATH (/usr/local/bin), with the
                         libraries it needs (repeatable)
  --timeout SECONDS      the whole boot, command and power-off (default 300);
                         exceeded: QEMU is killed, the console's tail printed
  --memory MB            guest RAM (default 512)
  --smp N                guest CPUs (default 2)
  -h, --help             this text

Exit status: COMMAND's; 124 when the timeout expired; 125 when the device
could not be set up or reported no status.
Environment: DMNONCE_DEVICE_CACHE (default ~/.cache/dmnonce-device) holds
the downloaded kernels and busybox; CARGO_TARGET_DIR is honoured.

Example: a DM server on the host's 127.0.0.1:8080, a script in ./dir:
  scripts/emulated-device.sh --arch armv7 --forward 8080 --share ./dir -- sh /share/script
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/cross-env.sh
source "$root/scripts/lib/cross-env.sh"
# shellcheck source=scripts/lib/libdmnonce.sh
source "$root/scripts/lib/libdmnonce.sh"
# shellcheck source=scripts/lib/harness.sh
source "$root/scripts/lib/harness.sh"

die() { echo "emulated-device: $*" >&2; exit 125; }
note() { echo "emulated-device: $*" >&2; }

# ------------------------------------------------------------------ options
arch="" share="" timeout_s=300 memory=512 smp=2
forwards=() bins=() command=()
parse_args() {
    while (($#)); do
        case $1 in
        --arch) arch=${2:?--arch needs a value}; shift 2 ;;
        --forward) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--forward needs a port number"; forwards+=("$2"); shift 2 ;;
        --share) share=${2:?--share needs a directory}; shift 2 ;;
        --bin) bins+=("${2:?--bin needs a file}"); shift 2 ;;
        --timeout) timeout_s=${2:?}; shift 2 ;;
        --memory) memory=${2:?}; shift 2 ;;
        --smp) smp=${2:?}; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; command=("$@"); break ;;
        *) usage >&2; exit 125 ;;
        esac
    done
    ((${#command[@]})) || { usage >&2; exit 125; }
    [[ -z $share || -d $share ]] || die "--share $share: not a directory"
    local b
    for b in "${bins[@]}"; do [[ -f $b ]] || die "--bin $b: no such file"; done
}

# What differs between the two devices. The CPUs are the oldest ones the
# Debian kernels and the Rust targets support: TCG emulates them faster than
# `-cpu max` (pointer authentication alone costs a lot under TCG).
select_arch() {
    case $arch in
    aarch64)
        target=aarch64-unknown-linux-gnu qemu=qemu-system-aarch64 cpu=cortex-a57
        kernel_meta=linux-image-arm64 ;;
    armv7)
        target=armv7-unknown-linux-gnueabihf qemu=qemu-system-arm cpu=cortex-a15
        kernel_meta=linux-image-armmp-lpae ;;
    *) die "--arch must be aarch64 or armv7" ;;
    esac
    debarch=$(cross_arch_of "$target")
    gnu=$(cross_gnu_of "$target")
    cache=${DMNONCE_DEVICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dmnonce-device}/$debarch
}

# ------------------------------------------------------------ host tools
need_root() {
    [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null ||
        die "$1 needs root and apt-get (or install it yourself)"
}
# The emulator comes from bookworm-backports (QEMU 10, as the kernels);
# socat relays each forwarded connection; cpio packs the initramfs.
ensure_host_tools() {
    local missing=()
    command -v "$qemu" >/dev/null || missing+=(qemu-system-arm)
    command -v cpio >/dev/null || missing+=(cpio)
    command -v modinfo >/dev/null || missing+=(kmod)
    command -v readelf >/dev/null || missing+=(binutils)
    ((${#forwards[@]})) && ! command -v socat >/dev/null && missing+=(socat)
    ((${#missing[@]})) || return 0
    need_root "installing ${missing[*]}"
    note "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    cross_enable_backports
    cross_apt_update
    apt_retry apt-get install -y -qq --no-install-recommends -t bookworm-backports "${missing[@]}" >/dev/null
}
# apt-get download of another architecture's packages needs that
# architecture known to dpkg (scripts/cross-build.sh adds it too).
ensure_foreign_arch() {
    dpkg --print-foreign-architectures | grep -qx "$debarch" && return 0
    dpkg --add-architecture "$debarch"
    CROSS_APT_UPDATED=
}
apt_download() { # apt_download DIR PACKAGE...
    # Sandbox user root: the cache is not readable by _apt.
    (cd "$1" && shift && apt_retry apt-get -qq -o APT::Sandbox::User=root download "$@")
}

# ------------------------------------------------------ kernel and busybox
# Debian's kernel for the architecture, taken from the package without
# installing it: no update-initramfs, /boot left alone. The meta package
# names the versioned one. Only vmlinuz and the network driver's modules
# are kept, decompressed, with their load order. The package has no
# modules.dep (depmod writes it at installation), so the dependencies come
# from each module's own "depends" field.
fetch_kernel() {
    [[ -f $cache/kernel/complete ]] && return 0
    need_root "downloading the $kernel_meta:$debarch kernel"
    ensure_foreign_arch
    cross_enable_backports
    cross_apt_update
    local dl=$cache/download pkg deb
    rm -rf "$dl" "$cache/kernel"
    mkdir -p "$dl/x" "$cache/kernel/modules"
    note "downloading $kernel_meta:$debarch from bookworm-backports (once; cached in $cache)"
    apt_download "$dl" "$kernel_meta:$debarch/bookworm-backports"
    pkg=$(dpkg-deb -f "$dl/${kernel_meta}"_*.deb Depends | sed 's/[ ,].*//')
    [[ $pkg == linux-image-* ]] || die "cannot tell the kernel package $kernel_meta depends on"
    apt_download "$dl" "$pkg:$debarch"
    deb=$(ls "$dl/${pkg}"_*.deb)
    dpkg-deb -c "$deb" | awk '{print $NF}' | grep '\.ko' >"$dl/modules"
    extract "./boot/vmlinuz-*"
    cp "$dl"/x/boot/vmlinuz-* "$cache/kernel/vmlinuz"
    : >"$cache/kernel/modules/order"
    add_module virtio_net
    echo "$pkg" >"$cache/kernel/package"
    touch "$cache/kernel/complete"
    rm -rf "$dl"
}
extract() { dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$cache/download/x" --wildcards "$@"; }
# add_module NAME: NAME's dependencies first (depth first), then NAME, each
# once, appended to the load order.
add_module() {
    local name=$1 path ko dep
    grep -qx "$name" "$cache/kernel/modules/order" && return 0
    # File names use - or _ interchangeably with the module name.
    path=$(grep -E "/${name//_/[-_]}\.ko(\.[a-z]+)?\$" "$cache/download/modules" | head -n 1)
    [[ -n $path ]] || die "module $name is not in $pkg"
    extract "$path"
    ko=$cache/kernel/modules/$name.ko
    case $path in
    *.xz) xz -dc "$cache/download/x/$path" ;;
    *.zst) zstd -qdc "$cache/download/x/$path" ;;
    *.gz) gzip -dc "$cache/download/x/$path" ;;
    *) cat "$cache/download/x/$path" ;;
    esac >"$ko"
    for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do add_module "$dep"; done
    echo "$name" >>"$cache/kernel/modules/order"
}
# busybox-static of the architecture, extracted only: installing it would
# replace the host's own busybox.
fetch_busybox() {
    [[ -f $cache/busybox ]] && return 0
    need_root "downloading busybox-static:$debarch"
    ensure_foreign_arch
    cross_apt_update
    local dl=$cache/download-bb
    rm -rf "$dl"; mkdir -p "$dl/x"
    note "downloading busybox-static:$debarch"
    apt_download "$dl" "busybox-static:$debarch"
    dpkg-deb -x "$dl"/busybox-static_*.deb "$dl/x"
    cp "$dl/x/bin/busybox" "$cache/busybox.new"
    mv "$cache/busybox.new" "$cache/busybox"
    rm -rf "$dl"
}

# ------------------------------------------------------------- the guest
target_dir() {
    local d
    d=$(cd "$root" && cargo_target_dir)
    echo "$d/$target/release"
}
# Copies ELF file $1 to $2 in the staging tree, then every shared library
# it needs (readelf -d) from the cross toolchain's sysroot, and its dynamic
# loader at the path the file asks for.
stage_elf() {
    local src=$1 dst=$stage$2 interp lib from d
    install -D -m 0755 "$src" "$dst"
    interp=$(readelf -l "$src" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
    if [[ -n $interp && ! -e $stage$interp ]]; then
        install -D -m 0755 "$(readlink -f "/usr/$gnu/lib/$(basename "$interp")")" "$stage$interp"
    fi
    for lib in $(readelf -d "$src" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        [[ -e $stage/lib/$lib || -e $stage/usr/lib/$lib ]] && continue
        # The cross toolchain's sysroot, then the multiarch libraries of
        # the architecture's packages (libcrypto.so.3 of libssl-dev:ARCH,
        # which the device build of SQLCipher links).
        from=""
        for d in "/usr/$gnu/lib" "/usr/lib/$gnu"; do [[ -e $d/$lib ]] && { from=$d/$lib; break; }; done
        [[ -n $from ]] || die "$src needs $lib, not found in /usr/$gnu/lib or /usr/lib/$gnu"
        stage_elf "$(readlink -f "$from")" "/lib/$lib"
        chmod 0644 "$stage/lib/$lib"
    done
}
stage_binaries() {
    local out f
    out=$(target_dir)
    for f in dmnonced dmnoncectl libdmnonce.so; do
        [[ -f $out/$f ]] || die "$out/$f is missing: run scripts/cross-build.sh $target first"
    done
    # The library first, so that programs linked with -ldmnonce find it
    # there, under its SONAME (the name they record as NEEDED).
    stage_elf "$out/libdmnonce.so" "/usr/lib/$(libdmnonce_soname "$out/libdmnonce.so")"
    for f in dmnonced dmnoncectl dmnonce-testserver; do
        [[ -f $out/$f ]] && stage_elf "$out/$f" "/usr/bin/$f"
    done
    for f in "${bins[@]}"; do stage_elf "$f" "/usr/local/bin/$(basename "$f")"; done
}
# The command, word for word as given, joined as ssh joins a remote command.
sh_command() { printf '%s\n' "${command[*]}"; }

stage_guest() {
    stage=$work/root
    mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib/modules,etc/emulated-device,root,proc,sys,dev,tmp,run,var}
    install -m 0755 "$cache/busybox" "$stage/bin/busybox"
    install -m 0755 "$root/scripts/device/init.sh" "$stage/init"
    stage_binaries
    if ((${#forwards[@]})); then
        cp "$cache"/kernel/modules/*.ko "$cache/kernel/modules/order" "$stage/lib/modules/"
    fi
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
    printf 'root:x:0:\n' >"$stage/etc/group"
    echo device >"$stage/etc/hostname"
    sh_command >"$stage/etc/emulated-device/command"
    ((${#forwards[@]})) && touch "$stage/etc/emulated-device/network"
    # Owned by root in the guest whoever runs this script.
    (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/initrd"
    if [[ -n $share ]]; then
        # A second archive appended to the first: the kernel unpacks both.
        mkdir -p "$work/share"
        cp -a "$share" "$work/share/share"
        (cd "$work/share" && find share | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >>"$work/initrd"
    fi
}

# ------------------------------------------------------------------ QEMU
# hvc0 carries the command's output to our stdout and hvc1 its exit status
# to a file: virtio console writes complete only once QEMU has taken the
# bytes, so nothing is lost at power-off, and kernel messages stay on the
# serial console (a file, printed only when something went wrong).
qemu_args() {
    local a=(-M virt -cpu "$cpu" -smp "$smp" -m "$memory"
        -nodefaults -no-user-config -display none -no-reboot
        -kernel "$cache/kernel/vmlinuz" -initrd "$work/initrd"
        -append "console=ttyAMA0 loglevel=6 panic=-1 rdinit=/init"
        -serial "file:$work/console.log"
        -device virtio-serial-pci
        -chardev stdio,id=out,signal=off -device virtconsole,chardev=out
        -chardev "file,id=status,path=$work/status" -device virtconsole,chardev=status)
    if ((${#forwards[@]})); then
        # restrict=on: the guest reaches nothing but the guestfwd addresses;
        # each guest connection runs its own socat to the host's loopback.
        local net=user,id=n0,restrict=on,ipv6=off p
        for p in "${forwards[@]}"; do net+=",guestfwd=tcp:10.0.2.100:$p-cmd:socat STDIO TCP4:127.0.0.1:$p"; done
        a+=(-netdev "$net" -device virtio-net-pci,netdev=n0,romfile=)
    fi
    printf '%s\0' "${a[@]}"
}

run_qemu() {
    local args=() rc=0
    mapfile -d '' args < <(qemu_args)
    timeout -k 5 "$timeout_s" "$qemu" "${args[@]}" </dev/null 2>"$work/qemu.log" &
    qemu_pid=$!
    harness_track "$qemu_pid"
    wait "$qemu_pid" || rc=$?
    harness_untrack "$qemu_pid"
    if ((rc == 124 || rc == 137)); then
        note "the device did not finish within $timeout_s s: killed"
        show_console
        exit 124
    fi
    local st
    st=$(tr -dc '0-9' <"$work/status" 2>/dev/null || true)
    if ((rc != 0)) || [[ -z $st ]]; then
        note "the device reported no exit status (QEMU exit $rc)"
        show_console
        exit 125
    fi
    exit "$st"
}
show_console() {
    note "last lines of the console:"
    tail -n 30 "$work/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/  | /' >&2 || true
    [[ -s $work/qemu.log ]] && sed 's/^/  qemu: /' "$work/qemu.log" >&2
    return 0
}

main() {
    parse_args "$@"
    [[ -n $arch ]] || die "--arch is required"
    select_arch
    ensure_host_tools
    mkdir -p "$cache"
    # One download at a time per architecture (parallel runs share the cache).
    exec 9>"$cache/.lock"
    flock 9
    fetch_kernel
    fetch_busybox
    flock -u 9
    harness_init device
    work=$H_WORK
    trap 'exit 130' INT TERM
    stage_guest
    run_qemu
}

main "$@"
