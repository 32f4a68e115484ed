//! Operator commands from the bus (`ferrotrade ctl`, the HTTP kill switch): status, halt, resume,
//! reduce-only, kill, set, snapshot. Each command is logged in the report's notices and answered through
//! its [`ControlRequest`].
//!
//! # Kill
//! `kill` cancels every open order, flattens every position and leaves the engine HALTED:
//! 1. trading state REDUCING (strategies may only reduce from here on), every open order cancelled;
//! 2. once no order is open, each instrument with a position gets a market order of the opposite side for
//!    its size (reduce-only where the market has it), owned by no strategy and passed through the risk
//!    chain like any other; a flattening order that leaves something (a thin book) is followed by another,
//!    at most [`FLATTEN_ATTEMPTS`] per instrument;
//! 3. when nothing is open and every position is flat, HALTED and the reply: what was cancelled and sent,
//!    and the time from the command's arrival. At the command's timeout the engine halts anyway and the
//!    reply says what is still open (`ok = false`).
//!
//! Steps are re-checked after every venue event and on the control tick, never waiting in place.

use std::time::{Duration, Instant};

use ferrotrade_bus::proto::{self, command::Command, reply::Reply};
use ferrotrade_bus::{ControlRequest, EngineEvent};
use ferrotrade_model::{
    ClientOrderId, ContractType, InstrumentIndex, OrderRequest, OrderSide, OrderType, Quantity, TimeInForce,
};
use ferrotrade_risk::TradingState;

use super::context::LiveContext;
use super::core::NO_STRATEGY;
use super::event_loop::Engine;
use super::monitor::wire_state;

/// Flattening orders per instrument before the kill gives up on it.
const FLATTEN_ATTEMPTS: u32 = 3;
/// The kill timeout when the command gives none.
const DEFAULT_KILL_TIMEOUT: Duration = Duration::from_secs(10);

/// A kill being carried out.
pub(crate) struct Kill {
    request: ControlRequest,
    deadline: Instant,
    cancelled: u32,
    flatten_orders: Vec<ClientOrderId>,
    attempts: Vec<u32>,
}

impl Engine<'_> {
    /// Carries out one command and answers it (a kill answers when it is done).
    pub(crate) fn on_command(&mut self, request: ControlRequest) {
        let name = ferrotrade_bus::command_name(&request.command);
        self.core.counters.notice(format!("command {name} from the {}", request.origin));
        match request.command.clone() {
            Command::Status(_) => {
                let status = self.engine_status();
                request.ok(Some(Reply::Status(status)));
            }
            Command::Halt(_) => self.change_state(request, TradingState::Halted, "operator halt"),
            Command::Resume(_) => self.change_state(request, TradingState::Active, "operator resume"),
            Command::ReduceOnly(_) => self.change_state(request, TradingState::Reducing, "operator reduce-only"),
            Command::Kill(kill) => self.start_kill(request, kill.timeout_ms),
            Command::Set(set) => self.set_parameter(request, &set),
            Command::Snapshot(snapshot) => {
                let depth = if snapshot.depth == 0 { 10 } else { snapshot.depth as usize };
                let snapshot = self.engine_snapshot(depth.min(ferrotrade_bus::MAX_BOOK_DEPTH));
                request.ok(Some(Reply::Snapshot(snapshot)));
            }
        }
    }

    fn change_state(&mut self, request: ControlRequest, state: TradingState, reason: &'static str) {
        if self.kill.is_some() {
            request.fail("a kill is in progress: the engine halts when it is done");
            return;
        }
        self.core.set_trading_state(state, reason);
        let status = self.engine_status();
        request.ok(Some(Reply::Status(status)));
    }

    fn set_parameter(&mut self, request: ControlRequest, set: &proto::SetCommand) {
        let Some(index) = self.strategies.iter().position(|strategy| strategy.name() == set.strategy) else {
            let known: Vec<&str> = self.strategies.iter().map(|strategy| strategy.name()).collect();
            request.fail(format!("unknown strategy {:?} (running: {})", set.strategy, known.join(", ")));
            return;
        };
        let mut ctx = LiveContext { core: &mut self.core, strategy: index as u16 };
        let result = self.strategies[index].set_parameter(&mut ctx, &set.parameter, &set.value);
        self.deliver_outbox();
        match result {
            Ok(()) => {
                self.core.counters.notice(format!("set {}.{} = {}", set.strategy, set.parameter, set.value));
                request.ok(None);
            }
            Err(error) => request.fail(error.message),
        }
    }

    fn start_kill(&mut self, request: ControlRequest, timeout_ms: u32) {
        if self.kill.is_some() {
            request.fail("a kill is already in progress");
            return;
        }
        let timeout = if timeout_ms == 0 { DEFAULT_KILL_TIMEOUT } else { Duration::from_millis(u64::from(timeout_ms)) };
        let deadline = request.received + timeout;
        self.core.set_trading_state(TradingState::Reducing, "kill");
        let cancelled = self.core.cancel_all(NO_STRATEGY, None) as u32;
        self.deliver_outbox();
        self.kill = Some(Kill {
            request,
            deadline,
            cancelled,
            flatten_orders: Vec::new(),
            attempts: vec![0; self.core.instruments.len()],
        });
        self.core.commit_journal();
        self.advance_kill();
    }

    /// The next step of a kill in progress (see the module docs).
    pub(crate) fn advance_kill(&mut self) {
        let Some(mut kill) = self.kill.take() else { return };
        let open: Vec<ClientOrderId> =
            self.core.store.iter().filter(|order| order.status.is_open()).map(|order| order.client_id).collect();
        // Orders placed since the cancel (reducing ones pass in REDUCING), or whose amend was in flight: cancel
        // them too. Those already pending a cancel only need their answer.
        let stray: Vec<ClientOrderId> = self
            .core
            .store
            .iter()
            .filter(|order| order.status.is_open() && order.status != ferrotrade_model::OrderStatus::PendingCancel)
            .map(|order| order.client_id)
            .filter(|id| !kill.flatten_orders.contains(id))
            .collect();
        if !stray.is_empty() {
            for id in stray {
                self.core.cancel(NO_STRATEGY, id);
                let pending = self.core.store.get(id).map(|order| order.status);
                // An order whose amend is in flight cannot be cancelled yet: counted when it is.
                kill.cancelled += u32::from(pending == Some(ferrotrade_model::OrderStatus::PendingCancel));
            }
            self.deliver_outbox();
        } else if open.is_empty() {
            for index in 0..self.core.instruments.len() {
                let instrument = InstrumentIndex(index as u32);
                let quantity = self.core.account.position(instrument).quantity;
                if quantity.0 == 0 || kill.attempts[index] >= FLATTEN_ATTEMPTS {
                    continue;
                }
                kill.attempts[index] += 1;
                let spot = self.core.instruments[index].contract_type == ContractType::Spot;
                let request = OrderRequest {
                    instrument,
                    side: if quantity.0 > 0 { OrderSide::Sell } else { OrderSide::Buy },
                    order_type: OrderType::Market,
                    time_in_force: TimeInForce::Ioc,
                    quantity: Quantity(quantity.0.abs()),
                    price: ferrotrade_model::Price(0),
                    trigger_price: ferrotrade_model::Price(0),
                    post_only: false,
                    reduce_only: !spot,
                };
                let id = self.core.submit(NO_STRATEGY, request);
                kill.flatten_orders.push(id);
            }
            self.core.commit_journal();
        }
        let (open_orders, open_positions) = (self.open_orders() as u32, self.open_positions() as u32);
        let done = open_orders == 0 && open_positions == 0;
        let gave_up = open_orders == 0
            && (0..self.core.instruments.len()).all(|index| {
                self.core.account.position(InstrumentIndex(index as u32)).quantity.0 == 0
                    || kill.attempts[index] >= FLATTEN_ATTEMPTS
            });
        if done || gave_up || crate::clock::now_instant() >= kill.deadline {
            self.finish_kill(kill);
        } else {
            self.kill = Some(kill);
        }
    }

    /// Halts and answers the kill with what is still open.
    fn finish_kill(&mut self, kill: Kill) {
        let (open_orders, open_positions) = (self.open_orders() as u32, self.open_positions() as u32);
        self.core.set_trading_state(TradingState::Halted, "kill");
        let report = proto::KillReport {
            cancelled: kill.cancelled,
            flatten_orders: kill.flatten_orders.len() as u32,
            open_orders,
            open_positions,
            elapsed_ns: u64::try_from(kill.request.received.elapsed().as_nanos()).unwrap_or(u64::MAX),
            state: wire_state(self.core.risk.state()) as i32,
        };
        self.core.counters.notice(format!(
            "kill: {} cancelled, {} flattening orders, {} open orders and {} positions left, {:.1} ms",
            report.cancelled,
            report.flatten_orders,
            open_orders,
            open_positions,
            report.elapsed_ns as f64 / 1e6
        ));
        let ok = open_orders == 0 && open_positions == 0;
        let error = if ok {
            String::new()
        } else {
            format!(
                "kill incomplete: {open_orders} orders still open, {open_positions} positions not flat (halted anyway)"
            )
        };
        kill.request.reply(proto::Reply { request_id: 0, ok, error, reply: Some(Reply::Kill(report)) });
    }

    /// Answers a kill still in progress when the engine stops.
    pub(crate) fn abort_kill(&mut self) {
        if let Some(kill) = self.kill.take() {
            self.finish_kill(kill);
        }
    }

    /// The status reply.
    pub(crate) fn engine_status(&self) -> proto::EngineStatus {
        let Some(link) = &self.bus else { return proto::EngineStatus::default() };
        let names = link.encoder.names();
        proto::EngineStatus {
            session: names.session.clone(),
            mode: names.mode.clone(),
            state: wire_state(self.core.risk.state()) as i32,
            uptime_ns: u64::try_from(link.started.elapsed().as_nanos()).unwrap_or(u64::MAX),
            messages: self.core.metrics.messages,
            orders: self.core.counters.orders,
            fills: self.core.counters.fills,
            open_orders: self.open_orders() as u64,
            strategies: self.core.strategy_names.clone(),
            unsynced: (0..self.core.instruments.len())
                .filter(|&index| !self.core.synced[index])
                .filter_map(|index| names.instruments.get(index).cloned())
                .collect(),
        }
    }

    /// The snapshot reply: books, positions, working orders and PnL now.
    fn engine_snapshot(&self, depth: usize) -> proto::EngineSnapshot {
        let Some(link) = &self.bus else { return proto::EngineSnapshot::default() };
        let encoder = &link.encoder;
        let now = self.core.now;
        let books = (0..self.core.instruments.len())
            .map(|index| {
                let instrument = InstrumentIndex(index as u32);
                let mut top = self.core.book_top(instrument, depth, now, now);
                top.update_id = self.feeds.iter().map(|feed| feed.last_update_id(instrument)).max().unwrap_or(0);
                encoder.book_summary(&top)
            })
            .collect();
        let marks = self.core.marks();
        let mut positions = Vec::new();
        let mut pnl = vec![ferrotrade_bus::encode::pnl_message(
            String::new(),
            &super::monitor::pnl_values(&self.core.account.pnl(&marks)),
            now,
        )];
        let owners = std::iter::once((NO_STRATEGY, &self.core.account))
            .chain(self.core.portfolios.iter().enumerate().map(|(index, portfolio)| (index as u16, portfolio)));
        for (owner, portfolio) in owners {
            for position in portfolio.positions() {
                if position.quantity.0 == 0 && position.fill_count == 0 {
                    continue;
                }
                let event = EngineEvent::Position {
                    strategy: owner,
                    instrument: position.instrument,
                    quantity: position.quantity,
                    entry_value: position.entry_value,
                    realized: position.realized_pnl,
                    fees: position.fees,
                    ts: now,
                };
                if let (_, proto::envelope::Body::Position(message)) = encoder.engine_body(event, 0, 0, 0) {
                    positions.push(message);
                }
            }
            if owner != NO_STRATEGY {
                let values = super::monitor::pnl_values(&portfolio.pnl(&marks));
                let name = self.core.strategy_names.get(usize::from(owner)).cloned().unwrap_or_default();
                pnl.push(ferrotrade_bus::encode::pnl_message(name, &values, now));
            }
        }
        let orders = self
            .core
            .store
            .iter()
            .filter(|order| order.status.is_open())
            .filter_map(|order| {
                let event = ferrotrade_model::OrderEvent {
                    client_id: order.client_id,
                    instrument: order.request.instrument,
                    kind: ferrotrade_model::OrderEventKind::Submitted,
                    ts_event: order.ts_last,
                    ts_recv: order.ts_last,
                };
                let strategy = self.core.owner_of(order.client_id).unwrap_or(NO_STRATEGY);
                let body = EngineEvent::Order {
                    strategy,
                    event,
                    request: order.request,
                    status: order.status,
                    filled: order.filled,
                };
                match encoder.engine_body(body, 0, 0, 0) {
                    (_, proto::envelope::Body::Order(mut message)) => {
                        // A snapshot shows the order's state, not an event.
                        message.kind = proto::OrderEventKind::Unspecified as i32;
                        Some(message)
                    }
                    _ => None,
                }
            })
            .collect();
        proto::EngineSnapshot { status: Some(self.engine_status()), books, positions, orders, pnl }
    }
}
