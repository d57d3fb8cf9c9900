"""The prediction API (Litestar): scores, explanations and client data over the served model.

Run it with ``python -m app.api`` (`app/api/__main__.py` calls `main`) (``HOST``, default ``127.0.0.1``; ``PORT``,
default 8000; ``WORKERS``, uvicorn processes, default 1); every other setting comes from the environment too
(`app.api.settings`).

The routes are controllers by domain (`app.api.controllers`): the served model, scoring, one client, groups of
clients, and more; each route declares who may call it (`app.api.security`): people by a token, applications by
a key; the answers holding personal data are recorded in the access log (`app.api.personal_data`). OpenAPI 3.1 is
served at ``/schema`` (``/schema/openapi.json``). Concurrent ``/predict`` requests are scored together (see
`app.api.batcher.Batcher`), and a prediction is answered only once its event is committed to the event store (many
requests' events share a commit; a store that does not answer makes the request fail with 503).
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components

from app.api.contract import complete_contract, feature_choices
from app.api.controllers import CONTROLLERS
from app.api.dependencies import provide_filters
from app.api.errors import EXCEPTION_HANDLERS
from app.api.personal_data import AccessLog
from app.api.runtime import Scorer, provide_scorer
from app.api.security import API_KEY_HEADER, SECURITY_SCHEMES, Authenticator
from app.api.service import ScoringService
from app.api.settings import Settings
from app.api.workers import follow_master, name_master
from credit_scoring.production.events import EventWriter, create_store

log = logging.getLogger("app.api")


def serving(settings: Settings, service: ScoringService | None) -> Callable[[Litestar], AbstractAsyncContextManager]:
    """The lifespan: the service loaded (or the one given) and its scorer on the app's state, every queued
    prediction event written before the process exits."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        loaded = service or settings.load_service()
        feature_choices(app.openapi_schema, loaded.groups.comparable)  # known once the clients are loaded
        scorer = Scorer(loaded, EventWriter(create_store(settings.events_url)))
        app.state.scorer = scorer
        gc.collect()
        gc.freeze()  # the loaded clients never die: keep the collector from rescanning them under load
        log.info("serving model %s for %d known clients", loaded.bundle.model_version, len(loaded.table))
        follow_master()  # a worker ends with its master (see app.api.workers)
        try:
            yield
        finally:
            scorer.close()

    return lifespan


OPENAPI = OpenAPIConfig(
    title="Prêt à dépenser — credit scoring API", version="1.0.0",
    description="Probability of default, decision, explanations and client data for relationship managers' "
                "tools. People sign in at POST /auth/token (OAuth2 password flow) and send the token as "
                f"`Authorization: Bearer`; applications send their key in the `{API_KEY_HEADER}` header. Each "
                "operation shows the schemes it accepts; answers holding a client's personal data are recorded in "
                "the access log.",
    components=Components(security_schemes=SECURITY_SCHEMES),
)


def create_app(settings: Settings | None = None, service: ScoringService | None = None) -> Litestar:
    """The API over the pipeline's outputs (or over a given service, for tests)."""
    settings = settings or Settings.from_env()
    headers = ["Content-Type", "Authorization", API_KEY_HEADER]
    cors = CORSConfig(allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                      allow_headers=headers) if settings.cors_origins else None
    app = Litestar(
        route_handlers=CONTROLLERS,
        dependencies={"scorer": Provide(provide_scorer, sync_to_thread=False),
                      "filters": Provide(provide_filters, sync_to_thread=False)},
        lifespan=[serving(settings, service)],
        state=State({"settings": settings,
                     "authenticator": Authenticator(settings.token_secret, settings.token_minutes, settings.api_key)}),
        middleware=[RateLimitConfig(rate_limit=settings.rate_limit).middleware, AccessLog()],
        cors_config=cors,
        request_max_body_size=settings.max_body_bytes,
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OPENAPI,
        debug=False,
    )
    complete_contract(app)  # every status and constraint the server enforces, in /schema/openapi.json
    return app


# Applied by uvicorn in every worker process (a basicConfig in main() would reach the first one only).
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {name: {"handlers": ["stderr"], "level": level, "propagate": False}
                for name, level in (("app", "INFO"), ("credit_scoring", "INFO"), ("uvicorn", "WARNING"))},
}


def main() -> None:
    import uvicorn

    settings = Settings.from_env()  # refuse a malformed configuration before any worker starts
    workers = int(os.environ.get("WORKERS", "1"))
    if workers > 1 and settings.token_secret is None:
        raise SystemExit("TOKEN_SECRET is required with several WORKERS: each process would otherwise sign tokens "
                         "with its own random secret, and refuse the others'")
    name_master(workers)
    uvicorn.run("app.api.server:create_app", factory=True, host=os.environ.get("HOST", "127.0.0.1"),
                port=int(os.environ.get("PORT", "8000")), workers=workers,
                log_config=LOG_CONFIG, access_log=False)

