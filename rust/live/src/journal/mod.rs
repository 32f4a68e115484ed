//! The run journal: an append-only JSONL file (`journal.jsonl` in the run directory) of every order the
//! engine created and every order event the OMS accepted, so a restarted engine rebuilds the exact OMS and
//! positions instead of forgetting them.
//!
//! # Records (one JSON object per line, tag `t`)
//! | `t` | written when | replayed as |
//! |---|---|---|
//! | `session` | the engine starts | nothing (marks restarts for a reader) |
//! | `order` | a strategy's order is created (before it is sent) or an unknown venue order is adopted | `OrderStore::create` |
//! | `event` | the OMS accepted an order event (risk denial, venue answer, fill) | `OrderStore::apply`, fills into the portfolios |
//!
//! Prices and sizes are mantissas at the instrument's precisions (which come from the configuration's
//! `tick_size`/`lot_size`); instruments are named `venue.SYMBOL`, strategies by name.
//!
//! # Invariants
//! - Only events the OMS accepted are journaled, in the order it accepted them, so replaying the journal
//!   into an empty OMS reproduces its state exactly, including the set of applied trade ids: a fill the
//!   venue sends again after a restart is a duplicate and is not counted twice.
//! - Client ids in the journal are dense (each session continues at the last id + 1), which is what the
//!   OMS's dense id space needs; a gap is reported as corruption.
//! - Records are written in groups (group commit), each group copied at once into the file through its
//!   memory map (see `log`: a copy, not a system call, and as safe against a crashed process). Before an
//!   order leaves, the engine writes what is pending ([`Journal::write_ahead`]: the order's record and
//!   every record before it are in the file before the venue can know the client id); at the end of
//!   handling each input, before it waits for the next one, it commits ([`Journal::commit`]: the rest,
//!   and the sync the policy asks for). A crashed process loses at most the records of the input being
//!   handled (a cancel sent, a fill received: the venue still knows them, and the start's reconciliation
//!   and order queries bring them back); the next open cuts the journal after its last complete line.
//!   No system call and no disk flush sits between a decision and the wire.
//! - One engine per run directory: the journal file is locked while open.
//! - Fills are synced with their group (policy `fills`) because positions derive from them; an order
//!   record lost to a power cut is re-learnt by reconciliation (an open order the OMS does not know).

mod log;
mod record;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use ferrotrade_model::{
    ClientOrderId, InstrumentIndex, OrderEvent, OrderEventKind, OrderRequest, OrderSide, Price, Quantity, UnixNanos,
};

pub use record::{Record, Replayed};

use crate::LiveError;
use crate::config::FsyncPolicy;

/// The journal file name inside the run directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// An open journal, appending records.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    log: log::AppendLog,
    fsync: FsyncPolicy,
    /// Records appended since the last commit, as JSONL.
    pending: Vec<u8>,
    /// The pending group holds a fill.
    pending_fill: bool,
    /// Written but not yet synced: anything, and a fill (what the policies `every` and `fills` sync).
    unsynced: bool,
    unsynced_fill: bool,
    records: u64,
    /// Set by tests that simulate a crash: the destructor then does nothing a crash would not.
    abandoned: bool,
}

/// What an existing journal holds, in order.
#[derive(Debug, Default)]
pub struct JournalState {
    /// Orders and accepted events in journal order.
    pub replay: Vec<Replayed>,
    /// The highest client id the journal knows (`None` for an empty journal).
    pub last_client_id: Option<u64>,
    /// Sessions (engine starts) before this one.
    pub sessions: u64,
}

fn journal_error(path: &Path, reason: impl std::fmt::Display) -> LiveError {
    LiveError::Journal { path: path.display().to_string(), reason: reason.to_string() }
}

impl Journal {
    /// Opens (creating) the journal of `run_dir`, reads what it holds, cuts a torn last line, and returns
    /// it ready to append with its previous contents.
    ///
    /// `instrument_names` (`venue.SYMBOL`, index order) resolve the journal's instrument names to indices.
    ///
    /// # Errors
    /// [`LiveError::Journal`] for an I/O error, a journal another engine holds open, a corrupt record
    /// (with its line number), an instrument the configuration no longer has, or a gap in the client ids.
    pub fn open(
        run_dir: &Path,
        instrument_names: &[String],
        fsync: FsyncPolicy,
    ) -> Result<(Journal, JournalState), LiveError> {
        std::fs::create_dir_all(run_dir).map_err(|error| journal_error(run_dir, error))?;
        let path = run_dir.join(JOURNAL_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|error| journal_error(&path, error))?;
        // Held for the life of the file handle: a second engine on this run directory is refused.
        file.try_lock().map_err(|error| match error {
            std::fs::TryLockError::WouldBlock => {
                journal_error(&path, "another engine holds this run directory's journal")
            }
            std::fs::TryLockError::Error(error) => journal_error(&path, error),
        })?;
        // Read (and repaired) only under the lock: another engine may have the file mapped.
        let state = read_and_repair(&path, instrument_names)?;
        let end = file.metadata().map_err(|error| journal_error(&path, error))?.len();
        let log = log::AppendLog::new(file, end).map_err(|error| journal_error(&path, error))?;
        let pending = Vec::with_capacity(4096);
        let journal = Journal {
            path,
            log,
            fsync,
            pending,
            pending_fill: false,
            unsynced: false,
            unsynced_fill: false,
            records: 0,
            abandoned: false,
        };
        Ok((journal, state))
    }

    /// The journal's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records written by this session.
    #[must_use]
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Marks the start of a session whose first new client id is `next_client_id` (written at once).
    ///
    /// # Errors
    /// [`LiveError::Journal`] when the write fails.
    pub fn session(&mut self, ts: UnixNanos, next_client_id: u64) -> Result<(), LiveError> {
        self.append(&Record::Session { ts: ts.0, next_client_id }, true)?;
        self.commit()
    }

    /// Appends a created order; the caller commits before the order is sent, so a crash never loses an
    /// id that reached the venue.
    ///
    /// # Errors
    /// [`LiveError::Journal`] when the record cannot be serialized.
    pub fn order(
        &mut self,
        ts: UnixNanos,
        client_id: ClientOrderId,
        strategy: &str,
        instrument: &str,
        request: &OrderRequest,
    ) -> Result<(), LiveError> {
        let record = Record::order(ts, client_id, strategy, instrument, request);
        self.append(&record, false)
    }

    /// Encodes a representative new-order record and its `submitted` event as [`Journal::order`] and
    /// [`Journal::event`] would, and takes them back: nothing is written, nothing counted. A busy-polling
    /// engine calls it with the gateways' warm-up (about once a millisecond) so the encoding's code and
    /// data stay in the CPU's caches between orders: both records sit before the wire of a new order, and
    /// cold they cost a few microseconds.
    pub fn warm(&mut self, strategy: &str, instrument: &str) {
        let start = self.pending.len();
        let request = OrderRequest::limit(InstrumentIndex(0), OrderSide::Buy, Price(1), Quantity(1));
        let event = OrderEvent {
            client_id: ClientOrderId(1),
            instrument: InstrumentIndex(0),
            kind: OrderEventKind::Submitted,
            ts_event: UnixNanos(0),
            ts_recv: UnixNanos(0),
        };
        let records = [
            Record::order(UnixNanos(0), event.client_id, strategy, instrument, &request),
            Record::event(instrument, &event),
        ];
        for record in &records {
            // Into the buffer a real record would use; the bytes are dropped at once.
            if serde_json::to_writer(&mut self.pending, record).is_err() {
                break;
            }
        }
        self.pending.truncate(start);
    }

    /// Appends an event the OMS accepted; a group holding a fill is forced to disk when committed
    /// (policy `fills` or `every`).
    ///
    /// # Errors
    /// [`LiveError::Journal`] when the record cannot be serialized.
    pub fn event(&mut self, instrument: &str, event: &OrderEvent) -> Result<(), LiveError> {
        let is_fill = matches!(event.kind, OrderEventKind::Filled(_));
        self.append(&Record::event(instrument, event), is_fill)
    }

    /// Copies the records appended since the last commit into the file, then syncs per the policy:
    /// everything written (`every`), or everything written once a fill is among it (`fills`); last,
    /// faults in the pages the next records will land in (off the order path: see `log`).
    ///
    /// # Errors
    /// [`LiveError::Journal`] when the write or the fsync fails.
    pub fn commit(&mut self) -> Result<(), LiveError> {
        self.write_pending()?;
        // The next records' pages, faulted in here rather than on an order's path.
        self.log.prepare().map_err(|error| journal_error(&self.path, error))?;
        let sync = match self.fsync {
            FsyncPolicy::Every => self.unsynced,
            FsyncPolicy::Fills => self.unsynced_fill,
            FsyncPolicy::Never => false,
        };
        if sync {
            self.log.sync().map_err(|error| journal_error(&self.path, error))?;
            self.unsynced = false;
            self.unsynced_fill = false;
        }
        Ok(())
    }

    /// Writes what is pending without syncing it: the write-ahead of an order about to be sent, which
    /// must not wait for a disk flush (the sync follows with the next [`Journal::commit`]).
    ///
    /// # Errors
    /// [`LiveError::Journal`] when the write fails.
    pub fn write_ahead(&mut self) -> Result<(), LiveError> {
        self.write_pending()
    }

    fn write_pending(&mut self) -> Result<(), LiveError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // Cleared first: a failed append is a fault that ends the run, never retried with a torn half.
        let result = self.log.append(&self.pending);
        self.pending.clear();
        self.unsynced = true;
        self.unsynced_fill |= std::mem::take(&mut self.pending_fill);
        result.map_err(|error| journal_error(&self.path, error))
    }

    /// Commits what is pending and forces everything written to disk.
    ///
    /// # Errors
    /// [`LiveError::Journal`] when the write or the fsync fails.
    pub fn flush(&mut self) -> Result<(), LiveError> {
        self.commit()?;
        self.log.sync().map_err(|error| journal_error(&self.path, error))
    }

    fn append(&mut self, record: &Record<'_>, is_fill: bool) -> Result<(), LiveError> {
        let start = self.pending.len();
        if let Err(error) = serde_json::to_writer(&mut self.pending, record) {
            self.pending.truncate(start);
            return Err(journal_error(&self.path, error));
        }
        self.pending.push(b'\n');
        self.pending_fill |= is_fill;
        self.records += 1;
        Ok(())
    }
}

impl Journal {
    /// Drops the journal as a crash would: nothing pending is written, the file keeps its zero tail (the
    /// mapping and the lock are released, as the kernel does for a killed process).
    #[cfg(test)]
    fn abandon(mut self) {
        self.abandoned = true;
    }
}

impl Drop for Journal {
    /// A clean close: what is pending is written (the engine flushes on every stop and reports a failure
    /// there; this is the last resort for a run that ended without), synced, and the file is cut back to
    /// its data. A crash runs no destructor, which is what the group-commit rule and the reader's
    /// torn-line rule in the module docs account for.
    fn drop(&mut self) {
        if self.abandoned {
            return;
        }
        // Nobody is left to report a failure to; the next open repairs whatever this could not do.
        let _ = self.commit();
        let _ = self.log.close();
    }
}

/// Reads the journal at `path` (if any) and truncates it after its last complete line (a torn group, or
/// the zero tail a crashed run's mapped file leaves).
fn read_and_repair(path: &Path, instrument_names: &[String]) -> Result<JournalState, LiveError> {
    let mut state = JournalState::default();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(state),
        Err(error) => return Err(journal_error(path, error)),
    };
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    let mut good_bytes: u64 = 0;
    let mut number = 0usize;
    loop {
        line.clear();
        let read = reader.read_line(&mut line).map_err(|error| journal_error(path, error))?;
        if read == 0 {
            break;
        }
        number += 1;
        if !line.ends_with('\n') || line.contains('\0') {
            // A torn group from a crash, or the zeros past the data of a mapped file that was not closed:
            // the record never completed, so it never happened (see `log`).
            break;
        }
        good_bytes += read as u64;
        let record: Record<'_> = serde_json::from_str(line.trim_end())
            .map_err(|error| journal_error(path, format!("line {number}: {error}")))?;
        match record.into_replayed(instrument_names) {
            Ok(Some(replayed)) => {
                if let Replayed::Created { client_id, .. } = &replayed {
                    if let Some(last) = state.last_client_id
                        && client_id.0 != last + 1
                    {
                        return Err(journal_error(
                            path,
                            format!("line {number}: client id {} after {last} (ids must be dense)", client_id.0),
                        ));
                    }
                    state.last_client_id = Some(client_id.0);
                }
                state.replay.push(replayed);
            }
            Ok(None) => state.sessions += 1,
            Err(reason) => return Err(journal_error(path, format!("line {number}: {reason}"))),
        }
    }
    let length = std::fs::metadata(path).map_err(|error| journal_error(path, error))?.len();
    if length != good_bytes {
        let file = OpenOptions::new().write(true).open(path).map_err(|error| journal_error(path, error))?;
        file.set_len(good_bytes).map_err(|error| journal_error(path, error))?;
        file.sync_data().map_err(|error| journal_error(path, error))?;
    }
    Ok(state)
}

#[cfg(test)]
mod tests;
