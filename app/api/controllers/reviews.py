"""Human review of the model's decisions (GDPR art. 22; Consumer Credit Directive 2023/2225, art. 18): a
relationship manager confirms or overrides a known client's decision, says why and signs; the review is stored,
append-only, in the event store's `decision_reviews` table (`credit_scoring.production.reviews`). Recording one
needs a person with the right `reviews` (role reviewer), who is the stored reviewer; reading them, the right
`clients`."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from typing import NoReturn

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_201_CREATED, HTTP_409_CONFLICT

from app.api.bodies import ClientReviews, Review, ReviewIn
from app.api.controllers.clients import ClientId
from app.api.errors import strict_body
from app.api.runtime import Scorer
from app.api.security import Principal, requires
from app.api.store import event_store
from credit_scoring.production import reviews

REVIEW_DOC = ("`confirm` keeps the model's decision, `override` takes the other one; `reason` (3 to 2000 "
              "characters) is required; the reviewer is the signed-in person (the token's user). `request_id` names"
              " the decision reviewed, a prediction served for this client (404 when unknown, 409 when served for "
              "another client); without it the client is scored now (the decision is recorded as any other) and "
              "that decision is reviewed. The review is stored before the answer and is never changed nor deleted.")


def _refuse(error: reviews.ReviewError) -> NoReturn:
    if isinstance(error, reviews.UnknownRequest):
        raise NotFoundException(detail=str(error)) from None
    if isinstance(error, reviews.OtherClientRequest):
        raise ClientException(detail=str(error), status_code=HTTP_409_CONFLICT) from None
    raise ValidationException(detail=str(error), extra=[{"key": error.field, "message": error.message,
                                                         "source": "body"}]) from None


def _known(scorer: Scorer, client_id: int) -> None:
    scorer.service.scoring.stored_application(client_id)  # or UnknownClient: 404


def _store(state: State, client_id: int, request_id: str, data: ReviewIn, reviewer: str) -> reviews.Review:
    return reviews.store_review(event_store(state), client_id=client_id, request_id=request_id, action=data.action,
                                reason=data.reason, reviewer=reviewer)


class ReviewsController(Controller):
    path = "/clients/{client_id:int}/reviews"

    @post("/", summary="Record a person's review of the model's decision for a client", description=REVIEW_DOC,
          status_code=HTTP_201_CREATED, before_request=strict_body(ReviewIn),
          **requires("reviews", personal_data=True, keys=False))
    async def review(self, request: Request, state: State, scorer: Scorer, client_id: ClientId,
                     data: ReviewIn) -> Review:
        _known(scorer, client_id)
        reviewer: Principal = request.user
        try:
            reviews.checked(data.action, data.reason, reviewer.name)  # before a decision is recorded for nothing
            request_id = data.request_id
            if request_id is None:
                item = scorer.known(client_id, {}, time.perf_counter())
                probability = await scorer.batcher.submit(item)
                request_id = (await scorer.record(item, probability, "client_review")).request_id
            stored = await asyncio.to_thread(_store, state, client_id, request_id, data, reviewer.name)
        except reviews.ReviewError as error:
            _refuse(error)
        return Review(**asdict(stored))

    @get("/", summary="A client's reviews of the model's decisions, newest first", sync_to_thread=True,
         **requires("clients", personal_data=True))
    def reviews(self, state: State, scorer: Scorer, client_id: ClientId) -> ClientReviews:
        _known(scorer, client_id)
        found = reviews.client_reviews(event_store(state), client_id)
        return ClientReviews(client_id=client_id, reviews=[Review(**asdict(r)) for r in found])
