//! Flags → Config → server → exit code.

use clap::error::ErrorKind;
use httpserver::config::sources::{self, Layered, SourceError};
use httpserver::config::{self, ConfigError};
use httpserver::server::inherited::{self, InheritError, Inherited, Origin, SocketName};
use httpserver::server::lifecycle::Lifecycle;
use httpserver::server::notify::Notifier;
use httpserver::server::tls::TlsSetup;
use httpserver::server::upgrade::{self, Upgrade};
use httpserver::server::Ending;
use httpserver::service::basic_auth::cleartext_password_warning;
use httpserver::service::Router;
use httpserver::{Cli, Config, Listener, Server};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Exit code for a command-line mistake (as clap and sysexits' EX_USAGE-ish
/// convention: 2 for usage errors).
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    // What SIGUSR2 starts: the path this process was started by, resolved
    // now, so an upgrade runs the file at that path then, not this inode.
    let executable = upgrade::executable_at_start();
    // First, while the process has one thread: the sockets systemd or an
    // upgrading predecessor passed, their variables unset (issue 17).
    let inherited = match inherited::take_from_env() {
        Ok(inherited) => inherited,
        Err(e) => {
            eprintln!("httpserver: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    // Command line, then HTTPSERVER_* variables, then --config, then the
    // defaults (issue 14.3).
    let layered = match sources::parse(std::env::args_os()) {
        Ok(layered) => layered,
        Err(SourceError::Clap(e))
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) =>
        {
            e.exit()
        }
        Err(SourceError::Clap(e)) => {
            eprintln!("httpserver: {}", first_line_of(&e));
            return ExitCode::from(USAGE_ERROR);
        }
        Err(SourceError::Source(message)) => {
            eprintln!("httpserver: {message}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let Layered { cli, origins } = layered;
    if cli.sources.print_config {
        print!("{}", origins.to_toml());
        return ExitCode::SUCCESS;
    }
    let check_only = cli.sources.check_config;
    // Everything that can be known wrong before binding is a configuration
    // mistake (exit 2), serving or checking; what fails after (binding,
    // starting workers) is a runtime failure (exit 1).
    // An inherited socket replaces the address it would bind: that
    // address is not checked.
    let passed = inherited
        .as_ref()
        .map(Inherited::untaken)
        .unwrap_or_default();
    let binds = Binds {
        site: !passed.contains(&SocketName::Http) && !passed.contains(&SocketName::Https),
        admin: !passed.contains(&SocketName::Admin),
    };
    let (config, site, tls) = match configure(cli, binds) {
        Ok(ready) => ready,
        Err(e) => {
            eprintln!("httpserver: {}", origins.describe(&e));
            return ExitCode::from(USAGE_ERROR);
        }
    };
    // From here on every diagnostic respects --log-level, the first ones
    // (the clear-text warning, the socket-activation line) included.
    httpserver::diag::set_level(config.log_level);
    if check_only {
        println!(
            "httpserver: configuration is valid (root {}, listening on {})",
            config.root.display(),
            config.addr
        );
        return ExitCode::SUCCESS;
    }
    // Which address settings were given (not defaults): an upgrade names
    // those it cannot change.
    let given = |id| origins.origin(id) != sources::Origin::Default;
    let addresses_given = AddressesGiven {
        port: given("port"),
        bind: given("bind"),
        admin: given("admin"),
    };
    match run(config, site, tls, inherited, executable, addresses_given) {
        Ok(Ending::Stopped) => ExitCode::SUCCESS,
        Ok(Ending::Interrupted(signal)) => {
            httpserver::diag::warn(format_args!(
                "second signal; exiting without finishing requests"
            ));
            // The shell's convention for "killed by this signal".
            ExitCode::from(u8::try_from(128 + signal).unwrap_or(u8::MAX))
        }
        Err(message) => {
            eprintln!("httpserver: {message}");
            // An unusable inherited socket is a mistake in the socket unit,
            // a configuration mistake as a bad flag is: exit 2.
            if message.is::<InheritError>() {
                ExitCode::from(USAGE_ERROR)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Which listeners this process binds itself (not inherited).
#[derive(Debug, Clone, Copy)]
struct Binds {
    site: bool,
    admin: bool,
}

/// Every check that needs no listening socket: the values (`into_config`),
/// the addresses against each other and as this host's (a throwaway bind
/// with port 0), the access-log file, the pid file's directory, what is
/// served (the root opened, the `--spa` file found) and the HTTPS
/// certificates (read, matched with their keys, in date). `--check-config` runs exactly
/// these, like `nginx -t`.
fn configure(cli: Cli, binds: Binds) -> Result<(Config, Router, Option<TlsSetup>), ConfigError> {
    let config = cli.into_config()?;
    config::check_addresses(&config)?;
    config::check_local_addresses(&config, binds.site, binds.admin)?;
    config::check_access_log(&config)?;
    config::check_pid_file(&config)?;
    let site = httpserver::site(&config)?;
    let tls = if config.tls.is_enabled() {
        let (setup, warnings) =
            TlsSetup::load(&config.tls).map_err(|e| ConfigError::general(e.to_string()))?;
        for warning in warnings {
            httpserver::diag::warn(format_args!("{warning}"));
        }
        Some(setup)
    } else {
        None
    };
    Ok((config, site, tls))
}

/// clap's message without its tips and usage block: one line on stderr.
fn first_line_of(e: &clap::Error) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or("invalid arguments");
    let line = line.strip_prefix("error: ").unwrap_or(line);
    format!("{line} (see --help)")
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn run(
    config: Config,
    site: Router,
    tls: Option<TlsSetup>,
    mut inherited: Option<Inherited>,
    executable: PathBuf,
    addresses_given: AddressesGiven,
) -> Result<Ending, BoxError> {
    // What the server serves, listener by listener: the site (built by
    // `configure`) on --port, HTTPS when it has certificates; the HTTPS
    // redirect on --redirect-http; health and metrics on --admin. Each is
    // an inherited socket of its name if one was passed, and each is handed
    // over on an upgrade.
    let defer = config.timeouts.defer_accept;
    let activated: Vec<SocketName> = inherited
        .as_ref()
        .filter(|inherited| inherited.origin == Origin::SocketActivation)
        .map(Inherited::untaken)
        .unwrap_or_default();
    let handed_over: Vec<SocketName> = inherited
        .as_ref()
        .filter(|inherited| matches!(inherited.origin, Origin::Handover { .. }))
        .map(Inherited::untaken)
        .unwrap_or_default();
    let mut upgrade = Upgrade::new(executable, std::env::args_os().collect());
    let sockets = &mut (&mut inherited, &mut upgrade);
    let site_name = match tls {
        Some(_) => SocketName::Https,
        None => SocketName::Http,
    };
    let listener = open_listener(sockets, site_name, Some(config.addr), defer)?
        .expect("an address always gives a listener")
        .with_proxy_protocol(config.client_address.proxy_protocol)
        .with_tls(tls);
    let https_port = listener.local_addr().port();
    let redirect = open_listener(
        sockets,
        SocketName::Redirect,
        config.tls.redirect_http,
        defer,
    )?;
    // Never behind the PROXY protocol: probes come from the balancer itself.
    let admin = open_listener(
        sockets,
        SocketName::Admin,
        config.balancer.admin,
        Duration::ZERO,
    )?;
    if let Some(inherited) = &inherited {
        check_all_taken(inherited)?;
    }
    for line in unchangeable_settings(
        &config,
        addresses_given,
        &handed_over,
        (site_name, &listener),
        admin.as_ref(),
    ) {
        httpserver::diag::warn(format_args!("{line}"));
    }
    if config.auth.is_some() {
        // From the socket served, bound or inherited (socket activation, an
        // upgrade), not from --bind, which an inherited socket ignores.
        let https = site_name == SocketName::Https;
        if let Some(warning) = cleartext_password_warning(listener.local_addr().ip(), https) {
            httpserver::diag::warn(format_args!("{warning}"));
        }
    }
    if !activated.is_empty() {
        let addresses = [
            // The site's socket, by the name it was passed under.
            (
                [site_name, SocketName::Http]
                    .into_iter()
                    .find(|name| activated.contains(name))
                    .unwrap_or(site_name),
                Some(&listener),
            ),
            (SocketName::Redirect, redirect.as_ref()),
            (SocketName::Admin, admin.as_ref()),
        ];
        httpserver::diag::info(format_args!(
            "{}",
            describe_activation(&activated, &addresses)
        ));
    }
    let lifecycle = Lifecycle {
        notifier: Notifier::from_env(),
        pid_file: config.restart.pid_file.clone(),
        ready_pipe: inherited.as_mut().and_then(Inherited::take_ready_pipe),
        upgrade: Some(Arc::new(upgrade)),
        upgrade_timeout: config.restart.upgrade_timeout,
    };
    let mut services = vec![(listener, site)];
    if let Some(redirect) = redirect {
        let router = httpserver::service::https_redirect::router(https_port);
        services.push((redirect, router));
    }
    let mut server = Server::new(config, services).with_lifecycle(lifecycle);
    if let Some(admin) = admin {
        server = server.with_admin(admin);
    }
    if let Some(lowered) = server.lowered_connection_cap() {
        httpserver::diag::warn(format_args!("{lowered}"));
    }
    let ending = server.run_until_signal(|server| {
        // The first line, as scripts read it, whether the site speaks
        // HTTP or HTTPS.
        println!("Server listening on :{}", server.local_addr().port());
        if server.config().tls.is_enabled() {
            println!("HTTPS on :{}", server.local_addr().port());
        }
        if let Some(redirect) = server
            .local_addrs()
            .get(1)
            .filter(|_| server.config().tls.redirect_http.is_some())
        {
            println!("HTTP redirect listening on {redirect}");
        }
        if let Some(admin) = server.admin_addr() {
            println!("Admin listening on {admin}");
        }
        println!(
            "Cache policy: {}",
            server.config().static_files.cache.describe()
        );
        let _ = std::io::stdout().flush();
    })?;
    Ok(ending)
}

/// The listener named `name`: the inherited socket of that name if one was
/// passed, else a socket bound on `configured` if the configuration asks
/// for one; either way registered with the upgrade, which hands it over
/// under its name. One call per listener the server has.
fn open_listener(
    (inherited, upgrade): &mut (&mut Option<Inherited>, &mut Upgrade),
    name: SocketName,
    configured: Option<SocketAddr>,
    defer_accept: Duration,
) -> Result<Option<Listener>, BoxError> {
    let passed = inherited.as_mut().and_then(|inherited| {
        inherited.take(name).or_else(|| match name {
            // A lone socket is named http whatever its unit called it;
            // with certificates, the site it is for speaks HTTPS.
            SocketName::Https => inherited.take(SocketName::Http),
            _ => None,
        })
    });
    let listener = match passed {
        Some(fd) => Listener::from_inherited(name, fd, defer_accept)?,
        None => match configured {
            Some(addr) => Listener::bind(addr, defer_accept)?,
            None => return Ok(None),
        },
    };
    upgrade.add_socket(name, listener.as_fd())?;
    Ok(Some(listener))
}

/// The stderr line that says which listeners systemd's sockets became, and
/// so which flags are not used: "listening on the sockets systemd passed
/// (http on [::]:80); --port and --bind are not used".
fn describe_activation(
    passed: &[SocketName],
    listeners: &[(SocketName, Option<&Listener>)],
) -> String {
    let mut serving = Vec::new();
    let mut unused: Vec<&str> = Vec::new();
    for (name, listener) in listeners {
        if let (true, Some(listener)) = (passed.contains(name), listener) {
            serving.push(format!("{name} on {}", listener.local_addr()));
            unused.extend(match name {
                SocketName::Http => &["--port", "--bind"][..],
                SocketName::Admin => &["--admin"][..],
                SocketName::Https => &["--port", "--bind"][..],
                SocketName::Redirect => &["--redirect-http"][..],
            });
        }
    }
    let unused = match unused.split_last() {
        Some((last, [])) => format!("{last} is not used"),
        Some((last, rest)) => format!("{} and {last} are not used", rest.join(", ")),
        None => "no flag's address is used instead".to_string(),
    };
    format!(
        "listening on the sockets systemd passed ({}); {unused}",
        serving.join(", ")
    )
}

/// Which of the address settings a source gave (command line, environment,
/// file, `PORT`), as opposed to their defaults.
#[derive(Debug, Clone, Copy)]
struct AddressesGiven {
    port: bool,
    bind: bool,
    admin: bool,
}

/// After an upgrade, the settings that differ from the inherited sockets
/// this process serves, one line each: the successor serves what it was
/// handed, so a changed `port`, `bind` or `admin` needs a restart. Only a
/// setting that was given is compared (a default says nothing about the
/// socket, which may have come from systemd), and port 0 matches any port.
/// An `admin` added where the predecessor had none is bound anew and so
/// is not named here.
fn unchangeable_settings(
    config: &Config,
    given: AddressesGiven,
    handed_over: &[SocketName],
    (site_name, listener): (SocketName, &Listener),
    admin: Option<&Listener>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut differs = |setting: String, name: SocketName, served: SocketAddr| {
        lines.push(format!(
            "upgrade: {setting} but the inherited {name} socket on {served} is served; \
             restart to move it"
        ));
    };
    if handed_over.contains(&site_name) {
        let served = listener.local_addr();
        let port = config.addr.port();
        if given.port && port != 0 && port != served.port() {
            differs(format!("port changed to {port}"), site_name, served);
        }
        let bind = config.addr.ip();
        // `::` is served as 0.0.0.0 where there is no IPv6: the same bind.
        let same = bind == served.ip() || (bind.is_unspecified() && served.ip().is_unspecified());
        if given.bind && !same {
            differs(format!("bind changed to {bind}"), site_name, served);
        }
    }
    if let (true, true, Some(wanted), Some(admin)) = (
        handed_over.contains(&SocketName::Admin),
        given.admin,
        config.balancer.admin,
        admin,
    ) {
        let served = admin.local_addr();
        if wanted.ip() != served.ip() || (wanted.port() != 0 && wanted.port() != served.port()) {
            differs(
                format!("admin changed to {wanted}"),
                SocketName::Admin,
                served,
            );
        }
    }
    lines
}

/// A socket passed for a listener this server does not have is a
/// mistake in the socket unit, not something to ignore silently.
fn check_all_taken(inherited: &Inherited) -> Result<(), InheritError> {
    match inherited.untaken().first() {
        None => Ok(()),
        Some(name) => Err(InheritError(format!(
            "an inherited socket is named {name}, but this server has no {name} listener"
        ))),
    }
}
