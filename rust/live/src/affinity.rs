//! Where the engine thread runs: pinned to one CPU (`[live] cpu`), and kept off that CPU for helper threads
//! of the same process (the replay mode's local venue), so the engine's caches hold the engine's work.
//!
//! # Why
//! Tick-to-trade latency on a warm path is a few microseconds; the same path after another thread has
//! run on the core, or after the thread slept and woke on another core, costs several times that (the
//! caches, the branch predictors and the TLB start cold). Pinning keeps the engine on one core, and with
//! [`crate::config::LiveSection::busy_poll`] that core does nothing else.
//!
//! # Invariants
//! - [`Pinned`] restores the thread's previous CPU set when dropped: `ft.live.run` runs the engine on the
//!   caller's (Python) thread, which must not stay pinned after the run.
//! - A CPU the calling thread may not use (outside its set, as in a container with a CPU limit) is a
//!   configuration error naming it, never a silent no-op.
//!
//! Linux only (`sched_setaffinity`); elsewhere asking for a CPU is an error and nothing is pinned.

use crate::LiveError;

/// The calling thread pinned to one CPU; the previous CPU set comes back on drop.
#[derive(Debug)]
pub struct Pinned {
    #[cfg(target_os = "linux")]
    previous: libc::cpu_set_t,
}

/// The CPUs the calling thread may run on.
#[cfg(target_os = "linux")]
fn current_set() -> Result<libc::cpu_set_t, LiveError> {
    // SAFETY: an all-zero cpu_set_t is a valid (empty) set, and sched_getaffinity writes at most
    // size_of::<cpu_set_t>() bytes into it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let done = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if done != 0 {
        return Err(affinity_error("reading the thread's CPU set", &std::io::Error::last_os_error()));
    }
    Ok(set)
}

#[cfg(target_os = "linux")]
fn set_current(set: &libc::cpu_set_t) -> Result<(), LiveError> {
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let done = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) };
    if done != 0 {
        return Err(affinity_error("setting the thread's CPU set", &std::io::Error::last_os_error()));
    }
    Ok(())
}

fn affinity_error(what: &str, error: &std::io::Error) -> LiveError {
    LiveError::Setup(format!("live.cpu: {what}: {error}"))
}

#[cfg(target_os = "linux")]
fn check_cpu(cpu: usize, allowed: &libc::cpu_set_t) -> Result<(), LiveError> {
    let size = 8 * std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: CPU_ISSET reads one bit of the set; `cpu` is below the set's size.
    if cpu >= size || !unsafe { libc::CPU_ISSET(cpu, allowed) } {
        let cpus = (0..size).filter(|&c| unsafe { libc::CPU_ISSET(c, allowed) }).collect::<Vec<_>>();
        return Err(LiveError::Config(format!("live.cpu = {cpu}: this process may only run on CPUs {cpus:?}")));
    }
    Ok(())
}

/// Checks that the calling thread may be pinned to `cpu` (before anything of a run is set up).
///
/// # Errors
/// [`LiveError::Config`] when the thread may not use `cpu` (or the platform has no pinning).
pub fn check(cpu: usize) -> Result<(), LiveError> {
    #[cfg(target_os = "linux")]
    {
        check_cpu(cpu, &current_set()?)
    }
    #[cfg(not(target_os = "linux"))]
    {
        pin_current(cpu).map(drop)
    }
}

/// Pins the calling thread to `cpu` until the returned guard is dropped.
///
/// # Errors
/// [`LiveError::Config`] when the process may not use `cpu`, [`LiveError::Setup`] when the system refuses.
#[cfg(target_os = "linux")]
pub fn pin_current(cpu: usize) -> Result<Pinned, LiveError> {
    let previous = current_set()?;
    check_cpu(cpu, &previous)?;
    // SAFETY: an all-zero cpu_set_t is the empty set; CPU_SET sets one bit below its size (checked above).
    let mut only: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    unsafe { libc::CPU_SET(cpu, &mut only) };
    set_current(&only)?;
    Ok(Pinned { previous })
}

/// Pins the calling thread to `cpu` until the returned guard is dropped.
///
/// # Errors
/// Always: pinning is implemented for Linux only.
#[cfg(not(target_os = "linux"))]
pub fn pin_current(cpu: usize) -> Result<Pinned, LiveError> {
    Err(LiveError::Config(format!("live.cpu = {cpu}: pinning a thread is only supported on Linux")))
}

/// Keeps the calling thread (and the threads it starts afterwards, which inherit its set) off `cpu`,
/// when the process has another CPU to run on; returns whether it did.
///
/// # Errors
/// [`LiveError::Setup`] when the system refuses.
#[cfg(target_os = "linux")]
pub fn avoid_current(cpu: usize) -> Result<bool, LiveError> {
    let mut set = current_set()?;
    // SAFETY: CPU_ISSET/CPU_CLR/CPU_COUNT read or clear bits of a valid set below its size.
    let size = 8 * std::mem::size_of::<libc::cpu_set_t>();
    if cpu >= size || !unsafe { libc::CPU_ISSET(cpu, &set) } || unsafe { libc::CPU_COUNT(&set) } < 2 {
        return Ok(false);
    }
    unsafe { libc::CPU_CLR(cpu, &mut set) };
    set_current(&set)?;
    Ok(true)
}

/// Keeps the calling thread off `cpu`: not supported outside Linux (nothing is changed).
///
/// # Errors
/// Never.
#[cfg(not(target_os = "linux"))]
pub fn avoid_current(_cpu: usize) -> Result<bool, LiveError> {
    Ok(false)
}

/// The CPU the calling thread runs on now (`None` where unknown).
#[must_use]
pub fn current_cpu() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sched_getcpu has no preconditions.
        let cpu = unsafe { libc::sched_getcpu() };
        usize::try_from(cpu).ok()
    }
    #[cfg(not(target_os = "linux"))]
    None
}

impl Drop for Pinned {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        {
            // Restoring a set the thread had before cannot be refused; if it were, the thread stays pinned.
            let _ = set_current(&self.previous);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn pinning_moves_the_thread_and_the_guard_restores_its_set() {
        std::thread::spawn(|| {
            let before = current_set().expect("readable");
            let allowed: Vec<usize> = (0..64).filter(|&c| unsafe { libc::CPU_ISSET(c, &before) }).collect();
            let target = *allowed.last().expect("at least one CPU");
            {
                let _pinned = pin_current(target).expect("pinned");
                assert_eq!(current_cpu(), Some(target));
                let now = current_set().expect("readable");
                assert_eq!(unsafe { libc::CPU_COUNT(&now) }, 1);
            }
            let after = current_set().expect("readable");
            assert!(unsafe { libc::CPU_EQUAL(&before, &after) }, "the previous set is back");
        })
        .join()
        .expect("thread");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_cpu_outside_the_process_set_is_an_error_naming_it() {
        let error = pin_current(100_000).expect_err("no such CPU");
        assert!(error.to_string().contains("live.cpu = 100000"), "{error}");
        let error = check(100_000).expect_err("no such CPU");
        assert!(matches!(error, LiveError::Config(_)), "{error}");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn avoiding_a_cpu_leaves_the_others() {
        std::thread::spawn(|| {
            let before = current_set().expect("readable");
            let count = unsafe { libc::CPU_COUNT(&before) };
            let first = (0..64).find(|&c| unsafe { libc::CPU_ISSET(c, &before) }).expect("a CPU");
            let avoided = avoid_current(first).expect("allowed");
            let after = current_set().expect("readable");
            if count < 2 {
                assert!(!avoided, "a single CPU is kept");
            } else {
                assert!(avoided);
                assert!(!unsafe { libc::CPU_ISSET(first, &after) });
                assert_eq!(unsafe { libc::CPU_COUNT(&after) }, count - 1);
            }
        })
        .join()
        .expect("thread");
    }
}
