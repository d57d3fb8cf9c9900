"""Loading the 8 Home Credit tables into the bank database (DuckDB or PostgreSQL): the DDL
from the schema, staging with orphans set apart, the bulk copy, and the roles' migration."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from credit_scoring.common.sql import literal, quoted
from credit_scoring.dataset.bank import database as bank
from credit_scoring.dataset.bank.database import (
    CLIENTS,
    SAMPLES,
    foreign_keys,
    load_order,
    orphans_table,
    qualified,
)
from credit_scoring.dataset.schema import tables
from credit_scoring.dataset.validation import input_files, open_sources, typed_select

SQL_DIR = Path(__file__).with_name("sql")
ROLES_SCRIPT = SQL_DIR / "roles.sql"
PASSWORD_VARIABLES = {"loader_role": "BANK_LOADER_PASSWORD", "reader_role": "BANK_READER_PASSWORD"}
MANIFEST = "manifest.json"
PG_DUMP = "bank.dump"
BATCH_ROWS = 200_000
PG_TYPES = {"DOUBLE": "DOUBLE PRECISION", "VARCHAR": "TEXT", "BIGINT": "BIGINT"}


@dataclass(frozen=True)
class Target:
    """Where the bank database is and what its roles are called (params.yaml data.database)."""

    url: str
    schema: str = bank.DEFAULT_SCHEMA
    loader_role: str = "bank_loader"
    reader_role: str = "bank_reader"
    maintenance_work_mem: str = "512MB"

    @property
    def postgres(self) -> bool:
        return bank.is_postgres(self.url)

    @classmethod
    def from_params(cls, params: dict) -> Target:
        db = params["data"]["database"]
        return cls(bank.database_url(db["path"]), db["schema"], db["loader_role"], db["reader_role"],
                   db["maintenance_work_mem"])


# ---------------------------------------------------------------------------------------------------------
# The model as DDL
# ---------------------------------------------------------------------------------------------------------


def quarantined() -> list[str]:
    """Tables whose rows may lack a parent (the schema's relations); the applications always have theirs."""
    children = {fk.table for fk in foreign_keys() if fk.table not in SAMPLES}
    return [name for name in load_order() if name in children]


def not_null(name: str) -> set[str]:
    """Key columns: a row of a checked table always has its own key and its parent's."""
    keys = {bank.primary_key(name)} | {fk.column for fk in foreign_keys() if fk.table == name}
    return {k for k in keys if k} | ({"SAMPLE"} if name == CLIENTS else set())


def create_table_sql(name: str, schema: str, postgres: bool, constraints: bool, as_name: str | None = None) -> str:
    """CREATE TABLE for one table of the model, or (``as_name``) its quarantine: same columns, no constraint."""
    cols = []
    for column, sql_type in bank.column_types(name):
        spelled = PG_TYPES[sql_type] if postgres else sql_type
        required = as_name is None and column in not_null(name)
        cols.append(f"{quoted(column)} {spelled}" + (" NOT NULL" if required else ""))
    if constraints and as_name is None:
        cols += constraint_clauses(name, schema)
    return f"CREATE TABLE {qualified(schema, as_name or name)} ({', '.join(cols)})"


def constraint_clauses(name: str, schema: str) -> list[str]:
    """Primary key, then foreign keys, as CREATE TABLE / ALTER TABLE ADD clauses."""
    out = []
    if bank.primary_key(name):
        out.append(f"CONSTRAINT {quoted(name + '_pkey')} PRIMARY KEY ({quoted(bank.primary_key(name))})")
    if name == CLIENTS:
        out.append(f"CONSTRAINT {quoted('client_sample_check')} CHECK (\"SAMPLE\" IN ('train', 'test'))")
    for fk in foreign_keys():
        if fk.table == name:
            out.append(
                f"CONSTRAINT {quoted(f'{name}_{fk.column}_fkey')} FOREIGN KEY ({quoted(fk.column)}) "
                f"REFERENCES {qualified(schema, fk.parent)} ({quoted(fk.parent_column)})"
            )
    return out


def index_sql(name: str, schema: str) -> list[str]:
    """The lookup indexes of a table (and of its quarantine, read with it)."""
    out = []
    for target in [name] + ([orphans_table(name)] if name in quarantined() else []):
        for cols in bank.lookup_indexes(name):
            index = quoted(f"{target}_{'_'.join(cols)}_idx")
            out.append(f"CREATE INDEX {index} ON {qualified(schema, target)} ({', '.join(quoted(c) for c in cols)})")
    return out


def schema_ddl(schema: str, postgres: bool) -> list[str]:
    """The schema, its tables and their quarantines. DuckDB declares keys only in CREATE TABLE, so it gets
    them here; PostgreSQL gets them once the tables are filled."""
    out = [f"CREATE SCHEMA {quoted(schema)}"]
    out += [create_table_sql(name, schema, postgres, constraints=not postgres) for name in load_order()]
    return out + [create_table_sql(n, schema, postgres, False, as_name=orphans_table(n)) for n in quarantined()]


# ---------------------------------------------------------------------------------------------------------
# Staging: the source files as typed views in DuckDB, split into rows with a parent and orphans
# ---------------------------------------------------------------------------------------------------------


def stage_sources(con: duckdb.DuckDBPyConnection, source_dir: Path) -> str:
    """Temporary views ``src_<table>`` of the typed source rows. A folder of prepared parquet tables is read as
    is (prepare validated it); a folder of Kaggle CSVs goes through the prepare stage's checks first
    (``credit_scoring.dataset.validation``), so a bad file stops the load with the same message as the pipeline would
    give. Returns which kind was read."""
    source_dir = Path(source_dir)
    parquets = {name: source_dir / f"{name}.parquet" for name in tables()}
    if all(p.is_file() for p in parquets.values()):
        for name, path in parquets.items():
            select = ", ".join(f"CAST({quoted(c.name)} AS {c.sql_type}) AS {quoted(c.name)}"
                               for c in tables()[name].columns)
            con.execute(f"CREATE TEMP VIEW {quoted('src_' + name)} AS SELECT {select} "
                        f"FROM read_parquet({literal(path)})")
        return "parquet"
    if not source_dir.is_dir():
        raise FileNotFoundError(f"{source_dir}: no such folder (prepared parquet tables or Kaggle CSVs)")
    for name, source in open_sources(con, input_files(source_dir, None)).items():
        con.execute(f"CREATE TEMP VIEW {quoted('src_' + name)} AS {typed_select(source)}")
    return "csv"


def split_orphans(con: duckdb.DuckDBPyConnection) -> None:
    """Views ``kept_<table>`` (rows whose parent is kept, in load order, so a bureau row quarantined for want
    of a client takes its monthly balances with it) and ``orphans_<table>`` (the rest, a missing key
    included), plus ``kept_client`` built from the two application tables."""
    clients = " UNION ALL ".join(
        f"SELECT SK_ID_CURR, {literal(sample)} AS SAMPLE FROM {quoted('src_' + name)}"
        for name, sample in SAMPLES.items()
    )
    con.execute(f"CREATE TEMP VIEW kept_client AS {clients}")
    parent = {fk.table: fk for fk in foreign_keys()}
    for name in load_order()[1:]:
        if name not in quarantined():
            con.execute(f"CREATE TEMP VIEW {quoted('kept_' + name)} AS SELECT * FROM {quoted('src_' + name)}")
            continue
        fk = parent[name]
        has_parent = (f"coalesce({quoted(fk.column)} IN (SELECT {quoted(fk.parent_column)} "
                      f"FROM {quoted('kept_' + fk.parent)}), false)")
        src = quoted("src_" + name)
        con.execute(f"CREATE TEMP VIEW {quoted('kept_' + name)} AS SELECT * FROM {src} WHERE {has_parent}")
        con.execute(f"CREATE TEMP VIEW {quoted('orphans_' + name)} AS SELECT * FROM {src} WHERE NOT {has_parent}")


def stage(con: duckdb.DuckDBPyConnection, source_dir: Path) -> None:
    stage_sources(con, source_dir)
    split_orphans(con)


def parts() -> list[tuple[str, str]]:
    """(staged view, destination table) in load order: every table, then the quarantines."""
    return [("kept_" + n, n) for n in load_order()] + [("orphans_" + n, orphans_table(n)) for n in quarantined()]


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------


def load_duckdb(target: Target, source_dir: Path) -> dict[str, int]:
    """Build the embedded file beside the old one, then swap it in: readers never see half a load. DuckDB
    declares keys only in CREATE TABLE, so the tables are created with them and filled parents first."""
    path = Path(target.url)
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(path.name + ".loading")
    building.unlink(missing_ok=True)
    rows = {}
    try:
        with bank.open_embedded(building, read_only=False) as con:
            stage(con, source_dir)
            for statement in schema_ddl(target.schema, postgres=False):
                con.execute(statement)
            for view, dest in parts():
                insert = f"INSERT INTO {qualified(target.schema, dest)} SELECT * FROM {quoted(view)}"
                rows[dest] = con.execute(insert).fetchall()[0][0]
            for name in load_order():
                for statement in index_sql(name, target.schema):
                    con.execute(statement)
            con.execute("CHECKPOINT")
        building.chmod(0o600)  # the embedded file's access control is the file system's
        building.replace(path)
    finally:
        building.unlink(missing_ok=True)
    return rows


def copy_view(duck: duckdb.DuckDBPyConnection, pg, view: str, dest: str) -> int:
    """Stream one staged view into a PostgreSQL table with COPY: DuckDB hands Arrow batches, Arrow writes them
    as CSV (shortest exact form of every float, empty field for NULL), PostgreSQL parses them in bulk."""
    columns = [d[0] for d in duck.sql(f"SELECT * FROM {quoted(view)} LIMIT 0").description]
    names = ", ".join(quoted(c) for c in columns)
    options = pacsv.WriteOptions(include_header=False)
    rows = 0
    with pg.cursor() as cur, cur.copy(f"COPY {dest} ({names}) FROM STDIN (FORMAT csv)") as copy:
        for batch in duck.sql(f"SELECT * FROM {quoted(view)}").to_arrow_reader(BATCH_ROWS):
            sink = pa.BufferOutputStream()
            pacsv.write_csv(batch, sink, options)
            copy.write(sink.getvalue())
            rows += batch.num_rows
    return rows


def load_postgres(target: Target, source_dir: Path, log=print, seconds: dict | None = None) -> dict[str, int]:
    """Recreate the schema and fill it in one transaction: tables without constraints, COPY, then keys and
    indexes (each built in one pass over the filled table), roles and privileges, and statistics. `seconds`,
    when given, receives the wall time of each COPY and of the keys and indexes."""
    rows, seconds = {}, {} if seconds is None else seconds
    with duckdb.connect() as duck, bank.postgres(target.url) as pg:
        duck.execute("SET enable_progress_bar = false")
        stage(duck, source_dir)
        pg.execute(f"SET maintenance_work_mem = {literal(target.maintenance_work_mem)}")
        pg.execute(f"DROP SCHEMA IF EXISTS {quoted(target.schema)} CASCADE")
        for statement in schema_ddl(target.schema, postgres=True):
            pg.execute(statement)
        for view, dest in parts():
            started = time.perf_counter()
            rows[dest] = copy_view(duck, pg, view, qualified(target.schema, dest))
            seconds[dest] = time.perf_counter() - started
            log(f"{dest}: {rows[dest]:,} rows in {seconds[dest]:.1f} s")
        started = time.perf_counter()
        for name in load_order():
            for clause in constraint_clauses(name, target.schema):
                pg.execute(f"ALTER TABLE {qualified(target.schema, name)} ADD {clause}")
            for statement in index_sql(name, target.schema):
                pg.execute(statement)
        seconds["keys and indexes"] = time.perf_counter() - started
        log(f"keys and indexes in {seconds['keys and indexes']:.1f} s")
        migrate(pg, target)
    with bank.postgres(target.url, autocommit=True) as pg:
        pg.execute(f"ANALYZE {', '.join(qualified(target.schema, dest) for _, dest in parts())}")
    return rows


def load(target: Target, source_dir: Path, log=print) -> dict[str, int]:
    """Rows written per table (quarantines included)."""
    return load_postgres(target, source_dir, log) if target.postgres else load_duckdb(target, source_dir)


# ---------------------------------------------------------------------------------------------------------
# Roles (PostgreSQL)
# ---------------------------------------------------------------------------------------------------------


def migrate(pg, target: Target) -> None:
    """Run roles.sql on an open connection (in its transaction), then set the passwords the environment gives
    (BANK_LOADER_PASSWORD, BANK_READER_PASSWORD); a role without one keeps its password, or none (certificate
    or peer authentication)."""
    from psycopg import sql

    names = {
        "schema": target.schema,
        "database": pg.info.dbname,
        "loader": target.loader_role,
        "reader": target.reader_role,
    }
    script = sql.SQL(ROLES_SCRIPT.read_text()).format(**{k: sql.Identifier(v) for k, v in names.items()})
    pg.execute(script)
    for key, variable in PASSWORD_VARIABLES.items():
        password = os.environ.get(variable)
        if password:
            role = getattr(target, key)
            pg.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
