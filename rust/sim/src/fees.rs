//! Fee model: a maker and a taker rate applied to the value of every fill.
//!
//! | contract | notional of a fill | fee currency |
//! |---|---|---|
//! | spot, linear | [`Money::linear_notional`]: `price x quantity x contract_size` | quote (USDT for BTCUSDT) |
//! | inverse | [`Money::inverse_value`]: `quantity x contract_size / price` | base (BTC for BTCUSD_PERP) |
//!
//! The fee is [`Money::fee`] of that notional: positive is paid, negative (a negative maker rate) is a
//! rebate received. Rates are fractions (`0.0002` = 2 bps) with at most 8 decimals, as the venues publish
//! them (Binance USD-M VIP0: maker 0.0002, taker 0.0005).

use ferrotrade_model::{ContractType, Decimal, FeeRate, Instrument, Liquidity, Money, Price, Quantity};
use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// Maker and taker fee rates as fractions of the notional (`maker = -0.0001` is a 1 bp rebate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeConfig {
    /// Rate on fills of resting orders; negative is a rebate.
    pub maker: Decimal,
    /// Rate on fills that took liquidity.
    pub taker: Decimal,
}

impl FeeConfig {
    /// The maker and taker rates as [`FeeRate`]s.
    ///
    /// # Errors
    /// [`SimError::Config`] naming `fees.maker` or `fees.taker` when a rate has more than 8 decimals or is
    /// not strictly between -1 and 1.
    pub fn rates(&self) -> Result<(FeeRate, FeeRate), SimError> {
        let rate = |key: &str, value: Decimal| {
            FeeRate::from_decimal(value).ok_or_else(|| {
                SimError::config(key, format!("{value} is not a fraction in (-1, 1) with <= 8 decimals"))
            })
        };
        Ok((rate("fees.maker", self.maker)?, rate("fees.taker", self.taker)?))
    }
}

/// Fees of one instrument: the rates plus what is needed to value a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeModel {
    maker: FeeRate,
    taker: FeeRate,
    contract_type: ContractType,
    price_precision: u8,
    size_precision: u8,
    contract_size: Decimal,
}

impl FeeModel {
    /// The fee model of `instrument` with the rates of `config`.
    ///
    /// # Errors
    /// As [`FeeConfig::rates`].
    pub fn new(config: &FeeConfig, instrument: &Instrument) -> Result<FeeModel, SimError> {
        let (maker, taker) = config.rates()?;
        Ok(FeeModel {
            maker,
            taker,
            contract_type: instrument.contract_type,
            price_precision: instrument.price_precision,
            size_precision: instrument.size_precision,
            contract_size: instrument.contract_size,
        })
    }

    /// The maker and taker rates.
    #[must_use]
    pub const fn rates(&self) -> (FeeRate, FeeRate) {
        (self.maker, self.taker)
    }

    /// The value of `quantity` at `price`: quote currency for spot and linear, base currency for inverse.
    #[must_use]
    pub fn notional(&self, price: Price, quantity: Quantity) -> Money {
        match self.contract_type {
            ContractType::Spot | ContractType::Linear => {
                Money::linear_notional(price, self.price_precision, quantity, self.size_precision, self.contract_size)
            }
            ContractType::Inverse => {
                Money::inverse_value(price, self.price_precision, quantity, self.size_precision, self.contract_size)
            }
        }
    }

    /// The fee of a fill of `quantity` at `price` (negative: a rebate), in the settlement currency.
    #[must_use]
    pub fn fee(&self, price: Price, quantity: Quantity, liquidity: Liquidity) -> Money {
        let rate = match liquidity {
            Liquidity::Maker => self.maker,
            Liquidity::Taker => self.taker,
        };
        Money::fee(self.notional(price, quantity), rate)
    }
}
