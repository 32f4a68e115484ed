//! Streaming indicators for the built-in strategies: an exponential moving average and a rolling sample
//! standard deviation, each `O(1)` per update and allocation-free after construction.
//!
//! Private to the built-in strategies on purpose: the shared, documented indicator library (one
//! implementation for batch and streaming, training and serving) is `ferrotrade-features`' job, and these
//! two are kept minimal so they can be swapped for it without touching the strategies' behaviour.
//!
//! Both work in `f64`: they decide whether to trade, never the price or size of an order.

/// Exponential moving average over `period` samples: `alpha = 2 / (period + 1)`, seeded with the first
/// sample (pandas `ewm(span=period, adjust=False)`).
#[derive(Debug, Clone)]
pub(crate) struct Ema {
    alpha: f64,
    value: f64,
    period: u32,
    count: u32,
}

impl Ema {
    /// An EMA over `period` samples (`period >= 1`; 0 is treated as 1).
    pub(crate) fn new(period: u32) -> Ema {
        let period = period.max(1);
        Ema { alpha: 2.0 / (f64::from(period) + 1.0), value: 0.0, period, count: 0 }
    }

    /// Adds a sample.
    #[inline]
    pub(crate) fn update(&mut self, sample: f64) {
        if self.count == 0 {
            self.value = sample;
        } else {
            self.value += self.alpha * (sample - self.value);
        }
        self.count = self.count.saturating_add(1);
    }

    /// The current average (meaningless before the first sample).
    #[inline]
    pub(crate) fn value(&self) -> f64 {
        self.value
    }

    /// Whether at least `period` samples were seen, so the seed no longer dominates.
    #[inline]
    pub(crate) fn is_ready(&self) -> bool {
        self.count >= self.period
    }
}

/// Sample standard deviation (`n - 1` denominator) of the last `window` samples.
///
/// Keeps the window in a ring buffer allocated once, with a running mean and sum of squared deviations
/// updated by Welford's add/remove step, which stays accurate where `sum(x^2) - n mean^2` would cancel.
#[derive(Debug, Clone)]
pub(crate) struct RollingStdev {
    ring: Box<[f64]>,
    next: usize,
    count: usize,
    mean: f64,
    m2: f64,
}

impl RollingStdev {
    /// A rolling deviation over `window` samples (`window >= 2`; smaller is treated as 2).
    pub(crate) fn new(window: u32) -> RollingStdev {
        let window = usize::try_from(window.max(2)).unwrap_or(2);
        RollingStdev { ring: vec![0.0; window].into_boxed_slice(), next: 0, count: 0, mean: 0.0, m2: 0.0 }
    }

    /// Adds a sample, dropping the oldest once the window is full.
    #[inline]
    pub(crate) fn update(&mut self, sample: f64) {
        let window = self.ring.len();
        if self.count < window {
            self.count += 1;
            #[allow(clippy::cast_precision_loss)]
            let n = self.count as f64;
            let delta = sample - self.mean;
            self.mean += delta / n;
            self.m2 += delta * (sample - self.mean);
        } else {
            let old = self.ring[self.next];
            #[allow(clippy::cast_precision_loss)]
            let n = window as f64;
            let old_mean = self.mean;
            self.mean += (sample - old) / n;
            self.m2 += (sample - old) * (sample - self.mean + old - old_mean);
            // Rounding can leave a tiny negative sum for a constant series.
            if self.m2 < 0.0 {
                self.m2 = 0.0;
            }
        }
        self.ring[self.next] = sample;
        self.next = if self.next + 1 == window { 0 } else { self.next + 1 };
    }

    /// The deviation of the window, once it is full.
    #[inline]
    pub(crate) fn value(&self) -> Option<f64> {
        if self.count < self.ring.len() {
            return None;
        }
        #[allow(clippy::cast_precision_loss)]
        let dof = (self.count - 1) as f64;
        Some((self.m2 / dof).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_stdev(samples: &[f64]) -> f64 {
        let n = samples.len() as f64;
        let mean = samples.iter().sum::<f64>() / n;
        (samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    }

    #[test]
    fn ema_matches_the_recursive_definition() {
        let mut ema = Ema::new(3);
        ema.update(10.0);
        assert!(!ema.is_ready());
        assert_eq!(ema.value(), 10.0);
        ema.update(13.0); // 10 + 0.5 * 3
        assert_eq!(ema.value(), 11.5);
        ema.update(7.0); // 11.5 + 0.5 * -4.5
        assert!(ema.is_ready());
        assert_eq!(ema.value(), 9.25);
    }

    #[test]
    fn rolling_stdev_matches_a_naive_window() {
        let samples: Vec<f64> = (0..200).map(|i| ((i * 7919) % 101) as f64 * 1e-4 - 0.005).collect();
        let mut rolling = RollingStdev::new(20);
        for (i, sample) in samples.iter().enumerate() {
            rolling.update(*sample);
            if i < 19 {
                assert_eq!(rolling.value(), None);
            } else {
                let expected = naive_stdev(&samples[i - 19..=i]);
                let got = rolling.value().unwrap();
                assert!((got - expected).abs() < 1e-12, "at {i}: {got} vs {expected}");
            }
        }
    }

    #[test]
    fn rolling_stdev_of_a_constant_is_zero() {
        let mut rolling = RollingStdev::new(5);
        for _ in 0..50 {
            rolling.update(0.1);
        }
        assert!(rolling.value().unwrap() < 1e-12);
    }
}
