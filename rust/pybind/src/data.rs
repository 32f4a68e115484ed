//! Reading recordings from Python: `plan_sessions`, `verify` and the streaming `CaptureReader`.
//!
//! `CaptureReader` runs the pipeline's first pass in its constructor (so instruments and precisions are
//! known before any row), then the second pass on a worker thread that sends Arrow batches through a
//! bounded channel: memory stays bounded by `chunk_rows` and the channel depth, whatever the input size.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use ferrotrade_model::{Instrument, Level, MarketEvent};
use ferrotrade_venues::VenueError;
use ferrotrade_venues::pipeline::{EventSink, Pipeline, PipelineOptions, SessionReport};
use ferrotrade_venues::source::plan_sessions as plan;
use ferrotrade_venues::verify::verify_pipeline;
use pyo3::exceptions::{PyRuntimeError, PyStopIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::arrow::ArrowBatches;
use crate::batches::{Columns, Kind, kind_of};
use crate::detach::run_interruptible;
use crate::errors::venue_error;

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<ArrowBatches>()?;
    module.add_class::<CaptureReader>()?;
    module.add_function(wrap_pyfunction!(plan_sessions, module)?)?;
    module.add_function(wrap_pyfunction!(verify, module)?)?;
    Ok(())
}

fn to_paths(paths: Vec<String>) -> Vec<PathBuf> {
    paths.into_iter().map(PathBuf::from).collect()
}

/// Groups files into sessions: `[(format, [files in read order]), ...]`.
#[pyfunction]
fn plan_sessions(py: Python<'_>, paths: Vec<String>) -> PyResult<Vec<(String, Vec<String>)>> {
    let sessions = plan(&to_paths(paths)).map_err(|e| venue_error(py, &e))?;
    Ok(sessions
        .into_iter()
        .map(|s| (s.format.as_str().to_owned(), s.files.iter().map(|f| f.display().to_string()).collect()))
        .collect())
}

fn level_tuple(level: Option<Level>, instrument: &Instrument) -> Option<(f64, f64)> {
    level.map(|l| (l.price.to_f64(instrument.price_precision), l.size.to_f64(instrument.size_precision)))
}

fn scan(py: Python<'_>, paths: Vec<String>, skip_bad_records: bool) -> PyResult<Pipeline> {
    let sessions = plan(&to_paths(paths)).map_err(|e| venue_error(py, &e))?;
    let options = PipelineOptions { skip_bad_records };
    run_interruptible(py, |cancel| Pipeline::scan(sessions, options, cancel))?.map_err(|e| venue_error(py, &e))
}

/// Rebuilds every book of the recordings with the venue's sync rules and checks it; one dict per
/// (session, instrument).
#[pyfunction]
#[pyo3(signature = (paths, skip_bad_records = true))]
fn verify<'py>(py: Python<'py>, paths: Vec<String>, skip_bad_records: bool) -> PyResult<Bound<'py, PyList>> {
    let pipeline = scan(py, paths, skip_bad_records)?;
    let verification =
        run_interruptible(py, |cancel| verify_pipeline(&pipeline, cancel))?.map_err(|e| venue_error(py, &e))?;
    let list = PyList::empty(py);
    for book in &verification.books {
        let session = &verification.sessions[book.session];
        let instrument = &book.instrument;
        let dict = PyDict::new(py);
        dict.set_item("session", session.files.first().map(|f| f.display().to_string()))?;
        dict.set_item("files", session.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>())?;
        dict.set_item("format", session.format)?;
        dict.set_item("venue", instrument.id.venue.as_str())?;
        dict.set_item("symbol", &instrument.id.symbol)?;
        dict.set_item("price_precision", instrument.price_precision)?;
        dict.set_item("size_precision", instrument.size_precision)?;
        dict.set_item("has_book", book.has_book)?;
        dict.set_item("snapshots", book.sync.snapshots)?;
        dict.set_item("snapshots_ignored", book.sync.snapshots_ignored)?;
        dict.set_item("diffs_applied", book.sync.diffs_applied)?;
        dict.set_item("stale_dropped", book.sync.stale_dropped)?;
        dict.set_item("gaps", book.sync.gaps)?;
        dict.set_item("buffered_while_unsynced", book.sync.unsynced_dropped)?;
        dict.set_item("crossed", book.crossed)?;
        dict.set_item("bbo_checked", book.bbo_checked)?;
        dict.set_item("bbo_mismatches", book.bbo_mismatches)?;
        dict.set_item("first_bbo_mismatch", &book.first_bbo_mismatch)?;
        dict.set_item("bbo_unmatched", book.bbo_unmatched)?;
        dict.set_item("trades", book.trades)?;
        dict.set_item("agg_trades", book.agg_trades)?;
        dict.set_item("trade_id_gaps", book.trade_id_gaps)?;
        dict.set_item("quotes", book.quotes)?;
        dict.set_item("bars", book.bars)?;
        dict.set_item("bar_gaps", book.bar_gaps)?;
        dict.set_item("marks", book.marks)?;
        dict.set_item("bad_records", session.bad_records)?;
        dict.set_item("first_bad_record", &session.first_bad_record)?;
        dict.set_item("best_bid", level_tuple(book.best_bid, instrument))?;
        dict.set_item("best_ask", level_tuple(book.best_ask, instrument))?;
        dict.set_item("bid_levels", book.bid_levels)?;
        dict.set_item("ask_levels", book.ask_levels)?;
        dict.set_item("synced", book.synced)?;
        dict.set_item("ok", book.is_clean() && session.bad_records == 0)?;
        list.append(dict)?;
    }
    Ok(list)
}

/// One item of the reader: `(session, kind, venue, symbol, batch)`, or the end with the session reports.
enum Item {
    Batch(usize, Kind, usize, arrow_array::RecordBatch),
    Done(Vec<SessionReport>),
    Failed(VenueError),
}

struct BatchSink {
    session: usize,
    chunk_rows: usize,
    columns: Vec<[Columns; 6]>,
    sender: SyncSender<Item>,
}

impl BatchSink {
    fn flush(&mut self, instrument: usize, kind: Kind) -> Result<(), VenueError> {
        let columns = &mut self.columns[instrument][kind as usize];
        if columns.len() == 0 {
            return Ok(());
        }
        let batch = columns
            .take_batch(kind)
            .map_err(|e| VenueError::Session { origin: unknown_origin(), reason: format!("arrow: {e}") })?;
        // A closed channel means the Python side stopped iterating: stop reading.
        self.sender.send(Item::Batch(self.session, kind, instrument, batch)).map_err(|_| VenueError::Interrupted)
    }
}

fn unknown_origin() -> ferrotrade_venues::Origin {
    ferrotrade_venues::Origin { file: Arc::new(PathBuf::new()), line: 0 }
}

impl EventSink for BatchSink {
    fn session_start(&mut self, session: usize) {
        self.session = session;
    }

    fn event(&mut self, instrument: usize, event: &MarketEvent<'_>) -> Result<(), VenueError> {
        if self.columns.len() <= instrument {
            self.columns.resize_with(instrument + 1, Default::default);
        }
        let kind = kind_of(event);
        let columns = &mut self.columns[instrument][kind as usize];
        columns.push(event);
        if columns.len() >= self.chunk_rows {
            self.flush(instrument, kind)?;
        }
        Ok(())
    }

    fn session_end(&mut self, _report: &SessionReport) -> Result<(), VenueError> {
        for instrument in 0..self.columns.len() {
            for kind in Kind::ALL {
                self.flush(instrument, kind)?;
            }
        }
        Ok(())
    }
}

/// Streams the normalized events of recordings as Arrow batches: each item is `(session, kind, venue,
/// symbol, batch)`, `session` indexing `sessions()`; see the module docs.
#[pyclass(module = "ferrotrade._core")]
pub struct CaptureReader {
    pipeline: Arc<Pipeline>,
    chunk_rows: usize,
    cancel: Arc<AtomicBool>,
    started: AtomicBool,
    receiver: Mutex<Option<Receiver<Item>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    reports: Mutex<Option<Vec<SessionReport>>>,
    progress: (Arc<AtomicU64>, u64),
}

impl CaptureReader {
    fn start(&self) -> PyResult<()> {
        if self.started.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        let mut receiver = self.receiver.lock().map_err(|_| PyRuntimeError::new_err("reader lock poisoned"))?;
        let (sender, new_receiver) = sync_channel(2);
        let pipeline = Arc::clone(&self.pipeline);
        let cancel = Arc::clone(&self.cancel);
        let chunk_rows = self.chunk_rows;
        let handle = std::thread::Builder::new()
            .name("ferrotrade-reader".into())
            .spawn(move || {
                let mut sink = BatchSink { session: 0, chunk_rows, columns: Vec::new(), sender: sender.clone() };
                let item = match pipeline.run(&mut sink, &cancel) {
                    Ok(reports) => Item::Done(reports),
                    Err(error) => Item::Failed(error),
                };
                let _ = sender.send(item);
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start reader thread: {e}")))?;
        *receiver = Some(new_receiver);
        *self.worker.lock().map_err(|_| PyRuntimeError::new_err("reader lock poisoned"))? = Some(handle);
        Ok(())
    }

    fn receive(&self, py: Python<'_>) -> PyResult<Option<Item>> {
        loop {
            let taken = self.receiver.lock().map_err(|_| PyRuntimeError::new_err("reader lock poisoned"))?.take();
            let Some(receiver) = taken else { return Ok(None) };
            // Wait without the GIL (the receiver is moved in and out: it is `Send`, not `Sync`), waking up
            // to let Python handle Ctrl-C.
            let (receiver, received) = py.detach(move || {
                let received = receiver.recv_timeout(Duration::from_millis(100));
                (receiver, received)
            });
            *self.receiver.lock().map_err(|_| PyRuntimeError::new_err("reader lock poisoned"))? = Some(receiver);
            match received {
                Ok(item) => return Ok(Some(item)),
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(interrupt) = py.check_signals() {
                        self.stop(py);
                        return Err(interrupt);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
        }
    }

    fn stop(&self, py: Python<'_>) {
        self.cancel.store(true, Ordering::Relaxed);
        if let Ok(mut receiver) = self.receiver.lock() {
            // Dropping the receiver unblocks a worker waiting to send.
            receiver.take();
        }
        if let Ok(mut worker) = self.worker.lock()
            && let Some(handle) = worker.take()
        {
            py.detach(|| {
                let _ = handle.join();
            });
        }
    }
}

#[pymethods]
impl CaptureReader {
    #[new]
    #[pyo3(signature = (paths, chunk_rows = 1_000_000, skip_bad_records = false))]
    fn new(py: Python<'_>, paths: Vec<String>, chunk_rows: usize, skip_bad_records: bool) -> PyResult<CaptureReader> {
        if chunk_rows == 0 {
            return Err(PyValueError::new_err("chunk_rows must be at least 1"));
        }
        let pipeline = scan(py, paths, skip_bad_records)?;
        let progress = pipeline.progress_counter();
        Ok(CaptureReader {
            pipeline: Arc::new(pipeline),
            chunk_rows,
            cancel: Arc::new(AtomicBool::new(false)),
            started: AtomicBool::new(false),
            receiver: Mutex::new(None),
            worker: Mutex::new(None),
            reports: Mutex::new(None),
            progress,
        })
    }

    /// Instruments found, with the precisions every price and size column uses.
    fn instruments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for instrument in self.pipeline.instruments() {
            let dict = PyDict::new(py);
            dict.set_item("venue", instrument.id.venue.as_str())?;
            dict.set_item("symbol", &instrument.id.symbol)?;
            dict.set_item("contract_type", instrument.contract_type.as_str())?;
            dict.set_item("price_precision", instrument.price_precision)?;
            dict.set_item("size_precision", instrument.size_precision)?;
            dict.set_item("mark_precision", instrument.mark_precision)?;
            dict.set_item("tick_size", instrument.tick_size.0)?;
            dict.set_item("lot_size", instrument.lot_size.0)?;
            dict.set_item("min_notional", instrument.min_notional.map(|d| d.to_string()))?;
            dict.set_item("contract_size", instrument.contract_size.to_string())?;
            list.append(dict)?;
        }
        Ok(list)
    }

    /// The sessions, as `[(format, [files]), ...]`.
    fn sessions(&self) -> Vec<(String, Vec<String>)> {
        self.pipeline
            .sessions()
            .iter()
            .map(|s| (s.format.as_str().to_owned(), s.files.iter().map(|f| f.display().to_string()).collect()))
            .collect()
    }

    /// `(bytes read, bytes to read)` over both passes.
    fn progress(&self) -> (u64, u64) {
        let (counter, total) = &self.progress;
        (counter.load(Ordering::Relaxed).min(*total), *total)
    }

    /// Counts of the second pass so far (complete once iteration has ended).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        let reports = self.reports.lock().map_err(|_| PyRuntimeError::new_err("reader lock poisoned"))?;
        let reports = reports.as_deref().unwrap_or_default();
        dict.set_item("messages", reports.iter().map(|r| r.messages).sum::<u64>())?;
        dict.set_item("control_messages", reports.iter().map(|r| r.control_messages).sum::<u64>())?;
        dict.set_item("bad_records", reports.iter().map(|r| r.bad_records).sum::<u64>())?;
        dict.set_item("first_bad_record", reports.iter().find_map(|r| r.first_bad_record.clone()))?;
        dict.set_item("gaps", reports.iter().flat_map(|r| &r.books).map(|b| b.stats.gaps).sum::<u64>())?;
        dict.set_item("finished", !reports.is_empty() || self.pipeline.sessions().is_empty())?;
        let sessions = PyList::empty(py);
        for report in reports {
            let session = PyDict::new(py);
            session.set_item("messages", report.messages)?;
            session.set_item("control_messages", report.control_messages)?;
            session.set_item("bad_records", report.bad_records)?;
            session.set_item("first_bad_record", &report.first_bad_record)?;
            session.set_item("gaps", report.books.iter().map(|b| b.stats.gaps).sum::<u64>())?;
            sessions.append(session)?;
        }
        dict.set_item("sessions", sessions)?;
        Ok(dict)
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<(usize, String, String, String, ArrowBatches)> {
        self.start()?;
        match self.receive(py)? {
            Some(Item::Batch(session, kind, instrument, batch)) => {
                let id = &self.pipeline.instruments()[instrument].id;
                let batches = ArrowBatches::new(batch.schema(), vec![batch]);
                Ok((session, kind.as_str().to_owned(), id.venue.as_str().to_owned(), id.symbol.clone(), batches))
            }
            Some(Item::Done(reports)) => {
                *self.reports.lock().map_err(|_| PyRuntimeError::new_err("reader lock poisoned"))? = Some(reports);
                self.stop(py);
                Err(PyStopIteration::new_err(()))
            }
            Some(Item::Failed(error)) => {
                self.stop(py);
                Err(venue_error(py, &error))
            }
            None => Err(PyStopIteration::new_err(())),
        }
    }

    /// Stops the worker early (also done when the reader is garbage-collected).
    fn close(&self, py: Python<'_>) {
        self.stop(py);
    }
}

impl Drop for CaptureReader {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        if let Ok(mut receiver) = self.receiver.lock() {
            receiver.take();
        }
    }
}
