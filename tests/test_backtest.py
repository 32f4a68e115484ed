"""`ft.backtest.run` and `ferrotrade backtest` end to end on the bundled real catalog (tests/data/catalog:
six minutes of Binance USD-M BTCUSDT depth and trades, two months of hourly BTCUSDT spot klines)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import ferrotrade as ft
from ferrotrade._core import Context, Fill, OrderEvent
from ferrotrade.cli import app
from ferrotrade.cli.data import EXIT_ERROR
from ferrotrade.exceptions import ConfigError, StrategyError
from ferrotrade.research.schema import check_frame

DATA = Path(__file__).parent / "data"
CATALOG = DATA / "catalog"
USDM = "binance-usdm.BTCUSDT"

MM: dict[str, Any] = {
    "backtest": {"catalog": str(CATALOG), "initial_equity": 10_000, "seed": 3},
    "venue": {
        "fees": {"maker": 0.0002, "taker": 0.0005},
        "queue": {"model": "power", "exponent": 2},
        "latency": {"model": "constant", "entry_ns": 2_000_000, "response_ns": 2_000_000},
    },
    "strategy": [
        {
            "kind": "market_maker",
            "name": "mm",
            "instrument": USDM,
            "order_size": 0.002,
            "half_spread_bps": 0.5,
            "skew_bps_per_unit": 50,
            "max_position": 0.02,
            "requote_threshold_ticks": 3,
        }
    ],
}


def config(**changes: Any) -> dict[str, Any]:
    """The market-maker configuration with top-level sections replaced."""
    result = copy.deepcopy(MM)
    result.update(changes)
    return result


@pytest.fixture(scope="module")
def mm_result() -> ft.backtest.BacktestResult:
    return ft.backtest.run(MM)


def test_market_maker_on_real_l2_data_trades_and_accounts_exactly(
    mm_result: ft.backtest.BacktestResult,
) -> None:
    result = mm_result
    for name in ("orders", "fills", "equity", "positions"):
        check_frame(name, getattr(result, name))
    # The venue saw the trades too (queue position needs them) although the strategy subscribed to the book.
    assert result.stats["book_rows"] == 445_262
    assert result.stats["trades"] == 21_313
    assert result.stats["events"] == 445_262 + 21_313
    fills = result.fills
    assert fills.height > 20
    assert set(fills["liquidity"]) == {"maker"}, "a post-only market maker never takes"
    # Positions derive only from fills: the final position is the signed sum of the fills.
    signed = fills.select(
        pl.when(pl.col("side") == "buy").then(pl.col("quantity")).otherwise(-pl.col("quantity")).sum()
    ).item()
    assert result.positions["quantity"].sum() == pytest.approx(signed, abs=1e-9)
    assert fills["position"][-1] == pytest.approx(signed, abs=1e-9)
    # Every order's filled size is the sum of its fills.
    per_order = fills.group_by("client_id").agg(pl.col("quantity").sum().alias("from_fills"))
    joined = result.orders.join(per_order, on="client_id", how="left").fill_null(0.0)
    assert (joined["filled"] - joined["from_fills"]).abs().max() == pytest.approx(0.0, abs=1e-12)
    # Nothing was left working: on_stop cancels, and the cancels are answered before the run ends.
    assert not set(result.orders["status"]) & {"accepted", "submitted", "pending_cancel", "partially_filled"}
    # The last equity point is the account: initial + realized + unrealized - fees + funding.
    last = result.equity.row(-1, named=True)
    expected = 10_000 + last["realized_pnl"] + last["unrealized_pnl"] - last["fees"] + last["funding"]
    assert last["equity"] == pytest.approx(expected, abs=1e-9)
    assert result.fills["fee"].sum() == pytest.approx(last["fees"], abs=1e-9)
    # Maker fee 0.02 %: every fee is exactly 2e-4 of its notional.
    assert ((fills["fee"] - fills["notional"] * 0.0002).abs().max() or 0.0) < 1e-9


def test_same_data_configuration_and_seed_give_identical_fills() -> None:
    venue = copy.deepcopy(MM["venue"])
    venue["latency"] = {
        "model": "empirical",
        "entry_ns": [800_000, 1_500_000, 4_000_000],
        "response_ns": [900_000, 2_500_000],
    }
    first = ft.backtest.run(config(venue=venue))
    second = ft.backtest.run(config(venue=venue))
    assert first.fills.height > 0
    assert first.fills.equals(second.fills)
    assert first.orders.equals(second.orders)
    other_seed = ft.backtest.run(config(venue=venue, backtest={**MM["backtest"], "seed": 4}))
    assert not other_seed.fills.select("ts_recv").equals(first.fills.select("ts_recv"))


def test_trend_strategy_on_hourly_klines_fills_at_the_bar_closes() -> None:
    result = ft.backtest.run(
        {
            "backtest": {"catalog": str(CATALOG), "initial_equity": 100_000, "sample_interval_ms": 3_600_000},
            "venue": {"fees": {"maker": 0.001, "taker": 0.001}},
            "strategy": [
                {
                    "kind": "trend",
                    "instrument": "binance-spot.BTCUSDT",
                    "source": "bars",
                    "fast": 12,
                    "slow": 26,
                    "order_size": 0.5,
                }
            ],
        }
    )
    assert result.stats["bars"] == 1_416
    fills = result.fills
    assert fills.height > 5
    assert set(fills["liquidity"]) == {"taker"}
    closes = set(pl.read_parquet(CATALOG / "bars" / "**" / "*.parquet")["close"])
    fill_mantissas = set((fills["price"] * 100).round().cast(pl.Int64))
    assert fill_mantissas <= closes, "without slippage a bar fill is at a bar's close"
    assert result.metrics.as_dict()["trades"] == fills.height


class Recorder(ft.Strategy):
    """Sends one order on the first book update and records what comes back."""

    subscriptions = {USDM: ["book"]}  # noqa: RUF012 - the base class declares it as a ClassVar

    def __init__(self, quantity: float, price_offset: float = 0.0, **order: Any) -> None:
        self.quantity, self.price_offset, self.order = quantity, price_offset, order
        self.events: list[tuple[str, str | None]] = []
        self.fills: list[float] = []
        self.sent = False

    def on_book(self, ctx: Context, instrument: int) -> None:
        if not self.sent:
            self.sent = True
            bid = ctx.best_bid(instrument)
            assert bid is not None
            ctx.submit(instrument, "buy", self.quantity, bid[0] + self.price_offset, **self.order)

    def on_order(self, ctx: Context, event: OrderEvent) -> None:
        self.events.append((event.kind, event.reason))

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self.fills.append(ctx.position(fill.instrument))


def test_a_risk_denial_reaches_the_python_strategy_as_an_order_event() -> None:
    strategy = Recorder(quantity=0.5)
    result = ft.backtest.run(config(strategy=[], risk={"max_order_quantity": 0.1}), strategies=[strategy])
    assert strategy.events == [("denied", "max_order_quantity")]
    assert result.denials == {"max_order_quantity": 1}
    assert result.orders["status"].to_list() == ["denied"]


def test_a_post_only_order_through_the_touch_is_rejected_by_the_venue() -> None:
    strategy = Recorder(quantity=0.002, price_offset=50.0, post_only=True)
    ft.backtest.run(config(strategy=[]), strategies=[strategy])
    assert strategy.events == [("rejected", "post_only_would_take")]


def test_a_marketable_limit_order_takes_and_the_position_follows_the_fill() -> None:
    strategy = Recorder(quantity=0.002, price_offset=50.0)
    result = ft.backtest.run(config(strategy=[]), strategies=[strategy])
    assert strategy.events[0] == ("accepted", None)
    assert ("filled", None) in strategy.events
    assert strategy.fills[-1] == pytest.approx(0.002)
    assert set(result.fills["liquidity"]) == {"taker"}


def test_a_price_with_too_many_decimals_is_refused_not_rounded() -> None:
    strategy = Recorder(quantity=0.002, price_offset=0.05)
    with pytest.raises(StrategyError) as caught:
        ft.backtest.run(config(strategy=[]), strategies=[strategy])
    assert "more decimals" in str(caught.value)
    assert isinstance(caught.value.__cause__, ValueError)


class Exploding(ft.Strategy):
    subscriptions = {USDM: ["book"]}  # noqa: RUF012 - the base class declares it as a ClassVar

    def __init__(self) -> None:
        self.books = 0
        self.stopped = False

    def on_book(self, ctx: Context, instrument: int) -> None:
        self.books += 1
        if self.books == 3:
            raise ZeroDivisionError("strategy bug")

    def on_stop(self, ctx: Context) -> None:
        self.stopped = True


def test_a_strategy_exception_stops_the_run_with_its_traceback_and_event_time() -> None:
    strategy = Exploding()
    with pytest.raises(StrategyError) as caught:
        ft.backtest.run(config(strategy=[]), strategies=[strategy])
    error = caught.value
    assert isinstance(error.__cause__, ZeroDivisionError)
    assert "strategy bug" in str(error)
    assert 'raise ZeroDivisionError("strategy bug")' in str(error), "the message carries the traceback"
    assert error.strategy == "Exploding"
    assert error.ts > 1_723_161_000_000_000_000  # 2024-08-08, the capture's time
    assert strategy.books == 3
    assert strategy.stopped, "on_stop still runs"


def test_the_context_is_refused_outside_a_callback() -> None:
    kept: list[Context] = []

    class Keeper(ft.Strategy):
        subscriptions = {USDM: ["book"]}  # noqa: RUF012 - the base class declares it as a ClassVar

        def on_start(self, ctx: Context) -> None:
            kept.append(ctx)

    ft.backtest.run(config(strategy=[]), strategies=[Keeper()])
    with pytest.raises(RuntimeError, match="only valid inside a strategy callback"):
        _ = kept[0].now


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"backtest": {"catalog": str(CATALOG), "initial_equity": 1000, "seeds": 1}}, "backtest.seeds"),
        ({"backtest": {"catalog": str(CATALOG), "initial_equity": "a lot"}}, "backtest.initial_equity"),
        ({"backtest": {"catalog": str(DATA / "nowhere"), "initial_equity": 1000}}, "backtest.catalog"),
        ({"risk": {"max_position": -1}}, "risk.max_position"),
        ({"venue": {"queue": {"model": "fifo"}}}, "venue.queue"),
        ({"instruments": {"binance-usdm.ETHUSDT": {"tick_size": 0.01}}}, "instruments"),
        ({"strategy": [{**MM["strategy"][0], "order_sise": 1}]}, "order_sise"),
        ({"strategy": [{**MM["strategy"][0], "instrument": "binance-usdm.DOGEUSDT"}]}, "DOGEUSDT"),
        ({"strategy": [{"kind": "python", "class": "no_such_module:X"}]}, "strategy[0].class"),
        ({"backtest": {**MM["backtest"], "start": "yesterday"}}, "backtest.start"),
    ],
)
def test_bad_configurations_fail_before_any_work_naming_the_key(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        ft.backtest.run(config(**changes))
    assert message in str(caught.value)
    assert str(caught.value).startswith("<dict>")


def test_a_toml_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[backtest]\ncatalog = "c"\ninitial_equity = \n')
    with pytest.raises(ConfigError, match=r"bad\.toml: invalid TOML: .*line 3"):
        ft.backtest.run(path)


def test_cli_runs_a_configuration_file_and_writes_the_report(tmp_path: Path) -> None:
    config_path = Path(__file__).parent.parent / "examples" / "backtest_mm.toml"
    report = tmp_path / "mm.html"
    result = CliRunner().invoke(
        app, ["backtest", str(config_path), "--catalog", str(CATALOG), "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    assert "Sharpe" in result.stdout
    assert f"report: {report}" in result.stdout
    assert report.stat().st_size > 100_000


def test_cli_reports_a_bad_key_with_the_file_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(f'[backtest]\ncatalog = "{CATALOG}"\ninitial_equity = 1000\n[risk]\nmax_positon = 1\n')
    result = CliRunner().invoke(app, ["backtest", str(path), "--no-report"])
    assert result.exit_code == EXIT_ERROR
    assert "typo.toml" in result.stderr
    assert "max_positon" in result.stderr


def test_several_strategies_and_instruments_share_one_stream() -> None:
    trend = {
        "kind": "trend",
        "name": "trend",
        "instrument": "binance-spot.BTCUSDT",
        "source": "bars",
        "fast": 12,
        "slow": 26,
        "order_size": 0.5,
    }
    result = ft.backtest.run(config(strategy=[*MM["strategy"], trend]))
    assert result.strategies == ["mm", "trend"]
    assert result.instruments == [USDM, "binance-spot.BTCUSDT"]
    assert result.stats["events"] == 445_262 + 21_313 + 1_416
    by_strategy = dict(result.fills.group_by("strategy").agg(pl.col("instrument").unique()).iter_rows())
    assert by_strategy == {"mm": [USDM], "trend": ["binance-spot.BTCUSDT"]}


def test_a_drawdown_breach_halts_trading_and_later_orders_are_denied() -> None:
    risk = {"max_drawdown": 0.00001, "on_breach": "halted"}
    result = ft.backtest.run(config(risk=risk))
    assert [(event["from"], event["to"]) for event in result.risk_events] == [("active", "halted")]
    assert result.denials.get("trading_halted", 0) > 0
    halted_at = result.risk_events[0]["ts"]
    fills_after = result.fills.filter(pl.col("ts_recv").dt.epoch("ns") > halted_at + 10_000_000)
    # Orders already working may still fill; nothing new is sent after the breach.
    sent_after = result.orders.filter(
        (pl.col("ts_init").dt.epoch("ns") > halted_at) & (pl.col("status") != "denied")
    )
    assert sent_after.is_empty()
    assert fills_after.height <= 2
