//! What the server shares between its tasks ([`Shared`]) and the snapshot tests read ([`VenueState`]).
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ferrotrade_model::{BookSide, Decimal, Instrument, Money, OrderSide, Venue};
use rand_xoshiro::Xoshiro256PlusPlus;
use tokio::sync::watch;

use crate::config::LocalVenueConfig;
use crate::exchange::Exchange;
use crate::hub::Hub;
use crate::limits::RateLimiter;
use crate::userstream::ListenKeys;

/// Event counters, readable while the server runs.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub frames_read: AtomicU64,
    pub frames_sent: AtomicU64,
    pub dropped: AtomicU64,
    pub duplicated: AtomicU64,
    pub reordered: AtomicU64,
    pub slow_disconnects: AtomicU64,
    pub fault_disconnects: AtomicU64,
    pub connections: AtomicU64,
    pub rest_requests: AtomicU64,
    pub rest_5xx: AtomicU64,
    pub rate_limited: AtomicU64,
    pub bad_records: AtomicU64,
    pub user_pushes: AtomicU64,
    pub user_dropped: AtomicU64,
}

/// The venue's event counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Recorded frames read from the captures.
    pub frames_read: u64,
    /// Recorded frames queued to market connections (each copy counts, duplicates included).
    pub frames_sent: u64,
    /// Market messages dropped by the `drop` fault.
    pub dropped: u64,
    /// Market messages sent twice by the `duplicate` fault.
    pub duplicated: u64,
    /// Market messages held back by the `reorder` fault.
    pub reordered: u64,
    /// Connections closed because their queue stayed full.
    pub slow_disconnects: u64,
    /// Connections closed by the `disconnect_every` fault.
    pub fault_disconnects: u64,
    /// WebSocket connections accepted.
    pub connections: u64,
    /// REST requests received.
    pub rest_requests: u64,
    /// REST requests answered 5xx by the `rest_5xx` fault.
    pub rest_5xx: u64,
    /// REST requests refused by a rate limit.
    pub rate_limited: u64,
    /// Capture records that could not be decoded (skipped).
    pub bad_records: u64,
    /// User-data messages queued.
    pub user_pushes: u64,
    /// User-data messages lost by the `user_drop` fault.
    pub user_dropped: u64,
}

impl Counters {
    fn snapshot(&self) -> CounterSnapshot {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        CounterSnapshot {
            frames_read: load(&self.frames_read),
            frames_sent: load(&self.frames_sent),
            dropped: load(&self.dropped),
            duplicated: load(&self.duplicated),
            reordered: load(&self.reordered),
            slow_disconnects: load(&self.slow_disconnects),
            fault_disconnects: load(&self.fault_disconnects),
            connections: load(&self.connections),
            rest_requests: load(&self.rest_requests),
            rest_5xx: load(&self.rest_5xx),
            rate_limited: load(&self.rate_limited),
            bad_records: load(&self.bad_records),
            user_pushes: load(&self.user_pushes),
            user_dropped: load(&self.user_dropped),
        }
    }
}

/// One order as the venue holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderState {
    /// The account's API key.
    pub api_key: String,
    /// Venue.
    pub venue: Venue,
    /// Symbol.
    pub symbol: String,
    /// Venue order id.
    pub order_id: u64,
    /// Client order id as sent.
    pub client_order_id: String,
    /// Side.
    pub side: OrderSide,
    /// Binance spelling of the status (`NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`, `EXPIRED`).
    pub status: &'static str,
    /// Limit price (zero for market orders).
    pub price: Decimal,
    /// Total quantity.
    pub quantity: Decimal,
    /// Executed quantity.
    pub filled: Decimal,
}

/// One asset balance of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceState {
    /// The account's API key.
    pub api_key: String,
    /// Asset.
    pub asset: String,
    /// Wallet balance.
    pub wallet: Money,
}

/// One position of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionState {
    /// The account's API key.
    pub api_key: String,
    /// Venue.
    pub venue: Venue,
    /// Symbol.
    pub symbol: String,
    /// Signed size (positive long).
    pub size: Decimal,
    /// Realized PnL before fees.
    pub realized_pnl: Money,
}

/// One replayed book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookState {
    /// Venue.
    pub venue: Venue,
    /// Symbol.
    pub symbol: String,
    /// Whether a snapshot and every diff since were applied.
    pub synced: bool,
    /// `u` of the last applied book message.
    pub last_update_id: u64,
    /// Best bid `(price, size)`.
    pub best_bid: Option<(Decimal, Decimal)>,
    /// Best ask `(price, size)`.
    pub best_ask: Option<(Decimal, Decimal)>,
}

/// A copy of the venue's state, for tests and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenueState {
    /// Counters.
    pub counters: CounterSnapshot,
    /// Replayed instruments (with the precision learned from the captures).
    pub instruments: Vec<Instrument>,
    /// Every order ever accepted.
    pub orders: Vec<OrderState>,
    /// Balances.
    pub balances: Vec<BalanceState>,
    /// Positions of linear instruments.
    pub positions: Vec<PositionState>,
    /// Replayed books.
    pub books: Vec<BookState>,
    /// Open WebSocket connections.
    pub open_connections: usize,
}

/// Everything the server's tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: LocalVenueConfig,
    pub instruments: Arc<Vec<Instrument>>,
    pub exchange: Mutex<Exchange>,
    pub hub: Mutex<Hub>,
    pub listen_keys: Mutex<ListenKeys>,
    pub limiter: Mutex<RateLimiter>,
    pub rng: Mutex<Xoshiro256PlusPlus>,
    pub counters: Counters,
    /// Bumped after every replayed frame: REST depth waits on it until the book is synced.
    pub progress: watch::Sender<u64>,
    /// Becomes true when the replay may start.
    pub started: watch::Sender<bool>,
    /// Becomes true when every session has been replayed.
    pub done: watch::Sender<bool>,
    /// Becomes true on shutdown.
    pub shutdown: watch::Sender<bool>,
}

/// Locks a mutex, recovering the data of a poisoned one (a panicked handler must not take the venue
/// down; every critical section leaves the state consistent between statements).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// The instrument index of `symbol` on `venue`.
    pub fn instrument(&self, venue: Venue, symbol: &str) -> Option<usize> {
        self.instruments.iter().position(|i| i.id.venue == venue && i.id.symbol.eq_ignore_ascii_case(symbol))
    }

    /// The account of `api_key`.
    pub fn account(&self, api_key: &str) -> Option<usize> {
        self.config.accounts.iter().position(|a| a.api_key == api_key)
    }

    /// Lets the replay start (idempotent).
    pub fn resume(&self) {
        self.started.send_if_modified(|started| !std::mem::replace(started, true));
    }

    /// A copy of the state.
    pub fn snapshot(&self) -> VenueState {
        let exchange = lock(&self.exchange);
        let decimal = |mantissa: i64, precision: u8| Decimal::from_fixed(mantissa, precision);
        let orders = exchange
            .orders
            .all()
            .filter_map(|record| {
                let instrument = self.instruments.get(record.spec.instrument)?;
                Some(OrderState {
                    api_key: exchange.accounts.get(record.account)?.api_key.clone(),
                    venue: instrument.id.venue,
                    symbol: instrument.id.symbol.to_string(),
                    order_id: record.order_id,
                    client_order_id: record.spec.client_order_id.clone(),
                    side: record.spec.side,
                    status: record.status.binance(),
                    price: decimal(record.spec.price.0, instrument.price_precision),
                    quantity: decimal(record.spec.quantity.0, instrument.size_precision),
                    filled: decimal(record.filled.0, instrument.size_precision),
                })
            })
            .collect();
        let mut balances = Vec::new();
        let mut positions = Vec::new();
        for account in &exchange.accounts {
            for (asset, balance) in &account.balances {
                balances.push(BalanceState {
                    api_key: account.api_key.clone(),
                    asset: asset.clone(),
                    wallet: balance.wallet,
                });
            }
            for (index, position) in &account.positions {
                let Some(instrument) = self.instruments.get(*index) else { continue };
                positions.push(PositionState {
                    api_key: account.api_key.clone(),
                    venue: instrument.id.venue,
                    symbol: instrument.id.symbol.to_string(),
                    size: decimal(position.quantity.0, instrument.size_precision),
                    realized_pnl: position.realized_pnl,
                });
            }
        }
        let books = exchange
            .markets
            .iter()
            .zip(self.instruments.iter())
            .map(|(market, instrument)| {
                let book = market.template.book();
                let level = |side| {
                    book.best(side).map(|l: ferrotrade_model::Level| {
                        (decimal(l.price.0, instrument.price_precision), decimal(l.size.0, instrument.size_precision))
                    })
                };
                BookState {
                    venue: instrument.id.venue,
                    symbol: instrument.id.symbol.to_string(),
                    synced: market.is_synced(),
                    last_update_id: market.last_update_id,
                    best_bid: level(BookSide::Bid),
                    best_ask: level(BookSide::Ask),
                }
            })
            .collect();
        drop(exchange);
        VenueState {
            counters: self.counters.snapshot(),
            instruments: self.instruments.to_vec(),
            orders,
            balances,
            positions,
            books,
            open_connections: lock(&self.hub).len(),
        }
    }
}

/// Resolves when `flag` becomes true (or its sender is gone). The guard `wait_for` returns is dropped
/// inside, so callers' futures stay `Send`.
///
/// # Cancel safety
/// Cancel safe.
pub(crate) async fn raised(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|value| *value).await;
}
