//! [`BridgeClient`]: the engine side of the model-server bridge, for models that cannot run in process
//! (a PyTorch model in research): feature vectors go to `ferrotrade ml serve` over ZeroMQ and predictions
//! come back asynchronously.
//!
//! # Never blocking the engine
//! The sockets live on a thread of their own (a tokio current-thread runtime). The engine's side is two
//! non-blocking calls: [`BridgeClient::request`] puts the feature vector into a bounded queue (a full queue
//! drops the request and counts it), and [`BridgeClient::poll`] takes the answers that arrived. Requests are
//! fixed-size values (up to [`MAX_FEATURES`] features), so neither call allocates.
//!
//! # Late answers
//! The I/O thread stamps each request when it is written to the socket and each answer when it is read
//! (wall clock). An answer that took longer than `timeout_ms`, or that answers an older request than one
//! already answered, is *late*: counted in [`BridgeStats`] and never returned. A request that is never
//! answered costs nothing but its count.
//!
//! # Determinism
//! The answers' timing is the network's and the server's, so a backtest with a bridged model is not
//! reproducible; use it for paper and live runs, and export to ONNX for reproducible backtests.

pub mod wire;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;
use zeromq::{Socket, SocketRecv, SocketSend};

use crate::error::InferError;

/// Largest feature vector the bridge carries.
pub const MAX_FEATURES: usize = 64;

/// Where and how to reach the model server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// ZeroMQ endpoint of the server's ROUTER socket (`tcp://127.0.0.1:5555`).
    pub endpoint: String,
    /// An answer later than this (from request written to answer read) is ignored.
    pub timeout_ms: u64,
    /// Requests waiting to be written (default 64); more are dropped.
    #[serde(default = "default_queue")]
    pub queue: usize,
}

const fn default_queue() -> usize {
    64
}

/// Counters of a bridge (shared with its I/O thread).
#[derive(Debug, Default)]
pub struct BridgeStats {
    /// Requests written to the socket.
    pub sent: AtomicU64,
    /// Requests dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Answers in time, handed to the engine.
    pub answered: AtomicU64,
    /// Answers too late, or older than one already used: ignored.
    pub late: AtomicU64,
    /// Answers reporting a model error, or frames that could not be decoded.
    pub errors: AtomicU64,
    /// Socket errors (connect, send, receive).
    pub socket_errors: AtomicU64,
}

impl BridgeStats {
    /// `(sent, dropped, answered, late, errors, socket_errors)`.
    #[must_use]
    pub fn snapshot(&self) -> [u64; 6] {
        [&self.sent, &self.dropped, &self.answered, &self.late, &self.errors, &self.socket_errors]
            .map(|counter| counter.load(Ordering::Relaxed))
    }
}

#[derive(Clone, Copy)]
struct Request {
    seq: u64,
    ts: u64,
    len: usize,
    values: [f64; MAX_FEATURES],
}

/// An answer in time: `(seq, signal)`.
type Answer = (u64, f64);

/// The engine side of the bridge; see the module docs.
pub struct BridgeClient {
    requests: mpsc::Sender<Request>,
    answers: mpsc::Receiver<Answer>,
    stats: Arc<BridgeStats>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    next_seq: u64,
    last_used: u64,
    latest: Option<f64>,
}

impl std::fmt::Debug for BridgeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeClient").field("stats", &self.stats).finish_non_exhaustive()
    }
}

impl BridgeClient {
    /// Starts the I/O thread and connects to `config.endpoint` (ZeroMQ reconnects by itself if the server
    /// is not up yet or restarts).
    ///
    /// # Errors
    /// [`InferError::Bridge`] for an endpoint that is not `tcp://host:port`, a zero timeout or queue, or a
    /// thread that cannot start.
    pub fn connect(config: &BridgeConfig) -> Result<BridgeClient, InferError> {
        if !config.endpoint.starts_with("tcp://") {
            return Err(InferError::Bridge(format!("endpoint {:?} is not tcp://host:port", config.endpoint)));
        }
        if config.timeout_ms == 0 || config.queue == 0 {
            return Err(InferError::Bridge("timeout_ms and queue must be at least 1".into()));
        }
        let (request_tx, request_rx) = mpsc::channel(config.queue);
        let (answer_tx, answer_rx) = mpsc::channel(config.queue.max(16));
        let stats = Arc::new(BridgeStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let io = Io {
            endpoint: config.endpoint.clone(),
            timeout: Duration::from_millis(config.timeout_ms),
            stats: Arc::clone(&stats),
            stop: Arc::clone(&stop),
        };
        let thread = std::thread::Builder::new()
            .name("ferrotrade-bridge".into())
            .spawn(move || io.run(request_rx, answer_tx))
            .map_err(|error| InferError::Bridge(format!("cannot start the bridge thread: {error}")))?;
        Ok(BridgeClient {
            requests: request_tx,
            answers: answer_rx,
            stats,
            stop,
            thread: Some(thread),
            next_seq: 1,
            last_used: 0,
            latest: None,
        })
    }

    /// Queues a prediction request for the sample at `ts`; never blocks. Returns the request's `seq`, or
    /// `None` when it was dropped (queue full, or more than [`MAX_FEATURES`] features).
    pub fn request(&mut self, ts: u64, features: &[f64]) -> Option<u64> {
        if features.len() > MAX_FEATURES {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let mut request = Request { seq: self.next_seq, ts, len: features.len(), values: [0.0; MAX_FEATURES] };
        request.values[..features.len()].copy_from_slice(features);
        match self.requests.try_send(request) {
            Ok(()) => {
                self.next_seq += 1;
                Some(request.seq)
            }
            Err(_) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// The newest in-time answer that arrived since the last call, if any; never blocks.
    pub fn poll(&mut self) -> Option<f64> {
        let mut fresh = None;
        while let Ok((seq, signal)) = self.answers.try_recv() {
            if seq <= self.last_used {
                self.stats.late.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if fresh.is_some() {
                // A newer answer replaces one not used yet: the older one is superseded.
                self.stats.late.fetch_add(1, Ordering::Relaxed);
            }
            self.last_used = seq;
            fresh = Some(signal);
        }
        if fresh.is_some() {
            self.latest = fresh;
        }
        fresh
    }

    /// The last answer returned by [`BridgeClient::poll`].
    #[must_use]
    pub fn latest(&self) -> Option<f64> {
        self.latest
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> &BridgeStats {
        &self.stats
    }
}

impl Drop for BridgeClient {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The I/O thread.
struct Io {
    endpoint: String,
    timeout: Duration,
    stats: Arc<BridgeStats>,
    stop: Arc<AtomicBool>,
}

impl Io {
    fn run(self, requests: mpsc::Receiver<Request>, answers: mpsc::Sender<Answer>) {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(_) => {
                self.stats.socket_errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        runtime.block_on(self.serve(requests, answers));
    }

    async fn serve(&self, mut requests: mpsc::Receiver<Request>, answers: mpsc::Sender<Answer>) {
        let mut socket = zeromq::DealerSocket::new();
        // The first connect may fail while the server is not up: retry until it is, or until stopped (each
        // attempt is bounded, so a stop request is seen within a second).
        loop {
            match tokio::time::timeout(Duration::from_secs(1), socket.connect(&self.endpoint)).await {
                Ok(Ok(())) => break,
                Ok(Err(_)) | Err(_) => {
                    self.stats.socket_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (mut send, mut recv) = socket.split();
        // Requests written and not answered yet, oldest first: (seq, written at). The sender and the receiver
        // run as two futures polled by one `select!` created once: neither is ever cancelled mid-message
        // (a `select!` in a loop would drop a half-received frame whenever another branch won).
        let pending: std::sync::Mutex<VecDeque<(u64, std::time::Instant)>> = std::sync::Mutex::new(VecDeque::new());
        let sender = async {
            let mut frame = Vec::with_capacity(wire::REQUEST_HEADER + 8 * MAX_FEATURES);
            while let Some(request) = requests.recv().await {
                wire::encode_request(&mut frame, request.seq, request.ts, &request.values[..request.len]);
                if send.send(zeromq::ZmqMessage::from(frame.clone())).await.is_err() {
                    self.stats.socket_errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                self.stats.sent.fetch_add(1, Ordering::Relaxed);
                let mut pending = pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                pending.push_back((request.seq, now()));
                // Forget requests far past their timeout: their answers can only be late now.
                while pending.front().is_some_and(|(_, at)| now().duration_since(*at) > self.timeout * 10) {
                    pending.pop_front();
                }
            }
        };
        let receiver = async {
            loop {
                let Ok(message) = recv.recv().await else {
                    self.stats.socket_errors.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let Some(bytes) = message.get(message.len().saturating_sub(1)) else { continue };
                match wire::decode_reply(bytes) {
                    Ok(wire::Reply { seq, outcome: Ok(signal) }) => {
                        let written = {
                            let mut pending = pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                            let index = pending.iter().position(|(pending_seq, _)| *pending_seq == seq);
                            index.and_then(|index| pending.remove(index)).map(|(_, at)| at)
                        };
                        let in_time = written.is_some_and(|at| now().duration_since(at) <= self.timeout);
                        if in_time && answers.try_send((seq, signal)).is_ok() {
                            self.stats.answered.fetch_add(1, Ordering::Relaxed);
                        } else {
                            self.stats.late.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(wire::Reply { outcome: Err(_), .. }) | Err(_) => {
                        self.stats.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        };
        let stopper = async {
            while !self.stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::select! {
            () = sender => {}
            () = receiver => {}
            () = stopper => {}
        }
    }
}

/// The wall clock: the bridge measures real answer times (it is an I/O edge, like the live feeds).
#[allow(clippy::disallowed_methods, reason = "answer latency is wall-clock time at the I/O edge")]
fn now() -> std::time::Instant {
    std::time::Instant::now()
}
