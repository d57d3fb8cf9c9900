"""Loan outcomes sent by the bank once it knows whether a loan was repaid (right `outcomes`: the risk team or an
application's key; outcomes are personal data, recorded in the access log), stored in the event store's
`loan_outcomes` table, a batch all or none (`credit_scoring.production.outcomes`)."""

from __future__ import annotations

from typing import NoReturn

from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_409_CONFLICT

from app.api.bodies import OutcomeBatch, OutcomesStored
from app.api.errors import strict_body
from app.api.security import requires
from app.api.store import event_store
from credit_scoring.production.outcomes import (
    Outcome,
    OutcomeError,
    UnknownDecision,
    in_utc,
    store_outcomes,
)


def _where(index: int) -> str:
    return f"outcomes[{index}]"


def _refuse(key: str, message: str) -> NoReturn:
    raise ValidationException(detail=f"{key}: {message}", extra=[{"key": key, "message": message}])


class OutcomesController(Controller):
    path = "/outcomes"

    @post("/", summary="Store loan outcomes (idempotent, all or nothing)", status_code=200,
          before_request=strict_body(OutcomeBatch), sync_to_thread=True,
          description="Each outcome names its decision by `request_id` or by `SK_ID_CURR` (then the latest decision "
                      "served for the client at or before `observed_at`). An outcome sent again is not stored "
                      "twice; an unknown request id is a 404 naming it; a TARGET contradicting a stored one is a "
                      "409; any refusal stores nothing of the batch.",
          **requires("outcomes", personal_data=True))
    def outcomes(self, request: Request, state: State, data: OutcomeBatch) -> OutcomesStored:
        outcomes = []
        for index, sent in enumerate(data.outcomes):
            if sent.request_id is None and sent.SK_ID_CURR is None:
                _refuse(_where(index), "request_id or SK_ID_CURR is required")
            try:
                observed = in_utc(sent.observed_at)
            except ValueError as error:
                _refuse(f"{_where(index)}.observed_at", str(error))
            outcomes.append(Outcome(target=sent.TARGET, observed_at=observed, request_id=sent.request_id,
                                    client_id=sent.SK_ID_CURR))
        try:
            result = store_outcomes(event_store(state), outcomes)
        except UnknownDecision as error:
            raise NotFoundException(detail=f"nothing stored; {error.describe(_where)}") from None
        except OutcomeError as error:
            raise ClientException(detail=f"nothing stored; {error.describe(_where)}",
                                  status_code=HTTP_409_CONFLICT) from None
        request.state.accessed_clients = result.clients  # for the access log (app.api.personal_data)
        return OutcomesStored(stored=result.stored, already_stored=result.already)
