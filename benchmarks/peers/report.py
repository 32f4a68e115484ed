"""How a peer run reports: its peak memory, and the command line that prints its figures as JSON."""

from __future__ import annotations

import argparse
import json
import resource
from collections.abc import Callable


def peak_rss_mb() -> float:
    """Process-wide peak resident set size (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(run: Callable[[int], dict[str, float | int]], doc: str | None) -> None:
    """``python -m benchmarks.peers.<peer> --loops N``: runs the peer and prints its figures."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--loops", type=int, default=1, help="passes over the capture")
    args = parser.parse_args()
    print(json.dumps(run(args.loops), indent=2))
