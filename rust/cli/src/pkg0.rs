//! `dmnoncectl pkg0`: offline Package #0 tools (build, decode, verify).
//!
//! Interface (other tools and tests depend on it; docs/cli.md and
//! docs/package0.md): exit 0 on success / accepted, 1 when `verify`
//! rejects, 2 for usage errors and malformed input, with one line on
//! stderr naming the problem. Passwords and nonces are never printed.

use crate::{failure, input, json, secret::PasswordArgs};
use anyhow::{anyhow, Context as _, Result};
use clap::{Args, Subcommand};
use dmnonce_proto::package0::{
    verify, DefaultNonce, Fallback, Initiator, Notification, Package0, UiMode,
};
use serde_json::json;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum Pkg0Command {
    /// Build and sign a Package #0 (server role); raw bytes to stdout or -o
    /// (with --json: one JSON object, the package in Base64).
    Build(BuildArgs),
    /// Decode a Package #0 and print its fields as one JSON object.
    Decode(DecodeArgs),
    /// Verify a Package #0 with the stored nonce, then the default nonce.
    Verify(VerifyArgs),
}

#[derive(Args)]
pub struct BuildArgs {
    /// Server identifier (1 to 255 bytes of UTF-8).
    #[arg(long, value_name = "ID")]
    server_id: String,
    #[command(flatten)]
    password: PasswordArgs,
    #[command(flatten)]
    nonce: SigningNonce,
    /// DM session id (0 to 65535).
    #[arg(long, value_name = "N")]
    session_id: u16,
    /// 0 not specified, 1 background, 2 informative, 3 user interaction.
    #[arg(long, value_name = "0-3", default_value_t = 0,
          value_parser = clap::value_parser!(u8).range(0..=3))]
    ui_mode: u8,
    /// Initiator bit (0 server, 1 user, per the specification text).
    #[arg(long, value_name = "0|1", default_value_t = 0,
          value_parser = clap::value_parser!(u8).range(0..=1))]
    initiator: u8,
    /// Version field.
    #[arg(long, value_name = "11|12", default_value_t = 11,
          value_parser = clap::value_parser!(u16).range(11..=12))]
    version: u16,
    /// Vendor-specific data, hex.
    #[arg(long, value_name = "HEX", default_value = "")]
    vendor_hex: String,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The nonce to sign with: explicit bytes or a default-nonce reading.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct SigningNonce {
    /// The server nonce, hex.
    #[arg(long, value_name = "HEX")]
    nonce_hex: Option<String>,
    /// Sign with the default nonce: `text` (ASCII "0x00000000") or `zero`
    /// (four zero bytes).
    #[arg(long, value_name = "text|zero", value_parser = parse_default_nonce)]
    default_nonce: Option<DefaultNonce>,
}

#[derive(Args)]
pub struct DecodeArgs {
    /// Package #0 file; stdin when absent or `-`.
    #[arg(value_name = "FILE|-")]
    input: Option<PathBuf>,
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    password: PasswordArgs,
    /// The stored server nonce, hex.
    #[arg(long, value_name = "HEX")]
    nonce_hex: String,
    /// Package #0 file; stdin when absent or `-`.
    #[arg(value_name = "FILE|-")]
    input: Option<PathBuf>,
}

fn parse_default_nonce(name: &str) -> Result<DefaultNonce, String> {
    DefaultNonce::parse(name).ok_or_else(|| "expected `text` or `zero`".to_owned())
}

/// Decode hex without echoing the digits (they may be a nonce).
fn decode_hex(flag: &str, text: &str) -> Result<Vec<u8>> {
    hex::decode(text).map_err(|e| match e {
        hex::FromHexError::OddLength => anyhow!("{flag}: odd number of hex digits"),
        hex::FromHexError::InvalidHexCharacter { index, .. } => {
            anyhow!("{flag}: character {} is not a hex digit", index + 1)
        }
        hex::FromHexError::InvalidStringLength => anyhow!("{flag}: invalid length"),
    })
}

/// `json`: --json was given. `decode` and `verify` print JSON anyway;
/// `build` then prints JSON instead of the raw package.
pub fn run(command: Pkg0Command, json: bool) -> Result<ExitCode> {
    match command {
        Pkg0Command::Build(args) => build(&args, json),
        Pkg0Command::Decode(args) => decode(&args),
        Pkg0Command::Verify(args) => verify_cmd(&args, json),
    }
}

fn build(args: &BuildArgs, json_output: bool) -> Result<ExitCode> {
    let nonce = match (&args.nonce.nonce_hex, args.nonce.default_nonce) {
        (Some(text), _) => decode_hex("--nonce-hex", text)?,
        (None, Some(reading)) => reading.bytes().to_vec(),
        (None, None) => anyhow::bail!("give --nonce-hex or --default-nonce"),
    };
    let notification = Notification {
        version: args.version,
        ui_mode: UiMode::from_bits(args.ui_mode),
        initiator: Initiator::from_bit(args.initiator),
        session_id: args.session_id,
        server_id: args.server_id.clone(),
        vendor: decode_hex("--vendor-hex", &args.vendor_hex)?,
    };
    let password = args.password.read(json_output)?;
    let package = notification
        .sign(&password, &nonce)
        .context("cannot build Package #0")?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &package)
                .with_context(|| format!("cannot write {}", path.display()))?;
            if json_output {
                let output = json!(path.display().to_string());
                println!(
                    "{}",
                    json::object(&[("length", json!(package.len())), ("output", output)])
                );
            }
        }
        // Public fields and a digest, no secret: fine on stdout.
        None if json_output => {
            let b64 = json!(dmnonce_control::b64_encode(&package));
            println!(
                "{}",
                json::object(&[("length", json!(package.len())), ("package0_b64", b64)])
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&package)
                .and_then(|()| out.flush())
                .context("cannot write to stdout")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_package(input: Option<&std::path::Path>) -> Result<Package0> {
    let bytes = input::read_all(input, "the Package #0")?;
    Ok(Package0::decode(&bytes)?)
}

fn decode(args: &DecodeArgs) -> Result<ExitCode> {
    let pkg = read_package(args.input.as_deref())?;
    let n = &pkg.notification;
    println!(
        "{}",
        json::object(&[
            ("version", json!(n.version)),
            ("ui_mode", json!(n.ui_mode.bits())),
            ("initiator", json!(n.initiator.bit())),
            ("session_id", json!(n.session_id)),
            ("server_id", json!(n.server_id)),
            ("vendor_hex", json!(hex::encode(&n.vendor))),
            ("digest_hex", json!(hex::encode(pkg.digest))),
        ])
    );
    Ok(ExitCode::SUCCESS)
}

fn verify_cmd(args: &VerifyArgs, json_output: bool) -> Result<ExitCode> {
    if args.password.uses_stdin() && input::is_stdin(args.input.as_deref()) {
        anyhow::bail!("--password-file - and the Package #0 cannot both come from stdin");
    }
    let nonce = decode_hex("--nonce-hex", &args.nonce_hex)?;
    let password = args.password.read(json_output)?;
    let pkg = read_package(args.input.as_deref())?;
    let verdict = verify(&pkg, &password, &[&nonce], Fallback::default());
    println!(
        "{}",
        json::object(&[
            ("verdict", json!(verdict.label())),
            ("server_id", json!(pkg.notification.server_id)),
            ("session_id", json!(pkg.notification.session_id)),
        ])
    );
    Ok(if verdict.is_accepted() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(failure::EXIT_NEGATIVE)
    })
}
