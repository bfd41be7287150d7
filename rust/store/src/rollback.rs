//! Rollback detection: can the store tell that it came back older than it
//! was?
//!
//! SQLite cannot. A WAL frame whose checksum fails is taken as the end of
//! the log, so a damaged frame silently undoes every commit from it on; an
//! old copy of `store.db` put back is a perfectly healthy database. Either
//! way the page checks pass on the older state and the daemon would serve
//! nonces the server has long replaced (and accept notifications signed
//! with them again).
//!
//! So the store counts: a store-wide commit counter (`commit_counter.seq`,
//! bumped by triggers at every change of an account's nonces, sync state or
//! server secret) and, per account, the counter value of its last change
//! (`nonce_seq`). After each such commit the same numbers are written to a
//! small file beside the database, `<db>.commits`, which fails differently:
//! it is not SQLite, not in the WAL, and written by `pwrite` at fixed
//! offsets.
//!
//! Ordering: the database commit (fsync of the WAL, `synchronous=FULL`)
//! returns first, then the file is written. The file therefore never claims
//! more than the database holds; a crash between the two leaves the
//! database ahead, which is normal and repaired at the next open. The file
//! is **not** fsynced per change: the pages sit in the kernel's page cache,
//! which a killed process cannot lose, and the file is synced when the
//! open rewrites it and at every checkpoint (a clean stop). A power cut can only make the file lag (fewer commits
//! known), never make a healthy store look rolled back; what it can cost is
//! the detection of a rollback that coincides with a power cut within the
//! kernel's writeback delay (docs/store.md gives the cost of the fsync this
//! saves).
//!
//! Layout (little endian): a 64-byte header — magic, the database's random
//! `store_uid`, the counter, a checksum — then one 16-byte slot per account
//! row id at `64 + 16 * id`: the account's counter value and a checksum over
//! uid, id and value. A torn or damaged slot fails its checksum.
//!
//! At open (constant time on the normal path): the file's counter ≤ the
//! database's → in step (slots changed since the file's counter are brought
//! up to date). The file's counter > the database's → the database came
//! back older: every account whose database value is below its slot (or
//! whose slot is unreadable) lost changes and is set `needs-resync` without
//! nonces, audited and logged, after copying the database and its WAL
//! aside; other accounts are untouched.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use crate::files::{companions, parent_dir, sync_dir};
use crate::{Result, StoreError, UnixTime};

const MAGIC: &[u8; 8] = b"DMNSEQ01";
const HEADER_LEN: u64 = 64;
const SLOT_LEN: u64 = 16;
/// Row ids above this have no slot (the file would grow past 64 MiB): a
/// rollback of the store marks such accounts as suspect.
const MAX_SLOT_ID: i64 = 1 << 22;

/// The counter file of `db`.
pub(crate) fn path_for(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".commits");
    PathBuf::from(p)
}

/// FNV-1a, 64 bit: catches torn and damaged records, which is all it is
/// for (the file holds counters, nothing secret; whoever can write it can
/// write the database too).
fn check(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The counter and uid the database holds.
pub(crate) fn db_counter(conn: &Connection) -> Result<(Vec<u8>, u64)> {
    let (uid, seq): (Vec<u8>, i64) = conn.query_row(
        "SELECT store_uid, seq FROM commit_counter WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let seq = u64::try_from(seq).map_err(|_| StoreError::CorruptValue {
        column: "commit_counter.seq",
    })?;
    Ok((uid, seq))
}

/// Accounts stamped after `since`, with their stamp (uses the index).
pub(crate) fn changed_since(conn: &Connection, since: u64) -> Result<Vec<(i64, u64)>> {
    let mut stmt = conn.prepare_cached("SELECT account_id, seq FROM nonce_seq WHERE seq > ?1")?;
    let rows = stmt.query_map([since as i64], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?)))?;
    rows.map(|r| {
        let (id, seq) = r?;
        Ok((id, seq as u64))
    })
    .collect()
}

/// The counter of the last write, for [`Store::write`](crate::Store).
pub(crate) fn current_seq(conn: &Connection) -> Result<u64> {
    let seq: Option<i64> = conn
        .prepare_cached("SELECT seq FROM commit_counter WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(seq.unwrap_or(0) as u64)
}

/// The open counter file.
pub(crate) struct CounterFile {
    file: File,
    path: PathBuf,
    uid: Vec<u8>,
}

/// What the open found.
pub(crate) enum Finding {
    /// The file agrees with the database (or lagged, and was brought up).
    InStep,
    /// No usable file (first open of this version, deleted, torn, from
    /// another store): rewritten from the database; nothing can be said
    /// about a rollback this time.
    Reset(&'static str),
    /// The database is older than the file says.
    RolledBack {
        /// Counter in the database.
        found: u64,
        /// Counter in the file.
        recorded: u64,
        /// Row ids of the accounts that lost changes.
        accounts: Vec<i64>,
    },
}

impl CounterFile {
    /// Opens (creating) the file of `db` and compares it with `conn`.
    pub(crate) fn open(db: &Path, conn: &Connection) -> Result<(CounterFile, Finding)> {
        let path = path_for(db);
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io("open commit counter", &path, e))?;
        let (uid, seq) = db_counter(conn)?;
        let mut cf = CounterFile { file, path, uid };
        let mut wrote = true;
        let finding = match cf.read_header() {
            None => {
                cf.reset(conn, seq)?;
                Finding::Reset(if existed {
                    "the commit counter file was unreadable"
                } else {
                    "no commit counter file yet"
                })
            }
            Some((uid, _)) if uid != cf.uid => {
                cf.reset(conn, seq)?;
                Finding::Reset("the commit counter file belongs to another store")
            }
            Some((_, recorded)) if recorded <= seq => {
                // The database ahead: a stop between a commit and its
                // counter write (or writes lost to a power cut). Normal.
                if recorded < seq {
                    cf.record(&changed_since(conn, recorded)?, seq)?;
                } else {
                    wrote = false;
                }
                Finding::InStep
            }
            Some((_, recorded)) => {
                let mut accounts = Vec::new();
                let mut stmt = conn.prepare("SELECT account_id, seq FROM nonce_seq")?;
                let rows =
                    stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
                for row in rows {
                    let (id, at) = row?;
                    match cf.read_slot(id) {
                        Some(slot) if slot <= at as u64 => {}
                        // Changed after the state the database came back
                        // with, or no trustworthy record: out of step.
                        _ => accounts.push(id),
                    }
                }
                Finding::RolledBack {
                    found: seq,
                    recorded,
                    accounts,
                }
            }
        };
        // What the open wrote is made durable here; the normal path (file
        // and database agree) writes nothing and costs no fsync.
        if wrote && !matches!(finding, Finding::RolledBack { .. }) {
            cf.sync();
        }
        Ok((cf, finding))
    }

    fn read_header(&self) -> Option<(Vec<u8>, u64)> {
        let mut h = [0u8; 40];
        self.file.read_exact_at(&mut h, 0).ok()?;
        if &h[..8] != MAGIC || check(&[&h[..32]]).to_le_bytes() != h[32..40] {
            return None;
        }
        Some((
            h[8..24].to_vec(),
            u64::from_le_bytes(h[24..32].try_into().ok()?),
        ))
    }

    fn read_slot(&self, id: i64) -> Option<u64> {
        if !(0..=MAX_SLOT_ID).contains(&id) {
            return None;
        }
        let mut s = [0u8; 16];
        self.file
            .read_exact_at(&mut s, HEADER_LEN + SLOT_LEN * id as u64)
            .ok()?;
        let seq: [u8; 8] = s[..8].try_into().ok()?;
        (check(&[&self.uid, &id.to_le_bytes(), &seq]).to_le_bytes() == s[8..])
            .then(|| u64::from_le_bytes(seq))
    }

    /// Rewrites the whole file from the database (O(accounts); only when
    /// there is no usable file).
    fn reset(&mut self, conn: &Connection, seq: u64) -> Result<()> {
        self.file
            .set_len(0)
            .map_err(|e| StoreError::io("reset commit counter", &self.path, e))?;
        let mut stmt = conn.prepare("SELECT account_id, seq FROM nonce_seq")?;
        let rows: Vec<(i64, u64)> = stmt
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<_>>()?;
        self.record(&rows, seq)
    }

    /// Writes the slots of the accounts changed by a commit, then the
    /// counter (a stop in between leaves the counter behind the slots,
    /// which is harmless: the open compares slots only after a rollback).
    pub(crate) fn record(&self, changed: &[(i64, u64)], seq: u64) -> Result<()> {
        let io = |e| StoreError::io("write commit counter", &self.path, e);
        for &(id, at) in changed {
            if !(0..=MAX_SLOT_ID).contains(&id) {
                continue;
            }
            let mut s = [0u8; 16];
            s[..8].copy_from_slice(&at.to_le_bytes());
            let c = check(&[&self.uid, &id.to_le_bytes(), &s[..8]]);
            s[8..].copy_from_slice(&c.to_le_bytes());
            self.file
                .write_all_at(&s, HEADER_LEN + SLOT_LEN * id as u64)
                .map_err(io)?;
        }
        let mut h = [0u8; HEADER_LEN as usize];
        h[..8].copy_from_slice(MAGIC);
        let n = self.uid.len().min(16);
        h[8..8 + n].copy_from_slice(&self.uid[..n]);
        h[24..32].copy_from_slice(&seq.to_le_bytes());
        let c = check(&[&h[..32]]);
        h[32..40].copy_from_slice(&c.to_le_bytes());
        self.file.write_all_at(&h, 0).map_err(io)
    }

    /// Makes the file durable (at open and checkpoint, not per change).
    pub(crate) fn sync(&self) {
        if let Err(e) = self.file.sync_data() {
            log::warn!("commit counter {}: sync failed: {e}", self.path.display());
        }
    }
}

/// Copies `db` and its WAL to `<db>.rolledback-<UTC time>[.N]` (+`-wal`)
/// before anything is written, so that what the damaged WAL or the older
/// file held stays available. Returns the copies.
pub(crate) fn copy_aside(db: &Path, now: UnixTime) -> Result<Vec<PathBuf>> {
    let stamp = now.compact_utc();
    let mut n = 0u32;
    let base = loop {
        let mut name = db.as_os_str().to_owned();
        name.push(format!(".rolledback-{stamp}"));
        if n > 0 {
            name.push(format!(".{n}"));
        }
        let candidate = PathBuf::from(name);
        if candidate.symlink_metadata().is_err() {
            break candidate;
        }
        n += 1;
    };
    let [wal, _] = companions(db);
    let [wal_copy, _] = companions(&base);
    let mut copies = Vec::new();
    for (from, to) in [(db.to_path_buf(), base), (wal, wal_copy)] {
        // An empty WAL (the store opened after a clean stop) holds nothing.
        if from.metadata().map_or(true, |m| m.len() == 0) {
            continue;
        }
        std::fs::copy(&from, &to)
            .and_then(|_| File::open(&to)?.sync_all())
            .map_err(|e| StoreError::io("copy rolled-back store aside", &from, e))?;
        copies.push(to);
    }
    sync_dir(parent_dir(db))?;
    Ok(copies)
}

/// In the open's transaction: raise the database's counter above the
/// file's (so no number is handed out twice) and take the accounts that
/// lost changes out of step — `needs-resync`, no nonces (the ones it holds
/// are older than what the server was given; a notification signed with
/// them is an old one), audited each. Returns their server ids.
pub(crate) fn mark_out_of_step(
    conn: &Connection,
    recorded: u64,
    found: u64,
    accounts: &[i64],
    copies: &[PathBuf],
    now: UnixTime,
) -> Result<Vec<String>> {
    conn.execute(
        "UPDATE commit_counter SET seq = max(seq, ?1) WHERE id = 1",
        [recorded as i64],
    )?;
    let mut ids = Vec::with_capacity(accounts.len());
    for &id in accounts {
        let server_id: String =
            conn.query_row("SELECT server_id FROM accounts WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        conn.execute(
            "UPDATE nonces SET client_nonce = NULL, server_current = NULL, server_previous = NULL,
                               generation = generation + 1, updated_at = ?1
             WHERE account_id = ?2",
            params![now.0, id],
        )?;
        conn.execute(
            "UPDATE accounts SET state = 'needs-resync', updated_at = ?1 WHERE id = ?2",
            params![now.0, id],
        )?;
        crate::audit::insert(
            conn,
            Some(&server_id),
            crate::AuditEvent::StoreRolledBack,
            "the store came back older than its last change to this account; \
             nonces dropped, needs-resync",
            now,
        )?;
        ids.push(server_id);
    }
    let names: Vec<String> = copies
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    crate::audit::insert(
        conn,
        None,
        crate::AuditEvent::StoreRolledBack,
        &format!(
            "store came back older than it was (commit {found}, {recorded} recorded); \
             copied as {}; {} account(s) set needs-resync",
            names.join(", "),
            ids.len()
        ),
        now,
    )?;
    Ok(ids)
}
