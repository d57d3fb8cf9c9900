"""Scoring applications: one (/predict, batched with concurrent requests) or up to MAX_BATCH at once: applications
with the `score` scope, and the advisors' page (its what-if simulation)."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from litestar import Controller, post
from litestar.exceptions import NotFoundException
from litestar.openapi.spec import Example
from litestar.params import Body

from app.api.bodies import EXAMPLE, MAX_BATCH, Application, BatchPrediction, BatchRequest, Prediction
from app.api.errors import strict_body
from app.api.runtime import Scorer
from app.api.security import requires
from app.api.service import UnknownClient

APPLICATION_BODY = Body(
    description="Application fields by their Kaggle names (any subset) and optionally a known SK_ID_CURR",
    examples=[Example(summary="A known client, two fields changed (what if)",
                      value={"SK_ID_CURR": 100002, "AMT_CREDIT": 300000.0, "AMT_ANNUITY": 18000.0}),
              Example(summary="A new applicant", value={k: v for k, v in EXAMPLE.items() if k != "SK_ID_CURR"})],
)


class ScoringController(Controller):
    path = "/predict"

    @post("/", summary="Score one application", status_code=200, before_request=strict_body(Application),
          **requires("score"))
    async def predict(self, scorer: Scorer, data: Annotated[Application, APPLICATION_BODY]) -> Prediction:
        item = scorer.prepare(data, time.perf_counter())
        probability = await scorer.batcher.submit(item)
        return await scorer.record(item, probability, "predict")

    @post("/batch", summary=f"Score up to {MAX_BATCH} applications", status_code=200,
          before_request=strict_body(BatchRequest), **requires("score"))
    async def predict_batch(self, scorer: Scorer, data: BatchRequest) -> BatchPrediction:
        started = time.perf_counter()
        items = []
        for index, application in enumerate(data.applications):
            try:
                items.append(scorer.prepare(application, started))
            except UnknownClient as error:
                raise NotFoundException(detail=f"applications[{index}]: {error}") from None
        loop = asyncio.get_running_loop()
        probabilities = await loop.run_in_executor(None, scorer.score_batch, items)
        return BatchPrediction(await scorer.record_many(items, probabilities, "predict_batch"))
