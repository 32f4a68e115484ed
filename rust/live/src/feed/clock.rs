//! The feed's only two clock reads: the monotonic time an input was read (the start of the latency path,
//! and the base of every timeout) and the wall-clock receive time stamped on events (`ts_recv`).
//!
//! The workspace forbids reading clocks in the deterministic crates (book, oms, risk, sim, strategy); a
//! live feed measures real time by definition, so the reads are allowed here, and only here.

use std::time::SystemTime;

use ferrotrade_model::UnixNanos;

/// Now, on the monotonic clock (the engine's one monotonic read, [`crate::clock::now_instant`]).
pub(crate) fn monotonic() -> std::time::Instant {
    crate::clock::now_instant()
}

/// Now, on the wall clock, as `UnixNanos` (0 if the clock is before 1970).
#[allow(clippy::disallowed_methods)] // the live feed's real time, see the module docs
pub(crate) fn wall_clock() -> UnixNanos {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    UnixNanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}
