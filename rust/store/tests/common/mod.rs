//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use dmnonce_store::{
    AccountProvisioning, AuthScheme, AuthSecret, Encoding, Key, Nonce, OpenReport, Policy, Store,
    UnixTime,
};

pub const T0: UnixTime = UnixTime(1_795_917_310);

pub fn nonce(s: &str) -> Nonce {
    Nonce::new(s.as_bytes().to_vec()).unwrap()
}

pub fn secret(s: &str) -> AuthSecret {
    AuthSecret::new(s.as_bytes().to_vec()).unwrap()
}

/// An account whose every secret field carries a recognisable marker.
pub fn provisioning(server_id: &str) -> AccountProvisioning {
    AccountProvisioning {
        server_id: server_id.to_owned(),
        server_url: format!("https://127.0.0.1:8443/{server_id}"),
        client_name: format!("device-of-{server_id}"),
        client_secret: secret(&format!("CLIENTSECRET-{server_id}")),
        server_secret: secret(&format!("SERVERSECRET-{server_id}")),
        server_secret_previous: None,
        auth_scheme: AuthScheme::Md5,
        encoding: Encoding::Wbxml,
        policy: Policy::Allow,
        client_nonce: Some(nonce(&format!("CLIENTNONCE-{server_id}"))),
        server_nonce: Some(nonce(&format!("SERVERNONCE-{server_id}"))),
    }
}

pub fn db_path(dir: &Path) -> PathBuf {
    dir.join(dmnonce_store::DB_FILE_NAME)
}

pub fn open(dir: &Path, key: &Key, prov: &[AccountProvisioning]) -> (Store, OpenReport) {
    Store::open(&db_path(dir), key, Some(prov), T0).expect("open store")
}

/// Files in `dir` whose name contains `part`.
pub fn files_containing(dir: &Path, part: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(part))
        .collect();
    v.sort();
    v
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub mod sqlcipher_log;
// Not every test binary provokes SQLCipher errors.
#[allow(unused_imports)]
pub use sqlcipher_log::capture_sqlcipher_log;
