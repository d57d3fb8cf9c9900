"""Loan outcomes: stored once (idempotent), refused when they name no decision, a batch all or nothing, on SQLite
and PostgreSQL, from a CSV file and from POST /outcomes; realized AUC and cost equal a hand computation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import TestClient
from sqlalchemy import delete, select

from app.api.controllers.outcomes import OutcomesController
from app.api.errors import EXCEPTION_HANDLERS
from app.api.personal_data import AccessLog
from app.api.security import Authenticator
from app.api.settings import Settings
from app.monitor.__main__ import main
from credit_scoring.production import performance as perf
from credit_scoring.production.accesses import request_accesses
from credit_scoring.production.events import create_store, prediction_events, write_events
from credit_scoring.production.outcomes import (
    Outcome,
    OutcomeError,
    UnknownDecision,
    create_outcome_store,
    loan_outcomes,
    read_decisions,
    read_outcome_csv,
    read_outcomes,
    store_outcomes,
)

DAY = datetime(2026, 3, 1, tzinfo=UTC)
KEY = {"X-API-Key": "outcomes-key"}


def decision(request_id: str, client_id: int | None, created_at: datetime, probability: float = 0.1) -> dict:
    return {"request_id": request_id, "client_id": client_id, "created_at": created_at, "model_version": "1",
            "inputs": {"AMT_CREDIT": 1e5}, "probability": probability,
            "decision": "refusé" if probability >= 0.5 else "accordé", "threshold": 0.5, "latency_ms": 3.0,
            "endpoint": "predict"}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """An event store holding four decisions and no outcome: r1 and r3 for client 7 (days 0 and 10), r2 for client
    8, r4 without a client id."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else f"sqlite:///{tmp_path}/e.db"
    engine = create_outcome_store(url)
    with engine.begin() as connection:  # the PostgreSQL database is shared by the session's tests
        connection.execute(delete(loan_outcomes))
        connection.execute(delete(prediction_events))
    write_events(engine, [decision("r1", 7, DAY), decision("r2", 8, DAY), decision("r3", 7, DAY + timedelta(10)),
                          decision("r4", None, DAY)])
    engine.dispose()
    return url


@pytest.fixture
def engine(store_url):
    engine = create_outcome_store(store_url)
    yield engine
    engine.dispose()


def outcome(target: int, days: int = 30, request_id: str | None = None, client_id: int | None = None) -> Outcome:
    return Outcome(target=target, observed_at=DAY + timedelta(days), request_id=request_id, client_id=client_id)


def test_the_same_outcome_sent_twice_is_stored_once(engine):
    first = store_outcomes(engine, [outcome(1, request_id="r1"), outcome(0, request_id="r2")])
    again = store_outcomes(engine, [outcome(1, request_id="r1"), outcome(0, request_id="r4")])
    assert (first.stored, first.already) == (2, 0) and (again.stored, again.already) == (1, 1)
    stored = read_outcomes(engine).sort_values("request_id")
    assert stored["request_id"].tolist() == ["r1", "r2", "r4"] and stored["target"].tolist() == [1, 0, 0]
    assert stored["client_id"].tolist()[:2] == [7, 8]  # the decision's client when only the request id was sent


def test_an_unknown_request_id_is_named_and_the_batch_stores_nothing(engine):
    with pytest.raises(UnknownDecision) as refused:
        store_outcomes(engine, [outcome(1, request_id="r1"), outcome(0, request_id="nope")])
    assert "unknown request_id 'nope'" in str(refused.value) and list(refused.value.problems) == [1]
    assert read_outcomes(engine).empty


def test_a_contradicting_target_is_refused_and_nothing_of_its_batch_is_stored(engine):
    store_outcomes(engine, [outcome(1, request_id="r1")])
    with pytest.raises(OutcomeError, match="already has TARGET=1"):
        store_outcomes(engine, [outcome(0, request_id="r2"), outcome(0, request_id="r1")])
    with pytest.raises(OutcomeError, match="contradicts"):
        store_outcomes(engine, [outcome(0, request_id="r2"), outcome(1, request_id="r2")])
    assert read_outcomes(engine)["request_id"].tolist() == ["r1"]


def test_a_client_id_joins_the_latest_decision_at_or_before_the_observation(engine):
    store_outcomes(engine, [outcome(1, days=5, client_id=7), outcome(0, days=40, client_id=7)])
    assert dict(read_outcomes(engine)[["request_id", "target"]].itertuples(index=False)) == {"r1": 1, "r3": 0}
    with pytest.raises(UnknownDecision, match="no decision served for SK_ID_CURR=9"):
        store_outcomes(engine, [outcome(1, client_id=9)])
    with pytest.raises(UnknownDecision, match="no decision served for SK_ID_CURR=8 at or before"):
        store_outcomes(engine, [outcome(1, days=-1, client_id=8)])
    with pytest.raises(UnknownDecision, match="served for SK_ID_CURR=8, not 7"):
        store_outcomes(engine, [outcome(1, request_id="r2", client_id=7)])


# -- the CSV file ----------------------------------------------------------------------------------------------
def write_csv(path, text: str):
    path.write_text(text)
    return path


def test_the_csv_command_stores_outcomes_once(store_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EVENTS_URL", store_url)
    csv = write_csv(tmp_path / "o.csv", "request_id,SK_ID_CURR,TARGET,observed_at\nr1,,1,2026-04-01\n"
                                        ",8,0,2026-04-02T09:00:00+02:00\n")
    assert main(["outcomes", "--file", str(csv)]) == 0
    assert "2 stored, 0 already there" in capsys.readouterr().out
    assert main(["outcomes", "--file", str(csv)]) == 0
    assert "0 stored, 2 already there" in capsys.readouterr().out


def test_the_csv_command_names_the_unknown_request_and_stores_nothing(store_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EVENTS_URL", store_url)
    csv = write_csv(tmp_path / "o.csv", "request_id,TARGET,observed_at\nr1,1,2026-04-01\nghost,0,2026-04-01\n")
    assert main(["outcomes", "--file", str(csv)]) == 2
    assert "o.csv line 3: unknown request_id 'ghost'" in capsys.readouterr().err
    engine = create_outcome_store(store_url)
    assert read_outcomes(engine).empty
    engine.dispose()


@pytest.mark.parametrize(("text", "message"), [
    ("request_id,TARGET,observed_at\nr1,2,2026-04-01\n", "line 2, column TARGET: expected 0 or 1, got '2'"),
    ("request_id,TARGET,observed_at\nr1,1,31/04/2026\n", "line 2, column observed_at: expected an ISO date"),
    ("SK_ID_CURR,TARGET,observed_at\n7,1,2026-04-01\nx7,0,2026-04-01\n",
     "line 3, column SK_ID_CURR: expected a whole number, got 'x7'"),
    ("request_id,SK_ID_CURR,TARGET,observed_at\n,,1,2026-04-01\n", "line 2: request_id and SK_ID_CURR are both empty"),
    ("TARGET,observed_at\n1,2026-04-01\n", "missing columns ['request_id or SK_ID_CURR']"),
    ("request_id,TARGET,observed_at,amount\nr1,1,2026-04-01,3\n", "unknown columns ['amount']"),
])
def test_bad_csv_cells_are_named_by_line_and_column(tmp_path, text, message):
    with pytest.raises(ValueError, match="") as refused:
        read_outcome_csv(write_csv(tmp_path / "o.csv", text))
    assert message in str(refused.value)


# -- POST /outcomes ---------------------------------------------------------------------------------------------
@pytest.fixture
def api(store_url):
    settings = Settings(api_key=KEY["X-API-Key"], events_url=store_url)
    authenticator = Authenticator("a-secret-of-at-least-32-characters", 5, settings.api_key)
    app = Litestar(route_handlers=[OutcomesController], state=State({"settings": settings,
                                                                     "authenticator": authenticator}),
                   middleware=[AccessLog()], exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as client:
        yield client
    if app.state.get("event_store") is not None:
        app.state.event_store.dispose()


def test_post_outcomes_is_idempotent_and_says_what_it_stored(api, store_url):
    body = {"outcomes": [{"request_id": "r1", "TARGET": 1, "observed_at": "2026-04-01T00:00:00Z"},
                         {"SK_ID_CURR": 8, "TARGET": 0, "observed_at": "2026-04-01T00:00:00+02:00"}]}
    first = api.post("/outcomes", json=body, headers=KEY)
    assert first.status_code == 200 and first.json() == {"stored": 2, "already_stored": 0}
    logged = request_accesses(create_store(store_url), first.headers["X-Request-Id"])
    assert [(a.who, a.kind, a.client_id, a.route) for a in logged] == [  # r1 was served for client 7
        ("API_KEY", "key", 7, "POST /outcomes"), ("API_KEY", "key", 8, "POST /outcomes")]
    assert api.post("/outcomes", json=body, headers=KEY).json() == {"stored": 0, "already_stored": 2}


def test_post_outcomes_names_an_unknown_request_id_and_stores_nothing(api):
    body = {"outcomes": [{"request_id": "r2", "TARGET": 0, "observed_at": "2026-04-01T00:00:00Z"},
                         {"request_id": "ghost", "TARGET": 1, "observed_at": "2026-04-01T00:00:00Z"}]}
    refused = api.post("/outcomes", json=body, headers=KEY)
    assert refused.status_code == 404 and "outcomes[1]: unknown request_id 'ghost'" in refused.json()["detail"]
    ok = {"outcomes": body["outcomes"][:1]}
    assert api.post("/outcomes", json=ok, headers=KEY).json() == {"stored": 1, "already_stored": 0}
    contradicting = {"outcomes": [{**body["outcomes"][0], "TARGET": 1}]}
    conflict = api.post("/outcomes", json=contradicting, headers=KEY)
    assert conflict.status_code == 409 and "outcomes[0]" in conflict.json()["detail"]


@pytest.mark.parametrize(("outcome", "field"), [
    ({"request_id": "r1", "TARGET": 2, "observed_at": "2026-04-01T00:00:00Z"}, "outcomes[0].TARGET"),
    ({"request_id": "r1", "TARGET": True, "observed_at": "2026-04-01T00:00:00Z"}, "outcomes[0].TARGET"),
    ({"request_id": "r1", "TARGET": 1, "observed_at": "2026-04-01T00:00:00"}, "outcomes[0].observed_at"),
    ({"request_id": "r1", "TARGET": 1, "observed_at": "2026-04-01T00:00:00Z", "x": 1}, "outcomes[0]"),
    ({"SK_ID_CURR": "7", "TARGET": 1, "observed_at": "2026-04-01T00:00:00Z"}, "outcomes[0].SK_ID_CURR"),
    ({"TARGET": 1, "observed_at": "2026-04-01T00:00:00Z"}, "outcomes[0]: request_id or SK_ID_CURR is required"),
    ({"request_id": "r1", "TARGET": 1, "observed_at": "0001-01-01T00:00:00+14:00"}, "outcomes[0].observed_at"),
    ({"request_id": "r 1", "TARGET": 1, "observed_at": "2026-04-01T00:00:00Z"}, "outcomes[0].request_id"),
    ({"SK_ID_CURR": 2**64, "TARGET": 1, "observed_at": "2026-04-01T00:00:00Z"}, "outcomes[0].SK_ID_CURR"),
])
def test_post_outcomes_validates_strictly(api, outcome, field):
    refused = api.post("/outcomes", json={"outcomes": [outcome]}, headers=KEY)
    assert refused.status_code == 400 and field in refused.json()["detail"], refused.json()


def test_post_outcomes_needs_credentials(api):
    body = {"outcomes": [{"request_id": "r1", "TARGET": 1, "observed_at": "2026-04-01T00:00:00Z"}]}
    assert api.post("/outcomes", json=body).status_code == 401


# -- realized performance ---------------------------------------------------------------------------------------
COST = {"fn": 10, "fp": 1}


def test_realized_auc_and_cost_equal_a_hand_computation():
    """Defaults have probabilities 0.9 and 0.3, repaid loans 0.8, 0.6, 0.2, 0.1: 0.9 ranks above the four, 0.3
    above two, AUC 6/8. Refused at 0.5: client 2 (0.8) and client 5 (0.6) repaid (fp: 1 each), client 3 (0.3) was
    granted and defaulted (fn: 10): cost 12 over 6 clients. One default among the three granted loans."""
    probability = [0.9, 0.8, 0.3, 0.2, 0.6, 0.1]
    decisions = pd.DataFrame({"request_id": list("abcdef"), "probability": probability, "threshold": 0.5,
                              "decision": ["refusé" if p >= 0.5 else "accordé" for p in probability],
                              "created_at": pd.Timestamp("2026-03-02", tz="UTC")})
    outcomes = pd.DataFrame({"request_id": list("abcdef"), "target": [1, 0, 1, 0, 0, 0]})
    period = perf.realized_performance(decisions, outcomes, None, COST, 0.01, 1, "month")["2026-03"]
    realized = period["realized"]
    assert realized["auc"] == pytest.approx(6 / 8) and realized["cost_per_client"] == pytest.approx(12 / 6)
    assert realized["default_rate_granted"] == pytest.approx(1 / 3) and realized["default_rate"] == pytest.approx(2 / 6)
    assert period["outcomes_known"] == 6 and period["estimate"]["kind"] == "estimate"


def test_hanley_mcneil_standard_error():
    """A = 0.8 over 50 defaults and 50 repaid loans: Q1 = 0.8 / 1.2, Q2 = 1.28 / 1.8, variance 4.951 / 2500."""
    assert perf.hanley_mcneil_se(0.8, 50, 50) == pytest.approx(0.0445, abs=5e-4)


def test_the_estimate_matches_realized_figures_of_a_calibrated_model():
    import numpy as np

    rng = np.random.default_rng(0)
    p = rng.beta(1.6, 18.4, 200_000)
    target = (rng.random(len(p)) < p).astype("int64")
    estimated, realized = perf.estimate(p, p >= 0.09, COST), perf.figures(p, target, p >= 0.09, COST)
    for key in ("auc", "cost_per_client", "default_rate", "default_rate_granted"):
        assert estimated[key] == pytest.approx(realized[key], rel=0.02), key


def test_outcomes_of_granted_loans_only_are_compared_with_the_granted_holdout():
    holdout = pd.DataFrame({"probability": [0.1, 0.2, 0.7, 0.9, 0.3, 0.05], "target": [0, 1, 1, 1, 0, 0]})
    expected = perf.holdout_expectation(holdout, 0.5, COST, granted_only=True)
    assert expected["outcomes"] == 4 and expected["default_rate"] == pytest.approx(1 / 4)
    assert expected["cost_per_client"] == pytest.approx(10 / 4)


def test_decisions_and_outcomes_are_read_back_joined_by_period(engine):
    store_outcomes(engine, [outcome(1, request_id="r1"), outcome(0, days=40, client_id=7)])
    decisions = read_decisions(engine)
    assert decisions["request_id"].tolist() == ["r1", "r2", "r3", "r4"]
    assert str(decisions["created_at"].dt.tz) == "UTC" and decisions["client_id"].tolist()[:3] == [7, 8, 7]
    joined = perf.join(decisions, read_outcomes(engine), "month").set_index("request_id")
    assert joined.loc["r1", "target"] == 1 and joined.loc["r3", "target"] == 0 and pd.isna(joined.loc["r2", "target"])
    assert set(joined["period"]) == {"2026-03"}


# -- what mutation testing found unchecked (docs/development.md) -----------------------------------------------
def test_each_stored_outcome_says_how_its_sender_named_the_decision(engine):
    """given_by: "request_id" when the request id was sent (with or without the client), "SK_ID_CURR" when only
    the client was; every problem of a batch is named, not just the first."""
    store_outcomes(engine, [outcome(1, request_id="r2"), outcome(0, days=40, client_id=7),
                            outcome(1, request_id="r4", client_id=None)])
    with engine.connect() as connection:
        given = dict(connection.execute(select(loan_outcomes.c.request_id, loan_outcomes.c.given_by)).all())
    assert given == {"r2": "request_id", "r3": "SK_ID_CURR", "r4": "request_id"}
    with pytest.raises(UnknownDecision) as refused:
        store_outcomes(engine, [outcome(1, request_id="nope"), outcome(1, request_id="r2", client_id=7),
                                outcome(1, client_id=9), outcome(0, request_id="r1")])
    assert sorted(refused.value.problems) == [0, 1, 2]


@pytest.mark.parametrize(("changes", "message"), [
    ({"target": True}, "TARGET must be 0 or 1, got True"),
    ({"target": 2}, "TARGET must be 0 or 1, got 2"),
    ({"observed_at": datetime(2026, 3, 1)}, "observed_at must carry a time zone"),
    ({"request_id": None, "client_id": None}, "an outcome needs a request_id or an SK_ID_CURR"),
])
def test_an_outcome_that_cannot_be_one_is_refused_with_its_reason(changes, message):
    fields = {"target": 1, "observed_at": DAY, "request_id": "r1", **changes}
    with pytest.raises(ValueError, match=message):
        Outcome(**fields)


def test_read_decisions_keeps_the_decisions_at_the_bound_oldest_first_and_in_utc(engine):
    decisions = read_decisions(engine, since=DAY + timedelta(10))
    assert decisions["request_id"].tolist() == ["r3"]  # created exactly at the bound: kept
    everything = read_decisions(engine)
    assert everything["request_id"].tolist() == ["r1", "r2", "r3", "r4"]
    assert str(everything["created_at"].dt.tz) == "UTC" and everything["created_at"].iloc[2] == DAY + timedelta(10)
    store_outcomes(engine, [outcome(1, request_id="r1")])
    observed = read_outcomes(engine)["observed_at"]
    assert str(observed.dt.tz) == "UTC" and observed.iloc[0] == DAY + timedelta(30)


def test_a_client_id_sent_for_a_decision_served_without_one_is_kept(engine):
    """r4 was served without a client id: the client the sender names is the one stored."""
    assert store_outcomes(engine, [outcome(0, request_id="r4", client_id=12)]).clients == (12,)
    assert read_outcomes(engine)["client_id"].tolist() == [12]


def test_an_error_names_ten_outcomes_and_counts_the_rest():
    eleven = OutcomeError(dict.fromkeys(range(11), "bad"))
    assert str(eleven) == "; ".join(f"outcome {i}: bad" for i in range(10)) + " (and 1 more)"
    assert str(OutcomeError(dict.fromkeys(range(10), "bad"))) == "; ".join(f"outcome {i}: bad" for i in range(10))
    assert eleven.describe(lambda i: f"line {i + 2}").startswith("line 2: bad; line 3: bad")


def test_a_batch_larger_than_a_query_chunk_finds_every_decision(engine):
    """Ids are looked up 500 at a time: a batch of 1,001 (three chunks, the last of one) finds every decision, by
    request id and by client id alike."""
    n = 1001
    write_events(engine, [decision(f"b{i}", 10_000 + i, DAY) for i in range(n)])
    by_request = store_outcomes(engine, [outcome(i % 2, request_id=f"b{i}") for i in range(0, n, 2)])
    by_client = store_outcomes(engine, [outcome(i % 2, client_id=10_000 + i) for i in range(1, n, 2)])
    assert by_request.stored + by_client.stored == n
    stored = read_outcomes(engine).set_index("request_id")["target"]
    assert all(stored[f"b{i}"] == i % 2 for i in range(n))


def test_a_client_id_joins_the_latest_decision_by_time_not_by_arrival(engine):
    """Decisions written out of time order (a later one stored first): the outcome joins the latest decision at or
    before its observation in time."""
    write_events(engine, [decision("newer", 5, DAY + timedelta(8)), decision("older", 5, DAY + timedelta(2))])
    store_outcomes(engine, [outcome(1, days=10, client_id=5)])
    assert read_outcomes(engine).set_index("request_id")["target"].to_dict() == {"newer": 1}
