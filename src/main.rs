//! Flags → Config → server → exit code.

use clap::error::ErrorKind;
use httpserver::config::sources::{self, SourceError};
use httpserver::server::tls::{CertificateError, TlsSetup};
use httpserver::server::Ending;
use httpserver::{Cli, Listener, Server};
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
    if layered.cli.sources.print_config {
        print!("{}", layered.to_toml());
        return ExitCode::SUCCESS;
    }
    let cli = layered.cli;
    if let Err(message) = cli.client_address_policy() {
        eprintln!("httpserver: {message} (see --help)");
        return ExitCode::from(USAGE_ERROR);
    }
    // Unpaired certificate flags, --hsts without HTTPS: usage mistakes.
    if let Err(message) = cli.tls.clone().into_options() {
        eprintln!("httpserver: {message} (see --help)");
        return ExitCode::from(USAGE_ERROR);
    }
    if cli.sources.check_config {
        return check_config(cli);
    }
    match run(cli) {
        Ok(Ending::Stopped) => ExitCode::SUCCESS,
        Ok(Ending::Interrupted(signal)) => {
            eprintln!("httpserver: second signal; exiting without finishing requests");
            // The shell's convention for "killed by this signal".
            ExitCode::from(u8::try_from(128 + signal).unwrap_or(u8::MAX))
        }
        Err(message) => {
            eprintln!("httpserver: {message}");
            // A certificate that cannot be served is a configuration
            // mistake, like a bad flag.
            if message.is::<CertificateError>() {
                ExitCode::from(USAGE_ERROR)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// `--check-config`: everything `run` checks before it binds, then exit
/// 0 (valid) or 2 (not), serving nothing, like `nginx -t`.
fn check_config(cli: Cli) -> ExitCode {
    let checked = cli.into_config().and_then(|config| {
        httpserver::config::check_addresses(&config)?;
        Ok(config)
    });
    let checked = checked.map_err(|e| e.to_string()).and_then(|config| {
        if config.tls.is_enabled() {
            let (_, warnings) = TlsSetup::load(&config.tls).map_err(|e| e.to_string())?;
            for warning in warnings {
                httpserver::diag::warn(format_args!("{warning}"));
            }
        }
        Ok(config)
    });
    match checked {
        Ok(config) => {
            println!(
                "httpserver: configuration is valid (root {}, listening on {})",
                config.root.display(),
                config.addr
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("httpserver: {e}");
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// clap's message without its tips and usage block: one line on stderr.
fn first_line_of(e: &clap::Error) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or("invalid arguments");
    let line = line.strip_prefix("error: ").unwrap_or(line);
    format!("{line} (see --help)")
}

fn run(cli: Cli) -> Result<Ending, Box<dyn std::error::Error + Send + Sync>> {
    let config = cli.into_config()?;
    // What the server serves, listener by listener: the site on --port
    // (HTTPS with certificates), the HTTPS redirect on --redirect-http,
    // health and metrics on --admin.
    let site = httpserver::site(&config)?;
    let tls = if config.tls.is_enabled() {
        let (setup, warnings) = TlsSetup::load(&config.tls)?;
        for warning in warnings {
            httpserver::diag::warn(format_args!("{warning}"));
        }
        Some(setup)
    } else {
        None
    };
    let listener = Listener::bind(config.addr, config.timeouts.defer_accept)?
        .with_proxy_protocol(config.client_address.proxy_protocol)
        .with_tls(tls);
    let https_port = listener.local_addr().port();
    let redirect = match config.tls.redirect_http {
        Some(addr) => Some(Listener::bind(addr, config.timeouts.defer_accept)?),
        None => None,
    };
    // Never behind the PROXY protocol: probes come from the balancer itself.
    let admin = match config.balancer.admin {
        Some(addr) => Some(Listener::bind(addr, std::time::Duration::ZERO)?),
        None => None,
    };
    let mut services = vec![(listener, site)];
    if let Some(redirect) = redirect {
        let router = httpserver::service::https_redirect::router(https_port);
        services.push((redirect, router));
    }
    let mut server = Server::new(config, services);
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
