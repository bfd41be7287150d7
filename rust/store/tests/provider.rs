//! SQLCipher's crypto provider: the host build takes OpenSSL
//! (`vendored-openssl`, `system-libcrypto`), the device build libtomcrypt
//! (`libtomcrypt`, scripts/cross-build.sh). A store must not care which
//! one wrote it: a device updated to the other backend, or a store copied
//! off a device for analysis, opens the same. The fixtures under
//! `tests/fixtures/written-by-*` were written once by each provider
//! (`write_fixture` below); every build opens both.

mod common;

use common::{db_path, provisioning, T0};
use dmnonce_store::{Key, Store};
use std::path::{Path, PathBuf};

/// The fixtures' key: a test value, never a product one.
const FIXTURE_KEY: [u8; 32] = *b"dmnonce provider fixture key 32B";

/// The provider this build's SQLCipher reports (`PRAGMA cipher_provider`).
const EXPECTED_PROVIDER: &str = if cfg!(feature = "libtomcrypt") {
    "libtomcrypt"
} else {
    "openssl"
};

fn fixture_dir(provider: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("written-by-{provider}"))
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn the_build_uses_the_provider_its_features_name() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::open(dir.path(), &Key::generate().unwrap(), &[]);
    assert_eq!(store.cipher_provider().unwrap(), EXPECTED_PROVIDER);
}

#[test]
fn a_store_written_by_either_provider_opens_with_its_secrets() {
    for provider in ["openssl", "libtomcrypt"] {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture_dir(provider), dir.path());
        let (store, report) = Store::open(
            &db_path(dir.path()),
            &Key::from_bytes(FIXTURE_KEY),
            None,
            T0,
        )
        .unwrap_or_else(|e| panic!("the store written by {provider}: {e}"));
        assert!(report.rolled_back.is_none(), "{provider}: {report:?}");
        let expected = provisioning("fixture-server");
        let account = store.account("fixture-server").unwrap();
        assert_eq!(account.client_name, expected.client_name, "{provider}");
        let secrets = store.account_secrets("fixture-server").unwrap();
        assert_eq!(
            secrets.server_secret.expose(),
            expected.server_secret.expose(),
            "{provider}"
        );
        assert!(store.check().unwrap().is_healthy(), "{provider}");
    }
}

/// Writes this build's fixture:
/// `DMNONCE_FIXTURE_OUT=DIR cargo test -p dmnonce-store --test provider -- --ignored`
/// (with `--no-default-features --features libtomcrypt` and
/// `LIBSQLITE3_FLAGS=-DSQLCIPHER_CRYPTO_LIBTOMCRYPT` for the other one).
#[test]
#[ignore = "writes a fixture; run by hand"]
fn write_fixture() {
    let out = PathBuf::from(std::env::var_os("DMNONCE_FIXTURE_OUT").expect("DMNONCE_FIXTURE_OUT"));
    std::fs::create_dir_all(&out).unwrap();
    let (store, _) = common::open(
        &out,
        &Key::from_bytes(FIXTURE_KEY),
        &[provisioning("fixture-server")],
    );
    assert_eq!(store.cipher_provider().unwrap(), EXPECTED_PROVIDER);
    drop(store);
}
