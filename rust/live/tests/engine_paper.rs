//! Paper mode end to end: the local venue replays a real Binance USD-M capture over loopback, the engine's
//! feed rebuilds the book, the built-in market maker quotes, the paper gateway's simulated venue fills it;
//! then a restart from the same run directory resumes without counting a fill twice.

mod engine_support;

use std::path::Path;

use engine_support::{StopWhenQuiet, VenueThread, data, market_makers};
use ferrotrade_live::config::LiveConfig;
use ferrotrade_live::journal::JOURNAL_FILE;
use ferrotrade_live::{LiveReport, run};
use ferrotrade_model::Venue;

fn config(venue: &VenueThread, run_dir: &Path) -> LiveConfig {
    let text = format!(
        r#"
[live]
mode = "paper"
run_dir = "{run_dir}"
initial_equity = 100000
reconcile_every_s = 0
journal_fsync = "never"

[[venue]]
name = "binance-usdm"
network = "local"
rest = "{rest}"
ws_public = "{ws}"

[instruments."binance-usdm.BTCUSDT"]
tick_size = 0.1
lot_size = 0.001

[paper]
fees = {{ maker = 0.0002, taker = 0.0005 }}

[risk]
max_position = 0.05

[[strategy]]
kind = "market_maker"
name = "mm"
instrument = "binance-usdm.BTCUSDT"
order_size = 0.002
half_spread_bps = 0.5
max_position = 0.01
"#,
        run_dir = run_dir.display(),
        rest = venue.rest,
        ws = venue.ws,
    );
    LiveConfig::from_toml(&text).expect("valid config")
}

/// Signed sum of the journal's fills per trade id (each trade once), and the number of fill records.
fn journal_fills(run_dir: &Path) -> (i64, usize, Vec<u64>) {
    let text = std::fs::read_to_string(run_dir.join(JOURNAL_FILE)).expect("journal");
    let mut sum = 0;
    let mut records = 0;
    let mut ids = Vec::new();
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("json line");
        if value["t"] == "order" {
            ids.push(value["id"].as_u64().expect("id"));
        }
        if value["kind"]["k"] == "filled" {
            records += 1;
            let qty = value["kind"]["qty"].as_i64().expect("qty");
            sum += if value["kind"]["side"] == "buy" { qty } else { -qty };
        }
    }
    (sum, records, ids)
}

fn run_once(run_dir: &Path, stop_after_messages: Option<u64>) -> LiveReport {
    let venue = VenueThread::start(data("sessions/binance-usdm/btcusdt_20240808.gz"), Venue::BinanceUsdm);
    let config = config(&venue, run_dir);
    let strategies = market_makers(&config);
    let mut hooks = StopWhenQuiet { stop_after_messages, ..StopWhenQuiet::after_replay(&venue) };
    run(config, strategies, &mut hooks).expect("run succeeds")
}

#[test]
fn paper_market_maker_quotes_fills_and_cancels_and_positions_equal_the_fills() {
    let run_dir = std::env::temp_dir().join(format!("ft-engine-paper-{}", std::process::id()));
    std::fs::remove_dir_all(&run_dir).ok();
    let report = run_once(&run_dir, None);
    assert!(report.messages > 1_000, "{report:#?}");
    assert!(report.orders > 0 && report.fills > 0, "{report:#?}");
    assert!(report.cancels + report.amends > 0, "{report:#?}");
    assert_eq!(report.open_orders, 0, "cancel_on_stop cancelled every order: {report:#?}");
    assert_eq!(report.duplicate_fills, 0);
    let (sum, records, _) = journal_fills(&run_dir);
    assert_eq!(records as u64, report.fills);
    assert_eq!(report.positions[0].quantity, sum, "position is the signed sum of the fills");
    let frame_to_book = report.latency.iter().find(|stage| stage.stage == "frame_to_book").expect("stage");
    assert!(frame_to_book.count > 0);
    std::fs::remove_dir_all(&run_dir).ok();
}

#[test]
fn a_restart_from_the_same_run_dir_keeps_positions_and_continues_client_ids() {
    let run_dir = std::env::temp_dir().join(format!("ft-engine-restart-{}", std::process::id()));
    std::fs::remove_dir_all(&run_dir).ok();
    let first = run_once(&run_dir, Some(20_000));
    let (sum_first, fills_first, ids_first) = journal_fills(&run_dir);
    assert!(fills_first > 0, "the first session filled: {first:#?}");
    assert_eq!(first.positions[0].quantity, sum_first);
    let second = run_once(&run_dir, Some(20_000));
    let (sum_all, fills_all, ids_all) = journal_fills(&run_dir);
    assert_eq!(second.replayed_fills as usize, fills_first, "the first session's fills were replayed");
    assert_eq!(fills_all as u64, first.fills + second.fills, "no fill journaled twice");
    assert_eq!(second.positions[0].quantity, sum_all, "position = every distinct fill of both sessions");
    // Client ids continue densely across the restart.
    assert!(ids_all.windows(2).all(|pair| pair[1] == pair[0] + 1), "dense ids");
    if let (Some(last_first), true) = (ids_first.last(), ids_all.len() > ids_first.len()) {
        assert_eq!(ids_all[ids_first.len()], last_first + 1);
    }
    std::fs::remove_dir_all(&run_dir).ok();
}
