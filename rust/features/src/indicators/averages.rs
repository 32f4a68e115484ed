//! Moving averages: [`Sma`], [`Ema`], [`Wma`].

use crate::window::Window;

/// Simple moving average of the last `n` samples.
#[derive(Debug, Clone)]
pub struct Sma {
    window: Window,
}

impl Sma {
    /// An SMA over `n` samples (`n >= 1`).
    #[must_use]
    pub fn new(n: usize) -> Sma {
        Sma { window: Window::new(n) }
    }

    /// Adds a sample; the average once `n` samples were seen.
    #[inline]
    pub fn update(&mut self, sample: f64) -> Option<f64> {
        self.window.push(sample);
        self.value()
    }

    /// The current average, once `n` samples were seen.
    #[inline]
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn value(&self) -> Option<f64> {
        self.window.is_full().then(|| self.window.sum() / self.window.capacity() as f64)
    }
}

/// Exponential moving average: `alpha = 2 / (n + 1)`, seeded with the mean of the first `n` samples (the
/// TA-Lib convention, so the first value does not over-weight the first sample).
#[derive(Debug, Clone)]
pub struct Ema {
    alpha: f64,
    n: usize,
    seen: usize,
    seed_sum: f64,
    value: f64,
}

impl Ema {
    /// An EMA over `n` samples (`n >= 1`).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn new(n: usize) -> Ema {
        let n = n.max(1);
        Ema { alpha: 2.0 / (n as f64 + 1.0), n, seen: 0, seed_sum: 0.0, value: f64::NAN }
    }

    /// Adds a sample; the average once `n` samples were seen.
    #[inline]
    #[allow(clippy::cast_precision_loss)]
    pub fn update(&mut self, sample: f64) -> Option<f64> {
        if self.seen < self.n {
            self.seen += 1;
            self.seed_sum += sample;
            if self.seen == self.n {
                self.value = self.seed_sum / self.n as f64;
            }
        } else {
            self.value += self.alpha * (sample - self.value);
        }
        self.value()
    }

    /// The current average, once `n` samples were seen.
    #[inline]
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        (self.seen >= self.n).then_some(self.value)
    }
}

/// Linearly weighted moving average: the newest of the last `n` samples weighs `n`, the oldest 1.
///
/// Keeps the plain sum and the weighted sum: adding a sample raises every weight by one (`weighted += n x
/// new - plain`) before the oldest leaves, so an update is `O(1)`. The weighted sum is recomputed from the
/// window every `n` updates, as the plain sum is, so rounding never accumulates.
#[derive(Debug, Clone)]
pub struct Wma {
    window: Window,
    weighted: f64,
    since_resum: usize,
}

impl Wma {
    /// A WMA over `n` samples (`n >= 1`).
    #[must_use]
    pub fn new(n: usize) -> Wma {
        Wma { window: Window::new(n), weighted: 0.0, since_resum: 0 }
    }

    /// Adds a sample; the average once `n` samples were seen.
    #[inline]
    #[allow(clippy::cast_precision_loss)]
    pub fn update(&mut self, sample: f64) -> Option<f64> {
        let n = self.window.capacity();
        let plain_before = self.window.sum();
        let was_full = self.window.is_full();
        self.window.push(sample);
        self.since_resum += 1;
        if !was_full || self.since_resum >= n {
            // Weights 1..=len, oldest first.
            self.weighted = self.window.iter().enumerate().map(|(i, x)| (i + 1) as f64 * x).sum();
            self.since_resum = 0;
        } else {
            // Every held sample gains one weight (the evicted one had weight 1 and leaves with it).
            self.weighted += n as f64 * sample - plain_before;
        }
        self.value()
    }

    /// The current average, once `n` samples were seen.
    #[inline]
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn value(&self) -> Option<f64> {
        let n = self.window.capacity() as f64;
        self.window.is_full().then(|| self.weighted / (n * (n + 1.0) / 2.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sma_ema_wma_on_a_small_series() {
        let series = [1.0, 2.0, 3.0, 4.0, 5.0];
        let mut sma = Sma::new(3);
        let mut ema = Ema::new(3);
        let mut wma = Wma::new(3);
        let mut out = Vec::new();
        for x in series {
            out.push((sma.update(x), ema.update(x), wma.update(x)));
        }
        assert_eq!(out[1], (None, None, None));
        assert_eq!(out[2], (Some(2.0), Some(2.0), Some((1.0 + 4.0 + 9.0) / 6.0)));
        // EMA: 2 + 0.5 (4 - 2) = 3; WMA: (2 + 6 + 12) / 6.
        assert_eq!(out[3], (Some(3.0), Some(3.0), Some(20.0 / 6.0)));
        assert_eq!(out[4].1, Some(4.0));
    }
}
