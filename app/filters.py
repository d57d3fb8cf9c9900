"""A group of clients as the dashboard narrows it: the one filter struct of the API and of the page's client.

Standard library only, so that the page (which never imports the model's code) shares it with the API.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Filters:
    """Every criterion is optional (None means "all"); values are those the API's /clients and /population
    routes accept. `ids` restricts the group to listed clients (e.g. the similar ones)."""

    contract_type: str | None = None
    gender: str | None = None
    age_min: float | None = None
    age_max: float | None = None
    income_min: float | None = None
    income_max: float | None = None
    decision: str | None = None
    ids: tuple[int, ...] | None = None

    def query(self) -> dict[str, Any]:
        """The query parameters of the set criteria (ids as the comma-separated list the API reads)."""
        out = {k: v for k, v in asdict(self).items() if v is not None}
        if self.ids is not None:
            out["ids"] = ",".join(str(i) for i in self.ids)
        return out
