//! The account's executions of one order: Bybit v5 `GET /v5/execution/list` (signed; `category`,
//! `symbol`, and `orderLinkId` or `orderId`).
//!
//! # Why
//! As on Binance (`binance_trades`), an order's state (`/v5/order/realtime`) gives only its cumulative
//! filled quantity and average price. After a gap in the private stream the executions missed are what
//! the OMS needs, each with its `execId` (so a late `execution` push of the same fill is recognised),
//! price, quantity, fee and maker flag: this endpoint lists them, with the same fields as the
//! `execution` topic.
//!
//! # Rules
//! - Only executions that move a position are fills (`Trade`, `AdlTrade`, `BustTrade`, `BlockTrade`,
//!   `MovePosition`, as on the private stream); `Funding`, `Settle` and `Delivery` items carry no order
//!   of ours and are skipped.
//! - Bybit lists newest first; [`parse_executions`] returns oldest first (by `execTime`, the venue's
//!   order kept among equal times), as the trade lists of Binance are.
//! - One page of at most 100 items: the gateway asks per order after a gap; an order with more
//!   executions than that is paged with `cursor`, which it does not need.

use ferrotrade_model::Venue;

use super::bybit::{BybitRequests, Category};
use super::bybit_rest::{List, category_of, result};
use super::bybit_user::{Execution, is_fill};
use super::{AccountTrade, OrderRef, SignedRequest, TradingError, push_param, wire_client_id};

/// The most items one page of `execution/list` holds.
pub const EXECUTION_PAGE: u32 = 100;

impl BybitRequests {
    /// `GET /v5/execution/list` of one order (see the module docs).
    ///
    /// # Errors
    /// [`TradingError::Auth`] for an Ed25519 key.
    pub fn order_executions(
        &self,
        category: Category,
        symbol: &str,
        order: &OrderRef,
        timestamp_ms: u64,
    ) -> Result<SignedRequest, TradingError> {
        let mut query = String::with_capacity(96);
        push_param(&mut query, "category", category.as_str());
        push_param(&mut query, "symbol", symbol);
        match order {
            OrderRef::Client(id) => push_param(&mut query, "orderLinkId", wire_client_id(*id)),
            OrderRef::Venue(id) => push_param(&mut query, "orderId", id.as_str()),
        }
        push_param(&mut query, "limit", EXECUTION_PAGE);
        self.signed_get("/v5/execution/list", query, timestamp_ms)
    }
}

/// Parses the answer of [`BybitRequests::order_executions`]: the fills, oldest first, attributed to the
/// list's `category` (`category` when the answer does not name one).
///
/// # Errors
/// [`TradingError::Api`] for a `retCode` other than 0; [`TradingError::Malformed`] for an item that lacks a
/// field; [`TradingError::Unknown`] for an unmodelled side or order type.
pub fn parse_executions(category: Category, body: &str) -> Result<Vec<AccountTrade>, TradingError> {
    let (list, _): (List<Execution>, _) = result(body, "bybit executions")?;
    let venue: Venue = category_of(list.category.as_deref()).unwrap_or(category).venue();
    let mut trades = list
        .list
        .into_iter()
        .filter(|item| is_fill(&item.exec_type))
        .map(|item| item.into_trade(venue))
        .collect::<Result<Vec<_>, _>>()?;
    trades.reverse();
    // Stable: executions of one millisecond keep the venue's (reversed) order.
    trades.sort_by_key(|trade| trade.fill.ts_event);
    Ok(trades)
}
