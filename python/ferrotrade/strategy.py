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

import tomllib
from typing import TYPE_CHECKING, Any, ClassVar

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

    def on_algo(self, ctx: Context, event: dict[str, Any]) -> None:
        """A parent order of ``ctx.submit_algo`` was paused, resumed or ended.

        ``event`` has ``parent_id``, ``status`` (``paused``, ``working``, ``completed``, ``canceled``,
        ``expired``, ``failed``), ``filled`` (instrument units) and ``reason`` (why it failed or expired).
        Child orders of the algorithms do not reach ``on_order``; their fills do reach ``on_fill``.
        """

    def set_parameter(self, ctx: Context, name: str, value: str) -> None:
        """Change a parameter at run time (the live engine's ``set`` command: ``ferrotrade ctl set``).

        ``value`` is written as in TOML (``12.5``, ``true``, ``"text"``). The default assigns an existing
        public attribute that holds a number, a bool or a string, converted to that attribute's type;
        override it to validate or to react to the change. An exception refuses the change: the operator
        gets its message and the run goes on.

        Examples
        --------
        >>> class Quoter(Strategy):
        ...     spread_bps = 5.0
        >>> quoter = Quoter()
        >>> quoter.set_parameter(None, "spread_bps", "7")  # type: ignore[arg-type]
        >>> quoter.spread_bps
        7.0
        >>> quoter.set_parameter(None, "name", "true")  # type: ignore[arg-type]
        Traceback (most recent call last):
        ...
        KeyError: "'name' is not a parameter of Quoter (public number, bool or string attributes: spread_bps)"
        """
        del ctx
        settable = sorted(
            key
            for key in dir(self)
            if not key.startswith("_")
            and key not in ("name", "subscriptions")
            and isinstance(getattr(self, key), bool | int | float | str)
        )
        if name not in settable:
            known = ", ".join(settable) or "none"
            raise KeyError(
                f"{name!r} is not a parameter of {type(self).__name__} "
                f"(public number, bool or string attributes: {known})"
            )
        try:
            parsed = tomllib.loads(f"value = {value}")["value"]
        except tomllib.TOMLDecodeError:
            parsed = value  # a bare word is a string
        current = getattr(self, name)
        kind = type(current)
        if kind is bool and not isinstance(parsed, bool):
            raise ValueError(f"{name}: expected true or false, got {value!r}")
        if kind is not bool and isinstance(parsed, bool):
            raise ValueError(f"{name}: expected a {kind.__name__}, got {value!r}")
        try:
            converted = kind(parsed)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name}: expected a {kind.__name__}, got {value!r}") from error
        if kind is int and converted != parsed:
            raise ValueError(f"{name}: expected an integer, got {value!r}")
        setattr(self, name, converted)

    def on_stop(self, ctx: Context) -> None:
        """Called once after the last event."""
