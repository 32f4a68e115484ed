//! [`EventRow`]: the normalized market events in one fixed-size `#[repr(C)]` row, the form the backtest loop
//! and the catalog reader exchange.
//!
//! The catalog stores one table per kind; a backtest needs them interleaved in receive order, many millions
//! per second. One 48-byte row type for every kind makes the merged stream a plain `Vec<EventRow>`: no enum
//! with borrowed slices, no allocation per event, and a layout that matches a numpy structured dtype.
//!
//! | kind | `side` | `price` | `size` | `aux` |
//! |---|---|---|---|---|
//! | [`RowKind::Book`] | [`BookSide`] as `u8` | level price | level size (0 = delete) | sequence (`u`) |
//! | [`RowKind::Trade`] | [`AggressorSide`] as `u8` | trade price | trade size | trade id (`u64::MAX` = none) |
//! | [`RowKind::Bar`] | 0 | close | volume | index into the stream's bar table |
//! | [`RowKind::Mark`] | 0 | mark price (at `mark_precision`) | 0 | index into the stream's mark table |
//!
//! `flags` carries the book flags ([`crate::flags`]) for book rows and is 0 otherwise. Bars and mark
//! prices have more fields than a row holds and are rare (one per minute or second), so their rows point
//! into side tables carried next to the rows.

use crate::events::{AggressorSide, Bar, BookSide, MarkPrice, Trade};
use crate::fixed::{Price, Quantity};
use crate::order::InstrumentIndex;
use crate::time::UnixNanos;

/// Which event a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum RowKind {
    /// One L2 level (part of a venue message; `flags & LAST` ends the message).
    #[default]
    Book = 1,
    /// One trade.
    Trade = 2,
    /// One bar (kline); details in the bar table.
    Bar = 3,
    /// One mark/index/funding update; details in the mark table.
    Mark = 4,
}

/// One market event in row form (48 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(C)]
pub struct EventRow {
    /// Exchange time.
    pub ts_event: UnixNanos,
    /// Local receive time; a stream is ordered by it.
    pub ts_recv: UnixNanos,
    /// Price mantissa (see the table in the module docs).
    pub price: Price,
    /// Size mantissa.
    pub size: Quantity,
    /// Kind-specific payload.
    pub aux: u64,
    /// The instrument.
    pub instrument: InstrumentIndex,
    /// What the row holds.
    pub kind: RowKind,
    /// Book side or aggressor side.
    pub side: u8,
    /// Book flags.
    pub flags: u8,
    /// Padding, always 0.
    pub reserved: u8,
}

impl EventRow {
    /// `aux` of a trade row without a trade id.
    pub const NO_TRADE_ID: u64 = u64::MAX;

    /// The book side of a book row.
    #[inline]
    #[must_use]
    pub const fn book_side(&self) -> BookSide {
        if self.side == BookSide::Ask as u8 { BookSide::Ask } else { BookSide::Bid }
    }

    /// The trade a trade row holds (the one `on_trade` callbacks receive).
    #[inline]
    #[must_use]
    pub const fn trade(&self) -> Trade {
        Trade {
            ts_event: self.ts_event,
            ts_recv: self.ts_recv,
            trade_id: if self.aux == EventRow::NO_TRADE_ID { None } else { Some(self.aux) },
            price: self.price,
            size: self.size,
            aggressor: self.aggressor(),
        }
    }

    /// The aggressor of a trade row.
    #[inline]
    #[must_use]
    pub const fn aggressor(&self) -> AggressorSide {
        match self.side {
            1 => AggressorSide::Buyer,
            2 => AggressorSide::Seller,
            _ => AggressorSide::Unknown,
        }
    }
}

/// A run of [`EventRow`]s in receive order with the side tables their bar and mark rows point into.
///
/// Readers hand chunks to the backtest loop and take them back for reuse, so a long replay allocates
/// nothing after the first few chunks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventChunk {
    /// The rows, ordered by `ts_recv`.
    pub rows: Vec<EventRow>,
    /// Bars referenced by bar rows (`aux` = index).
    pub bars: Vec<Bar>,
    /// Mark updates referenced by mark rows (`aux` = index).
    pub marks: Vec<MarkPrice>,
}

impl EventChunk {
    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the chunk holds no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Empties the chunk, keeping its capacity.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.bars.clear();
        self.marks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_is_48_bytes_and_decodes_sides() {
        assert_eq!(std::mem::size_of::<EventRow>(), 48);
        let row = EventRow { side: BookSide::Ask as u8, ..EventRow::default() };
        assert_eq!(row.book_side(), BookSide::Ask);
        let row = EventRow { kind: RowKind::Trade, side: AggressorSide::Seller as u8, ..EventRow::default() };
        assert_eq!(row.aggressor(), AggressorSide::Seller);
    }
}
