//! Subcommands that talk to a running dmnonced over its control socket:
//! `push`, `status`, `account add|list|remove`, `events`.
//!
//! Secrets for `account add` come from a JSON file or stdin, never from the
//! command line (shell history, `ps`). Nothing printed here contains a
//! secret or a nonce: the daemon never returns one.

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use dmnonce_control::{
    AccountInfo, AccountSpec, AuthScheme, Client, Encoding, EventKind, Policy, PushFormat,
    PushOutcome, PushResult,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::failure::{self, Kind};
use crate::{input, secret, socket};

/// Options every subcommand takes (before or after the subcommand).
#[derive(Args, Debug, Clone, Default)]
pub struct Connection {
    /// The daemon's control socket (default: $DMNONCE_SOCKET, else the
    /// `socket` of the daemon's configuration file, else the first existing
    /// of /run/dmnonced.sock, /dev/socket/dmnonced and the per-user socket).
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// The daemon's configuration file, to take its `socket` from (default:
    /// the installed /etc/dmnonce/dmnonced.toml, if it names one).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print results as one JSON object per line, and errors and warnings
    /// as one JSON object per line on stderr.
    #[arg(long, global = true)]
    pub json: bool,
}

impl Connection {
    pub(crate) fn connect(&self) -> Result<Client> {
        let target = socket::resolve(
            self.socket.as_deref(),
            self.config.as_deref(),
            &socket::Surroundings::from_process(),
        )?;
        Ok(Client::connect(target.path()?)?)
    }
}

/// `dmnoncectl push`.
#[derive(Args, Debug)]
pub struct PushArgs {
    /// A WSP push PDU or a bare Package #0 (told apart by the daemon); `-`
    /// for stdin. With --sms-hex: SMS-DELIVER PDUs in hex, one per line.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// FILE holds SMS-DELIVER TPDUs as hex, one per line.
    #[arg(long)]
    sms_hex: bool,
    /// The SMS PDUs start with the SMSC address (as Android hands them over).
    #[arg(long, requires = "sms_hex")]
    smsc_included: bool,
}

/// `dmnoncectl account …`.
#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Provision a DM account (secrets from --secrets-file, JSON).
    Add(AccountAddArgs),
    /// List accounts and their sync state (no secrets).
    List,
    /// Remove an account and its nonces.
    Remove {
        /// The account's server id.
        #[arg(long, value_name = "ID")]
        server_id: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SchemeArg {
    Md5,
    Hmac,
    Basic,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EncodingArg {
    Xml,
    Wbxml,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PolicyArg {
    Allow,
    Deny,
}

/// `dmnoncectl account add`.
#[derive(Args, Debug)]
pub struct AccountAddArgs {
    /// DMAcc ServerID (as in Package #0).
    #[arg(long, value_name = "ID")]
    server_id: String,
    /// The DM server's URL (http:// or https://).
    #[arg(long, value_name = "URL")]
    server_url: String,
    /// The device's user name towards the server (CLCRED AAuthName).
    #[arg(long, value_name = "NAME")]
    client_name: String,
    #[arg(long, value_enum, default_value = "md5")]
    auth_scheme: SchemeArg,
    #[arg(long, value_enum, default_value = "xml")]
    encoding: EncodingArg,
    /// Whether the default-nonce fallback of the change request is allowed.
    #[arg(long, value_enum, default_value = "allow")]
    policy: PolicyArg,
    /// JSON `{"server_password":…,"client_password":…}` (optional
    /// `server_nonce_b64`, `client_nonce_b64`); `-` for stdin.
    #[arg(long, value_name = "FILE|-")]
    secrets_file: PathBuf,
}

/// `dmnoncectl events`.
#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Exit after N events.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Give up after SECS: exit 1 if fewer than --count events (or none) arrived.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Only these kinds (alert, resync-started, resync-finished,
    /// resync-failed, push-rejected); repeatable.
    #[arg(long = "kind", value_name = "KIND")]
    kinds: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Secrets {
    server_password: String,
    client_password: String,
    #[serde(default)]
    server_nonce_b64: Option<String>,
    #[serde(default)]
    client_nonce_b64: Option<String>,
}

/// `push`: exit 0 when the push was taken (alert, resync started, fragment
/// stored), 1 when the daemon dropped it (rejected, replay, …).
pub fn push(conn: &Connection, args: &PushArgs) -> Result<ExitCode> {
    let bytes = input::read_all(Some(Path::new(&args.file)), "the push")?;
    let mut client = conn.connect()?;
    let result = if args.sms_hex {
        let text = String::from_utf8(bytes).context("--sms-hex input is not text")?;
        let pdus = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| hex::decode(l).with_context(|| format!("not hex: {l:.20}…")))
            .collect::<Result<Vec<_>>>()?;
        if pdus.is_empty() {
            bail!("no SMS PDU in the input");
        }
        client.push_sms(&pdus, args.smsc_included)?
    } else {
        client.push(PushFormat::Auto, &bytes)?
    };
    print_push(conn.json, &result)?;
    Ok(match result.outcome {
        PushOutcome::Alert | PushOutcome::ResyncStarted | PushOutcome::FragmentPending => {
            ExitCode::SUCCESS
        }
        _ => ExitCode::from(failure::EXIT_NEGATIVE),
    })
}

fn print_push(json: bool, r: &PushResult) -> Result<()> {
    let value = serde_json::to_value(r)?;
    if json {
        println!("{value}");
        return Ok(());
    }
    print!("outcome {}", value["outcome"].as_str().unwrap_or("?"));
    if let Some(v) = value["verdict"].as_str() {
        print!(" verdict {v}");
    }
    if let Some(n) = &r.notification {
        print!(" server_id {} session_id {}", n.server_id, n.session_id);
    }
    println!();
    Ok(())
}

/// `status`.
pub fn status(conn: &Connection) -> Result<ExitCode> {
    let s = conn.connect()?.status()?;
    if conn.json {
        println!("{}", serde_json::to_value(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "dmnonced {} (protocol {}), up {} s",
        s.daemon_version, s.protocol, s.uptime_secs
    );
    let c = &s.counters;
    println!(
        "pushes {} alerts {} fallbacks {} rejected {} replays {} refused {} resyncs finished {} failed {}",
        c.pushes, c.alerts, c.fallbacks, c.rejected, c.replays, c.refused,
        c.resyncs_finished, c.resyncs_failed
    );
    print_accounts(&s.accounts)?;
    Ok(ExitCode::SUCCESS)
}

fn name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn print_accounts(accounts: &[AccountInfo]) -> Result<()> {
    if accounts.is_empty() {
        println!("no accounts");
    }
    for a in accounts {
        println!(
            "{}  {}  {}  {}/{}  policy {}  {}",
            a.server_id,
            name(&a.state),
            a.client_name,
            name(&a.auth_scheme),
            name(&a.encoding),
            name(&a.policy),
            a.server_url
        );
    }
    Ok(())
}

/// `account …`.
pub fn account(conn: &Connection, cmd: &AccountCommand) -> Result<ExitCode> {
    match cmd {
        AccountCommand::Add(a) => {
            let path = Path::new(&a.secrets_file);
            secret::warn_if_exposed(path, "the secrets file", conn.json);
            let raw = input::read_all(Some(path), "the secrets file")?;
            // serde_json's own message quotes the offending value or key,
            // which here may be a password: the protocol crate's redaction
            // (the one the daemon applies to requests) drops it.
            let secrets: Secrets = serde_json::from_slice(&raw).map_err(|e| {
                anyhow::anyhow!("secrets file: {}", dmnonce_control::redact_json_error(&e))
            })?;
            let spec = AccountSpec {
                server_id: a.server_id.clone(),
                server_url: a.server_url.clone(),
                client_name: a.client_name.clone(),
                auth_scheme: match a.auth_scheme {
                    SchemeArg::Md5 => AuthScheme::Md5,
                    SchemeArg::Hmac => AuthScheme::Hmac,
                    SchemeArg::Basic => AuthScheme::Basic,
                },
                encoding: match a.encoding {
                    EncodingArg::Xml => Encoding::Xml,
                    EncodingArg::Wbxml => Encoding::Wbxml,
                },
                policy: match a.policy {
                    PolicyArg::Allow => Policy::Allow,
                    PolicyArg::Deny => Policy::Deny,
                },
                server_password: secrets.server_password,
                client_password: secrets.client_password,
                server_nonce_b64: secrets.server_nonce_b64,
                client_nonce_b64: secrets.client_nonce_b64,
            };
            conn.connect()?.account_add(spec)?;
            if conn.json {
                println!("{}", serde_json::json!({"added": a.server_id}));
            } else {
                println!("account {} added", a.server_id);
            }
        }
        AccountCommand::List => {
            let accounts = conn.connect()?.account_list()?;
            if conn.json {
                println!("{}", serde_json::json!({ "accounts": accounts }));
            } else {
                print_accounts(&accounts)?;
            }
        }
        AccountCommand::Remove { server_id } => {
            conn.connect()?.account_remove(server_id)?;
            if conn.json {
                println!("{}", serde_json::json!({ "removed": server_id }));
            } else {
                println!("account {server_id} removed");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `events`: one JSON event per line on stdout; "subscribed" on stderr once
/// the subscription is in place (scripts wait for it before pushing).
pub fn events(conn: &Connection, args: &EventsArgs) -> Result<ExitCode> {
    let kinds = args
        .kinds
        .iter()
        .map(|k| {
            serde_json::from_value::<EventKind>(serde_json::Value::from(k.as_str()))
                .ok()
                .filter(|kind| *kind != EventKind::Unknown)
                .ok_or_else(|| anyhow::anyhow!("unknown event kind {k:?}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let deadline = match args.timeout {
        Some(s) if s.is_finite() && s >= 0.0 => Some(Instant::now() + Duration::from_secs_f64(s)),
        Some(_) => bail!("--timeout must be a non-negative number of seconds"),
        None => None,
    };
    let mut stream = conn.connect()?.subscribe(&kinds)?;
    eprintln!("subscribed");
    let mut seen = 0u64;
    use std::io::Write as _;
    loop {
        if args.count.is_some_and(|n| seen >= n) {
            return Ok(ExitCode::SUCCESS);
        }
        let wait = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Ok(timed_out(conn.json, seen, args.count)),
            },
            None => None,
        };
        match stream.next_event(wait)? {
            Some(event) => {
                seen += 1;
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", serde_json::to_value(&event)?)?;
                out.flush()?;
            }
            None => return Ok(timed_out(conn.json, seen, args.count)),
        }
    }
}

fn timed_out(json: bool, seen: u64, count: Option<u64>) -> ExitCode {
    let enough = match count {
        Some(n) => seen >= n,
        None => seen > 0,
    };
    if enough {
        ExitCode::SUCCESS
    } else {
        let message = format!("timed out waiting for events ({seen} received)");
        failure::report_kind(json, Kind::Timeout, &message)
    }
}
