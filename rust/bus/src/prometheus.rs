//! [`render_metrics`]: the Prometheus text exposition format (version 0.0.4) of the engine's figures.
//!
//! Latencies are a `summary` per stage in seconds (quantiles 0.5, 0.99, 0.999 over the run); counters end
//! in `_total`; money figures are gauges in the settlement currency. Labels are escaped as the format says.

use std::fmt::Write;

use crate::proto;

/// One per-feed counter: its value in a feed's health.
type FeedCounter = fn(&proto::FeedHealth) -> u64;

/// What the bus itself counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BusFigures {
    /// Messages published.
    pub published: u64,
    /// Market summaries dropped because the queue was full.
    pub dropped: u64,
    /// Commands refused for a wrong or missing token.
    pub auth_failures: u64,
    /// Subscribers connected now.
    pub subscribers: u64,
}

/// The text of `GET /metrics`: the latest engine metrics (if any yet), the account positions and the bus's
/// own counters.
#[must_use]
pub fn render_metrics(metrics: Option<&proto::Metrics>, positions: &[proto::Position], bus: BusFigures) -> String {
    let mut out = String::with_capacity(4096);
    let family = |out: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    if let Some(metrics) = metrics {
        family(&mut out, "ferrotrade_stage_latency_seconds", "summary", "Hot-path latency per stage over the run.");
        for stage in &metrics.latency {
            let label = escape(&stage.stage);
            for (quantile, value) in [("0.5", stage.p50_ns), ("0.99", stage.p99_ns), ("0.999", stage.p999_ns)] {
                let _ = writeln!(
                    out,
                    "ferrotrade_stage_latency_seconds{{stage=\"{label}\",quantile=\"{quantile}\"}} {}",
                    seconds(value)
                );
            }
            let _ = writeln!(out, "ferrotrade_stage_latency_seconds_count{{stage=\"{label}\"}} {}", stage.count);
        }
        family(&mut out, "ferrotrade_stage_latency_max_seconds", "gauge", "Slowest observation per stage.");
        for stage in &metrics.latency {
            let _ = writeln!(
                out,
                "ferrotrade_stage_latency_max_seconds{{stage=\"{}\"}} {}",
                escape(&stage.stage),
                seconds(stage.max_ns)
            );
        }
        let feeds: [(&str, &str, FeedCounter); 5] = [
            ("ferrotrade_feed_messages_total", "Market-data messages per feed.", |f| f.messages),
            ("ferrotrade_feed_resyncs_total", "Book resyncs per feed.", |f| f.resyncs),
            ("ferrotrade_feed_reconnects_total", "Reconnects per feed.", |f| f.reconnects),
            ("ferrotrade_feed_rollovers_total", "Planned connection renewals per feed.", |f| f.rollovers),
            ("ferrotrade_feed_trades_lost_total", "Trades no backfill could recover.", |f| f.trades_lost),
        ];
        for (name, help, value) in feeds {
            family(&mut out, name, "counter", help);
            for feed in &metrics.feeds {
                let _ = writeln!(out, "{name}{{venue=\"{}\"}} {}", escape(&feed.venue), value(feed));
            }
        }
        family(&mut out, "ferrotrade_feed_synced_books", "gauge", "Books synced now, per feed.");
        for feed in &metrics.feeds {
            let _ = writeln!(out, "ferrotrade_feed_synced_books{{venue=\"{}\"}} {}", escape(&feed.venue), feed.synced);
        }
        let counters = [
            ("ferrotrade_messages_total", "Market-data messages.", metrics.messages),
            ("ferrotrade_orders_total", "Orders submitted by strategies.", metrics.orders),
            ("ferrotrade_cancels_total", "Cancels sent.", metrics.cancels),
            ("ferrotrade_amends_total", "Amends sent.", metrics.amends),
            ("ferrotrade_fills_total", "Fills (counted once).", metrics.fills),
        ];
        for (name, help, value) in counters {
            family(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {value}");
        }
        family(&mut out, "ferrotrade_messages_per_second", "gauge", "Market-data messages per second.");
        let _ = writeln!(out, "ferrotrade_messages_per_second {}", metrics.messages_per_second);
        family(&mut out, "ferrotrade_open_orders", "gauge", "Orders working now.");
        let _ = writeln!(out, "ferrotrade_open_orders {}", metrics.open_orders);
        for (name, help, counts) in [
            ("ferrotrade_denials_total", "Orders the risk chain refused, by reason.", &metrics.denials),
            ("ferrotrade_rejections_total", "Orders the venue refused, by reason.", &metrics.rejections),
        ] {
            family(&mut out, name, "counter", help);
            for count in counts {
                let _ = writeln!(out, "{name}{{reason=\"{}\"}} {}", escape(&count.label), count.count);
            }
        }
        for (name, help, value) in [
            ("ferrotrade_equity", "Account equity in the settlement currency.", &metrics.equity),
            ("ferrotrade_realized_pnl", "Realized PnL in the settlement currency.", &metrics.realized_pnl),
            ("ferrotrade_fees", "Fees paid in the settlement currency.", &metrics.fees),
        ] {
            family(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {}", number(value));
        }
        family(&mut out, "ferrotrade_trading_state", "gauge", "Trading state: 1 active, 2 reducing, 3 halted.");
        let _ = writeln!(out, "ferrotrade_trading_state {}", metrics.state);
    }
    family(&mut out, "ferrotrade_position", "gauge", "Account position per instrument, in base units.");
    for position in positions {
        let Some(instrument) = &position.instrument else { continue };
        let quantity = position.quantity as f64 / 10f64.powi(instrument.size_precision as i32);
        let _ = writeln!(
            out,
            "ferrotrade_position{{venue=\"{}\",symbol=\"{}\"}} {quantity}",
            escape(&instrument.venue),
            escape(&instrument.symbol)
        );
    }
    for (name, kind, help, value) in [
        ("ferrotrade_bus_published_total", "counter", "Messages published on the bus.", bus.published),
        ("ferrotrade_bus_dropped_total", "counter", "Market summaries dropped (queue full).", bus.dropped),
        ("ferrotrade_bus_auth_failures_total", "counter", "Commands refused for their token.", bus.auth_failures),
        ("ferrotrade_bus_subscribers", "gauge", "Subscribers connected now.", bus.subscribers),
    ] {
        family(&mut out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    }
    out
}

fn seconds(nanos: u64) -> f64 {
    nanos as f64 / 1e9
}

/// A decimal string as a Prometheus number (`NaN` if it is not one).
fn number(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(value) => value.to_string(),
        Err(_) => "NaN".into(),
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_format() {
        let metrics = proto::Metrics {
            latency: vec![proto::StageLatency {
                stage: "frame_to_wire".into(),
                count: 3,
                p50_ns: 12_000,
                p99_ns: 30_000,
                p999_ns: 40_000,
                max_ns: 50_000,
            }],
            feeds: vec![proto::FeedHealth {
                venue: "binance-usdm".into(),
                messages: 10,
                resyncs: 1,
                ..Default::default()
            }],
            fills: 4,
            denials: vec![proto::LabeledCount { label: "price_band".into(), count: 2 }],
            equity: "100012.5".into(),
            state: proto::TradingState::Halted as i32,
            ..Default::default()
        };
        let position = proto::Position {
            instrument: Some(proto::InstrumentRef {
                venue: "binance-usdm".into(),
                symbol: "BTCUSDT".into(),
                price_precision: 1,
                size_precision: 3,
            }),
            quantity: -25,
            ..Default::default()
        };
        let text = render_metrics(Some(&metrics), &[position], BusFigures { published: 9, ..Default::default() });
        for line in [
            "# TYPE ferrotrade_stage_latency_seconds summary",
            "ferrotrade_stage_latency_seconds{stage=\"frame_to_wire\",quantile=\"0.5\"} 0.000012",
            "ferrotrade_stage_latency_seconds_count{stage=\"frame_to_wire\"} 3",
            "ferrotrade_feed_resyncs_total{venue=\"binance-usdm\"} 1",
            "ferrotrade_fills_total 4",
            "ferrotrade_denials_total{reason=\"price_band\"} 2",
            "ferrotrade_equity 100012.5",
            "ferrotrade_trading_state 3",
            "ferrotrade_position{venue=\"binance-usdm\",symbol=\"BTCUSDT\"} -0.025",
            "ferrotrade_bus_published_total 9",
        ] {
            assert!(text.lines().any(|candidate| candidate == line), "missing {line:?} in\n{text}");
        }
        // Every sample line belongs to a family declared before it.
        let mut declared = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.insert(rest.split(' ').next().unwrap_or_default().to_owned());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap_or_default();
                let family = name.strip_suffix("_count").filter(|base| declared.contains(*base)).unwrap_or(name);
                assert!(declared.contains(family), "{name} has no TYPE line");
            }
        }
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
