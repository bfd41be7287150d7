//! Link arguments the store asks of every executable that links it (its
//! libtomcrypt backend: rust/store/build.rs), for the daemon's programs and
//! tests.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_DMNONCE_STORE_CRYPTO_LINK_ARG");
    if let Ok(arg) = std::env::var("DEP_DMNONCE_STORE_CRYPTO_LINK_ARG") {
        // Every executable: the programs, the integration tests and the
        // unit tests' harness (which -tests would leave out).
        println!("cargo:rustc-link-arg={arg}");
    }
}
