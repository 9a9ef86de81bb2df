//! Graceful shutdown: a signal every task can watch, and a count of open
//! connections the workers wait on, bounded by the grace period.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// Fires once, when the server should stop accepting and drain.
#[derive(Clone)]
pub struct ShutdownSignal {
    receiver: watch::Receiver<bool>,
}

/// Triggers a [`ShutdownSignal`].
#[derive(Clone)]
pub struct ShutdownTrigger {
    sender: Arc<watch::Sender<bool>>,
}

/// A new trigger and the signal it fires.
pub fn shutdown_channel() -> (ShutdownTrigger, ShutdownSignal) {
    let (sender, receiver) = watch::channel(false);
    (
        ShutdownTrigger {
            sender: Arc::new(sender),
        },
        ShutdownSignal { receiver },
    )
}

impl ShutdownTrigger {
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }
}

impl ShutdownSignal {
    /// Whether shutdown has begun.
    pub fn is_triggered(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Resolves when shutdown begins (at once if it already has).
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
