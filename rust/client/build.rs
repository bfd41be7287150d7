//! The SONAME of libdmnonce.so: consumers record `NEEDED libdmnonce.so.0`,
//! so an ABI break becomes `libdmnonce.so.1` beside it instead of a silent
//! crash. Scripts read the name back from this library (readelf), so it is
//! written only here.
//!
//! The symbol versions (`dmnonce.map`) cannot be linked here: rustc passes
//! its own anonymous version script for a cdylib, GNU ld refuses to combine
//! it with a named node ("anonymous version tag cannot be combined with
//! other version tags", the cross builds) and lld lets the anonymous one
//! win (every symbol stays `Base`). The packaged shared library is linked
//! from the staticlib with the map instead (scripts/lib/libdmnonce.sh).

const ABI_MAJOR: &str = "0";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // ELF targets (Linux, Android); Android's loader reads DT_SONAME too.
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(os.as_str(), "linux" | "android") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libdmnonce.so.{ABI_MAJOR}");
    }
}
