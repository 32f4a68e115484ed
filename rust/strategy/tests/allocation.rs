//! The built-in strategies allocate nothing per callback after warm-up: a counting global allocator watches
//! the test thread while the strategies handle book updates, amends and trades.
//!
//! The test double itself allocates when it records a new order (its order map), so the measured stretch
//! only re-prices working orders (amends into a pre-reserved action log), which is also the market maker's
//! hot path.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Action, TestContext};
use ferrotrade_model::{AggressorSide, InstrumentIndex, OrderEventKind, Price, Quantity, Trade, UnixNanos};
use ferrotrade_strategy::Strategy;
use ferrotrade_strategy::builtin::{MarketMaker, Trend};

struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note_allocation() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards every call unchanged to the system allocator; counting touches no allocator state.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Allocations made by this thread while `work` runs.
fn allocations_during(work: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|counting| counting.set(true));
    work();
    COUNTING.with(|counting| counting.set(false));
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

const BTC: InstrumentIndex = InstrumentIndex(0);

/// A touch wandering over 40 ticks; every amend is confirmed at once.
fn drive_market_maker(mm: &mut MarketMaker, ctx: &mut TestContext, steps: i64) -> usize {
    let mut amends = 0;
    for step in 0..steps {
        let bid = 3_000_000 + (step * 7) % 40;
        ctx.set_touch(bid, bid + 1 + step % 3);
        ctx.advance_ms(1);
        mm.on_book(ctx, BTC).unwrap();
        // Confirm every amend at once, as a fast venue would.
        for index in 0..ctx.actions.len() {
            if let Action::Amend(id, price, quantity) = ctx.actions[index] {
                amends += 1;
                let event = ctx.event(id, OrderEventKind::Replaced { price, quantity });
                mm.on_order(ctx, &event).unwrap();
            }
        }
        ctx.actions.clear();
    }
    amends
}

#[test]
fn strategies_allocate_nothing_per_event_after_warm_up() {
    let mut ctx = TestContext::usdm_btcusdt();
    ctx.actions.reserve(1 << 16);
    let config = toml::from_str(
        "instrument = \"binance-usdm.BTCUSDT\"\norder_size = 0.002\nhalf_spread_bps = 0.5\n\
         skew_bps_per_unit = 200\nmax_position = 0.004\nrequote_threshold_ticks = 1",
    )
    .unwrap();
    let mut mm = MarketMaker::new(config);
    mm.on_start(&mut ctx).unwrap();
    drive_market_maker(&mut mm, &mut ctx, 1_000);
    let mut amends = 0;
    let allocations = allocations_during(|| amends = drive_market_maker(&mut mm, &mut ctx, 20_000));
    assert!(amends > 1_000, "the measured stretch must re-price often, got {amends} amends");
    assert_eq!(allocations, 0, "market maker: {allocations} allocations over 20000 book updates");

    // Trend on trades with limit orders: signal updates, volatility window, following the touch by amend.
    let mut ctx = TestContext::usdm_btcusdt();
    ctx.actions.reserve(1 << 16);
    let config = toml::from_str(
        "instrument = \"binance-usdm.BTCUSDT\"\nsource = \"trades\"\nfast = 5\nslow = 20\norder_size = 0.01\n\
         order_type = \"limit\"\nvolatility_window = 10\nmax_volatility = 0.5",
    )
    .unwrap();
    let mut trend = Trend::new(config).unwrap();
    trend.on_start(&mut ctx).unwrap();
    ctx.set_touch(99_999, 100_001);
    for step in 0..30 {
        trend.on_trade(&mut ctx, BTC, &trade(100_000 + step)).unwrap();
    }
    assert_eq!(TestContext::submits(&ctx.take_actions()).len(), 1, "warm-up ends with one working buy");
    ctx.actions.reserve(1 << 16);
    drive_trend(&mut trend, &mut ctx, 0..1_000);
    let mut amends = 0;
    let allocations = allocations_during(|| amends = drive_trend(&mut trend, &mut ctx, 1_000..21_000));
    assert!(amends > 1_000, "the measured stretch must follow the touch, got {amends} amends");
    assert_eq!(allocations, 0, "trend: {allocations} allocations over 20000 trades and book updates");
}

fn trade(price: i64) -> Trade {
    Trade {
        ts_event: UnixNanos(1),
        ts_recv: UnixNanos(1),
        trade_id: None,
        price: Price(price),
        size: Quantity(1),
        aggressor: AggressorSide::Seller,
    }
}

/// Rising trades (the target stays long) and a touch wandering over 50 ticks, which the working limit buy
/// follows by amend; every amend is confirmed at once.
fn drive_trend(trend: &mut Trend, ctx: &mut TestContext, steps: std::ops::Range<i64>) -> usize {
    let mut amends = 0;
    for step in steps {
        let bid = 100_000 + step % 50;
        ctx.set_touch(bid, bid + 2);
        trend.on_trade(ctx, BTC, &trade(100_030 + step)).unwrap();
        trend.on_book(ctx, BTC).unwrap();
        for index in 0..ctx.actions.len() {
            match ctx.actions[index] {
                Action::Amend(id, price, quantity) => {
                    amends += 1;
                    let event = ctx.event(id, OrderEventKind::Replaced { price, quantity });
                    trend.on_order(ctx, &event).unwrap();
                }
                other => panic!("step {step}: unexpected {other:?}"),
            }
        }
        ctx.actions.clear();
    }
    amends
}
