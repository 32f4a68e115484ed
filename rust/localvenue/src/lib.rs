//! A Binance- and Bybit-compatible venue on loopback: the protocol peer of the live engine's
//! end-to-end tests, demos and paper runs.
//!
//! # What
//! One axum server on one port that
//! - **replays real captures** (hftbacktest collector files `<local_ts> <json>`, Bybit history archives,
//!   cryptofeed JSONL records, whose connections may be of several markets: each frame is served on its
//!   connection's) as the original frame bytes to the WebSocket subscribers of each frame's stream, in
//!   recorded order, with the recorded spacing scaled by [`Speed`] or as fast as the subscribers read;
//! - answers the venues' **REST market endpoints** from its own replayed book: the capture's snapshot
//!   plus the diffs already sent, so a client that follows the venue's documented sync procedure
//!   rebuilds exactly the book an offline rebuild of the capture gives;
//! - takes **signed orders** (key, timestamp window, HMAC or Ed25519 signature checked as the venues do),
//!   matches them with [`ferrotrade_sim::SimVenue`] against the replayed market, and pushes the
//!   venues' **user-data events** on Binance listenKey streams and Bybit's private stream;
//! - applies the venues' **rate limits** and seeded **faults** (dropped, duplicated and reordered
//!   market messages, periodic disconnects, added delay, REST 5xx).
//!
//! # Why
//! The live engine speaks the venues' real wire protocols. Testing it against a peer that speaks the
//! same protocols on loopback, with real recorded traffic and the backtester's matching engine, tests
//! the real code paths (parsing, sync, signing, reconnects, rate limits) without the internet.
//!
//! # URL layout (one port `P`)
//! | venue | REST base | public WebSocket | user data / private |
//! |---|---|---|---|
//! | binance-spot | `http://127.0.0.1:P` (`/api/v3/...`) | `ws://127.0.0.1:P/binance-spot` + `/stream?streams=a/b` or `/ws/<stream>` | `ws://127.0.0.1:P/binance-spot/ws/<listenKey>` |
//! | binance-usdm | `http://127.0.0.1:P` (`/fapi/...`) | `ws://127.0.0.1:P/binance-usdm` + as above | `ws://127.0.0.1:P/binance-usdm/ws/<listenKey>` |
//! | bybit-linear | `http://127.0.0.1:P` (`/v5/...`) | `ws://127.0.0.1:P/v5/public/linear` | `ws://127.0.0.1:P/v5/private` |
//! | bybit-spot | `http://127.0.0.1:P` (`/v5/...`) | `ws://127.0.0.1:P/v5/public/spot` | `ws://127.0.0.1:P/v5/private` |
//!
//! REST endpoints: Binance spot `ping`, `time`, `exchangeInfo`, `depth`, `order` (POST/GET/DELETE),
//! `order/amend/keepPriority`, `openOrders` (GET/DELETE), `account`, `myTrades`, `userDataStream`;
//! Binance USD-M `ping`, `time`, `exchangeInfo`, `depth`, `order` (POST/GET/PUT/DELETE), `openOrders`,
//! `allOpenOrders`, `v2/account`, `v2/positionRisk`, `userTrades`, `listenKey`; Bybit v5 `market/time`,
//! `market/instruments-info`, `market/orderbook`, `order/create|cancel|amend|cancel-all|realtime`,
//! `position/list`, `account/wallet-balance`.
//!
//! # Invariants
//! - A recorded frame reaches a subscriber byte for byte as recorded (or as its `data` payload on a raw
//!   `/ws/<stream>` connection), and frames of one capture arrive in recorded order, unless the
//!   reorder fault is on.
//! - Under [`Speed::Max`] nothing is dropped for speed: the replay waits for a full queue, and only a
//!   subscriber that stalls past [`SessionLimits::slow_subscriber_timeout`] is disconnected (counted).
//! - A frame is applied to the exchange before it is queued: a REST depth answer's `lastUpdateId` is
//!   never behind a diff a client could already hold.
//! - Faults are seeded: the same seed, config and connection order inject the same faults.
//! - Secrets, signatures and signed texts never appear in a response, a log line or `Debug` output.
//! - Server time is wall time (clients sign with it); recorded frames keep their recorded times.
//!
//! # Example
//! ```no_run
//! # async fn demo() -> Result<(), ferrotrade_localvenue::LocalVenueError> {
//! use ferrotrade_localvenue::{LocalVenue, LocalVenueConfig, Speed};
//! use ferrotrade_model::Venue;
//!
//! let venue = LocalVenue::start(LocalVenueConfig {
//!     replay: vec!["tests/data/sessions/binance-usdm/btcusdt_20240808.gz".into()],
//!     speed: Speed::Realtime(1.0),
//!     start_paused: true,
//!     ..LocalVenueConfig::default()
//! })
//! .await?;
//! let streams = format!("{}/stream?streams=btcusdt@depth@0ms/btcusdt@trade", venue.ws_base(Venue::BinanceUsdm));
//! let depth = format!("{}/fapi/v1/depth?symbol=BTCUSDT&limit=1000", venue.rest_base());
//! # let _ = (streams, depth);
//! venue.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod capture;
mod clock;
mod config;
mod error;
mod exchange;
mod hub;
mod limits;
mod replay;
mod rest;
mod server;
mod state;
mod userstream;
mod wire;
mod ws;

pub use config::{ApiAccount, FaultConfig, LocalVenueConfig, RateLimits, SessionLimits, Speed};
pub use error::LocalVenueError;
pub use server::{LocalVenue, ServeReport, serve_blocking};
pub use state::{BalanceState, BookState, CounterSnapshot, OrderState, PositionState, VenueState};
