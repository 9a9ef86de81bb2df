//! Issue 14.3: a configuration mistake found after the sources were read
//! (a root that does not exist, a flag that needs another, two listeners on
//! one address) names where its value came from, and exits 2, whether the
//! binary was serving or checking. A failure after the configuration was
//! accepted exits 1: `cli::port_in_use_is_a_runtime_failure_exit_1`.

use crate::config_sources::{run_in, write_file};

/// One mistake, given one way: command-line flags, environment variables,
/// the `--config` file's text (or none), and the line expected on stderr,
/// where `{file}` stands for the file's path.
struct Case {
    flags: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    file: Option<&'static str>,
    want: &'static str,
}

/// Run `case` serving, then with `--check-config`: the same one line on
/// stderr, nothing on stdout, exit 2 both times.
fn assert_mistake(case: &Case) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    std::fs::create_dir(&root).unwrap();
    let mut args: Vec<&str> = case.flags.to_vec();
    let file = case
        .file
        .map(|text| write_file(dir.path(), "httpserver.toml", text));
    let file_arg = file.as_ref().map(|f| f.to_str().unwrap().to_owned());
    if let Some(path) = &file_arg {
        args.extend(["--config", path]);
    }
    let want = format!(
        "httpserver: {}\n",
        case.want
            .replace("{file}", file_arg.as_deref().unwrap_or("?"))
    );
    for check in [false, true] {
        let mut args = args.clone();
        if check {
            args.push("--check-config");
        }
        // The working directory holds `site` (for `root = "site"`) and no
        // `public`, the default root.
        let (code, stdout, stderr) = run_in(dir.path(), &args, case.env);
        assert_eq!(
            (code, stdout.as_str(), stderr.as_str()),
            (2, "", want.as_str()),
            "{args:?} with {:?}",
            case.env
        );
    }
}

#[test]
fn a_bad_root_names_its_source_and_exits_2() {
    for case in [
        Case {
            flags: &["--root", "/nonexistent/site"],
            env: &[],
            file: None,
            want: "--root: /nonexistent/site does not exist",
        },
        Case {
            flags: &[],
            env: &[("HTTPSERVER_ROOT", "/nonexistent/site")],
            file: None,
            want: "HTTPSERVER_ROOT: /nonexistent/site does not exist",
        },
        Case {
            flags: &[],
            env: &[],
            file: Some("# the site\nport = 8080\nroot = \"/nonexistent/site\"\n"),
            want: "{file}:3: root: /nonexistent/site does not exist",
        },
        // Nobody set it: the default, said as such.
        Case {
            flags: &[],
            env: &[],
            file: None,
            want: "--root (default): ./public does not exist",
        },
        // The file's value lost to the environment's: the environment is
        // named.
        Case {
            flags: &[],
            env: &[("HTTPSERVER_ROOT", "/proc/version")],
            file: Some("root = \"site\"\n"),
            want: "HTTPSERVER_ROOT: /proc/version is not a directory",
        },
    ] {
        assert_mistake(&case);
    }
}

#[test]
fn a_flag_that_needs_another_names_both_by_their_sources() {
    for case in [
        Case {
            flags: &["--root", "."],
            env: &[],
            file: Some("proxy_protocol = \"v1\"\n"),
            want: "{file}:1: proxy_protocol: needs trusted_proxies (the CIDR ranges allowed to send it)",
        },
        Case {
            flags: &["--root", "."],
            env: &[("HTTPSERVER_REAL_IP_HEADER", "forwarded")],
            file: None,
            want: "HTTPSERVER_REAL_IP_HEADER: needs HTTPSERVER_TRUSTED_PROXIES (the CIDR ranges allowed to send it)",
        },
        Case {
            flags: &["--root", ".", "--proxy-protocol", "v2"],
            env: &[],
            file: None,
            want: "--proxy-protocol: needs --trusted-proxies (the CIDR ranges allowed to send it)",
        },
        // The admin listener on the site's address: each of the three
        // values named where it came from (bind from the command line,
        // port from the environment or from PORT, admin from the file).
        Case {
            flags: &["--root", ".", "--bind", "127.0.0.1"],
            env: &[("HTTPSERVER_PORT", "9000")],
            file: Some("\nadmin = \"127.0.0.1:9000\"\n"),
            want: "{file}:2: admin: 127.0.0.1:9000 overlaps the site's address 127.0.0.1:9000 (--bind, HTTPSERVER_PORT)",
        },
        Case {
            flags: &["--root", "."],
            env: &[("PORT", "9000"), ("HTTPSERVER_ADMIN", "0.0.0.0:9000")],
            file: Some("bind = \"127.0.0.1\"\n"),
            want: "HTTPSERVER_ADMIN: 0.0.0.0:9000 overlaps the site's address 127.0.0.1:9000 (bind ({file}:1), PORT)",
        },
    ] {
        assert_mistake(&case);
    }
}

#[test]
fn values_checked_after_parsing_name_their_source() {
    for case in [
        Case {
            flags: &["--root", "."],
            env: &[("HTTPSERVER_IDLE_TIMEOUT", "0")],
            file: None,
            want: "HTTPSERVER_IDLE_TIMEOUT: must be a positive number of seconds, got 0",
        },
        Case {
            flags: &["--root", "."],
            env: &[],
            file: Some("root = \"/\"\nworkers = 0\n"),
            want: "{file}:2: workers: must be at least 1",
        },
        Case {
            flags: &["--root", ".", "--drain-delay=-1"],
            env: &[],
            file: None,
            want: "--drain-delay: must be zero or a positive number of seconds, got -1",
        },
        // What is served: the --spa file must be there.
        Case {
            flags: &[],
            env: &[],
            file: Some("root = \"site\"\nspa = \"app.html\"\n"),
            want: "{file}:2: spa: app.html is not a regular file under the root",
        },
        // The access-log file must be one the server can open, before it
        // takes the port.
        Case {
            flags: &["--root", "."],
            env: &[("HTTPSERVER_ACCESS_LOG", "/nonexistent/dir/access.log")],
            file: None,
            want: "HTTPSERVER_ACCESS_LOG: cannot open /nonexistent/dir/access.log: No such file or directory (os error 2)",
        },
    ] {
        assert_mistake(&case);
    }
}

/// What stopped the server only after "Server listening" (a pid file in a
/// directory that cannot be written: exit 1) or at its bind (an address
/// that is not this host's) is found before binding, serving or checking:
/// one line, exit 2. Before, `--check-config` passed both.
#[test]
fn what_would_stop_the_server_at_start_is_found_before_binding() {
    for case in [
        Case {
            flags: &[
                "--root",
                "site",
                "--port",
                "0",
                "--pid-file",
                "missing/httpserver.pid",
            ],
            env: &[],
            file: None,
            want: "--pid-file: cannot write missing/httpserver.pid: directory missing: \
                   No such file or directory (os error 2)",
        },
        Case {
            flags: &["--port", "0"],
            env: &[("HTTPSERVER_PID_FILE", "site/index.html/httpserver.pid")],
            file: Some("root = \"site\"\n"),
            want: "HTTPSERVER_PID_FILE: cannot write site/index.html/httpserver.pid: directory \
                   site/index.html: No such file or directory (os error 2)",
        },
        Case {
            flags: &["--root", "site", "--port", "0"],
            env: &[("HTTPSERVER_BIND", "192.0.2.1")],
            file: None,
            want: "HTTPSERVER_BIND: 192.0.2.1 is not an address of this host (Cannot assign \
                   requested address (os error 99))",
        },
        Case {
            flags: &["--port", "0"],
            env: &[],
            file: Some("root = \"site\"\nadmin = \"192.0.2.1:9000\"\n"),
            want: "{file}:2: admin: 192.0.2.1 is not an address of this host (Cannot assign \
                   requested address (os error 99))",
        },
    ] {
        assert_mistake(&case);
    }
}
