//! From [`Execution`]s to the messages of the user streams, and their delivery.
//!
//! | venue | per execution | after a fill |
//! |---|---|---|
//! | Binance spot | `executionReport` | `outboundAccountPosition` (base and quote asset) |
//! | Binance USD-M | `ORDER_TRADE_UPDATE` | `ACCOUNT_UPDATE` (margin asset and position) |
//! | Bybit | `order` topic | `execution`, then `position` (linear) and `wallet` |
//!
//! Messages are formatted under the exchange lock (they show the balances right after the fill) and
//! queued outside it. A user queue that is full is a stalled client: it is disconnected and counted.
use std::sync::atomic::Ordering;

use ferrotrade_model::Venue;
use serde_json::{Value, json};
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::Instant;

use super::{binance, bybit};
use crate::exchange::{Exchange, ExecKind, Execution};
use crate::hub::Out;
use crate::state::{Shared, lock};

/// Where a user message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The account's Binance user-data streams of this market.
    Binance(Venue),
    /// The account's Bybit private connections subscribed to this topic.
    Bybit(&'static str),
}

/// One message for one account.
#[derive(Debug, Clone)]
pub(crate) struct Push {
    pub account: usize,
    pub target: Target,
    pub text: String,
}

/// A Bybit private topic message.
pub(crate) fn bybit_topic(topic: &str, data: Vec<Value>, now_ms: u64, seq: u64) -> String {
    json!({"id": format!("{seq}_{topic}"), "topic": topic, "creationTime": now_ms, "data": data}).to_string()
}

/// The messages `executions` cause.
pub(crate) fn pushes(exchange: &Exchange, executions: &[Execution]) -> Vec<Push> {
    let mut out = Vec::new();
    for execution in executions {
        let record = &execution.order;
        let index = record.spec.instrument;
        let (Some(instrument), Some(account)) =
            (exchange.instruments.get(index), exchange.accounts.get(record.account))
        else {
            continue;
        };
        let venue = instrument.id.venue;
        let account_id = record.account;
        let filled = matches!(execution.kind, ExecKind::Trade(_));
        let mut push = |target, text: String| out.push(Push { account: account_id, target, text });
        match venue {
            Venue::BinanceSpot => {
                push(Target::Binance(venue), binance::execution_report(execution, instrument).to_string());
                if filled {
                    let (base, quote) = crate::capture::split_symbol(&instrument.id.symbol);
                    let body = binance::account_position(exchange, account_id, &[base, quote], execution.ts_ms);
                    push(Target::Binance(venue), body.to_string());
                }
            }
            Venue::BinanceUsdm => {
                push(Target::Binance(venue), binance::order_trade_update(execution, instrument).to_string());
                if filled {
                    let body = binance::account_update(account, instrument, index, execution.ts_ms);
                    push(Target::Binance(venue), body.to_string());
                }
            }
            Venue::BybitLinear | Venue::BybitSpot => {
                let seq = record.order_id;
                let now = execution.ts_ms;
                push(Target::Bybit("order"), bybit_topic("order", vec![bybit::order(record, instrument)], now, seq));
                if let Some(item) = bybit::execution(execution, instrument) {
                    push(Target::Bybit("execution"), bybit_topic("execution", vec![item], now, seq));
                    if venue == Venue::BybitLinear {
                        let item = bybit::position(account, instrument, index, now);
                        push(Target::Bybit("position"), bybit_topic("position", vec![item], now, seq));
                    }
                    push(Target::Bybit("wallet"), bybit_topic("wallet", vec![bybit::wallet(account)], now, seq));
                }
            }
            _ => {}
        }
    }
    out
}

/// Queues `pushes` to the connections they are for.
pub(crate) fn deliver(shared: &Shared, pushes: Vec<Push>) {
    if pushes.is_empty() {
        return;
    }
    let mut hub = lock(&shared.hub);
    for push in pushes {
        let targets = match push.target {
            Target::Binance(venue) => hub.binance_user(venue, push.account),
            Target::Bybit(topic) => hub.bybit_private(push.account, topic),
        };
        for (id, tx) in targets {
            if hub.lose_user_push() {
                shared.counters.user_dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            match tx.try_send(Out::Text(push.text.clone().into(), Instant::now())) {
                Ok(()) => {
                    shared.counters.user_pushes.fetch_add(1, Ordering::Relaxed);
                }
                Err(TrySendError::Full(_)) => {
                    shared.counters.slow_disconnects.fetch_add(1, Ordering::Relaxed);
                    hub.kill(id);
                }
                Err(TrySendError::Closed(_)) => {}
            }
        }
    }
}
