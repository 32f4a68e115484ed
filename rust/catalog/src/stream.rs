//! [`EventStream`]: the catalog as one receive-ordered stream of [`EventRow`] chunks, decoded on a
//! background thread.
//!
//! The reader thread opens parts, decodes Parquet and merges the specs ([`crate::merge`]), and hands
//! full chunks over a `sync_channel` of [`CHANNEL_CHUNKS`] slots, so decoding overlaps with the consumer
//! and memory stays bounded: at most `CHANNEL_CHUNKS + 2` chunks exist (queued, being filled, being
//! consumed), plus one decoded batch and one row group's Parquet buffers per open part, whatever the size
//! of the catalog. Consumers that give chunks back with [`EventStream::recycle`] make the steady state
//! allocation-free: the thread refills returned chunks instead of allocating.
//!
//! Dropping the stream stops the thread: it sets a stop flag, drops the receiving end (which fails the
//! thread's next `send`) and joins it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use ferrotrade_model::{EventChunk, InstrumentIndex, UnixNanos, Venue, civil_from_days};

use crate::catalog::Catalog;
use crate::error::CatalogError;
use crate::kind::TableKind;
use crate::merge::{Merger, SourcePlan};
use crate::part::{Window, inspect};

/// Chunks queued between the reader thread and the consumer.
pub const CHANNEL_CHUNKS: usize = 3;

/// One sub-stream: a table of one instrument, optionally restricted to `[start, end)` of `ts_recv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    /// Which table.
    pub kind: TableKind,
    /// The venue.
    pub venue: Venue,
    /// The symbol (the `symbol=` partition value; upper case is tried when the exact one is absent).
    pub symbol: String,
    /// The index written into every row's `instrument`.
    pub instrument: InstrumentIndex,
    /// First receive time included, or from the beginning.
    pub start: Option<UnixNanos>,
    /// First receive time excluded, or to the end.
    pub end: Option<UnixNanos>,
}

/// A batch of merged rows: the model's [`EventChunk`] (bar and mark rows carry in `aux` an index into
/// `bars` / `marks` of the same chunk; rows are in `ts_recv` order, ties by spec order then file order).
pub type Chunk = EventChunk;

/// The merged stream of one or more specs, as an iterator of chunks.
#[derive(Debug)]
pub struct EventStream {
    receiver: Option<Receiver<Result<Chunk, CatalogError>>>,
    recycler: SyncSender<Chunk>,
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    progress: Arc<AtomicU64>,
    allocated: Arc<AtomicU64>,
    total_rows: u64,
    done: bool,
}

impl EventStream {
    /// Plans the files of every spec, reads their footers (row counts, schema check) and starts the
    /// reader thread. Chunks hold up to `chunk_rows` rows.
    ///
    /// # Errors
    /// [`CatalogError::Arguments`] for no specs or `chunk_rows == 0`; [`CatalogError::NoData`] naming kind,
    /// venue, symbol and catalog when a spec matches no part file (in its time window); and, failing fast,
    /// any footer or schema error of a part ([`CatalogError::Parquet`], [`CatalogError::Schema`]). Errors
    /// found while decoding pages come through the iterator.
    pub fn open(catalog: &Catalog, specs: &[StreamSpec], chunk_rows: usize) -> Result<EventStream, CatalogError> {
        if specs.is_empty() {
            return Err(CatalogError::Arguments("no stream specs".into()));
        }
        if chunk_rows == 0 {
            return Err(CatalogError::Arguments("chunk_rows must be at least 1".into()));
        }
        let mut plans = Vec::with_capacity(specs.len());
        let mut total_rows = 0;
        for spec in specs {
            let (plan, rows) = plan(catalog, spec)?;
            plans.push(plan);
            total_rows += rows;
        }
        let (sender, receiver) = sync_channel(CHANNEL_CHUNKS);
        let (recycler, recycled) = sync_channel(CHANNEL_CHUNKS + 2);
        let stop = Arc::new(AtomicBool::new(false));
        let allocated = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, allocated) = (Arc::clone(&stop), Arc::clone(&allocated));
            std::thread::Builder::new()
                .name("catalog-reader".into())
                .spawn(move || read(Merger::new(plans), chunk_rows, &sender, &recycled, &stop, &allocated))
                .map_err(|source| CatalogError::Io { path: catalog.root().to_path_buf(), source })?
        };
        Ok(EventStream {
            receiver: Some(receiver),
            recycler,
            thread: Some(thread),
            stop,
            progress: Arc::new(AtomicU64::new(0)),
            allocated,
            total_rows,
            done: false,
        })
    }

    /// Rows of the selected row groups of every part, from the Parquet footers: exact without a time
    /// window; with one it may overcount (row groups straddling `start`/`end` are counted whole).
    #[must_use]
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    /// Rows delivered by the iterator so far (shared; read it from a progress-bar thread).
    #[must_use]
    pub fn progress(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.progress)
    }

    /// Chunks the reader thread has allocated so far: stays at most `CHANNEL_CHUNKS + 2`-ish when every
    /// consumed chunk is recycled.
    #[must_use]
    pub fn chunks_allocated(&self) -> u64 {
        self.allocated.load(Ordering::Relaxed)
    }

    /// Gives a consumed chunk back so the reader refills its buffers instead of allocating new ones.
    /// Chunks beyond what the reader can use are dropped.
    pub fn recycle(&mut self, chunk: Chunk) {
        match self.recycler.try_send(chunk) {
            Ok(()) | Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
    }

    /// Stops the reader thread and reports whether it panicked.
    fn shut_down(&mut self) -> bool {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receiver fails a `send` the thread may be blocked in.
        self.receiver = None;
        self.thread.take().is_some_and(|thread| thread.join().is_err())
    }
}

impl Iterator for EventStream {
    type Item = Result<Chunk, CatalogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let received = self.receiver.as_ref().map(Receiver::recv);
        match received {
            Some(Ok(Ok(chunk))) => {
                self.progress.fetch_add(chunk.rows.len() as u64, Ordering::Relaxed);
                Some(Ok(chunk))
            }
            Some(Ok(Err(error))) => {
                self.done = true;
                self.shut_down();
                Some(Err(error))
            }
            // The thread ended: cleanly at the end of the data, or by panicking.
            Some(Err(_)) | None => {
                self.done = true;
                if self.shut_down() { Some(Err(CatalogError::ReaderDied)) } else { None }
            }
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The reader thread: fills chunks until the data, the consumer or the stop flag ends.
fn read(
    mut merger: Merger,
    chunk_rows: usize,
    sender: &SyncSender<Result<Chunk, CatalogError>>,
    recycled: &Receiver<Chunk>,
    stop: &AtomicBool,
    allocated: &AtomicU64,
) {
    while !stop.load(Ordering::Relaxed) {
        let mut chunk = recycled.try_recv().unwrap_or_else(|_| {
            allocated.fetch_add(1, Ordering::Relaxed);
            Chunk { rows: Vec::with_capacity(chunk_rows), ..Chunk::default() }
        });
        chunk.clear();
        match merger.fill(&mut chunk, chunk_rows) {
            Ok(()) if chunk.rows.is_empty() => return,
            Ok(()) => {
                if sender.send(Ok(chunk)).is_err() {
                    return;
                }
            }
            Err(error) => {
                // The consumer may be gone already; nothing else to tell.
                let _ = sender.send(Err(error));
                return;
            }
        }
    }
}

/// The UTC date (`YYYY-MM-DD`) of a time: the catalog's partition of rows received then.
fn date_of(time: UnixNanos) -> String {
    let (year, month, day) = civil_from_days(time.days_since_epoch());
    format!("{year:04}-{month:02}-{day:02}")
}

/// The files of one spec within its window, and their row count from the footers.
fn plan(catalog: &Catalog, spec: &StreamSpec) -> Result<(SourcePlan, u64), CatalogError> {
    let window = Window { start: spec.start.map_or(0, |t| t.0), end: spec.end.map_or(u64::MAX, |t| t.0) };
    let no_data = |hint: String| CatalogError::NoData {
        kind: spec.kind,
        venue: spec.venue,
        symbol: spec.symbol.clone(),
        catalog: catalog.root().to_path_buf(),
        folder: catalog.instrument_folder(spec.kind, spec.venue, &spec.symbol),
        hint,
    };
    let partitions = catalog.partitions(spec.kind, spec.venue, &spec.symbol)?;
    if partitions.is_empty() {
        return Err(no_data(String::new()));
    }
    let first = spec.start.map(date_of);
    // `end` is exclusive: a window ending at midnight does not need that day's partition.
    let last = spec.end.map(|end| date_of(UnixNanos(end.0.saturating_sub(1))));
    let (have_first, have_last) =
        (partitions.first().map(|p| p.date.clone()), partitions.last().map(|p| p.date.clone()));
    let mut selected = std::collections::VecDeque::new();
    let mut rows = 0;
    for partition in partitions {
        let after_start = first.as_ref().is_none_or(|first| partition.date >= *first);
        let before_end = last.as_ref().is_none_or(|last| partition.date <= *last);
        if !(after_start && before_end) || window.start >= window.end {
            continue;
        }
        let mut parts: Vec<PathBuf> = Vec::with_capacity(partition.parts.len());
        for path in partition.parts {
            let inspected = inspect(&path, spec.kind, window)?;
            if inspected.rows > 0 {
                rows += inspected.rows;
                parts.push(path);
            }
        }
        if !parts.is_empty() {
            selected.push_back(parts);
        }
    }
    if selected.is_empty() {
        let range = |time: Option<UnixNanos>| time.map_or_else(|| "open".to_owned(), |t| t.to_string());
        return Err(no_data(format!(
            "; the window [{}, {}) excludes every date it holds ({} .. {})",
            range(spec.start),
            range(spec.end),
            have_first.unwrap_or_default(),
            have_last.unwrap_or_default()
        )));
    }
    Ok((SourcePlan { kind: spec.kind, instrument: spec.instrument, window, partitions: selected }, rows))
}
