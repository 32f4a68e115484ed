//! Binance recording containers read end to end: hftbacktest collector files, cryptofeed format-1
//! captures (WS merged with REST by time) and `T_DEPTH` CSVs.
//!
//! Expected counts were computed independently with `zcat | grep -c` on the same files (see the comments).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use ferrotrade_model::{UnixNanos, Venue};
use ferrotrade_venues::decoded::{Decoded, InstrumentInfo, Payload};
use ferrotrade_venues::files::tdepth::DepthCsvSource;
use ferrotrade_venues::source::collector::CollectorSource;
use ferrotrade_venues::source::cryptofeed::CryptofeedSource;
use ferrotrade_venues::source::{Format, Source, Visitor, detect_format};
use ferrotrade_venues::{Origin, VenueError};

fn data(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/")).join(path)
}

/// (kind, symbol, receive time, first id, last id, prev id, levels, line) of one book message.
type BookRow = (&'static str, String, UnixNanos, u64, u64, u64, usize, u64);

#[derive(Default)]
struct Counts {
    kinds: BTreeMap<&'static str, usize>,
    controls: BTreeMap<&'static str, usize>,
    venues: BTreeMap<Venue, usize>,
    symbols: BTreeMap<String, usize>,
    instruments: Vec<InstrumentInfo>,
    bad: Vec<String>,
    books: Vec<BookRow>,
    times: Vec<UnixNanos>,
    messages_before_instruments: Option<usize>,
}

impl Visitor for Counts {
    fn instruments(&mut self, infos: &[InstrumentInfo]) {
        self.messages_before_instruments.get_or_insert(self.times.len());
        self.instruments.extend_from_slice(infos);
    }

    fn message(&mut self, origin: &Origin, ts_recv: UnixNanos, message: &Decoded<'_>) -> Result<(), VenueError> {
        let kind = match message.payload {
            Payload::Book(book) => {
                let kind = if book.is_snapshot { "snapshot" } else { "diff" };
                self.books.push((
                    kind,
                    message.symbol.to_owned(),
                    ts_recv,
                    book.first_sequence,
                    book.sequence,
                    book.prev_sequence,
                    book.bids.len() + book.asks.len(),
                    origin.line,
                ));
                kind
            }
            Payload::Trade(_) => "trade",
            Payload::AggTrade(_) => "aggTrade",
            Payload::Quote(_) => "quote",
            Payload::Bar(_) => "bar",
            Payload::Mark(_) => "mark",
        };
        *self.kinds.entry(kind).or_default() += 1;
        *self.venues.entry(message.venue).or_default() += 1;
        *self.symbols.entry(message.symbol.to_owned()).or_default() += 1;
        self.times.push(ts_recv);
        Ok(())
    }

    fn control(&mut self, _origin: &Origin, what: &'static str) {
        *self.controls.entry(what).or_default() += 1;
    }

    fn bad_record(&mut self, error: VenueError) -> Result<(), VenueError> {
        self.bad.push(error.to_string());
        Ok(())
    }
}

fn read(source: &mut dyn Source) -> Counts {
    let mut counts = Counts::default();
    source.read(&mut counts).expect("session reads");
    counts
}

fn kinds(pairs: &[(&'static str, usize)]) -> BTreeMap<&'static str, usize> {
    pairs.iter().copied().collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ft-binance-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn gunzip(path: &PathBuf) -> String {
    let mut text = String::new();
    let file = std::fs::File::open(path).expect("test file");
    std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(file), &mut text).expect("gzip text");
    text
}

#[test]
fn collector_spot_2024_session() {
    let path = data("collector/btcusdt_20240808.gz");
    assert_eq!(detect_format(&path).unwrap(), Format::Collector);
    let mut source = CollectorSource::open(vec![path]).unwrap();
    assert_eq!(source.hint().venue, Some(Venue::BinanceSpot));
    assert_eq!(source.hint().symbol.as_deref(), Some("BTCUSDT"));
    let counts = read(&mut source);
    // zcat | grep -c: 187 depthUpdate, 1515 bookTicker, 297 trade, 1 lastUpdateId (line 8).
    assert_eq!(counts.kinds, kinds(&[("diff", 187), ("quote", 1515), ("trade", 297), ("snapshot", 1)]));
    assert_eq!(counts.venues.keys().copied().collect::<Vec<_>>(), [Venue::BinanceSpot]);
    assert_eq!(counts.symbols.keys().cloned().collect::<Vec<_>>(), ["BTCUSDT"]);
    assert!(counts.bad.is_empty(), "{:?}", counts.bad);
    let snapshot = counts.books.iter().find(|book| book.0 == "snapshot").unwrap();
    assert_eq!((snapshot.4, snapshot.6 > 100, snapshot.7), (50_093_239_218, true, 8));
    assert_eq!(snapshot.2, UnixNanos(1_723_161_254_206_652_067), "nanosecond receive time kept as is");
    // Reading twice gives the same result (the pipeline reads every session twice).
    assert_eq!(read(&mut source).kinds, counts.kinds);
}

#[test]
fn collector_usdm_2023_session_with_microsecond_times() {
    let mut source = CollectorSource::open(vec![data("collector/btcusdt_20230404.dat.gz")]).unwrap();
    assert_eq!(source.hint().venue, Some(Venue::BinanceUsdm));
    let counts = read(&mut source);
    // zcat | grep -c: 854 depthUpdate, 742 bookTicker, 387 trade, 16 markPriceUpdate, 1 snapshot (line 17,
    // written with spaces after the colons).
    assert_eq!(counts.kinds, kinds(&[("diff", 854), ("quote", 742), ("trade", 387), ("mark", 16), ("snapshot", 1)]));
    assert!(counts.bad.is_empty(), "{:?}", counts.bad);
    let snapshot = counts.books.iter().find(|book| book.0 == "snapshot").unwrap();
    assert_eq!((snapshot.1.as_str(), snapshot.4, snapshot.7), ("BTCUSDT", 2_710_246_765_483, 17));
    assert_eq!(snapshot.2, UnixNanos(1_680_652_700_599_351_000), "microseconds scaled to nanoseconds");
    let first_diff = counts.books.iter().find(|book| book.0 == "diff").unwrap();
    assert_eq!((first_diff.3, first_diff.4, first_diff.5), (2_710_246_765_373, 2_710_246_765_597, 2_710_246_765_326));
}

#[test]
fn collector_bad_line_is_reported_with_its_place() {
    let dir = temp_dir("collector-bad");
    let text = gunzip(&data("collector/btcusdt_20240808.gz"));
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[99] = lines[99][..lines[99].len() / 2].to_owned();
    lines[199] = "not a collector line".to_owned();
    let path = dir.join("btcusdt_20240808.txt");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let counts = read(&mut CollectorSource::open(vec![path.clone()]).unwrap());
    assert_eq!(counts.bad.len(), 2, "{:?}", counts.bad);
    assert!(
        counts.bad[0].contains("btcusdt_20240808.txt:100: malformed binance record: invalid JSON"),
        "{}",
        counts.bad[0]
    );
    assert!(counts.bad[1].contains("btcusdt_20240808.txt:200: malformed collector record"), "{}", counts.bad[1]);
    assert_eq!(counts.kinds.values().sum::<usize>(), 1998);
    // The default visitor stops at the first bad line.
    struct Strict;
    impl Visitor for Strict {
        fn message(&mut self, _: &Origin, _: UnixNanos, _: &Decoded<'_>) -> Result<(), VenueError> {
            Ok(())
        }
    }
    let error = CollectorSource::open(vec![path]).unwrap().read(&mut Strict).unwrap_err();
    assert!(matches!(error, VenueError::Malformed { ref origin, .. } if origin.line == 100), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn collector_truncated_gzip_is_an_error() {
    let dir = temp_dir("collector-cut");
    let bytes = std::fs::read(data("collector/btcusdt_20240808.gz")).unwrap();
    let path = dir.join("btcusdt_20240808.gz");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let mut counts = Counts::default();
    let error = CollectorSource::open(vec![path]).unwrap().read(&mut counts).unwrap_err();
    assert!(matches!(error, VenueError::TruncatedGzip { .. }), "{error}");
    assert!(!counts.times.is_empty(), "the lines before the cut are delivered");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn collector_symbol_of_a_multi_symbol_session() {
    let dir = temp_dir("collector-multi");
    let text = gunzip(&data("collector/btcusdt_20240808.gz"));
    // Two symbols: every trade line re-labelled as ETHUSDT; the snapshot (line 8) names none.
    let mixed: String = text
        .lines()
        .map(|line| if line.contains("@trade") { line.replace("BTCUSDT", "ETHUSDT") } else { line.to_owned() } + "\n")
        .collect();
    let named = dir.join("btcusdt_20240808.txt");
    std::fs::write(&named, &mixed).unwrap();
    let source = CollectorSource::open(vec![named]).unwrap();
    assert_eq!(source.hint().symbol.as_deref(), Some("BTCUSDT"), "file stem names one of the symbols");
    let anonymous = dir.join("capture_20240808.txt");
    std::fs::write(&anonymous, &mixed).unwrap();
    let error = CollectorSource::open(vec![anonymous]).unwrap_err();
    assert!(matches!(error, VenueError::Session { .. }), "{error}");
    assert!(error.to_string().contains("BTCUSDT, ETHUSDT"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn collector_session_spanning_two_files() {
    // The day split: the first 1000 lines in one file (with the snapshot), the rest in the next day's.
    let dir = temp_dir("collector-split");
    let text = gunzip(&data("collector/btcusdt_20240808.gz"));
    let lines: Vec<&str> = text.lines().collect();
    let first = dir.join("btcusdt_20240808.txt");
    let second = dir.join("btcusdt_20240809.txt");
    std::fs::write(&first, lines[..1000].join("\n")).unwrap();
    std::fs::write(&second, lines[1000..].join("\n")).unwrap();
    let counts = read(&mut CollectorSource::open(vec![first, second]).unwrap());
    assert_eq!(counts.kinds, kinds(&[("diff", 187), ("quote", 1515), ("trade", 297), ("snapshot", 1)]));
    let last = counts.books.last().unwrap();
    assert!(last.7 <= 1000, "line numbers restart in the second file");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn collector_of_bybit_frames() {
    // The collector also records Bybit: the archive's 50 real v5 frames, each with a receive time.
    let dir = temp_dir("collector-bybit");
    let text = std::fs::read_to_string(data("bybit/2024-12-01_XRPUSDT_ob500.data")).expect("bybit sample");
    let lines: String = text
        .lines()
        .enumerate()
        .map(|(i, line)| format!("{} {line}\n", 1_733_011_200_700_000_000u64 + i as u64))
        .collect();
    let path = dir.join("xrpusdt_20241201.txt");
    std::fs::write(&path, lines).unwrap();
    let mut source = CollectorSource::open(vec![path]).unwrap();
    assert!(source.hint().venue.is_some_and(|venue| !venue.is_binance()), "{:?}", source.hint());
    let counts = read(&mut source);
    assert!(counts.bad.is_empty(), "{:?}", counts.bad);
    assert_eq!(counts.kinds, kinds(&[("snapshot", 1), ("diff", 49)]));
    assert_eq!(counts.symbols.keys().cloned().collect::<Vec<_>>(), ["XRPUSDT"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn collector_delivers_every_trade_of_a_bybit_multi_trade_frame() {
    // One v5 `publicTrade` frame carries every fill of one taker order (shape of Bybit's documented frame,
    // ids numeric as on spot): each must reach the visitor, none may be dropped.
    let dir = temp_dir("collector-bybit-trades");
    let frame = r#"{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1709891679005,"data":[{"T":1709891679000,"s":"BTCUSDT","S":"Buy","v":"0.010","p":"27451.00","i":"2290000000061666327","BT":false},{"T":1709891679000,"s":"BTCUSDT","S":"Buy","v":"0.200","p":"27451.50","i":"2290000000061666328","BT":false}]}"#;
    let path = dir.join("btcusdt_20240308.txt");
    std::fs::write(&path, format!("1709891679010000000 {frame}\n")).unwrap();
    let mut source = CollectorSource::open(vec![path]).unwrap();
    let counts = read(&mut source);
    assert!(counts.bad.is_empty(), "{:?}", counts.bad);
    assert_eq!(counts.kinds, kinds(&[("trade", 2)]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cryptofeed_spot_session_merges_rest_by_time() {
    let ws = data("cryptofeed/BINANCE.ws.1.0");
    assert_eq!(detect_format(&ws).unwrap(), Format::CryptofeedText);
    let mut source = CryptofeedSource::open(vec![ws]).unwrap();
    let names: Vec<String> =
        source.files().iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["BINANCE.ws.1.0", "BINANCE.0", "BINANCE.http.0.0"], "REST siblings added");
    let counts = read(&mut source);
    // grep -c: 177 depthUpdate, 84 bookTicker, 2 aggTrade, 2 kline with "x":false; 4 REST snapshots.
    assert_eq!(counts.kinds, kinds(&[("diff", 177), ("quote", 84), ("aggTrade", 2), ("snapshot", 4)]));
    assert_eq!(counts.controls, [("kline open", 2), ("configuration", 1)].into_iter().collect());
    assert_eq!(counts.venues.keys().copied().collect::<Vec<_>>(), [Venue::BinanceSpot]);
    assert_eq!(counts.symbols.keys().cloned().collect::<Vec<_>>(), ["BLZETH", "LRCBTC", "NKNUSDT", "RUNEEUR"]);
    assert!(counts.bad.is_empty(), "{:?}", counts.bad);
    // The exchange info (1633998511.13) comes before the first frame; it has the 4 symbols.
    assert_eq!(counts.messages_before_instruments, Some(0));
    assert_eq!(counts.instruments.len(), 4);
    let rune = counts.instruments.iter().find(|info| info.symbol == "RUNEEUR").unwrap();
    assert_eq!((rune.tick_size.to_string(), rune.lot_size.to_string()), ("0.001".into(), "0.1".into()));
    // Merged by time: receive times never go back, and each snapshot sits at its REST time.
    assert!(counts.times.windows(2).all(|pair| pair[0] <= pair[1]));
    let snapshots: Vec<(&str, u64, UnixNanos)> =
        counts.books.iter().filter(|b| b.0 == "snapshot").map(|b| (b.1.as_str(), b.4, b.2)).collect();
    assert_eq!(
        snapshots,
        [
            ("NKNUSDT", 499_869_752, UnixNanos(1_633_998_512_320_639_000)),
            ("BLZETH", 281_916_627, UnixNanos(1_633_998_514_646_289_800)),
            ("LRCBTC", 259_345_543, UnixNanos(1_633_998_516_844_380_900)),
            ("RUNEEUR", 15_602_511, UnixNanos(1_633_998_522_743_208_000)),
        ]
    );
    // The first NKNUSDT diff (1633998512.063) precedes its snapshot (1633998512.320).
    let first = counts.books.iter().position(|b| b.1 == "NKNUSDT").unwrap();
    assert_eq!(counts.books[first].0, "diff");
}

#[test]
fn cryptofeed_futures_session() {
    let mut source = CryptofeedSource::open(vec![data("cryptofeed/BINANCE_FUTURES.ws.1.0")]).unwrap();
    assert_eq!(source.files().len(), 2, "no BINANCE_FUTURES.0 copied, the http file is found");
    let counts = read(&mut source);
    // grep -c: 764 depthUpdate, 613 bookTicker, 91 aggTrade, 4 closed + 63 open klines; 4 REST snapshots.
    assert_eq!(counts.kinds, kinds(&[("diff", 764), ("quote", 613), ("aggTrade", 91), ("bar", 4), ("snapshot", 4)]));
    assert_eq!(counts.controls, [("kline open", 63)].into_iter().collect());
    assert_eq!(counts.venues.keys().copied().collect::<Vec<_>>(), [Venue::BinanceUsdm]);
    assert_eq!(counts.symbols.len(), 4);
    assert!(counts.bad.is_empty(), "{:?}", counts.bad);
    let sushi = counts.books.iter().find(|b| b.0 == "snapshot" && b.1 == "SUSHIUSDT").unwrap();
    assert_eq!(sushi.4, 600_859_605_926);
    assert!(counts.books.iter().filter(|b| b.0 == "diff").all(|b| b.5 != 0), "every futures diff has pu");
}

#[test]
fn cryptofeed_bad_line_is_reported_with_its_place() {
    let dir = temp_dir("cryptofeed-bad");
    let text = std::fs::read_to_string(data("cryptofeed/BINANCE.ws.1.0")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let cut = &lines[10][..40];
    lines[10] = cut;
    lines[20] = "garbage";
    let ws = dir.join("BINANCE.ws.1.0");
    let mut file = std::fs::File::create(&ws).unwrap();
    file.write_all(lines.join("\n").as_bytes()).unwrap();
    let counts = read(&mut CryptofeedSource::open(vec![ws]).unwrap());
    assert_eq!(counts.bad.len(), 2, "{:?}", counts.bad);
    assert!(counts.bad[0].contains("BINANCE.ws.1.0:11: malformed binance record"), "{}", counts.bad[0]);
    assert!(counts.bad[1].contains("BINANCE.ws.1.0:21: malformed cryptofeed record"), "{}", counts.bad[1]);
    // Without the REST file, no snapshot; the diffs still decode.
    assert_eq!(counts.kinds.get("snapshot"), None);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tdepth_snapshot_and_diffs() {
    let snap = data("binance/btcusdt-depth-snap.csv");
    let update = data("binance/btcusdt-depth-update.csv");
    assert_eq!(detect_format(&snap).unwrap(), Format::BinanceDepthCsv);
    let mut source = DepthCsvSource::open(vec![snap, update]).unwrap();
    let counts = read(&mut source);
    assert!(counts.bad.is_empty(), "{:?}", counts.bad);
    // Each file holds 100 rows with one last_update_id (cut -d, -f4,6 | sort | uniq -c).
    assert_eq!(counts.kinds, kinds(&[("snapshot", 1), ("diff", 1)]));
    assert_eq!(counts.venues.keys().copied().collect::<Vec<_>>(), [Venue::BinanceUsdm]);
    let books: Vec<_> = counts.books.iter().map(|b| (b.0, b.1.as_str(), b.2, b.3, b.4, b.5, b.6, b.7)).collect();
    assert_eq!(
        books,
        [
            (
                "snapshot",
                "BTCUSDT",
                UnixNanos(1_667_346_579_146_000_000),
                2_098_021_528_332,
                2_098_021_528_332,
                0,
                100,
                2
            ),
            (
                "diff",
                "BTCUSDT",
                UnixNanos(1_667_347_199_939_000_000),
                2_098_041_693_435,
                2_098_041_696_700,
                2_098_041_693_400,
                100,
                2
            ),
        ]
    );
}

#[test]
fn tdepth_groups_and_bad_rows() {
    let dir = temp_dir("tdepth");
    let path = dir.join("x-depth-update.csv");
    std::fs::write(
        &path,
        "symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu\n\
         BTCUSDT,1667347199939,10,12,a,set,20472.80,0.000,9\n\
         BTCUSDT,1667347199939,10,12,b,set,20470.10,1.5,9\n\
         BTCUSDT,1667347199940,13,15,a,set,20472.9x,0.000,12\n\
         BTCUSDT,1667347199941,13,15,b,set,20470.00,2,12\n",
    )
    .unwrap();
    let counts = read(&mut DepthCsvSource::open(vec![path]).unwrap());
    assert_eq!(counts.bad.len(), 1);
    assert!(
        counts.bad[0].contains("x-depth-update.csv:4: malformed binance-depth-csv record: price"),
        "{}",
        counts.bad[0]
    );
    let books: Vec<_> = counts.books.iter().map(|b| (b.3, b.4, b.5, b.6, b.7)).collect();
    assert_eq!(books, [(10, 12, 9, 2, 2), (13, 15, 12, 1, 5)]);
    std::fs::remove_dir_all(&dir).unwrap();
}
