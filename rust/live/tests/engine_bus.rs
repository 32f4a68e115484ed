//! The monitoring bus of a live run, end to end on loopback: the engine trades the market maker in live
//! mode against the local venue (signed REST, the listenKey user stream) with `[bus]` on; a ZeroMQ
//! subscriber receives every fill the journal holds, numbered without a gap, and a `kill` on the command
//! socket cancels every order, flattens the position through the risk chain and halts, as the venue's own
//! records confirm.

mod engine_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use engine_support::{BINANCE_USDM_BTCUSDT, VenueThread, data, live_config_for, market_makers, standard_fees};
use ferrotrade_bus::proto::{self, envelope::Body};
use ferrotrade_live::{LiveHooks, LiveStatus, run};
use ferrotrade_localvenue::{ApiAccount, LocalVenueConfig, Speed};
use ferrotrade_model::{Decimal, Venue};
use ferrotrade_venues::auth::Secret;
use prost::Message;
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

const KEY: &str = "busTestKey00000000000000000000000000000000000000000000000000000";
const SECRET: &str = "busTestSecret000000000000000000000000000000000000000000000000000";
const TOKEN: &str = "bus-engine-test-token-0123456789";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn private_file(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// Stops the run once the test's client is done (or the replay is over and the engine went quiet).
struct StopWhenDone {
    done: Arc<AtomicBool>,
    replayed: Arc<AtomicBool>,
    last_messages: u64,
    quiet_ticks: u32,
}

impl LiveHooks for StopWhenDone {
    fn should_stop(&mut self) -> bool {
        self.done.load(Ordering::SeqCst) || self.quiet_ticks >= 3
    }

    fn on_status(&mut self, status: &LiveStatus) {
        let quiet = self.replayed.load(Ordering::SeqCst) && status.messages == self.last_messages;
        self.quiet_ticks = if quiet { self.quiet_ticks + 1 } else { 0 };
        self.last_messages = status.messages;
    }
}

/// What the subscriber saw.
#[derive(Default)]
struct Seen {
    fills: Vec<(String, u64, u64)>,
    heartbeats: Vec<proto::Heartbeat>,
    books: usize,
    kill: Option<proto::Reply>,
}

/// Subscribes to everything; after `kill_after` fills, with a position open, sends `kill` and waits for its
/// reply; then keeps
/// reading until the engine has been silent for a second after `done`.
fn client(publish: String, control: String, kill_after: usize, done: Arc<AtomicBool>) -> Seen {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let mut sub = zeromq::SubSocket::new();
        // The engine binds when it starts: retry until it listens.
        while sub.connect(&publish).await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sub.subscribe("").await.expect("subscribe");
        let mut seen = Seen::default();
        let mut kill_reply: Option<tokio::task::JoinHandle<proto::Reply>> = None;
        let mut position = 0;
        loop {
            let timeout = if done.load(Ordering::SeqCst) { Duration::from_secs(1) } else { Duration::from_secs(60) };
            let Ok(Ok(message)) = tokio::time::timeout(timeout, sub.recv()).await else { break };
            let topic = String::from_utf8_lossy(message.get(0).expect("topic")).into_owned();
            let envelope = proto::Envelope::decode(message.get(1).expect("payload").as_ref()).expect("envelope");
            match envelope.body {
                Some(Body::Fill(fill)) => seen.fills.push((topic, envelope.topic_seq, fill.trade_id)),
                Some(Body::Heartbeat(heartbeat)) => seen.heartbeats.push(heartbeat),
                Some(Body::Book(_)) => seen.books += 1,
                Some(Body::Position(update)) if update.strategy.is_empty() => position = update.quantity,
                _ => {}
            }
            // Killed while a position is open, so the kill has something to flatten.
            if seen.fills.len() >= kill_after && position != 0 && kill_reply.is_none() && seen.kill.is_none() {
                let control = control.clone();
                kill_reply = Some(tokio::spawn(async move {
                    let mut dealer = zeromq::DealerSocket::new();
                    dealer.connect(&control).await.expect("connect control");
                    let command = proto::Command {
                        token: TOKEN.into(),
                        request_id: 1,
                        command: Some(proto::command::Command::Kill(proto::KillCommand { timeout_ms: 10_000 })),
                    };
                    dealer.send(ZmqMessage::from(command.encode_to_vec())).await.expect("send kill");
                    let reply = dealer.recv().await.expect("kill reply");
                    proto::Reply::decode(reply.get(reply.len() - 1).expect("frame").as_ref()).expect("reply")
                }));
            }
            if let Some(handle) = &kill_reply
                && handle.is_finished()
                && seen.kill.is_none()
            {
                seen.kill = kill_reply.take().map(finished_reply);
                done.store(true, Ordering::SeqCst);
            }
        }
        seen
    })
}

/// The result of a finished task.
fn finished_reply(handle: tokio::task::JoinHandle<proto::Reply>) -> proto::Reply {
    futures_util::FutureExt::now_or_never(handle).expect("finished").expect("kill task")
}

#[test]
fn every_journaled_fill_is_published_and_kill_flattens_and_halts() {
    let dir = std::env::temp_dir().join(format!("ft-engine-bus-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(dir.join("keys")).expect("dir");
    let keys = dir.join("keys/keys.toml");
    private_file(&keys, &format!("api_key = \"{KEY}\"\napi_secret = \"{SECRET}\"\n"));
    let token_file = dir.join("keys/control.token");
    private_file(&token_file, TOKEN);
    let venue = VenueThread::start_with(
        LocalVenueConfig {
            replay: vec![data("sessions/binance-usdm/btcusdt_20240808.gz")],
            accounts: vec![ApiAccount { api_key: KEY.into(), secret: Secret::new(SECRET), ed25519_public_pem: None }],
            balances: vec![("USDT".into(), Decimal::parse_str("100000").expect("decimal"))],
            start_paused: true,
            sim: standard_fees(),
            speed: Speed::Realtime(10.0),
            ..LocalVenueConfig::default()
        },
        Venue::BinanceUsdm,
    );
    let (publish, control) = (format!("tcp://127.0.0.1:{}", free_port()), format!("tcp://127.0.0.1:{}", free_port()));
    let bus = format!(
        "\n[bus]\npublish = \"{publish}\"\ncontrol = \"{control}\"\nhttp = \"\"\ntoken_file = \"{}\"\n\
         wait_subscribers = 1\nheartbeat_ms = 200\n",
        token_file.display()
    );
    let market = engine_support::LiveMarket { max_position: "0.004", ..BINANCE_USDM_BTCUSDT };
    let config = live_config_for(&venue, &dir.join("run"), &keys, &market, &bus);
    let strategies = market_makers(&config);
    let done = Arc::new(AtomicBool::new(false));
    let subscriber = {
        let done = done.clone();
        std::thread::spawn(move || client(publish, control, 3, done))
    };
    let mut hooks = StopWhenDone { done: done.clone(), replayed: venue.done.clone(), last_messages: 0, quiet_ticks: 0 };
    let report = run(config, strategies, &mut hooks).expect("run succeeds");
    done.store(true, Ordering::SeqCst);
    let seen = subscriber.join().expect("subscriber");
    let state = venue.finish();

    // Every fill the journal holds reached the subscriber once, numbered from 1 without a gap.
    let journal =
        std::fs::read_to_string(dir.join("run").join(ferrotrade_live::journal::JOURNAL_FILE)).expect("journal");
    let journaled: Vec<u64> = journal
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|record| record["kind"]["k"] == "filled")
        .filter_map(|record| record["kind"]["trade_id"].as_u64())
        .collect();
    let published: Vec<u64> = seen.fills.iter().map(|(_, _, trade_id)| *trade_id).collect();
    assert!(published.len() >= 3, "the market maker was filled: {report:#?}");
    assert_eq!(published, journaled, "every journaled fill, once, in order");
    assert_eq!(report.fills as usize, published.len());
    for (index, (topic, topic_seq, _)) in seen.fills.iter().enumerate() {
        assert_eq!(topic, "fill.binance-usdm.BTCUSDT");
        assert_eq!(*topic_seq, index as u64 + 1, "fill numbers are gapless from 1");
    }
    assert!(seen.books > 0 && !seen.heartbeats.is_empty(), "books and heartbeats are published too");

    // The kill: nothing open, flat, halted; the venue agrees.
    let kill = seen.kill.expect("the kill was answered");
    assert!(kill.ok, "{kill:?}");
    let Some(proto::reply::Reply::Kill(killed)) = kill.reply else { panic!("a kill report: {kill:?}") };
    assert_eq!((killed.open_orders, killed.open_positions), (0, 0), "{killed:?}");
    // The kill is sent while the published position is open; a fill already on its way can still close it
    // before the cancels land, so the flattening order is usual (printed below), not asserted.
    assert_eq!(killed.state, proto::TradingState::Halted as i32);
    eprintln!(
        "kill: {} cancelled, {} flattening orders, {:.1} ms from the command's arrival",
        killed.cancelled,
        killed.flatten_orders,
        killed.elapsed_ns as f64 / 1e6
    );
    let last_state = seen.heartbeats.last().map(|heartbeat| heartbeat.state);
    assert_eq!(last_state, Some(proto::TradingState::Halted as i32), "the last heartbeat says halted");
    assert_eq!(report.positions[0].quantity, 0, "{report:#?}");
    let open_at_venue = state.orders.iter().filter(|order| matches!(order.status, "NEW" | "PARTIALLY_FILLED")).count();
    assert_eq!(open_at_venue, 0, "{:?}", state.orders);
    let venue_size = state
        .positions
        .iter()
        .find(|position| position.symbol == "BTCUSDT")
        .map_or(Decimal::ZERO, |position| position.size);
    assert_eq!(venue_size, Decimal::ZERO, "the venue's position is flat");
    let bus = report.bus.expect("bus counters");
    assert_eq!((bus.commands, bus.auth_failures), (1, 0), "{:?}", report.notices);
    std::fs::remove_dir_all(&dir).ok();
}
