"""The OpenAPI document as the server's exact contract (`complete_contract`, applied once to the generated document).

Litestar documents each route's success and, for routes with parameters, a 400. The server also answers 401 and 403
on secured routes, 503 on those whose answers go to the access log, 404 for an unknown client, 409 for a
conflicting outcome or review, 413 for a body over `MAX_BODY_BYTES`, 429 with `Retry-After` past the rate limit,
and 503 with `Retry-After` when the event store does not take a decision's record: each is added here, per route,
with the error body every refusal carries. The constraints the server enforces are copied from where they are
enforced: the request bodies' limits and their refusal of unknown fields from msgspec's own JSON schema of the
structs that decode them (Litestar's generator drops a bound of 0 and never says `additionalProperties: false`),
the query and path parameters' from their `Parameter` declarations.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)
from litestar.params import ParameterKwarg

from app.api.bodies import Application as ApplicationBody
from app.api.bodies import BatchRequest, OutcomeBatch, ReviewIn

ERROR = "Error"
REQUEST_BODIES = (ApplicationBody, BatchRequest, OutcomeBatch, ReviewIn)
KEYS = {"minimum": "minimum", "maximum": "maximum", "exclusiveMinimum": "exclusive_minimum",
        "exclusiveMaximum": "exclusive_maximum", "minLength": "min_length", "maxLength": "max_length",
        "pattern": "pattern", "minItems": "min_items", "maxItems": "max_items"}
"""JSON Schema keywords copied from msgspec's schema, and the attribute Litestar's Schema stores each in."""

RETRY_AFTER = {"Retry-After": OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER, minimum=0),
                                            description="Seconds to wait before trying again")}
RECORDED = {("post", "/predict"), ("post", "/predict/batch"), ("post", "/recourse"),
            ("get", "/clients/{client_id}/score"), ("get", "/clients/{client_id}/explanation"),
            ("get", "/clients/{client_id}/recourse"), ("get", "/clients/{client_id}/letter"),
            ("post", "/clients/{client_id}/reviews")}
"""Operations that record a decision in the event store before answering (503 when it does not take it)."""
CONFLICTS = {("post", "/outcomes"): "An outcome contradicts one already stored (nothing of the batch is stored)",
             ("post", "/clients/{client_id}/reviews"): "The request_id names a decision served for another client"}
UNKNOWN = {("post", "/predict"), ("post", "/predict/batch"), ("post", "/recourse"), ("post", "/outcomes")}
"""Operations whose body may name an unknown client or decision (404), beside those with `{client_id}`."""


def error_schema() -> Schema:
    """The body of every refusal: the status, a sentence naming the field at fault, and per-field details."""
    return Schema(
        type=OpenAPIType.OBJECT, required=["status_code", "detail"], additional_properties=True,
        properties={"status_code": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
                    "detail": Schema(type=OpenAPIType.STRING),
                    "extra": Schema(one_of=[Schema(type=OpenAPIType.ARRAY, items=Schema()),
                                            Schema(type=OpenAPIType.OBJECT), Schema(type=OpenAPIType.NULL)])},
        description="A refusal: `detail` names the field at fault (`AMT_CREDIT: Expected `float`, got `str``)")


def _error(description: str, retry: bool = False) -> OpenAPIResponse:
    return OpenAPIResponse(description=description, headers=RETRY_AFTER if retry else None,
                           content={"application/json":
                                    OpenAPIMediaType(schema=Reference(f"#/components/schemas/{ERROR}"))})


def statuses(method: str, path: str, operation) -> dict[str, OpenAPIResponse]:
    """Every refusal the server can answer on this operation, beside its success."""
    found = {"429": _error("Too many requests from this address: wait for `Retry-After` seconds", retry=True)}
    if operation.parameters or operation.request_body:
        found["400"] = _error("Invalid request: `detail` and `extra` name each field at fault")
    if operation.request_body:
        found["413"] = _error("Body larger than the server accepts (MAX_BODY_BYTES)")
    personal = bool(getattr(operation, "personal_data", False))
    if operation.security:
        found["401"] = _error("No valid credentials: a person's token (Authorization: Bearer, from POST /auth/token) "
                              "or an application's key (X-API-Key), missing, expired, revoked or tampered with")
        right = getattr(operation, "required_right", "")
        if right:
            found["403"] = _error(f"The caller's role or key lacks the right `{right}`")
    if personal:
        found["503"] = _error("The access log did not record the access: no personal data is answered unrecorded")
    if "{client_id}" in path or (method, path) in UNKNOWN:
        found["404"] = _error("Unknown client (SK_ID_CURR), or unknown decision (request_id)")
    if (method, path) == ("post", "/auth/token"):
        found["401"] = _error("Wrong name or password, or a disabled account (one answer for all three)")
        found["429"] = _error("Too many requests from this address, or too many wrong passwords in a row for this "
                              "name: wait for `Retry-After` seconds", retry=True)
    if (method, path) in CONFLICTS:
        found["409"] = _error(CONFLICTS[(method, path)])
    if (method, path) in RECORDED:
        description = "The event store did not record the decision in time: no decision is served unrecorded"
        found["503"] = _error(description + (" (or the access log did not record the access)" if personal else ""),
                              retry=True)
    return found


def _constraints(schema: dict) -> dict:
    """The bounds of a msgspec property schema, from the branch that is not null in an anyOf."""
    branches = schema.get("anyOf", [schema])
    found = {}
    for branch in branches:
        found.update({k: v for k, v in branch.items() if k in KEYS})
    return found


def _set(schema: Schema, constraints: dict) -> None:
    for key, value in constraints.items():
        setattr(schema, KEYS[key], value)


def body_constraints(document: OpenAPI, bodies: Iterable[type] = REQUEST_BODIES) -> None:
    """msgspec's own constraints and unknown-field refusal on the request bodies' component schemas."""
    _, components = msgspec.json.schema_components(bodies, ref_template="#/components/schemas/{name}")
    for name, spec in components.items():
        target = document.components.schemas.get(name)
        if target is None:
            continue
        if spec.get("additionalProperties") is False:
            target.additional_properties = False
        for field, field_spec in spec.get("properties", {}).items():
            prop = (target.properties or {}).get(field)
            if isinstance(prop, Schema):
                _set(prop, _constraints(field_spec))


def _declared(signature) -> dict[str, ParameterKwarg]:
    """The Parameter declarations of a handler's or dependency's parsed signature, by query/path name."""
    found = {}
    for name, field in signature.parameters.items():
        kwarg = field.kwarg_definition
        if isinstance(kwarg, ParameterKwarg):
            found[kwarg.query or name] = kwarg
    return found


PARAMETER_KEYS = {"ge": "minimum", "le": "maximum", "gt": "exclusive_minimum", "lt": "exclusive_maximum",
                  "min_length": "min_length", "max_length": "max_length", "pattern": "pattern"}


def parameter_constraints(document: OpenAPI, app: Litestar) -> None:
    """Each query or path parameter's declared bounds, 0 included, on its schema."""
    declared: dict[str, ParameterKwarg] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            declared.update(_declared(handler.parsed_fn_signature))
            for provider in handler.resolve_dependencies().values():
                declared.update(_declared(provider.parsed_fn_signature))
    for item in document.paths.values():
        for method in ("get", "post"):
            operation = getattr(item, method, None)
            for parameter in (operation.parameters or []) if operation else []:
                kwarg = declared.get(parameter.name)
                if kwarg is None or not isinstance(parameter.schema, Schema):
                    continue
                for key, attribute in PARAMETER_KEYS.items():
                    if getattr(kwarg, key, None) is not None:
                        setattr(parameter.schema, attribute, getattr(kwarg, key))


def fresh_allow_headers(app: Litestar) -> None:
    """Litestar registers a controller's handlers one at a time: a path with two methods (GET and POST
    /clients/{id}/reviews) becomes a new route holding the first route's automatic OPTIONS handler, whose
    `Allow` header still lists the first method only. Each automatic OPTIONS handler is pointed at its route."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            fn = getattr(handler, "fn", None)
            if getattr(fn, "__name__", "") != "options_handler" or not fn.__closure__:
                continue
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True):
                if name == "self" and cell.cell_contents is not route:
                    cell.cell_contents = route


def outcome_naming(document: OpenAPI) -> None:
    """An outcome names its decision by request_id or by SK_ID_CURR (at least one, not null)."""
    target = document.components.schemas.get("OutcomeIn")
    if target is not None:
        target.any_of = [Schema(required=["request_id"], properties={"request_id": Schema(type=OpenAPIType.STRING)}),
                         Schema(required=["SK_ID_CURR"], properties={"SK_ID_CURR": Schema(type=OpenAPIType.INTEGER)})]


def feature_choices(document: OpenAPI, comparable) -> None:
    """The features /population and /population/points accept, once the served clients are loaded (`comparable`:
    the ClientGroups' features, with their kind)."""
    every = [f.name for f in comparable]
    numbers = [f.name for f in comparable if f.kind == "number"]
    for path, names in (("/population", {"feature": every}), ("/population/points", {"x": numbers, "y": numbers})):
        item = document.paths.get(path)
        for parameter in (item.get.parameters or []) if item and item.get else []:
            if parameter.name in names and isinstance(parameter.schema, Schema):
                parameter.schema.enum = names[parameter.name]


def complete_contract(app: Litestar) -> OpenAPI:
    """The app's OpenAPI document completed in place (`app.openapi_schema` is what /schema serves), and the
    `Allow` header of OPTIONS made to list every method of the path."""
    fresh_allow_headers(app)
    document = app.openapi_schema
    document.components.schemas[ERROR] = error_schema()
    body_constraints(document)
    outcome_naming(document)
    parameter_constraints(document, app)
    for path, item in document.paths.items():
        for method in ("get", "post"):
            operation = getattr(item, method, None)
            if operation is not None:
                operation.responses = {**operation.responses, **statuses(method, path, operation)}
    return document
