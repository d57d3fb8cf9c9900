"""The one filter dependency of the personal-data routes: the group of clients a request narrows to."""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Literal

from litestar.exceptions import ValidationException
from litestar.params import Parameter

from app.api.bodies import Decision
from app.filters import Filters

ContractType = Literal["Cash loans", "Revolving loans"]
AgeBound = Annotated[float | None, Parameter(ge=0, le=130, description="Age in years")]
IncomeBound = Annotated[float | None, Parameter(ge=0, le=1e9, description="Yearly income in €")]
FILTER_DOC = "Filters: contract type, gender, age band (years), income band (€/year), decision."
MAX_IDS = 1000


def _refused(key: str, detail: str, message: str) -> ValidationException:
    return ValidationException(detail=detail, extra=[{"key": key, "message": message}])


def provide_filters(contract_type: ContractType | None = None, gender: Literal["F", "M"] | None = None,
                    age_min: AgeBound = None, age_max: AgeBound = None, income_min: IncomeBound = None,
                    income_max: IncomeBound = None, decision: Decision | None = None) -> Filters:
    """Contract type, gender, age band, income band and decision, each optional. A band upside down (minimum above
    maximum) is a valid question with no client in it: the group is empty, as the OpenAPI contract can say."""
    return Filters(contract_type, gender, age_min, age_max, income_min, income_max, decision)


IDS_PATTERN = rf"^[0-9]{{1,18}}(,[0-9]{{1,18}}){{0,{MAX_IDS - 1}}}$"
"""Up to MAX_IDS client ids, comma-separated, digits only: what the server reads, as the schema says it."""
Ids = Annotated[str | None, Parameter(pattern=IDS_PATTERN, description=f"Up to {MAX_IDS} comma-separated SK_ID_CURR")]


def provide_group(filters: Filters, ids: Ids = None) -> Filters:
    """The filters, restricted to the listed clients when `ids` (comma-separated) is given."""
    if ids is None:
        return filters
    if not re.fullmatch(IDS_PATTERN, ids):
        raise _refused("ids", f"ids: up to {MAX_IDS} client ids (digits), separated by commas",
                       "comma-separated integers expected")
    return dataclasses.replace(filters, ids=tuple(int(i) for i in ids.split(",")))
