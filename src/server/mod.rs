//! The only code that owns sockets, tasks and timers.
//!
//! [`Server::bind`] checks the root, raises the open-file limit and listens;
//! [`Server::start`] runs one event loop per worker thread, all accepting
//! from the same listening socket (chosen by measurement, see README
//! "Performance": against one multi-threaded runtime and against one
//! SO_REUSEPORT listener per worker, on 2 cores with 2 workers it was as
//! fast with keep-alive and faster for connection-per-request than the
//! multi-threaded runtime, and within noise of SO_REUSEPORT, which would
//! also need a probe to keep "address in use" for a second server); [`RunningServer::shutdown`] stops
//! accepting, lets in-flight requests finish within the grace period, and
//! closes idle connections.

pub mod access_log;
mod clock;
mod connection;
mod listener;
mod parking;
pub mod shutdown;
mod transmit;
pub mod transport;

pub use listener::{ListenError, LoweredCap};

use crate::config::{Config, ConfigError};
use crate::service::static_files::StaticFiles;
use crate::service::Router;
use access_log::{AccessLog, LogWriter};
use bytes::BytesMut;
use connection::{serve_connection, ConnectionContext};
use parking::{Parked, Parking};
use shutdown::{
    shutdown_channel, ConnectionGuard, ConnectionTracker, ShutdownSignal, ShutdownTrigger,
};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use transport::{Accepted, PlainTcp, Transport};

/// After `accept` fails for lack of file descriptors, wait this long before
/// trying again rather than spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A bound server, not yet serving.
pub struct Server {
    listener: std::net::TcpListener,
    local_addr: SocketAddr,
    config: Arc<Config>,
    router: Arc<Router>,
    lowered_cap: Option<LoweredCap>,
}

/// A serving server: its workers run until [`RunningServer::shutdown`].
pub struct RunningServer {
    local_addr: SocketAddr,
    trigger: ShutdownTrigger,
    workers: Vec<JoinHandle<()>>,
    log_writer: LogWriter,
    tracker: Arc<ConnectionTracker>,
}

impl Server {
    /// Check the root, raise the open-file limit, and listen.
    pub fn bind(mut config: Config) -> Result<Server, Box<dyn std::error::Error + Send + Sync>> {
        let static_files = StaticFiles::new(config.root.clone(), config.static_files.clone())
            .map_err(|e| ConfigError(format!("cannot open root {}: {e}", config.root.display())))?;
        let router = Router::new(static_files).with_policy(config.response_policy.clone());
        let (max_connections, lowered_cap) =
            listener::raise_open_file_limit(config.max_connections);
        config.max_connections = max_connections;
        let listener = listener::listen(config.addr, config.timeouts.defer_accept)?;
        let local_addr = listener.local_addr()?;
        Ok(Server {
            listener,
            local_addr,
            config: Arc::new(config),
            router: Arc::new(router),
            lowered_cap,
        })
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The configuration in force (after the connection cap was fitted under
    /// the open-file limit).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Why the connection cap in force is lower than `--max-connections`
    /// asked, if it is: the open-file limit leaves no room for more.
    pub fn lowered_connection_cap(&self) -> Option<&LoweredCap> {
        self.lowered_cap.as_ref()
    }

    /// Start the worker threads; access-log lines go to `log_sink`.
    pub fn start(self, log_sink: Box<dyn Write + Send>) -> io::Result<RunningServer> {
        let (log, log_writer) = AccessLog::start(log_sink);
        let (trigger, signal) = shutdown_channel();
        let context = Arc::new(ConnectionContext {
            config: Arc::clone(&self.config),
            router: self.router,
            log,
        });
        let slots = Arc::new(Semaphore::new(self.config.max_connections));
        let tracker = Arc::new(ConnectionTracker::default());
        let mut workers = Vec::with_capacity(self.config.workers);
        for index in 0..self.config.workers {
            let listener = self.listener.try_clone()?;
            let worker = Worker {
                context: Arc::clone(&context),
                slots: Arc::clone(&slots),
                tracker: Arc::clone(&tracker),
                shutdown: signal.clone(),
            };
            let handle = std::thread::Builder::new()
                .name(format!("worker-{index}"))
                .spawn(move || worker.run(listener))?;
            workers.push(handle);
        }
        Ok(RunningServer {
            local_addr: self.local_addr,
            trigger,
            workers,
            log_writer,
            tracker,
        })
    }

    /// Serve with the access log on stdout until SIGINT or SIGTERM, then shut
    /// down gracefully. `announce` runs once the signal handlers are in
    /// place, so a signal sent by whoever reads the announcement is never
    /// lost to the default action (which would kill the process outright).
    pub fn run_until_signal(self, announce: impl FnOnce(&Server)) -> io::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let signals = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (mut interrupt, mut terminate) = signals.block_on(async {
            Ok::<_, io::Error>((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            ))
        })?;
        announce(&self);
        let running = self.start(Box::new(io::stdout()))?;
        signals.block_on(async {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        });
        running.shutdown();
        Ok(())
    }
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many connections are open right now (accepted and not yet
    /// closed), across every worker. For tests and monitoring: it moves as
    /// clients come and go.
    pub fn open_connections(&self) -> usize {
        self.tracker.open_count()
    }

    /// Stop accepting, let in-flight requests finish (within the grace
    /// period), close idle connections, flush the access log, and return.
    pub fn shutdown(self) {
        self.trigger.trigger();
        for worker in self.workers {
            let _ = worker.join();
        }
        self.log_writer.finish();
    }
}

/// One worker thread: an event loop accepting from its copy of the listener.
struct Worker {
    context: Arc<ConnectionContext>,
    slots: Arc<Semaphore>,
    tracker: Arc<ConnectionTracker>,
    shutdown: ShutdownSignal,
}

impl Worker {
    fn run(self, listener: std::net::TcpListener) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("httpserver: cannot start a worker: {e}");
                return;
            }
        };
        runtime.block_on(async move {
            let listener = match TcpListener::from_std(listener) {
                Ok(listener) => listener,
                Err(e) => {
                    eprintln!("httpserver: cannot start a worker: {e}");
                    return;
                }
            };
            let parking = Arc::new(Parking::default());
            let mut shutdown = self.shutdown.clone();
            let parked = parking.run(async move { shutdown.triggered().await }, |woken| {
                let accepted = Accepted {
                    transport: woken.transport,
                    peer: woken.peer,
                    preread: BytesMut::new(),
                };
                self.spawn_connection(accepted, woken.hold, &parking)
            });
            tokio::join!(self.accept_until_shutdown(&listener, &parking), parked);
            drop(listener);
            let grace = self.context.config.timeouts.shutdown_grace;
            let _ = tokio::time::timeout(grace, self.tracker.all_closed()).await;
        });
        // Dropping the runtime cancels connections still open after the
        // grace period, closing their sockets.
    }

    async fn accept_until_shutdown(
        &self,
        listener: &TcpListener,
        parking: &Arc<Parking<PlainTcp, Hold>>,
    ) {
        let mut shutdown = self.shutdown.clone();
        loop {
            // Take a connection slot before accepting: at the cap, clients
            // wait in the kernel's accept queue rather than being dropped.
            let slot = tokio::select! {
                biased;
                () = shutdown.triggered() => return,
                slot = Arc::clone(&self.slots).acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => return,
                },
            };
            let accepted = tokio::select! {
                biased;
                () = shutdown.triggered() => return,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    if is_out_of_descriptors(&e) {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            };
            // TCP_NODELAY comes from the listener (see listener::bind).
            let hold = Hold {
                _slot: slot,
                _guard: self.tracker.open(),
            };
            let accepted = Accepted {
                transport: PlainTcp::new(stream),
                peer,
                preread: BytesMut::new(),
            };
            self.spawn_connection(accepted, hold, parking);
        }
    }

    /// Serve a connection in a task of its own; if it goes idle, park it.
    fn spawn_connection<T: Transport>(
        &self,
        accepted: Accepted<T>,
        hold: Hold,
        parking: &Arc<Parking<T, Hold>>,
    ) {
        let context = Arc::clone(&self.context);
        let signal = self.shutdown.clone();
        let parking = Arc::clone(parking);
        tokio::spawn(async move {
            let peer = accepted.peer;
            let mut accepted = accepted;
            let mut hold = hold;
            // A connection whose bytes arrive just as it parks comes back.
            while let Some(idle) =
                serve_connection(accepted, Arc::clone(&context), signal.clone()).await
            {
                let parked = Parked {
                    transport: idle.transport,
                    peer,
                    hold,
                    deadline: idle.deadline,
                };
                match parking.park(parked) {
                    Some(back) => {
                        hold = back.hold;
                        accepted = Accepted {
                            transport: back.transport,
                            peer,
                            preread: BytesMut::new(),
                        };
                    }
                    None => return,
                }
            }
        });
    }
}

/// What an open connection holds, in a task or parked: its slot under the
/// connection cap and its place in the open-connection count. Dropping it
/// is what closing a connection releases.
struct Hold {
    _slot: OwnedSemaphorePermit,
    _guard: ConnectionGuard,
}

fn is_out_of_descriptors(e: &io::Error) -> bool {
    let code = e.raw_os_error();
    code == Some(rustix::io::Errno::MFILE.raw_os_error())
        || code == Some(rustix::io::Errno::NFILE.raw_os_error())
}
