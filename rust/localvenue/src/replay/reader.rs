//! The reading side of a replay: a plain thread that decompresses and decodes one session and hands
//! each frame, with its original bytes and its fixed-point market content, to the async dispatcher.
//!
//! Reading runs on its own thread because gzip and JSON decoding are CPU work that would stall the
//! server's runtime under [`crate::Speed::Max`]. The channel to the dispatcher is bounded, so the reader
//! never runs more than [`READ_AHEAD`] frames ahead and memory stays bounded whatever the capture size.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::ws::Utf8Bytes;
use ferrotrade_model::{Instrument, Level, MarketEvent, Trade, UnixNanos, UpdateHeader, Venue};
use ferrotrade_venues::VenueError;
use ferrotrade_venues::decoded::Scratch;
use ferrotrade_venues::lines::LineReader;
use ferrotrade_venues::normalize::Converter;
use ferrotrade_venues::source::cryptofeed_jsonl::RecordReader;
use ferrotrade_venues::source::{Format, Frame, FrameHint, MultiError, decode_frames};
use tokio::sync::mpsc;

use crate::capture::SessionPlan;

/// Frames decoded ahead of the dispatcher.
pub(crate) const READ_AHEAD: usize = 1024;

/// Where a recorded frame is served: the endpoint family and the stream (Binance) or topic (Bybit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub venue: Venue,
    pub channel: String,
    /// Byte range of the raw payload inside a Binance combined-stream envelope (for `/ws/<stream>`).
    pub payload: Option<(usize, usize)>,
}

/// A book message in owned, fixed-point form.
#[derive(Debug, Clone)]
pub(crate) struct OwnedBook {
    pub header: UpdateHeader,
    pub is_snapshot: bool,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

/// The market content of a frame.
#[derive(Debug, Clone)]
pub(crate) enum ReplayEvent {
    Book { instrument: usize, book: OwnedBook },
    Trade { instrument: usize, trade: Trade },
}

/// One recorded frame.
#[derive(Debug, Clone)]
pub(crate) struct ReplayItem {
    /// The recorder's receive time (the archive's `ts` for Bybit archives): the replay clock.
    pub ts_recv: UnixNanos,
    /// `None` for frames no subscriber gets (the collector's REST snapshots).
    pub route: Option<Route>,
    /// The frame exactly as recorded.
    pub frame: Utf8Bytes,
    pub events: Vec<ReplayEvent>,
}

/// What the reader saw, reported when it ends.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadReport {
    pub frames: u64,
    pub bad_records: u64,
    pub error: Option<String>,
}

/// Reads `session` to `tx` until the end, a closed channel or `cancel`.
pub(crate) fn read_session(
    session: &SessionPlan,
    instruments: &[Instrument],
    tx: &mpsc::Sender<ReplayItem>,
    cancel: &AtomicBool,
) -> ReadReport {
    let mut report = ReadReport::default();
    let mut reader = LineReader::new(&session.files);
    let mut scratch = Scratch::default();
    let mut converter = Converter::default();
    // cryptofeed JSONL: the records' frames are unescaped here, with their connection's market.
    let mut records = (session.format == Format::CryptofeedJsonl).then(RecordReader::default);
    let mut unescaped = Vec::new();
    let mut record_hint: FrameHint;
    loop {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let (origin, line) = match reader.next_line() {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(error) => {
                report.error = Some(error.to_string());
                break;
            }
        };
        let origin = origin.clone();
        let (ts_recv, json, hint, venue) = match records.as_mut() {
            Some(records) => match records.read(line, &mut unescaped) {
                Ok(Some(read)) => {
                    // Only frames pushed on a connection are served; a REST answer (instruments-info) is not.
                    let venue = read.hint.venue.filter(|venue| read.pushed && crate::capture::served(*venue));
                    record_hint = read.hint;
                    (Some(read.ts_recv), unescaped.as_slice(), &record_hint, venue)
                }
                Ok(None) => continue,
                Err(_) => {
                    report.bad_records += 1;
                    continue;
                }
            },
            None => {
                let Some((ts_recv, json)) = split_record(session.format, line) else { continue };
                (ts_recv, json, &session.hint, session.venue)
            }
        };
        let mut events = Vec::new();
        let decoded = decode_frames(json, hint, &mut scratch, &mut |frame: Frame<'_>| {
            collect(&mut events, &mut converter, &origin, instruments, ts_recv, &frame)
        });
        if let Err(error) = decoded {
            report.bad_records += 1;
            if let MultiError::Stopped(error) = error {
                report.error.get_or_insert_with(|| error.to_string());
            }
            continue;
        }
        let ts_recv = ts_recv.or_else(|| events.first().map(event_time)).unwrap_or(UnixNanos(0));
        let Ok(text) = std::str::from_utf8(json) else {
            report.bad_records += 1;
            continue;
        };
        let route = venue.and_then(|venue| route_of(venue, text));
        let item = ReplayItem { ts_recv, route, frame: Utf8Bytes::from(text.to_owned()), events };
        report.frames += 1;
        if tx.blocking_send(item).is_err() {
            break;
        }
    }
    report
}

/// `(receive time, frame)` of one line; archive lines have no receive time.
fn split_record(format: Format, line: &[u8]) -> Option<(Option<UnixNanos>, &[u8])> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return None;
    }
    if format != Format::Collector {
        return Some((None, line));
    }
    let digits = line.iter().take_while(|byte| byte.is_ascii_digit()).count();
    let stamp = std::str::from_utf8(&line[..digits]).ok()?.parse::<u64>().ok()?;
    Some((Some(UnixNanos::from_any_unit(stamp)), line.get(digits + 1..)?.trim_ascii()))
}

fn event_time(event: &ReplayEvent) -> UnixNanos {
    match event {
        ReplayEvent::Book { book, .. } => book.header.ts_event,
        ReplayEvent::Trade { trade, .. } => trade.ts_event,
    }
}

fn collect(
    events: &mut Vec<ReplayEvent>,
    converter: &mut Converter,
    origin: &ferrotrade_venues::Origin,
    instruments: &[Instrument],
    ts_recv: Option<UnixNanos>,
    frame: &Frame<'_>,
) -> Result<(), VenueError> {
    let Frame::Market(message) = frame else { return Ok(()) };
    let Some(index) = instruments
        .iter()
        .position(|i| i.id.venue == message.venue && i.id.symbol.eq_ignore_ascii_case(message.symbol))
    else {
        return Ok(());
    };
    let ts_recv = ts_recv.unwrap_or_else(|| message.payload.ts_event());
    match converter.convert(origin, &instruments[index], ts_recv, &message.payload)? {
        MarketEvent::Book(update) => events.push(ReplayEvent::Book {
            instrument: index,
            book: OwnedBook {
                header: update.header,
                is_snapshot: update.is_snapshot,
                bids: update.bids.to_vec(),
                asks: update.asks.to_vec(),
            },
        }),
        MarketEvent::Trade(trade) => events.push(ReplayEvent::Trade { instrument: index, trade }),
        _ => {}
    }
    Ok(())
}

/// The stream or topic a frame belongs to: Binance's combined-stream `"stream"` key, Bybit's `"topic"`.
fn route_of(venue: Venue, text: &str) -> Option<Route> {
    let key = if venue.is_binance() { "\"stream\"" } else { "\"topic\"" };
    let at = text.find(key)?;
    let rest = text[at + key.len()..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let channel = &rest[..rest.find('"')?];
    let payload = venue.is_binance().then(|| payload_range(text)).flatten();
    Some(Route { venue, channel: channel.to_owned(), payload })
}

/// The byte range of `<raw>` in `{"stream":"..","data":<raw>}` (the recorded key order).
fn payload_range(text: &str) -> Option<(usize, usize)> {
    let key = "\"data\":";
    let start = text.find(key)? + key.len();
    let end = text.trim_end().strip_suffix('}')?.len();
    (start < end).then_some((start, end))
}

/// Spawns the reader thread of one session.
///
/// # Errors
/// When the OS refuses a thread.
pub(crate) fn spawn(
    session: SessionPlan,
    instruments: Arc<Vec<Instrument>>,
    cancel: Arc<AtomicBool>,
) -> std::io::Result<(mpsc::Receiver<ReplayItem>, std::thread::JoinHandle<ReadReport>)> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    let handle = std::thread::Builder::new()
        .name("localvenue-replay".into())
        .spawn(move || read_session(&session, &instruments, &tx, &cancel))?;
    Ok((rx, handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_binance_envelopes_and_bybit_topics() {
        let text = r#"{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT"}}"#;
        let route = route_of(Venue::BinanceUsdm, text).expect("route");
        assert_eq!(route.channel, "btcusdt@trade");
        let (start, end) = route.payload.expect("payload");
        assert_eq!(&text[start..end], r#"{"e":"trade","s":"BTCUSDT"}"#);
        assert!(route_of(Venue::BinanceUsdm, r#"{"lastUpdateId":1}"#).is_none());
        let bybit = r#"{"topic":"orderbook.500.XRPUSDT","type":"delta"}"#;
        assert_eq!(route_of(Venue::BybitLinear, bybit).expect("topic").channel, "orderbook.500.XRPUSDT");
    }

    #[test]
    fn splits_collector_lines() {
        let (ts, json) = split_record(Format::Collector, b"1723161255030314667 {\"a\":1}").expect("line");
        assert_eq!((ts, json), (Some(UnixNanos(1_723_161_255_030_314_667)), &b"{\"a\":1}"[..]));
        assert_eq!(split_record(Format::BybitArchive, b"{\"topic\":1}").expect("line").0, None);
    }
}
