"""Human review of the model's decisions (GDPR art. 22; Consumer Credit Directive 2023/2225, art. 18: a refused
consumer may obtain a review by a person), in the event store's `decision_reviews` table.

A relationship manager reviews one served decision of a known client (its `request_id` in `prediction_events`):
they confirm it or override it, say why in free text, and sign with their identifier. The table sits beside
`prediction_events` and `loan_outcomes` (same engine: the SQLite file by default, PostgreSQL by EVENTS_URL).

- The decision reviewed must exist and have been served for that client: checked in the transaction that stores
  the review (no foreign key: SQLite enforces none without a pragma, and the check names what is wrong).
- CHECK constraints keep the row coherent: action ``confirm`` or ``override``, decisions ``accordé`` or
  ``refusé``, and the reviewed decision equal to the model's on a confirmation, the other one on an override.
- The table is append-only, in the database itself: triggers refuse every UPDATE and DELETE (and TRUNCATE on
  PostgreSQL), whoever sends them. A review that was wrong is followed by a new review, never edited.

The monitor reads `reviews_frame` and reports the override rate per period (`override_rates`, `review_alerts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import BigInteger, CheckConstraint, Column, Engine, Integer, MetaData, Table, Text, insert, select

from credit_scoring.modeling.bundle import DECISION_GRANTED, DECISION_REFUSED
from credit_scoring.production.append_only import create_append_only
from credit_scoring.production.events import UTCDateTime, create_store, prediction_events
from credit_scoring.production.performance import PERIODS

ACTIONS = ("confirm", "override")
OTHER_DECISION = {DECISION_GRANTED: DECISION_REFUSED, DECISION_REFUSED: DECISION_GRANTED}
REASON_LENGTH = (3, 2000)  # characters
_TEXT, _NOT_BLANK = r"[^\x00]*", r"[^ \t\r\n\x00]"
REASON_PATTERN = f"^{_TEXT}{_NOT_BLANK}{_TEXT}{_NOT_BLANK}{_TEXT}{_NOT_BLANK}{_TEXT}$"
"""At least three characters other than spaces, tabs and line breaks, and no NUL (PostgreSQL's text refuses it):
written so that Python and the JSON Schema (ECMA-262) regular expressions of the API contract agree."""
REVIEWER_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
_DECISIONS_SQL = f"('{DECISION_GRANTED}', '{DECISION_REFUSED}')"

metadata = MetaData()
decision_reviews = Table(
    "decision_reviews",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("client_id", BigInteger, nullable=False, index=True),  # SK_ID_CURR
    Column("request_id", Text, nullable=False, index=True),  # the prediction event reviewed
    Column("model_decision", Text, nullable=False),
    Column("model_version", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("reviewed_decision", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("reviewer", Text, nullable=False),
    Column("reviewed_at", UTCDateTime(), nullable=False, index=True),
    CheckConstraint("action IN ('confirm', 'override')", name="review_action_known"),
    CheckConstraint(f"model_decision IN {_DECISIONS_SQL}", name="review_model_decision_known"),
    CheckConstraint(f"reviewed_decision IN {_DECISIONS_SQL}", name="review_decision_known"),
    CheckConstraint("(action = 'confirm' AND reviewed_decision = model_decision) OR "
                    "(action = 'override' AND reviewed_decision <> model_decision)",
                    name="review_decision_follows_action"),
    CheckConstraint(f"length(reason) BETWEEN {REASON_LENGTH[0]} AND {REASON_LENGTH[1]}", name="review_reason_given"),
    CheckConstraint("length(reviewer) BETWEEN 1 AND 64", name="review_reviewer_given"),
)
REVIEW_COLUMNS = ["review_id", "client_id", "request_id", "model_decision", "model_version", "action",
                  "reviewed_decision", "reviewer", "reviewed_at"]  # the monitor's frame: no free text

class ReviewError(ValueError):
    """A review refused; `field` names the part of the request at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidReview(ReviewError):
    """A malformed review: unknown action, blank or too long reason, reviewer not an identifier."""


class UnknownRequest(ReviewError):
    """The request id names no served decision."""


class OtherClientRequest(ReviewError):
    """The request id names a decision served for another client (or for no known client)."""


@dataclass(frozen=True)
class Review:
    """One stored review, as the table holds it."""

    review_id: int
    client_id: int
    request_id: str
    model_decision: str
    model_version: str
    action: str
    reviewed_decision: str
    reason: str
    reviewer: str
    reviewed_at: datetime


def create_review_tables(engine: Engine) -> None:
    """`decision_reviews` created if missing, append-only (`credit_scoring.production.append_only`)."""
    create_append_only(engine, decision_reviews)


def create_review_store(url: str | None = None) -> Engine:
    """The event store's engine (`credit_scoring.production.events.create_store`) with `decision_reviews` ready."""
    engine = create_store(url)
    create_review_tables(engine)
    return engine


def checked(action: str, reason: str, reviewer: str) -> str:
    """The reason as stored (spaces, tabs and line breaks at either end removed: at least three other characters
    remain); raises InvalidReview naming the field at fault."""
    if action not in ACTIONS:
        raise InvalidReview("action", f"expected one of {', '.join(ACTIONS)}, got {action!r}")
    low, high = REASON_LENGTH
    if not isinstance(reason, str) or not low <= len(reason) <= high or not re.fullmatch(REASON_PATTERN, reason):
        raise InvalidReview("reason", f"a reason of {low} to {high} characters is required, at least three of them "
                                      "other than spaces and line breaks, without NUL characters")
    if not isinstance(reviewer, str) or not re.fullmatch(REVIEWER_PATTERN, reviewer):
        raise InvalidReview("reviewer", "expected an identifier of 1 to 64 letters, digits, '.', '_' or '-', "
                                        f"got {reviewer!r}")
    return reason.strip(" \t\r\n")  # only the blanks REASON_PATTERN knows: a stored reason keeps 3 characters


def _served_decision(connection, client_id: int, request_id: str):
    table = prediction_events.c
    served = connection.execute(select(table.client_id, table.decision, table.model_version)
                                .where(table.request_id == request_id)).first()
    if served is None:
        raise UnknownRequest("request_id", f"unknown request_id {request_id!r}: no decision served under it")
    if served.client_id != client_id:
        whom = "without a client id" if served.client_id is None else f"for SK_ID_CURR={served.client_id}"
        raise OtherClientRequest("request_id", f"request_id {request_id!r} was served {whom}, not for "
                                               f"SK_ID_CURR={client_id}")
    return served


def store_review(engine: Engine, *, client_id: int, request_id: str, action: str, reason: str, reviewer: str,
                 reviewed_at: datetime | None = None) -> Review:
    """Store one review of the decision `request_id` served for `client_id`, committed before returning; the
    stored review. Raises InvalidReview, UnknownRequest or OtherClientRequest (nothing stored)."""
    reason = checked(action, reason, reviewer)
    moment = datetime.now(UTC) if reviewed_at is None else reviewed_at
    if moment.tzinfo is None:
        raise InvalidReview("reviewed_at", f"must carry a time zone, got {moment!r}")
    with engine.begin() as connection:
        served = _served_decision(connection, client_id, request_id)
        row = {"client_id": client_id, "request_id": request_id, "model_decision": served.decision,
               "model_version": served.model_version, "action": action,
               "reviewed_decision": served.decision if action == "confirm" else OTHER_DECISION[served.decision],
               "reason": reason, "reviewer": reviewer, "reviewed_at": moment.astimezone(UTC)}
        review_id = connection.execute(insert(decision_reviews).returning(decision_reviews.c.id), row).scalar_one()
    return Review(review_id=int(review_id), **row)


def _review(row) -> Review:
    values = dict(row._mapping)
    return Review(review_id=int(values.pop("id")), **values)


def client_reviews(engine: Engine, client_id: int) -> list[Review]:
    """The client's reviews, newest first."""
    table = decision_reviews.c
    query = (select(decision_reviews).where(table.client_id == client_id)
             .order_by(table.reviewed_at.desc(), table.id.desc()))
    with engine.connect() as connection:
        return [_review(row) for row in connection.execute(query)]


def reviews_frame(engine: Engine, since: datetime | None = None) -> pd.DataFrame:
    """Every review (of `since` or later), oldest first, without the free-text reason: REVIEW_COLUMNS."""
    table = decision_reviews.c
    query = select(*(table.id.label("review_id") if c == "review_id" else table[c] for c in REVIEW_COLUMNS))
    if since is not None:
        if since.tzinfo is None:
            raise ValueError(f"since must be timezone-aware, got {since!r}")
        query = query.where(table.reviewed_at >= since)
    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(query.order_by(table.reviewed_at, table.id))]
    frame = pd.DataFrame(rows, columns=REVIEW_COLUMNS).astype({"review_id": "int64", "client_id": "int64"})
    frame["reviewed_at"] = pd.to_datetime(frame["reviewed_at"], utc=True)
    return frame


def override_rates(reviews: pd.DataFrame, period: str, band: tuple[float, float],
                   min_reviews: int) -> dict[str, dict]:
    """period of review -> reviews, overrides, override rate (and overrides by the model's decision); a period
    with at least `min_reviews` reviews is judged against the band, oldest first."""
    if period not in PERIODS:
        raise ValueError(f"monitor.period must be one of {', '.join(PERIODS)}, got {period!r}")
    if reviews.empty:
        return {}
    naive = reviews["reviewed_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    periods = {}
    for name, rows in reviews.groupby(naive.dt.to_period(PERIODS[period]).astype(str), sort=True):
        overridden = rows["action"] == "override"
        rate = float(overridden.mean())
        record = {"reviews": len(rows), "overrides": int(overridden.sum()), "override_rate": rate,
                  "refusals_overridden": int((overridden & (rows["model_decision"] == DECISION_REFUSED)).sum()),
                  "grants_overridden": int((overridden & (rows["model_decision"] == DECISION_GRANTED)).sum())}
        if len(rows) < min_reviews:
            record["status"] = f"fewer than {min_reviews} reviews: not judged"
        else:
            side = "below" if rate < band[0] else "above" if rate > band[1] else None
            record.update(status="judged", outside_band=side is not None, side=side)
        periods[str(name)] = record
    return periods


def review_alerts(periods: dict[str, dict], band: tuple[float, float]) -> list[str]:
    """The ALERT review line of the latest judged period when its override rate is outside the band (as the
    performance alerts, the latest judged period tells the current state)."""
    judged = [name for name, record in periods.items() if record.get("status") == "judged"]
    if not judged or not periods[judged[-1]]["outside_band"]:
        return []
    name, record = judged[-1], periods[judged[-1]]
    meaning = ("reviewers and model disagree too often" if record["side"] == "above"
               else "reviews may be rubber stamps")
    rate = 100 * record["override_rate"]
    line = (f"ALERT review: reviews of {name}, override rate {rate:.1f} % {record['side']} the band "
            f"[{100 * band[0]:.1f} %, {100 * band[1]:.1f} %] ({record['overrides']} overrides of "
            f"{record['reviews']} reviews): {meaning}")
    return [line]
