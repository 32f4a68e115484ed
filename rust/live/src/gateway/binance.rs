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
//! - Fills are counted by the order's cumulative filled quantity: a fill report only counts when it
//!   raises the cumulative above what was already counted. A catch-up query that shows more filled than
//!   counted emits one fill for the difference at the venue's average price, with a synthetic trade id
//!   ([`SYNTHETIC_TRADE_BIT`] set); the stream's late report of the same quantity is then not counted.
//! - Memory: the state of finished orders is dropped; only the last [`FINISHED_MEMORY`] finished client
//!   ids are remembered, to ignore late updates of them.
//! - A venue refusal whose code maps to no [`RejectReason`] is reported as [`RejectReason::Venue`].
//!
//! Each command runs as a task on the engine's `LocalSet` (`spawn_local`): `send` returns at once and
//! the answers come back through a channel that `poll_event` drains.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use ferrotrade_model::{
    ClientOrderId, Decimal, Instrument, InstrumentIndex, OrderEvent, OrderEventKind, OrderRequest, OrderSide, Price,
    Quantity, RejectReason, UnixNanos,
};
use ferrotrade_venues::trading::binance::{BinanceRequests, Market, parse_error, parse_order, parse_server_time};
use ferrotrade_venues::trading::{ApiError, NewOrder, OrderRef, OrderUpdate, SignedRequest};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

mod orders;
mod pace;
mod stream;

use orders::Tracked;
use pace::Budget;
use stream::{snapshot, user_stream};

use super::{Gateway, GatewayCommand, GatewayEvent};
use crate::clock::WallClock;

/// Most sends of one request after rate limits or clock-window refusals.
pub const MAX_ATTEMPTS: u32 = 3;
const KEEPALIVE: Duration = Duration::from_secs(30 * 60);
/// First wait before asking again for an order whose fate is unknown.
pub const QUERY_BACKOFF_MIN: Duration = Duration::from_millis(50);
/// Longest wait between two such queries.
pub const QUERY_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Share of a rate-limit budget above which requests are paced.
pub const PACE_FROM: f64 = 0.8;
/// Finished client ids remembered to ignore their late updates.
pub const FINISHED_MEMORY: usize = 4096;
/// Set in the trade id of a fill inferred from a catch-up query (venue trade ids stay below 2^53).
pub const SYNTHETIC_TRADE_BIT: u64 = 1 << 62;

struct Shared {
    name: String,
    market: Market,
    http: reqwest::Client,
    requests: BinanceRequests,
    rest: String,
    ws: String,
    clock: WallClock,
    offset_ms: Cell<i64>,
    tx: UnboundedSender<GatewayEvent>,
    /// Per instrument index: the venue symbol and the spec (None: another venue's instrument).
    instruments: Vec<Option<(String, Instrument)>>,
    orders: RefCell<BTreeMap<ClientOrderId, Tracked>>,
    /// Recently finished client ids, oldest first, and the same as a set.
    finished: RefCell<(VecDeque<ClientOrderId>, BTreeSet<ClientOrderId>)>,
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
        let scope = (0..instruments.len())
            .filter(|index| instruments[*index].is_some())
            .map(|index| InstrumentIndex(index as u32))
            .collect();
        let name = match market {
            Market::Spot => "binance-spot",
            Market::UsdM => "binance-usdm",
        };
        let shared = Shared {
            name: name.to_owned(),
            market,
            http: reqwest::Client::new(),
            requests,
            rest: rest.trim_end_matches('/').to_owned(),
            ws: ws.trim_end_matches('/').to_owned(),
            clock,
            offset_ms: Cell::new(0),
            tx,
            instruments,
            orders: RefCell::new(BTreeMap::new()),
            finished: RefCell::new((VecDeque::new(), BTreeSet::new())),
            // The venues' published defaults (spot 6000 weight/min and 100 orders/10 s; USD-M 2400 and 300).
            weight: Cell::new(Budget::new(if market == Market::Spot { 6000 } else { 2400 }, 60_000)),
            order_count: Cell::new(Budget::new(if market == Market::Spot { 100 } else { 300 }, 10_000)),
        };
        BinanceGateway { shared: Rc::new(shared), scope, rx, started: false }
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
            tokio::task::spawn_local(user_stream(Rc::clone(&self.shared)));
        }
    }
}

/// An HTTP answer: status, `Retry-After` seconds, body.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: String,
}

impl Shared {
    fn timestamp(&self) -> u64 {
        self.clock.unix_ms().saturating_add_signed(self.offset_ms.get())
    }

    fn emit(&self, event: GatewayEvent) {
        // The receiver lives as long as the gateway; a send after it dropped has nobody to inform.
        self.tx.send(event).ok();
    }

    fn notice(&self, text: String) {
        self.emit(GatewayEvent::Notice(format!("{}: {text}", self.name)));
    }

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

    /// # Cancel safety
    /// Not cancel safe: a request may have left when the future is dropped.
    async fn send(&self, request: &SignedRequest) -> Result<Answer, String> {
        let url = format!("{}{}", self.rest, request.path_and_query());
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|error| error.to_string())?;
        let mut builder = self.http.request(method, url).timeout(Duration::from_secs(10));
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        // The error text of reqwest contains the URL, whose query holds the signature: never pass it on.
        let response = builder
            .send()
            .await
            .map_err(|error| format!("{} {}: transport error ({})", request.method, request.path, kind(&error)))?;
        let status = response.status().as_u16();
        self.observe(response.headers());
        let retry_after =
            response.headers().get("retry-after").and_then(|value| value.to_str().ok()).and_then(|v| v.parse().ok());
        let body =
            response.text().await.map_err(|error| format!("{}: reading the body ({})", request.path, kind(&error)))?;
        Ok(Answer { status, retry_after, body })
    }

    /// Sends a request built by `build(timestamp)`, retrying after rate limits and clock-window refusals.
    async fn call(&self, build: impl Fn(u64) -> SignedRequest) -> Result<Result<String, ApiError>, String> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Paced before signing, so a long pacing wait cannot push the timestamp out of recvWindow.
            self.pace(&build(0)).await;
            let answer = self.send(&build(self.timestamp())).await?;
            if (200..300).contains(&answer.status) {
                return Ok(Ok(answer.body));
            }
            let error = parse_error(answer.status, &answer.body);
            if attempt < MAX_ATTEMPTS && error.is_rate_limit() {
                let wait = answer.retry_after.unwrap_or(1);
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

    async fn sync_time(&self) {
        let path = match self.market {
            Market::Spot => "/api/v3/time",
            Market::UsdM => "/fapi/v1/time",
        };
        let request = SignedRequest { method: "GET", path, query: String::new(), body: None, headers: Vec::new() };
        let before = self.clock.unix_ms();
        if let Ok(answer) = self.send(&request).await
            && let Ok(server) = parse_server_time(&answer.body)
        {
            // The server's clock is read about halfway through the round trip.
            let after = self.clock.unix_ms();
            let local = (before + after) / 2;
            self.offset_ms.set(i64::try_from(server.0 / 1_000_000).unwrap_or(0) - i64::try_from(local).unwrap_or(0));
        }
    }

    fn symbol(&self, instrument: InstrumentIndex) -> Option<&(String, Instrument)> {
        self.instruments.get(instrument.get()).and_then(Option::as_ref)
    }

    fn index_of(&self, symbol: &str) -> Option<InstrumentIndex> {
        self.instruments
            .iter()
            .position(|entry| entry.as_ref().is_some_and(|(known, _)| known.eq_ignore_ascii_case(symbol)))
            .map(|index| InstrumentIndex(index as u32))
    }

    fn event(&self, client_id: ClientOrderId, instrument: InstrumentIndex, mut kind: OrderEventKind, ts: UnixNanos) {
        let now = self.clock.now();
        if let OrderEventKind::Filled(fill) = &mut kind {
            fill.ts_recv = now;
        }
        self.emit(GatewayEvent::Order(OrderEvent { client_id, instrument, kind, ts_event: ts, ts_recv: now }));
    }
}

/// The kind of a reqwest error, without its URL.
fn kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else {
        "request"
    }
}

fn fixed(value: Decimal, precision: u8) -> Option<i64> {
    value.to_fixed(precision).ok()
}

fn new_order(symbol: &str, client_id: ClientOrderId, request: &OrderRequest, spec: &Instrument) -> NewOrder {
    let price = |value: Price| Decimal::from_fixed(value.0, spec.price_precision);
    let priced =
        matches!(request.order_type, ferrotrade_model::OrderType::Limit | ferrotrade_model::OrderType::StopLimit);
    let stop =
        matches!(request.order_type, ferrotrade_model::OrderType::StopMarket | ferrotrade_model::OrderType::StopLimit);
    NewOrder {
        symbol: symbol.to_owned(),
        client_id,
        side: request.side,
        order_type: request.order_type,
        time_in_force: request.time_in_force,
        price: priced.then(|| price(request.price)),
        quantity: Decimal::from_fixed(request.quantity.0, spec.size_precision),
        stop_price: stop.then(|| price(request.trigger_price)),
        post_only: request.post_only,
        reduce_only: request.reduce_only,
    }
}

async fn execute(shared: Rc<Shared>, command: GatewayCommand) {
    let now = || shared.clock.now();
    match command {
        GatewayCommand::Submit { client_id, request } => {
            let Some((symbol, spec)) = shared.symbol(request.instrument).cloned() else { return };
            shared.orders.borrow_mut().insert(client_id, Tracked::new(request.instrument, request.side, 0));
            let order = new_order(&symbol, client_id, &request, &spec);
            let result = shared
                .call(|ts| {
                    shared
                        .requests
                        .new_order(&order, ts)
                        .unwrap_or_else(|_| shared.requests.signed("POST", "/", "", ts))
                })
                .await;
            match result {
                Ok(Ok(body)) => match parse_order(shared.market, &body) {
                    Ok(response) => shared.apply_update(&response.update, &response.fills, false),
                    Err(error) => {
                        shared.notice(format!("order {client_id}: unreadable answer ({error}); querying"));
                        query_until_known(&shared, client_id, request.instrument).await;
                    }
                },
                Ok(Err(error)) if error.is_retryable() => {
                    // The venue may have taken it: ask, never resend.
                    shared.notice(format!("order {client_id}: {error}; querying its state"));
                    query_until_known(&shared, client_id, request.instrument).await;
                }
                Ok(Err(error)) => {
                    let reason = error.reject_reason().unwrap_or(RejectReason::Venue);
                    shared.notice(format!("order {client_id} rejected: {error}"));
                    shared.reject(client_id, request.instrument, reason, now());
                }
                Err(transport) => {
                    shared.notice(format!("order {client_id}: {transport}; querying its state"));
                    query_until_known(&shared, client_id, request.instrument).await;
                }
            }
        }
        GatewayCommand::Cancel { client_id, instrument } => {
            let Some((symbol, _)) = shared.symbol(instrument).cloned() else { return };
            let reference = OrderRef::Client(client_id);
            // A cancel is safe to repeat: after an unknown answer it is sent again (with backoff) until
            // the venue answers; "unknown order" after such an answer may mean the first one worked, so
            // the order's state decides.
            let mut backoff = QUERY_BACKOFF_MIN;
            let mut uncertain = false;
            loop {
                let problem = match shared.call(|ts| shared.requests.cancel_order(&symbol, &reference, ts)).await {
                    Ok(Ok(body)) => {
                        match parse_order(shared.market, &body) {
                            Ok(response) => shared.apply_update(&response.update, &response.fills, false),
                            Err(_) => query_until_known(&shared, client_id, instrument).await,
                        }
                        return;
                    }
                    Ok(Err(error)) if uncertain && error.is_unknown_order() => {
                        return query_until_known(&shared, client_id, instrument).await;
                    }
                    Ok(Err(error)) if !error.is_retryable() => {
                        let reason = error.reject_reason().unwrap_or(RejectReason::UnknownOrder);
                        return shared.event(client_id, instrument, OrderEventKind::CancelRejected(reason), now());
                    }
                    Ok(Err(error)) => error.to_string(),
                    Err(transport) => transport,
                };
                uncertain = true;
                shared.notice(format!("cancel {client_id}: {problem}; sending it again in {backoff:?}"));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(QUERY_BACKOFF_MAX);
            }
        }
        GatewayCommand::Amend { client_id, instrument, price, quantity } => {
            let Some((symbol, spec)) = shared.symbol(instrument).cloned() else { return };
            let side = shared.orders.borrow().get(&client_id).map_or(OrderSide::Buy, |tracked| tracked.side);
            let reference = OrderRef::Client(client_id);
            let (price_decimal, quantity_decimal) = (
                Decimal::from_fixed(price.0, spec.price_precision),
                Decimal::from_fixed(quantity.0, spec.size_precision),
            );
            let result = shared
                .call(|ts| shared.requests.amend_order(&symbol, &reference, side, quantity_decimal, price_decimal, ts))
                .await;
            match result {
                Ok(Ok(_)) => shared.event(client_id, instrument, OrderEventKind::Replaced { price, quantity }, now()),
                Ok(Err(error)) if error.is_retryable() => {
                    shared.notice(format!("amend {client_id}: {error}; querying"));
                    resolve_amend(&shared, client_id, instrument, price, quantity).await;
                }
                Ok(Err(error)) => {
                    let reason = error.reject_reason().unwrap_or(RejectReason::InvalidAmend);
                    shared.event(client_id, instrument, OrderEventKind::ReplaceRejected(reason), now());
                }
                Err(transport) => {
                    shared.notice(format!("amend {client_id}: {transport}; querying"));
                    resolve_amend(&shared, client_id, instrument, price, quantity).await;
                }
            }
        }
        GatewayCommand::Query { client_id, instrument } => query_until_known(&shared, client_id, instrument).await,
    }
}

/// Asks the venue for an order by client id until it answers (a growing backoff between attempts whose
/// answer is itself unknown), and applies the answer; an order the venue does not know never reached it
/// (rejected) or is gone (cancelled). `catch_up` as in [`Shared::apply_update`].
///
/// # Cancel safety
/// Cancel safe: it only reads; dropping it loses the answer, not an order.
async fn query_order(
    shared: &Rc<Shared>,
    client_id: ClientOrderId,
    instrument: InstrumentIndex,
    catch_up: bool,
) -> Option<OrderUpdate> {
    let (symbol, _) = shared.symbol(instrument).cloned()?;
    let reference = OrderRef::Client(client_id);
    let mut backoff = QUERY_BACKOFF_MIN;
    loop {
        match shared.call(|ts| shared.requests.query_order(&symbol, &reference, ts)).await {
            Ok(Ok(body)) => match parse_order(shared.market, &body) {
                Ok(response) => {
                    shared.apply_update(&response.update, &response.fills, catch_up);
                    return Some(response.update);
                }
                Err(error) => shared.notice(format!("query {client_id}: unreadable answer ({error})")),
            },
            Ok(Err(error)) if error.is_unknown_order() => {
                if shared.is_finished(client_id) {
                    return None;
                }
                let accepted = shared.orders.borrow().get(&client_id).is_some_and(|tracked| tracked.accepted);
                if accepted {
                    shared.event(client_id, instrument, OrderEventKind::Canceled, shared.clock.now());
                    shared.finish(client_id);
                } else {
                    shared.reject(client_id, instrument, RejectReason::UnknownOrder, shared.clock.now());
                }
                return None;
            }
            Ok(Err(error)) if !error.is_retryable() => {
                shared.notice(format!("query {client_id}: {error}"));
                return None;
            }
            Ok(Err(error)) => shared.notice(format!("query {client_id}: {error}; asking again in {backoff:?}")),
            Err(transport) => shared.notice(format!("query {client_id}: {transport}; asking again in {backoff:?}")),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(QUERY_BACKOFF_MAX);
    }
}

async fn query_until_known(shared: &Rc<Shared>, client_id: ClientOrderId, instrument: InstrumentIndex) {
    query_order(shared, client_id, instrument, false).await;
}

/// After an amend whose answer is unknown: the order's state says whether it took effect (`Replaced`)
/// or not (`ReplaceRejected`), so the OMS never waits on it forever.
async fn resolve_amend(
    shared: &Rc<Shared>,
    client_id: ClientOrderId,
    instrument: InstrumentIndex,
    price: Price,
    quantity: Quantity,
) {
    let Some(update) = query_order(shared, client_id, instrument, false).await else { return };
    let Some((_, spec)) = shared.symbol(instrument).cloned() else { return };
    if update.status.is_terminal() {
        return;
    }
    let applied = fixed(update.price, spec.price_precision) == Some(price.0)
        && fixed(update.quantity, spec.size_precision) == Some(quantity.0);
    let kind = if applied {
        OrderEventKind::Replaced { price, quantity }
    } else {
        OrderEventKind::ReplaceRejected(RejectReason::Venue)
    };
    shared.event(client_id, instrument, kind, shared.clock.now());
}

impl Gateway for BinanceGateway {
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
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(event)) => Poll::Ready(event),
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }

    fn request_snapshot(&mut self) {
        self.start();
        tokio::task::spawn_local(snapshot(Rc::clone(&self.shared), self.scope.clone()));
    }
}
