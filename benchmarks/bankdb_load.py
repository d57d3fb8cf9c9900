"""Benchmark: load the full Kaggle volume from the generator into PostgreSQL with `credit_scoring.dataset.bank`.

    python benchmarks/bankdb_load.py [--raw DIR] [--admin-url URL] [--keep]

Without --raw, generates the full volume (307,511 + 48,744 clients) into a temporary folder first (not timed
in the load). The load reads the raw CSVs, runs prepare's checks on them, splits off the orphans and COPYs
every table into a scratch database created on the server of --admin-url (default: env TEST_POSTGRES_URL,
else postgres@127.0.0.1:5432), then adds keys and indexes; the scratch database and its roles are dropped
afterwards (kept with --keep). Prints wall time, rows and rows/s per table and in total. Target on the 2-core
reference machine: <= 10 minutes; the exit status is 1 when it is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg
import sqlalchemy as sa

from credit_scoring.dataset.bank.database import libpq_url
from credit_scoring.dataset.bank.load import Target, load_postgres
from credit_scoring.dataset.synthetic.generate import generate
from credit_scoring.dataset.synthetic.marginals import FULL_TEST_CLIENTS, FULL_TRAIN_CLIENTS

TARGET_SECONDS = 600.0
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=None, help="folder of the 8 CSVs (default: generate them)")
    parser.add_argument("--admin-url", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_ADMIN_URL))
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and generated files")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="bankdb-bench-"))
    tag = uuid.uuid4().hex[:8]
    database = f"bankdb_bench_{tag}"
    admin = libpq_url(args.admin_url)
    target = Target(
        sa.make_url(admin).set(database=database).render_as_string(hide_password=False),
        loader_role=f"bench_loader_{tag}", reader_role=f"bench_reader_{tag}",
    )
    try:
        raw = args.raw
        if raw is None:
            raw = scratch / "raw"
            started = time.perf_counter()
            generate(FULL_TRAIN_CLIENTS, FULL_TEST_CLIENTS, 42, raw, scratch / "truth.csv", log=lambda *a: None)
            print(f"generated the full volume in {time.perf_counter() - started:.0f} s (not part of the load)")
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{database}"')
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        rows = load_postgres(target, raw, log=lambda *a: None, seconds=seconds)
        wall = time.perf_counter() - started
        with psycopg.connect(libpq_url(target.url)) as con:
            size = con.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
            with psycopg.connect(admin, autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                for role in (target.loader_role, target.reader_role):
                    con.execute(f'DROP ROLE IF EXISTS "{role}"')

    print(f"{'table':32} {'rows':>12} {'seconds':>8} {'rows/s':>10}")
    for name, n in rows.items():
        print(f"{name:32} {n:>12,} {seconds[name]:>8.1f} {n / max(seconds[name], 1e-9):>10,.0f}")
    print(f"{'keys and indexes':32} {'':>12} {seconds['keys and indexes']:>8.1f}")
    total = sum(rows.values())
    print(f"{'total (validation, COPY, keys, indexes, grants, ANALYZE)':32} {total:>12,} {wall:>8.1f} "
          f"{total / wall:>10,.0f}")
    print(f"database size {size}; target <= {TARGET_SECONDS:.0f} s: {'met' if wall <= TARGET_SECONDS else 'MISSED'}")
    return 0 if wall <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
