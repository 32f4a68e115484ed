//! [`LocalVenue`]: binding, the server and replay tasks, and their shutdown; [`serve_blocking`] for the
//! CLI.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrotrade_model::Venue;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::capture::Capture;
use crate::clock::wall_ms;
use crate::config::LocalVenueConfig;
use crate::error::LocalVenueError;
use crate::exchange::{Account, Exchange};
use crate::hub::{Hub, Out};
use crate::limits::RateLimiter;
use crate::state::{CounterSnapshot, Shared, VenueState, lock};
use crate::userstream::ListenKeys;

/// A running local venue. Dropping it without [`LocalVenue::shutdown`] leaves its tasks to the runtime,
/// which ends them when it shuts down.
#[derive(Debug)]
pub struct LocalVenue {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

/// What [`serve_blocking`] reports when it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeReport {
    /// The address served.
    pub addr: SocketAddr,
    /// Counters at shutdown.
    pub counters: CounterSnapshot,
    /// Whether every capture had been replayed.
    pub replay_done: bool,
}

impl LocalVenue {
    /// Scans the captures, binds `config.bind` and starts serving. The replay starts at once, or with
    /// the first market-data subscription when `config.start_paused` is set.
    ///
    /// # Errors
    /// [`LocalVenueError::Capture`]/[`LocalVenueError::Config`] for captures that cannot be replayed,
    /// [`LocalVenueError::Instrument`] for instruments the matching engine refuses,
    /// [`LocalVenueError::Bind`] when the address cannot be bound.
    pub async fn start(config: LocalVenueConfig) -> Result<LocalVenue, LocalVenueError> {
        let paths = config.replay.clone();
        let capture = tokio::task::spawn_blocking(move || Capture::load(&paths, &AtomicBool::new(false)))
            .await
            .map_err(|error| LocalVenueError::Config(format!("capture scan task failed: {error}")))??;
        let instruments = Arc::new(capture.instruments.clone());
        let accounts = config.accounts.iter().map(|a| Account::new(a.api_key.clone(), &config.balances)).collect();
        let exchange = Exchange::new(Arc::clone(&instruments), accounts, &config.sim)?;
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| LocalVenueError::Bind { addr: config.bind, source })?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            hub: Mutex::new(Hub::new(config.seed, config.faults.clone(), config.sessions.queue_capacity)),
            limiter: Mutex::new(RateLimiter::new(
                config.limits.binance_weight_per_minute,
                config.limits.bybit_requests_per_second,
            )),
            rng: Mutex::new(Xoshiro256PlusPlus::seed_from_u64(config.seed.wrapping_add(1))),
            listen_keys: Mutex::new(ListenKeys::default()),
            exchange: Mutex::new(exchange),
            instruments,
            counters: crate::state::Counters::default(),
            progress: watch::Sender::new(0),
            started: watch::Sender::new(false),
            done: watch::Sender::new(false),
            shutdown: watch::Sender::new(false),
            config,
        });
        let app = crate::ws::router().merge(crate::rest::router(Arc::clone(&shared))).with_state(Arc::clone(&shared));
        let mut stop = shared.shutdown.subscribe();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    crate::state::raised(&mut stop).await;
                })
                .await;
        });
        let replay = tokio::spawn(crate::replay::run(Arc::clone(&shared), capture.sessions));
        let keys = tokio::spawn(expire_listen_keys(Arc::clone(&shared)));
        let mut tasks = vec![server, replay, keys];
        if shared.config.busy_poll {
            tasks.push(tokio::spawn(spin(Arc::clone(&shared))));
        }
        if !shared.config.start_paused {
            shared.resume();
        }
        Ok(LocalVenue { shared, addr, tasks })
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:P`: the REST base of every venue (the paths differ: `/api/v3`, `/fapi`, `/v5`).
    #[must_use]
    pub fn rest_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The public WebSocket base of `venue`: `ws://127.0.0.1:P/binance-spot` and `/binance-usdm` (append
    /// `/stream?streams=..` or `/ws/<listenKey>`), `/v5/public/linear` and `/v5/public/spot` for Bybit.
    /// Venues not served locally get `ws://127.0.0.1:P/<venue name>`, which answers 404.
    #[must_use]
    pub fn ws_base(&self, venue: Venue) -> String {
        let path = match venue {
            Venue::BybitLinear => "/v5/public/linear".to_owned(),
            Venue::BybitSpot => "/v5/public/spot".to_owned(),
            other => format!("/{}", other.as_str()),
        };
        format!("ws://{}{path}", self.addr)
    }

    /// `ws://127.0.0.1:P/v5/private`.
    #[must_use]
    pub fn bybit_private_url(&self) -> String {
        format!("ws://{}/v5/private", self.addr)
    }

    /// A copy of orders, balances, positions, books and counters.
    #[must_use]
    pub fn state(&self) -> VenueState {
        self.shared.snapshot()
    }

    /// Starts a replay configured with `start_paused` without waiting for a subscription.
    pub fn resume(&self) {
        self.shared.resume();
    }

    /// Resolves when every capture has been read and every frame queued to its subscribers.
    ///
    /// # Cancel safety
    /// Cancel safe: it only watches a flag.
    pub async fn replay_done(&self) {
        crate::state::raised(&mut self.shared.done.subscribe()).await;
    }

    /// Stops the replay, closes every connection and waits for the tasks to end.
    pub async fn shutdown(self) {
        self.shared.shutdown.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// `busy_poll`: a task that only yields until the shutdown, so the runtime polls its drivers with a zero
/// timeout between turns instead of sleeping in them.
async fn spin(shared: Arc<Shared>) {
    let shutdown = shared.shutdown.subscribe();
    while !*shutdown.borrow() {
        tokio::task::yield_now().await;
    }
}

/// Sends `listenKeyExpired` on the streams of every key that expires, then closes them.
async fn expire_listen_keys(shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let next = lock(&shared.listen_keys).next_expiry();
        let wake = next
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1))
            .min(Instant::now() + Duration::from_secs(1));
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            () = crate::state::raised(&mut shutdown) => return,
        }
        let expired = lock(&shared.listen_keys).expire(Instant::now());
        for (key, _) in expired {
            let event = json!({"e": "listenKeyExpired", "E": wall_ms(), "listenKey": key}).to_string();
            let connections = lock(&shared.hub).listen_key_connections(&key);
            for (_, tx) in connections {
                let _ = tx.try_send(Out::Text(event.clone().into(), Instant::now()));
                let _ = tx.try_send(Out::Close);
            }
        }
    }
}

/// Runs a local venue on the calling thread (its own current-thread runtime) until `cancel` is set,
/// calling `on_ready` with the bound address once it serves.
///
/// # Errors
/// As [`LocalVenue::start`], and [`LocalVenueError::Io`] when the runtime cannot be built.
pub fn serve_blocking(
    config: LocalVenueConfig,
    cancel: &AtomicBool,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<ServeReport, LocalVenueError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let venue = LocalVenue::start(config).await?;
        on_ready(venue.addr());
        while !cancel.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let report = ServeReport {
            addr: venue.addr(),
            counters: venue.state().counters,
            replay_done: *venue.shared.done.borrow(),
        };
        venue.shutdown().await;
        Ok(report)
    })
}
