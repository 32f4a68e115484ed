"""``ft.live.serve_venue``: the local Binance- and Bybit-compatible venue on loopback.

It replays real recordings (hftbacktest collector files, the Bybit history archive) as the venues' own
WebSocket frames, answers REST depth snapshots from its own book, accepts signed orders (verifying the
signature as the venue does and answering bad requests with the venue's error codes and HTTP statuses,
429 included), matches them with the backtester's matching engine and pushes user-data events in the
venues' formats. Fault switches drop, duplicate or reorder market messages, disconnect every N seconds,
delay messages and answer REST with 5xx, for resync and recovery tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ferrotrade import _core

__all__ = ["VenueFaults", "serve_venue"]


@dataclass(frozen=True)
class VenueFaults:
    """Fault injection of the local venue (probabilities are per market message or REST request).

    Attributes
    ----------
    drop, duplicate, reorder : float
        Probability that a market message is dropped, sent twice, or swapped with the next one.
    disconnect_every_s : float or None
        Close every market-data connection this often.
    delay_ms : float or None
        Added delay before each market message.
    rest_5xx : float
        Probability that a REST request is answered with HTTP 503.
    user_drop : float
        Probability that a user-data push (order update, execution) is lost: the client learns of the
        change only by asking the venue.
    """

    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    disconnect_every_s: float | None = None
    delay_ms: float | None = None
    rest_5xx: float = 0.0
    user_drop: float = 0.0


def serve_venue(
    replay: Sequence[str | Path],
    *,
    speed: float | None = 1.0,
    port: int = 8765,
    host: str = "127.0.0.1",
    accounts: Iterable[tuple[str, str]] = (),
    faults: VenueFaults | None = None,
    seed: int = 0,
    busy_poll: bool = False,
    on_ready: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Serve the local venue until Ctrl-C (or the end of the replay when it does not loop).

    Parameters
    ----------
    replay : sequence of path
        Recordings to replay (files or folders).
    speed : float or None
        Replay speed as a multiple of recorded time; None replays as fast as the subscribers read.
    port, host : int, str
        Where to listen (loopback by default; port 0 picks a free one).
    accounts : iterable of (api_key, secret)
        HMAC API keys the venue accepts.
    faults : VenueFaults, optional
        Fault injection switches.
    seed : int
        Seed of the fault injection and latency draws.
    busy_poll : bool
        Never sleep between requests (one CPU at 100 %): a client's write on loopback then does not pay
        for waking the venue's thread, as it would not across a network (latency benchmarks).
    on_ready : callable, optional
        Called with ``"host:port"`` once the venue listens.

    Returns
    -------
    dict
        Counters of the session (messages sent, orders, fills, rejections, faults injected).
    """
    config = {
        "replay": [str(Path(path).resolve()) for path in replay],
        "speed": speed,
        "bind": f"{host}:{port}",
        "accounts": [{"api_key": key, "secret": secret} for key, secret in accounts],
        "faults": asdict(faults or VenueFaults()),
        "seed": seed,
        "busy_poll": busy_poll,
    }
    return dict(_core.serve_venue(json.dumps(config), on_ready))
