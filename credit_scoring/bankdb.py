"""The bank database: load, check, back up and restore the 8 Home Credit tables.

    python -m credit_scoring.bankdb load [--from DIR]   DIR: prepared parquet tables (default data/prepared) or CSVs
    python -m credit_scoring.bankdb check               integrity report (JSON); exit status 1 on a broken constraint
    python -m credit_scoring.bankdb backup --to DIR     dump + manifest of row counts and checksums per table
    python -m credit_scoring.bankdb restore --from DIR  restore, then verify the manifest
    python -m credit_scoring.bankdb migrate             (PostgreSQL) roles and privileges, bankdb_sql/roles.sql

The database is PostgreSQL when ``DATABASE_URL`` is set, else the embedded DuckDB file ``data.database.path``.
The model (tables, keys, quarantine of orphans) is described in `credit_scoring.database`. A load rebuilds the
schema: DuckDB reads the source files once, splits every table into rows with a parent and orphans, and
streams both, with PostgreSQL's bulk ``COPY``, into tables that get their primary keys, foreign keys and
indexes once filled (one pass each, instead of a check per row); the whole reload is one transaction, so
readers see the old tables until it commits.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from credit_scoring import database as bank
from credit_scoring import paths
from credit_scoring.database import CLIENTS, SAMPLES, Database, foreign_keys, load_order, orphans_table, qualified
from credit_scoring.params import load_params
from credit_scoring.schema import ENTITY_KEYS, tables
from credit_scoring.sql import literal, quoted
from credit_scoring.validation import input_files, open_sources, typed_select

SQL_DIR = Path(__file__).with_name("bankdb_sql")
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
    (``credit_scoring.validation``), so a bad file stops the load with the same message as the pipeline would
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


# ---------------------------------------------------------------------------------------------------------
# Integrity
# ---------------------------------------------------------------------------------------------------------

# PostgreSQL's information_schema shows constraints only to roles with more than SELECT on the table, so the
# read-only role reads the catalog itself (same rows as information_schema gives the owner).
PG_CONSTRAINTS_SQL = """
SELECT rel.relname AS table_name,
       CASE con.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'FOREIGN KEY' END AS constraint_type,
       att.attname AS column_name
FROM pg_constraint con
JOIN pg_class rel ON rel.oid = con.conrelid
JOIN pg_namespace ns ON ns.oid = rel.relnamespace
JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
WHERE ns.nspname = :schema AND con.contype IN ('p', 'f')
"""

CONSTRAINTS_SQL = """
SELECT tc.table_name, tc.constraint_type, kcu.column_name
FROM information_schema.table_constraints tc
JOIN information_schema.key_column_usage kcu
  ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
 AND kcu.table_name = tc.table_name
WHERE tc.table_schema = :schema AND tc.constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')
"""


def expected_constraints() -> set[tuple[str, str, str]]:
    """(table, PRIMARY KEY | FOREIGN KEY, column) the model declares."""
    out = {(n, "PRIMARY KEY", bank.primary_key(n)) for n in load_order() if bank.primary_key(n)}
    return out | {(fk.table, "FOREIGN KEY", fk.column) for fk in foreign_keys()}


def declared_constraints(db: Database) -> set[tuple[str, str, str]]:
    found = db.frame(PG_CONSTRAINTS_SQL if db.kind == "postgresql" else CONSTRAINTS_SQL, {"schema": db.schema})
    return set(found.itertuples(index=False, name=None))


def scalar(db: Database, sql: str):
    return db.frame(sql).iloc[0, 0]


def check(db: Database) -> dict:
    """Rows per table, quarantined orphans, orphans and key repeats left in the tables themselves (counted
    live, so a database the bank brought without our constraints is checked too), missing constraints."""
    present = db.tables()
    missing_tables = [n for n in load_order() if n not in present]
    names = [n for n in load_order() if n in present]
    report = {
        "database": bank.masked(db.url),
        "rows": {n: int(scalar(db, f"SELECT count(*) FROM {qualified(db.schema, n)}")) for n in names},
        "quarantined": {
            orphans_table(n): int(scalar(db, f"SELECT count(*) FROM {qualified(db.schema, orphans_table(n))}"))
            for n in quarantined() if orphans_table(n) in present
        },
        "orphans": {
            fk.name: int(scalar(db, bank.orphan_count_sql(fk.table, fk.column, (fk.parent,), fk.parent_column,
                                                          db.schema)))
            for fk in foreign_keys() if fk.table in present and fk.parent in present
        },
        "key_duplicates": {
            n: int(scalar(db, bank.duplicate_count_sql(n, tables()[n].key, db.schema)))
            for n in names if n != CLIENTS
        },
        "missing_tables": missing_tables,
        "missing_constraints": sorted(" ".join(c) for c in expected_constraints() - declared_constraints(db)),
    }
    report["problems"] = problems(report)
    return report


def problems(report: dict) -> list[str]:
    """What breaks the model: the monthly tables' key repeats are facts of the real data, not problems."""
    out = [f"table {n} is missing" for n in report["missing_tables"]]
    out += [f"{name}: {n} rows without a parent" for name, n in report["orphans"].items() if n]
    out += [f"{name}: {n} rows repeat the primary key" for name, n in report["key_duplicates"].items()
            if n and name in ENTITY_KEYS]
    out += [f"constraint missing: {c}" for c in report["missing_constraints"]]
    return out


# ---------------------------------------------------------------------------------------------------------
# Backup and restore, with a manifest of row counts and checksums
# ---------------------------------------------------------------------------------------------------------


def checksum_sql(db: Database, name: str) -> str:
    """Row count and an order-free checksum of every value of a table: the sum of a 64-bit hash of each row
    (DuckDB's hash; the first 64 bits of the MD5 of the row's text in PostgreSQL). Compared only between a
    backup and its restore on the same engine."""
    t = qualified(db.schema, name)
    if db.kind == "postgresql":
        row_hash = "('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric"
    else:
        row_hash = "hash(t)::HUGEINT"
    return f"SELECT count(*) AS n, CAST(coalesce(sum({row_hash}), 0) AS VARCHAR) AS checksum FROM {t} t"


def table_fingerprints(db: Database) -> dict[str, dict]:
    out = {}
    for name in sorted(db.tables()):
        n, checksum = db.frame(checksum_sql(db, name)).iloc[0]
        out[name] = {"rows": int(n), "checksum": str(checksum)}
    return out


def backup(target: Target, out_dir: Path) -> dict:
    """pg_dump (custom format) or DuckDB's EXPORT DATABASE into out_dir, and the manifest beside it."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty: a backup goes to a new folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    with Database(target.url, target.schema) as db:
        manifest = {"engine": db.kind, "schema": target.schema, "tables": table_fingerprints(db)}
    if target.postgres:
        conninfo, env = bank.without_password(target.url)
        run(["pg_dump", "--format=custom", f"--schema={target.schema}", f"--file={out_dir / PG_DUMP}",
             f"--dbname={conninfo}"], env)
    else:
        with bank.open_embedded(target.url) as con:
            con.execute(f"EXPORT DATABASE {bank.EMBEDDED_CATALOG} TO {literal(out_dir / 'export')} (FORMAT parquet)")
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, check=False, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")


def restore(target: Target, backup_dir: Path) -> dict:
    """Restore a backup into the target, then check every table's row count and checksum against the
    manifest; a difference raises. PostgreSQL: pg_restore replaces the schema in one transaction, objects
    owned by the restoring role, then roles.sql grants again. DuckDB: imported into a new file that replaces
    the old one only once verified."""
    backup_dir = Path(backup_dir)
    manifest = json.loads((backup_dir / MANIFEST).read_text())
    engine = "postgresql" if target.postgres else "duckdb"
    if manifest["engine"] != engine or manifest["schema"] != target.schema:
        raise ValueError(f"{backup_dir} holds a {manifest['engine']} backup of schema {manifest['schema']}, "
                         f"not {engine} / {target.schema}")
    if target.postgres:
        conninfo, env = bank.without_password(target.url)
        run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction",
             "--exit-on-error", f"--dbname={conninfo}", str(backup_dir / PG_DUMP)], env)
        with bank.postgres(target.url) as pg:
            migrate(pg, target)
        verify(target.url, target.schema, manifest)
        return manifest
    path = Path(target.url)
    building = path.with_name(path.name + ".restoring")
    building.unlink(missing_ok=True)
    try:
        with bank.open_embedded(building, read_only=False) as con:
            con.execute(f"IMPORT DATABASE {literal(backup_dir / 'export')}")
        verify(str(building), target.schema, manifest)
        building.chmod(0o600)
        building.replace(path)
    finally:
        building.unlink(missing_ok=True)
    return manifest


def verify(url: str, schema: str, manifest: dict) -> None:
    with Database(url, schema) as db:
        found = table_fingerprints(db)
    if found != manifest["tables"]:
        differ = sorted(n for n in set(found) | set(manifest["tables"]) if found.get(n) != manifest["tables"].get(n))
        raise RuntimeError(f"restored database differs from the backup's manifest in: {', '.join(differ)}")


# ---------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m credit_scoring.bankdb", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("load").add_argument("--from", dest="source", type=Path, default=paths.PREPARED)
    commands.add_parser("check")
    commands.add_parser("backup").add_argument("--to", dest="path", type=Path, required=True)
    commands.add_parser("restore").add_argument("--from", dest="path", type=Path, required=True)
    commands.add_parser("migrate")
    return parser.parse_args(argv)


def load_command(target: Target, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    rows = load(target, args.source)
    print(f"loaded {sum(rows.values()):,} rows into {bank.masked(target.url)} in {time.perf_counter() - started:.1f} s")
    print(json.dumps(rows, indent=2))
    return 0


def check_command(target: Target, args: argparse.Namespace) -> int:
    with Database(target.url, target.schema) as db:
        report = check(db)
    print(json.dumps(report, indent=2))
    return 1 if report["problems"] else 0


def backup_command(target: Target, args: argparse.Namespace) -> int:
    manifest = backup(target, args.path)
    print(f"backed up {len(manifest['tables'])} tables of {bank.masked(target.url)} to {args.path}")
    return 0


def restore_command(target: Target, args: argparse.Namespace) -> int:
    manifest = restore(target, args.path)
    print(f"restored {len(manifest['tables'])} tables into {bank.masked(target.url)}; row counts and checksums "
          "verified")
    return 0


def migrate_command(target: Target, args: argparse.Namespace) -> int:
    if not target.postgres:
        print("the embedded DuckDB file has no roles: its access is the file's permissions (600), and the "
              "pipeline and the API open it read-only; set DATABASE_URL to migrate a PostgreSQL database")
        return 1
    with bank.postgres(target.url) as pg:
        migrate(pg, target)
    print(f"roles {target.loader_role}, {target.reader_role} and privileges set on {bank.masked(target.url)}")
    return 0


COMMANDS = {"load": load_command, "check": check_command, "backup": backup_command, "restore": restore_command,
            "migrate": migrate_command}


def main(argv: list[str] | None = None) -> int:
    """The command named on the line, on the database params.yaml ``data.database`` (or DATABASE_URL) names."""
    args = parse_args(argv)
    return COMMANDS[args.command](Target.from_params(load_params()), args)


if __name__ == "__main__":
    sys.exit(main())
