"""Who is calling and what they may do: people by a short-lived signed token (OAuth2 password flow,
``Authorization: Bearer``), applications by a key (``X-API-Key``); each route declares the right it needs where
it is defined (`requires`), and its guard answers 401 (no valid credentials) or 403 (no such right).

Rights come from a person's role or a key's scopes (`credit_scoring.production.accounts`). The ``API_KEY``
environment variable is a bootstrap key holding every key scope (tests, demo, CI); its accesses are logged under
the name ``API_KEY``. A user's account and a key are read again from the store at most every few seconds, so a
disabled account or a revoked key is refused within `ACCOUNT_CACHE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cachetools import TTLCache
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import OAuthFlow, OAuthFlows, Operation, SecurityRequirement, SecurityScheme
from litestar.security.jwt import Token
from sqlalchemy import Engine

from app.api.store import event_store
from credit_scoring.production import accounts

API_KEY_HEADER = "X-API-Key"
TOKEN_URL = "/auth/token"
ALGORITHM = "HS256"
ACCOUNT_CACHE_SECONDS = 5.0
BOOTSTRAP = "API_KEY"
SECURITY_SCHEMES = {
    "bearer": SecurityScheme(type="oauth2", description="A person's token, from POST /auth/token",
                             flows=OAuthFlows(password=OAuthFlow(token_url=TOKEN_URL, scopes={}))),
    "apiKey": SecurityScheme(type="apiKey", name=API_KEY_HEADER, security_scheme_in="header",
                             description="An application's key (python -m app.users key create)"),
}
log = logging.getLogger("app.api")


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: a person (``user``, with a role) or an application (``key``)."""

    name: str
    kind: str
    rights: frozenset[str]
    role: str | None = None


class _NeedsStore(Exception):
    """A lookup that the caches cannot answer: the store must be read (off the event loop)."""


def _refused(detail: str) -> NotAuthorizedException:
    return NotAuthorizedException(detail=detail, headers={"WWW-Authenticate": "Bearer"})


class Authenticator:
    """Issues and reads people's tokens, and finds applications' keys, for one running API."""

    def __init__(self, secret: str | None, token_minutes: float, bootstrap_key: str | None) -> None:
        if secret is None:
            secret = secrets.token_urlsafe(48)
            log.warning("TOKEN_SECRET is not set: tokens are signed with a random secret made at start, and end "
                        "with this process")
        self._secret = secret
        self.token_lifetime = timedelta(minutes=token_minutes)
        self._bootstrap = bootstrap_key
        self._users: TTLCache = TTLCache(maxsize=10_000, ttl=ACCOUNT_CACHE_SECONDS)
        self._keys: TTLCache = TTLCache(maxsize=10_000, ttl=ACCOUNT_CACHE_SECONDS)
        self._lock = threading.Lock()

    def issue(self, user: accounts.User) -> tuple[str, int]:
        """A signed token for the user, and its lifetime in seconds."""
        now = datetime.now(UTC)
        token = Token(exp=now + self.token_lifetime, sub=user.name, iat=now, jti=secrets.token_hex(8))
        return token.encode(self._secret, ALGORITHM), int(self.token_lifetime.total_seconds())

    def _cached(self, cache: TTLCache, key: str, load: Callable[[Engine], object],
                engine: Callable[[], Engine] | None) -> object:
        with self._lock:
            if key in cache:
                return cache[key]
        if engine is None:
            raise _NeedsStore
        value = load(engine())
        with self._lock:
            cache[key] = value
        return value

    def from_token(self, encoded: str, engine: Callable[[], Engine] | None) -> Principal:
        try:
            token = Token.decode(encoded, self._secret, ALGORITHM, require_claims=["exp", "sub"])
        except NotAuthorizedException:  # a bad signature, an expired token, a claim missing or malformed
            raise _refused("Jeton invalide ou expiré : reconnectez-vous (POST /auth/token)") from None
        user = self._cached(self._users, token.sub, lambda e: accounts.find_user(e, token.sub), engine)
        if not isinstance(user, accounts.User) or not user.enabled:
            raise _refused("Ce compte est inconnu ou désactivé")
        return Principal(user.name, "user", user.rights, user.role)

    def from_key(self, given: str, engine: Callable[[], Engine] | None) -> Principal:
        if self._bootstrap and hmac.compare_digest(given.encode(), self._bootstrap.encode()):
            return Principal(BOOTSTRAP, "key", frozenset(accounts.KEY_SCOPES))
        key = self._cached(self._keys, accounts.hash_secret(given), lambda e: accounts.find_key(e, given), engine)
        if not isinstance(key, accounts.ApiKey) or not key.valid(datetime.now(UTC)):
            raise _refused(f"Clé d'API inconnue, révoquée ou expirée (en-tête {API_KEY_HEADER})")
        return Principal(f"{key.name}#{key.id}", "key", frozenset(key.scopes))

    def principal(self, connection: ASGIConnection, engine: Callable[[], Engine] | None) -> Principal:
        """The caller, or 401; `engine` None: from the caches only (or _NeedsStore)."""
        scheme, _, credentials = connection.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return self.from_token(credentials.strip(), engine)
        given = connection.headers.get(API_KEY_HEADER)
        if given:
            return self.from_key(given, engine)
        raise _refused("Authentification requise : un jeton (Authorization: Bearer, POST /auth/token) ou une "
                       f"clé d'application ({API_KEY_HEADER})")


async def authenticated(connection: ASGIConnection) -> Principal:
    """The request's principal, found once and kept in the scope (``request.user``)."""
    found = connection.scope.get("user")
    if isinstance(found, Principal):
        return found
    state = connection.app.state
    try:  # the bootstrap key and accounts seen in the last seconds: no thread, no store
        principal = state.authenticator.principal(connection, None)
    except _NeedsStore:
        principal = await asyncio.to_thread(state.authenticator.principal, connection, lambda: event_store(state))
    connection.scope["user"] = principal
    return principal


def _guard(right: str | None) -> Callable:
    async def guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
        principal = await authenticated(connection)
        if right is not None and right not in principal.rights:
            who = f"le rôle {principal.role}" if principal.role else "cette clé"
            raise PermissionDeniedException(detail=f"Accès refusé : {who} ne donne pas le droit « {right} »")

    guard.__name__ = f"requires_{right or 'someone'}"
    return guard


@dataclass
class SecuredOperation(Operation):
    """An operation of the OpenAPI document that names the right it needs (``x-required-right``; empty: anyone
    authenticated) and whether its answers are logged as personal data (``x-personal-data``)."""

    required_right: str | None = field(default=None, metadata={"alias": "x-required-right"})
    personal_data: bool | None = field(default=None, metadata={"alias": "x-personal-data"})


def _operation(right: str | None, personal: bool) -> type[Operation]:
    @dataclass
    class Secured(SecuredOperation):
        required_right: str | None = field(default=right or "", metadata={"alias": "x-required-right"})
        personal_data: bool | None = field(default=personal, metadata={"alias": "x-personal-data"})

    return Secured


def requires(right: str | None, *, personal_data: bool = False, keys: bool = True) -> dict:
    """A route's access rule, given where the route is declared: its guard, its OpenAPI security requirement,
    and whether its answers are personal data (then the access log records them, see `app.api.personal_data`).
    `right` None: anyone authenticated; `keys` False: people only."""
    security: list[SecurityRequirement] = [{"bearer": []}]
    if keys:
        security.append({"apiKey": []})
    return {"guards": [_guard(right)], "security": security, "operation_class": _operation(right, personal_data),
            "opt": {"right": right, "personal_data": personal_data}}
