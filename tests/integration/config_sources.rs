//! Issue 14.3: the configuration file, the environment and their
//! precedence, seen through the built binary.

use crate::cli::{Running, BINARY};
use crate::support::{write_fixture, Client};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Run the binary to completion with exactly these environment variables
/// (none inherited: a PORT or HTTPSERVER_* of the test runner must not
/// leak in). Returns the exit code, stdout and stderr.
pub(crate) fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    run_in(Path::new("."), args, env)
}

/// [`run`] in the working directory `dir`.
pub(crate) fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut child = Command::new(BINARY)
        .current_dir(dir)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Only a guard against a binary that serves instead of exiting.
    for _ in 0..200 {
        if child.try_wait().unwrap().is_some() {
            let output = child.wait_with_output().unwrap();
            return (
                output.status.code().unwrap_or(-1),
                String::from_utf8(output.stdout).unwrap(),
                String::from_utf8(output.stderr).unwrap(),
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("httpserver {args:?} did not exit by itself");
}

/// `--print-config` with these sources; the value line of `key`.
fn effective(args: &[&str], env: &[(&str, &str)], key: &str) -> String {
    let mut all = args.to_vec();
    all.push("--print-config");
    let (code, stdout, stderr) = run(&all, env);
    assert_eq!(code, 0, "{stderr}");
    let prefix = format!("{key} = ");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} in\n{stdout}"))
        .to_owned()
}

pub(crate) fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Command-line flags, environment variables, whether --config is given,
/// and the value expected.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], bool, &'a str);

#[test]
fn command_line_beats_environment_beats_file_beats_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "httpserver.toml",
        "max_body_bytes = 1000\nlisting = true\nheader = [\"X-A: file\", \"X-B: file\"]\n",
    );
    let file = file.to_str().unwrap();
    let cli = ["--max-body-bytes", "3000"];
    let env = [("HTTPSERVER_MAX_BODY_BYTES", "2000")];
    // (command line, environment, with the file) → value
    let table: [Case; 7] = [
        (&[], &[], false, "8388608"),
        (&[], &[], true, "1000"),
        (&[], &env, false, "2000"),
        (&[], &env, true, "2000"),
        (&cli, &[], false, "3000"),
        (&cli, &[], true, "3000"),
        (&cli, &env, true, "3000"),
    ];
    for (flags, env, with_file, want) in table {
        let mut args = flags.to_vec();
        if with_file {
            args.extend(["--config", file]);
        }
        assert_eq!(
            effective(&args, env, "max_body_bytes"),
            want,
            "flags {flags:?}, env {env:?}, file {with_file}"
        );
    }

    // A switch: the file turns it on, the environment back off.
    let with_file = ["--config", file];
    assert_eq!(effective(&with_file, &[], "listing"), "true");
    let off = [("HTTPSERVER_LISTING", "false")];
    assert_eq!(effective(&with_file, &off, "listing"), "false");
    assert_eq!(
        effective(&["--listing", "--config", file], &off, "listing"),
        "true"
    );

    // A repeatable flag: a higher source replaces the whole list (the
    // file's flat `header` key, printed as the [headers] table).
    assert_eq!(
        table_lines(&with_file, &[], "headers"),
        ["X-A = \"file\"", "X-B = \"file\""]
    );
    let one = [("HTTPSERVER_HEADER", "X-C: env")];
    assert_eq!(table_lines(&with_file, &one, "headers"), ["X-C = \"env\""]);
    assert_eq!(
        table_lines(&["--config", file, "-H", "X-D: cli"], &one, "headers"),
        ["X-D = \"cli\""]
    );
    // The same from the file's [headers] table.
    let tabled = write_file(
        dir.path(),
        "tables.toml",
        "[headers]\nX-B = \"table\"\nX-A = \"table\"\n",
    );
    let tabled = ["--config", tabled.to_str().unwrap()];
    assert_eq!(
        table_lines(&tabled, &[], "headers"),
        ["X-B = \"table\"", "X-A = \"table\""],
        "in the file's order"
    );
    assert_eq!(table_lines(&tabled, &one, "headers"), ["X-C = \"env\""]);
}

/// `--print-config` with these sources: the lines of `[table]`.
fn table_lines(args: &[&str], env: &[(&str, &str)], table: &str) -> Vec<String> {
    let mut all = args.to_vec();
    all.push("--print-config");
    let (code, stdout, stderr) = run(&all, env);
    assert_eq!(code, 0, "{stderr}");
    let header = format!("[{table}]");
    stdout
        .lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_config_file_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "h.toml", "max_headers = 7\n");
    let env = [("HTTPSERVER_CONFIG", file.to_str().unwrap())];
    assert_eq!(effective(&[], &env, "max_headers"), "7");
}

#[test]
fn port_is_read_only_when_no_port_is_given_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "p.toml", "port = 7000\n");
    let file = file.to_str().unwrap();
    let port = [("PORT", "9000")];
    assert_eq!(effective(&[], &port, "port"), "9000");
    assert_eq!(effective(&["--config", file], &port, "port"), "7000");
    let own = [("PORT", "9000"), ("HTTPSERVER_PORT", "7500")];
    assert_eq!(effective(&[], &own, "port"), "7500");
    assert_eq!(effective(&["--port", "7700"], &port, "port"), "7700");

    let (code, _, stderr) = run(&["--print-config"], &[("PORT", "80a")]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        r#"httpserver: PORT: not a valid port: "80a" (invalid digit found in string)"#
    );
    // A port given otherwise makes PORT unread, so it cannot be an error.
    assert_eq!(
        effective(&["--port", "7700"], &[("PORT", "80a")], "port"),
        "7700"
    );
}

#[test]
fn a_bad_environment_value_names_the_variable_and_exits_2() {
    let (code, _, stderr) = run(&["--print-config"], &[("HTTPSERVER_PORT", "80a")]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        r#"httpserver: HTTPSERVER_PORT: not a valid port: "80a" (invalid digit found in string)"#
    );
    let (code, _, stderr) = run(&[], &[("HTTPSERVER_SYMLINKS", "sometimes")]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(r#"httpserver: HTTPSERVER_SYMLINKS: not a valid symlinks: "sometimes""#),
        "{stderr}"
    );
}

#[test]
fn a_bad_file_line_names_the_file_the_line_and_the_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "# comment\nport = 8080\n\nmax_conections = 5\n",
            r#":4: unknown key "max_conections""#,
        ),
        (
            "port = 8080\nmax_body_bytes = \"lots\"\n",
            r#":2: not a valid max_body_bytes: "lots" (invalid digit found in string)"#,
        ),
        ("port = [1, 2]\n", ":1: port: takes one value, not an array"),
        // The key a duplicate is about, and the spelling a flag's name
        // suggests, are named.
        ("port = 1\nport = 2\n", r#":2: duplicate key "port""#),
        (
            "[cors]\norigin = \"*\"\norigin = \"*\"\n",
            r#":3: duplicate key "origin""#,
        ),
        (
            "max-connections = 5\n",
            r#":1: unknown key "max-connections" (keys use _ where flags use -: "max_connections")"#,
        ),
        ("\n\nport = = 1\n", ":3: "),
        // The tables: each entry at its own line.
        (
            "[headers]\nX-A = \"1\"\n\"Bad Name\" = \"x\"\n",
            r#":3: not a valid headers entry: "Bad Name" = "x" ("Bad Name" is not a valid field name)"#,
        ),
        (
            "[headers]\nX-A = [\"1\"]\n",
            ":2: headers.X-A: takes one string, the field's value",
        ),
        (
            "port = 1\n[cors]\norigin = \"*\"\norigins = \"*\"\n",
            r#":4: unknown key "cors.origins""#,
        ),
        (
            "[cors]\norigin = \"https://a.example/path\"\n",
            r#":2: not a valid cors.origin: "https://a.example/path" ("https://a.example/path" is not * or an origin like https://app.example)"#,
        ),
        // A flat key and its table: one or the other.
        (
            "header = [\"X-A: 1\"]\n\n[headers]\nX-B = \"2\"\n",
            ":3: headers: --header is already set by header at line 1; keep one",
        ),
    ];
    for (text, want) in cases {
        let file = write_file(dir.path(), "httpserver.toml", text);
        let (code, stdout, stderr) = run(&["--config", file.to_str().unwrap()], &[]);
        assert_eq!(code, 2, "{text:?}: {stderr}");
        assert_eq!(stdout, "", "nothing served");
        let expected = format!("httpserver: {}{want}", file.display());
        assert!(
            stderr.starts_with(&expected),
            "{text:?}:\n  got  {stderr}\n  want {expected}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    let (code, _, stderr) = run(&["--config", "/nonexistent/httpserver.toml"], &[]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "httpserver: --config: cannot read /nonexistent/httpserver.toml: \
         No such file or directory (os error 2)\n"
    );
    let env = [("HTTPSERVER_CONFIG", "/nonexistent/httpserver.toml")];
    let (code, _, stderr) = run(&[], &env);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "httpserver: HTTPSERVER_CONFIG: cannot read /nonexistent/httpserver.toml: \
         No such file or directory (os error 2)\n"
    );
}

#[test]
fn check_config_exits_0_or_2_without_serving() {
    let root = tempfile::tempdir().unwrap();
    let root_path = root.path().to_str().unwrap();
    let (code, stdout, stderr) = run(&["--check-config", "--root", root_path], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("configuration is valid"), "{stdout}");

    let file = write_file(root.path(), "c.toml", "root = \"/nonexistent/site\"\n");
    let file = file.to_str().unwrap();
    let (code, _, stderr) = run(&["--check-config", "--config", file], &[]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        format!("httpserver: {file}:1: root: /nonexistent/site does not exist")
    );
    // The command line still wins over the file while checking.
    let (code, _, _) = run(
        &["--check-config", "--config", file, "--root", root_path],
        &[],
    );
    assert_eq!(code, 0);

    let (code, _, stderr) = run(
        &[
            "--check-config",
            "--root",
            root_path,
            "--port",
            "9000",
            "--admin",
            "0.0.0.0:9000",
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--admin: 0.0.0.0:9000 overlaps"),
        "{stderr}"
    );
    let (code, _, _) = run(
        &[
            "--check-config",
            "--root",
            root_path,
            "--proxy-protocol",
            "v1",
        ],
        &[],
    );
    assert_eq!(code, 2);
}

#[test]
fn print_config_is_read_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "in.toml",
        "idle_timeout = 2.5\ncors = \"https://a.example\"\nindex = \"index.html,index.htm\"\n",
    );
    let args = [
        "--config",
        file.to_str().unwrap(),
        "-H",
        "X-Frame-Options: DENY",
        "-H",
        "Cache-Control: no-store, \"quoted\"",
        "--trusted-proxies",
        "10.0.0.0/8",
        "--hidden",
        "--workers",
        "3",
        "--print-config",
    ];
    let env = [("HTTPSERVER_ROOT", "/srv/a \"b\""), ("PORT", "9100")];
    let (code, printed, stderr) = run(&args, &env);
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "port = 9100",
        r#"root = '/srv/a "b"'"#,
        "workers = 3",
        "idle_timeout = 2.5",
        "hidden = true",
        r#"origin = "https://a.example""#,
        "X-Frame-Options = \"DENY\"",
        r#"Cache-Control = 'no-store, "quoted"'"#,
    ] {
        assert!(printed.lines().any(|l| l == line), "{line} in\n{printed}");
    }

    let back = write_file(dir.path(), "back.toml", &printed);
    let (code, again, stderr) = run(&["--config", back.to_str().unwrap(), "--print-config"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(again, printed);
}

#[test]
fn the_example_file_is_the_defaults() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/httpserver.example.toml");
    let (code, from_example, stderr) = run(&["--config", example, "--print-config"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let (_, defaults, _) = run(&["--print-config"], &[]);
    assert_eq!(from_example, defaults);
}

#[test]
fn a_server_started_from_a_file_serves_with_its_values() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "bind = \"127.0.0.1\"\nport = 0\nroot = {:?}\n\n[headers]\nX-From = \"file\"\n\n\
         [cors]\norigin = \"https://app.example\"\n",
        root.path().to_str().unwrap()
    );
    let file = write_file(dir.path(), "serve.toml", &text);
    let server = Running::start(&["--config", file.to_str().unwrap()]);
    let port = server.port();
    let mut client = Client::connect(([127, 0, 0, 1], port).into());
    client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.field("x-from"), Some("file"));
    assert_eq!(
        response.field("access-control-allow-origin"),
        Some("https://app.example")
    );
}

/// Every key set to a value other than its default, in `--print-config`'s
/// own order and form: a flag added to `Cli` fails here until it has a line.
const EVERY_KEY_SET: &str = r#"# httpserver --print-config
port = 9100
root = "/srv/site"
bind = "127.0.0.1"
workers = 3
max_connections = 500
max_request_line = 8192
max_header_bytes = 16384
max_headers = 50
max_body_bytes = 1048576
header_timeout = 5
idle_timeout = 2.5
body_timeout = 20
write_timeout = 25
shutdown_grace = 4
defer_accept = 0
linger_timeout = 3
linger_bytes = 1024
cache = "none"
listing = true
symlinks = "deny"
hidden = true
index = "index.html,index.htm"
spa = "app.html"
compress = "off"
compress_min_bytes = 2048
compress_max_bytes = 1048576
compress_cache_bytes = 1024
etag = "content"
proxy_protocol = "v2"
trusted_proxies = ["10.0.0.0/8", "192.168.1.1"]
real_ip_header = "forwarded"
admin = "127.0.0.1:9090"
admin_access_log = true
drain_delay = 1.5
tls_cert = ["/etc/tls/a.crt", "/etc/tls/b.crt"]
tls_key = ["/etc/tls/a.key", "/etc/tls/b.key"]
tls_dir = "/etc/tls/sites"
hsts = 31536000
redirect_http = "0.0.0.0:80"
log_format = "json"
access_log = "/var/log/httpserver/access.log"
log_level = "warn"
auth = "/etc/httpserver/htpasswd"
auth_path = ["/private", "/api"]
auth_realm = "staff"
pid_file = "/run/httpserver.pid"
upgrade_timeout = 4

[headers]
X-Frame-Options = "DENY"
Cache-Control = 'no-store, "quoted"'
"X.Dotted" = ""

[cors]
origin = "https://a.example"
"#;

/// Issue 14.3: `--print-config` prints what `--config` reads back
/// unchanged, with every key set, tables included.
#[test]
fn print_config_round_trips_every_key_and_table() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "all.toml", EVERY_KEY_SET);
    let (code, printed, stderr) = run(&["--config", file.to_str().unwrap(), "--print-config"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(printed, EVERY_KEY_SET);

    // Every key the defaults print is set here, to something else.
    let (_, defaults, _) = run(&["--print-config"], &[]);
    let key_of = |line: &str| -> Option<String> {
        let line = line.strip_prefix("# ").unwrap_or(line);
        let key = line.split([' ', '=']).next()?;
        (!key.is_empty() && !key.starts_with('[')).then(|| key.to_owned())
    };
    for default in defaults.lines().skip(1) {
        let Some(key) = key_of(default) else { continue };
        let set = printed
            .lines()
            .find(|l| key_of(l).as_deref() == Some(&key) && !l.starts_with('#'));
        assert!(
            set.is_some_and(|l| l != default),
            "EVERY_KEY_SET lacks a value other than the default for {key} ({default})"
        );
    }
    assert!(!printed.contains("is not set"), "{printed}");

    // And what was printed is read back to the same text.
    let back = write_file(dir.path(), "back.toml", &printed);
    let (code, again, stderr) = run(&["--config", back.to_str().unwrap(), "--print-config"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(again, printed);
}

/// `-H` may name a field twice (`Vary` twice is two values of a list);
/// a TOML table cannot hold one key twice, so `--print-config` keeps such
/// fields in the flat `header` key, which reads back the same.
#[test]
fn print_config_keeps_a_repeated_field_name_in_the_flat_key() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["-H", "Vary: Origin", "-H", "Vary: Accept", "--print-config"];
    let (code, printed, stderr) = run(&args, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        printed
            .lines()
            .any(|l| l == r#"header = ["Vary: Origin", "Vary: Accept"]"#),
        "{printed}"
    );
    let back = write_file(dir.path(), "back.toml", &printed);
    let (code, again, stderr) = run(&["--config", back.to_str().unwrap(), "--print-config"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(again, printed);
}
