//! Flags → Config → server → exit code.

use clap::error::ErrorKind;
use httpserver::config::sources::{self, Layered, SourceError};
use httpserver::config::{self, ConfigError};
use httpserver::server::Ending;
use httpserver::service::basic_auth::cleartext_password_warning;
use httpserver::service::Router;
use httpserver::{Cli, Config, Listener, Server};
use std::io::Write;
use std::process::ExitCode;

/// Exit code for a command-line mistake (as clap and sysexits' EX_USAGE-ish
/// convention: 2 for usage errors).
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
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
    let (config, site) = match configure(cli) {
        Ok(ready) => ready,
        Err(e) => {
            eprintln!("httpserver: {}", origins.describe(&e));
            return ExitCode::from(USAGE_ERROR);
        }
    };
    if check_only {
        println!(
            "httpserver: configuration is valid (root {}, listening on {})",
            config.root.display(),
            config.addr
        );
        return ExitCode::SUCCESS;
    }
    match run(config, site) {
        Ok(Ending::Stopped) => ExitCode::SUCCESS,
        Ok(Ending::Interrupted(signal)) => {
            eprintln!("httpserver: second signal; exiting without finishing requests");
            // The shell's convention for "killed by this signal".
            ExitCode::from(u8::try_from(128 + signal).unwrap_or(u8::MAX))
        }
        Err(message) => {
            eprintln!("httpserver: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Every check that needs no socket: the values (`into_config`), the
/// addresses against each other, the access-log file, and what is served
/// (the root opened, the `--spa` file found). `--check-config` runs exactly
/// these, like `nginx -t`.
fn configure(cli: Cli) -> Result<(Config, Router), ConfigError> {
    let config = cli.into_config()?;
    config::check_addresses(&config)?;
    config::check_access_log(&config)?;
    let site = httpserver::site(&config)?;
    Ok((config, site))
}

/// clap's message without its tips and usage block: one line on stderr.
fn first_line_of(e: &clap::Error) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or("invalid arguments");
    let line = line.strip_prefix("error: ").unwrap_or(line);
    format!("{line} (see --help)")
}

fn run(config: Config, site: Router) -> Result<Ending, Box<dyn std::error::Error + Send + Sync>> {
    if config.auth.is_some() {
        // HTTPS is not served yet: every listener is plain HTTP.
        let https = false;
        if let Some(warning) = cleartext_password_warning(config.addr.ip(), https) {
            httpserver::diag::warn(format_args!("{warning}"));
        }
    }
    // What the server serves, listener by listener: the site (built by
    // `configure`) on --port, health and metrics on --admin.
    let listener = Listener::bind(config.addr, config.timeouts.defer_accept)?
        .with_proxy_protocol(config.client_address.proxy_protocol);
    // Never behind the PROXY protocol: probes come from the balancer itself.
    let admin = match config.balancer.admin {
        Some(addr) => Some(Listener::bind(addr, std::time::Duration::ZERO)?),
        None => None,
    };
    let mut server = Server::new(config, vec![(listener, site)]);
    if let Some(admin) = admin {
        server = server.with_admin(admin);
    }
    if let Some(lowered) = server.lowered_connection_cap() {
        httpserver::diag::warn(format_args!("{lowered}"));
    }
    let ending = server.run_until_signal(|server| {
        println!("Server listening on :{}", server.local_addr().port());
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
