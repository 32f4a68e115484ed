//! Volume: [`Obv`] (on-balance volume) and [`RollingVwap`].

use crate::window::Window;

/// On-balance volume (Granville): the running sum of each bar's volume, added on an up close and
/// subtracted on a down close (unchanged on an equal close). Starts at 0 with the first bar.
#[derive(Debug, Clone, Default)]
pub struct Obv {
    previous_close: Option<f64>,
    value: f64,
}

impl Obv {
    /// An OBV at 0.
    #[must_use]
    pub fn new() -> Obv {
        Obv::default()
    }

    /// Adds a bar; the running OBV.
    #[inline]
    pub fn update(&mut self, close: f64, volume: f64) -> f64 {
        if let Some(previous) = self.previous_close.replace(close) {
            if close > previous {
                self.value += volume;
            } else if close < previous {
                self.value -= volume;
            }
        }
        self.value
    }
}

/// Volume-weighted average price over the last `n` intervals: `sum(notional) / sum(volume)`, where each
/// interval contributes its traded notional (`sum(price x size)`, or a bar's quote volume) and volume.
#[derive(Debug, Clone)]
pub struct RollingVwap {
    notional: Window,
    volume: Window,
}

impl RollingVwap {
    /// A VWAP over `n` intervals (`n >= 1`).
    #[must_use]
    pub fn new(n: usize) -> RollingVwap {
        RollingVwap { notional: Window::new(n), volume: Window::new(n) }
    }

    /// Adds an interval; the VWAP once `n` intervals were seen and some volume traded in them.
    #[inline]
    pub fn update(&mut self, notional: f64, volume: f64) -> Option<f64> {
        self.notional.push(notional);
        self.volume.push(volume);
        let traded = self.volume.sum();
        (self.volume.is_full() && traded > 0.0).then(|| self.notional.sum() / traded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obv_follows_the_close() {
        let mut obv = Obv::new();
        assert_eq!(obv.update(10.0, 5.0), 0.0);
        assert_eq!(obv.update(11.0, 2.0), 2.0);
        assert_eq!(obv.update(11.0, 9.0), 2.0);
        assert_eq!(obv.update(9.0, 3.0), -1.0);
    }

    #[test]
    fn vwap_weights_by_volume() {
        let mut vwap = RollingVwap::new(2);
        assert_eq!(vwap.update(100.0, 1.0), None);
        assert_eq!(vwap.update(330.0, 3.0), Some(107.5));
        assert_eq!(vwap.update(0.0, 0.0), Some(110.0));
        assert_eq!(vwap.update(0.0, 0.0), None);
    }
}
