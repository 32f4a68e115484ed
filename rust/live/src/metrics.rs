//! Latency per stage of the hot path and message counters, summarized into the [`crate::LiveReport`].
//!
//! # Stages
//! | stage | from | to |
//! |---|---|---|
//! | `frame_to_engine` | a frame was read from the socket (`FeedInput::received_at`) | the engine started handling it (the wait behind earlier work on the engine thread) |
//! | `frame_to_book` | frame read | its book update was applied |
//! | `book_to_decision` | the book was applied | a strategy called `submit`/`cancel`/`amend` |
//! | `decision_to_risk` | the strategy decided | the risk chain passed the order |
//! | `risk_to_wire` | risk passed | the order's request was written to its socket (the live gateways' order links: one non-blocking write within `send`), or queued in the simulated venue (paper) |
//! | `write_call` | the write system call started | it returned: the kernel's part of `risk_to_wire` (live gateways only; on loopback it includes the receiving side's TCP input, and waking the receiver when it sleeps) |
//! | `engine_to_wire` | the engine started handling the frame | the request written: the handling cost, without the wait |
//! | `frame_to_wire` | frame read | the request written: the tick-to-trade figure |
//! | `frame_to_write` | frame read | the write system call started: the tick-to-trade figure without the kernel's part, what the engine itself costs (live gateways only) |
//! | `first_to_wire` | frame read | the *first* order the frame triggered was written: the reaction time, without the wait of the orders after it (a market maker's second quote is built and written after the first) |
//! | `snapshot_to_book` | a REST depth snapshot's answer was read | the book it rebuilt was applied (a start or a resync; not on the tick-to-trade path) |
//!
//! The path stages start at market-data frames only. A snapshot's answer, or a link event, is not a tick:
//! orders a strategy places on it (the first quotes once a book is synced) record their decision, risk
//! and wire stages like an order from a timer, and no frame or book stage.
//!
//! The wire stages count only orders whose request left within `send`. One that had to wait (no idle
//! order link, rate-limit pacing) is written later by its task, with no wire time here; the report counts
//! them (`sent_later`) so a low figure cannot hide them.
//!
//! `frame_to_wire` = `frame_to_engine` + `engine_to_wire` for each order: the split tells a slow path
//! from a busy thread (a burst of frames, or the previous frame's orders, queue the next frame).
//!
//! Histograms are `hdrhistogram` with 3 significant digits from 1 ns to 60 s, allocated and written
//! through once at start (so no page of their counts is first touched by a sample); recording is O(1) and
//! allocation-free, as the hot path requires. Values above the range saturate at the
//! top (a stall is still counted, as "at least 60 s").

use std::time::Instant;

use hdrhistogram::Histogram;
use serde::Serialize;

pub use crate::gateway::Wire;

/// A stage of the hot path (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Stage {
    /// Frame read -> the engine starts handling it.
    FrameToEngine = 0,
    /// Frame read -> book applied.
    FrameToBook = 1,
    /// Book applied -> strategy decided.
    BookToDecision = 2,
    /// Decided -> risk passed.
    DecisionToRisk = 3,
    /// Risk passed -> order handed to the socket.
    RiskToWire = 4,
    /// The write system call of the order's request.
    WriteCall = 5,
    /// Handling started -> order handed to the socket.
    EngineToWire = 6,
    /// Frame read -> order handed to the socket.
    FrameToWire = 7,
    /// Frame read -> the write system call started.
    FrameToWrite = 8,
    /// Frame read -> the first order it triggered handed to the socket.
    FirstToWire = 9,
    /// A REST snapshot's answer read -> its book applied.
    SnapshotToBook = 10,
}

impl Stage {
    /// Every stage, in path order, which is also the order of their numbers.
    pub const ALL: [Stage; 11] = [
        Stage::FrameToEngine,
        Stage::FrameToBook,
        Stage::BookToDecision,
        Stage::DecisionToRisk,
        Stage::RiskToWire,
        Stage::WriteCall,
        Stage::EngineToWire,
        Stage::FrameToWire,
        Stage::FrameToWrite,
        Stage::FirstToWire,
        Stage::SnapshotToBook,
    ];

    /// The stage's name in reports.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Stage::FrameToEngine => "frame_to_engine",
            Stage::FrameToBook => "frame_to_book",
            Stage::BookToDecision => "book_to_decision",
            Stage::DecisionToRisk => "decision_to_risk",
            Stage::RiskToWire => "risk_to_wire",
            Stage::WriteCall => "write_call",
            Stage::EngineToWire => "engine_to_wire",
            Stage::FrameToWire => "frame_to_wire",
            Stage::FrameToWrite => "frame_to_write",
            Stage::FirstToWire => "first_to_wire",
            Stage::SnapshotToBook => "snapshot_to_book",
        }
    }
}

/// Percentiles of one stage, nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageLatency {
    /// The stage name.
    pub stage: &'static str,
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest sample.
    pub max_ns: u64,
}

const HIGHEST_NS: u64 = 60_000_000_000;

/// One stage's histogram, its counts resident: the counts vector (27 648 counts, 216 KiB, for this range and
/// precision) comes zeroed from the allocator as untouched pages, and the first sample in each page's
/// range of values faulted it in on the hot path (120-140 us for the first orders' records here).
/// `reset` writes every count once, at start.
#[allow(clippy::expect_used)]
fn stage_histogram() -> Histogram<u64> {
    let mut histogram = Histogram::new_with_bounds(1, HIGHEST_NS, 3).expect("constant histogram bounds are valid");
    histogram.reset();
    histogram
}

/// The engine's latency histograms and the timestamps of the message being handled.
#[derive(Debug)]
pub struct Metrics {
    histograms: Vec<Histogram<u64>>,
    /// When the frame being handled was read.
    pub frame_read: Option<Instant>,
    /// When the engine started handling it.
    pub frame_picked: Option<Instant>,
    /// When its book update was applied.
    pub book_applied: Option<Instant>,
    /// Whether an order of the frame being handled was timed to the wire already.
    first_timed: bool,
    /// When the input being handled was read, when it is not a market-data frame.
    other_read: Option<Instant>,
    /// Market-data messages handled.
    pub messages: u64,
    started: Instant,
}

impl Metrics {
    /// Histograms for every stage, allocated now.
    ///
    /// # Panics
    /// Never: the bounds are constants hdrhistogram accepts (1 ns .. 60 s, 3 digits).
    #[must_use]
    pub fn new(started: Instant) -> Metrics {
        let histograms = Stage::ALL.iter().map(|_| stage_histogram()).collect();
        Metrics {
            histograms,
            frame_read: None,
            frame_picked: None,
            book_applied: None,
            first_timed: false,
            other_read: None,
            messages: 0,
            started,
        }
    }

    /// Records one sample of `stage` between `from` and `to`.
    #[inline]
    pub fn record(&mut self, stage: Stage, from: Instant, to: Instant) {
        let nanos = u64::try_from(to.saturating_duration_since(from).as_nanos()).unwrap_or(u64::MAX);
        if let Some(histogram) = self.histograms.get_mut(stage as usize) {
            histogram.saturating_record(nanos.clamp(1, HIGHEST_NS));
        }
    }

    /// A frame read at `read` is handled from `picked` on: starts the path of this message.
    #[inline]
    pub fn frame(&mut self, read: Instant, picked: Instant) {
        self.record(Stage::FrameToEngine, read, picked);
        self.frame_read = Some(read);
        self.frame_picked = Some(picked);
        self.book_applied = None;
        self.first_timed = false;
        self.other_read = None;
        self.messages += 1;
    }

    /// A feed input read at `read` that is not a market-data frame (a snapshot's answer, a link event):
    /// it starts no path (see the module docs).
    #[inline]
    pub fn other_input(&mut self, read: Instant) {
        self.end_message();
        self.other_read = Some(read);
        self.messages += 1;
    }

    /// The input's book update was applied at `at`: a frame's, or a snapshot's (`snapshot_to_book`).
    #[inline]
    pub fn book(&mut self, at: Instant) {
        if let Some(read) = self.frame_read {
            self.record(Stage::FrameToBook, read, at);
            self.book_applied = Some(at);
        } else if let Some(read) = self.other_read {
            self.record(Stage::SnapshotToBook, read, at);
        }
    }

    /// A strategy decided at `decided`, risk passed at `passed`, the order left at `sent`.
    #[inline]
    pub fn order_path(&mut self, decided: Instant, passed: Instant, wire: Wire) {
        let sent = wire.written;
        if let Some(book) = self.book_applied {
            self.record(Stage::BookToDecision, book, decided);
        }
        self.record(Stage::DecisionToRisk, decided, passed);
        self.record(Stage::RiskToWire, passed, sent);
        if let Some(started) = wire.write_started {
            self.record(Stage::WriteCall, started, sent);
        }
        if let Some(picked) = self.frame_picked {
            self.record(Stage::EngineToWire, picked, sent);
        }
        if let Some(read) = self.frame_read {
            self.record(Stage::FrameToWire, read, sent);
            if !self.first_timed {
                self.record(Stage::FirstToWire, read, sent);
                self.first_timed = true;
            }
            if let Some(started) = wire.write_started {
                self.record(Stage::FrameToWrite, read, started);
            }
        }
    }

    /// An order whose request did not leave at once: its decision and risk stages only (its wire time is
    /// not known here).
    #[inline]
    pub fn risk_only(&mut self, decided: Instant, passed: Instant) {
        if let Some(book) = self.book_applied {
            self.record(Stage::BookToDecision, book, decided);
        }
        self.record(Stage::DecisionToRisk, decided, passed);
    }

    /// The message being handled is done (timers and order events do not start at a frame).
    #[inline]
    pub fn end_message(&mut self) {
        self.frame_read = None;
        self.frame_picked = None;
        self.book_applied = None;
        self.other_read = None;
    }

    /// Percentiles per stage.
    #[must_use]
    pub fn summary(&self) -> Vec<StageLatency> {
        Stage::ALL
            .iter()
            .zip(&self.histograms)
            .map(|(stage, histogram)| StageLatency {
                stage: stage.name(),
                count: histogram.len(),
                p50_ns: histogram.value_at_quantile(0.5),
                p99_ns: histogram.value_at_quantile(0.99),
                p999_ns: histogram.value_at_quantile(0.999),
                max_ns: histogram.max(),
            })
            .collect()
    }

    /// Market-data messages per second of wall time since the engine started.
    #[must_use]
    pub fn messages_per_second(&self, now: Instant) -> f64 {
        let seconds = now.saturating_duration_since(self.started).as_secs_f64();
        if seconds > 0.0 { self.messages as f64 / seconds } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn stages_record_the_spans_between_their_marks() {
        let start = crate::clock::now_instant();
        let mut metrics = Metrics::new(start);
        let at = |micros: u64| start + Duration::from_micros(micros);
        metrics.frame(at(0), at(1));
        metrics.book(at(2));
        metrics.order_path(at(5), at(6), Wire { write_started: Some(at(8)), written: at(10) });
        metrics.end_message();
        // An order from a timer (no frame) records only the stages it has; the paper gateway has no write.
        metrics.order_path(at(20), at(21), Wire { write_started: None, written: at(23) });
        let summary = metrics.summary();
        let stage = |name: &str| summary.iter().find(|stage| stage.stage == name).cloned().expect("stage");
        assert_eq!(stage("frame_to_book").count, 1);
        assert_eq!(stage("book_to_decision").count, 1);
        assert_eq!(stage("decision_to_risk").count, 2);
        assert_eq!(stage("frame_to_wire").count, 1);
        let wire = stage("frame_to_wire");
        assert!((9_990..=10_010).contains(&wire.p50_ns), "{wire:?}");
        let (queued, handled) = (stage("frame_to_engine"), stage("engine_to_wire"));
        assert!((999..=1_001).contains(&queued.max_ns), "{queued:?}");
        assert!((8_990..=9_010).contains(&handled.p50_ns) && handled.count == 1, "{handled:?}");
        let write = stage("write_call");
        assert!(write.count == 1 && (1_999..=2_001).contains(&write.p50_ns), "{write:?}");
        let own = stage("frame_to_write");
        assert!(own.count == 1 && (7_990..=8_010).contains(&own.p50_ns), "{own:?}");
        let book = stage("frame_to_book");
        assert!((1_999..=2_001).contains(&book.max_ns), "{book:?}");
        assert_eq!(metrics.messages, 1);
    }

    #[test]
    fn stages_are_listed_in_the_order_of_their_histograms() {
        // A stage's number indexes its histogram, and the summary pairs `ALL` with the histograms in order.
        for (index, stage) in Stage::ALL.iter().enumerate() {
            assert_eq!(*stage as usize, index, "{}", stage.name());
        }
    }

    #[test]
    fn the_first_order_of_a_frame_is_timed_apart_from_the_ones_after_it() {
        let start = crate::clock::now_instant();
        let mut metrics = Metrics::new(start);
        let at = |micros: u64| start + Duration::from_micros(micros);
        // Two quotes on one frame (the second built and written after the first), then one on the next frame.
        metrics.frame(at(0), at(1));
        metrics.book(at(3));
        metrics.order_path(at(4), at(4), Wire { write_started: Some(at(6)), written: at(8) });
        metrics.order_path(at(9), at(9), Wire { write_started: Some(at(12)), written: at(14) });
        metrics.end_message();
        metrics.frame(at(100), at(101));
        metrics.book(at(103));
        metrics.order_path(at(104), at(104), Wire { write_started: Some(at(107)), written: at(109) });
        metrics.end_message();
        let summary = metrics.summary();
        let stage = |name: &str| summary.iter().find(|stage| stage.stage == name).cloned().expect("stage");
        let (all, first) = (stage("frame_to_wire"), stage("first_to_wire"));
        assert_eq!((all.count, first.count), (3, 2));
        assert!(all.max_ns.abs_diff(14_000) <= 10, "the second quote: {all:?}");
        assert!(first.max_ns.abs_diff(9_000) <= 10 && first.p50_ns.abs_diff(8_000) <= 10, "{first:?}");
    }

    #[test]
    fn a_snapshot_starts_no_path() {
        let start = crate::clock::now_instant();
        let mut metrics = Metrics::new(start);
        let at = |micros: u64| start + Duration::from_micros(micros);
        // The snapshot's answer rebuilds the book, and the strategy places its first quote on it.
        metrics.other_input(at(0));
        metrics.book(at(200));
        metrics.order_path(at(230), at(231), Wire { write_started: Some(at(233)), written: at(238) });
        metrics.end_message();
        // Then a frame moves the touch.
        metrics.frame(at(1_000), at(1_001));
        metrics.book(at(1_004));
        metrics.order_path(at(1_005), at(1_006), Wire { write_started: Some(at(1_008)), written: at(1_012) });
        metrics.end_message();
        let summary = metrics.summary();
        let stage = |name: &str| summary.iter().find(|stage| stage.stage == name).cloned().expect("stage");
        let snapshot = stage("snapshot_to_book");
        assert!(snapshot.count == 1 && (199_000..=201_000).contains(&snapshot.p50_ns), "{snapshot:?}");
        for (name, micros) in [("frame_to_book", 4), ("book_to_decision", 1), ("frame_to_wire", 12)] {
            let only_the_frame = stage(name);
            assert_eq!(only_the_frame.count, 1, "{name}");
            assert!(only_the_frame.max_ns.abs_diff(micros * 1_000) <= 10, "{name}: {only_the_frame:?}");
        }
        // The snapshot's order still counts where an order from a timer would.
        assert_eq!(stage("decision_to_risk").count, 2);
        assert_eq!(stage("write_call").count, 2);
        assert_eq!(metrics.messages, 2);
    }
}
