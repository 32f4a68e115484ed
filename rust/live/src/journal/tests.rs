use std::io::Write;

use ferrotrade_model::{
    ClientOrderId, Fill, InstrumentIndex, Liquidity, Money, OrderEvent, OrderEventKind, OrderRequest, OrderSide, Price,
    Quantity, RejectReason, UnixNanos, VenueOrderId,
};

use super::*;

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ft-journal-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

fn names() -> Vec<String> {
    vec!["binance-usdm.BTCUSDT".to_owned(), "bybit-linear.XRPUSDT".to_owned()]
}

fn event(id: u64, kind: OrderEventKind) -> OrderEvent {
    OrderEvent {
        client_id: ClientOrderId(id),
        instrument: InstrumentIndex(1),
        kind,
        ts_event: UnixNanos(5),
        ts_recv: UnixNanos(6),
    }
}

fn fill(id: u64, trade_id: u64) -> Fill {
    Fill {
        client_id: ClientOrderId(id),
        venue_order_id: VenueOrderId(77),
        trade_id,
        instrument: InstrumentIndex(1),
        side: OrderSide::Sell,
        price: Price(2_1234),
        quantity: Quantity(30),
        fee: Money(-1_234_567_890_123_456_789),
        liquidity: Liquidity::Maker,
        ts_event: UnixNanos(9),
        ts_recv: UnixNanos(10),
    }
}

#[test]
fn every_record_round_trips_through_a_reopen() {
    let dir = run_dir("roundtrip");
    let request = OrderRequest {
        post_only: true,
        ..OrderRequest::limit(InstrumentIndex(1), OrderSide::Sell, Price(2_1234), Quantity(100))
    };
    let kinds = [
        OrderEventKind::Submitted,
        OrderEventKind::Accepted(VenueOrderId(77)),
        OrderEventKind::PendingReplace,
        OrderEventKind::Replaced { price: Price(2_1235), quantity: Quantity(90) },
        OrderEventKind::Filled(fill(1000, 42)),
        OrderEventKind::PendingCancel,
        OrderEventKind::CancelRejected(RejectReason::UnknownOrder),
        OrderEventKind::Canceled,
    ];
    {
        let (mut journal, state) = Journal::open(&dir, &names(), FsyncPolicy::Fills).expect("open");
        assert!(state.replay.is_empty() && state.last_client_id.is_none());
        journal.session(UnixNanos(1), 1000).expect("session");
        journal.order(UnixNanos(2), ClientOrderId(1000), "mm", "bybit-linear.XRPUSDT", &request).expect("order");
        for kind in kinds {
            journal.event("bybit-linear.XRPUSDT", &event(1000, kind)).expect("event");
        }
        journal.order(UnixNanos(3), ClientOrderId(1001), "mm", "bybit-linear.XRPUSDT", &request).expect("order");
        journal
            .event("bybit-linear.XRPUSDT", &event(1001, OrderEventKind::Denied(RejectReason::PriceBand)))
            .expect("e");
    }
    let (_journal, state) = Journal::open(&dir, &names(), FsyncPolicy::Never).expect("reopen");
    assert_eq!(state.sessions, 1);
    assert_eq!(state.last_client_id, Some(1001));
    assert_eq!(state.replay.len(), 2 + kinds.len() + 1);
    assert_eq!(
        state.replay[0],
        Replayed::Created { client_id: ClientOrderId(1000), strategy: "mm".into(), request, ts: UnixNanos(2) }
    );
    for (index, kind) in kinds.iter().enumerate() {
        assert_eq!(state.replay[1 + index], Replayed::Event(event(1000, *kind)));
    }
    assert_eq!(
        state.replay.last(),
        Some(&Replayed::Event(event(1001, OrderEventKind::Denied(RejectReason::PriceBand))))
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn records_reach_the_file_at_commit_and_a_crash_loses_only_the_uncommitted_group() {
    let dir = run_dir("group");
    let request = OrderRequest::limit(InstrumentIndex(0), OrderSide::Buy, Price(1), Quantity(1));
    {
        let (mut journal, _) = Journal::open(&dir, &names(), FsyncPolicy::Fills).expect("open");
        journal.order(UnixNanos(2), ClientOrderId(5), "mm", "binance-usdm.BTCUSDT", &request).expect("order");
        journal.event("binance-usdm.BTCUSDT", &event(5, OrderEventKind::Submitted)).expect("event");
        let data = || {
            let bytes = std::fs::read(dir.join(JOURNAL_FILE)).expect("read");
            let end = bytes.iter().position(|byte| *byte == 0).unwrap_or(bytes.len());
            String::from_utf8(bytes[..end].to_vec()).expect("utf8")
        };
        assert!(data().is_empty(), "appended records wait for the commit: {}", data());
        journal.commit().expect("commit");
        assert_eq!(data().lines().count(), 2, "a commit is in the file at once, before any sync or close");
        journal.event("binance-usdm.BTCUSDT", &event(5, OrderEventKind::PendingCancel)).expect("event");
        journal.abandon();
    }
    let (journal, state) = Journal::open(&dir, &names(), FsyncPolicy::Fills).expect("reopen");
    assert_eq!(state.replay.len(), 2, "the committed group survives, the pending one is lost");
    assert_eq!(state.last_client_id, Some(5));
    let second = Journal::open(&dir, &names(), FsyncPolicy::Fills).expect_err("a second engine is refused");
    assert!(second.to_string().contains("another engine"), "{second}");
    drop(journal);
    let text = std::fs::read_to_string(dir.join(JOURNAL_FILE)).expect("read");
    assert_eq!(text.lines().count(), 2, "a clean close leaves plain JSONL: {text:?}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_torn_last_line_is_cut_and_appending_continues_cleanly() {
    let dir = run_dir("torn");
    let request = OrderRequest::limit(InstrumentIndex(0), OrderSide::Buy, Price(1), Quantity(1));
    {
        let (mut journal, _) = Journal::open(&dir, &names(), FsyncPolicy::Every).expect("open");
        journal.order(UnixNanos(2), ClientOrderId(5), "mm", "binance-usdm.BTCUSDT", &request).expect("order");
    }
    let path = dir.join(JOURNAL_FILE);
    let mut file = OpenOptions::new().append(true).open(&path).expect("append");
    file.write_all(br#"{"t":"event","ts_event":1,"ts_re"#).expect("torn write");
    drop(file);
    {
        let (mut journal, state) = Journal::open(&dir, &names(), FsyncPolicy::Every).expect("reopen");
        assert_eq!(state.replay.len(), 1, "the torn record never happened");
        journal.order(UnixNanos(3), ClientOrderId(6), "mm", "binance-usdm.BTCUSDT", &request).expect("order");
    }
    let (_, state) = Journal::open(&dir, &names(), FsyncPolicy::Every).expect("third open");
    assert_eq!(state.last_client_id, Some(6));
    let text = std::fs::read_to_string(&path).expect("read");
    assert_eq!(text.lines().count(), 2);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn corrupt_lines_gaps_and_unknown_instruments_are_errors_with_line_numbers() {
    let dir = run_dir("corrupt");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join(JOURNAL_FILE);
    let order = |id: u64, instrument: &str| {
        format!(
            r#"{{"t":"order","ts":1,"id":{id},"strategy":"mm","instrument":"{instrument}","side":"buy","order_type":"limit","tif":"GTC","price":1,"trigger":0,"qty":1,"post_only":false,"reduce_only":false}}"#
        )
    };
    std::fs::write(&path, format!("{}\n{}\n", order(1, "binance-usdm.BTCUSDT"), order(3, "binance-usdm.BTCUSDT")))
        .expect("write");
    let error = Journal::open(&dir, &names(), FsyncPolicy::Never).expect_err("gap");
    assert!(error.to_string().contains("line 2: client id 3 after 1"), "{error}");
    std::fs::write(&path, format!("{}\n", order(1, "binance-spot.ETHUSDT"))).expect("write");
    let error = Journal::open(&dir, &names(), FsyncPolicy::Never).expect_err("unknown instrument");
    assert!(error.to_string().contains("line 1: instrument \"binance-spot.ETHUSDT\""), "{error}");
    std::fs::write(&path, "{\"t\":\"nonsense\"}\n").expect("write");
    let error = Journal::open(&dir, &names(), FsyncPolicy::Never).expect_err("bad tag");
    assert!(error.to_string().contains("line 1"), "{error}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn warming_encodes_but_writes_and_counts_nothing() {
    let dir = run_dir("warm");
    let request = OrderRequest::limit(InstrumentIndex(0), OrderSide::Buy, Price(1), Quantity(1));
    let written = |warm: bool| {
        let (mut journal, _) = Journal::open(&dir, &names(), FsyncPolicy::Never).expect("open");
        let records = journal.records();
        if warm {
            journal.warm("mm", "binance-usdm.BTCUSDT");
        }
        journal.order(UnixNanos(2), ClientOrderId(5), "mm", "binance-usdm.BTCUSDT", &request).expect("order");
        if warm {
            // Between two records of one group, as a warm tick can fall.
            journal.warm("mm", "binance-usdm.BTCUSDT");
        }
        journal.event("binance-usdm.BTCUSDT", &event(5, OrderEventKind::Submitted)).expect("event");
        if warm {
            journal.warm("mm", "binance-usdm.BTCUSDT");
        }
        journal.commit().expect("commit");
        assert_eq!(journal.records() - records, 2, "warm: {warm}");
        drop(journal);
        let text = std::fs::read_to_string(dir.join(JOURNAL_FILE)).expect("read");
        std::fs::remove_dir_all(&dir).ok();
        text
    };
    let (cold, warm) = (written(false), written(true));
    assert_eq!(cold.lines().count(), 2, "{cold}");
    assert_eq!(warm, cold);
}
