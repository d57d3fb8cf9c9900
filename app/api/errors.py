"""The API's strict JSON bodies and its error answers: every refusal names the field at fault, in a JSON body
the caller can read; an unexpected error is logged here and told as a plain sentence."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ExceptionHandlersMap

from app.api.service import UnknownClient
from credit_scoring.production.events import StoreUnavailable

log = logging.getLogger("app.api")


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


def _integral_floats_as_ints(value):
    """JSON (and JSON Schema) make no difference between 1 and 1.0: a whole number written with a decimal point is
    an integer here too, as Litestar's own decoding takes it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    return value


def _malformed(body: bytes, error: Exception) -> ValidationException:
    """Not JSON, or a number beyond the float range (named by its key)."""
    keys = _non_finite_keys(body)
    detail = (f"{', '.join(keys)}: number too large (infinite values are refused)" if keys
              else f"Malformed JSON body: {error}")
    return ValidationException(detail=detail, extra=[{"key": k, "message": "not a finite number"} for k in keys])


def _named(error: msgspec.ValidationError) -> ValidationException:
    """A body msgspec refused, the field at fault named (`AMT_CREDIT: Expected `float`, got `str``)."""
    message, _, where = str(error).partition(" - at `$")
    key = where.rstrip("`").lstrip(".")
    return ValidationException(detail=f"{key}: {message}" if key else message,
                               extra=[{"key": key, "message": message, "source": "body"}])


def strict_body(body_type: type) -> Callable:
    """A before-request hook decoding the JSON body strictly (no text for numbers, no numbers for text), as msgspec
    does by default: Litestar's own decoding is lax, turning "100002" into 100002. Errors name the field. Only a
    body refused as it is is decoded again with its whole numbers written `1.0` read as integers."""

    async def check(request: Request) -> None:
        body = await request.body()
        try:
            msgspec.json.decode(body, type=body_type)
            return
        except msgspec.ValidationError:  # a subclass of DecodeError: caught first
            pass
        except msgspec.DecodeError as error:
            raise _malformed(body, error) from None
        try:
            whole = msgspec.json.encode(_integral_floats_as_ints(msgspec.json.decode(body)))
        except msgspec.DecodeError as error:  # ValidationError included: a number beyond the float range
            raise _malformed(body, error) from None
        try:
            msgspec.json.decode(whole, type=body_type)
        except msgspec.ValidationError as error:
            raise _named(error) from None

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


def store_unavailable(request: Request, error: StoreUnavailable) -> Response:
    """A decision the event store did not record in time is not served: a 503 the caller may retry."""
    log.error("%s %s refused: %s", request.method, request.url.path, error)
    return Response({"status_code": 503, "detail": "Registre des décisions indisponible : aucune décision n'est "
                     "rendue sans être enregistrée. Réessayez dans quelques secondes."},
                    status_code=HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})


EXCEPTION_HANDLERS: ExceptionHandlersMap = {ValidationException: validation_error, UnknownClient: unknown_client,
                                            StoreUnavailable: store_unavailable, Exception: internal_error}
