//! cryptofeed "format 1" text captures: a WebSocket file merged by time with its REST files.
//!
//! Line shapes (one message per line, a trailing empty line):
//! - `<ws url> <-> <connect_epoch_s>`: the WS file's header; its URL tells the venue.
//! - `<ws url> <- <epoch_s>: <json>`: a frame cryptofeed sent (subscription); reported as control.
//! - `<epoch_s>: <json>`: a received frame, the raw exchange JSON.
//! - `<http url> -> <epoch_s>: <body>`: a REST response (depth snapshot, exchange info); the URL tells
//!   the venue and, for a depth snapshot, the symbol (`symbol=`).
//! - `configuration: <json>`: cryptofeed's own settings (in the `.0` exchange-info files); control.
//!
//! A session is the WS file(s) with the REST files of the same exchange prefix: `BINANCE.ws.1.0` pairs
//! with `BINANCE.http.0.0` (depth snapshots) and `BINANCE.0` (exchange info). When only the WS file is
//! given, [`CryptofeedSource::open`] adds those siblings from its directory. The files are read merged
//! by line time (a k-way merge; a line without a time keeps its file's previous time), so each REST
//! snapshot lands among the diffs received around it. Times are decimal seconds converted to exact
//! nanoseconds from the digits (no `f64` rounding).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferrotrade_model::{UnixNanos, Venue};

use crate::decoded::Scratch;
use crate::error::{Origin, VenueError};
use crate::lines::LineReader;
use crate::source::{Format, FrameHint, Source, Visitor, visit_frame};

/// Whether a first line (and file name) look like a cryptofeed format-1 capture.
#[must_use]
pub fn sniff(line: &[u8], name: &str) -> bool {
    let is_url = line.starts_with(b"ws://") || line.starts_with(b"wss://") || line.starts_with(b"http");
    let has_arrow = memchr::memmem::find(line, b" <-> ").is_some() || memchr::memmem::find(line, b" -> ").is_some();
    if is_url && has_arrow {
        return true;
    }
    let named = name.contains(".ws.") || name.contains(".http.") || name.ends_with(".0");
    named && matches!(split_received(line), Some((_, json)) if json.first() == Some(&b'{'))
}

/// `<epoch_s>: <json>` -> (time, json).
fn split_received(line: &[u8]) -> Option<(UnixNanos, &[u8])> {
    let colon = memchr::memchr(b':', line)?;
    let time = parse_epoch_seconds(&line[..colon])?;
    Some((time, line.get(colon + 1..)?.trim_ascii()))
}

/// Decimal seconds (`1633998512.0633569`) to exact nanoseconds; digits past the ninth decimal are cut.
fn parse_epoch_seconds(text: &[u8]) -> Option<UnixNanos> {
    let (whole, fraction) = match memchr::memchr(b'.', text) {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, &b""[..]),
    };
    if whole.is_empty() || whole.len() > 11 || !whole.iter().chain(fraction).all(u8::is_ascii_digit) {
        return None;
    }
    let seconds = whole.iter().fold(0u64, |acc, digit| acc * 10 + u64::from(digit - b'0'));
    let mut nanos = 0u64;
    for index in 0..9 {
        nanos = nanos * 10 + fraction.get(index).map_or(0, |digit| u64::from(digit - b'0'));
    }
    Some(UnixNanos(seconds.checked_mul(1_000_000_000)?.checked_add(nanos)?))
}

/// One classified line.
enum Line<'a> {
    Blank,
    /// WS header: the URL.
    Connect(&'a [u8]),
    /// A frame cryptofeed sent.
    Sent,
    /// A received WS frame.
    Received(&'a [u8]),
    /// A REST response: URL and body.
    Rest(&'a [u8], &'a [u8]),
    /// cryptofeed's configuration line.
    Configuration,
}

/// Classifies a line and reads its time, if it has one.
fn classify(line: &[u8]) -> Option<(Option<UnixNanos>, Line<'_>)> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return Some((None, Line::Blank));
    }
    if line.first().is_some_and(u8::is_ascii_digit) {
        let (time, json) = split_received(line)?;
        return Some((Some(time), Line::Received(json)));
    }
    if line.starts_with(b"configuration:") {
        return Some((None, Line::Configuration));
    }
    if let Some(at) = memchr::memmem::find(line, b" <-> ") {
        return Some((Some(parse_epoch_seconds(line[at + 5..].trim_ascii())?), Line::Connect(&line[..at])));
    }
    if let Some(at) = memchr::memmem::find(line, b" <- ") {
        let (time, _) = split_received(&line[at + 4..])?;
        return Some((Some(time), Line::Sent));
    }
    if let Some(at) = memchr::memmem::find(line, b" -> ") {
        let (time, body) = split_received(&line[at + 4..])?;
        return Some((Some(time), Line::Rest(&line[..at], body)));
    }
    None
}

/// The venue an exchange URL belongs to.
fn venue_of_url(url: &[u8]) -> Option<Venue> {
    let url = std::str::from_utf8(url).ok()?;
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = after_scheme.split(['/', ':', '?']).next().unwrap_or_default();
    if host.contains("binance.us") {
        Some(Venue::BinanceUs)
    } else if host.contains("binance") {
        Some(if host.starts_with("fstream") || host.starts_with("fapi") {
            Venue::BinanceUsdm
        } else if host.starts_with("dstream") || host.starts_with("dapi") {
            Venue::BinanceCoinm
        } else {
            Venue::BinanceSpot
        })
    } else if host.contains("bybit") {
        let kind = |name: &str| {
            after_scheme.contains(&format!("/public/{name}")) || after_scheme.contains(&format!("category={name}"))
        };
        Some(if kind("spot") {
            Venue::BybitSpot
        } else if kind("inverse") {
            Venue::BybitInverse
        } else {
            Venue::BybitLinear
        })
    } else {
        None
    }
}

/// The `symbol=` query parameter of a REST URL.
fn symbol_of_url(url: &[u8]) -> Option<String> {
    let url = std::str::from_utf8(url).ok()?;
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|pair| pair.strip_prefix("symbol=")).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// One file of the merge, with its current line copied out.
struct Cursor {
    reader: LineReader,
    line: Vec<u8>,
    origin: Origin,
    time: UnixNanos,
    /// The venue of the WS connection (from the header), for received frames.
    ws_hint: FrameHint,
    done: bool,
}

impl Cursor {
    fn advance(&mut self) -> Result<(), VenueError> {
        match self.reader.next_line()? {
            Some((origin, line)) => {
                self.origin.clone_from(origin);
                self.line.clear();
                self.line.extend_from_slice(line);
                if let Some((Some(time), _)) = classify(&self.line) {
                    self.time = time;
                }
            }
            None => self.done = true,
        }
        Ok(())
    }
}

/// A cryptofeed format-1 session.
#[derive(Debug)]
pub struct CryptofeedSource {
    files: Vec<PathBuf>,
    scratch: Scratch,
}

impl CryptofeedSource {
    /// Opens a session; when a WS file's REST siblings (`<PREFIX>.http.*`, `<PREFIX>.0`,
    /// `<PREFIX>.<n>.0`) exist in its directory and were not given, they are added.
    ///
    /// # Errors
    /// [`VenueError::Session`] when `files` is empty, [`VenueError::Io`] when a directory can't be listed.
    pub fn open(files: Vec<PathBuf>) -> Result<Self, VenueError> {
        if files.is_empty() {
            return Err(VenueError::Session {
                origin: Origin { file: Arc::new(PathBuf::new()), line: 0 },
                reason: "a cryptofeed session needs at least one file".into(),
            });
        }
        let mut all = files.clone();
        for file in &files {
            for sibling in rest_siblings(file)? {
                if !all.contains(&sibling) {
                    all.push(sibling);
                }
            }
        }
        Ok(CryptofeedSource { files: all, scratch: Scratch::default() })
    }
}

fn rest_siblings(file: &Path) -> Result<Vec<PathBuf>, VenueError> {
    let Some(name) = file.file_name().and_then(|name| name.to_str()) else { return Ok(Vec::new()) };
    let Some((prefix, rest)) = name.split_once('.') else { return Ok(Vec::new()) };
    if !rest.starts_with("ws.") {
        return Ok(Vec::new());
    }
    let dir = file.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let entries = std::fs::read_dir(dir)
        .map_err(|source| VenueError::Io { origin: Origin { file: Arc::new(dir.to_path_buf()), line: 0 }, source })?;
    let mut siblings: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let Some(other) = path.file_name().and_then(|n| n.to_str()) else { return false };
            let Some(rest) = other.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) else { return false };
            let numbered =
                rest.strip_suffix(".0").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            path.is_file() && (rest.starts_with("http.") || rest == "0" || numbered)
        })
        .collect();
    siblings.sort();
    Ok(siblings)
}

impl Source for CryptofeedSource {
    fn format(&self) -> Format {
        Format::CryptofeedText
    }

    fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn read(&mut self, visitor: &mut dyn Visitor) -> Result<(), VenueError> {
        let mut cursors = Vec::with_capacity(self.files.len());
        for file in &self.files {
            let mut cursor = Cursor {
                reader: LineReader::new(std::slice::from_ref(file)),
                line: Vec::new(),
                origin: Origin { file: Arc::new(file.clone()), line: 0 },
                time: UnixNanos(0),
                ws_hint: FrameHint::default(),
                done: false,
            };
            cursor.advance()?;
            cursors.push(cursor);
        }
        let mut rest_hint = FrameHint::default();
        loop {
            // Earliest head; ties go to the file given first, so a file's own order is kept.
            let next = cursors.iter().enumerate().filter(|(_, c)| !c.done).min_by_key(|(index, c)| (c.time, *index));
            let Some((index, _)) = next else { return Ok(()) };
            let cursor = &mut cursors[index];
            handle_line(cursor, &mut rest_hint, &mut self.scratch, visitor)?;
            cursor.advance()?;
        }
    }
}

fn handle_line(
    cursor: &mut Cursor,
    rest_hint: &mut FrameHint,
    scratch: &mut Scratch,
    visitor: &mut dyn Visitor,
) -> Result<(), VenueError> {
    let origin = &cursor.origin;
    let Some((time, line)) = classify(&cursor.line) else {
        return visitor.bad_record(VenueError::malformed(
            origin.clone(),
            "cryptofeed",
            "expected `<epoch>: <json>`, `<url> <-> <epoch>`, `<url> <- <epoch>: <json>` or `<url> -> <epoch>: <body>`",
        ));
    };
    let time = time.unwrap_or(cursor.time);
    let (hint, json) = match line {
        Line::Blank => return Ok(()),
        Line::Sent => {
            visitor.control(origin, "sent frame");
            return Ok(());
        }
        Line::Configuration => {
            visitor.control(origin, "configuration");
            return Ok(());
        }
        Line::Connect(url) => {
            cursor.ws_hint = FrameHint { venue: venue_of_url(url), symbol: None };
            return Ok(());
        }
        Line::Received(json) => (&cursor.ws_hint, json),
        Line::Rest(url, body) => {
            rest_hint.venue = venue_of_url(url);
            rest_hint.symbol = symbol_of_url(url);
            (&*rest_hint, body)
        }
    };
    let format = if hint.venue.is_some_and(|venue| !venue.is_binance()) { "bybit" } else { "binance" };
    visit_frame(json, hint, scratch, visitor, origin, Some(time), format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds_are_exact() {
        assert_eq!(parse_epoch_seconds(b"1633998512.0633569"), Some(UnixNanos(1_633_998_512_063_356_900)));
        assert_eq!(parse_epoch_seconds(b"1626992741.06217"), Some(UnixNanos(1_626_992_741_062_170_000)));
        assert_eq!(parse_epoch_seconds(b"1633998511"), Some(UnixNanos(1_633_998_511_000_000_000)));
        assert_eq!(parse_epoch_seconds(b"1.1234567891"), Some(UnixNanos(1_123_456_789)));
        assert_eq!(parse_epoch_seconds(b"12a.5"), None);
        assert_eq!(parse_epoch_seconds(b".5"), None);
    }

    #[test]
    fn venues_and_symbols_from_urls() {
        let venue = |url: &str| venue_of_url(url.as_bytes());
        assert_eq!(venue("wss://stream.binance.com:9443/stream?streams=a"), Some(Venue::BinanceSpot));
        assert_eq!(venue("https://api.binance.com/api/v3/depth?symbol=X"), Some(Venue::BinanceSpot));
        assert_eq!(venue("wss://fstream.binance.com/stream"), Some(Venue::BinanceUsdm));
        assert_eq!(venue("https://fapi.binance.com/fapi/v1/depth"), Some(Venue::BinanceUsdm));
        assert_eq!(venue("wss://dstream.binance.com/stream"), Some(Venue::BinanceCoinm));
        assert_eq!(venue("https://dapi.binance.com/dapi/v1/depth"), Some(Venue::BinanceCoinm));
        assert_eq!(venue("wss://stream.binance.us:9443/stream"), Some(Venue::BinanceUs));
        assert_eq!(venue("https://api.binance.us/api/v3/depth"), Some(Venue::BinanceUs));
        assert_eq!(venue("wss://stream.bybit.com/v5/public/linear"), Some(Venue::BybitLinear));
        assert_eq!(venue("wss://stream.bybit.com/v5/public/spot"), Some(Venue::BybitSpot));
        assert_eq!(venue("wss://example.com/"), None);
        assert_eq!(
            symbol_of_url(b"https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000").as_deref(),
            Some("NKNUSDT")
        );
        assert_eq!(symbol_of_url(b"https://api.binance.com/api/v3/exchangeInfo"), None);
    }

    #[test]
    fn sniffs_all_line_shapes() {
        assert!(sniff(b"wss://stream.binance.com:9443/stream?streams=a <-> 1633998511.159679", "BINANCE.ws.1.0"));
        assert!(sniff(b"https://api.binance.com/api/v3/depth?symbol=A -> 1633998512.3: {}", "BINANCE.http.0.0"));
        assert!(sniff(br#"1633998512.0633569: {"stream":"x"}"#, "BINANCE.ws.1.0"));
        assert!(!sniff(br#"1633998512.0633569: {"stream":"x"}"#, "capture.txt"));
        assert!(!sniff(br#"1723161254087891268 {"stream":"x"}"#, "btcusdt_20240808.gz"));
    }
}
