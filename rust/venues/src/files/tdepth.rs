//! Binance historical `T_DEPTH` book CSVs (`symbol,timestamp,first_update_id,last_update_id,side,
//! update_type,price,qty,pu`), as a snapshot file and an update file.
//!
//! Rows with `update_type = snap` form one book snapshot; `set` rows are diffs, and the consecutive rows
//! sharing a `last_update_id` form one diff message (they were one `depthUpdate`). `side` is `a`/`b`,
//! `timestamp` is milliseconds, `pu` is `-1` on snapshot rows. The files are futures data
//! (they carry `pu`): USD-M, or COIN-M when the symbol has `_`.
//!
//! This module only decodes: a gap between the snapshot and the first diff (the public sample pair has
//! one of about 20M ids) is for the sync layer to find and report.

use std::path::PathBuf;

use ferrotrade_model::{Decimal, UnixNanos, Venue};

use crate::decoded::{Decoded, Payload, RawBook, RawLevel, Scratch};
use crate::error::{Origin, VenueError};
use crate::lines::LineReader;
use crate::source::{Format, Source, Visitor};

const HEADER: &[u8] = b"symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu";

/// Whether a first line is the `T_DEPTH` header.
#[must_use]
pub fn sniff(line: &[u8]) -> bool {
    line.trim_ascii() == HEADER
}

/// One parsed row.
struct Row<'a> {
    symbol: &'a str,
    timestamp: u64,
    first_update_id: u64,
    last_update_id: u64,
    is_bid: bool,
    is_snapshot: bool,
    level: RawLevel,
    prev_update_id: u64,
}

fn parse_row(line: &[u8]) -> Result<Row<'_>, String> {
    let text = std::str::from_utf8(line).map_err(|_| "row is not UTF-8".to_owned())?;
    let mut fields = text.split(',');
    let mut next = |name: &str| fields.next().map(str::trim).ok_or_else(|| format!("row has no {name} column"));
    let symbol = next("symbol")?;
    let integer =
        |name: &str, value: &str| value.parse::<u64>().map_err(|_| format!("{name} {value:?} is not an integer"));
    let timestamp = integer("timestamp", next("timestamp")?)?;
    let first_update_id = integer("first_update_id", next("first_update_id")?)?;
    let last_update_id = integer("last_update_id", next("last_update_id")?)?;
    let is_bid = match next("side")? {
        "b" => true,
        "a" => false,
        other => return Err(format!("side {other:?} is neither a nor b")),
    };
    let is_snapshot = match next("update_type")? {
        "snap" => true,
        "set" => false,
        other => return Err(format!("update_type {other:?} is neither snap nor set")),
    };
    let decimal = |name: &str, value: &str| Decimal::parse(value.as_bytes()).map_err(|e| format!("{name}: {e}"));
    let price = decimal("price", next("price")?)?;
    let size = decimal("qty", next("qty")?)?;
    let prev_update_id = match next("pu")? {
        "-1" | "" => 0,
        value => integer("pu", value)?,
    };
    if symbol.is_empty() {
        return Err("empty symbol".into());
    }
    Ok(Row {
        symbol,
        timestamp,
        first_update_id,
        last_update_id,
        is_bid,
        is_snapshot,
        level: RawLevel { price, size },
        prev_update_id,
    })
}

/// The message being gathered from consecutive rows.
struct Group {
    symbol: String,
    origin: Origin,
    timestamp: u64,
    first_update_id: u64,
    last_update_id: u64,
    prev_update_id: u64,
    is_snapshot: bool,
    open: bool,
}

impl Group {
    fn continues(&self, row: &Row<'_>) -> bool {
        self.open
            && self.is_snapshot == row.is_snapshot
            && self.last_update_id == row.last_update_id
            && self.symbol == row.symbol
    }

    fn start(&mut self, row: &Row<'_>, origin: &Origin) {
        self.symbol.clear();
        self.symbol.push_str(row.symbol);
        self.origin.clone_from(origin);
        self.timestamp = row.timestamp;
        self.first_update_id = row.first_update_id;
        self.last_update_id = row.last_update_id;
        self.prev_update_id = row.prev_update_id;
        self.is_snapshot = row.is_snapshot;
        self.open = true;
    }

    /// Hands the gathered message to `visitor` and empties the scratch.
    fn flush(&mut self, scratch: &mut Scratch, visitor: &mut dyn Visitor) -> Result<(), VenueError> {
        if !self.open {
            return Ok(());
        }
        self.open = false;
        let ts = UnixNanos::from_millis(self.timestamp);
        let venue = if self.symbol.contains('_') { Venue::BinanceCoinm } else { Venue::BinanceUsdm };
        let book = RawBook {
            ts_event: ts,
            first_sequence: self.first_update_id,
            sequence: self.last_update_id,
            prev_sequence: self.prev_update_id,
            is_snapshot: self.is_snapshot,
            bids: &scratch.bids,
            asks: &scratch.asks,
        };
        let decoded = Decoded { venue, symbol: &self.symbol, payload: Payload::Book(book) };
        let result = visitor.message(&self.origin, ts, &decoded);
        scratch.clear_levels();
        result
    }
}

/// A `T_DEPTH` session: the snapshot file, then the update file.
#[derive(Debug)]
pub struct DepthCsvSource {
    files: Vec<PathBuf>,
    scratch: Scratch,
}

impl DepthCsvSource {
    /// Opens a session of `files` in reading order (snapshot file first).
    ///
    /// # Errors
    /// [`VenueError::Session`] when `files` is empty.
    pub fn open(files: Vec<PathBuf>) -> Result<Self, VenueError> {
        if files.is_empty() {
            return Err(VenueError::Session {
                origin: Origin { file: std::sync::Arc::new(PathBuf::new()), line: 0 },
                reason: "a T_DEPTH session needs at least one file".into(),
            });
        }
        Ok(DepthCsvSource { files, scratch: Scratch::default() })
    }
}

impl Source for DepthCsvSource {
    fn format(&self) -> Format {
        Format::BinanceDepthCsv
    }

    fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn read(&mut self, visitor: &mut dyn Visitor) -> Result<(), VenueError> {
        let mut reader = LineReader::new(&self.files);
        let scratch = &mut self.scratch;
        scratch.clear_levels();
        let mut group = Group {
            symbol: String::new(),
            origin: reader.origin().clone(),
            timestamp: 0,
            first_update_id: 0,
            last_update_id: 0,
            prev_update_id: 0,
            is_snapshot: false,
            open: false,
        };
        while let Some((origin, line)) = reader.next_line()? {
            if line.trim_ascii().is_empty() || sniff(line) {
                continue;
            }
            let row = match parse_row(line) {
                Ok(row) => row,
                Err(reason) => {
                    visitor.bad_record(VenueError::malformed(origin.clone(), "binance-depth-csv", reason))?;
                    continue;
                }
            };
            if !group.continues(&row) {
                group.flush(scratch, visitor)?;
                group.start(&row, origin);
            }
            if row.is_bid { scratch.bids.push(row.level) } else { scratch.asks.push(row.level) }
        }
        group.flush(scratch, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_header() {
        assert!(sniff(HEADER));
        assert!(sniff(b"symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu\r"));
        assert!(!sniff(b"BTCUSDT,1667346579146,2098021528332,2098021528332,b,snap,20377.00,1.770,-1"));
    }

    #[test]
    fn rows_parse_and_reject() {
        let row = parse_row(b"BTCUSDT,1667346579146,2098021528332,2098021528332,b,snap,20377.00,1.770,-1").unwrap();
        assert!(row.is_bid && row.is_snapshot && row.prev_update_id == 0);
        assert_eq!(row.level.price, Decimal::parse(b"20377").unwrap());
        for bad in [
            &b"BTCUSDT,1667346579146,2098021528332,2098021528332,x,snap,20377.00,1.770,-1"[..],
            b"BTCUSDT,1667346579146,2098021528332,2098021528332,b,upd,20377.00,1.770,-1",
            b"BTCUSDT,1667346579146,2098021528332,2098021528332,b,snap,20377.0x,1.770,-1",
            b"BTCUSDT,1667346579146,2098021528332",
            b",1667346579146,1,1,b,set,1,1,1",
        ] {
            assert!(parse_row(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
