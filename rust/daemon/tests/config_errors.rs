//! A bad configuration value stops the real `dmnonced` at start, with a
//! message naming the key and the file (docs/configuration.md), before it
//! creates its state directory: no value falls back silently to a default.

use std::process::{Command, Stdio};

#[test]
fn bad_session_id_format_stops_the_daemon_naming_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dmnonced.toml");
    std::fs::write(
        &config,
        "[ofono]\nenabled = false\n[device]\nsession_id_format = \"hexadecimal\"\n",
    )
    .unwrap();
    let state = dir.path().join("state");
    let out = Command::new(env!("CARGO_BIN_EXE_dmnonced"))
        .arg("--config")
        .arg(&config)
        .arg("--state-dir")
        .arg(&state)
        .arg("--socket")
        .arg(dir.path().join("d.sock"))
        .stdin(Stdio::null())
        .output()
        .expect("run dmnonced");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started anyway: {stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("device.session_id_format"), "{stderr}");
    assert!(stderr.contains("\"hexadecimal\""), "{stderr}");
    assert!(stderr.contains(&config.display().to_string()), "{stderr}");
    assert!(!state.exists(), "the state directory was created");
}
