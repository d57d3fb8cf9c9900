"""Who may call what, read from the OpenAPI document (no list of routes written here): every operation is called
without credentials, with each role's token, with the bootstrap key, with an expired and with a tampered token;
each answer is the one its declared security and right call for. Every answered personal-data request has its
access record. Sign-in is throttled, and neither passwords nor tokens reach the logs."""

from __future__ import annotations

import logging
import re
import time  # the accounts' cache time is waited out, never measured
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from litestar.security.jwt import Token
from litestar.testing import TestClient

from app.api.server import create_app
from app.api.settings import Settings
from credit_scoring.production import accounts
from credit_scoring.production.accesses import client_accesses, request_accesses
from credit_scoring.production.events import create_store
from tests.conftest import API_KEY, PASSWORD, PEOPLE, add_people, signed_in

SECRET = "a-token-secret-for-the-tests-only-0123456789"
KEY = {"X-API-Key": API_KEY}
PERSONAL_PATHS = re.compile(r"^/(clients|population|outcomes|recourse)")


@pytest.fixture(scope="module")
def events_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('access') / 'events.db'}"


@pytest.fixture(scope="module")
def api(service, events_url):
    add_people(events_url)
    settings = Settings(api_key=API_KEY, events_url=events_url, rate_limit=("second", 100_000),
                        token_secret=SECRET)
    with TestClient(create_app(settings, service=service)) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(api) -> dict[str, dict]:
    return {name: signed_in(api, name) for name in PEOPLE}


@pytest.fixture(scope="module")
def operations(api) -> list[tuple[str, str, dict]]:
    document = api.get("/schema/openapi.json").json()
    return [(method, path, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in ("get", "post")]


@pytest.fixture(scope="module")
def known(service) -> int:
    return int(service.table.index[0])


def call(api, method: str, path: str, operation: dict, known: int, headers: dict) -> httpx.Response:
    """The operation on a known client, with its required query parameters from their schema (first allowed value,
    or a comparable feature), an empty JSON body where it takes one (the right is judged before the body)."""
    params = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter.get("required"):
            schema = parameter.get("schema", {})
            params[parameter["name"]] = (schema.get("enum") or ["AMT_CREDIT"])[0]
    url = path.replace("{client_id}", str(known))
    if method == "post":
        if path == "/auth/token":
            return api.post(url, data={"username": "a.conseil", "password": PASSWORD}, headers=headers)
        return api.post(url, json={}, params=params, headers=headers)
    return api.get(url, params=params, headers=headers)


def expired_token(name: str) -> str:
    """Signed with the server's secret, ended an hour ago (Litestar's Token refuses to make one: PyJWT does)."""
    past = datetime.now(UTC) - timedelta(hours=1)
    return jwt.encode({"sub": name, "exp": past, "iat": past - timedelta(minutes=30)}, SECRET, algorithm="HS256")


def empty_subject() -> str:
    """Signed with the server's secret, naming nobody."""
    return jwt.encode({"sub": "", "exp": datetime.now(UTC) + timedelta(minutes=5)}, SECRET, algorithm="HS256")


def tampered_token(bearer: dict) -> str:
    """A reviewer's valid token whose payload now names the admin: the signature no longer matches."""
    head, _, signature = bearer["Authorization"].removeprefix("Bearer ").split(".")
    other = Token(exp=datetime.now(UTC) + timedelta(minutes=5), sub="d.admin").encode(SECRET, "HS256")
    return f"{head}.{other.split('.')[1]}.{signature}"


def test_personal_data_routes_all_declare_their_security(operations):
    for method, path, operation in operations:
        if PERSONAL_PATHS.match(path) or path.startswith("/predict"):
            assert operation.get("security"), f"{method.upper()} {path} is public"
            assert {"401", "403"} <= set(operation["responses"]), f"{method.upper()} {path}"
    public = [f"{m.upper()} {p}" for m, p, op in operations if not op.get("security")]
    assert public and all(not PERSONAL_PATHS.match(p.split()[1]) for p in public), public


def test_every_operation_answers_each_caller_as_its_security_says(api, operations, tokens, known, events_url):
    engine = create_store(events_url)
    checked = 0
    for method, path, operation in operations:
        where = f"{method.upper()} {path}"
        security = [next(iter(s)) for s in operation.get("security") or []]
        right = operation.get("x-required-right") or None
        anonymous = call(api, method, path, operation, known, {})
        if not security:
            assert anonymous.status_code == 200, where
            continue
        assert anonymous.status_code == 401, (where, anonymous.text)
        for bad in (expired_token("r.revue"), tampered_token(tokens["r.revue"]), "not.a.token", empty_subject()):
            refused = call(api, method, path, operation, known, {"Authorization": f"Bearer {bad}"})
            assert refused.status_code == 401, (where, bad, refused.text)
        assert call(api, method, path, operation, known, {"X-API-Key": "wrong"}).status_code == 401, where
        callers = {name: (tokens[name], right is None or right in accounts.ROLE_RIGHTS[role], name)
                   for name, role in PEOPLE.items()}
        callers["key"] = (KEY, "apiKey" in security and (right is None or right in accounts.KEY_SCOPES), "API_KEY")
        for caller, (headers, allowed, who) in callers.items():
            answer = call(api, method, path, operation, known, headers)
            if not allowed:
                assert answer.status_code == 403, (where, caller, answer.status_code, answer.text)
                continue
            assert answer.status_code not in (401, 403), (where, caller, answer.text)
            checked += 1
            if operation.get("x-personal-data") and answer.is_success:
                request_id = answer.headers.get("X-Request-Id") or answer.json().get("request_id")
                recorded = request_accesses(engine, request_id)
                assert recorded and {a.who for a in recorded} == {who}, (where, caller)
                assert {a.route for a in recorded} == {where}, (where, recorded)
    engine.dispose()
    assert checked > 20


def test_an_advisor_s_readings_answer_the_client_s_article_15_question(api, tokens, known, events_url):
    sheet = api.get(f"/clients/{known}", headers=tokens["a.conseil"])
    assert sheet.status_code == 200
    listed = api.get(f"/clients/{known}/accesses", headers=tokens["d.admin"]).json()
    newest = listed["accesses"][0]
    assert newest["who"] == "a.conseil" and newest["route"] == "GET /clients/{client_id}"
    assert newest["request_id"] == sheet.headers["X-Request-Id"]
    engine = create_store(events_url)
    assert client_accesses(engine, known)[0].who == "d.admin"  # reading the log is itself recorded
    engine.dispose()


def test_the_access_log_refuses_changes(events_url):
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    engine = create_store(events_url)
    for statement in ("UPDATE data_accesses SET who = 'x'", "DELETE FROM data_accesses"):
        with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    engine.dispose()


def test_a_disabled_account_and_a_revoked_key_are_refused_within_the_cache_time(api, events_url, known):
    from app.api.security import ACCOUNT_CACHE_SECONDS

    engine = create_store(events_url)
    accounts.add_user(engine, "t.temporaire", "advisor", PASSWORD)
    token = signed_in(api, "t.temporaire")
    key, secret = accounts.create_key(engine, "crm", "d.admin", ["clients"])
    assert api.get(f"/clients/{known}", headers=token).status_code == 200
    assert api.get(f"/clients/{known}", headers={"X-API-Key": secret}).status_code == 200
    assert api.post("/predict", json={}, headers={"X-API-Key": secret}).status_code == 403  # no `score` scope
    accounts.set_enabled(engine, "t.temporaire", False)
    accounts.revoke_key(engine, key.id)
    time.sleep(ACCOUNT_CACHE_SECONDS + 0.5)
    assert api.get(f"/clients/{known}", headers=token).status_code == 401
    assert api.get(f"/clients/{known}", headers={"X-API-Key": secret}).status_code == 401
    engine.dispose()


def test_twenty_wrong_passwords_lock_the_name_in_bounded_time_known_or_not(api_service, monkeypatch):
    """On the real server, with the production password hash (the account's hash is made with it, and an unknown
    name costs the server its own decoy hash): the first failures are 401, then 429 with Retry-After, the right
    password included, for the lock time; an unknown name gets the same answers. Each answer comes within the
    client's 3-second timeout (a timeout bounds the wait: no clock is read here)."""
    from pwdlib import PasswordHash

    monkeypatch.setattr(accounts, "_hasher", PasswordHash.recommended)
    engine = create_store(api_service.events_url)
    accounts.add_user(engine, "v.verrou", "advisor", PASSWORD)
    engine.dispose()
    policy = Settings().login  # the server runs with the default policy
    answers: dict[str, list[int]] = {}
    with httpx.Client(base_url=api_service.url, timeout=3.0) as client:
        for name in ("v.verrou", "personne.inconnue"):
            answers[name] = []
            for _ in range(20):
                answer = client.post("/auth/token", data={"username": name, "password": "pas le bon"})
                answers[name].append(answer.status_code)
            assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
        locked = client.post("/auth/token", data={"username": "v.verrou", "password": PASSWORD})
    assert answers["v.verrou"] == [401] * policy.max_failures + [429] * (20 - policy.max_failures)
    assert answers["personne.inconnue"] == answers["v.verrou"]
    assert locked.status_code == 429


def test_bad_login_bodies_are_400_naming_the_field(api):
    for body, field in (({"password": "x"}, "username"), ({"username": "x"}, "password")):
        answer = api.post("/auth/token", data=body)
        assert answer.status_code == 400 and field in answer.text, answer.text


def test_neither_passwords_nor_tokens_reach_the_logs(api, known, caplog, api_service):
    caplog.set_level(logging.DEBUG)
    wrong = "un-mot-de-passe-faux-1234"
    api.post("/auth/token", data={"username": "a.conseil", "password": wrong})
    bearer = signed_in(api, "a.conseil")
    api.get(f"/clients/{known}", headers=bearer)
    api.get("/clients/1", headers=bearer)  # a 404 is logged
    token = bearer["Authorization"].removeprefix("Bearer ")
    with httpx.Client(base_url=api_service.url, timeout=30) as http:  # and the real server's own log file
        http.post("/auth/token", data={"username": "a.conseil", "password": wrong})
        served = signed_in(http, "a.conseil")
        http.get(f"/clients/{known}", headers=served)
        http.get("/clients/1", headers=served)
    logged = caplog.text + api_service.log.read_text()
    for secret in (PASSWORD, wrong, token, served["Authorization"].removeprefix("Bearer "), API_KEY):
        assert secret not in logged
