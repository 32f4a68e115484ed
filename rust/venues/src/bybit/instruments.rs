//! Bybit v5 REST `GET /v5/market/instruments-info` responses, as [`InstrumentInfo`]s.
//!
//! | field | linear / inverse | spot |
//! |---|---|---|
//! | `tick_size` | `priceFilter.tickSize` | `priceFilter.tickSize` |
//! | `lot_size` | `lotSizeFilter.qtyStep` | `lotSizeFilter.basePrecision` |
//! | `min_notional` | `lotSizeFilter.minNotionalValue` | `lotSizeFilter.minOrderAmt` |
//!
//! Entries that lack a tick size or a lot step (pre-listing or option-like entries whose filters are
//! empty strings) are skipped: they carry no precision to learn. A filter that is present but not a
//! number fails the whole response.

use std::borrow::Cow;

use ferrotrade_model::{Decimal, Venue};
use serde::Deserialize;

use crate::decoded::InstrumentInfo;
use crate::source::FrameHint;

#[derive(Deserialize)]
struct InstrumentsResult<'a> {
    #[serde(borrow, default)]
    category: Option<&'a str>,
    #[serde(borrow)]
    list: Vec<Entry<'a>>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    symbol: Cow<'a, str>,
    #[serde(rename = "priceFilter", borrow, default)]
    price_filter: Option<PriceFilter<'a>>,
    #[serde(rename = "lotSizeFilter", borrow, default)]
    lot_size_filter: Option<LotSizeFilter<'a>>,
}

#[derive(Deserialize)]
struct PriceFilter<'a> {
    #[serde(rename = "tickSize", borrow, default)]
    tick_size: Option<&'a str>,
}

#[derive(Deserialize)]
struct LotSizeFilter<'a> {
    #[serde(rename = "qtyStep", borrow, default)]
    qty_step: Option<&'a str>,
    #[serde(rename = "basePrecision", borrow, default)]
    base_precision: Option<&'a str>,
    #[serde(rename = "minNotionalValue", borrow, default)]
    min_notional_value: Option<&'a str>,
    #[serde(rename = "minOrderAmt", borrow, default)]
    min_order_amount: Option<&'a str>,
}

/// Parses the `result` object of an `instruments-info` response.
pub(super) fn parse(result: &str, hint: &FrameHint) -> Result<Vec<InstrumentInfo>, String> {
    let result: InstrumentsResult<'_> =
        sonic_rs::from_str(result).map_err(|e| format!("REST result is not an instruments-info list: {e}"))?;
    let venue = match result.category {
        Some("spot") => Venue::BybitSpot,
        Some("linear") => Venue::BybitLinear,
        Some("inverse") => Venue::BybitInverse,
        Some(other) => return Err(format!("instruments-info: unsupported category {other:?}")),
        None => match hint.venue {
            Some(venue @ (Venue::BybitSpot | Venue::BybitLinear | Venue::BybitInverse)) => venue,
            _ => Venue::BybitLinear,
        },
    };
    let mut infos = Vec::with_capacity(result.list.len());
    for entry in &result.list {
        let lots = entry.lot_size_filter.as_ref();
        let tick = entry.price_filter.as_ref().and_then(|filter| filter.tick_size);
        let (step, min_notional) = if venue == Venue::BybitSpot {
            (lots.and_then(|l| l.base_precision), lots.and_then(|l| l.min_order_amount))
        } else {
            (lots.and_then(|l| l.qty_step), lots.and_then(|l| l.min_notional_value))
        };
        let (Some(tick), Some(step)) = (non_empty(tick), non_empty(step)) else {
            continue;
        };
        let symbol = &entry.symbol;
        let parse = |field: &str, text: &str| {
            Decimal::parse_str(text).map_err(|e| format!("instruments-info {symbol} {field}: {e}"))
        };
        infos.push(InstrumentInfo {
            venue,
            symbol: symbol.clone().into_owned(),
            tick_size: parse("tickSize", tick)?,
            lot_size: parse("lot step", step)?,
            min_notional: non_empty(min_notional).map(|text| parse("min notional", text)).transpose()?,
            contract_size: None,
        });
    }
    Ok(infos)
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.filter(|text| !text.is_empty())
}
