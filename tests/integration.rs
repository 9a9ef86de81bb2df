//! Integration tests over real loopback sockets: raw bytes in, raw bytes out.

mod support;

#[path = "integration/admin.rs"]
mod admin;
#[path = "integration/basic_auth.rs"]
mod basic_auth;
#[path = "integration/caching.rs"]
mod caching;
#[path = "integration/cli.rs"]
mod cli;
#[path = "integration/compression.rs"]
mod compression;
#[path = "integration/conditional.rs"]
mod conditional;
#[path = "integration/config_errors.rs"]
mod config_errors;
#[path = "integration/config_sources.rs"]
mod config_sources;
#[path = "integration/connection.rs"]
mod connection;
#[path = "integration/deploy_units.rs"]
mod deploy_units;
#[path = "integration/drain.rs"]
mod drain;
#[path = "integration/echo.rs"]
mod echo;
#[path = "integration/file_faults.rs"]
mod file_faults;
#[path = "integration/hostile_clients.rs"]
mod hostile_clients;
#[path = "integration/idle_connections.rs"]
mod idle_connections;
#[path = "integration/limits.rs"]
mod limits;
#[path = "integration/listing.rs"]
mod listing;
#[path = "integration/logs.rs"]
mod logs;
#[path = "integration/policies.rs"]
mod policies;
#[path = "integration/protocol_errors.rs"]
mod protocol_errors;
#[path = "integration/proxy_protocol.rs"]
mod proxy_protocol;
#[path = "integration/ranges.rs"]
mod ranges;
#[path = "integration/real_ip.rs"]
mod real_ip;
#[path = "integration/refused_uploads.rs"]
mod refused_uploads;
#[path = "integration/services.rs"]
mod services;
#[path = "integration/shutdown.rs"]
mod shutdown;
#[path = "integration/shutdown_under_load.rs"]
mod shutdown_under_load;
#[path = "integration/sidecars.rs"]
mod sidecars;
#[path = "integration/smuggling.rs"]
mod smuggling;
#[path = "integration/socket_activation.rs"]
mod socket_activation;
#[path = "integration/static_files.rs"]
mod static_files;
#[path = "integration/timeouts.rs"]
mod timeouts;
#[path = "integration/tls.rs"]
mod tls;
#[path = "integration/tls_certificates.rs"]
mod tls_certificates;
#[path = "integration/upgrade.rs"]
mod upgrade;
