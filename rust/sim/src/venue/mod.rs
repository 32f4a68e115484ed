//! [`SimVenue`]: the exchange side of a backtest for one instrument.
//!
//! The venue sees market data at exchange time (`ts_event`) in stream order, keeps the recorded L2 book
//! ([`SimVenue::book`]), holds the strategy's working orders and answers every request with
//! [`OrderEvent`]s. Each event it pushes has `ts_event` = venue time and `ts_recv = ts_event`; the engine
//! adds the response latency. Fills carry a venue trade id (1, 2, 3, ... per venue), their [`Liquidity`]
//! and the fee of the [`FeeModel`].
//!
//! # Orders
//! | request | behaviour |
//! |---|---|
//! | market | walks the recorded contra levels best first (one `Filled` per level); what the book cannot fill expires. With no contra book at all (bar or trade-only data) it fills in full at the last price +/- `bar_slippage_bps`; with neither book nor last price it is `Rejected(NoLiquidity)` |
//! | limit GTC / IOC / FOK | takes the contra levels at or better than its limit, then rests (GTC) or expires (IOC); FOK first checks that the levels within its limit hold the whole quantity and otherwise expires without a fill |
//! | post-only | `Rejected(PostOnlyWouldTake)` when the contra best (or, without a book, the last price) is at or through its limit (Binance `GTX`, Bybit `PostOnly`) |
//! | reduce-only | `Rejected(ReduceOnlyWouldIncrease)` when the venue-side position is flat or on the order's side; otherwise it executes at most the position, and the rest expires when it meets a flat position (see below) |
//! | stop-market / stop-limit | trigger when a trade prints at or above (buy) / at or below (sell) the trigger (the last price, as Binance `workingType = CONTRACT_PRICE` and Bybit `triggerBy = LastPrice`); `Rejected(WouldTriggerImmediately)` when the last price is already there at submit; on trigger `Triggered`, then it acts as a market / limit order |
//! | cancel | `Canceled`, or `CancelRejected(UnknownOrder)` for an unknown or finished order |
//! | amend | new price and/or total quantity, `Replaced`; a price change or a size increase loses time priority (the queue ahead restarts at the recorded size), a pure decrease keeps it; new quantity <= filled is `ReplaceRejected(InvalidAmend)`, as is an amend that changes nothing |
//!
//! Client ids are the OMS's: the venue does not check them for duplicates.
//!
//! Every accepted order gets `Accepted(VenueOrderId)` before any fill; an order that fills at once gets
//! `Accepted` then its `Filled` events; IOC/FOK/market rests end with `Expired`. Validation rejects with
//! `InvalidPrice` (limit price <= 0), `InvalidTickSize`, `InvalidLotSize` (quantity <= 0 or not a lot
//! multiple) and `MinNotional` (price x quantity below the instrument's minimum; market orders use the
//! touch, stop-markets their trigger), in that order.
//!
//! Reduce-only follows the one-way-mode `reduceOnly` flag of Binance USD-M
//! (<https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/websocket-api>, `order.place`
//! parameters) and Bybit (<https://bybit-exchange.github.io/docs/derivatives/unified/place-order>): the
//! order may only shrink the position, never flip it. We reject at submit when there is nothing to reduce
//! (flat, or a position on the order's side) and cut at execution: a fill never exceeds the open position,
//! and a reduce-only order that meets a flat position when it executes expires (`Expired`) with the rest,
//! as the venues cancel reduce-only orders left without a position. Cutting instead of shrinking the
//! order keeps `filled + leaves == quantity` in every event the OMS sees.
//!
//! # Taking liquidity, and the memory of what was taken
//! The strategy's orders never change the recorded book: it is the exchange's real book, and our orders
//! were not in it. But liquidity a taker took is remembered per price level (`consumed`), so two of our
//! orders cannot take the same recorded quantity. The memory of a level is dropped when a recorded update
//! for that price arrives (all of it on a snapshot): the update is the exchange's real size after real
//! participants acted, and whether they refilled what we took is unknowable, so the fresh recorded size is
//! the best estimate; holding the memory longer would hide real liquidity for ever.
//!
//! # Resting orders, queue position and maker fills
//! A resting order's queue ahead starts at the recorded size at its price. The depth-change part of the
//! queue model is pluggable ([`crate::QueueModelConfig`], see [`crate::queue`] and hftbacktest's queue
//! model docs, <https://hftbacktest.readthedocs.io/en/v1.8.4/reference/queue_models.html>). Maker fills:
//! - a trade *at* the order's price by the contra aggressor (a sell for our bid; unknown aggressors count
//!   for both sides) reduces the queue ahead by its size; the excess fills our orders at that price in time
//!   priority, each trade's quantity used once;
//! - a trade *through* the order's price (any trade below our bid, above our ask) fills it completely at
//!   its price: the level it rests on was swept;
//! - when the recorded book moves through it (best ask <= our bid, best bid >= our ask, checked at the
//!   last row of each message, `flags & LAST`, when the book is consistent) it fills completely at its own
//!   price as maker: it was resting first, so the incoming orders would have matched against it. This is
//!   optimistic for size (the real crossing size may have been smaller) and neutral for price.
//!
//! # Bars (klines, no book)
//! [`SimVenue::on_bar`] serves bar-only data. Market orders fill at the last close +/- `bar_slippage_bps`
//! in full as taker; resting limits fill in full at their price as maker when the bar's low (buy) / high
//! (sell) reaches them (touch fill: optimistic, since touching a price does not mean the queue there
//! traded, and there is no volume check); stops trigger when the high (buy) / low (sell) reaches the
//! trigger and a stop-market fills at the trigger, or at the open when the bar gapped through it
//! (pessimistic within the bar, exact at a gap). Limit orders rested by a stop in a bar are checked from
//! the next bar on, since the bar cannot tell whether its extreme came before the trigger.
//!
//! # Determinism and cost
//! No randomness and no hashing reach observable state: the same data, config and seed give the same
//! events. [`SimVenue::on_book_row`] returns after the book update when the venue holds no resting order
//! and remembers no taken liquidity; otherwise it costs `O(resting orders)`.

mod bars;
mod maker;
mod order;
mod submit;
mod taker;

use ferrotrade_book::OrderBook;
use ferrotrade_model::{
    BookSide, ClientOrderId, Instrument, InstrumentIndex, Liquidity, OrderEvent, OrderSide, Price, Quantity, UnixNanos,
};

use crate::config::VenueConfig;
use crate::error::SimError;
use crate::fees::FeeModel;
use crate::queue::QueueModel;
use order::{Ledger, WorkingOrder};

/// 10^12, the scale of [`SimVenue::slippage_e12`].
const ONE_E12: i128 = 1_000_000_000_000;

/// Liquidity taken from one recorded level since its last recorded update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Consumed {
    side: BookSide,
    price: Price,
    quantity: i64,
}

/// The simulated exchange of one instrument; see the module docs for the matching rules.
#[derive(Debug, Clone)]
pub struct SimVenue {
    instrument: Instrument,
    book: OrderBook,
    queue: QueueModel,
    ledger: Ledger,
    /// Slippage of last-price market fills, as a fraction times 10^12 (basis points times 10^8).
    slippage_e12: i64,
    /// Resting limit orders (and triggered stop-limits), in time priority.
    resting: Vec<WorkingOrder>,
    /// Untriggered stops, in arrival order.
    stops: Vec<WorkingOrder>,
    consumed: Vec<Consumed>,
    /// Scratch for taker walks and triggered stops (kept to avoid allocating per event).
    takes: Vec<(Price, i64)>,
    triggered: Vec<WorkingOrder>,
    last_price: Option<Price>,
    next_venue_id: u64,
    bad_rows: u64,
}

impl SimVenue {
    /// A venue for `instrument`, known to the engine as `index`.
    ///
    /// # Errors
    /// [`SimError::Config`] for a bad config (see [`VenueConfig::validate`]) and [`SimError::Instrument`]
    /// when the instrument's tick or lot size is not positive.
    pub fn new(instrument: Instrument, index: InstrumentIndex, config: &VenueConfig) -> Result<SimVenue, SimError> {
        config.validate()?;
        if instrument.tick_size.0 <= 0 || instrument.lot_size.0 <= 0 {
            return Err(SimError::Instrument {
                instrument: instrument.id.to_string(),
                reason: format!(
                    "tick size {} and lot size {} must be > 0",
                    instrument.tick_size.0, instrument.lot_size.0
                ),
            });
        }
        let fees = FeeModel::new(&config.fees, &instrument)?;
        let queue = QueueModel::new(&config.queue, instrument.size_precision)?;
        // validate() checked <= 8 decimals and < 10000 bps, so this fits.
        let slippage_e12 = config.bar_slippage_bps.to_fixed(8).unwrap_or(0);
        Ok(SimVenue {
            instrument,
            book: OrderBook::new(),
            queue,
            ledger: Ledger { instrument: index, fees, position: 0, next_trade_id: 1 },
            slippage_e12,
            resting: Vec::new(),
            stops: Vec::new(),
            consumed: Vec::new(),
            takes: Vec::new(),
            triggered: Vec::new(),
            last_price: None,
            next_venue_id: 1,
            bad_rows: 0,
        })
    }

    /// Numbers this venue's trades from `first` on (default 1). A live paper run seeds it from the wall
    /// clock, so fills of a restarted run never reuse the trade ids its journal already holds.
    #[must_use]
    pub fn with_first_trade_id(mut self, first: u64) -> SimVenue {
        self.ledger.next_trade_id = first;
        self
    }

    /// Maps the whole window of the venue's book into memory now ([`OrderBook::make_resident`]). A live
    /// paper run's venues are fed on the engine thread, ahead of the strategies' book callbacks: untouched,
    /// their book faults there the first time the market reaches each 4 KiB of prices, as the engine's own
    /// books (made resident) do not. A backtest has no use for it.
    #[must_use]
    pub fn with_resident_book(mut self) -> SimVenue {
        self.book.make_resident();
        self
    }

    /// The maker and taker fee rates of this venue.
    #[must_use]
    pub fn fee_rates(&self) -> (ferrotrade_model::FeeRate, ferrotrade_model::FeeRate) {
        self.ledger.fees.rates()
    }

    /// The exchange-side recorded book (never changed by the strategy's orders).
    #[must_use]
    pub fn book(&self) -> &OrderBook {
        &self.book
    }

    /// The instrument traded.
    #[must_use]
    pub fn instrument(&self) -> &Instrument {
        &self.instrument
    }

    /// Venue-side net position from the venue's own fills (what reduce-only is checked against).
    #[must_use]
    pub fn position(&self) -> Quantity {
        Quantity(self.ledger.position)
    }

    /// Working orders: resting limits plus untriggered stops.
    #[must_use]
    pub fn open_order_count(&self) -> usize {
        self.resting.len() + self.stops.len()
    }

    /// The last trade price (or bar close) seen, if any.
    #[must_use]
    pub fn last_price(&self) -> Option<Price> {
        self.last_price
    }

    /// Book rows the recorded book refused (negative sizes); they are skipped.
    #[must_use]
    pub fn bad_rows(&self) -> u64 {
        self.bad_rows
    }

    /// The queue ahead of a resting order (size mantissa), for inspection and tests; `None` when the
    /// order is not resting.
    #[must_use]
    pub fn queue_ahead(&self, client_id: ClientOrderId) -> Option<Quantity> {
        self.resting.iter().find(|order| order.client_id == client_id).map(|order| Quantity(order.queue_ahead))
    }

    /// Liquidity of the recorded level at `price` on `side` that our takers already used.
    fn consumed_at(&self, side: BookSide, price: Price) -> i64 {
        self.consumed.iter().find(|c| c.side == side && c.price == price).map_or(0, |c| c.quantity)
    }

    /// The last price moved against the taker by the configured slippage, rounded to a tick away from
    /// the taker (up for a buy, down for a sell).
    fn slipped(&self, price: Price, side: OrderSide) -> Price {
        if self.slippage_e12 == 0 {
            return price;
        }
        let tick = i128::from(self.instrument.tick_size.0);
        let delta = i128::from(price.0) * i128::from(self.slippage_e12);
        let raw = i128::from(price.0) * ONE_E12
            + match side {
                OrderSide::Buy => delta,
                OrderSide::Sell => -delta,
            };
        let unit = ONE_E12 * tick;
        let ticks = match side {
            OrderSide::Buy => (raw + unit - 1).div_euclid(unit),
            OrderSide::Sell => raw.div_euclid(unit),
        };
        Price(i64::try_from(ticks * tick).unwrap_or(price.0))
    }

    /// Places a GTC remainder at the back of the time priority (the end of `resting`): the queue ahead is
    /// the recorded size at its price.
    fn rest(&mut self, mut order: WorkingOrder) {
        order.queue_ahead = self.book.size_at(order.own_side(), order.price).0;
        order.traded_at_level = 0;
        self.resting.push(order);
    }

    /// Fills the resting order at `index` in full at `price` as `liquidity` (trade-through, book-through and
    /// bar touches).
    fn fill_all(
        &mut self,
        index: usize,
        price: Price,
        liquidity: Liquidity,
        now: UnixNanos,
        out: &mut Vec<OrderEvent>,
    ) {
        if let Some(order) = self.resting.get_mut(index) {
            let leaves = order.leaves();
            self.ledger.fill(order, price, leaves, liquidity, now, out);
        }
    }
}
