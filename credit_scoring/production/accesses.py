"""The access log: who read or wrote which client's personal data, through which route, when, under which
request id (GDPR art. 5(2) accountability, art. 15: a client may ask who processed their data). One row per
client per answered request, in the event store's `data_accesses` table, append-only in the database itself
(`credit_scoring.production.append_only`). The API writes a request's rows, committed, before it answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Engine, Integer, MetaData, Table, Text, insert, select

from credit_scoring.production.append_only import create_append_only
from credit_scoring.production.events import UTCDateTime

KINDS = ("user", "key")

metadata = MetaData()
data_accesses = Table(
    "data_accesses", metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("accessed_at", UTCDateTime(), nullable=False, index=True),
    Column("who", Text, nullable=False),  # a user's name or a key's id and application
    Column("kind", Text, nullable=False),
    Column("client_id", BigInteger, nullable=True, index=True),  # None: the request revealed no client
    Column("route", Text, nullable=False),  # method and path template, e.g. GET /clients/{client_id}
    Column("request_id", Text, nullable=False, index=True),
    CheckConstraint("kind IN ('user', 'key')", name="access_kind_known"),
)


@dataclass(frozen=True)
class Access:
    accessed_at: datetime
    who: str
    kind: str
    client_id: int | None
    route: str
    request_id: str


def create_access_table(engine: Engine) -> None:
    create_append_only(engine, data_accesses)


def record_accesses(engine: Engine, *, who: str, kind: str, route: str, request_id: str,
                    client_ids: Iterable[int], at: datetime | None = None) -> int:
    """One row per client (one row without a client when there is none), committed before returning; the rows
    written."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    moment = at or datetime.now(UTC)
    ids = sorted(set(client_ids)) or [None]
    rows = [{"accessed_at": moment, "who": who, "kind": kind, "client_id": client_id, "route": route,
             "request_id": request_id} for client_id in ids]
    with engine.begin() as connection:
        connection.execute(insert(data_accesses), rows)
    return len(rows)


def _accesses(engine: Engine, where, *order) -> list[Access]:
    table = data_accesses.c
    query = select(*(table[f.name] for f in fields(Access))).where(where).order_by(*order)
    with engine.connect() as connection:
        return [Access(**row._mapping) for row in connection.execute(query)]


def client_accesses(engine: Engine, client_id: int) -> list[Access]:
    """Every recorded access to the client's data, newest first."""
    table = data_accesses.c
    return _accesses(engine, table.client_id == client_id, table.accessed_at.desc(), table.id.desc())


def request_accesses(engine: Engine, request_id: str) -> list[Access]:
    """The accesses recorded under a request id (the durability test reads them)."""
    table = data_accesses.c
    return _accesses(engine, table.request_id == request_id, table.id)
