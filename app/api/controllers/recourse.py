"""What would change a decision, and the letter that tells the client (EU directive 2023/2225 art. 18, GDPR art.
22). Personal data: advisors and reviewers (right `clients`); every answer goes to the access log.

Recourse proposals change only the loan (amount, instalment, price; duration): see `credit_scoring.explain.recourse`.
Each is scored by the served model through the normal scoring path and is granted by it. The decision the
proposals start from is recorded in the event store like any other served decision; the proposals are not
decisions and are not recorded.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec

from app.api.bodies import Application, Explanation, ProposalOut, RecourseAnswer
from app.api.controllers.clients import ClientId
from app.api.errors import strict_body
from app.api.runtime import Scored, Scorer
from app.api.security import requires
from app.api.service.rights import ADVISOR, letter_content, proposal_sentence
from credit_scoring.explain.recourse import Recourse
from credit_scoring.production.letter import render_letter

LETTER_TIME_ZONE = ZoneInfo("Europe/Paris")  # the letter is dated as the client reads it
LETTER_REASONS = 10  # explanation contributions asked for a letter (it prints the first reason codes)


async def _found(scorer: Scorer, item: Scored) -> Recourse:
    """The proposals for a prepared application, computed off the event loop (tens of scorings)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, scorer.service.scoring.recourse, item.application, item.client_id)


async def _answer(scorer: Scorer, item: Scored, endpoint: str) -> RecourseAnswer:
    found = await _found(scorer, item)
    prediction = await scorer.record(item, found.probability, endpoint)
    decide = scorer.service.bundle.decision
    return RecourseAnswer(
        request_id=prediction.request_id, sk_id_curr=item.client_id, probability=prediction.probability,
        decision=prediction.decision, threshold=prediction.threshold, model_version=prediction.model_version,
        requested_months=found.months,
        proposals=[ProposalOut(kind=p.kind, changes=p.changes, months=p.months, probability=p.probability,
                               decision=decide(p.probability),
                               text=proposal_sentence(p, found.months or p.months, ADVISOR))
                   for p in found.proposals],
    )


class RecourseController(Controller):

    @get("/clients/{client_id:int}/recourse", summary="What would change a known client's decision",
         **requires("clients", personal_data=True))
    async def client_recourse(self, scorer: Scorer, client_id: ClientId) -> RecourseAnswer:
        item = scorer.known(client_id, {}, time.perf_counter())  # or UnknownClient
        return await _answer(scorer, item, "client_recourse")

    @post("/recourse", summary="What would change the decision on an application", status_code=200,
          before_request=strict_body(Application), **requires("clients", personal_data=True))
    async def recourse(self, scorer: Scorer, data: Application) -> RecourseAnswer:
        item = scorer.prepare(data, time.perf_counter())  # or UnknownClient
        return await _answer(scorer, item, "recourse")

    @get("/clients/{client_id:int}/letter", summary="The client's explanation letter (PDF, French)",
         media_type="application/pdf",
         responses={200: ResponseSpec(data_container=bytes, media_type="application/pdf",
                                      description="A one- to two-page A4 PDF: the decision, its main reasons, "
                                                  "what would change it, the client's rights")},
         **requires("clients", personal_data=True))
    async def client_letter(self, scorer: Scorer, client_id: ClientId) -> Response[bytes]:
        item = scorer.known(client_id, {}, time.perf_counter())  # or UnknownClient
        explained: Explanation = await scorer.explainer.submit((item, LETTER_REASONS))
        found = await _found(scorer, item)
        prediction = await scorer.record(item, explained.probability, "client_letter")
        content = letter_content(explained, found.proposals, found.months, item.application, prediction.request_id,
                                 datetime.datetime.now(LETTER_TIME_ZONE).date())
        pdf = await asyncio.get_running_loop().run_in_executor(None, render_letter, content)
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="lettre-{client_id}.pdf"',
                                 "X-Request-Id": prediction.request_id})
