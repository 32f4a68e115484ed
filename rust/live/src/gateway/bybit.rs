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
//!   the OMS is not left waiting for the stream.
//! - Fills are counted once by cumulative filled quantity whichever channel reports them first; an
//!   order whose end (`Filled`, `Cancelled`) arrives before its executions is held until they do, or
//!   queried after [`FATE_SETTLE`] (`gateway::tracking`, `await_fills`). `execId` and `orderId` are
//!   UUIDs, mapped to the OMS's numbers as `gateway::tracking` documents
//!   (62-bit hashes; the collision argument is there).
//! - The private stream authenticates (`auth`, signature valid for [`AUTH_VALIDITY`]), subscribes,
//!   pings every [`PING_EVERY`] and reconnects with a growing delay; once a reconnected stream's
//!   subscription is acknowledged, every order still tracked is queried (catch-up), so what happened
//!   while no stream was up is reported.
//!
//! Each command runs as a task on the engine's `LocalSet` (`spawn_local`): `send` returns at once and
//! the answers come back through a channel that `poll_event` drains.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ops::Deref;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use ferrotrade_model::{ClientOrderId, Decimal, Instrument, InstrumentIndex, OrderEventKind, RejectReason, UnixNanos};
use ferrotrade_venues::trading::bybit::{
    BybitRequests, Category, client_id_to_wire, parse_error, parse_open_orders, parse_order_ids, parse_server_time,
};
use ferrotrade_venues::trading::{ApiError, OrderRef, OrderUpdate, SignedRequest};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

mod stream;

use super::core::{Cancel, Core, OrderQueries, amend_answered, new_order, next_event, submit_failed};
use super::tracking::{Conventions, IdScheme, Tracked, hashed_id};
use super::{Gateway, GatewayCommand, GatewayEvent};
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
        BybitGateway { shared: Rc::new(shared), scope, rx, started: false }
    }

    /// Client ids whose state the gateway still holds (working orders and ones awaiting an answer).
    #[must_use]
    pub fn tracked_orders(&self) -> usize {
        self.shared.orders.borrow().len()
    }

    fn start(&mut self) {
        if !self.started {
            self.started = true;
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
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = build(self.timestamp()).map_err(|error| format!("building the request: {error}"))?;
            self.pace(request.path).await;
            // Signed after pacing, so a long wait cannot push the timestamp out of the receive window.
            let request = build(self.timestamp()).map_err(|error| format!("building the request: {error}"))?;
            let answer = self.core.send(&request).await?;
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

    /// Applies an order state from the stream or a query; an end that came before its executions is
    /// settled by a later query.
    fn apply(self: &Rc<Self>, update: &OrderUpdate, catch_up: bool) {
        if self.apply_update(update, &[], catch_up)
            && let (Some(client_id), Some(instrument)) = (update.client_id, self.index_of(&update.symbol))
        {
            tokio::task::spawn_local(settle(Rc::clone(self), client_id, instrument));
        }
    }
}

async fn execute(shared: Rc<Shared>, command: GatewayCommand) {
    let now = || shared.clock.now();
    match command {
        GatewayCommand::Submit { client_id, request } => {
            let Some((symbol, spec)) = shared.symbol(request.instrument).cloned() else { return };
            shared.orders.borrow_mut().insert(client_id, Tracked::new(request.instrument, request.side, 0));
            let order = new_order(&symbol, client_id, &request, &spec);
            if let Err(error) = shared.requests.create_order(shared.category, &order, 0) {
                shared.notice(format!("order {client_id} not sent: {error}"));
                return shared.reject(client_id, request.instrument, RejectReason::Venue, now());
            }
            match shared.call(|ts| shared.requests.create_order(shared.category, &order, ts)).await {
                Ok(Ok(body)) => match parse_order_ids(&body) {
                    Ok(ids) => shared.note_venue_id(client_id, &ids.venue_order_id),
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
            let reference = OrderRef::Client(client_id);
            let (venue, symbol, reference) = (&*shared, symbol.as_str(), &reference);
            let outcome = shared
                .cancel_loop(client_id, move || async move {
                    venue.call(|ts| venue.requests.cancel_order(venue.category, symbol, reference, ts)).await
                })
                .await;
            match outcome {
                // The `order` topic brings the cancel; without a stream, ask.
                Cancel::Answered(_) if shared.stream_up.get() => {}
                Cancel::Answered(_) | Cancel::GoneAfterRetry => {
                    shared.query_order(client_id, instrument, false).await;
                }
                Cancel::Refused(error) => {
                    let reason = error.reject_reason().unwrap_or(RejectReason::UnknownOrder);
                    shared.event(client_id, instrument, OrderEventKind::CancelRejected(reason), now());
                }
            }
        }
        GatewayCommand::Amend { client_id, instrument, price, quantity } => {
            let Some((symbol, spec)) = shared.symbol(instrument).cloned() else { return };
            let reference = OrderRef::Client(client_id);
            let (new_price, new_quantity) = (
                Decimal::from_fixed(price.0, spec.price_precision),
                Decimal::from_fixed(quantity.0, spec.size_precision),
            );
            let answer = shared
                .call(|ts| {
                    let (quantity, price) = (Some(new_quantity), Some(new_price));
                    shared.requests.amend_order(shared.category, &symbol, &reference, quantity, price, ts)
                })
                .await;
            amend_answered(&shared, client_id, instrument, (price, quantity), answer).await;
        }
        GatewayCommand::Query { client_id, instrument } => {
            shared.query_order(client_id, instrument, false).await;
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
        catch_up: bool,
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
        self.apply(&update, catch_up);
        Some(update)
    }

    /// Bybit creates orders asynchronously: an immediate query could miss one being created, so it waits
    /// [`FATE_SETTLE`] first; what the query finds filled is reported (catch-up).
    async fn resolve_fate(self: &Rc<Self>, client_id: ClientOrderId, instrument: InstrumentIndex) {
        tokio::time::sleep(FATE_SETTLE).await;
        self.query_order(client_id, instrument, true).await;
    }
}

/// An order that ended before its executions arrived: if they have not come after [`FATE_SETTLE`], a
/// catch-up query reports the rest.
async fn settle(shared: Rc<Shared>, client_id: ClientOrderId, instrument: InstrumentIndex) {
    tokio::time::sleep(FATE_SETTLE).await;
    let pending = shared.orders.borrow().get(&client_id).is_some_and(|tracked| tracked.pending_end.is_some());
    if pending {
        shared.query_order(client_id, instrument, true).await;
    }
}

impl Gateway for BybitGateway {
    fn name(&self) -> &str {
        &self.shared.name
    }

    fn scope(&self) -> &[InstrumentIndex] {
        &self.scope
    }

    fn send(&mut self, command: GatewayCommand, _now: UnixNanos) {
        self.start();
        tokio::task::spawn_local(execute(Rc::clone(&self.shared), command));
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<GatewayEvent> {
        self.start();
        next_event(&mut self.rx, cx)
    }

    fn request_snapshot(&mut self) {
        self.start();
        tokio::task::spawn_local(stream::snapshot(Rc::clone(&self.shared), self.scope.clone()));
    }
}
