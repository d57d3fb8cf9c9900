"""The prediction API's settings, from environment variables only; folder defaults from `credit_scoring.common.paths`.

- ``MODEL_DIR`` (default ``models/champion``), ``EXPLAIN_DIR`` (default ``models/explain``) and ``DATA_DIR``
  (default ``data``: the known clients, from ``data/prepared`` and ``data/features``);
- ``DATABASE_URL`` (and ``DATABASE_SCHEMA``, default ``bank``): read the known clients from the bank database
  instead (`credit_scoring.dataset.bank`), as its read-only role: a PostgreSQL role that may write is refused;
- ``API_KEY``: the key ``/clients…`` and ``/population…`` require in the ``X-API-Key`` header (personal data);
  without it those routes answer 503;
- ``EVENTS_URL``: the prediction event store (default ``sqlite:///events.db``; a PostgreSQL URL works);
- ``RATE_LIMIT`` (requests per client address, default ``100/second``; units second, minute, hour, day);
- ``CORS_ORIGINS``: comma-separated origins allowed to call from a browser (default none);
- ``MAX_BODY_BYTES`` (default 4 MB).

``HOST``, ``PORT`` and ``WORKERS`` are uvicorn's (see `app.api.main`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import cast

from litestar.middleware.rate_limit import DurationUnit

from app.api.service import ScoringService
from credit_scoring.common import paths
from credit_scoring.dataset.bank.database import DEFAULT_SCHEMA

RATE_UNITS = ("second", "minute", "hour", "day")


def parse_rate_limit(text: str) -> tuple[DurationUnit, int]:
    """'100/second' -> ('second', 100); refuses anything else with a message saying what is expected."""
    count, _, unit = text.partition("/")
    if unit not in RATE_UNITS or not count.strip().isdigit() or int(count) < 1:
        raise ValueError(f"RATE_LIMIT must look like '100/second' (second, minute, hour or day), got {text!r}")
    return cast(DurationUnit, unit), int(count)


@dataclass(frozen=True)
class Settings:
    model_dir: str = str(paths.CHAMPION)
    explain_dir: str = str(paths.EXPLAIN)
    data_dir: str = str(paths.DATA)
    api_key: str | None = None
    events_url: str | None = None
    rate_limit: tuple[DurationUnit, int] = ("second", 100)
    cors_origins: list[str] = field(default_factory=list)
    max_body_bytes: int = 4_000_000
    database_url: str | None = None
    database_schema: str = DEFAULT_SCHEMA

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            model_dir=env.get("MODEL_DIR", cls.model_dir),
            explain_dir=env.get("EXPLAIN_DIR", cls.explain_dir),
            data_dir=env.get("DATA_DIR", cls.data_dir),
            api_key=env.get("API_KEY") or None,
            events_url=env.get("EVENTS_URL") or None,
            rate_limit=parse_rate_limit(env.get("RATE_LIMIT", "100/second")),
            cors_origins=[o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip()],
            max_body_bytes=int(env.get("MAX_BODY_BYTES", cls.max_body_bytes)),
            database_url=env.get("DATABASE_URL") or None,
            database_schema=env.get("DATABASE_SCHEMA", cls.database_schema),
        )

    def load_service(self) -> ScoringService:
        """The known clients from the bank database when DATABASE_URL is set, else from the pipeline's files."""
        if self.database_url:
            return ScoringService.from_database(self.model_dir, self.explain_dir, self.database_url,
                                                self.database_schema)
        return ScoringService.load(self.model_dir, self.explain_dir, self.data_dir)
