//! Single-pass decoders for the books' messages: a compact `depthUpdate`, the message that dominates
//! every capture, and the REST depth snapshot a book is (re)built from.
//!
//! Why: the general path lets sonic-rs skip each level array (validating it) and then scans it again,
//! which costs about as much as the level parsing itself. These paths read a frame of exactly the shape
//! Binance sends, `{"stream":"..","data":{"e":"depthUpdate",..}}` or the bare payload, and
//! `{"lastUpdateId":..,"E":..,"T":..,"bids":[..],"asks":[..]}` (`E`/`T` on futures only), without
//! whitespace and with only the known keys, in one pass: the levels are parsed where they stand. A
//! snapshot of 1000 levels a side is 42 KB of JSON, and the quotes a market maker places when its book
//! first syncs wait for all of it.
//!
//! Two outputs: exact [`RawLevel`]s in the [`Scratch`] ([`decode_frame`](super::decode_frame), for any
//! reader), or, with [`decode_book`], the fixed-point levels of the frame's instrument straight in the
//! [`Converter`]'s buffers. The live feed takes the second for every book message: the precisions are
//! known once the symbol is read (it comes before the level arrays), so no second pass converts the
//! decimals and no vector of them is written. A `depthUpdate` that moves the quotes holds about 190
//! levels.
//!
//! It never decides an error: anything unexpected (another event, an unknown or repeated key, whitespace,
//! an escape, a number with a leading zero, a bad decimal, an unknown symbol, a value with more decimals
//! than the instrument's precision) returns `None`, and the frame goes through the general sonic-rs path,
//! which either decodes it or words the error. So this path only adds speed; the tests check both paths
//! give the same frame, and the same fixed-point update, on real captures.

use ferrotrade_model::{BookUpdate, UnixNanos, Venue};

use super::decode::infer_venue;
use super::levels::{Exact, Fixed, LevelForm, parse_levels_at};
use crate::decoded::{Decoded, Payload, RawBook, Scratch};
use crate::normalize::Converter;
use crate::source::{Frame, FrameHint};

const ENVELOPE_HEAD: &[u8] = b"{\"stream\":\"";
const DEPTH_HEAD: &[u8] = b"{\"e\":\"depthUpdate\"";
/// How every REST depth snapshot starts.
const SNAPSHOT_HEAD: &[u8] = b"{\"lastUpdateId\":";

/// A decoded book message whose levels are in the buffers it was given.
pub(crate) struct Depth<'s> {
    venue: Venue,
    /// The frame's symbol; `None`: the hint's (a REST snapshot names none).
    symbol: Option<&'s str>,
    book: RawBook<'static>,
}

impl<'s> Depth<'s> {
    /// The frame, borrowing the levels (and the hint's symbol, copied) from `scratch`.
    pub(crate) fn into_frame(self, scratch: &'s Scratch) -> Frame<'s> {
        let book = RawBook { bids: &scratch.bids, asks: &scratch.asks, ..self.book };
        let symbol = self.symbol.unwrap_or(scratch.symbol.as_str());
        Frame::Market(Decoded { venue: self.venue, symbol, payload: Payload::Book(book) })
    }
}

/// Decodes `frame`, received at `ts_recv`, straight to the fixed-point update of its instrument if it is
/// a compact `depthUpdate` or REST depth snapshot (the shapes Binance sends; a snapshot's symbol is the
/// `hint`'s) whose symbol `precisions` knows: it is given the symbol, once, and returns the instrument's
/// price and size precisions. The levels go into `converter`'s buffers. The update is returned as
/// received, before any sync rule, exactly as [`decode_frame`](super::decode_frame) and
/// [`Converter::convert`] would give it.
///
/// `None` (an unknown symbol, any other frame, or one the fast path leaves) sends the frame to
/// [`decode_frame`](super::decode_frame) and the converter, which decode it or word the error.
#[inline]
pub fn decode_book<'c>(
    frame: &[u8],
    hint: &FrameHint,
    ts_recv: UnixNanos,
    mut precisions: impl FnMut(&str) -> Option<(u8, u8)>,
    converter: &'c mut Converter,
) -> Option<BookUpdate<'c>> {
    let mut form = |symbol: &str| precisions(symbol).map(|(price, size)| Fixed { price, size });
    let Converter { bids, asks } = converter;
    let depth = match decode_depth(frame, hint, &mut form, bids, asks) {
        Some(depth) => depth,
        None => decode_snapshot(frame, hint, &mut form, bids, asks)?,
    };
    Some(converter.book_update(&depth.book, ts_recv))
}

/// Decodes `frame` if it is a compact `depthUpdate` or REST depth snapshot (whose symbol `hint` names),
/// its levels exact in `scratch` (and a snapshot's symbol copied into its `symbol`); `None` sends it to
/// the general path.
#[inline]
pub(crate) fn decode_exact<'s>(frame: &'s [u8], hint: &FrameHint, scratch: &mut Scratch) -> Option<Depth<'s>> {
    let mut exact = |_: &str| Some(Exact);
    let depth = match decode_depth(frame, hint, &mut exact, &mut scratch.bids, &mut scratch.asks) {
        Some(depth) => depth,
        None => {
            let depth = decode_snapshot(frame, hint, &mut exact, &mut scratch.bids, &mut scratch.asks)?;
            scratch.symbol.clear();
            scratch.symbol.push_str(hint.symbol.as_deref()?);
            depth
        }
    };
    Some(depth)
}

/// Decodes `frame` if it is a compact REST depth snapshot and `hint` names the symbol (the body does
/// not), pushing its levels, in the form `form` gives for that symbol, into `bids`/`asks` (emptied once
/// the head matched); `None` sends it to the general path. As there, the snapshot is a futures one when
/// it carries `E` or `T`.
#[inline]
fn decode_snapshot<F: LevelForm>(
    frame: &[u8],
    hint: &FrameHint,
    form: &mut impl FnMut(&str) -> Option<F>,
    bids: &mut Vec<F::Level>,
    asks: &mut Vec<F::Level>,
) -> Option<Depth<'static>> {
    let symbol = hint.symbol.as_deref()?;
    if !frame.starts_with(SNAPSHOT_HEAD) {
        return None;
    }
    let form = form(symbol)?;
    bids.clear();
    asks.clear();
    let mut reader = Reader { bytes: frame, at: SNAPSHOT_HEAD.len() };
    let last_id = reader.integer()?;
    let (mut event_time, mut transaction_time) = (None, None);
    let (mut seen_bids, mut seen_asks) = (false, false);
    while let Some(key) = reader.next_key()? {
        match key {
            b"E" if event_time.is_none() => event_time = Some(reader.integer()?),
            b"T" if transaction_time.is_none() => transaction_time = Some(reader.integer()?),
            b"bids" if !seen_bids => {
                reader.at = parse_levels_at(frame, reader.at, form, bids).ok()?;
                seen_bids = true;
            }
            b"asks" if !seen_asks => {
                reader.at = parse_levels_at(frame, reader.at, form, asks).ok()?;
                seen_asks = true;
            }
            _ => return None,
        }
    }
    if reader.at != frame.len() || !seen_bids || !seen_asks {
        return None;
    }
    let book = RawBook {
        ts_event: transaction_time.or(event_time).map_or(UnixNanos(0), UnixNanos::from_millis),
        first_sequence: last_id,
        sequence: last_id,
        prev_sequence: 0,
        is_snapshot: true,
        bids: &[],
        asks: &[],
    };
    let futures = event_time.is_some() || transaction_time.is_some();
    Some(Depth { venue: infer_venue(hint, symbol, false, futures), symbol: None, book })
}

/// Decodes `frame` if it is a compact `depthUpdate`, pushing its levels, in the form `form` gives for the
/// frame's symbol, into `bids`/`asks` (emptied once the head matched); `None` sends it to the general
/// path. The symbol must come before the level arrays, as Binance sends it.
#[inline]
fn decode_depth<'s, F: LevelForm>(
    frame: &'s [u8],
    hint: &FrameHint,
    form: &mut impl FnMut(&str) -> Option<F>,
    bids: &mut Vec<F::Level>,
    asks: &mut Vec<F::Level>,
) -> Option<Depth<'s>> {
    let mut reader = Reader { bytes: frame, at: 0 };
    let mut partial = false;
    if frame.starts_with(ENVELOPE_HEAD) {
        reader.at = ENVELOPE_HEAD.len() - 1;
        let stream = reader.string()?;
        partial = stream
            .split_once("@depth")
            .is_some_and(|(_, rest)| rest.as_bytes().first().is_some_and(u8::is_ascii_digit));
        reader.literal(b",\"data\":")?;
    }
    if !frame.get(reader.at..)?.starts_with(DEPTH_HEAD) {
        return None;
    }
    reader.at += DEPTH_HEAD.len();
    bids.clear();
    asks.clear();
    let mut fields = Fields::default();
    let mut chosen: Option<F> = None;
    let mut seen_b = false;
    let mut seen_a = false;
    while let Some(key) = reader.next_key()? {
        let slot = match key {
            b"E" => &mut fields.event_time,
            b"T" => &mut fields.transaction_time,
            b"U" => &mut fields.first_id,
            b"u" => &mut fields.last_id,
            b"pu" => &mut fields.prev_id,
            b"s" if fields.symbol.is_none() => {
                fields.symbol = Some(reader.string()?);
                continue;
            }
            b"ps" if !fields.has_pair => {
                reader.string()?;
                fields.has_pair = true;
                continue;
            }
            b"b" if !seen_b => {
                let form = match chosen {
                    Some(form) => form,
                    None => *chosen.insert(form(fields.symbol?)?),
                };
                reader.at = parse_levels_at(frame, reader.at, form, bids).ok()?;
                seen_b = true;
                continue;
            }
            b"a" if !seen_a => {
                let form = match chosen {
                    Some(form) => form,
                    None => *chosen.insert(form(fields.symbol?)?),
                };
                reader.at = parse_levels_at(frame, reader.at, form, asks).ok()?;
                seen_a = true;
                continue;
            }
            _ => return None,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(reader.integer()?);
    }
    if frame.starts_with(ENVELOPE_HEAD) {
        reader.byte().filter(|byte| *byte == b'}')?;
    }
    if reader.at != frame.len() || !seen_b || !seen_a {
        return None;
    }
    let symbol = fields.symbol?;
    let book = RawBook {
        ts_event: fields.transaction_time.or(fields.event_time).map_or(UnixNanos(0), UnixNanos::from_millis),
        first_sequence: fields.first_id?,
        sequence: fields.last_id?,
        prev_sequence: fields.prev_id.unwrap_or(0),
        is_snapshot: partial,
        bids: &[],
        asks: &[],
    };
    let venue = infer_venue(hint, symbol, fields.has_pair, fields.prev_id.is_some());
    Some(Depth { venue, symbol: Some(symbol), book })
}

#[derive(Default)]
struct Fields<'s> {
    event_time: Option<u64>,
    transaction_time: Option<u64>,
    first_id: Option<u64>,
    last_id: Option<u64>,
    prev_id: Option<u64>,
    symbol: Option<&'s str>,
    has_pair: bool,
}

struct Reader<'s> {
    bytes: &'s [u8],
    at: usize,
}

impl<'s> Reader<'s> {
    #[inline]
    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    /// The next key of an object whose first member has been read: `Some(Some(key))` after `,"key":`,
    /// `Some(None)` at the closing `}`, `None` for anything else. A key with an escape is returned as
    /// written, so it matches no known key.
    #[inline]
    fn next_key(&mut self) -> Option<Option<&'s [u8]>> {
        match self.byte()? {
            b',' => {}
            b'}' => return Some(None),
            _ => return None,
        }
        self.byte().filter(|byte| *byte == b'"')?;
        let start = self.at;
        let end = start + memchr::memchr(b'"', self.bytes.get(start..)?)?;
        self.at = end + 1;
        self.byte().filter(|byte| *byte == b':')?;
        Some(Some(&self.bytes[start..end]))
    }

    #[inline]
    fn literal(&mut self, text: &[u8]) -> Option<()> {
        self.bytes.get(self.at..)?.starts_with(text).then(|| self.at += text.len())
    }

    /// A string without escapes or control characters.
    #[inline]
    fn string(&mut self) -> Option<&'s str> {
        self.byte().filter(|byte| *byte == b'"')?;
        let start = self.at;
        let length = memchr::memchr(b'"', self.bytes.get(start..)?)?;
        let text = &self.bytes[start..start + length];
        if text.iter().any(|byte| *byte == b'\\' || *byte < b' ') {
            return None;
        }
        self.at = start + length + 1;
        std::str::from_utf8(text).ok()
    }

    /// A JSON unsigned integer that fits a `u64` (no leading zero, no fraction).
    #[inline]
    fn integer(&mut self) -> Option<u64> {
        let start = self.at;
        let mut value: u64 = 0;
        while let Some(digit) = self.bytes.get(self.at).map(|byte| byte.wrapping_sub(b'0')).filter(|digit| *digit < 10)
        {
            value = value.checked_mul(10)?.checked_add(u64::from(digit))?;
            self.at += 1;
        }
        let length = self.at - start;
        let leading_zero = length > 1 && self.bytes[start] == b'0';
        (length > 0 && !leading_zero && !matches!(self.bytes.get(self.at), Some(b'.' | b'e' | b'E'))).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::binance::decode::decode_general;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/");

    fn fast(frame: &[u8]) -> Option<String> {
        let mut scratch = Scratch::default();
        let depth = decode_exact(frame, &FrameHint::default(), &mut scratch)?;
        Some(format!("{:?}", depth.into_frame(&scratch)))
    }

    fn general(frame: &[u8]) -> String {
        let mut scratch = Scratch::default();
        format!("{:?}", decode_general(frame, &FrameHint::default(), &mut scratch))
    }

    fn real_frames() -> Vec<Vec<u8>> {
        let mut frames: Vec<Vec<u8>> = Vec::new();
        let text = std::fs::read_to_string(format!("{DATA}binance/frames.txt")).unwrap();
        frames.extend(text.lines().map(|line| line.split_once('\t').unwrap().1.as_bytes().to_vec()));
        let text = std::fs::read_to_string(format!("{DATA}binance/usdm_btcusdt_depth_200.jsonl")).unwrap();
        frames.extend(text.lines().map(|line| line.as_bytes().to_vec()));
        for name in ["collector/btcusdt_20240808.gz", "collector/btcusdt_20230404.dat.gz"] {
            let mut text = String::new();
            let file = std::fs::File::open(format!("{DATA}{name}")).unwrap();
            flate2::read::MultiGzDecoder::new(file).read_to_string(&mut text).unwrap();
            frames.extend(text.lines().map(|line| line.split_once(' ').unwrap().1.as_bytes().to_vec()));
        }
        frames
    }

    #[test]
    fn both_paths_agree_on_real_frames() {
        let mut fast_depth = 0;
        let mut depth = 0;
        for frame in real_frames() {
            let general = general(&frame);
            if memchr::memmem::find(&frame, b"\"depthUpdate\"").is_some() {
                depth += 1;
            }
            if let Some(fast) = fast(&frame) {
                fast_depth += 1;
                assert_eq!(format!("Ok({fast})"), general, "{}", String::from_utf8_lossy(&frame));
            }
        }
        // 3 in frames.txt, 200, and 187 + 854 in the collector extracts: all compact.
        assert_eq!((fast_depth, depth), (1244, 1244));
    }

    fn hinted(symbol: &str) -> FrameHint {
        FrameHint { venue: None, symbol: Some(symbol.into()) }
    }

    fn fast_snapshot(frame: &[u8], hint: &FrameHint) -> Option<String> {
        let mut scratch = Scratch::default();
        let depth = decode_exact(frame, hint, &mut scratch)?;
        Some(format!("Ok({:?})", depth.into_frame(&scratch)))
    }

    fn general_hinted(frame: &[u8], hint: &FrameHint) -> String {
        let mut scratch = Scratch::default();
        format!("{:?}", decode_general(frame, hint, &mut scratch))
    }

    /// Every real REST depth snapshot at hand, with the symbol its request named: the two in frames.txt
    /// (spot RUNEEUR, COIN-M LINKUSD_PERP), the spot and USD-M collector extracts' (BTCUSDT) and
    /// cryptofeed's spot and USD-M HTTP captures (`URL -> time: body`).
    fn real_snapshots() -> Vec<(String, Vec<u8>)> {
        let text = std::fs::read_to_string(format!("{DATA}binance/frames.txt")).unwrap();
        let mut snapshots: Vec<(String, Vec<u8>)> = text
            .lines()
            .filter_map(|line| match line.split_once('\t').unwrap() {
                ("spot_rest_snapshot", body) => Some(("RUNEEUR".to_owned(), body.as_bytes().to_vec())),
                ("coinm_rest_snapshot", body) => Some(("LINKUSD_PERP".to_owned(), body.as_bytes().to_vec())),
                _ => None,
            })
            .collect();
        for name in ["collector/btcusdt_20240808.gz", "collector/btcusdt_20230404.dat.gz"] {
            let mut text = String::new();
            let file = std::fs::File::open(format!("{DATA}{name}")).unwrap();
            flate2::read::MultiGzDecoder::new(file).read_to_string(&mut text).unwrap();
            let bodies = text.lines().map(|line| line.split_once(' ').unwrap().1);
            snapshots.extend(
                bodies
                    .filter(|body| body.starts_with("{\"lastUpdateId\""))
                    .map(|body| ("BTCUSDT".to_owned(), body.into())),
            );
        }
        for name in ["BINANCE.http.0.0", "BINANCE_FUTURES.http.0.0"] {
            let text = std::fs::read_to_string(format!("{DATA}cryptofeed/{name}")).unwrap();
            for line in text.lines().filter(|line| !line.is_empty()) {
                let (url, rest) = line.split_once(" -> ").unwrap();
                let body = rest.split_once(": ").unwrap().1;
                let symbol = url.split_once("symbol=").unwrap().1.split('&').next().unwrap();
                snapshots.push((symbol.to_owned(), body.as_bytes().to_vec()));
            }
        }
        snapshots
    }

    #[test]
    fn both_paths_agree_on_real_snapshots() {
        let (mut fast, mut futures) = (0, 0);
        let snapshots = real_snapshots();
        for (symbol, frame) in &snapshots {
            let hint = hinted(symbol);
            let general = general_hinted(frame, &hint);
            assert!(general.starts_with("Ok(Market"), "{symbol}: {general}");
            // COIN-M snapshots also carry `symbol` and `pair`, and the 2023 USD-M one was rewritten with
            // spaces after the separators: the general path reads those.
            let Some(text) = fast_snapshot(frame, &hint) else {
                let frame = String::from_utf8_lossy(frame);
                assert!(frame.contains("\"pair\":") || frame.contains(", "), "{symbol}");
                continue;
            };
            assert_eq!(text, general, "{symbol}");
            fast += 1;
            futures += usize::from(text.contains("BinanceUsdm"));
        }
        // frames.txt 2, the collector extracts 1 each, cryptofeed 4 spot and 4 USD-M.
        assert_eq!((snapshots.len(), fast, futures), (12, 10, 4), "E/T mark the USD-M snapshots");
        // Without a symbol from the request, the general path words the error.
        assert!(fast_snapshot(&snapshots[0].1, &FrameHint::default()).is_none());
    }

    /// `decode_book`'s update and the one the general path and the converter give, as text, at the
    /// precisions `(price, size)`: `None` where the fast path left the frame, `Err` where conversion
    /// failed.
    fn fixed_and_converted(
        frame: &[u8],
        hint: &FrameHint,
        (price, size): (u8, u8),
    ) -> (Option<String>, Result<String, String>) {
        let instrument = |symbol: &str| {
            ferrotrade_model::Instrument::with_precisions(
                ferrotrade_model::InstrumentId::new(Venue::BinanceUsdm, symbol),
                price,
                size,
            )
        };
        let origin = crate::Origin::new(&std::sync::Arc::new("test".into()), 0);
        let ts_recv = UnixNanos(1_723_075_200_000_000_000);
        let mut fixed_converter = Converter::default();
        let mut asked = Vec::new();
        let fixed = decode_book(
            frame,
            hint,
            ts_recv,
            |symbol| {
                asked.push(symbol.to_owned());
                Some((price, size))
            },
            &mut fixed_converter,
        )
        .map(|update| format!("{update:?}"));
        assert!(asked.len() <= 1, "the precisions are asked once: {asked:?}");
        let mut scratch = Scratch::default();
        let mut converter = Converter::default();
        let converted = match decode_general(frame, hint, &mut scratch) {
            Ok(Frame::Market(decoded)) => converter
                .convert(&origin, &instrument(decoded.symbol), ts_recv, &decoded.payload)
                .map(|event| match event {
                    ferrotrade_model::MarketEvent::Book(update) => format!("{update:?}"),
                    other => format!("not a book: {other:?}"),
                })
                .map_err(|error| error.to_string()),
            other => Err(format!("{other:?}")),
        };
        (fixed, converted)
    }

    /// On every real book message at hand, at precisions that hold every value, at the instruments' own
    /// and at ones too small for some: the fixed-point fast path gives the converter's update whenever it
    /// takes a frame, and takes every frame the exact fast path takes unless a value has more decimals
    /// than the precision (which the converter then refuses).
    #[test]
    fn fixed_levels_equal_the_converted_ones_on_real_frames() {
        let mut frames: Vec<(FrameHint, Vec<u8>)> =
            real_frames().into_iter().map(|frame| (FrameHint::default(), frame)).collect();
        frames.extend(real_snapshots().into_iter().map(|(symbol, frame)| (hinted(&symbol), frame)));
        for (precisions, taken_expected, refused_expected) in
            // 1244 depthUpdates and 10 compact snapshots; at USD-M BTCUSDT's (1, 3) the 198 spot messages
            // (8 decimals, some not zeros) are refused.
            [((8, 8), 1254, 0), ((1, 3), 1056, 198), ((0, 0), 0, 1254)]
        {
            let (mut taken, mut refused) = (0, 0);
            for (hint, frame) in &frames {
                let (fixed, converted) = fixed_and_converted(frame, hint, precisions);
                let exact = decode_exact(frame, hint, &mut Scratch::default()).is_some();
                match fixed {
                    Some(fixed) => {
                        assert_eq!(Ok(fixed), converted, "{precisions:?}: {}", String::from_utf8_lossy(frame));
                        taken += 1;
                    }
                    None if exact => {
                        assert!(converted.is_err(), "{precisions:?} left: {}", String::from_utf8_lossy(frame));
                        refused += 1;
                    }
                    None => {}
                }
            }
            assert_eq!((taken, refused), (taken_expected, refused_expected), "{precisions:?}");
        }
        // A symbol the reader does not know leaves the frame to the general path.
        let frame = &frames[3].1;
        assert!(decode_book(frame, &frames[3].0, UnixNanos(0), |_| None, &mut Converter::default()).is_none());
    }

    #[test]
    fn unusual_snapshots_go_to_the_general_path() {
        let frame = r#"{"lastUpdateId":7,"E":1,"T":2,"bids":[["1.5","2"]],"asks":[["1.6","3"]]}"#;
        let hint = hinted("BTCUSDT");
        assert_eq!(fast_snapshot(frame.as_bytes(), &hint), Some(general_hinted(frame.as_bytes(), &hint)));
        for (from, to) in [
            ("\"E\":1,", "\"E\": 1,"),
            ("\"E\":1,", "\"E\":1,\"E\":1,"),
            ("\"E\":1,", "\"symbol\":\"BTCUSDT\","),
            (":7,", ":07,"),
            (":7,", ":7.0,"),
            ("\"asks\":[[\"1.6\",\"3\"]]", "\"asks\":[[\"1.6\",3]]"),
            (",\"asks\":[[\"1.6\",\"3\"]]", ""),
            ("}", "} "),
        ] {
            let changed = frame.replacen(from, to, 1);
            assert!(fast_snapshot(changed.as_bytes(), &hint).is_none(), "{changed}");
        }
    }

    #[test]
    fn anything_unusual_goes_to_the_general_path() {
        let frame = r#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1,"T":2,"s":"BTCUSDT","U":3,"u":4,"pu":2,"b":[["1.5","2"]],"a":[]}}"#;
        assert!(fast(frame.as_bytes()).is_some());
        let raw = &frame[frame.find("{\"e\"").unwrap()..frame.len() - 1];
        assert!(fast(raw.as_bytes()).is_some(), "{raw}");
        for (from, to) in [
            ("\"E\":1,", "\"E\": 1,"),
            ("\"E\":1,", "\"E\":1,\"E\":1,"),
            ("\"E\":1,", "\"E\":01,"),
            ("\"E\":1,", "\"E\":1.5,"),
            ("\"E\":1,", "\"E\":1,\"x\":1,"),
            ("\"U\":3,", ""),
            ("BTCUSDT", "BTC\\u0055SDT"),
            ("\"1.5\"", "\"1.x\""),
            ("\"b\":[[\"1.5\",\"2\"]],", ""),
            ("depthUpdate", "depthUpdatf"),
            ("}}", "} }"),
            ("}}", "}}x"),
        ] {
            let changed = frame.replacen(from, to, 1);
            assert!(fast(changed.as_bytes()).is_none(), "{changed}");
        }
        // E is optional on both paths.
        let without_e = frame.replacen("\"E\":1,", "", 1);
        assert_eq!(fast(without_e.as_bytes()).map(|fast| format!("Ok({fast})")), Some(general(without_e.as_bytes())));
    }
}
