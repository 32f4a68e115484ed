//! Oscillators: [`Rsi`] (Wilder), [`Macd`], [`Stochastic`].

use super::averages::{Ema, Sma};
use crate::window::Window;

/// Wilder's relative strength index over `n` price changes, in `[0, 100]`.
#[derive(Debug, Clone)]
pub struct Rsi {
    n: usize,
    previous: Option<f64>,
    changes: usize,
    average_gain: f64,
    average_loss: f64,
}

impl Rsi {
    /// An RSI over `n` changes (`n >= 1`).
    #[must_use]
    pub fn new(n: usize) -> Rsi {
        Rsi { n: n.max(1), previous: None, changes: 0, average_gain: 0.0, average_loss: 0.0 }
    }

    /// Adds a price; the RSI once `n` changes (`n + 1` prices) were seen.
    #[inline]
    #[allow(clippy::cast_precision_loss)]
    pub fn update(&mut self, price: f64) -> Option<f64> {
        let previous = self.previous.replace(price)?;
        let change = price - previous;
        let (gain, loss) = (change.max(0.0), (-change).max(0.0));
        let n = self.n as f64;
        self.changes += 1;
        if self.changes <= self.n {
            // The seed is the plain mean of the first n changes.
            self.average_gain += gain / n;
            self.average_loss += loss / n;
        } else {
            self.average_gain = (self.average_gain * (n - 1.0) + gain) / n;
            self.average_loss = (self.average_loss * (n - 1.0) + loss) / n;
        }
        self.value()
    }

    /// The current RSI, once `n` changes were seen.
    #[inline]
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        if self.changes < self.n {
            return None;
        }
        let total = self.average_gain + self.average_loss;
        // Nothing moved: neither overbought nor oversold.
        Some(if total == 0.0 { 50.0 } else { 100.0 * self.average_gain / total })
    }
}

/// One MACD reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// `EMA(fast) - EMA(slow)`.
    pub line: f64,
    /// `EMA(signal)` of the line.
    pub signal: f64,
    /// `line - signal`.
    pub histogram: f64,
}

/// Moving average convergence/divergence (Appel): the fast EMA minus the slow EMA, and an EMA of that line.
/// The signal EMA starts with the first line value (when the slow EMA is ready).
#[derive(Debug, Clone)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
}

impl Macd {
    /// A MACD with the given EMA periods (`fast < slow`; usually 12, 26, 9).
    #[must_use]
    pub fn new(fast: usize, slow: usize, signal: usize) -> Macd {
        Macd { fast: Ema::new(fast), slow: Ema::new(slow), signal: Ema::new(signal) }
    }

    /// Adds a price; the reading once the signal EMA is ready.
    #[inline]
    pub fn update(&mut self, price: f64) -> Option<MacdValue> {
        let fast = self.fast.update(price);
        let slow = self.slow.update(price);
        let line = fast? - slow?;
        let signal = self.signal.update(line)?;
        Some(MacdValue { line, signal, histogram: line - signal })
    }
}

/// One stochastic reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StochasticValue {
    /// `%K`, in `[0, 100]`.
    pub k: f64,
    /// `%D = SMA(d)` of `%K`, once `d` values of `%K` exist.
    pub d: Option<f64>,
}

/// The stochastic oscillator (Lane) over `k` bars, smoothed over `d`.
#[derive(Debug, Clone)]
pub struct Stochastic {
    highs: Window,
    lows: Window,
    smooth: Sma,
}

impl Stochastic {
    /// A stochastic over `k` bars with a `d`-bar `%D` (usually 14 and 3).
    #[must_use]
    pub fn new(k: usize, d: usize) -> Stochastic {
        Stochastic { highs: Window::new(k), lows: Window::new(k), smooth: Sma::new(d) }
    }

    /// Adds a bar; the reading once `k` bars were seen. `O(k)`.
    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<StochasticValue> {
        self.highs.push(high);
        self.lows.push(low);
        if !self.highs.is_full() {
            return None;
        }
        let highest = self.highs.iter().fold(f64::NEG_INFINITY, f64::max);
        let lowest = self.lows.iter().fold(f64::INFINITY, f64::min);
        let range = highest - lowest;
        let k = if range > 0.0 { 100.0 * (close - lowest) / range } else { 50.0 };
        let d = self.smooth.update(k);
        Some(StochasticValue { k, d })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsi_of_a_rising_series_is_100_and_of_a_flat_one_50() {
        let mut rsi = Rsi::new(3);
        assert_eq!(rsi.update(1.0), None);
        assert_eq!(rsi.update(2.0), None);
        assert_eq!(rsi.update(3.0), None);
        assert_eq!(rsi.update(4.0), Some(100.0));
        let mut flat = Rsi::new(2);
        for _ in 0..5 {
            flat.update(7.0);
        }
        assert_eq!(flat.value(), Some(50.0));
    }

    #[test]
    fn stochastic_reads_the_close_within_the_range() {
        let mut stochastic = Stochastic::new(2, 2);
        assert_eq!(stochastic.update(10.0, 8.0, 9.0), None);
        let first = stochastic.update(12.0, 9.0, 11.0).unwrap();
        assert_eq!((first.k, first.d), (75.0, None));
        let second = stochastic.update(12.0, 10.0, 12.0).unwrap();
        assert_eq!((second.k, second.d), (100.0, Some(87.5)));
    }
}
