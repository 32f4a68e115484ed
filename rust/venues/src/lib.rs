//! Venues (work in progress).
