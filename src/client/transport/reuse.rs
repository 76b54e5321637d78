//! What a request's connection had been before it failed: opened for it, or taken from the
//! pool an earlier request left it in; and whether any byte of a response came back on it.
//! A pooled connection that fails before any response byte is one the server had closed while
//! it sat idle (its close crossed the request on the wire), and `attempt` sends the request
//! again on a fresh connection. The outermost step of every connector chain (`Tracked`) notes
//! both, as ureq sees them: a new connection when the chain makes one, and response bytes as
//! they reach ureq (plain text, after TLS), so a TLS `close_notify` is no response. The notes
//! are thread-locals of the worker doing the I/O, as the transport's stamps are. It decides
//! nothing; `attempt` does.

use std::cell::Cell;
use ureq::unversioned::transport::{Buffers, NextTimeout, Transport};

thread_local! {
    /// The chain opened a connection on this thread since `forget`.
    static CONNECTED: Cell<bool> = const { Cell::new(false) };
    /// A byte of a response reached ureq on this thread since `forget`.
    static RESPONDED: Cell<bool> = const { Cell::new(false) };
}

/// Forgets this thread's notes, for the request about to be sent.
pub(super) fn forget() {
    CONNECTED.set(false);
    RESPONDED.set(false);
}

/// Whether the request sent since `forget` went out on a pooled connection (no new one was
/// opened) and no byte of a response came back on it.
pub(in crate::client) fn pooled_without_reply() -> bool {
    !CONNECTED.get() && !RESPONDED.get()
}

/// A connector chain's transport, noting on its thread that a connection was opened, and when
/// response bytes arrive. Everything else is the inner transport's.
#[derive(Debug)]
pub(in crate::client) struct Tracked<T>(T);

impl<T: Transport> Tracked<T> {
    /// A connection the chain has just opened.
    pub(in crate::client) fn new(transport: T) -> Self {
        CONNECTED.set(true);
        Self(transport)
    }
}

impl<T: Transport> Transport for Tracked<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.0.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let progressed = self.0.await_input(timeout)?;
        if progressed {
            RESPONDED.set(true);
        }
        Ok(progressed)
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}
