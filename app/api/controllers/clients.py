"""One known client: the list to pick from, the readable sheet, the score, its explanation and the nearest
clients; and who accessed a client's data (the access log, GDPR art. 15). Personal data: every answer is
recorded in the access log."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import Parameter

from app.api.bodies import AccessOut, ClientAccesses, ClientList, ClientSheet, Explanation, Prediction, Similar
from app.api.dependencies import FILTER_DOC
from app.api.runtime import Scorer
from app.api.security import requires
from app.api.service import SIMILARITY
from app.api.store import event_store
from app.filters import Filters
from credit_scoring.production.accesses import client_accesses

ClientId = Annotated[int, Parameter(ge=0, le=2**63 - 1, description="SK_ID_CURR")]  # a database BIGINT


class ClientsController(Controller):
    path = "/clients"

    @get("/", summary="Known clients matching filters, with their score", description=FILTER_DOC,
         sync_to_thread=False, **requires("clients", personal_data=True))
    def clients(self, scorer: Scorer, filters: Filters, limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
                offset: Annotated[int, Parameter(ge=0)] = 0) -> ClientList:
        total, found = scorer.service.groups.client_list(filters, limit, offset)
        return ClientList(total=total, clients=found)

    @get("/{client_id:int}", summary="A client's descriptive information, in readable French", sync_to_thread=False,
         **requires("clients", personal_data=True))
    def client(self, scorer: Scorer, client_id: ClientId) -> ClientSheet:
        return scorer.service.client_sheet(client_id)

    @get("/{client_id:int}/score", summary="A known client's score and decision",
         **requires("clients", personal_data=True))
    async def client_score(self, scorer: Scorer, client_id: ClientId) -> Prediction:
        item = scorer.known(client_id, {}, time.perf_counter())  # or UnknownClient
        probability = await scorer.batcher.submit(item)
        return await scorer.record(item, probability, "client_score")

    @get("/{client_id:int}/explanation", summary="Why this score: reason codes and local contributions",
         **requires("clients", personal_data=True))
    async def client_explanation(self, scorer: Scorer, client_id: ClientId,
                                 top: Annotated[int, Parameter(ge=1, le=30)] = 10) -> Explanation:
        item = scorer.known(client_id, {}, time.perf_counter())  # or UnknownClient
        explained: Explanation = await scorer.explainer.submit((item, top))
        await scorer.record(item, explained.probability, "client_explanation")
        return explained

    @get("/{client_id:int}/similar", summary="The nearest known clients on the main features",
         description=f"Nearest on {', '.join(SIMILARITY)} (robust-scaled, amounts on a log scale).",
         sync_to_thread=False, **requires("clients", personal_data=True))
    def client_similar(self, scorer: Scorer, client_id: ClientId,
                       k: Annotated[int, Parameter(ge=1, le=200)] = 10) -> Similar:
        return scorer.service.groups.similar(client_id, k)

    @get("/{client_id:int}/accesses", summary="Who accessed this client's data, newest first (GDPR art. 15)",
         sync_to_thread=True, **requires("accesses", personal_data=True))
    def client_accesses(self, state: State, client_id: ClientId) -> ClientAccesses:
        found = client_accesses(event_store(state), client_id)
        return ClientAccesses(client_id=client_id, accesses=[AccessOut(**asdict(a)) for a in found])
