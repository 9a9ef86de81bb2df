//! The units in `deploy/` and what the README promises of them agree: the
//! access log it rotates can be written under `ProtectSystem=strict`, is
//! created `0640`, and logrotate is not asked to name a user that exists
//! only while the service runs. `tests/restart/run.sh` runs
//! `systemd-analyze verify` on the same units.

const SERVICE: &str = include_str!("../../deploy/httpserver.service");
const README: &str = include_str!("../../README.md");

/// The value of `Key=` in the service unit (the last one, as systemd reads
/// a repeated scalar).
fn setting(key: &str) -> Option<&'static str> {
    SERVICE
        .lines()
        .filter_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .next_back()
}

#[test]
fn the_service_unit_can_write_what_the_readme_configures() {
    assert_eq!(setting("ProtectSystem"), Some("strict"));
    // The README's logrotate block and its unit paragraph name these.
    assert!(README.contains("/var/log/httpserver/access.log {"));
    assert!(README.contains("/run/httpserver/httpserver.pid"));
    assert_eq!(setting("LogsDirectory"), Some("httpserver"));
    assert_eq!(setting("RuntimeDirectory"), Some("httpserver"));

    // The access log is created 0640 less the umask: still 0640.
    let umask = u32::from_str_radix(setting("UMask").expect("UMask="), 8).expect("octal");
    assert_eq!(0o640 & !umask, 0o640, "UMask={umask:o}");

    // A DynamicUser= user cannot be named by logrotate's `create`.
    assert_eq!(setting("DynamicUser"), Some("yes"));
    let rotation = README
        .split("/var/log/httpserver/access.log {")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .expect("the logrotate block");
    assert!(rotation.contains("nocreate"), "{rotation}");
    assert!(!rotation.contains("create 0"), "{rotation}");
    assert!(rotation.contains("systemctl kill -s USR1 httpserver.service"));
}
