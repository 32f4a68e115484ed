//! The account's own trades of one order: spot `GET /api/v3/myTrades` and USD-M `GET /fapi/v1/userTrades`
//! (both signed, `symbol` + `orderId`).
//!
//! # Why
//! An order's state (`GET /order`) gives its cumulative filled quantity and average price, not its
//! executions. After a gap in the user-data stream, the executions missed are what the OMS needs: each
//! with its venue trade id (so a late stream report of the same execution is recognised and not counted
//! twice), price, quantity, fee and maker/taker flag. These endpoints list exactly that.
//!
//! # Fields
//! | field | spot | USD-M |
//! |---|---|---|
//! | trade id | `id` | `id` |
//! | maker | `isMaker` | `maker` |
//! | fee (positive: paid) | `commission` | `commission` |
//! | fee asset | `commissionAsset` | `commissionAsset` |
//! | time | `time` (ms) | `time` (ms) |
//!
//! Weight: spot 5 with `orderId` (20 without), USD-M 5.

use ferrotrade_model::{Decimal, Liquidity};
use serde::Deserialize;

use super::binance::{BinanceRequests, Market};
use super::{AccountTrade, FillReport, SignedRequest, TradingError, de, malformed, millis, push_param};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTrade {
    symbol: String,
    #[serde(deserialize_with = "de::id_string")]
    id: String,
    #[serde(deserialize_with = "de::id_string")]
    order_id: String,
    #[serde(deserialize_with = "de::decimal")]
    price: Decimal,
    #[serde(deserialize_with = "de::decimal")]
    qty: Decimal,
    #[serde(default, deserialize_with = "de::decimal_or_zero")]
    commission: Decimal,
    #[serde(default)]
    commission_asset: String,
    time: u64,
    /// Spot's maker flag.
    #[serde(default)]
    is_maker: Option<bool>,
    /// USD-M's maker flag.
    #[serde(default)]
    maker: Option<bool>,
}

impl BinanceRequests {
    /// The account's trades of order `venue_order_id` (see the module docs), at most 1000 (the venue's
    /// cap; an order with more executions than that is paged with `fromId`, which the live gateway does
    /// not need: it asks per order after a stream gap).
    #[must_use]
    pub fn order_trades(&self, symbol: &str, venue_order_id: &str, timestamp_ms: u64) -> SignedRequest {
        let mut params = String::new();
        push_param(&mut params, "symbol", symbol);
        push_param(&mut params, "orderId", venue_order_id);
        push_param(&mut params, "limit", "1000");
        let path = match self.market() {
            Market::Spot => "/api/v3/myTrades",
            Market::UsdM => "/fapi/v1/userTrades",
        };
        self.signed("GET", path, &params, timestamp_ms)
    }
}

/// Parses the answer of [`BinanceRequests::order_trades`], oldest first as the venue lists them.
///
/// # Errors
/// [`TradingError::Malformed`] for a body that is not a list of trades, or a trade without its maker
/// flag.
pub fn parse_order_trades(body: &str) -> Result<Vec<AccountTrade>, TradingError> {
    const CONTEXT: &str = "binance account trades";
    let trades: Vec<WireTrade> = sonic_rs::from_str(body).map_err(malformed(CONTEXT))?;
    trades
        .into_iter()
        .map(|trade| {
            let maker = trade.is_maker.or(trade.maker).ok_or(TradingError::Malformed {
                context: CONTEXT,
                reason: format!("trade {} has no maker flag", trade.id),
            })?;
            Ok(AccountTrade {
                symbol: trade.symbol,
                venue_order_id: trade.order_id,
                fill: FillReport {
                    trade_id: trade.id,
                    price: trade.price,
                    quantity: trade.qty,
                    fee: trade.commission,
                    fee_asset: trade.commission_asset,
                    liquidity: if maker { Liquidity::Maker } else { Liquidity::Taker },
                    ts_event: millis(Some(trade.time)),
                },
            })
        })
        .collect()
}
