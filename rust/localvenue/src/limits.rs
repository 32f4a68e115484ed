//! Request-rate limits as the venues apply them.
//!
//! | venue | budget | window | refused with |
//! |---|---|---|---|
//! | Binance (spot, USD-M, one budget each) | request weight ([`binance_weight`]) | fixed 1-minute windows | HTTP 429, `Retry-After: <s>`, `{"code":-1003,...}` |
//! | Bybit v5 | requests per API key and path (public ones per path) | fixed 1-second windows | HTTP 200 `{"retCode":10006,"retMsg":"Too many visits!"}` |
//!
//! Every Binance response carries `X-MBX-USED-WEIGHT-1M` (the weight used in the current window), every
//! Bybit response to a signed request `X-Bapi-Limit`, `X-Bapi-Limit-Status` and
//! `X-Bapi-Limit-Reset-Timestamp`, as the venues send them.
use std::collections::BTreeMap;
use std::time::Duration;

use ferrotrade_model::Venue;
use tokio::time::Instant;

const MINUTE: Duration = Duration::from_secs(60);
const SECOND: Duration = Duration::from_secs(1);

/// A fixed window counter.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    used: u32,
}

/// What a limit check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Allowed; `used` is the budget used in the window including this request.
    Allowed { used: u32 },
    /// Refused; retry after this long. `used` is the budget used in the window.
    Refused { used: u32, retry_after: Duration },
}

/// The rate limiter of the whole venue.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    binance_limit: u32,
    bybit_limit: u32,
    binance: BTreeMap<Venue, Window>,
    bybit: BTreeMap<(String, String), Window>,
}

fn roll(window: &mut Window, now: Instant, length: Duration) {
    if now.duration_since(window.start) >= length {
        // Windows are aligned to their first use, then follow each other without gaps.
        let elapsed = now.duration_since(window.start).as_nanos() / length.as_nanos().max(1);
        let whole = u32::try_from(elapsed).unwrap_or(u32::MAX);
        window.start += length.saturating_mul(whole);
        window.used = 0;
    }
}

impl RateLimiter {
    /// A limiter with the configured budgets.
    pub fn new(binance_weight_per_minute: u32, bybit_requests_per_second: u32) -> RateLimiter {
        RateLimiter {
            binance_limit: binance_weight_per_minute,
            bybit_limit: bybit_requests_per_second,
            binance: BTreeMap::new(),
            bybit: BTreeMap::new(),
        }
    }

    /// Charges `weight` to the Binance market `venue`.
    pub fn binance(&mut self, venue: Venue, weight: u32, now: Instant) -> Verdict {
        let window = self.binance.entry(venue).or_insert(Window { start: now, used: 0 });
        roll(window, now, MINUTE);
        if window.used.saturating_add(weight) > self.binance_limit {
            return Verdict::Refused { used: window.used, retry_after: (window.start + MINUTE).duration_since(now) };
        }
        window.used += weight;
        Verdict::Allowed { used: window.used }
    }

    /// Charges one request of `key` (API key, or `""` for public requests) to `path`.
    pub fn bybit(&mut self, key: &str, path: &str, now: Instant) -> Verdict {
        let window = self.bybit.entry((key.to_owned(), path.to_owned())).or_insert(Window { start: now, used: 0 });
        roll(window, now, SECOND);
        if window.used >= self.bybit_limit {
            return Verdict::Refused { used: window.used, retry_after: (window.start + SECOND).duration_since(now) };
        }
        window.used += 1;
        Verdict::Allowed { used: window.used }
    }

    /// Bybit's per-path budget.
    pub fn bybit_limit(&self) -> u32 {
        self.bybit_limit
    }
}

/// Request weight of a Binance endpoint (from the venues' API docs); `limit` is the depth `limit`.
pub(crate) fn binance_weight(venue: Venue, path: &str, limit: Option<u32>) -> u32 {
    let depth = path.ends_with("/depth");
    match (venue, depth) {
        (Venue::BinanceUsdm, true) => match limit.unwrap_or(500) {
            0..=50 => 2,
            51..=100 => 5,
            101..=500 => 10,
            _ => 20,
        },
        (_, true) => match limit.unwrap_or(100) {
            0..=100 => 5,
            101..=500 => 25,
            501..=1000 => 50,
            _ => 250,
        },
        _ => match path {
            p if p.ends_with("/exchangeInfo") => {
                if venue == Venue::BinanceUsdm {
                    1
                } else {
                    20
                }
            }
            p if p.ends_with("/openOrders") || p.ends_with("/allOpenOrders") => {
                if venue == Venue::BinanceUsdm {
                    1
                } else {
                    6
                }
            }
            p if p.ends_with("/account") => {
                if venue == Venue::BinanceUsdm {
                    5
                } else {
                    20
                }
            }
            p if p.ends_with("/positionRisk") => 5,
            p if p.ends_with("/historicalTrades") => {
                if venue == Venue::BinanceUsdm {
                    20
                } else {
                    25
                }
            }
            p if p.ends_with("/trades") => {
                if venue == Venue::BinanceUsdm {
                    5
                } else {
                    25
                }
            }
            // Binance charges spot 5 when `orderId` is given; the local venue charges the full 20.
            p if p.ends_with("/myTrades") => 20,
            p if p.ends_with("/userTrades") => 5,
            p if p.ends_with("/order") && venue == Venue::BinanceSpot => 1,
            p if p.ends_with("/userDataStream") => 2,
            _ => 1,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binance_budget_refuses_then_recovers_after_the_window() {
        let mut limiter = RateLimiter::new(10, 2);
        let start = Instant::now();
        assert_eq!(limiter.binance(Venue::BinanceUsdm, 6, start), Verdict::Allowed { used: 6 });
        let refused = limiter.binance(Venue::BinanceUsdm, 6, start + Duration::from_secs(20));
        assert_eq!(refused, Verdict::Refused { used: 6, retry_after: Duration::from_secs(40) });
        // Spot has its own budget.
        assert_eq!(limiter.binance(Venue::BinanceSpot, 6, start), Verdict::Allowed { used: 6 });
        assert_eq!(limiter.binance(Venue::BinanceUsdm, 6, start + MINUTE), Verdict::Allowed { used: 6 });
    }

    #[test]
    fn bybit_counts_per_key_and_path() {
        let mut limiter = RateLimiter::new(10, 2);
        let now = Instant::now();
        assert!(matches!(limiter.bybit("k", "/v5/order/create", now), Verdict::Allowed { used: 1 }));
        assert!(matches!(limiter.bybit("k", "/v5/order/create", now), Verdict::Allowed { used: 2 }));
        assert!(matches!(limiter.bybit("k", "/v5/order/create", now), Verdict::Refused { .. }));
        assert!(matches!(limiter.bybit("k", "/v5/order/cancel", now), Verdict::Allowed { used: 1 }));
        assert!(matches!(limiter.bybit("k", "/v5/order/create", now + SECOND), Verdict::Allowed { used: 1 }));
    }

    #[test]
    fn depth_weights_follow_the_docs() {
        assert_eq!(binance_weight(Venue::BinanceUsdm, "/fapi/v1/depth", Some(1000)), 20);
        assert_eq!(binance_weight(Venue::BinanceUsdm, "/fapi/v1/depth", Some(5)), 2);
        assert_eq!(binance_weight(Venue::BinanceSpot, "/api/v3/depth", Some(5000)), 250);
        assert_eq!(binance_weight(Venue::BinanceSpot, "/api/v3/depth", None), 5);
        assert_eq!(binance_weight(Venue::BinanceUsdm, "/fapi/v1/trades", None), 5);
        assert_eq!(binance_weight(Venue::BinanceSpot, "/api/v3/trades", None), 25);
        assert_eq!(binance_weight(Venue::BinanceUsdm, "/fapi/v1/historicalTrades", None), 20);
    }
}
