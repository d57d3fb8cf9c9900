"""What the prediction API knows and computes, apart from HTTP, in four parts a reader can name:

- `sources`: where the served model and the known clients come from (the pipeline's files or the bank database);
- `scoring`: scoring and explaining applications (`Scoring`);
- `population`: the known clients scored once, groups, population statistics and neighbours (`ClientGroups`);
- `wording`: French labels and readable values, the client sheet (`Wording`).

Everything is loaded once at start-up and then only read, so request handlers share it across threads without
locks. Every answer is one of the API's msgspec structs (`app.api.bodies`).
"""

from __future__ import annotations

from pathlib import Path

from app.api.bodies import ClientSheet
from app.api.service.population import PROBABILITY, SIMILARITY, ClientGroups
from app.api.service.scoring import Scoring, UnknownClient
from app.api.service.sources import KnownClients, clients_from_database, clients_from_files, served_model
from app.api.service.wording import Wording
from credit_scoring.dataset.bank.database import DEFAULT_SCHEMA
from credit_scoring.dataset.schema import SENTINEL_DAYS
from credit_scoring.explain.local import ExplainConfig
from credit_scoring.features.labels import feature_labels
from credit_scoring.modeling.bundle import Bundle

__all__ = ["PROBABILITY", "SIMILARITY", "ScoringService", "UnknownClient"]


class ScoringService:
    """The served model and the known clients, loaded once: its parts are `scoring`, `groups` and `wording`."""

    def __init__(self, bundle: Bundle, explain: ExplainConfig, clients: KnownClients) -> None:
        self.bundle = bundle
        self.clients = clients
        self.wording = Wording({**feature_labels(), **explain.labels})
        self.scoring = Scoring(bundle, explain, clients, self.wording.labels)
        self.groups = ClientGroups(self.scoring)
        self.table = self.groups.table

    @classmethod
    def load(cls, model_dir: str | Path, explain_dir: str | Path, data_dir: str | Path) -> ScoringService:
        """The known clients of the pipeline's files (`data/prepared`, `data/features`)."""
        return cls(*served_model(model_dir, explain_dir), clients_from_files(data_dir))

    @classmethod
    def from_database(cls, model_dir: str | Path, explain_dir: str | Path, url: str,
                      schema: str = DEFAULT_SCHEMA) -> ScoringService:
        """The known clients of the bank database, read as a read-only role (see `sources`)."""
        return cls(*served_model(model_dir, explain_dir), clients_from_database(url, schema))

    def client_sheet(self, client_id: int) -> ClientSheet:
        """A known client's readable sheet (a pensioner's employment said in words)."""
        row = self.groups.row(client_id)
        pensioner = self.clients.applications.loc[client_id, "DAYS_EMPLOYED"] == SENTINEL_DAYS
        return self.wording.client_sheet(client_id, str(self.clients.datasets.loc[client_id]), row, pensioner,
                                         self.groups.values(row))
