"""The API's request and response bodies as msgspec structs, the request side generated from the schema.

An application is any subset of the application table's fields under their Kaggle names. Each field's type
and accepted range come from `credit_scoring/dataset/home_credit_schema.json` (measured on real rows): categories must
be one of the known values; whole-number columns take integers; 0/1 flags take 0 or 1; other numbers must lie
within the measured range widened by its own width on each side (and keep their sign where the measured values
never change sign), which refuses sign errors, NaN and infinities. Amounts and counts (never negative, above 1)
have long right tails that ~13,000 measured rows do not reach: the full Kaggle files hold an income of
117,000,000 (58 times the measured maximum), 348 people in a social circle (16 times), 261 bureau enquiries in a
quarter (33 times); they may go up to `OPEN_ENDED_FACTOR` times the measured maximum, so that no real client
is refused.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from credit_scoring.dataset.schema import Column
from credit_scoring.features.application import APPLICATION, KEY, category_values
from credit_scoring.features.families import FAMILIES
from credit_scoring.production.reviews import REASON_PATTERN

MAX_BATCH = 1000
OPEN_ENDED_FACTOR = 100  # upper bound of amounts and counts, in measured maxima (see the module docstring)
Decision = Literal["accordé", "refusé"]
EXAMPLE = {"SK_ID_CURR": 100002, "AMT_INCOME_TOTAL": 202500.0, "AMT_CREDIT": 406597.5, "AMT_ANNUITY": 24700.5,
           "AMT_GOODS_PRICE": 351000.0, "NAME_CONTRACT_TYPE": "Cash loans", "CODE_GENDER": "M",
           "DAYS_BIRTH": -9461, "DAYS_EMPLOYED": -637, "EXT_SOURCE_2": 0.2629, "EXT_SOURCE_3": 0.1394}


def bounds(column: Column) -> tuple[float, float]:
    """The accepted range of a numeric column (see the module docstring)."""
    low, high = column.quantiles[0], column.quantiles[-1]
    if column.kind == "integer" and low >= 0 and high <= 1:  # a 0/1 flag (FLAG_MOBIL is always 1 in the sample)
        return 0, 1
    width = max(high - low, 1.0)
    wide_low, wide_high = low - width, high + width
    if low >= 0:
        wide_low = 0
        if high > 1:  # an amount or a count: long right tail
            wide_high = max(wide_high, high * OPEN_ENDED_FACTOR)
    if high <= 0:
        wide_high = 0
    return wide_low, wide_high


def _field_type(column: Column):
    if column.kind == "category":
        values = tuple(v for v in category_values("application_train", column.name) if v is not None)
        return Literal.__getitem__(values) | None | UnsetType  # the values are known at import only
    low, high = bounds(column)
    if column.sql_type == "BIGINT":
        return Annotated[int, Meta(ge=math.floor(low), le=math.ceil(high))] | None | UnsetType
    return Annotated[float, Meta(ge=float(low), le=float(high))] | None | UnsetType


Application = msgspec.defstruct(
    "Application",
    [(KEY, Annotated[int, Meta(ge=0, description="A known client's id: joins the client's history, and fields "
                                                 "left out take the client's stored values")] | None, None)]
    + [(c.name, _field_type(c), UNSET) for c in APPLICATION.columns if c.name != KEY],
    forbid_unknown_fields=True,
    kw_only=True,
)
Application.__doc__ = ("A credit application: any subset of the application table's fields (Kaggle names). "
                       "Omitted fields take the known client's stored values, or are missing for a new client; "
                       "null means missing.")


def application_fields(application) -> dict:
    """The fields a request sent (null included), without SK_ID_CURR."""
    return {f: v for f in application.__struct_fields__ if f != KEY and (v := getattr(application, f)) is not UNSET}


class BatchRequest(Struct, forbid_unknown_fields=True):
    applications: Annotated[list[Application], Meta(min_length=1, max_length=MAX_BATCH)]


class Prediction(Struct):
    request_id: str
    sk_id_curr: int | None
    probability: Annotated[float, Meta(ge=0, le=1, description="Estimated probability of default")]
    decision: Decision
    threshold: float
    model_version: str


class BatchPrediction(Struct):
    predictions: list[Prediction]


class Health(Struct):
    status: str
    model_version: str
    clients: int


class ModelInfo(Struct):
    model_version: str
    threshold: float
    cost: dict[str, float]
    metrics: dict[str, float | None]
    features: list[str]


class Category(Struct):
    value: str
    label: str


class FeatureInfo(Struct, omit_defaults=True):
    name: str
    label: str
    unit: str
    kind: Literal["number", "category"]
    categories: list[Category] | None = None


class ClientSummary(Struct):
    sk_id_curr: int
    contract_type: str
    gender: str
    age_years: float | None
    income: float | None
    credit: float | None
    probability: float
    decision: Decision


class ClientList(Struct):
    total: int
    clients: list[ClientSummary]


class Field(Struct):
    name: str
    label: str
    value: float | str | None
    display: str


class Section(Struct):
    title: str
    fields: list[Field]


class ClientSheet(Struct):
    sk_id_curr: int
    dataset: Literal["train", "test"]
    sections: list[Section]
    values: dict[str, float | str | None]


FamilyKey = Annotated[Literal[tuple(FAMILIES)], Meta(  # type: ignore[valid-type]
    description="An information family (credit_scoring/features/families.py): " + "; ".join(
        f"{key}: {label}" for key, label in FAMILIES.items()))]


class Reason(Struct):
    """A principal reason: one information family that raises (`hausse`) or lowers (`baisse`) the risk, its summed
    contribution (log-odds) and the sentence naming the client's values that weigh most in it (`feature`, the
    first of them)."""

    text: str
    direction: Literal["hausse", "baisse"]
    contribution: float
    feature: str
    family: FamilyKey
    family_label: str


class FamilyContribution(Struct):
    """An information family's share of the score: the sum of its features' contributions (log-odds)."""

    family: FamilyKey
    label: str
    contribution: float


class Contribution(Struct):
    feature: str
    label: str
    display: str
    contribution: float


class Explanation(Struct):
    sk_id_curr: int
    probability: float
    decision: Decision
    threshold: float
    model_version: str
    base_value: float
    reasons: list[Reason]
    families: Annotated[list[FamilyContribution], Meta(
        description="Every information family's summed contribution, largest in absolute value first: with "
                    "base_value they add up to the model's log-odds")]
    contributions: Annotated[list[Contribution], Meta(
        description="The largest per-feature contributions, for analysts (`top` of them)")]


class Neighbour(Struct):
    sk_id_curr: int
    distance: float
    probability: float
    decision: Decision
    values: dict[str, float | str | None]


class Similar(Struct):
    sk_id_curr: int
    features: list[str]
    neighbors: list[Neighbour]


class Histogram(Struct):
    edges: list[float]
    counts: list[int]


class CategoryCount(Struct):
    value: str
    label: str
    count: int


class Population(Struct, omit_defaults=True):
    feature: str
    label: str
    unit: str
    n: int
    n_missing: int
    mean: float | None = None
    median: float | None = None
    quantiles: dict[str, float] | None = None
    histogram: Histogram | None = None
    categories: list[CategoryCount] | None = None
    share_refused: float | None = None


class Point(Struct):
    sk_id_curr: int
    x: float
    y: float
    decision: Decision


class Points(Struct):
    x: str
    y: str
    x_label: str
    y_label: str
    points: list[Point]


class OutcomeIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """A loan's outcome: the decision named by its request id (the `request_id` of the prediction) or by the
    client's SK_ID_CURR (then the latest decision served for the client at or before `observed_at`)."""

    request_id: Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z._:-]+$")] | None = None
    SK_ID_CURR: Annotated[int, Meta(ge=0, le=2**63 - 1)] | None = None
    TARGET: Annotated[Literal[0, 1], Meta(description="1: the loan defaulted, 0: it was repaid")]
    observed_at: Annotated[datetime, Meta(tz=True, description="When the outcome was observed (ISO, with zone)")]


class OutcomeBatch(Struct, forbid_unknown_fields=True):
    outcomes: Annotated[list[OutcomeIn], Meta(min_length=1, max_length=MAX_BATCH)]


class OutcomesStored(Struct):
    stored: Annotated[int, Meta(description="Outcomes newly stored")]
    already_stored: Annotated[int, Meta(description="Outcomes the store already held (sent before): not stored twice")]


# Decision reviews
class ReviewIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """A relationship manager's review of the model's decision for a known client: confirmed or overridden, and
    why; the reviewer is the signed-in person. Without `request_id` the client is scored now and that decision is
    reviewed."""

    action: Annotated[Literal["confirm", "override"],
                      Meta(description="confirm: the model's decision stands; override: the other decision")]
    reason: Annotated[str, Meta(min_length=3, max_length=2000, pattern=REASON_PATTERN,
                                description="Why, in free text: 3 to 2000 characters, at least three of them other "
                                            "than spaces, tabs and line breaks, no NUL character")]
    request_id: Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z._:-]+$",
                                    description="The decision reviewed (a prediction's request_id for this "
                                                "client); by default the client is scored now")] | None = None


class Review(Struct):
    review_id: int
    client_id: int
    request_id: str
    model_decision: Decision
    model_version: str
    action: Literal["confirm", "override"]
    reviewed_decision: Decision
    reason: str
    reviewer: str
    reviewed_at: datetime


class ClientReviews(Struct):
    client_id: int
    reviews: Annotated[list[Review], Meta(description="Newest first")]


# Recourse: what would change a decision
class ProposalOut(Struct):
    kind: Annotated[Literal["amount", "shorter", "longer", "margin"],
                    Meta(description="amount: the largest amount granted over the same duration; shorter/longer: "
                                     "the nearest duration granted for the same amount; margin (granted "
                                     "applications): the largest amount that stays granted")]
    changes: Annotated[dict[str, float], Meta(description="The application fields changed (AMT_CREDIT, AMT_ANNUITY, "
                                                          "AMT_GOODS_PRICE only) and their new values")]
    months: Annotated[int, Meta(description="Duration of the proposed loan, in monthly instalments")]
    probability: Annotated[float, Meta(ge=0, le=1, description="The changed application's probability of "
                                                               "default, scored by the served model")]
    decision: Decision
    text: Annotated[str, Meta(description="The proposal in a French sentence, for the relationship manager")]


class RecourseAnswer(Struct):
    request_id: Annotated[str, Meta(description="The recorded decision the proposals start from")]
    sk_id_curr: int | None
    probability: Annotated[float, Meta(ge=0, le=1)]
    decision: Decision
    threshold: float
    model_version: str
    requested_months: Annotated[int | None, Meta(description="The duration the application's instalment implies "
                                                             "(null: amount or instalment missing)")]
    proposals: Annotated[list[ProposalOut], Meta(description="Refused: what would be granted; granted: the "
                                                             "margin; empty when no such change exists")]


class AccessOut(Struct):
    """One recorded access to a client's data: who (a user's name, or a key's application and id), when, through
    which route, under which request id."""

    accessed_at: datetime
    who: str
    kind: Literal["user", "key"]
    client_id: int | None
    route: str
    request_id: str


class ClientAccesses(Struct):
    client_id: int
    accesses: list[AccessOut]


class LoginForm(Struct, kw_only=True):
    """OAuth2 password flow (RFC 6749 §4.3), form-encoded."""

    username: Annotated[str, Meta(min_length=1, max_length=256)]
    password: Annotated[str, Meta(min_length=1, max_length=1024)]
    grant_type: Literal["password"] | None = None
    scope: str = ""


class TokenAnswer(Struct):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    name: str
    role: str


class Me(Struct):
    name: str
    kind: Literal["user", "key"]
    role: str | None
    rights: list[str]
