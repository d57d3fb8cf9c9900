"""What a running API holds: the service, the batchers that score and explain concurrent requests together, and
the writer that commits every prediction to the event store before the prediction is answered."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import msgspec
from litestar.datastructures import State

from app.api.batcher import Batcher
from app.api.bodies import Explanation, Prediction, application_fields
from app.api.service import ScoringService
from credit_scoring.production.events import EventWriter, StoreUnavailable


@dataclass
class Scored:
    """One application ready to score: the complete fields, the client id (or None) and when the request began."""

    application: dict
    client_id: int | None
    started: float


class Scorer:
    """The service, the batchers and the event writer of a running API."""

    def __init__(self, service: ScoringService, events: EventWriter) -> None:
        self.service = service
        self.events = events
        self.batcher = Batcher(self.score_batch)
        self.explainer = Batcher(self._explain_batch)

    def score_batch(self, items: list[Scored]) -> list[float]:
        return [float(p) for p in self.service.scoring.probabilities([i.application for i in items],
                                                                     [i.client_id for i in items])]

    def _explain_batch(self, items: list[tuple[Scored, int]]) -> list[Explanation]:
        """Explanations of a batch, each with its own number of contributions."""
        most = max(top for _, top in items)
        explained = self.service.scoring.explanations([i.application for i, _ in items],
                                                      [i.client_id for i, _ in items], most)
        return [msgspec.structs.replace(e, contributions=e.contributions[:top])
                for e, (_, top) in zip(explained, items, strict=True)]

    def prepare(self, application, started: float) -> Scored:
        """A request's application merged with the client's stored one (or UnknownClient)."""
        client_id = application.SK_ID_CURR
        return self.known(client_id, application_fields(application), started)

    def known(self, client_id: int | None, fields: dict, started: float) -> Scored:
        merged = self.service.scoring.merged_application(fields, client_id)  # or UnknownClient
        return Scored(merged, client_id, started)

    async def record(self, item: Scored, probability: float, endpoint: str) -> Prediction:
        """The response for a scored application, once its event is stored (or StoreUnavailable)."""
        return (await self.record_many([item], [probability], endpoint))[0]

    async def record_many(self, items: list[Scored], probabilities: list[float], endpoint: str) -> list[Prediction]:
        """The responses for scored applications, once their events are stored together, all or none (concurrent
        requests' events share the transaction: see EventWriter). The event loop is free while they are written;
        a store that does not take them in time raises StoreUnavailable."""
        bundle = self.service.bundle
        predictions, events = [], []
        for item, probability in zip(items, probabilities, strict=True):
            prediction = Prediction(request_id=uuid.uuid4().hex, sk_id_curr=item.client_id, probability=probability,
                                    decision=bundle.decision(probability), threshold=bundle.threshold,
                                    model_version=bundle.model_version)
            predictions.append(prediction)
            events.append({
                "request_id": prediction.request_id, "model_version": prediction.model_version,
                "client_id": item.client_id,
                "inputs": {k: v for k, v in item.application.items() if k != "SK_ID_CURR"},
                "probability": probability, "decision": prediction.decision, "threshold": prediction.threshold,
                "latency_ms": (time.perf_counter() - item.started) * 1000.0, "endpoint": endpoint,
            })
        stored = asyncio.wrap_future(self.events.put_many(events))
        try:  # the writer answers by its own timeout; this one only guards against a database call that hangs
            await asyncio.wait_for(stored, self.events.timeout + 1.0)
        except TimeoutError:
            raise StoreUnavailable("the event store did not answer in time") from None
        return predictions

    def close(self) -> None:
        self.batcher.close()
        self.explainer.close()
        self.events.close()


def provide_scorer(state: State) -> Scorer:
    return state.scorer
