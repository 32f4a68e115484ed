//! [`LocalVenueConfig`]: what to replay, how fast, who may trade, and which faults and limits to apply.
//!
//! Every field has a default ([`LocalVenueConfig::default`]): no capture, [`Speed::Max`], an ephemeral
//! loopback port, no account, no faults, the venues' documented limits, replay started at once. Tests
//! and the CLI override what they need with `..LocalVenueConfig::default()`.
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ferrotrade_model::Decimal;
use ferrotrade_venues::auth::Secret;

/// How fast recorded time passes on replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// The recorded spacing between frames divided by the multiplier (`1.0` is real time, `10.0` ten
    /// times faster). Non-positive or non-finite multipliers behave as [`Speed::Max`].
    Realtime(f64),
    /// As fast as the subscribers read: no pacing, every frame still delivered in order to every
    /// subscriber (the replay waits for a full queue up to [`SessionLimits::slow_subscriber_timeout`]).
    Max,
}

/// An API key the venue accepts, with the secret it verifies signatures with.
#[derive(Debug, Clone)]
pub struct ApiAccount {
    /// The key sent in `X-MBX-APIKEY` / `X-BAPI-API-KEY`.
    pub api_key: String,
    /// The HMAC secret (never printed).
    pub secret: Secret,
    /// A PKCS#8 PEM Ed25519 public key: Binance requests signed with the matching private key are
    /// accepted too (Binance's Ed25519 API keys).
    pub ed25519_public_pem: Option<String>,
}

/// Seeded faults. Probabilities apply per WebSocket market message per connection (`drop`,
/// `duplicate`, `reorder`), per user-data push (`user_drop`) and per REST request (`rest_5xx`); `0.0`
/// disables each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultConfig {
    /// A market message is not sent to this connection.
    pub drop: f64,
    /// A market message is sent twice in a row.
    pub duplicate: f64,
    /// A market message is held back and sent after the next one.
    pub reorder: f64,
    /// Every WebSocket connection (market and user data) is closed after this long, as a venue's
    /// maintenance disconnect would.
    pub disconnect_every: Option<Duration>,
    /// Added to the delivery of every WebSocket message (a latency, not a throughput limit).
    pub delay: Option<Duration>,
    /// A REST request is answered with HTTP 503 (Binance `-1001`, Bybit `10016`) before being handled.
    pub rest_5xx: f64,
    /// A user-data push (order update, execution, account update) is lost on its way to one connection:
    /// the order still changed at the venue, and a client learns of it only by asking (an order query,
    /// a trade list, reconciliation). The venues do not promise delivery of their private streams.
    pub user_drop: f64,
}

/// Request-rate limits, as the venues publish them (defaults) or tightened for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Binance request weight budget per API key-less IP per rolling minute (spot 6000, USD-M 2400; the
    /// local venue keeps one budget per Binance market). Exceeded: HTTP 429, `Retry-After`, code `-1003`.
    pub binance_weight_per_minute: u32,
    /// Bybit requests per second per API key and endpoint group (the venue's default for order entry is
    /// 10/s). Exceeded: retCode `10006`.
    pub bybit_requests_per_second: u32,
    /// Streams one Binance market-data connection may hold (the venues: 1024).
    pub binance_streams_per_connection: usize,
    /// Control messages (SUBSCRIBE, ...) a Binance connection may send per second (spot 5, USD-M 10);
    /// one more is answered with an error and the connection is closed, as the venue does.
    pub binance_messages_per_second: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            binance_weight_per_minute: 6000,
            bybit_requests_per_second: 10,
            binance_streams_per_connection: 1024,
            binance_messages_per_second: 10,
        }
    }
}

/// Connection and session lifetimes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLimits {
    /// A listenKey expires this long after its creation or last keepalive (Binance: 60 minutes); its
    /// stream then receives `listenKeyExpired` and is closed.
    pub listen_key_ttl: Duration,
    /// The server pings every WebSocket connection this often (Binance spot 20 s, USD-M 3 min).
    pub ping_interval: Duration,
    /// A connection that sends nothing (not even a pong) for this long is closed (Binance: 10 minutes).
    pub idle_timeout: Duration,
    /// Messages queued per connection; a connection whose queue is full is too slow.
    pub queue_capacity: usize,
    /// Under [`Speed::Max`], how long the replay waits for room in a full queue before it disconnects
    /// the subscriber as too slow. Under [`Speed::Realtime`] a full queue disconnects at once, as the
    /// venues do.
    pub slow_subscriber_timeout: Duration,
    /// Signed requests are accepted when `timestamp` is at most this far ahead of the server clock
    /// (Binance: 1000 ms).
    pub max_clock_ahead: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            listen_key_ttl: Duration::from_secs(60 * 60),
            ping_interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(10 * 60),
            queue_capacity: 4096,
            slow_subscriber_timeout: Duration::from_secs(5),
            max_clock_ahead: Duration::from_secs(1),
        }
    }
}

/// Everything the local venue needs.
#[derive(Debug, Clone)]
pub struct LocalVenueConfig {
    /// Capture files to replay (collector `.gz`/plain, Bybit archive `.data`); files of one recording
    /// (a collector session split at midnight) are joined as the venues crate plans them.
    pub replay: Vec<PathBuf>,
    /// Replay pacing.
    pub speed: Speed,
    /// Where to listen (`127.0.0.1:0` picks a free port).
    pub bind: SocketAddr,
    /// API keys accepted for signed requests.
    pub accounts: Vec<ApiAccount>,
    /// Starting balance of every asset of every account (`("USDT", 10000)`).
    pub balances: Vec<(String, Decimal)>,
    /// Faults to inject.
    pub faults: FaultConfig,
    /// Request-rate limits.
    pub limits: RateLimits,
    /// Connection lifetimes and timeouts.
    pub sessions: SessionLimits,
    /// Matching: fees and queue model of [`ferrotrade_sim::SimVenue`] (latency is not simulated: the
    /// network between client and server is real).
    pub sim: ferrotrade_sim::VenueConfig,
    /// Seed of every random draw (faults, listenKeys).
    pub seed: u64,
    /// The replay waits for the first market-data subscription (or [`crate::LocalVenue::resume`]).
    pub start_paused: bool,
    /// The venue's runtime never sleeps: it polls its sockets in a loop (one CPU at 100 %). On loopback
    /// a client's write runs the receiving side's TCP input and wakes the receiver; waking a thread
    /// asleep on another CPU is an inter-processor interrupt, which on a virtual machine costs the
    /// writer 10-20 us. A venue across a network charges nothing of the kind to the client's write, so
    /// latency benchmarks of a client turn this on to measure the client, not the wake-up.
    pub busy_poll: bool,
}

impl Default for LocalVenueConfig {
    fn default() -> Self {
        LocalVenueConfig {
            replay: Vec::new(),
            speed: Speed::Max,
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            accounts: Vec::new(),
            balances: Vec::new(),
            faults: FaultConfig::default(),
            limits: RateLimits::default(),
            sessions: SessionLimits::default(),
            sim: ferrotrade_sim::VenueConfig::default(),
            seed: 0,
            start_paused: false,
            busy_poll: false,
        }
    }
}
