//! Binance REST depth snapshots (and recent-trades lists, for trade gaps): the requests, their weight, and
//! the budget that keeps fetching polite.
//!
//! | market | path | `limit` -> weight |
//! |---|---|---|
//! | spot | `/api/v3/depth` | 1–100: 5, 101–500: 25, 501–1000: 50, 1001–5000: 250 (per-minute limit 6000) |
//! | USD-M | `/fapi/v1/depth` | 5, 10, 20, 50: 2; 100: 5; 500: 10; 1000: 20 (per-minute limit 2400; only these limits) |
//!
//! The feed spends at most half of the per-minute limit on snapshots ([`WeightBudget`], a token bucket),
//! leaving the rest to order entry, and stops early when the venue's `X-MBX-USED-WEIGHT-1M` says the IP
//! is near its limit. A 429/418 blocks every fetch until `Retry-After`; a 5xx or transport failure retries
//! that instrument with backoff. Fetches run as tasks and report back through the feed's input channel,
//! so the engine never waits on HTTP.

use std::time::{Duration, Instant};

use ferrotrade_model::Venue;
use tokio::sync::mpsc;

use super::clock::{self, wall_clock};
use super::types::{FeedInput, InputKind};

/// The per-minute request-weight limit of the venue's REST API.
pub(crate) fn minute_limit(venue: Venue) -> u32 {
    match venue {
        Venue::BinanceUsdm | Venue::BinanceCoinm => 2400,
        _ => 6000,
    }
}

/// The `limit` actually requested for a wanted depth (USD-M accepts only a few values).
pub(crate) fn depth_limit(venue: Venue, wanted: u32) -> u32 {
    match venue {
        Venue::BinanceUsdm | Venue::BinanceCoinm => {
            [5, 10, 20, 50, 100, 500, 1000].into_iter().find(|limit| *limit >= wanted).unwrap_or(1000)
        }
        _ => wanted.clamp(1, 5000),
    }
}

/// The request weight of one depth snapshot with `limit`.
pub(crate) fn depth_weight(venue: Venue, limit: u32) -> u32 {
    match venue {
        Venue::BinanceUsdm | Venue::BinanceCoinm => match limit {
            0..=50 => 2,
            51..=100 => 5,
            101..=500 => 10,
            _ => 20,
        },
        _ => match limit {
            0..=100 => 5,
            101..=500 => 25,
            501..=1000 => 50,
            _ => 250,
        },
    }
}

/// The snapshot URL of `symbol`.
pub(crate) fn depth_url(venue: Venue, rest: &str, symbol: &str, limit: u32) -> String {
    let path = match venue {
        Venue::BinanceUsdm => "/fapi/v1/depth",
        Venue::BinanceCoinm => "/dapi/v1/depth",
        _ => "/api/v3/depth",
    };
    format!("{rest}{path}?symbol={symbol}&limit={limit}")
}

/// A token bucket of request weight: `capacity` weight, refilled at `capacity` per minute.
#[derive(Debug, Clone)]
pub(crate) struct WeightBudget {
    capacity: f64,
    available: f64,
    updated: Instant,
    blocked_until: Option<Instant>,
}

impl WeightBudget {
    /// A full budget of half the venue's per-minute limit.
    pub(crate) fn for_venue(venue: Venue, now: Instant) -> WeightBudget {
        let capacity = f64::from(minute_limit(venue) / 2);
        WeightBudget { capacity, available: capacity, updated: now, blocked_until: None }
    }

    /// Takes `weight` if available now; otherwise returns when to try again.
    pub(crate) fn take(&mut self, weight: u32, now: Instant) -> Result<(), Instant> {
        if let Some(until) = self.blocked_until {
            if now < until {
                return Err(until);
            }
            self.blocked_until = None;
        }
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.available = (self.available + elapsed * self.capacity / 60.0).min(self.capacity);
        self.updated = now;
        let weight = f64::from(weight).min(self.capacity);
        if self.available >= weight {
            self.available -= weight;
            Ok(())
        } else {
            let wait = (weight - self.available) * 60.0 / self.capacity;
            Err(now + Duration::from_secs_f64(wait))
        }
    }

    /// No fetch before `until` (a 429, or the venue's used weight near its limit).
    pub(crate) fn block_until(&mut self, until: Instant) {
        self.blocked_until = Some(self.blocked_until.map_or(until, |current| current.max(until)));
    }

    /// Reacts to the venue's `X-MBX-USED-WEIGHT-1M`: above 80 % of the limit, pause until the minute turns.
    pub(crate) fn observe_used(&mut self, venue: Venue, used: u32, now: Instant) {
        if u64::from(used) * 10 >= u64::from(minute_limit(venue)) * 8 {
            self.block_until(now + Duration::from_secs(60));
        }
    }
}

/// The trade-list request that backfills a gap from trade id `from`: the old trades lookup from that id
/// when `keyed` (the request carries the API key), else the recent-trades list; its URL and weight.
pub(crate) fn trades_request(venue: Venue, rest: &str, symbol: &str, from: u64, keyed: bool) -> (String, u32) {
    use ferrotrade_venues::binance::{
        RECENT_TRADES_LIMIT, historical_trades_path, historical_trades_weight, recent_trades_path, recent_trades_weight,
    };
    let limit = RECENT_TRADES_LIMIT;
    match historical_trades_path(venue).filter(|_| keyed) {
        Some(path) => {
            (format!("{rest}{path}?symbol={symbol}&fromId={from}&limit={limit}"), historical_trades_weight(venue))
        }
        None => {
            let path = recent_trades_path(venue).unwrap_or("/api/v3/trades");
            (format!("{rest}{path}?symbol={symbol}&limit={limit}"), recent_trades_weight(venue))
        }
    }
}

/// A failed GET: when to retry at the earliest, and whether the venue said it was rate limited.
struct Failed {
    retry_after: Option<Duration>,
    rate_limited: bool,
}

/// One GET (with `X-MBX-APIKEY` when `key` is given): the body and the venue's used weight, or why not.
async fn get(
    client: &reqwest::Client,
    url: &str,
    key: Option<&str>,
) -> Result<(tokio_tungstenite::tungstenite::Bytes, Option<u32>), Failed> {
    let mut request = client.get(url);
    if let Some(key) = key {
        request = request.header("X-MBX-APIKEY", key);
    }
    let response = request.send().await.map_err(|_| Failed { retry_after: None, rate_limited: false })?;
    let status = response.status();
    let used_weight = header_u32(&response, "x-mbx-used-weight-1m");
    if !status.is_success() {
        let retry_after = header_u32(&response, "retry-after").map(|secs| Duration::from_secs(u64::from(secs)));
        return Err(Failed { retry_after, rate_limited: status.as_u16() == 429 || status.as_u16() == 418 });
    }
    let body = response.bytes().await.map_err(|_| Failed { retry_after: None, rate_limited: false })?;
    Ok((body, used_weight))
}

/// Fetches one snapshot and reports the outcome to the feed (the channel closing means the feed is gone).
pub(crate) async fn fetch(client: reqwest::Client, url: String, slot: usize, tx: mpsc::Sender<FeedInput>) {
    let kind = match get(&client, &url, None).await {
        Ok((body, used_weight)) => InputKind::Snapshot { slot, body, used_weight },
        Err(Failed { retry_after, rate_limited }) => InputKind::SnapshotFailed { slot, retry_after, rate_limited },
    };
    let _ = tx.send(FeedInput { received_at: clock::monotonic(), ts_recv: wall_clock(), kind }).await;
}

/// Fetches one trade list (`key`: the API key the old trades lookup needs) and reports the outcome.
pub(crate) async fn fetch_trades(
    client: reqwest::Client,
    url: String,
    key: Option<super::types::ApiKey>,
    slot: usize,
    tx: mpsc::Sender<FeedInput>,
) {
    let kind = match get(&client, &url, key.as_ref().map(|key| key.0.as_str())).await {
        Ok((body, used_weight)) => InputKind::Trades { slot, body, used_weight },
        Err(Failed { retry_after, rate_limited }) => InputKind::TradesFailed { slot, retry_after, rate_limited },
    };
    let _ = tx.send(FeedInput { received_at: clock::monotonic(), ts_recv: wall_clock(), kind }).await;
}

fn header_u32(response: &reqwest::Response, name: &str) -> Option<u32> {
    response.headers().get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_and_limits_follow_the_docs() {
        assert_eq!(depth_limit(Venue::BinanceUsdm, 1000), 1000);
        assert_eq!(depth_limit(Venue::BinanceUsdm, 200), 500);
        assert_eq!(depth_limit(Venue::BinanceUsdm, 5000), 1000);
        assert_eq!(depth_limit(Venue::BinanceSpot, 5000), 5000);
        assert_eq!(depth_weight(Venue::BinanceUsdm, 1000), 20);
        assert_eq!(depth_weight(Venue::BinanceUsdm, 500), 10);
        assert_eq!(depth_weight(Venue::BinanceUsdm, 20), 2);
        assert_eq!(depth_weight(Venue::BinanceSpot, 100), 5);
        assert_eq!(depth_weight(Venue::BinanceSpot, 1000), 50);
        assert_eq!(depth_weight(Venue::BinanceSpot, 5000), 250);
        assert_eq!(
            depth_url(Venue::BinanceUsdm, "http://127.0.0.1:1", "BTCUSDT", 1000),
            "http://127.0.0.1:1/fapi/v1/depth?symbol=BTCUSDT&limit=1000"
        );
        assert_eq!(
            depth_url(Venue::BinanceSpot, "https://api.binance.com", "BTCUSDT", 5),
            "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=5"
        );
    }

    #[test]
    fn budget_spends_half_the_minute_limit_then_paces() {
        let start = clock::monotonic();
        let mut budget = WeightBudget::for_venue(Venue::BinanceUsdm, start);
        // 1200 weight = 60 snapshots of limit 1000 at once, then one per second.
        for _ in 0..60 {
            assert!(budget.take(20, start).is_ok());
        }
        let retry = budget.take(20, start).expect_err("empty");
        assert_eq!(retry.duration_since(start).as_millis(), 1000);
        assert!(budget.take(20, start + Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn blocks_after_429_and_near_the_venue_limit() {
        let start = clock::monotonic();
        let mut budget = WeightBudget::for_venue(Venue::BinanceSpot, start);
        budget.block_until(start + Duration::from_secs(5));
        assert_eq!(budget.take(5, start + Duration::from_secs(1)), Err(start + Duration::from_secs(5)));
        assert!(budget.take(5, start + Duration::from_secs(5)).is_ok());
        budget.observe_used(Venue::BinanceSpot, 4000, start + Duration::from_secs(6));
        assert!(budget.take(5, start + Duration::from_secs(7)).is_ok());
        budget.observe_used(Venue::BinanceSpot, 5000, start + Duration::from_secs(8));
        assert!(budget.take(5, start + Duration::from_secs(9)).is_err());
    }
}
