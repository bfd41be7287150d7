//! The resync session runner: drives rust/syncml's client role
//! ([`ClientSession`]) over HTTP(S), persisting every nonce commit before
//! the message that reveals it is sent (the change request's Pkg#1..Pkg#4).
//!
//! One session per account at a time (the claim in [`Shared`]). The pending
//! work item created with the fallback verdict survives a restart: at start
//! [`resume_pending`] runs it again from Pkg#1 (the server's session is
//! keyed by the Package #0's session id), at most `http.max_resumes` times,
//! then fails it cleanly (state `needs-resync`, nonces as last committed).

use std::sync::Arc;

use dmnonce_control::Event;
use dmnonce_proto::Package0;
use dmnonce_store::{
    AuthSecret, Nonce, PendingId, PendingKind, ResyncCommit, SecretConfirmation, SyncState,
};
use dmnonce_syncml::{ClientParams, ClientSession, DevInfo, NonceCommit, Secret, Step};

use crate::logging::peer;
use crate::sessions::Job;
use crate::shared::{lock, now, Shared, Stats};
use crate::vocabulary::Translate;

/// Rounds (HTTP exchanges) after which a session is abandoned: the change
/// request needs two, a split package or a 401 retry a few more.
const MAX_ROUNDS: usize = 16;

enum End {
    /// Stopped because the daemon stops: the pending item stays.
    Stopped,
    /// Failed: reason for operators (no secrets).
    Failed(String),
}

/// Starts a resync session, or, with `http.max_sessions` running already,
/// lets it wait for the next free slot (its work item is pending in the
/// store either way; the job holds the account's session claim).
pub(crate) fn start(shared: &Arc<Shared>, job: Job) {
    let sid = job.server_id().to_owned();
    match shared.sessions.admit(job) {
        Some(job) => spawn(shared.clone(), job),
        None => log::info!(
            "{}: resync session waits for a free slot ({} running, {} waiting)",
            peer(&sid),
            shared.config.http.max_sessions,
            shared.sessions.waiting()
        ),
    }
}

/// A resync session's thread ended, or could not start: the next waiting
/// session, if any, gets its slot.
pub(crate) fn ended(shared: &Arc<Shared>) {
    if let Some(job) = shared.sessions.ended(shared.is_stopping()) {
        log::info!(
            "{}: resync session starts in a freed slot",
            peer(job.server_id())
        );
        spawn(shared.clone(), job);
    }
}

/// Runs `job` on its own thread; the job's claim is released when it ends.
pub fn spawn(shared: Arc<Shared>, job: Job) {
    let s = shared.clone();
    let shown = peer(job.server_id()).to_string();
    let name = format!("resync-{}", job.session_id);
    let started = std::thread::Builder::new().name(name).spawn(move || {
        run(&s, job);
        ended(&s);
        // A session is rare (once per desync) and runs code nothing else
        // does (the HTTP client, the SyncML session): its program pages go,
        // as start's do (`sys::release_program_pages`).
        #[cfg(all(feature = "release-start-pages", target_os = "linux"))]
        if let Err(e) = crate::sys::release_program_pages() {
            log::warn!("cannot unmap the session's program pages: {e}");
        }
    });
    match started {
        Ok(handle) => {
            let mut threads = lock(&shared.session_threads);
            threads.retain(|h| !h.is_finished());
            threads.push(handle);
        }
        Err(e) => {
            // The job (and its claim) went with the closure; the pending
            // item stays, and a restart resumes it.
            log::error!("{shown}: cannot start the resync thread: {e}");
            ended(&shared);
        }
    }
}

/// The session, start to end. Its start and end are audited by the store
/// in the transactions that change the state (the admission, the final
/// commit, [`fail`]), so none of it takes a durable write of its own, and
/// `resync-finished` goes out as soon as the final commit is durable.
fn run(shared: &Arc<Shared>, job: Job) {
    let shown = peer(job.server_id());
    shared.events.publish(Event::ResyncStarted {
        server_id: job.server_id().to_owned(),
        session_id: job.session_id,
    });
    let mut trail = crate::trail::Trail::new(job.session_id, job.reading);
    match session(shared, &job, &mut trail) {
        Ok(()) => {
            Stats::bump(&shared.stats.resyncs_finished);
            shared.events.publish(Event::ResyncFinished {
                server_id: job.server_id().to_owned(),
                session_id: job.session_id,
            });
            log::info!(
                "{shown}: resync session {} finished; nonces fresh",
                job.session_id
            );
        }
        Err(End::Stopped) => {
            // The one place the trail takes a write of its own: a shutdown
            // has no transaction left to ride on.
            if let Err(e) = shared.store.append_audit_batch(
                job.server_id(),
                dmnonce_store::AuditEvent::SessionMessage,
                &trail.take(),
                now(),
            ) {
                shared.store_failed("the trail of an interrupted session", &e);
            }
            log::info!("{shown}: resync session interrupted by shutdown; resumes at next start");
        }
        Err(End::Failed(reason)) => fail(
            shared,
            job.server_id(),
            job.pending,
            job.session_id,
            &reason,
            &trail.take(),
        ),
    }
}

/// Ends a pending resync for good: in one store transaction the item is
/// removed, the account `needs-resync` (the nonces stay as last
/// committed) and the failure audited with its reason, after the
/// session's messages not yet written (`trail`); then the event.
pub(crate) fn fail(
    shared: &Shared,
    sid: &str,
    pending: PendingId,
    session_id: u16,
    reason: &str,
    trail: &[String],
) {
    Stats::bump(&shared.stats.resyncs_failed);
    let shown = peer(sid);
    log::warn!(
        "{shown}: resync session {session_id} failed: {}",
        peer(reason)
    );
    let because = format!("session {session_id}: {reason}");
    if let Err(e) = shared
        .store
        .fail_resync_traced(sid, pending, &because, trail, now())
    {
        shared.store_failed("the end of a failed resync session", &e);
    }
    shared.events.publish(Event::ResyncFailed {
        server_id: sid.to_string(),
        session_id,
        reason: reason.to_string(),
    });
}

fn random16() -> Result<[u8; 16], End> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| End::Failed(format!("no randomness: {e}")))?;
    Ok(b)
}

fn params(shared: &Shared, job: &Job) -> Result<(ClientParams, String), End> {
    let failed = |e: dmnonce_store::StoreError| End::Failed(format!("store: {e}"));
    let dmnonce_store::AccountView {
        account, secrets, ..
    } = shared.store.account_view(job.server_id()).map_err(failed)?;
    let scheme = crate::vocabulary::session_scheme(account.auth_scheme).ok_or_else(|| {
        End::Failed("auth scheme basic uses no nonces; nothing to resynchronise".into())
    })?;
    let server_secret = secrets.server_secret_in(job.server_secret).ok_or_else(|| {
        End::Failed("the server secret that verified the Package #0 is gone".into())
    })?;
    let url = account.server_url.clone();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(End::Failed(format!("server URL {url:?} is not http(s)")));
    }
    let d = &shared.config.device;
    let dev_id = if d.dev_id.is_empty() {
        secrets.client_name.clone()
    } else {
        d.dev_id.clone()
    };
    let p = ClientParams {
        server_id: job.server_id().to_owned(),
        client_name: secrets.client_name.clone(),
        server_uri: url.clone(),
        client_secret: Secret::new(secrets.client_secret.expose()),
        server_secret: Secret::new(server_secret.expose()),
        session_id: job.session_id,
        session_id_format: d.session_id_format,
        encoding: account.encoding.translate(),
        scheme,
        default_nonce: job.reading,
        dev_info: DevInfo {
            dev_id,
            man: d.man.clone(),
            model: d.model.clone(),
            dm_v: "1.2".into(),
            lang: d.lang.clone(),
        },
        max_msg_size: None,
        server_secret_uri: Some(format!(
            "./DMAcc/{}/AppAuth/SRVCRED/AAuthSecret",
            job.server_id()
        )),
    };
    Ok((p, url))
}

fn session(shared: &Arc<Shared>, job: &Job, trail: &mut crate::trail::Trail) -> Result<(), End> {
    let (p, url) = params(shared, job)?;
    let transport =
        crate::http::Transport::new(&shared.config.http).map_err(|e| End::Failed(e.to_string()))?;
    let (mut session, mut out) =
        ClientSession::start(p, random16()?).map_err(|f| End::Failed(f.reason.to_string()))?;
    trail.sent(&out.body);
    let stopping = || shared.is_stopping();
    for round in 1..=MAX_ROUNDS {
        if shared.is_stopping() {
            return Err(End::Stopped);
        }
        log::debug!(
            "{}: resync round {round}: sending {} bytes",
            peer(job.server_id()),
            out.body.len()
        );
        let reply = match transport.exchange(
            &url,
            out.content_type,
            &out.body,
            out.hmac_header.as_deref(),
            &stopping,
        ) {
            Ok(r) => r,
            Err(crate::http::HttpError::Stopping) => return Err(End::Stopped),
            Err(e) => return Err(End::Failed(e.to_string())),
        };
        let step = session.on_response(&reply.body, reply.hmac_header.as_deref(), random16()?);
        let problem = match &step {
            Step::Failed(f) => Some(f.reason.to_string()),
            _ => None,
        };
        trail.received(&reply.body, problem.as_deref());
        match step {
            Step::Send(next) => {
                trail.sent(&next.body);
                out = next;
            }
            Step::CommitThenSend(commit, next) => {
                trail.sent(&next.body);
                persist(
                    shared,
                    job,
                    &commit,
                    session.committed(),
                    SyncState::Resyncing,
                    None,
                    &trail.take(),
                )?;
                out = next;
            }
            // Only the last step's commit: everything before it was
            // persisted at its own CommitThenSend, and committing the whole
            // session again would rotate the server secret a second time
            // (from the current slot: (new, old) -> (new, new)), audit it
            // twice and bump the generation twice.
            Step::Done(outcome) => {
                return persist(
                    shared,
                    job,
                    &outcome.commit,
                    &outcome.committed,
                    SyncState::InSync,
                    Some(job.pending),
                    &trail.take(),
                );
            }
            Step::Failed(f) => return Err(End::Failed(f.reason.to_string())),
        }
    }
    Err(End::Failed(format!(
        "no end of session after {MAX_ROUNDS} exchanges"
    )))
}

/// One store transaction for one step of the session: the nonces (and a
/// rotated server secret) it handed out, before the message that carries
/// them leaves, and what it saw the server use (`c.confirmed`), so the
/// previous value kept for a lost message is retired. `session` is every
/// commit of the session so far, this one included: the confirmed flags
/// name values committed in earlier steps.
fn persist(
    shared: &Shared,
    job: &Job,
    c: &NonceCommit,
    session: &NonceCommit,
    state: SyncState,
    complete: Option<PendingId>,
    trail: &[String],
) -> Result<(), End> {
    let bad = |what: &str| End::Failed(format!("server sent an unusable {what}"));
    // `confirmed.client_nonce` needs nothing: the store keeps no previous
    // client nonce (the server issued it, so it already expects it).
    let seen_nonce = session
        .server_nonce
        .as_ref()
        .filter(|_| c.confirmed.server_nonce)
        .map(|n| Nonce::new(n.as_bytes()).map_err(|_| bad("server nonce")))
        .transpose()?;
    let seen_secret = session
        .server_secret
        .as_ref()
        .filter(|_| c.confirmed.server_secret)
        .map(|s| AuthSecret::new(s.as_bytes()).map_err(|_| bad("server secret")))
        .transpose()?;
    let commit = ResyncCommit {
        client_nonce: c
            .client_nonce
            .as_ref()
            .map(|n| Nonce::new(n.as_bytes()).map_err(|_| bad("client nonce")))
            .transpose()?,
        server_nonce: c
            .server_nonce
            .as_ref()
            .map(|n| Nonce::new(n.as_bytes()).map_err(|_| bad("server nonce")))
            .transpose()?,
        server_secret: c
            .server_secret
            .as_ref()
            .map(|s| AuthSecret::new(s.as_bytes()).map_err(|_| bad("server secret")))
            .transpose()?,
        server_secret_used: job.server_secret,
        state,
        complete_pending: complete,
    };
    if let Some(new) = &commit.server_secret {
        mirror_rotation(shared, job, new)?;
    }
    let retired = shared
        .store
        .commit_resync_traced(
            job.server_id(),
            &commit,
            seen_nonce.as_ref(),
            seen_secret.as_ref(),
            trail,
            now(),
        )
        .map_err(|e| End::Failed(format!("store: {e}")))?;
    if let (SecretConfirmation::RetiredPrevious, Some(current)) = (retired, &seen_secret) {
        log::info!(
            "{}: server uses its new AuthSecret; the previous one retired (resync session {})",
            peer(job.server_id()),
            job.session_id
        );
        // Store first, then the mirror: until then the mirror keeps one
        // secret more, which is the safe side.
        crate::provisioning::mirror_server_secrets(shared, job.server_id(), current, None);
    }
    Ok(())
}

/// Writes a server-secret rotation to the provisioning mirror before the
/// store (the mirror may run ahead; the next start reconciles it), so a
/// store rebuilt from the mirror still holds the secrets the server may use.
fn mirror_rotation(shared: &Shared, job: &Job, new: &AuthSecret) -> Result<(), End> {
    let secrets = shared
        .store
        .account_secrets(job.server_id())
        .map_err(|e| End::Failed(format!("store: {e}")))?;
    let kept = secrets.server_secret_in(job.server_secret);
    crate::provisioning::mirror_server_secrets(shared, job.server_id(), new, kept);
    Ok(())
}

/// Resumes (or fails) resync sessions left pending by a previous run.
pub fn resume_pending(shared: &Arc<Shared>) {
    let items = match shared.store.pending() {
        Ok(i) => i,
        Err(e) => {
            log::error!("cannot read pending work: {e}");
            return;
        }
    };
    for item in items {
        if item.kind != PendingKind::ResyncSession {
            continue;
        }
        let sid = item.server_id.clone();
        let pkg = match Package0::decode(&item.payload) {
            Ok(p) => p,
            Err(e) => {
                fail(
                    shared,
                    &sid,
                    item.id,
                    0,
                    &format!("stored Package #0 unreadable: {e}"),
                    &[],
                );
                continue;
            }
        };
        let session_id = pkg.notification.session_id;
        if item.attempts >= shared.config.http.max_resumes {
            fail(
                shared,
                &sid,
                item.id,
                session_id,
                &format!("given up after {} interrupted attempts", item.attempts),
                &[],
            );
            continue;
        }
        let checked = crate::verification::verify_for_account(shared, &pkg);
        let (reading, server_secret) = match checked.map(|c| (c.verdict, c.secret)) {
            Ok((dmnonce_proto::Verdict::Default(r), secret)) => (r, secret),
            Ok(_) => {
                fail(
                    shared,
                    &sid,
                    item.id,
                    session_id,
                    "stored Package #0 no longer verifies with the default nonce",
                    &[],
                );
                continue;
            }
            Err(e) => {
                fail(
                    shared,
                    &sid,
                    item.id,
                    session_id,
                    &format!("store: {e}"),
                    &[],
                );
                continue;
            }
        };
        // Counted before the run, so a daemon that keeps crashing in the
        // session gives up after max_resumes starts. Without the count it
        // could resume for ever: not resumed then.
        if let Err(e) =
            shared
                .store
                .fail_pending(item.id, "interrupted by a daemon restart; resuming", now())
        {
            shared.store_failed("the resume count of a pending session", &e);
            continue;
        }
        let Some(claim) = shared.sessions.claim(&sid) else {
            continue;
        };
        log::info!(
            "{}: resuming the resync session {session_id} left pending",
            peer(&sid)
        );
        start(
            shared,
            Job::new(claim, item.id, session_id, reading, server_secret),
        );
    }
}
