//! Range and dispersion: [`Atr`] (Wilder) and [`Bollinger`] bands.

use crate::window::Window;

/// Wilder's average true range over `n` bars.
#[derive(Debug, Clone)]
pub struct Atr {
    n: usize,
    previous_close: Option<f64>,
    bars: usize,
    value: f64,
}

impl Atr {
    /// An ATR over `n` bars (`n >= 1`).
    #[must_use]
    pub fn new(n: usize) -> Atr {
        Atr { n: n.max(1), previous_close: None, bars: 0, value: 0.0 }
    }

    /// Adds a bar; the ATR once `n` bars were seen.
    #[inline]
    #[allow(clippy::cast_precision_loss)]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let range = high - low;
        let true_range = match self.previous_close.replace(close) {
            Some(previous) => range.max((high - previous).abs()).max((low - previous).abs()),
            None => range,
        };
        let n = self.n as f64;
        self.bars += 1;
        if self.bars <= self.n {
            self.value += true_range / n;
        } else {
            self.value = (self.value * (n - 1.0) + true_range) / n;
        }
        self.value()
    }

    /// The current ATR, once `n` bars were seen.
    #[inline]
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        (self.bars >= self.n).then_some(self.value)
    }
}

/// One Bollinger reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BollingerValue {
    /// `SMA(n)`.
    pub middle: f64,
    /// `middle + k sigma`.
    pub upper: f64,
    /// `middle - k sigma`.
    pub lower: f64,
    /// `(price - lower) / (upper - lower)`; 0.5 when the bands collapse.
    pub percent_b: f64,
    /// `(upper - lower) / middle`.
    pub bandwidth: f64,
}

/// Bollinger bands: the `n`-sample SMA and `± k` population standard deviations of the same window.
///
/// The deviation comes from the window's mean and the sum of squared deviations updated by Welford's
/// add/remove step, re-summed from the window every `n` updates.
#[derive(Debug, Clone)]
pub struct Bollinger {
    window: Window,
    k: f64,
    mean: f64,
    m2: f64,
    since_resum: usize,
}

impl Bollinger {
    /// Bands over `n` samples at `k` deviations (usually 20 and 2).
    #[must_use]
    pub fn new(n: usize, k: f64) -> Bollinger {
        Bollinger { window: Window::new(n.max(1)), k, mean: 0.0, m2: 0.0, since_resum: 0 }
    }

    /// Adds a price; the reading once `n` prices were seen.
    #[inline]
    #[allow(clippy::cast_precision_loss)]
    pub fn update(&mut self, price: f64) -> Option<BollingerValue> {
        let evicted = self.window.push(price);
        self.since_resum += 1;
        let n = self.window.len() as f64;
        match evicted {
            _ if self.since_resum >= self.window.capacity() => {
                self.mean = self.window.sum() / n;
                self.m2 = self.window.iter().map(|x| (x - self.mean) * (x - self.mean)).sum();
                self.since_resum = 0;
            }
            None => {
                let delta = price - self.mean;
                self.mean += delta / n;
                self.m2 += delta * (price - self.mean);
            }
            Some(old) => {
                let old_mean = self.mean;
                self.mean += (price - old) / n;
                self.m2 += (price - old) * (price - self.mean + old - old_mean);
            }
        }
        if !self.window.is_full() {
            return None;
        }
        let sigma = (self.m2.max(0.0) / n).sqrt();
        let middle = self.mean;
        let (upper, lower) = (middle + self.k * sigma, middle - self.k * sigma);
        let width = upper - lower;
        let percent_b = if width > 0.0 { (price - lower) / width } else { 0.5 };
        Some(BollingerValue { middle, upper, lower, percent_b, bandwidth: width / middle })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atr_seeds_with_the_mean_true_range_then_smooths() {
        let mut atr = Atr::new(2);
        assert_eq!(atr.update(10.0, 8.0, 9.0), None); // TR 2
        assert_eq!(atr.update(12.0, 9.0, 11.0), Some(2.5)); // TR 3
        assert_eq!(atr.update(11.0, 10.0, 10.5), Some(1.75)); // TR max(1, 0, 1) = 1
    }

    #[test]
    fn bollinger_of_a_flat_series_collapses_to_the_price() {
        let mut bands = Bollinger::new(3, 2.0);
        for _ in 0..2 {
            assert_eq!(bands.update(5.0), None);
        }
        let value = bands.update(5.0).unwrap();
        assert_eq!((value.middle, value.upper, value.lower, value.percent_b), (5.0, 5.0, 5.0, 0.5));
    }
}
