//! The book's error type: bad input rejected before it touches the book, and broken invariants found by
//! [`crate::OrderBook::check_integrity`].

use ferrotrade_model::{BookSide, Price, Quantity};

/// Why a book operation failed. Prices and sizes are mantissas at the instrument's precision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// A level update with a negative size; the book was left unchanged.
    #[error("negative size {} at price {} on the {side:?} side", size.0, price.0)]
    NegativeSize {
        /// Side of the rejected level.
        side: BookSide,
        /// Price of the rejected level.
        price: Price,
        /// The negative size.
        size: Quantity,
    },
    /// The best bid is at or above the best ask.
    #[error("book is crossed: best bid {} >= best ask {}", bid.0, ask.0)]
    Crossed {
        /// Best bid price.
        bid: Price,
        /// Best ask price.
        ask: Price,
    },
    /// An internal invariant does not hold (a bug, never the input's fault).
    #[error("{side:?} side is inconsistent: {detail}")]
    Inconsistent {
        /// The side found broken.
        side: BookSide,
        /// Which invariant failed, with the values involved.
        detail: String,
    },
}
