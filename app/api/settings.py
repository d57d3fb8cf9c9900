"""The prediction API's settings, from environment variables only; folder defaults from `credit_scoring.common.paths`.

- ``MODEL_DIR`` (default ``models/champion``), ``EXPLAIN_DIR`` (default ``models/explain``) and ``DATA_DIR``
  (default ``data``: the known clients, from ``data/prepared`` and ``data/features``);
- ``DATABASE_URL`` (and ``DATABASE_SCHEMA``, default ``bank``): read the known clients from the bank database
  instead (`credit_scoring.dataset.bank`), as its read-only role: a PostgreSQL role that may write is refused;
- ``API_KEY``: a bootstrap application key (``X-API-Key`` header) holding every key scope, for tests, demos and
  CI; a production deployment sets none and gives each application its own key (``python -m app.users key``);
- ``TOKEN_SECRET`` (at least 32 characters): signs people's tokens; without it a random secret is made at start
  (tokens then end with the process; refused with several workers); ``TOKEN_MINUTES`` (default 30): a token's
  lifetime; ``LOGIN_MAX_FAILURES`` (default 5) wrong passwords in a row lock a name for ``LOGIN_LOCK_SECONDS``
  (default 900);
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
from credit_scoring.production.accounts import LoginPolicy

RATE_UNITS = ("second", "minute", "hour", "day")
MIN_SECRET = 32


def _number(env, name: str, default: float) -> float:
    text = env.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {text!r}")
    return value


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
    token_secret: str | None = None
    token_minutes: float = 30.0
    login: LoginPolicy = field(default_factory=LoginPolicy)

    def __post_init__(self) -> None:
        if self.token_secret is not None and len(self.token_secret) < MIN_SECRET:
            raise ValueError(f"TOKEN_SECRET must hold at least {MIN_SECRET} characters (random, from a secret store)")
        if not 0 < self.token_minutes <= 24 * 60:
            raise ValueError(f"TOKEN_MINUTES must be a number of minutes in (0, 1440], got {self.token_minutes}")

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
            token_secret=env.get("TOKEN_SECRET") or None,
            token_minutes=_number(env, "TOKEN_MINUTES", cls.token_minutes),
            login=LoginPolicy(max_failures=int(_number(env, "LOGIN_MAX_FAILURES", LoginPolicy.max_failures)),
                              lock_seconds=int(_number(env, "LOGIN_LOCK_SECONDS", LoginPolicy.lock_seconds))),
        )

    def load_service(self) -> ScoringService:
        """The known clients from the bank database when DATABASE_URL is set, else from the pipeline's files."""
        if self.database_url:
            return ScoringService.from_database(self.model_dir, self.explain_dir, self.database_url,
                                                self.database_schema)
        return ScoringService.load(self.model_dir, self.explain_dir, self.data_dir)
