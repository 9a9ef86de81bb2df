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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::RequestHead;
    use crate::service::basic_auth::{AuthOptions, BasicAuth, Gate, PasswordFile};

    fn check_of(password: &str) -> PasswordCheck {
        let hash = bcrypt::hash("secret", 4).expect("cost 4");
        let users = PasswordFile::parse(format!("alice:{hash}\n").as_bytes()).expect("valid");
        let auth = BasicAuth::new(AuthOptions::new(users, &[], "r").expect("valid"));
        let token = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("alice:{password}"),
        );
        let value = format!("Basic {token}");
        let head = RequestHead::for_test("GET", "/", &[("Authorization", &value)]);
        match auth.gate(&head) {
            Gate::Check(check) => check,
            _ => panic!("new credentials need a check"),
        }
    }

    /// A check runs on the blocking pool and comes back; with every slot
    /// taken it gives up after its wait, instead of queueing for ever.
    #[test]
    fn checks_run_off_the_loop_and_give_up_when_every_slot_is_busy() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let wait = Duration::from_secs(5);
            let verdict = check_off_worker(check_of("secret"), wait).await;
            assert_eq!(verdict.expect("checked").failure(), None);
            let verdict = check_off_worker(check_of("wrong"), wait).await;
            assert!(verdict.expect("checked").failure().is_some());

            let all = u32::try_from(slots().available_permits()).expect("a few");
            let held = slots().acquire_many(all).await.expect("open");
            let busy = check_off_worker(check_of("secret"), Duration::from_millis(50)).await;
            assert_eq!(busy.err(), Some(Unchecked::Busy));
            drop(held);
            let verdict = check_off_worker(check_of("secret"), wait).await;
            assert_eq!(verdict.expect("checked").failure(), None);
        });
    }
}
