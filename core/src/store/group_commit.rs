//! Group commit: concurrent writers share one flush.
//!
//! Every write is acknowledged only after `Db::flush()` (fsync) returns. A
//! flush makes durable everything committed before it *started*, so a writer
//! whose transaction committed while another writer's flush was already
//! running needs the next flush, and every writer that committed meanwhile
//! can share that one. With 32 concurrent writers this turns 32 fsyncs in a
//! row into two or three (see BENCHMARKS.md, "The server and the command
//! line at clinic scale").
//!
//! A generation counts flushes started; `done` is the generation of the last
//! one finished. A writer that committed when `started` was `g` is durable
//! once a flush numbered `g + 1` or later has finished without error.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::StoreError;

#[derive(Debug, Default)]
struct State {
    /// Flushes started.
    started: u64,
    /// The last flush finished, and whether it failed (then each writer
    /// waiting on it runs its own, to get its own error).
    done: u64,
    failed: bool,
    running: bool,
}

/// Shares flushes between concurrent writers.
#[derive(Debug, Default)]
pub(crate) struct FlushGate {
    state: Mutex<State>,
    finished: Condvar,
}

impl FlushGate {
    /// Makes everything committed before this call durable, with `flush`
    /// (one real flush, bounded by its own timeout), run by this thread or
    /// shared with a flush another writer starts after this call. Waits at
    /// most `timeout` for another writer's flush.
    pub(crate) fn flush(
        &self,
        timeout: Duration,
        flush: impl Fn() -> Result<(), StoreError>,
        stuck: impl Fn() -> StoreError,
    ) -> Result<(), StoreError> {
        let deadline = Instant::now() + timeout;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // A flush that starts after this point covers this writer's commit.
        let needed = state.started + 1;
        loop {
            if state.done >= needed && !state.failed {
                return Ok(());
            }
            if !state.running {
                state.running = true;
                state.started += 1;
                let generation = state.started;
                drop(state);
                let result = flush();
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                state.running = false;
                state.done = generation;
                state.failed = result.is_err();
                self.finished.notify_all();
                return result;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(stuck());
            }
            state = self.finished.wait_timeout(state, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
            // A failed shared flush: run one of our own for our own error.
            if state.done >= needed && state.failed && !state.running {
                state.running = true;
                state.started += 1;
                let generation = state.started;
                drop(state);
                let result = flush();
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                state.running = false;
                state.done = generation;
                state.failed = result.is_err();
                self.finished.notify_all();
                return result;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// Writers that commit while a flush runs share the next one: 16
    /// writers need far fewer than 16 flushes, and each returns only after
    /// a flush that started after its call.
    #[test]
    fn concurrent_writers_share_flushes_that_start_after_them() {
        let gate = Arc::new(FlushGate::default());
        let flushes = Arc::new(AtomicU64::new(0));
        let clock = Arc::new(AtomicU64::new(0));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (gate, flushes, clock) = (gate.clone(), flushes.clone(), clock.clone());
                std::thread::spawn(move || {
                    let committed = clock.fetch_add(1, Ordering::SeqCst);
                    let covered = Arc::new(AtomicU64::new(0));
                    let c = covered.clone();
                    gate.flush(
                        Duration::from_secs(10),
                        || {
                            // What this flush covers: every commit so far.
                            c.store(clock.load(Ordering::SeqCst), Ordering::SeqCst);
                            flushes.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                            Ok(())
                        },
                        || StoreError::Stuck { path: "x".into(), waited: Duration::ZERO },
                    )
                    .unwrap();
                    (committed, covered.load(Ordering::SeqCst))
                })
            })
            .collect();
        for h in handles {
            let (committed, covered) = h.join().unwrap();
            // A writer that ran its own flush saw its commit covered.
            assert!(covered == 0 || covered > committed, "{committed} {covered}");
        }
        let n = flushes.load(Ordering::SeqCst);
        assert!((1..16).contains(&n), "{n} flushes for 16 writers");
    }

    #[test]
    fn a_failed_flush_fails_each_writer_that_waited_for_it() {
        let gate = FlushGate::default();
        let err = gate.flush(
            Duration::from_secs(1),
            || Err(StoreError::Stuck { path: "x".into(), waited: Duration::ZERO }),
            || StoreError::Stuck { path: "y".into(), waited: Duration::ZERO },
        );
        assert!(err.is_err());
        // The next writer flushes again rather than trusting the failed one.
        assert!(gate.flush(Duration::from_secs(1), || Ok(()), || unreachable!()).is_ok());
    }
}
