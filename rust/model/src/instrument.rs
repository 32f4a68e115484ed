//! Venues, instrument ids and instrument specifications.

use std::fmt;
use std::str::FromStr;

use crate::decimal::Decimal;
use crate::error::ModelError;
use crate::fixed::{Price, Quantity};

/// A market of an exchange; each has its own wire format details and sequence rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Venue {
    /// Binance spot (`api.binance.com`, `stream.binance.com`).
    BinanceSpot,
    /// Binance USD-M futures (`fapi`, `fstream`).
    BinanceUsdm,
    /// Binance COIN-M futures (`dapi`, `dstream`).
    BinanceCoinm,
    /// Binance.US spot.
    BinanceUs,
    /// Bybit v5 spot.
    BybitSpot,
    /// Bybit v5 linear (USDT/USDC) contracts.
    BybitLinear,
    /// Bybit v5 inverse contracts.
    BybitInverse,
}

impl Venue {
    /// Every venue, in a stable order.
    pub const ALL: [Venue; 7] = [
        Venue::BinanceSpot,
        Venue::BinanceUsdm,
        Venue::BinanceCoinm,
        Venue::BinanceUs,
        Venue::BybitSpot,
        Venue::BybitLinear,
        Venue::BybitInverse,
    ];

    /// The canonical name used in the catalog, topics and configuration (`binance-usdm`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Venue::BinanceSpot => "binance-spot",
            Venue::BinanceUsdm => "binance-usdm",
            Venue::BinanceCoinm => "binance-coinm",
            Venue::BinanceUs => "binance-us",
            Venue::BybitSpot => "bybit-spot",
            Venue::BybitLinear => "bybit-linear",
            Venue::BybitInverse => "bybit-inverse",
        }
    }

    /// Whether the venue is a Binance market (which share one wire format).
    #[must_use]
    pub const fn is_binance(self) -> bool {
        matches!(self, Venue::BinanceSpot | Venue::BinanceUsdm | Venue::BinanceCoinm | Venue::BinanceUs)
    }

    /// The contract type the venue trades.
    #[must_use]
    pub const fn contract_type(self) -> ContractType {
        match self {
            Venue::BinanceSpot | Venue::BinanceUs | Venue::BybitSpot => ContractType::Spot,
            Venue::BinanceUsdm | Venue::BybitLinear => ContractType::Linear,
            Venue::BinanceCoinm | Venue::BybitInverse => ContractType::Inverse,
        }
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Venue {
    type Err = ModelError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Venue::ALL
            .into_iter()
            .find(|venue| venue.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| ModelError::UnknownVenue(name.to_owned()))
    }
}

/// What an instrument's position means in money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractType {
    /// Spot: quantity in base currency, PnL in quote currency.
    Spot,
    /// Linear (USD-M, USDT perpetuals): quantity in base units, margin and PnL in quote currency.
    Linear,
    /// Inverse (COIN-M): quantity in contracts of a fixed quote value, margin and PnL in base currency.
    Inverse,
}

impl ContractType {
    /// `spot`, `linear` or `inverse`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ContractType::Spot => "spot",
            ContractType::Linear => "linear",
            ContractType::Inverse => "inverse",
        }
    }
}

/// A symbol on a venue: `binance-usdm.BTCUSDT`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstrumentId {
    /// The venue.
    pub venue: Venue,
    /// The venue's own symbol, upper case (`BTCUSDT`, `BTCUSD_PERP`).
    pub symbol: String,
}

impl InstrumentId {
    /// An id; the symbol is upper-cased, as every venue here reports symbols.
    #[must_use]
    pub fn new(venue: Venue, symbol: &str) -> InstrumentId {
        InstrumentId { venue, symbol: symbol.to_ascii_uppercase() }
    }
}

impl fmt::Display for InstrumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.venue, self.symbol)
    }
}

/// The specification of a tradable instrument: precisions and the venue's trading filters.
///
/// `price_precision` and `size_precision` are the scales of every [`Price`] and [`Quantity`] of this
/// instrument. `tick_size` and `lot_size` are mantissas at those precisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    /// Venue and symbol.
    pub id: InstrumentId,
    /// Spot, linear or inverse.
    pub contract_type: ContractType,
    /// Decimals of every price.
    pub price_precision: u8,
    /// Decimals of every quantity.
    pub size_precision: u8,
    /// Decimals of mark and index prices, which venues compute finer than the tick (Binance sends
    /// `28142.15563565` for a book quoted in 0.1): kept apart so they don't inflate `price_precision`.
    pub mark_precision: u8,
    /// Smallest price increment, at `price_precision`.
    pub tick_size: Price,
    /// Smallest quantity increment, at `size_precision`.
    pub lot_size: Quantity,
    /// Minimum order value in quote currency, where the venue has one.
    pub min_notional: Option<Decimal>,
    /// Quote value of one contract for inverse contracts (100 USD for Binance BTCUSD_PERP); 1 otherwise.
    pub contract_size: Decimal,
}

impl Instrument {
    /// An instrument whose tick and lot are one unit of the given precisions; the filters that a venue's
    /// exchange info provides can be set afterwards.
    #[must_use]
    pub fn with_precisions(id: InstrumentId, price_precision: u8, size_precision: u8) -> Instrument {
        let contract_type = id.venue.contract_type();
        Instrument {
            id,
            contract_type,
            price_precision,
            size_precision,
            mark_precision: price_precision,
            tick_size: Price(1),
            lot_size: Quantity(1),
            min_notional: None,
            contract_size: Decimal { mantissa: 1, scale: 0 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venue_names_round_trip() {
        for venue in Venue::ALL {
            assert_eq!(venue.as_str().parse::<Venue>(), Ok(venue));
        }
        assert!("kraken".parse::<Venue>().is_err());
        assert_eq!(InstrumentId::new(Venue::BinanceUsdm, "btcusdt").to_string(), "binance-usdm.BTCUSDT");
    }
}
