//! `libdmnonce_jni`: JNI bindings of the dmnonced control protocol for Java
//! DM clients (`android/java/org/dmnonce`).
//!
//! A thin front door over [`dmnonce_control::Client`], like the C ABI in
//! `rust/client`: no protocol logic lives here. What this crate adds is the
//! JNI boundary discipline:
//!
//! - every native method is declared with `native!`, so its body runs
//!   inside `boundary::run`, which catches panics (thrown as
//!   `java.lang.AssertionError`) and turns every error into the matching
//!   `org.dmnonce.*Exception` (module `exceptions`). Catching needs
//!   `panic = "unwind"` (the workspace profiles); AOSP's Soong forces
//!   `panic=abort` on device code, where a panic aborts the process instead
//!   (`android/README.md`);
//! - native handles are `jlong`s to a `Box` that Java frees exactly once
//!   (module `handle`); the Java classes guard them so that a closed handle is
//!   never passed back in;
//! - the event thread (module `events`) is a Rust thread attached to the JVM as a
//!   daemon thread, with a local frame per event, detached before it ends.
//!
//! Java never sees an AuthSecret or a stored nonce: the control protocol does
//! not carry them out of the daemon. The one exception is the `Chal` fragment
//! of `issue_chal`, which the caller must put on the wire anyway.

#[macro_use]
mod boundary;
mod client_natives;
mod events;
mod exceptions;
mod handle;
mod values;

#[cfg(feature = "testing")]
mod testing;
