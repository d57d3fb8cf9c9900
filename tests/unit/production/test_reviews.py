"""Human review of the model's decisions: stored and listed newest first (an unknown decision, a decision of
another client and a malformed review refused, each named), append-only in the database itself on SQLite and
PostgreSQL (UPDATE and DELETE refused by triggers, whoever sends them). Through the API:
tests/integration/test_reviews_api.py."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, text, update
from sqlalchemy.exc import IntegrityError

from credit_scoring.production.events import write_events
from credit_scoring.production.reviews import (
    InvalidReview,
    OtherClientRequest,
    UnknownRequest,
    checked,
    client_reviews,
    create_review_store,
    create_review_tables,
    decision_reviews,
    reviews_frame,
    store_review,
)

MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def served(client_id: int | None, decision: str = "refusé") -> dict:
    """A prediction event as the API stores it, under a fresh request id."""
    return {"request_id": uuid.uuid4().hex, "client_id": client_id, "model_version": "v1", "inputs": {"AMT_CREDIT": 1},
            "probability": 0.7 if decision == "refusé" else 0.1, "decision": decision, "threshold": 0.5,
            "latency_ms": 2.0, "endpoint": "predict"}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """A review store; the PostgreSQL database is shared by the session (and reviews cannot be deleted), so each
    test works on clients of its own (`fresh_client`)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else f"sqlite:///{tmp_path}/e.db"
    engine = create_review_store(url)
    yield engine
    engine.dispose()


def fresh_client() -> int:
    return uuid.uuid4().int % 10**15


def review(engine, client_id: int, request_id: str, action: str = "confirm", **more):
    return store_review(engine, client_id=client_id, request_id=request_id, action=action,
                        reason=more.pop("reason", "Dossier complet, revenus stables"), reviewer="a.martin", **more)


# -- the store ------------------------------------------------------------------------------------------------
def test_reviews_are_stored_and_listed_newest_first(engine):
    client = fresh_client()
    refused, granted = served(client, "refusé"), served(client, "accordé")
    write_events(engine, [refused, granted])
    first = review(engine, client, refused["request_id"], "override", reason="  Garant solide  ", reviewed_at=MARCH)
    second = review(engine, client, granted["request_id"], "confirm", reviewed_at=MARCH + timedelta(days=1))
    third = review(engine, client, refused["request_id"], "confirm", reviewed_at=MARCH + timedelta(days=1))
    assert (first.model_decision, first.reviewed_decision, first.reason) == ("refusé", "accordé", "Garant solide")
    assert (second.model_decision, second.reviewed_decision) == ("accordé", "accordé")
    assert first.model_version == "v1" and first.reviewed_at == MARCH
    assert client_reviews(engine, client) == [third, second, first]  # same time: the later stored first
    assert client_reviews(engine, fresh_client()) == []
    frame = reviews_frame(engine, since=MARCH + timedelta(hours=1))
    mine = frame[frame["client_id"] == client]
    assert mine["review_id"].tolist() == [second.review_id, third.review_id] and "reason" not in frame
    assert str(frame["reviewed_at"].dt.tz) == "UTC"


def test_a_decision_of_another_client_or_unknown_is_refused_and_nothing_stored(engine):
    client, other = fresh_client(), fresh_client()
    theirs, anonymous = served(other), served(None)
    write_events(engine, [theirs, anonymous])
    with pytest.raises(OtherClientRequest, match=f"served for SK_ID_CURR={other}, not for SK_ID_CURR={client}"):
        review(engine, client, theirs["request_id"])
    with pytest.raises(OtherClientRequest, match="served without a client id"):
        review(engine, client, anonymous["request_id"])
    with pytest.raises(UnknownRequest, match="unknown request_id 'ghost'") as refused:
        review(engine, client, "ghost")
    assert refused.value.field == "request_id" and client_reviews(engine, client) == []


@pytest.mark.parametrize(("action", "reason", "reviewer", "field"), [
    ("approve", "Dossier complet", "a.martin", "action"),
    ("confirm", "   ", "a.martin", "reason"),
    ("confirm", " ok ", "a.martin", "reason"),
    ("confirm", "x" * 2001, "a.martin", "reason"),
    ("confirm", "Dossier\x00complet", "a.martin", "reason"),
    ("confirm", "Dossier complet", "a martin", "reviewer"),
    ("confirm", "Dossier complet", "", "reviewer"),
    ("confirm", "Dossier complet", "a" * 65, "reviewer"),
])
def test_a_malformed_review_names_its_field(action, reason, reviewer, field):
    with pytest.raises(InvalidReview) as refused:
        checked(action, reason, reviewer)
    assert refused.value.field == field and str(refused.value).startswith(f"{field}: ")


def test_the_database_refuses_to_change_or_delete_a_review(engine):
    client = fresh_client()
    event = served(client)
    write_events(engine, [event])
    stored = review(engine, client, event["request_id"], "override")
    table = decision_reviews.c
    changes = [update(decision_reviews).where(table.id == stored.review_id).values(reason="Modifié après coup"),
               update(decision_reviews).where(table.id == stored.review_id).values(reviewed_decision="refusé",
                                                                                    action="confirm"),
               delete(decision_reviews).where(table.id == stored.review_id),
               delete(decision_reviews),
               text("UPDATE decision_reviews SET reviewer = 'x'")]
    if engine.dialect.name == "postgresql":
        changes.append(text("TRUNCATE decision_reviews"))
    for statement in changes:
        with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
            connection.execute(statement)
    assert client_reviews(engine, client) == [stored]


@pytest.mark.parametrize(("action", "model", "reviewed"), [
    ("confirm", "refusé", "accordé"), ("override", "refusé", "refusé"), ("ignore", "refusé", "refusé"),
    ("confirm", "peut-être", "peut-être"),
])
def test_check_constraints_refuse_an_incoherent_row(engine, action, model, reviewed):
    row = {"client_id": fresh_client(), "request_id": "r", "model_decision": model, "model_version": "v1",
           "action": action, "reviewed_decision": reviewed, "reason": "Motif", "reviewer": "a", "reviewed_at": MARCH}
    with pytest.raises(IntegrityError, match="review_"), engine.begin() as connection:
        connection.execute(insert(decision_reviews), row)


def test_workers_creating_the_table_together_do_not_fail(engine):
    errors = []

    def create() -> None:
        try:
            create_review_tables(engine)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    query = ("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'decision_reviews'"
             if engine.dialect.name == "sqlite" else
             "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'decision_reviews'::regclass AND NOT tgisinternal")
    with engine.connect() as connection:
        assert connection.execute(text(query)).scalar_one() == 2
