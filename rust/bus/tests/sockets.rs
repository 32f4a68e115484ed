//! The bus over real sockets on loopback: a ZeroMQ SUB receives what the engine side queued, numbered and
//! in order; the command socket refuses a wrong token and hands a right one's command to the engine side,
//! whose reply reaches the client; the HTTP endpoint serves Prometheus text and guards the kill switch.
//!
//! The subscriber and the command client are zeromq (zmq.rs) sockets here; the Python tests use pyzmq
//! (libzmq) against the whole engine, so both ZeroMQ implementations talk to the bus.

use std::io::{Read, Write};
use std::time::Duration;

use ferrotrade_bus::proto::{self, envelope::Body};
use ferrotrade_bus::{Bus, BusConfig, EngineEvent, Names, Token};
use ferrotrade_model::{
    ClientOrderId, Fill, InstrumentIndex, Liquidity, Money, OrderSide, Price, Quantity, UnixNanos, VenueOrderId,
};
use prost::Message;
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

const TOKEN: &str = "bus-test-token-0123456789";

fn config() -> BusConfig {
    BusConfig {
        publish: "tcp://127.0.0.1:0".into(),
        control: "tcp://127.0.0.1:0".into(),
        http: "127.0.0.1:0".into(),
        wait_subscribers: 1,
        heartbeat_ms: 50,
        ..BusConfig::default()
    }
}

fn names() -> Names {
    Names {
        instruments: vec![proto::InstrumentRef {
            venue: "binance-usdm".into(),
            symbol: "BTCUSDT".into(),
            price_precision: 1,
            size_precision: 3,
        }],
        strategies: vec!["mm".into()],
        session: "test".into(),
        mode: "replay".into(),
    }
}

fn fill(trade_id: u64) -> EngineEvent {
    EngineEvent::Fill {
        strategy: 0,
        fill: Fill {
            client_id: ClientOrderId(1),
            venue_order_id: VenueOrderId(2),
            trade_id,
            instrument: InstrumentIndex(0),
            side: OrderSide::Buy,
            price: Price(600_001),
            quantity: Quantity(2),
            fee: Money::ZERO,
            liquidity: Liquidity::Maker,
            ts_event: UnixNanos(trade_id),
            ts_recv: UnixNanos(trade_id),
        },
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

#[test]
fn a_subscriber_gets_every_event_numbered_and_in_order() {
    let (mut sender, handle) = Bus::start(&config(), Some(Token::new(TOKEN).expect("token")), names()).expect("bus");
    let endpoint = handle.endpoints.publish.clone();
    let runtime = runtime();
    let received = runtime.block_on(async {
        let mut sub = zeromq::SubSocket::new();
        sub.connect(&endpoint).await.expect("connect");
        sub.subscribe("fill.").await.expect("subscribe");
        // Queued before the subscriber is known: the publisher waits for it (wait_subscribers = 1).
        for trade_id in 1..=500 {
            sender.event(fill(trade_id));
        }
        let mut received = Vec::new();
        while received.len() < 500 {
            let message =
                tokio::time::timeout(Duration::from_secs(10), sub.recv()).await.expect("in time").expect("recv");
            let topic = String::from_utf8(message.get(0).expect("topic").to_vec()).expect("utf8");
            let envelope = proto::Envelope::decode(message.get(1).expect("payload").as_ref()).expect("envelope");
            received.push((topic, envelope));
        }
        received
    });
    for (index, (topic, envelope)) in received.iter().enumerate() {
        assert_eq!(topic, "fill.binance-usdm.BTCUSDT");
        assert_eq!(envelope.topic_seq, index as u64 + 1, "gapless per topic");
        let Some(Body::Fill(fill)) = &envelope.body else { panic!("a fill") };
        assert_eq!(fill.trade_id, index as u64 + 1);
    }
    let stats = handle.finish(sender, Duration::from_secs(2));
    assert!(stats.published >= 500, "{stats:?}");
    assert_eq!(stats.dropped, 0);
}

async fn ask(endpoint: &str, command: proto::Command) -> proto::Reply {
    let mut dealer = zeromq::DealerSocket::new();
    dealer.connect(endpoint).await.expect("connect");
    dealer.send(ZmqMessage::from(command.encode_to_vec())).await.expect("send");
    let message = tokio::time::timeout(Duration::from_secs(10), dealer.recv()).await.expect("in time").expect("recv");
    proto::Reply::decode(message.get(message.len() - 1).expect("frame").as_ref()).expect("reply")
}

#[test]
fn commands_need_the_token_and_reach_the_engine() {
    let config = BusConfig { wait_subscribers: 0, ..config() };
    let (sender, mut handle) = Bus::start(&config, Some(Token::new(TOKEN).expect("token")), names()).expect("bus");
    let control = handle.endpoints.control.clone().expect("control endpoint");
    let runtime = runtime();
    runtime.block_on(async {
        let status = |token: &str, id| proto::Command {
            token: token.into(),
            request_id: id,
            command: Some(proto::command::Command::Status(proto::StatusCommand {})),
        };
        let refused = ask(&control, status("wrong-token-0123456789", 7)).await;
        assert!(!refused.ok);
        assert_eq!((refused.error.as_str(), refused.request_id), ("unauthorized", 7));
        // The engine's side answers the one command that passes.
        let engine = async {
            let request = handle.commands.recv().await.expect("a command");
            assert!(matches!(request.command, proto::command::Command::Status(_)));
            request.ok(Some(proto::reply::Reply::Status(proto::EngineStatus {
                session: "test".into(),
                ..Default::default()
            })));
        };
        let (reply, ()) = tokio::join!(ask(&control, status(TOKEN, 8)), engine);
        assert!(reply.ok, "{reply:?}");
        assert_eq!(reply.request_id, 8);
        let Some(proto::reply::Reply::Status(status)) = reply.reply else { panic!("a status") };
        assert_eq!(status.session, "test");
    });
    assert_eq!(handle.stats().auth_failures, 1);
    handle.finish(sender, Duration::from_secs(2));
}

fn http(address: std::net::SocketAddr, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[test]
fn http_serves_metrics_and_guards_the_kill_switch() {
    let config = BusConfig { wait_subscribers: 0, ..config() };
    let (mut sender, handle) = Bus::start(&config, Some(Token::new(TOKEN).expect("token")), names()).expect("bus");
    let address = handle.endpoints.http.expect("http");
    sender.event(EngineEvent::Metrics(Box::new(proto::Metrics { fills: 3, ..Default::default() })));
    std::thread::sleep(Duration::from_millis(200));
    let metrics = http(address, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("text/plain; version=0.0.4"), "{metrics}");
    assert!(metrics.lines().any(|line| line == "ferrotrade_fills_total 3"), "{metrics}");
    let refused = http(
        address,
        "POST /kill HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer not-the-token-000000\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(refused.contains("unauthorized") && !refused.contains("not-the-token"), "{refused}");
    assert_eq!(handle.stats().auth_failures, 1);
    handle.finish(sender, Duration::from_secs(2));
}

#[test]
fn a_busy_endpoint_is_an_error_before_anything_starts() {
    let (sender, handle) =
        Bus::start(&BusConfig { wait_subscribers: 0, ..config() }, Some(Token::new(TOKEN).expect("token")), names())
            .expect("bus");
    let taken = handle.endpoints.publish.clone();
    let second =
        BusConfig { publish: taken.clone(), control: String::new(), http: String::new(), ..BusConfig::default() };
    let error = Bus::start(&second, None, names()).expect_err("in use").to_string();
    assert!(error.starts_with("bus.publish: cannot bind"), "{error}");
    let no_token =
        Bus::start(&BusConfig { wait_subscribers: 0, ..config() }, None, names()).expect_err("no token").to_string();
    assert!(no_token.contains("token"), "{no_token}");
    handle.finish(sender, Duration::from_secs(2));
}

#[test]
fn ipc_endpoints_work_too() {
    let path = std::env::temp_dir().join(format!("ft-bus-{}.sock", std::process::id()));
    let config = BusConfig {
        publish: format!("ipc://{}", path.display()),
        control: String::new(),
        http: String::new(),
        wait_subscribers: 1,
        ..BusConfig::default()
    };
    let (mut sender, handle) = Bus::start(&config, None, names()).expect("bus");
    let endpoint = handle.endpoints.publish.clone();
    let envelope = runtime().block_on(async {
        let mut sub = zeromq::SubSocket::new();
        sub.connect(&endpoint).await.expect("connect");
        sub.subscribe("").await.expect("subscribe");
        sender.event(fill(42));
        let message = tokio::time::timeout(Duration::from_secs(10), sub.recv()).await.expect("in time").expect("recv");
        proto::Envelope::decode(message.get(1).expect("payload").as_ref()).expect("envelope")
    });
    assert!(matches!(envelope.body, Some(Body::Fill(proto::Fill { trade_id: 42, .. }))), "{envelope:?}");
    handle.finish(sender, Duration::from_secs(2));
    std::fs::remove_file(&path).ok();
}
