//! Running `--auth` password checks off the event loop.
//!
//! A bcrypt check is milliseconds of CPU by design (about 2 ms at cost 5,
//! 250 ms at 12); on a worker's event loop it would stall every other
//! connection of that worker for as long. So a check runs on tokio's
//! blocking pool, and at most one per core at once, process-wide: a flood
//! of wrong passwords then queues here, costing the flood its own latency,
//! while the event loops keep serving cached and unprotected requests.

use crate::service::basic_auth::{PasswordCheck, Verdict};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Why a check did not come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unchecked {
    /// It waited longer than allowed for a free core.
    Busy,
    /// The check's thread failed (it cannot, short of a bug in bcrypt).
    Failed,
}

/// Checks running at once: one per core.
fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Semaphore::new(cores)
    })
}

/// Run `check` on the blocking pool once a slot is free, waiting at most
/// `max_wait` for the slot.
pub async fn check_off_worker(
    check: PasswordCheck,
    max_wait: Duration,
) -> Result<Verdict, Unchecked> {
    let slot = tokio::time::timeout(max_wait, slots().acquire())
        .await
        .map_err(|_| Unchecked::Busy)?
        .map_err(|_| Unchecked::Failed)?;
    let verdict = tokio::task::spawn_blocking(move || check.run()).await;
    drop(slot);
    verdict.map_err(|_| Unchecked::Failed)
}
