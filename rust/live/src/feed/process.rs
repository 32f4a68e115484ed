//! `MarketFeed::process`: one input -> decoded, deduplicated, synced, applied, emitted. No await, and no
//! allocation in steady state: decoders and the converter reuse their buffers, the sync buffers only while
//! a book is unsynced, and events go into the caller's vector.
//!
//! A Binance book message (compact `depthUpdate` or REST snapshot, nearly all of them) is decoded straight
//! to its instrument's fixed point (`binance::decode_book`, asking the router for the symbol's
//! precisions); any other frame is decoded to exact decimals and converted. Both give the same update.
//!
//! Order of work for a book message: route by symbol -> `BookSync` (drops diffs the book holds, buffers
//! while unsynced, detects gaps) -> apply to `books[index]` -> crossed check -> events. A gap or a crossed
//! book unsyncs that instrument and asks `next_input` for a resync (Binance: REST snapshot once a diff is
//! buffered; Bybit: resubscribe the topic).

use std::time::Instant;

use ferrotrade_book::OrderBook;
use ferrotrade_model::{BookSide, BookUpdate, MarketEvent, UnixNanos, Venue};
use ferrotrade_venues::decoded::{Decoded, Payload};
use ferrotrade_venues::normalize::Converter;
use ferrotrade_venues::source::{Frame, FrameHint};
use ferrotrade_venues::{binance, bybit};

use super::dedup::FrameRing;
use super::market_feed::{MarketFeed, Router, Slot};
use super::trades::Backfill;
use super::types::{FeedEvent, FeedInput, InputKind, LinkEvent, UnsyncReason};

/// Why applying synced updates stopped.
enum Halt {
    /// Best bid >= best ask after an update.
    Crossed,
    /// The book refused an update (negative size): it no longer matches the venue's.
    Refused,
}

/// Whether the current frame (by hash) was delivered before; computed once per frame, when needed.
struct FrameCheck<'f> {
    frame: &'f [u8],
    fresh: Option<bool>,
}

impl FrameCheck<'_> {
    fn is_fresh(&mut self, ring: &mut FrameRing) -> bool {
        *self.fresh.get_or_insert_with(|| ring.first_time(FrameRing::hash(self.frame)))
    }
}

impl MarketFeed {
    /// Handles one input from [`MarketFeed::next_input`]: decodes and applies it to `books` (indexed by
    /// `InstrumentIndex`) and appends what happened to `out` (which the caller clears). Synchronous, and
    /// allocation free in steady state (see the [module docs](super)). A frame that cannot be decoded is
    /// counted (`FeedStats::decode_errors`) and skipped; an index outside `books` is counted likewise.
    pub fn process(&mut self, input: FeedInput, books: &mut [OrderBook], out: &mut Vec<FeedEvent>) {
        let now = input.received_at;
        let ts_recv = input.ts_recv;
        let MarketFeed { router, scratch, converter, ws_hint, budget, venue, options, .. } = self;
        router.last_input = router.last_input.max(now);
        match input.kind {
            InputKind::Frame { connection, bytes } => {
                if let Some(stats) = router.connections.get_mut(connection) {
                    stats.messages += 1;
                    stats.bytes += bytes.len() as u64;
                }
                let mut check = FrameCheck { frame: &bytes, fresh: None };
                if venue.is_binance() {
                    if let Some((number, update)) = router.fast_book(&bytes, ws_hint, ts_recv, converter) {
                        router.on_fast_book(number, &update, now, books, out);
                        return;
                    }
                    match binance::decode_frame_after_book(&bytes, ws_hint, scratch) {
                        Ok(frame) => router.on_frame(frame, converter, &mut check, ts_recv, now, books, out),
                        Err(_) => router.decode_errors += 1,
                    }
                } else {
                    let mut handle = |frame: Frame<'_>| -> Result<(), ()> {
                        router.on_frame(frame, converter, &mut check, ts_recv, now, books, out);
                        Ok(())
                    };
                    if bybit::decode_frame_multi(&bytes, ws_hint, scratch, &mut handle).is_err() {
                        router.decode_errors += 1;
                    }
                }
            }
            InputKind::Snapshot { slot, body, used_weight } => {
                if let Some(used) = used_weight {
                    budget.observe_used(*venue, used, now);
                }
                let Some(state) = router.slots.get_mut(slot) else { return };
                state.snapshot_in_flight = false;
                if let Some((number, update)) =
                    router.fast_book(&body, &router.slots[slot].rest_hint, ts_recv, converter)
                {
                    router.on_fast_book(number, &update, now, books, out);
                } else {
                    let mut check = FrameCheck { frame: &body, fresh: Some(true) };
                    match binance::decode_frame_after_book(&body, &router.slots[slot].rest_hint, scratch) {
                        Ok(frame) => router.on_frame(frame, converter, &mut check, ts_recv, now, books, out),
                        Err(_) => router.decode_errors += 1,
                    }
                }
                let state = &mut router.slots[slot];
                if state.sync.is_synced() {
                    state.snapshot_backoff.reset();
                } else {
                    // Older than the buffered diffs (or undecodable): fetch again after a pause.
                    state.want_snapshot = true;
                    state.retry_at = Some(now + state.snapshot_backoff.next_delay());
                    router.actions_pending = true;
                }
            }
            InputKind::SnapshotFailed { slot, retry_after, rate_limited } => {
                let Some(state) = router.slots.get_mut(slot) else { return };
                state.snapshot_in_flight = false;
                let delay = retry_after.unwrap_or_else(|| state.snapshot_backoff.next_delay()).max(options.backoff_min);
                if rate_limited {
                    budget.block_until(now + delay);
                }
                if !state.sync.is_synced() {
                    state.want_snapshot = true;
                    state.retry_at = Some(now + delay);
                    router.actions_pending = true;
                }
            }
            InputKind::Trades { slot, body, used_weight } => {
                if let Some(used) = used_weight {
                    budget.observe_used(*venue, used, now);
                }
                router.on_trade_list(slot, &body, converter, ts_recv, now, out);
            }
            InputKind::TradesFailed { slot, retry_after, rate_limited } => {
                let Some(state) = router.slots.get_mut(slot) else { return };
                let delay = retry_after.unwrap_or_else(|| state.trades_backoff.next_delay()).max(options.backoff_min);
                if rate_limited {
                    budget.block_until(now + delay);
                }
                state.sequence.on_list_failed(now + delay);
                router.actions_pending = true;
            }
            InputKind::Link { connection, event } => router.on_link(connection, event, now, out),
        }
        if router.trades_holding {
            router.expire_trades(now, out);
        }
    }
}

impl Router {
    /// A recent-trades list answered a slot's trade gap: its trades fill the gap (see `trades`).
    fn on_trade_list(
        &mut self,
        number: usize,
        body: &[u8],
        converter: &mut Converter,
        ts_recv: UnixNanos,
        now: Instant,
        out: &mut Vec<FeedEvent>,
    ) {
        let Some(slot) = self.slots.get_mut(number) else { return };
        let index = slot.index;
        let mut listed = Vec::new();
        match binance::parse_recent_trades(body, &mut self.recent) {
            Ok(()) => {
                for raw in &self.recent {
                    match converter.convert(&self.origin, &slot.feed.instrument, ts_recv, &Payload::Trade(*raw)) {
                        Ok(MarketEvent::Trade(trade)) => {
                            // A later stream copy of a listed trade is a duplicate.
                            if let Some(id) = trade.trade_id {
                                slot.trades.first_time(id);
                            }
                            listed.push(trade);
                        }
                        _ => self.decode_errors += 1,
                    }
                }
                slot.trades_backoff.reset();
                slot.sequence.on_list(&listed, now, &mut |trade| out.push(FeedEvent::Trade { index, trade }));
            }
            Err(_) => {
                self.decode_errors += 1;
                slot.sequence.on_list_failed(now + slot.trades_backoff.next_delay());
            }
        }
        self.actions_pending |= slot.sequence.backfill != Backfill::Idle;
        self.trades_holding |= slot.sequence.holding();
    }

    /// Releases trades held past the hold limit (their gap counted lost).
    fn expire_trades(&mut self, now: Instant, out: &mut Vec<FeedEvent>) {
        let mut holding = false;
        for slot in &mut self.slots {
            let index = slot.index;
            slot.sequence.expire(now, &mut |trade| out.push(FeedEvent::Trade { index, trade }));
            holding |= slot.sequence.holding();
        }
        self.trades_holding = holding;
    }

    /// A Binance book message of a known symbol, decoded straight to its instrument's fixed point
    /// (`binance::decode_book`), and the slot it is for; `None`: the frame goes to the general path.
    fn fast_book<'c>(
        &self,
        frame: &[u8],
        hint: &FrameHint,
        ts_recv: UnixNanos,
        converter: &'c mut Converter,
    ) -> Option<(usize, BookUpdate<'c>)> {
        let mut number = None;
        let precisions = |symbol: &str| {
            let found = *self.by_symbol.get(symbol)?;
            number = Some(found);
            let instrument = &self.slots[found].feed.instrument;
            Some((instrument.price_precision, instrument.size_precision))
        };
        let update = binance::decode_book(frame, hint, ts_recv, precisions, converter)?;
        Some((number?, update))
    }

    /// A book message from [`Router::fast_book`]: counted and handled as `on_market` would.
    fn on_fast_book(
        &mut self,
        number: usize,
        update: &BookUpdate<'_>,
        now: Instant,
        books: &mut [OrderBook],
        out: &mut Vec<FeedEvent>,
    ) {
        self.slots[number].stats.messages += 1;
        self.on_book_update(number, update, now, books, out);
    }

    /// A converted book message for slot `number`: the sync rule, the book, the events.
    fn on_book_update(
        &mut self,
        number: usize,
        update: &BookUpdate<'_>,
        now: Instant,
        books: &mut [OrderBook],
        out: &mut Vec<FeedEvent>,
    ) {
        let slot = &mut self.slots[number];
        let Some(book) = books.get_mut(slot.index.0 as usize) else {
            self.decode_errors += 1;
            return;
        };
        let rules = BookRules { venue: self.venue, emit_levels: self.emit_levels, buffer_limit: self.buffer_limit };
        if on_book(slot, rules, update, book, now, out) {
            self.actions_pending = true;
        }
    }

    #[allow(clippy::too_many_arguments)] // the split borrows of one `process` call
    fn on_frame(
        &mut self,
        frame: Frame<'_>,
        converter: &mut Converter,
        check: &mut FrameCheck<'_>,
        ts_recv: UnixNanos,
        now: Instant,
        books: &mut [OrderBook],
        out: &mut Vec<FeedEvent>,
    ) {
        match frame {
            Frame::Market(decoded) => self.on_market(&decoded, converter, check, ts_recv, now, books, out),
            Frame::Control(_) | Frame::Instruments(_) => self.control_frames += 1,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_market(
        &mut self,
        decoded: &Decoded<'_>,
        converter: &mut Converter,
        check: &mut FrameCheck<'_>,
        ts_recv: UnixNanos,
        now: Instant,
        books: &mut [OrderBook],
        out: &mut Vec<FeedEvent>,
    ) {
        let Some(&number) = self.by_symbol.get(decoded.symbol) else {
            self.unknown_symbols += 1;
            return;
        };
        let slot = &mut self.slots[number];
        slot.stats.messages += 1;
        let index = slot.index;
        if let Payload::AggTrade(_) = decoded.payload {
            // Not subscribed by the feed; aggregate ids would collide with trade ids.
            self.control_frames += 1;
            return;
        }
        let event = match converter.convert(&self.origin, &slot.feed.instrument, ts_recv, &decoded.payload) {
            Ok(event) => event,
            Err(_) => {
                self.decode_errors += 1;
                return;
            }
        };
        match event {
            MarketEvent::Book(update) => self.on_book_update(number, &update, now, books, out),
            MarketEvent::Trade(trade) => {
                let fresh = match trade.trade_id {
                    Some(id) => slot.trades.first_time(id),
                    None => check.is_fresh(&mut self.frames),
                };
                match (fresh, trade.trade_id) {
                    (false, _) => slot.stats.duplicates_dropped += 1,
                    // Binance trade ids are consecutive: a jump is a gap the recent-trades list fills.
                    (true, Some(id)) if self.venue.is_binance() => {
                        slot.sequence
                            .on_trade(trade, id, now, &mut |trade| out.push(FeedEvent::Trade { index, trade }));
                        self.actions_pending |= slot.sequence.backfill != Backfill::Idle;
                        self.trades_holding |= slot.sequence.holding();
                    }
                    (true, _) => out.push(FeedEvent::Trade { index, trade }),
                }
            }
            MarketEvent::AggTrade(_) => self.control_frames += 1,
            MarketEvent::Quote(quote) => {
                let fresh = if quote.sequence != 0 {
                    let newer = quote.sequence > slot.last_quote;
                    slot.last_quote = slot.last_quote.max(quote.sequence);
                    newer
                } else {
                    check.is_fresh(&mut self.frames)
                };
                if fresh {
                    out.push(FeedEvent::Quote { index, quote });
                } else {
                    slot.stats.duplicates_dropped += 1;
                }
            }
            MarketEvent::Mark(mark) => {
                if check.is_fresh(&mut self.frames) {
                    out.push(FeedEvent::Mark { index, mark });
                } else {
                    slot.stats.duplicates_dropped += 1;
                }
            }
            MarketEvent::Bar(bar) => {
                if check.is_fresh(&mut self.frames) {
                    out.push(FeedEvent::Bar { index, bar });
                } else {
                    slot.stats.duplicates_dropped += 1;
                }
            }
        }
    }

    fn on_link(&mut self, connection: usize, event: LinkEvent, now: Instant, out: &mut Vec<FeedEvent>) {
        let venue = self.venue;
        let Some(stats) = self.connections.get_mut(connection) else { return };
        match event {
            LinkEvent::Up => {
                if stats.up {
                    return;
                }
                if stats.messages > 0 || stats.reconnects > 0 || stats.stale_timeouts > 0 {
                    stats.reconnects += 1;
                }
                stats.up = true;
                out.push(FeedEvent::Connection { venue, up: true });
            }
            LinkEvent::Down | LinkEvent::Stale => {
                if event == LinkEvent::Stale {
                    stats.stale_timeouts += 1;
                }
                let was_up = std::mem::replace(&mut stats.up, false);
                if was_up {
                    out.push(FeedEvent::Connection { venue, up: false });
                }
                let reason = if event == LinkEvent::Stale { UnsyncReason::Stale } else { UnsyncReason::Reconnect };
                let buffer_limit = self.buffer_limit;
                for &number in self.connection_books.get(connection).map_or(&[][..], Vec::as_slice) {
                    let slot = &mut self.slots[number];
                    let was_synced = slot.sync.is_synced();
                    slot.reset_sync(venue, buffer_limit);
                    // Bybit resubscribes everything on the new connection anyway.
                    slot.want_resubscribe = false;
                    slot.overlap_snapshot = false;
                    if was_synced {
                        slot.unsynced_since = Some(now);
                        out.push(FeedEvent::Unsynced { index: slot.index, reason });
                    }
                }
            }
            LinkEvent::RolledOver => {
                stats.rollovers += 1;
                if !venue.is_binance() {
                    for &number in self.connection_books.get(connection).map_or(&[][..], Vec::as_slice) {
                        self.slots[number].overlap_snapshot = true;
                    }
                }
            }
        }
    }
}

/// What `on_book` needs to know about the feed.
#[derive(Clone, Copy)]
struct BookRules {
    venue: Venue,
    emit_levels: bool,
    buffer_limit: usize,
}

/// Runs one book message through the slot's sync and applies what it lets through; returns whether a
/// resync was requested.
fn on_book(
    slot: &mut Slot,
    BookRules { venue, emit_levels, buffer_limit }: BookRules,
    update: &BookUpdate<'_>,
    book: &mut OrderBook,
    now: Instant,
    out: &mut Vec<FeedEvent>,
) -> bool {
    if !slot.has_book {
        return false;
    }
    if update.is_snapshot
        && std::mem::take(&mut slot.overlap_snapshot)
        && slot.sync.is_synced()
        && update.header.sequence <= slot.last_sequence
    {
        // The new connection of a rollover starts with a snapshot the book has already moved past.
        slot.stats.duplicates_dropped += 1;
        return false;
    }
    let index = slot.index;
    let was_synced = slot.sync.is_synced();
    let mut last_sequence = slot.last_sequence;
    let mut snapshots = 0u64;
    let result = slot.sync.on_update(update, &mut |applied: &BookUpdate<'_>| -> Result<(), Halt> {
        book.apply_update(applied).map_err(|_| Halt::Refused)?;
        last_sequence = applied.header.sequence;
        if book.is_crossed() {
            return Err(Halt::Crossed);
        }
        if applied.is_snapshot {
            snapshots += 1;
            out.push(FeedEvent::Synced { index });
        } else if emit_levels {
            let ts_event = applied.header.ts_event;
            for (side, levels) in [(BookSide::Bid, applied.bids), (BookSide::Ask, applied.asks)] {
                for level in levels {
                    out.push(FeedEvent::Level { index, side, price: level.price, size: level.size, ts_event });
                }
            }
        }
        out.push(FeedEvent::Book { index, ts_event: applied.header.ts_event, ts_recv: applied.header.ts_recv });
        Ok(())
    });
    slot.last_sequence = last_sequence;
    slot.stats.snapshots += snapshots;
    let synced = slot.sync.is_synced();
    let failure = match result {
        Err(Halt::Crossed) => Some(UnsyncReason::Crossed),
        Err(Halt::Refused) => Some(UnsyncReason::Gap),
        Ok(()) if !synced && (was_synced || snapshots > 0) => Some(UnsyncReason::Gap),
        Ok(()) => None,
    };
    if let Some(reason) = failure {
        if reason == UnsyncReason::Gap {
            slot.stats.gaps += 1;
        }
        if result.is_err() {
            slot.reset_sync(venue, buffer_limit);
        }
        slot.unsynced_since.get_or_insert(now);
        out.push(FeedEvent::Unsynced { index, reason });
        if !venue.is_binance() {
            slot.want_resubscribe = true;
            return true;
        }
    }
    if !slot.sync.is_synced() {
        // Binance: a diff waits in the buffer (or the next one will): fetch the snapshot now, so it is
        // newer than the buffer's start, as the venue's procedure asks.
        let buffered = !update.is_snapshot && result.is_ok();
        if venue.is_binance() && buffered && !slot.want_snapshot && !slot.snapshot_in_flight {
            slot.want_snapshot = true;
            return true;
        }
        return false;
    }
    if synced && !was_synced {
        if let Some(since) = slot.unsynced_since.take() {
            slot.stats.unsynced_time += now.saturating_duration_since(since);
        }
        if std::mem::replace(&mut slot.ever_synced, true) {
            slot.stats.resyncs += 1;
        }
    }
    false
}
