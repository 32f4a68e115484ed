//! Order tracking, shared by the live gateways: turning the venue's cumulative order states (REST answers,
//! user-stream updates, catch-up queries) into OMS events exactly once, and forgetting finished orders.
//!
//! # Rules
//! - Fills are counted by the order's cumulative filled quantity: a fill report only counts when it
//!   raises the cumulative above what was already counted.
//! - A catch-up query (after a stream gap) that shows more filled than counted is followed by the
//!   order's trade list (`myTrades`/`userTrades`, `execution/list`): each trade beyond the count is
//!   reported with its own trade id, price, fee and maker flag ([`Core::apply_catch_up`]), so a late
//!   stream report of the same trade is recognised. Only what the list cannot account for (the list is
//!   unavailable, or lags the order state) is reported as one fill at the venue's average price without a
//!   fee, with a synthetic trade id ([`SYNTHETIC_TRADE_BIT`] set), and a notice says so.
//! - Memory: the state of finished orders is dropped; only the last [`FINISHED_MEMORY`] finished client
//!   ids are remembered, to ignore late updates of them.
//! - Venues whose order state and executions come on separate channels (Bybit's `order` and `execution`
//!   topics, in no guaranteed order) set [`Conventions::await_fills`]: an order that ended with more
//!   filled than counted stays tracked, its end (`Canceled`/`Expired`) held back, until the executions
//!   arrive or a catch-up query reports the rest, so a fill is never dropped as a "late update".
//!
//! # Ids
//! The OMS numbers venue order ids and deduplicates fills on a `u64` trade id per (instrument, side).
//! Binance's ids are numbers ([`IdScheme::Numeric`]). Bybit's `orderId` and `execId` are UUID strings
//! ([`IdScheme::Hashed`], [`hashed_id`]): the two 64-bit halves of the UUID xor-ed, masked to 62 bits,
//! so every bit of the UUID counts and the ids stay below [`SYNTHETIC_TRADE_BIT`] (a real id can never
//! equal a synthetic one). Bybit's execution ids are random or hash-derived UUIDs (at least 58 of the
//! 62 kept bits vary), so two distinct fills of one (instrument, side) share an id with probability
//! about n²/2⁵⁹ for n fills: below 2·10⁻⁶ for a million. Ids that are not UUIDs (the local venue's
//! decimal ids) are hashed with FNV-1a, as stable across builds and restarts as the journal needs.

use ferrotrade_model::{
    ClientOrderId, Decimal, Fill, Instrument, InstrumentIndex, Money, OrderEventKind, OrderSide, OrderStatus, Price,
    Quantity, RejectReason, UnixNanos, VenueOrderId,
};
use ferrotrade_venues::trading::{FillReport, OrderUpdate};

use super::core::{Core, fixed};

/// Finished client ids remembered to ignore their late updates.
pub const FINISHED_MEMORY: usize = 4096;
/// Set in the trade id of a fill inferred from a catch-up query (venue trade ids stay below 2^62).
pub const SYNTHETIC_TRADE_BIT: u64 = 1 << 62;
/// The bits a hashed venue id keeps (below [`SYNTHETIC_TRADE_BIT`]).
const HASHED_MASK: u64 = SYNTHETIC_TRADE_BIT - 1;

/// How a venue's order and trade ids become the OMS's numbers (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IdScheme {
    /// Decimal numbers (Binance).
    Numeric,
    /// UUID strings, hashed to 62 bits (Bybit).
    Hashed,
}

impl IdScheme {
    fn id(self, text: &str) -> Option<u64> {
        match self {
            IdScheme::Numeric => text.parse().ok(),
            IdScheme::Hashed => (!text.is_empty()).then(|| hashed_id(text)),
        }
    }
}

/// What a venue's order states mean to the tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Conventions {
    /// The ids' spelling.
    pub(super) ids: IdScheme,
    /// Order states may report fills whose executions come later, on another channel.
    pub(super) await_fills: bool,
}

/// A venue id as a `u64` below 2^62 (see the module docs).
#[must_use]
pub(super) fn hashed_id(text: &str) -> u64 {
    let digits: String = text.chars().filter(|c| *c != '-').collect();
    let uuid = (digits.len() == 32).then(|| u128::from_str_radix(&digits, 16).ok()).flatten();
    let raw = match uuid {
        Some(value) => (value >> 64) as u64 ^ value as u64,
        None => text
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)),
    };
    raw & HASHED_MASK
}

/// What the gateway knows of one of its orders, to turn cumulative venue updates into OMS events.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tracked {
    pub(super) instrument: InstrumentIndex,
    pub(super) side: OrderSide,
    pub(super) accepted: bool,
    pub(super) venue_id: u64,
    /// Cumulative quantity already reported as fills (fixed point, the instrument's size precision).
    pub(super) counted: i64,
    /// Synthetic fills emitted so far (numbers their trade ids).
    pub(super) synthetic: u16,
    /// The end the venue reported while fills were still uncounted, and the cumulative it ended at.
    pub(super) pending_end: Option<(OrderStatus, i64)>,
    /// The limit price working at the venue (price mantissa; 0 when not known).
    pub(super) price: i64,
    /// Our create of the order has not been answered yet (it waits for pacing, or is in flight): until
    /// it is, the venue may not know the order, and its "unknown order" says nothing of the order's fate
    /// (see [`Core::after_create`]).
    pub(super) creating: bool,
}

impl Tracked {
    pub(super) fn new(instrument: InstrumentIndex, side: OrderSide, venue_id: u64) -> Tracked {
        Tracked {
            instrument,
            side,
            accepted: false,
            venue_id,
            counted: 0,
            synthetic: 0,
            pending_end: None,
            price: 0,
            creating: false,
        }
    }

    /// A new order of ours, at `price`, whose create is about to be sent.
    pub(super) fn submitted(instrument: InstrumentIndex, side: OrderSide, price: Price) -> Tracked {
        Tracked { price: price.0, creating: true, ..Tracked::new(instrument, side, 0) }
    }
}

impl Core {
    /// Whether `client_id` finished recently (its late updates are ignored).
    pub(super) fn is_finished(&self, client_id: ClientOrderId) -> bool {
        self.finished.borrow().1.contains(&client_id)
    }

    /// Drops a finished order's state, remembering its id among the last [`FINISHED_MEMORY`].
    pub(super) fn finish(&self, client_id: ClientOrderId) {
        self.orders.borrow_mut().remove(&client_id);
        let mut finished = self.finished.borrow_mut();
        let (order, set) = &mut *finished;
        if set.insert(client_id) {
            order.push_back(client_id);
        }
        while order.len() > FINISHED_MEMORY {
            if let Some(oldest) = order.pop_front() {
                set.remove(&oldest);
            }
        }
    }

    /// Reports a venue refusal of a new order and forgets the order.
    pub(super) fn reject(
        &self,
        client_id: ClientOrderId,
        instrument: InstrumentIndex,
        reason: RejectReason,
        ts: UnixNanos,
    ) {
        if !self.is_finished(client_id) {
            self.event(client_id, instrument, OrderEventKind::Rejected(reason), ts);
            self.finish(client_id);
        }
    }

    /// The venue does not know the order: it never reached the venue (rejected) or, once accepted, it
    /// is gone (cancelled).
    pub(super) fn order_unknown(&self, client_id: ClientOrderId, instrument: InstrumentIndex) {
        if self.is_finished(client_id) {
            return;
        }
        let accepted = self.orders.borrow().get(&client_id).is_some_and(|tracked| tracked.accepted);
        if accepted {
            self.event(client_id, instrument, OrderEventKind::Canceled, self.clock.now());
            self.finish(client_id);
        } else {
            self.reject(client_id, instrument, RejectReason::UnknownOrder, self.clock.now());
        }
    }

    /// Turns a venue order state (cumulative) and the fill reports that came with it into the OMS events
    /// they imply. `synthesize`: quantity the reports do not account for (a gap before them, or beyond
    /// them) is reported as one fill at the average price each (the fallback when no trade list can be
    /// had). Returns whether the order ended at the venue with fills still to be reported (its end is
    /// held back; only with [`Conventions::await_fills`]).
    pub(super) fn apply_update(&self, update: &OrderUpdate, fills: &[FillReport], synthesize: bool) -> bool {
        let Some((_, spec)) = self.index_of(&update.symbol).and_then(|index| self.symbol(index)) else { return false };
        let levels = reported_levels(update, fills, spec.size_precision);
        self.apply_levels(update, &levels, None, synthesize)
    }

    /// Whether `update` and its `fills` leave a gap: the order filled more than was counted before the
    /// first report (or at all, without reports), for an order still tracked. The venue then owes the
    /// OMS fills it did not report on this channel: lost, reordered, or still on their way.
    pub(super) fn has_gap(&self, update: &OrderUpdate, fills: &[FillReport]) -> bool {
        let (Some(client_id), Some(instrument)) = (update.client_id, self.index_of(&update.symbol)) else {
            return false;
        };
        let Some((_, spec)) = self.symbol(instrument) else { return false };
        if self.is_finished(client_id) {
            return false;
        }
        let counted = self.orders.borrow().get(&client_id).map_or(0, |tracked| tracked.counted);
        let levels = reported_levels(update, fills, spec.size_precision);
        let reported_from = match levels.first() {
            Some((report, level)) => level - fixed(report.quantity, spec.size_precision).unwrap_or(0),
            None => fixed(update.filled, spec.size_precision).unwrap_or(0),
        };
        reported_from > counted
    }

    /// A catch-up with the order's complete trade list (`trades`, oldest first, as the venue lists
    /// them): every trade beyond what was counted is reported with its own trade id, price and fee; the
    /// cumulative after each is the sum of the trades before it. Should the list lag the order state,
    /// the rest is reported at the average price as in [`Core::apply_update`]. Returns as that does.
    pub(super) fn apply_catch_up(&self, update: &OrderUpdate, trades: &[FillReport]) -> bool {
        let Some((_, spec)) = self.index_of(&update.symbol).and_then(|index| self.symbol(index)) else { return false };
        let mut level = 0;
        let levels: Vec<(&FillReport, i64)> = trades
            .iter()
            .map(|trade| {
                level += fixed(trade.quantity, spec.size_precision).unwrap_or(0);
                (trade, level)
            })
            .collect();
        self.apply_levels(update, &levels, Some(level), true)
    }

    /// Applies an order state with its fill reports, each paired with the order's cumulative filled
    /// quantity after it; `listed`: the cumulative the reports add up to when they are the order's
    /// complete trade list (the order then ended at least there).
    fn apply_levels(
        &self,
        update: &OrderUpdate,
        levels: &[(&FillReport, i64)],
        listed: Option<i64>,
        synthesize: bool,
    ) -> bool {
        let Some(client_id) = update.client_id else { return false };
        let Some(instrument) = self.index_of(&update.symbol) else { return false };
        let Some((_, spec)) = self.symbol(instrument).cloned() else { return false };
        if self.is_finished(client_id) {
            return false;
        }
        let venue_id = self.conventions.ids.id(&update.venue_order_id).unwrap_or(0);
        let mut tracked = *self.orders.borrow_mut().entry(client_id).or_insert_with(|| Tracked {
            price: fixed(update.price, spec.price_precision).unwrap_or(0),
            ..Tracked::new(instrument, update.side, venue_id)
        });
        if tracked.venue_id == 0 {
            tracked.venue_id = venue_id;
        }
        if update.status == OrderStatus::Rejected {
            let reason = update.reject_reason.as_deref().map_or(RejectReason::Venue, reason_of_text);
            self.reject(client_id, instrument, reason, update.ts_event);
            return false;
        }
        if !tracked.accepted {
            tracked.accepted = true;
            self.event(
                client_id,
                instrument,
                OrderEventKind::Accepted(VenueOrderId(tracked.venue_id)),
                update.ts_event,
            );
        }
        let stated = fixed(update.filled, spec.size_precision).unwrap_or(0);
        let cumulative = listed.map_or(stated, |listed| listed.max(stated));
        let before = tracked.counted;
        for &(report, level) in levels {
            let Some(quantity) = fixed(report.quantity, spec.size_precision) else { continue };
            if synthesize && level - quantity > tracked.counted {
                self.synthetic_fill(client_id, &mut tracked, update, level - quantity, &spec);
            }
            if level > tracked.counted
                && let Some(fill) = self.fill_of(report, client_id, &tracked, &spec)
            {
                tracked.counted = level;
                self.event(client_id, instrument, OrderEventKind::Filled(fill), report.ts_event);
            }
        }
        if listed.is_some() && tracked.counted > before {
            let booked = tracked.counted - before;
            self.notice(format!("order {client_id}: {booked} filled unreported; booked from the trade list"));
        }
        if synthesize && cumulative > tracked.counted {
            self.synthetic_fill(client_id, &mut tracked, update, cumulative, &spec);
        }
        let mut end = update.status.is_terminal().then_some(update.status);
        if let Some(status) = end
            && self.conventions.await_fills
            && cumulative > tracked.counted
        {
            tracked.pending_end = Some((status, cumulative));
            end = None;
        }
        if let Some((status, ended_at)) = tracked.pending_end
            && tracked.counted >= ended_at
        {
            end = Some(status);
        }
        match end {
            Some(OrderStatus::Canceled) => self.event(client_id, instrument, OrderEventKind::Canceled, update.ts_event),
            Some(OrderStatus::Expired) => self.event(client_id, instrument, OrderEventKind::Expired, update.ts_event),
            _ => {}
        }
        if end.is_some() {
            self.finish(client_id);
            return false;
        }
        self.orders.borrow_mut().insert(client_id, tracked);
        tracked.pending_end.is_some()
    }

    /// Reports the quantity between what was counted and `cumulative` as one fill at the order's average
    /// price, without a fee (no trade list could say better).
    fn synthetic_fill(
        &self,
        client_id: ClientOrderId,
        tracked: &mut Tracked,
        update: &OrderUpdate,
        cumulative: i64,
        spec: &Instrument,
    ) {
        let missing = cumulative - tracked.counted;
        let Some(price) = update.avg_price.and_then(|avg| fixed(avg, spec.price_precision)) else { return };
        tracked.synthetic = tracked.synthetic.wrapping_add(1);
        let trade_id =
            SYNTHETIC_TRADE_BIT | (tracked.venue_id & 0xFFFF_FFFF_FFFF) << 8 | u64::from(tracked.synthetic & 0xFF);
        self.notice(format!("order {client_id}: {missing} filled unreported; booked at the average price, no fee"));
        let fill = Fill {
            client_id,
            venue_order_id: VenueOrderId(tracked.venue_id),
            trade_id,
            instrument: tracked.instrument,
            side: tracked.side,
            price: Price(price),
            quantity: Quantity(missing),
            fee: Money::from_decimal(Decimal::ZERO),
            liquidity: ferrotrade_model::Liquidity::Maker,
            ts_event: update.ts_event,
            ts_recv: UnixNanos(0),
        };
        tracked.counted = cumulative;
        self.event(client_id, tracked.instrument, OrderEventKind::Filled(fill), update.ts_event);
    }

    fn fill_of(
        &self,
        report: &FillReport,
        client_id: ClientOrderId,
        tracked: &Tracked,
        spec: &Instrument,
    ) -> Option<Fill> {
        Some(Fill {
            client_id,
            venue_order_id: VenueOrderId(tracked.venue_id),
            trade_id: self.conventions.ids.id(&report.trade_id)?,
            instrument: tracked.instrument,
            side: tracked.side,
            price: Price(fixed(report.price, spec.price_precision)?),
            quantity: Quantity(fixed(report.quantity, spec.size_precision)?),
            fee: Money::from_decimal(report.fee),
            liquidity: report.liquidity,
            ts_event: report.ts_event,
            ts_recv: UnixNanos(0),
        })
    }
}

/// Each report of `update` (the answer's `fills`, then its `last_fill`) with the order's cumulative filled
/// quantity after it: the last one ends at the update's cumulative, each earlier one a report before.
fn reported_levels<'a>(update: &'a OrderUpdate, fills: &'a [FillReport], precision: u8) -> Vec<(&'a FillReport, i64)> {
    let mut level = fixed(update.filled, precision).unwrap_or(0);
    let mut levels: Vec<(&FillReport, i64)> = Vec::with_capacity(fills.len() + 1);
    for report in fills.iter().chain(update.last_fill.as_ref()).rev() {
        levels.push((report, level));
        level -= fixed(report.quantity, precision).unwrap_or(0);
    }
    levels.reverse();
    levels
}

/// The reason for a venue's reject text (an order update's reject reason), [`RejectReason::Venue`] when
/// nothing fits.
fn reason_of_text(text: &str) -> RejectReason {
    let upper = text.to_ascii_uppercase();
    if upper.contains("PRICE_FILTER") {
        RejectReason::InvalidTickSize
    } else if upper.contains("LOT_SIZE") {
        RejectReason::InvalidLotSize
    } else if upper.contains("NOTIONAL") {
        RejectReason::MinNotional
    } else {
        RejectReason::Venue
    }
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::{
        ClientOrderId, Decimal, Instrument, InstrumentId, Liquidity, OrderEventKind, OrderSide, OrderStatus, OrderType,
        RejectReason, TimeInForce, UnixNanos, Venue,
    };
    use ferrotrade_venues::trading::{FillReport, OrderUpdate};
    use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

    use super::{Conventions, HASHED_MASK, IdScheme, SYNTHETIC_TRADE_BIT, hashed_id, reason_of_text};
    use crate::clock::WallClock;
    use crate::gateway::GatewayEvent;
    use crate::gateway::core::Core;

    const ID: ClientOrderId = ClientOrderId(7);

    /// A Bybit-like core (hashed ids, ends held for their executions) trading XRPUSDT (lot 1).
    fn bybit_core() -> (Core, UnboundedReceiver<GatewayEvent>) {
        let (tx, rx) = unbounded_channel();
        let spec = Instrument::with_precisions(InstrumentId::new(Venue::BybitLinear, "XRPUSDT"), 4, 0);
        let conventions = Conventions { ids: IdScheme::Hashed, await_fills: true };
        let core = Core::new(
            "bybit-linear",
            "",
            "",
            vec![Some(("XRPUSDT".into(), spec))],
            WallClock::start(),
            tx,
            conventions,
        );
        (core, rx)
    }

    fn update(status: OrderStatus, filled: &str, execution: Option<(&str, &str)>) -> OrderUpdate {
        let decimal = |text: &str| Decimal::parse_str(text).expect("decimal");
        OrderUpdate {
            venue: Venue::BybitLinear,
            symbol: "XRPUSDT".into(),
            client_id: Some(ID),
            venue_order_id: "1321052653536515584".into(),
            status,
            side: OrderSide::Buy,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            price: decimal("1.9531"),
            quantity: decimal("100"),
            filled: decimal(filled),
            avg_price: Some(decimal("1.9531")),
            last_fill: execution.map(|(trade_id, quantity)| FillReport {
                trade_id: trade_id.into(),
                price: decimal("1.9531"),
                quantity: decimal(quantity),
                fee: Decimal::ZERO,
                fee_asset: "USDT".into(),
                liquidity: Liquidity::Maker,
                ts_event: UnixNanos(1),
            }),
            reject_reason: None,
            ts_event: UnixNanos(1),
        }
    }

    fn report(trade_id: &str, quantity: &str) -> FillReport {
        FillReport {
            trade_id: trade_id.into(),
            price: Decimal::parse_str("1.9531").expect("decimal"),
            quantity: Decimal::parse_str(quantity).expect("decimal"),
            fee: Decimal::ZERO,
            fee_asset: "USDT".into(),
            liquidity: Liquidity::Maker,
            ts_event: UnixNanos(1),
        }
    }

    fn kinds(rx: &mut UnboundedReceiver<GatewayEvent>) -> Vec<OrderEventKind> {
        let mut kinds = Vec::new();
        while let Ok(event) = rx.try_recv() {
            if let GatewayEvent::Order(event) = event {
                kinds.push(event.kind);
            }
        }
        kinds
    }

    #[test]
    fn an_end_reported_before_its_executions_waits_for_them_and_each_fill_counts_once() {
        let (core, mut rx) = bybit_core();
        // `order` topic: cancelled with 60 filled, before any execution arrived.
        assert!(core.apply_update(&update(OrderStatus::Canceled, "60", None), &[], false), "held for its fills");
        assert!(matches!(kinds(&mut rx).as_slice(), [OrderEventKind::Accepted(_)]));
        let exec = "7e2ae69c-4edf-5800-a352-893d52b446aa";
        assert!(core.apply_update(&update(OrderStatus::PartiallyFilled, "40", Some((exec, "40"))), &[], false));
        let first = kinds(&mut rx);
        let [OrderEventKind::Filled(fill)] = first.as_slice() else { panic!("{first:?}") };
        assert_eq!((fill.quantity.0, fill.trade_id), (40, hashed_id(exec)));
        // The same execution again (a reconnect overlap) counts nothing; the second one ends the order.
        core.apply_update(&update(OrderStatus::PartiallyFilled, "40", Some((exec, "40"))), &[], false);
        assert!(kinds(&mut rx).is_empty());
        let last = update(OrderStatus::PartiallyFilled, "60", Some(("8f3bf7ad-5fe0-6911-b463-9a4e63c557bb", "20")));
        assert!(!core.apply_update(&last, &[], false), "ended");
        let ended = kinds(&mut rx);
        assert!(
            matches!(ended.as_slice(), [OrderEventKind::Filled(f), OrderEventKind::Canceled] if f.quantity.0 == 20)
        );
        assert!(core.orders.borrow().is_empty() && core.is_finished(ID));
        // A late update of the finished order is ignored.
        core.apply_update(&update(OrderStatus::Canceled, "60", None), &[], false);
        assert!(kinds(&mut rx).is_empty());
    }

    #[test]
    fn a_catch_up_query_reports_the_missing_executions_as_one_synthetic_fill() {
        let (core, mut rx) = bybit_core();
        assert!(core.apply_update(&update(OrderStatus::Filled, "100", None), &[], false));
        kinds(&mut rx);
        assert!(!core.apply_update(&update(OrderStatus::Filled, "100", None), &[], true));
        let caught = kinds(&mut rx);
        let [OrderEventKind::Filled(fill)] = caught.as_slice() else { panic!("{caught:?}") };
        assert_eq!(fill.quantity.0, 100);
        assert_ne!(fill.trade_id & SYNTHETIC_TRADE_BIT, 0);
        // The execution arriving after the query is not counted again.
        core.apply_update(&update(OrderStatus::Filled, "100", Some(("exec", "100"))), &[], false);
        assert!(kinds(&mut rx).is_empty());
    }

    #[test]
    fn a_trade_list_books_each_missed_trade_as_itself_and_a_lagging_list_is_completed() {
        let (core, mut rx) = bybit_core();
        let (first, second) = ("7e2ae69c-4edf-5800-a352-893d52b446aa", "8f3bf7ad-5fe0-6911-b463-9a4e63c557bb");
        core.apply_update(&update(OrderStatus::PartiallyFilled, "40", Some((first, "40"))), &[], false);
        kinds(&mut rx);
        // Queried after a gap: cancelled at 60. The list holds both trades; only the second is new.
        let cancelled = update(OrderStatus::Canceled, "60", None);
        assert!(core.has_gap(&cancelled, &[]));
        let list = [report(first, "40"), report(second, "20")];
        assert!(!core.apply_catch_up(&cancelled, &list), "ended");
        let caught = kinds(&mut rx);
        let [OrderEventKind::Filled(fill), OrderEventKind::Canceled] = caught.as_slice() else { panic!("{caught:?}") };
        assert_eq!((fill.quantity.0, fill.trade_id), (20, hashed_id(second)), "booked as itself");
        assert_eq!(fill.trade_id & SYNTHETIC_TRADE_BIT, 0);

        // Another order: the list lags the state (filled 100, one trade of 70 listed): the 30 left is
        // reported at the average price.
        let (core, mut rx) = bybit_core();
        let filled = update(OrderStatus::Filled, "100", None);
        assert!(!core.apply_catch_up(&filled, &[report(first, "70")]));
        let caught = kinds(&mut rx);
        let [OrderEventKind::Accepted(_), OrderEventKind::Filled(a), OrderEventKind::Filled(b)] = caught.as_slice()
        else {
            panic!("{caught:?}")
        };
        assert_eq!((a.quantity.0, b.quantity.0), (70, 30));
        assert_ne!(b.trade_id & SYNTHETIC_TRADE_BIT, 0);
    }

    #[test]
    fn a_report_after_a_gap_is_a_gap_and_the_fallback_books_the_gap_before_the_report() {
        let (core, mut rx) = bybit_core();
        let late = update(OrderStatus::PartiallyFilled, "60", Some(("8f3bf7ad-5fe0-6911-b463-9a4e63c557bb", "20")));
        assert!(core.has_gap(&late, &[]), "40 filled before this report was never reported");
        let contiguous =
            update(OrderStatus::PartiallyFilled, "20", Some(("8f3bf7ad-5fe0-6911-b463-9a4e63c557bb", "20")));
        assert!(!core.has_gap(&contiguous, &[]));
        core.apply_update(&late, &[], true);
        let booked = kinds(&mut rx);
        let [OrderEventKind::Accepted(_), OrderEventKind::Filled(gap), OrderEventKind::Filled(reported)] =
            booked.as_slice()
        else {
            panic!("{booked:?}")
        };
        assert_eq!((gap.quantity.0, reported.quantity.0), (40, 20));
        assert_ne!(gap.trade_id & SYNTHETIC_TRADE_BIT, 0);
        assert_eq!(reported.trade_id & SYNTHETIC_TRADE_BIT, 0);
        assert!(!core.has_gap(&late, &[]), "counted now");
    }

    #[test]
    fn reject_texts_map_to_filters_or_to_the_generic_venue_reason() {
        assert_eq!(reason_of_text("Filter failure: PRICE_FILTER"), RejectReason::InvalidTickSize);
        assert_eq!(reason_of_text("Filter failure: LOT_SIZE"), RejectReason::InvalidLotSize);
        assert_eq!(reason_of_text("Filter failure: MIN_NOTIONAL"), RejectReason::MinNotional);
        assert_eq!(reason_of_text("Account has insufficient balance"), RejectReason::Venue);
        assert_eq!(RejectReason::Venue.code(), "venue_reject");
    }

    #[test]
    fn uuid_ids_keep_every_bit_and_stay_below_the_synthetic_bit() {
        // An execId from Bybit's docs, and the same with its last digit changed.
        let a = hashed_id("7e2ae69c-4edf-5800-a352-893d52b446aa");
        let b = hashed_id("7e2ae69c-4edf-5800-a352-893d52b446ab");
        assert_eq!(a, (0x7e2a_e69c_4edf_5800_u64 ^ 0xa352_893d_52b4_46aa) & HASHED_MASK);
        assert_ne!(a, b);
        assert!(a < SYNTHETIC_TRADE_BIT && b < SYNTHETIC_TRADE_BIT);
        assert_eq!(a, hashed_id("7e2ae69c4edf5800a352893d52b446aa"), "dashes do not matter");
        // Decimal ids (the local venue's) hash too, stably and distinctly.
        assert_eq!(hashed_id("1000001"), hashed_id("1000001"));
        assert_ne!(hashed_id("1000001"), hashed_id("1000002"));
        assert_eq!(IdScheme::Hashed.id(""), None);
        assert_eq!(IdScheme::Numeric.id("123"), Some(123));
    }
}
