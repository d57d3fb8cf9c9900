"""Checking the bank database's integrity, and backing it up and restoring it with a
manifest of per-table fingerprints."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from credit_scoring.common.sql import literal
from credit_scoring.dataset.bank import database as bank
from credit_scoring.dataset.bank.database import (
    CLIENTS,
    Database,
    foreign_keys,
    load_order,
    orphans_table,
    qualified,
)
from credit_scoring.dataset.bank.load import MANIFEST, PG_DUMP, Target, migrate, quarantined
from credit_scoring.dataset.schema import ENTITY_KEYS, tables

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
