//! Simulated phone calls: the stand-in rings a sipgate.io app the way sipgate does. A call started
//! through the admin API (`POST /_stand-in/calls`) pushes `newCall` to the account's incoming or outgoing
//! URL, reads the XML answer as sipgate reads it, follows it (`Dial`, `Play`, `Gather`, `Reject`,
//! `Hangup`), pushes `answer`, `hangup` and `dtmf` where the answer subscribed, and signs every push.
//! docs/stand-in.md, "Simulated calls (sipgate.io)", lists every event, field and element and the
//! choice made for each point sipgate leaves open.
//!
//! Layers: `admin` and `rest` are handlers (called by `routes` and `mock::rest`); `run` is the call's own thread, which
//! uses `push` (HTTP to the app, `answer`/`xml` to read what comes back, `wav` to check sounds) and
//! writes to `book` (state). Nothing here calls back into `routes`. Each call runs on a thread of its
//! own, so the stand-in keeps serving while an app is slow.

pub(crate) mod admin;
mod answer;
mod book;
mod leg;
mod push;
pub(crate) mod rest;
mod run;
mod sign;
mod wav;
mod xml;

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::config::WebhookConfig;

/// The published TEST key (PEM), for tests; never trust it.
#[cfg(test)]
pub(crate) const TEST_KEY_PEM: &str = sign::TEST_KEY_PEM;

/// Checks a `--webhook-key` file's text; `Err` says why it cannot sign.
pub(crate) fn check_key(pem: &str) -> Result<(), String> {
    sign::Signer::from_pem(pem).map(|_| ())
}

/// What the call threads and the handlers share: the tables, the key, the timeout.
#[derive(Debug)]
pub(crate) struct Calls {
    book: Mutex<book::Book>,
    /// Notified whenever a call's timeline grows or it ends, for the admin API's long poll.
    changed: Condvar,
    signer: sign::Signer,
    timeout: Duration,
}

impl Calls {
    /// The sipgate.io side of a new stand-in. A key that cannot sign (checked when the flag was read)
    /// falls back to the test key.
    pub fn new(config: &WebhookConfig) -> Calls {
        let signer = config
            .key_pem
            .as_deref()
            .and_then(|pem| sign::Signer::from_pem(pem).ok())
            .unwrap_or_else(sign::Signer::test);
        let mut book = book::Book::default();
        if let Some(url) = &config.url {
            book.settings.incoming_url.clone_from(url);
            book.settings.outgoing_url.clone_from(url);
            book.settings.log = true;
        }
        Calls { book: Mutex::new(book), changed: Condvar::new(), signer, timeout: config.timeout }
    }

    /// Waits (on the locked tables) until a timeline changes or `timeout` passes.
    fn wait<'a>(&self, book: MutexGuard<'a, book::Book>, timeout: Duration) -> MutexGuard<'a, book::Book> {
        self.changed.wait_timeout(book, timeout).unwrap_or_else(PoisonError::into_inner).0
    }

    /// The tables, locked (a poisoned lock is used anyway: a test server keeps answering).
    fn book(&self) -> MutexGuard<'_, book::Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
