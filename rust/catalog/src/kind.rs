//! [`TableKind`]: the tables of the catalog that the stream reads, one top-level folder each.

use std::fmt;

use ferrotrade_model::RowKind;

/// A kind of table in the catalog that maps onto [`ferrotrade_model::EventRow`]s.
///
/// The catalog also holds `quotes`, which a backtest rebuilds from the book and which this reader does not
/// stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableKind {
    /// L2 book levels (`book/`).
    Book,
    /// Trades (`trades/`).
    Trades,
    /// Binance aggregated trades (`agg_trades/`).
    AggTrades,
    /// Bars / klines (`bars/`).
    Bars,
    /// Mark, index price and funding (`mark/`).
    Mark,
}

impl TableKind {
    /// Every kind, in a stable order.
    pub const ALL: [TableKind; 5] =
        [TableKind::Book, TableKind::Trades, TableKind::AggTrades, TableKind::Bars, TableKind::Mark];

    /// The folder name of the table (`book`, `trades`, `agg_trades`, `bars`, `mark`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            TableKind::Book => "book",
            TableKind::Trades => "trades",
            TableKind::AggTrades => "agg_trades",
            TableKind::Bars => "bars",
            TableKind::Mark => "mark",
        }
    }

    /// The kind of the rows this table becomes (both trade tables become trade rows).
    #[must_use]
    pub const fn row_kind(self) -> RowKind {
        match self {
            TableKind::Book => RowKind::Book,
            TableKind::Trades | TableKind::AggTrades => RowKind::Trade,
            TableKind::Bars => RowKind::Bar,
            TableKind::Mark => RowKind::Mark,
        }
    }

    /// The columns the reader projects, in the order [`crate::part`] decodes them.
    pub(crate) const fn columns(self) -> &'static [&'static str] {
        match self {
            TableKind::Book => &["ts_event", "ts_recv", "sequence", "side", "price", "size", "flags"],
            TableKind::Trades | TableKind::AggTrades => {
                &["ts_event", "ts_recv", "trade_id", "price", "size", "aggressor"]
            }
            TableKind::Bars => &[
                "ts_event",
                "ts_recv",
                "open_time",
                "interval_ns",
                "open",
                "high",
                "low",
                "close",
                "volume",
                "quote_volume",
                "trade_count",
                "taker_buy_volume",
            ],
            TableKind::Mark => {
                &["ts_event", "ts_recv", "mark_price", "index_price", "funding_rate", "next_funding_time"]
            }
        }
    }
}

impl fmt::Display for TableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
