//! Engine dispatch without sockets: synthetic feed events into a paper engine (the feed is built but never
//! polled, so nothing connects).

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;

use ferrotrade_model::{
    BookSide, InstrumentIndex, OrderEvent, OrderEventKind, OrderRequest, OrderSide, Price, Quantity, UnixNanos,
};
use ferrotrade_strategy::{Context, Strategy, StrategyResult, Subscription};

use super::Engine;
use crate::clock::WallClock;
use crate::config::LiveConfig;
use crate::feed::{FeedEvent, UnsyncReason};
use crate::gateway::GatewayEvent;

const BTC: InstrumentIndex = InstrumentIndex(0);

#[derive(Default)]
struct Seen {
    books: Vec<bool>,
    orders: Vec<OrderEvent>,
    fills: usize,
}

/// Buys one lot at the best ask on the first synced book.
struct Taker {
    seen: Rc<RefCell<Seen>>,
    sent: bool,
}

impl Strategy for Taker {
    fn name(&self) -> &str {
        "taker"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::book("binance-usdm.BTCUSDT")]
    }

    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        self.seen.borrow_mut().books.push(ctx.is_synced(instrument));
        if !self.sent
            && let Some(ask) = ctx.book(instrument).best_ask()
        {
            ctx.submit(OrderRequest::limit(instrument, OrderSide::Buy, ask.price, Quantity(1)));
            self.sent = true;
        }
        Ok(())
    }

    fn on_order(&mut self, _ctx: &mut dyn Context, event: &OrderEvent) -> StrategyResult {
        self.seen.borrow_mut().orders.push(*event);
        Ok(())
    }

    fn on_fill(&mut self, _ctx: &mut dyn Context, _fill: &ferrotrade_model::Fill) -> StrategyResult {
        self.seen.borrow_mut().fills += 1;
        Ok(())
    }
}

fn config(run_dir: &std::path::Path) -> LiveConfig {
    LiveConfig::from_toml(&format!(
        r#"
[live]
mode = "paper"
run_dir = "{}"
initial_equity = 10000
journal_fsync = "never"

[[venue]]
name = "binance-usdm"
network = "local"
rest = "http://127.0.0.1:9"
ws_public = "ws://127.0.0.1:9/binance-usdm"

[instruments."binance-usdm.BTCUSDT"]
tick_size = 0.1
lot_size = 0.001
"#,
        run_dir.display()
    ))
    .expect("config")
}

fn book_event() -> FeedEvent {
    FeedEvent::Book { index: BTC, ts_event: UnixNanos(1), ts_recv: UnixNanos(2) }
}

/// Hands every ready gateway event to the engine.
fn drain(engine: &mut Engine<'_>, runtime: &tokio::runtime::Runtime) {
    loop {
        let event = runtime.block_on(poll_fn(|cx| match engine.core.gateways[0].poll_event(cx) {
            Poll::Ready(event) => Poll::Ready(Some(event)),
            Poll::Pending => Poll::Ready(None),
        }));
        match event {
            Some(event) => engine.on_gateway_event(event),
            None => return,
        }
    }
}

#[test]
fn unsynced_books_reach_no_strategy_and_a_paper_fill_flows_back_through_the_oms() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let _guard = runtime.enter();
    let run_dir = std::env::temp_dir().join(format!("ft-engine-dispatch-{}", std::process::id()));
    std::fs::remove_dir_all(&run_dir).ok();
    let seen = Rc::new(RefCell::new(Seen::default()));
    let strategies: Vec<Box<dyn Strategy>> = vec![Box::new(Taker { seen: Rc::clone(&seen), sent: false })];
    let mut never = |_: &crate::config::VenueSection, _: &[InstrumentIndex]| -> Result<_, crate::LiveError> {
        unreachable!("paper mode builds no live gateway")
    };
    let mut engine =
        crate::engine::setup::build(&config(&run_dir), strategies, WallClock::start(), &mut never).expect("build");
    let book = &mut engine.core.books[0];
    book.apply_level(BookSide::Bid, Price(600_000), Quantity(5)).expect("bid");
    book.apply_level(BookSide::Ask, Price(600_001), Quantity(5)).expect("ask");

    // Not synced yet: the book changed but no strategy hears of it.
    engine.dispatch_market(&[book_event()]);
    assert!(seen.borrow().books.is_empty());

    engine.dispatch_market(&[FeedEvent::Synced { index: BTC }, book_event()]);
    assert_eq!(seen.borrow().books, [true]);
    assert_eq!(engine.core.counters.orders, 1);
    drain(&mut engine, &runtime);
    {
        let seen = seen.borrow();
        let kinds: Vec<_> = seen.orders.iter().map(|event| std::mem::discriminant(&event.kind)).collect();
        assert_eq!(kinds.len(), 2, "{:?}", seen.orders);
        assert!(matches!(seen.orders[0].kind, OrderEventKind::Accepted(_)));
        assert!(matches!(seen.orders[1].kind, OrderEventKind::Filled(fill) if fill.price == Price(600_001)));
        assert_eq!(seen.fills, 1);
    }
    assert_eq!(engine.core.account.position(BTC).quantity, Quantity(1));
    assert_eq!(engine.core.portfolios[0].position(BTC).quantity, Quantity(1));

    // A gap: the strategy sees nothing until the feed resyncs, and the risk chain has no mid.
    engine.dispatch_market(&[FeedEvent::Unsynced { index: BTC, reason: UnsyncReason::Gap }, book_event()]);
    assert_eq!(seen.borrow().books.len(), 1);
    assert!(engine.core.mark(0).is_none());

    // The same fill delivered again (a venue replay) changes nothing.
    let fill = seen.borrow().orders[1];
    engine.on_gateway_event(GatewayEvent::Order(fill));
    assert_eq!(engine.core.counters.duplicate_fills, 1);
    assert_eq!(engine.core.account.position(BTC).quantity, Quantity(1));
    assert_eq!(seen.borrow().fills, 1);
    std::fs::remove_dir_all(&run_dir).ok();
}
