//! `ferrotrade._core.OrderBook`: the L2 book of `ferrotrade-book` for Python.
//!
//! Updates take fixed-point mantissas (integers at the book's price and size precision), one level with
//! `apply` or whole arrays with `apply_batch`, which reads numpy (or any buffer-protocol) arrays in place,
//! validates every row first (a rejected batch leaves the book unchanged) and applies them with the GIL
//! released. Queries answer in floats at the book's precision: they are for research and reports, the
//! integers stay inside.

use ferrotrade_book::{OrderBook, TakerSide};
use ferrotrade_model::{BookSide, MAX_PRECISION, Price, Quantity, pow10};
use pyo3::buffer::{Element, PyBuffer};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{BookIntegrityError, ConfigError};

/// An L2 order book of one instrument, keyed by fixed-point price mantissas.
#[pyclass(module = "ferrotrade._core", name = "OrderBook", subclass)]
pub struct PyOrderBook {
    book: OrderBook,
    price_precision: u8,
    size_precision: u8,
}

/// Why a batch was rejected, found before any row was applied.
enum BatchError {
    Side { row: usize, value: u8 },
    NegativeSize { row: usize, price: i64, size: i64 },
}

fn book_side(value: u8) -> Option<BookSide> {
    match value {
        0 => Some(BookSide::Bid),
        1 => Some(BookSide::Ask),
        _ => None,
    }
}

/// Validates every row, then applies them all: the book changes only if the whole batch is valid.
fn apply_rows(
    book: &mut OrderBook,
    sides: &[u8],
    prices: &[i64],
    sizes: &[i64],
    row_flags: Option<&[u8]>,
) -> Result<(), BatchError> {
    if let Some(row) = sides.iter().position(|&side| side > 1) {
        return Err(BatchError::Side { row, value: sides[row] });
    }
    if let Some(row) = sizes.iter().position(|&size| size < 0) {
        return Err(BatchError::NegativeSize { row, price: prices[row], size: sizes[row] });
    }
    let rows = sides.iter().zip(prices).zip(sizes);
    // Validated above, so `apply_level`/`apply_row` cannot fail; their results are dropped on purpose.
    match row_flags {
        None => {
            for ((&side, &price), &size) in rows {
                let side = if side == 0 { BookSide::Bid } else { BookSide::Ask };
                let _ = book.apply_level(side, Price(price), Quantity(size));
            }
        }
        Some(row_flags) => {
            for (((&side, &price), &size), &flag) in rows.zip(row_flags) {
                let side = if side == 0 { BookSide::Bid } else { BookSide::Ask };
                let _ = book.apply_row(side, Price(price), Quantity(size), flag);
            }
        }
    }
    Ok(())
}

/// The elements of a one-dimensional C-contiguous buffer, or `ValueError` naming the argument.
fn contiguous<'a, T: Element>(buffer: &'a PyBuffer<T>, name: &str) -> PyResult<&'a [T]> {
    if buffer.dimensions() != 1 {
        return Err(PyValueError::new_err(format!(
            "{name} must be one-dimensional, got {} dimensions",
            buffer.dimensions()
        )));
    }
    let pointer = buffer
        .as_slice_ptr()
        .ok_or_else(|| PyValueError::new_err(format!("{name} must be C-contiguous (use numpy.ascontiguousarray)")))?;
    // SAFETY: the buffer is held (so the exporter keeps the memory alive and may not resize it) for as long
    // as the borrow of `buffer` this slice is tied to; it is only read. Another thread writing the array
    // while the batch runs is the same hazard as with any numpy function that releases the GIL.
    Ok(unsafe { pointer.as_ref() })
}

fn scale(precision: u8) -> f64 {
    // `precision <= MAX_PRECISION` is checked in `new`, so the power exists.
    pow10(precision).map_or(f64::NAN, |power| power as f64)
}

impl PyOrderBook {
    fn price(&self, price: i64) -> f64 {
        Price(price).to_f64(self.price_precision)
    }

    fn size(&self, size: i64) -> f64 {
        Quantity(size).to_f64(self.size_precision)
    }

    fn level(&self, side: BookSide) -> Option<(f64, f64)> {
        self.book.best(side).map(|level| (self.price(level.price.0), self.size(level.size.0)))
    }
}

#[pymethods]
impl PyOrderBook {
    /// A book for an instrument quoted with `price_precision` decimals (ideally its tick's decimals) and
    /// sized with `size_precision` decimals; `window` is the dense window in price steps per side.
    #[new]
    #[pyo3(signature = (price_precision, size_precision, window = None))]
    fn new(price_precision: u8, size_precision: u8, window: Option<usize>) -> PyResult<Self> {
        for (name, precision) in [("price_precision", price_precision), ("size_precision", size_precision)] {
            if precision > MAX_PRECISION {
                return Err(ConfigError::new_err(format!("{name} {precision} is above the maximum {MAX_PRECISION}")));
            }
        }
        let book = window.map_or_else(OrderBook::new, OrderBook::with_window);
        Ok(PyOrderBook { book, price_precision, size_precision })
    }

    /// Decimals of prices.
    #[getter]
    fn price_precision(&self) -> u8 {
        self.price_precision
    }

    /// Decimals of sizes.
    #[getter]
    fn size_precision(&self) -> u8 {
        self.size_precision
    }

    /// Slots per side of the dense window (after rounding).
    #[getter]
    fn window(&self) -> usize {
        self.book.window()
    }

    /// Sets one level: `side` 0 = bid, 1 = ask; price and size are mantissas; size 0 deletes.
    fn apply(&mut self, side: u8, price: i64, size: i64) -> PyResult<()> {
        let side = book_side(side)
            .ok_or_else(|| BookIntegrityError::new_err(format!("side must be 0 (bid) or 1 (ask), got {side}")))?;
        self.book
            .apply_level(side, Price(price), Quantity(size))
            .map_err(|error| BookIntegrityError::new_err(error.to_string()))
    }

    /// Applies arrays of rows (uint8 side, int64 price and size mantissas, optional uint8 flags where
    /// CLEAR = 4 clears the book first) with the GIL released; returns the number of rows applied.
    #[pyo3(signature = (side, price, size, flags = None))]
    fn apply_batch(
        &mut self,
        py: Python<'_>,
        side: PyBuffer<u8>,
        price: PyBuffer<i64>,
        size: PyBuffer<i64>,
        flags: Option<PyBuffer<u8>>,
    ) -> PyResult<usize> {
        let sides = contiguous(&side, "side")?;
        let prices = contiguous(&price, "price")?;
        let sizes = contiguous(&size, "size")?;
        let row_flags = flags.as_ref().map(|flags| contiguous(flags, "flags")).transpose()?;
        let rows = sides.len();
        if prices.len() != rows || sizes.len() != rows || row_flags.is_some_and(|flags| flags.len() != rows) {
            let flags_len = row_flags.map_or_else(|| "none".to_owned(), |flags| flags.len().to_string());
            return Err(PyValueError::new_err(format!(
                "arrays must have equal lengths: side {rows}, price {}, size {}, flags {flags_len}",
                prices.len(),
                sizes.len()
            )));
        }
        let book = &mut self.book;
        match py.detach(move || apply_rows(book, sides, prices, sizes, row_flags)) {
            Ok(()) => Ok(rows),
            Err(BatchError::Side { row, value }) => Err(BookIntegrityError::new_err(format!(
                "row {row}: side must be 0 (bid) or 1 (ask), got {value}; nothing applied"
            ))),
            Err(BatchError::NegativeSize { row, price, size }) => Err(BookIntegrityError::new_err(format!(
                "row {row}: negative size {size} at price {price}; nothing applied"
            ))),
        }
    }

    /// Best bid as `(price, size)`, or `None` when there are no bids.
    fn best_bid(&self) -> Option<(f64, f64)> {
        self.level(BookSide::Bid)
    }

    /// Best ask as `(price, size)`, or `None` when there are no asks.
    fn best_ask(&self) -> Option<(f64, f64)> {
        self.level(BookSide::Ask)
    }

    /// Mid price, or `None` when a side is empty.
    fn mid(&self) -> Option<f64> {
        self.book.mid_x2().map(|twice| self.price(twice.0) / 2.0)
    }

    /// Best ask minus best bid, or `None` when a side is empty.
    fn spread(&self) -> Option<f64> {
        self.book.spread().map(|spread| self.price(spread.0))
    }

    /// `(bid volume - ask volume) / (bid volume + ask volume)` over the top `n` levels of each side.
    #[pyo3(signature = (n = 5))]
    fn imbalance(&self, n: usize) -> Option<f64> {
        self.book.imbalance(n)
    }

    /// Average price a taker ('buy' or 'sell') of `size` would pay, or `None` when the book is too thin.
    fn fill_price(&self, side: &str, size: f64) -> PyResult<Option<f64>> {
        let taker = match side {
            "buy" => TakerSide::Buy,
            "sell" => TakerSide::Sell,
            _ => {
                return Err(PyValueError::new_err(format!("side must be 'buy' or 'sell', got {side:?}")));
            }
        };
        let mantissa = (size * scale(self.size_precision)).round();
        // The float range check keeps the cast below exact.
        if !(mantissa > 0.0 && mantissa < 9.0e18) {
            return Err(PyValueError::new_err(format!("size must be positive and finite, got {size}")));
        }
        let fill = self.book.fill(taker, Quantity(mantissa as i64));
        Ok(if fill.is_complete() { fill.average_price_f64(self.price_precision) } else { None })
    }

    /// The top `n` levels of each side as columns `side` ('bid'/'ask'), `level` (0 = best), `price`, `size`.
    #[pyo3(signature = (n = 10))]
    fn depth<'py>(&self, py: Python<'py>, n: usize) -> PyResult<Bound<'py, PyDict>> {
        let (mut sides, mut levels, mut prices, mut sizes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (side, name) in [(BookSide::Bid, "bid"), (BookSide::Ask, "ask")] {
            for (index, level) in self.book.depth(side, n).enumerate() {
                sides.push(name);
                levels.push(index);
                prices.push(self.price(level.price.0));
                sizes.push(self.size(level.size.0));
            }
        }
        let columns = PyDict::new(py);
        columns.set_item("side", sides)?;
        columns.set_item("level", levels)?;
        columns.set_item("price", prices)?;
        columns.set_item("size", sizes)?;
        Ok(columns)
    }

    /// Number of `(bid, ask)` levels.
    fn level_counts(&self) -> (usize, usize) {
        (self.book.level_count(BookSide::Bid), self.book.level_count(BookSide::Ask))
    }

    /// Whether the best bid is at or above the best ask.
    fn is_crossed(&self) -> bool {
        self.book.is_crossed()
    }

    /// Raises `BookIntegrityError` if the book is crossed or an internal invariant is broken.
    fn check_integrity(&self) -> PyResult<()> {
        self.book.check_integrity().map_err(|error| BookIntegrityError::new_err(error.to_string()))
    }

    /// Removes every level.
    fn clear(&mut self) {
        self.book.clear();
    }

    fn __repr__(&self) -> String {
        let show = |level: Option<(f64, f64)>| {
            level.map_or_else(|| "None".to_owned(), |(price, size)| format!("{price:?} x {size:?}"))
        };
        let (bids, asks) = self.level_counts();
        format!(
            "OrderBook(bid={}, ask={}, levels=({bids}, {asks}), price_precision={}, size_precision={})",
            show(self.best_bid()),
            show(self.best_ask()),
            self.price_precision,
            self.size_precision
        )
    }
}

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyOrderBook>()
}
