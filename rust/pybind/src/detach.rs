//! Running long Rust work without the GIL, interruptible by Ctrl-C.
//!
//! The work runs on a scoped thread; the calling thread waits for it with the GIL released, waking every
//! 100 ms to let Python check for signals. On `KeyboardInterrupt` the work's cancel flag is raised, the
//! thread is joined (the work stops at its next check) and the interrupt propagates to Python.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use pyo3::prelude::*;

/// Runs `work` off the GIL; `work` should poll the flag it is given and stop early when it is set.
///
/// # Errors
/// `KeyboardInterrupt` (or any signal handler's exception) when the user interrupts.
pub fn run_interruptible<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&AtomicBool) -> T + Send,
{
    run_interruptible_with(py, work, |_| Ok(()))
}

/// As [`run_interruptible`], calling `on_tick` on the calling thread (with the GIL) every 100 ms while the
/// work runs, for progress reports; an error from `on_tick` stops the work like Ctrl-C.
///
/// # Errors
/// `KeyboardInterrupt` (or any signal handler's exception), or the error `on_tick` returned.
pub fn run_interruptible_with<T, F, G>(py: Python<'_>, work: F, on_tick: G) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&AtomicBool) -> T + Send,
    G: FnMut(Python<'_>) -> PyResult<()>,
{
    match supervise(py, work, on_tick)? {
        (value, None) => Ok(value),
        (_, Some(Stop::Interrupted(error) | Stop::Tick(error))) => Err(error),
    }
}

/// As [`run_interruptible_with`], but Ctrl-C is a request to finish, not an abort: the work's own result
/// is returned, with `true` when the user interrupted. For long-running services (the live engine, the
/// local venue) whose clean stop produces a report.
///
/// # Errors
/// The error `on_tick` returned (the work is stopped and awaited first).
pub fn run_until_interrupted<T, F, G>(py: Python<'_>, work: F, on_tick: G) -> PyResult<(T, bool)>
where
    T: Send,
    F: FnOnce(&AtomicBool) -> T + Send,
    G: FnMut(Python<'_>) -> PyResult<()>,
{
    match supervise(py, work, on_tick)? {
        (value, None) => Ok((value, false)),
        (value, Some(Stop::Interrupted(_))) => Ok((value, true)),
        (_, Some(Stop::Tick(error))) => Err(error),
    }
}

/// Why the supervisor raised the work's cancel flag.
enum Stop {
    /// A signal handler raised (Ctrl-C is `KeyboardInterrupt`).
    Interrupted(PyErr),
    /// `on_tick` failed.
    Tick(PyErr),
}

/// Runs `work` on a scoped thread and waits for its result with the GIL released, waking every 100 ms to
/// check Python signals and call `on_tick`. On a signal or a tick error the cancel flag is raised and the
/// work is still awaited: its result is always returned, with the reason it was stopped.
fn supervise<T, F, G>(py: Python<'_>, work: F, mut on_tick: G) -> PyResult<(T, Option<Stop>)>
where
    T: Send,
    F: FnOnce(&AtomicBool) -> T + Send,
    G: FnMut(Python<'_>) -> PyResult<()>,
{
    let cancel = AtomicBool::new(false);
    let mut stop = None;
    let value = std::thread::scope(|scope| {
        let (sender, mut receiver) = mpsc::channel();
        let cancel_ref = &cancel;
        scope.spawn(move || {
            // The receiver outlives this thread inside the scope, so sending cannot fail.
            let _ = sender.send(work(cancel_ref));
        });
        loop {
            // The receiver is moved in and out: it is `Send` but not `Sync`.
            let (returned, received) = py.detach(move || {
                let received = receiver.recv_timeout(Duration::from_millis(100));
                (receiver, received)
            });
            receiver = returned;
            match received {
                Ok(value) => return Ok(value),
                Err(mpsc::RecvTimeoutError::Timeout) if stop.is_none() => {
                    if let Err(interrupt) = py.check_signals() {
                        stop = Some(Stop::Interrupted(interrupt));
                    } else if let Err(error) = on_tick(py) {
                        stop = Some(Stop::Tick(error));
                    }
                    if stop.is_some() {
                        cancel.store(true, Ordering::Relaxed);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(pyo3::exceptions::PyRuntimeError::new_err("ferrotrade worker thread panicked"));
                }
            }
        }
    })?;
    Ok((value, stop))
}
