"""Production monitoring over a SQLite event store: quiet on events like the training data, alerting (exit code 1,
an ALERT line naming what is wrong) on shifted inputs and on a model whose defaults no longer follow its drivers;
the watched features are the champion's top features by mean |SHAP|, computed with the serving feature code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from app.monitor.__main__ import main
from app.monitor.checks import MonitorSettings, client_history, decision_threshold, event_features, watched_names
from app.monitor.simulate import simulate_events, simulated_clients, simulated_targets
from credit_scoring.features.application import application_features, application_frame
from credit_scoring.features.families import FAMILIES
from credit_scoring.governance.stability import DriftSettings
from credit_scoring.production import performance as perf
from credit_scoring.production.events import write_events
from credit_scoring.production.reviews import create_review_store, override_rates, review_alerts, store_review
from tests.unit.governance.test_drift import applications, drift_params

REPO = Path(__file__).resolve().parents[3]
# evidently 0.7.23 calls DataFrame.dropna(inplace=True), which pandas 3.1 deprecates, once per column compared
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:pandas.errors.Pandas4Warning")
HISTORY = "INSTAL_DBD_MEAN"  # a history aggregate among the champion's drivers
SHAP_TOP = ["EXT_SOURCE_MEAN", HISTORY, "AMT_CREDIT", "NAME_CONTRACT_TYPE_Cash_loans", "EXT_SOURCE_2",
            "CNT_CHILDREN", "DAYS_EMPLOYED"]
WATCHED = SHAP_TOP[:6]
PARAMS = {
    "seed": 42,
    "cost": {"fn": 10, "fp": 1},
    **drift_params(watched_features=6),
    "monitor": {"window_events": 600, "min_events": 200, "psi_alert": 0.25, "drift_share_alert": 0.5,
                "period": "month", "min_outcomes": 200, "alpha": 0.01, "override_band": [0.02, 0.30],
                "min_reviews": 30},
}


def featurized(rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """What the featurize stage writes for these clients: the application features and a history aggregate."""
    features = application_features(application_frame(rows.to_dict("records"))).reset_index()
    features[HISTORY] = rng.normal(-8, 3, len(rows))
    return features


@pytest.fixture
def work_dir(tmp_path, monkeypatch):
    """A work tree with params.yaml, a small application_train and its features, the explain stage's ranking, the
    champion's holdout scores (calibrated: TARGET drawn from them) and an empty SQLite store named by EVENTS_URL."""
    rng = np.random.default_rng(1)
    train = applications(5000, seed=1)
    holdout = train.index[:2500]
    scores = rng.beta(1.6, 18.4, len(holdout))
    train.loc[holdout, "TARGET"] = (rng.random(len(holdout)) < scores).astype("int64")
    (tmp_path / "data/prepared").mkdir(parents=True)
    (tmp_path / "data/features").mkdir(parents=True)
    train.to_parquet(tmp_path / "data/prepared/application_train.parquet", index=False)
    featurized(train, rng).to_parquet(tmp_path / "data/features/train.parquet", index=False)
    (tmp_path / "models/champion").mkdir(parents=True)
    pd.DataFrame({"SK_ID_CURR": train.loc[holdout, "SK_ID_CURR"], "probability": scores}).to_parquet(
        tmp_path / "models/champion/reference_scores.parquet", index=False)
    (tmp_path / "models/explain").mkdir(parents=True)
    importance = [{"feature": f, "label": f, "mean_abs_shap": 1.0 / (i + 1)} for i, f in enumerate(SHAP_TOP)]
    (tmp_path / "models/explain/explain.json").write_text(json.dumps({"global_importance": importance}))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    monkeypatch.setenv("EVENTS_URL", f"sqlite:///{tmp_path / 'events.db'}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def summary(work_dir: Path) -> dict:
    return json.loads((work_dir / "reports/monitoring/monitoring.json").read_text())


def alert_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("ALERT")]


def test_the_watched_features_are_the_shap_top_list(work_dir, capsys):
    assert watched_names(6) == WATCHED
    main(["simulate", "--n", "300", "--seed", "1"])
    main([])
    drift = summary(work_dir)["drift"]
    assert drift["watched_features"] == WATCHED and set(drift["features"]) == set(WATCHED)


def test_event_features_are_the_serving_features_with_the_client_history(work_dir):
    """Known clients get their history row, an unknown one none; application features are recomputed."""
    train = pd.read_parquet(work_dir / "data/prepared/application_train.parquet").head(3)
    events = train.drop(columns=["SK_ID_CURR", "TARGET"]).assign(client_id=pd.array([100000, 100001, None],
                                                                                     dtype="Int64"))
    history = client_history(WATCHED)
    got = event_features(events, WATCHED, history)
    expected = pd.read_parquet(work_dir / "data/features/train.parquet").head(3)
    assert got[HISTORY].iloc[:2].tolist() == pytest.approx(expected[HISTORY].iloc[:2].tolist())
    assert np.isnan(got[HISTORY].iloc[2])
    for name in ("EXT_SOURCE_MEAN", "AMT_CREDIT", "NAME_CONTRACT_TYPE_Cash_loans"):
        assert got[name].tolist() == pytest.approx(expected[name].tolist())


def test_quiet_on_events_drawn_from_the_reference(work_dir, capsys):
    assert main(["simulate", "--n", "600", "--drift", "none", "--seed", "1"]) == 0
    assert main([]) == 0
    out = capsys.readouterr()
    assert "ALERT" not in out.err + out.out
    result = summary(work_dir)
    drift = result["drift"]
    assert result["status"] == "ok" and result["alerts"] == [] and result["window"]["events"] == 600
    assert drift["drifted_share"] == 0.0 and all(f["psi"] < 0.1 for f in drift["features"].values())
    assert drift["scores"]["psi"] < 0.1 and not drift["scores"]["drifted"]
    page = (work_dir / "reports/monitoring/monitoring.html").read_text()
    assert "Performance réalisée" in page and "Dérive des variables surveillées" in page  # both evidently reports
    assert result["performance"]["report_period"] in result["performance"]["periods"]


def test_alerts_on_shifted_events_naming_the_features(work_dir, capsys):
    main(["simulate", "--n", "600", "--drift", "shift", "--seed", "1"])
    assert main([]) == 1
    alerts = alert_lines(capsys)
    drift_alerts = [line for line in alerts if line.startswith("ALERT drift")]
    assert drift_alerts and "EXT_SOURCE_2" in drift_alerts[0] and "AMT_CREDIT" in drift_alerts[0]
    assert any("predicted probabilities" in line for line in drift_alerts)
    result = summary(work_dir)
    assert result["status"] == "alert" and result["alerts"] == alerts
    assert {"AMT_CREDIT", "EXT_SOURCE_2", "EXT_SOURCE_MEAN"} <= set(result["drift"]["drifted_features"])
    assert HISTORY not in result["drift"]["drifted_features"]


@pytest.mark.parametrize("performance", ["stable", "degraded"])
def test_degraded_performance_alerts_and_stable_stays_quiet(work_dir, capsys, performance):
    """Concept drift: the inputs keep their distribution (no drift alert) while realized AUC and cost worsen."""
    main(["simulate", "--n", "1500", "--performance", performance, "--seed", "3"])
    code = main([])
    alerts = alert_lines(capsys)
    if performance == "stable":
        assert code == 0 and alerts == []
    else:
        assert code == 1 and any(line.startswith("ALERT performance") for line in alerts)
        assert not any(line.startswith("ALERT drift") for line in alerts)
        period = next(iter(summary(work_dir)["performance"]["periods"].values()))
        assert period["comparison"]["auc"]["worse"] and period["realized"]["auc"] < period["expected"]["auc"]


def holdout_and_stream(seed: int, n: int = 2000) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A calibrated holdout of 20,000 clients and n served probabilities drawn from the same model."""
    rng = np.random.default_rng(1000 + seed)
    p = rng.beta(1.6, 18.4, 20_000)
    holdout = pd.DataFrame({"probability": p, "target": (rng.random(len(p)) < p).astype("int64")})
    return holdout, rng.choice(p, n), rng


def judged_alerts(seed: int, performance: str) -> list[str]:
    """The monitor's performance alerts on one simulated period, through the pure functions (no store)."""
    holdout, served, rng = holdout_and_stream(seed)
    targets = simulated_targets(served, performance, rng)
    threshold = decision_threshold(PARAMS, Path("absent.json"))
    decisions = pd.DataFrame({"request_id": [str(i) for i in range(len(served))], "probability": served,
                              "decision": np.where(served >= threshold, "refusé", "accordé"),
                              "threshold": threshold, "created_at": pd.Timestamp("2026-03-15", tz="UTC")})
    outcomes = pd.DataFrame({"request_id": decisions["request_id"], "target": targets})
    periods = perf.realized_performance(decisions, outcomes, holdout, PARAMS["cost"], 0.01, 200, "month")
    return perf.alerts(periods, 0.01)


def test_false_alarm_rate_over_20_seeds_and_power_on_degraded():
    stable = [seed for seed in range(20) if judged_alerts(seed, "stable")]
    degraded = [seed for seed in range(20) if any(a.startswith("ALERT performance") for a in
                                                  judged_alerts(seed, "degraded"))]
    assert len(stable) <= 1, stable
    assert len(degraded) >= 19, degraded


def test_the_window_is_the_latest_events(work_dir, capsys):
    """Shifted events followed by 600 ordinary ones: the latest 600 are judged, and they drift no more."""
    main(["simulate", "--n", "400", "--drift", "shift"])
    main(["simulate", "--n", "600", "--drift", "none"])
    main([])
    assert not any(line.startswith("ALERT drift") for line in alert_lines(capsys))
    assert summary(work_dir)["window"]["events"] == 600


def test_without_reference_scores_only_the_inputs_are_compared(work_dir, capsys):
    (work_dir / "models/champion/reference_scores.parquet").unlink()
    main(["simulate", "--n", "300", "--drift", "none"])
    assert main([]) == 0
    assert "score comparison skipped: models/champion/reference_scores.parquet not found" in capsys.readouterr().out
    result = summary(work_dir)
    assert "not found" in result["drift"]["scores"]["skipped"]
    assert "no reference scores" in result["performance"]["note"]


def test_too_few_events_are_not_judged(work_dir, capsys):
    main(["simulate", "--n", "50", "--drift", "shift"])
    assert main([]) == 0
    result = summary(work_dir)
    assert result["drift"]["status"] == "not_enough_events" and result["alerts"] == []
    watched = result["drift"]["watched_features"]
    assert watched and list(result["drift"]["watched_families"]) == watched  # each named with its family
    assert set(result["drift"]["watched_families"].values()) <= set(FAMILIES.values())
    assert "estimate" in next(iter(result["performance"]["periods"].values()))
    assert not (work_dir / "reports/monitoring/monitoring.html").exists()




def test_simulated_events_follow_the_store_schema_and_the_threshold():
    reference = applications(1000, seed=1)
    threshold = decision_threshold(PARAMS, Path("absent.json"))
    assert threshold == pytest.approx(1 / 11)
    rng = np.random.default_rng(0)
    rows, probabilities = simulated_clients(reference, 2000, rng, None)
    plain = simulate_events(rows, probabilities, "none", rng, threshold)
    shifted = simulate_events(rows, probabilities, "shift", rng, threshold)
    assert set(plain[0]) == {"request_id", "model_version", "client_id", "inputs", "probability", "decision",
                             "threshold", "latency_ms", "endpoint"}
    assert "TARGET" not in plain[0]["inputs"] and "SK_ID_CURR" not in plain[0]["inputs"]
    assert all((e["decision"] == "refusé") == (e["probability"] >= threshold) for e in plain + shifted)
    assert np.mean([e["probability"] for e in plain]) == pytest.approx(0.08, abs=0.01)
    assert np.mean([e["probability"] for e in shifted]) > 0.15
    credit = [np.median([e["inputs"]["AMT_CREDIT"] for e in events]) for events in (plain, shifted)]
    assert credit[1] / credit[0] == pytest.approx(1.6, rel=0.1)


def test_degraded_outcomes_keep_the_default_rate_and_lose_the_ranking():
    rng = np.random.default_rng(0)
    p = rng.beta(1.6, 18.4, 50_000)
    stable, degraded = (simulated_targets(p, kind, np.random.default_rng(1)) for kind in ("stable",
                                                                                                   "degraded"))
    assert degraded.mean() == pytest.approx(stable.mean(), abs=0.005)
    assert perf.figures(p, degraded, p >= 0.09, PARAMS["cost"])["auc"] < perf.figures(
        p, stable, p >= 0.09, PARAMS["cost"])["auc"] - 0.08


def test_the_monitor_watches_as_many_features_as_the_drift_stage():
    assert DriftSettings.from_params(PARAMS).watched_features == 6
    assert MonitorSettings.from_params(PARAMS).watched_features == 6


# -- human review of decisions ----------------------------------------------------------------------------------
def reviews(counts: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Reviews as `credit_scoring.production.reviews.reviews_frame` reads them: period (a month) -> (reviews,
    overrides)."""
    rows = [{"reviewed_at": pd.Timestamp(f"{month}-10", tz="UTC"), "model_decision": "refusé",
             "action": "override" if i < overrides else "confirm"}
            for month, (n, overrides) in counts.items() for i in range(n)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("n", "overrides", "side"), [
    (40, 20, "above"), (30, 0, "below"), (40, 4, None), (30, 9, None), (29, 29, "not judged"), (29, 0, "not judged"),
])
def test_the_override_rate_is_judged_against_the_band_from_enough_reviews(n, overrides, side):
    band = tuple(PARAMS["monitor"]["override_band"])
    periods = override_rates(reviews({"2026-03": (n, overrides)}), "month", band, PARAMS["monitor"]["min_reviews"])
    record = periods["2026-03"]
    assert (record["reviews"], record["overrides"]) == (n, overrides)
    assert record["override_rate"] == pytest.approx(overrides / n)
    alerts = review_alerts(periods, band)
    if side == "not judged":
        assert record["status"] == "fewer than 30 reviews: not judged" and alerts == []
    elif side is None:
        assert record["status"] == "judged" and not record["outside_band"] and alerts == []
    else:
        assert record["outside_band"] and len(alerts) == 1
        assert alerts[0].startswith(f"ALERT review: reviews of 2026-03, override rate {100 * overrides / n:.1f} % "
                                    f"{side} the band [2.0 %, 30.0 %] ({overrides} overrides of {n} reviews)")


def test_the_latest_judged_period_of_reviews_tells_the_state():
    band = (0.02, 0.30)
    periods = override_rates(reviews({"2026-02": (40, 20), "2026-03": (40, 4), "2026-04": (5, 5)}), "month", band, 30)
    assert list(periods) == ["2026-02", "2026-03", "2026-04"] and periods["2026-02"]["outside_band"]
    assert review_alerts(periods, band) == []  # March is fine again; April has too few reviews to say
    assert override_rates(reviews({}), "month", band, 30) == {}


def store_reviews(month: str, n: int, overrides: int) -> None:
    """n decisions of known clients and their reviews in that month, `overrides` of them overridden."""
    engine = create_review_store()
    moment = pd.Timestamp(f"{month}-10", tz="UTC").to_pydatetime()
    events = [{"request_id": f"{month}-{i}", "client_id": 100000 + i, "model_version": "v1", "inputs": {},
               "probability": 0.7, "decision": "refusé", "threshold": 0.5, "latency_ms": 1.0, "endpoint": "predict",
               "created_at": moment} for i in range(n)]
    write_events(engine, events)
    for i, event in enumerate(events):
        store_review(engine, client_id=event["client_id"], request_id=event["request_id"],
                     action="override" if i < overrides else "confirm", reason="Motif du conseiller",
                     reviewer="a.martin", reviewed_at=moment)
    engine.dispose()


def test_the_monitor_reports_override_rates_and_alerts_on_a_period_outside_the_band(work_dir, capsys):
    store_reviews("2026-03", 40, 16)
    store_reviews("2026-04", 10, 10)  # too few to judge: March, the latest judged period, decides
    assert main([]) == 1
    alerts = alert_lines(capsys)
    assert alerts == [("ALERT review: reviews of 2026-03, override rate 40.0 % above the band [2.0 %, 30.0 %] "
                       "(16 overrides of 40 reviews): reviewers and model disagree too often")]
    section = summary(work_dir)["reviews"]
    assert (section["reviews"], section["overrides"], section["override_band"]) == (50, 26, [0.02, 0.30])
    assert section["periods"]["2026-03"]["side"] == "above" and section["alerts"] == alerts
    assert section["periods"]["2026-04"]["status"] == "fewer than 30 reviews: not judged"
    page = (work_dir / "reports/monitoring/monitoring.html").read_text()
    assert "Révisions humaines" in page and "40,0\u202f%" in page and "non jugée" in page


def test_the_monitor_is_quiet_on_an_override_rate_inside_the_band(work_dir, capsys):
    store_reviews("2026-03", 40, 4)
    assert main([]) == 0
    assert alert_lines(capsys) == [] and summary(work_dir)["reviews"]["periods"]["2026-03"]["outside_band"] is False


def test_since_judges_the_events_created_since_that_time(work_dir, capsys):
    """`--since` with a zone: the events created from that time on, however many, instead of the latest window."""
    from datetime import UTC, datetime

    main(["simulate", "--n", "400", "--drift", "shift", "--seed", "4"])
    since = datetime.now(UTC)
    main(["simulate", "--n", "300", "--drift", "none", "--seed", "5"])
    main(["--since", since.isoformat()])
    window = summary(work_dir)["window"]
    assert window["events"] == 300 and window["since"] == since.isoformat()
    assert not any(line.startswith("ALERT drift") for line in alert_lines(capsys))  # the shifted ones are before


@pytest.mark.parametrize("argv, message", [
    (["--since", "2025-01-31T00:00:00"], "--since needs a time zone, e.g. 2025-01-31T00:00:00+00:00"),
    (["simulate", "--n", "0"], "--n must be at least 1"),
    (["--since", "last tuesday"], "invalid fromisoformat value"),
])
def test_the_command_line_refuses_what_it_cannot_judge_with_a_clear_message(work_dir, capsys, argv, message):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_reference_scores_are_read_from_the_file_named(work_dir, capsys):
    """`--reference-scores` moves where the monitor (and the simulator) read the champion's holdout scores."""
    moved = work_dir / "elsewhere.parquet"
    (work_dir / "models/champion/reference_scores.parquet").rename(moved)
    assert main(["simulate", "--reference-scores", str(moved), "--n", "300", "--seed", "6"]) == 0
    assert "not found" not in capsys.readouterr().out  # the simulator drew its probabilities from the file
    main(["--reference-scores", str(moved)])
    scores = summary(work_dir)["drift"]["scores"]
    assert "skipped" not in scores, scores
    main([])  # the default place is empty now
    assert "not found" in summary(work_dir)["drift"]["scores"]["skipped"]
