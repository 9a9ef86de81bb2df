//! The only code that owns sockets, tasks and timers.
//!
//! A [`Server`] is handed what it serves: [`Server::new`] takes listeners,
//! each paired with the [`Router`] it serves (the site on one, an admin
//! service on another), and raises the open-file limit; [`Server::bind`] is
//! the one-listener convenience that builds the site from the
//! configuration. [`Server::start`] runs one event loop per worker thread,
//! each accepting from every listening socket (chosen by measurement, see README
//! "Performance": against one multi-threaded runtime and against one
//! SO_REUSEPORT listener per worker, on 2 cores with 2 workers it was as
//! fast with keep-alive and faster for connection-per-request than the
//! multi-threaded runtime, and within noise of SO_REUSEPORT, which would
//! also need a probe to keep "address in use" for a second server); [`RunningServer::shutdown`] stops
//! accepting, lets in-flight requests finish within the grace period, and
//! closes idle connections.

pub mod access_log;
pub mod client_address;
mod clock;
mod connection;
mod listener;
mod parking;
pub mod shutdown;
mod transmit;
pub mod transport;

pub use listener::{ListenError, Listener, LoweredCap};

use crate::config::Config;
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
use transport::proxy::{ProxyPreamble, ProxyRejections};
use transport::{Accepted, PlainTcp, Transport};

/// After `accept` fails for lack of file descriptors, wait this long before
/// trying again rather than spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A bound server, not yet serving.
pub struct Server {
    /// Each listener and the service it serves; never empty.
    services: Vec<(Listener, Arc<Router>)>,
    config: Arc<Config>,
    lowered_cap: Option<LoweredCap>,
    proxy_rejections: Arc<ProxyRejections>,
}

/// A serving server: its workers run until [`RunningServer::shutdown`].
pub struct RunningServer {
    local_addrs: Vec<SocketAddr>,
    trigger: ShutdownTrigger,
    workers: Vec<JoinHandle<()>>,
    log_writer: LogWriter,
    tracker: Arc<ConnectionTracker>,
    proxy_rejections: Arc<ProxyRejections>,
}

impl Server {
    /// A server serving each listener with its router, under `config`'s
    /// limits, timeouts, worker count and connection cap (shared by all
    /// listeners). `config`'s address and site fields are not read here:
    /// the listeners and routers already embody them. Raises the open-file
    /// limit, lowering the connection cap to fit under it if need be.
    ///
    /// # Panics
    /// If `services` is empty: a server with nothing to serve is a mistake
    /// in the code that builds it.
    pub fn new(mut config: Config, services: Vec<(Listener, Router)>) -> Server {
        assert!(!services.is_empty(), "a server needs a listener");
        let (max_connections, lowered_cap) =
            listener::raise_open_file_limit(config.max_connections);
        config.max_connections = max_connections;
        Server {
            services: services
                .into_iter()
                .map(|(listener, router)| (listener, Arc::new(router)))
                .collect(),
            config: Arc::new(config),
            lowered_cap,
            proxy_rejections: Arc::default(),
        }
    }

    /// The site ([`crate::site`]: its routes and the root's files) on
    /// `config.addr`: checks the root, listens, and hands both to
    /// [`Server::new`].
    pub fn bind(config: Config) -> Result<Server, Box<dyn std::error::Error + Send + Sync>> {
        let site = crate::site(&config)?;
        let listener = Listener::bind(config.addr, config.timeouts.defer_accept)?
            .with_proxy_protocol(config.client_address.proxy_protocol);
        Ok(Server::new(config, vec![(listener, site)]))
    }

    /// The address the first listener actually bound (with the real port
    /// when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.services[0].0.local_addr()
    }

    /// Every listener's address, in the order they were handed over.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.services
            .iter()
            .map(|(listener, _)| listener.local_addr())
            .collect()
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

    /// Connections closed before HTTP on listeners that require a PROXY
    /// header, by reason; shared with the running server, so a service
    /// built before [`Server::start`] (metrics) can hold it.
    pub fn proxy_rejections(&self) -> Arc<ProxyRejections> {
        Arc::clone(&self.proxy_rejections)
    }

    /// Start the worker threads; access-log lines go to `log_sink`.
    pub fn start(self, log_sink: Box<dyn Write + Send>) -> io::Result<RunningServer> {
        let local_addrs = self.local_addrs();
        let (log, log_writer) = AccessLog::start(log_sink);
        let (trigger, signal) = shutdown_channel();
        let contexts: Vec<Arc<ConnectionContext>> = self
            .services
            .iter()
            .map(|(_, service)| {
                Arc::new(ConnectionContext {
                    config: Arc::clone(&self.config),
                    service: Arc::clone(service),
                    log: log.clone(),
                })
            })
            .collect();
        // One per listener that requires a PROXY header, shared by workers.
        let preambles: Vec<Option<Arc<ProxyPreamble>>> = self
            .services
            .iter()
            .map(|(listener, _)| {
                listener.proxy_protocol().map(|versions| {
                    Arc::new(ProxyPreamble::new(
                        versions,
                        self.config.client_address.trusted_proxies.clone(),
                        self.config.timeouts.header_read,
                        Arc::clone(&self.proxy_rejections),
                    ))
                })
            })
            .collect();
        let slots = Arc::new(Semaphore::new(self.config.max_connections));
        let tracker = Arc::new(ConnectionTracker::default());
        let mut workers = Vec::with_capacity(self.config.workers);
        for index in 0..self.config.workers {
            let mut acceptors = Vec::with_capacity(self.services.len());
            for (((listener, _), context), proxy) in
                self.services.iter().zip(&contexts).zip(&preambles)
            {
                let acceptor = Acceptor {
                    context: Arc::clone(context),
                    proxy: proxy.clone(),
                    slots: Arc::clone(&slots),
                    tracker: Arc::clone(&tracker),
                    shutdown: signal.clone(),
                };
                acceptors.push((listener.try_clone_socket()?, acceptor));
            }
            let worker = Worker {
                acceptors,
                tracker: Arc::clone(&tracker),
                grace: self.config.timeouts.shutdown_grace,
            };
            let handle = std::thread::Builder::new()
                .name(format!("worker-{index}"))
                .spawn(move || worker.run())?;
            workers.push(handle);
        }
        Ok(RunningServer {
            local_addrs,
            trigger,
            workers,
            log_writer,
            tracker,
            proxy_rejections: self.proxy_rejections,
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
    /// The first listener's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addrs[0]
    }

    /// Every listener's address, in the order they were handed over.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// How many connections are open right now (accepted and not yet
    /// closed), across every worker. For tests and monitoring: it moves as
    /// clients come and go.
    pub fn open_connections(&self) -> usize {
        self.tracker.open_count()
    }

    /// Connections closed before HTTP for want of a valid PROXY header from
    /// a trusted address, by reason (see [`Server::proxy_rejections`]).
    pub fn proxy_rejections(&self) -> &ProxyRejections {
        &self.proxy_rejections
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

/// One worker thread: an event loop accepting from its copy of every
/// listener.
struct Worker {
    acceptors: Vec<(std::net::TcpListener, Acceptor)>,
    tracker: Arc<ConnectionTracker>,
    grace: Duration,
}

/// One listener in one worker: accepts its connections and serves them
/// with its service, parking them when idle.
struct Acceptor {
    context: Arc<ConnectionContext>,
    /// Set when the listener requires a PROXY header before HTTP.
    proxy: Option<Arc<ProxyPreamble>>,
    slots: Arc<Semaphore>,
    tracker: Arc<ConnectionTracker>,
    shutdown: ShutdownSignal,
}

impl Worker {
    fn run(self) {
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
            let accepting: Vec<_> = self
                .acceptors
                .into_iter()
                .map(|(listener, acceptor)| tokio::spawn(acceptor.run(listener)))
                .collect();
            for acceptor in accepting {
                let _ = acceptor.await;
            }
            let _ = tokio::time::timeout(self.grace, self.tracker.all_closed()).await;
        });
        // Dropping the runtime cancels connections still open after the
        // grace period, closing their sockets.
    }
}

impl Acceptor {
    /// Accept and serve until shutdown; then the listening socket closes
    /// and so do the parked connections.
    async fn run(self, listener: std::net::TcpListener) {
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
                client: woken.client,
                preread: BytesMut::new(),
            };
            self.spawn_connection(accepted, woken.hold, &parking, None)
        });
        tokio::join!(self.accept_until_shutdown(&listener, &parking), parked);
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
            // Only a trusted balancer may speak for others: anyone else is
            // closed at once (dropping the socket, and with it the slot).
            if let Some(preamble) = &self.proxy {
                if !preamble.admits(peer) {
                    continue;
                }
            }
            // TCP_NODELAY comes from the listener (see listener::bind).
            let hold = Hold {
                _slot: slot,
                _guard: self.tracker.open(),
            };
            let accepted = Accepted {
                transport: PlainTcp::new(stream),
                peer,
                client: peer,
                preread: BytesMut::new(),
            };
            self.spawn_connection(accepted, hold, parking, self.proxy.clone());
        }
    }

    /// Serve a connection in a task of its own; if it goes idle, park it.
    /// With `preamble`, the task first reads the connection's PROXY header;
    /// a connection without a valid one, or still without one at shutdown,
    /// is closed unanswered.
    fn spawn_connection<T: Transport>(
        &self,
        accepted: Accepted<T>,
        hold: Hold,
        parking: &Arc<Parking<T, Hold>>,
        preamble: Option<Arc<ProxyPreamble>>,
    ) {
        let context = Arc::clone(&self.context);
        let signal = self.shutdown.clone();
        let parking = Arc::clone(parking);
        tokio::spawn(async move {
            let mut accepted = accepted;
            if let Some(preamble) = preamble {
                let mut shutdown = signal.clone();
                // Boxed: its state exists only while the header is read,
                // not in every connection's task.
                let read = Box::pin(preamble.read_header(accepted.transport, accepted.peer));
                accepted = tokio::select! {
                    biased;
                    () = shutdown.triggered() => return,
                    read = read => match read {
                        Ok(accepted) => accepted,
                        Err(_) => return,
                    },
                };
            }
            let (peer, client) = (accepted.peer, accepted.client);
            let mut hold = hold;
            // A connection whose bytes arrive just as it parks comes back.
            while let Some(idle) =
                serve_connection(accepted, Arc::clone(&context), signal.clone()).await
            {
                let parked = Parked {
                    transport: idle.transport,
                    peer,
                    client,
                    hold,
                    deadline: idle.deadline,
                };
                match parking.park(parked) {
                    Some(back) => {
                        hold = back.hold;
                        accepted = Accepted {
                            transport: back.transport,
                            peer,
                            client,
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
