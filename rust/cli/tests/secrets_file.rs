//! `dmnoncectl account add --secrets-file`: a secrets file that does not
//! parse is refused with a message that names what is wrong and never
//! quotes what the file holds (issue 17). The file is read before the
//! daemon is contacted, so no daemon is needed.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dmnoncectl");

fn account_add(secrets: &[u8]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .arg("--socket")
        .arg(dir.path().join("no-daemon.sock"))
        .args([
            "account",
            "add",
            "--server-id",
            "dm.example.net",
            "--server-url",
            "https://dm.example.net/dm",
            "--client-name",
            "device-1",
            "--secrets-file",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dmnoncectl runs");
    let _ = child.stdin.take().unwrap().write_all(secrets);
    child.wait_with_output().unwrap()
}

#[test]
fn secrets_file_errors_never_quote_the_file() {
    // (file, what the message must still say)
    let cases: [(&str, &str); 7] = [
        // A number where a string belongs (the report of issue 17).
        (
            r#"{"server_password": 73194620, "client_password": "Cli-Secret-1"}"#,
            "invalid type: integer <value>, expected a string",
        ),
        (
            r#"{"server_password": "Srv-Secret-0", "client_password": 73194620}"#,
            "invalid type: integer <value>",
        ),
        // A secret typed where a key belongs.
        (
            r#"{"server_password": "Srv-Secret-0", "Cli-Secret-1": "x"}"#,
            "unknown field <value>, expected one of `server_password`",
        ),
        // A key with a backtick, to end a quoted span early.
        (
            r#"{"server_password": "p", "client_password": "q", "Cli`Secret-1": 1}"#,
            "unknown field <value>",
        ),
        // Booleans, arrays of secrets.
        (
            r#"{"server_password": true, "client_password": "Cli-Secret-1"}"#,
            "invalid type: boolean <value>",
        ),
        (
            r#"{"server_password": ["Srv-Secret-0"], "client_password": "q"}"#,
            "invalid type: sequence, expected a string",
        ),
        // Our field names stay.
        (
            r#"{"server_password": "Srv-Secret-0"}"#,
            "missing field `client_password`",
        ),
    ];
    for (file, says) in cases {
        let out = account_add(file.as_bytes());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains("secrets file: "), "{file}: {err}");
        assert!(err.contains(says), "{file}: {err}");
        assert!(out.stdout.is_empty());
        for value in [
            "73194620",
            "Srv-Secret-0",
            "Cli-Secret-1",
            "Secret-1",
            "true",
        ] {
            assert!(!err.contains(value), "{file} echoed {value}: {err}");
        }
    }
}
