//! The store key: 32 random bytes, kept in a 0600 key file in the state
//! directory (or handed in by the platform), zeroized when dropped.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use zeroize::Zeroizing;

use crate::files::{parent_dir, sync_dir};
use crate::{KeyFileProblem, Result, StoreError};

/// Length of a store key: SQLCipher's AES-256 key.
pub const KEY_LEN: usize = 32;

/// A raw 256-bit SQLCipher key. Zeroized on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; KEY_LEN]>);

impl Key {
    /// Wraps key bytes handed in by the platform (e.g. from a keystore).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Key(Zeroizing::new(bytes))
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(k.as_mut()).map_err(StoreError::Random)?;
        Ok(Key(k))
    }

    /// `x'…'` blob-literal form that `PRAGMA key` takes for a raw key
    /// (SQLCipher then skips its passphrase KDF).
    pub(crate) fn pragma_literal(&self) -> Zeroizing<String> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = Zeroizing::new(String::with_capacity(3 + 2 * KEY_LEN + 1));
        s.push_str("x'");
        for b in self.0.iter() {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        s.push('\'');
        s
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// Loading and creating the key file.
pub struct KeyFile;

impl KeyFile {
    /// Loads the key from `path`, or creates the file with 32 random bytes
    /// and mode 0600 if it does not exist.
    ///
    /// Refuses (with [`StoreError::KeyFile`]) a file that group or others may
    /// read or write, a symlink, or a file that is not exactly 32 bytes. The
    /// file is created under a temporary name, synced, and linked into place
    /// without overwriting, so two processes starting at once end up with the
    /// same key and a crash never leaves a short key file.
    pub fn load_or_create(path: &Path) -> Result<Key> {
        match Self::load(path) {
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Self::create(path)
            }
            other => other,
        }
    }

    /// Loads an existing key file (same checks as [`Self::load_or_create`]).
    pub fn load(path: &Path) -> Result<Key> {
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| {
                // O_NOFOLLOW on a symlink fails with ELOOP.
                if e.raw_os_error() == Some(libc::ELOOP) {
                    StoreError::KeyFile {
                        path: path.to_path_buf(),
                        problem: KeyFileProblem::NotRegularFile,
                    }
                } else {
                    StoreError::io("open key file", path, e)
                }
            })?;
        let meta = file
            .metadata()
            .map_err(|e| StoreError::io("stat key file", path, e))?;
        let refuse = |problem| StoreError::KeyFile {
            path: path.to_path_buf(),
            problem,
        };
        if !meta.file_type().is_file() {
            return Err(refuse(KeyFileProblem::NotRegularFile));
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(refuse(KeyFileProblem::InsecurePermissions { mode }));
        }
        if meta.len() != KEY_LEN as u64 {
            return Err(refuse(KeyFileProblem::WrongLength { len: meta.len() }));
        }
        let mut buf = Zeroizing::new([0u8; KEY_LEN]);
        file.read_exact(buf.as_mut())
            .map_err(|e| StoreError::io("read key file", path, e))?;
        // A file that grew after the length check is not a key file either.
        let mut probe = [0u8; 1];
        if file
            .read(&mut probe)
            .map_err(|e| StoreError::io("read key file", path, e))?
            != 0
        {
            return Err(refuse(KeyFileProblem::WrongLength {
                len: KEY_LEN as u64 + 1,
            }));
        }
        Ok(Key(buf))
    }

    fn create(path: &Path) -> Result<Key> {
        let key = Key::generate()?;
        let dir = parent_dir(path);
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&tmp)?;
            f.write_all(key.0.as_ref())?;
            f.sync_all()
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&tmp);
            return Err(StoreError::io("create key file", &tmp, e));
        }
        // link(2) never replaces an existing file: if another process won the
        // race, use its key.
        let linked = fs::hard_link(&tmp, path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_dir(dir)?;
                log::info!("created store key file {}", path.display());
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(path),
            Err(e) => Err(StoreError::io("install key file", path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_key_file_is_0600_and_reloads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.key");
        let k1 = KeyFile::load_or_create(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let k2 = KeyFile::load_or_create(&path).unwrap();
        assert_eq!(k1.0.as_ref(), k2.0.as_ref());
        assert_ne!(k1.0.as_ref(), &[0u8; KEY_LEN]);
    }

    #[test]
    fn group_or_world_readable_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.key");
        KeyFile::load_or_create(&path).unwrap();
        for mode in [0o640, 0o604, 0o660] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            match KeyFile::load_or_create(&path) {
                Err(StoreError::KeyFile {
                    problem: KeyFileProblem::InsecurePermissions { mode: m },
                    ..
                }) => assert_eq!(m, mode),
                other => panic!("mode {mode:o} accepted: {other:?}"),
            }
        }
    }

    #[test]
    fn short_key_file_and_symlink_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.key");
        fs::write(&path, [1u8; 16]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            KeyFile::load(&path),
            Err(StoreError::KeyFile {
                problem: KeyFileProblem::WrongLength { len: 16 },
                ..
            })
        ));
        let real = dir.path().join("real.key");
        KeyFile::load_or_create(&real).unwrap();
        let link = dir.path().join("link.key");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(
            KeyFile::load_or_create(&link),
            Err(StoreError::KeyFile {
                problem: KeyFileProblem::NotRegularFile,
                ..
            })
        ));
    }

    #[test]
    fn key_debug_is_redacted_and_pragma_literal_is_hex() {
        let k = Key::from_bytes([0xab; KEY_LEN]);
        assert_eq!(format!("{k:?}"), "Key(<redacted>)");
        let lit = k.pragma_literal();
        assert_eq!(lit.len(), 3 + 64);
        assert!(lit.starts_with("x'abab") && lit.ends_with("ab'"));
    }
}
