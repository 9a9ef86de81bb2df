//! Idle keep-alive connections parked outside any task.
//!
//! A connection waiting for its next request needs only its transport, its
//! peer's address and its deadline, yet as a task it also carries the
//! task's allocation and the driver's state: about 1.7 KiB, which is what
//! 10,000 idle clients would cost. A connection idle for longer than a
//! moment is therefore parked here instead: its task ends, and what remains
//! is its transport (for plain TCP, a socket still registered with the
//! runtime's reactor; for TLS it would be the session state too), one small
//! slot, and a waker that names the slot. When the transport has something
//! to read (the client's next bytes, or its close), the reactor calls that
//! waker and the worker's parking loop hands the connection to a new task;
//! when its idle deadline passes, or the server shuts down, it is closed.
//!
//! Parking and waking make no system call: the socket stays in the
//! reactor's epoll set throughout, and only the waker it reports to changes.

use super::transport::Transport;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Wake, Waker};
use tokio::sync::Notify;
use tokio::time::Instant;

/// A parked connection: what it takes to resume it. `H` is whatever must
/// live exactly as long as the connection (its slot under the connection
/// cap, its place in the open-connection count).
pub struct Parked<T, H> {
    pub transport: T,
    pub peer: SocketAddr,
    /// Whom the connection speaks for (see `Accepted::client`).
    pub client: SocketAddr,
    pub hold: H,
    /// When the connection closes if no bytes arrive.
    pub deadline: Instant,
}

/// One worker's parked connections of one transport.
pub struct Parking<T, H> {
    lot: Mutex<Lot<T, H>>,
    stirred: Arc<Stirred>,
}

struct Lot<T, H> {
    slots: Vec<Slot<T, H>>,
    free: Vec<u32>,
    /// Deadlines, soonest first; an entry whose slot has since been woken
    /// or reused (another generation) is skipped when it comes up.
    deadlines: BinaryHeap<Reverse<(Instant, Key)>>,
    /// Set once shutdown has closed everything: later arrivals are closed
    /// at once instead of parked.
    closed: bool,
}

struct Slot<T, H> {
    generation: u32,
    parked: Option<Parked<T, H>>,
}

/// A slot and the generation of its occupant, so that a late wake or
/// deadline for a connection already gone never touches its successor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    index: u32,
    generation: u32,
}

/// The slots whose sockets the reactor reported readable, for the parking
/// loop to take.
#[derive(Default)]
struct Stirred {
    keys: Mutex<Vec<Key>>,
    notify: Notify,
}

/// The waker a parked socket reports to: it names its slot.
struct SlotWaker {
    key: Key,
    stirred: Arc<Stirred>,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        lock(&self.stirred.keys).push(self.key);
        self.stirred.notify.notify_one();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these structures half-updated in a way
    // that matters more than losing every connection would.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T, H> Default for Parking<T, H> {
    fn default() -> Parking<T, H> {
        Parking {
            lot: Mutex::new(Lot {
                slots: Vec::new(),
                free: Vec::new(),
                deadlines: BinaryHeap::new(),
                closed: false,
            }),
            stirred: Arc::default(),
        }
    }
}

impl<T: Transport, H> Parking<T, H> {
    /// Park `connection` until its client sends bytes, closes, or its
    /// deadline passes; a connection whose bytes are already there comes
    /// straight back. After shutdown it is closed instead.
    pub fn park(&self, mut connection: Parked<T, H>) -> Option<Parked<T, H>> {
        let mut lot = lock(&self.lot);
        if lot.closed {
            return None;
        }
        let index = match lot.free.pop() {
            Some(index) => index,
            None => {
                lot.slots.push(Slot {
                    generation: 0,
                    parked: None,
                });
                u32::try_from(lot.slots.len() - 1).expect("fewer than 2^32 connections")
            }
        };
        let slot = &mut lot.slots[index as usize];
        slot.generation = slot.generation.wrapping_add(1);
        let key = Key {
            index,
            generation: slot.generation,
        };
        let waker = Waker::from(Arc::new(SlotWaker {
            key,
            stirred: Arc::clone(&self.stirred),
        }));
        if connection
            .transport
            .poll_readable(&mut Context::from_waker(&waker))
            .is_ready()
        {
            lot.free.push(index);
            return Some(connection);
        }
        let deadline = connection.deadline;
        slot.parked = Some(connection);
        let sooner = lot.next_deadline().map_or(true, |next| deadline < next);
        lot.deadlines.push(Reverse((deadline, key)));
        lot.compact_deadlines();
        if sooner {
            // The loop sleeps until the soonest deadline it knew of.
            self.stirred.notify.notify_one();
        }
        None
    }

    /// How many connections are parked now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        let lot = lock(&self.lot);
        lot.slots.len() - lot.free.len()
    }

    /// Hand every connection whose client stirred to `resume`, close those
    /// whose deadline passed, until `stop` resolves; then close them all.
    pub async fn run(
        &self,
        stop: impl std::future::Future<Output = ()>,
        resume: impl Fn(Parked<T, H>),
    ) {
        tokio::pin!(stop);
        let mut keys = Vec::new();
        loop {
            let next_deadline = lock(&self.lot).next_deadline();
            tokio::select! {
                biased;
                () = &mut stop => break,
                () = self.stirred.notify.notified() => {
                    std::mem::swap(&mut keys, &mut *lock(&self.stirred.keys));
                    for key in keys.drain(..) {
                        let woken = lock(&self.lot).take(key);
                        if let Some(woken) = woken {
                            resume(woken);
                        }
                    }
                }
                () = sleep_until_some(next_deadline) => {
                    let expired = lock(&self.lot).take_expired(Instant::now());
                    for mut connection in expired {
                        connection.transport.close_now();
                    }
                }
            }
        }
        let closing = lock(&self.lot).close();
        for mut connection in closing {
            connection.transport.close_now();
        }
    }
}

impl<T, H> Lot<T, H> {
    fn next_deadline(&self) -> Option<Instant> {
        self.deadlines
            .peek()
            .map(|Reverse((deadline, _))| *deadline)
    }

    /// Remove and return the connection of `key`, if it is still parked.
    fn take(&mut self, key: Key) -> Option<Parked<T, H>> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let parked = slot.parked.take()?;
        self.free.push(key.index);
        Some(parked)
    }

    /// Remove and return every connection whose deadline is at or before
    /// `now` (dropping them closes their sockets).
    fn take_expired(&mut self, now: Instant) -> Vec<Parked<T, H>> {
        let mut expired = Vec::new();
        while let Some(&Reverse((deadline, key))) = self.deadlines.peek() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            expired.extend(self.take(key));
        }
        expired
    }

    /// Drop deadline entries of connections no longer parked once they
    /// outnumber the parked ones, so clients that park and wake often
    /// cannot grow the heap beyond twice the parked count.
    fn compact_deadlines(&mut self) {
        let parked = self.slots.len() - self.free.len();
        if self.deadlines.len() > 2 * parked + 64 {
            let slots = &self.slots;
            self.deadlines.retain(|Reverse((_, key))| {
                let slot = &slots[key.index as usize];
                slot.generation == key.generation && slot.parked.is_some()
            });
        }
    }

    /// Refuse further parking and return every parked connection.
    fn close(&mut self) -> Vec<Parked<T, H>> {
        self.closed = true;
        self.deadlines.clear();
        self.free.clear();
        self.slots
            .drain(..)
            .filter_map(|slot| slot.parked)
            .collect()
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::transport::test_transport::UnixTransport;
    use crate::server::transport::PlainTcp;
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    use tokio::sync::mpsc;

    /// Counts, in `open`, how many holds are alive: a parked connection's
    /// hold is dropped exactly when it is closed.
    struct Hold(Arc<AtomicUsize>);

    impl Drop for Hold {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    struct Rig {
        listener: std::net::TcpListener,
        open: Arc<AtomicUsize>,
    }

    impl Rig {
        fn new() -> Rig {
            Rig {
                listener: std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
                open: Arc::default(),
            }
        }

        /// A client socket and the server's end of it, ready to park.
        fn connection(&self, lives: Duration) -> (std::net::TcpStream, Parked<PlainTcp, Hold>) {
            let client = std::net::TcpStream::connect(self.listener.local_addr().unwrap()).unwrap();
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let (server, peer) = self.listener.accept().unwrap();
            server.set_nonblocking(true).unwrap();
            self.open.fetch_add(1, Ordering::SeqCst);
            let parked = Parked {
                transport: PlainTcp::new(tokio::net::TcpStream::from_std(server).unwrap()),
                peer,
                client: peer,
                hold: Hold(Arc::clone(&self.open)),
                deadline: Instant::now() + lives,
            };
            (client, parked)
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Run the parking loop until `stop` fires, sending woken connections.
    fn spawn_loop(
        parking: &Arc<Parking<PlainTcp, Hold>>,
    ) -> (
        mpsc::UnboundedReceiver<Parked<PlainTcp, Hold>>,
        tokio::sync::oneshot::Sender<()>,
    ) {
        let (woken_tx, woken_rx) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let parking = Arc::clone(parking);
        tokio::spawn(async move {
            let stop = async move {
                let _ = stop_rx.await;
            };
            parking
                .run(stop, |woken| {
                    let _ = woken_tx.send(woken);
                })
                .await;
        });
        (woken_rx, stop_tx)
    }

    async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(5), future)
            .await
            .expect("took over 5 s")
    }

    #[test]
    fn a_parked_connection_comes_back_when_its_client_writes() {
        runtime().block_on(async {
            let rig = Rig::new();
            let parking = Arc::new(Parking::default());
            let (mut woken, _stop) = spawn_loop(&parking);
            let (mut client, connection) = rig.connection(Duration::from_secs(60));
            let peer = connection.peer;
            assert!(parking.park(connection).is_none());
            assert_eq!(parking.len(), 1);
            client.write_all(b"GET / HTTP/1.1\r\n").unwrap();
            let back = within(woken.recv()).await.unwrap();
            assert_eq!(back.peer, peer);
            assert_eq!(parking.len(), 0);
            let mut bytes = [0u8; 64];
            back.transport.stream().readable().await.unwrap();
            let n = back.transport.stream().try_read(&mut bytes).unwrap();
            assert_eq!(&bytes[..n], b"GET / HTTP/1.1\r\n");
            assert_eq!(rig.open.load(Ordering::SeqCst), 1, "it was not closed");
        });
    }

    #[test]
    fn a_connection_whose_bytes_are_already_there_is_not_parked() {
        runtime().block_on(async {
            let rig = Rig::new();
            let parking = Arc::new(Parking::default());
            let (mut client, connection) = rig.connection(Duration::from_secs(60));
            client.write_all(b"x").unwrap();
            // Let the reactor see the bytes.
            connection.transport.stream().readable().await.unwrap();
            let back = parking.park(connection).expect("handed straight back");
            assert_eq!(parking.len(), 0);
            drop(back);
            assert_eq!(rig.open.load(Ordering::SeqCst), 0);
        });
    }

    #[test]
    fn a_client_that_closes_wakes_its_connection() {
        runtime().block_on(async {
            let rig = Rig::new();
            let parking = Arc::new(Parking::default());
            let (mut woken, _stop) = spawn_loop(&parking);
            let (client, connection) = rig.connection(Duration::from_secs(60));
            assert!(parking.park(connection).is_none());
            drop(client);
            let back = within(woken.recv()).await.unwrap();
            let mut byte = [0u8; 1];
            back.transport.stream().readable().await.unwrap();
            assert_eq!(
                back.transport.stream().try_read(&mut byte).unwrap(),
                0,
                "end of stream"
            );
        });
    }

    #[test]
    fn a_parked_connection_is_closed_at_its_deadline_and_not_before() {
        runtime().block_on(async {
            let rig = Rig::new();
            let parking = Arc::new(Parking::default());
            // The loop starts with nothing parked, so it must learn of the
            // deadline from the park itself.
            let (_woken, _stop) = spawn_loop(&parking);
            tokio::task::yield_now().await;
            let (soon_client, soon) = rig.connection(Duration::from_millis(100));
            let (_later_client, later) = rig.connection(Duration::from_secs(60));
            assert!(parking.park(later).is_none());
            assert!(parking.park(soon).is_none());
            let started = std::time::Instant::now();
            let closed = tokio::task::spawn_blocking(move || {
                let mut client = soon_client;
                let mut byte = [0u8; 1];
                client.read(&mut byte).unwrap()
            });
            assert_eq!(within(closed).await.unwrap(), 0, "the server closed it");
            assert!(started.elapsed() >= Duration::from_millis(80));
            assert_eq!(parking.len(), 1, "the other connection stays");
            assert_eq!(rig.open.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn stopping_closes_every_parked_connection_and_refuses_more() {
        runtime().block_on(async {
            let rig = Rig::new();
            let parking = Arc::new(Parking::default());
            let (_woken, stop) = spawn_loop(&parking);
            let clients: Vec<_> = (0..5)
                .map(|_| {
                    let (client, connection) = rig.connection(Duration::from_secs(60));
                    assert!(parking.park(connection).is_none());
                    client
                })
                .collect();
            assert_eq!(rig.open.load(Ordering::SeqCst), 5);
            stop.send(()).unwrap();
            within(async {
                while rig.open.load(Ordering::SeqCst) > 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
            .await;
            for mut client in clients {
                let mut byte = [0u8; 1];
                assert_eq!(client.read(&mut byte).unwrap(), 0);
            }
            let (_client, late) = rig.connection(Duration::from_secs(60));
            assert!(parking.park(late).is_none());
            assert_eq!(rig.open.load(Ordering::SeqCst), 0, "closed, not parked");
        });
    }

    #[test]
    fn parking_and_waking_often_keeps_the_deadline_heap_bounded() {
        runtime().block_on(async {
            let rig = Rig::new();
            let parking = Arc::new(Parking::default());
            let (mut woken, _stop) = spawn_loop(&parking);
            let (mut client, mut connection) = rig.connection(Duration::from_secs(60));
            for round in 0..300u32 {
                assert!(parking.park(connection).is_none());
                client.write_all(b"x").unwrap();
                connection = within(woken.recv()).await.unwrap();
                let mut byte = [0u8; 1];
                connection.transport.stream().readable().await.unwrap();
                assert_eq!(
                    connection.transport.stream().try_read(&mut byte).unwrap(),
                    1,
                    "round {round}"
                );
                // Drained: the reactor's readiness is cleared, as the
                // driver's reads leave it before parking.
                let drained = connection.transport.stream().try_read(&mut byte);
                assert_eq!(drained.unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
                // The deadline entry of every earlier round is stale.
                assert!(lock(&parking.lot).deadlines.len() <= 2 + 64);
            }
        });
    }

    /// Parking knows transports only by `Transport`: one that is not TCP
    /// parks, wakes and is handed back the same way.
    #[test]
    fn a_connection_of_any_transport_parks_and_comes_back() {
        runtime().block_on(async {
            let open = Arc::new(AtomicUsize::new(1));
            let parking: Arc<Parking<UnixTransport, Hold>> = Arc::new(Parking::default());
            let (woken_tx, mut woken) = mpsc::unbounded_channel();
            let looping = Arc::clone(&parking);
            tokio::spawn(async move {
                looping
                    .run(std::future::pending(), |back| {
                        let _ = woken_tx.send(back);
                    })
                    .await;
            });
            let (transport, mut client) = UnixTransport::pair();
            let parked = Parked {
                transport,
                peer: "127.0.0.1:1".parse().unwrap(),
                client: "127.0.0.1:1".parse().unwrap(),
                hold: Hold(Arc::clone(&open)),
                deadline: Instant::now() + Duration::from_secs(60),
            };
            assert!(parking.park(parked).is_none());
            assert_eq!(parking.len(), 1);
            client.write_all(b"GET /").unwrap();
            let mut back = within(woken.recv()).await.unwrap();
            assert_eq!(parking.len(), 0);
            let mut input = bytes::BytesMut::with_capacity(64);
            let read = within(crate::server::transport::read(
                &mut back.transport,
                &mut input,
            ));
            assert_eq!(read.await.unwrap(), 5);
            assert_eq!(&input[..], b"GET /");
            assert_eq!(open.load(Ordering::SeqCst), 1, "it was not closed");
        });
    }
}
