//! Thin, safe wrappers over the few system calls dynhost needs that the standard library lacks.
//!
//! This is the only module of dynhost allowed to contain `unsafe`. Every wrapper is small, checks
//! the call's result and returns `std::io::Result`; every `unsafe` block says why it is sound.
//! Parsing what the kernel sends is left to safe code elsewhere (`crate::netlink`).

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

/// `size_of::<T>()` as the `socklen_t` the socket calls take.
fn socklen_of<T>() -> libc::socklen_t {
    // The types passed here are small kernel structs (`sockaddr_nl`, `timeval`): no truncation.
    size_of::<T>() as libc::socklen_t
}

/// A netlink address with port 0 and no multicast groups: as a destination, the kernel; as a
/// local address to bind, "let the kernel pick the port".
fn kernel_address() -> libc::sockaddr_nl {
    // SAFETY: `sockaddr_nl` is a plain C struct of integers (one of them private padding), for
    // which all-zero bytes are a valid value.
    let mut address: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    address.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    address
}

/// The result of a system call that returns a negative number and sets `errno` when it fails.
fn checked(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(result)
}

/// Runs a system call again while it fails with `EINTR` (a signal arrived before it finished).
fn retry_interrupted<T>(mut call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// A netlink socket, closed when dropped.
#[derive(Debug)]
pub struct NetlinkSocket {
    fd: OwnedFd,
}

impl NetlinkSocket {
    /// A `NETLINK_ROUTE` socket bound to a port the kernel picks, subscribed to nothing: for
    /// requests and their replies (dumps of addresses and routes).
    pub fn open_route() -> io::Result<NetlinkSocket> {
        Self::open_bound(libc::NETLINK_ROUTE, kernel_address())
    }

    /// A `NETLINK_ROUTE` socket that receives the kernel's notifications for the multicast
    /// `groups` (`RTMGRP_*` bits): how the daemon hears of address changes without polling.
    pub fn open_route_subscribed(groups: u32) -> io::Result<NetlinkSocket> {
        let mut local = kernel_address();
        local.nl_groups = groups;
        Self::open_bound(libc::NETLINK_ROUTE, local)
    }

    /// A socket of `protocol` bound to `local`. `local.nl_pid` 0 lets the kernel pick the port;
    /// `local.nl_groups` is where a later subscriber names its multicast groups.
    fn open_bound(protocol: libc::c_int, local: libc::sockaddr_nl) -> io::Result<NetlinkSocket> {
        // SAFETY: socket() takes no pointers; its result is checked before use.
        let fd = checked(unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol,
            )
        })?;
        // SAFETY: `fd` was just returned by a successful socket() and is owned by nothing else,
        // so `OwnedFd` may take it over and close it exactly once.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: `local` is a valid `sockaddr_nl` living across the call, and the length passed
        // is its size.
        checked(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const local).cast::<libc::sockaddr>(),
                socklen_of::<libc::sockaddr_nl>(),
            )
        })?;
        Ok(NetlinkSocket { fd })
    }

    /// The port the kernel bound the socket to: replies to this socket's requests carry it as
    /// their `nlmsg_pid`.
    pub fn port(&self) -> io::Result<u32> {
        let mut local = kernel_address();
        let mut length = socklen_of::<libc::sockaddr_nl>();
        // SAFETY: `local` and `length` are valid and writable for the call, and `length` holds
        // the size of `local`, so the kernel writes no more than that.
        checked(unsafe {
            libc::getsockname(
                self.fd.as_raw_fd(),
                (&raw mut local).cast::<libc::sockaddr>(),
                &raw mut length,
            )
        })?;
        if length != socklen_of::<libc::sockaddr_nl>()
            || local.nl_family != libc::AF_NETLINK as libc::sa_family_t
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "getsockname did not return a netlink address",
            ));
        }
        Ok(local.nl_pid)
    }

    /// Makes `receive` fail with `io::ErrorKind::WouldBlock` (or `TimedOut`) when nothing
    /// arrives within `timeout`, so a wedged kernel reply can never hang dynhost. A zero timeout
    /// is raised to one microsecond, since zero would mean "wait forever".
    pub fn set_receive_timeout(&self, timeout: Duration) -> io::Result<()> {
        let mut value = libc::timeval {
            // The field types are not named: libc deprecates `time_t` and `suseconds_t` on musl
            // while it moves 32-bit targets to 64-bit time. A timeout beyond 68 years is capped.
            tv_sec: timeout.as_secs().try_into().unwrap_or(i32::MAX.into()),
            // Below 1 000 000: fits every `suseconds_t`.
            tv_usec: i32::try_from(timeout.subsec_micros()).unwrap_or(0).into(),
        };
        if value.tv_sec == 0 && value.tv_usec == 0 {
            value.tv_usec = 1;
        }
        // SAFETY: `value` is a valid `timeval` living across the call, and the length passed is
        // its size.
        checked(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const value).cast::<libc::c_void>(),
                socklen_of::<libc::timeval>(),
            )
        })?;
        Ok(())
    }

    /// Sends one datagram to the kernel.
    pub fn send(&self, message: &[u8]) -> io::Result<()> {
        let kernel = kernel_address();
        let sent = retry_interrupted(|| {
            // SAFETY: `message` is valid for reads of its length and `kernel` is a valid
            // `sockaddr_nl` of the length passed, both living across the call.
            let sent = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    message.as_ptr().cast::<libc::c_void>(),
                    message.len(),
                    0,
                    (&raw const kernel).cast::<libc::sockaddr>(),
                    socklen_of::<libc::sockaddr_nl>(),
                )
            };
            usize::try_from(sent).map_err(|_| io::Error::last_os_error())
        })?;
        if sent != message.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("sent {sent} of {} bytes to the kernel", message.len()),
            ));
        }
        Ok(())
    }

    /// Receives one datagram from the kernel into `buffer`, returning its length. A datagram
    /// larger than `buffer` is an error (its tail would be lost), and so is one sent by another
    /// process rather than by the kernel.
    pub fn receive(&self, buffer: &mut [u8]) -> io::Result<usize> {
        let mut sender = kernel_address();
        let mut sender_length = socklen_of::<libc::sockaddr_nl>();
        let length = retry_interrupted(|| {
            sender_length = socklen_of::<libc::sockaddr_nl>();
            // SAFETY: `buffer` is valid for writes of its length; `sender` and `sender_length`
            // are valid and writable, `sender_length` holding the size of `sender`. With
            // MSG_TRUNC the kernel still writes at most `buffer.len()` bytes, and returns the
            // datagram's real length.
            let received = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buffer.as_mut_ptr().cast::<libc::c_void>(),
                    buffer.len(),
                    libc::MSG_TRUNC,
                    (&raw mut sender).cast::<libc::sockaddr>(),
                    &raw mut sender_length,
                )
            };
            usize::try_from(received).map_err(|_| io::Error::last_os_error())
        })?;
        if length > buffer.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a netlink datagram of {length} bytes does not fit the {}-byte buffer",
                    buffer.len()
                ),
            ));
        }
        if sender_length != socklen_of::<libc::sockaddr_nl>() || sender.nl_pid != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a netlink datagram came from port {}, not from the kernel",
                    sender.nl_pid
                ),
            ));
        }
        Ok(length)
    }
}

impl AsFd for NetlinkSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Signals delivered through a file descriptor instead of handlers, so the daemon sees them in
/// its one wait and nothing runs at an arbitrary point of an exchange.
#[derive(Debug)]
pub struct SignalFd {
    fd: OwnedFd,
}

impl SignalFd {
    /// Blocks `signals` for this thread and the threads it starts afterwards, and opens a
    /// descriptor that reads them. Call it before starting any thread, or a thread that still
    /// has them unblocked would take the default action (death). Programs started later get a
    /// clean mask from the standard library.
    pub fn open(signals: &[libc::c_int]) -> io::Result<SignalFd> {
        // SAFETY: `sigset_t` is a plain C struct for which all-zero bytes are a valid value,
        // and sigemptyset initialises it anyway.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, writable `sigset_t` for each call.
        checked(unsafe { libc::sigemptyset(&raw mut set) })?;
        for &signal in signals {
            // SAFETY: as above; an invalid signal number is reported through the result.
            checked(unsafe { libc::sigaddset(&raw mut set, signal) })?;
        }
        // SAFETY: `set` is a valid `sigset_t`; the old mask is not asked for (null).
        let error =
            unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut()) };
        if error != 0 {
            return Err(io::Error::from_raw_os_error(error));
        }
        // SAFETY: -1 asks for a new descriptor; `set` is a valid `sigset_t` living across the
        // call; the result is checked before use.
        let fd = checked(unsafe {
            libc::signalfd(-1, &raw const set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK)
        })?;
        // SAFETY: `fd` was just returned by a successful signalfd() and is owned by nothing
        // else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(SignalFd { fd })
    }

    /// The next pending signal, or `None` when none is pending.
    pub fn take(&self) -> io::Result<Option<libc::c_int>> {
        // SAFETY: `signalfd_siginfo` is a plain C struct of integers: all-zero is valid.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let read = retry_interrupted(|| {
            // SAFETY: `info` is valid for writes of its size, the length passed.
            let read = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    (&raw mut info).cast::<libc::c_void>(),
                    size_of::<libc::signalfd_siginfo>(),
                )
            };
            usize::try_from(read).map_err(|_| io::Error::last_os_error())
        });
        match read {
            Ok(length) if length == size_of::<libc::signalfd_siginfo>() => {
                Ok(libc::c_int::try_from(info.ssi_signo).ok())
            }
            Ok(length) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a signalfd read gave {length} bytes"),
            )),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(error) => Err(error),
        }
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Waits until one of `fds` is readable or `timeout` has passed (`None`: no time limit), and
/// says which are readable. A signal interrupting the wait counts as "nothing readable": the
/// caller looks at its timers again.
pub fn wait_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    wait_for(fds, libc::POLLIN, timeout)
}

/// Waits until `fd` can be written to or `timeout` has passed, as [`wait_readable`] does.
pub fn wait_writable(fd: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<bool> {
    Ok(wait_for(&[fd], libc::POLLOUT, timeout)?[0])
}

/// Waits until one of `fds` has one of `events` (or an error or hang-up, which the next read
/// or write reports) or `timeout` has passed.
fn wait_for(
    fds: &[BorrowedFd<'_>],
    events: libc::c_short,
    timeout: Option<Duration>,
) -> io::Result<Vec<bool>> {
    let mut polled: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events,
            revents: 0,
        })
        .collect();
    // Rounded up, so a timer is never woken for a millisecond too early and spun on.
    let milliseconds = timeout.map_or(-1, |timeout| {
        let rounded = timeout.as_micros().div_ceil(1000);
        libc::c_int::try_from(rounded).unwrap_or(libc::c_int::MAX)
    });
    // SAFETY: `polled` is valid for reads and writes of its length, the count passed.
    let ready = unsafe {
        libc::poll(
            polled.as_mut_ptr(),
            polled.len() as libc::nfds_t,
            milliseconds,
        )
    };
    if ready < 0 {
        let error = io::Error::last_os_error();
        if error.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![false; fds.len()]);
        }
        return Err(error);
    }
    Ok(polled.iter().map(|fd| fd.revents != 0).collect())
}

/// A descriptor of a child process (a pidfd), readable once the process has exited: what lets
/// one `poll` wait for the exit and for output together, with no SIGCHLD handler and no sleep.
/// The process is not reaped by it.
#[derive(Debug)]
pub struct ProcessFd {
    fd: OwnedFd,
}

impl ProcessFd {
    /// Opens the descriptor of process `pid`, which must be an unreaped child of this process:
    /// until it is reaped its number cannot name another process. Needs Linux 5.3.
    pub fn open(pid: u32) -> io::Result<ProcessFd> {
        let pid =
            libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
        // SAFETY: pidfd_open takes a process id and flags, no pointers; its result is checked
        // before use.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        let fd = libc::c_int::try_from(fd).map_err(|_| io::Error::last_os_error())?;
        let fd = checked(fd)?;
        // SAFETY: `fd` was just returned by a successful pidfd_open and is owned by nothing
        // else; pidfd_open sets close-on-exec on it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(ProcessFd { fd })
    }
}

impl AsFd for ProcessFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Kills every process of the process group `group` (SIGKILL). A group with no process left is
/// not an error.
pub fn kill_group(group: u32) -> io::Result<()> {
    let group =
        libc::pid_t::try_from(group).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    // A group id of 1 or less would name every process we may signal, or our own group.
    if group <= 1 {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: kill takes no pointers; a negative id names the process group.
    match checked(unsafe { libc::kill(-group, libc::SIGKILL) }) {
        Err(error) if error.raw_os_error() == Some(libc::ESRCH) => Ok(()),
        result => result.map(drop),
    }
}

/// The index of the network device `name` (`if_nametoindex`). A device that does not exist is
/// the OS error `ENODEV`.
pub fn interface_index(name: &str) -> io::Result<u32> {
    let name = CString::new(name).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "a device name cannot contain a NUL byte",
        )
    })?;
    // No device has a name this long. Checked here because musl's if_nametoindex would cut the
    // name to its first IF_NAMESIZE - 1 bytes and find the device of that shorter name instead.
    if name.as_bytes().len() >= libc::IF_NAMESIZE {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    // SAFETY: `name` is a valid NUL-terminated string living across the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(index)
}

/// The name of the network device with `index` (`if_indextoname`). A name that is not UTF-8 is
/// an error, since it could not be looked up again.
pub fn interface_name(index: u32) -> io::Result<String> {
    let mut buffer = [0u8; libc::IF_NAMESIZE];
    // SAFETY: `buffer` is writable for IF_NAMESIZE bytes, the size if_indextoname requires.
    let result = unsafe { libc::if_indextoname(index, buffer.as_mut_ptr().cast::<libc::c_char>()) };
    if result.is_null() {
        return Err(io::Error::last_os_error());
    }
    let name = CStr::from_bytes_until_nul(&buffer).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "if_indextoname returned an unterminated name",
        )
    })?;
    name.to_str().map(str::to_string).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the name of device {index} is not UTF-8"),
        )
    })
}

/// Calls `call` with `path` as the C string the file system calls take; a NUL byte in it is
/// an error. A path that fits is written on the stack, as the standard library does: `status`
/// opens a state file for each record, and allocating each name was half of opening it.
fn with_c_path<T>(path: &Path, call: impl FnOnce(&CStr) -> io::Result<T>) -> io::Result<T> {
    let bytes = path.as_os_str().as_bytes();
    let mut on_stack = [0u8; 256];
    let allocated;
    let c_path = if bytes.len() < on_stack.len() {
        on_stack[..bytes.len()].copy_from_slice(bytes);
        CStr::from_bytes_with_nul(&on_stack[..=bytes.len()]).ok()
    } else {
        allocated = CString::new(bytes).ok();
        allocated.as_deref()
    };
    let c_path = c_path.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "a path cannot contain a NUL byte",
        )
    })?;
    call(c_path)
}

/// Opens `path` with `flags` (`O_*`; `mode` is that of a file it creates), close-on-exec,
/// through the `openat` system call itself: musl's open() follows every `O_CLOEXEC` open with
/// an `fcntl` setting the flag again, for kernels older than 2.6.23, which no OpenWrt release
/// runs. That is a system call saved for each state file read and written.
pub fn open_file(path: &Path, flags: libc::c_int, mode: libc::mode_t) -> io::Result<File> {
    // What the C library's open() adds: without it a 32-bit target cannot open a file above
    // 2 GiB (the flag is 0 where it is the default).
    let flags = flags | libc::O_CLOEXEC | libc::O_LARGEFILE;
    let fd = with_c_path(path, |path| {
        retry_interrupted(|| {
            // SAFETY: `path` is a valid NUL-terminated string living across the call; the other
            // arguments are integers, widened to the long that syscall() reads for each; the
            // result is checked before use.
            let fd = unsafe {
                libc::syscall(
                    libc::SYS_openat,
                    libc::c_long::from(libc::AT_FDCWD),
                    path.as_ptr(),
                    libc::c_long::from(flags),
                    libc::c_ulong::from(mode),
                )
            };
            libc::c_int::try_from(fd)
                .map_err(|_| io::Error::other("openat returned no descriptor"))
                .and_then(checked)
        })
    })?;
    // SAFETY: `fd` was just returned by a successful openat and is owned by nothing else.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// The magic number of the file system holding `path` (`statfs`'s `f_type`, such as
/// `libc::TMPFS_MAGIC`).
pub fn filesystem_type(path: &Path) -> io::Result<u32> {
    // SAFETY: `statfs` is a plain C struct of integers, for which all-zero bytes are valid.
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    with_c_path(path, |path| {
        // SAFETY: `path` is a valid NUL-terminated string and `stat` a writable `statfs`,
        // both living across the call.
        checked(unsafe { libc::statfs(path.as_ptr(), &raw mut stat) })
    })?;
    // The magic numbers are 32 bits; `f_type` is a signed or unsigned long, or 32 bits, by
    // target.
    Ok(stat.f_type as u32)
}

/// The user this process acts as (`geteuid`): the owner its state dir must have.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid takes nothing, touches no memory and cannot fail.
    unsafe { libc::geteuid() }
}

/// Names the calling thread, in place of musl's `pthread_setname_np`, which the standard
/// library calls in every thread it starts with a name. musl's names another thread through
/// `/proc/self/task/<tid>/comm`, a path it formats with `snprintf`: that alone linked all of
/// musl's printf into the static binary (~14.6 KB on mipsel), used by nothing else. The
/// standard library only names the thread it runs in, which is one `PR_SET_NAME` (what musl
/// does for it too); another thread is refused, as a name the kernel cannot hold is.
#[cfg(target_env = "musl")]
#[no_mangle]
extern "C" fn pthread_setname_np(
    thread: libc::pthread_t,
    name: *const libc::c_char,
) -> libc::c_int {
    // The kernel's TASK_COMM_LEN (libc has no constant for it): a name and its NUL.
    const NAME_BYTES: usize = 16;
    // SAFETY: the caller passes a NUL-terminated name, as the function's contract requires;
    // `strnlen` reads at most NAME_BYTES of it.
    if unsafe { libc::strnlen(name, NAME_BYTES) } >= NAME_BYTES {
        return libc::ERANGE;
    }
    // SAFETY: `pthread_self` has no preconditions; `prctl(PR_SET_NAME)` copies at most
    // NAME_BYTES from `name`, which was just found NUL-terminated within them.
    unsafe {
        if thread != libc::pthread_self() {
            return libc::ENOTSUP;
        }
        if libc::prctl(libc::PR_SET_NAME, name as libc::c_ulong, 0, 0, 0) != 0 {
            return io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL);
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use std::mem::offset_of;

    use super::*;

    #[test]
    fn loopback_has_an_index_and_a_name() {
        let index = interface_index("lo").expect("lo exists in every network namespace");
        assert!(index > 0);
        assert_eq!(interface_name(index).expect("named"), "lo");
    }

    #[test]
    fn bad_device_names_are_errors() {
        let enodev = Some(libc::ENODEV);
        assert_eq!(
            interface_index("dynhost-nodev").unwrap_err().raw_os_error(),
            enodev
        );
        // Too long for any device; musl alone would look up its first 15 bytes.
        let long = format!("lo{}", "x".repeat(libc::IF_NAMESIZE));
        assert_eq!(interface_index(&long).unwrap_err().raw_os_error(), enodev);
        let nul = interface_index("lo\0").unwrap_err();
        assert_eq!(nul.kind(), io::ErrorKind::InvalidInput);
        assert!(interface_name(0).is_err());
    }

    /// The `flags` line of `file`'s descriptor in /proc/self/fdinfo (octal).
    fn descriptor_flags(file: &File) -> libc::c_int {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", file.as_raw_fd()))
            .expect("fdinfo");
        let flags = info
            .lines()
            .find_map(|line| line.strip_prefix("flags:"))
            .expect("a flags line");
        libc::c_int::from_str_radix(flags.trim(), 8).expect("octal flags")
    }

    #[test]
    fn files_open_close_on_exec_with_the_flags_given() {
        let dir = std::env::temp_dir().join(format!("dynhost-sys-open-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("file");
        let created = open_file(&path, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o640)
            .expect("created");
        assert_ne!(descriptor_flags(&created) & libc::O_CLOEXEC, 0);
        assert_eq!(
            std::os::unix::fs::MetadataExt::mode(&created.metadata().unwrap()) & 0o777,
            0o640
        );
        let again = open_file(&path, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600);
        assert_eq!(again.unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        let link = dir.join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let followed = open_file(&link, libc::O_RDONLY | libc::O_NOFOLLOW, 0);
        assert_eq!(followed.unwrap_err().raw_os_error(), Some(libc::ELOOP));
        let read = open_file(&link, libc::O_RDONLY, 0).expect("a link followed when allowed");
        assert_eq!(descriptor_flags(&read) & libc::O_ACCMODE, libc::O_RDONLY);
        assert_eq!(
            open_file(Path::new("a\0b"), libc::O_RDONLY, 0)
                .unwrap_err()
                .kind(),
            io::ErrorKind::InvalidInput
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_system_types_are_the_kernels_magic_numbers() {
        const PROC_SUPER_MAGIC: u32 = 0x9fa0;
        assert_eq!(
            filesystem_type(Path::new("/proc")).unwrap(),
            PROC_SUPER_MAGIC
        );
        assert_eq!(
            filesystem_type(Path::new("/no/such/dynhost/dir"))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn a_receive_with_nothing_to_read_times_out() {
        let socket = NetlinkSocket::open_route().expect("netlink socket");
        assert_ne!(socket.port().expect("bound"), 0);
        socket
            .set_receive_timeout(Duration::ZERO)
            .expect("timeout set");
        let started = std::time::Instant::now();
        let error = socket.receive(&mut [0u8; 64]).unwrap_err();
        assert!(
            matches!(
                error.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{error}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_datagram_larger_than_the_buffer_is_an_error() {
        let socket = NetlinkSocket::open_route().expect("netlink socket");
        socket
            .set_receive_timeout(Duration::from_secs(5))
            .expect("timeout set");
        // An RTM_GETLINK dump request: a message header and a zeroed `struct rtgenmsg`. The
        // reply describes at least lo, far more than 16 bytes.
        let mut request = vec![0u8; size_of::<libc::nlmsghdr>() + 4];
        let mut put = |offset: usize, bytes: &[u8]| {
            request[offset..offset + bytes.len()].copy_from_slice(bytes);
        };
        let length = u32::try_from(size_of::<libc::nlmsghdr>() + 4).expect("small");
        let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
        put(offset_of!(libc::nlmsghdr, nlmsg_len), &length.to_ne_bytes());
        put(
            offset_of!(libc::nlmsghdr, nlmsg_type),
            &libc::RTM_GETLINK.to_ne_bytes(),
        );
        put(
            offset_of!(libc::nlmsghdr, nlmsg_flags),
            &flags.to_ne_bytes(),
        );
        socket.send(&request).expect("sent");
        let error = socket.receive(&mut [0u8; 16]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("does not fit"), "{error}");
    }

    #[test]
    fn a_thread_started_with_a_name_has_it() {
        let name = std::thread::Builder::new()
            .name("dynhost-named".into())
            .spawn(|| {
                let mut name = [0u8; 16];
                // SAFETY: `PR_GET_NAME` writes at most 16 bytes, NUL included, into `name`.
                let result = unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr(), 0, 0, 0) };
                assert_eq!(result, 0, "{}", io::Error::last_os_error());
                CStr::from_bytes_until_nul(&name).map(|n| n.to_owned())
            })
            .expect("thread started")
            .join()
            .expect("thread ran");
        assert_eq!(
            name.expect("a NUL-terminated name").to_str(),
            Ok("dynhost-named")
        );
    }

    #[cfg(target_env = "musl")]
    #[test]
    fn naming_another_thread_or_a_long_name_is_refused() {
        // SAFETY: both names are NUL-terminated literals.
        unsafe {
            // A thread's id as a number, since the pointer musl uses for it cannot be sent.
            let other = std::thread::spawn(|| libc::pthread_self() as usize)
                .join()
                .expect("ran") as libc::pthread_t;
            assert_eq!(pthread_setname_np(other, c"other".as_ptr()), libc::ENOTSUP);
            let long = c"a-name-of-sixteen";
            assert_eq!(
                pthread_setname_np(libc::pthread_self(), long.as_ptr()),
                libc::ERANGE
            );
        }
    }
}
