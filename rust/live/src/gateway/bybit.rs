//! [`BybitGateway`]: live order entry on Bybit v5 (linear and spot): signed REST requests (reqwest) built
//! and parsed by `ferrotrade_venues::trading::bybit`, and the private WebSocket (`order`, `execution`,
//! `position`, `wallet`) for order states and fills.
//!
//! # Rules it keeps
//! The same as [`super::binance::BinanceGateway`], in Bybit's terms:
//! - Requests carry `X-BAPI-TIMESTAMP = local ms + offset`, the offset measured from `/v5/market/time`
//!   at start and again after `10002` (timestamp outside the receive window).
//! - A rate limit (`retCode` 10006/10018, HTTP 429) was not processed: the request waits until
//!   `X-Bapi-Limit-Reset-Timestamp` (1 s when absent) and is sent again, at most [`MAX_ATTEMPTS`] times.
//!   Pacing: the limits are per endpoint; when an answer's `X-Bapi-Limit-Status` says nothing is left,
//!   the next request of that path waits for the reset, so 10006 is the exception, not the rule.
//! - A new order whose fate is unknown (a transport error, a 5xx, `10000`/`10016`) is never sent again:
//!   after [`FATE_SETTLE`] (Bybit creates orders asynchronously, so an immediate query could miss one
//!   that is being created) the gateway queries it by `orderLinkId` (`GET /v5/order/realtime`, which finds
//!   recently closed orders too) until the venue answers, with the shared growing backoff.
//! - A cancel is sent again until the venue answers; an amend whose answer is unknown is resolved by a
//!   query of the order.
//! - Bybit answers create/cancel/amend with the ids only; the order's state comes on the `order` topic,
//!   fills on `execution`. When the private stream is down, a cancel's answer is followed by a query so
//!   the OMS is not left waiting for the stream; when it is up but has not reported the acceptance (or
//!   the end) [`FATE_SETTLE`] after the answer, the order is queried too (a push can be lost).
//! - Fills are counted once by cumulative filled quantity whichever channel reports them first; an
//!   order whose end (`Filled`, `Cancelled`) arrives before its executions is held until they do, or
//!   queried after [`FATE_SETTLE`] (`gateway::tracking`, `await_fills`). A queried state (or an
//!   execution) that shows more filled than was reported is followed by the order's execution list
//!   (`GET /v5/execution/list`), which books each missed fill as itself. `execId` and `orderId` are
//!   UUIDs, mapped to the OMS's numbers as `gateway::tracking` documents
//!   (62-bit hashes; the collision argument is there).
//! - A cancel refused as "order does not exist" (`110001`/`170213`: over at the venue) is followed by a
//!   query, so the OMS learns whether it filled or was cancelled.
//! - The private stream authenticates (`auth`, signature valid for [`AUTH_VALIDITY`]), subscribes,
//!   pings every [`PING_EVERY`] and reconnects with a growing delay; once a reconnected stream's
//!   subscription is acknowledged, every order still tracked is queried (catch-up), so what happened
//!   while no stream was up is reported.
//! - A cancel, amend or query of an order whose create is not answered yet waits for that answer, so
//!   it cannot overtake the create (`core`: one order's requests keep their order).
//!
//! `send` writes the request on an idle order link and returns; the rest of each command (its answer, a
//! retry, the HTTP client when no link was idle) runs as a task on the engine's `LocalSet`, started at
//! the next `poll_event` (after every order of the input has left: see `core::Deferred`), and the
//! answers come back through a channel that `poll_event` drains.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ops::Deref;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use ferrotrade_model::{ClientOrderId, Decimal, Instrument, InstrumentIndex, OrderEventKind, RejectReason, UnixNanos};
use ferrotrade_venues::trading::bybit::{
    BybitRequests, Category, client_id_to_wire, parse_error, parse_executions, parse_open_orders, parse_order_ids,
    parse_server_time,
};
use ferrotrade_venues::trading::{ApiError, FillReport, OrderRef, OrderUpdate, SignedRequest};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

mod stream;

use super::core::{
    Cancel, Core, Deferred, OrderQueries, amend_answered, apply_reported, new_order, next_event, submit_failed,
};
use super::link::Sent;
use super::tracking::{Conventions, IdScheme, Tracked, hashed_id};
use super::{Gateway, GatewayCommand, GatewayEvent, Wire};
use crate::clock::WallClock;

/// Most sends of one request after rate limits or receive-window refusals.
pub const MAX_ATTEMPTS: u32 = 3;
/// Wait before querying an order whose fate is unknown, or whose end came before its executions.
pub const FATE_SETTLE: Duration = Duration::from_secs(1);
/// Keep-alive period of the private stream (Bybit's recommendation: 20 s).
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// How long a private-stream `auth` signature is valid.
pub const AUTH_VALIDITY: Duration = Duration::from_secs(10);

struct Shared {
    core: Core,
    category: Category,
    requests: BybitRequests,
    /// Per path: requests left in the venue's current window, and when it resets (venue ms).
    limits: RefCell<BTreeMap<&'static str, (u32, u64)>>,
    /// Whether the private stream is subscribed.
    stream_up: Cell<bool>,
}

impl Deref for Shared {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}

/// Bybit order entry (see the module docs).
pub struct BybitGateway {
    shared: Rc<Shared>,
    scope: Vec<InstrumentIndex>,
    rx: UnboundedReceiver<GatewayEvent>,
    started: bool,
    deferred: Deferred,
}

impl std::fmt::Debug for BybitGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BybitGateway").field("venue", &self.shared.name).finish_non_exhaustive()
    }
}

impl BybitGateway {
    /// A gateway for `instruments` (indexed by instrument index; `None` for other venues' instruments),
    /// with the REST base `rest` and the private stream's URL `ws`.
    #[must_use]
    pub fn new(
        category: Category,
        requests: BybitRequests,
        rest: String,
        ws: String,
        instruments: Vec<Option<(String, Instrument)>>,
        clock: WallClock,
    ) -> BybitGateway {
        let (tx, rx) = unbounded_channel();
        let conventions = Conventions { ids: IdScheme::Hashed, await_fills: true };
        let core = Core::new(category.venue().as_str(), &rest, &ws, instruments, clock, tx, conventions);
        let scope = core.scope();
        let shared =
            Shared { core, category, requests, limits: RefCell::new(BTreeMap::new()), stream_up: Cell::new(false) };
        BybitGateway { shared: Rc::new(shared), scope, rx, started: false, deferred: Deferred::default() }
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
            tokio::task::spawn_local(stream::private_stream(Rc::clone(&self.shared)));
        }
    }
}

impl Shared {
    /// Waits while the path's rate-limit window is used up (see the module docs).
    async fn pace(&self, path: &'static str) {
        let Some((left, reset)) = self.limits.borrow().get(path).copied() else { return };
        let now = self.timestamp();
        if left == 0 && reset > now {
            self.notice(format!("{path}: rate limit used up, waiting {} ms", reset - now));
            tokio::time::sleep(Duration::from_millis(reset - now)).await;
        }
    }

    /// Whether a request of `path` may leave now (its window is not used up).
    fn unpaced(&self, path: &'static str) -> bool {
        self.limits.borrow().get(path).is_none_or(|(left, reset)| *left > 0 || *reset <= self.timestamp())
    }

    /// Records an answer's rate-limit headers; returns the reset time (venue ms) when given.
    fn observe(&self, path: &'static str, headers: &reqwest::header::HeaderMap) -> Option<u64> {
        let read = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        let reset = read("x-bapi-limit-reset-timestamp");
        if let (Some(left), Some(reset)) = (read("x-bapi-limit-status"), reset) {
            self.limits.borrow_mut().insert(path, (u32::try_from(left).unwrap_or(u32::MAX), reset));
        }
        reset
    }

    /// Sends a request built by `build(timestamp)`, retrying after rate limits and receive-window
    /// refusals; `Ok(Err)` is the venue's refusal (`retCode` other than 0, or an HTTP error).
    ///
    /// # Cancel safety
    /// Not cancel safe: a request may have left when the future is dropped.
    async fn call(
        &self,
        build: impl Fn(u64) -> Result<SignedRequest, ferrotrade_venues::trading::TradingError>,
    ) -> Result<Result<String, ApiError>, String> {
        self.call_after(None, build).await
    }

    /// As [`Shared::call`], the first attempt being `first` when it was already written ([`first_attempt`]).
    ///
    /// # Cancel safety
    /// Not cancel safe: a request may have left when the future is dropped.
    async fn call_after(
        &self,
        mut first: Option<Sent>,
        build: impl Fn(u64) -> Result<SignedRequest, ferrotrade_venues::trading::TradingError>,
    ) -> Result<Result<String, ApiError>, String> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = build(self.timestamp()).map_err(|error| format!("building the request: {error}"))?;
            let answer = match first.take() {
                Some(sent) => sent.answer().await?,
                None => {
                    self.pace(request.path).await;
                    // Signed after pacing, so a long wait cannot push the timestamp out of the receive window.
                    let request = build(self.timestamp()).map_err(|error| format!("building the request: {error}"))?;
                    self.core.send(&request).await?
                }
            };
            let reset = self.observe(request.path, &answer.headers);
            let error = parse_error(answer.status, &answer.body);
            if answer.status == 200 && error.code == 0 {
                return Ok(Ok(answer.body));
            }
            if attempt < MAX_ATTEMPTS && error.is_rate_limit() {
                let wait = reset.map_or(1_000, |reset| reset.saturating_sub(self.timestamp()).clamp(1, 10_000));
                self.notice(format!("{}: rate limited, waiting {wait} ms", request.path));
                tokio::time::sleep(Duration::from_millis(wait)).await;
                continue;
            }
            if attempt < MAX_ATTEMPTS && error.code == 10002 {
                self.sync_time().await;
                continue;
            }
            return Ok(Err(error));
        }
    }

    async fn sync_time(&self) {
        let request = SignedRequest {
            method: "GET",
            path: "/v5/market/time",
            query: String::new(),
            body: None,
            headers: Vec::new(),
        };
        self.core.sync_time(&request, parse_server_time).await;
    }

    /// Records the venue order id a create answer returned (the `order` topic may have done it first).
    fn note_venue_id(&self, client_id: ClientOrderId, venue_order_id: &str) {
        if let Some(tracked) = self.orders.borrow_mut().get_mut(&client_id)
            && tracked.venue_id == 0
        {
            tracked.venue_id = hashed_id(venue_order_id);
        }
    }

    /// Applies an order state from the stream; an end that came before its executions is settled by a
    /// later query.
    async fn apply(self: &Rc<Self>, update: &OrderUpdate) {
        let pending = apply_reported(self, update, &[], false).await;
        self.settle_later(update, pending);
    }

    /// When `pending` (the order ended before its executions arrived), queries it after [`FATE_SETTLE`].
    fn settle_later(self: &Rc<Self>, update: &OrderUpdate, pending: bool) {
        if pending && let (Some(client_id), Some(instrument)) = (update.client_id, self.index_of(&update.symbol)) {
            tokio::task::spawn_local(settle(Rc::clone(self), client_id, instrument));
        }
    }
}

/// The request of `command`, written now when an order link is idle and the path's rate-limit window is
/// not used up: the times around the write and the handle of its answer. `None`: the command's task sends it
/// (a query always).
fn first_attempt(shared: &Shared, command: &GatewayCommand) -> Option<(Wire, Sent)> {
    if shared.waits_for_create(command) {
        return None;
    }
    let ts = shared.timestamp();
    let request = match *command {
        GatewayCommand::Submit { client_id, request } => {
            let (symbol, spec) = shared.symbol(request.instrument)?;
            shared.requests.create_order(shared.category, &new_order(symbol, client_id, &request, spec), ts).ok()?
        }
        GatewayCommand::Cancel { client_id, instrument } => {
            let (symbol, _) = shared.symbol(instrument)?;
            shared.requests.cancel_order(shared.category, symbol, &OrderRef::Client(client_id), ts).ok()?
        }
        GatewayCommand::Amend { client_id, instrument, price, quantity } => {
            let (symbol, spec) = shared.symbol(instrument)?;
            let (price, quantity) = (
                Some(Decimal::from_fixed(price.0, spec.price_precision)),
                Some(Decimal::from_fixed(quantity.0, spec.size_precision)),
            );
            let reference = OrderRef::Client(client_id);
            shared.requests.amend_order(shared.category, symbol, &reference, quantity, price, ts).ok()?
        }
        GatewayCommand::Query { .. } => return None,
    };
    if !shared.unpaced(request.path) {
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
            if let Err(error) = shared.requests.create_order(shared.category, &order, 0) {
                shared.notice(format!("order {client_id} not sent: {error}"));
                return shared.reject(client_id, request.instrument, RejectReason::Venue, now());
            }
            let answer = shared.call_after(first, |ts| shared.requests.create_order(shared.category, &order, ts)).await;
            // Answered (or its fate unknown): what follows may query the order, and so may the waiting requests.
            drop(pending);
            match answer {
                Ok(Ok(body)) => match parse_order_ids(&body) {
                    Ok(ids) => {
                        shared.note_venue_id(client_id, &ids.venue_order_id);
                        confirm(Rc::clone(&shared), client_id, request.instrument, Expect::Accepted).await;
                    }
                    Err(error) => {
                        shared.notice(format!("order {client_id}: unreadable answer ({error}); querying"));
                        shared.resolve_fate(client_id, request.instrument).await;
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
                    async move {
                        venue
                            .call_after(sent, |ts| venue.requests.cancel_order(venue.category, symbol, reference, ts))
                            .await
                    }
                })
                .await;
            match outcome {
                // The `order` topic brings the cancel (asked for if it does not); without a stream, ask.
                Cancel::Answered(_) if shared.stream_up.get() => {
                    confirm(Rc::clone(&shared), client_id, instrument, Expect::Finished).await;
                }
                Cancel::Answered(_) | Cancel::GoneAfterRetry => {
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
            let reference = OrderRef::Client(client_id);
            let (new_price, new_quantity) = (
                Decimal::from_fixed(price.0, spec.price_precision),
                Decimal::from_fixed(quantity.0, spec.size_precision),
            );
            let answer = shared
                .call_after(first, |ts| {
                    let (quantity, price) = (Some(new_quantity), Some(new_price));
                    shared.requests.amend_order(shared.category, &symbol, &reference, quantity, price, ts)
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
    /// Asks by `orderLinkId` (`GET /v5/order/realtime`); an empty list means the venue does not know
    /// the order.
    async fn query_order(
        self: &Rc<Self>,
        client_id: ClientOrderId,
        instrument: InstrumentIndex,
    ) -> Option<OrderUpdate> {
        let (symbol, _) = self.symbol(instrument).cloned()?;
        let link = client_id_to_wire(client_id);
        let query = format!("category={}&symbol={symbol}&orderLinkId={link}", self.category.as_str());
        let (venue, query) = (&**self, query.as_str());
        let update = self
            .query_loop(client_id, instrument, move || async move {
                let request = |ts| venue.requests.signed_get("/v5/order/realtime", query.to_owned(), ts);
                let body = match venue.call(request).await? {
                    Ok(body) => body,
                    Err(error) => return Ok(Err(error)),
                };
                let orders =
                    parse_open_orders(venue.category, &body).map_err(|e| format!("unreadable answer ({e})"))?;
                Ok(Ok(orders.into_iter().find(|order| order.client_id == Some(client_id))))
            })
            .await?;
        let pending = apply_reported(self, &update, &[], true).await;
        self.settle_later(&update, pending);
        Some(update)
    }

    /// `GET /v5/execution/list` of the order by its link id.
    async fn order_trades(self: &Rc<Self>, update: &OrderUpdate) -> Result<Result<Vec<FillReport>, ApiError>, String> {
        let client_id = update.client_id.ok_or("the order has no client id")?;
        let (symbol, order) = (update.symbol.as_str(), OrderRef::Client(client_id));
        let body = match self.call(|ts| self.requests.order_executions(self.category, symbol, &order, ts)).await? {
            Ok(body) => body,
            Err(error) => return Ok(Err(error)),
        };
        let trades =
            parse_executions(self.category, &body).map_err(|error| format!("unreadable execution list ({error})"))?;
        Ok(Ok(trades
            .into_iter()
            .filter(|trade| trade.venue_order_id == update.venue_order_id && trade.symbol.eq_ignore_ascii_case(symbol))
            .map(|trade| trade.fill)
            .collect()))
    }

    /// Bybit creates orders asynchronously: an immediate query could miss one being created, so it waits
    /// [`FATE_SETTLE`] first; what the query finds filled is reported (catch-up).
    async fn resolve_fate(self: &Rc<Self>, client_id: ClientOrderId, instrument: InstrumentIndex) {
        tokio::time::sleep(FATE_SETTLE).await;
        self.query_order(client_id, instrument).await;
    }
}

/// An order that ended before its executions arrived: if they have not come after [`FATE_SETTLE`], a
/// catch-up query reports the rest.
async fn settle(shared: Rc<Shared>, client_id: ClientOrderId, instrument: InstrumentIndex) {
    confirm(shared, client_id, instrument, Expect::Settled).await;
}

/// What the private stream should have reported of an order by [`FATE_SETTLE`] after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A create was answered: the order's acceptance (`order` topic, `New`).
    Accepted,
    /// A cancel was answered: the order's end.
    Finished,
    /// An end came before its executions: the executions.
    Settled,
}

/// Bybit answers create and cancel with ids only and reports the change on the private stream, which may
/// lose it: when what `expect`s has not been reported after [`FATE_SETTLE`], the order is queried (its
/// state, and the execution list for fills) so the OMS never waits on a lost push.
async fn confirm(shared: Rc<Shared>, client_id: ClientOrderId, instrument: InstrumentIndex, expect: Expect) {
    tokio::time::sleep(FATE_SETTLE).await;
    let outstanding = match (shared.orders.borrow().get(&client_id), expect) {
        (None, _) => false,
        (Some(tracked), Expect::Accepted) => !tracked.accepted,
        (Some(_), Expect::Finished) => true,
        (Some(tracked), Expect::Settled) => tracked.pending_end.is_some(),
    };
    if outstanding {
        shared.query_order(client_id, instrument).await;
    }
}

impl Gateway for BybitGateway {
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
        tokio::task::spawn_local(stream::snapshot(Rc::clone(&self.shared), self.scope.clone()));
    }

    fn warm(&mut self) {
        let shared = &self.shared;
        let Some(order) = shared.warm_order() else { return };
        let ts = shared.timestamp();
        if let Ok(request) = shared.requests.create_order(shared.category, &order, ts) {
            shared.warm_encode(&request);
        }
        let reference = OrderRef::Client(order.client_id);
        let (quantity, price) = (Some(order.quantity), order.price);
        if let Ok(request) =
            shared.requests.amend_order(shared.category, &order.symbol, &reference, quantity, price, ts)
        {
            shared.warm_encode(&request);
        }
    }
}
