"""Human review of the model's decisions: stored and listed newest first through the real API (an unknown client,
a decision of another client, a bad body and a missing key refused, each named), append-only in the database
itself on SQLite and PostgreSQL (UPDATE and DELETE refused by triggers, whoever sends them)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, text, update
from sqlalchemy.exc import IntegrityError

from credit_scoring.events import read_events, write_events
from credit_scoring.reviews import (
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
from tests.conftest import API_KEY, in_process_api

KEY = {"X-API-Key": API_KEY}
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
        except Exception as error:  # noqa: BLE001 collected and shown by the assertion
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


# -- the API ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def events_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('reviews') / 'events.db'}"


@pytest.fixture(scope="module")
def api(service, events_url):
    with in_process_api(service, events_url) as client:
        yield client


@pytest.fixture(scope="module")
def known(service) -> list[int]:
    return [int(i) for i in service.table.index[:3]]


BODY = {"action": "override", "reason": "Revenus complémentaires justifiés", "reviewer": "c.durand"}


def reviews_of(api, client_id: int) -> list[dict]:
    response = api.get(f"/clients/{client_id}/reviews", headers=KEY)
    assert response.status_code == 200, response.text
    assert response.json()["client_id"] == client_id
    return response.json()["reviews"]


def test_a_review_without_request_id_reviews_a_decision_scored_now(api, known, events_url):
    before = len(reviews_of(api, known[0]))
    response = api.post(f"/clients/{known[0]}/reviews", json=BODY, headers=KEY)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"review_id", "client_id", "request_id", "model_decision", "model_version", "action",
                         "reviewed_decision", "reason", "reviewer", "reviewed_at"}
    engine = create_review_store(events_url)  # another connection: the review was committed before the answer
    assert client_reviews(engine, known[0])[0].review_id == body["review_id"]
    event = read_events(engine).set_index("request_id").loc[body["request_id"]]
    engine.dispose()
    assert event["endpoint"] == "client_review" and event["client_id"] == known[0]
    assert body["model_decision"] == event["decision"] and body["model_version"] == event["model_version"]
    assert body["reviewed_decision"] != body["model_decision"] and body["reviewer"] == "c.durand"
    assert datetime.fromisoformat(body["reviewed_at"]).tzinfo is not None
    assert len(reviews_of(api, known[0])) == before + 1


def test_a_review_of_a_named_decision_and_the_list_newest_first(api, known):
    scored = api.get(f"/clients/{known[1]}/score", headers=KEY).json()
    first = api.post(f"/clients/{known[1]}/reviews", headers=KEY,
                     json={**BODY, "action": "confirm", "request_id": scored["request_id"]}).json()
    assert first["request_id"] == scored["request_id"]
    assert first["model_decision"] == first["reviewed_decision"] == scored["decision"]
    second = api.post(f"/clients/{known[1]}/reviews", headers=KEY,
                      json={**BODY, "reason": "  Avis du comité  ", "request_id": scored["request_id"]}).json()
    assert second["reason"] == "Avis du comité" and second["reviewed_decision"] != scored["decision"]
    listed = reviews_of(api, known[1])
    assert [r["review_id"] for r in listed[:2]] == [second["review_id"], first["review_id"]]
    assert listed[0] == second


def test_a_decision_of_another_client_is_409_and_an_unknown_one_404(api, known):
    theirs = api.get(f"/clients/{known[2]}/score", headers=KEY).json()["request_id"]
    before = reviews_of(api, known[0])
    conflict = api.post(f"/clients/{known[0]}/reviews", json={**BODY, "request_id": theirs}, headers=KEY)
    assert conflict.status_code == 409 and f"served for SK_ID_CURR={known[2]}" in conflict.json()["detail"]
    unknown = api.post(f"/clients/{known[0]}/reviews", json={**BODY, "request_id": "ghost"}, headers=KEY)
    assert unknown.status_code == 404 and "unknown request_id 'ghost'" in unknown.json()["detail"]
    assert reviews_of(api, known[0]) == before


def test_an_unknown_client_is_a_404(api):
    for response in (api.post("/clients/1/reviews", json=BODY, headers=KEY), api.get("/clients/1/reviews",
                                                                                      headers=KEY)):
        assert response.status_code == 404 and "SK_ID_CURR=1" in response.json()["detail"]


def test_reviews_need_the_api_key(api, known):
    path = f"/clients/{known[0]}/reviews"
    assert api.post(path, json=BODY).status_code == 401
    assert api.post(path, json=BODY, headers={"X-API-Key": "wrong"}).status_code == 401
    assert api.get(path).status_code == 401


@pytest.mark.parametrize(("change", "field"), [
    ({"reason": None}, "reason"),  # None: left out
    ({"reason": "   "}, "reason"),
    ({"reason": " a "}, "reason"),
    ({"reason": "x" * 2001}, "reason"),
    ({"reason": 12}, "reason"),
    ({"reason": "Motif\u0000caché"}, "reason"),
    ({"action": "approve"}, "action"),
    ({"action": None}, "action"),
    ({"reviewer": "c durand"}, "reviewer"),
    ({"reviewer": ""}, "reviewer"),
    ({"reviewer": "x" * 65}, "reviewer"),
    ({"request_id": "r 1"}, "request_id"),
    ({"decision": "accordé"}, "decision"),  # an unknown field
])
def test_a_bad_body_is_a_400_naming_the_field(api, known, change, field):
    before = reviews_of(api, known[2])
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    response = api.post(f"/clients/{known[2]}/reviews", json=body, headers=KEY)
    assert response.status_code == 400 and field in response.json()["detail"], response.json()
    assert reviews_of(api, known[2]) == before
