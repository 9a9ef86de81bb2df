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
//! also need a probe to keep "address in use" for a second server); [`RunningServer::drain`]
//! turns `/readyz` to 503 and closes each connection after its next
//! response while still accepting; [`RunningServer::shutdown`] stops
//! accepting, lets in-flight requests finish within the grace period, and
//! closes idle connections.
//!
//! [`Server::with_admin`] adds the admin listener (`admin`): health,
//! readiness and [`metrics`], counted per worker.

pub mod access_log;
pub mod admin;
pub mod client_address;
mod clock;
mod connection;
mod failed_logins;
pub mod inherited;
pub mod lifecycle;
mod listener;
pub mod metrics;
pub mod notify;
mod parking;
mod password_checks;
pub mod pid_file;
pub mod shutdown;
pub mod tls;
mod transmit;
pub mod transport;
pub mod upgrade;

pub use listener::{ListenError, Listener, LoweredCap};

use crate::config::Config;
use crate::service::Router;
use access_log::{AccessLog, LogDestination, LogWriter};
use bytes::BytesMut;
use connection::{serve_connection, ConnectionContext};
use lifecycle::Lifecycle;
use metrics::{Metrics, Readiness};
use parking::{Parked, Parking};
use shutdown::{
    shutdown_channel, ConnectionGuard, ConnectionTracker, ShutdownSignal, ShutdownTrigger,
};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tls::TlsSetup;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use transport::proxy::{ProxyPreamble, ProxyRejections};
use transport::{Accepted, PlainTcp, TlsTransport, Transport};

/// After `accept` fails for lack of file descriptors, wait this long before
/// trying again rather than spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A bound server, not yet serving.
pub struct Server {
    /// Each listener and the service it serves; never empty.
    services: Vec<Served>,
    config: Arc<Config>,
    lowered_cap: Option<LoweredCap>,
    proxy_rejections: Arc<ProxyRejections>,
    trigger: ShutdownTrigger,
    signal: ShutdownSignal,
    /// The site listeners' shared connection cap, and their open
    /// connections.
    site_slots: Arc<Semaphore>,
    site_connections: Arc<ConnectionTracker>,
    metrics: Arc<Metrics>,
    /// The pid file, systemd's notifications, the upgrade on SIGUSR2.
    lifecycle: Lifecycle,
}

/// One listener, what it serves, and in which role.
struct Served {
    listener: Listener,
    router: Arc<Router>,
    role: Role,
}

/// What a listener is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The application: counted in the metrics, access-logged, under the
    /// shared connection cap.
    Site,
    /// Health and metrics: its own small cap, uncounted, logged only with
    /// `--admin-access-log`.
    Admin,
}

/// A serving server: its workers run until [`RunningServer::shutdown`].
pub struct RunningServer {
    local_addrs: Vec<SocketAddr>,
    trigger: ShutdownTrigger,
    workers: Vec<JoinHandle<()>>,
    log: AccessLog,
    log_writer: LogWriter,
    /// Open connections: the site's, then the admin listener's.
    trackers: [Arc<ConnectionTracker>; 2],
    metrics: Arc<Metrics>,
    proxy_rejections: Arc<ProxyRejections>,
    drain_delay: Duration,
}

/// How [`Server::run_until_signal`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Drained and stopped: every request finished (or the grace period
    /// ran out). Exit 0.
    Stopped,
    /// A second signal (its number) came before the drain was over: the
    /// process should exit at once, non-zero.
    Interrupted(i32),
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
        crate::diag::set_level(config.log_level);
        let (max_connections, lowered_cap) =
            listener::raise_open_file_limit(config.max_connections);
        config.max_connections = max_connections;
        let (trigger, signal) = shutdown_channel();
        let site_slots = Arc::new(Semaphore::new(max_connections));
        let site_connections = Arc::new(ConnectionTracker::default());
        let metrics = Arc::new(Metrics::new(
            config.workers,
            Arc::clone(&site_connections),
            max_connections,
            signal.clone(),
        ));
        let proxy_rejections = Arc::new(ProxyRejections::default());
        metrics.report_proxy_rejections(Arc::clone(&proxy_rejections) as _);
        Server {
            services: services
                .into_iter()
                .map(|(listener, router)| Served {
                    listener,
                    router: Arc::new(router),
                    role: Role::Site,
                })
                .collect(),
            config: Arc::new(config),
            lowered_cap,
            proxy_rejections,
            trigger,
            signal,
            site_slots,
            site_connections,
            metrics,
            lifecycle: Lifecycle::default(),
        }
    }

    /// The same server, with a pid file, systemd notifications and the
    /// upgrade SIGUSR2 starts (see [`Lifecycle`]), for
    /// [`Server::run_until_signal`].
    pub fn with_lifecycle(mut self, lifecycle: Lifecycle) -> Server {
        self.lifecycle = lifecycle;
        self
    }

    /// The same server, also answering `/livez`, `/readyz` and `/metrics`
    /// ([`admin`]) on `listener`: its own small connection cap, its
    /// requests neither counted in the metrics nor (unless
    /// `--admin-access-log`) logged.
    pub fn with_admin(mut self, listener: Listener) -> Server {
        self.services.push(Served {
            listener,
            router: Arc::new(admin::router(Arc::clone(&self.metrics))),
            role: Role::Admin,
        });
        self
    }

    /// What the metrics read; for the PROXY-protocol code to report its
    /// rejections ([`Metrics::report_proxy_rejections`]).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The site ([`crate::site`]: its routes and the root's files) on
    /// `config.addr`: checks the root, listens, and hands both to
    /// [`Server::new`].
    /// With `config.balancer.admin`, the admin listener too.
    pub fn bind(config: Config) -> Result<Server, Box<dyn std::error::Error + Send + Sync>> {
        let site = crate::site(&config)?;
        let (tls, warnings) = match config.tls.is_enabled() {
            true => {
                let (setup, warnings) = TlsSetup::load(&config.tls)?;
                (Some(setup), warnings)
            }
            false => (None, Vec::new()),
        };
        for warning in warnings {
            crate::diag::warn(format_args!("{warning}"));
        }
        let listener = Listener::bind(config.addr, config.timeouts.defer_accept)?
            .with_proxy_protocol(config.client_address.proxy_protocol)
            .with_tls(tls);
        let redirect = match config.tls.redirect_http {
            Some(addr) => Some(Listener::bind(addr, config.timeouts.defer_accept)?),
            None => None,
        };
        let admin = match config.balancer.admin {
            Some(addr) => Some(Listener::bind(addr, Duration::ZERO)?),
            None => None,
        };
        let https_port = listener.local_addr().port();
        let mut services = vec![(listener, site)];
        if let Some(redirect) = redirect {
            services.push((redirect, crate::service::https_redirect::router(https_port)));
        }
        let server = Server::new(config, services);
        Ok(match admin {
            Some(admin) => server.with_admin(admin),
            None => server,
        })
    }

    /// The address the first listener actually bound (with the real port
    /// when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.services[0].listener.local_addr()
    }

    /// Every listener's address, in the order they were handed over (the
    /// admin listener last).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.services
            .iter()
            .map(|served| served.listener.local_addr())
            .collect()
    }

    /// The certificates of every TLS listener, for a reload (SIGHUP).
    pub fn certificates(&self) -> Vec<Arc<tls::Certificates>> {
        self.services
            .iter()
            .filter_map(|served| served.listener.tls())
            .map(|setup| Arc::clone(&setup.certificates))
            .collect()
    }

    /// The admin listener's address, if it has one.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.services
            .iter()
            .find(|served| served.role == Role::Admin)
            .map(|served| served.listener.local_addr())
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

    /// Start the worker threads; access-log lines go to `log_sink`, in the
    /// configured format (unless the configured destination is `off`).
    pub fn start(self, log_sink: Box<dyn Write + Send>) -> io::Result<RunningServer> {
        let format = self.config.access_log.format;
        let log = AccessLog::start_with(log_sink, format);
        self.start_logging(log)
    }

    /// Start the worker threads, with the access log where the
    /// configuration says (`--access-log`).
    pub fn start_configured(self) -> io::Result<RunningServer> {
        let format = self.config.access_log.format;
        let log = match &self.config.access_log.destination {
            LogDestination::File(path) => AccessLog::start_file(path.clone(), format)?,
            LogDestination::Stdout | LogDestination::Off => {
                AccessLog::start_with(Box::new(io::stdout()), format)
            }
        };
        self.start_logging(log)
    }

    fn start_logging(self, (log, log_writer): (AccessLog, LogWriter)) -> io::Result<RunningServer> {
        let local_addrs = self.local_addrs();
        let log_off = self.config.access_log.destination == LogDestination::Off;
        // One per listener that requires a PROXY header, shared by workers.
        let preambles: Vec<Option<Arc<ProxyPreamble>>> = self
            .services
            .iter()
            .map(|served| {
                served.listener.proxy_protocol().map(|versions| {
                    Arc::new(ProxyPreamble::new(
                        versions,
                        self.config.client_address.trusted_proxies.clone(),
                        self.config.timeouts.header_read,
                        Arc::clone(&self.proxy_rejections),
                    ))
                })
            })
            .collect();
        self.metrics.report_access_log(log.clone());
        let admin_slots = Arc::new(Semaphore::new(admin::ADMIN_MAX_CONNECTIONS));
        let admin_connections = Arc::new(ConnectionTracker::default());
        let log_admin = self.config.balancer.admin_access_log;
        let trackers = [
            Arc::clone(&self.site_connections),
            Arc::clone(&admin_connections),
        ];
        let mut workers = Vec::with_capacity(self.config.workers);
        for index in 0..self.config.workers {
            // Each worker its own contexts, so that each counts into its
            // own block of metrics.
            let (worker_metrics, service_counters) = self.metrics.worker(index);
            let mut acceptors = Vec::with_capacity(self.services.len());
            for (served, proxy) in self.services.iter().zip(&preambles) {
                let site = served.role == Role::Site;
                let context = ConnectionContext {
                    config: Arc::clone(&self.config),
                    service: Arc::clone(&served.router),
                    log: ((site || log_admin) && !log_off).then(|| log.clone()),
                    metrics: site.then(|| Arc::clone(&worker_metrics)),
                };
                let (slots, tracker) = if site {
                    (&self.site_slots, &self.site_connections)
                } else {
                    (&admin_slots, &admin_connections)
                };
                let acceptor = Acceptor {
                    context: Arc::new(context),
                    proxy: proxy.clone(),
                    tls: served.listener.tls().cloned(),
                    slots: Arc::clone(slots),
                    tracker: Arc::clone(tracker),
                    shutdown: self.signal.clone(),
                };
                acceptors.push((served.listener.try_clone_socket()?, acceptor));
            }
            let worker = Worker {
                acceptors,
                trackers: trackers.clone(),
                grace: self.config.timeouts.shutdown_grace,
                service_counters,
            };
            let handle = std::thread::Builder::new()
                .name(format!("worker-{index}"))
                .spawn(move || worker.run())?;
            workers.push(handle);
        }
        Ok(RunningServer {
            local_addrs,
            trigger: self.trigger,
            workers,
            log,
            log_writer,
            trackers,
            metrics: self.metrics,
            drain_delay: self.config.balancer.drain_delay,
            proxy_rejections: self.proxy_rejections,
        })
    }

    /// Serve with the access log where `--access-log` says (reopened on
    /// SIGUSR1; certificates reloaded on SIGHUP) until SIGINT or SIGTERM, then
    /// drain for `--drain-delay` and shut down gracefully. A second signal
    /// before the end returns [`Ending::Interrupted`] at once, without
    /// waiting for anything. `announce` runs once the signal handlers are in
    /// place, so a signal sent by whoever reads the announcement is never
    /// lost to the default action (which would kill the process outright).
    ///
    /// SIGUSR2 starts the upgrade of [`Server::with_lifecycle`]: once the
    /// new process reports that it serves, this one drains and stops as on
    /// SIGTERM (leaving the pid file to it); if it fails, this one serves
    /// on and says why on stderr.
    pub fn run_until_signal(mut self, announce: impl FnOnce(&Server)) -> io::Result<Ending> {
        use tokio::signal::unix::{signal, SignalKind};
        let signals = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (interrupt, terminate, mut reopen, mut upgrade, mut reload) =
            signals.block_on(async {
                Ok::<_, io::Error>((
                    signal(SignalKind::interrupt())?,
                    signal(SignalKind::terminate())?,
                    signal(SignalKind::user_defined1())?,
                    signal(SignalKind::user_defined2())?,
                    signal(SignalKind::hangup())?,
                ))
            })?;
        let mut lifecycle = std::mem::take(&mut self.lifecycle);
        announce(&self);
        let certificates = self.certificates();
        let running = self.start_configured()?;
        lifecycle.serving()?;
        let log = running.log.clone();
        let (ending, handed_over) = signals.block_on(async {
            // SIGHUP: load the certificates again; a file that fails keeps
            // the ones in service (one line says which and why). Loading
            // reads files: off this thread's event loop.
            tokio::spawn(async move {
                while reload.recv().await.is_some() {
                    let certificates = certificates.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        for certificates in &certificates {
                            certificates.reload_and_log();
                        }
                    })
                    .await;
                }
            });
            // SIGUSR1 (logrotate's postrotate): reopen the access-log file,
            // for as long as the server runs.
            tokio::spawn(async move {
                while reopen.recv().await.is_some() {
                    log.reopen();
                }
            });
            let signals = &mut (interrupt, terminate);
            let handed_over = loop {
                tokio::select! {
                    _ = next_signal(signals) => break false,
                    _ = upgrade.recv() => match upgrade_once(&lifecycle, signals).await {
                        Attempt::HandedOver(successor) => {
                            // The successor accepts from now on; the
                            // connections open here drain as on SIGTERM.
                            running.stop_accepting();
                            crate::diag::info(format_args!(
                                "upgraded: pid {successor} serves now; pid {} stopped \
                                 accepting and drains",
                                std::process::id()
                            ));
                            lifecycle.handed_over(successor);
                            break true;
                        }
                        Attempt::Failed => {}
                        Attempt::StopSignal => break false,
                    },
                }
            };
            // The upgrade's copies of the listening sockets: once the
            // workers' copies close too, the kernel refuses connections
            // (unless a successor holds them).
            lifecycle.upgrade = None;
            if !handed_over {
                lifecycle.stopping();
            }
            running.drain();
            tokio::select! {
                () = tokio::time::sleep(running.drain_delay) => {}
                signal = next_signal(signals) => return Ok((Ending::Interrupted(signal), handed_over)),
            }
            // Stopping blocks on the workers: on a thread of its own, so
            // that a second signal is still heard.
            let (stopped, done) = tokio::sync::oneshot::channel();
            std::thread::Builder::new()
                .name("shutdown".into())
                .spawn(move || {
                    running.shutdown();
                    let _ = stopped.send(());
                })?;
            tokio::select! {
                _ = done => Ok::<_, io::Error>((Ending::Stopped, handed_over)),
                signal = next_signal(signals) => Ok((Ending::Interrupted(signal), handed_over)),
            }
        })?;
        if !handed_over {
            lifecycle.stopped();
        }
        Ok(ending)
    }
}

/// How an upgrade attempt ended.
enum Attempt {
    /// The successor (this pid) serves: this process drains and stops.
    HandedOver(u32),
    /// It did not start or was not ready (said on stderr): serve on.
    Failed,
    /// SIGINT or SIGTERM came first: the successor is killed, and this
    /// process stops as on that signal.
    StopSignal,
}

/// One upgrade attempt (SIGUSR2): start the successor on a thread of its
/// own (the wait blocks) and wait for it, still hearing stop signals.
async fn upgrade_once(
    lifecycle: &Lifecycle,
    signals: &mut (tokio::signal::unix::Signal, tokio::signal::unix::Signal),
) -> Attempt {
    let Some(upgrade) = lifecycle.upgrade.clone() else {
        crate::diag::warn(format_args!("SIGUSR2: no upgrade is configured; ignored"));
        return Attempt::Failed;
    };
    crate::diag::info(format_args!(
        "SIGUSR2: upgrading: starting {}",
        upgrade.executable().display()
    ));
    lifecycle.upgrading();
    let (sender, attempt) = tokio::sync::oneshot::channel();
    let within = lifecycle.upgrade_timeout;
    // Closed when this function returns, which is at once on a stop
    // signal: the wait then ends and the successor is killed, instead of
    // outliving this process with the sockets and nobody serving them.
    let (cancel, _cancel_on_return) =
        match rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) {
            Ok(pipe) => pipe,
            Err(e) => {
                crate::diag::error(format_args!(
                    "upgrade failed: cannot make its pipe: {e}; the old process serves on"
                ));
                lifecycle.notifier.notify("READY=1");
                return Attempt::Failed;
            }
        };
    let started = std::thread::Builder::new()
        .name("upgrade".into())
        .spawn(move || {
            let starting = upgrade.spawn_successor();
            // The sockets' copies go with the last holder of the upgrade:
            // after a stop signal, that is this thread, and they must
            // close while the process stops, not at the end of the wait.
            drop(upgrade);
            let result =
                starting.and_then(|starting| starting.await_ready(within, Some(cancel.as_fd())));
            // Nobody waits any more (a stop signal came): the successor
            // must not serve on alone.
            if let Err(Ok(successor)) = sender.send(result) {
                successor.abandon();
            }
        });
    // A failed upgrade never ends the serving process.
    if let Err(e) = started {
        crate::diag::error(format_args!(
            "upgrade failed: cannot start its thread: {e}; the old process serves on"
        ));
        lifecycle.notifier.notify("READY=1");
        return Attempt::Failed;
    }
    tokio::select! {
        result = attempt => match result {
            Ok(Ok(successor)) => Attempt::HandedOver(successor.pid()),
            Ok(Err(e)) => {
                crate::diag::error(format_args!("upgrade failed: {e}; the old process serves on"));
                lifecycle.upgrade_failed(&e);
                Attempt::Failed
            }
            Err(_) => {
                crate::diag::error(format_args!(
                    "upgrade failed: its thread ended; the old process serves on"
                ));
                lifecycle.notifier.notify("READY=1");
                Attempt::Failed
            }
        },
        _ = next_signal(signals) => Attempt::StopSignal,
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
    /// closed), across every worker and listener. For tests and
    /// monitoring: it moves as clients come and go.
    pub fn open_connections(&self) -> usize {
        self.trackers.iter().map(|t| t.open_count()).sum()
    }

    /// Stop accepting, leaving open connections as they are: an upgrade's
    /// successor accepts from the same sockets from now on.
    pub fn stop_accepting(&self) {
        self.trigger.stop_accepting();
    }

    /// Start draining: `/readyz` answers 503 from now on, and every
    /// response announces `Connection: close`, while the listeners still
    /// accept and answer. [`RunningServer::shutdown`] ends it.
    pub fn drain(&self) {
        self.trigger.drain();
    }

    /// What `/readyz` would answer now.
    pub fn readiness(&self) -> Readiness {
        self.metrics.readiness()
    }

    /// What the metrics read.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
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
    /// Open connections, the site's and the admin listener's.
    trackers: [Arc<ConnectionTracker>; 2],
    grace: Duration,
    /// What services on this thread count (`service::counters`).
    service_counters: Arc<crate::service::counters::ServiceCounters>,
}

/// One listener in one worker: accepts its connections and serves them
/// with its service, parking them when idle.
struct Acceptor {
    context: Arc<ConnectionContext>,
    /// Set when the listener requires a PROXY header before HTTP.
    proxy: Option<Arc<ProxyPreamble>>,
    /// Set when the listener speaks TLS (after the PROXY header, if any).
    tls: Option<TlsSetup>,
    slots: Arc<Semaphore>,
    tracker: Arc<ConnectionTracker>,
    shutdown: ShutdownSignal,
}

impl Worker {
    fn run(self) {
        crate::service::counters::install(self.service_counters);
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                crate::diag::error(format_args!("cannot start a worker: {e}"));
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
            let [site, admin] = &self.trackers;
            let all_closed = async { tokio::join!(site.all_closed(), admin.all_closed()) };
            let _ = tokio::time::timeout(self.grace, all_closed).await;
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
                crate::diag::error(format_args!("cannot start a worker: {e}"));
                return;
            }
        };
        match self.tls.clone() {
            None => {
                let parking = Arc::new(Parking::<PlainTcp, Hold>::default());
                let parked = self.run_parking(&parking);
                let accepting = self.accept_until_shutdown(listener, |accepted, hold| {
                    self.spawn_connection(accepted, hold, &parking, self.proxy.clone())
                });
                tokio::join!(accepting, parked);
            }
            Some(tls) => {
                let parking = Arc::new(Parking::<TlsTransport, Hold>::default());
                let parked = self.run_parking(&parking);
                let accepting = self.accept_until_shutdown(listener, |accepted, hold| {
                    self.spawn_tls_connection(accepted, hold, &parking, &tls)
                });
                tokio::join!(accepting, parked);
            }
        }
    }

    /// The worker's parking lot for this listener: woken connections go
    /// back to a task of their own.
    async fn run_parking<T: Transport>(&self, parking: &Arc<Parking<T, Hold>>) {
        let mut shutdown = self.shutdown.clone();
        parking
            .run(async move { shutdown.triggered().await }, |woken| {
                let accepted = Accepted {
                    transport: woken.transport,
                    peer: woken.peer,
                    client: woken.client,
                    preread: BytesMut::new(),
                };
                self.spawn_connection(accepted, woken.hold, parking, None)
            })
            .await
    }

    /// Accept until accepting ends; then this copy of the listening socket
    /// closes (the socket itself may live on in an upgrade's successor).
    async fn accept_until_shutdown(
        &self,
        listener: TcpListener,
        start: impl Fn(Accepted<PlainTcp>, Hold),
    ) {
        let mut shutdown = self.shutdown.clone();
        loop {
            // Take a connection slot before accepting: at the cap, clients
            // wait in the kernel's accept queue rather than being dropped.
            let slot = tokio::select! {
                biased;
                () = shutdown.accepting_ended() => return,
                slot = Arc::clone(&self.slots).acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => return,
                },
            };
            let accepted = tokio::select! {
                biased;
                () = shutdown.accepting_ended() => return,
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
            if let Some(metrics) = &self.context.metrics {
                metrics.count_accepted();
            }
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
            start(accepted, hold);
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
                match read_proxy_header(preamble, accepted, &signal).await {
                    Some(read) => accepted = read,
                    None => return,
                }
            }
            serve_and_park(accepted, hold, context, signal, parking).await;
        });
    }

    /// [`Acceptor::spawn_connection`] for a TLS listener: the PROXY header
    /// if required, then the handshake, within the header timeout from
    /// accept. A handshake that fails or times out closes the connection
    /// without a response and without an access-log line: no request was
    /// made.
    fn spawn_tls_connection(
        &self,
        accepted: Accepted<PlainTcp>,
        hold: Hold,
        parking: &Arc<Parking<TlsTransport, Hold>>,
        tls: &TlsSetup,
    ) {
        let context = Arc::clone(&self.context);
        let signal = self.shutdown.clone();
        let parking = Arc::clone(parking);
        let preamble = self.proxy.clone();
        let config = Arc::clone(&tls.config);
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + context.config.timeouts.header_read;
            let mut accepted = accepted;
            if let Some(preamble) = preamble {
                match read_proxy_header(preamble, accepted, &signal).await {
                    Some(read) => accepted = read,
                    None => return,
                }
            }
            let mut shutdown = signal.clone();
            // Boxed: the handshake's state exists only while it runs.
            let handshake = Box::pin(tokio::time::timeout_at(
                deadline,
                transport::tls::handshake(accepted, config),
            ));
            let accepted = tokio::select! {
                biased;
                () = shutdown.triggered() => return,
                done = handshake => match done {
                    Ok(Ok(accepted)) => accepted,
                    Ok(Err(_)) | Err(_) => return,
                },
            };
            serve_and_park(accepted, hold, context, signal, parking).await;
        });
    }
}

/// Read a connection's PROXY header (boxed: its state exists only while
/// the header is read, not in every connection's task); `None` if it had
/// none valid, or shutdown came first.
async fn read_proxy_header<T: Transport>(
    preamble: Arc<ProxyPreamble>,
    accepted: Accepted<T>,
    signal: &ShutdownSignal,
) -> Option<Accepted<T>> {
    let mut shutdown = signal.clone();
    let read = Box::pin(preamble.read_header(accepted.transport, accepted.peer));
    tokio::select! {
        biased;
        () = shutdown.triggered() => None,
        read = read => read.ok(),
    }
}

/// Serve a connection until it closes, parking it each time it idles; a
/// parked connection that wakes is served by a new task.
async fn serve_and_park<T: Transport>(
    mut accepted: Accepted<T>,
    hold: Hold,
    context: Arc<ConnectionContext>,
    signal: ShutdownSignal,
    parking: Arc<Parking<T, Hold>>,
) {
    let (peer, client) = (accepted.peer, accepted.client);
    let mut hold = hold;
    // A connection whose bytes arrive just as it parks comes back.
    while let Some(idle) = serve_connection(accepted, Arc::clone(&context), signal.clone()).await {
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
}

/// What an open connection holds, in a task or parked: its slot under the
/// connection cap and its place in the open-connection count. Dropping it
/// is what closing a connection releases.
struct Hold {
    _slot: OwnedSemaphorePermit,
    _guard: ConnectionGuard,
}

/// The number of the next SIGINT or SIGTERM to arrive.
async fn next_signal(
    (interrupt, terminate): &mut (tokio::signal::unix::Signal, tokio::signal::unix::Signal),
) -> i32 {
    tokio::select! {
        _ = interrupt.recv() => rustix::process::Signal::INT.as_raw(),
        _ = terminate.recv() => rustix::process::Signal::TERM.as_raw(),
    }
}

fn is_out_of_descriptors(e: &io::Error) -> bool {
    let code = e.raw_os_error();
    code == Some(rustix::io::Errno::MFILE.raw_os_error())
        || code == Some(rustix::io::Errno::NFILE.raw_os_error())
}
