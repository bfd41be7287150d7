//! libdmnonce: the C ABI of dmnonce, for legacy C DM agents.
//!
//! A thin layer over `dmnonce_control::Client`: the daemon `dmnonced` owns
//! every AuthSecret and nonce; an agent hands it received pushes, asks it
//! for credentials, has it check the server's, and accepts and issues
//! `Chal`s through it. The header `include/dmnonce.h` is generated from
//! this crate by cbindgen (`scripts/gen-header.sh`).
//!
//! Conventions (after rustls-ffi): opaque handles behind pointers, created
//! and freed in pairs; every fallible function returns a `dmnonce_result`;
//! outputs go into caller buffers (capacity in, length out); NULL arguments
//! are checked; no panic crosses the boundary; a handle is used by one
//! thread at a time.
#![deny(unsafe_op_in_unsafe_fn)]
// Exported types carry their C names (`dmnonce_client`, `DMNONCE_OK`), so
// the header reads like C and cbindgen needs no renaming table.
#![allow(non_camel_case_types)]

#[macro_use]
mod panic;

mod account;
mod buffer;
mod client;
mod cred;
mod events;
mod push;
mod result;
mod result_message;
mod sized;

pub use account::*;
pub use client::*;
pub use cred::*;
pub use events::*;
pub use push::*;
pub use result::*;

use std::ffi::c_char;

/// Version of this library (and of the header it was generated with),
/// checked against Cargo.toml by a test.
pub const DMNONCE_VERSION_MAJOR: u32 = 0;
pub const DMNONCE_VERSION_MINOR: u32 = 1;
pub const DMNONCE_VERSION_PATCH: u32 = 0;

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// Returns the library version, e.g. `"0.1.0"`: a static NUL-terminated
/// string. Compare it with `DMNONCE_VERSION_*` to detect a header/library
/// mismatch.
///
/// Ownership: the string is static; do not free it.
/// Thread-safety: any thread, any time.
#[no_mangle]
pub extern "C" fn dmnonce_version() -> *const c_char {
    ffi_panic_boundary! { VERSION.as_ptr().cast::<c_char>() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_cargo_toml() {
        assert_eq!(
            format!("{DMNONCE_VERSION_MAJOR}.{DMNONCE_VERSION_MINOR}.{DMNONCE_VERSION_PATCH}"),
            env!("CARGO_PKG_VERSION")
        );
        let v = unsafe { std::ffi::CStr::from_ptr(dmnonce_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }

    /// The checked-in header must carry the same version (it is generated
    /// from the constants above; scripts/test.d/30-c.sh checks it is current).
    #[test]
    fn header_version_matches_cargo_toml() {
        let header = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../include/dmnonce.h"
        ))
        .expect("include/dmnonce.h exists (scripts/gen-header.sh)");
        let define = |name: &str| -> String {
            header
                .lines()
                .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
                .unwrap_or_else(|| panic!("{name} missing from the header"))
                .trim()
                .to_owned()
        };
        let version = format!(
            "{}.{}.{}",
            define("DMNONCE_VERSION_MAJOR"),
            define("DMNONCE_VERSION_MINOR"),
            define("DMNONCE_VERSION_PATCH")
        );
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
    }
}
