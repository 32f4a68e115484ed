//! A finished backtest as Arrow tables: orders, fills, equity, positions, and the execution algorithms'
//! parents and children.
//!
//! The column names and types are the ones `python/ferrotrade/research` documents and consumes; money and
//! prices become `f64` here, at the report boundary (the run itself stayed fixed-point). Each table is one
//! record batch handed to Python through the Arrow C stream interface, so `polars.DataFrame(table)` takes
//! the buffers without a copy.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder};
use arrow_array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray, UInt32Array, UInt64Array,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use ferrotrade_model::{Instrument, Liquidity};
use ferrotrade_oms::contract_value;
use ferrotrade_sim::engine::BacktestOutput;
use ferrotrade_strategy::algo::{ChildRecord, ParentRecord};

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

/// The result tables.
pub struct ResultTables {
    pub orders: RecordBatch,
    pub fills: RecordBatch,
    pub equity: RecordBatch,
    pub positions: RecordBatch,
    /// Parent orders of the execution algorithms, one row each.
    pub parents: RecordBatch,
    /// Their child orders, one row each.
    pub children: RecordBatch,
}

fn optional_ts(values: impl Iterator<Item = Option<u64>>) -> ArrayRef {
    let values: Vec<Option<i64>> =
        values.map(|value| value.map(|value| i64::try_from(value).unwrap_or(i64::MAX))).collect();
    Arc::new(TimestampNanosecondArray::from(values).with_timezone("UTC"))
}

fn optional_f64(values: impl Iterator<Item = Option<f64>>) -> ArrayRef {
    Arc::new(values.collect::<Float64Array>())
}

/// The `parents` and `children` tables (schemas in `python/ferrotrade/research/schema.py`).
fn algo_tables(
    output: &BacktestOutput,
    instruments: &[Instrument],
    strategy: &dyn Fn(u16) -> String,
) -> Result<(RecordBatch, RecordBatch), ArrowError> {
    let name =
        |index: usize| instruments.get(index).map_or_else(|| "?".to_owned(), |instrument| instrument.id.to_string());
    let precision = |index: usize| {
        instruments.get(index).map_or((0, 0), |instrument| (instrument.price_precision, instrument.size_precision))
    };
    let parents: Vec<(u16, &ParentRecord)> = output
        .algos
        .iter()
        .flat_map(|(index, records)| records.parents.iter().map(move |parent| (*index, parent)))
        .collect();
    let children: Vec<(u16, &ChildRecord)> = output
        .algos
        .iter()
        .flat_map(|(index, records)| records.children.iter().map(move |child| (*index, child)))
        .collect();
    // In the parent's own units: a routed parent counts in its finest venue's size precision.
    let size = |parent: &ParentRecord, quantity: ferrotrade_model::Quantity| quantity.to_f64(parent.size_precision);
    let parents_batch = batch(
        vec![
            Field::new("strategy", DataType::Utf8, false),
            Field::new("parent_id", DataType::UInt64, false),
            Field::new("algo", DataType::Utf8, false),
            Field::new("instrument", DataType::Utf8, false),
            Field::new("side", DataType::Utf8, false),
            Field::new("quantity", DataType::Float64, false),
            Field::new("filled", DataType::Float64, false),
            Field::new("limit_price", DataType::Float64, true),
            Field::new("accepted_at", ts_type(), false),
            Field::new("start", ts_type(), false),
            Field::new("end", ts_type(), true),
            Field::new("finished_at", ts_type(), true),
            Field::new("status", DataType::Utf8, false),
            Field::new("reason", DataType::Utf8, true),
            Field::new("arrival_price", DataType::Float64, false),
            Field::new("average_price", DataType::Float64, true),
            Field::new("market_volume", DataType::Float64, true),
            Field::new("market_vwap", DataType::Float64, true),
            Field::new("fees", DataType::Float64, false),
            Field::new("children", DataType::UInt32, false),
            Field::new("fills", DataType::UInt32, false),
        ],
        vec![
            Arc::new(parents.iter().map(|(index, _)| Some(strategy(*index))).collect::<StringArray>()),
            Arc::new(parents.iter().map(|(_, parent)| parent.id.0).collect::<UInt64Array>()),
            strings(parents.iter().map(|(_, parent)| parent.algo.as_str())),
            Arc::new(parents.iter().map(|(_, parent)| Some(name(parent.instrument.get()))).collect::<StringArray>()),
            strings(
                parents
                    .iter()
                    .map(|(_, parent)| if parent.side == ferrotrade_model::OrderSide::Buy { "buy" } else { "sell" }),
            ),
            Arc::new(parents.iter().map(|(_, parent)| size(parent, parent.quantity)).collect::<Float64Array>()),
            Arc::new(parents.iter().map(|(_, parent)| size(parent, parent.filled)).collect::<Float64Array>()),
            optional_f64(
                parents.iter().map(|(_, parent)| {
                    parent.limit_price.map(|limit| limit.to_f64(precision(parent.instrument.get()).0))
                }),
            ),
            ts(parents.iter().map(|(_, parent)| parent.accepted_at.0).collect()),
            ts(parents.iter().map(|(_, parent)| parent.start.0).collect()),
            optional_ts(parents.iter().map(|(_, parent)| parent.end.map(|end| end.0))),
            optional_ts(parents.iter().map(|(_, parent)| parent.finished_at.map(|at| at.0))),
            strings(parents.iter().map(|(_, parent)| parent.status.as_str())),
            Arc::new(parents.iter().map(|(_, parent)| parent.reason.clone()).collect::<StringArray>()),
            Arc::new(parents.iter().map(|(_, parent)| parent.arrival_price).collect::<Float64Array>()),
            optional_f64(parents.iter().map(|(_, parent)| parent.average_price)),
            optional_f64(parents.iter().map(|(_, parent)| parent.market_volume)),
            optional_f64(parents.iter().map(|(_, parent)| parent.market_vwap)),
            Arc::new(parents.iter().map(|(_, parent)| parent.fees.to_f64()).collect::<Float64Array>()),
            Arc::new(parents.iter().map(|(_, parent)| parent.children).collect::<UInt32Array>()),
            Arc::new(parents.iter().map(|(_, parent)| parent.fills).collect::<UInt32Array>()),
        ],
    )?;
    let children_batch = batch(
        vec![
            Field::new("strategy", DataType::Utf8, false),
            Field::new("parent_id", DataType::UInt64, false),
            Field::new("client_id", DataType::UInt64, false),
            Field::new("instrument", DataType::Utf8, false),
            Field::new("sent_at", ts_type(), false),
            Field::new("quantity", DataType::Float64, false),
            Field::new("price", DataType::Float64, true),
            Field::new("note", DataType::Utf8, false),
        ],
        vec![
            Arc::new(children.iter().map(|(index, _)| Some(strategy(*index))).collect::<StringArray>()),
            Arc::new(children.iter().map(|(_, child)| child.parent.0).collect::<UInt64Array>()),
            Arc::new(children.iter().map(|(_, child)| child.client_id.0).collect::<UInt64Array>()),
            Arc::new(children.iter().map(|(_, child)| Some(name(child.instrument.get()))).collect::<StringArray>()),
            ts(children.iter().map(|(_, child)| child.sent_at.0).collect()),
            Arc::new(
                children
                    .iter()
                    .map(|(_, child)| child.quantity.to_f64(precision(child.instrument.get()).1))
                    .collect::<Float64Array>(),
            ),
            optional_f64(children.iter().map(|(_, child)| {
                (child.price.0 != 0).then(|| child.price.to_f64(precision(child.instrument.get()).0))
            })),
            strings(children.iter().map(|(_, child)| child.note.as_str())),
        ],
    )?;
    Ok((parents_batch, children_batch))
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
    let (parents, children) = algo_tables(output, instruments, &|index| strategy(index).to_owned())?;
    Ok(ResultTables {
        orders: orders_batch,
        fills: fills_batch,
        equity: equity_batch,
        positions: positions_batch,
        parents,
        children,
    })
}
