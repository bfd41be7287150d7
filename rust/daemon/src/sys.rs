//! The few OS calls std does not offer: peer credentials, the uid, signal
//! masks, adopting an inherited listening socket, and the state directory's
//! lock. Every `unsafe` block of the daemon is here.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};

/// The daemon's real uid.
pub fn own_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// The daemon's effective uid: the owner of the files it creates, so the
/// one the state directory must belong to.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Takes an exclusive `flock(2)` on `file` without waiting: `Ok(false)`
/// when another open file description holds it. flock and not a POSIX
/// record lock: a record lock belongs to the process and is silently
/// dropped when *any* descriptor of the file is closed (a library opening
/// the lock file would end it); a flock belongs to this descriptor alone
/// and ends when it is closed, i.e. at the latest when the process exits,
/// however it exits.
pub fn try_lock_exclusive(file: &std::fs::File) -> io::Result<bool> {
    loop {
        // SAFETY: flock on a descriptor `file` owns for the whole call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(e),
        }
    }
}

/// The uid of the process at the other end of a Unix stream socket
/// (`SO_PEERCRED`: the credentials at connect time, not forgeable).
pub fn peer_uid(stream: &UnixStream) -> io::Result<u32> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for writes of the sizes given; the
    // fd is owned by `stream` for the duration of the call.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(cred.uid)
}

/// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and the threads
/// it starts afterwards), so that only [`wait_for_stop_signal`] sees them.
pub fn block_stop_signals() -> io::Result<()> {
    let set = stop_set();
    // SAFETY: `set` is an initialised sigset_t; a null old-set is allowed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

/// Waits until SIGTERM, SIGINT or SIGHUP arrives; returns its number.
pub fn wait_for_stop_signal() -> i32 {
    let set = stop_set();
    loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: `set` is initialised, `sig` is valid for writes.
        let rc = unsafe { libc::sigwait(&set, &mut sig) };
        if rc == 0 {
            return sig;
        }
    }
}

fn stop_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the zeroed set; sigaddset with valid
    // signal numbers cannot fail.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGHUP);
        set
    }
}

/// Adopts an inherited fd as a listening Unix stream socket, after checking
/// that it is one (a wrong fd from a misconfigured unit is an error, not UB
/// later).
pub fn adopt_listener(fd: RawFd) -> io::Result<UnixListener> {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `ty`/`len` are valid for writes; an invalid fd gives EBADF.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut ty as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    if ty != libc::SOCK_STREAM {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("inherited fd {fd} is not a stream socket"),
        ));
    }
    // SAFETY: fd is an open stream socket handed to this process by its
    // supervisor (systemd, Android init) for us alone; we take ownership.
    let listener = unsafe { UnixListener::from_raw_fd(fd) };
    // The supervisor may hand it over non-blocking; accept() here blocks.
    listener.set_nonblocking(false)?;
    set_cloexec(fd);
    Ok(listener)
}

fn set_cloexec(fd: RawFd) {
    // SAFETY: F_GETFD/F_SETFD on an fd we own; failure is harmless.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
        }
    }
}

/// Waits until one of `fds` is readable; returns the readable ones.
pub fn poll_readable(fds: &[RawFd]) -> io::Result<Vec<RawFd>> {
    poll_readable_within(fds, None)
}

/// [`poll_readable`] for at most `timeout` (`None`: no limit); an empty
/// list when it passed. Hang-ups and errors count as readable (a read then
/// says which).
pub fn poll_readable_within(
    fds: &[RawFd],
    timeout: Option<std::time::Duration>,
) -> io::Result<Vec<RawFd>> {
    let ms = timeout.map_or(-1, |t| {
        libc::c_int::try_from(t.as_millis().max(1)).unwrap_or(libc::c_int::MAX)
    });
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: `pfds` is a valid array of `len` pollfd structs.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
        if rc >= 0 {
            return Ok(pfds
                .iter()
                .filter(|p| p.revents != 0)
                .map(|p| p.fd)
                .collect());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Current process id.
pub fn pid() -> u32 {
    std::process::id()
}

/// Sets the umask, returning the previous one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask has no preconditions.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// Unmaps from this process the pages of the program's read-only segments
/// (its code, read-only data, and the relocations the loader read once);
/// returns how many bytes it asked the kernel to unmap. Called when the
/// daemon is ready and when a resync session ends (feature
/// `release-start-pages`, docs/performance.md "On the device"): most of
/// the pages it has mapped by then were touched only to start (opening and
/// checking two SQLCipher stores runs nearly all of SQLite's code once) or
/// for the session (the HTTP client), and with the kernel's fault-around
/// each touched page mapped its neighbours too. They are clean
/// pages of the program file, so `MADV_DONTNEED` only drops this process's
/// mapping of them: they stay in the page cache, unmapped, where the kernel
/// reclaims them like any other clean cache when memory runs short; a page
/// used again faults back from the cache (or the file) with the same
/// contents. This is sound only
/// because these segments are never written: they are mapped read-only
/// (no `PF_W`), and the program has no text relocations (the device build
/// refuses a `dmnonced` with `TEXTREL`); RELRO lies in the writable
/// segment, whose relocated pages are private copies that `MADV_DONTNEED`
/// would throw away, so it is never touched here. (A debugger's software
/// breakpoint in the program's code would be dropped the same way.)
#[cfg(all(feature = "release-start-pages", target_os = "linux"))]
pub fn release_program_pages() -> io::Result<usize> {
    // The first object dl_iterate_phdr reports is the program itself
    // (dl_iterate_phdr(3)).
    unsafe extern "C" fn program_segments(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: `data` is the Vec passed below, alive for the whole
        // dl_iterate_phdr call and not otherwise borrowed during it; `info`
        // and its program header table are valid during the callback.
        let (ranges, info) = unsafe { (&mut *data.cast::<Vec<(usize, usize)>>(), &*info) };
        // SAFETY: as above: dlpi_phnum entries at dlpi_phdr.
        let phdrs = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum.into()) };
        for p in phdrs {
            if p.p_type == libc::PT_LOAD && p.p_flags & libc::PF_W == 0 {
                let start = (info.dlpi_addr as usize).wrapping_add(p.p_vaddr as usize);
                ranges.push((start, start.wrapping_add(p.p_memsz as usize)));
            }
        }
        1
    }
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    // SAFETY: the callback only reads `info` and pushes to `ranges`.
    unsafe {
        libc::dl_iterate_phdr(
            Some(program_segments),
            (&mut ranges as *mut Vec<(usize, usize)>).cast(),
        )
    };
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
        .map_err(|_| io::Error::other("no page size"))?;
    let mut released = 0;
    for (start, end) in ranges {
        // Whole pages inside the segment only: a page shared with a
        // neighbouring segment (which could be a written one) is kept.
        let (start, end) = (start.next_multiple_of(page), end / page * page);
        if end <= start {
            continue;
        }
        // SAFETY: [start, end) lies in a read-only, never-written mapping
        // of the program file (above); dropping its pages cannot change
        // what any reader sees, only costs a fault on the next access.
        let rc =
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        released += end - start;
    }
    Ok(released)
}

/// Makes glibc's malloc keep one arena for every thread (feature
/// `one-malloc-arena`; call before any thread starts). By default each
/// thread that allocates while another holds the arena gets an arena of
/// its own, and the pages it touched stay with the arena after the thread
/// ends: the daemon runs each control connection and each resync session
/// on a short-lived thread, so after 10 sessions and 1,000 pushes it kept
/// about 1 MiB of such pages (docs/performance.md, "On the device"). Its
/// allocations are small and brief, so the one lock they then share costs
/// nothing that shows, and the free pages at the top of the one heap go
/// back to the kernel as they free.
#[cfg(all(feature = "one-malloc-arena", target_os = "linux", target_env = "gnu"))]
pub fn one_malloc_arena() -> io::Result<()> {
    // SAFETY: mallopt only sets a tunable of the allocator.
    if unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) } == 1 {
        Ok(())
    } else {
        Err(io::Error::other("mallopt(M_ARENA_MAX) refused"))
    }
}

#[cfg(all(test, feature = "release-start-pages", target_os = "linux"))]
mod tests {
    /// Read-only data of the test program, read through `black_box` so
    /// that the sums are computed from its pages, not at compile time.
    static TABLE: [u8; 3 * 4096] = {
        let mut t = [0u8; 3 * 4096];
        let mut i = 0;
        while i < t.len() {
            t[i] = (i * 7 % 251) as u8;
            i += 1;
        }
        t
    };

    fn sum() -> u64 {
        std::hint::black_box(&TABLE)
            .iter()
            .map(|&b| u64::from(b))
            .sum()
    }

    #[test]
    fn released_program_pages_fault_back_unchanged() {
        let before = sum();
        let released = super::release_program_pages().expect("madvise");
        assert!(released > 0, "no read-only segment found");
        // The code running now and the table were unmapped: both come back.
        assert_eq!(sum(), before);
        assert_eq!(
            super::release_program_pages().expect("madvise again"),
            released
        );
    }
}
