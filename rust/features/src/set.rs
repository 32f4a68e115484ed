//! [`FeatureSet`]: a configured list of features computed on a sampling [`Clock`], fed by market events.
//!
//! The engines (backtest and live, through a strategy's callbacks) and the batch runner
//! ([`crate::BatchRunner`], behind `ft.features.compute`) call the same three methods: [`FeatureSet::on_book`]
//! after each venue message applied to the book, [`FeatureSet::on_trade`] and [`FeatureSet::on_bar`]. Each
//! may close one or more samples and hands each to the caller's `emit` closure as a [`Sample`]: the sample's
//! time, its reference price and one value per feature, in configuration order.
//!
//! # Clocks
//! | clock | one sample | reference price | interval bar (what the indicators see) |
//! |---|---|---|---|
//! | `"bars"` | per closed bar (`on_bar`), at its `ts_recv` | close | the bar: OHLC, volume, taker buy volume, quote volume |
//! | `"book"` | per book message (`on_book`), at its time | mid | mid OHLC and trades since the previous sample |
//! | `{ interval_ms = N }` | per `N` ms of receive time, at each multiple of `N` since the epoch | mid | mid OHLC and trades over the interval |
//!
//! On an interval clock the sample at boundary `T` holds every event with `ts_recv <= T`; it is emitted by the
//! first event after `T` (before that event is applied), or by [`FeatureSet::advance`] from a timer. Book
//! features read the book as of the last book message at or before `T` (cached when it arrived, so the
//! sample never sees a later book). Intervals without any event repeat the last price with zero volume.
//! No sample is emitted before the first reference price (the first two-sided book, or the first bar).
//!
//! # Warm-up
//! A feature is `NaN` until its window is full (`rsi_14` needs 15 samples); a book feature is `NaN` while
//! the book has no two-sided top. Nothing else is ever `NaN`: degenerate inputs give neutral values (see
//! [`crate::indicators`]).
//!
//! # Cost
//! Building allocates every window; afterwards each event costs `O(features)` (a book message also reads the
//! top `levels` of the book for each `book_imbalance_{levels}`) and allocates nothing.

use ferrotrade_book::OrderBook;
use ferrotrade_model::{AggressorSide, Bar, Trade, UnixNanos};
use serde::Deserialize;

use crate::error::FeatureError;
use crate::indicators::{Atr, Bollinger, Ema, Macd, Obv, RollingVwap, Rsi, Sma, Stochastic, Wma};
use crate::spec::{FeatureKind, FeatureSpec};
use crate::window::Window;

/// Largest interval of an interval clock: one day.
pub const MAX_INTERVAL_MS: u64 = 86_400_000;

/// When a feature set takes a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// One sample per closed bar.
    Bars,
    /// One sample per book message.
    Book,
    /// One sample per `interval_ms` of receive time.
    Interval {
        /// Interval length in milliseconds.
        interval_ms: u64,
    },
}

impl Clock {
    /// `bars`, `book` or `interval_<N>ms`.
    #[must_use]
    pub fn name(&self) -> String {
        match self {
            Clock::Bars => "bars".to_owned(),
            Clock::Book => "book".to_owned(),
            Clock::Interval { interval_ms } => format!("interval_{interval_ms}ms"),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ClockForm {
    Name(String),
    Interval { interval_ms: u64 },
}

impl<'de> Deserialize<'de> for Clock {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Clock, D::Error> {
        use serde::de::Error;
        match ClockForm::deserialize(deserializer)
            .map_err(|_| D::Error::custom("expected \"bars\", \"book\" or { interval_ms = N }"))?
        {
            ClockForm::Name(name) if name == "bars" => Ok(Clock::Bars),
            ClockForm::Name(name) if name == "book" => Ok(Clock::Book),
            ClockForm::Name(name) => {
                Err(D::Error::custom(format!("unknown clock {name:?} (\"bars\", \"book\" or {{ interval_ms = N }})")))
            }
            ClockForm::Interval { interval_ms } => Ok(Clock::Interval { interval_ms }),
        }
    }
}

/// A feature set as configured: `clock` and `features` (TOML/JSON; unknown keys are an error).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    /// When samples are taken.
    pub clock: Clock,
    /// Feature names, in the order of the values (and of a model's inputs).
    pub features: Vec<String>,
}

/// One sample: its time, reference price and feature values (configuration order).
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// Sample time (receive time).
    pub ts: UnixNanos,
    /// The reference price (mid, or the bar's close).
    pub price: f64,
    /// One value per feature; `NaN` while a feature warms up.
    pub values: &'a [f64],
}

/// What the indicators see of one sample interval.
#[derive(Debug, Clone, Copy, Default)]
struct IntervalBar {
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    buy_volume: f64,
    sell_volume: f64,
    notional: f64,
}

impl IntervalBar {
    fn set_price(&mut self, price: f64, first: bool) {
        if first {
            *self = IntervalBar { high: price, low: price, close: price, ..IntervalBar::default() };
        } else {
            self.high = self.high.max(price);
            self.low = self.low.min(price);
            self.close = price;
        }
    }

    /// The next interval: it starts at this close, with no volume yet.
    fn roll(&mut self) {
        let close = self.close;
        *self = IntervalBar { high: close, low: close, close, ..IntervalBar::default() };
    }
}

/// One feature's state.
#[derive(Debug, Clone)]
enum State {
    Return(Window),
    Sma(Sma),
    Ema(Ema),
    Wma(Wma),
    Rsi(Rsi),
    Macd(Macd),
    StochasticK(Stochastic),
    StochasticD(Stochastic),
    Atr(Atr),
    BollingerPercentB(Bollinger),
    BollingerWidth(Bollinger),
    Obv {
        obv: Obv,
        history: Window,
        volume: Window,
    },
    Vwap(RollingVwap),
    RealizedVolatility {
        previous: Option<f64>,
        squares: Window,
    },
    TradeImbalance {
        buy: Window,
        sell: Window,
    },
    /// Read from the book when a message arrives; the value is cached in `book_values`.
    Book(FeatureKind),
    Time(FeatureKind),
}

impl State {
    fn new(kind: FeatureKind) -> State {
        match kind {
            FeatureKind::Return { horizon } => State::Return(Window::new(horizon + 1)),
            FeatureKind::Sma { n } => State::Sma(Sma::new(n)),
            FeatureKind::Ema { n } => State::Ema(Ema::new(n)),
            FeatureKind::Wma { n } => State::Wma(Wma::new(n)),
            FeatureKind::Rsi { n } => State::Rsi(Rsi::new(n)),
            FeatureKind::Macd { fast, slow, signal } => State::Macd(Macd::new(fast, slow, signal)),
            FeatureKind::StochasticK { k } => State::StochasticK(Stochastic::new(k, 1)),
            FeatureKind::StochasticD { k, d } => State::StochasticD(Stochastic::new(k, d)),
            FeatureKind::Atr { n } => State::Atr(Atr::new(n)),
            FeatureKind::BollingerPercentB { n, k } => State::BollingerPercentB(Bollinger::new(n, k)),
            FeatureKind::BollingerWidth { n, k } => State::BollingerWidth(Bollinger::new(n, k)),
            FeatureKind::Obv { n } => {
                State::Obv { obv: Obv::new(), history: Window::new(n + 1), volume: Window::new(n) }
            }
            FeatureKind::Vwap { n } => State::Vwap(RollingVwap::new(n)),
            FeatureKind::RealizedVolatility { n } => {
                State::RealizedVolatility { previous: None, squares: Window::new(n) }
            }
            FeatureKind::TradeImbalance { n } => State::TradeImbalance { buy: Window::new(n), sell: Window::new(n) },
            FeatureKind::BookImbalance { .. } | FeatureKind::MicropriceBps | FeatureKind::SpreadBps => {
                State::Book(kind)
            }
            FeatureKind::HourSin | FeatureKind::HourCos | FeatureKind::DayOfWeekSin | FeatureKind::DayOfWeekCos => {
                State::Time(kind)
            }
        }
    }

    /// Updates with a closed interval; the feature's value (`NaN` while warming up). `cached` is the value
    /// a book feature read at the last book message.
    fn sample(&mut self, bar: &IntervalBar, ts: UnixNanos, cached: f64) -> f64 {
        let price = bar.close;
        let relative = |average: Option<f64>| average.map_or(f64::NAN, |average| price / average - 1.0);
        match self {
            State::Return(window) => {
                window.push(price);
                let horizon = window.capacity() - 1;
                window.get(horizon).map_or(f64::NAN, |old| (price / old).ln())
            }
            State::Sma(sma) => relative(sma.update(price)),
            State::Ema(ema) => relative(ema.update(price)),
            State::Wma(wma) => relative(wma.update(price)),
            State::Rsi(rsi) => rsi.update(price).unwrap_or(f64::NAN),
            State::Macd(macd) => macd.update(price).map_or(f64::NAN, |value| value.histogram / price),
            State::StochasticK(stochastic) => {
                stochastic.update(bar.high, bar.low, price).map_or(f64::NAN, |value| value.k)
            }
            State::StochasticD(stochastic) => {
                stochastic.update(bar.high, bar.low, price).and_then(|value| value.d).unwrap_or(f64::NAN)
            }
            State::Atr(atr) => atr.update(bar.high, bar.low, price).map_or(f64::NAN, |atr| atr / price),
            State::BollingerPercentB(bands) => bands.update(price).map_or(f64::NAN, |value| value.percent_b),
            State::BollingerWidth(bands) => bands.update(price).map_or(f64::NAN, |value| value.bandwidth),
            State::Obv { obv, history, volume } => {
                history.push(obv.update(price, bar.volume));
                volume.push(bar.volume);
                match history.get(history.capacity() - 1) {
                    Some(old) if volume.sum() > 0.0 => (history.get(0).unwrap_or(old) - old) / volume.sum(),
                    Some(_) => 0.0,
                    None => f64::NAN,
                }
            }
            State::Vwap(vwap) => relative(vwap.update(bar.notional, bar.volume)),
            State::RealizedVolatility { previous, squares } => {
                if let Some(previous) = previous.replace(price) {
                    let log_return = (price / previous).ln();
                    squares.push(log_return * log_return);
                }
                if squares.is_full() { squares.sum().max(0.0).sqrt() } else { f64::NAN }
            }
            State::TradeImbalance { buy, sell } => {
                buy.push(bar.buy_volume);
                sell.push(bar.sell_volume);
                let total = buy.sum() + sell.sum();
                match () {
                    () if !buy.is_full() => f64::NAN,
                    () if total > 0.0 => (buy.sum() - sell.sum()) / total,
                    () => 0.0,
                }
            }
            State::Book(_) => cached,
            State::Time(kind) => time_feature(*kind, ts),
        }
    }
}

const NANOS_PER_DAY: u64 = 86_400_000_000_000;

/// Time of day or week on the unit circle.
#[allow(clippy::cast_precision_loss)]
fn time_feature(kind: FeatureKind, ts: UnixNanos) -> f64 {
    let day_fraction = (ts.0 % NANOS_PER_DAY) as f64 / NANOS_PER_DAY as f64;
    // 1970-01-01 was a Thursday: day 0 of the epoch is weekday 3 counting from Monday.
    let weekday = ((ts.0 / NANOS_PER_DAY + 3) % 7) as f64;
    let week_fraction = (weekday + day_fraction) / 7.0;
    let turn = std::f64::consts::TAU;
    match kind {
        FeatureKind::HourSin => (turn * day_fraction).sin(),
        FeatureKind::HourCos => (turn * day_fraction).cos(),
        FeatureKind::DayOfWeekSin => (turn * week_fraction).sin(),
        _ => (turn * week_fraction).cos(),
    }
}

/// A book feature's value from the book (`NaN` without a two-sided top).
#[allow(clippy::cast_precision_loss)]
fn book_feature(kind: FeatureKind, book: &OrderBook, price_scale: f64, size_scale: f64) -> f64 {
    if let FeatureKind::BookImbalance { levels } = kind {
        return book.imbalance(levels).unwrap_or(f64::NAN);
    }
    let (Some(bid), Some(ask)) = (book.best_bid(), book.best_ask()) else {
        return f64::NAN;
    };
    let (bid_price, ask_price) = (bid.price.0 as f64 / price_scale, ask.price.0 as f64 / price_scale);
    let (bid_size, ask_size) = (bid.size.0 as f64 / size_scale, ask.size.0 as f64 / size_scale);
    let mid = f64::midpoint(bid_price, ask_price);
    match kind {
        FeatureKind::SpreadBps => (ask_price - bid_price) / mid * 1e4,
        _ => {
            let microprice = (bid_price * ask_size + ask_price * bid_size) / (bid_size + ask_size);
            (microprice - mid) / mid * 1e4
        }
    }
}

/// A configured feature set; see the module docs.
#[derive(Debug, Clone)]
pub struct FeatureSet {
    clock: Clock,
    names: Vec<String>,
    states: Vec<State>,
    /// Last value read from the book, per feature (`NaN` for the others).
    book_values: Vec<f64>,
    values: Vec<f64>,
    has_book_features: bool,
    price_scale: f64,
    size_scale: f64,
    bar: IntervalBar,
    /// Whether a reference price was seen (samples start after it).
    priced: bool,
    /// Whether the current interval saw a price yet (its open is that price).
    interval_priced: bool,
    /// Interval clock: the end of the current interval (`None` before the first event).
    next_boundary: Option<u64>,
    interval_ns: u64,
    samples: u64,
}

impl FeatureSet {
    /// Builds the set of `config` for an instrument quoted at `price_precision` and sized at
    /// `size_precision` decimals.
    ///
    /// # Errors
    /// A [`FeatureError`] for the first bad name, a duplicate, an empty list, a book feature on a bar clock
    /// or an interval outside `1..=`[`MAX_INTERVAL_MS`].
    pub fn new(config: &FeatureConfig, price_precision: u8, size_precision: u8) -> Result<FeatureSet, FeatureError> {
        if config.features.is_empty() {
            return Err(FeatureError::Empty);
        }
        let interval_ns = match config.clock {
            Clock::Interval { interval_ms } if interval_ms == 0 || interval_ms > MAX_INTERVAL_MS => {
                return Err(FeatureError::Clock(format!(
                    "interval_ms must be between 1 and {MAX_INTERVAL_MS}, got {interval_ms}"
                )));
            }
            Clock::Interval { interval_ms } => interval_ms * 1_000_000,
            Clock::Bars | Clock::Book => 0,
        };
        let mut names: Vec<String> = Vec::with_capacity(config.features.len());
        let mut states = Vec::with_capacity(config.features.len());
        let mut has_book_features = false;
        for name in &config.features {
            let spec = FeatureSpec::parse(name)?;
            if names.contains(name) {
                return Err(FeatureError::Duplicate { name: name.clone() });
            }
            if spec.needs_book() {
                if config.clock == Clock::Bars {
                    return Err(FeatureError::NeedsBook { name: name.clone() });
                }
                has_book_features = true;
            }
            names.push(name.clone());
            states.push(State::new(spec.kind()));
        }
        let scale = |precision: u8| ferrotrade_model::pow10(precision).map_or(f64::NAN, |p| p as f64);
        Ok(FeatureSet {
            clock: config.clock,
            book_values: vec![f64::NAN; names.len()],
            values: vec![f64::NAN; names.len()],
            names,
            states,
            has_book_features,
            price_scale: scale(price_precision),
            size_scale: scale(size_precision),
            bar: IntervalBar::default(),
            priced: false,
            interval_priced: false,
            next_boundary: None,
            interval_ns,
            samples: 0,
        })
    }

    /// The feature names, in value order.
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Number of samples emitted so far.
    #[must_use]
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The values of the last sample (`NaN` before the first).
    #[must_use]
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// A venue message was applied to `book` at receive time `ts` (call only for a synced, uncrossed book).
    pub fn on_book(&mut self, ts: UnixNanos, book: &OrderBook, emit: &mut impl FnMut(&Sample<'_>)) {
        if self.clock == Clock::Bars {
            return;
        }
        self.advance(ts, emit);
        if self.has_book_features {
            for (state, cached) in self.states.iter().zip(self.book_values.iter_mut()) {
                if let State::Book(kind) = state {
                    *cached = book_feature(*kind, book, self.price_scale, self.size_scale);
                }
            }
        }
        let (Some(bid), Some(ask)) = (book.best_bid(), book.best_ask()) else {
            return;
        };
        #[allow(clippy::cast_precision_loss)]
        let mid = (bid.price.0 as f64 + ask.price.0 as f64) / 2.0 / self.price_scale;
        self.bar.set_price(mid, !self.interval_priced);
        self.interval_priced = true;
        self.priced = true;
        self.start_interval(ts);
        if self.clock == Clock::Book {
            self.close_sample(ts, emit);
        }
    }

    /// A trade printed at `trade.ts_recv`.
    pub fn on_trade(&mut self, trade: &Trade, emit: &mut impl FnMut(&Sample<'_>)) {
        if self.clock == Clock::Bars {
            return;
        }
        self.advance(trade.ts_recv, emit);
        #[allow(clippy::cast_precision_loss)]
        let (price, size) = (trade.price.0 as f64 / self.price_scale, trade.size.0 as f64 / self.size_scale);
        self.bar.volume += size;
        self.bar.notional += price * size;
        match trade.aggressor {
            AggressorSide::Buyer => self.bar.buy_volume += size,
            AggressorSide::Seller => self.bar.sell_volume += size,
            AggressorSide::Unknown => {}
        }
        self.start_interval(trade.ts_recv);
    }

    /// A bar closed (bar clocks only; other clocks ignore bars).
    #[allow(clippy::cast_precision_loss)]
    pub fn on_bar(&mut self, bar: &Bar, emit: &mut impl FnMut(&Sample<'_>)) {
        if self.clock != Clock::Bars {
            return;
        }
        let price = |value: ferrotrade_model::Price| value.0 as f64 / self.price_scale;
        let size = |value: ferrotrade_model::Quantity| value.0 as f64 / self.size_scale;
        let volume = size(bar.volume);
        let buy_volume = size(bar.taker_buy_volume);
        self.bar = IntervalBar {
            high: price(bar.high),
            low: price(bar.low),
            close: price(bar.close),
            volume,
            buy_volume,
            sell_volume: (volume - buy_volume).max(0.0),
            notional: bar.quote_volume,
        };
        self.priced = true;
        self.close_sample(bar.ts_recv, emit);
    }

    /// Interval clock: emits the samples of every interval that ended before `now` (call from a timer so
    /// a quiet market still samples on time). Other clocks: nothing.
    pub fn advance(&mut self, now: UnixNanos, emit: &mut impl FnMut(&Sample<'_>)) {
        let Some(mut boundary) = self.next_boundary else {
            return;
        };
        while now.0 > boundary {
            if self.priced {
                self.close_sample(UnixNanos(boundary), emit);
            }
            boundary += self.interval_ns;
        }
        self.next_boundary = Some(boundary);
    }

    /// Interval clock: the first event fixes the first boundary (the next multiple of the interval).
    fn start_interval(&mut self, ts: UnixNanos) {
        if self.interval_ns > 0 && self.next_boundary.is_none() {
            self.next_boundary = Some(ts.0.div_ceil(self.interval_ns) * self.interval_ns);
        }
    }

    fn close_sample(&mut self, ts: UnixNanos, emit: &mut impl FnMut(&Sample<'_>)) {
        let bar = self.bar;
        for ((state, value), cached) in self.states.iter_mut().zip(self.values.iter_mut()).zip(&self.book_values) {
            *value = state.sample(&bar, ts, *cached);
        }
        self.samples += 1;
        self.bar.roll();
        self.interval_priced = true;
        emit(&Sample { ts, price: bar.close, values: &self.values });
    }
}
