//! The live engine's hot path, in one Rust process, for profiling: the local venue replays the bundled real
//! Binance USD-M BTCUSDT session over WebSocket on its own thread, the engine trades the built-in market
//! maker against it in live mode (signed REST orders, the listenKey user stream), and the engine's own HDR
//! histograms are printed per stage when the replay is over.
//!
//! `benchmarks/live_latency.py` is the user-facing benchmark (the same run started from Python); this
//! example exists so `perf record` / `valgrind --tool=callgrind` see a plain Rust binary with symbols:
//!
//! ```sh
//! cargo build --release -p ferrotrade-live --example latency
//! perf record -g target/release/examples/latency --speed 20
//! target/release/examples/latency [--speed max|N] [--repeat N] [--busy-poll] [--venue-busy-poll] [--cpu N] [--paper]
//! ```
//!
//! `--speed N` replays at N times the recorded pace (default 20); `max` sends as fast as the engine reads.
//! `--busy-poll` and `--cpu N` set `[live] busy_poll` and `cpu` (the venue's threads then avoid that CPU);
//! `--venue-busy-poll` keeps the local venue from sleeping (see `LocalVenueConfig::busy_poll`).
//! `--paper` trades in paper mode: the same market data, orders filled by the simulated venue in the
//! engine (`risk_to_wire` then ends where the order is queued for it; there is no write).
//! Figures are printed, never asserted.

#[path = "../tests/engine_support/mod.rs"]
mod engine_support;

use std::os::unix::fs::PermissionsExt;

use engine_support::{StopWhenQuiet, VenueThread, data, live_config, market_makers};
use ferrotrade_live::config::Mode;
use ferrotrade_live::run;
use ferrotrade_localvenue::{ApiAccount, LocalVenueConfig, Speed};
use ferrotrade_model::{Decimal, Venue};
use ferrotrade_venues::auth::Secret;

const KEY: &str = "latencyBenchKey0000000000000000000000000000000000000000000000000";
const SECRET: &str = "latencyBenchSecret000000000000000000000000000000000000000000000";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut speed = Speed::Realtime(20.0);
    let mut repeat = 1;
    let (mut busy_poll, mut venue_busy_poll, mut cpu) = (false, false, None::<usize>);
    let mut paper = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--busy-poll" => busy_poll = true,
            "--venue-busy-poll" => venue_busy_poll = true,
            "--paper" => paper = true,
            _ => match (arg.as_str(), args.next()) {
                ("--speed", Some(value)) if value == "max" => speed = Speed::Max,
                ("--speed", Some(value)) => speed = Speed::Realtime(value.parse()?),
                ("--repeat", Some(value)) => repeat = value.parse()?,
                ("--cpu", Some(value)) => cpu = Some(value.parse()?),
                _ => {
                    let usage = "usage: latency [--speed max|N] [--repeat N] [--busy-poll] [--venue-busy-poll] [--cpu N] [--paper]";
                    return Err(format!("{usage} (got {arg})").into());
                }
            },
        }
    }
    let dir = std::env::temp_dir().join(format!("ft-latency-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("keys"))?;
    let keys = dir.join("keys/keys.toml");
    std::fs::write(&keys, format!("api_key = \"{KEY}\"\napi_secret = \"{SECRET}\"\n"))?;
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600))?;
    for round in 0..repeat {
        let venue_config = LocalVenueConfig {
            replay: vec![data("sessions/binance-usdm/btcusdt_20240808.gz")],
            accounts: vec![ApiAccount { api_key: KEY.into(), secret: Secret::new(SECRET), ed25519_public_pem: None }],
            balances: vec![("USDT".into(), Decimal::parse_str("100000")?)],
            start_paused: true,
            busy_poll: venue_busy_poll,
            speed,
            ..LocalVenueConfig::default()
        };
        // Started from a thread kept off the engine's CPU: the venue's threads inherit its CPU set.
        let venue = std::thread::spawn(move || {
            if let Some(cpu) = cpu {
                ferrotrade_live::affinity::avoid_current(cpu).expect("CPU set");
            }
            VenueThread::start_with(venue_config, Venue::BinanceUsdm)
        })
        .join()
        .map_err(|_| "the venue did not start")?;
        let run_dir = dir.join(format!("run-{round}"));
        // Re-quotes at every tick the touch moves; a quote the venue refused (post-only, the book moved on:
        // common at full speed) is placed again at once, where the default second of backoff would stop
        // that side for most of a full-speed replay and leave a handful of orders to time.
        let strategy = "requote_threshold_ticks = 1\nmin_requote_interval_ms = 0\nreject_backoff_ms = 0\n";
        let mut config = live_config(&venue, &run_dir, &keys, strategy);
        config.live.busy_poll = busy_poll;
        config.live.cpu = cpu;
        if paper {
            config.live.mode = Mode::Paper;
        }
        let strategies = market_makers(&config);
        let mut hooks = StopWhenQuiet::after_replay(&venue);
        let report = run(config, strategies, &mut hooks)?;
        drop(venue.finish());
        println!(
            "round {round}: {} messages, {} orders, {} amends, {} cancels, {} fills",
            report.messages, report.orders, report.amends, report.cancels, report.fills
        );
        println!("{:<18} {:>8} {:>9} {:>9} {:>9} {:>9}", "stage (us)", "count", "p50", "p99", "p99.9", "max");
        for stage in &report.latency {
            let us = |ns: u64| ns as f64 / 1_000.0;
            println!(
                "{:<18} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                stage.stage,
                stage.count,
                us(stage.p50_ns),
                us(stage.p99_ns),
                us(stage.p999_ns),
                us(stage.max_ns)
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
