//! The exchange state behind every endpoint: the recorded book of each replayed instrument, the
//! accounts with their balances, positions and orders, and the matching of those orders.
//!
//! One [`Exchange`] sits behind one `std::sync::Mutex` in the server; every critical section is short
//! (apply one recorded frame, handle one request) and never spans an `await`.
//!
//! # Books
//! Each instrument's recorded book runs through the venue's own sync rule ([`BookSync`]), exactly as the
//! offline pipeline does, so the book the REST depth endpoint serves is the capture's snapshot plus the
//! diffs already replayed, and `lastUpdateId` is the `u` of the last applied diff.
//!
//! # Matching
//! A [`SimVenue`] per instrument (the *template*) follows the recorded book and trades but never holds
//! an order. The first order of an account in an instrument clones the template, so each account has its
//! own matching venue: reduce-only is checked against that account's position, and two accounts never
//! see each other's orders (they may both take the same recorded liquidity; the recorded market does
//! not know either of them).
mod accounts;
mod orders;

use std::collections::VecDeque;
use std::sync::Arc;

use ferrotrade_model::{
    BookUpdate, ContractType, Decimal, EventRow, Instrument, InstrumentIndex, Money, OrderEvent, OrderSide, RowKind,
    Trade, UnixNanos, flags,
};
use ferrotrade_oms::contract_value;
use ferrotrade_sim::{SimVenue, VenueConfig};
use ferrotrade_venues::sync::BookSync;

pub(crate) use accounts::{Account, AccountTrade};
pub(crate) use orders::{ExecKind, Execution, OrderRecord, OrderSpec, SubmitError, WireStatus};

use crate::error::LocalVenueError;
use crate::replay::reader::{OwnedBook, ReplayEvent};

/// One replayed instrument's market side.
#[derive(Debug)]
pub(crate) struct Market {
    /// Follows the recorded market; never holds an order. Its book is the served book.
    pub template: SimVenue,
    sync: BookSync,
    /// `u` of the last applied book message (`lastUpdateId` / Bybit `u`).
    pub last_update_id: u64,
    /// Exchange time of the last applied book message.
    pub last_book_ts: UnixNanos,
    /// Recorded book messages applied so far (Bybit `seq` stand-in).
    pub book_messages: u64,
    /// The last [`TRADE_MEMORY`] replayed trades, oldest first (the recent-trades list and the old trades
    /// lookup read them).
    pub recent_trades: VecDeque<Trade>,
}

/// Most trades one recent-trades or old-trades answer lists (the venues' cap).
pub(crate) const RECENT_TRADES: usize = 1000;
/// Replayed trades each market remembers for the old trades lookup (a long replay forgets the oldest).
pub(crate) const TRADE_MEMORY: usize = 200_000;

impl Market {
    /// Whether the book holds a snapshot and every diff since (REST depth can be answered).
    pub fn is_synced(&self) -> bool {
        self.sync.is_synced()
    }
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub instruments: Arc<Vec<Instrument>>,
    pub markets: Vec<Market>,
    pub accounts: Vec<Account>,
    pub orders: orders::OrderBookkeeping,
    rows: Vec<EventRow>,
    events: Vec<OrderEvent>,
}

impl Exchange {
    /// The exchange of `instruments`, with `accounts`.
    ///
    /// # Errors
    /// [`LocalVenueError::Instrument`] when the matching engine refuses an instrument or the config.
    pub fn new(
        instruments: Arc<Vec<Instrument>>,
        accounts: Vec<Account>,
        sim: &VenueConfig,
    ) -> Result<Exchange, LocalVenueError> {
        let mut markets = Vec::with_capacity(instruments.len());
        for (index, instrument) in instruments.iter().enumerate() {
            let position = u32::try_from(index).unwrap_or(u32::MAX);
            let template = SimVenue::new(instrument.clone(), InstrumentIndex(position), sim).map_err(|error| {
                LocalVenueError::Instrument { instrument: instrument.id.to_string(), reason: error.to_string() }
            })?;
            markets.push(Market {
                template,
                sync: BookSync::for_venue(instrument.id.venue),
                last_update_id: 0,
                last_book_ts: UnixNanos(0),
                book_messages: 0,
                recent_trades: VecDeque::new(),
            });
        }
        Ok(Exchange {
            instruments,
            markets,
            accounts,
            // Ids continue across restarts of the venue, as a real venue's do: a client that journaled the
            // fills of an earlier session must not see their trade ids again.
            orders: orders::OrderBookkeeping::starting_at(crate::clock::wall_ms().saturating_mul(1000)),
            rows: Vec::new(),
            events: Vec::new(),
        })
    }

    /// Applies the market content of one recorded frame; returns what the accounts' orders did.
    pub fn apply(&mut self, events: &[ReplayEvent], now_ms: u64) -> Vec<Execution> {
        let mut executions = Vec::new();
        for event in events {
            self.rows.clear();
            let instrument = match event {
                ReplayEvent::Book { instrument, book } => {
                    self.sync_book(*instrument, book);
                    *instrument
                }
                ReplayEvent::Trade { instrument, trade } => {
                    self.rows.push(trade_row(*instrument, trade));
                    if let Some(market) = self.markets.get_mut(*instrument) {
                        if market.recent_trades.len() == TRADE_MEMORY {
                            market.recent_trades.pop_front();
                        }
                        market.recent_trades.push_back(*trade);
                    }
                    *instrument
                }
            };
            self.feed_rows(instrument, now_ms, &mut executions);
        }
        executions
    }

    /// Runs one book message through the instrument's sync; the updates it releases become rows.
    fn sync_book(&mut self, instrument: usize, book: &OwnedBook) {
        let Some(market) = self.markets.get_mut(instrument) else { return };
        let update =
            BookUpdate { header: book.header, is_snapshot: book.is_snapshot, bids: &book.bids, asks: &book.asks };
        let rows = &mut self.rows;
        let mut last = None;
        let _ = market.sync.on_update::<()>(&update, &mut |synced| {
            push_book_rows(instrument, synced, rows);
            last = Some((synced.header.sequence, synced.header.ts_event));
            Ok(())
        });
        if let Some((sequence, ts_event)) = last {
            market.last_update_id = sequence;
            market.last_book_ts = ts_event;
            market.book_messages += 1;
        }
    }

    /// Feeds the rows collected for `instrument` to its template and to every account's venue.
    fn feed_rows(&mut self, instrument: usize, now_ms: u64, executions: &mut Vec<Execution>) {
        if self.rows.is_empty() {
            return;
        }
        let Some(market) = self.markets.get_mut(instrument) else { return };
        let mut ignored = Vec::new();
        for row in &self.rows {
            match row.kind {
                RowKind::Book => market.template.on_book_row(row, &mut ignored),
                _ => market.template.on_trade(row, &mut ignored),
            }
        }
        for account in 0..self.accounts.len() {
            let Some(venue) = self.accounts[account].venues.get_mut(&instrument) else { continue };
            self.events.clear();
            for row in &self.rows {
                match row.kind {
                    RowKind::Book => venue.on_book_row(row, &mut self.events),
                    _ => venue.on_trade(row, &mut self.events),
                }
            }
            if !self.events.is_empty() {
                let events = std::mem::take(&mut self.events);
                self.process_events(account, instrument, &events, now_ms, executions);
                self.events = events;
            }
        }
    }

    /// What `account`'s open spot orders hold of `asset`: a buy holds `price x leaves` of the quote
    /// asset, a sell `leaves` of the base asset (Binance's `locked`).
    pub fn locked(&self, account: usize, asset: &str) -> Money {
        let mut locked = Money::ZERO;
        for record in self.orders.open(account, None) {
            let Some(instrument) = self.instruments.get(record.spec.instrument) else { continue };
            if instrument.contract_type != ContractType::Spot {
                continue;
            }
            let (base, quote) = crate::capture::split_symbol(&instrument.id.symbol);
            let leaves = record.leaves();
            locked += match record.spec.side {
                OrderSide::Buy if quote == asset => {
                    let price = if record.spec.price.0 > 0 { record.spec.price } else { record.spec.stop_price };
                    contract_value(instrument, price, instrument.price_precision, leaves)
                }
                OrderSide::Sell if base == asset => {
                    Money::from_decimal(Decimal::from_fixed(leaves.0, instrument.size_precision))
                }
                _ => Money::ZERO,
            };
        }
        locked
    }

    /// What `account` can still commit of `asset`.
    pub fn free(&self, account: usize, asset: &str) -> Money {
        let wallet = self.accounts.get(account).map_or(Money::ZERO, |a| a.wallet(asset));
        wallet - self.locked(account, asset)
    }

    /// The matching venue of `account` in `instrument`, cloned from the template on first use.
    fn venue_of(&mut self, account: usize, instrument: usize) -> Option<&mut SimVenue> {
        let template = &self.markets.get(instrument)?.template;
        let account = self.accounts.get_mut(account)?;
        Some(account.venues.entry(instrument).or_insert_with(|| template.clone()))
    }
}

/// The rows of one synced book update, flagged as the sim engine's catalog rows are: `CLEAR` on the
/// first row of a snapshot, `SNAPSHOT` on all of them, `LAST` on the final row.
fn push_book_rows(instrument: usize, update: &BookUpdate<'_>, rows: &mut Vec<EventRow>) {
    let base = if update.is_snapshot { flags::SNAPSHOT } else { 0 };
    let count = update.bids.len() + update.asks.len();
    let index = InstrumentIndex(u32::try_from(instrument).unwrap_or(u32::MAX));
    if count == 0 {
        if update.is_snapshot {
            // An empty snapshot still clears the book.
            rows.push(EventRow {
                ts_event: update.header.ts_event,
                ts_recv: update.header.ts_recv,
                instrument: index,
                kind: RowKind::Book,
                flags: base | flags::CLEAR | flags::LAST,
                ..EventRow::default()
            });
        }
        return;
    }
    let levels = update.bids.iter().map(|level| (0u8, level)).chain(update.asks.iter().map(|level| (1u8, level)));
    for (position, (side, level)) in levels.enumerate() {
        let mut row_flags = base;
        if position == 0 && update.is_snapshot {
            row_flags |= flags::CLEAR;
        }
        if position + 1 == count {
            row_flags |= flags::LAST;
        }
        rows.push(EventRow {
            ts_event: update.header.ts_event,
            ts_recv: update.header.ts_recv,
            price: level.price,
            size: level.size,
            aux: update.header.sequence,
            instrument: index,
            kind: RowKind::Book,
            side,
            flags: row_flags,
            reserved: 0,
        });
    }
}

fn trade_row(instrument: usize, trade: &Trade) -> EventRow {
    EventRow {
        ts_event: trade.ts_event,
        ts_recv: trade.ts_recv,
        price: trade.price,
        size: trade.size,
        aux: trade.trade_id.unwrap_or(EventRow::NO_TRADE_ID),
        instrument: InstrumentIndex(u32::try_from(instrument).unwrap_or(u32::MAX)),
        kind: RowKind::Trade,
        side: trade.aggressor as u8,
        flags: 0,
        reserved: 0,
    }
}
