//! dmnonce-testserver: a DM server for tests and demonstrations. It runs the
//! server role of the nonce-resync change request (rust/syncml) over HTTP(S),
//! keeps its device accounts and nonces in a JSON file, and has a small JSON
//! admin API for tests (docs/field-test.md).
//!
//! The first line on stdout is `listening http://HOST:PORT` (or https);
//! the timeline of every step goes to stderr.

mod admin;
mod app;
mod dm;
mod fault;
mod http;
mod notify;
mod state;
mod timeline;
mod tls;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use clap::Parser;
use dmnonce_proto::DefaultNonce;

use crate::app::{App, Config};
use crate::state::StateFile;

/// A DM server running the server-role nonce-resync state machine.
#[derive(Parser, Debug)]
#[command(name = "dmnonce-testserver", version)]
struct Args {
    /// Address to listen on (port 0: any free port; the line on stdout says which).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Directory of the state file (created when missing).
    #[arg(long)]
    state: PathBuf,
    /// The server id (Package #0 and the SyncHdr Source).
    #[arg(long, default_value = "dmnonce-test")]
    server_id: String,
    /// PEM certificate chain (leaf first): serve HTTPS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Which bytes the default nonce "0x00000000" is: the ASCII text or four zero bytes.
    #[arg(long, default_value = "text", value_parser = ["text", "zero"])]
    default_nonce: String,
    /// How long a stored-nonce notification may go without a session before
    /// the default-nonce one is due (`"nonce":"auto"`, the delivery hook).
    #[arg(long, default_value_t = 30_000)]
    fallback_after_ms: u64,
    /// Replace the server AuthSecret at Pkg#4 of a resync session (change request step 6).
    #[arg(long)]
    rotate_secret: bool,
    /// DM tree URI of the device's SRVCRED AAuthSecret node, replaced by --rotate-secret
    /// (default `./DMAcc/<server-id>/AppAuth/SRVCRED/AAuthSecret`).
    #[arg(long)]
    secret_node: Option<String>,
    /// Shell command that delivers a notification to the device (the bytes on
    /// stdin); used by `"deliver":true` and the automatic fallback.
    #[arg(long)]
    deliver_cmd: Option<String>,
    /// Shell command that takes the device-server link down for
    /// $DMNONCE_OUTAGE_MS ms when an armed fault fires (POST /admin/fault);
    /// without it the outage is emulated by dropping /dm connections.
    #[arg(long)]
    fault_hook: Option<String>,
    /// Debug lines on the timeline.
    #[arg(short, long)]
    verbose: bool,
}

fn main() {
    let args = Args::parse();
    timeline::init(args.verbose);
    if let Err(e) = run(args) {
        log::error!("{e:#}");
        eprintln!("dmnonce-testserver: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let default_nonce =
        DefaultNonce::parse(&args.default_nonce).ok_or_else(|| anyhow!("bad --default-nonce"))?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(tls::server_config(c, k)?),
        _ => None,
    };
    let listener =
        TcpListener::bind(&args.listen).with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let config = Config {
        server_id: args.server_id.clone(),
        default_nonce,
        fallback_after_ms: args.fallback_after_ms,
        rotate_secret: args.rotate_secret,
        secret_node_uri: args
            .secret_node
            .clone()
            .unwrap_or_else(|| format!("./DMAcc/{}/AppAuth/SRVCRED/AAuthSecret", args.server_id)),
        server_uri: format!("{scheme}://{addr}/dm"),
        deliver_cmd: args.deliver_cmd.clone(),
        fault_hook: args.fault_hook.clone(),
    };
    let app = Arc::new(App::new(config, StateFile::new(&args.state)?)?);
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening {scheme}://{addr}")?;
        out.flush()?;
    }
    log::info!(
        "server {} listening on {scheme}://{addr}: {} devices, default nonce {}, fallback after {} ms{}",
        args.server_id,
        app.state().devices.len(),
        default_nonce.as_str(),
        args.fallback_after_ms,
        if args.rotate_secret { ", AuthSecret rotation on" } else { "" }
    );
    app::spawn_fallback_watcher(app.clone());
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                log::warn!("accept failed: {e}");
                continue;
            }
        };
        let app = app.clone();
        let tls = tls.clone();
        let spawned = thread::Builder::new()
            .name("conn".into())
            .spawn(move || serve(stream, &app, tls));
        if let Err(e) = spawned {
            log::warn!("connection thread not started: {e}");
        }
    }
    Ok(())
}

fn serve(stream: TcpStream, app: &App, tls: Option<Arc<rustls::ServerConfig>>) {
    // A client that stalls mid-request is dropped; others are unaffected.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_nodelay(true);
    let handler = |req: &http::Request| app.handle(req);
    match tls {
        None => http::serve_connection(stream, &handler),
        Some(config) => match rustls::ServerConnection::new(config) {
            Ok(conn) => http::serve_connection(rustls::StreamOwned::new(conn, stream), &handler),
            Err(e) => log::warn!("TLS session not created: {e}"),
        },
    }
}
