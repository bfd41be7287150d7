//! Every path the repository's files name is inside the repository
//! (issue 15): documents, comments, tests and scripts that point at a
//! design file or reference kept elsewhere cannot be followed by a reader of
//! the repository alone. Checks every text file git tracks.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Names of files and directories that lived outside the repository. Built
/// from pieces so that this file does not name them itself.
fn outside() -> Vec<String> {
    let shared = ["..", "/shared"].concat();
    vec![
        format!("{shared}/"),
        ["/work", "/shared"].concat(),
        ["shared/", "reference/"].concat(),
        ["shared/", "vectors/"].concat(),
        ["reference/", "formats.md"].concat(),
        ["reference/", "nonce-resync"].concat(),
        ["DESIGN", ".md"].concat(),
        ["STYLE", ".md"].concat(),
    ]
}

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn no_file_points_outside_the_repository() {
    let root = repository_root();
    let listed = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output();
    let Some(listed) = listed.ok().filter(|o| o.status.success()) else {
        eprintln!("skipped: git cannot list the repository's files here");
        return;
    };
    let patterns = outside();
    let mut found = Vec::new();
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        // Binary and deleted files hold no reference a reader follows.
        let Ok(text) = std::fs::read_to_string(root.join(&name)) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if let Some(p) = patterns.iter().find(|p| line.contains(p.as_str())) {
                found.push(format!("{name}:{}: {p}", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "references outside the repository (put the facts into docs/design.md \
         or the data under the repository, and point there):\n{}",
        found.join("\n")
    );
}
