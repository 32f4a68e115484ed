//! The venue's wall clock: server time, request timestamps, event times of user-data messages.
//!
//! The local venue is a live peer: clients sign requests with their wall clock and compare it with
//! `serverTime`, so the venue answers in wall time. Recorded frames keep their recorded times (they are
//! sent byte for byte); only their spacing is replayed.
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch now.
#[allow(clippy::disallowed_methods)] // the one place the local venue reads the wall clock
pub(crate) fn wall_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
