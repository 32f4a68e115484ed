//! Gateways: where orders go after the risk chain, and where order events come from.
//!
//! A [`Gateway`] serves the instruments of one venue (or, in paper mode, every instrument). The engine
//! hands it [`GatewayCommand`]s synchronously (the order is "on the wire" when `send` returns: written to a
//! socket by a spawned request, or queued in the simulated venue) and polls it for [`GatewayEvent`]s,
//! which carry order events already expressed in the OMS's terms (client ids, fixed-point prices, numeric
//! trade ids).
//!
//! | gateway | orders | events |
//! |---|---|---|
//! | [`paper::PaperGateway`] | a [`ferrotrade_sim::SimVenue`] per instrument, fed by the live feed | after the configured latency |
//! | [`binance::BinanceGateway`] (live mode: `binance-spot`, `binance-usdm`) | signed REST requests | REST answers and the user-data stream (listen key) |
//! | [`bybit::BybitGateway`] (live mode: `bybit-linear`, `bybit-spot`) | signed v5 REST requests | the private WebSocket (`order`, `execution`) and queries |
//!
//! The live gateways share their plumbing (`core`: HTTP, server-time offset, retry loops) and their order
//! tracking (`tracking`: fills counted once by cumulative quantity, finished-order memory, venue ids).
//!
//! # Contract
//! - `send` never blocks and never awaits; whatever it must wait for happens in the gateway's own tasks.
//!   The live gateways write an order's request within `send` when one of their order links is idle
//!   (`link`: one non-blocking write), and say when: that instant ends the latency path.
//! - `poll_event` is cancel safe: an event is only taken out of the gateway when `Ready` is returned.
//! - A gateway reports every answer for every command it was given, including failures (a rejected
//!   order is an `Order` event with `Rejected`; a transport failure after which the order's fate is
//!   unknown is resolved by querying the order, never by resending a new order blindly).
//! - One order's requests reach the venue in the order they were given: a cancel, amend or query of an
//!   order whose create has not been answered (paced, or in flight) waits for that answer (`core`).
//! - `request_snapshot` is answered by one [`GatewayEvent::Snapshot`] (reconciliation).

pub mod binance;
pub mod bybit;
mod core;
mod link;
pub mod paper;
mod tracking;

use std::task::{Context, Poll};

use ferrotrade_book::OrderBook;
use ferrotrade_model::{ClientOrderId, InstrumentIndex, OrderEvent, OrderRequest, Price, Quantity, UnixNanos};

use crate::feed::FeedEvent;
use crate::reconcile::VenueOrder;

/// An order action for the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayCommand {
    /// Place a new order.
    Submit {
        /// Its client id.
        client_id: ClientOrderId,
        /// What to place.
        request: OrderRequest,
    },
    /// Cancel an order.
    Cancel {
        /// The order.
        client_id: ClientOrderId,
        /// Its instrument.
        instrument: InstrumentIndex,
    },
    /// Change an order's price and total quantity.
    Amend {
        /// The order.
        client_id: ClientOrderId,
        /// Its instrument.
        instrument: InstrumentIndex,
        /// New price.
        price: Price,
        /// New total quantity.
        quantity: Quantity,
    },
    /// Ask the venue for the current state of an order (answered by `Order` events; fills the state shows
    /// beyond those already reported are booked from the venue's trade list).
    Query {
        /// The order.
        client_id: ClientOrderId,
        /// Its instrument.
        instrument: InstrumentIndex,
    },
}

/// The venue's view of the gateway's instruments: open orders and positions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VenueSnapshot {
    /// The instruments the snapshot covers.
    pub scope: Vec<InstrumentIndex>,
    /// Open orders.
    pub orders: Vec<VenueOrder>,
    /// Signed position per instrument index (`None`: the venue reports none, i.e. flat or spot).
    pub positions: Vec<Option<Quantity>>,
}

/// What a gateway tells the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayEvent {
    /// An order event for the OMS.
    Order(OrderEvent),
    /// The answer to `request_snapshot`.
    Snapshot(VenueSnapshot),
    /// The order-entry or user-data connection went up or down.
    Connection {
        /// Up or down.
        up: bool,
    },
    /// A failure that did not lose an order's state (a retry, a rate-limit backoff), for the report.
    Notice(String),
}

/// When an order's request left within [`Gateway::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire {
    /// The write system call started (`None` without one: the paper gateway's simulated venue).
    pub write_started: Option<std::time::Instant>,
    /// The bytes were written (the kernel has them), or the simulated venue queued the order.
    pub written: std::time::Instant,
}

/// A venue connection for orders (see the module docs).
pub trait Gateway {
    /// A name for logs and reports (`paper`, `binance-usdm`).
    fn name(&self) -> &str;

    /// The instruments this gateway trades.
    fn scope(&self) -> &[InstrumentIndex];

    /// Hands a command to the venue at local time `now`; never blocks. Returns when the order's bytes were
    /// written, when they were written before returning (the live gateways' order links; the paper
    /// gateway's simulated venue takes it at once); `None` when the request leaves later (no idle link,
    /// pacing, a query).
    fn send(&mut self, command: GatewayCommand, now: UnixNanos) -> Option<Wire>;

    /// The next event, if one is ready (cancel safe).
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<GatewayEvent>;

    /// Market data (only the paper gateway uses it: its simulated venues match against it).
    fn on_market(&mut self, event: &FeedEvent, books: &[OrderBook], now: UnixNanos) {
        let _ = (event, books, now);
    }

    /// Asks for open orders and positions, answered by a [`GatewayEvent::Snapshot`].
    fn request_snapshot(&mut self);

    /// Runs the order path's request building (encoding, signing) on a representative new order and
    /// amend, and drops the requests: nothing is sent, no state changes. A busy-polling engine calls it
    /// about once a millisecond (`[live] busy_poll`) so that path's code and data stay in the CPU's
    /// caches between orders: cold, signing an order costs several times what it costs warm.
    fn warm(&mut self) {}

    /// Lets the gateway route events of an order the OMS adopted (an unknown venue order).
    fn adopt(&mut self, client_id: ClientOrderId, order: &VenueOrder) {
        let _ = (client_id, order);
    }
}

/// The order gateway of `section`'s venue for live mode: credentials from the configured source, endpoints
/// from the network and overrides.
///
/// # Errors
/// [`crate::LiveError::Credentials`] when the key cannot be loaded (or, on Bybit, is not an HMAC key);
/// [`crate::LiveError::Setup`] for a venue
/// without a live order gateway in this build (Bybit inverse).
pub(crate) fn live_gateway(
    section: &crate::config::VenueSection,
    scope: &[InstrumentIndex],
    config: &crate::config::LiveConfig,
    clock: crate::clock::WallClock,
) -> Result<Box<dyn Gateway>, crate::LiveError> {
    use ferrotrade_model::Venue;
    use ferrotrade_venues::trading::binance::{BinanceRequests, Market};
    use ferrotrade_venues::trading::bybit::{BybitRequests, Category};
    enum Protocol {
        Binance(Market),
        Bybit(Category),
    }
    let protocol = match (section.name, Category::of(section.name)) {
        (Venue::BinanceSpot, _) => Protocol::Binance(Market::Spot),
        (Venue::BinanceUsdm, _) => Protocol::Binance(Market::UsdM),
        (_, Some(category)) => Protocol::Bybit(category),
        (other, None) => {
            return Err(crate::LiveError::Setup(format!(
                "{}: live order entry is not available in this build (use mode = \"paper\")",
                other.as_str()
            )));
        }
    };
    let source = section.credentials.as_ref().ok_or_else(|| crate::LiveError::Credentials {
        venue: section.name.as_str().to_owned(),
        reason: "no credentials configured".into(),
    })?;
    let credentials = crate::credentials::load_credentials(section.name, source, &|name| std::env::var(name).ok())?;
    let endpoints = crate::engine::setup::endpoints(section);
    let instruments = config
        .instruments
        .iter()
        .enumerate()
        .map(|(index, instrument)| {
            scope
                .contains(&InstrumentIndex(index as u32))
                .then(|| (instrument.id.symbol.to_string(), instrument.clone()))
        })
        .collect();
    let (rest, ws) = (endpoints.rest, endpoints.ws_private);
    Ok(match protocol {
        Protocol::Binance(market) => {
            let requests = BinanceRequests::new(market, credentials).with_recv_window(section.recv_window_ms);
            Box::new(binance::BinanceGateway::new(market, requests, rest, ws, instruments, clock))
        }
        Protocol::Bybit(category) => {
            let requests = BybitRequests::new(credentials).with_recv_window(section.recv_window_ms);
            // Bybit signs with HMAC only: refuse another key now rather than fail every request later.
            if let Err(error) = requests.ws_auth(0) {
                return Err(crate::LiveError::Credentials {
                    venue: section.name.as_str().to_owned(),
                    reason: error.to_string(),
                });
            }
            Box::new(bybit::BybitGateway::new(category, requests, rest, ws, instruments, clock))
        }
    })
}
