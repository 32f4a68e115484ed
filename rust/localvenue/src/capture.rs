//! The captures to replay: sessions planned by the venues crate, their instruments with the precision
//! learned by a first pass ([`Pipeline::scan`]), and the frame hint each session is decoded with.
//!
//! Replayable containers keep the raw frames: hftbacktest collector files and Bybit archives (one venue
//! per session), and cryptofeed's JSONL records, whose connections may be of different markets (each
//! frame is served on the endpoint of its connection's market, learnt from its `connect` record).
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use ferrotrade_model::{Decimal, Instrument, Venue};
use ferrotrade_venues::pipeline::{Pipeline, PipelineOptions};
use ferrotrade_venues::source::collector::CollectorSource;
use ferrotrade_venues::source::{Format, FrameHint, bybit_archive, plan_sessions};

use crate::error::LocalVenueError;

/// One continuous recording to replay.
#[derive(Debug, Clone)]
pub(crate) struct SessionPlan {
    /// Collector or Bybit archive.
    pub format: Format,
    /// Files in reading order.
    pub files: Vec<PathBuf>,
    /// Venue (and symbol) the frames are decoded with; the venue also names the endpoint that serves them.
    pub hint: FrameHint,
    /// The endpoint family the frames are served on; `None` when each frame's connection tells
    /// (cryptofeed JSONL).
    pub venue: Option<Venue>,
}

/// Every session and instrument of the configured captures.
#[derive(Debug, Clone)]
pub(crate) struct Capture {
    pub sessions: Vec<SessionPlan>,
    pub instruments: Vec<Instrument>,
}

impl Capture {
    /// Plans and scans `paths` (blocking: reads every file once).
    ///
    /// # Errors
    /// Unknown or unsupported formats, unreadable files, frames that do not decode, and venues the local
    /// venue does not serve (Binance COIN-M and US, Bybit inverse).
    pub fn load(paths: &[PathBuf], cancel: &AtomicBool) -> Result<Capture, LocalVenueError> {
        let planned = plan_sessions(paths)?;
        let mut sessions = Vec::with_capacity(planned.len());
        for session in &planned {
            let Some(first) = session.files.first() else { continue };
            let hint = match session.format {
                Format::Collector => CollectorSource::open(session.files.clone())?.hint().clone(),
                Format::BybitArchive => FrameHint { venue: Some(bybit_archive::venue_from_path(first)), symbol: None },
                // Each frame's market comes from its connection.
                Format::CryptofeedJsonl => {
                    sessions.push(SessionPlan {
                        format: session.format,
                        files: session.files.clone(),
                        hint: FrameHint::default(),
                        venue: None,
                    });
                    continue;
                }
                other => {
                    return Err(LocalVenueError::Config(format!(
                        "{}: {} files carry no wire frames to replay (use collector captures, Bybit archives or \
                         cryptofeed JSONL records)",
                        first.display(),
                        other.as_str()
                    )));
                }
            };
            let venue = hint.venue.ok_or_else(|| {
                LocalVenueError::Config(format!("{}: the capture's venue cannot be told", first.display()))
            })?;
            if !served(venue) {
                return Err(LocalVenueError::Config(format!("{}: {venue} is not served locally", first.display())));
            }
            sessions.push(SessionPlan {
                format: session.format,
                files: session.files.clone(),
                hint,
                venue: Some(venue),
            });
        }
        let pipeline = Pipeline::scan(planned, PipelineOptions { skip_bad_records: true }, cancel)?;
        let instruments = pipeline.instruments().iter().filter(|i| served(i.id.venue)).cloned().collect();
        Ok(Capture { sessions, instruments })
    }
}

/// The venues the local venue has endpoints for.
pub(crate) fn served(venue: Venue) -> bool {
    matches!(venue, Venue::BinanceSpot | Venue::BinanceUsdm | Venue::BybitLinear | Venue::BybitSpot)
}

/// Quote assets recognised at the end of a symbol, longest first where one is a suffix of another.
const QUOTES: [&str; 10] = ["FDUSD", "USDT", "USDC", "BUSD", "TUSD", "EUR", "TRY", "BTC", "ETH", "BNB"];

/// `BTCUSDT` -> `("BTC", "USDT")`; symbols with no known quote asset are all base, quoted in `USDT`.
pub(crate) fn split_symbol(symbol: &str) -> (String, String) {
    for quote in QUOTES {
        if let Some(base) = symbol.strip_suffix(quote)
            && !base.is_empty()
        {
            return (base.to_owned(), quote.to_owned());
        }
    }
    (symbol.to_owned(), "USDT".to_owned())
}

/// The instrument's tick as a decimal (`0.01`).
pub(crate) fn tick_decimal(instrument: &Instrument) -> Decimal {
    Decimal::from_fixed(instrument.tick_size.0, instrument.price_precision)
}

/// The instrument's lot as a decimal (`0.001`).
pub(crate) fn lot_decimal(instrument: &Instrument) -> Decimal {
    Decimal::from_fixed(instrument.lot_size.0, instrument.size_precision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_symbols() {
        assert_eq!(split_symbol("BTCUSDT"), ("BTC".into(), "USDT".into()));
        assert_eq!(split_symbol("ETHBTC"), ("ETH".into(), "BTC".into()));
        assert_eq!(split_symbol("BTCFDUSD"), ("BTC".into(), "FDUSD".into()));
        assert_eq!(split_symbol("XYZ"), ("XYZ".into(), "USDT".into()));
    }
}
