"""The access log's middleware: a route declared with personal data (`app.api.security.requires`) is answered only
once its access rows are committed (`credit_scoring.production.accesses`): who (the request's principal), which
clients, which route, when, under which request id. A store that does not take them turns the answer into a 503:
nothing personal is answered without its record.

The clients of a request are those its answer or its question names: the ``client_id`` path parameter, the
``ids`` query parameter, every ``sk_id_curr`` or ``client_id`` in the JSON answer, and those a handler adds to
``request.state.accessed_clients`` (loan outcomes name them in the request body). The request id is the one the
answer carries (a prediction's ``request_id``, or the ``X-Request-Id`` header); otherwise a new one, sent in the
``X-Request-Id`` header.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Iterator

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.api.security import Principal
from app.api.store import event_store
from credit_scoring.production.accesses import record_accesses

REQUEST_ID_HEADER = b"x-request-id"
CLIENT_KEYS = ("sk_id_curr", "client_id")
CONVERTER = re.compile(r"{(\w+):\w+}")  # /clients/{client_id:int} -> /clients/{client_id}, as OpenAPI writes it
log = logging.getLogger("app.api")


def _ids_in(value) -> Iterator[int]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in CLIENT_KEYS and isinstance(item, int) and not isinstance(item, bool):
                yield item
            else:
                yield from _ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ids_in(item)


def _json(body: bytes, content_type: str):
    """The answer's JSON value, or None when it is not JSON (a letter's PDF)."""
    if not content_type.startswith("application/json") or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def accessed_clients(scope: Scope, answer) -> set[int]:
    """The clients a request reveals: path, query, the JSON answer (parsed) and what the handler added."""
    found = set(scope.get("state", {}).get("accessed_clients", ()))
    client_id = scope.get("path_params", {}).get("client_id")
    if isinstance(client_id, int):
        found.add(client_id)
    query = scope.get("query_string", b"").decode("latin-1")
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "ids":
            found.update(int(i) for i in value.replace("%2C", ",").replace("%2c", ",").split(",") if i.isdigit())
    found.update(_ids_in(answer))
    return found


def _request_id(headers: list[tuple[bytes, bytes]], answer) -> str | None:
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER:
            return value.decode("latin-1")
    if isinstance(answer, dict) and isinstance(answer.get("request_id"), str):
        return answer["request_id"]
    return None


def _unavailable() -> list[Message]:
    body = json.dumps({"status_code": 503, "detail": "Le journal des accès ne répond pas : la réponse, qui "
                                                     "contient des données personnelles, n'est pas envoyée. "
                                                     "Réessayez plus tard."}).encode()
    return [{"type": "http.response.start", "status": 503,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]},
            {"type": "http.response.body", "body": body, "more_body": False}]


class AccessLog(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        handler = scope.get("route_handler")
        if handler is None or not handler.opt.get("personal_data"):
            await next_app(scope, receive, send)
            return
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await next_app(scope, receive, keep)
        start = messages[0] if messages else None
        principal = scope.get("user")
        if start is not None and start["status"] < 400 and isinstance(principal, Principal):
            messages = await self._recorded(scope, messages, principal)
        for message in messages:
            await send(message)

    @staticmethod
    async def _recorded(scope: Scope, messages: list[Message], principal: Principal) -> list[Message]:
        start = messages[0]
        headers = list(start.get("headers", []))
        content_type = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), "")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        answer = _json(body, content_type)  # parsed once, for the request id and the clients
        request_id = _request_id(headers, answer)
        if request_id is None:
            request_id = uuid.uuid4().hex
            start = {**start, "headers": [*headers, (REQUEST_ID_HEADER, request_id.encode())]}
        template = CONVERTER.sub(r"{\1}", scope.get("path_template") or scope["path"])
        route = f"{scope['method']} {template}"
        clients = accessed_clients(scope, answer)
        state = scope["app"].state
        try:
            await asyncio.to_thread(lambda: record_accesses(event_store(state), who=principal.name,
                                                            kind=principal.kind, route=route,
                                                            request_id=request_id, client_ids=clients))
        except Exception:
            log.exception("access log not written for %s (request %s): answered 503", route, request_id)
            return _unavailable()
        return [start, *messages[1:]]
