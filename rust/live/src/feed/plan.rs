//! Which streams a feed subscribes to, and how they are spread over connections within the venue's limits.
//!
//! | kind | Binance spot | Binance USD-M | Bybit (`N` from `snapshot_depth`) |
//! |---|---|---|---|
//! | book | `sym@depth@100ms` + `sym@bookTicker` | `sym@depth@0ms` + `sym@bookTicker` | `orderbook.N.SYM` |
//! | trades | `sym@trade` | `sym@trade` | `publicTrade.SYM` |
//! | mark | refused | `sym@markPrice@1s` | `tickers.SYM` (linear; refused on spot) |
//! | bars | `sym@kline_1m` | `sym@kline_1m` | `kline.1.SYM` |
//!
//! Binance: at most [`BINANCE_MAX_STREAMS`] streams per connection; the first streams go into the URL
//! (`/stream?streams=a/b`) up to [`BINANCE_URL_BUDGET`] characters, the rest as `SUBSCRIBE` frames sent
//! after the handshake and paced ([`control_spacing`]) under the venue's incoming-message limit, which
//! counts pings and pongs too. Bybit: at most [`BYBIT_ARGS_PER_REQUEST`] args per `subscribe` request and
//! [`BYBIT_ARGS_CHARS`] characters of args per connection.

use std::time::Duration;

use ferrotrade_model::Venue;
use ferrotrade_strategy::DataKind;

/// Binance: streams per connection.
pub(crate) const BINANCE_MAX_STREAMS: usize = 1024;
/// Binance: characters of the stream list carried in the URL; the rest goes in `SUBSCRIBE` frames.
pub(crate) const BINANCE_URL_BUDGET: usize = 2000;
/// Binance: params per `SUBSCRIBE` frame (keeps frames small; not a documented limit).
pub(crate) const BINANCE_PARAMS_PER_FRAME: usize = 200;
/// Bybit: args per `subscribe` request (spot's documented limit, used for every category).
pub(crate) const BYBIT_ARGS_PER_REQUEST: usize = 10;
/// Bybit: characters of args per connection.
pub(crate) const BYBIT_ARGS_CHARS: usize = 21_000;

/// What a subscribed stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopicKind {
    /// Depth diffs / book snapshots.
    Book,
    /// Best bid/offer (Binance bookTicker).
    Quote,
    /// Trades.
    Trades,
    /// Mark price (and, on Bybit, the ticker's quote).
    Mark,
    /// Closed candles.
    Bars,
}

/// One subscribed stream of one instrument slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Topic {
    /// The feed's instrument slot.
    pub slot: usize,
    /// What it carries.
    pub kind: TopicKind,
    /// The venue's stream or topic name.
    pub name: String,
}

/// One WebSocket connection: the URL to open and the frames to send once it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectionPlan {
    /// URL (Binance: with the first streams in the query).
    pub url: String,
    /// Subscription frames to send after the handshake, in order, paced.
    pub subscribe: Vec<String>,
    /// The topics this connection carries.
    pub topics: Vec<Topic>,
}

/// The topics of one instrument for the requested kinds.
///
/// # Errors
/// A message naming the kind when the venue has no such stream (mark prices on spot).
pub(crate) fn topics_for(
    venue: Venue,
    slot: usize,
    symbol: &str,
    kinds: &[DataKind],
    depth: u32,
) -> Result<Vec<Topic>, String> {
    let mut topics = Vec::new();
    let mut push = |kind, name: String| topics.push(Topic { slot, kind, name });
    for kind in kinds {
        if venue.is_binance() {
            let sym = symbol.to_ascii_lowercase();
            match kind {
                DataKind::Book => {
                    let speed = if venue == Venue::BinanceSpot { "100ms" } else { "0ms" };
                    push(TopicKind::Book, format!("{sym}@depth@{speed}"));
                    push(TopicKind::Quote, format!("{sym}@bookTicker"));
                }
                DataKind::Trades => push(TopicKind::Trades, format!("{sym}@trade")),
                DataKind::Mark if venue == Venue::BinanceSpot => return Err(no_mark(venue)),
                DataKind::Mark => push(TopicKind::Mark, format!("{sym}@markPrice@1s")),
                DataKind::Bars => push(TopicKind::Bars, format!("{sym}@kline_1m")),
            }
        } else {
            match kind {
                DataKind::Book => push(TopicKind::Book, format!("orderbook.{}.{symbol}", bybit_depth(venue, depth))),
                DataKind::Trades => push(TopicKind::Trades, format!("publicTrade.{symbol}")),
                DataKind::Mark if venue == Venue::BybitSpot => return Err(no_mark(venue)),
                DataKind::Mark => push(TopicKind::Mark, format!("tickers.{symbol}")),
                DataKind::Bars => push(TopicKind::Bars, format!("kline.1.{symbol}")),
            }
        }
    }
    Ok(topics)
}

fn no_mark(venue: Venue) -> String {
    format!("{venue} has no mark-price stream; remove the `mark` subscription")
}

/// Bybit's book depth for a wanted snapshot depth: the smallest supported depth >= `wanted`, else the
/// largest.
pub(crate) fn bybit_depth(venue: Venue, wanted: u32) -> u32 {
    let supported: &[u32] = if venue == Venue::BybitSpot { &[1, 50, 200, 1000] } else { &[1, 50, 200, 500, 1000] };
    supported.iter().copied().find(|depth| *depth >= wanted).unwrap_or(1000)
}

/// Spreads topics over connections within the venue's limits.
pub(crate) fn plan_connections(venue: Venue, ws_base: &str, topics: Vec<Topic>) -> Vec<ConnectionPlan> {
    let mut plans = Vec::new();
    let mut current: Vec<Topic> = Vec::new();
    let mut chars = 0usize;
    for topic in topics {
        let full = if venue.is_binance() {
            current.len() == BINANCE_MAX_STREAMS
        } else {
            !current.is_empty() && chars + topic.name.len() > BYBIT_ARGS_CHARS
        };
        if full {
            plans.push(build(venue, ws_base, std::mem::take(&mut current)));
            chars = 0;
        }
        chars += topic.name.len();
        current.push(topic);
    }
    if !current.is_empty() {
        plans.push(build(venue, ws_base, current));
    }
    plans
}

fn build(venue: Venue, ws_base: &str, topics: Vec<Topic>) -> ConnectionPlan {
    let names: Vec<&str> = topics.iter().map(|topic| topic.name.as_str()).collect();
    if venue.is_binance() {
        let mut url = format!("{ws_base}/stream?streams=");
        let mut in_url = 0;
        for name in &names {
            if in_url > 0 && url.len() + name.len() + 1 > ws_base.len() + BINANCE_URL_BUDGET {
                break;
            }
            if in_url > 0 {
                url.push('/');
            }
            url.push_str(name);
            in_url += 1;
        }
        let subscribe = names[in_url..]
            .chunks(BINANCE_PARAMS_PER_FRAME)
            .enumerate()
            .map(|(id, chunk)| binance_control("SUBSCRIBE", chunk, id as u64 + 1))
            .collect();
        ConnectionPlan { url, subscribe, topics }
    } else {
        let subscribe = names
            .chunks(BYBIT_ARGS_PER_REQUEST)
            .enumerate()
            .map(|(id, chunk)| bybit_control("subscribe", chunk, &format!("sub-{}", id + 1)))
            .collect();
        ConnectionPlan { url: ws_base.to_owned(), subscribe, topics }
    }
}

/// A Binance `SUBSCRIBE` / `UNSUBSCRIBE` frame.
pub(crate) fn binance_control(method: &str, params: &[&str], id: u64) -> String {
    let params = serde_json::to_string(params).unwrap_or_else(|_| "[]".to_owned());
    format!(r#"{{"method":"{method}","params":{params},"id":{id}}}"#)
}

/// A Bybit `subscribe` / `unsubscribe` frame.
pub(crate) fn bybit_control(op: &str, args: &[&str], req_id: &str) -> String {
    let args = serde_json::to_string(args).unwrap_or_else(|_| "[]".to_owned());
    format!(r#"{{"op":"{op}","args":{args},"req_id":"{req_id}"}}"#)
}

/// Bybit's application-level keep-alive.
pub(crate) const BYBIT_PING: &str = r#"{"op":"ping"}"#;

/// The spacing between control frames a client sends: Binance counts every incoming message (pings, pongs
/// and JSON control frames) against 5/s (spot) or 10/s (futures); the spacing leaves room for pongs.
pub(crate) fn control_spacing(venue: Venue) -> Duration {
    match venue {
        Venue::BinanceSpot | Venue::BinanceUs => Duration::from_millis(334),
        Venue::BinanceUsdm | Venue::BinanceCoinm => Duration::from_millis(125),
        Venue::BybitSpot | Venue::BybitLinear | Venue::BybitInverse => Duration::from_millis(100),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_kinds() -> [DataKind; 4] {
        [DataKind::Book, DataKind::Trades, DataKind::Mark, DataKind::Bars]
    }

    #[test]
    fn binance_stream_names_match_the_captures() {
        let names = |venue| {
            topics_for(venue, 0, "BTCUSDT", &all_kinds(), 1000)
                .map(|topics| topics.into_iter().map(|t| t.name).collect::<Vec<_>>())
        };
        assert_eq!(
            names(Venue::BinanceUsdm).expect("usdm"),
            ["btcusdt@depth@0ms", "btcusdt@bookTicker", "btcusdt@trade", "btcusdt@markPrice@1s", "btcusdt@kline_1m"]
        );
        assert!(names(Venue::BinanceSpot).expect_err("spot has no mark").contains("mark"));
        let spot = topics_for(Venue::BinanceSpot, 3, "ETHUSDT", &[DataKind::Book], 1000).expect("spot");
        assert_eq!(spot[0].name, "ethusdt@depth@100ms");
        assert_eq!((spot[0].slot, spot[0].kind, spot[1].kind), (3, TopicKind::Book, TopicKind::Quote));
    }

    #[test]
    fn bybit_topics_and_depths() {
        let topics = topics_for(Venue::BybitLinear, 0, "XRPUSDT", &all_kinds(), 500).expect("linear");
        let names: Vec<_> = topics.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["orderbook.500.XRPUSDT", "publicTrade.XRPUSDT", "tickers.XRPUSDT", "kline.1.XRPUSDT"]);
        assert_eq!(bybit_depth(Venue::BybitSpot, 500), 1000);
        assert_eq!(bybit_depth(Venue::BybitLinear, 50), 50);
        assert_eq!(bybit_depth(Venue::BybitLinear, 5000), 1000);
        assert!(topics_for(Venue::BybitSpot, 0, "XRPUSDT", &[DataKind::Mark], 50).is_err());
    }

    fn many(count: usize, name_len: usize) -> Vec<Topic> {
        (0..count)
            .map(|slot| Topic { slot, kind: TopicKind::Trades, name: format!("{slot:0>width$}", width = name_len) })
            .collect()
    }

    #[test]
    fn binance_splits_at_1024_streams_and_moves_the_overflow_into_paced_frames() {
        let plans = plan_connections(Venue::BinanceUsdm, "wss://fstream.binance.com", many(2500, 20));
        assert_eq!(plans.iter().map(|p| p.topics.len()).collect::<Vec<_>>(), [1024, 1024, 452]);
        for plan in &plans {
            let in_url = plan.url.split_once("streams=").expect("query").1.split('/').count();
            let in_frames: usize = plan
                .subscribe
                .iter()
                .map(|frame| {
                    let value: serde_json::Value = serde_json::from_str(frame).expect("json");
                    assert_eq!(value["method"], "SUBSCRIBE");
                    value["params"].as_array().expect("params").len()
                })
                .sum();
            assert_eq!(in_url + in_frames, plan.topics.len());
            assert!(plan.url.len() <= "wss://fstream.binance.com".len() + BINANCE_URL_BUDGET);
        }
        let small = plan_connections(Venue::BinanceSpot, "ws://h/binance-spot", many(2, 3));
        assert_eq!(small.len(), 1);
        assert_eq!(small[0].url, "ws://h/binance-spot/stream?streams=000/001");
        assert!(small[0].subscribe.is_empty());
    }

    #[test]
    fn bybit_batches_ten_args_per_request_and_21000_chars_per_connection() {
        let plans = plan_connections(Venue::BybitSpot, "wss://x/v5/public/spot", many(2000, 20));
        assert_eq!(plans.iter().map(|p| p.topics.len()).collect::<Vec<_>>(), [1050, 950]);
        for plan in &plans {
            let chars: usize = plan.topics.iter().map(|t| t.name.len()).sum();
            assert!(chars <= BYBIT_ARGS_CHARS);
            let mut total = 0;
            for frame in &plan.subscribe {
                let value: serde_json::Value = serde_json::from_str(frame).expect("json");
                assert_eq!(value["op"], "subscribe");
                let args = value["args"].as_array().expect("args").len();
                assert!(args <= BYBIT_ARGS_PER_REQUEST);
                total += args;
            }
            assert_eq!(total, plan.topics.len());
        }
    }

    #[test]
    fn control_frames_are_spaced_below_the_binance_limits() {
        // Binance: 5 (spot) / 10 (futures) incoming messages per second, pongs included.
        assert!(Duration::from_secs(1).as_millis() / control_spacing(Venue::BinanceSpot).as_millis() < 5);
        assert!(Duration::from_secs(1).as_millis() / control_spacing(Venue::BinanceUsdm).as_millis() < 10);
        assert_eq!(
            bybit_control("subscribe", &["a", "b"], "r1"),
            r#"{"op":"subscribe","args":["a","b"],"req_id":"r1"}"#
        );
        assert_eq!(
            binance_control("SUBSCRIBE", &["x@trade"], 7),
            r#"{"method":"SUBSCRIBE","params":["x@trade"],"id":7}"#
        );
    }
}
