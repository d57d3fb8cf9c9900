"""Reviews through the API (in process, over the tiny trained project): a reviewer, signed in, confirms or
overrides a decision and is the stored reviewer; the routes refuse what they must."""

from __future__ import annotations

from datetime import datetime

import pytest

from credit_scoring.production.events import read_events
from credit_scoring.production.reviews import (
    client_reviews,
    create_review_store,
)
from tests.conftest import API_KEY, in_process_api, signed_in

KEY = {"X-API-Key": API_KEY}  # the bootstrap key may read reviews, never record one
BODY = {"action": "override", "reason": "Revenus complémentaires justifiés"}


# -- the API ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def events_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('reviews') / 'events.db'}"


@pytest.fixture(scope="module")
def api(service, events_url):
    with in_process_api(service, events_url) as client:
        yield client


@pytest.fixture(scope="module")
def reviewer(api) -> dict:
    return signed_in(api, "r.revue")


@pytest.fixture(scope="module")
def known(service) -> list[int]:
    return [int(i) for i in service.table.index[:3]]


def reviews_of(api, client_id: int) -> list[dict]:
    response = api.get(f"/clients/{client_id}/reviews", headers=KEY)
    assert response.status_code == 200, response.text
    assert response.json()["client_id"] == client_id
    return response.json()["reviews"]


def test_a_review_without_request_id_reviews_a_decision_scored_now(api, reviewer, known, events_url):
    before = len(reviews_of(api, known[0]))
    response = api.post(f"/clients/{known[0]}/reviews", json=BODY, headers=reviewer)
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
    assert body["reviewed_decision"] != body["model_decision"] and body["reviewer"] == "r.revue"
    assert datetime.fromisoformat(body["reviewed_at"]).tzinfo is not None
    assert len(reviews_of(api, known[0])) == before + 1


def test_a_review_of_a_named_decision_and_the_list_newest_first(api, reviewer, known):
    scored = api.get(f"/clients/{known[1]}/score", headers=KEY).json()
    first = api.post(f"/clients/{known[1]}/reviews", headers=reviewer,
                     json={**BODY, "action": "confirm", "request_id": scored["request_id"]}).json()
    assert first["request_id"] == scored["request_id"]
    assert first["model_decision"] == first["reviewed_decision"] == scored["decision"]
    second = api.post(f"/clients/{known[1]}/reviews", headers=reviewer,
                      json={**BODY, "reason": "  Avis du comité  ", "request_id": scored["request_id"]}).json()
    assert second["reason"] == "Avis du comité" and second["reviewed_decision"] != scored["decision"]
    listed = reviews_of(api, known[1])
    assert [r["review_id"] for r in listed[:2]] == [second["review_id"], first["review_id"]]
    assert listed[0] == second


def test_a_decision_of_another_client_is_409_and_an_unknown_one_404(api, reviewer, known):
    theirs = api.get(f"/clients/{known[2]}/score", headers=KEY).json()["request_id"]
    before = reviews_of(api, known[0])
    conflict = api.post(f"/clients/{known[0]}/reviews", json={**BODY, "request_id": theirs}, headers=reviewer)
    assert conflict.status_code == 409 and f"served for SK_ID_CURR={known[2]}" in conflict.json()["detail"]
    unknown = api.post(f"/clients/{known[0]}/reviews", json={**BODY, "request_id": "ghost"}, headers=reviewer)
    assert unknown.status_code == 404 and "unknown request_id 'ghost'" in unknown.json()["detail"]
    assert reviews_of(api, known[0]) == before


def test_an_unknown_client_is_a_404(api, reviewer):
    for response in (api.post("/clients/1/reviews", json=BODY, headers=reviewer),
                     api.get("/clients/1/reviews", headers=KEY)):
        assert response.status_code == 404 and "SK_ID_CURR=1" in response.json()["detail"]


def test_a_review_is_signed_by_a_reviewer_never_by_a_key_nor_an_advisor(api, known):
    path = f"/clients/{known[0]}/reviews"
    before = reviews_of(api, known[0])
    assert api.post(path, json=BODY).status_code == 401
    assert api.post(path, json=BODY, headers={"X-API-Key": "wrong"}).status_code == 401
    assert api.post(path, json=BODY, headers=KEY).status_code == 403  # a key: no person answerable
    assert api.post(path, json=BODY, headers=signed_in(api, "a.conseil")).status_code == 403
    assert api.get(path).status_code == 401
    assert reviews_of(api, known[0]) == before


def test_a_body_naming_its_own_reviewer_is_refused(api, reviewer, known):
    """The reviewer is the signed-in person: a body cannot sign for a colleague."""
    response = api.post(f"/clients/{known[0]}/reviews", json={**BODY, "reviewer": "c.durand"}, headers=reviewer)
    assert response.status_code == 400 and "reviewer" in response.json()["detail"]


@pytest.mark.parametrize(("change", "field"), [
    ({"reason": None}, "reason"),  # None: left out
    ({"reason": "   "}, "reason"),
    ({"reason": " a "}, "reason"),
    ({"reason": "x" * 2001}, "reason"),
    ({"reason": 12}, "reason"),
    ({"reason": "Motif\u0000caché"}, "reason"),
    ({"action": "approve"}, "action"),
    ({"action": None}, "action"),
    ({"request_id": "r 1"}, "request_id"),
    ({"decision": "accordé"}, "decision"),  # an unknown field
])
def test_a_bad_body_is_a_400_naming_the_field(api, reviewer, known, change, field):
    before = reviews_of(api, known[2])
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    response = api.post(f"/clients/{known[2]}/reviews", json=body, headers=reviewer)
    assert response.status_code == 400 and field in response.json()["detail"], response.json()
    assert reviews_of(api, known[2]) == before
