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
//! It never decides an error: anything unexpected (another event, an unknown or repeated key, whitespace,
//! an escape, a number with a leading zero, a bad decimal) returns `None`, and the frame goes through the
//! general sonic-rs path, which either decodes it or words the error. So this path only adds speed; the
//! tests check both paths give the same frame on real captures.

use ferrotrade_model::{UnixNanos, Venue};

use super::decode::infer_venue;
use super::levels::parse_levels_at;
use crate::decoded::{Decoded, Payload, RawBook, RawLevel, Scratch};
use crate::source::{Frame, FrameHint};

const ENVELOPE_HEAD: &[u8] = b"{\"stream\":\"";
const DEPTH_HEAD: &[u8] = b"{\"e\":\"depthUpdate\"";
/// How every REST depth snapshot starts.
const SNAPSHOT_HEAD: &[u8] = b"{\"lastUpdateId\":";

/// A decoded book message whose levels are in the scratch buffers it was given.
pub(crate) struct Depth<'s> {
    venue: Venue,
    /// The frame's symbol; `None`: the hint's, copied into the scratch (a REST snapshot names none).
    symbol: Option<&'s str>,
    book: RawBook<'static>,
}

impl<'s> Depth<'s> {
    /// The frame, borrowing the levels (and a copied symbol) from `scratch`.
    pub(crate) fn into_frame(self, scratch: &'s Scratch) -> Frame<'s> {
        let book = RawBook { bids: &scratch.bids, asks: &scratch.asks, ..self.book };
        let symbol = self.symbol.unwrap_or(scratch.symbol.as_str());
        Frame::Market(Decoded { venue: self.venue, symbol, payload: Payload::Book(book) })
    }
}

/// Decodes `frame` if it is a compact REST depth snapshot and `hint` names the symbol (the body does
/// not), pushing its levels into the scratch's buffers (emptied once the head matched) and the symbol
/// into its `symbol`; `None` sends it to the general path. As there, the snapshot is a futures one
/// when it carries `E` or `T`.
#[inline]
pub(crate) fn decode_snapshot(frame: &[u8], hint: &FrameHint, scratch: &mut Scratch) -> Option<Depth<'static>> {
    let symbol = hint.symbol.as_deref()?;
    if !frame.starts_with(SNAPSHOT_HEAD) {
        return None;
    }
    scratch.clear_levels();
    let mut reader = Reader { bytes: frame, at: SNAPSHOT_HEAD.len() };
    let last_id = reader.integer()?;
    let (mut event_time, mut transaction_time) = (None, None);
    let (mut seen_bids, mut seen_asks) = (false, false);
    while let Some(key) = reader.next_key()? {
        match key {
            b"E" if event_time.is_none() => event_time = Some(reader.integer()?),
            b"T" if transaction_time.is_none() => transaction_time = Some(reader.integer()?),
            b"bids" if !seen_bids => {
                reader.at = parse_levels_at(frame, reader.at, &mut scratch.bids).ok()?;
                seen_bids = true;
            }
            b"asks" if !seen_asks => {
                reader.at = parse_levels_at(frame, reader.at, &mut scratch.asks).ok()?;
                seen_asks = true;
            }
            _ => return None,
        }
    }
    if reader.at != frame.len() || !seen_bids || !seen_asks {
        return None;
    }
    scratch.symbol.clear();
    scratch.symbol.push_str(symbol);
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

/// Decodes `frame` if it is a compact `depthUpdate`, pushing its levels into `bids`/`asks`; `None`
/// sends it to the general path (the caller clears the buffers first).
#[inline]
pub(crate) fn decode_depth<'s>(
    frame: &'s [u8],
    hint: &FrameHint,
    bids: &mut Vec<RawLevel>,
    asks: &mut Vec<RawLevel>,
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
    let mut fields = Fields::default();
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
                reader.at = parse_levels_at(frame, reader.at, bids).ok()?;
                seen_b = true;
                continue;
            }
            b"a" if !seen_a => {
                reader.at = parse_levels_at(frame, reader.at, asks).ok()?;
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
        let depth = decode_depth(frame, &FrameHint::default(), &mut scratch.bids, &mut scratch.asks)?;
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
        let depth = decode_snapshot(frame, hint, &mut scratch)?;
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
