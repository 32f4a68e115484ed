//! [`BatchRunner`]: a [`FeatureSet`] over a stream of catalog rows, collecting the samples as columns.
//!
//! This is the batch side of "one implementation": the runner keeps its own [`OrderBook`] from the book
//! rows and calls the feature set exactly as the backtest engine calls a strategy — `on_book` after the last
//! row of each venue message while the book is not crossed, `on_trade` per trade row, `on_bar` per bar row —
//! so a model trained on its output sees the values a strategy computes from the engine's callbacks. A test
//! in `rust/sim/tests/features_parity.rs` holds the two to bit-identical values on real data.
//!
//! Rows of other instruments are skipped (counted in [`BatchRunner::skipped_rows`]). Output is taken with
//! [`BatchRunner::drain`] as often as the caller likes, so memory stays bounded on long streams.

use ferrotrade_book::OrderBook;
use ferrotrade_model::{EventChunk, InstrumentIndex, RowKind, flags};

use crate::error::FeatureError;
use crate::set::{FeatureSet, Sample};

/// Samples as columns: time, reference price and one column per feature (in the set's order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureTable {
    /// Sample times (receive time, ns).
    pub ts: Vec<u64>,
    /// Reference prices.
    pub price: Vec<f64>,
    /// One column per feature.
    pub columns: Vec<Vec<f64>>,
}

impl FeatureTable {
    fn with_columns(count: usize) -> FeatureTable {
        FeatureTable { ts: Vec::new(), price: Vec::new(), columns: vec![Vec::new(); count] }
    }

    /// Number of samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Whether the table holds no sample.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    fn push(&mut self, sample: &Sample<'_>) {
        self.ts.push(sample.ts.0);
        self.price.push(sample.price);
        for (column, value) in self.columns.iter_mut().zip(sample.values) {
            column.push(*value);
        }
    }
}

/// Runs a feature set over rows of one instrument; see the module docs.
#[derive(Debug)]
pub struct BatchRunner {
    set: FeatureSet,
    instrument: InstrumentIndex,
    book: OrderBook,
    table: FeatureTable,
    skipped_rows: u64,
}

impl BatchRunner {
    /// A runner feeding `set` with the rows of `instrument`.
    #[must_use]
    pub fn new(set: FeatureSet, instrument: InstrumentIndex) -> BatchRunner {
        let columns = set.names().len();
        BatchRunner {
            set,
            instrument,
            book: OrderBook::new(),
            table: FeatureTable::with_columns(columns),
            skipped_rows: 0,
        }
    }

    /// The feature set.
    #[must_use]
    pub fn set(&self) -> &FeatureSet {
        &self.set
    }

    /// Rows of other instruments seen so far.
    #[must_use]
    pub fn skipped_rows(&self) -> u64 {
        self.skipped_rows
    }

    /// Feeds one chunk of receive-ordered rows.
    ///
    /// # Errors
    /// [`FeatureError::Book`] for a book row the book refuses (a negative size); the runner stops being
    /// meaningful after it.
    pub fn process(&mut self, chunk: &EventChunk) -> Result<(), FeatureError> {
        let table = &mut self.table;
        let mut emit = |sample: &Sample<'_>| table.push(sample);
        for row in &chunk.rows {
            if row.instrument != self.instrument {
                self.skipped_rows += 1;
                continue;
            }
            match row.kind {
                RowKind::Book => {
                    self.book
                        .apply_row(row.book_side(), row.price, row.size, row.flags)
                        .map_err(|error| FeatureError::Book { ts: row.ts_recv.0, message: error.to_string() })?;
                    if row.flags & flags::LAST != 0 && !self.book.is_crossed() {
                        self.set.on_book(row.ts_recv, &self.book, &mut emit);
                    }
                }
                RowKind::Trade => self.set.on_trade(&row.trade(), &mut emit),
                RowKind::Bar => {
                    if let Some(bar) = usize::try_from(row.aux).ok().and_then(|index| chunk.bars.get(index)) {
                        self.set.on_bar(bar, &mut emit);
                    }
                }
                RowKind::Mark => {}
            }
        }
        Ok(())
    }

    /// Takes the samples collected so far.
    pub fn drain(&mut self) -> FeatureTable {
        let columns = self.set.names().len();
        std::mem::replace(&mut self.table, FeatureTable::with_columns(columns))
    }
}
