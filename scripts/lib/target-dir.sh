# Sourced: where cargo writes build output. Scripts ask cargo rather than
# assume ./target, so CARGO_TARGET_DIR and a .cargo/config.toml
# `build.target-dir` are honoured. Run from the repository.

# cargo's target directory (absolute).
cargo_target_dir() {
    cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}
