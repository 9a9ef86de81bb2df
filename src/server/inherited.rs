//! Listening sockets handed to the process instead of bound by it: by
//! systemd's socket activation (`LISTEN_PID`, `LISTEN_FDS`,
//! `LISTEN_FDNAMES`, as `sd_listen_fds(3)` describes them) or by the
//! previous process of an upgrade (`HTTPSERVER_HANDOVER`, see
//! `server::upgrade`).
//!
//! The parsing is pure (`parse_listen_fds`, `parse_handover`), so tables
//! test it; `take_from_env` reads and unsets the variables (a child of ours
//! must not believe the sockets are its own) and claims the descriptors.
//! Whether a descriptor is a listening TCP socket is checked when it
//! becomes a [`Listener`](super::Listener) (`Listener::from_inherited`).

use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`): after
/// stdin, stdout and stderr.
pub const LISTEN_FDS_START: RawFd = 3;

/// The variable an upgrading process sets for its successor: the old
/// process's pid (the successor checks it is its parent, as `LISTEN_PID`
/// is checked against its own pid), the readiness pipe, and the sockets by
/// name: `"<parent pid> <ready fd> http=5 admin=6"`.
pub const HANDOVER_VARIABLE: &str = "HTTPSERVER_HANDOVER";

/// The listeners a socket can be handed over for, by the name systemd's
/// `FileDescriptorName=` gives it. The table the rest of the crate maps
/// from: wiring a listener to its inherited socket is one
/// `Inherited::take(SocketName::...)` in `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketName {
    /// The site (`--port`, `--bind`).
    Http,
    /// The site over TLS.
    Https,
    /// The admin listener (`--admin`).
    Admin,
    /// The plain-HTTP listener that redirects to HTTPS.
    Redirect,
}

impl SocketName {
    /// Every name, in the order a listing of them reads.
    pub const ALL: [SocketName; 4] = [
        SocketName::Http,
        SocketName::Https,
        SocketName::Admin,
        SocketName::Redirect,
    ];

    /// The name as in `FileDescriptorName=` and `LISTEN_FDNAMES`.
    pub fn as_str(self) -> &'static str {
        match self {
            SocketName::Http => "http",
            SocketName::Https => "https",
            SocketName::Admin => "admin",
            SocketName::Redirect => "redirect",
        }
    }

    /// The socket name `name` is, if any.
    pub fn from_name(name: &str) -> Option<SocketName> {
        SocketName::ALL
            .into_iter()
            .find(|known| known.as_str() == name)
    }
}

impl fmt::Display for SocketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who handed the sockets over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// systemd (or `systemd-socket-activate`).
    SocketActivation,
    /// The previous process of an upgrade: `parent` waits for the readiness
    /// byte on the pipe `ready` before it stops accepting.
    Handover { parent: u32, ready: RawFd },
}

/// What the variables say, before any descriptor is touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    pub origin: Origin,
    /// Each socket's name and descriptor number, in the order passed.
    pub sockets: Vec<(SocketName, RawFd)>,
}

/// Why the inherited sockets cannot be used: one line, exit 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InheritError(pub String);

impl fmt::Display for InheritError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InheritError {}

fn error(message: impl Into<String>) -> InheritError {
    InheritError(message.into())
}

/// What `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` say for the
/// process `own_pid`. `Ok(None)` when they are not for it: either is
/// unset, or `LISTEN_PID` names another process (the variables leaked from
/// a parent; `sd_listen_fds` ignores them then too), or no descriptor is
/// passed. Names are from [`SocketName`]; a single socket whose name is
/// not one of them (systemd's default name is the unit's) is the site's.
pub fn parse_listen_fds(
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    listen_fdnames: Option<&str>,
    own_pid: u32,
) -> Result<Option<Passed>, InheritError> {
    let (Some(pid), Some(count)) = (listen_pid, listen_fds) else {
        return Ok(None);
    };
    let pid: u32 = pid
        .parse()
        .map_err(|_| error(format!("LISTEN_PID is not a process id: {pid:?}")))?;
    if pid != own_pid {
        return Ok(None);
    }
    let count: u16 = count
        .parse()
        .map_err(|_| error(format!("LISTEN_FDS is not a count: {count:?}")))?;
    if count == 0 {
        return Ok(None);
    }
    let descriptors = (0..RawFd::from(count)).map(|offset| LISTEN_FDS_START + offset);
    let names: Vec<&str> = match listen_fdnames {
        Some(names) => names.split(':').collect(),
        None => vec![""; usize::from(count)],
    };
    if names.len() != usize::from(count) {
        return Err(error(format!(
            "LISTEN_FDNAMES names {} sockets but LISTEN_FDS passes {count}",
            names.len()
        )));
    }
    let sockets = if count == 1 {
        vec![(
            SocketName::from_name(names[0]).unwrap_or(SocketName::Http),
            LISTEN_FDS_START,
        )]
    } else {
        names
            .iter()
            .zip(descriptors)
            .map(|(name, fd)| Ok((known_name(name, "LISTEN_FDNAMES")?, fd)))
            .collect::<Result<_, InheritError>>()?
    };
    check_unique(&sockets)?;
    Ok(Some(Passed {
        origin: Origin::SocketActivation,
        sockets,
    }))
}

/// What [`HANDOVER_VARIABLE`] says for a process whose parent is
/// `parent_pid`. `Ok(None)` when it is unset or names another parent (left
/// over in the environment of a process the server started for another
/// reason).
pub fn parse_handover(
    value: Option<&str>,
    parent_pid: u32,
) -> Result<Option<Passed>, InheritError> {
    let Some(value) = value else { return Ok(None) };
    let malformed = || error(format!("{HANDOVER_VARIABLE} is malformed: {value:?}"));
    let mut words = value.split(' ');
    let parent: u32 = words
        .next()
        .and_then(|word| word.parse().ok())
        .ok_or_else(malformed)?;
    let ready = words
        .next()
        .and_then(parse_descriptor)
        .ok_or_else(malformed)?;
    let sockets = words
        .map(|word| {
            let (name, fd) = word.split_once('=').ok_or_else(malformed)?;
            let fd = parse_descriptor(fd).ok_or_else(malformed)?;
            Ok((known_name(name, HANDOVER_VARIABLE)?, fd))
        })
        .collect::<Result<Vec<_>, InheritError>>()?;
    if parent != parent_pid {
        return Ok(None);
    }
    if sockets.is_empty() {
        return Err(malformed());
    }
    check_unique(&sockets)?;
    if sockets.iter().any(|&(_, fd)| fd == ready) {
        return Err(malformed());
    }
    Ok(Some(Passed {
        origin: Origin::Handover { parent, ready },
        sockets,
    }))
}

/// The value of [`HANDOVER_VARIABLE`] for a successor (the inverse of
/// [`parse_handover`]).
pub fn handover_value(parent: u32, ready: RawFd, sockets: &[(SocketName, RawFd)]) -> String {
    let mut value = format!("{parent} {ready}");
    for (name, fd) in sockets {
        value.push_str(&format!(" {name}={fd}"));
    }
    value
}

fn parse_descriptor(word: &str) -> Option<RawFd> {
    word.parse()
        .ok()
        .filter(|&fd: &RawFd| fd >= LISTEN_FDS_START)
}

fn known_name(name: &str, variable: &str) -> Result<SocketName, InheritError> {
    SocketName::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = SocketName::ALL.iter().map(|n| n.as_str()).collect();
        error(format!(
            "{variable} names a socket {name:?}; each must be one of {} \
             (FileDescriptorName= in the socket unit)",
            known.join(", ")
        ))
    })
}

fn check_unique(sockets: &[(SocketName, RawFd)]) -> Result<(), InheritError> {
    for (index, (name, _)) in sockets.iter().enumerate() {
        if sockets[..index].iter().any(|(earlier, _)| earlier == name) {
            return Err(error(format!("two inherited sockets are named {name}")));
        }
    }
    Ok(())
}

/// Sockets taken from the environment, each claimed (owned, close-on-exec),
/// waiting to become listeners.
#[derive(Debug)]
pub struct Inherited {
    pub origin: Origin,
    sockets: Vec<(SocketName, OwnedFd)>,
    /// The write end of the readiness pipe, for a handover.
    ready: Option<OwnedFd>,
}

impl Inherited {
    /// The socket passed for `name`, if one was; taken, so that what is
    /// left at the end is what nothing asked for.
    pub fn take(&mut self, name: SocketName) -> Option<OwnedFd> {
        let index = self.sockets.iter().position(|(n, _)| *n == name)?;
        Some(self.sockets.remove(index).1)
    }

    /// The names of the sockets nothing has taken.
    pub fn untaken(&self) -> Vec<SocketName> {
        self.sockets.iter().map(|(name, _)| *name).collect()
    }

    /// The readiness pipe of a handover, to report on once serving.
    pub fn take_ready_pipe(&mut self) -> Option<OwnedFd> {
        self.ready.take()
    }
}

/// Read the variables of socket activation and of a handover, unset them
/// (so that no process we start mistakes them for its own), and claim the
/// descriptors they name. `Ok(None)`: nothing was passed to this process.
pub fn take_from_env() -> Result<Option<Inherited>, InheritError> {
    let var = |name: &str| std::env::var(name).ok();
    let own_pid = std::process::id();
    let parent_pid = rustix::process::getppid().map_or(0, |pid| pid.as_raw_nonzero().get() as u32);
    let handover = parse_handover(var(HANDOVER_VARIABLE).as_deref(), parent_pid);
    let activation = parse_listen_fds(
        var("LISTEN_PID").as_deref(),
        var("LISTEN_FDS").as_deref(),
        var("LISTEN_FDNAMES").as_deref(),
        own_pid,
    );
    for name in [
        HANDOVER_VARIABLE,
        "LISTEN_PID",
        "LISTEN_FDS",
        "LISTEN_FDNAMES",
    ] {
        std::env::remove_var(name);
    }
    let passed = match (handover?, activation?) {
        (Some(handover), _) => handover,
        (None, Some(activation)) => activation,
        (None, None) => return Ok(None),
    };
    let mut sockets = Vec::with_capacity(passed.sockets.len());
    for (name, fd) in passed.sockets {
        let owned = claim(fd).map_err(|e| {
            error(format!(
                "inherited socket {name} (descriptor {fd}) is not open: {e}"
            ))
        })?;
        sockets.push((name, owned));
    }
    let ready = match passed.origin {
        Origin::Handover { ready, .. } => Some(
            claim(ready)
                .map_err(|e| error(format!("the handover's readiness pipe is not open: {e}")))?,
        ),
        Origin::SocketActivation => None,
    };
    Ok(Some(Inherited {
        origin: passed.origin,
        sockets,
        ready,
    }))
}

/// Own the inherited descriptor `fd`, once it is known to be open, and
/// mark it close-on-exec (systemd and a handover pass it without, so that
/// it survives their `exec`; ours should not leak it further).
fn claim(fd: RawFd) -> rustix::io::Result<OwnedFd> {
    // SAFETY: the descriptor is only borrowed for one fcntl, which fails
    // with EBADF rather than misbehaving if it is not open.
    #[allow(unsafe_code)]
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    rustix::io::fcntl_getfd(borrowed)?;
    // SAFETY: the descriptor is open (just checked) and was passed to this
    // process to own by the protocol of the variable that named it (the pid
    // check says so); each number is claimed once (names are unique and the
    // readiness pipe differs from every socket), and nothing else in the
    // process knows it.
    #[allow(unsafe_code)]
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    rustix::io::fcntl_setfd(&owned, rustix::io::FdFlags::CLOEXEC)?;
    debug_assert_eq!(owned.as_raw_fd(), fd);
    Ok(owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SocketName::*;

    const ME: u32 = 4242;

    fn activation(sockets: &[(SocketName, RawFd)]) -> Option<Passed> {
        Some(Passed {
            origin: Origin::SocketActivation,
            sockets: sockets.to_vec(),
        })
    }

    #[test]
    fn listen_fds_for_this_process_name_the_sockets_from_fd_3() {
        // (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, what they say)
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            Option<Passed>,
        );
        let cases: &[Case] = &[
            (Some("4242"), Some("1"), None, activation(&[(Http, 3)])),
            (
                Some("4242"),
                Some("1"),
                Some("http"),
                activation(&[(Http, 3)]),
            ),
            (
                Some("4242"),
                Some("1"),
                Some("admin"),
                activation(&[(Admin, 3)]),
            ),
            // One socket named by its unit (systemd's default) is the site.
            (
                Some("4242"),
                Some("1"),
                Some("httpserver.socket"),
                activation(&[(Http, 3)]),
            ),
            (
                Some("4242"),
                Some("2"),
                Some("admin:http"),
                activation(&[(Admin, 3), (Http, 4)]),
            ),
            (
                Some("4242"),
                Some("4"),
                Some("http:https:admin:redirect"),
                activation(&[(Http, 3), (Https, 4), (Admin, 5), (Redirect, 6)]),
            ),
            // Not for this process, or nothing passed: bind as usual.
            (Some("4243"), Some("1"), Some("http"), None),
            (None, Some("1"), Some("http"), None),
            (Some("4242"), None, None, None),
            (Some("4242"), Some("0"), None, None),
        ];
        for (pid, fds, names, expected) in cases {
            assert_eq!(
                parse_listen_fds(*pid, *fds, *names, ME).as_ref(),
                Ok(expected),
                "{pid:?} {fds:?} {names:?}"
            );
        }
    }

    #[test]
    fn listen_fds_mistakes_are_errors_that_say_which() {
        let cases: &[(&str, &str, Option<&str>, &str)] = &[
            ("42x", "1", None, "LISTEN_PID is not a process id"),
            ("4242", "one", None, "LISTEN_FDS is not a count"),
            ("4242", "-1", None, "LISTEN_FDS is not a count"),
            (
                "4242",
                "2",
                Some("http"),
                "names 1 sockets but LISTEN_FDS passes 2",
            ),
            ("4242", "2", None, "names a socket \"\""),
            (
                "4242",
                "2",
                Some("http:web"),
                "names a socket \"web\"; each must be one of http, https, admin, redirect",
            ),
            (
                "4242",
                "2",
                Some("http:http"),
                "two inherited sockets are named http",
            ),
        ];
        for (pid, fds, names, message) in cases {
            let e = parse_listen_fds(Some(pid), Some(fds), *names, ME).unwrap_err();
            assert!(e.0.contains(message), "{pid} {fds} {names:?}: {e}");
        }
    }

    #[test]
    fn a_handover_value_reads_back_as_written() {
        let sockets = [(Http, 7), (Admin, 9)];
        let value = handover_value(ME, 5, &sockets);
        assert_eq!(value, "4242 5 http=7 admin=9");
        assert_eq!(
            parse_handover(Some(&value), ME),
            Ok(Some(Passed {
                origin: Origin::Handover {
                    parent: ME,
                    ready: 5
                },
                sockets: sockets.to_vec(),
            }))
        );
        // From another parent (left over in the environment): not ours.
        assert_eq!(parse_handover(Some(&value), ME + 1), Ok(None));
        assert_eq!(parse_handover(None, ME), Ok(None));
    }

    #[test]
    fn a_malformed_handover_is_an_error() {
        for value in [
            "",
            "4242",
            "4242 5",
            "4242 x http=7",
            "4242 5 http",
            "4242 5 http=x",
            "4242 5 http=2",
            "4242 2 http=7",
            "4242 5 http=5",
            "4242 5 http=7 http=8",
            "4242 5 web=7",
        ] {
            assert!(parse_handover(Some(value), ME).is_err(), "{value:?}");
        }
    }

    proptest::proptest! {
        /// The variables come from outside: any text is a value or an
        /// error, never a panic, and every socket named is from fd 3 up.
        #[test]
        fn any_listen_variables_give_a_value_or_an_error(
            pid in "[0-9]{0,6}|.{0,8}",
            fds in "[0-9]{0,3}|.{0,6}",
            names in proptest::option::of("(http|https|admin|redirect|[a-z:]{0,12})(:(http|admin|x)){0,4}"),
        ) {
            if let Ok(Some(passed)) = parse_listen_fds(Some(&pid), Some(&fds), names.as_deref(), ME) {
                proptest::prop_assert!(passed.sockets.iter().all(|&(_, fd)| fd >= LISTEN_FDS_START));
            }
        }

        #[test]
        fn any_handover_value_gives_a_value_or_an_error(value in ".{0,40}") {
            let _ = parse_handover(Some(&value), ME);
        }

        #[test]
        fn a_handover_value_round_trips(
            ready in 3..1000i32,
            names in proptest::sample::subsequence(SocketName::ALL.to_vec(), 1..=4),
        ) {
            let sockets: Vec<_> = names.into_iter().zip(1000..).collect();
            let value = handover_value(ME, ready, &sockets);
            proptest::prop_assert_eq!(
                parse_handover(Some(&value), ME),
                Ok(Some(Passed { origin: Origin::Handover { parent: ME, ready }, sockets }))
            );
        }
    }

    #[test]
    fn socket_names_round_trip() {
        for name in SocketName::ALL {
            assert_eq!(SocketName::from_name(name.as_str()), Some(name));
        }
        assert_eq!(SocketName::from_name("HTTP"), None);
    }
}
