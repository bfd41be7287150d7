//! `dmnoncectl pkg0` end to end: the built binary, checked against Python's
//! hashlib as an independent implementation of the digest, and the
//! build | verify round trip for every verdict and exit status.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dmnoncectl");

/// Run dmnoncectl with `args`, feeding `stdin`.
fn ctl(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dmnoncectl runs");
    // A command that does not read stdin may exit first: ignore EPIPE.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {out:?}"))
}

fn stderr_line(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        text.lines().count(),
        1,
        "one stderr line expected: {text:?}"
    );
    text
}

/// Python's hashlib/base64: the digest of docs/package0.md, from the raw message
/// (server id taken from the length byte), for the given password and nonce.
const PY_DIGEST: &str = r#"
import base64, hashlib, sys
pkg = open(sys.argv[1], "rb").read()
password = sys.argv[2].encode()
nonce = bytes.fromhex(sys.argv[3])
trigger = pkg[16:]
server_id = trigger[8:8 + trigger[7]]
h = lambda b: hashlib.md5(b).digest()
b1 = base64.b64encode(h(server_id + b":" + password))
b2 = base64.b64encode(h(trigger))
print(h(b1 + b":" + nonce + b":" + b2).hex())
"#;

/// Python builds a whole Package #0 itself: version 11, ui-mode 2,
/// initiator 0, the given session id and server id, no vendor data.
const PY_BUILD: &str = r#"
import base64, hashlib, struct, sys
out, server_id, password, nonce, session = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode(), bytes.fromhex(sys.argv[4]), int(sys.argv[5])
word = (11 << 54) | (2 << 52) | (session << 8) | len(server_id)
trigger = struct.pack(">Q", word) + server_id
h = lambda b: hashlib.md5(b).digest()
b1 = base64.b64encode(h(server_id + b":" + password))
b2 = base64.b64encode(h(trigger))
open(out, "wb").write(h(b1 + b":" + nonce + b":" + b2) + trigger)
"#;

fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 is installed (the independent digest peer)");
    assert!(out.status.success(), "python3 failed: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn build_file(dir: &Path, name: &str, args: &[&str]) -> String {
    let path = dir.join(name).to_str().unwrap().to_owned();
    let mut full = vec!["pkg0", "build", "-o", &path];
    full.extend_from_slice(args);
    let out = ctl(&full, b"");
    assert!(out.status.success(), "build failed: {out:?}");
    assert!(out.stdout.is_empty());
    path
}

fn verify_file(path: &str, password: &str, nonce_hex: &str) -> Output {
    ctl(
        &[
            "pkg0",
            "verify",
            "--password",
            password,
            "--nonce-hex",
            nonce_hex,
            path,
        ],
        b"",
    )
}

#[test]
fn python_hashlib_agrees_with_build_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &str); 3] = [
        ("stored", &["--nonce-hex", "0badc0de00"], "0badc0de00"),
        ("text", &["--default-nonce", "text"], "30783030303030303030"),
        ("zero", &["--default-nonce", "zero"], "00000000"),
    ];
    for (name, nonce_args, nonce_hex) in cases {
        let mut args = vec![
            "--server-id",
            "py.example.org",
            "--password",
            "s3cr:et",
            "--session-id",
            "4660",
            "--ui-mode",
            "3",
            "--vendor-hex",
            "00ff",
        ];
        args.extend_from_slice(nonce_args);
        let path = build_file(dir.path(), name, &args);
        let bytes = std::fs::read(&path).unwrap();
        let digest = python(PY_DIGEST, &[&path, "s3cr:et", nonce_hex]);
        assert_eq!(
            digest,
            hex_of(&bytes[..16]),
            "{name}: python disagrees with build"
        );
        let decoded = stdout_json(&ctl(&["pkg0", "decode", &path], b""));
        assert_eq!(decoded["digest_hex"], digest.as_str());
    }

    // Python-built messages, verified by dmnoncectl, one per verdict.
    let verdicts = [
        ("aabbccdd", "stored-nonce", 0),
        ("30783030303030303030", "default-nonce-text", 0),
        ("00000000", "default-nonce-zero", 0),
        ("11223344", "rejected", 1),
    ];
    for (i, (signing_nonce, verdict, code)) in verdicts.into_iter().enumerate() {
        let path = dir
            .path()
            .join(format!("py{i}"))
            .to_str()
            .unwrap()
            .to_owned();
        python(
            PY_BUILD,
            &[&path, "peer.example", "pw", signing_nonce, "43981"],
        );
        let out = verify_file(&path, "pw", "aabbccdd");
        assert_eq!(out.status.code(), Some(code), "{verdict}: {out:?}");
        let json = stdout_json(&out);
        assert_eq!(json["verdict"], verdict);
        assert_eq!(json["server_id"], "peer.example");
        assert_eq!(json["session_id"], 43981);
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `build | verify` through pipes, for every verdict.
#[test]
fn build_pipe_verify_round_trips_every_verdict() {
    let build = |nonce: &[&str]| {
        let mut args = vec![
            "pkg0",
            "build",
            "--server-id",
            "rt.example",
            "--password",
            "pw",
            "--session-id",
            "7",
        ];
        args.extend_from_slice(nonce);
        let out = ctl(&args, b"");
        assert!(out.status.success(), "{out:?}");
        out.stdout
    };
    let verify = |pkg: &[u8], password: &str| {
        ctl(
            &[
                "pkg0",
                "verify",
                "--password",
                password,
                "--nonce-hex",
                "c0ffee",
                "-",
            ],
            pkg,
        )
    };
    let cases = [
        (build(&["--nonce-hex", "c0ffee"]), "pw", "stored-nonce", 0),
        (
            build(&["--default-nonce", "text"]),
            "pw",
            "default-nonce-text",
            0,
        ),
        (
            build(&["--default-nonce", "zero"]),
            "pw",
            "default-nonce-zero",
            0,
        ),
        (build(&["--nonce-hex", "c0ffef"]), "pw", "rejected", 1),
        (build(&["--nonce-hex", "c0ffee"]), "wrong", "rejected", 1),
    ];
    for (pkg, password, verdict, code) in cases {
        let out = verify(&pkg, password);
        assert_eq!(out.status.code(), Some(code), "{verdict}: {out:?}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!(
                "{{\"verdict\":\"{verdict}\",\"server_id\":\"rt.example\",\"session_id\":7}}\n"
            )
        );
        assert!(out.stderr.is_empty());
    }
}

#[test]
fn decode_prints_every_field_in_order() {
    let out = ctl(
        &[
            "pkg0",
            "build",
            "--server-id",
            "com.example.dm",
            "--password",
            "x",
            "--nonce-hex",
            "",
            "--session-id",
            "4660",
            "--ui-mode",
            "1",
            "--initiator",
            "1",
            "--version",
            "12",
            "--vendor-hex",
            "DEAD",
        ],
        b"",
    );
    assert!(out.status.success(), "{out:?}");
    let decoded = ctl(&["pkg0", "decode"], &out.stdout);
    assert_eq!(decoded.status.code(), Some(0));
    let text = String::from_utf8(decoded.stdout).unwrap();
    let prefix = r#"{"version":12,"ui_mode":1,"initiator":1,"session_id":4660,"server_id":"com.example.dm","vendor_hex":"dead","digest_hex":""#;
    assert!(text.starts_with(prefix), "{text}");
    assert!(text.ends_with("\"}\n"));
    assert_eq!(text.len(), prefix.len() + 32 + 3);
}

#[test]
fn password_file_and_stdin_trim_one_newline() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = build_file(
        dir.path(),
        "p",
        &[
            "--server-id",
            "f.example",
            "--password",
            "pw\n",
            "--session-id",
            "1",
            "--nonce-hex",
            "01",
        ],
    );
    // The file holds "pw\n\n": one newline is trimmed, the other is password.
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, b"pw\n\n").unwrap();
    let pw_path = pw_file.to_str().unwrap();
    let out = ctl(
        &[
            "pkg0",
            "verify",
            "--password-file",
            pw_path,
            "--nonce-hex",
            "01",
            &pkg,
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = ctl(
        &[
            "pkg0",
            "verify",
            "--password-file",
            "-",
            "--nonce-hex",
            "01",
            &pkg,
        ],
        b"pw\n\r\n",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = ctl(
        &[
            "pkg0",
            "verify",
            "--password-file",
            "-",
            "--nonce-hex",
            "01",
            &pkg,
        ],
        b"pw\n",
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the bare password is not the one signed with"
    );
    // build with --password-file gives the same bytes as --password.
    let again = build_file(
        dir.path(),
        "q",
        &[
            "--server-id",
            "f.example",
            "--password-file",
            pw_path,
            "--session-id",
            "1",
            "--nonce-hex",
            "01",
        ],
    );
    assert_eq!(std::fs::read(&pkg).unwrap(), std::fs::read(again).unwrap());
    // Both secrets and message on stdin cannot work: a clear error.
    let out = ctl(
        &[
            "pkg0",
            "verify",
            "--password-file",
            "-",
            "--nonce-hex",
            "01",
        ],
        b"pw\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_line(&out).contains("stdin"));
}

/// Malformed Package #0 input: exit 2, one stderr line naming the problem,
/// nothing on stdout — for decode and verify alike.
#[test]
fn malformed_input_exits_2_with_one_line_naming_the_problem() {
    let header = |word: u64, rest: &[u8]| {
        let mut b = vec![0u8; 16];
        b.extend_from_slice(&word.to_be_bytes());
        b.extend_from_slice(rest);
        b
    };
    let v11 = 11u64 << 54;
    let cases: [(Vec<u8>, &str); 6] = [
        (vec![0; 10], "too short: 10 bytes"),
        (Vec::new(), "too short: 0 bytes"),
        (header(v11, b"abc"), "server identifier is empty"),
        (header(v11 | 9, b"abc"), "length 9 runs past the end"),
        (header((13 << 54) | 1, b"a"), "version 13 is not supported"),
        (header(v11 | 2, b"\xc3\x28"), "not valid UTF-8"),
    ];
    for (bytes, problem) in cases {
        for args in [
            &["pkg0", "decode", "-"][..],
            &["pkg0", "verify", "--password", "pw", "--nonce-hex", "00"],
        ] {
            let out = ctl(args, &bytes);
            assert_eq!(out.status.code(), Some(2), "{problem}: {out:?}");
            assert!(out.stdout.is_empty());
            let line = stderr_line(&out);
            assert!(line.contains(problem), "{line:?} lacks {problem:?}");
        }
    }
}

#[test]
fn bad_arguments_exit_2_without_echoing_secrets() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["pkg0", "verify", "--password", "pw", "--nonce-hex", "abcg"],
            "not a hex digit",
        ),
        (
            &["pkg0", "verify", "--password", "pw", "--nonce-hex", "abc"],
            "odd number",
        ),
        (
            &[
                "pkg0",
                "build",
                "--server-id",
                "x",
                "--password",
                "pw",
                "--session-id",
                "1",
            ],
            "--nonce-hex",
        ),
        (
            &[
                "pkg0",
                "build",
                "--server-id",
                "x",
                "--password",
                "pw",
                "--session-id",
                "70000",
                "--nonce-hex",
                "00",
            ],
            "70000",
        ),
        (
            &[
                "pkg0",
                "build",
                "--server-id",
                "",
                "--password",
                "pw",
                "--session-id",
                "1",
                "--nonce-hex",
                "00",
            ],
            "server identifier is empty",
        ),
        (
            &[
                "pkg0",
                "verify",
                "--password-file",
                "/nonexistent/pw",
                "--nonce-hex",
                "00",
            ],
            "password file",
        ),
    ];
    let long_id = "x".repeat(256);
    let more: [(&[&str], &str); 2] = [
        (
            &[
                "pkg0",
                "build",
                "--server-id",
                &long_id,
                "--password",
                "pw",
                "--session-id",
                "1",
                "--nonce-hex",
                "00",
            ],
            "256 bytes",
        ),
        (
            &[
                "pkg0",
                "build",
                "--server-id",
                "x",
                "--password",
                "pw",
                "--session-id",
                "1",
                "--nonce-hex",
                "00",
                "--version",
                "13",
            ],
            "13",
        ),
    ];
    for (args, problem) in cases.into_iter().chain(more) {
        let out = ctl(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let line = stderr_line(&out);
        assert!(line.contains(problem), "{line:?} lacks {problem:?}");
        assert!(
            !line.contains("pw\"") && !line.contains("abcg"),
            "echoed a secret: {line}"
        );
    }
}
