"""Loan outcomes: whether a granted loan was repaid, learnt months after the decision, in the event store.

The `loan_outcomes` table lives beside `prediction_events` (same engine: the SQLite file by default, PostgreSQL by
EVENTS_URL). Each outcome is joined to one served decision when it is stored, and kept under that decision's
request id, which is unique in the table:

- an outcome given by `request_id` belongs to that decision (an unknown request id is refused, named);
- an outcome given by `SK_ID_CURR` only belongs to the latest decision served for that client at or before
  `observed_at` (the loan whose repayment was observed was decided before it); a client with no such decision is
  refused, named. When both are given, the request id decides and the client id must match it.

Sending the same outcome again stores nothing new (counted as already there); a different TARGET for a decision
that already has one is refused, as is a batch holding both. A batch is written in one transaction: any refused
row leaves the store as it was.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Engine,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from credit_scoring.production.events import UTCDateTime, create_store, create_tables, prediction_events

CSV_COLUMNS = ("request_id", "SK_ID_CURR", "TARGET", "observed_at")
CHUNK = 500  # ids per IN (...) query

metadata = MetaData()
loan_outcomes = Table(
    "loan_outcomes",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("request_id", Text, nullable=False),  # the decision the outcome belongs to
    Column("client_id", BigInteger, nullable=True),  # SK_ID_CURR, given or the decision's
    Column("target", SmallInteger, nullable=False),  # 1: the loan defaulted
    Column("observed_at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("given_by", Text, nullable=False),  # "request_id" or "SK_ID_CURR": how the sender named the decision
    UniqueConstraint("request_id", name="one_outcome_per_decision"),
    CheckConstraint("target IN (0, 1)", name="target_binary"),
)
OUTCOME_COLUMNS = ["request_id", "client_id", "target", "observed_at"]


class OutcomeError(ValueError):
    """Refused outcomes: `problems` maps the position of each refused outcome in its batch to the reason; callers
    name the position their own way (a CSV line, ``outcomes[3]`` in a request body)."""

    def __init__(self, problems: dict[int, str]) -> None:
        super().__init__(problems)
        self.problems = problems

    def describe(self, where) -> str:
        """One sentence per refused outcome, at most 10, each prefixed by ``where(position)``."""
        items = sorted(self.problems.items())
        text = "; ".join(f"{where(i)}: {reason}" for i, reason in items[:10])
        return text + (f" (and {len(items) - 10} more)" if len(items) > 10 else "")

    def __str__(self) -> str:
        return self.describe(lambda i: f"outcome {i}")


class UnknownDecision(OutcomeError):
    """Outcomes naming no served decision (an unknown request id, a client without a decision before the date)."""


@dataclass(frozen=True)
class Outcome:
    """One outcome as sent: a request id and/or a client id, TARGET 0/1 and when it was observed (aware)."""

    target: int
    observed_at: datetime
    request_id: str | None = None
    client_id: int | None = None

    def __post_init__(self) -> None:
        if self.request_id is None and self.client_id is None:
            raise ValueError("an outcome needs a request_id or an SK_ID_CURR")
        if self.target not in (0, 1) or isinstance(self.target, bool):
            raise ValueError(f"TARGET must be 0 or 1, got {self.target!r}")
        if self.observed_at.tzinfo is None:
            raise ValueError(f"observed_at must carry a time zone, got {self.observed_at!r}")


@dataclass(frozen=True)
class Stored:
    """What a batch did: outcomes newly stored, outcomes the store already held, and the clients the batch's
    decisions were served for (the access log records them)."""

    stored: int
    already: int
    clients: tuple[int, ...] = ()


def create_outcome_store(url: str | None = None) -> Engine:
    """The event store's engine (`credit_scoring.production.events.create_store`) with `loan_outcomes` created if
    missing."""
    engine = create_store(url)
    create_tables(engine, loan_outcomes)
    return engine


def _chunks(values: list) -> list[list]:
    return [values[i:i + CHUNK] for i in range(0, len(values), CHUNK)]


def _decisions_by_request(connection, request_ids: list[str]) -> dict[str, tuple[int | None, datetime]]:
    table = prediction_events.c
    found = {}
    for chunk in _chunks(sorted(set(request_ids))):
        query = select(table.request_id, table.client_id, table.created_at).where(table.request_id.in_(chunk))
        found.update({r.request_id: (r.client_id, r.created_at) for r in connection.execute(query)})
    return found


def _decisions_by_client(connection, client_ids: list[int]) -> dict[int, list[tuple[datetime, str]]]:
    """Each client's decisions, (created_at, request_id), oldest first."""
    table = prediction_events.c
    found: dict[int, list[tuple[datetime, str]]] = {}
    for chunk in _chunks(sorted(set(client_ids))):
        query = (select(table.client_id, table.created_at, table.request_id)
                 .where(table.client_id.in_(chunk)).order_by(table.created_at, table.id))
        for row in connection.execute(query):
            found.setdefault(row.client_id, []).append((row.created_at, row.request_id))
    return found


def _latest_before(decisions: list[tuple[datetime, str]], moment: datetime) -> str | None:
    earlier = [request for created, request in decisions if created <= moment]
    return earlier[-1] if earlier else None


def resolve(connection, outcomes: list[Outcome]) -> list[dict]:
    """The rows to store, one per outcome, each under the request id of its decision; raises UnknownDecision
    naming every outcome that names no decision."""
    by_request = _decisions_by_request(connection, [o.request_id for o in outcomes if o.request_id is not None])
    by_client = _decisions_by_client(connection, [o.client_id for o in outcomes if o.request_id is None])
    problems, rows = {}, []
    for position, outcome in enumerate(outcomes):
        if outcome.request_id is not None:
            request, client = outcome.request_id, outcome.client_id
            if request not in by_request:
                problems[position] = f"unknown request_id {request!r}: no decision served under it"
                continue
            served_client = by_request[request][0]
            if client is not None and served_client is not None and client != served_client:
                problems[position] = (f"request_id {request!r} was served for SK_ID_CURR={served_client}, "
                                      f"not {client}")
                continue
            client = served_client if client is None else client
        else:
            client = outcome.client_id
            request = _latest_before(by_client.get(client, []), outcome.observed_at)
            if request is None:
                problems[position] = (f"no decision served for SK_ID_CURR={client} at or before "
                                      f"{outcome.observed_at.isoformat()}")
                continue
        rows.append({"request_id": request, "client_id": client, "target": outcome.target,
                     "observed_at": outcome.observed_at,
                     "given_by": "request_id" if outcome.request_id is not None else "SK_ID_CURR"})
    if problems:
        raise UnknownDecision(problems)
    return rows


def _existing_targets(connection, request_ids: list[str]) -> dict[str, int]:
    table = loan_outcomes.c
    found = {}
    for chunk in _chunks(sorted(set(request_ids))):
        query = select(table.request_id, table.target).where(table.request_id.in_(chunk))
        found.update({r.request_id: r.target for r in connection.execute(query)})
    return found


def _new_rows(rows: list[dict], existing: dict[str, int]) -> list[dict]:
    """The rows not yet stored (each decision once); raises OutcomeError on a TARGET contradicting the store or
    another row of the batch."""
    known = dict(existing)
    problems, new = {}, []
    for position, row in enumerate(rows):
        before = known.get(row["request_id"])
        if before is None:
            known[row["request_id"]] = row["target"]
            new.append(row)
        elif before != row["target"]:
            problems[position] = (f"decision {row['request_id']!r} already has TARGET={before}; "
                                  f"TARGET={row['target']} contradicts it")
    if problems:
        raise OutcomeError(problems)
    return new


def store_outcomes(engine: Engine, outcomes: list[Outcome], attempts: int = 3) -> Stored:
    """Store a batch of outcomes in one transaction: all of them, or none (OutcomeError naming each refused one).
    An outcome already stored (same decision, same TARGET) is counted in `already` and not stored again. A
    concurrent batch storing the same decision makes the transaction fail on the unique key: it is retried."""
    attempt = 1
    while True:
        try:
            with engine.begin() as connection:
                rows = resolve(connection, outcomes)
                new = _new_rows(rows, _existing_targets(connection, [r["request_id"] for r in rows]))
                received = datetime.now(UTC)
                if new:
                    connection.execute(insert(loan_outcomes), [{**r, "received_at": received} for r in new])
            clients = tuple(sorted({r["client_id"] for r in rows if r["client_id"] is not None}))
            return Stored(stored=len(new), already=len(outcomes) - len(new), clients=clients)
        except IntegrityError:
            if attempt == attempts:
                raise
            attempt += 1


def read_outcomes(engine: Engine) -> pd.DataFrame:
    """Every stored outcome: request_id, client_id, target, observed_at (UTC)."""
    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(select(*(loan_outcomes.c[c] for c in OUTCOME_COLUMNS)))]
    frame = pd.DataFrame(rows, columns=OUTCOME_COLUMNS).astype({"client_id": "Int64", "target": "int64"})
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    return frame


def read_decisions(engine: Engine, since: datetime | None = None) -> pd.DataFrame:
    """The served decisions without their inputs: request_id, client_id, created_at, probability, decision,
    threshold, model_version, oldest first."""
    table = prediction_events.c
    columns = ["request_id", "client_id", "created_at", "probability", "decision", "threshold", "model_version"]
    query = select(*(table[c] for c in columns)).order_by(table.id)
    if since is not None:
        query = query.where(table.created_at >= since)
    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(query)]
    frame = pd.DataFrame(rows, columns=columns).astype({"client_id": "Int64"})
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def parse_moment(text: str) -> datetime:
    """An ISO date or date-time; without a zone it is taken as UTC (a bank's extract gives dates)."""
    moment = datetime.fromisoformat(text)
    return in_utc(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))


def in_utc(moment: datetime) -> datetime:
    """The moment in UTC; ValueError for one UTC cannot hold (0001-01-01 at +14:00)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()} is out of range in UTC") from None


def _csv_outcome(row: dict, line: int, path: Path) -> Outcome:
    where = f"{path} line {line}"
    request = (row.get("request_id") or "").strip() or None
    client_text = (row.get("SK_ID_CURR") or "").strip()
    if request is None and not client_text:
        raise ValueError(f"{where}: request_id and SK_ID_CURR are both empty; one of them names the decision")
    client = None
    if client_text:
        try:
            client = int(client_text)
        except ValueError:
            raise ValueError(f"{where}, column SK_ID_CURR: expected a whole number, got {client_text!r}") from None
        if not 0 <= client < 2**63:
            raise ValueError(f"{where}, column SK_ID_CURR: expected a non-negative 64-bit id, got {client}")
    target = (row.get("TARGET") or "").strip()
    if target not in ("0", "1"):
        raise ValueError(f"{where}, column TARGET: expected 0 or 1, got {target!r}")
    observed = (row.get("observed_at") or "").strip()
    try:
        moment = parse_moment(observed)
    except ValueError:
        raise ValueError(f"{where}, column observed_at: expected an ISO date or date-time (2026-03-31 or "
                         f"2026-03-31T12:00:00+00:00), got {observed!r}") from None
    return Outcome(target=int(target), observed_at=moment, request_id=request, client_id=client)


def read_outcome_csv(path: Path) -> list[Outcome]:
    """The outcomes of a CSV with columns request_id and/or SK_ID_CURR, TARGET and observed_at; a bad cell raises
    ValueError naming its line and column."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in ("TARGET", "observed_at") if c not in header]
        if "request_id" not in header and "SK_ID_CURR" not in header:
            missing.append("request_id or SK_ID_CURR")
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if missing or unknown:
            raise ValueError(f"{path}: missing columns {missing}, unknown columns {unknown} "
                             f"(expected {', '.join(CSV_COLUMNS)})")
        return [_csv_outcome(row, line, path) for line, row in enumerate(reader, start=2)]

