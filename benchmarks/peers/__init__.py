"""The benchmark L2 market maker written for ferrotrade's peers, for ``benchmarks/backtest_mm.py``.

- ``strategy``: the quoting rule both peers run (and its constants: spread, skew, limits, fees, latency);
- ``capture``: the bundled Binance USD-M BTCUSDT capture as timestamped level-update and trade rows;
- ``hftbacktest_mm``: the strategy on hftbacktest (numba loop over ``ROIVectorMarketDepthBacktest``);
- ``nautilus_mm``: the strategy on NautilusTrader (a ``Strategy`` in a ``BacktestEngine``).

Each peer module exposes ``run(loops) -> dict`` (events, seconds, events_per_s, prepare_seconds, orders,
fills, final_position, peak_rss_mb) and runs as ``python -m benchmarks.peers.<module> --loops N``. This
package imports neither peer, so it loads without the optional ``bench`` extra; import a peer module only
where it is measured.
"""
