//! The threads that answer the proxy's requests: an elastic pool that takes requests from tiny_http.
//!
//! Promises: a request is taken by a thread that was already waiting for it (no thread is started per
//! request, and there is no hand-over between threads); whenever the last waiting thread takes one, another
//! is started, so that a slow client or a slow upstream answer holds up only its own thread, up to
//! [`MAX_WORKERS`] at once (beyond that, requests wait in tiny_http's queue for a thread to come free).
//! A thread beyond [`SPARE`] ends when it has waited [`IDLE_TIMEOUT`] for a request. [`Pool::stop`]
//! ends every waiting thread; a busy one ends after its request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// At most this many requests are answered at once.
pub(super) const MAX_WORKERS: usize = 512;

/// How many threads stay alive when there is nothing to do.
pub(super) const SPARE: usize = 4;

/// How long a thread beyond the [`SPARE`] ones waits for a request before it ends: long enough that a
/// steady load keeps its threads (no thread is started and ended per request), short enough that a
/// burst's threads are gone soon after.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A pool answering the requests of `server` with `answer`.
pub(super) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    server: Arc<tiny_http::Server>,
    answer: Box<dyn Fn(tiny_http::Request) + Send + Sync>,
    /// Threads waiting in `recv`.
    idle: AtomicUsize,
    /// Threads alive.
    alive: AtomicUsize,
    stop: AtomicBool,
}

impl Pool {
    /// Starts [`SPARE`] threads taking requests from `server`; each request goes to `answer`.
    pub(super) fn start(
        server: Arc<tiny_http::Server>,
        answer: impl Fn(tiny_http::Request) + Send + Sync + 'static,
    ) -> std::io::Result<Pool> {
        let inner = Arc::new(Inner {
            server,
            answer: Box::new(answer),
            idle: AtomicUsize::new(0),
            alive: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        for _ in 0..SPARE {
            spawn(&inner)?;
        }
        Ok(Pool { inner })
    }

    /// Ends the waiting threads now and the busy ones after their request; takes no new request.
    pub(super) fn stop(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        // One wake-up per thread; a thread that is busy meanwhile finds `stop` set before it waits again.
        for _ in 0..self.inner.alive.load(Ordering::SeqCst) {
            self.inner.server.unblock();
        }
    }
}

/// Starts one more thread, unless [`MAX_WORKERS`] are alive.
fn spawn(inner: &Arc<Inner>) -> std::io::Result<()> {
    if inner.alive.fetch_add(1, Ordering::SeqCst) >= MAX_WORKERS {
        inner.alive.fetch_sub(1, Ordering::SeqCst);
        return Ok(());
    }
    let worker = Arc::clone(inner);
    let started = std::thread::Builder::new().name("sipgate-proxy".into()).spawn(move || work(&worker));
    if started.is_err() {
        inner.alive.fetch_sub(1, Ordering::SeqCst);
    }
    started.map(drop)
}

/// One thread: takes requests until stopped, or until it has waited [`IDLE_TIMEOUT`] for one while
/// more than [`SPARE`] threads are alive.
fn work(inner: &Arc<Inner>) {
    while !inner.stop.load(Ordering::SeqCst) {
        inner.idle.fetch_add(1, Ordering::SeqCst);
        let request = inner.server.recv_timeout(IDLE_TIMEOUT);
        let was_idle = inner.idle.fetch_sub(1, Ordering::SeqCst);
        let Ok(Some(request)) = request else {
            // Waited long enough (or unblocked by `stop`, or tiny_http failed): a thread beyond the spare
            // ones leaves; the loop's check decides for the others.
            let beyond_spare = inner
                .alive
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1).filter(|left| *left >= SPARE));
            if beyond_spare.is_ok() {
                return;
            }
            continue;
        };
        if was_idle == 1 && !inner.stop.load(Ordering::SeqCst) {
            // Nobody waits for the next request now: start a thread that does. Without one (the process
            // is at its thread limit) the threads there are go on.
            let _ = spawn(inner);
        }
        // A panic costs this request (tiny_http answers 500 for a dropped one), not the thread count.
        let answer = std::panic::AssertUnwindSafe(|| (inner.answer)(request));
        let _ = std::panic::catch_unwind(answer);
    }
    inner.alive.fetch_sub(1, Ordering::SeqCst);
}
