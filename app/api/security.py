"""The API key of the personal-data routes: a Litestar guard on the clients and population controllers."""

from __future__ import annotations

import hmac

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, ServiceUnavailableException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityRequirement, SecurityScheme

API_KEY_HEADER = "X-API-Key"
API_KEY_SCHEME = SecurityScheme(type="apiKey", name=API_KEY_HEADER, security_scheme_in="header")
API_KEY_REQUIRED: tuple[SecurityRequirement, ...] = ({"apiKey": []},)


def require_api_key(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """Refuses a request without the server's key (503 when the server has none: personal data stay closed)."""
    expected = connection.app.state.settings.api_key
    if not expected:
        raise ServiceUnavailableException(detail="Accès aux données clients désactivé : la variable API_KEY "
                                                 "n'est pas définie sur le serveur")
    given = connection.headers.get(API_KEY_HEADER, "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise NotAuthorizedException(detail=f"Clé d'API absente ou invalide (en-tête {API_KEY_HEADER})")
