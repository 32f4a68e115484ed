//! A finished backtest as Arrow tables: orders, fills, equity and positions.
//!
//! The column names and types are the ones `python/ferrotrade/research` documents and consumes; money and
//! prices become `f64` here, at the report boundary (the run itself stayed fixed-point). Each table is one
//! record batch handed to Python through the Arrow C stream interface, so `polars.DataFrame(table)` takes
//! the buffers without a copy.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use ferrotrade_model::{Instrument, Liquidity};
use ferrotrade_oms::contract_value;
use ferrotrade_sim::engine::BacktestOutput;

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

fn ts(values: Vec<u64>) -> ArrayRef {
    let values: Vec<i64> = values.into_iter().map(|value| i64::try_from(value).unwrap_or(i64::MAX)).collect();
    Arc::new(TimestampNanosecondArray::from(values).with_timezone("UTC"))
}

fn batch(fields: Vec<Field>, columns: Vec<ArrayRef>) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(values.map(Some).collect::<StringArray>())
}

/// The four result tables.
pub struct ResultTables {
    pub orders: RecordBatch,
    pub fills: RecordBatch,
    pub equity: RecordBatch,
    pub positions: RecordBatch,
}

/// Builds the result tables of a run.
///
/// # Errors
/// An Arrow error if a column does not match its schema (a bug).
pub fn tables(output: &BacktestOutput, instruments: &[Instrument]) -> Result<ResultTables, ArrowError> {
    let names: Vec<String> = instruments.iter().map(|instrument| instrument.id.to_string()).collect();
    let precision = |index: usize| {
        instruments.get(index).map_or((0, 0), |instrument| (instrument.price_precision, instrument.size_precision))
    };
    let strategy = |index: u16| output.strategy_names.get(usize::from(index)).map_or("?", String::as_str);
    let instrument_name = |index: usize| names.get(index).map_or("?", String::as_str);

    let fills = &output.records.fills;
    // The fill's value as the accounting computes it (quote currency, or base for inverse contracts).
    let notional = |record: &ferrotrade_sim::engine::FillRecord| {
        let index = record.instrument.get();
        instruments.get(index).map_or(0.0, |instrument| {
            contract_value(instrument, record.price, instrument.price_precision, record.quantity).to_f64()
        })
    };
    let fills_batch = batch(
        vec![
            Field::new("ts_event", ts_type(), false),
            Field::new("ts_recv", ts_type(), false),
            Field::new("strategy", DataType::Utf8, false),
            Field::new("instrument", DataType::Utf8, false),
            Field::new("client_id", DataType::UInt64, false),
            Field::new("trade_id", DataType::UInt64, false),
            Field::new("side", DataType::Utf8, false),
            Field::new("price", DataType::Float64, false),
            Field::new("quantity", DataType::Float64, false),
            Field::new("notional", DataType::Float64, false),
            Field::new("fee", DataType::Float64, false),
            Field::new("liquidity", DataType::Utf8, false),
            Field::new("realized_pnl", DataType::Float64, false),
            Field::new("position", DataType::Float64, false),
        ],
        vec![
            ts(fills.iter().map(|fill| fill.ts_event.0).collect()),
            ts(fills.iter().map(|fill| fill.ts_recv.0).collect()),
            strings(fills.iter().map(|fill| strategy(fill.strategy))),
            strings(fills.iter().map(|fill| instrument_name(fill.instrument.get()))),
            Arc::new(fills.iter().map(|fill| fill.client_id.0).collect::<UInt64Array>()),
            Arc::new(fills.iter().map(|fill| fill.trade_id).collect::<UInt64Array>()),
            strings(fills.iter().map(|fill| fill.side.as_str())),
            Arc::new(
                fills
                    .iter()
                    .map(|fill| fill.price.to_f64(precision(fill.instrument.get()).0))
                    .collect::<Float64Array>(),
            ),
            Arc::new(
                fills
                    .iter()
                    .map(|fill| fill.quantity.to_f64(precision(fill.instrument.get()).1))
                    .collect::<Float64Array>(),
            ),
            Arc::new(fills.iter().map(notional).collect::<Float64Array>()),
            Arc::new(fills.iter().map(|fill| fill.fee.to_f64()).collect::<Float64Array>()),
            strings(fills.iter().map(|fill| match fill.liquidity {
                Liquidity::Maker => "maker",
                Liquidity::Taker => "taker",
            })),
            Arc::new(fills.iter().map(|fill| fill.realized_pnl.to_f64()).collect::<Float64Array>()),
            Arc::new(
                fills
                    .iter()
                    .map(|fill| fill.position.to_f64(precision(fill.instrument.get()).1))
                    .collect::<Float64Array>(),
            ),
        ],
    )?;

    let equity = &output.records.equity;
    let equity_batch = batch(
        vec![
            Field::new("ts", ts_type(), false),
            Field::new("equity", DataType::Float64, false),
            Field::new("realized_pnl", DataType::Float64, false),
            Field::new("unrealized_pnl", DataType::Float64, false),
            Field::new("fees", DataType::Float64, false),
            Field::new("funding", DataType::Float64, false),
        ],
        vec![
            ts(equity.iter().map(|sample| sample.ts.0).collect()),
            Arc::new(equity.iter().map(|sample| sample.equity.to_f64()).collect::<Float64Array>()),
            Arc::new(equity.iter().map(|sample| sample.realized.to_f64()).collect::<Float64Array>()),
            Arc::new(equity.iter().map(|sample| sample.unrealized.to_f64()).collect::<Float64Array>()),
            Arc::new(equity.iter().map(|sample| sample.fees.to_f64()).collect::<Float64Array>()),
            Arc::new(equity.iter().map(|sample| sample.funding.to_f64()).collect::<Float64Array>()),
        ],
    )?;

    let orders = &output.orders;
    let mut price = Float64Builder::with_capacity(orders.len());
    let mut average = Float64Builder::with_capacity(orders.len());
    let mut reason = StringBuilder::new();
    for (_, order) in orders {
        let (pp, sp) = precision(order.request.instrument.get());
        let priced = matches!(
            order.request.order_type,
            ferrotrade_model::OrderType::Limit | ferrotrade_model::OrderType::StopLimit
        );
        price.append_option(priced.then(|| order.request.price.to_f64(pp)));
        average.append_option(order.avg_fill_price_f64(pp, sp));
        reason.append_option(order.reason.map(|reason| reason.code()));
    }
    let orders_batch = batch(
        vec![
            Field::new("client_id", DataType::UInt64, false),
            Field::new("strategy", DataType::Utf8, false),
            Field::new("instrument", DataType::Utf8, false),
            Field::new("side", DataType::Utf8, false),
            Field::new("order_type", DataType::Utf8, false),
            Field::new("time_in_force", DataType::Utf8, false),
            Field::new("price", DataType::Float64, true),
            Field::new("quantity", DataType::Float64, false),
            Field::new("filled", DataType::Float64, false),
            Field::new("avg_fill_price", DataType::Float64, true),
            Field::new("status", DataType::Utf8, false),
            Field::new("reason", DataType::Utf8, true),
            Field::new("ts_init", ts_type(), false),
            Field::new("ts_last", ts_type(), false),
        ],
        vec![
            Arc::new(orders.iter().map(|(_, order)| order.client_id.0).collect::<UInt64Array>()),
            strings(orders.iter().map(|(owner, _)| strategy(*owner))),
            strings(orders.iter().map(|(_, order)| instrument_name(order.request.instrument.get()))),
            strings(orders.iter().map(|(_, order)| order.request.side.as_str())),
            strings(orders.iter().map(|(_, order)| order.request.order_type.as_str())),
            strings(orders.iter().map(|(_, order)| order.request.time_in_force.as_str())),
            Arc::new(price.finish()),
            Arc::new(
                orders
                    .iter()
                    .map(|(_, order)| order.request.quantity.to_f64(precision(order.request.instrument.get()).1))
                    .collect::<Float64Array>(),
            ),
            Arc::new(
                orders
                    .iter()
                    .map(|(_, order)| order.filled.to_f64(precision(order.request.instrument.get()).1))
                    .collect::<Float64Array>(),
            ),
            Arc::new(average.finish()),
            strings(orders.iter().map(|(_, order)| order.status.as_str())),
            Arc::new(reason.finish()),
            ts(orders.iter().map(|(_, order)| order.ts_init.0).collect()),
            ts(orders.iter().map(|(_, order)| order.ts_last.0).collect()),
        ],
    )?;

    let mut rows: Vec<(u16, usize)> = Vec::new();
    for (strategy_index, list) in output.positions.iter().enumerate() {
        for (instrument_index, position) in list.iter().enumerate() {
            if position.fill_count > 0 {
                rows.push((strategy_index as u16, instrument_index));
            }
        }
    }
    let position = |(s, i): &(u16, usize)| &output.positions[usize::from(*s)][*i];
    let mut avg_price = Float64Builder::with_capacity(rows.len());
    for row in &rows {
        avg_price.append_option(instruments.get(row.1).and_then(|instrument| position(row).avg_price_f64(instrument)));
    }
    let positions_batch = batch(
        vec![
            Field::new("strategy", DataType::Utf8, false),
            Field::new("instrument", DataType::Utf8, false),
            Field::new("quantity", DataType::Float64, false),
            Field::new("avg_price", DataType::Float64, true),
            Field::new("realized_pnl", DataType::Float64, false),
            Field::new("unrealized_pnl", DataType::Float64, false),
            Field::new("fees", DataType::Float64, false),
            Field::new("funding", DataType::Float64, false),
        ],
        vec![
            strings(rows.iter().map(|(s, _)| strategy(*s))),
            strings(rows.iter().map(|(_, i)| instrument_name(*i))),
            Arc::new(
                rows.iter().map(|row| position(row).quantity.to_f64(precision(row.1).1)).collect::<Float64Array>(),
            ),
            Arc::new(avg_price.finish()),
            Arc::new(rows.iter().map(|row| position(row).realized_pnl.to_f64()).collect::<Float64Array>()),
            Arc::new(
                rows.iter().map(|(s, i)| output.unrealized[usize::from(*s)][*i].to_f64()).collect::<Float64Array>(),
            ),
            Arc::new(rows.iter().map(|row| position(row).fees.to_f64()).collect::<Float64Array>()),
            Arc::new(rows.iter().map(|row| position(row).funding.to_f64()).collect::<Float64Array>()),
        ],
    )?;
    Ok(ResultTables { orders: orders_batch, fills: fills_batch, equity: equity_batch, positions: positions_batch })
}
