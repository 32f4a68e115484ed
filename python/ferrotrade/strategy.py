"""The base class of Python strategies.

A strategy subclasses :class:`Strategy`, declares what it listens to in ``subscriptions`` and overrides the
callbacks it needs. The engine (backtest today, paper and live later: the class does not know which) calls
them on one thread, in event order, with a :class:`ferrotrade._core.Context` that is valid only during the
call. Callbacks a subclass does not override are never called, so they cost nothing.

Prices and sizes are floats here; the context converts them to the instrument's fixed-point exactly and
refuses a value with more decimals than the instrument allows (``ctx.round_price`` snaps to the tick).
Orders are asynchronous: ``ctx.submit`` returns a client id at once; the outcome arrives in ``on_order``
(including ``kind == "denied"`` with a ``reason`` when the risk chain refuses) and fills in ``on_fill``.

Examples
--------
>>> class JoinBid(Strategy):
...     subscriptions = {"binance-usdm.BTCUSDT": ["book"]}
...
...     def on_book(self, ctx, instrument):
...         if ctx.position(instrument) == 0 and not ctx.open_orders(instrument):
...             bid = ctx.best_bid(instrument)
...             if bid is not None:
...                 ctx.submit(instrument, "buy", 0.001, bid[0], post_only=True)
>>> JoinBid().name is None
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ferrotrade._core import Bar, Context, Fill, Mark, OrderEvent, Trade

__all__ = ["Strategy"]


class Strategy:
    """Base class of Python strategies; override the callbacks you need.

    Attributes
    ----------
    name : str or None
        Name in reports; the class name when None. Names must be unique within a run.
    subscriptions : dict[str, list[str]]
        ``{"venue.SYMBOL": [kinds]}`` with kinds among ``"book"``, ``"trades"``, ``"bars"``, ``"mark"``.
    """

    name: str | None = None
    subscriptions: ClassVar[dict[str, list[str]]] = {}

    def on_start(self, ctx: Context) -> None:
        """Called once before the first event."""

    def on_book(self, ctx: Context, instrument: int) -> None:
        """A venue message updated the book of ``instrument`` (read it through ``ctx``)."""

    def on_trade(self, ctx: Context, instrument: int, trade: Trade) -> None:
        """A trade printed on ``instrument``."""

    def on_bar(self, ctx: Context, instrument: int, bar: Bar) -> None:
        """A bar of ``instrument`` closed."""

    def on_mark(self, ctx: Context, instrument: int, mark: Mark) -> None:
        """A mark price or funding update of ``instrument``."""

    def on_order(self, ctx: Context, event: OrderEvent) -> None:
        """One of the strategy's orders changed (accepted, denied, rejected, canceled, filled, ...)."""

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        """One of the strategy's orders filled (after its ``on_order``)."""

    def on_timer(self, ctx: Context, timer: int) -> None:
        """A timer set with ``ctx.set_timer`` fired."""

    def on_stop(self, ctx: Context) -> None:
        """Called once after the last event."""
