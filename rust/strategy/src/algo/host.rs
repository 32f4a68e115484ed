//! The host: a strategy wrapped with its execution algorithms, seen by the engine as one strategy.
//!
//! The engine calls the host like any strategy; the host first lets the algorithms see the event (a
//! child's order event goes only to them, a child's fill to them and then to the strategy), then calls
//! the strategy with an [`AlgoCtx`]: the engine's context plus `submit_algo` and friends, with the
//! children hidden from `open_orders`, `open_order_count` and `cancel_all`. After every callback the
//! parents' status changes are delivered to `on_algo`, so callbacks never nest.

use ferrotrade_book::OrderBook;
use ferrotrade_model::{
    Bar, ClientOrderId, FeeRate, Fill, Instrument, InstrumentIndex, MarkPrice, OrderEvent, OrderRequest, Price,
    Quantity, Trade, UnixNanos,
};
use ferrotrade_oms::{Order, ParentId, PnlSnapshot, Position};

use super::exec::{ALGO_TIMER_BIT, AlgoView, Exec};
use super::order::{AlgoOrder, AlgoRefusal};
use super::records::AlgoRecords;
use crate::context::{Context, TimerId};
use crate::subscription::Subscription;
use crate::traits::{Strategy, StrategyError, StrategyResult};

/// Wraps `strategy` with execution algorithms when it [uses them](Strategy::uses_algos); returns it
/// unchanged otherwise, so a strategy without algorithms pays nothing. Engines call this on every
/// strategy they are given.
#[must_use]
pub fn host<'s>(strategy: Box<dyn Strategy + 's>) -> Box<dyn Strategy + 's> {
    if strategy.uses_algos() {
        let subscriptions = strategy.subscriptions();
        Box::new(Host { inner: strategy, exec: Exec::new(subscriptions) })
    } else {
        strategy
    }
}

struct Host<'s> {
    inner: Box<dyn Strategy + 's>,
    exec: Exec,
}

/// The strategy's context inside a host: the engine's, plus the algorithms.
struct AlgoCtx<'a> {
    ctx: &'a mut dyn Context,
    exec: &'a mut Exec,
}

impl Host<'_> {
    /// Calls the strategy, then delivers the parents' news; a misuse found meanwhile stops the run.
    fn call(
        &mut self,
        ctx: &mut dyn Context,
        callback: impl FnOnce(&mut dyn Strategy, &mut dyn Context) -> StrategyResult,
    ) -> StrategyResult {
        let mut algo_ctx = AlgoCtx { ctx, exec: &mut self.exec };
        callback(self.inner.as_mut(), &mut algo_ctx)?;
        self.deliver(ctx)
    }

    fn deliver(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        while let Some(event) = self.exec.events.pop_front() {
            if let Some(mut view) = self.exec.view(event.parent) {
                // As of the event (a later one in the same callback may have moved the parent on).
                view.status = event.status;
                view.filled = event.filled;
                view.reason.clone_from(&event.reason);
                ctx.publish_algo(&view);
            }
            let mut algo_ctx = AlgoCtx { ctx, exec: &mut self.exec };
            self.inner.on_algo(&mut algo_ctx, &event)?;
        }
        match self.exec.fault.take() {
            Some(message) => Err(StrategyError::new(message)),
            None => Ok(()),
        }
    }
}

impl Strategy for Host<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        self.inner.subscriptions()
    }

    fn uses_algos(&self) -> bool {
        true
    }

    fn on_start(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        self.exec.on_start(ctx);
        self.call(ctx, |strategy, ctx| strategy.on_start(ctx))
    }

    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        self.exec.on_book(ctx, instrument);
        self.call(ctx, |strategy, ctx| strategy.on_book(ctx, instrument))
    }

    fn on_trade(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, trade: &Trade) -> StrategyResult {
        self.exec.on_trade(ctx, instrument, trade);
        self.call(ctx, |strategy, ctx| strategy.on_trade(ctx, instrument, trade))
    }

    fn on_bar(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, bar: &Bar) -> StrategyResult {
        self.call(ctx, |strategy, ctx| strategy.on_bar(ctx, instrument, bar))
    }

    fn on_mark(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, mark: &MarkPrice) -> StrategyResult {
        self.call(ctx, |strategy, ctx| strategy.on_mark(ctx, instrument, mark))
    }

    fn on_order(&mut self, ctx: &mut dyn Context, event: &OrderEvent) -> StrategyResult {
        if self.exec.is_child(event.client_id) {
            self.exec.on_child_order(ctx, event);
            return self.deliver(ctx);
        }
        self.call(ctx, |strategy, ctx| strategy.on_order(ctx, event))
    }

    fn on_fill(&mut self, ctx: &mut dyn Context, fill: &Fill) -> StrategyResult {
        if self.exec.is_child(fill.client_id) {
            self.exec.on_child_fill(ctx, fill);
        }
        self.call(ctx, |strategy, ctx| strategy.on_fill(ctx, fill))
    }

    fn on_timer(&mut self, ctx: &mut dyn Context, timer: TimerId) -> StrategyResult {
        if timer & ALGO_TIMER_BIT != 0 {
            self.exec.on_timer(ctx, timer);
            return self.deliver(ctx);
        }
        self.call(ctx, |strategy, ctx| strategy.on_timer(ctx, timer))
    }

    fn set_parameter(&mut self, ctx: &mut dyn Context, name: &str, value: &str) -> StrategyResult {
        self.call(ctx, |strategy, ctx| strategy.set_parameter(ctx, name, value))
    }

    fn on_algo(&mut self, ctx: &mut dyn Context, event: &super::AlgoEvent) -> StrategyResult {
        self.call(ctx, |strategy, ctx| strategy.on_algo(ctx, event))
    }

    fn on_stop(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        self.call(ctx, |strategy, ctx| strategy.on_stop(ctx))
    }

    fn take_algo_records(&mut self) -> Option<AlgoRecords> {
        Some(self.exec.take_records())
    }
}

impl Context for AlgoCtx<'_> {
    fn now(&self) -> UnixNanos {
        self.ctx.now()
    }

    fn instruments(&self) -> &[Instrument] {
        self.ctx.instruments()
    }

    fn instrument_index(&self, name: &str) -> Option<InstrumentIndex> {
        self.ctx.instrument_index(name)
    }

    fn book(&self, instrument: InstrumentIndex) -> &OrderBook {
        self.ctx.book(instrument)
    }

    fn is_synced(&self, instrument: InstrumentIndex) -> bool {
        self.ctx.is_synced(instrument)
    }

    fn position(&self, instrument: InstrumentIndex) -> Position {
        self.ctx.position(instrument)
    }

    fn pnl(&self) -> PnlSnapshot {
        self.ctx.pnl()
    }

    fn order(&self, id: ClientOrderId) -> Option<Order> {
        self.ctx.order(id)
    }

    fn open_order_count(&self, instrument: InstrumentIndex) -> usize {
        if !self.exec.has_open_children() {
            return self.ctx.open_order_count(instrument);
        }
        let mut ids = Vec::new();
        self.open_orders(instrument, &mut ids);
        ids.len()
    }

    fn open_orders(&self, instrument: InstrumentIndex, out: &mut Vec<ClientOrderId>) {
        let start = out.len();
        self.ctx.open_orders(instrument, out);
        if self.exec.has_open_children() {
            let mut keep = start;
            for index in start..out.len() {
                if !self.exec.is_child(out[index]) {
                    out[keep] = out[index];
                    keep += 1;
                }
            }
            out.truncate(keep);
        }
    }

    fn submit(&mut self, request: OrderRequest) -> ClientOrderId {
        self.ctx.submit(request)
    }

    fn cancel(&mut self, id: ClientOrderId) {
        if self.exec.is_child(id) {
            self.exec.fault.get_or_insert_with(|| {
                format!("cancel: order {id} is a child of an execution algorithm; cancel its parent with cancel_algo")
            });
            return;
        }
        self.ctx.cancel(id);
    }

    fn amend(&mut self, id: ClientOrderId, price: Price, quantity: Quantity) {
        if self.exec.is_child(id) {
            self.exec.fault.get_or_insert_with(|| format!("amend: order {id} is a child of an execution algorithm"));
            return;
        }
        self.ctx.amend(id, price, quantity);
    }

    fn cancel_all(&mut self, instrument: Option<InstrumentIndex>) {
        if !self.exec.has_open_children() {
            self.ctx.cancel_all(instrument);
            return;
        }
        let mut ids = Vec::new();
        match instrument {
            Some(instrument) => self.open_orders(instrument, &mut ids),
            None => {
                for index in 0..self.ctx.instruments().len() {
                    self.open_orders(InstrumentIndex(index as u32), &mut ids);
                }
            }
        }
        for id in ids {
            self.ctx.cancel(id);
        }
    }

    fn set_timer(&mut self, timer: TimerId, at: UnixNanos, interval_ns: u64) {
        if timer & ALGO_TIMER_BIT != 0 {
            self.exec.fault.get_or_insert_with(|| {
                format!(
                    "set_timer: timer id {timer:#x} has the top bit set, which is reserved for execution algorithms"
                )
            });
            return;
        }
        self.ctx.set_timer(timer, at, interval_ns);
    }

    fn cancel_timer(&mut self, timer: TimerId) {
        if timer & ALGO_TIMER_BIT == 0 {
            self.ctx.cancel_timer(timer);
        }
    }

    fn publish_signal(&mut self, name: &str, instrument: Option<InstrumentIndex>, value: f64) -> bool {
        self.ctx.publish_signal(name, instrument, value)
    }

    fn fee_rates(&self, instrument: InstrumentIndex) -> Option<(FeeRate, FeeRate)> {
        self.ctx.fee_rates(instrument)
    }

    fn submit_algo(&mut self, order: &AlgoOrder) -> Result<ParentId, AlgoRefusal> {
        let id = self.exec.submit(self.ctx, order)?;
        if let Some(view) = self.exec.view(id) {
            self.ctx.publish_algo(&view);
        }
        Ok(id)
    }

    fn publish_algo(&mut self, view: &AlgoView) -> bool {
        self.ctx.publish_algo(view)
    }

    fn algo(&self, id: ParentId) -> Option<AlgoView> {
        self.exec.view(id)
    }

    fn pause_algo(&mut self, id: ParentId) -> bool {
        self.exec.pause(self.ctx, id)
    }

    fn resume_algo(&mut self, id: ParentId) -> bool {
        self.exec.resume(self.ctx, id)
    }

    fn cancel_algo(&mut self, id: ParentId) -> bool {
        self.exec.cancel(self.ctx, id)
    }
}
