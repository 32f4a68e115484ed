"""Distributed optimization: a real PostgreSQL server on loopback, two `ferrotrade optimize --worker`
processes sharing one study, and the study read back with optuna's own API and served by optuna-dashboard's
own application (as is a local journal file study).

The server is a throw-away cluster in a temporary directory (initdb + pg_ctl, owned by the unprivileged
`postgres` user when the tests run as root: PostgreSQL refuses to run as root), with a password generated for
this run and handed to the workers in PGPASSWORD, never on a command line or in the storage URL. The server
binaries come from Debian's `postgresql` package, which `make test` installs
(tests/support/ensure-packages.sh) in CI and as root; the test skips only where it could not be installed,
and fails in CI.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import optuna
import pytest

import ferrotrade as ft
from ferrotrade.exceptions import ConfigError

DATA = Path(__file__).parent / "data"
CATALOG = DATA / "catalog"
USER = "ferrotrade"


@dataclass(frozen=True)
class Server:
    url: str  # without the password
    password: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password}


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL must run in CI (tests/support/ensure-packages.sh installs it): {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def postgres(free_port: Callable[[], int]) -> Iterator[Server]:
    bindir = _bindir()
    if bindir is None:
        _unavailable(
            "no PostgreSQL server binaries (Debian package postgresql; `make test` installs it as root)"
        )
        return
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no unprivileged `postgres` user to own the cluster")
            return
        prefix = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="ferrotrade-pg-"))
    data = root / "data"
    password = secrets.token_urlsafe(24)
    pwfile = root / "pw"
    pwfile.write_text(password)
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    pwfile.chmod(0o600)
    port = free_port()

    def pg(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        pg(str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=scram-sha-256", f"--pwfile={pwfile}")
        pwfile.unlink()
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root}"
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start")
        yield Server(url=f"postgresql://{USER}@127.0.0.1:{port}/postgres", password=password)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                check=False,
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)


CONFIG = f"""
[backtest]
catalog = "{CATALOG}"
initial_equity = 10000
seed = 3

[venue]
fees = {{ maker = 0.0002, taker = 0.0005 }}
queue = {{ model = "power", exponent = 2 }}
latency = {{ model = "constant", entry_ns = 2000000, response_ns = 2000000 }}

[[strategy]]
kind = "market_maker"
name = "mm"
instrument = "binance-usdm.BTCUSDT"
order_size = 0.002
half_spread_bps = 0.5
max_position = 0.02

[optimize]
study = "mm-distributed"
objective = "pnl"
pruner = "none"
trials = 10
seed = 11

[optimize.params]
"strategy.mm.half_spread_bps" = {{ low = 0.2, high = 3.0 }}
"strategy.mm.requote_threshold_ticks" = {{ low = 1, high = 8 }}
"""


def dashboard_study(storage: str, name: str) -> dict[str, Any]:
    """The study ``name`` as optuna-dashboard's web application serves it from ``storage`` (its JSON API)."""
    dashboard = pytest.importorskip("optuna_dashboard")
    from optuna_dashboard._storage_url import get_storage  # noqa: PLC0415 - what `optuna-dashboard URL` calls

    app = dashboard.wsgi(get_storage(storage))

    def get(path: str) -> Any:
        environ: dict[str, Any] = {}
        setup_testing_defaults(environ)
        environ["PATH_INFO"] = path
        statuses: list[str] = []
        body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
        assert statuses == ["200 OK"], body[:500]
        return json.loads(body)

    studies = {s["study_name"]: s["study_id"] for s in get("/api/studies")["study_summaries"]}
    return dict(get(f"/api/studies/{studies[name]}"))


def test_optuna_dashboard_serves_a_journal_file_study(tmp_path: Path) -> None:
    config = tmp_path / "mm.toml"
    config.write_text(CONFIG)
    result = ft.backtest.optimize(config, storage=str(tmp_path / "mm.log"), trials=3)
    served = dashboard_study(str(tmp_path / "mm.log"), "mm-distributed")
    assert len(served["trials"]) == 3
    assert [t["number"] for t in served["best_trials"]] == [result.best_number]


def _worker(config: Path, server: Server) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-c",
        "from ferrotrade.cli import main; main()",
        "optimize",
        str(config),
        "--worker",
        "--storage",
        server.url,
    ]
    return subprocess.Popen(
        command, env=server.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_worker_processes_share_one_study_on_postgresql(postgres: Server, tmp_path: Path) -> None:
    config = tmp_path / "mm.toml"
    config.write_text(CONFIG)
    workers = [_worker(config, postgres), _worker(config, postgres)]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        assert postgres.password not in out + err
        assert "study mm-distributed in postgresql+psycopg://ferrotrade@127.0.0.1" in out

    # The study reads back through optuna's own RDB storage API, as optuna-dashboard reads it.
    os.environ["PGPASSWORD"] = postgres.password
    try:
        storage = optuna.storages.RDBStorage(postgres.url.replace("postgresql://", "postgresql+psycopg://"))
        summaries = optuna.get_all_study_summaries(storage)
        study = optuna.load_study(study_name="mm-distributed", storage=storage)
        trials = study.get_trials()
    finally:
        del os.environ["PGPASSWORD"]
    assert [s.study_name for s in summaries] == ["mm-distributed"]
    # The budget is the study's: the two workers ran 10 between them (one more if both took the last one).
    assert len(trials) in (10, 11)
    assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}
    pids = {str(t.user_attrs["worker"]).rpartition(":")[2] for t in trials}
    assert pids == {str(w.pid) for w in workers}, "both workers ran trials"
    assert all("total_pnl" in t.user_attrs["metrics"] for t in trials)
    assert study.user_attrs["ferrotrade:definition"]["objective"] == ["pnl"]
    os.environ["PGPASSWORD"] = postgres.password
    try:
        served = dashboard_study(
            postgres.url.replace("postgresql://", "postgresql+psycopg://"), "mm-distributed"
        )
    finally:
        del os.environ["PGPASSWORD"]
    assert len(served["trials"]) == len(trials)


def test_a_coordinator_joins_the_study_and_reports_it(postgres: Server, tmp_path: Path) -> None:
    config = tmp_path / "mm.toml"
    config.write_text(CONFIG.replace('study = "mm-distributed"', 'study = "mm-coordinated"'))
    os.environ["PGPASSWORD"] = postgres.password
    try:
        result = ft.backtest.optimize(config, storage=postgres.url, trials=4)
    finally:
        del os.environ["PGPASSWORD"]
    assert result.trials.height == 4
    assert result.storage.startswith("postgresql+psycopg://ferrotrade@127.0.0.1")
    assert result.best_params is not None


def test_an_unreachable_database_is_an_error_before_any_trial(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    config = tmp_path / "mm.toml"
    config.write_text(CONFIG)
    with pytest.raises(
        ConfigError, match=r"optimize\.storage: cannot reach postgresql\+psycopg://u:\*\*\*@127\.0\.0\.1"
    ):
        ft.backtest.optimize(config, storage=f"postgresql://u:hunter2@127.0.0.1:{free_port()}/db")
    assert not (tmp_path / "studies").exists()


@pytest.fixture(autouse=True)
def _no_leftover_password() -> Iterator[None]:
    yield
    assert "PGPASSWORD" not in os.environ


def test_the_study_definition_must_match(postgres: Server, tmp_path: Path) -> None:
    config = tmp_path / "mm.toml"
    config.write_text(CONFIG.replace('study = "mm-distributed"', 'study = "mm-definition"'))
    os.environ["PGPASSWORD"] = postgres.password
    try:
        ft.backtest.optimize(config, storage=postgres.url, trials=1)
        other = CONFIG.replace('study = "mm-distributed"', 'study = "mm-definition"')
        config.write_text(other.replace('objective = "pnl"', 'objective = "sharpe"'))
        with pytest.raises(ConfigError, match="was created with another objective"):
            ft.backtest.optimize(config, storage=postgres.url, trials=2)
    finally:
        del os.environ["PGPASSWORD"]
