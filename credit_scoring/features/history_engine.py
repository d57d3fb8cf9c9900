"""Running the history specs: typed input views, aggregate tables per client, and the
join with the application features."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb
import pandas as pd

from credit_scoring.common.duckdb_workers import on_own_databases
from credit_scoring.common.sql import literal, quoted
from credit_scoring.dataset.schema import HISTORY_TABLES, table
from credit_scoring.features.application import KEY, application_features
from credit_scoring.features.history_specs import CLIENT_SOURCES, SOURCES, Source, source_sql

# ---------------------------------------------------------------------------------------------------------
# Running it: typed input views, aggregate tables, and the join with the application features.
# ---------------------------------------------------------------------------------------------------------

TableInput = pd.DataFrame | str | Path | None


def _typed_view(con: duckdb.DuckDBPyConnection, name: str, data: TableInput) -> None:
    """Expose a history table as a view with the schema's columns and types, whatever it came from
    (parquet file, a frame of a few served rows whose types pandas guessed, or nothing at all)."""
    columns = table(name).columns
    if data is None or (isinstance(data, pd.DataFrame) and data.empty):
        select = ", ".join(f"CAST(NULL AS {c.sql_type}) AS {quoted(c.name)}" for c in columns)
        con.execute(f"CREATE OR REPLACE VIEW {quoted(name)} AS SELECT {select} WHERE FALSE")
        return
    if isinstance(data, pd.DataFrame):
        absent = [c.name for c in columns if c.name not in data.columns]
        if absent:
            raise KeyError(f"{name} rows lack columns {absent}")
        # Copied into the database (not merely registered) so that every cursor sees it.
        con.register("frame", data)
        con.execute(f"CREATE OR REPLACE TABLE {quoted('input_' + name)} AS SELECT * FROM frame")
        con.unregister("frame")
        source = quoted(f"input_{name}")
    else:
        source = f"read_parquet({literal(str(data))})"
    select = ", ".join(f"CAST({quoted(c.name)} AS {c.sql_type}) AS {quoted(c.name)}" for c in columns)
    con.execute(f"CREATE OR REPLACE VIEW {quoted(name)} AS SELECT {select} FROM {source}")


def connect(history: Mapping[str, TableInput], memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB database with the six history tables as typed views (absent ones empty).

    Each query runs on one DuckDB thread, so the features are bit-for-bit the same from run to run: a
    parallel aggregation combines partial sums in whatever order its threads finish, which moves the last
    bits of sums, means and variances (and the feature file's hash). `history_aggregates` gets its
    parallelism by running independent sources in separate databases instead. One client's rows alone
    give its batch values exactly on small tables; on tables of millions of rows the hash aggregation may
    add a client's rows in partial sums, so those can differ in the last bits (about 1e-15 relative), never
    more.
    """
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET threads = 1")
    if memory_limit:
        con.execute(f"SET memory_limit = {literal(memory_limit)}")
    for name in HISTORY_TABLES:
        _typed_view(con, name, history.get(name))
    return con


def _chains() -> list[list[Source]]:
    """The sources grouped so that a source comes after the ones whose aggregates its rows read."""
    chains: list[list[Source]] = []
    for source in SOURCES:
        needs = [c for c in chains if any(f"agg_{s.name}" in source.rows for s in c)]
        if needs:
            needs[0].append(source)
        else:
            chains.append([source])
    return chains


def _build_chain(con: duckdb.DuckDBPyConnection, chain: list[Source]) -> None:
    for source in chain:
        con.execute(f"CREATE OR REPLACE VIEW rows_{source.name} AS {source.rows}")
        con.execute(f"CREATE OR REPLACE TABLE agg_{source.name} AS {source_sql(source, f'rows_{source.name}')}")


def build_history(con: duckdb.DuckDBPyConnection) -> None:
    """Aggregate every history table once into tables agg_<source>, read back by `aggregates`. A source's
    derived rows stay a view: recomputing them per block is cheaper than materialising tens of millions of
    rows."""
    for chain in _chains():
        _build_chain(con, chain)


def aggregates(con: duckdb.DuckDBPyConnection, sources: Iterable[Source] = CLIENT_SOURCES) -> dict[str, pd.DataFrame]:
    """The per-client aggregate tables `build_history` left in `con`, as float64 frames indexed by
    SK_ID_CURR; once fetched, the connection can be closed and its memory freed. (Through Arrow: several
    times faster than DuckDB's own DataFrame conversion for hundreds of columns.)"""
    return {
        s.name: con.sql(f"SELECT * FROM agg_{s.name}").to_arrow_table().to_pandas().set_index(KEY).astype("float64")
        for s in sources
    }


def history_aggregates(
    history: Mapping[str, TableInput], memory_limit: str | None = None, workers: int = 1
) -> dict[str, pd.DataFrame]:
    """Every client source's aggregates (`aggregates`), with the independent chains of sources shared among
    `workers` threads, each with its own single-threaded in-memory database (and `memory_limit`): the
    chains run side by side, and every query still runs on one thread, so the values are bit-for-bit those
    of one database (`on_own_databases`)."""

    def build(con: duckdb.DuckDBPyConnection, chain: list[Source]) -> dict[str, pd.DataFrame]:
        _build_chain(con, chain)
        return aggregates(con, [s for s in chain if s in CLIENT_SOURCES])

    parts = on_own_databases(_chains(), workers, lambda: connect(history, memory_limit), build)
    merged = {name: frame for part in parts for name, frame in part.items()}
    return {s.name: merged[s.name] for s in CLIENT_SOURCES}


def _aligned(aggregated: pd.DataFrame, flags: list[str], clients: pd.Index) -> pd.DataFrame:
    """One source's aggregates for the given clients in their order: flags 0 for clients without a row in
    the source, every other column missing."""
    out = aggregated.reindex(clients)
    out[flags] = out[flags].fillna(0.0)
    return out


def assemble(
    application: pd.DataFrame, aggregated: Mapping[str, pd.DataFrame], keep: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The `keep` columns (labels carried along, never features) then every feature, one row per
    application row in its order, indexed by SK_ID_CURR."""
    return join_history(application_features(application), application, aggregated, keep)


def join_history(
    app: pd.DataFrame, application: pd.DataFrame, aggregated: Mapping[str, pd.DataFrame], keep: tuple[str, ...] = ()
) -> pd.DataFrame:
    """`assemble` once the application features `app` of `application` are computed (the batch stage
    computes them while DuckDB aggregates the history)."""
    carried = pd.DataFrame({c: application[c].to_numpy() for c in keep}, index=app.index)
    history = (_aligned(aggregated[s.name], list(s.flags), app.index) for s in CLIENT_SOURCES)
    return pd.concat([carried, app, *history], axis=1)


def history_features(history: Mapping[str, TableInput]) -> pd.DataFrame:
    """History features of every client with at least one history row, indexed by SK_ID_CURR and sorted:
    the history half of the matrix on its own, to check the aggregates table by table."""
    aggregated = history_aggregates(history)
    clients = pd.Index(sorted(set().union(*(a.index for a in aggregated.values()))), name=KEY)
    return pd.concat([_aligned(aggregated[s.name], list(s.flags), clients) for s in CLIENT_SOURCES], axis=1)
