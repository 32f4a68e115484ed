//! [`Window`]: the last `n` samples in a ring buffer allocated once, with their running sum.
//!
//! Every rolling indicator (SMA, WMA, Bollinger, rolling VWAP, realized volatility, trade imbalance) keeps
//! its samples here, so an update is `O(1)` (a store and two additions) and allocates nothing. The running
//! sum is recomputed exactly from the buffer every `n` updates: drift from adding and subtracting never
//! accumulates beyond one window's worth of rounding, so long streams stay within floating-point tolerance
//! of the textbook (re-summed) value.

/// The last `capacity` samples and their sum.
#[derive(Debug, Clone)]
pub struct Window {
    ring: Box<[f64]>,
    next: usize,
    len: usize,
    sum: f64,
    since_resum: usize,
}

impl Window {
    /// An empty window of `capacity` samples (at least 1).
    #[must_use]
    pub fn new(capacity: usize) -> Window {
        let capacity = capacity.max(1);
        Window { ring: vec![0.0; capacity].into_boxed_slice(), next: 0, len: 0, sum: 0.0, since_resum: 0 }
    }

    /// Adds a sample; returns the sample that fell out of a full window.
    #[inline]
    pub fn push(&mut self, sample: f64) -> Option<f64> {
        let capacity = self.ring.len();
        let evicted = (self.len == capacity).then(|| self.ring[self.next]);
        self.ring[self.next] = sample;
        self.next = if self.next + 1 == capacity { 0 } else { self.next + 1 };
        if self.len < capacity {
            self.len += 1;
        }
        self.since_resum += 1;
        if self.since_resum >= capacity {
            self.sum = self.ring[..self.len].iter().sum();
            self.since_resum = 0;
        } else {
            self.sum += sample - evicted.unwrap_or(0.0);
        }
        evicted
    }

    /// Whether `capacity` samples were seen.
    #[inline]
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.len == self.ring.len()
    }

    /// Number of samples held.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no sample was pushed yet.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The window's capacity.
    #[inline]
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.ring.len()
    }

    /// Sum of the samples held.
    #[inline]
    #[must_use]
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// The sample pushed `age` updates ago (0 = the newest), if held.
    #[inline]
    #[must_use]
    pub fn get(&self, age: usize) -> Option<f64> {
        if age >= self.len {
            return None;
        }
        let capacity = self.ring.len();
        Some(self.ring[(self.next + capacity - 1 - age) % capacity])
    }

    /// The samples held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.len).rev().filter_map(|age| self.get(age))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_samples_and_their_sum() {
        let mut window = Window::new(3);
        assert_eq!(window.push(1.0), None);
        assert_eq!(window.push(2.0), None);
        assert!(!window.is_full());
        assert_eq!(window.push(3.0), None);
        assert_eq!(window.push(4.0), Some(1.0));
        assert!(window.is_full());
        assert_eq!(window.sum(), 9.0);
        assert_eq!(window.get(0), Some(4.0));
        assert_eq!(window.get(2), Some(2.0));
        assert_eq!(window.get(3), None);
        assert_eq!(window.iter().collect::<Vec<_>>(), [2.0, 3.0, 4.0]);
    }

    #[test]
    fn the_running_sum_does_not_drift() {
        let mut window = Window::new(7);
        for i in 0..100_000 {
            window.push(f64::from(i % 13) * 0.1 + 1e9);
        }
        let exact: f64 = window.iter().sum();
        assert!((window.sum() - exact).abs() <= exact * 1e-15);
    }
}
