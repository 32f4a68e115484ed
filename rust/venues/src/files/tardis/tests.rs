//! End-to-end reads of real tardis.dev CSVs (nautilus_trader's test data) and hand-written edge cases.

use super::*;
use crate::bybit::counting::Counter;

fn data(name: &str) -> PathBuf {
    PathBuf::from(format!("{}/../../tests/data/tardis/{name}", env!("CARGO_MANIFEST_DIR")))
}

fn read(path: PathBuf, keep_going: bool) -> Counter {
    let mut counter = Counter { keep_going, ..Counter::default() };
    TardisCsvSource::open(vec![path]).unwrap().read(&mut counter).unwrap();
    counter
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ft-tardis-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn dec(text: &str) -> Decimal {
    Decimal::parse_str(text).unwrap()
}

#[test]
fn trades() {
    assert!(sniff(&crate::lines::first_line(&data("trades.csv"), 4096).unwrap()));
    for name in ["trades.csv", "quotes.csv", "binance-futures_book_snapshot_5_BTCUSDT.csv"] {
        assert_eq!(crate::source::detect_format(&data(name)).unwrap(), Format::TardisCsv, "{name}");
    }
    let counter = read(data("trades.csv"), false);
    // 2001 lines = header + 2000 rows; ids 42377944..=42379943 (sort -n | head/tail).
    assert_eq!((counter.trades, counter.bad), (2_000, 0));
    assert_eq!(counter.symbols(), vec![(Venue::BinanceUsdm, "BTCUSDT".to_owned())]);
    let first = counter.first_trade.unwrap();
    assert_eq!(first.trade_id, Some(42_377_944));
    assert_eq!(first.ts_event, UnixNanos::from_micros(1_582_329_602_111_000));
    assert_eq!((first.price, first.size, first.aggressor), (dec("9682"), dec("0.132"), AggressorSide::Buyer));
    let last = counter.last_trade.unwrap();
    assert_eq!((last.trade_id, last.aggressor), (Some(42_379_943), AggressorSide::Seller));
    assert_eq!(counter.first_ts_recv, Some(UnixNanos::from_micros(1_582_329_602_418_379)));
    assert_eq!(counter.last_ts_recv, Some(UnixNanos::from_micros(1_582_330_939_157_385)));
}

#[test]
fn quotes() {
    let counter = read(data("quotes.csv"), false);
    assert_eq!((counter.quotes, counter.bad), (2_000, 0));
    let first = counter.first_quote.unwrap();
    assert_eq!(
        (first.ask.size, first.ask.price, first.bid.price, first.bid.size),
        (dec("0.84"), dec("9682"), dec("9681.92"), dec("0.67"))
    );
    assert_eq!(first.ts_event, UnixNanos::from_micros(1_582_329_601_096_000));
    let last = counter.last_quote.unwrap();
    assert_eq!((last.ask.price, last.bid.size), (dec("9681.73"), dec("0.031")));
    assert_eq!(counter.last_ts_recv, Some(UnixNanos::from_micros(1_582_329_664_442_799)));
}

#[test]
fn book_snapshots() {
    for (name, levels) in
        [("binance-futures_book_snapshot_5_BTCUSDT.csv", 5), ("binance-futures_book_snapshot_25_BTCUSDT.csv", 25)]
    {
        let counter = read(data(name), false);
        assert_eq!((counter.books, counter.snapshots, counter.bad), (10, 10, 0), "{name}");
        assert_eq!(counter.levels, 10 * 2 * levels, "{name}");
        let (bid, ask, _) = counter.first_book.unwrap();
        assert_eq!((bid.unwrap().price, bid.unwrap().size), (dec("11657.07"), dec("10.896")), "{name}");
        assert_eq!((ask.unwrap().price, ask.unwrap().size), (dec("11657.08"), dec("1.714")), "{name}");
        assert_eq!(counter.first_ts_recv, Some(UnixNanos::from_micros(1_598_918_403_810_979)));
    }
    let counter = read(data("binance-futures_book_snapshot_5_BTCUSDT.csv"), false);
    let (bid, ask, _) = counter.last_book.unwrap();
    assert_eq!((bid.unwrap().size, ask.unwrap().size), (dec("10.881"), dec("1.393")));
}

#[test]
fn incremental_rows_group_by_timestamp() {
    // Hand-written in tardis' incremental_book_L2 layout.
    let text = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount
bybit,BTCUSD,1000,1005,true,ask,101.5,10
bybit,BTCUSD,1000,1005,true,bid,101,3
bybit,BTCUSD,1000,1005,true,bid,100.5,4
bybit,BTCUSD,2000,2004,false,bid,101,0
bybit,BTCUSD,3000,3001,false,ask,101.5,7
bybit,BTCUSD,3000,3001,false,ask,102,1
bybit,BTCUSDT,3000,3002,false,ask,102,1
";
    let path = temp_file("incremental_book_L2.csv", text);
    let counter = read(path.clone(), false);
    assert_eq!((counter.books, counter.snapshots, counter.levels), (4, 1, 7));
    assert_eq!(counter.lines, vec![2, 5, 6, 8]);
    assert_eq!(
        counter.symbols(),
        vec![(Venue::BybitLinear, "BTCUSDT".to_owned()), (Venue::BybitInverse, "BTCUSD".to_owned())]
    );
    assert_eq!(counter.first_ts_recv, Some(UnixNanos::from_micros(1005)));
    // A bad row drops its whole message, and only that one.
    let broken = text.replace("bybit,BTCUSD,3000,3001,false,ask,102,1", "bybit,BTCUSD,3000,3001,false,ask,1x2,1");
    let path = temp_file("incremental_book_L2.csv", &broken);
    let counter = read(path.clone(), true);
    assert_eq!((counter.books, counter.bad), (3, 1));
    assert_eq!(counter.lines, vec![2, 5, 8]);
    assert!(counter.errors[0].contains("incremental_book_L2.csv:7:"), "{}", counter.errors[0]);
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn a_broken_row_is_reported_with_its_place() {
    let text = std::fs::read_to_string(data("trades.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[9] = "binance-futures,BTCUSDT,1582329602111000,1582329602418379,42377952,buy,96x82,0.132";
    lines[10] = "kraken,XBTUSD,1582329602111000,1582329602418379,1,buy,1,1";
    lines[11] = "binance-futures,BTCUSDT,1582329602111000";
    let path = temp_file("trades.csv", &lines.join("\n"));
    let counter = read(path.clone(), true);
    assert_eq!((counter.trades, counter.bad), (1_997, 3));
    for (error, line) in counter.errors.iter().zip([10, 11, 12]) {
        assert!(error.contains(&format!("trades.csv:{line}:")), "{error}");
    }
    assert!(counter.errors[1].contains("kraken"), "{}", counter.errors[1]);
    let mut strict = Counter::default();
    let error = TardisCsvSource::open(vec![path.clone()]).unwrap().read(&mut strict).unwrap_err();
    assert!(error.to_string().contains("trades.csv:10:"), "{error}");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn headers_and_venues() {
    assert_eq!(dataset("exchange,symbol,timestamp,local_timestamp,id,side,price,amount"), Some(Dataset::Trades));
    assert_eq!(
        dataset("exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,bids[0].amount"),
        Some(Dataset::Snapshot(1))
    );
    assert_eq!(
        dataset("exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[1].price,bids[0].amount"),
        None
    );
    assert_eq!(venue("bybit-spot", "BTCUSDT"), Some(Venue::BybitSpot));
    assert_eq!(venue("binance-delivery", "BTCUSD_PERP"), Some(Venue::BinanceCoinm));
    assert_eq!(venue("okex", "BTC-USDT"), None);
    let quotes = "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount\nbinance,BTCUSDT,1,2,,,100,1\n";
    let counter = read(temp_file("quotes.csv", quotes), false);
    assert_eq!((counter.quotes, counter.controls.get("tardis quote with an empty side").copied()), (0, Some(1)));
}
