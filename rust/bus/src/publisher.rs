//! [`Bus::start`]: the publisher thread, its sockets, and the [`BusHandle`] the engine keeps.
//!
//! One thread named `ferrotrade-bus` runs a tokio `current_thread` runtime with three jobs, polled
//! together and each written as one long-lived future (a `select!` in a loop would drop a half-received
//! ZeroMQ message whenever another branch won):
//! - publishing: drain the queues, encode, send on the PUB socket; ends when the engine closes its sender
//!   and everything queued went out;
//! - control: receive `Command`s on the ROUTER, check the token, hand them to the engine, send the replies
//!   (each command waits for its reply in its own task, so a long kill does not hold up a status);
//! - HTTP: `/metrics`, `/kill`, `/health` (see [`crate::http`]).
//!
//! Binding happens before [`Bus::start`] returns, so an endpoint in use stops the run before it connects to
//! any venue.

#![allow(clippy::disallowed_methods)] // the bus stamps envelopes with the wall clock

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ferrotrade_model::UnixNanos;
use futures_util::{FutureExt, StreamExt};
use prost::Message;
use tokio::sync::mpsc;
use zeromq::{Socket, SocketEvent, SocketRecv, SocketSend, ZmqMessage};

use crate::control::{ControlRequest, command_name};
use crate::encode::{Encoder, Names};
use crate::event::{EngineEvent, MarketEvent};
use crate::prometheus::BusFigures;
use crate::proto::{self, envelope::Body};
use crate::queue::{BusReceiver, BusSender, bus_queue};
use crate::{BusConfig, BusError, Token};

/// Entries drained per batch before sending them.
const BATCH: usize = 256;
/// How long the publisher keeps its socket open after the last message, so queued frames reach the
/// subscribers before the socket closes.
const LINGER: Duration = Duration::from_millis(200);
/// Grace after the awaited subscribers connected, for their subscriptions to arrive.
const SUBSCRIPTION_GRACE: Duration = Duration::from_millis(100);
/// How long a command other than kill may take the engine to answer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// The bound endpoints (ports resolved when the configuration asked for port 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The PUB endpoint.
    pub publish: String,
    /// The command endpoint, if enabled.
    pub control: Option<String>,
    /// The HTTP address, if enabled.
    pub http: Option<std::net::SocketAddr>,
}

/// The bus's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BusStats {
    /// Messages published.
    pub published: u64,
    /// Market summaries dropped (queue full).
    pub dropped: u64,
    /// Commands refused for their token.
    pub auth_failures: u64,
    /// Sends the socket refused.
    pub send_errors: u64,
    /// Commands handed to the engine.
    pub commands: u64,
}

#[derive(Debug, Default)]
pub(crate) struct SharedStats {
    pub published: AtomicU64,
    pub dropped: AtomicU64,
    pub auth_failures: AtomicU64,
    pub send_errors: AtomicU64,
    pub commands: AtomicU64,
    pub subscribers: AtomicU64,
}

impl SharedStats {
    pub(crate) fn figures(&self) -> BusFigures {
        BusFigures {
            published: self.published.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            auth_failures: self.auth_failures.load(Ordering::Relaxed),
            subscribers: self.subscribers.load(Ordering::Relaxed),
        }
    }
}

/// What the HTTP endpoint serves: the latest metrics and the account's positions.
#[derive(Debug, Default)]
pub(crate) struct Latest {
    pub metrics: Option<proto::Metrics>,
    pub positions: std::collections::BTreeMap<(String, String), proto::Position>,
}

/// The engine's side of a running bus (besides its [`BusSender`]).
#[derive(Debug)]
pub struct BusHandle {
    /// Commands that passed the token check, for the engine to carry out and answer.
    pub commands: mpsc::Receiver<ControlRequest>,
    /// Where the bus listens.
    pub endpoints: Endpoints,
    stats: Arc<SharedStats>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts buses.
#[derive(Debug)]
pub struct Bus;

impl Bus {
    /// Binds the endpoints of `config` and starts the publisher thread.
    ///
    /// `token` is required when `config` enables commands (socket or HTTP); `instruments` is the number of
    /// instruments (for per-instrument conflation).
    ///
    /// # Errors
    /// [`BusError`]: an invalid setting, a missing token, an endpoint that cannot be bound, no thread.
    pub fn start(config: &BusConfig, token: Option<Token>, names: Names) -> Result<(BusSender, BusHandle), BusError> {
        config.validate()?;
        if config.has_control() && token.is_none() {
            return Err(BusError::Token("commands are enabled (bus.control, bus.http) but no token is set".into()));
        }
        let interval = config.book_interval().map(|interval| u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX));
        let (sender, receiver) = bus_queue(config.market_queue, config.event_queue, names.instruments.len(), interval);
        let (command_sender, commands) = mpsc::channel(64);
        let (ready_sender, ready) = std::sync::mpsc::channel();
        let stats = Arc::new(SharedStats::default());
        let job =
            Job { config: config.clone(), token, names, receiver, commands: command_sender, stats: stats.clone() };
        let thread = std::thread::Builder::new()
            .name("ferrotrade-bus".into())
            .spawn(move || job.run(ready_sender))
            .map_err(|error| BusError::Runtime(format!("cannot start the publisher thread: {error}")))?;
        let endpoints = match ready.recv() {
            Ok(Ok(endpoints)) => endpoints,
            Ok(Err(error)) => {
                let _ = thread.join();
                return Err(error);
            }
            Err(_) => return Err(BusError::Runtime("the publisher thread stopped before binding".into())),
        };
        Ok((sender, BusHandle { commands, endpoints, stats, thread: Some(thread) }))
    }
}

impl BusHandle {
    /// The counters now.
    #[must_use]
    pub fn stats(&self) -> BusStats {
        BusStats {
            published: self.stats.published.load(Ordering::Relaxed),
            dropped: self.stats.dropped.load(Ordering::Relaxed),
            auth_failures: self.stats.auth_failures.load(Ordering::Relaxed),
            send_errors: self.stats.send_errors.load(Ordering::Relaxed),
            commands: self.stats.commands.load(Ordering::Relaxed),
        }
    }

    /// Closes `sender`, lets the publisher send everything queued (bounded by `timeout`) and stops the
    /// thread; the final counters.
    pub fn finish(mut self, sender: BusSender, timeout: Duration) -> BusStats {
        sender.close();
        if let Some(thread) = self.thread.take() {
            let deadline = Instant::now() + timeout;
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
        self.stats()
    }
}

struct Job {
    config: BusConfig,
    token: Option<Token>,
    names: Names,
    receiver: BusReceiver,
    commands: mpsc::Sender<ControlRequest>,
    stats: Arc<SharedStats>,
}

fn wall_now() -> UnixNanos {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos());
    UnixNanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

fn bind_error(key: &'static str, endpoint: &str, error: impl std::fmt::Display) -> BusError {
    BusError::Bind { key, endpoint: endpoint.to_owned(), reason: error.to_string() }
}

impl Job {
    fn run(self, ready: std::sync::mpsc::Sender<Result<Endpoints, BusError>>) {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(error) => {
                let _ = ready.send(Err(BusError::Runtime(format!("tokio runtime: {error}"))));
                return;
            }
        };
        runtime.block_on(self.serve(ready));
    }

    async fn serve(self, ready: std::sync::mpsc::Sender<Result<Endpoints, BusError>>) {
        let Job { config, token, names, receiver, commands, stats } = self;
        let mut publisher = zeromq::PubSocket::new();
        let monitor = publisher.monitor();
        let publish = match publisher.bind(&config.publish).await {
            Ok(endpoint) => endpoint.to_string(),
            Err(error) => {
                let _ = ready.send(Err(bind_error("publish", &config.publish, error)));
                return;
            }
        };
        let mut router = None;
        let mut control = None;
        if !config.control.is_empty() {
            let mut socket = zeromq::RouterSocket::new();
            match socket.bind(&config.control).await {
                Ok(endpoint) => control = Some(endpoint.to_string()),
                Err(error) => {
                    let _ = ready.send(Err(bind_error("control", &config.control, error)));
                    return;
                }
            }
            router = Some(socket);
        }
        let mut listener = None;
        let mut http = None;
        if !config.http.is_empty() {
            match tokio::net::TcpListener::bind(&config.http).await {
                Ok(bound) => {
                    http = bound.local_addr().ok();
                    listener = Some(bound);
                }
                Err(error) => {
                    let _ = ready.send(Err(bind_error("http", &config.http, error)));
                    return;
                }
            }
        }
        if ready.send(Ok(Endpoints { publish, control, http })).is_err() {
            return;
        }
        let latest = Arc::new(Mutex::new(Latest::default()));
        let started = Instant::now();
        let publishing = Publisher {
            socket: publisher,
            monitor,
            receiver,
            encoder: Encoder::new(names),
            latest: latest.clone(),
            stats: stats.clone(),
            started,
        }
        .run(config.wait_subscribers, Duration::from_millis(config.wait_ms));
        let controlling = async {
            match (router, &token) {
                (Some(router), Some(token)) => {
                    control_loop(router, token.clone(), commands.clone(), stats.clone()).await
                }
                _ => std::future::pending().await,
            }
        };
        let serving = async {
            match (listener, &token) {
                (Some(listener), Some(token)) => {
                    let state = crate::http::HttpState {
                        token: token.clone(),
                        commands: commands.clone(),
                        latest: latest.clone(),
                        stats: stats.clone(),
                        kill_timeout: Duration::from_millis(config.kill_timeout_ms),
                    };
                    crate::http::serve(listener, state).await;
                }
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            () = publishing => {}
            () = controlling => {}
            () = serving => {}
        }
    }
}

struct Publisher<M> {
    socket: zeromq::PubSocket,
    /// The PUB socket's monitor: connections and disconnections of subscribers.
    monitor: M,
    receiver: BusReceiver,
    encoder: Encoder,
    latest: Arc<Mutex<Latest>>,
    stats: Arc<SharedStats>,
    started: Instant,
}

impl<M: futures_util::Stream<Item = SocketEvent> + Unpin> Publisher<M> {
    async fn run(mut self, wait_subscribers: usize, wait: Duration) {
        if wait_subscribers > 0 {
            let deadline = tokio::time::Instant::now() + wait;
            while self.stats.subscribers.load(Ordering::Relaxed) < wait_subscribers as u64 {
                match tokio::time::timeout_at(deadline, self.monitor.next()).await {
                    Ok(Some(event)) => self.on_socket_event(&event),
                    Ok(None) | Err(_) => break,
                }
            }
            tokio::time::sleep(SUBSCRIPTION_GRACE).await;
        }
        let mut events = Vec::with_capacity(BATCH);
        let mut market = Vec::with_capacity(BATCH);
        loop {
            let drained = self.receiver.drain(BATCH, |event| events.push(event), |event| market.push(event));
            for event in events.drain(..) {
                self.publish_event(event).await;
            }
            for event in market.drain(..) {
                self.publish_market(&event).await;
            }
            // A PUB send only queues the message for zeromq's fan-out and writer tasks, which run on this
            // runtime too: let them send the batch before queuing the next, or a burst would overrun their
            // queues (zeromq drops beyond them, as a PUB does past its high-water mark).
            tokio::task::yield_now().await;
            while let Some(Some(event)) = self.monitor.next().now_or_never() {
                self.on_socket_event(&event);
            }
            self.stats.dropped.store(self.receiver.dropped(), Ordering::Relaxed);
            if drained.finished {
                break;
            }
            if drained.count == 0 {
                self.receiver.wait().await;
            }
        }
        tokio::time::sleep(LINGER).await;
    }

    fn on_socket_event(&self, event: &SocketEvent) {
        match event {
            SocketEvent::Accepted(..) => {
                self.stats.subscribers.fetch_add(1, Ordering::Relaxed);
            }
            SocketEvent::Disconnected(_) => {
                let _ = self
                    .stats
                    .subscribers
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |count| Some(count.saturating_sub(1)));
            }
            _ => {}
        }
    }

    async fn publish_event(&mut self, event: EngineEvent) {
        let uptime = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if let EngineEvent::Metrics(metrics) = &event {
            lock(&self.latest).metrics = Some((**metrics).clone());
        }
        let (topic, body) = self.encoder.engine_body(event, self.encoder.published(), self.receiver.dropped(), uptime);
        if let Body::Position(position) = &body
            && position.strategy.is_empty()
            && let Some(instrument) = &position.instrument
        {
            let key = (instrument.venue.clone(), instrument.symbol.clone());
            lock(&self.latest).positions.insert(key, position.clone());
        }
        self.send(topic, body).await;
    }

    async fn publish_market(&mut self, event: &MarketEvent) {
        let (topic, body) = self.encoder.market_body(event);
        self.send(topic, body).await;
    }

    async fn send(&mut self, topic: String, body: Body) {
        let payload = Bytes::copy_from_slice(self.encoder.seal(&topic, body, wall_now()));
        let mut message = ZmqMessage::from(Bytes::from(topic.into_bytes()));
        message.push_back(payload);
        if self.socket.send(message).await.is_err() {
            self.stats.send_errors.fetch_add(1, Ordering::Relaxed);
        }
        self.stats.published.store(self.encoder.published(), Ordering::Relaxed);
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Hands a checked command to the engine and waits for its answer (bounded).
pub(crate) async fn ask_engine(
    commands: &mpsc::Sender<ControlRequest>,
    command: proto::command::Command,
    request_id: u64,
    origin: &'static str,
    stats: &SharedStats,
) -> proto::Reply {
    let timeout = match &command {
        proto::command::Command::Kill(kill) if kill.timeout_ms > 0 => {
            Duration::from_millis(u64::from(kill.timeout_ms)) + Duration::from_secs(2)
        }
        proto::command::Command::Kill(_) => Duration::from_secs(30),
        _ => COMMAND_TIMEOUT,
    };
    let name = command_name(&command);
    let (request, answer) = ControlRequest::new(command, request_id, origin);
    let failure = |error: String| proto::Reply { request_id, ok: false, error, reply: None };
    if commands.send(request).await.is_err() {
        return failure("the engine is stopping".into());
    }
    stats.commands.fetch_add(1, Ordering::Relaxed);
    match tokio::time::timeout(timeout, answer).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(_)) => failure(format!("{name}: the engine stopped before answering")),
        Err(_) => failure(format!("{name}: the engine did not answer within {} ms", timeout.as_millis())),
    }
}

/// Logs a refused command: the origin and the client, never what it sent as a token.
pub(crate) fn log_refusal(origin: &str, client: &str, command: &str, stats: &SharedStats) {
    stats.auth_failures.fetch_add(1, Ordering::Relaxed);
    eprintln!("ferrotrade bus: {command} command refused on {origin} from {client}: wrong or missing token");
}

async fn control_loop(
    router: zeromq::RouterSocket,
    token: Token,
    commands: mpsc::Sender<ControlRequest>,
    stats: Arc<SharedStats>,
) {
    let (mut send, mut recv) = router.split();
    let (replies, mut outgoing) = mpsc::unbounded_channel::<ZmqMessage>();
    let receiving = async {
        loop {
            let Ok(message) = recv.recv().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let mut frames = message.into_vec();
            // [identity, payload] from a DEALER, [identity, "", payload] from a REQ.
            let Some(payload) = frames.pop() else { continue };
            let route = frames;
            let client = route.first().map_or_else(String::new, |id| id.iter().map(|b| format!("{b:02x}")).collect());
            let reply_to = |reply: proto::Reply| {
                let mut frames: Vec<Bytes> = route.clone();
                frames.push(Bytes::from(reply.encode_to_vec()));
                ZmqMessage::try_from(frames).ok()
            };
            let command = match proto::Command::decode(payload.as_ref()) {
                Ok(command) => command,
                Err(error) => {
                    let reply = proto::Reply {
                        ok: false,
                        error: format!("not a ferrotrade.v1.Command: {error}"),
                        ..Default::default()
                    };
                    if let Some(message) = reply_to(reply) {
                        let _ = replies.send(message);
                    }
                    continue;
                }
            };
            let request_id = command.request_id;
            let Some(body) = command.command else {
                let reply = proto::Reply { request_id, ok: false, error: "empty command".into(), reply: None };
                if let Some(message) = reply_to(reply) {
                    let _ = replies.send(message);
                }
                continue;
            };
            if !token.matches(command.token.as_bytes()) {
                log_refusal("control socket", &client, command_name(&body), &stats);
                let reply = proto::Reply { request_id, ok: false, error: "unauthorized".into(), reply: None };
                if let Some(message) = reply_to(reply) {
                    let _ = replies.send(message);
                }
                continue;
            }
            let commands = commands.clone();
            let stats = stats.clone();
            let replies = replies.clone();
            let route = route.clone();
            tokio::spawn(async move {
                let reply = ask_engine(&commands, body, request_id, "control socket", &stats).await;
                let mut frames = route;
                frames.push(Bytes::from(reply.encode_to_vec()));
                if let Ok(message) = ZmqMessage::try_from(frames) {
                    let _ = replies.send(message);
                }
            });
        }
    };
    let sending = async {
        while let Some(message) = outgoing.recv().await {
            if send.send(message).await.is_err() {
                stats.send_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    };
    tokio::join!(receiving, sending);
}
