//! From sessions of recorded files to normalized, fixed-point, synced events.
//!
//! [`Pipeline::scan`] is the first pass: it reads every session once and learns each instrument's
//! precision — the most decimals any of its prices (sizes) uses, or the venue's tick (step) from exchange
//! info held in the capture, whichever is finer. Nothing is ever rounded, so the precision must be known
//! before the first value is converted; a second pass costs far less than a wrong price. [`Pipeline::run`]
//! is the second pass: it converts every message to fixed-point, runs each book through its venue's
//! [`BookSync`], and hands the events to an [`EventSink`].
//!
//! Each session has its own sync state (a session is one continuous stream); instruments are shared
//! across sessions, so one instrument imported from two recordings gets one precision.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ferrotrade_model::{Decimal, Instrument, InstrumentId, MarketEvent, Price, Quantity, UnixNanos, Venue};

use crate::decoded::{Decoded, InstrumentInfo, Payload};
use crate::error::{Origin, VenueError};
use crate::lines;
use crate::normalize::Converter;
use crate::source::{Session, Visitor};
use crate::sync::{BookSync, SyncRule, SyncStats};

/// How to treat bad records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PipelineOptions {
    /// Count and skip records that can't be decoded instead of failing (verify does; import may).
    pub skip_bad_records: bool,
}

/// Receives the normalized events of [`Pipeline::run`].
pub trait EventSink {
    /// A session starts; instrument indexes refer to [`Pipeline::instruments`].
    fn session_start(&mut self, session: usize) {
        let _ = session;
    }

    /// One event of instrument `instrument`. Book updates arrive synced: snapshots reset the book, diffs
    /// apply in order, nothing arrives while the book is unsynced.
    ///
    /// # Errors
    /// Whatever stops the run (a write error, for instance).
    fn event(&mut self, instrument: usize, event: &MarketEvent<'_>) -> Result<(), VenueError>;

    /// A session ended, with its report.
    ///
    /// # Errors
    /// Whatever stops the run.
    fn session_end(&mut self, report: &SessionReport) -> Result<(), VenueError> {
        let _ = report;
        Ok(())
    }
}

/// What one session held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReport {
    /// Index of the session.
    pub session: usize,
    /// The session's files.
    pub files: Vec<PathBuf>,
    /// Container format name.
    pub format: &'static str,
    /// Market messages read.
    pub messages: u64,
    /// Frames without market content (acks, pongs, open klines).
    pub control_messages: u64,
    /// Records that could not be decoded (only with `skip_bad_records`).
    pub bad_records: u64,
    /// The first of them, as `file:line: reason`.
    pub first_bad_record: Option<String>,
    /// Per instrument that had book messages in this session: its sync counters and final state.
    pub books: Vec<BookReport>,
}

/// Sync counters of one book in one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookReport {
    /// Instrument index.
    pub instrument: usize,
    /// Counters.
    pub stats: SyncStats,
    /// Whether the book was synced at the end of the session.
    pub synced: bool,
}

/// Two-pass reader of sessions; see the module docs.
#[derive(Debug)]
pub struct Pipeline {
    sessions: Vec<Session>,
    instruments: Vec<Instrument>,
    index: HashMap<(Venue, String), usize>,
    options: PipelineOptions,
    bytes_total: u64,
    bytes_done: Arc<AtomicU64>,
}

impl Pipeline {
    /// Plans nothing itself: takes sessions (see [`crate::source::plan_sessions`]) and runs the first pass.
    ///
    /// # Errors
    /// The first bad record (unless skipped), I/O errors, or [`VenueError::Interrupted`].
    pub fn scan(sessions: Vec<Session>, options: PipelineOptions, cancel: &AtomicBool) -> Result<Pipeline, VenueError> {
        let bytes_total = 2 * sessions
            .iter()
            .flat_map(|s| &s.files)
            .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
            .sum::<u64>();
        let bytes_done = Arc::new(AtomicU64::new(0));
        let mut scan = PrecisionScan {
            options,
            cancel,
            seen: 0,
            observed: Vec::new(),
            index: HashMap::new(),
            infos: HashMap::new(),
        };
        for session in &sessions {
            let mut source = session.open()?;
            lines::with_progress(Arc::clone(&bytes_done), || source.read(&mut scan))?;
        }
        let mut instruments = Vec::with_capacity(scan.observed.len());
        let mut index = HashMap::new();
        for observed in scan.observed {
            let key = (observed.venue, observed.symbol.clone());
            let instrument = observed.into_instrument(scan.infos.get(&key));
            index.insert(key, instruments.len());
            instruments.push(instrument);
        }
        Ok(Pipeline { sessions, instruments, index, options, bytes_total, bytes_done })
    }

    /// Every instrument seen, in first-seen order.
    #[must_use]
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// The sessions.
    #[must_use]
    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    /// `(bytes read, bytes to read)` over both passes, for progress bars; readable from another thread
    /// through [`Pipeline::progress_counter`].
    #[must_use]
    pub fn progress(&self) -> (u64, u64) {
        (self.bytes_done.load(Ordering::Relaxed).min(self.bytes_total), self.bytes_total)
    }

    /// The shared counter behind [`Pipeline::progress`].
    #[must_use]
    pub fn progress_counter(&self) -> (Arc<AtomicU64>, u64) {
        (Arc::clone(&self.bytes_done), self.bytes_total)
    }

    /// Second pass: normalized, synced events of every session to `sink`.
    ///
    /// # Errors
    /// Bad records (unless skipped), I/O errors, the sink's errors, or [`VenueError::Interrupted`].
    pub fn run(&self, sink: &mut dyn EventSink, cancel: &AtomicBool) -> Result<Vec<SessionReport>, VenueError> {
        let mut reports = Vec::with_capacity(self.sessions.len());
        for (number, session) in self.sessions.iter().enumerate() {
            sink.session_start(number);
            let mut normalizer = Normalizer {
                pipeline: self,
                sink: &mut *sink,
                cancel,
                syncs: Vec::new(),
                convert: Converter::default(),
                report: SessionReport {
                    session: number,
                    files: session.files.clone(),
                    format: session.format.as_str(),
                    messages: 0,
                    control_messages: 0,
                    bad_records: 0,
                    first_bad_record: None,
                    books: Vec::new(),
                },
            };
            let mut source = session.open()?;
            lines::with_progress(Arc::clone(&self.bytes_done), || source.read(&mut normalizer))?;
            let mut report = normalizer.report;
            for (instrument, mut sync) in normalizer.syncs {
                sync.finish();
                report.books.push(BookReport { instrument, stats: sync.stats(), synced: sync.is_synced() });
            }
            report.books.sort_by_key(|book| book.instrument);
            sink.session_end(&report)?;
            reports.push(report);
        }
        Ok(reports)
    }
}

struct Observed {
    venue: Venue,
    symbol: String,
    price_scale: u8,
    size_scale: u8,
    mark_scale: u8,
}

impl Observed {
    fn into_instrument(self, info: Option<&InstrumentInfo>) -> Instrument {
        let price_precision = self.price_scale.max(info.map_or(0, |i| i.tick_size.scale));
        let size_precision = self.size_scale.max(info.map_or(0, |i| i.lot_size.scale));
        let mut instrument =
            Instrument::with_precisions(InstrumentId::new(self.venue, &self.symbol), price_precision, size_precision);
        instrument.mark_precision = self.mark_scale.max(price_precision);
        if let Some(info) = info {
            if let Ok(tick) = info.tick_size.to_fixed(price_precision) {
                instrument.tick_size = Price(tick.max(1));
            }
            if let Ok(lot) = info.lot_size.to_fixed(size_precision) {
                instrument.lot_size = Quantity(lot.max(1));
            }
            instrument.min_notional = info.min_notional;
            if let Some(contract_size) = info.contract_size {
                instrument.contract_size = contract_size;
            }
        }
        instrument
    }
}

struct PrecisionScan<'c> {
    options: PipelineOptions,
    cancel: &'c AtomicBool,
    seen: u64,
    observed: Vec<Observed>,
    index: HashMap<(Venue, String), usize>,
    infos: HashMap<(Venue, String), InstrumentInfo>,
}

impl PrecisionScan<'_> {
    fn observe(&mut self, venue: Venue, symbol: &str) -> &mut Observed {
        let position = match self.index.get(&(venue, symbol.to_owned())) {
            Some(position) => *position,
            None => {
                let symbol = symbol.to_ascii_uppercase();
                self.index.insert((venue, symbol.clone()), self.observed.len());
                self.observed.push(Observed { venue, symbol, price_scale: 0, size_scale: 0, mark_scale: 0 });
                self.observed.len() - 1
            }
        };
        &mut self.observed[position]
    }
}

fn check_cancel(seen: &mut u64, cancel: &AtomicBool) -> Result<(), VenueError> {
    *seen += 1;
    if seen.is_multiple_of(4096) && cancel.load(Ordering::Relaxed) {
        return Err(VenueError::Interrupted);
    }
    Ok(())
}

impl Visitor for PrecisionScan<'_> {
    fn instruments(&mut self, infos: &[InstrumentInfo]) {
        for info in infos {
            self.infos.insert((info.venue, info.symbol.to_ascii_uppercase()), info.clone());
        }
    }

    fn message(&mut self, _origin: &Origin, _ts_recv: UnixNanos, message: &Decoded<'_>) -> Result<(), VenueError> {
        check_cancel(&mut self.seen, self.cancel)?;
        let observed = self.observe(message.venue, message.symbol);
        let mut price = |value: &Decimal| observed.price_scale = observed.price_scale.max(value.scale);
        match &message.payload {
            Payload::Book(book) => {
                for level in book.bids.iter().chain(book.asks) {
                    price(&level.price);
                }
                for level in book.bids.iter().chain(book.asks) {
                    observed.size_scale = observed.size_scale.max(level.size.scale);
                }
            }
            Payload::Trade(trade) | Payload::AggTrade(trade) => {
                price(&trade.price);
                observed.size_scale = observed.size_scale.max(trade.size.scale);
            }
            Payload::Quote(quote) => {
                price(&quote.bid.price);
                price(&quote.ask.price);
                observed.size_scale = observed.size_scale.max(quote.bid.size.scale).max(quote.ask.size.scale);
            }
            Payload::Bar(bar) => {
                for value in [&bar.open, &bar.high, &bar.low, &bar.close] {
                    price(value);
                }
                observed.size_scale = observed.size_scale.max(bar.volume.scale).max(bar.taker_buy_volume.scale);
            }
            Payload::Mark(mark) => {
                observed.mark_scale = observed.mark_scale.max(mark.mark_price.scale);
                if let Some(index) = &mark.index_price {
                    observed.mark_scale = observed.mark_scale.max(index.scale);
                }
            }
        }
        Ok(())
    }

    fn bad_record(&mut self, error: VenueError) -> Result<(), VenueError> {
        // Counted in the second pass; the first only needs to get past it.
        if self.options.skip_bad_records { Ok(()) } else { Err(error) }
    }
}

struct Normalizer<'p, 's, 'c> {
    pipeline: &'p Pipeline,
    sink: &'s mut dyn EventSink,
    cancel: &'c AtomicBool,
    /// Sync state per instrument that has book messages in this session (few per session: a Vec).
    syncs: Vec<(usize, BookSync)>,
    convert: Converter,
    report: SessionReport,
}

impl Normalizer<'_, '_, '_> {
    fn instrument(&self, origin: &Origin, venue: Venue, symbol: &str) -> Result<(usize, &Instrument), VenueError> {
        let index = self.pipeline.index.get(&(venue, symbol.to_ascii_uppercase())).copied().ok_or_else(|| {
            VenueError::Session {
                origin: origin.clone(),
                reason: format!(
                    "{venue}.{symbol} appeared only in the second pass (was the file changed while being read?)"
                ),
            }
        })?;
        Ok((index, &self.pipeline.instruments[index]))
    }
}

impl Visitor for Normalizer<'_, '_, '_> {
    fn message(&mut self, origin: &Origin, ts_recv: UnixNanos, message: &Decoded<'_>) -> Result<(), VenueError> {
        check_cancel(&mut self.report.messages, self.cancel)?;
        let (index, _) = self.instrument(origin, message.venue, message.symbol)?;
        let instrument = &self.pipeline.instruments[index];
        let event = self.convert.convert(origin, instrument, ts_recv, &message.payload)?;
        let MarketEvent::Book(update) = event else {
            return self.sink.event(index, &event);
        };
        let position = match self.syncs.iter().position(|(i, _)| *i == index) {
            Some(position) => position,
            None => {
                // Sources without update ids (tardis CSVs) chain nothing: every snapshot resets.
                let sync = if update.header.sequence == 0 && update.header.first_sequence == 0 {
                    BookSync::new(SyncRule::Unsequenced)
                } else {
                    BookSync::for_venue(message.venue)
                };
                self.syncs.push((index, sync));
                self.syncs.len() - 1
            }
        };
        let sink = &mut *self.sink;
        self.syncs[position].1.on_update(&update, &mut |synced| sink.event(index, &MarketEvent::Book(*synced)))
    }

    fn control(&mut self, _origin: &Origin, _what: &'static str) {
        self.report.control_messages += 1;
    }

    fn bad_record(&mut self, error: VenueError) -> Result<(), VenueError> {
        if !self.pipeline.options.skip_bad_records {
            return Err(error);
        }
        self.report.bad_records += 1;
        if self.report.first_bad_record.is_none() {
            self.report.first_bad_record = Some(error.to_string());
        }
        Ok(())
    }
}
