"""Work shared among threads, each with its own DuckDB database: results in the items' order, one database
per thread, errors raised."""

import duckdb
import pytest

from credit_scoring.common.duckdb_workers import on_own_databases


def test_results_come_back_in_the_items_order_from_one_database_per_thread():
    opened = []

    def connect():
        opened.append(duckdb.connect())
        return opened[-1]

    def work(con, item):
        return con.execute("SELECT ? * 10", [item]).fetchone()[0]

    assert on_own_databases(range(12), 3, connect, work) == [i * 10 for i in range(12)]
    assert len(opened) == 3


def test_the_first_error_is_raised():
    def work(con, item):
        if item == 2:
            raise ValueError("bad item 2")
        return item

    with pytest.raises(ValueError, match="bad item 2"):
        on_own_databases(range(5), 2, duckdb.connect, work)
