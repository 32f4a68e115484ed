//! Rebuilding every book of a recording with the venue's own sync rules, and checking it.
//!
//! [`verify`] reads sessions through the [`Pipeline`], applies every synced update to a
//! [`ferrotrade_book::OrderBook`], and checks, per book:
//! - **crossed states**: after each applied message, best bid < best ask;
//! - **best bid/offer**: every quote that carries a book update id (Binance `bookTicker` `u`) is compared,
//!   price and size on both sides, with the book as it stood right after the diff whose final id equals
//!   it. Quotes and diffs travel on separate streams, so a quote may arrive before or after its diff:
//!   the book state of recent diffs is kept in a ring, and early quotes wait for their diff. A quote whose
//!   id is not the final id of any diff (spot `@100ms` diffs aggregate many ids) is *unmatched*, not a
//!   mismatch;
//! - **trade ids**: numeric trade (and aggregate trade) ids must go up by one.
//!
//! The sync counters (snapshots, diffs applied, stale diffs dropped, gaps) come from [`crate::sync`].

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;

use ferrotrade_book::OrderBook;
use ferrotrade_model::{BookSide, Instrument, Level, MarketEvent, Quote};

use crate::error::VenueError;
use crate::pipeline::{EventSink, Pipeline, PipelineOptions, SessionReport};
use crate::source::Session;
use crate::sync::SyncStats;

/// How many applied diffs a late quote can still be matched against.
const RECENT_DIFFS: usize = 8192;
/// How many quotes may wait for a diff that has not arrived yet.
const PENDING_QUOTES: usize = 65_536;

/// What `verify` found for one instrument in one session.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    /// Index of the session in [`Pipeline::sessions`].
    pub session: usize,
    /// The instrument (precisions included, to read the prices below).
    pub instrument: Instrument,
    /// Sync counters (zero if the instrument had no book messages).
    pub sync: SyncStats,
    /// Whether the session had book messages for the instrument.
    pub has_book: bool,
    /// Whether the book was synced at the end.
    pub synced: bool,
    /// Applied messages after which the book was crossed.
    pub crossed: u64,
    /// Quotes compared with the book.
    pub bbo_checked: u64,
    /// Quotes that disagreed with the book.
    pub bbo_mismatches: u64,
    /// The first disagreement, described.
    pub first_bbo_mismatch: Option<String>,
    /// Quotes with an update id that no applied diff ended on (or that arrived while unsynced).
    pub bbo_unmatched: u64,
    /// Trades.
    pub trades: u64,
    /// Aggregated trades.
    pub agg_trades: u64,
    /// Breaks in the trade-id sequence (trades and aggregated trades each); `None` when ids are not numeric.
    pub trade_id_gaps: Option<u64>,
    /// Quotes.
    pub quotes: u64,
    /// Bars.
    pub bars: u64,
    /// Bars whose open time is not the previous bar's plus one interval (missing or repeated bars).
    pub bar_gaps: u64,
    /// Mark price updates.
    pub marks: u64,
    /// Best bid at the end.
    pub best_bid: Option<Level>,
    /// Best ask at the end.
    pub best_ask: Option<Level>,
    /// Bid levels at the end.
    pub bid_levels: usize,
    /// Ask levels at the end.
    pub ask_levels: usize,
}

impl VerifyReport {
    /// No gap, no crossed state, no mismatch.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.sync.gaps == 0 && self.crossed == 0 && self.bbo_mismatches == 0
    }
}

/// The verification of a set of sessions.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Per (session, instrument), in session order then first-seen order.
    pub books: Vec<VerifyReport>,
    /// Per session: counts of messages, control frames and bad records.
    pub sessions: Vec<SessionReport>,
}

/// Verifies sessions (bad records are counted, not fatal).
///
/// # Errors
/// I/O errors, a session that can't be opened, or [`VenueError::Interrupted`].
pub fn verify(sessions: Vec<Session>, cancel: &AtomicBool) -> Result<Verification, VenueError> {
    let pipeline = Pipeline::scan(sessions, PipelineOptions { skip_bad_records: true }, cancel)?;
    verify_pipeline(&pipeline, cancel)
}

/// As [`verify`], over a pipeline whose first pass has run (so a caller can watch its progress).
///
/// # Errors
/// As [`verify`].
pub fn verify_pipeline(pipeline: &Pipeline, cancel: &AtomicBool) -> Result<Verification, VenueError> {
    let mut sink = VerifySink { instruments: pipeline.instruments(), checks: Vec::new(), books: Vec::new() };
    let sessions = pipeline.run(&mut sink, cancel)?;
    Ok(Verification { books: sink.books, sessions })
}

#[derive(Debug, Default)]
struct Check {
    book: OrderBook,
    has_book: bool,
    last_applied: u64,
    /// (update id, best bid, best ask) after recent applied diffs, ids increasing.
    recent: VecDeque<(u64, Option<Level>, Option<Level>)>,
    pending: VecDeque<Quote>,
    crossed: u64,
    bbo_checked: u64,
    bbo_mismatches: u64,
    first_bbo_mismatch: Option<String>,
    bbo_unmatched: u64,
    trades: u64,
    agg_trades: u64,
    trade_ids_numeric: bool,
    trade_id_gaps: u64,
    last_trade_id: Option<u64>,
    last_agg_id: Option<u64>,
    quotes: u64,
    bars: u64,
    bar_gaps: u64,
    last_bar_open: Option<u64>,
    marks: u64,
}

impl Check {
    fn compare(&mut self, quote: &Quote, bid: Option<Level>, ask: Option<Level>) {
        self.bbo_checked += 1;
        if bid != Some(quote.bid) || ask != Some(quote.ask) {
            self.bbo_mismatches += 1;
            if self.first_bbo_mismatch.is_none() {
                self.first_bbo_mismatch = Some(format!(
                    "update {}: quote bid {:?} ask {:?}, book bid {bid:?} ask {ask:?}",
                    quote.sequence, quote.bid, quote.ask
                ));
            }
        }
    }

    fn on_quote(&mut self, quote: &Quote) {
        self.quotes += 1;
        if !self.has_book || quote.sequence == 0 {
            return;
        }
        if quote.sequence > self.last_applied {
            if self.pending.len() == PENDING_QUOTES {
                self.pending.pop_front();
                self.bbo_unmatched += 1;
            }
            self.pending.push_back(*quote);
            return;
        }
        match self.recent.binary_search_by_key(&quote.sequence, |(id, _, _)| *id) {
            Ok(position) => {
                let (_, bid, ask) = self.recent[position];
                self.compare(quote, bid, ask);
            }
            Err(_) => self.bbo_unmatched += 1,
        }
    }

    fn after_apply(&mut self, sequence: u64) {
        if self.book.is_crossed() {
            self.crossed += 1;
        }
        let (bid, ask) = (self.book.best_bid(), self.book.best_ask());
        if self.recent.back().is_some_and(|(id, _, _)| *id >= sequence) {
            // A reset to an older snapshot (Bybit): the ring must stay sorted.
            self.recent.clear();
        }
        if self.recent.len() == RECENT_DIFFS {
            self.recent.pop_front();
        }
        self.recent.push_back((sequence, bid, ask));
        self.last_applied = sequence;
        while self.pending.front().is_some_and(|quote| quote.sequence <= sequence) {
            let Some(quote) = self.pending.pop_front() else { break };
            if quote.sequence == sequence {
                self.compare(&quote, bid, ask);
            } else {
                self.bbo_unmatched += 1;
            }
        }
    }

    fn on_trade_id(&mut self, id: Option<u64>, aggregated: bool) {
        let Some(id) = id else {
            self.trade_ids_numeric = false;
            return;
        };
        let last = if aggregated { &mut self.last_agg_id } else { &mut self.last_trade_id };
        if last.is_some_and(|previous| id != previous + 1) {
            self.trade_id_gaps += 1;
        }
        *last = Some(id);
    }
}

struct VerifySink<'p> {
    instruments: &'p [Instrument],
    checks: Vec<Option<Check>>,
    books: Vec<VerifyReport>,
}

impl VerifySink<'_> {
    fn check(&mut self, instrument: usize) -> &mut Check {
        if self.checks.len() <= instrument {
            self.checks.resize_with(instrument + 1, || None);
        }
        self.checks[instrument].get_or_insert_with(|| Check { trade_ids_numeric: true, ..Check::default() })
    }
}

impl EventSink for VerifySink<'_> {
    fn session_start(&mut self, _session: usize) {
        self.checks.clear();
    }

    fn event(&mut self, instrument: usize, event: &MarketEvent<'_>) -> Result<(), VenueError> {
        let check = self.check(instrument);
        match event {
            MarketEvent::Book(update) => {
                check.has_book = true;
                // The pipeline only emits valid levels (sizes parsed as non-negative decimals); a negative
                // size would be a venue bug, counted as a crossed state rather than aborting the check.
                if check.book.apply_update(update).is_err() {
                    check.crossed += 1;
                }
                check.after_apply(update.header.sequence);
            }
            MarketEvent::Trade(trade) => {
                check.trades += 1;
                check.on_trade_id(trade.trade_id, false);
            }
            MarketEvent::AggTrade(trade) => {
                check.agg_trades += 1;
                check.on_trade_id(trade.trade_id, true);
            }
            MarketEvent::Quote(quote) => check.on_quote(quote),
            MarketEvent::Bar(bar) => {
                check.bars += 1;
                let expected = check.last_bar_open.map(|open| open + bar.interval_ns);
                if expected.is_some_and(|expected| bar.open_time.0 != expected) {
                    check.bar_gaps += 1;
                }
                check.last_bar_open = Some(bar.open_time.0);
            }
            MarketEvent::Mark(_) => check.marks += 1,
        }
        Ok(())
    }

    fn session_end(&mut self, report: &SessionReport) -> Result<(), VenueError> {
        for (instrument, check) in self.checks.iter_mut().enumerate() {
            let Some(mut check) = check.take() else { continue };
            // Quotes still waiting never met their diff.
            check.bbo_unmatched += check.pending.len() as u64;
            let book = report.books.iter().find(|book| book.instrument == instrument);
            self.books.push(VerifyReport {
                session: report.session,
                instrument: self.instruments[instrument].clone(),
                sync: book.map(|b| b.stats).unwrap_or_default(),
                has_book: check.has_book || book.is_some(),
                synced: book.is_some_and(|b| b.synced),
                crossed: check.crossed,
                bbo_checked: check.bbo_checked,
                bbo_mismatches: check.bbo_mismatches,
                first_bbo_mismatch: check.first_bbo_mismatch,
                bbo_unmatched: check.bbo_unmatched,
                trades: check.trades,
                agg_trades: check.agg_trades,
                // Only Binance numbers trades one by one per symbol; Bybit ids are opaque or venue-wide.
                trade_id_gaps: (self.instruments[instrument].id.venue.is_binance()
                    && check.trade_ids_numeric
                    && (check.trades + check.agg_trades) > 0)
                    .then_some(check.trade_id_gaps),
                bar_gaps: check.bar_gaps,
                quotes: check.quotes,
                bars: check.bars,
                marks: check.marks,
                best_bid: check.book.best_bid(),
                best_ask: check.book.best_ask(),
                bid_levels: check.book.level_count(BookSide::Bid),
                ask_levels: check.book.level_count(BookSide::Ask),
            });
        }
        // Books whose every diff was buffered (never synced) produced no events: report them too.
        for book in &report.books {
            if !self
                .books
                .iter()
                .any(|r| r.session == report.session && r.instrument.id == self.instruments[book.instrument].id)
            {
                self.books.push(VerifyReport {
                    session: report.session,
                    instrument: self.instruments[book.instrument].clone(),
                    sync: book.stats,
                    has_book: true,
                    synced: book.synced,
                    crossed: 0,
                    bbo_checked: 0,
                    bbo_mismatches: 0,
                    first_bbo_mismatch: None,
                    bbo_unmatched: 0,
                    trades: 0,
                    agg_trades: 0,
                    trade_id_gaps: None,
                    quotes: 0,
                    bars: 0,
                    bar_gaps: 0,
                    marks: 0,
                    best_bid: None,
                    best_ask: None,
                    bid_levels: 0,
                    ask_levels: 0,
                });
            }
        }
        Ok(())
    }
}
