//! [`BinanceGateway`]: live order entry on Binance spot and USD-M: signed REST requests (reqwest) built and
//! parsed by `ferrotrade_venues::trading::binance`, and the user-data stream (listen key) for order
//! updates and fills.
//!
//! # Rules it keeps
//! - Requests carry `timestamp = local ms + offset`, the offset measured from `/time` at start and again
//!   after a `-1021` (timestamp outside `recvWindow`).
//! - HTTP 429/418 (`-1003`): the request was not processed; it waits `Retry-After` (default 1 s) and
//!   sends again, at most [`MAX_ATTEMPTS`] times.
//! - A new order whose fate is unknown (a transport error, a 5xx, `-1007`) is never sent again: the
//!   gateway queries it by client id and reports what the venue says.
//! - A query whose answer is unknown too (another 5xx, a transport error) is asked again with a growing
//!   backoff ([`QUERY_BACKOFF_MIN`] doubling to [`QUERY_BACKOFF_MAX`]) until the venue answers.
//! - Pacing: every answer's `X-MBX-USED-WEIGHT-1M` (and `X-MBX-ORDER-COUNT-10S`) is read; above
//!   [`PACE_FROM`] of the budget, requests are spaced so the rest of the budget lasts until the window
//!   resets (announced once per window as a notice), so the venue's 429 is the exception, not the rule.
//! - The listen key is created at start, kept alive every 30 minutes and re-created when the venue says
//!   `listenKeyExpired` or the stream closes; after each reconnect every order still working is queried
//!   by client id, so what happened while no stream was up (fills, cancels) is caught up.
//! - Fills are counted once by cumulative filled quantity and finished orders are forgotten (but their
//!   ids remembered), as the gateways' shared order tracking (`gateway::tracking`) describes; Binance's
//!   ids are numbers. Any order state (REST answer, stream update, query) that shows more filled than
//!   its reports account for — a lost stream report, or a cancel answered before the report of the fill
//!   it crossed — is followed by the order's trade list (`myTrades` / `userTrades`), which books each
//!   missed fill as itself (trade id, price, fee, maker flag).
//! - A cancel refused as "unknown order" (`-2011`: the order is over at the venue) is followed by a
//!   query, so the OMS learns whether it filled or was cancelled.
//! - A venue refusal whose code maps to no [`RejectReason`] is reported as [`RejectReason::Venue`].
//! - Spot amends (`PUT /api/v3/order/amend/keepPriority`) can only reduce the quantity: an amend that
//!   changes the price is refused at once, without a request, as [`RejectReason::InvalidAmend`] (the
//!   built-in market maker then re-quotes by cancel and new order). USD-M amends change price and size.
//! - A cancel, amend or query of an order whose create is not answered yet waits for that answer, so
//!   it cannot overtake the create (`core`: one order's requests keep their order).
//!
//! `send` writes the request on an idle order link and returns; the rest of each command (its answer, a
//! retry, the HTTP client when no link was idle) runs as a task on the engine's `LocalSet`, started at
//! the next `poll_event` (after every order of the input has left: see `core::Deferred`), and the
//! answers come back through a channel that `poll_event` drains.

use std::cell::Cell;
use std::ops::Deref;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use ferrotrade_model::{
    ClientOrderId, Decimal, Instrument, InstrumentIndex, OrderEventKind, OrderSide, RejectReason, UnixNanos,
};
use ferrotrade_venues::trading::binance::{
    BinanceRequests, Market, parse_error, parse_order, parse_order_trades, parse_server_time,
};
use ferrotrade_venues::trading::{ApiError, FillReport, OrderRef, OrderUpdate, SignedRequest};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

mod pace;
mod stream;

use pace::Budget;
use stream::{snapshot, user_stream};

use super::core::{
    Answer, Cancel, Core, Deferred, OrderQueries, amend_answered, apply_reported, new_order, next_event, submit_failed,
};
pub use super::core::{QUERY_BACKOFF_MAX, QUERY_BACKOFF_MIN};
use super::link::Sent;
use super::tracking::{Conventions, IdScheme, Tracked};
pub use super::tracking::{FINISHED_MEMORY, SYNTHETIC_TRADE_BIT};
use super::{Gateway, GatewayCommand, GatewayEvent, Wire};
use crate::clock::WallClock;

/// Most sends of one request after rate limits or clock-window refusals.
pub const MAX_ATTEMPTS: u32 = 3;
const KEEPALIVE: Duration = Duration::from_secs(30 * 60);
/// Share of a rate-limit budget above which requests are paced.
pub const PACE_FROM: f64 = 0.8;

struct Shared {
    core: Core,
    market: Market,
    requests: BinanceRequests,
    /// Request weight per minute.
    weight: Cell<Budget>,
    /// Orders per 10 seconds.
    order_count: Cell<Budget>,
}

/// Binance order entry (see the module docs).
pub struct BinanceGateway {
    shared: Rc<Shared>,
    scope: Vec<InstrumentIndex>,
    rx: UnboundedReceiver<GatewayEvent>,
    started: bool,
    deferred: Deferred,
}

impl std::fmt::Debug for BinanceGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceGateway").field("venue", &self.shared.name).finish_non_exhaustive()
    }
}

impl BinanceGateway {
    /// A gateway for `instruments` (indexed by instrument index; `None` for other venues' instruments).
    #[must_use]
    pub fn new(
        market: Market,
        requests: BinanceRequests,
        rest: String,
        ws: String,
        instruments: Vec<Option<(String, Instrument)>>,
        clock: WallClock,
    ) -> BinanceGateway {
        let (tx, rx) = unbounded_channel();
        let name = match market {
            Market::Spot => "binance-spot",
            Market::UsdM => "binance-usdm",
        };
        let conventions = Conventions { ids: IdScheme::Numeric, await_fills: false };
        let shared = Shared {
            core: Core::new(name, &rest, &ws, instruments, clock, tx, conventions),
            market,
            requests,
            // The venues' published defaults (spot 6000 weight/min and 100 orders/10 s; USD-M 2400 and 300).
            weight: Cell::new(Budget::new(if market == Market::Spot { 6000 } else { 2400 }, 60_000)),
            order_count: Cell::new(Budget::new(if market == Market::Spot { 100 } else { 300 }, 10_000)),
        };
        let scope = shared.core.scope();
        BinanceGateway { shared: Rc::new(shared), scope, rx, started: false, deferred: Deferred::default() }
    }

    /// Overrides the rate-limit budgets the pacing assumes (the account's limits when they differ from
    /// the venue's defaults): request weight per minute and orders per 10 seconds.
    #[must_use]
    pub fn with_budgets(self, weight_per_minute: u32, orders_per_10s: u32) -> BinanceGateway {
        self.shared.weight.set(Budget::new(weight_per_minute, 60_000));
        self.shared.order_count.set(Budget::new(orders_per_10s, 10_000));
        self
    }

    /// Client ids whose state the gateway still holds (working orders and ones awaiting an answer).
    #[must_use]
    pub fn tracked_orders(&self) -> usize {
        self.shared.orders.borrow().len()
    }

    fn start(&mut self) {
        if !self.started {
            self.started = true;
            self.shared.start_links();
            tokio::task::spawn_local(user_stream(Rc::clone(&self.shared)));
        }
    }
}

impl Deref for Shared {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}

impl Shared {
    /// Waits for the request's pacing slot (see the module docs).
    async fn pace(&self, request: &SignedRequest) {
        let now = self.clock.unix_ms();
        let mut weight = self.weight.get();
        let (mut at, mut first) = weight.reserve(now);
        self.weight.set(weight);
        if request.method == "POST" && request.path.ends_with("/order") {
            let mut orders = self.order_count.get();
            let (order_at, order_first) = orders.reserve(now);
            self.order_count.set(orders);
            at = at.max(order_at);
            first |= order_first;
        }
        if at > now {
            if first {
                let (used, limit) = (self.weight.get().used, self.weight.get().limit);
                self.notice(format!("rate budget at {used}/{limit} weight per minute: pacing requests"));
            }
            tokio::time::sleep(Duration::from_millis(at - now)).await;
        }
    }

    /// Records the venue's usage headers.
    fn observe(&self, headers: &reqwest::header::HeaderMap) {
        let read = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u32>().ok());
        let now = self.clock.unix_ms();
        if let Some(used) = read("x-mbx-used-weight-1m") {
            let mut weight = self.weight.get();
            weight.observe(used, now);
            self.weight.set(weight);
        }
        if let Some(used) = read("x-mbx-order-count-10s") {
            let mut orders = self.order_count.get();
            orders.observe(used, now);
            self.order_count.set(orders);
        }
    }

    /// Sends one request and reads the venue's usage headers from its answer.
    ///
    /// # Cancel safety
    /// Not cancel safe: a request may have left when the future is dropped.
    async fn send(&self, request: &SignedRequest) -> Result<Answer, String> {
        let answer = self.core.send(request).await?;
        self.observe(&answer.headers);
        Ok(answer)
    }

    /// Sends a request built by `build(timestamp)`, retrying after rate limits and clock-window refusals.
    async fn call(&self, build: impl Fn(u64) -> SignedRequest) -> Result<Result<String, ApiError>, String> {
        self.call_after(None, build).await
    }

    /// As [`Shared::call`], the first attempt being `first` when it was already written ([`first_attempt`]).
    async fn call_after(
        &self,
        mut first: Option<Sent>,
        build: impl Fn(u64) -> SignedRequest,
    ) -> Result<Result<String, ApiError>, String> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answer = match first.take() {
                Some(sent) => {
                    let answer = sent.answer().await?;
                    self.observe(&answer.headers);
                    answer
                }
                None => {
                    // Paced before signing, so a long pacing wait cannot push the timestamp out of recvWindow.
                    self.pace(&build(0)).await;
                    self.send(&build(self.timestamp())).await?
                }
            };
            if (200..300).contains(&answer.status) {
                return Ok(Ok(answer.body));
            }
            let error = parse_error(answer.status, &answer.body);
            if attempt < MAX_ATTEMPTS && error.is_rate_limit() {
                let wait = answer
                    .headers
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse().ok())
                    .unwrap_or(1);
                self.notice(format!("rate limited, waiting {wait} s"));
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            if attempt < MAX_ATTEMPTS && error.code == -1021 {
                self.sync_time().await;
                continue;
            }
            return Ok(Err(error));
        }
    }

    /// Whether `request` may leave now without pacing (both budgets below [`PACE_FROM`], or reset).
    fn unpaced(&self, request: &SignedRequest) -> bool {
        let now = self.clock.unix_ms();
        let orders = request.method == "POST" && request.path.ends_with("/order");
        self.weight.get().free_now(now) && (!orders || self.order_count.get().free_now(now))
    }

    async fn sync_time(&self) {
        let path = match self.market {
            Market::Spot => "/api/v3/time",
            Market::UsdM => "/fapi/v1/time",
        };
        let request = SignedRequest { method: "GET", path, query: String::new(), body: None, headers: Vec::new() };
        self.core.sync_time(&request, parse_server_time).await;
    }
}

/// The request of `command`, written now when an order link is idle and no pacing is due: the times around
/// the write and the handle of its answer. `None`: the command's task sends it (a query always).
fn first_attempt(shared: &Shared, command: &GatewayCommand) -> Option<(Wire, Sent)> {
    if shared.waits_for_create(command) {
        return None;
    }
    let request = match *command {
        GatewayCommand::Submit { client_id, request } => {
            let (symbol, spec) = shared.symbol(request.instrument)?;
            shared.requests.new_order(&new_order(symbol, client_id, &request, spec), shared.timestamp()).ok()?
        }
        GatewayCommand::Cancel { client_id, instrument } => {
            let (symbol, _) = shared.symbol(instrument)?;
            shared.requests.cancel_order(symbol, &OrderRef::Client(client_id), shared.timestamp())
        }
        GatewayCommand::Amend { client_id, instrument, price, quantity } => {
            let (symbol, spec) = shared.symbol(instrument)?;
            let (side, working_price) = shared.orders.borrow().get(&client_id).map(|t| (t.side, t.price))?;
            if shared.market == Market::Spot && working_price != price.0 {
                // Refused by the command's task, without a request.
                return None;
            }
            let (price, quantity) = (
                Decimal::from_fixed(price.0, spec.price_precision),
                Decimal::from_fixed(quantity.0, spec.size_precision),
            );
            let reference = OrderRef::Client(client_id);
            shared.requests.amend_order(symbol, &reference, side, quantity, price, shared.timestamp())
        }
        GatewayCommand::Query { .. } => return None,
    };
    if !shared.unpaced(&request) {
        return None;
    }
    shared.send_now(&request)
}

async fn execute(shared: Rc<Shared>, command: GatewayCommand, first: Option<Sent>) {
    let now = || shared.clock.now();
    match command {
        GatewayCommand::Submit { client_id, request } => {
            let pending = shared.create_pending(client_id);
            let Some((symbol, spec)) = shared.symbol(request.instrument).cloned() else { return };
            let order = new_order(&symbol, client_id, &request, &spec);
            let result = shared
                .call_after(first, |ts| {
                    shared
                        .requests
                        .new_order(&order, ts)
                        .unwrap_or_else(|_| shared.requests.signed("POST", "/", "", ts))
                })
                .await;
            // Answered (or its fate unknown): what follows may query the order, and so may the waiting requests.
            drop(pending);
            match result {
                Ok(Ok(body)) => match parse_order(shared.market, &body) {
                    Ok(response) => {
                        apply_reported(&shared, &response.update, &response.fills, false).await;
                    }
                    Err(error) => {
                        shared.notice(format!("order {client_id}: unreadable answer ({error}); querying"));
                        shared.query_order(client_id, request.instrument).await;
                    }
                },
                Ok(Err(error)) => submit_failed(&shared, client_id, request.instrument, Ok(error)).await,
                Err(transport) => submit_failed(&shared, client_id, request.instrument, Err(transport)).await,
            }
        }
        GatewayCommand::Cancel { client_id, instrument } => {
            let Some((symbol, _)) = shared.symbol(instrument).cloned() else { return };
            shared.after_create(client_id).await;
            let reference = OrderRef::Client(client_id);
            let (venue, symbol, reference, first) = (&*shared, symbol.as_str(), &reference, Cell::new(first));
            let outcome = shared
                .cancel_loop(client_id, move || {
                    let sent = first.take();
                    async move { venue.call_after(sent, |ts| venue.requests.cancel_order(symbol, reference, ts)).await }
                })
                .await;
            match outcome {
                Cancel::Answered(body) => match parse_order(shared.market, &body) {
                    Ok(response) => {
                        apply_reported(&shared, &response.update, &response.fills, false).await;
                    }
                    Err(_) => {
                        shared.query_order(client_id, instrument).await;
                    }
                },
                Cancel::GoneAfterRetry => {
                    shared.query_order(client_id, instrument).await;
                }
                Cancel::Refused(error) => {
                    let reason = error.reject_reason().unwrap_or(RejectReason::UnknownOrder);
                    shared.event(client_id, instrument, OrderEventKind::CancelRejected(reason), now());
                    if error.is_unknown_order() {
                        // Over at the venue (filled, or cancelled) while the OMS still works it: its
                        // state says which, and its trade list books what filled unreported.
                        shared.query_order(client_id, instrument).await;
                    }
                }
            }
        }
        GatewayCommand::Amend { client_id, instrument, price, quantity } => {
            let Some((symbol, spec)) = shared.symbol(instrument).cloned() else { return };
            shared.after_create(client_id).await;
            let (side, working_price) = shared
                .orders
                .borrow()
                .get(&client_id)
                .map_or((OrderSide::Buy, 0), |tracked| (tracked.side, tracked.price));
            if shared.market == Market::Spot && working_price != 0 && working_price != price.0 {
                // Spot amends (`keepPriority`) only reduce the quantity: a new price is a new order.
                shared.notice(format!(
                    "amend {client_id}: spot orders cannot change price in place; cancel and place anew"
                ));
                let kind = OrderEventKind::ReplaceRejected(RejectReason::InvalidAmend);
                return shared.event(client_id, instrument, kind, now());
            }
            let reference = OrderRef::Client(client_id);
            let (price_decimal, quantity_decimal) = (
                Decimal::from_fixed(price.0, spec.price_precision),
                Decimal::from_fixed(quantity.0, spec.size_precision),
            );
            let answer = shared
                .call_after(first, |ts| {
                    shared.requests.amend_order(&symbol, &reference, side, quantity_decimal, price_decimal, ts)
                })
                .await;
            amend_answered(&shared, client_id, instrument, (price, quantity), answer).await;
        }
        GatewayCommand::Query { client_id, instrument } => {
            shared.query_order(client_id, instrument).await;
        }
    }
}

impl OrderQueries for Shared {
    /// Asks by client id (`GET .../order?origClientOrderId=`).
    async fn query_order(
        self: &Rc<Self>,
        client_id: ClientOrderId,
        instrument: InstrumentIndex,
    ) -> Option<OrderUpdate> {
        let (symbol, _) = self.symbol(instrument).cloned()?;
        let reference = OrderRef::Client(client_id);
        let (venue, symbol, reference) = (&**self, symbol.as_str(), &reference);
        let response = self
            .query_loop(client_id, instrument, move || async move {
                let body = match venue.call(|ts| venue.requests.query_order(symbol, reference, ts)).await? {
                    Ok(body) => body,
                    Err(error) => return Ok(Err(error)),
                };
                let response = parse_order(venue.market, &body).map_err(|e| format!("unreadable answer ({e})"))?;
                Ok(Ok(Some(response)))
            })
            .await?;
        apply_reported(self, &response.update, &response.fills, true).await;
        Some(response.update)
    }

    /// `GET myTrades` / `userTrades` of the order by its venue id.
    async fn order_trades(self: &Rc<Self>, update: &OrderUpdate) -> Result<Result<Vec<FillReport>, ApiError>, String> {
        let (symbol, order_id) = (update.symbol.as_str(), update.venue_order_id.as_str());
        let body = match self.call(|ts| self.requests.order_trades(symbol, order_id, ts)).await? {
            Ok(body) => body,
            Err(error) => return Ok(Err(error)),
        };
        let trades = parse_order_trades(&body).map_err(|error| format!("unreadable trade list ({error})"))?;
        Ok(Ok(trades
            .into_iter()
            .filter(|trade| trade.venue_order_id == order_id && trade.symbol.eq_ignore_ascii_case(symbol))
            .map(|trade| trade.fill)
            .collect()))
    }
}

impl Gateway for BinanceGateway {
    fn name(&self) -> &str {
        &self.shared.name
    }

    fn scope(&self) -> &[InstrumentIndex] {
        &self.scope
    }

    fn send(&mut self, command: GatewayCommand, _now: UnixNanos) -> Option<Wire> {
        self.start();
        if let GatewayCommand::Submit { client_id, request } = command {
            // Tracked before a byte leaves: the stream may report the order before its task runs.
            let tracked = Tracked::submitted(request.instrument, request.side, request.price);
            self.shared.orders.borrow_mut().insert(client_id, tracked);
        }
        let first = first_attempt(&self.shared, &command);
        let wire = first.as_ref().map(|(wire, _)| *wire);
        self.deferred.push(command, first.map(|(_, sent)| sent));
        wire
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<GatewayEvent> {
        self.start();
        let shared = &self.shared;
        self.deferred.spawn(|command, first| execute(Rc::clone(shared), command, first));
        next_event(&mut self.rx, cx)
    }

    fn request_snapshot(&mut self) {
        self.start();
        tokio::task::spawn_local(snapshot(Rc::clone(&self.shared), self.scope.clone()));
    }

    fn warm(&mut self) {
        let shared = &self.shared;
        let Some(order) = shared.warm_order() else { return };
        let ts = shared.timestamp();
        if let Ok(request) = shared.requests.new_order(&order, ts) {
            shared.warm_encode(&request);
        }
        let (reference, price) = (OrderRef::Client(order.client_id), order.price.unwrap_or(order.quantity));
        shared.warm_encode(&shared.requests.amend_order(
            &order.symbol,
            &reference,
            order.side,
            order.quantity,
            price,
            ts,
        ));
    }
}
