//! The k-way merge of sub-streams by `ts_recv`, run on the reader thread.
//!
//! Each source (one [`crate::StreamSpec`]) is a sequence of date partitions; a partition may hold several
//! part files (from different imports), each sorted by `ts_recv`. Because the date partition is the UTC
//! date of `ts_recv`, a source only needs the parts of its current date open at once: they become
//! *cursors*, and the next date opens when the last of them ends. Memory is therefore bounded by the
//! number of parts of one date per source, never by the catalog size.
//!
//! Order: rows are emitted by `(ts_recv, source index, file index within the source)`, so ties are broken
//! by spec order, then date/part-name order, and the output is deterministic. Rather than comparing per
//! row, the merge finds the cursor with the smallest head and copies its whole run of rows that precede
//! every other cursor's head (a binary search in the decoded batch), so rare streams (bars, marks)
//! interleave with a few comparisons per run. When a single part is open in the whole stream (the common
//! book-only backtest), batches are decoded straight into the chunk: no merge and no copy.

use std::collections::VecDeque;
use std::path::PathBuf;

use ferrotrade_model::{InstrumentIndex, RowKind};

use crate::error::CatalogError;
use crate::kind::TableKind;
use crate::part::{BATCH_ROWS, PartReader, Window};
use crate::stream::Chunk;

/// What one source will read: its kind, instrument, window and date partitions (each a list of parts).
#[derive(Debug, Clone)]
pub(crate) struct SourcePlan {
    pub(crate) kind: TableKind,
    pub(crate) instrument: InstrumentIndex,
    pub(crate) window: Window,
    pub(crate) partitions: VecDeque<Vec<PathBuf>>,
}

#[derive(Debug)]
struct Source {
    plan: SourcePlan,
    /// Cursors of this source currently open.
    active: usize,
    /// Index (within the source) of the next file to open; orders ties between parts.
    next_file: u32,
}

/// One open part with its current decoded batch. `position < decoded.rows.len()` while it is listed,
/// except for the only cursor left, whose batches may go straight into the chunk.
#[derive(Debug)]
struct Cursor {
    source: usize,
    file: u32,
    kind: RowKind,
    reader: PartReader,
    decoded: Chunk,
    position: usize,
}

impl Cursor {
    /// The merge key of the head row.
    #[inline]
    fn key(&self) -> (u64, usize, u32) {
        (self.decoded.rows[self.position].ts_recv.0, self.source, self.file)
    }
}

/// Merges every source into chunks of rows.
#[derive(Debug)]
pub(crate) struct Merger {
    sources: Vec<Source>,
    cursors: Vec<Cursor>,
    /// Buffers of closed cursors, reused by the next ones.
    spare: Vec<Chunk>,
    started: bool,
}

impl Merger {
    pub(crate) fn new(plans: Vec<SourcePlan>) -> Merger {
        let sources = plans.into_iter().map(|plan| Source { plan, active: 0, next_file: 0 }).collect();
        Merger { sources, cursors: Vec::new(), spare: Vec::new(), started: false }
    }

    /// Appends up to `capacity - chunk.rows.len()` rows in merge order; leaves the chunk short only at the
    /// end of every source.
    ///
    /// # Errors
    /// Any error opening or decoding a part ([`PartReader`]).
    pub(crate) fn fill(&mut self, chunk: &mut Chunk, capacity: usize) -> Result<(), CatalogError> {
        if !self.started {
            self.started = true;
            for source in 0..self.sources.len() {
                self.open_next_partition(source)?;
            }
        }
        while chunk.rows.len() < capacity && !self.cursors.is_empty() {
            if self.cursors.len() == 1 && self.cursors[0].position == self.cursors[0].decoded.rows.len() {
                // Every other source is done and this part is the only one open: nothing to merge.
                if capacity - chunk.rows.len() >= BATCH_ROWS {
                    if !self.cursors[0].reader.next_batch(chunk)? {
                        self.close(0)?;
                    }
                } else {
                    self.advance(0)?;
                }
                continue;
            }
            let (best, bound) = self.smallest();
            let room = capacity - chunk.rows.len();
            let cursor = &mut self.cursors[best];
            let rows = &cursor.decoded.rows[cursor.position..];
            let run = match bound {
                None => rows.len(),
                // Rows equal to the other head's time come first only if this cursor ranks first on ties.
                Some((time, source, file)) if (cursor.source, cursor.file) < (source, file) => {
                    rows.partition_point(|row| row.ts_recv.0 <= time)
                }
                Some((time, ..)) => rows.partition_point(|row| row.ts_recv.0 < time),
            }
            .clamp(1, room);
            emit(cursor, run, chunk);
            cursor.position += run;
            if cursor.position == cursor.decoded.rows.len() && self.cursors.len() > 1 {
                self.advance(best)?;
            }
        }
        Ok(())
    }

    /// The cursor with the smallest key, and the smallest key among the others (the end of its run).
    #[inline]
    fn smallest(&self) -> (usize, Option<(u64, usize, u32)>) {
        let mut best = 0;
        let mut best_key = self.cursors[0].key();
        let mut second: Option<(u64, usize, u32)> = None;
        for (index, cursor) in self.cursors.iter().enumerate().skip(1) {
            let key = cursor.key();
            if key < best_key {
                second = Some(best_key);
                best = index;
                best_key = key;
            } else if second.is_none_or(|other| key < other) {
                second = Some(key);
            }
        }
        (best, second)
    }

    /// Loads the next non-empty batch of cursor `index`, closing it at the end of its file.
    fn advance(&mut self, index: usize) -> Result<(), CatalogError> {
        let cursor = &mut self.cursors[index];
        cursor.position = 0;
        cursor.decoded.clear();
        while cursor.reader.next_batch(&mut cursor.decoded)? {
            if !cursor.decoded.rows.is_empty() {
                return Ok(());
            }
        }
        self.close(index)
    }

    /// Closes cursor `index` and opens its source's next date when it was the last open part.
    fn close(&mut self, index: usize) -> Result<(), CatalogError> {
        let closed = self.cursors.swap_remove(index);
        let source = closed.source;
        self.spare.push(closed.decoded);
        self.sources[source].active -= 1;
        if self.sources[source].active == 0 {
            self.open_next_partition(source)?;
        }
        Ok(())
    }

    /// Opens the parts of the source's next date partition that hold rows in the window; skips dates whose
    /// parts are all empty.
    fn open_next_partition(&mut self, source: usize) -> Result<(), CatalogError> {
        while self.sources[source].active == 0 {
            let Some(parts) = self.sources[source].plan.partitions.pop_front() else { return Ok(()) };
            for path in parts {
                let state = &mut self.sources[source];
                let file = state.next_file;
                state.next_file += 1;
                let plan = &state.plan;
                let mut reader = PartReader::open(&path, plan.kind, plan.instrument, plan.window)?;
                let mut decoded = self.spare.pop().unwrap_or_default();
                decoded.clear();
                let mut has_rows = false;
                while reader.next_batch(&mut decoded)? {
                    if !decoded.rows.is_empty() {
                        has_rows = true;
                        break;
                    }
                }
                if has_rows {
                    let kind = plan.kind.row_kind();
                    self.cursors.push(Cursor { source, file, kind, reader, decoded, position: 0 });
                    self.sources[source].active += 1;
                } else {
                    self.spare.push(decoded);
                }
            }
        }
        Ok(())
    }
}

/// Copies `run` rows of the cursor into the chunk; bar and mark rows get their side-table entry copied
/// and `aux` re-pointed into the chunk's table.
#[inline]
fn emit(cursor: &Cursor, run: usize, chunk: &mut Chunk) {
    let rows = &cursor.decoded.rows[cursor.position..cursor.position + run];
    match cursor.kind {
        RowKind::Book | RowKind::Trade => chunk.rows.extend_from_slice(rows),
        RowKind::Bar => {
            for row in rows {
                let Some(bar) = usize::try_from(row.aux).ok().and_then(|aux| cursor.decoded.bars.get(aux)) else {
                    continue;
                };
                chunk.rows.push(ferrotrade_model::EventRow { aux: chunk.bars.len() as u64, ..*row });
                chunk.bars.push(*bar);
            }
        }
        RowKind::Mark => {
            for row in rows {
                let Some(mark) = usize::try_from(row.aux).ok().and_then(|aux| cursor.decoded.marks.get(aux)) else {
                    continue;
                };
                chunk.rows.push(ferrotrade_model::EventRow { aux: chunk.marks.len() as u64, ..*row });
                chunk.marks.push(*mark);
            }
        }
    }
}
