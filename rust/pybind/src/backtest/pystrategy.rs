//! A Python strategy object behind the Rust [`Strategy`] trait.
//!
//! The engine calls [`PyStrategy`] like any Rust strategy; each callback lends the engine's context to the
//! strategy's `ferrotrade.Context` object and calls the Python method. Callbacks the class does not
//! override (it inherits the no-op of `ferrotrade.Strategy`) are never called, so a strategy that only
//! implements `on_book` pays nothing for trades. A Python exception stops the run: it is kept here, with
//! its traceback, and re-raised by the caller as the cause of a `StrategyError`.

use std::cell::RefCell;
use std::rc::Rc;

use ferrotrade_model::{Bar, Fill, InstrumentIndex, Liquidity, MarkPrice, OrderEvent, OrderEventKind, Trade};
use ferrotrade_strategy::algo::AlgoEvent;
use ferrotrade_strategy::{Context, DataKind, Strategy, StrategyError, StrategyResult, Subscription, TimerId};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::backtest::context::{ContextGuard, PyContext};

const CALLBACKS: [&str; 10] =
    ["on_start", "on_book", "on_trade", "on_bar", "on_mark", "on_order", "on_fill", "on_timer", "on_stop", "on_algo"];

/// Which callbacks the class overrides, by position in [`CALLBACKS`].
#[derive(Clone, Copy, Default)]
struct Overrides([bool; 10]);

/// A Python strategy object.
pub struct PyStrategy {
    object: Py<PyAny>,
    name: String,
    subscriptions: Vec<Subscription>,
    overrides: Overrides,
    context: Py<PyContext>,
    /// Precisions per instrument, filled on start, to convert events to floats.
    precisions: Vec<(u8, u8)>,
    /// Interned method names, by position in [`CALLBACKS`].
    methods: [Py<PyString>; 10],
    /// Exceptions that stopped the run, by strategy name, shared with the caller that re-raises them.
    errors: Rc<RefCell<Vec<(String, PyErr)>>>,
}

fn parse_kind(text: &str) -> PyResult<DataKind> {
    match text {
        "book" => Ok(DataKind::Book),
        "trades" => Ok(DataKind::Trades),
        "bars" => Ok(DataKind::Bars),
        "mark" => Ok(DataKind::Mark),
        other => Err(PyTypeError::new_err(format!("unknown data kind {other:?} (book, trades, bars, mark)"))),
    }
}

impl PyStrategy {
    /// Wraps `object`; `base` is the `ferrotrade.Strategy` class (to tell overridden callbacks apart).
    ///
    /// The object must have `subscriptions`: a dict `{"venue.SYMBOL": ["book", "trades", ...]}`.
    pub fn new(
        py: Python<'_>,
        object: Py<PyAny>,
        base: &Bound<'_, PyAny>,
        name: Option<String>,
        errors: Rc<RefCell<Vec<(String, PyErr)>>>,
    ) -> PyResult<PyStrategy> {
        let bound = object.bind(py);
        let class = bound.get_type();
        let mut overrides = Overrides::default();
        for (slot, callback) in CALLBACKS.iter().enumerate() {
            let mine = class.getattr(*callback).ok();
            let inherited = base.getattr(*callback).ok();
            overrides.0[slot] = match (mine, inherited) {
                (Some(mine), Some(inherited)) => !mine.is(&inherited),
                (Some(_), None) => true,
                (None, _) => false,
            };
        }
        let name = match name {
            Some(name) => name,
            None => match bound.getattr("name") {
                Ok(value) if !value.is_none() => value.extract()?,
                _ => class.name()?.extract()?,
            },
        };
        let raw = bound.getattr("subscriptions").map_err(|_| {
            PyTypeError::new_err(format!(
                "strategy {name:?} has no `subscriptions` (a dict {{\"venue.SYMBOL\": [\"book\", \"trades\"]}})"
            ))
        })?;
        let raw = raw.cast::<PyDict>().map_err(|_| {
            PyTypeError::new_err(format!("strategy {name:?}: `subscriptions` must be a dict of instrument -> kinds"))
        })?;
        let mut subscriptions = Vec::new();
        for (instrument, kinds) in raw.iter() {
            let instrument: String = instrument.extract()?;
            let kinds: Vec<String> = kinds.extract()?;
            let kinds = kinds.iter().map(|kind| parse_kind(kind)).collect::<PyResult<Vec<_>>>()?;
            subscriptions.push(Subscription::new(&instrument, &kinds));
        }
        Ok(PyStrategy {
            object,
            name,
            subscriptions,
            overrides,
            context: Py::new(py, PyContext::new())?,
            precisions: Vec::new(),
            methods: CALLBACKS.map(|method| PyString::intern(py, method).unbind()),
            errors,
        })
    }

    /// Calls `method(ctx, *args)` with the engine's context lent for the duration of the call.
    fn call<'py, A>(
        &mut self,
        py: Python<'py>,
        slot: usize,
        ctx: &mut dyn Context,
        args: impl FnOnce(Python<'py>, Py<PyContext>) -> PyResult<A>,
    ) -> StrategyResult
    where
        A: pyo3::call::PyCallArgs<'py>,
    {
        if !self.overrides.0[slot] {
            return Ok(());
        }
        let context = self.context.bind(py).borrow();
        let _guard = ContextGuard::lend(&context, ctx);
        let result = args(py, self.context.clone_ref(py))
            .and_then(|args| self.object.bind(py).call_method1(self.methods[slot].bind(py), args).map(drop));
        drop(_guard);
        drop(context);
        result.map_err(|error| {
            let message = format_exception(py, &error);
            self.errors.borrow_mut().push((self.name.clone(), error));
            StrategyError::new(message)
        })
    }

    fn precision(&self, instrument: InstrumentIndex) -> (u8, u8) {
        self.precisions.get(instrument.get()).copied().unwrap_or((0, 0))
    }
}

/// The exception with its traceback, as Python prints it.
fn format_exception(py: Python<'_>, error: &PyErr) -> String {
    let formatted = (|| -> PyResult<String> {
        let traceback = py.import("traceback")?;
        let lines =
            traceback.call_method1("format_exception", (error.get_type(py), error.value(py), error.traceback(py)))?;
        let lines = lines.cast::<PyList>()?;
        let mut text = String::new();
        for line in lines.iter() {
            text.push_str(&line.extract::<String>()?);
        }
        Ok(text)
    })();
    formatted.unwrap_or_else(|_| error.to_string())
}

/// A trade as Python sees it.
#[pyclass(module = "ferrotrade._core", name = "Trade", frozen, get_all)]
pub struct PyTrade {
    /// Exchange time (ns).
    ts_event: u64,
    /// Receive time (ns).
    ts_recv: u64,
    /// Price.
    price: f64,
    /// Size.
    size: f64,
    /// "buy", "sell" or "unknown": the aggressor's side.
    aggressor: &'static str,
    /// Venue trade id, if any.
    trade_id: Option<u64>,
}

/// A bar as Python sees it.
#[pyclass(module = "ferrotrade._core", name = "Bar", frozen, get_all)]
pub struct PyBar {
    /// Open time (ns).
    open_time: u64,
    /// Interval (ns).
    interval_ns: u64,
    /// Open.
    open: f64,
    /// High.
    high: f64,
    /// Low.
    low: f64,
    /// Close.
    close: f64,
    /// Base volume.
    volume: f64,
    /// Receive time (ns).
    ts_recv: u64,
}

/// A mark price update as Python sees it.
#[pyclass(module = "ferrotrade._core", name = "Mark", frozen, get_all)]
pub struct PyMark {
    /// Receive time (ns).
    ts_recv: u64,
    /// Mark price.
    mark_price: f64,
    /// Funding rate, if any.
    funding_rate: Option<f64>,
    /// Next funding time (ns), if any.
    next_funding_time: Option<u64>,
}

/// An order event as Python sees it.
#[pyclass(module = "ferrotrade._core", name = "OrderEvent", frozen, get_all)]
pub struct PyOrderEvent {
    /// The order.
    client_id: u64,
    /// Instrument index.
    instrument: u32,
    /// "denied", "accepted", "rejected", "canceled", "cancel_rejected", "replaced", "replace_rejected",
    /// "triggered", "expired", "filled".
    kind: &'static str,
    /// Reject code for denied/rejected/cancel_rejected/replace_rejected.
    reason: Option<&'static str>,
    /// Venue time (ns).
    ts_event: u64,
    /// Receive time (ns).
    ts_recv: u64,
}

/// A fill as Python sees it.
#[pyclass(module = "ferrotrade._core", name = "Fill", frozen, get_all)]
pub struct PyFill {
    /// The order.
    client_id: u64,
    /// Instrument index.
    instrument: u32,
    /// "buy" or "sell".
    side: &'static str,
    /// Price.
    price: f64,
    /// Size.
    quantity: f64,
    /// Fee (negative: rebate).
    fee: f64,
    /// "maker" or "taker".
    liquidity: &'static str,
    /// Venue trade id.
    trade_id: u64,
    /// Receive time (ns).
    ts_recv: u64,
}

fn event_kind(kind: &OrderEventKind) -> (&'static str, Option<&'static str>) {
    match kind {
        OrderEventKind::Denied(reason) => ("denied", Some(reason.code())),
        OrderEventKind::Submitted => ("submitted", None),
        OrderEventKind::Accepted(_) => ("accepted", None),
        OrderEventKind::Rejected(reason) => ("rejected", Some(reason.code())),
        OrderEventKind::PendingCancel => ("pending_cancel", None),
        OrderEventKind::Canceled => ("canceled", None),
        OrderEventKind::CancelRejected(reason) => ("cancel_rejected", Some(reason.code())),
        OrderEventKind::PendingReplace => ("pending_replace", None),
        OrderEventKind::Replaced { .. } => ("replaced", None),
        OrderEventKind::ReplaceRejected(reason) => ("replace_rejected", Some(reason.code())),
        OrderEventKind::Triggered => ("triggered", None),
        OrderEventKind::Expired => ("expired", None),
        OrderEventKind::Filled(_) => ("filled", None),
    }
}

impl Strategy for PyStrategy {
    fn name(&self) -> &str {
        &self.name
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        self.subscriptions.clone()
    }

    fn on_start(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        self.precisions = ctx.instruments().iter().map(|info| (info.price_precision, info.size_precision)).collect();
        Python::attach(|py| self.call(py, 0, ctx, |_, context| Ok((context,))))
    }

    fn on_book(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex) -> StrategyResult {
        if !self.overrides.0[1] {
            return Ok(());
        }
        Python::attach(|py| self.call(py, 1, ctx, |_, context| Ok((context, instrument.0))))
    }

    fn on_trade(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, trade: &Trade) -> StrategyResult {
        if !self.overrides.0[2] {
            return Ok(());
        }
        let (pp, sp) = self.precision(instrument);
        let trade = PyTrade {
            ts_event: trade.ts_event.0,
            ts_recv: trade.ts_recv.0,
            price: trade.price.to_f64(pp),
            size: trade.size.to_f64(sp),
            aggressor: match trade.aggressor {
                ferrotrade_model::AggressorSide::Buyer => "buy",
                ferrotrade_model::AggressorSide::Seller => "sell",
                ferrotrade_model::AggressorSide::Unknown => "unknown",
            },
            trade_id: trade.trade_id,
        };
        Python::attach(|py| self.call(py, 2, ctx, |py, context| Ok((context, instrument.0, Py::new(py, trade)?))))
    }

    fn on_bar(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, bar: &Bar) -> StrategyResult {
        if !self.overrides.0[3] {
            return Ok(());
        }
        let (pp, sp) = self.precision(instrument);
        let bar = PyBar {
            open_time: bar.open_time.0,
            interval_ns: bar.interval_ns,
            open: bar.open.to_f64(pp),
            high: bar.high.to_f64(pp),
            low: bar.low.to_f64(pp),
            close: bar.close.to_f64(pp),
            volume: bar.volume.to_f64(sp),
            ts_recv: bar.ts_recv.0,
        };
        Python::attach(|py| self.call(py, 3, ctx, |py, context| Ok((context, instrument.0, Py::new(py, bar)?))))
    }

    fn on_mark(&mut self, ctx: &mut dyn Context, instrument: InstrumentIndex, mark: &MarkPrice) -> StrategyResult {
        if !self.overrides.0[4] {
            return Ok(());
        }
        let precision = ctx.instruments().get(instrument.get()).map_or(0, |info| info.mark_precision);
        let mark = PyMark {
            ts_recv: mark.ts_recv.0,
            mark_price: mark.mark_price.to_f64(precision),
            funding_rate: mark.funding_rate,
            next_funding_time: mark.next_funding_time.map(|time| time.0),
        };
        Python::attach(|py| self.call(py, 4, ctx, |py, context| Ok((context, instrument.0, Py::new(py, mark)?))))
    }

    fn on_order(&mut self, ctx: &mut dyn Context, event: &OrderEvent) -> StrategyResult {
        if !self.overrides.0[5] {
            return Ok(());
        }
        let (kind, reason) = event_kind(&event.kind);
        let event = PyOrderEvent {
            client_id: event.client_id.0,
            instrument: event.instrument.0,
            kind,
            reason,
            ts_event: event.ts_event.0,
            ts_recv: event.ts_recv.0,
        };
        Python::attach(|py| self.call(py, 5, ctx, |py, context| Ok((context, Py::new(py, event)?))))
    }

    fn on_fill(&mut self, ctx: &mut dyn Context, fill: &Fill) -> StrategyResult {
        if !self.overrides.0[6] {
            return Ok(());
        }
        let (pp, sp) = self.precision(fill.instrument);
        let fill = PyFill {
            client_id: fill.client_id.0,
            instrument: fill.instrument.0,
            side: fill.side.as_str(),
            price: fill.price.to_f64(pp),
            quantity: fill.quantity.to_f64(sp),
            fee: fill.fee.to_f64(),
            liquidity: match fill.liquidity {
                Liquidity::Maker => "maker",
                Liquidity::Taker => "taker",
            },
            trade_id: fill.trade_id,
            ts_recv: fill.ts_recv.0,
        };
        Python::attach(|py| self.call(py, 6, ctx, |py, context| Ok((context, Py::new(py, fill)?))))
    }

    fn on_timer(&mut self, ctx: &mut dyn Context, timer: TimerId) -> StrategyResult {
        Python::attach(|py| self.call(py, 7, ctx, |_, context| Ok((context, timer))))
    }

    fn on_stop(&mut self, ctx: &mut dyn Context) -> StrategyResult {
        Python::attach(|py| self.call(py, 8, ctx, |_, context| Ok((context,))))
    }

    /// Python strategies may always use execution algorithms (`ctx.submit_algo`).
    fn uses_algos(&self) -> bool {
        true
    }

    /// `on_algo(ctx, event)` with `event` a dict: parent_id, status, filled (instrument units), reason.
    fn on_algo(&mut self, ctx: &mut dyn Context, event: &AlgoEvent) -> StrategyResult {
        if !self.overrides.0[9] {
            return Ok(());
        }
        let size_precision = event.size_precision;
        Python::attach(|py| {
            self.call(py, 9, ctx, |py, context| {
                let dict = PyDict::new(py);
                dict.set_item("parent_id", event.parent.0)?;
                dict.set_item("status", event.status.as_str())?;
                dict.set_item("filled", event.filled.to_f64(size_precision))?;
                dict.set_item("reason", event.reason.as_deref())?;
                Ok((context, dict))
            })
        })
    }

    /// `strategy.set_parameter(ctx, name, value)` (the base class's default sets a public attribute); an
    /// exception refuses the change with its message, without stopping the run.
    fn set_parameter(&mut self, ctx: &mut dyn Context, name: &str, value: &str) -> StrategyResult {
        Python::attach(|py| {
            let context = self.context.bind(py).borrow();
            let _guard = ContextGuard::lend(&context, ctx);
            let result =
                self.object.bind(py).call_method1("set_parameter", (self.context.clone_ref(py), name, value)).map(drop);
            drop(_guard);
            drop(context);
            result.map_err(|error| {
                let kind = error.get_type(py).name().map(|name| name.to_string()).unwrap_or_default();
                StrategyError::new(format!("{kind}: {}", error.value(py)))
            })
        })
    }
}

/// Registers the event classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyContext>()?;
    module.add_class::<PyTrade>()?;
    module.add_class::<PyBar>()?;
    module.add_class::<PyMark>()?;
    module.add_class::<PyOrderEvent>()?;
    module.add_class::<PyFill>()?;
    Ok(())
}
