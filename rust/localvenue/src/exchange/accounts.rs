//! Accounts: API credentials, balances per asset, netting positions per instrument, and how a fill moves
//! them.
//!
//! | market | a buy fill of `q` at `p` (fee `f`, quote currency) |
//! |---|---|
//! | spot | base `+q`, quote `-(p x q) - f` |
//! | linear (USD-M, Bybit linear) | position `+q` ([`Position::apply_fill`]); quote `+realized - f` |
//!
//! The matching engine charges every fee in the quote currency (Binance spot charges a buyer's fee in
//! the base asset; the local venue does not model BNB or base-asset commissions), rounded to 8 decimals
//! as the venues charge and report commissions, so a balance moves by exactly the fees reported. Open spot orders lock
//! what they may spend ([`super::Exchange::locked`]) and a spot order beyond the free balance is refused;
//! linear positions are not margin-checked.
use std::collections::{BTreeMap, VecDeque};

use ferrotrade_model::{ContractType, Decimal, Fill, Instrument, Money, OrderSide};
use ferrotrade_oms::{Position, contract_value};
use ferrotrade_sim::SimVenue;

use crate::capture::split_symbol;

/// One asset's balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Balance {
    /// Wallet balance.
    pub wallet: Money,
}

/// Trades an account remembers for the trade-list endpoints (Binance `myTrades`/`userTrades`), newest
/// last; older ones are forgotten, as a long replay must not grow without bound.
pub(crate) const TRADE_MEMORY: usize = 100_000;

/// One execution of one of the account's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AccountTrade {
    /// The venue's order id.
    pub order_id: u64,
    /// Instrument index.
    pub instrument: usize,
    /// The execution (venue trade id, price, size, fee, maker or taker).
    pub fill: Fill,
    /// PnL it realized (linear), before fees.
    pub realized: Money,
    /// Venue time, ms.
    pub ts_ms: u64,
}

/// One API key's account.
#[derive(Debug)]
pub(crate) struct Account {
    pub api_key: String,
    pub balances: BTreeMap<String, Balance>,
    /// Positions of linear instruments, by instrument index.
    pub positions: BTreeMap<usize, Position>,
    /// The account's matching venue per instrument it traded (see the exchange docs).
    pub venues: BTreeMap<usize, SimVenue>,
    /// The last [`TRADE_MEMORY`] executions, oldest first.
    pub trades: VecDeque<AccountTrade>,
}

impl Account {
    /// An account holding `balances`.
    pub fn new(api_key: String, balances: &[(String, Decimal)]) -> Self {
        let balances = balances
            .iter()
            .map(|(asset, amount)| (asset.clone(), Balance { wallet: Money::from_decimal(*amount) }))
            .collect();
        Account { api_key, balances, positions: BTreeMap::new(), venues: BTreeMap::new(), trades: VecDeque::new() }
    }

    /// Applies a fill of `instrument`; returns the PnL it realized (linear) before fees.
    pub fn apply_fill(&mut self, instrument: &Instrument, index: usize, fill: &Fill) -> Money {
        let (base, quote) = split_symbol(&instrument.id.symbol);
        match instrument.contract_type {
            ContractType::Spot => {
                let size = Money::from_decimal(Decimal::from_fixed(fill.quantity.0, instrument.size_precision));
                let value = contract_value(instrument, fill.price, instrument.price_precision, fill.quantity);
                let sign = match fill.side {
                    OrderSide::Buy => 1,
                    OrderSide::Sell => -1,
                };
                self.balances.entry(base).or_default().wallet += Money(size.0 * sign);
                self.balances.entry(quote).or_default().wallet -= Money(value.0 * sign) + fill.fee;
                Money::ZERO
            }
            ContractType::Linear | ContractType::Inverse => {
                let realized = self
                    .positions
                    .entry(index)
                    .or_insert_with(|| Position::new(fill.instrument))
                    .apply_fill(instrument, fill);
                self.balances.entry(quote).or_default().wallet += realized - fill.fee;
                realized
            }
        }
    }

    /// Remembers an execution for the trade-list endpoints, forgetting the oldest beyond [`TRADE_MEMORY`].
    pub fn record_trade(&mut self, trade: AccountTrade) {
        if self.trades.len() == TRADE_MEMORY {
            self.trades.pop_front();
        }
        self.trades.push_back(trade);
    }

    /// The wallet balance of `asset` (zero when the account never held it).
    pub fn wallet(&self, asset: &str) -> Money {
        self.balances.get(asset).map_or(Money::ZERO, |b| b.wallet)
    }
}
