//! The streaming indicators, each a small state machine: `update` with one sample (a price, or a bar's
//! high/low/close/volume) returns the indicator's value once it is defined, `None` while it warms up.
//!
//! | indicator | textbook definition | ready after |
//! |---|---|---|
//! | [`Sma`] | mean of the last `n` prices | `n` prices |
//! | [`Ema`] | `alpha = 2 / (n + 1)`, seeded with the SMA of the first `n` prices (TA-Lib) | `n` prices |
//! | [`Wma`] | weights `1..=n`, newest heaviest, divided by `n (n + 1) / 2` | `n` prices |
//! | [`Rsi`] | Wilder: average gain and loss seeded with the mean of the first `n` changes, then `(prev (n - 1) + x) / n`; `100 - 100 / (1 + gain / loss)` | `n + 1` prices |
//! | [`Macd`] | `EMA(fast) - EMA(slow)`, signal `EMA(signal)` of that line, histogram line - signal | `slow + signal - 1` prices |
//! | [`Stochastic`] | `%K = 100 (close - lowest low) / (highest high - lowest low)` over `k` bars, `%D = SMA(d)` of `%K` | `k` (`%K`), `k + d - 1` (`%D`) bars |
//! | [`Atr`] | Wilder average of the true range `max(h - l, |h - prev c|, |l - prev c|)` (first bar: `h - l`), seeded with the mean of the first `n` | `n` bars |
//! | [`Bollinger`] | middle `SMA(n)`, bands `± k` population standard deviations; `%B = (price - lower) / (upper - lower)` | `n` prices |
//! | [`Obv`] | running sum of `+volume` on an up close, `-volume` on a down close | 1 bar |
//! | [`RollingVwap`] | `sum(price x volume) / sum(volume)` over the last `n` intervals | `n` intervals |
//!
//! Every update is `O(1)` (the stochastic's range scan is `O(k)`) and allocation-free; the windows are
//! allocated when the indicator is built. Degenerate inputs give the conventional neutral value instead of a
//! NaN: RSI 50 when nothing moved, %K 50 on a flat range, %B 0.5 on zero deviation.

mod averages;
mod oscillators;
mod ranges;
mod volume;

pub use averages::{Ema, Sma, Wma};
pub use oscillators::{Macd, MacdValue, Rsi, Stochastic, StochasticValue};
pub use ranges::{Atr, Bollinger, BollingerValue};
pub use volume::{Obv, RollingVwap};
