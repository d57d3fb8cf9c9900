"""The prediction-event store: one row per scoring request, written by the API and read by the monitor.

SQLAlchemy Core gives one code path for the default SQLite file and for PostgreSQL. The API must not serve a
decision that is not on record (EU AI Act, art. 12), so it hands events to an `EventWriter` and answers only once
the writer's background thread has committed them: concurrent requests' events share one transaction (group
commit), and a store that does not take them in time makes the request fail (503) instead of hang.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from numbers import Number
from typing import Self

import msgspec
import numpy as np
import pandas as pd
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.types import TypeDecorator

DEFAULT_URL = "sqlite:///events.db"  # a file at the repository root, next to mlflow.db
DECISIONS = ("accordé", "refusé")
log = logging.getLogger(__name__)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and read back timezone-aware on every backend: SQLite keeps no zone, so without
    this a naive value would come back from one backend and an aware one from the other."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamps must be timezone-aware, got {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()
prediction_events = Table(
    "prediction_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    Column("request_id", Text, nullable=False, unique=True),
    Column("model_version", Text, nullable=False),
    Column("client_id", BigInteger, nullable=True),  # SK_ID_CURR when the caller sends it
    Column("inputs", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    Column("probability", Float, nullable=False),
    Column("decision", Text, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("endpoint", Text, nullable=False),
    CheckConstraint("decision IN ('accordé', 'refusé')", name="decision_known"),
    CheckConstraint("probability >= 0 AND probability <= 1", name="probability_in_unit_interval"),
)
EVENT_COLUMNS = [c.name for c in prediction_events.columns]
REQUIRED = ("model_version", "inputs", "probability", "decision", "threshold", "latency_ms", "endpoint")


def store_url(url: str | None = None) -> str:
    """The store's SQLAlchemy URL: the argument, else env EVENTS_URL, else the SQLite file. A plain
    ``postgresql://`` URL is given the psycopg 3 driver (SQLAlchemy would otherwise look for psycopg2)."""
    url = url or os.environ.get("EVENTS_URL") or DEFAULT_URL
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _json_text(value) -> str:
    """JSON for the inputs column, by msgspec: ~10x faster than the json module, and the writer thread shares the
    interpreter with the API's request handling."""
    return msgspec.json.encode(value).decode()


def create_store(url: str | None = None) -> Engine:
    """An engine on the store, with the table created if missing. SQLite runs in WAL mode with a busy timeout, so
    the monitor can read while the API writes, and several API workers can share the file. synchronous=NORMAL
    (SQLite's advice for WAL): a commit is in the log file, which survives a crash of the API (``kill -9``
    included), without a disk sync per commit; a power cut may take the last commits. FULL would survive that too
    but cost the API 20 % of its throughput (benchmarks/api_load.py); PostgreSQL (EVENTS_URL) flushes its WAL at
    every commit, shared by the group."""
    url = store_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=_json_text)

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection, _record) -> None:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # per connection: see above
    else:  # a server that does not answer fails the connection in seconds (the API then answers 503), not minutes
        timeout = {} if "connect_timeout" in url else {"connect_timeout": 5}
        engine = create_engine(url, pool_pre_ping=True, json_serializer=_json_text, connect_args=timeout)
    create_tables(engine, prediction_events)
    return engine


def create_tables(engine: Engine, table: Table, attempts: int = 5) -> None:
    """CREATE TABLE / INDEX IF NOT EXISTS of a table of the store, so that API workers starting together on a new
    store do not race (with a plain create_all, the slower worker's CREATE TABLE fails and uvicorn stops the whole
    server). PostgreSQL can still report a concurrent creation as a duplicate type or key: that attempt is
    retried."""
    for attempt in range(attempts):
        try:
            with engine.begin() as connection:
                connection.execute(CreateTable(table, if_not_exists=True))
                for index in sorted(table.indexes, key=lambda i: i.name):
                    connection.execute(CreateIndex(index, if_not_exists=True))
            return
        except (IntegrityError, ProgrammingError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def _json_value(value):
    """A value JSON (and PostgreSQL's JSONB) accepts: numpy scalars become Python numbers, NaN becomes null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def event_row(event_: dict) -> dict:
    """One event checked and completed (creation time now, a fresh request id) as the table stores it. Raises
    ValueError on a malformed event, in the caller's thread, where the bug is."""
    missing = [k for k in REQUIRED if event_.get(k) is None]
    unknown = sorted(set(event_) - set(EVENT_COLUMNS) - {"id"})
    if missing or unknown:
        raise ValueError(f"prediction event: missing {missing}, unknown {unknown}")
    if event_["decision"] not in DECISIONS:
        raise ValueError(f"prediction event: decision must be one of {DECISIONS}, got {event_['decision']!r}")
    if not isinstance(event_["inputs"], dict):
        raise ValueError("prediction event: inputs must be a dict of application fields")
    numbers = {k: event_[k] for k in ("probability", "threshold", "latency_ms")}
    if not all(isinstance(v, Number) and math.isfinite(v) for v in numbers.values()):
        raise ValueError(f"prediction event: probability, threshold and latency_ms must be finite numbers: {numbers}")
    created = event_.get("created_at") or datetime.now(UTC)
    if created.tzinfo is None:
        raise ValueError(f"prediction event: created_at must be timezone-aware, got {created!r}")
    client = _json_value(event_.get("client_id"))
    return {
        "created_at": created,
        "request_id": str(event_.get("request_id") or uuid.uuid4()),
        "model_version": str(event_["model_version"]),
        "client_id": None if client is None else int(client),
        "inputs": {str(k): _json_value(v) for k, v in event_["inputs"].items()},
        "probability": float(event_["probability"]),
        "decision": event_["decision"],
        "threshold": float(event_["threshold"]),
        "latency_ms": float(event_["latency_ms"]),
        "endpoint": str(event_["endpoint"]),
    }


def write_events(engine: Engine, events: list[dict]) -> int:
    """Insert the events in one transaction (all or none); returns how many were written."""
    rows = [event_row(e) for e in events]
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(prediction_events), rows)
    return len(rows)


def read_events(engine: Engine, since: datetime | None = None, limit: int | None = None) -> pd.DataFrame:
    """Events in the order they were written, the most recent `limit` of those created at or after `since`;
    each field of `inputs` becomes a column (named as the application field) next to the event's own columns."""
    query = select(prediction_events).order_by(prediction_events.c.id.desc())
    if since is not None:
        if since.tzinfo is None:
            raise ValueError(f"since must be timezone-aware, got {since!r}")
        query = query.where(prediction_events.c.created_at >= since)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(query)][::-1]
    events = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    inputs = pd.DataFrame([r["inputs"] for r in rows], index=events.index)
    clash = sorted(set(inputs.columns) & set(EVENT_COLUMNS))
    if clash:
        raise ValueError(f"input fields named like event columns: {clash}")
    events = events.drop(columns="inputs").astype({"client_id": "Int64", "id": "int64"})
    events["created_at"] = pd.to_datetime(events["created_at"], utc=True)
    return pd.concat([events, inputs], axis=1)


# The SQLite driver's own executemany, with each row rendered as SQLAlchemy stores it (naive UTC timestamp text,
# JSON text): SQLAlchemy's per-row processing held the interpreter for half the API's time under load.
SQLITE_INSERT = (f"INSERT INTO prediction_events ({', '.join(EVENT_COLUMNS[1:])}) "
                 f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS[1:])})")


def _driver_row(row: dict, created) -> tuple:
    """A row in the order of the drivers' INSERT: `created` as the driver takes it, the inputs as JSON text."""
    return (created, *(_json_text(row[c]) if c == "inputs" else row[c] for c in EVENT_COLUMNS[2:]))


def _sqlite_row(row: dict) -> tuple:
    return _driver_row(row, row["created_at"].astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f"))


# The same for PostgreSQL through psycopg's executemany (one pipelined round trip): the inputs go as JSON text,
# which the server casts to JSONB; the timestamp as an aware datetime (timestamptz).
POSTGRESQL_INSERT = (f"INSERT INTO prediction_events ({', '.join(EVENT_COLUMNS[1:])}) "
                     f"VALUES ({', '.join('%s::jsonb' if c == 'inputs' else '%s' for c in EVENT_COLUMNS[1:])})")


def _postgresql_row(row: dict) -> tuple:
    return _driver_row(row, row["created_at"].astimezone(UTC))


class StoreUnavailable(RuntimeError):
    """The store did not take an event within the writer's timeout: the decision must not be served."""


@dataclass
class _Pending:
    """One caller's events, committed together, and the future that tells the caller when they are durable."""

    rows: list[dict]
    future: Future
    deadline: float


class EventWriter:
    """Commits prediction events from one background thread and tells each caller when its own are durable.

    `put` (one event) and `put_many` (events stored all or none) check the events in the caller's thread and
    return a `concurrent.futures.Future` that resolves once the transaction holding them has committed, so that the
    API answers a request only when its decision is on record: a crash (even ``kill -9``) after the answer cannot
    lose it. Group commit keeps this cheap: while one transaction commits, the events of the requests that arrive
    meanwhile wait in the queue, and the next transaction takes them all (up to `max_group` rows), so the cost of a
    commit (SQLite's sync of its log, PostgreSQL's WAL flush) is shared by every request waiting at that moment.

    A failed commit is retried with short pauses; a caller whose events are still not stored `timeout` seconds
    after `put` gets `StoreUnavailable` (the API answers 503) and its events are not written. A request_id
    already stored fails that caller only (IntegrityError), the other callers of its group are committed.
    `close()` commits everything queued before returning; it also runs at interpreter exit.
    """

    _STOP = object()

    def __init__(self, engine: Engine, timeout: float = 5.0, max_group: int = 1000) -> None:
        self.engine = engine
        self.timeout = timeout
        self.max_group = max_group
        self.written = 0
        self.transactions = 0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = threading.Event()
        self._closing = threading.Lock()  # no event can slip into the queue behind the stop mark
        self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def put(self, event_: dict) -> Future:
        """Queue one event; a malformed event raises here, in the caller. The future resolves once it is stored."""
        return self.put_many([event_])

    def put_many(self, events: list[dict]) -> Future:
        """Queue events to be stored in one transaction, all or none; the future resolves to their number."""
        rows = [event_row(e) for e in events]
        future: Future = Future()
        with self._closing:
            if self._closed.is_set():
                raise RuntimeError("EventWriter is closed")
            self._queue.put(_Pending(rows, future, time.monotonic() + self.timeout))
        return future

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, timeout: float | None = None) -> None:
        """Commit every queued event, then stop. With a timeout, raise TimeoutError if the thread is still at work
        when it expires."""
        with self._closing:
            if not self._closed.is_set():
                self._closed.set()
                self._queue.put(self._STOP)
                atexit.unregister(self.close)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"{self.pending} groups of prediction events not yet written")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _next_group(self) -> tuple[list[_Pending], bool]:
        """Every caller waiting now (at least one, up to max_group rows); and whether the stop mark came."""
        group: list[_Pending] = []
        rows = 0
        item = self._queue.get()
        while True:
            if item is self._STOP:
                return group, True
            if item.future.set_running_or_notify_cancel():  # a caller that gave up is not written
                group.append(item)
                rows += len(item.rows)
            if rows >= self.max_group:
                return group, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return group, False

    def _insert(self, rows: list[dict]) -> None:
        with self.engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql(SQLITE_INSERT, [_sqlite_row(row) for row in rows])
            elif connection.dialect.driver == "psycopg":
                connection.exec_driver_sql(POSTGRESQL_INSERT, [_postgresql_row(row) for row in rows])
            else:
                connection.execute(insert(prediction_events), rows)

    def _commit(self, group: list[_Pending]) -> None:
        """Store a group in one transaction and resolve its futures; retried until each caller's deadline."""
        pause = 0.02
        while group:
            try:
                self._insert([row for item in group for row in item.rows])
            except IntegrityError as error:  # rows are checked before they are queued: a request_id already stored
                if len(group) == 1:
                    log.error("prediction events %s: already stored", [r["request_id"] for r in group[0].rows])
                    group[0].future.set_exception(error)
                else:
                    for item in group:
                        self._commit([item])
                return
            except Exception as error:
                now = time.monotonic()
                late = [item for item in group if item.deadline <= now]
                group = [item for item in group if item.deadline > now]
                log.warning("storing %d prediction events failed (%s); %d callers told the store is unavailable",
                            sum(len(i.rows) for i in group + late), error, len(late))
                for item in late:
                    item.future.set_exception(StoreUnavailable(f"the event store did not answer: {error}"))
                if group:
                    time.sleep(min(pause, max(0.0, min(i.deadline for i in group) - now)))
                    pause = min(pause * 2, 0.5)
            else:
                self.transactions += 1
                for item in group:
                    self.written += len(item.rows)
                    item.future.set_result(len(item.rows))
                return

    def _run(self) -> None:
        stop = False
        while not stop:
            group, stop = self._next_group()
            if group:
                self._commit(group)
