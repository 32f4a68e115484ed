//! A counting [`Visitor`] for the end-to-end tests of the containers in this crate (Bybit archive,
//! cryptofeed JSONL, kline and tardis CSV).

use std::collections::{BTreeMap, BTreeSet};

use ferrotrade_model::{UnixNanos, Venue};

use crate::decoded::{Decoded, InstrumentInfo, Payload, RawBar, RawLevel, RawQuote, RawTrade};
use crate::error::{Origin, VenueError};
use crate::source::Visitor;

/// Counts everything a source hands out, and keeps the first and last value of each kind.
#[derive(Debug, Default)]
pub(crate) struct Counter {
    /// Continue after a bad record (as `verify` does) instead of stopping (the default visitor).
    pub keep_going: bool,
    pub books: usize,
    pub snapshots: usize,
    pub levels: usize,
    pub trades: usize,
    pub quotes: usize,
    pub bars: usize,
    pub marks: usize,
    pub bad: usize,
    pub errors: Vec<String>,
    pub controls: BTreeMap<&'static str, usize>,
    pub instruments: Vec<InstrumentInfo>,
    pub per_symbol: BTreeMap<(Venue, String), usize>,
    pub first_sequence: Option<u64>,
    pub last_sequence: Option<u64>,
    pub first_ts_recv: Option<UnixNanos>,
    pub last_ts_recv: Option<UnixNanos>,
    /// Top of the first and last book message: (best bid as sent, best ask as sent, levels).
    pub first_book: Option<(Option<RawLevel>, Option<RawLevel>, usize)>,
    pub last_book: Option<(Option<RawLevel>, Option<RawLevel>, usize)>,
    pub first_trade: Option<RawTrade>,
    pub last_trade: Option<RawTrade>,
    pub first_quote: Option<RawQuote>,
    pub last_quote: Option<RawQuote>,
    pub first_bar: Option<RawBar>,
    pub last_bar: Option<RawBar>,
    /// Lines (origin.line) of the messages, in order.
    pub lines: Vec<u64>,
}

impl Counter {
    /// The (venue, symbol) pairs seen, sorted.
    pub fn symbols(&self) -> Vec<(Venue, String)> {
        self.per_symbol.keys().cloned().collect::<BTreeSet<_>>().into_iter().collect()
    }

    pub fn messages(&self) -> usize {
        self.books + self.trades + self.quotes + self.bars + self.marks
    }
}

impl Visitor for Counter {
    fn instruments(&mut self, infos: &[InstrumentInfo]) {
        self.instruments.extend_from_slice(infos);
    }

    fn message(&mut self, origin: &Origin, ts_recv: UnixNanos, message: &Decoded<'_>) -> Result<(), VenueError> {
        *self.per_symbol.entry((message.venue, message.symbol.to_owned())).or_default() += 1;
        self.first_ts_recv.get_or_insert(ts_recv);
        self.last_ts_recv = Some(ts_recv);
        self.lines.push(origin.line);
        match message.payload {
            Payload::Book(book) => {
                self.books += 1;
                self.snapshots += usize::from(book.is_snapshot);
                self.levels += book.bids.len() + book.asks.len();
                self.first_sequence.get_or_insert(book.sequence);
                self.last_sequence = Some(book.sequence);
                let top = (book.bids.first().copied(), book.asks.first().copied(), book.bids.len() + book.asks.len());
                self.first_book.get_or_insert(top);
                self.last_book = Some(top);
            }
            Payload::Trade(trade) | Payload::AggTrade(trade) => {
                self.trades += 1;
                self.first_trade.get_or_insert(trade);
                self.last_trade = Some(trade);
            }
            Payload::Quote(quote) => {
                self.quotes += 1;
                self.first_quote.get_or_insert(quote);
                self.last_quote = Some(quote);
            }
            Payload::Bar(bar) => {
                self.bars += 1;
                self.first_bar.get_or_insert(bar);
                self.last_bar = Some(bar);
            }
            Payload::Mark(_) => self.marks += 1,
        }
        Ok(())
    }

    fn control(&mut self, _origin: &Origin, what: &'static str) {
        *self.controls.entry(what).or_default() += 1;
    }

    fn bad_record(&mut self, error: VenueError) -> Result<(), VenueError> {
        self.bad += 1;
        self.errors.push(error.to_string());
        if self.keep_going { Ok(()) } else { Err(error) }
    }
}
