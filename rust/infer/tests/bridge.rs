//! The bridge's engine side without a server: a full queue drops requests instead of blocking, nothing is
//! answered, and bad settings are refused.
//!
//! Answers, late answers and model errors are tested against the real server (`ferrotrade ml serve`'s
//! `ModelServer`, pyzmq over libzmq) in `tests/ml/test_serve.py`, through this same client. A server
//! written with zeromq-rs's ROUTER socket cannot stand in for it: in our trials it lost the reply that
//! followed one it had delayed, while the engine's DEALER lost none of 200 answers from libzmq's ROUTER.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ferrotrade_infer::{BridgeClient, BridgeConfig};

#[test]
fn without_a_server_requests_are_dropped_not_waited_for() {
    // Nothing listens on this port: every request is either queued (then fails at the socket) or dropped
    // at once when the queue is full; none is waited for and none is answered.
    let config = BridgeConfig { endpoint: "tcp://127.0.0.1:9".into(), timeout_ms: 50, queue: 4 };
    let mut client = BridgeClient::connect(&config).expect("client");
    let queued = (0..20).filter(|i| client.request(*i, &[0.5]).is_some()).count();
    assert_eq!(client.stats().snapshot()[1], 20 - queued as u64);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(client.poll(), None);
    assert_eq!(client.stats().snapshot()[2], 0);
    // More features than a request holds: dropped too.
    assert_eq!(client.request(0, &[0.0; ferrotrade_infer::bridge::MAX_FEATURES + 1]), None);
}

#[test]
fn bad_settings_are_refused() {
    let bad = |endpoint: &str, timeout_ms| {
        BridgeClient::connect(&BridgeConfig { endpoint: endpoint.into(), timeout_ms, queue: 4 })
    };
    assert!(bad("ipc:///tmp/x", 10).is_err());
    assert!(bad("tcp://127.0.0.1:5555", 0).is_err());
}
