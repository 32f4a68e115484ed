//! Streaming indicators and microstructure features, one implementation for training and serving.
//!
//! A model is only as good as the agreement between the features it was trained on and the features it is
//! served. This crate is the single place they are computed: the batch path (`ft.features.compute` over a
//! catalog, through [`BatchRunner`]) and the streaming path (a strategy's callbacks in the backtest and live
//! engines) feed the same [`FeatureSet`] with the same events in the same order, so they produce the same
//! bits.
//!
//! | module | what |
//! |---|---|
//! | [`indicators`] | SMA, EMA, WMA, RSI, MACD, stochastic, ATR, Bollinger, OBV, rolling VWAP as small streaming state machines |
//! | [`spec`] | feature names (`rsi_14`, `book_imbalance_5`): the one spelling of each feature and what it computes |
//! | [`set`] | [`FeatureSet`]: a configured list of features sampled on a [`Clock`] (bars, book messages, time intervals) |
//! | [`batch`] | [`BatchRunner`]: a feature set over catalog rows, collected as columns |
//!
//! # Invariants
//! - After construction nothing allocates: every window is a ring buffer sized once (see [`window`]).
//! - Values are `f64` and decide nothing about money; prices and sizes enter as fixed-point mantissas and are
//!   scaled once, with the instrument's precisions.
//! - The same events in the same order give bit-identical values, whoever delivers them.
//! - [`FEATURE_CODE_VERSION`] changes whenever any feature's computation changes, so a model card records
//!   which definitions its model was trained on and an engine can refuse a model built on others.
//!
//! # Example
//! ```
//! use ferrotrade_features::{Clock, FeatureConfig, FeatureSet};
//! use ferrotrade_model::{Bar, Price, Quantity, UnixNanos};
//!
//! let config = FeatureConfig { clock: Clock::Bars, features: vec!["return_1".into(), "rsi_2".into()] };
//! let mut set = FeatureSet::new(&config, 2, 3).unwrap();
//! let mut rows = Vec::new();
//! for (hour, close) in [100_00, 101_00, 100_50].into_iter().enumerate() {
//!     let bar = Bar {
//!         ts_event: UnixNanos(hour as u64 * 3_600_000_000_000),
//!         ts_recv: UnixNanos(hour as u64 * 3_600_000_000_000),
//!         open_time: UnixNanos(0),
//!         interval_ns: 3_600_000_000_000,
//!         open: Price(close),
//!         high: Price(close),
//!         low: Price(close),
//!         close: Price(close),
//!         volume: Quantity(1_000),
//!         quote_volume: 100.0,
//!         trade_count: 1,
//!         taker_buy_volume: Quantity(500),
//!     };
//!     set.on_bar(&bar, &mut |sample| rows.push(sample.values.to_vec()));
//! }
//! assert!(rows[0][0].is_nan());                       // no previous close yet
//! assert!((rows[1][0] - (101.0f64 / 100.0).ln()).abs() < 1e-12);
//! assert!((rows[2][1] - 100.0 * 1.0 / 1.5).abs() < 1e-9);   // gains 1, losses 0.5
//! ```
#![deny(missing_docs)]

pub mod batch;
mod error;
pub mod indicators;
pub mod set;
pub mod spec;
pub mod window;

pub use batch::{BatchRunner, FeatureTable};
pub use error::FeatureError;
pub use set::{Clock, FeatureConfig, FeatureSet, Sample};
pub use spec::{FeatureKind, FeatureSpec};

/// Version of the feature definitions. Bump it whenever a feature's value changes for the same input:
/// model cards record it, and an engine refuses a model trained on another version.
pub const FEATURE_CODE_VERSION: &str = "1";
