"""The prediction API (Litestar): scores, explanations and client data over the served model.

Run it with ``python -m app.api``. Configuration comes from the environment only:

- ``MODEL_DIR`` (default ``models/champion``), ``EXPLAIN_DIR`` (default ``models/explain``) and ``DATA_DIR``
  (default ``data``: the known clients, from ``data/prepared`` and ``data/features``);
- ``DATABASE_URL`` (and ``DATABASE_SCHEMA``, default ``bank``): read the known clients from the bank database
  instead (`stages.bankdb`), as its read-only role: a PostgreSQL role that may write is refused;
- ``HOST`` (default ``127.0.0.1``), ``PORT`` (default 8000), ``WORKERS`` (uvicorn processes, default 1);
- ``API_KEY``: the key ``/clients…`` and ``/population…`` require in the ``X-API-Key`` header (personal data);
  without it those routes answer 503;
- ``EVENTS_URL``: the prediction event store (default ``sqlite:///events.db``; a PostgreSQL URL works);
- ``RATE_LIMIT`` (requests per client address, default ``100/second``; units second, minute, hour, day);
- ``CORS_ORIGINS``: comma-separated origins allowed to call from a browser (default none);
- ``MAX_BODY_BYTES`` (default 4 MB).

OpenAPI 3.1 is served at ``/schema`` (``/schema/openapi.json``). Concurrent ``/predict`` requests are scored
together (see `Batcher`), and every prediction is queued to the event store without waiting for it.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import logging
import math
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Literal

import msgspec
from litestar import Litestar, Request, Response, Router, get, post
from litestar.config.cors import CORSConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    ServiceUnavailableException,
    ValidationException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, Example, SecurityScheme
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from app.schemas import (
    EXAMPLE,
    MAX_BATCH,
    Application,
    BatchPrediction,
    BatchRequest,
    ClientList,
    ClientSheet,
    Explanation,
    FeatureInfo,
    Health,
    ModelInfo,
    Points,
    Population,
    Prediction,
    Similar,
    application_fields,
)
from app.service import PROBABILITY, SIMILARITY, Filters, ScoringService, UnknownClient
from credit_scoring.events import EventWriter, create_store

log = logging.getLogger("app.api")
API_KEY_HEADER = "X-API-Key"


@dataclass(frozen=True)
class Settings:
    model_dir: str = "models/champion"
    explain_dir: str = "models/explain"
    data_dir: str = "data"
    api_key: str | None = None
    events_url: str | None = None
    rate_limit: tuple[str, int] = ("second", 100)
    cors_origins: list[str] = field(default_factory=list)
    max_body_bytes: int = 4_000_000
    database_url: str | None = None
    database_schema: str = "bank"

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            model_dir=env.get("MODEL_DIR", cls.model_dir),
            explain_dir=env.get("EXPLAIN_DIR", cls.explain_dir),
            data_dir=env.get("DATA_DIR", cls.data_dir),
            api_key=env.get("API_KEY") or None,
            events_url=env.get("EVENTS_URL") or None,
            rate_limit=parse_rate_limit(env.get("RATE_LIMIT", "100/second")),
            cors_origins=[o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip()],
            max_body_bytes=int(env.get("MAX_BODY_BYTES", cls.max_body_bytes)),
            database_url=env.get("DATABASE_URL") or None,
            database_schema=env.get("DATABASE_SCHEMA", cls.database_schema),
        )

    def load_service(self) -> ScoringService:
        """The known clients from the bank database when DATABASE_URL is set, else from the pipeline's files."""
        if self.database_url:
            return ScoringService.from_database(self.model_dir, self.explain_dir, self.database_url,
                                                self.database_schema)
        return ScoringService.load(self.model_dir, self.explain_dir, self.data_dir)


def parse_rate_limit(text: str) -> tuple[str, int]:
    """'100/second' -> ('second', 100); refuses anything else with a message saying what is expected."""
    count, _, unit = text.partition("/")
    if unit not in ("second", "minute", "hour", "day") or not count.strip().isdigit() or int(count) < 1:
        raise ValueError(f"RATE_LIMIT must look like '100/second' (second, minute, hour or day), got {text!r}")
    return unit, int(count)


class Batcher:
    """Scores concurrent requests together in one worker thread.

    Feature engineering and the model cost about as much for 30 rows as for one, so requests that arrive while a
    batch is being scored wait for the next batch instead of each paying that cost: no added delay when the API is
    idle, far more throughput under load. The event loop never blocks on scoring."""

    def __init__(self, score: Callable[[list], list], max_batch: int = 256) -> None:
        self._score = score
        self._max_batch = max_batch
        self._pending: list[tuple[object, asyncio.Future]] = []
        self._draining = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring")

    async def submit(self, item):
        future = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending[:self._max_batch], self._pending[self._max_batch:]
                try:
                    results = await loop.run_in_executor(self._executor, self._score, [item for item, _ in batch])
                except Exception as error:  # a scoring failure is the server's: every waiting request hears it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        if not future.done():
                            future.set_result(result)
        finally:
            self._draining = False

    def close(self) -> None:
        self._executor.shutdown(wait=True)


@dataclass
class Scored:
    """One application ready to score: the complete fields, the client id (or None) and when the request began."""

    application: dict
    client_id: int | None
    started: float


class Scorer:
    """The service, the batcher and the event writer of a running API."""

    def __init__(self, service: ScoringService, events: EventWriter) -> None:
        self.service = service
        self.events = events
        self.batcher = Batcher(self.score_batch)
        self.explainer = Batcher(self._explain_batch)

    def score_batch(self, items: list[Scored]) -> list[float]:
        return [float(p) for p in self.service.probabilities([i.application for i in items],
                                                             [i.client_id for i in items])]

    def _explain_batch(self, items: list[tuple[Scored, int]]) -> list[dict]:
        """Explanations of a batch, each with its own number of contributions."""
        most = max(top for _, top in items)
        explained = self.service.explanations([i.application for i, _ in items], [i.client_id for i, _ in items],
                                              most)
        return [{**e, "contributions": e["contributions"][:top]} for e, (_, top) in zip(explained, items, strict=True)]

    def prepare(self, application, started: float) -> Scored:
        client_id = application.SK_ID_CURR
        merged = self.service.merged_application(application_fields(application), client_id)  # or UnknownClient
        return Scored(merged, client_id, started)

    def record(self, item: Scored, probability: float, endpoint: str) -> Prediction:
        """The response for a scored application, its event queued for the store."""
        service = self.service
        prediction = Prediction(request_id=uuid.uuid4().hex, sk_id_curr=item.client_id, probability=probability,
                                decision=service.decision(probability), threshold=service.bundle.threshold,
                                model_version=service.bundle.model_version)
        self.events.put({
            "request_id": prediction.request_id, "model_version": prediction.model_version,
            "client_id": item.client_id, "inputs": {k: v for k, v in item.application.items() if k != "SK_ID_CURR"},
            "probability": probability, "decision": prediction.decision, "threshold": prediction.threshold,
            "latency_ms": (time.perf_counter() - item.started) * 1000.0, "endpoint": endpoint,
        })
        return prediction

    def close(self) -> None:
        self.batcher.close()
        self.explainer.close()
        self.events.close()


# -- dependencies, guards, errors ---------------------------------------------------------------------------
def provide_scorer(state: State) -> Scorer:
    return state.scorer


def require_api_key(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    expected = connection.app.state.settings.api_key
    if not expected:
        raise ServiceUnavailableException(detail="Accès aux données clients désactivé : la variable API_KEY "
                                                 "n'est pas définie sur le serveur")
    given = connection.headers.get(API_KEY_HEADER, "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise NotAuthorizedException(detail=f"Clé d'API absente ou invalide (en-tête {API_KEY_HEADER})")


def _non_finite_keys(body: bytes) -> list[str]:
    """Keys whose numbers overflow to infinity (msgspec's parser refuses them without saying where)."""
    found: list[str] = []

    def visit(value, path: str) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            found.append(path)
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, f"{path}[{index}]")

    try:
        visit(json.loads(body), "")
    except ValueError:
        pass
    return found


def strict_body(body_type: type) -> Callable:
    """A before-request hook decoding the JSON body strictly (no text for numbers, no numbers for text), as msgspec
    does by default: Litestar's own decoding is lax, turning "100002" into 100002. Errors name the field."""

    async def check(request: Request) -> None:
        body = await request.body()
        try:
            msgspec.json.decode(body, type=body_type)
        except msgspec.ValidationError as error:
            message, _, where = str(error).partition(" - at `$")
            key = where.rstrip("`").lstrip(".")
            raise ValidationException(detail=f"{key}: {message}" if key else message,
                                      extra=[{"key": key, "message": message, "source": "body"}]) from None
        except msgspec.DecodeError as error:
            keys = _non_finite_keys(body)
            detail = (f"{', '.join(keys)}: number too large (infinite values are refused)" if keys
                      else f"Malformed JSON body: {error}")
            raise ValidationException(detail=detail, extra=[{"key": k, "message": "not a finite number"}
                                                            for k in keys]) from None

    return check


def validation_error(_request: Request, error: ValidationException) -> Response:
    """A 400 whose detail names every field at fault ("AMT_CREDIT: Expected `float`, got `str`")."""
    problems = []
    for item in error.extra if isinstance(error.extra, list) else []:
        key = item.get("key") if isinstance(item, dict) else None
        message = item.get("message") if isinstance(item, dict) else str(item)
        problems.append(f"{key}: {message}" if key else str(message))
    detail = "; ".join(problems) or error.detail
    return Response({"status_code": 400, "detail": detail, "extra": error.extra}, status_code=400)


def internal_error(request: Request, error: Exception) -> Response:
    """Any unexpected error: logged with its traceback here, a plain sentence for the caller."""
    if isinstance(error, HTTPException):
        return Response({"status_code": error.status_code, "detail": error.detail, **(
            {"extra": error.extra} if error.extra else {})}, status_code=error.status_code, headers=error.headers)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return Response({"status_code": 500, "detail": "Erreur interne du service de score"},
                    status_code=HTTP_500_INTERNAL_SERVER_ERROR)


def unknown_client(_request: Request, error: UnknownClient) -> Response:
    return Response({"status_code": 404, "detail": str(error)}, status_code=404)


# -- routes without a key ------------------------------------------------------------------------------------
@get("/health", summary="Liveness and the served model version", sync_to_thread=False)
def health(scorer: Scorer) -> Health:
    return Health(status="ok", model_version=scorer.service.bundle.model_version,
                  clients=len(scorer.service.table))


@get("/model", summary="The served model: version, decision threshold, holdout metrics, features",
     sync_to_thread=False)
def model(scorer: Scorer) -> ModelInfo:
    bundle = scorer.service.bundle
    metrics = {k: float(v) if isinstance(v, (int, float)) else None for k, v in bundle.info.get("metrics", {}).items()}
    return ModelInfo(model_version=bundle.model_version, threshold=bundle.threshold,
                     cost={k: float(v) for k, v in bundle.info.get("cost", {}).items()}, metrics=metrics,
                     features=bundle.features)


@get("/features", summary="Features clients can be compared on (labels and units in French)", sync_to_thread=False)
def features(scorer: Scorer) -> list[FeatureInfo]:
    return [FeatureInfo(**f) for f in scorer.service.comparable]


@post("/predict", summary="Score one application", status_code=200, before_request=strict_body(Application))
async def predict(
    scorer: Scorer,
    data: Annotated[Application, Body(  # type: ignore[valid-type]
        description="Application fields by their Kaggle names (any subset) and optionally a known SK_ID_CURR",
        examples=[Example(summary="A known client, two fields changed (what if)",
                          value={"SK_ID_CURR": 100002, "AMT_CREDIT": 300000.0, "AMT_ANNUITY": 18000.0}),
                  Example(summary="A new applicant", value={k: v for k, v in EXAMPLE.items() if k != "SK_ID_CURR"})],
    )],
) -> Prediction:
    item = scorer.prepare(data, time.perf_counter())
    probability = await scorer.batcher.submit(item)
    return scorer.record(item, probability, "predict")


@post("/predict/batch", summary=f"Score up to {MAX_BATCH} applications", status_code=200,
      before_request=strict_body(BatchRequest))
async def predict_batch(scorer: Scorer, data: BatchRequest) -> BatchPrediction:
    started = time.perf_counter()
    items = []
    for index, application in enumerate(data.applications):
        try:
            items.append(scorer.prepare(application, started))
        except UnknownClient as error:
            raise NotFoundException(detail=f"applications[{index}]: {error}") from None
    loop = asyncio.get_running_loop()
    probabilities = await loop.run_in_executor(None, scorer.score_batch, items)
    return BatchPrediction([scorer.record(i, p, "predict_batch") for i, p in zip(items, probabilities, strict=True)])


# -- client data (key required) ------------------------------------------------------------------------------
ContractType = Literal["Cash loans", "Revolving loans"]


def _filters(contract_type: ContractType | None, gender: Literal["F", "M"] | None, age_min: float | None,
             age_max: float | None, income_min: float | None, income_max: float | None,
             decision: Literal["accordé", "refusé"] | None, ids: str | None = None) -> Filters:
    parsed = None
    if ids is not None:
        try:
            parsed = tuple(int(i) for i in ids.split(",") if i.strip())
        except ValueError:
            raise ValidationException(detail="ids: a comma-separated list of client ids (integers) is expected",
                                      extra=[{"key": "ids", "message": "comma-separated integers expected"}]) from None
        if len(parsed) > 1000:
            raise ValidationException(detail="ids: at most 1000 ids",
                                      extra=[{"key": "ids", "message": "at most 1000 ids"}])
    for name, low, high in (("age", age_min, age_max), ("income", income_min, income_max)):
        if low is not None and high is not None and low > high:
            raise ValidationException(detail=f"{name}_min must not exceed {name}_max",
                                      extra=[{"key": f"{name}_min", "message": f"greater than {name}_max"}])
    return Filters(contract_type, gender, age_min, age_max, income_min, income_max, decision, parsed)


AgeBound = Annotated[float | None, Parameter(ge=0, le=130, description="Age in years")]
IncomeBound = Annotated[float | None, Parameter(ge=0, le=1e9, description="Yearly income in €")]
FILTER_DOC = "Filters: contract type, gender, age band (years), income band (€/year), decision."


@get("/clients", summary="Known clients matching filters, with their score", description=FILTER_DOC,
     sync_to_thread=False)
def clients(
    scorer: Scorer, contract_type: ContractType | None = None, gender: Literal["F", "M"] | None = None,
    age_min: AgeBound = None, age_max: AgeBound = None, income_min: IncomeBound = None,
    income_max: IncomeBound = None, decision: Literal["accordé", "refusé"] | None = None,
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50, offset: Annotated[int, Parameter(ge=0)] = 0,
) -> ClientList:
    filters = _filters(contract_type, gender, age_min, age_max, income_min, income_max, decision)
    total, found = scorer.service.client_list(filters, limit, offset)
    return ClientList(total=total, clients=found)  # type: ignore[arg-type]


ClientId = Annotated[int, Parameter(ge=0, description="SK_ID_CURR")]


@get("/clients/{client_id:int}", summary="A client's descriptive information, in readable French",
     sync_to_thread=False)
def client(scorer: Scorer, client_id: ClientId) -> ClientSheet:
    return ClientSheet(**scorer.service.client_sheet(client_id))  # type: ignore[arg-type]


@get("/clients/{client_id:int}/score", summary="A known client's score and decision")
async def client_score(scorer: Scorer, client_id: ClientId) -> Prediction:
    started = time.perf_counter()
    item = Scored(scorer.service.merged_application({}, client_id), client_id, started)  # or UnknownClient
    probability = await scorer.batcher.submit(item)
    return scorer.record(item, probability, "client_score")


@get("/clients/{client_id:int}/explanation", summary="Why this score: reason codes and local contributions")
async def client_explanation(
    scorer: Scorer, client_id: ClientId, top: Annotated[int, Parameter(ge=1, le=30)] = 10,
) -> Explanation:
    started = time.perf_counter()
    service = scorer.service
    item = Scored(service.merged_application({}, client_id), client_id, started)  # or UnknownClient
    explained = await scorer.explainer.submit((item, top))
    prediction = scorer.record(item, explained["probability"], "client_explanation")
    return Explanation(sk_id_curr=client_id, decision=prediction.decision, threshold=prediction.threshold,
                       model_version=prediction.model_version, **explained)  # type: ignore[arg-type]


@get("/clients/{client_id:int}/similar", summary="The nearest known clients on the main features",
     description=f"Nearest on {', '.join(SIMILARITY)} (robust-scaled, amounts on a log scale).",
     sync_to_thread=False)
def client_similar(
    scorer: Scorer, client_id: ClientId, k: Annotated[int, Parameter(ge=1, le=200)] = 10,
) -> Similar:
    service = scorer.service
    neighbours = []
    for neighbour, distance in service.similar(client_id, k):
        row = service.row(neighbour)
        neighbours.append({"sk_id_curr": neighbour, "distance": distance, "probability": float(row[PROBABILITY]),
                           "decision": row["DECISION"], "values": service.values(row)})
    return Similar(sk_id_curr=client_id, features=SIMILARITY, neighbors=neighbours)  # type: ignore[arg-type]


def _feature(service: ScoringService, name: str, key: str, kind: str | None = None) -> str:
    names = [f["name"] for f in service.comparable if kind is None or f["kind"] == kind]
    if name not in names:
        raise ValidationException(detail=f"{key}: unknown feature {name!r}; one of {', '.join(names)}",
                                  extra=[{"key": key, "message": f"unknown feature {name!r}"}])
    return name


@get("/population", summary="Distribution of a feature over all clients or a filtered group",
     description=FILTER_DOC + " `ids` restricts to listed clients (e.g. the similar ones).", sync_to_thread=False)
def population(
    scorer: Scorer, feature: str, contract_type: ContractType | None = None,
    gender: Literal["F", "M"] | None = None, age_min: AgeBound = None, age_max: AgeBound = None,
    income_min: IncomeBound = None, income_max: IncomeBound = None,
    decision: Literal["accordé", "refusé"] | None = None, ids: str | None = None,
    bins: Annotated[int, Parameter(ge=5, le=100)] = 30,
) -> Population:
    filters = _filters(contract_type, gender, age_min, age_max, income_min, income_max, decision, ids)
    name = _feature(scorer.service, feature, "feature")
    return Population(**scorer.service.population(name, filters, bins))  # type: ignore[arg-type]


@get("/population/points", summary="A sample of clients on two features (for a scatter plot)",
     description=FILTER_DOC, sync_to_thread=False)
def population_points(
    scorer: Scorer, x: str, y: str, contract_type: ContractType | None = None,
    gender: Literal["F", "M"] | None = None, age_min: AgeBound = None, age_max: AgeBound = None,
    income_min: IncomeBound = None, income_max: IncomeBound = None,
    decision: Literal["accordé", "refusé"] | None = None, ids: str | None = None,
    n: Annotated[int, Parameter(ge=10, le=2000)] = 500,
) -> Points:
    service = scorer.service
    filters = _filters(contract_type, gender, age_min, age_max, income_min, income_max, decision, ids)
    x, y = _feature(service, x, "x", "number"), _feature(service, y, "y", "number")
    return Points(x=x, y=y, x_label=service.feature_label(x), y_label=service.feature_label(y),
                  points=service.points(x, y, filters, n))  # type: ignore[arg-type]


personal = Router(
    path="/", guards=[require_api_key], security=[{"apiKey": []}],
    route_handlers=[clients, client, client_score, client_explanation, client_similar, population,
                    population_points],
)


# -- the application -----------------------------------------------------------------------------------------
def create_app(settings: Settings | None = None, service: ScoringService | None = None) -> Litestar:
    """The API over the pipeline's outputs (or over a given service, for tests)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        loaded = service or settings.load_service()
        scorer = Scorer(loaded, EventWriter(create_store(settings.events_url)))
        app.state.scorer = scorer
        gc.collect()
        gc.freeze()  # the loaded clients never die: keep the collector from rescanning them under load
        log.info("serving model %s for %d known clients", loaded.bundle.model_version, len(loaded.table))
        try:
            yield
        finally:
            scorer.close()  # every queued prediction event is written before the process exits

    cors = CORSConfig(allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                      allow_headers=["Content-Type", API_KEY_HEADER]) if settings.cors_origins else None
    return Litestar(
        route_handlers=[health, model, features, predict, predict_batch, personal],
        dependencies={"scorer": Provide(provide_scorer, sync_to_thread=False)},
        lifespan=[lifespan],
        state=State({"settings": settings}),
        middleware=[RateLimitConfig(rate_limit=settings.rate_limit).middleware],  # type: ignore[arg-type]
        cors_config=cors,
        request_max_body_size=settings.max_body_bytes,
        exception_handlers={ValidationException: validation_error, UnknownClient: unknown_client,
                            Exception: internal_error},
        openapi_config=OpenAPIConfig(
            title="Prêt à dépenser — credit scoring API", version="1.0.0",
            description="Probability of default, decision, explanations and client data for relationship managers' "
                        f"tools. Routes under /clients and /population need the `{API_KEY_HEADER}` header.",
            components=Components(security_schemes={"apiKey": SecurityScheme(
                type="apiKey", name=API_KEY_HEADER, security_scheme_in="header")}),
        ),
        debug=False,
    )


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

    Settings.from_env()  # refuse a malformed configuration before any worker starts
    uvicorn.run("app.api:create_app", factory=True, host=os.environ.get("HOST", "127.0.0.1"),
                port=int(os.environ.get("PORT", "8000")), workers=int(os.environ.get("WORKERS", "1")),
                log_config=LOG_CONFIG, access_log=False)


if __name__ == "__main__":
    main()
