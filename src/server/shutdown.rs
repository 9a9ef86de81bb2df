//! Graceful shutdown: a phase every task can read (serving, draining,
//! stopping), a signal tasks can wait on, and a count of open connections
//! the workers wait on, bounded by the grace period.
//!
//! Draining comes first when a balancer needs time to notice: readiness
//! reports 503 and every response announces `Connection: close`, but the
//! listeners still accept. Stopping ends accepting, closes idle connections
//! and lets in-flight requests finish.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// Where the server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Phase {
    /// Accepting and keeping connections alive.
    Serving = 0,
    /// Still accepting and answering, but telling balancers (`/readyz`) and
    /// clients (`Connection: close`) to go elsewhere.
    Draining = 1,
    /// No longer accepting: in-flight requests finish, then the workers end.
    Stopping = 2,
}

/// Reads the phase, and resolves when stopping begins.
#[derive(Clone)]
pub struct ShutdownSignal {
    /// The phase, read on every request with one plain load: cheaper than
    /// the watch channel's lock.
    phase: Arc<AtomicU8>,
    receiver: watch::Receiver<bool>,
    /// Fires when accepting ends: at stopping, or earlier when an
    /// upgrade's successor has taken the listening sockets over.
    accepting_ended: watch::Receiver<bool>,
}

/// Moves the phase forward.
#[derive(Clone)]
pub struct ShutdownTrigger {
    phase: Arc<AtomicU8>,
    sender: Arc<watch::Sender<bool>>,
    accepting_ended: Arc<watch::Sender<bool>>,
}

/// A new trigger and the signal it fires.
pub fn shutdown_channel() -> (ShutdownTrigger, ShutdownSignal) {
    let (sender, receiver) = watch::channel(false);
    let (accepting_sender, accepting_ended) = watch::channel(false);
    let phase = Arc::new(AtomicU8::new(Phase::Serving as u8));
    (
        ShutdownTrigger {
            phase: Arc::clone(&phase),
            sender: Arc::new(sender),
            accepting_ended: Arc::new(accepting_sender),
        },
        ShutdownSignal {
            phase,
            receiver,
            accepting_ended,
        },
    )
}

impl ShutdownTrigger {
    /// Start draining (a no-op once draining or stopping).
    pub fn drain(&self) {
        self.phase
            .fetch_max(Phase::Draining as u8, Ordering::Release);
    }

    /// Stop accepting but leave open connections as they are (the phase
    /// does not move): after an upgrade's handover, the successor accepts
    /// from the same sockets, and new connections wait in their queue for
    /// it rather than reaching a process about to exit.
    pub fn stop_accepting(&self) {
        self.accepting_ended.send_replace(true);
    }

    /// Stop accepting: the signal fires.
    pub fn trigger(&self) {
        self.phase.store(Phase::Stopping as u8, Ordering::Release);
        self.accepting_ended.send_replace(true);
        self.sender.send_replace(true);
    }
}

impl ShutdownSignal {
    /// The phase now.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Serving,
            1 => Phase::Draining,
            _ => Phase::Stopping,
        }
    }

    /// Whether stopping has begun.
    pub fn is_triggered(&self) -> bool {
        self.phase() == Phase::Stopping
    }

    /// Whether connections should close after their current exchange:
    /// draining or stopping.
    pub fn is_closing(&self) -> bool {
        self.phase() != Phase::Serving
    }

    /// Resolves when accepting ends: at stopping, or at
    /// [`ShutdownTrigger::stop_accepting`] before it.
    pub async fn accepting_ended(&mut self) {
        let _ = self.accepting_ended.wait_for(|ended| *ended).await;
    }

    /// Resolves when stopping begins (at once if it already has).
    pub async fn triggered(&mut self) {
        // An error means every trigger is gone, which only happens when the
        // server itself is being torn down: treat it as shutdown too.
        let _ = self.receiver.wait_for(|stop| *stop).await;
    }
}

/// Counts open connections across every worker.
#[derive(Default)]
pub struct ConnectionTracker {
    open: AtomicUsize,
    all_closed: Notify,
}

/// Held by a connection task; closing the connection drops it.
pub struct ConnectionGuard {
    tracker: Arc<ConnectionTracker>,
}

impl ConnectionTracker {
    pub fn open(self: &Arc<Self>) -> ConnectionGuard {
        self.open.fetch_add(1, Ordering::AcqRel);
        ConnectionGuard {
            tracker: Arc::clone(self),
        }
    }

    pub fn open_count(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Resolves once no connection is open.
    pub async fn all_closed(&self) {
        loop {
            let notified = self.all_closed.notified();
            if self.open_count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        if self.tracker.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.tracker.all_closed.notify_waiters();
        }
    }
}
