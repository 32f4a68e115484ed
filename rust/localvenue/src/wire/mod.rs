//! JSON the venue sends: order bodies, user-data events and Bybit private topics, in the venues'
//! documented field names and number formats (decimals as strings at the instrument's precision).
pub(crate) mod binance;
pub(crate) mod bybit;
pub(crate) mod user;

use ferrotrade_model::{Instrument, Money, pow10};

use crate::exchange::OrderRecord;

/// The average fill price of an order at its instrument's price precision, `"0"` before any fill.
pub(crate) fn avg_price(record: &OrderRecord, instrument: &Instrument) -> String {
    if record.filled.0 <= 0 {
        return "0".to_owned();
    }
    // cum_quote is price x size x contract_size at 10^-18; divide by size (at size precision) and
    // rescale to the price precision.
    let size_scale = i128::from(pow10(instrument.size_precision).unwrap_or(1));
    let drop = 18u8.saturating_sub(instrument.price_precision);
    let drop_scale = i128::from(pow10(drop).unwrap_or(1));
    let mantissa = record.cum_quote.0 * size_scale / i128::from(record.filled.0) / drop_scale;
    let mantissa = i64::try_from(mantissa).unwrap_or(i64::MAX);
    ferrotrade_model::Price(mantissa).display(instrument.price_precision).to_string()
}

/// A money amount with at most 8 decimals (what the venues print), truncated toward zero.
pub(crate) fn amount(value: Money) -> String {
    let truncated = Money(value.0 / 10_000_000_000 * 10_000_000_000);
    let text = truncated.to_string();
    if text == "-0" { "0".to_owned() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_eight_decimals() {
        assert_eq!(amount(Money(1_234_567_891_234_567_891)), "1.23456789");
        assert_eq!(amount(Money(-5_000_000_000_000_000_000)), "-5");
        assert_eq!(amount(Money(3)), "0");
    }
}
