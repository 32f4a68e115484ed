//! `instruments.json`: the precisions and trading filters of every instrument in a catalog.
//!
//! The file is a JSON list of objects written by `python/ferrotrade/data/layout.py`; prices and sizes of the
//! Parquet parts are mantissas at the precisions it records, so a stream is meaningless without it and
//! [`crate::Catalog::open`] fails when it is missing. `tick_size` / `lot_size` are mantissas at those
//! precisions; `min_notional` / `contract_size` are decimal strings (numbers are accepted too).

use std::path::Path;

use ferrotrade_model::{ContractType, Decimal, Instrument, InstrumentId, MAX_PRECISION, Price, Quantity, Venue};
use serde::Deserialize;
use serde_json::Value;

use crate::error::CatalogError;

/// One entry of `instruments.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentInfo {
    /// The venue.
    pub venue: Venue,
    /// The symbol as stored in the catalog (the `symbol=` partition value).
    pub symbol: String,
    /// Spot, linear or inverse (from the file, or the venue's when the file has none).
    pub contract_type: ContractType,
    /// Decimals of every price mantissa.
    pub price_precision: u8,
    /// Decimals of every size mantissa.
    pub size_precision: u8,
    /// Decimals of mark and index price mantissas (the price precision when the file has none).
    pub mark_precision: u8,
    /// Tick size mantissa at `price_precision`, where stored.
    pub tick_size: Option<i64>,
    /// Lot size mantissa at `size_precision`, where stored.
    pub lot_size: Option<i64>,
    /// Minimum order value in quote currency, where stored.
    pub min_notional: Option<Decimal>,
    /// Quote value of one contract, where stored.
    pub contract_size: Option<Decimal>,
}

impl InstrumentInfo {
    /// The model instrument: tick and lot default to one unit, contract size to 1.
    #[must_use]
    pub fn to_instrument(&self) -> Instrument {
        let id = InstrumentId { venue: self.venue, symbol: self.symbol.clone() };
        let mut instrument = Instrument::with_precisions(id, self.price_precision, self.size_precision);
        instrument.contract_type = self.contract_type;
        instrument.mark_precision = self.mark_precision;
        instrument.tick_size = Price(self.tick_size.unwrap_or(1));
        instrument.lot_size = Quantity(self.lot_size.unwrap_or(1));
        instrument.min_notional = self.min_notional;
        if let Some(size) = self.contract_size {
            instrument.contract_size = size;
        }
        instrument
    }
}

/// The entry as JSON holds it; checked and converted by [`convert`].
#[derive(Deserialize)]
struct RawEntry {
    venue: String,
    symbol: String,
    contract_type: Option<String>,
    price_precision: i64,
    size_precision: i64,
    mark_precision: Option<i64>,
    tick_size: Option<i64>,
    lot_size: Option<i64>,
    min_notional: Option<Value>,
    contract_size: Option<Value>,
}

/// Reads and checks `instruments.json`.
///
/// # Errors
/// [`CatalogError::Instruments`] when the file is missing, is not a JSON list of entries, or an entry has
/// an unknown venue or contract type, a precision outside `0..=16` or an unparsable decimal.
pub(crate) fn read_instruments(path: &Path) -> Result<Vec<InstrumentInfo>, CatalogError> {
    let fail = |message: String| CatalogError::Instruments { path: path.to_path_buf(), message };
    let text = std::fs::read_to_string(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            fail("instruments.json is missing: is this a ferrotrade catalog (`ferrotrade data import`)?".into())
        } else {
            fail(error.to_string())
        }
    })?;
    let raw: Vec<RawEntry> = serde_json::from_str(&text).map_err(|error| fail(format!("invalid JSON: {error}")))?;
    raw.into_iter()
        .enumerate()
        .map(|(index, entry)| convert(entry).map_err(|message| fail(format!("entry {index}: {message}"))))
        .collect()
}

fn convert(entry: RawEntry) -> Result<InstrumentInfo, String> {
    let venue: Venue = entry.venue.parse().map_err(|error| format!("{error}"))?;
    let contract_type = match entry.contract_type.as_deref() {
        None => venue.contract_type(),
        Some("spot") => ContractType::Spot,
        Some("linear") => ContractType::Linear,
        Some("inverse") => ContractType::Inverse,
        Some(other) => return Err(format!("unknown contract_type {other:?}")),
    };
    let precision = |name: &str, value: i64| {
        u8::try_from(value)
            .ok()
            .filter(|digits| *digits <= MAX_PRECISION)
            .ok_or_else(|| format!("{name} {value} is not in 0..={MAX_PRECISION}"))
    };
    let price_precision = precision("price_precision", entry.price_precision)?;
    Ok(InstrumentInfo {
        venue,
        symbol: entry.symbol,
        contract_type,
        price_precision,
        size_precision: precision("size_precision", entry.size_precision)?,
        mark_precision: match entry.mark_precision {
            Some(value) => precision("mark_precision", value)?,
            None => price_precision,
        },
        tick_size: entry.tick_size,
        lot_size: entry.lot_size,
        min_notional: decimal("min_notional", entry.min_notional)?,
        contract_size: decimal("contract_size", entry.contract_size)?,
    })
}

fn decimal(name: &str, value: Option<Value>) -> Result<Option<Decimal>, String> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text,
        Some(Value::Number(number)) => number.to_string(),
        Some(other) => return Err(format!("{name} {other} is not a decimal")),
    };
    Decimal::parse(text.as_bytes()).map(Some).map_err(|error| format!("{name}: {error}"))
}
