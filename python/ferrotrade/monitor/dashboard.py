"""A full-screen view of a running engine, built from its bus: books, positions, PnL, orders, risk, health.

The view is split in two so it can be tested without a terminal:

* :class:`DashboardState` is fed envelopes (:meth:`DashboardState.apply`) and keeps what the screen shows:
  the latest book summary per instrument, positions and PnL per strategy (and the account), the working
  orders (tracked from order events: an order leaves the table at a terminal status), the latest metrics
  (stage latencies, feed health, counters), the trading state and recent risk events, the heartbeat
  (its age says whether the engine is alive) and the subscriber's own gap count.
* :func:`render` turns a state into a rich renderable (a :class:`rich.layout.Layout`), drawn by
  :func:`run_dashboard` in a ``rich.live.Live`` full-screen display at a few frames a second (or printed
  once into any console, as the tests do).

A dashboard that connects while the engine runs learns positions and orders from their next event; with a
control endpoint and token it starts from the engine's snapshot instead
(:meth:`DashboardState.apply_snapshot`).

Examples
--------
>>> import io
>>> from rich.console import Console
>>> from ferrotrade.v1 import envelope_pb2
>>> state = DashboardState()
>>> envelope = envelope_pb2.Envelope(seq=1, topic_seq=1)
>>> envelope.pnl.equity = "10000.5"
>>> state.apply("pnl", envelope)
>>> console = Console(width=160, height=50, record=True, file=io.StringIO())
>>> console.print(render(state))
>>> "10000.5" in console.export_text()
True
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from rich import box
from rich.console import Console, Group, RenderableType
from rich.layout import Layout
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ferrotrade.monitor.subscriber import DEFAULT_ENDPOINT, Subscriber, to_decimal
from ferrotrade.monitor.tail import enum_name
from ferrotrade.v1 import common_pb2, control_pb2, engine_pb2, envelope_pb2, market_pb2, orders_pb2, risk_pb2

__all__ = ["DashboardState", "render", "run_dashboard"]

_TERMINAL: Final = frozenset(
    {
        orders_pb2.ORDER_STATUS_DENIED,
        orders_pb2.ORDER_STATUS_REJECTED,
        orders_pb2.ORDER_STATUS_FILLED,
        orders_pb2.ORDER_STATUS_CANCELED,
        orders_pb2.ORDER_STATUS_EXPIRED,
    }
)
_STATE_STYLE: Final = {
    common_pb2.TRADING_STATE_ACTIVE: "bold green",
    common_pb2.TRADING_STATE_REDUCING: "bold yellow",
    common_pb2.TRADING_STATE_HALTED: "bold red",
}
_STALE_HEARTBEAT_S: Final = 3.0


@dataclass
class DashboardState:
    """What the dashboard shows, updated envelope by envelope.

    Attributes
    ----------
    books : dict
        The latest book summary per ``venue.symbol``.
    positions : dict
        The latest position per ``(venue.symbol, strategy)`` (strategy ``""``: the account).
    pnl : dict
        The latest PnL per strategy (``""``: the account).
    orders : dict
        Working orders by client id, each as its latest event.
    metrics, heartbeat
        The latest of each, or None.
    risk_events : deque
        The most recent risk events (rejections and state changes), newest last.
    heartbeat_at : float
        ``time.monotonic()`` when the last heartbeat arrived (0: none yet).
    messages, missed : int
        Envelopes applied and messages lost before this dashboard (``topic_seq`` gaps).
    depth : int
        Book levels shown per side.
    """

    books: dict[str, market_pb2.BookSummary] = field(default_factory=dict)
    positions: dict[tuple[str, str], orders_pb2.Position] = field(default_factory=dict)
    pnl: dict[str, orders_pb2.Pnl] = field(default_factory=dict)
    orders: dict[int, orders_pb2.OrderEvent] = field(default_factory=dict)
    metrics: engine_pb2.Metrics | None = None
    heartbeat: engine_pb2.Heartbeat | None = None
    status: control_pb2.EngineStatus | None = None
    risk_events: deque[risk_pb2.RiskEvent] = field(default_factory=lambda: deque(maxlen=8))
    heartbeat_at: float = 0.0
    messages: int = 0
    missed: int = 0
    depth: int = 5
    endpoint: str = ""

    def apply(self, topic: str, envelope: envelope_pb2.Envelope) -> None:
        """Fold one envelope into the state."""
        self.messages += 1
        kind = envelope.WhichOneof("body")
        if kind == "book":
            self.books[_name(envelope.book.instrument)] = envelope.book
        elif kind == "order":
            self._order(envelope.order)
        elif kind == "position":
            position = envelope.position
            self.positions[(_name(position.instrument), position.strategy)] = position
        elif kind == "pnl":
            self.pnl[envelope.pnl.strategy] = envelope.pnl
        elif kind == "risk":
            self.risk_events.append(envelope.risk)
        elif kind == "metrics":
            self.metrics = envelope.metrics
        elif kind == "heartbeat":
            if self.heartbeat is not None and self.heartbeat.session != envelope.heartbeat.session:
                self.orders.clear()  # a new engine session: the old working orders are its past
            self.heartbeat = envelope.heartbeat
            self.heartbeat_at = time.monotonic()

    def _order(self, order: orders_pb2.OrderEvent) -> None:
        if order.status in _TERMINAL:
            self.orders.pop(order.client_id, None)
        else:
            self.orders[order.client_id] = order

    def apply_snapshot(self, snapshot: control_pb2.EngineSnapshot) -> None:
        """Start from an engine snapshot (``ferrotrade ctl snapshot``): books, positions, orders, PnL."""
        self.status = snapshot.status
        for book in snapshot.books:
            self.books[_name(book.instrument)] = book
        for position in snapshot.positions:
            self.positions[(_name(position.instrument), position.strategy)] = position
        self.orders = {order.client_id: order for order in snapshot.orders}
        for pnl in snapshot.pnl:
            self.pnl[pnl.strategy] = pnl


def _name(instrument: common_pb2.InstrumentRef) -> str:
    return f"{instrument.venue}.{instrument.symbol}"


def _us(nanos: int) -> str:
    return f"{nanos / 1000:,.1f}"


def _header(state: DashboardState) -> Text:
    text = Text()
    beat = state.heartbeat
    if beat is None:
        text.append("waiting for the engine's heartbeat", style="bold yellow")
        text.append(f"  on {state.endpoint}" if state.endpoint else "")
    else:
        trading = state.metrics.state if state.metrics is not None else beat.state
        text.append(f"ferrotrade {beat.mode}  ", style="bold")
        text.append(enum_name(common_pb2.TradingState, trading), style=_STATE_STYLE.get(trading, "bold"))
        age = time.monotonic() - state.heartbeat_at
        style = "red" if age > _STALE_HEARTBEAT_S else "green"
        text.append(f"  session {beat.session}  up {beat.uptime_ns / 1e9:,.0f}s  ")
        text.append(f"heartbeat {age:.1f}s ago", style=style)
        text.append(f"  bus published {beat.published:,} dropped {beat.dropped:,}")
    style = "red" if state.missed else "dim"
    text.append(f"  received {state.messages:,} missed {state.missed:,}", style=style)
    return text


def _book_table(book: market_pb2.BookSummary, depth: int) -> Table:
    instrument = book.instrument
    title = f"{_name(instrument)}" + ("" if book.synced else " (UNSYNCED)")
    table = Table(title=title, box=box.SIMPLE, expand=True, title_style="bold" if book.synced else "bold red")
    for column in ("bid size", "bid", "ask", "ask size"):
        table.add_column(column, justify="right")
    rows = max(min(len(book.bid_price), depth), min(len(book.ask_price), depth))
    for level in range(rows):
        cells = ["", "", "", ""]
        if level < len(book.bid_price):
            cells[0] = str(to_decimal(book.bid_size[level], instrument.size_precision))
            cells[1] = str(to_decimal(book.bid_price[level], instrument.price_precision))
        if level < len(book.ask_price):
            cells[2] = str(to_decimal(book.ask_price[level], instrument.price_precision))
            cells[3] = str(to_decimal(book.ask_size[level], instrument.size_precision))
        table.add_row(Text(cells[0]), Text(cells[1], "green"), Text(cells[2], "red"), Text(cells[3]))
    return table


def _books(state: DashboardState) -> RenderableType:
    if not state.books:
        return Text("no book summary yet", style="dim")
    return Group(*(_book_table(state.books[name], state.depth) for name in sorted(state.books)))


def _positions(state: DashboardState) -> RenderableType:
    table = Table(box=box.SIMPLE, expand=True)
    table.add_column("instrument", no_wrap=True, min_width=20)
    table.add_column("strategy")
    for column in ("quantity", "entry value", "realized", "fees"):
        table.add_column(column, justify="right")
    for (name, strategy), position in sorted(state.positions.items()):
        quantity = to_decimal(position.quantity, position.instrument.size_precision)
        style = "green" if quantity > 0 else "red" if quantity < 0 else ""
        table.add_row(
            name,
            strategy or "account",
            Text(str(quantity), style),
            position.entry_value,
            position.realized_pnl,
            position.fees,
        )
    pnl = Table(box=box.SIMPLE, expand=True)
    for column in ("PnL", "equity", "realized", "unrealized", "fees", "funding"):
        pnl.add_column(column, justify="left" if column == "PnL" else "right")
    for strategy, row in sorted(state.pnl.items()):
        pnl.add_row(strategy or "account", row.equity, row.realized, row.unrealized, row.fees, row.funding)
    return Group(table, pnl)


def _orders(state: DashboardState) -> RenderableType:
    # the instrument column only when orders are on several instruments: a narrow panel keeps the ids whole
    several = len({_name(order.instrument) for order in state.orders.values()}) > 1
    table = Table(box=box.SIMPLE, expand=True)
    table.add_column("client id", no_wrap=True)
    table.add_column("strategy")
    if several:
        table.add_column("instrument", no_wrap=True)
    for column in ("side", "price", "filled/qty", "status"):
        table.add_column(column, justify="right" if column in ("price", "filled/qty") else "left")
    for client_id in sorted(state.orders)[-12:]:
        order = state.orders[client_id]
        i = order.instrument
        price = str(to_decimal(order.price, i.price_precision)) if order.price else "market"
        side = enum_name(common_pb2.Side, order.side)
        cells: list[str | Text] = [str(client_id), order.strategy or "-"]
        if several:
            cells.append(_name(i))
        cells += [
            Text(side, "green" if side == "BUY" else "red"),
            price,
            f"{to_decimal(order.filled, i.size_precision)}/{to_decimal(order.quantity, i.size_precision)}",
            enum_name(orders_pb2.OrderStatus, order.status),
        ]
        table.add_row(*cells)
    return table


def _latency(state: DashboardState) -> RenderableType:
    table = Table(box=box.SIMPLE, expand=True)
    for column in ("stage", "count", "p50 us", "p99 us", "p99.9 us", "max us"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    if state.metrics is not None:
        for stage in state.metrics.latency:
            table.add_row(
                stage.stage,
                f"{stage.count:,}",
                _us(stage.p50_ns),
                _us(stage.p99_ns),
                _us(stage.p999_ns),
                _us(stage.max_ns),
            )
    return table


def _risk(state: DashboardState) -> RenderableType:
    lines = Text()
    metrics = state.metrics
    if metrics is not None:
        denials = ", ".join(f"{c.label} {c.count}" for c in metrics.denials) or "none"
        rejections = ", ".join(f"{c.label} {c.count}" for c in metrics.rejections) or "none"
        lines.append(f"denials: {denials}\nvenue rejections: {rejections}\n")
    for event in state.risk_events:
        if event.WhichOneof("event") == "rejection":
            r = event.rejection
            lines.append(f"denied {r.strategy or '-'} #{r.client_id}: {r.reason}\n", style="yellow")
        else:
            change = event.state_change
            before = enum_name(common_pb2.TradingState, getattr(change, "from"))
            after = enum_name(common_pb2.TradingState, change.to)
            lines.append(f"{before} -> {after} ({change.reason})\n", style=_STATE_STYLE.get(change.to, ""))
    if not lines:
        lines.append("no risk event", style="dim")
    return lines


def _feeds(state: DashboardState) -> RenderableType:
    table = Table(box=box.SIMPLE, expand=True)
    for column in ("venue", "messages", "synced", "resyncs", "reconnects", "trades lost"):
        table.add_column(column, justify="left" if column == "venue" else "right")
    metrics = state.metrics
    if metrics is None:
        return table
    for feed in metrics.feeds:
        synced = Text(
            f"{feed.synced}/{feed.instruments}", "green" if feed.synced == feed.instruments else "red"
        )
        table.add_row(
            feed.venue,
            f"{feed.messages:,}",
            synced,
            str(feed.resyncs),
            str(feed.reconnects),
            str(feed.trades_lost),
        )
    table.caption = (
        f"{metrics.messages_per_second:,.0f} msg/s  orders {metrics.orders:,}  cancels {metrics.cancels:,}  "
        f"amends {metrics.amends:,}  fills {metrics.fills:,}  open {metrics.open_orders:,}"
    )
    return table


def render(state: DashboardState) -> RenderableType:
    """Return the whole screen for ``state``: header, books and orders on the left, the rest on the right."""
    layout = Layout()
    layout.split_column(
        Layout(Panel(_header(state), box=box.ROUNDED), name="header", size=3), Layout(name="body")
    )
    left, right = Layout(name="left"), Layout(name="right")
    layout["body"].split_row(left, right)
    left.split_column(
        Layout(Panel(_books(state), title="books", box=box.ROUNDED), name="books"),
        Layout(
            Panel(_orders(state), title=f"open orders ({len(state.orders)})", box=box.ROUNDED), name="orders"
        ),
    )
    right.split_column(
        Layout(Panel(_positions(state), title="positions and PnL", box=box.ROUNDED), name="positions"),
        Layout(Panel(_latency(state), title="latency", box=box.ROUNDED), name="latency"),
        Layout(Panel(_risk(state), title="risk", box=box.ROUNDED), name="risk", size=8),
        Layout(Panel(_feeds(state), title="feeds", box=box.ROUNDED), name="feeds", size=8),
    )
    return layout


def run_dashboard(
    endpoint: str = DEFAULT_ENDPOINT,
    *,
    console: Console | None = None,
    refresh_hz: float = 4.0,
    snapshot: Callable[[], control_pb2.EngineSnapshot] | None = None,
    depth: int = 5,
    duration_s: float | None = None,
) -> DashboardState:
    """Draw the dashboard of the engine publishing on ``endpoint`` until Ctrl-C (or ``duration_s``).

    Parameters
    ----------
    endpoint : str
        The engine's PUB endpoint.
    console : rich.console.Console, optional
        Where to draw (the terminal by default); the display is full-screen.
    refresh_hz : float
        Redraws per second at most.
    snapshot : callable, optional
        Returns the engine's snapshot to start from (positions and working orders from before the
        dashboard connected).
    depth : int
        Book levels per side.
    duration_s : float, optional
        Stop after this many seconds.

    Returns
    -------
    DashboardState
        The state when it stopped.
    """
    state = DashboardState(depth=depth, endpoint=endpoint)
    if snapshot is not None:
        state.apply_snapshot(snapshot())
    interval = 1.0 / refresh_hz
    started = time.monotonic()
    with (
        Subscriber(endpoint) as bus,
        Live(render(state), console=console, screen=True, auto_refresh=False, transient=True) as live,
    ):
        next_draw = time.monotonic()
        try:
            while duration_s is None or time.monotonic() - started < duration_s:
                received = bus.receive(max(0.0, next_draw - time.monotonic()))
                if received is not None:
                    state.apply(*received)
                    state.missed = bus.missed
                if time.monotonic() >= next_draw:
                    live.update(render(state), refresh=True)
                    next_draw = time.monotonic() + interval
        except KeyboardInterrupt:
            pass
    return state
