"""The bank's database: its relational model, how to reach it, and the read path shared by prepare and the API.

The database holds the 8 Home Credit tables under their Kaggle names and columns, in one schema (``bank`` by
default), in PostgreSQL when ``DATABASE_URL`` is set, else in an embedded DuckDB file. The model adds what
the flat files lack:

- ``client`` (SK_ID_CURR, SAMPLE): every client once, train or test. A foreign key names one parent table,
  and bureau and previous_application rows belong to clients of either application table, so both point
  to ``client``, as do the two application tables (a client cannot be in both: the primary key says so);
- primary keys on the entity tables (applications, bureau, previous_application); the monthly tables'
  composite keys are not unique in the real files (installments_payments records several payments of one
  instalment), so they are indexed, not declared unique;
- foreign keys for every relation of ``schema.FOREIGN_KEYS``. Rows without a parent (orphans, which the real
  files have) cannot satisfy one: the loader moves them to ``<table>_orphans`` tables of the same columns,
  with no foreign key, so nothing is lost and the checked tables stay consistent. Readers of the raw data
  (prepare, the API) read a table and its quarantine together, so features are the same as from the files.

Credentials come only from the URL in the environment; ``sslmode`` in the URL or ``PGSSLMODE`` is honoured by
libpq, and a remote host without either gets ``sslmode=require`` (see `libpq_url`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import duckdb
import pandas as pd

from credit_scoring.common.sql import literal, quoted
from credit_scoring.dataset.schema import ENTITY_KEYS, FOREIGN_KEYS, HISTORY_TABLES, TABLE_NAMES, table

URL_VARIABLE = "DATABASE_URL"
DEFAULT_PATH = Path("data/bank.duckdb")
DEFAULT_SCHEMA = "bank"
CLIENTS = "client"
SAMPLES = {"application_train": "train", "application_test": "test"}
LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
ORPHANS_SUFFIX = "_orphans"
EMBEDDED_CATALOG = "bank_database"  # the name the embedded file is attached under


# ---------------------------------------------------------------------------------------------------------
# The relational model, derived from credit_scoring.dataset.schema
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForeignKey:
    table: str
    column: str
    parent: str
    parent_column: str

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


def foreign_keys() -> list[ForeignKey]:
    """Every foreign key of the model: the schema's relations (two parent tables become ``client``), and the
    application tables' own reference to ``client``."""
    keys = [ForeignKey(name, "SK_ID_CURR", CLIENTS, "SK_ID_CURR") for name in SAMPLES]
    for (child, column), (parents, parent_column) in FOREIGN_KEYS.items():
        parent = parents[0] if len(parents) == 1 else CLIENTS
        if len(parents) > 1 and set(parents) != set(SAMPLES):
            raise ValueError(f"{child}.{column}: no single parent table for {parents}")
        keys.append(ForeignKey(child, column, parent, parent_column))
    return keys


def primary_key(name: str) -> str | None:
    return "SK_ID_CURR" if name == CLIENTS else ENTITY_KEYS.get(name)


def load_order() -> list[str]:
    """``client`` then the 8 tables, every parent before its children."""
    parents = {fk.table: fk.parent for fk in foreign_keys()}
    done: list[str] = [CLIENTS]
    pending = list(TABLE_NAMES)
    while pending:
        ready = [t for t in pending if parents.get(t) in done]
        if not ready:
            raise ValueError(f"foreign keys form a cycle among {pending}")
        done += ready
        pending = [t for t in pending if t not in ready]
    return done


def lookup_indexes(name: str) -> list[tuple[str, ...]]:
    """Indexes for the joins the pipeline and the API make: the monthly tables' key (which starts with their
    foreign key), the foreign key column of the entity tables, and SK_ID_CURR for reading one client."""
    if name == CLIENTS:
        return []
    t = table(name)
    out: list[tuple[str, ...]] = [] if name in ENTITY_KEYS else [t.key]
    out += [(fk.column,) for fk in foreign_keys() if fk.table == name and fk.column != primary_key(name)]
    if "SK_ID_CURR" in t.column_names and primary_key(name) != "SK_ID_CURR":
        out.append(("SK_ID_CURR",))
    return list(dict.fromkeys(i for i in out if not any(o[: len(i)] == i and o != i for o in out)))


def orphans_table(name: str) -> str:
    return name + ORPHANS_SUFFIX


def column_types(name: str) -> list[tuple[str, str]]:
    """(column, SQL type) in Kaggle's order; DuckDB's type names (BIGINT, DOUBLE, VARCHAR) are PostgreSQL's
    too, DOUBLE spelled DOUBLE PRECISION there."""
    if name == CLIENTS:
        return [("SK_ID_CURR", "BIGINT"), ("SAMPLE", "VARCHAR")]
    return [(c.name, c.sql_type) for c in table(name).columns]


def qualified(schema: str | None, name: str) -> str:
    return quoted(name) if schema is None else f"{quoted(schema)}.{quoted(name)}"


def orphan_count_sql(child: str, column: str, parents: tuple[str, ...], parent_column: str,
                     schema: str | None = None) -> str:
    """Rows of ``child`` whose ``column`` matches no row of any parent (a missing key counts as an orphan)."""
    exists = " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {qualified(schema, p)} p WHERE p.{quoted(parent_column)} = c.{quoted(column)})"
        for p in parents
    )
    return f"SELECT count(*) FROM {qualified(schema, child)} c WHERE {exists}"


def duplicate_count_sql(name: str, key: tuple[str, ...], schema: str | None = None) -> str:
    """Rows repeating a key already seen in ``name``."""
    cols = ", ".join(quoted(k) for k in key)
    repeats = f"SELECT count(*) AS n FROM {qualified(schema, name)} GROUP BY {cols} HAVING count(*) > 1"
    return f"SELECT coalesce(sum(n - 1), 0) FROM ({repeats}) r"


# ---------------------------------------------------------------------------------------------------------
# Reaching the database
# ---------------------------------------------------------------------------------------------------------


def database_url(default_path: str | Path = DEFAULT_PATH) -> str:
    """``DATABASE_URL`` when set, else the embedded file (a path)."""
    return os.environ.get(URL_VARIABLE) or str(default_path)


def is_postgres(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def libpq_url(url: str) -> str:
    """The URL libpq (psycopg, pg_dump) takes: SQLAlchemy's driver suffix dropped. sslmode stays as given in
    the URL or in PGSSLMODE; when neither says and the host is not this machine, ``sslmode=require`` is added:
    credentials never cross a network in clear text unless someone asked for it."""
    import sqlalchemy as sa

    parsed = sa.make_url(url).set(drivername="postgresql")
    if "sslmode" not in parsed.query and not os.environ.get("PGSSLMODE") and (parsed.host or "") not in LOCAL_HOSTS:
        parsed = parsed.update_query_dict({"sslmode": "require"})
    return parsed.render_as_string(hide_password=False)


def without_password(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL without its password, and the environment that carries it (PGPASSWORD): a password on a
    command line (pg_dump, pg_restore) would be visible to every user of the machine."""
    import sqlalchemy as sa

    parsed = sa.make_url(libpq_url(url))
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(password=None).render_as_string(), env


def masked(url: str) -> str:
    """The URL for messages: the password hidden."""
    if not is_postgres(url):
        return url
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


def open_embedded(path: str | Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection on the embedded file, attached under a fixed name: a file named like the schema
    (``bank.duckdb`` holding schema ``bank``) would otherwise make ``bank.client`` ambiguous."""
    path = Path(path)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = {literal(path.parent / (path.name + '.tmp'))}")
    mode = " (READ_ONLY)" if read_only else ""
    con.execute(f"ATTACH {literal(path)} AS {EMBEDDED_CATALOG}{mode}")
    con.execute(f"USE {EMBEDDED_CATALOG}")
    return con


@contextmanager
def postgres(url: str, autocommit: bool = False) -> Iterator:
    """A psycopg connection; floats are sent in full (shortest exact form) whatever the server's default."""
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=autocommit) as con:
        con.execute("SET extra_float_digits = 1")
        yield con


class Database:
    """A read connection to the bank database, the same calls for PostgreSQL and the embedded file.

    PostgreSQL is reached through a SQLAlchemy engine (pooled: the API keeps one for its lifetime) as the role
    the URL names, which should be the read-only role; the embedded file is opened read-only.
    """

    def __init__(self, url: str | None = None, schema: str = DEFAULT_SCHEMA):
        self.url = url or database_url()
        self.schema = schema
        self.kind = "postgresql" if is_postgres(self.url) else "duckdb"
        if self.kind == "postgresql":
            import sqlalchemy as sa

            self.engine = sa.create_engine(
                sa.make_url(libpq_url(self.url)).set(drivername="postgresql+psycopg"), pool_pre_ping=True
            )
        else:
            if not Path(self.url).is_file():
                raise FileNotFoundError(
                    f"no embedded bank database at {self.url} (python -m credit_scoring.dataset.bank load)"
                )
            self.duckdb = open_embedded(self.url)
        self._tables: set[str] | None = None

    def close(self) -> None:
        if self.kind == "postgresql":
            self.engine.dispose()
        else:
            self.duckdb.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def frame(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        """A query's rows; parameters are written ``:name`` in the SQL."""
        params = params or {}
        if self.kind == "postgresql":
            import sqlalchemy as sa

            with self.engine.connect() as con:
                return pd.read_sql_query(sa.text(sql), con, params=params)
        for name in params:
            sql = sql.replace(f":{name}", f"${name}")
        return self.duckdb.execute(sql, params).df()

    def tables(self) -> set[str]:
        """Names of the tables in the schema."""
        if self._tables is None:
            found = self.frame(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema",
                {"schema": self.schema},
            )
            self._tables = set(found["table_name"])
        return self._tables

    def raw_table_sql(self, name: str, where: str = "", order: bool = False) -> str:
        """The rows of one of the 8 tables, Kaggle's columns in order, its quarantined orphans included."""
        if name not in self.tables():
            raise LookupError(f"table {self.schema}.{name} not found in {masked(self.url)}")
        columns = ", ".join(quoted(c) for c in table(name).column_names)
        parts = [name] + ([orphans_table(name)] if orphans_table(name) in self.tables() else [])
        sql = " UNION ALL ".join(f"SELECT {columns} FROM {qualified(self.schema, p)} {where}" for p in parts)
        if order:
            sql += " ORDER BY " + ", ".join(quoted(c) for c in table(name).column_names)
        return sql

    def export_csv(self, name: str, path: Path) -> None:
        """One raw table as a Kaggle-format CSV (header, empty field for missing), rows in a fixed order so
        that the file does not depend on how the database stores them."""
        sql = self.raw_table_sql(name, order=True)
        if self.kind == "duckdb":
            self.duckdb.execute(f"COPY ({sql}) TO {literal(path)} (FORMAT csv, HEADER)")
            return
        with (
            postgres(self.url) as con,
            con.cursor() as cur,
            open(path, "wb") as out,
            cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER)") as copy,
        ):
            out.writelines(copy)


@dataclass
class ClientRows:
    """One client's rows: the application row, which sample it came from, and its rows of each history
    table (bureau_balance through the client's bureau credits), as `features.history_features` takes them."""

    application: dict
    sample: str
    history: dict[str, pd.DataFrame]


PANDAS_TYPES = {"BIGINT": "Int64", "DOUBLE": "float64", "VARCHAR": "object"}


def typed_rows(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of a raw table with the same dtypes whichever engine gave them (pandas guesses from PostgreSQL's
    values, so a column missing in every row would come back as None objects)."""
    out = frame.astype({c.name: PANDAS_TYPES[c.sql_type] for c in table(name).columns})
    text = [c.name for c in table(name).columns if c.sql_type == "VARCHAR"]
    out[text] = out[text].where(out[text].notna(), None)
    return out


def plain(value):
    """A value as Python writes it (int, float, str, or None for missing): JSON-ready for the API."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def client_rows(db: Database, client_id: int) -> ClientRows | None:
    """Everything the model reads about one client, or None when the client is unknown."""
    params = {"id": int(client_id)}
    application, sample = None, None
    for name, label in SAMPLES.items():
        found = typed_rows(name, db.frame(db.raw_table_sql(name, 'WHERE "SK_ID_CURR" = :id'), params))
        if len(found):
            application, sample = {k: plain(v) for k, v in found.iloc[0].items()}, label
            break
    if application is None:
        return None
    history = {}
    for name in HISTORY_TABLES:
        if name == "bureau_balance":
            ids = ", ".join(str(int(i)) for i in history["bureau"]["SK_ID_BUREAU"].dropna()) or "NULL"
            found = db.frame(db.raw_table_sql(name, f'WHERE "SK_ID_BUREAU" IN ({ids})'))
        else:
            found = db.frame(db.raw_table_sql(name, 'WHERE "SK_ID_CURR" = :id'), params)
        history[name] = typed_rows(name, found)
    return ClientRows(application, sample, history)
