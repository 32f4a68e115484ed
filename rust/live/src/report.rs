//! [`LiveReport`]: what a live or paper run hands back when it stops: latency per stage, counters,
//! reconciliation differences, final positions and PnL.

use std::collections::BTreeMap;

use ferrotrade_model::RejectReason;
use serde::Serialize;

use crate::metrics::StageLatency;

/// Counters the engine keeps while running.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Orders the strategies submitted (denied ones included).
    pub orders: u64,
    /// Orders the risk chain denied.
    pub denied: u64,
    /// Cancels sent.
    pub cancels: u64,
    /// Amends sent.
    pub amends: u64,
    /// Fills applied (each distinct trade once).
    pub fills: u64,
    /// Fills replayed from the journal at start.
    pub replayed_fills: u64,
    /// Fills received again and dropped by the OMS's trade-id dedup.
    pub duplicate_fills: u64,
    /// Venue rejections by reason code.
    pub rejects: BTreeMap<&'static str, u64>,
    /// Venue events that did not advance their order (a race between REST answers and the user stream).
    pub stale_events: u64,
    /// Events for client ids the engine never issued.
    pub foreign_events: u64,
    /// Reconciliations done.
    pub reconciliations: u64,
    /// Reconciliation differences by kind.
    pub differences: BTreeMap<&'static str, u64>,
    /// The first differences found, as text (bounded, for the report).
    pub difference_log: Vec<String>,
    /// Risk state changes (drawdown, daily loss), as text.
    pub risk_events: Vec<String>,
    /// Gateway notices (retries, backoffs), bounded.
    pub notices: Vec<String>,
    /// Gateway connection losses.
    pub gateway_disconnects: u64,
    /// Per instrument index: trades dispatched to the strategies, and the last one's id.
    pub trades: Vec<(u64, Option<u64>)>,
    /// Orders (and cancels, amends) whose request could not be written within `send` (no wire time).
    pub sent_later: u64,
}

/// How many difference and notice lines a report keeps.
pub(crate) const LOG_LIMIT: usize = 100;

impl Counters {
    /// Counts a venue rejection.
    pub fn reject(&mut self, reason: RejectReason) {
        *self.rejects.entry(reason.code()).or_insert(0) += 1;
    }

    /// Counts a reconciliation difference and keeps its text (bounded).
    pub fn difference(&mut self, code: &'static str, text: String) {
        *self.differences.entry(code).or_insert(0) += 1;
        if self.difference_log.len() < LOG_LIMIT {
            self.difference_log.push(text);
        }
    }

    /// Counts a trade of instrument `index` dispatched to the strategies.
    pub fn trade(&mut self, index: usize, trade_id: Option<u64>) {
        if self.trades.len() <= index {
            self.trades.resize(index + 1, (0, None));
        }
        let entry = &mut self.trades[index];
        entry.0 += 1;
        entry.1 = trade_id.or(entry.1);
    }

    /// Keeps a gateway notice (bounded).
    pub fn notice(&mut self, text: String) {
        if self.notices.len() < LOG_LIMIT {
            self.notices.push(text);
        }
    }
}

/// The position of one instrument at the end of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionReport {
    /// `venue.SYMBOL`.
    pub instrument: String,
    /// Signed size mantissa (at the instrument's size precision).
    pub quantity: i64,
    /// Signed size as a decimal number.
    pub quantity_f64: f64,
    /// Distinct fills of the instrument.
    pub fills: usize,
}

/// Levels of the final books a report shows per side.
pub const REPORT_BOOK_DEPTH: usize = 20;

/// One instrument's market data at the end of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarketReport {
    /// `venue.SYMBOL`.
    pub instrument: String,
    /// Whether its book was synced at the end.
    pub synced: bool,
    /// The venue's update id the book is at (its last applied book message); 0 without a book.
    pub update_id: u64,
    /// The best [`REPORT_BOOK_DEPTH`] bid levels, `[price, size]` mantissas, best first.
    pub bids: Vec<[i64; 2]>,
    /// The best ask levels, likewise.
    pub asks: Vec<[i64; 2]>,
    /// Decimals of the price mantissas.
    pub price_precision: u8,
    /// Decimals of the size mantissas.
    pub size_precision: u8,
    /// Trades dispatched to the strategies (each once).
    pub trades: u64,
    /// The last dispatched trade's venue id (numeric ids only).
    pub last_trade_id: Option<u64>,
}

/// What the monitoring bus counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BusReport {
    /// Messages published.
    pub published: u64,
    /// Market summaries dropped because subscribers were slower than the market.
    pub dropped: u64,
    /// Commands refused for a wrong or missing token.
    pub auth_failures: u64,
    /// Commands carried out.
    pub commands: u64,
    /// Messages the socket refused.
    pub send_errors: u64,
}

/// Everything a run reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveReport {
    /// `live`, `paper` or `replay`.
    pub mode: &'static str,
    /// Why the run ended (`stop requested`, `strategy error`, ...).
    pub stopped_by: String,
    /// Latency percentiles per hot-path stage.
    pub latency: Vec<StageLatency>,
    /// Market-data messages handled.
    pub messages: u64,
    /// Messages per second of wall time.
    pub messages_per_second: f64,
    /// Orders submitted (denied included).
    pub orders: u64,
    /// Risk denials.
    pub denied: u64,
    /// Cancels sent.
    pub cancels: u64,
    /// Amends sent.
    pub amends: u64,
    /// Requests (orders, cancels, amends) that left after `send`, without a measured wire time.
    pub sent_later: u64,
    /// Fills applied in this session.
    pub fills: u64,
    /// Fills replayed from the journal at start.
    pub replayed_fills: u64,
    /// Duplicate fills dropped.
    pub duplicate_fills: u64,
    /// Venue rejections by reason.
    pub rejects: BTreeMap<String, u64>,
    /// Risk denials by reason.
    pub denials: BTreeMap<String, u64>,
    /// Book resyncs (all feeds).
    pub resyncs: u64,
    /// Market-data reconnects (all feeds).
    pub reconnects: u64,
    /// Market-data connections replaced without a gap (the scheduled rollover before the venue's cut).
    pub rollovers: u64,
    /// Gaps in the trade ids (Binance; all instruments).
    pub trade_gaps: u64,
    /// Trades recovered from the venues' recent-trades lists.
    pub trades_backfilled: u64,
    /// Trade ids no list could recover (see the feed docs).
    pub trades_lost: u64,
    /// Reconciliations done.
    pub reconciliations: u64,
    /// Reconciliation differences by kind.
    pub differences: BTreeMap<String, u64>,
    /// The first differences, as text.
    pub difference_log: Vec<String>,
    /// Stale (non-advancing) venue events dropped.
    pub stale_events: u64,
    /// Gateway notices.
    pub notices: Vec<String>,
    /// Risk state changes.
    pub risk_events: Vec<String>,
    /// Final positions of the account.
    pub positions: Vec<PositionReport>,
    /// Final books and trade counts, per instrument.
    pub markets: Vec<MarketReport>,
    /// Orders still open at the end (after the optional cancel on stop).
    pub open_orders: usize,
    /// First client id of the next session (what a restart continues from).
    pub next_client_id: u64,
    /// Journal records written by this session.
    pub journal_records: u64,
    /// Account equity at the end, at the last marks.
    pub equity: f64,
    /// Realized PnL.
    pub realized_pnl: f64,
    /// Fees paid.
    pub fees: f64,
    /// The account's cash change in the settlement currency, exact: realized PnL - fees + funding (what a
    /// linear account's wallet balance moved by).
    pub cash_flow: String,
    /// The monitoring bus's counters (`[bus]` runs only).
    pub bus: Option<BusReport>,
}
