"""The prediction API with its prediction events kept in memory only: the floor that `benchmarks/api_load.py`
measures the durable event store against. Never a way to serve: an answer here does not wait for any record.

    PYTHONPATH=<checkout> python benchmarks/api_memory_floor.py   (same environment as ``python -m app.api``)

Everything else is the served API of that checkout: the same app, settings, workers, scoring, checks of each
event (`event_row`, in the request's thread as in `EventWriter.put_many`); only the writer is replaced by one that
appends the rows to a list and resolves the request's future at once. The access log of personal-data routes
still writes to ``EVENTS_URL``. At shutdown each worker prints ``MEMORY_EVENTS predict=<n> ...`` (per endpoint) on
stderr, the benchmark's count of events kept against requests answered.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from concurrent.futures import Future

import app.api.server as server
from credit_scoring.production.events import event_row


class MemoryWriter:
    """`EventWriter`'s interface (put, put_many, timeout, close) over a list: nothing is stored."""

    def __init__(self, _engine=None, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.rows: list[dict] = []

    def put(self, event_: dict) -> Future:
        return self.put_many([event_])

    def put_many(self, events: list[dict]) -> Future:
        rows = [event_row(e) for e in events]
        self.rows += rows
        future: Future = Future()
        future.set_result(len(rows))
        return future

    def close(self, timeout: float | None = None) -> None:
        kept = Counter(row["endpoint"] for row in self.rows)
        print("MEMORY_EVENTS", *(f"{name}={n}" for name, n in sorted(kept.items())), file=sys.stderr, flush=True)


server.EventWriter = MemoryWriter
server.create_store = lambda url=None: None


def create_app():
    """The factory each uvicorn worker imports (the replacement above happens in every worker)."""
    return server.create_app()


def main() -> None:
    import uvicorn

    workers = int(os.environ.get("WORKERS", "1"))
    server.name_master(workers)
    uvicorn.run("api_memory_floor:create_app", factory=True,
                host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8000")), workers=workers,
                log_config=server.LOG_CONFIG, access_log=False)


if __name__ == "__main__":
    main()
