"""``ferrotrade ctl ...``: commands to a running engine over its control socket (``[bus].control``).

``status``, ``halt``, ``resume``, ``reduce-only``, ``kill``, ``set STRATEGY PARAM VALUE`` and ``snapshot``
each send one ``ferrotrade.v1.Command`` with the run's token, read from the environment variable named by
``--token-env`` (``FERROTRADE_CONTROL_TOKEN``), and print the reply (a table, or JSON with ``--json``).
The token is never printed.

Exit codes: 0 the engine carried the command out (for ``kill``: nothing is left open); 1 the engine refused
it (its reason is printed: ``unauthorized``, ``unknown parameter ...``) or a kill timed out with orders or
positions still open; 2 no token, or no answer within ``--timeout``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from google.protobuf.message import Message
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ferrotrade.monitor.control import DEFAULT_CONTROL, DEFAULT_TOKEN_ENV, ControlError, Controller
from ferrotrade.monitor.subscriber import message_to_dict, to_decimal
from ferrotrade.monitor.tail import enum_name
from ferrotrade.v1 import common_pb2, control_pb2

__all__ = ["app"]

app = typer.Typer(help="Commands to a running engine over its bus control socket.", no_args_is_help=True)

_out = Console(width=None if sys.stdout.isatty() else 200)
_err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

EXIT_REFUSED = 1
EXIT_ERROR = 2

Endpoint = Annotated[str, typer.Option("--endpoint", "-e", help="The engine's control endpoint.")]
TokenEnv = Annotated[str, typer.Option("--token-env", help="Environment variable holding the control token.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the reply as JSON.")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait for the reply.")]


def _message_json(message: Message) -> dict[str, Any]:
    return message_to_dict(message)


@contextmanager
def _controller(endpoint: str, token_env: str, timeout_s: float) -> Iterator[Controller]:
    token = os.environ.get(token_env, "")
    if not token:
        _err.print(f"[bold red]error:[/bold red] [red]no control token: set {escape(token_env)}[/red]")
        raise typer.Exit(EXIT_ERROR)
    try:
        with Controller(endpoint, token, timeout_s) as controller:
            yield controller
    except ControlError as error:
        code = EXIT_ERROR if error.reason.startswith("timeout") else EXIT_REFUSED
        _err.print(f"[bold red]refused:[/bold red] [red]{escape(str(error))}[/red]", soft_wrap=True)
        raise typer.Exit(code) from None


def _status_table(status: control_pb2.EngineStatus) -> Table:
    table = Table(title=f"engine {status.session} ({status.mode})", show_header=False)
    table.add_column("field")
    table.add_column("value", justify="right")
    table.add_row("state", enum_name(common_pb2.TradingState, status.state))
    table.add_row("uptime", f"{status.uptime_ns / 1e9:,.1f} s")
    for name in ("messages", "orders", "fills", "open_orders"):
        table.add_row(name.replace("_", " "), f"{getattr(status, name):,}")
    table.add_row("strategies", ", ".join(status.strategies))
    unsynced = ", ".join(f"{i.venue}.{i.symbol}" for i in status.unsynced) or "none"
    table.add_row("unsynced books", unsynced)
    return table


def _show_status(status: control_pb2.EngineStatus, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(_message_json(status)) + "\n")
    else:
        _out.print(_status_table(status))


def _state_command(name: str, doc: str) -> None:
    """Registers ``ctl NAME``: a command answered with the engine's status (``Controller.<name>``)."""
    method = name.replace("-", "_")

    def command(
        endpoint: Endpoint = DEFAULT_CONTROL,
        token_env: TokenEnv = DEFAULT_TOKEN_ENV,
        as_json: AsJson = False,
        timeout: Timeout = 5.0,
    ) -> None:
        with _controller(endpoint, token_env, timeout) as controller:
            _show_status(getattr(controller, method)(), as_json)

    command.__doc__ = doc
    command.__name__ = f"{method}_command"
    app.command(name)(command)


for _name, _doc in (
    ("status", "Show the engine's state, counters and unsynced books."),
    ("halt", "Refuse every new order (working orders stay)."),
    ("resume", "Trade normally again (state ACTIVE)."),
    ("reduce-only", "Let only orders through that cannot increase a position (state REDUCING)."),
):
    _state_command(_name, _doc)


@app.command("kill")
def kill_command(
    endpoint: Endpoint = DEFAULT_CONTROL,
    token_env: TokenEnv = DEFAULT_TOKEN_ENV,
    as_json: AsJson = False,
    timeout: Timeout = 5.0,
    kill_timeout_ms: Annotated[
        int, typer.Option("--kill-timeout-ms", help="How long the engine may take to confirm.")
    ] = 5000,
) -> None:
    """Cancel every order, flatten every position, then halt; exit 1 if something is still open."""
    with _controller(endpoint, token_env, timeout) as controller:
        report = controller.kill(kill_timeout_ms)
    if as_json:
        body = _message_json(report)
        body["elapsed_ms"] = report.elapsed_ns / 1e6
        sys.stdout.write(json.dumps(body) + "\n")
    else:
        table = Table(title="kill", show_header=False)
        table.add_column("field")
        table.add_column("value", justify="right")
        table.add_row("state", enum_name(common_pb2.TradingState, report.state))
        table.add_row("orders cancelled", str(report.cancelled))
        table.add_row("flattening orders", str(report.flatten_orders))
        table.add_row("still open orders", str(report.open_orders))
        table.add_row("still open positions", str(report.open_positions))
        table.add_row("elapsed", f"{report.elapsed_ns / 1e6:,.1f} ms")
        _out.print(table)
    if report.open_orders or report.open_positions:
        raise typer.Exit(EXIT_REFUSED)


@app.command("set")
def set_command(  # noqa: PLR0917 (typer maps each parameter to an argument or option)
    strategy: Annotated[str, typer.Argument(help="The strategy's name.", show_default=False)],
    parameter: Annotated[
        str,
        typer.Argument(
            help="The parameter: a market maker's half_spread_bps, a trend's order_size, a model's"
            " long_entry, ... (a refusal lists the strategy's keys).",
            show_default=False,
        ),
    ],
    value: Annotated[str, typer.Argument(help="The new value, as TOML would write it.", show_default=False)],
    endpoint: Endpoint = DEFAULT_CONTROL,
    token_env: TokenEnv = DEFAULT_TOKEN_ENV,
    as_json: AsJson = False,
    timeout: Timeout = 5.0,
) -> None:
    """Change a strategy parameter while the engine runs."""
    with _controller(endpoint, token_env, timeout) as controller:
        controller.set(strategy, parameter, value)
    if as_json:
        sys.stdout.write(json.dumps({"ok": True, "strategy": strategy, parameter: value}) + "\n")
    else:
        _out.print(f"{escape(strategy)}.{escape(parameter)} = {escape(value)}")


@app.command("snapshot")
def snapshot_command(
    endpoint: Endpoint = DEFAULT_CONTROL,
    token_env: TokenEnv = DEFAULT_TOKEN_ENV,
    as_json: AsJson = False,
    timeout: Timeout = 5.0,
    depth: Annotated[int, typer.Option("--depth", help="Book levels per side.")] = 5,
) -> None:
    """Show the books, positions, working orders and PnL now."""
    with _controller(endpoint, token_env, timeout) as controller:
        snapshot = controller.snapshot(depth)
    if as_json:
        sys.stdout.write(json.dumps(_message_json(snapshot)) + "\n")
        return
    _out.print(_status_table(snapshot.status))
    for book in snapshot.books:
        i = book.instrument
        table = Table(title=f"{i.venue}.{i.symbol}" + ("" if book.synced else " (unsynced)"))
        for column in ("bid size", "bid", "ask", "ask size"):
            table.add_column(column, justify="right")
        for level in range(max(len(book.bid_price), len(book.ask_price))):
            bid = level < len(book.bid_price)
            ask = level < len(book.ask_price)
            table.add_row(
                str(to_decimal(book.bid_size[level], i.size_precision)) if bid else "",
                str(to_decimal(book.bid_price[level], i.price_precision)) if bid else "",
                str(to_decimal(book.ask_price[level], i.price_precision)) if ask else "",
                str(to_decimal(book.ask_size[level], i.size_precision)) if ask else "",
            )
        _out.print(table)
    positions = Table(title="positions")
    for column in ("instrument", "strategy", "quantity", "entry value", "realized", "fees"):
        positions.add_column(column)
    for p in snapshot.positions:
        i = p.instrument
        positions.add_row(
            f"{i.venue}.{i.symbol}",
            p.strategy or "account",
            str(to_decimal(p.quantity, i.size_precision)),
            p.entry_value,
            p.realized_pnl,
            p.fees,
        )
    _out.print(positions)
    orders = Table(title=f"working orders ({len(snapshot.orders)})")
    for column in ("client id", "strategy", "side", "price", "filled/qty"):
        orders.add_column(column)
    for o in snapshot.orders:
        i = o.instrument
        orders.add_row(
            str(o.client_id),
            o.strategy or "-",
            enum_name(common_pb2.Side, o.side),
            str(to_decimal(o.price, i.price_precision)) if o.price else "market",
            f"{to_decimal(o.filled, i.size_precision)}/{to_decimal(o.quantity, i.size_precision)}",
        )
    _out.print(orders)
