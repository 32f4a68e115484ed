//! `ferrotrade.Context` for Python strategies: a thin handle on the engine's [`Context`] that is valid only
//! during a callback.
//!
//! The engine lends its context to a callback as `&mut dyn Context`; [`ContextGuard`] stores it in the
//! Python object for the duration of the call and clears it afterwards, so a strategy that keeps `ctx`
//! and uses it later gets a clear error instead of touching freed state. The class is `unsendable`: it
//! never leaves the thread running the engine.
//!
//! Prices and sizes are floats at the Python boundary (what researchers write); they are converted to the
//! instrument's fixed-point exactly, and a value with more decimals than the instrument has is an error,
//! never rounded silently (`round_price` snaps to the tick on purpose).

use std::cell::Cell;
use std::ptr::NonNull;

use ferrotrade_model::{
    BookSide, ClientOrderId, InstrumentIndex, OrderRequest, OrderSide, OrderType, Price, Quantity, TimeInForce,
    UnixNanos, pow10,
};
use ferrotrade_oms::ParentId;
use ferrotrade_strategy::Context;
use ferrotrade_strategy::algo::AlgoOrder;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The strategy's handle on the engine during a callback.
#[pyclass(module = "ferrotrade._core", name = "Context", unsendable)]
pub struct PyContext {
    /// The engine's context while a callback runs; `None` otherwise.
    inner: Cell<Option<NonNull<dyn Context + 'static>>>,
}

impl PyContext {
    pub fn new() -> PyContext {
        PyContext { inner: Cell::new(None) }
    }

    fn with<T>(&self, f: impl FnOnce(&mut dyn Context) -> PyResult<T>) -> PyResult<T> {
        let Some(mut pointer) = self.inner.get() else {
            return Err(PyRuntimeError::new_err("the context is only valid inside a strategy callback"));
        };
        // SAFETY: the pointer was set by a `ContextGuard` that is still alive (it clears the cell when it is
        // dropped, at the end of the callback), and the engine does not touch the context while the
        // callback runs; the class is unsendable, so this is the engine's thread.
        let context = unsafe { pointer.as_mut() };
        f(context)
    }
}

/// Lends `context` to a `PyContext` until dropped.
pub struct ContextGuard<'a> {
    target: &'a PyContext,
}

impl<'a> ContextGuard<'a> {
    pub fn lend(target: &'a PyContext, context: &mut dyn Context) -> ContextGuard<'a> {
        let pointer = NonNull::from(context);
        // SAFETY: only the lifetime is erased; the guard clears the pointer before the borrow ends.
        let pointer: NonNull<dyn Context + 'static> = unsafe { std::mem::transmute(pointer) };
        target.inner.set(Some(pointer));
        ContextGuard { target }
    }
}

impl Drop for ContextGuard<'_> {
    fn drop(&mut self) {
        self.target.inner.set(None);
    }
}

fn instrument_checked(context: &dyn Context, instrument: u32) -> PyResult<InstrumentIndex> {
    if (instrument as usize) < context.instruments().len() {
        Ok(InstrumentIndex(instrument))
    } else {
        Err(PyValueError::new_err(format!(
            "unknown instrument index {instrument} (the run has {})",
            context.instruments().len()
        )))
    }
}

/// `value` (a float) as a mantissa at `precision` decimals, exactly or not at all.
fn to_fixed(value: f64, precision: u8, what: &str, instrument: &str) -> PyResult<i64> {
    let scale = pow10(precision).unwrap_or(1) as f64;
    let scaled = value * scale;
    let rounded = scaled.round();
    if !rounded.is_finite() || rounded.abs() > 9.0e18 {
        return Err(PyValueError::new_err(format!("{what} {value} is out of range")));
    }
    // A float like 61800.1 is 61800.100000000006 in binary: accept what is a representation error, refuse
    // what is a real extra decimal.
    // A double carries ~16 significant digits: anything beyond 1e-12 of the value is a real decimal.
    if (scaled - rounded).abs() > (scaled.abs() * 1e-12).max(1e-6) {
        return Err(PyValueError::new_err(format!(
            "{what} {value} has more decimals than {instrument} allows ({precision}); use ctx.round_price/round_size"
        )));
    }
    Ok(rounded as i64)
}

fn parse_side(side: &str) -> PyResult<OrderSide> {
    match side {
        "buy" | "BUY" | "Buy" => Ok(OrderSide::Buy),
        "sell" | "SELL" | "Sell" => Ok(OrderSide::Sell),
        other => Err(PyValueError::new_err(format!("side must be 'buy' or 'sell', not {other:?}"))),
    }
}

fn parse_order_type(text: &str) -> PyResult<OrderType> {
    match text {
        "limit" => Ok(OrderType::Limit),
        "market" => Ok(OrderType::Market),
        "stop_market" => Ok(OrderType::StopMarket),
        "stop_limit" => Ok(OrderType::StopLimit),
        other => Err(PyValueError::new_err(format!(
            "order_type must be limit, market, stop_market or stop_limit, not {other:?}"
        ))),
    }
}

fn parse_time_in_force(text: &str) -> PyResult<TimeInForce> {
    match text.to_ascii_lowercase().as_str() {
        "gtc" => Ok(TimeInForce::Gtc),
        "ioc" => Ok(TimeInForce::Ioc),
        "fok" => Ok(TimeInForce::Fok),
        _ => Err(PyValueError::new_err(format!("time_in_force must be gtc, ioc or fok, not {text:?}"))),
    }
}

#[pymethods]
impl PyContext {
    /// The strategy's local time in nanoseconds since the epoch.
    #[getter]
    fn now(&self) -> PyResult<u64> {
        self.with(|context| Ok(context.now().0))
    }

    /// The index of `"venue.SYMBOL"` in this run, or `None`.
    fn instrument_index(&self, name: &str) -> PyResult<Option<u32>> {
        self.with(|context| Ok(context.instrument_index(name).map(|index| index.0)))
    }

    /// `{"name", "tick_size", "lot_size", "price_precision", "size_precision", "contract_type"}` of an
    /// instrument.
    fn instrument<'py>(&self, py: Python<'py>, instrument: u32) -> PyResult<Bound<'py, PyDict>> {
        self.with(|context| {
            let index = instrument_checked(context, instrument)?;
            let info = &context.instruments()[index.get()];
            let dict = PyDict::new(py);
            dict.set_item("name", info.id.to_string())?;
            dict.set_item("tick_size", info.tick_size.to_f64(info.price_precision))?;
            dict.set_item("lot_size", info.lot_size.to_f64(info.size_precision))?;
            dict.set_item("price_precision", info.price_precision)?;
            dict.set_item("size_precision", info.size_precision)?;
            dict.set_item("contract_type", info.contract_type.as_str())?;
            Ok(dict)
        })
    }

    /// Best bid as `(price, size)`, or `None`.
    fn best_bid(&self, instrument: u32) -> PyResult<Option<(f64, f64)>> {
        self.best(instrument, BookSide::Bid)
    }

    /// Best ask as `(price, size)`, or `None`.
    fn best_ask(&self, instrument: u32) -> PyResult<Option<(f64, f64)>> {
        self.best(instrument, BookSide::Ask)
    }

    /// Best bid and best ask prices as `(bid, ask)`, or `None` when a side is empty (one call for the
    /// two figures a quoting strategy reads on every update).
    fn touch(&self, instrument: u32) -> PyResult<Option<(f64, f64)>> {
        self.with(|context| {
            let index = instrument_checked(context, instrument)?;
            let precision = context.instruments()[index.get()].price_precision;
            let book = context.book(index);
            Ok(book
                .best_bid()
                .zip(book.best_ask())
                .map(|(bid, ask)| (bid.price.to_f64(precision), ask.price.to_f64(precision))))
        })
    }

    /// Mid price, or `None` when a side is empty.
    fn mid(&self, instrument: u32) -> PyResult<Option<f64>> {
        self.with(|context| {
            let index = instrument_checked(context, instrument)?;
            let precision = context.instruments()[index.get()].price_precision;
            Ok(context.book(index).mid_x2().map(|mid| mid.to_f64(precision) / 2.0))
        })
    }

    /// The best `levels` levels of `side` ("bid" or "ask") as `[(price, size), ...]`, best first.
    #[pyo3(signature = (instrument, side, levels = 5))]
    fn depth(&self, instrument: u32, side: &str, levels: usize) -> PyResult<Vec<(f64, f64)>> {
        let side = match side {
            "bid" | "bids" => BookSide::Bid,
            "ask" | "asks" => BookSide::Ask,
            other => return Err(PyValueError::new_err(format!("side must be 'bid' or 'ask', not {other:?}"))),
        };
        self.with(|context| {
            let index = instrument_checked(context, instrument)?;
            let info = &context.instruments()[index.get()];
            let (pp, sp) = (info.price_precision, info.size_precision);
            Ok(context
                .book(index)
                .depth(side, levels)
                .map(|level| (level.price.to_f64(pp), level.size.to_f64(sp)))
                .collect())
        })
    }

    /// Order-book imbalance of the top `levels` levels in `[-1, 1]`, or `None`.
    #[pyo3(signature = (instrument, levels = 5))]
    fn imbalance(&self, instrument: u32, levels: usize) -> PyResult<Option<f64>> {
        self.with(|context| {
            let index = instrument_checked(context, instrument)?;
            Ok(context.book(index).imbalance(levels))
        })
    }

    /// Whether the local book is synced and not crossed.
    fn is_synced(&self, instrument: u32) -> PyResult<bool> {
        self.with(|context| Ok(context.is_synced(instrument_checked(context, instrument)?)))
    }

    /// `price` snapped to the tick: `mode` "down" (default for bids), "up" (asks) or "nearest".
    #[pyo3(signature = (instrument, price, mode = "nearest"))]
    fn round_price(&self, instrument: u32, price: f64, mode: &str) -> PyResult<f64> {
        self.with(|context| {
            let index = instrument_checked(context, instrument)?;
            let info = &context.instruments()[index.get()];
            let tick = Price(info.tick_size.0.max(1)).to_f64(info.price_precision);
            let ticks = price / tick;
            let ticks = match mode {
                "down" => (ticks + 1e-9).floor(),
                "up" => (ticks - 1e-9).ceil(),
                "nearest" => ticks.round(),
                other => return Err(PyValueError::new_err(format!("mode must be down, up or nearest, not {other:?}"))),
            };
            Ok(Price((ticks as i64) * info.tick_size.0.max(1)).to_f64(info.price_precision))
        })
    }

    /// The strategy's signed position in `instrument` (positive long).
    fn position(&self, instrument: u32) -> PyResult<f64> {
        self.with(|context| {
            let index = instrument_checked(context, instrument)?;
            let precision = context.instruments()[index.get()].size_precision;
            Ok(context.position(index).quantity.to_f64(precision))
        })
    }

    /// The strategy's PnL: `{"realized", "unrealized", "fees", "funding", "equity"}`.
    fn pnl<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.with(|context| {
            let pnl = context.pnl();
            let dict = PyDict::new(py);
            dict.set_item("realized", pnl.realized.to_f64())?;
            dict.set_item("unrealized", pnl.unrealized.to_f64())?;
            dict.set_item("fees", pnl.fees.to_f64())?;
            dict.set_item("funding", pnl.funding.to_f64())?;
            dict.set_item("equity", pnl.equity.to_f64())?;
            Ok(dict)
        })
    }

    /// Sends an order; returns its client id. Outcomes arrive in `on_order` / `on_fill`.
    #[pyo3(signature = (
        instrument, side, quantity, price = None, *, order_type = None, time_in_force = "gtc",
        post_only = false, reduce_only = false, trigger_price = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn submit(
        &self,
        instrument: u32,
        side: &str,
        quantity: f64,
        price: Option<f64>,
        order_type: Option<&str>,
        time_in_force: &str,
        post_only: bool,
        reduce_only: bool,
        trigger_price: Option<f64>,
    ) -> PyResult<u64> {
        let side = parse_side(side)?;
        let order_type = match order_type {
            Some(text) => parse_order_type(text)?,
            None if price.is_some() => OrderType::Limit,
            None => OrderType::Market,
        };
        let time_in_force = parse_time_in_force(time_in_force)?;
        self.with(|context| {
            let index = instrument_checked(context, instrument)?;
            let info = &context.instruments()[index.get()];
            let name = info.id.to_string();
            let needs_price = matches!(order_type, OrderType::Limit | OrderType::StopLimit);
            let price = match (price, needs_price) {
                (Some(value), _) => Price(to_fixed(value, info.price_precision, "price", &name)?),
                (None, true) => {
                    return Err(PyValueError::new_err(format!("a {} order needs a price", order_type.as_str())));
                }
                (None, false) => Price::ZERO,
            };
            let trigger_price =
                match (trigger_price, matches!(order_type, OrderType::StopMarket | OrderType::StopLimit)) {
                    (Some(value), _) => Price(to_fixed(value, info.price_precision, "trigger_price", &name)?),
                    (None, true) => return Err(PyValueError::new_err("a stop order needs a trigger_price")),
                    (None, false) => Price::ZERO,
                };
            let quantity = Quantity(to_fixed(quantity, info.size_precision, "quantity", &name)?);
            let request = OrderRequest {
                instrument: index,
                side,
                order_type,
                time_in_force: if order_type == OrderType::Market { TimeInForce::Ioc } else { time_in_force },
                quantity,
                price,
                trigger_price,
                post_only,
                reduce_only,
            };
            Ok(context.submit(request).0)
        })
    }

    /// Asks the venue to cancel an order.
    fn cancel(&self, client_id: u64) -> PyResult<()> {
        self.with(|context| {
            context.cancel(ClientOrderId(client_id));
            Ok(())
        })
    }

    /// Asks the venue to change an order's price and total quantity.
    fn amend(&self, client_id: u64, price: f64, quantity: f64) -> PyResult<()> {
        self.with(|context| {
            let Some(order) = context.order(ClientOrderId(client_id)) else {
                return Err(PyValueError::new_err(format!("order {client_id} is not this strategy's")));
            };
            let info = &context.instruments()[order.request.instrument.get()];
            let name = info.id.to_string();
            let price = Price(to_fixed(price, info.price_precision, "price", &name)?);
            let quantity = Quantity(to_fixed(quantity, info.size_precision, "quantity", &name)?);
            context.amend(ClientOrderId(client_id), price, quantity);
            Ok(())
        })
    }

    /// Cancels every open order of the strategy (in `instrument`, or everywhere).
    #[pyo3(signature = (instrument = None))]
    fn cancel_all(&self, instrument: Option<u32>) -> PyResult<()> {
        self.with(|context| {
            let index = instrument.map(|index| instrument_checked(context, index)).transpose()?;
            context.cancel_all(index);
            Ok(())
        })
    }

    /// Client ids of the strategy's open orders in `instrument`.
    fn open_orders(&self, instrument: u32) -> PyResult<Vec<u64>> {
        self.with(|context| {
            let index = instrument_checked(context, instrument)?;
            let mut ids = Vec::new();
            context.open_orders(index, &mut ids);
            Ok(ids.into_iter().map(|id| id.0).collect())
        })
    }

    /// One of the strategy's orders as a dict, or `None`.
    fn order<'py>(&self, py: Python<'py>, client_id: u64) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.with(|context| {
            let Some(order) = context.order(ClientOrderId(client_id)) else { return Ok(None) };
            let info = &context.instruments()[order.request.instrument.get()];
            let (pp, sp) = (info.price_precision, info.size_precision);
            let dict = PyDict::new(py);
            dict.set_item("client_id", order.client_id.0)?;
            dict.set_item("instrument", order.request.instrument.0)?;
            dict.set_item("side", order.request.side.as_str())?;
            dict.set_item("order_type", order.request.order_type.as_str())?;
            dict.set_item("price", order.request.price.to_f64(pp))?;
            dict.set_item("quantity", order.request.quantity.to_f64(sp))?;
            dict.set_item("filled", order.filled.to_f64(sp))?;
            dict.set_item("status", order.status.as_str())?;
            dict.set_item("reason", order.reason.map(|reason| reason.code()))?;
            Ok(Some(dict))
        })
    }

    /// Calls `on_timer(ctx, timer)` at local time `at_ns`, then every `interval_ns` when > 0.
    #[pyo3(signature = (timer, at_ns, interval_ns = 0))]
    fn set_timer(&self, timer: u64, at_ns: u64, interval_ns: u64) -> PyResult<()> {
        self.with(|context| {
            context.set_timer(timer, UnixNanos(at_ns), interval_ns);
            Ok(())
        })
    }

    /// Cancels a timer.
    fn cancel_timer(&self, timer: u64) -> PyResult<()> {
        self.with(|context| {
            context.cancel_timer(timer);
            Ok(())
        })
    }

    /// Publishes `value` as signal `name` (at most 32 bytes) on the live engine's monitoring bus
    /// (`signal.<strategy>.<name>`); returns whether it was published (never in a backtest or without
    /// `[bus]`).
    #[pyo3(signature = (name, value, instrument = None))]
    fn publish_signal(&self, name: &str, value: f64, instrument: Option<u32>) -> PyResult<bool> {
        self.with(|context| {
            let index = instrument.map(|instrument| instrument_checked(context, instrument)).transpose()?;
            Ok(context.publish_signal(name, index, value))
        })
    }

    /// Starts an execution algorithm and returns its parent id; `algo` is twap, vwap, pov, iceberg, chase
    /// or route, and the keyword arguments are the keys of an algo order (`duration_s=600, slices=10`, see
    /// the `ferrotrade_strategy::algo` docs). Raises `AlgoRefusedError` with the key at fault when the order
    /// cannot be executed as asked, `ConfigError` for an unknown key or a wrong type.
    #[pyo3(signature = (algo, instrument, side, quantity, **params))]
    fn submit_algo(
        &self,
        py: Python<'_>,
        algo: &str,
        instrument: &str,
        side: &str,
        quantity: f64,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let json = py.import("json")?;
        let table = PyDict::new(py);
        if let Some(params) = params {
            table.update(params.as_mapping())?;
        }
        table.set_item("algo", algo)?;
        table.set_item("instrument", instrument)?;
        table.set_item("side", side)?;
        table.set_item("quantity", quantity)?;
        let text: String = json.call_method1("dumps", (table,))?.extract()?;
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        let order: AlgoOrder = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            crate::errors::ConfigError::new_err(format!("submit_algo: {path}: {}", error.into_inner()))
        })?;
        self.with(|context| {
            context
                .submit_algo(&order)
                .map(|id| id.0)
                .map_err(|refusal| crate::errors::AlgoRefusedError::new_err(format!("submit_algo refused: {refusal}")))
        })
    }

    /// One of this strategy's parent orders as a dict (status, filled, working, average_price...), or
    /// `None` for an unknown id.
    fn algo<'py>(&self, py: Python<'py>, parent_id: u64) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.with(|context| {
            let Some(view) = context.algo(ParentId(parent_id)) else { return Ok(None) };
            let size_precision = view.size_precision;
            let dict = PyDict::new(py);
            dict.set_item("parent_id", view.id.0)?;
            dict.set_item("algo", view.algo.as_str())?;
            dict.set_item("instrument", view.instrument.0)?;
            dict.set_item("side", if view.side == OrderSide::Buy { "buy" } else { "sell" })?;
            dict.set_item("status", view.status.as_str())?;
            dict.set_item("quantity", view.quantity.to_f64(size_precision))?;
            dict.set_item("filled", view.filled.to_f64(size_precision))?;
            dict.set_item("working", view.working.to_f64(size_precision))?;
            dict.set_item("average_price", view.average_price)?;
            dict.set_item("children", view.children)?;
            dict.set_item("reason", view.reason)?;
            Ok(Some(dict))
        })
    }

    /// Pauses a parent order (its children are canceled, nothing is sent); returns whether it could be.
    fn pause_algo(&self, parent_id: u64) -> PyResult<bool> {
        self.with(|context| Ok(context.pause_algo(ParentId(parent_id))))
    }

    /// Resumes a paused parent order; returns whether it was paused.
    fn resume_algo(&self, parent_id: u64) -> PyResult<bool> {
        self.with(|context| Ok(context.resume_algo(ParentId(parent_id))))
    }

    /// Cancels a parent order and its children; returns whether it was still active.
    fn cancel_algo(&self, parent_id: u64) -> PyResult<bool> {
        self.with(|context| Ok(context.cancel_algo(ParentId(parent_id))))
    }
}

impl PyContext {
    fn best(&self, instrument: u32, side: BookSide) -> PyResult<Option<(f64, f64)>> {
        self.with(|context| {
            let index = instrument_checked(context, instrument)?;
            let info = &context.instruments()[index.get()];
            let (pp, sp) = (info.price_precision, info.size_precision);
            Ok(context.book(index).best(side).map(|level| (level.price.to_f64(pp), level.size.to_f64(sp))))
        })
    }
}
