//! tardis.dev CSV datasets (plain or gzip), told apart by their header row:
//!
//! | dataset | columns after `exchange,symbol,timestamp,local_timestamp` | messages |
//! |---|---|---|
//! | `trades` | `id,side,price,amount` | one [`Payload::Trade`] per row (`side` is the taker side; a numeric `id` is the trade id) |
//! | `quotes` | `ask_amount,ask_price,bid_price,bid_amount` | one [`Payload::Quote`] per row |
//! | `book_snapshot_N` | `asks[0].price,asks[0].amount,bids[0].price,bids[0].amount,...` | one [`Payload::Book`] snapshot of up to N levels per row (`sequence` 0) |
//! | `incremental_book_L2` | `is_snapshot,side,price,amount` | consecutive rows of one symbol with the same `timestamp` and `is_snapshot` form one [`Payload::Book`] |
//!
//! - Timestamps are microseconds; `ts_event = timestamp`, `ts_recv = local_timestamp`.
//! - `exchange` gives the venue: `binance`, `binance-futures` (USD-M), `binance-delivery` (COIN-M),
//!   `binance-us`, `bybit-spot`, and `bybit`, which tardis uses for both Bybit derivatives markets: a
//!   symbol containing `USDT`/`USDC` or ending in `PERP` is linear, any other inverse. Another exchange is
//!   a bad record.
//! - Empty fields are legal in tardis files: a quote row with an empty side is reported as the control
//!   `"tardis quote with an empty side"`, and empty levels of a shallow book snapshot are left out.
//! - A bad row of an `incremental_book_L2` message is reported, and the whole message it belongs to is
//!   dropped rather than delivered without that level.
//!
//! Rows are split by hand (tardis CSVs have no quoting) into a reusable field index, so reading
//! allocates nothing per row; [`LineReader`] gives gzip support and file:line places.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use ferrotrade_model::{AggressorSide, Decimal, UnixNanos, Venue};

use crate::decoded::{Decoded, Payload, RawBook, RawLevel, RawQuote, RawTrade, Scratch};
use crate::error::{Origin, VenueError};
use crate::lines::LineReader;
use crate::source::{Format, Source, Visitor};

const FORMAT: &str = "tardis-csv";
const COMMON: &str = "exchange,symbol,timestamp,local_timestamp,";

/// Whether a first line is a tardis CSV header.
#[must_use]
pub fn sniff(line: &[u8]) -> bool {
    line.starts_with(COMMON.as_bytes())
}

/// The dataset of a file, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dataset {
    Trades,
    Quotes,
    /// `book_snapshot_N` with N levels.
    Snapshot(usize),
    Incremental,
}

fn dataset(header: &str) -> Option<Dataset> {
    let rest = header.strip_prefix(COMMON)?;
    match rest {
        "id,side,price,amount" => return Some(Dataset::Trades),
        "ask_amount,ask_price,bid_price,bid_amount" => return Some(Dataset::Quotes),
        "is_snapshot,side,price,amount" => return Some(Dataset::Incremental),
        _ => {}
    }
    let columns: Vec<&str> = rest.split(',').collect();
    if columns.is_empty() || !columns.len().is_multiple_of(4) {
        return None;
    }
    let levels = columns.len() / 4;
    let expected = (0..levels).flat_map(|level| {
        [
            format!("asks[{level}].price"),
            format!("asks[{level}].amount"),
            format!("bids[{level}].price"),
            format!("bids[{level}].amount"),
        ]
    });
    expected.zip(&columns).all(|(want, got)| want == *got).then_some(Dataset::Snapshot(levels))
}

/// The venue of a tardis `exchange` (see the module docs).
fn venue(exchange: &str, symbol: &str) -> Option<Venue> {
    Some(match exchange {
        "binance" => Venue::BinanceSpot,
        "binance-futures" => Venue::BinanceUsdm,
        "binance-delivery" => Venue::BinanceCoinm,
        "binance-us" => Venue::BinanceUs,
        "bybit-spot" => Venue::BybitSpot,
        "bybit" if symbol.contains("USDT") || symbol.contains("USDC") || symbol.ends_with("PERP") => Venue::BybitLinear,
        "bybit" => Venue::BybitInverse,
        _ => return None,
    })
}

/// A session of tardis CSV files, read in the given order (each file has its own header).
#[derive(Debug)]
pub struct TardisCsvSource {
    files: Vec<PathBuf>,
    scratch: Scratch,
}

impl TardisCsvSource {
    /// A source over `files`.
    ///
    /// # Errors
    /// [`VenueError::Session`] when `files` is empty.
    pub fn open(files: Vec<PathBuf>) -> Result<Self, VenueError> {
        if files.is_empty() {
            return Err(VenueError::Session {
                origin: Origin { file: Arc::default(), line: 0 },
                reason: "a tardis session needs at least one file".into(),
            });
        }
        Ok(Self { files, scratch: Scratch::default() })
    }
}

impl Source for TardisCsvSource {
    fn format(&self) -> Format {
        Format::TardisCsv
    }

    fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn read(&mut self, visitor: &mut dyn Visitor) -> Result<(), VenueError> {
        let mut fields: Vec<Range<usize>> = Vec::with_capacity(128);
        for path in &self.files {
            let mut reader = LineReader::new(std::slice::from_ref(path));
            let mut kind = None;
            let mut pending = Pending::default();
            while let Some((origin, line)) = reader.next_line()? {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let Some(kind) = kind else {
                    let header = String::from_utf8_lossy(line);
                    kind = Some(dataset(&header).ok_or_else(|| VenueError::UnknownFormat {
                        origin: origin.clone(),
                        reason: format!(
                            "not a tardis trades/quotes/book_snapshot_N/incremental_book_L2 header: {header:?}"
                        ),
                    })?);
                    continue;
                };
                let result = match std::str::from_utf8(line) {
                    Err(_) => Err("row is not UTF-8".to_owned()),
                    Ok(row) => {
                        split(row, &mut fields);
                        match kind {
                            Dataset::Incremental => pending.row(row, &fields, origin, &mut self.scratch, visitor),
                            _ => one_row(kind, row, &fields, origin, &mut self.scratch, visitor),
                        }
                    }
                };
                match result {
                    Ok(Ok(())) => {}
                    Ok(Err(stop)) => return Err(stop),
                    Err(reason) => visitor.bad_record(VenueError::malformed(origin.clone(), FORMAT, reason))?,
                }
            }
            pending.flush(&Origin::new(&Arc::new(path.clone()), 0), &mut self.scratch, visitor)?;
        }
        Ok(())
    }
}

/// Splits a row at commas into `fields` (byte ranges of `row`).
fn split(row: &str, fields: &mut Vec<Range<usize>>) {
    fields.clear();
    let mut start = 0;
    for (index, byte) in row.bytes().enumerate() {
        if byte == b',' {
            fields.push(start..index);
            start = index + 1;
        }
    }
    fields.push(start..row.len());
}

/// The leading columns every dataset shares.
struct Common<'r> {
    venue: Venue,
    exchange: &'r str,
    symbol: &'r str,
    ts_event: UnixNanos,
    ts_recv: UnixNanos,
}

fn common<'r>(row: &'r str, fields: &[Range<usize>], columns: usize) -> Result<Common<'r>, String> {
    if fields.len() != columns {
        return Err(format!("{} columns, expected {columns}", fields.len()));
    }
    let field = |index: usize| &row[fields[index].clone()];
    let micros = |index: usize, name: &str| {
        field(index)
            .parse::<u64>()
            .map(UnixNanos::from_micros)
            .map_err(|_| format!("{name} {:?} is not µs", field(index)))
    };
    let (exchange, symbol) = (field(0), field(1));
    let venue = venue(exchange, symbol).ok_or_else(|| format!("unknown tardis exchange {exchange:?}"))?;
    Ok(Common { venue, exchange, symbol, ts_event: micros(2, "timestamp")?, ts_recv: micros(3, "local_timestamp")? })
}

fn decimal(row: &str, range: &Range<usize>, name: &str) -> Result<Decimal, String> {
    Decimal::parse_str(&row[range.clone()]).map_err(|e| format!("{name}: {e}"))
}

/// A row that is one message: trades, quotes, book snapshots. The outer `Result` is a bad row, the
/// inner one the visitor's decision to stop.
fn one_row(
    kind: Dataset,
    row: &str,
    fields: &[Range<usize>],
    origin: &Origin,
    scratch: &mut Scratch,
    visitor: &mut dyn Visitor,
) -> Result<Result<(), VenueError>, String> {
    let columns = match kind {
        Dataset::Snapshot(levels) => 4 + 4 * levels,
        _ => 8,
    };
    let head = common(row, fields, columns)?;
    let payload = match kind {
        Dataset::Trades => {
            let aggressor = match &row[fields[5].clone()] {
                "buy" => AggressorSide::Buyer,
                "sell" => AggressorSide::Seller,
                "unknown" | "" => AggressorSide::Unknown,
                other => return Err(format!("unknown side {other:?}")),
            };
            Payload::Trade(RawTrade {
                ts_event: head.ts_event,
                trade_id: row[fields[4].clone()].parse::<u64>().ok(),
                price: decimal(row, &fields[6], "price")?,
                size: decimal(row, &fields[7], "amount")?,
                aggressor,
            })
        }
        Dataset::Quotes => {
            if fields[4..8].iter().any(|range| range.is_empty()) {
                visitor.control(origin, "tardis quote with an empty side");
                return Ok(Ok(()));
            }
            Payload::Quote(RawQuote {
                ts_event: head.ts_event,
                sequence: 0,
                ask: RawLevel {
                    price: decimal(row, &fields[5], "ask_price")?,
                    size: decimal(row, &fields[4], "ask_amount")?,
                },
                bid: RawLevel {
                    price: decimal(row, &fields[6], "bid_price")?,
                    size: decimal(row, &fields[7], "bid_amount")?,
                },
            })
        }
        Dataset::Snapshot(levels) => {
            scratch.clear_levels();
            for level in 0..levels {
                let at = 4 + 4 * level;
                for (side, offset) in [(&mut scratch.asks, 0), (&mut scratch.bids, 2)] {
                    let (price, amount) = (&fields[at + offset], &fields[at + offset + 1]);
                    if price.is_empty() && amount.is_empty() {
                        continue;
                    }
                    side.push(RawLevel { price: decimal(row, price, "price")?, size: decimal(row, amount, "amount")? });
                }
            }
            Payload::Book(RawBook {
                ts_event: head.ts_event,
                first_sequence: 0,
                sequence: 0,
                prev_sequence: 0,
                is_snapshot: true,
                bids: &scratch.bids,
                asks: &scratch.asks,
            })
        }
        Dataset::Incremental => {
            return Err("incremental rows are grouped, not read one by one".into());
        }
    };
    Ok(visitor.message(origin, head.ts_recv, &Decoded { venue: head.venue, symbol: head.symbol, payload }))
}

/// The `incremental_book_L2` message being gathered, its levels in the scratch buffers.
#[derive(Debug, Default)]
struct Pending {
    active: bool,
    /// A row of this message was bad: drop the message.
    poisoned: bool,
    exchange: String,
    symbol: String,
    venue: Option<Venue>,
    ts_event: UnixNanos,
    ts_recv: UnixNanos,
    is_snapshot: bool,
    /// Line of the first row.
    line: u64,
}

impl Pending {
    fn row(
        &mut self,
        row: &str,
        fields: &[Range<usize>],
        origin: &Origin,
        scratch: &mut Scratch,
        visitor: &mut dyn Visitor,
    ) -> Result<Result<(), VenueError>, String> {
        // A row whose key can't be read can't be placed: it poisons the message being gathered.
        let head = match common(row, fields, 8) {
            Ok(head) => head,
            Err(reason) => {
                self.poisoned |= self.active;
                return Err(reason);
            }
        };
        let is_snapshot = match &row[fields[4].clone()] {
            "true" => true,
            "false" => false,
            other => {
                self.poisoned |= self.active;
                return Err(format!("is_snapshot {other:?} is not true/false"));
            }
        };
        let continues = self.active
            && self.ts_event == head.ts_event
            && self.is_snapshot == is_snapshot
            && self.symbol == head.symbol
            && self.exchange == head.exchange;
        if !continues {
            if let Err(stop) = self.flush(origin, scratch, visitor) {
                return Ok(Err(stop));
            }
            self.start(&head, is_snapshot, origin.line, scratch);
        }
        let level = decimal(row, &fields[6], "price")
            .and_then(|price| Ok(RawLevel { price, size: decimal(row, &fields[7], "amount")? }));
        let pushed = level.and_then(|level| {
            match &row[fields[5].clone()] {
                "bid" => scratch.bids.push(level),
                "ask" => scratch.asks.push(level),
                other => return Err(format!("side {other:?} is not bid/ask")),
            }
            Ok(())
        });
        if let Err(reason) = pushed {
            self.poisoned = true;
            return Err(reason);
        }
        Ok(Ok(()))
    }

    fn start(&mut self, head: &Common<'_>, is_snapshot: bool, line: u64, scratch: &mut Scratch) {
        scratch.clear_levels();
        self.exchange.clear();
        self.exchange.push_str(head.exchange);
        self.symbol.clear();
        self.symbol.push_str(head.symbol);
        self.venue = Some(head.venue);
        self.ts_event = head.ts_event;
        self.ts_recv = head.ts_recv;
        self.is_snapshot = is_snapshot;
        self.line = line;
        self.active = true;
        self.poisoned = false;
    }

    /// Delivers the gathered message (unless a row of it was bad). `origin` names the file.
    fn flush(&mut self, origin: &Origin, scratch: &mut Scratch, visitor: &mut dyn Visitor) -> Result<(), VenueError> {
        let deliver = self.active && !self.poisoned;
        self.active = false;
        let Some(venue) = self.venue.filter(|_| deliver) else {
            return Ok(());
        };
        let book = RawBook {
            ts_event: self.ts_event,
            first_sequence: 0,
            sequence: 0,
            prev_sequence: 0,
            is_snapshot: self.is_snapshot,
            bids: &scratch.bids,
            asks: &scratch.asks,
        };
        let decoded = Decoded { venue, symbol: &self.symbol, payload: Payload::Book(book) };
        visitor.message(&Origin::new(&origin.file, self.line), self.ts_recv, &decoded)
    }
}

#[cfg(test)]
mod tests;
