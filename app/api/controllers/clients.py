"""One known client: the list to pick from, the readable sheet, the score, its explanation and the nearest
clients (personal data: the API key is required)."""

from __future__ import annotations

import time
from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from app.api.bodies import ClientList, ClientSheet, Explanation, Prediction, Similar
from app.api.dependencies import FILTER_DOC
from app.api.runtime import Scorer
from app.api.security import API_KEY_REQUIRED, require_api_key
from app.api.service import SIMILARITY
from app.filters import Filters

ClientId = Annotated[int, Parameter(ge=0, description="SK_ID_CURR")]


class ClientsController(Controller):
    path = "/clients"
    guards = (require_api_key,)
    security = API_KEY_REQUIRED

    @get("/", summary="Known clients matching filters, with their score", description=FILTER_DOC,
         sync_to_thread=False)
    def clients(self, scorer: Scorer, filters: Filters, limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
                offset: Annotated[int, Parameter(ge=0)] = 0) -> ClientList:
        total, found = scorer.service.groups.client_list(filters, limit, offset)
        return ClientList(total=total, clients=found)

    @get("/{client_id:int}", summary="A client's descriptive information, in readable French", sync_to_thread=False)
    def client(self, scorer: Scorer, client_id: ClientId) -> ClientSheet:
        return scorer.service.client_sheet(client_id)

    @get("/{client_id:int}/score", summary="A known client's score and decision")
    async def client_score(self, scorer: Scorer, client_id: ClientId) -> Prediction:
        item = scorer.known(client_id, {}, time.perf_counter())  # or UnknownClient
        probability = await scorer.batcher.submit(item)
        return await scorer.record(item, probability, "client_score")

    @get("/{client_id:int}/explanation", summary="Why this score: reason codes and local contributions")
    async def client_explanation(self, scorer: Scorer, client_id: ClientId,
                                 top: Annotated[int, Parameter(ge=1, le=30)] = 10) -> Explanation:
        item = scorer.known(client_id, {}, time.perf_counter())  # or UnknownClient
        explained: Explanation = await scorer.explainer.submit((item, top))
        await scorer.record(item, explained.probability, "client_explanation")
        return explained

    @get("/{client_id:int}/similar", summary="The nearest known clients on the main features",
         description=f"Nearest on {', '.join(SIMILARITY)} (robust-scaled, amounts on a log scale).",
         sync_to_thread=False)
    def client_similar(self, scorer: Scorer, client_id: ClientId,
                       k: Annotated[int, Parameter(ge=1, le=200)] = 10) -> Similar:
        return scorer.service.groups.similar(client_id, k)
