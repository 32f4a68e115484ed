//! Columnar buffers that turn normalized events into Arrow record batches of the catalog schema.
//!
//! The schema of every kind is declared here once (and documented for users in
//! `python/ferrotrade/data/schema.py`, which a test keeps in agreement). Columns are plain `Vec`s moved
//! into Arrow arrays without a copy.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, TimestampNanosecondArray, UInt8Array, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use ferrotrade_model::{BookUpdate, Level, MarketEvent, flags};

/// The kinds of tables in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Book,
    Trades,
    AggTrades,
    Quotes,
    Bars,
    Mark,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Book, Kind::Trades, Kind::AggTrades, Kind::Quotes, Kind::Bars, Kind::Mark];

    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Book => "book",
            Kind::Trades => "trades",
            Kind::AggTrades => "agg_trades",
            Kind::Quotes => "quotes",
            Kind::Bars => "bars",
            Kind::Mark => "mark",
        }
    }

    pub fn schema(self) -> SchemaRef {
        let ts = || DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
        let field = |name: &str, data_type: DataType| Field::new(name, data_type, false);
        let nullable = |name: &str, data_type: DataType| Field::new(name, data_type, true);
        let mut fields = vec![field("ts_event", ts()), field("ts_recv", ts())];
        match self {
            Kind::Book => fields.extend([
                field("sequence", DataType::UInt64),
                field("first_sequence", DataType::UInt64),
                field("prev_sequence", DataType::UInt64),
                field("side", DataType::UInt8),
                field("price", DataType::Int64),
                field("size", DataType::Int64),
                field("flags", DataType::UInt8),
            ]),
            Kind::Trades | Kind::AggTrades => fields.extend([
                nullable("trade_id", DataType::UInt64),
                field("price", DataType::Int64),
                field("size", DataType::Int64),
                field("aggressor", DataType::UInt8),
            ]),
            Kind::Quotes => fields.extend([
                field("sequence", DataType::UInt64),
                field("bid_price", DataType::Int64),
                field("bid_size", DataType::Int64),
                field("ask_price", DataType::Int64),
                field("ask_size", DataType::Int64),
            ]),
            Kind::Bars => fields.extend([
                field("open_time", ts()),
                field("interval_ns", DataType::Int64),
                field("open", DataType::Int64),
                field("high", DataType::Int64),
                field("low", DataType::Int64),
                field("close", DataType::Int64),
                field("volume", DataType::Int64),
                field("quote_volume", DataType::Float64),
                field("trade_count", DataType::UInt64),
                field("taker_buy_volume", DataType::Int64),
            ]),
            Kind::Mark => fields.extend([
                field("mark_price", DataType::Int64),
                nullable("index_price", DataType::Int64),
                nullable("funding_rate", DataType::Float64),
                nullable("next_funding_time", ts()),
            ]),
        }
        Arc::new(Schema::new(fields))
    }
}

fn ts_array(values: Vec<i64>) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from(values).with_timezone("UTC"))
}

fn nanos(value: u64) -> i64 {
    // u64 nanoseconds reach 2554; Arrow timestamps are i64 (to 2262), which every real market date fits.
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Rows of one kind of one instrument, waiting to become a batch.
#[derive(Debug, Default)]
pub struct Columns {
    ts_event: Vec<i64>,
    ts_recv: Vec<i64>,
    u64s: [Vec<u64>; 3],
    optional_u64: Vec<Option<u64>>,
    i64s: [Vec<i64>; 7],
    optional_i64: Vec<Option<i64>>,
    u8s: [Vec<u8>; 2],
    f64s: Vec<f64>,
    optional_f64: Vec<Option<f64>>,
    optional_ts: Vec<Option<i64>>,
}

impl Columns {
    pub fn len(&self) -> usize {
        self.ts_recv.len()
    }

    fn push_book_rows(&mut self, update: &BookUpdate<'_>) {
        let header = &update.header;
        let base = if update.is_snapshot { flags::SNAPSHOT } else { 0 };
        let total = update.bids.len() + update.asks.len();
        let empty_snapshot = [Level::default()];
        let (bids, asks): (&[Level], &[Level]) =
            if total == 0 && update.is_snapshot { (&empty_snapshot, &[]) } else { (update.bids, update.asks) };
        let rows = bids.iter().map(|level| (0u8, level)).chain(asks.iter().map(|level| (1u8, level)));
        let count = bids.len() + asks.len();
        for (position, (side, level)) in rows.enumerate() {
            let mut row_flags = base;
            if position == 0 && update.is_snapshot {
                row_flags |= flags::CLEAR;
            }
            if position + 1 == count {
                row_flags |= flags::LAST;
            }
            self.ts_event.push(nanos(header.ts_event.0));
            self.ts_recv.push(nanos(header.ts_recv.0));
            self.u64s[0].push(header.sequence);
            self.u64s[1].push(header.first_sequence);
            self.u64s[2].push(header.prev_sequence);
            self.u8s[0].push(side);
            self.i64s[0].push(level.price.0);
            self.i64s[1].push(level.size.0);
            self.u8s[1].push(row_flags);
        }
    }

    /// Appends the rows of one event; returns its kind.
    pub fn push(&mut self, event: &MarketEvent<'_>) {
        match event {
            MarketEvent::Book(update) => self.push_book_rows(update),
            MarketEvent::Trade(trade) | MarketEvent::AggTrade(trade) => {
                self.ts_event.push(nanos(trade.ts_event.0));
                self.ts_recv.push(nanos(trade.ts_recv.0));
                self.optional_u64.push(trade.trade_id);
                self.i64s[0].push(trade.price.0);
                self.i64s[1].push(trade.size.0);
                self.u8s[0].push(trade.aggressor as u8);
            }
            MarketEvent::Quote(quote) => {
                self.ts_event.push(nanos(quote.ts_event.0));
                self.ts_recv.push(nanos(quote.ts_recv.0));
                self.u64s[0].push(quote.sequence);
                self.i64s[0].push(quote.bid.price.0);
                self.i64s[1].push(quote.bid.size.0);
                self.i64s[2].push(quote.ask.price.0);
                self.i64s[3].push(quote.ask.size.0);
            }
            MarketEvent::Bar(bar) => {
                self.ts_event.push(nanos(bar.ts_event.0));
                self.ts_recv.push(nanos(bar.ts_recv.0));
                self.optional_ts.push(Some(nanos(bar.open_time.0)));
                self.u64s[0].push(bar.interval_ns);
                for (column, value) in [bar.open, bar.high, bar.low, bar.close].into_iter().enumerate() {
                    self.i64s[column].push(value.0);
                }
                self.i64s[4].push(bar.volume.0);
                self.f64s.push(bar.quote_volume);
                self.u64s[1].push(bar.trade_count);
                self.i64s[5].push(bar.taker_buy_volume.0);
            }
            MarketEvent::Mark(mark) => {
                self.ts_event.push(nanos(mark.ts_event.0));
                self.ts_recv.push(nanos(mark.ts_recv.0));
                self.i64s[0].push(mark.mark_price.0);
                self.optional_i64.push(mark.index_price.map(|p| p.0));
                self.optional_f64.push(mark.funding_rate);
                self.optional_ts.push(mark.next_funding_time.map(|t| nanos(t.0)));
            }
        }
    }

    /// Moves the rows into a record batch of `kind`'s schema, leaving the buffers empty.
    pub fn take_batch(&mut self, kind: Kind) -> Result<RecordBatch, ArrowError> {
        let mut taken = std::mem::take(self);
        let mut columns: Vec<ArrayRef> = vec![ts_array(taken.ts_event), ts_array(taken.ts_recv)];
        let int = |values: &mut Vec<i64>| -> ArrayRef { Arc::new(Int64Array::from(std::mem::take(values))) };
        let uint = |values: &mut Vec<u64>| -> ArrayRef { Arc::new(UInt64Array::from(std::mem::take(values))) };
        let byte = |values: &mut Vec<u8>| -> ArrayRef { Arc::new(UInt8Array::from(std::mem::take(values))) };
        match kind {
            Kind::Book => {
                let [sequence, first, prev] = &mut taken.u64s;
                columns.extend([uint(sequence), uint(first), uint(prev), byte(&mut taken.u8s[0])]);
                columns.extend([int(&mut taken.i64s[0]), int(&mut taken.i64s[1]), byte(&mut taken.u8s[1])]);
            }
            Kind::Trades | Kind::AggTrades => {
                columns.push(Arc::new(UInt64Array::from(taken.optional_u64)));
                columns.extend([int(&mut taken.i64s[0]), int(&mut taken.i64s[1]), byte(&mut taken.u8s[0])]);
            }
            Kind::Quotes => {
                columns.push(uint(&mut taken.u64s[0]));
                for column in 0..4 {
                    columns.push(int(&mut taken.i64s[column]));
                }
            }
            Kind::Bars => {
                let open_time: Vec<i64> = taken.optional_ts.iter().map(|t| t.unwrap_or_default()).collect();
                columns.push(ts_array(open_time));
                let intervals: Vec<i64> = taken.u64s[0].iter().map(|v| nanos(*v)).collect();
                columns.push(Arc::new(Int64Array::from(intervals)));
                for column in 0..5 {
                    columns.push(int(&mut taken.i64s[column]));
                }
                columns.push(Arc::new(Float64Array::from(taken.f64s)));
                columns.push(uint(&mut taken.u64s[1]));
                columns.push(int(&mut taken.i64s[5]));
            }
            Kind::Mark => {
                columns.push(int(&mut taken.i64s[0]));
                columns.push(Arc::new(Int64Array::from(taken.optional_i64)));
                columns.push(Arc::new(Float64Array::from(taken.optional_f64)));
                columns.push(Arc::new(TimestampNanosecondArray::from(taken.optional_ts).with_timezone("UTC")));
            }
        }
        RecordBatch::try_new(kind.schema(), columns)
    }
}

pub fn kind_of(event: &MarketEvent<'_>) -> Kind {
    match event {
        MarketEvent::Book(_) => Kind::Book,
        MarketEvent::Trade(_) => Kind::Trades,
        MarketEvent::AggTrade(_) => Kind::AggTrades,
        MarketEvent::Quote(_) => Kind::Quotes,
        MarketEvent::Bar(_) => Kind::Bars,
        MarketEvent::Mark(_) => Kind::Mark,
    }
}
