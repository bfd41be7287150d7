//! Readiness for a `Type=notify` service (sd_notify(3)): a datagram of
//! `KEY=value` lines to the Unix socket named in `NOTIFY_SOCKET`, sent
//! once the control socket is served, so units ordered after dmnonced
//! start when it answers rather than when it was forked. The protocol is a
//! single `sendto`, so no library is linked for it.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixDatagram;

/// Sends `state` (e.g. `"READY=1"`) to the service manager. `Ok(false)`:
/// not started by one (no `NOTIFY_SOCKET`), nothing sent.
pub fn notify(state: &str) -> io::Result<bool> {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    let socket = UnixDatagram::unbound()?;
    // `@name`: a socket in the abstract namespace (Linux only).
    if let Some(name) = target.as_bytes().strip_prefix(b"@") {
        send_abstract(&socket, name, state)?;
    } else {
        socket.send_to(state.as_bytes(), &target)?;
    }
    Ok(true)
}

#[cfg(target_os = "linux")]
fn send_abstract(socket: &UnixDatagram, name: &[u8], state: &str) -> io::Result<()> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    socket.send_to_addr(state.as_bytes(), &addr).map(drop)
}

#[cfg(not(target_os = "linux"))]
fn send_abstract(_: &UnixDatagram, _: &[u8], _: &str) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract NOTIFY_SOCKET on this system",
    ))
}
