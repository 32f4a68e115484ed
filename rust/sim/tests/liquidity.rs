//! The memory of liquidity our takers consumed: two takers cannot take the same recorded quantity, and a
//! recorded update of the level resets it.

mod common;

use common::*;
use ferrotrade_model::{BookSide, Liquidity, OrderSide, TimeInForce};

const T: Liquidity = Liquidity::Taker;

#[test]
fn two_takers_cannot_take_the_same_level() {
    let mut venue = venue();
    assert_eq!(fill_summary(&submit(&mut venue, 1, &market(OrderSide::Buy, 3_000))), [(618_003, 3_000, T)]);
    // Only 0.330 is left of 61800.3's 3.330 for us.
    let events = submit(&mut venue, 2, &market(OrderSide::Buy, 1_000));
    assert_eq!(fill_summary(&events), [(618_003, 330, T), (618_004, 150, T), (618_005, 520, T)]);
    // FOK counts the memory too: 0.680 left at 61800.5 is not 1.000.
    let events = submit(&mut venue, 3, &with_tif(limit(OrderSide::Buy, 618_005, 1_000), TimeInForce::Fok));
    assert_eq!(kinds(&events), ["Accepted", "Expired"]);
}

#[test]
fn a_recorded_update_of_the_level_resets_its_memory() {
    let mut venue = venue();
    submit(&mut venue, 1, &market(OrderSide::Buy, 3_000));
    let mut out = Vec::new();
    // An update elsewhere keeps the memory of 61800.3 ...
    venue.on_book_row(&level(BookSide::Ask, 618_006, 500, true), &mut out);
    assert_eq!(fill_summary(&submit(&mut venue, 2, &market(OrderSide::Buy, 330))), [(618_003, 330, T)]);
    // ... an update of 61800.3 itself is the exchange's fresh size: all of it is available again.
    venue.on_book_row(&level(BookSide::Ask, 618_003, 3_330, true), &mut out);
    assert!(out.is_empty());
    assert_eq!(fill_summary(&submit(&mut venue, 3, &market(OrderSide::Buy, 1_000))), [(618_003, 1_000, T)]);
}
