"""The ``ferrotrade`` command line.

One typer sub-application per command group, each in its own module (``cli/data.py`` for
``ferrotrade data ...``). The CLI imports anything and is imported by nothing.

Exit codes
----------
=====  ==========================================================================================
code   meaning
=====  ==========================================================================================
0      success (for ``data verify``: every book is ok; for ``backtest``: the run finished; for
       ``optimize``: the study reached its budget, whatever its trials' outcomes)
1      the command ran but found problems (``data verify``: at least one book is not ok)
2      an expected error: bad input file (reported as ``file:line: reason``), missing path,
       invalid option; no traceback is printed
130    interrupted with Ctrl-C
=====  ==========================================================================================
"""

from __future__ import annotations

from typing import Annotated

import typer

from ferrotrade import __version__
from ferrotrade.cli import backtest, ctl, data, live, ml, monitor, optimize, venue

__all__ = ["app", "main"]

app = typer.Typer(
    name="ferrotrade",
    help="ferrotrade: a fast, exchange-correct trading system for crypto markets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data")
app.command("backtest")(backtest.backtest_command)
app.command("optimize")(optimize.optimize_command)
app.command("walk-forward")(optimize.walk_forward_command)
app.command("live")(live.live_command)
app.add_typer(venue.app, name="venue")
app.add_typer(ml.app, name="ml")
app.add_typer(monitor.app, name="monitor")
app.add_typer(ctl.app, name="ctl")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ferrotrade {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """ferrotrade: a fast, exchange-correct trading system for crypto markets."""


def main() -> None:
    """Run the ``ferrotrade`` command (the console-script entry point)."""
    app()
