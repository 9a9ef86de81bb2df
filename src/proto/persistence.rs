//! Whether a connection carries another request after this one (RFC 9112
//! §9.3, §9.6), decided by pure functions from what is known of the
//! exchange: what the client asked ([`wants_keep_alive`]), what became of
//! the request body, and whether the server still takes requests. The
//! driver gathers the facts, asks, and acts; it never decides itself.
//!
//! [`wants_keep_alive`]: super::wants_keep_alive

use super::framing::{BodyFraming, Expectation};

/// Whether the connection carries another request after this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    KeepAlive,
    /// Close after lingering: unread bytes of the client's may still come,
    /// and closing at once could make the kernel answer them with a reset
    /// that destroys the response before the client reads it (§9.6).
    Close,
    /// Close at once, without lingering: the client asked to close and
    /// nothing of its request is unread (after a `close` option it must send
    /// no more, §9.6), or a response could not be written (the peer reset,
    /// or stopped reading for the write timeout). Either way there is
    /// nothing to linger for, and lingering would only hold the slot.
    CloseNow,
}

/// What became of the request body by the time the response is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBody {
    /// Fully read (or there was none).
    Consumed,
    /// Unread; it can be read and thrown away after the response.
    Drain,
    /// Unread and not worth reading (or not safely delimited): only closing
    /// the connection gets rid of it.
    Abandoned,
}

/// Whether the server still takes new requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Open,
    /// Shutting down: only a request the client had already sent in full
    /// (pipelined before it could know) is still answered.
    Closing {
        /// Whether the whole head of the next request is already received.
        next_head_received: bool,
    },
}

/// The facts of one exchange that decide its persistence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    /// What the client asked for ([`super::wants_keep_alive`]); `false`
    /// when no head was parsed.
    pub client_keeps_alive: bool,
    pub body: RequestBody,
    pub admission: Admission,
}

/// The persistence a response announces in its `Connection` field:
/// [`Persistence::KeepAlive`] when the client allows it, the body will not
/// be left unread, and the server takes the next request; otherwise
/// [`Persistence::Close`]. During shutdown a next request counts as taken
/// only if its head is already received and the body before it consumed:
/// bytes of a body still to be drained are not a head.
pub fn announced_persistence(exchange: &Exchange) -> Persistence {
    let takes_next = match exchange.admission {
        Admission::Open => true,
        Admission::Closing { next_head_received } => {
            next_head_received && exchange.body == RequestBody::Consumed
        }
    };
    if exchange.client_keeps_alive && takes_next && exchange.body != RequestBody::Abandoned {
        Persistence::KeepAlive
    } else {
        Persistence::Close
    }
}

/// The persistence once the announced response is sent: a
/// [`Persistence::Close`] becomes [`Persistence::CloseNow`] when the client
/// itself asked to close, its body was consumed, and nothing it sent is
/// left unread (`nothing_buffered`), so there is nothing to linger for.
pub fn settled_persistence(
    announced: Persistence,
    exchange: &Exchange,
    nothing_buffered: bool,
) -> Persistence {
    if announced == Persistence::Close
        && !exchange.client_keeps_alive
        && exchange.body == RequestBody::Consumed
        && nothing_buffered
    {
        Persistence::CloseNow
    } else {
        announced
    }
}

/// What to do with a request body the service did not read, once what was
/// already buffered of it has been thrown away: drain it after the
/// response, or abandon it (close the connection).
///
/// A client waiting for `100 Continue` may or may not send the body now that
/// a final status arrives (RFC 9110 §10.1.1), so the connection cannot be
/// reused reliably; that includes a 417, whose unmet expectation may have
/// come beside `100-continue`. A body announced as longer than
/// `max_drain_bytes` is not worth reading. A chunked body is drained up to
/// the caller's byte bound.
pub fn unread_body(
    framing: BodyFraming,
    expectation: Expectation,
    max_drain_bytes: u64,
) -> RequestBody {
    match framing {
        _ if expectation != Expectation::None => RequestBody::Abandoned,
        BodyFraming::Length(n) if n > max_drain_bytes => RequestBody::Abandoned,
        _ => RequestBody::Drain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Admission::{Closing, Open};
    use Persistence::{Close, CloseNow, KeepAlive};
    use RequestBody::{Abandoned, Consumed, Drain};

    const RECEIVED: Admission = Closing {
        next_head_received: true,
    };
    const NOT_RECEIVED: Admission = Closing {
        next_head_received: false,
    };

    fn exchange(client_keeps_alive: bool, body: RequestBody, admission: Admission) -> Exchange {
        Exchange {
            client_keeps_alive,
            body,
            admission,
        }
    }

    #[test]
    fn the_announced_persistence_follows_client_body_and_admission() {
        // (client keeps alive, body, admission, announced)
        let cases = [
            (true, Consumed, Open, KeepAlive),
            (true, Drain, Open, KeepAlive),
            (true, Abandoned, Open, Close),
            (false, Consumed, Open, Close),
            (false, Drain, Open, Close),
            (false, Abandoned, Open, Close),
            // Shutting down: only a next request already received in full,
            // behind a consumed body, is answered.
            (true, Consumed, RECEIVED, KeepAlive),
            (true, Consumed, NOT_RECEIVED, Close),
            (true, Drain, RECEIVED, Close),
            (true, Drain, NOT_RECEIVED, Close),
            (true, Abandoned, RECEIVED, Close),
            (false, Consumed, RECEIVED, Close),
        ];
        for (keeps_alive, body, admission, expected) in cases {
            let facts = exchange(keeps_alive, body, admission);
            assert_eq!(announced_persistence(&facts), expected, "{facts:?}");
        }
    }

    #[test]
    fn a_close_is_immediate_only_when_the_client_asked_and_nothing_is_unread() {
        // (announced, client keeps alive, body, nothing buffered, settled)
        let cases = [
            (Close, false, Consumed, true, CloseNow),
            // Pipelined bytes after a `close` request: linger.
            (Close, false, Consumed, false, Close),
            // A body left unread: linger, so the client reads its response.
            (Close, false, Drain, true, Close),
            (Close, false, Abandoned, true, Close),
            // The server chose to close (shutdown): the client may still
            // be sending.
            (Close, true, Consumed, true, Close),
            (KeepAlive, true, Consumed, true, KeepAlive),
            (KeepAlive, true, Drain, false, KeepAlive),
            (CloseNow, true, Abandoned, false, CloseNow),
        ];
        for (announced, keeps_alive, body, nothing_buffered, expected) in cases {
            let facts = exchange(keeps_alive, body, Open);
            assert_eq!(
                settled_persistence(announced, &facts, nothing_buffered),
                expected,
                "{announced:?} {facts:?} {nothing_buffered}"
            );
        }
    }

    #[test]
    fn an_unread_body_is_drained_unless_expected_or_too_long() {
        const MAX: u64 = 1000;
        // (framing, expectation, plan)
        let cases = [
            (BodyFraming::Length(1), Expectation::None, Drain),
            (BodyFraming::Length(MAX), Expectation::None, Drain),
            (BodyFraming::Length(MAX + 1), Expectation::None, Abandoned),
            (BodyFraming::Chunked, Expectation::None, Drain),
            (BodyFraming::Length(1), Expectation::Continue, Abandoned),
            (BodyFraming::Chunked, Expectation::Continue, Abandoned),
            (BodyFraming::Length(1), Expectation::Unsupported, Abandoned),
            (BodyFraming::None, Expectation::None, Drain),
        ];
        for (framing, expectation, expected) in cases {
            assert_eq!(
                unread_body(framing, expectation, MAX),
                expected,
                "{framing:?} {expectation:?}"
            );
        }
    }
}
