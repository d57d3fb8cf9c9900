"""Append-only tables, in the database itself: triggers refuse every UPDATE and DELETE (and TRUNCATE on
PostgreSQL), whoever sends them. The decision reviews (`credit_scoring.production.reviews`) and the access log
(`credit_scoring.production.accesses`) are kept this way: a wrong row is followed by a new one, never edited."""

from __future__ import annotations

import time
import zlib

from sqlalchemy import Engine, Table, text
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError, ProgrammingError

from credit_scoring.production.events import create_tables


def refusal(table: str) -> str:
    """The message a refused change carries."""
    return f"{table} is append-only: a row is never changed nor deleted"


def sqlite_triggers(table: str) -> list[str]:
    return [f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{refusal(table)}'); END" for op in ("UPDATE", "DELETE")]


def _postgres_function(table: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{refusal(table)} (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
END
$$"""


def _create_triggers(connection, table: str) -> None:
    if connection.dialect.name == "sqlite":
        for statement in sqlite_triggers(table):
            connection.execute(text(statement))
        return
    if connection.dialect.name != "postgresql":
        raise NotImplementedError(f"append-only triggers for {connection.dialect.name} are not written")
    # serializes the creation by API workers starting together (one advisory lock per table)
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(table.encode())})
    connection.execute(text(_postgres_function(table)))
    existing = set(connection.execute(text(f"SELECT tgname FROM pg_trigger WHERE tgrelid = '{table}'::regclass"))
                   .scalars())
    for name, when in ((f"{table}_no_change", f"BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW"),
                       (f"{table}_no_truncate", f"BEFORE TRUNCATE ON {table} FOR EACH STATEMENT")):
        if name not in existing:
            connection.execute(text(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {table}_append_only()"))


def create_append_only(engine: Engine, table: Table, attempts: int = 5) -> None:
    """`table` created if missing (`credit_scoring.production.events.create_tables`), with its append-only
    triggers. Idempotent and safe for API workers starting together: SQLite's CREATE TRIGGER IF NOT EXISTS runs
    under the database's write lock, PostgreSQL's creation under an advisory lock; a failed attempt is retried."""
    create_tables(engine, table)
    for attempt in range(attempts):
        try:
            with engine.begin() as connection:
                _create_triggers(connection, table.name)
            return
        except (IntegrityError, InternalError, ProgrammingError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
