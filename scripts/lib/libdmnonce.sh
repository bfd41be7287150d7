# Sourced: the forms of libdmnonce that are installed and tested, made from
# cargo's staticlib. Needs binutils (ld, objcopy, ar, readelf) and a C
# compiler; CC, LD, OBJCOPY, AR are honoured (cross builds).
#
# - libdmnonce.so.VERSION: linked from the staticlib with the symbol
#   version script rust/client/dmnonce.map (rust/client/build.rs says why
#   cargo's cdylib cannot carry it), SONAME as cargo's cdylib has it;
#   libdmnonce.so.MAJOR and libdmnonce.so as symlinks.
# - libdmnonce.a: the staticlib partially linked into one object whose only
#   global symbols are dmnonce_* (std, compiler_builtins and __rust_alloc
#   become local), so a program may link two Rust static libraries.

# What a Rust staticlib needs from the C library on Linux/glibc
# (`rustc --print native-static-libs`).
LIBDMNONCE_NATIVE_LIBS=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)

_libdmnonce_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The library's version (the crate's, e.g. 0.1.0); run from the repository.
libdmnonce_version() {
    local pkgid
    pkgid=$(cargo pkgid -p dmnonce-client)
    echo "${pkgid##*[#@]}"
}

# SONAME recorded in a shared library.
libdmnonce_soname() {
    readelf -d "$1" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p'
}

# libdmnonce_package OUT DEST VERSION: OUT is cargo's output directory
# (libdmnonce.a, libdmnonce.so), DEST receives the files listed above.
libdmnonce_package() {
    local out=$1 dest=$2 version=$3 soname tmp
    soname=$(libdmnonce_soname "$out/libdmnonce.so")
    [[ -n $soname ]] || { echo "libdmnonce.sh: $out/libdmnonce.so has no SONAME" >&2; return 1; }
    mkdir -p "$dest"
    "${CC:-cc}" -shared -o "$dest/libdmnonce.so.$version" \
        -Wl,-soname,"$soname" \
        -Wl,--version-script="$_libdmnonce_dir/rust/client/dmnonce.map" \
        -Wl,--whole-archive "$out/libdmnonce.a" -Wl,--no-whole-archive \
        -Wl,--gc-sections -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--as-needed \
        "${LIBDMNONCE_NATIVE_LIBS[@]}"
    ln -sfn "libdmnonce.so.$version" "$dest/$soname"
    ln -sfn "$soname" "$dest/libdmnonce.so"

    tmp=$(mktemp -d)
    "${LD:-ld}" -r -o "$tmp/libdmnonce.o" --whole-archive "$out/libdmnonce.a"
    "${OBJCOPY:-objcopy}" --wildcard --keep-global-symbol='dmnonce_*' "$tmp/libdmnonce.o"
    rm -f "$dest/libdmnonce.a"
    # --plugin /dev/null: a plain ELF object needs no LTO plugin, and an
    # LLVMgold plugin in /usr/lib/bfd-plugins (Debian's llvm) aborts on
    # rustc's objects ("LLVM ERROR: Invalid encoding").
    "${AR:-ar}" --plugin /dev/null rcs "$dest/libdmnonce.a" "$tmp/libdmnonce.o"
    rm -rf "$tmp"
}

# Global symbols a library or object defines, one per line, sorted.
libdmnonce_defined_globals() {
    readelf -s -W "$1" | awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" && $8 != "" {
        sub(/@.*/, "", $8); print $8 }' | sort -u
}
