//! File-system faults (issue 4, part 4). Every outcome is one of: a
//! complete, correct response; a clean 4xx/5xx; or a closed connection.
//! Never a response shorter than its Content-Length on a connection that
//! stays open, and never a hang (every read has a deadline).
//!
//! What the server does, by fault:
//! - a file deleted or replaced (by rename) while being sent: the open fd
//!   keeps the old inode, so the old content arrives whole;
//! - a file truncated while being sent: the head already promised the old
//!   length, so the connection is closed early;
//! - permission denied: 403 (only visible when not running as root);
//! - the root removed: 404s; the root replaced (removed and recreated, or
//!   renamed away and another renamed in): the server keeps serving the
//!   directory it opened at start, by its fd, so a new root needs a restart;
//! - a FIFO, a device or a socket under the root: 404, without opening for
//!   long (O_NONBLOCK) and without reading;
//! - 100,000 entries: a listing shows 10,000 and counts the rest;
//! - names with a newline or `%` are served by their percent-encoded URL;
//!   names that are not UTF-8 cannot be asked for (400) and are not listed.

use crate::support::binary::Binary;
use crate::support::{start_server, write_fixture, Client};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Larger than every socket buffer between server and client together
/// (tcp_rmem and tcp_wmem maxima, 32 + 4 MiB here), so a response is
/// still being sent when the test changes the file under it.
const BIG_FILE_BYTES: u64 = 96 * 1024 * 1024;

/// A sparse file of `len` bytes with `marker` at its start and its end.
fn marked_file(path: &Path, len: u64, marker: &[u8; 4]) {
    let file = std::fs::File::create(path).unwrap();
    file.set_len(len).unwrap();
    file.write_all_at(marker, 0).unwrap();
    file.write_all_at(marker, len - 4).unwrap();
}

/// Ask for `path` and receive the head and the first 64 KiB, so that the
/// server is sending the file when the caller changes it.
fn start_download(client: &mut Client, path: &str) {
    client.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    client.buffer_at_least(64 * 1024);
}

fn assert_whole_and_marked(body: &[u8], marker: &[u8; 4]) {
    assert_eq!(body.len() as u64, BIG_FILE_BYTES);
    assert_eq!(&body[..4], marker);
    assert_eq!(&body[body.len() - 4..], marker);
}

#[test]
fn file_deleted_while_being_sent_arrives_whole() {
    let server = start_server(|_| {});
    let path = server.root.path().join("big.bin");
    marked_file(&path, BIG_FILE_BYTES, b"OLD!");
    let mut client = server.connect();
    start_download(&mut client, "/big.bin");
    std::fs::remove_file(&path).unwrap();
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_whole_and_marked(&response.body, b"OLD!");
    // The connection is still good, and the file is gone.
    client.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 404);
}

#[test]
fn file_replaced_by_rename_while_being_sent_arrives_whole_and_old() {
    let server = start_server(|_| {});
    let path = server.root.path().join("big.bin");
    marked_file(&path, BIG_FILE_BYTES, b"OLD!");
    let mut client = server.connect();
    start_download(&mut client, "/big.bin");
    let next = server.root.path().join("big.bin.next");
    std::fs::write(&next, b"NEW!").unwrap();
    std::fs::rename(&next, &path).unwrap();
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_whole_and_marked(&response.body, b"OLD!");
    client.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().body, b"NEW!");
}

#[test]
fn file_truncated_while_being_sent_closes_the_connection_short() {
    let server = start_server(|_| {});
    let path = server.root.path().join("big.bin");
    marked_file(&path, BIG_FILE_BYTES, b"OLD!");
    let mut client = server.connect();
    start_download(&mut client, "/big.bin");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1024 * 1024)
        .unwrap();
    // The head promised 96 MiB: fewer bytes arrive, then the connection
    // closes, so the client cannot mistake the rest for a next response.
    let response = client.try_response();
    assert!(
        response.is_none(),
        "a complete response arrived although the file shrank under it"
    );
    // What did arrive (the partial body) is all there is: end of stream.
    let partial = client.read_to_close();
    assert!((partial.len() as u64) < BIG_FILE_BYTES);
    assert!(client.is_closed_by_server());
    // The server is unharmed, and serves the file at its new length.
    let response = server.request(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.body.len(), 1024 * 1024);
}

/// `setpriv` (util-linux) runs the binary as `nobody`; without it the
/// permission test cannot mean anything when the tests run as root.
fn setpriv_to_nobody() -> Vec<&'static str> {
    let found = std::process::Command::new("setpriv")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        found,
        "this test needs `setpriv` (util-linux) to run the server as nobody: \
         install util-linux, or run the tests as a non-root user"
    );
    vec![
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
    ]
}

#[test]
fn permission_denied_is_403_for_an_unprivileged_server() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let set_mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    // The root itself must be traversable by nobody.
    set_mode(root.path(), 0o755);
    std::fs::write(root.path().join("open.txt"), "open\n").unwrap();
    set_mode(&root.path().join("open.txt"), 0o644);
    std::fs::write(root.path().join("secret.txt"), "secret\n").unwrap();
    set_mode(&root.path().join("secret.txt"), 0o600);
    std::fs::create_dir(root.path().join("private")).unwrap();
    std::fs::write(root.path().join("private/inner.txt"), "inner\n").unwrap();
    set_mode(&root.path().join("private/inner.txt"), 0o644);
    set_mode(&root.path().join("private"), 0o700);

    let wrapper = setpriv_to_nobody();
    let server = Binary::start_wrapped(
        &wrapper,
        &["--root", root.path().to_str().unwrap(), "--listing"],
    );
    let mut client = Client::connect(server.addr());
    for (path, status) in [
        ("/open.txt", 200),
        ("/secret.txt", 403),
        ("/private/inner.txt", 403),
        ("/private/", 403),
        ("/open.txt", 200),
    ] {
        client.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let response = client.response();
        assert_eq!(response.status, status, "{path}: {}", response.text());
        // No path or OS message reaches the client.
        assert!(!response.text().contains("ermission denied"), "{path}");
    }
    drop(client);
    let (status, stderr) = server.stop();
    assert!(status.success(), "exit status {status}");
    assert_eq!(stderr, "");
}

#[test]
fn root_removed_while_running_answers_404_without_crashing() {
    let server = start_server(|c| c.static_files.listing = true);
    let mut client = server.connect();
    client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    std::fs::remove_dir_all(server.root.path()).unwrap();
    for path in ["/index.html", "/", "/docs/", "/data.bin", "/missing"] {
        client.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let response = client.response();
        // A removed directory reads as empty: the root listing has no
        // entries; everything else is 404.
        let ok = if path == "/" {
            response.status == 200 && !response.text().contains("index.html")
        } else {
            response.status == 404
        };
        assert!(ok, "{path}: {} {}", response.status, response.text());
    }
    // Recreated at the same path: the server still holds the old one.
    std::fs::create_dir(server.root.path()).unwrap();
    std::fs::write(server.root.path().join("index.html"), "<h1>new</h1>\n").unwrap();
    client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 404);
}

#[test]
fn root_replaced_by_rename_keeps_serving_the_directory_opened_at_start() {
    // The deploy pattern "rename a new tree over the old" needs a restart:
    // the server serves the directory it opened, wherever it moved.
    let server = start_server(|_| {});
    let moved = server.root.path().with_extension("old");
    std::fs::rename(server.root.path(), &moved).unwrap();
    std::fs::create_dir(server.root.path()).unwrap();
    std::fs::write(server.root.path().join("index.html"), "<h1>new</h1>\n").unwrap();
    let response = server.request(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200);
    assert!(response.text().contains("home"), "{}", response.text());
    std::fs::remove_dir_all(&moved).unwrap();
}

#[test]
fn fifo_device_and_socket_under_the_root_are_404_without_hanging() {
    use rustix::fs::{makedev, mknodat, FileType, Mode, CWD};
    let server = start_server(|c| c.static_files.listing = true);
    let special = server.root.path().join("special");
    std::fs::create_dir(&special).unwrap();
    let mode = Mode::from_raw_mode(0o666);
    mknodat(CWD, special.join("fifo"), FileType::Fifo, mode, 0).unwrap();
    // The same device as /dev/null (mknod needs root, which the tests have).
    let null = makedev(1, 3);
    mknodat(
        CWD,
        special.join("null"),
        FileType::CharacterDevice,
        mode,
        null,
    )
    .unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(special.join("socket")).unwrap();
    std::fs::write(special.join("plain.txt"), "plain\n").unwrap();

    let mut client = server.connect();
    let started = Instant::now();
    for name in ["fifo", "null", "socket"] {
        client.send(format!("GET /special/{name} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let response = client.response();
        assert_eq!(response.status, 404, "{name}");
    }
    // A listing shows only what could be served.
    client.send(b"GET /special/ HTTP/1.1\r\nHost: x\r\n\r\n");
    let listing = client.response();
    assert_eq!(listing.status, 200);
    let text = listing.text();
    assert!(text.contains("plain.txt"), "{text}");
    for name in ["fifo", "null", "socket"] {
        assert!(!text.contains(name), "{name} listed: {text}");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn directory_with_100000_entries_lists_10000_and_without_listing_is_404() {
    const ENTRIES: usize = 100_000;
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let many = root.path().join("many");
    std::fs::create_dir(&many).unwrap();
    for i in 0..ENTRIES {
        std::fs::File::create(many.join(format!("f{i:06}.txt"))).unwrap();
    }
    let root_arg = root.path().to_str().unwrap();

    let listing = Binary::start(&["--root", root_arg, "--listing"]);
    let mut client = Client::connect(listing.addr());
    let started = Instant::now();
    client.send(b"GET /many/ HTTP/1.1\r\nHost: x\r\n\r\n");
    let html = client.response();
    client.send(b"GET /many/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n");
    let json = client.response();
    let took = started.elapsed();
    assert_eq!(html.status, 200);
    assert!(
        html.text().contains("90000 more not shown"),
        "{}",
        &html.text()[html.text().len().saturating_sub(300)..]
    );
    assert!(
        html.body.len() < 8 * 1024 * 1024,
        "{} bytes",
        html.body.len()
    );
    assert_eq!(json.status, 200);
    assert_eq!(json.text().matches("\"name\"").count(), 10_000);
    assert!(took < Duration::from_secs(30), "two listings took {took:?}");
    drop(client);
    let (status, stderr) = listing.stop();
    assert!(status.success() && stderr.is_empty(), "{status}: {stderr}");

    let no_listing = Binary::start(&["--root", root_arg]);
    let started = Instant::now();
    let mut client = Client::connect(no_listing.addr());
    client.send(b"GET /many/ HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 404);
    assert!(started.elapsed() < Duration::from_secs(5));
    client.send(b"GET /many/f099999.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    drop(client);
    let (status, stderr) = no_listing.stop();
    assert!(status.success() && stderr.is_empty(), "{status}: {stderr}");
}

#[test]
fn names_with_newline_percent_and_invalid_utf8_are_served_refused_or_hidden_as_documented() {
    let server = start_server(|c| c.static_files.listing = true);
    let names = server.root.path().join("names");
    std::fs::create_dir(&names).unwrap();
    std::fs::write(names.join("line\nbreak.txt"), "newline\n").unwrap();
    std::fs::write(names.join("100%.txt"), "percent\n").unwrap();
    std::fs::write(names.join("%41.txt"), "escaped\n").unwrap();
    let not_utf8 = std::ffi::OsStr::from_bytes(b"\xff\xfe.txt");
    std::fs::write(names.join(not_utf8), "bytes\n").unwrap();

    let mut client = server.connect();
    let mut requests = 0;
    let mut get = |client: &mut Client, target: &[u8]| {
        requests += 1;
        let mut raw = b"GET ".to_vec();
        raw.extend_from_slice(target);
        raw.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
        client.send(&raw);
        client.response()
    };
    // Served by their percent-encoded names.
    assert_eq!(
        get(&mut client, b"/names/line%0Abreak.txt").text(),
        "newline\n"
    );
    assert_eq!(get(&mut client, b"/names/100%25.txt").text(), "percent\n");
    assert_eq!(get(&mut client, b"/names/%2541.txt").text(), "escaped\n");
    // Decoded exactly once: `%41` is `A`, and there is no A.txt.
    assert_eq!(get(&mut client, b"/names/%41.txt").status, 404);
    // A bare `%` and bytes that are not UTF-8 are malformed: 400.
    assert_eq!(get(&mut client, b"/names/100%.txt").status, 400);
    assert_eq!(get(&mut client, b"/names/%FF%FE.txt").status, 400);
    // The listing links the first three by their encoded names and leaves
    // out the one no request could name.
    let listing = get(&mut client, b"/names/");
    assert_eq!(listing.status, 200);
    let text = listing.text();
    for href in ["line%0Abreak.txt", "100%25.txt", "%2541.txt"] {
        assert!(text.contains(href), "{href} not linked: {text}");
    }
    assert!(
        !text.contains('\u{fffd}') && !text.contains("fe.txt"),
        "{text}"
    );
    let sent = requests;
    drop(client);
    // A raw newline or 0xff cannot even be sent in a target: 400, close.
    let mut raw = server.connect();
    raw.send(b"GET /names/\xff.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(raw.response().status, 400);
    drop(raw);
    // One line per request, none split or forged, non-ASCII escaped (the
    // log is read as UTF-8, which a raw 0xff would fail).
    let log = server.stop();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), sent + 1, "{log}");
    assert!(lines.iter().all(|l| l.starts_with('[')), "{log}");
}
