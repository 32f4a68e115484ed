//! The venue-neutral half of a live REST gateway ([`Core`]): the HTTP client and its transport-error
//! wording, the server-time offset, the event channel to the engine, the instrument map, and the retry
//! loop for requests whose answer is unknown. Order tracking (what the venue's cumulative order states
//! mean for the OMS) lives in [`super::tracking`], on the same struct.
//!
//! A venue gateway (`binance`, `bybit`) wraps a `Core` with its request builders, parsers and the rules
//! that differ by venue (error codes, rate-limit headers, the user stream), and reaches the core's fields
//! through `Deref`: the core is part of the gateway's state, not a separate object with its own identity.
//!
//! # One order's requests keep their order
//! A cancel, an amend or a query of an order whose create has not been answered ([`Tracked::creating`]:
//! the create waits for the venue's rate limit, or is in flight on another connection) waits for that
//! answer ([`Core::after_create`]) before it leaves. Sent at once, it could reach the venue first; the
//! venue's "unknown order" would then end, for the OMS, an order that is about to exist at the venue
//! (a paced create overtaken by the stop's cancel left a working order nobody tracked). The OMS never
//! amends an order it has not seen accepted, so the wait is for cancels and queries of orders just sent.
//!
//! # Secrets
//! The error text of reqwest contains the URL, whose query holds the signature: [`Core::send`] never
//! passes it on, only the method, the path and the kind of failure ([`transport_kind`]).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::ops::Deref;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use ferrotrade_model::{
    ClientOrderId, Decimal, Instrument, InstrumentIndex, OrderEvent, OrderEventKind, OrderRequest, OrderSide,
    OrderType, Price, Quantity, RejectReason, UnixNanos,
};
use ferrotrade_venues::trading::{ApiError, FillReport, NewOrder, OrderUpdate, SignedRequest};
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::link::{OrderLinks, Sent};
use super::tracking::{Conventions, Tracked};
use super::{GatewayCommand, GatewayEvent, Wire};
use crate::clock::WallClock;
use crate::reconcile::VenueOrder;

/// First wait before asking again for an order whose fate is unknown.
pub const QUERY_BACKOFF_MIN: Duration = Duration::from_millis(50);
/// Longest wait between two such queries.
pub const QUERY_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Per-request HTTP timeout: long enough for a loaded venue, short enough to resolve an unknown fate soon.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// State and plumbing every live REST gateway shares (see the module docs).
pub(super) struct Core {
    pub(super) name: String,
    pub(super) http: reqwest::Client,
    pub(super) rest: String,
    pub(super) ws: String,
    pub(super) clock: WallClock,
    pub(super) offset_ms: Cell<i64>,
    tx: UnboundedSender<GatewayEvent>,
    /// Per instrument index: the venue symbol and the spec (None: another venue's instrument).
    pub(super) instruments: Vec<Option<(String, Instrument)>>,
    pub(super) orders: RefCell<BTreeMap<ClientOrderId, Tracked>>,
    /// Recently finished client ids, oldest first, and the same as a set.
    pub(super) finished: RefCell<(VecDeque<ClientOrderId>, BTreeSet<ClientOrderId>)>,
    /// How the venue's ids and order states read (see [`Conventions`]).
    pub(super) conventions: Conventions,
    /// The gateway's own keep-alive connections, on which requests are written synchronously (`None`
    /// for a REST base that is not a plain `http(s)://host[:port]`: the HTTP client alone then).
    pub(super) links: Option<Rc<RefCell<OrderLinks>>>,
    /// Woken whenever a create is answered (see [`Core::after_create`]).
    created: Notify,
}

/// An HTTP answer: status, headers, body.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: reqwest::header::HeaderMap,
    pub(super) body: String,
}

impl Core {
    pub(super) fn new(
        name: &str,
        rest: &str,
        ws: &str,
        instruments: Vec<Option<(String, Instrument)>>,
        clock: WallClock,
        tx: UnboundedSender<GatewayEvent>,
        conventions: Conventions,
    ) -> Core {
        Core {
            name: name.to_owned(),
            http: reqwest::Client::new(),
            rest: rest.trim_end_matches('/').to_owned(),
            ws: ws.trim_end_matches('/').to_owned(),
            clock,
            offset_ms: Cell::new(0),
            tx,
            instruments,
            orders: RefCell::new(BTreeMap::new()),
            finished: RefCell::new((VecDeque::new(), BTreeSet::new())),
            conventions,
            links: OrderLinks::new(rest).map(|links| Rc::new(RefCell::new(links))),
            created: Notify::new(),
        }
    }

    /// Opens the order links in the background (once, from the engine's runtime).
    pub(super) fn start_links(&self) {
        if let Some(links) = &self.links {
            OrderLinks::start(links);
        }
    }

    /// Writes `request` now on an idle order link: the time right after the write, and the handle of its
    /// answer; `None` when no link is idle (the request has not left).
    pub(super) fn send_now(&self, request: &SignedRequest) -> Option<(Wire, Sent)> {
        OrderLinks::try_write(self.links.as_ref()?, request).ok()
    }

    /// Encodes a request built by [`Core::warm_order`]'s caller as an order link would, and drops it.
    pub(super) fn warm_encode(&self, request: &SignedRequest) {
        if let Some(links) = &self.links {
            OrderLinks::warm(links, request);
        }
    }

    /// A representative order for the order path's warm-up (see [`super::Gateway::warm`]): a post-only
    /// buy of one lot at one tick of the gateway's first instrument. It is signed and encoded, never sent.
    pub(super) fn warm_order(&self) -> Option<NewOrder> {
        let index = self.instruments.iter().position(Option::is_some)?;
        let (symbol, spec) = self.symbol(InstrumentIndex(index as u32))?;
        let mut request =
            OrderRequest::limit(InstrumentIndex(index as u32), OrderSide::Buy, spec.tick_size, spec.lot_size);
        request.post_only = true;
        // The order path's own conversion, so the warm-up runs it too.
        Some(new_order(symbol, ClientOrderId(1), &request, spec))
    }

    /// The instrument indexes this gateway trades.
    pub(super) fn scope(&self) -> Vec<InstrumentIndex> {
        (0..self.instruments.len())
            .filter(|index| self.instruments[*index].is_some())
            .map(|index| InstrumentIndex(index as u32))
            .collect()
    }

    /// Whether `client_id`'s create has not been answered yet (see the module docs).
    pub(super) fn creating(&self, client_id: ClientOrderId) -> bool {
        self.orders.borrow().get(&client_id).is_some_and(|tracked| tracked.creating)
    }

    /// Whether `command` must not be written now: a cancel or amend of an order whose create is not
    /// answered yet (its task waits for the answer; see the module docs).
    pub(super) fn waits_for_create(&self, command: &GatewayCommand) -> bool {
        match *command {
            GatewayCommand::Cancel { client_id, .. } | GatewayCommand::Amend { client_id, .. } => {
                self.creating(client_id)
            }
            GatewayCommand::Submit { .. } | GatewayCommand::Query { .. } => false,
        }
    }

    /// Waits until `client_id`'s create has been answered (at once when it has, or the order is not ours
    /// to track): a request about the order sent before could overtake it (see the module docs).
    ///
    /// # Cancel safety
    /// Cancel safe: it only waits.
    pub(super) async fn after_create(&self, client_id: ClientOrderId) {
        loop {
            let answered = self.created.notified();
            let mut answered = std::pin::pin!(answered);
            // Registered before the check, so an answer between the check and the wait is not missed.
            answered.as_mut().enable();
            if !self.creating(client_id) {
                return;
            }
            answered.await;
        }
    }

    /// Marks the create of `client_id` answered (whatever the answer) when dropped, and wakes the
    /// requests waiting for it: the command task of a new order holds it until its create's answer.
    pub(super) fn create_pending(&self, client_id: ClientOrderId) -> CreatePending<'_> {
        CreatePending { core: self, client_id }
    }

    /// The venue's clock in ms: local wall clock plus the measured offset.
    pub(super) fn timestamp(&self) -> u64 {
        self.clock.unix_ms().saturating_add_signed(self.offset_ms.get())
    }

    pub(super) fn emit(&self, event: GatewayEvent) {
        // The receiver lives as long as the gateway; a send after it dropped has nobody to inform.
        self.tx.send(event).ok();
    }

    pub(super) fn notice(&self, text: String) {
        self.emit(GatewayEvent::Notice(format!("{}: {text}", self.name)));
    }

    /// Sends one request as built (no retry): on an idle order link when there is one, else through the
    /// HTTP client.
    ///
    /// # Cancel safety
    /// Not cancel safe: a request may have left when the future is dropped.
    pub(super) async fn send(&self, request: &SignedRequest) -> Result<Answer, String> {
        if let Some((_, sent)) = self.send_now(request) {
            return sent.answer().await;
        }
        let url = format!("{}{}", self.rest, request.path_and_query());
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|error| error.to_string())?;
        let mut builder = self.http.request(method, url).timeout(REQUEST_TIMEOUT);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().await.map_err(|error| {
            format!("{} {}: transport error ({})", request.method, request.path, transport_kind(&error))
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .text()
            .await
            .map_err(|error| format!("{}: reading the body ({})", request.path, transport_kind(&error)))?;
        Ok(Answer { status, headers, body })
    }

    /// Measures the offset to the venue's clock with the unsigned server-time `request`.
    pub(super) async fn sync_time<E>(&self, request: &SignedRequest, parse: fn(&str) -> Result<UnixNanos, E>) {
        let before = self.clock.unix_ms();
        if let Ok(answer) = self.send(request).await
            && let Ok(server) = parse(&answer.body)
        {
            // The server's clock is read about halfway through the round trip.
            let after = self.clock.unix_ms();
            let local = (before + after) / 2;
            self.offset_ms.set(i64::try_from(server.0 / 1_000_000).unwrap_or(0) - i64::try_from(local).unwrap_or(0));
        }
    }

    /// Runs `attempt` until it gives an answer (`Ok`), waiting [`QUERY_BACKOFF_MIN`] doubling to
    /// [`QUERY_BACKOFF_MAX`] after each unknown outcome (`Err(problem)`), announced as
    /// `"{what}: {problem}; {again} in {backoff}"`.
    ///
    /// # Cancel safety
    /// As cancel safe as `attempt`.
    pub(super) async fn until_answered<T, F: Future<Output = Result<T, String>>>(
        &self,
        what: &str,
        again: &str,
        mut attempt: impl FnMut() -> F,
    ) -> T {
        let mut backoff = QUERY_BACKOFF_MIN;
        loop {
            match attempt().await {
                Ok(answer) => return answer,
                Err(problem) => self.notice(format!("{what}: {problem}; {again} in {backoff:?}")),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(QUERY_BACKOFF_MAX);
        }
    }

    /// Asks the venue about an order until it answers: `ask` gives the order (`Some`), says the venue
    /// does not know it (`Ok(None)` or an unknown-order error: never reached the venue, or gone), or an
    /// unknown outcome (a retryable error, a transport failure: asked again with a growing backoff).
    /// It asks only once the order's create is answered ([`Core::after_create`]): before, the venue's
    /// "no such order" would not mean the order never reached it.
    ///
    /// # Cancel safety
    /// Cancel safe when `ask` only reads: dropping it loses the answer, not an order.
    pub(super) async fn query_loop<T, F: Future<Output = Result<Result<Option<T>, ApiError>, String>>>(
        &self,
        client_id: ClientOrderId,
        instrument: InstrumentIndex,
        mut ask: impl FnMut() -> F,
    ) -> Option<T> {
        self.after_create(client_id).await;
        let what = format!("query {client_id}");
        let answer = self
            .until_answered(&what, "asking again", move || {
                let asked = ask();
                async move {
                    match asked.await? {
                        Err(error) if error.is_retryable() && !error.is_unknown_order() => Err(error.to_string()),
                        settled => Ok(settled),
                    }
                }
            })
            .await;
        match answer {
            Ok(Some(order)) => Some(order),
            Ok(None) => {
                self.order_unknown(client_id, instrument);
                None
            }
            Err(error) if error.is_unknown_order() => {
                self.order_unknown(client_id, instrument);
                None
            }
            Err(error) => {
                self.notice(format!("{what}: {error}"));
                None
            }
        }
    }

    /// Sends a cancel until the venue answers. A cancel is safe to repeat: after an unknown outcome it is
    /// sent again (with backoff); "unknown order" after such an outcome may mean the first one worked
    /// ([`Cancel::GoneAfterRetry`]: the order's state decides).
    ///
    /// # Cancel safety
    /// Not cancel safe: a cancel may have left when the future is dropped (harmless: it is idempotent).
    pub(super) async fn cancel_loop<T, F: Future<Output = Result<Result<T, ApiError>, String>>>(
        &self,
        client_id: ClientOrderId,
        mut send: impl FnMut() -> F,
    ) -> Cancel<T> {
        let uncertain = Cell::new(false);
        let uncertain = &uncertain;
        self.until_answered(&format!("cancel {client_id}"), "sending it again", move || {
            let sent = send();
            async move {
                let outcome = match sent.await {
                    Ok(Ok(answer)) => Ok(Cancel::Answered(answer)),
                    Ok(Err(error)) if uncertain.get() && error.is_unknown_order() => Ok(Cancel::GoneAfterRetry),
                    Ok(Err(error)) if !error.is_retryable() => Ok(Cancel::Refused(error)),
                    Ok(Err(error)) => Err(error.to_string()),
                    Err(transport) => Err(transport),
                };
                uncertain.set(true);
                outcome
            }
        })
        .await
    }

    pub(super) fn symbol(&self, instrument: InstrumentIndex) -> Option<&(String, Instrument)> {
        self.instruments.get(instrument.get()).and_then(Option::as_ref)
    }

    pub(super) fn index_of(&self, symbol: &str) -> Option<InstrumentIndex> {
        self.instruments
            .iter()
            .position(|entry| entry.as_ref().is_some_and(|(known, _)| known.eq_ignore_ascii_case(symbol)))
            .map(|index| InstrumentIndex(index as u32))
    }

    pub(super) fn event(
        &self,
        client_id: ClientOrderId,
        instrument: InstrumentIndex,
        mut kind: OrderEventKind,
        ts: UnixNanos,
    ) {
        let now = self.clock.now();
        if let OrderEventKind::Filled(fill) = &mut kind {
            fill.ts_recv = now;
        }
        self.emit(GatewayEvent::Order(OrderEvent { client_id, instrument, kind, ts_event: ts, ts_recv: now }));
    }

    /// Orders the gateway still tracks (working or awaiting an answer), for a catch-up after a gap.
    pub(super) fn working(&self) -> Vec<(ClientOrderId, InstrumentIndex)> {
        self.orders.borrow().iter().map(|(id, tracked)| (*id, tracked.instrument)).collect()
    }

    /// An open order of a reconciliation snapshot in the OMS's fixed point; `None` when it does not fit.
    pub(super) fn venue_order(
        update: &OrderUpdate,
        instrument: InstrumentIndex,
        spec: &Instrument,
    ) -> Option<VenueOrder> {
        Some(VenueOrder {
            instrument,
            client_id: update.client_id,
            venue_order_id: update.venue_order_id.clone(),
            side: update.side,
            price: Price(fixed(update.price, spec.price_precision)?),
            quantity: Quantity(fixed(update.quantity, spec.size_precision)?),
            filled: Quantity(fixed(update.filled, spec.size_precision)?),
        })
    }

    /// After an amend whose answer is unknown, the order's state as queried (`update`) says whether it
    /// took effect (`Replaced`) or not (`ReplaceRejected`); nothing when the order is already over.
    pub(super) fn resolve_amend(
        &self,
        client_id: ClientOrderId,
        instrument: InstrumentIndex,
        update: &OrderUpdate,
        price: Price,
        quantity: Quantity,
    ) {
        let Some((_, spec)) = self.symbol(instrument) else { return };
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
        self.event(client_id, instrument, kind, self.clock.now());
    }
}

/// A venue gateway's state, with its ways of asking the venue about one order.
pub(super) trait OrderQueries: Deref<Target = Core> + Sized {
    /// Asks the venue for the order until it answers ([`Core::query_loop`]) and applies the answer
    /// ([`apply_reported`]: fills it shows beyond those counted are booked from the trade list); `None`
    /// when the venue does not know the order.
    ///
    /// # Cancel safety
    /// Cancel safe: it only reads; dropping it loses the answer, not an order.
    async fn query_order(self: &Rc<Self>, client_id: ClientOrderId, instrument: InstrumentIndex)
    -> Option<OrderUpdate>;

    /// Resolves a new order whose fate is unknown: by default, a query at once.
    async fn resolve_fate(self: &Rc<Self>, client_id: ClientOrderId, instrument: InstrumentIndex) {
        self.query_order(client_id, instrument).await;
    }

    /// One request for the order's trades as the venue lists them (oldest first): `Ok(Err)` is the
    /// venue's refusal, `Err` an unknown outcome (transport), as [`Core::query_loop`] takes them.
    ///
    /// # Cancel safety
    /// Cancel safe: it only reads.
    async fn order_trades(self: &Rc<Self>, update: &OrderUpdate) -> Result<Result<Vec<FillReport>, ApiError>, String>;
}

/// Applies an order state and the fill reports its answer carried. When they leave a gap
/// ([`Core::has_gap`]: the order filled more than was counted before them), the order's trade list is
/// fetched (asked again until the venue answers) and every missed trade is booked as itself
/// ([`Core::apply_catch_up`]); only when the venue refuses the list is the gap one fill at the average
/// price. `queried`: the state answers a query; a state pushed without reports by a venue whose
/// executions come on another channel ([`super::tracking::Conventions::await_fills`]) is not a gap
/// (its executions follow). Returns whether the order's end is held back for its executions.
///
/// # Cancel safety
/// Cancel safe: it only reads from the venue.
pub(super) async fn apply_reported<G: OrderQueries>(
    gateway: &Rc<G>,
    update: &OrderUpdate,
    fills: &[FillReport],
    queried: bool,
) -> bool {
    let reports = !fills.is_empty() || update.last_fill.is_some();
    let detect = queried || reports || !gateway.conventions.await_fills;
    if !(detect && gateway.has_gap(update, fills)) {
        return gateway.apply_update(update, fills, false);
    }
    let id = update.client_id.map_or_else(String::new, |id| id.to_string());
    let listed = gateway
        .until_answered(&format!("trades of order {id}"), "asking again", || async {
            match gateway.order_trades(update).await? {
                Err(error) if error.is_retryable() => Err(error.to_string()),
                settled => Ok(settled),
            }
        })
        .await;
    match listed {
        Ok(trades) => gateway.apply_catch_up(update, &trades),
        Err(error) => {
            gateway.notice(format!("order {id}: no trade list ({error}); the gap is one fill at the average price"));
            gateway.apply_update(update, fills, true)
        }
    }
}

/// Reports a new order the venue did not take: a refusal is a reject; after an unknown outcome (a
/// retryable error, a transport failure) the venue may have taken it, so it is asked, never resent.
pub(super) async fn submit_failed<G: OrderQueries>(
    gateway: &Rc<G>,
    client_id: ClientOrderId,
    instrument: InstrumentIndex,
    failure: Result<ApiError, String>,
) {
    match failure {
        Ok(error) if !error.is_retryable() => {
            let reason = error.reject_reason().unwrap_or(RejectReason::Venue);
            gateway.notice(format!("order {client_id} rejected: {error}"));
            gateway.reject(client_id, instrument, reason, gateway.clock.now());
        }
        Ok(error) => {
            gateway.notice(format!("order {client_id}: {error}; querying its state"));
            gateway.resolve_fate(client_id, instrument).await;
        }
        Err(transport) => {
            gateway.notice(format!("order {client_id}: {transport}; querying its state"));
            gateway.resolve_fate(client_id, instrument).await;
        }
    }
}

/// Reports an amend's answer: taken (`Replaced`), refused (`ReplaceRejected`; refused as an unknown order,
/// the order is then queried: it is over at the venue), or unknown, resolved by querying the order
/// ([`Core::resolve_amend`]) so the OMS never waits on it forever.
pub(super) async fn amend_answered<G: OrderQueries, T>(
    gateway: &Rc<G>,
    client_id: ClientOrderId,
    instrument: InstrumentIndex,
    (price, quantity): (Price, Quantity),
    answer: Result<Result<T, ApiError>, String>,
) {
    let problem = match answer {
        Ok(Ok(_)) => {
            if let Some(tracked) = gateway.orders.borrow_mut().get_mut(&client_id) {
                tracked.price = price.0;
            }
            let kind = OrderEventKind::Replaced { price, quantity };
            return gateway.event(client_id, instrument, kind, gateway.clock.now());
        }
        Ok(Err(error)) if !error.is_retryable() => {
            let reason = error.reject_reason().unwrap_or(RejectReason::InvalidAmend);
            let kind = OrderEventKind::ReplaceRejected(reason);
            gateway.event(client_id, instrument, kind, gateway.clock.now());
            if error.is_unknown_order() {
                // Over at the venue (filled, or cancelled) while the OMS still works it: ask.
                gateway.query_order(client_id, instrument).await;
            }
            return;
        }
        Ok(Err(error)) => error.to_string(),
        Err(transport) => transport,
    };
    gateway.notice(format!("amend {client_id}: {problem}; querying"));
    if let Some(update) = gateway.query_order(client_id, instrument).await {
        gateway.resolve_amend(client_id, instrument, &update, price, quantity);
    }
}

/// A create not answered yet; its drop marks it answered ([`Core::create_pending`]).
pub(super) struct CreatePending<'a> {
    core: &'a Core,
    client_id: ClientOrderId,
}

impl Drop for CreatePending<'_> {
    fn drop(&mut self) {
        if let Some(tracked) = self.core.orders.borrow_mut().get_mut(&self.client_id) {
            tracked.creating = false;
        }
        self.core.created.notify_waiters();
    }
}

/// How a cancel ended (see [`Core::cancel_loop`]).
pub(super) enum Cancel<T> {
    /// The venue took it; its answer.
    Answered(T),
    /// "Unknown order" after an earlier attempt's outcome was unknown.
    GoneAfterRetry,
    /// The venue refused it.
    Refused(ApiError),
}

/// The next event a live gateway's tasks sent (cancel safe: an event is only taken when ready).
pub(super) fn next_event(rx: &mut UnboundedReceiver<GatewayEvent>, cx: &mut Context<'_>) -> Poll<GatewayEvent> {
    match rx.poll_recv(cx) {
        Poll::Ready(Some(event)) => Poll::Ready(event),
        Poll::Ready(None) | Poll::Pending => Poll::Pending,
    }
}

/// The kind of a reqwest error, without its URL.
pub(super) fn transport_kind(error: &reqwest::Error) -> &'static str {
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

/// `value` in fixed point of `precision` decimals; `None` when it does not fit.
pub(super) fn fixed(value: Decimal, precision: u8) -> Option<i64> {
    value.to_fixed(precision).ok()
}

/// The venue-neutral new order of `request` for `symbol`.
pub(super) fn new_order(symbol: &str, client_id: ClientOrderId, request: &OrderRequest, spec: &Instrument) -> NewOrder {
    let price = |value: Price| Decimal::from_fixed(value.0, spec.price_precision);
    let priced = matches!(request.order_type, OrderType::Limit | OrderType::StopLimit);
    let stop = matches!(request.order_type, OrderType::StopMarket | OrderType::StopLimit);
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

/// Commands sent during the input being handled, whose tasks (the rest of each request: its answer, a
/// retry, the HTTP client when no order link was idle) start at the gateway's next poll.
///
/// Spawning a command's task costs microseconds (its future is allocated and queued); started in
/// `send`, that cost sat between one order's bytes and the next order's of the same input (a market
/// maker's two quotes). Deferred to the next poll, it comes after every order of the input has left. No
/// task could run earlier anyway: the engine's thread is busy with that input until it polls again, and
/// every wait of the engine (the run loop, the start, the stop) polls the gateways first.
#[derive(Default)]
pub(super) struct Deferred {
    commands: Vec<(GatewayCommand, Option<Sent>)>,
}

impl Deferred {
    /// Keeps a command (and its first attempt, if its bytes already left) for the next poll.
    pub(super) fn push(&mut self, command: GatewayCommand, first: Option<Sent>) {
        self.commands.push((command, first));
    }

    /// Starts the kept commands' tasks, in the order they were sent.
    pub(super) fn spawn<F>(&mut self, mut task: impl FnMut(GatewayCommand, Option<Sent>) -> F)
    where
        F: Future<Output = ()> + 'static,
    {
        for (command, first) in self.commands.drain(..) {
            drop(tokio::task::spawn_local(task(command, first)));
        }
    }
}
