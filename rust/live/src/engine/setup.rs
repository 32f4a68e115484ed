//! Building an [`Engine`] from a [`LiveConfig`]: instruments, subscriptions, feeds, gateways, the OMS
//! rebuilt from the journal, the risk chain.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use ferrotrade_book::OrderBook;
use ferrotrade_model::{InstrumentIndex, Money, Venue};
use ferrotrade_oms::{OrderStore, Portfolio};
use ferrotrade_risk::RiskEngine;
use ferrotrade_strategy::{DataKind, Strategy};

use super::core::LiveCore;
use super::dispatch::kind_slot;
use super::event_loop::Engine;
use super::monitor::{BusLink, bus_names};
use crate::LiveError;
use crate::clock::WallClock;
use crate::config::{LiveConfig, Mode, Network, VenueSection};
use crate::endpoints::Endpoints;
use crate::feed::{FeedInstrument, FeedOptions, MarketFeed};
use crate::gateway::Gateway;
use crate::gateway::paper::PaperGateway;
use crate::journal::Journal;
use crate::metrics::Metrics;
use crate::report::Counters;

/// The endpoints of a configured venue: the network's defaults with the configured overrides.
#[must_use]
pub fn endpoints(section: &VenueSection) -> Endpoints {
    let mut endpoints = match section.network {
        Network::Mainnet => Endpoints::mainnet(section.name),
        Network::Testnet => Endpoints::testnet(section.name),
        Network::Local => Endpoints::local(
            section.rest.as_deref().unwrap_or_default(),
            section.ws_public.as_deref().unwrap_or_default(),
            section.name,
        ),
    };
    if let Some(rest) = &section.rest {
        endpoints.rest.clone_from(rest);
    }
    if let Some(ws) = &section.ws_public {
        endpoints.ws_public.clone_from(ws);
    }
    if let Some(ws) = &section.ws_private {
        endpoints.ws_private.clone_from(ws);
    }
    endpoints
}

/// The strategies' names, the subscriber table (per instrument, per kind slot) and the union of the
/// `(instrument, kind)` pairs wanted.
struct Resolved {
    names: Vec<String>,
    table: Vec<[Vec<u16>; 4]>,
    wanted: Vec<(InstrumentIndex, DataKind)>,
}

/// Makes the order gateway of one venue for live mode.
pub(crate) type GatewayFactory<'a> =
    dyn FnMut(&VenueSection, &[InstrumentIndex]) -> Result<Box<dyn Gateway>, LiveError> + 'a;

/// Resolves every strategy's subscriptions against the instrument names.
fn subscriptions(names: &[String], strategies: &[Box<dyn Strategy + '_>]) -> Result<Resolved, LiveError> {
    let mut strategy_names: Vec<String> = Vec::with_capacity(strategies.len());
    let mut table: Vec<[Vec<u16>; 4]> = vec![Default::default(); names.len()];
    let mut wanted = Vec::new();
    for (index, strategy) in strategies.iter().enumerate() {
        let name = strategy.name().to_owned();
        if strategy_names.contains(&name) {
            return Err(LiveError::Setup(format!("two strategies are named {name:?}; names must be unique")));
        }
        for subscription in strategy.subscriptions() {
            let Some(instrument) = names.iter().position(|known| known.eq_ignore_ascii_case(&subscription.instrument))
            else {
                return Err(LiveError::Setup(format!(
                    "strategy {name:?} subscribes to {:?}, which is not in [instruments] ({})",
                    subscription.instrument,
                    names.join(", ")
                )));
            };
            for kind in &subscription.kinds {
                let list = &mut table[instrument][kind_slot(*kind)];
                if !list.contains(&(index as u16)) {
                    list.push(index as u16);
                }
                let pair = (InstrumentIndex(instrument as u32), *kind);
                if !wanted.contains(&pair) {
                    wanted.push(pair);
                }
            }
        }
        strategy_names.push(name);
    }
    Ok(Resolved { names: strategy_names, table, wanted })
}

/// Adds `kinds` of every one of `count` instruments to the feeds' `wanted` pairs (each pair once).
fn want_everywhere(wanted: &mut Vec<(InstrumentIndex, DataKind)>, count: usize, kinds: &[DataKind]) {
    for index in 0..count {
        for &kind in kinds {
            let pair = (InstrumentIndex(index as u32), kind);
            if !wanted.contains(&pair) {
                wanted.push(pair);
            }
        }
    }
}

/// Builds the engine. `live_gateway` makes the order gateway of a venue in live mode (the REST/WS
/// gateways); paper and replay modes use one [`PaperGateway`] for every instrument.
///
/// # Errors
/// [`LiveError::Setup`] / [`LiveError::Config`] for inconsistent subscriptions, a risk or venue setup the
/// instruments refuse, [`LiveError::Journal`] for an unreadable journal.
pub(crate) fn build<'s>(
    config: &LiveConfig,
    strategies: Vec<Box<dyn Strategy + 's>>,
    clock: WallClock,
    live_gateway: &mut GatewayFactory<'_>,
) -> Result<Engine<'s>, LiveError> {
    if strategies.len() >= usize::from(u16::MAX) {
        return Err(LiveError::Setup("too many strategies".into()));
    }
    // Strategies that use execution algorithms run inside the algorithms' host, as in backtests.
    let strategies: Vec<Box<dyn Strategy + 's>> = strategies.into_iter().map(ferrotrade_strategy::algo::host).collect();
    let instruments = config.instruments.clone();
    let names: Vec<String> = instruments.iter().map(|instrument| instrument.id.to_string()).collect();
    let Resolved { names: strategy_names, table: subscribers, mut wanted } = subscriptions(&names, &strategies)?;
    // Replay sends real orders to the local venue that replays the recording (the Python layer starts it and
    // points the venues at it); only paper mode fills orders in-process.
    let paper = config.live.mode == Mode::Paper;
    if paper {
        // The simulated venues match against trades and every level change of every instrument.
        want_everywhere(&mut wanted, instruments.len(), &[DataKind::Book, DataKind::Trades]);
    }
    if let Some(bus) = &config.bus {
        // Monitors and recorders see every configured instrument, whatever the strategies subscribed to.
        let kinds: Vec<DataKind> = [(bus.book_interval().is_some(), DataKind::Book), (bus.trades, DataKind::Trades)]
            .into_iter()
            .filter_map(|(wanted, kind)| wanted.then_some(kind))
            .collect();
        want_everywhere(&mut wanted, instruments.len(), &kinds);
    }
    let venues: Vec<Venue> = {
        let mut venues: Vec<Venue> = instruments.iter().map(|instrument| instrument.id.venue).collect();
        venues.sort();
        venues.dedup();
        venues
    };
    let options = FeedOptions {
        emit_levels: paper,
        stale_after: Duration::from_secs(config.live.stale_after_s.max(1)),
        rollover_after: Duration::from_secs(config.live.rollover_after_s.max(1)),
        ..FeedOptions::default()
    };
    let mut feeds = Vec::with_capacity(venues.len());
    let mut gateways: Vec<Box<dyn Gateway>> = Vec::new();
    let mut gateway_of = vec![0usize; instruments.len()];
    for venue in &venues {
        let section = config.venue(*venue).ok_or_else(|| LiveError::Config(format!("venue: no [[venue]] {venue}")))?;
        let members: Vec<FeedInstrument> = instruments
            .iter()
            .enumerate()
            .filter(|(_, instrument)| instrument.id.venue == *venue)
            .map(|(index, instrument)| FeedInstrument {
                index: InstrumentIndex(index as u32),
                instrument: instrument.clone(),
                symbol: instrument.id.symbol.to_string(),
            })
            .collect();
        let scope: Vec<InstrumentIndex> = members.iter().map(|member| member.index).collect();
        let venue_wanted: Vec<(InstrumentIndex, DataKind)> =
            wanted.iter().copied().filter(|(index, _)| scope.contains(index)).collect();
        // The old trades lookup (trade-gap backfill) wants the account's API key: live order entry has one.
        let market_data_key = match (&section.credentials, paper, venue.is_binance()) {
            (Some(source), false, true) => {
                let credentials =
                    crate::credentials::load_credentials(*venue, source, &|name| std::env::var(name).ok())?;
                Some(crate::feed::ApiKey(credentials.api_key))
            }
            _ => None,
        };
        let venue_options = FeedOptions {
            snapshot_depth: section.book_depth.unwrap_or(options.snapshot_depth),
            market_data_key,
            ..options.clone()
        };
        feeds.push(MarketFeed::new(*venue, endpoints(section), members, &venue_wanted, venue_options)?);
        if !paper {
            for index in &scope {
                gateway_of[index.get()] = gateways.len();
            }
            gateways.push(live_gateway(section, &scope)?);
        }
    }
    if paper {
        let configs: Vec<_> = (0..instruments.len()).map(|index| config.paper_venue(index)).collect();
        gateways.push(Box::new(PaperGateway::new(&instruments, &configs, clock)?));
    }
    let risk = RiskEngine::new(&config.risk, &instruments).map_err(|error| LiveError::Config(error.to_string()))?;
    let (journal, state) = Journal::open(&config.live.run_dir, &names, config.live.journal_fsync)?;
    let initial_equity = Money::from_decimal(config.live.initial_equity);
    let count = instruments.len();
    let fees = (0..count)
        .map(|index| config.paper_venue(index).fees.rates().map_err(|error| LiveError::Config(error.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let mut core = LiveCore {
        fees,
        clock,
        now: clock.now(),
        names,
        books: (0..count)
            .map(|_| {
                let mut book = OrderBook::new();
                book.make_resident();
                book
            })
            .collect(),
        synced: vec![false; count],
        store: OrderStore::new(1),
        first_client_id: 1,
        owner: Vec::new(),
        account: Portfolio::new(instruments.clone(), initial_equity),
        portfolios: (0..strategies.len()).map(|_| Portfolio::new(instruments.clone(), initial_equity)).collect(),
        instruments,
        strategy_names,
        risk,
        gateways,
        gateway_of,
        journal,
        outbox: VecDeque::new(),
        timers: std::collections::BinaryHeap::new(),
        timer_generations: vec![BTreeMap::new(); strategies.len()],
        seq: 0,
        metrics: Metrics::new(crate::clock::now_instant()),
        counters: Counters::default(),
        bus: None,
        fault: None,
    };
    core.replay(&state)?;
    if state.last_client_id.is_none() {
        // No journal: ids start at unix_ms * 1000, above any id an earlier run without a journal used.
        let first = clock.unix_ms().saturating_mul(1000);
        core.store = OrderStore::new(first);
        core.first_client_id = first;
    }
    let next = core.store.next_client_id();
    core.journal.session(core.now, next)?;
    let bus = match &config.bus {
        Some(bus_config) => {
            let session = format!("{}-{}", clock.unix_ms(), std::process::id());
            let (sender, link) = start_bus(bus_config, &core, session, config.live.mode)?;
            core.bus = Some(sender);
            Some(link)
        }
        None => None,
    };
    Ok(Engine {
        core,
        strategies,
        subscribers,
        feeds,
        events: Vec::with_capacity(256),
        unknown_orders: config.live.unknown_orders,
        reconcile_every: (config.live.reconcile_every_s > 0)
            .then(|| Duration::from_secs(config.live.reconcile_every_s)),
        // Busy-polling, the thread has the time: the order path is kept warm once a millisecond.
        warm_every: config.live.busy_poll.then(|| Duration::from_millis(1)),
        stop_timeout: Duration::from_millis(config.live.stop_timeout_ms),
        snapshots_pending: 0,
        stopped_by: None,
        bus,
        kill: None,
    })
}

/// Starts the monitoring bus of `[bus]` (its token from the environment or its file).
fn start_bus(
    config: &ferrotrade_bus::BusConfig,
    core: &LiveCore,
    session: String,
    mode: Mode,
) -> Result<(ferrotrade_bus::BusSender, BusLink), LiveError> {
    let token = if config.has_control() {
        Some(
            ferrotrade_bus::Token::load(config.token_file.as_deref(), &config.token_env)
                .map_err(|error| LiveError::Config(error.to_string()))?,
        )
    } else {
        None
    };
    let mode = match mode {
        Mode::Live => "live",
        Mode::Paper => "paper",
        Mode::Replay => "replay",
    };
    let names = bus_names(core, session, mode);
    let encoder = ferrotrade_bus::Encoder::new(names.clone());
    let (sender, handle) =
        ferrotrade_bus::Bus::start(config, token, names).map_err(|error| LiveError::Config(error.to_string()))?;
    let now = crate::clock::now_instant();
    let link = BusLink {
        handle,
        encoder,
        depth: config.book_depth,
        trades: config.trades,
        last_quote: vec![None; core.instruments.len()],
        heartbeat_every: Duration::from_millis(config.heartbeat_ms),
        next_heartbeat: now,
        metrics_every: Duration::from_millis(config.metrics_ms),
        next_metrics: now,
        started: now,
    };
    Ok((sender, link))
}
