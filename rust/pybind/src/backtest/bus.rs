//! A backtest on the monitoring bus, when asked (a `[bus]` table in the backtest's configuration): the
//! fills and risk-state changes as the run makes them, a heartbeat at every checkpoint (at simulated
//! time), and each strategy's final positions, on the same PUB socket and contract as a live run, so
//! `ferrotrade monitor tail` or a recorder follow a long backtest while it runs.
//!
//! The engine hands the bus the records of each checkpoint (every `CHECKPOINT_ROWS` rows, in event order),
//! so publishing costs the replay nothing between checkpoints. A backtest takes no commands: `control` and
//! `http` default to off and are refused if set. Market summaries are not published (the data is the
//! catalog's, a recorder has it already).

use std::time::Duration;

use ferrotrade_bus::{Bus, BusConfig, BusHandle, BusSender, EngineEvent, Names};
use ferrotrade_live::engine::wire_state;
use ferrotrade_model::{Fill, Instrument, UnixNanos};
use ferrotrade_risk::RiskEvent;
use ferrotrade_sim::engine::{BacktestOutput, Checkpoint, FillRecord, RunControl};
use pyo3::PyResult;
use serde_json::Value;

use crate::errors::ConfigError;

/// Takes `[bus]` out of a backtest configuration (the engine's parser does not know it) and checks it.
///
/// # Errors
/// `ConfigError` naming the key.
pub fn take_bus(config_json: &str) -> PyResult<(String, Option<BusConfig>)> {
    let mut value: Value =
        serde_json::from_str(config_json).map_err(|error| ConfigError::new_err(error.to_string()))?;
    let Some(mut table) = value.as_object_mut().and_then(|root| root.remove("bus")) else {
        return Ok((config_json.to_owned(), None));
    };
    if let Some(table) = table.as_object_mut() {
        for key in ["control", "http"] {
            match table.get(key) {
                None => {
                    table.insert(key.into(), Value::String(String::new()));
                }
                Some(Value::String(text)) if text.is_empty() => {}
                Some(_) => {
                    return Err(ConfigError::new_err(format!(
                        "bus.{key}: a backtest takes no commands (remove the key or set it to \"\")"
                    )));
                }
            }
        }
    }
    let config: BusConfig = serde_path_to_error::deserialize(table)
        .map_err(|error| ConfigError::new_err(format!("bus.{}: {}", error.path(), error.inner())))?;
    config.validate().map_err(|error| ConfigError::new_err(error.to_string()))?;
    Ok((value.to_string(), Some(config)))
}

/// The bus of one backtest and what it has published so far.
pub struct BusTap {
    sender: Option<BusSender>,
    handle: Option<BusHandle>,
    fills_sent: usize,
    risk_sent: usize,
}

impl BusTap {
    /// Binds the bus of `config` for a run of `instruments` and `strategies` (names by index).
    ///
    /// # Errors
    /// `ConfigError` when an endpoint cannot be bound.
    pub fn start(config: &BusConfig, instruments: &[Instrument], strategies: Vec<String>) -> PyResult<BusTap> {
        let session = format!("backtest-{}", std::process::id());
        let names = Names::new(instruments, strategies, session, "backtest");
        let (sender, handle) =
            Bus::start(config, None, names).map_err(|error| ConfigError::new_err(error.to_string()))?;
        Ok(BusTap { sender: Some(sender), handle: Some(handle), fills_sent: 0, risk_sent: 0 })
    }

    /// Publishes the fills and risk events not published yet, then a heartbeat at `ts`.
    fn publish(&mut self, fills: &[FillRecord], risk_events: &[RiskEvent], ts: UnixNanos) {
        let Some(sender) = self.sender.as_mut() else { return };
        for record in fills.get(self.fills_sent..).unwrap_or_default() {
            let fill = Fill {
                client_id: record.client_id,
                venue_order_id: record.venue_order_id,
                trade_id: record.trade_id,
                instrument: record.instrument,
                side: record.side,
                price: record.price,
                quantity: record.quantity,
                fee: record.fee,
                liquidity: record.liquidity,
                ts_event: record.ts_event,
                ts_recv: record.ts_recv,
            };
            sender.event(EngineEvent::Fill { strategy: record.strategy, fill });
        }
        self.fills_sent = fills.len().max(self.fills_sent);
        let mut state = ferrotrade_bus::proto::TradingState::Active;
        for event in risk_events.get(self.risk_sent..).unwrap_or_default() {
            state = wire_state(event.to);
            sender.event(EngineEvent::StateChange {
                from: wire_state(event.from),
                to: state,
                reason: event.reason,
                ts: event.ts,
            });
        }
        if let Some(last) = risk_events.last() {
            state = wire_state(last.to);
        }
        self.risk_sent = risk_events.len().max(self.risk_sent);
        sender.event(EngineEvent::Heartbeat { state, ts });
    }

    /// Publishes what the run recorded after its last checkpoint and every strategy's final positions, then
    /// lets the bus drain (bounded) and stops it.
    pub fn finish(mut self, output: Option<&BacktestOutput>) {
        if let Some(output) = output {
            let records = &output.records;
            self.publish(&records.fills, &records.risk_events, records.stats.last_ts);
            if let Some(sender) = self.sender.as_mut() {
                for (strategy, positions) in output.positions.iter().enumerate() {
                    for position in positions.iter().filter(|position| position.fill_count > 0) {
                        sender.event(EngineEvent::Position {
                            strategy: strategy as u16,
                            instrument: position.instrument,
                            quantity: position.quantity,
                            entry_value: position.entry_value,
                            realized: position.realized_pnl,
                            fees: position.fees,
                            ts: records.stats.last_ts,
                        });
                    }
                }
            }
        }
        if let (Some(sender), Some(handle)) = (self.sender.take(), self.handle.take()) {
            handle.finish(sender, Duration::from_secs(10));
        }
    }
}

/// A run control that publishes each checkpoint's records before the caller's control sees it.
pub struct Tapped<'a> {
    /// The caller's control (Ctrl-C, progress, pruning).
    pub inner: &'a mut dyn RunControl,
    /// The bus.
    pub tap: &'a mut BusTap,
}

impl RunControl for Tapped<'_> {
    fn checkpoint(&mut self, checkpoint: &Checkpoint<'_>) -> bool {
        self.tap.publish(checkpoint.fills, checkpoint.risk_events, checkpoint.ts);
        self.inner.checkpoint(checkpoint)
    }
}
