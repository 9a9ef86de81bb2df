//! Flags → Config → server → exit code.

use clap::Parser;
use httpserver::{Cli, Server};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("httpserver: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let config = cli.into_config()?;
    let server = Server::bind(config)?;
    println!("Server listening on :{}", server.local_addr().port());
    server.run_until_signal()?;
    Ok(())
}
