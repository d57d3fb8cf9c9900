"""The one filter dependency of the personal-data routes: the group of clients a request narrows to."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from litestar.exceptions import ValidationException
from litestar.params import Parameter

from app.filters import Filters
from app.schemas import Decision

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
    """Contract type, gender, age band, income band and decision, each optional; a band upside down is refused."""
    for name, low, high in (("age", age_min, age_max), ("income", income_min, income_max)):
        if low is not None and high is not None and low > high:
            raise _refused(f"{name}_min", f"{name}_min must not exceed {name}_max", f"greater than {name}_max")
    return Filters(contract_type, gender, age_min, age_max, income_min, income_max, decision)


def provide_group(filters: Filters, ids: str | None = None) -> Filters:
    """The filters, restricted to the listed clients when `ids` (comma-separated) is given."""
    if ids is None:
        return filters
    try:
        parsed = tuple(int(i) for i in ids.split(",") if i.strip())
    except ValueError:
        raise _refused("ids", "ids: a comma-separated list of client ids (integers) is expected",
                       "comma-separated integers expected") from None
    if len(parsed) > MAX_IDS:
        raise _refused("ids", f"ids: at most {MAX_IDS} ids", f"at most {MAX_IDS} ids")
    return dataclasses.replace(filters, ids=parsed)
