//! One order's requests reach the venue in the order they were sent, whatever the rate limits do: a
//! cancel of a new order whose create waits for the venue's rate-limit window waits for the create's
//! answer. Driven at the gateway, against the local venue on loopback (Bybit v5 linear, one request per
//! second per path).
//!
//! Sent at once, the cancel overtook the paced create: the venue answered it "order does not exist"
//! (`110001`), the follow-up query found no order, the gateway reported the order rejected, and the
//! create then landed: a working order at the venue that nobody tracked.

mod engine_support;

use std::future::poll_fn;
use std::time::Duration;

use engine_support::{VenueThread, data, standard_fees};
use ferrotrade_live::clock::WallClock;
use ferrotrade_live::gateway::bybit::BybitGateway;
use ferrotrade_live::gateway::{Gateway, GatewayCommand, GatewayEvent};
use ferrotrade_localvenue::{ApiAccount, LocalVenueConfig, RateLimits, VenueState};
use ferrotrade_model::{
    ClientOrderId, Decimal, Instrument, InstrumentId, InstrumentIndex, OrderEvent, OrderEventKind, OrderRequest,
    OrderSide, Price, Quantity, Venue,
};
use ferrotrade_venues::auth::{Credentials, Secret};
use ferrotrade_venues::trading::bybit::{BybitRequests, Category, client_id_to_wire};

const KEY: &str = "XK4AjwWqGaNnY6LkB2";
const SECRET: &str = "zT9pQmR3vLxC8sWd2fHj6KbN4yGe1aUo7iPZ";
const XRPUSDT: InstrumentIndex = InstrumentIndex(0);

fn venue() -> VenueThread {
    let config = LocalVenueConfig {
        replay: vec![data("bybit/2024-12-01_XRPUSDT_ob500.data")],
        accounts: vec![ApiAccount { api_key: KEY.into(), secret: Secret::new(SECRET), ed25519_public_pem: None }],
        balances: vec![("USDT".into(), Decimal::parse_str("100000").expect("decimal"))],
        limits: RateLimits { bybit_requests_per_second: 1, ..RateLimits::default() },
        // No market data moves: the orders rest far from the touch until cancelled.
        start_paused: true,
        sim: standard_fees(),
        ..LocalVenueConfig::default()
    };
    VenueThread::start_with(config, Venue::BybitLinear)
}

fn gateway(venue: &VenueThread) -> BybitGateway {
    let id = InstrumentId::new(Venue::BybitLinear, "XRPUSDT");
    // XRPUSDT as the venue lists it: tick 0.0001, lot 1.
    let spec = Instrument::with_precisions(id, 4, 0);
    let requests = BybitRequests::new(Credentials::hmac(KEY, SECRET));
    let private = venue.ws.replace("/v5/public/linear", "/v5/private");
    let instruments = vec![Some(("XRPUSDT".to_owned(), spec))];
    BybitGateway::new(Category::Linear, requests, venue.rest.clone(), private, instruments, WallClock::start())
}

/// A post-only buy of 10 at 0.5000, far below the capture's prices (about 1.0-1.1): it rests.
fn resting_buy() -> OrderRequest {
    let mut request = OrderRequest::limit(XRPUSDT, OrderSide::Buy, Price(5000), Quantity(10));
    request.post_only = true;
    request
}

/// The gateway's order events until `until` holds for one of them, polling it as the engine does.
async fn events_until(
    gateway: &mut BybitGateway,
    seen: &mut Vec<OrderEvent>,
    until: impl Fn(&OrderEvent) -> bool,
) -> Result<(), String> {
    let wait = async {
        loop {
            if let GatewayEvent::Order(event) = poll_fn(|cx| gateway.poll_event(cx)).await {
                let done = until(&event);
                seen.push(event);
                if done {
                    return;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.map_err(|_| format!("no such event in 10 s: {seen:#?}"))
}

fn status_at_venue(state: &VenueState, client_id: ClientOrderId) -> &'static str {
    let wire = client_id_to_wire(client_id);
    let order = state.orders.iter().find(|order| order.client_order_id == wire.as_str());
    order.map_or("unknown", |order| order.status)
}

#[test]
fn a_cancel_waits_for_its_orders_paced_create() {
    let venue = venue();
    let (first, second) = (ClientOrderId(7_001), ClientOrderId(7_002));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let seen = tokio::task::LocalSet::new().block_on(&runtime, async {
        let mut gateway = gateway(&venue);
        let mut seen = Vec::new();
        let now = WallClock::start().now();
        // The first create uses up `/v5/order/create`'s one-second window: its answer says so. The
        // gateway's tasks run while this waits (a tenth of the window, many loopback round trips).
        gateway.send(GatewayCommand::Submit { client_id: first, request: resting_buy() }, now);
        let settle = events_until(&mut gateway, &mut seen, |_| false);
        tokio::time::timeout(Duration::from_millis(100), settle).await.ok();
        // The second create waits for the next window; its cancel, on another path, would not.
        let paced = gateway.send(GatewayCommand::Submit { client_id: second, request: resting_buy() }, now);
        assert!(paced.is_none(), "the second create waits for the rate-limit window");
        let cancel = gateway.send(GatewayCommand::Cancel { client_id: second, instrument: XRPUSDT }, now);
        assert!(cancel.is_none(), "the cancel waits for its order's create");
        let ended = |event: &OrderEvent| {
            event.client_id == second
                && matches!(
                    event.kind,
                    OrderEventKind::Canceled | OrderEventKind::Rejected(_) | OrderEventKind::Filled(_)
                )
        };
        events_until(&mut gateway, &mut seen, ended).await.expect("the second order ends");
        seen
    });
    let state = venue.finish();
    let second_events: Vec<&OrderEventKind> =
        seen.iter().filter(|event| event.client_id == second).map(|event| &event.kind).collect();
    assert!(
        matches!(second_events.as_slice(), [OrderEventKind::Accepted(_), OrderEventKind::Canceled]),
        "the paced order is accepted, then cancelled: {second_events:?}"
    );
    assert_eq!(status_at_venue(&state, second), "CANCELED", "{:?}", state.orders);
    assert_eq!(status_at_venue(&state, first), "NEW", "{:?}", state.orders);
}
