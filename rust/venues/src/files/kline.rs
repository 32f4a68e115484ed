//! data.binance.vision kline CSVs (`BTCUSDT-1h-2023-01.csv`, plain or gzip), with or without the header
//! row `open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,
//! taker_buy_quote_volume,ignore`.
//!
//! - **Symbol and interval** come from the file name, `SYMBOL-INTERVAL-YYYY-MM[-DD].csv`; a file named
//!   otherwise is a [`VenueError::Session`] at open (the rows do not say which instrument they are).
//! - **Venue**: [`Venue::BinanceSpot`], unless a directory of the path is `um` or `futures` (USD-M,
//!   [`Venue::BinanceUsdm`]) or `cm` ([`Venue::BinanceCoinm`]), as in data.binance.vision's own layout
//!   `data/futures/um/monthly/klines/...`.
//! - **Timestamps** are milliseconds, or microseconds in 2025+ spot files; [`UnixNanos::from_any_unit`]
//!   tells them apart by magnitude.
//! - **Each row is one [`Payload::Bar`]** with `ts_event = close_time`, the bar's inclusive last
//!   millisecond (as Binance reports it and as [`RawBar::ts_event`] is defined), and the same value as
//!   `ts_recv` (the file has no receive time; a bar is known once it closed). `interval_ns` is the
//!   name's nominal interval (a bar cut short by an exchange outage, like BTCUSDT 2023-03-24 12:00 which
//!   closed at 12:39:41, keeps its nominal length); for `1mo` it is `close_time - open_time` plus one
//!   millisecond (`ignore` is ignored).
//!
//! Rows are split by hand rather than with a CSV parser: the format has no quoting, and reading through
//! [`LineReader`] gives gzip support and exact file:line places for bad rows.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use ferrotrade_model::{Decimal, UnixNanos, Venue};

use crate::decoded::{Decoded, Payload, RawBar};
use crate::error::{Origin, VenueError};
use crate::lines::LineReader;
use crate::source::{Format, Source, Visitor};

const FORMAT: &str = "binance-kline-csv";
const HEADER_START: &[u8] = b"open_time,";
const COLUMNS: usize = 12;
const INTERVALS: [&str; 16] =
    ["1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1mo"];

/// Whether a first line looks like a kline CSV: the header, or 12 columns starting with a timestamp.
#[must_use]
pub fn sniff(line: &[u8]) -> bool {
    if line.starts_with(HEADER_START) {
        return true;
    }
    let mut fields = line.split(|b| *b == b',');
    let first_is_time = fields.next().is_some_and(|f| f.len() >= 10 && f.iter().all(u8::is_ascii_digit));
    first_is_time && line.split(|b| *b == b',').count() == COLUMNS
}

/// What the file name and path say about a kline file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlineFile {
    /// The file.
    pub path: PathBuf,
    /// Venue, from the directories.
    pub venue: Venue,
    /// Symbol, from the name.
    pub symbol: String,
    /// Interval as written in the name (`1h`, `1m`, `1mo`).
    pub interval: String,
}

impl KlineFile {
    /// Reads symbol, interval and venue from `path` (see the module docs).
    ///
    /// # Errors
    /// [`VenueError::Session`] when the name is not `SYMBOL-INTERVAL-YYYY-MM[-DD].csv[.gz]`.
    pub fn from_path(path: &Path) -> Result<KlineFile, VenueError> {
        let error = |reason: String| VenueError::Session {
            origin: Origin { file: Arc::new(path.to_path_buf()), line: 0 },
            reason,
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = name.split('.').next().unwrap_or_default();
        let parts: Vec<&str> = stem.split('-').collect();
        let date_ok = |parts: &[&str]| {
            matches!(parts.len(), 2 | 3)
                && parts[0].len() == 4
                && parts[1..].iter().all(|p| p.len() == 2)
                && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        };
        let valid = parts.len() >= 4
            && !parts[0].is_empty()
            && parts[0].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && INTERVALS.contains(&parts[1])
            && date_ok(&parts[2..]);
        if !valid {
            return Err(error(format!(
                "kline file name {name:?} is not SYMBOL-INTERVAL-YYYY-MM[-DD].csv (data.binance.vision naming); \
                 the symbol can't be told"
            )));
        }
        let component = |dir: &str| path.components().any(|c| matches!(c, Component::Normal(n) if n == dir));
        let venue = if component("cm") {
            Venue::BinanceCoinm
        } else if component("um") || component("futures") {
            Venue::BinanceUsdm
        } else {
            Venue::BinanceSpot
        };
        Ok(KlineFile {
            path: path.to_path_buf(),
            venue,
            symbol: parts[0].to_ascii_uppercase(),
            interval: parts[1].to_owned(),
        })
    }
}

/// A session of kline CSV files, read in the given order.
#[derive(Debug)]
pub struct KlineCsvSource {
    files: Vec<PathBuf>,
    metas: Vec<KlineFile>,
}

impl KlineCsvSource {
    /// A source over `files`.
    ///
    /// # Errors
    /// [`VenueError::Session`] when `files` is empty or a file name doesn't tell the symbol.
    pub fn open(files: Vec<PathBuf>) -> Result<Self, VenueError> {
        if files.is_empty() {
            return Err(VenueError::Session {
                origin: Origin { file: Arc::default(), line: 0 },
                reason: "a kline session needs at least one file".into(),
            });
        }
        let metas = files.iter().map(|path| KlineFile::from_path(path)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { files, metas })
    }
}

impl Source for KlineCsvSource {
    fn format(&self) -> Format {
        Format::BinanceKlineCsv
    }

    fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn read(&mut self, visitor: &mut dyn Visitor) -> Result<(), VenueError> {
        for meta in &self.metas {
            let mut reader = LineReader::new(std::slice::from_ref(&meta.path));
            while let Some((origin, line)) = reader.next_line()? {
                if line.iter().all(u8::is_ascii_whitespace) || line.starts_with(HEADER_START) {
                    continue;
                }
                match parse_row(line) {
                    Ok(mut bar) => {
                        // The name's interval is the bar's nominal length; a bar that closed early (an
                        // exchange outage) still spans one interval of the series.
                        if let Some(nominal) = interval_ns(&meta.interval) {
                            bar.interval_ns = nominal;
                        }
                        let decoded = Decoded { venue: meta.venue, symbol: &meta.symbol, payload: Payload::Bar(bar) };
                        visitor.message(origin, bar.ts_event, &decoded)?;
                    }
                    Err(reason) => visitor.bad_record(VenueError::malformed(origin.clone(), FORMAT, reason))?,
                }
            }
        }
        Ok(())
    }
}

/// One kline row as a bar.
/// Nominal length of a data.binance.vision interval; `None` for `1mo` (months differ in length).
fn interval_ns(interval: &str) -> Option<u64> {
    const SECOND: u64 = 1_000_000_000;
    let split = interval.find(|c: char| !c.is_ascii_digit())?;
    let count: u64 = interval[..split].parse().ok()?;
    let unit = match &interval[split..] {
        "s" => SECOND,
        "m" => 60 * SECOND,
        "h" => 3_600 * SECOND,
        "d" => 86_400 * SECOND,
        "w" => 7 * 86_400 * SECOND,
        _ => return None,
    };
    Some(count * unit)
}

fn parse_row(line: &[u8]) -> Result<RawBar, String> {
    let text = std::str::from_utf8(line).map_err(|_| "row is not UTF-8".to_owned())?;
    let mut fields = [""; COLUMNS];
    let mut count = 0;
    for field in text.split(',') {
        if count == COLUMNS {
            return Err(format!("more than {COLUMNS} columns"));
        }
        fields[count] = field.trim();
        count += 1;
    }
    if count != COLUMNS {
        return Err(format!("{count} columns, expected {COLUMNS}"));
    }
    let integer = |index: usize, name: &str| {
        fields[index].parse::<u64>().map_err(|_| format!("{name} {:?} is not an integer", fields[index]))
    };
    let decimal = |index: usize, name: &str| Decimal::parse_str(fields[index]).map_err(|e| format!("{name}: {e}"));
    let open_time = UnixNanos::from_any_unit(integer(0, "open_time")?);
    let close_time = UnixNanos::from_any_unit(integer(6, "close_time")?);
    if close_time < open_time {
        return Err(format!("close_time {close_time} before open_time {open_time}"));
    }
    const MILLI: u64 = 1_000_000;
    Ok(RawBar {
        ts_event: close_time,
        open_time,
        // close_time is the last ms (or µs) inside the bar: round the span up to whole milliseconds.
        interval_ns: ((close_time.0 - open_time.0) / MILLI + 1) * MILLI,
        open: decimal(1, "open")?,
        high: decimal(2, "high")?,
        low: decimal(3, "low")?,
        close: decimal(4, "close")?,
        volume: decimal(5, "volume")?,
        quote_volume: fields[7].parse::<f64>().map_err(|_| format!("quote_volume {:?} is not a number", fields[7]))?,
        trade_count: integer(8, "count")?,
        taker_buy_volume: decimal(9, "taker_buy_volume")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bybit::counting::Counter;

    fn data(name: &str) -> PathBuf {
        PathBuf::from(format!("{}/../../tests/data/binance-vision/{name}", env!("CARGO_MANIFEST_DIR")))
    }

    #[test]
    fn five_months_of_hourly_bars() {
        let files: Vec<PathBuf> = (1..=5).map(|m| data(&format!("BTCUSDT-1h-2023-0{m}.csv"))).collect();
        assert!(sniff(&crate::lines::first_line(&files[0], 4096).unwrap()));
        assert_eq!(crate::source::detect_format(&files[0]).unwrap(), Format::BinanceKlineCsv);
        let mut source = KlineCsvSource::open(files).unwrap();
        let mut counter = Counter::default();
        source.read(&mut counter).unwrap();
        // `tail -n +2 | grep -c .` per file: 744 + 672 + 743 + 720 + 744.
        assert_eq!(counter.bars, 3_623);
        assert_eq!(counter.bad, 0);
        assert_eq!(counter.symbols(), vec![(Venue::BinanceSpot, "BTCUSDT".to_owned())]);
        let first = counter.first_bar.unwrap();
        assert_eq!(first.open_time, UnixNanos::from_millis(1_672_531_200_000));
        assert_eq!(first.ts_event, UnixNanos::from_millis(1_672_534_799_999));
        assert_eq!(first.interval_ns, 3_600_000_000_000);
        assert_eq!(first.open, Decimal::parse_str("16541.77").unwrap());
        assert_eq!(first.volume, Decimal::parse_str("4364.8357").unwrap());
        assert_eq!(first.trade_count, 149_854);
        assert_eq!(first.taker_buy_volume, Decimal::parse_str("2179.94772").unwrap());
        let last = counter.last_bar.unwrap();
        assert_eq!(last.open_time, UnixNanos::from_millis(1_685_574_000_000));
        assert_eq!(last.close, Decimal::parse_str("27210.35").unwrap());
        assert_eq!(counter.last_ts_recv, Some(UnixNanos::from_millis(1_685_577_599_999)));
    }

    #[test]
    fn headerless_minute_bars() {
        let path = data("ADABTC-1m-2021-11-27.csv");
        assert!(sniff(&crate::lines::first_line(&path, 4096).unwrap()));
        assert_eq!(crate::source::detect_format(&path).unwrap(), Format::BinanceKlineCsv);
        let mut counter = Counter::default();
        KlineCsvSource::open(vec![path]).unwrap().read(&mut counter).unwrap();
        assert_eq!(counter.bars, 10);
        assert_eq!(counter.symbols(), vec![(Venue::BinanceSpot, "ADABTC".to_owned())]);
        let first = counter.first_bar.unwrap();
        assert_eq!(first.interval_ns, 60_000_000_000);
        assert_eq!(first.open, Decimal::parse_str("0.00002853").unwrap());
        assert_eq!(counter.last_bar.unwrap().open_time, UnixNanos::from_millis(1_637_971_740_000));
    }

    #[test]
    fn microsecond_rows_and_futures_paths() {
        let row = b"1735689600000000,93576.00,94509.42,93489.03,94401.14,657.49,1735693199999999,61796451.96,120000,338.48,31808544.65,0";
        let bar = parse_row(row).unwrap();
        assert_eq!(interval_ns("1h"), Some(3_600_000_000_000));
        assert_eq!(interval_ns("15m"), Some(900_000_000_000));
        assert_eq!(interval_ns("1mo"), None);
        assert_eq!(bar.open_time, UnixNanos::from_micros(1_735_689_600_000_000));
        assert_eq!(bar.interval_ns, 3_600_000_000_000);
        let meta =
            KlineFile::from_path(Path::new("/d/data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01.csv"))
                .unwrap();
        assert_eq!((meta.venue, meta.symbol.as_str(), meta.interval.as_str()), (Venue::BinanceUsdm, "BTCUSDT", "1h"));
        let meta = KlineFile::from_path(Path::new("/d/cm/BTCUSD_PERP-1d-2024-01-05.csv.gz")).unwrap();
        assert_eq!((meta.venue, meta.symbol.as_str()), (Venue::BinanceCoinm, "BTCUSD_PERP"));
        let error = KlineCsvSource::open(vec![PathBuf::from("/d/klines.csv")]).unwrap_err();
        assert!(
            matches!(error, VenueError::Session { .. }) && error.to_string().contains("SYMBOL-INTERVAL"),
            "{error}"
        );
        assert!(!sniff(b"exchange,symbol,timestamp,local_timestamp,id,side,price,amount"));
    }

    #[test]
    fn a_broken_row_is_reported_with_its_place() {
        let text = std::fs::read_to_string(data("ADABTC-1m-2021-11-27.csv")).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[3] = "1637971380000,0.00002859,oops,0.00002857,0.00002859,1,1637971439999,0.1,5,1,0.1,0";
        lines[5] = "1637971500000,0.00002859";
        let dir = std::env::temp_dir().join(format!("ft-kline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ADABTC-1m-2021-11-27.csv");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let mut counter = Counter { keep_going: true, ..Counter::default() };
        KlineCsvSource::open(vec![path.clone()]).unwrap().read(&mut counter).unwrap();
        assert_eq!((counter.bars, counter.bad), (8, 2));
        assert!(
            counter.errors[0].contains("ADABTC-1m-2021-11-27.csv:4:") && counter.errors[0].contains("high"),
            "{}",
            counter.errors[0]
        );
        assert!(counter.errors[1].contains("ADABTC-1m-2021-11-27.csv:6:"), "{}", counter.errors[1]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
