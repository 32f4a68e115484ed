//! The connection registry: every open WebSocket, what it listens to, and the fan-out of recorded
//! frames (with the seeded market-data faults) and of user-data pushes.
//!
//! Each connection owns a bounded queue ([`crate::SessionLimits::queue_capacity`]); its task drains the
//! queue to the socket. The hub only decides *what* goes into which queue; the replay sends outside the
//! hub's lock, so a slow socket never blocks the registry.
//!
//! # Faults
//! Every market connection has its own random stream, seeded from the venue's seed and the connection's
//! number, so a run with the same seed and the same connection order injects the same faults. Per
//! frame one draw decides: drop (`p_drop`), duplicate (`p_duplicate`), hold back until after the next
//! sent frame (`p_reorder`), or send. User-data pushes are never duplicated or reordered (the venues'
//! private streams are ordered); with `user_drop` one draw per push and connection, from the hub's own
//! seeded stream, loses it.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::ws::Utf8Bytes;
use ferrotrade_model::Venue;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::config::FaultConfig;
use crate::replay::reader::Route;
use crate::state::Counters;

/// What a connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// Public market data of one endpoint family (`binance-spot`, `binance-usdm`, `bybit-linear`, `bybit-spot`).
    Market(Venue),
    /// A Binance user-data stream (`<base>/ws/<listenKey>`).
    BinanceUser { venue: Venue, account: usize, listen_key: String },
    /// Bybit's private stream; `account` is set by a successful `auth`.
    BybitPrivate { account: Option<usize> },
}

/// One message for a connection's socket.
#[derive(Debug, Clone)]
pub(crate) enum Out {
    /// A text frame, with the time it was queued (the delay fault counts from there).
    Text(Utf8Bytes, Instant),
    /// Close the connection after what was queued before.
    Close,
}

#[derive(Debug)]
struct Connection {
    endpoint: Endpoint,
    /// Binance stream names or Bybit topics.
    channels: BTreeSet<String>,
    /// Binance `/ws` connections get raw payloads, `/stream` ones the combined envelope.
    raw: bool,
    tx: mpsc::Sender<Out>,
    kill: Arc<Notify>,
    rng: Xoshiro256PlusPlus,
    held: Option<Utf8Bytes>,
}

/// What [`Hub::register`] hands the connection task.
#[derive(Debug)]
pub(crate) struct Registration {
    pub id: u64,
    pub rx: mpsc::Receiver<Out>,
    /// Notified when the hub disconnects the connection (too slow, listenKey expired).
    pub kill: Arc<Notify>,
}

/// A queue to send to, with the frames for it.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub id: u64,
    pub tx: mpsc::Sender<Out>,
    pub frames: Vec<Utf8Bytes>,
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Hub {
    connections: BTreeMap<u64, Connection>,
    next_id: u64,
    seed: u64,
    faults: FaultConfig,
    capacity: usize,
    /// The `user_drop` draws.
    user_rng: Xoshiro256PlusPlus,
}

impl Hub {
    /// An empty hub.
    pub fn new(seed: u64, faults: FaultConfig, capacity: usize) -> Hub {
        let user_rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5553_4552_5f44_524f);
        Hub { connections: BTreeMap::new(), next_id: 0, seed, faults, capacity: capacity.max(1), user_rng }
    }

    /// Whether the next user-data push to one connection is lost (the `user_drop` fault).
    pub fn lose_user_push(&mut self) -> bool {
        self.faults.user_drop > 0.0 && self.user_rng.random::<f64>() < self.faults.user_drop
    }

    /// Adds a connection.
    pub fn register(&mut self, endpoint: Endpoint, channels: BTreeSet<String>, raw: bool) -> Registration {
        self.next_id += 1;
        let id = self.next_id;
        let (tx, rx) = mpsc::channel(self.capacity);
        let kill = Arc::new(Notify::new());
        let rng = Xoshiro256PlusPlus::seed_from_u64(self.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        self.connections
            .insert(id, Connection { endpoint, channels, raw, tx, kill: Arc::clone(&kill), rng, held: None });
        Registration { id, rx, kill }
    }

    /// Removes a connection (its task ended).
    pub fn unregister(&mut self, id: u64) {
        self.connections.remove(&id);
    }

    /// Removes a connection and tells its task to close.
    pub fn kill(&mut self, id: u64) {
        if let Some(connection) = self.connections.remove(&id) {
            connection.kill.notify_one();
        }
    }

    /// The channels of a connection.
    pub fn channels(&self, id: u64) -> Vec<String> {
        self.connections.get(&id).map(|c| c.channels.iter().cloned().collect()).unwrap_or_default()
    }

    /// Adds channels; returns how many the connection holds afterwards.
    pub fn subscribe(&mut self, id: u64, channels: &[String]) -> usize {
        let Some(connection) = self.connections.get_mut(&id) else { return 0 };
        connection.channels.extend(channels.iter().cloned());
        connection.channels.len()
    }

    /// Removes channels.
    pub fn unsubscribe(&mut self, id: u64, channels: &[String]) {
        if let Some(connection) = self.connections.get_mut(&id) {
            for channel in channels {
                connection.channels.remove(channel);
            }
        }
    }

    /// Sets who a Bybit private connection is.
    pub fn authenticate(&mut self, id: u64, account: usize) {
        if let Some(connection) = self.connections.get_mut(&id) {
            connection.endpoint = Endpoint::BybitPrivate { account: Some(account) };
        }
    }

    /// Who gets recorded `frame` of `route`, after the seeded faults.
    pub fn market_deliveries(&mut self, route: &Route, frame: &Utf8Bytes, counters: &Counters) -> Vec<Delivery> {
        let FaultConfig { drop, duplicate, reorder, .. } = self.faults;
        let mut deliveries = Vec::new();
        for (id, connection) in &mut self.connections {
            if connection.endpoint != Endpoint::Market(route.venue) || !connection.channels.contains(&route.channel) {
                continue;
            }
            let text = match (connection.raw, route.payload) {
                (true, Some((start, end))) => Utf8Bytes::from(frame.as_str()[start..end].to_owned()),
                _ => frame.clone(),
            };
            let mut frames = Vec::with_capacity(2);
            let roll: f64 = if drop + duplicate + reorder > 0.0 { connection.rng.random() } else { 1.0 };
            if roll < drop {
                counters.dropped.fetch_add(1, Ordering::Relaxed);
            } else if roll < drop + duplicate {
                counters.duplicated.fetch_add(1, Ordering::Relaxed);
                frames.push(text.clone());
                frames.push(text);
            } else if roll < drop + duplicate + reorder && connection.held.is_none() {
                counters.reordered.fetch_add(1, Ordering::Relaxed);
                connection.held = Some(text);
            } else {
                frames.push(text);
            }
            if !frames.is_empty()
                && let Some(held) = connection.held.take()
            {
                frames.push(held);
            }
            if !frames.is_empty() {
                deliveries.push(Delivery { id: *id, tx: connection.tx.clone(), frames });
            }
        }
        deliveries
    }

    /// Frames held back by the reorder fault, released at the end of the replay.
    pub fn flush_held(&mut self) -> Vec<Delivery> {
        self.connections
            .iter_mut()
            .filter_map(|(id, c)| c.held.take().map(|f| Delivery { id: *id, tx: c.tx.clone(), frames: vec![f] }))
            .collect()
    }

    /// The queues of `account`'s Binance user streams of `venue`.
    pub fn binance_user(&self, venue: Venue, account: usize) -> Vec<(u64, mpsc::Sender<Out>)> {
        self.connections
            .iter()
            .filter(|(_, c)| matches!(&c.endpoint, Endpoint::BinanceUser { venue: v, account: a, .. } if *v == venue && *a == account))
            .map(|(id, c)| (*id, c.tx.clone()))
            .collect()
    }

    /// The connections of one listenKey.
    pub fn listen_key_connections(&self, listen_key: &str) -> Vec<(u64, mpsc::Sender<Out>)> {
        self.connections
            .iter()
            .filter(|(_, c)| matches!(&c.endpoint, Endpoint::BinanceUser { listen_key: k, .. } if k == listen_key))
            .map(|(id, c)| (*id, c.tx.clone()))
            .collect()
    }

    /// The queues of `account`'s authenticated Bybit private connections subscribed to `topic`.
    pub fn bybit_private(&self, account: usize, topic: &str) -> Vec<(u64, mpsc::Sender<Out>)> {
        self.connections
            .iter()
            .filter(|(_, c)| {
                c.endpoint == Endpoint::BybitPrivate { account: Some(account) } && c.channels.contains(topic)
            })
            .map(|(id, c)| (*id, c.tx.clone()))
            .collect()
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.connections.len()
    }
}
