//! hftbacktest collector recordings: `<local_ts> <raw exchange JSON>` per line, gzip or plain.
//!
//! A session is one or more files of one stream (`btcusdt_20240808.gz`, then `btcusdt_20240809.gz`),
//! read as one by [`LineReader`]. `local_ts` is the collector's receive time: nanoseconds in the 2024
//! recordings, microseconds in the 2023 `.dat.gz` ones, told apart by magnitude
//! ([`UnixNanos::from_any_unit`]).
//!
//! The frames are Binance (spot, USD-M, COIN-M) or Bybit JSON. The REST depth snapshot the collector
//! interleaves carries no symbol (except on COIN-M), so [`CollectorSource::open`] reads the first
//! [`SNIFF_LINES`] lines once to learn the session's venue and its single symbol, and hands them to the
//! decoder as a [`FrameHint`]. A session with several symbols falls back to the file name stem
//! (`btcusdt_20240808.gz` is `BTCUSDT`) when that names one of them; otherwise a symbol-less snapshot makes
//! the session unusable ([`VenueError::Session`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferrotrade_model::{UnixNanos, Venue};

use crate::decoded::{Payload, Scratch};
use crate::error::{Origin, VenueError};
use crate::lines::LineReader;
use crate::source::{Format, Frame, FrameHint, Source, Visitor, decode_frame, visit_frame};

/// How many lines [`CollectorSource::open`] reads to learn the session's venue and symbol.
pub const SNIFF_LINES: usize = 2000;

/// Whether a first line looks like a collector line: a timestamp of at least 10 digits, one space, `{`.
#[must_use]
pub fn sniff(line: &[u8]) -> bool {
    split_line(line).is_some_and(|(_, json)| json.first() == Some(&b'{'))
}

/// Splits `<digits> <json>` into the receive time and the frame.
fn split_line(line: &[u8]) -> Option<(UnixNanos, &[u8])> {
    let digits = line.iter().take_while(|byte| byte.is_ascii_digit()).count();
    if !(10..=20).contains(&digits) || line.get(digits) != Some(&b' ') {
        return None;
    }
    let mut value: u64 = 0;
    for byte in &line[..digits] {
        value = value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
    }
    Some((UnixNanos::from_any_unit(value), line.get(digits + 1..)?.trim_ascii()))
}

/// A collector session.
#[derive(Debug)]
pub struct CollectorSource {
    files: Vec<PathBuf>,
    hint: FrameHint,
    scratch: Scratch,
}

impl CollectorSource {
    /// Opens a session of `files` (in reading order) and learns its venue and symbol from its first lines.
    ///
    /// # Errors
    /// I/O or gzip errors while sniffing, [`VenueError::Session`] when `files` is empty or the session
    /// has several symbols and a REST snapshot whose symbol can't be told.
    pub fn open(files: Vec<PathBuf>) -> Result<Self, VenueError> {
        let Some(first) = files.first() else {
            return Err(VenueError::Session {
                origin: Origin { file: Arc::new(PathBuf::new()), line: 0 },
                reason: "a collector session needs at least one file".into(),
            });
        };
        let hint = sniff_session(&files, first)?;
        Ok(CollectorSource { files, hint, scratch: Scratch::default() })
    }

    /// The venue and symbol the session's frames are decoded with.
    #[must_use]
    pub fn hint(&self) -> &FrameHint {
        &self.hint
    }
}

impl Source for CollectorSource {
    fn format(&self) -> Format {
        Format::Collector
    }

    fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn read(&mut self, visitor: &mut dyn Visitor) -> Result<(), VenueError> {
        let CollectorSource { files, hint, scratch } = self;
        let frame_format = frame_format(hint.venue);
        let mut reader = LineReader::new(files);
        while let Some((origin, line)) = reader.next_line()? {
            if line.trim_ascii().is_empty() {
                continue;
            }
            let Some((ts_recv, json)) = split_line(line) else {
                visitor.bad_record(VenueError::malformed(
                    origin.clone(),
                    "collector",
                    "expected `<local_ts> <json>`",
                ))?;
                continue;
            };
            visit_frame(json, hint, scratch, visitor, origin, Some(ts_recv), frame_format)?;
        }
        Ok(())
    }
}

fn frame_format(venue: Option<Venue>) -> &'static str {
    match venue {
        Some(venue) if !venue.is_binance() => "bybit",
        _ => "binance",
    }
}

/// What the first lines of a session tell.
#[derive(Default)]
struct Sniffed {
    /// Venue of the first book diff (the most telling message), else of the first market message.
    diff_venue: Option<Venue>,
    any_venue: Option<Venue>,
    symbols: Vec<String>,
    snapshot_without_symbol: bool,
}

fn sniff_session(files: &[PathBuf], first: &Path) -> Result<FrameHint, VenueError> {
    let mut sniffed = Sniffed::default();
    let mut reader = LineReader::new(files);
    let mut scratch = Scratch::default();
    let no_hint = FrameHint::default();
    let mut read = 0;
    while read < SNIFF_LINES {
        // A truncated file is reported by `read`, after the lines before the cut.
        let line = match reader.next_line() {
            Ok(Some((_, line))) => line,
            Ok(None) | Err(VenueError::TruncatedGzip { .. }) => break,
            Err(error) => return Err(error),
        };
        read += 1;
        let Some((_, json)) = split_line(line) else { continue };
        match decode_frame(json, &no_hint, &mut scratch) {
            Ok(Frame::Market(decoded)) => {
                if let Payload::Book(book) = decoded.payload
                    && !book.is_snapshot
                {
                    sniffed.diff_venue = sniffed.diff_venue.or(Some(decoded.venue));
                }
                sniffed.any_venue = sniffed.any_venue.or(Some(decoded.venue));
                if !sniffed.symbols.iter().any(|seen| seen == decoded.symbol) {
                    sniffed.symbols.push(decoded.symbol.to_owned());
                }
            }
            Err(_) if memchr::memmem::find(json, b"\"lastUpdateId\"").is_some() => {
                sniffed.snapshot_without_symbol = true
            }
            _ => {}
        }
    }
    let venue = sniffed.diff_venue.or(sniffed.any_venue);
    let stem = file_stem_symbol(first);
    let symbol = match sniffed.symbols.as_slice() {
        [only] => Some(only.clone()),
        [] => stem,
        several => match stem.filter(|stem| several.iter().any(|seen| seen == stem)) {
            Some(stem) => Some(stem),
            None if sniffed.snapshot_without_symbol => {
                return Err(VenueError::Session {
                    origin: Origin { file: Arc::new(first.to_path_buf()), line: 0 },
                    reason: format!(
                        "the session holds several symbols ({}) and a REST depth snapshot without one; the file \
                         name does not tell which it belongs to",
                        several.join(", ")
                    ),
                });
            }
            None => None,
        },
    };
    Ok(FrameHint { venue, symbol })
}

/// `btcusd_perp_20240808.gz` -> `BTCUSD_PERP`, `btcusdt_20230404.dat.gz` -> `BTCUSDT`.
fn file_stem_symbol(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let base = name.split('.').next().unwrap_or(name);
    let stem = match base.rsplit_once('_') {
        Some((stem, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => stem,
        _ => base,
    };
    (!stem.is_empty()).then(|| stem.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_collector_lines() {
        assert!(sniff(br#"1723161254087891268 {"stream":"btcusdt@bookTicker","data":{}}"#));
        assert!(sniff(br#"1680652700423575 {"lastUpdateId": 1}"#));
        assert!(!sniff(br#"1633998512.0633569: {"stream":"x"}"#));
        assert!(!sniff(b"symbol,timestamp,first_update_id"));
        assert!(!sniff(b"12 {}"));
    }

    #[test]
    fn receive_time_units() {
        let (ns, json) = split_line(b"1723161254087891268 {}").unwrap();
        assert_eq!((ns, json), (UnixNanos(1_723_161_254_087_891_268), &b"{}"[..]));
        assert_eq!(split_line(b"1680652700423575 {}").unwrap().0, UnixNanos(1_680_652_700_423_575_000));
        assert!(split_line(b"99999999999999999999999 {}").is_none());
    }

    #[test]
    fn stems() {
        assert_eq!(file_stem_symbol(Path::new("/d/btcusd_perp_20240808.gz")).as_deref(), Some("BTCUSD_PERP"));
        assert_eq!(file_stem_symbol(Path::new("btcusdt_20230404.dat.gz")).as_deref(), Some("BTCUSDT"));
        assert_eq!(file_stem_symbol(Path::new("ethusdt.gz")).as_deref(), Some("ETHUSDT"));
    }
}
