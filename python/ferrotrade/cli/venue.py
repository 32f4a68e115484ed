"""``ferrotrade venue serve``: the local Binance- and Bybit-compatible venue on loopback.

It replays the given recordings as the venues' own WebSocket frames and REST answers, accepts signed
orders (keys from ``--api-key``/``--api-secret`` or ``FT_VENUE_API_KEY``/``FT_VENUE_API_SECRET``), matches
them with the backtester's matching engine and pushes user-data events. Fault switches let tests and demos
exercise resync and recovery. Endpoints, on one port P::

    REST (all venues)   http://127.0.0.1:P            (/api/v3, /fapi/v1, /v5)
    Binance spot WS     ws://127.0.0.1:P/binance-spot (/stream?streams=..., /ws/<listenKey>)
    Binance USD-M WS    ws://127.0.0.1:P/binance-usdm
    Bybit WS            ws://127.0.0.1:P/v5/public/linear, /v5/public/spot, /v5/private
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ferrotrade.cli.data import EXIT_ERROR, expected_errors
from ferrotrade.live import VenueFaults, serve_venue

__all__ = ["app"]

app = typer.Typer(help="The local venue: a real protocol peer on loopback.", no_args_is_help=True)
_err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def _speed(value: str) -> float | None:
    if value == "max":
        return None
    try:
        speed = float(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r}: a positive number or 'max'") from None
    if speed <= 0:
        raise typer.BadParameter(f"{value!r}: a positive number or 'max'")
    return speed


@app.command("serve")
def serve_command(  # noqa: PLR0917 (typer maps each parameter to an option)
    replay: Annotated[list[Path], typer.Option("--replay", help="Recording to replay (repeatable).")],
    speed: Annotated[str, typer.Option("--speed", help="Multiple of recorded time, or 'max'.")] = "1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    api_key: Annotated[str | None, typer.Option("--api-key", help="Accepted API key.")] = None,
    drop: Annotated[float, typer.Option("--drop", help="Probability to drop a market message.")] = 0.0,
    duplicate: Annotated[float, typer.Option("--duplicate", help="Probability to send one twice.")] = 0.0,
    reorder: Annotated[float, typer.Option("--reorder", help="Probability to swap with the next.")] = 0.0,
    disconnect_every: Annotated[
        float | None, typer.Option("--disconnect-every", help="Close market connections every N seconds.")
    ] = None,
    delay_ms: Annotated[float | None, typer.Option("--delay-ms", help="Delay every market message.")] = None,
    rest_5xx: Annotated[float, typer.Option("--rest-5xx", help="Probability to answer REST with 503.")] = 0.0,
    user_drop: Annotated[float, typer.Option("--user-drop", help="Probability to lose a user push.")] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fault draws.")] = 0,
    busy_poll: Annotated[
        bool,
        typer.Option("--busy-poll", help="Never sleep between requests (one CPU at 100 %, for benchmarks)."),
    ] = False,
) -> None:
    """Serve recorded Binance/Bybit traffic and a matching engine on loopback until Ctrl-C."""
    # The secret comes from the environment only, so it never shows in `ps` or shell history.
    key = api_key or os.environ.get("FT_VENUE_API_KEY")
    secret = os.environ.get("FT_VENUE_API_SECRET")
    if key is not None and secret is None:
        _err.print("[bold red]error:[/bold red] set FT_VENUE_API_SECRET for the API key")
        raise typer.Exit(EXIT_ERROR)
    faults = VenueFaults(drop, duplicate, reorder, disconnect_every, delay_ms, rest_5xx, user_drop)

    def ready(address: str) -> None:
        _err.print(f"local venue listening on {address} (REST http://{address}, WS ws://{address}/...)")

    with expected_errors(interrupted="stopped"):
        counters = serve_venue(
            replay,
            speed=_speed(speed),
            port=port,
            accounts=[(key, secret)] if key and secret else [],
            faults=faults,
            seed=seed,
            busy_poll=busy_poll,
            on_ready=ready,
        )
    for name, value in sorted(counters.items()):
        _err.print(f"{name}: {value}")
