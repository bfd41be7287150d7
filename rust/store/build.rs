//! The `libtomcrypt` backend (Cargo.toml): libsqlite3-sys compiles
//! SQLCipher's libtomcrypt provider only when LIBSQLITE3_FLAGS says so, and
//! otherwise silently takes OpenSSL's; this refuses that mix-up and links
//! libtomcrypt's static archive.

use std::env;

/// The define that selects SQLCipher's libtomcrypt provider.
const LIBTOMCRYPT_DEFINE: &str = "-DSQLCIPHER_CRYPTO_LIBTOMCRYPT";

/// The archive, linked at the end of every executable that links the store.
/// rustc names a dependency's `rustc-link-lib` static archive before
/// libsqlite3-sys's SQLCipher, so the linker would take nothing from it; a
/// link argument comes after every crate. Static rather than the shared
/// library: only the objects SQLCipher calls are linked, and no library is
/// mapped (docs/performance.md, "On the device").
const LIBTOMCRYPT_LINK_ARG: &str = "-l:libtomcrypt.a";

fn main() {
    println!("cargo:rerun-if-env-changed=LIBSQLITE3_FLAGS");
    println!("cargo:rerun-if-env-changed=DMNONCE_TOMCRYPT_LIB_DIR");
    if env::var_os("CARGO_FEATURE_LIBTOMCRYPT").is_none() {
        return;
    }
    let flags = env::var("LIBSQLITE3_FLAGS").unwrap_or_default();
    if !flags.split_whitespace().any(|f| f == LIBTOMCRYPT_DEFINE) {
        panic!(
            "feature libtomcrypt needs LIBSQLITE3_FLAGS={LIBTOMCRYPT_DEFINE} in the environment \
             (libsqlite3-sys would build SQLCipher on OpenSSL otherwise)"
        );
    }
    // Where the target's libtomcrypt.a is when the linker does not look
    // there by itself (a cross build: /usr/lib/<triplet>).
    if let Some(dir) = env::var_os("DMNONCE_TOMCRYPT_LIB_DIR") {
        println!("cargo:rustc-link-search=native={}", dir.to_string_lossy());
    }
    // This package's own executables, and (through `links` metadata, as
    // DEP_DMNONCE_STORE_CRYPTO_LINK_ARG) those of the packages that link
    // the store: rust/daemon/build.rs.
    // (Plain rustc-link-arg: -tests would leave out the unit tests' harness.)
    println!("cargo:rustc-link-arg={LIBTOMCRYPT_LINK_ARG}");
    println!("cargo:link_arg={LIBTOMCRYPT_LINK_ARG}");
}
