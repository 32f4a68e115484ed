//! Binance `exchangeInfo` REST bodies (spot `/api/v3`, USD-M `/fapi/v1`, COIN-M `/dapi/v1`) to
//! [`InstrumentInfo`]s.
//!
//! The three APIs share the `symbols[].filters[]` layout; they differ in where the minimum order value
//! lives (`MIN_NOTIONAL.minNotional` on older spot, `NOTIONAL.minNotional` on newer spot,
//! `MIN_NOTIONAL.notional` on USD-M, absent on COIN-M) and in COIN-M's `contractSize` (a JSON number).
//! This is read once per session, so it allocates freely.

use std::borrow::Cow;

use ferrotrade_model::{Decimal, Venue};
use serde::Deserialize;
use sonic_rs::LazyValue;

use super::levels::decimal;
use crate::decoded::InstrumentInfo;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExchangeSymbol<'a> {
    #[serde(borrow)]
    symbol: Cow<'a, str>,
    #[serde(borrow, default)]
    contract_size: Option<LazyValue<'a>>,
    #[serde(borrow, default)]
    contract_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    filters: Vec<Filter<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter<'a> {
    #[serde(borrow)]
    filter_type: Cow<'a, str>,
    #[serde(borrow, default)]
    tick_size: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    step_size: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    min_notional: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    notional: Option<Cow<'a, str>>,
}

/// Reads the raw `symbols` array of an exchange-info body.
///
/// `venue` is the container's venue when known; otherwise each symbol's own fields tell (a
/// `contractSize` means COIN-M, a `contractType` USD-M, neither spot).
///
/// # Errors
/// A reason when the array is malformed or a symbol lacks `PRICE_FILTER.tickSize` or `LOT_SIZE.stepSize`.
pub(crate) fn parse_symbols(raw: &[u8], venue: Option<Venue>) -> Result<Vec<InstrumentInfo>, String> {
    let symbols: Vec<ExchangeSymbol<'_>> =
        sonic_rs::from_slice(raw).map_err(|error| format!("exchangeInfo symbols: {error}"))?;
    symbols.iter().map(|symbol| instrument(symbol, venue)).collect()
}

fn instrument(symbol: &ExchangeSymbol<'_>, venue: Option<Venue>) -> Result<InstrumentInfo, String> {
    let name = symbol.symbol.as_ref();
    let contract_size = match &symbol.contract_size {
        Some(raw) if raw.as_raw_str() != "null" => {
            Some(decimal("contractSize", raw.as_raw_str().trim_matches('"')).map_err(|e| format!("{name}: {e}"))?)
        }
        _ => None,
    };
    let venue = venue.unwrap_or(if contract_size.is_some() {
        Venue::BinanceCoinm
    } else if symbol.contract_type.as_deref().is_some_and(|kind| !kind.is_empty()) {
        Venue::BinanceUsdm
    } else {
        Venue::BinanceSpot
    });
    let mut tick_size = None;
    let mut lot_size = None;
    let mut min_notional = None;
    for filter in &symbol.filters {
        match filter.filter_type.as_ref() {
            "PRICE_FILTER" => tick_size = field(name, "tickSize", filter.tick_size.as_deref())?,
            "LOT_SIZE" => lot_size = field(name, "stepSize", filter.step_size.as_deref())?,
            "MIN_NOTIONAL" | "NOTIONAL" => {
                let text = filter.min_notional.as_deref().or(filter.notional.as_deref());
                min_notional = field(name, "minNotional", text)?.or(min_notional);
            }
            _ => {}
        }
    }
    let tick_size = tick_size.ok_or_else(|| format!("{name}: exchangeInfo has no PRICE_FILTER.tickSize"))?;
    let lot_size = lot_size.ok_or_else(|| format!("{name}: exchangeInfo has no LOT_SIZE.stepSize"))?;
    Ok(InstrumentInfo { venue, symbol: name.to_owned(), tick_size, lot_size, min_notional, contract_size })
}

fn field(symbol: &str, name: &str, text: Option<&str>) -> Result<Option<Decimal>, String> {
    text.map(|text| decimal(name, text).map_err(|error| format!("{symbol}: {error}"))).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_filter_layouts() {
        let raw = br#"[
            {"symbol":"ETHBTC","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.00000100"},
              {"filterType":"LOT_SIZE","stepSize":"0.00010000"},{"filterType":"MIN_NOTIONAL","minNotional":"0.0001"}]},
            {"symbol":"BTCUSDT","contractType":"PERPETUAL","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.10"},
              {"filterType":"LOT_SIZE","stepSize":"0.001"},{"notional":"5","filterType":"MIN_NOTIONAL"},{"limit":200,"filterType":"MAX_NUM_ORDERS"}]},
            {"symbol":"BTCUSD_PERP","contractSize":100,"contractType":"PERPETUAL","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.1"},
              {"filterType":"LOT_SIZE","stepSize":"1"}]}
        ]"#;
        let infos = parse_symbols(raw, None).unwrap();
        let venues: Vec<Venue> = infos.iter().map(|info| info.venue).collect();
        assert_eq!(venues, [Venue::BinanceSpot, Venue::BinanceUsdm, Venue::BinanceCoinm]);
        assert_eq!(infos[0].tick_size, Decimal::parse(b"0.000001").unwrap());
        assert_eq!(infos[1].min_notional, Some(Decimal::parse(b"5").unwrap()));
        assert_eq!(infos[2].contract_size, Some(Decimal::parse(b"100").unwrap()));
        assert_eq!(infos[2].min_notional, None);
    }

    #[test]
    fn missing_tick_size_is_an_error() {
        let raw = br#"[{"symbol":"X","filters":[{"filterType":"LOT_SIZE","stepSize":"1"}]}]"#;
        assert!(parse_symbols(raw, None).unwrap_err().contains("tickSize"));
        assert!(parse_symbols(b"[{", None).is_err());
    }
}
