//! [`Exec`]: one strategy's parent orders and the decisions that drive them.
//!
//! Every decision goes through [`Exec::drive`], called with what woke the parent (its timer, a book or
//! trade of its instruments, a child's fill or end, a resume). `drive` reads the parent's status first,
//! so a paused or closing parent never sends. New children are sent on market events, timers and fills,
//! never on a child's cancel or expiry: an IOC child that found nothing is not resent until the book
//! has moved, so a stale book cannot turn into a storm of orders.

use std::collections::{BTreeMap, VecDeque};

use ferrotrade_model::{
    ClientOrderId, Fill, InstrumentIndex, OrderEvent, OrderEventKind, OrderRequest, OrderSide, Price, Quantity,
    RejectReason, TimeInForce, Trade, UnixNanos,
};
use ferrotrade_oms::{ParentFills, ParentId, ParentStatus};

use super::order::{
    AlgoKind, AlgoOrder, AlgoRefusal, ChildStyle, Params, Peg, Spec, mid_f64, min_notional_f64, notional_f64, resolve,
};
use super::records::{AlgoRecords, ChildRecord, ParentRecord};
use super::route::{RouteLeg, allocate};
use crate::context::{Context, TimerId};
use crate::subscription::{DataKind, Subscription};

/// Timer ids with this bit belong to the algorithms (the rest of the id is the parent's).
pub const ALGO_TIMER_BIT: u64 = 1 << 63;

/// A change in a parent order's life, delivered to the strategy's `on_algo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgoEvent {
    /// The parent.
    pub parent: ParentId,
    /// Its new status (`Paused`, `Working` after a resume, or a terminal one).
    pub status: ParentStatus,
    /// Filled so far, in the parent's units.
    pub filled: Quantity,
    /// Decimals of the parent's units (`filled`).
    pub size_precision: u8,
    /// Why, for a failure or an expiry.
    pub reason: Option<String>,
}

/// A parent order as its strategy sees it (`ctx.algo(id)`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlgoView {
    /// Its id.
    pub id: ParentId,
    /// The algorithm.
    pub algo: AlgoKind,
    /// The primary instrument.
    pub instrument: InstrumentIndex,
    /// Buy or sell.
    pub side: OrderSide,
    /// Status now.
    pub status: ParentStatus,
    /// Quantity asked, in the parent's units.
    pub quantity: Quantity,
    /// Filled so far.
    pub filled: Quantity,
    /// Decimals of the parent's units (its instrument's size precision; a routed parent's finest leg's).
    pub size_precision: u8,
    /// Working in open children now (parent units).
    pub working: Quantity,
    /// Average fill price so far.
    pub average_price: Option<f64>,
    /// Children sent so far.
    pub children: u32,
    /// Why it failed or expired.
    pub reason: Option<String>,
}

/// What woke a parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    Start,
    Timer,
    Market,
    ChildFilled,
    ChildEnded,
}

impl Wake {
    const fn may_send(self) -> bool {
        !matches!(self, Wake::ChildEnded)
    }
}

#[derive(Debug, Clone, Copy)]
struct Child {
    id: ClientOrderId,
    /// Route leg (0 for single-instrument parents).
    leg: usize,
    quantity: Quantity,
    filled: Quantity,
    price: Price,
    passive: bool,
    /// The slice that sent it (scheduled algorithms).
    slice: usize,
    cancel_sent: bool,
    amend_sent: bool,
}

#[derive(Debug)]
struct Parent {
    id: ParentId,
    spec: Spec,
    status: ParentStatus,
    fills: ParentFills,
    children: Vec<Child>,
    sent: u32,
    /// Where the parent goes once its children are closed (while `Canceling`), and why.
    closing: Option<(ParentStatus, Option<String>)>,
    reason: Option<String>,
    accepted_at: u64,
    finished_at: Option<u64>,
    /// `pov`: market volume seen while working, in the parent's units.
    observed: i64,
    /// Market prints while active: volume (in value units) and notional.
    market_volume: f64,
    market_notional: f64,
    /// `twap`/`vwap` with `complete`: the end-of-life child was sent.
    final_sent: bool,
    /// `route`: sweeps sent.
    sweeps: u32,
    /// `route`: legs dropped after the risk chain denied their child.
    dropped: Vec<bool>,
    /// `chase`: the first peg price, and whether the market ran far enough from it to cross.
    anchor: Option<i64>,
    urged: bool,
    /// `chase`: its working child was amended across the spread (noted once in the child's record).
    crossed: bool,
    timer_at: u64,
}

impl Parent {
    fn working_quantity(&self) -> Quantity {
        let working = self
            .children
            .iter()
            .map(|child| {
                let open = Quantity(child.quantity.0 - child.filled.0);
                match &self.spec.params {
                    Params::Route { legs } => legs[child.leg].to_parent(open).0,
                    _ => open.0,
                }
            })
            .sum();
        Quantity(working)
    }

    /// Price and size precisions of one of the parent's instruments.
    fn precisions_of(&self, instrument: InstrumentIndex) -> (u8, u8) {
        match &self.spec.params {
            Params::Route { legs } => legs
                .iter()
                .find(|leg| leg.instrument == instrument)
                .map_or(self.spec.precisions, super::route::RouteLeg::precisions),
            _ => self.spec.precisions,
        }
    }

    fn average_price(&self) -> Option<f64> {
        self.fills.average_price_f64(|instrument| self.precisions_of(instrument))
    }

    fn trades_on(&self, instrument: InstrumentIndex) -> bool {
        match &self.spec.params {
            Params::Route { legs } => legs.iter().any(|leg| leg.instrument == instrument),
            _ => self.spec.instrument == instrument,
        }
    }
}

/// One strategy's execution algorithms.
#[derive(Debug, Default)]
pub(crate) struct Exec {
    /// Every parent, by id - 1 (terminal ones stay, for `ctx.algo` and the records).
    parents: Vec<Parent>,
    /// Indices of parents not terminal yet.
    active: Vec<usize>,
    /// Open children to their parent's index.
    child_parent: BTreeMap<ClientOrderId, usize>,
    subscriptions: Vec<Subscription>,
    books: Vec<bool>,
    trades: Vec<bool>,
    /// Events for the strategy's `on_algo`, delivered by the host after the current callback.
    pub events: VecDeque<AlgoEvent>,
    records: AlgoRecords,
    /// A misuse that stops the run (an algorithm timer id used by the strategy, an overfill).
    pub fault: Option<String>,
}

impl Exec {
    pub fn new(subscriptions: Vec<Subscription>) -> Exec {
        Exec { subscriptions, ..Exec::default() }
    }

    /// Resolves the strategy's subscriptions: which books and trades it receives.
    pub fn on_start(&mut self, ctx: &dyn Context) {
        let count = ctx.instruments().len();
        self.books = vec![false; count];
        self.trades = vec![false; count];
        for subscription in &self.subscriptions {
            if let Some(index) = ctx.instrument_index(&subscription.instrument) {
                self.books[index.get()] |= subscription.wants(DataKind::Book);
                self.trades[index.get()] |= subscription.wants(DataKind::Trades);
            }
        }
    }

    pub fn is_child(&self, id: ClientOrderId) -> bool {
        self.child_parent.contains_key(&id)
    }

    pub fn has_open_children(&self) -> bool {
        !self.child_parent.is_empty()
    }

    pub fn take_records(&mut self) -> AlgoRecords {
        // Parents still active when the run ended are recorded as they stand.
        let open: Vec<usize> = self.active.clone();
        let mut records = std::mem::take(&mut self.records);
        for index in open {
            records.parents.push(self.record(index));
        }
        records.parents.sort_by_key(|parent| parent.id);
        records
    }

    pub fn submit(&mut self, ctx: &mut dyn Context, order: &AlgoOrder) -> Result<ParentId, AlgoRefusal> {
        let books = &self.books;
        let trades = &self.trades;
        let spec = resolve(order, ctx, &|index| books.get(index.get()).copied().unwrap_or(false), &|index| {
            trades.get(index.get()).copied().unwrap_or(false)
        })?;
        let dropped = match &spec.params {
            Params::Route { legs } => vec![false; legs.len()],
            _ => Vec::new(),
        };
        let id = ParentId(self.parents.len() as u64 + 1);
        let index = self.parents.len();
        let quantity = spec.quantity;
        self.parents.push(Parent {
            id,
            spec,
            status: ParentStatus::Scheduled,
            fills: ParentFills::new(quantity),
            children: Vec::new(),
            sent: 0,
            closing: None,
            reason: None,
            accepted_at: ctx.now().0,
            finished_at: None,
            observed: 0,
            market_volume: 0.0,
            market_notional: 0.0,
            final_sent: false,
            sweeps: 0,
            dropped,
            anchor: None,
            urged: false,
            crossed: false,
            timer_at: 0,
        });
        self.active.push(index);
        self.drive(ctx, index, Wake::Start);
        Ok(id)
    }

    /// Appends `text` to the record of child `id` (what happened to it after it was sent).
    fn note_child(&mut self, id: ClientOrderId, text: &str) {
        if let Some(child) = self.records.children.iter_mut().rev().find(|child| child.client_id == id) {
            child.note.push_str(text);
        }
    }

    fn index_of(&self, id: ParentId) -> Option<usize> {
        let index = usize::try_from(id.0.checked_sub(1)?).ok()?;
        (index < self.parents.len()).then_some(index)
    }

    pub fn view(&self, id: ParentId) -> Option<AlgoView> {
        let parent = &self.parents[self.index_of(id)?];
        Some(AlgoView {
            id,
            algo: parent.spec.algo,
            instrument: parent.spec.instrument,
            side: parent.spec.side,
            status: parent.status,
            quantity: parent.spec.quantity,
            filled: parent.fills.filled(),
            size_precision: parent.spec.units,
            working: parent.working_quantity(),
            average_price: parent.average_price(),
            children: parent.sent,
            reason: parent.reason.clone(),
        })
    }

    pub fn pause(&mut self, ctx: &mut dyn Context, id: ParentId) -> bool {
        let Some(index) = self.index_of(id) else { return false };
        if !self.parents[index].status.can_become(ParentStatus::Paused) {
            return false;
        }
        self.set_status(index, ParentStatus::Paused, None);
        self.cancel_children(ctx, index);
        true
    }

    pub fn resume(&mut self, ctx: &mut dyn Context, id: ParentId) -> bool {
        let Some(index) = self.index_of(id) else { return false };
        if self.parents[index].status != ParentStatus::Paused {
            return false;
        }
        let next =
            if ctx.now().0 < self.parents[index].spec.start { ParentStatus::Scheduled } else { ParentStatus::Working };
        self.set_status(index, next, None);
        self.drive(ctx, index, Wake::Start);
        true
    }

    pub fn cancel(&mut self, ctx: &mut dyn Context, id: ParentId) -> bool {
        let Some(index) = self.index_of(id) else { return false };
        if !self.parents[index].status.can_become(ParentStatus::Canceling) {
            return false;
        }
        self.close(ctx, index, ParentStatus::Canceled, None);
        true
    }

    pub fn on_timer(&mut self, ctx: &mut dyn Context, timer: TimerId) {
        let Some(index) = self.index_of(ParentId(timer & !ALGO_TIMER_BIT)) else { return };
        self.parents[index].timer_at = 0;
        self.drive(ctx, index, Wake::Timer);
    }

    pub fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) {
        // Backwards: a parent that finishes leaves `active` without moving the ones still to visit.
        for position in (0..self.active.len()).rev() {
            let Some(&index) = self.active.get(position) else { continue };
            if self.parents[index].trades_on(instrument) {
                self.drive(ctx, index, Wake::Market);
            }
        }
    }

    pub fn on_trade(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, trade: &Trade) {
        for position in (0..self.active.len()).rev() {
            let Some(&index) = self.active.get(position) else { continue };
            let parent = &mut self.parents[index];
            if !parent.trades_on(instrument)
                || matches!(parent.status, ParentStatus::Scheduled)
                || ctx.now().0 < parent.spec.start
            {
                continue;
            }
            let (price_precision, size_precision) = precisions(ctx, instrument);
            let volume = trade.size.to_f64(size_precision);
            parent.market_volume += volume;
            parent.market_notional += volume * trade.price.to_f64(price_precision);
            if parent.status == ParentStatus::Working {
                parent.observed += match &parent.spec.params {
                    Params::Route { legs } => legs
                        .iter()
                        .find(|leg| leg.instrument == instrument)
                        .map_or(0, |leg| leg.to_parent(trade.size).0),
                    _ => trade.size.0,
                };
                if matches!(parent.spec.params, Params::Pov { .. }) {
                    self.drive(ctx, index, Wake::Market);
                }
            }
        }
    }

    /// A child's order event (not its fills: those come through [`Exec::on_child_fill`]).
    pub fn on_child_order(&mut self, ctx: &mut dyn Context, event: &OrderEvent) {
        let Some(&index) = self.child_parent.get(&event.client_id) else { return };
        let Some(slot) = self.parents[index].children.iter().position(|child| child.id == event.client_id) else {
            return;
        };
        let ended = |exec: &mut Exec, slot: usize| {
            let child = exec.parents[index].children.swap_remove(slot);
            exec.child_parent.remove(&child.id);
        };
        match event.kind {
            OrderEventKind::Denied(RejectReason::RateLimit) => {
                ended(self, slot);
                self.drive(ctx, index, Wake::ChildEnded);
            }
            OrderEventKind::Denied(reason) if !self.parents[index].dropped.is_empty() => {
                // Routing respects each venue's limits: a venue whose child is denied leaves the route,
                // the rest goes to the others (one more sweep), and the parent fails only without venues.
                let leg = self.parents[index].children[slot].leg;
                ended(self, slot);
                let parent = &mut self.parents[index];
                parent.dropped[leg] = true;
                parent.sweeps = 0;
                let all_dropped = parent.dropped.iter().all(|dropped| *dropped);
                self.note_child(
                    event.client_id,
                    &format!(" -- denied by the risk chain ({reason}): the venue leaves the route"),
                );
                if all_dropped {
                    self.close(
                        ctx,
                        index,
                        ParentStatus::Failed,
                        Some(format!("the risk chain denied a child on every venue (last: {reason})")),
                    );
                } else {
                    self.drive(ctx, index, Wake::ChildEnded);
                }
            }
            OrderEventKind::Denied(reason) => {
                ended(self, slot);
                self.close(
                    ctx,
                    index,
                    ParentStatus::Failed,
                    Some(format!("a child was denied by the risk chain: {reason}")),
                );
            }
            OrderEventKind::Rejected(reason) => {
                ended(self, slot);
                self.close(ctx, index, ParentStatus::Failed, Some(format!("the venue rejected a child: {reason}")));
            }
            OrderEventKind::Canceled | OrderEventKind::Expired => {
                ended(self, slot);
                self.drive(ctx, index, Wake::ChildEnded);
            }
            OrderEventKind::Replaced { price, quantity } => {
                let child = &mut self.parents[index].children[slot];
                child.price = price;
                child.quantity = quantity;
                child.amend_sent = false;
            }
            OrderEventKind::ReplaceRejected(_) => self.parents[index].children[slot].amend_sent = false,
            OrderEventKind::CancelRejected(_) => self.parents[index].children[slot].cancel_sent = false,
            OrderEventKind::Submitted
            | OrderEventKind::Accepted(_)
            | OrderEventKind::PendingCancel
            | OrderEventKind::PendingReplace
            | OrderEventKind::Triggered
            | OrderEventKind::Filled(_) => {}
        }
    }

    pub fn on_child_fill(&mut self, ctx: &mut dyn Context, fill: &Fill) {
        let Some(&index) = self.child_parent.get(&fill.client_id) else { return };
        let parent = &mut self.parents[index];
        let Some(slot) = parent.children.iter().position(|child| child.id == fill.client_id) else { return };
        let in_parent = match &parent.spec.params {
            Params::Route { legs } => legs[parent.children[slot].leg].to_parent(fill.quantity),
            _ => fill.quantity,
        };
        if let Err(error) = parent.fills.apply(fill, in_parent) {
            self.fault.get_or_insert_with(|| format!("parent {}: {error}", parent.id));
            return;
        }
        let child = &mut parent.children[slot];
        child.filled = Quantity(child.filled.0 + fill.quantity.0);
        if child.filled >= child.quantity {
            let child = parent.children.swap_remove(slot);
            self.child_parent.remove(&child.id);
        }
        self.drive(ctx, index, Wake::ChildFilled);
    }

    fn set_status(&mut self, index: usize, status: ParentStatus, reason: Option<String>) {
        let parent = &mut self.parents[index];
        if parent.status == status {
            return;
        }
        debug_assert!(parent.status.can_become(status), "{} -> {status}", parent.status);
        parent.status = status;
        if reason.is_some() {
            parent.reason.clone_from(&reason);
        }
        if matches!(status, ParentStatus::Paused | ParentStatus::Working) || status.is_terminal() {
            self.events.push_back(AlgoEvent {
                parent: parent.id,
                status,
                filled: parent.fills.filled(),
                size_precision: parent.spec.units,
                reason,
            });
        }
    }

    fn cancel_children(&mut self, ctx: &mut dyn Context, index: usize) {
        for child in &mut self.parents[index].children {
            if !child.cancel_sent {
                child.cancel_sent = true;
                ctx.cancel(child.id);
            }
        }
    }

    /// Ends the parent with `status` once its children are closed (at once when none is open).
    fn close(&mut self, ctx: &mut dyn Context, index: usize, status: ParentStatus, reason: Option<String>) {
        if self.parents[index].status.is_terminal() {
            return;
        }
        if self.parents[index].children.is_empty() {
            self.finish(ctx, index, status, reason);
            return;
        }
        if self.parents[index].status != ParentStatus::Canceling {
            self.set_status(index, ParentStatus::Canceling, None);
        }
        self.parents[index].closing = Some((status, reason));
        self.cancel_children(ctx, index);
    }

    fn finish(&mut self, ctx: &mut dyn Context, index: usize, status: ParentStatus, reason: Option<String>) {
        let status = if self.parents[index].fills.is_complete() { ParentStatus::Completed } else { status };
        let reason = if status == ParentStatus::Completed { None } else { reason };
        self.set_status(index, status, reason);
        let parent = &mut self.parents[index];
        parent.finished_at = Some(ctx.now().0);
        parent.closing = None;
        if parent.timer_at != 0 {
            ctx.cancel_timer(ALGO_TIMER_BIT | parent.id.0);
            parent.timer_at = 0;
        }
        self.active.retain(|active| *active != index);
        let record = self.record(index);
        self.records.parents.push(record);
    }

    fn record(&self, index: usize) -> ParentRecord {
        let parent = &self.parents[index];
        let has_trades = match &parent.spec.params {
            Params::Route { legs } => {
                legs.iter().all(|leg| self.trades.get(leg.instrument.get()).copied().unwrap_or(false))
            }
            _ => self.trades.get(parent.spec.instrument.get()).copied().unwrap_or(false),
        };
        ParentRecord {
            id: parent.id,
            algo: parent.spec.algo,
            instrument: parent.spec.instrument,
            side: parent.spec.side,
            quantity: parent.spec.quantity,
            filled: parent.fills.filled(),
            size_precision: parent.spec.units,
            limit_price: parent.spec.limit,
            accepted_at: UnixNanos(parent.accepted_at),
            start: UnixNanos(parent.spec.start),
            end: parent.spec.end.map(UnixNanos),
            finished_at: parent.finished_at.map(UnixNanos),
            status: parent.status,
            reason: parent.reason.clone(),
            arrival_price: parent.spec.arrival_mid,
            average_price: parent.average_price(),
            market_volume: has_trades.then_some(parent.market_volume),
            market_vwap: (has_trades && parent.market_volume > 0.0)
                .then(|| parent.market_notional / parent.market_volume),
            fees: parent.fills.fees(),
            children: parent.sent,
            fills: parent.fills.fill_count(),
        }
    }

    fn arm(&mut self, ctx: &mut dyn Context, index: usize, at: Option<u64>) {
        let parent = &mut self.parents[index];
        let Some(at) = at else { return };
        if parent.timer_at == at {
            return;
        }
        parent.timer_at = at;
        ctx.set_timer(ALGO_TIMER_BIT | parent.id.0, UnixNanos(at), 0);
    }

    /// The one place decisions are made.
    #[allow(clippy::too_many_lines)]
    fn drive(&mut self, ctx: &mut dyn Context, index: usize, wake: Wake) {
        let now = ctx.now().0;
        match self.parents[index].status {
            ParentStatus::Scheduled => {
                if now < self.parents[index].spec.start {
                    let start = self.parents[index].spec.start;
                    self.arm(ctx, index, Some(start));
                    return;
                }
                self.set_status(index, ParentStatus::Working, None);
                // A start is not news to the strategy: it asked for it.
                self.events.pop_back();
            }
            ParentStatus::Working => {}
            ParentStatus::Canceling => {
                if self.parents[index].children.is_empty() {
                    let (status, reason) = self.parents[index].closing.take().unwrap_or((ParentStatus::Canceled, None));
                    self.finish(ctx, index, status, reason);
                }
                return;
            }
            ParentStatus::Paused
            | ParentStatus::Completed
            | ParentStatus::Canceled
            | ParentStatus::Expired
            | ParentStatus::Failed => return,
        }
        let parent = &self.parents[index];
        if parent.fills.is_complete() && parent.children.is_empty() {
            self.finish(ctx, index, ParentStatus::Completed, None);
            return;
        }
        if let Some(end) = parent.spec.end.filter(|end| now >= *end) {
            let complete = matches!(parent.spec.params, Params::Scheduled { complete: true, .. });
            let remaining = parent.fills.remaining();
            if complete && !parent.final_sent && remaining.0 > 0 {
                if parent.children.is_empty() {
                    self.parents[index].final_sent = true;
                    let side = self.parents[index].spec.side;
                    let limit = self.parents[index].spec.limit;
                    let instrument = self.parents[index].spec.instrument;
                    let request = marketable(instrument, side, limit, remaining);
                    self.send(ctx, index, 0, request, usize::MAX, "completion at the end time".to_owned());
                } else {
                    self.cancel_children(ctx, index);
                }
                return;
            }
            if complete && self.parents[index].final_sent && !self.parents[index].children.is_empty() {
                return;
            }
            let left = remaining.display(self.parents[index].spec.units);
            let _ = end;
            self.close(ctx, index, ParentStatus::Expired, Some(format!("the end time came with {left} left")));
            return;
        }
        let end = parent.spec.end;
        match parent.spec.params.clone() {
            Params::Scheduled { schedule, child, .. } => {
                let due = schedule.due_at(now);
                let slice = schedule.slices_due(now);
                let next = schedule.next_after(now);
                self.arm(ctx, index, next.or(end));
                let parent = &self.parents[index];
                if let Some(working) = parent.children.first().copied() {
                    // A passive child left over from an earlier slice is canceled; its rest goes with the next.
                    if working.passive && working.slice < slice && !working.cancel_sent {
                        self.cancel_children(ctx, index);
                    }
                    return;
                }
                let deficit = due.0 - parent.fills.filled().0;
                if deficit <= 0 || !wake.may_send() {
                    return;
                }
                let Some(request) = self.child_request(ctx, index, child, Quantity(deficit)) else { return };
                let note = format!("slice {slice}/{}", schedule.times.len());
                self.send(ctx, index, 0, request, slice, note);
            }
            Params::Pov { rate, min_child, max_child, child } => {
                self.arm(ctx, index, end);
                let parent = &self.parents[index];
                if !parent.children.is_empty() || !wake.may_send() {
                    return;
                }
                let lot = ctx.instruments()[parent.spec.instrument.get()].lot_size.0.max(1);
                #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
                let target = ((parent.observed as f64 * rate) as i64).min(parent.spec.quantity.0);
                let deficit = (target - parent.fills.filled().0) / lot * lot;
                if deficit < min_child.0 {
                    return;
                }
                let size = Quantity(deficit.min(max_child.0).min(parent.fills.remaining().0));
                let Some(request) = self.child_request(ctx, index, child, size) else { return };
                let observed = Quantity(self.parents[index].observed).display(self.parents[index].spec.units);
                let note = format!("{:.1} % of {observed} traded since the start", rate * 100.0);
                self.send(ctx, index, 0, request, 0, note);
            }
            Params::Iceberg { display } => {
                self.arm(ctx, index, end);
                let parent = &self.parents[index];
                if !parent.children.is_empty() || !wake.may_send() {
                    return;
                }
                let size = Quantity(display.0.min(parent.fills.remaining().0));
                let price = parent.spec.limit.unwrap_or(Price::ZERO);
                let request = OrderRequest::limit(parent.spec.instrument, parent.spec.side, price, size);
                let note = format!("showing {}", size.display(precisions(ctx, parent.spec.instrument).1));
                self.send(ctx, index, 0, request, 0, note);
            }
            Params::Chase { peg, offset_ticks, reprice_ticks, cross_at, cross_after_ticks } => {
                let timed_out = cross_at.is_some_and(|at| now >= at);
                self.arm(ctx, index, cross_at.filter(|at| *at > now).or(end));
                let instrument = self.parents[index].spec.instrument;
                let side = self.parents[index].spec.side;
                let limit = self.parents[index].spec.limit;
                let tick = ctx.instruments()[instrument.get()].tick_size.0.max(1);
                // Urgency: how far the peg ran from where the chase started, against us.
                if let (Some(ticks), Some(near)) =
                    (cross_after_ticks, peg_price(ctx, instrument, side, peg, offset_ticks, None))
                {
                    let parent = &mut self.parents[index];
                    let anchor = *parent.anchor.get_or_insert(near.0);
                    let away = if side == OrderSide::Buy { near.0 - anchor } else { anchor - near.0 };
                    parent.urged |= away >= ticks * tick;
                }
                let parent = &self.parents[index];
                let crossing = timed_out || parent.urged;
                let Some(price) =
                    peg_price(ctx, instrument, side, if crossing { Peg::Far } else { peg }, offset_ticks, limit)
                else {
                    return;
                };
                match parent.children.first().copied() {
                    None if wake.may_send() => {
                        let request =
                            OrderRequest::limit(instrument, parent.spec.side, price, parent.fills.remaining());
                        let note = match (timed_out, parent.urged) {
                            (true, _) => "crossing after the timeout".to_owned(),
                            (false, true) => "crossing: the market ran away from the peg".to_owned(),
                            (false, false) => format!("pegged to {peg:?}"),
                        };
                        self.send(ctx, index, 0, request, 0, note);
                    }
                    Some(working)
                        if !working.amend_sent
                            && !working.cancel_sent
                            && (price.0 - working.price.0).abs() >= reprice_ticks * tick =>
                    {
                        ctx.amend(working.id, price, working.quantity);
                        self.parents[index].children[0].amend_sent = true;
                        if crossing && !self.parents[index].crossed {
                            self.parents[index].crossed = true;
                            let why = if timed_out { "the timeout" } else { "the market ran away from the peg" };
                            self.note_child(working.id, &format!(" -- crossed by amend after {why}"));
                        }
                    }
                    None | Some(_) => {}
                }
            }
            Params::Route { legs } => {
                self.arm(ctx, index, end);
                let parent = &self.parents[index];
                if !parent.children.is_empty() || !wake.may_send() {
                    return;
                }
                if end.is_none() && parent.sweeps > 0 {
                    let left = parent.fills.remaining().display(parent.spec.units);
                    self.close(
                        ctx,
                        index,
                        ParentStatus::Expired,
                        Some(format!("one sweep took what the books had within the limit; {left} left")),
                    );
                    return;
                }
                let (usable, positions): (Vec<RouteLeg>, Vec<usize>) = legs
                    .iter()
                    .enumerate()
                    .filter(|(position, _)| !parent.dropped.get(*position).copied().unwrap_or(false))
                    .map(|(position, leg)| (leg.clone(), position))
                    .unzip();
                let slices = allocate(&usable, |leg| ctx.book(leg), parent.spec.side, parent.fills.remaining());
                let side = parent.spec.side;
                let mut sent = false;
                for mut slice in slices {
                    slice.leg = positions[slice.leg];
                    let leg = &legs[slice.leg];
                    if slice.quantity.0 == 0 {
                        continue;
                    }
                    let mut request = OrderRequest::limit(leg.instrument, side, slice.price, slice.quantity);
                    request.time_in_force = TimeInForce::Ioc;
                    let note = format!("{}: {}", leg.name, slice.reason);
                    self.send(ctx, index, slice.leg, request, 0, note);
                    sent = true;
                }
                if sent {
                    self.parents[index].sweeps += 1;
                } else if end.is_none() {
                    self.close(
                        ctx,
                        index,
                        ParentStatus::Expired,
                        Some("no venue has liquidity within the limit".to_owned()),
                    );
                }
            }
        }
    }

    /// A child of `style` for `size`, priced from the book; `None` when the book cannot price it or it
    /// would be below the minimum notional (the quantity then waits for the next decision).
    fn child_request(
        &self,
        ctx: &dyn Context,
        index: usize,
        style: ChildStyle,
        size: Quantity,
    ) -> Option<OrderRequest> {
        let parent = &self.parents[index];
        let instrument = parent.spec.instrument;
        let side = parent.spec.side;
        let request = match style {
            ChildStyle::Market => marketable(instrument, side, parent.spec.limit, size),
            ChildStyle::Aggressive => {
                let price = peg_price(ctx, instrument, side, Peg::Far, 0, parent.spec.limit)?;
                let mut request = OrderRequest::limit(instrument, side, price, size);
                request.time_in_force = TimeInForce::Ioc;
                request
            }
            ChildStyle::Passive => {
                let price = peg_price(ctx, instrument, side, Peg::Touch, 0, parent.spec.limit)?;
                OrderRequest::limit(instrument, side, price, size)
            }
        };
        let spec = &ctx.instruments()[instrument.get()];
        let price =
            if request.price.0 > 0 { request.price.to_f64(spec.price_precision) } else { mid_f64(ctx, instrument)? };
        (notional_f64(spec, price, size) >= min_notional_f64(spec)).then_some(request)
    }

    fn send(
        &mut self,
        ctx: &mut dyn Context,
        index: usize,
        leg: usize,
        request: OrderRequest,
        slice: usize,
        note: String,
    ) {
        let id = ctx.submit(request);
        let parent = &mut self.parents[index];
        parent.sent += 1;
        parent.children.push(Child {
            id,
            leg,
            quantity: request.quantity,
            filled: Quantity::ZERO,
            price: request.price,
            passive: request.time_in_force == TimeInForce::Gtc,
            slice,
            cancel_sent: false,
            amend_sent: false,
        });
        self.child_parent.insert(id, index);
        self.records.children.push(ChildRecord {
            parent: parent.id,
            client_id: id,
            instrument: request.instrument,
            sent_at: ctx.now(),
            quantity: request.quantity,
            price: request.price,
            note,
        });
    }
}

/// Price and size precisions of `instrument`.
fn precisions(ctx: &dyn Context, instrument: InstrumentIndex) -> (u8, u8) {
    ctx.instruments().get(instrument.get()).map_or((0, 0), |spec| (spec.price_precision, spec.size_precision))
}

/// A child that takes liquidity now: a market order, or an IOC limit at the parent's limit.
fn marketable(instrument: InstrumentIndex, side: OrderSide, limit: Option<Price>, size: Quantity) -> OrderRequest {
    match limit {
        None => OrderRequest::market(instrument, side, size),
        Some(limit) => {
            let mut request = OrderRequest::limit(instrument, side, limit, size);
            request.time_in_force = TimeInForce::Ioc;
            request
        }
    }
}

/// The price of a child pegged to `peg` plus `offset_ticks` towards the far side, never beyond `limit`;
/// a near or mid peg never crosses the spread. `None` without the sides it needs.
fn peg_price(
    ctx: &dyn Context,
    instrument: InstrumentIndex,
    side: OrderSide,
    peg: Peg,
    offset_ticks: i64,
    limit: Option<Price>,
) -> Option<Price> {
    let book = ctx.book(instrument);
    let tick = ctx.instruments().get(instrument.get())?.tick_size.0.max(1);
    let (bid, ask) = (book.best_bid().map(|level| level.price.0), book.best_ask().map(|level| level.price.0));
    let buy = side == OrderSide::Buy;
    let toward_far = if buy { offset_ticks * tick } else { -offset_ticks * tick };
    let base = match (peg, buy) {
        (Peg::Touch, true) => bid?,
        (Peg::Touch, false) => ask?,
        (Peg::Far, true) => ask?,
        (Peg::Far, false) => bid?,
        (Peg::Mid, _) => {
            let sum = bid? + ask?;
            // The mid on the tick grid, rounded to the passive side.
            if buy { (sum / 2).div_euclid(tick) * tick } else { -(-(sum + 1) / 2).div_euclid(tick) * tick }
        }
    };
    let mut price = base + toward_far;
    if peg != Peg::Far {
        // Near and mid pegs stay passive: at most one tick inside the far touch.
        match (buy, bid, ask) {
            (true, _, Some(ask)) => price = price.min(ask - tick),
            (false, Some(bid), _) => price = price.max(bid + tick),
            _ => {}
        }
    }
    if let Some(limit) = limit {
        price = if buy { price.min(limit.0) } else { price.max(limit.0) };
    }
    (price > 0).then_some(Price(price))
}
