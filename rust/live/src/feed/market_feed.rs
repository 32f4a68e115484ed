//! [`MarketFeed`]: construction, the async side (`next_input`: the connections, snapshot fetches,
//! resubscriptions) and the counters. The sync side, `process`, is in `process.rs`.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use ferrotrade_model::{InstrumentIndex, Venue};
use ferrotrade_strategy::DataKind;
use ferrotrade_venues::Origin;
use ferrotrade_venues::decoded::Scratch;
use ferrotrade_venues::normalize::Converter;
use ferrotrade_venues::source::FrameHint;
use ferrotrade_venues::sync::{BookSync, SyncStats};
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use tokio::sync::mpsc;

use super::backoff::Backoff;
use super::clock;
use super::connection::{Command, ConnectionTask};
use super::dedup::{FrameRing, IdWindow};
use super::plan::{self, ConnectionPlan, TopicKind};
use super::snapshot::{self, WeightBudget};
use super::trades::{Backfill, TradeSequence};
use super::types::{ConnectionStats, FeedEvent, FeedInput, FeedInstrument, FeedOptions, FeedStats, InstrumentStats};
use crate::LiveError;
use crate::endpoints::Endpoints;

/// Inputs waiting for the engine; the connections wait (TCP backpressure) when it is full.
const INPUT_CAPACITY: usize = 4096;

/// The market data of one venue: connections, books' sync and decoding. See the [module docs](super).
pub struct MarketFeed {
    pub(super) venue: Venue,
    rest: String,
    pub(super) options: FeedOptions,
    plans: Vec<ConnectionPlan>,
    pub(super) router: Router,
    pub(super) scratch: Scratch,
    pub(super) converter: Converter,
    pub(super) ws_hint: FrameHint,
    tx: mpsc::Sender<FeedInput>,
    rx: mpsc::Receiver<FeedInput>,
    commands: Vec<mpsc::UnboundedSender<Command>>,
    /// The connections' futures, polled by [`MarketFeed::next_input`] itself (see there).
    connections: FuturesUnordered<Pin<Box<dyn Future<Output = ()> + Send>>>,
    http: Option<reqwest::Client>,
    pub(super) budget: WeightBudget,
}

/// Everything `process` mutates besides the decoder buffers (split so the borrows stay disjoint).
pub(super) struct Router {
    pub(super) venue: Venue,
    pub(super) slots: Vec<Slot>,
    pub(super) by_symbol: HashMap<String, usize>,
    pub(super) connections: Vec<ConnectionStats>,
    /// Per connection: slots whose book it carries.
    pub(super) connection_books: Vec<Vec<usize>>,
    pub(super) frames: FrameRing,
    pub(super) origin: Origin,
    pub(super) emit_levels: bool,
    pub(super) buffer_limit: usize,
    /// Some slot wants a snapshot fetch, a recent-trades list or a resubscription.
    pub(super) actions_pending: bool,
    /// Some slot holds trades after a gap (checked against the hold limit on every input).
    pub(super) trades_holding: bool,
    /// Decoded recent-trades lists (reused).
    pub(super) recent: Vec<ferrotrade_venues::decoded::RawTrade>,
    pub(super) decode_errors: u64,
    pub(super) control_frames: u64,
    pub(super) unknown_symbols: u64,
    pub(super) last_input: Instant,
}

/// One instrument's state.
pub(super) struct Slot {
    pub(super) index: InstrumentIndex,
    pub(super) feed: FeedInstrument,
    /// REST snapshot decoding needs the symbol (the body has none).
    pub(super) rest_hint: FrameHint,
    pub(super) sync: BookSync,
    /// Counters of previous `BookSync`s (it is replaced on every forced resync).
    pub(super) sync_before: SyncStats,
    pub(super) has_book: bool,
    /// Connection and topic of the book stream.
    pub(super) book_topic: Option<(usize, String)>,
    /// Last applied book update id.
    pub(super) last_sequence: u64,
    /// A rollover just happened: a Bybit snapshot not newer than the book is the overlap, not news.
    pub(super) overlap_snapshot: bool,
    pub(super) ever_synced: bool,
    pub(super) trades: IdWindow,
    /// Binance: trade-id continuity and gap backfill (see `trades`).
    pub(super) sequence: TradeSequence,
    pub(super) trades_backoff: Backoff,
    pub(super) last_quote: u64,
    pub(super) want_snapshot: bool,
    pub(super) snapshot_in_flight: bool,
    pub(super) retry_at: Option<Instant>,
    pub(super) snapshot_backoff: Backoff,
    pub(super) want_resubscribe: bool,
    pub(super) unsynced_since: Option<Instant>,
    pub(super) stats: InstrumentStats,
}

impl MarketFeed {
    /// A feed of `venue` for `instruments`, subscribed to `subscriptions`. Nothing connects before the first
    /// [`MarketFeed::next_input`] (which must run inside a tokio runtime).
    ///
    /// # Errors
    /// [`LiveError::Config`] when the venue has no live feed (only Binance spot / USD-M and Bybit linear /
    /// spot do), an instrument belongs to another venue, an index or symbol appears twice, a subscription
    /// names an index no instrument has, or a kind the venue lacks (mark prices on spot).
    pub fn new(
        venue: Venue,
        endpoints: Endpoints,
        instruments: Vec<FeedInstrument>,
        subscriptions: &[(InstrumentIndex, DataKind)],
        options: FeedOptions,
    ) -> Result<MarketFeed, LiveError> {
        if !matches!(venue, Venue::BinanceSpot | Venue::BinanceUsdm | Venue::BybitLinear | Venue::BybitSpot) {
            return Err(LiveError::Config(format!("{venue}: no live market-data feed for this venue")));
        }
        let now = clock::monotonic();
        let mut by_symbol = HashMap::new();
        let mut slots = Vec::with_capacity(instruments.len());
        for (slot, feed) in instruments.into_iter().enumerate() {
            if feed.instrument.id.venue != venue {
                return Err(LiveError::Config(format!(
                    "{}: instrument of another venue in the {venue} feed",
                    feed.instrument.id
                )));
            }
            if slots.iter().any(|s: &Slot| s.index == feed.index) {
                return Err(LiveError::Config(format!("{venue}: instrument index {} given twice", feed.index.0)));
            }
            let symbol = feed.symbol.to_ascii_uppercase();
            if by_symbol.insert(symbol.clone(), slot).is_some() {
                return Err(LiveError::Config(format!("{venue}: symbol {symbol} given twice")));
            }
            slots.push(Slot::new(venue, feed, symbol, &options, slot, now));
        }
        let mut topics = Vec::new();
        for (slot_number, slot) in slots.iter().enumerate() {
            let kinds: Vec<DataKind> =
                subscriptions.iter().filter(|(index, _)| *index == slot.index).map(|(_, kind)| *kind).collect();
            let mut unique = Vec::new();
            for kind in kinds {
                if !unique.contains(&kind) {
                    unique.push(kind);
                }
            }
            topics.extend(
                plan::topics_for(venue, slot_number, &slot.feed.symbol, &unique, options.snapshot_depth)
                    .map_err(LiveError::Config)?,
            );
        }
        if let Some((index, _)) = subscriptions.iter().find(|(index, _)| slots.iter().all(|s| s.index != *index)) {
            return Err(LiveError::Config(format!("{venue}: subscription for unknown instrument index {}", index.0)));
        }
        let plans = plan::plan_connections(venue, &endpoints.ws_public, topics);
        let mut connection_books = vec![Vec::new(); plans.len()];
        for (connection, plan) in plans.iter().enumerate() {
            for topic in plan.topics.iter().filter(|topic| topic.kind == TopicKind::Book) {
                let slot = &mut slots[topic.slot];
                slot.has_book = true;
                slot.book_topic = Some((connection, topic.name.clone()));
                connection_books[connection].push(topic.slot);
            }
        }
        let (tx, rx) = mpsc::channel(INPUT_CAPACITY);
        let router = Router {
            venue,
            slots,
            by_symbol,
            connections: vec![ConnectionStats::default(); plans.len()],
            connection_books,
            frames: FrameRing::default(),
            origin: Origin::new(&Arc::new(PathBuf::from(&endpoints.ws_public)), 0),
            emit_levels: options.emit_levels,
            buffer_limit: options.buffer_limit,
            actions_pending: false,
            trades_holding: false,
            recent: Vec::new(),
            decode_errors: 0,
            control_frames: 0,
            unknown_symbols: 0,
            last_input: now,
        };
        // The level buffers are sized for the snapshot, the largest message: a book's first sync neither
        // grows them nor faults their pages in.
        let levels = options.snapshot_depth as usize;
        Ok(MarketFeed {
            venue,
            rest: endpoints.rest,
            budget: WeightBudget::for_venue(venue, now),
            options,
            plans,
            router,
            scratch: Scratch::with_levels(levels),
            converter: Converter::with_levels(levels),
            ws_hint: FrameHint { venue: Some(venue), symbol: None },
            tx,
            rx,
            commands: Vec::new(),
            connections: FuturesUnordered::new(),
            http: None,
        })
    }

    /// Waits for the next thing to process: a frame, a snapshot, a connection change. Meanwhile drives
    /// what the feed owes the venues: the first call starts the connections; snapshot fetches and
    /// resubscriptions that `process` asked for are started when due (and within the weight budget).
    ///
    /// The connections run inside this call, not as tasks of their own: a frame a connection reads is
    /// returned in the same poll. A task would wake the engine, and the scheduler then polls its drivers
    /// once (an `epoll_wait`) before it polls the engine again: that was most of the 0.6-0.7 us a frame
    /// waited at p50 (`frame_to_engine`). The connections make progress whenever the engine waits for
    /// its next input, which is where it waits.
    ///
    /// # Cancel safety
    /// Cancel safe: use it in `tokio::select!`. Inputs wait in a channel until returned, and everything
    /// done before the await (starting tasks, fetches, resubscriptions) is recorded in the feed before it
    /// yields, so a cancelled call loses nothing and repeats nothing.
    pub async fn next_input(&mut self) -> FeedInput {
        self.start();
        loop {
            let wake = self.run_actions(clock::monotonic());
            let MarketFeed { connections, rx, .. } = self;
            let input = std::future::poll_fn(|cx| {
                // A connection that ended (the feed is going away) leaves the set; the others stay.
                while let Poll::Ready(Some(())) = connections.poll_next_unpin(cx) {}
                // `None` is unreachable: the feed holds a sender itself.
                rx.poll_recv(cx).map(|input| input.ok_or(()))
            });
            tokio::select! {
                input = input => match input {
                    Ok(input) => return input,
                    Err(()) => std::future::pending::<()>().await,
                },
                () = sleep_until_or_never(wake) => {}
            }
        }
    }

    /// Counters per instrument and per connection.
    #[must_use]
    pub fn stats(&self) -> FeedStats {
        let now = self.router.last_input;
        FeedStats {
            instruments: self
                .router
                .slots
                .iter()
                .map(|slot| {
                    let mut stats = slot.stats;
                    stats.synced = slot.has_book && slot.sync.is_synced();
                    stats.last_update_id = slot.last_sequence;
                    stats.trade_gaps = slot.sequence.gaps;
                    stats.trades_backfilled = slot.sequence.backfilled;
                    stats.trades_lost = slot.sequence.lost;
                    stats.trades_late = slot.sequence.late;
                    if let Some(since) = slot.unsynced_since {
                        stats.unsynced_time += now.saturating_duration_since(since);
                    }
                    stats.sync = add_sync(slot.sync_before, slot.sync.stats());
                    stats
                })
                .collect(),
            connections: self.router.connections.clone(),
            decode_errors: self.router.decode_errors,
            control_frames: self.router.control_frames,
            unknown_symbols: self.router.unknown_symbols,
        }
    }

    /// The venue update id the book of `index` stands at (0 when unknown or not in this feed).
    #[must_use]
    pub fn last_update_id(&self, index: InstrumentIndex) -> u64 {
        self.router.slots.iter().find(|slot| slot.index == index).map_or(0, |slot| slot.last_sequence)
    }

    /// Whether trades after a gap wait for a trade list (see the module docs).
    #[must_use]
    pub fn is_backfilling(&self) -> bool {
        self.router.trades_holding
    }

    /// Delivers the trades held for a backfill now, their gaps counted lost (the feed stops).
    pub fn release_held(&mut self, out: &mut Vec<FeedEvent>) {
        for slot in &mut self.router.slots {
            let index = slot.index;
            slot.sequence.release_all(&mut |trade| out.push(FeedEvent::Trade { index, trade }));
        }
        self.router.trades_holding = false;
    }

    /// Whether the book of `index` is synced (false for instruments without a book subscription or not in
    /// this feed).
    #[must_use]
    pub fn is_synced(&self, index: InstrumentIndex) -> bool {
        self.router.slots.iter().any(|slot| slot.index == index && slot.has_book && slot.sync.is_synced())
    }

    /// The venue.
    #[must_use]
    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// Starts the connections (once).
    fn start(&mut self) {
        // Started once: each connection keeps its command channel (`connections` shrinks as they end).
        if !self.commands.is_empty() || self.plans.is_empty() {
            return;
        }
        self.http = reqwest::Client::builder().timeout(Duration::from_secs(10)).tcp_nodelay(true).build().ok();
        for (id, plan) in self.plans.iter().enumerate() {
            let (command_tx, commands) = mpsc::unbounded_channel();
            let seed = self.options.seed.wrapping_add(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(id as u64 + 1));
            let task = ConnectionTask {
                id,
                venue: self.venue,
                plan: plan.clone(),
                options: self.options.clone(),
                tx: self.tx.clone(),
                commands,
                backoff: Backoff::new(self.options.backoff_min, self.options.backoff_max, seed),
            };
            self.commands.push(command_tx);
            self.connections.push(Box::pin(task.run()));
        }
    }

    /// Starts due snapshot fetches and resubscriptions; returns when to look again, if anything waits.
    fn run_actions(&mut self, now: Instant) -> Option<Instant> {
        if !self.router.actions_pending {
            return None;
        }
        let mut wake: Option<Instant> = None;
        let mut pending = false;
        let depth = snapshot::depth_limit(self.venue, self.options.snapshot_depth);
        let weight = snapshot::depth_weight(self.venue, depth);
        for (number, slot) in self.router.slots.iter_mut().enumerate() {
            if slot.want_resubscribe {
                slot.want_resubscribe = false;
                if let Some((connection, topic)) = &slot.book_topic
                    && let Some(commands) = self.commands.get(*connection)
                {
                    let _ = commands.send(Command::Resubscribe(topic.clone()));
                }
            }
            if let Backfill::Wanted(at) = slot.sequence.backfill {
                pending = true;
                let key = self.options.market_data_key.clone();
                let from = slot.sequence.next_id().unwrap_or(0);
                let (url, weight) =
                    snapshot::trades_request(self.venue, &self.rest, &slot.feed.symbol, from, key.is_some());
                let due = if at > now { Err(at) } else { self.budget.take(weight, now) };
                match (due, &self.http) {
                    (Ok(()), Some(client)) => {
                        slot.sequence.backfill = Backfill::InFlight;
                        drop(tokio::spawn(snapshot::fetch_trades(client.clone(), url, key, number, self.tx.clone())));
                    }
                    (Ok(()), None) => {
                        let at = now + slot.trades_backoff.next_delay();
                        slot.sequence.backfill = Backfill::Wanted(at);
                        wake = Some(wake.map_or(at, |w| w.min(at)));
                    }
                    (Err(at), _) => wake = Some(wake.map_or(at, |w| w.min(at))),
                }
            }
            if !slot.want_snapshot || slot.snapshot_in_flight {
                continue;
            }
            pending = true;
            if let Some(at) = slot.retry_at.filter(|at| *at > now) {
                wake = Some(wake.map_or(at, |w| w.min(at)));
                continue;
            }
            match self.budget.take(weight, now) {
                Ok(()) => {
                    slot.want_snapshot = false;
                    slot.snapshot_in_flight = true;
                    slot.retry_at = None;
                    slot.stats.snapshot_requests += 1;
                    let url = snapshot::depth_url(self.venue, &self.rest, &slot.feed.symbol, depth);
                    let tx = self.tx.clone();
                    match &self.http {
                        Some(client) => drop(tokio::spawn(snapshot::fetch(client.clone(), url, number, tx))),
                        None => {
                            slot.snapshot_in_flight = false;
                            slot.want_snapshot = true;
                            let at = now + slot.snapshot_backoff.next_delay();
                            slot.retry_at = Some(at);
                            wake = Some(wake.map_or(at, |w| w.min(at)));
                        }
                    }
                }
                Err(at) => wake = Some(wake.map_or(at, |w| w.min(at))),
            }
        }
        self.router.actions_pending = pending;
        wake
    }
}

impl std::fmt::Debug for MarketFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarketFeed")
            .field("venue", &self.venue)
            .field("instruments", &self.router.slots.len())
            .field("connections", &self.plans.len())
            .field("started", &!self.commands.is_empty())
            .finish_non_exhaustive()
    }
}

impl Slot {
    fn new(
        venue: Venue,
        feed: FeedInstrument,
        symbol: String,
        options: &FeedOptions,
        number: usize,
        now: Instant,
    ) -> Slot {
        let sync = new_sync(venue, options.buffer_limit);
        let seed = options.seed ^ 0x5a5a_0000_0000_0000 ^ number as u64;
        Slot {
            index: feed.index,
            rest_hint: FrameHint { venue: Some(venue), symbol: Some(symbol.clone()) },
            feed: FeedInstrument { symbol, ..feed },
            sync,
            sync_before: SyncStats::default(),
            has_book: false,
            book_topic: None,
            last_sequence: 0,
            overlap_snapshot: false,
            ever_synced: false,
            trades: IdWindow::default(),
            sequence: TradeSequence::default(),
            trades_backoff: Backoff::new(options.backoff_min, options.backoff_max, seed ^ 0x7472_6164_6573),
            last_quote: 0,
            want_snapshot: false,
            snapshot_in_flight: false,
            retry_at: None,
            snapshot_backoff: Backoff::new(options.backoff_min, options.backoff_max, seed),
            want_resubscribe: false,
            unsynced_since: Some(now),
            stats: InstrumentStats {
                index: feed.index,
                messages: 0,
                gaps: 0,
                resyncs: 0,
                duplicates_dropped: 0,
                trade_gaps: 0,
                trades_backfilled: 0,
                trades_lost: 0,
                trades_late: 0,
                snapshots: 0,
                snapshot_requests: 0,
                unsynced_time: Duration::ZERO,
                synced: false,
                last_update_id: 0,
                sync: SyncStats::default(),
            },
        }
    }

    /// Drops the book's sync state (counters kept): the next snapshot starts it again.
    pub(super) fn reset_sync(&mut self, venue: Venue, buffer_limit: usize) {
        self.sync_before = add_sync(self.sync_before, self.sync.stats());
        self.sync = new_sync(venue, buffer_limit);
    }
}

/// Binance: the venue's rule with the configured buffer; Bybit: resets on every snapshot (the venue's
/// rule; its buffer is the sync module's default, deltas are few while a snapshot is on its way).
fn new_sync(venue: Venue, buffer_limit: usize) -> BookSync {
    if venue.is_binance() {
        BookSync::with_buffer_limit(ferrotrade_venues::sync::SyncRule::for_venue(venue), buffer_limit)
    } else {
        BookSync::for_venue(venue)
    }
}

fn add_sync(a: SyncStats, b: SyncStats) -> SyncStats {
    SyncStats {
        snapshots: a.snapshots + b.snapshots,
        snapshots_ignored: a.snapshots_ignored + b.snapshots_ignored,
        diffs_applied: a.diffs_applied + b.diffs_applied,
        stale_dropped: a.stale_dropped + b.stale_dropped,
        gaps: a.gaps + b.gaps,
        unsynced_dropped: a.unsynced_dropped + b.unsynced_dropped,
    }
}

async fn sleep_until_or_never(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
