//! Decoding one Parquet part file into [`EventRow`]s (and the bar/mark side tables).
//!
//! A part is read batch by batch (`BATCH_ROWS` rows) with only the columns its kind needs, so memory per
//! open part is one decoded batch plus the Parquet reader's buffers of one row group. The time window
//! `[start, end)` is applied here: row groups whose `ts_recv` statistics fall outside it are never read,
//! and because rows are in `ts_recv` order the window is a slice of each batch and the part stops at the
//! first row at or after `end`.
//!
//! Invariants checked on every batch (cheap, branch-free folds): `ts_recv` never decreases within a part
//! and no timestamp is negative; a violation is an error naming the file, since a merge of unsorted input
//! would silently replay events out of order.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::types::{ArrowPrimitiveType, Float64Type, Int64Type, TimestampNanosecondType, UInt8Type, UInt64Type};
use arrow_array::{Array, PrimitiveArray, RecordBatch, RecordBatchReader};
use arrow_schema::{DataType, TimeUnit};
use ferrotrade_model::{Bar, EventRow, InstrumentIndex, MarkPrice, Price, Quantity, RowKind, UnixNanos};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::file::statistics::Statistics;

use crate::error::CatalogError;
use crate::kind::TableKind;
use crate::stream::Chunk;

/// Rows per decoded batch. Large enough to amortize per-batch work; small enough that each decoded
/// column (64 KiB) stays under glibc's mmap threshold, so the per-batch Arrow buffers are recycled by
/// malloc instead of being mapped and page-faulted afresh (64 Ki-row batches ran 2.4x slower for that
/// reason), and the batch stays in L2 while it is turned into rows.
pub(crate) const BATCH_ROWS: usize = 8 * 1024;

/// The time window of a stream, as raw nanoseconds (`end` = `u64::MAX` when open).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) start: u64,
    pub(crate) end: u64,
}

/// A part file checked against its kind's schema, with the row groups the window selects.
pub(crate) struct Inspected {
    builder: ParquetRecordBatchReaderBuilder<File>,
    row_groups: Vec<usize>,
    /// Rows of the selected row groups.
    pub(crate) rows: u64,
}

/// Opens `path`, reads its footer, checks every column `kind` needs and selects the row groups that
/// overlap `window`.
///
/// # Errors
/// [`CatalogError::Io`] if the file cannot be opened, [`CatalogError::Parquet`] if the footer is not valid
/// Parquet, [`CatalogError::Schema`] naming the first missing or mistyped column.
pub(crate) fn inspect(path: &Path, kind: TableKind, window: Window) -> Result<Inspected, CatalogError> {
    let file = File::open(path).map_err(|source| CatalogError::Io { path: path.to_path_buf(), source })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|error| CatalogError::Parquet {
        path: path.to_path_buf(),
        message: format!("not a readable Parquet file: {error}"),
    })?;
    let schema = builder.schema().clone();
    let mut ts_recv_root = 0;
    for &column in kind.columns() {
        let schema_error = |message: String| CatalogError::Schema { path: path.to_path_buf(), column, message };
        let index = schema
            .index_of(column)
            .map_err(|_| schema_error(format!("missing (a {kind} part needs {})", kind.columns().join(", "))))?;
        let (accepted, expected) = expected_type(column, schema.field(index).data_type());
        if !accepted {
            return Err(schema_error(format!("has type {}, expected {expected}", schema.field(index).data_type())));
        }
        if column == "ts_recv" {
            ts_recv_root = index;
        }
    }
    let metadata = builder.metadata().clone();
    let mut row_groups = Vec::new();
    let mut rows = 0u64;
    for (index, group) in metadata.row_groups().iter().enumerate() {
        // The arrow field index of a flat schema is its leaf column index.
        if let Some(Statistics::Int64(stats)) = group.column(ts_recv_root).statistics() {
            let below = stats.max_opt().is_some_and(|max| u64::try_from(*max).is_ok_and(|max| max < window.start));
            let above = stats.min_opt().is_some_and(|min| u64::try_from(*min).is_ok_and(|min| min >= window.end));
            if below || above {
                continue;
            }
        }
        row_groups.push(index);
        rows += u64::try_from(group.num_rows()).unwrap_or(0);
    }
    Ok(Inspected { builder, row_groups, rows })
}

/// Whether a column's type is the catalog's, and the type expected (for the error message).
fn expected_type(column: &str, data_type: &DataType) -> (bool, &'static str) {
    match column {
        "ts_event" | "ts_recv" | "open_time" | "next_funding_time" => {
            (matches!(data_type, DataType::Timestamp(TimeUnit::Nanosecond, _)), "timestamp[ns]")
        }
        "sequence" | "trade_id" | "trade_count" => (*data_type == DataType::UInt64, "uint64"),
        "side" | "flags" | "aggressor" => (*data_type == DataType::UInt8, "uint8"),
        "quote_volume" | "funding_rate" => (*data_type == DataType::Float64, "float64"),
        _ => (*data_type == DataType::Int64, "int64"),
    }
}

/// Columns that may hold nulls (every other column must not).
fn nullable(column: &str) -> bool {
    matches!(column, "trade_id" | "index_price" | "funding_rate" | "next_funding_time")
}

/// An open part file, decoded one batch at a time.
pub(crate) struct PartReader {
    path: PathBuf,
    kind: TableKind,
    instrument: InstrumentIndex,
    window: Window,
    reader: ParquetRecordBatchReader,
    /// Position in the projected batch of each of `kind.columns()`.
    positions: Vec<usize>,
    last_recv: i64,
    finished: bool,
}

impl std::fmt::Debug for PartReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartReader").field("path", &self.path).field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl PartReader {
    /// Opens a part for decoding.
    ///
    /// # Errors
    /// As [`inspect`], and [`CatalogError::Parquet`] if the reader cannot be built.
    pub(crate) fn open(
        path: &Path,
        kind: TableKind,
        instrument: InstrumentIndex,
        window: Window,
    ) -> Result<PartReader, CatalogError> {
        let Inspected { builder, row_groups, .. } = inspect(path, kind, window)?;
        let schema = builder.schema().clone();
        let roots = kind.columns().iter().filter_map(|column| schema.index_of(column).ok());
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        let reader = builder
            .with_projection(mask)
            .with_row_groups(row_groups)
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|error| CatalogError::Parquet { path: path.to_path_buf(), message: error.to_string() })?;
        let projected = reader.schema();
        let mut positions = Vec::with_capacity(kind.columns().len());
        for &column in kind.columns() {
            let position = projected.index_of(column).map_err(|_| CatalogError::Schema {
                path: path.to_path_buf(),
                column,
                message: "missing after projection".into(),
            })?;
            positions.push(position);
        }
        Ok(PartReader {
            path: path.to_path_buf(),
            kind,
            instrument,
            window,
            reader,
            positions,
            last_recv: i64::MIN,
            finished: false,
        })
    }

    /// Appends the rows of the next batch inside the window to `out` (at most [`BATCH_ROWS`]; bar and mark
    /// rows point into `out`'s side tables). Returns `false`, appending nothing, once the part is
    /// exhausted; `true` with nothing appended means the batch was all filtered out.
    ///
    /// # Errors
    /// [`CatalogError::Parquet`] when a page fails to decode, [`CatalogError::Schema`] /
    /// [`CatalogError::Data`] when a batch breaks the catalog schema or ordering.
    pub(crate) fn next_batch(&mut self, out: &mut Chunk) -> Result<bool, CatalogError> {
        if self.finished {
            return Ok(false);
        }
        let batch = match self.reader.next() {
            None => {
                self.finished = true;
                return Ok(false);
            }
            Some(batch) => batch.map_err(|error| CatalogError::Parquet {
                path: self.path.clone(),
                message: format!("decoding failed: {error}"),
            })?,
        };
        let recv = self.values::<TimestampNanosecondType>(&batch, 1)?.values();
        let (lo, hi) = self.window_of(recv)?;
        match self.kind {
            TableKind::Book => self.decode_book(&batch, lo, hi, out)?,
            TableKind::Trades | TableKind::AggTrades => self.decode_trades(&batch, lo, hi, out)?,
            TableKind::Bars => self.decode_bars(&batch, lo, hi, out)?,
            TableKind::Mark => self.decode_marks(&batch, lo, hi, out)?,
        }
        Ok(true)
    }

    /// Checks `ts_recv` ordering and sign; returns the index range inside the window, and marks the part
    /// finished when the batch reaches `end`.
    fn window_of(&mut self, recv: &[i64]) -> Result<(usize, usize), CatalogError> {
        let Some(&first) = recv.first() else { return Ok((0, 0)) };
        if first < 0 {
            return Err(self.data_error(format!("negative ts_recv {first}")));
        }
        let mut previous = self.last_recv.max(first);
        let mut unsorted = first < self.last_recv;
        for &value in recv {
            unsorted |= value < previous;
            previous = value;
        }
        if unsorted {
            return Err(self.data_error("ts_recv decreases: the rows of a part must be in receive order".into()));
        }
        self.last_recv = previous;
        // Non-negative after the checks above, so the casts are exact.
        let lo = recv.partition_point(|&value| (value as u64) < self.window.start);
        let hi = recv.partition_point(|&value| (value as u64) < self.window.end);
        if hi < recv.len() {
            self.finished = true;
        }
        Ok((lo, hi.max(lo)))
    }

    fn data_error(&self, message: String) -> CatalogError {
        CatalogError::Data { path: self.path.clone(), message }
    }

    /// The column at `slot` of `kind.columns()` as a primitive array, checked for unexpected nulls.
    fn values<'a, T: ArrowPrimitiveType>(
        &self,
        batch: &'a RecordBatch,
        slot: usize,
    ) -> Result<&'a PrimitiveArray<T>, CatalogError> {
        let column = self.kind.columns()[slot];
        let schema_error =
            |message: &str| CatalogError::Schema { path: self.path.clone(), column, message: message.into() };
        let array = batch
            .column(self.positions[slot])
            .as_any()
            .downcast_ref::<PrimitiveArray<T>>()
            .ok_or_else(|| schema_error("unexpected type in a batch"))?;
        if !nullable(column) && array.null_count() > 0 {
            return Err(schema_error("holds nulls"));
        }
        Ok(array)
    }

    /// `ts_event` of the rows `lo..hi`, checked to be non-negative.
    fn event_times<'a>(&self, batch: &'a RecordBatch, lo: usize, hi: usize) -> Result<&'a [i64], CatalogError> {
        let values = &self.values::<TimestampNanosecondType>(batch, 0)?.values()[lo..hi];
        if values.iter().fold(0, |acc, value| acc | value) < 0 {
            return Err(self.data_error("negative ts_event".into()));
        }
        Ok(values)
    }

    fn decode_book(&self, batch: &RecordBatch, lo: usize, hi: usize, out: &mut Chunk) -> Result<(), CatalogError> {
        let count = hi - lo;
        let event = self.event_times(batch, lo, hi)?;
        let recv = &self.values::<TimestampNanosecondType>(batch, 1)?.values()[lo..hi];
        let sequence = &self.values::<UInt64Type>(batch, 2)?.values()[lo..hi];
        let side = &self.values::<UInt8Type>(batch, 3)?.values()[lo..hi];
        let price = &self.values::<Int64Type>(batch, 4)?.values()[lo..hi];
        let size = &self.values::<Int64Type>(batch, 5)?.values()[lo..hi];
        let flags = &self.values::<UInt8Type>(batch, 6)?.values()[lo..hi];
        let instrument = self.instrument;
        // Re-slicing to `count` lets the compiler drop the bounds checks in the loop.
        let (event, recv, sequence) = (&event[..count], &recv[..count], &sequence[..count]);
        let (side, price, size, flags) = (&side[..count], &price[..count], &size[..count], &flags[..count]);
        out.rows.extend((0..count).map(|i| EventRow {
            ts_event: UnixNanos(event[i] as u64),
            ts_recv: UnixNanos(recv[i] as u64),
            price: Price(price[i]),
            size: Quantity(size[i]),
            aux: sequence[i],
            instrument,
            kind: RowKind::Book,
            side: side[i],
            flags: flags[i],
            reserved: 0,
        }));
        Ok(())
    }

    fn decode_trades(&self, batch: &RecordBatch, lo: usize, hi: usize, out: &mut Chunk) -> Result<(), CatalogError> {
        let count = hi - lo;
        let event = self.event_times(batch, lo, hi)?;
        let recv = &self.values::<TimestampNanosecondType>(batch, 1)?.values()[lo..hi];
        let ids = self.values::<UInt64Type>(batch, 2)?;
        let price = &self.values::<Int64Type>(batch, 3)?.values()[lo..hi];
        let size = &self.values::<Int64Type>(batch, 4)?.values()[lo..hi];
        let aggressor = &self.values::<UInt8Type>(batch, 5)?.values()[lo..hi];
        let instrument = self.instrument;
        let id_values = &ids.values()[lo..hi];
        let (event, recv, price, size, aggressor) =
            (&event[..count], &recv[..count], &price[..count], &size[..count], &aggressor[..count]);
        let row = |i: usize, aux: u64| EventRow {
            ts_event: UnixNanos(event[i] as u64),
            ts_recv: UnixNanos(recv[i] as u64),
            price: Price(price[i]),
            size: Quantity(size[i]),
            aux,
            instrument,
            kind: RowKind::Trade,
            side: aggressor[i],
            flags: 0,
            reserved: 0,
        };
        if ids.null_count() == 0 {
            out.rows.extend((0..count).map(|i| row(i, id_values[i])));
        } else {
            out.rows.extend(
                (0..count).map(|i| row(i, if ids.is_valid(lo + i) { id_values[i] } else { EventRow::NO_TRADE_ID })),
            );
        }
        Ok(())
    }

    fn decode_bars(&self, batch: &RecordBatch, lo: usize, hi: usize, out: &mut Chunk) -> Result<(), CatalogError> {
        let event = self.event_times(batch, lo, hi)?;
        let recv = &self.values::<TimestampNanosecondType>(batch, 1)?.values()[lo..hi];
        let open_time = &self.values::<TimestampNanosecondType>(batch, 2)?.values()[lo..hi];
        let interval = &self.values::<Int64Type>(batch, 3)?.values()[lo..hi];
        let mut prices = [&[][..]; 4];
        for (slot, column) in prices.iter_mut().enumerate() {
            *column = &self.values::<Int64Type>(batch, 4 + slot)?.values()[lo..hi];
        }
        let volume = &self.values::<Int64Type>(batch, 8)?.values()[lo..hi];
        let quote_volume = &self.values::<Float64Type>(batch, 9)?.values()[lo..hi];
        let trade_count = &self.values::<UInt64Type>(batch, 10)?.values()[lo..hi];
        let taker_buy = &self.values::<Int64Type>(batch, 11)?.values()[lo..hi];
        for i in 0..hi - lo {
            let (Ok(open_time), Ok(interval_ns)) = (u64::try_from(open_time[i]), u64::try_from(interval[i])) else {
                return Err(self.data_error(format!("negative open_time or interval_ns in bar row {}", lo + i)));
            };
            let bar = Bar {
                ts_event: UnixNanos(event[i] as u64),
                ts_recv: UnixNanos(recv[i] as u64),
                open_time: UnixNanos(open_time),
                interval_ns,
                open: Price(prices[0][i]),
                high: Price(prices[1][i]),
                low: Price(prices[2][i]),
                close: Price(prices[3][i]),
                volume: Quantity(volume[i]),
                quote_volume: quote_volume[i],
                trade_count: trade_count[i],
                taker_buy_volume: Quantity(taker_buy[i]),
            };
            out.rows.push(EventRow {
                ts_event: bar.ts_event,
                ts_recv: bar.ts_recv,
                price: bar.close,
                size: bar.volume,
                aux: out.bars.len() as u64,
                instrument: self.instrument,
                kind: RowKind::Bar,
                ..EventRow::default()
            });
            out.bars.push(bar);
        }
        Ok(())
    }

    fn decode_marks(&self, batch: &RecordBatch, lo: usize, hi: usize, out: &mut Chunk) -> Result<(), CatalogError> {
        let event = self.event_times(batch, lo, hi)?;
        let recv = &self.values::<TimestampNanosecondType>(batch, 1)?.values()[lo..hi];
        let mark = &self.values::<Int64Type>(batch, 2)?.values()[lo..hi];
        let index = self.values::<Int64Type>(batch, 3)?;
        let funding = self.values::<Float64Type>(batch, 4)?;
        let next_funding = self.values::<TimestampNanosecondType>(batch, 5)?;
        for i in 0..hi - lo {
            let row = lo + i;
            let next_funding_time = if next_funding.is_valid(row) {
                let value = next_funding.value(row);
                let nanos = u64::try_from(value)
                    .map_err(|_| self.data_error(format!("negative next_funding_time in mark row {row}")))?;
                Some(UnixNanos(nanos))
            } else {
                None
            };
            let update = MarkPrice {
                ts_event: UnixNanos(event[i] as u64),
                ts_recv: UnixNanos(recv[i] as u64),
                mark_price: Price(mark[i]),
                index_price: index.is_valid(row).then(|| Price(index.value(row))),
                funding_rate: funding.is_valid(row).then(|| funding.value(row)),
                next_funding_time,
            };
            out.rows.push(EventRow {
                ts_event: update.ts_event,
                ts_recv: update.ts_recv,
                price: update.mark_price,
                aux: out.marks.len() as u64,
                instrument: self.instrument,
                kind: RowKind::Mark,
                ..EventRow::default()
            });
            out.marks.push(update);
        }
        Ok(())
    }
}
