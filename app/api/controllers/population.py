"""Groups of known clients: a feature's distribution and a sample on two features (personal data: the API key
is required)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from litestar import Controller, get
from litestar.di import Provide
from litestar.exceptions import ValidationException
from litestar.params import Parameter

from app.api.bodies import Points, Population
from app.api.dependencies import FILTER_DOC, provide_group
from app.api.runtime import Scorer
from app.api.security import requires
from app.api.service.population import ClientGroups
from app.filters import Filters


def _feature(groups: ClientGroups, name: str, key: str, kind: str | None = None) -> str:
    """A comparable feature's name (of the given kind), or a 400 naming the query parameter at fault."""
    names = [f.name for f in groups.comparable if kind is None or f.kind == kind]
    if name not in names:
        raise ValidationException(detail=f"{key}: unknown feature {name!r}; one of {', '.join(names)}",
                                  extra=[{"key": key, "message": f"unknown feature {name!r}"}])
    return name


class PopulationController(Controller):
    path = "/population"
    dependencies: ClassVar = {"group": Provide(provide_group, sync_to_thread=False)}

    @get("/", summary="Distribution of a feature over all clients or a filtered group",
         description=FILTER_DOC + " `ids` restricts to listed clients (e.g. the similar ones).", sync_to_thread=False,
         **requires("clients", personal_data=True))
    def population(self, scorer: Scorer, feature: str, group: Filters,
                   bins: Annotated[int, Parameter(ge=5, le=100)] = 30) -> Population:
        groups = scorer.service.groups
        return groups.population(_feature(groups, feature, "feature"), group, bins)

    @get("/points", summary="A sample of clients on two features (for a scatter plot)", description=FILTER_DOC,
         sync_to_thread=False, **requires("clients", personal_data=True))
    def population_points(self, scorer: Scorer, x: str, y: str, group: Filters,
                          n: Annotated[int, Parameter(ge=10, le=2000)] = 500) -> Points:
        service = scorer.service
        x, y = _feature(service.groups, x, "x", "number"), _feature(service.groups, y, "y", "number")
        return Points(x=x, y=y, x_label=service.wording.feature_label(x), y_label=service.wording.feature_label(y),
                      points=service.groups.points(x, y, group, n))
