//! Socket activation (issue 17, item 1): a listening socket passed as
//! descriptor 3 with `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES`, as
//! systemd passes it, is served instead of binding `--port`; a descriptor
//! that is not a listening TCP socket is one line on stderr and exit 2.

use crate::support::binary::{Binary, BINARY};
use crate::support::{write_fixture, Client};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

const GET_STYLE: &[u8] = b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n";

/// `httpserver ARGS` with `socket` as its descriptor 3 and the variables
/// systemd sets: `bash` exports `LISTEN_PID` as its own pid, then execs the
/// server, which keeps that pid.
fn activated_command(socket: RawFd, names: Option<&str>, args: &[&str]) -> Command {
    activated_with(&[socket], names, args)
}

/// As [`activated_command`], with `sockets` as descriptors 3, 4, ...
fn activated_with(sockets: &[RawFd], names: Option<&str>, args: &[&str]) -> Command {
    let names = names.map_or(String::new(), |names| format!("LISTEN_FDNAMES={names} "));
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(format!(
            "LISTEN_PID=$$ LISTEN_FDS={} {names}exec \"$@\"",
            sockets.len()
        ))
        .arg("bash")
        .arg(BINARY)
        .args(args);
    // First each socket to a number above every socket and every target
    // (so that no dup2 overwrites a socket not yet moved), then to 3, 4, ...
    let sockets: Vec<RawFd> = sockets.to_vec();
    let parked = sockets
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(2 + sockets.len() as RawFd)
        + 1;
    // SAFETY: between fork and exec only dup2, which is async-signal-safe
    // (and allocates nothing: the vector was made before the fork). dup2
    // leaves each copy without close-on-exec, so it survives the exec.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(move || {
            for (index, &socket) in sockets.iter().enumerate() {
                if libc::dup2(socket, parked + index as RawFd) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for index in 0..sockets.len() as RawFd {
                if libc::dup2(parked + index, 3 + index) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    command
}

#[test]
fn issue_17_a_socket_passed_as_fd_3_is_served_instead_of_port() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    // A client that connects before the server runs waits in the socket's
    // queue: the point of socket activation.
    let mut early = Client::connect(addr);
    early.send(GET_STYLE);
    let root_arg = root.path().to_str().unwrap();
    let mut server = Binary::start_command(activated_command(
        socket.as_raw_fd(),
        Some("http"),
        &[
            "--port",
            "1",
            "--bind",
            "127.0.0.2",
            "--root",
            root_arg,
            "--workers",
            "1",
        ],
    ));
    drop(socket);
    assert_eq!(
        server.port,
        addr.port(),
        "serves the passed socket, not --port"
    );
    let answer = early.response();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text(), "body { color: #222; }\n");
    let mut later = Client::connect(addr);
    later.send(GET_STYLE);
    assert_eq!(later.response().status, 200);
    let stderr = server.stderr_text();
    assert!(
        stderr.contains(&format!(
            "httpserver: listening on the sockets systemd passed (http on {addr}); \
             --port and --bind are not used"
        )),
        "{stderr}"
    );
    assert!(server.wait_exit(Duration::ZERO).is_none());
    let (status, _) = server.stop();
    assert!(status.success(), "{status}");
}

#[test]
fn issue_17_an_unnamed_single_socket_is_the_site() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let root_arg = root.path().to_str().unwrap();
    let server = Binary::start_command(activated_command(
        socket.as_raw_fd(),
        None,
        &["--root", root_arg, "--workers", "1"],
    ));
    assert_eq!(server.port, addr.port());
    let mut client = Client::connect(addr);
    client.send(GET_STYLE);
    assert_eq!(client.response().status, 200);
}

/// Run the activated binary to its exit (10 s at most): status and stderr.
fn run_activated(socket: RawFd, names: Option<&str>) -> (i32, String) {
    run_activated_with(&[socket], names)
}

/// [`run_activated`] with `sockets` as descriptors 3, 4, ...
fn run_activated_with(sockets: &[RawFd], names: Option<&str>) -> (i32, String) {
    let root = tempfile::tempdir().unwrap();
    let mut command = activated_with(
        sockets,
        names,
        &["--root", root.path().to_str().unwrap(), "--workers", "1"],
    );
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not exit within 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status.code().unwrap_or(-1), stderr)
}

#[test]
fn issue_17_a_passed_socket_that_is_not_listening_tcp_is_exit_2() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (code, stderr) = run_activated(udp.as_raw_fd(), Some("http"));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr,
        "httpserver: inherited socket http (descriptor 3) is not a stream socket; it must be \
         a listening TCP socket (ListenStream= with an address and port)\n"
    );

    // A TCP socket that is connected, not listening.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let connected = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (code, stderr) = run_activated(connected.as_raw_fd(), Some("http"));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("(descriptor 3) is not listening;"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let unix = std::os::unix::net::UnixListener::bind(dir.path().join("s")).unwrap();
    let (code, stderr) = run_activated(unix.as_raw_fd(), Some("http"));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("(descriptor 3) is a unix socket;"),
        "{stderr}"
    );
}

/// A name this build knows (`https`) for a listener it does not have.
#[test]
fn issue_17_a_passed_socket_for_a_listener_this_build_lacks_is_exit_2() {
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    // This build has no https listener (issue 15 adds it).
    let (code, stderr) = run_activated(socket.as_raw_fd(), Some("https"));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr,
        "httpserver: an inherited socket is named https, but this server has no https listener\n"
    );
}

/// A name that is no listener's, among several sockets (a single socket
/// with another name is the site).
#[test]
fn issue_17_a_passed_socket_with_an_unknown_name_is_exit_2() {
    let site = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let (code, stderr) =
        run_activated_with(&[site.as_raw_fd(), other.as_raw_fd()], Some("http:bogus"));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("httpserver: LISTEN_FDNAMES names a socket \"bogus\"; each must be"),
        "{stderr}"
    );
}

#[test]
fn issue_17_named_sockets_become_their_listeners() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let admin = TcpListener::bind("127.0.0.1:0").unwrap();
    let site = TcpListener::bind("127.0.0.1:0").unwrap();
    let (admin_addr, site_addr) = (admin.local_addr().unwrap(), site.local_addr().unwrap());
    let server = Binary::start_command(activated_with(
        &[admin.as_raw_fd(), site.as_raw_fd()],
        Some("admin:http"),
        &[
            "--admin",
            "127.0.0.1:1",
            "--root",
            root.path().to_str().unwrap(),
            "--workers",
            "1",
        ],
    ));
    assert_eq!(server.port, site_addr.port());
    let mut client = Client::connect(site_addr);
    client.send(GET_STYLE);
    assert_eq!(client.response().status, 200);
    let mut probe = Client::connect(admin_addr);
    probe.send(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(probe.response().status, 200);
    let stderr = server.stderr_text();
    assert!(
        stderr.contains(&format!(
            "httpserver: listening on the sockets systemd passed (http on {site_addr}, admin on \
             {admin_addr}); --port, --bind and --admin are not used"
        )),
        "{stderr}"
    );
}

/// The clear-text password warning looks at the socket actually served,
/// not at `--bind` (issue 15.4 with issue 17): a passed socket on every
/// address warns though `--bind` is loopback, and a passed loopback socket
/// does not warn though the default `--bind` is every address.
#[test]
fn issue_17_the_cleartext_warning_names_the_passed_socket_not_bind() {
    let htpasswd = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/htpasswd");
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let root_arg = root.path().to_str().unwrap();

    let everywhere = TcpListener::bind("0.0.0.0:0").unwrap();
    let server = Binary::start_command(activated_command(
        everywhere.as_raw_fd(),
        Some("http"),
        &[
            "--bind",
            "127.0.0.1",
            "--root",
            root_arg,
            "--auth",
            htpasswd,
        ],
    ));
    drop(everywhere);
    let (_, stderr) = server.stop();
    assert!(
        stderr.contains("--auth on plain HTTP at 0.0.0.0: passwords travel in clear text"),
        "{stderr}"
    );

    let loopback = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = Binary::start_command(activated_command(
        loopback.as_raw_fd(),
        Some("http"),
        &[
            "--root",
            root_arg,
            "--auth",
            htpasswd,
            "--log-level",
            "warn",
        ],
    ));
    drop(loopback);
    let (_, stderr) = server.stop();
    assert!(!stderr.contains("clear text"), "{stderr}");
    // The socket-activation line is info: not printed at warn.
    assert!(!stderr.contains("sockets systemd passed"), "{stderr}");
}
