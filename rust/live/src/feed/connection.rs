//! One WebSocket connection of a feed, run as a tokio task: connect, subscribe, keep alive, watch, reconnect,
//! roll over.
//!
//! The task forwards every text or binary frame, untouched, to the feed's input channel together with the
//! time it was read; it never decodes (decoding happens in `MarketFeed::process`, on the engine's thread,
//! so the engine sees frames in the order they were read). Its life:
//!
//! 1. **Connect** (`TCP_NODELAY`, rustls for `wss`), send the plan's subscription frames paced by
//!    `plan::control_spacing`, report [`LinkEvent::Up`]. A failed attempt waits per [`Backoff`] (full
//!    jitter); the backoff resets once a session has delivered data.
//! 2. **Session**: forward frames, yielding after each one so the engine handles a frame before the next
//!    is read (otherwise a burst read in one go queues behind its own reading, and every frame but the
//!    first waits for the others: tick-to-trade is per frame); answer server pings at once (tungstenite
//!    queues the pong, the task flushes it, so Binance's ping deadline is met even when nothing else is
//!    written); send Bybit's `{"op":"ping"}` every `ping_every`; no data frame for `stale_after` ends the
//!    session ([`LinkEvent::Stale`]); a close or error ends it ([`LinkEvent::Down`]).
//! 3. **Rollover** after `rollover_after`: a second connection is opened and subscribed while the first
//!    keeps forwarding; the second's frames are held back. As soon as one frame (by hash) has arrived on
//!    both connections, the old stream has provably reached the start of the new one: the task reports
//!    [`LinkEvent::RolledOver`], forwards the held frames and closes the first connection. The held
//!    frames overlap what the first connection already forwarded; the feed drops the overlap by update /
//!    trade id, so the strategy sees no gap and nothing twice. Without a common frame within
//!    [`ROLLOVER_OVERLAP`] of the new connection's first frame it switches anyway (a gap, if any, is
//!    caught by the book
//!    sync). If the second connection fails, the first stays and the rollover is retried after a backoff
//!    delay.
//!
//! The task ends when the feed is dropped (its input channel or command channel closes).

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use ferrotrade_model::Venue;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_with_config};

use super::backoff::Backoff;
use super::clock::{self, wall_clock};
use super::dedup::FrameRing;
use super::plan::{self, BYBIT_PING, ConnectionPlan};
use super::types::{FeedInput, FeedOptions, InputKind, LinkEvent};

/// Longest wait for a TCP + TLS + WebSocket handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest time both connections of a rollover deliver before the switch when no common frame proved the
/// overlap earlier.
pub(crate) const ROLLOVER_OVERLAP: Duration = Duration::from_secs(1);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the feed asks a connection to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Unsubscribe and subscribe a topic again (Bybit: the venue then sends a fresh snapshot).
    Resubscribe(String),
}

/// Why a session ended.
enum End {
    /// The feed is gone: stop the task.
    FeedGone,
    /// The connection was lost; reconnect.
    Lost(LinkEvent),
}

/// A connection's configuration and channels; its future (`run`) is polled by `MarketFeed::next_input`.
pub(crate) struct ConnectionTask {
    /// The connection's number in the feed.
    pub id: usize,
    /// The venue (keep-alive and pacing rules).
    pub venue: Venue,
    /// URL and subscription frames.
    pub plan: ConnectionPlan,
    /// Timings.
    pub options: FeedOptions,
    /// The feed's input channel.
    pub tx: mpsc::Sender<FeedInput>,
    /// Commands from the feed.
    pub commands: mpsc::UnboundedReceiver<Command>,
    /// Reconnect delays.
    pub backoff: Backoff,
}

impl ConnectionTask {
    /// Runs until the feed is dropped.
    pub(crate) async fn run(mut self) {
        loop {
            let Some(mut ws) = self.open_with_retry().await else { return };
            if !self.report(InputKind::Link { connection: self.id, event: LinkEvent::Up }).await {
                return;
            }
            match self.session(&mut ws).await {
                End::FeedGone => {
                    let _ = timeout(Duration::from_secs(1), ws.close(None)).await;
                    return;
                }
                End::Lost(event) => {
                    let _ = timeout(Duration::from_secs(1), ws.close(None)).await;
                    if !self.report(InputKind::Link { connection: self.id, event }).await {
                        return;
                    }
                    sleep(self.backoff.next_delay()).await;
                }
            }
        }
    }

    /// Connects and subscribes, retrying with backoff; `None` once the feed is gone.
    async fn open_with_retry(&mut self) -> Option<Ws> {
        loop {
            if self.tx.is_closed() {
                return None;
            }
            match self.open().await {
                Some(ws) => return Some(ws),
                None => sleep(self.backoff.next_delay()).await,
            }
        }
    }

    /// One connect + subscribe attempt.
    async fn open(&self) -> Option<Ws> {
        let connect =
            connect_async_with_config(self.plan.url.as_str(), Some(crate::endpoints::websocket_config()), true);
        let (mut ws, _) = timeout(HANDSHAKE_TIMEOUT, connect).await.ok()?.ok()?;
        let spacing = plan::control_spacing(self.venue);
        for frame in &self.plan.subscribe {
            ws.send(Message::text(frame.as_str())).await.ok()?;
            sleep(spacing).await;
        }
        Some(ws)
    }

    /// Forwards frames until the connection is lost or the feed is gone.
    async fn session(&mut self, ws: &mut Ws) -> End {
        let bybit = !self.venue.is_binance();
        let mut last_data = clock::monotonic();
        let mut next_ping = last_data + self.options.ping_every;
        let mut rollover_at = last_data + self.options.rollover_after;
        loop {
            tokio::select! {
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        last_data = clock::monotonic();
                        self.backoff.reset();
                        if !self.forward(Bytes::from(text)).await {
                            return End::FeedGone;
                        }
                        tokio::task::yield_now().await;
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        last_data = clock::monotonic();
                        self.backoff.reset();
                        if !self.forward(bytes).await {
                            return End::FeedGone;
                        }
                        tokio::task::yield_now().await;
                    }
                    // tungstenite queued the pong; flush so it leaves now, not with the next write.
                    Some(Ok(Message::Ping(_))) => {
                        if ws.flush().await.is_err() {
                            return End::Lost(LinkEvent::Down);
                        }
                    }
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return End::Lost(LinkEvent::Down),
                },
                () = sleep_until((last_data + self.options.stale_after).into()) => return End::Lost(LinkEvent::Stale),
                () = sleep_until(next_ping.into()), if bybit => {
                    next_ping += self.options.ping_every;
                    if ws.send(Message::text(BYBIT_PING)).await.is_err() {
                        return End::Lost(LinkEvent::Down);
                    }
                }
                command = self.commands.recv() => match command {
                    Some(Command::Resubscribe(topic)) => {
                        if self.resubscribe(ws, &topic).await.is_err() {
                            return End::Lost(LinkEvent::Down);
                        }
                    }
                    None => return End::FeedGone,
                },
                () = sleep_until(rollover_at.into()) => match self.rollover(ws).await {
                    Ok(Some(fresh)) => {
                        let mut old = std::mem::replace(ws, fresh);
                        let _ = timeout(Duration::from_secs(1), old.close(None)).await;
                        last_data = clock::monotonic();
                        next_ping = last_data + self.options.ping_every;
                        rollover_at = last_data + self.options.rollover_after;
                    }
                    Ok(None) => rollover_at = clock::monotonic() + self.backoff.next_delay().max(self.options.backoff_min),
                    Err(end) => return end,
                },
            }
        }
    }

    /// Sends unsubscribe + subscribe for one topic, paced.
    async fn resubscribe(&self, ws: &mut Ws, topic: &str) -> Result<(), ()> {
        let spacing = plan::control_spacing(self.venue);
        let (off, on) = if self.venue.is_binance() {
            (
                plan::binance_control("UNSUBSCRIBE", &[topic], 1_000_001),
                plan::binance_control("SUBSCRIBE", &[topic], 1_000_002),
            )
        } else {
            (
                plan::bybit_control("unsubscribe", &[topic], "resub-off"),
                plan::bybit_control("subscribe", &[topic], "resub-on"),
            )
        };
        ws.send(Message::text(off)).await.map_err(drop)?;
        sleep(spacing).await;
        ws.send(Message::text(on)).await.map_err(drop)
    }

    /// Opens a second connection and prepares the switch; `Ok(Some(new))` when the caller should switch,
    /// `Ok(None)` when the new connection failed (keep the old one), `Err` when the old one ended.
    async fn rollover(&mut self, old: &mut Ws) -> Result<Option<Ws>, End> {
        let Some(mut fresh) = self.open().await else { return Ok(None) };
        // Frames of the new connection with the times they were read.
        let mut held: VecDeque<FeedInput> = VecDeque::new();
        // Hashes of the frames each connection delivered during the rollover: a frame seen on both proves
        // the old stream has reached the new one's start, so old + held frames cover the stream.
        let (mut old_seen, mut new_seen) = (HashSet::new(), HashSet::new());
        let mut overlap = false;
        let mut first_new: Option<Instant> = None;
        let give_up = clock::monotonic() + self.options.stale_after;
        let mut old_alive = true;
        while old_alive && !overlap {
            // Without a common frame (an old connection gone quiet), switch after ROLLOVER_OVERLAP anyway.
            let deadline = first_new.map_or(give_up, |at| at + ROLLOVER_OVERLAP);
            tokio::select! {
                frame = old.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        let bytes = Bytes::from(text);
                        let hash = FrameRing::hash(&bytes);
                        overlap = new_seen.contains(&hash);
                        old_seen.insert(hash);
                        if !self.forward(bytes).await {
                            return Err(End::FeedGone);
                        }
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        let hash = FrameRing::hash(&bytes);
                        overlap = new_seen.contains(&hash);
                        old_seen.insert(hash);
                        if !self.forward(bytes).await {
                            return Err(End::FeedGone);
                        }
                    }
                    Some(Ok(Message::Ping(_))) => old_alive = old.flush().await.is_ok(),
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(_)) | Err(_)) | None => old_alive = false,
                },
                frame = fresh.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        let bytes = Bytes::from(text);
                        first_new.get_or_insert_with(clock::monotonic);
                        let hash = FrameRing::hash(&bytes);
                        overlap = old_seen.contains(&hash);
                        new_seen.insert(hash);
                        held.push_back(self.input(InputKind::Frame { connection: self.id, bytes }));
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        first_new.get_or_insert_with(clock::monotonic);
                        let hash = FrameRing::hash(&bytes);
                        overlap = old_seen.contains(&hash);
                        new_seen.insert(hash);
                        held.push_back(self.input(InputKind::Frame { connection: self.id, bytes }));
                    }
                    Some(Ok(Message::Ping(_))) => {
                        if fresh.flush().await.is_err() {
                            return Ok(None);
                        }
                    }
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return Ok(None),
                },
                () = sleep_until(deadline.into()) => {
                    if first_new.is_none() {
                        // The new connection never delivered: keep the old one.
                        let _ = timeout(Duration::from_secs(1), fresh.close(None)).await;
                        return Ok(None);
                    }
                    break;
                }
            }
        }
        if first_new.is_none() {
            // The old connection died before the new one delivered: switch anyway, a gap is possible and
            // the book sync will notice it.
            if !self.report(InputKind::Link { connection: self.id, event: LinkEvent::Down }).await {
                return Err(End::FeedGone);
            }
            if !self.report(InputKind::Link { connection: self.id, event: LinkEvent::Up }).await {
                return Err(End::FeedGone);
            }
            return Ok(Some(fresh));
        }
        if !self.report(InputKind::Link { connection: self.id, event: LinkEvent::RolledOver }).await {
            return Err(End::FeedGone);
        }
        for input in held {
            if self.tx.send(input).await.is_err() {
                return Err(End::FeedGone);
            }
        }
        Ok(Some(fresh))
    }

    /// Hands a frame to the feed; `false` once the feed is gone.
    async fn forward(&self, bytes: Bytes) -> bool {
        self.report(InputKind::Frame { connection: self.id, bytes }).await
    }

    async fn report(&self, kind: InputKind) -> bool {
        self.tx.send(self.input(kind)).await.is_ok()
    }

    /// An input stamped with the current monotonic and wall-clock times.
    fn input(&self, kind: InputKind) -> FeedInput {
        FeedInput { received_at: clock::monotonic(), ts_recv: wall_clock(), kind }
    }
}
