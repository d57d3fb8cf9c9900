"""Shared fixtures: the real Kaggle sample lives outside the repo and is read in place, never copied in."""

from pathlib import Path

import pytest

from tests.test_pipeline import run_stages, tiny_params

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "shared/home_credit/sample"


@pytest.fixture
def sample_dir() -> Path:
    """The folder of real sample CSVs; tests that need it are skipped, visibly, on machines without it."""
    if not SAMPLE_DIR.is_dir():
        pytest.skip(f"real Home Credit sample not found at {SAMPLE_DIR}")
    return SAMPLE_DIR


POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def postgres_url():
    """The URL of a database created for this test run on the local PostgreSQL server (TEST_POSTGRES_URL names
    another server's admin database), dropped at the end. Without a server the test is skipped with the reason,
    except under REQUIRE_POSTGRES=1 (CI), where it fails: there a skip would hide an untested backend."""
    import os
    import uuid

    import sqlalchemy as sa

    admin_url = os.environ.get("TEST_POSTGRES_URL", POSTGRES_ADMIN_URL)
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as e:  # driver missing, server down, authentication refused
        where = sa.make_url(admin_url).render_as_string()  # the password, if any, masked
        reason = f"PostgreSQL not usable at {where}: {type(e).__name__}: {str(e).splitlines()[0]}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    name = f"hc_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


TINY_EXPLAIN = {
    "shap_max_rows": 500, "top_features": 12, "beeswarm_points": 300,
    "reasons": {"max": 4, "min_contribution": 0.02},
    "ebm": {"top_features": 6, "interactions": 2, "outer_bags": 2, "max_bins": 64, "max_rows": 2000, "cv_folds": 2,
            "n_jobs": 2},
}


@pytest.fixture(scope="session")
def explained_project(tmp_path_factory) -> Path:
    """A project folder where the pipeline ran on tiny synthetic data up to the explain stage: everything the API
    serves (models/champion, models/explain, data/prepared, data/features). Built once per test session."""
    from stages import explain

    project = tmp_path_factory.mktemp("explain_project")
    params = tiny_params(source="synthetic")
    params["explain"] = TINY_EXPLAIN
    with pytest.MonkeyPatch.context() as mp:
        run_stages(project, params, mp)
        explain.main()
    return project


API_KEY = "test-key-not-secret"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_environment(project: Path, events_url: str, **extra: str) -> dict:
    """The environment `python -m app.api` needs to serve a project folder's outputs."""
    import os

    return {**os.environ, "MODEL_DIR": str(project / "models" / "champion"),
            "EXPLAIN_DIR": str(project / "models" / "explain"), "DATA_DIR": str(project / "data"),
            "API_KEY": API_KEY, "EVENTS_URL": events_url, "RATE_LIMIT": "100000/second", **extra}


def start_api(env: dict, port: int, timeout: float = 120.0):
    """`python -m app.api` on loopback as a real process, once /health answers; the caller terminates it."""
    import subprocess
    import sys
    import time

    import httpx

    repo = Path(__file__).resolve().parents[1]
    process = subprocess.Popen([sys.executable, "-m", "app.api"], cwd=repo, env={**env, "PORT": str(port)},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited with code {process.returncode}:\n{process.stdout.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"the API did not answer /health within {timeout} s:\n{process.stdout.read()}")


@pytest.fixture(scope="session")
def api_server(explained_project, tmp_path_factory):
    """The real API process serving `explained_project` on a free loopback port: yields its base URL."""
    events = tmp_path_factory.mktemp("api_events") / "events.db"
    port = free_port()
    process = start_api(api_environment(explained_project, f"sqlite:///{events}"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
