//! The scheduled rollover of market-data connections over real sockets: the engine, in live mode against
//! the local venue replaying the real USD-M capture at three times its pace, replaces its connection every
//! second (the venues cut theirs at 24 h; `rollover_after_s` renews them before). Each switch must be
//! invisible to the strategies: no resync, no reconnect, every trade once and in order, and a book equal
//! to the offline rebuild at its update id.

mod engine_support;

use std::os::unix::fs::PermissionsExt;

use engine_support::{
    StopWhenQuiet, TradeTape, VenueThread, at_8_decimals, data, live_config, market_makers, offline_market,
};
use ferrotrade_live::{REPORT_BOOK_DEPTH, run};
use ferrotrade_localvenue::{ApiAccount, LocalVenueConfig, Speed};
use ferrotrade_model::{Decimal, Venue};
use ferrotrade_venues::auth::Secret;

const KEY: &str = "rolloverKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP";
const SECRET: &str = "rolloverSecret0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL";

#[test]
fn connections_roll_over_every_second_without_a_gap_the_strategies_can_see() {
    let capture = data("sessions/binance-usdm/btcusdt_20240808.gz");
    let venue = VenueThread::start_with(
        LocalVenueConfig {
            replay: vec![capture.clone()],
            accounts: vec![ApiAccount { api_key: KEY.into(), secret: Secret::new(SECRET), ed25519_public_pem: None }],
            balances: vec![("USDT".into(), Decimal::parse_str("100000").expect("decimal"))],
            speed: Speed::Realtime(3.0),
            start_paused: true,
            ..LocalVenueConfig::default()
        },
        Venue::BinanceUsdm,
    );
    let dir = std::env::temp_dir().join(format!("ft-engine-rollover-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(dir.join("keys")).expect("dir");
    let keys = dir.join("keys/keys.toml");
    std::fs::write(&keys, format!("api_key = \"{KEY}\"\napi_secret = \"{SECRET}\"\n")).expect("write");
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut config = live_config(&venue, &dir.join("run"), &keys, "");
    config.live.rollover_after_s = 1;
    let tape = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut strategies = market_makers(&config);
    strategies.push(Box::new(TradeTape { instrument: "binance-usdm.BTCUSDT".into(), ids: std::rc::Rc::clone(&tape) }));
    // About six seconds of the run: 18 s of recorded market, five or six rollovers.
    let mut hooks = StopWhenQuiet { stop_after_messages: Some(5_000), ..StopWhenQuiet::after_replay(&venue) };
    let report = run(config, strategies, &mut hooks).expect("run succeeds");
    drop(venue.finish());
    std::fs::remove_dir_all(&dir).ok();

    assert!(report.rollovers >= 3, "{report:#?}");
    assert_eq!((report.resyncs, report.reconnects, report.trades_lost), (0, 0, 0), "{report:#?}");
    let market = &report.markets[0];
    assert!(market.synced, "{market:?}");
    let ([bids, asks], trades) = offline_market(&capture, market.update_id, REPORT_BOOK_DEPTH);
    let (price, size) = (market.price_precision, market.size_precision);
    assert_eq!(at_8_decimals(&market.bids, price, size), bids, "bids at update {}", market.update_id);
    assert_eq!(at_8_decimals(&market.asks, price, size), asks, "asks at update {}", market.update_id);
    let taped = tape.borrow().clone();
    assert!(!taped.is_empty());
    assert_eq!(taped[..], trades[..taped.len()], "every trade once and in order across the switches");
}
