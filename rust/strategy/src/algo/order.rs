//! [`AlgoOrder`]: a parent order as written (TOML, JSON, Python keyword arguments), and its resolution
//! against the run's instruments and books into the executable [`Spec`], refusing with a reason what
//! cannot be executed as asked.

use std::collections::BTreeMap;
use std::fmt;

use ferrotrade_model::{Decimal, FeeRate, Instrument, InstrumentIndex, OrderSide, Price, Quantity, UnixNanos};
use serde::Deserialize;

use super::route::RouteLeg;
use super::schedule::{Schedule, twap_schedule, vwap_schedule};
use crate::context::Context;

/// The shortest slice a scheduled algorithm accepts: below it, child latency dominates the schedule.
pub(crate) const MIN_SLICE_NS: u64 = 100_000_000;

/// Which algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlgoKind {
    /// Time-weighted slices.
    Twap,
    /// Slices following a volume profile.
    Vwap,
    /// A share of the observed market volume.
    Pov,
    /// A resting limit showing part of its size.
    Iceberg,
    /// A pegged limit re-priced as the market moves.
    Chase,
    /// Liquidity taken across venues by effective price.
    Route,
}

impl AlgoKind {
    /// Snake-case name (`"twap"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            AlgoKind::Twap => "twap",
            AlgoKind::Vwap => "vwap",
            AlgoKind::Pov => "pov",
            AlgoKind::Iceberg => "iceberg",
            AlgoKind::Chase => "chase",
            AlgoKind::Route => "route",
        }
    }
}

/// How the children of `twap`, `vwap` and `pov` are priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildStyle {
    /// Market orders; with a `limit_price`, IOC limits at it (never beyond the limit).
    #[default]
    Market,
    /// IOC limits at the far touch (buy at the best ask), capped by the limit.
    Aggressive,
    /// GTC limits at the near touch (buy at the best bid), capped by the limit; what a slice leaves is
    /// canceled and carried into the next one.
    Passive,
}

/// Where a `chase` child is pegged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Peg {
    /// The near touch (a buy at the best bid).
    #[default]
    Touch,
    /// The mid, rounded to the passive side's tick.
    Mid,
    /// The far touch (a buy at the best ask: marketable).
    Far,
}

/// The side as written: `"buy"` or `"sell"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SideText {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

/// A parent order as written; unknown keys are an error, and a key the algorithm does not use is refused
/// rather than ignored.
///
/// ```toml
/// algo = "twap"                      # twap, vwap, pov, iceberg, chase, route
/// instrument = "binance-usdm.BTCUSDT"
/// side = "buy"
/// quantity = 0.05
/// limit_price = 62000                # optional
/// delay_s = 60                       # or start = "2024-08-08T00:10:00Z"; default now
/// duration_s = 600                   # or end = "..."; twap and vwap need one
/// slices = 10                        # twap: or interval_s
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlgoOrder {
    /// The algorithm.
    pub algo: AlgoKind,
    /// `venue.SYMBOL`; for `route`, the instrument whose units `quantity` is in.
    pub instrument: String,
    /// `"buy"` or `"sell"`.
    pub side: SideText,
    /// Total size, in the instrument's units.
    pub quantity: Decimal,
    /// A buy never pays more, a sell never receives less. Required by `iceberg`.
    #[serde(default)]
    pub limit_price: Option<Decimal>,
    /// Start time (UTC, RFC 3339 or a date).
    #[serde(default)]
    pub start: Option<String>,
    /// Start this many seconds after submission (instead of `start`).
    #[serde(default)]
    pub delay_s: Option<Decimal>,
    /// End time (UTC).
    #[serde(default)]
    pub end: Option<String>,
    /// End this many seconds after the start (instead of `end`).
    #[serde(default)]
    pub duration_s: Option<Decimal>,
    /// `twap`: number of slices.
    #[serde(default)]
    pub slices: Option<u32>,
    /// `twap`: seconds between slices (instead of `slices`); `vwap`: seconds between children (default 60).
    #[serde(default)]
    pub interval_s: Option<Decimal>,
    /// `twap`: each slice's size and time moved by up to this fraction of a slice (0 to 0.5).
    #[serde(default)]
    pub randomize: Option<f64>,
    /// `twap`: seed of the randomization (default 0; the run is reproducible either way).
    #[serde(default)]
    pub seed: Option<u64>,
    /// `twap`, `vwap`, `pov`: how children are priced.
    #[serde(default)]
    pub child: Option<ChildStyle>,
    /// `twap`, `vwap`: at the end, send what is left as a marketable child (default false: expire).
    #[serde(default)]
    pub complete: Option<bool>,
    /// `vwap`: weights of equal buckets covering the UTC day (24 for hours, 96 for 15 minutes...).
    #[serde(default)]
    pub profile: Option<Vec<f64>>,
    /// `pov`: target share of market volume, in `(0, 1]`.
    #[serde(default)]
    pub rate: Option<f64>,
    /// `pov`: smallest child (default one lot, raised to the minimum notional).
    #[serde(default)]
    pub min_child: Option<Decimal>,
    /// `pov`: largest child (default the whole quantity).
    #[serde(default)]
    pub max_child: Option<Decimal>,
    /// `iceberg`: the most ever shown.
    #[serde(default)]
    pub display: Option<Decimal>,
    /// `chase`: the peg.
    #[serde(default)]
    pub peg: Option<Peg>,
    /// `chase`: ticks towards the far side from the peg (negative: deeper in the book).
    #[serde(default)]
    pub offset_ticks: Option<i64>,
    /// `chase`: re-price once the peg is this many ticks away (default 1).
    #[serde(default)]
    pub reprice_ticks: Option<i64>,
    /// `chase`: after this many seconds, peg to the far touch (cross the spread).
    #[serde(default)]
    pub cross_after_s: Option<Decimal>,
    /// `chase`, urgency: once the peg has run this many ticks away from where the chase started (a buy's
    /// bid rising, a sell's ask falling), stop chasing and cross for the rest.
    #[serde(default)]
    pub cross_after_ticks: Option<i64>,
    /// `route`: the instruments to route across (`instrument` is added when missing).
    #[serde(default)]
    pub venues: Option<Vec<String>>,
    /// `route`: taker fee per instrument, overriding the engine's fee table.
    #[serde(default)]
    pub taker_fees: Option<BTreeMap<String, Decimal>>,
}

impl AlgoOrder {
    /// The keys this order sets that `algo` does not use.
    fn foreign_keys(&self) -> Vec<&'static str> {
        let set: [(&'static str, bool, &[AlgoKind]); 18] = {
            use AlgoKind::{Chase, Iceberg, Pov, Route, Twap, Vwap};
            [
                ("slices", self.slices.is_some(), &[Twap]),
                ("interval_s", self.interval_s.is_some(), &[Twap, Vwap]),
                ("randomize", self.randomize.is_some(), &[Twap]),
                ("seed", self.seed.is_some(), &[Twap]),
                ("child", self.child.is_some(), &[Twap, Vwap, Pov]),
                ("complete", self.complete.is_some(), &[Twap, Vwap]),
                ("profile", self.profile.is_some(), &[Vwap]),
                ("rate", self.rate.is_some(), &[Pov]),
                ("min_child", self.min_child.is_some(), &[Pov]),
                ("max_child", self.max_child.is_some(), &[Pov]),
                ("display", self.display.is_some(), &[Iceberg]),
                ("peg", self.peg.is_some(), &[Chase]),
                ("offset_ticks", self.offset_ticks.is_some(), &[Chase]),
                ("reprice_ticks", self.reprice_ticks.is_some(), &[Chase]),
                ("cross_after_s", self.cross_after_s.is_some(), &[Chase]),
                ("cross_after_ticks", self.cross_after_ticks.is_some(), &[Chase]),
                ("venues", self.venues.is_some(), &[Route]),
                ("taker_fees", self.taker_fees.is_some(), &[Route]),
            ]
        };
        set.iter().filter(|(_, given, kinds)| *given && !kinds.contains(&self.algo)).map(|(key, ..)| *key).collect()
    }
}

/// Why a parent order was refused: the key at fault (empty for the order as a whole) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgoRefusal {
    /// The key at fault (`"slices"`), or empty.
    pub key: &'static str,
    /// What is wrong, in words a user can act on.
    pub reason: String,
}

impl AlgoRefusal {
    /// A refusal about `key`.
    #[must_use]
    pub fn new(key: &'static str, reason: impl Into<String>) -> AlgoRefusal {
        AlgoRefusal { key, reason: reason.into() }
    }
}

impl fmt::Display for AlgoRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() { f.write_str(&self.reason) } else { write!(f, "`{}`: {}", self.key, self.reason) }
    }
}

impl std::error::Error for AlgoRefusal {}

/// What the algorithm does, resolved to fixed point and absolute times.
#[derive(Debug, Clone)]
pub(crate) enum Params {
    Scheduled { schedule: Schedule, child: ChildStyle, complete: bool },
    Pov { rate: f64, min_child: Quantity, max_child: Quantity, child: ChildStyle },
    Iceberg { display: Quantity },
    Chase { peg: Peg, offset_ticks: i64, reprice_ticks: i64, cross_at: Option<u64>, cross_after_ticks: Option<i64> },
    Route { legs: Vec<RouteLeg> },
}

/// An accepted parent order, ready to execute.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub algo: AlgoKind,
    pub instrument: InstrumentIndex,
    pub side: OrderSide,
    pub quantity: Quantity,
    pub limit: Option<Price>,
    pub start: u64,
    pub end: Option<u64>,
    pub params: Params,
    /// The mid when accepted (the arrival price of the quality report), as a float.
    pub arrival_mid: f64,
    /// Price and size precisions of the primary instrument.
    pub precisions: (u8, u8),
    /// Decimals of `quantity` and of the parent's accounting: the primary instrument's size precision, or
    /// for a routed parent the finest of its legs (so every leg's fill is a whole number of units).
    pub units: u8,
}

fn seconds(key: &'static str, value: Decimal) -> Result<u64, AlgoRefusal> {
    let nanos = value.to_fixed(9).map_err(|_| AlgoRefusal::new(key, format!("{value} s is not a time")))?;
    u64::try_from(nanos).map_err(|_| AlgoRefusal::new(key, format!("must not be negative, got {value}")))
}

fn time(key: &'static str, text: &str) -> Result<u64, AlgoRefusal> {
    UnixNanos::parse_utc(text)
        .map(|time| time.0)
        .ok_or_else(|| AlgoRefusal::new(key, format!("{text:?} is not a UTC date or time (2024-08-08T00:10:00Z)")))
}

/// `value` in `instrument`'s size units, positive and on lot (the built-in strategies' conversion).
pub(crate) fn quantity_of(key: &'static str, value: Decimal, instrument: &Instrument) -> Result<Quantity, AlgoRefusal> {
    let quantity = crate::builtin::to_quantity(key, value, instrument)
        .map_err(|error| AlgoRefusal::new(error.key, error.message))?;
    if quantity.0 <= 0 {
        return Err(AlgoRefusal::new(key, format!("must be positive, got {value}")));
    }
    Ok(quantity)
}

fn price_of(key: &'static str, value: Decimal, instrument: &Instrument) -> Result<Price, AlgoRefusal> {
    let mantissa = value
        .to_fixed(instrument.price_precision)
        .map_err(|_| AlgoRefusal::new(key, format!("{value} has more decimals than {} allows", instrument.id)))?;
    let tick = instrument.tick_size.0.max(1);
    if mantissa <= 0 || mantissa % tick != 0 {
        return Err(AlgoRefusal::new(
            key,
            format!(
                "{value} is not a positive multiple of the tick size {} of {}",
                instrument.tick_size.display(instrument.price_precision),
                instrument.id
            ),
        ));
    }
    Ok(Price(mantissa))
}

/// `price x quantity` of `instrument` in quote units, as a float (for minimum-notional checks, which the
/// venues also apply to the float-free exact value; a float is within a unit of the last place here).
#[allow(clippy::cast_precision_loss)]
pub(crate) fn notional_f64(instrument: &Instrument, price: f64, quantity: Quantity) -> f64 {
    price * quantity.to_f64(instrument.size_precision) * instrument.contract_size.to_f64()
}

/// The minimum notional of `instrument`, as a float (0 without one).
pub(crate) fn min_notional_f64(instrument: &Instrument) -> f64 {
    instrument.min_notional.map_or(0.0, Decimal::to_f64)
}

/// The mid of `index` as a float, if its book has both sides.
pub(crate) fn mid_f64(ctx: &dyn Context, index: InstrumentIndex) -> Option<f64> {
    let precision = ctx.instruments().get(index.get())?.price_precision;
    ctx.book(index).mid_x2().map(|mid_x2| mid_x2.to_f64(precision) / 2.0)
}

/// Resolves `order` at `ctx.now()`: `books` says which instruments the strategy receives books of.
pub(crate) fn resolve(
    order: &AlgoOrder,
    ctx: &dyn Context,
    has_book: &dyn Fn(InstrumentIndex) -> bool,
    has_trades: &dyn Fn(InstrumentIndex) -> bool,
) -> Result<Spec, AlgoRefusal> {
    if let Some(key) = order.foreign_keys().first() {
        return Err(AlgoRefusal::new(key, format!("does not apply to {}", order.algo.as_str())));
    }
    let index = ctx.instrument_index(&order.instrument).ok_or_else(|| {
        AlgoRefusal::new("instrument", format!("`{}` is not an instrument of this run", order.instrument))
    })?;
    let instrument = ctx.instruments()[index.get()].clone();
    let side = match order.side {
        SideText::Buy => OrderSide::Buy,
        SideText::Sell => OrderSide::Sell,
    };
    let quantity = quantity_of("quantity", order.quantity, &instrument)?;
    let limit = order.limit_price.map(|value| price_of("limit_price", value, &instrument)).transpose()?;
    if !has_book(index) {
        return Err(AlgoRefusal::new(
            "instrument",
            format!("execution algorithms need the book of {}: subscribe to it (kind \"book\")", instrument.id),
        ));
    }
    let arrival_mid = mid_f64(ctx, index).filter(|_| ctx.is_synced(index)).ok_or_else(|| {
        AlgoRefusal::new("instrument", format!("no synced book of {} yet: no arrival price", instrument.id))
    })?;
    let now = ctx.now().0;
    let start = match (&order.start, order.delay_s) {
        (Some(_), Some(_)) => return Err(AlgoRefusal::new("delay_s", "give `start` or `delay_s`, not both")),
        (Some(text), None) => time("start", text)?.max(now),
        (None, Some(delay)) => now.saturating_add(seconds("delay_s", delay)?),
        (None, None) => now,
    };
    let end = match (&order.end, order.duration_s) {
        (Some(_), Some(_)) => return Err(AlgoRefusal::new("duration_s", "give `end` or `duration_s`, not both")),
        (Some(text), None) => Some(time("end", text)?),
        (None, Some(duration)) => Some(start.saturating_add(seconds("duration_s", duration)?)),
        (None, None) => None,
    };
    if end.is_some_and(|end| end <= start) {
        let key = if order.duration_s.is_some() { "duration_s" } else { "end" };
        return Err(AlgoRefusal::new(key, "the end must come after the start"));
    }
    if let (Some(limit), AlgoKind::Twap | AlgoKind::Vwap | AlgoKind::Pov | AlgoKind::Chase | AlgoKind::Route) =
        (limit, order.algo)
    {
        let limit_f64 = limit.to_f64(instrument.price_precision);
        let breached = match side {
            OrderSide::Buy => arrival_mid > limit_f64,
            OrderSide::Sell => arrival_mid < limit_f64,
        };
        if breached {
            return Err(AlgoRefusal::new(
                "limit_price",
                format!(
                    "already breached: the mid {arrival_mid} is {} the {} limit {limit_f64}",
                    if side == OrderSide::Buy { "above" } else { "below" },
                    side.as_str().to_ascii_lowercase()
                ),
            ));
        }
    }
    let min_notional = min_notional_f64(&instrument);
    let check_child = |key: &'static str, size: Quantity, what: &str| -> Result<(), AlgoRefusal> {
        let value = notional_f64(&instrument, arrival_mid, size);
        if value < min_notional {
            return Err(AlgoRefusal::new(
                key,
                format!(
                    "{what} of {} is worth {value:.2} at the mid, below the minimum notional {min_notional} of {}",
                    size.display(instrument.size_precision),
                    instrument.id
                ),
            ));
        }
        Ok(())
    };
    let mut units = instrument.size_precision;
    let params = match order.algo {
        AlgoKind::Twap => {
            let end = end.ok_or_else(|| AlgoRefusal::new("duration_s", "twap needs an end (`duration_s` or `end`)"))?;
            let duration = end - start;
            let slices = match (order.slices, order.interval_s) {
                (Some(_), Some(_)) => {
                    return Err(AlgoRefusal::new("interval_s", "give `slices` or `interval_s`, not both"));
                }
                (Some(0), None) => return Err(AlgoRefusal::new("slices", "must be at least 1")),
                (Some(slices), None) => slices,
                (None, Some(interval)) => {
                    let interval = seconds("interval_s", interval)?;
                    if interval == 0 {
                        return Err(AlgoRefusal::new("interval_s", "must be positive"));
                    }
                    u32::try_from(duration.div_ceil(interval)).unwrap_or(u32::MAX)
                }
                (None, None) => return Err(AlgoRefusal::new("slices", "twap needs `slices` or `interval_s`")),
            };
            let each = duration / u64::from(slices);
            if each < MIN_SLICE_NS {
                return Err(AlgoRefusal::new(
                    "slices",
                    format!(
                        "a duration of {} s is too short for {slices} slices ({} ms each; at least {} ms)",
                        duration as f64 / 1e9,
                        each / 1_000_000,
                        MIN_SLICE_NS / 1_000_000
                    ),
                ));
            }
            let lot = instrument.lot_size.0.max(1);
            let lots = quantity.0 / lot;
            if lots < i64::from(slices) {
                return Err(AlgoRefusal::new(
                    "slices",
                    format!("{slices} slices of {} lots: a slice would be smaller than one lot", lots),
                ));
            }
            let randomize = order.randomize.unwrap_or(0.0);
            if !(0.0..=0.5).contains(&randomize) {
                return Err(AlgoRefusal::new("randomize", format!("must be within 0 and 0.5, got {randomize}")));
            }
            let schedule = twap_schedule(start, end, slices, quantity, lot, randomize, order.seed.unwrap_or(0));
            check_child("slices", schedule.smallest_slice(), "the smallest slice")?;
            Params::Scheduled {
                schedule,
                child: order.child.unwrap_or_default(),
                complete: order.complete.unwrap_or(false),
            }
        }
        AlgoKind::Vwap => {
            let end = end.ok_or_else(|| AlgoRefusal::new("duration_s", "vwap needs an end (`duration_s` or `end`)"))?;
            let profile = order.profile.as_deref().ok_or_else(|| {
                AlgoRefusal::new(
                    "profile",
                    "vwap needs a volume profile (ft.execution.volume_profile, or profile = \"catalog\" in a config)",
                )
            })?;
            if profile.is_empty() || 86_400 % profile.len() != 0 {
                return Err(AlgoRefusal::new(
                    "profile",
                    format!("{} buckets do not divide the day into whole seconds", profile.len()),
                ));
            }
            if profile.iter().any(|weight| !weight.is_finite() || *weight < 0.0) {
                return Err(AlgoRefusal::new("profile", "weights must be finite and not negative"));
            }
            let interval =
                order.interval_s.map(|value| seconds("interval_s", value)).transpose()?.unwrap_or(60_000_000_000);
            if interval < MIN_SLICE_NS {
                return Err(AlgoRefusal::new("interval_s", format!("at least {} ms", MIN_SLICE_NS / 1_000_000)));
            }
            let lot = instrument.lot_size.0.max(1);
            let schedule = vwap_schedule(start, end, interval, profile, quantity, lot).ok_or_else(|| {
                AlgoRefusal::new("profile", "the profile has no volume between the start and the end")
            })?;
            check_child("quantity", quantity, "the order")?;
            Params::Scheduled {
                schedule,
                child: order.child.unwrap_or_default(),
                complete: order.complete.unwrap_or(false),
            }
        }
        AlgoKind::Pov => {
            if !has_trades(index) {
                return Err(AlgoRefusal::new(
                    "algo",
                    format!("pov follows the trades of {}: subscribe to them (kind \"trades\")", instrument.id),
                ));
            }
            let rate = order.rate.ok_or_else(|| AlgoRefusal::new("rate", "pov needs a participation `rate`"))?;
            if !(rate > 0.0 && rate <= 1.0) {
                return Err(AlgoRefusal::new("rate", format!("must be within (0, 1], got {rate}")));
            }
            let child = order.child.unwrap_or(ChildStyle::Aggressive);
            if child == ChildStyle::Passive {
                return Err(AlgoRefusal::new("child", "pov children take liquidity: aggressive or market"));
            }
            let lot = Quantity(instrument.lot_size.0.max(1));
            let min_child = order.min_child.map(|value| quantity_of("min_child", value, &instrument)).transpose()?;
            let max_child = order.max_child.map(|value| quantity_of("max_child", value, &instrument)).transpose()?;
            let min_child = min_child.unwrap_or(lot);
            let max_child = max_child.unwrap_or(quantity);
            if min_child > max_child {
                return Err(AlgoRefusal::new("min_child", "must not exceed max_child"));
            }
            if max_child > quantity {
                return Err(AlgoRefusal::new("max_child", "must not exceed the quantity"));
            }
            check_child("min_child", min_child, "the smallest child")?;
            Params::Pov { rate, min_child, max_child, child }
        }
        AlgoKind::Iceberg => {
            if limit.is_none() {
                return Err(AlgoRefusal::new("limit_price", "an iceberg rests at its limit: give `limit_price`"));
            }
            let display = order
                .display
                .map(|value| quantity_of("display", value, &instrument))
                .transpose()?
                .ok_or_else(|| AlgoRefusal::new("display", "an iceberg needs its `display` size"))?;
            if display > quantity {
                return Err(AlgoRefusal::new("display", "must not exceed the quantity"));
            }
            check_child("display", display, "the displayed size")?;
            Params::Iceberg { display }
        }
        AlgoKind::Chase => {
            let reprice_ticks = order.reprice_ticks.unwrap_or(1);
            if reprice_ticks < 1 {
                return Err(AlgoRefusal::new("reprice_ticks", "must be at least 1"));
            }
            let cross_at = order
                .cross_after_s
                .map(|value| seconds("cross_after_s", value))
                .transpose()?
                .map(|after| start + after);
            if order.cross_after_ticks.is_some_and(|ticks| ticks < 1) {
                return Err(AlgoRefusal::new("cross_after_ticks", "must be at least 1"));
            }
            check_child("quantity", quantity, "the order")?;
            Params::Chase {
                peg: order.peg.unwrap_or_default(),
                offset_ticks: order.offset_ticks.unwrap_or(0),
                reprice_ticks,
                cross_at,
                cross_after_ticks: order.cross_after_ticks,
            }
        }
        AlgoKind::Route => {
            let mut names: Vec<String> = order.venues.clone().unwrap_or_default();
            if !names.iter().any(|name| name.eq_ignore_ascii_case(&order.instrument)) {
                names.insert(0, order.instrument.clone());
            }
            if names.len() < 2 {
                return Err(AlgoRefusal::new("venues", "route needs at least two instruments to choose from"));
            }
            let fees = order.taker_fees.clone().unwrap_or_default();
            if let Some(unknown) = fees.keys().find(|key| !names.iter().any(|name| name.eq_ignore_ascii_case(key))) {
                return Err(AlgoRefusal::new("taker_fees", format!("`{unknown}` is not one of the venues")));
            }
            let mut indices = Vec::with_capacity(names.len());
            for name in &names {
                let leg_index = ctx
                    .instrument_index(name)
                    .ok_or_else(|| AlgoRefusal::new("venues", format!("`{name}` is not an instrument of this run")))?;
                indices.push(leg_index);
            }
            let finest = indices.iter().map(|index| ctx.instruments()[index.get()].size_precision).max().unwrap_or(0);
            units = finest;
            let mut legs = Vec::with_capacity(names.len());
            for (name, leg_index) in names.iter().zip(indices) {
                if !has_book(leg_index) {
                    return Err(AlgoRefusal::new(
                        "venues",
                        format!("routing needs the book of {name}: subscribe to it"),
                    ));
                }
                let leg_instrument = &ctx.instruments()[leg_index.get()];
                let fee = match fees.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)) {
                    Some((_, rate)) => FeeRate::from_decimal(*rate)
                        .ok_or_else(|| AlgoRefusal::new("taker_fees", format!("{rate} is not a fee fraction")))?,
                    None => ctx.fee_rates(leg_index).map(|(_, taker)| taker).ok_or_else(|| {
                        AlgoRefusal::new(
                            "taker_fees",
                            format!("the taker fee of {name} is not known: give it in `taker_fees`"),
                        )
                    })?,
                };
                let leg_limit = match limit {
                    None => None,
                    Some(limit) => {
                        Some(RouteLeg::convert_limit(limit, instrument.price_precision, leg_instrument, side)?)
                    }
                };
                legs.push(RouteLeg::new(leg_index, leg_instrument, finest, fee, leg_limit)?);
            }
            Params::Route { legs }
        }
    };
    let precisions = (instrument.price_precision, instrument.size_precision);
    // A routed parent counts in its finest leg's units (exact: a widening by a power of ten).
    let scale = 10_i64.pow(u32::from(units - instrument.size_precision));
    let quantity = Quantity(quantity.0.checked_mul(scale).ok_or_else(|| AlgoRefusal::new("quantity", "out of range"))?);
    Ok(Spec {
        algo: order.algo,
        instrument: index,
        side,
        quantity,
        limit,
        start,
        end,
        params,
        arrival_mid,
        precisions,
        units,
    })
}
