//! `_core.compute_features`: a feature set over a catalog, as Arrow batches (`ft.features.compute`).
//!
//! The catalog stream of one instrument (its bars for a bar clock; its book and trades otherwise) runs
//! through [`ferrotrade_features::BatchRunner`] on a worker thread without the GIL; the samples come back as
//! record batches of at most [`BATCH_SAMPLES`] rows (`ts`, `price`, then one `Float64` column per feature),
//! which polars takes without a copy. The caller's thread reports progress and turns Ctrl-C into a clean stop.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::{ArrayRef, Float64Array, RecordBatch, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use ferrotrade_catalog::{Catalog, EventStream, StreamSpec, TableKind};
use ferrotrade_features::{BatchRunner, Clock, FeatureConfig, FeatureSet, FeatureTable};
use ferrotrade_model::{InstrumentIndex, UnixNanos, Venue};
use pyo3::prelude::*;

use crate::arrow::ArrowBatches;
use crate::errors::{ConfigError, DataFormatError};

/// Samples per record batch (and per drain of the runner, which bounds memory besides the output).
const BATCH_SAMPLES: usize = 1 << 16;

fn schema(names: &[String]) -> SchemaRef {
    let mut fields = vec![
        Field::new("ts", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), false),
        Field::new("price", DataType::Float64, false),
    ];
    fields.extend(names.iter().map(|name| Field::new(name, DataType::Float64, true)));
    Arc::new(Schema::new(fields))
}

fn record_batch(schema: &SchemaRef, table: FeatureTable) -> Result<RecordBatch, String> {
    let ts: Vec<i64> = table.ts.into_iter().map(|ts| i64::try_from(ts).unwrap_or(i64::MAX)).collect();
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampNanosecondArray::from(ts).with_timezone("UTC")),
        Arc::new(Float64Array::from(table.price)),
    ];
    columns.extend(table.columns.into_iter().map(|column| Arc::new(Float64Array::from(column)) as ArrayRef));
    RecordBatch::try_new(Arc::clone(schema), columns).map_err(|error| error.to_string())
}

fn parse_time(text: Option<&str>, key: &str) -> PyResult<Option<UnixNanos>> {
    text.map(|text| {
        UnixNanos::parse_utc(text)
            .ok_or_else(|| ConfigError::new_err(format!("{key}: {text:?} is not a UTC date or time (2024-08-08)")))
    })
    .transpose()
}

/// Computes the feature set `config_json` (`{"clock": ..., "features": [...]}`) over `instrument`
/// (`"venue.SYMBOL"`) in the catalog at `catalog`, between `start` (inclusive) and `end` (exclusive).
/// `progress(rows_read, rows_total)` is called a few times a second.
#[pyfunction]
#[pyo3(signature = (catalog, instrument, config_json, start = None, end = None, progress = None))]
pub fn compute_features(
    py: Python<'_>,
    catalog: PathBuf,
    instrument: &str,
    config_json: &str,
    start: Option<&str>,
    end: Option<&str>,
    progress: Option<Py<PyAny>>,
) -> PyResult<ArrowBatches> {
    let config: FeatureConfig = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(config_json))
        .map_err(|error| {
            let path = error.path().to_string();
            ConfigError::new_err(format!("features.{path}: {}", error.into_inner()))
        })?;
    let (venue, symbol) = instrument
        .split_once('.')
        .ok_or_else(|| ConfigError::new_err(format!("instrument {instrument:?} is not \"venue.SYMBOL\"")))?;
    let venue: Venue =
        venue.parse().map_err(|error| ConfigError::new_err(format!("instrument {instrument:?}: {error}")))?;
    let catalog = Catalog::open(&catalog).map_err(|error| ConfigError::new_err(error.to_string()))?;
    let spec = catalog.instrument(venue, symbol).ok_or_else(|| {
        ConfigError::new_err(format!("instrument {instrument:?} is not in the catalog {}", catalog.root().display()))
    })?;
    let set = FeatureSet::new(&config, spec.price_precision, spec.size_precision)
        .map_err(|error| ConfigError::new_err(error.to_string()))?;
    let (start, end) = (parse_time(start, "start")?, parse_time(end, "end")?);
    let kinds: &[TableKind] = match config.clock {
        Clock::Bars => &[TableKind::Bars],
        Clock::Book | Clock::Interval { .. } => &[TableKind::Book, TableKind::Trades],
    };
    let specs: Vec<StreamSpec> = kinds
        .iter()
        .filter(|kind| !catalog.dates(**kind, venue, symbol).is_empty())
        .map(|kind| StreamSpec {
            kind: *kind,
            venue,
            symbol: symbol.to_owned(),
            instrument: InstrumentIndex(0),
            start,
            end,
        })
        .collect();
    if specs.is_empty() {
        let wanted = kinds.iter().map(|kind| kind.as_str()).collect::<Vec<_>>().join(" or ");
        return Err(ConfigError::new_err(format!(
            "the catalog has no {wanted} data for {instrument} (clock {:?} needs it)",
            config.clock.name()
        )));
    }
    let schema = schema(set.names());
    let rows_read = Arc::new(AtomicU64::new(0));
    let total = Arc::new(AtomicU64::new(0));
    let (rows_worker, total_worker, schema_worker) = (Arc::clone(&rows_read), Arc::clone(&total), Arc::clone(&schema));
    let on_tick = |py: Python<'_>| match &progress {
        Some(callback) => {
            callback.call1(py, (rows_read.load(Ordering::Relaxed), total.load(Ordering::Relaxed))).map(drop)
        }
        None => Ok(()),
    };
    let result = crate::detach::run_interruptible_with(
        py,
        move |cancel| -> Result<Vec<RecordBatch>, String> {
            let mut stream = EventStream::open(&catalog, &specs, 1 << 16).map_err(|error| error.to_string())?;
            total_worker.store(stream.total_rows(), Ordering::Relaxed);
            let mut runner = BatchRunner::new(set, InstrumentIndex(0));
            let mut batches = Vec::new();
            while let Some(chunk) = stream.next() {
                if cancel.load(Ordering::Relaxed) {
                    return Err("interrupted".into());
                }
                let chunk = chunk.map_err(|error| error.to_string())?;
                rows_worker.fetch_add(chunk.rows.len() as u64, Ordering::Relaxed);
                runner.process(&chunk).map_err(|error| error.to_string())?;
                stream.recycle(chunk);
                let table = runner.drain();
                if !table.is_empty() {
                    for start in (0..table.len()).step_by(BATCH_SAMPLES) {
                        batches.push(record_batch(&schema_worker, slice(&table, start, BATCH_SAMPLES))?);
                    }
                }
            }
            Ok(batches)
        },
        on_tick,
    )?;
    let batches = result.map_err(DataFormatError::new_err)?;
    Ok(ArrowBatches::new(schema, batches))
}

/// Rows `start..start + len` of a table.
fn slice(table: &FeatureTable, start: usize, len: usize) -> FeatureTable {
    let end = (start + len).min(table.len());
    FeatureTable {
        ts: table.ts[start..end].to_vec(),
        price: table.price[start..end].to_vec(),
        columns: table.columns.iter().map(|column| column[start..end].to_vec()).collect(),
    }
}

/// Registers the feature functions.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(compute_features, module)?)?;
    module.add("FEATURE_CODE_VERSION", ferrotrade_features::FEATURE_CODE_VERSION)?;
    Ok(())
}
