//! The only code that owns sockets, tasks and timers.
pub struct Server;
