//! Delivery to strategies: market events to their subscribers, order events to their owners, timers, and
//! the reconciliation answers.

use std::cmp::Reverse;

use ferrotrade_model::{ClientOrderId, InstrumentIndex, OrderEventKind};
use ferrotrade_strategy::{DataKind, StrategyResult};

use super::context::LiveContext;
use super::core::NO_STRATEGY;
use super::event_loop::Engine;
use crate::LiveError;
use crate::config::UnknownOrders;
use crate::feed::FeedEvent;
use crate::gateway::{GatewayCommand, GatewayEvent, VenueSnapshot};
use crate::reconcile::{Difference, diff_orders, diff_positions};

/// Position of a data kind in the per-instrument subscriber table.
pub(crate) const fn kind_slot(kind: DataKind) -> usize {
    match kind {
        DataKind::Book => 0,
        DataKind::Trades => 1,
        DataKind::Bars => 2,
        DataKind::Mark => 3,
    }
}

/// Orders younger than this are not reconciliation differences (in flight, not yet listed).
const RECONCILE_GRACE_NS: u64 = 2_000_000_000;

impl Engine<'_> {
    /// Calls `callback` for strategy `index`, then delivers the order events it caused; an error stops
    /// the run.
    fn call(
        &mut self,
        index: u16,
        callback: impl FnOnce(&mut dyn ferrotrade_strategy::Strategy, &mut LiveContext<'_>) -> StrategyResult,
    ) {
        if self.failed() {
            return;
        }
        let Some(strategy) = self.strategies.get_mut(usize::from(index)) else { return };
        let mut ctx = LiveContext { core: &mut self.core, strategy: index };
        if let Err(error) = callback(strategy.as_mut(), &mut ctx) {
            let name = strategy.name().to_owned();
            self.core.fault.get_or_insert(LiveError::Strategy { strategy: name, message: error.message });
        }
        self.deliver_outbox();
    }

    /// Whether the run must stop (a strategy error or a fault).
    pub(crate) fn failed(&self) -> bool {
        self.core.fault.is_some()
    }

    /// Delivers queued order events to their strategies, in order.
    pub(crate) fn deliver_outbox(&mut self) {
        while let Some((index, event)) = self.core.outbox.pop_front() {
            if self.failed() {
                self.core.outbox.clear();
                return;
            }
            let Some(strategy) = self.strategies.get_mut(usize::from(index)) else { continue };
            let mut ctx = LiveContext { core: &mut self.core, strategy: index };
            let mut result = strategy.on_order(&mut ctx, &event);
            if let (Ok(()), OrderEventKind::Filled(fill)) = (&result, event.kind) {
                result = strategy.on_fill(&mut ctx, &fill);
            }
            if let Err(error) = result {
                let name = strategy.name().to_owned();
                self.core.fault.get_or_insert(LiveError::Strategy { strategy: name, message: error.message });
            }
        }
    }

    /// Calls `callback` for every subscriber of `kind` on `index`. The list is moved out for the
    /// duration (no allocation per event) and put back.
    fn for_subscribers(
        &mut self,
        index: InstrumentIndex,
        kind: DataKind,
        mut callback: impl FnMut(&mut dyn ferrotrade_strategy::Strategy, &mut LiveContext<'_>) -> StrategyResult,
    ) {
        let Some(slots) = self.subscribers.get_mut(index.get()) else { return };
        let list = std::mem::take(&mut slots[kind_slot(kind)]);
        for &strategy in &list {
            self.call(strategy, &mut callback);
        }
        self.subscribers[index.get()][kind_slot(kind)] = list;
    }

    /// Dispatches the events one frame produced.
    pub(crate) fn dispatch_market(&mut self, events: &[FeedEvent]) {
        for event in events {
            let now = self.core.now;
            for gateway in &mut self.core.gateways {
                gateway.on_market(event, &self.core.books, now);
            }
            match *event {
                FeedEvent::Book { index, .. } => {
                    let good = self.core.synced.get(index.get()).copied().unwrap_or(false)
                        && !self.core.books[index.get()].is_crossed();
                    if good {
                        self.for_subscribers(index, DataKind::Book, |s, ctx| s.on_book(ctx, index));
                    }
                }
                FeedEvent::Trade { index, trade } => {
                    self.core.counters.trade(index.get(), trade.trade_id);
                    self.for_subscribers(index, DataKind::Trades, |s, ctx| s.on_trade(ctx, index, &trade));
                }
                FeedEvent::Mark { index, mark } => {
                    self.for_subscribers(index, DataKind::Mark, |s, ctx| s.on_mark(ctx, index, &mark));
                }
                FeedEvent::Bar { index, bar } => {
                    self.for_subscribers(index, DataKind::Bars, |s, ctx| s.on_bar(ctx, index, &bar));
                }
                FeedEvent::Synced { index } => {
                    if let Some(synced) = self.core.synced.get_mut(index.get()) {
                        *synced = true;
                    }
                }
                FeedEvent::Unsynced { index, .. } => {
                    if let Some(synced) = self.core.synced.get_mut(index.get()) {
                        *synced = false;
                    }
                }
                FeedEvent::Level { .. } | FeedEvent::Quote { .. } | FeedEvent::Connection { .. } => {}
            }
        }
    }

    /// Fires every strategy timer due at `self.core.now`.
    pub(crate) fn fire_timers(&mut self) {
        while let Some(Reverse(fire)) = self.core.timers.peek().copied() {
            if fire.at > self.core.now.0 || self.failed() {
                return;
            }
            self.core.timers.pop();
            if self.core.timer_is_live(&fire) {
                self.call(fire.strategy, |s, ctx| s.on_timer(ctx, fire.timer));
            }
        }
    }

    /// Handles one gateway event.
    pub(crate) fn on_gateway_event(&mut self, event: GatewayEvent) {
        match event {
            GatewayEvent::Order(order) => {
                self.core.on_venue_event(order);
                self.deliver_outbox();
            }
            GatewayEvent::Snapshot(snapshot) => {
                self.snapshots_pending = self.snapshots_pending.saturating_sub(1);
                self.reconcile(&snapshot);
            }
            GatewayEvent::Connection { up } => {
                if !up {
                    self.core.counters.gateway_disconnects += 1;
                }
            }
            GatewayEvent::Notice(text) => self.core.counters.notice(text),
        }
    }

    /// Asks the order's gateway for its state (fills it shows beyond those counted are booked from the
    /// venue's trade list).
    fn query(&mut self, client_id: ClientOrderId, instrument: InstrumentIndex) {
        if let Some(gateway) = self.core.gateway_of.get(instrument.get()).and_then(|g| self.core.gateways.get_mut(*g)) {
            gateway.send(GatewayCommand::Query { client_id, instrument }, self.core.now);
        }
    }

    /// Compares a venue snapshot with the OMS and acts on each difference.
    fn reconcile(&mut self, snapshot: &VenueSnapshot) {
        self.core.counters.reconciliations += 1;
        let mut differences = Vec::new();
        diff_orders(
            self.core.store.orders(),
            &snapshot.orders,
            &snapshot.scope,
            self.core.now,
            RECONCILE_GRACE_NS,
            &mut differences,
        );
        let positions: Vec<_> = (0..self.core.instruments.len())
            .map(|index| self.core.account.position(InstrumentIndex(index as u32)).quantity)
            .collect();
        diff_positions(&positions, &snapshot.positions, &snapshot.scope, &mut differences);
        for difference in differences {
            self.core.counters.difference(difference.code(), difference.to_string());
            match difference {
                Difference::UnknownAtVenue(order) => match self.unknown_orders {
                    UnknownOrders::Adopt => {
                        self.core.adopt(&order);
                    }
                    UnknownOrders::Cancel => {
                        let id = self.core.adopt(&order);
                        self.core.cancel(NO_STRATEGY, id);
                    }
                    UnknownOrders::Ignore => {}
                },
                Difference::MissingAtVenue { client_id, instrument } => self.query(client_id, instrument),
                // The venue filled more (or less) than the OMS counted: its state and trade list settle it.
                Difference::OrderMismatch { client_id, field: "filled", .. } => {
                    if let Some(order) = self.core.store.get(client_id) {
                        self.query(client_id, order.request.instrument);
                    }
                }
                Difference::OrderMismatch { .. } | Difference::PositionMismatch { .. } => {}
            }
        }
        self.deliver_outbox();
    }
}
