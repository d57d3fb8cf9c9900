"""Shared fixtures: the real Kaggle sample lives outside the repo and is read in place, never copied in."""

from pathlib import Path

import pytest

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
