"""The live engine from Python: ``ft.live.run`` and the local venue ``ft.live.serve_venue``.

``run`` starts the Rust live engine with a configuration (TOML file or mapping) and optional Python
strategies: it connects to the configured venues (or, in ``replay`` mode, to a local venue replaying a
recording), keeps the books, runs the strategies, passes every order through the risk chain and sends it,
and returns a :class:`LiveReport` when it stops (Ctrl-C, ``stop_after``, or an error). ``serve_venue`` runs
the Binance- and Bybit-compatible venue on loopback that the engine's tests, demos and paper runs use.
"""

from ferrotrade.live.report import LiveReport
from ferrotrade.live.run import run
from ferrotrade.live.venue import VenueFaults, serve_venue

__all__ = ["LiveReport", "VenueFaults", "run", "serve_venue"]
