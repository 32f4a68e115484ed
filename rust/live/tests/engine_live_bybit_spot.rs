//! Live mode end to end against the local venue on Bybit spot: signed v5 REST order entry
//! (`category=spot`) and the private WebSocket, the venue replaying real Bybit spot frames (cryptofeed's
//! capture of `orderbook.1` on the spot endpoint, `tests/data/cryptofeed/BYBIT.pr1085.jsonl`, beside its
//! linear connection) and matching our orders. Spot has no position at the venue, only balances: they
//! must have moved by exactly what the engine booked.

mod engine_support;

use engine_support::{LiveMarket, VenueThread, assert_lifecycle, data, run_lifecycle, standard_fees};
use ferrotrade_localvenue::{ApiAccount, LocalVenueConfig, Speed};
use ferrotrade_model::{Decimal, Money, Venue};
use ferrotrade_venues::auth::Secret;

const KEY: &str = "bybitSpotKey0123456";
const SECRET: &str = "bybitSpotSecret0123456789abcdefghijk";

/// ARBUSDC as the capture quotes it (0.0001 tick, 0.01 lot): best bid 0.3448-0.3449, best ask 0.345.
/// The feed asks for `orderbook.1`, the depth the capture holds.
const ARBUSDC: LiveMarket<'static> = LiveMarket {
    venue: "bybit-spot",
    symbol: "ARBUSDC",
    tick_size: "0.0001",
    lot_size: "0.01",
    risk_max_position: "100000",
    order_size: "100",
    half_spread_bps: "0",
    max_position: "1000",
    venue_extra: "book_depth = 1",
};

fn venue() -> VenueThread {
    VenueThread::start_with(
        LocalVenueConfig {
            replay: vec![data("cryptofeed/BYBIT.pr1085.jsonl")],
            accounts: vec![ApiAccount { api_key: KEY.into(), secret: Secret::new(SECRET), ed25519_public_pem: None }],
            balances: vec![("USDC".into(), Decimal::parse_str("100000").expect("decimal"))],
            start_paused: true,
            sim: standard_fees(),
            speed: Speed::Realtime(1.0),
            ..LocalVenueConfig::default()
        },
        Venue::BybitSpot,
    )
}

/// A post-only buy rests, is re-priced in place and cancelled; a market buy of half the best ask fills;
/// the venue's records and balances agree with the engine's.
#[test]
fn every_order_life_on_bybit_spot_agrees_with_the_venue() {
    // 100 ARB resting (about 34 USDC); the market order takes half of the one level the book has.
    let run = run_lifecycle(venue(), &ARBUSDC, (10_000, true, false), KEY, SECRET);
    assert_lifecycle(&run, 2);
    let take = Decimal::from_fixed(run.take, 2);
    // Spot settles in the coins: the base balance is what the engine bought, the quote balance paid the
    // notional and the fee (the local venue charges spot fees in the quote coin).
    let wallet = |asset: &str| {
        run.state.balances.iter().find(|balance| balance.asset == asset).map_or(Money::ZERO, |balance| balance.wallet)
    };
    assert_eq!(wallet("ARB"), Money::from_decimal(take), "{:?}", run.state.balances);
    assert!(run.report.fees > 0.0, "the venue charged a taker fee: {:#?}", run.report);
    let spent = (Money::from_decimal(Decimal::parse_str("100000").expect("decimal")) - wallet("USDC")).to_f64();
    let notional = Money::from_decimal(take).to_f64() * 0.345;
    assert!(spent > notional, "{spent} spent for {notional} of ARB and its fee");
}
