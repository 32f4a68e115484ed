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
//! - Every record is written with one `write` call to a file opened in append mode: a crashed process
//!   loses at most the record being written, and a torn last line is cut off when the journal is opened
//!   again. Fills are `fsync`ed (policy `fills`) because positions derive from them; an order record lost
//!   to a power cut is re-learnt by reconciliation (an open order the OMS does not know).

mod record;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use ferrotrade_model::{ClientOrderId, OrderEvent, OrderEventKind, OrderRequest, UnixNanos};

pub use record::{Record, Replayed};

use crate::LiveError;
use crate::config::FsyncPolicy;

/// The journal file name inside the run directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// An open journal, appending records.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    fsync: FsyncPolicy,
    line: Vec<u8>,
    records: u64,
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
    /// [`LiveError::Journal`] for an I/O error, a corrupt record (with its line number), an instrument the
    /// configuration no longer has, or a gap in the client ids.
    pub fn open(
        run_dir: &Path,
        instrument_names: &[String],
        fsync: FsyncPolicy,
    ) -> Result<(Journal, JournalState), LiveError> {
        std::fs::create_dir_all(run_dir).map_err(|error| journal_error(run_dir, error))?;
        let path = run_dir.join(JOURNAL_FILE);
        let state = read_and_repair(&path, instrument_names)?;
        let file =
            OpenOptions::new().create(true).append(true).open(&path).map_err(|error| journal_error(&path, error))?;
        Ok((Journal { path, file, fsync, line: Vec::with_capacity(512), records: 0 }, state))
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

    /// Marks the start of a session whose first new client id is `next_client_id`.
    ///
    /// # Errors
    /// [`LiveError::Journal`] when the write fails.
    pub fn session(&mut self, ts: UnixNanos, next_client_id: u64) -> Result<(), LiveError> {
        self.append(&Record::Session { ts: ts.0, next_client_id }, true)
    }

    /// Records a created order (before it is sent, so a crash never loses an id that reached the venue).
    ///
    /// # Errors
    /// [`LiveError::Journal`] when the write fails.
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

    /// Records an event the OMS accepted; fills are forced to disk (policy `fills` or `every`).
    ///
    /// # Errors
    /// [`LiveError::Journal`] when the write or the fsync fails.
    pub fn event(&mut self, instrument: &str, event: &OrderEvent) -> Result<(), LiveError> {
        let is_fill = matches!(event.kind, OrderEventKind::Filled(_));
        self.append(&Record::event(instrument, event), is_fill)
    }

    /// Forces everything written to disk.
    ///
    /// # Errors
    /// [`LiveError::Journal`] when the fsync fails.
    pub fn flush(&mut self) -> Result<(), LiveError> {
        self.file.sync_data().map_err(|error| journal_error(&self.path, error))
    }

    fn append(&mut self, record: &Record, is_fill: bool) -> Result<(), LiveError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record).map_err(|error| journal_error(&self.path, error))?;
        self.line.push(b'\n');
        // One write of the whole line: append mode makes it atomic with respect to other appends, and a
        // crash can only tear this line, which the next open cuts off.
        self.file.write_all(&self.line).map_err(|error| journal_error(&self.path, error))?;
        self.records += 1;
        let sync = match self.fsync {
            FsyncPolicy::Every => true,
            FsyncPolicy::Fills => is_fill,
            FsyncPolicy::Never => false,
        };
        if sync {
            self.file.sync_data().map_err(|error| journal_error(&self.path, error))?;
        }
        Ok(())
    }
}

/// Reads the journal at `path` (if any) and truncates a torn last line.
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
        if !line.ends_with('\n') {
            // A torn write from a crash: the record never completed, so it never happened.
            break;
        }
        good_bytes += read as u64;
        let record: Record = serde_json::from_str(line.trim_end())
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
