//! [`Portfolio`]: the netting positions of every instrument of a run and the account's PnL.
//!
//! Positions are indexed by [`InstrumentIndex`] (the engine's instrument table), so applying a fill is an
//! index and [`Position::apply_fill`]: O(1), no allocation.
//!
//! # Currencies
//! The snapshot adds money across instruments, so it is meaningful when every instrument settles in the
//! same currency (all USDT-margined, or all coin-margined in one coin), which is what a run configures. A
//! mixed run must convert before adding; the per-instrument figures in [`Portfolio::positions`] stay exact.

use ferrotrade_model::{Fill, Instrument, InstrumentIndex, Money, Price};

use crate::error::OrderStateError;
use crate::position::{PnlSnapshot, Position};

/// Positions of all instruments plus the initial equity.
#[derive(Debug, Clone)]
pub struct Portfolio {
    instruments: Vec<Instrument>,
    positions: Vec<Position>,
    initial_equity: Money,
}

impl Portfolio {
    /// A flat portfolio over `instruments` (position `i` is instrument `i`).
    #[must_use]
    pub fn new(instruments: Vec<Instrument>, initial_equity: Money) -> Portfolio {
        let positions = (0..instruments.len())
            .map(|index| Position::new(InstrumentIndex(u32::try_from(index).unwrap_or(u32::MAX))))
            .collect();
        Portfolio { instruments, positions, initial_equity }
    }

    /// Applies a fill to its instrument's position and returns the PnL it realized (before fees). A fill
    /// for an instrument the portfolio does not have changes nothing and returns zero; use
    /// [`Portfolio::try_apply_fill`] to be told.
    pub fn apply_fill(&mut self, fill: &Fill) -> Money {
        self.try_apply_fill(fill).unwrap_or(Money::ZERO)
    }

    /// As [`Portfolio::apply_fill`], refusing an unknown instrument.
    ///
    /// # Errors
    /// [`OrderStateError::UnknownInstrument`] when `fill.instrument` is not in the table; nothing changes.
    pub fn try_apply_fill(&mut self, fill: &Fill) -> Result<Money, OrderStateError> {
        let index = fill.instrument.get();
        match (self.instruments.get(index), self.positions.get_mut(index)) {
            (Some(instrument), Some(position)) => Ok(position.apply_fill(instrument, fill)),
            _ => Err(OrderStateError::UnknownInstrument(fill.instrument)),
        }
    }

    /// Adds a funding payment (positive: received) to `instrument`'s position; ignored for an unknown
    /// instrument.
    pub fn apply_funding(&mut self, instrument: InstrumentIndex, amount: Money) {
        if let Some(position) = self.positions.get_mut(instrument.get()) {
            position.apply_funding(amount);
        }
    }

    /// The position in `instrument` (a flat one for an unknown index).
    #[must_use]
    pub fn position(&self, instrument: InstrumentIndex) -> Position {
        self.positions.get(instrument.get()).copied().unwrap_or_else(|| Position::new(instrument))
    }

    /// Every position, indexed by instrument.
    #[must_use]
    pub fn positions(&self) -> &[Position] {
        &self.positions
    }

    /// The instrument table.
    #[must_use]
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// The equity the run started with.
    #[must_use]
    pub fn initial_equity(&self) -> Money {
        self.initial_equity
    }

    /// Account figures with `marks[i]` = `(price, precision)` of instrument `i`. Unrealized PnL counts only
    /// where a mark is given (a missing or `None` mark contributes zero). O(instruments).
    #[must_use]
    pub fn pnl(&self, marks: &[Option<(Price, u8)>]) -> PnlSnapshot {
        let mut snapshot = PnlSnapshot::default();
        for (index, (position, instrument)) in self.positions.iter().zip(&self.instruments).enumerate() {
            snapshot.realized += position.realized_pnl;
            snapshot.fees += position.fees;
            snapshot.funding += position.funding;
            if let Some(Some((mark, precision))) = marks.get(index) {
                snapshot.unrealized += position.unrealized_pnl(instrument, *mark, *precision);
            }
        }
        snapshot.equity =
            self.initial_equity + snapshot.realized + snapshot.unrealized - snapshot.fees + snapshot.funding;
        snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotrade_model::{
        ClientOrderId, Decimal, InstrumentId, Liquidity, OrderSide, Quantity, UnixNanos, Venue, VenueOrderId,
    };

    fn money(text: &str) -> Money {
        Money::from_decimal(Decimal::parse_str(text).unwrap())
    }

    fn fill(instrument: u32, side: OrderSide, price: i64, quantity: i64, fee: &str) -> Fill {
        Fill {
            client_id: ClientOrderId(1),
            venue_order_id: VenueOrderId(1),
            trade_id: 1,
            instrument: InstrumentIndex(instrument),
            side,
            price: Price(price),
            quantity: Quantity(quantity),
            fee: money(fee),
            liquidity: Liquidity::Maker,
            ts_event: UnixNanos(0),
            ts_recv: UnixNanos(0),
        }
    }

    fn portfolio() -> Portfolio {
        // Binance USD-M BTCUSDT (0.1, 0.001) and ETHUSDT (0.01, 0.001).
        let btc = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "BTCUSDT"), 1, 3);
        let eth = Instrument::with_precisions(InstrumentId::new(Venue::BinanceUsdm, "ETHUSDT"), 2, 3);
        Portfolio::new(vec![btc, eth], Money::from_units(1000))
    }

    #[test]
    fn snapshot_adds_realized_unrealized_fees_and_funding() {
        let mut portfolio = portfolio();
        assert_eq!(portfolio.apply_fill(&fill(0, OrderSide::Buy, 618_002, 3, "0.0927003")), Money::ZERO);
        assert_eq!(portfolio.apply_fill(&fill(0, OrderSide::Sell, 618_500, 1, "-0.006185")).to_string(), "0.0498");
        // Short 0.010 ETH @ 3000.00.
        portfolio.apply_fill(&fill(1, OrderSide::Sell, 300_000, 10, "0"));
        portfolio.apply_funding(InstrumentIndex(1), money("0.003"));
        portfolio.apply_funding(InstrumentIndex(9), money("5"));
        // Marks: BTC mid 61850.05 (2 decimals): +0.0997; ETH 2990.00: +0.1; ETH also without a mark.
        let snapshot = portfolio.pnl(&[Some((Price(6_185_005), 2)), Some((Price(299_000), 2))]);
        assert_eq!(snapshot.realized.to_string(), "0.0498");
        assert_eq!(snapshot.unrealized.to_string(), "0.1997");
        assert_eq!(snapshot.fees.to_string(), "0.0865153");
        assert_eq!(snapshot.funding.to_string(), "0.003");
        // 1000 + 0.0498 + 0.1997 - 0.0865153 + 0.003
        assert_eq!(snapshot.equity.to_string(), "1000.1659847");
        let without_eth = portfolio.pnl(&[Some((Price(6_185_005), 2))]);
        assert_eq!(without_eth.unrealized.to_string(), "0.0997");
        assert_eq!(portfolio.pnl(&[]).unrealized, Money::ZERO);
    }

    #[test]
    fn unknown_instruments_are_flat_and_refused() {
        let mut portfolio = portfolio();
        let stray = fill(7, OrderSide::Buy, 1, 1, "1");
        assert_eq!(portfolio.try_apply_fill(&stray), Err(OrderStateError::UnknownInstrument(InstrumentIndex(7))));
        assert_eq!(portfolio.apply_fill(&stray), Money::ZERO);
        assert_eq!(portfolio.position(InstrumentIndex(7)), Position::new(InstrumentIndex(7)));
        assert_eq!(portfolio.positions().len(), 2);
        assert_eq!(portfolio.positions()[1].instrument, InstrumentIndex(1));
        assert_eq!(portfolio.instruments()[1].id.symbol, "ETHUSDT");
        assert_eq!(portfolio.pnl(&[]).equity, portfolio.initial_equity());
    }
}
