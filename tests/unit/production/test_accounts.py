"""People's accounts, applications' keys and the access log, on SQLite and PostgreSQL: passwords stored as argon2
hashes, one answer for an unknown name, a wrong password and a disabled account, a name locked after repeated
failures; keys stored as hashes with scopes, expiry and revocation; the access log append-only; and the
administrator's commands (`python -m app.users`), which never take a password as an argument."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.users.commands import main as users_main
from app.users.commands import read_password
from credit_scoring.production import accounts
from credit_scoring.production.accesses import client_accesses, create_access_table, record_accesses
from credit_scoring.production.events import create_store

PASSWORD = "un-mot-de-passe-assez-long"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else f"sqlite:///{tmp_path}/e.db"
    engine = create_store(url)
    accounts.create_account_tables(engine)
    create_access_table(engine)
    yield engine
    engine.dispose()


def fresh(prefix: str = "u") -> str:
    """A name of its own (the PostgreSQL database is shared by the session)."""
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def test_a_password_is_stored_as_an_argon2_hash_and_checked(engine):
    name = fresh()
    user = accounts.add_user(engine, name, "reviewer", PASSWORD)
    assert user.rights == frozenset({"score", "clients", "reviews"})
    with engine.connect() as connection:
        stored = connection.execute(select(accounts.users.c.password_hash)
                                    .where(accounts.users.c.name == name)).scalar_one()
    assert stored.startswith("$argon2") and PASSWORD not in stored
    assert accounts.authenticate(engine, name, PASSWORD).name == name


@pytest.mark.parametrize(("name", "role", "password", "field"), [
    ("a b", "advisor", PASSWORD, "name"), ("", "advisor", PASSWORD, "name"), ("x" * 65, "advisor", PASSWORD, "name"),
    ("ok.name", "boss", PASSWORD, "role"), ("ok.name", "advisor", "court", "password"),
])
def test_a_malformed_account_is_refused_naming_the_field(engine, name, role, password, field):
    with pytest.raises(accounts.AccountError) as refused:
        accounts.add_user(engine, name, role, password)
    assert refused.value.field == field


def test_a_name_is_taken_once(engine):
    name = fresh()
    accounts.add_user(engine, name, "advisor", PASSWORD)
    with pytest.raises(accounts.AccountError, match="exists already"):
        accounts.add_user(engine, name, "admin", PASSWORD)


def test_unknown_name_wrong_password_and_disabled_account_get_one_answer(engine):
    name = fresh()
    accounts.add_user(engine, name, "advisor", PASSWORD)
    accounts.set_enabled(engine, name, False)
    for who, password in ((fresh(), PASSWORD), (name, "wrong password"), (name, PASSWORD)):
        with pytest.raises(accounts.BadCredentials):
            accounts.authenticate(engine, who, password)
    accounts.set_enabled(engine, name, True)
    assert accounts.authenticate(engine, name, PASSWORD).enabled


def test_repeated_failures_lock_the_name_for_the_lock_time_known_or_not(engine):
    policy = accounts.LoginPolicy(max_failures=3, lock_seconds=60)
    name = fresh()
    accounts.add_user(engine, name, "advisor", PASSWORD)
    for who in (name, fresh("ghost")):
        for _ in range(3):
            with pytest.raises(accounts.BadCredentials):
                accounts.authenticate(engine, who, "wrong password", policy, NOW)
        with pytest.raises(accounts.Locked) as locked:
            accounts.authenticate(engine, who, PASSWORD, policy, NOW + timedelta(seconds=10))
        assert locked.value.retry_after == 50
    assert accounts.authenticate(engine, name, PASSWORD, policy, NOW + timedelta(seconds=61)).name == name


def test_a_success_clears_the_failures_and_a_reset_unlocks(engine):
    policy = accounts.LoginPolicy(max_failures=2, lock_seconds=600)
    name = fresh()
    accounts.add_user(engine, name, "advisor", PASSWORD)
    with pytest.raises(accounts.BadCredentials):
        accounts.authenticate(engine, name, "wrong password", policy, NOW)
    accounts.authenticate(engine, name, PASSWORD, policy, NOW)
    with pytest.raises(accounts.BadCredentials):  # one failure again: not yet two in a row
        accounts.authenticate(engine, name, "wrong password", policy, NOW)
    with pytest.raises(accounts.BadCredentials):
        accounts.authenticate(engine, name, "wrong password", policy, NOW)
    with pytest.raises(accounts.Locked):
        accounts.authenticate(engine, name, PASSWORD, policy, NOW)
    accounts.reset_password(engine, name, "un-autre-mot-de-passe")
    assert accounts.authenticate(engine, name, "un-autre-mot-de-passe", policy, NOW).name == name


def test_a_key_is_stored_as_its_hash_with_scopes_and_can_be_revoked(engine):
    owner = fresh()
    key, secret = accounts.create_key(engine, fresh("app"), owner, ["clients", "score"],
                                      datetime.now(UTC) + timedelta(days=30))
    assert secret.startswith(accounts.KEY_PREFIX) and key.scopes == ("score", "clients")
    with engine.connect() as connection:
        stored = connection.execute(select(accounts.api_keys.c.key_hash)
                                    .where(accounts.api_keys.c.id == key.id)).scalar_one()
    assert stored == accounts.hash_secret(secret) and secret not in stored
    found = accounts.find_key(engine, secret)
    assert found == key and found.valid(datetime.now(UTC))
    assert not found.valid(datetime.now(UTC) + timedelta(days=31))
    _, other_secret = accounts.create_key(engine, key.name, owner, ["score"])  # a rotation: both valid
    accounts.revoke_key(engine, key.id)
    assert not accounts.find_key(engine, secret).valid(datetime.now(UTC))
    assert accounts.find_key(engine, other_secret).valid(datetime.now(UTC))
    assert accounts.find_key(engine, "pad_not-a-key") is None
    with pytest.raises(accounts.AccountError, match="revoked already"):
        accounts.revoke_key(engine, key.id)


@pytest.mark.parametrize(("scopes", "expires", "field"), [
    ([], None, "scopes"), (["reviews"], None, "scopes"), (["everything"], None, "scopes"),
    (["score"], datetime(2020, 1, 1, tzinfo=UTC), "expires_at"),
])
def test_a_key_needs_known_scopes_and_a_future_expiry(engine, scopes, expires, field):
    with pytest.raises(accounts.AccountError) as refused:
        accounts.create_key(engine, "crm", "d.admin", scopes, expires)
    assert refused.value.field == field


def test_the_access_log_lists_a_client_s_accesses_newest_first_and_refuses_changes(engine):
    client = uuid.uuid4().int % 10**15
    record_accesses(engine, who="a.conseil", kind="user", route="GET /clients/{client_id}", request_id="r1",
                    client_ids=[client], at=NOW)
    record_accesses(engine, who="crm#k1", kind="key", route="GET /clients", request_id="r2",
                    client_ids=[client, client + 1], at=NOW + timedelta(minutes=1))
    assert record_accesses(engine, who="a.conseil", kind="user", route="GET /clients", request_id="r3",
                           client_ids=[]) == 1  # a request that revealed no client is still recorded
    found = client_accesses(engine, client)
    assert [(a.who, a.kind, a.request_id) for a in found] == [("crm#k1", "key", "r2"), ("a.conseil", "user", "r1")]
    with pytest.raises(ValueError, match="kind"):
        record_accesses(engine, who="x", kind="robot", route="GET /", request_id="r4", client_ids=[client])
    statements = ["UPDATE data_accesses SET who = 'x'", "DELETE FROM data_accesses"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE data_accesses")
    for statement in statements:
        with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert len(client_accesses(engine, client)) == 2


# -- python -m app.users ---------------------------------------------------------------------------------------
def users(tmp_path, monkeypatch, *argv: str, stdin: str = "") -> tuple[int, str]:
    monkeypatch.setenv("EVENTS_URL", f"sqlite:///{tmp_path / 'events.db'}")
    out = io.StringIO()
    return users_main(list(argv), io.StringIO(stdin), out), out.getvalue()


def test_the_commands_manage_accounts_and_keys(tmp_path, monkeypatch, capsys):
    assert users(tmp_path, monkeypatch, "add", "j.dupont", "--role", "reviewer", stdin=PASSWORD + "\n")[0] == 0
    code, listed = users(tmp_path, monkeypatch, "list")
    assert code == 0 and "j.dupont\treviewer\tenabled" in listed
    assert users(tmp_path, monkeypatch, "disable", "j.dupont")[0] == 0
    assert "j.dupont\treviewer\tdisabled" in users(tmp_path, monkeypatch, "list")[1]
    assert users(tmp_path, monkeypatch, "reset-password", "j.dupont", stdin="nouveau-mot-de-passe\n")[0] == 0
    assert users(tmp_path, monkeypatch, "enable", "j.dupont")[0] == 0
    engine = create_store(f"sqlite:///{tmp_path / 'events.db'}")
    assert accounts.authenticate(engine, "j.dupont", "nouveau-mot-de-passe").role == "reviewer"
    code, created = users(tmp_path, monkeypatch, "key", "create", "crm", "--owner", "j.dupont", "--scopes", "score",
                          "--days", "90")
    secret = created.strip().splitlines()[-1]
    key = accounts.find_key(engine, secret)
    assert code == 0 and key.scopes == ("score",) and key.expires_at is not None
    assert users(tmp_path, monkeypatch, "key", "revoke", key.id)[0] == 0
    assert f"{key.id}\tcrm\towner j.dupont\tscore\trevoked" in users(tmp_path, monkeypatch, "key", "list")[1]
    assert secret not in users(tmp_path, monkeypatch, "key", "list")[1]
    record_accesses(engine, who="j.dupont", kind="user", route="GET /clients/{client_id}", request_id="r1",
                    client_ids=[100002])
    code, accessed = users(tmp_path, monkeypatch, "accesses", "--client", "100002")
    assert code == 0 and "j.dupont (user)\tGET /clients/{client_id}\tr1" in accessed
    assert users(tmp_path, monkeypatch, "disable", "nobody")[0] == 2
    assert "refused: name: no account named 'nobody'" in capsys.readouterr().err
    engine.dispose()


def test_a_password_is_never_an_argument_and_is_typed_twice_on_a_terminal(tmp_path, monkeypatch):
    with pytest.raises(SystemExit):
        users(tmp_path, monkeypatch, "add", "j.dupont", "--role", "advisor", "--password", PASSWORD)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    typed = iter([PASSWORD, PASSWORD, PASSWORD, "another"])
    assert read_password(Terminal(), lambda _prompt: next(typed)) == PASSWORD
    with pytest.raises(accounts.AccountError, match="differ"):
        read_password(Terminal(), lambda _prompt: next(typed))
