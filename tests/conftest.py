"""Shared fixtures: the real Kaggle sample lives outside the repo and is read in place, never copied in."""

from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from tests.integration.test_pipeline import run_stages, tiny_params

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO.parent / "shared/home_credit/sample"


def missing(reason: str, required_by: str) -> None:
    """A test whose outside resource (a server, a binary) is not there: skipped with the reason and how to get
    it, or failed when the environment variable ``required_by`` is 1 (CI sets it: there a skip would hide an
    untested part)."""
    import os

    if os.environ.get(required_by) == "1":
        pytest.fail(f"{required_by}=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory) -> Path:
    """Kaggle-format CSVs made by the synthetic generator (1,000 + 200 clients): the twin of the real sample for
    the guards that must run on every clone, with or without ``../shared`` (never to be corrupted in place)."""
    from credit_scoring.dataset.synthetic.generate import generate

    out = tmp_path_factory.mktemp("generated")
    generate(1_000, 200, seed=11, out_dir=out / "csv", truth_file=out / "truth.csv", log=lambda *_: None)
    return out / "csv"


@pytest.fixture(params=["generated", "real"])
def raw_source(request) -> Path:
    """The folder of raw CSVs a guard is checked on: generated rows everywhere, and the real sample where it is
    (skipped with its reason elsewhere, required in CI like PostgreSQL and the browser)."""
    if request.param == "generated":
        return request.getfixturevalue("generated_dir")
    return request.getfixturevalue("sample_dir")


@pytest.fixture
def sample_dir() -> Path:
    """The folder of real sample CSVs; tests that need it are skipped, visibly, on machines without it."""
    if not SAMPLE_DIR.is_dir():
        missing(f"real Home Credit sample not found at {SAMPLE_DIR}", "REQUIRE_SAMPLE")
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
        missing(f"PostgreSQL not usable at {where}: {type(e).__name__}: {str(e).splitlines()[0]} (start a server, "
                "or point TEST_POSTGRES_URL at one)", "REQUIRE_POSTGRES")
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
    "recourse": yaml.safe_load((REPO / "params.yaml").read_text())["explain"]["recourse"],
    "ebm": {"top_features": 6, "interactions": 2, "outer_bags": 2, "max_bins": 64, "max_rows": 2000, "cv_folds": 2,
            "n_jobs": 2},
}


@pytest.fixture(scope="session")
def explained_project(tmp_path_factory) -> Path:
    """A project folder after a tiny run of the pipeline up to `explain`: `models/champion/`, `models/explain/`,
    `data/prepared/` and `data/features/`, everything the API serves. Built once per test session and shared by
    the explain stage's tests and the tests that run the services (API, dashboard)."""
    from stages import explain

    project = tmp_path_factory.mktemp("explain_project")
    params = tiny_params(source="synthetic")
    params["explain"] = TINY_EXPLAIN
    with pytest.MonkeyPatch.context() as mp:
        run_stages(project, params, mp)
        explain.main()
    return project


API_KEY = "test-key-for-personal-data"
PASSWORD = "mot-de-passe-de-test"
PEOPLE = {"a.conseil": "advisor", "r.revue": "reviewer", "k.risque": "risk", "d.admin": "admin"}
"""One account per role, all with PASSWORD, in every test API's event store (`add_people`)."""


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashes():
    """argon2 with low costs in the tests (the production parameters take 0.2 to 0.4 s a hash on this machine):
    the hash carries its parameters, so an API process verifies it at the same low cost. The throttling test
    puts the production hasher back."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from credit_scoring.production import accounts

    with pytest.MonkeyPatch.context() as mp:
        quick = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
        mp.setattr(accounts, "_hasher", lambda: quick)
        accounts._decoy_hash.cache_clear()
        yield
    accounts._decoy_hash.cache_clear()


def add_people(events_url: str) -> None:
    """PEOPLE's accounts in the event store at `events_url` (those already there are kept)."""
    from credit_scoring.production import accounts
    from credit_scoring.production.events import create_store

    engine = create_store(events_url)
    accounts.create_account_tables(engine)
    known = {user.name for user in accounts.list_users(engine)}
    for name, role in PEOPLE.items():
        if name not in known:
            accounts.add_user(engine, name, role, PASSWORD)
    engine.dispose()


def signed_in(client, name: str) -> dict:
    """The Authorization header of `name` (one of PEOPLE), signed in through POST /auth/token of `client` (an
    httpx or Litestar test client)."""
    response = client.post("/auth/token", data={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="session")
def service(explained_project):
    """The API's service over the tiny project (loaded once per session)."""
    from app.api.service import ScoringService

    p = explained_project
    return ScoringService.load(p / "models" / "champion", p / "models" / "explain", p / "data")


@contextmanager
def in_process_api(service, events_url: str):
    """The API app over ``service`` in process (Litestar's TestClient runs its lifespan), the key `API_KEY`, the
    accounts of PEOPLE, its events in ``events_url``, no practical rate limit."""
    from litestar.testing import TestClient

    from app.api.server import create_app
    from app.api.settings import Settings

    settings = Settings(api_key=API_KEY, events_url=events_url, rate_limit=("second", 100_000))
    add_people(events_url)
    with TestClient(create_app(settings, service=service)) as client:
        yield client


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(module: str, env: dict, ready_url: str, log_file: Path, timeout: float = 120.0):
    """`python -m module` with `env` added, from the repository root, once `ready_url` answers 200; its output
    goes to `log_file`, shown in the failure if it stops or never gets ready."""
    import os
    import subprocess
    import sys
    import time

    import httpx

    log = log_file.open("w")
    process = subprocess.Popen([sys.executable, "-m", module], cwd=REPO,
                               env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(ready_url, timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_service(process)
    pytest.fail(f"{module} did not start (exit code {process.returncode}):\n{log_file.read_text()[-3000:]}")


def stop_service(process, timeout: float = 30.0) -> None:
    """SIGTERM (a graceful shutdown: the API flushes its prediction events), then SIGKILL after `timeout`."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def api_environment(project: Path, events_url: str, port: int) -> dict:
    """What `python -m app.api` needs to serve a project folder's outputs on a loopback port."""
    return {"MODEL_DIR": str(project / "models" / "champion"), "EXPLAIN_DIR": str(project / "models" / "explain"),
            "DATA_DIR": str(project / "data"), "HOST": "127.0.0.1", "PORT": str(port), "API_KEY": API_KEY,
            "EVENTS_URL": events_url, "RATE_LIMIT": "100000/second"}


def start_api(project: Path, events_url: str, log_file: Path) -> tuple[str, object]:
    """The real API process serving `project`: (base URL, process)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return url, start_service("app.api", api_environment(project, events_url, port), f"{url}/health", log_file)


class ApiService(NamedTuple):
    url: str
    key: str  # the bootstrap key (API_KEY)
    events_url: str  # its event store, where PEOPLE have their accounts
    log: Path


@pytest.fixture(scope="session")
def api_service(explained_project, tmp_path_factory):
    """The real prediction API (`python -m app.api`) on a free loopback port, serving `explained_project`, with
    the accounts of PEOPLE."""
    logs = tmp_path_factory.mktemp("api_service")
    events_url = f"sqlite:///{logs / 'events.db'}"
    add_people(events_url)
    url, process = start_api(explained_project, events_url, logs / "api.log")
    yield ApiService(url, API_KEY, events_url, logs / "api.log")
    stop_service(process)
