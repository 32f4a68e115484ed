//! The two queues between the engine thread ([`BusSender`]) and the publisher thread ([`BusReceiver`]).
//!
//! Both are `crossbeam` array queues (bounded, lock-free). Market summaries use `force_push`: a full
//! queue drops its oldest entry, counted. Engine events are never dropped: when their queue is full they
//! wait, in order, in the sender's overflow list, which is moved into the queue before anything newer.
//! The publisher is woken through a `tokio::sync::Notify` only when it may be asleep (the first push after
//! it drained), so a burst costs one wake-up.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crossbeam_queue::ArrayQueue;
use ferrotrade_model::{InstrumentIndex, UnixNanos};
use tokio::sync::Notify;

use crate::event::{EngineEvent, MarketEvent};

struct Shared {
    market: ArrayQueue<MarketEvent>,
    events: ArrayQueue<EngineEvent>,
    dropped: AtomicU64,
    /// Set by a push, cleared by the receiver before it drains: a push that finds it set needs no wake-up.
    pending: AtomicBool,
    notify: Notify,
    closed: AtomicBool,
}

/// The engine thread's end.
pub struct BusSender {
    shared: Arc<Shared>,
    overflow: VecDeque<EngineEvent>,
    /// Per instrument: the earliest receive time of its next book summary.
    next_book: Vec<u64>,
    book_interval_ns: Option<u64>,
}

/// The publisher thread's end.
pub struct BusReceiver {
    shared: Arc<Shared>,
}

/// A connected pair of queues; `book_interval_ns` conflates book summaries per instrument (`None`: no
/// book summaries).
#[must_use]
pub fn bus_queue(
    market_capacity: usize,
    event_capacity: usize,
    instruments: usize,
    book_interval_ns: Option<u64>,
) -> (BusSender, BusReceiver) {
    let shared = Arc::new(Shared {
        market: ArrayQueue::new(market_capacity.max(1)),
        events: ArrayQueue::new(event_capacity.max(1)),
        dropped: AtomicU64::new(0),
        pending: AtomicBool::new(false),
        notify: Notify::new(),
        closed: AtomicBool::new(false),
    });
    let sender = BusSender {
        shared: shared.clone(),
        overflow: VecDeque::new(),
        next_book: vec![0; instruments],
        book_interval_ns,
    };
    (sender, BusReceiver { shared })
}

impl BusSender {
    /// Whether a book summary of `instrument` received at `ts_recv` is due (and if so, books the next slot):
    /// ask before building one.
    #[inline]
    pub fn book_due(&mut self, instrument: InstrumentIndex, ts_recv: UnixNanos) -> bool {
        let Some(interval) = self.book_interval_ns else { return false };
        let Some(next) = self.next_book.get_mut(instrument.get()) else { return false };
        if ts_recv.0 < *next {
            return false;
        }
        *next = ts_recv.0.saturating_add(interval);
        true
    }

    /// Queues a market summary; the oldest queued summary makes room if the queue is full (counted).
    #[inline]
    pub fn market(&mut self, event: MarketEvent) {
        if self.shared.market.force_push(event).is_some() {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.wake();
    }

    /// Queues an event that must not be lost, after any that wait in the overflow list.
    #[inline]
    pub fn event(&mut self, event: EngineEvent) {
        if self.overflow.is_empty() {
            if let Err(event) = self.shared.events.push(event) {
                self.overflow.push_back(event);
            }
        } else {
            self.overflow.push_back(event);
            self.flush();
        }
        self.wake();
    }

    /// Moves waiting events into the queue as far as it has room (also called on the engine's control
    /// tick, so the overflow drains when the engine is idle).
    pub fn flush(&mut self) {
        while let Some(event) = self.overflow.pop_front() {
            if let Err(event) = self.shared.events.push(event) {
                self.overflow.push_front(event);
                break;
            }
        }
        if !self.overflow.is_empty() {
            self.wake_now();
        }
    }

    /// Events waiting in the overflow list.
    #[must_use]
    pub fn overflowing(&self) -> usize {
        self.overflow.len()
    }

    /// Market summaries dropped so far.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    #[inline]
    fn wake(&self) {
        // While the publisher is busy (`pending` set) a push costs one load, not a read-modify-write.
        if !self.shared.pending.load(Ordering::Acquire) && !self.shared.pending.swap(true, Ordering::AcqRel) {
            self.shared.notify.notify_one();
        }
    }

    fn wake_now(&self) {
        self.shared.pending.store(true, Ordering::Release);
        self.shared.notify.notify_one();
    }

    /// Ends the stream: the receiver drains what is queued (the overflow list first moved in, waiting for
    /// room as long as the receiver drains) and stops.
    pub fn close(mut self) {
        while !self.overflow.is_empty() {
            self.flush();
            if !self.overflow.is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        self.shared.closed.store(true, Ordering::Release);
        self.wake_now();
    }
}

impl Drop for BusSender {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.notify.notify_one();
    }
}

impl std::fmt::Debug for BusSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusSender").field("overflow", &self.overflow.len()).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for BusReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusReceiver").finish_non_exhaustive()
    }
}

/// What one drain found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Drained {
    /// Entries handed out.
    pub count: usize,
    /// The sender closed and nothing is left.
    pub finished: bool,
}

impl BusReceiver {
    /// Hands out everything queued now, engine events first (fills matter more than books), at most
    /// `limit` entries per call so sending interleaves with draining.
    ///
    /// Only a drain that finds the queues empty clears the wake-up flag (and then looks once more, for a
    /// push that raced the clearing), so producers skip the wake-up while the publisher is busy.
    pub fn drain(
        &mut self,
        limit: usize,
        mut on_event: impl FnMut(EngineEvent),
        mut on_market: impl FnMut(MarketEvent),
    ) -> Drained {
        let closed = self.shared.closed.load(Ordering::Acquire);
        if self.shared.events.is_empty() && self.shared.market.is_empty() {
            self.shared.pending.store(false, Ordering::SeqCst);
        }
        let mut count = 0;
        while count < limit {
            if let Some(event) = self.shared.events.pop() {
                on_event(event);
            } else if let Some(event) = self.shared.market.pop() {
                on_market(event);
            } else {
                break;
            }
            count += 1;
        }
        let empty = self.shared.events.is_empty() && self.shared.market.is_empty();
        Drained { count, finished: closed && empty }
    }

    /// Waits until something may be queued (returns at once if a push came since the last drain).
    ///
    /// # Cancel safety
    /// Cancel safe: a wake-up not consumed stays stored for the next call.
    pub async fn wait(&self) {
        if self.shared.pending.load(Ordering::Acquire) || self.shared.closed.load(Ordering::Acquire) {
            return;
        }
        self.shared.notify.notified().await;
    }

    /// Market summaries dropped so far.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::{AggressorSide, Price, Quantity, Trade};

    use super::*;
    use crate::proto::TradingState;

    fn trade(id: u64) -> MarketEvent {
        MarketEvent::Trade {
            instrument: InstrumentIndex(0),
            trade: Trade {
                ts_event: UnixNanos(id),
                ts_recv: UnixNanos(id),
                trade_id: Some(id),
                price: Price(1),
                size: Quantity(1),
                aggressor: AggressorSide::Buyer,
            },
        }
    }

    fn heartbeat(ts: u64) -> EngineEvent {
        EngineEvent::Heartbeat { state: TradingState::Active, ts: UnixNanos(ts) }
    }

    fn drain_all(receiver: &mut BusReceiver) -> (Vec<EngineEvent>, Vec<MarketEvent>) {
        let (mut events, mut market) = (Vec::new(), Vec::new());
        while receiver.drain(usize::MAX, |e| events.push(e), |m| market.push(m)).count > 0 {}
        (events, market)
    }

    #[test]
    fn a_full_market_queue_drops_the_oldest_and_counts() {
        let (mut sender, mut receiver) = bus_queue(16, 16, 1, None);
        for id in 1..=20 {
            sender.market(trade(id));
        }
        assert_eq!(sender.dropped(), 4);
        let (_, market) = drain_all(&mut receiver);
        let ids: Vec<u64> = market
            .iter()
            .map(|event| match event {
                MarketEvent::Trade { trade, .. } => trade.trade_id.unwrap_or(0),
                _ => 0,
            })
            .collect();
        assert_eq!(ids, (5..=20).collect::<Vec<_>>(), "the newest 16 survive, in order");
    }

    #[test]
    fn engine_events_overflow_in_order_and_are_never_dropped() {
        let (mut sender, mut receiver) = bus_queue(16, 16, 1, None);
        for ts in 1..=50 {
            sender.event(heartbeat(ts));
        }
        assert_eq!(sender.overflowing(), 34);
        let (first, _) = drain_all(&mut receiver);
        assert_eq!(first.len(), 16);
        sender.flush();
        sender.event(heartbeat(51));
        let mut all = first;
        loop {
            let (more, _) = drain_all(&mut receiver);
            if more.is_empty() && sender.overflowing() == 0 {
                break;
            }
            all.extend(more);
            sender.flush();
        }
        let times: Vec<u64> = all
            .iter()
            .map(|event| match event {
                EngineEvent::Heartbeat { ts, .. } => ts.0,
                _ => 0,
            })
            .collect();
        assert_eq!(times, (1..=51).collect::<Vec<_>>());
        assert_eq!(sender.dropped(), 0);
    }

    #[test]
    fn books_are_conflated_per_instrument() {
        let (mut sender, _receiver) = bus_queue(16, 16, 2, Some(100));
        let due = |sender: &mut BusSender, index, ts| sender.book_due(InstrumentIndex(index), UnixNanos(ts));
        assert!(due(&mut sender, 0, 1_000));
        assert!(!due(&mut sender, 0, 1_050));
        assert!(due(&mut sender, 1, 1_050), "another instrument has its own slot");
        assert!(due(&mut sender, 0, 1_100));
        assert!(!due(&mut sender, 5, 1_100), "an unknown instrument is never due");
        let (mut none, _receiver) = bus_queue(16, 16, 1, None);
        assert!(!due(&mut none, 0, 1_000));
    }

    #[test]
    fn close_finishes_after_the_last_entry() {
        let (mut sender, mut receiver) = bus_queue(16, 16, 1, None);
        sender.event(heartbeat(1));
        sender.close();
        let mut seen = 0;
        let drained = receiver.drain(usize::MAX, |_| seen += 1, |_| {});
        assert_eq!((seen, drained.finished), (1, true));
    }
}
