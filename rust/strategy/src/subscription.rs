//! What a strategy listens to: [`Subscription`]s of instruments and data kinds.
//!
//! Several strategies in one run share one data stream; the engine reads the union of their subscriptions
//! and calls each strategy only for what it declared.

use serde::Deserialize;

/// A kind of market data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// L2 book updates (`on_book`).
    Book,
    /// Trades (`on_trade`).
    Trades,
    /// Bars/klines (`on_bar`).
    Bars,
    /// Mark price, index price and funding (`on_mark`).
    Mark,
}

impl DataKind {
    /// The catalog table of this kind (`"book"`, `"trades"`, `"bars"`, `"mark"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            DataKind::Book => "book",
            DataKind::Trades => "trades",
            DataKind::Bars => "bars",
            DataKind::Mark => "mark",
        }
    }
}

/// One instrument and the kinds of data wanted for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subscription {
    /// The instrument as `venue.SYMBOL` (`"binance-usdm.BTCUSDT"`).
    pub instrument: String,
    /// The kinds wanted.
    pub kinds: Vec<DataKind>,
}

impl Subscription {
    /// The instrument with the given kinds.
    #[must_use]
    pub fn new(instrument: &str, kinds: &[DataKind]) -> Subscription {
        Subscription { instrument: instrument.to_owned(), kinds: kinds.to_vec() }
    }

    /// Book updates of `instrument`.
    #[must_use]
    pub fn book(instrument: &str) -> Subscription {
        Subscription::new(instrument, &[DataKind::Book])
    }

    /// Whether `kind` is wanted.
    #[must_use]
    pub fn wants(&self, kind: DataKind) -> bool {
        self.kinds.contains(&kind)
    }
}
