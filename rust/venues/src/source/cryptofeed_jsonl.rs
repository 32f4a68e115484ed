//! cryptofeed's capture format 2: JSONL records
//! `{"t": "header"|"http"|"connect"|"send"|"recv", "conn": "BYBIT.ws.2", "ts": <epoch s>, "data": "<raw frame>"}`.
//!
//! - `connect` records carry the WebSocket URL (`addr`), which says the market of everything later
//!   received on that `conn`: `/v5/public/spot` is Bybit spot, `/v5/public/linear` Bybit linear,
//!   `fstream` Binance USD-M, and so on. The same symbol can therefore be linear on one connection and
//!   spot on another; the venue keeps them apart as different instruments.
//! - `recv` records hold one raw exchange frame as a JSON **string**: it is unescaped into a reusable
//!   buffer (no allocation per record once the buffer has grown) and decoded with the connection's
//!   venue as hint.
//! - `http` records hold REST responses (`url` + body), e.g. Bybit `instruments-info`, which become
//!   instrument specifications.
//! - `header` and `send` records (subscriptions) are control records.
//!
//! `ts_recv` is the record's `ts`, converted from its decimal text to nanoseconds exactly (digits past
//! the ninth decimal are dropped, never rounded through `f64`). Frames are decoded with
//! [`crate::source::decode_frames`] (a Bybit `publicTrade` frame holds several trades).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use ferrotrade_model::{UnixNanos, Venue};
use serde::Deserialize;
use sonic_rs::LazyValue;

use crate::bybit;
use crate::decoded::Scratch;
use crate::error::{Origin, VenueError};
use crate::lines::LineReader;
use crate::source::{Format, FrameHint, Source, Visitor, visit_frame};

const FORMAT: &str = "cryptofeed-jsonl";

/// Whether a first line looks like a format-2 record.
#[must_use]
pub fn sniff(line: &[u8]) -> bool {
    line.starts_with(br#"{"t":"#)
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    t: &'a str,
    #[serde(borrow, default)]
    conn: Option<&'a str>,
    #[serde(borrow, default)]
    ts: Option<LazyValue<'a>>,
    #[serde(borrow, default)]
    addr: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    url: Option<std::borrow::Cow<'a, str>>,
}

/// A session of cryptofeed format-2 files, read in the given order.
#[derive(Debug)]
pub struct CryptofeedJsonlSource {
    files: Vec<PathBuf>,
    scratch: Scratch,
    frame: Vec<u8>,
}

impl CryptofeedJsonlSource {
    /// A source over `files`.
    ///
    /// # Errors
    /// [`VenueError::Session`] when `files` is empty.
    pub fn open(files: Vec<PathBuf>) -> Result<Self, VenueError> {
        if files.is_empty() {
            return Err(VenueError::Session {
                origin: Origin { file: Arc::default(), line: 0 },
                reason: "a cryptofeed JSONL session needs at least one file".into(),
            });
        }
        Ok(Self { files, scratch: Scratch::default(), frame: Vec::with_capacity(64 * 1024) })
    }
}

impl Source for CryptofeedJsonlSource {
    fn format(&self) -> Format {
        Format::CryptofeedJsonl
    }

    fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn read(&mut self, visitor: &mut dyn Visitor) -> Result<(), VenueError> {
        let Self { files, scratch, frame } = self;
        let mut reader = LineReader::new(files);
        // Market of each connection, from its `connect` record; kept across the session's files.
        let mut records = RecordReader::default();
        while let Some((origin, line)) = reader.next_line()? {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let step = match read_record(line, &mut records.venues, frame) {
                Ok(step) => step,
                Err(reason) => {
                    visitor.bad_record(VenueError::malformed(origin.clone(), FORMAT, reason))?;
                    continue;
                }
            };
            match step {
                Step::Control(what) => visitor.control(origin, what),
                Step::Frame { ts_recv, hint, .. } => {
                    visit_frame(frame, &hint, scratch, visitor, origin, Some(ts_recv), FORMAT)?;
                }
            }
        }
        Ok(())
    }
}

/// One frame of a format-2 capture, as [`RecordReader::read`] gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedFrame {
    /// The record's `ts`.
    pub ts_recv: UnixNanos,
    /// The market of the frame's connection (`recv`) or URL (`http`), and a REST answer's symbol.
    pub hint: FrameHint,
    /// Pushed on a WebSocket connection (`recv`); `false` for a REST answer (`http`).
    pub pushed: bool,
}

/// Format-2 records one line at a time, for callers that keep each frame's bytes (the local venue's
/// replay serves them as recorded); [`CryptofeedJsonlSource`] reads whole sessions the same way. Each
/// connection's market is learnt from its `connect` record and given to the frames received on it.
#[derive(Debug, Default)]
pub struct RecordReader {
    venues: HashMap<String, Venue>,
}

impl RecordReader {
    /// The frame of `line`, unescaped into `frame`; `None` for a record without one (header, connect,
    /// send).
    ///
    /// # Errors
    /// Why `line` is not a well-formed record.
    pub fn read(&mut self, line: &[u8], frame: &mut Vec<u8>) -> Result<Option<RecordedFrame>, String> {
        Ok(match read_record(line, &mut self.venues, frame)? {
            Step::Control(_) => None,
            Step::Frame { ts_recv, hint, pushed } => Some(RecordedFrame { ts_recv, hint, pushed }),
        })
    }
}

/// What one record asks for.
enum Step {
    /// A record without market content.
    Control(&'static str),
    /// A frame, now unescaped in the frame buffer; `pushed` for a WebSocket frame, not a REST answer.
    Frame { ts_recv: UnixNanos, hint: FrameHint, pushed: bool },
}

fn read_record(line: &[u8], venues: &mut HashMap<String, Venue>, frame: &mut Vec<u8>) -> Result<Step, String> {
    let record: Record<'_> = sonic_rs::from_slice(line).map_err(|e| format!("not a format-2 record: {e}"))?;
    match record.t {
        "header" => Ok(Step::Control("cryptofeed header")),
        "send" => Ok(Step::Control("cryptofeed send")),
        "connect" => {
            let conn = record.conn.ok_or("connect record without conn")?;
            let addr = record.addr.as_deref().ok_or("connect record without addr")?;
            match venue_from_url(addr) {
                Some(venue) => venues.insert(conn.to_owned(), venue),
                None => venues.remove(conn),
            };
            Ok(Step::Control("cryptofeed connect"))
        }
        "recv" => {
            let ts_recv = record_ts(&record)?;
            let venue = record.conn.and_then(|conn| venues.get(conn).copied());
            unescape_data(line, frame)?;
            Ok(Step::Frame { ts_recv, hint: FrameHint { venue, symbol: None }, pushed: true })
        }
        "http" => {
            let ts_recv = record_ts(&record)?;
            let url = record.url.as_deref().or(record.addr.as_deref()).ok_or("http record without url")?;
            let hint = FrameHint { venue: venue_from_url(url), symbol: symbol_from_url(url) };
            unescape_data(line, frame)?;
            Ok(Step::Frame { ts_recv, hint, pushed: false })
        }
        other => Err(format!("unknown record type {other:?}")),
    }
}

fn record_ts(record: &Record<'_>) -> Result<UnixNanos, String> {
    let ts = record.ts.as_ref().ok_or_else(|| format!("{} record without ts", record.t))?;
    seconds_to_nanos(ts.as_raw_str())
}

/// The market a WS or REST URL belongs to (Bybit or Binance), if it tells.
fn venue_from_url(url: &str) -> Option<Venue> {
    if let Some(venue) = bybit::venue_from_url(url) {
        return Some(venue);
    }
    if !url.contains("binance") {
        return None;
    }
    Some(if url.contains("binance.us") {
        Venue::BinanceUs
    } else if url.contains("fstream") || url.contains("fapi") {
        Venue::BinanceUsdm
    } else if url.contains("dstream") || url.contains("dapi") {
        Venue::BinanceCoinm
    } else {
        Venue::BinanceSpot
    })
}

/// `symbol=` of a REST URL, upper case.
fn symbol_from_url(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("symbol=")?;
    let symbol = rest.split('&').next().unwrap_or_default();
    (!symbol.is_empty()).then(|| symbol.to_ascii_uppercase())
}

/// Exact conversion of decimal epoch seconds (`1786310818.2235148`) to nanoseconds; decimals past the
/// ninth are dropped.
fn seconds_to_nanos(text: &str) -> Result<UnixNanos, String> {
    let bad = || format!("ts {text:?} is not decimal epoch seconds");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let seconds: u64 = whole.parse().map_err(|_| bad())?;
    let mut nanos: u64 = 0;
    for position in 0..9 {
        let digit = fraction.as_bytes().get(position).map_or(0, |b| u64::from(b - b'0'));
        nanos = nanos * 10 + digit;
    }
    seconds.checked_mul(1_000_000_000).and_then(|ns| ns.checked_add(nanos)).map(UnixNanos).ok_or_else(bad)
}

/// Unescapes the record's `data` string into `out`.
///
/// The token is located by hand rather than through the JSON parser, which would copy an escaped string
/// once more per record. `"data":` with unescaped quotes can only be a key here: inside a string value
/// its quotes would be escaped, and `recv`/`http` records have no nested objects. The record has been
/// validated by the parser before this runs.
fn unescape_data(line: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let key = memchr::memmem::find(line, br#""data":"#).ok_or("record without data")?;
    let rest = &line[key + 7..];
    let start = rest.iter().position(|b| !b.is_ascii_whitespace()).ok_or("record without data")?;
    let rest = &rest[start..];
    let mut index = 1;
    loop {
        let offset = memchr::memchr2(b'"', b'\\', rest.get(index..).ok_or("unterminated data string")?)
            .ok_or("unterminated data string")?;
        index += offset;
        if rest[index] == b'"' {
            break;
        }
        index += 2;
    }
    unescape_json_string(&rest[..=index], out)
}

/// Unescapes a JSON string token (with its quotes) into `out`.
fn unescape_json_string(token: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    let inner =
        token.strip_prefix(b"\"").and_then(|rest| rest.strip_suffix(b"\"")).ok_or("data is not a JSON string")?;
    let mut index = 0;
    while index < inner.len() {
        let Some(offset) = memchr::memchr(b'\\', &inner[index..]) else {
            out.extend_from_slice(&inner[index..]);
            break;
        };
        out.extend_from_slice(&inner[index..index + offset]);
        index += offset;
        let escape = *inner.get(index + 1).ok_or("data ends in a lone backslash")?;
        index += 2;
        match escape {
            b'"' | b'\\' | b'/' => out.push(escape),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'u' => {
                let high = hex4(inner.get(index..index + 4))?;
                index += 4;
                let code = if (0xD800..0xDC00).contains(&high) {
                    if inner.get(index..index + 2) != Some(&b"\\u"[..]) {
                        return Err("unpaired surrogate in data".into());
                    }
                    let low = hex4(inner.get(index + 2..index + 6))?;
                    index += 6;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err("invalid surrogate pair in data".into());
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                let character = char::from_u32(code).ok_or("invalid \\u escape in data")?;
                out.extend_from_slice(character.encode_utf8(&mut [0; 4]).as_bytes());
            }
            other => return Err(format!("invalid escape \\{} in data", char::from(other))),
        }
    }
    Ok(())
}

fn hex4(digits: Option<&[u8]>) -> Result<u32, String> {
    let digits = digits.ok_or("truncated \\u escape in data")?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err("invalid \\u escape in data".into());
    }
    let text = std::str::from_utf8(digits).map_err(|_| "invalid \\u escape in data")?;
    u32::from_str_radix(text, 16).map_err(|_| "invalid \\u escape in data".to_owned())
}

#[cfg(test)]
mod tests {
    use ferrotrade_model::Decimal;

    use super::*;
    use crate::bybit::counting::Counter;

    /// Real Bybit frames of cryptofeed's permissive pr1085 captures (`BYBIT.ws.1.0` linear,
    /// `BYBIT.ws.2.0` spot), re-wrapped as format-2 records, plus one REST `instruments-info` record (a
    /// nautilus docs-derived fixture). The only real format-2 capture (cryptofeed `v3`) is AGPL and may
    /// not be copied into this project, hence this synthetic-but-realistic container.
    fn capture() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/cryptofeed/BYBIT.pr1085.jsonl"))
    }

    fn temp_file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ft-cf-jsonl-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_record_reader_gives_each_frame_its_connection_s_market_and_bytes() {
        let text = std::fs::read_to_string(capture()).unwrap();
        let (mut records, mut frame) = (RecordReader::default(), Vec::new());
        let (mut spot, mut spot_books, mut linear, mut rest) = (0, 0, 0, 0);
        for line in text.lines() {
            let Some(read) = records.read(line.as_bytes(), &mut frame).unwrap() else { continue };
            let raw = std::str::from_utf8(&frame).unwrap();
            match (read.pushed, read.hint.venue) {
                (true, Some(Venue::BybitSpot)) => {
                    spot += 1;
                    spot_books += usize::from(raw.starts_with(r#"{"topic":"orderbook.1."#));
                }
                (true, Some(Venue::BybitLinear)) => linear += 1,
                (false, _) => rest += 1,
                other => panic!("frame of an unknown connection: {other:?} {raw}"),
            }
        }
        // grep '"t":"recv","conn":"BYBIT.ws.N"' -c: 145 on spot (139 books, 6 acks), 202 on linear.
        assert_eq!((spot, spot_books, linear), (145, 139, 202));
        assert_eq!(rest, 1, "the one instruments-info answer");
    }

    #[test]
    fn reads_the_capture_end_to_end() {
        assert!(sniff(&crate::lines::first_line(&capture(), 4096).unwrap()));
        assert_eq!(crate::source::detect_format(&capture()).unwrap(), Format::CryptofeedJsonl);
        let mut source = CryptofeedJsonlSource::open(vec![capture()]).unwrap();
        let mut counter = Counter::default();
        source.read(&mut counter).unwrap();
        // grep '"t":"recv"' | grep -c orderbook, per conn: 198 linear (ws.1), 139 spot (ws.2).
        assert_eq!(counter.books, 337);
        assert_eq!(counter.snapshots, 337, "orderbook.1 always pushes snapshots");
        assert_eq!(counter.bad, 0, "{:?}", counter.errors);
        let per_symbol: Vec<(Venue, &str, usize)> =
            counter.per_symbol.iter().map(|((venue, symbol), n)| (*venue, symbol.as_str(), *n)).collect();
        assert_eq!(
            per_symbol,
            vec![
                (Venue::BybitSpot, "ARBUSDC", 54),
                (Venue::BybitSpot, "CPOOLUSDT", 14),
                (Venue::BybitSpot, "KCSUSDT", 19),
                (Venue::BybitSpot, "MASAUSDT", 11),
                (Venue::BybitSpot, "OPUSDC", 30),
                (Venue::BybitSpot, "TUSDUSDT", 11),
                (Venue::BybitLinear, "AIOZUSDT", 28),
                (Venue::BybitLinear, "BANDUSDT", 45),
                (Venue::BybitLinear, "RADUSDT", 18),
                (Venue::BybitLinear, "SNTUSDT", 107),
            ]
        );
        let controls: Vec<(&str, usize)> = counter.controls.iter().map(|(what, n)| (*what, *n)).collect();
        assert_eq!(
            controls,
            vec![
                ("bybit subscribe ack", 10),
                ("cryptofeed connect", 2),
                ("cryptofeed header", 1),
                ("cryptofeed send", 10)
            ]
        );
        assert_eq!(counter.instruments.len(), 2);
        assert_eq!(counter.instruments[0].venue, Venue::BybitLinear);
        assert_eq!(counter.instruments[0].tick_size, Decimal::parse_str("0.5").unwrap());
        // ts_recv is the record's decimal seconds, exactly.
        assert_eq!(counter.first_ts_recv, Some(UnixNanos(1_749_833_474_285_131_500)));
        assert_eq!(counter.last_ts_recv, Some(UnixNanos(1_749_833_503_080_962_700)));
        let (bid, ask, levels) = counter.first_book.unwrap();
        assert_eq!(
            (bid.unwrap().price, ask.unwrap().size, levels),
            (Decimal::parse_str("0.6131").unwrap(), Decimal::parse_str("35.4").unwrap(), 2)
        );
        assert_eq!(counter.last_sequence, Some(1_909_221));
        assert_eq!(counter.lines.first(), Some(&15), "header, http, 2 connects, 10 sends come first");
    }

    #[test]
    fn one_symbol_on_two_connections_is_two_instruments() {
        let frame = r#"{\"topic\":\"orderbook.1.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1749833474773,\"data\":{\"s\":\"BTCUSDT\",\"b\":[[\"1.5\",\"2\"]],\"a\":[[\"1.6\",\"3\"]],\"u\":7,\"seq\":9},\"cts\":1749833474768}"#;
        let text = [
            r#"{"t":"connect","conn":"BYBIT.ws.2","ts":1.0,"addr":"wss://stream.bybit.com/v5/public/linear"}"#
                .to_owned(),
            r#"{"t":"connect","conn":"BYBIT.ws.3","ts":1.5,"addr":"wss://stream.bybit.com/v5/public/spot"}"#.to_owned(),
            format!(r#"{{"t":"recv","conn":"BYBIT.ws.2","ts":2,"data":"{frame}"}}"#),
            format!(r#"{{"t":"recv","conn":"BYBIT.ws.3","ts":3.000000001,"data":"{frame}"}}"#),
        ]
        .join("\n");
        let path = temp_file("two.jsonl", &text);
        let mut counter = Counter::default();
        CryptofeedJsonlSource::open(vec![path.clone()]).unwrap().read(&mut counter).unwrap();
        assert_eq!(
            counter.symbols(),
            vec![(Venue::BybitSpot, "BTCUSDT".to_owned()), (Venue::BybitLinear, "BTCUSDT".to_owned())]
        );
        assert_eq!(counter.last_ts_recv, Some(UnixNanos(3_000_000_001)));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn broken_records_are_reported_with_their_place() {
        let text = std::fs::read_to_string(capture()).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines[20] = lines[20].replace("\\\"b\\\":[[\\\"", "\\\"b\\\":[[\\\"x");
        lines[30] = r#"{"t":"recv","conn":"BYBIT.ws.1","ts":"yesterday","data":"{}"}"#.to_owned();
        lines[40].truncate(50);
        let path = temp_file("broken.jsonl", &lines.join("\n"));
        let mut counter = Counter { keep_going: true, ..Counter::default() };
        CryptofeedJsonlSource::open(vec![path.clone()]).unwrap().read(&mut counter).unwrap();
        assert_eq!(counter.bad, 3, "{:?}", counter.errors);
        for (error, line) in counter.errors.iter().zip([21, 31, 41]) {
            assert!(error.contains(&format!("broken.jsonl:{line}:")), "{error}");
        }
        assert_eq!(counter.books, 335, "lines 21 and 41 were books, line 31 an ack");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn seconds_convert_exactly() {
        assert_eq!(seconds_to_nanos("1786310818.2235148"), Ok(UnixNanos(1_786_310_818_223_514_800)));
        assert_eq!(seconds_to_nanos("1786310818"), Ok(UnixNanos(1_786_310_818_000_000_000)));
        assert_eq!(seconds_to_nanos("1.0000000019"), Ok(UnixNanos(1_000_000_001)));
        assert!(seconds_to_nanos("1.7e9").is_err());
        assert!(seconds_to_nanos("-1.5").is_err());
    }

    #[test]
    fn json_strings_unescape() {
        let mut out = Vec::new();
        unescape_json_string(br#""{\"a\":\"\u00e9\ud83d\ude00\\n\/\"}""#, &mut out).unwrap();
        assert_eq!(String::from_utf8(out.clone()).unwrap(), "{\"a\":\"\u{e9}\u{1f600}\\n/\"}");
        for bad in [&br#""\x""#[..], br#""\u12""#, br#""\ud83d""#, br#"nope"#, br#""\u+123""#] {
            assert!(unescape_json_string(bad, &mut out).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
