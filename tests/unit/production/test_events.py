"""The prediction-event store on SQLite and PostgreSQL, and the group-commit writer the API awaits before answering."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from credit_scoring.production import events as E


def an_event(**changes) -> dict:
    """One event as the API would send it, with the numpy values and NaN a pandas row carries."""
    event = {
        "model_version": "3",
        "client_id": np.int64(100002),
        "inputs": {
            "AMT_CREDIT": np.float64(406597.5),
            "CNT_CHILDREN": np.int64(0),
            "EXT_SOURCE_1": float("nan"),
            "NAME_CONTRACT_TYPE": "Cash loans",
        },
        "probability": 0.31,
        "decision": "refusé",
        "threshold": 0.09,
        "latency_ms": 12.5,
        "endpoint": "/predict",
    }
    return {**event, **changes}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """An empty store on each backend: a SQLite file, or the test run's own PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'events.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = E.create_store(url)
    E.metadata.drop_all(engine)
    E.metadata.create_all(engine)
    yield engine
    engine.dispose()


def stored(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(E.prediction_events)).scalar_one()


def test_store_url_defaults_to_the_sqlite_file_and_gives_postgres_the_psycopg_driver(monkeypatch):
    monkeypatch.delenv("EVENTS_URL", raising=False)
    assert E.store_url() == "sqlite:///events.db"
    monkeypatch.setenv("EVENTS_URL", "postgresql://u:p@db:5432/events")
    assert E.store_url() == "postgresql+psycopg://u:p@db:5432/events"
    assert E.store_url("postgres://db/x") == "postgresql+psycopg://db/x"
    assert E.store_url("postgresql+psycopg://db/x") == "postgresql+psycopg://db/x"


def test_events_round_trip_with_inputs_as_columns(store):
    written_at = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    paris = datetime(2025, 3, 1, 15, 0, tzinfo=ZoneInfo("Europe/Paris"))  # 14:00 UTC
    assert E.write_events(store, [an_event(created_at=written_at), an_event(client_id=None, created_at=paris)]) == 2

    events = E.read_events(store)
    assert list(events.columns[:10]) == [c for c in E.EVENT_COLUMNS if c != "inputs"]
    assert events["id"].tolist() == [1, 2]
    assert events["created_at"].dt.tz is not None
    assert events["created_at"].tolist() == [pd.Timestamp(written_at), pd.Timestamp("2025-03-01 14:00", tz="UTC")]
    assert events["client_id"].tolist() == [100002, pd.NA]
    assert events["request_id"].nunique() == 2
    assert events["decision"].tolist() == ["refusé", "refusé"]
    assert events["AMT_CREDIT"].tolist() == [406597.5, 406597.5]
    assert events["CNT_CHILDREN"].tolist() == [0, 0]
    assert events["EXT_SOURCE_1"].isna().all()  # NaN travels as JSON null
    assert events["NAME_CONTRACT_TYPE"].tolist() == ["Cash loans", "Cash loans"]


def test_read_events_takes_the_latest_window_in_write_order(store):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    E.write_events(store, [an_event(created_at=start + timedelta(hours=h), latency_ms=float(h)) for h in range(10)])
    assert E.read_events(store, limit=3)["latency_ms"].tolist() == [7.0, 8.0, 9.0]
    assert E.read_events(store, since=start + timedelta(hours=8))["latency_ms"].tolist() == [8.0, 9.0]
    assert E.read_events(store, since=start + timedelta(hours=2), limit=2)["latency_ms"].tolist() == [8.0, 9.0]
    empty = E.read_events(store, since=start + timedelta(days=1))
    assert empty.empty and "probability" in empty.columns


def test_a_batch_is_written_whole_or_not_at_all(store):
    E.write_events(store, [an_event(request_id="r-1")])
    with pytest.raises(IntegrityError):
        E.write_events(store, [an_event(request_id="r-2"), an_event(request_id="r-1")])
    assert stored(store) == 1


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"decision": "maybe"}, "decision"),
        ({"probability": float("nan")}, "finite"),
        ({"inputs": [1, 2]}, "inputs"),
        ({"created_at": datetime(2025, 1, 1)}, "timezone-aware"),
        ({"endpoint": None}, "missing"),
        ({"score": 0.3}, "unknown"),
    ],
)
def test_a_malformed_event_is_refused_before_it_is_queued(changes, message):
    with pytest.raises(ValueError, match=message):
        E.event_row(an_event(**changes))


def test_writer_stores_every_event_from_many_threads_once(store):
    """10 threads put 300 events each, each waiting for its event to be stored before the next, as requests do:
    every event is stored once (how they group depends on how the threads overlap: see the next test)."""
    writer = E.EventWriter(store)

    def client() -> None:
        for _ in range(300):
            assert writer.put(an_event()).result(timeout=30) == 1

    threads = [threading.Thread(target=client) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert writer.written == 3000 and stored(store) == 3000
    assert E.read_events(store)["request_id"].nunique() == 3000
    assert writer.transactions <= 3000


def test_events_that_wait_together_share_one_commit(store, monkeypatch):
    """Group commit, made certain rather than hoped for: the writer's first transaction is held at a gate while
    nine requests from nine threads queue their events behind it; once the gate opens, the nine are committed in
    one transaction (two in all for ten events), and every caller learns its event is stored."""
    writer = E.EventWriter(store)
    real_begin, entered, gate = store.begin, threading.Event(), threading.Event()

    def gated_begin(*args, **kwargs):
        entered.set()
        assert gate.wait(30), "the test never opened the gate"
        return real_begin(*args, **kwargs)

    monkeypatch.setattr(store, "begin", gated_begin)
    first = writer.put(an_event(request_id="first"))
    assert entered.wait(30)  # the writer holds the first event and waits at the gate
    barrier = threading.Barrier(9)
    futures: dict[int, Future] = {}

    def request(i: int) -> None:
        barrier.wait(30)  # the nine requests arrive together
        futures[i] = writer.put(an_event(request_id=f"waiting-{i}"))

    threads = [threading.Thread(target=request, args=(i,)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(futures) == 9 and writer.pending == 9
    gate.set()
    assert [first.result(timeout=30), *(futures[i].result(timeout=30) for i in range(9))] == [1] * 10
    writer.close()
    assert writer.transactions == 2 and stored(store) == 10


def test_an_event_is_stored_before_its_future_resolves(store):
    """What the API waits for: when the future says stored, another connection already sees the row."""
    seen = []
    with E.EventWriter(store) as writer:
        for i in range(20):
            future = writer.put(an_event(request_id=f"r-{i}"))
            future.add_done_callback(lambda _f, i=i: seen.append((i, stored(store))))
            future.result(timeout=30)
    assert seen == [(i, i + 1) for i in range(20)]


def test_put_many_stores_a_request_s_events_together(store):
    with E.EventWriter(store) as writer:
        assert writer.put_many([an_event() for _ in range(7)]).result(timeout=30) == 7
    assert stored(store) == 7


def test_close_commits_what_is_queued_and_refuses_more(store):
    writer = E.EventWriter(store)
    futures = [writer.put(an_event()) for _ in range(100)]
    writer.close()
    assert all(f.done() and f.result() == 1 for f in futures) and stored(store) == 100
    with pytest.raises(RuntimeError, match="closed"):
        writer.put(an_event())


def failing_begin(store, monkeypatch, failures: int | None):
    """engine.begin fails `failures` times (None: always), as a store that is down does; returns the count."""
    real_begin, failed = store.begin, []

    def flaky_begin():
        if failures is None or len(failed) < failures:
            failed.append(1)
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        return real_begin()

    monkeypatch.setattr(store, "begin", flaky_begin)
    return failed


def test_writer_retries_while_the_database_fails_briefly(store, monkeypatch):
    """Three failed attempts and then success, within the timeout: nothing is lost, no caller is refused."""
    failed = failing_begin(store, monkeypatch, 3)
    with E.EventWriter(store, timeout=10) as writer:
        futures = [writer.put(an_event()) for _ in range(50)]
        assert [f.result(timeout=30) for f in futures] == [1] * 50
    assert len(failed) == 3 and stored(store) == 50


def test_a_store_that_stays_down_fails_the_callers_in_time_and_stores_nothing_of_theirs(store, monkeypatch):
    failing_begin(store, monkeypatch, None)
    writer = E.EventWriter(store, timeout=0.5)
    futures = [writer.put(an_event(request_id=f"lost-{i}")) for i in range(5)]
    for future in futures:  # refused within a few writer timeouts: a hung writer would raise TimeoutError here
        with pytest.raises(E.StoreUnavailable, match="server closed the connection"):
            future.result(timeout=3)
    monkeypatch.undo()  # the store is back: the next event is stored, the refused ones never are
    assert writer.put(an_event(request_id="after")).result(timeout=10) == 1
    writer.close()
    assert E.read_events(store)["request_id"].tolist() == ["after"]


def test_a_request_id_already_stored_fails_its_caller_only(store, monkeypatch):
    """The duplicate shares a transaction with four other callers (the first commit is held until they are all
    queued): those four are stored, the duplicate's caller hears the integrity error."""
    E.write_events(store, [an_event(request_id="seen")])
    real_begin, gate = store.begin, threading.Event()

    def held_begin():
        gate.wait(10)
        return real_begin()

    monkeypatch.setattr(store, "begin", held_begin)
    with E.EventWriter(store) as writer:
        first = writer.put(an_event(request_id="first"))
        futures = {f"new-{i}": writer.put(an_event(request_id=f"new-{i}")) for i in range(4)}
        duplicate = writer.put(an_event(request_id="seen"))
        gate.set()
        assert first.result(timeout=10) == 1 and all(f.result(timeout=10) == 1 for f in futures.values())
        with pytest.raises(IntegrityError):
            duplicate.result(timeout=10)
    assert writer.written == 5 and stored(store) == 6


def _open_store(url: str, barrier) -> None:
    barrier.wait()
    E.create_store(url).dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_workers_starting_together_on_a_new_store_all_open_it(backend, tmp_path, request):
    """Uvicorn starts its workers at once: each creates the table if it is missing, and none may fail for it."""
    import multiprocessing

    url = f"sqlite:///{tmp_path / 'new.db'}"
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
        E.metadata.drop_all(E.create_store(url))
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    workers = [context.Process(target=_open_store, args=(url, barrier)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    engine = E.create_store(url)
    assert stored(engine) == 0
    engine.dispose()


def test_the_writer_stores_exactly_what_write_events_stores(store):
    """The writer's own insert paths (the SQLite and psycopg drivers' executemany) and write_events (SQLAlchemy)
    agree."""
    when = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=ZoneInfo("Europe/Paris"))
    inputs = {"AMT_CREDIT": 1.5e5, "NAME_CONTRACT_TYPE": "Cash loans", "EXT_SOURCE_1": None, "CNT_CHILDREN": 2}
    E.write_events(store, [an_event(request_id="a", created_at=when, inputs=inputs, client_id=100002)])
    with E.EventWriter(store) as writer:
        writer.put(an_event(request_id="b", created_at=when, inputs=inputs, client_id=100002)).result(timeout=30)
    events = E.read_events(store).drop(columns=["id", "request_id"])
    assert events["created_at"].iloc[1] == pd.Timestamp(when).tz_convert("UTC")
    pd.testing.assert_series_equal(events.iloc[0], events.iloc[1], check_names=False)
