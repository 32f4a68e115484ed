//! Recording containers, format detection, and grouping of input files into sessions.
//!
//! A **session** is one continuous recording: the files of a collector session split at midnight
//! (`btcusdt_20240808.gz`, then `btcusdt_20240809.gz`), a cryptofeed WS capture with its REST snapshot
//! file, or a `T_DEPTH` snapshot CSV with its update CSV. Each session is read by a [`Source`], which
//! decodes every record and hands it to a [`Visitor`]; sources can be read again (the pipeline reads each
//! session twice).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferrotrade_model::{UnixNanos, Venue};

use crate::decoded::{Decoded, InstrumentInfo, Scratch};
use crate::error::{Origin, VenueError};
use crate::{binance, bybit, files, lines};

pub mod bybit_archive;
pub mod collector;
pub mod cryptofeed;
pub mod cryptofeed_jsonl;

/// The container formats ferrotrade reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// hftbacktest collector: `<local_ts> <raw JSON>` per line, gzip or plain (Binance or Bybit frames).
    Collector,
    /// cryptofeed format 1: `*.ws.N.0` WS capture, `*.http.N.0` REST responses, `*.0` exchange info.
    CryptofeedText,
    /// cryptofeed format 2: JSONL of `{"t","conn","ts","data"}` records.
    CryptofeedJsonl,
    /// Bybit history archive (`*_ob500.data`): one v5 orderbook message per line.
    BybitArchive,
    /// data.binance.vision kline CSV (with or without header).
    BinanceKlineCsv,
    /// Binance historical `T_DEPTH` snapshot/update CSV.
    BinanceDepthCsv,
    /// tardis.dev CSV: `trades`, `quotes`, `book_snapshot_N`, `incremental_book_L2`.
    TardisCsv,
}

impl Format {
    /// A short name for reports.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Collector => "collector",
            Format::CryptofeedText => "cryptofeed",
            Format::CryptofeedJsonl => "cryptofeed-jsonl",
            Format::BybitArchive => "bybit-archive",
            Format::BinanceKlineCsv => "binance-kline-csv",
            Format::BinanceDepthCsv => "binance-depth-csv",
            Format::TardisCsv => "tardis-csv",
        }
    }
}

/// What a container knows about a frame beyond its bytes: the connection URL, a venue, a symbol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameHint {
    /// The venue, when the container tells (URL host, file name, or a sniff of the session).
    pub venue: Option<Venue>,
    /// The symbol, when the container tells (REST URL `symbol=`, single-symbol session).
    pub symbol: Option<String>,
}

/// A decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame<'a> {
    /// A market message of one instrument.
    Market(Decoded<'a>),
    /// Instrument specifications (exchange info).
    Instruments(Vec<InstrumentInfo>),
    /// A frame with no market content (subscription ack, pong, 24h ticker, unfinished kline); the
    /// string names what it was, for counting.
    Control(&'static str),
}

/// Receives what a [`Source`] reads.
pub trait Visitor {
    /// Instrument specifications found in the session (before or among the messages).
    fn instruments(&mut self, infos: &[InstrumentInfo]) {
        let _ = infos;
    }

    /// One market message, received at `ts_recv`.
    ///
    /// # Errors
    /// Whatever the visitor wants to stop the read with (e.g. [`VenueError::Interrupted`]).
    fn message(&mut self, origin: &Origin, ts_recv: UnixNanos, message: &Decoded<'_>) -> Result<(), VenueError>;

    /// A frame without market content.
    fn control(&mut self, origin: &Origin, what: &'static str) {
        let _ = (origin, what);
    }

    /// A record that could not be decoded. The default stops the read with the error; `verify` counts it
    /// and goes on.
    ///
    /// # Errors
    /// The error, to stop; `Ok` to continue with the next record.
    fn bad_record(&mut self, error: VenueError) -> Result<(), VenueError> {
        Err(error)
    }
}

/// A readable session.
pub trait Source: Send {
    /// The container format.
    fn format(&self) -> Format;

    /// The files, in reading order.
    fn files(&self) -> &[PathBuf];

    /// Reads the whole session from the start, handing every record to `visitor`.
    ///
    /// # Errors
    /// I/O errors, truncated gzip, and whatever `visitor` returns.
    fn read(&mut self, visitor: &mut dyn Visitor) -> Result<(), VenueError>;
}

/// Decodes one raw exchange frame (Binance or Bybit JSON), borrowing from `frame` and `scratch`.
///
/// # Errors
/// A reason string when the frame is not valid JSON or not a message of the venue.
pub fn decode_frame<'s>(frame: &'s [u8], hint: &FrameHint, scratch: &'s mut Scratch) -> Result<Frame<'s>, String> {
    let is_bybit = match hint.venue {
        Some(venue) => !venue.is_binance(),
        None => looks_like_bybit(frame),
    };
    if is_bybit { bybit::decode_frame(frame, hint, scratch) } else { binance::decode_frame(frame, hint, scratch) }
}

pub use crate::bybit::MultiError;

/// Decodes one raw exchange frame that may carry several messages (a Bybit `publicTrade` frame holds
/// every trade of one match; a linear ticker holds a quote and a mark), handing each to `on_frame`.
/// Containers use this rather than [`decode_frame`].
///
/// # Errors
/// [`MultiError::Decode`] when the frame can't be decoded (nothing was handed on), and
/// [`MultiError::Stopped`] with the callback's error when the callback stops.
pub fn decode_frames<'s, E>(
    frame: &'s [u8],
    hint: &FrameHint,
    scratch: &'s mut Scratch,
    on_frame: &mut impl FnMut(Frame<'_>) -> Result<(), E>,
) -> Result<(), MultiError<E>> {
    let is_bybit = match hint.venue {
        Some(venue) => !venue.is_binance(),
        None => looks_like_bybit(frame),
    };
    if is_bybit {
        bybit::decode_frame_multi(frame, hint, scratch, on_frame)
    } else {
        let decoded = binance::decode_frame(frame, hint, scratch).map_err(MultiError::Decode)?;
        on_frame(decoded).map_err(MultiError::Stopped)
    }
}

/// Decodes one frame and hands every message in it to `visitor`, received at `ts_recv` (or, for
/// containers that have no receive time, at each message's own `ts_event`); a frame that can't be
/// decoded is a bad record of `format` at `origin`. This is how every container delivers frames.
///
/// # Errors
/// Whatever `visitor` returns to stop the read.
pub(crate) fn visit_frame(
    frame: &[u8],
    hint: &FrameHint,
    scratch: &mut Scratch,
    visitor: &mut dyn Visitor,
    origin: &Origin,
    ts_recv: Option<UnixNanos>,
    format: &'static str,
) -> Result<(), VenueError> {
    let decoded = {
        let mut deliver = |decoded: Frame<'_>| match decoded {
            Frame::Market(message) => {
                visitor.message(origin, ts_recv.unwrap_or_else(|| message.payload.ts_event()), &message)
            }
            Frame::Instruments(infos) => {
                visitor.instruments(&infos);
                Ok(())
            }
            Frame::Control(what) => {
                visitor.control(origin, what);
                Ok(())
            }
        };
        decode_frames(frame, hint, scratch, &mut deliver)
    };
    match decoded {
        Ok(()) => Ok(()),
        Err(MultiError::Stopped(error)) => Err(error),
        Err(MultiError::Decode(reason)) => visitor.bad_record(VenueError::malformed(origin.clone(), format, reason)),
    }
}

/// Whether a JSON frame has Bybit v5's shape (`topic`, `retCode`, `op`, `success`) rather than Binance's.
#[must_use]
pub fn looks_like_bybit(frame: &[u8]) -> bool {
    let head = &frame[..frame.len().min(64)];
    ["\"topic\"", "\"retCode\"", "\"op\"", "\"success\"", "\"ret_msg\""]
        .iter()
        .any(|key| memchr::memmem::find(head, key.as_bytes()).is_some())
}

/// Recognizes the format of a file from its first line (and name).
///
/// # Errors
/// [`VenueError::UnknownFormat`] when no format matches, I/O errors when the file can't be read.
pub fn detect_format(path: &Path) -> Result<Format, VenueError> {
    let line = lines::first_line(path, 64 * 1024)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let detected = if collector::sniff(&line) {
        Some(Format::Collector)
    } else if cryptofeed::sniff(&line, &name) {
        Some(Format::CryptofeedText)
    } else if cryptofeed_jsonl::sniff(&line) {
        Some(Format::CryptofeedJsonl)
    } else if bybit_archive::sniff(&line) {
        Some(Format::BybitArchive)
    } else if files::tdepth::sniff(&line) {
        Some(Format::BinanceDepthCsv)
    } else if files::tardis::sniff(&line) {
        Some(Format::TardisCsv)
    } else if files::kline::sniff(&line) {
        Some(Format::BinanceKlineCsv)
    } else {
        None
    };
    detected.ok_or_else(|| VenueError::UnknownFormat {
        origin: Origin { file: Arc::new(path.to_path_buf()), line: 1 },
        reason: format!("first line starts with {:?}", String::from_utf8_lossy(&line[..line.len().min(80)])),
    })
}

/// A group of files read as one continuous recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The container format.
    pub format: Format,
    /// The files in reading order.
    pub files: Vec<PathBuf>,
}

impl Session {
    /// A source reading this session.
    ///
    /// # Errors
    /// When a companion file is missing or the session's venue or symbol can't be told.
    pub fn open(&self) -> Result<Box<dyn Source>, VenueError> {
        Ok(match self.format {
            Format::Collector => Box::new(collector::CollectorSource::open(self.files.clone())?),
            Format::CryptofeedText => Box::new(cryptofeed::CryptofeedSource::open(self.files.clone())?),
            Format::CryptofeedJsonl => Box::new(cryptofeed_jsonl::CryptofeedJsonlSource::open(self.files.clone())?),
            Format::BybitArchive => Box::new(bybit_archive::BybitArchiveSource::open(self.files.clone())?),
            Format::BinanceKlineCsv => Box::new(files::kline::KlineCsvSource::open(self.files.clone())?),
            Format::BinanceDepthCsv => Box::new(files::tdepth::DepthCsvSource::open(self.files.clone())?),
            Format::TardisCsv => Box::new(files::tardis::TardisCsvSource::open(self.files.clone())?),
        })
    }
}

/// Groups input paths into sessions: detects each file's format, then joins the files that continue one
/// recording (see the module docs). Directories are expanded to the files they hold (not recursively).
/// Sessions come out in a stable order (by first file name).
///
/// # Errors
/// The first file whose format can't be recognized or that can't be read.
pub fn plan_sessions(paths: &[PathBuf]) -> Result<Vec<Session>, VenueError> {
    let mut inputs: Vec<(PathBuf, Format)> = Vec::new();
    for path in expand(paths)? {
        if inputs.iter().any(|(seen, _)| seen == &path) {
            continue;
        }
        let format = detect_format(&path)?;
        inputs.push((path, format));
    }
    let mut groups: Vec<(Format, String, Vec<PathBuf>)> = Vec::new();
    for (path, format) in inputs {
        let key = session_key(&path, format);
        match groups.iter_mut().find(|(f, k, _)| *f == format && *k == key) {
            Some((_, _, files)) => files.push(path),
            None => groups.push((format, key, vec![path])),
        }
    }
    let mut sessions: Vec<Session> = groups
        .into_iter()
        .map(|(format, _, mut files)| {
            files.sort_by_key(|file| session_order(file, format));
            Session { format, files }
        })
        .collect();
    sessions.sort_by(|a, b| a.files.first().cmp(&b.files.first()));
    Ok(sessions)
}

fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, VenueError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|source| VenueError::Io {
                origin: Origin { file: Arc::new(path.clone()), line: 0 },
                source,
            })?;
            let mut children: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|child| child.is_file() && !is_hidden(child))
                .collect();
            children.sort();
            out.extend(children);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name.to_string_lossy().starts_with('.'))
}

/// Files with the same key (and format) belong to one session.
fn session_key(path: &Path, format: Format) -> String {
    let dir = path.parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = match format {
        // btcusdt_20240808.gz / btcusdt_20240809.gz / btcusdt_20230404.dat.gz
        Format::Collector => strip_date_suffix(&name),
        // BINANCE.ws.1.0, BINANCE.http.0.0 and BINANCE.0 share the exchange prefix.
        Format::CryptofeedText => name.split('.').next().unwrap_or_default().to_owned(),
        // btcusdt-depth-snap.csv / btcusdt-depth-update.csv
        Format::BinanceDepthCsv => name.replace("-snap", "").replace("-update", ""),
        // BTCUSDT-1h-2023-01.csv, BTCUSDT-1h-2023-02.csv: the months of one symbol and interval.
        Format::BinanceKlineCsv => strip_kline_period(&name),
        _ => name,
    };
    format!("{dir}/{stem}")
}

fn strip_kline_period(name: &str) -> String {
    let base = name.split('.').next().unwrap_or(name);
    let parts: Vec<&str> = base.split('-').collect();
    if parts.len() >= 4 && parts[2..].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        parts[..2].join("-")
    } else {
        base.to_owned()
    }
}

fn strip_date_suffix(name: &str) -> String {
    let base = name.split('.').next().unwrap_or(name);
    match base.rsplit_once('_') {
        Some((stem, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => stem.to_owned(),
        _ => base.to_owned(),
    }
}

/// Reading order inside a session: by name (dates sort), and a depth snapshot file before its updates.
fn session_order(path: &Path, format: Format) -> (u8, String) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let rank = u8::from(format == Format::BinanceDepthCsv && !name.contains("-snap"));
    (rank, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_keys_join_continuations() {
        let a = Path::new("/d/btcusdt_20240808.gz");
        let b = Path::new("/d/btcusdt_20240809.gz");
        let c = Path::new("/d/ethusdt_20240808.gz");
        assert_eq!(session_key(a, Format::Collector), session_key(b, Format::Collector));
        assert_ne!(session_key(a, Format::Collector), session_key(c, Format::Collector));
        assert_eq!(strip_date_suffix("btcusdt_20230404.dat.gz"), "btcusdt");
        assert_eq!(
            session_key(Path::new("/x/BINANCE.ws.1.0"), Format::CryptofeedText),
            session_key(Path::new("/x/BINANCE.http.0.0"), Format::CryptofeedText)
        );
        assert_ne!(
            session_key(Path::new("/x/BINANCE.ws.1.0"), Format::CryptofeedText),
            session_key(Path::new("/x/BINANCE_FUTURES.ws.1.0"), Format::CryptofeedText)
        );
        assert_eq!(strip_kline_period("BTCUSDT-1h-2023-01.csv"), "BTCUSDT-1h");
        assert_eq!(strip_kline_period("ADABTC-1m-2021-11-27.csv"), "ADABTC-1m");
        assert_eq!(strip_kline_period("prices.csv"), "prices");
        assert!(
            session_order(Path::new("btcusdt-depth-snap.csv"), Format::BinanceDepthCsv)
                < session_order(Path::new("btcusdt-depth-update.csv"), Format::BinanceDepthCsv)
        );
    }

    #[test]
    fn bybit_frames_are_told_apart() {
        assert!(looks_like_bybit(br#"{"topic":"orderbook.50.BTCUSDT","type":"delta"}"#));
        assert!(!looks_like_bybit(br#"{"stream":"btcusdt@depth@0ms","data":{}}"#));
    }
}
