"""Who may use the API: people's accounts (a role each, an argon2 password hash) and applications' keys (scopes,
an owner, a creation date, an optional expiry; stored as a SHA-256 hash, shown once), in the event store's
database (SQLite file by default, PostgreSQL by EVENTS_URL).

Roles grant rights; a key grants the rights named by its scopes:

- ``advisor`` (relationship manager): score, client data (sheet, explanation, similar clients, population,
  recourse, letter, reviews read);
- ``reviewer``: the advisor's rights, and recording a review of a decision (signed by the person, never a key);
- ``risk``: loan outcomes (the monitor reads the store directly), no client data;
- ``admin``: the access log (users and keys are managed by ``python -m app.users``).

Repeated wrong passwords lock a name for a while (`LoginPolicy`): the count is kept per name typed, whether or
not an account has it, so that the answers never tell which names exist.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from pwdlib import PasswordHash
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from credit_scoring.production.events import UTCDateTime, create_tables

RIGHTS = ("score", "clients", "reviews", "outcomes", "accesses")
ROLE_RIGHTS: dict[str, frozenset[str]] = {
    "advisor": frozenset({"score", "clients"}),
    "reviewer": frozenset({"score", "clients", "reviews"}),
    "risk": frozenset({"outcomes"}),
    "admin": frozenset({"accesses"}),
}
ROLES = tuple(ROLE_RIGHTS)
KEY_SCOPES = ("score", "clients", "outcomes", "accesses")  # a review is signed by a person: no key records one
NAME_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"  # the reviewer's identifier of `credit_scoring.production.reviews`
PASSWORD_LENGTH = (12, 256)
KEY_PREFIX = "pad_"  # "Prêt à dépenser": lets secret scanners recognise a leaked key

metadata = MetaData()
users = Table(
    "users", metadata,
    Column("name", Text, primary_key=True),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("password_changed_at", UTCDateTime(), nullable=False),
    CheckConstraint(f"role IN ({', '.join(repr(r) for r in ROLES)})", name="user_role_known"),
)
api_keys = Table(
    "api_keys", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),  # the application
    Column("owner", Text, nullable=False),  # the person answerable for it
    Column("scopes", Text, nullable=False),  # space-separated, of KEY_SCOPES
    Column("key_hash", Text, nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
)
login_failures = Table(
    "login_failures", metadata,
    Column("name", Text, primary_key=True),  # as typed: unknown names are counted too
    Column("failures", Integer, nullable=False),
    Column("locked_until", UTCDateTime(), nullable=True),
)


class AccountError(ValueError):
    """A refused account operation; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class BadCredentials(Exception):
    """Unknown name, wrong password or disabled account: the same answer for all three."""


class Locked(Exception):
    """Too many wrong passwords for this name: refused, whatever the password, for `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"locked for {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5  # wrong passwords in a row before the lock
    lock_seconds: int = 900


@dataclass(frozen=True)
class User:
    name: str
    role: str
    enabled: bool
    created_at: datetime
    password_changed_at: datetime

    @property
    def rights(self) -> frozenset[str]:
        return ROLE_RIGHTS[self.role]


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    owner: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def valid(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()  # argon2id with pwdlib's parameters


@cache
def _decoy_hash() -> str:
    """A hash verified when the name is unknown, so that an unknown name costs the time of a known one."""
    return _hasher().hash(secrets.token_urlsafe(16))


def create_account_tables(engine: Engine) -> None:
    for table in (users, api_keys, login_failures):
        create_tables(engine, table)


def checked_name(name: str, field: str = "name") -> str:
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise AccountError(field, f"1 to 64 letters (no accent), digits, '.', '_' or '-', got {name!r}")
    return name


def _checked_password(password: str) -> str:
    low, high = PASSWORD_LENGTH
    if not isinstance(password, str) or not low <= len(password) <= high:
        raise AccountError("password", f"a password of {low} to {high} characters is required")
    return password


def _user(row) -> User:
    return User(name=row.name, role=row.role, enabled=bool(row.enabled), created_at=row.created_at,
                password_changed_at=row.password_changed_at)


def add_user(engine: Engine, name: str, role: str, password: str) -> User:
    """A new enabled account (AccountError if the name is taken or malformed, the role unknown or the password
    too short)."""
    checked_name(name)
    if role not in ROLES:
        raise AccountError("role", f"one of {', '.join(ROLES)}, got {role!r}")
    digest = _hasher().hash(_checked_password(password))
    now = datetime.now(UTC)
    with engine.begin() as connection:
        if connection.execute(select(users.c.name).where(users.c.name == name)).first() is not None:
            raise AccountError("name", f"an account named {name!r} exists already")
        connection.execute(insert(users), {"name": name, "role": role, "password_hash": digest, "enabled": True,
                                           "created_at": now, "password_changed_at": now})
    return User(name, role, True, now, now)


def find_user(engine: Engine, name: str) -> User | None:
    with engine.connect() as connection:
        row = connection.execute(select(users).where(users.c.name == name)).first()
    return None if row is None else _user(row)


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as connection:
        return [_user(row) for row in connection.execute(select(users).order_by(users.c.name))]


def _change_user(engine: Engine, name: str, **values) -> None:
    with engine.begin() as connection:
        if connection.execute(update(users).where(users.c.name == name).values(**values)).rowcount == 0:
            raise AccountError("name", f"no account named {name!r}")
        connection.execute(delete(login_failures).where(login_failures.c.name == name))


def set_enabled(engine: Engine, name: str, enabled: bool) -> None:
    """Disable (or enable again) an account; its tokens are refused from the next request on."""
    _change_user(engine, name, enabled=enabled)


def reset_password(engine: Engine, name: str, password: str) -> None:
    """A new password, and the name unlocked."""
    digest = _hasher().hash(_checked_password(password))
    _change_user(engine, name, password_hash=digest, password_changed_at=datetime.now(UTC))


def _failure(connection, name: str, now: datetime, policy: LoginPolicy) -> None:
    row = connection.execute(select(login_failures).where(login_failures.c.name == name)).first()
    failures = (row.failures if row is not None else 0) + 1
    locked_until = now + timedelta(seconds=policy.lock_seconds) if failures >= policy.max_failures else None
    values = {"failures": 0 if locked_until else failures, "locked_until": locked_until}
    if row is None:
        connection.execute(insert(login_failures), {"name": name, **values})
    else:
        connection.execute(update(login_failures).where(login_failures.c.name == name).values(**values))


def authenticate(engine: Engine, name: str, password: str, policy: LoginPolicy = LoginPolicy(),
                 now: datetime | None = None) -> User:
    """The enabled user whose password this is; BadCredentials otherwise (one answer for an unknown name, a wrong
    password and a disabled account), Locked while the name is locked, whatever the password."""
    now = now or datetime.now(UTC)
    name = name if isinstance(name, str) else ""
    with engine.connect() as connection:
        lock = connection.execute(select(login_failures.c.locked_until)
                                  .where(login_failures.c.name == name)).scalar()
        row = connection.execute(select(users).where(users.c.name == name)).first()
    if lock is not None and lock > now:
        raise Locked(max(1, int((lock - now).total_seconds() + 0.999)))
    digest = row.password_hash if row is not None else _decoy_hash()
    matches = isinstance(password, str) and _hasher().verify(password, digest)
    if matches and row is not None and row.enabled:
        with engine.begin() as connection:
            connection.execute(delete(login_failures).where(login_failures.c.name == name))
        return _user(row)
    try:
        with engine.begin() as connection:
            _failure(connection, name, now, policy)
    except IntegrityError:  # another process counted a failure of this name at the same moment: retried once
        with engine.begin() as connection:
            _failure(connection, name, now, policy)
    raise BadCredentials()


def hash_secret(secret: str) -> str:
    """A key's stored form: its SHA-256 (a key is 256 random bits, so no slow hash is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(row) -> ApiKey:
    return ApiKey(id=row.id, name=row.name, owner=row.owner, scopes=tuple(row.scopes.split()),
                  created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at)


def create_key(engine: Engine, name: str, owner: str, scopes: list[str],
               expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key for application `name`, answerable to `owner`; the key and its secret (shown once, stored only
    as a hash)."""
    checked_name(name)
    checked_name(owner, "owner")
    unknown = sorted(set(scopes) - set(KEY_SCOPES))
    if not scopes or unknown:
        raise AccountError("scopes", f"one or more of {', '.join(KEY_SCOPES)}"
                                     + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    now = datetime.now(UTC)
    if expires_at is not None and expires_at <= now:
        raise AccountError("expires_at", "the expiry must be in the future")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(id="k" + secrets.token_hex(4), name=name, owner=owner,
                 scopes=tuple(s for s in KEY_SCOPES if s in scopes), created_at=now, expires_at=expires_at,
                 revoked_at=None)
    with engine.begin() as connection:
        connection.execute(insert(api_keys), {"id": key.id, "name": name, "owner": owner,
                                              "scopes": " ".join(key.scopes), "key_hash": hash_secret(secret),
                                              "created_at": now, "expires_at": expires_at})
    return key, secret


def revoke_key(engine: Engine, key_id: str) -> None:
    with engine.begin() as connection:
        changed = connection.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                                     .values(revoked_at=datetime.now(UTC))).rowcount
    if changed == 0:
        raise AccountError("id", f"no key {key_id!r} that is not revoked already")


def list_keys(engine: Engine) -> list[ApiKey]:
    with engine.connect() as connection:
        return [_key(row) for row in connection.execute(select(api_keys).order_by(api_keys.c.created_at))]


def find_key(engine: Engine, secret: str) -> ApiKey | None:
    """The key whose secret this is (valid or not), else None."""
    with engine.connect() as connection:
        row = connection.execute(select(api_keys).where(api_keys.c.key_hash == hash_secret(secret))).first()
    return None if row is None else _key(row)
