"""Work shared among threads, each with its own single-threaded DuckDB database.

A query on one DuckDB thread adds in a fixed order, so its sums, means and variances have the same last bits
from run to run; a parallel query combines partial results in whatever order its threads finish (and cursors
of one database running at once give no better). Independent pieces of work (the prepare stage's files, the
featurize stage's chains of history sources) get their parallelism by running side by side in separate
databases instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import duckdb

Item = TypeVar("Item")
Result = TypeVar("Result")


def on_own_databases(
    items: Iterable[Item],
    workers: int,
    connect: Callable[[], duckdb.DuckDBPyConnection],
    work: Callable[[duckdb.DuckDBPyConnection, Item], Result],
) -> list[Result]:
    """``work(con, item)`` for every item, the items taken in their order by `workers` threads, each holding one
    database from `connect` (single-threaded: the caller's to set) for all its items; the results come back in
    the items' order. The first error is raised once every thread has stopped."""
    pending = list(enumerate(items))
    results: list = [None] * len(pending)
    lock = threading.Lock()

    def worker() -> None:
        with connect() as con:
            while True:
                with lock:
                    if not pending:
                        return
                    i, item = pending.pop(0)
                results[i] = work(con, item)

    with ThreadPoolExecutor(max(1, workers)) as pool:
        for done in [pool.submit(worker) for _ in range(max(1, workers))]:
            done.result()
    return results
