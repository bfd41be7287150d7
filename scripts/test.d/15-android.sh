#!/usr/bin/env bash
# What of the Android build can be checked without an AOSP tree, an NDK or
# a device (none can be had on these machines; android/README.md, "What is
# checked here and what is not"):
#   1. both Android.bp files are in bpfmt form;
#   2. the Rust modules of Android.bp agree with Cargo: each module's
#      rustlibs are its crate's dependencies (Soong reads no Cargo.toml, so
#      a dependency added to one and not the other would only show on a
#      platform build), and cargo_pkg_version is the crate version;
#   3. every crate Android.bp builds type-checks for aarch64-linux-android
#      with the features Android.bp gives it, warnings denied.
# The type-check uses Debian's rustc (rustc-web) with its standard-library
# source (rust-web-src): -Zbuild-std checks std for the target from source,
# as no prebuilt Android std exists here. About 5 minutes on an empty
# <cargo target dir>/android (3 of CPU), seconds warm (android/README.md has the
# measurement).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/harness.sh
source scripts/lib/harness.sh
harness_name 15-android
start=$SECONDS

# --- tools (CI's fresh machine; quiet when all are present) --------------
need=()
command -v bpfmt >/dev/null || need+=(blueprint-tools)
dpkg -s rustc-web >/dev/null 2>&1 || need+=(rustc-web)
dpkg -s cargo-web >/dev/null 2>&1 || need+=(cargo-web)
dpkg -s rust-web-src >/dev/null 2>&1 || need+=(rust-web-src)
# ring (under ureq's rustls) compiles C and assembly in its build script,
# which even `cargo check` runs; see the type-check below.
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
# Its C includes <stdint.h> from the target's libc headers, which
# gcc-aarch64-linux-gnu only recommends (not installed with --no-install-recommends).
dpkg -s libc6-dev-arm64-cross >/dev/null 2>&1 || need+=(libc6-dev-arm64-cross)
if ((${#need[@]})); then
    say "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck source=scripts/lib/apt.sh
    source scripts/lib/apt.sh
    apt_retry apt-get update -qq
    apt_retry apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# rustc-web and rust-web-src must be the same release, or -Zbuild-std
# compiles a std the compiler does not match.
rustc_ver=$(/usr/bin/rustc --version | awk '{print $2}')
src_ver=$(dpkg-query -W -f '${Version}' rust-web-src)
[[ $src_ver == "$rustc_ver"+* ]] || { say "rust-web-src $src_ver does not match rustc $rustc_ver"; exit 1; }

# --- 1. bpfmt ------------------------------------------------------------
# bpfmt -d exits 0 even when it prints a diff: the output is the verdict.
diff=$(bpfmt -d Android.bp android/Android.bp)
if [[ -n $diff ]]; then
    printf '%s\n' "$diff"
    say "not in bpfmt form (fix with: bpfmt -w Android.bp android/Android.bp)"
    exit 1
fi
say "Android.bp and android/Android.bp are in bpfmt form"

# --- 2. Android.bp against Cargo -----------------------------------------
# Prints the Cargo packages Android.bp builds, for the type-check.
packages=$(python3 - <<'PY'
import json, re, subprocess, sys

meta = json.loads(subprocess.run(
    ["/usr/bin/cargo", "metadata", "--locked", "--format-version", "1", "--no-deps"],
    check=True, capture_output=True, text=True).stdout)
root = meta["workspace_root"]
by_dir = {p["manifest_path"][len(root) + 1:].rsplit("/", 1)[0]: p for p in meta["packages"]}
by_name = {p["name"]: p for p in meta["packages"]}

# Soong module names of crates.io crates where they are not "lib" + crate:
# "liblog" is the C logging library; the store needs the SQLCipher build
# of rusqlite, not AOSP's plain-SQLite librusqlite (android/README.md).
special = {"md-5": "libmd5", "log": "liblog_rust", "rusqlite": "librusqlite_sqlcipher"}

def own_lib(pkg):
    libs = [t["name"] for t in pkg["targets"] if {"lib", "rlib"} & set(t["kind"])]
    return "lib" + libs[0] if libs else None

def module_of(dep):
    if dep in by_name:
        return own_lib(by_name[dep])
    return special.get(dep, "lib" + dep.replace("-", "_"))

def on_android(d):
    # Normal dependencies of an Android build with Android.bp's features:
    # the only optional one is zbus, behind "ofono", which no Android module
    # enables.
    if d["kind"] is not None or d["optional"]:
        return False
    t = d["target"]
    return t is None or ("android" in t and 'not(target_os = "android")' not in t)

# Comment lines out: they quote feature and section names.
text = re.sub(r"^\s*//.*\n", "", open("Android.bp").read(), flags=re.M)
version = re.search(r'cargo_pkg_version: "([^"]+)"', text).group(1)
errors, built = [], []
for kind, body in re.findall(r"^(rust_\w+) \{\n(.*?)^\}", text, re.M | re.S):
    if kind == "rust_defaults":
        continue
    name = re.search(r'^    name: "([^"]+)"', body, re.M).group(1)
    pkg = by_dir[re.search(r'srcs: \["(rust/[^/]+)/src/', body).group(1)]
    m = re.search(r"rustlibs: \[(.*?)\]", body, re.S)
    have = set(re.findall(r'"([^"]+)"', m.group(1))) if m else set()
    want = {module_of(d["name"]) for d in pkg["dependencies"] if on_android(d)}
    cargo = pkg["name"] + "'s Cargo.toml"
    if pkg["version"] != version and pkg["name"] not in built:
        errors.append(f"cargo_pkg_version is {version}, {pkg['name']} is {pkg['version']}")
    own = own_lib(pkg)
    if kind == "rust_binary" and own:
        # A binary beside its package's library (dmnonced) lists what
        # main.rs uses: that library and some of the package dependencies.
        if own not in have:
            errors.append(f"{name}: rustlibs lack its own library {own}")
        want |= {own}
        if have - want:
            errors.append(f"{name}: rustlibs not in {cargo}: {sorted(have - want)}")
    elif have != want:
        if want - have:
            errors.append(f"{name}: rustlibs lack {sorted(want - have)} ({cargo} has them)")
        if have - want:
            errors.append(f"{name}: rustlibs not in {cargo}: {sorted(have - want)}")
    if pkg["name"] not in built:
        built.append(pkg["name"])
for e in errors:
    print("15-android: Android.bp: " + e, file=sys.stderr)
if errors:
    sys.exit(1)
print(" ".join(built))
PY
)
say "Android.bp rustlibs and cargo_pkg_version agree with Cargo for: $packages"

# --- 3. type-check for aarch64-linux-android -----------------------------
pargs=()
for p in $packages; do pargs+=(-p "$p"); done
# RUSTC_BOOTSTRAP: -Zbuild-std is unstable and Debian's rustc is a stable
#   release.
# panic=abort: what Soong builds device Rust with (Android.bp); the std is
#   built to match (panic_abort).
# --no-default-features + dmnonced/system-libcrypto: Android.bp's features
#   (no ofono, the store on the system libcrypto, jni without "testing").
# LIBSQLITE3_SYS_USE_PKG_CONFIG: libsqlite3-sys then compiles no C (no
#   Android C compiler here) and takes its prebuilt SQLCipher bindings,
#   declaring a link to libsqlcipher: the shape of the Soong build, where
#   SQLCipher is a C module of its own. Nothing is linked by a check.
# CC/AR for the target: ring's build script compiles its C and aarch64
#   assembly even for a check. Debian's glibc aarch64 cross compiler stands
#   in for the NDK's clang; the objects are never linked, so this checks
#   the Rust code, not ring's Android C build.
# -D warnings: code compiled only for other targets leaves dead code or
#   unused imports on Android that the host clippy never sees.
# <target dir>/android: its own target dir, so the host build is not disturbed.
android_target=$(cargo_target_dir)/android
env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$android_target" \
    LIBSQLITE3_SYS_USE_PKG_CONFIG=1 \
    CC_aarch64_linux_android=aarch64-linux-gnu-gcc \
    AR_aarch64_linux_android=aarch64-linux-gnu-ar \
    CARGO_TARGET_AARCH64_LINUX_ANDROID_RUSTFLAGS="-D warnings" \
    /usr/bin/cargo check -q --locked \
    -Zbuild-std=std,panic_abort --target aarch64-linux-android \
    --config 'profile.dev.panic="abort"' \
    --no-default-features --features dmnonced/system-libcrypto \
    "${pargs[@]}"
say "type-checked for aarch64-linux-android: $packages ($((SECONDS - start)) s)"
